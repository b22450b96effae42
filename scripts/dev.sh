#!/usr/bin/env bash
# Installs prerequisites, builds citrate-node and starts a one-validator dev chain with RPC on
# ws://127.0.0.1:9944. Extra arguments go to the node, e.g. `./scripts/dev.sh --tmp`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ensure_prerequisites
build_node
log "starting the dev chain: connect polkadot.js apps to ws://127.0.0.1:9944"
# Loopback only: RPC, Prometheus and p2p all stay on this machine.
exec "$CITRATE_NODE" --dev --rpc-port 9944 --listen-addr /ip4/127.0.0.1/tcp/30333 --no-mdns "$@"
