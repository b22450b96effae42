// Real models on a chain for inference: packages built from the models
// `scripts/fetch-models.py` caches (MiniLM int8 ONNX + tokenizer, EfficientNet-Lite0), added to
// a node's store, registered with metadata and served by a provider. Used by the end-to-end
// tests, the chain benchmark and `scripts/dev-models.mjs`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary } from './binaries.mjs';
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
  importAttestation: null,
});

/** Registers `cid` as a `modelType` model of `owner`; returns its id. */
export async function registerModel(api, owner, name, cid, size, license = 'OpenSource', modelType = 'Embedding') {
  const { events, error } = await submit(
    api, api.tx.modelRegistry.registerModel(name, cid, modelType, 'Onnx', size, license, 'Apache-2.0'), owner,
  );
  assert.equal(error, null);
  return findEvent(events, 'modelRegistry', 'ModelRegistered').data.modelId.toNumber();
}

/** Adds `packageDir` to the node's store and registers it for `owner` with `metadata`, an
 * optional per-call `price`, served by `provider` (if given); returns the model id. */
export async function publishModel(api, node, packageDir, { owner, provider, price = 0n, name, modelType, metadata }) {
  const cid = storage(node, 'add', '-r', packageDir);
  const { bytes } = JSON.parse(storage(node, 'stat', cid));
  const modelId = await registerModel(api, owner, name, cid, bytes, 'OpenSource', modelType);
  const steps = [
    [api.tx.modelRegistry.setMetadata(modelId, metadata), owner],
    ...(price > 0n ? [[api.tx.inference.setPrice(modelId, price), owner]] : []),
    ...(provider ? [[api.tx.inference.serveModel(modelId), provider]] : []),
  ];
  for (const [tx, signer] of steps) assert.equal((await submit(api, tx, signer)).error, null);
  return modelId;
}

/** Adds `packageDir` to the node's store and registers it for `owner` with MiniLM's metadata
 * (2 GFLOPs), an optional per-call `price`, served by `provider`; returns the model id. */
export const publishEmbeddingModel = (api, node, packageDir, { owner, provider, price = 0n, name }) =>
  publishModel(api, node, packageDir, {
    owner, provider, price, name, modelType: 'Embedding', metadata: embeddingMetadata(2_000_000_000),
  });

/** A new directory holding EfficientNet-Lite0 (ImageNet-1k, ONNX) and its preprocessor_config.json as a package. */
export function efficientnetPackageDir() {
  const onnx = path.join(modelsDir, 'efficientnet-lite0', 'model.onnx');
  assert.ok(fs.existsSync(onnx), `run scripts/fetch-models.py first (${onnx})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-efficientnet-'));
  fs.copyFileSync(onnx, path.join(dir, 'model.onnx'));
  // The model's input has symbolic height and width: its preprocessing (TF-Lite's, pixels
  // scaled to ±1 at 224²) goes with it as Hugging Face writes it.
  fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), `${JSON.stringify({
    size: { height: 224, width: 224 }, resample: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
  }, null, 2)}\n`);
  return dir;
}

/** Image-classification metadata for EfficientNet-Lite0 (0.8 GFLOPs). */
export const imageClassifierMetadata = () => ({
  description: 'EfficientNet-Lite0, ImageNet-1k',
  task: 'ImageClassification',
  inputs: [],
  outputs: [],
  parameterCount: 4_700_000,
  flopsPerInference: 800_000_000,
  minMemoryBytes: 60_000_000,
  tags: ['vision', 'imagenet'],
  documentation: 'https://github.com/RangiLyu/EfficientNet-Lite',
  tokenizerCid: null,
  importAttestation: null,
});
