/*
 * cmd_onnx_test.c - `vigil onnx-test DIR...`: runs ONNX backend conformance
 * tests (model.onnx + test_data_set_N/input_K.pb, output_K.pb).
 *
 * DESIGN
 * ------
 * Each DIR is a test folder (it holds model.onnx) or a folder of test
 * folders (e.g. libonnx-testdata's data/node), visited in name order. A test
 * is "unsupported" when the importer or engine reports VG_E_UNSUPPORTED
 * (op, opset, dtype, attribute value), "failed" on any other error or on an
 * output outside tolerance, "passed" otherwise. Inputs that the importer
 * reads at import time (Clip bounds, Resize scales, Squeeze axes, BatchNorm
 * statistics) or the engine at plan time (Reshape shape, Slice starts/ends,
 * Resize sizes) are bound as constants, as they are initializers in real
 * models: the model is rewritten with
 * them as initializers into a temporary folder and loaded through the normal
 * vg_model_load() path. Float outputs must satisfy
 * |out - ref| <= atol + rtol * |ref| (rtol 1e-3 as in ONNX's own backend
 * test runner; atol 1e-5, looser than its 1e-7, because float32 kernels
 * that reassociate sums differ from numpy by ulps near zero); integer and
 * bool outputs must match exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/commands.h"
#include "importers/onnx/onnx_impl.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/model.h"

#define MAX_IO 32

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED, R_SKIP } result;

typedef struct opts {
    const char *backend;
    bool        verbose;
    int         min_passed;
    double      rtol, atol;
    const char *tmpdir;
} opts;

typedef struct tensor_set {
    vgi_onnx_tensor t[MAX_IO];
    int             n;
} tensor_set;

static void set_fini(tensor_set *s) {
    for (int i = 0; i < s->n; i++)
        vgi_onnx_tensor_fini(&s->t[i]);
    s->n = 0;
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads prefix_0.pb, prefix_1.pb, ... from dir. */
static vg_status read_set(const char *dir, const char *prefix, tensor_set *s, char *err,
                          size_t errlen) {
    s->n = 0;
    for (int i = 0; i < MAX_IO; i++) {
        char path[4096];
        int  k = snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, i);
        if (k < 0 || (size_t)k >= sizeof path || !is_file(path))
            break;
        vg_status st = vgi_onnx_tensor_read_file(path, &s->t[i], err, errlen);
        if (st != VG_OK)
            return st;
        s->n = i + 1;
    }
    return VG_OK;
}

static double elem(const void *data, vg_dtype dt, int64_t i) {
    switch (dt) {
    case VG_DTYPE_F32:
        return ((const float *)data)[i];
    case VG_DTYPE_F64:
        return ((const double *)data)[i];
    case VG_DTYPE_F16:
        return vg_f16_to_f32(((const uint16_t *)data)[i]);
    case VG_DTYPE_I32:
        return ((const int32_t *)data)[i];
    case VG_DTYPE_I64:
        return (double)((const int64_t *)data)[i];
    case VG_DTYPE_U8:
    case VG_DTYPE_BOOL:
        return ((const uint8_t *)data)[i];
    case VG_DTYPE_I8:
        return ((const int8_t *)data)[i];
    case VG_DTYPE_U16:
        return ((const uint16_t *)data)[i];
    case VG_DTYPE_I16:
        return ((const int16_t *)data)[i];
    default:
        return NAN;
    }
}

/* Compares output k; writes a reason on mismatch. */
static bool compare(const vg_tensor *got, const vgi_onnx_tensor *ref, const opts *o, char *why,
                    size_t len) {
    vg_dtype dt = vgi_onnx_dtype_to_vg(ref->dtype);
    if (got->dtype != dt) {
        snprintf(why, len, "dtype %s, expected %s", vg_dtype_name(got->dtype), vg_dtype_name(dt));
        return false;
    }
    vg_shape rs = {.ndim = ref->rank};
    memcpy(rs.dims, ref->dims, sizeof(int64_t) * (size_t)ref->rank);
    if (!vg_shape_equal(&got->shape, &rs)) {
        char a[128], b[128];
        snprintf(why, len, "shape %s, expected %s", vg_shape_format(&got->shape, a, sizeof a),
                 vg_shape_format(&rs, b, sizeof b));
        return false;
    }
    bool is_float = dt == VG_DTYPE_F32 || dt == VG_DTYPE_F64 || dt == VG_DTYPE_F16;
    for (int64_t i = 0; i < ref->numel; i++) {
        double g = elem(got->data, dt, i), r = elem(ref->data, dt, i);
        if (isnan(r) && isnan(g))
            continue;
        if (isinf(r) && g == r)
            continue;
        double d  = fabs(g - r);
        bool   ok = is_float ? d <= o->atol + o->rtol * fabs(r) : d == 0;
        if (!ok || isnan(g)) {
            snprintf(why, len, "element %lld: got %.9g, expected %.9g", (long long)i, g, r);
            return false;
        }
    }
    return true;
}

static result run_test(const char *dir, const opts *o, char *why, size_t len) {
    char model[4096], ds[4096];
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    snprintf(ds, sizeof ds, "%s/test_data_set_0", dir);
    if (!is_file(model) || !is_dir(ds)) {
        snprintf(why, len, "no model.onnx or test_data_set_0");
        return R_SKIP;
    }
    tensor_set  in = {0}, ref = {0};
    result      res = R_FAIL;
    vg_model   *m   = NULL;
    vg_session *s   = NULL;
    /* Decide support from the model first: sequence/optional test data is
     * not in TensorProto form, so a data file that does not parse counts as
     * a failure only when the model itself is importable. */
    vgi_onnx_model *om;
    char            em[4096];
    vg_status       st = vgi_onnx_model_load_file(model, NULL, &om, em, sizeof em);
    if (st != VG_OK) {
        snprintf(why, len, "%s", em);
        res = st == VG_E_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
        goto done;
    }
    vg_status ops_st = vgi_onnx_model_check_ops(om, em, sizeof em);
    st               = read_set(ds, "input", &in, why, len);
    if (st == VG_OK)
        st = read_set(ds, "output", &ref, why, len);
    if (st != VG_OK) {
        vgi_onnx_model_destroy(om);
        if (ops_st != VG_OK)
            snprintf(why, len, "%s", em);
        res = st == VG_E_UNSUPPORTED || ops_st != VG_OK ? R_UNSUPPORTED : R_FAIL;
        goto done;
    }
    if (om->n_inputs != in.n || om->n_outputs != ref.n) {
        snprintf(why, len, "model has %d inputs / %d outputs, data set %d / %d", om->n_inputs,
                 om->n_outputs, in.n, ref.n);
        vgi_onnx_model_destroy(om);
        goto done;
    }
    vgi_onnx_tensor bind[MAX_IO];
    char            tmp[4096] = ""; /* the rewritten model, when inputs are bound */
    int             n_bind    = 0;
    bool            fed[MAX_IO];
    char           *onames[MAX_IO] = {0};
    for (int i = 0; i < in.n; i++) {
        vgi_onnx_tensor *t = &in.t[i];
        vg_free(t->name);
        t->name = vg_strdup(om->values[om->inputs[i]].name);
        fed[i]  = !vgi_onnx_value_needs_const(om, om->inputs[i]);
        if (!fed[i])
            bind[n_bind++] = *t;
    }
    for (int i = 0; i < ref.n; i++)
        onames[i] = vg_strdup(om->values[om->outputs[i]].name);
    vgi_onnx_model_destroy(om);
    if (ops_st != VG_OK && n_bind > 0) {
        /* inputs that must be constants are constants now: check again */
        vgi_onnx_load_params lp = {.bind = bind, .n_bind = n_bind};
        st                      = vgi_onnx_model_load_file(model, &lp, &om, em, sizeof em);
        if (st == VG_OK) {
            ops_st = vgi_onnx_model_check_ops(om, em, sizeof em);
            vgi_onnx_model_destroy(om);
        }
    }
    if (ops_st != VG_OK) {
        snprintf(why, len, "%s", em);
        res = R_UNSUPPORTED;
        goto done_names;
    }
    const char *load_path = model;
    if (n_bind > 0) {
        snprintf(tmp, sizeof tmp, "%s/model.onnx", o->tmpdir);
        st = vgi_onnx_write_bound_model(model, bind, n_bind, tmp, why, len);
        if (st != VG_OK)
            goto done_names;
        load_path = tmp;
    }
    st = vg_model_load(load_path, NULL, &m);
    if (st != VG_OK) {
        snprintf(why, len, "%s", vg_model_errmsg(NULL));
        res = st == VG_E_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
        goto done_names;
    }
    vg_session_params sp = vg_session_params_default();
    sp.backend           = o->backend;
    sp.threads           = 1;
    st                   = vg_session_create(m, &sp, &s);
    if (st != VG_OK) {
        snprintf(why, len, "%s", vg_model_errmsg(NULL));
        goto done_names;
    }
    for (int i = 0; i < in.n && st == VG_OK; i++) {
        if (!fed[i])
            continue;
        vgi_onnx_tensor *t = &in.t[i];
        static float     empty; /* a valid pointer for tensors with no elements */
        vg_tensor        vt = vg_tensor_make(vgi_onnx_dtype_to_vg(t->dtype), t->rank, t->dims,
                                      t->data ? t->data : &empty);
        st                  = vg_session_set_input(s, t->name, &vt);
    }
    if (st == VG_OK)
        st = vg_session_run(s);
    if (st != VG_OK) {
        snprintf(why, len, "%s", vg_session_errmsg(s));
        res = st == VG_E_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
        goto done_names;
    }
    res = R_PASS;
    for (int i = 0; i < ref.n; i++) {
        vg_tensor out;
        st = vg_session_get_output(s, onames[i], &out);
        if (st != VG_OK) {
            snprintf(why, len, "output '%s': %s", onames[i], vg_session_errmsg(s));
            res = R_FAIL;
            break;
        }
        char r2[512];
        if (!compare(&out, &ref.t[i], o, r2, sizeof r2)) {
            snprintf(why, len, "output '%s': %s", onames[i], r2);
            res = R_FAIL;
            break;
        }
    }
done_names:
    for (int i = 0; i < ref.n; i++)
        vg_free(onames[i]);
    if (tmp[0])
        unlink(tmp);
done:
    vg_session_destroy(s);
    vg_model_destroy(m);
    set_fini(&in);
    set_fini(&ref);
    return res;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void usage(FILE *f) {
    fprintf(f, "usage: vigil onnx-test [--backend ref|cpu] [--min-passed N] [-v] DIR...\n"
               "  DIR: an ONNX backend test folder (model.onnx + test_data_set_*), or a\n"
               "       folder of them (e.g. /usr/share/libonnx-testdata/data/node).\n"
               "  Prints one line per failed test (-v: every test) and the counts of\n"
               "  passed / failed / unsupported tests. Exit status 1 if any test failed\n"
               "  or fewer than N passed.\n");
}

int cmd_onnx_test(int argc, char **argv) {
    opts o = {.backend = "ref", .rtol = 1e-3, .atol = 1e-5};
    int  i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            o.backend = argv[++i];
        else if (!strcmp(argv[i], "--min-passed") && i + 1 < argc)
            o.min_passed = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            o.verbose = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    char tmpl[] = "/tmp/vigil-onnx-test-XXXXXX";
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "vigil onnx-test: cannot create a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    o.tmpdir = tmpl;
    /* Failures are reported per test below; the engine's own log would repeat them. */
    if (!o.verbose)
        vg_log_set_level(VG_LOG_QUIET);
    int counts[4] = {0};
    for (; i < argc; i++) {
        char model[4096];
        snprintf(model, sizeof model, "%s/model.onnx", argv[i]);
        char **names = NULL;
        int    n     = 0;
        if (is_file(model)) {
            names = malloc(sizeof *names);
            if (names && (names[0] = strdup(argv[i])))
                n = 1;
        } else {
            DIR *d = opendir(argv[i]);
            if (!d) {
                fprintf(stderr, "vigil onnx-test: %s: %s\n", argv[i], strerror(errno));
                counts[R_FAIL]++;
                continue;
            }
            struct dirent *e;
            int            cap = 0;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                if (n == cap) {
                    cap       = cap ? cap * 2 : 256;
                    char **nn = realloc(names, (size_t)cap * sizeof *names);
                    if (!nn)
                        break;
                    names = nn;
                }
                size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
                if (!(names[n] = malloc(l)))
                    break;
                snprintf(names[n++], l, "%s/%s", argv[i], e->d_name);
            }
            closedir(d);
            qsort(names, (size_t)n, sizeof *names, cmp_str);
        }
        for (int k = 0; k < n; k++) {
            char        why[4096] = "";
            result      r         = run_test(names[k], &o, why, sizeof why);
            const char *base      = strrchr(names[k], '/') ? strrchr(names[k], '/') + 1 : names[k];
            if (r != R_SKIP)
                counts[r]++;
            for (char *c = why; *c; c++) /* one line per test */
                if (*c == '\n')
                    *c = ' ';
            if (r == R_FAIL)
                printf("FAIL %s: %s\n", base, why);
            else if (o.verbose && r == R_PASS)
                printf("PASS %s\n", base);
            else if (o.verbose && r == R_UNSUPPORTED)
                printf("UNSUPPORTED %s: %s\n", base, why);
            fflush(stdout);
            free(names[k]);
        }
        free(names);
    }
    rmdir(tmpl);
    printf("onnx-test (%s backend): %d passed, %d failed, %d unsupported\n", o.backend,
           counts[R_PASS], counts[R_FAIL], counts[R_UNSUPPORTED]);
    if (counts[R_PASS] < o.min_passed) {
        printf("onnx-test: only %d passed, expected at least %d\n", counts[R_PASS], o.min_passed);
        return 1;
    }
    return counts[R_FAIL] ? 1 : 0;
}
