/*
 * cmd_eval.c - `vigil eval`: COCO AP/AR of a results file against a ground
 * truth, printed as the reference COCO evaluation prints it, optionally as
 * JSON.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "vigil/coco_eval.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: vigil eval --gt GT.json --results RES.json [options]\n"
            "  Computes COCO AP/AR of RES.json (a COCO results list) against the ground truth\n"
            "  GT.json, exactly as the COCO evaluation defines them.\n"
            "options:\n"
            "  --iou-type keypoints|bbox  what to evaluate (default: keypoints when the results\n"
            "                             carry keypoints, else bbox)\n"
            "  --complete-only            only images whose annotation_complete flag is true\n"
            "  --images ID[,ID...]        only these image ids\n"
            "  --json FILE                also write the numbers as JSON (- for stdout)\n"
            "  --quiet                    do not print the summary lines\n");
}

/* Parses "1,2,3" into a malloc'ed array. */
static int64_t *parse_ids(const char *s, size_t *n) {
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    int64_t *ids = malloc(cap * sizeof(int64_t));
    if (!ids)
        return NULL;
    *n            = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno       = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || (*end && *end != ',')) {
            free(ids);
            return NULL;
        }
        ids[(*n)++] = v;
        p           = *end ? end + 1 : end;
    }
    return ids;
}

static int write_json(const char *path, const char *gt, const char *res,
                      const vg_coco_eval_summary *s) {
    json_t *o = json_object(), *stats = json_object(), *ap = json_array(), *ar = json_array();
    json_t *thr = json_array();
    json_object_set_new(o, "iou_type",
                        json_string(s->iou_type == VG_COCO_IOU_KEYPOINTS ? "keypoints" : "bbox"));
    json_object_set_new(o, "gt", json_string(gt));
    json_object_set_new(o, "results", json_string(res));
    json_object_set_new(o, "images", json_integer((json_int_t)s->n_images));
    json_object_set_new(o, "gt_annotations", json_integer((json_int_t)s->n_gt));
    json_object_set_new(o, "gt_ignored", json_integer((json_int_t)s->n_gt_ignored));
    json_object_set_new(o, "result_entries", json_integer((json_int_t)s->n_results));
    for (int i = 0; i < s->n_stats; i++)
        json_object_set_new(stats, vg_coco_eval_stat_name(s->iou_type, i), json_real(s->stats[i]));
    for (int t = 0; t < VG_COCO_NUM_IOU_THRS; t++) {
        json_array_append_new(thr, json_real(s->iou_thrs[t]));
        json_array_append_new(ap, json_real(s->ap_per_thr[t]));
        json_array_append_new(ar, json_real(s->recall_per_thr[t]));
    }
    json_object_set_new(o, "stats", stats);
    json_object_set_new(o, "iou_thresholds", thr);
    json_object_set_new(o, "ap_per_threshold", ap);
    json_object_set_new(o, "recall_per_threshold", ar);
    int flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12);
    int rc;
    if (!strcmp(path, "-")) {
        rc = json_dumpf(o, stdout, flags);
        fputc('\n', stdout);
    } else {
        rc = json_dump_file(o, path, flags);
    }
    json_decref(o);
    if (rc) {
        fprintf(stderr, "vigil eval: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *gt_path = NULL, *res_path = NULL, *json_path = NULL, *iou = NULL;
    const char *images        = NULL;
    int         complete_only = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a       = argv[i];
        bool        has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            eval_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--gt") && has_val) {
            gt_path = argv[++i];
        } else if (!strcmp(a, "--results") && has_val) {
            res_path = argv[++i];
        } else if (!strcmp(a, "--iou-type") && has_val) {
            iou = argv[++i];
        } else if (!strcmp(a, "--json") && has_val) {
            json_path = argv[++i];
        } else if (!strcmp(a, "--images") && has_val) {
            images = argv[++i];
        } else if (!strcmp(a, "--complete-only")) {
            complete_only = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            fprintf(stderr, "vigil eval: unknown option or missing value: '%s'\n", a);
            eval_usage(stderr);
            return 2;
        }
    }
    if (!gt_path || !res_path) {
        fprintf(stderr, "vigil eval: --gt and --results are required\n");
        eval_usage(stderr);
        return 2;
    }
    if (iou && strcmp(iou, "keypoints") && strcmp(iou, "bbox")) {
        fprintf(stderr, "vigil eval: --iou-type must be keypoints or bbox, not '%s'\n", iou);
        return 2;
    }
    vg_coco_eval_params p   = vg_coco_eval_params_default();
    int64_t            *ids = NULL;
    if (images) {
        ids = parse_ids(images, &p.n_img_ids);
        if (!ids) {
            fprintf(stderr, "vigil eval: --images wants comma-separated integer ids, not '%s'\n",
                    images);
            return 2;
        }
        p.img_ids = ids;
    }
    p.complete_only = complete_only;

    char             err[1024];
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    int              rc  = 1;
    if (vg_coco_gt_load(gt_path, &gt, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil eval: %s\n", err);
        goto out;
    }
    if (vg_coco_results_load(res_path, &res, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigil eval: %s\n", err);
        goto out;
    }
    if (iou)
        p.iou_type = !strcmp(iou, "keypoints") ? VG_COCO_IOU_KEYPOINTS : VG_COCO_IOU_BBOX;
    else
        p.iou_type = vg_coco_results_has_keypoints(res) ? VG_COCO_IOU_KEYPOINTS : VG_COCO_IOU_BBOX;
    vg_coco_eval_summary s;
    vg_status            st = vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err));
    if (st != VG_OK) {
        fprintf(stderr, "vigil eval: %s (gt %s, results %s)\n", err, gt_path, res_path);
        goto out;
    }
    if (!quiet) {
        printf("vigil eval: iouType %s, %zu images, %zu gt annotations (%zu ignored), "
               "%zu results\n",
               p.iou_type == VG_COCO_IOU_KEYPOINTS ? "keypoints" : "bbox", s.n_images, s.n_gt,
               s.n_gt_ignored, s.n_results);
        vg_coco_eval_summary_print(&s, stdout);
    }
    rc = json_path ? write_json(json_path, gt_path, res_path, &s) : 0;
out:
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    free(ids);
    return rc;
}
