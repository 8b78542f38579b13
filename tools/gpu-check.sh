#!/usr/bin/env bash
# tools/gpu-check.sh - everything that needs an NVIDIA GPU, in one go, on a
# machine with the CUDA toolkit, cuDNN, cuBLAS and PyTorch but none of our
# Debian -dev packages and no network (docs/GPU.md gives the exact call):
#
#   1. finds the GPU, nvcc, cuDNN and cuBLAS (CUDA toolkit or PyTorch's
#      nvidia-* wheels)
#   2. builds the minimal configuration (-DVG_MINIMAL=ON -DVG_WITH_CUDA=ON:
#      engine, importers, cuda backend, GPU tests, vigil_gpu_bench) with
#      jansson, protobuf-c and the ONNX reader from .gpu-bundle
#      (tools/gpu-bundle.sh prepares it on a development machine)
#   3. unpacks the shared reference subset and remakes the ONNX models with
#      PyTorch (bench/gpu/bench.py models)
#   4. runs the gpu tests (ctest -L gpu), which include the heterogeneous
#      detector/pose test at engine level (gpu_hetero_test); the `vigil run`
#      variant on a real clip (gpu_run_test) needs a full build, see docs/GPU.md
#      then, reported but not counted, the fp16 tests with fp16 convolutions fused
#      (VIGIL_CUDA_FP16_FUSE=1), HRNet-W32 fp16 batch 64 with and without it, and a
#      per-step profile (VIGIL_CUDA_PROFILE=1)
#   5. runs the benchmark against PyTorch (bench/gpu/bench.py run)
#   6. writes gpu-check.log, summary.md, build.txt, ctest.txt, ctest.xml,
#      bench.json and bench.md into $OUT (default: build-gpu-check/out)
#
# usage: tools/gpu-check.sh [--build-only] [--skip-bench]
#   --build-only  no GPU needed: check the bundle and build (tests the script
#                 and the minimal configuration on a development machine)
# Exit status: 0 all passed, 1 a step failed, 3 no GPU, 4 bundle or tools missing.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=${VIGIL_GPU_BUNDLE:-$root/.gpu-bundle}
work=${VIGIL_GPU_WORK:-$root/build-gpu-check}
out=${OUT:-$work/out}
build_only=0
skip_bench=0
for a in "$@"; do
    case $a in
    --build-only) build_only=1 ;;
    --skip-bench) skip_bench=1 ;;
    -h | --help)
        sed -n '2,25p' "$0"
        exit 0
        ;;
    *)
        echo "gpu-check: unknown option $a (see --help)" >&2
        exit 2
        ;;
    esac
done
[ -z "${OUT:-}" ] && rm -rf "$out" # the default results folder holds one run
mkdir -p "$out" "$work"
log=$out/gpu-check.log
summary=$out/summary.md
: >"$log"
exec > >(tee -a "$log") 2>&1
t_start=$(date +%s)
# The whole check must end inside the GPU run's 10-minute limit: each step gets
# at most its own cap and what is left of $VIGIL_GPU_CHECK_BUDGET seconds.
budget=${VIGIL_GPU_CHECK_BUDGET:-560}
left() { # cap: seconds for the next step
    local l=$((budget - ($(date +%s) - t_start)))
    [ "$l" -lt "$1" ] && echo $((l > 10 ? l : 10)) || echo "$1"
}
declare -a results=()
failed=0

note() { echo "gpu-check: $*"; }
record() { # step status detail...
    results+=("| $1 | $2 | ${*:3} |")
    [ "$2" = FAIL ] && failed=1
    return 0
}
write_summary() {
    {
        echo "# vigil GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        echo "- machine: ${gpu_name:-no GPU}; driver ${gpu_driver:-?}; nvcc ${nvcc_ver:-?};" \
            "cuDNN ${cudnn_lib:-?}; cuBLAS ${cublas_lib:-?}"
        echo "- commit: $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?')," \
            "total $(($(date +%s) - t_start)) s"
        echo
        echo "| step | result | detail |"
        echo "|---|---|---|"
        printf '%s\n' "${results[@]}"
        if [ -f "$work/ctest-summary.txt" ]; then
            echo
            echo '## Tests'
            echo
            echo '```'
            cat "$work/ctest-summary.txt"
            echo '```'
        fi
        if [ -f "$out/bench.md" ]; then
            echo
            echo '## Benchmark'
            echo
            cat "$out/bench.md"
        fi
    } >"$summary"
    note "summary in $summary"
}
finish() {
    write_summary
    exit "$1"
}

# --- 1. machine ---------------------------------------------------------------------
note "repo $root, bundle $bundle, work $work, results $out"
if [ "$build_only" = 0 ]; then
    if ! command -v nvidia-smi >/dev/null 2>&1; then
        note "no NVIDIA GPU: nvidia-smi is not installed. Run this script on a machine with an" \
            "NVIDIA GPU and its driver (docs/GPU.md); --build-only checks the build without one."
        record machine FAIL "no nvidia-smi"
        finish 3
    fi
    if ! gpu_line=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1) ||
        [ -z "$gpu_line" ]; then
        note "no NVIDIA GPU visible: nvidia-smi says: ${gpu_line:-nothing}. Run this script on a" \
            "machine with an NVIDIA GPU (docs/GPU.md); --build-only checks the build without one."
        record machine FAIL "nvidia-smi: ${gpu_line:-no GPU}"
        finish 3
    fi
    gpu_name=$(echo "$gpu_line" | head -1 | cut -d, -f1)
    gpu_driver=$(echo "$gpu_line" | head -1 | cut -d, -f2 | tr -d ' ')
    note "GPU: $gpu_name, driver $gpu_driver"
    nvidia-smi --query-gpu=name,memory.total,memory.used,clocks.sm,clocks.max.sm,temperature.gpu \
        --format=csv || true
    record machine ok "$gpu_name, driver $gpu_driver"
fi

for f in deps/lib/pkgconfig/jansson.pc onnx-gen/onnx.pb-c.c shared.tar.xz; do
    if [ ! -e "$bundle/$f" ]; then
        note "$bundle/$f missing: run tools/gpu-bundle.sh on a development machine and carry" \
            ".gpu-bundle (docs/GPU.md)"
        record bundle FAIL "$f missing"
        finish 4
    fi
done

export PATH=$PATH:/usr/local/cuda/bin
nvcc=$(command -v nvcc || true)
cmake_bin=$(command -v cmake || true)
py=$(command -v python3 || true)
if [ -z "$nvcc" ] || [ -z "$cmake_bin" ]; then
    note "need nvcc and cmake (nvcc: ${nvcc:-missing}, cmake: ${cmake_bin:-missing})"
    record tools FAIL "nvcc or cmake missing"
    finish 4
fi
nvcc_ver=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

# cuDNN and cuBLAS: the toolkit's folders first, then PyTorch's nvidia-* wheels.
search_dirs=("${CUDNN_ROOT:-}" /usr/local/cuda /usr/local/cuda/targets/x86_64-linux /usr
    /usr/lib/x86_64-linux-gnu)
if [ -n "$py" ]; then
    site=$("$py" -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)
    for s in $site; do
        [ -d "$s/nvidia" ] && search_dirs+=("$s/nvidia")
    done
fi
find_file() { # name: the first match under the search folders
    local d
    for d in "${search_dirs[@]}"; do
        [ -n "$d" ] && [ -d "$d" ] || continue
        find -L "$d" -maxdepth 5 -name "$1" -print -quit 2>/dev/null | grep . && return 0
    done
    return 1
}
cudnn_h=$(find_file cudnn.h | head -1)
cudnn_lib=$(find_file 'libcudnn.so.9*' | head -1)
cudnn_lib=${cudnn_lib:-$(find_file 'libcudnn.so*' | head -1)}
cublas_lib=$(find_file 'libcublas.so.1[0-9]*' | head -1)
cublaslt_lib=$(find_file 'libcublasLt.so.1[0-9]*' | head -1)
if [ -z "$cudnn_h" ] || [ -z "$cudnn_lib" ] || [ -z "$cublas_lib" ]; then
    note "cuDNN or cuBLAS not found (cudnn.h: ${cudnn_h:-none}, libcudnn: ${cudnn_lib:-none}," \
        "libcublas: ${cublas_lib:-none}); searched ${search_dirs[*]}; set CUDNN_ROOT"
    record cudnn FAIL "not found"
    finish 4
fi
# A prefix that cmake's find_library understands (wheels ship only libcudnn.so.9).
cudnn_prefix=$work/cudnn
rm -rf "$cudnn_prefix" "$work/ctest-summary.txt"
mkdir -p "$cudnn_prefix/lib"
ln -s "$(dirname "$cudnn_h")" "$cudnn_prefix/include"
ln -s "$cudnn_lib" "$cudnn_prefix/lib/libcudnn.so"
lib_path=$(dirname "$cudnn_lib"):$(dirname "$cublas_lib"):$bundle/deps/lib
# PyTorch brings its own cuDNN and refuses an older one found first on the path
# (then it runs without cuDNN): Python gets the original path, vigil this one.
torch_ld=${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH=$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VIGIL_LD_LIBRARY_PATH=$LD_LIBRARY_PATH
pyrun() { LD_LIBRARY_PATH=$torch_ld PYTHONUNBUFFERED=1 "$@"; }
cublas_args=()
if [ ! -e /usr/local/cuda/lib64/libcublas.so ] && [ ! -e /usr/local/cuda/lib/libcublas.so ]; then
    # toolkit without cuBLAS: point FindCUDAToolkit at the wheel's (versioned) libraries
    cublas_args=(-DCUDA_cublas_LIBRARY="$cublas_lib" -DCUDA_cublasLt_LIBRARY="$cublaslt_lib")
fi
note "nvcc $nvcc_ver; cuDNN $cudnn_lib ($cudnn_h); cuBLAS $cublas_lib"
record toolchain ok "nvcc $nvcc_ver, cuDNN $(basename "$cudnn_lib"), cuBLAS $(basename "$cublas_lib")"

# --- 2. build -----------------------------------------------------------------------------
arch=${VIGIL_CUDA_ARCH:-}
if [ -z "$arch" ] && [ "$build_only" = 0 ]; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d .)
    arch=${cc:-90}
fi
arch=${arch:-90}
build=$work/build
t0=$(date +%s)
if PKG_CONFIG_PATH=$bundle/deps/lib/pkgconfig cmake -S "$root" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DVG_MINIMAL=ON -DVG_WITH_CUDA=ON -DVG_WERROR=OFF \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCMAKE_PREFIX_PATH="$bundle/deps" \
    -DVG_ONNX_PREGEN_DIR="$bundle/onnx-gen" -DCUDNN_ROOT="$cudnn_prefix" \
    "${cublas_args[@]}" >"$out/build.txt" 2>&1 &&
    cmake --build "$build" -j "$(nproc)" >>"$out/build.txt" 2>&1; then
    note "built in $(($(date +%s) - t0)) s (sm_$arch)"
    record build ok "minimal configuration, sm_$arch, $(($(date +%s) - t0)) s"
else
    tail -40 "$out/build.txt"
    record build FAIL "see build.txt"
    finish 1
fi
if [ "$build_only" = 1 ]; then
    note "--build-only: done"
    finish 0
fi

# --- 3. reference data and models ---------------------------------------------------------------
shared=$work/shared
rm -rf "$shared"
mkdir -p "$shared"
tar -C "$shared" -xJf "$bundle/shared.tar.xz"
export VIGIL_SHARED=$shared
t0=$(date +%s)
if [ -n "$py" ] && pyrun timeout "$(left 200)" "$py" "$root/bench/gpu/bench.py" models \
    --out "$shared"; then
    record models ok "ONNX remade with PyTorch in $(($(date +%s) - t0)) s"
else
    record models FAIL "bench.py models (the ONNX tests and the benchmark skip or fail)"
fi

# --- 4. tests ----------------------------------------------------------------------------------------
t0=$(date +%s)
# The tests share the GPU (each its own sessions and streams): 4 at a time.
(cd "$build" && timeout "$(left 200)" ctest -L gpu -j "${VIGIL_GPU_TEST_JOBS:-4}" --output-on-failure --output-junit "$out/ctest.xml" \
    --timeout 150) >"$out/ctest.txt" 2>&1
rc=$?
cat "$out/ctest.txt"
grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|tests failed|Skipped|Not Run' "$out/ctest.txt" \
    >"$work/ctest-summary.txt" || true
if [ $rc = 0 ] && ! grep -q '(Skipped)' "$out/ctest.txt"; then
    record tests ok "$(grep 'tests passed' "$out/ctest.txt"), $(($(date +%s) - t0)) s"
else
    record tests FAIL "$(grep -E 'tests passed|tests failed' "$out/ctest.txt" | head -1)" \
        "(a skip counts as a failure here)"
fi

# --- 4b. fp16 convolutions fused with their bias (off by default, VIGIL_CUDA_FP16_FUSE=1) ---------
# Reported, not counted: the fused fp16 call gave wrong outputs on an H100 (docs/GPU.md);
# a pass here, with its speed-up below, is the evidence for turning it on.
t0=$(date +%s)
(cd "$build" && VIGIL_CUDA_FP16_FUSE=1 timeout "$(left 120)" ctest -L gpu -j "${VIGIL_GPU_TEST_JOBS:-4}" \
    -R 'cuda_ops_test|fp16|hetero' --output-on-failure --timeout 100) >"$work/ctest-fuse16.txt" 2>&1
rc=$?
grep -E '^ *[0-9]+/[0-9]+ Test|FAIL|tests passed|tests failed' "$work/ctest-fuse16.txt" | head -40
if [ $rc = 0 ] && ! grep -q '(Skipped)' "$work/ctest-fuse16.txt"; then
    record "fp16 fusion (experimental)" passes "cuda_ops_test, fp16 golden/ONNX, hetero with" \
        "VIGIL_CUDA_FP16_FUSE=1, $(($(date +%s) - t0)) s"
else
    record "fp16 fusion (experimental)" "wrong, failed or skipped" "$(grep -E 'tests (passed|failed)' \
        "$work/ctest-fuse16.txt" | head -1) with VIGIL_CUDA_FP16_FUSE=1 (log: gpu-check.log)"
fi
bench_bin=$build/bench/gpu/vigil_gpu_bench
hr=$shared/bench/hrnet-w32-dynbatch.onnx
if [ -x "$bench_bin" ] && [ -f "$hr" ]; then
    for fuse in 0 1; do
        line=$(VIGIL_CUDA_FP16_FUSE=$fuse timeout "$(left 60)" "$bench_bin" --model "$hr" \
            --precision fp16 --shape 64x3x256x192 --runs 20 --warmup 5 2>&1 | tail -1)
        note "HRNet-W32 fp16 batch 64, VIGIL_CUDA_FP16_FUSE=$fuse: $line"
    done
    # where the time goes (every step synchronised: launch latency included)
    VIGIL_CUDA_PROFILE=1 VIGIL_LOG_LEVEL=info timeout "$(left 60)" "$bench_bin" --model "$hr" \
        --precision fp16 --shape 64x3x256x192 --runs 3 --warmup 1 2>&1 | grep 'profile' | head -30
fi

# --- 5. heterogeneous run of the CLI (full builds only) ------------------------------------------
if [ -n "${VIGIL_FULL_BUILD:-}" ] && [ -x "$VIGIL_FULL_BUILD/tests/gpu/gpu_run_test" ]; then
    if timeout "$(left 300)" "$VIGIL_FULL_BUILD/tests/gpu/gpu_run_test" \
        "$VIGIL_FULL_BUILD/src/apps/vigil" >"$out/run-test.txt" 2>&1; then
        record "vigil run" ok "gpu_run_test: $(tail -1 "$out/run-test.txt")"
    else
        record "vigil run" FAIL "gpu_run_test: $(tail -1 "$out/run-test.txt")"
    fi
    cat "$out/run-test.txt"
else
    record "vigil run" "not run" "needs a full build (FFmpeg, oneDNN): set VIGIL_FULL_BUILD;" \
        "gpu_hetero_test covered the device pairs at engine level"
fi

# --- 6. benchmark ----------------------------------------------------------------------------------
if [ "$skip_bench" = 0 ]; then
    vig=(--vigil-bench "$build/bench/gpu/vigil_gpu_bench")
    [ -n "${VIGIL_FULL_BUILD:-}" ] && [ -x "$VIGIL_FULL_BUILD/src/apps/vigil" ] &&
        vig=(--vigil "$VIGIL_FULL_BUILD/src/apps/vigil")
    t0=$(date +%s)
    if pyrun timeout "$(left 240)" "$py" "$root/bench/gpu/bench.py" run \
        --models "$shared/bench" "${vig[@]}" --json "$out/bench.json" \
        --markdown "$out/bench.md"; then
        record benchmark ok "$(($(date +%s) - t0)) s; table below"
    else
        record benchmark FAIL "bench.py run (partial table below, if any)"
    fi
fi

finish $failed
