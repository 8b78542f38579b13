/*
 * golden_util.c - reference-data helpers for the vision tests.
 */
#include "golden_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "test.h"

json_t *gu_load_json(const char *path) {
    json_error_t err;
    json_t      *j = json_load_file(path, 0, &err);
    VG_CHECK_MSG(j != NULL, "%s: %s (line %d)", path, err.text, err.line);
    return j;
}

void *gu_read(const char *path, size_t expect_bytes, size_t *size) {
    size_t n = 0;
    void  *p = vg_test_read_file(path, &n);
    VG_CHECK_MSG(p != NULL, "cannot read %s", path);
    if (expect_bytes && n != expect_bytes) {
        free(p);
        VG_CHECK_MSG(0, "%s: %zu bytes, expected %zu", path, n, expect_bytes);
    }
    if (size)
        *size = n;
    return p;
}

uint8_t *gu_decode_jpeg(const char *path, int32_t *w, int32_t *h) {
    FILE *f = fopen(path, "rb");
    VG_CHECK_MSG(f != NULL, "cannot open %s", path);
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr         jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB; /* everything else at the defaults */
    jpeg_start_decompress(&cinfo);
    *w              = (int32_t)cinfo.output_width;
    *h              = (int32_t)cinfo.output_height;
    size_t   stride = (size_t)*w * 3u;
    uint8_t *rgb    = malloc(stride * (size_t)*h);
    while (rgb && cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = rgb + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    VG_CHECK(rgb != NULL);
    return rgb;
}

void gu_sha256_hex(const void *data, size_t n, char out[65]) {
    struct AVSHA *sha = av_sha_alloc();
    uint8_t       dig[32];
    av_sha_init(sha, 256);
    const uint8_t *p = data;
    while (n > 0) { /* av_sha_update takes an unsigned int length */
        unsigned int chunk = n > (1u << 30) ? (1u << 30) : (unsigned int)n;
        av_sha_update(sha, p, chunk);
        p += chunk;
        n -= chunk;
    }
    av_sha_final(sha, dig);
    av_free(sha);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

double gu_num(json_t *v) {
    VG_CHECK_MSG(v && json_is_number(v), "expected a number in the reference JSON");
    return json_number_value(v);
}

double gu_field(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    VG_CHECK_MSG(v && json_is_number(v), "reference JSON: field '%s' missing or not a number", key);
    return json_number_value(v);
}

int gu_load_outputs(const char *dir, json_t *cj, vg_vis_tensor *outs, int max) {
    json_t *arr = json_object_get(cj, "outputs");
    VG_CHECK(json_is_array(arr));
    int n = 0;
    for (size_t i = 0; i < json_array_size(arr) && n < max; i++) {
        json_t        *o = json_array_get(arr, i);
        vg_vis_tensor *t = &outs[n];
        memset(t, 0, sizeof(*t));
        t->name        = json_string_value(json_object_get(o, "name"));
        const char *dt = json_string_value(json_object_get(o, "dtype"));
        t->dtype       = dt && strcmp(dt, "int32") == 0 ? VG_VIS_I32 : VG_VIS_F32;
        json_t *shape  = json_object_get(o, "shape");
        t->ndim        = (int32_t)json_array_size(shape);
        size_t numel   = 1;
        for (int k = 0; k < t->ndim; k++) {
            t->shape[k] = (int64_t)json_integer_value(json_array_get(shape, (size_t)k));
            numel *= (size_t)t->shape[k];
        }
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(json_object_get(o, "file")));
        t->data = gu_read(path, numel * 4u, NULL);
        n++;
    }
    return n;
}

void gu_free_tensors(vg_vis_tensor *outs, int n) {
    for (int i = 0; i < n; i++) {
        free((void *)outs[i].data);
        outs[i].data = NULL;
    }
}
