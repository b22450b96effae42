// End-to-end: a model is one CID. A real multi-file model, PP-OCRv4 (det.onnx, rec.onnx,
// cls.onnx), is added to a `citrate-node --dev` store as a directory; Alice registers it by
// its directory CID with the size `storage stat` gives, pins it, and the node's offchain
// worker proves holding the package (root directory → file → leaf). A second store then
// fetches the package through the node's gateway, the engine loads it by CID, and its OCR
// output is byte-identical (same output hash) to the engine reading the original files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { CID } from 'multiformats/cid';
import { inferBinary, nodeBinary, startDevNode } from './lib/node.mjs';
import { shortenPinningEras } from './lib/pinning.mjs';
import { findEvent, submit, waitForEvent } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
const ERA_LENGTH = 4;
const RESPONSE_WINDOW = 3;
const modelsDir = process.env.CITRATE_MODELS_DIR ?? path.join(os.homedir(), '.cache', 'citrate', 'models');
const packageDir = path.join(modelsDir, 'pp-ocrv4');
const image = path.resolve(import.meta.dirname, '../../crates/inference/tests/assets/ocr-text.png');

let node;
let api;
let alice;
let cid;
let bytes;

const storage = (...args) =>
  execFileSync(nodeBinary(), ['storage', '--base-path', node.basePath, ...args]).toString().trim();
const infer = (...args) =>
  JSON.parse(execFileSync(inferBinary(), ['--task', 'ocr', '--input', image, ...args], { timeout: 300_000 }).toString());

before(async () => {
  assert.ok(fs.existsSync(path.join(packageDir, 'det.onnx')), `run scripts/fetch-models.py first (${packageDir})`);
  node = await startDevNode();
  api = node.api;
  alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
});

after(async () => {
  await node?.stop();
});

test('(a) the model directory is one CID: add -r, ls and stat', () => {
  cid = storage('add', '-r', packageDir);
  assert.equal(CID.parse(cid).version, 0, 'ipfs add -r defaults give a CIDv0 directory');
  const names = ['cls.onnx', 'det.onnx', 'rec.onnx'];
  const sizes = names.map((name) => fs.statSync(path.join(packageDir, name)).size);
  const rows = storage('ls', cid).split('\n').map((line) => line.split('\t'));
  assert.deepEqual(rows.map((r) => [r[0], Number(r[1]), r[3]]), names.map((n, i) => ['file', sizes[i], n]));
  const stat = JSON.parse(storage('stat', cid));
  bytes = sizes.reduce((a, b) => a + b, 0);
  assert.deepEqual(stat, { cid, kind: 'dir', files: 3, bytes });
});

test('(b) registered by its directory CID, pinned by Alice, proven by the offchain worker', async () => {
  assert.equal(await shortenPinningEras(api, alice, ERA_LENGTH, RESPONSE_WINDOW), null);

  let { error } = await submit(
    api,
    api.tx.modelRegistry.registerModel('pp-ocrv4', cid, 'Vision', 'Onnx', bytes, 'OpenSource', 'Apache-2.0'),
    alice,
  );
  assert.equal(error, null);

  const proofKey = u8aToHex(alice.publicKey);
  await api.rpc.author.insertKey('pinr', '//Alice', proofKey);
  ({ error } = await submit(api, api.tx.pinning.registerPinner(100n * UNITS, proofKey), alice));
  assert.equal(error, null);
  // A size other than the registered one is refused by name.
  ({ error } = await submit(api, api.tx.pinning.reportPin(cid, bytes + 1), alice));
  assert.deepEqual([error?.section, error?.name], ['pinning', 'SizeMismatch']);
  const reported = await submit(api, api.tx.pinning.reportPin(cid, bytes), alice);
  assert.equal(reported.error, null);
  const sinceEra = findEvent(reported.events, 'pinning', 'PinReported').data.sinceEra.toNumber();

  const accepted = await waitForEvent(
    api,
    (e) => e.section === 'pinning' && ['ProofAccepted', 'ProofRejected'].includes(e.method),
    (ERA_LENGTH * 3 + 4) * 6_000,
  );
  assert.equal(accepted.method, 'ProofAccepted', `the package proof verified: ${accepted.toString()}`);
  assert.equal(accepted.data.pinner.toString(), alice.address);
  assert.equal(accepted.data.era.toNumber(), sinceEra);
});

test('(c) a second store fetches it through the gateway; the engine loads it by CID with identical outputs', () => {
  const store = fs.mkdtempSync(path.join(node.basePath, 'second-store-'));
  // An unreachable gateway first: the loader moves on to the node's.
  const byCid = infer('--cid', cid, '--store', store, '--gateway', 'http://127.0.0.1:9', '--gateway', node.gatewayUrl);
  const fromFiles = infer('--dir', packageDir);
  assert.equal(byCid.model_bytes, bytes);
  assert.equal(byCid.output_hash, fromFiles.output_hash);
  assert.deepEqual(byCid.output, fromFiles.output);
  assert.match(byCid.output.text.toLowerCase(), /chain/, 'the rendered text is read');
  assert.equal(byCid.output.lines.length, 2);
  assert.ok(byCid.output.lines.every((line) => line.confidence > 0.5 && line.box.length === 4), 'lines have confidences and boxes');

  // The second store now holds the package, verified: it loads again with no gateway at all.
  const offline = infer('--cid', cid, '--store', store);
  assert.equal(offline.output_hash, fromFiles.output_hash);

  // A package over the size limit is refused before any file is fetched.
  const empty = fs.mkdtempSync(path.join(node.basePath, 'small-store-'));
  assert.throws(
    () => execFileSync(inferBinary(), ['--task', 'ocr', '--input', image, '--cid', cid, '--store', empty,
      '--gateway', node.gatewayUrl, '--max-bytes', '1000000'], { stdio: 'pipe' }),
    (e) => /model's files are \d+ bytes; the limit is 1000000/.test(e.stderr.toString()),
  );
});
