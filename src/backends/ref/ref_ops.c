/*
 * ref_ops.c - reference kernels for every non-convolution op.
 *
 * DESIGN
 * Obviously correct loops. Elementwise ops broadcast through per-input
 * stride tables (stride 0 on broadcast dims) and switch on the op once per
 * innermost row, never per element through a function pointer. Float math is
 * done in double and rounded once to float32 (what the TF.js CPU backend
 * does). Data-movement ops are dtype-agnostic (they copy element bytes).
 * No allocation: every output buffer is provided by the engine.
 */
#include <math.h>
#include <string.h>

#include "backends/ref/ref_impl.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"

#define IN(i)     (&t[n->in[(i)]])
#define OUT(k)    (&t[n->out[(k)]])
#define HAS_IN(i) (n->n_in > (i) && n->in[(i)] >= 0)

static vg_status kerr(const vgi_node *n, vgi_err *err, vg_status st, const char *what) {
    return vgi_err_set(err, st, "node '%s' (%s): %s", n->name, vgi_op_name(n->op), what);
}

/* Strides (elements) of `s` aligned to an output of rank `nd`, 0 on broadcast dims. */
static void bcast_strides(const vg_shape *s, const vg_shape *o, int64_t st[VG_MAX_DIMS]) {
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

/* Iterates over all output rows (all dims but the last): calls the body with
 * offsets of each input; the innermost dim is looped by the caller. */
typedef struct bc_iter {
    int     nd;
    int64_t dims[VG_MAX_DIMS];
    int64_t idx[VG_MAX_DIMS];
    int64_t st[4][VG_MAX_DIMS];
    int64_t off[4];
    int     nin;
    int64_t inner;
    int64_t inner_st[4];
    int64_t rows, row;
} bc_iter;

static void bc_init(bc_iter *it, const vg_shape *o, const vg_shape *const *ins, int nin) {
    memset(it, 0, sizeof(*it));
    it->nd  = o->ndim;
    it->nin = nin;
    for (int i = 0; i < o->ndim; i++)
        it->dims[i] = o->dims[i];
    for (int k = 0; k < nin; k++)
        bcast_strides(ins[k], o, it->st[k]);
    it->inner = o->ndim ? o->dims[o->ndim - 1] : 1;
    for (int k = 0; k < nin; k++)
        it->inner_st[k] = o->ndim ? it->st[k][o->ndim - 1] : 0;
    it->rows = it->inner ? vg_shape_numel(o) / it->inner : 0;
}

/* Advances to the next row; updates off[]. */
static void bc_next(bc_iter *it) {
    it->row++;
    for (int d = it->nd - 2; d >= 0; d--) {
        it->idx[d]++;
        for (int k = 0; k < it->nin; k++)
            it->off[k] += it->st[k][d];
        if (it->idx[d] < it->dims[d])
            return;
        for (int k = 0; k < it->nin; k++)
            it->off[k] -= it->st[k][d] * it->dims[d];
        it->idx[d] = 0;
    }
}

/* ---- binary ------------------------------------------------------------------- */

static double fbin(vgi_op op, double a, double b) {
    switch (op) {
    case VGI_OP_ADD:
        return a + b;
    case VGI_OP_SUB:
        return a - b;
    case VGI_OP_MUL:
        return a * b;
    case VGI_OP_DIV:
        return a / b;
    case VGI_OP_POW:
        return pow(a, b);
    case VGI_OP_MAX:
        return isnan(a) || isnan(b) ? NAN : (a > b ? a : b);
    case VGI_OP_MIN:
        return isnan(a) || isnan(b) ? NAN : (a < b ? a : b);
    case VGI_OP_FLOOR_DIV:
        return floor(a / b);
    case VGI_OP_FLOOR_MOD: {
        double r = fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0)))
            r += b;
        return r;
    }
    case VGI_OP_FMOD:
        return fmod(a, b);
    case VGI_OP_SQUARED_DIFF:
        return (a - b) * (a - b);
    case VGI_OP_PRELU:
        return a < 0 ? a * b : a;
    default:
        return 0;
    }
}

static int64_t ibin(vgi_op op, int64_t a, int64_t b) {
    switch (op) {
    case VGI_OP_ADD:
        return (int64_t)((uint64_t)a + (uint64_t)b);
    case VGI_OP_SUB:
        return (int64_t)((uint64_t)a - (uint64_t)b);
    case VGI_OP_MUL:
        return (int64_t)((uint64_t)a * (uint64_t)b);
    case VGI_OP_DIV:
        return b ? (b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b) : 0;
    case VGI_OP_POW:
        return (int64_t)pow((double)a, (double)b);
    case VGI_OP_MAX:
        return a > b ? a : b;
    case VGI_OP_MIN:
        return a < b ? a : b;
    case VGI_OP_FLOOR_DIV: {
        if (!b)
            return 0;
        if (b == -1)
            return (int64_t)(0 - (uint64_t)a);
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
            q--;
        return q;
    }
    case VGI_OP_FLOOR_MOD: {
        if (!b || b == -1)
            return 0;
        int64_t r = a % b;
        if (r != 0 && ((r < 0) != (b < 0)))
            r += b;
        return r;
    }
    case VGI_OP_FMOD:
        return b && b != -1 ? a % b : 0;
    case VGI_OP_SQUARED_DIFF:
        return (a - b) * (a - b);
    case VGI_OP_PRELU:
        return a < 0 ? a * b : a;
    default:
        return 0;
    }
}

static bool cmp(vgi_op op, double a, double b) {
    switch (op) {
    case VGI_OP_EQUAL:
        return a == b;
    case VGI_OP_NOT_EQUAL:
        return a != b;
    case VGI_OP_LESS:
        return a < b;
    case VGI_OP_LESS_EQUAL:
        return a <= b;
    case VGI_OP_GREATER:
        return a > b;
    case VGI_OP_GREATER_EQUAL:
        return a >= b;
    case VGI_OP_LOGICAL_AND:
        return a != 0 && b != 0;
    case VGI_OP_LOGICAL_OR:
        return a != 0 || b != 0;
    default:
        return false;
    }
}

static bool is_cmp(vgi_op op) {
    return op >= VGI_OP_EQUAL && op <= VGI_OP_LOGICAL_OR;
}

vg_status vgi_ref_binary(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_binary(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *a = IN(0), *b = IN(1);
    vg_tensor       *o      = OUT(0);
    const vg_shape  *ins[2] = {&a->shape, &b->shape};
    bc_iter          it;
    bc_init(&it, &o->shape, ins, 2);
    vgi_op   op = n->op;
    vg_dtype dt = a->dtype;
    if (dt != VG_DTYPE_F32 && dt != VG_DTYPE_I32 && dt != VG_DTYPE_I64 && dt != VG_DTYPE_BOOL &&
        dt != VG_DTYPE_U8)
        return kerr(n, err, VG_E_UNSUPPORTED, "dtype not supported by the ref kernel");
    for (int64_t r = 0; r < it.rows; r++, bc_next(&it)) {
        int64_t oo = r * it.inner, ao = it.off[0], bo = it.off[1];
        int64_t as = it.inner_st[0], bs = it.inner_st[1];
        if (is_cmp(op)) {
            uint8_t *od = (uint8_t *)o->data + oo;
            for (int64_t i = 0; i < it.inner; i++)
                od[i] =
                    cmp(op, vgi_tensor_get_f64(a, ao + i * as), vgi_tensor_get_f64(b, bo + i * bs));
            continue;
        }
        if (dt == VG_DTYPE_F32) {
            const float *ad = (const float *)a->data + ao, *bd = (const float *)b->data + bo;
            float       *od = (float *)o->data + oo;
            for (int64_t i = 0; i < it.inner; i++)
                od[i] = (float)fbin(op, ad[i * as], bd[i * bs]);
        } else if (dt == VG_DTYPE_I32) {
            const int32_t *ad = (const int32_t *)a->data + ao, *bd = (const int32_t *)b->data + bo;
            int32_t       *od = (int32_t *)o->data + oo;
            for (int64_t i = 0; i < it.inner; i++)
                od[i] = (int32_t)ibin(op, ad[i * as], bd[i * bs]);
        } else if (dt == VG_DTYPE_I64) {
            const int64_t *ad = (const int64_t *)a->data + ao, *bd = (const int64_t *)b->data + bo;
            int64_t       *od = (int64_t *)o->data + oo;
            for (int64_t i = 0; i < it.inner; i++)
                od[i] = ibin(op, ad[i * as], bd[i * bs]);
        } else {
            const uint8_t *ad = (const uint8_t *)a->data + ao, *bd = (const uint8_t *)b->data + bo;
            uint8_t       *od = (uint8_t *)o->data + oo;
            for (int64_t i = 0; i < it.inner; i++)
                od[i] = (uint8_t)ibin(op, ad[i * as], bd[i * bs]);
        }
    }
    return VG_OK;
}

vg_status vgi_ref_add_n(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_add_n(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    vg_tensor *o = OUT(0);
    int64_t    N = vg_shape_numel(&o->shape);
    if (o->dtype != VG_DTYPE_F32 && o->dtype != VG_DTYPE_I32)
        return kerr(n, err, VG_E_UNSUPPORTED, "dtype not supported by the ref kernel");
    for (int k = 0; k < n->n_in; k++) {
        const vg_shape *ins[1] = {&IN(k)->shape};
        bc_iter         it;
        bc_init(&it, &o->shape, ins, 1);
        for (int64_t r = 0; r < it.rows; r++, bc_next(&it))
            for (int64_t i = 0; i < it.inner; i++) {
                int64_t oi = r * it.inner + i, ii = it.off[0] + i * it.inner_st[0];
                if (o->dtype == VG_DTYPE_F32) {
                    float v                = ((const float *)IN(k)->data)[ii];
                    ((float *)o->data)[oi] = k ? ((float *)o->data)[oi] + v : v;
                } else {
                    int32_t v = ((const int32_t *)IN(k)->data)[ii];
                    ((int32_t *)o->data)[oi] =
                        k ? (int32_t)((uint32_t)((int32_t *)o->data)[oi] + (uint32_t)v) : v;
                }
            }
    }
    (void)N;
    return VG_OK;
}

vg_status vgi_ref_select(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_select(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    vg_tensor      *o      = OUT(0);
    const vg_shape *ins[3] = {&IN(0)->shape, &IN(1)->shape, &IN(2)->shape};
    size_t          es     = vg_dtype_size(o->dtype);
    bc_iter         it;
    bc_init(&it, &o->shape, ins, 3);
    const uint8_t *cd = IN(0)->data;
    for (int64_t r = 0; r < it.rows; r++, bc_next(&it))
        for (int64_t i = 0; i < it.inner; i++) {
            bool        c = cd[it.off[0] + i * it.inner_st[0]];
            const char *src =
                c ? (const char *)IN(1)->data + (size_t)(it.off[1] + i * it.inner_st[1]) * es
                  : (const char *)IN(2)->data + (size_t)(it.off[2] + i * it.inner_st[2]) * es;
            memcpy((char *)o->data + (size_t)(r * it.inner + i) * es, src, es);
        }
    return VG_OK;
}

/* ---- unary --------------------------------------------------------------------- */

static double funary(const vgi_node *n, double x) {
    const vgi_unary_attr *u = &n->attr.unary;
    switch (n->op) {
    case VGI_OP_RELU:
        return x > 0 ? x : 0;
    case VGI_OP_RELU6:
        return x > 0 ? (x < 6 ? x : 6) : 0;
    case VGI_OP_CLIP:
        return x < u->alpha ? u->alpha : (x > u->beta ? u->beta : x);
    case VGI_OP_LEAKY_RELU:
        return x < 0 ? x * (double)u->alpha : x;
    case VGI_OP_ELU:
        return x < 0 ? (double)u->alpha * (exp(x) - 1) : x;
    case VGI_OP_SIGMOID:
        return 1.0 / (1.0 + exp(-x));
    case VGI_OP_TANH:
        return tanh(x);
    case VGI_OP_EXP:
        return exp(x);
    case VGI_OP_LOG:
        return log(x);
    case VGI_OP_SQRT:
        return sqrt(x);
    case VGI_OP_RSQRT:
        return 1.0 / sqrt(x);
    case VGI_OP_ABS:
        return fabs(x);
    case VGI_OP_NEG:
        return -x;
    case VGI_OP_RECIPROCAL:
        return 1.0 / x;
    case VGI_OP_FLOOR:
        return floor(x);
    case VGI_OP_CEIL:
        return ceil(x);
    case VGI_OP_ROUND:
        return nearbyint(x);
    case VGI_OP_ERF:
        return erf(x);
    case VGI_OP_HARD_SWISH: {
        double r = x + 3;
        r        = r < 0 ? 0 : (r > 6 ? 6 : r);
        return x * r / 6;
    }
    case VGI_OP_HARD_SIGMOID: {
        double r = (double)u->alpha * x + (double)u->beta;
        return r < 0 ? 0 : (r > 1 ? 1 : r);
    }
    case VGI_OP_SILU:
        return x / (1.0 + exp(-x));
    default:
        return x;
    }
}

vg_status vgi_ref_unary(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_unary(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0);
    vg_tensor       *o = OUT(0);
    int64_t          N = vg_shape_numel(&x->shape);
    if (n->op == VGI_OP_LOGICAL_NOT) {
        for (int64_t i = 0; i < N; i++)
            ((uint8_t *)o->data)[i] = !((const uint8_t *)x->data)[i];
        return VG_OK;
    }
    if (x->dtype == VG_DTYPE_F32) {
        const float *xd = x->data;
        float       *od = o->data;
        for (int64_t i = 0; i < N; i++)
            od[i] = (float)funary(n, xd[i]);
        return VG_OK;
    }
    if (x->dtype == VG_DTYPE_I32 || x->dtype == VG_DTYPE_I64) {
        for (int64_t i = 0; i < N; i++) {
            int64_t v = vgi_tensor_get_i64(x, i);
            int64_t r = n->op == VGI_OP_ABS    ? (v < 0 ? -v : v)
                        : n->op == VGI_OP_NEG  ? -v
                        : n->op == VGI_OP_RELU ? (v > 0 ? v : 0)
                                               : v;
            if (x->dtype == VG_DTYPE_I32)
                ((int32_t *)o->data)[i] = (int32_t)r;
            else
                ((int64_t *)o->data)[i] = r;
        }
        return VG_OK;
    }
    return kerr(n, err, VG_E_UNSUPPORTED, "dtype not supported by the ref kernel");
}

/* Converts one element; float -> int truncates toward zero (saturating). */
static void cast_elem(vg_dtype to, void *dst, int64_t i, const vg_tensor *src) {
    vg_dtype from = src->dtype;
    bool     flt  = from == VG_DTYPE_F32 || from == VG_DTYPE_F64 || from == VG_DTYPE_F16;
    double   d    = flt ? vgi_tensor_get_f64(src, i) : 0;
    int64_t  v    = flt ? 0 : vgi_tensor_get_i64(src, i);
    if (flt) {
        double tr = trunc(d);
        if (isnan(tr))
            tr = 0;
        if (tr > 9.2e18)
            tr = 9.2e18;
        if (tr < -9.2e18)
            tr = -9.2e18;
        v = (int64_t)tr;
    } else {
        d = (double)v;
    }
    switch (to) {
    case VG_DTYPE_F32:
        ((float *)dst)[i] = (float)d;
        break;
    case VG_DTYPE_F64:
        ((double *)dst)[i] = d;
        break;
    case VG_DTYPE_F16:
        ((uint16_t *)dst)[i] = vg_f32_to_f16((float)d);
        break;
    case VG_DTYPE_I32:
        ((int32_t *)dst)[i] =
            (int32_t)(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v));
        break;
    case VG_DTYPE_I64:
        ((int64_t *)dst)[i] = v;
        break;
    case VG_DTYPE_U8:
        ((uint8_t *)dst)[i] = (uint8_t)v;
        break;
    case VG_DTYPE_I8:
        ((int8_t *)dst)[i] = (int8_t)v;
        break;
    case VG_DTYPE_U16:
        ((uint16_t *)dst)[i] = (uint16_t)v;
        break;
    case VG_DTYPE_I16:
        ((int16_t *)dst)[i] = (int16_t)v;
        break;
    case VG_DTYPE_BOOL:
        ((uint8_t *)dst)[i] = flt ? d != 0 : v != 0;
        break;
    default:
        break;
    }
}

vg_status vgi_ref_cast(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_cast(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    int64_t N = vg_shape_numel(&IN(0)->shape);
    for (int64_t i = 0; i < N; i++)
        cast_elem(OUT(0)->dtype, OUT(0)->data, i, IN(0));
    return VG_OK;
}

/* ---- data movement --------------------------------------------------------------- */

vg_status vgi_ref_copy(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_copy(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    if (OUT(0)->data != IN(0)->data)
        memmove(OUT(0)->data, IN(0)->data, vg_tensor_nbytes(OUT(0)));
    return VG_OK;
}

static void split_axis(const vg_shape *s, int ax, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < ax; d++)
        *outer *= s->dims[d];
    for (int d = ax + 1; d < s->ndim; d++)
        *inner *= s->dims[d];
}

vg_status vgi_ref_concat(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_concat(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    vg_tensor *o  = OUT(0);
    int        ax = vgi_axis_norm(n->attr.axis.axis, o->shape.ndim);
    size_t     es = vg_dtype_size(o->dtype);
    int64_t    outer, inner;
    split_axis(&o->shape, ax, &outer, &inner);
    int64_t off = 0;
    for (int k = 0; k < n->n_in; k++) {
        int64_t a = IN(k)->shape.dims[ax];
        for (int64_t p = 0; p < outer; p++)
            memcpy((char *)o->data + (size_t)((p * o->shape.dims[ax] + off) * inner) * es,
                   (const char *)IN(k)->data + (size_t)(p * a * inner) * es,
                   (size_t)(a * inner) * es);
        off += a;
    }
    return VG_OK;
}

vg_status vgi_ref_split(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_split(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(n->attr.split.axis, x->shape.ndim);
    size_t           es = vg_dtype_size(x->dtype);
    int64_t          outer, inner;
    split_axis(&x->shape, ax, &outer, &inner);
    int64_t off = 0;
    for (int k = 0; k < n->n_out; k++) {
        int64_t a = OUT(k)->shape.dims[ax];
        for (int64_t p = 0; p < outer; p++)
            memcpy((char *)OUT(k)->data + (size_t)(p * a * inner) * es,
                   (const char *)x->data + (size_t)((p * x->shape.dims[ax] + off) * inner) * es,
                   (size_t)(a * inner) * es);
        off += a;
    }
    return VG_OK;
}

vg_status vgi_ref_pack(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_pack(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    vg_tensor *o  = OUT(0);
    int        ax = vgi_axis_norm(n->attr.axis.axis, o->shape.ndim);
    size_t     es = vg_dtype_size(o->dtype);
    int64_t    outer, inner;
    split_axis(&o->shape, ax, &outer, &inner);
    for (int k = 0; k < n->n_in; k++)
        for (int64_t p = 0; p < outer; p++)
            memcpy((char *)o->data + (size_t)((p * n->n_in + k) * inner) * es,
                   (const char *)IN(k)->data + (size_t)(p * inner) * es, (size_t)inner * es);
    return VG_OK;
}

vg_status vgi_ref_unpack(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_unpack(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(n->attr.axis.axis, x->shape.ndim);
    size_t           es = vg_dtype_size(x->dtype);
    int64_t          outer, inner;
    split_axis(&x->shape, ax, &outer, &inner);
    for (int k = 0; k < n->n_out; k++)
        for (int64_t p = 0; p < outer; p++)
            memcpy((char *)OUT(k)->data + (size_t)(p * inner) * es,
                   (const char *)x->data + (size_t)((p * n->n_out + k) * inner) * es,
                   (size_t)inner * es);
    return VG_OK;
}

/* Generic strided gather over up to 8 dims: out[i] = in[start + idx * step]. */
vg_status vgi_ref_slice(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_slice(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0);
    int64_t          start[VG_MAX_DIMS], step[VG_MAX_DIMS], count[VG_MAX_DIMS];
    vg_shape         os;
    vg_status        st = vgi_slice_resolve(n, t, start, step, count, &os, err);
    if (st)
        return st;
    int     r  = x->shape.ndim;
    size_t  es = vg_dtype_size(x->dtype);
    int64_t xs[VG_MAX_DIMS], acc = 1;
    for (int d = r - 1; d >= 0; d--) {
        xs[d] = acc;
        acc *= x->shape.dims[d];
    }
    int64_t total = 1;
    for (int d = 0; d < r; d++)
        total *= count[d];
    int64_t idx[VG_MAX_DIMS] = {0};
    for (int64_t i = 0; i < total; i++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++)
            off += (start[d] + idx[d] * step[d]) * xs[d];
        memcpy((char *)OUT(0)->data + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < count[d])
                break;
            idx[d] = 0;
        }
    }
    return VG_OK;
}

vg_status vgi_ref_transpose(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_transpose(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x  = IN(0);
    vg_tensor       *o  = OUT(0);
    int              r  = x->shape.ndim;
    size_t           es = vg_dtype_size(x->dtype);
    int64_t          xs[VG_MAX_DIMS], acc = 1, ps[VG_MAX_DIMS];
    for (int d = r - 1; d >= 0; d--) {
        xs[d] = acc;
        acc *= x->shape.dims[d];
    }
    for (int d = 0; d < r; d++)
        ps[d] = xs[n->attr.transpose.perm[d]];
    int64_t total = vg_shape_numel(&o->shape), idx[VG_MAX_DIMS] = {0}, off = 0;
    int64_t inner = r ? o->shape.dims[r - 1] : 1, inner_st = r ? ps[r - 1] : 0;
    for (int64_t i = 0; i < total; i += inner) {
        if (es == 4) {
            const uint32_t *src = x->data;
            uint32_t       *dst = (uint32_t *)o->data + i;
            for (int64_t j = 0; j < inner; j++)
                dst[j] = src[off + j * inner_st];
        } else {
            for (int64_t j = 0; j < inner; j++)
                memcpy((char *)o->data + (size_t)(i + j) * es,
                       (const char *)x->data + (size_t)(off + j * inner_st) * es, es);
        }
        for (int d = r - 2; d >= 0; d--) {
            idx[d]++;
            off += ps[d];
            if (idx[d] < o->shape.dims[d])
                break;
            off -= ps[d] * o->shape.dims[d];
            idx[d] = 0;
        }
    }
    return VG_OK;
}

vg_status vgi_ref_pad(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_pad(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0);
    vg_tensor       *o = OUT(0);
    int64_t          pads[VG_MAX_DIMS][2];
    if (vgi_pad_read(n, t, pads))
        return kerr(n, err, VG_E_SHAPE, "paddings do not fit the input");
    int     r  = x->shape.ndim;
    size_t  es = vg_dtype_size(x->dtype);
    int64_t xs[VG_MAX_DIMS], acc = 1;
    for (int d = r - 1; d >= 0; d--) {
        xs[d] = acc;
        acc *= x->shape.dims[d];
    }
    /* The fill value as an element of the output dtype. */
    unsigned char fill[8] = {0};
    vg_tensor     fv      = vg_tensor_make(VG_DTYPE_F32, 0, NULL, NULL);
    float         fval    = n->attr.pad.value;
    if (HAS_IN(2) && vg_shape_numel(&IN(2)->shape) >= 1)
        fv = *IN(2);
    else
        fv.data = &fval;
    cast_elem(x->dtype, fill, 0, &fv);
    int64_t total = vg_shape_numel(&o->shape), idx[VG_MAX_DIMS] = {0};
    for (int64_t i = 0; i < total; i++) {
        int64_t off    = 0;
        bool    inside = true;
        for (int d = 0; d < r; d++) {
            int64_t s = idx[d] - pads[d][0], D = x->shape.dims[d];
            if (s < 0 || s >= D) {
                if (n->attr.pad.mode == VGI_PADFILL_CONSTANT || D == 0) {
                    inside = false;
                    break;
                }
                if (n->attr.pad.mode == VGI_PADFILL_EDGE) {
                    s = s < 0 ? 0 : D - 1;
                } else { /* reflect, without repeating the edge */
                    int64_t period = D > 1 ? 2 * (D - 1) : 1;
                    s              = ((s % period) + period) % period;
                    if (s >= D)
                        s = period - s;
                }
            }
            off += s * xs[d];
        }
        char *dst = (char *)o->data + (size_t)i * es;
        if (inside)
            memcpy(dst, (const char *)x->data + (size_t)off * es, es);
        else
            memcpy(dst, fill, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < o->shape.dims[d])
                break;
            idx[d] = 0;
        }
    }
    return VG_OK;
}

vg_status vgi_ref_gather(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_gather(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0), *ix = IN(1);
    int              ax    = vgi_axis_norm(n->attr.gather.axis, x->shape.ndim);
    int              bd    = (int)n->attr.gather.batch_dims;
    size_t           es    = vg_dtype_size(x->dtype);
    int64_t          batch = 1, outer = 1, inner = 1, nidx = 1;
    for (int d = 0; d < bd; d++)
        batch *= x->shape.dims[d];
    for (int d = bd; d < ax; d++)
        outer *= x->shape.dims[d];
    for (int d = ax + 1; d < x->shape.ndim; d++)
        inner *= x->shape.dims[d];
    for (int d = bd; d < ix->shape.ndim; d++)
        nidx *= ix->shape.dims[d];
    int64_t A   = x->shape.dims[ax];
    char   *dst = OUT(0)->data;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t p = 0; p < outer; p++)
            for (int64_t k = 0; k < nidx; k++) {
                int64_t i = vgi_tensor_get_i64(ix, b * nidx + k);
                if (i < 0)
                    i += A;
                if (i < 0 || i >= A)
                    return kerr(n, err, VG_E_INVALID_ARG, "index out of range");
                memcpy(dst,
                       (const char *)x->data + (size_t)(((b * outer + p) * A + i) * inner) * es,
                       (size_t)inner * es);
                dst += (size_t)inner * es;
            }
    return VG_OK;
}

vg_status vgi_ref_gather_nd(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_gather_nd(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0), *ix = IN(1);
    int              bd = (int)n->attr.gather.batch_dims;
    int64_t          q  = ix->shape.dims[ix->shape.ndim - 1];
    size_t           es = vg_dtype_size(x->dtype);
    int64_t          xs[VG_MAX_DIMS], acc = 1;
    for (int d = x->shape.ndim - 1; d >= 0; d--) {
        xs[d] = acc;
        acc *= x->shape.dims[d];
    }
    int64_t batch = 1, per = 1;
    for (int d = 0; d < bd; d++)
        batch *= ix->shape.dims[d];
    for (int d = bd; d < ix->shape.ndim - 1; d++)
        per *= ix->shape.dims[d];
    int64_t inner = bd + q < x->shape.ndim ? xs[bd + q - 1 + (q ? 0 : 1)] : 1;
    inner         = 1;
    for (int d = bd + (int)q; d < x->shape.ndim; d++)
        inner *= x->shape.dims[d];
    char *dst = OUT(0)->data;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t k = 0; k < per; k++) {
            int64_t off = bd ? b * xs[bd - 1] : 0;
            for (int64_t j = 0; j < q; j++) {
                int64_t i = vgi_tensor_get_i64(ix, (b * per + k) * q + j);
                int64_t D = x->shape.dims[bd + j];
                if (i < 0)
                    i += D;
                if (i < 0 || i >= D)
                    return kerr(n, err, VG_E_INVALID_ARG, "index out of range");
                off += i * xs[bd + j];
            }
            memcpy(dst, (const char *)x->data + (size_t)off * es, (size_t)inner * es);
            dst += (size_t)inner * es;
        }
    return VG_OK;
}

/* Broadcast copy: tile (modulo) and expand (stride 0) share one loop. */
vg_status vgi_ref_tile(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_tile(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x = IN(0);
    vg_tensor       *o = OUT(0);
    int              r = o->shape.ndim, off_r = r - x->shape.ndim;
    size_t           es = vg_dtype_size(x->dtype);
    int64_t          xs[VG_MAX_DIMS], acc = 1;
    for (int d = x->shape.ndim - 1; d >= 0; d--) {
        xs[d] = acc;
        acc *= x->shape.dims[d];
    }
    int64_t total = vg_shape_numel(&o->shape), idx[VG_MAX_DIMS] = {0};
    for (int64_t i = 0; i < total; i++) {
        int64_t off = 0;
        for (int d = off_r; d < r; d++) {
            int64_t D = x->shape.dims[d - off_r];
            off += (D == 1 ? 0 : idx[d] % D) * xs[d - off_r];
        }
        memcpy((char *)o->data + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < o->shape.dims[d])
                break;
            idx[d] = 0;
        }
    }
    return VG_OK;
}

vg_status vgi_ref_sparse_to_dense(const vgi_graph *g, const vgi_node *n, vg_tensor *t,
                                  vgi_err *err);
vg_status vgi_ref_sparse_to_dense(const vgi_graph *g, const vgi_node *n, vg_tensor *t,
                                  vgi_err *err) {
    (void)g;
    vg_tensor       *o  = OUT(0);
    const vg_tensor *ix = IN(0), *vals = IN(2), *def = IN(3);
    size_t           es = vg_dtype_size(o->dtype);
    int64_t          N  = vg_shape_numel(&o->shape);
    for (int64_t i = 0; i < N; i++)
        memcpy((char *)o->data + (size_t)i * es, def->data, es);
    int     r  = o->shape.ndim;
    int64_t ni = ix->shape.ndim == 0 ? 1 : ix->shape.dims[0];
    int64_t q  = ix->shape.ndim == 2 ? ix->shape.dims[1] : 1;
    if (vg_shape_numel(&ix->shape) == 0)
        return VG_OK;
    if (q != r)
        return kerr(n, err, VG_E_SHAPE, "index depth does not match the output rank");
    int64_t nv = vg_shape_numel(&vals->shape);
    for (int64_t k = 0; k < ni; k++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) {
            int64_t i = vgi_tensor_get_i64(ix, k * q + d);
            if (i < 0 || i >= o->shape.dims[d])
                return kerr(n, err, VG_E_INVALID_ARG, "index out of range");
            off = off * o->shape.dims[d] + i;
        }
        memcpy((char *)o->data + (size_t)off * es,
               (const char *)vals->data + (size_t)(nv == 1 ? 0 : k) * es, es);
    }
    return VG_OK;
}

/* ---- reductions and search ----------------------------------------------------------- */

vg_status vgi_ref_reduce(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_reduce(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x = IN(0);
    vg_tensor       *o = OUT(0);
    bool             mask[VG_MAX_DIMS];
    if (vgi_reduce_axes(n, t, mask))
        return kerr(n, err, VG_E_SHAPE, "bad reduction axes");
    if (x->dtype != VG_DTYPE_F32 && x->dtype != VG_DTYPE_I32 && x->dtype != VG_DTYPE_I64)
        return kerr(n, err, VG_E_UNSUPPORTED, "dtype not supported by the ref kernel");
    int     r  = x->shape.ndim;
    int64_t on = vg_shape_numel(&o->shape), cnt = 1;
    for (int d = 0; d < r; d++)
        if (mask[d])
            cnt *= x->shape.dims[d];
    /* Output strides over the input's dims (0 on reduced ones). */
    int64_t os[VG_MAX_DIMS], acc = 1;
    for (int d = r - 1; d >= 0; d--) {
        os[d] = mask[d] ? 0 : acc;
        if (!mask[d])
            acc *= x->shape.dims[d];
    }
    /* Accumulate in double in a first pass over the output buffer as scratch:
     * not possible for int32 outputs, so each output is computed separately. */
    int64_t xn = vg_shape_numel(&x->shape);
    for (int64_t oi = 0; oi < on; oi++) {
        double  res              = n->op == VGI_OP_REDUCE_PROD ? 1.0 : 0.0;
        bool    first            = true;
        int64_t idx[VG_MAX_DIMS] = {0};
        /* Visit the input elements that map to output oi. */
        int64_t rem = oi, base_idx[VG_MAX_DIMS] = {0};
        for (int d = r - 1; d >= 0; d--) {
            if (mask[d])
                continue;
            base_idx[d] = rem % x->shape.dims[d];
            rem /= x->shape.dims[d];
        }
        (void)xn;
        for (int64_t k = 0; k < cnt; k++) {
            int64_t off = 0;
            for (int d = 0; d < r; d++)
                off = off * x->shape.dims[d] + (mask[d] ? idx[d] : base_idx[d]);
            double v = vgi_tensor_get_f64(x, off);
            switch (n->op) {
            case VGI_OP_REDUCE_MEAN:
                res += x->dtype == VG_DTYPE_F32 ? (double)(float)(v / (double)cnt) : v;
                break;
            case VGI_OP_REDUCE_SUM:
                res += v;
                break;
            case VGI_OP_REDUCE_PROD:
                res *= v;
                break;
            case VGI_OP_REDUCE_MAX:
                if (first || v > res || isnan(v))
                    res = v;
                break;
            default:
                if (first || v < res || isnan(v))
                    res = v;
                break;
            }
            first = false;
            for (int d = r - 1; d >= 0; d--) {
                if (!mask[d])
                    continue;
                if (++idx[d] < x->shape.dims[d])
                    break;
                idx[d] = 0;
            }
        }
        if (n->op == VGI_OP_REDUCE_MEAN && x->dtype != VG_DTYPE_F32 && cnt)
            res = trunc(res / (double)cnt);
        if (o->dtype == VG_DTYPE_F32)
            ((float *)o->data)[oi] = (float)res;
        else if (o->dtype == VG_DTYPE_I32)
            ((int32_t *)o->data)[oi] = (int32_t)res;
        else
            ((int64_t *)o->data)[oi] = (int64_t)res;
    }
    (void)os;
    return VG_OK;
}

vg_status vgi_ref_arg(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_arg(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x  = IN(0);
    vg_tensor       *o  = OUT(0);
    int              ax = vgi_arg_axis(n, t);
    if (ax < 0)
        return kerr(n, err, VG_E_SHAPE, "axis out of range");
    int64_t outer, inner, A = x->shape.dims[ax];
    split_axis(&x->shape, ax, &outer, &inner);
    bool is_max = n->op == VGI_OP_ARGMAX, last = n->attr.arg.select_last;
    for (int64_t p = 0; p < outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t best = 0;
            double  bv   = vgi_tensor_get_f64(x, p * A * inner + q);
            for (int64_t a = 1; a < A; a++) {
                double v = vgi_tensor_get_f64(x, (p * A + a) * inner + q);
                bool   better =
                    is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
                if (better) {
                    bv   = v;
                    best = a;
                }
            }
            if (o->dtype == VG_DTYPE_I32)
                ((int32_t *)o->data)[p * inner + q] = (int32_t)best;
            else
                ((int64_t *)o->data)[p * inner + q] = best;
        }
    return VG_OK;
}

/* Top-k by insertion into the (sorted) output: ties keep the lower index. */
vg_status vgi_ref_topk(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_topk(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vg_tensor *x  = IN(0);
    vg_tensor       *ov = OUT(0), *oi = OUT(1);
    int              ax = vgi_axis_norm(n->attr.topk.axis, x->shape.ndim);
    if (x->dtype != VG_DTYPE_F32 && x->dtype != VG_DTYPE_I32)
        return kerr(n, err, VG_E_UNSUPPORTED, "dtype not supported by the ref kernel");
    int64_t outer, inner, A = x->shape.dims[ax], K = ov->shape.dims[ax];
    split_axis(&x->shape, ax, &outer, &inner);
    bool largest = n->attr.topk.largest;
    for (int64_t p = 0; p < outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t have = 0;
#define SLOT(k) (((p)*K + (k)) * inner + (q))
            for (int64_t a = 0; a < A; a++) {
                double v = vgi_tensor_get_f64(x, (p * A + a) * inner + q);
                /* position where v goes: after every element that is >= (ties: earlier index). */
                int64_t pos = have;
                while (pos > 0) {
                    double pv = vgi_tensor_get_f64(ov, SLOT(pos - 1));
                    if (largest ? v > pv : v < pv)
                        pos--;
                    else
                        break;
                }
                if (pos >= K)
                    continue;
                int64_t end = have < K ? have : K - 1;
                for (int64_t k = end; k > pos; k--) {
                    size_t es = vg_dtype_size(x->dtype), is = vg_dtype_size(oi->dtype);
                    memcpy((char *)ov->data + (size_t)SLOT(k) * es,
                           (char *)ov->data + (size_t)SLOT(k - 1) * es, es);
                    memcpy((char *)oi->data + (size_t)SLOT(k) * is,
                           (char *)oi->data + (size_t)SLOT(k - 1) * is, is);
                }
                if (x->dtype == VG_DTYPE_F32)
                    ((float *)ov->data)[SLOT(pos)] = (float)v;
                else
                    ((int32_t *)ov->data)[SLOT(pos)] = (int32_t)v;
                if (oi->dtype == VG_DTYPE_I64)
                    ((int64_t *)oi->data)[SLOT(pos)] = a;
                else
                    ((int32_t *)oi->data)[SLOT(pos)] = (int32_t)a;
                if (have < K)
                    have++;
            }
#undef SLOT
        }
    return VG_OK;
}

vg_status vgi_ref_softmax(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_softmax(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x  = IN(0);
    int              ax = vgi_axis_norm(n->attr.axis.axis, x->shape.ndim);
    int64_t          outer, inner, A = x->shape.dims[ax];
    split_axis(&x->shape, ax, &outer, &inner);
    const float *xd = x->data;
    float       *od = OUT(0)->data;
    for (int64_t p = 0; p < outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            double m = -INFINITY, s = 0;
            for (int64_t a = 0; a < A; a++)
                m = fmax(m, xd[(p * A + a) * inner + q]);
            for (int64_t a = 0; a < A; a++)
                s += exp(xd[(p * A + a) * inner + q] - m);
            for (int64_t a = 0; a < A; a++) {
                double v = xd[(p * A + a) * inner + q] - m;
                od[(p * A + a) * inner + q] =
                    (float)(n->op == VGI_OP_LOG_SOFTMAX ? v - log(s) : exp(v) / s);
            }
        }
    return VG_OK;
}

vg_status vgi_ref_matmul(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_matmul(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    vg_shape a = IN(0)->shape, b = IN(1)->shape;
    if (IN(0)->dtype != VG_DTYPE_F32)
        return kerr(n, err, VG_E_UNSUPPORTED, "only float32 matmul");
    if (a.ndim == 1) {
        a.ndim    = 2;
        a.dims[1] = a.dims[0];
        a.dims[0] = 1;
    }
    if (b.ndim == 1) {
        b.ndim    = 2;
        b.dims[1] = 1;
    }
    int64_t  M = a.dims[a.ndim - 2], K = a.dims[a.ndim - 1], N = b.dims[b.ndim - 1];
    vg_shape ba = a, bb = b, bo;
    ba.ndim -= 2;
    bb.ndim -= 2;
    vgi_broadcast_shape(&ba, &bb, &bo);
    const vg_shape *ins[2] = {&ba, &bb};
    int64_t         nb     = vg_shape_numel(&bo);
    bc_iter         it;
    /* Treat the batch shape as an elementwise broadcast with inner dim folded in. */
    vg_shape bo1 = bo, ba1 = ba, bb1 = bb;
    bo1.dims[bo1.ndim++] = 1;
    ba1.dims[ba1.ndim++] = 1;
    bb1.dims[bb1.ndim++] = 1;
    ins[0]               = &ba1;
    ins[1]               = &bb1;
    bc_init(&it, &bo1, ins, 2);
    const float *ad = IN(0)->data, *bd = IN(1)->data;
    float       *od = OUT(0)->data;
    for (int64_t i = 0; i < nb; i++, bc_next(&it)) {
        const float *A = ad + it.off[0] * M * K, *B = bd + it.off[1] * K * N;
        float       *O = od + i * M * N;
        for (int64_t m = 0; m < M; m++)
            for (int64_t nn = 0; nn < N; nn++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += (double)A[m * K + k] * (double)B[k * N + nn];
                O[m * N + nn] = (float)acc;
            }
    }
    return VG_OK;
}

vg_status vgi_ref_gemm(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_gemm(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    const vgi_gemm_attr *ga = &n->attr.gemm;
    const vg_tensor     *A = IN(0), *B = IN(1);
    if (A->dtype != VG_DTYPE_F32)
        return kerr(n, err, VG_E_UNSUPPORTED, "only float32 gemm");
    int64_t          M = OUT(0)->shape.dims[0], N = OUT(0)->shape.dims[1];
    int64_t          K  = ga->trans_a ? A->shape.dims[0] : A->shape.dims[1];
    const float     *ad = A->data, *bd = B->data;
    float           *od              = OUT(0)->data;
    const vg_tensor *C               = HAS_IN(2) ? IN(2) : NULL;
    int64_t          cs[VG_MAX_DIMS] = {0};
    if (C)
        bcast_strides(&C->shape, &OUT(0)->shape, cs);
    for (int64_t m = 0; m < M; m++)
        for (int64_t nn = 0; nn < N; nn++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++) {
                double av = ga->trans_a ? ad[k * M + m] : ad[m * K + k];
                double bv = ga->trans_b ? bd[nn * K + k] : bd[k * N + nn];
                acc += av * bv;
            }
            acc *= ga->alpha;
            if (C)
                acc += (double)ga->beta * ((const float *)C->data)[m * cs[0] + nn * cs[1]];
            od[m * N + nn] = (float)acc;
        }
    return VG_OK;
}

/* ---- generators and shape ops ---------------------------------------------------------- */

vg_status vgi_ref_range(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_range(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    vg_tensor *o = OUT(0);
    int64_t    N = o->shape.dims[0];
    for (int64_t i = 0; i < N; i++) {
        if (o->dtype == VG_DTYPE_F32) {
            double s = vgi_tensor_get_f64(IN(0), 0), d = vgi_tensor_get_f64(IN(2), 0);
            ((float *)o->data)[i] = (float)(s + (double)i * d);
        } else {
            int64_t s = vgi_tensor_get_i64(IN(0), 0), d = vgi_tensor_get_i64(IN(2), 0);
            if (o->dtype == VG_DTYPE_I64)
                ((int64_t *)o->data)[i] = s + i * d;
            else
                ((int32_t *)o->data)[i] = (int32_t)(s + i * d);
        }
    }
    return VG_OK;
}

vg_status vgi_ref_fill(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_fill(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    vg_tensor    *o    = OUT(0);
    size_t        es   = vg_dtype_size(o->dtype);
    unsigned char v[8] = {0};
    if (HAS_IN(1)) {
        memcpy(v, IN(1)->data, es);
    } else {
        float     f  = n->attr.fill.value;
        vg_tensor fv = vg_tensor_make(VG_DTYPE_F32, 0, NULL, &f);
        cast_elem(o->dtype, v, 0, &fv);
    }
    int64_t N = vg_shape_numel(&o->shape);
    for (int64_t i = 0; i < N; i++)
        memcpy((char *)o->data + (size_t)i * es, v, es);
    return VG_OK;
}

vg_status vgi_ref_shape(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_shape(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vg_tensor *x = IN(0);
    vg_tensor       *o = OUT(0);
    if (n->op == VGI_OP_SIZE) {
        int64_t s = vg_shape_numel(&x->shape);
        if (o->dtype == VG_DTYPE_I64)
            *(int64_t *)o->data = s;
        else
            *(int32_t *)o->data = (int32_t)s;
        return VG_OK;
    }
    int64_t r = x->shape.ndim, s = n->attr.shape.start;
    if (s < 0)
        s += r;
    if (s < 0)
        s = 0;
    for (int64_t i = 0; i < o->shape.dims[0]; i++) {
        int64_t d = x->shape.dims[s + i];
        if (o->dtype == VG_DTYPE_I64)
            ((int64_t *)o->data)[i] = d;
        else
            ((int32_t *)o->data)[i] = (int32_t)d;
    }
    return VG_OK;
}
