/*
 * vigil/analytics.h - the analytics stages of the pipeline (PRE-PROCESS,
 * DETECT, POSE) and the sinks that show their results on the pictures
 * (annotated snapshots, an SDL2 display window).
 *
 *     vg_analytics_params ap = vg_analytics_params_default();
 *     ap.det_model = dm;  ap.det_manifest = &dman;  ap.det_device = "cpu:0";
 *     ap.pose_model = pm; ap.pose_manifest = &pman; ap.pose_device = "cpu:1";
 *     vg_analytics *a;
 *     vg_analytics_create(&ap, &a, err, sizeof(err));   (checks models and devices)
 *     vg_stage stages[VG_ANALYTICS_MAX_STAGES];
 *     size_t n = vg_analytics_stages(a, stages);
 *     ... vg_pipeline_params.stages = stages, .n_stages = n; run ...
 *     vg_pipeline_destroy(p);           (releases every frame)
 *     vg_analytics_destroy(a);
 *
 * The stages, in order:
 *   "pre"     converts the picture to RGB24 and letterboxes it into the
 *             detector's input; both buffers travel with the frame (an aux
 *             slot) and come from a pool, so the steady state allocates
 *             nothing.
 *   "detect"  runs the detector session, decodes and applies NMS; fills the
 *             frame's detections and n_persons.
 *   "pose"    crops every person of the frame into one batch (at most
 *             pose_batch crops per run; models with a fixed batch, such as
 *             MoveNet, run person by person) and fills the frame's poses.
 *             Only present with a pose model.
 * Each engine session is created in its stage's thread (thread_init) on the
 * stage's device and destroyed there; the stage thread is pinned to the
 * device's cores. Sequential and pipelined schedules call the same functions
 * and give the same results.
 *
 * Thread safety: the object is shared by the stage threads, each touching
 * only its own part; create/destroy from one thread while nothing runs.
 */
#ifndef VG_ANALYTICS_H
#define VG_ANALYTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/draw.h"
#include "vigil/model.h"
#include "vigil/pipeline.h"
#include "vigil/vision.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_ANALYTICS_MAX_STAGES 3
/* The frame aux slot the analytics stages use for their per-frame buffers. */
#define VG_ANALYTICS_AUX_SLOT 0

typedef struct vg_analytics_params {
    /* Detector: model (borrowed, must outlive the object) and its manifest
     * (copied). Required. */
    const vg_model    *det_model;
    const vg_manifest *det_manifest;
    const char        *det_backend; /* "ref", "cpu"; NULL: the engine's default */
    const char        *det_device;  /* "cpu", "cpu:0", "cpu:0-1"; NULL: "cpu" */
    int                det_threads; /* 0: one per core of the device */
    /* Pose: a top-down model and its manifest, or both NULL (detection only). */
    const vg_model    *pose_model;
    const vg_manifest *pose_manifest;
    const char        *pose_backend;
    const char        *pose_device;
    int                pose_threads;
    /* Precision per model: "fp32" or "fp16" (GPU devices only); NULL: fp32.
     * Borrowed: must outlive the object. */
    const char *det_precision, *pose_precision;
    /* Detector score threshold; < 0: the manifest's. */
    float score_threshold;
    /* Persons (class 0) at or above this get a pose; < 0: score threshold. */
    float person_threshold;
    /* Most crops per pose run (>= 1; default 16). */
    int32_t pose_batch;
    /* Most persons per frame that get a pose (best scores first); 0: all. */
    int32_t max_persons;
    /* Most detections kept per frame (all classes); default 100. */
    int32_t max_detections;
    /*
     * (optional) Person boxes from elsewhere instead of the detector's: a
     * benchmark that needs exactly k persons per frame, boxes from a tracker
     * or from annotations. Called in the detect stage for every frame, after
     * the detector has run (so its cost is unchanged). It returns the number
     * of boxes and points *boxes at them (borrowed for the call only), or -1
     * to keep the detector's persons for this frame. The frame's person
     * detections (class 0) are then replaced by copies of these boxes (class
     * set to 0, scores kept, placed first; other classes stay, up to
     * max_detections in all), n_persons is their number (capped by
     * max_persons) and each of them gets a pose whatever its score. Called
     * from one thread at a time (the detect stage's).
     */
    int32_t (*person_boxes)(void *user, const vg_frame *f, const vg_detection **boxes);
    void *person_boxes_user;
} vg_analytics_params;

/* Defaults: thresholds from the manifests, pose_batch 16, no person cap,
 * 100 detections, engine default backend and device. */
vg_analytics_params vg_analytics_params_default(void);

typedef struct vg_analytics vg_analytics;

/*
 * Creates the stages' shared state and checks, before anything runs, that
 * the manifests fit the models (task, input shape) and that a session can be
 * created on each device with each backend (a probe session is created and
 * destroyed; it plans nothing). Returns VG_OK, VG_E_INVALID_ARG (missing
 * detector, bad values), VG_E_UNSUPPORTED (a backend that is not built, e.g.
 * cuda, or a model family the stages cannot run), VG_E_DEVICE (cores that do
 * not exist or are not available), VG_E_SHAPE (model input does not fit its
 * manifest), VG_E_NOMEM. On failure err (may be NULL) names the model and
 * device and says what to do.
 */
vg_status vg_analytics_create(const vg_analytics_params *p, vg_analytics **out, char *err,
                              size_t err_len);

/* Frees the object. The pipeline that used its stages must have been
 * destroyed first (frames hold buffers of its pool). NULL is a no-op. */
void vg_analytics_destroy(vg_analytics *a);

/* Fills stages[0..n) ("pre", "detect" and, with a pose model, "pose") and
 * returns n. The stages point into a (ctx). */
size_t vg_analytics_stages(vg_analytics *a, vg_stage *stages);

/* The detailed message of the first stage failure (a session that could not
 * be created, a run that failed, naming the frame); "" if none. Read it after
 * the run. */
const char *vg_analytics_errmsg(const vg_analytics *a);

/* Backend names the sessions actually use ("cpu", "ref"); "" before the
 * stage started. */
const char *vg_analytics_backend(const vg_analytics *a, bool pose);

/* ---- annotation --------------------------------------------------------------- */

/*
 * Draws a frame's results (poses with their boxes; other detections; all
 * detections when the frame has no poses) with Cairo. One annotator serves
 * every sink of a pipeline: used as the MP4 sink's annotate callback it
 * draws on the sink's canvas and remembers it, so that the display and
 * snapshot sinks that follow in the same writer call reuse the picture
 * instead of converting and drawing again. Used by one thread at a time (the
 * writer).
 */
typedef struct vg_annotator vg_annotator;

/* params NULL: vg_draw_params_default(). VG_OK, VG_E_NOMEM, VG_E_INVALID_ARG. */
vg_status vg_annotator_create(const vg_draw_params *params, vg_annotator **out);
void      vg_annotator_destroy(vg_annotator *a); /* NULL is a no-op */

/* A vg_annotate_fn: user is the vg_annotator, canvas must be BGRA. */
vg_status vg_annotator_draw(void *user, const vg_frame *f, AVFrame *canvas);

/*
 * The annotated BGRA picture of f (borrowed; valid until the writer's next
 * frame): the one vg_annotator_draw() produced for the same frame, else a
 * conversion of f's picture drawn on here. VG_OK, VG_E_NOMEM,
 * VG_E_UNSUPPORTED (pixel format), VG_E_BACKEND (drawing failed).
 */
vg_status vg_annotator_render(vg_annotator *a, const vg_frame *f, const AVFrame **out);

/* ---- more sinks --------------------------------------------------------------- */

/*
 * Snapshot sink: writes the annotated picture of every `every`-th frame
 * (frame index % every == 0) as DIR/frame_<index, 6 digits>.jpg (quality
 * 90). The folder is created by open if missing. The annotator is borrowed.
 * Returns VG_OK, VG_E_INVALID_ARG or VG_E_NOMEM. Free with vg_sink_destroy().
 */
vg_status vg_snapshot_sink_create(const char *dir, int every, vg_annotator *ann, vg_sink *out);

typedef struct vg_display_sink_params {
    const char   *title;     /* window title; default "vigil" */
    vg_annotator *annotator; /* required; borrowed */
    int           max_width; /* window size cap (scaled down keeping aspect); default 1280 */
    /* (optional) called from the writer thread when the window is closed or
     * q / Esc is pressed; typically requests a pipeline stop. */
    void (*on_quit)(void *user);
    void *quit_user;
    /* (optional) at close, the window's last picture is read back from the
     * renderer and written here as a PNG (for tests under Xvfb). */
    const char *screenshot_path;
} vg_display_sink_params;

vg_display_sink_params vg_display_sink_params_default(void);

/* True when vigil was built with the SDL2 display (VG_WITH_DISPLAY). */
bool vg_display_available(void);

/*
 * Display sink: an SDL2 window showing the annotated frames as they are
 * written (software renderer; no vsync wait). The window opens on the
 * first frame. Returns VG_OK, VG_E_INVALID_ARG, VG_E_NOMEM, or
 * VG_E_UNSUPPORTED when vigil was built without the display; opening fails
 * with VG_E_DEVICE when no display can be opened (no $DISPLAY). Free with
 * vg_sink_destroy().
 */
vg_status vg_display_sink_create(const vg_display_sink_params *p, vg_sink *out);

#ifdef __cplusplus
}
#endif

#endif /* VG_ANALYTICS_H */
