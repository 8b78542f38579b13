/*
 * cuda_blas_test.c - the cuBLAS that the cuda backend opens on first use
 * (src/backends/cuda/cuda_blas.c) loads and answers, without a GPU:
 * cublasGetProperty needs neither a device nor a handle. Skips (77) where
 * the cuBLAS library cannot be opened.
 */
#include <cublas_v2.h>
#include <dlfcn.h>
#include <stdio.h>

#include "test.h"

#define STR2(x) #x
#define STR(x)  STR2(x)

static void test_version(void) {
    void *probe = dlopen("libcublas.so." STR(CUBLAS_VER_MAJOR), RTLD_NOW | RTLD_LOCAL);
    if (!probe)
        VG_SKIP("cuBLAS (libcublas.so." STR(CUBLAS_VER_MAJOR) ") cannot be opened here");
    dlclose(probe);
    int major = -1, minor = -1;
    VG_CHECK(cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS);
    VG_CHECK(cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS);
    /* the library the stubs forward to is the one the headers describe */
    VG_CHECK_INT_EQ(major, CUBLAS_VER_MAJOR);
    VG_CHECK(minor >= 0);
    const char *s = cublasGetStatusString(CUBLAS_STATUS_NOT_INITIALIZED);
    VG_CHECK(s != NULL && s[0] != '\0');
}

static const vg_test_case cases[] = {
    {"cuBLAS opened on first use answers cublasGetProperty", test_version},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
