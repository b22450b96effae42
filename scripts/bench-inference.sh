#!/usr/bin/env bash
# Inference benchmark: tract and candle beside onnxruntime on the real models, same machine,
# same thread count, same run; then the seed's model families at full size against the seed's
# targets. Prints the tables and writes them to $CARGO_TARGET_DIR/inference-bench.md (or
# --out FILE).
#
#   scripts/bench-inference.sh [--threads N] [--runs N] [--out FILE]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

venv="$HOME/.cache/citrate/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null; then
	log "onnxruntime (PyPI) in $venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check onnxruntime==1.32.0 numpy==2.4.6
fi
python3 scripts/fetch-models.py
log "cargo bench -p citrate-inference --bench models"
CITRATE_BENCH_PYTHON="$venv/bin/python" cargo bench --locked -p citrate-inference --bench models -- "$@"
# The seed's families (GPT-2, BERT-base, T5-small, CLIP) at full size: no ONNX form of them
# exists here (exporting needs torch), so no onnxruntime rows; their table follows the models'.
out="${CARGO_TARGET_DIR:-target}/inference-bench.md"
args=("$@")
for i in "${!args[@]}"; do
	if [ "${args[$i]}" = --out ]; then out="${args[$((i + 1))]}"; fi
done
log "cargo bench -p citrate-inference --bench seed_families"
cargo bench --locked -p citrate-inference --bench seed_families -- --runs 5 --out "$out"
