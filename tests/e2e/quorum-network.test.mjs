// End-to-end: quorum verification on a three-validator `--chain local3` network on loopback.
// Every validator is a provider from genesis. Alice and Bob run the real engine on MiniLM;
// Charlie's node validates honestly, but its "inference service" is a dishonest one written
// here that answers every request with a forged embedding, which Charlie's offchain worker
// commits, reveals and signs with Charlie's registered provider key (Charlie first tops his
// bond up with `bondExtra`). The model requires
// `Quorum { n: 3, k: 2 }`: the honest pair's answer is final and Charlie is slashed. Under
// `Optimistic { window: 4 }` Charlie's forgery (as proposer or as disputer) loses to the honest
// pair through a dispute re-run by a juror, and Charlie is slashed again. Then Bob
// is killed right after a request is included and restarted from his database: the request
// still settles, with Bob's answer or with Bob penalised as a non-responder.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { minilmPackageDir, publishEmbeddingModel, storage } from '../../scripts/lib/models.mjs';
import { startNode } from './lib/node.mjs';
import { DType, encodeTensors, textInput } from './lib/tensor.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
const GENESIS_BOND = 100n * UNITS;
const CHARLIE_BOND = 2n * GENESIS_BOND;
const nodeKey = () => ['--node-key', randomBytes(32).toString('hex')];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let alice;
let bob;
let charlie;
let liar;
let keyring;
let packageDir;
let modelId;
let bootnode;

/** A service that answers every input with the same forged embedding. */
function dishonestService(registry) {
  registry.register({
    E2eRunInput: { _enum: { Inline: 'Bytes', Cid: 'Bytes' } },
    E2eRunOutcome: { _enum: { Output: 'Bytes', Failed: 'Bytes', Unavailable: 'Bytes' } },
  });
  const forged = encodeTensors([{ name: 'embedding', dtype: DType.F32, shape: [1, 4], data: new Uint8Array(16) }]);
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const batch = registry.createType('(u64, Bytes, u8, u8, Vec<E2eRunInput>, u32, Option<u8>)', Buffer.concat(chunks));
      const outcomes = batch[4].map(() => ({ Output: u8aToHex(forged) }));
      response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      response.end(Buffer.from(registry.createType('Vec<E2eRunOutcome>', outcomes).toU8a()));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function startBob(basePath) {
  return startNode({
    chainArgs: ['--chain', 'local3', '--bob'],
    extraArgs: [...nodeKey(), '--bootnodes', bootnode],
    waitForBlock: false,
    basePath,
  });
}

/** Waits until request `id` is no longer pending; returns its receipt (or null). */
async function settled(api, id, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while ((await api.query.inference.requests(id)).isSome) {
    assert.ok(Date.now() < deadline, `request ${id} still pending`);
    await sleep(1000);
  }
  const receipt = await api.query.inference.receipts(id);
  return receipt.isSome ? receipt.unwrap() : null;
}

const bond = async (api, who) => (await api.query.inference.providers(who)).unwrap().bond.toBigInt();

before(async () => {
  keyring = new Keyring({ type: 'sr25519' });
  packageDir = minilmPackageDir();
  alice = await startNode({ chainArgs: ['--chain', 'local3', '--alice'], extraArgs: nodeKey(), waitForBlock: false });
  const peerId = (await alice.api.rpc.system.localPeerId()).toString();
  const listen = (await alice.api.rpc.system.localListenAddresses())
    .map((a) => a.toString()).find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
  bootnode = listen.includes('/p2p/') ? listen : `${listen}/p2p/${peerId}`;
  bob = await startBob();
  liar = await dishonestService(alice.api.registry);
  charlie = await startNode({
    chainArgs: ['--chain', 'local3', '--charlie'],
    extraArgs: [...nodeKey(), '--bootnodes', bootnode,
      '--inference-service-url', `http://127.0.0.1:${liar.address().port}`],
    waitForBlock: false,
  });
});

after(async () => {
  for (const node of [charlie, bob, alice]) await node?.stop();
  liar?.close();
  if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
});

test('(a) with Quorum{3,2} the honest pair is final and the forged answer is slashed', async () => {
  const { api } = alice;
  const [a, b, c, eve, ferdie] = ['//Alice', '//Bob', '//Charlie', '//Eve', '//Ferdie'].map((u) => keyring.addFromUri(u));
  while ((await api.rpc.chain.getHeader()).number.toNumber() < 1) await sleep(500);
  // Charlie is a provider from genesis (a validator, `--charlie` put his `infr` key in his
  // node's keystore); he bonds more so one slash does not pause him.
  assert.equal(await bond(api, c.address), GENESIS_BOND);
  assert.equal((await submit(api, api.tx.inference.bondExtra(CHARLIE_BOND - GENESIS_BOND), c)).error, null);
  assert.equal(await bond(api, c.address), CHARLIE_BOND);
  modelId = await publishEmbeddingModel(api, alice, packageDir, { owner: eve, provider: a, name: 'minilm-quorum' });
  storage(bob, 'add', '-r', packageDir); // Bob's service reads the same package from his store.
  for (const who of [b, c]) assert.equal((await submit(api, api.tx.inference.serveModel(modelId), who)).error, null);
  const terms = api.tx.inference.setTerms(modelId, { Quorum: { n: 3, k: 2 } }, 'ExactHash');
  assert.equal((await submit(api, terms, eve)).error, null);

  const { events, error } = await submit(api, api.tx.inference.requestInference(modelId, u8aToHex(textInput('A man is playing a guitar.')), 10n * UNITS), ferdie);
  assert.equal(error, null);
  const id = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
  const receipt = await settled(api, id, 120_000);
  assert.ok(receipt, `request ${id} reached no quorum (logs: ${alice.logFile}, ${bob.logFile}, ${charlie.logFile})`);
  const signers = receipt.providers.map(([who]) => who.toString()).sort();
  assert.deepEqual(signers, [a.address, b.address].sort());
  assert.equal(await bond(api, c.address), CHARLIE_BOND * 9n / 10n, 'Charlie lost 10 % of his bond');
  assert.equal((await api.query.inference.providers(c.address)).unwrap().status.type, 'Active');
});

test('(b) with Optimistic{window} a forged answer is disputed, re-run by a juror and slashed', async () => {
  const { api } = alice;
  const [a, b, c, eve, ferdie] = ['//Alice', '//Bob', '//Charlie', '//Eve', '//Ferdie'].map((u) => keyring.addFromUri(u));
  const terms = api.tx.inference.setTerms(modelId, { Optimistic: { window: 4 } }, 'ExactHash');
  assert.equal((await submit(api, terms, eve)).error, null);
  const charlieBond = await bond(api, c.address);
  const { events, error } = await submit(api, api.tx.inference.requestInference(modelId, u8aToHex(textInput('A woman is slicing an onion.')), 10n * UNITS), ferdie);
  assert.equal(error, null);
  const requested = findEvent(events, 'inference', 'InferenceRequested').data;
  const id = requested.requestId.toNumber();
  const proposer = requested.providers[0].toString();
  console.log(`# proposer: ${proposer === c.address ? 'Charlie (forges; an honest watcher disputes)' : 'honest (Charlie disputes with a forgery)'}`);
  const receipt = await settled(api, id, 150_000);
  assert.ok(receipt, `request ${id} was refunded (logs: ${alice.logFile}, ${bob.logFile}, ${charlie.logFile})`);
  assert.equal(receipt.verification.type, 'Optimistic');
  // Either way the dispute happened and the honest pair's answer is final: the honest side
  // and the juror (the other honest provider) sign the receipt, and Charlie loses 10 %.
  const signers = receipt.providers.map(([who]) => who.toString()).sort();
  assert.deepEqual(signers, [a.address, b.address].sort());
  assert.equal(await bond(api, c.address), charlieBond - charlieBond / 10n, 'Charlie lost 10 % of his bond');
});

test('(c) a provider killed after the request and restarted answers or is penalised; nothing is lost', async () => {
  const { api } = alice;
  const [b, ferdie] = ['//Bob', '//Ferdie'].map((u) => keyring.addFromUri(u));
  const bobBond = await bond(api, b.address);
  const { events, error } = await submit(api, api.tx.inference.requestInference(modelId, u8aToHex(textInput('Someone plays an instrument.')), 10n * UNITS), ferdie);
  assert.equal(error, null);
  const id = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
  const basePath = bob.basePath;
  await bob.stop({ keep: true });
  await sleep(3000);
  bob = await startBob(basePath);

  const receipt = await settled(api, id, 150_000);
  const answered = receipt?.providers.some(([who]) => who.toString() === b.address) ?? false;
  console.log(`# after its restart Bob ${answered ? 'answered' : 'did not answer and was slashed'}`);
  if (answered) {
    assert.equal(await bond(api, b.address), bobBond, 'Bob answered and keeps his bond');
  } else {
    assert.equal(await bond(api, b.address), bobBond - bobBond / 10n, 'Bob did not answer and was slashed');
  }
  // Nothing stays held for fees: the request settled or was refunded (receipt deposits stay).
  const holds = (await api.query.balances.holds(ferdie.address)).map((hold) => hold.id.toJSON());
  assert.ok(!holds.some((id) => JSON.stringify(id).toLowerCase().includes('requestfees')), JSON.stringify(holds));
});
