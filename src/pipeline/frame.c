/*
 * frame.c - reference-counted frames and the frame pool.
 *
 * DESIGN
 * The public vg_frame is the first member of a private struct that adds the
 * reference count (an atomic) and the pool the frame belongs to. The last
 * unref resets the frame (picture unreferenced, results emptied, aux data
 * freed) and either frees it or pushes it onto its pool's free list, kept as
 * an intrusive singly linked stack under the pool's mutex. The pool itself is
 * reference counted too (one for the creator, one per frame that exists), so
 * frames still travelling when the pool is destroyed are freed normally
 * later. Result arrays keep their capacity when recycled: after a few frames
 * the hot path allocates nothing.
 */
#include <stdatomic.h>
#include <string.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/frame.h"
#include "vigil/thread.h"

typedef struct frame_impl frame_impl;

struct frame_impl {
    vg_frame       pub; /* first: a vg_frame * is a frame_impl * */
    atomic_int     refs;
    vg_frame_pool *pool;
    frame_impl    *next_free;
};

struct vg_frame_pool {
    vg_mutex    lock;
    frame_impl *free_list;
    int64_t     refs;   /* creator + frames alive; under lock */
    bool        closed; /* the creator released it */
};

static frame_impl *impl_of(vg_frame *f) {
    return (frame_impl *)f;
}

static void reset_frame(vg_frame *f) {
    av_frame_unref(f->av);
    for (int i = 0; i < VG_FRAME_AUX_SLOTS; i++)
        vg_frame_set_aux(f, i, NULL, NULL);
    AVFrame      *av = f->av;
    vg_detection *d  = f->detections;
    int32_t       cd = f->cap_detections;
    vg_pose      *p  = f->poses;
    int32_t       cp = f->cap_poses;
    memset(f, 0, sizeof(*f));
    f->av             = av;
    f->detections     = d;
    f->cap_detections = cd;
    f->poses          = p;
    f->cap_poses      = cp;
    f->time_base      = (AVRational){0, 1};
}

static void free_frame(frame_impl *fi) {
    av_frame_free(&fi->pub.av);
    vg_free(fi->pub.detections);
    vg_free(fi->pub.poses);
    vg_free(fi);
}

static frame_impl *alloc_frame(void) {
    frame_impl *fi = vg_calloc(1, sizeof(*fi));
    if (!fi)
        return NULL;
    if (!(fi->pub.av = av_frame_alloc())) {
        vg_free(fi);
        return NULL;
    }
    atomic_init(&fi->refs, 1);
    return fi;
}

vg_status vg_frame_create(vg_frame **out) {
    frame_impl *fi = alloc_frame();
    *out           = fi ? &fi->pub : NULL;
    return fi ? VG_OK : VG_E_NOMEM;
}

vg_frame *vg_frame_ref(vg_frame *f) {
    atomic_fetch_add_explicit(&impl_of(f)->refs, 1, memory_order_relaxed);
    return f;
}

int vg_frame_refcount(const vg_frame *f) {
    return atomic_load(&((frame_impl *)f)->refs);
}

static void pool_release(vg_frame_pool *pool) {
    /* Called with pool->lock held; unlocks. Frees the pool on its last ref. */
    bool last = --pool->refs == 0;
    vg_mutex_unlock(&pool->lock);
    if (!last)
        return;
    while (pool->free_list) {
        frame_impl *fi  = pool->free_list;
        pool->free_list = fi->next_free;
        free_frame(fi);
    }
    vg_mutex_fini(&pool->lock);
    vg_free(pool);
}

void vg_frame_unref(vg_frame *f) {
    if (!f)
        return;
    frame_impl *fi     = impl_of(f);
    int         before = atomic_fetch_sub_explicit(&fi->refs, 1, memory_order_acq_rel);
    VGI_ASSERT(before > 0);
    if (before != 1)
        return;
    reset_frame(f);
    vg_frame_pool *pool = fi->pool;
    if (!pool) {
        free_frame(fi);
        return;
    }
    vg_mutex_lock(&pool->lock);
    if (!pool->closed) { /* the pool is still in use: recycle */
        fi->next_free   = pool->free_list;
        pool->free_list = fi;
    } else {
        vg_mutex_unlock(&pool->lock);
        free_frame(fi);
        vg_mutex_lock(&pool->lock);
    }
    pool_release(pool);
}

vg_status vg_frame_set_picture(vg_frame *f, const AVFrame *src) {
    av_frame_unref(f->av);
    return av_frame_ref(f->av, src) < 0 ? VG_E_NOMEM : VG_OK;
}

static vg_status grow(void **arr, int32_t *cap, int32_t need, size_t elem) {
    if (need <= *cap)
        return VG_OK;
    if (need < 0 || (size_t)need > SIZE_MAX / elem / 2)
        return VG_E_NOMEM;
    int32_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *p = vg_realloc(*arr, (size_t)n * elem);
    if (!p)
        return VG_E_NOMEM;
    *arr = p;
    *cap = n;
    return VG_OK;
}

vg_status vg_frame_reserve_detections(vg_frame *f, int32_t n) {
    return grow((void **)&f->detections, &f->cap_detections, n, sizeof(vg_detection));
}

vg_status vg_frame_reserve_poses(vg_frame *f, int32_t n) {
    return grow((void **)&f->poses, &f->cap_poses, n, sizeof(vg_pose));
}

vg_status vg_frame_add_detection(vg_frame *f, const vg_detection *d) {
    vg_status st = vg_frame_reserve_detections(f, f->n_detections + 1);
    if (st == VG_OK)
        f->detections[f->n_detections++] = *d;
    return st;
}

vg_status vg_frame_add_pose(vg_frame *f, const vg_pose *p) {
    vg_status st = vg_frame_reserve_poses(f, f->n_poses + 1);
    if (st == VG_OK)
        f->poses[f->n_poses++] = *p;
    return st;
}

void vg_frame_clear_results(vg_frame *f) {
    f->n_detections = 0;
    f->n_poses      = 0;
    f->n_persons    = 0;
}

void vg_frame_set_aux(vg_frame *f, int i, void *data, void (*free_fn)(void *)) {
    VGI_ASSERT(i >= 0 && i < VG_FRAME_AUX_SLOTS);
    if (f->aux[i] && f->aux_free[i])
        f->aux_free[i](f->aux[i]);
    f->aux[i]      = data;
    f->aux_free[i] = free_fn;
}

/* ---- pool ------------------------------------------------------------------ */

vg_status vg_frame_pool_create(vg_frame_pool **out) {
    *out                = NULL;
    vg_frame_pool *pool = vg_calloc(1, sizeof(*pool));
    if (!pool)
        return VG_E_NOMEM;
    vg_status st = vg_mutex_init(&pool->lock);
    if (st != VG_OK) {
        vg_free(pool);
        return st;
    }
    pool->refs = 1;
    *out       = pool;
    return VG_OK;
}

vg_status vg_frame_pool_get(vg_frame_pool *pool, vg_frame **out) {
    vg_mutex_lock(&pool->lock);
    frame_impl *fi = pool->free_list;
    if (fi) {
        pool->free_list = fi->next_free;
        fi->next_free   = NULL;
        atomic_store_explicit(&fi->refs, 1, memory_order_relaxed);
    }
    pool->refs++;
    vg_mutex_unlock(&pool->lock);
    if (!fi && !(fi = alloc_frame())) {
        vg_mutex_lock(&pool->lock);
        pool_release(pool);
        *out = NULL;
        return VG_E_NOMEM;
    }
    fi->pool = pool;
    *out     = &fi->pub;
    return VG_OK;
}

void vg_frame_pool_destroy(vg_frame_pool *pool) {
    if (!pool)
        return;
    vg_mutex_lock(&pool->lock);
    /* Free what is idle now; frames still out come back to a closing pool
     * and are freed then. */
    frame_impl *list = pool->free_list;
    pool->free_list  = NULL;
    pool->closed     = true;
    vg_mutex_unlock(&pool->lock);
    while (list) {
        frame_impl *next = list->next_free;
        free_frame(list);
        list = next;
    }
    vg_mutex_lock(&pool->lock);
    pool_release(pool);
}
