/*
 * run_util.c - helpers for the `vigil run` tests (see run_util.h).
 */
#include "run_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../io/media_util.h"
#include "test.h"

const char *ru_vigil = "vigil";
char        ru_err[16384];

int ru_vigil_run(const char *tmp, const char *args) {
    char errf[512], cmd[8192];
    snprintf(errf, sizeof(errf), "%s/stderr.txt", tmp);
    snprintf(cmd, sizeof(cmd), "'%s' %s > /dev/null 2> '%s'", ru_vigil, args, errf);
    int rc    = system(cmd);
    ru_err[0] = '\0';
    FILE *f   = fopen(errf, "r");
    if (f) {
        size_t n  = fread(ru_err, 1, sizeof(ru_err) - 1, f);
        ru_err[n] = '\0';
        fclose(f);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const char *ru_require_models(void) {
    static char dir[4096];
    const char *env = getenv("VIGIL_MODELS");
    if (env && *env)
        snprintf(dir, sizeof(dir), "%s", env);
    else
        snprintf(dir, sizeof(dir), "%s/models", vg_test_source_dir());
    char        p[4200];
    struct stat sb;
    for (int attempt = 0; attempt < 2; attempt++) {
        snprintf(p, sizeof(p), "%s/centernet/model.json", dir);
        bool ok = stat(p, &sb) == 0;
        snprintf(p, sizeof(p), "%s/movenet-thunder/model.json", dir);
        ok = ok && stat(p, &sb) == 0;
        if (ok)
            return dir;
        /* Not fetched (a fresh clone): the same files are in the shared reference folder. */
        const char *shared = vg_test_shared_dir();
        if (attempt > 0 || (env && *env) || !shared)
            break;
        snprintf(dir, sizeof(dir), "%s/models", shared);
    }
    VG_SKIP("the default models are neither in ./models (or $VIGIL_MODELS) nor in the shared "
            "folder's models/; run 'make models'");
}

const char *ru_backend_arg(void) {
    static char buf[64];
    const char *b = getenv("VIGIL_TEST_BACKEND");
    if (!b || !*b)
        return "";
    snprintf(buf, sizeof(buf), " --backend %s", b);
    return buf;
}

static bool num_at(json_t *arr, size_t i, float *out) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_number(v))
        return false;
    *out = (float)json_number_value(v);
    return true;
}

int ru_read_jsonl(const char *path, ru_frame *frames, int cap, char *why, size_t why_size) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, why_size, "%s: cannot open", path);
        return -1;
    }
    char  *line = NULL;
    size_t lcap = 0;
    int    n    = 0;
    long   lno  = 0;
    int    rc   = 0;
    while (getline(&line, &lcap, f) > 0) {
        lno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            snprintf(why, why_size, "%s:%ld: line not terminated (incomplete file)", path, lno);
            rc = -1;
            break;
        }
        json_error_t je;
        json_t      *o = json_loads(line, 0, &je);
        if (!json_is_object(o)) {
            snprintf(why, why_size, "%s:%ld: not a JSON object: %s", path, lno, je.text);
            json_decref(o);
            rc = -1;
            break;
        }
        json_t *fr = json_object_get(o, "frame"), *pe = json_object_get(o, "persons");
        json_t *de = json_object_get(o, "detections");
        if (!json_is_integer(fr) || !json_is_array(pe) || !json_is_array(de) ||
            !json_object_get(o, "pts") || !json_object_get(o, "time")) {
            snprintf(why, why_size, "%s:%ld: missing frame/pts/time/persons/detections", path, lno);
            json_decref(o);
            rc = -1;
            break;
        }
        if (n < cap) {
            ru_frame *r = &frames[n];
            memset(r, 0, sizeof(*r));
            r->index  = json_integer_value(fr);
            r->n_dets = (int)json_array_size(de);
            for (size_t i = 0; i < json_array_size(pe) && r->n_persons < 32; i++) {
                json_t    *p  = json_array_get(pe, i);
                ru_person *rp = &r->persons[r->n_persons++];
                json_t    *b = json_object_get(p, "box"), *kp = json_object_get(p, "keypoints");
                json_t    *sc = json_object_get(p, "score");
                bool       ok = json_is_array(b) && json_array_size(b) == 4 && json_is_array(kp) &&
                          json_is_number(sc);
                for (size_t k = 0; ok && k < 4; k++)
                    ok = num_at(b, k, &rp->box[k]);
                if (ok) {
                    rp->score = (float)json_number_value(sc);
                    rp->n_kp  = (int)json_array_size(kp);
                    for (int k = 0; k < rp->n_kp && k < 17 && ok; k++) {
                        json_t *t = json_array_get(kp, (size_t)k);
                        ok        = json_is_array(t) && json_array_size(t) == 3 &&
                             num_at(t, 0, &rp->kp[k][0]) && num_at(t, 1, &rp->kp[k][1]) &&
                             num_at(t, 2, &rp->kp[k][2]);
                    }
                }
                if (!ok) {
                    snprintf(why, why_size, "%s:%ld: person %zu is malformed", path, lno, i);
                    rc = -1;
                }
            }
        }
        json_decref(o);
        if (rc)
            break;
        n++;
    }
    free(line);
    fclose(f);
    return rc ? -1 : (n < cap ? n : cap);
}

int ru_main(int argc, char **argv, const vg_test_case *cases, char **tmp) {
    if (argc > 1) {
        ru_vigil = argv[1];
        argv[1]  = argv[0];
        argc--;
        argv++;
    }
    *tmp = mu_tmpdir();
    if (!*tmp)
        return 1;
    int rc = vg_test_main(argc, argv, cases);
    mu_rmtree(*tmp);
    free(*tmp);
    *tmp = NULL;
    return rc;
}
