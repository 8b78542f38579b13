/*
 * engine_util.c - temporary model folders and the synthetic TF.js model.
 */
#include "engine_util.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/tensor.h"

const char *eng_tmpdir(int slot) {
    static char buf[4][256];
    snprintf(buf[slot], sizeof(buf[slot]), "/tmp/vg_engine_test_XXXXXX");
    return mkdtemp(buf[slot]);
}

void eng_rmdir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

bool eng_write(const char *dir, const char *name, const void *data, size_t len) {
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Quantised weight codes (deterministic). */
static uint8_t w_code(int i) {
    return (uint8_t)((i * 37 + 11) % 201);
}
static uint16_t m_code(int i) {
    return (uint16_t)(1000 + 250 * i);
}
static float b_val(int i) {
    return (float)(i - 1) * 0.25f; /* exact in float16 */
}

bool eng_synth_write(const char *dir, bool dynamic_batch) {
    static const char json[] =
        "{\"format\":\"graph-model\",\"generatedBy\":\"test\",\"convertedBy\":\"test\","
        "\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\",\"dtype\":\"DT_FLOAT\"}},"
        "\"outputs\":{\"out\":{\"name\":\"out:0\",\"dtype\":\"DT_FLOAT\"}}},"
        "\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"4\"},{\"size\":\"4\"},{"
        "\"size\":\"2\"}]}}}},"
        "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
        "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
        "{\"name\":\"m\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
        "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"b\"],\"attr\":{"
        "\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},\"padding\":{\"s\":\"U0FNRQ==\"},"
        "\"data_format\":{\"s\":\"TkhXQw==\"},\"num_args\":{\"i\":\"1\"},"
        "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
        "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}}}},"
        "{\"name\":\"id\",\"op\":\"Identity\",\"input\":[\"conv\"]},"
        "{\"name\":\"out\",\"op\":\"Mul\",\"input\":[\"id\",\"m\"]}"
        "],\"versions\":{}},"
        "\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["
        "{\"name\":\"w\",\"shape\":[3,3,2,3],\"dtype\":\"float32\","
        "\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.01,\"min\":-1.0,\"original_dtype\":"
        "\"float32\"}},"
        "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\","
        "\"quantization\":{\"dtype\":\"float16\",\"original_dtype\":\"float32\"}},"
        "{\"name\":\"m\",\"shape\":[3],\"dtype\":\"float32\","
        "\"quantization\":{\"dtype\":\"uint16\",\"scale\":0.001,\"min\":0.5,\"original_dtype\":"
        "\"float32\"}}"
        "]}]}";
    unsigned char bin[54 + 6 + 6];
    for (int i = 0; i < 54; i++)
        bin[i] = w_code(i);
    for (int i = 0; i < 3; i++) {
        uint16_t h      = vg_f32_to_f16(b_val(i));
        bin[54 + 2 * i] = (unsigned char)(h & 0xff);
        bin[55 + 2 * i] = (unsigned char)(h >> 8);
        uint16_t q      = m_code(i);
        bin[60 + 2 * i] = (unsigned char)(q & 0xff);
        bin[61 + 2 * i] = (unsigned char)(q >> 8);
    }
    char text[sizeof(json) + 8];
    snprintf(text, sizeof(text), "%s", json);
    if (dynamic_batch) {
        char *p = strstr(text, "{\"size\":\"1\"}");
        memmove(p + 10, p + 9, strlen(p + 9) + 1); /* "1" -> "-1" */
        p[9] = '-';
    }
    return eng_write(dir, "model.json", text, strlen(text)) &&
           eng_write(dir, "w.bin", bin, sizeof(bin));
}

void eng_synth_expected(const float *x, float *out) {
    /* SAME, stride 2, 4x4 input, 3x3 kernel: out 2x2, pad top/left 0, bottom/right 1. */
    for (int oh = 0; oh < 2; oh++)
        for (int ow = 0; ow < 2; ow++)
            for (int co = 0; co < 3; co++) {
                double acc = 0;
                for (int kh = 0; kh < 3; kh++)
                    for (int kw = 0; kw < 3; kw++)
                        for (int ci = 0; ci < 2; ci++) {
                            int ih = oh * 2 + kh, iw = ow * 2 + kw;
                            if (ih >= 4 || iw >= 4)
                                continue;
                            float w =
                                (float)((double)w_code(((kh * 3 + kw) * 2 + ci) * 3 + co) * 0.01 -
                                        1.0);
                            acc += (double)x[(ih * 4 + iw) * 2 + ci] * w;
                        }
                float v                     = (float)acc + b_val(co);
                v                           = v > 0 ? v : 0;
                float m                     = (float)((double)m_code(co) * 0.001 + 0.5);
                out[(oh * 2 + ow) * 3 + co] = v * m;
            }
}
