// Starts a real `citrate-node --dev` on free loopback ports and connects polkadot.js to it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { inferBinary, nodeBinary } from '../../../scripts/lib/binaries.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export { inferBinary, nodeBinary };

/** Ports this process handed out: the OS may offer a port again once its probe closed. */
const handedOut = new Set();

/**
 * A TCP port free on 127.0.0.1 now and never handed out before by this process. Two nodes
 * given the same port would not fail: the loser's RPC server moves to a random port, and
 * tests would wait for it in vain.
 */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: free } = server.address();
        server.close(() => resolve(free));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `citrate-node --dev` with its RPC, p2p, Prometheus and IPFS gateway ports on
 * 127.0.0.1, waits for block #1 and returns
 * `{ api, rpcUrl, prometheusUrl, gatewayUrl, inferenceServiceUrl, basePath, logFile, stop }`.
 */
export function startDevNode(options = {}) {
  return startNode({ ...options, chainArgs: ['--dev'] });
}

/**
 * Starts `citrate-node` with `chainArgs` (e.g. `['--chain', 'local', '--alice']`) and every
 * port on 127.0.0.1. Waits until the RPC answers and, unless `waitForBlock` is false, until
 * block #1 exists. `basePath` restarts a node stopped with `stop({ keep: true })`.
 */
export async function startNode({
  chainArgs, extraArgs = [], waitForBlock = true, timeoutMs = 120_000, basePath: reuse,
}) {
  const binary = nodeBinary();
  if (!fs.existsSync(binary)) {
    throw new Error(`citrate-node not found at ${binary}: build it with 'cargo build -p citrate-node'`);
  }
  const [rpcPort, p2pPort, prometheusPort, gatewayPort, inferencePort] = [
    await freePort(), await freePort(), await freePort(), await freePort(), await freePort(),
  ];
  const basePath = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-e2e-'));
  const logFile = path.join(basePath, 'node.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(
    binary,
    [
      ...chainArgs,
      '--base-path', basePath,
      '--rpc-port', String(rpcPort),
      '--prometheus-port', String(prometheusPort),
      '--ipfs-gateway-port', String(gatewayPort),
      // A node given another service's URL embeds none.
      ...(extraArgs.includes('--inference-service-url') ? [] : ['--inference-service-port', String(inferencePort)]),
      '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
      '--no-mdns',
      '--no-telemetry',
      ...extraArgs,
    ],
    { cwd: repoRoot, stdio: ['ignore', log, log] },
  );
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  // `keep`: leave the base path (database, keystore, offchain storage) for a restart.
  const stop = async ({ keep = false } = {}) => {
    if (exited === null) {
      child.kill('SIGINT');
      for (let i = 0; i < 100 && exited === null; i++) await sleep(100);
      if (exited === null) child.kill('SIGKILL');
    }
    if (keep) return;
    if (process.env.CITRATE_KEEP_NODE_LOGS) console.error(`node log kept at ${logFile}`);
    else fs.rmSync(basePath, { recursive: true, force: true });
  };

  const rpcUrl = `ws://127.0.0.1:${rpcPort}`;
  const deadline = Date.now() + timeoutMs;
  let api;
  try {
    // The RPC server comes up a moment after the process starts.
    while (!api) {
      if (exited !== null) throw new Error(`citrate-node exited early (${JSON.stringify(exited)})`);
      if (Date.now() > deadline) throw new Error('citrate-node RPC did not come up in time');
      try {
        await new Promise((resolve, reject) => {
          const socket = net.connect(rpcPort, '127.0.0.1', () => { socket.end(); resolve(); });
          socket.on('error', reject);
        });
        api = await connect(rpcUrl);
      } catch {
        await sleep(250);
      }
    }
    while (waitForBlock && (await api.rpc.chain.getHeader()).number.toNumber() < 1) {
      if (Date.now() > deadline) throw new Error('citrate-node produced no block in time');
      await sleep(250);
    }
  } catch (error) {
    if (api) await api.disconnect();
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-4000) : '';
    await stop();
    throw new Error(`${error.message}\n--- node log ---\n${tail}`);
  }

  return {
    api,
    rpcUrl,
    prometheusUrl: `http://127.0.0.1:${prometheusPort}/metrics`,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    inferenceServiceUrl: `http://127.0.0.1:${inferencePort}`,
    basePath,
    logFile,
    pid: child.pid,
    stop: async (options) => {
      await api.disconnect();
      await stop(options);
    },
  };
}

/** A polkadot.js connection that knows the runtime's extra transaction extensions (both
 * carry no data in signed transactions). */
export async function connect(rpcUrl) {
  const provider = new WsProvider(rpcUrl, false);
  await provider.connect();
  return ApiPromise.create({
    provider,
    noInitWarn: true,
    throwOnConnect: true,
    signedExtensions: {
      AuthorizeCall: { extrinsic: {}, payload: {} },
      EthSetOrigin: { extrinsic: {}, payload: {} },
    },
  });
}
