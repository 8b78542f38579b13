/*
 * dnnl_layer_test.c - the oneDNN layer of the `cpu` backend against plain loops.
 *
 * Every primitive runs on awkward shapes (13 or 19 channels, spatial sizes that
 * are not multiples of the SIMD width, batch 1 and 3) and is compared with a
 * naive loop written here. Outputs in blocked layouts are reordered back to
 * plain NCHW before comparing. Tolerance: |a - b| <= 1e-4 * (1 + |b|) (float32
 * sums of at most a few hundred products; oneDNN may reorder the additions).
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu_dnnl/dnnl_impl.h"
#include "test.h"

extern int  omp_get_thread_num(void);
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

static vgi_dnnl g_d;

static float *rnd(size_t n, unsigned *seed) {
    float *p = malloc(n * sizeof(float));
    VG_CHECK(p);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        p[i]  = (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static void check_close(const float *got, const float *want, size_t n, double rel) {
    for (size_t i = 0; i < n; i++) {
        double tol = rel * (1.0 + fabs(want[i]));
        if (!(fabs(got[i] - want[i]) <= tol))
            vg_test_fail(__FILE__, __LINE__, "element %zu: got %.7g, want %.7g (tol %.3g)", i,
                         got[i], want[i], tol);
    }
}

static void init_ctx(int threads) {
    vgi_dnnl_params p = vgi_dnnl_params_default();
    p.threads         = threads;
    VG_CHECK_OK(vgi_dnnl_init(&g_d, &p));
    vgi_dnnl_enter(&g_d);
}

/* Runs prim with the given buffers, allocating its scratchpad. */
static void exec(vgi_dnnl_prim *p, vgi_dnnl_bufs *b) {
    void *scratch = p->scratch_bytes ? malloc(p->scratch_bytes) : NULL;
    b->scratch    = scratch;
    vg_status st  = vgi_dnnl_prim_exec(&g_d, p, b);
    VG_CHECK_MSG(st == VG_OK, "exec: %s", g_d.err);
    free(scratch);
}

/* Reorders data in md to plain NCHW (or plain tag for other ranks) into a new buffer. */
static float *to_plain(const dnnl_memory_desc_t *md, const void *data, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t pmd;
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &pmd, md->ndims, md->dims, tag));
    float *out = malloc(vgi_dnnl_md_bytes(&pmd));
    VG_CHECK(out);
    vg_status st = vgi_dnnl_reorder_once(&g_d, md, data, &pmd, out);
    VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
    return out;
}

static float act_ref(vgi_dnnl_act a, float alpha, float beta, float x) {
    switch (a) {
    case VGI_DNNL_ACT_NONE:
        return x;
    case VGI_DNNL_ACT_RELU:
        return x > 0 ? x : alpha * x;
    case VGI_DNNL_ACT_CLIP:
        return x < alpha ? alpha : x > beta ? beta : x;
    case VGI_DNNL_ACT_SIGMOID:
        return 1.f / (1.f + expf(-x));
    case VGI_DNNL_ACT_TANH:
        return tanhf(x);
    case VGI_DNNL_ACT_HARDSWISH: {
        float r = x + 3.f;
        r       = r < 0 ? 0 : r > 6 ? 6 : r;
        return x * r / 6.f;
    }
    case VGI_DNNL_ACT_SWISH:
        return x / (1.f + expf(-alpha * x));
    case VGI_DNNL_ACT_ELU:
        return x > 0 ? x : alpha * (expf(x) - 1.f);
    case VGI_DNNL_ACT_LINEAR:
        return alpha * x + beta;
    case VGI_DNNL_ACT_EXP:
        return expf(x);
    case VGI_DNNL_ACT_ABS:
        return fabsf(x);
    case VGI_DNNL_ACT_SQRT:
        return sqrtf(x);
    case VGI_DNNL_ACT_SQUARE:
        return x * x;
    case VGI_DNNL_ACT_LOG:
        return logf(x);
    case VGI_DNNL_ACT_SOFTPLUS:
        return log1pf(expf(x));
    case VGI_DNNL_ACT_GELU_ERF:
        return 0.5f * x * (1.f + erff(x / sqrtf(2.f)));
    case VGI_DNNL_ACT_ROUND:
        return nearbyintf(x);
    }
    return x;
}

/* ---- convolution ---------------------------------------------------------------------- */

typedef struct conv_case {
    int64_t           n, ic, ih, iw, oc, kh, kw, groups, stride, dil, pt, pl, pb, pr;
    vgi_dnnl_act      act;
    float             alpha, beta;
    bool              residual; /* binary add post-op */
    dnnl_format_tag_t src_tag;  /* dnnl_format_tag_any: let oneDNN choose */
} conv_case;

static void run_conv_case(const conv_case *c) {
    unsigned seed   = 7u + (unsigned)c->ic * 31u + (unsigned)c->groups;
    int64_t  kh_eff = (c->kh - 1) * c->dil + 1, kw_eff = (c->kw - 1) * c->dil + 1;
    int64_t  oh  = (c->ih + c->pt + c->pb - kh_eff) / c->stride + 1;
    int64_t  ow  = (c->iw + c->pl + c->pr - kw_eff) / c->stride + 1;
    int64_t  icg = c->ic / c->groups, ocg = c->oc / c->groups;
    size_t   nsrc = (size_t)(c->n * c->ic * c->ih * c->iw), ndst = (size_t)(c->n * c->oc * oh * ow);
    size_t   nwei = (size_t)(c->oc * icg * c->kh * c->kw);
    float   *src = rnd(nsrc, &seed), *wei = rnd(nwei, &seed), *bias = rnd((size_t)c->oc, &seed);
    float   *res  = rnd(ndst, &seed);
    float   *want = calloc(ndst, sizeof(float));

    for (int64_t n = 0; n < c->n; n++)
        for (int64_t o = 0; o < c->oc; o++) {
            int64_t g = o / ocg;
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    double acc = bias[o];
                    for (int64_t i = 0; i < icg; i++)
                        for (int64_t ky = 0; ky < c->kh; ky++)
                            for (int64_t kx = 0; kx < c->kw; kx++) {
                                int64_t iy = y * c->stride - c->pt + ky * c->dil;
                                int64_t ix = x * c->stride - c->pl + kx * c->dil;
                                if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw)
                                    continue;
                                int64_t ci = g * icg + i;
                                acc += (double)src[((n * c->ic + ci) * c->ih + iy) * c->iw + ix] *
                                       wei[((o * icg + i) * c->kh + ky) * c->kw + kx];
                            }
                    size_t di = (size_t)(((n * c->oc + o) * oh + y) * ow + x);
                    float  v  = act_ref(c->act, c->alpha, c->beta, (float)acc);
                    if (c->residual)
                        v += res[di];
                    want[di] = v;
                }
        }

    /* the source in the requested layout */
    dnnl_memory_desc_t src_plain, src_md;
    int64_t            sdims[4] = {c->n, c->ic, c->ih, c->iw}, ddims[4] = {c->n, c->oc, oh, ow};
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &src_plain, 4, sdims, dnnl_nchw));
    vgi_dnnl_conv_params p;
    memset(&p, 0, sizeof(p));
    p.n = c->n, p.ic = c->ic, p.ih = c->ih, p.iw = c->iw, p.oc = c->oc, p.oh = oh, p.ow = ow;
    p.kh = c->kh, p.kw = c->kw, p.groups = c->groups;
    p.stride[0] = p.stride[1] = c->stride;
    p.dilation[0] = p.dilation[1] = c->dil;
    p.pad_l[0] = c->pt, p.pad_l[1] = c->pl, p.pad_r[0] = c->pb, p.pad_r[1] = c->pr;
    p.bias = true;
    if (c->src_tag != dnnl_format_tag_any) {
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &src_md, 4, sdims, c->src_tag));
        p.src_md = &src_md;
    }
    if (c->act != VGI_DNNL_ACT_NONE) {
        p.post[p.npost].kind  = VGI_DNNL_POST_ELTWISE;
        p.post[p.npost].act   = c->act;
        p.post[p.npost].alpha = c->alpha;
        p.post[p.npost].beta  = c->beta;
        p.npost++;
    }
    dnnl_memory_desc_t res_md;
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &res_md, 4, ddims, dnnl_nchw));
    if (c->residual) {
        p.post[p.npost].kind       = VGI_DNNL_POST_BINARY;
        p.post[p.npost].binary_alg = dnnl_binary_add;
        p.post[p.npost].binary_md  = res_md;
        p.npost++;
    }
    vgi_dnnl_prim prim;
    vg_status     st = vgi_dnnl_conv_create(&g_d, &p, &prim);
    VG_CHECK_MSG(st == VG_OK, "conv create: %s", g_d.err);

    /* pack source and weights into the layouts the primitive chose */
    void *src_l = malloc(vgi_dnnl_md_bytes(&prim.src_md[0]));
    VG_CHECK_OK(vgi_dnnl_reorder_once(&g_d, &src_plain, src, &prim.src_md[0], src_l));
    dnnl_memory_desc_t wei_plain;
    if (c->groups == 1) {
        int64_t wd[4] = {c->oc, icg, c->kh, c->kw};
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &wei_plain, 4, wd, dnnl_oihw));
    } else {
        int64_t wd[5] = {c->groups, ocg, icg, c->kh, c->kw};
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &wei_plain, 5, wd, dnnl_goihw));
    }
    void *wei_l = malloc(vgi_dnnl_md_bytes(&prim.wei_md));
    VG_CHECK_OK(vgi_dnnl_reorder_once(&g_d, &wei_plain, wei, &prim.wei_md, wei_l));
    void *dst_l = malloc(vgi_dnnl_md_bytes(&prim.dst_md));

    vgi_dnnl_bufs b;
    memset(&b, 0, sizeof(b));
    b.src[0] = src_l, b.wei = wei_l, b.bias = bias, b.dst = dst_l;
    if (c->residual)
        b.post[c->act != VGI_DNNL_ACT_NONE ? 1 : 0] = res;
    exec(&prim, &b);
    float *got = to_plain(&prim.dst_md, dst_l, dnnl_nchw);
    check_close(got, want, ndst, 1e-4);

    free(got), free(dst_l), free(wei_l), free(src_l);
    vgi_dnnl_prim_fini(&prim);
    free(src), free(wei), free(bias), free(res), free(want);
}

static void test_conv(void) {
    init_ctx(1);
    static const conv_case cases[] = {
        /* n ic ih iw oc kh kw g s d pt pl pb pr */
        {1, 13, 17, 11, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, VGI_DNNL_ACT_NONE, 0, 0, false,
         dnnl_format_tag_any},
        {3, 13, 17, 11, 19, 3, 3, 1, 2, 1, 0, 0, 1, 1, VGI_DNNL_ACT_RELU, 0, 0, false, dnnl_nhwc},
        {1, 3, 23, 21, 16, 3, 3, 1, 2, 1, 1, 1, 1, 1, VGI_DNNL_ACT_CLIP, 0, 6, false, dnnl_nhwc},
        {1, 13, 9, 10, 21, 1, 1, 1, 1, 1, 0, 0, 0, 0, VGI_DNNL_ACT_RELU, 0.1f, 0, true,
         dnnl_format_tag_any},
        {3, 17, 12, 9, 17, 3, 3, 1, 1, 2, 2, 2, 2, 2, VGI_DNNL_ACT_SWISH, 1, 0, false, dnnl_nchw},
        /* depthwise, multiplier 1 and 2 */
        {1, 13, 15, 13, 13, 3, 3, 13, 1, 1, 1, 1, 1, 1, VGI_DNNL_ACT_CLIP, 0, 6, false,
         dnnl_format_tag_any},
        {3, 13, 15, 13, 26, 3, 3, 13, 2, 1, 0, 0, 1, 1, VGI_DNNL_ACT_HARDSWISH, 0, 0, true,
         dnnl_nhwc},
        {1, 24, 15, 13, 24, 5, 5, 24, 1, 1, 2, 2, 2, 2, VGI_DNNL_ACT_SIGMOID, 0, 0, false,
         dnnl_format_tag_any},
        /* grouped */
        {3, 15, 10, 7, 21, 3, 3, 3, 1, 1, 1, 1, 1, 1, VGI_DNNL_ACT_TANH, 0, 0, false,
         dnnl_format_tag_any},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_conv_case(&cases[i]);
    vgi_dnnl_fini(&g_d);
}

/* ---- pooling, resampling -------------------------------------------------------------- */

static void test_pool(void) {
    init_ctx(2);
    unsigned seed = 3;
    int64_t  n = 3, c = 13, ih = 17, iw = 12, k = 3, s = 2, pt = 1, pl = 0, pb = 1, pr = 1;
    int64_t  oh = (ih + pt + pb - k) / s + 1, ow = (iw + pl + pr - k) / s + 1;
    float   *src  = rnd((size_t)(n * c * ih * iw), &seed);
    size_t   ndst = (size_t)(n * c * oh * ow);
    float   *want = malloc(ndst * sizeof(float));
    for (int mode = 0; mode < 3; mode++) { /* max, avg excluding pad, avg including pad */
        for (int64_t i = 0; i < n * c; i++)
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    float  m   = -INFINITY;
                    double sum = 0;
                    int    cnt = 0;
                    for (int64_t ky = 0; ky < k; ky++)
                        for (int64_t kx = 0; kx < k; kx++) {
                            int64_t yy = y * s - pt + ky, xx = x * s - pl + kx;
                            if (yy < 0 || yy >= ih || xx < 0 || xx >= iw)
                                continue;
                            float v = src[(i * ih + yy) * iw + xx];
                            m       = v > m ? v : m;
                            sum += v;
                            cnt++;
                        }
                    want[(i * oh + y) * ow + x] =
                        mode == 0 ? m : (float)(sum / (mode == 1 ? cnt : (int)(k * k)));
                }
        vgi_dnnl_pool_params p;
        memset(&p, 0, sizeof(p));
        p.max             = mode == 0;
        p.avg_include_pad = mode == 2;
        p.oh = oh, p.ow = ow, p.kernel[0] = p.kernel[1] = k, p.stride[0] = p.stride[1] = s;
        p.pad_l[0] = pt, p.pad_l[1] = pl, p.pad_r[0] = pb, p.pad_r[1] = pr;
        int64_t dims[4] = {n, c, ih, iw};
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &p.src_md, 4, dims, mode == 1 ? dnnl_nChw8c : dnnl_nchw));
        dnnl_memory_desc_t plain;
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &plain, 4, dims, dnnl_nchw));
        void *src_l = malloc(vgi_dnnl_md_bytes(&p.src_md));
        VG_CHECK_OK(vgi_dnnl_reorder_once(&g_d, &plain, src, &p.src_md, src_l));
        vgi_dnnl_prim prim;
        vg_status     st = vgi_dnnl_pool_create(&g_d, &p, &prim);
        VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
        void         *dst = malloc(vgi_dnnl_md_bytes(&prim.dst_md));
        vgi_dnnl_bufs b;
        memset(&b, 0, sizeof(b));
        b.src[0] = src_l, b.dst = dst;
        exec(&prim, &b);
        float *got = to_plain(&prim.dst_md, dst, dnnl_nchw);
        check_close(got, want, ndst, 1e-5);
        free(got), free(dst), free(src_l);
        vgi_dnnl_prim_fini(&prim);
    }
    free(src), free(want);
    vgi_dnnl_fini(&g_d);
}

/* TF ResizeBilinear(half_pixel_centers = true) for one channel plane. */
static float tf_bilinear(const float *x, int64_t ih, int64_t iw, int64_t oh, int64_t ow, int64_t y,
                         int64_t xo) {
    float   sy = (float)ih / (float)oh, sx = (float)iw / (float)ow;
    float   in_y = ((float)y + 0.5f) * sy - 0.5f, in_x = ((float)xo + 0.5f) * sx - 0.5f;
    float   fy = floorf(in_y), fx = floorf(in_x);
    int64_t y0 = fy < 0 ? 0 : (int64_t)fy, x0 = fx < 0 ? 0 : (int64_t)fx;
    int64_t y1 = (int64_t)ceilf(in_y), x1 = (int64_t)ceilf(in_x);
    y1       = y1 > ih - 1 ? ih - 1 : y1 < 0 ? 0 : y1;
    x1       = x1 > iw - 1 ? iw - 1 : x1 < 0 ? 0 : x1;
    float ly = in_y - fy, lx = in_x - fx;
    float top = x[y0 * iw + x0] + (x[y0 * iw + x1] - x[y0 * iw + x0]) * lx;
    float bot = x[y1 * iw + x0] + (x[y1 * iw + x1] - x[y1 * iw + x0]) * lx;
    return top + (bot - top) * ly;
}

static void test_resample(void) {
    init_ctx(1);
    unsigned             seed        = 5;
    static const int64_t shapes[][4] = {{13, 13, 26, 26}, {7, 9, 14, 18}, {10, 6, 15, 4}};
    for (size_t si = 0; si < 3; si++) {
        int64_t n = si == 1 ? 3 : 1, c = 13;
        int64_t ih = shapes[si][0], iw = shapes[si][1], oh = shapes[si][2], ow = shapes[si][3];
        float  *src  = rnd((size_t)(n * c * ih * iw), &seed);
        size_t  ndst = (size_t)(n * c * oh * ow);
        float  *want = malloc(ndst * sizeof(float));
        for (int linear = 0; linear < 2; linear++) {
            for (int64_t i = 0; i < n * c; i++)
                for (int64_t y = 0; y < oh; y++)
                    for (int64_t x = 0; x < ow; x++) {
                        const float *pl = src + i * ih * iw;
                        float        v;
                        if (linear) {
                            v = tf_bilinear(pl, ih, iw, oh, ow, y, x);
                        } else { /* TF nearest, half_pixel_centers: floor((o + 0.5) * scale) */
                            int64_t yy = (int64_t)floorf(((float)y + 0.5f) * (float)ih / (float)oh);
                            int64_t xx = (int64_t)floorf(((float)x + 0.5f) * (float)iw / (float)ow);
                            yy         = yy > ih - 1 ? ih - 1 : yy;
                            xx         = xx > iw - 1 ? iw - 1 : xx;
                            v          = pl[yy * iw + xx];
                        }
                        want[(i * oh + y) * ow + x] = v;
                    }
            vgi_dnnl_resample_params p;
            memset(&p, 0, sizeof(p));
            p.linear = linear;
            p.oh = oh, p.ow = ow;
            int64_t dims[4] = {n, c, ih, iw};
            VG_CHECK_OK(vgi_dnnl_md(&g_d, &p.src_md, 4, dims, dnnl_nchw));
            vgi_dnnl_prim prim;
            vg_status     st = vgi_dnnl_resample_create(&g_d, &p, &prim);
            VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
            void         *dst = malloc(vgi_dnnl_md_bytes(&prim.dst_md));
            vgi_dnnl_bufs b;
            memset(&b, 0, sizeof(b));
            b.src[0] = src, b.dst = dst;
            exec(&prim, &b);
            float *got = to_plain(&prim.dst_md, dst, dnnl_nchw);
            check_close(got, want, ndst, 1e-5);
            free(got), free(dst);
            vgi_dnnl_prim_fini(&prim);
        }
        free(src), free(want);
    }
    vgi_dnnl_fini(&g_d);
}

/* ---- eltwise, binary, concat, reorder ------------------------------------------------- */

static void test_eltwise(void) {
    init_ctx(1);
    unsigned seed    = 11;
    int64_t  dims[4] = {3, 13, 7, 5};
    size_t   n       = 3 * 13 * 7 * 5;
    float   *src = rnd(n, &seed), *want = malloc(n * sizeof(float)), *dst = malloc(n * 4);
    static const struct {
        vgi_dnnl_act a;
        float        alpha, beta;
    } acts[] = {
        {VGI_DNNL_ACT_RELU, 0, 0},     {VGI_DNNL_ACT_RELU, 0.1f, 0},
        {VGI_DNNL_ACT_CLIP, 0, 6},     {VGI_DNNL_ACT_SIGMOID, 0, 0},
        {VGI_DNNL_ACT_TANH, 0, 0},     {VGI_DNNL_ACT_HARDSWISH, 0, 0},
        {VGI_DNNL_ACT_SWISH, 1, 0},    {VGI_DNNL_ACT_ELU, 1.5f, 0},
        {VGI_DNNL_ACT_LINEAR, -1, 2},  {VGI_DNNL_ACT_EXP, 0, 0},
        {VGI_DNNL_ACT_ABS, 0, 0},      {VGI_DNNL_ACT_SQUARE, 0, 0},
        {VGI_DNNL_ACT_SOFTPLUS, 0, 0}, {VGI_DNNL_ACT_GELU_ERF, 0, 0},
    };
    for (size_t k = 0; k < sizeof(acts) / sizeof(acts[0]); k++) {
        for (size_t i = 0; i < n; i++)
            want[i] = act_ref(acts[k].a, acts[k].alpha, acts[k].beta, src[i] * 3.f);
        float *s3 = malloc(n * 4);
        for (size_t i = 0; i < n; i++)
            s3[i] = src[i] * 3.f;
        vgi_dnnl_eltwise_params p;
        memset(&p, 0, sizeof(p));
        p.act = acts[k].a, p.alpha = acts[k].alpha, p.beta = acts[k].beta;
        VG_CHECK_OK(vgi_dnnl_md(&g_d, &p.src_md, 4, dims, dnnl_nchw));
        vgi_dnnl_prim prim;
        vg_status     st = vgi_dnnl_eltwise_create(&g_d, &p, &prim);
        VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
        vgi_dnnl_bufs b;
        memset(&b, 0, sizeof(b));
        b.src[0] = s3, b.dst = dst;
        exec(&prim, &b);
        check_close(dst, want, n, 1e-5);
        vgi_dnnl_prim_fini(&prim);
        free(s3);
    }
    free(src), free(want), free(dst);
    vgi_dnnl_fini(&g_d);
}

static void test_binary(void) {
    init_ctx(2);
    unsigned             seed     = 13;
    int64_t              d0[4]    = {3, 13, 7, 5};
    static const int64_t d1s[][4] = {{1, 13, 1, 1}, {3, 1, 7, 5}, {3, 13, 7, 5}, {1, 1, 1, 1}};
    static const dnnl_alg_kind_t algs[] = {dnnl_binary_add, dnnl_binary_sub, dnnl_binary_mul,
                                           dnnl_binary_div, dnnl_binary_max, dnnl_binary_min};
    size_t                       n      = 3 * 13 * 7 * 5;
    float                       *a = rnd(n, &seed), *bb = rnd(n, &seed), *want = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        bb[i] = bb[i] > 0 ? bb[i] + 0.5f : bb[i] - 0.5f; /* no division by ~0 */
    for (size_t si = 0; si < 4; si++)
        for (size_t ai = 0; ai < 6; ai++) {
            const int64_t *d1 = d1s[si];
            for (int64_t i0 = 0; i0 < 3; i0++)
                for (int64_t i1 = 0; i1 < 13; i1++)
                    for (int64_t i2 = 0; i2 < 7; i2++)
                        for (int64_t i3 = 0; i3 < 5; i3++) {
                            float   x  = a[((i0 * 13 + i1) * 7 + i2) * 5 + i3];
                            int64_t j0 = d1[0] == 1 ? 0 : i0, j1 = d1[1] == 1 ? 0 : i1;
                            int64_t j2 = d1[2] == 1 ? 0 : i2, j3 = d1[3] == 1 ? 0 : i3;
                            float   y = bb[((j0 * d1[1] + j1) * d1[2] + j2) * d1[3] + j3];
                            float   r = ai == 0   ? x + y
                                        : ai == 1 ? x - y
                                        : ai == 2 ? x * y
                                        : ai == 3 ? x / y
                                        : ai == 4 ? fmaxf(x, y)
                                                  : fminf(x, y);
                            want[((i0 * 13 + i1) * 7 + i2) * 5 + i3] = r;
                        }
            vgi_dnnl_binary_params p;
            memset(&p, 0, sizeof(p));
            p.alg = algs[ai];
            /* src0 blocked for the channel-broadcast case, plain otherwise */
            dnnl_memory_desc_t plain0;
            VG_CHECK_OK(vgi_dnnl_md(&g_d, &plain0, 4, d0, dnnl_nchw));
            VG_CHECK_OK(vgi_dnnl_md(&g_d, &p.src0_md, 4, d0, si == 0 ? dnnl_nChw8c : dnnl_nchw));
            VG_CHECK_OK(vgi_dnnl_md(&g_d, &p.src1_md, 4, d1, dnnl_nchw));
            void *a_l = malloc(vgi_dnnl_md_bytes(&p.src0_md));
            VG_CHECK_OK(vgi_dnnl_reorder_once(&g_d, &plain0, a, &p.src0_md, a_l));
            vgi_dnnl_prim prim;
            vg_status     st = vgi_dnnl_binary_create(&g_d, &p, &prim);
            VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
            void         *dst = malloc(vgi_dnnl_md_bytes(&prim.dst_md));
            vgi_dnnl_bufs b;
            memset(&b, 0, sizeof(b));
            b.src[0] = a_l, b.src[1] = bb, b.dst = dst;
            exec(&prim, &b);
            float *got = to_plain(&prim.dst_md, dst, dnnl_nchw);
            check_close(got, want, n, 1e-6);
            free(got), free(dst), free(a_l);
            vgi_dnnl_prim_fini(&prim);
        }
    free(a), free(bb), free(want);
    vgi_dnnl_fini(&g_d);
}

static void test_concat_reorder(void) {
    init_ctx(1);
    unsigned seed  = 17;
    int64_t  da[4] = {3, 13, 5, 7}, db[4] = {3, 19, 5, 7}, dc[4] = {3, 32, 5, 7};
    float   *a = rnd(3 * 13 * 35, &seed), *b = rnd(3 * 19 * 35, &seed);
    float   *want = malloc(3 * 32 * 35 * 4);
    for (int64_t n = 0; n < 3; n++) {
        memcpy(want + n * 32 * 35, a + n * 13 * 35, 13 * 35 * 4);
        memcpy(want + n * 32 * 35 + 13 * 35, b + n * 19 * 35, 19 * 35 * 4);
    }
    dnnl_memory_desc_t mds[2], dst_any, plain_b;
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &mds[0], 4, da, dnnl_nchw));
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &mds[1], 4, db, dnnl_nChw8c));
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &plain_b, 4, db, dnnl_nchw));
    VG_CHECK_OK(vgi_dnnl_md(&g_d, &dst_any, 4, dc, dnnl_nhwc));
    void *b_l = malloc(vgi_dnnl_md_bytes(&mds[1]));
    VG_CHECK_OK(vgi_dnnl_reorder_once(&g_d, &plain_b, b, &mds[1], b_l));
    vgi_dnnl_concat_params p = {.n = 2, .axis = 1, .src_mds = mds, .dst_md = &dst_any};
    vgi_dnnl_prim          prim;
    vg_status              st = vgi_dnnl_concat_create(&g_d, &p, &prim);
    VG_CHECK_MSG(st == VG_OK, "%s", g_d.err);
    VG_CHECK(vgi_dnnl_md_is(&prim.dst_md, dnnl_nhwc));
    void         *dst = malloc(vgi_dnnl_md_bytes(&prim.dst_md));
    vgi_dnnl_bufs bufs;
    memset(&bufs, 0, sizeof(bufs));
    bufs.src[0] = a, bufs.src[1] = b_l, bufs.dst = dst;
    exec(&prim, &bufs);
    float *got = to_plain(&prim.dst_md, dst, dnnl_nchw);
    check_close(got, want, 3 * 32 * 35, 0);
    free(got), free(dst), free(b_l), free(a), free(b), free(want);
    vgi_dnnl_prim_fini(&prim);
    vgi_dnnl_fini(&g_d);
}

static void test_errors(void) {
    init_ctx(1);
    /* groups that do not divide the channels: our own check */
    vgi_dnnl_conv_params p;
    memset(&p, 0, sizeof(p));
    p.n = 1, p.ic = 13, p.oc = 13, p.ih = p.iw = p.oh = p.ow = 4, p.kh = p.kw = 1, p.groups = 2;
    p.stride[0] = p.stride[1] = p.dilation[0] = p.dilation[1] = 1;
    vgi_dnnl_prim prim;
    VG_CHECK_STATUS(vgi_dnnl_conv_create(&g_d, &p, &prim), VG_E_INVALID_ARG);
    VG_CHECK(strstr(g_d.err, "groups") != NULL);
    /* output size that does not follow from the input: oneDNN rejects it */
    p.groups = 1, p.oh = 9;
    VG_CHECK_STATUS(vgi_dnnl_conv_create(&g_d, &p, &prim), VG_E_INVALID_ARG);
    VG_CHECK(strstr(g_d.err, "invalid_arguments") != NULL);
    /* the conversion itself */
    VG_CHECK_STATUS(vgi_dnnl_check(NULL, dnnl_out_of_memory, "x"), VG_E_NOMEM);
    VG_CHECK_STATUS(vgi_dnnl_check(NULL, dnnl_unimplemented, "x"), VG_E_UNSUPPORTED);
    VG_CHECK_STATUS(vgi_dnnl_check(NULL, dnnl_runtime_error, "x"), VG_E_BACKEND);
    VG_CHECK_STATUS(vgi_dnnl_check(NULL, dnnl_success, "x"), VG_OK);
    vgi_dnnl_fini(&g_d);
}

/* ---- threading ------------------------------------------------------------------------ */

typedef struct team_probe {
    int      cpus[8]; /* per team thread: the single CPU it may run on, or -1 */
    uint64_t mask[8]; /* per team thread: CPUs 0..63 it may run on */
    int      nthreads;
} team_probe;

static void probe_one(void *arg) {
    team_probe *t = arg;
    cpu_set_t   set;
    int         i = omp_get_thread_num();
    if (i >= 8)
        return;
    CPU_ZERO(&set);
    pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
    t->cpus[i] = -1;
    t->mask[i] = 0;
    for (int c = 0; c < 64; c++)
        if (CPU_ISSET(c, &set))
            t->mask[i] |= (uint64_t)1 << c;
    if (CPU_COUNT(&set) == 1)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set))
                t->cpus[i] = c;
    __atomic_fetch_add(&t->nthreads, 1, __ATOMIC_SEQ_CST);
}

typedef struct worker_arg {
    int        cpu;
    team_probe probe;
    vg_status  st;
    char       err[256];
} worker_arg;

/* One instance pinned to one CPU with one thread: runs convolutions, then probes the
 * OpenMP team that this thread uses (the one oneDNN ran on). */
static void *worker(void *argp) {
    worker_arg     *w = argp;
    vgi_dnnl        d;
    vgi_dnnl_params p = vgi_dnnl_params_default();
    p.threads         = 1;
    vg_cpuset_add(&p.cpus, w->cpu);
    w->st = vgi_dnnl_init(&d, &p);
    if (w->st != VG_OK)
        return NULL;
    vgi_dnnl_enter(&d);
    vgi_dnnl_eltwise_params ep;
    memset(&ep, 0, sizeof(ep));
    ep.act          = VGI_DNNL_ACT_TANH;
    int64_t dims[4] = {1, 64, 64, 64};
    vgi_dnnl_md(&d, &ep.src_md, 4, dims, dnnl_nchw);
    vgi_dnnl_prim prim;
    w->st = vgi_dnnl_eltwise_create(&d, &ep, &prim);
    if (w->st == VG_OK) {
        float        *buf = calloc(64 * 64 * 64, 4);
        vgi_dnnl_bufs b;
        memset(&b, 0, sizeof(b));
        b.src[0] = buf, b.dst = buf;
        for (int i = 0; i < 20 && w->st == VG_OK; i++)
            w->st = vgi_dnnl_prim_exec(&d, &prim, &b);
        free(buf);
        vgi_dnnl_prim_fini(&prim);
    }
    memcpy(w->err, d.err, sizeof(w->err));
    GOMP_parallel(probe_one, &w->probe, 0, 0); /* 0: the thread's OpenMP default */
    vgi_dnnl_fini(&d);
    return NULL;
}

static void test_threads_pinned(void) {
    vg_cpuset avail;
    VG_CHECK_OK(vg_cpuset_available(&avail));
    int cpus[2], nc = 0;
    for (int c = 0; c < VG_CPUSET_MAX && nc < 2; c++)
        if (vg_cpuset_has(&avail, c))
            cpus[nc++] = c;
    if (nc < 2)
        VG_SKIP("needs two available CPUs");
    /* two instances side by side on disjoint CPUs */
    worker_arg w[2];
    pthread_t  th[2];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        w[i].cpu = cpus[i];
        VG_CHECK(pthread_create(&th[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        VG_CHECK_MSG(w[i].st == VG_OK, "worker %d: %s", i, w[i].err);
        VG_CHECK_INT_EQ(w[i].probe.nthreads, 1);
        VG_CHECK_INT_EQ(w[i].probe.cpus[0], cpus[i]);
    }
    /* one instance with two threads on both CPUs: both threads confined to exactly those */
    vgi_dnnl_params p = vgi_dnnl_params_default();
    vg_cpuset_add(&p.cpus, cpus[0]);
    vg_cpuset_add(&p.cpus, cpus[1]);
    VG_CHECK_OK(vgi_dnnl_init(&g_d, &p));
    VG_CHECK_INT_EQ(g_d.threads, 2);
    team_probe t;
    memset(&t, 0, sizeof(t));
    pthread_t self_th = pthread_self();
    cpu_set_t saved;
    pthread_getaffinity_np(self_th, sizeof(saved), &saved);
    vgi_dnnl_enter(&g_d);
    GOMP_parallel(probe_one, &t, 0, 0);
    pthread_setaffinity_np(self_th, sizeof(saved), &saved);
    VG_CHECK_INT_EQ(t.nthreads, 2);
    uint64_t both = ((uint64_t)1 << cpus[0]) | ((uint64_t)1 << cpus[1]);
    VG_CHECK(cpus[1] < 64);
    VG_CHECK(t.mask[0] == both && t.mask[1] == both);
    vgi_dnnl_fini(&g_d);
}

static const vg_test_case cases[] = {
    {"conv dense/depthwise/grouped with post-ops", test_conv},
    {"pooling max/avg", test_pool},
    {"resampling matches TF half-pixel", test_resample},
    {"eltwise activations", test_eltwise},
    {"binary with broadcasting", test_binary},
    {"concat of mixed layouts", test_concat_reorder},
    {"errors convert to statuses", test_errors},
    {"two instances pinned to disjoint CPUs", test_threads_pinned},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
