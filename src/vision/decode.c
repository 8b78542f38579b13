/*
 * decode.c - model outputs into detections and poses in frame coordinates.
 *
 * DESIGN: every detector family first produces candidates (box in model-input
 * pixels in double, float32 score, class, and the candidate's position in the
 * family's natural order), then one greedy NMS runs on the input-space boxes,
 * and only the kept boxes are mapped back through the letterbox and clipped.
 * Doing NMS before the mapping keeps it independent of the frame size and
 * matches the references. The decoder object owns the scratch arrays
 * (candidates, sort indices, heatmap buffers); they grow to the largest frame
 * seen and are reused, so the steady state allocates nothing. Pose decoders
 * map keypoints through the vg_crop the input was sampled with.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/vision.h"

typedef struct cand {
    double  x1, y1, x2, y2; /* model-input pixels */
    float   score;
    int32_t cls;
} cand;

struct vg_decoder {
    vg_manifest m;
    char        err[256];
    cand       *cands;
    int32_t    *order; /* 2 * cap_cands */
    int32_t     cap_cands;
    float      *fbuf; /* heatmap scratch */
    size_t      cap_fbuf;
};

static vg_status derr(vg_decoder *d, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vg_status derr(vg_decoder *d, vg_status st, const char *fmt, ...) {
    va_list ap;
    int     n = snprintf(d->err, sizeof(d->err), "%s: ", d->m.name);
    va_start(ap, fmt);
    vsnprintf(d->err + n, sizeof(d->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return st;
}

vg_status vg_decoder_create(const vg_manifest *m, vg_decoder **out) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = NULL;
    if (!m)
        return VG_E_INVALID_ARG;
    vg_decoder *d = vg_calloc(1, sizeof(*d));
    if (!d)
        return VG_E_NOMEM;
    d->m = *m;
    *out = d;
    return VG_OK;
}

void vg_decoder_destroy(vg_decoder *d) {
    if (!d)
        return;
    vg_free(d->cands);
    vg_free(d->order);
    vg_free(d->fbuf);
    vg_free(d);
}

const char *vg_decoder_errmsg(const vg_decoder *d) {
    return d ? d->err : "";
}

static vg_status reserve_cands(vg_decoder *d, int64_t n) {
    if (n <= d->cap_cands)
        return VG_OK;
    if (n > (1 << 26))
        return derr(d, VG_E_SHAPE, "%lld candidates is more than this decoder handles",
                    (long long)n);
    int32_t  cap = (int32_t)n;
    cand    *c   = vg_malloc(sizeof(cand) * (size_t)cap);
    int32_t *o   = vg_malloc(sizeof(int32_t) * 2u * (size_t)cap);
    if (!c || !o) {
        vg_free(c);
        vg_free(o);
        return derr(d, VG_E_NOMEM, "out of memory for %d candidates", cap);
    }
    vg_free(d->cands);
    vg_free(d->order);
    d->cands     = c;
    d->order     = o;
    d->cap_cands = cap;
    return VG_OK;
}

static vg_status reserve_fbuf(vg_decoder *d, size_t n) {
    if (n <= d->cap_fbuf)
        return VG_OK;
    float *f = vg_malloc(sizeof(float) * n);
    if (!f)
        return derr(d, VG_E_NOMEM, "out of memory for heatmap scratch (%zu floats)", n);
    vg_free(d->fbuf);
    d->fbuf     = f;
    d->cap_fbuf = n;
    return VG_OK;
}

/* ---- NMS ----------------------------------------------------------------- */

static double iou_xyxy(double ax1, double ay1, double ax2, double ay2, double bx1, double by1,
                       double bx2, double by2) {
    double iw    = fmin(ax2, bx2) - fmax(ax1, bx1);
    double ih    = fmin(ay2, by2) - fmax(ay1, by1);
    double inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
    double uni   = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
    return uni > 0 ? inter / uni : 0.0;
}

double vg_box_iou(const vg_box *a, const vg_box *b) {
    return iou_xyxy(a->x1, a->y1, a->x2, a->y2, b->x1, b->y1, b->x2, b->y2);
}

/* Stable merge sort of idx[0..n) by score descending; tmp has n ints. */
static void sort_by_score(int32_t *idx, int32_t *tmp, int32_t n, const float *score,
                          size_t score_stride) {
#define SC(i) (*(const float *)((const char *)score + (size_t)(i)*score_stride))
    for (int32_t width = 1; width < n; width *= 2) {
        for (int32_t lo = 0; lo < n; lo += 2 * width) {
            int32_t mid = lo + width < n ? lo + width : n;
            int32_t hi  = lo + 2 * width < n ? lo + 2 * width : n;
            int32_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = SC(idx[b]) > SC(idx[a]) ? idx[b++] : idx[a++];
            while (a < mid)
                tmp[k++] = idx[a++];
            while (b < hi)
                tmp[k++] = idx[b++];
        }
        memcpy(idx, tmp, sizeof(int32_t) * (size_t)n);
    }
#undef SC
}

/* Greedy NMS over candidates; writes kept candidate indices to keep[]. */
static int32_t nms_cands(const cand *c, int32_t n, double iou_thr, bool agnostic, int32_t max_keep,
                         int32_t *order, int32_t *keep) {
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    sort_by_score(order, order + n, n, &c[0].score, sizeof(cand));
    int32_t nk = 0;
    for (int32_t oi = 0; oi < n && nk < max_keep; oi++) {
        const cand *a    = &c[order[oi]];
        bool        drop = false;
        for (int32_t k = 0; k < nk && !drop; k++) {
            const cand *b = &c[keep[k]];
            if (!agnostic && a->cls != b->cls)
                continue;
            drop = iou_xyxy(a->x1, a->y1, a->x2, a->y2, b->x1, b->y1, b->x2, b->y2) > iou_thr;
        }
        if (!drop)
            keep[nk++] = order[oi];
    }
    return nk;
}

int32_t vg_nms(const vg_detection *dets, int32_t n, double iou_threshold, bool class_agnostic,
               int32_t max_keep, int32_t *order, vg_detection *out, int32_t cap) {
    if (!dets || !order || !out || n <= 0 || cap <= 0)
        return 0;
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    sort_by_score(order, order + n, n, &dets[0].score, sizeof(vg_detection));
    int32_t lim = max_keep < cap ? max_keep : cap;
    int32_t nk  = 0;
    for (int32_t oi = 0; oi < n && nk < lim; oi++) {
        const vg_detection *a    = &dets[order[oi]];
        bool                drop = false;
        for (int32_t k = 0; k < nk && !drop; k++) {
            if (!class_agnostic && a->class_id != out[k].class_id)
                continue;
            drop = vg_box_iou(&a->box, &out[k].box) > iou_threshold;
        }
        if (!drop)
            out[nk++] = *a;
    }
    return nk;
}

/* ---- shared tail: NMS, letterbox back, clip -------------------------------- */

static vg_status finish_detections(vg_decoder *d, int32_t n, const vg_letterbox *lb, bool clip,
                                   vg_detection *dets, int32_t cap, int32_t *n_out) {
    const vg_manifest *m        = &d->m;
    int32_t            max_keep = m->max_detections > 0 ? m->max_detections : 100;
    *n_out                      = 0;
    if (n == 0)
        return VG_OK;
    if (max_keep > cap)
        max_keep = cap;
    /* order[0..n): sorted ids; order[n..2n): merge scratch, then the kept ids. */
    int32_t *keep = d->order + n;
    int32_t  nk =
        nms_cands(d->cands, n, m->iou_threshold, m->class_agnostic_nms, max_keep, d->order, keep);
    for (int32_t k = 0; k < nk; k++) {
        const cand *c = &d->cands[keep[k]];
        double      x1, y1, x2, y2;
        vg_letterbox_to_frame(lb, c->x1, c->y1, &x1, &y1);
        vg_letterbox_to_frame(lb, c->x2, c->y2, &x2, &y2);
        if (clip) {
            x1 = fmin(fmax(x1, 0), lb->src_w);
            x2 = fmin(fmax(x2, 0), lb->src_w);
            y1 = fmin(fmax(y1, 0), lb->src_h);
            y2 = fmin(fmax(y2, 0), lb->src_h);
        }
        dets[k].box.x1   = (float)x1;
        dets[k].box.y1   = (float)y1;
        dets[k].box.x2   = (float)x2;
        dets[k].box.y2   = (float)y2;
        dets[k].score    = c->score;
        dets[k].class_id = c->cls;
    }
    *n_out = nk;
    return VG_OK;
}

static bool is_f32(const vg_vis_tensor *t) {
    return t && t->dtype == VG_VIS_F32 && t->data;
}

/* Finds the first output whose last dim is `last` and rank `ndim` (any if 0). */
static const vg_vis_tensor *find_last_dim(const vg_vis_tensor *outs, int32_t n, int64_t last,
                                          int32_t ndim, int32_t skip) {
    for (int32_t i = 0; i < n; i++) {
        const vg_vis_tensor *t = &outs[i];
        if (t->ndim >= 1 && t->shape[t->ndim - 1] == last && (!ndim || t->ndim == ndim)) {
            if (skip-- == 0)
                return t;
        }
    }
    return NULL;
}

/* ---- CenterNet ------------------------------------------------------------- */

static vg_status decode_centernet_rows(vg_decoder *d, const vg_vis_tensor *t, int32_t *n_out) {
    int64_t      rows = t->shape[t->ndim - 2];
    const float *p    = t->data;
    vg_status    st   = reserve_cands(d, rows);
    if (st != VG_OK)
        return st;
    int32_t n = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = p + r * 6;
        if (!((double)row[4] >= d->m.score_threshold))
            continue;
        cand *c  = &d->cands[n++];
        c->x1    = row[0];
        c->y1    = row[1];
        c->x2    = row[2];
        c->y2    = row[3];
        c->score = row[4];
        c->cls   = (int32_t)row[5];
    }
    *n_out = n;
    return VG_OK;
}

/* The in-graph decode in C: 3x3 peak test, top-K 100, boxes from wh. */
static vg_status decode_centernet_heatmap(vg_decoder *d, const vg_vis_tensor *heat,
                                          const vg_vis_tensor *wh, int32_t *n_out) {
    const int64_t H = heat->shape[1], W = heat->shape[2], C = heat->shape[3];
    const float  *hp = heat->data, *wp = wh->data;
    const float   stride = (float)d->m.input_w / (float)W;
    int32_t       n      = 0;
    vg_status     st;
    /* Count peaks first so the scratch is sized once. */
    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++)
                for (int64_t c = 0; c < C; c++) {
                    float v = hp[(y * W + x) * C + c];
                    if (!((double)v >= d->m.score_threshold))
                        continue;
                    bool peak = true;
                    for (int64_t yy = y - 1; yy <= y + 1 && peak; yy++)
                        for (int64_t xx = x - 1; xx <= x + 1 && peak; xx++)
                            if (yy >= 0 && yy < H && xx >= 0 && xx < W &&
                                hp[(yy * W + xx) * C + c] > v)
                                peak = false;
                    if (!peak)
                        continue;
                    if (pass == 1) {
                        const float *e  = wp + (y * W + x) * 4;
                        float        cx = stride * (float)x, cy = stride * (float)y;
                        cand        *k = &d->cands[n];
                        k->x1          = cx - e[0];
                        k->y1          = cy - e[1];
                        k->x2          = cx + e[2];
                        k->y2          = cy + e[3];
                        k->score       = v;
                        k->cls         = (int32_t)c;
                    }
                    n++;
                }
        if (pass == 0 && (st = reserve_cands(d, n > 0 ? n : 1)) != VG_OK)
            return st;
    }
    /* Top-K 100 (ties by lower index = candidate order), keep that order. */
    if (n > 100) {
        for (int32_t i = 0; i < n; i++)
            d->order[i] = i;
        sort_by_score(d->order, d->order + n, n, &d->cands[0].score, sizeof(cand));
        /* Mark the top 100 and compact preserving candidate order. */
        for (int32_t i = 0; i < n; i++)
            d->order[n + i] = 0;
        for (int32_t i = 0; i < 100; i++)
            d->order[n + d->order[i]] = 1;
        int32_t w = 0;
        for (int32_t i = 0; i < n; i++)
            if (d->order[n + i])
                d->cands[w++] = d->cands[i];
        n = w;
    }
    *n_out = n;
    return VG_OK;
}

/* ---- NanoDet (GFL) --------------------------------------------------------- */

static vg_status decode_nanodet(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                                int32_t *n_out) {
    const vg_manifest   *m     = &d->m;
    const int32_t        bins  = m->reg_max + 1;
    const int64_t        C     = m->n_classes > 0 ? m->n_classes : 80;
    int32_t              n     = 0;
    int64_t              total = 0;
    const vg_vis_tensor *cls_t[VG_MANIFEST_MAX_LEVELS], *box_t[VG_MANIFEST_MAX_LEVELS];
    int64_t              gw[VG_MANIFEST_MAX_LEVELS];

    for (int32_t l = 0; l < m->n_levels; l++) {
        int32_t s  = m->strides[l];
        int64_t gx = (m->input_w + s - 1) / s, gy = (m->input_h + s - 1) / s;
        cls_t[l] = box_t[l] = NULL;
        gw[l]               = gx;
        for (int32_t i = 0; i < n_outs; i++) {
            const vg_vis_tensor *t = &outs[i];
            if (t->ndim != 3 || t->shape[1] != gx * gy || !is_f32(&outs[i]))
                continue;
            if (t->shape[2] == C)
                cls_t[l] = t;
            else if (t->shape[2] == 4 * bins)
                box_t[l] = t;
        }
        if (!cls_t[l] || !box_t[l])
            return derr(d, VG_E_SHAPE,
                        "no output pair for stride %d: need float32 [1,%lld,%lld] scores and "
                        "[1,%lld,%d] box logits",
                        s, (long long)(gx * gy), (long long)C, (long long)(gx * gy), 4 * bins);
        const float *sc = cls_t[l]->data;
        for (int64_t i = 0; i < gx * gy * C; i++)
            total += (double)sc[i] >= m->score_threshold;
    }
    vg_status st = reserve_cands(d, total > 0 ? total : 1);
    if (st != VG_OK)
        return st;
    for (int32_t l = 0; l < m->n_levels; l++) {
        const double s  = m->strides[l];
        const float *sc = cls_t[l]->data, *bx = box_t[l]->data;
        int64_t      cells = cls_t[l]->shape[1];
        for (int64_t i = 0; i < cells; i++) {
            bool   have    = false;
            double dist[4] = {0, 0, 0, 0};
            double cx = ((double)(i % gw[l]) + 0.5) * s, cy = ((double)(i / gw[l]) + 0.5) * s;
            for (int64_t c = 0; c < C; c++) {
                float v = sc[i * C + c];
                if (!((double)v >= m->score_threshold))
                    continue;
                if (!have) {
                    for (int k = 0; k < 4; k++) {
                        const float *lg = bx + i * 4 * bins + k * bins;
                        double       mx = lg[0], se = 0, sj = 0;
                        for (int j = 1; j < bins; j++)
                            mx = fmax(mx, lg[j]);
                        for (int j = 0; j < bins; j++) {
                            double e = exp((double)lg[j] - mx);
                            se += e;
                            sj += j * e;
                        }
                        dist[k] = s * (sj / se);
                    }
                    have = true;
                }
                cand *k  = &d->cands[n++];
                k->x1    = fmax(cx - dist[0], 0);
                k->y1    = fmax(cy - dist[1], 0);
                k->x2    = fmin(cx + dist[2], m->input_w);
                k->y2    = fmin(cy + dist[3], m->input_h);
                k->score = v;
                k->cls   = (int32_t)c;
            }
        }
    }
    *n_out = n;
    return VG_OK;
}

/* ---- YOLOv7 ---------------------------------------------------------------- */

/* One decoded row [cx, cy, w, h, obj, p0..]: best class, score = obj * p. */
static void yolo_row(vg_decoder *d, const float *row, int64_t nc, int32_t *n) {
    float obj = row[4];
    if (!((double)obj > d->m.score_threshold))
        return;
    int64_t best = 0;
    float   bs   = obj * row[5];
    for (int64_t c = 1; c < nc; c++) {
        float s = obj * row[5 + c];
        if (s > bs) {
            bs   = s;
            best = c;
        }
    }
    if (!((double)bs > d->m.score_threshold))
        return;
    cand *k  = &d->cands[(*n)++];
    k->x1    = (double)row[0] - (double)row[2] / 2;
    k->y1    = (double)row[1] - (double)row[3] / 2;
    k->x2    = (double)row[0] + (double)row[2] / 2;
    k->y2    = (double)row[1] + (double)row[3] / 2;
    k->score = bs;
    k->cls   = (int32_t)best;
}

static float sigmoidf_(float x) {
    return 1.0f / (1.0f + expf(-x));
}

static vg_status decode_yolo(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                             int32_t *n_out) {
    const vg_manifest *m = &d->m;
    int32_t            n = 0;
    vg_status          st;
    if (m->output_form == VG_VIS_OUT_YOLO_GRID) {
        const vg_vis_tensor *t = NULL;
        for (int32_t i = 0; i < n_outs && !t; i++)
            if (outs[i].ndim == 3 && outs[i].shape[2] > 5 && is_f32(&outs[i]))
                t = &outs[i];
        if (!t)
            return derr(d, VG_E_SHAPE, "need a float32 [1,N,5+classes] output (--grid export)");
        int64_t rows = t->shape[1], no = t->shape[2];
        if ((st = reserve_cands(d, rows)) != VG_OK)
            return st;
        const float *p = t->data;
        for (int64_t r = 0; r < rows; r++)
            yolo_row(d, p + r * no, no - 5, &n);
    } else {
        /* Raw maps [1, A, ny, nx, no] of logits, one per level (largest grid first). */
        const vg_vis_tensor *lv[VG_MANIFEST_MAX_LEVELS] = {NULL};
        int64_t              rows                       = 0;
        for (int32_t l = 0; l < m->n_levels; l++) {
            int64_t ny = (m->input_h + m->strides[l] - 1) / m->strides[l];
            int64_t nx = (m->input_w + m->strides[l] - 1) / m->strides[l];
            for (int32_t i = 0; i < n_outs && !lv[l]; i++)
                if (outs[i].ndim == 5 && outs[i].shape[1] == 3 && outs[i].shape[2] == ny &&
                    outs[i].shape[3] == nx && outs[i].shape[4] > 5 && is_f32(&outs[i]))
                    lv[l] = &outs[i];
            if (!lv[l])
                return derr(d, VG_E_SHAPE,
                            "no raw output for stride %d: need float32 [1,3,%lld,%lld,5+classes]",
                            m->strides[l], (long long)ny, (long long)nx);
            rows += 3 * ny * nx;
        }
        int64_t no = lv[0]->shape[4];
        if ((st = reserve_cands(d, rows)) != VG_OK || (st = reserve_fbuf(d, (size_t)no)) != VG_OK)
            return st;
        float *row = d->fbuf;
        for (int32_t l = 0; l < m->n_levels; l++) {
            const float  *p  = lv[l]->data;
            const int64_t ny = lv[l]->shape[2], nx = lv[l]->shape[3];
            const float   S = (float)m->strides[l];
            for (int64_t a = 0; a < 3; a++)
                for (int64_t gy = 0; gy < ny; gy++)
                    for (int64_t gx = 0; gx < nx; gx++) {
                        const float *r = p + ((a * ny + gy) * nx + gx) * no;
                        /* Cheap reject on objectness before the full row. */
                        float obj = sigmoidf_(r[4]);
                        if (!((double)obj > m->score_threshold))
                            continue;
                        float s0 = sigmoidf_(r[0]), s1 = sigmoidf_(r[1]);
                        float s2 = sigmoidf_(r[2]), s3 = sigmoidf_(r[3]);
                        row[0] = (s0 * 2.0f - 0.5f + (float)gx) * S;
                        row[1] = (s1 * 2.0f - 0.5f + (float)gy) * S;
                        row[2] = (s2 * 2.0f) * (s2 * 2.0f) * m->anchors[l][a][0];
                        row[3] = (s3 * 2.0f) * (s3 * 2.0f) * m->anchors[l][a][1];
                        row[4] = obj;
                        for (int64_t c = 5; c < no; c++)
                            row[c] = sigmoidf_(r[c]);
                        yolo_row(d, row, no - 5, &n);
                    }
        }
    }
    *n_out = n;
    return VG_OK;
}

/* End-to-end exports: ONNX NMS [K,7] = batch, x1, y1, x2, y2, class, score; or the
 * TensorRT form num_dets [1,1], det_boxes [1,K,4], det_scores [1,K], det_classes [1,K]. */
static vg_status decode_yolo_end2end(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                                     int32_t *n_out) {
    int32_t              n = 0;
    vg_status            st;
    const vg_vis_tensor *t = find_last_dim(outs, n_outs, 7, 2, 0);
    if (t && is_f32(t)) {
        int64_t rows = t->shape[0];
        if ((st = reserve_cands(d, rows > 0 ? rows : 1)) != VG_OK)
            return st;
        const float *p = t->data;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = p + r * 7;
            if (row[0] != 0.0f || !((double)row[6] > d->m.score_threshold))
                continue;
            cand *k  = &d->cands[n++];
            k->x1    = row[1];
            k->y1    = row[2];
            k->x2    = row[3];
            k->y2    = row[4];
            k->cls   = (int32_t)row[5];
            k->score = row[6];
        }
        *n_out = n;
        return VG_OK;
    }
    const vg_vis_tensor *num = NULL, *boxes = NULL, *scores = NULL, *classes = NULL;
    for (int32_t i = 0; i < n_outs; i++) {
        const vg_vis_tensor *o = &outs[i];
        if (o->ndim == 3 && o->shape[2] == 4)
            boxes = o;
        else if (o->ndim == 2 && o->shape[1] == 1)
            num = o;
        else if (o->ndim == 2 && o->name && strstr(o->name, "score"))
            scores = o;
        else if (o->ndim == 2 && o->name && strstr(o->name, "class"))
            classes = o;
    }
    if (!num || !boxes || !scores || !classes || !is_f32(boxes) || !is_f32(scores))
        return derr(d, VG_E_SHAPE,
                    "end2end: need a float32 [K,7] output (ONNX NMS export) or num_dets "
                    "[1,1], det_boxes [1,K,4], det_scores [1,K], det_classes [1,K]");
    int64_t k_max = boxes->shape[1];
    int64_t cnt   = num->dtype == VG_VIS_I32 ? *(const int32_t *)num->data
                                             : (int64_t) * (const float *)num->data;
    if (cnt > k_max)
        cnt = k_max;
    if ((st = reserve_cands(d, k_max > 0 ? k_max : 1)) != VG_OK)
        return st;
    for (int64_t r = 0; r < cnt; r++) {
        float sc = ((const float *)scores->data)[r];
        if (!((double)sc > d->m.score_threshold))
            continue;
        const float *b = (const float *)boxes->data + r * 4;
        cand        *k = &d->cands[n++];
        k->x1          = b[0];
        k->y1          = b[1];
        k->x2          = b[2];
        k->y2          = b[3];
        k->score       = sc;
        k->cls         = classes->dtype == VG_VIS_I32 ? ((const int32_t *)classes->data)[r]
                                                      : (int32_t)((const float *)classes->data)[r];
    }
    *n_out = n;
    return VG_OK;
}

vg_status vg_decode_detections(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                               const vg_letterbox *lb, vg_detection *dets, int32_t cap,
                               int32_t *n) {
    if (!n)
        return VG_E_INVALID_ARG;
    *n = 0;
    if (!d || !outs || n_outs <= 0 || !lb || !dets || cap <= 0)
        return VG_E_INVALID_ARG;
    d->err[0] = '\0';
    if (lb->resized_w <= 0 || lb->resized_h <= 0)
        return derr(d, VG_E_INVALID_ARG, "letterbox has no size");
    int32_t   nc = 0;
    vg_status st;
    switch (d->m.family) {
    case VG_VIS_FAMILY_CENTERNET:
        if (d->m.output_form == VG_VIS_OUT_CENTERNET_HEATMAP) {
            const vg_vis_tensor *heat = NULL, *wh = NULL;
            for (int32_t i = 0; i < n_outs; i++) {
                if (outs[i].ndim == 4 && outs[i].shape[3] == 4 && is_f32(&outs[i]))
                    wh = &outs[i];
                else if (outs[i].ndim == 4 && is_f32(&outs[i]))
                    heat = &outs[i];
            }
            if (!heat || !wh || heat->shape[1] != wh->shape[1] || heat->shape[2] != wh->shape[2])
                return derr(d, VG_E_SHAPE,
                            "heatmap form needs float32 [1,H,W,classes] and [1,H,W,4] outputs");
            st = decode_centernet_heatmap(d, heat, wh, &nc);
        } else {
            const vg_vis_tensor *t = find_last_dim(outs, n_outs, 6, 3, 0);
            if (!t || !is_f32(t))
                return derr(d, VG_E_SHAPE, "need the float32 [1,K,6] detections output");
            st = decode_centernet_rows(d, t, &nc);
        }
        break;
    case VG_VIS_FAMILY_NANODET:
        st = decode_nanodet(d, outs, n_outs, &nc);
        break;
    case VG_VIS_FAMILY_YOLOV7:
        st = d->m.output_form == VG_VIS_OUT_YOLO_END2END ? decode_yolo_end2end(d, outs, n_outs, &nc)
                                                         : decode_yolo(d, outs, n_outs, &nc);
        break;
    default:
        return derr(d, VG_E_INVALID_ARG, "family %s is not a detector",
                    vg_vis_family_name(d->m.family));
    }
    if (st != VG_OK)
        return st;
    return finish_detections(d, nc, lb, true, dets, cap, n);
}

/* ---- heatmaps --------------------------------------------------------------- */

vg_heatmap_params vg_heatmap_params_default(void) {
    vg_heatmap_params p = {.quarter_shift = true, .dark = false, .dark_kernel = 11};
    return p;
}

/*
 * DARK needs the Gaussian-blurred heatmap (cv2.GaussianBlur on a zero-padded
 * copy, sigma from the kernel size as OpenCV picks it for sigma = 0) only at
 * the 5x5 cells around the peak, so only those are computed: out[dy][dx] for
 * dy, dx in -2..2. The reference also rescales the blurred map to the original
 * maximum before the log; a constant factor drops out of every derivative, so
 * it is left out (it could only matter where the clamp at 1e-10 bites).
 */
static void blur_window(const float *in, int32_t h, int32_t w, int32_t py, int32_t px,
                        int32_t ksize, double out[5][5]) {
    double  kern[64];
    int32_t r = ksize / 2;
    if (r > 31)
        r = 31;
    if (r < 0)
        r = 0;
    double sigma = 0.3 * (r - 1) + 0.8, sum = 0;
    for (int32_t i = -r; i <= r; i++) {
        kern[i + r] = exp(-(double)(i * i) / (2 * sigma * sigma));
        sum += kern[i + r];
    }
    for (int32_t i = 0; i <= 2 * r; i++)
        kern[i] /= sum;
    for (int32_t dy = -2; dy <= 2; dy++)
        for (int32_t dx = -2; dx <= 2; dx++) {
            int32_t y = py + dy, x = px + dx;
            double  acc = 0;
            for (int32_t i = -r; i <= r; i++) {
                if (y + i < 0 || y + i >= h)
                    continue;
                const float *row  = in + (size_t)(y + i) * (size_t)w;
                double       racc = 0;
                for (int32_t k = -r; k <= r; k++)
                    if (x + k >= 0 && x + k < w)
                        racc += kern[k + r] * row[x + k];
                acc += kern[i + r] * racc;
            }
            out[dy + 2][dx + 2] = log(acc > 1e-10 ? acc : 1e-10);
        }
}

/* 0.25 cell towards the larger neighbour in x and y (official HRNet: only for
 * 1 < px < w - 1 and 1 < py < h - 1). */
static void quarter_shift(const float *p, int32_t h, int32_t w, int32_t px, int32_t py, double *x,
                          double *y) {
    if (!(px > 1 && px < w - 1 && py > 1 && py < h - 1))
        return;
    float ddx = p[py * w + px + 1] - p[py * w + px - 1];
    float ddy = p[(py + 1) * w + px] - p[(py - 1) * w + px];
    *x += ddx > 0 ? 0.25 : ddx < 0 ? -0.25 : 0;
    *y += ddy > 0 ? 0.25 : ddy < 0 ? -0.25 : 0;
}

void vg_heatmap_decode(const float *hm, int32_t k, int32_t h, int32_t w,
                       const vg_heatmap_params *params, vg_keypoint *kp) {
    vg_heatmap_params def = vg_heatmap_params_default();
    if (!params)
        params = &def;
    for (int32_t j = 0; j < k; j++) {
        const float *p    = hm + (size_t)j * (size_t)h * (size_t)w;
        int32_t      best = 0;
        for (int32_t i = 1; i < h * w; i++)
            if (p[i] > p[best])
                best = i;
        float   mx = p[best];
        int32_t px = best % w, py = best / w;
        double  x = px, y = py;
        if (!(mx > 0)) {
            /* As the reference decoder: no positive response -> (0, 0). */
            kp[j].x     = 0;
            kp[j].y     = 0;
            kp[j].score = mx;
            continue;
        }
        if (params->dark) {
            if (px > 1 && px < w - 2 && py > 1 && py < h - 2) {
                double bw[5][5];
                blur_window(p, h, w, py, px, params->dark_kernel > 0 ? params->dark_kernel : 11,
                            bw);
#define B(yy, xx) (bw[(yy) + 2][(xx) + 2])
                double dx  = 0.5 * (B(0, 1) - B(0, -1));
                double dy  = 0.5 * (B(1, 0) - B(-1, 0));
                double dxx = 0.25 * (B(0, 2) - 2 * B(0, 0) + B(0, -2));
                double dxy = 0.25 * (B(1, 1) - B(-1, 1) - B(1, -1) + B(-1, -1));
                double dyy = 0.25 * (B(2, 0) - 2 * B(0, 0) + B(-2, 0));
#undef B
                double det = dxx * dyy - dxy * dxy;
                /* offset = -H^-1 g. Used only at a proper maximum (H negative
                 * definite) and when it stays within a cell; else (flat or noisy
                 * maps, where the Newton step can run off) the quarter shift. */
                double ox = 0, oy = 0;
                bool   ok = det > 0 && dxx < 0;
                if (ok) {
                    ox = -(dyy * dx - dxy * dy) / det;
                    oy = -(-dxy * dx + dxx * dy) / det;
                    ok = fabs(ox) <= 1 && fabs(oy) <= 1;
                }
                if (ok) {
                    x += ox;
                    y += oy;
                } else {
                    quarter_shift(p, h, w, px, py, &x, &y);
                }
            }
        } else if (params->quarter_shift) {
            quarter_shift(p, h, w, px, py, &x, &y);
        }
        kp[j].x     = (float)x;
        kp[j].y     = (float)y;
        kp[j].score = mx;
    }
}

void vg_heatmap_flip_merge(const float *hm, const float *hm_flipped, int32_t k, int32_t h,
                           int32_t w, const int32_t (*pairs)[2], int32_t n_pairs, float *out) {
    const size_t plane = (size_t)h * (size_t)w;
    for (int32_t j = 0; j < k; j++) {
        /* Channel j of the flipped-back maps comes from its mirror partner. */
        int32_t src = j;
        for (int32_t q = 0; q < n_pairs; q++) {
            if (pairs[q][0] == j)
                src = pairs[q][1];
            else if (pairs[q][1] == j)
                src = pairs[q][0];
        }
        const float *a = hm + (size_t)j * plane, *f = hm_flipped + (size_t)src * plane;
        float       *o = out + (size_t)j * plane;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                /* mirror: fb[x] = f[w-1-x]; shift right by one: shifted[x] = fb[x-1]. */
                int32_t xs = x > 0 ? x - 1 : 0;
                float   fb = f[(size_t)y * (size_t)w + (size_t)(w - 1 - xs)];
                o[(size_t)y * (size_t)w + (size_t)x] =
                    (a[(size_t)y * (size_t)w + (size_t)x] + fb) * 0.5f;
            }
    }
}

/* ---- poses ------------------------------------------------------------------ */

static void pose_score(const vg_manifest *m, vg_pose *p) {
    double s = 0;
    int    n = 0;
    for (int32_t k = 0; k < p->n_keypoints; k++)
        if (p->kp[k].score >= m->keypoint_threshold) {
            s += p->kp[k].score;
            n++;
        }
    p->score = n ? (float)(s / n) : 0.0f;
}

vg_status vg_decode_poses(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                          const vg_crop *crops, int32_t n, vg_pose *poses) {
    if (!d || (n > 0 && (!outs || n_outs <= 0 || !crops || !poses)) || n < 0)
        return VG_E_INVALID_ARG;
    d->err[0]            = '\0';
    const vg_manifest *m = &d->m;
    if (n == 0)
        return VG_OK;
    const vg_vis_tensor *t = &outs[0];
    if (!is_f32(t))
        return derr(d, VG_E_SHAPE, "pose output must be float32");

    if (m->family == VG_VIS_FAMILY_MOVENET) {
        /* [B,1,K,3] with B == n, or B == 1 per crop run (then n must be 1). */
        if (t->ndim != 4 || t->shape[3] != 3 || t->shape[2] > VG_MAX_KEYPOINTS || t->shape[0] < n)
            return derr(d, VG_E_SHAPE, "need a [%d,1,K,3] output (K <= %d)", n, VG_MAX_KEYPOINTS);
        const int32_t K = (int32_t)t->shape[2];
        for (int32_t b = 0; b < n; b++) {
            const float   *p    = (const float *)t->data + (size_t)b * (size_t)t->shape[1] * K * 3;
            const vg_crop *c    = &crops[b];
            vg_pose       *pose = &poses[b];
            pose->n_keypoints   = K;
            for (int32_t k = 0; k < K; k++) {
                double y = p[k * 3], x = p[k * 3 + 1];
                pose->kp[k].x     = (float)(c->ox + x * (c->kx * c->out_w));
                pose->kp[k].y     = (float)(c->oy + y * (c->ky * c->out_h));
                pose->kp[k].score = p[k * 3 + 2];
            }
            pose_score(m, pose);
        }
        return VG_OK;
    }
    if (m->family != VG_VIS_FAMILY_HRNET)
        return derr(d, VG_E_INVALID_ARG, "family %s is not a top-down pose model",
                    vg_vis_family_name(m->family));

    const int32_t items = m->heatmap_flip_test ? 2 * n : n;
    if (t->ndim != 4 || t->shape[0] < items || t->shape[1] > VG_MAX_KEYPOINTS)
        return derr(d, VG_E_SHAPE, "need heatmaps [%d,K,H,W] (K <= %d)%s", items, VG_MAX_KEYPOINTS,
                    m->heatmap_flip_test ? " (crops, then mirrored crops)" : "");
    const int32_t K = (int32_t)t->shape[1], H = (int32_t)t->shape[2], W = (int32_t)t->shape[3];
    const size_t  item = (size_t)K * (size_t)H * (size_t)W;
    vg_status     st   = reserve_fbuf(d, item);
    if (st != VG_OK)
        return st;
    vg_heatmap_params hp = vg_heatmap_params_default();
    hp.dark              = m->heatmap_dark;
    for (int32_t b = 0; b < n; b++) {
        const float *hm = (const float *)t->data + item * (size_t)b;
        if (m->heatmap_flip_test) {
            vg_heatmap_flip_merge(hm, (const float *)t->data + item * (size_t)(n + b), K, H, W,
                                  (const int32_t(*)[2])m->flip_pairs, m->n_flip_pairs, d->fbuf);
            hm = d->fbuf;
        }
        vg_pose *pose = &poses[b];
        vg_heatmap_decode(hm, K, H, W, &hp, pose->kp);
        const vg_crop *c  = &crops[b];
        const double   fx = (double)c->out_w / W, fy = (double)c->out_h / H;
        pose->n_keypoints = K;
        for (int32_t k = 0; k < K; k++) {
            double xi = pose->kp[k].x * fx, yi = pose->kp[k].y * fy;
            pose->kp[k].x = (float)(c->ox + xi * c->kx);
            pose->kp[k].y = (float)(c->oy + yi * c->ky);
        }
        pose_score(m, pose);
    }
    return VG_OK;
}

vg_status vg_decode_multipose(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                              const vg_letterbox *lb, vg_pose *poses, int32_t cap, int32_t *n) {
    if (!n)
        return VG_E_INVALID_ARG;
    *n = 0;
    if (!d || !outs || n_outs <= 0 || !lb || !poses || cap < 0)
        return VG_E_INVALID_ARG;
    d->err[0]              = '\0';
    const vg_vis_tensor *t = &outs[0];
    if (!is_f32(t) || t->ndim != 3 || t->shape[2] < 5 || (t->shape[2] - 5) % 3 != 0 ||
        (t->shape[2] - 5) / 3 > VG_MAX_KEYPOINTS)
        return derr(d, VG_E_SHAPE, "need a float32 [1,slots,3K+5] output ([1,6,56] for K=17)");
    const int64_t slots = t->shape[1], no = t->shape[2];
    const int32_t K = (int32_t)((no - 5) / 3);
    const float  *p = t->data;
    int32_t       w = 0;
    for (int64_t s = 0; s < slots && w < cap; s++) {
        const float *r = p + s * no;
        if (!((double)r[no - 1] >= d->m.min_instance_score))
            continue;
        vg_pose *pose = &poses[w++];
        memset(pose, 0, sizeof(*pose));
        pose->n_keypoints = K;
        for (int32_t k = 0; k < K; k++) {
            double x, y;
            vg_letterbox_to_frame(lb, (double)r[3 * k + 1] * lb->dst_w,
                                  (double)r[3 * k] * lb->dst_h, &x, &y);
            pose->kp[k].x     = (float)x;
            pose->kp[k].y     = (float)y;
            pose->kp[k].score = r[3 * k + 2];
        }
        double x1, y1, x2, y2;
        vg_letterbox_to_frame(lb, (double)r[3 * K + 1] * lb->dst_w, (double)r[3 * K] * lb->dst_h,
                              &x1, &y1);
        vg_letterbox_to_frame(lb, (double)r[3 * K + 3] * lb->dst_w,
                              (double)r[3 * K + 2] * lb->dst_h, &x2, &y2);
        pose->det.box.x1   = (float)x1;
        pose->det.box.y1   = (float)y1;
        pose->det.box.x2   = (float)x2;
        pose->det.box.y2   = (float)y2;
        pose->det.score    = r[no - 1];
        pose->det.class_id = 0;
        pose->score        = r[no - 1];
    }
    *n = w;
    return VG_OK;
}
