#!/bin/sh
# Generate the full-size YOLOv7, YOLOv7-tiny and HRNet-W32 ONNX models (random weights,
# architecture-faithful) used by the benchmarks, and verify them against the recorded hashes.
#
#   bench/gen-onnx-models.sh [OUT_DIR]      default OUT_DIR: build/onnx-models
#
# Idempotent: when every file listed in SHA256SUMS is already present in OUT_DIR with the
# recorded hash, nothing is regenerated. The generator lives in the shared reference tree
# ($VIGIL_SHARED, default ../shared relative to the repository root) and needs Debian's
# python3-torch, python3-onnx, python3-numpy and python3-pil, which are installed with apt-get
# when missing (root or sudo required; about 2 minutes of generation on 2 cores).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIL_SHARED:-$ROOT/../shared}
GEN_DIR=$SHARED/tools/onnx-models
OUT=${1:-$ROOT/build/onnx-models}
PY=/usr/bin/python3

if [ ! -f "$GEN_DIR/gen_models.py" ] || [ ! -f "$GEN_DIR/SHA256SUMS" ]; then
    echo "gen-onnx-models: $GEN_DIR/gen_models.py not found;" \
        "set VIGIL_SHARED to the shared reference folder" >&2
    exit 1
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

verify() {
    (cd "$OUT" && sha256sum --quiet -c "$GEN_DIR/SHA256SUMS") >/dev/null 2>&1
}

if verify; then
    echo "gen-onnx-models: $OUT is up to date (all hashes match)"
    exit 0
fi

PKGS="python3-torch python3-onnx python3-numpy python3-pil"
MISSING=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || MISSING="$MISSING $p"
done
if [ -n "$MISSING" ]; then
    echo "gen-onnx-models: installing$MISSING"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    # shellcheck disable=SC2086 # $MISSING is a list of package names
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        $MISSING; then
        # Stale package lists on a fresh machine: refresh once and retry.
        $SUDO apt-get update
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            $MISSING
    fi
fi

echo "gen-onnx-models: generating into $OUT (a few minutes)"
start=$(date +%s)
"$PY" "$GEN_DIR/gen_models.py" --out "$OUT"
echo "gen-onnx-models: generated in $(($(date +%s) - start)) s; checking hashes"
if ! (cd "$OUT" && sha256sum -c "$GEN_DIR/SHA256SUMS"); then
    echo "gen-onnx-models: hash mismatch: the models differ from the recorded ones." \
        "Use Debian 12's python3-torch 1.13.1 / python3-onnx 1.12.0 / python3-numpy 1.24.2" >&2
    exit 1
fi
echo "gen-onnx-models: OK"
