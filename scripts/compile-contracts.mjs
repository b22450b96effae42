#!/usr/bin/env node
// Compiles every contracts/*.sol and contracts/examples/*.sol with npm solc into
// contracts/build/<Name>.json ({abi, bytecode}).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFile, solcVersion } from './lib/solc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const contractsDir = path.join(root, 'contracts');
const outDir = path.join(contractsDir, 'build');
fs.mkdirSync(outDir, { recursive: true });

console.log(`solc ${solcVersion()}`);
const sources = ['.', 'examples'].flatMap((dir) => fs.readdirSync(path.join(contractsDir, dir))
  .filter((f) => f.endsWith('.sol')).sort().map((f) => path.join(dir, f)));
for (const file of sources) {
  for (const [name, artifact] of Object.entries(compileFile(path.join(contractsDir, file)))) {
    const target = path.join(outDir, `${name}.json`);
    fs.writeFileSync(target, `${JSON.stringify(artifact, null, 2)}\n`);
    console.log(`${file} -> ${path.relative(root, target)} (${(artifact.bytecode.length - 2) / 2} bytes)`);
  }
}
