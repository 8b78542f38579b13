/*
 * dnnl_impl.h - a thin internal layer over oneDNN's C API (2.x) for the `cpu` backend.
 *
 * Three parts:
 * - vgi_dnnl: one oneDNN engine + stream per model instance, with that instance's
 *   thread count and CPU set (the "device" cpu:0-1). oneDNN is built on OpenMP here
 *   (libgomp): it sizes its parallel regions with omp_get_max_threads() of the
 *   calling thread, so vgi_dnnl_enter() sets that thread's OpenMP thread count and
 *   pins the thread team it will use to the instance's CPUs.
 * - vgi_dnnl_check(): the one place where dnnl_status_t becomes vg_status, keeping
 *   oneDNN's own status name in the message.
 * - vgi_dnnl_prim: one primitive (convolution, pooling, resampling, eltwise, binary,
 *   concat, reorder) created once for fixed shapes from a small params struct. It
 *   owns oneDNN memory objects created without data; vgi_dnnl_prim_exec() only
 *   points them at the caller's buffers, so running allocates nothing. Scratchpad
 *   memory is user-managed: the caller provides prim->scratch_bytes.
 *
 * Tensor layouts are oneDNN memory descriptors. Dimensions are always logical
 * N,C,H,W (oneDNN's convention); the physical order (nchw, nhwc, nChw8c ...) is in
 * the descriptor. Primitives whose output layout is "any" pick the fastest one;
 * query it from prim->dst_md.
 */
#ifndef VG_DNNL_IMPL_H
#define VG_DNNL_IMPL_H

#include <dnnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/thread.h"

/* ---- instance context ----------------------------------------------------------------------- */

typedef struct vgi_dnnl_params {
    int       threads; /* >= 1; 0: one per CPU in `cpus` (or all available CPUs) */
    vg_cpuset cpus;    /* empty: no pinning */
} vgi_dnnl_params;

typedef struct vgi_dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    uint64_t      id; /* process-unique */
    int           threads;
    vg_cpuset     cpus;
    int           ncpus; /* CPUs in `cpus`; 0 = no pinning */
    int           cpu_list[64];
    char          err[256]; /* last error text */
} vgi_dnnl;

vgi_dnnl_params vgi_dnnl_params_default(void);

/* Creates the engine and stream. On failure everything is released. */
vg_status vgi_dnnl_init(vgi_dnnl *d, const vgi_dnnl_params *p);
void      vgi_dnnl_fini(vgi_dnnl *d); /* zeroed or already finished: no-op */

/*
 * Makes the calling thread run oneDNN work with d's thread count and CPUs: sets its
 * OpenMP thread count and, when d has a CPU set, pins every thread of the team this
 * thread will use to that set. Call before
 * creating primitives (oneDNN picks kernels for the thread count) and before
 * running them. Cheap: pinning (one small parallel region) happens only when this
 * thread last worked for another instance.
 */
void vgi_dnnl_enter(const vgi_dnnl *d);

/*
 * The one conversion from dnnl_status_t: returns VG_OK for dnnl_success, else the
 * matching vg_status and writes "<what>: oneDNN <status name>" into d->err (if d).
 */
vg_status vgi_dnnl_check(vgi_dnnl *d, dnnl_status_t s, const char *what);

/* Fills md with a plain f32 descriptor: ndims 1..6, tag e.g. dnnl_nchw / dnnl_nhwc / dnnl_a. */
vg_status vgi_dnnl_md(vgi_dnnl *d, dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                      dnnl_format_tag_t tag);

/* ---- post-ops --------------------------------------------------------------------------- */

typedef enum vgi_dnnl_act {
    VGI_DNNL_ACT_NONE = 0,
    VGI_DNNL_ACT_RELU, /* max(x, 0); alpha != 0 gives leaky relu with slope alpha */
    VGI_DNNL_ACT_CLIP, /* min(max(x, alpha), beta); relu6 = clip(0, 6) */
    VGI_DNNL_ACT_SIGMOID,
    VGI_DNNL_ACT_TANH,
    VGI_DNNL_ACT_HARDSWISH, /* x * relu6(x + 3) / 6 */
    VGI_DNNL_ACT_SWISH,     /* x * sigmoid(alpha * x); SiLU: alpha = 1 */
    VGI_DNNL_ACT_ELU,       /* alpha * (exp(x) - 1) for x < 0 */
    VGI_DNNL_ACT_LINEAR,    /* alpha * x + beta */
    VGI_DNNL_ACT_EXP,
    VGI_DNNL_ACT_ABS,
    VGI_DNNL_ACT_SQRT,
    VGI_DNNL_ACT_SQUARE,
    VGI_DNNL_ACT_LOG,
    VGI_DNNL_ACT_SOFTPLUS,
    VGI_DNNL_ACT_GELU_ERF,
    VGI_DNNL_ACT_ROUND, /* half to even */
} vgi_dnnl_act;

typedef enum vgi_dnnl_post_kind {
    VGI_DNNL_POST_ELTWISE = 0, /* act(x) */
    VGI_DNNL_POST_BINARY,      /* x (op) other tensor, broadcast (src1 = binary_md) */
} vgi_dnnl_post_kind;

#define VGI_DNNL_MAX_POST 4

typedef struct vgi_dnnl_post {
    vgi_dnnl_post_kind kind;
    vgi_dnnl_act       act; /* ELTWISE */
    float              alpha, beta;
    dnnl_alg_kind_t    binary_alg; /* BINARY: dnnl_binary_add, _mul ... */
    dnnl_memory_desc_t binary_md;  /* BINARY: the second operand's descriptor */
} vgi_dnnl_post;

/* The oneDNN eltwise algorithm, alpha and beta for act (false if none). */
bool vgi_dnnl_act_alg(vgi_dnnl_act act, float alpha, float beta, dnnl_alg_kind_t *alg, float *a,
                      float *b);

/* ---- primitives ------------------------------------------------------------------------- */

typedef enum vgi_dnnl_prim_kind {
    VGI_DNNL_PRIM_CONV = 1,
    VGI_DNNL_PRIM_POOL,
    VGI_DNNL_PRIM_RESAMPLE,
    VGI_DNNL_PRIM_ELTWISE,
    VGI_DNNL_PRIM_BINARY,
    VGI_DNNL_PRIM_CONCAT,
    VGI_DNNL_PRIM_REORDER,
} vgi_dnnl_prim_kind;

#define VGI_DNNL_MAX_SRC  16
#define VGI_DNNL_MAX_ARGS (VGI_DNNL_MAX_SRC + VGI_DNNL_MAX_POST + 4)

typedef struct vgi_dnnl_prim {
    vgi_dnnl_prim_kind kind;
    dnnl_primitive_t   prim;
    int                nsrc;
    dnnl_memory_desc_t src_md[VGI_DNNL_MAX_SRC];
    dnnl_memory_desc_t dst_md;
    dnnl_memory_desc_t wei_md; /* conv: the layout the weights must be in (packed) */
    size_t             scratch_bytes;
    /* execution: memory objects without data, bound on each run */
    int             nargs;
    dnnl_exec_arg_t args[VGI_DNNL_MAX_ARGS];
    /* index into args of each role, -1 if absent */
    int a_src[VGI_DNNL_MAX_SRC], a_dst, a_wei, a_bias, a_scratch;
    int a_post[VGI_DNNL_MAX_POST];
} vgi_dnnl_prim;

/* Buffers for one run; NULL entries are allowed only for absent roles. */
typedef struct vgi_dnnl_bufs {
    const void *src[VGI_DNNL_MAX_SRC];
    void       *dst;
    const void *wei;
    const void *bias;
    const void *post[VGI_DNNL_MAX_POST]; /* binary post-op operands */
    void       *scratch;                 /* prim->scratch_bytes bytes (or NULL when 0) */
} vgi_dnnl_bufs;

/* Convolution (incl. grouped/depthwise) with optional bias and post-ops. Logical shapes:
 * src [n, ic, ih, iw], weights [groups, oc/groups, ic/groups, kh, kw], dst [n, oc, oh, ow]. */
typedef struct vgi_dnnl_conv_params {
    int64_t                   n, ic, ih, iw, oc, oh, ow, kh, kw, groups;
    int64_t                   stride[2], dilation[2]; /* dilation 1 = dense (ONNX/TF convention) */
    int64_t                   pad_l[2], pad_r[2];     /* top/left and bottom/right padding */
    bool                      bias;
    const dnnl_memory_desc_t *src_md; /* NULL: let oneDNN choose ("any") */
    const dnnl_memory_desc_t *dst_md; /* NULL: "any" */
    int                       npost;
    vgi_dnnl_post             post[VGI_DNNL_MAX_POST];
} vgi_dnnl_conv_params;

typedef struct vgi_dnnl_pool_params {
    bool                      max; /* false: average */
    bool                      avg_include_pad;
    int64_t                   oh, ow, kernel[2], stride[2], pad_l[2], pad_r[2];
    dnnl_memory_desc_t        src_md; /* [n, c, ih, iw] */
    const dnnl_memory_desc_t *dst_md; /* NULL: "any" (follows the source layout) */
} vgi_dnnl_pool_params;

typedef struct vgi_dnnl_resample_params {
    bool                      linear; /* false: nearest */
    int64_t                   oh, ow;
    dnnl_memory_desc_t        src_md; /* [n, c, ih, iw] (or 3-D/5-D) */
    const dnnl_memory_desc_t *dst_md; /* NULL: "any" */
} vgi_dnnl_resample_params;

typedef struct vgi_dnnl_eltwise_params {
    vgi_dnnl_act       act;
    float              alpha, beta;
    dnnl_memory_desc_t src_md; /* dst uses the same descriptor */
} vgi_dnnl_eltwise_params;

typedef struct vgi_dnnl_binary_params {
    dnnl_alg_kind_t           alg;     /* dnnl_binary_add, _sub, _mul, _div, _max, _min ... */
    dnnl_memory_desc_t        src0_md; /* dst has src0's shape */
    dnnl_memory_desc_t        src1_md; /* same ndims; a dim may be 1 (broadcast) */
    const dnnl_memory_desc_t *dst_md;  /* NULL: "any" (src0's layout) */
    int                       npost;   /* eltwise post-ops only */
    vgi_dnnl_post             post[VGI_DNNL_MAX_POST];
} vgi_dnnl_binary_params;

typedef struct vgi_dnnl_concat_params {
    int                       n, axis;
    const dnnl_memory_desc_t *src_mds; /* n descriptors */
    const dnnl_memory_desc_t *dst_md;  /* NULL: "any" */
} vgi_dnnl_concat_params;

vg_status vgi_dnnl_conv_create(vgi_dnnl *d, const vgi_dnnl_conv_params *p, vgi_dnnl_prim *out);
vg_status vgi_dnnl_pool_create(vgi_dnnl *d, const vgi_dnnl_pool_params *p, vgi_dnnl_prim *out);
vg_status vgi_dnnl_resample_create(vgi_dnnl *d, const vgi_dnnl_resample_params *p,
                                   vgi_dnnl_prim *out);
vg_status vgi_dnnl_eltwise_create(vgi_dnnl *d, const vgi_dnnl_eltwise_params *p,
                                  vgi_dnnl_prim *out);
vg_status vgi_dnnl_binary_create(vgi_dnnl *d, const vgi_dnnl_binary_params *p, vgi_dnnl_prim *out);
vg_status vgi_dnnl_concat_create(vgi_dnnl *d, const vgi_dnnl_concat_params *p, vgi_dnnl_prim *out);
/* Copies between two layouts of the same logical tensor. */
vg_status vgi_dnnl_reorder_create(vgi_dnnl *d, const dnnl_memory_desc_t *src,
                                  const dnnl_memory_desc_t *dst, vgi_dnnl_prim *out);

/* Runs p on d's stream (synchronously). Call vgi_dnnl_enter() first on this thread. */
vg_status vgi_dnnl_prim_exec(vgi_dnnl *d, vgi_dnnl_prim *p, const vgi_dnnl_bufs *b);
void      vgi_dnnl_prim_fini(vgi_dnnl_prim *p); /* zeroed or finished: no-op */

/* One-shot reorder (creates, runs and frees a primitive): for packing weights once. */
vg_status vgi_dnnl_reorder_once(vgi_dnnl *d, const dnnl_memory_desc_t *src_md, const void *src,
                                const dnnl_memory_desc_t *dst_md, void *dst);

/* oneDNN's implementation name of p ("jit:avx2", "jit_dw:avx2", "ref:any" ...). Static. */
const char *vgi_dnnl_prim_impl(const vgi_dnnl_prim *p);
/* True when oneDNN fell back to its reference (slow) implementation for p. */
bool vgi_dnnl_prim_is_ref(const vgi_dnnl_prim *p);

/* Bytes of a descriptor (padded blocked layouts are larger than the logical size). */
size_t vgi_dnnl_md_bytes(const dnnl_memory_desc_t *md);
/* True when md is a plain dense layout matching tag. */
bool vgi_dnnl_md_is(const dnnl_memory_desc_t *md, dnnl_format_tag_t tag);

#endif /* VG_DNNL_IMPL_H */
