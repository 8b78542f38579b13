/*
 * cmd_infer.c - `vigil infer`: run a model once on raw tensor files and
 * write every output as a raw file plus outputs.json (the layout of the
 * shared golden folders).
 *
 *   vigil infer --model PATH --input NAME=FILE.bin [--input ...] --out DIR
 *               [--shape NAME=1x160x256x3] [--backend ref|cpu|cuda]
 *               [--device cpu:0-1|cuda:0] [--threads N] [--precision fp32|fp16]
 *
 * Input files are raw little-endian tensors; dtype and shape come from the
 * model's signature (--shape fixes symbolic dimensions; with one symbolic
 * dimension it is derived from the file size). A size mismatch is an error.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/commands.h"
#include "vigil/model.h"
#include "vigil/vigil.h"

#define MAX_INPUTS 16

static void infer_usage(FILE *f) {
    fprintf(f, "usage: vigil infer --model PATH --input NAME=FILE.bin [--input ...] --out DIR\n"
               "                   [--shape NAME=1x160x256x3] [--backend ref|cpu|cuda]\n"
               "                   [--device cpu:0-1|cuda:0] [--threads N]\n"
               "                   [--precision fp32|fp16]\n"
               "Runs the model once. Inputs are raw little-endian tensors (dtype and shape from\n"
               "the model's signature). Writes DIR/output_<name>.bin per output and\n"
               "DIR/outputs.json = [{\"name\",\"dtype\",\"shape\",\"file\"}].\n"
               "A cuda device picks the cuda backend when --backend is not given; --precision\n"
               "fp16 (GPU only) computes in half precision on tensor cores (default fp32).\n");
}

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    void *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n + 1);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            *size = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static bool parse_shape(const char *s, vg_shape *out) {
    out->ndim = 0;
    while (*s) {
        char     *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || out->ndim >= VG_MAX_DIMS)
            return false;
        out->dims[out->ndim++] = v;
        if (*end == 'x' || *end == ',')
            end++;
        else if (*end)
            return false;
        s = end;
    }
    return out->ndim > 0;
}

static void sanitize(const char *in, char *out, size_t cap) {
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char c  = in[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

int cmd_infer(int argc, char **argv) {
    const char *model_path = NULL, *out_dir = NULL, *backend = NULL, *device = NULL;
    const char *precision = NULL;
    const char *in_spec[MAX_INPUTS], *shape_spec[MAX_INPUTS];
    int         n_in = 0, n_shape = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a   = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            infer_usage(stdout);
            return 0;
        }
        if (!val) {
            fprintf(stderr, "vigil infer: option %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--model"))
            model_path = val;
        else if (!strcmp(a, "--out"))
            out_dir = val;
        else if (!strcmp(a, "--backend"))
            backend = val;
        else if (!strcmp(a, "--device"))
            device = val;
        else if (!strcmp(a, "--threads"))
            threads = atoi(val);
        else if (!strcmp(a, "--precision"))
            precision = val;
        else if (!strcmp(a, "--input") && n_in < MAX_INPUTS)
            in_spec[n_in++] = val;
        else if (!strcmp(a, "--shape") && n_shape < MAX_INPUTS)
            shape_spec[n_shape++] = val;
        else {
            fprintf(stderr, "vigil infer: unknown option '%s'\n", a);
            infer_usage(stderr);
            return 2;
        }
    }
    if (!model_path || !out_dir || !n_in) {
        infer_usage(stderr);
        return 2;
    }
    vg_model *m = NULL;
    if (vg_model_load(model_path, NULL, &m)) {
        fprintf(stderr, "vigil infer: %s\n", vg_model_errmsg(NULL));
        return 1;
    }
    int               rc               = 1;
    vg_session       *s                = NULL;
    void             *bufs[MAX_INPUTS] = {NULL};
    json_t           *list             = json_array();
    vg_session_params sp               = vg_session_params_default();
    sp.backend                         = backend;
    sp.device                          = device;
    sp.threads                         = threads;
    sp.precision                       = precision;
    if (vg_session_create(m, &sp, &s)) {
        fprintf(stderr, "vigil infer: %s\n", vg_model_errmsg(m));
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        const char *eq = strchr(in_spec[i], '=');
        if (!eq) {
            fprintf(stderr, "vigil infer: --input '%s' is not NAME=FILE\n", in_spec[i]);
            goto done;
        }
        char name[512];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - in_spec[i]), in_spec[i]);
        const vg_io_info *info = NULL;
        for (int k = 0; k < vg_model_input_count(m); k++)
            if (!strcmp(vg_model_input(m, k)->name, name))
                info = vg_model_input(m, k);
        if (!info) {
            fprintf(stderr, "vigil infer: the model has no input '%s'; its inputs are:", name);
            for (int k = 0; k < vg_model_input_count(m); k++)
                fprintf(stderr, " %s", vg_model_input(m, k)->name);
            fprintf(stderr, "\n");
            goto done;
        }
        size_t size = 0;
        bufs[i]     = read_all(eq + 1, &size);
        if (!bufs[i]) {
            fprintf(stderr, "vigil infer: cannot read %s: %s\n", eq + 1, strerror(errno));
            goto done;
        }
        vg_tensor t;
        memset(&t, 0, sizeof(t));
        t.dtype = info->dtype;
        t.shape = info->shape;
        t.data  = bufs[i];
        for (int k = 0; k < n_shape; k++) {
            size_t nl = strlen(name);
            if (!strncmp(shape_spec[k], name, nl) && shape_spec[k][nl] == '=' &&
                !parse_shape(shape_spec[k] + nl + 1, &t.shape)) {
                fprintf(stderr, "vigil infer: --shape '%s' is malformed (e.g. %s=1x160x256x3)\n",
                        shape_spec[k], name);
                goto done;
            }
        }
        int     unknown = -1, n_unknown = 0;
        int64_t known = 1;
        for (int d = 0; d < t.shape.ndim; d++) {
            if (t.shape.dims[d] < 0)
                unknown = d, n_unknown++;
            else
                known *= t.shape.dims[d];
        }
        size_t es = vg_dtype_size(t.dtype);
        if (n_unknown == 1 && known > 0 && size % ((size_t)known * es) == 0)
            t.shape.dims[unknown] = (int64_t)(size / ((size_t)known * es));
        else if (n_unknown) {
            fprintf(stderr,
                    "vigil infer: input '%s' has symbolic dimensions; give its shape "
                    "with --shape %s=1x...\n",
                    name, name);
            goto done;
        }
        char sb[128];
        if (vg_tensor_nbytes(&t) != size) {
            fprintf(stderr, "vigil infer: %s has %zu bytes, but input '%s' is %s %s = %zu bytes\n",
                    eq + 1, size, name, vg_dtype_name(t.dtype),
                    vg_shape_format(&t.shape, sb, sizeof(sb)), vg_tensor_nbytes(&t));
            goto done;
        }
        if (vg_session_set_input(s, name, &t)) {
            fprintf(stderr, "vigil infer: %s\n", vg_session_errmsg(s));
            goto done;
        }
    }
    if (vg_session_run(s)) {
        fprintf(stderr, "vigil infer: %s\n", vg_session_errmsg(s));
        goto done;
    }
    if (mkdir(out_dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "vigil infer: cannot create %s: %s\n", out_dir, strerror(errno));
        goto done;
    }
    for (int k = 0; k < vg_model_output_count(m); k++) {
        const vg_io_info *info = vg_model_output(m, k);
        vg_tensor         t;
        if (vg_session_get_output_at(s, k, &t)) {
            fprintf(stderr, "vigil infer: %s\n", vg_session_errmsg(s));
            goto done;
        }
        char fname[600], path[4096];
        char san[512];
        sanitize(info->name, san, sizeof(san));
        snprintf(fname, sizeof(fname), "output_%s.bin", san);
        snprintf(path, sizeof(path), "%s/%s", out_dir, fname);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(t.data, 1, vg_tensor_nbytes(&t), f) != vg_tensor_nbytes(&t)) {
            fprintf(stderr, "vigil infer: cannot write %s: %s\n", path, strerror(errno));
            if (f)
                fclose(f);
            goto done;
        }
        fclose(f);
        json_t *shape = json_array();
        for (int d = 0; d < t.shape.ndim; d++)
            json_array_append_new(shape, json_integer(t.shape.dims[d]));
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:o, s:s}", "name", info->name, "dtype",
                                        vg_dtype_name(t.dtype), "shape", shape, "file", fname));
    }
    char jpath[4096];
    snprintf(jpath, sizeof(jpath), "%s/outputs.json", out_dir);
    if (json_dump_file(list, jpath, JSON_INDENT(1))) {
        fprintf(stderr, "vigil infer: cannot write %s\n", jpath);
        goto done;
    }
    printf("vigil infer: %d output(s) written to %s (backend %s)\n", vg_model_output_count(m),
           out_dir, vg_session_backend(s));
    rc = 0;
done:
    json_decref(list);
    for (int i = 0; i < MAX_INPUTS; i++)
        free(bufs[i]);
    vg_session_destroy(s);
    vg_model_destroy(m);
    return rc;
}
