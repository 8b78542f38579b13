/*
 * onnx_load_test.c - ONNX loading: initializer storage forms, graph checks,
 * bad input (truncated/garbled protobuf, size mismatches, escaping external
 * paths, cycles, dangling inputs, duplicate producers, absurd dims), the
 * unsupported-op report, IR building (BatchNorm folding, activation fusion,
 * checked numerically on the ref and cpu backends) and an out-of-memory sweep. Models are built in
 * memory with the protoc-c generated structs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "importers/onnx/onnx_impl.h"
#include "importers/onnx/onnx_import.h"
#include "onnx_model_builder.h"
#include "test.h"
#include "vigil/alloc.h"
#include "vigil/model.h"

static char errbuf[8192];

static vg_status load(const mb_model *b, const char *base_dir, vgi_onnx_model **m) {
    size_t               n;
    uint8_t             *buf = mb_pack(b, &n);
    vgi_onnx_load_params p   = {.base_dir = base_dir};
    VG_CHECK(buf);
    vg_status s = vgi_onnx_model_load_buffer(buf, n, &p, m, errbuf, sizeof errbuf);
    free(buf);
    return s;
}

/* Expects status want and a message containing needle. */
static void expect_fail(const mb_model *b, const char *base_dir, vg_status want,
                        const char *needle) {
    vgi_onnx_model *m = (vgi_onnx_model *)1;
    VG_CHECK_STATUS(load(b, base_dir, &m), want);
    VG_CHECK(m == NULL);
    VG_CHECK_MSG(strstr(errbuf, needle), "message '%s' lacks '%s'", errbuf, needle);
}

static const int64_t d4[] = {1, 2, 2, 2};

/* x -> Relu -> y */
static void relu_model(mb_model *b) {
    static const char *in[] = {"x"}, *out[] = {"y"};
    mb_init(b, 13);
    mb_input(b, "x", 1, d4, 4);
    mb_node(b, "relu1", "Relu", in, 1, out, 1);
    mb_output(b, "y", 1);
}

static void test_minimal(void) {
    mb_model b;
    relu_model(&b);
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, NULL, &m));
    VG_CHECK_INT_EQ(m->n_nodes, 1);
    VG_CHECK_INT_EQ(m->n_inputs, 1);
    VG_CHECK_INT_EQ(m->opset, 13);
    VG_CHECK_STR_EQ(m->values[m->inputs[0]].name, "x");
    VG_CHECK_INT_EQ(m->values[m->inputs[0]].dims[2], 2);
    VG_CHECK_OK(vgi_onnx_model_check_ops(m, errbuf, sizeof errbuf));
    vgi_onnx_model_destroy(m);
}

static void test_symbolic_batch(void) {
    static const char   *in[] = {"x"}, *out[] = {"y"};
    static const int64_t dyn[] = {-1, 3, 8, 8};
    mb_model             b;
    mb_init(&b, 12);
    mb_input(&b, "x", 1, dyn, 4);
    mb_node(&b, "r", "Relu", in, 1, out, 1);
    mb_output(&b, "y", 1);
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, NULL, &m));
    VG_CHECK_INT_EQ(m->values[m->inputs[0]].dims[0], -1);
    VG_CHECK_STR_EQ(m->values[m->inputs[0]].dim_param[0], "batch");
    vgi_onnx_model_destroy(m);
}

/* Every storage form of an initializer decodes to the same values. */
static void test_initializer_forms(void) {
    static const char   *in[] = {"x", "w"}, *out[] = {"y"};
    static const int64_t dw[]   = {2, 2};
    float                ref[4] = {1.5f, -2.0f, 3.25f, 0.0f};
    for (int form = 0; form < 2; form++) {
        mb_model b;
        mb_init(&b, 13);
        mb_input(&b, "x", 1, dw, 2);
        Onnx__TensorProto *t = mb_init_raw(&b, "w", 1, dw, 2, ref, sizeof ref);
        if (form == 1) {
            t->has_raw_data = 0;
            t->n_float_data = 4;
            t->float_data   = ref;
        }
        mb_node(&b, "add", "Add", in, 2, out, 1);
        mb_output(&b, "y", 1);
        vgi_onnx_model *m;
        VG_CHECK_OK(load(&b, NULL, &m));
        int v = vgi_onnx_model_find(m, "w");
        VG_CHECK(v >= 0 && m->values[v].init >= 0);
        VG_CHECK(!memcmp(m->inits[m->values[v].init].data, ref, sizeof ref));
        vgi_onnx_model_destroy(m);
    }
    /* int64_data, int32_data for int8 and bool */
    int64_t  i64[3] = {-1, 0, 1LL << 40};
    int32_t  i32[3] = {-128, 5, 1};
    int64_t  d3[]   = {3};
    mb_model b;
    relu_model(&b);
    Onnx__TensorProto *t1 = mb_init_raw(&b, "a", 7, d3, 1, NULL, 0);
    t1->has_raw_data      = 0;
    t1->n_int64_data      = 3;
    t1->int64_data        = i64;
    Onnx__TensorProto *t2 = mb_init_raw(&b, "b", 3, d3, 1, NULL, 0);
    t2->has_raw_data      = 0;
    t2->n_int32_data      = 3;
    t2->int32_data        = i32;
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, NULL, &m));
    const vgi_onnx_tensor *a = &m->inits[m->values[vgi_onnx_model_find(m, "a")].init];
    const vgi_onnx_tensor *c = &m->inits[m->values[vgi_onnx_model_find(m, "b")].init];
    VG_CHECK_INT_EQ(((int64_t *)a->data)[2], 1LL << 40);
    VG_CHECK_INT_EQ(((int8_t *)c->data)[0], -128);
    VG_CHECK_INT_EQ(((int8_t *)c->data)[1], 5);
    vgi_onnx_model_destroy(m);
}

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vg-onnx-test-XXXXXX");
    VG_CHECK(mkdtemp(tmpdir));
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    VG_CHECK(f);
    VG_CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void test_external_data(void) {
    make_tmpdir();
    char  path[512], sub[512];
    float data[6] = {0, 0, 1, 2, 3, 4}; /* 8 bytes of padding, then the tensor */
    snprintf(path, sizeof path, "%s/weights.bin", tmpdir);
    write_file(path, data, sizeof data);
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    mkdir(sub, 0700);
    snprintf(path, sizeof path, "%s/sub/w2.bin", tmpdir);
    write_file(path, data, sizeof data);
    static const int64_t dw[] = {2, 2};

    /* valid: offset 8, in the model folder and in a subfolder */
    mb_model b;
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "weights.bin", "8");
    mb_init_external(&b, "w2", dw, 2, "sub/w2.bin", "8");
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, tmpdir, &m));
    const vgi_onnx_tensor *w = &m->inits[m->values[vgi_onnx_model_find(m, "w")].init];
    VG_CHECK(!memcmp(w->data, data + 2, 16));
    vgi_onnx_model_destroy(m);

    /* escapes: "..", absolute path, symlink pointing outside */
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "../weights.bin", NULL);
    expect_fail(&b, sub, VG_E_FORMAT, "escapes the model's folder");
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "/etc/passwd", NULL);
    expect_fail(&b, tmpdir, VG_E_FORMAT, "must be a relative path");
    snprintf(path, sizeof path, "%s/sub/link.bin", tmpdir);
    char target[512];
    snprintf(target, sizeof target, "%s/weights.bin", tmpdir);
    VG_CHECK(symlink(target, path) == 0);
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "link.bin", NULL);
    expect_fail(&b, sub, VG_E_FORMAT, "outside the model's folder");

    /* range beyond the end of the file, missing file, no folder known */
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "weights.bin", "16");
    expect_fail(&b, tmpdir, VG_E_FORMAT, "beyond the end");
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "missing.bin", NULL);
    expect_fail(&b, tmpdir, VG_E_IO, "missing.bin");
    relu_model(&b);
    mb_init_external(&b, "w", dw, 2, "weights.bin", NULL);
    expect_fail(&b, NULL, VG_E_UNSUPPORTED, "external file");

    unlink(path);
    snprintf(path, sizeof path, "%s/sub/w2.bin", tmpdir);
    unlink(path);
    rmdir(sub);
    snprintf(path, sizeof path, "%s/weights.bin", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

static void test_initializer_size_mismatch(void) {
    static const int64_t dw[]    = {2, 3};
    float                data[4] = {0};
    mb_model             b;
    relu_model(&b);
    mb_init_raw(&b, "w", 1, dw, 2, data, sizeof data);
    expect_fail(&b, NULL, VG_E_FORMAT, "raw_data holds 16 bytes but shape and dtype FLOAT need 24");
    relu_model(&b);
    Onnx__TensorProto *t = mb_init_raw(&b, "w", 1, dw, 2, NULL, 0);
    t->has_raw_data      = 0;
    t->n_float_data      = 4;
    t->float_data        = data;
    expect_fail(&b, NULL, VG_E_FORMAT, "holds 4 values but its shape needs 6");
}

static void test_absurd_dims(void) {
    /* 2^31 x 2^31 elements claimed, no data: must fail before allocating */
    static const int64_t huge[] = {1LL << 31, 1LL << 31};
    mb_model             b;
    relu_model(&b);
    mb_init_raw(&b, "w", 1, huge, 2, NULL, 0);
    expect_fail(&b, NULL, VG_E_FORMAT, "absurd");
    static const int64_t neg[] = {4, -3};
    relu_model(&b);
    mb_init_raw(&b, "w", 1, neg, 2, NULL, 0);
    expect_fail(&b, NULL, VG_E_FORMAT, "absurd");
    static const int64_t big_in[] = {1, 1LL << 40};
    static const char   *in[] = {"x"}, *out[] = {"y"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, big_in, 2);
    mb_node(&b, "r", "Relu", in, 1, out, 1);
    mb_output(&b, "y", 1);
    expect_fail(&b, NULL, VG_E_FORMAT, "graph input 'x': dimension 1");
}

static void test_graph_errors(void) {
    mb_model b;
    /* cycle: a = Relu(b), b = Relu(a) */
    static const char *ia[] = {"b"}, *oa[] = {"a"}, *ib[] = {"a"}, *ob[] = {"b"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_node(&b, "n1", "Relu", ia, 1, oa, 1);
    mb_node(&b, "n2", "Relu", ib, 1, ob, 1);
    mb_output(&b, "b", 1);
    expect_fail(&b, NULL, VG_E_FORMAT, "cycle");

    /* dangling input */
    static const char *id[] = {"nowhere"}, *od[] = {"y"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_node(&b, "reader", "Relu", id, 1, od, 1);
    mb_output(&b, "y", 1);
    expect_fail(&b, NULL, VG_E_FORMAT, "node 'reader' (Relu) reads 'nowhere'");

    /* two producers of one value */
    static const char *ix[] = {"x"}, *oy[] = {"y"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_node(&b, "p1", "Relu", ix, 1, oy, 1);
    mb_node(&b, "p2", "Sigmoid", ix, 1, oy, 1);
    mb_output(&b, "y", 1);
    expect_fail(&b, NULL, VG_E_FORMAT,
                "'y' is produced twice: by node 'p1' (Relu) and by node 'p2'");

    /* a node overwriting a graph input */
    static const char *ox[] = {"x"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_node(&b, "w", "Relu", ix, 1, ox, 1);
    mb_output(&b, "x", 1);
    expect_fail(&b, NULL, VG_E_FORMAT, "already a graph input");

    /* output nobody produces */
    relu_model(&b);
    mb_output(&b, "ghost", 1);
    expect_fail(&b, NULL, VG_E_FORMAT, "graph output 'ghost'");

    /* opsets beyond 17; Relu-6 semantics do not reach back to opset 5 */
    relu_model(&b);
    b.opset.version = 5;
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, NULL, &m));
    VG_CHECK_STATUS(vgi_onnx_model_check_ops(m, errbuf, sizeof errbuf), VG_E_UNSUPPORTED);
    VG_CHECK_MSG(strstr(errbuf, "(Relu, opset 5): implemented for opsets 6-17"), "%s", errbuf);
    vgi_onnx_model_destroy(m);
    relu_model(&b);
    b.opset.version = 18;
    expect_fail(&b, NULL, VG_E_UNSUPPORTED, "opset 18");
}

static void test_unsupported_listed_once(void) {
    static const char *i1[] = {"x"}, *o1[] = {"a"}, *o2[] = {"b"}, *i3[] = {"b"}, *o3[] = {"c"},
                      *o4[] = {"y"}, *i4[] = {"c"};
    mb_model b;
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_node(&b, "fancy1", "Einsum", i1, 1, o1, 1);
    mb_node(&b, "ok", "Relu", i1, 1, o2, 1);
    mb_node(&b, "fancy2", "NonMaxSuppression", i3, 1, o3, 1);
    Onnx__NodeProto *n = mb_node(&b, "pool3d", "MaxPool", i4, 1, o4, 1);
    n->domain          = (char *)"com.example";
    mb_output(&b, "y", 1);
    mb_output(&b, "a", 1);
    vgi_onnx_model *m;
    VG_CHECK_OK(load(&b, NULL, &m));
    VG_CHECK_STATUS(vgi_onnx_model_check_ops(m, errbuf, sizeof errbuf), VG_E_UNSUPPORTED);
    VG_CHECK_MSG(strstr(errbuf, "'fancy1' (Einsum, opset 13)"), "%s", errbuf);
    VG_CHECK_MSG(strstr(errbuf, "'fancy2' (NonMaxSuppression, opset 13)"), "%s", errbuf);
    VG_CHECK_MSG(strstr(errbuf, "'pool3d' (MaxPool, opset 13): domain 'com.example'"), "%s",
                 errbuf);
    VG_CHECK_MSG(!strstr(errbuf, "'ok'"), "%s", errbuf);
    VG_CHECK_MSG(strstr(errbuf, "3 node(s)"), "%s", errbuf);
    vgi_onnx_model_destroy(m);
}

/* Every prefix of a valid model and many byte flips: never a crash. */
static void test_truncated_and_garbled(void) {
    static const int64_t dw[]    = {2, 2};
    float                data[4] = {1, 2, 3, 4};
    mb_model             b;
    relu_model(&b);
    mb_init_raw(&b, "w", 1, dw, 2, data, sizeof data);
    size_t   n;
    uint8_t *buf = mb_pack(&b, &n);
    VG_CHECK(buf);
    int format_errors = 0;
    for (size_t len = 0; len < n; len++) {
        vgi_onnx_model *m = NULL;
        vg_status       s = vgi_onnx_model_load_buffer(buf, len, NULL, &m, errbuf, sizeof errbuf);
        VG_CHECK_MSG(s == VG_OK || s == VG_E_FORMAT || s == VG_E_UNSUPPORTED, "prefix %zu: %s", len,
                     vg_status_name(s));
        format_errors += s == VG_E_FORMAT;
        vgi_onnx_model_destroy(m);
    }
    VG_CHECK(format_errors > (int)n / 2);
    VG_CHECK_STATUS(vgi_onnx_model_load_buffer(buf, n - 3, NULL, &(vgi_onnx_model *){NULL}, errbuf,
                                               sizeof errbuf),
                    VG_E_FORMAT);
    VG_CHECK_MSG(strstr(errbuf, "truncated or garbled"), "%s", errbuf);
    uint32_t seed = 12345;
    uint8_t *g    = malloc(n);
    VG_CHECK(g);
    for (int it = 0; it < 3000; it++) {
        memcpy(g, buf, n);
        for (int k = 0; k < 3; k++) {
            seed               = seed * 1664525u + 1013904223u;
            g[(seed >> 8) % n] = (uint8_t)(seed >> 24);
        }
        vgi_onnx_model *m = NULL;
        if (vgi_onnx_model_load_buffer(g, n, NULL, &m, errbuf, sizeof errbuf) == VG_OK)
            vgi_onnx_model_check_ops(m, errbuf, sizeof errbuf);
        vgi_onnx_model_destroy(m);
    }
    free(g);
    free(buf);
}

static void test_tensor_file(void) {
    make_tmpdir();
    Onnx__TensorProto t;
    onnx__tensor_proto__init(&t);
    int64_t dims[]  = {3};
    float   f[]     = {1, 2, 3};
    t.has_data_type = 1;
    t.data_type     = 1;
    t.n_dims        = 1;
    t.dims          = dims;
    t.n_float_data  = 3;
    t.float_data    = f;
    size_t   n      = onnx__tensor_proto__get_packed_size(&t);
    uint8_t *buf    = malloc(n);
    VG_CHECK(buf);
    onnx__tensor_proto__pack(&t, buf);
    char path[512];
    snprintf(path, sizeof path, "%s/input_0.pb", tmpdir);
    write_file(path, buf, n);
    vgi_onnx_tensor out;
    VG_CHECK_OK(vgi_onnx_tensor_read_file(path, &out, errbuf, sizeof errbuf));
    VG_CHECK_INT_EQ(out.numel, 3);
    VG_CHECK(((float *)out.data)[2] == 3.0f);
    vgi_onnx_tensor_fini(&out);
    write_file(path, buf, n - 2);
    VG_CHECK_STATUS(vgi_onnx_tensor_read_file(path, &out, errbuf, sizeof errbuf), VG_E_FORMAT);
    VG_CHECK_MSG(strstr(errbuf, "input_0.pb"), "%s", errbuf);
    free(buf);
    unlink(path);
    rmdir(tmpdir);
}

/* Conv -> BatchNormalization -> Conv output folded; Conv -> Sigmoid/Mul = SiLU fused. */
static void test_build_fold_and_fuse(void) {
    static const int64_t dx[] = {1, 2, 3, 3}, dw[] = {2, 2, 1, 1}, dc[] = {2};
    static float         w[4] = {1, 0, 0, 2}, sc[2] = {2, 1}, bi[2] = {0.5f, 0}, mu[2] = {1, 0},
                 va[2]      = {3, 0};
    static const char *ic[] = {"x", "w"}, *oc[] = {"c"}, *ib[] = {"c", "s", "b", "m", "v"},
                      *ob[] = {"bn"}, *is[] = {"bn"}, *os[] = {"sg"}, *im[] = {"bn", "sg"},
                      *om[] = {"y"};
    mb_model b;
    mb_init(&b, 13);
    mb_input(&b, "x", 1, dx, 4);
    mb_init_raw(&b, "w", 1, dw, 4, w, sizeof w);
    mb_init_raw(&b, "s", 1, dc, 1, sc, sizeof sc);
    mb_init_raw(&b, "b", 1, dc, 1, bi, sizeof bi);
    mb_init_raw(&b, "m", 1, dc, 1, mu, sizeof mu);
    mb_init_raw(&b, "v", 1, dc, 1, va, sizeof va);
    mb_node(&b, "conv", "Conv", ic, 2, oc, 1);
    mb_node(&b, "bnorm", "BatchNormalization", ib, 5, ob, 1);
    mb_node(&b, "sig", "Sigmoid", is, 1, os, 1);
    mb_node(&b, "mul", "Mul", im, 2, om, 1);
    mb_output(&b, "y", 1);
    vgi_onnx_model *m;
    VG_CHECK_MSG(load(&b, NULL, &m) == VG_OK, "%s", errbuf);
    VG_CHECK_MSG(vgi_onnx_model_check_ops(m, errbuf, sizeof errbuf) == VG_OK, "%s", errbuf);
    vgi_graph *g;
    vgi_err    err = {{0}};
    VG_CHECK_OK(vgi_onnx_build_graph(m, &g, &err));
    VG_CHECK_INT_EQ(g->n_nodes, 1);
    VG_CHECK_INT_EQ(g->nodes[0].op, VGI_OP_CONV);
    VG_CHECK_INT_EQ(g->nodes[0].attr.conv.act.kind, VGI_ACT_SILU);
    VG_CHECK_INT_EQ(g->nodes[0].n_in, 3);
    /* folded: k = s / sqrt(v + eps); w' = w * k; b' = (0 - m) * k + beta */
    const float *wf = g->values[g->nodes[0].in[1]].data, *bf = g->values[g->nodes[0].in[2]].data;
    double       k0 = 2 / sqrt(3 + 1e-5);
    VG_CHECK_NEAR(wf[0], k0, 1e-6);
    VG_CHECK_NEAR(bf[0], -1 * k0 + 0.5, 1e-6);
    VG_CHECK_NEAR(wf[3], 2 / sqrt(1e-5), 1e-2);
    VG_CHECK_INT_EQ(g->n_outputs, 1);
    VG_CHECK_STR_EQ(g->outputs[0].name, "y");
    VG_CHECK_INT_EQ(g->outputs[0].value, g->nodes[0].out[0]);
    vgi_graph_destroy(g);
    vgi_onnx_model_destroy(m);
}

/* Runs model bytes through vg_model_load on a backend; fills out (n floats).
 * Returns false when the backend is not built in. */
static bool run_model_file(const uint8_t *buf, size_t len, const char *backend, const float *x,
                           const int64_t *xd, float *out, size_t n) {
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", tmpdir);
    write_file(path, buf, len);
    vg_model *m;
    VG_CHECK_MSG(vg_model_load(path, NULL, &m) == VG_OK, "%s", vg_model_errmsg(NULL));
    unlink(path);
    rmdir(tmpdir);
    vg_session_params sp = vg_session_params_default();
    sp.backend           = backend;
    vg_session *s;
    vg_status   st = vg_session_create(m, &sp, &s);
    if (st == VG_E_UNSUPPORTED) {
        vg_model_destroy(m);
        return false;
    }
    VG_CHECK_OK(st);
    vg_tensor in = vg_tensor_make(VG_DTYPE_F32, 4, xd, (void *)x);
    VG_CHECK_OK(vg_session_set_input(s, "x", &in));
    VG_CHECK_MSG(vg_session_run(s) == VG_OK, "%s", vg_session_errmsg(s));
    vg_tensor o;
    VG_CHECK_OK(vg_session_get_output_at(s, 0, &o));
    VG_CHECK_INT_EQ(vg_shape_numel(&o.shape), (int64_t)n);
    memcpy(out, o.data, n * sizeof(float));
    vg_session_destroy(s);
    vg_model_destroy(m);
    return true;
}

/* Conv -> BatchNorm -> SiLU and Conv -> LeakyRelu, folded and fused at import,
 * against the same arithmetic done here in double precision (tolerance 1e-5). */
static void test_fused_chains_numerics(void) {
    static const int64_t dx[] = {1, 2, 3, 3}, dw[] = {2, 2, 1, 1}, dc[] = {2};
    static float         w[4] = {0.5f, -1, 2, 0.25f}, cb[2] = {0.1f, -0.2f}, sc[2] = {1.5f, 0.5f},
                 bi[2] = {0.25f, -0.5f}, mu[2] = {0.2f, -0.1f}, va[2] = {0.8f, 2.0f};
    static const char *ic[] = {"x", "w", "cb"}, *oc[] = {"c"}, *ib[] = {"c", "s", "b", "m", "v"},
                      *ob[] = {"bn"}, *is[] = {"bn"}, *os[] = {"sg"}, *im[] = {"sg", "bn"},
                      *om[] = {"y"};
    float x[18];
    for (int i = 0; i < 18; i++)
        x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
    mb_model b;
    mb_init(&b, 13);
    mb_input(&b, "x", 1, dx, 4);
    mb_init_raw(&b, "w", 1, dw, 4, w, sizeof w);
    mb_init_raw(&b, "cb", 1, dc, 1, cb, sizeof cb);
    mb_init_raw(&b, "s", 1, dc, 1, sc, sizeof sc);
    mb_init_raw(&b, "b", 1, dc, 1, bi, sizeof bi);
    mb_init_raw(&b, "m", 1, dc, 1, mu, sizeof mu);
    mb_init_raw(&b, "v", 1, dc, 1, va, sizeof va);
    mb_node(&b, "conv", "Conv", ic, 3, oc, 1);
    mb_node(&b, "bnorm", "BatchNormalization", ib, 5, ob, 1);
    mb_node(&b, "sig", "Sigmoid", is, 1, os, 1);
    mb_node(&b, "mul", "Mul", im, 2, om, 1);
    mb_output(&b, "y", 1);
    size_t   len;
    uint8_t *buf = mb_pack(&b, &len);
    VG_CHECK(buf);
    double want[18];
    for (int o = 0; o < 2; o++) {
        for (int p = 0; p < 9; p++) {
            double c        = cb[o] + w[o * 2] * x[p] + w[o * 2 + 1] * x[9 + p];
            double n        = (c - mu[o]) / sqrt(va[o] + 1e-5) * sc[o] + bi[o];
            want[o * 9 + p] = n / (1 + exp(-n));
        }
    }
    const char *backends[] = {"ref", "cpu"};
    for (int k = 0; k < 2; k++) {
        float got[18];
        if (!run_model_file(buf, len, backends[k], x, dx, got, 18))
            continue;
        for (int i = 0; i < 18; i++)
            VG_CHECK_NEAR(got[i], want[i], 1e-5);
    }
    free(buf);

    /* Conv (no bias) -> LeakyRelu(0.2) */
    static const char *ic2[] = {"x", "w"}, *il[] = {"c"};
    mb_init(&b, 13);
    mb_input(&b, "x", 1, dx, 4);
    mb_init_raw(&b, "w", 1, dw, 4, w, sizeof w);
    mb_node(&b, "conv", "Conv", ic2, 2, oc, 1);
    Onnx__NodeProto      *lr = mb_node(&b, "lrelu", "LeakyRelu", il, 1, om, 1);
    Onnx__AttributeProto  alpha;
    Onnx__AttributeProto *ap = &alpha;
    onnx__attribute_proto__init(&alpha);
    alpha.name      = (char *)"alpha";
    alpha.has_type  = 1;
    alpha.type      = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    alpha.has_f     = 1;
    alpha.f         = 0.2f;
    lr->attribute   = &ap;
    lr->n_attribute = 1;
    mb_output(&b, "y", 1);
    buf = mb_pack(&b, &len);
    VG_CHECK(buf);
    for (int o = 0; o < 2; o++) {
        for (int p = 0; p < 9; p++) {
            double c        = w[o * 2] * x[p] + w[o * 2 + 1] * x[9 + p];
            want[o * 9 + p] = c < 0 ? 0.2 * c : c;
        }
    }
    for (int k = 0; k < 2; k++) {
        float got[18];
        if (!run_model_file(buf, len, backends[k], x, dx, got, 18))
            continue;
        for (int i = 0; i < 18; i++)
            VG_CHECK_NEAR(got[i], want[i], 1e-5);
    }
    free(buf);
}

/* The PyTorch export pattern of F.interpolate(size=...) with a dynamic batch:
 * sizes = Concat(Slice(Shape(x), 0, 2), [6, 6]) computed in the graph. Runs
 * batch 1 and 2 on ref; nearest upsampling x2 must repeat each pixel. */
static void test_resize_computed_sizes(void) {
    static const int64_t dx[] = {-1, 2, 3, 3}, d1[] = {1}, d2[] = {2};
    static int64_t       st[1] = {0}, en[1] = {2}, hw[2] = {6, 6};
    static const char   *ishape[] = {"x"}, *oshape[] = {"shp"}, *islice[] = {"shp", "st", "en"},
                      *oslice[] = {"nc"}, *icat[] = {"nc", "hw"}, *ocat[] = {"sizes"},
                      *ires[] = {"x", "", "", "sizes"}, *ores[] = {"y"};
    mb_model b;
    mb_init(&b, 13);
    mb_input(&b, "x", 1, dx, 4);
    mb_init_raw(&b, "st", 7, d1, 1, st, sizeof st);
    mb_init_raw(&b, "en", 7, d1, 1, en, sizeof en);
    mb_init_raw(&b, "hw", 7, d2, 1, hw, sizeof hw);
    mb_node(&b, "shape", "Shape", ishape, 1, oshape, 1);
    mb_node(&b, "slice", "Slice", islice, 3, oslice, 1);
    Onnx__NodeProto *cat = mb_node(&b, "concat", "Concat", icat, 2, ocat, 1);
    mb_attr_int(&b, cat, 0, "axis", 0);
    mb_node(&b, "resize", "Resize", ires, 4, ores, 1);
    mb_output(&b, "y", 1);
    size_t   len;
    uint8_t *buf = mb_pack(&b, &len);
    VG_CHECK(buf);
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", tmpdir);
    write_file(path, buf, len);
    free(buf);
    vg_model *m;
    VG_CHECK_MSG(vg_model_load(path, NULL, &m) == VG_OK, "%s", vg_model_errmsg(NULL));
    unlink(path);
    rmdir(tmpdir);
    vg_session_params sp = vg_session_params_default();
    sp.backend           = "ref";
    vg_session *s;
    VG_CHECK_OK(vg_session_create(m, &sp, &s));
    float x[36];
    for (int i = 0; i < 36; i++)
        x[i] = (float)i;
    for (int64_t n = 1; n <= 2; n++) {
        int64_t   d[] = {n, 2, 3, 3};
        vg_tensor in  = vg_tensor_make(VG_DTYPE_F32, 4, d, x);
        VG_CHECK_OK(vg_session_set_input(s, "x", &in));
        VG_CHECK_MSG(vg_session_run(s) == VG_OK, "%s", vg_session_errmsg(s));
        vg_tensor y;
        VG_CHECK_OK(vg_session_get_output_at(s, 0, &y));
        VG_CHECK_INT_EQ(y.shape.ndim, 4);
        VG_CHECK_INT_EQ(y.shape.dims[0], n);
        VG_CHECK_INT_EQ(y.shape.dims[2], 6);
        VG_CHECK_INT_EQ(y.shape.dims[3], 6);
        const float *yd = y.data;
        for (int64_t p = 0; p < n * 2; p++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    VG_CHECK(yd[(p * 6 + i) * 6 + j] == x[(p * 3 + i / 2) * 3 + j / 2]);
    }
    vg_session_destroy(s);
    vg_model_destroy(m);
}

static uint8_t *oom_buf;
static size_t   oom_len;

static vg_status oom_body(void *arg) {
    vgi_onnx_model **m = arg;
    vg_status        s = vgi_onnx_model_load_buffer(oom_buf, oom_len, NULL, m, NULL, 0);
    if (s != VG_OK)
        return s;
    vgi_graph *g;
    s = vgi_onnx_build_graph(*m, &g, NULL);
    if (s != VG_OK) {
        vgi_onnx_model_destroy(*m);
        *m = NULL;
        return s;
    }
    vgi_graph_destroy(g);
    return VG_OK;
}

static void oom_cleanup(void *arg) {
    vgi_onnx_model **m = arg;
    vgi_onnx_model_destroy(*m);
    *m = NULL;
}

static void test_oom(void) {
    static const int64_t dw[] = {1, 2, 2, 2};
    static float         w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const char   *in[] = {"x", "w"}, *out[] = {"c"}, *ir[] = {"c"}, *orr[] = {"y"};
    mb_model             b;
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d4, 4);
    mb_init_raw(&b, "w", 1, dw, 4, w, sizeof w);
    mb_node(&b, "conv", "Conv", in, 2, out, 1);
    mb_node(&b, "relu", "Relu", ir, 1, orr, 1);
    mb_output(&b, "y", 1);
    oom_buf           = mb_pack(&b, &oom_len);
    vgi_onnx_model *m = NULL;
    vg_test_oom_sweep(oom_body, oom_cleanup, &m, 2000);
    free(oom_buf);
}

static const vg_test_case cases[] = {
    {"minimal model", test_minimal},
    {"symbolic batch dim", test_symbolic_batch},
    {"initializer storage forms", test_initializer_forms},
    {"external data and path escapes", test_external_data},
    {"initializer size mismatch", test_initializer_size_mismatch},
    {"absurd dims", test_absurd_dims},
    {"graph errors", test_graph_errors},
    {"unsupported nodes listed in one message", test_unsupported_listed_once},
    {"truncated and garbled protobuf", test_truncated_and_garbled},
    {"tensor .pb files", test_tensor_file},
    {"build: BatchNorm folding and SiLU fusion", test_build_fold_and_fuse},
    {"fused conv chains compute like the unfused graph", test_fused_chains_numerics},
    {"Resize with sizes computed from a dynamic batch", test_resize_computed_sizes},
    {"out of memory", test_oom},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
