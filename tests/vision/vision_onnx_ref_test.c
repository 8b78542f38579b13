/*
 * vision_onnx_ref_test.c - the YOLOv7 / HRNet paths against the ONNX reference
 * tensors in ../shared/onnx (see its README.md).
 *
 * Pre-processing: source_384x512.ppm -> YOLO letterbox (640x640, pad 114, /255)
 * and HRNet top-down crop (box (20,14,366,512) -> 192x256, ImageNet
 * normalisation, plus the mirrored flip-test item), compared with the stored
 * input tensors. The README allows one uint8 level (1/255, 1/(255*0.224));
 * vigil evaluates the recipe's exact expressions (src = (dst+0.5)*(W/nw)-0.5,
 * src = (dst - t)/k, rounding half up) and matches BIT FOR BIT, so the
 * tolerance here is 0: a change in the arithmetic shows up at once.
 *
 * Decoding: no decoded results are stored for these random-weight models, so
 * the raw three-map decode and the end2end decode are checked against the
 * --grid decode of the same predictions (raw logits rebuilt from the grid
 * output by inverting the documented formulas), and the HRNet decode against
 * the README's mapping formula written out independently here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_util.h"
#include "test.h"
#include "vigil/vision.h"

static uint8_t *load_ppm(int32_t *w, int32_t *h) {
    const char *path = vg_test_require_shared("onnx/source_384x512.ppm");
    size_t      n    = 0;
    uint8_t    *p    = gu_read(path, 0, &n);
    int         maxv = 0, off = 0;
    int         got = sscanf((const char *)p, "P6 %d %d %d%n", w, h, &maxv, &off);
    VG_CHECK(got == 3 && maxv == 255);
    off++; /* one whitespace byte after maxval */
    VG_CHECK((size_t)off + (size_t)*w * (size_t)*h * 3u == n);
    uint8_t *rgb = malloc((size_t)*w * (size_t)*h * 3u);
    memcpy(rgb, p + off, (size_t)*w * (size_t)*h * 3u);
    free(p);
    return rgb;
}

static void compare_f32(const char *what, const float *mine, const float *ref, size_t n,
                        double tol) {
    size_t diff = 0;
    double maxd = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)mine[i] - (double)ref[i]);
        diff += mine[i] != ref[i];
        maxd = fmax(maxd, d);
    }
    printf("  %s: %zu of %zu values differ, max |diff| %.3g (tolerance %.3g)\n", what, diff, n,
           maxd, tol);
    VG_CHECK_MSG(maxd <= tol, "%s: max |diff| %g > %g", what, maxd, tol);
}

static void test_yolo_letterbox(void) {
    int32_t     W, H;
    uint8_t    *rgb = load_ppm(&W, &H);
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("yolov7", &m));
    size_t       bytes = vg_manifest_input_bytes(&m, 0, 0);
    float       *buf   = malloc(bytes);
    vg_image     img   = {rgb, W, H, 3 * W};
    vg_letterbox lb;
    VG_CHECK_OK(vg_pre_detector(&m, &img, 0, 0, buf, bytes, &lb));
    free(rgb);
    VG_CHECK_INT_EQ(lb.resized_w, 480);
    VG_CHECK_INT_EQ(lb.resized_h, 640);
    VG_CHECK_INT_EQ(lb.pad_left, 80);
    VG_CHECK_INT_EQ(lb.pad_top, 0);
    float *ref = gu_read(vg_test_require_shared("onnx/yolov7-tiny.input.bin"), bytes, NULL);
    compare_f32("yolov7 letterbox", buf, ref, bytes / 4, 0);
    free(ref);
    free(buf);
}

static void hrnet_crop(const vg_manifest *m, vg_crop *crop) {
    VG_CHECK_OK(vg_crop_from_xyxy(m, 20, 14, 366, 512, 384, 512, crop));
    /* The reference's affine dst = k (src - c) + (96, 128): k = 0.41124497991967873. */
    VG_CHECK_NEAR(crop->cx, 193.0, 1e-12);
    VG_CHECK_NEAR(crop->cy, 263.0, 1e-12);
    VG_CHECK_NEAR(crop->w, 2.334375 * 200, 1e-9);
    VG_CHECK_NEAR(crop->h, 3.1125 * 200, 1e-9);
    VG_CHECK_NEAR(1.0 / crop->sdx, 0.41124497991967873, 1e-15);
    VG_CHECK_NEAR(-crop->sx0 / crop->sdx, 16.629718875502007, 1e-12);
    VG_CHECK_NEAR(-crop->sy0 / crop->sdy, 19.842570281124495, 1e-12);
}

static void test_hrnet_crop(void) {
    int32_t     W, H;
    uint8_t    *rgb = load_ppm(&W, &H);
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("hrnet", &m));
    vg_crop crop;
    hrnet_crop(&m, &crop);
    size_t   item = vg_manifest_input_bytes(&m, 0, 0);
    float   *buf  = malloc(2 * item);
    vg_image img  = {rgb, W, H, 3 * W};
    VG_CHECK_OK(vg_pre_pose_batch(&m, &img, &crop, 1, buf, item));
    float *ref = gu_read(vg_test_require_shared("onnx/hrnet-mini-w8.input.bin"), item, NULL);
    compare_f32("hrnet crop", buf, ref, item / 4, 0);
    free(ref);
    /* Flip test batch: [crop, crop mirrored along W]. */
    m.heatmap_flip_test = true;
    VG_CHECK_OK(vg_pre_pose_batch(&m, &img, &crop, 1, buf, 2 * item));
    ref = gu_read(vg_test_require_shared("onnx/hrnet-mini-w8-dynbatch.flip2.input.bin"), 2 * item,
                  NULL);
    compare_f32("hrnet flip batch", buf, ref, 2 * item / 4, 0);
    free(ref);
    free(buf);
    free(rgb);
}

/* ---- YOLO decoding ------------------------------------------------------------ */

static float logit(double s) {
    s = fmin(fmax(s, 1e-7), 1 - 1e-7);
    return (float)log(s / (1 - s));
}

static void same_dets(const char *what, const vg_detection *a, int32_t na, const vg_detection *b,
                      int32_t nb, double tol_px, double tol_score) {
    VG_CHECK_MSG(na == nb, "%s: %d vs %d detections", what, na, nb);
    double maxb = 0, maxs = 0;
    for (int32_t i = 0; i < na; i++) {
        /* Match by class and nearest corners (random weights give boxes clipped
         * to zero area, where IoU says nothing). */
        int    best = -1;
        double bd   = INFINITY;
        for (int32_t k = 0; k < nb; k++) {
            const vg_box *p = &a[i].box, *q = &b[k].box;
            double        dd = fmax(fmax(fabs(p->x1 - q->x1), fabs(p->y1 - q->y1)),
                                    fmax(fabs(p->x2 - q->x2), fabs(p->y2 - q->y2)));
            if (b[k].class_id == a[i].class_id && dd < bd) {
                bd   = dd;
                best = k;
            }
        }
        VG_CHECK_MSG(best >= 0,
                     "%s: detection %d (class %d score %.9g box %g %g %g %g) has no match", what, i,
                     a[i].class_id, a[i].score, a[i].box.x1, a[i].box.y1, a[i].box.x2, a[i].box.y2);
        const vg_box *p = &a[i].box, *q = &b[best].box;
        maxb = fmax(maxb, fmax(fmax(fabs(p->x1 - q->x1), fabs(p->y1 - q->y1)),
                               fmax(fabs(p->x2 - q->x2), fabs(p->y2 - q->y2))));
        maxs = fmax(maxs, fabs(a[i].score - b[best].score));
    }
    printf("  %s: %d detections, max |box diff| %.3g px, max |score diff| %.3g\n", what, na, maxb,
           maxs);
    VG_CHECK_MSG(maxb <= tol_px && maxs <= tol_score, "%s: box %g px, score %g", what, maxb, maxs);
}

static void test_yolo_decode_forms(void) {
    const size_t rows = 25200, no = 85;
    float       *grid =
        gu_read(vg_test_require_shared("onnx/yolov7-tiny.output.bin"), rows * no * 4, NULL);
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("yolov7", &m));
    vg_letterbox lb;
    vg_letterbox_compute(384, 512, 640, 640, VG_VIS_RESIZE_LETTERBOX, &lb);

    vg_vis_tensor t = {"output", VG_VIS_F32, 3, {1, 25200, 85}, grid};
    vg_decoder   *d = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    static vg_detection g[400], r[400], e[400];
    int32_t             ng = 0, nr = 0, ne = 0;
    VG_CHECK_OK(vg_decode_detections(d, &t, 1, &lb, g, 400, &ng));
    vg_decoder_destroy(d);
    VG_CHECK(ng > 0);
    for (int32_t i = 0; i < ng; i++) {
        VG_CHECK(g[i].score > 0.25f && g[i].score <= 1.0f);
        VG_CHECK(g[i].box.x1 >= 0 && g[i].box.x2 <= 384 && g[i].box.y1 >= 0 && g[i].box.y2 <= 512);
        VG_CHECK(i == 0 || g[i].score <= g[i - 1].score);
    }

    /* Raw maps: invert the documented --grid formulas per row. */
    float *raw = malloc(rows * no * 4);
    size_t off = 0;
    for (int l = 0; l < 3; l++) {
        int S = 8 << l, n = 640 / S;
        for (int a = 0; a < 3; a++)
            for (int gy = 0; gy < n; gy++)
                for (int gx = 0; gx < n; gx++, off++) {
                    const float *p = grid + off * no;
                    float       *q = raw + off * no;
                    q[0]           = logit((p[0] - S * (gx - 0.5)) / (2.0 * S));
                    q[1]           = logit((p[1] - S * (gy - 0.5)) / (2.0 * S));
                    q[2]           = logit(sqrt(p[2] / (4.0 * m.anchors[l][a][0])));
                    q[3]           = logit(sqrt(p[3] / (4.0 * m.anchors[l][a][1])));
                    for (size_t c = 4; c < no; c++)
                        q[c] = logit(p[c]);
                }
    }
    VG_CHECK_INT_EQ(off, rows);
    vg_manifest mr;
    VG_CHECK_OK(vg_manifest_builtin("yolov7-raw", &mr));
    vg_vis_tensor maps[3];
    off = 0;
    for (int l = 0; l < 3; l++) {
        int64_t n = 640 / (8 << l);
        /* Pass the levels in reverse order: the decoder must find them by shape. */
        maps[2 - l] = (vg_vis_tensor){NULL, VG_VIS_F32, 5, {1, 3, n, n, 85}, raw + off * no};
        off += (size_t)(3 * n * n);
    }
    VG_CHECK_OK(vg_decoder_create(&mr, &d));
    VG_CHECK_OK(vg_decode_detections(d, maps, 3, &lb, r, 400, &nr));
    vg_decoder_destroy(d);
    free(raw);
    /* Sigmoid round trip in float32 (boxes scale with anchors up to ~1100 px). */
    same_dets("yolov7 raw maps vs grid", r, nr, g, ng, 1e-3, 1e-6);

    /* end2end [K,7]: the kept grid detections in input pixels. */
    float *e2e = malloc(sizeof(float) * 7 * (size_t)ng);
    for (int32_t i = 0; i < ng; i++) {
        float *q = e2e + 7 * i;
        q[0]     = 0;
        q[1]     = (float)(g[i].box.x1 * 480.0 / 384 + 80);
        q[2]     = (float)(g[i].box.y1 * 640.0 / 512);
        q[3]     = (float)(g[i].box.x2 * 480.0 / 384 + 80);
        q[4]     = (float)(g[i].box.y2 * 640.0 / 512);
        q[5]     = (float)g[i].class_id;
        q[6]     = g[i].score;
    }
    vg_vis_tensor te = {"output", VG_VIS_F32, 2, {ng, 7}, e2e};
    vg_manifest   me;
    VG_CHECK_OK(vg_manifest_builtin("yolov7-end2end", &me));
    VG_CHECK_OK(vg_decoder_create(&me, &d));
    VG_CHECK_OK(vg_decode_detections(d, &te, 1, &lb, e, 400, &ne));
    vg_decoder_destroy(d);
    free(e2e);
    same_dets("yolov7 end2end vs grid", e, ne, g, ng, 1e-3, 0);
    free(grid);
}

/* ---- HRNet decoding --------------------------------------------------------- */

static void test_hrnet_decode(void) {
    const int   K = 17, HH = 64, WW = 48;
    float      *hm = gu_read(vg_test_require_shared("onnx/hrnet-mini-w8.output.bin"),
                             (size_t)K * HH * WW * 4, NULL);
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("hrnet", &m));
    vg_crop crop;
    hrnet_crop(&m, &crop);
    vg_vis_tensor t = {"heatmaps", VG_VIS_F32, 4, {1, K, HH, WW}, hm};
    vg_decoder   *d = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_pose pose;
    VG_CHECK_OK(vg_decode_poses(d, &t, 1, &crop, 1, &pose));
    vg_decoder_destroy(d);
    VG_CHECK_INT_EQ(pose.n_keypoints, K);
    /* Independent: argmax, 0.25 towards the larger neighbour, then
     * src = center + (h - (24, 32)) * (scale * 200) / (48, 64). */
    double maxd = 0;
    for (int k = 0; k < K; k++) {
        const float *p = hm + (size_t)k * HH * WW;
        int          b = 0;
        for (int i = 1; i < HH * WW; i++)
            if (p[i] > p[b])
                b = i;
        double x = b % WW, y = b / WW;
        int    px = b % WW, py = b / WW;
        if (px > 1 && px < WW - 1 && py > 1 && py < HH - 1) {
            double dx = p[py * WW + px + 1] - p[py * WW + px - 1];
            double dy = p[(py + 1) * WW + px] - p[(py - 1) * WW + px];
            x += dx > 0 ? 0.25 : dx < 0 ? -0.25 : 0;
            y += dy > 0 ? 0.25 : dy < 0 ? -0.25 : 0;
        }
        double sx = 193 + (x - 24) * (2.334375 * 200) / 48;
        double sy = 263 + (y - 32) * (3.1125 * 200) / 64;
        maxd      = fmax(maxd, fmax(fabs(pose.kp[k].x - sx), fabs(pose.kp[k].y - sy)));
        VG_CHECK_NEAR(pose.kp[k].score, p[b], 0);
    }
    printf("  hrnet decode vs README formula: max diff %.3g px\n", maxd);
    VG_CHECK(maxd < 1e-3);
    /* DARK refines within about a cell of the arg-max (one cell = 4 input px = 4 * kx). */
    m.heatmap_dark = true;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_pose dark;
    VG_CHECK_OK(vg_decode_poses(d, &t, 1, &crop, 1, &dark));
    vg_decoder_destroy(d);
    double maxdark = 0;
    for (int k = 0; k < K; k++) {
        maxdark = fmax(maxdark,
                       fmax(fabs(dark.kp[k].x - pose.kp[k].x), fabs(dark.kp[k].y - pose.kp[k].y)));
        VG_CHECK_NEAR(dark.kp[k].score, pose.kp[k].score, 0);
    }
    printf("  hrnet DARK vs quarter shift: max diff %.3g px (cell = %.3g px)\n", maxdark,
           4 * crop.kx);
    VG_CHECK(maxdark <= 1.5 * 4 * crop.kx);
    free(hm);
}

static void test_hrnet_flip_decode(void) {
    const int K = 17, HH = 64, WW = 48;
    size_t    plane = (size_t)HH * WW, item = (size_t)K * plane;
    float    *hm2 = gu_read(vg_test_require_shared("onnx/hrnet-mini-w8-dynbatch.flip2.output.bin"),
                            2 * item * 4, NULL);
    float *hm1 = gu_read(vg_test_require_shared("onnx/hrnet-mini-w8.output.bin"), item * 4, NULL);
    /* Item 0 of the batch-2 run is the batch-1 run (README tolerance 1e-3). */
    compare_f32("hrnet batch item 0 vs batch 1", hm2, hm1, item, 1e-3);

    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("hrnet", &m));
    m.heatmap_flip_test = true;
    float *merged       = malloc(item * 4);
    vg_heatmap_flip_merge(hm2, hm2 + item, K, HH, WW, (const int32_t(*)[2])m.flip_pairs,
                          m.n_flip_pairs, merged);
    /* Spot checks of the official flip-back: mirror, swap pairs, shift right by one. */
    static const int swap[17] = {0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15};
    for (int k = 0; k < K; k++)
        for (int y = 0; y < HH; y += 7)
            for (int x = 0; x < WW; x++) {
                int   xs   = x > 0 ? x - 1 : 0;
                float fb   = hm2[item + (size_t)swap[k] * plane + (size_t)y * WW + (WW - 1 - xs)];
                float want = (hm2[(size_t)k * plane + (size_t)y * WW + x] + fb) * 0.5f;
                VG_CHECK_NEAR(merged[(size_t)k * plane + (size_t)y * WW + x], want, 0);
            }
    vg_crop crop;
    hrnet_crop(&m, &crop);
    vg_vis_tensor t = {"heatmaps", VG_VIS_F32, 4, {2, K, HH, WW}, hm2};
    vg_decoder   *d = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_pose pose;
    VG_CHECK_OK(vg_decode_poses(d, &t, 1, &crop, 1, &pose));
    vg_decoder_destroy(d);
    vg_keypoint       kp[17];
    vg_heatmap_params hp = vg_heatmap_params_default();
    vg_heatmap_decode(merged, K, HH, WW, &hp, kp);
    for (int k = 0; k < K; k++) {
        VG_CHECK_NEAR(pose.kp[k].x, crop.ox + kp[k].x * 4 * crop.kx, 1e-3);
        VG_CHECK_NEAR(pose.kp[k].score, kp[k].score, 0);
        VG_CHECK(pose.kp[k].x >= crop.ox - 1 && pose.kp[k].x <= crop.ox + crop.w + 1);
    }
    free(merged);
    free(hm1);
    free(hm2);
}

static const vg_test_case cases[] = {
    {"yolov7 letterbox", test_yolo_letterbox},
    {"hrnet crop and flip batch", test_hrnet_crop},
    {"yolov7 grid, raw and end2end decode", test_yolo_decode_forms},
    {"hrnet decode", test_hrnet_decode},
    {"hrnet flip test decode", test_hrnet_flip_decode},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
