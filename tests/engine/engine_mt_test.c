/*
 * engine_mt_test.c - several sessions of one model run concurrently on
 * different threads (the model is shared read-only). Runs under TSan too,
 * on the ref backend (libdnnl is not TSan-instrumented, so the cpu backend's
 * concurrency is checked by its own tests).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_util.h"
#include "test.h"
#include "vigil/model.h"
#include "vigil/thread.h"

#define N_THREADS 4
#define N_RUNS    50

typedef struct worker {
    const vg_model *m;
    int             seed;
    int             bad;
    vg_status       st;
} worker;

static void *synth_worker(void *arg) {
    worker           *w  = arg;
    vg_session       *s  = NULL;
    vg_session_params sp = vg_session_params_default();
    sp.backend           = "ref";
    w->st                = vg_session_create(w->m, &sp, &s);
    for (int r = 0; r < N_RUNS && !w->st; r++) {
        float x[32], want[12];
        for (int i = 0; i < 32; i++)
            x[i] = (float)((i * 5 + w->seed * 3 + r) % 17 - 8) * 0.25f;
        eng_synth_expected(x, want);
        vg_tensor in = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 2}, x);
        vg_tensor out;
        w->st = vg_session_set_input(s, "x:0", &in);
        if (!w->st)
            w->st = vg_session_run(s);
        if (!w->st)
            w->st = vg_session_get_output(s, "out", &out);
        for (int i = 0; i < 12 && !w->st; i++)
            if (fabsf(((float *)out.data)[i] - want[i]) > 1e-5f + 1e-5f * fabsf(want[i]))
                w->bad++;
    }
    vg_session_destroy(s);
    return NULL;
}

static void test_concurrent_synth(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    vg_model *m;
    VG_CHECK_OK(vg_model_load(dir, NULL, &m));
    worker     w[N_THREADS];
    vg_thread *t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){m, i, 0, VG_OK};
        VG_CHECK_OK(
            vg_thread_create(&(vg_thread_params){.name = "engine-mt"}, synth_worker, &w[i], &t[i]));
    }
    for (int i = 0; i < N_THREADS; i++)
        vg_thread_join(t[i], NULL);
    vg_model_destroy(m);
    eng_rmdir(dir);
    for (int i = 0; i < N_THREADS; i++) {
        VG_CHECK_OK(w[i].st);
        VG_CHECK_INT_EQ(w[i].bad, 0);
    }
}

/* Two sessions of MoveNet Lightning on two threads give the golden output. */
typedef struct real_worker {
    const vg_model *m;
    const void     *input;
    const float    *want;
    double          worst;
    vg_status       st;
} real_worker;

static void *real_fn(void *arg) {
    real_worker      *w  = arg;
    vg_session       *s  = NULL;
    vg_session_params sp = vg_session_params_default();
    sp.backend           = "ref";
    w->st                = vg_session_create(w->m, &sp, &s);
    vg_tensor in = vg_tensor_make(VG_DTYPE_I32, 4, (int64_t[]){1, 192, 192, 3}, (void *)w->input);
    vg_tensor out;
    if (!w->st)
        w->st = vg_session_set_input(s, "input:0", &in);
    if (!w->st)
        w->st = vg_session_run(s);
    if (!w->st)
        w->st = vg_session_get_output(s, "Identity:0", &out);
    for (int i = 0; i < 51 && !w->st; i++) {
        double d = fabs((double)((float *)out.data)[i] - w->want[i]);
        if (d > w->worst)
            w->worst = d;
    }
    vg_session_destroy(s);
    return NULL;
}

static void test_concurrent_real(void) {
    const char *case_dir = vg_test_require_shared("golden/movenet-lightning/coco_000000000785_p0");
    char        p[4096], mdir[4096];
    snprintf(mdir, sizeof(mdir), "%s/models/movenet-lightning", vg_test_shared_dir());
    snprintf(p, sizeof(p), "%s/input.bin", case_dir);
    size_t n;
    void  *input = vg_test_read_file(p, &n);
    snprintf(p, sizeof(p), "%s/output_Identity_0.bin", case_dir);
    float *want = vg_test_read_file(p, &n);
    VG_CHECK(input && want);
    vg_model *m;
    VG_CHECK_OK(vg_model_load(mdir, NULL, &m));
    real_worker w[2];
    vg_thread  *t[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (real_worker){m, input, want, 0, VG_OK};
        VG_CHECK_OK(
            vg_thread_create(&(vg_thread_params){.name = "engine-mt"}, real_fn, &w[i], &t[i]));
    }
    for (int i = 0; i < 2; i++)
        vg_thread_join(t[i], NULL);
    vg_model_destroy(m);
    free(input);
    free(want);
    for (int i = 0; i < 2; i++) {
        VG_CHECK_OK(w[i].st);
        /* Same tolerance as the golden test for normalised coordinates/scores. */
        VG_CHECK(w[i].worst <= 1e-4);
    }
}

static const vg_test_case cases[] = {
    {"concurrent sessions, synthetic model", test_concurrent_synth},
    {"concurrent sessions, movenet-lightning", test_concurrent_real},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
