#!/bin/sh
# Prepare the benchmark peers: npm packages in bench/node_modules (from package-lock.json) and
# build/bench/sgemm_peak. Idempotent and quiet when everything is up to date.
#
#   bench/setup.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "bench/setup.sh: node and npm are needed (scripts/install-deps.sh installs them)" >&2
    exit 1
fi

stamp=$BENCH/node_modules/.package-lock.json
newer() { [ -n "$(find "$1" -newer "$2" 2>/dev/null)" ]; }

if [ ! -f "$stamp" ] || newer "$BENCH/package-lock.json" "$stamp"; then
    echo "bench/setup.sh: installing npm packages into bench/node_modules"
    # onnxruntime-node bundles its CPU runtime; its install script would only fetch GPU
    # binaries from outside the npm registry, so it is skipped.
    (cd "$BENCH" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi

mkdir -p "$ROOT/build/bench"
bin=$ROOT/build/bench/sgemm_peak
if [ ! -x "$bin" ] || newer "$BENCH/sgemm_peak.c" "$bin"; then
    ${CC:-gcc} -std=c17 -O2 -fopenmp -Wall -Wextra -Wpedantic -Werror \
        "$BENCH/sgemm_peak.c" -ldnnl -o "$bin"
fi
