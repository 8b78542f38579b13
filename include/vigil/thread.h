/*
 * vigil/thread.h - named threads, mutexes, condition variables, CPU sets.
 *
 * Thin wrappers over POSIX threads with the contracts spelled out:
 * - vg_mutex is not recursive; unlocking a mutex the thread does not hold is a
 *   bug (asserted).
 * - vg_cond_wait/vg_cond_timedwait may wake spuriously: always wait inside a
 *   `while (!predicate)` loop, with the mutex held.
 * - Deadlines are absolute vg_clock_ns() values (CLOCK_MONOTONIC).
 * Mutexes and conditions live in caller storage (init/fini); threads are heap
 * objects (create/join).
 */
#ifndef VG_THREAD_H
#define VG_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_mutex {
    pthread_mutex_t m;
} vg_mutex;

typedef struct vg_cond {
    pthread_cond_t c;
} vg_cond;

vg_status vg_mutex_init(vg_mutex *m);
void      vg_mutex_fini(vg_mutex *m);
void      vg_mutex_lock(vg_mutex *m);   /* not recursive */
void      vg_mutex_unlock(vg_mutex *m); /* must be held by the caller */

vg_status vg_cond_init(vg_cond *c); /* uses CLOCK_MONOTONIC for timed waits */
void      vg_cond_fini(vg_cond *c);
void      vg_cond_wait(vg_cond *c, vg_mutex *m); /* m must be held; spurious wakeups */
/* Waits until signalled or until deadline_ns (vg_clock_ns() time). Returns
 * VG_OK when woken (possibly spuriously), VG_E_TIMEOUT at the deadline. */
vg_status vg_cond_timedwait(vg_cond *c, vg_mutex *m, int64_t deadline_ns);
void      vg_cond_signal(vg_cond *c);
void      vg_cond_broadcast(vg_cond *c);

/* ---- CPU sets ----------------------------------------------------------- */

#define VG_CPUSET_MAX 1024

/* A set of logical CPU numbers (0 .. VG_CPUSET_MAX-1). Plain value type. */
typedef struct vg_cpuset {
    uint64_t bits[VG_CPUSET_MAX / 64];
} vg_cpuset;

void vg_cpuset_clear(vg_cpuset *s);
void vg_cpuset_add(vg_cpuset *s, int cpu);
bool vg_cpuset_has(const vg_cpuset *s, int cpu);
int  vg_cpuset_count(const vg_cpuset *s);
/* Parses a list such as "0", "0-3", "0,2,4-7". Returns VG_E_INVALID_ARG for
 * malformed text, descending ranges or numbers >= VG_CPUSET_MAX. */
vg_status vg_cpuset_parse(const char *text, vg_cpuset *out);
/* Writes the set as "0-3,6" into buf (always NUL-terminated). */
void vg_cpuset_format(const vg_cpuset *s, char *buf, size_t size);
/* The CPUs this process may run on (sched_getaffinity). */
vg_status vg_cpuset_available(vg_cpuset *out);

/* ---- threads ------------------------------------------------------------ */

typedef struct vg_thread vg_thread;

typedef struct vg_thread_params {
    const char      *name; /* shown in top/gdb; truncated to 15 characters */
    const vg_cpuset *cpus; /* pin to these CPUs; NULL or empty: no pinning */
} vg_thread_params;

/*
 * Starts fn(arg) in a new thread. On success *out is the thread, which the
 * caller must vg_thread_join(). On failure *out is NULL and the status is
 * VG_E_NOMEM or VG_E_INTERNAL (pthread_create failed), or VG_E_INVALID_ARG
 * for a CPU set with no available CPU.
 */
vg_status vg_thread_create(const vg_thread_params *p, void *(*fn)(void *), void *arg,
                           vg_thread **out);

/* Waits for the thread, frees it, and returns fn's result (via *ret if non-NULL). NULL is a no-op.
 */
void vg_thread_join(vg_thread *t, void **ret);

/* Names the calling thread (truncated to 15 characters). */
void vg_thread_set_name(const char *name);
/* Copies the calling thread's name into buf (size >= 16 recommended). */
void vg_thread_get_name(char *buf, size_t size);
/* Pins the calling thread to cpus. */
vg_status vg_thread_set_affinity(const vg_cpuset *cpus);

#ifdef __cplusplus
}
#endif

#endif /* VG_THREAD_H */
