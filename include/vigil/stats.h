/*
 * vigil/stats.h - pipeline metrics computed from frame timestamps.
 *
 * Every finished frame is added once (vg_stats_add_frame); everything else
 * is derived from its stamps (see vigil/frame.h):
 *   end-to-end latency   stage_out_ns[last slot] - capture_ns
 *   service time, slot i stage_out_ns[i] - stage_in_ns[i]
 *   queue wait, slot i   stage_in_ns[i] - stage_out_ns[i-1] (0 for the reader)
 *   persons, poses       n_persons, n_poses
 * Two views are kept: a window over the last `window` frames (for the
 * status line) and the whole run (for the final summary). Counts, means and
 * maxima of the run are exact; percentiles are exact over the frames they
 * cover (nearest rank on the sorted values): the window, and for the run the
 * last `history` frames (all of them in runs up to that length). Values
 * live in a fixed ring allocated at creation: adding a frame allocates
 * nothing.
 *
 * All functions on one vg_stats are MT safe (one mutex; the summary is
 * computed under it).
 */
#ifndef VG_STATS_H
#define VG_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/frame.h"
#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_STATS_MAX_SLOTS VG_FRAME_MAX_SLOTS
#define VG_STATS_NAME_LEN  24

/* A distribution in milliseconds. All 0 when n == 0. */
typedef struct vg_dist {
    uint64_t n;
    double   mean, p50, p95, max;
} vg_dist;

/* Metrics over a set of frames (the window, or the run). */
typedef struct vg_stats_view {
    uint64_t frames;
    double   span_s;  /* time the frames cover */
    double   fps;     /* frames finished per second */
    vg_dist  latency; /* end to end, ms */
    vg_dist  service[VG_STATS_MAX_SLOTS];
    vg_dist  wait[VG_STATS_MAX_SLOTS];
    double   persons_mean; /* per frame */
    int32_t  persons_max;
    uint64_t poses;
    double   poses_per_s;
} vg_stats_view;

/* One queue's levels and drops (filled by the pipeline). */
typedef struct vg_stats_queue {
    char     name[32];
    size_t   capacity, level, max_level;
    uint64_t dropped;
} vg_stats_queue;

typedef struct vg_stats_summary {
    int           n_slots;
    char          slot_names[VG_STATS_MAX_SLOTS][VG_STATS_NAME_LEN];
    vg_stats_view window;
    vg_stats_view total;
    uint64_t      pct_frames; /* frames that total's percentiles cover */
    /* Filled by the pipeline (vg_pipeline_get_summary); 0 from vg_stats alone. */
    int            n_queues;
    vg_stats_queue queues[VG_STATS_MAX_SLOTS];
    uint64_t       frames_in;       /* frames the source produced */
    uint64_t       dropped;         /* discarded by leaky queues (live sources) */
    uint64_t       skipped;         /* discarded by stages (VG_E_AGAIN) */
    int64_t        frames_expected; /* known length of the input; -1 unknown */
    double         elapsed_s;       /* since the first frame entered */
} vg_stats_summary;

typedef struct vg_stats_params {
    int n_slots;                   /* stamp slots in use, 1..VG_STATS_MAX_SLOTS; the last
                                      one's stage_out_ns is the "written" time */
    const char *const *slot_names; /* n_slots names (copied, truncated); NULL: "s0", "s1".. */
    size_t             window;     /* frames in the window; default 120 */
    size_t             history;    /* frames kept for the run's percentiles; default 8192 */
} vg_stats_params;

typedef struct vg_stats vg_stats;

/* Defaults: 2 slots, no names, window 120, history 8192. */
vg_stats_params vg_stats_params_default(void);

/* Creates the collector. VG_OK, VG_E_INVALID_ARG (slots out of range,
 * window 0 or window > history) or VG_E_NOMEM. Free with vg_stats_destroy(). */
vg_status vg_stats_create(const vg_stats_params *p, vg_stats **out);
void      vg_stats_destroy(vg_stats *s); /* NULL is a no-op */

/* Adds a finished frame (borrowed; read only during the call). MT safe. */
void vg_stats_add_frame(vg_stats *s, const vg_frame *f);

/* Forgets every frame (keeps the configuration). MT safe. */
void vg_stats_reset(vg_stats *s);

/* Computes both views into *out (queue fields zeroed). MT safe. */
void vg_stats_summarize(vg_stats *s, vg_stats_summary *out);

/*
 * One status line (no newline), such as
 *   "412 fr  24.9 fps  e2e 85.1 ms (p95 120.3)  persons 3.2  poses 79.1/s
 *    drops 12  q 1/4 0/4  | read 2.1 det 38.2 pose 30.1 write 4.0 ms"
 * from the window view. Always NUL-terminated; returns buf.
 */
char *vg_stats_format_line(const vg_stats_summary *s, char *buf, size_t size);

/*
 * A progress bar with ETA when frames_expected > 0, followed by the status
 * line: "[#######.......]  45%  120/265  ETA 0:07  24.9 fps ...". Falls back
 * to the plain line otherwise. Returns buf.
 */
char *vg_stats_format_progress(const vg_stats_summary *s, char *buf, size_t size);

/*
 * The final summary as JSON text (an object with "frames", "fps",
 * "latency_ms", "stages", "queues", "drops" ...; see the implementation for
 * the full schema). *out is vg_malloc'ed (caller frees with vg_free).
 * Returns VG_OK or VG_E_NOMEM.
 */
vg_status vg_stats_summary_json(const vg_stats_summary *s, char **out);

/* Writes vg_stats_summary_json() to path. VG_OK, VG_E_IO or VG_E_NOMEM. */
vg_status vg_stats_write_json(const vg_stats_summary *s, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* VG_STATS_H */
