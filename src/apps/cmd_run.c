/*
 * cmd_run.c - `vigil run`: the video pipeline READ -> PRE-PROCESS -> DETECT ->
 * POSE -> WRITE, from any FFmpeg source to MP4 / JSON Lines / display /
 * snapshots, with a status line and a final stats summary.
 *
 * DESIGN: this file only wires modules. Settings come from an optional INI
 * file (--config, GLib's GKeyFile, groups [source] [detector] [pose] [sink]
 * [pipeline]) and then the command line, both through one setter, so every
 * setting has one name, one parser and one error message. Everything that
 * can fail before the first frame fails here, before the pipeline exists:
 * the input is opened, the models are loaded, their manifests checked and a
 * probe session is created on each device (vg_analytics_create), the output
 * sinks are created. Only then does the pipeline start; SIGINT/SIGTERM stop
 * it cleanly (first signal drains, second aborts). The device split by
 * default gives the detector a third of the available cores (one of two)
 * and the pose model, whose work grows with the persons, the rest (one
 * core: both share it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "apps/commands.h"
#include "vigil/alloc.h"
#include "vigil/analytics.h"
#include "vigil/log.h"
#include "vigil/model.h"
#include "vigil/pipeline.h"
#include "vigil/thread.h"
#include "vigil/topdown.h"
#include "vigil/video.h"

#define MAX_CONFIG_STRINGS 64

typedef struct run_opts {
    const char *input, *detector, *pose, *det_device, *pose_device, *backend, *precision;
    const char *output, *json, *stats, *snapshots, *screenshot;
    const char *live, *drop;
    bool        display, sequential, realtime, quiet;
    int         snapshot_every, pose_batch, queue, max_persons, threads;
    long long   frames;
    float       threshold, kp_threshold;
    char       *owned[MAX_CONFIG_STRINGS]; /* strings from the config file */
    int         n_owned;
} run_opts;

static void run_usage(FILE *f) {
    fprintf(
        f, "usage: vigil run --input SRC [options]\n"
           "  Reads video, detects objects and persons, estimates each person's 17 keypoints\n"
           "  (top-down), and writes annotated video, JSON Lines, a display and stats.\n"
           "  Stages READ -> PRE-PROCESS -> DETECT -> POSE -> WRITE run in their own threads,\n"
           "  joined by bounded queues; the detector and the pose model run on their own devices.\n"
           "input:\n"
           "  --input SRC          video file, image, folder or glob of images, stream URL\n"
           "                       (rtsp/http/tcp/udp/...), or camera (/dev/video0)\n"
           "  --live auto|on|off   live semantics: drop frames when behind (default auto:\n"
           "                       streams and cameras are live, files are not)\n"
           "  --drop oldest|newest which frames live sources drop (default oldest)\n"
           "  --realtime           pace a file at its frame rate (simulates a camera)\n"
           "  --frames N           stop after N frames\n"
           "models and devices:\n"
           "  --detector MODEL     name in $VIGIL_MODELS or ./models, or a path; default\n"
           "                       centernet; 'none': no analytics (video passes through)\n"
           "  --pose MODEL         top-down pose model; default movenet-thunder (else\n"
           "                       movenet-lightning); 'none': detection only\n"
           "  --det-device DEV     cores for the detector: cpu:0, cpu:0-1, cpu (all cores),\n"
           "                       or a GPU: cuda:N (needs a build with CUDA)\n"
           "  --pose-device DEV    cores or GPU for the pose model (default: a third of the\n"
           "                       cores, at least one, for the detector, the rest for the\n"
           "                       pose); e.g. --det-device cpu:0-1 --pose-device cuda:0;\n"
           "                       both on cuda:0 share the GPU with a stream each\n"
           "  --backend ref|cpu|cuda  inference backend for both models (default: per device,\n"
           "                       cuda on a GPU, else cpu when built)\n"
           "  --precision fp32|fp16  arithmetic of the models on GPU devices (default fp32);\n"
           "                       models on CPU devices always run in fp32\n"
           "  --threads N          threads per model (default: one per core of its device)\n"
           "  --threshold T        detector score threshold (default: the model's)\n"
           "  --pose-batch N       most person crops per pose run (default 16; 1 = one by one;\n"
           "                       models with a fixed batch such as MoveNet run one by one)\n"
           "  --max-persons N      most persons per frame that get a pose (default: all)\n"
           "outputs:\n"
           "  --output FILE.mp4    annotated H.264 video at the source's size and rate\n"
           "  --json FILE.jsonl    one JSON line per frame ('-' = stdout)\n"
           "  --display            show the annotated video in a window (q/Esc stops)\n"
           "  --display-screenshot F  at the end, write the window's picture to F (PNG)\n"
           "  --snapshots DIR      annotated JPEGs of every N-th frame (--snapshot-every N,\n"
           "                       default 25)\n"
           "  --stats FILE.json    final metrics summary\n"
           "  --kp-threshold T     keypoints drawn at or above T (default 0.3)\n"
           "pipeline:\n"
           "  --sequential         run all stages one after another in one thread (baseline)\n"
           "  --queue N            frames per queue (default 4 for files; 1 for live\n"
           "                       sources, which keeps their latency lowest)\n"
           "  --quiet              no status line\n"
           "  --config FILE        settings from an INI file; options given on the command\n"
           "                       line win. Groups and keys:\n"
           "                         [source]   input live drop realtime frames\n"
           "                         [detector] model device threshold\n"
           "                         [pose]     model device batch max-persons kp-threshold\n"
           "                         [sink]     output json display snapshots snapshot-every\n"
           "                                    stats\n"
           "                         [pipeline] backend precision threads sequential queue\n"
           "                                    quiet\n"
           "Ctrl-C stops reading and finishes the frames in flight (outputs stay complete);\n"
           "a second Ctrl-C discards them. Exit status: 0 done, 1 failed, 2 usage error.\n");
}

/* ---- settings ------------------------------------------------------------------ */

static bool parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno       = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    errno    = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = (float)v;
    return true;
}

static bool parse_bool(const char *s, bool *out) {
    if (!s || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = false;
        return true;
    }
    return false;
}

typedef enum opt_kind { OPT_STR, OPT_FLAG, OPT_INT, OPT_FLOAT } opt_kind;

typedef struct opt_def {
    const char *name;  /* command line */
    const char *group; /* config file */
    const char *key;
    opt_kind    kind;
    size_t      offset;
    long long   lo, hi; /* ints; floats use 0..1 */
} opt_def;

#define OFF(f) offsetof(run_opts, f)
static const opt_def opt_defs[] = {
    {"--input", "source", "input", OPT_STR, OFF(input), 0, 0},
    {"--live", "source", "live", OPT_STR, OFF(live), 0, 0},
    {"--drop", "source", "drop", OPT_STR, OFF(drop), 0, 0},
    {"--realtime", "source", "realtime", OPT_FLAG, OFF(realtime), 0, 0},
    {"--frames", "source", "frames", OPT_INT, OFF(frames), 1, (long long)1 << 40},
    {"--detector", "detector", "model", OPT_STR, OFF(detector), 0, 0},
    {"--det-device", "detector", "device", OPT_STR, OFF(det_device), 0, 0},
    {"--threshold", "detector", "threshold", OPT_FLOAT, OFF(threshold), 0, 0},
    {"--pose", "pose", "model", OPT_STR, OFF(pose), 0, 0},
    {"--pose-device", "pose", "device", OPT_STR, OFF(pose_device), 0, 0},
    {"--pose-batch", "pose", "batch", OPT_INT, OFF(pose_batch), 1, 1024},
    {"--max-persons", "pose", "max-persons", OPT_INT, OFF(max_persons), 0, 100000},
    {"--kp-threshold", "pose", "kp-threshold", OPT_FLOAT, OFF(kp_threshold), 0, 0},
    {"--output", "sink", "output", OPT_STR, OFF(output), 0, 0},
    {"--json", "sink", "json", OPT_STR, OFF(json), 0, 0},
    {"--display", "sink", "display", OPT_FLAG, OFF(display), 0, 0},
    {"--display-screenshot", "sink", "display-screenshot", OPT_STR, OFF(screenshot), 0, 0},
    {"--snapshots", "sink", "snapshots", OPT_STR, OFF(snapshots), 0, 0},
    {"--snapshot-every", "sink", "snapshot-every", OPT_INT, OFF(snapshot_every), 1, 1 << 30},
    {"--stats", "sink", "stats", OPT_STR, OFF(stats), 0, 0},
    {"--backend", "pipeline", "backend", OPT_STR, OFF(backend), 0, 0},
    {"--precision", "pipeline", "precision", OPT_STR, OFF(precision), 0, 0},
    {"--threads", "pipeline", "threads", OPT_INT, OFF(threads), 0, 1024},
    {"--sequential", "pipeline", "sequential", OPT_FLAG, OFF(sequential), 0, 0},
    {"--queue", "pipeline", "queue", OPT_INT, OFF(queue), 1, 1024},
    {"--quiet", "pipeline", "quiet", OPT_FLAG, OFF(quiet), 0, 0},
};
#undef OFF

/* Applies one setting; `where` names its origin in messages. Returns 0 or 2. */
static int set_opt(run_opts *o, const opt_def *d, const char *v, const char *where) {
    char *base = (char *)o + d->offset;
    switch (d->kind) {
    case OPT_STR:
        *(const char **)(void *)base = v;
        return 0;
    case OPT_FLAG:
        if (!parse_bool(v, (bool *)(void *)base)) {
            fprintf(stderr, "vigil run: %s '%s': give true or false\n", where, v);
            return 2;
        }
        return 0;
    case OPT_INT: {
        long long x;
        if (!parse_int(v, d->lo, d->hi, &x)) {
            fprintf(stderr, "vigil run: %s '%s': give a whole number in %lld..%lld\n", where, v,
                    d->lo, d->hi);
            return 2;
        }
        if (d->offset == offsetof(run_opts, frames))
            o->frames = x;
        else
            *(int *)(void *)base = (int)x;
        return 0;
    }
    case OPT_FLOAT:
        if (!parse_float(v, 0.0f, 1.0f, (float *)(void *)base)) {
            fprintf(stderr, "vigil run: %s '%s': give a number in 0..1\n", where, v);
            return 2;
        }
        return 0;
    }
    return 2;
}

static const opt_def *find_opt(const char *name) {
    for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++)
        if (!strcmp(opt_defs[i].name, name))
            return &opt_defs[i];
    return NULL;
}

/* Reads an INI file into o. Returns 0, 1 (cannot read) or 2 (bad content). */
static int load_config(run_opts *o, const char *path) {
    GKeyFile *kf   = g_key_file_new();
    GError   *gerr = NULL;
    int       rc   = 0;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        fprintf(stderr, "vigil run: --config %s: %s\n", path, gerr->message);
        rc = gerr->domain == G_FILE_ERROR ? 1 : 2;
        g_error_free(gerr);
        g_key_file_free(kf);
        return rc;
    }
    gsize   n_groups = 0;
    gchar **groups   = g_key_file_get_groups(kf, &n_groups);
    for (gsize g = 0; g < n_groups && rc == 0; g++) {
        gsize   n_keys = 0;
        gchar **keys   = g_key_file_get_keys(kf, groups[g], &n_keys, NULL);
        for (gsize k = 0; keys && k < n_keys && rc == 0; k++) {
            const opt_def *d = NULL;
            for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]) && !d; i++)
                if (!strcmp(opt_defs[i].group, groups[g]) && !strcmp(opt_defs[i].key, keys[k]))
                    d = &opt_defs[i];
            if (!d) {
                fprintf(stderr,
                        "vigil run: --config %s: unknown setting [%s] %s; see 'vigil run --help' "
                        "for the groups and keys\n",
                        path, groups[g], keys[k]);
                rc = 2;
                break;
            }
            gchar *v = g_key_file_get_string(kf, groups[g], keys[k], NULL);
            if (!v || o->n_owned == MAX_CONFIG_STRINGS) {
                g_free(v);
                fprintf(stderr, "vigil run: --config %s: [%s] %s: unreadable value\n", path,
                        groups[g], keys[k]);
                rc = 2;
                break;
            }
            o->owned[o->n_owned++] = v;
            char where[256];
            snprintf(where, sizeof(where), "%s: [%s] %s", path, groups[g], keys[k]);
            rc = set_opt(o, d, v, where);
        }
        g_strfreev(keys);
    }
    g_strfreev(groups);
    g_key_file_free(kf);
    return rc;
}

static void free_opts(run_opts *o) {
    for (int i = 0; i < o->n_owned; i++)
        g_free(o->owned[i]);
    o->n_owned = 0;
}

/* Returns 0 to run, -1 after --help, else the exit code. */
static int parse_opts(int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof(*o));
    o->snapshot_every = 25;
    o->pose_batch     = 16;
    o->queue          = 0; /* 0: by source kind */
    o->threshold      = -1.0f;
    o->kp_threshold   = 0.3f;
    o->live           = "auto";
    o->drop           = "oldest";
    /* The config file first, so that the command line wins. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            run_usage(stdout);
            return -1;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vigil run: --config needs a value; see 'vigil run --help'\n");
                return 2;
            }
            int rc = load_config(o, argv[++i]);
            if (rc)
                return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        const opt_def *d = find_opt(a);
        if (!d) {
            fprintf(stderr, "vigil run: %s '%s'; see 'vigil run --help'\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return 2;
        }
        const char *v = NULL;
        if (d->kind != OPT_FLAG) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vigil run: %s needs a value; see 'vigil run --help'\n", a);
                return 2;
            }
            v = argv[++i];
        }
        int rc = set_opt(o, d, v, a);
        if (rc)
            return rc;
    }
    if (!o->input) {
        fprintf(stderr, "vigil run: no input given; usage: vigil run --input SRC (see --help)\n");
        return 2;
    }
    if (strcmp(o->live, "auto") && strcmp(o->live, "on") && strcmp(o->live, "off")) {
        fprintf(stderr, "vigil run: --live '%s': give auto, on or off\n", o->live);
        return 2;
    }
    if (strcmp(o->drop, "oldest") && strcmp(o->drop, "newest")) {
        fprintf(stderr, "vigil run: --drop '%s': give oldest or newest\n", o->drop);
        return 2;
    }
    if (o->precision && strcmp(o->precision, "fp32") && strcmp(o->precision, "fp16")) {
        fprintf(stderr, "vigil run: --precision '%s': give fp32 or fp16\n", o->precision);
        return 2;
    }
    if (o->screenshot && !o->display) {
        fprintf(stderr, "vigil run: --display-screenshot needs --display\n");
        return 2;
    }
    return 0;
}

/* ---- models ----------------------------------------------------------------------- */

static bool path_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void resolve_model(const char *arg, char *buf, size_t n) {
    if (strchr(arg, '/') || path_exists(arg)) {
        snprintf(buf, n, "%s", arg);
        return;
    }
    const char *dir = getenv("VIGIL_MODELS");
    snprintf(buf, n, "%s/%s", dir && *dir ? dir : "models", arg);
}

typedef struct loaded_model {
    char        path[4096];
    vg_model   *model;
    vg_manifest manifest;
} loaded_model;

static int load_model(const char *what, const char *opt, const char *arg, loaded_model *lm) {
    resolve_model(arg, lm->path, sizeof(lm->path));
    if (!path_exists(lm->path)) {
        fprintf(stderr,
                "vigil run: %s model '%s' not found (looked for %s); run 'make models' (or "
                "scripts/fetch-models.sh), set VIGIL_MODELS to the models folder, or pass %s "
                "PATH\n",
                what, arg, lm->path, opt);
        return 1;
    }
    if (vg_model_load(lm->path, NULL, &lm->model) != VG_OK) {
        fprintf(stderr, "vigil run: cannot load %s model %s: %s\n", what, lm->path,
                vg_model_errmsg(NULL));
        return 1;
    }
    char err[2048];
    if (vg_model_manifest(lm->model, lm->path, &lm->manifest, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil run: %s model: %s\n", what, err);
        return 1;
    }
    return 0;
}

/* Default devices: a third of the available cores (at least one) for the
 * detector, the rest for the pose model; one core is shared. */
static void default_devices(char *det, char *pose, size_t n) {
    vg_cpuset avail, a, b;
    vg_cpuset_clear(&a);
    vg_cpuset_clear(&b);
    if (vg_cpuset_available(&avail) != VG_OK || vg_cpuset_count(&avail) == 0) {
        snprintf(det, n, "cpu");
        snprintf(pose, n, "cpu");
        return;
    }
    /* The pose stage's work grows with the number of persons (one crop each),
     * the detector's does not: beyond two cores, a third goes to the detector. */
    int total = vg_cpuset_count(&avail), seen = 0, n_det = total <= 2 ? 1 : total / 3;
    for (int c = 0; c < VG_CPUSET_MAX; c++) {
        if (!vg_cpuset_has(&avail, c))
            continue;
        if (total == 1) {
            vg_cpuset_add(&a, c);
            vg_cpuset_add(&b, c);
        } else {
            vg_cpuset_add(seen < n_det ? &a : &b, c);
        }
        seen++;
    }
    char la[256], lb[256];
    vg_cpuset_format(&a, la, sizeof(la));
    vg_cpuset_format(&b, lb, sizeof(lb));
    snprintf(det, n, "cpu:%s", la);
    snprintf(pose, n, "cpu:%s", lb);
}

/* ---- the run ------------------------------------------------------------------------ */

/* A source that stops after `limit` frames. */
typedef struct limited_source {
    vg_source inner;
    long long limit, count;
} limited_source;

static vg_status limited_read(void *ctx, vg_frame **out) {
    limited_source *ls = ctx;
    *out               = NULL;
    if (ls->limit > 0 && ls->count >= ls->limit)
        return VG_E_EOF;
    vg_status st = ls->inner.read(ls->inner.ctx, out);
    if (st == VG_OK)
        ls->count++;
    return st;
}

static void limited_interrupt(void *ctx) {
    limited_source *ls = ctx;
    if (ls->inner.interrupt)
        ls->inner.interrupt(ls->inner.ctx);
}

typedef struct run_ctx {
    bool         quiet, tty;
    vg_pipeline *pipeline;
} run_ctx;

static void on_status(void *user, vg_pipeline *p) {
    run_ctx *r = user;
    if (r->quiet)
        return;
    vg_stats_summary *s = vg_malloc(sizeof(*s));
    if (!s)
        return;
    vg_pipeline_get_summary(p, s);
    char buf[1024];
    vg_stats_format_progress(s, buf, sizeof(buf));
    if (r->tty)
        fprintf(stderr, "\r%s\033[K", buf);
    else
        fprintf(stderr, "%s\n", buf);
    fflush(stderr);
    vg_free(s);
}

static void on_quit(void *user) {
    run_ctx *r = user;
    if (r->pipeline)
        vg_pipeline_request_stop(r->pipeline);
}

static void print_summary(const vg_stats_summary *s, const char *det_dev, const char *pose_dev,
                          bool sequential) {
    const vg_stats_view *t = &s->total;
    printf("vigil run: %llu frames in %.1f s (%s): %.2f fps, latency capture->written mean %.0f "
           "ms, p50 %.0f, p95 %.0f, max %.0f; persons/frame %.1f, poses/s %.1f; dropped %llu",
           (unsigned long long)t->frames, s->elapsed_s, sequential ? "sequential" : "pipelined",
           t->fps, t->latency.mean, t->latency.p50, t->latency.p95, t->latency.max, t->persons_mean,
           t->poses_per_s, (unsigned long long)s->dropped);
    if (det_dev)
        printf("; detector %s", det_dev);
    if (pose_dev)
        printf(", pose %s", pose_dev);
    printf("\n");
}

int cmd_run(int argc, char **argv) {
    run_opts o;
    int      rc = parse_opts(argc, argv, &o);
    if (rc != 0) {
        free_opts(&o);
        return rc < 0 ? 0 : rc;
    }
    rc = 1;
    char              err[2048], det_dev[300], pose_dev[300];
    loaded_model      det = {0}, pose = {0};
    vg_analytics     *an   = NULL;
    vg_annotator     *ann  = NULL;
    vg_video_in      *in   = NULL;
    vg_frame_pool    *pool = NULL;
    vg_pipeline      *pl   = NULL;
    vg_stats_summary *sum  = NULL;
    vg_sink           sinks[VG_PIPELINE_MAX_SINKS];
    size_t            n_sinks = 0;
    memset(sinks, 0, sizeof(sinks));
    run_ctx rctx = {.quiet = o.quiet, .tty = isatty(STDERR_FILENO) != 0};

    /* Input. */
    vg_video_in_params vp = vg_video_in_params_default();
    vp.uri                = o.input;
    vp.realtime           = o.realtime;
    vp.live               = !strcmp(o.live, "on")    ? VG_LIVE_ON
                            : !strcmp(o.live, "off") ? VG_LIVE_OFF
                                                     : VG_LIVE_AUTO;
    if (vg_video_in_open(&vp, &in, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil run: %s\n", err);
        goto done;
    }
    vg_video_info info;
    vg_video_in_get_info(in, &info);
    if (o.frames > 0 && (info.nb_frames < 0 || info.nb_frames > o.frames) && !info.live)
        info.nb_frames = o.frames;

    /* Models and devices. */
    bool use_det  = !o.detector || strcmp(o.detector, "none");
    bool use_pose = use_det && (!o.pose || strcmp(o.pose, "none"));
    default_devices(det_dev, pose_dev, sizeof(det_dev));
    if (o.det_device)
        snprintf(det_dev, sizeof(det_dev), "%s", o.det_device);
    if (o.pose_device)
        snprintf(pose_dev, sizeof(pose_dev), "%s", o.pose_device);
    if (!use_det && o.pose && strcmp(o.pose, "none")) {
        fprintf(stderr, "vigil run: --pose needs a detector (top-down pose runs on its person "
                        "boxes); drop --detector none\n");
        rc = 2;
        goto done;
    }
    if (use_det &&
        load_model("detector", "--detector", o.detector ? o.detector : "centernet", &det) != 0)
        goto done;
    if (use_pose) {
        const char *name = o.pose;
        if (!name) {
            char p[4096];
            resolve_model("movenet-thunder", p, sizeof(p));
            name = path_exists(p) ? "movenet-thunder" : "movenet-lightning";
        }
        if (load_model("pose", "--pose", name, &pose) != 0)
            goto done;
    }
    if (use_det) {
        vg_analytics_params ap = vg_analytics_params_default();
        ap.det_model           = det.model;
        ap.det_manifest        = &det.manifest;
        ap.det_backend         = o.backend;
        ap.det_device          = det_dev;
        ap.det_threads         = o.threads;
        ap.det_precision       = strncmp(det_dev, "cuda", 4) ? NULL : o.precision;
        if (use_pose) {
            ap.pose_model     = pose.model;
            ap.pose_manifest  = &pose.manifest;
            ap.pose_backend   = o.backend;
            ap.pose_device    = pose_dev;
            ap.pose_threads   = o.threads;
            ap.pose_precision = strncmp(pose_dev, "cuda", 4) ? NULL : o.precision;
        }
        ap.score_threshold = o.threshold;
        ap.pose_batch      = o.pose_batch;
        ap.max_persons     = o.max_persons;
        if (vg_analytics_create(&ap, &an, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigil run: %s\n", err);
            goto done;
        }
    }

    /* Sinks. */
    if (o.output || o.display || o.snapshots) {
        vg_draw_params dp     = vg_draw_params_default();
        dp.keypoint_threshold = o.kp_threshold;
        if (vg_annotator_create(&dp, &ann) != VG_OK) {
            fprintf(stderr, "vigil run: cannot create the overlay renderer\n");
            goto done;
        }
    }
    if (o.json && vg_jsonl_sink_create(o.json, &sinks[n_sinks++]) != VG_OK) {
        fprintf(stderr, "vigil run: --json %s: cannot create the JSON Lines sink\n", o.json);
        goto done;
    }
    if (o.output) {
        vg_mp4_sink_params mp = vg_mp4_sink_params_default();
        mp.path               = o.output;
        mp.annotate           = vg_annotator_draw;
        mp.annotate_user      = ann;
        if (vg_mp4_sink_create(&mp, &sinks[n_sinks++]) != VG_OK) {
            fprintf(stderr, "vigil run: --output %s: cannot create the MP4 sink\n", o.output);
            goto done;
        }
    }
    if (o.display) {
        vg_display_sink_params dsp = vg_display_sink_params_default();
        dsp.annotator              = ann;
        dsp.on_quit                = on_quit;
        dsp.quit_user              = &rctx;
        dsp.screenshot_path        = o.screenshot;
        vg_status st               = vg_display_sink_create(&dsp, &sinks[n_sinks]);
        if (st != VG_OK) {
            fprintf(stderr, "vigil run: --display: %s\n",
                    st == VG_E_UNSUPPORTED ? "this vigil was built without the SDL2 display "
                                             "(install libsdl2-dev and configure with "
                                             "-DVG_WITH_DISPLAY=ON)"
                                           : vg_status_str(st));
            goto done;
        }
        n_sinks++;
    }
    if (o.snapshots) {
        if (vg_snapshot_sink_create(o.snapshots, o.snapshot_every, ann, &sinks[n_sinks++]) !=
            VG_OK) {
            fprintf(stderr, "vigil run: --snapshots %s: cannot create the snapshot sink\n",
                    o.snapshots);
            goto done;
        }
    }
    if (n_sinks == 0 && !o.stats)
        fprintf(stderr, "vigil run: note: no output given (--output, --json, --display, "
                        "--snapshots, --stats); only the status is shown\n");

    /* The pipeline. */
    if (vg_frame_pool_create(&pool) != VG_OK) {
        fprintf(stderr, "vigil run: out of memory\n");
        goto done;
    }
    vg_video_source vs;
    limited_source  ls = {.limit = o.frames};
    vg_video_source_init(&vs, in, pool, &ls.inner);
    vg_stage           stages[VG_ANALYTICS_MAX_STAGES];
    size_t             n_stages = an ? vg_analytics_stages(an, stages) : 0;
    vg_pipeline_params pp       = vg_pipeline_params_default();
    pp.source     = (vg_source){.read = limited_read, .interrupt = limited_interrupt, .ctx = &ls};
    pp.stages     = stages;
    pp.n_stages   = n_stages;
    pp.sinks      = sinks;
    pp.n_sinks    = n_sinks;
    pp.info       = info;
    pp.sequential = o.sequential;
    pp.live       = info.live;
    pp.live_leak  = !strcmp(o.drop, "newest") ? VG_LEAK_NEWEST : VG_LEAK_OLDEST;
    /* Live: a frame waiting in a full queue behind a slow stage only ages, so
     * one slot per queue keeps every stage busy at the lowest latency. */
    pp.queue_capacity = (size_t)(o.queue > 0 ? o.queue : info.live ? 1 : 4);
    pp.on_status      = on_status;
    pp.status_user    = &rctx;
    if (vg_pipeline_create(&pp, &pl, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil run: %s\n", err[0] ? err : "cannot create the pipeline");
        goto done;
    }
    rctx.pipeline = pl;
    if (!o.quiet)
        fprintf(stderr,
                "vigil run: %s (%s, %dx%d, %d/%d fps%s) -> %zu stage%s%s%s, detector %s on %s, "
                "pose %s on %s\n",
                o.input, vg_source_kind_name(info.kind), info.width, info.height,
                info.frame_rate.num, info.frame_rate.den, info.live ? ", live" : "", n_stages,
                n_stages == 1 ? "" : "s", o.sequential ? " (sequential)" : "",
                o.sequential ? "" : " (pipelined)", an ? det.manifest.name : "none",
                an ? det_dev : "-", an && use_pose ? pose.manifest.name : "none",
                an && use_pose ? pose_dev : "-");
    vg_pipeline_install_signals(pl);
    vg_status st = vg_pipeline_run(pl);
    vg_pipeline_remove_signals();
    if (!o.quiet && rctx.tty)
        fprintf(stderr, "\n");

    sum = vg_malloc(sizeof(*sum));
    if (sum)
        vg_pipeline_get_summary(pl, sum);
    if (st != VG_OK) {
        const char *detail = an ? vg_analytics_errmsg(an) : "";
        fprintf(stderr, "vigil run: %s%s%s\n", vg_pipeline_errmsg(pl), detail[0] ? ": " : "",
                detail);
    } else {
        rc = 0;
    }
    if (sum && o.stats && vg_stats_write_json(sum, o.stats) != VG_OK) {
        fprintf(stderr, "vigil run: cannot write --stats %s\n", o.stats);
        rc = 1;
    }
    if (sum && st == VG_OK)
        print_summary(sum, an ? det_dev : NULL, an && use_pose ? pose_dev : NULL, o.sequential);
    vg_video_in_stats vis;
    vg_video_in_get_stats(in, &vis);
    if (vis.reconnects || vis.corrupt_packets || vis.corrupt_frames)
        printf("vigil run: input: %lld reconnect%s, %lld corrupt packet%s and %lld corrupt "
               "picture%s skipped\n",
               (long long)vis.reconnects, vis.reconnects == 1 ? "" : "s",
               (long long)vis.corrupt_packets, vis.corrupt_packets == 1 ? "" : "s",
               (long long)vis.corrupt_frames, vis.corrupt_frames == 1 ? "" : "s");
    if (vg_pipeline_stop_level(pl) > 0 && st == VG_OK)
        fprintf(stderr, "vigil run: stopped on request after %llu frames; outputs finalised\n",
                sum ? (unsigned long long)sum->total.frames : 0ULL);

done:
    vg_free(sum);
    vg_pipeline_destroy(pl);
    for (size_t i = 0; i < VG_PIPELINE_MAX_SINKS; i++)
        vg_sink_destroy(&sinks[i]);
    vg_frame_pool_destroy(pool);
    vg_analytics_destroy(an);
    vg_annotator_destroy(ann);
    vg_model_destroy(pose.model);
    vg_model_destroy(det.model);
    vg_video_in_close(in);
    free_opts(&o);
    return rc;
}
