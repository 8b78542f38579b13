/*
 * onnx_ops.c - the ONNX op table and the ONNX -> engine IR builder.
 *
 * DESIGN
 * ------
 * One table (ops[] at the end of this file) lists every ONNX op the importer
 * maps: its opset range, input/output counts, an optional check that
 * rejects attribute values the engine cannot honour, and the function that
 * emits IR nodes. vgi_onnx_model_check_ops() runs the checks over the whole
 * graph first, so a model with several unsupported nodes is rejected with
 * one message listing all of them, before any IR is built.
 *
 * The builder walks the topologically sorted nodes once. Values map to IR
 * value ids through vmap[]. A few rewrites happen on the way, decided
 * locally when the producing node is visited (its consumers come later):
 * - BatchNormalization right after a Conv whose output feeds only it, with
 *   constant weights and statistics, is folded into the conv's weights and
 *   bias (w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta).
 * - An activation that is the only consumer of a conv (after folding) becomes
 *   the conv's fused activation (vgi_conv_attr.act); so does SiLU written as
 *   Mul(y, Sigmoid(y)). A stand-alone x * sigmoid(x) becomes one SILU node.
 * Consumed nodes are marked skipped and their outputs alias the conv's.
 * Single-threaded; touches only the graph it builds.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "engine/ir.h"
#include "onnx_import.h"
#include "onnx_proto.h"
#include "vigil/alloc.h"

typedef struct build_ctx {
    const vgi_onnx_model *m;
    vgi_graph            *g;
    vgi_err              *err;
    int                  *vmap;           /* onnx value -> IR value id (-1 unmapped) */
    bool                 *skip;           /* node folded into an earlier one */
    vgi_onnx_tensor      *consts;         /* decoded outputs of Constant nodes, per value */
    int                  *cstart, *clist; /* consumers of each value (CSR) */
    /* Set when the caller gives up the model: initializer buffers move into
     * the graph instead of being copied (the model's pointers still alias
     * them during the build and are cleared at the end). */
    vgi_onnx_model *steal;
} build_ctx;

typedef vg_status (*map_fn)(build_ctx *c, const vgi_onnx_node *n);
/* Returns NULL when the node is fine, else a short reason (in buf). */
typedef const char *(*check_fn)(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                size_t len);

typedef struct op_row {
    vgi_onnx_op_info info;
    check_fn         check; /* optional */
    map_fn           map;
    vgi_op           op;       /* the IR op for the simple mappers */
    unsigned         const_in; /* bit k: input k must be a constant (read at import) */
    unsigned         plan_in;  /* bit k: input k is shape-like: the engine evaluates it when
                                  it builds a plan (constant or computed from shapes) */
} op_row;

static const op_row *row_lookup(const char *op_type);

/* ---- helpers ------------------------------------------------------------------- */

vg_dtype vgi_onnx_dtype_to_vg(int32_t t) {
    switch (t) {
    case VGI_ONNX_FLOAT:
        return VG_DTYPE_F32;
    case VGI_ONNX_FLOAT16:
        return VG_DTYPE_F16;
    case VGI_ONNX_INT32:
        return VG_DTYPE_I32;
    case VGI_ONNX_INT64:
        return VG_DTYPE_I64;
    case VGI_ONNX_UINT8:
        return VG_DTYPE_U8;
    case VGI_ONNX_INT8:
        return VG_DTYPE_I8;
    case VGI_ONNX_UINT16:
        return VG_DTYPE_U16;
    case VGI_ONNX_INT16:
        return VG_DTYPE_I16;
    case VGI_ONNX_BOOL:
        return VG_DTYPE_BOOL;
    case VGI_ONNX_DOUBLE:
        return VG_DTYPE_F64;
    default:
        return VG_DTYPE_UNKNOWN;
    }
}

/* The constant data of onnx value v (initializer or Constant output), or NULL. */
static const vgi_onnx_tensor *const_of(const build_ctx *c, int v) {
    if (v < 0)
        return NULL;
    const vgi_onnx_value *val = &c->m->values[v];
    if (val->init >= 0)
        return &c->m->inits[val->init];
    if (c->consts && c->consts[v].dtype != VGI_ONNX_UNDEFINED)
        return &c->consts[v];
    return NULL;
}

/* Whether onnx value v is a constant known at check time (before building). */
static bool is_const_value(const vgi_onnx_model *m, int v) {
    if (v < 0)
        return false;
    if (m->values[v].init >= 0)
        return true;
    int p = m->values[v].producer;
    return p >= 0 && !strcmp(m->nodes[p].op_type, "Constant");
}

/* The data of constant value v at check time: an initializer (borrowed) or a
 * Constant node's tensor (decoded into *tmp; the caller finis it). NULL if
 * v is not constant or cannot be decoded. */
static const vgi_onnx_tensor *peek_const(const vgi_onnx_model *m, int v, vgi_onnx_tensor *tmp) {
    if (v < 0)
        return NULL;
    if (m->values[v].init >= 0)
        return &m->inits[m->values[v].init];
    int p = m->values[v].producer;
    if (p < 0 || strcmp(m->nodes[p].op_type, "Constant"))
        return NULL;
    return vgi_onnx_attr_tensor(&m->nodes[p], "value", tmp, NULL, 0) == VG_OK ? tmp : NULL;
}

static int64_t tensor_i64(const vgi_onnx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VGI_ONNX_INT64:
        return ((const int64_t *)t->data)[i];
    case VGI_ONNX_INT32:
        return ((const int32_t *)t->data)[i];
    case VGI_ONNX_FLOAT:
        return (int64_t)((const float *)t->data)[i];
    case VGI_ONNX_DOUBLE:
        return (int64_t)((const double *)t->data)[i];
    case VGI_ONNX_UINT8:
    case VGI_ONNX_BOOL:
        return ((const uint8_t *)t->data)[i];
    case VGI_ONNX_INT8:
        return ((const int8_t *)t->data)[i];
    default:
        return 0;
    }
}

static double tensor_f64(const vgi_onnx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VGI_ONNX_FLOAT:
        return ((const float *)t->data)[i];
    case VGI_ONNX_DOUBLE:
        return ((const double *)t->data)[i];
    case VGI_ONNX_FLOAT16:
        return vg_f16_to_f32(((const uint16_t *)t->data)[i]);
    default:
        return (double)tensor_i64(t, i);
    }
}

static int in_id(const build_ctx *c, const vgi_onnx_node *n, int k) {
    if (k >= n->n_in || n->in[k] < 0)
        return -1;
    return c->vmap[n->in[k]];
}

static const char *out_name(const vgi_onnx_node *n) {
    for (int k = 0; k < n->n_out; k++)
        if (n->proto->output[k] && *n->proto->output[k])
            return n->proto->output[k];
    return n->name;
}

static vg_status fail_node(build_ctx *c, const vgi_onnx_node *n, vg_status s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vg_status fail_node(build_ctx *c, const vgi_onnx_node *n, vg_status s, const char *fmt,
                           ...) {
    char    msg[768], nd[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vgi_err_set(c->err, s, "%s: %s", vgi_onnx_node_desc(n, nd, sizeof nd), msg);
}

/* Adds a constant from an onnx tensor (copied); *id gets its IR id. */
static vg_status add_const_tensor(build_ctx *c, const char *name, const vgi_onnx_tensor *t,
                                  int *id) {
    vg_dtype dt = vgi_onnx_dtype_to_vg(t->dtype);
    if (dt == VG_DTYPE_UNKNOWN)
        return vgi_err_set(c->err, VG_E_UNSUPPORTED, "constant '%s': dtype %s is not supported",
                           name, vgi_onnx_dtype_name(t->dtype));
    vg_shape sh = {.ndim = t->rank};
    memcpy(sh.dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    size_t bytes = (size_t)t->numel * vgi_onnx_dtype_size(t->dtype);
    void  *data  = vg_malloc(bytes ? bytes : 1);
    if (!data)
        return VG_E_NOMEM;
    if (bytes)
        memcpy(data, t->data, bytes);
    return vgi_graph_add_const(c->g, name, dt, &sh, data, id);
}

/* Adds a small I64 constant. */
static vg_status add_const_i64(build_ctx *c, const char *name, const int64_t *v, int n, int *id) {
    vg_shape sh   = {.ndim = 1, .dims = {n}};
    void    *data = vg_malloc(n ? (size_t)n * sizeof(int64_t) : 1);
    if (!data)
        return VG_E_NOMEM;
    if (n)
        memcpy(data, v, (size_t)n * sizeof(int64_t));
    return vgi_graph_add_const(c->g, name, VG_DTYPE_I64, &sh, data, id);
}

/* Emits an IR node for onnx node n (named after its first output) and maps
 * its first n_map outputs. */
static vg_status emit(build_ctx *c, const vgi_onnx_node *n, vgi_op op, const int *in, int n_in,
                      int n_out, const vgi_attrs *attr, int *node_id) {
    int       nid;
    vg_status s = vgi_graph_add_node(c->g, op, out_name(n), in, n_in, n_out, attr, &nid);
    if (s != VG_OK)
        return s;
    for (int k = 0; k < n->n_out && k < n_out; k++)
        if (n->out[k] >= 0)
            c->vmap[n->out[k]] = c->g->nodes[nid].out[k];
    if (node_id)
        *node_id = nid;
    return VG_OK;
}

/* Adds a helper IR node named "<first output>/<suffix>"; *out_id = its output 0. */
static vg_status emit_aux(build_ctx *c, const vgi_onnx_node *n, const char *suffix, vgi_op op,
                          const int *in, int n_in, const vgi_attrs *attr, int *out_id) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s", out_name(n), suffix);
    int       nid;
    vg_status s = vgi_graph_add_node(c->g, op, name, in, n_in, 1, attr, &nid);
    if (s == VG_OK)
        *out_id = c->g->nodes[nid].out[0];
    return s;
}

/* The single node reading value v, if it is the only use (not a graph output). */
static int sole_consumer(const build_ctx *c, int v) {
    if (v < 0 || c->m->values[v].n_uses != 1 || c->cstart[v + 1] - c->cstart[v] != 1)
        return -1;
    return c->clist[c->cstart[v]];
}

static void alias_outputs(build_ctx *c, const vgi_onnx_node *n, int ir_value) {
    if (n->out[0] >= 0)
        c->vmap[n->out[0]] = ir_value;
}

/* ---- checks --------------------------------------------------------------------- */

static const char *reason(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *reason(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

static const char *check_auto_pad(const vgi_onnx_node *n, char *buf, size_t len) {
    char ap[32];
    vgi_onnx_attr_string(n, "auto_pad", "NOTSET", ap, sizeof ap);
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") &&
        strcmp(ap, "SAME_LOWER"))
        return reason(buf, len, "auto_pad '%s' is not valid", ap);
    return NULL;
}

/* Spatial ops: the engine has 2-D kernels only. */
static const char *check_2d(const vgi_onnx_model *m, const vgi_onnx_node *n, int wslot, char *buf,
                            size_t len) {
    const int64_t *v;
    int            k = vgi_onnx_attr_ints(n, "kernel_shape", &v);
    if (k >= 0 && k != 2)
        return reason(buf, len, "%d-D kernel (only 2-D is supported)", k);
    if (k < 0 && wslot >= 0 && n->n_in > wslot && n->in[wslot] >= 0) {
        const vgi_onnx_value *w = &m->values[n->in[wslot]];
        if (w->rank < 0)
            return reason(buf, len, "weight shape unknown and no kernel_shape attribute");
        if (w->rank != 4)
            return reason(buf, len, "%d-D kernel (only 2-D is supported)", w->rank - 2);
    }
    if (k < 0 && wslot < 0)
        return reason(buf, len, "kernel_shape attribute missing");
    int np = vgi_onnx_attr_ints(n, "pads", &v);
    if (np >= 0 && np != 4)
        return reason(buf, len, "pads has %d values (2-D needs 4)", np);
    for (int i = 0; i < np; i++)
        if (v[i] < 0)
            return reason(buf, len, "negative pads");
    return check_auto_pad(n, buf, len);
}

/* Spatial kernels are float32 only. */
static const char *check_float_input(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                     size_t len) {
    int32_t dt = n->in[0] >= 0 ? m->values[n->in[0]].dtype : 0;
    if (dt != VGI_ONNX_UNDEFINED && dt != VGI_ONNX_FLOAT)
        return reason(buf, len, "input dtype %s (only FLOAT is supported)",
                      vgi_onnx_dtype_name(dt));
    return NULL;
}

static const char *check_conv(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                              size_t len) {
    const char *r = check_float_input(m, n, buf, len);
    return r ? r : check_2d(m, n, 1, buf, len);
}

static const char *check_conv_transpose(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                        size_t len) {
    const char *r = check_2d(m, n, 1, buf, len);
    if (r)
        return r;
    if (vgi_onnx_attr_has(n, "output_shape"))
        return reason(buf, len, "output_shape attribute is not supported (give pads)");
    char ap[32];
    vgi_onnx_attr_string(n, "auto_pad", "NOTSET", ap, sizeof ap);
    if (!strncmp(ap, "SAME", 4))
        return reason(buf, len, "auto_pad %s is not supported for ConvTranspose", ap);
    return NULL;
}

static const char *check_pool(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                              size_t len) {
    const char *r = check_float_input(m, n, buf, len);
    if (!r)
        r = check_2d(m, n, -1, buf, len);
    if (r)
        return r;
    if (vgi_onnx_attr_int(n, "storage_order", 0) != 0)
        return reason(buf, len, "storage_order 1 is not supported");
    if (n->n_out > 1 && n->out[1] >= 0 && m->values[n->out[1]].n_uses > 0)
        return reason(buf, len, "the Indices output is not supported");
    return NULL;
}

static const char *check_batchnorm(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                   size_t len) {
    (void)m;
    if (vgi_onnx_attr_int(n, "training_mode", 0) != 0 || n->n_out > 1)
        return reason(buf, len, "training mode is not supported");
    return NULL;
}

static const char *check_resize(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                size_t len) {
    char s[64];
    vgi_onnx_attr_string(n, "mode", "nearest", s, sizeof s);
    if (strcmp(s, "nearest") && strcmp(s, "linear"))
        return reason(buf, len, "mode '%s' is not supported (nearest, linear)", s);
    bool nearest = !strcmp(s, "nearest");
    vgi_onnx_attr_string(n, "coordinate_transformation_mode", "half_pixel", s, sizeof s);
    if (strcmp(s, "half_pixel") && strcmp(s, "pytorch_half_pixel") && strcmp(s, "align_corners") &&
        strcmp(s, "asymmetric") && !(nearest && !strcmp(s, "tf_half_pixel_for_nn")))
        return reason(buf, len, "coordinate_transformation_mode '%s' is not supported", s);
    vgi_onnx_attr_string(n, "nearest_mode", "round_prefer_floor", s, sizeof s);
    if (strcmp(s, "round_prefer_floor") && strcmp(s, "round_prefer_ceil") && strcmp(s, "floor") &&
        strcmp(s, "ceil"))
        return reason(buf, len, "nearest_mode '%s' is not valid", s);
    const vgi_onnx_value *x = n->in[0] >= 0 ? &m->values[n->in[0]] : NULL;
    if (x && x->rank >= 0 && x->rank != 4)
        return reason(buf, len, "rank-%d input (only 4-D NCHW is supported)", x->rank);
    bool is_upsample = !strcmp(n->op_type, "Upsample");
    int  scales      = is_upsample ? 1 : 2;
    bool has_scales =
        n->n_in > scales && n->in[scales] >= 0 &&
        !(m->values[n->in[scales]].rank == 1 && m->values[n->in[scales]].dims[0] == 0);
    bool has_sizes = !is_upsample && n->n_in > 3 && n->in[3] >= 0;
    if (!has_scales && !has_sizes)
        return reason(buf, len, "neither scales nor sizes given");
    /* ONNX maps coordinates with 1 / scale (align_corners with in * scale);
     * the engine's resize uses the ratio of the integer sizes. They agree for
     * integer factors and their reciprocals, which is what exporters emit. */
    if (has_scales) {
        vgi_onnx_tensor        tmp = {0};
        const vgi_onnx_tensor *st  = peek_const(m, n->in[scales], &tmp);
        const char            *r   = NULL;
        for (int64_t i = 0; st && st->dtype == VGI_ONNX_FLOAT && i < st->numel && !r; i++) {
            float f = ((const float *)st->data)[i];
            if (!(f > 0) || (f != floorf(f) && 1.0f / f != floorf(1.0f / f)))
                r = reason(buf, len, "scale %g is neither an integer nor the reciprocal of one", f);
        }
        vgi_onnx_tensor_fini(&tmp);
        return r;
    }
    return NULL;
}

static const char *check_squeeze(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                 size_t len) {
    (void)m;
    if (!strcmp(n->op_type, "Unsqueeze") && n->opset < 13 && !vgi_onnx_attr_has(n, "axes"))
        return reason(buf, len, "axes attribute missing");
    if (!strcmp(n->op_type, "Unsqueeze") && n->opset >= 13 && (n->n_in < 2 || n->in[1] < 0))
        return reason(buf, len, "axes input missing");
    return NULL;
}

static const char *check_reduce(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                size_t len) {
    (void)m;
    const int64_t *v;
    if (vgi_onnx_attr_ints(n, "axes", &v) > VG_MAX_DIMS)
        return reason(buf, len, "too many axes");
    return NULL;
}

static const char *check_split(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                               size_t len) {
    (void)m;
    (void)buf;
    (void)len;
    (void)n;
    return NULL;
}

static const char *check_transpose(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                   size_t len) {
    const int64_t *v;
    int            k = vgi_onnx_attr_ints(n, "perm", &v);
    if (k > VG_MAX_DIMS)
        return reason(buf, len, "rank %d exceeds %d", k, VG_MAX_DIMS);
    if (k < 0 && (n->in[0] < 0 || m->values[n->in[0]].rank < 0))
        return reason(buf, len, "no perm and the input rank is unknown");
    return NULL;
}

static const char *check_cast(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                              size_t len) {
    (void)m;
    int64_t to = vgi_onnx_attr_int(n, "to", 0);
    if (vgi_onnx_dtype_to_vg((int32_t)to) == VG_DTYPE_UNKNOWN)
        return reason(buf, len, "cast to %s is not supported", vgi_onnx_dtype_name((int32_t)to));
    return NULL;
}

static const char *check_gemm(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                              size_t len) {
    (void)m;
    (void)n;
    (void)buf;
    (void)len;
    return NULL;
}

/* ---- mappers -------------------------------------------------------------------- */

/* Ops whose ONNX inputs map 1:1 onto the IR node's inputs, no attributes. */
static vg_status map_plain(build_ctx *c, const vgi_onnx_node *n) {
    const op_row *r = row_lookup(n->op_type);
    int           in[8];
    int           n_in = VGI_MIN(n->n_in, 8);
    for (int k = 0; k < n_in; k++)
        in[k] = in_id(c, n, k);
    return emit(c, n, r->op, in, n_in, 1, NULL, NULL);
}

/* Pow allows an exponent of another dtype than the base: cast it to the base's. */
static vg_status map_pow(build_ctx *c, const vgi_onnx_node *n) {
    int     in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    int32_t tb = c->m->values[n->in[0]].dtype, te = c->m->values[n->in[1]].dtype;
    if (tb && te && tb != te && vgi_onnx_dtype_to_vg(tb) != VG_DTYPE_UNKNOWN) {
        vgi_attrs a = {.cast = {.to = vgi_onnx_dtype_to_vg(tb)}};
        vg_status s = emit_aux(c, n, "exponent_cast", VGI_OP_CAST, &in[1], 1, &a, &in[1]);
        if (s != VG_OK)
            return s;
    }
    return emit(c, n, VGI_OP_POW, in, 2, 1, NULL, NULL);
}

/* Variadic ops (Concat): any number of inputs. */
static vg_status map_concat(build_ctx *c, const vgi_onnx_node *n) {
    int *in = vg_malloc((size_t)n->n_in * sizeof(int) + 1);
    if (!in)
        return VG_E_NOMEM;
    for (int k = 0; k < n->n_in; k++)
        in[k] = in_id(c, n, k);
    vgi_attrs a = {.axis = {.axis = vgi_onnx_attr_int(n, "axis", 0)}};
    vg_status s = emit(c, n, VGI_OP_CONCAT, in, n->n_in, 1, &a, NULL);
    vg_free(in);
    return s;
}

static vg_status map_unary_act(build_ctx *c, const vgi_onnx_node *n) {
    const op_row *r  = row_lookup(n->op_type);
    vgi_attrs     a  = {0};
    int           in = in_id(c, n, 0);
    /* x * sigmoid(x) as one node when sigmoid's only consumer is that Mul. */
    if (r->op == VGI_OP_SIGMOID) {
        int mul = sole_consumer(c, n->out[0]);
        if (mul >= 0 && !strcmp(c->m->nodes[mul].op_type, "Mul") && c->m->nodes[mul].n_in == 2) {
            const vgi_onnx_node *u     = &c->m->nodes[mul];
            int                  other = u->in[0] == n->out[0] ? u->in[1] : u->in[0];
            if (other == n->in[0]) {
                c->skip[mul] = true;
                return emit(c, u, VGI_OP_SILU, &in, 1, 1, NULL, NULL);
            }
        }
    }
    switch (r->op) {
    case VGI_OP_LEAKY_RELU:
        a.unary.alpha = vgi_onnx_attr_float(n, "alpha", 0.01f);
        break;
    case VGI_OP_HARD_SIGMOID:
        a.unary.alpha = vgi_onnx_attr_float(n, "alpha", 0.2f);
        a.unary.beta  = vgi_onnx_attr_float(n, "beta", 0.5f);
        break;
    case VGI_OP_ELU:
        a.unary.alpha = vgi_onnx_attr_float(n, "alpha", 1.0f);
        break;
    default:
        break;
    }
    return emit(c, n, r->op, &in, 1, 1, &a, NULL);
}

static vg_status clip_bounds(build_ctx *c, const vgi_onnx_node *n, float *lo, float *hi) {
    *lo = -INFINITY;
    *hi = INFINITY;
    for (int k = 1; k < 3 && k < n->n_in; k++) {
        if (n->in[k] < 0)
            continue;
        const vgi_onnx_tensor *t = const_of(c, n->in[k]);
        if (!t || t->numel != 1)
            return fail_node(c, n, VG_E_UNSUPPORTED, "min/max must be constant scalars");
        *(k == 1 ? lo : hi) = (float)tensor_f64(t, 0);
    }
    return VG_OK;
}

static vg_status map_clip(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a = {0};
    vg_status s = clip_bounds(c, n, &a.unary.alpha, &a.unary.beta);
    if (s != VG_OK)
        return s;
    int in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_CLIP, &in, 1, 1, &a, NULL);
}

/* Activation of a node that can be fused into a conv; false if not fusable. */
static bool act_of(build_ctx *c, const vgi_onnx_node *n, vgi_act *act) {
    memset(act, 0, sizeof *act);
    const char *t = n->op_type;
    if (!strcmp(t, "Relu"))
        act->kind = VGI_ACT_RELU;
    else if (!strcmp(t, "LeakyRelu"))
        act->kind = VGI_ACT_LEAKY, act->a = vgi_onnx_attr_float(n, "alpha", 0.01f);
    else if (!strcmp(t, "Sigmoid"))
        act->kind = VGI_ACT_SIGMOID;
    else if (!strcmp(t, "Tanh"))
        act->kind = VGI_ACT_TANH;
    else if (!strcmp(t, "HardSwish"))
        act->kind = VGI_ACT_HARD_SWISH;
    else if (!strcmp(t, "HardSigmoid"))
        act->kind = VGI_ACT_HARD_SIGMOID, act->a = vgi_onnx_attr_float(n, "alpha", 0.2f),
        act->b = vgi_onnx_attr_float(n, "beta", 0.5f);
    else if (!strcmp(t, "Clip")) {
        act->kind = VGI_ACT_CLIP;
        vgi_err  e;
        vgi_err *keep = c->err;
        c->err        = &e;
        vg_status s   = clip_bounds(c, n, &act->a, &act->b);
        c->err        = keep;
        if (s != VG_OK)
            return false;
    } else
        return false;
    return n->n_in >= 1 && n->n_out >= 1;
}

static void spatial_attrs(const vgi_onnx_node *n, vgi_pad_mode *mode, int64_t pads[4],
                          int64_t strides[2], int64_t dil[2]) {
    char ap[32];
    vgi_onnx_attr_string(n, "auto_pad", "NOTSET", ap, sizeof ap);
    *mode = !strcmp(ap, "VALID")        ? VGI_PAD_VALID
            : !strcmp(ap, "SAME_UPPER") ? VGI_PAD_SAME_UPPER
            : !strcmp(ap, "SAME_LOWER") ? VGI_PAD_SAME_LOWER
                                        : VGI_PAD_EXPLICIT;
    const int64_t *v;
    memset(pads, 0, 4 * sizeof(int64_t));
    if (vgi_onnx_attr_ints(n, "pads", &v) == 4)
        memcpy(pads, v, 4 * sizeof(int64_t)); /* ONNX [t, l, b, r] = IR order */
    strides[0] = strides[1] = 1;
    if (vgi_onnx_attr_ints(n, "strides", &v) == 2)
        strides[0] = v[0], strides[1] = v[1];
    dil[0] = dil[1] = 1;
    if (vgi_onnx_attr_ints(n, "dilations", &v) == 2)
        dil[0] = v[0], dil[1] = v[1];
}

/* Folds BatchNormalization node bn into conv weights w [O, I, kh, kw] and bias b. */
static vg_status fold_bn(build_ctx *c, const vgi_onnx_node *bn, vgi_onnx_tensor *w,
                         vgi_onnx_tensor *b) {
    const vgi_onnx_tensor *sc = const_of(c, bn->in[1]), *be = const_of(c, bn->in[2]),
                          *mu = const_of(c, bn->in[3]), *va = const_of(c, bn->in[4]);
    int64_t O = w->dims[0];
    if (!sc || !be || !mu || !va || sc->numel != O || be->numel != O || mu->numel != O ||
        va->numel != O || w->dtype != VGI_ONNX_FLOAT)
        return fail_node(c, bn, VG_E_SHAPE, "parameters do not match the conv's %lld channels",
                         (long long)O);
    float   eps = vgi_onnx_attr_float(bn, "epsilon", 1e-5f);
    float  *wd = w->data, *bd = b->data;
    int64_t per = w->numel / (O ? O : 1);
    for (int64_t o = 0; o < O; o++) {
        double k = tensor_f64(sc, o) / sqrt(tensor_f64(va, o) + eps);
        for (int64_t i = 0; i < per; i++)
            wd[o * per + i] = (float)(wd[o * per + i] * k);
        bd[o] = (float)((bd[o] - tensor_f64(mu, o)) * k + tensor_f64(be, o));
    }
    return VG_OK;
}

static vg_status map_conv(build_ctx *c, const vgi_onnx_node *n) {
    bool           transpose = !strcmp(n->op_type, "ConvTranspose");
    vgi_attrs      a         = {0};
    vgi_conv_attr *ca        = &a.conv;
    ca->layout               = VGI_LAYOUT_NCHW;
    spatial_attrs(n, &ca->pad_mode, ca->pads, ca->strides, ca->dilations);
    ca->groups = vgi_onnx_attr_int(n, "group", 1);
    const int64_t *v;
    if (vgi_onnx_attr_ints(n, "kernel_shape", &v) == 2) {
        ca->kernel[0] = v[0];
        ca->kernel[1] = v[1];
    } else {
        const vgi_onnx_value *wv = &c->m->values[n->in[1]];
        ca->kernel[0]            = wv->dims[2];
        ca->kernel[1]            = wv->dims[3];
    }
    if (transpose && vgi_onnx_attr_ints(n, "output_padding", &v) == 2) {
        ca->output_padding[0] = v[0];
        ca->output_padding[1] = v[1];
    }
    int in[3] = {in_id(c, n, 0), in_id(c, n, 1), in_id(c, n, 2)};
    int n_in  = n->n_in > 2 && n->in[2] >= 0 ? 3 : 2;

    /* Fold a following BatchNormalization (plain conv, constant weights). */
    int                    tail = n->out[0];
    const vgi_onnx_tensor *w    = const_of(c, n->in[1]);
    const vgi_onnx_tensor *b    = n_in == 3 ? const_of(c, n->in[2]) : NULL;
    int                    bn   = sole_consumer(c, tail);
    if (!transpose && bn >= 0 && !strcmp(c->m->nodes[bn].op_type, "BatchNormalization") &&
        c->m->nodes[bn].in[0] == tail && w && w->rank == 4 && w->dtype == VGI_ONNX_FLOAT &&
        (n_in == 2 || (b && b->dtype == VGI_ONNX_FLOAT && b->numel == w->dims[0])) &&
        c->m->nodes[bn].n_in == 5 && c->m->nodes[bn].n_out == 1 &&
        vgi_onnx_attr_int(&c->m->nodes[bn], "training_mode", 0) == 0) {
        const vgi_onnx_node *bnn = &c->m->nodes[bn];
        vgi_onnx_tensor      w2 = *w, b2 = {0};
        w2.name    = NULL;
        b2.dtype   = VGI_ONNX_FLOAT;
        b2.rank    = 1;
        b2.dims[0] = b2.numel = w->dims[0];
        w2.data               = vg_malloc((size_t)w->numel * 4 + 1);
        b2.data               = vg_calloc((size_t)b2.numel + 1, 4);
        if (!w2.data || !b2.data) {
            vg_free(w2.data);
            vg_free(b2.data);
            return VG_E_NOMEM;
        }
        memcpy(w2.data, w->data, (size_t)w->numel * 4);
        if (b)
            memcpy(b2.data, b->data, (size_t)b->numel * 4);
        vg_status s = fold_bn(c, bnn, &w2, &b2);
        char      nm[512];
        snprintf(nm, sizeof nm, "%s/folded_w", out_name(n));
        if (s == VG_OK)
            s = add_const_tensor(c, nm, &w2, &in[1]);
        snprintf(nm, sizeof nm, "%s/folded_b", out_name(n));
        if (s == VG_OK)
            s = add_const_tensor(c, nm, &b2, &in[2]);
        vg_free(w2.data);
        vg_free(b2.data);
        if (s != VG_OK)
            return s;
        n_in        = 3;
        c->skip[bn] = true;
        tail        = bnn->out[0];
    }

    /* Fuse the activation that alone consumes the conv's result. */
    const vgi_onnx_node *fused[2] = {NULL, NULL};
    int                  act_node = sole_consumer(c, tail);
    if (act_node >= 0 && c->m->nodes[act_node].in[0] == tail &&
        act_of(c, &c->m->nodes[act_node], &ca->act)) {
        fused[0] = &c->m->nodes[act_node];
    } else if (tail >= 0 && c->m->values[tail].n_uses == 2 &&
               c->cstart[tail + 1] - c->cstart[tail] == 2) {
        /* SiLU: Mul(y, Sigmoid(y)) in either operand order */
        int                  a0 = c->clist[c->cstart[tail]], a1 = c->clist[c->cstart[tail] + 1];
        const vgi_onnx_node *sg = &c->m->nodes[a0], *mu = &c->m->nodes[a1];
        if (strcmp(sg->op_type, "Sigmoid")) {
            const vgi_onnx_node *t2 = sg;
            sg                      = mu;
            mu                      = t2;
        }
        if (!strcmp(sg->op_type, "Sigmoid") && !strcmp(mu->op_type, "Mul") && mu->n_in == 2 &&
            sole_consumer(c, sg->out[0]) == (int)(mu - c->m->nodes) &&
            ((mu->in[0] == tail && mu->in[1] == sg->out[0]) ||
             (mu->in[1] == tail && mu->in[0] == sg->out[0]))) {
            ca->act.kind = VGI_ACT_SILU;
            fused[0]     = sg;
            fused[1]     = mu;
        }
    }
    int                  nid;
    const vgi_onnx_node *last = fused[1] ? fused[1] : fused[0];
    vg_status s = emit(c, last ? last : n, transpose ? VGI_OP_CONV_TRANSPOSE : VGI_OP_CONV, in,
                       n_in, 1, &a, &nid);
    if (s != VG_OK)
        return s;
    int y = c->g->nodes[nid].out[0];
    alias_outputs(c, n, y);
    if (tail != n->out[0])
        c->vmap[tail] = y;
    for (int i = 0; i < 2; i++) {
        if (fused[i]) {
            c->skip[fused[i] - c->m->nodes] = true;
            alias_outputs(c, fused[i], y);
        }
    }
    return VG_OK;
}

/* BatchNormalization that could not be folded: y = x * k + (beta - mean * k). */
static vg_status map_batchnorm(build_ctx *c, const vgi_onnx_node *n) {
    const vgi_onnx_tensor *sc = const_of(c, n->in[1]), *be = const_of(c, n->in[2]),
                          *mu = const_of(c, n->in[3]), *va = const_of(c, n->in[4]);
    if (!sc || !be || !mu || !va)
        return fail_node(c, n, VG_E_UNSUPPORTED, "parameters must be constants");
    int64_t C = sc->numel;
    if (be->numel != C || mu->numel != C || va->numel != C)
        return fail_node(c, n, VG_E_SHAPE, "scale, bias, mean, var sizes differ");
    const vgi_onnx_value *x    = &c->m->values[n->in[0]];
    int                   rank = x->rank >= 2 ? x->rank : 4;
    float                *k = vg_malloc((size_t)C * 4 + 1), *o = vg_malloc((size_t)C * 4 + 1);
    if (!k || !o) {
        vg_free(k);
        vg_free(o);
        return VG_E_NOMEM;
    }
    float eps = vgi_onnx_attr_float(n, "epsilon", 1e-5f);
    for (int64_t i = 0; i < C; i++) {
        double kk = tensor_f64(sc, i) / sqrt(tensor_f64(va, i) + eps);
        k[i]      = (float)kk;
        o[i]      = (float)(tensor_f64(be, i) - tensor_f64(mu, i) * kk);
    }
    vg_shape sh = {.ndim = rank - 1};
    sh.dims[0]  = C;
    for (int i = 1; i < rank - 1; i++)
        sh.dims[i] = 1;
    char nm[512];
    int  kid, oid, mid;
    snprintf(nm, sizeof nm, "%s/bn_scale", out_name(n));
    vg_status s = vgi_graph_add_const(c->g, nm, VG_DTYPE_F32, &sh, k, &kid);
    snprintf(nm, sizeof nm, "%s/bn_shift", out_name(n));
    if (s == VG_OK)
        s = vgi_graph_add_const(c->g, nm, VG_DTYPE_F32, &sh, o, &oid);
    else
        vg_free(o);
    if (s != VG_OK)
        return s;
    int in[2] = {in_id(c, n, 0), kid};
    s         = emit_aux(c, n, "bn_mul", VGI_OP_MUL, in, 2, NULL, &mid);
    if (s != VG_OK)
        return s;
    int in2[2] = {mid, oid};
    return emit(c, n, VGI_OP_ADD, in2, 2, 1, NULL, NULL);
}

static vg_status map_pool(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs      a  = {0};
    vgi_pool_attr *pa = &a.pool;
    pa->layout        = VGI_LAYOUT_NCHW;
    spatial_attrs(n, &pa->pad_mode, pa->pads, pa->strides, pa->dilations);
    const int64_t *v;
    if (vgi_onnx_attr_ints(n, "kernel_shape", &v) == 2) {
        pa->kernel[0] = v[0];
        pa->kernel[1] = v[1];
    }
    pa->ceil_mode         = vgi_onnx_attr_int(n, "ceil_mode", 0) != 0;
    pa->count_include_pad = vgi_onnx_attr_int(n, "count_include_pad", 0) != 0;
    bool max              = !strcmp(n->op_type, "MaxPool");
    int  in               = in_id(c, n, 0);
    return emit(c, n, max ? VGI_OP_MAX_POOL : VGI_OP_AVG_POOL, &in, 1, 1, &a, NULL);
}

static vg_status map_global_pool(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a   = {0};
    a.pool.layout = VGI_LAYOUT_NCHW;
    int in        = in_id(c, n, 0);
    return emit(
        c, n, strcmp(n->op_type, "GlobalMaxPool") ? VGI_OP_GLOBAL_AVG_POOL : VGI_OP_GLOBAL_MAX_POOL,
        &in, 1, 1, &a, NULL);
}

static vg_status map_resize(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs        a  = {0};
    vgi_resize_attr *ra = &a.resize;
    bool             up = !strcmp(n->op_type, "Upsample");
    char             s[64];
    ra->layout = VGI_LAYOUT_NCHW;
    vgi_onnx_attr_string(n, "mode", "nearest", s, sizeof s);
    ra->mode = !strcmp(s, "nearest") ? VGI_RESIZE_NEAREST : VGI_RESIZE_BILINEAR;
    vgi_onnx_attr_string(n, "coordinate_transformation_mode", up ? "asymmetric" : "half_pixel", s,
                         sizeof s);
    ra->coord = !strcmp(s, "pytorch_half_pixel")     ? VGI_COORD_PYTORCH_HALF_PIXEL
                : !strcmp(s, "align_corners")        ? VGI_COORD_ALIGN_CORNERS
                : !strcmp(s, "asymmetric")           ? VGI_COORD_ASYMMETRIC
                : !strcmp(s, "tf_half_pixel_for_nn") ? VGI_COORD_TF_HALF_PIXEL_NEAREST
                                                     : VGI_COORD_HALF_PIXEL;
    vgi_onnx_attr_string(n, "nearest_mode", up ? "floor" : "round_prefer_floor", s, sizeof s);
    ra->nearest                 = !strcmp(s, "round_prefer_ceil") ? VGI_NEAREST_ROUND_PREFER_CEIL
                                  : !strcmp(s, "floor")           ? VGI_NEAREST_FLOOR
                                  : !strcmp(s, "ceil")            ? VGI_NEAREST_CEIL
                                                                  : VGI_NEAREST_ROUND_PREFER_FLOOR;
    int                    sidx = up ? 1 : 2;
    const vgi_onnx_tensor *sc   = n->n_in > sidx ? const_of(c, n->in[sidx]) : NULL;
    int                    x    = in_id(c, n, 0);
    if (sc && sc->numel > 0) {
        if (sc->numel != 4 || tensor_f64(sc, 0) != 1.0 || tensor_f64(sc, 1) != 1.0)
            return fail_node(c, n, VG_E_UNSUPPORTED,
                             "scales must be [1, 1, sh, sw] (only H and W can be resized)");
        ra->scales[0] = (float)tensor_f64(sc, 2);
        ra->scales[1] = (float)tensor_f64(sc, 3);
        return emit(c, n, VGI_OP_RESIZE, &x, 1, 1, &a, NULL);
    }
    /* sizes [N, C, H, W]: the engine takes [H, W]. */
    int                    sizes = in_id(c, n, 3);
    const vgi_onnx_tensor *st    = const_of(c, n->in[3]);
    int                    hw;
    vg_status              st2;
    if (st) {
        if (st->numel != 4)
            return fail_node(c, n, VG_E_UNSUPPORTED, "sizes must have 4 values (NCHW)");
        int64_t v[2] = {tensor_i64(st, 2), tensor_i64(st, 3)};
        char    nm[512];
        snprintf(nm, sizeof nm, "%s/sizes_hw", out_name(n));
        st2 = add_const_i64(c, nm, v, 2, &hw);
    } else {
        /* computed sizes: slice [2:4] at plan time */
        int64_t b[1] = {2}, e[1] = {4};
        int     bid = -1, eid = -1;
        char    nm[512];
        snprintf(nm, sizeof nm, "%s/sizes_begin", out_name(n));
        st2 = add_const_i64(c, nm, b, 1, &bid);
        snprintf(nm, sizeof nm, "%s/sizes_end", out_name(n));
        if (st2 == VG_OK)
            st2 = add_const_i64(c, nm, e, 1, &eid);
        int sin[3] = {sizes, bid, eid};
        if (st2 == VG_OK)
            st2 = emit_aux(c, n, "sizes_hw", VGI_OP_SLICE, sin, 3, NULL, &hw);
    }
    if (st2 != VG_OK)
        return st2;
    int in[2] = {x, hw};
    return emit(c, n, VGI_OP_RESIZE, in, 2, 1, &a, NULL);
}

static vg_status map_split(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs      a     = {.split = {.axis = vgi_onnx_attr_int(n, "axis", 0)}};
    int            in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    const int64_t *v;
    int            k = vgi_onnx_attr_ints(n, "split", &v);
    if (n->opset < 13 && k >= 0) {
        char nm[512];
        snprintf(nm, sizeof nm, "%s/split_sizes", out_name(n));
        vg_status s = add_const_i64(c, nm, v, k, &in[1]);
        if (s != VG_OK)
            return s;
    }
    return emit(c, n, VGI_OP_SPLIT, in, in[1] >= 0 ? 2 : 1, n->n_out, &a, NULL);
}

static vg_status map_reshape(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a     = {.reshape = {.allowzero = vgi_onnx_attr_int(n, "allowzero", 0) != 0}};
    int       in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    return emit(c, n, VGI_OP_RESHAPE, in, 2, 1, &a, NULL);
}

static vg_status map_transpose(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs      a = {0};
    const int64_t *v;
    int            k = vgi_onnx_attr_ints(n, "perm", &v);
    if (k >= 0) {
        a.transpose.n = k;
        memcpy(a.transpose.perm, v, (size_t)k * sizeof(int64_t));
    } else {
        int r         = c->m->values[n->in[0]].rank;
        a.transpose.n = r;
        for (int i = 0; i < r; i++)
            a.transpose.perm[i] = r - 1 - i;
    }
    int in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_TRANSPOSE, &in, 1, 1, &a, NULL);
}

static vg_status map_flatten(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a  = {.axis = {.axis = vgi_onnx_attr_int(n, "axis", 1)}};
    int       in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_FLATTEN, &in, 1, 1, &a, NULL);
}

/* Squeeze / Unsqueeze / ReduceMean: axes from the attribute or a constant input. */
static vg_status read_axes(build_ctx *c, const vgi_onnx_node *n, vgi_axes_attr *ax) {
    const int64_t *v;
    int            k = vgi_onnx_attr_ints(n, "axes", &v);
    if (k >= 0) {
        if (k > VG_MAX_DIMS)
            return fail_node(c, n, VG_E_UNSUPPORTED, "too many axes");
        ax->n = k;
        memcpy(ax->axes, v, (size_t)k * sizeof(int64_t));
        return VG_OK;
    }
    if (n->n_in > 1 && n->in[1] >= 0) {
        const vgi_onnx_tensor *t = const_of(c, n->in[1]);
        if (!t)
            return fail_node(c, n, VG_E_UNSUPPORTED, "axes must be a constant");
        if (t->numel > VG_MAX_DIMS)
            return fail_node(c, n, VG_E_UNSUPPORTED, "too many axes");
        ax->n = (int)t->numel;
        for (int i = 0; i < ax->n; i++)
            ax->axes[i] = tensor_i64(t, i);
    }
    return VG_OK;
}

static vg_status map_axes_op(build_ctx *c, const vgi_onnx_node *n) {
    const op_row *r = row_lookup(n->op_type);
    vgi_attrs     a = {0};
    vg_status     s = read_axes(c, n, &a.axes);
    if (s != VG_OK)
        return s;
    a.axes.keepdims             = vgi_onnx_attr_int(n, "keepdims", 1) != 0;
    a.axes.noop_with_empty_axes = vgi_onnx_attr_int(n, "noop_with_empty_axes", 0) != 0;
    int in                      = in_id(c, n, 0);
    return emit(c, n, r->op, &in, 1, 1, &a, NULL);
}

static vg_status map_gemm(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a     = {.gemm = {.trans_a = vgi_onnx_attr_int(n, "transA", 0) != 0,
                                .trans_b = vgi_onnx_attr_int(n, "transB", 0) != 0,
                                .alpha   = vgi_onnx_attr_float(n, "alpha", 1.0f),
                                .beta    = vgi_onnx_attr_float(n, "beta", 1.0f)}};
    int       in[3] = {in_id(c, n, 0), in_id(c, n, 1), in_id(c, n, 2)};
    return emit(c, n, VGI_OP_GEMM, in, in[2] >= 0 ? 3 : 2, 1, &a, NULL);
}

static vg_status map_softmax(build_ctx *c, const vgi_onnx_node *n) {
    bool    log  = !strcmp(n->op_type, "LogSoftmax");
    vgi_op  op   = log ? VGI_OP_LOG_SOFTMAX : VGI_OP_SOFTMAX;
    int     x    = in_id(c, n, 0);
    int64_t axis = vgi_onnx_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
    int     rank = c->m->values[n->in[0]].rank;
    if (n->opset >= 13 || (rank > 0 && (axis == rank - 1 || axis == -1))) {
        vgi_attrs a = {.axis = {.axis = axis}};
        return emit(c, n, op, &x, 1, 1, &a, NULL);
    }
    /* Before opset 13 the input is coerced to 2-D [prod(d[:axis]), prod(d[axis:])]. */
    vgi_attrs fa = {.axis = {.axis = axis}}, sa = {.axis = {.axis = 1}};
    vgi_attrs sh = {.shape = {.dtype = VG_DTYPE_I64, .start = 0, .end = INT64_MAX}};
    int       flat, sm, shp;
    vg_status s = emit_aux(c, n, "flat", VGI_OP_FLATTEN, &x, 1, &fa, &flat);
    if (s == VG_OK)
        s = emit_aux(c, n, "softmax2d", op, &flat, 1, &sa, &sm);
    if (s == VG_OK)
        s = emit_aux(c, n, "shape", VGI_OP_SHAPE, &x, 1, &sh, &shp);
    if (s != VG_OK)
        return s;
    int in[2] = {sm, shp};
    return emit(c, n, VGI_OP_RESHAPE, in, 2, 1, NULL, NULL);
}

static vg_status map_shape(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a  = {.shape = {.dtype = VG_DTYPE_I64,
                              .start = vgi_onnx_attr_int(n, "start", 0),
                              .end   = vgi_onnx_attr_int(n, "end", INT64_MAX)}};
    int       in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_SHAPE, &in, 1, 1, &a, NULL);
}

static vg_status map_gather(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a     = {.gather = {.axis = vgi_onnx_attr_int(n, "axis", 0)}};
    int       in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    return emit(c, n, VGI_OP_GATHER, in, 2, 1, &a, NULL);
}

static vg_status map_cast(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a  = {.cast = {.to = vgi_onnx_dtype_to_vg((int32_t)vgi_onnx_attr_int(n, "to", 0))}};
    int       in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_CAST, &in, 1, 1, &a, NULL);
}

static vg_status map_constant(build_ctx *c, const vgi_onnx_node *n) {
    vgi_onnx_tensor t = {0};
    char            em[512];
    vg_status       s = vgi_onnx_attr_tensor(n, "value", &t, em, sizeof em);
    if (s == VG_E_NOT_FOUND) {
        const int64_t *iv;
        const float   *fv;
        int            k;
        s = VG_OK;
        if (vgi_onnx_attr_has(n, "value_float") || vgi_onnx_attr_has(n, "value_int")) {
            bool f  = vgi_onnx_attr_has(n, "value_float");
            t.dtype = f ? VGI_ONNX_FLOAT : VGI_ONNX_INT64;
            t.rank  = 0;
            t.numel = 1;
            t.data  = vg_malloc(8);
            if (!t.data)
                return VG_E_NOMEM;
            if (f)
                *(float *)t.data = vgi_onnx_attr_float(n, "value_float", 0);
            else
                *(int64_t *)t.data = vgi_onnx_attr_int(n, "value_int", 0);
        } else if ((k = vgi_onnx_attr_ints(n, "value_ints", &iv)) >= 0 ||
                   (k = vgi_onnx_attr_floats(n, "value_floats", &fv)) >= 0) {
            bool f    = !vgi_onnx_attr_has(n, "value_ints");
            t.dtype   = f ? VGI_ONNX_FLOAT : VGI_ONNX_INT64;
            t.rank    = 1;
            t.dims[0] = t.numel = k;
            t.data              = vg_malloc((size_t)k * 8 + 1);
            if (!t.data)
                return VG_E_NOMEM;
            memcpy(t.data, f ? (const void *)fv : (const void *)iv, (size_t)k * (f ? 4 : 8));
        } else {
            return fail_node(c, n, VG_E_UNSUPPORTED,
                             "only value, value_float(s) and value_int(s) are supported");
        }
    } else if (s != VG_OK) {
        return vgi_err_set(c->err, s, "%s", em);
    }
    int id;
    s = add_const_tensor(c, out_name(n), &t, &id);
    if (s == VG_OK && n->out[0] >= 0) {
        c->vmap[n->out[0]]   = id;
        c->consts[n->out[0]] = t; /* keeps the data for const_of() */
        return VG_OK;
    }
    vgi_onnx_tensor_fini(&t);
    return s;
}

static vg_status map_constant_of_shape(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs       a = {.fill = {.value = 0.0f, .dtype = VG_DTYPE_F32}};
    vgi_onnx_tensor t;
    char            em[512];
    vg_status       s = vgi_onnx_attr_tensor(n, "value", &t, em, sizeof em);
    if (s == VG_OK) {
        if (t.numel != 1 || vgi_onnx_dtype_to_vg(t.dtype) == VG_DTYPE_UNKNOWN) {
            vgi_onnx_tensor_fini(&t);
            return fail_node(c, n, VG_E_UNSUPPORTED, "value must be a one-element tensor");
        }
        a.fill.value = (float)tensor_f64(&t, 0);
        a.fill.dtype = vgi_onnx_dtype_to_vg(t.dtype);
        vgi_onnx_tensor_fini(&t);
    } else if (s != VG_E_NOT_FOUND) {
        return vgi_err_set(c->err, s, "%s", em);
    }
    int in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_FILL, &in, 1, 1, &a, NULL);
}

/* Max, Min, Sum: one input is a copy, more are folded pairwise. */
static vg_status map_variadic(build_ctx *c, const vgi_onnx_node *n) {
    const op_row *r   = row_lookup(n->op_type);
    int           acc = in_id(c, n, 0);
    if (n->n_in == 1)
        return emit(c, n, VGI_OP_IDENTITY, &acc, 1, 1, NULL, NULL);
    for (int k = 1; k < n->n_in; k++) {
        int       in[2] = {acc, in_id(c, n, k)};
        vg_status s;
        if (k == n->n_in - 1) {
            s = emit(c, n, r->op, in, 2, 1, NULL, NULL);
        } else {
            char sfx[32];
            snprintf(sfx, sizeof sfx, "partial%d", k);
            s = emit_aux(c, n, sfx, r->op, in, 2, NULL, &acc);
        }
        if (s != VG_OK)
            return s;
    }
    return VG_OK;
}

static vg_status map_mod(build_ctx *c, const vgi_onnx_node *n) {
    int in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    return emit(c, n, vgi_onnx_attr_int(n, "fmod", 0) ? VGI_OP_FMOD : VGI_OP_FLOOR_MOD, in, 2, 1,
                NULL, NULL);
}

static vg_status map_arg(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a  = {.arg = {.axis        = vgi_onnx_attr_int(n, "axis", 0),
                            .keepdims    = vgi_onnx_attr_int(n, "keepdims", 1) != 0,
                            .select_last = vgi_onnx_attr_int(n, "select_last_index", 0) != 0,
                            .out_dtype   = VG_DTYPE_I64}};
    int       in = in_id(c, n, 0);
    return emit(c, n, strcmp(n->op_type, "ArgMax") ? VGI_OP_ARGMIN : VGI_OP_ARGMAX, &in, 1, 1, &a,
                NULL);
}

static vg_status map_topk(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a     = {.topk = {.axis        = vgi_onnx_attr_int(n, "axis", -1),
                                .largest     = vgi_onnx_attr_int(n, "largest", 1) != 0,
                                .sorted      = vgi_onnx_attr_int(n, "sorted", 1) != 0,
                                .index_dtype = VG_DTYPE_I64}};
    int       in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    return emit(c, n, VGI_OP_TOPK, in, 2, 2, &a, NULL);
}

static vg_status map_pad(build_ctx *c, const vgi_onnx_node *n) {
    char      mode[32];
    vgi_attrs a = {.pad = {.onnx_order = true}};
    vgi_onnx_attr_string(n, "mode", "constant", mode, sizeof mode);
    a.pad.mode = !strcmp(mode, "reflect") ? VGI_PADFILL_REFLECT
                 : !strcmp(mode, "edge")  ? VGI_PADFILL_EDGE
                                          : VGI_PADFILL_CONSTANT;
    int in[3]  = {in_id(c, n, 0), in_id(c, n, 1), in_id(c, n, 2)};
    return emit(c, n, VGI_OP_PAD, in, in[2] >= 0 ? 3 : 2, 1, &a, NULL);
}

static vg_status map_gather_nd(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a     = {.gather = {.batch_dims = vgi_onnx_attr_int(n, "batch_dims", 0)}};
    int       in[2] = {in_id(c, n, 0), in_id(c, n, 1)};
    return emit(c, n, VGI_OP_GATHER_ND, in, 2, 1, &a, NULL);
}

static vg_status map_size(build_ctx *c, const vgi_onnx_node *n) {
    vgi_attrs a  = {.shape = {.dtype = VG_DTYPE_I64}};
    int       in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_SIZE, &in, 1, 1, &a, NULL);
}

/* Inference-mode Dropout is the identity. */
static vg_status map_dropout(build_ctx *c, const vgi_onnx_node *n) {
    int in = in_id(c, n, 0);
    return emit(c, n, VGI_OP_IDENTITY, &in, 1, 1, NULL, NULL);
}

static const char *check_dropout(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                 size_t len) {
    if (n->n_out > 1 && n->out[1] >= 0 && m->values[n->out[1]].n_uses > 0)
        return reason(buf, len, "the mask output is not supported");
    if (n->n_in > 2 && n->in[2] >= 0) {
        const vgi_onnx_value  *t = &m->values[n->in[2]];
        const vgi_onnx_tensor *v = t->init >= 0 ? &m->inits[t->init] : NULL;
        if (!v || v->numel != 1 || ((const uint8_t *)v->data)[0] != 0)
            return reason(buf, len, "training mode is not supported");
    }
    return NULL;
}

/* ---- the table ------------------------------------------------------------------- */

#define ROW(name, since, until, mi, xi, mo, xo, chk, fn, irop)                                     \
    { {name, since, until, mi, xi, mo, xo}, chk, fn, irop, 0, 0 }
#define ROWC(name, since, until, mi, xi, mo, xo, chk, fn, irop, cmask, pmask)                      \
    { {name, since, until, mi, xi, mo, xo}, chk, fn, irop, cmask, pmask }

/* opset ranges: the versions whose semantics the mapper implements (ONNX
 * changelog); Upsample exists up to opset 9 only, Resize from 10 (modes as in 11+). */
static const op_row ops[] = {
    ROW("Conv", 1, 17, 2, 3, 1, 1, check_conv, map_conv, VGI_OP_CONV),
    ROW("ConvTranspose", 1, 17, 2, 3, 1, 1, check_conv_transpose, map_conv, VGI_OP_CONV_TRANSPOSE),
    ROWC("BatchNormalization", 9, 17, 5, 5, 1, 3, check_batchnorm, map_batchnorm, VGI_OP_INVALID,
         0x1e, 0),
    ROW("Relu", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_RELU),
    ROW("LeakyRelu", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_LEAKY_RELU),
    ROW("PRelu", 9, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_PRELU),
    ROW("Sigmoid", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_SIGMOID),
    ROW("HardSigmoid", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_HARD_SIGMOID),
    ROW("HardSwish", 14, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_HARD_SWISH),
    ROWC("Clip", 11, 17, 1, 3, 1, 1, NULL, map_clip, VGI_OP_CLIP, 0x6, 0),
    ROW("Tanh", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_TANH),
    ROW("Exp", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_EXP),
    ROW("Add", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_ADD),
    ROW("Sub", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_SUB),
    ROW("Mul", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_MUL),
    ROW("Div", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_DIV),
    ROW("Pow", 7, 17, 2, 2, 1, 1, NULL, map_pow, VGI_OP_POW),
    ROW("MaxPool", 8, 17, 1, 1, 1, 2, check_pool, map_pool, VGI_OP_MAX_POOL),
    ROW("AveragePool", 7, 17, 1, 1, 1, 1, check_pool, map_pool, VGI_OP_AVG_POOL),
    ROW("GlobalAveragePool", 1, 17, 1, 1, 1, 1, NULL, map_global_pool, VGI_OP_GLOBAL_AVG_POOL),
    ROWC("Resize", 11, 17, 1, 4, 1, 1, check_resize, map_resize, VGI_OP_RESIZE, 0x6, 0x8),
    ROWC("Upsample", 9, 9, 2, 2, 1, 1, check_resize, map_resize, VGI_OP_RESIZE, 0x2, 0),
    ROW("Concat", 4, 17, 1, 1 << 20, 1, 1, NULL, map_concat, VGI_OP_CONCAT),
    ROWC("Split", 2, 17, 1, 2, 1, 1 << 20, check_split, map_split, VGI_OP_SPLIT, 0, 0x2),
    ROWC("Slice", 10, 17, 3, 5, 1, 1, NULL, map_plain, VGI_OP_SLICE, 0, 0x1e),
    ROWC("Reshape", 5, 17, 2, 2, 1, 1, NULL, map_reshape, VGI_OP_RESHAPE, 0, 0x2),
    ROW("Transpose", 1, 17, 1, 1, 1, 1, check_transpose, map_transpose, VGI_OP_TRANSPOSE),
    ROW("Flatten", 1, 17, 1, 1, 1, 1, NULL, map_flatten, VGI_OP_FLATTEN),
    ROWC("Squeeze", 1, 17, 1, 2, 1, 1, check_squeeze, map_axes_op, VGI_OP_SQUEEZE, 0x2, 0),
    ROWC("Unsqueeze", 1, 17, 1, 2, 1, 1, check_squeeze, map_axes_op, VGI_OP_UNSQUEEZE, 0x2, 0),
    ROW("Gemm", 7, 17, 2, 3, 1, 1, check_gemm, map_gemm, VGI_OP_GEMM),
    ROW("MatMul", 1, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_MATMUL),
    ROW("Softmax", 1, 17, 1, 1, 1, 1, NULL, map_softmax, VGI_OP_SOFTMAX),
    ROW("ReduceMean", 1, 17, 1, 1, 1, 1, check_reduce, map_axes_op, VGI_OP_REDUCE_MEAN),
    ROW("Shape", 1, 17, 1, 1, 1, 1, NULL, map_shape, VGI_OP_SHAPE),
    ROW("Gather", 1, 17, 2, 2, 1, 1, NULL, map_gather, VGI_OP_GATHER),
    ROW("Constant", 1, 17, 0, 0, 1, 1, NULL, map_constant, VGI_OP_INVALID),
    ROWC("ConstantOfShape", 9, 17, 1, 1, 1, 1, NULL, map_constant_of_shape, VGI_OP_FILL, 0, 0x1),
    ROW("Cast", 6, 17, 1, 1, 1, 1, check_cast, map_cast, VGI_OP_CAST),
    ROW("Identity", 1, 17, 1, 1, 1, 1, NULL, map_plain, VGI_OP_IDENTITY),
    /* beyond the YOLO/HRNet set: ops the engine has anyway */
    ROW("Abs", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_ABS),
    ROW("Neg", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_NEG),
    ROW("Sqrt", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_SQRT),
    ROW("Log", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_LOG),
    ROW("Reciprocal", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_RECIPROCAL),
    ROW("Floor", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_FLOOR),
    ROW("Ceil", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_CEIL),
    ROW("Round", 11, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_ROUND),
    ROW("Erf", 9, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_ERF),
    ROW("Elu", 6, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_ELU),
    ROW("Not", 1, 17, 1, 1, 1, 1, NULL, map_unary_act, VGI_OP_LOGICAL_NOT),
    ROW("And", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_LOGICAL_AND),
    ROW("Or", 7, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_LOGICAL_OR),
    ROW("Equal", 11, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_EQUAL),
    ROW("Less", 9, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_LESS),
    ROW("LessOrEqual", 12, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_LESS_EQUAL),
    ROW("Greater", 9, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_GREATER),
    ROW("GreaterOrEqual", 12, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_GREATER_EQUAL),
    ROW("Where", 9, 17, 3, 3, 1, 1, NULL, map_plain, VGI_OP_SELECT),
    ROW("Max", 8, 17, 1, 1 << 20, 1, 1, NULL, map_variadic, VGI_OP_MAX),
    ROW("Min", 8, 17, 1, 1 << 20, 1, 1, NULL, map_variadic, VGI_OP_MIN),
    ROW("Sum", 8, 17, 1, 1 << 20, 1, 1, NULL, map_variadic, VGI_OP_ADD),
    ROW("Mod", 10, 17, 2, 2, 1, 1, NULL, map_mod, VGI_OP_FLOOR_MOD),
    ROWC("Expand", 8, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_EXPAND, 0, 0x2),
    ROWC("Tile", 6, 17, 2, 2, 1, 1, NULL, map_plain, VGI_OP_TILE, 0, 0x2),
    ROWC("Range", 11, 17, 3, 3, 1, 1, NULL, map_plain, VGI_OP_RANGE, 0, 0x7),
    ROWC("ReduceSum", 13, 17, 1, 2, 1, 1, check_reduce, map_axes_op, VGI_OP_REDUCE_SUM, 0x2, 0),
    ROW("ReduceMax", 1, 17, 1, 1, 1, 1, check_reduce, map_axes_op, VGI_OP_REDUCE_MAX),
    ROW("ReduceMin", 1, 17, 1, 1, 1, 1, check_reduce, map_axes_op, VGI_OP_REDUCE_MIN),
    ROW("ReduceProd", 1, 17, 1, 1, 1, 1, check_reduce, map_axes_op, VGI_OP_REDUCE_PROD),
    ROW("ArgMax", 12, 17, 1, 1, 1, 1, NULL, map_arg, VGI_OP_ARGMAX),
    ROW("ArgMin", 12, 17, 1, 1, 1, 1, NULL, map_arg, VGI_OP_ARGMIN),
    ROWC("TopK", 11, 17, 2, 2, 2, 2, NULL, map_topk, VGI_OP_TOPK, 0, 0x2),
    ROW("LogSoftmax", 1, 17, 1, 1, 1, 1, NULL, map_softmax, VGI_OP_LOG_SOFTMAX),
    ROW("GlobalMaxPool", 1, 17, 1, 1, 1, 1, NULL, map_global_pool, VGI_OP_GLOBAL_MAX_POOL),
    ROWC("Pad", 11, 17, 2, 3, 1, 1, NULL, map_pad, VGI_OP_PAD, 0, 0x6),
    ROW("GatherND", 12, 17, 2, 2, 1, 1, NULL, map_gather_nd, VGI_OP_GATHER_ND),
    ROW("Size", 1, 17, 1, 1, 1, 1, NULL, map_size, VGI_OP_SIZE),
    ROW("Dropout", 7, 17, 1, 3, 1, 2, check_dropout, map_dropout, VGI_OP_IDENTITY),
};

static const op_row *row_lookup(const char *op_type) {
    for (size_t i = 0; i < VGI_ARRAY_SIZE(ops); i++)
        if (!strcmp(ops[i].info.op_type, op_type))
            return &ops[i];
    return NULL;
}

const vgi_onnx_op_info *vgi_onnx_op_lookup(const char *op_type) {
    const op_row *r = row_lookup(op_type);
    return r ? &r->info : NULL;
}

/* Why node n cannot be imported, or NULL. */
static const char *node_problem(const vgi_onnx_model *m, const vgi_onnx_node *n, char *buf,
                                size_t len) {
    if (*n->domain)
        return reason(buf, len, "domain '%s' is not supported", n->domain);
    const op_row *r = row_lookup(n->op_type);
    if (!r)
        return "op not implemented";
    if (n->opset < r->info.since || n->opset > r->info.until)
        return reason(buf, len, "implemented for opsets %d-%d", r->info.since, r->info.until);
    if (n->n_in < r->info.min_in || n->n_in > r->info.max_in)
        return reason(buf, len, "%d inputs (expected %d-%d)", n->n_in, r->info.min_in,
                      r->info.max_in);
    if (n->n_out < r->info.min_out || n->n_out > r->info.max_out)
        return reason(buf, len, "%d outputs (expected %d-%d)", n->n_out, r->info.min_out,
                      r->info.max_out);
    for (int k = 0; k < r->info.min_in; k++)
        if (n->in[k] < 0)
            return reason(buf, len, "required input %d is empty", k);
    for (int k = 0; k < n->n_in && k < 32; k++)
        if ((r->const_in >> k & 1u) && n->in[k] >= 0 && !is_const_value(m, n->in[k]))
            return reason(buf, len, "input %d ('%s') must be a constant", k,
                          m->values[n->in[k]].name);
    return r->check ? r->check(m, n, buf, len) : NULL;
}

vg_status vgi_onnx_model_check_ops(const vgi_onnx_model *m, char *err, size_t errlen) {
    int    bad = 0;
    size_t pos = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const vgi_onnx_node *n = &m->nodes[i];
        char                 buf[256];
        const char          *why = node_problem(m, n, buf, sizeof buf);
        if (!why)
            continue;
        if (bad == 0 && err && errlen)
            pos = (size_t)snprintf(err, errlen, "unsupported nodes:");
        bad++;
        if (err && pos < errlen) {
            int w = snprintf(err + pos, errlen - pos, "\n  '%s' (%s, opset %d): %s",
                             *n->name ? n->name : out_name(n), n->op_type, n->opset, why);
            pos += w > 0 ? (size_t)w : 0;
        }
    }
    if (bad == 0)
        return VG_OK;
    if (err && errlen) {
        if (pos >= errlen && errlen > 48) {
            char tail[48];
            snprintf(tail, sizeof tail, "\n  ... (%d nodes in all)", bad);
            memcpy(err + errlen - 1 - strlen(tail), tail, strlen(tail) + 1);
        } else if (pos < errlen)
            snprintf(err + pos, errlen - pos,
                     "\n%d node(s) cannot be imported; re-export without them or file an "
                     "issue with the op list",
                     bad);
    }
    return VG_E_UNSUPPORTED;
}

/* ---- building -------------------------------------------------------------------- */

static vg_status build_graph(build_ctx *c) {
    const vgi_onnx_model *m = c->m;
    vg_status             s = VG_OK;
    for (int v = 0; v < m->n_values && s == VG_OK; v++) {
        const vgi_onnx_value *val = &m->values[v];
        if (val->init < 0 || val->n_uses == 0)
            continue;
        const vgi_onnx_tensor *t  = &m->inits[val->init];
        vg_dtype               dt = vgi_onnx_dtype_to_vg(t->dtype);
        if (c->steal && t->data && dt != VG_DTYPE_UNKNOWN) {
            vg_shape sh = {.ndim = t->rank};
            memcpy(sh.dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
            s = vgi_graph_add_const(c->g, val->name, dt, &sh, t->data, &c->vmap[v]);
            continue;
        }
        s = add_const_tensor(c, val->name, t, &c->vmap[v]);
    }
    for (int i = 0; i < m->n_inputs && s == VG_OK; i++) {
        const vgi_onnx_value *val = &m->values[m->inputs[i]];
        vg_dtype              dt  = vgi_onnx_dtype_to_vg(val->dtype);
        if (dt == VG_DTYPE_UNKNOWN)
            return vgi_err_set(c->err, VG_E_UNSUPPORTED,
                               "graph input '%s' has dtype %s, which is not supported", val->name,
                               vgi_onnx_dtype_name(val->dtype));
        vg_shape sh = {.ndim = val->rank};
        for (int d = 0; d < val->rank; d++)
            sh.dims[d] = val->dims[d];
        s = vgi_graph_add_input(c->g, val->name, val->name, dt, &sh, &c->vmap[m->inputs[i]]);
    }
    for (int i = 0; i < m->n_nodes && s == VG_OK; i++) {
        if (c->skip[i])
            continue;
        const vgi_onnx_node *n = &m->nodes[i];
        const op_row        *r = row_lookup(n->op_type);
        VGI_ASSERT(r); /* vgi_onnx_model_check_ops ran first */
        s = r->map(c, n);
    }
    for (int i = 0; i < m->n_outputs && s == VG_OK; i++) {
        const vgi_onnx_value *val = &m->values[m->outputs[i]];
        int                   id  = c->vmap[m->outputs[i]];
        if (id < 0)
            return vgi_err_set(c->err, VG_E_INTERNAL, "graph output '%s' was not built", val->name);
        vg_shape sh = {.ndim = val->rank};
        for (int d = 0; d < val->rank; d++)
            sh.dims[d] = val->dims[d];
        s = vgi_graph_add_output(c->g, val->name, id, vgi_onnx_dtype_to_vg(val->dtype), &sh);
    }
    return s;
}

static vg_status build_graph_impl(const vgi_onnx_model *m, vgi_onnx_model *steal, vgi_graph **out,
                                  vgi_err *err) {
    *out            = NULL;
    build_ctx c     = {.m = m, .err = err, .steal = steal};
    vg_status s     = vgi_graph_create(&c.g);
    size_t    nv    = (size_t)m->n_values + 1;
    size_t    total = 0;
    for (int i = 0; i < m->n_nodes; i++)
        total += (size_t)m->nodes[i].n_in;
    if (s == VG_OK) {
        c.vmap   = vg_malloc(nv * sizeof *c.vmap);
        c.skip   = vg_calloc((size_t)m->n_nodes + 1, sizeof *c.skip);
        c.consts = vg_calloc(nv, sizeof *c.consts);
        c.cstart = vg_calloc(nv + 1, sizeof *c.cstart);
        c.clist  = vg_calloc(total + 1, sizeof *c.clist);
        if (!c.vmap || !c.skip || !c.consts || !c.cstart || !c.clist)
            s = VG_E_NOMEM;
    }
    if (s == VG_OK) {
        memset(c.vmap, 0xff, nv * sizeof *c.vmap);
        int *fill = vg_calloc(nv, sizeof *fill);
        if (!fill) {
            s = VG_E_NOMEM;
        } else {
            for (int i = 0; i < m->n_nodes; i++)
                for (int k = 0; k < m->nodes[i].n_in; k++)
                    if (m->nodes[i].in[k] >= 0)
                        c.cstart[m->nodes[i].in[k] + 1]++;
            for (int v = 0; v < m->n_values; v++)
                c.cstart[v + 1] += c.cstart[v];
            for (int i = 0; i < m->n_nodes; i++) {
                for (int k = 0; k < m->nodes[i].n_in; k++) {
                    int v = m->nodes[i].in[k];
                    /* a node reading one value twice counts once per read */
                    if (v >= 0)
                        c.clist[c.cstart[v] + fill[v]++] = i;
                }
            }
            vg_free(fill);
            s = build_graph(&c);
        }
    }
    if (c.consts)
        for (int v = 0; v < m->n_values; v++)
            vgi_onnx_tensor_fini(&c.consts[v]);
    vg_free(c.consts);
    vg_free(c.vmap);
    vg_free(c.skip);
    vg_free(c.cstart);
    vg_free(c.clist);
    if (steal) {
        /* the graph owns (or, after a failed add, has freed) these buffers */
        for (int v = 0; v < m->n_values; v++) {
            const vgi_onnx_value *val = &m->values[v];
            if (val->init >= 0 && val->n_uses > 0 &&
                vgi_onnx_dtype_to_vg(steal->inits[val->init].dtype) != VG_DTYPE_UNKNOWN)
                steal->inits[val->init].data = NULL;
        }
    }
    if (s == VG_E_NOMEM && err && !err->msg[0])
        vgi_err_set(err, s, "out of memory while building the graph");
    if (s != VG_OK) {
        vgi_graph_destroy(c.g);
        return s;
    }
    *out = c.g;
    return VG_OK;
}

vg_status vgi_onnx_build_graph(const vgi_onnx_model *m, vgi_graph **out, vgi_err *err) {
    return build_graph_impl(m, NULL, out, err);
}

vg_status vgi_onnx_import(const char *path, vgi_graph **out, vgi_err *err) {
    return vgi_onnx_import_ex(path, NULL, out, err);
}

vg_status vgi_onnx_import_ex(const char *path, const vgi_onnx_load_params *p, vgi_graph **out,
                             vgi_err *err) {
    *out = NULL;
    if (err)
        err->msg[0] = '\0';
    vgi_onnx_model *m;
    char            em[sizeof err->msg];
    vg_status       s = vgi_onnx_model_load_file(path, p, &m, em, sizeof em);
    if (s != VG_OK)
        return vgi_err_set(err, s, "%s", em);
    s = vgi_onnx_model_check_ops(m, em, sizeof em);
    if (s != VG_OK) {
        vgi_onnx_model_destroy(m);
        return vgi_err_set(err, s, "%s: %s", path, em);
    }
    int64_t wb = 0;
    for (int i = 0; i < m->n_inits; i++)
        wb += m->inits[i].numel * (int64_t)vgi_onnx_dtype_size(m->inits[i].dtype);
    s = build_graph_impl(m, m, out, err); /* moves the weights into the graph */
    if (s == VG_OK) {
        (*out)->format = "onnx";
        if (!(*out)->source && !((*out)->source = vg_strdup(path))) {
            vgi_graph_destroy(*out);
            *out = NULL;
            vgi_onnx_model_destroy(m);
            return vgi_err_set(err, VG_E_NOMEM, "%s: out of memory", path);
        }
        (*out)->file_weight_bytes = wb;
    } else if (err) {
        char tmp[sizeof err->msg];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        vgi_err_set(err, s, "%s: %s", path, tmp);
    }
    vgi_onnx_model_destroy(m);
    return s;
}

bool vgi_onnx_value_needs_const(const vgi_onnx_model *m, int v) {
    for (int i = 0; i < m->n_nodes; i++) {
        const vgi_onnx_node *n = &m->nodes[i];
        const op_row        *r = row_lookup(n->op_type);
        if (!r || !(r->const_in | r->plan_in))
            continue;
        for (int k = 0; k < n->n_in && k < 32; k++)
            if (n->in[k] == v && ((r->const_in | r->plan_in) >> k & 1u))
                return true;
    }
    return false;
}
