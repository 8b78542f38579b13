/*
 * engine_test.c - engine core: TF.js importer (quantisation, bad files),
 * public API contracts, memory plan, plan cache, op semantics on ref.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend_impl.h"
#include "engine/engine_impl.h"
#include "engine/ir.h"
#include "engine_util.h"
#include "test.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/model.h"

/* ---- synthetic model ---------------------------------------------------------- */

static void fill_input(float *x, int n, int seed) {
    for (int i = 0; i < n; i++)
        x[i] = (float)(((i * 7 + seed * 13) % 23) - 11) * 0.125f;
}

static void test_synth_run(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    vg_model *m;
    VG_CHECK_MSG(vg_model_load(dir, NULL, &m) == VG_OK, "%s", vg_model_errmsg(NULL));
    VG_CHECK_INT_EQ(vg_model_input_count(m), 1);
    VG_CHECK_STR_EQ(vg_model_input(m, 0)->name, "x:0");
    VG_CHECK_INT_EQ(vg_model_output(m, 0)->shape.ndim, 4);
    VG_CHECK_INT_EQ(vg_model_output(m, 0)->shape.dims[3], 3);
    vg_model_stats st;
    vg_model_get_stats(m, &st);
    VG_CHECK_INT_EQ(st.param_count, 54 + 3 + 3);
    VG_CHECK_INT_EQ(st.file_weight_bytes, 54 + 6 + 6);
    VG_CHECK_INT_EQ(st.n_nodes, 2); /* conv (Identity removed) + mul */
    vg_session *s;
    VG_CHECK_OK(vg_session_create(m, NULL, &s));
    float x[32], want[12];
    fill_input(x, 32, 1);
    eng_synth_expected(x, want);
    vg_tensor in = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 2}, x);
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &in));
    VG_CHECK_OK(vg_session_run(s));
    vg_tensor out;
    VG_CHECK_OK(vg_session_get_output(s, "out", &out));
    VG_CHECK_INT_EQ(vg_tensor_nbytes(&out), sizeof(want));
    /* Tolerance: float32 rounding of a 18-term dot product. */
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(((float *)out.data)[i], want[i], 1e-5 + 1e-5 * fabs(want[i]));
    vg_session_destroy(s);
    vg_model_destroy(m);
    /* Same numbers without the optimiser (Identity kept, no folding). */
    vg_model_params mp = vg_model_params_default();
    mp.optimize        = false;
    VG_CHECK_OK(vg_model_load(dir, &mp, &m));
    vg_model_get_stats(m, &st);
    VG_CHECK_INT_EQ(st.n_nodes, 3);
    VG_CHECK_OK(vg_session_create(m, NULL, &s));
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &in));
    VG_CHECK_OK(vg_session_run(s));
    VG_CHECK_OK(vg_session_get_output(s, "out", &out));
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(((float *)out.data)[i], want[i], 1e-5 + 1e-5 * fabs(want[i]));
    vg_session_destroy(s);
    vg_model_destroy(m);
    eng_rmdir(dir);
}

/* The per-node profile: both nodes of the synthetic model (conv with its fused bias and
 * relu, then mul), in execution order, the convolution's multiply-accumulates from its
 * shapes (2 x 2 x 3 outputs x 2 input channels x 3 x 3 taps = 216), no time beyond the
 * run's, and nothing without params.profile. */
static void test_profile_nodes(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    vg_model *m;
    VG_CHECK_OK(vg_model_load(dir, NULL, &m));
    float x[32];
    fill_input(x, 32, 1);
    vg_tensor   in         = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 2}, x);
    const char *backends[] = {"ref", "cpu"};
    for (int b = 0; b < 2; b++) {
        vg_session_params sp = vg_session_params_default();
        sp.backend           = backends[b];
        sp.profile           = true;
        vg_session *s;
        VG_CHECK_OK(vg_session_create(m, &sp, &s));
        VG_CHECK_INT_EQ(vg_session_profile_nodes(s, NULL, 0), 0); /* no run yet */
        VG_CHECK_OK(vg_session_set_input(s, "x:0", &in));
        int64_t t0 = vg_clock_ns();
        VG_CHECK_OK(vg_session_run(s));
        int64_t         wall = vg_clock_ns() - t0;
        vg_profile_node nodes[4];
        memset(nodes, 0, sizeof(nodes));
        int n = vg_session_profile_nodes(s, nodes, 4);
        VG_CHECK_INT_EQ(n, 2);
        VG_CHECK_STR_EQ(nodes[0].op, "conv");
        VG_CHECK_STR_EQ(nodes[1].op, "mul");
        VG_CHECK(nodes[0].macs == 216 && nodes[1].macs == 0);
        VG_CHECK(nodes[0].name && nodes[1].name && nodes[0].backend);
        VG_CHECK(nodes[0].ns >= 0 && nodes[1].ns >= 0 && nodes[0].ns + nodes[1].ns <= wall);
        vg_profile_node one[2];
        memset(one, 0, sizeof(one));
        VG_CHECK_INT_EQ(vg_session_profile_nodes(s, one, 1), 2); /* counts all, fills 1 */
        VG_CHECK(one[0].macs == 216 && one[1].name == NULL);
        vg_session_destroy(s);
    }
    vg_session *s;
    VG_CHECK_OK(vg_session_create(m, NULL, &s)); /* profile off */
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &in));
    VG_CHECK_OK(vg_session_run(s));
    VG_CHECK_INT_EQ(vg_session_profile_nodes(s, NULL, 0), 0);
    vg_session_destroy(s);
    vg_model_destroy(m);
    eng_rmdir(dir);
}

/* A second run with the same shape must not allocate at all; nor alternating shapes once
 * each has run after the largest. */
static void test_run_no_alloc(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, true));
    vg_model   *m;
    vg_session *s;
    VG_CHECK_OK(vg_model_load(dir, NULL, &m));
    VG_CHECK_INT_EQ(vg_model_input(m, 0)->shape.dims[0], -1);
    VG_CHECK_OK(vg_session_create(m, NULL, &s));
    float x1[32], x3[96];
    fill_input(x1, 32, 2);
    fill_input(x3, 96, 3);
    vg_tensor a = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 2}, x1);
    vg_tensor b = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){3, 4, 4, 2}, x3);
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &a));
    VG_CHECK_OK(vg_session_run(s));
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &b));
    VG_CHECK_OK(vg_session_run(s));
    vg_tensor out;
    VG_CHECK_OK(vg_session_get_output(s, "out", &out));
    VG_CHECK_INT_EQ(out.shape.dims[0], 3);
    float want[12];
    eng_synth_expected(x3 + 64, want);
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(((float *)out.data)[24 + i], want[i], 1e-5 + 1e-5 * fabs(want[i]));
    /* The larger shape grew the session's shared arena, which drops the plans that used
     * the old one: batch 1 is built once more. After that both plans are cached and
     * alternating shapes allocates nothing. */
    VG_CHECK_OK(vg_session_set_input(s, "x:0", &a));
    VG_CHECK_OK(vg_session_run(s));
    VG_CHECK_OK(vg_session_get_output(s, "out", &out));
    VG_CHECK_INT_EQ(out.shape.dims[0], 1);
    eng_synth_expected(x1, want);
    for (int i = 0; i < 12; i++)
        VG_CHECK_NEAR(((float *)out.data)[i], want[i], 1e-5 + 1e-5 * fabs(want[i]));
    vg_test_oom_begin(0);
    vg_status r1 = vg_session_set_input(s, "x:0", &a);
    vg_status r2 = r1 ? r1 : vg_session_run(s);
    vg_status r3 = r2 ? r2 : vg_session_set_input(s, "x:0", &b);
    vg_status r4 = r3 ? r3 : vg_session_run(s);
    long      n  = vg_test_oom_count();
    vg_test_oom_end();
    VG_CHECK_OK(r4);
    VG_CHECK_INT_EQ(n, 0);
    vg_session_destroy(s);
    vg_model_destroy(m);
    eng_rmdir(dir);
}

/*
 * vg_session_input_buffer: the session's own memory, bound as the input. Writing there
 * gives the same results as binding the caller's memory, for each batch size of a
 * dynamic model (ref and cpu); the buffer is the memory the plan reads (a run with it
 * allocates and copies nothing the caller could see: poisoning the caller's copy after
 * binding the buffer changes nothing); wrong names and shapes are refused with the
 * binding left as it was; the other inputs must be bound first.
 */
static void test_input_buffer(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, true));
    vg_model *m;
    VG_CHECK_OK(vg_model_load(dir, NULL, &m));
    const char *backends[] = {"ref", "cpu"};
    for (int b = 0; b < 2; b++) {
        vg_session_params sp = vg_session_params_default();
        sp.backend           = backends[b];
        vg_session *s;
        VG_CHECK_OK(vg_session_create(m, &sp, &s));
        for (int n = 1; n <= 3; n++) {
            float x[96];
            fill_input(x, 32 * n, 10 + n);
            vg_shape  shape = {.ndim = 4, .dims = {n, 4, 4, 2}};
            vg_tensor buf;
            VG_CHECK_OK(vg_session_input_buffer(s, "x:0", &shape, &buf));
            VG_CHECK(buf.data && buf.dtype == VG_DTYPE_F32);
            VG_CHECK(buf.shape.ndim == 4 && buf.shape.dims[0] == n && buf.shape.dims[3] == 2);
            VG_CHECK_INT_EQ(vg_tensor_nbytes(&buf), 32 * n * sizeof(float));
            VG_CHECK_INT_EQ((uintptr_t)buf.data % 64, 0);
            memcpy(buf.data, x, sizeof(float) * 32 * (size_t)n);
            VG_CHECK_OK(vg_session_run(s));
            vg_tensor out;
            VG_CHECK_OK(vg_session_get_output(s, "out", &out));
            VG_CHECK_INT_EQ(out.shape.dims[0], n);
            for (int k = 0; k < n; k++) {
                float want[12];
                eng_synth_expected(x + 32 * k, want);
                for (int i = 0; i < 12; i++)
                    VG_CHECK_NEAR(((float *)out.data)[12 * k + i], want[i],
                                  1e-5 + 1e-5 * fabs(want[i]));
            }
            /* the caller's memory bound again: the same numbers, then the buffer again
             * (same plan, same memory) */
            vg_tensor in = vg_tensor_make(VG_DTYPE_F32, 4, shape.dims, x);
            VG_CHECK_OK(vg_session_set_input(s, "x:0", &in));
            VG_CHECK_OK(vg_session_run(s));
            VG_CHECK_OK(vg_session_get_output(s, "out", &out));
            float     first = ((float *)out.data)[0];
            vg_tensor again;
            VG_CHECK_OK(vg_session_input_buffer(s, "x:0", &shape, &again));
            VG_CHECK(again.data == buf.data);
            memcpy(again.data, x, sizeof(float) * 32 * (size_t)n);
            for (int i = 0; i < 32 * n; i++)
                x[i] = NAN; /* no longer bound: the run must not read it */
            VG_CHECK_OK(vg_session_run(s));
            VG_CHECK_OK(vg_session_get_output(s, "out", &out));
            VG_CHECK_NEAR(((float *)out.data)[0], first, 0.0);
        }
        /* refusals leave the binding alone */
        vg_shape  bad = {.ndim = 4, .dims = {1, 4, 5, 2}}, three = {.ndim = 3, .dims = {1, 4, 4}};
        vg_tensor t;
        VG_CHECK_INT_EQ(vg_session_input_buffer(s, "x:0", &bad, &t), VG_E_SHAPE);
        VG_CHECK(strstr(vg_session_errmsg(s), "x:0") != NULL);
        VG_CHECK_INT_EQ(vg_session_input_buffer(s, "x:0", &three, &t), VG_E_SHAPE);
        VG_CHECK_INT_EQ(vg_session_input_buffer(s, "nope", &bad, &t), VG_E_NOT_FOUND);
        VG_CHECK_INT_EQ(vg_session_input_buffer(s, "x:0", NULL, &t), VG_E_INVALID_ARG);
        VG_CHECK_OK(vg_session_run(s)); /* still batch 3 from the buffer */
        vg_tensor out;
        VG_CHECK_OK(vg_session_get_output(s, "out", &out));
        VG_CHECK_INT_EQ(out.shape.dims[0], 3);
        vg_session_destroy(s);
    }
    vg_model_destroy(m);
    eng_rmdir(dir);
}

typedef struct oom_ctx {
    const char *dir;
    vg_model   *m;
    vg_session *s;
} oom_ctx;

static vg_status oom_body(void *arg) {
    oom_ctx *c   = arg;
    c->m         = NULL;
    c->s         = NULL;
    vg_status st = vg_model_load(c->dir, NULL, &c->m);
    if (st)
        return st;
    st = vg_session_create(c->m, NULL, &c->s);
    if (!st) {
        float     x[32] = {0};
        vg_tensor in    = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 2}, x);
        st              = vg_session_set_input(c->s, "x:0", &in);
        if (!st)
            st = vg_session_run(c->s);
    }
    if (st) {
        vg_session_destroy(c->s);
        vg_model_destroy(c->m);
        c->s = NULL;
        c->m = NULL;
    }
    return st;
}

static void oom_cleanup(void *arg) {
    oom_ctx *c = arg;
    vg_session_destroy(c->s);
    vg_model_destroy(c->m);
}

static void test_oom_sweep(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    oom_ctx c = {dir, NULL, NULL};
    vg_log_set_level(VG_LOG_QUIET);
    vg_test_oom_sweep(oom_body, oom_cleanup, &c, 2000);
    vg_log_set_level(VG_LOG_INFO);
    eng_rmdir(dir);
}

/* ---- bad model files ------------------------------------------------------------ */

/* Copies movenet-lightning's model.json through `edit` into a temp folder
 * with a copy of (or, with `link`, a symlink to) its shard; returns the folder. */
static const char *bad_model_ex(void (*edit)(json_t *root, const char *dir), bool link) {
    const char *src = vg_test_require_shared("models/movenet-lightning/model.json");
    char        shard[4096];
    snprintf(shard, sizeof(shard), "%s", src);
    strcpy(strrchr(shard, '/') + 1, "movenet-lightning.bin");
    json_error_t je;
    json_t      *root = json_load_file(src, 0, &je);
    VG_CHECK(root);
    const char *dir = eng_tmpdir(1);
    VG_CHECK(dir);
    char link_path[1024];
    snprintf(link_path, sizeof(link_path), "%s/movenet-lightning.bin", dir);
    if (link) {
        VG_CHECK(symlink(shard, link_path) == 0);
    } else {
        size_t len;
        char  *data = vg_test_read_file(shard, &len);
        VG_CHECK(data && eng_write(dir, "movenet-lightning.bin", data, len));
        free(data);
    }
    if (edit)
        edit(root, dir);
    char out[1024];
    snprintf(out, sizeof(out), "%s/model.json", dir);
    VG_CHECK(json_dump_file(root, out, JSON_COMPACT) == 0);
    json_decref(root);
    return dir;
}

static const char *bad_model(void (*edit)(json_t *root, const char *dir)) {
    return bad_model_ex(edit, false);
}

static void expect_load_error(const char *dir, vg_status want, const char *const *needles) {
    vg_model *m = (vg_model *)1;
    vg_log_set_level(VG_LOG_QUIET);
    vg_status st = vg_model_load(dir, NULL, &m);
    vg_log_set_level(VG_LOG_INFO);
    const char *msg = vg_model_errmsg(NULL);
    printf("  -> %s: %s\n", vg_status_name(st), msg);
    VG_CHECK(m == NULL);
    VG_CHECK_STATUS(st, want);
    for (int i = 0; needles && needles[i]; i++)
        VG_CHECK_MSG(strstr(msg, needles[i]), "message lacks '%s': %s", needles[i], msg);
}

static void test_bad_truncated_json(void) {
    const char *dir = bad_model(NULL);
    char        p[1024];
    snprintf(p, sizeof(p), "%s/model.json", dir);
    size_t len;
    char  *text = vg_test_read_file(p, &len);
    VG_CHECK(text);
    VG_CHECK(eng_write(dir, "model.json", text, len / 2));
    free(text);
    expect_load_error(dir, VG_E_FORMAT, (const char *[]){"model.json", "invalid JSON", NULL});
    eng_rmdir(dir);
}

static void edit_no_topology(json_t *root, const char *dir) {
    (void)dir;
    json_object_del(root, "modelTopology");
}

static void test_bad_garbled_json(void) {
    const char *dir = bad_model(edit_no_topology);
    expect_load_error(dir, VG_E_FORMAT, (const char *[]){"model.json", "modelTopology", NULL});
    eng_rmdir(dir);
    dir = eng_tmpdir(1);
    VG_CHECK(eng_write(dir, "model.json", "[1, 2, 3]", 9));
    expect_load_error(dir, VG_E_FORMAT, (const char *[]){"model.json", "not a JSON object", NULL});
    VG_CHECK(eng_write(dir, "model.json", "\x01\xff garbage", 10));
    expect_load_error(dir, VG_E_FORMAT, (const char *[]){"model.json", NULL});
    eng_rmdir(dir);
}

static void edit_missing_shard(json_t *root, const char *dir) {
    (void)dir;
    json_t *paths =
        json_object_get(json_array_get(json_object_get(root, "weightsManifest"), 0), "paths");
    json_array_set_new(paths, 0, json_string("gone.bin"));
}

static void test_bad_missing_shard(void) {
    const char *dir = bad_model(edit_missing_shard);
    expect_load_error(dir, VG_E_NOT_FOUND, (const char *[]){"gone.bin", "model.json", NULL});
    eng_rmdir(dir);
}

static void edit_short_shard(json_t *root, const char *dir) {
    (void)root;
    char p[1024];
    snprintf(p, sizeof(p), "%s/movenet-lightning.bin", dir);
    size_t len;
    char  *data = vg_test_read_file(p, &len);
    VG_CHECK(data);
    VG_CHECK(eng_write(dir, "movenet-lightning.bin", data, len - 1000));
    free(data);
}

static void test_bad_short_shard(void) {
    const char *dir = bad_model(edit_short_shard);
    expect_load_error(dir, VG_E_FORMAT,
                      (const char *[]){"model.json", "movenet-lightning.bin", "truncated", NULL});
    eng_rmdir(dir);
}

static json_t *find_weight(json_t *root, const char *name) {
    json_t *ws =
        json_object_get(json_array_get(json_object_get(root, "weightsManifest"), 0), "weights");
    size_t  i;
    json_t *w;
    json_array_foreach(
        ws, i, w) if (!strcmp(json_string_value(json_object_get(w, "name")), name)) return w;
    return NULL;
}

#define CONV1                                                                                      \
    "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/Conv1"

static void edit_bad_dtype(json_t *root, const char *dir) {
    (void)dir;
    json_object_set_new(find_weight(root, CONV1 "/Conv2D_weights"), "dtype",
                        json_string("complex64"));
}

static void test_bad_dtype(void) {
    const char *dir = bad_model(edit_bad_dtype);
    expect_load_error(dir, VG_E_UNSUPPORTED,
                      (const char *[]){"model.json", "Conv1/Conv2D_weights", "complex64", NULL});
    eng_rmdir(dir);
}

static json_t *find_node(json_t *root, const char *name) {
    json_t *ns = json_object_get(json_object_get(root, "modelTopology"), "node");
    size_t  i;
    json_t *n;
    json_array_foreach(
        ns, i, n) if (!strcmp(json_string_value(json_object_get(n, "name")), name)) return n;
    return NULL;
}

static void edit_unknown_op(json_t *root, const char *dir) {
    (void)dir;
    json_object_set_new(find_node(root, "StatefulPartitionedCall/Sigmoid"), "op",
                        json_string("FancySigmoid"));
}

static void test_bad_unknown_op(void) {
    const char *dir = bad_model(edit_unknown_op);
    expect_load_error(
        dir, VG_E_UNSUPPORTED,
        (const char *[]){"model.json", "StatefulPartitionedCall/Sigmoid", "FancySigmoid", NULL});
    eng_rmdir(dir);
}

/* Same bytes, different shape: [3,3,3,32] -> [3,3,6,16] no longer fits the 3-channel input. */
static void edit_bad_shape(json_t *root, const char *dir) {
    (void)dir;
    json_t *shape = json_pack("[iiii]", 3, 3, 6, 16);
    json_object_set_new(find_weight(root, CONV1 "/Conv2D_weights"), "shape", shape);
}

static void test_bad_shapes(void) {
    const char *dir = bad_model(edit_bad_shape);
    expect_load_error(dir, VG_E_SHAPE,
                      (const char *[]){"model.json", "Conv1_relu/Relu6", "channels", NULL});
    eng_rmdir(dir);
}

static void edit_escape(json_t *root, const char *dir) {
    (void)dir;
    json_t *paths =
        json_object_get(json_array_get(json_object_get(root, "weightsManifest"), 0), "paths");
    json_array_set_new(paths, 0, json_string("../movenet-lightning.bin"));
}

static void edit_symlink_escape(json_t *root, const char *dir) {
    (void)root;
    (void)dir;
    /* The shard in the folder is a symlink to the shared folder: outside. */
}

static void test_bad_path_escape(void) {
    const char *dir = bad_model(edit_escape);
    expect_load_error(dir, VG_E_FORMAT,
                      (const char *[]){"../movenet-lightning.bin", "model folder", NULL});
    eng_rmdir(dir);
    dir = bad_model_ex(edit_symlink_escape, true);
    expect_load_error(dir, VG_E_FORMAT, (const char *[]){"outside the model folder", NULL});
    eng_rmdir(dir);
    expect_load_error("/nonexistent/vigil/model", VG_E_NOT_FOUND,
                      (const char *[]){"/nonexistent", NULL});
}

static void test_bad_session_use(void) {
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    vg_model   *m;
    vg_session *s;
    VG_CHECK_OK(vg_model_load(dir, NULL, &m));
    vg_log_set_level(VG_LOG_QUIET);
    vg_session_params sp = vg_session_params_default();
    sp.backend           = "tpu";
    VG_CHECK_STATUS(vg_session_create(m, &sp, &s), VG_E_INVALID_ARG);
    VG_CHECK(s == NULL && strstr(vg_model_errmsg(m), "tpu"));
    sp.backend = "ref";
    sp.device  = "gpu:7";
    VG_CHECK_STATUS(vg_session_create(m, &sp, &s), VG_E_INVALID_ARG);
    sp.device = "cpu:0";
    VG_CHECK_OK(vg_session_create(m, &sp, &s));
    VG_CHECK_STATUS(vg_session_run(s), VG_E_INVALID_ARG);
    VG_CHECK(strstr(vg_session_errmsg(s), "x:0"));
    int32_t   xi[32] = {0};
    float     xf[32] = {0};
    vg_tensor bad    = vg_tensor_make(VG_DTYPE_I32, 4, (int64_t[]){1, 4, 4, 2}, xi);
    VG_CHECK_STATUS(vg_session_set_input(s, "x:0", &bad), VG_E_SHAPE);
    VG_CHECK(strstr(vg_session_errmsg(s), "float32"));
    bad = vg_tensor_make(VG_DTYPE_F32, 4, (int64_t[]){1, 4, 2, 4}, xf);
    VG_CHECK_STATUS(vg_session_set_input(s, "x:0", &bad), VG_E_SHAPE);
    VG_CHECK_STATUS(vg_session_set_input(s, "nope", &bad), VG_E_NOT_FOUND);
    vg_tensor out;
    VG_CHECK_STATUS(vg_session_get_output(s, "out", &out), VG_E_INVALID_ARG);
    VG_CHECK_STATUS(vg_session_get_output(s, "nope", &out), VG_E_NOT_FOUND);
    vg_log_set_level(VG_LOG_INFO);
    vg_session_destroy(s);
    vg_model_destroy(m);
    eng_rmdir(dir);
    vg_model *mm = (vg_model *)1;
    vg_log_set_level(VG_LOG_QUIET);
    VG_CHECK(vg_model_load("/tmp/does-not-exist.onnx", NULL, &mm) != VG_OK && mm == NULL);
    vg_log_set_level(VG_LOG_INFO);
    VG_CHECK(strstr(vg_model_errmsg(NULL), "does-not-exist.onnx"));
}

/* ---- IR-level: plans and ops on ref ------------------------------------------------ */

typedef struct gtest {
    vgi_graph  *g;
    vgi_backend ref;
    vgi_plan   *plan;
} gtest;

static int add_input(vgi_graph *g, const char *name, vg_dtype dt, int nd, const int64_t *dims) {
    vg_shape s = {nd, {0}};
    for (int i = 0; i < nd; i++)
        s.dims[i] = dims[i];
    int id;
    VG_CHECK_OK(vgi_graph_add_input(g, name, name, dt, &s, &id));
    return id;
}

static int add_const_i32(vgi_graph *g, const char *name, int n, const int32_t *v) {
    int32_t *d = vg_malloc((size_t)(n ? n : 1) * 4);
    memcpy(d, v, (size_t)n * 4);
    vg_shape s = {1, {n}};
    int      id;
    VG_CHECK_OK(vgi_graph_add_const(g, name, VG_DTYPE_I32, &s, d, &id));
    return id;
}

static int add_node(vgi_graph *g, vgi_op op, const char *name, const int *in, int n_in, int n_out,
                    const vgi_attrs *a) {
    int id;
    VG_CHECK_OK(vgi_graph_add_node(g, op, name, in, n_in, n_out, a, &id));
    return g->nodes[id].out[0];
}

/* Plans g for the declared input shapes and runs it on ref with `inputs`. */
static void gt_run(gtest *t, const void *const *inputs) {
    vgi_err err = {{0}};
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &t->ref, &err));
    vg_shape shapes[4];
    for (int i = 0; i < t->g->n_inputs; i++)
        shapes[i] = t->g->inputs[i].shape;
    vg_status st = vgi_plan_create(t->g, shapes, &t->ref, &t->ref, false, &t->plan, &err);
    VG_CHECK_MSG(st == VG_OK, "plan: %s", err.msg);
    st = vgi_plan_run(t->plan, inputs, &err);
    VG_CHECK_MSG(st == VG_OK, "run: %s", err.msg);
}

static void gt_free(gtest *t) {
    vgi_plan_destroy(t->plan);
    vgi_graph_destroy(t->g);
}

static void test_memory_plan_reuse(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int v = add_input(t.g, "x", VG_DTYPE_F32, 2, (int64_t[]){256, 1024}); /* 1 MiB */
    for (int i = 0; i < 10; i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "r%d", i);
        v = add_node(t.g, i % 2 ? VGI_OP_ABS : VGI_OP_NEG, nm, &v, 1, 1, NULL);
    }
    VG_CHECK_OK(vgi_graph_add_output(t.g, "y", v, VG_DTYPE_F32, NULL));
    float *x = malloc(256 * 1024 * 4);
    for (int i = 0; i < 256 * 1024; i++)
        x[i] = (float)(i % 7) - 3.0f;
    const void *ins[1] = {x};
    gt_run(&t, ins);
    /* 11 one-MiB values, but at most input + two live at a time. */
    size_t arena = vgi_plan_arena_bytes(t.plan);
    printf("  arena %zu bytes for 11 MiB of values\n", arena);
    VG_CHECK(arena <= 3u * 1024 * 1024);
    const float *y = vgi_plan_tensor(t.plan, v)->data;
    for (int i = 0; i < 256 * 1024; i++)
        VG_CHECK_NEAR(y[i], fabsf(x[i]), 0);
    free(x);
    gt_free(&t);
}

static void test_ops_slicing(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int x = add_input(t.g, "x", VG_DTYPE_I32, 3, (int64_t[]){2, 3, 4});
    /* x[:, 1, ::-2] with shrink on axis 1, begin/end mask on 0, negative stride on 2 */
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.strided_slice.begin_mask       = 1;
    a.strided_slice.end_mask         = 5;
    a.strided_slice.shrink_axis_mask = 2;
    a.strided_slice.begin_mask |= 4;
    int b = add_const_i32(t.g, "b", 3, (int32_t[]){0, 1, 0});
    int e = add_const_i32(t.g, "e", 3, (int32_t[]){0, 2, 0});
    int s = add_const_i32(t.g, "s", 3, (int32_t[]){1, 1, -2});
    int y = add_node(t.g, VGI_OP_STRIDED_SLICE, "ss", (int[]){x, b, e, s}, 4, 1, &a);
    /* new axis + ellipsis: x[..., None, 1:3] */
    memset(&a, 0, sizeof(a));
    a.strided_slice.ellipsis_mask = 1;
    a.strided_slice.new_axis_mask = 2;
    int b2                        = add_const_i32(t.g, "b2", 3, (int32_t[]){0, 0, 1});
    int e2                        = add_const_i32(t.g, "e2", 3, (int32_t[]){0, 0, 3});
    int s2                        = add_const_i32(t.g, "s2", 3, (int32_t[]){1, 1, 1});
    int y2 = add_node(t.g, VGI_OP_STRIDED_SLICE, "ss2", (int[]){x, b2, e2, s2}, 4, 1, &a);
    VG_CHECK_OK(vgi_graph_add_output(t.g, "y", y, VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "y2", y2, VG_DTYPE_UNKNOWN, NULL));
    int32_t xd[24];
    for (int i = 0; i < 24; i++)
        xd[i] = i;
    gt_run(&t, (const void *[]){xd});
    const vg_tensor *ty = vgi_plan_tensor(t.plan, y);
    VG_CHECK_INT_EQ(ty->shape.ndim, 2);
    VG_CHECK_INT_EQ(ty->shape.dims[1], 2);
    const int32_t *yd = ty->data; /* rows x[0,1,3], x[0,1,1]; x[1,1,3], x[1,1,1] */
    VG_CHECK_INT_EQ(yd[0], 7);
    VG_CHECK_INT_EQ(yd[1], 5);
    VG_CHECK_INT_EQ(yd[2], 19);
    VG_CHECK_INT_EQ(yd[3], 17);
    const vg_tensor *t2 = vgi_plan_tensor(t.plan, y2);
    VG_CHECK_INT_EQ(t2->shape.ndim, 4);
    VG_CHECK_INT_EQ(t2->shape.dims[2], 1);
    VG_CHECK_INT_EQ(t2->shape.dims[3], 2);
    VG_CHECK_INT_EQ(((int32_t *)t2->data)[0], 1);
    VG_CHECK_INT_EQ(((int32_t *)t2->data)[3], 6);
    gt_free(&t);
}

static void test_ops_search(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int       x = add_input(t.g, "x", VG_DTYPE_F32, 1, (int64_t[]){8});
    int       k = add_const_i32(t.g, "k", 1, (int32_t[]){4});
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.topk.axis        = -1;
    a.topk.largest     = true;
    a.topk.sorted      = true;
    a.topk.index_dtype = VG_DTYPE_I32;
    int tk;
    VG_CHECK_OK(vgi_graph_add_node(t.g, VGI_OP_TOPK, "topk", (int[]){x, k}, 2, 2, &a, &tk));
    memset(&a, 0, sizeof(a));
    a.arg.axis      = 0;
    a.arg.out_dtype = VG_DTYPE_I32;
    int am          = add_node(t.g, VGI_OP_ARGMAX, "argmax", &x, 1, 1, &a);
    VG_CHECK_OK(vgi_graph_add_output(t.g, "v", t.g->nodes[tk].out[0], VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "i", t.g->nodes[tk].out[1], VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "a", am, VG_DTYPE_UNKNOWN, NULL));
    int   vi = t.g->nodes[tk].out[0], ii = t.g->nodes[tk].out[1];
    float xd[8] = {0.5f, 2.0f, 0.0f, 2.0f, 0.0f, 3.0f, 2.0f, 0.0f};
    gt_run(&t, (const void *[]){xd});
    const float   *v   = vgi_plan_tensor(t.plan, vi)->data;
    const int32_t *idx = vgi_plan_tensor(t.plan, ii)->data;
    /* Ties: the lower index first (TF.js). */
    int32_t want_i[4] = {5, 1, 3, 6};
    for (int q = 0; q < 4; q++)
        VG_CHECK_INT_EQ(idx[q], want_i[q]);
    VG_CHECK_NEAR(v[0], 3.0f, 0);
    VG_CHECK_NEAR(v[3], 2.0f, 0);
    VG_CHECK_INT_EQ(*(const int32_t *)vgi_plan_tensor(t.plan, am)->data, 5);
    gt_free(&t);
}

static void test_ops_arith(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int a  = add_input(t.g, "a", VG_DTYPE_I32, 1, (int64_t[]){4});
    int b  = add_input(t.g, "b", VG_DTYPE_I32, 1, (int64_t[]){1});
    int fd = add_node(t.g, VGI_OP_FLOOR_DIV, "fd", (int[]){a, b}, 2, 1, NULL);
    int fm = add_node(t.g, VGI_OP_FLOOR_MOD, "fm", (int[]){a, b}, 2, 1, NULL);
    int fa = add_input(t.g, "fa", VG_DTYPE_F32, 2, (int64_t[]){2, 1});
    int fb = add_input(t.g, "fb", VG_DTYPE_F32, 1, (int64_t[]){3});
    int sd = add_node(t.g, VGI_OP_SQUARED_DIFF, "sd", (int[]){fa, fb}, 2, 1, NULL);
    VG_CHECK_OK(vgi_graph_add_output(t.g, "fd", fd, VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "fm", fm, VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "sd", sd, VG_DTYPE_UNKNOWN, NULL));
    int32_t ad[4] = {7, -7, 6, -1}, bd[1] = {-3};
    float   fad[2] = {1, 2}, fbd[3] = {0, 1, 4};
    gt_run(&t, (const void *[]){ad, bd, fad, fbd});
    const int32_t *q = vgi_plan_tensor(t.plan, fd)->data, *r = vgi_plan_tensor(t.plan, fm)->data;
    int32_t        wq[4] = {-3, 2, -2, 0}, wr[4] = {-2, -1, 0, -1};
    for (int i = 0; i < 4; i++) {
        VG_CHECK_INT_EQ(q[i], wq[i]);
        VG_CHECK_INT_EQ(r[i], wr[i]);
    }
    const vg_tensor *ts = vgi_plan_tensor(t.plan, sd);
    VG_CHECK_INT_EQ(ts->shape.ndim, 2);
    VG_CHECK_INT_EQ(ts->shape.dims[0], 2);
    VG_CHECK_INT_EQ(ts->shape.dims[1], 3);
    float ws[6] = {1, 0, 9, 4, 1, 4};
    for (int i = 0; i < 6; i++)
        VG_CHECK_NEAR(((float *)ts->data)[i], ws[i], 0);
    gt_free(&t);
}

/* PadV2 with -inf then a VALID 3x3/2 max-pool (NanoDet's stem). */
static void test_ops_pad_pool_resize(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int       x = add_input(t.g, "x", VG_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 1});
    int       p = add_const_i32(t.g, "p", 8, (int32_t[]){0, 0, 1, 1, 1, 1, 0, 0});
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.pad.value = -INFINITY;
    int padded  = add_node(t.g, VGI_OP_PAD, "pad", (int[]){x, p}, 2, 1, &a);
    memset(&a, 0, sizeof(a));
    a.pool.layout    = VGI_LAYOUT_NHWC;
    a.pool.pad_mode  = VGI_PAD_VALID;
    a.pool.kernel[0] = a.pool.kernel[1] = 3;
    a.pool.strides[0] = a.pool.strides[1] = 2;
    int mp                                = add_node(t.g, VGI_OP_MAX_POOL, "mp", &padded, 1, 1, &a);
    /* Bilinear 4 -> 8, half-pixel and TF legacy (asymmetric). */
    int sz = add_const_i32(t.g, "sz", 2, (int32_t[]){1, 8});
    memset(&a, 0, sizeof(a));
    a.resize.mode  = VGI_RESIZE_BILINEAR;
    a.resize.coord = VGI_COORD_HALF_PIXEL;
    int row        = add_input(t.g, "row", VG_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 1});
    int rh         = add_node(t.g, VGI_OP_RESIZE, "rh", (int[]){row, sz}, 2, 1, &a);
    a.resize.coord = VGI_COORD_ASYMMETRIC;
    int ra         = add_node(t.g, VGI_OP_RESIZE, "ra", (int[]){row, sz}, 2, 1, &a);
    VG_CHECK_OK(vgi_graph_add_output(t.g, "mp", mp, VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "rh", rh, VG_DTYPE_UNKNOWN, NULL));
    VG_CHECK_OK(vgi_graph_add_output(t.g, "ra", ra, VG_DTYPE_UNKNOWN, NULL));
    float xd[16], rd[4] = {0, 4, 8, 16};
    for (int i = 0; i < 16; i++)
        xd[i] = -(float)i; /* all negative: padding must not win */
    gt_run(&t, (const void *[]){xd, rd});
    const vg_tensor *tm = vgi_plan_tensor(t.plan, mp);
    VG_CHECK_INT_EQ(tm->shape.dims[1], 2);
    const float *m = tm->data;
    VG_CHECK_NEAR(m[0], 0.0f, 0);  /* window rows -1..1, cols -1..1 */
    VG_CHECK_NEAR(m[1], -1.0f, 0); /* cols 1..3 */
    VG_CHECK_NEAR(m[2], -4.0f, 0);
    VG_CHECK_NEAR(m[3], -5.0f, 0);
    const float *h = vgi_plan_tensor(t.plan, rh)->data, *s = vgi_plan_tensor(t.plan, ra)->data;
    /* half-pixel: src = (o + 0.5) / 2 - 0.5 -> o=0: -0.25 (clamped: 0), o=1: 0.25, o=7: 3.25 */
    VG_CHECK_NEAR(h[0], 0.0f, 1e-6);
    VG_CHECK_NEAR(h[1], 1.0f, 1e-6);
    VG_CHECK_NEAR(h[2], 3.0f, 1e-6);
    VG_CHECK_NEAR(h[7], 16.0f, 1e-6);
    /* asymmetric: src = o / 2 */
    VG_CHECK_NEAR(s[1], 2.0f, 1e-6);
    VG_CHECK_NEAR(s[6], 16.0f, 1e-6);
    VG_CHECK_NEAR(s[7], 16.0f, 1e-6);
    gt_free(&t);
}

/* Shape subgraph (Shape -> StridedSlice -> Pack -> Reshape) is evaluated at plan time. */
static void test_shape_subgraph(void) {
    gtest t = {0};
    VG_CHECK_OK(vgi_graph_create(&t.g));
    int       x = add_input(t.g, "x", VG_DTYPE_F32, 3, (int64_t[]){2, 3, 5});
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.shape.dtype = VG_DTYPE_I32;
    a.shape.end   = INT64_MAX;
    int shp       = add_node(t.g, VGI_OP_SHAPE, "shape", &x, 1, 1, &a);
    memset(&a, 0, sizeof(a));
    a.strided_slice.shrink_axis_mask = 1;
    int      b0                      = add_const_i32(t.g, "b0", 1, (int32_t[]){0});
    int      e0                      = add_const_i32(t.g, "e0", 1, (int32_t[]){1});
    int      s0                      = add_const_i32(t.g, "s0", 1, (int32_t[]){1});
    int      d0 = add_node(t.g, VGI_OP_STRIDED_SLICE, "d0", (int[]){shp, b0, e0, s0}, 4, 1, &a);
    int      m1 = add_const_i32(t.g, "m1", 1, (int32_t[]){-1});
    vg_shape sc = {0, {0}};
    int32_t *mv = vg_malloc(4);
    *mv         = -1;
    VG_CHECK_OK(vgi_graph_add_const(t.g, "minus1", VG_DTYPE_I32, &sc, mv, &m1));
    memset(&a, 0, sizeof(a));
    int packed = add_node(t.g, VGI_OP_PACK, "pack", (int[]){d0, m1}, 2, 1, &a);
    int y      = add_node(t.g, VGI_OP_RESHAPE, "reshape", (int[]){x, packed}, 2, 1, NULL);
    int z      = add_node(t.g, VGI_OP_NEG, "neg", &y, 1, 1, NULL);
    VG_CHECK_OK(vgi_graph_add_output(t.g, "z", z, VG_DTYPE_UNKNOWN, NULL));
    float xd[30];
    for (int i = 0; i < 30; i++)
        xd[i] = (float)i;
    gt_run(&t, (const void *[]){xd});
    const vg_tensor *tz = vgi_plan_tensor(t.plan, z);
    VG_CHECK_INT_EQ(tz->shape.ndim, 2);
    VG_CHECK_INT_EQ(tz->shape.dims[0], 2);
    VG_CHECK_INT_EQ(tz->shape.dims[1], 15);
    VG_CHECK_NEAR(((float *)tz->data)[29], -29.0f, 0);
    int segs, npref, nref;
    vgi_plan_counts(t.plan, &segs, &npref, &nref);
    VG_CHECK_INT_EQ(npref + nref, 1); /* only neg runs; reshape is a view, the rest plan-time */
    gt_free(&t);
}

/* NCHW model converted to NHWC ops (NanoDet style): Pad -> T -> Conv -> bias Add ->
 * T -> LeakyRelu -> Pad -> T -> Conv -> T, and a concat of two transposed branches.
 * The optimiser must remove the transposes and pads and give identical numbers. */
static int add_const_f32(vgi_graph *g, const char *name, int nd, const int64_t *dims, float scale) {
    vg_shape s = {nd, {0}};
    int64_t  n = 1;
    for (int i = 0; i < nd; i++)
        n *= s.dims[i] = dims[i];
    float *d = vg_malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)((i * 29 + 7) % 19 - 9) * scale;
    int id;
    VG_CHECK_OK(vgi_graph_add_const(g, name, VG_DTYPE_F32, &s, d, &id));
    return id;
}

static vgi_graph *build_nchw_graph(int *out_value) {
    vgi_graph *g;
    VG_CHECK_OK(vgi_graph_create(&g));
    int       x    = add_input(g, "x", VG_DTYPE_F32, 4, (int64_t[]){1, 3, 9, 7});
    int       pads = add_const_i32(g, "pads", 8, (int32_t[]){0, 0, 0, 0, 1, 1, 1, 1});
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    int p1 = add_node(g, VGI_OP_PAD, "pad1", (int[]){x, pads}, 2, 1, &a);
    memset(&a, 0, sizeof(a));
    a.transpose.n = 4;
    memcpy(a.transpose.perm, (int64_t[]){0, 2, 3, 1}, sizeof(int64_t) * 4);
    vgi_attrs to_nhwc = a;
    memcpy(a.transpose.perm, (int64_t[]){0, 3, 1, 2}, sizeof(int64_t) * 4);
    vgi_attrs to_nchw = a;
    int       t1      = add_node(g, VGI_OP_TRANSPOSE, "t1", &p1, 1, 1, &to_nhwc);
    memset(&a, 0, sizeof(a));
    a.conv.layout     = VGI_LAYOUT_NHWC;
    a.conv.pad_mode   = VGI_PAD_VALID;
    a.conv.strides[0] = a.conv.strides[1] = 1;
    a.conv.dilations[0] = a.conv.dilations[1] = 1;
    a.conv.kernel[0] = a.conv.kernel[1] = 3;
    a.conv.groups                       = 1;
    vgi_attrs conv                      = a;
    int       w1                        = add_const_f32(g, "w1", 4, (int64_t[]){5, 3, 3, 3}, 0.05f);
    int       c1 = add_node(g, VGI_OP_CONV, "c1", (int[]){t1, w1}, 2, 1, &conv);
    int       b1 = add_const_f32(g, "b1", 1, (int64_t[]){5}, 0.1f);
    int       a1 = add_node(g, VGI_OP_ADD, "bias1", (int[]){c1, b1}, 2, 1, NULL);
    int       t2 = add_node(g, VGI_OP_TRANSPOSE, "t2", &a1, 1, 1, &to_nchw);
    memset(&a, 0, sizeof(a));
    a.unary.alpha = 0.1f;
    int l1        = add_node(g, VGI_OP_LEAKY_RELU, "leaky1", &t2, 1, 1, &a);
    memset(&a, 0, sizeof(a));
    int p2 = add_node(g, VGI_OP_PAD, "pad2", (int[]){l1, pads}, 2, 1, &a);
    int t3 = add_node(g, VGI_OP_TRANSPOSE, "t3", &p2, 1, 1, &to_nhwc);
    int w2 = add_const_f32(g, "w2", 4, (int64_t[]){4, 5, 3, 3}, 0.03f);
    int c2 = add_node(g, VGI_OP_CONV, "c2", (int[]){t3, w2}, 2, 1, &conv);
    int t4 = add_node(g, VGI_OP_TRANSPOSE, "t4", &c2, 1, 1, &to_nchw);
    int w3 = add_const_f32(g, "w3", 4, (int64_t[]){2, 5, 3, 3}, 0.02f);
    int t5 = add_node(g, VGI_OP_TRANSPOSE, "t5", &l1, 1, 1, &to_nhwc);
    int p3 =
        add_node(g, VGI_OP_PAD, "pad3",
                 (int[]){t5, add_const_i32(g, "pads_nhwc", 8, (int32_t[]){0, 0, 1, 1, 1, 1, 0, 0})},
                 2, 1, &a);
    int c3 = add_node(g, VGI_OP_CONV, "c3", (int[]){p3, w3}, 2, 1, &conv);
    int t6 = add_node(g, VGI_OP_TRANSPOSE, "t6", &c3, 1, 1, &to_nchw);
    memset(&a, 0, sizeof(a));
    a.axis.axis = 1;
    int cat     = add_node(g, VGI_OP_CONCAT, "cat", (int[]){t4, t6}, 2, 1, &a);
    int sig     = add_node(g, VGI_OP_SIGMOID, "sig", &cat, 1, 1, NULL);
    VG_CHECK_OK(vgi_graph_add_output(g, "y", sig, VG_DTYPE_UNKNOWN, NULL));
    *out_value = sig;
    return g;
}

static void test_optimizer_layout_cleanup(void) {
    gtest a = {0}, b = {0};
    int   va, vb;
    a.g         = build_nchw_graph(&va);
    b.g         = build_nchw_graph(&vb);
    vgi_err err = {{0}};
    VG_CHECK_MSG(vgi_optimize(b.g, &err) == VG_OK, "%s", err.msg);
    int n_t = 0, n_pad = 0, n_leaky = 0;
    for (int i = 0; i < b.g->n_nodes; i++) {
        n_t += b.g->nodes[i].op == VGI_OP_TRANSPOSE;
        n_pad += b.g->nodes[i].op == VGI_OP_PAD;
        n_leaky += b.g->nodes[i].op == VGI_OP_LEAKY_RELU;
    }
    printf("  %d nodes -> %d (%d transposes, %d pads, %d leaky left)\n", a.g->n_nodes, b.g->n_nodes,
           n_t, n_pad, n_leaky);
    VG_CHECK_INT_EQ(n_pad, 0);
    VG_CHECK_INT_EQ(n_leaky, 0);
    VG_CHECK(n_t <= 2); /* the input's and the output's */
    vb = b.g->outputs[0].value;
    float x[189];
    fill_input(x, 189, 5);
    gt_run(&a, (const void *[]){x});
    gt_run(&b, (const void *[]){x});
    const vg_tensor *ya = vgi_plan_tensor(a.plan, va), *yb = vgi_plan_tensor(b.plan, vb);
    VG_CHECK(vg_shape_equal(&ya->shape, &yb->shape));
    VG_CHECK_INT_EQ(ya->shape.dims[1], 6);
    /* The rewrites are exact (same float operations in the same order). */
    for (int64_t i = 0; i < vg_shape_numel(&ya->shape); i++)
        VG_CHECK_NEAR(((float *)yb->data)[i], ((float *)ya->data)[i], 0);
    gt_free(&a);
    gt_free(&b);
}

static void test_f16(void) {
    VG_CHECK_NEAR(vg_f16_to_f32(0x3c00), 1.0f, 0);
    VG_CHECK_NEAR(vg_f16_to_f32(0x3155), 0.1666259765625f, 0); /* hard-swish 1/6 */
    VG_CHECK(isinf(vg_f16_to_f32(0xfc00)) && vg_f16_to_f32(0xfc00) < 0);
    VG_CHECK_NEAR(vg_f16_to_f32(0x0001), 5.960464477539063e-08f, 0); /* smallest subnormal */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue; /* NaN */
        VG_CHECK_INT_EQ(vg_f32_to_f16(vg_f16_to_f32((uint16_t)h)), h);
    }
}

static const vg_test_case cases[] = {
    {"float16 conversion", test_f16},
    {"synthetic model: quantised weights, fused conv", test_synth_run},
    {"per-node profile", test_profile_nodes},
    {"second run allocates nothing; plan per shape", test_run_no_alloc},
    {"input written into the session's buffer", test_input_buffer},
    {"out-of-memory sweep: load, session, run", test_oom_sweep},
    {"bad: truncated model.json", test_bad_truncated_json},
    {"bad: garbled model.json", test_bad_garbled_json},
    {"bad: missing weight shard", test_bad_missing_shard},
    {"bad: short weight shard", test_bad_short_shard},
    {"bad: unsupported weight dtype", test_bad_dtype},
    {"bad: unknown op", test_bad_unknown_op},
    {"bad: inconsistent shapes", test_bad_shapes},
    {"bad: shard path escapes the folder", test_bad_path_escape},
    {"bad: session misuse", test_bad_session_use},
    {"memory plan reuses buffers", test_memory_plan_reuse},
    {"ops: strided slice masks", test_ops_slicing},
    {"ops: top-k and arg-max ties", test_ops_search},
    {"ops: floor div/mod, broadcasting", test_ops_arith},
    {"ops: pad -inf, max pool, resize modes", test_ops_pad_pool_resize},
    {"shape subgraph evaluated at plan time", test_shape_subgraph},
    {"optimiser: transposes, pads, bias and activation fusion", test_optimizer_layout_cleanup},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
