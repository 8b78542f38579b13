#!/bin/sh
# vigil's pipeline sweep (performance against the number of people) for both model pairs, in
# one command: generates the ONNX models if needed, runs `vigil bench pipeline` on CenterNet +
# MoveNet Thunder and on YOLOv7-tiny + HRNet-W32, and writes the CSV (build/bench/), the
# figures (docs/bench-pipeline-*.svg) and the tables into docs/BENCHMARKS.md.
# Options are those of bench/pipeline.mjs.
#
#   VIGIL=build/release/src/apps/vigil bench/pipeline.sh [--quick] [--pairs tfjs,onnx]
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "bench/pipeline.sh: gnuplot is needed for the figures (Debian package gnuplot-nox;" \
         "scripts/install-deps.sh installs it)" >&2
    exit 1
fi
"$ROOT/bench/gen-onnx-models.sh"
exec node "$ROOT/bench/pipeline.mjs" "$@"
