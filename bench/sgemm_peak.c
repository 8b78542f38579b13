/*
 * sgemm_peak: the machine's practical float32 GEMM peak, measured with oneDNN's dnnl_sgemm.
 *
 * DESIGN. The benchmarks quote each model's achieved GFLOP/s against this number, so it must
 * be the best a well-tuned library reaches here, not a theoretical figure. Large square
 * row-major matrices (default 2048) keep the kernel compute-bound; C = A * B with alpha 1,
 * beta 0. The thread count is set with omp_set_num_threads, since Debian's libdnnl is built
 * with the OpenMP runtime (checked at start). After warm-up calls the median of repeated
 * timed calls is reported as one JSON line: {threads, n, runs, median_ms, gflops, best_gflops,
 * isa, dnnl}. Built by bench/compare-models.sh (or by hand:
 * cc -O2 -fopenmp bench/sgemm_peak.c -ldnnl -o sgemm_peak).
 *
 *   sgemm_peak [--threads N] [--n SIZE] [--runs R] [--warmup W]
 */
#define _POSIX_C_SOURCE 200809L

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41:
        return "sse41";
    case dnnl_cpu_isa_avx:
        return "avx";
    case dnnl_cpu_isa_avx2:
        return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
        return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
        return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
        return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
        return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
        return "avx512_core_amx";
    default:
        return "other";
    }
}

static int parse_int(const char *opt, const char *val, int lo, int hi) {
    char *end = NULL;
    long  v;

    if (val == NULL) {
        fprintf(stderr, "sgemm_peak: %s needs a value\n", opt);
        exit(2);
    }
    v = strtol(val, &end, 10);
    if (*val == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "sgemm_peak: %s: '%s' is not an integer in [%d, %d]\n", opt, val, lo, hi);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv) {
    int                   threads = 1;
    int                   n       = 2048;
    int                   runs    = 7;
    int                   warmup  = 2;
    const dnnl_version_t *ver     = dnnl_version();
    float                *a;
    float                *b;
    float                *c;
    double               *ms;
    size_t                elems;
    double                flop;
    int                   i;

    for (i = 1; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--threads") == 0) {
            threads = parse_int(argv[i], val, 1, 1024);
        } else if (strcmp(argv[i], "--n") == 0) {
            n = parse_int(argv[i], val, 16, 16384);
        } else if (strcmp(argv[i], "--runs") == 0) {
            runs = parse_int(argv[i], val, 1, 10000);
        } else if (strcmp(argv[i], "--warmup") == 0) {
            warmup = parse_int(argv[i], val, 0, 10000);
        } else {
            fprintf(stderr, "usage: sgemm_peak [--threads N] [--n SIZE] [--runs R] [--warmup W]\n");
            return 2;
        }
        i++;
    }
    if (ver->cpu_runtime != DNNL_RUNTIME_OMP) {
        fprintf(stderr,
                "sgemm_peak: this oneDNN uses CPU runtime %u, not OpenMP; "
                "the thread count cannot be set with omp_set_num_threads\n",
                ver->cpu_runtime);
        return 1;
    }
    omp_set_num_threads(threads);

    elems = (size_t)n * (size_t)n;
    a     = malloc(elems * sizeof(float));
    b     = malloc(elems * sizeof(float));
    c     = malloc(elems * sizeof(float));
    ms    = malloc((size_t)runs * sizeof(double));
    if (a == NULL || b == NULL || c == NULL || ms == NULL) {
        fprintf(stderr, "sgemm_peak: out of memory for %d x %d matrices\n", n, n);
        return 1;
    }
    for (size_t k = 0; k < elems; k++) {
        a[k] = (float)((k * 7u) % 13u) * 0.01f - 0.06f;
        b[k] = (float)((k * 5u) % 11u) * 0.01f - 0.05f;
        c[k] = 0.0f;
    }
    for (i = 0; i < warmup + runs; i++) {
        double        t0 = now_ms();
        dnnl_status_t st = dnnl_sgemm('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double        t1 = now_ms();
        if (st != dnnl_success) {
            fprintf(stderr, "sgemm_peak: dnnl_sgemm failed with status %d\n", (int)st);
            return 1;
        }
        if (i >= warmup) {
            ms[i - warmup] = t1 - t0;
        }
    }
    qsort(ms, (size_t)runs, sizeof(double), cmp_double);
    flop = 2.0 * (double)n * (double)n * (double)n;
    {
        double med = runs % 2 ? ms[runs / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
        printf("{\"threads\": %d, \"n\": %d, \"runs\": %d, \"median_ms\": %.3f, "
               "\"gflops\": %.1f, \"best_gflops\": %.1f, \"isa\": \"%s\", "
               "\"dnnl\": \"%d.%d.%d\", \"check\": %.4f}\n",
               threads, n, runs, med, flop / (med * 1e6), flop / (ms[0] * 1e6),
               isa_name(dnnl_get_effective_cpu_isa()), ver->major, ver->minor, ver->patch,
               (double)c[elems / 2 + 3]);
    }
    free(a);
    free(b);
    free(c);
    free(ms);
    return 0;
}
