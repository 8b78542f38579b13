/*
 * cuda_host_test.c - the cuda backend's host-side logic, on any machine (no GPU needed).
 *
 * - Device-memory planning: buffers whose lifetimes overlap never share bytes,
 *   offsets are aligned, disjoint lifetimes reuse memory.
 * - Broadcast stride tables and dim merging: every output element's operand
 *   offsets equal numpy broadcasting computed naively.
 * - The element math the kernels run (compiled here for the host from the same
 *   header): activations, unary and binary ops, pooling windows, resize with
 *   the host-built coordinate tables, and the direct convolution (with the
 *   asymmetric-padding split and the OHWI weight layout the backend uses),
 *   each compared with the ref backend's kernel, the oracle, on random data
 *   with awkward shapes; f16 storage is checked against ref run on the
 *   f16-rounded input.
 * - Creating the backend without a GPU fails with VG_E_DEVICE and a message
 *   saying what to do (on a GPU machine: creation succeeds).
 * Tolerances: float math against ref's double math: |d| <= 1e-5 + 1e-5 |ref|
 * (2e-4 relative for transcendental unary ops and pow, whose float versions
 * differ by a few ulp; 1e-4 + 1e-4 |ref| for sums of up to ~300 products).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_impl.h"
#include "backends/ref/ref_impl.h"
#include "engine/ir.h"
#include "test.h"
#include "test_graph.h"

static unsigned g_seed = 7;

static unsigned urand(void) {
    g_seed = g_seed * 1103515245u + 12345u;
    return (g_seed >> 8) & 0xffffff;
}

static float frand(void) {
    return (float)(urand() & 0xffff) / 32768.0f - 1.0f;
}

static int irand(int lo, int hi) {
    return lo + (int)(urand() % (unsigned)(hi - lo + 1));
}

static void check_close(double got, double want, double atol, double rtol, const char *what,
                        int64_t i) {
    bool both_nan = isnan(got) && isnan(want);
    if (!both_nan && !(fabs(got - want) <= atol + rtol * fabs(want)))
        vg_test_fail(__FILE__, __LINE__, "%s: element %lld: got %.9g, ref %.9g", what, (long long)i,
                     got, want);
}

/* ---- memory planning ------------------------------------------------------------------- */

static void test_mem_plan(void) {
    enum { N = 300 };
    vgi_cuda_buf b[N];
    for (int i = 0; i < N; i++) {
        b[i].first = irand(0, 60);
        b[i].last  = b[i].first + irand(0, 8);
        b[i].bytes = (size_t)irand(1, 5000);
    }
    size_t total = 0;
    VG_CHECK_OK(vgi_cuda_mem_plan(b, N, 256, &total));
    size_t sum = 0;
    for (int i = 0; i < N; i++) {
        VG_CHECK(b[i].offset % 256 == 0);
        VG_CHECK(b[i].offset + b[i].bytes <= total);
        sum += b[i].bytes;
        for (int j = 0; j < i; j++) {
            bool live = b[i].first <= b[j].last && b[j].first <= b[i].last;
            bool mem =
                b[i].offset < b[j].offset + b[j].bytes && b[j].offset < b[i].offset + b[i].bytes;
            VG_CHECK_MSG(!(live && mem), "buffers %d and %d overlap in time and memory", i, j);
        }
    }
    VG_CHECK_MSG(total < sum, "no reuse: %zu bytes for %zu bytes of buffers", total, sum);

    /* a chain a -> b -> c: a and c may share, b may not share with either */
    vgi_cuda_buf c[3] = {{1000, 1, 2, 0}, {1000, 2, 3, 0}, {1000, 3, 4, 0}};
    VG_CHECK_OK(vgi_cuda_mem_plan(c, 3, 256, &total));
    VG_CHECK_INT_EQ(total, 2048);
    VG_CHECK_INT_EQ(c[0].offset, c[2].offset);
    VG_CHECK_OK(vgi_cuda_mem_plan(c, 0, 256, &total));
    VG_CHECK_INT_EQ(total, 0);
}

/* ---- broadcasting ----------------------------------------------------------------------- */

static void naive_offsets(const vg_shape *o, const vg_shape *a, int64_t i, int64_t *off) {
    int64_t idx[VG_MAX_DIMS];
    for (int d = o->ndim - 1; d >= 0; d--) {
        idx[d] = i % o->dims[d];
        i /= o->dims[d];
    }
    *off = 0;
    for (int d = 0; d < a->ndim; d++) {
        int od = o->ndim - a->ndim + d;
        *off   = *off * a->dims[d] + (a->dims[d] == 1 ? 0 : idx[od]);
    }
}

static void test_bcast(void) {
    for (int trial = 0; trial < 400; trial++) {
        int     r = irand(1, 6);
        int64_t od[VG_MAX_DIMS], ad[VG_MAX_DIMS], bd[VG_MAX_DIMS];
        for (int d = 0; d < r; d++)
            od[d] = irand(1, 4);
        int ra = irand(0, r), rb = irand(0, r);
        for (int d = 0; d < ra; d++)
            ad[d] = irand(0, 2) ? od[r - ra + d] : 1;
        for (int d = 0; d < rb; d++)
            bd[d] = irand(0, 2) ? od[r - rb + d] : 1;
        vg_shape as = tg_shape(ra, ad), bs = tg_shape(rb, bd), os;
        VG_CHECK_OK(vgi_broadcast_shape(&as, &bs, &os));
        vgi_cu_nd nd;
        vgi_cuda_bcast_nd(&os, &as, &bs, 2, &nd);
        VG_CHECK(nd.nd >= 1 && nd.nd <= os.ndim + 1);
        int64_t n = vg_shape_numel(&os), cnt = 1;
        for (int d = 0; d < nd.nd; d++)
            cnt *= nd.dims[d];
        VG_CHECK_INT_EQ(cnt, n);
        for (int64_t i = 0; i < n; i++) {
            int64_t off[3], oa, ob;
            vgi_cu_nd_offsets(&nd, 3, i, off);
            naive_offsets(&os, &as, i, &oa);
            naive_offsets(&os, &bs, i, &ob);
            VG_CHECK_INT_EQ(off[0], i);
            VG_CHECK_INT_EQ(off[1], oa);
            VG_CHECK_INT_EQ(off[2], ob);
        }
    }
    /* an NCHW output stored NHWC plus a plain and a per-channel operand: sorted by the
     * output's strides, every element still lands where the strides say */
    for (int trial = 0; trial < 50; trial++) {
        int64_t   N = irand(1, 3), C = irand(1, 9), H = irand(1, 6), W = irand(1, 6);
        int64_t   dims[4] = {N, C, H, W}, chd[4] = {1, C, 1, 1};
        vg_shape  os = tg_shape(4, dims), cs = tg_shape(4, chd);
        int64_t   ost[4] = {H * W * C, 1, W * C, C}, pst[4] = {C * H * W, H * W, W, 1};
        int64_t   cst[4] = {C, 1, 1, 1};
        vgi_cu_nd nd;
        memset(&nd, 0, sizeof(nd));
        nd.nd = 4;
        for (int d = 0; d < 4; d++) {
            nd.dims[d]  = dims[d];
            nd.st[0][d] = ost[d];
        }
        vgi_cuda_bcast_st(&os, pst, &os, nd.st[1]);
        vgi_cuda_bcast_st(&cs, cst, &os, nd.st[2]);
        vgi_cuda_nd_sort(&nd, 3);
        int64_t n = N * C * H * W;
        for (int64_t i = 0; i < n; i++) {
            int64_t off[3];
            vgi_cu_nd_offsets(&nd, 3, i, off);
            VG_CHECK_INT_EQ(off[0], i); /* the output is walked in memory order */
            int64_t c = off[0] % C, w = off[0] / C % W, h = off[0] / (C * W) % H,
                    b = off[0] / (C * W * H);
            VG_CHECK_INT_EQ(off[1], ((b * C + c) * H + h) * W + w);
            VG_CHECK_INT_EQ(off[2], c);
        }
    }
    /* same shapes collapse to one dim; a per-channel operand to three or fewer */
    int64_t   d4[4] = {2, 3, 5, 7}, c4[4] = {1, 3, 1, 1};
    vg_shape  s4 = tg_shape(4, d4), sc = tg_shape(4, c4);
    vgi_cu_nd nd;
    vgi_cuda_bcast_nd(&s4, &s4, &s4, 2, &nd);
    VG_CHECK_INT_EQ(nd.nd, 1);
    VG_CHECK_INT_EQ(nd.dims[0], 210);
    vgi_cuda_bcast_nd(&s4, &s4, &sc, 2, &nd);
    VG_CHECK_INT_EQ(nd.nd, 3);
    VG_CHECK_INT_EQ(vgi_cu_blocks(0, 256, 100), 1);
    VG_CHECK_INT_EQ(vgi_cu_blocks(257, 256, 100), 2);
    VG_CHECK_INT_EQ(vgi_cu_blocks(1000000, 256, 100), 100);
}

/* ---- element math against ref ------------------------------------------------------------------
 */

/* Runs one ref node with inputs ins (float32, shapes s) into out (shape os). */
static void ref_node(vgi_op op, const vgi_attrs *attr, int n_in, const vg_shape *s,
                     float *const *ins, const vg_shape *os, float *out) {
    vg_tensor t[4];
    int       in_ids[3] = {0, 1, 2}, out_id = n_in;
    for (int i = 0; i < n_in; i++)
        t[i] = vg_tensor_make(VG_DTYPE_F32, s[i].ndim, s[i].dims, ins[i]);
    t[n_in] = vg_tensor_make(VG_DTYPE_F32, os->ndim, os->dims, out);
    vgi_node n;
    memset(&n, 0, sizeof(n));
    n.op    = op;
    n.name  = (char *)"t";
    n.n_in  = n_in;
    n.in    = in_ids;
    n.n_out = 1;
    n.out   = &out_id;
    if (attr)
        n.attr = *attr;
    vgi_err err;
    memset(&err, 0, sizeof(err));
    vg_status st = vgi_ref_run_node(NULL, &n, t, &err);
    VG_CHECK_MSG(st == VG_OK, "ref %s: %s", vgi_op_name(op), err.msg);
}

static void test_unary_binary(void) {
    enum { N = 257 };
    float    x[N], y[N], r[N];
    int64_t  dn[1] = {N};
    vg_shape s[2]  = {tg_shape(1, dn), tg_shape(1, dn)};
    for (int op = 1; op < VGI_OP_COUNT; op++) {
        int kind;
        if (!vgi_cuda_unary_kind((vgi_op)op, &kind) || op == VGI_OP_IDENTITY)
            continue;
        bool positive = op == VGI_OP_LOG || op == VGI_OP_SQRT || op == VGI_OP_RSQRT;
        for (int i = 0; i < N; i++) {
            x[i] = frand() * 5.0f;
            if (positive)
                x[i] = fabsf(x[i]) + 0.01f;
        }
        x[0] = 0.5f, x[1] = -0.5f, x[2] = 2.5f; /* rounding ties */
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.unary.alpha = op == VGI_OP_CLIP ? -1.5f : 0.2f;
        a.unary.beta  = op == VGI_OP_CLIP ? 2.0f : 0.5f;
        float *ins[1] = {x};
        ref_node((vgi_op)op, &a, 1, s, ins, &s[0], r);
        bool transc = op == VGI_OP_SIGMOID || op == VGI_OP_TANH || op == VGI_OP_EXP ||
                      op == VGI_OP_LOG || op == VGI_OP_ERF || op == VGI_OP_SILU ||
                      op == VGI_OP_ELU || op == VGI_OP_RSQRT;
        for (int i = 0; i < N; i++)
            check_close(vgi_cu_act_apply(kind, a.unary.alpha, a.unary.beta, x[i]), r[i], 1e-6,
                        transc ? 2e-6 : 1e-7, vgi_op_name((vgi_op)op), i);
    }
    for (int op = 1; op < VGI_OP_COUNT; op++) {
        int kind;
        if (!vgi_cuda_binary_kind((vgi_op)op, &kind))
            continue;
        for (int i = 0; i < N; i++) {
            x[i] = frand() * 4.0f;
            y[i] = frand() * 4.0f;
            if (op == VGI_OP_POW)
                x[i] = fabsf(x[i]) + 0.1f;
            if (fabsf(y[i]) < 0.05f)
                y[i] = 0.5f;
        }
        x[3] = NAN; /* max/min propagate NaN */
        if (op == VGI_OP_POW)
            x[3] = 1.0f;
        float *ins[2] = {x, y};
        ref_node((vgi_op)op, NULL, 2, s, ins, &s[0], r);
        for (int i = 0; i < N; i++)
            check_close(vgi_cu_bin_apply(kind, x[i], y[i]), r[i], 1e-6,
                        op == VGI_OP_POW ? 2e-6 : 1e-7, vgi_op_name((vgi_op)op), i);
    }
    for (int kind = VGI_ACT_NONE; kind <= VGI_ACT_ELU; kind++) {
        vgi_act act = {(vgi_act_kind)kind, 0.1f, 0.9f};
        int     ck;
        VG_CHECK(vgi_cuda_act_kind(act.kind, &ck));
        if (kind == VGI_ACT_CLIP)
            act.a = -0.5f;
        for (int i = 0; i < N; i++) {
            float v = frand() * 6.0f;
            check_close(vgi_cu_act_apply(ck, act.a, act.b, v), vgi_act_apply(&act, v), 1e-6, 2e-6,
                        "act", i);
        }
    }
}

static void test_f16_bits(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float a = vgi_cu_h2f_bits((uint16_t)h), b = vg_f16_to_f32((uint16_t)h);
        VG_CHECK_MSG((isnan(a) && isnan(b)) || a == b, "f16 %04x: %g vs %g", h, a, b);
    }
}

/* Rounds a float buffer through f16; fills h with the bits. */
static void to_f16(const float *x, int64_t n, uint16_t *h, float *xr) {
    for (int64_t i = 0; i < n; i++) {
        h[i]  = vg_f32_to_f16(x[i]);
        xr[i] = vg_f16_to_f32(h[i]);
    }
}

/* ---- pooling ------------------------------------------------------------------------------ */

static void test_pool(void) {
    for (int trial = 0; trial < 120; trial++) {
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        vgi_pool_attr *p = &a.pool;
        p->layout        = irand(0, 1) ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
        p->kernel[0]     = irand(1, 4);
        p->kernel[1]     = irand(1, 4);
        p->strides[0]    = irand(1, 3);
        p->strides[1]    = irand(1, 3);
        p->dilations[0]  = irand(0, 2);
        p->dilations[1]  = irand(1, 2);
        p->pad_mode      = irand(0, 1) ? VGI_PAD_SAME_UPPER : VGI_PAD_EXPLICIT;
        for (int i = 0; i < 4; i++)
            p->pads[i] = irand(0, 1) ? irand(0, (int)p->kernel[i % 2] - 1) : 0;
        p->count_include_pad = irand(0, 1);
        vgi_op  op           = irand(0, 1) ? VGI_OP_MAX_POOL : VGI_OP_AVG_POOL;
        int64_t N = irand(1, 2), C = irand(1, 13), H = irand(4, 11), W = irand(4, 11);
        int64_t dh = p->dilations[0] ? p->dilations[0] : 1, dw = p->dilations[1];
        int64_t keff[2] = {(p->kernel[0] - 1) * dh + 1, (p->kernel[1] - 1) * dw + 1}, pads[4];
        vgi_resolve_pads(p->pad_mode, p->pads, H, W, keff, p->strides, pads);
        int64_t OH = (H + pads[0] + pads[2] - keff[0]) / p->strides[0] + 1;
        int64_t OW = (W + pads[1] + pads[3] - keff[1]) / p->strides[1] + 1;
        if (OH < 1 || OW < 1)
            continue;
        bool     nchw  = p->layout == VGI_LAYOUT_NCHW;
        int64_t  xd[4] = {N, nchw ? C : H, nchw ? H : W, nchw ? W : C};
        int64_t  yd[4] = {N, nchw ? C : OH, nchw ? OH : OW, nchw ? OW : C};
        vg_shape xs = tg_shape(4, xd), ys = tg_shape(4, yd);
        int64_t  xn = vg_shape_numel(&xs), yn = vg_shape_numel(&ys);
        float   *x = malloc((size_t)xn * 4), *xr = malloc((size_t)xn * 4),
              *r = malloc((size_t)yn * 4), *r16 = malloc((size_t)yn * 4);
        uint16_t *h = malloc((size_t)xn * 2);
        VG_CHECK(x && xr && r && r16 && h);
        for (int64_t i = 0; i < xn; i++)
            x[i] = frand();
        if (trial % 7 == 0)
            x[irand(0, (int)xn - 1)] = NAN;
        to_f16(x, xn, h, xr);
        float *ins[1] = {x}, *ins16[1] = {xr};
        ref_node(op, &a, 1, &xs, ins, &ys, r);
        ref_node(op, &a, 1, &xs, ins16, &ys, r16);
        vgi_cu_pool_args pa;
        memset(&pa, 0, sizeof(pa));
        pa.x = vgi_cuda_act4(&xs, p->layout), pa.y = vgi_cuda_act4(&ys, p->layout);
        pa.kh = p->kernel[0], pa.kw = p->kernel[1], pa.sh = p->strides[0], pa.sw = p->strides[1];
        pa.dh = dh, pa.dw = dw, pa.pad_t = pads[0], pa.pad_l = pads[1], pa.pad_b = pads[2];
        pa.pad_r = pads[3], pa.is_max = op == VGI_OP_MAX_POOL;
        pa.count_include_pad = p->count_include_pad;
        for (int64_t i = 0; i < yn; i++) {
            int64_t b, c, oh, ow;
            vgi_cu_split4(&pa.y, i, &b, &c, &oh, &ow);
            int64_t o = b * pa.y.sn + c * pa.y.sc + oh * pa.y.sh + ow * pa.y.sw;
            check_close(vgi_cu_pool_elem(&pa, VGI_CU_F32, x, b, c, oh, ow), r[o], 1e-6, 1e-6,
                        "pool f32", o);
            check_close(vgi_cu_pool_elem(&pa, VGI_CU_F16, h, b, c, oh, ow), r16[o], 1e-6, 1e-6,
                        "pool f16", o);
        }
        free(x), free(xr), free(r), free(r16), free(h);
    }
}

/* ---- resize ------------------------------------------------------------------------------- */

static void test_resize(void) {
    int64_t sizes[][4] = {{5, 7, 10, 14}, {8, 6, 4, 3}, {3, 3, 7, 1}, {6, 9, 6, 9}, {4, 4, 1, 9}};
    for (int sz = 0; sz < 5; sz++)
        for (int coord = 0; coord <= VGI_COORD_TF_HALF_PIXEL_NEAREST; coord++)
            for (int nm = 0; nm <= VGI_NEAREST_CEIL; nm++)
                for (int mode = 0; mode < 2; mode++)
                    for (int lay = 0; lay < 2; lay++) {
                        vgi_attrs a;
                        memset(&a, 0, sizeof(a));
                        a.resize.layout  = lay ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
                        a.resize.mode    = mode ? VGI_RESIZE_BILINEAR : VGI_RESIZE_NEAREST;
                        a.resize.coord   = (vgi_resize_coord)coord;
                        a.resize.nearest = (vgi_nearest_mode)nm;
                        int64_t H = sizes[sz][0], W = sizes[sz][1], OH = sizes[sz][2],
                                OW = sizes[sz][3], C = 3, N = 2;
                        int64_t  xd[4] = {N, lay ? C : H, lay ? H : W, lay ? W : C};
                        int64_t  yd[4] = {N, lay ? C : OH, lay ? OH : OW, lay ? OW : C};
                        vg_shape xs = tg_shape(4, xd), ys = tg_shape(4, yd);
                        int64_t  xn = vg_shape_numel(&xs), yn = vg_shape_numel(&ys);
                        float    x[4 * 2 * 3 * 81], r[2 * 3 * 14 * 14];
                        for (int64_t i = 0; i < xn; i++)
                            x[i] = frand();
                        float *ins[1] = {x};
                        ref_node(VGI_OP_RESIZE, &a, 1, &xs, ins, &ys, r);
                        int32_t ri[14 * 3], ci[14 * 3];
                        float   rw[14], cw[14];
                        vgi_cuda_resize_axis(a.resize.coord, a.resize.nearest, H, OH,
                                             (double)H / (double)OH, ri, rw);
                        vgi_cuda_resize_axis(a.resize.coord, a.resize.nearest, W, OW,
                                             (double)W / (double)OW, ci, cw);
                        vgi_cu_resize_args ra;
                        ra.x       = vgi_cuda_act4(&xs, a.resize.layout);
                        ra.y       = vgi_cuda_act4(&ys, a.resize.layout);
                        ra.nearest = !mode;
                        ra.row = ri, ra.wy = rw, ra.col = ci, ra.wx = cw;
                        for (int64_t i = 0; i < yn; i++) {
                            int64_t b, c, oh, ow;
                            vgi_cu_split4(&ra.y, i, &b, &c, &oh, &ow);
                            int64_t o = b * ra.y.sn + c * ra.y.sc + oh * ra.y.sh + ow * ra.y.sw;
                            check_close(vgi_cu_resize_elem(&ra, VGI_CU_F32, x, b, c, oh, ow), r[o],
                                        1e-6, 1e-5, "resize", o);
                        }
                    }
}

/* ---- convolution ------------------------------------------------------------------------------
 */

static void test_conv(void) {
    for (int trial = 0; trial < 80; trial++) {
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        vgi_conv_attr *p = &a.conv;
        p->layout        = irand(0, 1) ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
        int64_t G = irand(0, 2) == 0 ? 1 : irand(1, 3), cig = irand(1, 4), cog = irand(1, 3);
        bool    dw = trial % 5 == 0;
        if (dw)
            cig = 1, G = irand(2, 13);
        int64_t C = G * cig, O = G * cog, N = irand(1, 2), H = irand(3, 11), W = irand(3, 11);
        int64_t KH = irand(1, 3), KW = irand(1, 3);
        p->groups       = G;
        p->kernel[0]    = KH;
        p->kernel[1]    = KW;
        p->strides[0]   = irand(1, 2);
        p->strides[1]   = irand(1, 2);
        p->dilations[0] = irand(1, 2);
        p->dilations[1] = 1;
        int pm          = irand(0, 2);
        p->pad_mode = pm == 0 ? VGI_PAD_EXPLICIT : (pm == 1 ? VGI_PAD_SAME_UPPER : VGI_PAD_VALID);
        for (int i = 0; i < 4; i++)
            p->pads[i] = irand(0, 2);
        p->act.kind     = (vgi_act_kind)irand(0, VGI_ACT_ELU);
        p->act.a        = p->act.kind == VGI_ACT_CLIP ? -0.3f : 0.1f;
        p->act.b        = 0.7f;
        int64_t keff[2] = {(KH - 1) * p->dilations[0] + 1, (KW - 1) * p->dilations[1] + 1}, pads[4];
        vgi_resolve_pads(p->pad_mode, p->pads, H, W, keff, p->strides, pads);
        int64_t OH = (H + pads[0] + pads[2] - keff[0]) / p->strides[0] + 1;
        int64_t OW = (W + pads[1] + pads[3] - keff[1]) / p->strides[1] + 1;
        if (OH < 1 || OW < 1 || H + pads[0] + pads[2] < keff[0] || W + pads[1] + pads[3] < keff[1])
            continue;
        bool     nchw  = p->layout == VGI_LAYOUT_NCHW;
        int64_t  xd[4] = {N, nchw ? C : H, nchw ? H : W, nchw ? W : C};
        int64_t  yd[4] = {N, nchw ? O : OH, nchw ? OH : OW, nchw ? OW : O};
        int64_t  wd[4] = {O, cig, KH, KW}, bd[1] = {O};
        vg_shape s[3] = {tg_shape(4, xd), tg_shape(4, wd), tg_shape(1, bd)}, ys = tg_shape(4, yd);
        int64_t  xn = vg_shape_numel(&s[0]), wn = vg_shape_numel(&s[1]), yn = vg_shape_numel(&ys);
        float   *x = malloc((size_t)xn * 4), *w = malloc((size_t)wn * 4),
              *wo = malloc((size_t)wn * 4), *bias = malloc((size_t)O * 4),
              *r = malloc((size_t)yn * 4);
        VG_CHECK(x && w && wo && bias && r);
        for (int64_t i = 0; i < xn; i++)
            x[i] = frand();
        for (int64_t i = 0; i < wn; i++)
            w[i] = frand();
        for (int64_t i = 0; i < O; i++)
            bias[i] = frand();
        float *ins[3] = {x, w, bias};
        ref_node(VGI_OP_CONV, &a, 3, s, ins, &ys, r);

        /* the backend's plan: symmetric pads plus an explicit pre-pad of the input */
        vgi_cuda_conv_geom geom;
        VG_CHECK(vgi_cuda_conv_geom_make(p, H, W, KH, KW, OH, OW, &geom));
        for (int i = 0; i < 4; i++)
            VG_CHECK_INT_EQ(geom.pre[i] + geom.sym[i % 2], pads[i]);
        VG_CHECK(geom.pre[0] == 0 || geom.pre[2] == 0);
        int64_t     pd[4] = {N, nchw ? C : geom.in_h, nchw ? geom.in_h : geom.in_w,
                         nchw ? geom.in_w : C};
        vg_shape    ps    = tg_shape(4, pd);
        vgi_cu_act4 xa = vgi_cuda_act4(&s[0], p->layout), pa = vgi_cuda_act4(&ps, p->layout);
        float      *xp = calloc((size_t)vg_shape_numel(&ps), 4);
        VG_CHECK(xp);
        for (int64_t b = 0; b < N; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t hh = 0; hh < H; hh++)
                    for (int64_t ww = 0; ww < W; ww++)
                        xp[b * pa.sn + c * pa.sc + (hh + geom.pre[0]) * pa.sh +
                           (ww + geom.pre[1]) * pa.sw] =
                            x[b * xa.sn + c * xa.sc + hh * xa.sh + ww * xa.sw];
        vgi_cu_conv_args ca;
        memset(&ca, 0, sizeof(ca));
        ca.x = pa, ca.y = vgi_cuda_act4(&ys, p->layout);
        ca.kh = KH, ca.kw = KW, ca.sh = p->strides[0], ca.sw = p->strides[1];
        ca.dh = p->dilations[0], ca.dw = p->dilations[1];
        ca.pad_t = geom.sym[0], ca.pad_l = geom.sym[1], ca.groups = G;
        if (nchw) {
            memcpy(wo, w, (size_t)wn * 4);
            ca.wso = cig * KH * KW, ca.wsi = KH * KW, ca.wsh = KW, ca.wsw = 1;
        } else {
            vgi_cuda_weights_ohwi(w, O, cig, KH, KW, wo);
            ca.wso = KH * KW * cig, ca.wsh = KW * cig, ca.wsw = cig, ca.wsi = 1;
        }
        ca.w    = wo;
        ca.bias = bias;
        VG_CHECK(vgi_cuda_act_kind(p->act.kind, &ca.act));
        ca.act_a = p->act.a, ca.act_b = p->act.b;
        for (int64_t i = 0; i < yn; i++) {
            int64_t b, co, oh, ow;
            vgi_cu_split4(&ca.y, i, &b, &co, &oh, &ow);
            int64_t o = b * ca.y.sn + co * ca.y.sc + oh * ca.y.sh + ow * ca.y.sw;
            check_close(vgi_cu_conv_elem(&ca, VGI_CU_F32, xp, b, co, oh, ow), r[o], 1e-5, 1e-5,
                        "conv", o);
        }
        free(x), free(w), free(wo), free(bias), free(r), free(xp);
    }
    /* TF SAME, stride 2, even input: one extra row/column at the end, pre-padded */
    vgi_conv_attr c;
    memset(&c, 0, sizeof(c));
    c.pad_mode   = VGI_PAD_SAME_UPPER;
    c.strides[0] = c.strides[1] = 2;
    c.dilations[0] = c.dilations[1] = 1;
    vgi_cuda_conv_geom g;
    VG_CHECK(vgi_cuda_conv_geom_make(&c, 224, 224, 3, 3, 112, 112, &g));
    VG_CHECK_INT_EQ(g.sym[0], 0);
    VG_CHECK_INT_EQ(g.pre[2], 1);
    VG_CHECK_INT_EQ(g.in_h, 225);
    VG_CHECK(!vgi_cuda_conv_geom_make(&c, 224, 224, 3, 3, 113, 112, &g));
    /* symmetric pads need no copy */
    c.pad_mode = VGI_PAD_EXPLICIT;
    c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
    VG_CHECK(vgi_cuda_conv_geom_make(&c, 224, 224, 3, 3, 112, 112, &g));
    VG_CHECK(!g.pre[0] && !g.pre[1] && !g.pre[2] && !g.pre[3] && g.sym[0] == 1);
    /* transposed conv: stride 2, pad 1, k 4 doubles the size */
    c.pads[0] = c.pads[1] = 1;
    VG_CHECK(vgi_cuda_deconv_ok(&c, 16, 16, 4, 4, 32, 32));
    VG_CHECK(vgi_cuda_deconv_ok(&c, 16, 16, 4, 4, 33, 32)); /* output_padding 1 */
    VG_CHECK(!vgi_cuda_deconv_ok(&c, 16, 16, 4, 4, 35, 32));
}

/* Transposed convolution: the gather element against the ref kernel's scatter. */
static void test_deconv(void) {
    for (int trial = 0; trial < 60; trial++) {
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        vgi_conv_attr *p = &a.conv;
        p->layout        = irand(0, 1) ? VGI_LAYOUT_NCHW : VGI_LAYOUT_NHWC;
        int64_t G = irand(1, 2), cig = irand(1, 3), cog = irand(1, 3);
        int64_t C = G * cig, O = G * cog, N = irand(1, 2), H = irand(2, 6), W = irand(2, 6);
        int64_t KH = irand(1, 4), KW = irand(1, 3), S = irand(1, 3), D = irand(1, 2);
        p->groups    = G;
        p->kernel[0] = KH, p->kernel[1] = KW;
        p->strides[0] = p->strides[1] = S;
        p->dilations[0] = p->dilations[1] = D;
        p->pads[0] = p->pads[2] = irand(0, (int)KH - 1);
        p->pads[1] = p->pads[3] = irand(0, (int)KW - 1);
        p->act.kind             = (vgi_act_kind)irand(0, 2);
        int64_t op              = irand(0, (int)S - 1); /* output padding */
        int64_t OH              = (H - 1) * S + (KH - 1) * D + 1 - 2 * p->pads[0] + op;
        int64_t OW              = (W - 1) * S + (KW - 1) * D + 1 - 2 * p->pads[1];
        if (OH < 1 || OW < 1 || !vgi_cuda_deconv_ok(p, H, W, KH, KW, OH, OW))
            continue;
        bool     nchw  = p->layout == VGI_LAYOUT_NCHW;
        int64_t  xd[4] = {N, nchw ? C : H, nchw ? H : W, nchw ? W : C};
        int64_t  yd[4] = {N, nchw ? O : OH, nchw ? OH : OW, nchw ? OW : O};
        int64_t  wd[4] = {C, cog, KH, KW}, bd[1] = {O};
        vg_shape s[3] = {tg_shape(4, xd), tg_shape(4, wd), tg_shape(1, bd)}, ys = tg_shape(4, yd);
        int64_t  xn = vg_shape_numel(&s[0]), wn = vg_shape_numel(&s[1]), yn = vg_shape_numel(&ys);
        float   *x = malloc((size_t)xn * 4), *w = malloc((size_t)wn * 4),
              *wo = malloc((size_t)wn * 4), *bias = malloc((size_t)O * 4),
              *r = malloc((size_t)yn * 4);
        VG_CHECK(x && w && wo && bias && r);
        for (int64_t i = 0; i < xn; i++)
            x[i] = frand();
        for (int64_t i = 0; i < wn; i++)
            w[i] = frand();
        for (int64_t i = 0; i < O; i++)
            bias[i] = frand();
        float *ins[3] = {x, w, bias};
        ref_node(VGI_OP_CONV_TRANSPOSE, &a, 3, s, ins, &ys, r);
        vgi_cu_conv_args ca;
        memset(&ca, 0, sizeof(ca));
        ca.x = vgi_cuda_act4(&s[0], p->layout), ca.y = vgi_cuda_act4(&ys, p->layout);
        ca.kh = KH, ca.kw = KW, ca.sh = S, ca.sw = S, ca.dh = D, ca.dw = D;
        ca.pad_t = p->pads[0], ca.pad_l = p->pads[1], ca.groups = G;
        if (nchw) {
            memcpy(wo, w, (size_t)wn * 4);
            ca.wso = cog * KH * KW, ca.wsi = KH * KW, ca.wsh = KW, ca.wsw = 1;
        } else {
            vgi_cuda_weights_ohwi(w, C, cog, KH, KW, wo);
            ca.wso = KH * KW * cog, ca.wsh = KW * cog, ca.wsw = cog, ca.wsi = 1;
        }
        ca.w    = wo;
        ca.bias = bias;
        VG_CHECK(vgi_cuda_act_kind(p->act.kind, &ca.act));
        for (int64_t i = 0; i < yn; i++) {
            int64_t b, co, oh, ow;
            vgi_cu_split4(&ca.y, i, &b, &co, &oh, &ow);
            int64_t o = b * ca.y.sn + co * ca.y.sc + oh * ca.y.sh + ow * ca.y.sw;
            check_close(vgi_cu_deconv_elem(&ca, VGI_CU_F32, x, b, co, oh, ow), r[o], 1e-5, 1e-5,
                        "deconv", o);
        }
        free(x), free(w), free(wo), free(bias), free(r);
    }
}

/* ---- backend creation --------------------------------------------------------------------------
 */

static void test_create(void) {
    vgi_device d;
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "cuda:0");
    d.kind      = VGI_DEVICE_CUDA;
    d.n_threads = 1;
    vgi_backend be;
    vgi_err     err;
    memset(&err, 0, sizeof(err));
    vg_status st = vgi_cuda_backend_create(&d, &be, &err);
    char      info[256];
    if (vgi_cuda_device_count() == 0) {
        VG_CHECK_STATUS(st, VG_E_DEVICE);
        VG_CHECK(be.iface == NULL && be.ctx == NULL);
        VG_CHECK_MSG(strstr(err.msg, "cuda:0: no CUDA device") && strstr(err.msg, "--device cpu"),
                     "message: %s", err.msg);
        VG_CHECK_STATUS(vgi_cuda_device_info(0, info, sizeof(info), &err), VG_E_DEVICE);
        printf("  no GPU here, as expected: %s\n", err.msg);
        return;
    }
    VG_CHECK_MSG(st == VG_OK, "create: %s", err.msg);
    VG_CHECK_STR_EQ(be.iface->name, "cuda");
    VG_CHECK_OK(vgi_cuda_device_info(0, info, sizeof(info), &err));
    printf("  %s\n", info);
    void *p = be.iface->host_alloc(be.ctx, 1 << 20);
    VG_CHECK(p && ((uintptr_t)p % 64) == 0);
    be.iface->host_free(be.ctx, p);
    vgi_backend_destroy(&be);
    d.ordinal = 1000;
    snprintf(d.name, sizeof(d.name), "cuda:1000");
    VG_CHECK_STATUS(vgi_cuda_backend_create(&d, &be, &err), VG_E_DEVICE);
    VG_CHECK_MSG(strstr(err.msg, "no such GPU"), "message: %s", err.msg);
}

static const vg_test_case cases[] = {
    {"memory plan: overlapping lifetimes never share bytes", test_mem_plan},
    {"broadcast strides equal numpy broadcasting", test_bcast},
    {"unary, binary and activation math match ref", test_unary_binary},
    {"f16 loads are exact", test_f16_bits},
    {"pooling windows match ref (f32, f16)", test_pool},
    {"resize tables match ref in every mode", test_resize},
    {"direct conv with pad split and OHWI weights matches ref", test_conv},
    {"transposed conv (gather form) matches ref", test_deconv},
    {"backend creation: clean VG_E_DEVICE without a GPU", test_create},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
