#!/bin/sh
# One command for the per-model comparison: vigil vs TF.js WASM (five TF.js models) and vigil vs
# ONNX Runtime (YOLOv7, YOLOv7-tiny, HRNet-W32 batch 1 and 8), at 1 and 2 threads, written into
# docs/BENCHMARKS.md. Options are those of bench/compare-models.mjs (--quick, --models, ...).
# VIGIL=path/to/vigil selects the binary (default build/release/src/apps/vigil).
#
#   bench/compare-models.sh [--quick] [--models a,b] [--threads 1,2] [--rounds N]
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/bench/setup.sh"
"$ROOT/bench/gen-onnx-models.sh"
exec node "$ROOT/bench/compare-models.mjs" "$@"
