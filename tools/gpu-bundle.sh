#!/usr/bin/env bash
# tools/gpu-bundle.sh - prepares, on a development machine (Debian 12 with the
# packages of scripts/install-deps.sh), what tools/gpu-check.sh needs on a GPU
# machine that has the CUDA toolkit, cuDNN, cuBLAS and PyTorch but none of our
# -dev packages and no network. Writes the ignored folder .gpu-bundle/ (or
# $1), which the GPU run carries (docs/GPU.md):
#
#   deps/            jansson and protobuf-c: headers, shared libraries,
#                    pkg-config files (prefix relative to the .pc file)
#   onnx-gen/        onnx.pb-c.c/.h: the ONNX protobuf reader, generated here
#                    by protoc-c from libonnx-dev's onnx.proto
#   shared.tar.xz    the part of the shared reference folder the GPU run uses:
#                    the five TF.js models, the golden cases listed below and
#                    tools/onnx-models (models.py and friends, for the ONNX
#                    models and the PyTorch side of the benchmark)
#   MANIFEST.txt     what is in it, sizes, and where it came from
#
# usage: tools/gpu-bundle.sh [OUT_DIR]      ($VIGIL_SHARED: the shared folder)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.gpu-bundle}
shared=${VIGIL_SHARED:-$root/../shared}
limit_mib=64

die() { echo "gpu-bundle: $*" >&2; exit 1; }
[ -d "$shared/golden" ] && [ -d "$shared/models" ] ||
    die "shared reference folder not found at $shared (set VIGIL_SHARED)"
for t in pkg-config protoc-c xz tar; do
    command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh installs it)"
done

# Golden cases that travel (the tests skip the others): all but three CenterNet
# cases (8.7 MB each), which keeps the bundle under the carry limit.
golden_cases=(
    centernet/coco_000000000785
    nanodet movenet-thunder movenet-lightning movenet-multipose
)

rm -rf "$out"
mkdir -p "$out/deps/include" "$out/deps/lib/pkgconfig" "$out/onnx-gen"

# --- jansson and protobuf-c -------------------------------------------------------
copy_lib() { # pkg-config-name header... : headers, the real .so and its soname link
    local pc=$1; shift
    local inc lib ver
    inc=$(pkg-config --variable=includedir "$pc")
    lib=$(pkg-config --variable=libdir "$pc")
    ver=$(pkg-config --modversion "$pc")
    for h in "$@"; do
        mkdir -p "$out/deps/include/$(dirname "$h")"
        cp -L "$inc/$h" "$out/deps/include/$h"
    done
    local name=${pc#lib}
    local so real soname
    so=$lib/lib$name.so
    real=$(readlink -f "$so")
    soname=$(objdump -p "$real" | awk '/SONAME/ {print $2}')
    cp -L "$real" "$out/deps/lib/$soname"
    ln -sf "$soname" "$out/deps/lib/lib$name.so"
    cat >"$out/deps/lib/pkgconfig/$pc.pc" <<EOF
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib
Name: $pc
Description: $pc $ver (copied from this Debian system by tools/gpu-bundle.sh)
Version: $ver
Cflags: -I\${includedir}
Libs: -L\${libdir} -l$name
EOF
}
copy_lib jansson jansson.h jansson_config.h
copy_lib libprotobuf-c protobuf-c/protobuf-c.h

# --- the ONNX reader -------------------------------------------------------------
proto=/usr/include/onnx/onnx.proto
[ -f "$proto" ] || die "$proto not found (apt-get install libonnx-dev)"
protoc-c --proto_path="$(dirname "$proto")" --c_out="$out/onnx-gen" "$proto"

# --- shared reference subset ----------------------------------------------------------
list=()
for m in centernet nanodet movenet-lightning movenet-thunder movenet-multipose; do
    list+=("models/$m")
done
for c in "${golden_cases[@]}"; do
    [ -e "$shared/golden/$c" ] || die "golden case $c missing in $shared/golden"
    list+=("golden/$c")
done
list+=(golden/index.json golden/README.md tools/onnx-models)
tar -C "$shared" -cf - --exclude='__pycache__' "${list[@]}" | xz -T2 -6 >"$out/shared.tar.xz"

# --- manifest and sizes --------------------------------------------------------------
{
    echo "vigil GPU bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
    echo
    echo "deps (Debian packages libjansson4 / libprotobuf-c1):"
    (cd "$out/deps" && find . -type f -printf '  %p %s bytes\n' | sort)
    echo
    echo "onnx-gen: protoc-c $(protoc-c --version 2>&1 | head -1) from $proto"
    echo
    echo "shared.tar.xz: $(stat -c %s "$out/shared.tar.xz") bytes; from $shared:"
    printf '  %s\n' "${list[@]}"
} >"$out/MANIFEST.txt"

bundle_b=$(du -sb "$out" | cut -f1)
tree_b=$(cd "$root" && { git ls-files -z; git ls-files -z --others --exclude-standard; } |
    xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
total=$((bundle_b + tree_b))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
echo "gpu-bundle: $out: $(mib "$bundle_b") MiB (libraries $(mib "$(du -sb "$out/deps/lib" |
    cut -f1)") MiB, shared.tar.xz $(mib "$(stat -c %s "$out/shared.tar.xz")") MiB); working" \
    "tree $(mib "$tree_b") MiB; together $(mib "$total") MiB of the $limit_mib MiB carry limit"
[ "$total" -lt $((limit_mib * 1048576)) ] || die "over the carry limit: drop golden cases above"
