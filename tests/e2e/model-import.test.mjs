// End-to-end: a Hugging Face model imported in one command. MiniLM (int8 ONNX, its tokenizer
// and a model card) is laid out in a Hugging Face cache the way `huggingface_hub` writes it
// (refs/main → snapshots/<commit>, files linked to blobs/), and `citrate-node model import
// sentence-transformers/all-MiniLM-L6-v2` builds the package, validates it in the engine,
// adds it to a `--dev` node's store and registers it as Alice, who serves it. The registry
// shows it with its metadata and the attestation's SHA-256, which matches the
// citrate-import.json inside the package the node serves; a second import is a no-op; a
// repository holding a pickle is refused naming the file, registering nothing; and an
// inference request through the chain returns what the engine gives locally on the package.
// A CLIP checkpoint in the Hub's layout (random weights, from citrate-hf-fixture) imports as
// zero-shot image classification, and a request with an image and labels is served the same.
// With --ipfs-api the package goes to a real IPFS daemon (js-ipfs), which pins and serves it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { modelsDir } from '../../scripts/lib/models.mjs';
import { inferBinary, nodeBinary, startDevNode } from './lib/node.mjs';
import { startIpfsDaemon } from './lib/ipfs.mjs';
import { DType, encodeTensors, textInput } from './lib/tensor.mjs';
import { fixtureBinary } from '../../scripts/lib/binaries.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
const REPO = 'sentence-transformers/all-MiniLM-L6-v2';
const COMMIT = 'c9745ed1d9f207416be6d2e6f8de32d1f16199bf';
const CARD = `---
license: apache-2.0
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- feature-extraction
library_name: sentence-transformers
---

# all-MiniLM-L6-v2

This is a sentence-transformers model: it maps sentences to a 384 dimensional dense vector space.
`;

let node;
let api;
let scratch;
let hfHome;
let imported;

/**
 * `citrate-node model import …` with the scratch Hugging Face cache, adding to the node's
 * store unless `--ipfs-api` is among `args`; returns the process.
 */
const runImport = (...args) => spawnSync(nodeBinary(), [
  'model', 'import', ...args, '--rpc', node.rpcUrl, '--suri', '//Alice', '--json',
  ...(args.includes('--ipfs-api') ? [] : ['--base-path', node.basePath]),
], { env: { ...process.env, HF_HOME: hfHome }, timeout: 600_000, encoding: 'utf8' });

/** Writes `files` (name → source path or text) as the cache's snapshot of `repo` at `commit`. */
function cacheRepo(repo, commit, files) {
  const root = path.join(hfHome, 'hub', `models--${repo.replace('/', '--')}`);
  const snapshot = path.join(root, 'snapshots', commit);
  fs.mkdirSync(path.join(root, 'refs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'refs', 'main'), commit);
  for (const [name, from] of Object.entries(files)) {
    const bytes = from.text ?? fs.readFileSync(from);
    const blob = path.join(root, 'blobs', createHash('sha256').update(bytes).digest('hex'));
    fs.writeFileSync(blob, bytes);
    fs.mkdirSync(path.dirname(path.join(snapshot, name)), { recursive: true });
    fs.symlinkSync(blob, path.join(snapshot, name));
  }
}

before(async () => {
  const onnx = path.join(modelsDir, 'all-minilm-l6-v2-int8', 'model.onnx');
  assert.ok(fs.existsSync(onnx), `run scripts/fetch-models.py first (${onnx})`);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-import-e2e-'));
  hfHome = path.join(scratch, 'hf');
  cacheRepo(REPO, COMMIT, {
    'onnx/model.onnx': onnx,
    'tokenizer.json': path.join(modelsDir, 'all-minilm-l6-v2', 'tokenizer.json'),
    'config.json': path.join(modelsDir, 'all-minilm-l6-v2', 'config.json'),
    'README.md': { text: CARD },
  });
  cacheRepo('acme/pickled', 'a'.repeat(40), {
    'pytorch_model.bin': { text: 'not really a pickle' },
    'README.md': { text: '---\nlicense: mit\n---\n' },
  });
  node = await startDevNode();
  api = node.api;
});

after(async () => {
  await node?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('(a) one command imports the repository: registered with metadata and attestation', async () => {
  const run = runImport(REPO, '--serve');
  assert.equal(run.status, 0, run.stderr);
  imported = JSON.parse(run.stdout);
  assert.equal(imported.outcome, 'registered');
  assert.equal(imported.name, REPO);
  assert.equal(imported.task, 'feature-extraction');
  assert.equal(imported.backend, 'tract');
  assert.equal(imported.reference_run.output, '1 embedding(s) of 384 dims');
  for (const step of ['hashing', 'validating the package in the inference engine', 'registering the model']) {
    assert.match(run.stderr, new RegExp(step), 'progress is shown');
  }
  assert.doesNotMatch(run.stdout + run.stderr, /\/\/Alice/, 'the secret never appears');

  const id = imported.model_id;
  const model = (await api.query.modelRegistry.models(id)).unwrap();
  assert.equal(model.name.toUtf8(), REPO);
  assert.equal(model.cid.toUtf8(), imported.cid);
  assert.equal(model.sizeBytes.toNumber(), imported.size_bytes);
  assert.equal(model.framework.toString(), 'Onnx');
  assert.equal(model.modelType.toString(), 'Embedding');
  assert.equal(model.license.identifier.toUtf8(), 'Apache-2.0');
  assert.equal(model.license.kind.toString(), 'OpenSource');
  const { metadata } = (await api.query.modelRegistry.metadata(id)).unwrap();
  assert.equal(metadata.task.toString(), 'FeatureExtraction');
  assert.equal(metadata.description.toUtf8(),
    'This is a sentence-transformers model: it maps sentences to a 384 dimensional dense vector space.');
  assert.equal(metadata.flopsPerInference.toNumber(), imported.flops_per_inference);
  assert.ok(metadata.parameterCount.toNumber() > 22_000_000, metadata.parameterCount.toString());
  assert.equal(metadata.documentation.toUtf8(), `https://huggingface.co/${REPO}`);
  assert.deepEqual(metadata.tags.map((t) => t.toUtf8()),
    ['feature-extraction', 'sentence-similarity', 'sentence-transformers']);
  assert.equal(metadata.importAttestation.unwrap().toHex(), `0x${imported.attestation_sha256}`);
  const providers = await api.query.inference.providersOf(id);
  assert.ok(providers.some((p) => p.toString() === new Keyring({ type: 'sr25519' }).addFromUri('//Alice').address));

  // The package the node serves holds the attestation the chain records.
  const exported = path.join(scratch, 'exported');
  execFileSync(nodeBinary(), ['storage', '--base-path', node.basePath, 'get', imported.cid, '--output', exported]);
  const attestationBytes = fs.readFileSync(path.join(exported, 'citrate-import.json'));
  assert.equal(createHash('sha256').update(attestationBytes).digest('hex'), imported.attestation_sha256);
  const attestation = JSON.parse(attestationBytes);
  assert.equal(attestation.source.repo, REPO);
  assert.equal(attestation.source.revision, COMMIT);
  const sourceOnnx = attestation.source.files.find((f) => f.path === 'onnx/model.onnx');
  assert.equal(sourceOnnx.sha256, '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6');
  // Its package CID is the other files' CID: anyone can check the import.
  const withoutAttestation = path.join(scratch, 'without-attestation');
  fs.cpSync(exported, withoutAttestation, { recursive: true });
  fs.rmSync(path.join(withoutAttestation, 'citrate-import.json'));
  const cid = execFileSync(nodeBinary(), ['storage', '--base-path', node.basePath, 'add', '-r', '--only-hash', withoutAttestation]).toString().trim();
  assert.equal(attestation.package.cid, cid);
});

test('(b) importing the same revision again is a no-op', async () => {
  const next = (await api.query.modelRegistry.nextModelId()).toNumber();
  const run = runImport(REPO);
  assert.equal(run.status, 0, run.stderr);
  const again = JSON.parse(run.stdout);
  assert.equal(again.outcome, 'already registered: nothing to do');
  assert.equal(again.model_id, imported.model_id);
  assert.equal(again.cid, imported.cid);
  assert.equal((await api.query.modelRegistry.nextModelId()).toNumber(), next);
});

test('(b2) a new revision of an owned name publishes version 2; a name owned by another is refused', async () => {
  // The Hub's next commit of the repository: the card changed, so the package's CID did.
  const commit2 = 'd'.repeat(40);
  cacheRepo(REPO, commit2, {
    'onnx/model.onnx': path.join(modelsDir, 'all-minilm-l6-v2-int8', 'model.onnx'),
    'tokenizer.json': path.join(modelsDir, 'all-minilm-l6-v2', 'tokenizer.json'),
    'config.json': path.join(modelsDir, 'all-minilm-l6-v2', 'config.json'),
    'README.md': { text: `${CARD}\nRevision 2.\n` },
  });
  const byBob = spawnSync(nodeBinary(), [
    'model', 'import', REPO, '--rpc', node.rpcUrl, '--suri', '//Bob', '--base-path', node.basePath, '--json',
  ], { env: { ...process.env, HF_HOME: hfHome }, timeout: 600_000, encoding: 'utf8' });
  assert.notEqual(byBob.status, 0);
  assert.match(byBob.stderr, new RegExp(`the name \`${REPO}\` belongs to \\w+ \\(model ${imported.model_id}\\); pass --name`));

  const run = runImport(REPO);
  assert.equal(run.status, 0, run.stderr);
  const second = JSON.parse(run.stdout);
  assert.equal(second.outcome, 'registered');
  assert.notEqual(second.cid, imported.cid);
  assert.match(run.stderr, new RegExp(`publishing a new version of model ${imported.model_id}`));
  const model = (await api.query.modelRegistry.models(second.model_id)).unwrap();
  assert.equal(model.version.toNumber(), 2);
  const history = (await api.query.modelRegistry.modelVersions(REPO)).unwrap();
  assert.deepEqual(history.versions.map((v) => v.toNumber()), [imported.model_id, second.model_id]);
  assert.ok((await api.query.modelRegistry.metadata(second.model_id)).unwrap().metadata.importAttestation.isSome);
});

test('(f) with --ipfs-api the package goes to an IPFS node, which pins and serves it', async () => {
  const ipfs = await startIpfsDaemon();
  try {
    const repo = 'acme/minilm-on-ipfs';
    cacheRepo(repo, 'f'.repeat(40), {
      'onnx/model.onnx': path.join(modelsDir, 'all-minilm-l6-v2-int8', 'model.onnx'),
      'tokenizer.json': path.join(modelsDir, 'all-minilm-l6-v2', 'tokenizer.json'),
      'config.json': path.join(modelsDir, 'all-minilm-l6-v2', 'config.json'),
      'README.md': { text: CARD },
    });
    const run = runImport(repo, '--ipfs-api', ipfs.api);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.outcome, 'registered');
    assert.match(run.stderr, /writing the package as a CAR/);
    assert.match(run.stderr, new RegExp(`uploading it to the IPFS node at ${ipfs.api}`));
    assert.equal((await api.query.modelRegistry.models(result.model_id)).unwrap().cid.toUtf8(), result.cid);
    const pins = await (await ipfs.post('pin/ls', { type: 'recursive' })).json();
    assert.ok(Object.keys(pins.Keys).includes(result.cid), JSON.stringify(pins));
    const config = await (await ipfs.post('cat', { arg: `${result.cid}/config.json` })).text();
    assert.equal(config, fs.readFileSync(path.join(modelsDir, 'all-minilm-l6-v2', 'config.json'), 'utf8'));
  } finally {
    await ipfs.stop();
  }
});

test('(c) a repository of pickled weights is refused naming the file; nothing is registered', async () => {
  const next = (await api.query.modelRegistry.nextModelId()).toNumber();
  const run = runImport('acme/pickled');
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /pytorch_model\.bin: PyTorch pickle weights are not imported: reading a pickle runs the code it holds/);
  assert.equal((await api.query.modelRegistry.nextModelId()).toNumber(), next);
  assert.ok((await api.query.modelRegistry.modelVersions('acme/pickled')).isNone);
});

test('(d) an inference request through the chain returns what the engine gives locally', async () => {
  const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
  const sentence = 'Models imported from the Hub answer on chain.';
  const { events, error } = await submit(
    api, api.tx.inference.requestInference(imported.model_id, u8aToHex(textInput(sentence)), 10n * UNITS), bob);
  assert.equal(error, null);
  const requestId = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
  const receipt = await receiptOf(requestId);
  assert.ok(receipt.outcome.isOutput, receipt.outcome.toHuman());
  const engine = JSON.parse(execFileSync(inferBinary(),
    ['--task', 'feature-extraction', '--dir', path.join(scratch, 'exported'), '--text', sentence],
    { timeout: 300_000 }).toString());
  assert.equal(receipt.outputHash.unwrap().toHex(), engine.output_hash);
});

/** Waits for request `requestId`'s receipt and returns it. */
async function receiptOf(requestId) {
  const deadline = Date.now() + 90_000;
  let receipt = await api.query.inference.receipts(requestId);
  while (receipt.isNone && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    receipt = await api.query.inference.receipts(requestId);
  }
  assert.ok(receipt.isSome, `no result (node log: ${node.logFile})`);
  return receipt.unwrap();
}

test('(e) a CLIP checkpoint imports as zero-shot image classification and answers through the chain', async () => {
  const dir = path.join(scratch, 'clip-vit-base-patch32');
  execFileSync(fixtureBinary(), ['--family', 'clip', '--size', 'tiny', '--seed', '5', '--out', dir]);
  const run = runImport(dir, '--serve');
  assert.equal(run.status, 0, run.stderr);
  const clip = JSON.parse(run.stdout);
  assert.equal(clip.task, 'zero-shot-image-classification');
  assert.equal(clip.backend, 'candle');
  const { metadata } = (await api.query.modelRegistry.metadata(clip.model_id)).unwrap();
  assert.equal(metadata.task.toString(), 'ZeroShotImageClassification');
  assert.equal((await api.query.modelRegistry.models(clip.model_id)).unwrap().modelType.toString(), 'Multimodal');

  const image = path.resolve(import.meta.dirname, '../../crates/inference/tests/assets/chelsea.jpg');
  const labels = ['a cat', 'a dog', 'a spreadsheet'];
  const width = Math.max(...labels.map((l) => l.length));
  const rows = new Uint8Array(labels.length * width);
  labels.forEach((l, i) => rows.set(new TextEncoder().encode(l), i * width));
  const bytes = fs.readFileSync(image);
  const input = encodeTensors([
    { name: 'image', dtype: DType.U8, shape: [bytes.length], data: new Uint8Array(bytes) },
    { name: 'labels', dtype: DType.U8, shape: [labels.length, width], data: rows },
  ]);
  const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
  const { events, error } = await submit(
    api, api.tx.inference.requestInference(clip.model_id, u8aToHex(input), 10n * UNITS), bob);
  assert.equal(error, null);
  const requestId = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
  const receipt = await receiptOf(requestId);
  assert.ok(receipt.outcome.isOutput, receipt.outcome.toHuman());
  const engine = JSON.parse(execFileSync(inferBinary(),
    ['--task', 'zero-shot-image-classification', '--dir', dir, '--input', image, ...labels.flatMap((l) => ['--text', l])],
    { timeout: 300_000 }).toString());
  assert.equal(receipt.outputHash.unwrap().toHex(), engine.output_hash);
});
