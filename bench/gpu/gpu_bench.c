/*
 * gpu_bench.c - `vigil_gpu_bench`: times one model on one device, for the
 * GPU benchmark (bench/gpu/bench.py) in builds without the vigil CLI
 * (VG_MINIMAL, as tools/gpu-check.sh makes on a GPU machine). It measures
 * what `vigil bench model` measures -- wall time of vg_session_run() with
 * the input in the session's own (page-locked) buffer, after warm-up runs,
 * median over timed runs -- and prints one JSON object.
 *
 *   vigil_gpu_bench --model M.onnx [--device cuda:0] [--precision fp16]
 *                   [--shape 8x3x256x192] [--runs 50] [--warmup 10]
 *
 * The input (the model's first) is filled with a fixed pseudo-random
 * pattern in [-1, 1) (float32) or [0, 255] (int32).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/clock.h"
#include "vigil/model.h"

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int usage(void) {
    fprintf(stderr, "usage: vigil_gpu_bench --model PATH [--device cuda:0] [--backend B]\n"
                    "                       [--precision fp32|fp16] [--shape AxBxCxD]\n"
                    "                       [--runs N] [--warmup N]\n");
    return 2;
}

static int parse_shape(const char *s, vg_shape *out) {
    out->ndim = 0;
    while (*s && out->ndim < VG_MAX_DIMS) {
        char *end;
        errno       = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v <= 0)
            return -1;
        out->dims[out->ndim++] = v;
        s                      = *end == 'x' ? end + 1 : end;
        if (*end && *end != 'x')
            return -1;
    }
    return out->ndim > 0 && !*s ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *model = NULL, *device = "cuda:0", *precision = NULL, *backend = NULL;
    const char *shape_s = NULL;
    int         runs = 50, warmup = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        i++;
        if (!strcmp(a, "--model"))
            model = v;
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--backend"))
            backend = v;
        else if (!strcmp(a, "--precision"))
            precision = v;
        else if (!strcmp(a, "--shape"))
            shape_s = v;
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atoi(v);
        else
            return usage();
    }
    if (!model || runs < 1 || warmup < 0)
        return usage();
    vg_model *m = NULL;
    if (vg_model_load(model, NULL, &m) != VG_OK) {
        fprintf(stderr, "vigil_gpu_bench: %s\n", vg_model_errmsg(NULL));
        return 1;
    }
    const vg_io_info *io = vg_model_input(m, 0);
    vg_tensor         in = {.dtype = io->dtype, .shape = io->shape};
    if (shape_s && parse_shape(shape_s, &in.shape)) {
        fprintf(stderr, "vigil_gpu_bench: --shape %s: expected e.g. 8x3x256x192\n", shape_s);
        return 2;
    }
    for (int d = 0; d < in.shape.ndim; d++)
        if (in.shape.dims[d] < 0)
            in.shape.dims[d] = 1;
    size_t  n     = (size_t)vg_shape_numel(&in.shape);
    void   *buf   = malloc(n * 4 + 4);
    double *times = malloc((size_t)runs * sizeof(double));
    if (!buf || !times) {
        fprintf(stderr, "vigil_gpu_bench: out of memory\n");
        return 1;
    }
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        if (in.dtype == VG_DTYPE_F32)
            ((float *)buf)[i] = (float)(x >> 8) / (float)(1 << 23) - 1.0f;
        else
            ((int32_t *)buf)[i] = (int32_t)(x >> 24);
    }
    in.data              = buf;
    vg_session_params sp = vg_session_params_default();
    sp.backend           = backend;
    sp.device            = device;
    sp.precision         = precision;
    vg_session *s        = NULL;
    int         rc       = 1;
    int64_t     t0       = vg_clock_ns();
    if (vg_session_create(m, &sp, &s) != VG_OK) {
        fprintf(stderr, "vigil_gpu_bench: %s\n", vg_model_errmsg(NULL));
        goto out;
    }
    if (vg_session_set_input(s, io->name, &in) != VG_OK || vg_session_prepare(s) != VG_OK) {
        fprintf(stderr, "vigil_gpu_bench: %s\n", vg_session_errmsg(s));
        goto out;
    }
    double prepare_ms = (double)(vg_clock_ns() - t0) / 1e6;
    /* the input goes into the session's page-locked buffer, as PyTorch's side copies from
     * pinned memory; rewritten before each run, outside the timing (`vigil bench model`
     * does the same) */
    vg_tensor sbuf;
    if (vg_session_input_buffer(s, io->name, &in.shape, &sbuf) != VG_OK) {
        fprintf(stderr, "vigil_gpu_bench: %s\n", vg_session_errmsg(s));
        goto out;
    }
    for (int r = 0; r < warmup + runs; r++) {
        memcpy(sbuf.data, buf, vg_tensor_nbytes(&in));
        int64_t a = vg_clock_ns();
        if (vg_session_run(s) != VG_OK) {
            fprintf(stderr, "vigil_gpu_bench: %s\n", vg_session_errmsg(s));
            goto out;
        }
        if (r >= warmup)
            times[r - warmup] = (double)(vg_clock_ns() - a) / 1e6;
    }
    qsort(times, (size_t)runs, sizeof(double), dbl_cmp);
    double sum = 0;
    for (int r = 0; r < runs; r++)
        sum += times[r];
    double median = times[runs / 2], batch = (double)in.shape.dims[0];
    printf("{\"model\":\"%s\",\"backend\":\"%s\",\"device\":\"%s\",\"precision\":\"%s\","
           "\"batch\":%.0f,\"runs\":%d,\"warmup\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,"
           "\"min_ms\":%.4f,\"mean_ms\":%.4f,\"items_per_s\":%.2f,\"prepare_ms\":%.1f}\n",
           model, vg_session_backend(s), device, precision ? precision : "fp32", batch, runs,
           warmup, median, times[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1], times[0],
           sum / runs, batch * 1000.0 / median, prepare_ms);
    rc = 0;
out:
    vg_session_destroy(s);
    vg_model_destroy(m);
    free(buf);
    free(times);
    return rc;
}
