/*
 * onnx_ref_test.c - the ../shared/onnx reference models through the ONNX
 * importer and the engine, on the backend given by `--backend ref|cpu`.
 *
 * References: ONNX Runtime 1.30.0 outputs stored in ../shared/onnx
 * (see its README). Tolerances from that README: YOLO box columns 0-3
 * |d| <= 1e-3 * (1 + |ref|); YOLO objectness/class columns and HRNet
 * heatmaps |d| <= 1e-3. Dynamic batch: batch N must equal N runs of batch 1
 * within the same 1e-3.
 *
 * `--device D --precision fp32|fp16` run it on a GPU (tests/gpu builds it
 * with VG_TEST_GPU: exit 77 without a GPU). fp16: each difference is first
 * reduced by 3% of the range (max - min) of the reference values it is
 * compared with (the same column group), then held to the fp32 tolerance.
 * The golden test (tests/golden/golden_test.c) explains the 2% it uses for
 * the TF.js models; these deeper networks get 3% because the backend's host
 * emulation (tests/gpu/cuda_emu_model_test.c), which rounds every stored
 * activation and weight to f16 as the GPU does, measured 2.3% of the range
 * at most on HRNet-mini's heatmaps (mean 0.3%).
 * YOLOv7-tiny in fp16 is held to 0.05 (boxes) and 0.06 (objectness/class)
 * after that slack instead of 1e-3: 1.5 x what PyTorch's own fp16 (autocast,
 * channels_last, on an H100) measures by this same metric on the same model,
 * input and reference, 0.034 and 0.041 (bench/gpu/bench.py models prints it).
 * A random-weight detector has no margin around its sigmoids, so rounding the
 * logits to f16 moves some boxes by tens of pixels in either implementation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/model.h"

static const char *backend    = "ref";
static const char *device     = NULL;
static const char *precision  = NULL;
static double      slack_frac = 0.0; /* 0.03 for fp16 */

#ifdef VG_TEST_GPU
#include "gpu_util.h"
#endif

static float *read_floats(const char *sub, size_t want) {
    const char *path = vg_test_require_shared(sub);
    size_t      n;
    float      *d = vg_test_read_file(path, &n);
    VG_CHECK_MSG(d && n == want * sizeof(float), "%s: %zu bytes, expected %zu", path, n,
                 want * sizeof(float));
    return d;
}

static vg_model *load(const char *sub) {
    const char *path = vg_test_require_shared(sub);
    vg_model   *m;
    int64_t     t0 = vg_clock_ns();
    VG_CHECK_MSG(vg_model_load(path, NULL, &m) == VG_OK, "%s: %s", path, vg_model_errmsg(NULL));
    printf("  load %s: %.0f ms\n", sub, (double)(vg_clock_ns() - t0) / 1e6);
    return m;
}

static vg_session *session(const vg_model *m) {
    vg_session_params sp = vg_session_params_default();
    sp.backend           = backend;
    sp.device            = device;
    sp.precision         = precision;
    vg_session *s;
    vg_status   st = vg_session_create(m, &sp, &s);
    if (st == VG_E_UNSUPPORTED)
        VG_SKIP("backend not built in");
    VG_CHECK_MSG(st == VG_OK, "session: %s", vg_model_errmsg(NULL));
    return s;
}

/* Runs s on input [n, c, h, w]; returns the output view (borrowed). */
static vg_tensor run(vg_session *s, const char *in_name, float *x, const int64_t dims[4],
                     const char *label) {
    vg_tensor in = vg_tensor_make(VG_DTYPE_F32, 4, dims, x);
    VG_CHECK_OK(vg_session_set_input(s, in_name, &in));
    int64_t t0 = vg_clock_ns();
    VG_CHECK_MSG(vg_session_run(s) == VG_OK, "run: %s", vg_session_errmsg(s));
    printf("  %s run (%s, batch %lld): %.1f ms\n", label, backend, (long long)dims[0],
           (double)(vg_clock_ns() - t0) / 1e6);
    vg_tensor out;
    VG_CHECK_OK(vg_session_get_output_at(s, 0, &out));
    VG_CHECK(out.dtype == VG_DTYPE_F32);
    return out;
}

/* max |got - ref| / (rel ? 1 + |ref| : 1) over n values; with fp16, |got - ref|
 * is first reduced by slack_frac times the range of the compared reference values. */
static double max_err(const float *got, const float *ref, size_t n, size_t stride, size_t c0,
                      size_t c1, bool rel) {
    double worst = 0, slack = 0;
    if (slack_frac > 0) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i += stride)
            for (size_t c = c0; c < c1; c++) {
                lo = ref[i + c] < lo ? ref[i + c] : lo;
                hi = ref[i + c] > hi ? ref[i + c] : hi;
            }
        slack = hi > lo ? slack_frac * (hi - lo) : 0;
    }
    for (size_t i = 0; i < n; i += stride) {
        for (size_t c = c0; c < c1; c++) {
            double d = fabs((double)got[i + c] - ref[i + c]);
            if (d <= slack) /* NaN stays NaN */
                d = 0;
            else if (d > slack)
                d -= slack;
            if (rel)
                d /= 1 + fabs(ref[i + c]);
            if (!(d <= worst))
                worst = isnan(d) ? INFINITY : d;
        }
    }
    return worst;
}

static void test_yolov7_tiny(void) {
    const size_t  nin = 3 * 640 * 640, nout = 25200 * 85;
    float        *x   = read_floats("onnx/yolov7-tiny.input.bin", nin);
    float        *ref = read_floats("onnx/yolov7-tiny.output.bin", nout);
    vg_model     *m   = load("onnx/yolov7-tiny.onnx");
    vg_session   *s   = session(m);
    const int64_t d[] = {1, 3, 640, 640};
    vg_tensor     out = run(s, "images", x, d, "yolov7-tiny");
    VG_CHECK(out.shape.ndim == 3 && out.shape.dims[1] == 25200 && out.shape.dims[2] == 85);
    double box = max_err(out.data, ref, nout, 85, 0, 4, true);
    double cls = max_err(out.data, ref, nout, 85, 4, 85, false);
    double tb = slack_frac > 0 ? 0.05 : 1e-3, tc = slack_frac > 0 ? 0.06 : 1e-3;
    printf("  yolov7-tiny: boxes max |d|/(1+|ref|) = %.3g (tol %.3g), obj/class max |d| = %.3g "
           "(tol %.3g)\n",
           box, tb, cls, tc);
    VG_CHECK(box <= tb);
    VG_CHECK(cls <= tc);
    vg_session_destroy(s);
    vg_model_destroy(m);
    free(x);
    free(ref);
}

static void test_hrnet_static(void) {
    const size_t  nin = 3 * 256 * 192, nout = 17 * 64 * 48;
    float        *x   = read_floats("onnx/hrnet-mini-w8.input.bin", nin);
    float        *ref = read_floats("onnx/hrnet-mini-w8.output.bin", nout);
    vg_model     *m   = load("onnx/hrnet-mini-w8.onnx");
    vg_session   *s   = session(m);
    const int64_t d[] = {1, 3, 256, 192};
    vg_tensor     out = run(s, "input", x, d, "hrnet-mini");
    VG_CHECK(out.shape.ndim == 4 && out.shape.dims[1] == 17 && out.shape.dims[2] == 64);
    double e = max_err(out.data, ref, nout, 1, 0, 1, false);
    printf("  hrnet-mini: heatmaps max |d| = %.3g (tol 1e-3)\n", e);
    VG_CHECK(e <= 1e-3);
    vg_session_destroy(s);
    vg_model_destroy(m);
    free(x);
    free(ref);
}

/* The cpu backend's debug line for each segment it prepares says how many weight tensors
 * it packed and how many it shared with the session's other plans; summed here. */
typedef struct pack_count {
    int segments, packed, shared;
} pack_count;

static void count_packing(vg_log_level level, const char *ctx, const char *msg, void *user) {
    (void)level;
    pack_count *pc = user;
    const char *w  = strstr(msg, "weights: ");
    int         packed, shared;
    double      mb;
    if (strcmp(ctx, "cpu") || !w ||
        sscanf(w, "weights: %d packed here (%lf MB), %d shared", &packed, &mb, &shared) != 3)
        return;
    pc->segments++;
    pc->packed += packed;
    pc->shared += shared;
}

/*
 * cpu backend: a session with more batch sizes than it keeps plans for (the oldest plans
 * go, and with them their references to the packed weights the plans share) still gives
 * batch-1 results for every item, and a new plan packs no weights of its own.
 */
static void check_plan_churn(vg_session *s, float *x, const float *single) {
    const size_t one = 3 * 256 * 192, oone = 17 * 64 * 48;
    float       *xb = malloc(12 * one * sizeof(float));
    VG_CHECK(xb);
    for (int b = 0; b < 12; b++)
        memcpy(xb + (size_t)b * one, x + (size_t)(b % 2) * one, one * sizeof(float));
    pack_count pc = {0, 0, 0};
    vg_log_set_sink(count_packing, &pc);
    vg_log_level was = vg_log_get_level();
    vg_log_set_level(VG_LOG_DEBUG);
    double worst = 0;
    for (int n = 3; n <= 12; n++) { /* 10 new shapes: plans for 1 and 2 (and more) go */
        const int64_t dn[] = {n, 3, 256, 192};
        vg_tensor     out  = run(s, "input", xb, dn, "hrnet-mini-dynbatch");
        for (int b = 0; b < n; b++) {
            double e = max_err((const float *)out.data + (size_t)b * oone,
                               single + (size_t)(b % 2) * oone, oone, 1, 0, 1, false);
            worst    = e > worst ? e : worst;
        }
    }
    const int64_t d1[] = {1, 3, 256, 192};
    vg_tensor     o1   = run(s, "input", x + one, d1, "hrnet-mini-dynbatch"); /* rebuilt */
    double        e1   = max_err(o1.data, single + oone, oone, 1, 0, 1, false);
    vg_log_set_level(was);
    vg_log_set_sink(NULL, NULL);
    printf("  batches 3..12 then 1 again: max |d| = %.3g, %.3g (tol 1e-3); %d segments packed "
           "%d weight tensors, shared %d\n",
           worst, e1, pc.segments, pc.packed, pc.shared);
    VG_CHECK(worst <= 1e-3 && e1 <= 1e-3);
    VG_CHECK(pc.segments >= 11);   /* every new plan was prepared and logged */
    VG_CHECK_INT_EQ(pc.packed, 0); /* the first plans' weights served them all */
    VG_CHECK(pc.shared > 0);
    free(xb);
}

/* The flip batch (crop, mirrored crop) against ONNX Runtime; then batch N
 * made of those crops against N runs of batch 1, and batch 1 again after
 * a larger batch (plans are cached per shape). */
static void test_hrnet_dynbatch(void) {
    const size_t      one = 3 * 256 * 192, oone = 17 * 64 * 48;
    float            *x   = read_floats("onnx/hrnet-mini-w8-dynbatch.flip2.input.bin", 2 * one);
    float            *ref = read_floats("onnx/hrnet-mini-w8-dynbatch.flip2.output.bin", 2 * oone);
    vg_model         *m   = load("onnx/hrnet-mini-w8-dynbatch.onnx");
    const vg_io_info *ii  = vg_model_input(m, 0);
    VG_CHECK(ii && ii->shape.ndim == 4 && ii->shape.dims[0] == -1);
    vg_session   *s    = session(m);
    const int64_t d2[] = {2, 3, 256, 192};
    vg_tensor     out  = run(s, "input", x, d2, "hrnet-mini-dynbatch");
    VG_CHECK(out.shape.dims[0] == 2);
    double e = max_err(out.data, ref, 2 * oone, 1, 0, 1, false);
    printf("  hrnet-mini-dynbatch flip2: max |d| = %.3g (tol 1e-3)\n", e);
    VG_CHECK(e <= 1e-3);

    /* batch 1 of each crop */
    float *single = malloc(2 * oone * sizeof(float));
    VG_CHECK(single);
    const int64_t d1[] = {1, 3, 256, 192};
    for (int b = 0; b < 2; b++) {
        vg_tensor o1 = run(s, "input", x + (size_t)b * one, d1, "hrnet-mini-dynbatch");
        memcpy(single + (size_t)b * oone, o1.data, oone * sizeof(float));
    }
    /* the flip batch itself against its two batch-1 runs */
    out          = run(s, "input", x, d2, "hrnet-mini-dynbatch");
    double worst = max_err(out.data, single, 2 * oone, 1, 0, 1, false);
    printf("  batch 2 vs 2 runs of batch 1: max |d| = %.3g (tol 1e-3)\n", worst);
    VG_CHECK(worst <= 1e-3);
    /* batch 64 (the largest supported) on the faster backends: crops alternate */
    float *xb = NULL;
    if (strcmp(backend, "ref")) {
        int n = 64;
        xb    = malloc((size_t)n * one * sizeof(float));
        VG_CHECK(xb);
        for (int b = 0; b < n; b++)
            memcpy(xb + (size_t)b * one, x + (size_t)(b % 2) * one, one * sizeof(float));
        const int64_t dn[] = {n, 3, 256, 192};
        out                = run(s, "input", xb, dn, "hrnet-mini-dynbatch");
        VG_CHECK(out.shape.dims[0] == n);
        worst = 0;
        for (int b = 0; b < n; b++) {
            double eb = max_err((const float *)out.data + (size_t)b * oone,
                                single + (size_t)(b % 2) * oone, oone, 1, 0, 1, false);
            worst     = eb > worst ? eb : worst;
        }
        printf("  batch %d vs %d runs of batch 1: max |d| = %.3g (tol 1e-3)\n", n, n, worst);
        VG_CHECK(worst <= 1e-3);
    }
    /* back to batch 1 (cached plan) */
    vg_tensor o1 = run(s, "input", x, d1, "hrnet-mini-dynbatch");
    VG_CHECK(max_err(o1.data, single, oone, 1, 0, 1, false) <= 1e-6);
    if (!strcmp(backend, "cpu"))
        check_plan_churn(s, x, single);
    vg_session_destroy(s);
    vg_model_destroy(m);
    free(xb);
    free(single);
    free(x);
    free(ref);
}

static const vg_test_case cases[] = {
    {"yolov7-tiny vs ONNX Runtime", test_yolov7_tiny},
    {"hrnet-mini static vs ONNX Runtime", test_hrnet_static},
    {"hrnet-mini dynamic batch", test_hrnet_dynbatch},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    /* `--backend NAME` is ours; the remaining arguments select cases. */
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc)
            precision = argv[++i];
        else
            argv[k++] = argv[i];
    }
    argv[k] = NULL;
    if (precision && !strcmp(precision, "fp16"))
        slack_frac = 0.03;
    printf("backend: %s%s%s%s%s\n", backend, device ? " on " : "", device ? device : "",
           precision ? ", " : "", precision ? precision : "");
#ifdef VG_TEST_GPU
    if (!vg_test_gpu_present())
        return 77;
#endif
    return vg_test_main(k, argv, cases);
}
