/*
 * ops.c - the op table: one row per op (name, arity, flags, shape function).
 *
 * DESIGN
 * Shape functions run when a plan is built for concrete input shapes (and at
 * load time for models whose inputs are fully static). They see the dtype
 * and shape of every input, and the data of inputs whose contents are known
 * (constants and values computed from shapes), which is what ops such as
 * Reshape or Range need. They never compute the op itself. Every error
 * message names the node, so a bad model points at the culprit.
 * The table is read-only and MT safe.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "engine/ir.h"

#define IN(i)     (&c->vals[c->n->in[(i)]])
#define OUT(k)    (&c->vals[c->n->out[(k)]])
#define HAS_IN(i) (c->n->n_in > (i) && c->n->in[(i)] >= 0)

static vg_status node_err(const vgi_infer_ctx *c, vgi_err *err, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vg_status node_err(const vgi_infer_ctx *c, vgi_err *err, vg_status st, const char *fmt,
                          ...) {
    char    what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return vgi_err_set(err, st, "%s: node '%s' (%s): %s", c->g->source ? c->g->source : "graph",
                       c->n->name, vgi_op_name(c->n->op), what);
}

static const char *shp(const vg_shape *s, char *buf) {
    return vg_shape_format(s, buf, 128);
}

double vgi_resize_src(vgi_resize_coord m, int64_t o, int64_t in, int64_t out, double scale) {
    switch (m) {
    case VGI_COORD_HALF_PIXEL:
        return ((double)o + 0.5) * scale - 0.5;
    case VGI_COORD_PYTORCH_HALF_PIXEL:
        return out > 1 ? ((double)o + 0.5) * scale - 0.5 : 0.0;
    case VGI_COORD_ALIGN_CORNERS:
        return out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0;
    case VGI_COORD_ASYMMETRIC:
        return (double)o * scale;
    case VGI_COORD_TF_HALF_PIXEL_NEAREST:
        return ((double)o + 0.5) * scale;
    }
    return 0.0;
}

int64_t vgi_resize_nearest(vgi_nearest_mode m, double x, int64_t in) {
    double r;
    switch (m) {
    case VGI_NEAREST_FLOOR:
        r = floor(x);
        break;
    case VGI_NEAREST_CEIL:
        r = ceil(x);
        break;
    case VGI_NEAREST_ROUND_PREFER_CEIL:
        r = floor(x + 0.5);
        break;
    default:
        r = ceil(x - 0.5);
        break; /* round half down */
    }
    int64_t i = (int64_t)r;
    return i < 0 ? 0 : (i >= in ? in - 1 : i);
}

int vgi_axis_norm(int64_t axis, int rank) {
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank)
        return -1;
    return (int)axis;
}

static vg_status need_data(const vgi_infer_ctx *c, vgi_err *err, int i, const char *what) {
    if (!IN(i)->data)
        return node_err(c, err, VG_E_UNSUPPORTED,
                        "%s (input %d) must be a constant or computable from input shapes; "
                        "it depends on run-time data",
                        what, i);
    return VG_OK;
}

static bool is_float(vg_dtype t) {
    return t == VG_DTYPE_F32 || t == VG_DTYPE_F16 || t == VG_DTYPE_F64;
}

static bool is_int(vg_dtype t) {
    return t == VG_DTYPE_I32 || t == VG_DTYPE_I64 || t == VG_DTYPE_U8 || t == VG_DTYPE_I8 ||
           t == VG_DTYPE_U16 || t == VG_DTYPE_I16;
}

vg_status vgi_broadcast_shape(const vg_shape *a, const vg_shape *b, vg_shape *out) {
    int      nd = VGI_MAX(a->ndim, b->ndim);
    vg_shape r;
    r.ndim = nd;
    for (int i = 0; i < nd; i++) {
        int     ia = a->ndim - nd + i, ib = b->ndim - nd + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            r.dims[i] = da;
        else if (da == 1)
            r.dims[i] = db;
        else
            return VG_E_SHAPE;
    }
    *out = r;
    return VG_OK;
}

/* ---- elementwise ---------------------------------------------------------- */

static vg_status infer_same(const vgi_infer_ctx *c, vgi_err *err) {
    (void)err;
    OUT(0)->dtype = IN(0)->dtype;
    OUT(0)->shape = IN(0)->shape;
    return VG_OK;
}

static vg_status infer_unary_float(const vgi_infer_ctx *c, vgi_err *err) {
    if (!is_float(IN(0)->dtype) && c->n->op != VGI_OP_ABS && c->n->op != VGI_OP_NEG &&
        c->n->op != VGI_OP_RELU)
        return node_err(c, err, VG_E_UNSUPPORTED, "input dtype %s is not a float type",
                        vg_dtype_name(IN(0)->dtype));
    return infer_same(c, err);
}

static vg_status infer_logical_not(const vgi_infer_ctx *c, vgi_err *err) {
    if (IN(0)->dtype != VG_DTYPE_BOOL)
        return node_err(c, err, VG_E_SHAPE, "input must be bool, is %s",
                        vg_dtype_name(IN(0)->dtype));
    return infer_same(c, err);
}

static vg_status broadcast_inputs(const vgi_infer_ctx *c, vgi_err *err, int first, int n,
                                  vg_shape *out) {
    vg_shape r = IN(first)->shape;
    for (int i = first + 1; i < first + n; i++) {
        vg_shape t;
        if (vgi_broadcast_shape(&r, &IN(i)->shape, &t)) {
            char b1[128], b2[128];
            return node_err(c, err, VG_E_SHAPE, "shapes %s and %s cannot be broadcast together",
                            shp(&r, b1), shp(&IN(i)->shape, b2));
        }
        r = t;
    }
    *out = r;
    return VG_OK;
}

static vg_status infer_binary(const vgi_infer_ctx *c, vgi_err *err) {
    if (IN(0)->dtype != IN(1)->dtype)
        return node_err(c, err, VG_E_SHAPE, "input dtypes differ: %s and %s",
                        vg_dtype_name(IN(0)->dtype), vg_dtype_name(IN(1)->dtype));
    vg_status st = broadcast_inputs(c, err, 0, 2, &OUT(0)->shape);
    if (st)
        return st;
    switch (c->n->op) {
    case VGI_OP_EQUAL:
    case VGI_OP_NOT_EQUAL:
    case VGI_OP_LESS:
    case VGI_OP_LESS_EQUAL:
    case VGI_OP_GREATER:
    case VGI_OP_GREATER_EQUAL:
        OUT(0)->dtype = VG_DTYPE_BOOL;
        break;
    case VGI_OP_LOGICAL_AND:
    case VGI_OP_LOGICAL_OR:
        if (IN(0)->dtype != VG_DTYPE_BOOL)
            return node_err(c, err, VG_E_SHAPE, "inputs must be bool, are %s",
                            vg_dtype_name(IN(0)->dtype));
        OUT(0)->dtype = VG_DTYPE_BOOL;
        break;
    default:
        if (!is_float(IN(0)->dtype) && !is_int(IN(0)->dtype))
            return node_err(c, err, VG_E_UNSUPPORTED, "dtype %s is not numeric",
                            vg_dtype_name(IN(0)->dtype));
        OUT(0)->dtype = IN(0)->dtype;
    }
    return VG_OK;
}

static vg_status infer_add_n(const vgi_infer_ctx *c, vgi_err *err) {
    for (int i = 1; i < c->n->n_in; i++)
        if (IN(i)->dtype != IN(0)->dtype)
            return node_err(c, err, VG_E_SHAPE, "input dtypes differ");
    OUT(0)->dtype = IN(0)->dtype;
    return broadcast_inputs(c, err, 0, c->n->n_in, &OUT(0)->shape);
}

static vg_status infer_select(const vgi_infer_ctx *c, vgi_err *err) {
    if (IN(0)->dtype != VG_DTYPE_BOOL)
        return node_err(c, err, VG_E_SHAPE, "condition must be bool, is %s",
                        vg_dtype_name(IN(0)->dtype));
    if (IN(1)->dtype != IN(2)->dtype)
        return node_err(c, err, VG_E_SHAPE, "value dtypes differ");
    OUT(0)->dtype = IN(1)->dtype;
    return broadcast_inputs(c, err, 0, 3, &OUT(0)->shape);
}

static vg_status infer_cast(const vgi_infer_ctx *c, vgi_err *err) {
    if (!vg_dtype_size(c->n->attr.cast.to))
        return node_err(c, err, VG_E_UNSUPPORTED, "cast to an unknown dtype");
    (void)err;
    OUT(0)->dtype = c->n->attr.cast.to;
    OUT(0)->shape = IN(0)->shape;
    return VG_OK;
}

/* ---- convolution family ------------------------------------------------------ */

void vgi_resolve_pads(vgi_pad_mode mode, const int64_t pads_in[4], int64_t in_h, int64_t in_w,
                      const int64_t k_eff[2], const int64_t s[2], int64_t pads_out[4]) {
    if (mode == VGI_PAD_EXPLICIT) {
        memcpy(pads_out, pads_in, 4 * sizeof(int64_t));
        return;
    }
    if (mode == VGI_PAD_VALID) {
        memset(pads_out, 0, 4 * sizeof(int64_t));
        return;
    }
    int64_t in[2] = {in_h, in_w};
    for (int d = 0; d < 2; d++) {
        int64_t out   = (in[d] + s[d] - 1) / s[d];
        int64_t total = (out - 1) * s[d] + k_eff[d] - in[d];
        if (total < 0)
            total = 0;
        int64_t small = total / 2, big = total - total / 2;
        if (mode == VGI_PAD_SAME_UPPER) {
            pads_out[d]     = small;
            pads_out[d + 2] = big;
        } else {
            pads_out[d]     = big;
            pads_out[d + 2] = small;
        }
    }
}

/* Spatial dims of a rank-4 activation: N, C, H, W indices by layout. */
static void layout_idx(vgi_layout l, int *ci, int *hi, int *wi) {
    if (l == VGI_LAYOUT_NCHW) {
        *ci = 1, *hi = 2, *wi = 3;
    } else {
        *ci = 3, *hi = 1, *wi = 2;
    }
}

static vg_status infer_conv(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_conv_attr *a = &c->n->attr.conv;
    const vg_tensor     *x = IN(0), *w = IN(1);
    char                 b1[128], b2[128];
    if (x->shape.ndim != 4 || w->shape.ndim != 4)
        return node_err(c, err, VG_E_SHAPE, "input %s and weight %s must both be rank 4",
                        shp(&x->shape, b1), shp(&w->shape, b2));
    if (x->dtype != VG_DTYPE_F32 || w->dtype != VG_DTYPE_F32)
        return node_err(c, err, VG_E_UNSUPPORTED, "only float32 convolution is supported (got %s)",
                        vg_dtype_name(x->dtype));
    int ci, hi, wi;
    layout_idx(a->layout, &ci, &hi, &wi);
    int64_t g = a->groups;
    if (g < 1)
        return node_err(c, err, VG_E_SHAPE, "groups must be >= 1");
    bool    tr   = c->n->op == VGI_OP_CONV_TRANSPOSE;
    int64_t cin  = x->shape.dims[ci];
    int64_t cout = tr ? w->shape.dims[1] * g : w->shape.dims[0];
    int64_t wcin = tr ? w->shape.dims[0] : w->shape.dims[1] * g;
    if (cin != wcin || (!tr && cout % g))
        return node_err(c, err, VG_E_SHAPE,
                        "input %s has %lld channels but weight %s (groups %lld) expects %lld",
                        shp(&x->shape, b1), (long long)cin, shp(&w->shape, b2), (long long)g,
                        (long long)wcin);
    if (a->kernel[0] != w->shape.dims[2] || a->kernel[1] != w->shape.dims[3])
        return node_err(c, err, VG_E_SHAPE, "kernel attribute %lldx%lld != weight %s",
                        (long long)a->kernel[0], (long long)a->kernel[1], shp(&w->shape, b2));
    if (HAS_IN(2) && vg_shape_numel(&IN(2)->shape) != cout)
        return node_err(c, err, VG_E_SHAPE, "bias %s does not have %lld elements",
                        shp(&IN(2)->shape, b1), (long long)cout);
    if (a->strides[0] < 1 || a->strides[1] < 1 || a->dilations[0] < 1 || a->dilations[1] < 1)
        return node_err(c, err, VG_E_SHAPE, "strides and dilations must be >= 1");
    int64_t keff[2] = {(a->kernel[0] - 1) * a->dilations[0] + 1,
                       (a->kernel[1] - 1) * a->dilations[1] + 1};
    int64_t pads[4];
    int64_t H = x->shape.dims[hi], W = x->shape.dims[wi], oh, ow;
    if (tr) {
        memcpy(pads, a->pads, sizeof(pads));
        oh = (H - 1) * a->strides[0] - pads[0] - pads[2] + keff[0] + a->output_padding[0];
        ow = (W - 1) * a->strides[1] - pads[1] - pads[3] + keff[1] + a->output_padding[1];
    } else {
        vgi_resolve_pads(a->pad_mode, a->pads, H, W, keff, a->strides, pads);
        oh = (H + pads[0] + pads[2] - keff[0]) / a->strides[0] + 1;
        ow = (W + pads[1] + pads[3] - keff[1]) / a->strides[1] + 1;
        if (H + pads[0] + pads[2] < keff[0] || W + pads[1] + pads[3] < keff[1])
            oh = ow = 0;
    }
    if (oh <= 0 || ow <= 0)
        return node_err(c, err, VG_E_SHAPE, "input %s is too small for kernel %lldx%lld",
                        shp(&x->shape, b1), (long long)a->kernel[0], (long long)a->kernel[1]);
    vg_shape *o   = &OUT(0)->shape;
    o->ndim       = 4;
    o->dims[0]    = x->shape.dims[0];
    o->dims[ci]   = cout;
    o->dims[hi]   = oh;
    o->dims[wi]   = ow;
    OUT(0)->dtype = VG_DTYPE_F32;
    return VG_OK;
}

static int64_t pool_out(int64_t in, int64_t pb, int64_t pe, int64_t k, int64_t s, bool ceil_mode) {
    int64_t span = in + pb + pe - k;
    if (span < 0)
        return 0;
    int64_t o = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    /* ONNX/PyTorch: the last window must start inside the input or left padding. */
    if (ceil_mode && (o - 1) * s >= in + pb)
        o--;
    return o;
}

static vg_status infer_pool(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_pool_attr *a = &c->n->attr.pool;
    const vg_tensor     *x = IN(0);
    char                 b1[128];
    if (x->shape.ndim != 4)
        return node_err(c, err, VG_E_SHAPE, "input %s must be rank 4", shp(&x->shape, b1));
    int ci, hi, wi;
    layout_idx(a->layout, &ci, &hi, &wi);
    (void)ci;
    vg_shape *o   = &OUT(0)->shape;
    *o            = x->shape;
    OUT(0)->dtype = x->dtype;
    if (c->n->op == VGI_OP_GLOBAL_AVG_POOL || c->n->op == VGI_OP_GLOBAL_MAX_POOL) {
        o->dims[hi] = o->dims[wi] = 1;
        return VG_OK;
    }
    if (a->kernel[0] < 1 || a->kernel[1] < 1 || a->strides[0] < 1 || a->strides[1] < 1)
        return node_err(c, err, VG_E_SHAPE, "kernel and strides must be >= 1");
    int64_t dil[2] = {a->dilations[0] ? a->dilations[0] : 1, a->dilations[1] ? a->dilations[1] : 1};
    int64_t keff[2] = {(a->kernel[0] - 1) * dil[0] + 1, (a->kernel[1] - 1) * dil[1] + 1};
    int64_t pads[4];
    vgi_resolve_pads(a->pad_mode, a->pads, x->shape.dims[hi], x->shape.dims[wi], keff, a->strides,
                     pads);
    o->dims[hi] =
        pool_out(x->shape.dims[hi], pads[0], pads[2], keff[0], a->strides[0], a->ceil_mode);
    o->dims[wi] =
        pool_out(x->shape.dims[wi], pads[1], pads[3], keff[1], a->strides[1], a->ceil_mode);
    if (o->dims[hi] <= 0 || o->dims[wi] <= 0)
        return node_err(c, err, VG_E_SHAPE, "input %s is too small for the pooling window",
                        shp(&x->shape, b1));
    return VG_OK;
}

static vg_status infer_resize(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_resize_attr *a = &c->n->attr.resize;
    const vg_tensor       *x = IN(0);
    char                   b1[128];
    if (x->shape.ndim != 4)
        return node_err(c, err, VG_E_SHAPE, "input %s must be rank 4", shp(&x->shape, b1));
    if (x->dtype != VG_DTYPE_F32)
        return node_err(c, err, VG_E_UNSUPPORTED, "only float32 resize is supported");
    int ci, hi, wi;
    layout_idx(a->layout, &ci, &hi, &wi);
    (void)ci;
    int64_t oh, ow;
    if (HAS_IN(1)) {
        vg_status st = need_data(c, err, 1, "the output size");
        if (st)
            return st;
        if (vg_shape_numel(&IN(1)->shape) != 2)
            return node_err(c, err, VG_E_SHAPE, "size input must have 2 elements (H, W), has %s",
                            shp(&IN(1)->shape, b1));
        oh = vgi_tensor_get_i64(IN(1), 0);
        ow = vgi_tensor_get_i64(IN(1), 1);
    } else {
        oh = (int64_t)floor((double)x->shape.dims[hi] * a->scales[0]);
        ow = (int64_t)floor((double)x->shape.dims[wi] * a->scales[1]);
    }
    if (oh <= 0 || ow <= 0)
        return node_err(c, err, VG_E_SHAPE, "output size %lldx%lld is not positive", (long long)oh,
                        (long long)ow);
    OUT(0)->dtype          = x->dtype;
    OUT(0)->shape          = x->shape;
    OUT(0)->shape.dims[hi] = oh;
    OUT(0)->shape.dims[wi] = ow;
    return VG_OK;
}

/* ---- data movement ----------------------------------------------------------- */

static vg_status infer_concat(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x0   = IN(0);
    int              rank = x0->shape.ndim;
    int              ax   = vgi_axis_norm(c->n->attr.axis.axis, rank);
    if (ax < 0)
        return node_err(c, err, VG_E_SHAPE, "axis %lld out of range for rank %d",
                        (long long)c->n->attr.axis.axis, rank);
    vg_shape o = x0->shape;
    o.dims[ax] = 0;
    for (int i = 0; i < c->n->n_in; i++) {
        const vg_tensor *x = IN(i);
        char             b1[128], b2[128];
        if (x->dtype != x0->dtype)
            return node_err(c, err, VG_E_SHAPE, "input %d is %s, input 0 is %s", i,
                            vg_dtype_name(x->dtype), vg_dtype_name(x0->dtype));
        bool ok = x->shape.ndim == rank;
        for (int d = 0; ok && d < rank; d++)
            if (d != ax && x->shape.dims[d] != x0->shape.dims[d])
                ok = false;
        if (!ok)
            return node_err(c, err, VG_E_SHAPE,
                            "input %d %s does not match input 0 %s outside axis %d", i,
                            shp(&x->shape, b1), shp(&x0->shape, b2), ax);
        o.dims[ax] += x->shape.dims[ax];
    }
    OUT(0)->dtype = x0->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_split(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(c->n->attr.split.axis, x->shape.ndim);
    int              n  = c->n->n_out;
    if (ax < 0)
        return node_err(c, err, VG_E_SHAPE, "axis %lld out of range",
                        (long long)c->n->attr.split.axis);
    int64_t dim = x->shape.dims[ax], total = 0, neg = -1;
    int64_t sizes[64];
    if (n > 64)
        return node_err(c, err, VG_E_UNSUPPORTED, "more than 64 outputs");
    if (HAS_IN(1)) {
        vg_status st = need_data(c, err, 1, "the split sizes");
        if (st)
            return st;
        if (vg_shape_numel(&IN(1)->shape) != n)
            return node_err(c, err, VG_E_SHAPE, "%lld split sizes for %d outputs",
                            (long long)vg_shape_numel(&IN(1)->shape), n);
        for (int i = 0; i < n; i++) {
            sizes[i] = vgi_tensor_get_i64(IN(1), i);
            if (sizes[i] == -1 && neg < 0)
                neg = i;
            else if (sizes[i] < 0)
                return node_err(c, err, VG_E_SHAPE, "negative split size");
            else
                total += sizes[i];
        }
        if (neg >= 0)
            sizes[neg] = dim - total, total = dim;
    } else {
        if (dim % n)
            return node_err(c, err, VG_E_SHAPE, "axis size %lld is not divisible by %d outputs",
                            (long long)dim, n);
        for (int i = 0; i < n; i++)
            sizes[i] = dim / n;
        total = dim;
    }
    if (total != dim || (neg >= 0 && sizes[neg] < 0))
        return node_err(c, err, VG_E_SHAPE, "split sizes add up to %lld, axis size is %lld",
                        (long long)total, (long long)dim);
    for (int i = 0; i < n; i++) {
        OUT(i)->dtype          = x->dtype;
        OUT(i)->shape          = x->shape;
        OUT(i)->shape.dims[ax] = sizes[i];
    }
    return VG_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

vg_status vgi_slice_resolve(const vgi_node *n, const vg_tensor *vals, int64_t start[VG_MAX_DIMS],
                            int64_t step[VG_MAX_DIMS], int64_t count[VG_MAX_DIMS], vg_shape *out,
                            vgi_err *err) {
    const vg_tensor *x    = &vals[n->in[0]];
    int              rank = x->shape.ndim;
    for (int d = 0; d < rank; d++) {
        start[d] = 0;
        step[d]  = 1;
        count[d] = x->shape.dims[d];
    }
    const vg_tensor *tb = &vals[n->in[1]], *te = &vals[n->in[2]];
    int64_t          m = vg_shape_numel(&tb->shape);
    if (m != vg_shape_numel(&te->shape) || m > VG_MAX_DIMS || m < 0)
        return vgi_err_set(err, VG_E_SHAPE, "node '%s' (%s): begin and end have different lengths",
                           n->name, vgi_op_name(n->op));
    if (n->op == VGI_OP_SLICE) {
        const vg_tensor *ta                = n->n_in > 3 && n->in[3] >= 0 ? &vals[n->in[3]] : NULL;
        const vg_tensor *ts                = n->n_in > 4 && n->in[4] >= 0 ? &vals[n->in[4]] : NULL;
        bool             seen[VG_MAX_DIMS] = {false};
        for (int64_t i = 0; i < m; i++) {
            int ax = ta ? vgi_axis_norm(vgi_tensor_get_i64(ta, i), rank) : (int)i;
            if (ax < 0 || seen[ax])
                return vgi_err_set(err, VG_E_SHAPE, "node '%s' (slice): bad or repeated axis",
                                   n->name);
            seen[ax]    = true;
            int64_t dim = x->shape.dims[ax];
            int64_t s   = ts ? vgi_tensor_get_i64(ts, i) : 1;
            int64_t b = vgi_tensor_get_i64(tb, i), e = vgi_tensor_get_i64(te, i);
            if (s == 0)
                return vgi_err_set(err, VG_E_SHAPE, "node '%s' (slice): step 0", n->name);
            if (b < 0)
                b += dim;
            if (e < 0 && e > INT64_MIN / 2)
                e += dim;
            if (s > 0) {
                b = clamp64(b, 0, dim);
                e = clamp64(e, 0, dim);
            } else {
                b = clamp64(b, 0, dim - 1);
                e = clamp64(e, -1, dim - 1);
            }
            int64_t cnt = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
            start[ax]   = b;
            step[ax]    = s;
            count[ax]   = cnt > 0 ? cnt : 0;
        }
        out->ndim = rank;
        for (int d = 0; d < rank; d++)
            out->dims[d] = count[d];
        return VG_OK;
    }
    /* STRIDED_SLICE (TF semantics). */
    const vgi_strided_slice_attr *a        = &n->attr.strided_slice;
    const vg_tensor              *tsd      = n->n_in > 3 && n->in[3] >= 0 ? &vals[n->in[3]] : NULL;
    int                           consumed = 0;
    for (int i = 0; i < m; i++)
        if (!((a->ellipsis_mask >> i) & 1) && !((a->new_axis_mask >> i) & 1))
            consumed++;
    int  in_d = 0, nd = 0;
    bool ell_done = false;
    for (int i = 0; i < m; i++) {
        if (((a->ellipsis_mask >> i) & 1) && !ell_done) {
            ell_done = true;
            int span = rank - consumed;
            for (int j = 0; j < span && in_d < rank; j++, in_d++) {
                if (nd >= VG_MAX_DIMS)
                    goto too_many;
                out->dims[nd++] = x->shape.dims[in_d];
            }
            continue;
        }
        if ((a->new_axis_mask >> i) & 1) {
            if (nd >= VG_MAX_DIMS)
                goto too_many;
            out->dims[nd++] = 1;
            continue;
        }
        if (in_d >= rank)
            return vgi_err_set(err, VG_E_SHAPE,
                               "node '%s' (strided_slice): %lld slice entries for rank %d", n->name,
                               (long long)m, rank);
        int     d   = in_d++;
        int64_t dim = x->shape.dims[d];
        int64_t b = vgi_tensor_get_i64(tb, i), e = vgi_tensor_get_i64(te, i);
        int64_t s = tsd ? vgi_tensor_get_i64(tsd, i) : 1;
        if (s == 0)
            return vgi_err_set(err, VG_E_SHAPE, "node '%s' (strided_slice): stride 0", n->name);
        if ((a->shrink_axis_mask >> i) & 1) {
            int64_t idx = b < 0 ? b + dim : b;
            if (idx < 0 || idx >= dim)
                return vgi_err_set(
                    err, VG_E_SHAPE,
                    "node '%s' (strided_slice): index %lld out of range for size %lld", n->name,
                    (long long)b, (long long)dim);
            start[d] = idx;
            step[d]  = 1;
            count[d] = 1;
            continue;
        }
        bool bm = (a->begin_mask >> i) & 1, em = (a->end_mask >> i) & 1;
        if (s > 0) {
            b = bm ? 0 : clamp64(b < 0 ? b + dim : b, 0, dim);
            e = em ? dim : clamp64(e < 0 ? e + dim : e, 0, dim);
        } else {
            b = bm ? dim - 1 : clamp64(b < 0 ? b + dim : b, -1, dim - 1);
            e = em ? -1 : clamp64(e < 0 ? e + dim : e, -1, dim - 1);
        }
        int64_t cnt = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
        start[d]    = b;
        step[d]     = s;
        count[d]    = cnt > 0 ? cnt : 0;
        if (nd >= VG_MAX_DIMS)
            goto too_many;
        out->dims[nd++] = count[d];
    }
    for (; in_d < rank; in_d++) {
        if (nd >= VG_MAX_DIMS)
            goto too_many;
        out->dims[nd++] = x->shape.dims[in_d];
    }
    out->ndim = nd;
    return VG_OK;
too_many:
    return vgi_err_set(err, VG_E_UNSUPPORTED,
                       "node '%s' (strided_slice): result has more than %d dims", n->name,
                       VG_MAX_DIMS);
}

static vg_status infer_slice(const vgi_infer_ctx *c, vgi_err *err) {
    for (int i = 1; i < c->n->n_in; i++)
        if (HAS_IN(i)) {
            vg_status st = need_data(c, err, i, "a slice parameter");
            if (st)
                return st;
        }
    int64_t   s[VG_MAX_DIMS], st_[VG_MAX_DIMS], cnt[VG_MAX_DIMS];
    vg_status st = vgi_slice_resolve(c->n, c->vals, s, st_, cnt, &OUT(0)->shape, err);
    if (st)
        return vgi_err_set(err, st, "%s: %s", c->g->source ? c->g->source : "graph",
                           err ? err->msg : "");
    OUT(0)->dtype = IN(0)->dtype;
    return VG_OK;
}

static vg_status infer_reshape(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "the target shape");
    if (st)
        return st;
    const vg_tensor *x = IN(0), *s = IN(1);
    int64_t          n = vg_shape_numel(&s->shape);
    char             b1[128], b2[128];
    if (s->shape.ndim > 1 || n > VG_MAX_DIMS || n < 0)
        return node_err(c, err, VG_E_SHAPE, "target shape %s is not a 1-D list of at most %d dims",
                        shp(&s->shape, b1), VG_MAX_DIMS);
    vg_shape o;
    o.ndim       = (int)n;
    int     neg  = -1;
    int64_t prod = 1;
    for (int i = 0; i < n; i++) {
        int64_t d = vgi_tensor_get_i64(s, i);
        if (d == 0 && !c->n->attr.reshape.allowzero) {
            if (i >= x->shape.ndim)
                return node_err(c, err, VG_E_SHAPE, "0 at position %d copies a missing dim", i);
            d = x->shape.dims[i];
        }
        if (d == -1) {
            if (neg >= 0)
                return node_err(c, err, VG_E_SHAPE, "more than one -1 in target shape");
            neg = i;
            d   = 1;
        } else if (d < 0) {
            return node_err(c, err, VG_E_SHAPE, "negative dimension %lld in target shape",
                            (long long)d);
        }
        o.dims[i] = d;
        prod *= d;
    }
    int64_t total = vg_shape_numel(&x->shape);
    if (neg >= 0) {
        if (prod == 0 || total % prod)
            goto bad;
        o.dims[neg] = total / prod;
    } else if (prod != total) {
        goto bad;
    }
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
bad:
    for (int i = 0; i < o.ndim; i++)
        o.dims[i] = vgi_tensor_get_i64(s, i);
    return node_err(c, err, VG_E_SHAPE, "cannot reshape %s (%lld elements) to %s",
                    shp(&x->shape, b1), (long long)total, shp(&o, b2));
}

static vg_status infer_transpose(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_transpose_attr *a = &c->n->attr.transpose;
    const vg_tensor          *x = IN(0);
    if (a->n != x->shape.ndim)
        return node_err(c, err, VG_E_SHAPE, "permutation has %d entries, input has rank %d", a->n,
                        x->shape.ndim);
    bool seen[VG_MAX_DIMS] = {false};
    for (int i = 0; i < a->n; i++) {
        if (a->perm[i] < 0 || a->perm[i] >= a->n || seen[a->perm[i]])
            return node_err(c, err, VG_E_SHAPE, "invalid permutation");
        seen[a->perm[i]]      = true;
        OUT(0)->shape.dims[i] = x->shape.dims[a->perm[i]];
    }
    OUT(0)->shape.ndim = a->n;
    OUT(0)->dtype      = x->dtype;
    return VG_OK;
}

static vg_status infer_squeeze(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_axes_attr *a                 = &c->n->attr.axes;
    const vg_tensor     *x                 = IN(0);
    bool                 drop[VG_MAX_DIMS] = {false};
    for (int i = 0; i < a->n; i++) {
        int ax = vgi_axis_norm(a->axes[i], x->shape.ndim);
        if (ax < 0 || x->shape.dims[ax] != 1)
            return node_err(c, err, VG_E_SHAPE, "cannot squeeze axis %lld (size %lld)",
                            (long long)a->axes[i], ax < 0 ? -1LL : (long long)x->shape.dims[ax]);
        drop[ax] = true;
    }
    vg_shape o;
    o.ndim = 0;
    for (int d = 0; d < x->shape.ndim; d++) {
        if (a->n ? drop[d] : x->shape.dims[d] == 1)
            continue;
        o.dims[o.ndim++] = x->shape.dims[d];
    }
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_unsqueeze(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_axes_attr *a  = &c->n->attr.axes;
    const vg_tensor     *x  = IN(0);
    int                  nd = x->shape.ndim + a->n;
    if (nd > VG_MAX_DIMS)
        return node_err(c, err, VG_E_UNSUPPORTED, "result would have more than %d dims",
                        VG_MAX_DIMS);
    bool ins[VG_MAX_DIMS] = {false};
    for (int i = 0; i < a->n; i++) {
        int ax = vgi_axis_norm(a->axes[i], nd);
        if (ax < 0 || ins[ax])
            return node_err(c, err, VG_E_SHAPE, "bad axis %lld", (long long)a->axes[i]);
        ins[ax] = true;
    }
    vg_shape o;
    o.ndim = nd;
    for (int d = 0, j = 0; d < nd; d++)
        o.dims[d] = ins[d] ? 1 : x->shape.dims[j++];
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_flatten(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x  = IN(0);
    int64_t          ax = c->n->attr.axis.axis;
    if (ax < 0)
        ax += x->shape.ndim;
    if (ax < 0 || ax > x->shape.ndim)
        return node_err(c, err, VG_E_SHAPE, "axis out of range");
    int64_t a = 1, b = 1;
    for (int d = 0; d < x->shape.ndim; d++) {
        if (d < ax)
            a *= x->shape.dims[d];
        else
            b *= x->shape.dims[d];
    }
    OUT(0)->dtype         = x->dtype;
    OUT(0)->shape.ndim    = 2;
    OUT(0)->shape.dims[0] = a;
    OUT(0)->shape.dims[1] = b;
    return VG_OK;
}

/* Pads as [rank][2] (begin, end) from the pads input. */
vg_status vgi_pad_read(const vgi_node *n, const vg_tensor *vals, int64_t pads[VG_MAX_DIMS][2]) {
    const vg_tensor *x = &vals[n->in[0]], *p = &vals[n->in[1]];
    int              r = x->shape.ndim;
    if (vg_shape_numel(&p->shape) != 2 * r)
        return VG_E_SHAPE;
    for (int d = 0; d < r; d++) {
        if (n->attr.pad.onnx_order) {
            pads[d][0] = vgi_tensor_get_i64(p, d);
            pads[d][1] = vgi_tensor_get_i64(p, r + d);
        } else {
            pads[d][0] = vgi_tensor_get_i64(p, 2 * d);
            pads[d][1] = vgi_tensor_get_i64(p, 2 * d + 1);
        }
    }
    return VG_OK;
}

static vg_status infer_pad(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "the paddings");
    if (st)
        return st;
    const vg_tensor *x = IN(0);
    int64_t          pads[VG_MAX_DIMS][2];
    char             b1[128], b2[128];
    if (vgi_pad_read(c->n, c->vals, pads))
        return node_err(c, err, VG_E_SHAPE, "paddings %s do not fit input rank %d",
                        shp(&IN(1)->shape, b1), x->shape.ndim);
    vg_shape o = x->shape;
    for (int d = 0; d < x->shape.ndim; d++) {
        o.dims[d] += pads[d][0] + pads[d][1];
        if (o.dims[d] < 0 ||
            (c->n->attr.pad.mode != VGI_PADFILL_CONSTANT && (pads[d][0] < 0 || pads[d][1] < 0)))
            return node_err(c, err, VG_E_SHAPE, "paddings make input %s negative or are negative",
                            shp(&x->shape, b2));
    }
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_gather(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x = IN(0), *idx = IN(1);
    int              ax = vgi_axis_norm(c->n->attr.gather.axis, x->shape.ndim);
    int              bd = (int)c->n->attr.gather.batch_dims;
    if (ax < 0 || bd < 0 || bd > ax || bd > idx->shape.ndim)
        return node_err(c, err, VG_E_SHAPE, "axis/batch_dims out of range");
    if (!is_int(idx->dtype))
        return node_err(c, err, VG_E_SHAPE, "indices must be integers");
    vg_shape o;
    o.ndim = 0;
    if (x->shape.ndim - 1 + idx->shape.ndim - bd > VG_MAX_DIMS)
        return node_err(c, err, VG_E_UNSUPPORTED, "too many dims");
    for (int d = 0; d < ax; d++)
        o.dims[o.ndim++] = x->shape.dims[d];
    for (int d = bd; d < idx->shape.ndim; d++)
        o.dims[o.ndim++] = idx->shape.dims[d];
    for (int d = ax + 1; d < x->shape.ndim; d++)
        o.dims[o.ndim++] = x->shape.dims[d];
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_gather_nd(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x = IN(0), *idx = IN(1);
    int              bd = (int)c->n->attr.gather.batch_dims;
    if (idx->shape.ndim < 1 || !is_int(idx->dtype))
        return node_err(c, err, VG_E_SHAPE, "indices must be an integer tensor of rank >= 1");
    int64_t q = idx->shape.dims[idx->shape.ndim - 1];
    if (bd < 0 || q + bd > x->shape.ndim)
        return node_err(c, err, VG_E_SHAPE, "index depth %lld exceeds params rank %d", (long long)q,
                        x->shape.ndim);
    vg_shape o;
    o.ndim = 0;
    for (int d = 0; d < idx->shape.ndim - 1; d++)
        o.dims[o.ndim++] = idx->shape.dims[d];
    for (int d = bd + (int)q; d < x->shape.ndim; d++) {
        if (o.ndim >= VG_MAX_DIMS)
            return node_err(c, err, VG_E_UNSUPPORTED, "too many dims");
        o.dims[o.ndim++] = x->shape.dims[d];
    }
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_tile(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "the multiples");
    if (st)
        return st;
    const vg_tensor *x = IN(0);
    if (vg_shape_numel(&IN(1)->shape) != x->shape.ndim)
        return node_err(c, err, VG_E_SHAPE, "multiples length != input rank %d", x->shape.ndim);
    OUT(0)->dtype = x->dtype;
    OUT(0)->shape = x->shape;
    for (int d = 0; d < x->shape.ndim; d++) {
        int64_t m = vgi_tensor_get_i64(IN(1), d);
        if (m < 0)
            return node_err(c, err, VG_E_SHAPE, "negative multiple");
        OUT(0)->shape.dims[d] *= m;
    }
    return VG_OK;
}

static vg_status infer_expand(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "the target shape");
    if (st)
        return st;
    vg_shape s;
    int64_t  n = vg_shape_numel(&IN(1)->shape);
    if (n > VG_MAX_DIMS || n < 0)
        return node_err(c, err, VG_E_SHAPE, "target shape too long");
    s.ndim = (int)n;
    for (int i = 0; i < n; i++)
        s.dims[i] = vgi_tensor_get_i64(IN(1), i);
    char b1[128], b2[128];
    if (vgi_broadcast_shape(&IN(0)->shape, &s, &OUT(0)->shape))
        return node_err(c, err, VG_E_SHAPE, "cannot expand %s to %s", shp(&IN(0)->shape, b1),
                        shp(&s, b2));
    OUT(0)->dtype = IN(0)->dtype;
    return VG_OK;
}

static vg_status infer_pack(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x0 = IN(0);
    int              r  = x0->shape.ndim;
    int              ax = vgi_axis_norm(c->n->attr.axis.axis, r + 1);
    if (ax < 0 || r + 1 > VG_MAX_DIMS)
        return node_err(c, err, VG_E_SHAPE, "axis %lld out of range",
                        (long long)c->n->attr.axis.axis);
    for (int i = 1; i < c->n->n_in; i++)
        if (!vg_shape_equal(&IN(i)->shape, &x0->shape) || IN(i)->dtype != x0->dtype) {
            char b1[128], b2[128];
            return node_err(c, err, VG_E_SHAPE, "input %d %s %s differs from input 0 %s %s", i,
                            vg_dtype_name(IN(i)->dtype), shp(&IN(i)->shape, b1),
                            vg_dtype_name(x0->dtype), shp(&x0->shape, b2));
        }
    vg_shape o;
    o.ndim = r + 1;
    for (int d = 0, j = 0; d <= r; d++)
        o.dims[d] = d == ax ? c->n->n_in : x0->shape.dims[j++];
    OUT(0)->dtype = x0->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_unpack(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(c->n->attr.axis.axis, x->shape.ndim);
    if (ax < 0)
        return node_err(c, err, VG_E_SHAPE, "axis out of range");
    if (x->shape.dims[ax] != c->n->n_out)
        return node_err(c, err, VG_E_SHAPE, "axis %d has size %lld but the node has %d outputs", ax,
                        (long long)x->shape.dims[ax], c->n->n_out);
    vg_shape o;
    o.ndim = 0;
    for (int d = 0; d < x->shape.ndim; d++)
        if (d != ax)
            o.dims[o.ndim++] = x->shape.dims[d];
    for (int k = 0; k < c->n->n_out; k++) {
        OUT(k)->dtype = x->dtype;
        OUT(k)->shape = o;
    }
    return VG_OK;
}

static vg_status infer_sparse_to_dense(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "the output shape");
    if (st)
        return st;
    int64_t n = vg_shape_numel(&IN(1)->shape);
    if (n < 0 || n > VG_MAX_DIMS)
        return node_err(c, err, VG_E_SHAPE, "bad output shape");
    OUT(0)->shape.ndim = (int)n;
    for (int i = 0; i < n; i++)
        OUT(0)->shape.dims[i] = vgi_tensor_get_i64(IN(1), i);
    OUT(0)->dtype = IN(2)->dtype;
    return VG_OK;
}

/* ---- reductions ---------------------------------------------------------------- */

/* Which axes a reduce node reduces (mask over input dims). */
vg_status vgi_reduce_axes(const vgi_node *n, const vg_tensor *vals, bool mask[VG_MAX_DIMS]) {
    const vg_tensor *x = &vals[n->in[0]];
    int              r = x->shape.ndim;
    memset(mask, 0, VG_MAX_DIMS * sizeof(bool));
    if (n->n_in > 1 && n->in[1] >= 0) {
        const vg_tensor *a  = &vals[n->in[1]];
        int64_t          na = vg_shape_numel(&a->shape);
        if (na == 0 && !n->attr.axes.noop_with_empty_axes)
            for (int d = 0; d < r; d++)
                mask[d] = true;
        for (int64_t i = 0; i < na; i++) {
            int ax = vgi_axis_norm(vgi_tensor_get_i64(a, i), r);
            if (ax < 0)
                return VG_E_SHAPE;
            mask[ax] = true;
        }
        return VG_OK;
    }
    if (n->attr.axes.n == 0) {
        if (!n->attr.axes.noop_with_empty_axes)
            for (int d = 0; d < r; d++)
                mask[d] = true;
        return VG_OK;
    }
    for (int i = 0; i < n->attr.axes.n; i++) {
        int ax = vgi_axis_norm(n->attr.axes.axes[i], r);
        if (ax < 0)
            return VG_E_SHAPE;
        mask[ax] = true;
    }
    return VG_OK;
}

static vg_status infer_reduce(const vgi_infer_ctx *c, vgi_err *err) {
    if (HAS_IN(1)) {
        vg_status st = need_data(c, err, 1, "the reduction axes");
        if (st)
            return st;
    }
    bool mask[VG_MAX_DIMS];
    if (vgi_reduce_axes(c->n, c->vals, mask))
        return node_err(c, err, VG_E_SHAPE, "reduction axis out of range for rank %d",
                        IN(0)->shape.ndim);
    vg_shape o;
    o.ndim = 0;
    for (int d = 0; d < IN(0)->shape.ndim; d++) {
        if (!mask[d])
            o.dims[o.ndim++] = IN(0)->shape.dims[d];
        else if (c->n->attr.axes.keepdims)
            o.dims[o.ndim++] = 1;
    }
    OUT(0)->dtype = IN(0)->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

/* Axis of an argmax/argmin node (from in[1] or the attribute); -1 if invalid. */
int vgi_arg_axis(const vgi_node *n, const vg_tensor *vals) {
    int64_t ax = n->attr.arg.axis;
    if (n->n_in > 1 && n->in[1] >= 0)
        ax = vgi_tensor_get_i64(&vals[n->in[1]], 0);
    return vgi_axis_norm(ax, vals[n->in[0]].shape.ndim);
}

static vg_status infer_arg(const vgi_infer_ctx *c, vgi_err *err) {
    if (HAS_IN(1)) {
        vg_status st = need_data(c, err, 1, "the axis");
        if (st)
            return st;
    }
    int ax = vgi_arg_axis(c->n, c->vals);
    if (ax < 0)
        return node_err(c, err, VG_E_SHAPE, "axis out of range");
    vg_shape o;
    o.ndim = 0;
    for (int d = 0; d < IN(0)->shape.ndim; d++) {
        if (d != ax)
            o.dims[o.ndim++] = IN(0)->shape.dims[d];
        else if (c->n->attr.arg.keepdims)
            o.dims[o.ndim++] = 1;
    }
    OUT(0)->dtype = c->n->attr.arg.out_dtype ? c->n->attr.arg.out_dtype : VG_DTYPE_I64;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_topk(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 1, "k");
    if (st)
        return st;
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(c->n->attr.topk.axis, x->shape.ndim);
    int64_t          k  = vgi_tensor_get_i64(IN(1), 0);
    if (ax < 0)
        return node_err(c, err, VG_E_SHAPE, "axis out of range");
    if (k < 0 || k > x->shape.dims[ax])
        return node_err(c, err, VG_E_SHAPE, "k = %lld but the axis has %lld elements", (long long)k,
                        (long long)x->shape.dims[ax]);
    OUT(0)->dtype          = x->dtype;
    OUT(0)->shape          = x->shape;
    OUT(0)->shape.dims[ax] = k;
    OUT(1)->dtype = c->n->attr.topk.index_dtype ? c->n->attr.topk.index_dtype : VG_DTYPE_I32;
    OUT(1)->shape = OUT(0)->shape;
    return VG_OK;
}

static vg_status infer_softmax(const vgi_infer_ctx *c, vgi_err *err) {
    if (vgi_axis_norm(c->n->attr.axis.axis, IN(0)->shape.ndim) < 0)
        return node_err(c, err, VG_E_SHAPE, "axis out of range");
    return infer_unary_float(c, err);
}

static vg_status infer_matmul(const vgi_infer_ctx *c, vgi_err *err) {
    vg_shape a = IN(0)->shape, b = IN(1)->shape;
    char     b1[128], b2[128];
    if (a.ndim < 1 || b.ndim < 1 || IN(0)->dtype != IN(1)->dtype)
        return node_err(c, err, VG_E_SHAPE, "bad operands");
    bool va = a.ndim == 1, vb = b.ndim == 1;
    if (va) {
        a.ndim    = 2;
        a.dims[1] = a.dims[0];
        a.dims[0] = 1;
    }
    if (vb) {
        b.ndim    = 2;
        b.dims[1] = 1;
    }
    if (a.dims[a.ndim - 1] != b.dims[b.ndim - 2])
        return node_err(c, err, VG_E_SHAPE, "inner dims differ: %s x %s", shp(&IN(0)->shape, b1),
                        shp(&IN(1)->shape, b2));
    vg_shape ba = a, bb = b, o;
    ba.ndim -= 2;
    bb.ndim -= 2;
    if (vgi_broadcast_shape(&ba, &bb, &o))
        return node_err(c, err, VG_E_SHAPE, "batch dims do not broadcast: %s x %s",
                        shp(&IN(0)->shape, b1), shp(&IN(1)->shape, b2));
    if (!va)
        o.dims[o.ndim++] = a.dims[a.ndim - 2];
    if (!vb)
        o.dims[o.ndim++] = b.dims[b.ndim - 1];
    OUT(0)->dtype = IN(0)->dtype;
    OUT(0)->shape = o;
    return VG_OK;
}

static vg_status infer_gemm(const vgi_infer_ctx *c, vgi_err *err) {
    const vg_shape *a = &IN(0)->shape, *b = &IN(1)->shape;
    if (a->ndim != 2 || b->ndim != 2)
        return node_err(c, err, VG_E_SHAPE, "gemm operands must be rank 2");
    int64_t m  = c->n->attr.gemm.trans_a ? a->dims[1] : a->dims[0];
    int64_t ka = c->n->attr.gemm.trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = c->n->attr.gemm.trans_b ? b->dims[1] : b->dims[0];
    int64_t nn = c->n->attr.gemm.trans_b ? b->dims[0] : b->dims[1];
    if (ka != kb)
        return node_err(c, err, VG_E_SHAPE, "inner dims differ (%lld vs %lld)", (long long)ka,
                        (long long)kb);
    OUT(0)->dtype         = IN(0)->dtype;
    OUT(0)->shape.ndim    = 2;
    OUT(0)->shape.dims[0] = m;
    OUT(0)->shape.dims[1] = nn;
    if (HAS_IN(2)) {
        vg_shape t;
        if (vgi_broadcast_shape(&IN(2)->shape, &OUT(0)->shape, &t) ||
            !vg_shape_equal(&t, &OUT(0)->shape))
            return node_err(c, err, VG_E_SHAPE, "C does not broadcast to the result");
    }
    return VG_OK;
}

/* ---- generators and shape ops ------------------------------------------------- */

static vg_status infer_range(const vgi_infer_ctx *c, vgi_err *err) {
    for (int i = 0; i < 3; i++) {
        vg_status st = need_data(c, err, i, "start/limit/delta");
        if (st)
            return st;
    }
    double s = vgi_tensor_get_f64(IN(0), 0), l = vgi_tensor_get_f64(IN(1), 0),
           d = vgi_tensor_get_f64(IN(2), 0);
    if (d == 0)
        return node_err(c, err, VG_E_SHAPE, "delta is 0");
    double  cnt = ceil((l - s) / d);
    int64_t n   = cnt > 0 ? (int64_t)cnt : 0;
    if (IN(0)->dtype != VG_DTYPE_F32 && is_int(IN(0)->dtype)) {
        int64_t si = vgi_tensor_get_i64(IN(0), 0), li = vgi_tensor_get_i64(IN(1), 0),
                di = vgi_tensor_get_i64(IN(2), 0);
        n          = di > 0 ? (li - si + di - 1) / di : (si - li - di - 1) / (-di);
        if (n < 0)
            n = 0;
    }
    OUT(0)->dtype         = IN(0)->dtype;
    OUT(0)->shape.ndim    = 1;
    OUT(0)->shape.dims[0] = n;
    return VG_OK;
}

static vg_status infer_fill(const vgi_infer_ctx *c, vgi_err *err) {
    vg_status st = need_data(c, err, 0, "the shape");
    if (st)
        return st;
    int64_t n = vg_shape_numel(&IN(0)->shape);
    if (n < 0 || n > VG_MAX_DIMS)
        return node_err(c, err, VG_E_SHAPE, "bad shape");
    OUT(0)->shape.ndim = (int)n;
    for (int i = 0; i < n; i++) {
        OUT(0)->shape.dims[i] = vgi_tensor_get_i64(IN(0), i);
        if (OUT(0)->shape.dims[i] < 0)
            return node_err(c, err, VG_E_SHAPE, "negative dimension");
    }
    OUT(0)->dtype =
        HAS_IN(1) ? IN(1)->dtype : (c->n->attr.fill.dtype ? c->n->attr.fill.dtype : VG_DTYPE_F32);
    return VG_OK;
}

static vg_status infer_shape(const vgi_infer_ctx *c, vgi_err *err) {
    (void)err;
    int     r = IN(0)->shape.ndim;
    int64_t s = c->n->attr.shape.start, e = c->n->attr.shape.end;
    if (s < 0)
        s += r;
    if (e < 0)
        e += r;
    s                     = clamp64(s, 0, r);
    e                     = clamp64(e, 0, r);
    OUT(0)->dtype         = c->n->attr.shape.dtype ? c->n->attr.shape.dtype : VG_DTYPE_I32;
    OUT(0)->shape.ndim    = 1;
    OUT(0)->shape.dims[0] = e > s ? e - s : 0;
    return VG_OK;
}

static vg_status infer_size(const vgi_infer_ctx *c, vgi_err *err) {
    (void)err;
    OUT(0)->dtype      = c->n->attr.shape.dtype ? c->n->attr.shape.dtype : VG_DTYPE_I32;
    OUT(0)->shape.ndim = 0;
    return VG_OK;
}

/* ---- the table ----------------------------------------------------------------- */

#define EW VGI_OPF_ELEMENTWISE
#define UNARY(nm)                                                                                  \
    { nm, 1, 1, 1, 1, EW, infer_unary_float }
#define BINARY(nm)                                                                                 \
    { nm, 2, 2, 1, 1, EW, infer_binary }

static const vgi_op_info op_table[VGI_OP_COUNT] = {
    [VGI_OP_INVALID]         = {"invalid", 0, 0, 0, 0, VGI_OPF_NO_FOLD, NULL},
    [VGI_OP_IDENTITY]        = {"identity", 1, 1, 1, 1, VGI_OPF_VIEW, infer_same},
    [VGI_OP_CONV]            = {"conv", 2, 3, 1, 1, 0, infer_conv},
    [VGI_OP_CONV_TRANSPOSE]  = {"conv_transpose", 2, 3, 1, 1, 0, infer_conv},
    [VGI_OP_MAX_POOL]        = {"max_pool", 1, 1, 1, 1, 0, infer_pool},
    [VGI_OP_AVG_POOL]        = {"avg_pool", 1, 1, 1, 1, 0, infer_pool},
    [VGI_OP_GLOBAL_AVG_POOL] = {"global_avg_pool", 1, 1, 1, 1, 0, infer_pool},
    [VGI_OP_GLOBAL_MAX_POOL] = {"global_max_pool", 1, 1, 1, 1, 0, infer_pool},
    [VGI_OP_RESIZE]          = {"resize", 1, 2, 1, 1, 0, infer_resize},
    [VGI_OP_ADD]             = BINARY("add"),
    [VGI_OP_SUB]             = BINARY("sub"),
    [VGI_OP_MUL]             = BINARY("mul"),
    [VGI_OP_DIV]             = BINARY("div"),
    [VGI_OP_POW]             = BINARY("pow"),
    [VGI_OP_MAX]             = BINARY("max"),
    [VGI_OP_MIN]             = BINARY("min"),
    [VGI_OP_FLOOR_DIV]       = BINARY("floor_div"),
    [VGI_OP_FLOOR_MOD]       = BINARY("floor_mod"),
    [VGI_OP_FMOD]            = BINARY("fmod"),
    [VGI_OP_SQUARED_DIFF]    = BINARY("squared_difference"),
    [VGI_OP_PRELU]           = BINARY("prelu"),
    [VGI_OP_EQUAL]           = BINARY("equal"),
    [VGI_OP_NOT_EQUAL]       = BINARY("not_equal"),
    [VGI_OP_LESS]            = BINARY("less"),
    [VGI_OP_LESS_EQUAL]      = BINARY("less_equal"),
    [VGI_OP_GREATER]         = BINARY("greater"),
    [VGI_OP_GREATER_EQUAL]   = BINARY("greater_equal"),
    [VGI_OP_LOGICAL_AND]     = BINARY("logical_and"),
    [VGI_OP_LOGICAL_OR]      = BINARY("logical_or"),
    [VGI_OP_RELU]            = UNARY("relu"),
    [VGI_OP_RELU6]           = UNARY("relu6"),
    [VGI_OP_CLIP]            = UNARY("clip"),
    [VGI_OP_LEAKY_RELU]      = UNARY("leaky_relu"),
    [VGI_OP_ELU]             = UNARY("elu"),
    [VGI_OP_SIGMOID]         = UNARY("sigmoid"),
    [VGI_OP_TANH]            = UNARY("tanh"),
    [VGI_OP_EXP]             = UNARY("exp"),
    [VGI_OP_LOG]             = UNARY("log"),
    [VGI_OP_SQRT]            = UNARY("sqrt"),
    [VGI_OP_RSQRT]           = UNARY("rsqrt"),
    [VGI_OP_ABS]             = UNARY("abs"),
    [VGI_OP_NEG]             = UNARY("neg"),
    [VGI_OP_RECIPROCAL]      = UNARY("reciprocal"),
    [VGI_OP_FLOOR]           = UNARY("floor"),
    [VGI_OP_CEIL]            = UNARY("ceil"),
    [VGI_OP_ROUND]           = UNARY("round"),
    [VGI_OP_ERF]             = UNARY("erf"),
    [VGI_OP_HARD_SWISH]      = UNARY("hard_swish"),
    [VGI_OP_HARD_SIGMOID]    = UNARY("hard_sigmoid"),
    [VGI_OP_SILU]            = UNARY("silu"),
    [VGI_OP_LOGICAL_NOT]     = {"logical_not", 1, 1, 1, 1, EW, infer_logical_not},
    [VGI_OP_ADD_N]           = {"add_n", 1, -1, 1, 1, EW, infer_add_n},
    [VGI_OP_CAST]            = {"cast", 1, 1, 1, 1, EW, infer_cast},
    [VGI_OP_CONCAT]          = {"concat", 1, -1, 1, 1, 0, infer_concat},
    [VGI_OP_SPLIT]           = {"split", 1, 2, 1, -1, 0, infer_split},
    [VGI_OP_SLICE]           = {"slice", 3, 5, 1, 1, 0, infer_slice},
    [VGI_OP_STRIDED_SLICE]   = {"strided_slice", 3, 4, 1, 1, 0, infer_slice},
    [VGI_OP_RESHAPE]         = {"reshape", 2, 2, 1, 1, VGI_OPF_VIEW, infer_reshape},
    [VGI_OP_TRANSPOSE]       = {"transpose", 1, 1, 1, 1, 0, infer_transpose},
    [VGI_OP_SQUEEZE]         = {"squeeze", 1, 1, 1, 1, VGI_OPF_VIEW, infer_squeeze},
    [VGI_OP_UNSQUEEZE]       = {"unsqueeze", 1, 1, 1, 1, VGI_OPF_VIEW, infer_unsqueeze},
    [VGI_OP_FLATTEN]         = {"flatten", 1, 1, 1, 1, VGI_OPF_VIEW, infer_flatten},
    [VGI_OP_PAD]             = {"pad", 2, 3, 1, 1, 0, infer_pad},
    [VGI_OP_GATHER]          = {"gather", 2, 2, 1, 1, 0, infer_gather},
    [VGI_OP_GATHER_ND]       = {"gather_nd", 2, 2, 1, 1, 0, infer_gather_nd},
    [VGI_OP_TILE]            = {"tile", 2, 2, 1, 1, 0, infer_tile},
    [VGI_OP_EXPAND]          = {"expand", 2, 2, 1, 1, 0, infer_expand},
    [VGI_OP_PACK]            = {"pack", 1, -1, 1, 1, 0, infer_pack},
    [VGI_OP_UNPACK]          = {"unpack", 1, 1, 1, -1, 0, infer_unpack},
    [VGI_OP_SELECT]          = {"select", 3, 3, 1, 1, EW, infer_select},
    [VGI_OP_SPARSE_TO_DENSE] = {"sparse_to_dense", 4, 4, 1, 1, 0, infer_sparse_to_dense},
    [VGI_OP_REDUCE_MEAN]     = {"reduce_mean", 1, 2, 1, 1, 0, infer_reduce},
    [VGI_OP_REDUCE_SUM]      = {"reduce_sum", 1, 2, 1, 1, 0, infer_reduce},
    [VGI_OP_REDUCE_MAX]      = {"reduce_max", 1, 2, 1, 1, 0, infer_reduce},
    [VGI_OP_REDUCE_MIN]      = {"reduce_min", 1, 2, 1, 1, 0, infer_reduce},
    [VGI_OP_REDUCE_PROD]     = {"reduce_prod", 1, 2, 1, 1, 0, infer_reduce},
    [VGI_OP_ARGMAX]          = {"argmax", 1, 2, 1, 1, 0, infer_arg},
    [VGI_OP_ARGMIN]          = {"argmin", 1, 2, 1, 1, 0, infer_arg},
    [VGI_OP_TOPK]            = {"topk", 2, 2, 2, 2, 0, infer_topk},
    [VGI_OP_SOFTMAX]         = {"softmax", 1, 1, 1, 1, 0, infer_softmax},
    [VGI_OP_LOG_SOFTMAX]     = {"log_softmax", 1, 1, 1, 1, 0, infer_softmax},
    [VGI_OP_MATMUL]          = {"matmul", 2, 2, 1, 1, 0, infer_matmul},
    [VGI_OP_GEMM]            = {"gemm", 2, 3, 1, 1, 0, infer_gemm},
    [VGI_OP_RANGE]           = {"range", 3, 3, 1, 1, 0, infer_range},
    [VGI_OP_FILL]            = {"fill", 1, 2, 1, 1, 0, infer_fill},
    [VGI_OP_SHAPE]           = {"shape", 1, 1, 1, 1, VGI_OPF_SHAPE_ONLY, infer_shape},
    [VGI_OP_SIZE]            = {"size", 1, 1, 1, 1, VGI_OPF_SHAPE_ONLY, infer_size},
};

const vgi_op_info *vgi_op_get(vgi_op op) {
    if ((int)op <= 0 || op >= VGI_OP_COUNT || !op_table[op].name)
        return &op_table[VGI_OP_INVALID];
    return &op_table[op];
}

const char *vgi_op_name(vgi_op op) {
    return vgi_op_get(op)->name;
}

vg_status vgi_op_infer(const vgi_infer_ctx *c, vgi_err *err) {
    const vgi_op_info *info = vgi_op_get(c->n->op);
    if (!info->infer)
        return node_err(c, err, VG_E_UNSUPPORTED, "op has no shape function");
    if (c->n->n_in < info->min_in || (info->max_in >= 0 && c->n->n_in > info->max_in))
        return node_err(c, err, VG_E_FORMAT, "has %d inputs, expected %d..%d", c->n->n_in,
                        info->min_in, info->max_in);
    if (c->n->n_out < info->min_out || (info->max_out >= 0 && c->n->n_out > info->max_out))
        return node_err(c, err, VG_E_FORMAT, "has %d outputs, expected %d..%d", c->n->n_out,
                        info->min_out, info->max_out);
    for (int i = 0; i < info->min_in; i++)
        if (c->n->in[i] < 0)
            return node_err(c, err, VG_E_FORMAT, "required input %d is missing", i);
    for (int i = 0; i < c->n->n_in; i++) {
        if (c->n->in[i] < 0)
            continue;
        const vg_tensor *t = IN(i);
        if (t->dtype == VG_DTYPE_UNKNOWN || t->shape.ndim < 0)
            return node_err(c, err, VG_E_INTERNAL, "input %d has no known shape", i);
    }
    vg_status st = info->infer(c, err);
    if (st)
        return st;
    for (int k = 0; k < c->n->n_out; k++) {
        const vg_tensor *t = OUT(k);
        if (vg_shape_numel(&t->shape) < 0)
            return node_err(c, err, VG_E_SHAPE, "output %d has an invalid shape", k);
    }
    return VG_OK;
}

float vgi_act_apply(const vgi_act *act, float x) {
    switch (act->kind) {
    case VGI_ACT_NONE:
        return x;
    case VGI_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case VGI_ACT_RELU6:
        return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;
    case VGI_ACT_CLIP:
        return x < act->a ? act->a : (x > act->b ? act->b : x);
    case VGI_ACT_LEAKY:
        return x < 0.0f ? x * act->a : x;
    case VGI_ACT_SIGMOID:
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    case VGI_ACT_TANH:
        return tanhf(x);
    case VGI_ACT_HARD_SWISH: {
        float r = x + 3.0f;
        r       = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return x * r / 6.0f;
    }
    case VGI_ACT_HARD_SIGMOID: {
        float r = act->a * x + act->b;
        return r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r);
    }
    case VGI_ACT_SILU:
        return (float)((double)x / (1.0 + exp(-(double)x)));
    case VGI_ACT_ELU:
        return x < 0.0f ? act->a * (expf(x) - 1.0f) : x;
    }
    return x;
}
