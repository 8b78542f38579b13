/*
 * vigil/vision.h - the vision layer: model manifests, pre-processing of
 * decoded frames into model inputs, and decoding of model outputs into
 * detections and poses in frame coordinates.
 *
 * Everything here works on plain buffers: an image is packed RGB24 bytes, a
 * model output is a vg_vis_tensor (pointer + dtype + shape). Nothing depends on
 * the inference engine; the pipeline wires the two together:
 *
 *     vg_manifest m;               vg_manifest_builtin("centernet", &m);
 *     vg_frame_rgb_convert(conv, avframe, &img);   (any pixel format -> RGB24)
 *     vg_letterbox lb;             vg_pre_detector(&m, &img, 0, 0, input, bytes, &lb);
 *     ... run the model ...
 *     vg_decoder *d;               vg_decoder_create(&m, &d);      (once)
 *     vg_decode_detections(d, outs, n_outs, &lb, dets, cap, &n);
 *     vg_crop crops[N];            vg_crop_from_box(&pm, &dets[i].box, img.width,
 *                                                   img.height, &crops[i]);
 *     vg_pre_pose_batch(&pm, &img, crops, n, pose_input, bytes);
 *     ... run the pose model ...   poses[i].det = dets[i];
 *     vg_decode_poses(pd, pose_outs, n_pose_outs, crops, n, poses);
 *
 * Coordinates follow results.h: pixels, origin at the top-left corner of the
 * top-left pixel, unless a function says "pixel-centre" coordinates.
 */
#ifndef VG_VISION_H
#define VG_VISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/results.h"
#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct AVFrame;

/* ======================================================================== */
/* Manifests                                                                 */
/* ======================================================================== */

/* The COCO-17 skeleton: 19 limbs as pairs of 0-based keypoint indices. */
#define VG_COCO_NUM_LIMBS 19
extern const uint8_t vg_coco_skeleton[VG_COCO_NUM_LIMBS][2];

/* The COCO-80 class names, index = contiguous class id (0 = "person"). */
extern const char *const vg_coco80_names[80];

#define VG_MANIFEST_MAX_CLASSES 256
#define VG_MANIFEST_MAX_NAME    48
#define VG_MANIFEST_MAX_PAIRS   64
#define VG_MANIFEST_MAX_LEVELS  5

typedef enum vg_vis_task {
    VG_VIS_TASK_DETECTOR = 0,
    VG_VIS_TASK_POSE,
} vg_vis_task;

typedef enum vg_vis_family {
    VG_VIS_FAMILY_YOLOV7 = 0,        /* detector: "yolov7" */
    VG_VIS_FAMILY_CENTERNET,         /* detector: "centernet" */
    VG_VIS_FAMILY_NANODET,           /* detector: "nanodet" (GFL head) */
    VG_VIS_FAMILY_HRNET,             /* pose, top-down heatmaps: "hrnet-heatmap" */
    VG_VIS_FAMILY_MOVENET,           /* pose, top-down single person: "movenet" */
    VG_VIS_FAMILY_MOVENET_MULTIPOSE, /* pose, whole frame, up to 6 people: "movenet-multipose" */
    VG_VIS_FAMILY_COUNT
} vg_vis_family;

/* How a family's outputs are laid out (the families with more than one form). */
typedef enum vg_vis_output_form {
    VG_VIS_OUT_DEFAULT = 0,  /* the family's only form */
    VG_VIS_OUT_YOLO_GRID,    /* "grid":    [1,N,5+C] decoded cx,cy,w,h,obj,cls (export --grid) */
    VG_VIS_OUT_YOLO_RAW,     /* "raw":     3 maps [1,A,ny,nx,5+C] of logits (no --grid) */
    VG_VIS_OUT_YOLO_END2END, /* "end2end": [K,7] batch,x1,y1,x2,y2,cls,score (ONNX NMS export) */
    VG_VIS_OUT_CENTERNET_DETECTIONS, /* "detections": in-graph top-100 rows x1,y1,x2,y2,score,cls */
    VG_VIS_OUT_CENTERNET_HEATMAP,    /* "heatmap": decode class heatmap + wh in C */
} vg_vis_output_form;

typedef enum vg_vis_dtype {
    VG_VIS_F32 = 0,
    VG_VIS_I32,
    VG_VIS_U8,
} vg_vis_dtype;

typedef enum vg_vis_layout {
    VG_VIS_NHWC = 0,
    VG_VIS_NCHW,
} vg_vis_layout;

typedef enum vg_vis_resize {
    VG_VIS_RESIZE_LETTERBOX = 0, /* keep aspect, centre, pad */
    VG_VIS_RESIZE_STRETCH,       /* fill the input, aspect not kept */
} vg_vis_resize;

/* How resampled values are formed before normalisation. */
typedef enum vg_vis_resample {
    VG_VIS_RESAMPLE_FLOAT = 0, /* TF resizeBilinear(half-pixel) in double, rounded to float32 */
    VG_VIS_RESAMPLE_U8,        /* bilinear half-pixel, rounded to the nearest uint8 (YOLO) */
} vg_vis_resample;

/* How a person box becomes a pose-model input (top-down methods). */
typedef enum vg_vis_crop_method {
    VG_VIS_CROP_TF_SQUARE = 0, /* square box * padding, tf.image.cropAndResize (MoveNet) */
    VG_VIS_CROP_AFFINE,        /* centre+scale at model aspect * padding, affine warp (HRNet) */
} vg_vis_crop_method;

typedef struct vg_manifest {
    char               name[VG_MANIFEST_MAX_NAME]; /* e.g. "centernet" */
    vg_vis_task        task;
    vg_vis_family      family;
    vg_vis_output_form output_form;

    /* Input tensor. width/height 0 = dynamic (chosen by the caller). */
    int32_t       input_w, input_h;
    vg_vis_layout layout;
    vg_vis_dtype  dtype;
    bool          bgr; /* channel order B,G,R (else R,G,B) */
    /* Normalisation in float32, per model channel (after colour reorder):
     * v = ((float)pixel / divisor - mean[c]) / std[c]; int inputs truncate. */
    float           divisor; /* 1 or 255 */
    float           mean[3], std[3];
    vg_vis_resize   resize;
    vg_vis_resample resample;
    float           pad_value; /* 0..255, before normalisation */

    /* Detector decoding. */
    double  score_threshold; /* keep score >= this (YOLO: > this, as upstream) */
    double  iou_threshold;   /* drop IoU > this */
    int32_t max_detections;
    bool    class_agnostic_nms;
    int32_t n_classes;
    int32_t n_levels;                              /* YOLO / NanoDet feature levels */
    int32_t strides[VG_MANIFEST_MAX_LEVELS];       /* 8, 16, 32 */
    float   anchors[VG_MANIFEST_MAX_LEVELS][3][2]; /* YOLO (w,h) per level, input px */
    int32_t reg_max;                               /* NanoDet GFL bins - 1 (10) */

    /* Pose. */
    vg_vis_crop_method crop;
    float              crop_padding;       /* box -> crop enlargement, default 1.25 */
    float              keypoint_threshold; /* for drawing and pose score */
    float              min_instance_score; /* MultiPose slots */
    int32_t            n_keypoints;
    bool               heatmap_dark;      /* HRNet: DARK sub-pixel refinement */
    bool               heatmap_flip_test; /* HRNet: run mirrored crops too (doubles the batch) */
    int32_t            n_skeleton, n_flip_pairs;
    int32_t            skeleton[VG_MANIFEST_MAX_PAIRS][2];
    int32_t            flip_pairs[VG_MANIFEST_MAX_PAIRS][2];

    char class_names[VG_MANIFEST_MAX_CLASSES][VG_MANIFEST_MAX_NAME];
    char keypoint_names[VG_MAX_KEYPOINTS][VG_MANIFEST_MAX_NAME];
} vg_manifest;

/* Names of the built-in manifests: "centernet", "nanodet", "movenet-thunder",
 * "movenet-lightning", "movenet-multipose", "yolov7" (--grid, 640), "yolov7-raw",
 * "yolov7-end2end", "hrnet" (256x192). NULL-terminated, static. */
const char *const *vg_manifest_builtin_names(void);

/* Fills *m with a built-in manifest. VG_E_NOT_FOUND for an unknown name. */
vg_status vg_manifest_builtin(const char *name, vg_manifest *m);

/* Family/form/... names as written in manifest JSON ("hrnet-heatmap", "grid").
 * Static strings, "?" when out of range. */
const char *vg_vis_family_name(vg_vis_family f);
const char *vg_vis_output_form_name(vg_vis_output_form f);

/*
 * Loads a manifest JSON file. The file may name a built-in as "base" and
 * override fields; otherwise "task", "family" and "input" are required and
 * the rest default per family. On error, returns VG_E_IO / VG_E_FORMAT and
 * writes "<path>: field '<field>': <what is wrong>" into err (may be NULL).
 * Schema: docs/MANIFEST.md.
 */
vg_status vg_manifest_load(const char *path, vg_manifest *m, char *err, size_t err_len);

/* Same, from a JSON string; `origin` names it in messages. */
vg_status vg_manifest_parse(const char *json, const char *origin, vg_manifest *m, char *err,
                            size_t err_len);

/* A tensor's name, dtype and shape (a model's signature entry). */
typedef struct vg_vis_sig {
    const char  *name;
    vg_vis_dtype dtype;
    int32_t      ndim;     /* <= 8 */
    int64_t      shape[8]; /* -1 = dynamic */
} vg_vis_sig;

/*
 * Picks the built-in manifest that matches a model's inputs and outputs (by
 * shapes and dtypes; names only to break ties). When none matches, returns
 * VG_E_NOT_FOUND and writes what was seen and what each family would need
 * into err, ending with "write a manifest JSON next to the model".
 */
vg_status vg_manifest_from_signature(const vg_vis_sig *inputs, int32_t n_inputs,
                                     const vg_vis_sig *outputs, int32_t n_outputs, vg_manifest *m,
                                     char *err, size_t err_len);

/* ======================================================================== */
/* Images and pre-processing                                                 */
/* ======================================================================== */

/* Packed RGB24 pixels (R,G,B bytes), rows `stride` bytes apart. Not owned. */
typedef struct vg_image {
    const uint8_t *data;
    int32_t        width, height;
    int32_t        stride; /* bytes per row, >= 3 * width */
} vg_image;

/*
 * Converts any decoded frame to RGB24 with libswscale (format conversion only,
 * same size: no resampling happens here, so the recipes below stay exact).
 * The context keeps the SwsContext and the RGB buffer between frames.
 */
typedef struct vg_frame_rgb vg_frame_rgb;
vg_status                   vg_frame_rgb_create(vg_frame_rgb **out);
void                        vg_frame_rgb_destroy(vg_frame_rgb *c); /* NULL is a no-op */
/* Returns an image view valid until the next call or destroy. RGB24 frames are
 * not copied (the view points into the frame). */
vg_status vg_frame_rgb_convert(vg_frame_rgb *c, const struct AVFrame *frame, vg_image *img);

/* The letterbox (or stretch) geometry of one frame into one model input. */
typedef struct vg_letterbox {
    int32_t src_w, src_h; /* frame */
    int32_t dst_w, dst_h; /* model input */
    int32_t resized_w, resized_h;
    int32_t pad_left, pad_top;
} vg_letterbox;

/* scale = min(dw/sw, dh/sh); resized = min(d, floor(s*scale + 0.5)); pad = floor(diff/2).
 * Stretch: resized = dst, pads 0. */
void vg_letterbox_compute(int32_t src_w, int32_t src_h, int32_t dst_w, int32_t dst_h,
                          vg_vis_resize policy, vg_letterbox *lb);
/* Input pixel coordinates -> frame pixel coordinates (edge convention). */
void vg_letterbox_to_frame(const vg_letterbox *lb, double x_in, double y_in, double *x_src,
                           double *y_src);

/* Bytes of one model input item (dtype size * 3 * w * h). */
size_t vg_manifest_input_bytes(const vg_manifest *m, int32_t w, int32_t h);

/*
 * Builds the detector input from an RGB image: letterbox/stretch resize per
 * m->resample, padding, colour order, normalisation, dtype and layout. The
 * input size is `w` x `h` when both are > 0 (models with a dynamic input such
 * as MultiPose), else m->input_w x m->input_h. `dst` must hold
 * vg_manifest_input_bytes() bytes. Allocation-free. Writes the geometry to *lb.
 */
vg_status vg_pre_detector(const vg_manifest *m, const vg_image *img, int32_t w, int32_t h,
                          void *dst, size_t dst_bytes, vg_letterbox *lb);

/* Input size for models with a dynamic input whose sides must be multiples of
 * `multiple` (MoveNet MultiPose: 32): the longer side of the frame becomes
 * `longest`, the shorter one keeps the aspect rounded UP to the multiple
 * (1280x720, 256 -> 256x160). */
void vg_dynamic_input_size(int32_t src_w, int32_t src_h, int32_t longest, int32_t multiple,
                           int32_t *w, int32_t *h);

/* A person crop for a top-down pose model. */
typedef struct vg_crop {
    vg_vis_crop_method method;
    int32_t            out_w, out_h; /* model input size */
    int32_t            src_w, src_h; /* frame size */
    /* Sampling, TF_SQUARE: output pixel (j, i) reads source pixel-centre position
     * (sx0 + j * sdx, sy0 + i * sdy). AFFINE: dst = k * src + (tx, ty), so output
     * pixel (j, i) reads ((j - tx) / k, (i - ty) / k); sx0.. hold the same map. */
    double sx0, sy0, sdx, sdy;
    double k, tx, ty;
    /* Decoding: model-input pixel (x, y) maps to frame (ox + x * kx, oy + y * ky). */
    double ox, oy, kx, ky;
    /* Details: centre and size of the crop in frame pixels; for TF crops also
     * the float32 normalised box (y1, x1, y2, x2) given to cropAndResize. */
    double cx, cy, w, h;
    float  tf_box_yxyx[4];
    bool   flipped; /* mirrored crop: output column j samples column out_w-1-j */
} vg_crop;

/*
 * Box (frame pixels) -> crop for the manifest's pose model:
 *  TF_SQUARE: centre of the box, side = max(w, h) * padding; the normalised box
 *             b = (y1/(H-1), x1/(W-1), y2/(H-1), x2/(W-1)) rounded to float32;
 *             sampling and decoding use the rounded box (as TF does).
 *  AFFINE:    centre of the box, w/h enlarged to the input aspect, times the
 *             padding; crop = similarity dst = k (src - centre) + (W/2, H/2).
 */
vg_status vg_crop_from_box(const vg_manifest *m, const vg_box *box, int32_t src_w, int32_t src_h,
                           vg_crop *crop);

/* Same, from a box in double precision (x1, y1, x2, y2). */
vg_status vg_crop_from_xyxy(const vg_manifest *m, double x1, double y1, double x2, double y2,
                            int32_t src_w, int32_t src_h, vg_crop *crop);

/* The horizontally mirrored version of a crop (for flip tests). */
void vg_crop_flip(const vg_crop *crop, vg_crop *flipped);

/*
 * Samples one crop into one batch item of the pose input (m's dtype, layout,
 * colour order and normalisation). TF_SQUARE follows tf.image.cropAndResize
 * (bilinear, double, extrapolation 0, rounded to float32, then truncated for
 * int32 inputs); AFFINE samples bilinearly at integer output positions with
 * border 0, rounds to uint8 (as cv2.warpAffine), then normalises.
 */
vg_status vg_pre_crop(const vg_manifest *m, const vg_image *img, const vg_crop *crop, void *dst,
                      size_t dst_bytes);

/* All crops of a frame into one batch buffer [n, ...]; with
 * m->heatmap_flip_test the buffer holds 2n items: n crops, then n mirrored. */
vg_status vg_pre_pose_batch(const vg_manifest *m, const vg_image *img, const vg_crop *crops,
                            int32_t n, void *dst, size_t dst_bytes);

/* ======================================================================== */
/* Decoding                                                                  */
/* ======================================================================== */

/* A model output as the engine hands it over. */
typedef struct vg_vis_tensor {
    const char  *name;  /* may be NULL */
    vg_vis_dtype dtype; /* F32 for all decoders; end2end class/num may be I32 */
    int32_t      ndim;
    int64_t      shape[8];
    const void  *data;
} vg_vis_tensor;

/* Reusable decoding state: the manifest plus scratch (candidate lists) that
 * grows to the largest frame seen and is then reused. Not thread-safe. */
typedef struct vg_decoder vg_decoder;
vg_status                 vg_decoder_create(const vg_manifest *m, vg_decoder **out);
void                      vg_decoder_destroy(vg_decoder *d);      /* NULL is a no-op */
const char               *vg_decoder_errmsg(const vg_decoder *d); /* last error, "" if none */

/*
 * Detector outputs -> detections in frame pixels (inverse letterbox, clipped to
 * the frame), after the score threshold, NMS (class-aware unless
 * m->class_agnostic_nms) and max_detections, sorted by score. At most `cap`
 * are written; *n gets the number written.
 */
vg_status vg_decode_detections(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                               const vg_letterbox *lb, vg_detection *dets, int32_t cap, int32_t *n);

/*
 * Pose outputs of a batch of n crops -> n poses in frame pixels: fills
 * n_keypoints, kp[] and score; poses[i].det is left as the caller set it (the
 * person detection the crop came from). MoveNet: output [n,1,K,3] (y, x,
 * score) normalised to the crop. HRNet: heatmaps [n,K,H,W], arg-max + quarter
 * shift (or DARK with m->heatmap_dark); with m->heatmap_flip_test the batch
 * holds 2n items (crops, then mirrored crops, as vg_pre_pose_batch packs them).
 * No keypoint threshold: every keypoint is reported with its score; pose score
 * = mean of the keypoint scores >= m->keypoint_threshold (0 if none).
 */
vg_status vg_decode_poses(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                          const vg_crop *crops, int32_t n, vg_pose *poses);

/* MoveNet MultiPose output [1,6,56] -> people with instance score >=
 * m->min_instance_score, in slot order, mapped through the letterbox (no clip). */
vg_status vg_decode_multipose(vg_decoder *d, const vg_vis_tensor *outs, int32_t n_outs,
                              const vg_letterbox *lb, vg_pose *poses, int32_t cap, int32_t *n);

/* ---- building blocks (used by the above; exposed for tests and tools) ---- */

/* Intersection over union, area without +1. 0 for empty unions. */
double vg_box_iou(const vg_box *a, const vg_box *b);

/*
 * Greedy NMS: visits dets by score (descending, stable: ties keep input
 * order), drops a box whose IoU with a kept box (of the same class unless
 * class_agnostic) is > iou_threshold, stops at max_keep or cap. Kept boxes go
 * to `out` in score order. `order` is scratch of 2 * n ints. Returns the
 * number written.
 */
int32_t vg_nms(const vg_detection *dets, int32_t n, double iou_threshold, bool class_agnostic,
               int32_t max_keep, int32_t *order, vg_detection *out, int32_t cap);

/* Heatmap decoding parameters. */
typedef struct vg_heatmap_params {
    bool quarter_shift;  /* move 0.25 cell towards the larger neighbour (default true) */
    bool dark;           /* DARK: Taylor step on the log of the Gaussian-smoothed map (replaces
                          * the shift; falls back to it where the step is not a maximum
                          * within one cell) */
    int32_t dark_kernel; /* odd Gaussian kernel for DARK (11 for 64x48 maps) */
} vg_heatmap_params;
vg_heatmap_params vg_heatmap_params_default(void);

/*
 * Per-joint arg-max of K heatmaps of h x w (first maximum wins), sub-cell
 * refinement per params, and confidence = the maximum value. Writes heatmap
 * coordinates (cell units, cell centres at integers) to kp[k].x/.y. A joint
 * whose maximum is <= 0 gets (0, 0), as the reference decoder. No allocation.
 */
void vg_heatmap_decode(const float *hm, int32_t k, int32_t h, int32_t w,
                       const vg_heatmap_params *params, vg_keypoint *kp);

/*
 * Flip test: out = (hm + flipback(hm_flipped)) / 2 where flipback mirrors along
 * x, swaps the pairs, and shifts right by one cell (official HRNet config).
 */
void vg_heatmap_flip_merge(const float *hm, const float *hm_flipped, int32_t k, int32_t h,
                           int32_t w, const int32_t (*pairs)[2], int32_t n_pairs, float *out);

#ifdef __cplusplus
}
#endif

#endif /* VG_VISION_H */
