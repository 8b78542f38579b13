/*
 * gpu_util.h - helpers of the GPU tests: is a CUDA device present?
 */
#ifndef VG_TESTS_GPU_UTIL_H
#define VG_TESTS_GPU_UTIL_H

#include <stdbool.h>

/* True when the CUDA runtime finds at least one device. Otherwise prints
 * "SKIPPED: no CUDA device (...)" with the runtime's reason and returns
 * false; the caller then exits 77 (ctest: skipped). */
bool vg_test_gpu_present(void);

#endif
