#!/bin/sh
# Peer pipelines for the performance-vs-people curves, in one command: installs the npm
# packages, generates the ONNX models if needed, runs TF.js-WASM (CenterNet + MoveNet Thunder)
# and ONNX Runtime (YOLOv7-tiny + HRNet-W32) over the person-count sweep and writes the table
# into docs/BENCHMARKS.md. Options are those of bench/compare/run.mjs.
#
#   bench/compare/run.sh [--quick] [--threads N] [--persons LIST] [--vigil-tfjs-csv F] [--vigil-ort-csv F]
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/bench/setup.sh"
"$ROOT/bench/gen-onnx-models.sh"
exec node "$ROOT/bench/compare/run.mjs" "$@"
