/*
 * pipeline.c - the runner: reader, stage threads, writer, queues, shutdown.
 *
 * DESIGN
 * Threads: "read" (slot 0) pulls frames from the source and pushes them into
 * q[0]; stage k (slot k+1) pops q[k], runs its function and pushes q[k+1];
 * "write" (slot N+1) pops q[N], writes to every sink and adds the frame to
 * the stats. The caller's thread (inside vg_pipeline_run) opens and closes
 * the sinks, waits for the workers, calls on_status periodically and carries
 * out aborts. Sequential mode runs reader, stages and writer for one frame
 * at a time in the caller's thread, through the same helper functions.
 *
 * Shutdown is a cascade on the queues' two finish states, never a flag that
 * threads must poll in a wait:
 *   - a producer that is done calls finish_send on its output: consumers
 *     drain what is queued and see EOF, then finish their own output;
 *   - a consumer that fails calls finish_recv on its input: its producer's
 *     next push returns VG_E_CLOSED, so it drops that frame and stops
 *     consuming too, up to the reader.
 * A stop request only makes the reader stop (and interrupts a blocking
 * read); the second request (abort) additionally makes every thread discard
 * what it pops, and the caller's thread flushes the queues. Frames left in a
 * queue are released by its drop callback. Startup is a barrier: every
 * thread runs its thread_init, then waits for "go"; if any init failed,
 * the run is aborted before the first frame is read.
 *
 * Counters shared between threads are atomics; the error text and the
 * thread bookkeeping are under p->lock; the stats have their own lock.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/pipeline.h"

#define LOG_CTX "pipeline"

typedef struct worker {
    vg_pipeline *p;
    int          slot; /* 0 reader, 1..N stages, N+1 writer */
    vg_thread   *thread;
} worker;

struct vg_pipeline {
    vg_pipeline_params p;
    vg_stage           stages[VG_PIPELINE_MAX_STAGES];
    vg_sink            sinks[VG_PIPELINE_MAX_SINKS];
    bool               sink_open[VG_PIPELINE_MAX_SINKS];
    size_t             n_stages, n_sinks;
    int                n_slots;
    vg_queue          *q[VG_PIPELINE_MAX_STAGES + 1];
    size_t             n_queues;
    vg_stats          *stats;
    worker             workers[VG_FRAME_MAX_SLOTS];

    atomic_int           stop_level;
    atomic_bool          ran;
    atomic_uint_fast64_t frames_in;
    atomic_uint_fast64_t skipped;
    int64_t              seq; /* reader only */

    vg_mutex  lock;
    vg_cond   cond; /* threads_running / inits_pending changed, or go */
    int       threads_running;
    int       inits_pending;
    bool      go;
    vg_status status; /* first failure */
    char      errmsg[512];
};

/* ---- helpers ------------------------------------------------------------------ */

static void set_error(vg_pipeline *p, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure (later ones are only logged). */
static void set_error(vg_pipeline *p, vg_status st, const char *fmt, ...) {
    char    msg[sizeof(p->errmsg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_mutex_lock(&p->lock);
    bool first = p->status == VG_OK;
    if (first) {
        p->status = st;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    }
    vg_mutex_unlock(&p->lock);
    vg_log(LOG_CTX, VG_LOG_ERROR, "%s", msg);
}

static void drop_frame(void *item, void *user) {
    (void)user;
    vg_frame_unref(item);
}

static int stop_level(const vg_pipeline *p) {
    return atomic_load_explicit(&((vg_pipeline *)p)->stop_level, memory_order_relaxed);
}

/* Stops reading (without counting as a user request). */
static void stop_reading(vg_pipeline *p) {
    int expected = 0;
    atomic_compare_exchange_strong(&p->stop_level, &expected, 1);
    if (p->p.source.interrupt)
        p->p.source.interrupt(p->p.source.ctx);
}

static const char *slot_name(const vg_pipeline *p, int slot) {
    if (slot == 0)
        return "read";
    if (slot == p->n_slots - 1)
        return "write";
    return p->stages[slot - 1].name;
}

/* ---- the three kinds of step, shared by both schedules ------------------------ */

/* Reads one frame. VG_OK: *out set. VG_E_EOF: stop (end, interrupt or failure
 * already recorded). */
static vg_status step_read(vg_pipeline *p, vg_frame **out) {
    *out = NULL;
    if (stop_level(p) > 0)
        return VG_E_EOF;
    int64_t   t0 = vg_clock_ns();
    vg_frame *f  = NULL;
    vg_status st = p->p.source.read(p->p.source.ctx, &f);
    if (st != VG_OK) {
        vg_frame_unref(f);
        if (st != VG_E_EOF && st != VG_E_CLOSED)
            set_error(p, st, "the source failed after %llu frames: %s",
                      (unsigned long long)atomic_load(&p->frames_in), vg_status_str(st));
        return VG_E_EOF;
    }
    if (!f) {
        set_error(p, VG_E_INTERNAL, "the source returned VG_OK without a frame");
        return VG_E_EOF;
    }
    int64_t t1         = vg_clock_ns();
    f->seq             = p->seq++;
    f->stage_in_ns[0]  = t0;
    f->stage_out_ns[0] = t1;
    if (f->capture_ns == 0)
        f->capture_ns = t1;
    atomic_fetch_add_explicit(&p->frames_in, 1, memory_order_relaxed);
    *out = f;
    return VG_OK;
}

/* Runs stage `slot` on f. VG_OK: pass on. VG_E_AGAIN: f was discarded.
 * Other: failure recorded, f discarded, reading stopped. f is released on
 * anything but VG_OK. */
static vg_status step_stage(vg_pipeline *p, int slot, vg_frame *f) {
    const vg_stage *s     = &p->stages[slot - 1];
    f->stage_in_ns[slot]  = vg_clock_ns();
    vg_status st          = s->fn(s->ctx, f);
    f->stage_out_ns[slot] = vg_clock_ns();
    if (st == VG_OK)
        return VG_OK;
    if (st == VG_E_AGAIN) {
        atomic_fetch_add_explicit(&p->skipped, 1, memory_order_relaxed);
    } else {
        set_error(p, st, "stage '%s' failed on frame %lld: %s", s->name, (long long)f->index,
                  vg_status_str(st));
        stop_reading(p);
    }
    vg_frame_unref(f);
    return st;
}

/* Writes f to every sink and records it; releases f. VG_OK or the failure. */
static vg_status step_write(vg_pipeline *p, vg_frame *f) {
    int       slot       = p->n_slots - 1;
    vg_status st         = VG_OK;
    f->stage_in_ns[slot] = vg_clock_ns();
    for (size_t i = 0; i < p->n_sinks && st == VG_OK; i++) {
        st = p->sinks[i].iface->write(p->sinks[i].ctx, f);
        if (st != VG_OK) {
            const char *m = vg_sink_errmsg(&p->sinks[i]);
            set_error(p, st, "sink '%s' failed on frame %lld: %s", p->sinks[i].iface->name,
                      (long long)f->index, m[0] ? m : vg_status_str(st));
            stop_reading(p);
        }
    }
    f->stage_out_ns[slot] = vg_clock_ns();
    if (st == VG_OK)
        vg_stats_add_frame(p->stats, f);
    vg_frame_unref(f);
    return st;
}

/* ---- threads ------------------------------------------------------------------ */

/* Startup barrier: reports this thread's init and waits for "go".
 * Returns false if the run is cancelled. */
static bool startup(vg_pipeline *p, vg_status init_status) {
    vg_mutex_lock(&p->lock);
    p->inits_pending--;
    vg_cond_broadcast(&p->cond);
    while (!p->go)
        vg_cond_wait(&p->cond, &p->lock);
    bool ok = p->status == VG_OK && init_status == VG_OK;
    vg_mutex_unlock(&p->lock);
    return ok;
}

static void thread_done(vg_pipeline *p) {
    vg_mutex_lock(&p->lock);
    p->threads_running--;
    vg_cond_broadcast(&p->cond);
    vg_mutex_unlock(&p->lock);
}

static void *reader_main(void *arg) {
    worker      *w   = arg;
    vg_pipeline *p   = w->p;
    vg_queue    *out = p->q[0];
    if (startup(p, VG_OK)) {
        vg_frame *f;
        while (step_read(p, &f) == VG_OK) {
            if (stop_level(p) >= 2 || vg_queue_push(out, f, VG_WAIT_FOREVER) != VG_OK) {
                vg_frame_unref(f);
                break;
            }
        }
    }
    vg_queue_finish_send(out);
    thread_done(p);
    return NULL;
}

static void *stage_main(void *arg) {
    worker         *w   = arg;
    vg_pipeline    *p   = w->p;
    const vg_stage *s   = &p->stages[w->slot - 1];
    vg_queue       *in  = p->q[w->slot - 1];
    vg_queue       *out = p->q[w->slot];
    vg_status       ist = VG_OK;
    if (s->thread_init && (ist = s->thread_init(s->ctx)) != VG_OK)
        set_error(p, ist, "stage '%s' could not start: %s", s->name, vg_status_str(ist));
    if (startup(p, ist)) {
        void *item;
        while (vg_queue_pop(in, &item, VG_WAIT_FOREVER) == VG_OK) {
            vg_frame *f = item;
            if (stop_level(p) >= 2) {
                vg_frame_unref(f);
                continue;
            }
            vg_status st = step_stage(p, w->slot, f);
            if (st == VG_E_AGAIN)
                continue;
            if (st != VG_OK) {
                vg_queue_finish_recv(in); /* upstream stops at its next push */
                break;
            }
            if (vg_queue_push(out, f, VG_WAIT_FOREVER) != VG_OK) {
                vg_frame_unref(f); /* downstream is gone */
                vg_queue_finish_recv(in);
                break;
            }
        }
    } else {
        vg_queue_finish_recv(in);
    }
    vg_queue_finish_send(out);
    if (ist == VG_OK && s->thread_fini)
        s->thread_fini(s->ctx);
    thread_done(p);
    return NULL;
}

static void *writer_main(void *arg) {
    worker      *w  = arg;
    vg_pipeline *p  = w->p;
    vg_queue    *in = p->q[p->n_queues - 1];
    if (startup(p, VG_OK)) {
        void *item;
        while (vg_queue_pop(in, &item, VG_WAIT_FOREVER) == VG_OK) {
            if (stop_level(p) >= 2) {
                vg_frame_unref(item);
                continue;
            }
            if (step_write(p, item) != VG_OK)
                break;
        }
    }
    vg_queue_finish_recv(in);
    thread_done(p);
    return NULL;
}

/* ---- public --------------------------------------------------------------------- */

vg_pipeline_params vg_pipeline_params_default(void) {
    return (vg_pipeline_params){
        .live_leak          = VG_LEAK_OLDEST,
        .queue_capacity     = 4,
        .status_interval_ns = VG_NS_PER_S,
        .stats_window       = 120,
        .stats_history      = 8192,
    };
}

void vg_pipeline_destroy(vg_pipeline *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n_queues; i++)
        vg_queue_destroy(p->q[i]);
    vg_stats_destroy(p->stats);
    vg_cond_fini(&p->cond);
    vg_mutex_fini(&p->lock);
    vg_free(p);
}

static vg_status invalid(char *errmsg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vg_status invalid(char *errmsg, size_t size, const char *fmt, ...) {
    if (errmsg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, size, fmt, ap);
        va_end(ap);
    }
    return VG_E_INVALID_ARG;
}

vg_status vg_pipeline_create(const vg_pipeline_params *pp, vg_pipeline **out, char *errmsg,
                             size_t errmsg_size) {
    *out = NULL;
    if (errmsg && errmsg_size)
        errmsg[0] = '\0';
    if (!pp || !pp->source.read)
        return invalid(errmsg, errmsg_size, "pipeline: the source has no read function");
    if (pp->n_stages > VG_PIPELINE_MAX_STAGES || (pp->n_stages && !pp->stages))
        return invalid(errmsg, errmsg_size, "pipeline: %zu stages (at most %d)", pp->n_stages,
                       VG_PIPELINE_MAX_STAGES);
    if (pp->n_sinks > VG_PIPELINE_MAX_SINKS || (pp->n_sinks && !pp->sinks))
        return invalid(errmsg, errmsg_size, "pipeline: %zu sinks (at most %d)", pp->n_sinks,
                       VG_PIPELINE_MAX_SINKS);
    if (pp->queue_capacity == 0)
        return invalid(errmsg, errmsg_size, "pipeline: queue_capacity must be > 0");
    if (pp->live && pp->leak_before > pp->n_stages)
        return invalid(errmsg, errmsg_size, "pipeline: leak_before %zu > %zu stages",
                       pp->leak_before, pp->n_stages);
    for (size_t i = 0; i < pp->n_stages; i++)
        if (!pp->stages[i].fn || !pp->stages[i].name || !pp->stages[i].name[0])
            return invalid(errmsg, errmsg_size, "pipeline: stage %zu has no %s", i,
                           pp->stages[i].fn ? "name" : "function");
    for (size_t i = 0; i < pp->n_sinks; i++)
        if (!pp->sinks[i].iface || !pp->sinks[i].iface->write)
            return invalid(errmsg, errmsg_size, "pipeline: sink %zu has no write function", i);

    vg_pipeline *p = vg_calloc(1, sizeof(*p));
    if (!p)
        return VG_E_NOMEM;
    vg_status st = vg_mutex_init(&p->lock);
    if (st != VG_OK) {
        vg_free(p);
        return st;
    }
    if ((st = vg_cond_init(&p->cond)) != VG_OK) {
        vg_mutex_fini(&p->lock);
        vg_free(p);
        return st;
    }
    p->p        = *pp;
    p->n_stages = pp->n_stages;
    p->n_sinks  = pp->n_sinks;
    for (size_t i = 0; i < p->n_stages; i++)
        p->stages[i] = pp->stages[i];
    for (size_t i = 0; i < p->n_sinks; i++)
        p->sinks[i] = pp->sinks[i];
    p->p.stages = NULL;
    p->p.sinks  = NULL;
    p->n_slots  = (int)p->n_stages + 2;
    atomic_init(&p->stop_level, 0);
    atomic_init(&p->ran, false);
    atomic_init(&p->frames_in, 0);
    atomic_init(&p->skipped, 0);
    if (p->p.status_interval_ns <= 0)
        p->p.status_interval_ns = VG_NS_PER_S;

    const char *names[VG_FRAME_MAX_SLOTS];
    for (int i = 0; i < p->n_slots; i++)
        names[i] = slot_name(p, i);
    vg_stats_params sp = vg_stats_params_default();
    sp.n_slots         = p->n_slots;
    sp.slot_names      = names;
    sp.window          = pp->stats_window ? pp->stats_window : 120;
    sp.history         = VGI_MAX(sp.window, pp->stats_history ? pp->stats_history : 8192);
    if ((st = vg_stats_create(&sp, &p->stats)) != VG_OK)
        goto fail;

    if (!pp->sequential) {
        p->n_queues = p->n_stages + 1;
        for (size_t i = 0; i < p->n_queues; i++) {
            char qname[32];
            snprintf(qname, sizeof(qname), "%s>%s", slot_name(p, (int)i), slot_name(p, (int)i + 1));
            vg_queue_params qp = vg_queue_params_default();
            qp.capacity        = pp->queue_capacity;
            qp.leak            = pp->live && i == pp->leak_before ? pp->live_leak : VG_LEAK_NONE;
            qp.name            = qname;
            qp.drop            = drop_frame;
            if ((st = vg_queue_create(&qp, &p->q[i])) != VG_OK) {
                if (st == VG_E_INVALID_ARG)
                    invalid(errmsg, errmsg_size, "pipeline: bad live_leak policy %d",
                            (int)pp->live_leak);
                goto fail;
            }
        }
    }
    *out = p;
    return VG_OK;

fail:
    vg_pipeline_destroy(p);
    return st;
}

static void open_sinks(vg_pipeline *p) {
    for (size_t i = 0; i < p->n_sinks && p->status == VG_OK; i++) {
        const vg_sink *s  = &p->sinks[i];
        vg_status      st = s->iface->open ? s->iface->open(s->ctx, &p->p.info) : VG_OK;
        if (st != VG_OK) {
            const char *m = vg_sink_errmsg(s);
            set_error(p, st, "cannot open sink '%s': %s", s->iface->name ? s->iface->name : "?",
                      m[0] ? m : vg_status_str(st));
        } else {
            p->sink_open[i] = true;
        }
    }
}

static void close_sinks(vg_pipeline *p) {
    for (size_t i = 0; i < p->n_sinks; i++) {
        const vg_sink *s = &p->sinks[i];
        if (!p->sink_open[i])
            continue;
        p->sink_open[i] = false;
        vg_status st    = s->iface->close ? s->iface->close(s->ctx) : VG_OK;
        if (st != VG_OK) {
            const char *m = vg_sink_errmsg(s);
            set_error(p, st, "cannot finalise sink '%s': %s", s->iface->name,
                      m[0] ? m : vg_status_str(st));
        }
    }
}

static void status_tick(vg_pipeline *p, int64_t *next) {
    int64_t now = vg_clock_ns();
    if (!p->p.on_status || now < *next)
        return;
    *next = now + p->p.status_interval_ns;
    p->p.on_status(p->p.status_user, p);
}

static void run_sequential(vg_pipeline *p) {
    size_t inited = 0;
    for (; inited < p->n_stages; inited++) {
        const vg_stage *s  = &p->stages[inited];
        vg_status       st = s->thread_init ? s->thread_init(s->ctx) : VG_OK;
        if (st != VG_OK) {
            set_error(p, st, "stage '%s' could not start: %s", s->name, vg_status_str(st));
            break;
        }
    }
    int64_t   next_status = vg_clock_ns() + p->p.status_interval_ns;
    vg_frame *f;
    while (p->status == VG_OK && step_read(p, &f) == VG_OK) {
        bool keep = true;
        for (size_t k = 0; k < p->n_stages && keep; k++) {
            if (stop_level(p) >= 2) {
                vg_frame_unref(f);
                keep = false;
            } else if (step_stage(p, (int)k + 1, f) != VG_OK) {
                keep = false; /* skipped or failed; released */
            }
        }
        if (keep && stop_level(p) >= 2)
            vg_frame_unref(f);
        else if (keep)
            step_write(p, f);
        status_tick(p, &next_status);
    }
    for (size_t k = 0; k < inited; k++)
        if (p->stages[k].thread_fini)
            p->stages[k].thread_fini(p->stages[k].ctx);
}

static void run_pipelined(vg_pipeline *p) {
    int started      = 0;
    p->inits_pending = p->threads_running = p->n_slots;
    for (int slot = p->n_slots - 1; slot >= 0; slot--) {
        worker *w             = &p->workers[slot];
        w->p                  = p;
        w->slot               = slot;
        void *(*fn)(void *)   = slot == 0                ? reader_main
                                : slot == p->n_slots - 1 ? writer_main
                                                         : stage_main;
        const vg_cpuset *cpus = slot == 0                ? p->p.reader_cpus
                                : slot == p->n_slots - 1 ? p->p.writer_cpus
                                                         : p->stages[slot - 1].cpus;
        vg_thread_params tp   = {.name = slot_name(p, slot), .cpus = cpus};
        vg_status        st   = vg_thread_create(&tp, fn, w, &w->thread);
        if (st != VG_OK) {
            set_error(p, st, "cannot start the '%s' thread: %s", slot_name(p, slot),
                      vg_status_str(st));
            break;
        }
        started++;
    }
    vg_mutex_lock(&p->lock);
    /* Threads that never started count as done. */
    p->inits_pending -= p->n_slots - started;
    p->threads_running -= p->n_slots - started;
    while (p->inits_pending > 0)
        vg_cond_wait(&p->cond, &p->lock);
    bool failed = p->status != VG_OK;
    p->go       = true;
    vg_cond_broadcast(&p->cond);
    vg_mutex_unlock(&p->lock);
    if (failed) {
        /* Nothing was read: shut every queue so each thread exits. */
        for (size_t i = 0; i < p->n_queues; i++) {
            vg_queue_finish_send(p->q[i]);
            vg_queue_finish_recv(p->q[i]);
        }
    }

    int64_t next_status = vg_clock_ns() + p->p.status_interval_ns;
    bool    flushed     = false;
    vg_mutex_lock(&p->lock);
    while (p->threads_running > 0) {
        int64_t deadline = vg_clock_ns() + 50 * VG_NS_PER_MS;
        vg_cond_timedwait(&p->cond, &p->lock, deadline);
        if (p->threads_running == 0)
            break;
        vg_mutex_unlock(&p->lock);
        if (!flushed && stop_level(p) >= 2) {
            /* Abort: discard what is queued; threads discard what they pop. */
            flushed = true;
            vg_queue_finish_send(p->q[0]);
            for (size_t i = 0; i < p->n_queues; i++)
                vg_queue_flush(p->q[i]);
        }
        status_tick(p, &next_status);
        vg_mutex_lock(&p->lock);
    }
    vg_mutex_unlock(&p->lock);
    for (int slot = 0; slot < p->n_slots; slot++)
        vg_thread_join(p->workers[slot].thread, NULL);
}

vg_status vg_pipeline_run(vg_pipeline *p) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&p->ran, &expected, true)) {
        set_error(p, VG_E_INVALID_ARG, "vg_pipeline_run: a pipeline runs only once");
        return VG_E_INVALID_ARG;
    }
    open_sinks(p);
    if (p->status == VG_OK) {
        if (p->p.sequential)
            run_sequential(p);
        else
            run_pipelined(p);
    }
    close_sinks(p);
    if (p->p.on_status)
        p->p.on_status(p->p.status_user, p);
    vg_mutex_lock(&p->lock);
    vg_status st = p->status;
    vg_mutex_unlock(&p->lock);
    return st;
}

void vg_pipeline_request_stop(vg_pipeline *p) {
    atomic_fetch_add_explicit(&p->stop_level, 1, memory_order_relaxed);
    if (p->p.source.interrupt)
        p->p.source.interrupt(p->p.source.ctx);
}

int vg_pipeline_stop_level(const vg_pipeline *p) {
    return stop_level(p);
}

void vg_pipeline_get_summary(vg_pipeline *p, vg_stats_summary *out) {
    vg_stats_summarize(p->stats, out);
    out->n_queues = (int)p->n_queues;
    for (size_t i = 0; i < p->n_queues; i++) {
        vg_queue_stats qs;
        vg_queue_get_stats(p->q[i], &qs);
        vg_stats_queue *o = &out->queues[i];
        snprintf(o->name, sizeof(o->name), "%s", vg_queue_name(p->q[i]));
        o->capacity  = qs.capacity;
        o->level     = qs.level;
        o->max_level = qs.max_level;
        o->dropped   = qs.dropped;
        out->dropped += qs.dropped;
    }
    out->frames_in       = atomic_load_explicit(&p->frames_in, memory_order_relaxed);
    out->skipped         = atomic_load_explicit(&p->skipped, memory_order_relaxed);
    out->frames_expected = p->p.live ? -1 : p->p.info.nb_frames;
}

vg_stats *vg_pipeline_stats(vg_pipeline *p) {
    return p->stats;
}

const char *vg_pipeline_errmsg(const vg_pipeline *p) {
    return p->errmsg;
}

/* ---- signals ------------------------------------------------------------------- */

static _Atomic(vg_pipeline *) sig_pipeline;
static atomic_int             sig_count;
static struct sigaction       old_int, old_term;
static bool                   sig_installed;

static void say(const char *msg) {
    ssize_t n = write(STDERR_FILENO, msg, strlen(msg));
    (void)n;
}

static void on_signal(int sig) {
    (void)sig;
    int n = atomic_fetch_add(&sig_count, 1) + 1;
    if (n >= 3) {
        say("\nvigil: third signal: exiting now\n");
        _exit(130);
    }
    say(n == 1 ? "\nvigil: stopping: finishing the frames in flight (again to abort)\n"
               : "\nvigil: aborting: discarding the frames in flight\n");
    vg_pipeline *p = atomic_load(&sig_pipeline);
    if (p)
        vg_pipeline_request_stop(p);
}

vg_status vg_pipeline_install_signals(vg_pipeline *p) {
    atomic_store(&sig_pipeline, p);
    atomic_store(&sig_count, 0);
    if (sig_installed)
        return VG_OK;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking reads return to check the flag */
    if (sigaction(SIGINT, &sa, &old_int) != 0)
        return VG_E_INTERNAL;
    if (sigaction(SIGTERM, &sa, &old_term) != 0) {
        sigaction(SIGINT, &old_int, NULL);
        return VG_E_INTERNAL;
    }
    sig_installed = true;
    return VG_OK;
}

void vg_pipeline_remove_signals(void) {
    if (sig_installed) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sig_installed = false;
    }
    atomic_store(&sig_pipeline, NULL);
}
