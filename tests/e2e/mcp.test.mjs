// End-to-end: AI agents reach Citrate through the Model Context Protocol. A `--dev` node holds
// MiniLM (feature extraction, priced, served by Alice) and EfficientNet-Lite0 (image
// classification); `citrate-node mcp` serves them to the official TypeScript MCP client
// (@modelcontextprotocol/sdk) over stdio and over streamable HTTP with a bearer token: every
// model is a resource whose card matches the chain, the templates resolve by id and by name,
// search_models filters by task, tag, name, license and price, and bad requests come back as
// errors an agent can act on. The HTTP endpoint refuses requests without the token or with a
// browser Origin.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, nodeBinary, startDevNode } from './lib/node.mjs';
import {
  efficientnetPackageDir, imageClassifierMetadata, minilmPackageDir, publishEmbeddingModel, publishModel,
} from '../../scripts/lib/models.mjs';

const UNITS = 10n ** 18n;
const TOKEN = 'e2e-token-0123456789abcdef';

let node;
let minilm;
let efficientnet;
let alice;
const dirs = [];

before(async () => {
  node = await startDevNode();
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  const minilmDir = minilmPackageDir();
  const efficientnetDir = efficientnetPackageDir();
  dirs.push(minilmDir, efficientnetDir);
  minilm = await publishEmbeddingModel(node.api, node, minilmDir, {
    owner: alice, provider: alice, price: UNITS / 2n, name: 'minilm-embeddings',
  });
  efficientnet = await publishModel(node.api, node, efficientnetDir, {
    owner: alice, name: 'efficientnet-lite0', modelType: 'Vision', metadata: imageClassifierMetadata(),
  });
});

after(async () => {
  await node?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The checks every transport must pass, on a connected client. */
async function agentChecks(client) {
  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  assert.deepEqual(uris, [`citrate://models/${minilm}`, `citrate://models/${efficientnet}`]);
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
  assert.deepEqual(await search({}), [minilm, efficientnet]);
  assert.deepEqual(await search({ task: 'image-classification' }), [efficientnet]);
  assert.deepEqual(await search({ tag: 'embeddings' }), [minilm]);
  assert.deepEqual(await search({ name: 'MINILM' }), [minilm]);
  assert.deepEqual(await search({ license: 'apache-2.0' }), [minilm, efficientnet]);
  assert.deepEqual(await search({ license: 'MIT' }), []);
  assert.deepEqual(await search({ max_price: 0.4 }), [efficientnet], 'MiniLM costs more than 0.5 CTR a call');

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
  test('resources and tools agree with the chain', async () => {
    const client = new Client({ name: 'citrate-e2e', version: '1.0.0' });
    await client.connect(new StdioClientTransport({
      command: nodeBinary(), args: ['mcp', '--rpc', node.rpcUrl], stderr: 'pipe',
    }));
    try {
      assert.equal(client.getServerVersion().name, 'citrate');
      assert.ok(client.getServerCapabilities().resources.listChanged);
      await agentChecks(client);
    } finally {
      await client.close();
    }
  });
});

describe('over streamable HTTP', () => {
  let server;
  let url;

  before(async () => {
    const port = await freePort();
    server = spawn(nodeBinary(), ['mcp', '--rpc', node.rpcUrl, '--http', `127.0.0.1:${port}`, '--token', TOKEN],
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
