/*
 * frame_stats_test.c - the frame object (reference counting, shared
 * pictures, result arrays, aux data, the pool, also hammered from several
 * threads) and the metrics module (exact percentiles over the window and
 * the history, FPS, text and JSON output), plus out-of-memory sweeps of the
 * create functions.
 *
 * Expected values are computed by hand from the synthetic timestamps: with
 * latencies 1..100 ms, nearest-rank percentiles are p50 = 50, p95 = 95.
 */
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/buffer.h>
#include <libavutil/frame.h>

#include "test.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/frame.h"
#include "vigil/pipeline.h"
#include "vigil/stats.h"
#include "vigil/thread.h"

static int aux_freed;

static void count_free(void *p) {
    aux_freed++;
    free(p);
}

static void test_refcount(void) {
    vg_frame *f = NULL;
    VG_CHECK_OK(vg_frame_create(&f));
    VG_CHECK(f->av != NULL);
    VG_CHECK_INT_EQ(vg_frame_refcount(f), 1);
    VG_CHECK(vg_frame_ref(f) == f);
    VG_CHECK_INT_EQ(vg_frame_refcount(f), 2);
    vg_frame_set_aux(f, 1, malloc(16), count_free);
    aux_freed = 0;
    vg_frame_unref(f);
    VG_CHECK_INT_EQ(aux_freed, 0);
    vg_frame_unref(f); /* last: frees frame and aux */
    VG_CHECK_INT_EQ(aux_freed, 1);
    vg_frame_unref(NULL);
}

static void test_picture_shared(void) {
    AVFrame *src = av_frame_alloc();
    src->format  = 0; /* yuv420p */
    src->width   = 64;
    src->height  = 32;
    VG_CHECK(av_frame_get_buffer(src, 0) == 0);
    src->data[0][5] = 77;
    vg_frame *f     = NULL;
    VG_CHECK_OK(vg_frame_create(&f));
    VG_CHECK_OK(vg_frame_set_picture(f, src));
    /* same pixels, one more reference, no copy */
    VG_CHECK(f->av->data[0] == src->data[0]);
    VG_CHECK_INT_EQ(av_buffer_get_ref_count(src->buf[0]), 2);
    vg_frame_unref(f);
    VG_CHECK_INT_EQ(av_buffer_get_ref_count(src->buf[0]), 1);
    av_frame_free(&src);
}

static void test_results(void) {
    vg_frame *f = NULL;
    VG_CHECK_OK(vg_frame_create(&f));
    for (int i = 0; i < 100; i++) {
        vg_detection d = {
            .box = {(float)i, 0, (float)i + 10, 20}, .score = 0.5f, .class_id = i % 3};
        VG_CHECK_OK(vg_frame_add_detection(f, &d));
    }
    VG_CHECK_INT_EQ(f->n_detections, 100);
    VG_CHECK(f->cap_detections >= 100);
    VG_CHECK_NEAR(f->detections[42].box.x1, 42.0, 0);
    vg_pose p = {.n_keypoints = 17, .score = 0.9f};
    p.kp[16]  = (vg_keypoint){1, 2, 0.3f};
    VG_CHECK_OK(vg_frame_add_pose(f, &p));
    VG_CHECK_NEAR(f->poses[0].kp[16].score, 0.3, 1e-7);
    int32_t cap = f->cap_detections;
    vg_frame_clear_results(f);
    VG_CHECK_INT_EQ(f->n_detections, 0);
    VG_CHECK_INT_EQ(f->n_poses, 0);
    VG_CHECK_INT_EQ(f->cap_detections, cap);
    vg_frame_unref(f);
}

static void test_pool(void) {
    vg_frame_pool *pool = NULL;
    VG_CHECK_OK(vg_frame_pool_create(&pool));
    vg_frame *a = NULL, *b = NULL;
    VG_CHECK_OK(vg_frame_pool_get(pool, &a));
    vg_detection d = {.score = 1};
    VG_CHECK_OK(vg_frame_add_detection(a, &d));
    a->index          = 7;
    a->stage_in_ns[3] = 99;
    vg_frame *first   = a;
    vg_frame_unref(a);
    VG_CHECK_OK(vg_frame_pool_get(pool, &b));
    VG_CHECK(b == first);         /* recycled ... */
    VG_CHECK_INT_EQ(b->index, 0); /* ... and reset */
    VG_CHECK_INT_EQ(b->stage_in_ns[3], 0);
    VG_CHECK_INT_EQ(b->n_detections, 0);
    VG_CHECK(b->cap_detections > 0); /* keeping its memory */
    VG_CHECK_INT_EQ(vg_frame_refcount(b), 1);
    /* the pool may go before its frames */
    vg_frame_pool_destroy(pool);
    vg_frame_unref(b);
}

static vg_frame_pool *mt_pool;

static void *pool_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        vg_frame *f = NULL, *g = NULL;
        VG_CHECK_OK(vg_frame_pool_get(mt_pool, &f));
        VG_CHECK_OK(vg_frame_pool_get(mt_pool, &g));
        f->index = i;
        vg_frame_ref(f);
        vg_frame_unref(f);
        vg_frame_unref(g);
        vg_frame_unref(f);
    }
    return NULL;
}

static void test_pool_threads(void) {
    VG_CHECK_OK(vg_frame_pool_create(&mt_pool));
    vg_thread *t[4];
    for (int i = 0; i < 4; i++) {
        vg_thread_params tp = {.name = "pool"};
        VG_CHECK_OK(vg_thread_create(&tp, pool_worker, NULL, &t[i]));
    }
    for (int i = 0; i < 4; i++)
        vg_thread_join(t[i], NULL);
    vg_frame_pool_destroy(mt_pool);
}

/* ---- stats ------------------------------------------------------------------ */

#define MS VG_NS_PER_MS

/* A frame finished at done_ns after e2e_ms, with 3 slots. */
static void add_frame(vg_stats *s, int64_t done_ns, int64_t e2e_ms, int persons) {
    vg_frame *f = NULL;
    VG_CHECK_OK(vg_frame_create(&f));
    f->capture_ns      = done_ns - e2e_ms * MS;
    f->stage_in_ns[0]  = f->capture_ns;
    f->stage_out_ns[0] = f->capture_ns + 1 * MS;      /* read: 1 ms */
    f->stage_in_ns[1]  = f->stage_out_ns[0] + 2 * MS; /* wait: 2 ms */
    f->stage_out_ns[1] = done_ns - 1 * MS;            /* service: rest */
    f->stage_in_ns[2]  = f->stage_out_ns[1];          /* no wait */
    f->stage_out_ns[2] = done_ns;                     /* write: 1 ms */
    f->n_persons       = persons;
    f->n_poses         = persons;
    vg_stats_add_frame(s, f);
    vg_frame_unref(f);
}

static vg_stats *make_stats(size_t window, size_t history) {
    const char     *names[] = {"read", "work", "write"};
    vg_stats_params p       = vg_stats_params_default();
    p.n_slots               = 3;
    p.slot_names            = names;
    p.window                = window;
    p.history               = history;
    vg_stats *s             = NULL;
    VG_CHECK_OK(vg_stats_create(&p, &s));
    return s;
}

static void test_stats_exact(void) {
    vg_stats *s  = make_stats(10, 1000);
    int64_t   t0 = 1000 * VG_NS_PER_S;
    for (int i = 1; i <= 100; i++)
        add_frame(s, t0 + i * 10 * MS, i, i % 4);
    vg_stats_summary sum;
    vg_stats_summarize(s, &sum);
    VG_CHECK_INT_EQ(sum.n_slots, 3);
    VG_CHECK_STR_EQ(sum.slot_names[1], "work");
    /* whole run: latencies 1..100 ms */
    VG_CHECK_INT_EQ(sum.total.frames, 100);
    VG_CHECK_INT_EQ(sum.pct_frames, 100);
    VG_CHECK_NEAR(sum.total.latency.mean, 50.5, 1e-3);
    VG_CHECK_NEAR(sum.total.latency.p50, 50, 1e-3);
    VG_CHECK_NEAR(sum.total.latency.p95, 95, 1e-3);
    VG_CHECK_NEAR(sum.total.latency.max, 100, 1e-3);
    VG_CHECK_NEAR(sum.total.service[0].mean, 1, 1e-3);
    VG_CHECK_NEAR(sum.total.wait[1].mean, 2, 1e-3);
    VG_CHECK_NEAR(sum.total.service[1].mean, 50.5 - 4, 1e-3);
    VG_CHECK_NEAR(sum.total.wait[2].max, 0, 1e-6);
    VG_CHECK_INT_EQ(sum.total.persons_max, 3);
    VG_CHECK_NEAR(sum.total.persons_mean, 1.5, 1e-9); /* 0,1,2,3 repeating, 100 frames */
    VG_CHECK_INT_EQ(sum.total.poses, 150);
    /* window: the last 10 frames, latencies 91..100, 10 ms apart */
    VG_CHECK_INT_EQ(sum.window.frames, 10);
    VG_CHECK_NEAR(sum.window.latency.p50, 95, 1e-3);
    VG_CHECK_NEAR(sum.window.latency.p95, 100, 1e-3);
    VG_CHECK_NEAR(sum.window.latency.mean, 95.5, 1e-3);
    VG_CHECK_NEAR(sum.window.fps, 100, 1e-6);
    VG_CHECK_NEAR(sum.window.span_s, 0.09, 1e-9);
    vg_stats_reset(s);
    vg_stats_summarize(s, &sum);
    VG_CHECK_INT_EQ(sum.total.frames, 0);
    VG_CHECK_INT_EQ(sum.window.frames, 0);
    vg_stats_destroy(s);
}

static void test_stats_history(void) {
    vg_stats *s  = make_stats(10, 50);
    int64_t   t0 = 1000 * VG_NS_PER_S;
    for (int i = 1; i <= 100; i++)
        add_frame(s, t0 + i * 10 * MS, i, 1);
    vg_stats_summary sum;
    vg_stats_summarize(s, &sum);
    /* means and maxima exact over all 100; percentiles over the last 50 (51..100) */
    VG_CHECK_INT_EQ(sum.pct_frames, 50);
    VG_CHECK_NEAR(sum.total.latency.mean, 50.5, 1e-3);
    VG_CHECK_NEAR(sum.total.latency.max, 100, 1e-3);
    VG_CHECK_NEAR(sum.total.latency.p50, 75, 1e-3);
    /* 100 frames between capture of the first (t0 + 9 ms) and t0 + 1000 ms */
    VG_CHECK_NEAR(sum.total.fps, 100 / 0.991, 1e-6);
    vg_stats_destroy(s);
}

static void test_stats_text(void) {
    vg_stats *s  = make_stats(10, 100);
    int64_t   t0 = vg_clock_ns();
    for (int i = 1; i <= 20; i++)
        add_frame(s, t0 + i * 40 * MS, 30, 2);
    vg_stats_summary sum;
    vg_stats_summarize(s, &sum);
    char line[512];
    vg_stats_format_line(&sum, line, sizeof(line));
    printf("  %s\n", line);
    VG_CHECK(strstr(line, "25.0 fps") != NULL);
    VG_CHECK(strstr(line, "work") != NULL);
    sum.frames_expected = 80;
    vg_stats_format_progress(&sum, line, sizeof(line));
    printf("  %s\n", line);
    VG_CHECK(strstr(line, "[######......") != NULL); /* 25 % of 24 columns */
    VG_CHECK(strstr(line, " 25%") != NULL);
    VG_CHECK(strstr(line, "ETA 0:03") != NULL); /* 60 frames at 25 fps = 2.4 s */
    /* truncation is safe */
    char tiny[8];
    vg_stats_format_progress(&sum, tiny, sizeof(tiny));
    VG_CHECK_INT_EQ(strlen(tiny), 7);

    char *json = NULL;
    VG_CHECK_OK(vg_stats_summary_json(&sum, &json));
    json_error_t err;
    json_t      *root = json_loads(json, 0, &err);
    VG_CHECK_MSG(root != NULL, "bad JSON: %s", err.text);
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(root, "frames_out")), 20);
    json_t *stages = json_object_get(json_object_get(root, "total"), "stages");
    VG_CHECK_INT_EQ(json_array_size(stages), 3);
    VG_CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(stages, 1), "name")), "work");
    VG_CHECK_NEAR(json_real_value(json_object_get(json_object_get(root, "latency_ms"), "p95")), 30,
                  1e-3);
    json_decref(root);
    vg_free(json);
    vg_stats_destroy(s);
}

static void test_stats_invalid(void) {
    vg_stats_params p = vg_stats_params_default();
    vg_stats       *s = NULL;
    p.n_slots         = 0;
    VG_CHECK_STATUS(vg_stats_create(&p, &s), VG_E_INVALID_ARG);
    p.n_slots = VG_STATS_MAX_SLOTS + 1;
    VG_CHECK_STATUS(vg_stats_create(&p, &s), VG_E_INVALID_ARG);
    p         = vg_stats_params_default();
    p.window  = 100;
    p.history = 10;
    VG_CHECK_STATUS(vg_stats_create(&p, &s), VG_E_INVALID_ARG);
    VG_CHECK(s == NULL);
}

/* ---- out of memory ---------------------------------------------------------- */

static vg_stats *oom_stats_obj;

static vg_status oom_stats_body(void *arg) {
    return vg_stats_create(arg, &oom_stats_obj);
}

static void oom_stats_cleanup(void *arg) {
    (void)arg;
    vg_stats_destroy(oom_stats_obj);
    oom_stats_obj = NULL;
}

static vg_frame *oom_frame;

static vg_status oom_frame_body(void *arg) {
    (void)arg;
    vg_status st = vg_frame_create(&oom_frame);
    if (st != VG_OK)
        return st;
    vg_detection d = {0};
    for (int i = 0; i < 20 && st == VG_OK; i++)
        st = vg_frame_add_detection(oom_frame, &d);
    if (st != VG_OK) {
        vg_frame_unref(oom_frame);
        oom_frame = NULL;
    }
    return st;
}

static void oom_frame_cleanup(void *arg) {
    (void)arg;
    vg_frame_unref(oom_frame);
    oom_frame = NULL;
}

static vg_status null_read(void *ctx, vg_frame **out) {
    (void)ctx;
    *out = NULL;
    return VG_E_EOF;
}

static vg_status null_stage(void *ctx, vg_frame *f) {
    (void)ctx;
    (void)f;
    return VG_OK;
}

static vg_pipeline *oom_pipe;

static vg_status oom_pipe_body(void *arg) {
    return vg_pipeline_create(arg, &oom_pipe, NULL, 0);
}

static void oom_pipe_cleanup(void *arg) {
    (void)arg;
    vg_pipeline_destroy(oom_pipe);
    oom_pipe = NULL;
}

static void test_oom(void) {
    vg_stats_params sp = vg_stats_params_default();
    sp.n_slots         = 4;
    vg_test_oom_sweep(oom_stats_body, oom_stats_cleanup, &sp, 100);
    vg_test_oom_sweep(oom_frame_body, oom_frame_cleanup, NULL, 100);
    vg_stage stages[2]    = {{.name = "a", .fn = null_stage}, {.name = "b", .fn = null_stage}};
    vg_pipeline_params pp = vg_pipeline_params_default();
    pp.source.read        = null_read;
    pp.stages             = stages;
    pp.n_stages           = 2;
    vg_test_oom_sweep(oom_pipe_body, oom_pipe_cleanup, &pp, 100);
}

static const vg_test_case cases[] = {
    {"frame refcount and aux", test_refcount},
    {"frame shares the picture", test_picture_shared},
    {"frame results grow and clear", test_results},
    {"frame pool recycles and resets", test_pool},
    {"frame pool from 4 threads", test_pool_threads},
    {"stats exact percentiles, window, fps", test_stats_exact},
    {"stats history shorter than the run", test_stats_history},
    {"stats status line, progress, JSON", test_stats_text},
    {"stats invalid params", test_stats_invalid},
    {"out of memory in create functions", test_oom},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
