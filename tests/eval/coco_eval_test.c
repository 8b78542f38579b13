/*
 * coco_eval_test.c - COCO evaluation on hand-computed cases, the results
 * writer, error paths, and consistency checks on the shared annotated images.
 *
 * Every expected number below is worked out by hand in the comment next to
 * it from the COCO definitions (greedy matching in score order, cumulative
 * precision/recall, precision made non-increasing, 101 recall points).
 * Tolerance 1e-9 unless stated: the numbers are ratios of small integers.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistd.h>

#include "test.h"
#include "vigil/alloc.h"
#include "vigil/coco_eval.h"

#define TOL 1e-9

#define REF_DET_STATS                                                                              \
    0.347162587343, 0.463330472241, 0.405059623946, 0.700000000000, 0.573129812981,                \
        0.326257243401, 0.138235294118, 0.367647058824, 0.488235294118, 0.700000000000,            \
        0.800000000000, 0.450000000000

/* ---- small JSON builders ------------------------------------------------------ */

typedef struct sbuf {
    char  *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    VG_CHECK(n >= 0);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s   = realloc(b->s, b->cap);
        VG_CHECK(b->s != NULL);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Drops a trailing comma before closing a list. */
static void sb_close(sbuf *b, const char *close) {
    if (b->len && b->s[b->len - 1] == ',')
        b->len--;
    sb_printf(b, "%s", close);
}

/* A gt with images ids[0..n) and one category (person). Annotations are added
 * by the caller between gt_begin and gt_end. */
static void gt_begin(sbuf *b, const int *ids, int n) {
    sb_printf(b, "{\"images\":[");
    for (int i = 0; i < n; i++)
        sb_printf(b, "{\"id\":%d,\"file_name\":\"img%d.jpg\",\"width\":640,\"height\":480},",
                  ids[i], ids[i]);
    sb_close(b, "],\"categories\":[{\"id\":1,\"name\":\"person\"}],\"annotations\":[");
}

static int next_ann_id = 1;

static void gt_box(sbuf *b, int img, double x, double y, double w, double h, int crowd) {
    sb_printf(b,
              "{\"id\":%d,\"image_id\":%d,\"category_id\":1,\"iscrowd\":%d,"
              "\"bbox\":[%.17g,%.17g,%.17g,%.17g],\"area\":%.17g},",
              next_ann_id++, img, crowd, x, y, w, h, w * h);
}

static void gt_end(sbuf *b) {
    sb_close(b, "]}");
}

static void res_box(sbuf *b, int img, double x, double y, double w, double h, double score) {
    sb_printf(b,
              "{\"image_id\":%d,\"category_id\":1,\"bbox\":[%.17g,%.17g,%.17g,%.17g],"
              "\"score\":%.17g},",
              img, x, y, w, h, score);
}

/* Keypoints as "[x,y,v,...]" from 17 triplets. */
static void kp_array(sbuf *b, const double *kp) {
    sb_printf(b, "[");
    for (int k = 0; k < 17; k++)
        sb_printf(b, "%.17g,%.17g,%.17g,", kp[3 * k], kp[3 * k + 1], kp[3 * k + 2]);
    sb_close(b, "]");
}

static void gt_person(sbuf *b, int img, const double *bbox, double area, const double *kp) {
    int nk = 0;
    for (int k = 0; k < 17; k++)
        nk += kp[3 * k + 2] > 0;
    sb_printf(b,
              "{\"id\":%d,\"image_id\":%d,\"category_id\":1,\"iscrowd\":0,"
              "\"bbox\":[%.17g,%.17g,%.17g,%.17g],\"area\":%.17g,\"num_keypoints\":%d,"
              "\"keypoints\":",
              next_ann_id++, img, bbox[0], bbox[1], bbox[2], bbox[3], area, nk);
    kp_array(b, kp);
    sb_printf(b, "},");
}

static void res_person(sbuf *b, int img, const double *kp, double score) {
    sb_printf(b, "{\"image_id\":%d,\"category_id\":1,\"keypoints\":", img);
    kp_array(b, kp);
    sb_printf(b, ",\"score\":%.17g},", score);
}

/* Parses gt and results text, evaluates, frees everything. */
static void eval_text(const char *gt_text, const char *res_text, vg_coco_iou_type t,
                      vg_coco_eval_summary *s) {
    char             err[512] = "";
    vg_coco_gt      *gt       = NULL;
    vg_coco_results *res      = NULL;
    vg_status        st       = vg_coco_gt_parse(gt_text, "gt", &gt, err, sizeof(err));
    VG_CHECK_MSG(st == VG_OK, "gt: %s", err);
    st = vg_coco_results_parse(res_text, "res", &res, err, sizeof(err));
    VG_CHECK_MSG(st == VG_OK, "results: %s", err);
    vg_coco_eval_params p = vg_coco_eval_params_default();
    p.iou_type            = t;
    st                    = vg_coco_evaluate(gt, res, &p, s, err, sizeof(err));
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    VG_CHECK_MSG(st == VG_OK, "evaluate: %s", err);
}

/* A canonical person: 17 labelled keypoints inside a 100x200 box at (100, 50). */
static void canonical_person(double *kp, double dx, double dy) {
    for (int k = 0; k < 17; k++) {
        kp[3 * k]     = 110 + (k % 4) * 25 + dx;
        kp[3 * k + 1] = 60 + k * 11 + dy;
        kp[3 * k + 2] = 2;
    }
}

/* ---- hand-computed cases -------------------------------------------------------- */

/* One gt, one identical box: every defined number is 1; small/medium are
 * undefined (-1) since the only gt (area 10000) is large. */
static void test_bbox_perfect(void) {
    sbuf g = {0}, r = {0};
    int  img = 7;
    gt_begin(&g, &img, 1);
    gt_box(&g, 7, 10, 10, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 7, 10, 10, 100, 100, 0.9);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    const double want[12] = {1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1, 1};
    VG_CHECK_INT_EQ(s.n_stats, 12);
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(s.stats[i], want[i], TOL);
    VG_CHECK_INT_EQ(s.n_images, 1);
    VG_CHECK_INT_EQ(s.n_gt, 1);
    VG_CHECK_INT_EQ(s.n_results, 1);
    free(g.s);
    free(r.s);
}

/* Two gts, three results ranked FP, TP, TP (at every threshold):
 * tp = 0,1,2; fp = 1,1,1; recall = 0, .5, 1; precision = 0, 1/2, 2/3, made
 * non-increasing from the end: 2/3, 2/3, 2/3. Every recall point reads 2/3:
 * AP = 2/3, AR = 1. */
static void test_bbox_false_positive_first(void) {
    sbuf g = {0}, r = {0};
    int  img = 1;
    gt_begin(&g, &img, 1);
    gt_box(&g, 1, 0, 0, 100, 100, 0);
    gt_box(&g, 1, 200, 0, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 1, 400, 300, 100, 100, 0.9); /* nothing there */
    res_box(&r, 1, 0, 0, 100, 100, 0.8);
    res_box(&r, 1, 200, 0, 100, 100, 0.7);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    VG_CHECK_NEAR(s.stats[0], 2.0 / 3.0, TOL);
    VG_CHECK_NEAR(s.stats[8], 1.0, TOL);
    for (int rr = 0; rr < 101; rr++)
        VG_CHECK_NEAR(s.precision[0][rr], 2.0 / 3.0, TOL);
    /* maxDets 1 keeps only the false positive: AR1 = 0. */
    VG_CHECK_NEAR(s.stats[6], 0.0, TOL);
    free(g.s);
    free(r.s);
}

/* Ranked TP, FP, TP: recall .5, .5, 1; precision 1, 1/2, 2/3 -> monotone 1,
 * 2/3, 2/3. Recall points 0.00..0.50 (51) read rank 0 = 1; 0.51..1.00 (50)
 * read rank 2 = 2/3. AP = (51 + 50 * 2/3) / 101 = 0.834983498... */
static void test_bbox_precision_curve(void) {
    sbuf g = {0}, r = {0};
    int  img = 1;
    gt_begin(&g, &img, 1);
    gt_box(&g, 1, 0, 0, 100, 100, 0);
    gt_box(&g, 1, 200, 0, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 1, 0, 0, 100, 100, 0.8);
    res_box(&r, 1, 400, 300, 100, 100, 0.9 - 0.2); /* 0.7: below the first TP */
    res_box(&r, 1, 200, 0, 100, 100, 0.6);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    const double ap = (51.0 + 50.0 * 2.0 / 3.0) / 101.0;
    for (int rr = 0; rr < 101; rr++)
        VG_CHECK_NEAR(s.precision[5][rr], rr <= 50 ? 1.0 : 2.0 / 3.0, TOL);
    for (int t = 0; t < 10; t++)
        VG_CHECK_NEAR(s.ap_per_thr[t], ap, TOL);
    VG_CHECK_NEAR(s.stats[0], ap, TOL);
    VG_CHECK_NEAR(s.stats[1], ap, TOL);
    free(g.s);
    free(r.s);
}

/* IoU thresholds: a result shifted by 20 px against a 100x100 gt has IoU
 * 8000 / 12000 = 2/3: a match at .50 .55 .60 .65 (4 of 10 thresholds) only.
 * AP = 0.4, AP50 = 1, AP75 = 0; AR = 0.4. */
static void test_bbox_iou_thresholds(void) {
    sbuf g = {0}, r = {0};
    int  img = 3;
    gt_begin(&g, &img, 1);
    gt_box(&g, 3, 0, 0, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 3, 20, 0, 100, 100, 0.5);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    for (int t = 0; t < 10; t++)
        VG_CHECK_NEAR(s.ap_per_thr[t], t < 4 ? 1.0 : 0.0, TOL);
    VG_CHECK_NEAR(s.stats[0], 0.4, TOL);
    VG_CHECK_NEAR(s.stats[1], 1.0, TOL);
    VG_CHECK_NEAR(s.stats[2], 0.0, TOL);
    VG_CHECK_NEAR(s.stats[8], 0.4, TOL);
    free(g.s);
    free(r.s);
}

/*
 * Crowd region C = [200,0,200,200] beside regular gts A and B.
 * Results by score: A exact (.9); c1 inside C (.8: IoU vs crowd = inter /
 * result area = 1); half [380,0,40,40] (.7: inter 20x40 = 800, / 1600 = 0.5
 * exactly, a crowd match at threshold .50 only); B exact (.6).
 *  t = .50: TP, ign, ign, TP -> precision 1 everywhere: AP = 1.
 *  t > .50: TP, ign, FP, TP -> recall .5,.5,.5,1, precision 1,1,.5,2/3 ->
 *           monotone 1,1,2/3,2/3: AP = (51 + 50*2/3)/101 = 0.834983...
 * AP = (1 + 9 * 0.834983) / 10. With the plain IoU (union) the half-inside
 * result would be a false positive at .50 too.
 */
static void test_bbox_crowd(void) {
    sbuf g = {0}, r = {0};
    int  img = 5;
    gt_begin(&g, &img, 1);
    gt_box(&g, 5, 0, 0, 100, 100, 0);
    gt_box(&g, 5, 200, 0, 200, 200, 1);
    gt_box(&g, 5, 0, 200, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 5, 0, 0, 100, 100, 0.9);
    res_box(&r, 5, 220, 20, 50, 50, 0.8);
    res_box(&r, 5, 380, 0, 40, 40, 0.7);
    res_box(&r, 5, 0, 200, 100, 100, 0.6);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    const double apt = (51.0 + 50.0 * 2.0 / 3.0) / 101.0;
    VG_CHECK_NEAR(s.ap_per_thr[0], 1.0, TOL);
    for (int t = 1; t < 10; t++)
        VG_CHECK_NEAR(s.ap_per_thr[t], apt, TOL);
    VG_CHECK_NEAR(s.stats[0], (1.0 + 9.0 * apt) / 10.0, TOL);
    VG_CHECK_NEAR(s.stats[1], 1.0, TOL);
    VG_CHECK_NEAR(s.stats[2], apt, TOL);
    VG_CHECK_NEAR(s.stats[8], 1.0, TOL);
    VG_CHECK_INT_EQ(s.n_gt_ignored, 1);
    free(g.s);
    free(r.s);
}

/*
 * Area ranges: gts small S (20x20 = 400), medium M (50x50), large L
 * (100x100). Results: L exact (.9), S exact (.8), a small false positive F
 * (20x20, .7); nothing for M.
 *  all:    TP, TP, FP over 3 gts: recall 1/3, 2/3, 2/3 -> precision 1 up to
 *          recall point 0.66 (67 points), 0 after: AP = 67/101; AR = 2/3.
 *  small:  L matches the out-of-range gt L -> ignored; S TP; F FP -> AP 1.
 *  medium: L, S match ignored gts, F is outside the range -> all ignored,
 *          recall 0: AP = 0, AR = 0.
 *  large:  L TP; S matches an ignored gt; F outside range -> AP 1.
 *  maxDets: AR1 sees only L: 1/3; AR10 = 2/3.
 */
static void test_bbox_area_ranges(void) {
    sbuf g = {0}, r = {0};
    int  img = 9;
    gt_begin(&g, &img, 1);
    gt_box(&g, 9, 10, 10, 20, 20, 0);
    gt_box(&g, 9, 100, 100, 50, 50, 0);
    gt_box(&g, 9, 300, 200, 100, 100, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    res_box(&r, 9, 300, 200, 100, 100, 0.9);
    res_box(&r, 9, 10, 10, 20, 20, 0.8);
    res_box(&r, 9, 500, 10, 20, 20, 0.7);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    const double want[12] = {67.0 / 101, 67.0 / 101, 67.0 / 101, 1, 0, 1,
                             1.0 / 3,    2.0 / 3,    2.0 / 3,    1, 0, 1};
    for (int i = 0; i < 12; i++)
        VG_CHECK_MSG(fabs(s.stats[i] - want[i]) <= TOL, "%s: %.9f, want %.9f",
                     vg_coco_eval_stat_name(VG_COCO_IOU_BBOX, i), s.stats[i], want[i]);
    free(g.s);
    free(r.s);
}

/*
 * maxDets per image: image 1 has 101 gts and 101 exact results (scores
 * descending), image 2 has 5. maxDets 100 cuts image 1's last result only:
 * recall 105/106; precision 1 throughout -> AP reads 1 at recall points up to
 * 0.99 (100 points; 105/106 = 0.9906 < 1.00): AP = 100/101.
 * AR1 = 2/106, AR10 = 15/106, AR100 = 105/106.
 */
static void test_bbox_max_dets(void) {
    sbuf g = {0}, r = {0};
    int  imgs[2] = {1, 2};
    gt_begin(&g, imgs, 2);
    for (int i = 0; i < 101; i++)
        gt_box(&g, 1, (i % 10) * 60, (i / 10) * 40, 50, 35, 0);
    for (int i = 0; i < 5; i++)
        gt_box(&g, 2, i * 100, 0, 80, 80, 0);
    gt_end(&g);
    sb_printf(&r, "[");
    for (int i = 0; i < 101; i++)
        res_box(&r, 1, (i % 10) * 60, (i / 10) * 40, 50, 35, 1.0 - i * 0.001);
    for (int i = 0; i < 5; i++)
        res_box(&r, 2, i * 100, 0, 80, 80, 0.5);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
    VG_CHECK_NEAR(s.stats[0], 100.0 / 101.0, TOL);
    VG_CHECK_NEAR(s.stats[6], 2.0 / 106.0, TOL);
    VG_CHECK_NEAR(s.stats[7], 15.0 / 106.0, TOL);
    VG_CHECK_NEAR(s.stats[8], 105.0 / 106.0, TOL);
    free(g.s);
    free(r.s);
}

/* One person, exact keypoints: AP 1. Area 5000 is "medium". */
static void test_kpt_perfect(void) {
    sbuf   g = {0}, r = {0};
    int    img = 11;
    double kp[51], bbox[4] = {100, 50, 100, 200};
    canonical_person(kp, 0, 0);
    gt_begin(&g, &img, 1);
    gt_person(&g, 11, bbox, 5000, kp);
    gt_end(&g);
    sb_printf(&r, "[");
    res_person(&r, 11, kp, 0.8);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_KEYPOINTS, &s);
    const double want[10] = {1, 1, 1, 1, -1, 1, 1, 1, 1, -1};
    VG_CHECK_INT_EQ(s.n_stats, 10);
    for (int i = 0; i < 10; i++)
        VG_CHECK_NEAR(s.stats[i], want[i], TOL);
    free(g.s);
    free(r.s);
}

/*
 * A known OKS. Only keypoints 5..14 are labelled (v = 2); the result moves
 * each labelled keypoint k by d_k = sigma_k * sqrt(8 * area * ln(1/0.72)) in x,
 * so exp(-d^2 / (2 * (2 sigma)^2 * area)) = 0.72 for each, and OKS = 0.72.
 * The unlabelled keypoints of the result are far off and must not count.
 * Matches at thresholds .50 .. .70 (5 of 10): AP = AR = 0.5, AP50 = 1,
 * AP75 = 0. Area 20000 is "large".
 */
static void test_kpt_known_oks(void) {
    sbuf   g = {0}, r = {0};
    int    img  = 12;
    double area = 20000, kp[51], det[51], bbox[4] = {100, 50, 100, 200};
    canonical_person(kp, 0, 0);
    for (int k = 0; k < 17; k++) {
        bool lab = k >= 5 && k <= 14;
        if (!lab)
            kp[3 * k] = kp[3 * k + 1] = kp[3 * k + 2] = 0;
        double d       = vg_coco_kpt_oks_sigmas[k] * sqrt(8 * area * log(1 / 0.72));
        det[3 * k]     = lab ? kp[3 * k] + d : 900;
        det[3 * k + 1] = lab ? kp[3 * k + 1] : 900;
        det[3 * k + 2] = 0.5;
    }
    gt_begin(&g, &img, 1);
    gt_person(&g, 12, bbox, area, kp);
    gt_end(&g);
    sb_printf(&r, "[");
    res_person(&r, 12, det, 0.8);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_KEYPOINTS, &s);
    for (int t = 0; t < 10; t++)
        VG_CHECK_NEAR(s.ap_per_thr[t], t < 5 ? 1.0 : 0.0, TOL);
    const double want[10] = {0.5, 1, 0, -1, 0.5, 0.5, 1, 0, -1, 0.5};
    for (int i = 0; i < 10; i++)
        VG_CHECK_MSG(fabs(s.stats[i] - want[i]) <= TOL, "%s: %.9f, want %.9f",
                     vg_coco_eval_stat_name(VG_COCO_IOU_KEYPOINTS, i), s.stats[i], want[i]);
    free(g.s);
    free(r.s);
}

/*
 * A gt with num_keypoints == 0 is ignored. Its box is [400,50,100,100]; a
 * result (.9) whose keypoints all lie inside that box has OKS 1 against it
 * (distance to the doubled box is 0) and so is ignored, not a false positive.
 * The exact result for the regular person (.5) is then the only TP: AP = 1.
 */
static void test_kpt_ignore_unlabelled_gt(void) {
    sbuf   g = {0}, r = {0};
    int    img = 13;
    double kp[51], empty[51], inside[51], bbox[4] = {100, 50, 100, 200};
    double bbox2[4] = {400, 50, 100, 100};
    canonical_person(kp, 0, 0);
    memset(empty, 0, sizeof(empty));
    for (int k = 0; k < 17; k++) {
        inside[3 * k]     = 410 + k * 4;
        inside[3 * k + 1] = 60 + k * 4;
        inside[3 * k + 2] = 0.9;
    }
    gt_begin(&g, &img, 1);
    gt_person(&g, 13, bbox, 15000, kp);
    gt_person(&g, 13, bbox2, 10000, empty);
    gt_end(&g);
    sb_printf(&r, "[");
    res_person(&r, 13, inside, 0.9);
    res_person(&r, 13, kp, 0.5);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_KEYPOINTS, &s);
    VG_CHECK_NEAR(s.stats[0], 1.0, TOL);
    VG_CHECK_NEAR(s.stats[5], 1.0, TOL);
    VG_CHECK_INT_EQ(s.n_gt_ignored, 1);
    free(g.s);
    free(r.s);
}

/* maxDets 20 for keypoints: 21 people, 21 exact results: the 21st is cut.
 * Recall 20/21 = 0.952 -> precision 1 at recall points 0..0.95 (96 points):
 * AP = 96/101, AR = 20/21. */
static void test_kpt_max_dets_20(void) {
    sbuf g = {0}, r = {0};
    int  img = 14;
    gt_begin(&g, &img, 1);
    double kp[21][51];
    for (int i = 0; i < 21; i++) {
        double bbox[4] = {100 + i * 150.0, 50, 100, 200};
        canonical_person(kp[i], i * 150.0, 0);
        gt_person(&g, 14, bbox, 20000, kp[i]);
    }
    gt_end(&g);
    sb_printf(&r, "[");
    for (int i = 0; i < 21; i++)
        res_person(&r, 14, kp[i], 0.9 - i * 0.01);
    sb_close(&r, "]");
    vg_coco_eval_summary s;
    eval_text(g.s, r.s, VG_COCO_IOU_KEYPOINTS, &s);
    VG_CHECK_NEAR(s.stats[0], 96.0 / 101.0, TOL);
    VG_CHECK_NEAR(s.stats[5], 20.0 / 21.0, TOL);
    free(g.s);
    free(r.s);
}

/* Equal scores keep file order: two results with the same score, the first
 * a false positive. Ranked FP, TP over one gt: precision 0, 1/2 -> monotone
 * 1/2, 1/2: AP = 0.5. Reversed file order gives AP = 1. */
static void test_tie_order(void) {
    int    img = 1;
    double ap[2];
    for (int order = 0; order < 2; order++) {
        sbuf g = {0}, r = {0};
        gt_begin(&g, &img, 1);
        gt_box(&g, 1, 0, 0, 100, 100, 0);
        gt_end(&g);
        sb_printf(&r, "[");
        if (order == 0)
            res_box(&r, 1, 300, 300, 50, 50, 0.5);
        res_box(&r, 1, 0, 0, 100, 100, 0.5);
        if (order == 1)
            res_box(&r, 1, 300, 300, 50, 50, 0.5);
        sb_close(&r, "]");
        vg_coco_eval_summary s;
        eval_text(g.s, r.s, VG_COCO_IOU_BBOX, &s);
        ap[order] = s.stats[0];
        free(g.s);
        free(r.s);
    }
    VG_CHECK_NEAR(ap[0], 0.5, TOL);
    VG_CHECK_NEAR(ap[1], 1.0, TOL);
}

/*
 * Image selection. Image 1 (complete) has one gt and its exact result (.5);
 * image 2 (annotation_complete false) has no gt and a result (.9) on an
 * unannotated person. All images: FP then TP -> precision 0, 1/2 -> 1/2
 * everywhere: AP = 0.5. Complete images only: AP = 1. Image 2 alone has no
 * gt: every number is undefined (-1).
 */
static void test_image_selection(void) {
    const char      *gt_text  = "{\"images\":[{\"id\":1,\"annotation_complete\":true},"
                                "{\"id\":2,\"annotation_complete\":false}],"
                                "\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,"
                                "\"category_id\":1,\"bbox\":[0,0,100,100]}]}";
    const char      *res_text = "[{\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,100,100],"
                                "\"score\":0.5},{\"image_id\":2,\"category_id\":1,"
                                "\"bbox\":[0,0,100,100],\"score\":0.9}]";
    char             err[256];
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    VG_CHECK_OK(vg_coco_gt_parse(gt_text, "gt", &gt, err, sizeof(err)));
    VG_CHECK_OK(vg_coco_results_parse(res_text, "res", &res, err, sizeof(err)));
    VG_CHECK(vg_coco_gt_image(gt, 0)->complete);
    VG_CHECK(!vg_coco_gt_image(gt, 1)->complete);
    vg_coco_eval_params  p = vg_coco_eval_params_default();
    vg_coco_eval_summary s;
    VG_CHECK_OK(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)));
    VG_CHECK_NEAR(s.stats[0], 0.5, TOL);
    VG_CHECK_INT_EQ(s.n_images, 2);
    p.complete_only = true;
    VG_CHECK_OK(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)));
    VG_CHECK_NEAR(s.stats[0], 1.0, TOL);
    VG_CHECK_INT_EQ(s.n_images, 1);
    VG_CHECK_INT_EQ(s.n_results, 1);
    int64_t only2 = 2;
    p             = vg_coco_eval_params_default();
    p.img_ids     = &only2;
    p.n_img_ids   = 1;
    VG_CHECK_OK(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)));
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(s.stats[i], -1.0, TOL);
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
}

/* The printed summary has the reference's layout. */
static void test_summary_format(void) {
    vg_coco_eval_summary s;
    memset(&s, 0, sizeof(s));
    s.iou_type = VG_COCO_IOU_BBOX;
    s.n_stats  = 12;
    for (int t = 0; t < 10; t++)
        s.iou_thrs[t] = 0.5 + 0.05 * t;
    s.stats[0] = 0.378;
    s.stats[9] = -1;
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    VG_CHECK(f != NULL);
    vg_coco_eval_summary_print(&s, f);
    fclose(f);
    const char *first = " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | "
                        "maxDets=100 ] = 0.378\n";
    VG_CHECK_MSG(!strncmp(buf, first, strlen(first)), "got: %s", buf);
    VG_CHECK(strstr(buf, " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | "
                         "maxDets=100 ] = -1.000\n") != NULL);
    VG_CHECK(strstr(buf, " Average Precision  (AP) @[ IoU=0.75      | area=   all | "
                         "maxDets=100 ]") != NULL);
    free(buf);
}

/* ---- errors --------------------------------------------------------------------- */

static void test_errors(void) {
    char             err[512];
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    VG_CHECK_STATUS(vg_coco_gt_load("/nonexistent/gt.json", &gt, err, sizeof(err)), VG_E_IO);
    VG_CHECK(strstr(err, "/nonexistent/gt.json") != NULL);
    VG_CHECK_STATUS(vg_coco_gt_parse("{\"images\": [", "g.json", &gt, err, sizeof(err)),
                    VG_E_FORMAT);
    VG_CHECK(strstr(err, "g.json:1:") != NULL);
    VG_CHECK_STATUS(vg_coco_gt_parse("[]", "r.json", &gt, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "not COCO ground truth") != NULL);
    VG_CHECK_STATUS(vg_coco_results_parse("{\"images\":[]}", "g.json", &res, err, sizeof(err)),
                    VG_E_FORMAT);
    VG_CHECK(strstr(err, "not a COCO results file") != NULL);
    VG_CHECK_STATUS(vg_coco_results_parse("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3],"
                                          "\"score\":1}]",
                                          "r.json", &res, err, sizeof(err)),
                    VG_E_FORMAT);
    VG_CHECK(strstr(err, "entry 0") && strstr(err, "bbox"));
    VG_CHECK(res == NULL);

    /* Results on an image the gt does not have. */
    sbuf g   = {0};
    int  img = 1;
    gt_begin(&g, &img, 1);
    gt_box(&g, 1, 0, 0, 10, 10, 0);
    gt_end(&g);
    VG_CHECK_OK(vg_coco_gt_parse(g.s, "gt", &gt, err, sizeof(err)));
    VG_CHECK_OK(vg_coco_results_parse("[{\"image_id\":2,\"category_id\":1,\"bbox\":[1,2,3,4],"
                                      "\"score\":1}]",
                                      "r", &res, err, sizeof(err)));
    vg_coco_eval_summary s;
    vg_coco_eval_params  p = vg_coco_eval_params_default();
    VG_CHECK_STATUS(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "image_id 2 is not in the ground truth") != NULL);
    vg_coco_results_destroy(res);
    /* Keypoint evaluation needs keypoints on both sides. */
    VG_CHECK_OK(vg_coco_results_parse("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],"
                                      "\"score\":1}]",
                                      "r", &res, err, sizeof(err)));
    p.iou_type = VG_COCO_IOU_KEYPOINTS;
    VG_CHECK_STATUS(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "17 keypoints") != NULL);
    /* Unknown image in the selection. */
    int64_t bad = 99;
    p           = vg_coco_eval_params_default();
    p.img_ids   = &bad;
    p.n_img_ids = 1;
    VG_CHECK_STATUS(vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err)), VG_E_INVALID_ARG);
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    free(g.s);
}

/* ---- writer ----------------------------------------------------------------------- */

static void test_results_writer_roundtrip(void) {
    vg_coco_results *res = NULL;
    VG_CHECK_OK(vg_coco_results_create(&res));
    vg_detection dets[3] = {
        {{10.123f, 20.5f, 110.25f, 220.75f}, 0.9f, 0},
        {{5, 5, 15, 25}, 0.25f, 79},
        {{0, 0, 1, 1}, 0.5f, 80}, /* not a COCO-80 class: skipped */
    };
    VG_CHECK_OK(vg_coco_results_add_detections(res, 785, dets, 3));
    VG_CHECK_INT_EQ(vg_coco_results_count(res), 2);
    vg_pose pose;
    memset(&pose, 0, sizeof(pose));
    pose.det         = dets[0];
    pose.n_keypoints = 17;
    for (int k = 0; k < 17; k++) {
        pose.kp[k].x     = 20.0f + k;
        pose.kp[k].y     = 30.0f + 2 * k;
        pose.kp[k].score = k < 10 ? 0.8f : 0.1f;
    }
    /* 'bbox_keypoint' rescoring: 0.9 x mean(10 scores of 0.8 above 0.2). */
    pose.score = vg_coco_pose_rescore(&pose, 0.2f);
    VG_CHECK_NEAR(pose.score, 0.9 * 0.8, 1e-6);
    VG_CHECK_OK(vg_coco_results_add_poses(res, 40083, &pose, 1));
    VG_CHECK_INT_EQ(vg_coco_results_count(res), 3);

    char *text = vg_coco_results_dumps(res);
    VG_CHECK(text != NULL);
    /* The first line holds the first detection, rounded to 0.01 px. */
    VG_CHECK_MSG(strstr(text, "{\"image_id\":785,\"category_id\":1,\"bbox\":[10.12,20.5,100.13,"
                              "200.25],\"score\":0.9}") != NULL,
                 "%s", text);
    VG_CHECK(strstr(text, "\"category_id\":90") != NULL);

    vg_coco_results *back = NULL;
    char             err[256];
    VG_CHECK_OK(vg_coco_results_parse(text, "written", &back, err, sizeof(err)));
    VG_CHECK_INT_EQ(vg_coco_results_count(back), 3);
    free(text);

    /* Written poses evaluate against a gt built from the same keypoints: AP 1. */
    sbuf   g   = {0};
    int    img = 40083;
    double kp[51], bbox[4] = {10.12, 20.5, 100.13, 200.25};
    for (int k = 0; k < 17; k++) {
        kp[3 * k]     = 20.0 + k;
        kp[3 * k + 1] = 30.0 + 2 * k;
        kp[3 * k + 2] = 2;
    }
    gt_begin(&g, &img, 1);
    gt_person(&g, 40083, bbox, 15000, kp);
    gt_end(&g);
    vg_coco_gt *gt = NULL;
    VG_CHECK_OK(vg_coco_gt_parse(g.s, "gt", &gt, err, sizeof(err)));
    vg_coco_results *poses = NULL;
    VG_CHECK_OK(vg_coco_results_create(&poses));
    VG_CHECK_OK(vg_coco_results_add_poses(poses, 40083, &pose, 1));
    char path[] = "/tmp/vigil_coco_results_XXXXXX";
    int  fd     = mkstemp(path);
    VG_CHECK(fd >= 0);
    VG_CHECK_OK(vg_coco_results_write(poses, path, err, sizeof(err)));
    vg_coco_results *loaded = NULL;
    VG_CHECK_OK(vg_coco_results_load(path, &loaded, err, sizeof(err)));
    remove(path);
    vg_coco_eval_params p = vg_coco_eval_params_default();
    p.iou_type            = VG_COCO_IOU_KEYPOINTS;
    vg_coco_eval_summary s;
    VG_CHECK_OK(vg_coco_evaluate(gt, loaded, &p, &s, err, sizeof(err)));
    VG_CHECK_NEAR(s.stats[0], 1.0, TOL);
    /* Gt boxes for --gt-boxes. */
    vg_detection gb[4];
    VG_CHECK_INT_EQ(vg_coco_gt_image_boxes(gt, 40083, 1, gb, 4), 1);
    VG_CHECK_NEAR(gb[0].box.x2, 10.12 + 100.13, 1e-4);
    VG_CHECK_INT_EQ(gb[0].class_id, 0);
    VG_CHECK_INT_EQ(vg_coco_gt_find_image(gt, "some/dir/img40083.jpg"), 0);
    VG_CHECK_INT_EQ(vg_coco_gt_find_image(gt, "img1.jpg"), -1);
    vg_coco_results_destroy(loaded);
    vg_coco_results_destroy(poses);
    vg_coco_results_destroy(back);
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    free(g.s);
    close(fd);
}

static void test_category_map(void) {
    VG_CHECK_INT_EQ(vg_coco_category_id(0), 1);
    VG_CHECK_INT_EQ(vg_coco_category_id(11), 13);
    VG_CHECK_INT_EQ(vg_coco_category_id(79), 90);
    VG_CHECK_INT_EQ(vg_coco_category_id(80), -1);
    for (int32_t c = 0; c < 80; c++)
        VG_CHECK_INT_EQ(vg_coco_class_index(vg_coco_category_id(c)), c);
    VG_CHECK_INT_EQ(vg_coco_class_index(12), -1);
}

/* ---- out of memory ------------------------------------------------------------------ */

typedef struct oom_arg {
    const char          *gt_text, *res_text;
    vg_coco_eval_summary s;
} oom_arg;

static vg_status oom_body(void *arg) {
    oom_arg         *a   = arg;
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    vg_status        st  = vg_coco_gt_parse(a->gt_text, "gt", &gt, NULL, 0);
    if (st == VG_OK)
        st = vg_coco_results_parse(a->res_text, "res", &res, NULL, 0);
    if (st == VG_OK) {
        vg_coco_eval_params p = vg_coco_eval_params_default();
        p.iou_type            = VG_COCO_IOU_KEYPOINTS;
        st                    = vg_coco_evaluate(gt, res, &p, &a->s, NULL, 0);
    }
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    return st;
}

static void oom_cleanup(void *arg) {
    (void)arg;
}

static void test_oom(void) {
    sbuf   g = {0}, r = {0};
    int    imgs[2] = {1, 2};
    double kp[51], bbox[4] = {100, 50, 100, 200};
    canonical_person(kp, 0, 0);
    gt_begin(&g, imgs, 2);
    gt_person(&g, 1, bbox, 20000, kp);
    gt_person(&g, 2, bbox, 20000, kp);
    gt_end(&g);
    sb_printf(&r, "[");
    res_person(&r, 1, kp, 0.9);
    res_person(&r, 2, kp, 0.8);
    sb_close(&r, "]");
    oom_arg a = {g.s, r.s, {0}};
    vg_test_oom_sweep(oom_body, oom_cleanup, &a, 200);
    VG_CHECK_NEAR(a.s.stats[0], 1.0, TOL);
    free(g.s);
    free(r.s);
}

/* ---- shared annotated images ----------------------------------------------------------- */

/* Turns a gt file's own annotations into a results list (score 1, boxes and
 * keypoints as annotated) with jansson, independently of the loader. */
static char *gt_file_as_results(const char *gt_path, bool keypoints) {
    json_error_t je;
    json_t      *root = json_load_file(gt_path, 0, &je);
    VG_CHECK_MSG(root != NULL, "%s: %s", gt_path, je.text);
    json_t *out = json_array(), *a;
    size_t  i;
    json_array_foreach(json_object_get(root, "annotations"), i, a) {
        json_t *e = json_object();
        json_object_set(e, "image_id", json_object_get(a, "image_id"));
        json_object_set(e, "category_id", json_object_get(a, "category_id"));
        if (keypoints)
            json_object_set(e, "keypoints", json_object_get(a, "keypoints"));
        else
            json_object_set(e, "bbox", json_object_get(a, "bbox"));
        json_object_set_new(e, "score", json_real(1.0));
        json_array_append_new(out, e);
    }
    char *text = json_dumps(out, JSON_REAL_PRECISION(17));
    json_decref(out);
    json_decref(root);
    VG_CHECK(text != NULL);
    return text;
}

static void eval_shared(const char *gt_path, const char *res_text, vg_coco_iou_type t,
                        vg_coco_eval_summary *s) {
    char             err[512];
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    VG_CHECK_MSG(vg_coco_gt_load(gt_path, &gt, err, sizeof(err)) == VG_OK, "%s", err);
    VG_CHECK_MSG(vg_coco_results_parse(res_text, "results", &res, err, sizeof(err)) == VG_OK, "%s",
                 err);
    vg_coco_eval_params p = vg_coco_eval_params_default();
    p.iou_type            = t;
    vg_status st          = vg_coco_evaluate(gt, res, &p, s, err, sizeof(err));
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    VG_CHECK_MSG(st == VG_OK, "%s", err);
    vg_coco_eval_summary_print(s, stdout);
}

/* The gt's own annotations as results score 1 wherever defined. */
static void test_shared_gt_as_results(void) {
    const char *paths[2] = {"data/annotations/instances_person_shared.json",
                            "data/annotations/person_keypoints_shared.json"};
    for (int f = 0; f < 2; f++)
        for (int kpt = 0; kpt <= f; kpt++) {
            const char          *path = vg_test_require_shared(paths[f]);
            char                *text = gt_file_as_results(path, kpt);
            vg_coco_eval_summary s;
            eval_shared(path, text, kpt ? VG_COCO_IOU_KEYPOINTS : VG_COCO_IOU_BBOX, &s);
            free(text);
            for (int i = 0; i < s.n_stats; i++) {
                /* AR1 / AR10 are below 1 where an image holds more people. */
                if (!kpt && (i == 6 || i == 7))
                    continue;
                VG_CHECK_MSG(s.stats[i] == -1 || fabs(s.stats[i] - 1.0) <= 1e-12, "%s %s = %f",
                             paths[f], vg_coco_eval_stat_name(s.iou_type, i), s.stats[i]);
            }
            VG_CHECK(s.stats[0] == 1.0);
        }
}

/*
 * The reference person detections (mmpose's test boxes, a results file)
 * against the shared box ground truth. REFERENCE_AP.md gives keypoint AP only,
 * which does not apply to a box-only file, so the expected values below come
 * from the separate plain-Python implementation of the COCO rules in
 * tests/eval/coco_eval_ref.py (`coco_eval_ref.py GT RES bbox`) run on the same
 * two files; tolerance 1e-6.
 */
static void test_shared_reference_detections(void) {
    char gtp[4096];
    snprintf(gtp, sizeof(gtp), "%s",
             vg_test_require_shared("data/annotations/instances_person_shared.json"));
    const char *resp =
        vg_test_require_shared("data/annotations/person_detections_reference_shared.json");
    size_t size = 0;
    char  *text = vg_test_read_file(resp, &size);
    VG_CHECK(text != NULL);
    vg_coco_eval_summary s;
    eval_shared(gtp, text, VG_COCO_IOU_BBOX, &s);
    free(text);
    VG_CHECK_INT_EQ(s.n_results, 294);
    VG_CHECK_INT_EQ(s.n_images, 11);
    static const double want[12] = {REF_DET_STATS};
    for (int i = 0; i < 12; i++)
        VG_CHECK_MSG(fabs(s.stats[i] - want[i]) <= 1e-6, "%s = %.9f, want %.9f",
                     vg_coco_eval_stat_name(VG_COCO_IOU_BBOX, i), s.stats[i], want[i]);
}

static const vg_test_case cases[] = {
    {"bbox perfect", test_bbox_perfect},
    {"bbox false positive ranked first", test_bbox_false_positive_first},
    {"bbox precision curve", test_bbox_precision_curve},
    {"bbox iou thresholds", test_bbox_iou_thresholds},
    {"bbox crowd region", test_bbox_crowd},
    {"bbox area ranges and maxDets", test_bbox_area_ranges},
    {"bbox maxDets per image", test_bbox_max_dets},
    {"keypoints perfect", test_kpt_perfect},
    {"keypoints known oks", test_kpt_known_oks},
    {"keypoints ignore num_keypoints 0", test_kpt_ignore_unlabelled_gt},
    {"keypoints maxDets 20", test_kpt_max_dets_20},
    {"equal scores keep file order", test_tie_order},
    {"image selection and complete-only", test_image_selection},
    {"summary format", test_summary_format},
    {"errors", test_errors},
    {"results writer roundtrip", test_results_writer_roundtrip},
    {"category map", test_category_map},
    {"out of memory", test_oom},
    {"shared gt as results", test_shared_gt_as_results},
    {"shared reference detections", test_shared_reference_detections},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
