#!/usr/bin/env node
// A reference CARv1 reader and writer (npm @ipld/car, as used by Kubo-compatible JS tools).
//   node scripts/reference-car.mjs read CAR        prints `root <cid>` lines and `blocks N`,
//                                                  after checking every block against its CID
//   node scripts/reference-car.mjs write PATH CAR  imports PATH (a file, or a directory tree
//                                                  like `ipfs add -r`) as `--cid-version 1
//                                                  --raw-leaves` does and writes its DAG as a CAR
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CarBlockIterator, CarWriter } from '@ipld/car';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { equals } from 'multiformats/bytes';
import { sha256 } from 'multiformats/hashes/sha2';

const [command, ...args] = process.argv.slice(2);
if (command === 'read') {
  const blocks = await CarBlockIterator.fromIterable(fs.createReadStream(args[0]));
  for (const root of await blocks.getRoots()) console.log(`root ${root.toString()}`);
  let count = 0;
  for await (const { cid, bytes } of blocks) {
    if (!equals((await sha256.digest(bytes)).bytes, cid.multihash.bytes)) {
      throw new Error(`block ${cid} does not match its CID`);
    }
    count += 1;
  }
  console.log(`blocks ${count}`);
} else if (command === 'write') {
  const stored = [];
  const blockstore = { put: async (cid, bytes) => { stored.push({ cid, bytes }); return cid; } };
  // A directory's entries in name order, empty directories included (as `ipfs add -r`).
  const base = path.basename(path.resolve(args[0]));
  function* tree(abs, rel) {
    yield { path: rel };
    for (const name of fs.readdirSync(abs).sort()) {
      const child = path.join(abs, name);
      if (fs.statSync(child).isDirectory()) yield* tree(child, `${rel}/${name}`);
      else yield { path: `${rel}/${name}`, content: fs.createReadStream(child) };
    }
  }
  const directory = fs.statSync(args[0]).isDirectory();
  const source = directory ? tree(path.resolve(args[0]), base) : [{ content: fs.createReadStream(args[0]) }];
  let root;
  for await (const entry of importer(source, blockstore, {
    cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 }), reduceSingleLeafToSelf: true,
    leafType: 'file', wrapWithDirectory: false,
  })) {
    if (!directory || entry.path === base) root = entry.cid;
  }
  const { writer, out } = CarWriter.create([root]);
  const done = new Promise((resolve, reject) => {
    Readable.from(out).pipe(fs.createWriteStream(args[1])).on('finish', resolve).on('error', reject);
  });
  for (const block of stored) await writer.put(block);
  await writer.close();
  await done;
  console.log(`root ${root.toString()}`);
} else {
  console.error('usage: reference-car.mjs read CAR | write PATH CAR');
  process.exit(2);
}
