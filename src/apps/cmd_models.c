/*
 * cmd_models.c - `vigil models list [DIR]`: the models in a models folder
 * (default ./models, as written by scripts/fetch-models.sh) and the signature
 * each model.json declares.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"

static const char *tf_dtype(const char *dt) {
    if (!dt)
        return "?";
    if (!strcmp(dt, "DT_FLOAT"))
        return "float32";
    if (!strcmp(dt, "DT_INT32"))
        return "int32";
    if (!strcmp(dt, "DT_HALF"))
        return "float16";
    if (!strcmp(dt, "DT_UINT8"))
        return "uint8";
    return dt;
}

static void print_tensors(const char *role, json_t *obj) {
    const char *key;
    json_t     *v;
    json_object_foreach(obj, key, v) {
        printf("  %-6s %-22s %-8s [", role, key,
               tf_dtype(json_string_value(json_object_get(v, "dtype"))));
        json_t *dims = json_object_get(json_object_get(v, "tensorShape"), "dim");
        size_t  i;
        json_t *d;
        json_array_foreach(dims, i, d) {
            const char *sz = json_string_value(json_object_get(d, "size"));
            printf("%s%s", i ? ", " : "", sz ? sz : "?");
        }
        printf("]\n");
    }
}

static int print_model(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/model.json", dir, name);
    json_error_t err;
    json_t      *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "vigil models: %s:%d: %s; re-fetch with 'make models'\n", path, err.line,
                err.text);
        return 1;
    }
    json_t *sig = json_object_get(root, "signature");
    if (!json_is_object(sig)) {
        fprintf(stderr, "vigil models: %s has no signature object\n", path);
        json_decref(root);
        return 1;
    }
    const char *format = json_string_value(json_object_get(root, "format"));
    printf("%s (%s)\n", name, format ? format : "?");
    print_tensors("input", json_object_get(sig, "inputs"));
    print_tensors("output", json_object_get(sig, "outputs"));
    json_decref(root);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_models(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || strcmp(argv[1], "list") != 0) {
        FILE *f = argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr;
        fprintf(f,
                "usage: vigil models list [DIR]\n"
                "  Lists the TF.js graph models in DIR (default: models) with their signatures.\n"
                "  Fetch the default models first: scripts/fetch-models.sh (or make models).\n");
        return f == stdout ? 0 : 2;
    }
    const char *dir = argc > 2 ? argv[2] : "models";
    DIR        *d   = opendir(dir);
    if (!d) {
        fprintf(stderr,
                "vigil models: cannot open folder '%s'; fetch the models with 'make models'\n",
                dir);
        return 1;
    }
    char          *names[256];
    int            n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/model.json", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fclose(f);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "vigil models: no model folders in '%s'; fetch them with 'make models'\n",
                dir);
        return 1;
    }
    qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        rc |= print_model(dir, names[i]);
        free(names[i]);
    }
    return rc;
}
