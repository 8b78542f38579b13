/*
 * dnnl_ctx.c - oneDNN engine/stream per model instance, threading, status conversion.
 *
 * DESIGN
 * Debian's oneDNN 2.6 uses the OpenMP runtime (libgomp). A parallel region in
 * oneDNN asks omp_get_max_threads(), which reads the *calling thread's* OpenMP
 * thread count, and libgomp keeps a separate worker pool for every thread that
 * starts parallel regions. So two model instances that run on two different
 * application threads never share OpenMP workers; each only has to (1) set its own
 * thread's OpenMP thread count and (2) pin its own team to its CPUs. vgi_dnnl_enter()
 * does both on every run: omp_set_num_threads() is a per-thread variable write, and
 * pinning runs one tiny parallel region in which each team thread restricts itself to
 * the instance's CPU set. A thread-local id remembers which instance last pinned this thread's
 * team, so pinning runs only when a thread starts working for another instance (each instance gets
 * a process-unique id, so a recycled address never matches). The calling thread is part of the
 * team, so it ends up pinned as well.
 *
 * The pinning region must run in the same OpenMP runtime as oneDNN. oneDNN links
 * libgomp, while clang's -fopenmp would bring LLVM's libomp (a second, unrelated
 * pool), so this file does not use OpenMP pragmas at all: it calls libgomp's entry
 * points directly (GOMP_parallel is what gcc emits for `#pragma omp parallel`), and
 * CMake links the exact libgomp.so.1 that libdnnl uses.
 */
#include "backends/cpu_dnnl/dnnl_impl.h"

#include <dnnl_debug.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"

/* libgomp's ABI (see DESIGN). */
extern void omp_set_num_threads(int n);
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

static atomic_uint_fast64_t   next_id = 1;
static _Thread_local uint64_t pinned_for; /* id of the instance that pinned this team */

vgi_dnnl_params vgi_dnnl_params_default(void) {
    vgi_dnnl_params p;
    memset(&p, 0, sizeof(p));
    p.threads = 0;
    vg_cpuset_clear(&p.cpus);
    return p;
}

vg_status vgi_dnnl_check(vgi_dnnl *d, dnnl_status_t s, const char *what) {
    vg_status st;
    switch (s) {
    case dnnl_success:
        return VG_OK;
    case dnnl_out_of_memory:
        st = VG_E_NOMEM;
        break;
    case dnnl_invalid_arguments:
        st = VG_E_INVALID_ARG;
        break;
    case dnnl_unimplemented:
        st = VG_E_UNSUPPORTED;
        break;
    case dnnl_iterator_ends:
        st = VG_E_UNSUPPORTED;
        break;
    default:
        st = VG_E_BACKEND;
        break;
    }
    if (d)
        snprintf(d->err, sizeof(d->err), "%s: oneDNN %s", what ? what : "oneDNN call",
                 dnnl_status2str(s));
    return st;
}

vg_status vgi_dnnl_init(vgi_dnnl *d, const vgi_dnnl_params *p) {
    memset(d, 0, sizeof(*d));
    vgi_dnnl_params def = vgi_dnnl_params_default();
    if (!p)
        p = &def;
    if (p->threads < 0) {
        snprintf(d->err, sizeof(d->err), "thread count %d is negative", p->threads);
        return VG_E_INVALID_ARG;
    }
    d->cpus  = p->cpus;
    d->ncpus = 0;
    for (int c = 0; c < VG_CPUSET_MAX && vg_cpuset_count(&d->cpus) > 0; c++) {
        if (!vg_cpuset_has(&d->cpus, c))
            continue;
        if (d->ncpus == (int)VGI_ARRAY_SIZE(d->cpu_list))
            break;
        d->cpu_list[d->ncpus++] = c;
    }
    d->id      = (uint64_t)atomic_fetch_add(&next_id, 1);
    d->threads = p->threads;
    if (d->threads == 0) {
        if (d->ncpus > 0) {
            d->threads = d->ncpus;
        } else {
            vg_cpuset avail;
            d->threads = 1;
            if (vg_cpuset_available(&avail) == VG_OK && vg_cpuset_count(&avail) > 0)
                d->threads = vg_cpuset_count(&avail);
        }
    }
    vg_status st =
        vgi_dnnl_check(d, dnnl_engine_create(&d->engine, dnnl_cpu, 0), "dnnl_engine_create");
    if (st != VG_OK)
        goto fail;
    st = vgi_dnnl_check(d, dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags),
                        "dnnl_stream_create");
    if (st != VG_OK)
        goto fail;
    return VG_OK;
fail : {
    char keep[sizeof(d->err)];
    memcpy(keep, d->err, sizeof(keep));
    vgi_dnnl_fini(d);
    memcpy(d->err, keep, sizeof(keep));
}
    return st;
}

void vgi_dnnl_fini(vgi_dnnl *d) {
    if (!d)
        return;
    if (d->stream)
        dnnl_stream_destroy(d->stream);
    if (d->engine)
        dnnl_engine_destroy(d->engine);
    d->stream = NULL;
    d->engine = NULL;
}

/*
 * Body of the pinning region: every team thread restricts itself to the instance's CPU
 * set. (Not one CPU per thread: on a busy machine the kernel must still be able to move
 * a thread off a core another process is using, or every barrier waits for it.)
 */
static void pin_one(void *arg) {
    const vgi_dnnl *d = arg;
    cpu_set_t       set;
    CPU_ZERO(&set);
    for (int i = 0; i < d->ncpus; i++)
        CPU_SET(d->cpu_list[i], &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void vgi_dnnl_enter(const vgi_dnnl *d) {
    omp_set_num_threads(d->threads);
    if (d->ncpus <= 0 || pinned_for == d->id)
        return;
    pinned_for = d->id;
    GOMP_parallel(pin_one, (void *)d, (unsigned)d->threads, 0);
}

vg_status vgi_dnnl_md(vgi_dnnl *d, dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                      dnnl_format_tag_t tag) {
    dnnl_dims_t dd;
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) {
        if (d)
            snprintf(d->err, sizeof(d->err), "tensor rank %d not supported by oneDNN", ndims);
        return VG_E_UNSUPPORTED;
    }
    for (int i = 0; i < ndims; i++)
        dd[i] = dims[i];
    return vgi_dnnl_check(d, dnnl_memory_desc_init_by_tag(md, ndims, dd, dnnl_f32, tag),
                          "dnnl_memory_desc_init_by_tag");
}

size_t vgi_dnnl_md_bytes(const dnnl_memory_desc_t *md) {
    return dnnl_memory_desc_get_size(md);
}

bool vgi_dnnl_md_is(const dnnl_memory_desc_t *md, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t ref;
    if (md->format_kind != dnnl_blocked)
        return false;
    if (dnnl_memory_desc_init_by_tag(&ref, md->ndims, md->dims, md->data_type, tag) != dnnl_success)
        return false;
    return dnnl_memory_desc_equal(md, &ref) != 0;
}
