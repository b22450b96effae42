#!/usr/bin/env node
// Puts real models on the dev chain `./scripts/dev.sh` runs, so contracts and clients can call
// them at once: MiniLM int8 (sentence embeddings) and EfficientNet-Lite0 (ImageNet
// classification) are added to the node's store as model packages, registered by Alice with
// their metadata, and served by Alice (the dev chain's provider). Models already registered
// under these names are left as they are. Prints each model's id.
//
//   node scripts/dev-models.mjs [--rpc ws://127.0.0.1:9944] [--base-path DIR]
//
// `--base-path` is the node's (dev.sh: $TMPDIR/citrate-dev); the models come from
// ~/.cache/citrate/models (`python3 scripts/fetch-models.py` fetches them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import {
  efficientnetPackageDir, embeddingMetadata, imageClassifierMetadata, minilmPackageDir, publishModel,
} from './lib/models.mjs';

const { values: args } = parseArgs({
  options: {
    rpc: { type: 'string', default: 'ws://127.0.0.1:9944' },
    'base-path': { type: 'string', default: path.join(process.env.TMPDIR ?? os.tmpdir(), 'citrate-dev') },
  },
});

const MODELS = [
  { name: 'all-minilm-l6-v2-int8', task: 'feature-extraction', modelType: 'Embedding', dir: minilmPackageDir, metadata: () => embeddingMetadata(2_000_000_000) },
  { name: 'efficientnet-lite0', task: 'image-classification', modelType: 'Vision', dir: efficientnetPackageDir, metadata: imageClassifierMetadata },
];

if (!fs.existsSync(path.join(args['base-path'], 'ipfs'))) {
  console.error(`no node store under ${args['base-path']} (give the running node's --base-path)`);
  process.exit(1);
}
const api = await ApiPromise.create({ provider: new WsProvider(args.rpc), noInitWarn: true });
const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
const node = { basePath: args['base-path'] };
try {
  for (const model of MODELS) {
    const history = await api.query.modelRegistry.modelVersions(model.name);
    let id = history.isSome ? history.unwrap().versions.at(-1)?.toNumber() : undefined;
    if (id === undefined) {
      const dir = model.dir();
      try {
        id = await publishModel(api, node, dir, {
          owner: alice, provider: alice, name: model.name, modelType: model.modelType, metadata: model.metadata(),
        });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`model ${id}: ${model.name} (${model.task})`);
  }
} finally {
  await api.disconnect();
}
