#!/usr/bin/env node
// Prints the CIDs Kubo's `ipfs add -r DIR` gives a directory tree, computed by the reference JS
// importer (npm ipfs-unixfs-importer) with Kubo's settings, one line per mode:
//   v0 <CIDv0>        (defaults: dag-pb leaves)
//   v1 <CIDv1 base32> (--cid-version 1 --raw-leaves)
// Every file and directory under DIR is given to the importer (empty directories included);
// hidden entries are not skipped here, so callers pass trees without them.
// Usage: node scripts/reference-tree-cid.mjs DIR [CHUNK_SIZE]
import fs from 'node:fs';
import path from 'node:path';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';

const [dir, chunkSize = '262144'] = process.argv.slice(2);
const base = path.basename(path.resolve(dir));

function* entries(abs, rel) {
  yield { path: rel };
  for (const name of fs.readdirSync(abs).sort()) {
    const child = path.join(abs, name);
    const childRel = `${rel}/${name}`;
    if (fs.statSync(child).isDirectory()) yield* entries(child, childRel);
    else yield { path: childRel, content: fs.createReadStream(child) };
  }
}

const blockstore = { put: async (cid) => cid };
for (const [mode, options] of [['v0', { cidVersion: 0, rawLeaves: false }], ['v1', { cidVersion: 1, rawLeaves: true }]]) {
  let root;
  for await (const entry of importer(entries(path.resolve(dir), base), blockstore, {
    ...options,
    chunker: fixedSize({ chunkSize: Number(chunkSize) }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    reduceSingleLeafToSelf: true,
    leafType: 'file',
    wrapWithDirectory: false,
  })) {
    if (entry.path === base) root = entry.cid;
  }
  console.log(`${mode} ${root.toString()}`);
}
