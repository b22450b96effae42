// End-to-end: Ethereum JSON-RPC (pallet-revive-eth-rpc, as `dev.sh` runs it) in front of a real
// `citrate-node --dev`: well-known development Ethereum keys funded at genesis deploy a
// solc-compiled contract with ethers and with viem, call it, read receipts and logs, and read
// the IInference precompile.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ContractFactory, Interface, Contract } from 'ethers';
import { compileFile } from '../../scripts/lib/solc.mjs';
import {
  createPublicClient, createWalletClient, defineChain, http, parseEventLogs,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CHAIN_ID, DEV_KEYS, INFERENCE_ADDRESS, startEthRpc } from './lib/eth.mjs';
import { startDevNode } from './lib/node.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const contractsDir = path.join(repoRoot, 'contracts');

let node;
let eth;
let provider;
let wallet;

before(async () => {
  node = await startDevNode();
  eth = await startEthRpc(node);
  ({ provider } = eth);
  [wallet] = eth.wallets;
});

after(async () => {
  eth?.stop();
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

test('(e) viem deploys, writes and reads through the same endpoint', async () => {
  const { abi, bytecode } = compileFile(path.join(contractsDir, 'RequestCounter.sol')).RequestCounter;
  const chain = defineChain({
    id: Number(CHAIN_ID), name: 'Citrate dev', nativeCurrency: { name: 'Citrate', symbol: 'CTR', decimals: 18 },
    rpcUrls: { default: { http: [eth.url] } },
  });
  const transport = http(eth.url);
  const client = createPublicClient({ chain, transport, pollingInterval: 500 });
  // The second development key, as a local account: viem signs, eth-rpc relays.
  const account = privateKeyToAccount(DEV_KEYS[1]);
  const walletClient = createWalletClient({ account, chain, transport });
  assert.equal(await client.getChainId(), Number(CHAIN_ID));

  const deployHash = await walletClient.deployContract({ abi, bytecode, args: ['via viem'] });
  const { contractAddress, status } = await client.waitForTransactionReceipt({ hash: deployHash });
  assert.equal(status, 'success');
  assert.equal(await client.readContract({ address: contractAddress, abi, functionName: 'label' }), 'via viem');

  const { request } = await client.simulateContract({ account, address: contractAddress, abi, functionName: 'request', args: [3n] });
  const receipt = await client.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });
  const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Requested' });
  assert.deepEqual([log.args.modelId, log.args.caller, log.args.total], [3n, account.address, 1n]);
  assert.equal(await client.readContract({ address: contractAddress, abi, functionName: 'requests', args: [3n] }), 1n);
});
