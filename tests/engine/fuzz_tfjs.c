/*
 * fuzz_tfjs.c - libFuzzer target for the TF.js importer (+ load-time
 * optimiser, which runs shape inference on whatever the importer accepts).
 *
 * Input: model.json text, optionally followed by a NUL byte and the weight
 * bytes. Without weights, a zero-filled buffer stands in for the shards so
 * that real manifests parse and the fuzzer reaches the graph translation.
 *
 * Seed corpus: LLVMFuzzerInitialize fills the corpus folder given on the
 * command line (the last non-option argument) with the model.json of every
 * model in the shared models folder, at test time (nothing is copied into
 * the repository), plus the small synthetic model of engine_util.c with its
 * weights appended (fast to execute, so most mutations start from it).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/engine_impl.h"
#include "engine_util.h"
#include "importers/importer.h"
#include "vigil/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ZERO_WEIGHTS (16u << 20)
static unsigned char *zeros;

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (!in)
        return;
    FILE *out = fopen(to, "wb");
    if (out) {
        char   buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, out);
        fclose(out);
    }
    fclose(in);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    vg_log_set_level(VG_LOG_QUIET);
    zeros              = calloc(1, ZERO_WEIGHTS);
    const char *corpus = NULL;
    for (int i = 1; i < *argc; i++)
        if ((*argv)[i][0] != '-')
            corpus = (*argv)[i];
    if (!corpus)
        return 0;
    mkdir(corpus, 0777);
    const char *tmp = eng_tmpdir(0);
    if (tmp && eng_synth_write(tmp, false)) {
        char jp[600], wp[600], sp[4400];
        snprintf(jp, sizeof(jp), "%s/model.json", tmp);
        snprintf(wp, sizeof(wp), "%s/w.bin", tmp);
        snprintf(sp, sizeof(sp), "%s/seed-synthetic", corpus);
        FILE *out = fopen(sp, "wb");
        FILE *j = fopen(jp, "rb"), *w = fopen(wp, "rb");
        if (out && j && w) {
            char   buf[8192];
            size_t n;
            while ((n = fread(buf, 1, sizeof(buf), j)) > 0)
                fwrite(buf, 1, n, out);
            fputc(0, out);
            while ((n = fread(buf, 1, sizeof(buf), w)) > 0)
                fwrite(buf, 1, n, out);
        }
        if (out)
            fclose(out);
        if (j)
            fclose(j);
        if (w)
            fclose(w);
    }
    if (tmp)
        eng_rmdir(tmp);
    char        models[4096];
    const char *shared = getenv("VIGIL_SHARED");
    if (shared && *shared)
        snprintf(models, sizeof(models), "%s/models", shared);
    else
        snprintf(models, sizeof(models), "%s/../shared/models",
                 getenv("VIGIL_SOURCE_DIR") ? getenv("VIGIL_SOURCE_DIR") : ".");
    DIR *d = opendir(models);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char from[4400], to[4400];
        snprintf(from, sizeof(from), "%s/%s/model.json", models, e->d_name);
        snprintf(to, sizeof(to), "%s/seed-%s.json", corpus, e->d_name);
        copy_file(from, to);
    }
    closedir(d);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul  = memchr(data, 0, size);
    size_t         jlen = nul ? (size_t)(nul - data) : size;
    const void    *w    = nul ? nul + 1 : (const void *)zeros;
    size_t         wlen = nul ? size - jlen - 1 : (zeros ? ZERO_WEIGHTS : 0);
    vgi_graph     *g    = NULL;
    vgi_err        err;
    if (vgi_tfjs_import_mem((const char *)data, jlen, w, wlen, &g, &err) == VG_OK) {
        vgi_optimize(g, &err);
        vgi_graph_destroy(g);
    }
    return 0;
}
