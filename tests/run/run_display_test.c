/*
 * run_display_test.c - `vigil run --display` under a virtual X server
 * (xvfb-run): the SDL2 window opens, shows the frames, and the picture read
 * back from it at the end (--display-screenshot) has the clip's size and
 * real content (the test pattern's colour bars, not a blank window); with
 * the default models the window shows the overlay on the clip. Skips
 * with the reason when xvfb-run or ffmpeg is missing or vigil was built
 * without the display. argv[1] is the vigil executable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/media_util.h"
#include "run_util.h"
#include "test.h"
#include "vigil/alloc.h"
#include "vigil/draw.h"

static char *g_tmp;

static void test_display_under_xvfb(void) {
    if (!mu_have("xvfb-run"))
        VG_SKIP("xvfb-run not installed (apt-get install xvfb xauth)");
    mu_require_ffmpeg();
    char clip[600], shot[600], args[2048];
    snprintf(clip, sizeof(clip), "%s/bars.mp4", g_tmp);
    snprintf(shot, sizeof(shot), "%s/shot.png", g_tmp);
    const char *ff[] = {"ffmpeg",    "-v",    "error",    "-y",
                        "-f",        "lavfi", "-i",       "smptebars=size=320x240:rate=10",
                        "-frames:v", "5",     "-pix_fmt", "yuv420p",
                        clip,        NULL};
    VG_CHECK_INT_EQ(mu_run(ff, NULL, 0), 0);

    /* xvfb-run needs the vigil path as a plain command: run it through sh. */
    snprintf(args, sizeof(args),
             "run --input '%s' --detector none --display "
             "--display-screenshot '%s' --quiet",
             clip, shot);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "xvfb-run -a -s '-screen 0 800x600x24' '%s' %s > /dev/null 2> '%s/err.txt'", ru_vigil,
             args, g_tmp);
    int  rc = system(cmd);
    char errf[700];
    snprintf(errf, sizeof(errf), "%s/err.txt", g_tmp);
    char *err = vg_test_read_file(errf, NULL);
    if (err && strstr(err, "built without the SDL2 display")) {
        free(err);
        VG_SKIP("vigil was built without the SDL2 display (VG_WITH_DISPLAY=OFF)");
    }
    VG_CHECK_MSG(rc == 0, "xvfb-run vigil %s: status 0x%x: %s", args, rc, err ? err : "");
    free(err);

    vg_image_view img;
    VG_CHECK_OK(vg_image_read_png(shot, VG_PIXFMT_RGB24, &img));
    VG_CHECK_INT_EQ(img.width, 320);
    VG_CHECK_INT_EQ(img.height, 240);
    /* SMPTE bars: the top two thirds hold seven vertical bars of different
     * colours; count distinct colours along a row at 1/4 height. */
    int     distinct = 0;
    uint8_t prev[3]  = {0, 0, 0};
    double  sum      = 0;
    for (int x = 0; x < img.width; x++) {
        const uint8_t *p = img.data + (size_t)(img.height / 4) * (size_t)img.stride + 3 * x;
        if (x == 0 || abs(p[0] - prev[0]) + abs(p[1] - prev[1]) + abs(p[2] - prev[2]) > 60)
            distinct++;
        memcpy(prev, p, 3);
        sum += p[0] + p[1] + p[2];
    }
    vg_free(img.data);
    VG_CHECK_MSG(distinct >= 6, "the window shows %d colour bars, expected 7", distinct);
    VG_CHECK_MSG(sum / img.width > 100, "the window is (nearly) black");
}

/* With the default models, the window shows the overlay: the picture read
 * back differs from the decoded frame where boxes and skeletons are drawn,
 * and only there (most pixels are the video's). */
static void test_display_annotated(void) {
    if (!mu_have("xvfb-run"))
        VG_SKIP("xvfb-run not installed (apt-get install xvfb xauth)");
    mu_require_ffmpeg();
    const char *clip   = vg_test_require_shared("data/video/openpose_street_dance_720p.mp4");
    const char *models = ru_require_models();
    char        raw[600], shot[600], cmd[8192];
    snprintf(raw, sizeof(raw), "%s/raw.png", g_tmp);
    snprintf(shot, sizeof(shot), "%s/shot2.png", g_tmp);
    const char *ff[] = {"ffmpeg", "-v", "error", "-y", "-i", clip, "-frames:v", "1", raw, NULL};
    VG_CHECK_INT_EQ(mu_run(ff, NULL, 0), 0);
    snprintf(cmd, sizeof(cmd),
             "xvfb-run -a -s '-screen 0 1600x900x24' '%s' run --input '%s' --frames 1 "
             "--detector '%s/centernet' --pose '%s/movenet-thunder' --display "
             "--display-screenshot '%s' --quiet%s > /dev/null 2> '%s/err2.txt'",
             ru_vigil, clip, models, models, shot, ru_backend_arg(), g_tmp);
    int  rc = system(cmd);
    char errf[700];
    snprintf(errf, sizeof(errf), "%s/err2.txt", g_tmp);
    char *err = vg_test_read_file(errf, NULL);
    if (err && strstr(err, "built without the SDL2 display")) {
        free(err);
        VG_SKIP("vigil was built without the SDL2 display (VG_WITH_DISPLAY=OFF)");
    }
    VG_CHECK_MSG(rc == 0, "xvfb-run vigil run --display: status 0x%x: %s", rc, err ? err : "");
    free(err);
    vg_image_view a, b;
    VG_CHECK_OK(vg_image_read_png(raw, VG_PIXFMT_RGB24, &a));
    VG_CHECK_OK(vg_image_read_png(shot, VG_PIXFMT_RGB24, &b));
    VG_CHECK_INT_EQ(b.width, a.width);
    VG_CHECK_INT_EQ(b.height, a.height);
    /* A pixel "changed" when a channel differs by more than 60 (the encoder-free
     * path: both are decodes of the same picture, up to the YUV->RGB
     * conversion's rounding). */
    long changed = 0, total = (long)a.width * a.height;
    for (int y = 0; y < a.height; y++)
        for (int x = 0; x < a.width; x++) {
            const uint8_t *p = a.data + (size_t)y * (size_t)a.stride + 3 * (size_t)x;
            const uint8_t *q = b.data + (size_t)y * (size_t)b.stride + 3 * (size_t)x;
            changed += abs(p[0] - q[0]) > 60 || abs(p[1] - q[1]) > 60 || abs(p[2] - q[2]) > 60;
        }
    vg_free(a.data);
    vg_free(b.data);
    VG_CHECK_MSG(changed > total / 1000, "only %ld of %ld pixels show an overlay", changed, total);
    VG_CHECK_MSG(changed < total / 5, "%ld of %ld pixels differ: not the video's frame", changed,
                 total);
}

static const vg_test_case cases[] = {
    {"SDL2 window under Xvfb shows the frames", test_display_under_xvfb},
    {"the window shows boxes and skeletons", test_display_annotated},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return ru_main(argc, argv, cases, &g_tmp);
}
