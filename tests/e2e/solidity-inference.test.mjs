// End-to-end: inference from Solidity on a real `citrate-node --dev` through Ethereum JSON-RPC
// (pallet-revive-eth-rpc) with ethers, and through polkadot.js `revive.call`. Real model
// packages (MiniLM int8 sentence embeddings, EfficientNet-Lite0 ImageNet) are in the node's
// store, registered and served by Alice, whose node answers requests and delivers callbacks.
// The Solidity kit's three example dApps are deployed with a plain Ethereum key and used:
// a guestbook moderated by semantic similarity, an ERC-721 whose tokens carry the label an
// image classifier gave their image, and a semantic search index. A probe contract's callback
// reverts, runs out of gas, and receives an expiry; requests are underpaid and cancelled by
// someone other than their requester — each observed on chain.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { Contract, ContractFactory, getBytes, keccak256 } from 'ethers';
import { compileFile } from '../../scripts/lib/solc.mjs';
import { INFERENCE_ADDRESS, startEthRpc } from './lib/eth.mjs';
import {
  efficientnetPackageDir, embeddingMetadata, imageClassifierMetadata, minilmPackageDir, publishModel,
} from '../../scripts/lib/models.mjs';
import { startDevNode } from './lib/node.mjs';
import { callTx } from './lib/revive.mjs';
import { DType, decodeTensors, encodeTensors, textInput } from './lib/tensor.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const assets = path.join(repoRoot, 'crates/inference/tests/assets');
const UNITS = 10n ** 18n;
/** Gas each example's callback may use. */
const CALLBACK_GAS = 10_000_000n;
const ResultKind = { None: 0n, Output: 1n, Stored: 2n, Failed: 3n, Expired: 4n };

const compiled = (file, name) => compileFile(path.join(repoRoot, file))[name];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done(value)`; returns the value. */
async function until(what, read, done, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (node log: ${node.logFile})`);
    await sleep(1000);
  }
}

/** `x × scale` truncated toward zero, exactly, for the f32 `x` (what TensorCodec computes). */
function f32ToFixed(x, scale) {
  const bits = new DataView(Float32Array.of(x).buffer).getUint32(0, true);
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = BigInt(bits & 0x7fffff);
  if (exponent !== 0) mantissa |= 0x800000n;
  const shift = exponent === 0 ? -149 : exponent - 150;
  const magnitude = shift >= 0 ? (mantissa * scale) << BigInt(shift) : (mantissa * scale) >> BigInt(-shift);
  return bits >>> 31 ? -magnitude : magnitude;
}

let node;
let api;
let eth;
let deployer;
let user;
let inference;
let embedder;
let classifier;
let silentModel;
let probe;
const packages = [];
/** Every `inference.CallbackDelivered` event, by request id. */
const deliveries = new Map();
/** The precompile's logs of callback deliveries, decoded. */
const precompileLogs = [];
let unsubscribe;

/** A request's on-chain output, decoded. */
async function outputOf(requestId) {
  const [kind, output, outputHash] = await inference.result(requestId);
  assert.equal(kind, ResultKind.Output, `request ${requestId} has an output`);
  return { tensors: decodeTensors(getBytes(output)), output, outputHash };
}

/** The request id in a transaction receipt's `InferenceRequested` log (asserting it is there). */
function requestIdOf(receipt, requester) {
  const logs = receipt.logs
    .filter((log) => log.address.toLowerCase() === INFERENCE_ADDRESS)
    .map((log) => inference.interface.parseLog(log));
  const requested = logs.find((log) => log.name === 'InferenceRequested');
  assert.ok(requested, 'the receipt carries InferenceRequested from the precompile');
  assert.equal(requested.args.requester, requester);
  return requested.args.requestId;
}

async function deploy(file, name, args, signer = deployer) {
  const { abi, bytecode } = compiled(file, name);
  const contract = await new ContractFactory(abi, bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

before(async () => {
  node = await startDevNode();
  api = node.api;
  eth = await startEthRpc(node);
  [deployer, user] = eth.wallets;
  inference = new Contract(INFERENCE_ADDRESS, compiled('precompiles/inference/IInference.sol', 'IInference').abi, eth.provider);

  const keyring = new Keyring({ type: 'sr25519' });
  const [alice, bob, eve] = ['//Alice', '//Bob', '//Eve'].map((uri) => keyring.addFromUri(uri));
  packages.push(minilmPackageDir(), efficientnetPackageDir(), minilmPackageDir());
  embedder = await publishModel(api, node, packages[0], {
    owner: eve, provider: alice, price: UNITS / 100n, name: 'minilm-sol', modelType: 'Embedding',
    metadata: embeddingMetadata(2_000_000_000),
  });
  classifier = await publishModel(api, node, packages[1], {
    owner: eve, provider: alice, name: 'efficientnet-lite0-sol', modelType: 'Vision', metadata: imageClassifierMetadata(),
  });
  // A model only Bob serves, with a provider key no node holds: its requests expire.
  fs.writeFileSync(path.join(packages[2], 'README.md'), 'served by a provider that never answers\n');
  const bobKey = keyring.addFromUri('//Bob//never-answers');
  assert.equal((await submit(api, api.tx.inference.registerProvider(100n * UNITS, u8aToHex(bobKey.publicKey), 'Cpu', 10), bob)).error, null);
  silentModel = await publishModel(api, node, packages[2], {
    owner: eve, provider: bob, name: 'minilm-silent', modelType: 'Embedding', metadata: embeddingMetadata(2_000_000_000),
  });
  probe = await deploy('tests/e2e/contracts/CallbackProbe.sol', 'CallbackProbe', []);
  unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) {
      if (event.section === 'inference' && event.method === 'CallbackDelivered') {
        deliveries.set(event.data.requestId.toBigInt(), {
          success: event.data.success.isTrue, fee: event.data.fee.toBigInt(), deposit: event.data.deposit.toBigInt(),
        });
      }
      if (event.section === 'revive' && event.method === 'ContractEmitted'
        && event.data.contract.toHex().toLowerCase() === INFERENCE_ADDRESS) {
        const log = inference.interface.parseLog({
          topics: event.data.topics.map((t) => t.toHex()), data: u8aToHex(event.data.data.toU8a(true)),
        });
        if (['InferenceResult', 'CallbackDelivered'].includes(log?.name)) precompileLogs.push(log);
      }
    }
  });
});

after(async () => {
  unsubscribe?.();
  eth?.stop();
  await node?.stop();
  for (const dir of packages) fs.rmSync(dir, { recursive: true, force: true });
});

let expiring;

test('(a) a request no provider answers in time expires; its callback gets Expired and the fee comes back', async () => {
  const input = textInput('nobody will embed this');
  const fee = await inference.estimateFee(silentModel, input.length, CALLBACK_GAS);
  const before = await eth.provider.getBalance(await probe.getAddress());
  const tx = await probe.connect(deployer).request(silentModel, input, CALLBACK_GAS, '0x0102', { value: fee });
  const requestId = requestIdOf(await tx.wait(), await probe.getAddress());
  const [status, deadline] = await inference.status(requestId);
  assert.equal(status, 1n, 'Pending');
  assert.ok(deadline > 0n);
  // The probe forwarded exactly the fee: its own balance did not move.
  assert.equal(await eth.provider.getBalance(await probe.getAddress()), before);
  expiring = { requestId, before, fee };
  // Checked in (h), once the deadline has passed, so the other tests run meanwhile.
});

test('(b) underpaid requests are refused and store nothing', async () => {
  const input = textInput('too cheap');
  const fee = await inference.estimateFee(embedder, input.length, 0n);
  const nextId = async () => (await api.query.inference.nextRequestId()).toBigInt();
  const before = await nextId();
  // From an EOA straight to the precompile: the pallet's error as the revert reason.
  await assert.rejects(
    inference.connect(user).requestInference.estimateGas(embedder, input, 0n, '0x', { value: fee - 1n }),
    /Inference\.requestInference: FeeAboveMax/,
  );
  // Sent anyway (with the gas of a paid request), it is included and reverts; the value
  // comes back and only the gas is paid.
  const gasLimit = 2n * await inference.connect(user).requestInference.estimateGas(embedder, input, 0n, '0x', { value: fee });
  const balance = await eth.provider.getBalance(user.address);
  const tx = await inference.connect(user).requestInference(embedder, input, 0n, '0x', { value: fee - 1n, gasLimit });
  const failed = await tx.wait().then(() => null, (e) => e.receipt);
  assert.equal(failed?.status, 0, 'the underpaid request reverted on chain');
  const spent = balance - await eth.provider.getBalance(user.address);
  assert.ok(spent > 0n && spent <= failed.gasUsed * failed.gasPrice, `only gas was paid (${spent})`);
  // Through the kit's base contract: its custom error with both figures.
  const error = await probe.connect(user).request.estimateGas(embedder, input, 0n, '0x', { value: fee - 1n })
    .then(() => null, (e) => e);
  const decoded = probe.interface.parseError(error?.data);
  assert.equal(decoded?.name, 'FeeTooLow');
  assert.deepEqual([decoded.args.required, decoded.args.sent], [fee, fee - 1n]);
  assert.equal(await nextId(), before, 'no request was stored');
});

test('(c) only the requester cancels a pending request; it gets everything back', async () => {
  const input = textInput('cancel me');
  const fee = await inference.estimateFee(silentModel, input.length, 0n);
  const tx = await inference.connect(deployer).requestInference(silentModel, input, 0n, '0x', { value: fee });
  const requestId = requestIdOf(await tx.wait(), deployer.address);
  await assert.rejects(
    inference.connect(user).cancelRequest.estimateGas(requestId),
    /Inference\.cancelRequest: NotRequester/,
  );
  assert.equal((await inference.status(requestId))[0], 1n, 'still Pending');
  const before = await eth.provider.getBalance(deployer.address);
  const receipt = await (await inference.connect(deployer).cancelRequest(requestId)).wait();
  const cancelled = receipt.logs.map((log) => inference.interface.parseLog(log)).find((log) => log?.name === 'RequestCancelled');
  assert.equal(cancelled.args.requestId, requestId);
  assert.equal(cancelled.args.refunded, fee);
  const gasPaid = receipt.gasUsed * receipt.gasPrice;
  assert.equal(await eth.provider.getBalance(deployer.address), before + fee - gasPaid);
  assert.equal((await inference.status(requestId))[0], 0n, 'Unknown');
});

test('(d) Guestbook: a text model flags a message close to a blocked example and publishes the rest', async () => {
  const guestbook = await deploy('contracts/examples/Guestbook.sol', 'Guestbook', [embedder, CALLBACK_GAS, UNITS / 2n]);
  const examples = ['You are all worthless idiots and I hate every one of you.', 'Buy cheap pills now at the best prices online!!!'];
  for (const text of examples) {
    await (await guestbook.addBlockedExample(text, { value: await guestbook.fee(text) })).wait();
  }
  await until('the blocked examples', () => guestbook.exampleCount(), (n) => n === 2n);

  const messages = ['What a lovely evening, thank you so much for the music!', 'Shut up, you stupid idiots, I hate all of you.'];
  const ids = [];
  for (const message of messages) {
    const value = await guestbook.fee(message);
    const gas = await guestbook.connect(user).sign.estimateGas(message, { value });
    assert.ok(gas > 0n, 'eth_estimateGas prices the request');
    const receipt = await (await guestbook.connect(user).sign(message, { value: value + UNITS })).wait();
    assert.equal(receipt.status, 1);
    // The guestbook's own log and the precompile's, in one receipt.
    const submitted = receipt.logs.map((log) => guestbook.interface.parseLog(log)).find((log) => log?.name === 'Submitted');
    assert.equal(submitted.args.author, user.address);
    ids.push(requestIdOf(receipt, await guestbook.getAddress()));
    assert.equal(submitted.args.requestId, ids.at(-1));
  }
  const entries = await until('both messages moderated', () => Promise.all(ids.map((id) => guestbook.entries(id))),
    (all) => all.every((entry) => entry.state >= 2n));
  const [published, flagged] = [2n, 3n];
  assert.equal(entries[0].state, published, `kept: similarity ${entries[0].similarity}`);
  assert.equal(entries[1].state, flagged, `flagged: similarity ${entries[1].similarity}`);
  assert.equal(entries[1].closestExample, 0n, 'closest to the insult');
  assert.ok(entries[1].similarity >= UNITS / 2n && entries[0].similarity < UNITS / 2n);
  assert.equal(await guestbook.publishedCount(), 1n);
  assert.equal(await guestbook.published(0), ids[0]);

  // The receipt: the proof of inference the chain keeps, for the guestbook as requester.
  const receipt = await inference.receipt(ids[1]);
  assert.equal(receipt.exists, true);
  assert.equal(receipt.requester, await guestbook.getAddress());
  assert.equal(receipt.modelId, BigInt(embedder));
  assert.equal(receipt.kind, ResultKind.Output);
  assert.equal(receipt.providers.length, 1);
  assert.equal(receipt.verification, 0n, 'Single');
  assert.equal(receipt.pricePaid, UNITS / 100n);
  const { outputHash } = await outputOf(ids[1]);
  assert.equal(receipt.outputHash, outputHash);
  // The delivery logged the result and the callback's outcome from the precompile's address.
  const logged = precompileLogs.filter((log) => log.args.requestId === ids[1]).map((log) => [log.name, ...log.args]);
  assert.deepEqual(logged, [['InferenceResult', ids[1], ResultKind.Output, outputHash], ['CallbackDelivered', ids[1], true]]);
});

test('(e) LabelledImages: an ERC-721 minted with the label the image model gives its image', async () => {
  const nft = await deploy('contracts/examples/LabelledImages.sol', 'LabelledImages', [classifier, CALLBACK_GAS]);
  const image = fs.readFileSync(path.join(assets, 'chelsea.jpg'));
  const value = await nft.fee(image.length);
  const receipt = await (await nft.connect(user).mint(image, { value })).wait();
  const requestId = requestIdOf(receipt, await nft.getAddress());
  await until('the token', () => nft.totalSupply(), (n) => n === 1n);
  assert.equal(await nft.ownerOf(1n), user.address);
  assert.equal(await nft.balanceOf(user.address), 1n);
  const label = await nft.labelOf(1n);
  assert.equal(label.requestId, requestId);
  assert.equal(label.imageHash, keccak256(image));
  // The token's label is the model's top-1 on chain, its score the f32 score exactly in wad.
  const { tensors } = await outputOf(requestId);
  const ids = tensors.find((t) => t.name === 'label_ids');
  const scores = tensors.find((t) => t.name === 'scores');
  assert.equal(ids.dtype, DType.I64);
  const top = Number(new DataView(ids.data.buffer).getBigInt64(0, true));
  assert.equal(label.classId, BigInt(top));
  assert.ok([281, 282, 285].includes(top), `a cat class, got ${top}`);
  assert.equal(label.score, f32ToFixed(scores.values[0], UNITS));
  const json = JSON.parse(Buffer.from((await nft.tokenURI(1n)).split(',')[1], 'base64').toString());
  assert.deepEqual(json.attributes[0], { trait_type: 'class', value: top });
});

test('(f) SemanticSearch ranks documents by cosine on chain; a search sent with polkadot.js revive.call', async () => {
  const search = await deploy('contracts/examples/SemanticSearch.sol', 'SemanticSearch', [embedder, CALLBACK_GAS]);
  const documents = ['A man is playing a guitar.', 'The stock market fell sharply today.', 'A chef is cooking pasta in the kitchen.'];
  const requestOf = new Map();
  for (const text of documents) {
    const receipt = await (await search.connect(user).addDocument(text, { value: await search.fee(text) })).wait();
    requestOf.set(text, requestIdOf(receipt, await search.getAddress()));
  }
  await until('three indexed documents', () => search.documentCount(), (n) => n === 3n);

  // The Substrate path: Alice (mapped to an address at genesis) sends the search as an
  // extrinsic; the callback reaches the contract all the same.
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const query = 'Someone is playing an instrument.';
  const tx = await callTx(api, alice, await search.getAddress(), search.interface, 'search', [query], await search.fee(query));
  const { events, error } = await submit(api, tx, alice);
  assert.equal(error, null);
  const requestId = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toBigInt();
  const [done, storedQuery, ranking, scores] = await until('the ranking',
    () => search.searchResult(requestId), (r) => r[0]);
  assert.equal(done, true);
  assert.equal(storedQuery, query);
  assert.deepEqual([...ranking], [0n, 2n, 1n], `scores ${scores}`);
  assert.ok(scores[0] > scores[1] && scores[1] > scores[2]);
  // The stored embeddings are the model's output in fixed point, exactly.
  const [, text, embedding] = await search.document(0n);
  const { tensors } = await outputOf(requestOf.get(text));
  const values = tensors.find((t) => t.name === 'embeddings').values;
  assert.equal(embedding.length, values.length);
  assert.deepEqual([...embedding], values.map((v) => f32ToFixed(v, 10_000n)));
});

test('(g) a callback that reverts or runs out of gas is recorded as failed; the result stays final', async () => {
  // One probe per behaviour: a callback runs blocks later, with the mode its probe has then.
  const requests = [];
  const probes = [];
  for (const mode of [1, 2]) {
    const faulty = await deploy('tests/e2e/contracts/CallbackProbe.sol', 'CallbackProbe', []);
    await (await faulty.setMode(mode)).wait();
    const input = textInput(`probe mode ${mode}`);
    const fee = await inference.estimateFee(embedder, input.length, CALLBACK_GAS);
    requests.push(requestIdOf(await (await faulty.request(embedder, input, CALLBACK_GAS, '0x', { value: fee })).wait(), await faulty.getAddress()));
    probes.push(faulty);
  }
  const [reverted, exhausted] = await until('both callbacks', async () => requests.map((id) => deliveries.get(id)),
    (found) => found.every(Boolean));
  for (const [delivered, requestId] of [[reverted, requests[0]], [exhausted, requests[1]]]) {
    assert.equal(delivered.success, false, `request ${requestId}'s callback failed`);
    assert.ok(delivered.fee > 0n, 'the gas it used was paid');
    assert.equal((await inference.status(requestId))[0], 4n, 'Final');
    assert.equal((await inference.result(requestId))[0], ResultKind.Output);
  }
  assert.ok(exhausted.fee > reverted.fee, `running out of gas used all of it (${exhausted.fee} > ${reverted.fee})`);
  for (const faulty of probes) assert.equal(await faulty.calls(), 0n, 'neither callback changed its probe');
});

test('(h) the expired request of (a) called back with Expired and its fee refunded', async () => {
  const { requestId, before } = expiring;
  await until('the expiry callback', () => probe.calls(), (n) => n === 1n, 150_000);
  assert.equal(await probe.lastRequest(), requestId);
  assert.equal(await probe.lastKind(), ResultKind.Expired);
  assert.equal(await probe.lastData(), '0x0102');
  assert.equal((await inference.status(requestId))[0], 0n, 'Unknown once called back');
  // The probe, the requester, got everything held back but the callback's gas and the storage
  // the callback took.
  const delivered = deliveries.get(requestId);
  assert.equal(delivered?.success, true);
  const logged = precompileLogs.filter((log) => log.args.requestId === requestId).map((log) => [log.name, ...log.args]);
  assert.deepEqual(logged, [['InferenceResult', requestId, ResultKind.Expired, `0x${'00'.repeat(32)}`], ['CallbackDelivered', requestId, true]]);
  assert.equal(await eth.provider.getBalance(await probe.getAddress()),
    before + expiring.fee - delivered.fee - delivered.deposit);
});

test('(i) the kit\'s codec writes inputs byte for byte as the chain reads them and refuses bad outputs', async () => {
  const harness = await deploy('tests/e2e/contracts/CodecHarness.sol', 'CodecHarness', []);
  assert.equal(await harness.textInput('Grüße, world'), u8aToHex(textInput('Grüße, world')));
  const image = fs.readFileSync(path.join(assets, 'coffee.jpg'));
  assert.equal(await harness.imageInput(image),
    u8aToHex(encodeTensors([{ name: 'image', dtype: DType.U8, shape: [image.length], data: image }])));
  const maxTokens = new Uint8Array(4);
  new DataView(maxTokens.buffer).setUint32(0, 8, true);
  const prompt = new TextEncoder().encode('Paris is the capital of');
  assert.equal(await harness.promptInput('Paris is the capital of', 8), u8aToHex(encodeTensors([
    { name: 'prompt', dtype: DType.U8, shape: [prompt.length], data: prompt },
    { name: 'max_tokens', dtype: DType.I32, shape: [], data: maxTokens },
  ])));
  // Text outputs (generation, speech-to-text, OCR) read back as the string.
  const text = 'The quick brown fox — 素早い狐';
  const bytes = new TextEncoder().encode(text);
  assert.equal(await harness.text(encodeTensors([{ name: 'text', dtype: DType.U8, shape: [bytes.length], data: bytes }])), text);
  const codecError = (e) => harness.interface.parseError(e.data);
  await assert.rejects(harness.text('0x43544e45'), (e) => codecError(e)?.name === 'MalformedTensors');
  await assert.rejects(harness.labels(textInput('no labels here'), 0n),
    (e) => codecError(e)?.name === 'MissingTensor' && codecError(e).args.name === 'label_ids');
});
