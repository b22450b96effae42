// A real IPFS daemon for end-to-end tests: js-ipfs 0.66.1 (Kubo-style `/api/v0` RPC), installed
// by scripts/test.sh into tests/interop/js-ipfs, on 127.0.0.1 with no bootstrap peers, no
// discovery and no routing (as crates/storage/tests/kubo_interop.rs starts it).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './node.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the daemon; returns `{ api, post(command, args), stop() }`. */
export async function startIpfsDaemon() {
  const jsipfs = path.join(repoRoot, 'tests/interop/js-ipfs/node_modules/.bin/jsipfs');
  if (!fs.existsSync(jsipfs)) {
    throw new Error('js-ipfs is not installed: run `npm ci --prefix tests/interop/js-ipfs` (scripts/test.sh does)');
  }
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'citrate-jsipfs-'));
  const env = { ...process.env, IPFS_PATH: repo };
  execFileSync(jsipfs, ['init', '--profile', 'server,test'], { env, stdio: 'ignore' });
  const configPath = path.join(repo, 'config');
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  const [apiPort, gatewayPort, swarmPort] = [await freePort(), await freePort(), await freePort()];
  config.Addresses.API = `/ip4/127.0.0.1/tcp/${apiPort}`;
  config.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gatewayPort}`;
  config.Addresses.Swarm = [`/ip4/127.0.0.1/tcp/${swarmPort}`];
  config.Addresses.RPC = '';
  config.Addresses.Delegates = [];
  config.Bootstrap = [];
  config.Discovery.MDNS.Enabled = false;
  config.Discovery.webRTCStar.Enabled = false;
  config.Swarm.DisableNatPortMap = true;
  config.Routing = { Type: 'none' };
  config.Pubsub.Enabled = false;
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logFile = path.join(repo, 'daemon.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(jsipfs, ['daemon', '--enable-preload=false'], { env, stdio: ['ignore', log, log] });
  const api = `http://127.0.0.1:${apiPort}`;
  const post = async (command, args = {}) => {
    const response = await fetch(`${api}/api/v0/${command}?${new URLSearchParams(args)}`, { method: 'POST' });
    if (!response.ok) throw new Error(`${command}: ${response.status} ${await response.text()}`);
    return response;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await post('id');
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`js-ipfs did not start: ${fs.readFileSync(logFile, 'utf8')}`);
      }
      await sleep(250);
    }
  }
  return {
    api,
    post,
    async stop() {
      child.kill('SIGINT');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(repo, { recursive: true, force: true });
    },
  };
}
