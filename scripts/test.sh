#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit tests (pallets, runtime, benchmarks in
# test mode), then the end-to-end tests against a real citrate-node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ensure_prerequisites

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (warnings are errors)"
SKIP_WASM_BUILD=1 cargo clippy --locked --workspace --all-targets -- -D warnings

log "the inference engine and the no_std contract stand without polkadot-sdk"
for crate in citrate-inference citrate-inference-primitives citrate-tensor-primitives; do
	if cargo tree --locked -p "$crate" -e normal --prefix none | grep -E '^(polkadot-sdk|sp-|frame-)'; then
		echo "$crate depends on polkadot-sdk" >&2
		exit 1
	fi
done

log "real models for the inference engine's tests (cached in ~/.cache/citrate/models; Gemma 3 under the Gemma Terms of Use)"
python3 scripts/fetch-models.py --with-lm --check-conversions

log "Rust unit tests"
cargo test --locked --workspace

log "pallet benchmarks, run as tests"
cargo test --locked -p pallet-model-registry -p pallet-model-access -p pallet-pinning -p pallet-inference --features runtime-benchmarks benchmarking

build_infer
build_node
build_eth_rpc

log "end-to-end tests against citrate-node --dev"
node --test --test-concurrency=1 tests/e2e/
