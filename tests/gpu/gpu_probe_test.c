/*
 * gpu_probe_test.c - the CUDA runtime is usable: a device is found and a
 * buffer survives a host -> device -> host round trip. Skipped (77) where no
 * GPU or driver is present.
 */
#include <cuda_runtime_api.h>
#include <stdint.h>

#include "test.h"

static void require_gpu(void) {
    int         n  = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n == 0) {
        static char msg[256];
        snprintf(msg, sizeof(msg),
                 "no CUDA device (%s); GPU tests run on a machine with an NVIDIA GPU",
                 rc != cudaSuccess ? cudaGetErrorString(rc) : "0 devices");
        VG_SKIP(msg);
    }
}

static void test_roundtrip(void) {
    require_gpu();
    enum { N = 1 << 20 };
    static uint32_t host[N], back[N];
    for (uint32_t i = 0; i < N; i++)
        host[i] = i * 2654435761u;
    void *dev = NULL;
    VG_CHECK(cudaMalloc(&dev, sizeof(host)) == cudaSuccess);
    VG_CHECK(cudaMemcpy(dev, host, sizeof(host), cudaMemcpyHostToDevice) == cudaSuccess);
    VG_CHECK(cudaMemcpy(back, dev, sizeof(back), cudaMemcpyDeviceToHost) == cudaSuccess);
    cudaFree(dev);
    VG_CHECK(memcmp(host, back, sizeof(host)) == 0);
    struct cudaDeviceProp prop;
    VG_CHECK(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
    printf("  device 0: %s, compute capability %d.%d\n", prop.name, prop.major, prop.minor);
}

static const vg_test_case cases[] = {
    {"host-device roundtrip", test_roundtrip},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
