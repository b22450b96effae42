// Inference on chain under load: a `citrate-node --dev` (debug build by default, $CITRATE_NODE
// for another) with Alice as the one provider of MiniLM int8, and a bounded burst of requests
// from several dev accounts. Prints a Markdown table (not a test: nothing is asserted):
// requests included and results per block, request→result in blocks and seconds (p50/p95),
// the node's CPU time per request beside the engine's own run time per request (the
// service's `citrate_inference_run_seconds`).
//
//   node scripts/bench-chain-inference.mjs [--requests 300] [--accounts 10] [--out FILE]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { minilmPackageDir, publishEmbeddingModel } from './lib/models.mjs';
import { startDevNode } from '../tests/e2e/lib/node.mjs';
import { textInput } from '../tests/e2e/lib/tensor.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    accounts: { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const UNITS = 10n ** 18n;
const SEEDS = ['Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie', 'Alice//stash', 'Bob//stash', 'Charlie//stash',
  'Dave//stash', 'Eve//stash', 'Ferdie//stash'];

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU seconds of process `pid` so far (Linux). */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

/** A metric's value on the node's endpoint (which adds a `chain` label). */
async function metric(url, name) {
  const text = await (await fetch(url)).text();
  const pattern = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`);
  const match = text.split('\n').map((l) => l.match(pattern)).find(Boolean);
  if (!match) throw new Error(`${name} is not among the node's metrics`);
  return Number(match[2]);
}

const node = await startDevNode();
const { api } = node;
const keyring = new Keyring({ type: 'sr25519' });
const alice = keyring.addFromUri('//Alice');
const packageDir = minilmPackageDir();
try {
  const modelId = await publishEmbeddingModel(api, node, packageDir, {
    owner: alice, provider: alice, name: 'bench-minilm',
  });

  // Warm the model cache with one request, so the burst measures steady state.
  const accounts = SEEDS.slice(0, Number(args.accounts)).map((s) => keyring.addFromUri(`//${s}`));
  const blocks = new Map(); // number → { time, requested, answered }
  const requested = new Map(); // request id → block number
  const answered = new Map(); // request id → block number
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const number = header.number.toNumber();
    const at = await api.at(header.hash);
    const [events, now] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
    const entry = { time: now.toNumber(), requested: 0, answered: 0 };
    for (const { event } of events) {
      if (event.section !== 'inference') continue;
      if (event.method === 'InferenceRequested') { entry.requested++; requested.set(event.data.requestId.toNumber(), number); }
      if (event.method === 'ResultSubmitted') { entry.answered++; answered.set(event.data.requestId.toNumber(), number); }
    }
    blocks.set(number, entry);
  });
  const send = (who, nonce, i) => new Promise((resolve, reject) => {
    api.tx.inference.requestInference(modelId, u8aToHex(textInput(`benchmark sentence number ${i}`)), 10n * UNITS)
      .signAndSend(who, { nonce }, ({ status }) => { if (status.isReady || status.isInBlock) resolve(); })
      .catch(reject);
  });
  await send(accounts[0], -1, -1);
  while (answered.size < 1) await sleep(500);
  const warm = answered.size;
  const runsBefore = await metric(node.prometheusUrl, 'citrate_inference_run_seconds_count');
  const runSecondsBefore = await metric(node.prometheusUrl, 'citrate_inference_run_seconds_sum');
  const cpuBefore = cpuSeconds(node.pid);
  const firstBurstId = requested.size;

  const nonces = await Promise.all(accounts.map((a) => api.rpc.system.accountNextIndex(a.address)));
  const started = Date.now();
  await Promise.all(Array.from({ length: REQUESTS }, (_, i) => {
    const k = i % accounts.length;
    return send(accounts[k], nonces[k].toNumber() + Math.floor(i / accounts.length), i);
  }));
  const deadline = Date.now() + 600_000;
  while (answered.size < warm + REQUESTS && Date.now() < deadline) await sleep(1000);
  const wall = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(node.pid) - cpuBefore;
  const runs = (await metric(node.prometheusUrl, 'citrate_inference_run_seconds_count')) - runsBefore;
  const runSeconds = (await metric(node.prometheusUrl, 'citrate_inference_run_seconds_sum')) - runSecondsBefore;
  await unsubscribe();

  const burst = [...requested.entries()].filter(([id]) => id >= firstBurstId);
  const latencyBlocks = burst.filter(([id]) => answered.has(id)).map(([id, b]) => answered.get(id) - b).sort((a, b) => a - b);
  const latencySeconds = burst.filter(([id]) => answered.has(id))
    .map(([id, b]) => (blocks.get(answered.get(id)).time - blocks.get(b).time) / 1000).sort((a, b) => a - b);
  const busy = [...blocks.values()].filter((b) => b.requested || b.answered);
  const perBlock = (key) => {
    const counts = busy.map((b) => b[key]).filter((n) => n > 0);
    return counts.length ? `${Math.max(...counts)} max, ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(1)} mean` : '0';
  };
  const table = [
    `## Inference on chain: ${REQUESTS} MiniLM int8 requests from ${accounts.length} accounts, one provider (--dev, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| measure | value |',
    '|---|---|',
    `| answered | ${latencyBlocks.length} of ${burst.length} included (${REQUESTS} sent) in ${wall.toFixed(1)} s |`,
    `| requests included per block | ${perBlock('requested')} |`,
    `| results per block | ${perBlock('answered')} |`,
    `| request→result, blocks | p50 ${quantile(latencyBlocks, 0.5)}, p95 ${quantile(latencyBlocks, 0.95)} |`,
    `| request→result, seconds (block timestamps) | p50 ${quantile(latencySeconds, 0.5)}, p95 ${quantile(latencySeconds, 0.95)} |`,
    `| node CPU time per request (all threads, whole node) | ${(1000 * cpu / REQUESTS).toFixed(1)} ms |`,
    `| engine run time per request (service histogram) | ${(1000 * runSeconds / Math.max(runs, 1)).toFixed(1)} ms over ${runs} runs |`,
    '',
  ].join('\n');
  console.log(table);
  if (args.out) fs.writeFileSync(args.out, table);
} finally {
  await node.stop();
  fs.rmSync(packageDir, { recursive: true, force: true });
}
