// End-to-end: inference on chain with polkadot.js against a real `citrate-node --dev`.
// Alice is a provider from genesis; her `infr` key is in the node's keystore (the dev seed
// puts it there, and it is inserted over RPC too, as an operator would). A real model
// package (MiniLM int8 ONNX + its tokenizer) is added to the node's store and registered by
// Eve with a per-call price; Alice serves it. Bob, Charlie and Dave each request an
// embedding: the node's offchain worker has the embedded inference service run them and
// answers with signed results. Each settles within 2 blocks of its request; the receipt's
// output hash is the engine's own for the same files and input (`citrate-infer`), the
// embeddings mean something (a paraphrase is closer than an unrelated sentence), and the
// fees went where they should (compute fee to Alice, price 90 % to Eve and 10 % to the
// treasury). An input passed by the CID of a file in the node's store runs like the same
// bytes inline. Bad requests are refused with their own error, storing and holding nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { CID } from 'multiformats/cid';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import {
  embeddingMetadata as metadata, minilmPackageDir, publishEmbeddingModel, registerModel, storage,
} from '../../scripts/lib/models.mjs';
import { inferBinary, startDevNode } from './lib/node.mjs';
import { DType, decodeTensors, encodeTensors, textInput } from './lib/tensor.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
const PRICE = UNITS;
const SENTENCES = [
  'A man is playing a guitar.',
  'Someone is playing an instrument.',
  'The stock market fell sharply today.',
];

let node;
let api;
let keyring;
let packageDir;
let scratchDir;
let modelId;
let bareModelId;
const requests = [];

async function register(owner, name, cid, size, license) {
  return registerModel(api, owner, name, cid, size, license);
}

const cosine = (a, b) => {
  let dot = 0; let na = 0; let nb = 0;
  a.forEach((x, i) => { dot += x * b[i]; na += x * x; nb += b[i] * b[i]; });
  return dot / Math.sqrt(na * nb);
};

const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
const reserved = async (who) => (await api.query.system.account(who)).data.reserved.toBigInt();

before(async () => {
  packageDir = minilmPackageDir();
  node = await startDevNode();
  api = node.api;
  keyring = new Keyring({ type: 'sr25519' });
  scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-scratch-'));
});

after(async () => {
  await node?.stop();
  for (const dir of [packageDir, scratchDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('(a) Alice is a provider from genesis and her provider key is in the keystore', async () => {
  const alice = keyring.addFromUri('//Alice');
  const provider = (await api.query.inference.providers(alice.address)).unwrap();
  assert.equal(provider.key.toHex(), u8aToHex(alice.publicKey));
  assert.equal(provider.status.type, 'Active');
  assert.equal(provider.hardware.type, 'Cpu');
  // What an operator does on a fresh node; the dev seed already put the same key there.
  await api.rpc.author.insertKey('infr', '//Alice', u8aToHex(alice.publicKey));
  assert.equal((await api.rpc.author.hasKey(u8aToHex(alice.publicKey), 'infr')).isTrue, true);
});

test('(b) Eve registers MiniLM from the node store with a price; Alice serves it', async () => {
  const [alice, eve] = ['//Alice', '//Eve'].map((uri) => keyring.addFromUri(uri));
  modelId = await publishEmbeddingModel(api, node, packageDir, {
    owner: eve, provider: alice, price: PRICE, name: 'all-minilm-l6-v2-int8',
  });
  assert.equal((await api.query.inference.modelPrices(modelId)).unwrap().toBigInt(), PRICE);
  assert.deepEqual((await api.query.inference.providersOf(modelId)).map((a) => a.toString()), [alice.address]);
});

test('(c) three requests from polkadot.js settle within 2 blocks with the engine\'s output', async () => {
  const requesters = ['//Bob', '//Charlie', '//Dave'].map((uri) => keyring.addFromUri(uri));
  const alice = keyring.addFromUri('//Alice');
  const eve = keyring.addFromUri('//Eve');
  // The treasury: `PalletId(*b"ctr/trsy")`'s account, "modl" ‖ id, zero-padded.
  const treasury = u8aConcat(stringToU8a('modlctr/trsy'), new Uint8Array(20));
  const before = {
    alice: await free(alice.address), eve: await free(eve.address),
    treasury: (await api.query.system.account(treasury)).data.free.toBigInt(),
  };
  const submitted = await Promise.all(requesters.map((who, i) =>
    submit(api, api.tx.inference.requestInference(modelId, u8aToHex(textInput(SENTENCES[i])), 10n * UNITS), who)));
  for (const [i, { events, error }] of submitted.entries()) {
    assert.equal(error, null);
    const requested = findEvent(events, 'inference', 'InferenceRequested').data;
    assert.deepEqual(requested.providers.map((p) => p.toString()), [alice.address]);
    assert.equal(requested.price.toBigInt(), PRICE);
    requests.push({ id: requested.requestId.toNumber(), computeFee: requested.computeFee.toBigInt(), sentence: SENTENCES[i] });
  }

  // Poll receipts: each must exist, answered at most 2 blocks after its request's block.
  const deadline = Date.now() + 90_000;
  for (const request of requests) {
    let receipt = await api.query.inference.receipts(request.id);
    while (receipt.isNone && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      receipt = await api.query.inference.receipts(request.id);
    }
    assert.ok(receipt.isSome, `request ${request.id} got no result (node log: ${node.logFile})`);
    request.receipt = receipt.unwrap();
    const { requestedAt, answeredAt } = request.receipt;
    assert.ok(answeredAt.toNumber() - requestedAt.toNumber() <= 2,
      `request ${request.id}: requested at #${requestedAt}, answered at #${answeredAt}`);
    assert.deepEqual(request.receipt.providers.map(([who]) => who.toString()), [alice.address]);
    assert.equal(request.receipt.verification.type, 'Single');
    assert.ok(request.receipt.outcome.isOutput, `failed: ${request.receipt.outcome.toHuman()}`);
  }

  // The receipt's output hash is what the engine computes from the same files and input.
  for (const request of requests) {
    const engine = JSON.parse(execFileSync(inferBinary(),
      ['--task', 'feature-extraction', '--dir', packageDir, '--text', request.sentence], { timeout: 300_000 }).toString());
    assert.equal(request.receipt.outputHash.unwrap().toHex(), engine.output_hash, request.sentence);
  }

  // The embeddings mean something.
  const [a, b, c] = requests.map((r) => decodeTensors(r.receipt.outcome.asOutput.toU8a(true))[0].values);
  assert.ok(cosine(a, b) > cosine(a, c) + 0.2, `paraphrase ${cosine(a, b)} vs unrelated ${cosine(a, c)}`);

  // Fees: compute fees to Alice, prices split 90/10 between Eve and the treasury.
  const computeFees = requests.reduce((n, r) => n + r.computeFee, 0n);
  assert.equal(await free(alice.address), before.alice + computeFees);
  assert.equal(await free(eve.address), before.eve + 3n * (PRICE * 9n / 10n));
  assert.equal((await api.query.system.account(treasury)).data.free.toBigInt(), before.treasury + 3n * (PRICE / 10n));
  // Only each receipt's deposit stays held, until the requester purges the receipt.
  const deposit = api.consts.inference.receiptDeposit.toBigInt();
  for (const who of requesters) assert.equal(await reserved(who.address), deposit);
  const { events: purged, error: purgeError } = await submit(api, api.tx.inference.purgeReceipt(requests[0].id), requesters[0]);
  assert.equal(purgeError, null);
  assert.equal(findEvent(purged, 'inference', 'ReceiptPurged').data.deposit.toBigInt(), deposit);
  assert.equal(await reserved(requesters[0].address), 0n);
  assert.ok((await api.query.inference.receipts(requests[0].id)).isNone);

  // The node's Prometheus endpoint counts the service's runs (with the node's `chain` label).
  const metrics = await (await fetch(node.prometheusUrl)).text();
  const outputs = metrics.split('\n').find((line) =>
    line.startsWith('citrate_inference_runs_total{') && line.includes('outcome="output"'));
  assert.ok(outputs, 'citrate_inference_runs_total is served');
  assert.equal(Number(outputs.split(' ').pop()), 3);
});

test('(d) an input passed by CID from the node\'s store is run and named by its receipt', async () => {
  const bob = keyring.addFromUri('//Bob');
  const file = path.join(scratchDir, 'input.cten');
  fs.writeFileSync(file, textInput(SENTENCES[0]));
  const cid = CID.parse(storage(node, 'add', '--cid-version', '1', file)).toV1();
  const { events, error } = await submit(api, api.tx.inference.requestInferenceCid(modelId, u8aToHex(cid.bytes), 10n * UNITS), bob);
  assert.equal(error, null);
  const id = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
  const deadline = Date.now() + 90_000;
  let receipt = await api.query.inference.receipts(id);
  while (receipt.isNone && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    receipt = await api.query.inference.receipts(id);
  }
  assert.ok(receipt.isSome, `request ${id} got no result (node log: ${node.logFile})`);
  receipt = receipt.unwrap();
  assert.equal(receipt.inputCid.unwrap().toHex(), u8aToHex(cid.bytes));
  // The same text inline gave the engine's output hash in (c): the file's bytes ran.
  assert.equal(receipt.outputHash.unwrap().toHex(), requests[0].receipt.outputHash.unwrap().toHex());

  // A CID no Citrate store can hold (an identity multihash) is refused before anything is held.
  const identity = Uint8Array.from([0x01, 0x55, 0x00, 0x03, 0x61, 0x62, 0x63]);
  const refused = await submit(api, api.tx.inference.requestInferenceCid(modelId, u8aToHex(identity), 10n * UNITS), bob);
  assert.deepEqual([refused.error?.section, refused.error?.name], ['inference', 'InvalidCid']);
});

test('(e) bad requests are refused with their own error and store or hold nothing', async () => {
  const ferdie = keyring.addFromUri('//Ferdie');
  const eve = keyring.addFromUri('//Eve');
  // A model nobody serves, and a commercial model with a tier on sale that Ferdie did not buy.
  const cidOf = (n) => storage(node, 'add', '--cid-version', '1', writeFile(`model-${n}.onnx`, `weights ${n}`));
  bareModelId = await register(eve, 'unserved-model', cidOf(1), 9, 'OpenSource');
  assert.equal((await submit(api, api.tx.modelRegistry.setMetadata(bareModelId, metadata(1_000)), eve)).error, null);
  const paidModel = await register(eve, 'paid-model', cidOf(2), 9, 'Commercial');
  assert.equal((await submit(api, api.tx.modelRegistry.setMetadata(paidModel, metadata(1_000)), eve)).error, null);
  assert.equal((await submit(api, api.tx.modelAccess.setTier(paidModel, 0, UNITS, 100, 0), eve)).error, null);
  assert.equal((await submit(api, api.tx.inference.serveModel(paidModel), keyring.addFromUri('//Alice'))).error, null);

  const image = encodeTensors([{ name: 'image', dtype: DType.U8, shape: [3], data: Uint8Array.from([1, 2, 3]) }]);
  const cases = [
    [modelId, Uint8Array.from([1, 2, 3]), 'MalformedInput'],
    [modelId, image, 'InputNotForTask'],
    [modelId, textInput('x'.repeat(256 * 1024)), 'InputTooLarge'],
    [paidModel, textInput('hello'), 'NoAccess'],
    [bareModelId, textInput('hello'), 'NoProvider'],
    [modelId, textInput('hello'), 'FeeAboveMax', 1n],
  ];
  for (const [model, input, expected, maxFee = 10n * UNITS] of cases) {
    const nextId = (await api.query.inference.nextRequestId()).toNumber();
    const balance = await free(ferdie.address);
    const held = await reserved(ferdie.address);
    const { events, error } = await submit(api, api.tx.inference.requestInference(model, u8aToHex(input), maxFee), ferdie);
    assert.deepEqual([error?.section, error?.name], ['inference', expected]);
    const fee = findEvent(events, 'transactionPayment', 'TransactionFeePaid').data.actualFee.toBigInt();
    assert.equal(await free(ferdie.address), balance - fee, `${expected}: only the transaction fee is paid`);
    assert.equal(await reserved(ferdie.address), held);
    assert.equal((await api.query.inference.nextRequestId()).toNumber(), nextId, `${expected}: nothing stored`);
  }
});

function writeFile(name, content) {
  const file = path.join(scratchDir, name);
  fs.writeFileSync(file, content);
  return file;
}
