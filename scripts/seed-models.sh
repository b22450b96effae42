#!/usr/bin/env bash
# Imports Citrate's model zoo into a running chain: every real model scripts/fetch-models.py
# obtains (MiniLM int8 and fp32, EfficientNet-Lite0, PP-OCRv4, Silero VAD, Whisper tiny.en and
# base, the terrain UNet, Gemma 3 270M, ddddocr's recogniser and detector), laid out as Hugging
# Face repositories with their real licenses (scripts/lay-out-zoo.py) and imported with
# `citrate-node model import`, registered and served by the signer. Models already registered
# are left as they are (the importer finds their CID). Prints a table of the models.
#
#   scripts/seed-models.sh [--rpc ws://127.0.0.1:9944] [--base-path DIR] [--suri //Alice]
#
# --base-path is the node's (dev.sh: $TMPDIR/citrate-dev); packages go to its store.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rpc=ws://127.0.0.1:9944
base_path="${CITRATE_DEV_BASE_PATH:-${TMPDIR:-/tmp}/citrate-dev}"
suri=//Alice
while [[ $# -gt 0 ]]; do
	case "$1" in
	--rpc) rpc="$2"; shift 2 ;;
	--base-path) base_path="$2"; shift 2 ;;
	--suri) suri="$2"; shift 2 ;;
	*) echo "seed-models: unknown argument $1" >&2; exit 2 ;;
	esac
done

[[ -x "$CITRATE_NODE" ]] || build_node
python3 "$REPO_ROOT/scripts/fetch-models.py" --with-lm
zoo="${CITRATE_ZOO_DIR:-$HOME/.cache/citrate/zoo}"
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
python3 "$REPO_ROOT/scripts/lay-out-zoo.py" "$zoo" | while IFS=$'\t' read -r name dir flags; do
	log "importing $name"
	# shellcheck disable=SC2086 # $flags is a list of flags
	"$CITRATE_NODE" model import "$dir" --name "$name" $flags --rpc "$rpc" --suri "$suri" \
		--base-path "$base_path" --serve --json >>"$summary"
done
python3 - "$summary" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"\n{'id':>4}  {'name':<24} {'task':<22} {'backend':<7} {'license':<11} {'params':>12} {'GFLOP':>8}  outcome")
for r in rows:
    print(f"{r['model_id']:>4}  {r['name']:<24} {r['task']:<22} {r['backend']:<7} {r['license']:<11} "
          f"{r['parameters']:>12,} {r['flops_per_inference'] / 1e9:>8.2f}  {r['outcome']}")
print(f"\n{len(rows)} models, {len({r['task'] for r in rows})} tasks")
PY
