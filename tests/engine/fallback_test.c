/*
 * fallback_test.c - the scheduler's fallback chain (preferred -> fallback ->
 * ref) and device / backend / precision selection, without a GPU.
 *
 * Two fake backends stand in for a GPU session: "fakegpu" runs only NEG and
 * allocates the host arena through its host_alloc hook (as the cuda backend
 * does with page-locked memory); "fakecpu" runs only ABS (the cpu backend's
 * role as fallback). Everything else falls to ref. The fakes compute with
 * their own loops, so outputs must equal an all-ref plan of the same graph
 * exactly (NEG and ABS are exact in float32).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "engine/engine_impl.h"
#include "engine/ir.h"
#include "engine_util.h"
#include "test.h"
#include "vigil/alloc.h"
#include "vigil/model.h"

/* ---- fake backends ------------------------------------------------------------- */

#define MAX_SEGS 16

typedef struct fake_ctx {
    const char *name;
    vgi_op      op; /* the one op it runs */
    int         n_alloc, n_free;
    int         n_prepared, n_released, n_runs;
    /* Per prepared segment: first node and whether its input / output are external. */
    int  seg_first[MAX_SEGS];
    bool seg_in_ext[MAX_SEGS], seg_out_ext[MAX_SEGS];
    bool seg_mid_ext[MAX_SEGS]; /* first node's output, for segments of > 1 node */
} fake_ctx;

static bool fake_supports(void *ctx, const vgi_graph *g, int node_id, const vg_tensor *tensors) {
    const fake_ctx *f = ctx;
    (void)tensors;
    return g->nodes[node_id].op == f->op && tensors[g->nodes[node_id].in[0]].dtype == VG_DTYPE_F32;
}

static vg_status fake_prepare(void *ctx, const vgi_segment *seg, void **state, vgi_err *err) {
    fake_ctx *f = ctx;
    (void)err;
    *state = f;
    if (f->n_prepared < MAX_SEGS) {
        const vgi_node *first         = &seg->g->nodes[seg->nodes[0]];
        const vgi_node *last          = &seg->g->nodes[seg->nodes[seg->n_nodes - 1]];
        f->seg_first[f->n_prepared]   = seg->nodes[0];
        f->seg_in_ext[f->n_prepared]  = seg->external[first->in[0]];
        f->seg_out_ext[f->n_prepared] = seg->external[last->out[0]];
        f->seg_mid_ext[f->n_prepared] = seg->n_nodes > 1 && seg->external[first->out[0]];
    }
    f->n_prepared++;
    return VG_OK;
}

static vg_status fake_run_node(void *ctx, void *state, const vgi_segment *seg, int node_id,
                               vgi_err *err) {
    fake_ctx       *f = ctx;
    const vgi_node *n = &seg->g->nodes[node_id];
    if (state != f)
        return vgi_err_set(err, VG_E_INTERNAL, "%s: state not handed back", f->name);
    const vg_tensor *in  = &seg->tensors[n->in[0]];
    const vg_tensor *out = &seg->tensors[n->out[0]];
    const float     *x   = in->data;
    float           *y   = out->data;
    int64_t          cnt = vg_shape_numel(&out->shape);
    for (int64_t i = 0; i < cnt; i++)
        y[i] = f->op == VGI_OP_NEG ? -x[i] : fabsf(x[i]);
    f->n_runs++;
    return VG_OK;
}

static void fake_release(void *ctx, void *state) {
    fake_ctx *f = ctx;
    (void)state;
    f->n_released++;
}

static void *fake_host_alloc(void *ctx, size_t bytes) {
    fake_ctx *f   = ctx;
    void     *ptr = vg_aligned_alloc(64, bytes);
    if (ptr)
        f->n_alloc++;
    return ptr;
}

static void fake_host_free(void *ctx, void *ptr) {
    fake_ctx *f = ctx;
    f->n_free++;
    vg_aligned_free(ptr);
}

static const vgi_backend_iface fakegpu_iface = {
    .name            = "fakegpu",
    .supports_node   = fake_supports,
    .segment_prepare = fake_prepare,
    .run_node        = fake_run_node,
    .segment_release = fake_release,
    .host_alloc      = fake_host_alloc,
    .host_free       = fake_host_free,
};

static const vgi_backend_iface fakecpu_iface = {
    .name            = "fakecpu",
    .supports_node   = fake_supports,
    .segment_prepare = fake_prepare,
    .run_node        = fake_run_node,
    .segment_release = fake_release,
};

/* ---- graph ------------------------------------------------------------------------ */

static int add_node(vgi_graph *g, vgi_op op, const char *name, const int *in, int n_in) {
    int id;
    VG_CHECK_OK(vgi_graph_add_node(g, op, name, in, n_in, 1, NULL, &id));
    return g->nodes[id].out[0];
}

enum { N_ELEM = 4 * 37 };

typedef struct chain_graph {
    vgi_graph *g;
    int        x, a, a2, b, c, d, e, f; /* value ids */
} chain_graph;

/*
 * x -> a = neg(x) -> a2 = neg(a) -> b = abs(a2) -> c = neg(b) -> d = mul(c, x)
 *   -> e = neg(d) -> f = abs(e); outputs d and f.
 * Chain assignment: gpu gpu | cpu | gpu | ref | gpu | cpu = 6 segments.
 */
static void build_chain(chain_graph *cg) {
    VG_CHECK_OK(vgi_graph_create(&cg->g));
    vg_shape s = {2, {4, 37}};
    VG_CHECK_OK(vgi_graph_add_input(cg->g, "x", "x", VG_DTYPE_F32, &s, &cg->x));
    cg->a  = add_node(cg->g, VGI_OP_NEG, "a", &cg->x, 1);
    cg->a2 = add_node(cg->g, VGI_OP_NEG, "a2", &cg->a, 1);
    cg->b  = add_node(cg->g, VGI_OP_ABS, "b", &cg->a2, 1);
    cg->c  = add_node(cg->g, VGI_OP_NEG, "c", &cg->b, 1);
    cg->d  = add_node(cg->g, VGI_OP_MUL, "d", (int[]){cg->c, cg->x}, 2);
    cg->e  = add_node(cg->g, VGI_OP_NEG, "e", &cg->d, 1);
    cg->f  = add_node(cg->g, VGI_OP_ABS, "f", &cg->e, 1);
    VG_CHECK_OK(vgi_graph_add_output(cg->g, "d", cg->d, VG_DTYPE_F32, NULL));
    VG_CHECK_OK(vgi_graph_add_output(cg->g, "f", cg->f, VG_DTYPE_F32, NULL));
}

static void fill(float *x) {
    for (int i = 0; i < N_ELEM; i++)
        x[i] = (float)((i * 17 + 5) % 29 - 14) * 0.375f;
}

/* Runs cg on ref alone; copies outputs d and f into want_d / want_f. */
static void run_ref_only(const chain_graph *cg, const float *x, float *want_d, float *want_f) {
    vgi_err     err = {{0}};
    vgi_backend ref;
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &ref, &err));
    vg_shape  shapes[1] = {cg->g->inputs[0].shape};
    vgi_plan *p         = NULL;
    VG_CHECK_MSG(vgi_plan_create(cg->g, shapes, &ref, &ref, false, &p, &err) == VG_OK, "%s",
                 err.msg);
    VG_CHECK_MSG(vgi_plan_run(p, (const void *[]){x}, &err) == VG_OK, "%s", err.msg);
    memcpy(want_d, vgi_plan_tensor(p, cg->d)->data, N_ELEM * sizeof(float));
    memcpy(want_f, vgi_plan_tensor(p, cg->f)->data, N_ELEM * sizeof(float));
    vgi_plan_destroy(p);
    vgi_backend_destroy(&ref);
}

static void check_equal(const float *got, const float *want, const char *what) {
    for (int i = 0; i < N_ELEM; i++)
        VG_CHECK_MSG(got[i] == want[i], "%s[%d]: %g != %g (exact: neg/abs/mul)", what, i, got[i],
                     want[i]);
}

static void test_chain_pref_fb_ref(void) {
    chain_graph cg = {0};
    build_chain(&cg);
    float x[N_ELEM], want_d[N_ELEM], want_f[N_ELEM];
    fill(x);
    run_ref_only(&cg, x, want_d, want_f);

    fake_ctx    gpu  = {.name = "fakegpu", .op = VGI_OP_NEG};
    fake_ctx    cpu  = {.name = "fakecpu", .op = VGI_OP_ABS};
    vgi_backend pref = {&fakegpu_iface, &gpu}, fb = {&fakecpu_iface, &cpu}, ref;
    vgi_err     err = {{0}};
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &ref, &err));
    vg_shape  shapes[1] = {cg.g->inputs[0].shape};
    vgi_plan *p         = NULL;
    VG_CHECK_MSG(vgi_plan_create_chain(cg.g, shapes, &pref, &fb, &ref, true, NULL, &p, &err) ==
                     VG_OK,
                 "%s", err.msg);

    /* Assignment and segments. */
    int segs, npref, nref;
    vgi_plan_counts(p, &segs, &npref, &nref);
    VG_CHECK_INT_EQ(segs, 6);
    VG_CHECK_INT_EQ(npref, 4);
    VG_CHECK_INT_EQ(vgi_plan_fallback_count(p), 2);
    VG_CHECK_INT_EQ(nref, 1);
    static const char *want_be[6] = {"fakegpu", "fakecpu", "fakegpu", "ref", "fakegpu", "fakecpu"};
    static const int   want_n[6]  = {2, 1, 1, 1, 1, 1};
    for (int s = 0; s < 6; s++) {
        const char *be = NULL;
        int         n  = 0;
        VG_CHECK(vgi_plan_segment_info(p, s, &be, &n));
        VG_CHECK_STR_EQ(be, want_be[s]);
        VG_CHECK_INT_EQ(n, want_n[s]);
    }
    VG_CHECK(!vgi_plan_segment_info(p, 6, &(const char *){NULL}, &(int){0}));

    /* Boundaries: a stays inside the first gpu segment (any layout allowed);
     * every value that crosses a backend change is external (plain layout). */
    VG_CHECK_INT_EQ(gpu.n_prepared, 3);
    VG_CHECK_INT_EQ(cpu.n_prepared, 2);
    VG_CHECK_INT_EQ(gpu.seg_first[0], cg.g->values[cg.a].producer);
    VG_CHECK(gpu.seg_in_ext[0]);  /* x: graph input */
    VG_CHECK(gpu.seg_out_ext[0]); /* a2: read by the cpu segment */
    VG_CHECK(cpu.seg_in_ext[0] && cpu.seg_out_ext[0]);
    VG_CHECK(gpu.seg_in_ext[1] && gpu.seg_out_ext[1]); /* b in, c to ref */
    VG_CHECK(gpu.seg_in_ext[2] && gpu.seg_out_ext[2]); /* d (graph output) in, e to cpu */
    VG_CHECK(cpu.seg_in_ext[1] && cpu.seg_out_ext[1]);
    VG_CHECK(!gpu.seg_mid_ext[0]); /* a: produced and consumed inside segment 0 */

    /* The host arena comes from the preferred backend's host_alloc. */
    VG_CHECK_INT_EQ(gpu.n_alloc, 1);
    VG_CHECK_INT_EQ(cpu.n_alloc, 0);
    VG_CHECK(vgi_plan_arena_bytes(p) > 0);

    /* Outputs equal the ref-only plan; run twice (no re-preparation). */
    for (int r = 0; r < 2; r++) {
        VG_CHECK_MSG(vgi_plan_run(p, (const void *[]){x}, &err) == VG_OK, "%s", err.msg);
        check_equal(vgi_plan_tensor(p, cg.d)->data, want_d, "d");
        check_equal(vgi_plan_tensor(p, cg.f)->data, want_f, "f");
    }
    VG_CHECK_INT_EQ(gpu.n_runs, 8);
    VG_CHECK_INT_EQ(cpu.n_runs, 4);
    VG_CHECK_INT_EQ(gpu.n_prepared, 3);

    /* The profile names the backend of each node. */
    int         n_fake = 0;
    vgi_op      op;
    const char *be;
    int64_t     ns;
    for (int i = 0; vgi_plan_profile(p, i, &op, &be, &ns); i++) {
        if (op == VGI_OP_NEG)
            VG_CHECK_STR_EQ(be, "fakegpu");
        else if (op == VGI_OP_ABS)
            VG_CHECK_STR_EQ(be, "fakecpu");
        else
            VG_CHECK_STR_EQ(be, "ref");
        n_fake++;
    }
    VG_CHECK_INT_EQ(n_fake, 7);

    vgi_plan_destroy(p);
    VG_CHECK_INT_EQ(gpu.n_free, 1);
    VG_CHECK_INT_EQ(gpu.n_released, 3);
    VG_CHECK_INT_EQ(cpu.n_released, 2);
    vgi_backend_destroy(&ref);
    vgi_graph_destroy(cg.g);
}

/* Without a fallback (cpu and ref sessions), unsupported nodes go to ref
 * as before: gpu gpu | ref | gpu | ref | gpu | ref, and the plan behaves
 * exactly like vgi_plan_create(). */
static void test_chain_without_fallback(void) {
    chain_graph cg = {0};
    build_chain(&cg);
    float x[N_ELEM], want_d[N_ELEM], want_f[N_ELEM];
    fill(x);
    run_ref_only(&cg, x, want_d, want_f);
    for (int variant = 0; variant < 2; variant++) {
        fake_ctx    gpu  = {.name = "fakegpu", .op = VGI_OP_NEG};
        vgi_backend pref = {&fakegpu_iface, &gpu}, ref;
        vgi_err     err  = {{0}};
        VG_CHECK_OK(vgi_ref_backend_create(NULL, &ref, &err));
        vg_shape  shapes[1] = {cg.g->inputs[0].shape};
        vgi_plan *p         = NULL;
        vg_status st =
            variant ? vgi_plan_create(cg.g, shapes, &pref, &ref, false, &p, &err)
                    : vgi_plan_create_chain(cg.g, shapes, &pref, NULL, &ref, false, NULL, &p, &err);
        VG_CHECK_MSG(st == VG_OK, "%s", err.msg);
        int segs, npref, nref;
        vgi_plan_counts(p, &segs, &npref, &nref);
        VG_CHECK_INT_EQ(segs, 6);
        VG_CHECK_INT_EQ(npref, 4);
        VG_CHECK_INT_EQ(nref, 3);
        VG_CHECK_INT_EQ(vgi_plan_fallback_count(p), 0);
        VG_CHECK_MSG(vgi_plan_run(p, (const void *[]){x}, &err) == VG_OK, "%s", err.msg);
        check_equal(vgi_plan_tensor(p, cg.d)->data, want_d, "d");
        check_equal(vgi_plan_tensor(p, cg.f)->data, want_f, "f");
        vgi_plan_destroy(p);
        VG_CHECK_INT_EQ(gpu.n_alloc, 1);
        VG_CHECK_INT_EQ(gpu.n_free, 1);
        vgi_backend_destroy(&ref);
    }
    vgi_graph_destroy(cg.g);
}

/* A fallback equal to ref collapses into ref; a preferred backend without
 * host_alloc gets a plain arena (the cpu backend's case). */
static void test_chain_fallback_is_ref(void) {
    chain_graph cg = {0};
    build_chain(&cg);
    float x[N_ELEM], want_d[N_ELEM], want_f[N_ELEM];
    fill(x);
    run_ref_only(&cg, x, want_d, want_f);
    vgi_backend_iface nohost = fakegpu_iface;
    nohost.host_alloc        = NULL;
    nohost.host_free         = NULL;
    fake_ctx    gpu          = {.name = "fakegpu", .op = VGI_OP_NEG};
    vgi_backend pref         = {&nohost, &gpu}, ref;
    vgi_err     err          = {{0}};
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &ref, &err));
    vg_shape  shapes[1] = {cg.g->inputs[0].shape};
    vgi_plan *p         = NULL;
    VG_CHECK_OK(vgi_plan_create_chain(cg.g, shapes, &pref, &ref, &ref, false, NULL, &p, &err));
    int segs, npref, nref;
    vgi_plan_counts(p, &segs, &npref, &nref);
    VG_CHECK_INT_EQ(segs, 6);
    VG_CHECK_INT_EQ(npref, 4);
    VG_CHECK_INT_EQ(nref, 3);
    VG_CHECK_INT_EQ(vgi_plan_fallback_count(p), 0);
    VG_CHECK_OK(vgi_plan_run(p, (const void *[]){x}, &err));
    check_equal(vgi_plan_tensor(p, cg.d)->data, want_d, "d");
    check_equal(vgi_plan_tensor(p, cg.f)->data, want_f, "f");
    vgi_plan_destroy(p);
    VG_CHECK_INT_EQ(gpu.n_alloc, 0);
    vgi_backend_destroy(&ref);
    vgi_graph_destroy(cg.g);
}

/* The chain under allocation failure: every failing build returns NOMEM
 * and leaks nothing (host arena included). */
typedef struct oom_arg {
    chain_graph cg;
    fake_ctx    gpu, cpu;
    vgi_backend pref, fb, ref;
    vgi_plan   *p;
} oom_arg;

static vg_status oom_body(void *arg) {
    oom_arg *a         = arg;
    vgi_err  err       = {{0}};
    vg_shape shapes[1] = {a->cg.g->inputs[0].shape};
    return vgi_plan_create_chain(a->cg.g, shapes, &a->pref, &a->fb, &a->ref, true, NULL, &a->p,
                                 &err);
}

static void oom_cleanup(void *arg) {
    oom_arg *a = arg;
    vgi_plan_destroy(a->p);
    a->p = NULL;
}

static void test_chain_oom(void) {
    oom_arg a = {0};
    build_chain(&a.cg);
    a.gpu     = (fake_ctx){.name = "fakegpu", .op = VGI_OP_NEG};
    a.cpu     = (fake_ctx){.name = "fakecpu", .op = VGI_OP_ABS};
    a.pref    = (vgi_backend){&fakegpu_iface, &a.gpu};
    a.fb      = (vgi_backend){&fakecpu_iface, &a.cpu};
    vgi_err e = {{0}};
    VG_CHECK_OK(vgi_ref_backend_create(NULL, &a.ref, &e));
    vg_test_oom_sweep(oom_body, oom_cleanup, &a, 200);
    VG_CHECK_INT_EQ(a.gpu.n_alloc, a.gpu.n_free);
    VG_CHECK_INT_EQ(a.gpu.n_prepared, a.gpu.n_released);
    vgi_backend_destroy(&a.ref);
    vgi_graph_destroy(a.cg.g);
}

/* ---- device strings --------------------------------------------------------------- */

static void test_device_parse_cuda(void) {
    vgi_device         d;
    vgi_err            err   = {{0}};
    bool               built = vgi_backend_find("cuda") != NULL;
    static const char *bad[] = {"cuda:", "cuda:x",    "cuda:-1", "cuda:0x",
                                "cudax", "cuda:1000", "cuda: 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        VG_CHECK_STATUS(vgi_device_parse(bad[i], 0, &d, &err), VG_E_INVALID_ARG);
        VG_CHECK_MSG(strstr(err.msg, bad[i]), "message '%s' does not name '%s'", err.msg, bad[i]);
    }
    if (!built) {
        err.msg[0] = '\0';
        VG_CHECK_STATUS(vgi_device_parse("cuda:0", 0, &d, &err), VG_E_UNSUPPORTED);
        VG_CHECK_STR_EQ(err.msg, "device 'cuda:0' needs a build with the cuda backend (cmake "
                                 "-DVG_WITH_CUDA=ON on a machine with the CUDA toolkit)");
        VG_CHECK_STATUS(vgi_device_parse("cuda", 0, &d, &err), VG_E_UNSUPPORTED);
    } else {
        VG_CHECK_OK(vgi_device_parse("cuda", 0, &d, &err));
        VG_CHECK_INT_EQ(d.kind, VGI_DEVICE_CUDA);
        VG_CHECK_INT_EQ(d.ordinal, 0);
        VG_CHECK_INT_EQ(d.n_threads, 1);
        VG_CHECK_INT_EQ(vg_cpuset_count(&d.cpus), 0);
        VG_CHECK_OK(vgi_device_parse("cuda:3", 4, &d, &err));
        VG_CHECK_INT_EQ(d.kind, VGI_DEVICE_CUDA);
        VG_CHECK_INT_EQ(d.ordinal, 3);
        VG_CHECK_INT_EQ(d.n_threads, 4);
        VG_CHECK_STR_EQ(d.name, "cuda:3");
    }
    /* CPU devices are unchanged: kind cpu, ordinal 0, fp32. */
    VG_CHECK_OK(vgi_device_parse("cpu:0", 0, &d, &err));
    VG_CHECK_INT_EQ(d.kind, VGI_DEVICE_CPU);
    VG_CHECK_INT_EQ(d.ordinal, 0);
    VG_CHECK_INT_EQ(d.precision, VGI_PRECISION_FP32);
    VG_CHECK_INT_EQ(d.n_threads, 1);
    VG_CHECK_OK(vgi_device_parse(NULL, 2, &d, &err));
    VG_CHECK_INT_EQ(d.kind, VGI_DEVICE_CPU);
    VG_CHECK_INT_EQ(d.n_threads, 2);
    err.msg[0] = '\0';
    VG_CHECK_STATUS(vgi_device_parse("gpu:0", 0, &d, &err), VG_E_INVALID_ARG);
    VG_CHECK(strstr(err.msg, "cuda:N"));
}

/* ---- session parameters -------------------------------------------------------------- */

static vg_status try_session(const vg_model *m, const char *backend, const char *device,
                             const char *precision) {
    vg_session_params sp = vg_session_params_default();
    sp.backend           = backend;
    sp.device            = device;
    sp.precision         = precision;
    sp.threads           = 1;
    vg_session *s        = NULL;
    vg_status   st       = vg_session_create(m, &sp, &s);
    VG_CHECK(st == VG_OK ? s != NULL : s == NULL);
    vg_session_destroy(s);
    return st;
}

static void expect_msg(const char *needle) {
    VG_CHECK_MSG(strstr(vg_model_errmsg(NULL), needle), "message '%s' lacks '%s'",
                 vg_model_errmsg(NULL), needle);
}

static void test_session_params(void) {
    VG_CHECK(vg_session_params_default().precision == NULL);
    const char *dir = eng_tmpdir(0);
    VG_CHECK(dir && eng_synth_write(dir, false));
    vg_model *m;
    VG_CHECK_MSG(vg_model_load(dir, NULL, &m) == VG_OK, "%s", vg_model_errmsg(NULL));
    bool cuda = vgi_backend_find("cuda") != NULL;

    /* fp32 spelled out or NULL: fine on the CPU backends. */
    VG_CHECK_OK(try_session(m, "ref", "cpu:0", "fp32"));
    VG_CHECK_OK(try_session(m, NULL, "cpu:0", NULL));
    /* fp16 needs a GPU device. */
    VG_CHECK_STATUS(try_session(m, "ref", "cpu:0", "fp16"), VG_E_INVALID_ARG);
    expect_msg("fp16 needs a GPU device");
    VG_CHECK_STATUS(try_session(m, NULL, NULL, "fp16"), VG_E_INVALID_ARG);
    /* Unknown precision. */
    VG_CHECK_STATUS(try_session(m, "ref", "cpu:0", "fp8"), VG_E_INVALID_ARG);
    expect_msg("unknown precision 'fp8'");
    /* Unknown backend names the choices. */
    VG_CHECK_STATUS(try_session(m, "tpu", "cpu:0", NULL), VG_E_INVALID_ARG);
    expect_msg("use ref, cpu or cuda");
    if (!cuda) {
        VG_CHECK_STATUS(try_session(m, NULL, "cuda:0", NULL), VG_E_UNSUPPORTED);
        expect_msg("-DVG_WITH_CUDA=ON");
        VG_CHECK_STATUS(try_session(m, "cuda", "cpu:0", NULL), VG_E_UNSUPPORTED);
        expect_msg("not built");
        VG_CHECK_STATUS(try_session(m, "cuda", NULL, "fp16"), VG_E_UNSUPPORTED);
    } else {
        /* Mismatched kinds are refused before any GPU is touched. */
        VG_CHECK_STATUS(try_session(m, "cuda", "cpu:0", NULL), VG_E_INVALID_ARG);
        expect_msg("needs a GPU device");
        VG_CHECK_STATUS(try_session(m, "cpu", "cuda:0", NULL), VG_E_INVALID_ARG);
        expect_msg("runs on CPU cores");
        VG_CHECK_STATUS(try_session(m, "ref", "cuda:0", "fp16"), VG_E_INVALID_ARG);
        VG_CHECK_STATUS(try_session(m, NULL, "cuda:0", "half"), VG_E_INVALID_ARG);
    }
    vg_model_destroy(m);
    eng_rmdir(dir);
}

static const vg_test_case cases[] = {
    {"chain gpu -> cpu -> ref", test_chain_pref_fb_ref},
    {"chain without fallback", test_chain_without_fallback},
    {"fallback equal to ref", test_chain_fallback_is_ref},
    {"chain under OOM", test_chain_oom},
    {"device strings cuda", test_device_parse_cuda},
    {"session backend/device/precision", test_session_params},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
