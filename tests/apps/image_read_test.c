/*
 * image_read_test.c - still-image reading (vg_rgb_image_read) and the
 * argument checks of vg_topdown_create, without models or shared data.
 *
 * PNG goes through FFmpeg: a picture written with vg_image_write_png must
 * read back bit for bit. Missing, empty, truncated and foreign files are
 * errors that name the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vigil/alloc.h"
#include "vigil/draw.h"
#include "vigil/topdown.h"

static char g_tmp[64];

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    VG_CHECK(f);
    VG_CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void test_png_roundtrip(void) {
    const int32_t w = 37, h = 23; /* odd sizes: no padding assumptions */
    uint8_t      *px = malloc((size_t)w * 3 * h);
    VG_CHECK(px);
    for (int32_t i = 0; i < w * 3 * h; i++)
        px[i] = (uint8_t)((i * 37 + i / 7) & 0xFF);
    vg_image_view v = {px, w, h, w * 3, VG_PIXFMT_RGB24};
    char          path[128];
    snprintf(path, sizeof(path), "%s/a.png", g_tmp);
    VG_CHECK_OK(vg_image_write_png(&v, path));
    vg_rgb_image img;
    char         err[512];
    VG_CHECK_MSG(vg_rgb_image_read(path, &img, err, sizeof(err)) == VG_OK, "%s", err);
    VG_CHECK_INT_EQ(img.width, w);
    VG_CHECK_INT_EQ(img.height, h);
    VG_CHECK_INT_EQ(img.stride, 3 * w);
    VG_CHECK(memcmp(img.data, px, (size_t)w * 3 * h) == 0);
    vg_image view = vg_rgb_image_view(&img);
    VG_CHECK(view.data == img.data && view.width == w && view.stride == 3 * w);
    vg_rgb_image_free(&img);
    VG_CHECK(img.data == NULL && img.width == 0);
    vg_rgb_image_free(NULL);
    free(px);
    unlink(path);
}

static void test_bad_files(void) {
    vg_rgb_image img;
    char         err[512], path[128];
    VG_CHECK_STATUS(vg_rgb_image_read("/nonexistent/x.jpg", &img, err, sizeof(err)),
                    VG_E_NOT_FOUND);
    VG_CHECK(strstr(err, "/nonexistent/x.jpg") && strstr(err, "check the path"));
    VG_CHECK(img.data == NULL);

    snprintf(path, sizeof(path), "%s/empty.jpg", g_tmp);
    write_file(path, "", 0);
    VG_CHECK_STATUS(vg_rgb_image_read(path, &img, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "empty.jpg") && strstr(err, "empty"));

    /* JPEG magic, then garbage: libjpeg's fatal error must not exit(). */
    snprintf(path, sizeof(path), "%s/trunc.jpg", g_tmp);
    write_file(path, "\xff\xd8\xff\xe0\x00\x10JFIF\x00garbage", 17);
    VG_CHECK_STATUS(vg_rgb_image_read(path, &img, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "trunc.jpg") && strstr(err, "not a readable JPEG"));
    VG_CHECK(img.data == NULL);

    /* Text: FFmpeg finds no picture. */
    snprintf(path, sizeof(path), "%s/notes.png", g_tmp);
    write_file(path, "just some text, no picture\n", 27);
    VG_CHECK_STATUS(vg_rgb_image_read(path, &img, err, sizeof(err)), VG_E_FORMAT);
    VG_CHECK(strstr(err, "notes.png") && strstr(err, "not a readable image"));

    VG_CHECK_STATUS(vg_rgb_image_read(NULL, &img, err, sizeof(err)), VG_E_INVALID_ARG);
    VG_CHECK_STATUS(vg_rgb_image_read(path, NULL, NULL, 0), VG_E_INVALID_ARG);
}

static void test_topdown_args(void) {
    vg_topdown *td = (vg_topdown *)1;
    char        err[512];
    VG_CHECK_STATUS(
        vg_topdown_create(NULL, NULL, NULL, NULL, NULL, NULL, NULL, &td, err, sizeof(err)),
        VG_E_INVALID_ARG);
    VG_CHECK(td == NULL && strstr(err, "neither a detector nor a pose model"));
    vg_manifest m;
    VG_CHECK_OK(vg_manifest_builtin("centernet", &m));
    VG_CHECK_STATUS(
        vg_topdown_create(NULL, NULL, &m, NULL, NULL, NULL, NULL, &td, err, sizeof(err)),
        VG_E_INVALID_ARG);
    VG_CHECK(strstr(err, "model, session and manifest"));
    VG_CHECK_STATUS(
        vg_topdown_create(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, err, sizeof(err)),
        VG_E_INVALID_ARG);
    vg_topdown_params p = vg_topdown_params_default();
    VG_CHECK(p.max_batch >= 1 && p.score_threshold < 0 && p.person_threshold < 0);
    vg_topdown_result r;
    VG_CHECK_STATUS(vg_topdown_run(NULL, NULL, NULL, 0, &r), VG_E_INVALID_ARG);
    VG_CHECK_STR_EQ(vg_topdown_errmsg(NULL), "");
    vg_topdown_destroy(NULL);
    VG_CHECK_STATUS(vg_model_manifest(NULL, NULL, &m, err, sizeof(err)), VG_E_INVALID_ARG);
}

int main(int argc, char **argv) {
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/vigil_image_read_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    static const vg_test_case cases[] = {
        {"PNG round trip through FFmpeg", test_png_roundtrip},
        {"missing, empty, truncated and foreign files", test_bad_files},
        {"vg_topdown_create argument checks", test_topdown_args},
        {NULL, NULL},
    };
    int  rc = vg_test_main(argc, argv, cases);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    return rc;
}
