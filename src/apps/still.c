/*
 * still.c - `vigil detect` and `vigil pose` on still images.
 *
 * DESIGN: both commands share one driver: parse options, resolve model names
 * (a bare name is looked up in $VIGIL_MODELS, else ./models), load the
 * models and open one session each, build a vg_topdown, then for every image
 * (folders are expanded to their image files, sorted): read it (JPEG with
 * libjpeg as the references do), run, draw the overlay into the decoded
 * pixels and write DIR/<name>.png, and append the results to a COCO results
 * list written at the end. With --gt the image ids come from the ground
 * truth by file name (images it does not list are annotated but left out of
 * the results, so the file stays valid for `vigil eval`); --gt-boxes takes
 * the person boxes of the ground truth instead of running the detector. A
 * failing image is reported by name and the others still run; the exit code
 * is then 1. Usage errors exit with 2.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/still.h"
#include "vigil/alloc.h"
#include "vigil/coco_eval.h"
#include "vigil/draw.h"
#include "vigil/model.h"
#include "vigil/topdown.h"

#define MAX_GT_BOXES 1024

typedef struct still_opts {
    still_mode  mode;
    const char *cmd;
    const char *detector, *pose;
    const char *out_dir, *results, *gt;
    const char *backend, *device, *pose_device;
    int         threads;
    float       threshold;
    float       kp_threshold;
    float       rescore_threshold;
    int         max_batch;
    bool        gt_boxes;
    bool        gt_only;
    bool        quiet;
    char      **inputs;
    int         n_inputs;
} still_opts;

static void still_usage(still_mode mode, FILE *f) {
    if (mode == STILL_DETECT)
        fprintf(f, "usage: vigil detect IMAGE|DIR... [options]\n"
                   "  Runs the detector on each image; writes annotated PNGs and/or a COCO\n"
                   "  results file (every class).\n");
    else
        fprintf(f, "usage: vigil pose IMAGE|DIR... [options]\n"
                   "  Detects persons, crops them and estimates 17 COCO keypoints per person\n"
                   "  (top-down); writes annotated PNGs and/or a COCO keypoint results file.\n");
    fprintf(f, "options:\n"
               "  --detector MODEL     detector: a name in $VIGIL_MODELS or ./models, or a path\n"
               "                       (TF.js folder/model.json or .onnx); default centernet\n");
    if (mode == STILL_POSE)
        fprintf(f, "  --pose MODEL         top-down pose model; default movenet-thunder\n"
                   "  --gt-boxes           use the person boxes of --gt instead of detections\n"
                   "  --max-batch N        most person crops per pose run (default 16; models\n"
                   "                       with a fixed batch, e.g. MoveNet, run one by one)\n"
                   "  --rescore-threshold T  instance score = box score x mean of keypoint\n"
                   "                       scores above T (default 0.2)\n");
    fprintf(f, "  --out DIR            write DIR/<image name>.png with the overlay\n"
               "  --results FILE       write a COCO results JSON\n"
               "  --gt GT.json         COCO ground truth: image ids by file name; images not in\n"
               "                       it are left out of the results\n"
               "  --gt-only            process only the images that --gt lists\n"
               "  --threshold T        detector score threshold (default: the model's, 0.3)\n"
               "  --kp-threshold T     keypoints drawn at or above T (default 0.3)\n"
               "  --backend ref|cpu    inference backend (default: cpu when built)\n"
               "  --device cpu:0-1     cores to run on (default: all)\n");
    if (mode == STILL_POSE)
        fprintf(f, "  --pose-device D      cores for the pose model (default: --device)\n");
    fprintf(f, "  --threads N          threads per model (default: one per core)\n"
               "  --quiet              no per-image lines\n"
               "Models: run 'make models' (or scripts/fetch-models.sh) to fetch the defaults.\n");
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

static bool parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    errno  = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* Returns 0 on success, 2 on a usage error (message printed). */
static int parse_opts(still_mode mode, int argc, char **argv, still_opts *o) {
    memset(o, 0, sizeof(*o));
    o->mode              = mode;
    o->cmd               = mode == STILL_DETECT ? "detect" : "pose";
    o->detector          = "centernet";
    o->pose              = "movenet-thunder";
    o->threshold         = -1.0f;
    o->kp_threshold      = 0.3f;
    o->rescore_threshold = 0.2f;
    o->max_batch         = 16;
    o->inputs            = calloc((size_t)argc, sizeof(char *));
    if (!o->inputs) {
        fprintf(stderr, "vigil %s: out of memory\n", o->cmd);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                                    \
    do {                                                                                           \
        if (!v) {                                                                                  \
            fprintf(stderr, "vigil %s: %s needs a value; see 'vigil %s --help'\n", o->cmd, a,      \
                    o->cmd);                                                                       \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            still_usage(mode, stdout);
            return -1;
        } else if (!strcmp(a, "--detector")) {
            NEEDV();
            o->detector = v;
        } else if (!strcmp(a, "--pose") && mode == STILL_POSE) {
            NEEDV();
            o->pose = v;
        } else if (!strcmp(a, "--out")) {
            NEEDV();
            o->out_dir = v;
        } else if (!strcmp(a, "--results")) {
            NEEDV();
            o->results = v;
        } else if (!strcmp(a, "--gt")) {
            NEEDV();
            o->gt = v;
        } else if (!strcmp(a, "--backend")) {
            NEEDV();
            o->backend = v;
        } else if (!strcmp(a, "--device")) {
            NEEDV();
            o->device = v;
        } else if (!strcmp(a, "--pose-device") && mode == STILL_POSE) {
            NEEDV();
            o->pose_device = v;
        } else if (!strcmp(a, "--threads")) {
            NEEDV();
            if (!parse_int(v, 0, 1024, &o->threads)) {
                fprintf(stderr, "vigil %s: --threads '%s': give a number 0..1024\n", o->cmd, v);
                return 2;
            }
        } else if (!strcmp(a, "--threshold")) {
            NEEDV();
            if (!parse_float(v, 0.0f, 1.0f, &o->threshold)) {
                fprintf(stderr, "vigil %s: --threshold '%s': give a number in 0..1\n", o->cmd, v);
                return 2;
            }
        } else if (!strcmp(a, "--kp-threshold")) {
            NEEDV();
            if (!parse_float(v, 0.0f, 1.0f, &o->kp_threshold)) {
                fprintf(stderr, "vigil %s: --kp-threshold '%s': give a number in 0..1\n", o->cmd,
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--rescore-threshold") && mode == STILL_POSE) {
            NEEDV();
            if (!parse_float(v, 0.0f, 1.0f, &o->rescore_threshold)) {
                fprintf(stderr, "vigil %s: --rescore-threshold '%s': give a number in 0..1\n",
                        o->cmd, v);
                return 2;
            }
        } else if (!strcmp(a, "--max-batch") && mode == STILL_POSE) {
            NEEDV();
            if (!parse_int(v, 1, 1024, &o->max_batch)) {
                fprintf(stderr, "vigil %s: --max-batch '%s': give a number 1..1024\n", o->cmd, v);
                return 2;
            }
        } else if (!strcmp(a, "--gt-boxes") && mode == STILL_POSE) {
            o->gt_boxes = true;
        } else if (!strcmp(a, "--gt-only")) {
            o->gt_only = true;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vigil %s: unknown option '%s'; see 'vigil %s --help'\n", o->cmd, a,
                    o->cmd);
            return 2;
        } else {
            o->inputs[o->n_inputs++] = argv[i];
        }
#undef NEEDV
    }
    if (o->n_inputs == 0) {
        fprintf(stderr, "vigil %s: no image given; usage: vigil %s IMAGE|DIR... (see --help)\n",
                o->cmd, o->cmd);
        return 2;
    }
    if (o->gt_only && !o->gt) {
        fprintf(stderr, "vigil %s: --gt-only needs --gt GT.json\n", o->cmd);
        return 2;
    }
    if (o->gt_boxes && !o->gt) {
        fprintf(stderr, "vigil %s: --gt-boxes needs --gt GT.json (the boxes come from it)\n",
                o->cmd);
        return 2;
    }
    if (!o->out_dir && !o->results)
        fprintf(stderr,
                "vigil %s: note: neither --out nor --results given; only a summary is "
                "printed\n",
                o->cmd);
    return 0;
}

/* ---- inputs ------------------------------------------------------------------ */

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool has_image_ext(const char *name) {
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp",  ".webp",
                                       ".tif", ".tiff", ".JPG", ".JPEG", ".PNG"};
    const char              *dot    = strrchr(name, '.');
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (!strcmp(dot, exts[i]))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct path_list {
    char **p;
    int    n, cap;
} path_list;

static bool list_add(path_list *l, const char *dir, const char *name) {
    if (l->n == l->cap) {
        int    cap = l->cap ? 2 * l->cap : 64;
        char **np  = realloc(l->p, (size_t)cap * sizeof(char *));
        if (!np)
            return false;
        l->p   = np;
        l->cap = cap;
    }
    size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
    char  *s   = malloc(len);
    if (!s)
        return false;
    if (dir)
        snprintf(s, len, "%s/%s", dir, name);
    else
        snprintf(s, len, "%s", name);
    l->p[l->n++] = s;
    return true;
}

/* Expands folders into their image files (sorted); files are kept as given. */
static int expand_inputs(const still_opts *o, path_list *l) {
    for (int i = 0; i < o->n_inputs; i++) {
        const char *in = o->inputs[i];
        if (!is_dir(in)) {
            struct stat sb;
            if (stat(in, &sb) != 0) {
                fprintf(stderr, "vigil %s: %s: %s; check the image path\n", o->cmd, in,
                        strerror(errno));
                return 1;
            }
            if (!list_add(l, NULL, in))
                return 1;
            continue;
        }
        DIR *d = opendir(in);
        if (!d) {
            fprintf(stderr, "vigil %s: %s: cannot open folder (%s)\n", o->cmd, in, strerror(errno));
            return 1;
        }
        int            first = l->n;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.' && has_image_ext(e->d_name) && !list_add(l, in, e->d_name)) {
                closedir(d);
                return 1;
            }
        closedir(d);
        if (l->n == first) {
            fprintf(stderr, "vigil %s: %s: no image files (.jpg, .png, ...) in this folder\n",
                    o->cmd, in);
            return 1;
        }
        qsort(l->p + first, (size_t)(l->n - first), sizeof(char *), cmp_str);
    }
    return 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- models --------------------------------------------------------------------- */

static void resolve_model(const char *arg, char *buf, size_t n) {
    struct stat sb;
    if (strchr(arg, '/') || stat(arg, &sb) == 0) {
        snprintf(buf, n, "%s", arg);
        return;
    }
    const char *dir = getenv("VIGIL_MODELS");
    snprintf(buf, n, "%s/%s", dir && *dir ? dir : "models", arg);
}

typedef struct loaded_model {
    char        path[4096];
    vg_model   *model;
    vg_session *session;
    vg_manifest manifest;
} loaded_model;

static int load_model(const still_opts *o, const char *what, const char *arg, const char *device,
                      loaded_model *lm) {
    resolve_model(arg, lm->path, sizeof(lm->path));
    struct stat sb;
    if (stat(lm->path, &sb) != 0) {
        fprintf(stderr,
                "vigil %s: %s model '%s' not found (looked for %s); run 'make models' "
                "(or scripts/fetch-models.sh), set VIGIL_MODELS to the models folder, "
                "or pass --%s PATH\n",
                o->cmd, what, arg, lm->path, what);
        return 1;
    }
    vg_status st = vg_model_load(lm->path, NULL, &lm->model);
    if (st != VG_OK) {
        fprintf(stderr, "vigil %s: cannot load %s model %s: %s\n", o->cmd, what, lm->path,
                vg_model_errmsg(NULL));
        return 1;
    }
    char err[2048];
    if ((st = vg_model_manifest(lm->model, lm->path, &lm->manifest, err, sizeof(err))) != VG_OK) {
        fprintf(stderr, "vigil %s: %s model: %s\n", o->cmd, what, err);
        return 1;
    }
    vg_session_params sp = vg_session_params_default();
    sp.backend           = o->backend;
    sp.device            = device;
    sp.threads           = o->threads;
    if ((st = vg_session_create(lm->model, &sp, &lm->session)) != VG_OK) {
        fprintf(stderr,
                "vigil %s: %s model %s: cannot create a session (backend %s, device "
                "%s): %s\n",
                o->cmd, what, lm->path, o->backend ? o->backend : "default",
                device ? device : "cpu", vg_model_errmsg(lm->model));
        return 1;
    }
    return 0;
}

static void unload_model(loaded_model *lm) {
    vg_session_destroy(lm->session);
    vg_model_destroy(lm->model);
}

/* ---- main loop ------------------------------------------------------------------- */

static int write_overlay(const still_opts *o, const char *img_path, vg_rgb_image *img,
                         vg_draw *draw, const vg_topdown_result *r) {
    vg_image_view v = {img->data, img->width, img->height, img->stride, VG_PIXFMT_RGB24};
    vg_status     st;
    if (o->mode == STILL_DETECT)
        st = vg_draw_overlay(draw, &v, r->dets, (size_t)r->n_dets, NULL, 0);
    else
        st = vg_draw_overlay(draw, &v, NULL, 0, r->poses, (size_t)r->n_poses);
    if (st != VG_OK) {
        fprintf(stderr, "vigil %s: %s: drawing failed: %s\n", o->cmd, img_path,
                vg_draw_errmsg(draw));
        return 1;
    }
    char        out[8192];
    const char *b    = base_name(img_path);
    const char *dot  = strrchr(b, '.');
    int         stem = dot ? (int)(dot - b) : (int)strlen(b);
    snprintf(out, sizeof(out), "%s/%.*s.png", o->out_dir, stem, b);
    if ((st = vg_image_write_png(&v, out)) != VG_OK) {
        fprintf(stderr, "vigil %s: cannot write %s (%s); check that the folder is writable\n",
                o->cmd, out, vg_status_str(st));
        return 1;
    }
    return 0;
}

static int process_image(const still_opts *o, const char *path, int64_t seq_id, vg_coco_gt *gt,
                         vg_topdown *td, vg_draw *draw, vg_coco_results *res,
                         vg_detection *gt_boxes, int *n_persons, int *n_skipped) {
    int64_t image_id = seq_id;
    bool    in_gt    = true;
    if (gt) {
        long gi = vg_coco_gt_find_image(gt, base_name(path));
        if (gi < 0) {
            in_gt = false;
            (*n_skipped)++;
        } else {
            image_id = vg_coco_gt_image(gt, (size_t)gi)->id;
        }
    }
    if ((o->gt_boxes || o->gt_only) && !in_gt) {
        if (!o->quiet && o->gt_boxes)
            printf("%s: not in %s, skipped (--gt-boxes needs its boxes)\n", path, o->gt);
        return 0;
    }
    char         err[1024];
    vg_rgb_image img;
    vg_status    st = vg_rgb_image_read(path, &img, err, sizeof(err));
    if (st != VG_OK) {
        fprintf(stderr, "vigil %s: %s\n", o->cmd, err);
        return 1;
    }
    if (gt && in_gt) {
        const vg_coco_image *gi =
            vg_coco_gt_image(gt, (size_t)vg_coco_gt_find_image(gt, base_name(path)));
        if (gi->width > 0 && (gi->width != img.width || gi->height != img.height))
            fprintf(stderr, "vigil %s: warning: %s is %dx%d but %s says %dx%d\n", o->cmd, path,
                    img.width, img.height, o->gt, gi->width, gi->height);
    }
    vg_image          view = vg_rgb_image_view(&img);
    vg_topdown_result r;
    int32_t           nb = 0;
    if (o->gt_boxes) {
        size_t total = vg_coco_gt_image_boxes(gt, image_id, 1, gt_boxes, MAX_GT_BOXES);
        nb           = (int32_t)(total < MAX_GT_BOXES ? total : MAX_GT_BOXES);
    }
    st = vg_topdown_run(td, &view, o->gt_boxes ? gt_boxes : NULL, nb, &r);
    if (st != VG_OK) {
        fprintf(stderr, "vigil %s: %s: %s\n", o->cmd, path, vg_topdown_errmsg(td));
        vg_rgb_image_free(&img);
        return 1;
    }
    int rc = 0;
    if (res && in_gt) {
        if (o->mode == STILL_DETECT) {
            st = vg_coco_results_add_detections(res, image_id, r.dets, (size_t)r.n_dets);
        } else {
            /* The reference's 'bbox_keypoint' instance score. */
            vg_pose *poses = (vg_pose *)r.poses;
            for (int32_t i = 0; i < r.n_poses; i++)
                poses[i].score = vg_coco_pose_rescore(&poses[i], o->rescore_threshold);
            st = vg_coco_results_add_poses(res, image_id, r.poses, (size_t)r.n_poses);
        }
        if (st != VG_OK) {
            fprintf(stderr, "vigil %s: %s: cannot add results (%s)\n", o->cmd, path,
                    vg_status_str(st));
            rc = 1;
        }
    }
    int persons = 0;
    for (int32_t i = 0; i < r.n_dets; i++)
        persons += r.dets[i].class_id == 0;
    *n_persons += o->mode == STILL_POSE ? r.n_poses : persons;
    if (!o->quiet) {
        double det_ms  = (double)(r.det_pre_ns + r.det_run_ns + r.det_post_ns) / 1e6;
        double pose_ms = (double)(r.pose_pre_ns + r.pose_run_ns + r.pose_post_ns) / 1e6;
        if (o->mode == STILL_DETECT)
            printf("%s: %dx%d, %d detections (%d persons), %.1f ms\n", path, img.width, img.height,
                   r.n_dets, persons, det_ms);
        else
            printf("%s: %dx%d, %d %s, %d poses in %d run%s, det %.1f ms, pose %.1f ms\n", path,
                   img.width, img.height, o->gt_boxes ? nb : persons,
                   o->gt_boxes ? "gt boxes" : "persons", r.n_poses, r.pose_runs,
                   r.pose_runs == 1 ? "" : "s", det_ms, pose_ms);
    }
    if (o->out_dir && rc == 0)
        rc = write_overlay(o, path, &img, draw, &r);
    vg_rgb_image_free(&img);
    return rc;
}

int still_main(still_mode mode, int argc, char **argv) {
    still_opts o;
    int        rc = parse_opts(mode, argc, argv, &o);
    if (rc != 0) {
        free(o.inputs);
        return rc < 0 ? 0 : rc;
    }
    path_list        files = {0};
    loaded_model     det = {0}, pose = {0};
    vg_coco_gt      *gt       = NULL;
    vg_coco_results *res      = NULL;
    vg_topdown      *td       = NULL;
    vg_draw         *draw     = NULL;
    vg_detection    *gt_boxes = NULL;
    char             err[2048];
    int              n_failed = 0, n_persons = 0, n_skipped = 0;

    if ((rc = expand_inputs(&o, &files)) != 0)
        goto done;
    rc = 1;
    if (o.out_dir && !is_dir(o.out_dir) && mkdir(o.out_dir, 0777) != 0) {
        fprintf(stderr, "vigil %s: cannot create output folder %s (%s)\n", o.cmd, o.out_dir,
                strerror(errno));
        goto done;
    }
    if (o.gt && vg_coco_gt_load(o.gt, &gt, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil %s: %s\n", o.cmd, err);
        goto done;
    }
    if (!o.gt_boxes && load_model(&o, "detector", o.detector, o.device, &det) != 0)
        goto done;
    if (mode == STILL_POSE &&
        load_model(&o, "pose", o.pose, o.pose_device ? o.pose_device : o.device, &pose) != 0)
        goto done;
    vg_topdown_params tp = vg_topdown_params_default();
    tp.score_threshold   = o.threshold;
    tp.max_batch         = o.max_batch;
    if (vg_topdown_create(det.model, det.session, det.model ? &det.manifest : NULL, pose.model,
                          pose.session, pose.model ? &pose.manifest : NULL, &tp, &td, err,
                          sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil %s: %s\n", o.cmd, err);
        goto done;
    }
    if (o.out_dir) {
        vg_draw_params dp     = vg_draw_params_default();
        dp.keypoint_threshold = o.kp_threshold;
        if (vg_draw_create(&dp, &draw) != VG_OK) {
            fprintf(stderr, "vigil %s: cannot create the overlay renderer\n", o.cmd);
            goto done;
        }
    }
    if (o.results && vg_coco_results_create(&res) != VG_OK) {
        fprintf(stderr, "vigil %s: out of memory\n", o.cmd);
        goto done;
    }
    if (o.gt_boxes && !(gt_boxes = vg_calloc(MAX_GT_BOXES, sizeof(*gt_boxes)))) {
        fprintf(stderr, "vigil %s: out of memory\n", o.cmd);
        goto done;
    }
    for (int i = 0; i < files.n; i++)
        n_failed += process_image(&o, files.p[i], i + 1, gt, td, draw, res, gt_boxes, &n_persons,
                                  &n_skipped);
    if (res && vg_coco_results_write(res, o.results, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil %s: %s\n", o.cmd, err);
        goto done;
    }
    if (!o.quiet) {
        printf("vigil %s: %d image%s, %d %s", o.cmd, files.n, files.n == 1 ? "" : "s", n_persons,
               mode == STILL_POSE ? "poses" : "persons");
        if (n_failed)
            printf(", %d failed", n_failed);
        if (gt && n_skipped)
            printf(", %d not in %s (no results)", n_skipped, o.gt);
        if (res)
            printf("; results: %s (%zu entries)", o.results, vg_coco_results_count(res));
        if (o.out_dir)
            printf("; images: %s/", o.out_dir);
        printf("\n");
    }
    rc = n_failed ? 1 : 0;
done:
    vg_free(gt_boxes);
    vg_coco_results_destroy(res);
    vg_draw_destroy(draw);
    vg_topdown_destroy(td);
    unload_model(&pose);
    unload_model(&det);
    vg_coco_gt_destroy(gt);
    for (int i = 0; i < files.n; i++)
        free(files.p[i]);
    free(files.p);
    free(o.inputs);
    return rc;
}
