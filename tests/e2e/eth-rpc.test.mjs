// End-to-end: Ethereum JSON-RPC (pallet-revive-eth-rpc, as `dev.sh` runs it) in front of a real
// `citrate-node --dev`: a well-known development Ethereum key funded at genesis deploys a
// solc-compiled contract with ethers, calls it, reads its receipt and logs, and reads the
// IInference precompile.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ContractFactory, Interface, JsonRpcProvider, Wallet, Contract } from 'ethers';
import { compileFile } from '../../scripts/lib/solc.mjs';
import { freePort, startDevNode } from './lib/node.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const contractsDir = path.join(repoRoot, 'contracts');

/** Anvil's and Hardhat's first development key (mnemonic `test test … junk`). */
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const INFERENCE_ADDRESS = '0x000000000000000000000000000000000c040000';
const CHAIN_ID = 202833921n;

function ethRpcBinary() {
  const binary = process.env.CITRATE_ETH_RPC;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(`eth-rpc not found at '${binary}': run it through scripts/test.sh, which builds it`);
  }
  return binary;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let node;
let ethRpc;
let provider;
let wallet;

before(async () => {
  node = await startDevNode();
  const [port, prometheus] = [await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-eth-rpc-'));
  const log = fs.openSync(path.join(dataDir, 'eth-rpc.log'), 'a');
  ethRpc = spawn(ethRpcBinary(), [
    '--node-rpc-url', node.rpcUrl, '--rpc-port', String(port),
    '--prometheus-port', String(prometheus), '--eth-pruning', '256', '--base-path', dataDir,
  ], { stdio: ['ignore', log, log] });
  provider = new JsonRpcProvider(`http://127.0.0.1:${port}`, undefined, { staticNetwork: true, polling: true, pollingInterval: 500 });
  for (let i = 0; ; i++) {
    try {
      await provider.send('eth_chainId', []);
      break;
    } catch (error) {
      if (i > 120) throw new Error(`eth-rpc did not answer: ${error.message}`);
      await sleep(500);
    }
  }
  wallet = new Wallet(DEV_KEY, provider);
});

after(async () => {
  ethRpc?.kill('SIGINT');
  provider?.destroy();
  await node?.stop();
});

test('(e) eth-rpc serves the chain: chain id, blocks, a funded development key', async () => {
  assert.equal(BigInt(await provider.send('eth_chainId', [])), CHAIN_ID);
  assert.ok((await provider.getBlockNumber()) >= 1);
  // eth_getBalance reports what the account can spend: its endowment less the existential
  // deposit (0.001 CTR) it must keep.
  const balance = await provider.getBalance(wallet.address);
  assert.equal(balance, 1_000_000n * 10n ** 18n - 10n ** 15n, 'the dev key holds its genesis endowment');
});

test('(e) ethers deploys and calls a contract; receipts carry the logs', async () => {
  const { abi, bytecode } = compileFile(path.join(contractsDir, 'RequestCounter.sol')).RequestCounter;
  const factory = new ContractFactory(abi, bytecode, wallet);
  const counter = await factory.deploy('via eth-rpc');
  await counter.waitForDeployment();
  assert.equal(await counter.label(), 'via eth-rpc');

  const estimate = await counter.request.estimateGas(7n);
  assert.ok(estimate > 0n);
  const tx = await counter.request(7n);
  const receipt = await provider.getTransactionReceipt((await tx.wait()).hash);
  assert.equal(receipt.status, 1);
  const iface = new Interface(abi);
  const logs = receipt.logs.map((log) => iface.parseLog(log)).filter(Boolean);
  assert.deepEqual(logs.map((log) => [log.name, log.args.modelId, log.args.caller, log.args.total]),
    [['Requested', 7n, wallet.address, 1n]]);
  assert.equal(await counter.requests(7n), 1n);
});

test('(e) the IInference precompile answers eth_call', async () => {
  const { abi } = compileFile(path.join(repoRoot, 'precompiles/inference/IInference.sol')).IInference;
  const inference = new Contract(INFERENCE_ADDRESS, abi, provider);
  const [status, deadline] = await inference.status(12345n);
  assert.deepEqual([status, deadline], [0n, 0n], 'an unknown request');
  await assert.rejects(inference.estimateFee(999n, 10, 0n), /Inference\.estimateFee: NoMetadata/);
});
