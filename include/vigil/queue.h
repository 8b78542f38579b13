/*
 * vigil/queue.h - the bounded FIFO that joins pipeline stages.
 *
 * A fixed-capacity ring of pointers between producer threads and consumer
 * threads, with a leak policy for when it is full:
 *   VG_LEAK_NONE    the producer blocks (back-pressure: files, image sets)
 *   VG_LEAK_NEWEST  the item being pushed is dropped (GStreamer leaky=upstream)
 *   VG_LEAK_OLDEST  the oldest queued item is dropped (leaky=downstream:
 *                   live sources keep latency bounded)
 * Dropped and flushed items are handed to the params' drop callback, outside
 * the queue's lock; every drop is counted.
 *
 * Each end can finish independently, so shutdown works in any order:
 *   vg_queue_finish_send()  the producers are done: consumers drain what is
 *                           queued, then vg_queue_pop() returns VG_E_EOF.
 *   vg_queue_finish_recv()  the consumers are gone: vg_queue_push() returns
 *                           VG_E_CLOSED at once (blocked pushes wake up).
 * Ownership: an item belongs to the queue only when vg_queue_push() returns
 * VG_OK; on any other status it stays with the caller. All functions are MT
 * safe unless stated otherwise.
 */
#ifndef VG_QUEUE_H
#define VG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_leak_policy {
    VG_LEAK_NONE = 0,
    VG_LEAK_NEWEST,
    VG_LEAK_OLDEST,
} vg_leak_policy;

/* Timeouts in ns for push/pop: */
#define VG_WAIT_FOREVER (-1) /* block until possible or finished */
#define VG_WAIT_NONE    0    /* never block: VG_E_AGAIN instead */

typedef struct vg_queue vg_queue;

typedef struct vg_queue_params {
    size_t         capacity; /* items; > 0 */
    vg_leak_policy leak;     /* behaviour when full */
    const char    *name;     /* for logs and stats; copied; may be NULL */
    /* Receives every item that leaves the queue without being popped:
     * dropped by the leak policy, flushed, or left at destroy. Called without
     * the queue lock. NULL: such items are forgotten (the caller owns them
     * elsewhere). */
    void (*drop)(void *item, void *user);
    void *drop_user;
} vg_queue_params;

/* Counters, read without stopping the queue (relaxed atomics). */
typedef struct vg_queue_stats {
    size_t   capacity;
    size_t   level;     /* items queued now */
    size_t   max_level; /* high-water mark */
    uint64_t pushed;    /* items accepted by push (including ones later dropped) */
    uint64_t popped;    /* items handed to consumers */
    uint64_t dropped;   /* items discarded by the leak policy */
    uint64_t flushed;   /* items discarded by vg_queue_flush() or destroy */
} vg_queue_stats;

/* Default parameters: capacity 4, VG_LEAK_NONE, no name, no drop callback. */
vg_queue_params vg_queue_params_default(void);

/*
 * Creates a queue. Returns VG_OK, VG_E_INVALID_ARG (capacity 0 or unknown
 * policy) or VG_E_NOMEM; *out is NULL on failure. Caller frees with
 * vg_queue_destroy().
 */
vg_status vg_queue_create(const vg_queue_params *p, vg_queue **out);

/*
 * Destroys the queue; remaining items go to the drop callback (counted as
 * flushed). No thread may be using the queue. NULL is a no-op.
 */
void vg_queue_destroy(vg_queue *q);

/*
 * Pushes item (not NULL). timeout_ns: VG_WAIT_FOREVER, VG_WAIT_NONE or a
 * relative timeout; it only matters for VG_LEAK_NONE when full. Returns:
 *   VG_OK            the queue owns item (for VG_LEAK_NEWEST when full, item
 *                    was dropped at once: handed to the drop callback and
 *                    counted; the caller no longer owns it either way)
 *   VG_E_CLOSED      vg_queue_finish_recv() or vg_queue_finish_send() was
 *                    called; item stays with the caller
 *   VG_E_AGAIN       full and timeout_ns == VG_WAIT_NONE; item stays
 *   VG_E_TIMEOUT     full until the timeout; item stays
 *   VG_E_INVALID_ARG item is NULL
 */
vg_status vg_queue_push(vg_queue *q, void *item, int64_t timeout_ns);

/*
 * Pops the oldest item into *item. Returns:
 *   VG_OK        *item is the caller's
 *   VG_E_EOF     vg_queue_finish_send() was called and the queue is empty
 *   VG_E_CLOSED  vg_queue_finish_recv() was called (by another consumer)
 *   VG_E_AGAIN   empty and timeout_ns == VG_WAIT_NONE
 *   VG_E_TIMEOUT empty until the timeout
 * *item is NULL on any status but VG_OK.
 */
vg_status vg_queue_pop(vg_queue *q, void **item, int64_t timeout_ns);

/* The producers are done (see above). Idempotent. */
void vg_queue_finish_send(vg_queue *q);
/* The consumers are gone (see above). Idempotent. */
void vg_queue_finish_recv(vg_queue *q);

/* Drops every queued item (drop callback, counted as flushed); returns how many. */
size_t vg_queue_flush(vg_queue *q);

/* Current number of queued items (relaxed read). */
size_t vg_queue_level(const vg_queue *q);
void   vg_queue_get_stats(const vg_queue *q, vg_queue_stats *out);
/* The name given at creation ("" if none). Valid until destroy. */
const char *vg_queue_name(const vg_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* VG_QUEUE_H */
