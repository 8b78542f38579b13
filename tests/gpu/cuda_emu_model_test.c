/*
 * cuda_emu_model_test.c - real models through the engine's plan with the cuda
 * backend compiled over the emulated GPU (cuda_emu.h), against the same plan on
 * ref. Runs anywhere (label unit); needs ../shared (skipped without it).
 *
 * What this covers that the op tests do not: the engine's segmentation with node
 * by node fallback to ref (integer and shape ops of the TF.js post-processing),
 * elided views between and inside cuda segments, values crossing segments in
 * both directions, and the op mix of the real graphs (HRNet: 293 convs with
 * resizes and residual adds; MoveNet: NHWC, TF SAME stride-2 convs, depthwise).
 * Inputs: the ../shared/onnx HRNet input (ONNX Runtime preprocessing); random
 * images for MoveNet. Tolerances against the ref plan, per element:
 *   fp32: |d| <= 1e-3 + 1e-3 |ref|  (the ONNX reference tolerance)
 *   fp16 (HRNet heatmaps only): |d| <= 3% of the output range + 1e-3 (f16 storage
 *   of activations and weights through ~30 layers in sequence; see FP16_RANGE_FRAC)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_backend.h"
#include "engine/engine_impl.h"
#include "importers/importer.h"
#include "test.h"

/* fp16 tolerance as a fraction of the output's range (measured here: HRNet-mini's worst
 * heatmap element is off by 2.3% of the range, the mean by 0.3%) */
#define FP16_RANGE_FRAC 0.03

static unsigned g_seed = 5;

static void fill_input(const vg_tensor *t, void *data) {
    int64_t n = vg_shape_numel(&t->shape);
    for (int64_t i = 0; i < n; i++) {
        g_seed = g_seed * 1103515245u + 12345u;
        int v  = (int)((g_seed >> 8) % 256u);
        switch (t->dtype) {
        case VG_DTYPE_F32:
            ((float *)data)[i] = (float)v / 128.0f - 1.0f;
            break;
        case VG_DTYPE_I32:
            ((int32_t *)data)[i] = v;
            break;
        case VG_DTYPE_U8:
            ((uint8_t *)data)[i] = (uint8_t)v;
            break;
        default:
            VG_CHECK_MSG(false, "input dtype %s not handled by the test", vg_dtype_name(t->dtype));
        }
    }
}

/* Plans g on `pref` (+ ref fallback), runs it on inputs; out[o] receives a float copy of
 * graph output o (n[o] values). */
static void run_plan(vgi_graph *g, vgi_backend *pref, vgi_backend *ref, const vg_shape *shapes,
                     const void *const *inputs, float **out, int64_t *n) {
    vgi_err err;
    memset(&err, 0, sizeof(err));
    vgi_plan *p  = NULL;
    vg_status st = vgi_plan_create(g, shapes, pref, ref, false, &p, &err);
    VG_CHECK_MSG(st == VG_OK, "plan: %s", err.msg);
    int n_seg, n_pref, n_ref;
    vgi_plan_counts(p, &n_seg, &n_pref, &n_ref);
    printf("  %s: %d segments, %d nodes on %s, %d on ref\n", g->source, n_seg, n_pref,
           pref->iface->name, n_ref);
    for (int rep = 0; rep < 2; rep++) {
        st = vgi_plan_run(p, inputs, &err);
        VG_CHECK_MSG(st == VG_OK, "run: %s", err.msg);
    }
    for (int o = 0; o < g->n_outputs; o++) {
        const vg_tensor *t = vgi_plan_tensor(p, g->outputs[o].value);
        VG_CHECK(t->dtype == VG_DTYPE_F32 || t->dtype == VG_DTYPE_I32);
        n[o]   = vg_shape_numel(&t->shape);
        out[o] = malloc((size_t)(n[o] ? n[o] : 1) * sizeof(float));
        VG_CHECK(out[o]);
        for (int64_t i = 0; i < n[o]; i++)
            out[o][i] = t->dtype == VG_DTYPE_F32 ? ((const float *)t->data)[i]
                                                 : (float)((const int32_t *)t->data)[i];
    }
    vgi_plan_destroy(p);
}

static void check_model(const char *sub, bool onnx, const char *input_file, bool fp16) {
    const char *path = vg_test_require_shared(sub);
    vgi_err     err;
    memset(&err, 0, sizeof(err));
    vgi_graph *g  = NULL;
    vg_status  st = onnx ? vgi_onnx_import(path, &g, &err) : vgi_tfjs_import(path, &g, &err);
    VG_CHECK_MSG(st == VG_OK, "import %s: %s", path, err.msg);
    VG_CHECK_MSG(vgi_optimize(g, &err) == VG_OK, "optimize: %s", err.msg);
    vg_shape shapes[8];
    void    *inputs[8];
    VG_CHECK(g->n_inputs <= 8);
    for (int i = 0; i < g->n_inputs; i++) {
        shapes[i] = g->inputs[i].shape;
        for (int d = 0; d < shapes[i].ndim; d++)
            if (shapes[i].dims[d] < 0)
                shapes[i].dims[d] = 1;
        vg_tensor t = vg_tensor_make(g->inputs[i].dtype, shapes[i].ndim, shapes[i].dims, NULL);
        inputs[i]   = malloc(vg_tensor_nbytes(&t));
        VG_CHECK(inputs[i]);
        if (input_file && i == 0) {
            size_t n;
            void  *d = vg_test_read_file(vg_test_require_shared(input_file), &n);
            VG_CHECK(d && n == vg_tensor_nbytes(&t));
            memcpy(inputs[i], d, n);
            free(d);
        } else {
            fill_input(&t, inputs[i]);
        }
    }
    vgi_backend ref, cu;
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &ref, &err));
    int     no   = g->n_outputs;
    float **want = calloc((size_t)no, sizeof(float *)), **got = calloc((size_t)no, sizeof(float *));
    int64_t *n_ref = calloc((size_t)no, sizeof(int64_t)),
            *n_cu  = calloc((size_t)no, sizeof(int64_t));
    VG_CHECK(want && got && n_ref && n_cu);
    run_plan(g, &ref, &ref, shapes, (const void *const *)inputs, want, n_ref);
    for (int prec = 0; prec < (fp16 ? 2 : 1); prec++) {
        vgi_device d;
        memset(&d, 0, sizeof(d));
        snprintf(d.name, sizeof(d.name), "cuda:0");
        d.kind      = VGI_DEVICE_CUDA;
        d.precision = prec ? VGI_PRECISION_FP16 : VGI_PRECISION_FP32;
        d.n_threads = 1;
        VG_CHECK_OK(vgi_cuda_backend_create(&d, &cu, &err));
        run_plan(g, &cu, &ref, shapes, (const void *const *)inputs, got, n_cu);
        for (int o = 0; o < no; o++) {
            const float *w = want[o];
            VG_CHECK_INT_EQ(n_ref[o], n_cu[o]);
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t i = 0; i < n_cu[o]; i++)
                lo = fminf(lo, w[i]), hi = fmaxf(hi, w[i]);
            double  maxd = 0, sumd = 0;
            int64_t worst = 0, n_over = 0;
            for (int64_t i = 0; i < n_cu[o]; i++) {
                double dd  = fabs((double)got[o][i] - w[i]);
                double tol = prec ? FP16_RANGE_FRAC * (hi - lo) + 1e-3 : 1e-3 + 1e-3 * fabs(w[i]);
                if (dd > maxd)
                    maxd = dd, worst = i;
                sumd += dd;
                n_over += dd > tol;
            }
            printf("  %s %s output %d: %lld values, max |d| %.3g at %lld (cuda %.7g, ref %.7g), "
                   "mean |d| %.3g, range %.3g, %lld beyond tolerance\n",
                   sub, prec ? "fp16" : "fp32", o, (long long)n_cu[o], maxd, (long long)worst,
                   got[o][worst], w[worst], sumd / (double)(n_cu[o] ? n_cu[o] : 1),
                   (double)(hi - lo), (long long)n_over);
            VG_CHECK_MSG(n_over == 0, "%s %s output %d: %lld values beyond tolerance", sub,
                         prec ? "fp16" : "fp32", o, (long long)n_over);
            free(got[o]);
        }
        vgi_backend_destroy(&cu);
        VG_CHECK_INT_EQ(vgi_emu_live_allocations(), 0);
    }
    for (int o = 0; o < no; o++)
        free(want[o]);
    free(want), free(got), free(n_ref), free(n_cu);
    vgi_backend_destroy(&ref);
    for (int i = 0; i < g->n_inputs; i++)
        free(inputs[i]);
    vgi_graph_destroy(g);
}

static void test_hrnet(void) {
    check_model("onnx/hrnet-mini-w8.onnx", true, "onnx/hrnet-mini-w8.input.bin", true);
}

static void test_movenet(void) {
    check_model("models/movenet-lightning/model.json", false, NULL, false);
}

static void test_nanodet(void) {
    check_model("models/nanodet/model.json", false, NULL, false);
}

static void test_centernet(void) {
    check_model("models/centernet/model.json", false, NULL, false);
}

static void test_multipose(void) {
    check_model("models/movenet-multipose/model.json", false, NULL, false);
}

/* About two minutes more: only with VIGIL_SLOW_EMU=1. fp32 only: in fp16 the raw box
 * sizes of a few background rows, (2 sigmoid(t))^2 * anchor, move by up to 10% (4 of 2.1M
 * values beyond 3% of the range; mean |d| 0.02 px), an amplified f16 logit error. */
static void test_yolo(void) {
    const char *env = getenv("VIGIL_SLOW_EMU");
    if (!env || strcmp(env, "1"))
        VG_SKIP("set VIGIL_SLOW_EMU=1 to run (about two minutes)");
    check_model("onnx/yolov7-tiny.onnx", true, "onnx/yolov7-tiny.input.bin", false);
}

static const vg_test_case cases[] = {
    {"HRNet-mini (ONNX, NCHW) fp32 and fp16", test_hrnet},
    {"MoveNet Lightning (TF.js, NHWC, fallbacks and views)", test_movenet},
    {"NanoDet (TF.js)", test_nanodet},
    {"CenterNet (TF.js)", test_centernet},
    {"MoveNet MultiPose (TF.js)", test_multipose},
    {"YOLOv7-tiny (ONNX, NCHW) fp32", test_yolo},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
