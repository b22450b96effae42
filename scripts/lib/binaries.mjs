// Where the project's binaries are: the environment's choice, else the debug builds.
import os from 'node:os';
import path from 'node:path';

/** The node binary: $CITRATE_NODE, else the debug build in $CARGO_TARGET_DIR. */
export function nodeBinary() {
  if (process.env.CITRATE_NODE) return process.env.CITRATE_NODE;
  const targetDir =
    process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache', 'citrate', 'target');
  return path.join(targetDir, 'debug', 'citrate-node');
}

/** `citrate-infer` (crates/inference), beside the node binary: $CITRATE_INFER overrides. */
export function inferBinary() {
  return process.env.CITRATE_INFER ?? path.join(path.dirname(nodeBinary()), 'citrate-infer');
}

/** `citrate-hf-fixture` (crates/hf-fixtures), beside the node binary. */
export function fixtureBinary() {
  return path.join(path.dirname(nodeBinary()), 'citrate-hf-fixture');
}
