#!/usr/bin/env bash
# Installs prerequisites, builds citrate-node and starts a one-validator dev chain with RPC on
# ws://127.0.0.1:9944, and Ethereum JSON-RPC (pallet-revive-eth-rpc) in front of it on
# http://127.0.0.1:8545 (built once into ~/.cache/citrate/eth-rpc; the first build is long).
# Extra arguments go to the node, e.g. `./scripts/dev.sh --tmp`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ensure_prerequisites
build_node
build_eth_rpc

# Loopback only: RPC, Prometheus and p2p all stay on this machine.
"$CITRATE_NODE" --dev --rpc-port 9944 --listen-addr /ip4/127.0.0.1/tcp/30333 --no-mdns "$@" &
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
log "dev chain: polkadot.js apps on ws://127.0.0.1:9944, Ethereum wallets and tools on http://127.0.0.1:8545 (chain id 202833921)"
wait "$node_pid"
