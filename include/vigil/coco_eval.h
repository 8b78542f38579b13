/*
 * vigil/coco_eval.h - COCO ground truth, COCO results files, and the COCO
 * detection / keypoint evaluation (AP and AR).
 *
 * The evaluation follows the definitions of the reference COCO evaluation
 * (pycocotools COCOeval) step for step, so that its numbers can be compared
 * with published ones:
 *   - iouType bbox: box IoU, maxDets 1/10/100, area ranges all/small/medium/
 *     large (0..1e10, 0..32^2, 32^2..96^2, 96^2..1e10, bounds inclusive);
 *     12 summary numbers.
 *   - iouType keypoints: OKS with the 17 standard per-keypoint sigmas,
 *     maxDets 20, area ranges all/medium/large; ground truths with
 *     num_keypoints == 0 are ignored; 10 summary numbers.
 *   - 10 IoU/OKS thresholds .50:.05:.95, 101 recall points 0:.01:1,
 *     precision made monotone (non-increasing in recall) before sampling.
 *   - iscrowd ground truths are ignore regions: a detection matched to one
 *     counts neither as true nor false positive, a crowd may absorb many
 *     detections, and the box IoU against a crowd is intersection / detection
 *     area.
 *   - Detections are ranked by score (stable: file order breaks ties) and
 *     cut to maxDets per image and category; unmatched detections whose area
 *     lies outside the area range are ignored.
 *   - Results take their area the way the reference loader does: when the
 *     first results entry has a bbox, every entry's area is its bbox w*h;
 *     otherwise (keypoints only) the area of the keypoints' bounding box.
 *
 * Known deviation: the reference records matches by annotation id, so a
 * detection matched to a ground truth whose "id" is 0 counts there as a false
 * positive; vigil counts it as a true positive.
 *
 * Typical use:
 *
 *     vg_coco_gt *gt; vg_coco_results *res; vg_coco_eval_summary sum;
 *     char err[512];
 *     vg_coco_gt_load("person_keypoints.json", &gt, err, sizeof(err));
 *     vg_coco_results_load("results.json", &res, err, sizeof(err));
 *     vg_coco_eval_params p = vg_coco_eval_params_default();
 *     p.iou_type = VG_COCO_IOU_KEYPOINTS;
 *     vg_coco_evaluate(gt, res, &p, &sum, err, sizeof(err));
 *     vg_coco_eval_summary_print(&sum, stdout);
 *
 * Error messages: functions that take (err, errlen) write a one-line message
 * naming the file and what is wrong into err on failure (err may be NULL).
 * Thread safety: loaded objects are read-only during evaluation, so several
 * evaluations may share them; adding to a results object is not MT safe.
 */
#ifndef VG_COCO_EVAL_H
#define VG_COCO_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vigil/results.h"
#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of COCO person keypoints and their OKS sigmas (COCO order). */
#define VG_COCO_NUM_KEYPOINTS 17
extern const double vg_coco_kpt_oks_sigmas[VG_COCO_NUM_KEYPOINTS];

/* The 10 IoU thresholds and 101 recall thresholds of the evaluation. */
#define VG_COCO_NUM_IOU_THRS 10
#define VG_COCO_NUM_REC_THRS 101

/* Maps a contiguous COCO-80 class index (0 = person) to its COCO category id
 * (1..90 with gaps); -1 when out of range. And back: -1 when id is none. */
int32_t vg_coco_category_id(int32_t class_id);
int32_t vg_coco_class_index(int32_t category_id);

/* ---- ground truth ----------------------------------------------------------- */

typedef struct vg_coco_gt vg_coco_gt;

/* One image of the ground truth. Strings are borrowed from the gt and valid
 * until vg_coco_gt_destroy(). */
typedef struct vg_coco_image {
    int64_t     id;
    const char *file_name; /* "" when absent */
    int32_t     width, height;
    /* The image's "annotation_complete" flag (true when absent): every person
     * in it is annotated. */
    bool complete;
} vg_coco_image;

/*
 * Loads a COCO ground-truth JSON file (images, annotations, categories).
 * Annotations need image_id, category_id and bbox; iscrowd defaults to 0,
 * area to bbox w*h, num_keypoints to the count of keypoints with v > 0.
 * Returns:
 *   VG_OK            *out holds the gt; free with vg_coco_gt_destroy()
 *   VG_E_IO          the file cannot be read
 *   VG_E_FORMAT      not valid JSON or not COCO ground truth (err says where)
 *   VG_E_NOMEM       out of memory
 */
vg_status vg_coco_gt_load(const char *path, vg_coco_gt **out, char *err, size_t errlen);

/* Same, from JSON text; name is used in messages. */
vg_status vg_coco_gt_parse(const char *json_text, const char *name, vg_coco_gt **out, char *err,
                           size_t errlen);

/* Frees gt; NULL is a no-op. */
void vg_coco_gt_destroy(vg_coco_gt *gt);

/* Images, sorted by id. */
size_t               vg_coco_gt_num_images(const vg_coco_gt *gt);
const vg_coco_image *vg_coco_gt_image(const vg_coco_gt *gt, size_t i);
/* Index of the image whose file_name equals name (or whose file_name ends in
 * "/name"), or -1. */
long vg_coco_gt_find_image(const vg_coco_gt *gt, const char *file_name);
/* Number of annotations (crowd ones included). */
size_t vg_coco_gt_num_annotations(const vg_coco_gt *gt);

/*
 * Copies the boxes of image image_id with COCO category category_id (any
 * category when category_id < 0) into out (up to cap), skipping iscrowd
 * regions, as vg_detection with score 1 and class_id from
 * vg_coco_class_index(). Returns how many such boxes there are (may exceed
 * cap). Used to run pose estimation on ground-truth boxes.
 */
size_t vg_coco_gt_image_boxes(const vg_coco_gt *gt, int64_t image_id, int32_t category_id,
                              vg_detection *out, size_t cap);

/* ---- results ---------------------------------------------------------------- */

/*
 * A COCO results list: entries of {image_id, category_id, bbox, keypoints,
 * score}. Built in memory (by the detect/pose tools) and written as JSON, or
 * loaded from a file for evaluation.
 */
typedef struct vg_coco_results vg_coco_results;

/* Creates an empty list. VG_OK or VG_E_NOMEM; free with vg_coco_results_destroy(). */
vg_status vg_coco_results_create(vg_coco_results **out);

/*
 * Loads a results JSON file (an array of objects; each needs image_id,
 * category_id, score, and bbox [x,y,w,h] and/or keypoints [x,y,v]*K).
 * Returns VG_OK, VG_E_IO, VG_E_FORMAT (err names the entry index) or VG_E_NOMEM.
 */
vg_status vg_coco_results_load(const char *path, vg_coco_results **out, char *err, size_t errlen);
vg_status vg_coco_results_parse(const char *json_text, const char *name, vg_coco_results **out,
                                char *err, size_t errlen);

void vg_coco_results_destroy(vg_coco_results *res);

size_t vg_coco_results_count(const vg_coco_results *res);

/* True when the list is not empty and its first entry carries keypoints (a
 * pose results file); false otherwise. */
bool vg_coco_results_has_keypoints(const vg_coco_results *res);

/*
 * Appends detections of one image: bbox = [x1, y1, x2-x1, y2-y1],
 * category_id = vg_coco_category_id(class_id) (entries with an unknown class
 * are skipped), score = det score.
 * Returns VG_OK, VG_E_NOMEM, VG_E_INVALID_ARG (NULL arguments).
 */
vg_status vg_coco_results_add_detections(vg_coco_results *res, int64_t image_id,
                                         const vg_detection *dets, size_t n);

/*
 * Appends poses of one image with category_id 1 (person): bbox from the pose's
 * person box, keypoints [x, y, keypoint score] * n_keypoints, score =
 * pose->score (set it with vg_coco_pose_rescore() or the pose model's rule
 * first). Returns VG_OK, VG_E_NOMEM, VG_E_INVALID_ARG.
 */
vg_status vg_coco_results_add_poses(vg_coco_results *res, int64_t image_id, const vg_pose *poses,
                                    size_t n);

/*
 * The 'bbox_keypoint' instance score: box score x mean of the keypoint scores
 * that exceed kp_thr (0 when none does).
 */
float vg_coco_pose_rescore(const vg_pose *pose, float kp_thr);

/*
 * Writes the list as a JSON array, one entry per line: coordinates rounded to
 * 0.01 px, scores (and keypoint scores) in the shortest form that reads back
 * as the same float. Returns VG_OK, VG_E_IO (err says why), VG_E_NOMEM,
 * VG_E_INVALID_ARG.
 */
vg_status vg_coco_results_write(const vg_coco_results *res, const char *path, char *err,
                                size_t errlen);
/* Same, to a malloc'ed string that the caller frees with free(). NULL on OOM. */
char *vg_coco_results_dumps(const vg_coco_results *res);

/* ---- evaluation ------------------------------------------------------------- */

typedef enum vg_coco_iou_type {
    VG_COCO_IOU_BBOX = 0,
    VG_COCO_IOU_KEYPOINTS,
} vg_coco_iou_type;

typedef struct vg_coco_eval_params {
    vg_coco_iou_type iou_type;
    /* Evaluate only these image ids (NULL: every gt image). Ids not in the gt
     * are an error. Results for other images are ignored. */
    const int64_t *img_ids;
    size_t         n_img_ids;
    /* Evaluate only images whose annotation_complete flag is true. */
    bool complete_only;
} vg_coco_eval_params;

/* Defaults: bbox, every image. */
vg_coco_eval_params vg_coco_eval_params_default(void);

typedef struct vg_coco_eval_summary {
    vg_coco_iou_type iou_type;
    /* 12 for bbox: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm,
     * ARl. 10 for keypoints: AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm,
     * ARl. -1 where undefined (no ground truth in that setting). */
    int    n_stats;
    double stats[12];
    /* Area "all", the largest maxDets: AP and recall per IoU threshold, and
     * the 101-point interpolated precision (each the mean over categories
     * with ground truth; -1 when none has). */
    double iou_thrs[VG_COCO_NUM_IOU_THRS];
    double ap_per_thr[VG_COCO_NUM_IOU_THRS];
    double recall_per_thr[VG_COCO_NUM_IOU_THRS];
    double precision[VG_COCO_NUM_IOU_THRS][VG_COCO_NUM_REC_THRS];
    /* What was evaluated. */
    size_t n_images;     /* images evaluated */
    size_t n_categories; /* categories of the gt */
    size_t n_gt;         /* gt annotations in those images (crowd/ignored included) */
    size_t n_gt_ignored; /* of which ignored (iscrowd, or num_keypoints == 0) */
    size_t n_results;    /* results entries in those images */
} vg_coco_eval_summary;

/*
 * Evaluates res against gt. Every results image_id must be a gt image (as the
 * reference loader requires); with iou_type keypoints every gt annotation and
 * every result needs 17 keypoints.
 * Returns:
 *   VG_OK            *out filled
 *   VG_E_INVALID_ARG NULL arguments, unknown image ids in params
 *   VG_E_FORMAT      results and gt do not fit (err says which entry and why)
 *   VG_E_NOMEM       out of memory
 */
vg_status vg_coco_evaluate(const vg_coco_gt *gt, const vg_coco_results *res,
                           const vg_coco_eval_params *params, vg_coco_eval_summary *out, char *err,
                           size_t errlen);

/* Prints the 10 or 12 summary lines in the reference's format:
 *  " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.123" */
void vg_coco_eval_summary_print(const vg_coco_eval_summary *s, FILE *f);

/* Short names of the summary numbers ("AP", "AP50", ... "ARl"), index < n_stats. */
const char *vg_coco_eval_stat_name(vg_coco_iou_type t, int index);

#ifdef __cplusplus
}
#endif

#endif /* VG_COCO_EVAL_H */
