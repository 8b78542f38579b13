/*
 * thread.c - named threads, mutexes, conditions and CPU sets over pthreads.
 *
 * DESIGN
 * Errors that can only come from misuse (unlocking a mutex that is not held,
 * destroying a locked one) abort through VG_ASSERT-style checks: they are bugs.
 * Conditions use CLOCK_MONOTONIC so deadlines survive wall-clock changes.
 */
#include "vigil/thread.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/log.h"

vg_status vg_mutex_init(vg_mutex *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    /* Error-checking in debug builds catches unlock-without-lock. */
#ifndef NDEBUG
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
#endif
    int rc = pthread_mutex_init(&m->m, &a);
    pthread_mutexattr_destroy(&a);
    return rc == 0 ? VG_OK : (rc == ENOMEM ? VG_E_NOMEM : VG_E_INTERNAL);
}

void vg_mutex_fini(vg_mutex *m) {
    int rc = pthread_mutex_destroy(&m->m);
    VGI_ASSERT(rc == 0);
}

void vg_mutex_lock(vg_mutex *m) {
    int rc = pthread_mutex_lock(&m->m);
    VGI_ASSERT(rc == 0);
}

void vg_mutex_unlock(vg_mutex *m) {
    int rc = pthread_mutex_unlock(&m->m);
    VGI_ASSERT(rc == 0);
}

vg_status vg_cond_init(vg_cond *c) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&c->c, &a);
    pthread_condattr_destroy(&a);
    return rc == 0 ? VG_OK : (rc == ENOMEM ? VG_E_NOMEM : VG_E_INTERNAL);
}

void vg_cond_fini(vg_cond *c) {
    pthread_cond_destroy(&c->c);
}

void vg_cond_wait(vg_cond *c, vg_mutex *m) {
    int rc = pthread_cond_wait(&c->c, &m->m);
    VGI_ASSERT(rc == 0);
}

vg_status vg_cond_timedwait(vg_cond *c, vg_mutex *m, int64_t deadline_ns) {
    struct timespec ts = {.tv_sec  = (time_t)(deadline_ns / 1000000000),
                          .tv_nsec = (long)(deadline_ns % 1000000000)};
    if (deadline_ns < 0)
        ts = (struct timespec){0, 0};
    int rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
    if (rc == ETIMEDOUT)
        return VG_E_TIMEOUT;
    VGI_ASSERT(rc == 0);
    return VG_OK;
}

void vg_cond_signal(vg_cond *c) {
    pthread_cond_signal(&c->c);
}

void vg_cond_broadcast(vg_cond *c) {
    pthread_cond_broadcast(&c->c);
}

/* ---- CPU sets ----------------------------------------------------------- */

void vg_cpuset_clear(vg_cpuset *s) {
    memset(s, 0, sizeof(*s));
}

void vg_cpuset_add(vg_cpuset *s, int cpu) {
    if (cpu >= 0 && cpu < VG_CPUSET_MAX)
        s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool vg_cpuset_has(const vg_cpuset *s, int cpu) {
    return cpu >= 0 && cpu < VG_CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

int vg_cpuset_count(const vg_cpuset *s) {
    int n = 0;
    for (size_t i = 0; i < VG_CPUSET_MAX / 64; i++)
        n += __builtin_popcountll(s->bits[i]);
    return n;
}

static bool parse_cpu(const char **p, int *out) {
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v >= VG_CPUSET_MAX)
            return false;
        s++;
    }
    *p   = s;
    *out = (int)v;
    return true;
}

vg_status vg_cpuset_parse(const char *text, vg_cpuset *out) {
    vg_cpuset s;
    vg_cpuset_clear(&s);
    if (!text || !*text)
        return VG_E_INVALID_ARG;
    const char *p = text;
    for (;;) {
        int lo, hi;
        if (!parse_cpu(&p, &lo))
            return VG_E_INVALID_ARG;
        hi = lo;
        if (*p == '-') {
            p++;
            if (!parse_cpu(&p, &hi) || hi < lo)
                return VG_E_INVALID_ARG;
        }
        for (int c = lo; c <= hi; c++)
            vg_cpuset_add(&s, c);
        if (*p == '\0')
            break;
        if (*p != ',')
            return VG_E_INVALID_ARG;
        p++;
    }
    *out = s;
    return VG_OK;
}

void vg_cpuset_format(const vg_cpuset *s, char *buf, size_t size) {
    if (!size)
        return;
    buf[0]     = '\0';
    size_t len = 0;
    for (int c = 0; c < VG_CPUSET_MAX; c++) {
        if (!vg_cpuset_has(s, c))
            continue;
        int e = c;
        while (e + 1 < VG_CPUSET_MAX && vg_cpuset_has(s, e + 1))
            e++;
        int n = e > c ? snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", c, e)
                      : snprintf(buf + len, size - len, "%s%d", len ? "," : "", c);
        if (n < 0 || (size_t)n >= size - len)
            return;
        len += (size_t)n;
        c = e;
    }
}

vg_status vg_cpuset_available(vg_cpuset *out) {
    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (sched_getaffinity(0, sizeof(cs), &cs) != 0)
        return VG_E_INTERNAL;
    vg_cpuset_clear(out);
    for (int c = 0; c < CPU_SETSIZE && c < VG_CPUSET_MAX; c++)
        if (CPU_ISSET(c, &cs))
            vg_cpuset_add(out, c);
    return VG_OK;
}

/* ---- threads ------------------------------------------------------------ */

struct vg_thread {
    pthread_t thread;
    char      name[16];
    vg_cpuset cpus;
    bool      pin;
    void *(*fn)(void *);
    void *arg;
};

void vg_thread_set_name(const char *name) {
    char buf[16];
    snprintf(buf, sizeof(buf), "%s", name ? name : "");
    pthread_setname_np(pthread_self(), buf);
}

void vg_thread_get_name(char *buf, size_t size) {
    if (!size)
        return;
    char tmp[16] = "";
    if (pthread_getname_np(pthread_self(), tmp, sizeof(tmp)) != 0)
        tmp[0] = '\0';
    snprintf(buf, size, "%s", tmp);
}

vg_status vg_thread_set_affinity(const vg_cpuset *cpus) {
    cpu_set_t cs;
    CPU_ZERO(&cs);
    int n = 0;
    for (int c = 0; c < VG_CPUSET_MAX && c < CPU_SETSIZE; c++)
        if (vg_cpuset_has(cpus, c)) {
            CPU_SET(c, &cs);
            n++;
        }
    if (n == 0)
        return VG_E_INVALID_ARG;
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
    return rc == 0 ? VG_OK : VG_E_INVALID_ARG;
}

static void *thread_trampoline(void *p) {
    vg_thread *t = p;
    vg_thread_set_name(t->name);
    if (t->pin && vg_thread_set_affinity(&t->cpus) != VG_OK)
        vg_log("thread", VG_LOG_WARN, "could not pin thread '%s' to its CPU set; running unpinned",
               t->name);
    return t->fn(t->arg);
}

vg_status vg_thread_create(const vg_thread_params *p, void *(*fn)(void *), void *arg,
                           vg_thread **out) {
    *out = NULL;
    if (!fn)
        return VG_E_INVALID_ARG;
    vg_thread *t = vg_calloc(1, sizeof(*t));
    if (!t)
        return VG_E_NOMEM;
    snprintf(t->name, sizeof(t->name), "%s", p && p->name ? p->name : "vigil");
    t->fn  = fn;
    t->arg = arg;
    if (p && p->cpus && vg_cpuset_count(p->cpus) > 0) {
        vg_cpuset avail;
        t->cpus = *p->cpus;
        t->pin  = true;
        if (vg_cpuset_available(&avail) == VG_OK) {
            bool any = false;
            for (int c = 0; c < VG_CPUSET_MAX && !any; c++)
                any = vg_cpuset_has(&t->cpus, c) && vg_cpuset_has(&avail, c);
            if (!any) {
                vg_free(t);
                return VG_E_INVALID_ARG;
            }
        }
    }
    int rc = pthread_create(&t->thread, NULL, thread_trampoline, t);
    if (rc != 0) {
        vg_free(t);
        return rc == EAGAIN ? VG_E_NOMEM : VG_E_INTERNAL;
    }
    *out = t;
    return VG_OK;
}

void vg_thread_join(vg_thread *t, void **ret) {
    if (!t)
        return;
    void *r = NULL;
    pthread_join(t->thread, &r);
    if (ret)
        *ret = r;
    vg_free(t);
}
