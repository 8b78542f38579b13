/*
 * cuda_host.c - host-side planning for the cuda backend (no CUDA calls).
 *
 * DESIGN
 * Everything here is plain arithmetic on shapes and attributes, done once per
 * plan by segment_prepare(), so it is unit-tested on machines without a GPU
 * (tests/gpu/cuda_host_test.c): device-memory placement from lifetimes,
 * broadcast stride tables for the elementwise kernels, how a convolution's
 * padding maps onto cuDNN's symmetric pads, and the resize coordinate tables
 * (the exact rules of the ref kernel, so the device kernel only interpolates).
 * Pure functions; MT safe.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda_impl.h"
#include "vigil/alloc.h"

/* ---- memory planning ------------------------------------------------------------------- */

/* Placement order: largest first, then earliest, then index (deterministic). */
static int cmp_by_index(const vgi_cuda_buf *bufs, int i, int j) {
    const vgi_cuda_buf *a = &bufs[i], *b = &bufs[j];
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    if (a->first != b->first)
        return a->first - b->first;
    return i - j;
}

vg_status vgi_cuda_mem_plan(vgi_cuda_buf *bufs, int n, size_t align, size_t *total) {
    *total = 0;
    if (n <= 0)
        return VG_OK;
    int *order = vg_malloc((size_t)n * sizeof(int));
    int *live  = vg_malloc((size_t)n * sizeof(int));
    if (!order || !live) {
        vg_free(order);
        vg_free(live);
        return VG_E_NOMEM;
    }
    for (int i = 0; i < n; i++)
        order[i] = i;
    /* insertion sort: qsort has no context argument and this must stay reentrant */
    for (int i = 1; i < n; i++) {
        int v = order[i], j = i - 1;
        while (j >= 0 && cmp_by_index(bufs, order[j], v) > 0) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        vgi_cuda_buf *b    = &bufs[order[i]];
        size_t        size = (b->bytes + align - 1) & ~(align - 1);
        int           nl   = 0;
        for (int j = 0; j < i; j++) {
            const vgi_cuda_buf *o = &bufs[order[j]];
            if (o->first <= b->last && b->first <= o->last && o->bytes)
                live[nl++] = order[j];
        }
        size_t off = 0;
        for (bool moved = size > 0; moved;) {
            moved = false;
            for (int j = 0; j < nl; j++) {
                const vgi_cuda_buf *o  = &bufs[live[j]];
                size_t              oe = o->offset + ((o->bytes + align - 1) & ~(align - 1));
                if (off < oe && o->offset < off + size) {
                    off   = oe;
                    moved = true;
                }
            }
        }
        b->offset = off;
        if (off + size > end)
            end = off + size;
    }
    vg_free(order);
    vg_free(live);
    *total = end;
    return VG_OK;
}

/* ---- broadcasting ------------------------------------------------------------------------ */

void vgi_cuda_nd_simplify(vgi_cu_nd *nd, int n_ops) {
    vgi_cu_nd r;
    memset(&r, 0, sizeof(r));
    for (int d = 0; d < nd->nd; d++) {
        if (nd->dims[d] == 1)
            continue;
        int last = r.nd - 1;
        /* merge d into the previous kept dim when every operand steps through
         * both as one contiguous run: st[prev] == st[d] * dims[d] */
        bool merge = last >= 0;
        for (int k = 0; merge && k < n_ops; k++)
            if (r.st[k][last] != nd->st[k][d] * nd->dims[d])
                merge = false;
        if (merge) {
            r.dims[last] *= nd->dims[d];
            for (int k = 0; k < n_ops; k++)
                r.st[k][last] = nd->st[k][d];
            continue;
        }
        r.dims[r.nd] = nd->dims[d];
        for (int k = 0; k < n_ops; k++)
            r.st[k][r.nd] = nd->st[k][d];
        r.nd++;
    }
    if (r.nd == 0) {
        r.nd      = 1;
        r.dims[0] = 1;
        for (int k = 0; k < n_ops; k++)
            r.st[k][0] = 1;
    }
    *nd = r;
}

void vgi_cuda_nd_sort(vgi_cu_nd *nd, int n_ops) {
    for (int i = 1; i < nd->nd; i++)
        for (int j = i; j > 0 && nd->st[0][j - 1] < nd->st[0][j]; j--) {
            int64_t t       = nd->dims[j];
            nd->dims[j]     = nd->dims[j - 1];
            nd->dims[j - 1] = t;
            for (int k = 0; k < n_ops; k++) {
                t                = nd->st[k][j];
                nd->st[k][j]     = nd->st[k][j - 1];
                nd->st[k][j - 1] = t;
            }
        }
    vgi_cuda_nd_simplify(nd, n_ops);
}

void vgi_cuda_bcast_st(const vg_shape *s, const int64_t *st, const vg_shape *o, int64_t *out) {
    for (int i = 0; i < o->ndim; i++) {
        int j  = s->ndim - o->ndim + i;
        out[i] = j < 0 || s->dims[j] == 1 ? 0 : st[j];
    }
}

static void bcast_strides(const vg_shape *s, const vg_shape *o, int64_t *st) {
    int64_t acc = 1;
    for (int i = o->ndim - 1; i >= 0; i--) {
        int j = s->ndim - o->ndim + i;
        if (j < 0) {
            st[i] = 0;
            continue;
        }
        st[i] = s->dims[j] == 1 ? 0 : acc;
        acc *= s->dims[j];
    }
}

void vgi_cuda_bcast_nd(const vg_shape *out, const vg_shape *a, const vg_shape *b, int n_in,
                       vgi_cu_nd *nd) {
    memset(nd, 0, sizeof(*nd));
    nd->nd      = out->ndim;
    int64_t acc = 1;
    for (int i = out->ndim - 1; i >= 0; i--) {
        nd->dims[i]  = out->dims[i];
        nd->st[0][i] = acc;
        acc *= out->dims[i];
    }
    bcast_strides(a, out, nd->st[1]);
    if (n_in > 1)
        bcast_strides(b, out, nd->st[2]);
    vgi_cuda_nd_simplify(nd, 1 + n_in);
}

/* ---- convolution geometry ------------------------------------------------------------------ */

static int64_t conv_out(int64_t in, int64_t pad_sum, int64_t keff, int64_t s) {
    return (in + pad_sum - keff) / s + 1;
}

bool vgi_cuda_conv_geom_make(const vgi_conv_attr *a, int64_t in_h, int64_t in_w, int64_t kh,
                             int64_t kw, int64_t out_h, int64_t out_w, vgi_cuda_conv_geom *geom) {
    memset(geom, 0, sizeof(*geom));
    if (a->strides[0] < 1 || a->strides[1] < 1 || a->dilations[0] < 1 || a->dilations[1] < 1)
        return false;
    int64_t keff[2] = {(kh - 1) * a->dilations[0] + 1, (kw - 1) * a->dilations[1] + 1};
    vgi_resolve_pads(a->pad_mode, a->pads, in_h, in_w, keff, a->strides, geom->pads);
    for (int i = 0; i < 4; i++)
        if (geom->pads[i] < 0)
            return false;
    /* symmetric part = the smaller pad of each axis; the rest is pre-padded */
    for (int ax = 0; ax < 2; ax++) {
        int64_t b = geom->pads[ax], e = geom->pads[ax + 2];
        int64_t m         = b < e ? b : e;
        geom->sym[ax]     = m;
        geom->pre[ax]     = b - m;
        geom->pre[ax + 2] = e - m;
    }
    geom->in_h = in_h + geom->pre[0] + geom->pre[2];
    geom->in_w = in_w + geom->pre[1] + geom->pre[3];
    if (geom->in_h + 2 * geom->sym[0] < keff[0] || geom->in_w + 2 * geom->sym[1] < keff[1])
        return false;
    geom->out_h = conv_out(geom->in_h, 2 * geom->sym[0], keff[0], a->strides[0]);
    geom->out_w = conv_out(geom->in_w, 2 * geom->sym[1], keff[1], a->strides[1]);
    return geom->out_h == out_h && geom->out_w == out_w;
}

bool vgi_cuda_deconv_ok(const vgi_conv_attr *a, int64_t in_h, int64_t in_w, int64_t kh, int64_t kw,
                        int64_t out_h, int64_t out_w) {
    if (a->pad_mode != VGI_PAD_EXPLICIT || a->strides[0] < 1 || a->strides[1] < 1 ||
        a->dilations[0] < 1 || a->dilations[1] < 1 || a->pads[0] < 0 || a->pads[1] < 0)
        return false;
    int64_t keff[2] = {(kh - 1) * a->dilations[0] + 1, (kw - 1) * a->dilations[1] + 1};
    /* backward data of a forward conv (out -> in) with pad p: needs
     * conv_out(out, 2p, keff, s) == in */
    if (out_h + 2 * a->pads[0] < keff[0] || out_w + 2 * a->pads[1] < keff[1])
        return false;
    return conv_out(out_h, 2 * a->pads[0], keff[0], a->strides[0]) == in_h &&
           conv_out(out_w, 2 * a->pads[1], keff[1], a->strides[1]) == in_w;
}

/* ---- resize --------------------------------------------------------------------------------- */

void vgi_cuda_resize_axis(vgi_resize_coord coord, vgi_nearest_mode nearest, int64_t in, int64_t out,
                          double scale, int32_t *idx, float *w) {
    for (int64_t o = 0; o < out; o++) {
        double  f  = vgi_resize_src(coord, o, in, out, scale);
        int64_t i0 = (int64_t)floor(f), i1 = (int64_t)ceil(f);
        if (i0 < 0)
            i0 = 0;
        if (i0 > in - 1)
            i0 = in - 1;
        if (i1 > in - 1)
            i1 = in - 1;
        if (i1 < 0)
            i1 = 0;
        idx[o * 3 + 0] = (int32_t)i0;
        idx[o * 3 + 1] = (int32_t)i1;
        idx[o * 3 + 2] = (int32_t)vgi_resize_nearest(nearest, f, in);
        w[o]           = (float)(f - (double)i0);
    }
}

void vgi_cuda_weights_ohwi(const float *oihw, int64_t O, int64_t I, int64_t H, int64_t W,
                           float *ohwi) {
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++)
                    ohwi[((o * H + h) * W + w) * I + i] = oihw[((o * I + i) * H + h) * W + w];
}

/* ---- small maps ----------------------------------------------------------------------------- */

vgi_cu_act4 vgi_cuda_act4(const vg_shape *s, vgi_layout l) {
    vgi_cu_act4    a;
    const int64_t *d = s->dims;
    if (l == VGI_LAYOUT_NCHW) {
        a.N = d[0], a.C = d[1], a.H = d[2], a.W = d[3];
        a.sw = 1, a.sh = a.W, a.sc = a.H * a.W, a.sn = a.C * a.H * a.W;
    } else {
        a.N = d[0], a.H = d[1], a.W = d[2], a.C = d[3];
        a.sc = 1, a.sw = a.C, a.sh = a.W * a.C, a.sn = a.H * a.W * a.C;
    }
    return a;
}

bool vgi_cuda_act_kind(vgi_act_kind k, int *kind) {
    static const int map[] = {
        [VGI_ACT_NONE]         = VGI_CU_ACT_NONE,
        [VGI_ACT_RELU]         = VGI_CU_ACT_RELU,
        [VGI_ACT_RELU6]        = VGI_CU_ACT_RELU6,
        [VGI_ACT_CLIP]         = VGI_CU_ACT_CLIP,
        [VGI_ACT_LEAKY]        = VGI_CU_ACT_LEAKY,
        [VGI_ACT_SIGMOID]      = VGI_CU_ACT_SIGMOID,
        [VGI_ACT_TANH]         = VGI_CU_ACT_TANH,
        [VGI_ACT_HARD_SWISH]   = VGI_CU_ACT_HARD_SWISH,
        [VGI_ACT_HARD_SIGMOID] = VGI_CU_ACT_HARD_SIGMOID,
        [VGI_ACT_SILU]         = VGI_CU_ACT_SILU,
        [VGI_ACT_ELU]          = VGI_CU_ACT_ELU,
    };
    if ((unsigned)k >= sizeof(map) / sizeof(map[0]))
        return false;
    *kind = map[k];
    return true;
}

bool vgi_cuda_unary_kind(vgi_op op, int *kind) {
    switch (op) {
    case VGI_OP_RELU:
        *kind = VGI_CU_ACT_RELU;
        return true;
    case VGI_OP_RELU6:
        *kind = VGI_CU_ACT_RELU6;
        return true;
    case VGI_OP_CLIP:
        *kind = VGI_CU_ACT_CLIP;
        return true;
    case VGI_OP_LEAKY_RELU:
        *kind = VGI_CU_ACT_LEAKY;
        return true;
    case VGI_OP_ELU:
        *kind = VGI_CU_ACT_ELU;
        return true;
    case VGI_OP_SIGMOID:
        *kind = VGI_CU_ACT_SIGMOID;
        return true;
    case VGI_OP_TANH:
        *kind = VGI_CU_ACT_TANH;
        return true;
    case VGI_OP_EXP:
        *kind = VGI_CU_UN_EXP;
        return true;
    case VGI_OP_LOG:
        *kind = VGI_CU_UN_LOG;
        return true;
    case VGI_OP_SQRT:
        *kind = VGI_CU_UN_SQRT;
        return true;
    case VGI_OP_RSQRT:
        *kind = VGI_CU_UN_RSQRT;
        return true;
    case VGI_OP_ABS:
        *kind = VGI_CU_UN_ABS;
        return true;
    case VGI_OP_NEG:
        *kind = VGI_CU_UN_NEG;
        return true;
    case VGI_OP_RECIPROCAL:
        *kind = VGI_CU_UN_RECIPROCAL;
        return true;
    case VGI_OP_FLOOR:
        *kind = VGI_CU_UN_FLOOR;
        return true;
    case VGI_OP_CEIL:
        *kind = VGI_CU_UN_CEIL;
        return true;
    case VGI_OP_ROUND:
        *kind = VGI_CU_UN_ROUND;
        return true;
    case VGI_OP_ERF:
        *kind = VGI_CU_UN_ERF;
        return true;
    case VGI_OP_HARD_SWISH:
        *kind = VGI_CU_ACT_HARD_SWISH;
        return true;
    case VGI_OP_HARD_SIGMOID:
        *kind = VGI_CU_ACT_HARD_SIGMOID;
        return true;
    case VGI_OP_SILU:
        *kind = VGI_CU_ACT_SILU;
        return true;
    case VGI_OP_IDENTITY:
        *kind = VGI_CU_UN_COPY;
        return true;
    default:
        return false;
    }
}

bool vgi_cuda_binary_kind(vgi_op op, int *kind) {
    switch (op) {
    case VGI_OP_ADD:
        *kind = VGI_CU_BIN_ADD;
        return true;
    case VGI_OP_SUB:
        *kind = VGI_CU_BIN_SUB;
        return true;
    case VGI_OP_MUL:
        *kind = VGI_CU_BIN_MUL;
        return true;
    case VGI_OP_DIV:
        *kind = VGI_CU_BIN_DIV;
        return true;
    case VGI_OP_POW:
        *kind = VGI_CU_BIN_POW;
        return true;
    case VGI_OP_MAX:
        *kind = VGI_CU_BIN_MAX;
        return true;
    case VGI_OP_MIN:
        *kind = VGI_CU_BIN_MIN;
        return true;
    case VGI_OP_FLOOR_DIV:
        *kind = VGI_CU_BIN_FLOOR_DIV;
        return true;
    case VGI_OP_FLOOR_MOD:
        *kind = VGI_CU_BIN_FLOOR_MOD;
        return true;
    case VGI_OP_FMOD:
        *kind = VGI_CU_BIN_FMOD;
        return true;
    case VGI_OP_SQUARED_DIFF:
        *kind = VGI_CU_BIN_SQUARED_DIFF;
        return true;
    case VGI_OP_PRELU:
        *kind = VGI_CU_BIN_PRELU;
        return true;
    default:
        return false;
    }
}
