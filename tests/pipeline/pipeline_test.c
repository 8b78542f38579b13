/*
 * pipeline_test.c - the pipeline runner with synthetic stages on a real
 * clip and on a synthetic live source:
 *   - no loss and order: frames in == frames out, JSONL valid and in order;
 *   - the sequential and the pipelined schedule write identical JSONL;
 *   - a live source with a deliberately slow stage drops frames, every
 *     drop counted (in == out + dropped), latency stays bounded;
 *   - a stop request (SIGINT) in the middle leaves a playable MP4 (ffprobe)
 *     and a complete JSONL; a second request aborts;
 *   - a failing stage, a failing thread_init and a sink that cannot open
 *     stop the run with a message naming them.
 * The synthetic "detector" derives its boxes from the decoded pixels, so the
 * results depend on the real picture and on nothing else.
 */
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/media_util.h"
#include "test.h"
#include "vigil/clock.h"

#include "vigil/pipeline.h"
#include <libavutil/pixfmt.h>

#define CLIP       "data/video/openpose_street_dance_720p.mp4"
#define CLIP_N     205
#define MAX_FRAMES 4096

/* ---- synthetic stages ------------------------------------------------------- */

typedef struct fake_ctx {
    int64_t      fail_at;    /* frame index that fails (-1: none) */
    int64_t      stop_at;    /* frame index that raises SIGINT (-1: none) */
    int          stop_times; /* how many stop requests at stop_at */
    vg_pipeline *pipe;       /* for direct stop requests when stop_times > 1 */
    int64_t      sleep_ns;   /* per frame */
    bool         init_fails;
} fake_ctx;

/* Sums a sparse grid of luma samples: a fingerprint of the decoded picture. */
static uint32_t luma_sum(const AVFrame *av) {
    uint32_t sum = 0;
    if (!av || !av->data[0])
        return 0;
    for (int y = 0; y < av->height; y += 16)
        for (int x = 0; x < av->width; x += 16)
            sum += av->data[0][(size_t)y * (size_t)av->linesize[0] + (size_t)x];
    return sum;
}

static vg_status fake_detect(void *ctx, vg_frame *f) {
    fake_ctx *c = ctx;
    if (c->sleep_ns)
        vg_sleep_ns(c->sleep_ns);
    if (f->index == c->fail_at)
        return VG_E_BACKEND;
    uint32_t h = luma_sum(f->av);
    int      n = 1 + (int)(h % 4);
    for (int i = 0; i < n; i++) {
        float        x = (float)((h >> (i * 3)) % 1000);
        vg_detection d = {.box      = {x, 10.0f * i, x + 50.5f, 10.0f * i + 120.25f},
                          .score    = (float)(h % 97) / 97.0f,
                          .class_id = 0};
        VG_CHECK_OK(vg_frame_add_detection(f, &d));
    }
    if (f->index % 2 == 0) {
        vg_detection car = {.box = {1, 2, 3, 4}, .score = 0.25f, .class_id = 2};
        VG_CHECK_OK(vg_frame_add_detection(f, &car));
    }
    f->n_persons = n;
    return VG_OK;
}

static vg_status fake_pose(void *ctx, vg_frame *f) {
    fake_ctx *c = ctx;
    if (c->sleep_ns)
        vg_sleep_ns(c->sleep_ns);
    if (f->index == c->fail_at)
        return VG_E_BACKEND;
    if (f->index == c->stop_at) {
        if (c->stop_times == 1)
            raise(SIGINT); /* through the installed handler */
        else
            for (int i = 0; i < c->stop_times; i++)
                vg_pipeline_request_stop(c->pipe);
    }
    for (int i = 0; i < f->n_detections; i++) {
        if (f->detections[i].class_id != 0)
            continue;
        vg_pose p       = {.det = f->detections[i], .n_keypoints = 17};
        p.score         = 0.5f;
        const vg_box *b = &f->detections[i].box;
        for (int k = 0; k < 17; k++)
            p.kp[k] = (vg_keypoint){b->x1 + (float)k, b->y1 + 2.0f * (float)k, (float)k / 17.0f};
        VG_CHECK_OK(vg_frame_add_pose(f, &p));
    }
    return VG_OK;
}

static vg_status fake_init(void *ctx) {
    return ((fake_ctx *)ctx)->init_fails ? VG_E_DEVICE : VG_OK;
}

/* A sink that records the order of frames. */
typedef struct order_sink {
    int64_t index[MAX_FRAMES];
    int64_t seq[MAX_FRAMES];
    int     n;
    int     opened, closed;
} order_sink;

static vg_status order_open(void *ctx, const vg_video_info *info) {
    (void)info;
    ((order_sink *)ctx)->opened++;
    return VG_OK;
}

static vg_status order_write(void *ctx, const vg_frame *f) {
    order_sink *s = ctx;
    if (s->n < MAX_FRAMES) {
        s->index[s->n] = f->index;
        s->seq[s->n]   = f->seq;
        s->n++;
    }
    return VG_OK;
}

static vg_status order_close(void *ctx) {
    ((order_sink *)ctx)->closed++;
    return VG_OK;
}

static const vg_sink_iface order_iface = {
    .name = "order", .open = order_open, .write = order_write, .close = order_close};

/* ---- a run on the real clip ----------------------------------------------------- */

typedef struct run_cfg {
    bool        sequential;
    const char *jsonl; /* may be NULL */
    const char *mp4;   /* may be NULL */
    fake_ctx    det, pose;
    bool        signals;
    size_t      queue_capacity;
} run_cfg;

typedef struct run_result {
    vg_status        st;
    char             errmsg[512];
    vg_stats_summary sum;
    order_sink      *order;
    int              status_calls;
    double           seconds;
} run_result;

static void count_status(void *user, vg_pipeline *p) {
    (void)p;
    ((run_result *)user)->status_calls++;
}

static void run_clip(run_cfg *cfg, run_result *res) {
    memset(res, 0, sizeof(*res));
    const char        *clip = vg_test_require_shared(CLIP);
    vg_video_in_params ip   = vg_video_in_params_default();
    ip.uri                  = clip;
    vg_video_in *in         = NULL;
    VG_CHECK_OK(vg_video_in_open(&ip, &in, NULL, 0));
    vg_frame_pool *pool = NULL;
    VG_CHECK_OK(vg_frame_pool_create(&pool));

    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_video_source    vs;
    vg_video_source_init(&vs, in, pool, &pp.source);
    vg_video_in_get_info(in, &pp.info);
    vg_stage stages[2] = {
        {.name = "detect", .fn = fake_detect, .ctx = &cfg->det, .thread_init = fake_init},
        {.name = "pose", .fn = fake_pose, .ctx = &cfg->pose, .thread_init = fake_init},
    };
    vg_sink sinks[3];
    size_t  n_sinks  = 0;
    res->order       = calloc(1, sizeof(order_sink));
    sinks[n_sinks++] = (vg_sink){.iface = &order_iface, .ctx = res->order};
    if (cfg->jsonl)
        VG_CHECK_OK(vg_jsonl_sink_create(cfg->jsonl, &sinks[n_sinks++]));
    if (cfg->mp4) {
        vg_mp4_sink_params mp = vg_mp4_sink_params_default();
        mp.path               = cfg->mp4;
        mp.preset             = "ultrafast";
        VG_CHECK_OK(vg_mp4_sink_create(&mp, &sinks[n_sinks++]));
    }
    pp.stages             = stages;
    pp.n_stages           = 2;
    pp.sinks              = sinks;
    pp.n_sinks            = n_sinks;
    pp.sequential         = cfg->sequential;
    pp.queue_capacity     = cfg->queue_capacity ? cfg->queue_capacity : 4;
    pp.on_status          = count_status;
    pp.status_user        = res;
    pp.status_interval_ns = 100 * VG_NS_PER_MS;
    vg_pipeline *p        = NULL;
    char         msg[256];
    VG_CHECK_MSG(vg_pipeline_create(&pp, &p, msg, sizeof(msg)) == VG_OK, "%s", msg);
    cfg->det.pipe = cfg->pose.pipe = p;
    if (cfg->signals)
        VG_CHECK_OK(vg_pipeline_install_signals(p));
    int64_t t0   = vg_clock_ns();
    res->st      = vg_pipeline_run(p);
    res->seconds = (double)(vg_clock_ns() - t0) / 1e9;
    if (cfg->signals)
        vg_pipeline_remove_signals();
    snprintf(res->errmsg, sizeof(res->errmsg), "%s", vg_pipeline_errmsg(p));
    vg_pipeline_get_summary(p, &res->sum);
    vg_pipeline_destroy(p);
    for (size_t i = 1; i < n_sinks; i++)
        vg_sink_destroy(&sinks[i]);
    vg_frame_pool_destroy(pool);
    vg_video_in_close(in);
}

static void free_result(run_result *r) {
    free(r->order);
    r->order = NULL;
}

/* Checks the JSONL: n lines, valid JSON, frames 0..n-1 in order, persons
 * with 17 keypoints of 3 numbers. Returns the line count. */
static long check_jsonl(const char *path, long want) {
    FILE *fp = fopen(path, "r");
    VG_CHECK_MSG(fp != NULL, "cannot open %s", path);
    char  *line = NULL;
    size_t cap  = 0;
    long   n    = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_error_t err;
        json_t      *o = json_loads(line, 0, &err);
        VG_CHECK_MSG(o != NULL, "%s line %ld: %s", path, n + 1, err.text);
        VG_CHECK_INT_EQ(json_integer_value(json_object_get(o, "frame")), n);
        json_t *persons = json_object_get(o, "persons");
        VG_CHECK(json_array_size(persons) >= 1);
        VG_CHECK_INT_EQ(json_integer_value(json_object_get(o, "n_persons")),
                        json_array_size(persons));
        json_t *kp = json_object_get(json_array_get(persons, 0), "keypoints");
        VG_CHECK_INT_EQ(json_array_size(kp), 17);
        VG_CHECK_INT_EQ(json_array_size(json_array_get(kp, 16)), 3);
        VG_CHECK_INT_EQ(json_array_size(json_object_get(json_array_get(persons, 0), "box")), 4);
        json_t *dets = json_object_get(o, "detections");
        VG_CHECK_INT_EQ(json_array_size(dets), n % 2 == 0 ? 1 : 0);
        if (n % 2 == 0)
            VG_CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(dets, 0), "class")),
                            2);
        json_decref(o);
        n++;
    }
    free(line);
    fclose(fp);
    if (want >= 0)
        VG_CHECK_INT_EQ(n, want);
    return n;
}

static void check_order(const order_sink *o) {
    for (int i = 0; i < o->n; i++) {
        VG_CHECK_INT_EQ(o->index[i], i);
        VG_CHECK_INT_EQ(o->seq[i], i);
    }
    VG_CHECK_INT_EQ(o->opened, 1);
    VG_CHECK_INT_EQ(o->closed, 1);
}

static char *tmp_path(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void test_no_loss_and_same_results(void) {
    vg_test_require_shared(CLIP);
    char      *dir = mu_tmpdir();
    char      *j1 = tmp_path(dir, "pipelined.jsonl"), *j2 = tmp_path(dir, "sequential.jsonl");
    run_cfg    cfg = {.jsonl          = j1,
                      .det            = {.fail_at = -1, .stop_at = -1},
                      .pose           = {.fail_at = -1, .stop_at = -1},
                      .queue_capacity = 2};
    run_result r1, r2;
    run_clip(&cfg, &r1);
    VG_CHECK_MSG(r1.st == VG_OK, "%s", r1.errmsg);
    VG_CHECK_INT_EQ(r1.sum.frames_in, CLIP_N);
    VG_CHECK_INT_EQ(r1.sum.total.frames, CLIP_N);
    VG_CHECK_INT_EQ(r1.sum.dropped, 0);
    VG_CHECK_INT_EQ(r1.order->n, CLIP_N);
    check_order(r1.order);
    check_jsonl(j1, CLIP_N);
    VG_CHECK(r1.status_calls >= 1);
    VG_CHECK_INT_EQ(r1.sum.n_queues, 3);
    VG_CHECK(r1.sum.total.latency.n == CLIP_N && r1.sum.total.latency.max > 0);

    cfg.sequential = true;
    cfg.jsonl      = j2;
    run_clip(&cfg, &r2);
    VG_CHECK_MSG(r2.st == VG_OK, "%s", r2.errmsg);
    VG_CHECK_INT_EQ(r2.sum.total.frames, CLIP_N);
    VG_CHECK_INT_EQ(r2.sum.n_queues, 0);
    check_order(r2.order);
    size_t n1, n2;
    char  *a = vg_test_read_file(j1, &n1), *b = vg_test_read_file(j2, &n2);
    VG_CHECK(a && b);
    VG_CHECK_MSG(n1 == n2 && memcmp(a, b, n1) == 0, "JSONL differ (%zu vs %zu bytes)", n1, n2);
    printf("  %d frames: pipelined %.2f s (%.1f fps), sequential %.2f s (%.1f fps); "
           "JSONL identical (%zu bytes)\n",
           CLIP_N, r1.seconds, r1.sum.total.fps, r2.seconds, r2.sum.total.fps, n1);
    free(a);
    free(b);
    free_result(&r1);
    free_result(&r2);
    mu_rmtree(dir);
    free(dir);
    free(j1);
    free(j2);
}

static void test_sigint_mid_run(void) {
    mu_require_ffmpeg();
    vg_test_require_shared(CLIP);
    char      *dir = mu_tmpdir();
    char      *j = tmp_path(dir, "out.jsonl"), *m = tmp_path(dir, "out.mp4");
    run_cfg    cfg = {.jsonl   = j,
                      .mp4     = m,
                      .signals = true,
                      .det     = {.fail_at = -1, .stop_at = -1},
                      .pose    = {.fail_at = -1, .stop_at = 30, .stop_times = 1}};
    run_result r;
    run_clip(&cfg, &r);
    VG_CHECK_MSG(r.st == VG_OK, "%s", r.errmsg);
    long out = (long)r.sum.total.frames;
    printf("  stopped at frame 30: %llu read, %ld written\n", (unsigned long long)r.sum.frames_in,
           out);
    VG_CHECK(out > 30 && out < CLIP_N);
    /* a stop (not an abort) finishes every frame already read */
    VG_CHECK_INT_EQ(out, r.sum.frames_in);
    check_order(r.order);
    check_jsonl(j, out);
    mu_probe_info pi;
    VG_CHECK_MSG(mu_probe(m, &pi), "%s is not playable", m);
    VG_CHECK_STR_EQ(pi.codec, "h264");
    VG_CHECK_INT_EQ(pi.width, 1280);
    VG_CHECK_INT_EQ(pi.height, 720);
    VG_CHECK_INT_EQ(pi.rate_num, 50);
    VG_CHECK_INT_EQ(pi.frames, out);
    free_result(&r);
    mu_rmtree(dir);
    free(dir);
    free(j);
    free(m);
}

static void test_second_stop_aborts(void) {
    mu_require_ffmpeg();
    vg_test_require_shared(CLIP);
    char      *dir = mu_tmpdir();
    char      *j = tmp_path(dir, "out.jsonl"), *m = tmp_path(dir, "out.mp4");
    run_cfg    cfg = {.jsonl          = j,
                      .mp4            = m,
                      .queue_capacity = 4,
                      .det  = {.fail_at = -1, .stop_at = -1, .sleep_ns = 2 * VG_NS_PER_MS},
                      .pose = {.fail_at = -1, .stop_at = 20, .stop_times = 2}};
    run_result r;
    run_clip(&cfg, &r);
    VG_CHECK_MSG(r.st == VG_OK, "%s", r.errmsg);
    long out = (long)r.sum.total.frames;
    printf("  aborted at frame 20: %llu read, %ld written\n", (unsigned long long)r.sum.frames_in,
           out);
    /* frames queued behind the abort point are discarded, not written */
    VG_CHECK(out <= 21);
    VG_CHECK((long)r.sum.frames_in > out);
    check_order(r.order);
    check_jsonl(j, out);
    mu_probe_info pi;
    VG_CHECK_MSG(mu_probe(m, &pi), "%s is not playable", m);
    VG_CHECK_INT_EQ(pi.frames, out);
    free_result(&r);
    mu_rmtree(dir);
    free(dir);
    free(j);
    free(m);
}

static void stage_error(bool sequential) {
    char      *dir = mu_tmpdir();
    char      *j   = tmp_path(dir, "out.jsonl");
    run_cfg    cfg = {.jsonl      = j,
                      .sequential = sequential,
                      .det        = {.fail_at = -1, .stop_at = -1},
                      .pose       = {.fail_at = 10, .stop_at = -1}};
    run_result r;
    run_clip(&cfg, &r);
    VG_CHECK_STATUS(r.st, VG_E_BACKEND);
    VG_CHECK_MSG(strstr(r.errmsg, "stage 'pose'") && strstr(r.errmsg, "frame 10"), "message: %s",
                 r.errmsg);
    /* frames before the failure are all written, in order; nothing after it */
    VG_CHECK_INT_EQ(r.sum.total.frames, 10);
    check_order(r.order);
    check_jsonl(j, 10);
    VG_CHECK(r.sum.frames_in < CLIP_N);
    free_result(&r);
    mu_rmtree(dir);
    free(dir);
    free(j);
}

static void test_stage_error(void) {
    vg_test_require_shared(CLIP);
    stage_error(false);
    stage_error(true);
}

static void test_init_error(void) {
    vg_test_require_shared(CLIP);
    for (int seq = 0; seq < 2; seq++) {
        run_cfg    cfg = {.sequential = seq,
                          .det        = {.fail_at = -1, .stop_at = -1},
                          .pose       = {.fail_at = -1, .stop_at = -1, .init_fails = true}};
        run_result r;
        run_clip(&cfg, &r);
        VG_CHECK_STATUS(r.st, VG_E_DEVICE);
        VG_CHECK_MSG(strstr(r.errmsg, "'pose' could not start"), "message: %s", r.errmsg);
        VG_CHECK_INT_EQ(r.sum.frames_in, 0);
        VG_CHECK_INT_EQ(r.order->n, 0);
        VG_CHECK_INT_EQ(r.order->closed, 1);
        free_result(&r);
    }
}

static void test_sink_open_error(void) {
    vg_test_require_shared(CLIP);
    run_cfg    cfg = {.mp4  = "/nonexistent-dir/out.mp4",
                      .det  = {.fail_at = -1, .stop_at = -1},
                      .pose = {.fail_at = -1, .stop_at = -1}};
    run_result r;
    run_clip(&cfg, &r);
    VG_CHECK_STATUS(r.st, VG_E_IO);
    VG_CHECK_MSG(strstr(r.errmsg, "sink 'mp4'") && strstr(r.errmsg, "/nonexistent-dir/out.mp4"),
                 "message: %s", r.errmsg);
    VG_CHECK_INT_EQ(r.sum.frames_in, 0);
    free_result(&r);
}

/* ---- a synthetic live source ----------------------------------------------------- */

typedef struct live_src {
    int         n, made;
    int64_t     period_ns, start_ns;
    atomic_bool stop;
} live_src;

static vg_status live_read(void *ctx, vg_frame **out) {
    live_src *s = ctx;
    if (s->made == s->n || atomic_load(&s->stop))
        return VG_E_EOF;
    if (s->start_ns == 0)
        s->start_ns = vg_clock_ns();
    int64_t due = s->start_ns + s->made * s->period_ns;
    int64_t now = vg_clock_ns();
    if (due > now)
        vg_sleep_ns(due - now);
    vg_frame *f = NULL;
    VG_CHECK_OK(vg_frame_create(&f));
    f->index      = s->made++;
    f->pts        = f->index;
    f->time_base  = (AVRational){1, 200};
    f->capture_ns = vg_clock_ns();
    *out          = f;
    return VG_OK;
}

static void live_interrupt(void *ctx) {
    atomic_store(&((live_src *)ctx)->stop, true);
}

static vg_status slow_stage(void *ctx, vg_frame *f) {
    (void)f;
    vg_sleep_ns(*(int64_t *)ctx);
    return VG_OK;
}

static vg_status fast_stage(void *ctx, vg_frame *f) {
    (void)ctx;
    f->n_persons = 1;
    return VG_OK;
}

static void test_live_drops(void) {
    live_src           src  = {.n = 120, .period_ns = 5 * VG_NS_PER_MS}; /* 200 fps for 0.6 s */
    int64_t            slow = 20 * VG_NS_PER_MS;                         /* 50 fps */
    vg_stage           stages[2] = {{.name = "pre", .fn = fast_stage},
                                    {.name = "slow", .fn = slow_stage, .ctx = &slow}};
    order_sink        *order     = calloc(1, sizeof(*order));
    vg_sink            sink      = {.iface = &order_iface, .ctx = order};
    vg_pipeline_params pp        = vg_pipeline_params_default();
    pp.source         = (vg_source){.read = live_read, .interrupt = live_interrupt, .ctx = &src};
    pp.stages         = stages;
    pp.n_stages       = 2;
    pp.sinks          = &sink;
    pp.n_sinks        = 1;
    pp.live           = true;
    pp.leak_before    = 0;
    pp.queue_capacity = 2;
    vg_pipeline *p    = NULL;
    VG_CHECK_OK(vg_pipeline_create(&pp, &p, NULL, 0));
    VG_CHECK_OK(vg_pipeline_run(p));
    vg_stats_summary sum;
    vg_pipeline_get_summary(p, &sum);
    char line[512];
    vg_stats_format_line(&sum, line, sizeof(line));
    printf("  %s\n", line);
    printf("  in %llu, out %llu, dropped %llu (q0 %llu); latency p95 %.1f max %.1f ms\n",
           (unsigned long long)sum.frames_in, (unsigned long long)sum.total.frames,
           (unsigned long long)sum.dropped, (unsigned long long)sum.queues[0].dropped,
           sum.total.latency.p95, sum.total.latency.max);
    VG_CHECK_INT_EQ(sum.frames_in, 120);
    /* every frame is either written or counted as dropped */
    VG_CHECK_INT_EQ(sum.total.frames + sum.dropped, 120);
    VG_CHECK_INT_EQ(sum.queues[0].dropped, sum.dropped); /* only the leaky queue drops */
    VG_CHECK(sum.dropped >= 40);
    VG_CHECK_INT_EQ(order->n, (int)sum.total.frames);
    for (int i = 1; i < order->n; i++)
        VG_CHECK(order->index[i] > order->index[i - 1]);
    /* bounded: a few frames of queueing at 20 ms each, not the whole backlog
     * (which would reach ~1.8 s without dropping) */
    VG_CHECK(sum.total.latency.max < 400);
    vg_pipeline_destroy(p);
    free(order);
}

/* Without `live`, the same slow pipeline loses nothing (back-pressure). */
static void test_file_backpressure(void) {
    live_src           src       = {.n = 30, .period_ns = 1 * VG_NS_PER_MS};
    int64_t            slow      = 5 * VG_NS_PER_MS;
    vg_stage           stages[1] = {{.name = "slow", .fn = slow_stage, .ctx = &slow}};
    order_sink        *order     = calloc(1, sizeof(*order));
    vg_sink            sink      = {.iface = &order_iface, .ctx = order};
    vg_pipeline_params pp        = vg_pipeline_params_default();
    pp.source                    = (vg_source){.read = live_read, .ctx = &src};
    pp.stages                    = stages;
    pp.n_stages                  = 1;
    pp.sinks                     = &sink;
    pp.n_sinks                   = 1;
    pp.queue_capacity            = 1;
    vg_pipeline *p               = NULL;
    VG_CHECK_OK(vg_pipeline_create(&pp, &p, NULL, 0));
    VG_CHECK_OK(vg_pipeline_run(p));
    vg_stats_summary sum;
    vg_pipeline_get_summary(p, &sum);
    VG_CHECK_INT_EQ(sum.total.frames, 30);
    VG_CHECK_INT_EQ(sum.dropped, 0);
    check_order(order);
    /* the run stops once; a second run is refused */
    VG_CHECK_STATUS(vg_pipeline_run(p), VG_E_INVALID_ARG);
    vg_pipeline_destroy(p);
    free(order);
}

/* A stop requested before the run: nothing is read, sinks still close. */
static void test_stop_before_run(void) {
    live_src           src   = {.n = 30, .period_ns = 1 * VG_NS_PER_MS};
    order_sink        *order = calloc(1, sizeof(*order));
    vg_sink            sink  = {.iface = &order_iface, .ctx = order};
    vg_pipeline_params pp    = vg_pipeline_params_default();
    pp.source      = (vg_source){.read = live_read, .interrupt = live_interrupt, .ctx = &src};
    pp.sinks       = &sink;
    pp.n_sinks     = 1;
    vg_pipeline *p = NULL;
    VG_CHECK_OK(vg_pipeline_create(&pp, &p, NULL, 0));
    vg_pipeline_request_stop(p);
    VG_CHECK_INT_EQ(vg_pipeline_stop_level(p), 1);
    VG_CHECK_OK(vg_pipeline_run(p));
    VG_CHECK_INT_EQ(order->n, 0);
    VG_CHECK_INT_EQ(order->opened, 1);
    VG_CHECK_INT_EQ(order->closed, 1);
    vg_pipeline_destroy(p);
    free(order);
}

static void test_invalid_params(void) {
    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_pipeline       *p  = NULL;
    char               msg[256];
    VG_CHECK_STATUS(vg_pipeline_create(&pp, &p, msg, sizeof(msg)), VG_E_INVALID_ARG);
    VG_CHECK(strstr(msg, "read") != NULL);
    live_src src   = {.n = 1};
    pp.source.read = live_read;
    pp.source.ctx  = &src;
    vg_stage bad   = {.name = "x"};
    pp.stages      = &bad;
    pp.n_stages    = 1;
    VG_CHECK_STATUS(vg_pipeline_create(&pp, &p, msg, sizeof(msg)), VG_E_INVALID_ARG);
    VG_CHECK_MSG(strstr(msg, "stage 0 has no function") != NULL, "message: %s", msg);
    pp.n_stages       = 0;
    pp.queue_capacity = 0;
    VG_CHECK_STATUS(vg_pipeline_create(&pp, &p, msg, sizeof(msg)), VG_E_INVALID_ARG);
    VG_CHECK(p == NULL);
}

/* ---- a real clip paced as a live camera ------------------------------------------ */

static void stop_after_first_status(void *user, vg_pipeline *p) {
    (void)user;
    if (vg_pipeline_stop_level(p) == 0)
        vg_pipeline_request_stop(p);
}

static void test_paced_clip_live_drops(void) {
    const char        *clip = vg_test_require_shared(CLIP);
    vg_video_in_params ip   = vg_video_in_params_default();
    ip.uri                  = clip;
    ip.live                 = VG_LIVE_ON; /* a file paced at 50 fps, as a camera would be */
    ip.realtime             = true;
    vg_video_in *in         = NULL;
    VG_CHECK_OK(vg_video_in_open(&ip, &in, NULL, 0));
    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_video_source    vs;
    vg_video_source_init(&vs, in, NULL, &pp.source);
    vg_video_in_get_info(in, &pp.info);
    VG_CHECK(pp.info.live);
    int64_t     slow      = 50 * VG_NS_PER_MS; /* 20 fps */
    vg_stage    stages[1] = {{.name = "slow", .fn = slow_stage, .ctx = &slow}};
    order_sink *order     = calloc(1, sizeof(*order));
    vg_sink     sink      = {.iface = &order_iface, .ctx = order};
    pp.stages             = stages;
    pp.n_stages           = 1;
    pp.sinks              = &sink;
    pp.n_sinks            = 1;
    pp.live               = pp.info.live;
    pp.queue_capacity     = 2;
    pp.on_status          = stop_after_first_status; /* stop after about 1 s */
    vg_pipeline *p        = NULL;
    VG_CHECK_OK(vg_pipeline_create(&pp, &p, NULL, 0));
    VG_CHECK_OK(vg_pipeline_run(p));
    vg_stats_summary sum;
    vg_pipeline_get_summary(p, &sum);
    printf("  paced clip: in %llu, out %llu, dropped %llu; e2e p95 %.1f ms\n",
           (unsigned long long)sum.frames_in, (unsigned long long)sum.total.frames,
           (unsigned long long)sum.dropped, sum.total.latency.p95);
    VG_CHECK(sum.frames_in >= 30);
    VG_CHECK(sum.dropped > 0);
    VG_CHECK_INT_EQ(sum.total.frames + sum.dropped, sum.frames_in);
    VG_CHECK_INT_EQ(sum.frames_expected, -1);
    for (int i = 1; i < order->n; i++)
        VG_CHECK(order->index[i] > order->index[i - 1]);
    vg_pipeline_destroy(p);
    vg_video_in_close(in);
    free(order);
}

/* ---- annotation ---------------------------------------------------------------------- */

/* Paints a white 64x64 square at (32, 32) on the BGRA canvas. */
static vg_status paint_square(void *user, const vg_frame *f, AVFrame *canvas) {
    (void)f;
    (*(int *)user)++;
    if (canvas->format != AV_PIX_FMT_BGRA)
        return VG_E_INVALID_ARG;
    for (int y = 32; y < 96; y++)
        memset(canvas->data[0] + (size_t)y * (size_t)canvas->linesize[0] + 32 * 4, 0xff, 64 * 4);
    return VG_OK;
}

static vg_status stop_at_12(void *ctx, vg_frame *f) {
    if (f->index == 11)
        vg_pipeline_request_stop(*(vg_pipeline **)ctx);
    return VG_OK;
}

static void test_mp4_annotated(void) {
    mu_require_ffmpeg();
    const char        *clip = vg_test_require_shared(CLIP);
    vg_video_in_params ip   = vg_video_in_params_default();
    ip.uri                  = clip;
    vg_video_in *in         = NULL;
    VG_CHECK_OK(vg_video_in_open(&ip, &in, NULL, 0));
    char              *dir     = mu_tmpdir();
    char              *m       = tmp_path(dir, "annotated.mp4");
    int                painted = 0;
    vg_mp4_sink_params mp      = vg_mp4_sink_params_default();
    mp.path                    = m;
    mp.preset                  = "ultrafast";
    mp.crf                     = 18;
    mp.annotate                = paint_square;
    mp.annotate_user           = &painted;
    vg_sink sink;
    VG_CHECK_OK(vg_mp4_sink_create(&mp, &sink));
    vg_pipeline       *p  = NULL;
    vg_stage           st = {.name = "stopper", .fn = stop_at_12, .ctx = &p};
    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_video_source    vs;
    vg_video_source_init(&vs, in, NULL, &pp.source);
    vg_video_in_get_info(in, &pp.info);
    pp.stages   = &st;
    pp.n_stages = 1;
    pp.sinks    = &sink;
    pp.n_sinks  = 1;
    VG_CHECK_OK(vg_pipeline_create(&pp, &p, NULL, 0));
    VG_CHECK_OK(vg_pipeline_run(p));
    vg_stats_summary sum;
    vg_pipeline_get_summary(p, &sum);
    VG_CHECK_INT_EQ(painted, (int)sum.total.frames);
    VG_CHECK(painted >= 12);
    vg_pipeline_destroy(p);
    vg_sink_destroy(&sink);
    vg_video_in_close(in);

    /* read it back: the square is white (luma near 235 in limited range) */
    mu_probe_info pi;
    VG_CHECK(mu_probe(m, &pi));
    VG_CHECK_INT_EQ(pi.frames, painted);
    ip.uri = m;
    VG_CHECK_OK(vg_video_in_open(&ip, &in, NULL, 0));
    AVFrame *f = av_frame_alloc();
    VG_CHECK_OK(vg_video_in_read(in, f, NULL));
    VG_CHECK_INT_EQ(f->width, 1280);
    int inside  = f->data[0][64 * f->linesize[0] + 64];
    int outside = f->data[0][64 * f->linesize[0] + 200];
    printf("  luma inside the square %d, beside it %d\n", inside, outside);
    VG_CHECK(inside >= 225);
    VG_CHECK(abs(inside - outside) > 20);
    av_frame_free(&f);
    vg_video_in_close(in);
    mu_rmtree(dir);
    free(dir);
    free(m);
}

static const vg_test_case cases[] = {
    {"no loss, in order; sequential == pipelined JSONL", test_no_loss_and_same_results},
    {"SIGINT mid-run: playable MP4, complete JSONL", test_sigint_mid_run},
    {"second stop request aborts", test_second_stop_aborts},
    {"stage error stops the run", test_stage_error},
    {"thread_init error stops before reading", test_init_error},
    {"sink that cannot open stops before reading", test_sink_open_error},
    {"live source with a slow stage drops, all counted", test_live_drops},
    {"real clip paced as live drops, all counted", test_paced_clip_live_drops},
    {"annotated MP4", test_mp4_annotated},
    {"file back-pressure loses nothing", test_file_backpressure},
    {"stop before run", test_stop_before_run},
    {"invalid params", test_invalid_params},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
