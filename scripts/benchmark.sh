#!/usr/bin/env bash
# Regenerates pallets/*/src/weights.rs from the pallets' benchmarks, run in the
# real runtime (WASM) on this machine. Builds a release node with `runtime-benchmarks` into
# its own target subdirectory so it does not disturb the debug build the tests use.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ensure_prerequisites
# pallet-revive's benchmark fixtures need a native solc; Citrate does not benchmark pallet-revive.
export SKIP_PALLET_REVIVE_FIXTURES=1
# frame-benchmarking-cli's storage-benchmark runtime is not needed for `benchmark pallet`.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
log "building citrate-node --features runtime-benchmarks (release)"
cargo build --locked --release -p citrate-node --features runtime-benchmarks

# Each pallet's weights.rs, measured in the runtime (WASM) on this machine.
for pallet in model-registry model-access pinning inference; do
	"$CARGO_TARGET_DIR/release/citrate-node" benchmark pallet \
		--chain dev \
		--pallet "pallet_${pallet//-/_}" \
		--extrinsic '*' \
		--steps "${STEPS:-50}" \
		--repeat "${REPEAT:-20}" \
		--wasm-execution compiled \
		--template .maintain/frame-weight-template.hbs \
		--header .maintain/HEADER \
		--output "pallets/$pallet/src/weights.rs"
	log "wrote pallets/$pallet/src/weights.rs"
done
