/*
 * vigil/results.h - what the vision layer produces for a frame: detections
 * (boxes with class and score) and poses (a person box with keypoints).
 *
 * Plain value types, no ownership: arrays of them are owned by whoever
 * allocated them (a frame, a caller's buffer). Coordinates are in pixels of
 * the frame the results belong to (x right, y down, origin at the top-left
 * corner of the top-left pixel), unless a function says otherwise.
 */
#ifndef VG_RESULTS_H
#define VG_RESULTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on keypoints per pose (COCO has 17). */
#define VG_MAX_KEYPOINTS 32

typedef struct vg_box {
    float x1, y1; /* top-left corner */
    float x2, y2; /* bottom-right corner (x2 >= x1, y2 >= y1) */
} vg_box;

typedef struct vg_detection {
    vg_box  box;
    float   score;    /* 0..1 */
    int32_t class_id; /* 0-based contiguous COCO-80 index (0 = person) */
} vg_detection;

typedef struct vg_keypoint {
    float x, y;  /* pixels */
    float score; /* 0..1 confidence */
} vg_keypoint;

typedef struct vg_pose {
    vg_detection det;         /* the person box the pose was estimated in */
    float        score;       /* pose score (mean of confident keypoint scores, or the model's) */
    int32_t      n_keypoints; /* <= VG_MAX_KEYPOINTS; 17 for COCO */
    vg_keypoint  kp[VG_MAX_KEYPOINTS];
} vg_pose;

#ifdef __cplusplus
}
#endif

#endif /* VG_RESULTS_H */
