// End-to-end: a Solidity contract compiled with npm solc, deployed as EVM bytecode through
// pallet-revive on a real `citrate-node --dev`, called, and its state read back.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { AbiCoder, Interface } from 'ethers';
import { compileFile } from '../../scripts/lib/solc.mjs';
import { startDevNode } from './lib/node.mjs';
import { limitsFor, revertBit, view as viewAs } from './lib/revive.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts');

let node;
let api;
let alice;
let counter;

before(async () => {
  node = await startDevNode();
  api = node.api;
  alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  counter = compileFile(path.join(contractsDir, 'RequestCounter.sol')).RequestCounter;
});

after(async () => {
  await node?.stop();
});

const view = (address, iface, fn, args = []) => viewAs(api, alice.address, address, iface, fn, args);

test('(d) solc-compiled EVM bytecode deploys, runs and keeps its state', async () => {
  const iface = new Interface(counter.abi);
  assert.ok(counter.bytecode.length > 2, 'solc produced EVM bytecode');

  // EVM init code carries its constructor arguments; pallet-revive takes empty `data`.
  const code = counter.bytecode + AbiCoder.defaultAbiCoder().encode(['string'], ['citrate-e2e']).slice(2);
  const deployDryRun = await api.call.reviveApi.instantiate(
    alice.address, 0, null, null, { Upload: code }, '0x', null,
  );
  const deployLimits = limitsFor(deployDryRun);
  assert.equal(revertBit(deployDryRun.result.asOk.result.flags), 0, 'constructor reverted');
  const deploy = await submit(
    api,
    api.tx.revive.instantiateWithCode(0, deployLimits.weight, deployLimits.deposit, code, '0x', null),
    alice,
  );
  assert.equal(deploy.error, null, JSON.stringify(deploy.error));
  const instantiated = findEvent(deploy.events, 'revive', 'Instantiated');
  assert.ok(instantiated, 'Instantiated emitted');
  const address = instantiated.data.contract.toHex();
  const aliceEvm = (await api.call.reviveApi.address(alice.address)).toHex();
  assert.equal(instantiated.data.deployer.toHex(), aliceEvm);

  // The code stored on chain is the EVM runtime code solc produced.
  assert.equal((await view(address, iface, 'label'))[0], 'citrate-e2e');

  // Two real transactions calling request(42).
  const data = iface.encodeFunctionData('request', [42]);
  for (const expectedTotal of [1n, 2n]) {
    const callLimits = limitsFor(
      await api.call.reviveApi.call(alice.address, address, 0, null, null, data),
    );
    const call = await submit(
      api, api.tx.revive.call(address, 0, callLimits.weight, callLimits.deposit, data), alice,
    );
    assert.equal(call.error, null, JSON.stringify(call.error));
    const emitted = findEvent(call.events, 'revive', 'ContractEmitted');
    assert.ok(emitted, 'the contract emitted a log');
    assert.equal(emitted.data.contract.toHex(), address);
    const log = iface.parseLog({
      topics: emitted.data.topics.map((t) => t.toHex()),
      data: u8aToHex(emitted.data.data.toU8a(true)),
    });
    assert.equal(log.name, 'Requested');
    assert.equal(log.args.modelId, 42n);
    assert.equal(log.args.caller.toLowerCase(), aliceEvm);
    assert.equal(log.args.total, expectedTotal);
  }

  // State read back through the runtime API.
  assert.equal((await view(address, iface, 'requests', [42]))[0], 2n);
  assert.equal((await view(address, iface, 'requests', [7]))[0], 0n);
  assert.equal((await view(address, iface, 'lastCaller'))[0].toLowerCase(), aliceEvm);
});
