/* INTERFACE-STABLE: yes */
/*
 * backends/backend_impl.h - the interface between the engine and a compute
 * backend (internal).
 *
 * A backend instance is created per session (so it owns that session's
 * thread team, pinned to the device's cores) and is used by one thread at a
 * time. The engine reaches it only through this vtable.
 *
 * How the engine drives a backend, per execution plan (one per input shape):
 * 1. supports_node() is asked for every node that runs at run time, with the
 *    concrete shapes and dtypes of this plan. Nodes the preferred backend
 *    supports go to it; the others fall back to "ref" node by node.
 * 2. Consecutive nodes (in execution order) on the same backend form a
 *    segment. The engine places every non-constant value in one arena
 *    (liveness-based reuse) and calls segment_prepare() once per segment with
 *    the final data pointers: this is where a backend chooses layouts,
 *    creates primitives and pre-packs weights. Pointers stay valid for the
 *    plan's lifetime, so they can be captured.
 * 3. Each run calls segment_run() (or run_node() for each node) in order.
 *
 * Layout contract at boundaries: every value marked `external` in the
 * segment (read by another segment, a graph input, a graph output or a
 * constant) is in the plain dense C-order layout of its IR shape in its
 * tensor's data buffer. Values that are produced and consumed only inside
 * one segment (external == false) may be kept in any layout, in the arena
 * buffer or in the backend's own memory; their arena buffer may be left
 * untouched. So a backend that uses blocked layouts reorders only where a
 * value enters or leaves its segment.
 */
#ifndef VG_BACKENDS_BACKEND_IMPL_H
#define VG_BACKENDS_BACKEND_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/ir.h"
#include "vigil/status.h"
#include "vigil/tensor.h"
#include "vigil/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of device a backend instance runs on. */
typedef enum vgi_device_kind {
    VGI_DEVICE_CPU  = 0, /* a set of CPU cores */
    VGI_DEVICE_CUDA = 1, /* one NVIDIA GPU ("cuda:N") */
} vgi_device_kind;

/* Arithmetic precision asked of a backend. */
typedef enum vgi_precision {
    VGI_PRECISION_FP32 = 0,
    VGI_PRECISION_FP16 = 1, /* fp16 storage and tensor-core math (cuda only) */
} vgi_precision;

/* Where kernels run: a CPU-core set and a thread count ("cpu:0-1"), or a GPU
 * ("cuda:0"; cpus/n_threads then describe the host threads that drive it). */
typedef struct vgi_device {
    char            name[64];  /* as given, e.g. "cpu:0-1" */
    vgi_device_kind kind;      /* VGI_DEVICE_CPU unless "cuda..." */
    int             ordinal;   /* GPU index for VGI_DEVICE_CUDA, else 0 */
    vgi_precision   precision; /* set by the session, not by the parser */
    vg_cpuset       cpus;      /* cores to pin to (empty = no pinning) */
    int             n_threads; /* >= 1 */
} vgi_device;

/* Parses "cpu", "cpu:0", "cpu:0-3", "cpu:0,2" (and "cuda", "cuda:N" in
 * builds with the cuda backend); threads 0 = one per core. */
vg_status vgi_device_parse(const char *text, int threads, vgi_device *out, vgi_err *err);

/*
 * One run of consecutive nodes assigned to one backend within a plan.
 * Everything it points to is owned by the plan and stays valid (unchanged)
 * until segment_release().
 */
typedef struct vgi_segment {
    const vgi_graph *g;
    const int       *nodes; /* node ids in execution order */
    int              n_nodes;
    vg_tensor       *tensors; /* per value id: dtype, concrete shape, data (arena,
                                 constant or caller memory) */
    const bool *external;     /* per value id: see the layout contract above */
    int         index;        /* segment number in the plan (for messages) */
} vgi_segment;

typedef struct vgi_backend_iface {
    const char *name; /* "ref", "cpu", ... */

    /* (required) Can this backend run node `node_id` with these shapes and
     * dtypes (tensors[] per value id; data may be NULL)? Must be cheap and
     * have no side effects. */
    bool (*supports_node)(void *ctx, const vgi_graph *g, int node_id, const vg_tensor *tensors);

    /* (optional) Prepares a segment once per plan: pick layouts, create
     * primitives, pre-pack weights, allocate scratch. *state receives
     * backend data handed back to segment_run/segment_release.
     * Defaults to nothing (*state = NULL). Errors fill err (name the node). */
    vg_status (*segment_prepare)(void *ctx, const vgi_segment *seg, void **state, vgi_err *err);

    /* (optional) Runs a whole segment. Defaults to calling run_node() for
     * each node of seg in order. Must not allocate for the ref/cpu backends. */
    vg_status (*segment_run)(void *ctx, void *state, const vgi_segment *seg, vgi_err *err);

    /* (optional if segment_run is set) Runs one node of seg. */
    vg_status (*run_node)(void *ctx, void *state, const vgi_segment *seg, int node_id,
                          vgi_err *err);

    /* (optional) Frees what segment_prepare made. Default: nothing. */
    void (*segment_release)(void *ctx, void *state);

    /* (optional) Frees the backend instance. Default: nothing. */
    void (*destroy)(void *ctx);

    /* (optional) Allocates / frees host memory for a plan's arena, e.g.
     * page-locked memory so that copies to a GPU are asynchronous. NULL:
     * the engine uses vg_aligned_alloc / vg_free. Alignment >= 64 bytes. */
    void *(*host_alloc)(void *ctx, size_t bytes);
    void (*host_free)(void *ctx, void *ptr);
} vgi_backend_iface;

/* A backend instance: vtable + its own context. */
typedef struct vgi_backend {
    const vgi_backend_iface *iface;
    void                    *ctx;
} vgi_backend;

/*
 * Backend factories. Each creates an instance for a device; on failure
 * *out is zeroed and err says why. The registry in engine/backend.c lists
 * the ones built in: "ref" always; "cpu" when src/backends/cpu_dnnl defines
 * VG_HAVE_CPU_DNNL for vigil_objs (target_compile_definitions) and
 * implements vgi_cpu_dnnl_backend_create().
 */
typedef vg_status (*vgi_backend_create_fn)(const vgi_device *dev, vgi_backend *out, vgi_err *err);

vg_status vgi_ref_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err);
vg_status vgi_cpu_dnnl_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err);
vg_status vgi_cuda_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err);

/* Looks a factory up by name ("ref", "cpu"); NULL when not built in. */
vgi_backend_create_fn vgi_backend_find(const char *name);

/* Calls iface->destroy if set and zeroes b. */
void vgi_backend_destroy(vgi_backend *b);

#ifdef __cplusplus
}
#endif

#endif /* VG_BACKENDS_BACKEND_IMPL_H */
