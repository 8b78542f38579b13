/*
 * vigil/frame.h - the frame object that travels through the pipeline.
 *
 * A vg_frame is a reference-counted wrapper over one decoded picture (an
 * AVFrame reference: pixels are shared, never copied) plus everything the
 * pipeline learns about it on the way:
 *   - where it came from: stream index, frame index, pts and time,
 *   - when things happened: the capture time and, for every stage slot, the
 *     time the stage took the frame (stage_in_ns) and gave it on
 *     (stage_out_ns); metrics are computed from these alone,
 *   - results: detections, poses and the number of persons,
 *   - auxiliary per-frame data a stage hands to a later one (for example a
 *     pre-processed input tensor), freed with the frame.
 *
 * Ownership and threads: the creator holds one reference; vg_frame_ref()
 * adds one and vg_frame_unref() drops one; the last unref frees the frame or
 * returns it to its pool. Reference counting is MT safe. The fields are not
 * locked: the pipeline hands a frame to one stage at a time, and the stage
 * that holds it may write them.
 *
 * Stage slots: slot 0 is the reader (source), slots 1..N the pipeline's
 * stages in order, slot N+1 the writer (sinks); unused slots are 0.
 */
#ifndef VG_FRAME_H
#define VG_FRAME_H

#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#include "vigil/results.h"
#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_FRAME_MAX_SLOTS 16 /* reader + up to 14 stages + writer */
#define VG_FRAME_AUX_SLOTS 4

typedef struct vg_frame {
    AVFrame   *av;           /* the picture; owned reference (never NULL, may be empty) */
    int32_t    stream_index; /* which input stream (0 for single-source pipelines) */
    int64_t    index;        /* frame index from the source (gaps = frames skipped) */
    int64_t    seq;          /* order of entry into the pipeline, 0, 1, 2 ... */
    int64_t    pts;          /* presentation time in time_base (monotonic per stream) */
    AVRational time_base;
    double     time_s; /* seconds since the source's first frame */

    int64_t capture_ns;                       /* vg_clock_ns() at capture/decode */
    int64_t stage_in_ns[VG_FRAME_MAX_SLOTS];  /* slot took the frame */
    int64_t stage_out_ns[VG_FRAME_MAX_SLOTS]; /* slot finished with it */

    /* Results; arrays owned by the frame, grown by the functions below. */
    vg_detection *detections;
    int32_t       n_detections;
    int32_t       cap_detections;
    vg_pose      *poses;
    int32_t       n_poses;
    int32_t       cap_poses;
    int32_t       n_persons; /* persons found (set by the detect stage) */

    /* Auxiliary data for later stages; aux_free[i](aux[i]) runs when the
     * frame is freed or recycled (if both are set). */
    void *aux[VG_FRAME_AUX_SLOTS];
    void (*aux_free[VG_FRAME_AUX_SLOTS])(void *);
} vg_frame;

/*
 * Creates a frame with an empty AVFrame and one reference. Returns VG_OK or
 * VG_E_NOMEM (*out NULL). Release with vg_frame_unref().
 */
vg_status vg_frame_create(vg_frame **out);

/* Adds a reference and returns f. MT safe. */
vg_frame *vg_frame_ref(vg_frame *f);

/* Drops a reference; the last one frees the frame (or returns it to its
 * pool), including the picture reference, results and aux data. NULL is a
 * no-op. MT safe. */
void vg_frame_unref(vg_frame *f);

/* Current reference count (for tests and assertions). */
int vg_frame_refcount(const vg_frame *f);

/*
 * Makes f->av a new reference to src's buffers (av_frame_ref: no pixel
 * copy), replacing the previous picture. Returns VG_OK or VG_E_NOMEM.
 */
vg_status vg_frame_set_picture(vg_frame *f, const AVFrame *src);

/* Ensures room for n detections / poses in total. VG_OK or VG_E_NOMEM. */
vg_status vg_frame_reserve_detections(vg_frame *f, int32_t n);
vg_status vg_frame_reserve_poses(vg_frame *f, int32_t n);

/* Appends a copy of d / p (growing the array). VG_OK or VG_E_NOMEM. */
vg_status vg_frame_add_detection(vg_frame *f, const vg_detection *d);
vg_status vg_frame_add_pose(vg_frame *f, const vg_pose *p);

/* Empties the result arrays (keeps their memory) and n_persons. */
void vg_frame_clear_results(vg_frame *f);

/* Sets aux slot i (0 <= i < VG_FRAME_AUX_SLOTS), freeing what was there. */
void vg_frame_set_aux(vg_frame *f, int i, void *data, void (*free_fn)(void *));

/* ---- pool ----------------------------------------------------------------- */

/*
 * A pool recycles frames (the wrapper, its AVFrame struct and its result
 * arrays) so the per-frame path allocates nothing once warm. MT safe.
 * Frames outlive the pool safely: vg_frame_pool_destroy() only marks it, and
 * it is freed when the last of its frames is released.
 */
typedef struct vg_frame_pool vg_frame_pool;

/* Creates an empty pool. VG_OK or VG_E_NOMEM (*out NULL). */
vg_status vg_frame_pool_create(vg_frame_pool **out);

/* Gets a reset frame (one reference, empty picture, no results, slots 0);
 * from the pool or newly allocated. VG_OK or VG_E_NOMEM (*out NULL). */
vg_status vg_frame_pool_get(vg_frame_pool *pool, vg_frame **out);

/* Releases the caller's handle on the pool. NULL is a no-op. */
void vg_frame_pool_destroy(vg_frame_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* VG_FRAME_H */
