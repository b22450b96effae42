#!/usr/bin/env bash
# Installs prerequisites, builds citrate-node and starts a one-validator dev chain with RPC on
# ws://127.0.0.1:9944, and Ethereum JSON-RPC (pallet-revive-eth-rpc) in front of it on
# http://127.0.0.1:8545 (built once into ~/.cache/citrate/eth-rpc; the first build is long).
# The chain starts fresh each run, its data in $TMPDIR/citrate-dev ($CITRATE_DEV_BASE_PATH).
# `--with-models` imports the model zoo (scripts/seed-models.sh) once the chain runs, served by
# Alice. Other arguments go to the node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

with_models=
node_args=()
for arg in "$@"; do
	if [[ "$arg" == --with-models ]]; then with_models=1; else node_args+=("$arg"); fi
done

ensure_prerequisites
build_node
build_eth_rpc

# A fresh chain each run, as `--dev` alone gives, but in a known place: its model store
# (<base>/ipfs) is kept between runs and `scripts/dev-models.mjs` adds packages to it.
dev_base="${CITRATE_DEV_BASE_PATH:-${TMPDIR:-/tmp}/citrate-dev}"
"$CITRATE_NODE" purge-chain --dev --base-path "$dev_base" -y >/dev/null 2>&1 || true
# Loopback only: RPC, Prometheus and p2p all stay on this machine.
"$CITRATE_NODE" --dev --base-path "$dev_base" --rpc-port 9944 \
	--listen-addr /ip4/127.0.0.1/tcp/30333 --no-mdns ${node_args[@]+"${node_args[@]}"} &
node_pid=$!
eth_pid=
trap 'kill $node_pid $eth_pid 2>/dev/null || true' EXIT INT TERM
until curl -s -o /dev/null -H 'content-type: application/json' \
	-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' http://127.0.0.1:9944; do
	kill -0 "$node_pid" 2>/dev/null || exit 1
	sleep 1
done
"$CITRATE_ETH_RPC" --node-rpc-url ws://127.0.0.1:9944 --rpc-port 8545 --prometheus-port 9616 \
	--eth-pruning 256 --base-path "${TMPDIR:-/tmp}/citrate-eth-rpc" &
eth_pid=$!
if [[ -n "$with_models" ]]; then
	"$REPO_ROOT/scripts/seed-models.sh" --rpc ws://127.0.0.1:9944 --base-path "$dev_base"
fi
log "dev chain: polkadot.js apps on ws://127.0.0.1:9944, Ethereum wallets and tools on http://127.0.0.1:8545 (chain id 202833921); models to call: node scripts/dev-models.mjs"
wait "$node_pid"
