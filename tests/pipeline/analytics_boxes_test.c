/*
 * analytics_boxes_test.c - vg_analytics_params.person_boxes, the per-frame
 * override of the detector's persons (used by `vigil bench pipeline --boxes
 * gt`), on a real picture with the default detector and MoveNet Lightning:
 *   - a frame with given boxes gets exactly those persons, first among the
 *     detections, class 0, each with a pose (also one whose score is below
 *     the person threshold), the detector's other classes kept;
 *   - -1 keeps the detector's persons (same as a run without the hook);
 *   - 0 boxes: no persons, no poses;
 *   - max_persons caps the given persons;
 *   - a callback that returns boxes without an array stops the run with a
 *     message naming person_boxes and the frame;
 *   - sequential and pipelined schedules agree.
 * Needs ../shared (an annotated picture) and the default models (./models,
 * $VIGIL_MODELS or ../shared/models); skipped without them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"
#include "vigil/analytics.h"
#include "vigil/model.h"
#include "vigil/pipeline.h"
#include "vigil/topdown.h"
#include "vigil/video.h"

#define N_FRAMES 4

static const vg_detection given[3] = {
    {.box = {100.0f, 40.0f, 260.0f, 400.0f}, .score = 0.9f, .class_id = 0},
    {.box = {300.5f, 60.25f, 420.0f, 410.0f}, .score = 0.01f, .class_id = 5},
    {.box = {10.0f, 10.0f, 90.0f, 200.0f}, .score = 1.0f, .class_id = 0},
};

typedef struct rec {
    int32_t      n_persons, n_poses, n_dets, n_other;
    vg_detection dets[8];
    vg_box       pose_boxes[8];
} rec;

typedef struct harness {
    AVFrame *pic;
    int64_t  next;
    int      mode; /* 0: per-frame table below; 1: broken callback */
    rec      out[N_FRAMES];
} harness;

static vg_status src_read(void *ctx, vg_frame **out) {
    harness *h = ctx;
    *out       = NULL;
    if (h->next >= N_FRAMES)
        return VG_E_EOF;
    vg_frame *f;
    VG_CHECK_OK(vg_frame_create(&f));
    VG_CHECK_OK(vg_frame_set_picture(f, h->pic));
    f->index     = h->next++;
    f->pts       = f->index;
    f->time_base = (AVRational){1, 25};
    *out         = f;
    return VG_OK;
}

/* frame 0: the three boxes; 1: the detector's; 2: none; 3: the first two. */
static int32_t boxes_cb(void *user, const vg_frame *f, const vg_detection **boxes) {
    harness *h = user;
    *boxes     = given;
    if (h->mode == 1)
        *boxes = NULL;
    switch (f->index) {
    case 0:
        return 3;
    case 1:
        return -1;
    case 2:
        return 0;
    default:
        return 2;
    }
}

static vg_status rec_write(void *ctx, const vg_frame *f) {
    harness *h   = ctx;
    rec     *r   = &h->out[f->index];
    r->n_persons = f->n_persons;
    r->n_poses   = f->n_poses;
    r->n_dets    = f->n_detections;
    for (int32_t i = 0; i < f->n_detections; i++) {
        if (i < 8)
            r->dets[i] = f->detections[i];
        r->n_other += f->detections[i].class_id != 0;
    }
    for (int32_t i = 0; i < f->n_poses && i < 8; i++)
        r->pose_boxes[i] = f->poses[i].det.box;
    return VG_OK;
}

static const vg_sink_iface rec_iface = {.name = "record", .write = rec_write};

typedef struct models {
    vg_model   *det, *pose;
    vg_manifest dman, pman;
    AVFrame    *pic;
} models;

static bool has_file(const char *dir, const char *name) {
    char        p[4400];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/%s/model.json", dir, name);
    return stat(p, &sb) == 0;
}

static void load(models *m) {
    const char *img = vg_test_require_shared("data/images/coco_000000000785.jpg");
    char        dir[4096];
    const char *env = getenv("VIGIL_MODELS");
    snprintf(dir, sizeof(dir), "%s/models", env && *env ? env : vg_test_source_dir());
    if (env && *env)
        snprintf(dir, sizeof(dir), "%s", env);
    if (!has_file(dir, "centernet") || !has_file(dir, "movenet-lightning")) {
        const char *sh = vg_test_shared_dir();
        if (sh)
            snprintf(dir, sizeof(dir), "%s/models", sh);
        if (!sh || !has_file(dir, "centernet") || !has_file(dir, "movenet-lightning"))
            VG_SKIP("centernet and movenet-lightning are neither in ./models nor in "
                    "../shared/models; run 'make models'");
    }
    char path[4400], err[1024];
    snprintf(path, sizeof(path), "%s/centernet", dir);
    VG_CHECK_OK(vg_model_load(path, NULL, &m->det));
    VG_CHECK_OK(vg_model_manifest(m->det, path, &m->dman, err, sizeof(err)));
    snprintf(path, sizeof(path), "%s/movenet-lightning", dir);
    VG_CHECK_OK(vg_model_load(path, NULL, &m->pose));
    VG_CHECK_OK(vg_model_manifest(m->pose, path, &m->pman, err, sizeof(err)));

    vg_video_in_params vp = vg_video_in_params_default();
    vp.uri                = img;
    vg_video_in *in;
    VG_CHECK_OK(vg_video_in_open(&vp, &in, err, sizeof(err)));
    m->pic = av_frame_alloc();
    VG_CHECK(m->pic != NULL);
    VG_CHECK_OK(vg_video_in_read(in, m->pic, NULL));
    vg_video_in_close(in);
}

static void unload(models *m) {
    av_frame_free(&m->pic);
    vg_model_destroy(m->pose);
    vg_model_destroy(m->det);
}

/* Runs the 4 frames; returns the run's status, errmsg into err. */
static vg_status run(models *m, harness *h, bool hook, bool sequential, int32_t max_persons,
                     char *err, size_t n) {
    vg_analytics_params ap = vg_analytics_params_default();
    ap.det_model           = m->det;
    ap.det_manifest        = &m->dman;
    ap.pose_model          = m->pose;
    ap.pose_manifest       = &m->pman;
    ap.det_threads         = 1;
    ap.pose_threads        = 1;
    ap.max_persons         = max_persons;
    if (hook) {
        ap.person_boxes      = boxes_cb;
        ap.person_boxes_user = h;
    }
    vg_analytics *an;
    char          aerr[1024];
    VG_CHECK_OK(vg_analytics_create(&ap, &an, aerr, sizeof(aerr)));
    vg_stage stages[VG_ANALYTICS_MAX_STAGES];
    size_t   ns   = vg_analytics_stages(an, stages);
    vg_sink  sink = {.iface = &rec_iface, .ctx = h};
    h->pic        = m->pic;
    h->next       = 0;
    memset(h->out, 0, sizeof(h->out));
    vg_pipeline_params pp = vg_pipeline_params_default();
    pp.source             = (vg_source){.read = src_read, .ctx = h};
    pp.stages             = stages;
    pp.n_stages           = ns;
    pp.sinks              = &sink;
    pp.n_sinks            = 1;
    pp.sequential         = sequential;
    pp.info.width         = m->pic->width;
    pp.info.height        = m->pic->height;
    vg_pipeline *pl;
    VG_CHECK_OK(vg_pipeline_create(&pp, &pl, NULL, 0));
    vg_status st = vg_pipeline_run(pl);
    snprintf(err, n, "%s | %s", vg_pipeline_errmsg(pl), vg_analytics_errmsg(an));
    vg_pipeline_destroy(pl);
    vg_analytics_destroy(an);
    return st;
}

static void check_boxes_equal(const vg_box *a, const vg_box *b) {
    VG_CHECK_NEAR(a->x1, b->x1, 1e-6);
    VG_CHECK_NEAR(a->y1, b->y1, 1e-6);
    VG_CHECK_NEAR(a->x2, b->x2, 1e-6);
    VG_CHECK_NEAR(a->y2, b->y2, 1e-6);
}

static void test_override(void) {
    models m = {0};
    load(&m);
    static harness ref, h[2];
    char           err[2048];
    VG_CHECK_OK(run(&m, &ref, false, true, 0, err, sizeof(err)));
    VG_CHECK_MSG(ref.out[1].n_persons >= 1, "the detector finds no person in the picture");
    for (int s = 0; s < 2; s++) {
        VG_CHECK_MSG(run(&m, &h[s], true, s == 0, 0, err, sizeof(err)) == VG_OK, "%s", err);
        const rec *r = h[s].out;
        /* Frame 0: exactly the given boxes, first, class 0, each with a pose. */
        VG_CHECK_INT_EQ(r[0].n_persons, 3);
        VG_CHECK_INT_EQ(r[0].n_poses, 3);
        for (int i = 0; i < 3; i++) {
            check_boxes_equal(&r[0].dets[i].box, &given[i].box);
            VG_CHECK_INT_EQ(r[0].dets[i].class_id, 0);
            VG_CHECK_NEAR(r[0].dets[i].score, given[i].score, 0);
            check_boxes_equal(&r[0].pose_boxes[i], &given[i].box);
        }
        /* The detector's other classes stay. */
        VG_CHECK_INT_EQ(r[0].n_other, ref.out[0].n_other);
        VG_CHECK_INT_EQ(r[0].n_dets, 3 + ref.out[0].n_other);
        /* Frame 1: -1 keeps the detector's persons. */
        VG_CHECK_INT_EQ(r[1].n_persons, ref.out[1].n_persons);
        VG_CHECK_INT_EQ(r[1].n_poses, ref.out[1].n_poses);
        VG_CHECK_INT_EQ(r[1].n_dets, ref.out[1].n_dets);
        for (int i = 0; i < r[1].n_poses && i < 8; i++) /* threads may differ: 0.5 px */
            VG_CHECK_NEAR(r[1].pose_boxes[i].x1, ref.out[1].pose_boxes[i].x1, 0.5);
        /* Frame 2: no persons at all. */
        VG_CHECK_INT_EQ(r[2].n_persons, 0);
        VG_CHECK_INT_EQ(r[2].n_poses, 0);
        VG_CHECK_INT_EQ(r[2].n_dets, ref.out[2].n_other);
        VG_CHECK_INT_EQ(r[3].n_poses, 2);
    }
    /* Sequential and pipelined agree on the given persons' keypoint boxes. */
    VG_CHECK_INT_EQ(h[0].out[3].n_persons, h[1].out[3].n_persons);

    /* max_persons caps the given persons. */
    VG_CHECK_OK(run(&m, &h[0], true, true, 2, err, sizeof(err)));
    VG_CHECK_INT_EQ(h[0].out[0].n_persons, 2);
    VG_CHECK_INT_EQ(h[0].out[0].n_poses, 2);

    /* Boxes without an array: the run stops, naming the hook and the frame. */
    h[1].mode    = 1;
    vg_status st = run(&m, &h[1], true, false, 0, err, sizeof(err));
    VG_CHECK_MSG(st == VG_E_INVALID_ARG, "expected VG_E_INVALID_ARG, got %s", vg_status_str(st));
    VG_CHECK_MSG(strstr(err, "person_boxes") && strstr(err, "frame 0"), "message: %s", err);
    unload(&m);
}

static const vg_test_case cases[] = {
    {"person_boxes override", test_override},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
