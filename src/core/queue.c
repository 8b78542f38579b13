/*
 * queue.c - bounded FIFO between pipeline stages.
 *
 * DESIGN
 * A fixed ring of `capacity` pointers guarded by one mutex, with two
 * conditions: `not_empty` (consumers wait) and `not_full` (producers wait).
 * Every wait loops on its predicate and re-checks the finish flags after each
 * wake-up; finishing either end broadcasts both conditions, so no thread can
 * sleep through a shutdown. The drop callback always runs after the lock is
 * released (a callback may free a frame, log, or even touch the queue).
 * Counters are atomics written under the lock and read without it, so a
 * status line never contends with the data path. Nothing is allocated after
 * vg_queue_create().
 */
#include "vigil/queue.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/thread.h"

struct vg_queue {
    vg_mutex       lock;
    vg_cond        not_empty;
    vg_cond        not_full;
    void         **ring;
    size_t         capacity;
    size_t         head;  /* index of the oldest item */
    size_t         count; /* items queued; mirrors `level` */
    bool           send_finished;
    bool           recv_finished;
    vg_leak_policy leak;
    void (*drop)(void *item, void *user);
    void *drop_user;
    char  name[32];

    atomic_size_t        level;
    atomic_size_t        max_level;
    atomic_uint_fast64_t pushed;
    atomic_uint_fast64_t popped;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t flushed;
};

#define RELAXED memory_order_relaxed

vg_queue_params vg_queue_params_default(void) {
    return (vg_queue_params){.capacity = 4, .leak = VG_LEAK_NONE};
}

vg_status vg_queue_create(const vg_queue_params *p, vg_queue **out) {
    *out = NULL;
    if (!p || p->capacity == 0 || p->capacity > (SIZE_MAX / sizeof(void *)) ||
        (p->leak != VG_LEAK_NONE && p->leak != VG_LEAK_NEWEST && p->leak != VG_LEAK_OLDEST))
        return VG_E_INVALID_ARG;
    vg_queue *q = vg_calloc(1, sizeof(*q));
    if (!q)
        return VG_E_NOMEM;
    vg_status st;
    bool      lock_ok = false, ne_ok = false, nf_ok = false;
    q->ring = vg_calloc(p->capacity, sizeof(void *));
    if (!q->ring) {
        st = VG_E_NOMEM;
        goto fail;
    }
    if ((st = vg_mutex_init(&q->lock)) != VG_OK)
        goto fail;
    lock_ok = true;
    if ((st = vg_cond_init(&q->not_empty)) != VG_OK)
        goto fail;
    ne_ok = true;
    if ((st = vg_cond_init(&q->not_full)) != VG_OK)
        goto fail;
    nf_ok = true;
    (void)nf_ok;
    q->capacity  = p->capacity;
    q->leak      = p->leak;
    q->drop      = p->drop;
    q->drop_user = p->drop_user;
    snprintf(q->name, sizeof(q->name), "%s", p->name ? p->name : "");
    *out = q;
    return VG_OK;

fail:
    if (ne_ok)
        vg_cond_fini(&q->not_empty);
    if (lock_ok)
        vg_mutex_fini(&q->lock);
    vg_free(q->ring);
    vg_free(q);
    return st;
}

/* Removes and returns the oldest item; lock held, count > 0. */
static void *take_oldest(vg_queue *q) {
    void *item       = q->ring[q->head];
    q->ring[q->head] = NULL;
    q->head          = (q->head + 1) % q->capacity;
    q->count--;
    atomic_store_explicit(&q->level, q->count, RELAXED);
    return item;
}

/* Appends item; lock held, count < capacity. */
static void append(vg_queue *q, void *item) {
    q->ring[(q->head + q->count) % q->capacity] = item;
    q->count++;
    atomic_store_explicit(&q->level, q->count, RELAXED);
    if (q->count > atomic_load_explicit(&q->max_level, RELAXED))
        atomic_store_explicit(&q->max_level, q->count, RELAXED);
    atomic_fetch_add_explicit(&q->pushed, 1, RELAXED);
}

static void drop_item(vg_queue *q, void *item) {
    if (q->drop)
        q->drop(item, q->drop_user);
}

void vg_queue_destroy(vg_queue *q) {
    if (!q)
        return;
    while (q->count > 0) {
        void *item = take_oldest(q);
        atomic_fetch_add_explicit(&q->flushed, 1, RELAXED);
        drop_item(q, item);
    }
    vg_cond_fini(&q->not_full);
    vg_cond_fini(&q->not_empty);
    vg_mutex_fini(&q->lock);
    vg_free(q->ring);
    vg_free(q);
}

static int64_t deadline_of(int64_t timeout_ns) {
    return timeout_ns < 0 ? -1 : vg_clock_ns() + timeout_ns;
}

vg_status vg_queue_push(vg_queue *q, void *item, int64_t timeout_ns) {
    if (!item)
        return VG_E_INVALID_ARG;
    void   *victim   = NULL;
    int64_t deadline = deadline_of(timeout_ns);

    vg_mutex_lock(&q->lock);
    for (;;) {
        if (q->send_finished || q->recv_finished) {
            vg_mutex_unlock(&q->lock);
            return VG_E_CLOSED;
        }
        if (q->count < q->capacity)
            break;
        if (q->leak == VG_LEAK_NEWEST) {
            atomic_fetch_add_explicit(&q->pushed, 1, RELAXED);
            atomic_fetch_add_explicit(&q->dropped, 1, RELAXED);
            vg_mutex_unlock(&q->lock);
            drop_item(q, item);
            return VG_OK;
        }
        if (q->leak == VG_LEAK_OLDEST) {
            victim = take_oldest(q);
            atomic_fetch_add_explicit(&q->dropped, 1, RELAXED);
            break;
        }
        if (timeout_ns == VG_WAIT_NONE) {
            vg_mutex_unlock(&q->lock);
            return VG_E_AGAIN;
        }
        if (deadline < 0) {
            vg_cond_wait(&q->not_full, &q->lock);
        } else if (vg_cond_timedwait(&q->not_full, &q->lock, deadline) == VG_E_TIMEOUT &&
                   q->count >= q->capacity && !q->send_finished && !q->recv_finished) {
            vg_mutex_unlock(&q->lock);
            return VG_E_TIMEOUT;
        }
    }
    append(q, item);
    vg_cond_signal(&q->not_empty);
    vg_mutex_unlock(&q->lock);
    if (victim)
        drop_item(q, victim);
    return VG_OK;
}

vg_status vg_queue_pop(vg_queue *q, void **item, int64_t timeout_ns) {
    *item            = NULL;
    int64_t deadline = deadline_of(timeout_ns);

    vg_mutex_lock(&q->lock);
    for (;;) {
        if (q->recv_finished) {
            vg_mutex_unlock(&q->lock);
            return VG_E_CLOSED;
        }
        if (q->count > 0)
            break;
        if (q->send_finished) {
            vg_mutex_unlock(&q->lock);
            return VG_E_EOF;
        }
        if (timeout_ns == VG_WAIT_NONE) {
            vg_mutex_unlock(&q->lock);
            return VG_E_AGAIN;
        }
        if (deadline < 0) {
            vg_cond_wait(&q->not_empty, &q->lock);
        } else if (vg_cond_timedwait(&q->not_empty, &q->lock, deadline) == VG_E_TIMEOUT &&
                   q->count == 0 && !q->send_finished && !q->recv_finished) {
            vg_mutex_unlock(&q->lock);
            return VG_E_TIMEOUT;
        }
    }
    *item = take_oldest(q);
    atomic_fetch_add_explicit(&q->popped, 1, RELAXED);
    vg_cond_signal(&q->not_full);
    vg_mutex_unlock(&q->lock);
    return VG_OK;
}

static void finish(vg_queue *q, bool send) {
    vg_mutex_lock(&q->lock);
    if (send)
        q->send_finished = true;
    else
        q->recv_finished = true;
    /* Wake both sides: a producer blocked on a full queue must see the
     * consumers leave, and a consumer blocked on an empty one the EOF. */
    vg_cond_broadcast(&q->not_empty);
    vg_cond_broadcast(&q->not_full);
    vg_mutex_unlock(&q->lock);
}

void vg_queue_finish_send(vg_queue *q) {
    finish(q, true);
}

void vg_queue_finish_recv(vg_queue *q) {
    finish(q, false);
}

size_t vg_queue_flush(vg_queue *q) {
    size_t n = 0;
    for (;;) {
        vg_mutex_lock(&q->lock);
        if (q->count == 0) {
            vg_mutex_unlock(&q->lock);
            break;
        }
        void *item = take_oldest(q);
        atomic_fetch_add_explicit(&q->flushed, 1, RELAXED);
        vg_cond_broadcast(&q->not_full);
        vg_mutex_unlock(&q->lock);
        drop_item(q, item);
        n++;
    }
    return n;
}

size_t vg_queue_level(const vg_queue *q) {
    return atomic_load_explicit(&((vg_queue *)q)->level, RELAXED);
}

void vg_queue_get_stats(const vg_queue *cq, vg_queue_stats *out) {
    vg_queue *q    = (vg_queue *)cq;
    out->capacity  = q->capacity;
    out->level     = atomic_load_explicit(&q->level, RELAXED);
    out->max_level = atomic_load_explicit(&q->max_level, RELAXED);
    out->pushed    = atomic_load_explicit(&q->pushed, RELAXED);
    out->popped    = atomic_load_explicit(&q->popped, RELAXED);
    out->dropped   = atomic_load_explicit(&q->dropped, RELAXED);
    out->flushed   = atomic_load_explicit(&q->flushed, RELAXED);
}

const char *vg_queue_name(const vg_queue *q) {
    return q->name;
}
