// Compiles Solidity sources with the solc compiler from npm (a WASM build: works offline).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

/** EVM version the contracts target; pallet-revive's REVM backend runs Cancun bytecode. */
export const EVM_VERSION = 'cancun';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Reads an import by its source unit name: a path from the repository root (relative imports
 * resolve to those), else a package in node_modules (`@openzeppelin/contracts/...`).
 */
function findImports(unitName) {
  for (const base of [repoRoot, path.join(repoRoot, 'node_modules')]) {
    const resolved = path.join(base, unitName);
    if (fs.existsSync(resolved)) return { contents: fs.readFileSync(resolved, 'utf8') };
  }
  return { error: `import not found: ${unitName}` };
}

/**
 * Compiles one `.sol` file and returns `{ [contractName]: { abi, bytecode } }` with `bytecode`
 * as a 0x-prefixed hex string.
 */
export function compileFile(file) {
  const unitName = path.relative(repoRoot, path.resolve(file)).split(path.sep).join('/');
  const input = {
    language: 'Solidity',
    sources: { [unitName]: { content: fs.readFileSync(file, 'utf8') } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc failed on ${file}:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const contracts = {};
  for (const [contractName, artifact] of Object.entries(output.contracts[unitName] ?? {})) {
    contracts[contractName] = { abi: artifact.abi, bytecode: `0x${artifact.evm.bytecode.object}` };
  }
  return contracts;
}

export const solcVersion = () => solc.version();
