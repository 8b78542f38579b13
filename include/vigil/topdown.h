/*
 * vigil/topdown.h - detection + top-down pose on one picture, wired to the
 * inference engine; still-image loading.
 *
 * A vg_topdown object joins a detector session and a pose session (either
 * may be absent) with their manifests and the buffers a frame needs:
 *
 *     vg_model *dm, *pm;  vg_session *ds, *ps;  (loaded and created by the caller)
 *     vg_manifest dman, pman;
 *     vg_model_manifest(dm, "models/centernet", &dman, err, sizeof(err));
 *     vg_model_manifest(pm, "models/movenet-thunder", &pman, err, sizeof(err));
 *     vg_topdown_params p = vg_topdown_params_default();
 *     vg_topdown *td;
 *     vg_topdown_create(dm, ds, &dman, pm, ps, &pman, &p, &td);
 *     for each frame:
 *         vg_topdown_result r;
 *         vg_topdown_run(td, &img, NULL, 0, &r);   (r.dets, r.poses valid until the next run)
 *     vg_topdown_destroy(td);
 *
 * One frame: letterbox into the detector input, run, decode + NMS, keep the
 * persons (class 0) at or above the person threshold, crop every person into
 * one batch (at most params.max_batch crops per run; a pose model whose batch
 * dimension is fixed runs in chunks of that size, e.g. MoveNet person by
 * person), run, decode the keypoints back to frame pixels. Given boxes
 * (ground truth, a tracker) replace the detector.
 *
 * Memory: the object owns the input buffers, the crop list and the result
 * arrays; they grow to the largest frame seen and are then reused, so once
 * the sessions have planned every batch size that occurs, a run allocates
 * nothing.
 *
 * Thread safety: a vg_topdown is used by one thread at a time (as its
 * sessions are); the models may be shared with other objects on other
 * threads. Nothing in it is tied to a thread.
 */
#ifndef VG_TOPDOWN_H
#define VG_TOPDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/model.h"
#include "vigil/results.h"
#include "vigil/status.h"
#include "vigil/vision.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- still images ---------------------------------------------------------- */

/* A decoded picture that owns its pixels (packed RGB24). */
typedef struct vg_rgb_image {
    uint8_t *data; /* vg_malloc'ed; free with vg_rgb_image_free() */
    int32_t  width, height;
    int32_t  stride; /* 3 * width */
} vg_rgb_image;

/*
 * Reads an image file into RGB24. JPEG files (recognised by their first
 * bytes) are decoded with libjpeg(-turbo) at its default settings (islow
 * IDCT, fancy upsampling, RGB out; EXIF orientation ignored), which is what
 * the reference pipelines use; anything else (PNG, BMP, WebP, ...) goes
 * through FFmpeg. On failure writes "<path>: <what is wrong>" into err.
 * Returns VG_OK, VG_E_INVALID_ARG, VG_E_NOT_FOUND (no such file), VG_E_IO,
 * VG_E_FORMAT (not a readable image), VG_E_NOMEM.
 */
vg_status vg_rgb_image_read(const char *path, vg_rgb_image *out, char *err, size_t err_len);

/* Frees the pixels and zeroes *img. NULL is a no-op. */
void vg_rgb_image_free(vg_rgb_image *img);

/* A view of an owned image for the vision functions. */
vg_image vg_rgb_image_view(const vg_rgb_image *img);

/* ---- manifests of loaded models -------------------------------------------- */

/*
 * The manifest of a loaded model: `<path>/manifest.json` when path is a
 * folder, else `<path without .json/.onnx>.manifest.json` or
 * `manifest.json` beside the file, when such a file exists; otherwise the
 * built-in manifest chosen by the model's signature. `path` may be NULL
 * (signature only). On failure err says what was seen and what to write.
 * Returns VG_OK, VG_E_NOT_FOUND (no built-in fits), VG_E_FORMAT/VG_E_IO (bad
 * manifest file), VG_E_INVALID_ARG.
 */
vg_status vg_model_manifest(const vg_model *model, const char *path, vg_manifest *m, char *err,
                            size_t err_len);

/* ---- detection + top-down pose ---------------------------------------------- */

typedef struct vg_topdown_params {
    /* Detector score threshold used in decoding; < 0: the manifest's. */
    float score_threshold;
    /* Persons (class 0) below this do not get a pose; < 0: same as the
     * decoding threshold. */
    float person_threshold;
    /* Most crops per pose run (models with a dynamic batch); >= 1. Default 16. */
    int32_t max_batch;
    /* Most persons per frame that get a pose (the best-scoring ones); 0: no
     * limit beyond the detector's max_detections. Default 0. */
    int32_t max_persons;
    /* Most detections kept per frame (all classes). Default 300. */
    int32_t max_detections;
} vg_topdown_params;

/* Defaults: manifest thresholds, max_batch 16, no person cap, 300 detections. */
vg_topdown_params vg_topdown_params_default(void);

typedef struct vg_topdown vg_topdown;

/*
 * Creates the object. det_* (model, session, manifest) may all be NULL for
 * pose on given boxes only; pose_* may all be NULL for detection only; not
 * both. Models and sessions are borrowed (they must outlive the object);
 * manifests and params are copied. The manifests must be a detector resp. a
 * top-down pose model (movenet or hrnet-heatmap family).
 * On failure *out is NULL and err (may be NULL) says what is wrong and what
 * to do. Returns VG_OK, VG_E_INVALID_ARG (missing parts, a pose manifest in
 * the detector slot, bad params), VG_E_UNSUPPORTED (a model this object
 * cannot run: several inputs, whole-frame pose such as multipose, a dynamic
 * detector input size, flip test on a fixed batch of 1), VG_E_SHAPE (the
 * model's input does not fit its manifest), VG_E_NOMEM.
 */
vg_status vg_topdown_create(const vg_model *det_model, vg_session *det_session,
                            const vg_manifest *det_manifest, const vg_model *pose_model,
                            vg_session *pose_session, const vg_manifest *pose_manifest,
                            const vg_topdown_params *params, vg_topdown **out, char *err,
                            size_t err_len);

/* Frees the object (not the models or sessions). NULL is a no-op. */
void vg_topdown_destroy(vg_topdown *td);

/* Message of the last failed call on td; "" if none. Borrowed. */
const char *vg_topdown_errmsg(const vg_topdown *td);

/* Results of one frame; arrays borrowed from the vg_topdown, valid until its
 * next run or destroy. */
typedef struct vg_topdown_result {
    const vg_detection *dets; /* detector output, all classes, by score; NULL/0 with boxes */
    int32_t             n_dets;
    const vg_pose      *poses; /* one per person, in person order; poses[i].det = its box */
    int32_t             n_poses;
    int32_t             pose_runs; /* pose model runs this frame */
    /* Wall time of the stages (vg_clock_ns differences). */
    int64_t det_pre_ns, det_run_ns, det_post_ns;
    int64_t pose_pre_ns, pose_run_ns, pose_post_ns;
} vg_topdown_result;

/*
 * Runs one frame. With boxes == NULL the detector finds the persons (needs a
 * detector); otherwise the n_boxes given boxes (frame pixels; class_id and
 * score are copied into poses[i].det) are the persons and the detector is
 * not run. Without a pose model only detections come back.
 * Returns VG_OK, VG_E_INVALID_ARG, VG_E_SHAPE/VG_E_BACKEND/... from the
 * engine or the decoders (vg_topdown_errmsg() names the stage and model),
 * VG_E_NOMEM.
 */
vg_status vg_topdown_run(vg_topdown *td, const vg_image *img, const vg_detection *boxes,
                         int32_t n_boxes, vg_topdown_result *res);

#ifdef __cplusplus
}
#endif

#endif /* VG_TOPDOWN_H */
