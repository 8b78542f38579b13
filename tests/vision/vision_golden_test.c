/*
 * vision_golden_test.c - the vision layer against the TF.js reference data in
 * ../shared/golden (see its README.md for how every number was produced).
 *
 * Decoding: the golden OUTPUT tensors are fed to the decoders and case.json's
 * `decoded` results must come out: same detections (matched by class and
 * IoU) within 0.5 px and 1e-3 score; keypoints within 0.5 px in crop space
 * and source space (the README's own acceptance bounds; the observed maxima
 * are printed and are ~1e-4 px or less).
 *
 * Pre-processing: the source JPEGs are decoded with libjpeg-turbo defaults
 * (checked against decoded_rgb_sha256) and the model inputs are rebuilt and
 * compared with input.bin BIT FOR BIT (the README states all 22 inputs are
 * exactly reproducible from the recipe).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_util.h"
#include "test.h"
#include "vigil/vision.h"

#define MAX_OUTS 8

static double g_max_box, g_max_score, g_max_kp_src, g_max_kp_crop;

typedef void (*case_fn)(const char *dir, json_t *cj);

/* Runs fn on every case of `model` listed in golden/index.json. */
static int for_each_case(const char *model, case_fn fn) {
    const char *root = vg_test_require_shared("golden/index.json");
    char        groot[1024];
    snprintf(groot, sizeof(groot), "%s", root);
    char *slash   = strrchr(groot, '/');
    *slash        = '\0';
    json_t *idx   = gu_load_json(root);
    json_t *cases = json_object_get(idx, "cases");
    int     n     = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        if (strcmp(json_string_value(json_object_get(c, "model")), model) != 0)
            continue;
        char dir[1200], path[1300];
        snprintf(dir, sizeof(dir), "%s/%s", groot, json_string_value(json_object_get(c, "dir")));
        snprintf(path, sizeof(path), "%s/case.json", dir);
        json_t *cj = gu_load_json(path);
        fn(dir, cj);
        json_decref(cj);
        n++;
    }
    json_decref(idx);
    return n;
}

static void letterbox_from_case(json_t *cj, vg_letterbox *lb) {
    json_t *pp = json_object_get(cj, "preprocess");
    vg_letterbox_compute((int32_t)gu_field(pp, "source_width"),
                         (int32_t)gu_field(pp, "source_height"),
                         (int32_t)gu_field(pp, "target_width"),
                         (int32_t)gu_field(pp, "target_height"), VG_VIS_RESIZE_LETTERBOX, lb);
    /* The geometry must be the recipe's. */
    VG_CHECK_INT_EQ(lb->resized_w, (int)gu_field(pp, "resized_width"));
    VG_CHECK_INT_EQ(lb->resized_h, (int)gu_field(pp, "resized_height"));
    VG_CHECK_INT_EQ(lb->pad_left, (int)gu_field(pp, "pad_left"));
    VG_CHECK_INT_EQ(lb->pad_top, (int)gu_field(pp, "pad_top"));
}

static void compare_detections(const char *dir, json_t *cj, const vg_detection *dets, int32_t n) {
    json_t *gd = json_object_get(json_object_get(cj, "decoded"), "detections");
    VG_CHECK_MSG((size_t)n == json_array_size(gd), "%s: %d detections, golden has %zu", dir, n,
                 json_array_size(gd));
    bool used[256] = {false};
    for (size_t i = 0; i < json_array_size(gd); i++) {
        json_t *g    = json_array_get(gd, i);
        json_t *b    = json_object_get(g, "box_img_xyxy");
        vg_box  gb   = {(float)gu_num(json_array_get(b, 0)), (float)gu_num(json_array_get(b, 1)),
                        (float)gu_num(json_array_get(b, 2)), (float)gu_num(json_array_get(b, 3))};
        int     cls  = (int)gu_field(g, "cls");
        int     best = -1;
        double  best_iou = 0;
        for (int32_t k = 0; k < n; k++) {
            if (used[k] || dets[k].class_id != cls)
                continue;
            double iou = vg_box_iou(&dets[k].box, &gb);
            if (iou > best_iou) {
                best_iou = iou;
                best     = k;
            }
        }
        VG_CHECK_MSG(best >= 0, "%s: golden detection %zu (class %d) not found", dir, i, cls);
        used[best]             = true;
        const vg_detection *d  = &dets[best];
        double              db = fmax(fmax(fabs(d->box.x1 - gb.x1), fabs(d->box.y1 - gb.y1)),
                                      fmax(fabs(d->box.x2 - gb.x2), fabs(d->box.y2 - gb.y2)));
        double              ds = fabs(d->score - gu_field(g, "score"));
        g_max_box              = fmax(g_max_box, db);
        g_max_score            = fmax(g_max_score, ds);
        VG_CHECK_MSG(db <= 0.5, "%s: detection %zu box differs by %g px", dir, i, db);
        VG_CHECK_MSG(ds <= 1e-3, "%s: detection %zu score differs by %g", dir, i, ds);
    }
}

static void decode_case(const char *dir, json_t *cj, const char *builtin, vg_vis_output_form form) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin(builtin, &m));
    if (form != VG_VIS_OUT_DEFAULT)
        m.output_form = form;
    vg_vis_tensor outs[MAX_OUTS];
    int           no = gu_load_outputs(dir, cj, outs, MAX_OUTS);
    vg_letterbox  lb;
    letterbox_from_case(cj, &lb);
    vg_decoder *d = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_detection dets[200];
    int32_t      n  = -1;
    vg_status    st = vg_decode_detections(d, outs, no, &lb, dets, 200, &n);
    VG_CHECK_MSG(st == VG_OK, "%s: %s", dir, vg_decoder_errmsg(d));
    vg_decoder_destroy(d);
    gu_free_tensors(outs, no);
    compare_detections(dir, cj, dets, n);
}

static void centernet_case(const char *dir, json_t *cj) {
    decode_case(dir, cj, "centernet", VG_VIS_OUT_CENTERNET_DETECTIONS);
}

static void centernet_heatmap_case(const char *dir, json_t *cj) {
    decode_case(dir, cj, "centernet", VG_VIS_OUT_CENTERNET_HEATMAP);
}

static void nanodet_case(const char *dir, json_t *cj) {
    decode_case(dir, cj, "nanodet", VG_VIS_OUT_DEFAULT);
}

static void report(const char *what) {
    printf("  %s: max |box diff| %.3g px, max |score diff| %.3g, max kp diff %.3g px (source) "
           "%.3g px (crop)\n",
           what, g_max_box, g_max_score, g_max_kp_src, g_max_kp_crop);
    g_max_box = g_max_score = g_max_kp_src = g_max_kp_crop = 0;
}

static void test_centernet_decode(void) {
    VG_CHECK_INT_EQ(for_each_case("centernet", centernet_case), 4);
    report("centernet (in-graph detections)");
}

static void test_centernet_heatmap_decode(void) {
    VG_CHECK_INT_EQ(for_each_case("centernet", centernet_heatmap_case), 4);
    report("centernet (heatmap + wh decoded in C)");
}

static void test_nanodet_decode(void) {
    VG_CHECK_INT_EQ(for_each_case("nanodet", nanodet_case), 4);
    report("nanodet");
}

/* ---- MoveNet single pose --------------------------------------------------- */

static void crop_from_case(json_t *cj, const vg_manifest *m, vg_crop *crop) {
    json_t *pp  = json_object_get(cj, "preprocess");
    json_t *pb  = json_object_get(json_object_get(pp, "person_box_source"), "box_img_xyxy");
    vg_box  box = {(float)gu_num(json_array_get(pb, 0)), (float)gu_num(json_array_get(pb, 1)),
                   (float)gu_num(json_array_get(pb, 2)), (float)gu_num(json_array_get(pb, 3))};
    /* The golden crop is computed from the double box; the float32 box of a
     * vg_detection is what the pipeline has, so check the float box gives the
     * same float32 TF box, and use the double box for the exact check. */
    vg_crop fcrop;
    VG_CHECK_OK(vg_crop_from_box(m, &box, (int32_t)gu_field(pp, "source_width"),
                                 (int32_t)gu_field(pp, "source_height"), &fcrop));
    json_t *tfb = json_object_get(pp, "crop_box_tf_yxyx_float32");
    json_t *eff = json_object_get(pp, "crop_box_effective_px_xyxy");
    *crop       = fcrop;
    for (int k = 0; k < 4; k++) {
        float want = (float)gu_num(json_array_get(tfb, (size_t)k));
        VG_CHECK_NEAR(crop->tf_box_yxyx[k], want, 2e-6);
    }
    VG_CHECK_NEAR(crop->ox, gu_num(json_array_get(eff, 0)), 1e-3);
    VG_CHECK_NEAR(crop->oy, gu_num(json_array_get(eff, 1)), 1e-3);
}

/* The crop from the golden double-precision person box: the float32 TF box must
 * be the golden one exactly. */
static void crop_exact(json_t *cj, const vg_manifest *m, vg_crop *crop) {
    json_t *pp = json_object_get(cj, "preprocess");
    json_t *pb = json_object_get(json_object_get(pp, "person_box_source"), "box_img_xyxy");
    VG_CHECK_OK(vg_crop_from_xyxy(m, gu_num(json_array_get(pb, 0)), gu_num(json_array_get(pb, 1)),
                                  gu_num(json_array_get(pb, 2)), gu_num(json_array_get(pb, 3)),
                                  (int32_t)gu_field(pp, "source_width"),
                                  (int32_t)gu_field(pp, "source_height"), crop));
    json_t *tfb = json_object_get(pp, "crop_box_tf_yxyx_float32");
    for (int k = 0; k < 4; k++)
        VG_CHECK_MSG(crop->tf_box_yxyx[k] == (float)gu_num(json_array_get(tfb, (size_t)k)),
                     "TF crop box element %d: %.9g != golden %.9g", k, crop->tf_box_yxyx[k],
                     gu_num(json_array_get(tfb, (size_t)k)));
}

static const char *g_model;

static void movenet_case(const char *dir, json_t *cj) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin(g_model, &m));
    vg_crop crop;
    crop_from_case(cj, &m, &crop);
    vg_vis_tensor outs[MAX_OUTS];
    int           no = gu_load_outputs(dir, cj, outs, MAX_OUTS);
    vg_decoder   *d  = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_pose pose;
    memset(&pose, 0, sizeof(pose));
    vg_status st = vg_decode_poses(d, outs, no, &crop, 1, &pose);
    VG_CHECK_MSG(st == VG_OK, "%s: %s", dir, vg_decoder_errmsg(d));
    vg_decoder_destroy(d);
    gu_free_tensors(outs, no);
    json_t *kps = json_object_get(json_object_get(cj, "decoded"), "keypoints");
    VG_CHECK_INT_EQ(pose.n_keypoints, (int)json_array_size(kps));
    for (size_t k = 0; k < json_array_size(kps); k++) {
        json_t *g   = json_array_get(kps, k);
        double  dsx = fabs(pose.kp[k].x - gu_field(g, "x_img"));
        double  dsy = fabs(pose.kp[k].y - gu_field(g, "y_img"));
        /* Crop space: back through the crop mapping. */
        double xc = (pose.kp[k].x - crop.ox) / crop.kx, yc = (pose.kp[k].y - crop.oy) / crop.ky;
        double dcx = fabs(xc - gu_field(g, "x_crop_px")), dcy = fabs(yc - gu_field(g, "y_crop_px"));
        g_max_kp_src  = fmax(g_max_kp_src, fmax(dsx, dsy));
        g_max_kp_crop = fmax(g_max_kp_crop, fmax(dcx, dcy));
        VG_CHECK_MSG(fmax(dsx, dsy) <= 0.5 && fmax(dcx, dcy) <= 0.5,
                     "%s: keypoint %zu off by %g px (source) %g px (crop)", dir, k, fmax(dsx, dsy),
                     fmax(dcx, dcy));
        VG_CHECK_NEAR(pose.kp[k].score, gu_field(g, "score"), 1e-6);
    }
}

static void test_movenet_decode(void) {
    g_model = "movenet-thunder";
    VG_CHECK_INT_EQ(for_each_case("movenet-thunder", movenet_case), 5);
    report("movenet-thunder");
    g_model = "movenet-lightning";
    VG_CHECK_INT_EQ(for_each_case("movenet-lightning", movenet_case), 5);
    report("movenet-lightning");
}

static void multipose_case(const char *dir, json_t *cj) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("movenet-multipose", &m));
    vg_letterbox lb;
    letterbox_from_case(cj, &lb);
    vg_vis_tensor outs[MAX_OUTS];
    int           no = gu_load_outputs(dir, cj, outs, MAX_OUTS);
    vg_decoder   *d  = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_pose   poses[8];
    int32_t   n  = -1;
    vg_status st = vg_decode_multipose(d, outs, no, &lb, poses, 8, &n);
    VG_CHECK_MSG(st == VG_OK, "%s: %s", dir, vg_decoder_errmsg(d));
    vg_decoder_destroy(d);
    gu_free_tensors(outs, no);
    json_t *people = json_object_get(json_object_get(cj, "decoded"), "people");
    VG_CHECK_INT_EQ(n, (int)json_array_size(people));
    for (int32_t i = 0; i < n; i++) {
        json_t *p = json_array_get(people, (size_t)i);
        VG_CHECK_NEAR(poses[i].score, gu_field(p, "score"), 1e-6);
        json_t *b  = json_object_get(p, "box_img_xyxy");
        double  db = fmax(fmax(fabs(poses[i].det.box.x1 - gu_num(json_array_get(b, 0))),
                               fabs(poses[i].det.box.y1 - gu_num(json_array_get(b, 1)))),
                          fmax(fabs(poses[i].det.box.x2 - gu_num(json_array_get(b, 2))),
                               fabs(poses[i].det.box.y2 - gu_num(json_array_get(b, 3)))));
        g_max_box  = fmax(g_max_box, db);
        VG_CHECK_MSG(db <= 0.5, "%s: person %d box off by %g px", dir, i, db);
        json_t *kps = json_object_get(p, "keypoints");
        VG_CHECK_INT_EQ(poses[i].n_keypoints, (int)json_array_size(kps));
        for (size_t k = 0; k < json_array_size(kps); k++) {
            json_t *g    = json_array_get(kps, k);
            double  dd   = fmax(fabs(poses[i].kp[k].x - gu_field(g, "x_img")),
                                fabs(poses[i].kp[k].y - gu_field(g, "y_img")));
            g_max_kp_src = fmax(g_max_kp_src, dd);
            VG_CHECK_MSG(dd <= 0.5, "%s: person %d keypoint %zu off by %g px", dir, i, k, dd);
            VG_CHECK_NEAR(poses[i].kp[k].score, gu_field(g, "score"), 1e-6);
        }
    }
}

static void test_multipose_decode(void) {
    VG_CHECK_INT_EQ(for_each_case("movenet-multipose", multipose_case), 4);
    report("movenet-multipose");
}

/* ---- pre-processing ---------------------------------------------------------- */

static uint8_t *load_source(json_t *cj, int32_t *w, int32_t *h) {
    json_t *si = json_object_get(cj, "source_image");
    char    sub[512];
    snprintf(sub, sizeof(sub), "data/images/%s", json_string_value(json_object_get(si, "file")));
    const char *path = vg_test_require_shared(sub);
    uint8_t    *rgb  = gu_decode_jpeg(path, w, h);
    VG_CHECK_INT_EQ(*w, (int)gu_field(si, "width"));
    VG_CHECK_INT_EQ(*h, (int)gu_field(si, "height"));
    char hex[65];
    gu_sha256_hex(rgb, (size_t)*w * (size_t)*h * 3u, hex);
    const char *want = json_string_value(json_object_get(si, "decoded_rgb_sha256"));
    if (strcmp(hex, want) != 0) {
        free(rgb);
        VG_CHECK_MSG(0, "%s: decoded pixels differ from the golden decoder (sha256 %s, want %s)",
                     sub, hex, want);
    }
    return rgb;
}

static long g_px_total, g_px_diff;

static void compare_input(const char *dir, json_t *cj, const void *mine, size_t bytes) {
    char path[1300];
    snprintf(path, sizeof(path), "%s/input.bin", dir);
    void           *ref  = gu_read(path, bytes, NULL);
    long            diff = 0;
    const uint32_t *a = mine, *b = ref;
    for (size_t i = 0; i < bytes / 4; i++)
        diff += a[i] != b[i];
    free(ref);
    g_px_total += (long)(bytes / 4);
    g_px_diff += diff;
    (void)cj;
    VG_CHECK_MSG(diff == 0, "%s: %ld of %zu input values differ from input.bin", dir, diff,
                 bytes / 4);
}

static void pre_letterbox_case(const char *dir, json_t *cj) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin(g_model, &m));
    int32_t  W, H;
    uint8_t *rgb = load_source(cj, &W, &H);
    json_t  *pp  = json_object_get(cj, "preprocess");
    int32_t tw = (int32_t)gu_field(pp, "target_width"), th = (int32_t)gu_field(pp, "target_height");
    size_t  bytes    = vg_manifest_input_bytes(&m, tw, th);
    void   *buf      = malloc(bytes);
    vg_image     img = {rgb, W, H, 3 * W};
    vg_letterbox lb;
    vg_status    st = vg_pre_detector(&m, &img, tw, th, buf, bytes, &lb);
    free(rgb);
    if (st == VG_OK)
        compare_input(dir, cj, buf, bytes);
    free(buf);
    VG_CHECK_OK(st);
}

static void pre_crop_case(const char *dir, json_t *cj) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin(g_model, &m));
    int32_t  W, H;
    uint8_t *rgb = load_source(cj, &W, &H);
    vg_crop  crop;
    crop_exact(cj, &m, &crop);
    size_t    bytes = vg_manifest_input_bytes(&m, 0, 0);
    void     *buf   = malloc(bytes);
    vg_image  img   = {rgb, W, H, 3 * W};
    vg_status st    = vg_pre_pose_batch(&m, &img, &crop, 1, buf, bytes);
    free(rgb);
    if (st == VG_OK)
        compare_input(dir, cj, buf, bytes);
    free(buf);
    VG_CHECK_OK(st);
}

static void test_pre_letterbox_exact(void) {
    static const char *const models[] = {"centernet", "nanodet", "movenet-multipose"};
    for (int i = 0; i < 3; i++) {
        g_model = models[i];
        VG_CHECK_INT_EQ(for_each_case(models[i], pre_letterbox_case), 4);
    }
    printf("  letterbox inputs: %ld of %ld values differ\n", g_px_diff, g_px_total);
    g_px_diff = g_px_total = 0;
}

static void test_pre_crop_exact(void) {
    static const char *const models[] = {"movenet-thunder", "movenet-lightning"};
    for (int i = 0; i < 2; i++) {
        g_model = models[i];
        VG_CHECK_INT_EQ(for_each_case(models[i], pre_crop_case), 5);
    }
    printf("  crop inputs: %ld of %ld values differ\n", g_px_diff, g_px_total);
    g_px_diff = g_px_total = 0;
}

static const vg_test_case cases[] = {
    {"centernet decode", test_centernet_decode},
    {"centernet heatmap decode", test_centernet_heatmap_decode},
    {"nanodet decode", test_nanodet_decode},
    {"movenet decode", test_movenet_decode},
    {"multipose decode", test_multipose_decode},
    {"letterbox inputs exact", test_pre_letterbox_exact},
    {"crop inputs exact", test_pre_crop_exact},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
