/*
 * ref_conv.c - reference kernels for convolution, transposed convolution,
 * pooling and resizing (NHWC and NCHW).
 *
 * DESIGN
 * Plain loops over the output, one element at a time, with the arithmetic
 * of the TF.js CPU backend where it matters: products and sums are taken in
 * double and rounded to float32 once (conv, depthwise, bilinear), bias is a
 * separate float32 addition, then the fused activation. No allocation.
 */
#include <math.h>
#include <string.h>

#include "backends/ref/ref_impl.h"
#include "core/core_impl.h"

/* Strides (in elements) of a rank-4 activation tensor for n, c, h, w. */
typedef struct act4 {
    int64_t N, C, H, W;
    int64_t sn, sc, sh, sw;
} act4;

static act4 act4_of(const vg_tensor *t, vgi_layout l) {
    act4           a;
    const int64_t *d = t->shape.dims;
    if (l == VGI_LAYOUT_NCHW) {
        a.N = d[0], a.C = d[1], a.H = d[2], a.W = d[3];
        a.sw = 1, a.sh = a.W, a.sc = a.H * a.W, a.sn = a.C * a.H * a.W;
    } else {
        a.N = d[0], a.H = d[1], a.W = d[2], a.C = d[3];
        a.sc = 1, a.sw = a.C, a.sh = a.W * a.C, a.sn = a.H * a.W * a.C;
    }
    return a;
}

vg_status vgi_ref_conv(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_conv(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vgi_conv_attr *a  = &n->attr.conv;
    const vg_tensor     *xt = &t[n->in[0]], *wt = &t[n->in[1]];
    const float         *bias = n->n_in > 2 && n->in[2] >= 0 ? t[n->in[2]].data : NULL;
    vg_tensor           *yt   = &t[n->out[0]];
    act4                 x = act4_of(xt, a->layout), y = act4_of(yt, a->layout);
    const float         *xd = xt->data, *wd = wt->data;
    float               *yd = yt->data;
    int64_t              KH = wt->shape.dims[2], KW = wt->shape.dims[3];
    int64_t              G = a->groups, cig = x.C / G, cog = y.C / G;
    int64_t              keff[2] = {(KH - 1) * a->dilations[0] + 1, (KW - 1) * a->dilations[1] + 1};
    int64_t              pads[4];
    vgi_resolve_pads(a->pad_mode, a->pads, x.H, x.W, keff, a->strides, pads);
    for (int64_t b = 0; b < y.N; b++)
        for (int64_t oh = 0; oh < y.H; oh++)
            for (int64_t ow = 0; ow < y.W; ow++)
                for (int64_t co = 0; co < y.C; co++) {
                    int64_t      grp = co / cog;
                    double       acc = 0.0;
                    const float *w   = wd + co * cig * KH * KW;
                    for (int64_t kh = 0; kh < KH; kh++) {
                        int64_t ih = oh * a->strides[0] - pads[0] + kh * a->dilations[0];
                        if (ih < 0 || ih >= x.H)
                            continue;
                        for (int64_t kw = 0; kw < KW; kw++) {
                            int64_t iw = ow * a->strides[1] - pads[1] + kw * a->dilations[1];
                            if (iw < 0 || iw >= x.W)
                                continue;
                            const float *xp =
                                xd + b * x.sn + ih * x.sh + iw * x.sw + grp * cig * x.sc;
                            for (int64_t ci = 0; ci < cig; ci++)
                                acc += (double)xp[ci * x.sc] * (double)w[(ci * KH + kh) * KW + kw];
                        }
                    }
                    float v = (float)acc;
                    if (bias)
                        v = v + bias[co];
                    yd[b * y.sn + oh * y.sh + ow * y.sw + co * y.sc] = vgi_act_apply(&a->act, v);
                }
    return VG_OK;
}

/* Transposed convolution as a scatter: every input pixel adds its kernel
 * footprint into the output (accumulated in float32), then bias + act. */
vg_status vgi_ref_conv_transpose(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_conv_transpose(const vgi_graph *g, const vgi_node *n, vg_tensor *t,
                                 vgi_err *err) {
    (void)g;
    (void)err;
    const vgi_conv_attr *a  = &n->attr.conv;
    const vg_tensor     *xt = &t[n->in[0]], *wt = &t[n->in[1]];
    const float         *bias = n->n_in > 2 && n->in[2] >= 0 ? t[n->in[2]].data : NULL;
    vg_tensor           *yt   = &t[n->out[0]];
    act4                 x = act4_of(xt, a->layout), y = act4_of(yt, a->layout);
    const float         *xd = xt->data, *wd = wt->data;
    float               *yd = yt->data;
    int64_t              KH = wt->shape.dims[2], KW = wt->shape.dims[3];
    int64_t              G = a->groups, cig = x.C / G, cog = y.C / G;
    memset(yd, 0, vg_tensor_nbytes(yt));
    for (int64_t b = 0; b < x.N; b++)
        for (int64_t ih = 0; ih < x.H; ih++)
            for (int64_t iw = 0; iw < x.W; iw++)
                for (int64_t ci = 0; ci < x.C; ci++) {
                    float   xv  = xd[b * x.sn + ih * x.sh + iw * x.sw + ci * x.sc];
                    int64_t grp = ci / cig;
                    for (int64_t col = 0; col < cog; col++) {
                        int64_t      co = grp * cog + col;
                        const float *w  = wd + (ci * cog + col) * KH * KW;
                        for (int64_t kh = 0; kh < KH; kh++) {
                            int64_t oh = ih * a->strides[0] - a->pads[0] + kh * a->dilations[0];
                            if (oh < 0 || oh >= y.H)
                                continue;
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ow = iw * a->strides[1] - a->pads[1] + kw * a->dilations[1];
                                if (ow < 0 || ow >= y.W)
                                    continue;
                                yd[b * y.sn + oh * y.sh + ow * y.sw + co * y.sc] +=
                                    xv * w[kh * KW + kw];
                            }
                        }
                    }
                }
    int64_t total = y.N * y.C * y.H * y.W;
    for (int64_t i = 0; i < total; i++) {
        int64_t co = a->layout == VGI_LAYOUT_NCHW ? (i / (y.H * y.W)) % y.C : i % y.C;
        float   v  = yd[i];
        if (bias)
            v = v + bias[co];
        yd[i] = vgi_act_apply(&a->act, v);
    }
    return VG_OK;
}

vg_status vgi_ref_pool(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_pool(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vgi_pool_attr *a  = &n->attr.pool;
    const vg_tensor     *xt = &t[n->in[0]];
    vg_tensor           *yt = &t[n->out[0]];
    act4                 x = act4_of(xt, a->layout), y = act4_of(yt, a->layout);
    const float         *xd     = xt->data;
    float               *yd     = yt->data;
    bool                 is_max = n->op == VGI_OP_MAX_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL;
    bool    global = n->op == VGI_OP_GLOBAL_AVG_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL;
    int64_t KH, KW, SH, SW, DH, DW, pads[4];
    if (global) {
        KH = x.H, KW = x.W, SH = SW = DH = DW = 1;
        memset(pads, 0, sizeof(pads));
    } else {
        KH = a->kernel[0], KW = a->kernel[1], SH = a->strides[0], SW = a->strides[1];
        DH              = a->dilations[0] ? a->dilations[0] : 1;
        DW              = a->dilations[1] ? a->dilations[1] : 1;
        int64_t keff[2] = {(KH - 1) * DH + 1, (KW - 1) * DW + 1};
        vgi_resolve_pads(a->pad_mode, a->pads, x.H, x.W, keff, a->strides, pads);
    }
    for (int64_t b = 0; b < y.N; b++)
        for (int64_t oh = 0; oh < y.H; oh++)
            for (int64_t ow = 0; ow < y.W; ow++)
                for (int64_t c = 0; c < y.C; c++) {
                    double  acc = is_max ? -INFINITY : 0.0;
                    int64_t cnt = 0;
                    for (int64_t kh = 0; kh < KH; kh++) {
                        int64_t ih = oh * SH - pads[0] + kh * DH;
                        for (int64_t kw = 0; kw < KW; kw++) {
                            int64_t iw = ow * SW - pads[1] + kw * DW;
                            if (ih < 0 || ih >= x.H || iw < 0 || iw >= x.W) {
                                /* A padded position counts toward the divisor
                                 * only inside the padded input (not the ceil tail). */
                                if (a->count_include_pad && ih < x.H + pads[2] &&
                                    iw < x.W + pads[3])
                                    cnt++;
                                continue;
                            }
                            float v = xd[b * x.sn + ih * x.sh + iw * x.sw + c * x.sc];
                            if (is_max) {
                                if (v > acc || isnan(v))
                                    acc = v;
                            } else {
                                acc += v;
                            }
                            cnt++;
                        }
                    }
                    float out;
                    if (is_max)
                        out = (float)acc;
                    else
                        out = cnt ? (float)(acc / (double)cnt) : 0.0f;
                    yd[b * y.sn + oh * y.sh + ow * y.sw + c * y.sc] = out;
                }
    return VG_OK;
}

vg_status vgi_ref_resize(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);
vg_status vgi_ref_resize(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    (void)g;
    (void)err;
    const vgi_resize_attr *a  = &n->attr.resize;
    const vg_tensor       *xt = &t[n->in[0]];
    vg_tensor             *yt = &t[n->out[0]];
    act4                   x = act4_of(xt, a->layout), y = act4_of(yt, a->layout);
    const float           *xd    = xt->data;
    float                 *yd    = yt->data;
    bool                   sized = n->n_in > 1 && n->in[1] >= 0;
    double sh = sized || a->scales[0] <= 0 ? (double)x.H / (double)y.H : 1.0 / a->scales[0];
    double sw = sized || a->scales[1] <= 0 ? (double)x.W / (double)y.W : 1.0 / a->scales[1];
    for (int64_t oh = 0; oh < y.H; oh++) {
        double  fy = vgi_resize_src(a->coord, oh, x.H, y.H, sh);
        int64_t y0, y1, yn;
        double  wy;
        y0 = (int64_t)floor(fy);
        if (y0 < 0)
            y0 = 0;
        y1 = (int64_t)ceil(fy);
        if (y1 > x.H - 1)
            y1 = x.H - 1;
        if (y0 > x.H - 1)
            y0 = x.H - 1;
        if (y1 < 0)
            y1 = 0;
        wy = fy - (double)y0;
        yn = vgi_resize_nearest(a->nearest, fy, x.H);
        for (int64_t ow = 0; ow < y.W; ow++) {
            double  fx = vgi_resize_src(a->coord, ow, x.W, y.W, sw);
            int64_t x0 = (int64_t)floor(fx), x1 = (int64_t)ceil(fx);
            if (x0 < 0)
                x0 = 0;
            if (x0 > x.W - 1)
                x0 = x.W - 1;
            if (x1 > x.W - 1)
                x1 = x.W - 1;
            if (x1 < 0)
                x1 = 0;
            double  wx = fx - (double)x0;
            int64_t xn = vgi_resize_nearest(a->nearest, fx, x.W);
            for (int64_t b = 0; b < y.N; b++)
                for (int64_t c = 0; c < y.C; c++) {
                    const float *p   = xd + b * x.sn + c * x.sc;
                    float       *out = yd + b * y.sn + oh * y.sh + ow * y.sw + c * y.sc;
                    if (a->mode == VGI_RESIZE_NEAREST) {
                        *out = p[yn * x.sh + xn * x.sw];
                        continue;
                    }
                    double tl = p[y0 * x.sh + x0 * x.sw], tr = p[y0 * x.sh + x1 * x.sw];
                    double bl = p[y1 * x.sh + x0 * x.sw], br = p[y1 * x.sh + x1 * x.sw];
                    double top = tl + (tr - tl) * wx;
                    double bot = bl + (br - bl) * wx;
                    *out       = (float)(top + (bot - top) * wy);
                }
        }
    }
    return VG_OK;
}
