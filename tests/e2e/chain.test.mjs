// End-to-end: the dev chain itself — blocks, finality, token metadata, metrics, runtime.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDevNode } from './lib/node.mjs';

let node;
let api;

before(async () => {
  node = await startDevNode();
  api = node.api;
});

after(async () => {
  await node?.stop();
});

test('the dev chain produces and finalises blocks', async () => {
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  const deadline = Date.now() + 60_000;
  let finalized = 0;
  let best = start;
  while ((best < start + 2 || finalized < 1) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    best = (await api.rpc.chain.getHeader()).number.toNumber();
    const finalizedHash = await api.rpc.chain.getFinalizedHead();
    finalized = (await api.rpc.chain.getHeader(finalizedHash)).number.toNumber();
  }
  assert.ok(best >= start + 2, `blocks advanced from ${start} to ${best}`);
  assert.ok(finalized >= 1, 'GRANDPA finalised a block');
});

test('chain properties name the CTR token with 18 decimals', async () => {
  const properties = await api.rpc.system.properties();
  assert.equal(properties.tokenSymbol.unwrap()[0].toString(), 'CTR');
  assert.equal(properties.tokenDecimals.unwrap()[0].toNumber(), 18);
  assert.equal(api.runtimeVersion.specName.toString(), 'citrate');
  assert.equal((await api.rpc.system.chain()).toString(), 'Citrate Development');
});

test('the runtime has the model registry and pallet-revive with EVM bytecode allowed', async () => {
  assert.ok(api.tx.modelRegistry.registerModel);
  assert.ok(api.tx.revive.instantiateWithCode);
  assert.equal(api.consts.revive.allowEVMBytecode.toString(), 'true');
  assert.equal(api.consts.revive.nativeToEthRatio.toNumber(), 1);
  assert.equal(api.consts.modelRegistry.maxNameLength.toNumber(), 64);
});

test('Prometheus metrics are served on loopback', async () => {
  const response = await fetch(node.prometheusUrl);
  assert.equal(response.status, 200);
  const body = await response.text();
  assert.match(body, /substrate_block_height\{status="best"/);
});
