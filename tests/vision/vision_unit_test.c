/*
 * vision_unit_test.c - the vision layer on hand-built inputs: IoU and NMS,
 * letterbox geometry, pre-processing conversions, crop/affine math, heatmap
 * decoding (arg-max, quarter shift, DARK), flip merge, manifests (built-ins,
 * JSON errors, signatures), frame conversion, decoder errors and OOM.
 * Every expected value is worked out by hand in the comment next to it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "test.h"
#include "vigil/vision.h"

static vg_detection det(float x1, float y1, float x2, float y2, float s, int c) {
    vg_detection d = {{x1, y1, x2, y2}, s, c};
    return d;
}

/* ---- IoU / NMS ------------------------------------------------------------- */

static void test_iou(void) {
    vg_box a = {0, 0, 10, 10}, b = {5, 0, 15, 10}, c = {20, 20, 30, 30}, z = {3, 3, 3, 3};
    /* inter 50, union 100 + 100 - 50 = 150 */
    VG_CHECK_NEAR(vg_box_iou(&a, &b), 50.0 / 150.0, 1e-12);
    VG_CHECK_NEAR(vg_box_iou(&a, &c), 0.0, 0);
    VG_CHECK_NEAR(vg_box_iou(&a, &a), 1.0, 0);
    VG_CHECK_NEAR(vg_box_iou(&z, &z), 0.0, 0); /* empty union: 0, not NaN */
}

static void test_nms(void) {
    vg_detection in[6] = {
        det(0, 0, 10, 10, 0.8f, 0),   /* kept first */
        det(1, 0, 11, 10, 0.9f, 0),   /* best: IoU with [0] = 90/110 = 0.818 */
        det(0, 0, 10, 10, 0.7f, 1),   /* other class: kept when class-aware */
        det(5, 0, 15, 10, 0.6f, 0),   /* IoU with [1] = 60/140 = 0.43: kept at 0.5 */
        det(50, 50, 60, 60, 0.6f, 0), /* tie with [3]: stays after it */
        det(0, 0, 20, 5, 0.5f, 0),    /* IoU with [1]: inter 50, union 100+100-50: 0.333 */
    };
    int32_t      order[12];
    vg_detection out[6];
    int32_t      n = vg_nms(in, 6, 0.5, false, 100, order, out, 6);
    /* Sorted: 0.9 [1], 0.8 [0] (dropped, 0.818 > 0.5), 0.7 [2], 0.6 [3], 0.6 [4], 0.5 [5]:
     * [5] vs [3]: inter 25, union 100 + 50 - 25 = 125 -> 0.2 kept. */
    VG_CHECK_INT_EQ(n, 5);
    VG_CHECK_NEAR(out[0].score, 0.9f, 0);
    VG_CHECK_INT_EQ(out[1].class_id, 1);
    VG_CHECK_NEAR(out[2].box.x1, 5, 0); /* the tie keeps input order */
    VG_CHECK_NEAR(out[3].box.x1, 50, 0);
    /* Class-agnostic: [2] overlaps [1] by 0.818 -> dropped. */
    n = vg_nms(in, 6, 0.5, true, 100, order, out, 6);
    VG_CHECK_INT_EQ(n, 4);
    /* max_keep and cap */
    VG_CHECK_INT_EQ(vg_nms(in, 6, 0.5, false, 2, order, out, 6), 2);
    VG_CHECK_INT_EQ(vg_nms(in, 6, 0.5, false, 100, order, out, 3), 3);
    /* IoU exactly at the threshold is kept (drop only when > threshold): 50/150 = 1/3. */
    vg_detection eq[2] = {det(0, 0, 10, 10, 0.9f, 0), det(5, 0, 15, 10, 0.8f, 0)};
    VG_CHECK_INT_EQ(vg_nms(eq, 2, 50.0 / 150.0, false, 10, order, out, 2), 2);
    VG_CHECK_INT_EQ(vg_nms(eq, 2, 0.33, false, 10, order, out, 2), 1);
}

/* ---- letterbox ------------------------------------------------------------- */

static void test_letterbox(void) {
    vg_letterbox lb;
    /* 640x425 -> 512: scale 0.8, 512 x 340, dy = 86 */
    vg_letterbox_compute(640, 425, 512, 512, VG_VIS_RESIZE_LETTERBOX, &lb);
    VG_CHECK_INT_EQ(lb.resized_w, 512);
    VG_CHECK_INT_EQ(lb.resized_h, 340);
    VG_CHECK_INT_EQ(lb.pad_left, 0);
    VG_CHECK_INT_EQ(lb.pad_top, 86);
    /* portrait 810x1080 -> 416: 312 x 416, dx 52 */
    vg_letterbox_compute(810, 1080, 416, 416, VG_VIS_RESIZE_LETTERBOX, &lb);
    VG_CHECK_INT_EQ(lb.resized_w, 312);
    VG_CHECK_INT_EQ(lb.pad_left, 52);
    /* odd padding: 100x51 -> 100x100: 100x51, 49 rows: 24 on top, 25 below */
    vg_letterbox_compute(100, 51, 100, 100, VG_VIS_RESIZE_LETTERBOX, &lb);
    VG_CHECK_INT_EQ(lb.resized_h, 51);
    VG_CHECK_INT_EQ(lb.pad_top, 24);
    double x, y;
    /* (x_in - dx) * W / nw: input (50, 24) -> (50, 0) */
    vg_letterbox_to_frame(&lb, 50, 24, &x, &y);
    VG_CHECK_NEAR(x, 50, 1e-12);
    VG_CHECK_NEAR(y, 0, 1e-12);
    /* stretch: no padding, per-axis scale */
    vg_letterbox_compute(200, 100, 100, 100, VG_VIS_RESIZE_STRETCH, &lb);
    VG_CHECK_INT_EQ(lb.resized_w, 100);
    VG_CHECK_INT_EQ(lb.pad_top, 0);
    vg_letterbox_to_frame(&lb, 50, 50, &x, &y);
    VG_CHECK_NEAR(x, 100, 1e-12);
    VG_CHECK_NEAR(y, 50, 1e-12);
    /* MultiPose sizes: 1280x720 -> 256 x ceil(144/32)*32 = 160 (the golden zidane case);
     * portrait 810x1080 -> 192 (exactly 192) x 256; square stays 256. */
    int32_t w, h;
    vg_dynamic_input_size(1280, 720, 256, 32, &w, &h);
    VG_CHECK_INT_EQ(w, 256);
    VG_CHECK_INT_EQ(h, 160);
    vg_dynamic_input_size(810, 1080, 256, 32, &w, &h);
    VG_CHECK_INT_EQ(w, 192);
    VG_CHECK_INT_EQ(h, 256);
    vg_dynamic_input_size(500, 500, 256, 32, &w, &h);
    VG_CHECK_INT_EQ(w, 256);
    VG_CHECK_INT_EQ(h, 256);
}

/* ---- detector input conversions -------------------------------------------- */

static void test_pre_detector_conversions(void) {
    /* 2x2 image, already the input size: no resampling, exact values. */
    const uint8_t px[2 * 8] = {
        10, 20, 30, 40,  50,  60,  0, 0, /* row 0 (stride 8: two padding bytes) */
        70, 80, 90, 100, 110, 120, 0, 0,
    };
    vg_image    img = {px, 2, 2, 8};
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("nanodet", &m));
    m.input_w = m.input_h = 2;
    float        out[12];
    vg_letterbox lb;
    VG_CHECK_OK(vg_pre_detector(&m, &img, 0, 0, out, sizeof(out), &lb));
    /* NCHW, BGR: channel 0 = B; pixel (0,0) B = 30: (30 - 103.53f) / 57.375f */
    VG_CHECK_NEAR(out[0], (30.0f - 103.53f) / 57.375f, 0);
    VG_CHECK_NEAR(out[1], (60.0f - 103.53f) / 57.375f, 0);
    VG_CHECK_NEAR(out[4], (20.0f - 116.28f) / 57.12f, 0);     /* G plane */
    VG_CHECK_NEAR(out[11], (100.0f - 123.675f) / 58.395f, 0); /* R of (1,1) */

    /* int32 NHWC RGB with a letterbox: 2x1 image into 2x2 -> one row, pad 0 below
     * (dy = floor(1/2) = 0). */
    vg_manifest mi;
    VG_CHECK_OK(vg_manifest_builtin("movenet-multipose", &mi));
    vg_image wide = {px, 2, 1, 8};
    int32_t  iout[12];
    VG_CHECK_OK(vg_pre_detector(&mi, &wide, 2, 2, iout, sizeof(iout), &lb));
    VG_CHECK_INT_EQ(lb.pad_top, 0);
    VG_CHECK_INT_EQ(iout[0], 10);
    VG_CHECK_INT_EQ(iout[5], 60);
    VG_CHECK_INT_EQ(iout[6], 0);
    /* Buffer too small / bad image. */
    VG_CHECK_STATUS(vg_pre_detector(&mi, &wide, 2, 2, iout, sizeof(iout) - 4, &lb), VG_E_SHAPE);
    vg_image bad = {px, 2, 1, 5};
    VG_CHECK_STATUS(vg_pre_detector(&mi, &bad, 2, 2, iout, sizeof(iout), &lb), VG_E_INVALID_ARG);

    /* TF half-pixel bilinear downscale 4x1 -> 2x1 (stretch): fx = 2 (c + 0.5) - 0.5 =
     * 0.5, 2.5: (0 + 100) / 2 = 50, (200 + 250) / 2 = 225. */
    const uint8_t row[12] = {0, 0, 0, 100, 100, 100, 200, 200, 200, 250, 250, 250};
    vg_image      r4      = {row, 4, 1, 12};
    vg_manifest   mc;
    VG_CHECK_OK(vg_manifest_builtin("centernet", &mc));
    mc.resize = VG_VIS_RESIZE_STRETCH;
    float fo[6];
    VG_CHECK_OK(vg_pre_detector(&mc, &r4, 2, 1, fo, sizeof(fo), &lb));
    VG_CHECK_NEAR(fo[0], 50, 0);
    VG_CHECK_NEAR(fo[3], 225, 0);
    /* YOLO uint8 path: same positions, 0.5 weights, then /255; pad 114 elsewhere. */
    vg_manifest my;
    VG_CHECK_OK(vg_manifest_builtin("yolov7", &my));
    my.input_w = 2;
    my.input_h = 2;
    float yo[12];
    VG_CHECK_OK(vg_pre_detector(&my, &r4, 0, 0, yo, sizeof(yo), &lb));
    /* 4x1 -> scale min(2/4, 2/1) = 0.5: 2x1 (floor(0.5+0.5) = 1 row), dy = 0 */
    VG_CHECK_INT_EQ(lb.resized_h, 1);
    VG_CHECK_NEAR(yo[0], 50.0f / 255.0f, 0);
    VG_CHECK_NEAR(yo[1], 225.0f / 255.0f, 0);
    VG_CHECK_NEAR(yo[2], 114.0f / 255.0f, 0);
}

/* ---- crops ------------------------------------------------------------------ */

/* A 100x80 image whose value is x + y (per channel: + 0, + 1, + 2), so bilinear
 * sampling at (sx, sy) gives exactly sx + sy (+ c) inside. */
static uint8_t *ramp(void) {
    uint8_t *p = malloc(100 * 80 * 3);
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 100; x++)
            for (int c = 0; c < 3; c++)
                p[(y * 100 + x) * 3 + c] = (uint8_t)(x + y + c);
    return p;
}

static void test_crop_affine(void) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("hrnet", &m));
    vg_crop c;
    /* Box 40x40 at (30, 20), input aspect 192/256 = 0.75: w (40) > 0.75 * h (30), so
     * h = w / 0.75 = 53.33; times the padding 1.25: 50 x 66.67. */
    VG_CHECK_OK(vg_crop_from_xyxy(&m, 30, 20, 70, 60, 100, 80, &c));
    VG_CHECK_NEAR(c.cx, 50, 1e-12);
    VG_CHECK_NEAR(c.cy, 40, 1e-12);
    VG_CHECK_NEAR(c.w, 50, 1e-9);
    VG_CHECK_NEAR(c.h, 200.0 / 3.0, 1e-9);
    VG_CHECK_NEAR(c.k, 192.0 / 50.0, 1e-12);
    /* The crop centre (96, 128) maps back to the box centre; the corners to +-w/2. */
    VG_CHECK_NEAR(c.ox + 96 * c.kx, 50, 1e-9);
    VG_CHECK_NEAR(c.oy + 128 * c.ky, 40, 1e-9);
    VG_CHECK_NEAR(c.ox, 25, 1e-9);
    VG_CHECK_NEAR(c.ox + 192 * c.kx, 75, 1e-9);
    /* Forward and inverse agree: dst = k src + t. */
    VG_CHECK_NEAR(c.k * (c.ox + 10 * c.kx) + c.tx, 10, 1e-9);

    /* Sampling a ramp: pixel (j, i) reads ((j - tx)/k, (i - ty)/k); choose a crop
     * with k = 1 (192x256 box at padding 1) so values are integers. */
    m.crop_padding = 1.0f;
    VG_CHECK_OK(vg_crop_from_xyxy(&m, 0, 0, 192, 256, 100, 80, &c));
    VG_CHECK_NEAR(c.k, 1, 0);
    uint8_t *img_px = ramp();
    vg_image img    = {img_px, 100, 80, 300};
    size_t   item   = vg_manifest_input_bytes(&m, 0, 0);
    float   *buf    = malloc(2 * item);
    m.divisor       = 1;
    for (int ch = 0; ch < 3; ch++) {
        m.mean[ch] = 0;
        m.std[ch]  = 1;
    }
    VG_CHECK_OK(vg_pre_crop(&m, &img, &c, buf, item));
    /* (j=10, i=5) -> src (10, 5): R = 15, G plane = 16; (j=150) is outside: 0 */
    VG_CHECK_NEAR(buf[5 * 192 + 10], 15, 0);
    VG_CHECK_NEAR(buf[256 * 192 + 5 * 192 + 10], 16, 0);
    VG_CHECK_NEAR(buf[5 * 192 + 150], 0, 0);
    /* Flip batch: item 1 is item 0 mirrored along x. */
    m.heatmap_flip_test = true;
    VG_CHECK_STATUS(vg_pre_pose_batch(&m, &img, &c, 1, buf, item), VG_E_SHAPE);
    VG_CHECK_OK(vg_pre_pose_batch(&m, &img, &c, 1, buf, 2 * item));
    const float *f = buf + item / 4;
    VG_CHECK_NEAR(f[5 * 192 + (191 - 10)], buf[5 * 192 + 10], 0);
    free(buf);
    free(img_px);
}

static void test_crop_tf(void) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("movenet-lightning", &m));
    vg_crop c;
    /* Box (20,20)-(40,30): centre (30,25), side 20 * 1.25 = 25 -> (17.5,12.5)-(42.5,37.5). */
    VG_CHECK_OK(vg_crop_from_xyxy(&m, 20, 20, 40, 30, 100, 80, &c));
    VG_CHECK_NEAR(c.w, 25, 1e-12);
    VG_CHECK_NEAR(c.tf_box_yxyx[1], (float)(17.5 / 99), 0);
    VG_CHECK_NEAR(c.tf_box_yxyx[2], (float)(37.5 / 79), 0);
    /* Normalised 0 and 1 are the first and last sample. */
    VG_CHECK_NEAR(c.ox, (double)(float)(17.5 / 99) * 99, 1e-12);
    VG_CHECK_NEAR(c.ox + 192 * c.kx, (double)(float)(42.5 / 99) * 99, 1e-9);
    uint8_t *img_px = ramp();
    vg_image img    = {img_px, 100, 80, 300};
    int32_t *buf    = malloc(vg_manifest_input_bytes(&m, 0, 0));
    VG_CHECK_OK(vg_pre_crop(&m, &img, &c, buf, vg_manifest_input_bytes(&m, 0, 0)));
    /* (0,0) samples (ex1, ey1) = ~(17.5, 12.5): x + y = 30.0 (float box rounding
     * may put it a hair below: truncation gives 29 or 30). */
    VG_CHECK(buf[0] == 30 || buf[0] == 29);
    /* Last sample: ~(42.5, 37.5) -> 80 (or 79). */
    int32_t last = buf[(191 * 192 + 191) * 3];
    VG_CHECK(last == 80 || last == 79);
    /* A crop hanging off the left edge: extrapolation value 0. */
    VG_CHECK_OK(vg_crop_from_xyxy(&m, -30, 10, 10, 50, 100, 80, &c));
    VG_CHECK_OK(vg_pre_crop(&m, &img, &c, buf, vg_manifest_input_bytes(&m, 0, 0)));
    VG_CHECK_INT_EQ(buf[(96 * 192 + 0) * 3], 0);
    free(buf);
    free(img_px);
}

/* ---- heatmaps ----------------------------------------------------------------- */

static void gaussian_map(float *hm, int h, int w, double mx, double my, double sigma) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            hm[y * w + x] =
                (float)exp(-((x - mx) * (x - mx) + (y - my) * (y - my)) / (2 * sigma * sigma));
}

static void test_heatmap_decode(void) {
    enum { H = 64, W = 48 };
    static float      hm[3 * H * W];
    vg_keypoint       kp[3];
    vg_heatmap_params p = vg_heatmap_params_default();
    /* Joint 0: peak at (20.3, 30.8): argmax (20, 31); right neighbour larger -> +0.25,
     * upper neighbour (y=30) larger than y=32 -> -0.25: (20.25, 30.75). */
    gaussian_map(hm, H, W, 20.3, 30.8, 2.0);
    /* Joint 1: at the border (0, 0): no shift. */
    gaussian_map(hm + H * W, H, W, 0, 0, 2.0);
    /* Joint 2: all negative: (0, 0) with the (negative) maximum as score. */
    for (int i = 0; i < H * W; i++)
        hm[2 * H * W + i] = -1.0f - (float)i;
    vg_heatmap_decode(hm, 3, H, W, &p, kp);
    VG_CHECK_NEAR(kp[0].x, 20.25, 0);
    VG_CHECK_NEAR(kp[0].y, 30.75, 0);
    VG_CHECK_NEAR(kp[0].score, exp(-(0.09 + 0.04) / 8), 1e-6);
    VG_CHECK_NEAR(kp[1].x, 0, 0);
    VG_CHECK_NEAR(kp[1].y, 0, 0);
    VG_CHECK_NEAR(kp[2].x, 0, 0);
    VG_CHECK_NEAR(kp[2].score, -1, 0);
    /* DARK: a Gaussian blob at (20.45, 30.6) -- arg-max (20, 31), quarter shift
     * (20.25, 30.75), 0.2 px off -- is recovered to within 0.02: the log of a
     * blurred Gaussian is quadratic, so the Taylor step is exact up to sampling. */
    gaussian_map(hm, H, W, 20.45, 30.6, 2.0);
    vg_heatmap_decode(hm, 1, H, W, &p, kp);
    VG_CHECK_NEAR(kp[0].x, 20.25, 0);
    p.dark = true;
    vg_heatmap_decode(hm, 1, H, W, &p, kp);
    VG_CHECK_NEAR(kp[0].x, 20.45, 0.02);
    VG_CHECK_NEAR(kp[0].y, 30.6, 0.02);
    /* First maximum wins on ties. */
    memset(hm, 0, sizeof(float) * H * W);
    hm[10 * W + 5]  = 1;
    hm[20 * W + 5]  = 1;
    p               = vg_heatmap_params_default();
    p.quarter_shift = false;
    vg_heatmap_decode(hm, 1, H, W, &p, kp);
    VG_CHECK_NEAR(kp[0].y, 10, 0);
}

static void test_flip_merge(void) {
    /* 3 joints, 1 x 4 maps; pair (1, 2). */
    const float   a[12]       = {1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400};
    const float   f[12]       = {5, 6, 7, 8, 50, 60, 70, 80, 500, 600, 700, 800};
    const int32_t pairs[1][2] = {{1, 2}};
    float         out[12];
    vg_heatmap_flip_merge(a, f, 3, 1, 4, pairs, 1, out);
    /* joint 0: mirror f0 = 8 7 6 5, shift right = 8 8 7 6; avg with 1 2 3 4 */
    VG_CHECK_NEAR(out[0], 4.5, 0);
    VG_CHECK_NEAR(out[1], 5, 0);
    VG_CHECK_NEAR(out[2], 5, 0);
    VG_CHECK_NEAR(out[3], 5, 0);
    /* joint 1 takes flipped joint 2: 800 800 700 600 */
    VG_CHECK_NEAR(out[4], (10 + 800) * 0.5f, 0);
    VG_CHECK_NEAR(out[7], (40 + 600) * 0.5f, 0);
    /* joint 2 takes flipped joint 1: 80 80 70 60 */
    VG_CHECK_NEAR(out[9], (200 + 80) * 0.5f, 0);
}

/* ---- decoders on hand-built outputs ---------------------------------------------- */

static void test_decode_hand_built(void) {
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("centernet", &m));
    vg_decoder *d = NULL;
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    /* Two rows: one over threshold, box (100,100)-(200,300) in a 512 input of a
     * 1024x1024 frame: source = 2x. One under threshold. Row 3: past the frame, clipped. */
    float         rows[3 * 6] = {100, 100,  200, 300, 0.9f, 2,   10,  10,   20,
                                 20,  0.2f, 0,   500, 500,  530, 530, 0.5f, 0};
    vg_vis_tensor t           = {"tower_0/detections", VG_VIS_F32, 3, {1, 3, 6}, rows};
    vg_letterbox  lb;
    vg_letterbox_compute(1024, 1024, 512, 512, VG_VIS_RESIZE_LETTERBOX, &lb);
    vg_detection dets[4];
    int32_t      n = 0;
    VG_CHECK_OK(vg_decode_detections(d, &t, 1, &lb, dets, 4, &n));
    VG_CHECK_INT_EQ(n, 2);
    VG_CHECK_NEAR(dets[0].box.x1, 200, 0);
    VG_CHECK_NEAR(dets[0].box.y2, 600, 0);
    VG_CHECK_INT_EQ(dets[0].class_id, 2);
    VG_CHECK_NEAR(dets[1].box.x2, 1024, 0);
    /* A wrong output shape is an error with a message, not a crash. */
    vg_vis_tensor bad = {"x", VG_VIS_F32, 3, {1, 3, 5}, rows};
    VG_CHECK_STATUS(vg_decode_detections(d, &bad, 1, &lb, dets, 4, &n), VG_E_SHAPE);
    VG_CHECK(strstr(vg_decoder_errmsg(d), "[1,K,6]") != NULL);
    vg_decoder_destroy(d);

    /* MoveNet: keypoint (y, x) = (0.5, 0.25) in a crop whose effective box is
     * (10, 20)-(110, 120): x = 10 + 0.25 * 100 = 35, y = 20 + 50 = 70. */
    VG_CHECK_OK(vg_manifest_builtin("movenet-thunder", &m));
    VG_CHECK_OK(vg_decoder_create(&m, &d));
    vg_crop c;
    memset(&c, 0, sizeof(c));
    c.out_w = c.out_h = 256;
    c.ox              = 10;
    c.oy              = 20;
    c.kx = c.ky       = 100.0 / 256;
    float out[17 * 3] = {0};
    out[0]            = 0.5f;
    out[1]            = 0.25f;
    out[2]            = 0.8f;
    out[5]            = 0.4f;
    vg_vis_tensor tp  = {"Identity:0", VG_VIS_F32, 4, {1, 1, 17, 3}, out};
    vg_pose       pose;
    VG_CHECK_OK(vg_decode_poses(d, &tp, 1, &c, 1, &pose));
    VG_CHECK_NEAR(pose.kp[0].x, 35, 1e-4);
    VG_CHECK_NEAR(pose.kp[0].y, 70, 1e-4);
    VG_CHECK_NEAR(pose.score, (0.8f + 0.4f) / 2, 1e-6); /* mean of scores >= 0.3 */
    vg_decoder_destroy(d);
}

/* ---- manifests -------------------------------------------------------------------- */

static void test_manifest_builtins(void) {
    const char *const *names = vg_manifest_builtin_names();
    int                n     = 0;
    for (; names[n]; n++) {
        vg_manifest m;
        VG_CHECK_OK(vg_manifest_builtin(names[n], &m));
        VG_CHECK_STR_EQ(m.name, names[n]);
        VG_CHECK(m.input_w > 0 && m.input_h > 0);
        if (m.task == VG_VIS_TASK_DETECTOR)
            VG_CHECK_STR_EQ(m.class_names[79], "toothbrush");
        else
            VG_CHECK_STR_EQ(m.keypoint_names[16], "right_ankle");
    }
    VG_CHECK_INT_EQ(n, 9);
    vg_manifest m;
    VG_CHECK_STATUS(vg_manifest_builtin("resnet", &m), VG_E_NOT_FOUND);
}

static void test_manifest_json(void) {
    vg_manifest m;
    char        err[512];
    /* Minimal: a base plus overrides. */
    VG_CHECK_OK(vg_manifest_parse("{\"base\": \"yolov7\", \"input\": {\"width\": 416, \"height\": "
                                  "416}, \"thresholds\": {\"score\": 0.4, \"class_agnostic\": "
                                  "true}}",
                                  "y.json", &m, err, sizeof(err)));
    VG_CHECK_INT_EQ(m.input_w, 416);
    VG_CHECK_NEAR(m.score_threshold, 0.4, 0);
    VG_CHECK(m.class_agnostic_nms);
    VG_CHECK_NEAR(m.pad_value, 114, 0);
    /* Family only: its default base. */
    VG_CHECK_OK(vg_manifest_parse("{\"family\": \"hrnet-heatmap\", \"task\": \"pose\", "
                                  "\"pose\": {\"dark\": true, \"flip_test\": true}}",
                                  "h.json", &m, err, sizeof(err)));
    VG_CHECK(m.heatmap_dark && m.heatmap_flip_test);
    VG_CHECK_INT_EQ(m.n_flip_pairs, 8);
    /* A custom detector. */
    VG_CHECK_OK(vg_manifest_parse(
        "{\"family\": \"nanodet\", \"input\": {\"width\": 320, \"height\": 320, \"colour\": "
        "\"RGB\"}, \"normalize\": {\"divisor\": 255, \"mean\": 0.5, \"std\": [0.5, 0.5, 0.5]}, "
        "\"classes\": [\"cat\", \"dog\"], \"strides\": [8, 16, 32, 64]}",
        "n.json", &m, err, sizeof(err)));
    VG_CHECK(!m.bgr);
    VG_CHECK_INT_EQ(m.n_classes, 2);
    VG_CHECK_INT_EQ(m.n_levels, 4);
    VG_CHECK_NEAR(m.mean[2], 0.5f, 0);

    /* Errors name the file and the field. */
    struct {
        const char *json, *expect;
    } bad[] = {
        {"{\"base\": \"yolov7\", \"thresholds\": {\"scroe\": 0.3}}", "field 'thresholds.scroe'"},
        {"{\"base\": \"yolov7\", \"input\": {\"layout\": \"CHW\"}}", "field 'input.layout'"},
        {"{\"base\": \"yolov7\", \"normalize\": {\"std\": [1, 0, 1]}}", "field 'normalize.std'"},
        {"{\"task\": \"pose\"}", "field 'family'"},
        {"{\"family\": \"centernet\", \"task\": \"pose\"}", "field 'task'"},
        {"{\"base\": \"hrnet\", \"skeleton\": [[0, 40]]}", "field 'skeleton'"},
        {"{\"base\": \"yolov7\", \"output\": \"heatmap\"}", "field 'output'"},
        {"{\"base\": \"nanodet\", \"thresholds\": {\"iou\": 1.5}}", "field 'thresholds.iou'"},
        {"{\"base\": \"yolov7\",}", "invalid JSON"},
        {"[1, 2]", "JSON object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vg_status st = vg_manifest_parse(bad[i].json, "bad.json", &m, err, sizeof(err));
        VG_CHECK_MSG(st == VG_E_FORMAT, "case %zu: %s", i, vg_status_name(st));
        VG_CHECK_MSG(strstr(err, "bad.json") && strstr(err, bad[i].expect),
                     "case %zu: message \"%s\" lacks \"%s\"", i, err, bad[i].expect);
    }
    VG_CHECK_STATUS(vg_manifest_load("/nonexistent/model.manifest.json", &m, err, sizeof(err)),
                    VG_E_IO);
    VG_CHECK(strstr(err, "/nonexistent/model.manifest.json") != NULL);
}

static void test_manifest_signature(void) {
    vg_manifest m;
    char        err[2048];
    struct {
        vg_vis_sig  in;
        vg_vis_sig  out[6];
        int         n_out;
        const char *want;
    } cases[] = {
        {{"tower_0/images", VG_VIS_F32, 4, {1, 512, 512, 3}},
         {{"tower_0/wh", VG_VIS_F32, 4, {1, 128, 128, 4}},
          {"tower_0/keypoints", VG_VIS_F32, 4, {1, 128, 128, 80}},
          {"tower_0/detections", VG_VIS_F32, 3, {1, 100, 6}}},
         3,
         "centernet"},
        {{"input_1:0", VG_VIS_F32, 4, {1, 3, 416, 416}},
         {{"a", VG_VIS_F32, 3, {1, 169, 80}},
          {"b", VG_VIS_F32, 3, {1, 169, 44}},
          {"c", VG_VIS_F32, 3, {1, 676, 80}},
          {"d", VG_VIS_F32, 3, {1, 2704, 80}},
          {"e", VG_VIS_F32, 3, {1, 676, 44}},
          {"f", VG_VIS_F32, 3, {1, 2704, 44}}},
         6,
         "nanodet"},
        {{"input:0", VG_VIS_I32, 4, {1, 256, 256, 3}},
         {{"o", VG_VIS_F32, 4, {1, 1, 17, 3}}},
         1,
         "movenet-thunder"},
        {{"input:0", VG_VIS_I32, 4, {1, 192, 192, 3}},
         {{"o", VG_VIS_F32, 4, {1, 1, 17, 3}}},
         1,
         "movenet-lightning"},
        {{"input", VG_VIS_I32, 4, {1, -1, -1, 3}},
         {{"o", VG_VIS_F32, 3, {1, 6, 56}}},
         1,
         "movenet-multipose"},
        {{"images", VG_VIS_F32, 4, {1, 3, 640, 640}},
         {{"output", VG_VIS_F32, 3, {1, 25200, 85}}},
         1,
         "yolov7"},
        {{"images", VG_VIS_F32, 4, {1, 3, 640, 640}},
         {{"p3", VG_VIS_F32, 5, {1, 3, 80, 80, 85}},
          {"p4", VG_VIS_F32, 5, {1, 3, 40, 40, 85}},
          {"p5", VG_VIS_F32, 5, {1, 3, 20, 20, 85}}},
         3,
         "yolov7-raw"},
        {{"images", VG_VIS_F32, 4, {1, 3, 640, 640}},
         {{"output", VG_VIS_F32, 2, {-1, 7}}},
         1,
         "yolov7-end2end"},
        {{"input", VG_VIS_F32, 4, {-1, 3, 256, 192}},
         {{"heatmaps", VG_VIS_F32, 4, {-1, 17, 64, 48}}},
         1,
         "hrnet"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_status st = vg_manifest_from_signature(&cases[i].in, 1, cases[i].out, cases[i].n_out, &m,
                                                  err, sizeof(err));
        VG_CHECK_MSG(st == VG_OK, "case %zu: %s", i, err);
        VG_CHECK_STR_EQ(m.name, cases[i].want);
    }
    /* A YOLO export at 416 keeps its size. */
    vg_vis_sig in416 = {"images", VG_VIS_F32, 4, {1, 3, 416, 416}};
    vg_vis_sig o416  = {"output", VG_VIS_F32, 3, {1, 10647, 85}};
    VG_CHECK_OK(vg_manifest_from_signature(&in416, 1, &o416, 1, &m, err, sizeof(err)));
    VG_CHECK_INT_EQ(m.input_w, 416);
    /* Unknown: says what it saw and what to do. */
    vg_vis_sig uin  = {"data", VG_VIS_F32, 4, {1, 3, 224, 224}};
    vg_vis_sig uout = {"prob", VG_VIS_F32, 2, {1, 1000}};
    VG_CHECK_STATUS(vg_manifest_from_signature(&uin, 1, &uout, 1, &m, err, sizeof(err)),
                    VG_E_NOT_FOUND);
    VG_CHECK(strstr(err, "prob float32 [1,1000]") != NULL);
    VG_CHECK(strstr(err, "manifest JSON") != NULL);
}

/* ---- frames ------------------------------------------------------------------------ */

static void test_frame_rgb(void) {
    vg_frame_rgb *c = NULL;
    VG_CHECK_OK(vg_frame_rgb_create(&c));
    AVFrame *f = av_frame_alloc();
    f->format  = AV_PIX_FMT_GRAY8;
    f->width   = 33;
    f->height  = 7;
    VG_CHECK(av_frame_get_buffer(f, 0) == 0);
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 33; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(x * 7);
    f->color_range = AVCOL_RANGE_JPEG;
    vg_image img;
    VG_CHECK_OK(vg_frame_rgb_convert(c, f, &img));
    VG_CHECK_INT_EQ(img.width, 33);
    /* Full-range grey stays grey within a level. */
    for (int x = 0; x < 33; x++)
        for (int ch = 0; ch < 3; ch++)
            VG_CHECK_NEAR(img.data[3 * 6 * 0 + img.stride * 3 + 3 * x + ch], x * 7, 1);
    av_frame_free(&f);
    /* RGB24 frames are viewed in place. */
    f         = av_frame_alloc();
    f->format = AV_PIX_FMT_RGB24;
    f->width  = 4;
    f->height = 2;
    VG_CHECK(av_frame_get_buffer(f, 0) == 0);
    VG_CHECK_OK(vg_frame_rgb_convert(c, f, &img));
    VG_CHECK(img.data == f->data[0]);
    av_frame_free(&f);
    vg_frame_rgb_destroy(c);
    vg_frame_rgb_destroy(NULL);
}

/* ---- OOM ------------------------------------------------------------------------------ */

typedef struct oom_arg {
    vg_decoder *d;
} oom_arg;

static vg_status oom_body(void *p) {
    oom_arg    *a = p;
    vg_manifest m;
    vg_manifest_builtin("centernet", &m);
    a->d         = NULL;
    vg_status st = vg_decoder_create(&m, &a->d);
    if (st != VG_OK)
        return st;
    float         rows[6] = {0, 0, 10, 10, 0.9f, 0};
    vg_vis_tensor t       = {NULL, VG_VIS_F32, 3, {1, 1, 6}, rows};
    vg_letterbox  lb;
    vg_letterbox_compute(512, 512, 512, 512, VG_VIS_RESIZE_LETTERBOX, &lb);
    vg_detection det1;
    int32_t      n;
    st = vg_decode_detections(a->d, &t, 1, &lb, &det1, 1, &n);
    if (st != VG_OK) {
        vg_decoder_destroy(a->d);
        a->d = NULL;
    }
    return st;
}

static void oom_cleanup(void *p) {
    vg_decoder_destroy(((oom_arg *)p)->d);
}

static void test_oom(void) {
    oom_arg a;
    vg_test_oom_sweep(oom_body, oom_cleanup, &a, 20);
}

static const vg_test_case cases[] = {
    {"iou", test_iou},
    {"nms", test_nms},
    {"letterbox geometry", test_letterbox},
    {"detector input conversions", test_pre_detector_conversions},
    {"affine crop", test_crop_affine},
    {"tf crop", test_crop_tf},
    {"heatmap decode", test_heatmap_decode},
    {"flip merge", test_flip_merge},
    {"decoders on hand-built outputs", test_decode_hand_built},
    {"manifest built-ins", test_manifest_builtins},
    {"manifest json", test_manifest_json},
    {"manifest signature", test_manifest_signature},
    {"frame to rgb", test_frame_rgb},
    {"decoder oom", test_oom},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
