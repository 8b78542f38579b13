/*
 * coco_fuzz.c - libFuzzer target over the COCO ground-truth and results
 * loaders and the evaluation. The input is GT, a line "--", RESULTS (or GT
 * alone, then the results half is empty): both halves are parsed, and when both load, evaluated as
 * bbox and as keypoints. Any crash, leak or sanitizer report is a bug; statuses other than VG_OK
 * are fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/coco_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    /* Split at the first "\n--\n"; without one the results half is empty. */
    char       *sep     = strstr(text, "\n--\n");
    const char *gt_text = text, *res_text = "";
    if (sep) {
        *sep     = '\0';
        res_text = sep + 4;
    }
    char             err[256];
    vg_coco_gt      *gt  = NULL;
    vg_coco_results *res = NULL;
    if (vg_coco_gt_parse(gt_text, "gt", &gt, err, sizeof(err)) == VG_OK &&
        vg_coco_results_parse(res_text, "res", &res, err, sizeof(err)) == VG_OK) {
        vg_coco_eval_params  p = vg_coco_eval_params_default();
        vg_coco_eval_summary s;
        vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err));
        p.iou_type      = VG_COCO_IOU_KEYPOINTS;
        p.complete_only = true;
        vg_coco_evaluate(gt, res, &p, &s, err, sizeof(err));
        char *dump = vg_coco_results_dumps(res);
        free(dump);
    }
    vg_coco_results_destroy(res);
    vg_coco_gt_destroy(gt);
    free(text);
    return 0;
}
