/*
 * gpu_util.c - see gpu_util.h.
 */
#include "gpu_util.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

bool vg_test_gpu_present(void) {
    int         n  = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc == cudaSuccess && n > 0)
        return true;
    printf("SKIPPED: no CUDA device (%s); the GPU tests run on a machine with an NVIDIA GPU "
           "(tools/gpu-check.sh)\n",
           rc != cudaSuccess ? cudaGetErrorString(rc) : "0 devices");
    fflush(stdout);
    return false;
}
