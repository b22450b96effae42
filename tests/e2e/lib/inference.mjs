// A real model on a dev chain for inference: MiniLM int8 (ONNX + tokenizer) as a model
// package in the node's store, registered with metadata, served by a provider.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary } from './node.mjs';
import { findEvent, submit } from './tx.mjs';

export const modelsDir =
  process.env.CITRATE_MODELS_DIR ?? path.join(os.homedir(), '.cache', 'citrate', 'models');

/** A new directory holding MiniLM's package files; remove it when done. */
export function minilmPackageDir() {
  const onnx = path.join(modelsDir, 'all-minilm-l6-v2-int8', 'model.onnx');
  assert.ok(fs.existsSync(onnx), `run scripts/fetch-models.py first (${onnx})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-minilm-'));
  fs.copyFileSync(onnx, path.join(dir, 'model.onnx'));
  fs.copyFileSync(path.join(modelsDir, 'all-minilm-l6-v2', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  return dir;
}

/** `citrate-node storage …` on the running node's store. */
export const storage = (node, ...args) =>
  execFileSync(nodeBinary(), ['storage', '--base-path', node.basePath, ...args]).toString().trim();

/** Feature-extraction metadata with `flops` per inference. */
export const embeddingMetadata = (flops) => ({
  description: 'all-MiniLM-L6-v2 sentence embeddings (int8)',
  task: 'FeatureExtraction',
  inputs: [],
  outputs: [],
  parameterCount: 22_700_000,
  flopsPerInference: flops,
  minMemoryBytes: 100_000_000,
  tags: ['embeddings'],
  documentation: 'https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2',
  tokenizerCid: null,
});

/** Registers `cid` as an embedding model of `owner`; returns its id. */
export async function registerModel(api, owner, name, cid, size, license = 'OpenSource') {
  const { events, error } = await submit(
    api, api.tx.modelRegistry.registerModel(name, cid, 'Embedding', 'Onnx', size, license, 'Apache-2.0'), owner,
  );
  assert.equal(error, null);
  return findEvent(events, 'modelRegistry', 'ModelRegistered').data.modelId.toNumber();
}

/** Adds `packageDir` to the node's store and registers it for `owner` with MiniLM's metadata
 * (2 GFLOPs), an optional per-call `price`, served by `provider`; returns the model id. */
export async function publishEmbeddingModel(api, node, packageDir, { owner, provider, price = 0n, name }) {
  const cid = storage(node, 'add', '-r', packageDir);
  const { bytes } = JSON.parse(storage(node, 'stat', cid));
  const modelId = await registerModel(api, owner, name, cid, bytes);
  const steps = [
    [api.tx.modelRegistry.setMetadata(modelId, embeddingMetadata(2_000_000_000)), owner],
    ...(price > 0n ? [[api.tx.inference.setPrice(modelId, price), owner]] : []),
    [api.tx.inference.serveModel(modelId), provider],
  ];
  for (const [tx, signer] of steps) assert.equal((await submit(api, tx, signer)).error, null);
  return modelId;
}
