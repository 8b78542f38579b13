/*
 * coco_impl.h - internal layout of the COCO ground truth and results objects
 * (shared by coco_data.c, which loads and writes them, and coco_eval.c).
 */
#ifndef VG_VISION_COCO_IMPL_H
#define VG_VISION_COCO_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/coco_eval.h"

/* One ground-truth annotation. Keypoints (x, y, v triplets) live in the gt's
 * flat kp array at kp_off. */
typedef struct vgi_coco_ann {
    int64_t id;
    int64_t image_id;
    int64_t category_id;
    bool    iscrowd;
    double  area;
    double  bbox[4]; /* x, y, w, h */
    int32_t num_keypoints;
    int32_t n_kp; /* triplets stored (0: none) */
    size_t  kp_off;
} vgi_coco_ann;

struct vg_coco_gt {
    vg_coco_image *images; /* sorted by id */
    size_t         n_images;
    char         **file_names; /* owned strings behind images[].file_name */
    int64_t       *cat_ids;    /* sorted, unique */
    size_t         n_cats;
    vgi_coco_ann  *anns; /* file order */
    size_t         n_anns;
    double        *kp;
    size_t         n_kp_vals;
};

/* One results entry. Keypoints live in the results' flat kp array. */
typedef struct vgi_coco_det {
    int64_t image_id;
    int64_t category_id;
    double  score;
    bool    has_bbox;
    double  bbox[4];
    int32_t n_kp; /* triplets (0: none) */
    size_t  kp_off;
} vgi_coco_det;

struct vg_coco_results {
    vgi_coco_det *dets; /* file / insertion order */
    size_t        n, cap;
    double       *kp;
    size_t        n_kp_vals, kp_cap;
};

/* Writes a formatted message into err (if err and errlen). */
void vgi_coco_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Index of image id in gt->images (sorted), or -1. */
long vgi_coco_gt_image_index(const vg_coco_gt *gt, int64_t id);

#endif /* VG_VISION_COCO_IMPL_H */
