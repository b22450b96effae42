#!/usr/bin/env node
// Measures the seed's success metrics on a running chain whose models are served (e.g.
// `./scripts/dev.sh --with-models`): drives at least 100 inference requests across every
// served model, from several accounts at once, and prints models registered, model types,
// requests served, request→result latency (blocks and seconds, p50/p95), and each model's
// engine latency (`citrate-infer` on the package from the node's store, the same input)
// against the seed's "< 2 s inference" target.
//
//   node scripts/zoo-metrics.mjs [--rpc ws://127.0.0.1:9944] [--base-path DIR] [--requests 110]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { CID } from 'multiformats/cid';
import { inferBinary } from './lib/binaries.mjs';
import { storage } from './lib/models.mjs';
import { findEvent, submit } from './lib/tx.mjs';
import { DType, encodeTensors } from '../tests/e2e/lib/tensor.mjs';

const { values: args } = parseArgs({
  options: {
    rpc: { type: 'string', default: 'ws://127.0.0.1:9944' },
    'base-path': { type: 'string', default: path.join(process.env.TMPDIR ?? os.tmpdir(), 'citrate-dev') },
    requests: { type: 'string', default: '110' },
  },
});
const TOTAL = Number(args.requests);
const UNITS = 10n ** 18n;
const ASSETS = path.resolve(import.meta.dirname, '../crates/inference/tests/assets');
const SENTENCES = [
  'A man is playing a guitar.', 'The stock market fell sharply today.', 'Citrate runs models on chain.',
  'A cat sleeps on the sofa.', 'Rain is expected tomorrow afternoon.',
];
const IMAGES = ['chelsea.jpg', 'coffee.jpg'];
const percentile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))];
};
const bytesTensor = (name, data) => ({ name, dtype: DType.U8, shape: [data.length], data });
const text = (s) => new TextEncoder().encode(s);

/** One second of 16 kHz audio: a 440 Hz tone (no speech corpus ships with the repository). */
function tone() {
  const data = new Uint8Array(16_000 * 4);
  const view = new DataView(data.buffer);
  for (let i = 0; i < 16_000; i++) view.setFloat32(4 * i, 0.1 * Math.sin((2 * Math.PI * 440 * i) / 16_000), true);
  return { name: 'samples', dtype: DType.F32, shape: [16_000], data };
}

/** The request input for request number `n` of a model, as tensors, and the matching
 * `citrate-infer` arguments (for the engine latency). */
function inputFor(model, n) {
  switch (model.task) {
    case 'FeatureExtraction': case 'TextClassification': {
      const sentence = SENTENCES[n % SENTENCES.length];
      return { tensors: [bytesTensor('text', text(sentence))], infer: ['--text', sentence] };
    }
    case 'ImageClassification': case 'Ocr': {
      const file = path.join(ASSETS, model.task === 'Ocr' ? 'ocr-text.png' : IMAGES[n % IMAGES.length]);
      return { tensors: [bytesTensor('image', fs.readFileSync(file))], infer: ['--input', file] };
    }
    case 'SpeechToText': case 'VoiceActivity': {
      const samples = tone();
      const wav = path.join(os.tmpdir(), 'citrate-metrics-tone.wav');
      writeWav(wav, samples);
      return { tensors: [samples], infer: ['--input', wav] };
    }
    case 'FillMask': {
      const sentence = 'The capital of France is [MASK].';
      return { tensors: [bytesTensor('text', text(sentence))], infer: ['--text', sentence] };
    }
    case 'ZeroShotImageClassification': {
      const file = path.join(ASSETS, IMAGES[n % IMAGES.length]);
      const labels = ['a cat', 'a dog', 'a diagram'];
      const width = Math.max(...labels.map((l) => l.length));
      const rows = new Uint8Array(labels.length * width);
      labels.forEach((l, i) => rows.set(text(l), i * width));
      return {
        tensors: [bytesTensor('image', fs.readFileSync(file)), { name: 'labels', dtype: DType.U8, shape: [labels.length, width], data: rows }],
        infer: ['--input', file, ...labels.flatMap((l) => ['--text', l])],
      };
    }
    case 'TextGeneration': case 'Text2TextGeneration': {
      const prompt = model.task === 'TextGeneration' ? 'The capital of France is' : 'translate English to German: The house is wonderful.';
      const maxTokens = new Uint8Array(8);
      new DataView(maxTokens.buffer).setBigInt64(0, 8n, true);
      return {
        tensors: [bytesTensor('prompt', text(prompt)), { name: 'max_tokens', dtype: DType.I64, shape: [], data: maxTokens }],
        infer: ['--prompt', prompt, '--max-tokens', '8'],
      };
    }
    case 'RawTensors': {
      const tensors = model.inputs.map((spec) => {
        const shape = spec.dims.map((d, i) => (d.isFixed ? d.asFixed.toNumber() : i === 0 ? 1 : 64));
        const elements = shape.reduce((a, b) => a * b, 1);
        const size = [4, 2, 2, 8, 1, 1, 2, 4, 8, 1][spec.dtype.index];
        return { name: spec.name.toUtf8(), dtype: spec.dtype.index, shape, data: new Uint8Array(elements * size) };
      });
      const file = path.join(os.tmpdir(), `citrate-metrics-${model.id}.cten`);
      fs.writeFileSync(file, encodeTensors(tensors));
      return { tensors, infer: ['--input', file] };
    }
    default:
      throw new Error(`no input for ${model.task}`);
  }
}

function writeWav(file, samples) {
  const pcm = new Int16Array(samples.shape[0]);
  const view = new DataView(samples.data.buffer);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(view.getFloat32(4 * i, true) * 32767);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0); header.writeUInt32LE(36 + pcm.byteLength, 4); header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); header.writeUInt16LE(1, 20); header.writeUInt16LE(1, 22);
  header.writeUInt32LE(16_000, 24); header.writeUInt32LE(32_000, 28); header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34); header.write('data', 36); header.writeUInt32LE(pcm.byteLength, 40);
  fs.writeFileSync(file, Buffer.concat([header, Buffer.from(pcm.buffer)]));
}

const api = await ApiPromise.create({ provider: new WsProvider(args.rpc), noInitWarn: true });
try {
  // Every registered, active model with metadata and a provider.
  const models = [];
  const registered = await api.query.modelRegistry.models.entries();
  for (const [key, info] of registered) {
    const id = key.args[0].toNumber();
    const model = info.unwrap();
    const metadata = await api.query.modelRegistry.metadata(id);
    const providers = await api.query.inference.providersOf(id);
    if (metadata.isNone || providers.length === 0 || !model.status.isActive) continue;
    const m = metadata.unwrap().metadata;
    models.push({
      id, name: model.name.toUtf8(), cid: model.cid.toUtf8(), type: model.modelType.toString(),
      task: m.task.toString(), inputs: m.inputs, owner: model.owner.toString(),
      open: model.license.kind.isOpenSource,
    });
  }
  models.sort((a, b) => a.id - b.id);
  assert.ok(models.length > 0, 'no served models: start the chain with ./scripts/dev.sh --with-models');
  console.error(`${registered.length} models registered, ${models.length} served; sending ${TOTAL} requests`);

  // Requests round-robin over the models, each account sending its share one after another.
  // Models under licenses other than open source need access bought from their owner (the
  // access pallet's tiers); their owner (Alice, for the zoo) calls them here.
  const keyring = new Keyring({ type: 'sr25519' });
  const senders = ['//Bob', '//Charlie', '//Dave', '//Ferdie', '//Alice'].map((uri) => keyring.addFromUri(uri));
  const alice = senders.length - 1;
  const jobs = Array.from({ length: TOTAL }, (_, n) => ({ n, model: models[n % models.length] }));
  jobs.forEach((job) => {
    job.sender = job.model.open ? job.n % alice : alice;
    assert.ok(job.model.open || job.model.owner === senders[alice].address,
      `${job.model.name} needs access bought from its owner ${job.model.owner}`);
  });
  const results = [];
  // Inputs over the chain's inline limit go by the CID of a file in the node's store.
  const maxInline = api.consts.inference.maxInputLen.toNumber();
  const node = { basePath: args['base-path'] };
  const request = (job) => {
    const bytes = encodeTensors(inputFor(job.model, job.n).tensors);
    if (bytes.length <= maxInline) return api.tx.inference.requestInference(job.model.id, u8aToHex(bytes), 1000n * UNITS);
    const file = path.join(os.tmpdir(), `citrate-metrics-input-${job.n}.cten`);
    fs.writeFileSync(file, bytes);
    const cid = CID.parse(storage(node, 'add', '--cid-version', '1', file)).toV1();
    fs.rmSync(file);
    return api.tx.inference.requestInferenceCid(job.model.id, u8aToHex(cid.bytes), 1000n * UNITS);
  };
  // Each request's receipt is looked for at every new block from the moment it is sent, so
  // "seconds" is submission to result, inclusion of both included.
  const pending = new Map();
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async () => {
    const waiting = [...pending.values()];
    if (waiting.length === 0) return;
    const receipts = await api.query.inference.receipts.multi(waiting.map((r) => r.id));
    receipts.forEach((receipt, i) => {
      const r = waiting[i];
      if (receipt.isNone || !pending.has(r.id)) return;
      pending.delete(r.id);
      const { requestedAt, answeredAt, outcome } = receipt.unwrap();
      r.seen = Date.now();
      r.blocks = answeredAt.toNumber() - requestedAt.toNumber();
      r.ok = outcome.isOutput || outcome.isStored;
      if (!r.ok) r.failure = outcome.toHuman();
    });
  });
  await Promise.all(senders.map(async (sender, s) => {
    for (const job of jobs.filter((j) => j.sender === s)) {
      for (let attempt = 0; ; attempt++) {
        const sent = Date.now();
        const { events, error } = await submit(api, request(job), sender);
        // A provider at capacity for this block takes the request in a later one.
        if (error?.name === 'AtCapacity' && attempt < 20) continue;
        assert.equal(error, null, `${job.model.name}: ${error?.section}.${error?.name}`);
        const id = findEvent(events, 'inference', 'InferenceRequested').data.requestId.toNumber();
        const r = { ...job, id, sent };
        results.push(r);
        pending.set(id, r);
        break;
      }
    }
  }));
  const deadline = Date.now() + 20 * 60_000;
  while (pending.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
  unsubscribe();

  // Engine latency: the same input through citrate-infer on the package in the node's store.
  const store = path.join(args['base-path'], 'ipfs');
  const engine = new Map();
  for (const model of models) {
    const { infer } = inputFor(model, 0);
    const task = { FeatureExtraction: 'feature-extraction', TextClassification: 'text-classification',
      ImageClassification: 'image-classification', Ocr: 'ocr', SpeechToText: 'speech-to-text',
      VoiceActivity: 'voice-activity', TextGeneration: 'text-generation', RawTensors: 'raw-tensors',
      FillMask: 'fill-mask', Text2TextGeneration: 'text2text-generation',
      ZeroShotImageClassification: 'zero-shot-image-classification' }[model.task];
    try {
      const out = JSON.parse(execFileSync(inferBinary(),
        ['--task', task, '--cid', model.cid, '--store', store, ...infer], { timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
      engine.set(model.id, out);
    } catch (e) {
      engine.set(model.id, { error: e.stderr?.toString().trim() ?? String(e) });
    }
  }

  const served = results.filter((r) => r.ok);
  const blocks = served.map((r) => r.blocks);
  const seconds = served.map((r) => (r.seen - r.sent) / 1000);
  console.log('\nSeed success metrics (this chain, this machine)\n');
  console.log(`models registered        ${registered.length} (${models.length} served)`);
  console.log(`model types              ${new Set(models.map((m) => m.type)).size} (${[...new Set(models.map((m) => m.type))].join(', ')}); tasks ${new Set(models.map((m) => m.task)).size}`);
  console.log(`requests served          ${served.length} of ${results.length} sent (${results.filter((r) => r.ok === false).length} failed, ${results.filter((r) => r.blocks === undefined).length} unanswered)`);
  for (const r of results.filter((x) => x.ok === false).slice(0, 3)) console.log(`  failed: ${r.model.name}: ${JSON.stringify(r.failure)}`);
  console.log(`request→result blocks    p50 ${percentile(blocks, 0.5)}, p95 ${percentile(blocks, 0.95)}`);
  console.log(`request→result seconds   p50 ${percentile(seconds, 0.5).toFixed(1)}, p95 ${percentile(seconds, 0.95).toFixed(1)} (submission to receipt seen, inclusion included)`);
  console.log('\n| model | task | requests | served | blocks p50 | engine run (ms) | < 2 s |\n|---|---|---|---|---|---|---|');
  for (const model of models) {
    const mine = results.filter((r) => r.model.id === model.id);
    const ok = mine.filter((r) => r.ok);
    const e = engine.get(model.id);
    const run = e.run_ms === undefined ? `error: ${e.error}` : e.run_ms.toFixed(0);
    console.log(`| ${model.name} | ${model.task} | ${mine.length} | ${ok.length} | ${ok.length ? percentile(ok.map((r) => r.blocks), 0.5) : '—'} | ${run} | ${e.run_ms === undefined ? '—' : e.run_ms < 2000 ? 'yes' : 'no'} |`);
  }
} finally {
  await api.disconnect();
}
