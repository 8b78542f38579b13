/*
 * cuda_blas.c - cuBLAS, loaded when the cuda backend first needs it.
 *
 * DESIGN
 * cuBLAS (with cuBLASLt, which it pulls in) costs about 150 MB of resident
 * memory the moment it is loaded, whatever the program does with it: linked
 * as a regular dependency, every vigil process paid that, CPU-only runs
 * included. So vigil does not link it. This file defines the few cuBLAS
 * entry points the backend calls, with cuBLAS's own declarations (so the
 * compiler checks every signature); the first call opens the library with
 * dlopen() and each stub forwards to the real function. If the library is
 * missing, the stubs return CUBLAS_STATUS_NOT_INITIALIZED and the log says
 * which file could not be opened and why, so the backend's error on
 * cublasCreate() leads straight to the cause. The stubs are hidden: they
 * serve this library only and never stand in for a program's own cuBLAS.
 */
#include <cublas_v2.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "vigil/log.h"

#define VGI_STR2(x) #x
#define VGI_STR(x)  VGI_STR2(x)

#define HIDDEN __attribute__((visibility("hidden")))

static const char *const sonames[] = {"libcublas.so." VGI_STR(CUBLAS_VER_MAJOR), "libcublas.so"};

static struct {
    void *lib;
    cublasStatus_t (*create)(cublasHandle_t *);
    cublasStatus_t (*destroy)(cublasHandle_t);
    cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
    cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t);
    cublasStatus_t (*get_property)(libraryPropertyType, int *);
    const char *(*status_string)(cublasStatus_t);
    cublasStatus_t (*gemm_strided_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t,
                                           int, int, int, const void *, const void *, cudaDataType,
                                           int, long long int, const void *, cudaDataType, int,
                                           long long int, const void *, void *, cudaDataType, int,
                                           long long int, int, cublasComputeType_t,
                                           cublasGemmAlgo_t);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym into a function pointer (POSIX guarantees the conversion works). */
static void sym(void *fp, const char *name) {
    void *p      = dlsym(api.lib, name);
    *(void **)fp = p;
    if (!p)
        vg_log("cuda", VG_LOG_ERROR, "%s has no symbol %s: %s; install the cuBLAS of CUDA %d",
               sonames[0], name, dlerror(), CUBLAS_VER_MAJOR);
}

static void load(void) {
    char why[512] = "";
    for (size_t i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !api.lib; i++) {
        api.lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (!api.lib && i == 0)
            snprintf(why, sizeof(why), "%s", dlerror());
    }
    if (!api.lib) {
        vg_log("cuda", VG_LOG_ERROR,
               "cannot load cuBLAS (%s): %s; install CUDA %d's cuBLAS or add its folder to "
               "LD_LIBRARY_PATH",
               sonames[0], why, CUBLAS_VER_MAJOR);
        return;
    }
    sym(&api.create, "cublasCreate_v2");
    sym(&api.destroy, "cublasDestroy_v2");
    sym(&api.set_stream, "cublasSetStream_v2");
    sym(&api.set_math_mode, "cublasSetMathMode");
    sym(&api.get_property, "cublasGetProperty");
    sym(&api.status_string, "cublasGetStatusString");
    sym(&api.gemm_strided_batched, "cublasGemmStridedBatchedEx");
}

static int ready(const void *fn) {
    pthread_once(&once, load);
    return *(void *const *)fn != NULL;
}

HIDDEN cublasStatus_t cublasCreate_v2(cublasHandle_t *handle) {
    return ready(&api.create) ? api.create(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

HIDDEN cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    return ready(&api.destroy) ? api.destroy(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

HIDDEN cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
    return ready(&api.set_stream) ? api.set_stream(handle, stream) : CUBLAS_STATUS_NOT_INITIALIZED;
}

HIDDEN cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    return ready(&api.set_math_mode) ? api.set_math_mode(handle, mode)
                                     : CUBLAS_STATUS_NOT_INITIALIZED;
}

HIDDEN cublasStatus_t cublasGetProperty(libraryPropertyType type, int *value) {
    return ready(&api.get_property) ? api.get_property(type, value) : CUBLAS_STATUS_NOT_INITIALIZED;
}

HIDDEN const char *cublasGetStatusString(cublasStatus_t status) {
    return ready(&api.status_string) ? api.status_string(status)
                                     : "cuBLAS could not be loaded (see the log)";
}

HIDDEN cublasStatus_t cublasGemmStridedBatchedEx(
    cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
    const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA,
    const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C,
    cudaDataType Ctype, int ldc, long long int strideC, int batchCount,
    cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
    if (!ready(&api.gemm_strided_batched))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    return api.gemm_strided_batched(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA,
                                    B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC,
                                    batchCount, computeType, algo);
}
