/*
 * cuda_backend.c - the `cuda` backend: one NVIDIA GPU through cuDNN, cuBLAS and
 * the kernels of cuda_kernels.cu.
 *
 * DESIGN
 * An instance owns one CUDA stream and a cuDNN and a cuBLAS handle bound to it,
 * on GPU dev->ordinal; every entry point first makes that GPU current for the
 * calling thread (the engine may call from different threads, one at a time).
 *
 * segment_prepare() walks the segment once, in execution order, and turns it
 * into a flat list of steps with every operand bound: host->device copies of
 * the values that enter the segment (made just before their first reader),
 * kernel launches or cuDNN/cuBLAS calls, and device->host copies of the values
 * the rest of the plan reads (right after their producer). Constants (weights,
 * biases, scalar operands, resize tables) are converted once (f16, filter
 * layout) and uploaded into one device block. Every other device buffer
 * (values, padded conv inputs, f32 staging for f16 conversions) gets a
 * lifetime in steps, and vgi_cuda_mem_plan() places them all in one device
 * allocation (buffers whose lifetimes overlap never share bytes); the cuDNN
 * workspace is one more allocation, sized by the algorithms chosen with
 * cudnnFindConvolutionForwardAlgorithmEx on the real buffers. Nothing is
 * allocated at run time: segment_run() issues the steps on the stream and
 * synchronises once at the end.
 *
 * Layout and precision. FP32: values keep the IR layout (NHWC for TF.js graphs,
 * NCHW for ONNX graphs; cuDNN takes either) and TF32 is forbidden (cuDNN FMA
 * math, cuBLAS default math), so results match the CPU within float rounding.
 * FP16: every float32 value is stored as f16 (weights too), cuDNN/cuBLAS use
 * tensor cores with float accumulation, and convolutions of NCHW graphs run
 * channels-last: a conv's output is kept NHWC ("perm") and so are the outputs of
 * the layout-agnostic ops that read it (elementwise, pooling, resize, concat,
 * split), which see each operand through its strides; any other reader, a view
 * and the way out get a plain copy (relayout(), made once per value). Boundary
 * copies convert through a float32 staging buffer.
 *
 * Fusion (adjacent nodes only, intermediate read by nothing else and not needed
 * on the host): conv + bias + ReLU (cudnnConvolutionBiasActivationForward), conv
 * + residual Add (+ activation) through cuDNN's z input, and an activation after
 * a binary op inside the binary kernel. Whether cuDNN accepts a fused call is
 * probed once at preparation; otherwise the conv runs alone and one epilogue
 * kernel adds bias and residual and applies the activation. fp16 convs are not
 * fused by default (see prep_conv).
 *
 * View nodes (reshape, squeeze, ...) are elided by the engine; when a view's
 * source was produced by this segment, its readers here use the same device
 * buffer instead of a round trip through host memory.
 *
 * supports_node() claims only what is implemented here with exactly the ref
 * backend's semantics; everything else falls back node by node.
 */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_impl.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/log.h"

#define CONST_ALIGN   256
#define ARENA_ALIGN   256
#define FIND_WS_LIMIT ((size_t)512 << 20) /* workspace offered to cuDNN's algorithm search */

typedef struct cuda_ctx {
    char name[64];
    int  ordinal;
    bool graphs;  /* replay segments as CUDA graphs (VIGIL_CUDA_GRAPHS=0: never) */
    bool find;    /* time cuDNN's algorithms (VIGIL_CUDA_FIND=0: heuristics only,
                     faster plan creation for many batch sizes) */
    bool profile; /* VIGIL_CUDA_PROFILE=1: time each step (no graphs), log at release */
    bool fuse16;  /* VIGIL_CUDA_FP16_FUSE=1: fuse fp16 convs (f16 bias, zeros as z); off
                     until a GPU confirms the fix of the H100's wrong outputs */
    vgi_precision  prec;
    cudaStream_t   stream;
    cudnnHandle_t  dnn;
    cublasHandle_t blas;
} cuda_ctx;

/* ---- errors: one conversion per library ------------------------------------------------ */

static vg_status cu_err(const cuda_ctx *c, vgi_err *err, cudaError_t e, const char *what,
                        const char *node) {
    return vgi_err_set(err, VG_E_BACKEND, "%s: %s%s%s%s: %s (%s)", c->name, node ? "node '" : "",
                       node ? node : "", node ? "': " : "", what, cudaGetErrorString(e),
                       cudaGetErrorName(e));
}

/* cuDNN's own account of its last failure in this thread ("" when it gives none). */
static const char *dnn_why(char *buf, size_t n) {
    buf[0] = '\0';
#if CUDNN_MAJOR >= 9
    cudnnGetLastErrorString(buf, n);
    buf[n - 1] = '\0';
#endif
    return buf;
}

static vg_status dnn_err(const cuda_ctx *c, vgi_err *err, cudnnStatus_t s, const char *what,
                         const char *node) {
    char why[256];
    dnn_why(why, sizeof(why));
    return vgi_err_set(err, VG_E_BACKEND, "%s: %s%s%s%s: %s (%d)%s%s", c->name,
                       node ? "node '" : "", node ? node : "", node ? "': " : "", what,
                       cudnnGetErrorString(s), (int)s, why[0] ? "; cuDNN says: " : "", why);
}

static vg_status blas_err(const cuda_ctx *c, vgi_err *err, cublasStatus_t s, const char *what,
                          const char *node) {
    return vgi_err_set(err, VG_E_BACKEND, "%s: %s%s%s%s: %s", c->name, node ? "node '" : "",
                       node ? node : "", node ? "': " : "", what, cublasGetStatusString(s));
}

/* ---- per-segment state ------------------------------------------------------------------ */

/* Where a device operand lives before the allocations exist. */
enum { REF_NONE = 0, REF_ARENA, REF_CONST };
typedef struct dref {
    int    kind;
    int    buf; /* REF_ARENA: planned buffer index */
    size_t off; /* bytes from the buffer (REF_ARENA) or the constant block (REF_CONST) */
} dref;

typedef enum step_kind {
    S_H2D,
    S_D2H,
    S_CONVERT,
    S_FILL,
    S_COPY,
    S_UNARY,
    S_BINARY,
    S_CONV,
    S_POOL,
    S_RESIZE,
    S_SOFTMAX,
    S_REDUCE,
    S_ARGMAX,
    S_GEMM,
} step_kind;

typedef enum conv_impl { CONV_CUDNN = 0, CONV_FUSED, CONV_DIRECT } conv_impl;

typedef struct step {
    step_kind   kind;
    int         node; /* graph node id, for messages */
    dref        rx, rx2, ry, rt0, rt1, rt2, rt3, rz;
    void       *x2_, *t0, *t1, *t2, *t3, *z; /* bound */
    const void *x;
    void       *y;
    void       *host;
    size_t      bytes;
    vgi_cu_dt   dt, dt2;
    int64_t     n;
    int         op;
    float       a, b;
    vgi_cu_nd   nd;
    size_t      es;
    int64_t     outer, axis, inner;
    bool        flag, flag2;
    union {
        vgi_cu_pool_args   pool;
        vgi_cu_resize_args resize;
        vgi_cu_conv_args   conv;
        vgi_cu_reduce_args red;
    } u;
    /* convolution */
    conv_impl                     impl;
    cudnnTensorDescriptor_t       xd, yd, bd;
    cudnnFilterDescriptor_t       wd;
    cudnnConvolutionDescriptor_t  cd;
    cudnnActivationDescriptor_t   ad;
    cudnnConvolutionFwdAlgo_t     algo, fused_algo;
    bool                          deconv; /* transposed: cuDNN backward data */
    bool                          zero_z; /* fused, no residual: z is the zero block */
    cudnnConvolutionBwdDataAlgo_t balgo;
    size_t                        ws_need, fused_ws;
    int64_t                       C, ch_inner;
    int                           act;
    float                         act_a, act_b;
    /* gemm: column-major view of the row-major product (see prep_matmul) */
    cublasOperation_t opa, opb;
    int               m, nn, k, lda, ldb, ldc, batch;
    long long         sa, sb, sc;
    float             alpha, beta;
} step;

typedef struct seg_state {
    step            *steps;
    int              n_steps, cap_steps;
    vgi_cuda_buf    *bufs;
    int              n_bufs, cap_bufs;
    void            *arena; /* device */
    size_t           arena_bytes;
    void            *cpool; /* device: constants */
    size_t           cpool_bytes;
    void            *ws; /* device: cuDNN workspace */
    size_t           ws_bytes;
    void            *zero;  /* device: zeros, cuDNN's z for fused fp16 convs without residual */
    cudaGraphExec_t  graph; /* the steps captured on the second run, replayed after */
    int              runs;
    bool             no_graph; /* capture failed once: plain runs from now on */
    int64_t         *prof_ns;  /* VIGIL_CUDA_PROFILE: per step, summed over prof_runs */
    int              prof_runs;
    const vgi_graph *g; /* for the profile's node names */
    int              index;
} seg_state;

/* Per value, while building. */
typedef struct vinfo {
    bool ready; /* has a device copy */
    dref d;
    bool perm;    /* d holds a logical NCHW value in NHWC order (fp16 tensor-core layout) */
    bool has_alt; /* alt holds the same value in the other layout */
    dref alt;
} vinfo;

typedef struct builder {
    cuda_ctx          *c;
    const vgi_segment *seg;
    seg_state         *s;
    vgi_err           *err;
    vinfo             *vi;
    int               *pos;       /* per node: position in the segment, -1 outside */
    bool              *need_host; /* per value: read on the host after its producer */
    unsigned char     *cblob;     /* host image of the constant block */
    size_t             cbytes, ccap;
    int                t;          /* current step time (node position + 1) */
    int                n_relayout; /* NCHW <-> NHWC copies made */
    bool              *fused;      /* per node: done inside the previous node's step */
    size_t             zero_bytes; /* largest y of a fused fp16 conv without residual */
    bool               warned_direct;
    const vgi_node    *n; /* node being built */
} builder;

static vg_status nomem(builder *b) {
    return vgi_err_set(b->err, VG_E_NOMEM, "%s: out of host memory while preparing segment %d",
                       b->c->name, b->seg->index);
}

static const vg_tensor *T(const builder *b, int v) {
    return &b->seg->tensors[v];
}

static bool is_f32(const vg_tensor *t, int v) {
    return v >= 0 && t[v].dtype == VG_DTYPE_F32 && t[v].shape.ndim >= 0 &&
           vg_shape_numel(&t[v].shape) > 0;
}

static vgi_cu_dt fdt(const builder *b) {
    return b->c->prec == VGI_PRECISION_FP16 ? VGI_CU_F16 : VGI_CU_F32;
}

/* Bytes per element of value v on the device. */
static size_t dev_es(const builder *b, int v) {
    if (T(b, v)->dtype == VG_DTYPE_F32)
        return fdt(b) == VGI_CU_F16 ? 2 : 4;
    return vg_dtype_size(T(b, v)->dtype);
}

static vg_status push_step(builder *b, const step *st) {
    seg_state *s = b->s;
    if (s->n_steps == s->cap_steps) {
        int   cap = s->cap_steps ? 2 * s->cap_steps : 64;
        step *p   = vg_realloc(s->steps, (size_t)cap * sizeof(step));
        if (!p)
            return nomem(b);
        s->steps     = p;
        s->cap_steps = cap;
    }
    s->steps[s->n_steps++] = *st;
    return VG_OK;
}

/* Destroys the cuDNN descriptors a step holds (those it has). */
static void step_destroy_descs(step *st) {
    if (st->xd)
        cudnnDestroyTensorDescriptor(st->xd);
    if (st->yd)
        cudnnDestroyTensorDescriptor(st->yd);
    if (st->bd)
        cudnnDestroyTensorDescriptor(st->bd);
    if (st->wd)
        cudnnDestroyFilterDescriptor(st->wd);
    if (st->cd)
        cudnnDestroyConvolutionDescriptor(st->cd);
    if (st->ad)
        cudnnDestroyActivationDescriptor(st->ad);
}

static void step_init(builder *b, step *st, step_kind k) {
    memset(st, 0, sizeof(*st));
    st->kind = k;
    st->node = b->n ? (int)(b->n - b->seg->g->nodes) : -1;
    st->dt   = fdt(b);
}

static vg_status new_buf(builder *b, size_t bytes, dref *out) {
    seg_state *s = b->s;
    if (s->n_bufs == s->cap_bufs) {
        int           cap = s->cap_bufs ? 2 * s->cap_bufs : 64;
        vgi_cuda_buf *p   = vg_realloc(s->bufs, (size_t)cap * sizeof(*p));
        if (!p)
            return nomem(b);
        s->bufs     = p;
        s->cap_bufs = cap;
    }
    vgi_cuda_buf *nb = &s->bufs[s->n_bufs];
    nb->bytes        = bytes ? bytes : 1;
    nb->first = nb->last = b->t;
    nb->offset           = 0;
    out->kind            = REF_ARENA;
    out->buf             = s->n_bufs++;
    out->off             = 0;
    return VG_OK;
}

static void touch(builder *b, const dref *d) {
    if (d->kind == REF_ARENA && b->s->bufs[d->buf].last < b->t)
        b->s->bufs[d->buf].last = b->t;
}

/* Appends bytes to the constant block (CONST_ALIGN aligned). */
static vg_status const_add(builder *b, const void *data, size_t bytes, dref *out) {
    size_t off = (b->cbytes + CONST_ALIGN - 1) & ~(size_t)(CONST_ALIGN - 1);
    if (off + bytes > b->ccap) {
        size_t cap = b->ccap ? b->ccap : 1 << 16;
        while (cap < off + bytes)
            cap *= 2;
        unsigned char *p = vg_realloc(b->cblob, cap);
        if (!p)
            return nomem(b);
        b->cblob = p;
        b->ccap  = cap;
    }
    if (off > b->cbytes)
        memset(b->cblob + b->cbytes, 0, off - b->cbytes);
    if (data)
        memcpy(b->cblob + off, data, bytes);
    b->cbytes = off + bytes;
    out->kind = REF_CONST;
    out->buf  = -1;
    out->off  = off;
    return VG_OK;
}

/* Uploads float32 data as the float storage type (f16 or f32). */
static vg_status const_floats(builder *b, const float *src, int64_t n, dref *out) {
    if (fdt(b) == VGI_CU_F32)
        return const_add(b, src, (size_t)n * 4, out);
    vg_status st = const_add(b, NULL, (size_t)n * 2, out);
    if (st)
        return st;
    uint16_t *h = (uint16_t *)(b->cblob + out->off);
    for (int64_t i = 0; i < n; i++)
        h[i] = vg_f32_to_f16(src[i]);
    return VG_OK;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        vg_status try_st_ = (expr);                                                                \
        if (try_st_ != VG_OK)                                                                      \
            return try_st_;                                                                        \
    } while (0)

static void dense_strides(const vg_shape *s, int64_t *st) {
    int64_t acc = 1;
    for (int d = s->ndim - 1; d >= 0; d--) {
        st[d] = acc;
        acc *= s->dims[d];
    }
}

static dref dref_at(dref d, size_t bytes) {
    d.off += bytes;
    return d;
}

/* A strided copy step dst <- src over nd (operand 0 dst, 1 src). */
static vg_status emit_copy(builder *b, dref src, dref dst, vgi_cu_nd *nd, size_t es) {
    step s;
    step_init(b, &s, S_COPY);
    vgi_cuda_nd_simplify(nd, 2);
    s.rx = src;
    s.ry = dst;
    s.nd = *nd;
    s.es = es;
    return push_step(b, &s);
}

static vg_status emit_fill(builder *b, dref dst, int64_t n, float value) {
    step s;
    step_init(b, &s, S_FILL);
    s.ry = dst;
    s.n  = n;
    s.a  = value;
    return push_step(b, &s);
}

/* ---- value placement ---------------------------------------------------------------------- */

/* The value v's bytes alias (through elided views outside this segment). */
static int view_root(const builder *b, int v) {
    const vgi_graph *g = b->seg->g;
    for (int guard = 0; guard < g->n_nodes; guard++) {
        int p = g->values[v].producer;
        if (p < 0 || b->pos[p] >= 0)
            return v;
        const vgi_node *n = &g->nodes[p];
        if (!(vgi_op_get(n->op)->flags & VGI_OPF_VIEW) || n->n_in < 1 || n->in[0] < 0)
            return v;
        int src = n->in[0];
        if (!T(b, v)->data || T(b, v)->data != T(b, src)->data ||
            T(b, v)->dtype != T(b, src)->dtype)
            return v;
        v = src;
    }
    return v;
}

static vg_status get_in(builder *b, int v, dref *out);

/* The device copy of a value the current node reads, in whatever layout it has
 * (b->vi[v].perm says which). */
static vg_status get_raw(builder *b, int v, dref *out) {
    vinfo *vi = &b->vi[v];
    if (!vi->ready) {
        int r = view_root(b, v);
        if (r != v && b->vi[r].ready && b->pos[b->seg->g->values[r].producer] >= 0) {
            /* a view reads its source's bytes in plain order */
            dref plain;
            TRY(get_in(b, r, &plain));
            vi->d     = plain;
            vi->perm  = false;
            vi->ready = true;
        } else if (b->seg->g->values[v].flags & VGI_VALUE_CONST) {
            const vg_tensor *t  = T(b, v);
            vg_status        st = t->dtype == VG_DTYPE_F32
                                      ? const_floats(b, t->data, vg_shape_numel(&t->shape), &vi->d)
                                      : const_add(b, t->data, vg_tensor_nbytes(t), &vi->d);
            if (st)
                return st;
            vi->ready = true;
        } else {
            /* enters the segment: copy from its host buffer right before this node */
            const vg_tensor *t     = T(b, v);
            int64_t          numel = vg_shape_numel(&t->shape);
            vg_status        st    = new_buf(b, (size_t)numel * dev_es(b, v), &vi->d);
            if (st)
                return st;
            step s;
            if (t->dtype == VG_DTYPE_F32 && fdt(b) == VGI_CU_F16) {
                dref stage;
                if ((st = new_buf(b, (size_t)numel * 4, &stage)))
                    return st;
                step_init(b, &s, S_H2D);
                s.host  = t->data;
                s.ry    = stage;
                s.bytes = (size_t)numel * 4;
                if ((st = push_step(b, &s)))
                    return st;
                step_init(b, &s, S_CONVERT);
                s.rx  = stage;
                s.ry  = vi->d;
                s.dt  = VGI_CU_F32;
                s.dt2 = VGI_CU_F16;
                s.n   = numel;
            } else {
                step_init(b, &s, S_H2D);
                s.host  = t->data;
                s.ry    = vi->d;
                s.bytes = vg_tensor_nbytes(t);
            }
            if ((st = push_step(b, &s)))
                return st;
            vi->ready = true;
        }
    }
    touch(b, &vi->d);
    *out = vi->d;
    return VG_OK;
}

/* Element strides of value v's storage over its logical (IR) dims. */
static void phys_st(const builder *b, int v, bool perm, int64_t *st) {
    const vg_shape *s = &T(b, v)->shape;
    dense_strides(s, st);
    if (perm) {
        int64_t C = s->dims[1], H = s->dims[2], W = s->dims[3];
        st[0] = H * W * C, st[1] = 1, st[2] = W * C, st[3] = C;
    }
}

/* Copies value v into the other layout (cached in vi->alt). */
static vg_status relayout(builder *b, int v, dref *out) {
    vinfo *vi = &b->vi[v];
    if (!vi->has_alt) {
        TRY(new_buf(b, (size_t)vg_shape_numel(&T(b, v)->shape) * dev_es(b, v), &vi->alt));
        vi->has_alt = true;
        b->n_relayout++;
        vgi_cu_nd nd;
        memset(&nd, 0, sizeof(nd));
        nd.nd = T(b, v)->shape.ndim;
        for (int d = 0; d < nd.nd; d++)
            nd.dims[d] = T(b, v)->shape.dims[d];
        phys_st(b, v, !vi->perm, nd.st[0]);
        phys_st(b, v, vi->perm, nd.st[1]);
        TRY(emit_copy(b, vi->d, vi->alt, &nd, dev_es(b, v)));
    }
    touch(b, &vi->alt);
    *out = vi->alt;
    return VG_OK;
}

/* Value v in plain (IR) layout. */
static vg_status get_in(builder *b, int v, dref *out) {
    TRY(get_raw(b, v, out));
    return b->vi[v].perm ? relayout(b, v, out) : VG_OK;
}

/* A rank-4 NCHW value v in NHWC order. */
static vg_status get_nhwc(builder *b, int v, dref *out) {
    TRY(get_raw(b, v, out));
    return b->vi[v].perm ? VG_OK : relayout(b, v, out);
}

/* A device buffer for output v of the current node, in plain or NHWC (perm) order. */
static vg_status make_out_l(builder *b, int v, bool perm, dref *out) {
    vinfo    *vi = &b->vi[v];
    vg_status st = new_buf(b, (size_t)vg_shape_numel(&T(b, v)->shape) * dev_es(b, v), &vi->d);
    if (st)
        return st;
    vi->ready = true;
    vi->perm  = perm;
    *out      = vi->d;
    return VG_OK;
}

static vg_status make_out(builder *b, int v, dref *out) {
    return make_out_l(b, v, false, out);
}

/* Whether NCHW values are kept in NHWC order: fp16, where cuDNN's tensor-core
 * convolutions want channels last. */
static bool nhwc_mode(const builder *b) {
    return fdt(b) == VGI_CU_F16;
}

/* After the current node: copies its outputs that are read on the host. */
static vg_status finish_outs(builder *b) {
    for (int k = 0; k < b->n->n_out; k++) {
        int v = b->n->out[k];
        /* external values must be plain in their host buffer (backend contract), even
         * when only elided views read them */
        if (v < 0 || !(b->need_host[v] || b->seg->external[v]) || !b->vi[v].ready)
            continue;
        const vg_tensor *t     = T(b, v);
        int64_t          numel = vg_shape_numel(&t->shape);
        step             s;
        vg_status        st;
        dref             src;
        if ((st = get_in(b, v, &src)))
            return st;
        if (t->dtype == VG_DTYPE_F32 && fdt(b) == VGI_CU_F16) {
            dref stage;
            if ((st = new_buf(b, (size_t)numel * 4, &stage)))
                return st;
            step_init(b, &s, S_CONVERT);
            s.rx  = src;
            s.ry  = stage;
            s.dt  = VGI_CU_F16;
            s.dt2 = VGI_CU_F32;
            s.n   = numel;
            if ((st = push_step(b, &s)))
                return st;
            src = stage;
        }
        step_init(b, &s, S_D2H);
        s.rx    = src;
        s.host  = t->data;
        s.bytes = vg_tensor_nbytes(t);
        if ((st = push_step(b, &s)))
            return st;
    }
    return VG_OK;
}

/* need_host[v]: some reader outside the segment (through elided views) or a graph output. */
static void compute_need_host(builder *b) {
    const vgi_graph *g = b->seg->g;
    for (int i = 0; i < g->n_outputs; i++)
        b->need_host[g->outputs[i].value] = true;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const vgi_node *n = &g->nodes[i];
        if (b->pos[i] >= 0)
            continue;
        unsigned flags = vgi_op_get(n->op)->flags;
        if (flags & VGI_OPF_SHAPE_ONLY)
            continue;
        bool view = (flags & VGI_OPF_VIEW) && n->n_out >= 1 && n->n_in >= 1 && n->in[0] >= 0 &&
                    n->out[0] >= 0 && T(b, n->out[0])->data &&
                    T(b, n->out[0])->data == T(b, n->in[0])->data;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0)
                continue;
            if (view && j == 0)
                b->need_host[v] = b->need_host[v] || b->need_host[n->out[0]];
            else
                b->need_host[v] = true;
        }
    }
}

/* ---- support -------------------------------------------------------------------------------- */

static bool conv_shapes_ok(const vgi_graph *g, const vgi_node *n, const vg_tensor *t) {
    int x = n->in[0], w = n->n_in > 1 ? n->in[1] : -1, y = n->out[0];
    if (!is_f32(t, x) || !is_f32(t, w) || !is_f32(t, y) || t[x].shape.ndim != 4 ||
        t[w].shape.ndim != 4 || t[y].shape.ndim != 4)
        return false;
    if (!(g->values[w].flags & VGI_VALUE_CONST) || !t[w].data)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0) {
        int bv = n->in[2];
        if (!is_f32(t, bv) || !(g->values[bv].flags & VGI_VALUE_CONST) || !t[bv].data)
            return false;
    }
    int kind;
    return vgi_cuda_act_kind(n->attr.conv.act.kind, &kind);
}

static bool supports_conv(const vgi_graph *g, const vgi_node *n, const vg_tensor *t) {
    if (!conv_shapes_ok(g, n, t))
        return false;
    const vgi_conv_attr *a  = &n->attr.conv;
    vgi_cu_act4          x  = vgi_cuda_act4(&t[n->in[0]].shape, a->layout);
    vgi_cu_act4          y  = vgi_cuda_act4(&t[n->out[0]].shape, a->layout);
    const int64_t       *wd = t[n->in[1]].shape.dims;
    int64_t              G  = a->groups;
    if (G < 1 || x.C % G || y.C % G || wd[0] != y.C || wd[1] * G != x.C || x.N != y.N)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && vg_shape_numel(&t[n->in[2]].shape) != y.C)
        return false;
    if (a->kernel[0] && a->kernel[1] && (a->kernel[0] != wd[2] || a->kernel[1] != wd[3]))
        return false;
    vgi_cuda_conv_geom geom;
    return vgi_cuda_conv_geom_make(a, x.H, x.W, wd[2], wd[3], y.H, y.W, &geom);
}

static bool supports_deconv(const vgi_graph *g, const vgi_node *n, const vg_tensor *t) {
    if (!conv_shapes_ok(g, n, t))
        return false;
    const vgi_conv_attr *a  = &n->attr.conv;
    vgi_cu_act4          x  = vgi_cuda_act4(&t[n->in[0]].shape, a->layout);
    vgi_cu_act4          y  = vgi_cuda_act4(&t[n->out[0]].shape, a->layout);
    const int64_t       *wd = t[n->in[1]].shape.dims; /* [Cin, Cout/groups, kh, kw] */
    int64_t              G  = a->groups;
    if (G < 1 || x.C % G || y.C % G || wd[0] != x.C || wd[1] * G != y.C || x.N != y.N)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && vg_shape_numel(&t[n->in[2]].shape) != y.C)
        return false;
    return vgi_cuda_deconv_ok(a, x.H, x.W, wd[2], wd[3], y.H, y.W);
}

static bool supports_pool(const vgi_node *n, const vg_tensor *t) {
    if (!is_f32(t, n->in[0]) || !is_f32(t, n->out[0]) || t[n->in[0]].shape.ndim != 4 ||
        t[n->out[0]].shape.ndim != 4)
        return false;
    const vgi_pool_attr *a = &n->attr.pool;
    vgi_cu_act4          x = vgi_cuda_act4(&t[n->in[0]].shape, a->layout);
    vgi_cu_act4          y = vgi_cuda_act4(&t[n->out[0]].shape, a->layout);
    if (x.N != y.N || x.C != y.C)
        return false;
    if (n->op == VGI_OP_GLOBAL_AVG_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL)
        return y.H == 1 && y.W == 1;
    return a->kernel[0] >= 1 && a->kernel[1] >= 1 && a->strides[0] >= 1 && a->strides[1] >= 1 &&
           a->dilations[0] >= 0 && a->dilations[1] >= 0;
}

static bool supports_resize(const vgi_node *n, const vg_tensor *t) {
    if (!is_f32(t, n->in[0]) || !is_f32(t, n->out[0]) || t[n->in[0]].shape.ndim != 4 ||
        t[n->out[0]].shape.ndim != 4)
        return false;
    const vgi_resize_attr *a = &n->attr.resize;
    vgi_cu_act4            x = vgi_cuda_act4(&t[n->in[0]].shape, a->layout);
    vgi_cu_act4            y = vgi_cuda_act4(&t[n->out[0]].shape, a->layout);
    return x.N == y.N && x.C == y.C && x.H < INT32_MAX && x.W < INT32_MAX &&
           (a->mode == VGI_RESIZE_NEAREST || a->mode == VGI_RESIZE_BILINEAR);
}

static bool all_f32(const vgi_node *n, const vg_tensor *t) {
    for (int i = 0; i < n->n_in; i++)
        if (!is_f32(t, n->in[i]))
            return false;
    for (int k = 0; k < n->n_out; k++)
        if (!is_f32(t, n->out[k]))
            return false;
    return n->n_in > 0 && n->n_out > 0;
}

static bool supports_matmul(const vgi_node *n, const vg_tensor *t) {
    if (n->n_in != 2 || !all_f32(n, t))
        return false;
    const vg_shape *a = &t[n->in[0]].shape, *b = &t[n->in[1]].shape, *o = &t[n->out[0]].shape;
    if (a->ndim < 2 || b->ndim < 2 || o->ndim < 2)
        return false;
    int64_t M = a->dims[a->ndim - 2], K = a->dims[a->ndim - 1], N = b->dims[b->ndim - 1];
    if (b->dims[b->ndim - 2] != K || o->dims[o->ndim - 2] != M || o->dims[o->ndim - 1] != N ||
        M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return false;
    /* each operand's batch is 1 or exactly the output's batch dims */
    const vg_shape *ops[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        const vg_shape *s     = ops[k];
        int64_t         batch = 1;
        for (int d = 0; d < s->ndim - 2; d++)
            batch *= s->dims[d];
        if (batch == 1)
            continue;
        int off = o->ndim - s->ndim;
        for (int d = 0; d < o->ndim - 2; d++) {
            int64_t sd = d - off >= 0 ? s->dims[d - off] : 1;
            if (sd != o->dims[d])
                return false;
        }
    }
    return vg_shape_numel(o) / (M * N) <= INT32_MAX;
}

static bool supports_gemm(const vgi_node *n, const vg_tensor *t) {
    if (n->n_in < 2 || !is_f32(t, n->in[0]) || !is_f32(t, n->in[1]) || !is_f32(t, n->out[0]))
        return false;
    const vg_shape *a = &t[n->in[0]].shape, *b = &t[n->in[1]].shape, *o = &t[n->out[0]].shape;
    if (a->ndim != 2 || b->ndim != 2 || o->ndim != 2)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0) {
        const vg_shape *cs = &t[n->in[2]].shape;
        vg_shape        bs;
        if (!is_f32(t, n->in[2]) || cs->ndim > 2 || vgi_broadcast_shape(cs, o, &bs) != VG_OK ||
            !vg_shape_equal(&bs, o))
            return false;
    }
    return o->dims[0] <= INT32_MAX && o->dims[1] <= INT32_MAX && a->dims[0] <= INT32_MAX &&
           a->dims[1] <= INT32_MAX;
}

static bool known(const vg_tensor *t, const vgi_node *n, int from) {
    for (int i = from; i < n->n_in; i++)
        if (n->in[i] >= 0 && !t[n->in[i]].data)
            return false;
    return true;
}

static bool same_shape_io(const vgi_node *n, const vg_tensor *t) {
    return is_f32(t, n->in[0]) && is_f32(t, n->out[0]) &&
           vg_shape_equal(&t[n->in[0]].shape, &t[n->out[0]].shape);
}

static bool cuda_supports_node(void *ctx, const vgi_graph *g, int node_id, const vg_tensor *t) {
    (void)ctx;
    const vgi_node *n = &g->nodes[node_id];
    int             kind;
    if (n->n_in < 1 || n->n_out < 1 || n->in[0] < 0)
        return false;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] < 0 || t[n->out[k]].shape.ndim > VGI_CU_MAX_DIMS)
            return false;
    if (t[n->in[0]].shape.ndim > VGI_CU_MAX_DIMS)
        return false;
    switch (n->op) {
    case VGI_OP_CONV:
        return supports_conv(g, n, t);
    case VGI_OP_CONV_TRANSPOSE:
        return supports_deconv(g, n, t);
    case VGI_OP_MAX_POOL:
    case VGI_OP_AVG_POOL:
    case VGI_OP_GLOBAL_AVG_POOL:
    case VGI_OP_GLOBAL_MAX_POOL:
        return supports_pool(n, t);
    case VGI_OP_RESIZE:
        return supports_resize(n, t);
    case VGI_OP_ADD_N:
    case VGI_OP_CONCAT:
    case VGI_OP_PACK:
        return all_f32(n, t);
    case VGI_OP_SPLIT:
    case VGI_OP_UNPACK:
    case VGI_OP_SLICE:
    case VGI_OP_STRIDED_SLICE: {
        if (!is_f32(t, n->in[0]) || !known(t, n, 1))
            return false;
        for (int k = 0; k < n->n_out; k++)
            if (!is_f32(t, n->out[k]))
                return false;
        return true;
    }
    case VGI_OP_TRANSPOSE:
        return is_f32(t, n->in[0]) && is_f32(t, n->out[0]) &&
               n->attr.transpose.n == t[n->in[0]].shape.ndim;
    case VGI_OP_TILE: {
        const vg_shape *x = &t[n->in[0]].shape, *o = &t[n->out[0]].shape;
        if (!is_f32(t, n->in[0]) || !is_f32(t, n->out[0]) || x->ndim != o->ndim || x->ndim > 4)
            return false;
        for (int d = 0; d < x->ndim; d++)
            if (o->dims[d] % x->dims[d])
                return false;
        return true;
    }
    case VGI_OP_EXPAND:
        return is_f32(t, n->in[0]) && is_f32(t, n->out[0]) &&
               t[n->out[0]].shape.ndim >= t[n->in[0]].shape.ndim;
    case VGI_OP_PAD: {
        int64_t pads[VG_MAX_DIMS][2];
        if (!is_f32(t, n->in[0]) || !is_f32(t, n->out[0]) ||
            n->attr.pad.mode != VGI_PADFILL_CONSTANT || !known(t, n, 1))
            return false;
        if (n->n_in > 2 && n->in[2] >= 0 && vg_shape_numel(&t[n->in[2]].shape) < 1)
            return false;
        if (vgi_pad_read(n, t, pads) != VG_OK)
            return false;
        for (int d = 0; d < t[n->in[0]].shape.ndim; d++)
            if (pads[d][0] < 0 || pads[d][1] < 0)
                return false;
        return true;
    }
    case VGI_OP_SOFTMAX:
    case VGI_OP_LOG_SOFTMAX:
        return same_shape_io(n, t) && vgi_axis_norm(n->attr.axis.axis, t[n->in[0]].shape.ndim) >= 0;
    case VGI_OP_REDUCE_MEAN:
    case VGI_OP_REDUCE_SUM:
    case VGI_OP_REDUCE_MAX:
    case VGI_OP_REDUCE_MIN:
    case VGI_OP_REDUCE_PROD: {
        bool mask[VG_MAX_DIMS];
        return is_f32(t, n->in[0]) && is_f32(t, n->out[0]) && known(t, n, 1) &&
               vgi_reduce_axes(n, t, mask) == VG_OK;
    }
    case VGI_OP_ARGMAX:
    case VGI_OP_ARGMIN: {
        vg_dtype od = t[n->out[0]].dtype;
        return is_f32(t, n->in[0]) && (od == VG_DTYPE_I32 || od == VG_DTYPE_I64) &&
               vg_shape_numel(&t[n->out[0]].shape) > 0 && known(t, n, 1) && vgi_arg_axis(n, t) >= 0;
    }
    case VGI_OP_MATMUL:
        return supports_matmul(n, t);
    case VGI_OP_GEMM:
        return supports_gemm(n, t);
    default:
        break;
    }
    if (vgi_cuda_binary_kind(n->op, &kind))
        return n->n_in == 2 && n->n_out == 1 && all_f32(n, t);
    if (vgi_cuda_unary_kind(n->op, &kind))
        return n->n_out == 1 && same_shape_io(n, t);
    return false;
}

bool vgi_cuda_supports(const vgi_graph *g, int node_id, const vg_tensor *t) {
    return cuda_supports_node(NULL, g, node_id, t);
}

/* ---- building steps ------------------------------------------------------------------------- */

/*
 * The activation node right after the current node in the segment that reads only
 * its output, when that output has no other reader and stays on the device (then the
 * activation runs inside the current node's kernel: HRNet's Add -> Relu). Returns the
 * activation's node id or -1; *kind, *a, *c its kernel code and parameters.
 */
static int fusable_act_at(const builder *b, int v, int pos, int *kind, float *a, float *c) {
    const vgi_graph *g = b->seg->g;
    if (pos >= b->seg->n_nodes || b->need_host[v] || b->seg->external[v] ||
        vgi_graph_use_count(g, v) != 1)
        return -1;
    int             id = b->seg->nodes[pos];
    const vgi_node *m  = &g->nodes[id];
    if (m->n_in != 1 || m->in[0] != v || m->n_out != 1 ||
        !vg_shape_equal(&T(b, m->out[0])->shape, &T(b, v)->shape) ||
        T(b, m->out[0])->dtype != VG_DTYPE_F32 || !vgi_cuda_unary_kind(m->op, kind) ||
        *kind > VGI_CU_ACT_ELU)
        return -1;
    *a = m->attr.unary.alpha;
    *c = m->attr.unary.beta;
    return id;
}

static int fusable_act(const builder *b, int *kind, float *a, float *c) {
    return fusable_act_at(b, b->n->out[0], b->t, kind, a, c); /* t = the next position */
}

/*
 * conv (no activation of its own) -> Add(conv, z) right after it, z of the same shape
 * and already computed: the add (and a following activation, fusable_act_at) run in the
 * conv's epilogue (cuDNN's z input, or the bias/activation kernel). HRNet's residual
 * blocks are this. Returns the Add's node id (and *z) or -1.
 */
static int fusable_residual(const builder *b, int *z) {
    const vgi_graph *g   = b->seg->g;
    int              v   = b->n->out[0];
    int              pos = b->t;
    if (b->n->attr.conv.act.kind != VGI_ACT_NONE || pos >= b->seg->n_nodes || b->need_host[v] ||
        b->seg->external[v] || vgi_graph_use_count(g, v) != 1)
        return -1;
    int             id = b->seg->nodes[pos];
    const vgi_node *m  = &g->nodes[id];
    if (m->op != VGI_OP_ADD || m->n_in != 2 || m->n_out != 1 || (m->in[0] == v) == (m->in[1] == v))
        return -1;
    int zv = m->in[0] == v ? m->in[1] : m->in[0];
    if (zv < 0 || T(b, zv)->dtype != VG_DTYPE_F32 ||
        !vg_shape_equal(&T(b, zv)->shape, &T(b, v)->shape) ||
        !vg_shape_equal(&T(b, m->out[0])->shape, &T(b, v)->shape))
        return -1;
    int p = g->values[zv].producer;
    if (p >= 0 && b->pos[p] >= 0 && b->pos[p] >= pos - 1) /* produced later in the segment */
        return -1;
    *z = zv;
    return id;
}

/* Strides of a rank-4 activation of these sizes stored NHWC or NCHW. */
static vgi_cu_act4 act4_sized(int64_t N, int64_t C, int64_t H, int64_t W, bool nhwc) {
    vgi_cu_act4 a = {N, C, H, W, 0, 0, 0, 0};
    if (nhwc)
        a.sc = 1, a.sw = C, a.sh = W * C, a.sn = H * W * C;
    else
        a.sw = 1, a.sh = W, a.sc = H * W, a.sn = C * H * W;
    return a;
}

/* The rank-4 activation v as stored (IR layout `l`, possibly kept NHWC). */
static vgi_cu_act4 act4_of_value(const builder *b, int v, vgi_layout l) {
    vgi_cu_act4 a = vgi_cuda_act4(&T(b, v)->shape, l);
    return act4_sized(a.N, a.C, a.H, a.W, l == VGI_LAYOUT_NHWC || b->vi[v].perm);
}

static vg_status prep_conv(builder *b) {
    const vgi_node      *n  = b->n;
    const vgi_conv_attr *a  = &n->attr.conv;
    const vg_tensor     *xt = T(b, n->in[0]), *wt = T(b, n->in[1]), *yt = T(b, n->out[0]);
    /* NCHW graphs run NHWC in fp16 (tensor cores); the output stays NHWC for its readers */
    bool        perm = a->layout == VGI_LAYOUT_NCHW && nhwc_mode(b);
    bool        nhwc = a->layout == VGI_LAYOUT_NHWC || perm;
    vgi_cu_act4 x = vgi_cuda_act4(&xt->shape, a->layout), y = vgi_cuda_act4(&yt->shape, a->layout);
    x                     = act4_sized(x.N, x.C, x.H, x.W, nhwc);
    y                     = act4_sized(y.N, y.C, y.H, y.W, nhwc);
    int64_t            KH = wt->shape.dims[2], KW = wt->shape.dims[3], G = a->groups, cig = x.C / G;
    size_t             es = dev_es(b, n->in[0]);
    vgi_cuda_conv_geom geom;
    if (!vgi_cuda_conv_geom_make(a, x.H, x.W, KH, KW, y.H, y.W, &geom))
        return vgi_err_set(b->err, VG_E_INTERNAL,
                           "node '%s' (conv): geometry changed since planning", n->name);
    dref dx, dy, dw, dbias = {0};
    if (perm)
        TRY(get_nhwc(b, n->in[0], &dx));
    else
        TRY(get_in(b, n->in[0], &dx));
    /* asymmetric pads: copy into a zero-padded buffer, cuDNN pads the rest symmetrically */
    vgi_cu_act4 in = x;
    if (geom.pre[0] || geom.pre[1] || geom.pre[2] || geom.pre[3]) {
        in            = act4_sized(x.N, x.C, geom.in_h, geom.in_w, nhwc);
        int64_t numel = in.N * in.C * in.H * in.W;
        dref    pad;
        TRY(new_buf(b, (size_t)numel * es, &pad));
        TRY(emit_fill(b, pad, numel, 0.0f));
        vgi_cu_nd nd;
        memset(&nd, 0, sizeof(nd));
        nd.nd           = 4;
        int64_t dims[4] = {x.N, x.C, x.H, x.W}, dst[4] = {in.sn, in.sc, in.sh, in.sw},
                src[4] = {x.sn, x.sc, x.sh, x.sw};
        for (int d = 0; d < 4; d++) {
            nd.dims[d]  = dims[d];
            nd.st[0][d] = dst[d];
            nd.st[1][d] = src[d];
        }
        vgi_cuda_nd_sort(&nd, 2);
        size_t off = (size_t)(geom.pre[0] * in.sh + geom.pre[1] * in.sw) * es;
        TRY(emit_copy(b, dx, dref_at(pad, off), &nd, es));
        dx = pad;
    }
    /* weights: OIHW (NCHW graphs) or OHWI (NHWC graphs, cuDNN's KRSC) */
    int64_t      wn   = vg_shape_numel(&wt->shape);
    const float *wsrc = wt->data;
    float       *wtmp = NULL;
    if (nhwc) {
        wtmp = vg_malloc((size_t)wn * sizeof(float));
        if (!wtmp)
            return nomem(b);
        vgi_cuda_weights_ohwi(wsrc, y.C, cig, KH, KW, wtmp);
        wsrc = wtmp;
    }
    vg_status st = const_floats(b, wsrc, wn, &dw);
    vg_free(wtmp);
    if (st)
        return st;
    bool has_bias = n->n_in > 2 && n->in[2] >= 0;
    if (has_bias)
        TRY(const_add(b, T(b, n->in[2])->data, (size_t)y.C * sizeof(float), &dbias));
    int act = VGI_CU_ACT_NONE;
    vgi_cuda_act_kind(a->act.kind, &act);
    float act_a = a->act.a, act_b = a->act.b;

    /* a residual Add (and its activation) folded in: the conv writes their output */
    int  zv = -1, add_id = fusable_residual(b, &zv), act_id = -1, out_v = n->out[0];
    dref dz = {0};
    if (add_id >= 0) {
        int   add_out = b->seg->g->nodes[add_id].out[0];
        int   k;
        float ka, kb;
        act_id = fusable_act_at(b, add_out, b->t + 1, &k, &ka, &kb);
        if (act_id >= 0)
            act = k, act_a = ka, act_b = kb;
        out_v = act_id >= 0 ? b->seg->g->nodes[act_id].out[0] : add_out;
        if (perm)
            TRY(get_nhwc(b, zv, &dz));
        else
            TRY(get_in(b, zv, &dz));
    }
    TRY(make_out_l(b, out_v, perm, &dy));
    if (add_id >= 0) {
        b->fused[add_id]                       = true;
        b->vi[n->out[0]]                       = b->vi[out_v];
        b->vi[b->seg->g->nodes[add_id].out[0]] = b->vi[out_v];
        if (act_id >= 0)
            b->fused[act_id] = true;
    }

    step s;
    step_init(b, &s, S_CONV);
    s.rz                 = dz;
    s.rx                 = dx;
    s.ry                 = dy;
    s.rt0                = dw;
    s.rt1                = dbias;
    s.n                  = vg_shape_numel(&yt->shape);
    s.C                  = y.C;
    s.ch_inner           = nhwc ? 1 : y.H * y.W;
    s.act                = act;
    s.act_a              = act_a;
    s.act_b              = act_b;
    vgi_cu_conv_args *ca = &s.u.conv;
    ca->x = in, ca->y = y;
    ca->kh = KH, ca->kw = KW, ca->sh = a->strides[0], ca->sw = a->strides[1];
    ca->dh = a->dilations[0], ca->dw = a->dilations[1];
    ca->pad_t = geom.sym[0], ca->pad_l = geom.sym[1], ca->groups = G;
    if (nhwc) {
        ca->wso = KH * KW * cig, ca->wsh = KW * cig, ca->wsw = cig, ca->wsi = 1;
    } else {
        ca->wso = cig * KH * KW, ca->wsi = KH * KW, ca->wsh = KW, ca->wsw = 1;
    }
    /* the direct kernel applies the activation itself unless a residual comes first */
    ca->act = add_id >= 0 ? VGI_CU_ACT_NONE : act, ca->act_a = act_a, ca->act_b = act_b;

    /* cuDNN descriptors; any failure here leaves the direct kernel in charge */
    cudnnDataType_t     dty = s.dt == VGI_CU_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    cudnnTensorFormat_t fmt = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    s.impl                  = CONV_DIRECT;
    if (x.N <= INT32_MAX && in.H <= INT32_MAX && in.W <= INT32_MAX && x.C <= INT32_MAX &&
        cudnnCreateTensorDescriptor(&s.xd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateTensorDescriptor(&s.yd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateFilterDescriptor(&s.wd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateConvolutionDescriptor(&s.cd) == CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor(s.xd, fmt, dty, (int)x.N, (int)x.C, (int)in.H, (int)in.W) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor(s.yd, fmt, dty, (int)y.N, (int)y.C, (int)y.H, (int)y.W) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetFilter4dDescriptor(s.wd, dty, fmt, (int)y.C, (int)cig, (int)KH, (int)KW) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolution2dDescriptor(
            s.cd, (int)geom.sym[0], (int)geom.sym[1], (int)a->strides[0], (int)a->strides[1],
            (int)a->dilations[0], (int)a->dilations[1], CUDNN_CROSS_CORRELATION,
            CUDNN_DATA_FLOAT) == CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolutionGroupCount(s.cd, (int)G) == CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolutionMathType(s.cd,
                                    s.dt == VGI_CU_F16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH) ==
            CUDNN_STATUS_SUCCESS) {
        int on, oc, oh, ow;
        if (cudnnGetConvolution2dForwardOutputDim(s.cd, s.xd, s.wd, &on, &oc, &oh, &ow) ==
                CUDNN_STATUS_SUCCESS &&
            on == y.N && oc == y.C && oh == y.H && ow == y.W)
            s.impl = CONV_CUDNN;
    }
    if (s.impl == CONV_DIRECT && !b->warned_direct) {
        b->warned_direct = true;
        vg_log(b->c->name, VG_LOG_WARN,
               "node '%s': cuDNN refused the convolution descriptors; such convolutions run "
               "on the slow direct kernel (check the cuDNN 9 install: libcudnn_cnn, "
               "libcudnn_ops)",
               n->name);
    }
    /*
     * Bias and ReLU (or a residual) fused into cuDNN's epilogue in fp32. fp16 does not
     * fuse: cuDNN 9 wants the bias in y's type there, and with an f16 bias the fused
     * call (accepted) gave wrong outputs on an H100 (MoveNet MultiPose off by up to 93%
     * of the output's range; 4182 instead of 3239 poses/s for HRNet-W32 at batch 64), so
     * fp16 convolutions run alone and the epilogue kernel adds the float bias, the
     * residual and the activation. The cause, found since in the emulation: without a
     * residual the call got z = y with alpha2 = 0, cuDNN may read z anyway, and y's slot
     * can still hold float32 bits (the input's staging, say) that read as f16 NaN; fp32
     * fuses only ReLU there, which drops NaN. Such convs now get a block of zeros as z.
     * Until a GPU run confirms it, fp16 fusion (with an f16 copy of the bias) stays behind
     * VIGIL_CUDA_FP16_FUSE=1; tools/gpu-check.sh tests and times it.
     * Marked here, probed once buffers exist (choose_algos), dropped if cuDNN refuses.
     */
    bool fuse =
        has_bias && (s.dt == VGI_CU_F32 ? act == VGI_CU_ACT_RELU || add_id >= 0 : b->c->fuse16);
    if (s.impl == CONV_CUDNN && fuse && s.dt == VGI_CU_F16) {
        TRY(const_floats(b, T(b, n->in[2])->data, y.C, &s.rt2)); /* the f16 bias */
        if (add_id < 0) {
            s.zero_z = true;
            if ((size_t)s.n * 2 > b->zero_bytes)
                b->zero_bytes = (size_t)s.n * 2;
        }
    }
    if (s.impl == CONV_CUDNN && fuse &&
        cudnnCreateTensorDescriptor(&s.bd) == CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor(s.bd, CUDNN_TENSOR_NCHW, dty, 1, (int)y.C, 1, 1) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnCreateActivationDescriptor(&s.ad) == CUDNN_STATUS_SUCCESS &&
        cudnnSetActivationDescriptor(
            s.ad, act == VGI_CU_ACT_RELU ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
            CUDNN_NOT_PROPAGATE_NAN, 0.0) == CUDNN_STATUS_SUCCESS)
        s.impl = CONV_FUSED;
    st = push_step(b, &s);
    if (st) /* the step never reached the list: its descriptors are ours to free */
        step_destroy_descs(&s);
    return st;
}

/* Transposed convolution: cuDNN's backward-data convolution of the forward conv that
 * maps the output back to the input (same weights, [Cin, Cout/groups, kh, kw] = the
 * forward filter's K, C, R, S), then the bias/activation kernel. */
static vg_status prep_deconv(builder *b) {
    const vgi_node      *n  = b->n;
    const vgi_conv_attr *a  = &n->attr.conv;
    const vg_tensor     *xt = T(b, n->in[0]), *wt = T(b, n->in[1]), *yt = T(b, n->out[0]);
    bool                 perm = a->layout == VGI_LAYOUT_NCHW && nhwc_mode(b);
    bool                 nhwc = a->layout == VGI_LAYOUT_NHWC || perm;
    vgi_cu_act4 x = vgi_cuda_act4(&xt->shape, a->layout), y = vgi_cuda_act4(&yt->shape, a->layout);
    x          = act4_sized(x.N, x.C, x.H, x.W, nhwc);
    y          = act4_sized(y.N, y.C, y.H, y.W, nhwc);
    int64_t KH = wt->shape.dims[2], KW = wt->shape.dims[3], G = a->groups, cog = y.C / G;
    step    s;
    step_init(b, &s, S_CONV);
    s.deconv = true;
    s.impl   = CONV_DIRECT;
    if (perm)
        TRY(get_nhwc(b, n->in[0], &s.rx));
    else
        TRY(get_in(b, n->in[0], &s.rx));
    int64_t      wn   = vg_shape_numel(&wt->shape);
    const float *wsrc = wt->data;
    float       *wtmp = NULL;
    if (nhwc) {
        wtmp = vg_malloc((size_t)wn * sizeof(float));
        if (!wtmp)
            return nomem(b);
        vgi_cuda_weights_ohwi(wsrc, x.C, cog, KH, KW, wtmp);
        wsrc = wtmp;
    }
    vg_status st = const_floats(b, wsrc, wn, &s.rt0);
    vg_free(wtmp);
    if (st)
        return st;
    if (n->n_in > 2 && n->in[2] >= 0)
        TRY(const_add(b, T(b, n->in[2])->data, (size_t)y.C * sizeof(float), &s.rt1));
    TRY(make_out_l(b, n->out[0], perm, &s.ry));
    int act = VGI_CU_ACT_NONE;
    vgi_cuda_act_kind(a->act.kind, &act);
    s.act = act, s.act_a = a->act.a, s.act_b = a->act.b;
    s.n = vg_shape_numel(&yt->shape), s.C = y.C, s.ch_inner = nhwc ? 1 : y.H * y.W;
    vgi_cu_conv_args *ca = &s.u.conv;
    ca->x = x, ca->y = y, ca->kh = KH, ca->kw = KW, ca->sh = a->strides[0];
    ca->sw = a->strides[1], ca->dh = a->dilations[0], ca->dw = a->dilations[1];
    ca->pad_t = a->pads[0], ca->pad_l = a->pads[1], ca->groups = G;
    if (nhwc)
        ca->wso = KH * KW * cog, ca->wsh = KW * cog, ca->wsw = cog, ca->wsi = 1;
    else
        ca->wso = cog * KH * KW, ca->wsi = KH * KW, ca->wsh = KW, ca->wsw = 1;
    ca->act = act, ca->act_a = a->act.a, ca->act_b = a->act.b;
    cudnnDataType_t     dty = s.dt == VGI_CU_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    cudnnTensorFormat_t fmt = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    if (y.N <= INT32_MAX && y.H <= INT32_MAX && y.W <= INT32_MAX && y.C <= INT32_MAX &&
        cudnnCreateTensorDescriptor(&s.xd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateTensorDescriptor(&s.yd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateFilterDescriptor(&s.wd) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateConvolutionDescriptor(&s.cd) == CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor(s.xd, fmt, dty, (int)x.N, (int)x.C, (int)x.H, (int)x.W) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor(s.yd, fmt, dty, (int)y.N, (int)y.C, (int)y.H, (int)y.W) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetFilter4dDescriptor(s.wd, dty, fmt, (int)x.C, (int)cog, (int)KH, (int)KW) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolution2dDescriptor(s.cd, (int)a->pads[0], (int)a->pads[1], (int)a->strides[0],
                                        (int)a->strides[1], (int)a->dilations[0],
                                        (int)a->dilations[1], CUDNN_CROSS_CORRELATION,
                                        CUDNN_DATA_FLOAT) == CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolutionGroupCount(s.cd, (int)G) == CUDNN_STATUS_SUCCESS &&
        cudnnSetConvolutionMathType(s.cd,
                                    s.dt == VGI_CU_F16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH) ==
            CUDNN_STATUS_SUCCESS) {
        int on, oc, oh, ow; /* the forward conv y -> x */
        if (cudnnGetConvolution2dForwardOutputDim(s.cd, s.yd, s.wd, &on, &oc, &oh, &ow) ==
                CUDNN_STATUS_SUCCESS &&
            on == x.N && oc == x.C && oh == x.H && ow == x.W)
            s.impl = CONV_CUDNN;
    }
    st = push_step(b, &s);
    if (st)
        step_destroy_descs(&s);
    return st;
}

static vg_status prep_pool(builder *b) {
    const vgi_node      *n = b->n;
    const vgi_pool_attr *a = &n->attr.pool;
    step                 s;
    step_init(b, &s, S_POOL);
    vgi_cu_pool_args *p = &s.u.pool;
    TRY(get_raw(b, n->in[0], &s.rx));
    bool perm = b->vi[n->in[0]].perm;
    TRY(make_out_l(b, n->out[0], perm, &s.ry));
    p->x      = act4_of_value(b, n->in[0], a->layout);
    p->y      = act4_of_value(b, n->out[0], a->layout);
    p->is_max = n->op == VGI_OP_MAX_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL;
    if (n->op == VGI_OP_GLOBAL_AVG_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL) {
        p->kh = p->x.H, p->kw = p->x.W, p->sh = p->sw = p->dh = p->dw = 1;
    } else {
        int64_t pads[4];
        p->kh = a->kernel[0], p->kw = a->kernel[1], p->sh = a->strides[0], p->sw = a->strides[1];
        p->dh           = a->dilations[0] ? a->dilations[0] : 1;
        p->dw           = a->dilations[1] ? a->dilations[1] : 1;
        int64_t keff[2] = {(p->kh - 1) * p->dh + 1, (p->kw - 1) * p->dw + 1};
        vgi_resolve_pads(a->pad_mode, a->pads, p->x.H, p->x.W, keff, a->strides, pads);
        p->pad_t = pads[0], p->pad_l = pads[1], p->pad_b = pads[2], p->pad_r = pads[3];
    }
    p->count_include_pad = a->count_include_pad;
    return push_step(b, &s);
}

static vg_status prep_resize(builder *b) {
    const vgi_node        *n = b->n;
    const vgi_resize_attr *a = &n->attr.resize;
    step                   s;
    step_init(b, &s, S_RESIZE);
    vgi_cu_resize_args *r = &s.u.resize;
    TRY(get_raw(b, n->in[0], &s.rx));
    TRY(make_out_l(b, n->out[0], b->vi[n->in[0]].perm, &s.ry));
    r->x           = act4_of_value(b, n->in[0], a->layout);
    r->y           = act4_of_value(b, n->out[0], a->layout);
    r->nearest     = a->mode == VGI_RESIZE_NEAREST;
    bool     sized = n->n_in > 1 && n->in[1] >= 0;
    double   sh = sized || a->scales[0] <= 0 ? (double)r->x.H / (double)r->y.H : 1.0 / a->scales[0];
    double   sw = sized || a->scales[1] <= 0 ? (double)r->x.W / (double)r->y.W : 1.0 / a->scales[1];
    size_t   rows = (size_t)r->y.H, cols = (size_t)r->y.W;
    int32_t *ri  = vg_malloc(rows * 3 * sizeof(int32_t)),
            *ci  = vg_malloc(cols * 3 * sizeof(int32_t));
    float    *rw = vg_malloc(rows * sizeof(float)), *cw = vg_malloc(cols * sizeof(float));
    vg_status st = VG_OK;
    if (!ri || !ci || !rw || !cw) {
        st = nomem(b);
    } else {
        vgi_cuda_resize_axis(a->coord, a->nearest, r->x.H, r->y.H, sh, ri, rw);
        vgi_cuda_resize_axis(a->coord, a->nearest, r->x.W, r->y.W, sw, ci, cw);
        st = const_add(b, ri, rows * 3 * sizeof(int32_t), &s.rt0);
        if (!st)
            st = const_add(b, rw, rows * sizeof(float), &s.rt1);
        if (!st)
            st = const_add(b, ci, cols * 3 * sizeof(int32_t), &s.rt2);
        if (!st)
            st = const_add(b, cw, cols * sizeof(float), &s.rt3);
    }
    vg_free(ri);
    vg_free(ci);
    vg_free(rw);
    vg_free(cw);
    if (st)
        return st;
    return push_step(b, &s);
}

static vg_status prep_unary(builder *b, int kind) {
    const vgi_node *n = b->n;
    step            s;
    step_init(b, &s, S_UNARY);
    s.op = kind;
    s.a  = n->attr.unary.alpha;
    s.b  = n->attr.unary.beta;
    s.n  = vg_shape_numel(&T(b, n->out[0])->shape);
    TRY(get_raw(b, n->in[0], &s.rx)); /* elementwise: any layout, kept */
    TRY(make_out_l(b, n->out[0], b->vi[n->in[0]].perm, &s.ry));
    return push_step(b, &s);
}

/* Output layout of an elementwise node: NHWC when an input of the output's shape is. */
static bool ew_out_perm(const builder *b) {
    const vgi_node *n  = b->n;
    const vg_shape *os = &T(b, n->out[0])->shape;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && b->vi[n->in[i]].perm && vg_shape_equal(&T(b, n->in[i])->shape, os))
            return true;
    return false;
}

/* Index space of out = f(in0[, in1]) with each operand in its stored layout. */
static void ew_nd(const builder *b, int out, int in0, int in1, vgi_cu_nd *nd) {
    const vg_shape *os = &T(b, out)->shape;
    int64_t         st[VG_MAX_DIMS];
    memset(nd, 0, sizeof(*nd));
    nd->nd = os->ndim;
    for (int d = 0; d < os->ndim; d++)
        nd->dims[d] = os->dims[d];
    phys_st(b, out, b->vi[out].perm, nd->st[0]);
    int ins[2] = {in0, in1};
    for (int k = 0; k < 2 && ins[k] >= 0; k++) {
        phys_st(b, ins[k], b->vi[ins[k]].perm, st);
        vgi_cuda_bcast_st(&T(b, ins[k])->shape, st, os, nd->st[1 + k]);
    }
    if (nd->nd == 0) {
        nd->nd      = 1;
        nd->dims[0] = 1;
    }
    vgi_cuda_nd_sort(nd, in1 >= 0 ? 3 : 2);
}

static vg_status prep_binary(builder *b, int kind) {
    const vgi_node *n = b->n;
    step            s;
    step_init(b, &s, S_BINARY);
    s.op = kind;
    TRY(get_raw(b, n->in[0], &s.rx));
    TRY(get_raw(b, n->in[1], &s.rx2));
    bool perm     = ew_out_perm(b);
    int  act_node = fusable_act(b, &s.act, &s.act_a, &s.act_b);
    if (act_node >= 0) {
        /* the activation's output takes the buffer; the sum itself is never stored */
        int y = b->seg->g->nodes[act_node].out[0];
        TRY(make_out_l(b, y, perm, &s.ry));
        b->fused[act_node] = true;
        b->vi[n->out[0]]   = b->vi[y];
    } else {
        s.act = VGI_CU_ACT_NONE;
        TRY(make_out_l(b, n->out[0], perm, &s.ry));
    }
    ew_nd(b, n->out[0], n->in[0], n->in[1], &s.nd);
    return push_step(b, &s);
}

static vg_status prep_add_n(builder *b) {
    const vgi_node *n = b->n;
    dref            in[2], y;
    for (int k = 2; k < n->n_in; k++) /* copies in before the first step writes y */
        TRY(get_raw(b, n->in[k], &y));
    TRY(get_raw(b, n->in[0], &in[0]));
    if (n->n_in > 1)
        TRY(get_raw(b, n->in[1], &in[1]));
    TRY(make_out_l(b, n->out[0], ew_out_perm(b), &y));
    step s;
    if (n->n_in == 1) {
        vgi_cu_nd nd;
        ew_nd(b, n->out[0], n->in[0], -1, &nd);
        return emit_copy(b, in[0], y, &nd, dev_es(b, n->out[0]));
    }
    step_init(b, &s, S_BINARY);
    s.op = VGI_CU_BIN_ADD;
    ew_nd(b, n->out[0], n->in[0], n->in[1], &s.nd);
    s.rx  = in[0];
    s.rx2 = in[1];
    s.ry  = y;
    TRY(push_step(b, &s));
    for (int k = 2; k < n->n_in; k++) {
        step_init(b, &s, S_BINARY);
        s.op = VGI_CU_BIN_ADD;
        ew_nd(b, n->out[0], n->out[0], n->in[k], &s.nd);
        s.rx = y;
        TRY(get_raw(b, n->in[k], &s.rx2));
        s.ry = y;
        TRY(push_step(b, &s));
    }
    return VG_OK;
}

static void outer_inner(const vg_shape *s, int ax, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < ax; d++)
        *outer *= s->dims[d];
    for (int d = ax + 1; d < s->ndim; d++)
        *inner *= s->dims[d];
}

/*
 * Concat/pack (join) and split/unpack: part k covers [off, off + len) of the big
 * tensor's axis; pack/unpack parts have len 1 on a new axis. Concat and split work on
 * any stored layout (strided copies); the big tensor is NHWC when a part is (concat)
 * or when the input is (split); pack and unpack use plain layouts.
 */
static vg_status prep_join_split(builder *b, bool join, bool stacked) {
    const vgi_node *n         = b->n;
    int             big       = join ? n->out[0] : n->in[0];
    int             parts     = join ? n->n_in : n->n_out;
    const vg_shape *bs        = &T(b, big)->shape;
    int64_t         axis_attr = n->op == VGI_OP_SPLIT ? n->attr.split.axis : n->attr.axis.axis;
    int             ax        = vgi_axis_norm(axis_attr, bs->ndim);
    size_t          es        = dev_es(b, big);
    if (ax < 0)
        return vgi_err_set(b->err, VG_E_SHAPE, "node '%s' (%s): axis out of range", n->name,
                           vgi_op_name(n->op));
    dref dbig, dpart;
    bool perm = false;
    if (join) {
        for (int k = 0; k < parts; k++) {
            if (stacked)
                TRY(get_in(b, n->in[k], &dpart));
            else
                TRY(get_raw(b, n->in[k], &dpart));
            perm = perm || (!stacked && b->vi[n->in[k]].perm);
        }
        TRY(make_out_l(b, big, perm, &dbig));
    } else {
        if (stacked)
            TRY(get_in(b, big, &dbig));
        else
            TRY(get_raw(b, big, &dbig));
        perm = !stacked && b->vi[big].perm;
        for (int k = 0; k < parts; k++)
            TRY(make_out_l(b, n->out[k], perm, &dpart));
    }
    int64_t big_st[VG_MAX_DIMS], part_st[VG_MAX_DIMS];
    phys_st(b, big, b->vi[big].perm, big_st);
    int64_t off = 0;
    for (int k = 0; k < parts; k++) {
        int pv = join ? n->in[k] : n->out[k];
        if (join && stacked)
            TRY(get_in(b, pv, &dpart));
        else if (join)
            TRY(get_raw(b, pv, &dpart));
        else
            dpart = b->vi[pv].d;
        vgi_cu_nd nd;
        memset(&nd, 0, sizeof(nd));
        nd.nd = bs->ndim;
        for (int d = 0; d < bs->ndim; d++)
            nd.dims[d] = bs->dims[d];
        if (stacked) {
            /* the part is the big tensor's slice at index k of the new axis */
            nd.dims[ax] = 1;
            int64_t acc = 1;
            for (int d = bs->ndim - 1; d >= 0; d--) {
                part_st[d] = d == ax ? 0 : acc;
                acc *= d == ax ? 1 : bs->dims[d];
            }
        } else {
            nd.dims[ax] = T(b, pv)->shape.dims[ax];
            phys_st(b, pv, b->vi[pv].perm, part_st);
        }
        for (int d = 0; d < bs->ndim; d++) {
            nd.st[0][d] = join ? big_st[d] : part_st[d];
            nd.st[1][d] = join ? part_st[d] : big_st[d];
        }
        vgi_cuda_nd_sort(&nd, 2);
        dref bigpart = dref_at(dbig, (size_t)(off * big_st[ax]) * es);
        if (join)
            TRY(emit_copy(b, dpart, bigpart, &nd, es));
        else
            TRY(emit_copy(b, bigpart, dpart, &nd, es));
        off += stacked ? 1 : T(b, pv)->shape.dims[ax];
    }
    return VG_OK;
}

static vg_status prep_slice(builder *b) {
    const vgi_node  *n = b->n;
    const vg_tensor *x = T(b, n->in[0]);
    int64_t          start[VG_MAX_DIMS], stp[VG_MAX_DIMS], count[VG_MAX_DIMS], xs[VG_MAX_DIMS];
    vg_shape         os;
    TRY(vgi_slice_resolve(n, b->seg->tensors, start, stp, count, &os, b->err));
    dense_strides(&x->shape, xs);
    vgi_cu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.nd        = x->shape.ndim;
    int64_t base = 0, acc = 1;
    for (int d = x->shape.ndim - 1; d >= 0; d--) {
        nd.dims[d]  = count[d];
        nd.st[0][d] = acc;
        nd.st[1][d] = stp[d] * xs[d];
        acc *= count[d];
        base += start[d] * xs[d];
    }
    if (nd.nd == 0) {
        nd.nd      = 1;
        nd.dims[0] = 1;
    }
    size_t es = dev_es(b, n->in[0]);
    dref   dx, dy;
    TRY(get_in(b, n->in[0], &dx));
    TRY(make_out(b, n->out[0], &dy));
    return emit_copy(b, dref_at(dx, (size_t)base * es), dy, &nd, es);
}

static vg_status prep_transpose(builder *b) {
    const vgi_node  *n = b->n;
    const vg_tensor *x = T(b, n->in[0]), *y = T(b, n->out[0]);
    int64_t          xs[VG_MAX_DIMS];
    dense_strides(&x->shape, xs);
    vgi_cu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.nd = y->shape.ndim;
    dense_strides(&y->shape, nd.st[0]);
    for (int d = 0; d < nd.nd; d++) {
        nd.dims[d]  = y->shape.dims[d];
        nd.st[1][d] = xs[n->attr.transpose.perm[d]];
    }
    dref dx, dy;
    TRY(get_in(b, n->in[0], &dx));
    TRY(make_out(b, n->out[0], &dy));
    return emit_copy(b, dx, dy, &nd, dev_es(b, n->in[0]));
}

static vg_status prep_tile(builder *b) {
    const vgi_node  *n = b->n;
    const vg_tensor *x = T(b, n->in[0]), *y = T(b, n->out[0]);
    int64_t          xs[VG_MAX_DIMS], ys[VG_MAX_DIMS];
    dense_strides(&x->shape, xs);
    dense_strides(&y->shape, ys);
    vgi_cu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.nd = 2 * x->shape.ndim;
    for (int d = 0; d < x->shape.ndim; d++) {
        int64_t xd          = x->shape.dims[d];
        nd.dims[2 * d]      = y->shape.dims[d] / xd; /* repeat index */
        nd.dims[2 * d + 1]  = xd;
        nd.st[0][2 * d]     = xd * ys[d];
        nd.st[0][2 * d + 1] = ys[d];
        nd.st[1][2 * d]     = 0;
        nd.st[1][2 * d + 1] = xs[d];
    }
    dref dx, dy;
    TRY(get_in(b, n->in[0], &dx));
    TRY(make_out(b, n->out[0], &dy));
    return emit_copy(b, dx, dy, &nd, dev_es(b, n->in[0]));
}

static vg_status prep_expand(builder *b) {
    const vgi_node *n = b->n;
    vgi_cu_nd       nd;
    vgi_cuda_bcast_nd(&T(b, n->out[0])->shape, &T(b, n->in[0])->shape, NULL, 1, &nd);
    dref dx, dy;
    TRY(get_in(b, n->in[0], &dx));
    TRY(make_out(b, n->out[0], &dy));
    return emit_copy(b, dx, dy, &nd, dev_es(b, n->in[0]));
}

static vg_status prep_pad(builder *b) {
    const vgi_node  *n = b->n;
    const vg_tensor *x = T(b, n->in[0]), *y = T(b, n->out[0]);
    int64_t          pads[VG_MAX_DIMS][2], ys[VG_MAX_DIMS];
    if (vgi_pad_read(n, b->seg->tensors, pads))
        return vgi_err_set(b->err, VG_E_SHAPE, "node '%s' (pad): paddings do not fit the input",
                           n->name);
    float value = n->attr.pad.value;
    if (n->n_in > 2 && n->in[2] >= 0)
        value = (float)vgi_tensor_get_f64(T(b, n->in[2]), 0);
    dense_strides(&y->shape, ys);
    vgi_cu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.nd       = x->shape.ndim;
    int64_t off = 0;
    dense_strides(&x->shape, nd.st[1]);
    for (int d = 0; d < nd.nd; d++) {
        nd.dims[d]  = x->shape.dims[d];
        nd.st[0][d] = ys[d];
        off += pads[d][0] * ys[d];
    }
    if (nd.nd == 0) {
        nd.nd      = 1;
        nd.dims[0] = 1;
    }
    size_t es = dev_es(b, n->in[0]);
    dref   dx, dy;
    TRY(get_in(b, n->in[0], &dx));
    TRY(make_out(b, n->out[0], &dy));
    TRY(emit_fill(b, dy, vg_shape_numel(&y->shape), value));
    return emit_copy(b, dx, dref_at(dy, (size_t)off * es), &nd, es);
}

static vg_status prep_softmax(builder *b) {
    const vgi_node *n  = b->n;
    const vg_shape *xs = &T(b, n->in[0])->shape;
    int             ax = vgi_axis_norm(n->attr.axis.axis, xs->ndim);
    step            s;
    step_init(b, &s, S_SOFTMAX);
    outer_inner(xs, ax, &s.outer, &s.inner);
    s.axis = xs->dims[ax];
    s.flag = n->op == VGI_OP_LOG_SOFTMAX;
    TRY(get_in(b, n->in[0], &s.rx));
    TRY(make_out(b, n->out[0], &s.ry));
    return push_step(b, &s);
}

static vg_status prep_reduce(builder *b) {
    const vgi_node *n  = b->n;
    const vg_shape *xs = &T(b, n->in[0])->shape;
    bool            mask[VG_MAX_DIMS];
    if (vgi_reduce_axes(n, b->seg->tensors, mask))
        return vgi_err_set(b->err, VG_E_SHAPE, "node '%s' (%s): bad reduction axes", n->name,
                           vgi_op_name(n->op));
    step s;
    step_init(b, &s, S_REDUCE);
    vgi_cu_reduce_args *r = &s.u.red;
    int64_t             st[VG_MAX_DIMS];
    dense_strides(xs, st);
    r->n_out = r->n_red = 1;
    for (int d = 0; d < xs->ndim; d++) {
        if (mask[d]) {
            r->rdims[r->nr] = xs->dims[d];
            r->rst[r->nr++] = st[d];
            r->n_red *= xs->dims[d];
        } else {
            r->kdims[r->nk] = xs->dims[d];
            r->kst[r->nk++] = st[d];
            r->n_out *= xs->dims[d];
        }
    }
    switch (n->op) {
    case VGI_OP_REDUCE_SUM:
        r->op = 0;
        break;
    case VGI_OP_REDUCE_MEAN:
        r->op = 1;
        break;
    case VGI_OP_REDUCE_MAX:
        r->op = 2;
        break;
    case VGI_OP_REDUCE_MIN:
        r->op = 3;
        break;
    default:
        r->op = 4;
        break;
    }
    TRY(get_in(b, n->in[0], &s.rx));
    TRY(make_out(b, n->out[0], &s.ry));
    return push_step(b, &s);
}

static vg_status prep_argmax(builder *b) {
    const vgi_node *n  = b->n;
    const vg_shape *xs = &T(b, n->in[0])->shape;
    int             ax = vgi_arg_axis(n, b->seg->tensors);
    step            s;
    step_init(b, &s, S_ARGMAX);
    outer_inner(xs, ax, &s.outer, &s.inner);
    s.axis  = xs->dims[ax];
    s.flag  = n->op == VGI_OP_ARGMIN;
    s.flag2 = n->attr.arg.select_last;
    s.op    = T(b, n->out[0])->dtype == VG_DTYPE_I64;
    TRY(get_in(b, n->in[0], &s.rx));
    TRY(make_out(b, n->out[0], &s.ry));
    return push_step(b, &s);
}

/*
 * Row-major C[M,N] = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS's
 * first operand is B, its second A, both read through their row-major storage
 * (which cuBLAS sees transposed), m = N, n = M.
 */
static vg_status prep_matmul(builder *b) {
    const vgi_node *n  = b->n;
    const vg_shape *as = &T(b, n->in[0])->shape, *bs = &T(b, n->in[1])->shape;
    const vg_shape *os = &T(b, n->out[0])->shape;
    int64_t M = as->dims[as->ndim - 2], K = as->dims[as->ndim - 1], N = bs->dims[bs->ndim - 1];
    step    s;
    step_init(b, &s, S_GEMM);
    s.opa = s.opb = CUBLAS_OP_N;
    s.m = (int)N, s.nn = (int)M, s.k = (int)K;
    s.lda = (int)N, s.ldb = (int)K, s.ldc = (int)N;
    s.sa    = vg_shape_numel(bs) == K * N ? 0 : K * N;
    s.sb    = vg_shape_numel(as) == M * K ? 0 : M * K;
    s.sc    = M * N;
    s.batch = (int)(vg_shape_numel(os) / (M * N));
    s.alpha = 1.0f;
    s.beta  = 0.0f;
    TRY(get_in(b, n->in[1], &s.rx));
    TRY(get_in(b, n->in[0], &s.rx2));
    TRY(make_out(b, n->out[0], &s.ry));
    return push_step(b, &s);
}

static vg_status prep_gemm(builder *b) {
    const vgi_node      *n  = b->n;
    const vgi_gemm_attr *ga = &n->attr.gemm;
    const vg_shape      *as = &T(b, n->in[0])->shape, *os = &T(b, n->out[0])->shape;
    int64_t M = os->dims[0], N = os->dims[1], K = ga->trans_a ? as->dims[0] : as->dims[1];
    bool    has_c = n->n_in > 2 && n->in[2] >= 0 && ga->beta != 0.0f;
    step    s;
    step_init(b, &s, S_GEMM);
    s.opa = ga->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    s.opb = ga->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    s.m = (int)N, s.nn = (int)M, s.k = (int)K;
    s.lda   = (int)(ga->trans_b ? K : N);
    s.ldb   = (int)(ga->trans_a ? M : K);
    s.ldc   = (int)N;
    s.batch = 1;
    s.alpha = ga->alpha;
    s.beta  = has_c ? ga->beta : 0.0f;
    TRY(get_in(b, n->in[1], &s.rx));
    TRY(get_in(b, n->in[0], &s.rx2));
    dref dc = {0};
    if (has_c)
        TRY(get_in(b, n->in[2], &dc));
    TRY(make_out(b, n->out[0], &s.ry));
    if (has_c) {
        vgi_cu_nd nd;
        vgi_cuda_bcast_nd(os, &T(b, n->in[2])->shape, NULL, 1, &nd);
        TRY(emit_copy(b, dc, s.ry, &nd, dev_es(b, n->out[0])));
    }
    return push_step(b, &s);
}

static vg_status prep_node(builder *b) {
    const vgi_node *n = b->n;
    int             kind;
    switch (n->op) {
    case VGI_OP_CONV:
        return prep_conv(b);
    case VGI_OP_CONV_TRANSPOSE:
        return prep_deconv(b);
    case VGI_OP_MAX_POOL:
    case VGI_OP_AVG_POOL:
    case VGI_OP_GLOBAL_AVG_POOL:
    case VGI_OP_GLOBAL_MAX_POOL:
        return prep_pool(b);
    case VGI_OP_RESIZE:
        return prep_resize(b);
    case VGI_OP_ADD_N:
        return prep_add_n(b);
    case VGI_OP_CONCAT:
        return prep_join_split(b, true, false);
    case VGI_OP_PACK:
        return prep_join_split(b, true, true);
    case VGI_OP_SPLIT:
        return prep_join_split(b, false, false);
    case VGI_OP_UNPACK:
        return prep_join_split(b, false, true);
    case VGI_OP_SLICE:
    case VGI_OP_STRIDED_SLICE:
        return prep_slice(b);
    case VGI_OP_TRANSPOSE:
        return prep_transpose(b);
    case VGI_OP_TILE:
        return prep_tile(b);
    case VGI_OP_EXPAND:
        return prep_expand(b);
    case VGI_OP_PAD:
        return prep_pad(b);
    case VGI_OP_SOFTMAX:
    case VGI_OP_LOG_SOFTMAX:
        return prep_softmax(b);
    case VGI_OP_REDUCE_MEAN:
    case VGI_OP_REDUCE_SUM:
    case VGI_OP_REDUCE_MAX:
    case VGI_OP_REDUCE_MIN:
    case VGI_OP_REDUCE_PROD:
        return prep_reduce(b);
    case VGI_OP_ARGMAX:
    case VGI_OP_ARGMIN:
        return prep_argmax(b);
    case VGI_OP_MATMUL:
        return prep_matmul(b);
    case VGI_OP_GEMM:
        return prep_gemm(b);
    default:
        break;
    }
    if (vgi_cuda_binary_kind(n->op, &kind))
        return prep_binary(b, kind);
    if (vgi_cuda_unary_kind(n->op, &kind))
        return prep_unary(b, kind);
    return vgi_err_set(b->err, VG_E_INTERNAL,
                       "node '%s' (%s): no cuda kernel (supports_node said yes)", n->name,
                       vgi_op_name(n->op));
}

/* ---- device memory, algorithms ------------------------------------------------------------- */

static void *resolve(const seg_state *s, const dref *d) {
    switch (d->kind) {
    case REF_ARENA:
        return (char *)s->arena + s->bufs[d->buf].offset + d->off;
    case REF_CONST:
        return (char *)s->cpool + d->off;
    default:
        return NULL;
    }
}

static void bind_steps(seg_state *s) {
    for (int i = 0; i < s->n_steps; i++) {
        step *st = &s->steps[i];
        st->x    = resolve(s, &st->rx);
        st->x2_  = resolve(s, &st->rx2);
        st->y    = resolve(s, &st->ry);
        st->t0   = resolve(s, &st->rt0);
        st->t1   = resolve(s, &st->rt1);
        st->t2   = resolve(s, &st->rt2);
        st->t3   = resolve(s, &st->rt3);
        st->z    = resolve(s, &st->rz);
        if (st->kind == S_RESIZE) {
            st->u.resize.row = st->t0;
            st->u.resize.wy  = st->t1;
            st->u.resize.col = st->t2;
            st->u.resize.wx  = st->t3;
        } else if (st->kind == S_CONV) {
            st->u.conv.w    = st->t0;
            st->u.conv.bias = st->t1;
        }
    }
}

/* cuDNN's fused y = act(conv(x) + bias + z) (z: the residual, or none). */
static cudnnStatus_t conv_fused_call(cuda_ctx *c, seg_state *s, const step *st,
                                     cudnnConvolutionFwdAlgo_t algo) {
    const float one = 1.0f, zero = 0.0f;
    return cudnnConvolutionBiasActivationForward(
        c->dnn, &one, st->xd, st->x, st->wd, st->t0, st->cd, algo, s->ws, s->ws_bytes,
        st->z ? &one : &zero, st->yd,
        st->z        ? st->z
        : st->zero_z ? s->zero
                     : st->y,
        st->bd, st->dt == VGI_CU_F16 ? st->t2 : st->t1, st->ad, st->yd, st->y);
}

static cudnnStatus_t conv_plain_call(cuda_ctx *c, seg_state *s, const step *st,
                                     cudnnConvolutionFwdAlgo_t algo) {
    const float one = 1.0f, zero = 0.0f;
    return cudnnConvolutionForward(c->dnn, &one, st->xd, st->x, st->wd, st->t0, st->cd, algo, s->ws,
                                   s->ws_bytes, &zero, st->yd, st->y);
}

/* Convolutions with identical descriptors share one algorithm search. */
typedef struct algo_key {
    int                       d[16];
    cudnnConvolutionFwdAlgo_t algo;
    size_t                    mem, ipg_mem;
    bool                      ok;
    bool                      ipg_ok; /* IMPLICIT_PRECOMP_GEMM works and is nearly as fast */
} algo_key;

#define IPG CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM

static void conv_key(const step *st, int *d) {
    const vgi_cu_conv_args *a     = &st->u.conv;
    int64_t                 v[16] = {
                        a->x.N, a->x.C,   a->x.H,    a->x.W,
                        a->y.C, a->y.H,   a->y.W,    a->kh,
                        a->kw,  a->sh,    a->sw,     a->dh,
                        a->dw,  a->pad_t, a->groups, (int64_t)(a->x.sc == 1) * 2 + (int64_t)st->dt + 4 * a->pad_l};
    for (int i = 0; i < 16; i++)
        d[i] = (int)v[i];
}

static vg_status choose_algos(cuda_ctx *c, seg_state *s, const vgi_segment *seg, vgi_err *err) {
    int n_conv = 0;
    for (int i = 0; i < s->n_steps; i++)
        n_conv += s->steps[i].kind == S_CONV && s->steps[i].impl != CONV_DIRECT;
    if (!n_conv)
        return VG_OK;
    algo_key *keys = vg_calloc((size_t)n_conv, sizeof(*keys));
    if (!keys)
        return vgi_err_set(err, VG_E_NOMEM, "%s: out of host memory", c->name);
    int    n_keys = 0;
    size_t free_b = 0, total_b = 0, find_ws_bytes = FIND_WS_LIMIT;
    void  *find_ws = NULL;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess && free_b / 4 < find_ws_bytes)
        find_ws_bytes = free_b / 4;
    if (c->find && cudaMalloc(&find_ws, find_ws_bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        find_ws       = NULL;
        find_ws_bytes = 0;
    }
    size_t ws_max = 0;
    for (int i = 0; i < s->n_steps; i++) {
        step *st = &s->steps[i];
        if (st->kind != S_CONV || st->impl == CONV_DIRECT || !st->deconv)
            continue;
        cudnnConvolutionBwdDataAlgoPerf_t bp[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        int                               got = 0;
        bool                              ok  = false;
        if (!c->find ||
            cudnnFindConvolutionBackwardDataAlgorithmEx(
                c->dnn, st->wd, st->t0, st->xd, st->x, st->cd, st->yd, st->y,
                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, bp, find_ws,
                find_ws_bytes) != CUDNN_STATUS_SUCCESS ||
            got == 0) {
            got = 0;
            if (cudnnGetConvolutionBackwardDataAlgorithm_v7(c->dnn, st->wd, st->xd, st->cd, st->yd,
                                                            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                            &got, bp) != CUDNN_STATUS_SUCCESS)
                got = 0;
        }
        for (int k = 0; k < got && !ok; k++)
            if (bp[k].status == CUDNN_STATUS_SUCCESS && bp[k].memory <= FIND_WS_LIMIT &&
                (find_ws_bytes == 0 || bp[k].memory <= find_ws_bytes)) {
                ok          = true;
                st->balgo   = bp[k].algo;
                st->ws_need = bp[k].memory;
            }
        if (!ok) {
            st->impl = CONV_DIRECT;
            continue;
        }
        if (st->ws_need > ws_max)
            ws_max = st->ws_need;
    }
    for (int i = 0; i < s->n_steps; i++) {
        step *st = &s->steps[i];
        if (st->kind != S_CONV || st->impl == CONV_DIRECT || st->deconv)
            continue;
        algo_key key;
        memset(&key, 0, sizeof(key));
        conv_key(st, key.d);
        int hit = -1;
        for (int k = 0; k < n_keys && hit < 0; k++)
            if (!memcmp(keys[k].d, key.d, sizeof(key.d)))
                hit = k;
        if (hit < 0) {
            cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
            int                           got     = 0;
            float                         best_ms = 0.0f;
            if (c->find && cudnnFindConvolutionForwardAlgorithmEx(
                               c->dnn, st->xd, st->x, st->wd, st->t0, st->cd, st->yd, st->y,
                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf, find_ws,
                               find_ws_bytes) == CUDNN_STATUS_SUCCESS)
                for (int k = 0; k < got; k++) {
                    if (perf[k].status != CUDNN_STATUS_SUCCESS || perf[k].memory > find_ws_bytes)
                        continue;
                    if (!key.ok) { /* results come fastest first */
                        key.ok   = true;
                        key.algo = perf[k].algo;
                        key.mem  = perf[k].memory;
                        best_ms  = perf[k].time;
                    }
                    if (perf[k].algo == IPG && perf[k].time <= 1.1f * best_ms + 0.002f) {
                        key.ipg_ok  = true;
                        key.ipg_mem = perf[k].memory;
                    }
                }
            if (!key.ok &&
                cudnnGetConvolutionForwardAlgorithm_v7(c->dnn, st->xd, st->wd, st->cd, st->yd,
                                                       CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got,
                                                       perf) == CUDNN_STATUS_SUCCESS)
                for (int k = 0; k < got && !key.ok; k++)
                    if (perf[k].status == CUDNN_STATUS_SUCCESS && perf[k].memory <= FIND_WS_LIMIT) {
                        key.ok      = true;
                        key.algo    = perf[k].algo;
                        key.mem     = perf[k].memory;
                        key.ipg_ok  = key.algo == IPG;
                        key.ipg_mem = key.mem;
                    }
            keys[n_keys] = key;
            hit          = n_keys++;
        }
        if (!keys[hit].ok) {
            st->impl = CONV_DIRECT;
            vg_log(c->name, VG_LOG_WARN, "node '%s': no cuDNN algorithm, using the direct kernel",
                   seg->g->nodes[st->node].name);
            continue;
        }
        st->algo       = keys[hit].algo;
        st->ws_need    = keys[hit].mem;
        st->fused_algo = st->algo;
        st->fused_ws   = st->ws_need;
        if (st->impl == CONV_FUSED && st->act != VGI_CU_ACT_RELU && st->algo != IPG) {
            /* cuDNN fuses an IDENTITY activation only with IMPLICIT_PRECOMP_GEMM: worth
             * it (one f16 rounding less) when that algorithm is about as fast */
            if (keys[hit].ipg_ok) {
                st->fused_algo = IPG;
                st->fused_ws   = keys[hit].ipg_mem;
            } else {
                st->impl = CONV_CUDNN;
            }
        }
        if (st->ws_need > ws_max)
            ws_max = st->ws_need;
        if (st->impl == CONV_FUSED && st->fused_ws > ws_max)
            ws_max = st->fused_ws;
    }
    cudaFree(find_ws);
    vg_free(keys);
    (void)cudaGetLastError();
    if (ws_max) {
        if (cudaMalloc(&s->ws, ws_max) != cudaSuccess) {
            (void)cudaGetLastError();
            return vgi_err_set(err, VG_E_BACKEND,
                               "%s: segment %d: cannot allocate %zu MiB of cuDNN workspace",
                               c->name, seg->index, ws_max >> 20);
        }
        s->ws_bytes = ws_max;
    }
    /* probe each fused conv once; cuDNN refuses some combinations */
    for (int i = 0; i < s->n_steps; i++) {
        step *st = &s->steps[i];
        if (st->kind != S_CONV || st->impl != CONV_FUSED)
            continue;
        if (conv_fused_call(c, s, st, st->fused_algo) == CUDNN_STATUS_SUCCESS)
            st->algo = st->fused_algo;
        else
            st->impl = CONV_CUDNN;
    }
    /* and each plain one: the algorithm can still be refused (seen on an H100 for one named
     * by the heuristic fallback above when the search found none). Then IMPLICIT_GEMM (no
     * workspace, the most general), else the direct kernel, with a warning that says why. */
    for (int i = 0; i < s->n_steps; i++) {
        step *st = &s->steps[i];
        if (st->kind != S_CONV || st->deconv || st->impl != CONV_CUDNN)
            continue;
        cudnnStatus_t ds = conv_plain_call(c, s, st, st->algo);
        if (ds == CUDNN_STATUS_SUCCESS)
            continue;
        char why[256];
        dnn_why(why, sizeof(why));
        int was = (int)st->algo;
        if (st->algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM &&
            conv_plain_call(c, s, st, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM) ==
                CUDNN_STATUS_SUCCESS)
            st->algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
        else
            st->impl = CONV_DIRECT;
        vg_log(c->name, VG_LOG_WARN,
               "node '%s': cuDNN refused forward algorithm %d (%s%s%s); using %s",
               seg->g->nodes[st->node].name, was, cudnnGetErrorString(ds), why[0] ? ": " : "", why,
               st->impl == CONV_DIRECT ? "the direct kernel" : "IMPLICIT_GEMM");
    }
    cudaError_t e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess)
        return cu_err(c, err, e, "convolution set-up", NULL);
    return VG_OK;
}

/* ---- vtable ------------------------------------------------------------------------------------
 */

static const char *step_kind_name(const step *st) {
    static const char *const names[] = {"h2d",     "d2h",    "convert", "fill", "copy",
                                        "unary",   "binary", "conv",    "pool", "resize",
                                        "softmax", "reduce", "argmax",  "gemm"};
    if (st->kind == S_CONV)
        return st->deconv                ? "deconv"
               : st->impl == CONV_DIRECT ? "conv-direct"
               : st->impl == CONV_FUSED  ? "conv-fused"
                                         : "conv-cudnn";
    return (unsigned)st->kind < sizeof(names) / sizeof(names[0]) ? names[st->kind] : "?";
}

/* VIGIL_CUDA_PROFILE=1: what each kind of step and the slowest steps cost per run (host
 * clock around each step, synchronised: launch latency included). */
static void log_profile(const cuda_ctx *c, const seg_state *s) {
    if (!s->prof_ns || s->prof_runs < 1)
        return;
    enum { KINDS = 20, TOP = 15 };
    const char *kname[KINDS];
    double      kms[KINDS];
    int         kcount[KINDS], nk = 0, top[TOP], nt = 0;
    double      total = 0;
    for (int i = 0; i < s->n_steps; i++) {
        const char *k  = step_kind_name(&s->steps[i]);
        double      ms = (double)s->prof_ns[i] / 1e6 / s->prof_runs;
        int         j  = 0;
        while (j < nk && strcmp(kname[j], k))
            j++;
        if (j == nk && nk < KINDS)
            kname[nk] = k, kms[nk] = 0, kcount[nk] = 0, nk++;
        if (j < nk)
            kms[j] += ms, kcount[j]++;
        total += ms;
        /* insertion into the top list, slowest first */
        int pos = nt < TOP ? nt++ : TOP;
        while (pos > 0 && s->prof_ns[top[pos - 1]] < s->prof_ns[i]) {
            if (pos < TOP)
                top[pos] = top[pos - 1];
            pos--;
        }
        if (pos < TOP)
            top[pos] = i;
    }
    vg_log(c->name, VG_LOG_INFO, "profile: segment %d, %d steps, %.3f ms per run (%d runs)",
           s->index, s->n_steps, total, s->prof_runs);
    for (int j = 0; j < nk; j++)
        vg_log(c->name, VG_LOG_INFO, "profile:   %-12s %4d steps %9.3f ms %5.1f%%", kname[j],
               kcount[j], kms[j], total > 0 ? 100.0 * kms[j] / total : 0.0);
    for (int t = 0; t < nt; t++) {
        const step *st = &s->steps[top[t]];
        const char *nm = st->node >= 0 ? s->g->nodes[st->node].name : "(boundary)";
        if (st->kind == S_CONV) {
            const vgi_cu_conv_args *a = &st->u.conv;
            vg_log(c->name, VG_LOG_INFO,
                   "profile:   %8.3f ms %-11s %s: %lldx%lldx%lldx%lld -> %lld ch, %lldx%lld "
                   "s%lld g%lld%s",
                   (double)s->prof_ns[top[t]] / 1e6 / s->prof_runs, step_kind_name(st), nm,
                   (long long)a->x.N, (long long)a->x.C, (long long)a->x.H, (long long)a->x.W,
                   (long long)a->y.C, (long long)a->kh, (long long)a->kw, (long long)a->sh,
                   (long long)a->groups, a->x.sc == 1 ? " nhwc" : "");
        } else {
            vg_log(c->name, VG_LOG_INFO, "profile:   %8.3f ms %-11s %s (%lld elements)",
                   (double)s->prof_ns[top[t]] / 1e6 / s->prof_runs, step_kind_name(st), nm,
                   (long long)st->n);
        }
    }
}

/* Device memory for a segment (nothing for 0 bytes); the error names what it was for. */
static vg_status dev_alloc(cuda_ctx *c, const vgi_segment *seg, void **p, size_t bytes,
                           const char *what, vgi_err *err) {
    cudaError_t e;
    if (!bytes || (e = cudaMalloc(p, bytes)) == cudaSuccess)
        return VG_OK;
    (void)cudaGetLastError();
    *p = NULL;
    return vgi_err_set(err, VG_E_BACKEND,
                       "%s: segment %d: cannot allocate %zu MiB of device memory for %s: %s; use "
                       "a smaller batch, a smaller model or another device",
                       c->name, seg->index, bytes >> 20, what, cudaGetErrorString(e));
}

static void cuda_segment_release(void *ctx, void *state) {
    cuda_ctx  *c = ctx;
    seg_state *s = state;
    if (!s)
        return;
    cudaSetDevice(c->ordinal);
    log_profile(c, s);
    for (int i = 0; i < s->n_steps; i++)
        step_destroy_descs(&s->steps[i]);
    /* nothing of this segment may still be in flight when its memory goes */
    cudaStreamSynchronize(c->stream);
    if (s->graph)
        cudaGraphExecDestroy(s->graph);
    cudaFree(s->arena);
    cudaFree(s->cpool);
    cudaFree(s->ws);
    cudaFree(s->zero);
    (void)cudaGetLastError();
    vg_free(s->prof_ns);
    vg_free(s->steps);
    vg_free(s->bufs);
    vg_free(s);
}

static vg_status cuda_segment_prepare(void *ctx, const vgi_segment *seg, void **state,
                                      vgi_err *err) {
    cuda_ctx        *c = ctx;
    const vgi_graph *g = seg->g;
    *state             = NULL;
    cudaError_t e      = cudaSetDevice(c->ordinal);
    if (e != cudaSuccess)
        return cu_err(c, err, e, "cudaSetDevice", NULL);
    builder b;
    memset(&b, 0, sizeof(b));
    b.c          = c;
    b.seg        = seg;
    b.err        = err;
    b.s          = vg_calloc(1, sizeof(seg_state));
    b.vi         = vg_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof(vinfo));
    b.pos        = vg_malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof(int));
    b.need_host  = vg_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof(bool));
    b.fused      = vg_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(bool));
    vg_status st = VG_OK;
    if (!b.s || !b.vi || !b.pos || !b.need_host || !b.fused) {
        st = nomem(&b);
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++)
        b.pos[i] = -1;
    for (int k = 0; k < seg->n_nodes; k++)
        b.pos[seg->nodes[k]] = k;
    compute_need_host(&b);
    for (int k = 0; k < seg->n_nodes && !st; k++) {
        b.t = k + 1;
        b.n = &g->nodes[seg->nodes[k]];
        st  = b.fused[seg->nodes[k]] ? VG_OK : prep_node(&b);
        if (!st)
            st = finish_outs(&b);
    }
    if (st)
        goto done;
    seg_state *s = b.s;
    if ((st = vgi_cuda_mem_plan(s->bufs, s->n_bufs, ARENA_ALIGN, &s->arena_bytes))) {
        st = nomem(&b);
        goto done;
    }
    if ((st = dev_alloc(c, seg, &s->arena, s->arena_bytes, "activations", err)))
        goto done;
    /* cuDNN's fused call may read z even with alpha2 = 0 (0 * NaN is NaN): fused fp16
     * convs without a residual get a block of zeros as z, never y, whose slot can hold
     * float32 bits (the input's staging, say) that read as f16 NaN. The arena is zeroed
     * too, so that a first run never sees whatever used the memory before. */
    if ((st = dev_alloc(c, seg, &s->zero, b.zero_bytes, "zeros", err)))
        goto done;
    if ((s->arena_bytes &&
         (e = cudaMemsetAsync(s->arena, 0, s->arena_bytes, c->stream)) != cudaSuccess) ||
        (b.zero_bytes &&
         (e = cudaMemsetAsync(s->zero, 0, b.zero_bytes, c->stream)) != cudaSuccess)) {
        st = cu_err(c, err, e, "clearing device memory", NULL);
        goto done;
    }
    if (b.cbytes) {
        if ((st = dev_alloc(c, seg, &s->cpool, b.cbytes, "weights", err)))
            goto done;
        s->cpool_bytes = b.cbytes;
        /* on this (non-blocking) stream: a plain cudaMemcpy runs on the legacy default
         * stream, which this stream does not wait for */
        if ((e = cudaMemcpyAsync(s->cpool, b.cblob, b.cbytes, cudaMemcpyHostToDevice, c->stream)) !=
                cudaSuccess ||
            (e = cudaStreamSynchronize(c->stream)) != cudaSuccess) {
            st = cu_err(c, err, e, "uploading weights", NULL);
            goto done;
        }
    }
    bind_steps(s);
    s->g     = seg->g;
    s->index = seg->index;
    st       = choose_algos(c, s, seg, err);
    if (st)
        goto done;
    vg_log(c->name, VG_LOG_DEBUG,
           "segment %d: %d nodes, %d steps (%d layout copies), %zu KiB activations, %zu KiB "
           "weights, %zu KiB workspace",
           seg->index, seg->n_nodes, s->n_steps, b.n_relayout, s->arena_bytes >> 10,
           s->cpool_bytes >> 10, s->ws_bytes >> 10);
    *state = s;
    b.s    = NULL;
done:
    if (b.s)
        cuda_segment_release(c, b.s);
    vg_free(b.vi);
    vg_free(b.pos);
    vg_free(b.need_host);
    vg_free(b.fused);
    vg_free(b.cblob);
    return st;
}

static cudaDataType_t blas_type(vgi_cu_dt dt) {
    return dt == VGI_CU_F16 ? CUDA_R_16F : CUDA_R_32F;
}

static vg_status run_conv(cuda_ctx *c, seg_state *s, const step *st, const char *node,
                          vgi_err *err) {
    const float   one = 1.0f, zero = 0.0f;
    cudnnStatus_t ds;
    int           e;
    if (st->deconv) {
        if (st->impl == CONV_DIRECT) {
            e = vgi_cu_deconv_direct(c->stream, st->dt, st->x, st->y, &st->u.conv);
            return e ? cu_err(c, err, (cudaError_t)e, "direct transposed convolution kernel", node)
                     : VG_OK;
        }
        ds = cudnnConvolutionBackwardData(c->dnn, &one, st->wd, st->t0, st->xd, st->x, st->cd,
                                          st->balgo, s->ws, s->ws_bytes, &zero, st->yd, st->y);
        if (ds != CUDNN_STATUS_SUCCESS)
            return dnn_err(c, err, ds, "cudnnConvolutionBackwardData", node);
        if (!st->t1 && st->act == VGI_CU_ACT_NONE)
            return VG_OK;
        e = vgi_cu_bias_act(c->stream, st->dt, st->y, st->t1, NULL, st->n, st->C, st->ch_inner,
                            st->act, st->act_a, st->act_b);
        return e ? cu_err(c, err, (cudaError_t)e, "bias/activation kernel", node) : VG_OK;
    }
    switch (st->impl) {
    case CONV_FUSED:
        ds = conv_fused_call(c, s, st, st->algo);
        if (ds != CUDNN_STATUS_SUCCESS)
            return dnn_err(c, err, ds, "cudnnConvolutionBiasActivationForward", node);
        if (st->act == VGI_CU_ACT_NONE || st->act == VGI_CU_ACT_RELU)
            return VG_OK;
        e = vgi_cu_bias_act(c->stream, st->dt, st->y, NULL, NULL, st->n, st->C, st->ch_inner,
                            st->act, st->act_a, st->act_b);
        return e ? cu_err(c, err, (cudaError_t)e, "activation kernel", node) : VG_OK;
    case CONV_DIRECT:
        e = vgi_cu_conv_direct(c->stream, st->dt, st->x, st->y, &st->u.conv);
        if (!e && st->z)
            e = vgi_cu_bias_act(c->stream, st->dt, st->y, NULL, st->z, st->n, st->C, st->ch_inner,
                                st->act, st->act_a, st->act_b);
        return e ? cu_err(c, err, (cudaError_t)e, "direct convolution kernel", node) : VG_OK;
    default:
        ds = conv_plain_call(c, s, st, st->algo);
        if (ds != CUDNN_STATUS_SUCCESS)
            return dnn_err(c, err, ds, "cudnnConvolutionForward", node);
        if (!st->t1 && !st->z && st->act == VGI_CU_ACT_NONE)
            return VG_OK;
        e = vgi_cu_bias_act(c->stream, st->dt, st->y, st->t1, st->z, st->n, st->C, st->ch_inner,
                            st->act, st->act_a, st->act_b);
        return e ? cu_err(c, err, (cudaError_t)e, "bias/activation kernel", node) : VG_OK;
    }
}

static vg_status run_step(cuda_ctx *c, seg_state *s, const step *st, const vgi_graph *g,
                          vgi_err *err) {
    const char *node = st->node >= 0 ? g->nodes[st->node].name : NULL;
    int         e    = 0;
    const char *what = "";
    switch (st->kind) {
    case S_H2D:
        what = "host-to-device copy";
        e    = cudaMemcpyAsync(st->y, st->host, st->bytes, cudaMemcpyHostToDevice, c->stream);
        break;
    case S_D2H:
        what = "device-to-host copy";
        e    = cudaMemcpyAsync(st->host, st->x, st->bytes, cudaMemcpyDeviceToHost, c->stream);
        break;
    case S_CONVERT:
        what = "conversion kernel";
        e    = vgi_cu_convert(c->stream, st->x, st->dt, st->y, st->dt2, st->n);
        break;
    case S_FILL:
        what = "fill kernel";
        e    = vgi_cu_fill(c->stream, st->dt, st->y, st->n, st->a);
        break;
    case S_COPY:
        what = "copy kernel";
        e    = vgi_cu_copy_nd(c->stream, st->es, st->x, st->y, &st->nd);
        break;
    case S_UNARY:
        what = "unary kernel";
        e    = vgi_cu_unary(c->stream, st->dt, st->op, st->a, st->b, st->x, st->y, st->n);
        break;
    case S_BINARY:
        what = "binary kernel";
        e    = vgi_cu_binary(c->stream, st->dt, st->op, st->x, st->x2_, st->y, &st->nd, st->act,
                             st->act_a, st->act_b);
        break;
    case S_CONV:
        return run_conv(c, s, st, node, err);
    case S_POOL:
        what = "pooling kernel";
        e    = vgi_cu_pool(c->stream, st->dt, st->x, st->y, &st->u.pool);
        break;
    case S_RESIZE:
        what = "resize kernel";
        e    = vgi_cu_resize(c->stream, st->dt, st->x, st->y, &st->u.resize);
        break;
    case S_SOFTMAX:
        what = "softmax kernel";
        e    = vgi_cu_softmax(c->stream, st->dt, st->x, st->y, st->outer, st->axis, st->inner,
                              st->flag);
        break;
    case S_REDUCE:
        what = "reduction kernel";
        e    = vgi_cu_reduce(c->stream, st->dt, st->x, st->y, &st->u.red);
        break;
    case S_ARGMAX:
        what = "arg-max kernel";
        e    = vgi_cu_argmax(c->stream, st->dt, st->x, st->y, st->op != 0, st->outer, st->axis,
                             st->inner, st->flag, st->flag2);
        break;
    case S_GEMM: {
        cublasStatus_t bs = cublasGemmStridedBatchedEx(
            c->blas, st->opa, st->opb, st->m, st->nn, st->k, &st->alpha, st->x, blas_type(st->dt),
            st->lda, st->sa, st->x2_, blas_type(st->dt), st->ldb, st->sb, &st->beta, st->y,
            blas_type(st->dt), st->ldc, st->sc, st->batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        return bs == CUBLAS_STATUS_SUCCESS
                   ? VG_OK
                   : blas_err(c, err, bs, "cublasGemmStridedBatchedEx", node);
    }
    }
    return e ? cu_err(c, err, (cudaError_t)e, what, node) : VG_OK;
}

static vg_status run_steps(cuda_ctx *c, seg_state *s, const vgi_segment *seg, vgi_err *err) {
    for (int i = 0; i < s->n_steps; i++) {
        vg_status st = run_step(c, s, &s->steps[i], seg->g, err);
        if (st)
            return st;
    }
    return VG_OK;
}

/*
 * Records the steps as a CUDA graph (one launch per run instead of one per step: what
 * bounds small batches). Capturing does not execute anything; on any failure (an API
 * that cannot be captured, pageable host memory, ...) the segment keeps running step
 * by step. Returns true when s->graph is ready.
 */
static bool capture_graph(cuda_ctx *c, seg_state *s, const vgi_segment *seg) {
    vgi_err     scratch;
    cudaGraph_t g = NULL;
    if (cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    vg_status   st = run_steps(c, s, seg, &scratch);
    cudaError_t e  = cudaStreamEndCapture(c->stream, &g);
    if (st == VG_OK && e == cudaSuccess && g &&
        cudaGraphInstantiate(&s->graph, g, 0) == cudaSuccess) {
        cudaGraphDestroy(g);
        return true;
    }
    if (g)
        cudaGraphDestroy(g);
    s->graph = NULL;
    (void)cudaGetLastError();
    vg_log(c->name, VG_LOG_DEBUG, "segment %d: not captured as a CUDA graph; running step by step",
           seg->index);
    return false;
}

static vg_status run_profiled(cuda_ctx *c, seg_state *s, const vgi_segment *seg, vgi_err *err) {
    if (!s->prof_ns && !(s->prof_ns = vg_calloc((size_t)s->n_steps + 1, sizeof(int64_t))))
        return vgi_err_set(err, VG_E_NOMEM, "%s: out of host memory", c->name);
    s->runs++;
    s->prof_runs++;
    for (int i = 0; i < s->n_steps; i++) {
        int64_t   t0 = vg_clock_ns();
        vg_status st = run_step(c, s, &s->steps[i], seg->g, err);
        if (st) {
            cudaStreamSynchronize(c->stream);
            (void)cudaGetLastError();
            return st;
        }
        cudaError_t e = cudaStreamSynchronize(c->stream);
        if (e != cudaSuccess)
            return cu_err(c, err, e, "running segment", NULL);
        s->prof_ns[i] += vg_clock_ns() - t0;
    }
    return VG_OK;
}

static vg_status cuda_segment_run(void *ctx, void *state, const vgi_segment *seg, vgi_err *err) {
    cuda_ctx   *c = ctx;
    seg_state  *s = state;
    cudaError_t e = cudaSetDevice(c->ordinal);
    if (e != cudaSuccess)
        return cu_err(c, err, e, "cudaSetDevice", NULL);
    /* the first run goes step by step (lazy module loading, cuDNN warm-up); the second
     * is captured */
    if (c->profile && s->runs >= 1) /* the first run warms up, as with graphs */
        return run_profiled(c, s, seg, err);
    if (!s->graph && !s->no_graph && c->graphs && s->runs >= 1 && !capture_graph(c, s, seg))
        s->no_graph = true;
    s->runs++;
    if (s->graph) {
        if ((e = cudaGraphLaunch(s->graph, c->stream)) != cudaSuccess)
            return cu_err(c, err, e, "cudaGraphLaunch", NULL);
    } else {
        vg_status st = run_steps(c, s, seg, err);
        if (st) {
            cudaStreamSynchronize(c->stream);
            (void)cudaGetLastError();
            return st;
        }
    }
    e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess)
        return cu_err(c, err, e, "running segment", NULL);
    return VG_OK;
}

static void *cuda_host_alloc(void *ctx, size_t bytes) {
    cuda_ctx *c = ctx;
    void     *p = NULL;
    cudaSetDevice(c->ordinal);
    if (cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocPortable) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return p;
}

static void cuda_host_free(void *ctx, void *ptr) {
    (void)ctx;
    if (ptr)
        cudaFreeHost(ptr);
}

static void cuda_destroy(void *ctx) {
    cuda_ctx *c = ctx;
    if (!c)
        return;
    cudaSetDevice(c->ordinal);
    if (c->blas)
        cublasDestroy(c->blas);
    if (c->dnn)
        cudnnDestroy(c->dnn);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    (void)cudaGetLastError();
    vg_free(c);
}

static const vgi_backend_iface cuda_iface = {
    .name            = "cuda",
    .supports_node   = cuda_supports_node,
    .segment_prepare = cuda_segment_prepare,
    .segment_run     = cuda_segment_run,
    .segment_release = cuda_segment_release,
    .destroy         = cuda_destroy,
    .host_alloc      = cuda_host_alloc,
    .host_free       = cuda_host_free,
};

int vgi_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

/* VG_OK when GPU `ordinal` exists; else VG_E_DEVICE with the reason. */
static vg_status check_device(const char *name, int ordinal, vgi_err *err) {
    int         n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        (void)cudaGetLastError();
        return vgi_err_set(err, VG_E_DEVICE,
                           "%s: no CUDA device (cudaGetDeviceCount: %s); run on a machine with "
                           "an NVIDIA GPU or use --device cpu",
                           name, e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    if (ordinal < 0 || ordinal >= n)
        return vgi_err_set(err, VG_E_DEVICE,
                           "%s: no such GPU: this machine has %d CUDA device%s (cuda:0%s%d)", name,
                           n, n == 1 ? "" : "s", n > 1 ? " .. cuda:" : "", n > 1 ? n - 1 : 0);
    return VG_OK;
}

vg_status vgi_cuda_device_info(int ordinal, char *buf, size_t size, vgi_err *err) {
    char name[32];
    snprintf(name, sizeof(name), "cuda:%d", ordinal);
    if (size)
        buf[0] = '\0';
    vg_status st = check_device(name, ordinal, err);
    if (st)
        return st;
    struct cudaDeviceProp p;
    cudaError_t           e = cudaGetDeviceProperties(&p, ordinal);
    if (e != cudaSuccess)
        return vgi_err_set(err, VG_E_DEVICE, "%s: cudaGetDeviceProperties: %s", name,
                           cudaGetErrorString(e));
    int drv = 0, rt = 0, bmaj = 0, bmin = 0, bpat = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    cublasGetProperty(MAJOR_VERSION, &bmaj);
    cublasGetProperty(MINOR_VERSION, &bmin);
    cublasGetProperty(PATCH_LEVEL, &bpat);
    size_t dnn = cudnnGetVersion();
    snprintf(buf, size,
             "%s: %s, sm_%d%d, %.1f GiB, %d SMs; driver %d.%d, runtime %d.%d, cuDNN %zu.%zu.%zu, "
             "cuBLAS %d.%d.%d",
             name, p.name, p.major, p.minor, (double)p.totalGlobalMem / (1024.0 * 1024 * 1024),
             p.multiProcessorCount, drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10,
             dnn / 10000, dnn % 10000 / 100, dnn % 100, bmaj, bmin, bpat);
    return VG_OK;
}

vg_status vgi_cuda_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err) {
    memset(out, 0, sizeof(*out));
    vg_status st = check_device(dev->name, dev->ordinal, err);
    if (st)
        return st;
    cuda_ctx *c = vg_calloc(1, sizeof(*c));
    if (!c)
        return vgi_err_set(err, VG_E_NOMEM, "%s: out of memory", dev->name);
    snprintf(c->name, sizeof(c->name), "%s", dev->name);
    c->ordinal      = dev->ordinal;
    c->prec         = dev->precision;
    const char *env = getenv("VIGIL_CUDA_GRAPHS");
    c->graphs       = !(env && !strcmp(env, "0"));
    env             = getenv("VIGIL_CUDA_FIND");
    c->find         = !(env && !strcmp(env, "0"));
    env             = getenv("VIGIL_CUDA_PROFILE");
    c->profile      = env && !strcmp(env, "1");
    env             = getenv("VIGIL_CUDA_FP16_FUSE");
    c->fuse16       = env && !strcmp(env, "1");
    cudaError_t    e;
    cudnnStatus_t  ds;
    cublasStatus_t bs;
    if ((e = cudaSetDevice(c->ordinal)) != cudaSuccess) {
        st = cu_err(c, err, e, "cudaSetDevice", NULL);
        goto fail;
    }
    if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        c->stream = NULL;
        st        = cu_err(c, err, e, "cudaStreamCreate", NULL);
        goto fail;
    }
    if ((ds = cudnnCreate(&c->dnn)) != CUDNN_STATUS_SUCCESS) {
        c->dnn = NULL;
        st     = dnn_err(c, err, ds, "cudnnCreate (is cuDNN 9 installed?)", NULL);
        goto fail;
    }
    if ((ds = cudnnSetStream(c->dnn, c->stream)) != CUDNN_STATUS_SUCCESS) {
        st = dnn_err(c, err, ds, "cudnnSetStream", NULL);
        goto fail;
    }
    if ((bs = cublasCreate(&c->blas)) != CUBLAS_STATUS_SUCCESS) {
        c->blas = NULL;
        st      = blas_err(c, err, bs, "cublasCreate", NULL);
        goto fail;
    }
    if ((bs = cublasSetStream(c->blas, c->stream)) != CUBLAS_STATUS_SUCCESS ||
        (bs = cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS) {
        st = blas_err(c, err, bs, "cublasSetStream", NULL);
        goto fail;
    }
    out->iface = &cuda_iface;
    out->ctx   = c;
    return VG_OK;
fail:
    cuda_destroy(c);
    if (st == VG_E_BACKEND)
        st = VG_E_DEVICE;
    return st;
}
