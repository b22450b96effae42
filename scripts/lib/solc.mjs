// Compiles Solidity sources with the solc compiler from npm (a WASM build: works offline).
import fs from 'node:fs';
import path from 'node:path';
import solc from 'solc';

/** EVM version the contracts target; pallet-revive's REVM backend runs Cancun bytecode. */
export const EVM_VERSION = 'cancun';

/**
 * Compiles one `.sol` file (imports resolved relative to it) and returns
 * `{ [contractName]: { abi, bytecode } }` with `bytecode` as a 0x-prefixed hex string.
 */
export function compileFile(file) {
  const source = fs.readFileSync(file, 'utf8');
  const name = path.basename(file);
  const input = {
    language: 'Solidity',
    sources: { [name]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const findImports = (importPath) => {
    const resolved = path.resolve(path.dirname(file), importPath);
    return fs.existsSync(resolved)
      ? { contents: fs.readFileSync(resolved, 'utf8') }
      : { error: `import not found: ${importPath}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc failed on ${file}:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const contracts = {};
  for (const [contractName, artifact] of Object.entries(output.contracts[name] ?? {})) {
    contracts[contractName] = { abi: artifact.abi, bytecode: `0x${artifact.evm.bytecode.object}` };
  }
  return contracts;
}

export const solcVersion = () => solc.version();
