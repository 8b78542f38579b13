/*
 * vigil/pipeline.h - the pipeline runner: a source, N stages and sinks,
 * one thread per stage, joined by bounded queues.
 *
 *   source --q0--> stage 1 --q1--> ... stage N --qN--> writer (sinks)
 *   "read"         stages[0].name                      "write"
 *
 * A stage is a plain function `vg_status fn(void *ctx, vg_frame *f)` plus
 * its own state (sessions, scratch buffers). In the pipelined schedule each
 * stage runs in its own named thread, so while stage 3 works on frame t,
 * stage 2 works on t+1 and the reader on t+2; the `sequential` schedule
 * calls the same functions one after another in the caller's thread. Both
 * schedules give the same results; FIFO queues keep frame order.
 *
 * Live vs file: with `live`, the queue in front of stage `leak_before`
 * (default: the first stage, i.e. q0) drops frames with `live_leak`
 * (default: the oldest) instead of blocking the reader, so latency stays
 * bounded when the pipeline falls behind; every drop is counted. Without
 * `live`, every queue blocks (back-pressure) and nothing is lost. The
 * sequential schedule has no queues, so it never drops: with a live source it
 * falls behind instead (it is the baseline for comparisons, not for cameras).
 *
 * Shutdown works in any state:
 *   end of input   the reader stops, every frame in flight is finished and
 *                  written, sinks are closed (finalised);
 *   stage error    the failing stage stops taking frames, the reader stops,
 *                  frames already past the failing stage are still written,
 *                  the others are discarded, sinks are closed; run returns
 *                  the stage's status and vg_pipeline_errmsg() names the
 *                  stage and frame;
 *   stop request   vg_pipeline_request_stop() (signal-safe): like end of
 *                  input. A second request aborts: frames in flight are
 *                  discarded, sinks are closed with what they have.
 *
 * Frame stamps: slot 0 = reader, slot i = stages[i-1], slot N+1 = writer
 * (see vigil/frame.h); the pipeline's vg_stats uses the same slots.
 */
#ifndef VG_PIPELINE_H
#define VG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/frame.h"
#include "vigil/queue.h"
#include "vigil/stats.h"
#include "vigil/status.h"
#include "vigil/thread.h"
#include "vigil/video.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_PIPELINE_MAX_STAGES (VG_FRAME_MAX_SLOTS - 2)
#define VG_PIPELINE_MAX_SINKS  8

/* ---- the pieces ------------------------------------------------------------ */

/*
 * A stage. fn processes one frame (the stage may read and write its fields
 * and results; it must not unref it). Its return value decides the frame's
 * fate:
 *   VG_OK       pass it on
 *   VG_E_AGAIN  discard it deliberately (counted as skipped), go on
 *   other       a failure: the pipeline stops (see above)
 * fn is only ever called from one thread at a time.
 */
typedef struct vg_stage {
    const char *name; /* thread and metrics name; required, <= 15 chars shown */
    vg_status (*fn)(void *ctx, vg_frame *f); /* required */
    void *ctx;
    /* (optional) called in the stage's thread before its first frame (create
     * per-thread state, warm up). A failure stops the run before it starts. */
    vg_status (*thread_init)(void *ctx);
    /* (optional) called in the stage's thread after its last frame. */
    void (*thread_fini)(void *ctx);
    const vg_cpuset *cpus; /* (optional) pin the stage thread; NULL: no pinning */
} vg_stage;

/*
 * A source of frames: the reader stage.
 *   read       required; on VG_OK *out is a new frame (one reference, passed
 *              to the pipeline) with index/pts/capture_ns set. VG_E_EOF: end
 *              of input. VG_E_CLOSED: interrupted (treated like the end).
 *              Anything else: a failure that stops the run.
 *   interrupt  optional; makes a blocking read return VG_E_CLOSED soon. Must
 *              be async-signal-safe (it is called from signal handlers).
 */
typedef struct vg_source {
    vg_status (*read)(void *ctx, vg_frame **out);
    void (*interrupt)(void *ctx);
    void *ctx;
} vg_source;

/*
 * A sink: where finished frames go (files, display, network). All entries
 * run in the writer thread (or the caller's thread when sequential).
 *   open     (optional) before the first frame, with the source's info; a
 *            failure stops the run before it starts. Default: nothing.
 *   write    required; the frame is borrowed for the call.
 *   close    (optional) after the last frame, also after errors and stops;
 *            finalises the output. Called only if open succeeded.
 *   destroy  (optional) frees ctx; called by vg_sink_destroy().
 */
typedef struct vg_sink_iface {
    const char *name;
    vg_status (*open)(void *ctx, const vg_video_info *info);
    vg_status (*write)(void *ctx, const vg_frame *f);
    vg_status (*close)(void *ctx);
    void (*destroy)(void *ctx);
} vg_sink_iface;

typedef struct vg_sink {
    const vg_sink_iface *iface;
    void                *ctx;
} vg_sink;

/* Calls iface->destroy(ctx) if set and clears *s. NULL or empty is a no-op. */
void vg_sink_destroy(vg_sink *s);

/* The last error text of a built-in sink ("" if none or unknown sink). */
const char *vg_sink_errmsg(const vg_sink *s);

/* ---- built-in sources and sinks -------------------------------------------- */

/*
 * A vg_video_in as a pipeline source. The struct is caller storage that must
 * outlive the pipeline; `in` and `pool` are borrowed (pool NULL: frames are
 * allocated one by one). Fills *src to read from it; the source's interrupt
 * calls vg_video_in_interrupt(). Read failures are logged with the input's
 * message.
 */
typedef struct vg_video_source {
    vg_video_in   *in;
    vg_frame_pool *pool;
    AVRational     time_base;
} vg_video_source;

void vg_video_source_init(vg_video_source *vs, vg_video_in *in, vg_frame_pool *pool,
                          vg_source *src);

/*
 * JSON Lines sink: one line per frame, flushed per frame, in frame order:
 *   {"frame":12,"pts":6144,"time":0.48,"persons":[{"box":[x1,y1,x2,y2],
 *    "score":0.91,"keypoints":[[x,y,s],...]}],"detections":[{"box":[...],
 *    "score":0.7,"class":2}]}
 * "persons" are the frame's poses; a frame without poses lists its person
 * detections (class 0) there with empty keypoints. "detections" holds every
 * detection of another class. Numbers are printed with 6 significant
 * digits, so identical results give identical text. path "-" is stdout.
 * Returns VG_OK, VG_E_INVALID_ARG or VG_E_NOMEM; the file is created by
 * open (VG_E_IO there). Free with vg_sink_destroy().
 */
vg_status vg_jsonl_sink_create(const char *path, vg_sink *out);

/*
 * Draws results onto a picture. canvas is writable, in the sink's
 * annotate_format at the source's size; f is borrowed. Called in the writer
 * thread. A failure stops the run.
 */
typedef vg_status (*vg_annotate_fn)(void *user, const vg_frame *f, AVFrame *canvas);

typedef struct vg_mp4_sink_params {
    const char    *path;       /* required */
    int            crf;        /* default 23 */
    const char    *preset;     /* default "ultrafast" (see vg_video_out_params) */
    bool           fragmented; /* see vg_video_out_params; default false */
    vg_annotate_fn annotate;   /* NULL: the pictures are written as decoded */
    void          *annotate_user;
    int            annotate_format; /* enum AVPixelFormat of the canvas; default
                                       AV_PIX_FMT_BGRA (cairo's ARGB32 layout) */
} vg_mp4_sink_params;

vg_mp4_sink_params vg_mp4_sink_params_default(void);

/*
 * MP4 sink (H.264 via vg_video_out at the source's size and frame rate,
 * pts from the frames). Dropped frames leave time gaps, not duplicates.
 * Returns VG_OK, VG_E_INVALID_ARG or VG_E_NOMEM; the file is created by open.
 * Free with vg_sink_destroy().
 */
vg_status vg_mp4_sink_create(const vg_mp4_sink_params *p, vg_sink *out);

/* ---- the pipeline ------------------------------------------------------------ */

typedef struct vg_pipeline vg_pipeline;

typedef struct vg_pipeline_params {
    vg_source       source;          /* required */
    const vg_stage *stages;          /* n_stages stages, copied (ctx pointers borrowed) */
    size_t          n_stages;        /* 0 .. VG_PIPELINE_MAX_STAGES */
    const vg_sink  *sinks;           /* n_sinks sinks, copied (borrowed; caller destroys) */
    size_t          n_sinks;         /* 0 .. VG_PIPELINE_MAX_SINKS */
    vg_video_info   info;            /* passed to the sinks' open; nb_frames feeds the
                                        progress bar */
    bool             sequential;     /* one thread, no queues */
    bool             live;           /* drop instead of block (see above); default false */
    vg_leak_policy   live_leak;      /* default VG_LEAK_OLDEST */
    size_t           leak_before;    /* index of the stage whose input queue leaks; default 0 */
    size_t           queue_capacity; /* frames per queue; default 4 */
    const vg_cpuset *reader_cpus;    /* (optional) pin the reader thread */
    const vg_cpuset *writer_cpus;    /* (optional) pin the writer thread */
    /* (optional) called in the caller's thread about every status_interval_ns
     * while running, and once at the end. */
    void (*on_status)(void *user, vg_pipeline *p);
    void   *status_user;
    int64_t status_interval_ns; /* default 1 s */
    size_t  stats_window;       /* frames; default 120 */
    size_t  stats_history;      /* frames; default 8192 */
} vg_pipeline_params;

/* Defaults as documented beside each field; source empty, no stages/sinks. */
vg_pipeline_params vg_pipeline_params_default(void);

/*
 * Creates a pipeline (queues and stats; no threads yet). Returns VG_OK,
 * VG_E_INVALID_ARG (missing read/fn/name, too many stages or sinks, bad
 * capacity; errmsg says which) or VG_E_NOMEM. errmsg may be NULL. Free with
 * vg_pipeline_destroy().
 */
vg_status vg_pipeline_create(const vg_pipeline_params *p, vg_pipeline **out, char *errmsg,
                             size_t errmsg_size);

/* Frees the pipeline; frames still queued are released. It must not be
 * running. NULL is a no-op. */
void vg_pipeline_destroy(vg_pipeline *p);

/*
 * Runs the pipeline to its end (end of input, stop request, or failure) in
 * the calling thread: opens the sinks, starts the threads, waits, joins them,
 * closes the sinks. Call it once per pipeline. Returns:
 *   VG_OK     the input ended or a stop was requested; all outputs finalised
 *   other     the first failure: a sink's open/write/close, a stage, or the
 *             source (vg_pipeline_errmsg() names it and the frame)
 */
vg_status vg_pipeline_run(vg_pipeline *p);

/*
 * Requests a stop: the first call stops reading and lets frames in flight
 * finish; the second aborts (frames in flight are discarded). Calls the
 * source's interrupt. Async-signal-safe and MT safe; may be called before
 * or during vg_pipeline_run().
 */
void vg_pipeline_request_stop(vg_pipeline *p);

/* Number of stop requests so far (0, 1, 2+). MT safe. */
int vg_pipeline_stop_level(const vg_pipeline *p);

/*
 * Fills *out: the stats (window and run), queue levels, frames in, drops,
 * skips and frames_expected (info.nb_frames for non-live inputs). MT safe;
 * useful from on_status and after run.
 */
void vg_pipeline_get_summary(vg_pipeline *p, vg_stats_summary *out);

/* The pipeline's stats collector (borrowed; valid until destroy). */
vg_stats *vg_pipeline_stats(vg_pipeline *p);

/* The first failure's message ("" if none). Valid until destroy. */
const char *vg_pipeline_errmsg(const vg_pipeline *p);

/* ---- signals ------------------------------------------------------------------ */

/*
 * Installs SIGINT and SIGTERM handlers that call vg_pipeline_request_stop(p):
 * the first signal stops cleanly, the second aborts, a third exits the
 * process at once (_exit(130)). One pipeline at a time; the previous
 * handlers are saved. Returns VG_OK or VG_E_INTERNAL (sigaction failed).
 */
vg_status vg_pipeline_install_signals(vg_pipeline *p);

/* Restores the handlers saved by vg_pipeline_install_signals(). */
void vg_pipeline_remove_signals(void);

#ifdef __cplusplus
}
#endif

#endif /* VG_PIPELINE_H */
