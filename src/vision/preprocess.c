/*
 * preprocess.c - frames into model inputs: letterbox/stretch resize,
 * top-down person crops, colour order, normalisation, dtype and layout.
 *
 * DESIGN: the reference recipes (TF.js resizeBilinear and cropAndResize for
 * the TF.js models, a float bilinear resize/warp rounded to uint8 for the
 * YOLO/HRNet exports) are reproduced bit for bit, so the resampling is done
 * here in C rather than with libswscale, whose fixed-point filters differ by a
 * level in places. Each output pixel evaluates the recipe's expression in
 * double in the recipe's order and rounds once (this file is compiled with
 * -ffp-contract=off so no FMA changes a rounding). libswscale is used only for
 * what it is exact at: converting any decoded pixel format to RGB24 at the
 * same size. All functions but the frame converter are allocation-free.
 */
#include <math.h>
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/vision.h"

/* ---- geometry ------------------------------------------------------------ */

void vg_letterbox_compute(int32_t src_w, int32_t src_h, int32_t dst_w, int32_t dst_h,
                          vg_vis_resize policy, vg_letterbox *lb) {
    memset(lb, 0, sizeof(*lb));
    lb->src_w = src_w;
    lb->src_h = src_h;
    lb->dst_w = dst_w;
    lb->dst_h = dst_h;
    if (policy == VG_VIS_RESIZE_STRETCH || src_w <= 0 || src_h <= 0) {
        lb->resized_w = dst_w;
        lb->resized_h = dst_h;
        return;
    }
    double sx = (double)dst_w / src_w, sy = (double)dst_h / src_h;
    double s  = sx < sy ? sx : sy;
    double nw = floor(src_w * s + 0.5), nh = floor(src_h * s + 0.5);
    lb->resized_w = nw < dst_w ? (int32_t)nw : dst_w;
    lb->resized_h = nh < dst_h ? (int32_t)nh : dst_h;
    if (lb->resized_w < 1)
        lb->resized_w = 1;
    if (lb->resized_h < 1)
        lb->resized_h = 1;
    lb->pad_left = (dst_w - lb->resized_w) / 2;
    lb->pad_top  = (dst_h - lb->resized_h) / 2;
}

void vg_letterbox_to_frame(const vg_letterbox *lb, double x_in, double y_in, double *x_src,
                           double *y_src) {
    *x_src = (x_in - lb->pad_left) * lb->src_w / lb->resized_w;
    *y_src = (y_in - lb->pad_top) * lb->src_h / lb->resized_h;
}

void vg_dynamic_input_size(int32_t src_w, int32_t src_h, int32_t longest, int32_t multiple,
                           int32_t *w, int32_t *h) {
    if (multiple < 1)
        multiple = 1;
    if (src_w <= 0 || src_h <= 0 || longest < multiple) {
        *w = *h = longest > multiple ? longest : multiple;
        return;
    }
    bool    wide  = src_w >= src_h;
    double  other = (double)longest * (wide ? src_h : src_w) / (wide ? src_w : src_h);
    int32_t o     = (int32_t)ceil(other / multiple - 1e-9) * multiple;
    if (o < multiple)
        o = multiple;
    *w = wide ? longest : o;
    *h = wide ? o : longest;
}

static size_t dtype_size(vg_vis_dtype t) {
    return t == VG_VIS_U8 ? 1 : 4;
}

size_t vg_manifest_input_bytes(const vg_manifest *m, int32_t w, int32_t h) {
    if (w <= 0 || h <= 0) {
        w = m->input_w;
        h = m->input_h;
    }
    if (w <= 0 || h <= 0)
        return 0;
    return dtype_size(m->dtype) * 3u * (size_t)w * (size_t)h;
}

/* ---- storing one pixel ---------------------------------------------------- */

/* Where to write: the manifest's conversion, resolved once per call. */
typedef struct px_writer {
    void        *dst;
    int32_t      w, h;
    vg_vis_dtype dtype;
    size_t       pstride, cstride; /* element index = (i*w + j) * pstride + c * cstride */
    int32_t      src_ch[3];        /* model channel c takes image channel src_ch[c] */
    float        divisor, mean[3], std[3];
    bool         do_div, do_norm; /* skip exact identities (v / 1, (v - 0) / 1) */
} px_writer;

static void writer_init(px_writer *pw, const vg_manifest *m, void *dst, int32_t w, int32_t h) {
    pw->dst     = dst;
    pw->w       = w;
    pw->h       = h;
    pw->dtype   = m->dtype;
    pw->pstride = m->layout == VG_VIS_NHWC ? 3u : 1u;
    pw->cstride = m->layout == VG_VIS_NHWC ? 1u : (size_t)w * (size_t)h;
    pw->do_norm = false;
    for (int c = 0; c < 3; c++) {
        pw->src_ch[c] = m->bgr ? 2 - c : c;
        pw->mean[c]   = m->mean[c];
        pw->std[c]    = m->std[c];
        pw->do_norm   = pw->do_norm || m->mean[c] != 0.0f || m->std[c] != 1.0f;
    }
    pw->divisor = m->divisor;
    pw->do_div  = m->divisor != 1.0f;
}

/* rgb: the resampled pixel in image channel order, 0..255 as float32. The
 * normalisation is float32 arithmetic, one rounding per operation, as the
 * references (v / divisor, then (v - mean) / std). */
static inline void writer_put(const px_writer *pw, int32_t i, int32_t j, const float *rgb) {
    size_t base = ((size_t)i * (size_t)pw->w + (size_t)j) * pw->pstride;
    for (int c = 0; c < 3; c++) {
        float v = rgb[pw->src_ch[c]];
        if (pw->do_div)
            v = v / pw->divisor;
        if (pw->do_norm)
            v = (v - pw->mean[c]) / pw->std[c];
        size_t idx = base + (size_t)c * pw->cstride;
        switch (pw->dtype) {
        case VG_VIS_F32:
            ((float *)pw->dst)[idx] = v;
            break;
        case VG_VIS_I32:
            ((int32_t *)pw->dst)[idx] = (int32_t)v; /* truncation toward zero, as tf.cast */
            break;
        case VG_VIS_U8:
            ((uint8_t *)pw->dst)[idx] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : v + 0.5f);
            break;
        }
    }
}

/* Rounds half away from zero into 0..255 (the uint8 paths). */
static inline float round_u8(double v) {
    double r = floor(v + 0.5);
    return (float)(r < 0 ? 0 : r > 255 ? 255 : r);
}

static vg_status check_image(const vg_image *img) {
    if (!img || !img->data || img->width <= 0 || img->height <= 0 || img->stride < 3 * img->width)
        return VG_E_INVALID_ARG;
    return VG_OK;
}

/* ---- the sampler ----------------------------------------------------------- */

/*
 * Every recipe samples output pixel (j, i) from two source columns and two
 * source rows with weights that depend on j alone and on i alone. The taps of
 * a block of columns are computed once and reused for every row (the
 * arithmetic per tap is unchanged, so results stay bit-exact).
 */
typedef struct tap {
    int32_t i0, i1;   /* source indices */
    double  w;        /* weight of i1 (the recipe's wx / wy) */
    bool    in0, in1; /* tap inside the image (else it reads 0) */
    bool    zero;     /* TF extrapolation: the whole sample is 0 */
} tap;

typedef enum kernel {
    KERNEL_TF, /* top = a + (b - a) wx; out = (float)(top + (bottom - top) wy) */
    KERNEL_U8, /* (1-wy)((1-wx) a + wx b) + wy((1-wx) c + wx d), rounded to uint8 */
} kernel;

typedef enum tap_kind {
    TAP_TF_RESIZE, /* resizeBilinear(half_pixel): f = (S/n)(d+0.5)-0.5; floor/ceil, clamped */
    TAP_U8_RESIZE, /* f = (d+0.5)(S/n)-0.5 clamped to [0,S-1]; floor, +1 */
    TAP_TF_CROP,   /* f = o + d * step; outside [0,S-1] -> 0 */
    TAP_AFFINE,    /* f = (d - t) / k; floor, +1; taps outside read 0 */
} tap_kind;

typedef struct axis {
    tap_kind kind;
    int32_t  S; /* source size along this axis */
    int32_t  n; /* resized size (resize kinds) */
    double   o, step, t, k;
    bool     mirror; /* TAP_TF_CROP/TAP_AFFINE: index d samples n_out-1-d */
    int32_t  n_out;
} axis;

static void axis_tap(const axis *a, int32_t d, tap *t) {
    const int32_t S = a->S;
    t->in0 = t->in1 = true;
    t->zero         = false;
    if (a->mirror)
        d = a->n_out - 1 - d;
    switch (a->kind) {
    case TAP_TF_RESIZE: {
        double f   = ((double)S / a->n) * (d + 0.5) - 0.5;
        t->i0      = f > 0 ? (int32_t)floor(f) : 0;
        int32_t i1 = (int32_t)ceil(f);
        t->i1      = i1 < S - 1 ? i1 : S - 1;
        t->w       = f - t->i0;
        break;
    }
    case TAP_U8_RESIZE: {
        double f = (d + 0.5) * ((double)S / a->n) - 0.5;
        f        = f < 0 ? 0 : f > S - 1 ? S - 1 : f;
        t->i0    = (int32_t)floor(f);
        t->i1    = t->i0 + 1 < S ? t->i0 + 1 : S - 1;
        t->w     = f - t->i0;
        break;
    }
    case TAP_TF_CROP: {
        double f = a->o + d * a->step;
        if (f < 0 || f > S - 1) {
            t->zero = true;
            t->i0 = t->i1 = 0;
            t->w          = 0;
            break;
        }
        t->i0 = (int32_t)floor(f);
        t->i1 = (int32_t)ceil(f);
        t->w  = f - t->i0;
        break;
    }
    case TAP_AFFINE: {
        double f  = (d - a->t) / a->k;
        double f0 = floor(f);
        /* Far outside: clamp the index so it fits an int; both taps read 0. */
        if (f0 < -2 || f0 > S + 1) {
            t->i0 = t->i1 = 0;
            t->in0 = t->in1 = false;
            t->w            = 0;
            break;
        }
        t->i0  = (int32_t)f0;
        t->i1  = t->i0 + 1;
        t->w   = f - f0;
        t->in0 = t->i0 >= 0 && t->i0 < S;
        t->in1 = t->i1 >= 0 && t->i1 < S;
        if (!t->in0)
            t->i0 = 0;
        if (!t->in1)
            t->i1 = 0;
        break;
    }
    }
}

#define COL_BLOCK 256

/* Samples an n_cols x n_rows region of the output at (ox, oy). */
static void sample_region(const px_writer *pw, const vg_image *img, kernel k, const axis *ax,
                          const axis *ay, int32_t ox, int32_t oy, int32_t n_cols, int32_t n_rows) {
    tap            cols[COL_BLOCK];
    const uint8_t *base   = img->data;
    const size_t   stride = (size_t)img->stride;
    for (int32_t j0 = 0; j0 < n_cols; j0 += COL_BLOCK) {
        int32_t nb = n_cols - j0 < COL_BLOCK ? n_cols - j0 : COL_BLOCK;
        for (int32_t j = 0; j < nb; j++)
            axis_tap(ax, j0 + j, &cols[j]);
        for (int32_t i = 0; i < n_rows; i++) {
            tap ty;
            axis_tap(ay, i, &ty);
            const uint8_t *r0 = base + (size_t)ty.i0 * stride, *r1 = base + (size_t)ty.i1 * stride;
            for (int32_t j = 0; j < nb; j++) {
                const tap *tx     = &cols[j];
                float      out[3] = {0, 0, 0};
                if (k == KERNEL_TF) {
                    if (!ty.zero && !tx->zero) {
                        const uint8_t *a = r0 + 3 * (size_t)tx->i0, *b = r0 + 3 * (size_t)tx->i1;
                        const uint8_t *c = r1 + 3 * (size_t)tx->i0, *d = r1 + 3 * (size_t)tx->i1;
                        for (int ch = 0; ch < 3; ch++) {
                            double tl = a[ch], tr = b[ch], bl = c[ch], br = d[ch];
                            double top    = tl + (tr - tl) * tx->w;
                            double bottom = bl + (br - bl) * tx->w;
                            out[ch]       = (float)(top + (bottom - top) * ty.w);
                        }
                    }
                } else {
                    const double wx = tx->w, wy = ty.w;
                    for (int ch = 0; ch < 3; ch++) {
                        double tl = ty.in0 && tx->in0 ? r0[3 * (size_t)tx->i0 + ch] : 0;
                        double tr = ty.in0 && tx->in1 ? r0[3 * (size_t)tx->i1 + ch] : 0;
                        double bl = ty.in1 && tx->in0 ? r1[3 * (size_t)tx->i0 + ch] : 0;
                        double br = ty.in1 && tx->in1 ? r1[3 * (size_t)tx->i1 + ch] : 0;
                        double v =
                            (1 - wy) * ((1 - wx) * tl + wx * tr) + wy * ((1 - wx) * bl + wx * br);
                        out[ch] = round_u8(v);
                    }
                }
                writer_put(pw, oy + i, ox + j0 + j, out);
            }
        }
    }
}

/* ---- detector input ------------------------------------------------------ */

vg_status vg_pre_detector(const vg_manifest *m, const vg_image *img, int32_t w, int32_t h,
                          void *dst, size_t dst_bytes, vg_letterbox *lb) {
    if (!m || !dst || !lb || check_image(img) != VG_OK)
        return VG_E_INVALID_ARG;
    if (w <= 0 || h <= 0) {
        w = m->input_w;
        h = m->input_h;
    }
    if (w <= 0 || h <= 0)
        return VG_E_INVALID_ARG;
    if (dst_bytes < vg_manifest_input_bytes(m, w, h))
        return VG_E_SHAPE;

    vg_letterbox_compute(img->width, img->height, w, h, m->resize, lb);
    px_writer pw;
    writer_init(&pw, m, dst, w, h);
    const int32_t nw = lb->resized_w, nh = lb->resized_h, dx = lb->pad_left, dy = lb->pad_top;
    const float   pad[3] = {m->pad_value, m->pad_value, m->pad_value};
    for (int32_t i = 0; i < h; i++)
        for (int32_t j = 0; j < w; j++)
            if (i < dy || i >= dy + nh || j < dx || j >= dx + nw)
                writer_put(&pw, i, j, pad);
    const bool u8 = m->resample == VG_VIS_RESAMPLE_U8;
    axis       ax = {.kind = u8 ? TAP_U8_RESIZE : TAP_TF_RESIZE, .S = img->width, .n = nw};
    axis       ay = {.kind = u8 ? TAP_U8_RESIZE : TAP_TF_RESIZE, .S = img->height, .n = nh};
    sample_region(&pw, img, u8 ? KERNEL_U8 : KERNEL_TF, &ax, &ay, dx, dy, nw, nh);
    return VG_OK;
}

/* ---- person crops -------------------------------------------------------- */

vg_status vg_crop_from_box(const vg_manifest *m, const vg_box *box, int32_t src_w, int32_t src_h,
                           vg_crop *crop) {
    if (!box)
        return VG_E_INVALID_ARG;
    return vg_crop_from_xyxy(m, box->x1, box->y1, box->x2, box->y2, src_w, src_h, crop);
}

vg_status vg_crop_from_xyxy(const vg_manifest *m, double x1, double y1, double x2, double y2,
                            int32_t src_w, int32_t src_h, vg_crop *crop) {
    if (!m || !crop || src_w <= 1 || src_h <= 1 || m->input_w <= 1 || m->input_h <= 1)
        return VG_E_INVALID_ARG;
    memset(crop, 0, sizeof(*crop));
    crop->method     = m->crop;
    crop->out_w      = m->input_w;
    crop->out_h      = m->input_h;
    crop->src_w      = src_w;
    crop->src_h      = src_h;
    const double pad = m->crop_padding > 0 ? m->crop_padding : 1.25;
    double       bw = x2 - x1, bh = y2 - y1;
    if (!(bw >= 0) || !(bh >= 0))
        return VG_E_INVALID_ARG;

    if (m->crop == VG_VIS_CROP_TF_SQUARE) {
        double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
        double side = (bw > bh ? bw : bh) * pad;
        if (side <= 0)
            side = 1;
        double cx1 = cx - side / 2, cy1 = cy - side / 2, cx2 = cx + side / 2, cy2 = cy + side / 2;
        /* The box is rounded to float32 as TF stores it. Through a volatile: gcc 12's
         * SLP vectoriser (-O2) was seen to drop the (double)(float) round trip here. */
        volatile float vb[4] = {(float)(cy1 / (src_h - 1)), (float)(cx1 / (src_w - 1)),
                                (float)(cy2 / (src_h - 1)), (float)(cx2 / (src_w - 1))};
        float          b[4]  = {vb[0], vb[1], vb[2], vb[3]};
        memcpy(crop->tf_box_yxyx, b, sizeof(b));
        crop->cx = cx;
        crop->cy = cy;
        crop->w = crop->h = side;
        /* tf.image.cropAndResize, in double from the float32 box. */
        crop->sy0 = (double)b[0] * (src_h - 1);
        crop->sdy = ((double)b[2] - (double)b[0]) * (src_h - 1) / (crop->out_h - 1);
        crop->sx0 = (double)b[1] * (src_w - 1);
        crop->sdx = ((double)b[3] - (double)b[1]) * (src_w - 1) / (crop->out_w - 1);
        /* Decoding: normalised 0 and 1 are the first and last sample. */
        double ex1 = (double)b[1] * (src_w - 1), ex2 = (double)b[3] * (src_w - 1);
        double ey1 = (double)b[0] * (src_h - 1), ey2 = (double)b[2] * (src_h - 1);
        crop->ox = ex1;
        crop->oy = ey1;
        crop->kx = (ex2 - ex1) / crop->out_w;
        crop->ky = (ey2 - ey1) / crop->out_h;
    } else {
        double aspect = (double)m->input_w / m->input_h;
        double cx = x1 + bw * 0.5, cy = y1 + bh * 0.5;
        if (bw > aspect * bh)
            bh = bw / aspect;
        else
            bw = bh * aspect;
        /* Official HRNet: scale = (w, h) / 200 * padding; the crop is scale * 200. */
        double sw = bw / 200.0 * pad * 200.0, sh = bh / 200.0 * pad * 200.0;
        if (sw <= 0 || sh <= 0)
            sw = sh = 1;
        crop->cx = cx;
        crop->cy = cy;
        crop->w  = sw;
        crop->h  = sh;
        /* dst = k (src - c) + (W/2, H/2), k = W / sw; sampled at integer dst. */
        double k  = m->input_w / sw;
        double tx = m->input_w * 0.5 - k * cx, ty = m->input_h * 0.5 - k * cy;
        crop->k   = k;
        crop->tx  = tx;
        crop->ty  = ty;
        crop->sdx = crop->sdy = 1.0 / k;
        crop->sx0             = -tx / k;
        crop->sy0             = -ty / k;
        crop->kx              = sw / m->input_w;
        crop->ky              = sh / m->input_h;
        crop->ox              = cx - m->input_w * 0.5 * crop->kx;
        crop->oy              = cy - m->input_h * 0.5 * crop->ky;
    }
    return VG_OK;
}

void vg_crop_flip(const vg_crop *crop, vg_crop *flipped) {
    *flipped         = *crop;
    flipped->flipped = !crop->flipped;
}

vg_status vg_pre_crop(const vg_manifest *m, const vg_image *img, const vg_crop *crop, void *dst,
                      size_t dst_bytes) {
    if (!m || !crop || !dst || check_image(img) != VG_OK)
        return VG_E_INVALID_ARG;
    const int32_t S_w = crop->out_w, S_h = crop->out_h;
    if (S_w != m->input_w || S_h != m->input_h)
        return VG_E_SHAPE;
    if (dst_bytes < vg_manifest_input_bytes(m, S_w, S_h))
        return VG_E_SHAPE;
    px_writer pw;
    writer_init(&pw, m, dst, S_w, S_h);
    axis ax = {.S = img->width, .n_out = S_w, .mirror = crop->flipped};
    axis ay = {.S = img->height, .n_out = S_h};
    if (crop->method == VG_VIS_CROP_AFFINE) {
        /* The reference warp evaluates src = (dst - t) / k (as cv2.warpAffine with a
         * constant 0 border, then rounded to uint8). */
        if (!(crop->k > 0))
            return VG_E_INVALID_ARG;
        ax.kind = ay.kind = TAP_AFFINE;
        ax.k = ay.k = crop->k;
        ax.t        = crop->tx;
        ay.t        = crop->ty;
        sample_region(&pw, img, KERNEL_U8, &ax, &ay, 0, 0, S_w, S_h);
    } else {
        /* tf.image.cropAndResize: src = box_start + d * step, extrapolation 0. */
        ax.kind = ay.kind = TAP_TF_CROP;
        ax.o              = crop->sx0;
        ax.step           = crop->sdx;
        ay.o              = crop->sy0;
        ay.step           = crop->sdy;
        sample_region(&pw, img, KERNEL_TF, &ax, &ay, 0, 0, S_w, S_h);
    }
    return VG_OK;
}

vg_status vg_pre_pose_batch(const vg_manifest *m, const vg_image *img, const vg_crop *crops,
                            int32_t n, void *dst, size_t dst_bytes) {
    if (!m || (n > 0 && (!crops || !dst)) || n < 0)
        return VG_E_INVALID_ARG;
    size_t  item  = vg_manifest_input_bytes(m, 0, 0);
    int32_t items = m->heatmap_flip_test ? 2 * n : n;
    if (item == 0 || dst_bytes < item * (size_t)items)
        return VG_E_SHAPE;
    for (int32_t b = 0; b < n; b++) {
        vg_status st = vg_pre_crop(m, img, &crops[b], (uint8_t *)dst + item * (size_t)b, item);
        if (st != VG_OK)
            return st;
        if (m->heatmap_flip_test) {
            vg_crop fl;
            vg_crop_flip(&crops[b], &fl);
            st = vg_pre_crop(m, img, &fl, (uint8_t *)dst + item * (size_t)(n + b), item);
            if (st != VG_OK)
                return st;
        }
    }
    return VG_OK;
}

/* ---- any frame to RGB24 --------------------------------------------------- */

struct vg_frame_rgb {
    struct SwsContext *sws;
    uint8_t           *buf;
    size_t             buf_size;
    int32_t            stride;
};

vg_status vg_frame_rgb_create(vg_frame_rgb **out) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = vg_calloc(1, sizeof(**out));
    return *out ? VG_OK : VG_E_NOMEM;
}

void vg_frame_rgb_destroy(vg_frame_rgb *c) {
    if (!c)
        return;
    sws_freeContext(c->sws);
    vg_free(c->buf);
    vg_free(c);
}

vg_status vg_frame_rgb_convert(vg_frame_rgb *c, const struct AVFrame *frame, vg_image *img) {
    if (!c || !frame || !img || frame->width <= 0 || frame->height <= 0)
        return VG_E_INVALID_ARG;
    if (frame->format == AV_PIX_FMT_RGB24 && frame->linesize[0] > 0) {
        img->data   = frame->data[0];
        img->width  = frame->width;
        img->height = frame->height;
        img->stride = frame->linesize[0];
        return VG_OK;
    }
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get((enum AVPixelFormat)frame->format);
    if (!desc || !sws_isSupportedInput((enum AVPixelFormat)frame->format)) {
        vg_log("vision", VG_LOG_ERROR, "frame pixel format %s cannot be converted to RGB24",
               desc ? desc->name : "(unknown)");
        return VG_E_UNSUPPORTED;
    }
    int32_t stride = (frame->width * 3 + 63) & ~63;
    size_t  need   = (size_t)stride * (size_t)frame->height;
    if (need > c->buf_size) {
        uint8_t *nb = vg_malloc(need);
        if (!nb)
            return VG_E_NOMEM;
        vg_free(c->buf);
        c->buf      = nb;
        c->buf_size = need;
    }
    c->stride = stride;
    c->sws    = sws_getCachedContext(
           c->sws, frame->width, frame->height, (enum AVPixelFormat)frame->format, frame->width,
           frame->height, AV_PIX_FMT_RGB24,
           SWS_POINT | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (!c->sws)
        return VG_E_NOMEM;
    /* Colour matrix and range from the frame (yuvj* formats are full range already). */
    int        full = frame->color_range == AVCOL_RANGE_JPEG;
    int        cs   = frame->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
    const int *coef = sws_getCoefficients(cs);
    int       *inv, *tab, src_range, dst_range, bri, con, sat;
    if (sws_getColorspaceDetails(c->sws, &inv, &src_range, &tab, &dst_range, &bri, &con, &sat) >= 0)
        sws_setColorspaceDetails(c->sws, coef, full ? 1 : src_range, tab, 1, bri, con, sat);
    uint8_t *dst[4]    = {c->buf, NULL, NULL, NULL};
    int      dst_ls[4] = {stride, 0, 0, 0};
    int      h         = sws_scale(c->sws, (const uint8_t *const *)frame->data, frame->linesize, 0,
                                   frame->height, dst, dst_ls);
    if (h != frame->height)
        return VG_E_BACKEND;
    img->data   = c->buf;
    img->width  = frame->width;
    img->height = frame->height;
    img->stride = stride;
    return VG_OK;
}
