#!/usr/bin/env node
// Prints the CIDs Kubo's `ipfs add` gives a file, computed by the reference JS importer
// (npm ipfs-unixfs-importer) with Kubo's settings, one line per mode:
//   v0 <CIDv0>        (defaults: dag-pb leaves)
//   v1 <CIDv1 base32> (--cid-version 1 --raw-leaves)
// Usage: node scripts/reference-cid.mjs FILE [CHUNK_SIZE]
import fs from 'node:fs';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';

const [file, chunkSize = '262144'] = process.argv.slice(2);
// Only the CIDs matter: blocks are hashed and dropped.
const blockstore = { put: async (cid) => cid };

for (const [mode, options] of [['v0', { cidVersion: 0, rawLeaves: false }], ['v1', { cidVersion: 1, rawLeaves: true }]]) {
  const entries = importer([{ content: fs.createReadStream(file) }], blockstore, {
    ...options,
    chunker: fixedSize({ chunkSize: Number(chunkSize) }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    reduceSingleLeafToSelf: true,
    leafType: 'file',
    wrapWithDirectory: false,
  });
  for await (const entry of entries) console.log(`${mode} ${entry.cid.toString()}`);
}
