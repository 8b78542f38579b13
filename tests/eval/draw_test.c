/*
 * draw_test.c - overlays: pixel checks at known box edges in every pixel
 * format, keypoint thresholds, bad input, and a golden image.
 *
 * Golden image: tests/eval/data/overlay_golden.png was drawn by this test
 * (VIGIL_UPDATE_GOLDEN=1 rewrites it) and checked by eye. Fonts and Cairo's
 * rasteriser differ slightly between versions, so the comparison allows
 * up to 1% of the pixels to differ by more than 24 levels in some channel;
 * everything else (box outlines, skeletons, dots: 95%+ of the changed
 * pixels) has to match. A failing run writes overlay_actual.png into the
 * working directory for inspection.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vigil/alloc.h"
#include "vigil/draw.h"

#define GOLDEN_PATH        "tests/eval/data/overlay_golden.png"
#define GOLDEN_CHANNEL_TOL 24
#define GOLDEN_MAX_FRAC    0.01

typedef struct canvas {
    uint8_t      *mem;
    vg_image_view v;
} canvas;

/* A canvas of fmt with `pad` extra bytes per row filled with 0xAB, pixels
 * black, alpha bytes (4-byte formats) set to 77. */
static void canvas_init(canvas *c, int w, int h, vg_pixfmt fmt, int pad) {
    int bpp     = vg_pixfmt_bytes(fmt);
    c->v.width  = w;
    c->v.height = h;
    c->v.fmt    = fmt;
    c->v.stride = w * bpp + pad;
    c->mem      = malloc((size_t)c->v.stride * (size_t)h);
    VG_CHECK(c->mem != NULL);
    memset(c->mem, 0xAB, (size_t)c->v.stride * (size_t)h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = c->mem + (size_t)y * (size_t)c->v.stride + (size_t)x * (size_t)bpp;
            p[0] = p[1] = p[2] = 0;
            if (bpp == 4)
                p[3] = 77;
        }
    c->v.data = c->mem;
}

/* RGB of pixel (x, y) whatever the format. */
static void px_rgb(const vg_image_view *v, int x, int y, uint8_t rgb[3]) {
    int            bpp = vg_pixfmt_bytes(v->fmt);
    const uint8_t *p   = v->data + (size_t)y * (size_t)v->stride + (size_t)x * (size_t)bpp;
    bool           bgr = v->fmt == VG_PIXFMT_BGR24 || v->fmt == VG_PIXFMT_BGRA;
    rgb[0]             = p[bgr ? 2 : 0];
    rgb[1]             = p[1];
    rgb[2]             = p[bgr ? 0 : 2];
}

static bool px_is(const vg_image_view *v, int x, int y, const uint8_t want[3]) {
    uint8_t c[3];
    px_rgb(v, x, y, c);
    return c[0] == want[0] && c[1] == want[1] && c[2] == want[2];
}

/* One box [50,40]-[150,120] of class 0, line width 2, no label: the edge
 * lines cover rows 39-40 and 119-120, columns 49-50 and 149-150 exactly. */
static void draw_one_box(canvas *c) {
    vg_draw_params p = vg_draw_params_default();
    p.line_width     = 2;
    p.labels         = false;
    vg_draw *d       = NULL;
    VG_CHECK_OK(vg_draw_create(&p, &d));
    vg_detection det = {{50, 40, 150, 120}, 0.9f, 0};
    vg_status    st  = vg_draw_overlay(d, &c->v, &det, 1, NULL, 0);
    VG_CHECK_MSG(st == VG_OK, "%s", vg_draw_errmsg(d));
    vg_draw_destroy(d);
}

static void test_box_edges_all_formats(void) {
    const vg_pixfmt fmts[4] = {VG_PIXFMT_RGB24, VG_PIXFMT_BGR24, VG_PIXFMT_RGBA, VG_PIXFMT_BGRA};
    uint8_t         col[3], black[3] = {0, 0, 0};
    vg_draw_color(1000 + 0, col);
    VG_CHECK(col[0] || col[1] || col[2]);
    canvas ref;
    canvas_init(&ref, 200, 150, VG_PIXFMT_RGB24, 0);
    draw_one_box(&ref);
    for (int f = 0; f < 4; f++) {
        /* Odd padding for 3-byte formats; 4-byte formats keep stride % 4 == 0
         * so BGRA takes the in-place path. */
        int    pad = vg_pixfmt_bytes(fmts[f]) == 3 ? 7 : 16;
        canvas c;
        canvas_init(&c, 200, 150, fmts[f], pad);
        draw_one_box(&c);
        const int on[][2] = {{100, 39}, {100, 40}, {100, 119}, {100, 120}, {49, 80},
                             {50, 80},  {149, 80}, {150, 80},  {50, 40},   {150, 120}};
        for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
            VG_CHECK_MSG(px_is(&c.v, on[i][0], on[i][1], col), "format %d: (%d,%d) not box colour",
                         f, on[i][0], on[i][1]);
        const int off[][2] = {{100, 80}, {100, 37}, {100, 42}, {10, 10}, {47, 80}, {152, 80}};
        for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
            VG_CHECK_MSG(px_is(&c.v, off[i][0], off[i][1], black), "format %d: (%d,%d) changed", f,
                         off[i][0], off[i][1]);
        /* Same result in every format, padding untouched. */
        for (int y = 0; y < 150; y++) {
            for (int x = 0; x < 200; x++) {
                uint8_t a[3], b[3];
                px_rgb(&ref.v, x, y, a);
                px_rgb(&c.v, x, y, b);
                VG_CHECK_MSG(!memcmp(a, b, 3), "format %d differs from RGB24 at (%d,%d)", f, x, y);
            }
            for (int k = 200 * vg_pixfmt_bytes(fmts[f]); k < c.v.stride; k++)
                VG_CHECK_MSG(c.mem[(size_t)y * (size_t)c.v.stride + (size_t)k] == 0xAB,
                             "format %d: row padding overwritten", f);
        }
        /* RGBA keeps its alpha; BGRA (drawn in place) becomes opaque where drawn. */
        if (fmts[f] == VG_PIXFMT_RGBA)
            VG_CHECK_INT_EQ(c.mem[40 * (size_t)c.v.stride + 100 * 4 + 3], 77);
        if (fmts[f] == VG_PIXFMT_BGRA)
            VG_CHECK_INT_EQ(c.mem[40 * (size_t)c.v.stride + 100 * 4 + 3], 255);
        free(c.mem);
    }
    free(ref.mem);
}

static void test_keypoint_threshold(void) {
    canvas c;
    canvas_init(&c, 120, 80, VG_PIXFMT_BGR24, 0);
    vg_draw_params p  = vg_draw_params_default();
    p.pose_boxes      = false;
    p.keypoint_radius = 4;
    vg_draw *d        = NULL;
    VG_CHECK_OK(vg_draw_create(&p, &d));
    vg_pose pose;
    memset(&pose, 0, sizeof(pose));
    pose.n_keypoints = 17;
    for (int k = 0; k < 17; k++)
        pose.kp[k].score = 0.0f; /* hidden */
    pose.kp[0] = (vg_keypoint){30.5f, 30.5f, 0.29f};
    pose.kp[1] = (vg_keypoint){80.5f, 30.5f, 0.31f};
    VG_CHECK_OK(vg_draw_overlay(d, &c.v, NULL, 0, &pose, 1));
    uint8_t col[3], black[3] = {0, 0, 0};
    vg_draw_color(0, col);
    VG_CHECK(px_is(&c.v, 30, 30, black)); /* below the 0.3 threshold */
    VG_CHECK(px_is(&c.v, 80, 30, col));   /* dot centre */
    /* The nose-eye limb needs both ends: nothing between them. */
    VG_CHECK(px_is(&c.v, 55, 30, black));
    vg_draw_destroy(d);
    free(c.mem);
}

static void test_bad_input(void) {
    vg_draw *d = NULL;
    VG_CHECK_OK(vg_draw_create(NULL, &d));
    canvas c;
    canvas_init(&c, 10, 10, VG_PIXFMT_RGB24, 0);
    vg_image_view v = c.v;
    v.stride        = 20;
    VG_CHECK_STATUS(vg_draw_overlay(d, &v, NULL, 0, NULL, 0), VG_E_INVALID_ARG);
    VG_CHECK(strstr(vg_draw_errmsg(d), "stride 20") != NULL);
    VG_CHECK_STATUS(vg_draw_overlay(d, &c.v, NULL, 3, NULL, 0), VG_E_INVALID_ARG);
    VG_CHECK_STATUS(vg_draw_overlay(d, NULL, NULL, 0, NULL, 0), VG_E_INVALID_ARG);
    VG_CHECK_OK(vg_draw_overlay(d, &c.v, NULL, 0, NULL, 0));
    vg_draw_params p     = vg_draw_params_default();
    p.keypoint_threshold = -1;
    vg_draw *d2          = NULL;
    VG_CHECK_STATUS(vg_draw_create(&p, &d2), VG_E_INVALID_ARG);
    VG_CHECK(d2 == NULL);
    vg_draw_destroy(d);
    vg_draw_destroy(NULL);
    free(c.mem);
}

typedef struct oom_arg {
    canvas *c;
} oom_arg;

static vg_status oom_body(void *arg) {
    oom_arg  *a  = arg;
    vg_draw  *d  = NULL;
    vg_status st = vg_draw_create(NULL, &d);
    if (st != VG_OK)
        return st;
    vg_detection det = {{5, 5, 20, 20}, 0.5f, 2};
    st               = vg_draw_overlay(d, &a->c->v, &det, 1, NULL, 0);
    vg_draw_destroy(d);
    return st;
}

static void oom_cleanup(void *arg) {
    (void)arg;
}

static void test_oom(void) {
    canvas c;
    canvas_init(&c, 40, 30, VG_PIXFMT_RGB24, 0);
    oom_arg a = {&c};
    vg_test_oom_sweep(oom_body, oom_cleanup, &a, 20);
    free(c.mem);
}

/* ---- golden image ------------------------------------------------------------------ */

static void golden_person(vg_pose *p, float ox, float oy, float s, float score) {
    /* A standing person in COCO-17 order, unit height 1, feet at (ox, oy+s). */
    static const float kx[17] = {0.00f, -0.04f, 0.04f, -0.09f, 0.09f, -0.17f,
                                 0.17f, -0.24f, 0.24f, -0.27f, 0.27f, -0.11f,
                                 0.11f, -0.13f, 0.13f, -0.14f, 0.14f};
    static const float ky[17] = {0.06f, 0.04f, 0.04f, 0.06f, 0.06f, 0.20f, 0.20f, 0.36f, 0.36f,
                                 0.50f, 0.50f, 0.52f, 0.52f, 0.74f, 0.74f, 0.96f, 0.96f};
    memset(p, 0, sizeof(*p));
    p->n_keypoints = 17;
    for (int k = 0; k < 17; k++) {
        p->kp[k].x     = ox + kx[k] * s;
        p->kp[k].y     = oy + ky[k] * s;
        p->kp[k].score = 0.9f;
    }
    p->det.box      = (vg_box){ox - 0.32f * s, oy, ox + 0.32f * s, oy + s};
    p->det.score    = score;
    p->det.class_id = 0;
    p->score        = score;
}

static void golden_scene(canvas *c) {
    canvas_init(c, 320, 240, VG_PIXFMT_RGB24, 0);
    /* A smooth background, so antialiasing shows against varying colours. */
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            uint8_t *p = c->mem + (size_t)y * (size_t)c->v.stride + (size_t)x * 3;
            p[0]       = (uint8_t)(40 + x / 4);
            p[1]       = (uint8_t)(70 + y / 3);
            p[2]       = (uint8_t)(110 - y / 4);
        }
    vg_detection dets[2] = {
        {{212, 150, 300, 220}, 0.81f, 16}, /* dog */
        {{250, 20, 310, 60}, 0.47f, 2},    /* car */
    };
    vg_pose poses[2];
    golden_person(&poses[0], 80, 30, 180, 0.93f);
    golden_person(&poses[1], 170, 60, 150, 0.66f);
    poses[1].kp[9].score = 0.1f; /* left wrist not confident: no dot, no forearm */
    vg_draw *d           = NULL;
    VG_CHECK_OK(vg_draw_create(NULL, &d));
    vg_status st = vg_draw_overlay(d, &c->v, dets, 2, poses, 2);
    VG_CHECK_MSG(st == VG_OK, "%s", vg_draw_errmsg(d));
    vg_draw_destroy(d);
}

static void test_golden_image(void) {
    canvas c;
    golden_scene(&c);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", vg_test_source_dir(), GOLDEN_PATH);
    if (getenv("VIGIL_UPDATE_GOLDEN")) {
        VG_CHECK_OK(vg_image_write_png(&c.v, path));
        printf("  wrote %s\n", path);
    }
    vg_image_view g;
    vg_status     st = vg_image_read_png(path, VG_PIXFMT_RGB24, &g);
    VG_CHECK_MSG(st == VG_OK, "cannot read %s: %s", path, vg_status_str(st));
    VG_CHECK_INT_EQ(g.width, c.v.width);
    VG_CHECK_INT_EQ(g.height, c.v.height);
    long differ = 0, changed = 0;
    for (int y = 0; y < g.height; y++)
        for (int x = 0; x < g.width; x++) {
            const uint8_t *a = c.v.data + (size_t)y * (size_t)c.v.stride + (size_t)x * 3;
            const uint8_t *b = g.data + (size_t)y * (size_t)g.stride + (size_t)x * 3;
            int            m = 0;
            for (int k = 0; k < 3; k++)
                m = abs(a[k] - b[k]) > m ? abs(a[k] - b[k]) : m;
            differ += m > GOLDEN_CHANNEL_TOL;
            changed += a[0] != (uint8_t)(40 + x / 4) || a[1] != (uint8_t)(70 + y / 3);
        }
    double frac = (double)differ / ((double)g.width * g.height);
    printf("  %ld of %d pixels differ by more than %d (%.3f%%, limit %.1f%%); %ld pixels drawn\n",
           differ, g.width * g.height, GOLDEN_CHANNEL_TOL, 100 * frac, 100 * GOLDEN_MAX_FRAC,
           changed);
    if (frac > GOLDEN_MAX_FRAC)
        vg_image_write_png(&c.v, "overlay_actual.png");
    VG_CHECK_MSG(frac <= GOLDEN_MAX_FRAC, "overlay differs from %s (see overlay_actual.png)", path);
    /* The scene must have drawn something substantial (boxes, limbs, labels). */
    VG_CHECK(changed > 3000);
    vg_free(g.data);
    free(c.mem);
}

static const vg_test_case cases[] = {
    {"box edges in every pixel format", test_box_edges_all_formats},
    {"keypoint threshold", test_keypoint_threshold},
    {"bad input", test_bad_input},
    {"out of memory", test_oom},
    {"golden image", test_golden_image},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    int rc = vg_test_main(argc, argv, cases);
    /* Release Cairo's and fontconfig's process-wide font caches, so that
     * LeakSanitizer reports only memory of ours. */
    cairo_debug_reset_static_data();
    FcFini();
    return rc;
}
