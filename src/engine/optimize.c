/*
 * optimize.c - load-time graph optimisation and the shared shape/constant
 * propagation used by the optimiser and by every plan.
 *
 * DESIGN
 * vgi_propagate walks the nodes in order, infers each node's output dtypes
 * and shapes, and evaluates a node with the ref kernels when all of its
 * inputs are known (or, for shape-only ops, their shapes are): that is
 * constant folding at load and shape-subgraph evaluation at plan time, one
 * mechanism. vgi_optimize then turns folded values into graph constants,
 * bypasses Identity nodes, folds bias Add and a following activation into
 * the producing convolution, and prunes what no output needs. It runs once
 * per model, on the loading thread, before the model is shared.
 */
#include <math.h>
#include <string.h>

#include "backends/ref/ref_impl.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "engine/ir.h"
#include "vigil/alloc.h"

static bool known_shape(const vg_tensor *t) {
    if (t->dtype == VG_DTYPE_UNKNOWN || t->shape.ndim < 0)
        return false;
    for (int i = 0; i < t->shape.ndim; i++)
        if (t->shape.dims[i] < 0)
            return false;
    return true;
}

void vgi_vals_init(const vgi_graph *g, vg_tensor *vals, const vg_shape *input_shapes) {
    for (int v = 0; v < g->n_values; v++) {
        const vgi_value *val = &g->values[v];
        memset(&vals[v], 0, sizeof(vals[v]));
        vals[v].dtype      = val->dtype;
        vals[v].shape.ndim = -1;
        if (val->flags & VGI_VALUE_CONST) {
            vals[v].shape = val->shape;
            vals[v].data  = val->data;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        vg_tensor *t = &vals[g->inputs[i].value];
        t->dtype     = g->inputs[i].dtype;
        t->shape     = input_shapes ? input_shapes[i] : g->inputs[i].shape;
        t->data      = NULL;
    }
}

/* Largest output that may be computed while folding (elements). */
#define FOLD_MAX_ELEMS (64LL << 20)

vg_status vgi_propagate(const vgi_graph *g, vg_tensor *vals, void **owned, bool partial,
                        vgi_err *err) {
    for (int i = 0; i < g->n_nodes; i++) {
        const vgi_node    *n     = &g->nodes[i];
        const vgi_op_info *info  = vgi_op_get(n->op);
        bool               ready = true, all_data = true;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0)
                continue;
            const vg_tensor *t = &vals[n->in[j]];
            if (!known_shape(t))
                ready = false;
            if (!t->data && !((info->flags & VGI_OPF_SHAPE_ONLY) && j == 0))
                all_data = false;
        }
        if (!ready) {
            if (partial)
                continue;
            return vgi_err_set(err, VG_E_INTERNAL, "node '%s': input shapes unknown", n->name);
        }
        vgi_infer_ctx c  = {g, n, vals};
        vg_status     st = vgi_op_infer(&c, err);
        if (st)
            return st;
        if (!all_data || (info->flags & VGI_OPF_NO_FOLD) || !vgi_ref_has_kernel(n->op))
            continue;
        bool small = true;
        for (int k = 0; k < n->n_out; k++)
            if (vg_shape_numel(&vals[n->out[k]].shape) > FOLD_MAX_ELEMS)
                small = false;
        if (!small)
            continue;
        for (int k = 0; k < n->n_out; k++) {
            int    v  = n->out[k];
            size_t nb = vg_tensor_nbytes(&vals[v]);
            owned[v]  = vg_malloc(nb ? nb : 1);
            if (!owned[v])
                return VG_E_NOMEM;
            vals[v].data = owned[v];
        }
        st = vgi_ref_run_node(g, n, vals, err);
        if (st)
            return st;
    }
    return VG_OK;
}

/* Makes sure node n has room for `need` inputs. */
static vg_status node_grow_inputs(vgi_node *n, int need) {
    if (n->n_in >= need)
        return VG_OK;
    int *p = vg_realloc(n->in, (size_t)need * sizeof(int));
    if (!p)
        return VG_E_NOMEM;
    for (int i = n->n_in; i < need; i++)
        p[i] = -1;
    n->in   = p;
    n->n_in = need;
    return VG_OK;
}

static void kill_node(vgi_node *n) {
    n->n_in  = 0;
    n->n_out = 0;
}

static bool single_use(const vgi_graph *g, int v) {
    return !(g->values[v].flags & VGI_VALUE_OUTPUT) && vgi_graph_use_count(g, v) == 1;
}

/* Is const c a per-channel vector for a conv of layout l with cout channels? */
static bool channel_vector(const vgi_value *c, vgi_layout l, int64_t cout) {
    if (!(c->flags & VGI_VALUE_CONST) || c->dtype != VG_DTYPE_F32 ||
        vg_shape_numel(&c->shape) != cout)
        return false;
    const vg_shape *s = &c->shape;
    if (l == VGI_LAYOUT_NHWC) {
        /* [C], [1,C], [1,1,C], [1,1,1,C] */
        for (int i = 0; i < s->ndim - 1; i++)
            if (s->dims[i] != 1)
                return false;
        return s->ndim <= 4;
    }
    /* NCHW: [C,1,1] or [1,C,1,1] */
    if (s->ndim == 3)
        return s->dims[1] == 1 && s->dims[2] == 1;
    if (s->ndim == 4)
        return s->dims[0] == 1 && s->dims[2] == 1 && s->dims[3] == 1;
    return cout == 1;
}

static vg_status fuse_conv(vgi_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_node *n = &g->nodes[i];
        if (n->n_out != 1 || n->n_in < 1 || n->in[0] < 0)
            continue;
        int cv = -1, other = -1;
        for (int j = 0; j < n->n_in && j < 2; j++) {
            int p = n->in[j] >= 0 ? g->values[n->in[j]].producer : -1;
            if (p >= 0 && g->nodes[p].op == VGI_OP_CONV && g->nodes[p].n_out == 1 &&
                single_use(g, n->in[j])) {
                cv    = p;
                other = n->n_in == 2 ? n->in[1 - j] : -1;
                break;
            }
        }
        if (cv < 0)
            continue;
        vgi_node      *c    = &g->nodes[cv];
        vgi_conv_attr *a    = &c->attr.conv;
        int64_t        cout = g->values[c->in[1]].shape.dims[0];
        if (a->act.kind != VGI_ACT_NONE)
            continue;
        if (n->op == VGI_OP_ADD && other >= 0 &&
            channel_vector(&g->values[other], a->layout, cout)) {
            /* New bias = old bias + vector (float32 addition, as running both would). */
            float *b = vg_malloc((size_t)cout * sizeof(float));
            if (!b)
                return VG_E_NOMEM;
            const float *add = g->values[other].data;
            const float *old = c->n_in > 2 && c->in[2] >= 0 ? g->values[c->in[2]].data : NULL;
            for (int64_t k = 0; k < cout; k++)
                b[k] = old ? old[k] + add[k] : add[k];
            /* Ordering: with an existing bias, (conv + b0) + b1 != conv + (b0 + b1)
             * bit for bit; only fuse when there is no bias yet. */
            if (old) {
                vg_free(b);
                continue;
            }
            char     nm[1200];
            vg_shape s = {1, {cout}};
            int      bid;
            snprintf(nm, sizeof(nm), "%s/fused_bias", c->name);
            vg_status st = vgi_graph_add_const(g, nm, VG_DTYPE_F32, &s, b, &bid);
            if (st)
                return st;
            c  = &g->nodes[cv]; /* values array may have moved; nodes did not */
            st = node_grow_inputs(c, 3);
            if (st)
                return st;
            c->in[2] = bid;
        } else {
            vgi_act act = {VGI_ACT_NONE, 0, 0};
            switch (n->op) {
            case VGI_OP_RELU:
                act.kind = VGI_ACT_RELU;
                break;
            case VGI_OP_RELU6:
                act.kind = VGI_ACT_RELU6;
                break;
            case VGI_OP_CLIP:
                act = (vgi_act){VGI_ACT_CLIP, n->attr.unary.alpha, n->attr.unary.beta};
                break;
            case VGI_OP_LEAKY_RELU:
                act = (vgi_act){VGI_ACT_LEAKY, n->attr.unary.alpha, 0};
                break;
            case VGI_OP_SIGMOID:
                act.kind = VGI_ACT_SIGMOID;
                break;
            case VGI_OP_TANH:
                act.kind = VGI_ACT_TANH;
                break;
            case VGI_OP_HARD_SWISH:
                act.kind = VGI_ACT_HARD_SWISH;
                break;
            case VGI_OP_HARD_SIGMOID:
                act = (vgi_act){VGI_ACT_HARD_SIGMOID, n->attr.unary.alpha, n->attr.unary.beta};
                break;
            case VGI_OP_SILU:
                act.kind = VGI_ACT_SILU;
                break;
            case VGI_OP_ELU:
                act = (vgi_act){VGI_ACT_ELU, n->attr.unary.alpha, 0};
                break;
            default:
                break;
            }
            if (act.kind == VGI_ACT_NONE)
                continue;
            a->act = act;
        }
        vgi_graph_replace_uses(g, n->out[0], c->out[0]);
        kill_node(&g->nodes[i]);
    }
    return VG_OK;
}

/* ---- layout clean-up: transposes, pads ---------------------------------------- */

/* Producer node of value v if it is `op`, else -1. */
static int producer_is(const vgi_graph *g, int v, vgi_op op) {
    if (v < 0)
        return -1;
    int p = g->values[v].producer;
    return p >= 0 && g->nodes[p].op == op && g->nodes[p].n_out > 0 ? p : -1;
}

static vg_status add_node_named(vgi_graph *g, vgi_op op, const char *base, const char *suffix,
                                const int *in, int n_in, const vgi_attrs *a, int *out_value) {
    static const char *fmt = "%s/%s";
    char               nm[1200];
    snprintf(nm, sizeof(nm), fmt, base, suffix);
    int       id;
    vg_status st = vgi_graph_add_node(g, op, nm, in, n_in, 1, a, &id);
    if (!st)
        *out_value = g->nodes[id].out[0];
    return st;
}

static bool perm_identity(const vgi_transpose_attr *t) {
    for (int i = 0; i < t->n; i++)
        if (t->perm[i] != i)
            return false;
    return true;
}

/* Constant [rank][2] pads of a PAD node (TF order), or false. */
static bool pad_consts(const vgi_graph *g, const vgi_node *n, int64_t pads[VG_MAX_DIMS][2],
                       int *rank) {
    const vgi_value *p = &g->values[n->in[1]];
    if (!(p->flags & VGI_VALUE_CONST) || n->attr.pad.mode != VGI_PADFILL_CONSTANT)
        return false;
    int64_t cnt = vg_shape_numel(&p->shape);
    if (cnt <= 0 || cnt % 2 || cnt / 2 > VG_MAX_DIMS)
        return false;
    vg_tensor t = {p->dtype, p->shape, p->data};
    *rank       = (int)(cnt / 2);
    for (int d = 0; d < *rank; d++) {
        pads[d][0] = vgi_tensor_get_i64(&t, n->attr.pad.onnx_order ? d : 2 * d);
        pads[d][1] = vgi_tensor_get_i64(&t, n->attr.pad.onnx_order ? *rank + d : 2 * d + 1);
    }
    return true;
}

/* Fill value of a constant PAD node, or NAN when it is not a known scalar. */
static float pad_value(const vgi_graph *g, const vgi_node *n) {
    if (n->n_in < 3 || n->in[2] < 0)
        return n->attr.pad.value;
    const vgi_value *v = &g->values[n->in[2]];
    if (!(v->flags & VGI_VALUE_CONST) || vg_shape_numel(&v->shape) != 1)
        return NAN;
    vg_tensor t = {v->dtype, v->shape, v->data};
    return (float)vgi_tensor_get_f64(&t, 0);
}

/*
 * One sweep of local rewrites that move transposes out of the way so that
 * pairs cancel (TF graphs converted from ONNX wrap every NHWC op in
 * NCHW<->NHWC transposes):
 *   U(T(x))        -> T(U(x))          U elementwise unary, T single use
 *   B(T(a), T(b))  -> T(B(a, b))       B elementwise binary, same perm, single uses
 *   T(Pad(x))      -> Pad'(T(x))       Pad constant, single use (pads permuted)
 *   Tq(Tp(x))      -> T(p o q)(x)      and dropped when the result is the identity
 * Returns the number of rewrites.
 */
static vg_status sink_transposes(vgi_graph *g, int *changed) {
    *changed = 0;
    int n0   = g->n_nodes;
    for (int i = 0; i < n0; i++) {
        vgi_node *n = &g->nodes[i];
        if (n->n_out != 1 || n->n_in < 1)
            continue;
        const vgi_op_info *info = vgi_op_get(n->op);
        vgi_attrs          a;
        int                nv;
        vg_status          st;
        if (n->op == VGI_OP_TRANSPOSE) {
            int tp = producer_is(g, n->in[0], VGI_OP_TRANSPOSE);
            if (tp >= 0) {
                memset(&a, 0, sizeof(a));
                const vgi_transpose_attr *p = &g->nodes[tp].attr.transpose, *q = &n->attr.transpose;
                if (p->n != q->n)
                    continue;
                a.transpose.n = q->n;
                for (int j = 0; j < q->n; j++)
                    a.transpose.perm[j] = p->perm[q->perm[j]];
                int x = g->nodes[tp].in[0], out = n->out[0];
                if (perm_identity(&a.transpose)) {
                    if (g->values[out].flags & VGI_VALUE_OUTPUT)
                        continue; /* keep graph outputs produced by a node */
                    vgi_graph_replace_uses(g, out, x);
                } else {
                    st = add_node_named(g, VGI_OP_TRANSPOSE, g->nodes[i].name, "composed", &x, 1,
                                        &a, &nv);
                    if (st)
                        return st;
                    vgi_graph_replace_uses(g, g->nodes[i].out[0], nv);
                }
                kill_node(&g->nodes[i]);
                (*changed)++;
                continue;
            }
            int pp = producer_is(g, n->in[0], VGI_OP_PAD);
            if (pp >= 0 && single_use(g, n->in[0])) {
                int64_t pads[VG_MAX_DIMS][2];
                int     rank;
                if (!pad_consts(g, &g->nodes[pp], pads, &rank) || rank != n->attr.transpose.n)
                    continue;
                int32_t *np = vg_malloc((size_t)rank * 2 * sizeof(int32_t));
                if (!np)
                    return VG_E_NOMEM;
                for (int j = 0; j < rank; j++) {
                    np[2 * j]     = (int32_t)pads[n->attr.transpose.perm[j]][0];
                    np[2 * j + 1] = (int32_t)pads[n->attr.transpose.perm[j]][1];
                }
                char     nm[1200];
                vg_shape ps = {1, {2 * rank}};
                int      pid;
                snprintf(nm, sizeof(nm), "%s/pads_permuted", g->nodes[pp].name);
                if ((st = vgi_graph_add_const(g, nm, VG_DTYPE_I32, &ps, np, &pid)))
                    return st;
                int x = g->nodes[pp].in[0], tv;
                a     = g->nodes[i].attr;
                if ((st = add_node_named(g, VGI_OP_TRANSPOSE, g->nodes[i].name, "before_pad", &x, 1,
                                         &a, &tv)))
                    return st;
                a                = g->nodes[pp].attr;
                a.pad.onnx_order = false;
                int pin[3]       = {tv, pid, g->nodes[pp].n_in > 2 ? g->nodes[pp].in[2] : -1};
                if ((st = add_node_named(g, VGI_OP_PAD, g->nodes[pp].name, "after_transpose", pin,
                                         pin[2] >= 0 ? 3 : 2, &a, &nv)))
                    return st;
                vgi_graph_replace_uses(g, g->nodes[i].out[0], nv);
                kill_node(&g->nodes[i]);
                kill_node(&g->nodes[pp]);
                (*changed)++;
            }
            continue;
        }
        if (n->op == VGI_OP_CONCAT && !(g->values[n->out[0]].flags & VGI_VALUE_OUTPUT)) {
            /* Concat(Tp(a1), ..., Tp(an)) -> Tp(Concat on axis p[axis](a1..an)) */
            int t0 = producer_is(g, n->in[0], VGI_OP_TRANSPOSE);
            if (t0 < 0)
                continue;
            const vgi_transpose_attr *tp = &g->nodes[t0].attr.transpose;
            bool                      ok = true;
            for (int j = 0; j < n->n_in && ok; j++) {
                int tj = producer_is(g, n->in[j], VGI_OP_TRANSPOSE);
                ok     = tj >= 0 && single_use(g, n->in[j]) &&
                     !memcmp(&g->nodes[tj].attr.transpose, tp, sizeof(*tp));
                for (int k = 0; k < j && ok; k++)
                    ok = n->in[k] != n->in[j];
            }
            int ax = ok ? vgi_axis_norm(n->attr.axis.axis, tp->n) : -1;
            if (ax < 0)
                continue;
            int *ins = vg_malloc((size_t)n->n_in * sizeof(int));
            if (!ins)
                return VG_E_NOMEM;
            for (int j = 0; j < n->n_in; j++)
                ins[j] = g->nodes[g->values[n->in[j]].producer].in[0];
            vgi_attrs ta = g->nodes[t0].attr;
            memset(&a, 0, sizeof(a));
            a.axis.axis = tp->perm[ax];
            st = add_node_named(g, VGI_OP_CONCAT, g->nodes[i].name, "before_transpose", ins,
                                g->nodes[i].n_in, &a, &nv);
            vg_free(ins);
            if (st)
                return st;
            int tv;
            if ((st = add_node_named(g, VGI_OP_TRANSPOSE, g->nodes[i].name, "sunk", &nv, 1, &ta,
                                     &tv)))
                return st;
            for (int j = 0; j < g->nodes[i].n_in; j++)
                kill_node(&g->nodes[g->values[g->nodes[i].in[j]].producer]);
            vgi_graph_replace_uses(g, g->nodes[i].out[0], tv);
            kill_node(&g->nodes[i]);
            (*changed)++;
            continue;
        }
        if (!(info->flags & VGI_OPF_ELEMENTWISE) || n->n_in > 2)
            continue;
        int t0 = producer_is(g, n->in[0], VGI_OP_TRANSPOSE);
        if (t0 < 0 || !single_use(g, n->in[0]) || (g->values[n->out[0]].flags & VGI_VALUE_OUTPUT))
            continue;
        int ins[2] = {g->nodes[t0].in[0], -1};
        if (n->n_in == 2) {
            int t1 = producer_is(g, n->in[1], VGI_OP_TRANSPOSE);
            if (t1 < 0 || t1 == t0 || !single_use(g, n->in[1]) ||
                memcmp(&g->nodes[t1].attr.transpose, &g->nodes[t0].attr.transpose,
                       sizeof(vgi_transpose_attr)))
                continue;
            ins[1] = g->nodes[t1].in[0];
            kill_node(&g->nodes[t1]);
        }
        a = g->nodes[i].attr;
        if ((st = add_node_named(g, g->nodes[i].op, g->nodes[i].name, "before_transpose", ins,
                                 g->nodes[i].n_in, &a, &nv)))
            return st;
        a = g->nodes[t0].attr;
        int tv;
        if ((st = add_node_named(g, VGI_OP_TRANSPOSE, g->nodes[t0].name, "sunk", &nv, 1, &a, &tv)))
            return st;
        vgi_graph_replace_uses(g, g->nodes[i].out[0], tv);
        kill_node(&g->nodes[i]);
        kill_node(&g->nodes[t0]);
        (*changed)++;
    }
    return VG_OK;
}

/* Pad(x) -> Conv/MaxPool: constant spatial padding (0 for conv, -inf for max
 * pool) becomes the op's explicit pads. */
static void fuse_pads(vgi_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_node *n = &g->nodes[i];
        if ((n->op != VGI_OP_CONV && n->op != VGI_OP_MAX_POOL) || n->n_out != 1)
            continue;
        int pp = producer_is(g, n->in[0], VGI_OP_PAD);
        if (pp < 0 || !single_use(g, n->in[0]))
            continue;
        int64_t pads[VG_MAX_DIMS][2];
        int     rank;
        if (!pad_consts(g, &g->nodes[pp], pads, &rank) || rank != 4)
            continue;
        float        v      = pad_value(g, &g->nodes[pp]);
        bool         conv   = n->op == VGI_OP_CONV;
        vgi_layout   layout = conv ? n->attr.conv.layout : n->attr.pool.layout;
        vgi_pad_mode mode   = conv ? n->attr.conv.pad_mode : n->attr.pool.pad_mode;
        int64_t     *dst    = conv ? n->attr.conv.pads : n->attr.pool.pads;
        if (conv ? v != 0.0f : !(isinf(v) && v < 0))
            continue;
        if (mode != VGI_PAD_VALID && mode != VGI_PAD_EXPLICIT)
            continue;
        if (!conv && n->attr.pool.ceil_mode)
            continue;
        int hi = layout == VGI_LAYOUT_NHWC ? 1 : 2, wi = hi + 1,
            ci = layout == VGI_LAYOUT_NHWC ? 3 : 1;
        if (pads[0][0] || pads[0][1] || pads[ci][0] || pads[ci][1])
            continue;
        bool neg = false;
        for (int d = 0; d < 4; d++)
            if (pads[d][0] < 0 || pads[d][1] < 0)
                neg = true;
        if (neg)
            continue;
        if (mode == VGI_PAD_VALID)
            memset(dst, 0, 4 * sizeof(int64_t));
        dst[0] += pads[hi][0];
        dst[1] += pads[wi][0];
        dst[2] += pads[hi][1];
        dst[3] += pads[wi][1];
        if (conv)
            n->attr.conv.pad_mode = VGI_PAD_EXPLICIT;
        else
            n->attr.pool.pad_mode = VGI_PAD_EXPLICIT;
        n->in[0] = g->nodes[pp].in[0];
        kill_node(&g->nodes[pp]);
    }
}

vg_status vgi_optimize(vgi_graph *g, vgi_err *err) {
    int        nv0   = g->n_values;
    vg_tensor *vals  = vg_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof(vg_tensor));
    void     **owned = vg_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof(void *));
    vg_status  st    = VG_OK;
    if (!vals || !owned) {
        st = VG_E_NOMEM;
        goto done;
    }
    vgi_vals_init(g, vals, NULL);
    st = vgi_propagate(g, vals, owned, true, err);
    if (st)
        goto done;
    /* Record inferred dtypes/shapes (for static models: all of them). */
    for (int v = 0; v < g->n_values; v++) {
        if (g->values[v].flags & (VGI_VALUE_CONST | VGI_VALUE_INPUT))
            continue;
        if (vals[v].dtype != VG_DTYPE_UNKNOWN && vals[v].shape.ndim >= 0) {
            g->values[v].dtype = vals[v].dtype;
            g->values[v].shape = vals[v].shape;
        }
    }
    /* Folded nodes: their outputs become constants. */
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_node *n   = &g->nodes[i];
        bool      all = n->n_out > 0;
        for (int k = 0; k < n->n_out; k++)
            if (!owned[n->out[k]])
                all = false;
        if (!all)
            continue;
        for (int k = 0; k < n->n_out; k++) {
            vgi_value *v     = &g->values[n->out[k]];
            v->data          = owned[n->out[k]];
            owned[n->out[k]] = NULL;
            v->flags |= VGI_VALUE_CONST;
            v->producer = -1;
        }
        kill_node(n);
    }
    /* Identity: consumers read the input directly. */
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_node *n = &g->nodes[i];
        if (n->op != VGI_OP_IDENTITY || n->n_out != 1)
            continue;
        vgi_graph_replace_uses(g, n->out[0], n->in[0]);
        kill_node(n);
    }
    for (int round = 0; round < 64; round++) {
        int changed;
        st = sink_transposes(g, &changed);
        if (!st)
            st = vgi_graph_toposort(g, err);
        if (!st)
            st = vgi_graph_prune(g);
        if (st || !changed)
            break;
    }
    if (st)
        goto done;
    fuse_pads(g);
    st = fuse_conv(g);
    if (st)
        goto done;
    st = vgi_graph_prune(g);
done:
    if (owned)
        for (int v = 0; v < nv0; v++)
            vg_free(owned[v]);
    vg_free(owned);
    vg_free(vals);
    return st;
}
