/*
 * backends/cuda/cuda_backend.h - what the rest of vigil may ask of the cuda
 * backend besides its vtable (internal; only in builds with VG_HAVE_CUDA).
 */
#ifndef VG_BACKENDS_CUDA_BACKEND_H
#define VG_BACKENDS_CUDA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Describes GPU `ordinal` and the CUDA stack in one line, e.g.
 * "cuda:0: NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB, 132 SMs; driver 13.0, runtime 13.0,
 * cuDNN 9.13.0, cuBLAS 13.0.0" (for logs, `vigil` device listings and the GPU check script).
 * Returns VG_OK, or VG_E_DEVICE with err saying why (no driver, no such GPU).
 * MT safe.
 */
vg_status vgi_cuda_device_info(int ordinal, char *buf, size_t size, vgi_err *err);

/* Number of CUDA devices usable by this process (0 when there is no driver
 * or no GPU). MT safe. */
int vgi_cuda_device_count(void);

/* The cuda backend's supports_node() without an instance (it depends only on the
 * node, shapes and dtypes): lets tools and tests see which nodes would run on the
 * GPU on machines without one. MT safe. */
bool vgi_cuda_supports(const vgi_graph *g, int node_id, const vg_tensor *t);

#ifdef __cplusplus
}
#endif

#endif /* VG_BACKENDS_CUDA_BACKEND_H */
