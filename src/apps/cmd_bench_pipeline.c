/*
 * cmd_bench_pipeline.c - `vigil bench pipeline`: the performance-vs-people
 * sweep of the whole detection + pose pipeline, in several variants (pipelined
 * or sequential, pose batch, device split), to CSV, JSON, a text table and a
 * three-panel SVG figure.
 *
 * DESIGN
 * Frames. For every person count k the command builds a segment of frames,
 * decoded before anything is timed: with --images and --boxes gt (the
 * default) the annotated image with the smallest person count >= k supplies
 * its first k ground-truth boxes (cycled when no image has k persons; k = 0
 * takes the first image by name), the recipe of bench/lib/images.mjs, so
 * vigil and the peer pipelines see the same frames. The detector still runs
 * on every frame; the pose stage gets exactly those k boxes through
 * vg_analytics_params.person_boxes. With --boxes detect the segment cycles
 * the images whose ground truth has exactly k persons and the pose stage
 * takes what the detector finds; with --video the first --video-frames
 * pictures are decoded, a detection-only pass counts the persons in each and
 * they are grouped by that count.
 *
 * Runs. One pipeline run per variant streams every segment in turn: W
 * warm-up frames then F measured frames per segment, so sessions are created
 * once per variant. The writer-side sink resets the pipeline's stats at the
 * first measured frame of a segment and takes the stats' window view (F
 * frames: steady-state FPS over the finishing times, latency mean and p95,
 * service time per stage, poses/s) when the next segment's first frame
 * arrives. The source admits a frame only while fewer than --in-flight
 * frames are in the pipeline (like a camera whose frames are grabbed when the
 * pipeline can take one): with the default of 2 the detector works on frame
 * t+1 while the pose model works on frame t, without frames ageing in queues,
 * so the latency stays near the sum of the stage times instead of growing
 * with the queue capacities.
 *
 * Pipeline bound: 1 / (the slowest stage's mean service time) for the
 * pipelined variants, 1 / (the sum of the stage times) for the sequential
 * one; the target is FPS >= 0.9 x bound.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/frame.h>

#include "apps/commands.h"
#include "vigil/alloc.h"
#include "vigil/analytics.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/model.h"
#include "vigil/pipeline.h"
#include "vigil/thread.h"
#include "vigil/topdown.h"
#include "vigil/video.h"

#define MAX_PERSON_COUNTS 32
#define MAX_VARIANTS      8
#define TOKEN_AUX_SLOT    1 /* the analytics stages use slot 0 */

static const char *const PROG = "vigil bench pipeline";

/* ---- options ------------------------------------------------------------------ */

typedef struct bp_opts {
    const char *images, *gt, *video, *detector, *pose, *boxes, *variants, *csv, *svg;
    const char *backend, *det_device, *pose_device, *title;
    int         persons[MAX_PERSON_COUNTS];
    int         n_persons;
    int         frames, warmup, in_flight, threads, pose_batch, video_frames;
    bool        json, quick;
} bp_opts;

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vigil bench pipeline [--images DIR --gt FILE.json | --video FILE] [options]\n"
        "  Streams frames with 0, 1, 2 ... persons through the detection + pose pipeline and\n"
        "  measures FPS, end-to-end latency (mean, p95), poses/s and each stage's service\n"
        "  time, for several pipeline variants in the same run.\n"
        "frames:\n"
        "  --images DIR         annotated images (default $VIGIL_SHARED/data/images,\n"
        "                       VIGIL_SHARED defaults to ../shared)\n"
        "  --gt FILE.json       their COCO person annotations (default $VIGIL_SHARED/data/\n"
        "                       annotations/person_keypoints_shared.json)\n"
        "  --boxes gt|detect    gt (default): the pose stage gets exactly k ground-truth boxes\n"
        "                       of the image with the fewest persons >= k (the detector still\n"
        "                       runs); detect: images with k annotated persons, poses for the\n"
        "                       persons the detector finds\n"
        "  --video FILE         frames from a video instead, grouped by detected persons\n"
        "  --video-frames N     pictures decoded from the video (default 60)\n"
        "  --persons LIST       person counts (default 0,1,2,3,5,8,12,20; video: those found)\n"
        "  --frames F           measured frames per person count and variant (default 6)\n"
        "  --warmup W           untimed frames before them (default 2)\n"
        "  --quick              smoke run: --frames 2 --warmup 1 --persons 0,1,3,8 unless given\n"
        "models and devices:\n"
        "  --detector MODEL     name in $VIGIL_MODELS or ./models, or a path (default centernet)\n"
        "  --pose MODEL         top-down pose model (default movenet-thunder)\n"
        "  --backend ref|cpu    inference backend (default: cpu when built)\n"
        "  --threads N          threads per model (default: one per core of its device)\n"
        "  --det-device DEV     detector cores in the split variants (default: a third of the\n"
        "  --pose-device DEV    cores, at least one, for the detector; the rest for the pose)\n"
        "  --pose-batch N       most crops per pose run in the batched variants (default 16)\n"
        "  --in-flight N        most frames in the pipeline at once (default 2; 0: no limit,\n"
        "                       the queues fill up and latency grows with their capacity)\n"
        "  --variants LIST      any of pipelined,sequential,batch1,shared (default: all;\n"
        "                       batch1 is left out when the pose model has a fixed batch of 1)\n"
        "                         pipelined   one thread per stage, detector and pose on\n"
        "                                     disjoint cores, batched pose\n"
        "                         sequential  the same stages one after another, both models\n"
        "                                     on all cores\n"
        "                         batch1      pipelined with --pose-batch 1\n"
        "                         shared      pipelined with both models on all cores\n"
        "outputs:\n"
        "  --csv FILE           one row per variant and person count (units in the headers)\n"
        "  --svg FILE           three panels (FPS, latency, poses/s against persons), one line\n"
        "                       per variant, drawn with gnuplot (Debian gnuplot-nox); a name\n"
        "                       ending in .png gives a PNG instead\n"
        "  --title TEXT         the figure's title (default: the model names)\n"
        "  --json               one JSON object on stdout instead of the table\n"
        "Progress goes to stderr. Exit status: 0 done, 1 failed, 2 usage error.\n");
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno  = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_persons(const char *s, bp_opts *o) {
    o->n_persons = 0;
    while (*s) {
        char *end;
        errno  = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > 1000 || o->n_persons == MAX_PERSON_COUNTS)
            return false;
        for (int i = 0; i < o->n_persons; i++)
            if (o->persons[i] == v)
                return false;
        o->persons[o->n_persons++] = (int)v;
        s                          = end;
        if (*s == ',')
            s++;
        else if (*s)
            return false;
    }
    return o->n_persons > 0;
}

/* Returns -1 to run, else the exit code. */
static int parse_opts(int argc, char **argv, bp_opts *o) {
    memset(o, 0, sizeof(*o));
    o->boxes           = NULL;
    o->frames          = -1;
    o->warmup          = -1;
    o->in_flight       = 2;
    o->pose_batch      = 16;
    o->video_frames    = 60;
    o->variants        = "pipelined,sequential,batch1,shared";
    bool persons_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--quick")) {
            o->quick = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            fprintf(stderr, "%s: unexpected argument '%s'; see --help\n", PROG, a);
            return 2;
        }
        static const char *const with_value[] = {
            "--images",  "--gt",         "--video",       "--boxes",      "--detector",
            "--pose",    "--variants",   "--csv",         "--svg",        "--title",
            "--backend", "--det-device", "--pose-device", "--persons",    "--frames",
            "--warmup",  "--in-flight",  "--threads",     "--pose-batch", "--video-frames"};
        bool known = false;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
            known = known || !strcmp(a, with_value[k]);
        if (!known) {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", PROG, a);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "%s: %s needs a value; see --help\n", PROG, a);
            return 2;
        }
        i++;
        bool ok = true;
        if (!strcmp(a, "--images"))
            o->images = v;
        else if (!strcmp(a, "--gt"))
            o->gt = v;
        else if (!strcmp(a, "--video"))
            o->video = v;
        else if (!strcmp(a, "--boxes"))
            o->boxes = v;
        else if (!strcmp(a, "--detector"))
            o->detector = v;
        else if (!strcmp(a, "--pose"))
            o->pose = v;
        else if (!strcmp(a, "--variants"))
            o->variants = v;
        else if (!strcmp(a, "--csv"))
            o->csv = v;
        else if (!strcmp(a, "--svg"))
            o->svg = v;
        else if (!strcmp(a, "--title"))
            o->title = v;
        else if (!strcmp(a, "--backend"))
            o->backend = v;
        else if (!strcmp(a, "--det-device"))
            o->det_device = v;
        else if (!strcmp(a, "--pose-device"))
            o->pose_device = v;
        else if (!strcmp(a, "--persons"))
            ok = persons_given = parse_persons(v, o);
        else if (!strcmp(a, "--frames"))
            ok = parse_int(v, 2, 100000, &o->frames);
        else if (!strcmp(a, "--warmup"))
            ok = parse_int(v, 0, 100000, &o->warmup);
        else if (!strcmp(a, "--in-flight"))
            ok = parse_int(v, 0, 1024, &o->in_flight);
        else if (!strcmp(a, "--threads"))
            ok = parse_int(v, 0, 1024, &o->threads);
        else if (!strcmp(a, "--pose-batch"))
            ok = parse_int(v, 1, 1024, &o->pose_batch);
        else if (!strcmp(a, "--video-frames"))
            ok = parse_int(v, 1, 100000, &o->video_frames);
        else {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", PROG, a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr,
                    "%s: bad value '%s' for %s; see --help (--persons: distinct counts 0..1000 "
                    "separated by commas; --frames >= 2)\n",
                    PROG, v, a);
            return 2;
        }
    }
    if (o->video && (o->images || o->gt)) {
        fprintf(stderr, "%s: give either --video or --images/--gt, not both\n", PROG);
        return 2;
    }
    if (!o->boxes)
        o->boxes = o->video ? "detect" : "gt";
    if (strcmp(o->boxes, "gt") && strcmp(o->boxes, "detect")) {
        fprintf(stderr, "%s: --boxes '%s': give gt or detect\n", PROG, o->boxes);
        return 2;
    }
    if (o->video && !strcmp(o->boxes, "gt")) {
        fprintf(stderr,
                "%s: --boxes gt needs annotated images (--images, --gt); a video has "
                "no ground truth\n",
                PROG);
        return 2;
    }
    if (o->frames < 0)
        o->frames = o->quick ? 2 : 6;
    if (o->warmup < 0)
        o->warmup = o->quick ? 1 : 2;
    if (!persons_given && !o->video) {
        const char *def = o->quick ? "0,1,3,8" : "0,1,2,3,5,8,12,20";
        parse_persons(def, o);
    }
    return -1;
}

/* ---- variants ------------------------------------------------------------------ */

typedef struct variant {
    const char *name;
    bool        sequential;
    bool        split;     /* detector and pose on disjoint cores */
    bool        batch_one; /* pose batch 1 instead of --pose-batch */
} variant;

static const variant all_variants[] = {
    {"pipelined", false, true, false},
    {"sequential", true, false, false},
    {"batch1", false, true, true},
    {"shared", false, false, false},
};

static int parse_variants(const char *s, const variant **out) {
    int n = 0;
    while (*s) {
        size_t         len   = strcspn(s, ",");
        const variant *found = NULL;
        for (size_t i = 0; i < sizeof(all_variants) / sizeof(all_variants[0]); i++)
            if (strlen(all_variants[i].name) == len && !strncmp(all_variants[i].name, s, len))
                found = &all_variants[i];
        if (!found || n == MAX_VARIANTS) {
            fprintf(stderr,
                    "%s: --variants: unknown or repeated variant '%.*s'; give any of "
                    "pipelined,sequential,batch1,shared\n",
                    PROG, (int)len, s);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (out[i] == found) {
                fprintf(stderr, "%s: --variants: '%s' given twice\n", PROG, found->name);
                return -1;
            }
        out[n++] = found;
        s += len;
        if (*s == ',')
            s++;
    }
    if (n == 0)
        fprintf(stderr, "%s: --variants is empty\n", PROG);
    return n > 0 ? n : -1;
}

/* ---- models --------------------------------------------------------------------- */

typedef struct loaded_model {
    char        path[4096];
    vg_model   *model;
    vg_manifest manifest;
} loaded_model;

static bool path_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static int load_model(const char *what, const char *opt, const char *arg, loaded_model *lm) {
    if (strchr(arg, '/') || path_exists(arg)) {
        snprintf(lm->path, sizeof(lm->path), "%s", arg);
    } else {
        const char *dir = getenv("VIGIL_MODELS");
        snprintf(lm->path, sizeof(lm->path), "%s/%s", dir && *dir ? dir : "models", arg);
    }
    if (!path_exists(lm->path)) {
        fprintf(stderr,
                "%s: %s model '%s' not found (looked for %s); run 'make models', set "
                "VIGIL_MODELS to the models folder, or pass %s PATH\n",
                PROG, what, arg, lm->path, opt);
        return 1;
    }
    if (vg_model_load(lm->path, NULL, &lm->model) != VG_OK) {
        fprintf(stderr, "%s: cannot load %s model %s: %s\n", PROG, what, lm->path,
                vg_model_errmsg(NULL));
        return 1;
    }
    char err[2048];
    if (vg_model_manifest(lm->model, lm->path, &lm->manifest, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s: %s model: %s\n", PROG, what, err);
        return 1;
    }
    return 0;
}

/* A third of the available cores (at least one) for the detector, the rest
 * for the pose model (the policy of `vigil run`); one core: both share it. */
static void split_devices(char *det, char *pose, size_t n) {
    vg_cpuset avail, a, b;
    vg_cpuset_clear(&a);
    vg_cpuset_clear(&b);
    if (vg_cpuset_available(&avail) != VG_OK || vg_cpuset_count(&avail) < 2) {
        snprintf(det, n, "cpu");
        snprintf(pose, n, "cpu");
        return;
    }
    int total = vg_cpuset_count(&avail), seen = 0, n_det = total <= 2 ? 1 : total / 3;
    for (int c = 0; c < VG_CPUSET_MAX; c++) {
        if (!vg_cpuset_has(&avail, c))
            continue;
        vg_cpuset_add(seen < n_det ? &a : &b, c);
        seen++;
    }
    char la[256], lb[256];
    vg_cpuset_format(&a, la, sizeof(la));
    vg_cpuset_format(&b, lb, sizeof(lb));
    snprintf(det, n, "cpu:%s", la);
    snprintf(pose, n, "cpu:%s", lb);
}

/* ---- frames --------------------------------------------------------------------- */

typedef struct bp_image {
    char         *name; /* file name, for ordering and messages */
    int64_t       id;
    vg_detection *boxes; /* ground-truth persons, annotation order */
    int32_t       n_boxes, cap_boxes;
    AVFrame      *pic; /* decoded on demand */
} bp_image;

typedef struct segment {
    int           k;    /* the person count this segment stands for */
    AVFrame     **pics; /* borrowed; cycled */
    int           n_pics;
    vg_detection *boxes;     /* owned; given to the pose stage (gt mode) */
    int32_t       n_boxes;   /* -1: the detector's persons */
    char          what[160]; /* where the frames come from, for the log */
} segment;

typedef struct frameset {
    bp_image *images;
    int       n_images;
    AVFrame **video; /* decoded video pictures */
    int       n_video;
    segment   segs[MAX_PERSON_COUNTS];
    int       n_segs;
    int       width, height;
} frameset;

static void frameset_free(frameset *fs) {
    for (int i = 0; i < fs->n_images; i++) {
        vg_free(fs->images[i].name);
        vg_free(fs->images[i].boxes);
        av_frame_free(&fs->images[i].pic);
    }
    vg_free(fs->images);
    for (int i = 0; i < fs->n_video; i++)
        av_frame_free(&fs->video[i]);
    vg_free(fs->video);
    for (int i = 0; i < fs->n_segs; i++) {
        vg_free(fs->segs[i].boxes);
        vg_free(fs->segs[i].pics);
    }
    memset(fs, 0, sizeof(*fs));
}

/* Decodes the first picture of an image file. */
static int decode_image(const char *path, AVFrame **out) {
    vg_video_in_params vp = vg_video_in_params_default();
    vp.uri                = path;
    vp.live               = VG_LIVE_OFF;
    vg_video_in *in       = NULL;
    char         err[1024];
    if (vg_video_in_open(&vp, &in, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 1;
    }
    AVFrame *pic = av_frame_alloc();
    if (!pic || vg_video_in_read(in, pic, NULL) != VG_OK) {
        fprintf(stderr, "%s: %s: cannot decode a picture: %s\n", PROG, path,
                pic ? vg_video_in_errmsg(in) : "out of memory");
        av_frame_free(&pic);
        vg_video_in_close(in);
        return 1;
    }
    vg_video_in_close(in);
    *out = pic;
    return 0;
}

static int cmp_image(const void *a, const void *b) {
    return strcmp(((const bp_image *)a)->name, ((const bp_image *)b)->name);
}

/* Reads the COCO annotations: images and their non-crowd person boxes. */
static int load_gt(const char *path, frameset *fs) {
    json_error_t je;
    json_t      *root = json_load_file(path, 0, &je);
    if (!root) {
        fprintf(stderr,
                "%s: --gt %s: %s; give a COCO person_keypoints JSON file, or set "
                "VIGIL_SHARED to the reference folder\n",
                PROG, path, je.text);
        return 1;
    }
    json_t *ims = json_object_get(root, "images"), *anns = json_object_get(root, "annotations");
    int     rc = 1;
    if (!json_is_array(ims) || !json_is_array(anns) || json_array_size(ims) == 0) {
        fprintf(stderr, "%s: --gt %s: no 'images' and 'annotations' arrays (COCO format)\n", PROG,
                path);
        goto done;
    }
    fs->images = vg_calloc(json_array_size(ims), sizeof(bp_image));
    if (!fs->images)
        goto nomem;
    size_t  i;
    json_t *v;
    json_array_foreach(ims, i, v) {
        const char *fn = json_string_value(json_object_get(v, "file_name"));
        json_t     *id = json_object_get(v, "id");
        if (!fn || !json_is_integer(id)) {
            fprintf(stderr, "%s: --gt %s: images[%zu] lacks 'file_name' or 'id'\n", PROG, path, i);
            goto done;
        }
        bp_image *im = &fs->images[fs->n_images++];
        im->id       = json_integer_value(id);
        if (!(im->name = vg_malloc(strlen(fn) + 1)))
            goto nomem;
        strcpy(im->name, fn);
    }
    json_array_foreach(anns, i, v) {
        json_t *bb = json_object_get(v, "bbox");
        if (json_integer_value(json_object_get(v, "category_id")) != 1 ||
            json_is_true(json_object_get(v, "iscrowd")) ||
            json_integer_value(json_object_get(v, "iscrowd")) != 0)
            continue;
        if (!json_is_array(bb) || json_array_size(bb) != 4) {
            fprintf(stderr, "%s: --gt %s: annotations[%zu] has no 4-number 'bbox'\n", PROG, path,
                    i);
            goto done;
        }
        int64_t   img = json_integer_value(json_object_get(v, "image_id"));
        bp_image *im  = NULL;
        for (int k = 0; k < fs->n_images && !im; k++)
            if (fs->images[k].id == img)
                im = &fs->images[k];
        if (!im)
            continue;
        if (im->n_boxes == im->cap_boxes) {
            int32_t       cap = im->cap_boxes ? 2 * im->cap_boxes : 8;
            vg_detection *nb  = vg_realloc(im->boxes, (size_t)cap * sizeof(*nb));
            if (!nb)
                goto nomem;
            im->boxes     = nb;
            im->cap_boxes = cap;
        }
        float x = (float)json_number_value(json_array_get(bb, 0));
        float y = (float)json_number_value(json_array_get(bb, 1));
        float w = (float)json_number_value(json_array_get(bb, 2));
        float h = (float)json_number_value(json_array_get(bb, 3));
        im->boxes[im->n_boxes++] =
            (vg_detection){.box = {x, y, x + w, y + h}, .score = 1.0f, .class_id = 0};
    }
    qsort(fs->images, (size_t)fs->n_images, sizeof(bp_image), cmp_image);
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "%s: out of memory reading %s\n", PROG, path);
done:
    json_decref(root);
    return rc;
}

static int image_pic(const char *dir, bp_image *im, AVFrame **out) {
    if (!im->pic) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, im->name);
        if (decode_image(path, &im->pic) != 0)
            return 1;
    }
    *out = im->pic;
    return 0;
}

/* Builds the segments from the annotated images (see the recipe at the top). */
static int build_image_segments(const bp_opts *o, const char *dir, frameset *fs) {
    bool gt = !strcmp(o->boxes, "gt");
    for (int p = 0; p < o->n_persons; p++) {
        int      k = o->persons[p];
        segment *s = &fs->segs[fs->n_segs];
        memset(s, 0, sizeof(*s));
        s->k = k;
        if (gt) {
            bp_image *im = NULL;
            if (k == 0) {
                im = &fs->images[0];
            } else {
                for (int i = 0; i < fs->n_images; i++) /* fewest >= k, ties by name */
                    if (fs->images[i].n_boxes >= k && (!im || fs->images[i].n_boxes < im->n_boxes))
                        im = &fs->images[i];
                if (!im) /* nobody has k: the most persons, boxes cycled */
                    for (int i = 0; i < fs->n_images; i++)
                        if (!im || fs->images[i].n_boxes > im->n_boxes)
                            im = &fs->images[i];
                if (im->n_boxes == 0) {
                    fprintf(stderr,
                            "%s: --gt has no person boxes at all; cannot make frames "
                            "with %d persons\n",
                            PROG, k);
                    return 1;
                }
            }
            s->pics  = vg_malloc(sizeof(AVFrame *));
            s->boxes = vg_calloc((size_t)(k > 0 ? k : 1), sizeof(vg_detection));
            if (!s->pics || !s->boxes) {
                fprintf(stderr, "%s: out of memory\n", PROG);
                return 1;
            }
            fs->n_segs++;
            if (image_pic(dir, im, &s->pics[0]) != 0)
                return 1;
            s->n_pics  = 1;
            s->n_boxes = k;
            for (int i = 0; i < k; i++)
                s->boxes[i] = im->boxes[i % im->n_boxes];
            snprintf(s->what, sizeof(s->what), "%s, %d of its %d ground-truth boxes%s", im->name, k,
                     im->n_boxes, k > im->n_boxes ? " (cycled)" : "");
        } else {
            int n = 0;
            for (int i = 0; i < fs->n_images; i++)
                n += fs->images[i].n_boxes == k;
            if (n == 0) {
                fprintf(stderr, "%s: note: no annotated image has exactly %d persons; skipped\n",
                        PROG, k);
                continue;
            }
            if (!(s->pics = vg_calloc((size_t)n, sizeof(AVFrame *)))) {
                fprintf(stderr, "%s: out of memory\n", PROG);
                return 1;
            }
            fs->n_segs++;
            for (int i = 0; i < fs->n_images; i++)
                if (fs->images[i].n_boxes == k &&
                    image_pic(dir, &fs->images[i], &s->pics[s->n_pics++]) != 0)
                    return 1;
            s->n_boxes = -1;
            snprintf(s->what, sizeof(s->what), "%d image(s) with %d annotated persons", n, k);
        }
    }
    return 0;
}

/* ---- the measuring source and sink ----------------------------------------------- */

typedef struct stage_slots {
    int read, pre, detect, pose, write;
} stage_slots;

typedef struct result_row {
    const variant *v;
    int            k, frames, pose_batch;
    double         persons_mean, poses_per_frame, fps, lat_mean, lat_p95, poses_per_s;
    double         read_ms, pre_ms, detect_ms, pose_ms, write_ms, bound_fps;
    char           det_device[64], pose_device[64];
} result_row;

typedef struct bench_run {
    frameset      *fs;
    int            warmup, frames, in_flight;
    int64_t        next;  /* next frame position to read */
    int64_t        total; /* frames in the run */
    vg_frame_pool *pool;
    vg_pipeline   *pl;
    /* in-flight limit */
    vg_mutex lock;
    vg_cond  cond;
    int      inside;
    bool     interrupted;
    /* results */
    vg_stats_summary *sum;
    result_row       *rows; /* one per segment */
    const variant    *v;
    bool              record_persons; /* detection-only pass: n_persons per frame */
    int32_t          *persons_seen;
    const char       *det_device, *pose_device;
    int               pose_batch;
} bench_run;

static int64_t per_seg(const bench_run *r) {
    return (int64_t)r->warmup + r->frames;
}

static void token_release(void *data) {
    bench_run *r = data;
    vg_mutex_lock(&r->lock);
    r->inside--;
    vg_cond_broadcast(&r->cond);
    vg_mutex_unlock(&r->lock);
}

static vg_status src_read(void *ctx, vg_frame **out) {
    bench_run *r = ctx;
    *out         = NULL;
    if (r->next >= r->total)
        return VG_E_EOF;
    vg_mutex_lock(&r->lock);
    while (r->in_flight > 0 && r->inside >= r->in_flight && !r->interrupted)
        vg_cond_wait(&r->cond, &r->lock);
    bool stop = r->interrupted;
    if (!stop)
        r->inside++;
    vg_mutex_unlock(&r->lock);
    if (stop)
        return VG_E_CLOSED;
    int64_t        pos = r->next++;
    const segment *s   = &r->fs->segs[pos / per_seg(r)];
    vg_frame      *f   = NULL;
    vg_status      st  = vg_frame_pool_get(r->pool, &f);
    if (st == VG_OK)
        st = vg_frame_set_picture(f, s->pics[(pos % per_seg(r)) % s->n_pics]);
    if (st != VG_OK) {
        vg_frame_unref(f);
        token_release(r);
        return st;
    }
    f->index     = pos;
    f->pts       = pos;
    f->time_base = (AVRational){1, 25};
    f->time_s    = (double)pos / 25.0;
    vg_frame_set_aux(f, TOKEN_AUX_SLOT, r, token_release);
    *out = f;
    return VG_OK;
}

static void src_interrupt(void *ctx) {
    bench_run *r = ctx;
    /* Not async-signal-safe with a mutex: the bench installs no signal
     * handlers, so this is only reached from pipeline stops in threads. */
    vg_mutex_lock(&r->lock);
    r->interrupted = true;
    vg_cond_broadcast(&r->cond);
    vg_mutex_unlock(&r->lock);
}

static int32_t given_boxes(void *user, const vg_frame *f, const vg_detection **boxes) {
    bench_run     *r = user;
    const segment *s = &r->fs->segs[f->index / per_seg(r)];
    *boxes           = s->boxes;
    return s->n_boxes;
}

static stage_slots find_slots(const vg_stats_summary *s) {
    stage_slots sl = {-1, -1, -1, -1, -1};
    for (int i = 0; i < s->n_slots; i++) {
        const char *n = s->slot_names[i];
        if (!strcmp(n, "read"))
            sl.read = i;
        else if (!strcmp(n, "pre"))
            sl.pre = i;
        else if (!strcmp(n, "detect"))
            sl.detect = i;
        else if (!strcmp(n, "pose"))
            sl.pose = i;
        else if (!strcmp(n, "write"))
            sl.write = i;
    }
    return sl;
}

static double slot_ms(const vg_stats_view *v, int slot) {
    return slot >= 0 ? v->service[slot].mean : 0.0;
}

/* Takes the window view of segment si's measured frames into its row. */
static void finish_segment(bench_run *r, int si) {
    vg_stats_summarize(vg_pipeline_stats(r->pl), r->sum);
    const vg_stats_view *w   = &r->sum->window;
    stage_slots          sl  = find_slots(r->sum);
    result_row          *row = &r->rows[si];
    row->v                   = r->v;
    row->k                   = r->fs->segs[si].k;
    row->frames              = (int)w->frames;
    row->pose_batch          = r->pose_batch;
    row->persons_mean        = w->persons_mean;
    row->poses_per_frame     = w->frames ? (double)w->poses / (double)w->frames : 0.0;
    row->fps                 = w->fps;
    row->lat_mean            = w->latency.mean;
    row->lat_p95             = w->latency.p95;
    row->poses_per_s         = w->poses_per_s;
    row->read_ms             = slot_ms(w, sl.read);
    row->pre_ms              = slot_ms(w, sl.pre);
    row->detect_ms           = slot_ms(w, sl.detect);
    row->pose_ms             = slot_ms(w, sl.pose);
    row->write_ms            = slot_ms(w, sl.write);
    /* The reader's time is the wait for admission (the pictures are decoded
     * beforehand), so the bound counts the other slots only. */
    double worst = 0.0, sum = 0.0;
    for (int i = 0; i < r->sum->n_slots; i++) {
        if (i == sl.read)
            continue;
        double t = w->service[i].mean;
        sum += t;
        if (t > worst)
            worst = t;
    }
    double per     = r->v && r->v->sequential ? sum : worst;
    row->bound_fps = per > 0 ? 1000.0 / per : 0.0;
    snprintf(row->det_device, sizeof(row->det_device), "%s", r->det_device ? r->det_device : "");
    snprintf(row->pose_device, sizeof(row->pose_device), "%s",
             r->pose_device ? r->pose_device : "");
    if (r->v)
        fprintf(stderr,
                "%s: %-10s %2d persons: %6.2f fps, latency %7.1f ms (p95 %7.1f), %6.2f poses/s; "
                "stages pre %.1f, detect %.1f, pose %.1f ms; bound %.2f fps (%.0f%%)\n",
                PROG, r->v->name, row->k, row->fps, row->lat_mean, row->lat_p95, row->poses_per_s,
                row->pre_ms, row->detect_ms, row->pose_ms, row->bound_fps,
                row->bound_fps > 0 ? 100.0 * row->fps / row->bound_fps : 0.0);
}

static vg_status sink_write(void *ctx, const vg_frame *f) {
    bench_run *r   = ctx;
    int64_t    pos = f->index;
    int64_t    si = pos / per_seg(r), i = pos % per_seg(r);
    if (r->record_persons)
        r->persons_seen[pos] = f->n_persons;
    if (i == 0 && si > 0)
        finish_segment(r, (int)si - 1);
    if (i == r->warmup)
        vg_stats_reset(vg_pipeline_stats(r->pl));
    return VG_OK;
}

static const vg_sink_iface bench_sink_iface = {.name = "bench", .write = sink_write};

/* Runs every segment through one pipeline with analytics `an`. Returns 0 or 1. */
static int run_segments(bench_run *r, vg_analytics *an, bool sequential) {
    int rc         = 1;
    r->next        = 0;
    r->total       = (int64_t)r->fs->n_segs * per_seg(r);
    r->inside      = 0;
    r->interrupted = false;
    vg_stage           stages[VG_ANALYTICS_MAX_STAGES];
    size_t             n_stages = vg_analytics_stages(an, stages);
    vg_sink            sink     = {.iface = &bench_sink_iface, .ctx = r};
    vg_pipeline_params pp       = vg_pipeline_params_default();
    pp.source         = (vg_source){.read = src_read, .interrupt = src_interrupt, .ctx = r};
    pp.stages         = stages;
    pp.n_stages       = n_stages;
    pp.sinks          = &sink;
    pp.n_sinks        = 1;
    pp.info           = (vg_video_info){.kind       = VG_SOURCE_IMAGES,
                                        .width      = r->fs->width,
                                        .height     = r->fs->height,
                                        .time_base  = {1, 25},
                                        .frame_rate = {25, 1},
                                        .nb_frames  = r->total};
    pp.sequential     = sequential;
    pp.queue_capacity = 4;
    pp.stats_window   = (size_t)(r->frames > 2 ? r->frames : 2);
    pp.stats_history  = pp.stats_window > 64 ? pp.stats_window : 64;
    char err[1024];
    if (vg_pipeline_create(&pp, &r->pl, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err[0] ? err : "cannot create the pipeline");
        return 1;
    }
    vg_status st = vg_pipeline_run(r->pl);
    if (st != VG_OK) {
        const char *detail = vg_analytics_errmsg(an);
        fprintf(stderr, "%s: %s%s%s\n", PROG, vg_pipeline_errmsg(r->pl), detail[0] ? ": " : "",
                detail);
    } else {
        finish_segment(r, r->fs->n_segs - 1);
        rc = 0;
    }
    vg_pipeline_destroy(r->pl);
    r->pl = NULL;
    return rc;
}

/* ---- video frames ------------------------------------------------------------------ */

static int load_video(const bp_opts *o, frameset *fs) {
    vg_video_in_params vp = vg_video_in_params_default();
    vp.uri                = o->video;
    vp.live               = VG_LIVE_OFF;
    vg_video_in *in       = NULL;
    char         err[1024];
    if (vg_video_in_open(&vp, &in, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 1;
    }
    fs->video = vg_calloc((size_t)o->video_frames, sizeof(AVFrame *));
    if (!fs->video) {
        vg_video_in_close(in);
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    int rc = 0;
    while (fs->n_video < o->video_frames) {
        AVFrame *pic = av_frame_alloc();
        if (!pic) {
            rc = 1;
            break;
        }
        vg_status st = vg_video_in_read(in, pic, NULL);
        if (st != VG_OK) {
            av_frame_free(&pic);
            if (st != VG_E_EOF) {
                fprintf(stderr, "%s: --video %s: frame %d: %s\n", PROG, o->video, fs->n_video,
                        vg_video_in_errmsg(in));
                rc = 1;
            }
            break;
        }
        fs->video[fs->n_video++] = pic;
    }
    vg_video_in_close(in);
    if (rc == 0 && fs->n_video == 0) {
        fprintf(stderr, "%s: --video %s: no pictures decoded\n", PROG, o->video);
        rc = 1;
    }
    return rc;
}

/* Groups the video's pictures by the persons a detection-only pass finds. */
static int group_video(const bp_opts *o, frameset *fs, const loaded_model *det,
                       bool persons_given) {
    vg_analytics_params ap = vg_analytics_params_default();
    ap.det_model           = det->model;
    ap.det_manifest        = &det->manifest;
    ap.det_backend         = o->backend;
    ap.det_threads         = o->threads;
    vg_analytics *an       = NULL;
    char          err[2048];
    if (vg_analytics_create(&ap, &an, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 1;
    }
    frameset tmp = {0};
    tmp.n_segs   = 1;
    tmp.segs[0]  = (segment){.k = 0, .pics = fs->video, .n_pics = fs->n_video, .n_boxes = -1};
    tmp.width    = fs->width;
    tmp.height   = fs->height;
    bench_run  r = {.fs = &tmp, .warmup = 0, .frames = fs->n_video, .in_flight = 0};
    result_row row;
    r.rows           = &row;
    r.record_persons = true;
    r.persons_seen   = vg_calloc((size_t)fs->n_video, sizeof(int32_t));
    r.sum            = vg_malloc(sizeof(*r.sum));
    int rc           = 1;
    if (!r.persons_seen || !r.sum || vg_frame_pool_create(&r.pool) != VG_OK ||
        vg_mutex_init(&r.lock) != VG_OK) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto done;
    }
    vg_cond_init(&r.cond);
    fprintf(stderr, "%s: counting the persons in %d pictures of %s\n", PROG, fs->n_video, o->video);
    rc = run_segments(&r, an, true);
    vg_cond_fini(&r.cond);
    vg_mutex_fini(&r.lock);
    if (rc != 0)
        goto done;
    /* The person counts: those asked for, or every count seen (ascending). */
    int counts[MAX_PERSON_COUNTS], n_counts = 0;
    if (persons_given) {
        memcpy(counts, o->persons, sizeof(int) * (size_t)o->n_persons);
        n_counts = o->n_persons;
    } else {
        for (int k = 0; k <= 1000 && n_counts < MAX_PERSON_COUNTS; k++)
            for (int i = 0; i < fs->n_video; i++)
                if (r.persons_seen[i] == k) {
                    counts[n_counts++] = k;
                    break;
                }
    }
    for (int c = 0; c < n_counts; c++) {
        int n = 0;
        for (int i = 0; i < fs->n_video; i++)
            n += r.persons_seen[i] == counts[c];
        if (n == 0) {
            fprintf(stderr, "%s: note: no picture with %d detected persons; skipped\n", PROG,
                    counts[c]);
            continue;
        }
        segment *s = &fs->segs[fs->n_segs];
        memset(s, 0, sizeof(*s));
        if (!(s->pics = vg_calloc((size_t)n, sizeof(AVFrame *)))) {
            rc = 1;
            break;
        }
        fs->n_segs++;
        s->k       = counts[c];
        s->n_boxes = -1;
        for (int i = 0; i < fs->n_video; i++)
            if (r.persons_seen[i] == counts[c])
                s->pics[s->n_pics++] = fs->video[i];
        snprintf(s->what, sizeof(s->what), "%d video picture(s) with %d detected persons", n,
                 counts[c]);
    }
done:
    vg_frame_pool_destroy(r.pool);
    vg_analytics_destroy(an);
    vg_free(r.persons_seen);
    vg_free(r.sum);
    return rc;
}

/* ---- outputs ------------------------------------------------------------------------ */

static const char CSV_HEAD[] =
    "variant,persons,frames,poses_per_frame,fps,latency_mean_ms,latency_p95_ms,poses_per_s,"
    "read_ms,pre_ms,detect_ms,pose_ms,write_ms,pose_ms_per_person,bound_fps,fps_over_bound,"
    "bound_met,sequential,pose_batch,det_device,pose_device";

/* A CSV field: quoted when it holds a comma (core lists such as cpu:0,2). */
static const char *csv_field(const char *s, char *buf, size_t n) {
    if (!strchr(s, ','))
        return s;
    snprintf(buf, n, "\"%s\"", s);
    return buf;
}

static int write_csv(const char *path, const result_row *rows, int n) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: --csv %s: %s\n", PROG, path, strerror(errno));
        return 1;
    }
    fprintf(f, "%s\n", CSV_HEAD);
    for (int i = 0; i < n; i++) {
        const result_row *r    = &rows[i];
        double            over = r->bound_fps > 0 ? r->fps / r->bound_fps : 0.0;
        char              dq[80], pq[80];
        fprintf(f,
                "%s,%d,%d,%.2f,%.3f,%.1f,%.1f,%.3f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,%.3f,%s,%s,"
                "%d,%s,%s\n",
                r->v->name, r->k, r->frames, r->poses_per_frame, r->fps, r->lat_mean, r->lat_p95,
                r->poses_per_s, r->read_ms, r->pre_ms, r->detect_ms, r->pose_ms, r->write_ms,
                r->poses_per_frame > 0 ? r->pose_ms / r->poses_per_frame : 0.0, r->bound_fps, over,
                over >= 0.9 ? "yes" : "no", r->v->sequential ? "yes" : "no", r->pose_batch,
                csv_field(r->det_device, dq, sizeof(dq)),
                csv_field(r->pose_device, pq, sizeof(pq)));
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: --csv %s: write failed\n", PROG, path);
        return 1;
    }
    return 0;
}

/* Escapes a string for a double-quoted gnuplot string. */
static void gp_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Draws the three panels with gnuplot (data inline, one data block per variant). */
static int write_svg(const char *path, const char *title, const result_row *rows, int n,
                     const variant *const *vs, int n_vs) {
    char cmd[4400];
    snprintf(cmd, sizeof(cmd), "gnuplot");
    FILE *g = popen(cmd, "w");
    if (!g) {
        fprintf(stderr,
                "%s: --svg: cannot start gnuplot (%s); install Debian package "
                "gnuplot-nox\n",
                PROG, strerror(errno));
        return 1;
    }
    for (int v = 0; v < n_vs; v++) {
        fprintf(g, "$%s << EOD\n", vs[v]->name);
        for (int i = 0; i < n; i++)
            if (rows[i].v == vs[v])
                fprintf(g, "%d %.4f %.2f %.2f %.4f\n", rows[i].k, rows[i].fps, rows[i].lat_mean,
                        rows[i].lat_p95, rows[i].poses_per_s);
        fprintf(g, "EOD\n");
    }
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".png"))
        fprintf(g, "set terminal pngcairo size 1500,480 font 'DejaVu Sans,10'\nset output ");
    else
        fprintf(g, "set terminal svg size 1500,480 dynamic font 'DejaVu Sans,12' background rgb "
                   "'white'\nset output ");
    gp_string(g, path);
    fprintf(g, "\nset multiplot layout 1,3 title ");
    gp_string(g, title);
    fprintf(g, "\nset grid\nset key top right\nset xlabel 'persons per frame'\n"
               "set yrange [0:*]\nset xrange [0:*]\nset offsets 0, 0.5, 0, 0\n");
    static const struct {
        const char *title, *ylabel, *using;
    } panels[] = {
        {"Frames per second", "frames/s", "1:2"},
        {"End-to-end latency (mean; dashed: p95)", "latency (ms)", "1:3"},
        {"Poses per second", "poses/s", "1:5"},
    };
    for (size_t p = 0; p < 3; p++) {
        fprintf(g, "set title '%s'\nset ylabel '%s'\nplot ", panels[p].title, panels[p].ylabel);
        for (int v = 0; v < n_vs; v++) {
            fprintf(g, "%s$%s using %s with linespoints lw 2 pt 7 lc %d title '%s'", v ? ", " : "",
                    vs[v]->name, panels[p].using, v + 1, vs[v]->name);
            if (p == 1)
                fprintf(g, ", $%s using 1:4 with lines dt 2 lc %d notitle", vs[v]->name, v + 1);
        }
        fprintf(g, "\n");
    }
    fprintf(g, "unset multiplot\nset output\n");
    int st = pclose(g);
    if (st != 0) {
        fprintf(stderr,
                "%s: --svg %s: gnuplot failed (status %d); install Debian package "
                "gnuplot-nox\n",
                PROG, path, st);
        return 1;
    }
    return 0;
}

static void print_table(const result_row *rows, int n) {
    printf("%-10s %7s %7s %9s %9s %9s %8s %8s %8s %9s %7s\n", "variant", "persons", "fps", "lat ms",
           "p95 ms", "poses/s", "pre ms", "det ms", "pose ms", "bound fps", "of it");
    for (int i = 0; i < n; i++) {
        const result_row *r = &rows[i];
        printf("%-10s %7d %7.2f %9.1f %9.1f %9.2f %8.1f %8.1f %8.1f %9.2f %6.0f%%\n", r->v->name,
               r->k, r->fps, r->lat_mean, r->lat_p95, r->poses_per_s, r->pre_ms, r->detect_ms,
               r->pose_ms, r->bound_fps, r->bound_fps > 0 ? 100.0 * r->fps / r->bound_fps : 0.0);
    }
}

static void print_json(const bp_opts *o, const loaded_model *det, const loaded_model *pose,
                       const frameset *fs, const result_row *rows, int n, double elapsed_s) {
    json_t *root = json_object(), *arr = json_array(), *segs = json_array();
    json_object_set_new(root, "detector", json_string(det->manifest.name));
    json_object_set_new(root, "pose", json_string(pose->manifest.name));
    json_object_set_new(root, "detector_path", json_string(det->path));
    json_object_set_new(root, "pose_path", json_string(pose->path));
    json_object_set_new(root, "boxes", json_string(o->boxes));
    json_object_set_new(root, "frames", json_integer(o->frames));
    json_object_set_new(root, "warmup", json_integer(o->warmup));
    json_object_set_new(root, "in_flight", json_integer(o->in_flight));
    json_object_set_new(root, "elapsed_s", json_real(elapsed_s));
    for (int i = 0; i < fs->n_segs; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "persons", json_integer(fs->segs[i].k));
        json_object_set_new(s, "frames_from", json_string(fs->segs[i].what));
        json_array_append_new(segs, s);
    }
    json_object_set_new(root, "segments", segs);
    for (int i = 0; i < n; i++) {
        const result_row *r = &rows[i];
        json_t           *j = json_object();
        json_object_set_new(j, "variant", json_string(r->v->name));
        json_object_set_new(j, "persons", json_integer(r->k));
        json_object_set_new(j, "frames", json_integer(r->frames));
        json_object_set_new(j, "poses_per_frame", json_real(r->poses_per_frame));
        json_object_set_new(j, "fps", json_real(r->fps));
        json_object_set_new(j, "latency_mean_ms", json_real(r->lat_mean));
        json_object_set_new(j, "latency_p95_ms", json_real(r->lat_p95));
        json_object_set_new(j, "poses_per_s", json_real(r->poses_per_s));
        json_object_set_new(j, "pre_ms", json_real(r->pre_ms));
        json_object_set_new(j, "detect_ms", json_real(r->detect_ms));
        json_object_set_new(j, "pose_ms", json_real(r->pose_ms));
        json_object_set_new(j, "bound_fps", json_real(r->bound_fps));
        json_object_set_new(j, "sequential", json_boolean(r->v->sequential));
        json_object_set_new(j, "pose_batch", json_integer(r->pose_batch));
        json_object_set_new(j, "det_device", json_string(r->det_device));
        json_object_set_new(j, "pose_device", json_string(r->pose_device));
        json_array_append_new(arr, j);
    }
    json_object_set_new(root, "rows", arr);
    char *text = json_dumps(root, JSON_INDENT(1));
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(root);
}

/* ---- the command ----------------------------------------------------------------------- */

/* True when the pose model's input has a fixed batch of 1 (MoveNet). */
static bool pose_batch_fixed(const loaded_model *pose) {
    const vg_io_info *in = vg_model_input(pose->model, 0);
    return in && in->shape.ndim > 0 && in->shape.dims[0] == 1;
}

int cmd_bench_pipeline(int argc, char **argv) {
    bp_opts o;
    int     rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = 1;
    const variant *vs[MAX_VARIANTS];
    int            n_vs = parse_variants(o.variants, vs);
    if (n_vs < 0)
        return 2;
    bool persons_given = false;
    for (int i = 1; i < argc; i++)
        persons_given = persons_given || !strcmp(argv[i], "--persons");

    loaded_model      det = {0}, pose = {0};
    frameset          fs     = {0};
    result_row       *rows   = NULL;
    int               n_rows = 0;
    vg_frame_pool    *pool   = NULL;
    vg_stats_summary *sum    = NULL;
    char              images[4096], gt[4096];
    int64_t           t_start = vg_clock_ns();
    const char       *shared  = getenv("VIGIL_SHARED");
    if (!shared || !*shared)
        shared = "../shared";

    if (load_model("detector", "--detector", o.detector ? o.detector : "centernet", &det) != 0 ||
        load_model("pose", "--pose", o.pose ? o.pose : "movenet-thunder", &pose) != 0)
        goto done;

    /* Frames. */
    if (o.video) {
        if (load_video(&o, &fs) != 0)
            goto done;
        fs.width  = fs.video[0]->width;
        fs.height = fs.video[0]->height;
        if (group_video(&o, &fs, &det, persons_given) != 0)
            goto done;
    } else {
        snprintf(images, sizeof(images), "%s", o.images ? o.images : "");
        if (!o.images)
            snprintf(images, sizeof(images), "%s/data/images", shared);
        snprintf(gt, sizeof(gt), "%s", o.gt ? o.gt : "");
        if (!o.gt)
            snprintf(gt, sizeof(gt), "%s/data/annotations/person_keypoints_shared.json", shared);
        if (load_gt(gt, &fs) != 0 || build_image_segments(&o, images, &fs) != 0)
            goto done;
        if (fs.n_segs > 0) {
            fs.width  = fs.segs[0].pics[0]->width;
            fs.height = fs.segs[0].pics[0]->height;
        }
    }
    if (fs.n_segs == 0) {
        fprintf(stderr, "%s: no frames for any of the person counts; see --persons\n", PROG);
        goto done;
    }
    for (int i = 0; i < fs.n_segs; i++)
        fprintf(stderr, "%s: %d persons: %s\n", PROG, fs.segs[i].k, fs.segs[i].what);

    /* Variants. */
    if (pose_batch_fixed(&pose)) {
        int m = 0;
        for (int i = 0; i < n_vs; i++)
            if (strcmp(vs[i]->name, "batch1") || n_vs == 1)
                vs[m++] = vs[i];
            else
                fprintf(stderr,
                        "%s: note: '%s' has a fixed batch of 1, so 'batch1' is the same "
                        "as 'pipelined'; left out\n",
                        PROG, pose.manifest.name);
        n_vs = m;
    }
    char split_det[300], split_pose[300];
    split_devices(split_det, split_pose, sizeof(split_det));
    if (o.det_device)
        snprintf(split_det, sizeof(split_det), "%s", o.det_device);
    if (o.pose_device)
        snprintf(split_pose, sizeof(split_pose), "%s", o.pose_device);

    rows = vg_calloc((size_t)(n_vs * fs.n_segs), sizeof(result_row));
    sum  = vg_malloc(sizeof(*sum));
    if (!rows || !sum || vg_frame_pool_create(&pool) != VG_OK) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto done;
    }
    for (int v = 0; v < n_vs; v++) {
        const variant      *var = vs[v];
        vg_analytics_params ap  = vg_analytics_params_default();
        ap.det_model            = det.model;
        ap.det_manifest         = &det.manifest;
        ap.det_backend          = o.backend;
        ap.det_device           = var->split ? split_det : "cpu";
        ap.det_threads          = o.threads;
        ap.pose_model           = pose.model;
        ap.pose_manifest        = &pose.manifest;
        ap.pose_backend         = o.backend;
        ap.pose_device          = var->split ? split_pose : "cpu";
        ap.pose_threads         = o.threads;
        ap.pose_batch           = var->batch_one ? 1 : o.pose_batch;
        bench_run r             = {.fs          = &fs,
                                   .warmup      = o.warmup,
                                   .frames      = o.frames,
                                   .in_flight   = o.in_flight,
                                   .pool        = pool,
                                   .sum         = sum,
                                   .rows        = rows + n_rows,
                                   .v           = var,
                                   .det_device  = ap.det_device,
                                   .pose_device = ap.pose_device,
                                   .pose_batch  = ap.pose_batch};
        ap.person_boxes         = given_boxes;
        ap.person_boxes_user    = &r;
        vg_analytics *an        = NULL;
        char          err[2048];
        if (vg_analytics_create(&ap, &an, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "%s: variant %s: %s\n", PROG, var->name, err);
            goto done;
        }
        if (vg_mutex_init(&r.lock) != VG_OK || vg_cond_init(&r.cond) != VG_OK) {
            vg_analytics_destroy(an);
            fprintf(stderr, "%s: cannot create a mutex\n", PROG);
            goto done;
        }
        fprintf(stderr,
                "%s: variant %s (%s, detector %s on %s, pose %s on %s, pose batch %d): %d "
                "person counts x (%d + %d warm-up) frames, at most %d in flight\n",
                PROG, var->name, var->sequential ? "sequential" : "pipelined", det.manifest.name,
                ap.det_device, pose.manifest.name, ap.pose_device, ap.pose_batch, fs.n_segs,
                o.frames, o.warmup, o.in_flight);
        int rr = run_segments(&r, an, var->sequential);
        vg_cond_fini(&r.cond);
        vg_mutex_fini(&r.lock);
        vg_analytics_destroy(an);
        if (rr != 0)
            goto done;
        n_rows += fs.n_segs;
    }
    double elapsed = (double)(vg_clock_ns() - t_start) / 1e9;
    fprintf(stderr, "%s: done in %.1f s\n", PROG, elapsed);

    rc = 0;
    if (o.json)
        print_json(&o, &det, &pose, &fs, rows, n_rows, elapsed);
    else
        print_table(rows, n_rows);
    if (o.csv && write_csv(o.csv, rows, n_rows) != 0)
        rc = 1;
    if (o.svg) {
        char title[512];
        if (o.title)
            snprintf(title, sizeof(title), "%s", o.title);
        else
            snprintf(title, sizeof(title), "vigil: %s + %s (%s boxes, %d frames per count)",
                     det.manifest.name, pose.manifest.name, o.boxes, o.frames);
        if (write_svg(o.svg, title, rows, n_rows, vs, n_vs) != 0)
            rc = 1;
    }

done:
    vg_frame_pool_destroy(pool);
    vg_free(rows);
    vg_free(sum);
    frameset_free(&fs);
    vg_model_destroy(pose.model);
    vg_model_destroy(det.model);
    return rc;
}
