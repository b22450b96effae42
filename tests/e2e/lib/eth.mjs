// Ethereum JSON-RPC in front of a test node: pallet-revive-eth-rpc as `dev.sh` runs it, and
// ethers connected to it with the development keys funded at genesis.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { freePort } from './node.mjs';

/** Anvil's and Hardhat's first development keys (mnemonic `test test … junk`). */
export const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
];
export const INFERENCE_ADDRESS = '0x000000000000000000000000000000000c040000';
export const CHAIN_ID = 202833921n;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ethRpcBinary() {
  const binary = process.env.CITRATE_ETH_RPC;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(`eth-rpc not found at '${binary}': run it through scripts/test.sh, which builds it`);
  }
  return binary;
}

/** Starts eth-rpc against `node`; resolves when it answers, with `{ url, provider, wallets, stop }`. */
export async function startEthRpc(node) {
  const [port, prometheus] = [await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-eth-rpc-'));
  const logFile = path.join(dataDir, 'eth-rpc.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(ethRpcBinary(), [
    '--node-rpc-url', node.rpcUrl, '--rpc-port', String(port),
    '--prometheus-port', String(prometheus), '--eth-pruning', '256', '--base-path', dataDir,
  ], { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, undefined,
    { staticNetwork: true, polling: true, pollingInterval: 500 });
  for (let i = 0; ; i++) {
    try {
      await provider.send('eth_chainId', []);
      break;
    } catch (error) {
      if (i > 120) throw new Error(`eth-rpc did not answer (${logFile}): ${error.message}`);
      await sleep(500);
    }
  }
  return {
    url,
    provider,
    logFile,
    wallets: DEV_KEYS.map((key) => new Wallet(key, provider)),
    stop() {
      child.kill('SIGINT');
      provider.destroy();
    },
  };
}
