/*
 * coco_eval.c - COCO bbox / keypoint evaluation (AP, AR).
 *
 * DESIGN
 * The computation follows the reference COCO evaluation (pycocotools
 * COCOeval: evaluate -> evaluateImg -> accumulate -> summarize) so closely
 * that the same inputs give the same numbers, down to tie-breaking:
 *   1. Ground truths and results are grouped into cells (image, category),
 *      each list in file order. A cell's results are ranked by score with a
 *      stable sort and cut to the largest maxDets.
 *   2. Per cell, an IoU (box) or OKS (keypoints) matrix results x gts.
 *   3. Per cell and area range, greedy matching at each threshold: results in
 *      rank order take the best still-free gt at or above the threshold;
 *      non-ignored gts come first and a match to a regular gt is never
 *      replaced by an ignored one; crowd gts may take any number of results.
 *   4. Per category, area range and maxDets, all images' results (each image
 *      cut to maxDets) are ranked again (stable, image-id order breaks ties),
 *      true/false positives are cumulated (ignored results take a slot but
 *      count as neither), precision is made non-increasing from the end and
 *      sampled at the first rank whose recall reaches each of the 101 recall
 *      thresholds (0 beyond the last recall reached).
 *   5. Summary numbers are means over the entries that are not -1.
 * Arithmetic is in double in the same order as the reference (the IoU and
 * recall thresholds are generated as numpy.linspace generates them), so ties
 * at a threshold resolve the same way. Pure computation on read-only inputs:
 * MT safe for distinct outputs.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vision/coco_impl.h"

/* COCO keypoint sigmas, written as the reference writes them (x / 10.0). */
const double vg_coco_kpt_oks_sigmas[VG_COCO_NUM_KEYPOINTS] = {
    .26 / 10.0,  .25 / 10.0, .25 / 10.0, .35 / 10.0, .35 / 10.0, .79 / 10.0,
    .79 / 10.0,  .72 / 10.0, .72 / 10.0, .62 / 10.0, .62 / 10.0, 1.07 / 10.0,
    1.07 / 10.0, .87 / 10.0, .87 / 10.0, .89 / 10.0, .89 / 10.0,
};

enum { T_ = VG_COCO_NUM_IOU_THRS, R_ = VG_COCO_NUM_REC_THRS, MAX_AREAS = 4, MAX_MDETS = 3 };

/* Evaluation settings of one iou type (the reference's Params). */
typedef struct eval_setup {
    int         n_areas;
    double      area_rng[MAX_AREAS][2];
    const char *area_lbl[MAX_AREAS];
    int         n_mdets;
    int         max_dets[MAX_MDETS]; /* ascending */
} eval_setup;

static eval_setup setup_for(vg_coco_iou_type t) {
    eval_setup s;
    memset(&s, 0, sizeof(s));
    const double big = 1e5 * 1e5, small_hi = 32.0 * 32.0, medium_hi = 96.0 * 96.0;
    if (t == VG_COCO_IOU_KEYPOINTS) {
        s.n_areas        = 3;
        s.area_rng[0][0] = 0;
        s.area_rng[0][1] = big;
        s.area_rng[1][0] = small_hi;
        s.area_rng[1][1] = medium_hi;
        s.area_rng[2][0] = medium_hi;
        s.area_rng[2][1] = big;
        s.area_lbl[0]    = "all";
        s.area_lbl[1]    = "medium";
        s.area_lbl[2]    = "large";
        s.n_mdets        = 1;
        s.max_dets[0]    = 20;
    } else {
        s.n_areas        = 4;
        s.area_rng[0][0] = 0;
        s.area_rng[0][1] = big;
        s.area_rng[1][0] = 0;
        s.area_rng[1][1] = small_hi;
        s.area_rng[2][0] = small_hi;
        s.area_rng[2][1] = medium_hi;
        s.area_rng[3][0] = medium_hi;
        s.area_rng[3][1] = big;
        s.area_lbl[0]    = "all";
        s.area_lbl[1]    = "small";
        s.area_lbl[2]    = "medium";
        s.area_lbl[3]    = "large";
        s.n_mdets        = 3;
        s.max_dets[0]    = 1;
        s.max_dets[1]    = 10;
        s.max_dets[2]    = 100;
    }
    return s;
}

/* numpy.linspace(start, stop, num): i * ((stop - start) / (num - 1)) + start,
 * with the last value set to stop exactly. */
static void linspace(double start, double stop, int num, double *out) {
    double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; i++)
        out[i] = i * step + start;
    out[num - 1] = stop;
}

/* Per (category, area range, image) matching result (the reference's evalImg). */
typedef struct eval_img {
    bool     present;  /* false: no gt and no result in the cell */
    int      D;        /* results, ranked */
    int      n_gt_reg; /* gts not ignored in this area range */
    double  *scores;   /* [D], borrowed from the cell */
    uint8_t *dtm;      /* [T_][D] matched */
    uint8_t *dtig;     /* [T_][D] ignored */
} eval_img;

/* Per (image, category) input. */
typedef struct cell {
    size_t *gt; /* gt annotation indices, file order */
    size_t  G;
    size_t *dt; /* result indices, ranked, cut to maxDets */
    size_t  D;
    double *dt_scores;
    double *ious; /* [D][G] */
} cell;

typedef struct rank_key {
    double score;
    size_t order;
    size_t idx;
} rank_key;

/* Score descending, then original order: the reference's stable mergesort. */
static int cmp_rank(const void *a, const void *b) {
    const rank_key *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->order > y->order) - (x->order < y->order);
}

static long cat_index(const vg_coco_gt *gt, int64_t id) {
    size_t lo = 0, hi = gt->n_cats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gt->cat_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < gt->n_cats && gt->cat_ids[lo] == id ? (long)lo : -1;
}

/* Box IoU as the reference's bbIou: no +1, crowd gts use the detection area
 * as the union. */
static double box_iou(const double *d, const double *g, bool crowd) {
    double w = fmin(d[0] + d[2], g[0] + g[2]) - fmax(d[0], g[0]);
    if (w <= 0)
        return 0.0;
    double h = fmin(d[1] + d[3], g[1] + g[3]) - fmax(d[1], g[1]);
    if (h <= 0)
        return 0.0;
    double i = w * h, da = d[2] * d[3], ga = g[2] * g[3];
    double u = crowd ? da : da + ga - i;
    return i / u;
}

/* Object keypoint similarity as the reference's computeOks. */
static double oks(const double *dk, const vgi_coco_ann *g, const double *gk) {
    const int K  = VG_COCO_NUM_KEYPOINTS;
    int       k1 = 0;
    for (int k = 0; k < K; k++)
        k1 += gk[3 * k + 2] > 0;
    const double *bb = g->bbox;
    double        x0 = bb[0] - bb[2], x1 = bb[0] + bb[2] * 2;
    double        y0 = bb[1] - bb[3], y1 = bb[1] + bb[3] * 2;
    double        sum = 0.0;
    int           n   = 0;
    for (int k = 0; k < K; k++) {
        double dx, dy, xd = dk[3 * k], yd = dk[3 * k + 1];
        if (k1 > 0) {
            if (!(gk[3 * k + 2] > 0))
                continue;
            dx = xd - gk[3 * k];
            dy = yd - gk[3 * k + 1];
        } else {
            /* No labelled keypoint: distance to a box twice the gt box. */
            dx = fmax(0.0, x0 - xd) + fmax(0.0, xd - x1);
            dy = fmax(0.0, y0 - yd) + fmax(0.0, yd - y1);
        }
        double s2  = vg_coco_kpt_oks_sigmas[k] * 2;
        double var = s2 * s2;
        double e   = (dx * dx + dy * dy) / var / (g->area + DBL_EPSILON) / 2;
        sum += exp(-e);
        n++;
    }
    return sum / n;
}

/* Area of a result as the reference's results loader sets it. */
static double det_area(const vg_coco_results *res, const vgi_coco_det *d, bool from_bbox) {
    if (from_bbox)
        return d->bbox[2] * d->bbox[3];
    const double *k  = res->kp + d->kp_off;
    double        x0 = k[0], x1 = k[0], y0 = k[1], y1 = k[1];
    for (int32_t i = 1; i < d->n_kp; i++) {
        x0 = fmin(x0, k[3 * i]);
        x1 = fmax(x1, k[3 * i]);
        y0 = fmin(y0, k[3 * i + 1]);
        y1 = fmax(y1, k[3 * i + 1]);
    }
    return (x1 - x0) * (y1 - y0);
}

/* The reference's evaluateImg for one cell and area range. */
static vg_status evaluate_img(const vg_coco_gt *gt, const cell *c, const double *dt_area, bool kpt,
                              const double rng[2], const double *thrs, uint8_t *scratch,
                              eval_img *out) {
    memset(out, 0, sizeof(*out));
    if (c->G == 0 && c->D == 0)
        return VG_OK;
    out->present = true;
    size_t G = c->G, D = c->D;
    /* scratch: gtig[G], crowd[G], gtord[G] (as size_t after), gtm[T_][G] */
    uint8_t *gtig = scratch, *crowd = scratch + G, *gtm = scratch + 2 * G;
    size_t  *gtord = vg_malloc((G ? G : 1) * sizeof(size_t));
    out->dtm       = vg_calloc(T_ * (D ? D : 1), 1);
    out->dtig      = vg_calloc(T_ * (D ? D : 1), 1);
    if (!gtord || !out->dtm || !out->dtig) {
        vg_free(gtord);
        vg_freep(&out->dtm);
        vg_freep(&out->dtig);
        return VG_E_NOMEM;
    }
    /* gts sorted by ignore flag, stable: regular ones first. */
    size_t ng = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < G; j++) {
            const vgi_coco_ann *a = &gt->anns[c->gt[j]];
            bool ig = a->iscrowd || (kpt && a->num_keypoints == 0) || a->area < rng[0] ||
                      a->area > rng[1];
            if (ig == (pass == 1)) {
                gtord[ng] = j;
                gtig[ng]  = ig;
                crowd[ng] = a->iscrowd;
                ng++;
            }
        }
    out->D      = (int)D;
    out->scores = c->dt_scores;
    for (size_t j = 0; j < G; j++)
        out->n_gt_reg += !gtig[j];
    memset(gtm, 0, T_ * G);
    bool have_ious = c->ious != NULL;
    for (int t = 0; have_ious && t < T_; t++) {
        uint8_t *gm = gtm + (size_t)t * G;
        for (size_t d = 0; d < D; d++) {
            double best = fmin(thrs[t], 1 - 1e-10);
            long   m    = -1;
            for (size_t j = 0; j < G; j++) {
                if (gm[j] && !crowd[j])
                    continue;
                if (m > -1 && !gtig[m] && gtig[j])
                    break;
                double v = c->ious[d * G + gtord[j]];
                if (v < best)
                    continue;
                best = v;
                m    = (long)j;
            }
            if (m == -1)
                continue;
            out->dtig[(size_t)t * D + d] = gtig[m];
            out->dtm[(size_t)t * D + d]  = 1;
            gm[m]                        = 1;
        }
    }
    for (size_t d = 0; d < D; d++) {
        bool outside = dt_area[c->dt[d]] < rng[0] || dt_area[c->dt[d]] > rng[1];
        for (int t = 0; t < T_; t++)
            if (!out->dtm[(size_t)t * D + d] && outside)
                out->dtig[(size_t)t * D + d] = 1;
    }
    vg_free(gtord);
    return VG_OK;
}

vg_coco_eval_params vg_coco_eval_params_default(void) {
    vg_coco_eval_params p;
    memset(&p, 0, sizeof(p));
    p.iou_type = VG_COCO_IOU_BBOX;
    return p;
}

static const char *const bbox_names[12] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                           "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
static const char *const kpt_names[10]  = {"AP", "AP50", "AP75", "APm", "APl",
                                           "AR", "AR50", "AR75", "ARm", "ARl"};

const char *vg_coco_eval_stat_name(vg_coco_iou_type t, int index) {
    if (t == VG_COCO_IOU_KEYPOINTS)
        return index >= 0 && index < 10 ? kpt_names[index] : "?";
    return index >= 0 && index < 12 ? bbox_names[index] : "?";
}

/* Summary line definitions: ap?, iou threshold index (-1 all), area, maxDets. */
typedef struct stat_def {
    bool ap;
    int  thr;
    int  area;
    int  mdet;
} stat_def;

static const stat_def bbox_defs[12] = {
    {true, -1, 0, 100},  {true, 0, 0, 100},   {true, 5, 0, 100},   {true, -1, 1, 100},
    {true, -1, 2, 100},  {true, -1, 3, 100},  {false, -1, 0, 1},   {false, -1, 0, 10},
    {false, -1, 0, 100}, {false, -1, 1, 100}, {false, -1, 2, 100}, {false, -1, 3, 100},
};
static const stat_def kpt_defs[10] = {
    {true, -1, 0, 20},  {true, 0, 0, 20},   {true, 5, 0, 20},  {true, -1, 1, 20},
    {true, -1, 2, 20},  {false, -1, 0, 20}, {false, 0, 0, 20}, {false, 5, 0, 20},
    {false, -1, 1, 20}, {false, -1, 2, 20},
};

/* Everything allocated by one evaluation, freed in one place. */
typedef struct eval_ctx {
    size_t   *img_sel; /* selected gt image indices, ascending id */
    long     *img_pos; /* gt image index -> position in img_sel, or -1 */
    size_t   *gt_idx;  /* gt annotation indices grouped by cell */
    rank_key *dt_keys; /* results grouped by cell, ranked */
    size_t   *dt_idx;
    double   *dt_score;
    double   *dt_area;
    cell     *cells;
    eval_img *evals;     /* [K][A][I] */
    double   *precision; /* [T][R][K][A][M] */
    double   *recall;    /* [T][K][A][M] */
    rank_key *acc_keys;
    uint8_t  *scratch;
    double   *rc, *pr;
    size_t    n_cells, n_evals;
} eval_ctx;

static void ctx_free(eval_ctx *x) {
    if (x->cells)
        for (size_t i = 0; i < x->n_cells; i++)
            vg_free(x->cells[i].ious);
    if (x->evals)
        for (size_t i = 0; i < x->n_evals; i++) {
            vg_free(x->evals[i].dtm);
            vg_free(x->evals[i].dtig);
        }
    vg_free(x->img_sel);
    vg_free(x->img_pos);
    vg_free(x->gt_idx);
    vg_free(x->dt_keys);
    vg_free(x->dt_idx);
    vg_free(x->dt_score);
    vg_free(x->dt_area);
    vg_free(x->cells);
    vg_free(x->evals);
    vg_free(x->precision);
    vg_free(x->recall);
    vg_free(x->acc_keys);
    vg_free(x->scratch);
    vg_free(x->rc);
    vg_free(x->pr);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Chooses the images to evaluate (ascending id). */
static vg_status select_images(const vg_coco_gt *gt, const vg_coco_eval_params *p, eval_ctx *x,
                               size_t *n_out, char *err, size_t errlen) {
    size_t n   = 0;
    x->img_sel = vg_malloc((gt->n_images ? gt->n_images : 1) * sizeof(size_t));
    x->img_pos = vg_malloc((gt->n_images ? gt->n_images : 1) * sizeof(long));
    if (!x->img_sel || !x->img_pos)
        return VG_E_NOMEM;
    if (p->img_ids) {
        size_t *tmp = vg_malloc((p->n_img_ids ? p->n_img_ids : 1) * sizeof(size_t));
        if (!tmp)
            return VG_E_NOMEM;
        for (size_t i = 0; i < p->n_img_ids; i++) {
            long ix = vgi_coco_gt_image_index(gt, p->img_ids[i]);
            if (ix < 0) {
                vgi_coco_errf(err, errlen, "image id %lld is not in the ground truth",
                              (long long)p->img_ids[i]);
                vg_free(tmp);
                return VG_E_INVALID_ARG;
            }
            tmp[i] = (size_t)ix;
        }
        qsort(tmp, p->n_img_ids, sizeof(size_t), cmp_size);
        for (size_t i = 0; i < p->n_img_ids; i++)
            if (i == 0 || tmp[i] != tmp[i - 1])
                x->img_sel[n++] = tmp[i];
        vg_free(tmp);
    } else {
        for (size_t i = 0; i < gt->n_images; i++)
            x->img_sel[n++] = i;
    }
    if (p->complete_only) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (gt->images[x->img_sel[i]].complete)
                x->img_sel[m++] = x->img_sel[i];
        n = m;
    }
    for (size_t i = 0; i < gt->n_images; i++)
        x->img_pos[i] = -1;
    for (size_t i = 0; i < n; i++)
        x->img_pos[x->img_sel[i]] = (long)i;
    *n_out = n;
    return VG_OK;
}

static double mean_valid(const double *v, size_t n, size_t stride) {
    double s = 0;
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i * stride] > -1) {
            s += v[i * stride];
            c++;
        }
    return c ? s / (double)c : -1.0;
}

vg_status vg_coco_evaluate(const vg_coco_gt *gt, const vg_coco_results *res,
                           const vg_coco_eval_params *params, vg_coco_eval_summary *out, char *err,
                           size_t errlen) {
    if (!gt || !res || !out)
        return VG_E_INVALID_ARG;
    vg_coco_eval_params p   = params ? *params : vg_coco_eval_params_default();
    const bool          kpt = p.iou_type == VG_COCO_IOU_KEYPOINTS;
    const eval_setup    S   = setup_for(p.iou_type);
    const int           A = S.n_areas, M = S.n_mdets, max_det = S.max_dets[M - 1];
    double              thrs[T_], rec_thrs[R_];
    linspace(0.5, 0.95, T_, thrs);
    linspace(0.0, 1.0, R_, rec_thrs);

    eval_ctx  x;
    vg_status st;
    memset(&x, 0, sizeof(x));
    memset(out, 0, sizeof(*out));
    out->iou_type = p.iou_type;
    out->n_stats  = kpt ? 10 : 12;
    memcpy(out->iou_thrs, thrs, sizeof(thrs));

    size_t I = 0;
    if ((st = select_images(gt, &p, &x, &I, err, errlen)) != VG_OK)
        goto done;
    const size_t K    = gt->n_cats;
    out->n_images     = I;
    out->n_categories = K;

    /* Check the results against the gt, as the reference loader does. */
    const bool area_from_bbox = res->n > 0 && res->dets[0].has_bbox;
    for (size_t i = 0; i < res->n; i++) {
        const vgi_coco_det *d = &res->dets[i];
        if (vgi_coco_gt_image_index(gt, d->image_id) < 0) {
            vgi_coco_errf(err, errlen,
                          "results entry %zu: image_id %lld is not in the ground truth (the "
                          "results must belong to the gt's images)",
                          i, (long long)d->image_id);
            st = VG_E_FORMAT;
            goto done;
        }
        if (area_from_bbox && !d->has_bbox) {
            vgi_coco_errf(err, errlen,
                          "results entry %zu (image %lld): has no bbox while the first entry "
                          "has one; give every entry a bbox or none",
                          i, (long long)d->image_id);
            st = VG_E_FORMAT;
            goto done;
        }
        if (kpt && d->n_kp != VG_COCO_NUM_KEYPOINTS) {
            vgi_coco_errf(err, errlen,
                          "results entry %zu (image %lld): keypoint evaluation needs %d "
                          "keypoints, the entry has %d%s",
                          i, (long long)d->image_id, VG_COCO_NUM_KEYPOINTS, (int)d->n_kp,
                          d->n_kp ? "" : " (a box-only results file: evaluate it as bbox)");
            st = VG_E_FORMAT;
            goto done;
        }
    }

    /* Group gts and results by cell = image position * K + category index. */
    const size_t NC = I * K;
    st              = VG_E_NOMEM;
    x.n_cells       = NC;
    x.cells         = vg_calloc(NC ? NC : 1, sizeof(cell));
    x.gt_idx        = vg_malloc((gt->n_anns ? gt->n_anns : 1) * sizeof(size_t));
    x.dt_keys       = vg_malloc((res->n ? res->n : 1) * sizeof(rank_key));
    x.dt_idx        = vg_malloc((res->n ? res->n : 1) * sizeof(size_t));
    x.dt_score      = vg_malloc((res->n ? res->n : 1) * sizeof(double));
    x.dt_area       = vg_malloc((res->n ? res->n : 1) * sizeof(double));
    if (!x.cells || !x.gt_idx || !x.dt_keys || !x.dt_idx || !x.dt_score || !x.dt_area)
        goto done;
    for (size_t i = 0; i < res->n; i++)
        x.dt_area[i] = det_area(res, &res->dets[i], area_from_bbox);

    size_t n_gt_sel = 0, n_dt_sel = 0;
    {
        /* Counting sort by cell keeps file order within a cell. */
        size_t *count = vg_calloc(NC + 1, sizeof(size_t));
        long   *gcell = vg_malloc((gt->n_anns ? gt->n_anns : 1) * sizeof(long));
        long   *dcell = vg_malloc((res->n ? res->n : 1) * sizeof(long));
        if (!count || !gcell || !dcell) {
            vg_free(count);
            vg_free(gcell);
            vg_free(dcell);
            goto done;
        }
        for (size_t i = 0; i < gt->n_anns; i++) {
            const vgi_coco_ann *a  = &gt->anns[i];
            long                ii = vgi_coco_gt_image_index(gt, a->image_id);
            long                ci = cat_index(gt, a->category_id);
            gcell[i] =
                (ii >= 0 && x.img_pos[ii] >= 0 && ci >= 0) ? x.img_pos[ii] * (long)K + ci : -1;
            if (gcell[i] >= 0) {
                count[gcell[i]]++;
                n_gt_sel++;
                out->n_gt_ignored += a->iscrowd || (kpt && a->num_keypoints == 0);
                if (kpt && a->n_kp != VG_COCO_NUM_KEYPOINTS) {
                    vgi_coco_errf(err, errlen,
                                  "ground-truth annotation id %lld (image %lld): keypoint "
                                  "evaluation needs %d keypoints, it has %d; use bbox evaluation "
                                  "for a file without keypoints",
                                  (long long)a->id, (long long)a->image_id, VG_COCO_NUM_KEYPOINTS,
                                  (int)a->n_kp);
                    vg_free(count);
                    vg_free(gcell);
                    vg_free(dcell);
                    st = VG_E_FORMAT;
                    goto done;
                }
            }
        }
        size_t off = 0;
        for (size_t c = 0; c < NC; c++) {
            x.cells[c].gt = x.gt_idx + off;
            off += count[c];
            count[c] = 0;
        }
        for (size_t i = 0; i < gt->n_anns; i++)
            if (gcell[i] >= 0) {
                cell *c       = &x.cells[gcell[i]];
                c->gt[c->G++] = i;
            }
        memset(count, 0, (NC + 1) * sizeof(size_t));
        for (size_t i = 0; i < res->n; i++) {
            const vgi_coco_det *d  = &res->dets[i];
            long                ii = vgi_coco_gt_image_index(gt, d->image_id);
            long                ci = cat_index(gt, d->category_id);
            dcell[i] = (x.img_pos[ii] >= 0 && ci >= 0) ? x.img_pos[ii] * (long)K + ci : -1;
            if (dcell[i] >= 0) {
                count[dcell[i]]++;
                n_dt_sel++;
            }
        }
        off = 0;
        for (size_t c = 0; c < NC; c++) {
            x.cells[c].dt        = x.dt_idx + off;
            x.cells[c].dt_scores = x.dt_score + off;
            off += count[c];
        }
        size_t *fill = count; /* reuse as per-cell fill level */
        memset(fill, 0, (NC + 1) * sizeof(size_t));
        for (size_t i = 0; i < res->n; i++)
            if (dcell[i] >= 0) {
                size_t   c     = (size_t)dcell[i];
                size_t   pos   = (size_t)(x.cells[c].dt - x.dt_idx) + fill[c]++;
                rank_key k     = {res->dets[i].score, i, i};
                x.dt_keys[pos] = k;
            }
        for (size_t c = 0; c < NC; c++) {
            cell     *cl   = &x.cells[c];
            rank_key *keys = x.dt_keys + (cl->dt - x.dt_idx);
            qsort(keys, fill[c], sizeof(rank_key), cmp_rank);
            cl->D = VGI_MIN(fill[c], (size_t)max_det);
            for (size_t j = 0; j < cl->D; j++) {
                cl->dt[j]        = keys[j].idx;
                cl->dt_scores[j] = keys[j].score;
            }
        }
        vg_free(count);
        vg_free(gcell);
        vg_free(dcell);
    }
    out->n_gt      = n_gt_sel;
    out->n_results = n_dt_sel;

    /* IoU / OKS per cell. The reference skips OKS when either side is empty. */
    size_t max_g = 1;
    for (size_t c = 0; c < NC; c++) {
        cell *cl = &x.cells[c];
        max_g    = VGI_MAX(max_g, cl->G);
        if (cl->G == 0 || cl->D == 0)
            continue;
        cl->ious = vg_malloc(cl->D * cl->G * sizeof(double));
        if (!cl->ious)
            goto done;
        for (size_t d = 0; d < cl->D; d++) {
            const vgi_coco_det *dt = &res->dets[cl->dt[d]];
            for (size_t g = 0; g < cl->G; g++) {
                const vgi_coco_ann *a   = &gt->anns[cl->gt[g]];
                cl->ious[d * cl->G + g] = kpt ? oks(res->kp + dt->kp_off, a, gt->kp + a->kp_off)
                                              : box_iou(dt->bbox, a->bbox, a->iscrowd);
            }
        }
    }

    /* Per-image matching for every category and area range. */
    x.n_evals = K * (size_t)A * I;
    x.evals   = vg_calloc(x.n_evals ? x.n_evals : 1, sizeof(eval_img));
    x.scratch = vg_malloc((2 + T_) * max_g);
    if (!x.evals || !x.scratch)
        goto done;
    for (size_t k = 0; k < K; k++)
        for (int a = 0; a < A; a++)
            for (size_t i = 0; i < I; i++) {
                eval_img *e = &x.evals[(k * (size_t)A + (size_t)a) * I + i];
                st = evaluate_img(gt, &x.cells[i * K + k], x.dt_area, kpt, S.area_rng[a], thrs,
                                  x.scratch, e);
                if (st != VG_OK)
                    goto done;
            }
    st = VG_E_NOMEM;

    /* Accumulate. */
    const size_t NP = (size_t)T_ * R_ * K * (size_t)A * (size_t)M;
    const size_t NR = (size_t)T_ * K * (size_t)A * (size_t)M;
    x.precision     = vg_malloc((NP ? NP : 1) * sizeof(double));
    x.recall        = vg_malloc((NR ? NR : 1) * sizeof(double));
    x.acc_keys      = vg_malloc((n_dt_sel ? n_dt_sel : 1) * sizeof(rank_key));
    x.rc            = vg_malloc((n_dt_sel ? n_dt_sel : 1) * sizeof(double));
    x.pr            = vg_malloc((n_dt_sel ? n_dt_sel : 1) * sizeof(double));
    if (!x.precision || !x.recall || !x.acc_keys || !x.rc || !x.pr)
        goto done;
    for (size_t i = 0; i < NP; i++)
        x.precision[i] = -1;
    for (size_t i = 0; i < NR; i++)
        x.recall[i] = -1;
#define PREC(t, r, k, a, m)                                                                        \
    x.precision[((((size_t)(t)*R_ + (size_t)(r)) * K + (k)) * (size_t)A + (size_t)(a)) *           \
                    (size_t)M +                                                                    \
                (size_t)(m)]
#define REC(t, k, a, m)                                                                            \
    x.recall[(((size_t)(t)*K + (k)) * (size_t)A + (size_t)(a)) * (size_t)M + (size_t)(m)]
    for (size_t k = 0; k < K; k++)
        for (int a = 0; a < A; a++)
            for (int m = 0; m < M; m++) {
                const eval_img *E  = &x.evals[(k * (size_t)A + (size_t)a) * I];
                size_t          nd = 0, npig = 0, n_present = 0;
                for (size_t i = 0; i < I; i++) {
                    if (!E[i].present)
                        continue;
                    n_present++;
                    npig += (size_t)E[i].n_gt_reg;
                    size_t take = VGI_MIN((size_t)E[i].D, (size_t)S.max_dets[m]);
                    for (size_t d = 0; d < take; d++) {
                        /* idx packs (image, rank) so flags can be found again. */
                        rank_key key     = {E[i].scores[d], nd, i * (size_t)max_det + d};
                        x.acc_keys[nd++] = key;
                    }
                }
                if (n_present == 0 || npig == 0)
                    continue;
                qsort(x.acc_keys, nd, sizeof(rank_key), cmp_rank);
                for (int t = 0; t < T_; t++) {
                    double tp = 0, fp = 0;
                    for (size_t j = 0; j < nd; j++) {
                        size_t          i       = x.acc_keys[j].idx / (size_t)max_det;
                        size_t          d       = x.acc_keys[j].idx % (size_t)max_det;
                        const eval_img *e       = &E[i];
                        bool            matched = e->dtm[(size_t)t * (size_t)e->D + d];
                        bool            ignored = e->dtig[(size_t)t * (size_t)e->D + d];
                        if (!ignored) {
                            if (matched)
                                tp += 1;
                            else
                                fp += 1;
                        }
                        x.rc[j] = tp / (double)npig;
                        x.pr[j] = tp / (fp + tp + DBL_EPSILON);
                    }
                    REC(t, k, a, m) = nd ? x.rc[nd - 1] : 0;
                    for (size_t j = nd; j-- > 1;)
                        if (x.pr[j] > x.pr[j - 1])
                            x.pr[j - 1] = x.pr[j];
                    size_t j = 0;
                    for (int r = 0; r < R_; r++) {
                        /* First rank whose recall reaches the threshold (searchsorted left). */
                        while (j < nd && x.rc[j] < rec_thrs[r])
                            j++;
                        PREC(t, r, k, a, m) = j < nd ? x.pr[j] : 0.0;
                    }
                }
            }

    /* Summaries. */
    {
        const stat_def *defs = kpt ? kpt_defs : bbox_defs;
        double         *buf  = vg_malloc(((size_t)T_ * R_ * (K ? K : 1)) * sizeof(double));
        if (!buf)
            goto done;
        for (int s = 0; s < out->n_stats; s++) {
            int m = -1;
            for (int q = 0; q < M; q++)
                if (S.max_dets[q] == defs[s].mdet)
                    m = q;
            VGI_ASSERT(m >= 0);
            int    t0 = defs[s].thr < 0 ? 0 : defs[s].thr, t1 = defs[s].thr < 0 ? T_ : t0 + 1;
            size_t n = 0;
            for (int t = t0; t < t1; t++) {
                if (defs[s].ap) {
                    for (int r = 0; r < R_; r++)
                        for (size_t k = 0; k < K; k++)
                            buf[n++] = PREC(t, r, k, defs[s].area, m);
                } else {
                    for (size_t k = 0; k < K; k++)
                        buf[n++] = REC(t, k, defs[s].area, m);
                }
            }
            out->stats[s] = mean_valid(buf, n, 1);
        }
        for (int t = 0; t < T_; t++) {
            size_t n = 0;
            for (int r = 0; r < R_; r++) {
                for (size_t k = 0; k < K; k++)
                    buf[n++] = PREC(t, r, k, 0, M - 1);
                out->precision[t][r] = mean_valid(buf + n - K, K, 1);
            }
            out->ap_per_thr[t] = mean_valid(buf, n, 1);
            n                  = 0;
            for (size_t k = 0; k < K; k++)
                buf[n++] = REC(t, k, 0, M - 1);
            out->recall_per_thr[t] = mean_valid(buf, n, 1);
        }
        vg_free(buf);
    }
#undef PREC
#undef REC
    st = VG_OK;
done:
    if (st == VG_E_NOMEM)
        vgi_coco_errf(err, errlen, "out of memory during COCO evaluation");
    ctx_free(&x);
    return st;
}

void vg_coco_eval_summary_print(const vg_coco_eval_summary *s, FILE *f) {
    if (!s || !f)
        return;
    const bool      kpt  = s->iou_type == VG_COCO_IOU_KEYPOINTS;
    const stat_def *defs = kpt ? kpt_defs : bbox_defs;
    eval_setup      S    = setup_for(s->iou_type);
    for (int i = 0; i < s->n_stats; i++) {
        char iou[16];
        if (defs[i].thr < 0)
            snprintf(iou, sizeof(iou), "%0.2f:%0.2f", s->iou_thrs[0], s->iou_thrs[T_ - 1]);
        else
            snprintf(iou, sizeof(iou), "%0.2f", s->iou_thrs[defs[i].thr]);
        fprintf(f, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                defs[i].ap ? "Average Precision" : "Average Recall", defs[i].ap ? "(AP)" : "(AR)",
                iou, S.area_lbl[defs[i].area], defs[i].mdet, s->stats[i]);
    }
}
