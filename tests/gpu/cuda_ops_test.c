/*
 * cuda_ops_test.c - every op family the `cuda` backend claims, compared with `ref`
 * (label gpu: skipped where no GPU is present).
 *
 * Each case builds a small graph with random inputs and awkward shapes (13 or 19
 * channels, odd spatial sizes, batch 1 and 3), runs it node by node with the
 * reference kernels (the oracle), then as one `cuda` segment through the backend
 * interface, twice (runs must not depend on leftovers), in fp32 and in fp16, and
 * compares the graph outputs. Only graph inputs, constants and outputs are external,
 * so chains keep their values on the device. Every node must be claimed by cuda.
 * Tolerances (per element):
 *   fp32: |cuda - ref| <= 1e-4 + 1e-4 |ref|  (float sums in another order; no TF32)
 *   fp16: |cuda - ref| <= 3e-2 + 3e-2 |ref|  (f16 storage: 2^-11 relative per rounding,
 *         a few roundings per op, float accumulation; values are O(1))
 * Integer outputs (arg-max) must match exactly in fp32 and are not compared in fp16
 * (rounding may break ties differently).
 *
 * The same source, force-including cuda_emu.h, builds cuda_emu_test (label unit): the
 * backend's host code against an emulated GPU (tests/gpu/cuda_emu.c), with and without
 * the emulated cuDNN, checking also that every device allocation is freed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/ref/ref_impl.h"
#include "engine/ir.h"
#include "test.h"
#include "test_graph.h"
#include "vigil/alloc.h"

/* Without a GPU each case still builds its graphs, runs ref and checks that the
 * cuda backend claims every node (vgi_cuda_supports), then reports SKIPPED. */
static bool g_no_gpu;

static void gpu_part_done(void) {
    if (g_no_gpu)
        VG_SKIP("no CUDA device: checked graphs, ref and supports_node only; the GPU part "
                "runs on a machine with an NVIDIA GPU");
}

/* ---- the runner --------------------------------------------------------------------- */

static void run_cuda(vgi_graph *g, vg_tensor *tr, vg_tensor *tc, bool *ext, vgi_precision prec) {
    vgi_err err;
    memset(&err, 0, sizeof(err));
    vgi_device d;
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "cuda:0");
    d.kind      = VGI_DEVICE_CUDA;
    d.precision = prec;
    d.n_threads = 1;
    vgi_backend be;
    vg_status   st = vgi_cuda_backend_create(&d, &be, &err);
    VG_CHECK_MSG(st == VG_OK, "create: %s", err.msg);
    int *nodes = malloc((size_t)g->n_nodes * sizeof(int));
    VG_CHECK(nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        nodes[i] = i;
        VG_CHECK(be.iface->supports_node(be.ctx, g, i, tc));
    }
    /* graph inputs and outputs in page-locked memory from the backend (as the engine's
     * arena is), so that asynchronous copies and CUDA-graph capture are what is tested */
    int    nv     = g->n_values;
    void **pinned = calloc((size_t)nv, sizeof(void *));
    VG_CHECK(pinned);
    for (int v = 0; v < nv; v++)
        if (!(g->values[v].flags & VGI_VALUE_CONST) && ext[v] && tc[v].data) {
            size_t bytes = vg_tensor_nbytes(&tc[v]);
            pinned[v]    = be.iface->host_alloc(be.ctx, bytes);
            VG_CHECK(pinned[v]);
            memcpy(pinned[v], tc[v].data, bytes);
            tc[v].data = pinned[v];
        }
    vgi_segment seg = {
        .g = g, .nodes = nodes, .n_nodes = g->n_nodes, .tensors = tc, .external = ext, .index = 0};
    void *state = NULL;
    st          = be.iface->segment_prepare(be.ctx, &seg, &state, &err);
    VG_CHECK_MSG(st == VG_OK, "prepare: %s", err.msg);
    /* run 1 step by step, run 2 captured as a CUDA graph and replayed, run 3 replayed
     * into poisoned outputs */
    for (int rep = 0; rep < 3; rep++) {
        if (rep == 2)
            for (int o = 0; o < g->n_outputs; o++)
                memset(tc[g->outputs[o].value].data, 0xff,
                       vg_tensor_nbytes(&tc[g->outputs[o].value]));
        st = be.iface->segment_run(be.ctx, state, &seg, &err);
        VG_CHECK_MSG(st == VG_OK, "run %d: %s", rep + 1, err.msg);
    }
    double atol = prec == VGI_PRECISION_FP16 ? 3e-2 : 1e-4;
    double rtol = atol;
    for (int o = 0; o < g->n_outputs; o++) {
        int     v = g->outputs[o].value;
        int64_t n = vg_shape_numel(&tr[v].shape);
        char    sb[96];
        if (tr[v].dtype != VG_DTYPE_F32) {
            if (prec == VGI_PRECISION_FP32)
                VG_CHECK_MSG(!memcmp(tc[v].data, tr[v].data, vg_tensor_nbytes(&tr[v])),
                             "output %d (integer) differs from ref", o);
            continue;
        }
        const float *a = tc[v].data, *b = tr[v].data;
        for (int64_t i = 0; i < n; i++) {
            double tol = atol + rtol * fabs(b[i]);
            if (a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))
                continue; /* also equal infinities */
            if (!(fabs(a[i] - b[i]) <= tol))
                vg_test_fail(__FILE__, __LINE__,
                             "%s: output %d %s element %lld: cuda %.7g, ref %.7g (tol %.2g)",
                             prec == VGI_PRECISION_FP16 ? "fp16" : "fp32", o,
                             vg_shape_format(&tr[v].shape, sb, sizeof(sb)), (long long)i, a[i],
                             b[i], tol);
        }
    }
    be.iface->segment_release(be.ctx, state);
    for (int v = 0; v < nv; v++)
        if (pinned[v])
            be.iface->host_free(be.ctx, pinned[v]);
    free(pinned);
    vgi_backend_destroy(&be);
    free(nodes);
}

/* Runs t's graph on ref, then on cuda in fp32 and fp16, and compares every output. */
static void tg_check(tg *t) {
    vgi_graph *g  = t->g;
    int        nv = g->n_values;
    tg_run     r;
    tg_run_ref(t, &r);
    vg_tensor *tr = r.ref, *tc = r.dut;
    bool      *ext = r.external;
    for (int i = 0; i < g->n_nodes; i++)
        VG_CHECK_MSG(vgi_cuda_supports(g, i, tr), "cuda does not take node '%s' (%s)",
                     g->nodes[i].name, vgi_op_name(g->nodes[i].op));
    g_no_gpu = vgi_cuda_device_count() == 0;
    /* fp32 and fp16; in the host emulation also without cuDNN (direct convolutions) */
    int passes = 2;
#ifdef VG_TESTS_CUDA_EMU_H
    passes        = 4;
    int live_base = vgi_emu_live_allocations(); /* a failed case before may have left some */
#endif
    for (int p = 0; p < passes && !g_no_gpu; p++) {
        memcpy(tc, tr, (size_t)nv * sizeof(vg_tensor));
        for (int v = 0; v < nv; v++)
            if (g->values[v].producer >= 0)
                tc[v].data = r.bufs[2 * v + 1];
        tg_run_poison(&r, g); /* NaN */
#ifdef VG_TESTS_CUDA_EMU_H
        vgi_emu_set_cudnn(p < 2);
#endif
        run_cuda(g, tr, tc, ext, p % 2 ? VGI_PRECISION_FP16 : VGI_PRECISION_FP32);
#ifdef VG_TESTS_CUDA_EMU_H
        VG_CHECK_MSG(vgi_emu_live_allocations() == live_base, "%d device allocations leaked",
                     vgi_emu_live_allocations() - live_base);
#endif
    }
    tg_run_free(&r);
    tg_free(t);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_conv(void) {
    static const struct {
        vgi_layout   l;
        vgi_pad_mode pm;
        int64_t      n, h, w, c, oc, k, s, dil, groups;
        vgi_act_kind act;
        float        a, b;
    } cs[] = {
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 17, 11, 13, 19, 3, 1, 1, 1, VGI_ACT_RELU6, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 18, 12, 13, 19, 3, 2, 1, 1, VGI_ACT_NONE, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 24, 22, 3, 16, 3, 2, 1, 1, VGI_ACT_RELU, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 3, 12, 9, 17, 17, 3, 1, 2, 1, VGI_ACT_LEAKY, 0.1f, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 2, 16, 12, 32, 32, 3, 1, 1, 1, VGI_ACT_RELU, 0, 0},
        {VGI_LAYOUT_NCHW, VGI_PAD_VALID, 1, 9, 10, 13, 21, 1, 1, 1, 1, VGI_ACT_SILU, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 1, 15, 13, 13, 13, 3, 1, 1, 13, VGI_ACT_RELU6, 0, 0},
        {VGI_LAYOUT_NHWC, VGI_PAD_SAME_UPPER, 3, 16, 14, 13, 26, 3, 2, 1, 13, VGI_ACT_HARD_SWISH, 0,
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
        if (cs[i].pm == VGI_PAD_EXPLICIT && i == 3) {
            at.conv.pads[0] = 2, at.conv.pads[1] = 1, at.conv.pads[2] = 1, at.conv.pads[3] = 2;
        } else if (cs[i].pm == VGI_PAD_EXPLICIT) {
            at.conv.pads[0] = at.conv.pads[1] = at.conv.pads[2] = at.conv.pads[3] = 1;
        }
        tg_output(&t, tg_add_conv(&t, "conv", x, cs[i].c, cs[i].oc, &at, i != 5));
        tg_check(&t);
    }
    gpu_part_done();
}

static void test_deconv(void) {
    static const struct {
        vgi_layout l;
        int64_t    c, oc, k, s, pad, opad, groups;
    } cs[] = {
        {VGI_LAYOUT_NCHW, 13, 8, 4, 2, 1, 0, 1},
        {VGI_LAYOUT_NCHW, 12, 6, 3, 2, 1, 1, 3},
        {VGI_LAYOUT_NHWC, 13, 9, 2, 2, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        tg t;
        tg_init(&t);
        int64_t d[4] = {2, 7, 5, cs[i].c};
        if (cs[i].l == VGI_LAYOUT_NCHW)
            d[1] = cs[i].c, d[2] = 7, d[3] = 5;
        int       x  = tg_input(&t, "x", 4, d);
        vgi_attrs at = tg_conv_attr(cs[i].l, VGI_PAD_EXPLICIT, cs[i].k, cs[i].s, 1, cs[i].groups,
                                    i == 0 ? VGI_ACT_RELU : VGI_ACT_NONE, 0, 0);
        for (int k = 0; k < 4; k++)
            at.conv.pads[k] = cs[i].pad;
        at.conv.output_padding[0] = at.conv.output_padding[1] = cs[i].opad;
        int64_t wd[4] = {cs[i].c, cs[i].oc / cs[i].groups, cs[i].k, cs[i].k}, bd[1] = {cs[i].oc};
        int     in[3] = {x, tg_const(&t, "w", 4, wd, 0.3f), tg_const(&t, "b", 1, bd, 0.5f)};
        tg_output(&t, tg_node(&t, VGI_OP_CONV_TRANSPOSE, "deconv", in, 3, &at));
        tg_check(&t);
    }
    gpu_part_done();
}

/* HRNet-like block (NCHW): conv+relu, conv, residual add, relu, a strided branch, nearest
 * upsampling back and a fuse add; and a YOLO-like tail: max pool, concat, sigmoid. */
static void test_chain(void) {
    for (int batch = 1; batch <= 3; batch += 2) {
        tg        t;
        vgi_attrs none;
        memset(&none, 0, sizeof(none));
        tg_init(&t);
        int64_t   d[4] = {batch, 16, 24, 18};
        int       x    = tg_input(&t, "x", 4, d);
        vgi_attrs c3r =
            tg_conv_attr(VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 3, 1, 1, 1, VGI_ACT_RELU, 0, 0);
        vgi_attrs c3 =
            tg_conv_attr(VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 3, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        vgi_attrs c3s2 =
            tg_conv_attr(VGI_LAYOUT_NCHW, VGI_PAD_EXPLICIT, 3, 2, 1, 1, VGI_ACT_RELU, 0, 0);
        vgi_attrs c1 = tg_conv_attr(VGI_LAYOUT_NCHW, VGI_PAD_VALID, 1, 1, 1, 1, VGI_ACT_NONE, 0, 0);
        for (int k = 0; k < 4; k++)
            c3r.conv.pads[k] = c3.conv.pads[k] = c3s2.conv.pads[k] = 1;
        int       a      = tg_add_conv(&t, "a", x, 16, 16, &c3r, true);
        int       b      = tg_add_conv(&t, "b", a, 16, 16, &c3, true);
        int       in2[2] = {b, x};
        int       r      = tg_node(&t, VGI_OP_ADD, "res", in2, 2, NULL);
        int       in1[1] = {r};
        int       rr     = tg_node(&t, VGI_OP_RELU, "relu", in1, 1, NULL);
        int       low    = tg_add_conv(&t, "down", rr, 16, 32, &c3s2, true);
        int       lo1    = tg_add_conv(&t, "low1x1", low, 32, 16, &c1, true);
        vgi_attrs up;
        memset(&up, 0, sizeof(up));
        up.resize.layout    = VGI_LAYOUT_NCHW;
        up.resize.mode      = VGI_RESIZE_NEAREST;
        up.resize.coord     = VGI_COORD_ASYMMETRIC;
        up.resize.nearest   = VGI_NEAREST_FLOOR;
        up.resize.scales[0] = up.resize.scales[1] = 2.0f;
        int       in1b[1]                         = {lo1};
        int       u                               = tg_node(&t, VGI_OP_RESIZE, "up", in1b, 1, &up);
        int       in2b[2]                         = {rr, u};
        int       fuse                            = tg_node(&t, VGI_OP_ADD, "fuse", in2b, 2, NULL);
        vgi_attrs mp;
        memset(&mp, 0, sizeof(mp));
        mp.pool.layout    = VGI_LAYOUT_NCHW;
        mp.pool.pad_mode  = VGI_PAD_EXPLICIT;
        mp.pool.kernel[0] = mp.pool.kernel[1] = 5;
        mp.pool.strides[0] = mp.pool.strides[1] = 1;
        mp.pool.dilations[0] = mp.pool.dilations[1] = 1;
        for (int k = 0; k < 4; k++)
            mp.pool.pads[k] = 2;
        int       in1c[1] = {fuse};
        int       p       = tg_node(&t, VGI_OP_MAX_POOL, "pool", in1c, 1, &mp);
        int       cc[3]   = {p, fuse, rr};
        vgi_attrs ax;
        memset(&ax, 0, sizeof(ax));
        ax.axis.axis = 1;
        int cat      = tg_node(&t, VGI_OP_CONCAT, "cat", cc, 3, &ax);
        int in1d[1]  = {cat};
        tg_output(&t, tg_node(&t, VGI_OP_SIGMOID, "sig", in1d, 1, NULL));
        tg_output(&t, low); /* an inner value that is also a graph output */
        tg_check(&t);
    }
    gpu_part_done();
}

static void test_pool_resize(void) {
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
        tg_check(&t);
    }
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
            a.resize.nearest = VGI_NEAREST_FLOOR;
            int in[2]        = {x, sv};
            tg_output(&t, tg_node(&t, VGI_OP_RESIZE, "resize", in, 2, &a));
            tg_check(&t);
        }
    gpu_part_done();
}

static void test_elementwise(void) {
    static const vgi_op  ops[]      = {VGI_OP_ADD, VGI_OP_SUB,          VGI_OP_MUL,
                                       VGI_OP_DIV, VGI_OP_MAX,          VGI_OP_MIN,
                                       VGI_OP_POW, VGI_OP_SQUARED_DIFF, VGI_OP_PRELU};
    static const int64_t other[][4] = {{3, 7, 5, 13}, {1, 1, 1, 13}, {1, 7, 5, 1}, {1, 1, 1, 1}};
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
        for (int s = 0; s < 4; s++) {
            tg t;
            tg_init(&t);
            int64_t d[4] = {3, 7, 5, 13};
            int     x    = tg_input(&t, "x", 4, d);
            int y = s == 1 ? tg_input(&t, "y", 1, &other[1][3]) : tg_input(&t, "y", 4, other[s]);
            int in1[1] = {x}, in[2] = {x, y};
            if (ops[o] == VGI_OP_POW) /* positive base */
                in[0] = tg_node(&t, VGI_OP_EXP, "exp", in1, 1, NULL);
            if (ops[o] == VGI_OP_ADD && s == 1)
                in[0] = y, in[1] = x;
            tg_output(&t, tg_node(&t, ops[o], "bin", in, 2, NULL));
            tg_check(&t);
        }
    static const vgi_op un[] = {
        VGI_OP_RELU, VGI_OP_RELU6,      VGI_OP_SIGMOID, VGI_OP_TANH,        VGI_OP_EXP,
        VGI_OP_ABS,  VGI_OP_NEG,        VGI_OP_ERF,     VGI_OP_HARD_SWISH,  VGI_OP_SILU,
        VGI_OP_CLIP, VGI_OP_LEAKY_RELU, VGI_OP_ELU,     VGI_OP_HARD_SIGMOID};
    tg t;
    tg_init(&t);
    int64_t d[3] = {3, 19, 13};
    int     x    = tg_input(&t, "x", 3, d);
    for (size_t i = 0; i < sizeof(un) / sizeof(un[0]); i++) {
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.unary.alpha = un[i] == VGI_OP_CLIP ? -0.4f : 0.2f;
        a.unary.beta  = un[i] == VGI_OP_CLIP ? 0.6f : 0.5f;
        int in[1]     = {x};
        tg_output(&t, tg_node(&t, un[i], vgi_op_name(un[i]), in, 1, &a));
    }
    int64_t one[1] = {1};
    int     c      = tg_const(&t, "c", 1, one, 1.0f);
    int     an[3]  = {x, c, x};
    tg_output(&t, tg_node(&t, VGI_OP_ADD_N, "add_n", an, 3, NULL));
    tg_check(&t);
    gpu_part_done();
}

static void test_movement(void) {
    tg t;
    tg_init(&t);
    int64_t   d[4] = {2, 13, 7, 5};
    int       x    = tg_input(&t, "x", 4, d);
    int       y    = tg_input(&t, "y", 4, d);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    /* split into 3 + 6 + 4 channels, then concat in another order */
    int64_t two[1]   = {3};
    int32_t sizes[3] = {3, 6, 4};
    int     sv       = tg_const_i32(&t, "sizes", 1, two, sizes);
    a.split.axis     = 1;
    int in2[2]       = {x, sv};
    int sp           = tg_node_n(&t, VGI_OP_SPLIT, "split", in2, 2, 3, &a);
    int p0 = t.g->nodes[sp].out[0], p1 = t.g->nodes[sp].out[1], p2 = t.g->nodes[sp].out[2];
    memset(&a, 0, sizeof(a));
    a.axis.axis = 1;
    int cc[4]   = {p2, y, p0, p1};
    tg_output(&t, tg_node(&t, VGI_OP_CONCAT, "concat", cc, 4, &a));
    /* transpose to NHWC */
    memset(&a, 0, sizeof(a));
    a.transpose.n       = 4;
    a.transpose.perm[0] = 0, a.transpose.perm[1] = 2, a.transpose.perm[2] = 3,
    a.transpose.perm[3] = 1;
    int in1[1]          = {x};
    tg_output(&t, tg_node(&t, VGI_OP_TRANSPOSE, "transpose", in1, 1, &a));
    /* ONNX slice: channels 1..12 step 2, width reversed */
    int64_t n2[1] = {2};
    int32_t st[2] = {1, -1}, en[2] = {12, -100}, axs[2] = {1, 3}, stp[2] = {2, -1};
    int     sl[5] = {x, tg_const_i32(&t, "starts", 1, n2, st), tg_const_i32(&t, "ends", 1, n2, en),
                     tg_const_i32(&t, "axes", 1, n2, axs), tg_const_i32(&t, "steps", 1, n2, stp)};
    tg_output(&t, tg_node(&t, VGI_OP_SLICE, "slice", sl, 5, NULL));
    /* constant pad (ONNX order) with a value */
    memset(&a, 0, sizeof(a));
    a.pad.mode       = VGI_PADFILL_CONSTANT;
    a.pad.onnx_order = true;
    a.pad.value      = -2.5f;
    int64_t n8[1]    = {8};
    int32_t pads[8]  = {0, 1, 2, 0, 1, 0, 1, 3};
    int     pd[2]    = {y, tg_const_i32(&t, "pads", 1, n8, pads)};
    tg_output(&t, tg_node(&t, VGI_OP_PAD, "pad", pd, 2, &a));
    /* tile and expand */
    int64_t n4[1]   = {4};
    int32_t mult[4] = {1, 2, 1, 3};
    int     ti[2]   = {x, tg_const_i32(&t, "mult", 1, n4, mult)};
    tg_output(&t, tg_node(&t, VGI_OP_TILE, "tile", ti, 2, NULL));
    int64_t cd[3]   = {13, 1, 5};
    int     cv      = tg_input(&t, "cv", 3, cd);
    int32_t shp5[4] = {2, 13, 7, 5};
    int     ex[2]   = {cv, tg_const_i32(&t, "shape", 1, n4, shp5)};
    tg_output(&t, tg_node(&t, VGI_OP_EXPAND, "expand", ex, 2, NULL));
    /* pack on a new axis 2, unpack axis 0 */
    memset(&a, 0, sizeof(a));
    a.axis.axis = 2;
    int pk[2]   = {x, y};
    tg_output(&t, tg_node(&t, VGI_OP_PACK, "pack", pk, 2, &a));
    a.axis.axis = 0;
    int up      = tg_node_n(&t, VGI_OP_UNPACK, "unpack", in1, 1, 2, &a);
    tg_output(&t, t.g->nodes[up].out[1]);
    tg_check(&t);
    gpu_part_done();
}

static void test_rows(void) {
    tg t;
    tg_init(&t);
    int64_t   d[4]   = {2, 13, 7, 5};
    int       x      = tg_input(&t, "x", 4, d);
    int       in1[1] = {x};
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axis.axis = -1;
    tg_output(&t, tg_node(&t, VGI_OP_SOFTMAX, "softmax", in1, 1, &a));
    a.axis.axis = 1;
    tg_output(&t, tg_node(&t, VGI_OP_LOG_SOFTMAX, "log_softmax", in1, 1, &a));
    static const vgi_op red[] = {VGI_OP_REDUCE_MEAN, VGI_OP_REDUCE_SUM, VGI_OP_REDUCE_MAX,
                                 VGI_OP_REDUCE_MIN, VGI_OP_REDUCE_PROD};
    for (int i = 0; i < 5; i++) {
        memset(&a, 0, sizeof(a));
        a.axes.n        = i == 4 ? 1 : 2;
        a.axes.axes[0]  = i == 4 ? 3 : 2;
        a.axes.axes[1]  = 3;
        a.axes.keepdims = i % 2 == 0;
        tg_output(&t, tg_node(&t, red[i], vgi_op_name(red[i]), in1, 1, &a));
    }
    memset(&a, 0, sizeof(a));
    a.arg.axis      = 1;
    a.arg.out_dtype = VG_DTYPE_I64;
    tg_output(&t, tg_node(&t, VGI_OP_ARGMAX, "argmax", in1, 1, &a));
    a.arg.out_dtype   = VG_DTYPE_I32;
    a.arg.select_last = true;
    tg_output(&t, tg_node(&t, VGI_OP_ARGMIN, "argmin", in1, 1, &a));
    tg_check(&t);
    gpu_part_done();
}

static void test_matmul(void) {
    tg t;
    tg_init(&t);
    int64_t ad[3] = {2, 5, 13}, bd[2] = {13, 7}, b3[3] = {2, 13, 7};
    int     a     = tg_input(&t, "a", 3, ad);
    int     b     = tg_const(&t, "b", 2, bd, 0.3f);
    int     bb    = tg_input(&t, "bb", 3, b3);
    int     in[2] = {a, b};
    tg_output(&t, tg_node(&t, VGI_OP_MATMUL, "mm_shared", in, 2, NULL));
    int in2[2] = {a, bb};
    tg_output(&t, tg_node(&t, VGI_OP_MATMUL, "mm_batched", in2, 2, NULL));
    for (int tr = 0; tr < 4; tr++) {
        int64_t A[2] = {tr & 1 ? 11 : 6, tr & 1 ? 6 : 11},
                B[2] = {tr & 2 ? 9 : 11, tr & 2 ? 11 : 9};
        int64_t C[1] = {9};
        char    an[16], bn[16], cn[16], gn[16];
        snprintf(an, sizeof(an), "A%d", tr);
        snprintf(bn, sizeof(bn), "B%d", tr);
        snprintf(cn, sizeof(cn), "C%d", tr);
        snprintf(gn, sizeof(gn), "gemm%d", tr);
        vgi_attrs g;
        memset(&g, 0, sizeof(g));
        g.gemm.trans_a = tr & 1;
        g.gemm.trans_b = (tr & 2) != 0;
        g.gemm.alpha   = 0.5f;
        g.gemm.beta    = 2.0f;
        int gi[3]      = {tg_input(&t, an, 2, A), tg_const(&t, bn, 2, B, 0.5f),
                          tg_const(&t, cn, 1, C, 1.0f)};
        tg_output(&t, tg_node(&t, VGI_OP_GEMM, gn, gi, 3, &g));
    }
    tg_check(&t);
    gpu_part_done();
}

static const vg_test_case cases[] = {
    {"conv: layouts, pads, strides, dilation, groups, activations", test_conv},
    {"transposed conv", test_deconv},
    {"conv chains with residuals, resize, pool, concat (values stay on the device)", test_chain},
    {"pooling and resizing", test_pool_resize},
    {"elementwise with broadcasting, unary ops, add_n", test_elementwise},
    {"split, concat, transpose, slice, pad, tile, expand, pack, unpack", test_movement},
    {"softmax, reductions, arg-max", test_rows},
    {"matmul and gemm (cuBLAS)", test_matmul},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    tg_seed(11);
    return vg_test_main(argc, argv, cases);
}
