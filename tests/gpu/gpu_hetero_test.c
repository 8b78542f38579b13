/*
 * gpu_hetero_test.c - a detector and a pose model running at the same time
 * on different devices, at engine level: each model's session is created
 * and run in its own thread (as the pipeline's detect and pose stages do),
 * for the device pairs det cpu + pose cuda:0, the reverse, and both on
 * cuda:0 (two sessions, two streams on one GPU), plus the pose model in
 * fp16. Every run's outputs must match a CPU-only run of the same inputs.
 *
 * Models and inputs: NanoDet (detector, float32 [1,3,416,416]) and MoveNet
 * Lightning (pose, int32 [1,192,192,3]) with the input tensors of the
 * golden case coco_000000197388 (../shared/golden). Needs a GPU (exit 77
 * otherwise) and ../shared (skips without it).
 *
 * Tolerance: both backends meet the golden tolerance 1e-4 + 1e-4 * |ref|
 * against the TF.js reference, so GPU and CPU may differ by twice that:
 * |gpu - cpu| <= 2e-4 + 2e-4 * |cpu|. fp16 adds 2% of the output's range
 * (see tests/golden/golden_test.c for why 2%).
 *
 * `vigil run` with the same device pairs on a real clip is in
 * gpu_run_test.c (full builds only: it needs FFmpeg).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_util.h"
#include "test.h"
#include "vigil/model.h"
#include "vigil/thread.h"

#define RUNS        4
#define MAX_OUTPUTS 8

typedef struct model_case {
    const char *model, *golden; /* folder names under models/ and golden/ */
    vg_model   *m;
    vg_tensor   in;
    const char *in_name;
    void       *in_data;
    int         n_out;
    float      *ref[MAX_OUTPUTS]; /* CPU-only outputs */
    size_t      ref_n[MAX_OUTPUTS];
} model_case;

static model_case g_det  = {.model = "nanodet", .golden = "nanodet/coco_000000197388"};
static model_case g_pose = {.model  = "movenet-lightning",
                            .golden = "movenet-lightning/coco_000000197388_p0"};

/* What a worker thread did (checked by the main thread). */
typedef struct worker {
    model_case *mc;
    const char *device, *precision;
    double      worst; /* largest |d| / tolerance over all runs and outputs */
    char        msg[512];
    bool        failed;
} worker;

static void load_case(model_case *mc) {
    if (mc->m)
        return;
    char rel[256];
    snprintf(rel, sizeof(rel), "golden/%s/case.json", mc->golden);
    const char  *cpath = vg_test_require_shared(rel);
    json_error_t je;
    json_t      *cj = json_load_file(cpath, 0, &je);
    VG_CHECK_MSG(cj, "%s: %s", cpath, je.text);
    json_t *in = json_array_get(json_object_get(cj, "inputs"), 0);
    char    p[4200];
    snprintf(p, sizeof(p), "%s/golden/%s/%s", vg_test_shared_dir(), mc->golden,
             json_string_value(json_object_get(in, "file")));
    size_t sz;
    mc->in_data = vg_test_read_file(p, &sz);
    VG_CHECK_MSG(mc->in_data, "cannot read %s", p);
    memset(&mc->in, 0, sizeof(mc->in));
    mc->in.dtype      = vg_dtype_parse(json_string_value(json_object_get(in, "dtype")));
    json_t *shp       = json_object_get(in, "shape");
    mc->in.shape.ndim = (int)json_array_size(shp);
    for (int d = 0; d < mc->in.shape.ndim; d++)
        mc->in.shape.dims[d] = json_integer_value(json_array_get(shp, (size_t)d));
    mc->in.data = mc->in_data;
    VG_CHECK(vg_tensor_nbytes(&mc->in) == sz);
    static char names[2][128];
    char       *nm = names[mc == &g_pose];
    snprintf(nm, 128, "%s", json_string_value(json_object_get(in, "name")));
    mc->in_name = nm;
    json_decref(cj);

    snprintf(rel, sizeof(rel), "models/%s", mc->model);
    const char *mdir = vg_test_require_shared(rel);
    VG_CHECK_MSG(vg_model_load(mdir, NULL, &mc->m) == VG_OK, "%s: %s", mdir, vg_model_errmsg(NULL));

    /* The CPU-only reference (the engine's default CPU backend). */
    vg_session_params sp = vg_session_params_default();
    sp.device            = "cpu";
    vg_session *s;
    VG_CHECK_MSG(vg_session_create(mc->m, &sp, &s) == VG_OK, "%s", vg_model_errmsg(NULL));
    VG_CHECK_OK(vg_session_set_input(s, mc->in_name, &mc->in));
    VG_CHECK_MSG(vg_session_run(s) == VG_OK, "%s", vg_session_errmsg(s));
    mc->n_out = vg_model_output_count(mc->m);
    VG_CHECK(mc->n_out <= MAX_OUTPUTS);
    for (int i = 0; i < mc->n_out; i++) {
        vg_tensor t;
        VG_CHECK_OK(vg_session_get_output_at(s, i, &t));
        VG_CHECK(t.dtype == VG_DTYPE_F32);
        mc->ref_n[i] = vg_tensor_nbytes(&t) / sizeof(float);
        mc->ref[i]   = malloc(vg_tensor_nbytes(&t));
        VG_CHECK(mc->ref[i]);
        memcpy(mc->ref[i], t.data, vg_tensor_nbytes(&t));
    }
    vg_session_destroy(s);
}

static void *worker_main(void *arg) {
    worker           *w  = arg;
    model_case       *mc = w->mc;
    vg_session_params sp = vg_session_params_default();
    sp.device            = w->device;
    sp.precision         = w->precision;
    vg_session *s        = NULL;
    if (vg_session_create(mc->m, &sp, &s) != VG_OK) {
        snprintf(w->msg, sizeof(w->msg), "%s on %s: session: %s", mc->model, w->device,
                 vg_model_errmsg(NULL));
        w->failed = true;
        return NULL;
    }
    bool fp16 = w->precision && !strcmp(w->precision, "fp16");
    for (int r = 0; r < RUNS && !w->failed; r++) {
        if (vg_session_set_input(s, mc->in_name, &mc->in) != VG_OK || vg_session_run(s) != VG_OK) {
            snprintf(w->msg, sizeof(w->msg), "%s on %s run %d: %s", mc->model, w->device, r,
                     vg_session_errmsg(s));
            w->failed = true;
            break;
        }
        for (int i = 0; i < mc->n_out && !w->failed; i++) {
            vg_tensor t;
            if (vg_session_get_output_at(s, i, &t) != VG_OK ||
                vg_tensor_nbytes(&t) != mc->ref_n[i] * sizeof(float)) {
                snprintf(w->msg, sizeof(w->msg), "%s on %s: output %d missing or resized",
                         mc->model, w->device, i);
                w->failed = true;
                break;
            }
            const float *g  = t.data;
            const float *rf = mc->ref[i];
            double       lo = INFINITY, hi = -INFINITY;
            for (size_t k = 0; k < mc->ref_n[i]; k++) {
                lo = rf[k] < lo ? rf[k] : lo;
                hi = rf[k] > hi ? rf[k] : hi;
            }
            double slack = fp16 && hi > lo ? 0.02 * (hi - lo) : 0.0;
            for (size_t k = 0; k < mc->ref_n[i]; k++) {
                double tol = 2e-4 + 2e-4 * fabs(rf[k]) + slack;
                double d   = fabs((double)g[k] - rf[k]);
                double q   = d / tol;
                if (!(q <= 1.0)) {
                    snprintf(w->msg, sizeof(w->msg),
                             "%s on %s%s run %d: output %d[%zu] = %.9g, CPU %.9g (tol %.3g)",
                             mc->model, w->device, fp16 ? " fp16" : "", r, i, k, g[k], rf[k], tol);
                    w->failed = true;
                    break;
                }
                w->worst = q > w->worst ? q : w->worst;
            }
        }
    }
    vg_session_destroy(s);
    return NULL;
}

static void run_pair(const char *det_dev, const char *pose_dev, const char *pose_prec) {
    load_case(&g_det);
    load_case(&g_pose);
    worker     wd = {.mc = &g_det, .device = det_dev};
    worker     wp = {.mc = &g_pose, .device = pose_dev, .precision = pose_prec};
    vg_thread *td = NULL, *tp = NULL;
    VG_CHECK_OK(vg_thread_create(&(vg_thread_params){.name = "detect"}, worker_main, &wd, &td));
    VG_CHECK_OK(vg_thread_create(&(vg_thread_params){.name = "pose"}, worker_main, &wp, &tp));
    vg_thread_join(td, NULL);
    vg_thread_join(tp, NULL);
    printf("  detector on %s: worst |d|/tol %.3f; pose on %s%s%s: worst |d|/tol %.3f\n", det_dev,
           wd.worst, pose_dev, pose_prec ? " " : "", pose_prec ? pose_prec : "", wp.worst);
    VG_CHECK_MSG(!wd.failed, "%s", wd.msg);
    VG_CHECK_MSG(!wp.failed, "%s", wp.msg);
}

static void test_det_cpu_pose_gpu(void) {
    run_pair("cpu", "cuda:0", NULL);
}

static void test_det_gpu_pose_cpu(void) {
    run_pair("cuda:0", "cpu", NULL);
}

static void test_both_gpu(void) {
    run_pair("cuda:0", "cuda:0", NULL);
}

static void test_pose_gpu_fp16(void) {
    run_pair("cpu", "cuda:0", "fp16");
}

static const vg_test_case cases[] = {
    {"detector cpu, pose cuda:0", test_det_cpu_pose_gpu},
    {"detector cuda:0, pose cpu", test_det_gpu_pose_cpu},
    {"both on cuda:0", test_both_gpu},
    {"detector cpu, pose cuda:0 fp16", test_pose_gpu_fp16},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    if (!vg_test_gpu_present())
        return 77;
    int rc = vg_test_main(argc, argv, cases);
    for (int i = 0; i < MAX_OUTPUTS; i++) {
        free(g_det.ref[i]);
        free(g_pose.ref[i]);
    }
    free(g_det.in_data);
    free(g_pose.in_data);
    vg_model_destroy(g_det.m);
    vg_model_destroy(g_pose.m);
    return rc;
}
