// End-to-end: `--chain local` with `--alice` and `--bob` forms a two-validator network on
// loopback that authors and finalises blocks together.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startNode } from './lib/node.mjs';

let alice;
let bob;

// Validators of a non-dev chain need a persistent network key; give each node a fresh one.
const nodeKey = () => ['--node-key', randomBytes(32).toString('hex')];

before(async () => {
  alice = await startNode({
    chainArgs: ['--chain', 'local', '--alice'],
    extraArgs: nodeKey(),
    waitForBlock: false,
  });
  const peerId = (await alice.api.rpc.system.localPeerId()).toString();
  const listen = (await alice.api.rpc.system.localListenAddresses())
    .map((a) => a.toString())
    .find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
  assert.ok(listen, 'Alice listens on loopback');
  const bootnode = listen.includes('/p2p/') ? listen : `${listen}/p2p/${peerId}`;
  bob = await startNode({
    chainArgs: ['--chain', 'local', '--bob'],
    extraArgs: [...nodeKey(), '--bootnodes', bootnode],
    waitForBlock: false,
  });
});

after(async () => {
  await bob?.stop();
  await alice?.stop();
});

async function status(node) {
  const { api } = node;
  const [health, best, finalizedHash] = await Promise.all([
    api.rpc.system.health(),
    api.rpc.chain.getHeader(),
    api.rpc.chain.getFinalizedHead(),
  ]);
  const finalized = (await api.rpc.chain.getHeader(finalizedHash)).number.toNumber();
  return { peers: health.peers.toNumber(), best: best.number.toNumber(), finalized };
}

test('Alice and Bob peer, author in turn and finalise with GRANDPA', async () => {
  // GRANDPA needs both of the two authorities' votes, so finality proves both take part.
  const deadline = Date.now() + 90_000;
  let states;
  do {
    await new Promise((r) => setTimeout(r, 2000));
    states = await Promise.all([status(alice), status(bob)]);
  } while (Date.now() < deadline && !states.every((s) => s.peers === 1 && s.finalized >= 2));

  for (const [name, s] of [['alice', states[0]], ['bob', states[1]]]) {
    assert.equal(s.peers, 1, `${name} has one peer: ${JSON.stringify(s)}`);
    assert.ok(s.finalized >= 2, `${name} finalised blocks: ${JSON.stringify(s)}`);
  }
  assert.equal(alice.api.genesisHash.toHex(), bob.api.genesisHash.toHex());
  assert.equal((await alice.api.rpc.system.chain()).toString(), 'Citrate Local Testnet');

  // Both validators authored blocks: Aura slots alternate between the two authorities.
  const authors = new Set();
  const best = (await alice.api.rpc.chain.getHeader()).number.toNumber();
  for (let n = 1; n <= best; n++) {
    const hash = await alice.api.rpc.chain.getBlockHash(n);
    const header = await alice.api.rpc.chain.getHeader(hash);
    const preRuntime = header.digest.logs.find((log) => log.isPreRuntime);
    const [engine, data] = preRuntime.asPreRuntime;
    assert.equal(engine.toString(), 'aura');
    const slot = alice.api.createType('u64', data).toBigInt();
    authors.add(Number(slot % 2n));
  }
  assert.equal(authors.size, 2, 'blocks from both authorities');
});
