/*
 * cpu_ops_test.c - every op the `cpu` backend claims, compared with `ref`.
 *
 * Each case builds a small graph with random inputs and awkward shapes (13 or 19
 * channels, spatial sizes that are not multiples of 8, batch 1 and 3), runs it
 * node by node with the reference kernels (the oracle), then as one `cpu` segment
 * through the backend interface, and compares the graph outputs. Values inside
 * the segment are not external, so chains exercise blocked layouts, reorders and
 * fusion (conv + activation + residual add, Pad folded into conv/max-pool).
 * Every node of a case must be claimed by the cpu backend (checked).
 * Tolerance: |cpu - ref| <= 1e-4 + 1e-4 * |ref| per element (float32 with
 * reordered sums of at most ~600 products; ref accumulates in double).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/ref/ref_impl.h"
#include "engine/ir.h"
#include "test.h"
#include "test_graph.h"
#include "vigil/alloc.h"
#include "vigil/log.h"

#define ATOL 1e-4
#define RTOL 1e-4

/* ---- the runner --------------------------------------------------------------------- */

/* Runs t's graph on ref and on cpu (device `dev`, threads) and compares every output. */
static void tg_check(tg *t, const char *dev, int threads) {
    vgi_graph *g = t->g;
    tg_run     r;
    tg_run_ref(t, &r);
    vg_tensor *tr = r.ref, *tc = r.dut;
    bool      *ext = r.external;
    vgi_err    err;
    memset(&err, 0, sizeof(err));
    /* cpu: one segment of every node */
    vgi_device d;
    VG_CHECK_OK(vgi_device_parse(dev, threads, &d, &err));
    vgi_backend be;
    vg_status   st = vgi_cpu_dnnl_backend_create(&d, &be, &err);
    VG_CHECK_MSG(st == VG_OK, "create: %s", err.msg);
    int *nodes = malloc((size_t)g->n_nodes * sizeof(int));
    for (int i = 0; i < g->n_nodes; i++) {
        nodes[i] = i;
        VG_CHECK_MSG(be.iface->supports_node(be.ctx, g, i, tc), "cpu does not take node '%s' (%s)",
                     g->nodes[i].name, vgi_op_name(g->nodes[i].op));
    }
    vgi_segment seg = {
        .g = g, .nodes = nodes, .n_nodes = g->n_nodes, .tensors = tc, .external = ext, .index = 0};
    void *state = NULL;
    st          = be.iface->segment_prepare(be.ctx, &seg, &state, &err);
    VG_CHECK_MSG(st == VG_OK, "prepare: %s", err.msg);
    for (int rep = 0; rep < 2; rep++) /* twice: runs must not depend on leftovers */
        for (int i = 0; i < g->n_nodes; i++) {
            st = be.iface->run_node(be.ctx, state, &seg, i, &err);
            VG_CHECK_MSG(st == VG_OK, "run: %s", err.msg);
        }
    for (int o = 0; o < g->n_outputs; o++) {
        int          v = g->outputs[o].value;
        const float *a = tc[v].data, *b = tr[v].data;
        int64_t      n = vg_shape_numel(&tr[v].shape);
        for (int64_t i = 0; i < n; i++) {
            double tol = ATOL + RTOL * fabs(b[i]);
            if (!(a[i] == b[i] || fabs(a[i] - b[i]) <= tol)) { /* == : equal infinities */
                char sb[96];
                vg_test_fail(__FILE__, __LINE__,
                             "output %d %s element %lld: cpu %.7g, ref %.7g (tol %.2g)", o,
                             vg_shape_format(&tr[v].shape, sb, sizeof(sb)), (long long)i, a[i],
                             b[i], tol);
            }
        }
    }
    be.iface->segment_release(be.ctx, state);
    vgi_backend_destroy(&be);
    free(nodes);
    tg_run_free(&r);
    tg_free(t);
}

/* conv of x (c channels) to oc channels with bias; weights scaled for ~unit outputs */
static int add_conv(tg *t, const char *name, int x, int64_t c, int64_t oc, const vgi_attrs *at) {
    return tg_add_conv(t, name, x, c, oc, at, true);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_conv_single(void) {
    static const struct {
        vgi_layout   l;
        vgi_pad_mode pm;
        int64_t      n, h, w, c, oc, k, s, dil, groups;
        vgi_act_kind act;
        float        a, b;
    } cs[] = {
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 17, 11, 13, 19, 3, 1, 1, 1, VGI_ACT_RELU6, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 17, 11, 13, 19, 3, 2, 1, 1, VGI_ACT_NONE, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 23, 21, 3, 16, 3, 2, 1, 1, VGI_ACT_RELU, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 3, 12, 9, 17, 17, 3, 1, 2, 1, VGI_ACT_LEAKY, 0.1f, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_VALID, 1, 9, 10, 13, 21, 1, 1, 1, 1, VGI_ACT_SILU, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 15, 13, 13, 13, 3, 1, 1, 13, VGI_ACT_RELU6, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 15, 13, 13, 26, 3, 2, 1, 13, VGI_ACT_HARD_SWISH, 0,
         0},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_LOWER, 1, 15, 13, 24, 24, 5, 1, 1, 24, VGI_ACT_SIGMOID, 0,
         0},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 3, 10, 7, 15, 21, 3, 1, 1, 3, VGI_ACT_TANH, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_VALID, 1, 10, 7, 16, 8, 3, 1, 1, 1, VGI_ACT_CLIP, -0.5f, 0.5f},
        {VGI_LAYOUT_NHWC, VGI_PAD_VALID, 1, 10, 7, 16, 8, 3, 1, 1, 1, VGI_ACT_HARD_SIGMOID, 0.2f,
         0.5f},
        {VGI_LAYOUT_NHWC, VGI_PAD_VALID, 1, 10, 7, 16, 8, 3, 1, 1, 1, VGI_ACT_ELU, 1.0f, 0},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        tg t;
        tg_init(&t);
        int64_t d[4] = {cs[i].n, cs[i].h, cs[i].w, cs[i].c};
        if (cs[i].l == VGI_LAYOUT_NCHW)
            d[1] = cs[i].c, d[2] = cs[i].h, d[3] = cs[i].w;
        int       x  = tg_input(&t, "x", 4, d);
        vgi_attrs at = tg_conv_attr(cs[i].l, cs[i].pm, cs[i].k, cs[i].s, cs[i].dil, cs[i].groups,
                                    cs[i].act, cs[i].a, cs[i].b);
        if (cs[i].pm == VGI_PAD_EXPLICIT) {
            at.conv.pads[0] = 2, at.conv.pads[1] = 1, at.conv.pads[2] = 1, at.conv.pads[3] = 2;
        }
        tg_output(&t, add_conv(&t, "conv", x, cs[i].c, cs[i].oc, &at));
        tg_check(&t, "cpu", 1);
    }
}

/* MobileNet-style block: expand 1x1 relu6, depthwise 3x3 relu6, project 1x1, residual add,
 * then two heads (sigmoid; plain) and a channel concat; all inner values internal. */
static void test_conv_chain(void) {
    for (int batch = 1; batch <= 3; batch += 2) {
        tg t;
        tg_init(&t);
        int64_t   d[4] = {batch, 19, 13, 13};
        int       x    = tg_input(&t, "x", 4, d);
        vgi_attrs e =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 1, 1, 1, VGI_ACT_RELU6, 0, 0);
        vgi_attrs dw =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 1, 1, 40, VGI_ACT_RELU6, 0, 0);
        vgi_attrs pr =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        int       a      = add_conv(&t, "expand", x, 13, 40, &e);
        int       b      = add_conv(&t, "dw", a, 40, 40, &dw);
        int       c      = add_conv(&t, "project", b, 40, 13, &pr);
        int       in2[2] = {c, x};
        int       r      = tg_node(&t, VGI_OP_ADD, "residual", in2, 2, NULL);
        int       h1     = add_conv(&t, "head1", r, 13, 17, &pr);
        int       in1[1] = {h1};
        int       s      = tg_node(&t, VGI_OP_SIGMOID, "sig", in1, 1, NULL);
        int       h2     = add_conv(&t, "head2", r, 13, 34, &pr);
        int       cc[2]  = {s, h2};
        vgi_attrs ax;
        memset(&ax, 0, sizeof(ax));
        ax.axis.axis = -1;
        tg_output(&t, tg_node(&t, VGI_OP_CONCAT, "concat", cc, 2, &ax));
        tg_output(&t, r); /* an inner value that is also a graph output */
        tg_check(&t, batch == 1 ? "cpu:0" : "cpu", batch == 1 ? 1 : 2);
    }
}

static void test_pad_fold(void) {
    tg t;
    tg_init(&t);
    int64_t   d[4]    = {1, 17, 15, 13};
    int       x       = tg_input(&t, "x", 4, d);
    int64_t   pd[2]   = {4, 2};
    int32_t   pads[8] = {0, 0, 1, 2, 2, 1, 0, 0};
    int       pv      = tg_const_i32(&t, "pads", 2, pd, pads);
    vgi_attrs pa;
    memset(&pa, 0, sizeof(pa));
    pa.pad.mode     = VGI_PADFILL_CONSTANT;
    int       in[2] = {x, pv};
    int       p     = tg_node(&t, VGI_OP_PAD, "pad", in, 2, &pa);
    vgi_attrs ca = tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_VALID, 3, 2, 1, 1, VGI_ACT_LEAKY, 0.1f, 0);
    int       c  = add_conv(&t, "conv", p, 13, 16, &ca);
    /* -inf pad before a VALID max pool (NanoDet) */
    int32_t pads2[8] = {0, 0, 0, 1, 0, 1, 0, 0};
    int     pv2      = tg_const_i32(&t, "pads2", 2, pd, pads2);
    pa.pad.value     = -INFINITY;
    int       in2[2] = {c, pv2};
    int       p2     = tg_node(&t, VGI_OP_PAD, "pad2", in2, 2, &pa);
    vgi_attrs mp;
    memset(&mp, 0, sizeof(mp));
    mp.pool.layout    = VGI_LAYOUT_NHWC;
    mp.pool.pad_mode  = VGI_PAD_VALID;
    mp.pool.kernel[0] = mp.pool.kernel[1] = 3;
    mp.pool.strides[0] = mp.pool.strides[1] = 2;
    mp.pool.dilations[0] = mp.pool.dilations[1] = 1;
    int in3[1]                                  = {p2};
    tg_output(&t, tg_node(&t, VGI_OP_MAX_POOL, "pool", in3, 1, &mp));
    tg_check(&t, "cpu", 1);
}

static void test_pool(void) {
    for (int k = 0; k < 8; k++) {
        tg t;
        tg_init(&t);
        vgi_layout l    = k % 2 ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
        int64_t    d[4] = {k < 4 ? 1 : 3, 17, 12, 13};
        if (l == VGI_LAYOUT_NCHW)
            d[1] = 13, d[2] = 17, d[3] = 12;
        int       x = tg_input(&t, "x", 4, d);
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.pool.layout    = l;
        a.pool.kernel[0] = a.pool.kernel[1] = k >= 6 ? 5 : 3;
        a.pool.strides[0] = a.pool.strides[1] = k >= 6 ? 1 : 2;
        a.pool.dilations[0] = a.pool.dilations[1] = 1;
        a.pool.pad_mode                           = k % 3 == 0 ? VGI_PAD_SAME_UPPER : VGI_PAD_VALID;
        a.pool.count_include_pad                  = k == 3;
        vgi_op op                                 = k < 2 || k >= 6 ? VGI_OP_MAX_POOL
                                                    : k < 4         ? VGI_OP_AVG_POOL
                                                    : k == 4        ? VGI_OP_GLOBAL_AVG_POOL
                                                                    : VGI_OP_GLOBAL_MAX_POOL;
        int    in[1]                              = {x};
        tg_output(&t, tg_node(&t, op, "pool", in, 1, &a));
        tg_check(&t, "cpu", 1);
    }
}

static void test_resize(void) {
    static const int64_t sz[][4] = {{13, 13, 26, 26}, {7, 9, 14, 18}, {10, 6, 15, 4}};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 3; i++) {
            tg t;
            tg_init(&t);
            int64_t   d[4]   = {i == 1 ? 3 : 1, sz[i][0], sz[i][1], 13};
            int       x      = tg_input(&t, "x", 4, d);
            int64_t   two[1] = {2};
            int32_t   hw[2]  = {(int32_t)sz[i][2], (int32_t)sz[i][3]};
            int       sv     = tg_const_i32(&t, "size", 1, two, hw);
            vgi_attrs a;
            memset(&a, 0, sizeof(a));
            a.resize.layout  = VGI_LAYOUT_NHWC;
            a.resize.mode    = m ? VGI_RESIZE_NEAREST : VGI_RESIZE_BILINEAR;
            a.resize.coord   = m ? VGI_COORD_TF_HALF_PIXEL_NEAREST : VGI_COORD_HALF_PIXEL;
            a.resize.nearest = VGI_NEAREST_FLOOR; /* TF's nearest with half-pixel centres */
            int in[2]        = {x, sv};
            tg_output(&t, tg_node(&t, VGI_OP_RESIZE, "resize", in, 2, &a));
            tg_check(&t, "cpu", 1);
        }
}

static void test_binary(void) {
    static const vgi_op  ops[]      = {VGI_OP_ADD, VGI_OP_SUB, VGI_OP_MUL,
                                       VGI_OP_DIV, VGI_OP_MAX, VGI_OP_MIN};
    static const int64_t other[][4] = {{3, 7, 5, 13}, {1, 1, 1, 13}, {1, 7, 5, 1}, {1, 1, 1, 1}};
    for (size_t o = 0; o < 6; o++)
        for (int s = 0; s < 4; s++) {
            tg t;
            tg_init(&t);
            int64_t d[4] = {3, 7, 5, 13};
            int     x    = tg_input(&t, "x", 4, d);
            /* lower rank for the per-channel case: [13] */
            int y = s == 1 ? tg_input(&t, "y", 1, &other[1][3]) : tg_input(&t, "y", 4, other[s]);
            int in[2] = {x, y};
            if (ops[o] == VGI_OP_ADD && s == 1) /* broadcast operand first (commuted) */
                in[0] = y, in[1] = x;
            tg_output(&t, tg_node(&t, ops[o], "bin", in, 2, NULL));
            tg_check(&t, "cpu", 1);
        }
    /* binary on a blocked conv output with a per-channel constant, then relu (fused) */
    tg t;
    tg_init(&t);
    int64_t   d[4] = {1, 11, 9, 13};
    int       x    = tg_input(&t, "x", 4, d);
    vgi_attrs ca =
        tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 1, 1, 1, VGI_ACT_NONE, 0, 0);
    int     c      = add_conv(&t, "conv", x, 13, 24, &ca);
    int64_t cd[1]  = {24};
    int     in[2]  = {c, tg_const(&t, "scale", 1, cd, 1.0f)};
    int     m      = tg_node(&t, VGI_OP_MUL, "mul", in, 2, NULL);
    int     in1[1] = {m};
    int     r      = tg_node(&t, VGI_OP_RELU, "relu", in1, 1, NULL);
    int     in2[2] = {r, c};
    tg_output(&t, tg_node(&t, VGI_OP_SUB, "sub", in2, 2, NULL));
    tg_check(&t, "cpu", 2);
}

static void test_unary(void) {
    static const vgi_op ops[] = {
        VGI_OP_RELU,       VGI_OP_RELU6,        VGI_OP_CLIP, VGI_OP_LEAKY_RELU, VGI_OP_ELU,
        VGI_OP_SIGMOID,    VGI_OP_TANH,         VGI_OP_EXP,  VGI_OP_ABS,        VGI_OP_NEG,
        VGI_OP_HARD_SWISH, VGI_OP_HARD_SIGMOID, VGI_OP_SILU, VGI_OP_ROUND};
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        tg t;
        tg_init(&t);
        int64_t   d[3] = {3, 17, 13};
        int       x    = tg_input(&t, "x", 3, d);
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.unary.alpha = ops[o] == VGI_OP_CLIP ? -0.3f : 0.2f;
        a.unary.beta  = ops[o] == VGI_OP_CLIP ? 0.4f : 0.5f;
        int in[1]     = {x};
        tg_output(&t, tg_node(&t, ops[o], "u", in, 1, &a));
        tg_check(&t, "cpu", 1);
    }
    /* sqrt and log on positive inputs: |x| first (chain of two unary nodes) */
    for (int k = 0; k < 2; k++) {
        tg t;
        tg_init(&t);
        int64_t d[2]  = {5, 13};
        int     x     = tg_input(&t, "x", 2, d);
        int     in[1] = {x};
        int     a     = tg_node(&t, VGI_OP_ABS, "abs", in, 1, NULL);
        in[0]         = a;
        tg_output(&t, tg_node(&t, k ? VGI_OP_LOG : VGI_OP_SQRT, "f", in, 1, NULL));
        tg_check(&t, "cpu", 1);
    }
}

/* Concat of a (dims d) and b (d with d[axis] = bdim) along axis, on `threads` threads. */
static void check_concat2(const int64_t d[4], int axis, int64_t bdim, int threads) {
    tg t;
    tg_init(&t);
    int64_t db[4] = {d[0], d[1], d[2], d[3]};
    db[axis]      = bdim;
    int       a = tg_input(&t, "a", 4, d), b = tg_input(&t, "b", 4, db);
    vgi_attrs ax;
    memset(&ax, 0, sizeof(ax));
    ax.axis.axis = axis;
    int in[2]    = {a, b};
    tg_output(&t, tg_node(&t, VGI_OP_CONCAT, "cat", in, 2, &ax));
    tg_check(&t, "cpu", threads);
}

/* Large concats are copied by two threads, each taking half of the output bytes: axis 1
 * (few large pieces, the split inside a piece) and axis 3 (many small pieces). */
static void test_concat_threads(void) {
    const int64_t d[4] = {2, 37, 41, 29};
    check_concat2(d, 1, 23, 2);
    check_concat2(d, 3, 23, 2);
}

static void test_concat(void) {
    const int64_t d[4] = {3, 5, 7, 13};
    for (int axis = 0; axis < 4; axis++)
        check_concat2(d, axis, axis == 3 ? 19 : 2, 1);
}

/* YOLOv7's ELAN block: convs whose blocked outputs are concatenated on the channel axis
 * and read by another conv inside the segment, so the concat copies blocked rows (channel
 * counts multiple of the block, the last one padded: 8 + 16 + 5), in NCHW and NHWC. */
static void test_concat_blocked(void) {
    for (int variant = 0; variant < 4; variant++) {
        int       batch = variant % 2 ? 2 : 1;
        bool      nhwc  = variant >= 2;
        tg        t;
        vgi_attrs ca = tg_conv_attr(nhwc ? VGI_LAYOUT_NHWC : VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 3,
                                    1, 1, 1, VGI_ACT_LEAKY, 0.1f, 0);
        tg_init(&t);
        int64_t d[4] = {batch, 11, 9, 7};
        if (nhwc) {
            d[1] = 9, d[2] = 7, d[3] = 11;
        }
        int       x     = tg_input(&t, "x", 4, d);
        int       a     = add_conv(&t, "a", x, 11, 8, &ca);
        int       b     = add_conv(&t, "b", a, 8, 16, &ca);
        int       c     = add_conv(&t, "c", b, 16, 5, &ca);
        int       cc[3] = {a, b, c};
        vgi_attrs ax;
        memset(&ax, 0, sizeof(ax));
        ax.axis.axis = nhwc ? 3 : 1;
        int cat      = tg_node(&t, VGI_OP_CONCAT, "cat", cc, 3, &ax);
        tg_output(&t, add_conv(&t, "fuse", cat, 29, 12, &ca));
        tg_check(&t, "cpu", 1);
    }
}

static int add_transpose(tg *t, const char *name, int x, const int64_t *perm) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.transpose.n = 4;
    for (int i = 0; i < 4; i++)
        a.transpose.perm[i] = perm[i];
    int in[1] = {x};
    return tg_node(t, VGI_OP_TRANSPOSE, name, in, 1, &a);
}

/* An NCHW graph written for an NHWC engine (NanoDet): Pad, Transpose, Conv, Transpose,
 * LeakyRelu, twice, then a channel concat; transposes become views, pads fold. */
static void test_transpose_chain(void) {
    static const int64_t to_nhwc[4] = {0, 2, 3, 1}, to_nchw[4] = {0, 3, 1, 2};
    for (int batch = 1; batch <= 3; batch += 2) {
        tg t;
        tg_init(&t);
        int64_t   d[4]    = {batch, 13, 17, 15};
        int       x       = tg_input(&t, "x", 4, d);
        int64_t   pd[2]   = {4, 2};
        int32_t   pads[8] = {0, 0, 0, 0, 1, 1, 1, 1};
        vgi_attrs pa;
        memset(&pa, 0, sizeof(pa));
        pa.pad.mode     = VGI_PADFILL_CONSTANT;
        int       in[2] = {x, tg_const_i32(&t, "pads", 2, pd, pads)};
        int       p     = tg_node(&t, VGI_OP_PAD, "pad", in, 2, &pa);
        int       tr    = add_transpose(&t, "t1", p, to_nhwc);
        vgi_attrs ca = tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_VALID, 3, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        int       c  = add_conv(&t, "conv", tr, 13, 16, &ca);
        int       back = add_transpose(&t, "t2", c, to_nchw);
        vgi_attrs la;
        memset(&la, 0, sizeof(la));
        la.unary.alpha = 0.1f;
        int in1[1]     = {back};
        int l          = tg_node(&t, VGI_OP_LEAKY_RELU, "leaky", in1, 1, &la);
        /* second conv on the NCHW value, via transposes again */
        int tr2    = add_transpose(&t, "t3", l, to_nhwc);
        int c2     = add_conv(&t, "conv2", tr2, 16, 19, &ca);
        int back2  = add_transpose(&t, "t4", c2, to_nchw);
        int in2[1] = {back2};
        int l2     = tg_node(&t, VGI_OP_LEAKY_RELU, "leaky2", in2, 1, &la);
        /* a third conv on the first result, concatenated on the NCHW channel axis */
        int       c3    = add_conv(&t, "conv3", add_transpose(&t, "t5", l, to_nhwc), 16, 8, &ca);
        int       back3 = add_transpose(&t, "t6", c3, to_nchw);
        vgi_attrs ax;
        memset(&ax, 0, sizeof(ax));
        ax.axis.axis = 1;
        int cc[2]    = {l2, back3};
        tg_output(&t, tg_node(&t, VGI_OP_CONCAT, "cat", cc, 2, &ax));
        tg_output(&t, add_transpose(&t, "t_out", l, to_nhwc)); /* external transpose */
        tg_check(&t, batch == 1 ? "cpu" : "cpu:0", 1);
    }
}

/* Small ops run by the backend's C kernels and reductions by global pooling. */
static void test_small_ops(void) {
    /* squared difference and comparisons with broadcasting, then cast bool -> float */
    static const vgi_op cmp[] = {VGI_OP_EQUAL,      VGI_OP_NOT_EQUAL, VGI_OP_LESS,
                                 VGI_OP_LESS_EQUAL, VGI_OP_GREATER,   VGI_OP_GREATER_EQUAL};
    for (size_t o = 0; o < sizeof(cmp) / sizeof(cmp[0]); o++) {
        tg t;
        tg_init(&t);
        int64_t   d[4] = {3, 7, 5, 13}, e[2] = {5, 1};
        int       x = tg_input(&t, "x", 4, d), y = tg_input(&t, "y", 2, e);
        int       in[2] = {x, o % 2 ? x : y};
        int       c     = tg_node(&t, cmp[o], "cmp", in, 2, NULL);
        vgi_attrs ca;
        memset(&ca, 0, sizeof(ca));
        ca.cast.to = VG_DTYPE_F32;
        int in1[1] = {c};
        int f      = tg_node(&t, VGI_OP_CAST, "cast", in1, 1, &ca);
        int in2[2] = {f, y};
        tg_output(&t, tg_node(&t, VGI_OP_SQUARED_DIFF, "sqd", in2, 2, NULL));
        tg_check(&t, "cpu", 1);
    }
    /* reduce mean/max over spatial axes of a conv output (blocked), keepdims or not */
    for (int k = 0; k < 4; k++) {
        tg t;
        tg_init(&t);
        int64_t   d[4] = {k < 2 ? 1 : 3, 11, 9, 13};
        int       x    = tg_input(&t, "x", 4, d);
        vgi_attrs ca =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        int       c = add_conv(&t, "conv", x, 13, 24, &ca);
        vgi_attrs ra;
        memset(&ra, 0, sizeof(ra));
        ra.axes.n        = 2;
        ra.axes.axes[0]  = k == 3 ? 2 : 1;
        ra.axes.axes[1]  = k == 3 ? 3 : 2; /* k == 3: W and C */
        ra.axes.keepdims = k % 2 == 0;
        int in[1]        = {c};
        int r = tg_node(&t, k == 1 ? VGI_OP_REDUCE_MAX : VGI_OP_REDUCE_MEAN, "reduce", in, 1, &ra);
        if (ra.axes.keepdims) { /* the SE pattern: scale the input by the mean */
            int in2[2] = {c, r};
            r          = tg_node(&t, VGI_OP_MUL, "se", in2, 2, NULL);
        }
        tg_output(&t, r);
        tg_check(&t, "cpu", 2);
    }
    /* bilinear resize with the legacy TF mapping and align-corners (C kernel), both layouts */
    for (int k = 0; k < 4; k++) {
        tg t;
        tg_init(&t);
        bool    nchw = k % 2;
        int64_t d[4] = {k < 2 ? 1 : 3, 9, 7, 13};
        if (nchw)
            d[1] = 13, d[2] = 9, d[3] = 7;
        int       x      = tg_input(&t, "x", 4, d);
        int64_t   two[1] = {2};
        int32_t   hw[2]  = {18, 11};
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.resize.layout = nchw ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
        a.resize.mode   = VGI_RESIZE_BILINEAR;
        a.resize.coord  = k < 2 ? VGI_COORD_ASYMMETRIC : VGI_COORD_ALIGN_CORNERS;
        int in[2]       = {x, tg_const_i32(&t, "size", 1, two, hw)};
        tg_output(&t, tg_node(&t, VGI_OP_RESIZE, "resize", in, 2, &a));
        tg_check(&t, "cpu", 1);
    }
}

/* Hard-sigmoid squeeze-excite gate as TF writes it: conv, + 3, relu6, * (1/6), all folded
 * into the convolution as eltwise post-ops; then x * gate per channel; also x / c - d. */
static void test_scalar_fusion(void) {
    for (int k = 0; k < 2; k++) {
        tg t;
        tg_init(&t);
        int64_t   d[4] = {1, k ? 1 : 5, k ? 1 : 7, 24};
        int       x    = tg_input(&t, "x", 4, d);
        vgi_attrs ca =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        int c      = add_conv(&t, "conv", x, 24, 24, &ca);
        int in[2]  = {c, tg_scalar(&t, "three", 3.0f)};
        int a      = tg_node(&t, VGI_OP_ADD, "add3", in, 2, NULL);
        int in1[1] = {a};
        int r      = tg_node(&t, VGI_OP_RELU6, "relu6", in1, 1, NULL);
        int in2[2] = {tg_scalar(&t, "sixth", 1.0f / 6.0f), r};
        int m      = tg_node(&t, VGI_OP_MUL, "mul", in2, 2, NULL);
        int in3[2] = {m, tg_scalar(&t, "c", 0.75f)};
        int q      = tg_node(&t, VGI_OP_DIV, "div", in3, 2, NULL);
        int in4[2] = {tg_scalar(&t, "dd", 0.25f), q};
        tg_output(&t, tg_node(&t, VGI_OP_SUB, "sub", in4, 2, NULL));
        tg_check(&t, "cpu", 1);
    }
}

/* Pow with a constant exponent of 2 (YOLO box heads) or 1 runs as an eltwise op, alone and
 * folded into a convolution; other exponents are left to ref (powf's rules for negative
 * bases and fractional exponents). */
static void test_pow(void) {
    const float ex[2] = {2.0f, 1.0f};
    for (int k = 0; k < 4; k++) {
        tg t;
        tg_init(&t);
        int64_t d[4] = {1, 5, 7, 16};
        int     x    = tg_input(&t, "x", 4, d);
        if (k >= 2) { /* after a convolution */
            vgi_attrs ca =
                tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 1, 1, 1, VGI_ACT_NONE, 0, 0);
            x = add_conv(&t, "conv", x, 16, 16, &ca);
        }
        int in[2] = {x, tg_scalar(&t, "e", ex[k % 2])};
        tg_output(&t, tg_node(&t, VGI_OP_POW, "pow", in, 2, NULL));
        tg_check(&t, "cpu", 1);
    }
    tg t;
    tg_init(&t);
    int64_t d[2]  = {3, 4};
    int     x     = tg_input(&t, "x", 2, d);
    int     in[2] = {x, tg_scalar(&t, "e", 3.0f)};
    int     p     = tg_node(&t, VGI_OP_POW, "pow3", in, 2, NULL);
    tg_output(&t, p);
    tg_run r;
    tg_run_ref(&t, &r);
    vgi_err err;
    memset(&err, 0, sizeof(err));
    vgi_device dev;
    VG_CHECK_OK(vgi_device_parse("cpu", 1, &dev, &err));
    vgi_backend be;
    VG_CHECK_OK(vgi_cpu_dnnl_backend_create(&dev, &be, &err));
    VG_CHECK(!be.iface->supports_node(be.ctx, t.g, t.g->n_nodes - 1, r.dut));
    vgi_backend_destroy(&be);
    tg_run_free(&r);
    tg_free(&t);
}

/* Top-k along the last and the first axis, largest and smallest, k = 7 and k = all,
 * int32/int64 indices. */
static void test_topk(void) {
    for (int c = 0; c < 4; c++) {
        tg t;
        tg_init(&t);
        int64_t   d[3]   = {3, 5, 61};
        int       x      = tg_input(&t, "x", 3, d);
        int64_t   one[1] = {1};
        int32_t   kv[1]  = {c == 3 ? 61 : c == 1 ? 2 : 7};
        int       in[2]  = {x, tg_const_i32(&t, "k", 0, one, kv)};
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.topk.axis        = c == 1 ? 0 : -1;
        a.topk.largest     = c != 2;
        a.topk.sorted      = true;
        a.topk.index_dtype = c % 2 ? VG_DTYPE_I64 : VG_DTYPE_I32;
        int id;
        VG_CHECK_OK(vgi_graph_add_node(t.g, VGI_OP_TOPK, "topk", in, 2, 2, &a, &id));
        int vals = t.g->nodes[id].out[0];
        int idx  = t.g->nodes[id].out[1];
        /* indices compared through a cast to float (exact for these small integers) */
        vgi_attrs ca;
        memset(&ca, 0, sizeof(ca));
        ca.cast.to = VG_DTYPE_F32;
        int in1[1] = {idx};
        tg_output(&t, vals);
        tg_output(&t, tg_node(&t, VGI_OP_CAST, "idx", in1, 1, &ca));
        tg_check(&t, "cpu", 1);
    }
}

/* Hard-swish as TF writes it after a convolution (MobileNetV3): x * (1/6) * relu6(x + 3),
 * folded into the convolution as oneDNN's hardswish post-op; then a residual add. */
static void test_hardswish_fusion(void) {
    for (int batch = 1; batch <= 3; batch += 2) {
        tg t;
        tg_init(&t);
        int64_t   d[4] = {batch, 9, 11, 16};
        int       x    = tg_input(&t, "x", 4, d);
        vgi_attrs ca =
            tg_conv_attr(VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        int c     = add_conv(&t, "conv", x, 16, 16, &ca);
        int i1[2] = {tg_scalar(&t, "sixth", 1.0f / 6.0f), c};
        int m     = tg_node(&t, VGI_OP_MUL, "mul", i1, 2, NULL);
        int i2[2] = {c, tg_scalar(&t, "three", 3.0f)};
        int a     = tg_node(&t, VGI_OP_ADD, "add", i2, 2, NULL);
        int i3[1] = {a};
        int r     = tg_node(&t, VGI_OP_RELU6, "relu6", i3, 1, NULL);
        int i4[2] = {m, r};
        int h     = tg_node(&t, VGI_OP_MUL, "mul_1", i4, 2, NULL);
        int c2    = add_conv(&t, "conv2", h, 16, 16, &ca);
        int i5[2] = {c2, x};
        tg_output(&t, tg_node(&t, VGI_OP_ADD, "residual", i5, 2, NULL));
        tg_check(&t, "cpu", 1);
    }
}

/* ---- Winograd convolutions ----------------------------------------------------------------- */

static int wino_steps; /* Winograd convolutions the backend planned (from its trace log) */

static void count_wino(vg_log_level level, const char *ctx, const char *msg, void *user) {
    (void)level, (void)ctx, (void)user;
    if (strstr(msg, "Winograd F(2x2,3x3)"))
        wino_steps++;
}

/*
 * 3x3 stride-1 convolutions with 16 or more channels on both sides run as Winograd F(2x2,3x3)
 * (wino.h) on AVX2 machines: odd sizes (partial 2x2 tiles), every padding form including a
 * folded Pad, output channels that are not a multiple of 16, batch 3, every fused post-op the
 * kernel implements, a residual Add with an activation after it, and every way work is
 * shared: one thread; whole chunks per thread (40 x 40); the team on one chunk (48 channels
 * at 16 x 16) or on several (36 x 24); filters transformed while running (maps under 64
 * tiles), in one chunk or several (128 channels, 13 x 13, batch 3). Same oracle and tolerance
 * as the other cases. The trace log must show the Winograd steps, so the cases cannot pass
 * through oneDNN instead.
 */
static void test_winograd(void) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        VG_SKIP("this CPU has no AVX2 + FMA: convolutions stay on oneDNN");
    const char *off = getenv("VIGIL_CPU_WINOGRAD");
    if (off && !strcmp(off, "0"))
        VG_SKIP("VIGIL_CPU_WINOGRAD=0 switches the Winograd kernel off");
    static const struct {
        vgi_layout   l;
        vgi_pad_mode pm;
        int64_t      n, h, w, c, oc;
        vgi_act_kind act;
        float        a, b;
        int          extra; /* 1: explicit asymmetric pads, 2: Pad node folded in, 3: residual */
    } cs[] = {
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 1, 13, 11, 16, 16, VGI_ACT_RELU, 0, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 9, 14, 24, 40, VGI_ACT_LEAKY, 0.1f, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_VALID, 1, 12, 9, 32, 24, VGI_ACT_SILU, 0, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 1, 10, 7, 16, 32, VGI_ACT_CLIP, -0.5f, 0.5f, 1},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 7, 8, 16, 16, VGI_ACT_HARD_SWISH, 0, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 7, 8, 16, 16, VGI_ACT_SIGMOID, 0, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 7, 8, 16, 16, VGI_ACT_RELU6, 0, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 7, 8, 16, 16, VGI_ACT_HARD_SIGMOID, 0.2f, 0.5f, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 7, 8, 16, 16, VGI_ACT_NONE, 0, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_VALID, 1, 11, 10, 16, 16, VGI_ACT_RELU, 0, 0, 2},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 3, 13, 9, 32, 32, VGI_ACT_NONE, 0, 0, 3},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 1, 40, 40, 16, 16, VGI_ACT_RELU, 0, 0, 3},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 1, 8, 8, 128, 128, VGI_ACT_NONE, 0, 0, 3},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 1, 36, 24, 16, 16, VGI_ACT_RELU, 0, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 1, 16, 16, 48, 48, VGI_ACT_RELU, 0, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_SAME_UPPER, 3, 13, 13, 128, 128, VGI_ACT_NONE, 0, 0, 3},
    };
    vg_log_level level = vg_log_get_level();
    vg_log_set_sink(count_wino, NULL);
    vg_log_set_level(VG_LOG_TRACE);
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        for (int threads = 1; threads <= 2; threads++) {
            tg t;
            tg_init(&t);
            bool    nchw = cs[i].l == VGI_LAYOUT_NCHW;
            int64_t d[4] = {cs[i].n, cs[i].h, cs[i].w, cs[i].c};
            if (nchw)
                d[1] = cs[i].c, d[2] = cs[i].h, d[3] = cs[i].w;
            int       x  = tg_input(&t, "x", 4, d);
            vgi_attrs at = tg_conv_attr(cs[i].l, cs[i].pm, 3, 1, 1, 1, cs[i].act, cs[i].a, cs[i].b);
            if (cs[i].extra == 1) {
                at.conv.pads[0] = 2, at.conv.pads[1] = 1, at.conv.pads[2] = 1, at.conv.pads[3] = 2;
            } else if (cs[i].extra == 2) { /* NHWC Pad of H by (1, 2) and W by (2, 1) */
                int64_t   pd[2]   = {4, 2};
                int32_t   pads[8] = {0, 0, 1, 2, 2, 1, 0, 0};
                vgi_attrs pa;
                memset(&pa, 0, sizeof(pa));
                pa.pad.mode = VGI_PADFILL_CONSTANT;
                int in[2]   = {x, tg_const_i32(&t, "pads", 2, pd, pads)};
                x           = tg_node(&t, VGI_OP_PAD, "pad", in, 2, &pa);
            }
            int y = add_conv(&t, "conv", x, cs[i].c, cs[i].oc, &at);
            if (cs[i].extra == 3) { /* second conv + residual Add + relu, all fused */
                int y2     = add_conv(&t, "conv2", y, cs[i].oc, cs[i].oc, &at);
                int in[2]  = {y2, y};
                int r      = tg_node(&t, VGI_OP_ADD, "residual", in, 2, NULL);
                int in2[1] = {r};
                y          = tg_node(&t, VGI_OP_RELU, "relu", in2, 1, NULL);
            }
            tg_output(&t, y);
            wino_steps = 0;
            tg_check(&t, "cpu", threads);
            VG_CHECK_MSG(wino_steps == (cs[i].extra == 3 ? 2 : 1),
                         "case %zu, %d thread(s): %d Winograd convolution(s) planned", i, threads,
                         wino_steps);
        }
    }
    vg_log_set_sink(NULL, NULL);
    vg_log_set_level(level);
}

static const vg_test_case cases[] = {
    {"conv 3x3 stride 1 by Winograd F(2x2,3x3): shapes, post-ops, threads", test_winograd},
    {"hard-swish folded into a convolution", test_hardswish_fusion},
    {"top-k", test_topk},
    {"scalar ops folded into convolutions", test_scalar_fusion},
    {"pow with exponent 2 or 1", test_pow},
    {"large concat on two threads", test_concat_threads},
    {"small ops: compare, cast, squared difference, reduce, legacy resize", test_small_ops},
    {"transposes as views, pad folded through a transpose", test_transpose_chain},
    {"conv: dense, depthwise, grouped, every activation", test_conv_single},
    {"conv chain: blocked inner values, residual fusion", test_conv_chain},
    {"pad folded into conv and max pool", test_pad_fold},
    {"pooling", test_pool},
    {"resize bilinear/nearest half-pixel", test_resize},
    {"binary with broadcasting", test_binary},
    {"unary activations", test_unary},
    {"concat on every axis", test_concat},
    {"concat of blocked conv outputs", test_concat_blocked},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
