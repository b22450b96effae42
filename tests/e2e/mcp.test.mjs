// End-to-end: AI agents reach Citrate through the Model Context Protocol. A `--dev` node holds
// MiniLM (feature extraction, priced, served by Alice) and EfficientNet-Lite0 (image
// classification, served by Alice); `citrate-node mcp` serves them to the official TypeScript
// MCP client (@modelcontextprotocol/sdk) over stdio and over streamable HTTP with a bearer
// token: every model is a resource whose card matches the chain, the templates resolve by id
// and by name, search_models filters by task, tag, name, license and price, run_inference
// (paid by Bob, within the server's caps) returns what the engine computes for the same input
// with a receipt that matches the chain, a task-based call reports blocks and cancels the
// request on chain, list_changed follows the registry, and every refusal is an error an agent
// can act on. The HTTP endpoint refuses requests without the token or with a browser Origin.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import * as z from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { freePort, inferBinary, nodeBinary, startDevNode } from './lib/node.mjs';
import {
  efficientnetPackageDir, imageClassifierMetadata, minilmPackageDir, modelsDir, publishEmbeddingModel, publishModel, storage,
} from '../../scripts/lib/models.mjs';
import { submit } from '../../scripts/lib/tx.mjs';

const UNITS = 10n ** 18n;
const TOKEN = 'e2e-token-0123456789abcdef';
const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
const chelsea = path.resolve(import.meta.dirname, '../../crates/inference/tests/assets/chelsea.jpg');
const SENTENCES = ['A man is eating food.', 'A man is eating a piece of bread.'];

let node;
let minilm;
let efficientnet;
let unserved;
let alice;
let bob;
let minilmDir;
let efficientnetDir;
const dirs = [];

before(async () => {
  node = await startDevNode();
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
  const charlie = keyring.addFromUri('//Charlie');
  minilmDir = minilmPackageDir();
  efficientnetDir = efficientnetPackageDir();
  dirs.push(minilmDir, efficientnetDir);
  minilm = await publishEmbeddingModel(node.api, node, minilmDir, {
    owner: alice, provider: alice, price: UNITS / 2n, name: 'minilm-embeddings',
  });
  efficientnet = await publishModel(node.api, node, efficientnetDir, {
    owner: alice, provider: alice, name: 'efficientnet-lite0', modelType: 'Vision', metadata: imageClassifierMetadata(),
  });
  // Served only by Charlie, whose provider key no node holds: its requests stay open.
  const charlieKey = keyring.addFromUri('//Charlie//never-answers');
  assert.equal((await submit(node.api,
    node.api.tx.inference.registerProvider(100n * UNITS, u8aToHex(charlieKey.publicKey), 'Cpu', 10), charlie)).error, null);
  unserved = await publishEmbeddingModel(node.api, node, minilmCopy('unanswered'), {
    owner: alice, provider: charlie, name: 'minilm-unanswered',
  });
});

/** Another MiniLM package (a CID is registered once): the same model with a note added. */
function minilmCopy(note) {
  const dir = minilmPackageDir();
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'NOTE.txt'), note);
  return dir;
}

/** `citrate-node mcp` over stdio for `client`, paying with Bob's account. */
const stdioServer = (...flags) => new StdioClientTransport({
  command: nodeBinary(),
  args: ['mcp', '--rpc', node.rpcUrl, '--gateway', node.gatewayUrl, ...flags],
  stderr: 'pipe',
});
/** Bob pays, at most 2 CTR a call and 10 in all; large inputs go to the node's store. */
const paying = () => ['--suri', '//Bob', '--max-fee-per-call', '2', '--max-spend', '10', '--base-path', node.basePath];

/** What the engine computes for the same files and input. */
const engine = (...args) => JSON.parse(execFileSync(inferBinary(), args, { timeout: 300_000 }).toString());

/** Calls a tool that must succeed; returns its structured content. */
async function call(client, name, args, options) {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

/** Calls a tool that must fail; returns its error text. */
async function refusal(client, name, args, options) {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
  return result.content[0].text;
}

/** A receipt the MCP server returned must be the chain's, final and checked. */
async function assertReceiptOnChain(receipt, { modelId, outputHash }) {
  const onChain = (await node.api.query.inference.receipts(receipt.request_id)).unwrap();
  assert.equal(receipt.model_id, modelId);
  assert.equal(onChain.modelId.toNumber(), modelId);
  assert.equal(receipt.requester, bob.address);
  assert.equal(onChain.requester.toString(), bob.address);
  assert.equal(receipt.output_hash, onChain.outputHash.unwrap().toHex());
  assert.equal(receipt.output_hash, outputHash, 'the engine hashes the same output');
  assert.equal(receipt.input_hash, onChain.inputHash.toHex());
  assert.deepEqual(receipt.providers.map((p) => p.account), [alice.address]);
  assert.equal(receipt.providers[0].signature, onChain.providers[0][1].toHex());
  assert.equal(receipt.answered_at, onChain.answeredAt.toNumber());
  assert.equal(receipt.price_paid.plancks, onChain.pricePaid.toString());
  assert.equal(receipt.compute_fee.plancks, onChain.computeFee.toString());
  assert.deepEqual(receipt.checks, { final: true, signed_by_every_provider: true, output_matches_hash: true });
  const finalized = await node.api.rpc.chain.getHeader(await node.api.rpc.chain.getFinalizedHead());
  assert.ok(receipt.finalized.block <= finalized.number.toNumber());
}

after(async () => {
  await node?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The checks every transport must pass, on a connected client. */
async function agentChecks(client) {
  // Every registered model, in id order (later tests register more).
  const next = (await node.api.query.modelRegistry.nextModelId()).toNumber();
  const all = Array.from({ length: next - 1 }, (_, i) => i + 1);
  const tagged = [];
  for (const id of all) {
    const record = await node.api.query.modelRegistry.metadata(id);
    if (record.isSome && record.unwrap().metadata.tags.some((t) => t.toUtf8() === 'embeddings')) tagged.push(id);
  }
  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  assert.deepEqual(uris, all.map((id) => `citrate://models/${id}`));
  assert.equal(resources[0].name, 'minilm-embeddings (v1)');
  assert.equal(resources[0].mimeType, 'application/json');

  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate),
    ['citrate://models/{id}', 'citrate://models/by-name/{name}']);

  // The card says what the chain holds.
  const { contents } = await client.readResource({ uri: `citrate://models/${minilm}` });
  const card = JSON.parse(contents[0].text);
  const chainModel = (await node.api.query.modelRegistry.models(minilm)).unwrap();
  assert.equal(card.id, minilm);
  assert.equal(card.name, 'minilm-embeddings');
  assert.equal(card.package_cid, chainModel.cid.toUtf8());
  assert.equal(card.size_bytes, chainModel.sizeBytes.toNumber());
  assert.equal(card.task, 'feature-extraction');
  assert.equal(card.model_type, 'Embedding');
  assert.deepEqual(card.license, { id: 'Apache-2.0', kind: 'OpenSource' });
  assert.equal(card.description, 'all-MiniLM-L6-v2 sentence embeddings (int8)');
  assert.deepEqual(card.tags, ['embeddings']);
  assert.deepEqual(card.inputs, [{ name: 'text', form: 'one text or a list of texts', required: true }]);
  assert.deepEqual(card.price_per_call, { plancks: (UNITS / 2n).toString(), ctr: '0.5' });
  assert.deepEqual(card.providers, [alice.address]);
  assert.deepEqual(card.pinners, [], 'no bonded pinner holds it');
  assert.equal(card.outputs, 'embeddings: {dims, values}, one vector of `dims` values per text, in order');
  assert.equal(card.owner, alice.address);
  assert.equal(card.verification, 'Single');
  assert.deepEqual(card.versions, [minilm]);

  const byName = await client.readResource({ uri: 'citrate://models/by-name/efficientnet-lite0' });
  assert.equal(JSON.parse(byName.contents[0].text).id, efficientnet);
  await assert.rejects(client.readResource({ uri: 'citrate://models/999' }),
    (error) => error.code === -32002 && /no model 999/.test(error.message));

  // search_models filters on the card.
  const search = async (args) => {
    const result = await client.callTool({ name: 'search_models', arguments: args });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    return result.structuredContent.models.map((m) => m.id);
  };
  assert.deepEqual(await search({}), all);
  assert.deepEqual(await search({ task: 'image-classification' }), [efficientnet]);
  assert.deepEqual(await search({ tag: 'embeddings' }), tagged);
  assert.ok(tagged.includes(minilm) && !tagged.includes(efficientnet));
  assert.deepEqual(await search({ name: 'MINILM-EMB' }), [minilm]);
  assert.deepEqual(await search({ license: 'apache-2.0' }), all);
  assert.deepEqual(await search({ license: 'MIT' }), []);
  assert.deepEqual(await search({ max_price: 0.4 }), all.filter((id) => id !== minilm), 'MiniLM costs more than 0.5 CTR a call');

  // Errors an agent can act on.
  const unknownTask = await client.callTool({ name: 'search_models', arguments: { task: 'teleportation' } });
  assert.equal(unknownTask.isError, true);
  assert.match(unknownTask.content[0].text, /^unknown task `teleportation`; tasks are: feature-extraction, /);
  const missing = await client.callTool({ name: 'get_model', arguments: { model_id: 999 } });
  assert.equal(missing.isError, true);
  assert.equal(missing.content[0].text, 'no model 999 is registered; search_models lists the registered ones');
  const found = await client.callTool({ name: 'get_model', arguments: { name: 'minilm-embeddings' } });
  assert.equal(found.structuredContent.id, minilm);
}

describe('over stdio', () => {
  test('resources and tools agree with the chain; without a signer nothing is paid', async () => {
    const client = new Client({ name: 'citrate-e2e', version: '1.0.0' });
    await client.connect(stdioServer());
    try {
      assert.equal(client.getServerVersion().name, 'citrate');
      assert.ok(client.getServerCapabilities().resources.listChanged);
      await agentChecks(client);
      assert.equal(await refusal(client, 'run_inference', { model_id: minilm, text: 'hi' }),
        'this MCP server has no signing account, so it cannot pay for requests: start it with --suri or --key-file');
    } finally {
      await client.close();
    }
  });

  test('run_inference returns the engine\'s result with a receipt the chain holds, within the caps', async () => {
    const client = new Client({ name: 'citrate-e2e', version: '1.0.0' });
    const changes = [];
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => changes.push(Date.now()));
    await client.connect(stdioServer(...paying()));
    try {
      // Prompts for the common flows.
      const { prompts } = await client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name), ['classify-image', 'compare-texts', 'transcribe-audio', 'verify-result']);
      const compare = await client.getPrompt({ name: 'compare-texts', arguments: { texts: SENTENCES.join('\n') } });
      assert.match(compare.messages[0].content.text, /^Compare these texts by meaning, one per line:\nA man is eating food\.\nA man/);

      // Text: both sentences' embeddings, as the engine computes them; the receipt is the chain's.
      const [card] = (await call(client, 'search_models', { name: 'minilm-embeddings' })).models;
      const text = await call(client, 'run_inference', { model_id: minilm, text: SENTENCES });
      const textEngine = engine('--task', 'feature-extraction', '--dir', minilmDir, '--text', SENTENCES[0], '--text', SENTENCES[1]);
      assert.equal(text.task, 'feature-extraction');
      assert.deepEqual(text.result, textEngine.output);
      assert.equal(text.result.dims, 384);
      await assertReceiptOnChain(text.receipt, { modelId: minilm, outputHash: textEngine.output_hash });
      assert.equal(text.receipt.price_paid.ctr, '0.5');
      assert.equal(BigInt(text.receipt.price_paid.plancks) + BigInt(text.receipt.compute_fee.plancks),
        BigInt(card.fee_per_call.plancks));
      assert.equal(text.spending.spent_or_reserved.plancks, card.fee_per_call.plancks);
      assert.deepEqual(await call(client, 'get_receipt', { request_id: text.receipt.request_id }), text.receipt);

      // An input over the chain's inline limit (256 KiB) goes to the node's store, by CID. The
      // model reads its first 256 tokens: those of the first 222 sentences.
      const sentence = 'The quick brown fox jumps over the lazy dog. ';
      const long = await call(client, 'run_inference', { model_id: minilm, text: sentence.repeat(6000) });
      assert.match(long.receipt.input_cid, /^bafy/, 'the input was sent by CID');
      assert.deepEqual(long.result, engine('--task', 'feature-extraction', '--dir', minilmDir, '--text', sentence.repeat(222)).output);
      assert.deepEqual(long.receipt.checks, { final: true, signed_by_every_provider: true, output_matches_hash: true });

      // Image: as base64, and from IPFS by CID through the gateway, both the engine's labels.
      const imageEngine = engine('--task', 'image-classification', '--dir', efficientnetDir, '--input', chelsea);
      const image = await call(client, 'run_inference', {
        model_id: efficientnet, image: fs.readFileSync(chelsea).toString('base64'),
      });
      assert.deepEqual(image.result, imageEngine.output);
      assert.ok(image.result[0][0].name.length > 0 && !image.result[0][0].name.startsWith('class '), 'labels are named');
      await assertReceiptOnChain(image.receipt, { modelId: efficientnet, outputHash: imageEngine.output_hash });
      const cid = storage(node, 'add', chelsea);
      const byCid = await call(client, 'run_inference', { name: 'efficientnet-lite0', url: `ipfs://${cid}` });
      assert.deepEqual(byCid.result, imageEngine.output);
      assert.equal(byCid.receipt.input_hash, image.receipt.input_hash, 'the same image bytes');

      // Errors an agent can act on.
      assert.equal(await refusal(client, 'run_inference', { model_id: 999, text: 'x' }),
        'no model 999 is registered; search_models lists the registered ones');
      assert.equal(await refusal(client, 'run_inference', { model_id: minilm, image: 'aGk=' }),
        '`image` is not an input of this model: a feature-extraction model takes text');
      assert.equal(await refusal(client, 'run_inference', { model_id: efficientnet }),
        'no input given: a image-classification model takes image, url');
      assert.equal(await refusal(client, 'run_inference', { model_id: efficientnet, url: 'http://example.com/cat.jpg' }),
        'http://example.com/cat.jpg is not on this machine: only 127.0.0.1, ::1 and localhost URLs (or IPFS CIDs) are read; pass other files as base64');
      assert.match(await refusal(client, 'run_inference', { model_id: minilm, text: 'x', max_fee: 0.1 }),
        /^the fee of 0\.5\d* CTR is above the max_fee given, 0\.1 CTR$/);

      // A model that sells access: refused with its tiers, bought, then run; the registry
      // change reaches the client as list_changed.
      changes.length = 0;
      const members = await publishEmbeddingModel(node.api, node, minilmCopy('members'), { owner: alice, provider: alice, name: 'minilm-members' });
      assert.equal((await submit(node.api, node.api.tx.modelAccess.setTier(members, 0, UNITS / 5n, 100, 0), alice)).error, null);
      for (let waited = 0; changes.length === 0 && waited < 30_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
      assert.ok(changes.length > 0, 'list_changed after the registration');
      assert.ok((await client.listResources()).resources.some((r) => r.uri === `citrate://models/${members}`));
      assert.equal(await refusal(client, 'run_inference', { model_id: members, text: 'x' }),
        `no access to model ${members}: buy a tier with purchase_access (model_id ${members}, tier_id): tier 0: 0.2 CTR for 100 blocks, unlimited uses`);
      const bought = await call(client, 'purchase_access', { model_id: members, tier_id: 0 });
      assert.equal(bought.paid.ctr, '0.2');
      assert.equal(bought.uses_left, 'unlimited');
      assert.ok((await node.api.query.modelAccess.access(members, bob.address)).isSome);
      const member = await call(client, 'run_inference', { model_id: members, text: SENTENCES[0] });
      const oneEngine = engine('--task', 'feature-extraction', '--dir', minilmDir, '--text', SENTENCES[0]);
      assert.deepEqual(member.result, oneEngine.output);

      // Nobody answers: progress once per finalized block, then a timeout naming the request.
      const notes = [];
      const timedOut = await refusal(client, 'run_inference', { model_id: unserved, text: 'x', timeout_secs: 15 },
        { onprogress: (p) => notes.push(p) });
      const [, id] = timedOut.match(/^no final result after 15 s: request (\d+) stays open until block \d+; call get_receipt with request_id \1 later$/) ?? [];
      assert.ok(id, timedOut);
      assert.ok(notes.length >= 1, 'progress while waiting');
      assert.match(notes.at(-1).message, new RegExp(`^request ${id}: block \\d+, waiting for its result \\(deadline block \\d+\\)$`));
      assert.ok(notes.at(-1).total > notes.at(-1).progress);
      assert.match(await refusal(client, 'get_receipt', { request_id: Number(id) }),
        new RegExp(`^request ${id} has no result yet: it is open until block \\d+$`));
      assert.equal(await refusal(client, 'get_receipt', { request_id: 999999 }),
        'no receipt for request 999999: it was never made, ended without a result, or its receipt was removed');

      // The session cap: 10 CTR, of which about 1.7 are spent; a per-call cap of 2 CTR.
      const left = await refusal(client, 'purchase_access', { model_id: members, tier_id: 7 });
      assert.equal(left, `model ${members} has no tier 7; its tiers are [0]`);
    } finally {
      await client.close();
    }
  });

  test('a task-based call reports blocks, returns the result, and cancels on chain', async () => {
    const client = new Client({ name: 'citrate-e2e-tasks', version: '1.0.0' }, { capabilities: TASKS });
    await client.connect(stdioServer(...paying()));
    const Task = z.looseObject({
      resultType: z.string().optional(), taskId: z.string(), status: z.string(), statusMessage: z.string().optional(),
      pollIntervalMs: z.number().optional(), result: z.looseObject({}).optional(), error: z.looseObject({}).optional(),
    });
    const poll = async (taskId, until) => {
      for (let i = 0; i < 240; i++) {
        const task = await client.request({ method: 'tasks/get', params: { taskId } }, Task);
        if (until(task)) return task;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`task ${taskId} never got there`);
    };
    try {
      const done = await client.request({ method: 'tools/call', params: { name: 'run_inference', arguments: { model_id: minilm, text: SENTENCES[1] } } }, Task);
      assert.equal(done.resultType, 'task');
      assert.equal(done.status, 'working');
      const finished = await poll(done.taskId, (t) => t.status !== 'working');
      assert.equal(finished.status, 'completed', JSON.stringify(finished));
      const result = CallToolResultSchema.parse(finished.result);
      const textEngine = engine('--task', 'feature-extraction', '--dir', minilmDir, '--text', SENTENCES[1]);
      assert.deepEqual(result.structuredContent.result, textEngine.output);
      await assertReceiptOnChain(result.structuredContent.receipt, { modelId: minilm, outputHash: textEngine.output_hash });

      const open = await client.request({ method: 'tools/call', params: { name: 'run_inference', arguments: { model_id: unserved, text: 'x' } } }, Task);
      const waiting = await poll(open.taskId, (t) => /waiting for its result/.test(t.statusMessage ?? ''));
      const requestId = Number(waiting.statusMessage.match(/^request (\d+): block \d+/)[1]);
      assert.ok((await node.api.query.inference.requests(requestId)).isSome);
      await client.request({ method: 'tasks/cancel', params: { taskId: open.taskId } }, z.looseObject({}));
      const cancelled = await poll(open.taskId, (t) => t.status !== 'working');
      assert.equal(cancelled.status, 'cancelled');
      assert.ok((await node.api.query.inference.requests(requestId)).isNone, 'the request was cancelled on chain');
      assert.ok((await node.api.query.inference.receipts(requestId)).isNone);
    } finally {
      await client.close();
    }
  });
});

describe('import_model', () => {
  test('imports a repository on this machine, registered as the server\'s account', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-mcp-repo-'));
    dirs.push(repo);
    fs.mkdirSync(path.join(repo, 'onnx'));
    fs.copyFileSync(path.join(modelsDir, 'all-minilm-l6-v2-int8', 'model.onnx'), path.join(repo, 'onnx', 'model.onnx'));
    for (const file of ['tokenizer.json', 'config.json']) {
      fs.copyFileSync(path.join(modelsDir, 'all-minilm-l6-v2', file), path.join(repo, file));
    }
    fs.writeFileSync(path.join(repo, 'README.md'), '---\nlicense: apache-2.0\npipeline_tag: sentence-similarity\n---\n# MiniLM, imported by an agent\n');
    const transport = stdioServer(...paying());
    let stderr = '';
    transport.stderr.on('data', (chunk) => { stderr += chunk; });
    const client = new Client({ name: 'citrate-e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const steps = [];
      const summary = await call(client, 'import_model', { source: repo, name: 'agent-minilm' },
        { onprogress: (p) => steps.push(p.message), timeout: 600_000 });
      assert.equal(summary.outcome, 'registered');
      assert.equal(summary.task, 'feature-extraction');
      assert.equal(summary.reference_run.output, '1 embedding(s) of 384 dims');
      const model = (await node.api.query.modelRegistry.models(summary.model_id)).unwrap();
      assert.equal(model.name.toUtf8(), 'agent-minilm');
      assert.equal(model.cid.toUtf8(), summary.cid);
      assert.equal(model.owner.toString(), bob.address);
      for (const step of ['validating the package in the inference engine', 'registering the model', 'setting the metadata']) {
        assert.ok(steps.includes(step), `progress names "${step}": ${JSON.stringify(steps)}`);
      }
      const again = await call(client, 'import_model', { source: repo, name: 'agent-minilm' }, { timeout: 600_000 });
      assert.equal(again.outcome, 'already registered: nothing to do');
      assert.equal(again.model_id, summary.model_id);
      assert.match(await refusal(client, 'import_model', { source: path.join(repo, 'missing') }), /missing/);
      assert.match(await refusal(client, 'import_model', { source: repo, task: 'teleportation' }),
        /^unknown task `teleportation`; tasks are: feature-extraction, text-classification, /);
    } finally {
      await client.close();
    }
    assert.doesNotMatch(stderr, /\/\/Bob/, 'the signer\'s secret never appears in the log');
  });
});

describe('over streamable HTTP', () => {
  let server;
  let url;

  before(async () => {
    const port = await freePort();
    server = spawn(nodeBinary(), ['mcp', '--rpc', node.rpcUrl, '--gateway', node.gatewayUrl, ...paying(),
      '--http', `127.0.0.1:${port}`, '--token', TOKEN],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    url = new URL(`http://127.0.0.1:${port}/mcp`);
    let stderr = '';
    await new Promise((resolve, reject) => {
      server.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('MCP over streamable HTTP on')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`citrate-node mcp exited (${code}): ${stderr}`)));
    });
  });

  after(() => server?.kill());

  test('resources and tools agree with the chain, with the bearer token', async () => {
    const client = new Client({ name: 'citrate-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }));
    try {
      await agentChecks(client);
      // A text, and an image read from a URL on this machine, run and checked as over stdio.
      const textEngine = engine('--task', 'feature-extraction', '--dir', minilmDir, '--text', SENTENCES[1]);
      const text = await call(client, 'run_inference', { name: 'minilm-embeddings', text: SENTENCES[1] });
      assert.deepEqual(text.result, textEngine.output);
      await assertReceiptOnChain(text.receipt, { modelId: minilm, outputHash: textEngine.output_hash });
      const files = http.createServer((req, res) => res.end(fs.readFileSync(chelsea)));
      await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
      try {
        const imageEngine = engine('--task', 'image-classification', '--dir', efficientnetDir, '--input', chelsea);
        const image = await call(client, 'run_inference',
          { model_id: efficientnet, url: `http://127.0.0.1:${files.address().port}/chelsea.jpg` });
        assert.deepEqual(image.result, imageEngine.output);
        await assertReceiptOnChain(image.receipt, { modelId: efficientnet, outputHash: imageEngine.output_hash });
        assert.deepEqual(await call(client, 'get_receipt', { request_id: image.receipt.request_id }), image.receipt);
      } finally {
        files.close();
      }
    } finally {
      await client.close();
    }
  });

  test('no token, a wrong token or a browser Origin is refused', async () => {
    const initialize = (headers) => fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    const none = await initialize({});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await initialize({ authorization: 'Bearer wrong' })).status, 401);
    const browser = await initialize({ authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' });
    assert.equal(browser.status, 403);
    assert.equal((await initialize({ authorization: `Bearer ${TOKEN}` })).status, 200);
  });

  test('a non-loopback address is refused without --allow-remote', async () => {
    const run = spawn(nodeBinary(), ['mcp', '--rpc', node.rpcUrl, '--http', '0.0.0.0:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    run.stderr.on('data', (chunk) => { stderr += chunk; });
    const code = await new Promise((resolve) => run.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /--http 0\.0\.0\.0:0 is not a loopback address: pass --allow-remote to serve other machines/);
  });
});
