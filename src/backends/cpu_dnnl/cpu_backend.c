/*
 * cpu_backend.c - the `cpu` backend: oneDNN primitives for the compute-heavy ops.
 *
 * DESIGN
 * The backend claims convolutions, pooling, resizing, elementwise activations, binary
 * arithmetic with broadcasting, concatenation, spatial mean/max reductions, transposes
 * and foldable Pads on float32 (oneDNN), plus casts, comparisons, squared difference,
 * top-k and legacy-mapping bilinear resizes (plain C kernels, cpu_kernels.c); every
 * other op falls back to `ref` through the scheduler. segment_prepare() walks its
 * segment in execution order once and turns it into a flat list of steps (a oneDNN
 * primitive or a C kernel with all pointers bound), so a run is "execute steps in order".
 *
 * Layouts. oneDNN's dimensions are logical N,C,H,W; an IR value of shape [N,H,W,C]
 * (TF layout) is described to oneDNN through a permutation `perm` (oneDNN dim j =
 * IR axis perm[j]) and strides, so a plain IR array is a strided oneDNN descriptor
 * and never needs a copy. Each value carries up to a few "representations"
 * (descriptor + pointer + perm): the one its producer wrote, and layouts that
 * consumers asked for (made by a reorder step at the first consumer that needed
 * it). Convolutions ask oneDNN for its preferred ("any") layouts, which on AVX2
 * are blocked (nChw8c); pooling, resizing, eltwise, binary and concat follow their
 * input's layout, so a chain of oneDNN ops stays blocked and reorders happen only
 * where a value enters the segment or must leave it plain (values marked
 * `external`: read by another segment or a graph output). A Transpose is a view (its
 * source seen through an axis map, no data moved) while the source's storage provably
 * stays intact until the view's last reader; NCHW graphs converted to NHWC engines
 * (NanoDet: 83 Transposes) thus cost nothing. oneDNN 2.6 has only reference kernels
 * for broadcasting binary ops and for its reduction primitive, so per-channel
 * operands on blocked tensors and other broadcasts run as C loops, and spatial
 * reductions as global pooling; whenever oneDNN would pick its reference
 * implementation the backend tries another layout first.
 *
 * Memory. A value produced inside the segment is stored in its own arena buffer
 * when its (possibly padded) layout fits there and does not overlap the step's
 * inputs; otherwise, and for extra layouts, in an activation buffer of the segment.
 * Those are placeholders while the steps are built; once all steps are known they
 * are placed in one pool by lifetime (in steps), like the engine's arena, and the
 * steps' pointers rebound. Lookup tables live as long as the plan. Packed weights are
 * shared by every plan of the instance (one plan per input shape: a pose model run with
 * batches 1, 2, 4 ... would otherwise hold one packed copy of its weights per batch
 * size): they are looked up by the model constant they come from and the packed layout,
 * and stay until the instance goes, so plans rebuilt after the session dropped them
 * (a larger shared arena, or more shapes than it keeps plans for) do not pack again.
 * The scratchpad is shared by all steps of the segment. Nothing is allocated by
 * run_node() or segment_run().
 *
 * Convolutions. Dense 3x3 stride-1 convolutions with 16+ channels on both sides run on
 * the Winograd kernel (wino.h) when the CPU has AVX2 + FMA (VIGIL_CPU_WINOGRAD=0 turns it
 * off), with the same fused post-ops and nChw8c layouts; every other one on oneDNN.
 *
 * Fusion (decided here, not in the IR): a convolution takes its IR activation as
 * eltwise post-ops; following nodes that read only its output fold in too: unary
 * activations, binary ops with a constant scalar (as linear/clip), TF's hard-swish
 * subgraph, and one residual Add (a binary post-op). A constant zero Pad (or -inf Pad
 * before max pooling) that feeds the next node (through Transposes) becomes padding.
 * Fusion only joins nodes adjacent in execution order, so no value's arena lifetime
 * is stretched; a chain never holds two eltwise post-ops of one algorithm (oneDNN
 * 2.6's AVX2 JIT applies the first one's parameters to both).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cpu_dnnl/cpu_kernels.h"
#include "backends/cpu_dnnl/dnnl_impl.h"
#include "backends/cpu_dnnl/wino.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "vigil/alloc.h"
#include "vigil/log.h"

/* Packed weights shared by the instance's plans (see DESIGN, Memory). The source is a
 * model constant, which outlives the instance. */
typedef struct packed_w {
    const void        *src;
    dnnl_memory_desc_t src_md, md; /* wino: md is 1-D, the packed size */
    int                wino;       /* 0: a oneDNN layout; wino.h's 1: transformed, 2: fly */
    void              *data;
} packed_w;

typedef struct cpu_ctx {
    vgi_dnnl  d;
    packed_w *pw; /* n_pw entries, unordered */
    int       n_pw, cap_pw;
    bool      wino; /* 3x3 stride-1 convolutions by Winograd (CPU can, not switched off) */
} cpu_ctx;

/* ---- per-segment state ------------------------------------------------------------------ */

typedef struct step {
    int           node;
    bool          is_c;    /* a plain C kernel (ck) instead of a oneDNN primitive */
    bool          is_wino; /* a Winograd convolution (wk) */
    vgi_dnnl_prim prim;
    vgi_dnnl_bufs bufs;
    vgi_ck        ck;
    vgi_wino      wk;
} step;

/* A segment-owned activation buffer while the segment is being built: a placeholder
 * allocation (never touched) whose address range identifies it in the steps' pointers
 * until pool_acts() moves it into the segment's pool. */
typedef struct act_buf {
    char  *tmp;
    size_t size;
    int    first, last; /* steps that use it */
    size_t off;         /* in the pool */
} act_buf;

typedef struct seg_state {
    step    *steps;
    int      n_steps, cap_steps;
    int     *first, *count; /* per graph node id: its steps */
    void   **own;           /* owned buffers that live as long as the plan (weights, tables) */
    int      n_own, cap_own;
    act_buf *acts; /* owned activation buffers (build time only) */
    int      n_acts, cap_acts;
    void    *pool; /* the activation buffers, placed by lifetime */
    size_t   own_bytes, weight_bytes, act_bytes, pool_bytes; /* totals, for the debug log */
    void    *scratch;
    size_t   scratch_bytes;
    int      n_packed, n_shared; /* weight tensors packed here / found packed (debug log) */
} seg_state;

#define MAX_REPS 3

typedef struct rep {
    dnnl_memory_desc_t md;
    void              *ptr;
    int                perm[VG_MAX_DIMS]; /* length md.ndims */
} rep;

typedef struct vinfo {
    bool  produced; /* written by this segment */
    int   nrep;
    rep   r[MAX_REPS];
    void *plain; /* plain dense IR-order bytes when known */
    /* A view: this value is view_src seen through an axis map (Transpose), possibly with
     * padding (a Pad folded into the convolution or max pool that reads it). */
    int     view_src;              /* -1: not a view */
    int     view_map[VG_MAX_DIMS]; /* this value's IR axis -> view_src's IR axis */
    bool    view_pad;
    int64_t pad_b[VG_MAX_DIMS], pad_e[VG_MAX_DIMS]; /* in view_src's axes */
} vinfo;

typedef struct builder {
    cpu_ctx           *c;
    const vgi_segment *seg;
    const vgi_graph   *g;
    seg_state         *s;
    vinfo             *vi;
    vgi_err           *err;
    const vgi_node    *n; /* node being prepared (for messages) */
} builder;

static vg_status fail_dnnl(builder *b, vg_status st) {
    return vgi_err_set(b->err, st, "cpu backend, node '%s' (%s): %s", b->n->name,
                       vgi_op_name(b->n->op), b->c->d.err);
}

static void *own_alloc(builder *b, size_t bytes) {
    if (b->s->n_own == b->s->cap_own) {
        int    cap = b->s->cap_own ? b->s->cap_own * 2 : 32;
        void **p   = vg_realloc(b->s->own, (size_t)cap * sizeof(*p));
        if (!p)
            return NULL;
        b->s->own     = p;
        b->s->cap_own = cap;
    }
    void *p = vg_aligned_alloc(64, bytes ? bytes : 64);
    if (p) {
        memset(p, 0, bytes ? bytes : 64);
        b->s->own[b->s->n_own++] = p;
        b->s->own_bytes += bytes;
        vg_log("cpu", VG_LOG_TRACE, "node '%s': %zu bytes of own memory", b->n->name, bytes);
    }
    return p;
}

static bool md_eq(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b) {
    return dnnl_memory_desc_equal(a, b) != 0;
}

/*
 * The weights at src (layout src_md) packed into layout md: the instance's copy when a
 * plan already packed them, else packed now and kept for the instance's life.
 */
static vg_status packed_weights(builder *b, const void *src, const dnnl_memory_desc_t *src_md,
                                const dnnl_memory_desc_t *md, int wino, void **out) {
    cpu_ctx   *c = b->c;
    seg_state *s = b->s;
    for (int i = 0; i < c->n_pw; i++) {
        packed_w *e = &c->pw[i];
        if (e->src == src && e->wino == wino && md_eq(&e->src_md, src_md) && md_eq(&e->md, md)) {
            s->n_shared++;
            *out = e->data;
            return VG_OK;
        }
    }
    if (c->n_pw == c->cap_pw) {
        int       cap = c->cap_pw ? 2 * c->cap_pw : 64;
        packed_w *p   = vg_realloc(c->pw, (size_t)cap * sizeof(*p));
        if (!p)
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
        c->pw     = p;
        c->cap_pw = cap;
    }
    size_t bytes = vgi_dnnl_md_bytes(md);
    void  *data  = vg_aligned_alloc(64, bytes ? bytes : 64);
    if (!data)
        return vgi_err_set(b->err, VG_E_NOMEM,
                           "cpu backend: out of memory for %zu bytes of weights", bytes);
    memset(data, 0, bytes ? bytes : 64); /* padded blocks stay zero */
    if (wino == 1) {                     /* src_md: o x c x 3 x 3 */
        vgi_wino_pack(src, src_md->dims[0], src_md->dims[1], data);
    } else if (wino == 2) {
        vgi_wino_pack_fly(src, src_md->dims[0], src_md->dims[1], data);
    } else {
        vg_status st = vgi_dnnl_reorder_once(&c->d, src_md, src, md, data);
        if (st != VG_OK) {
            vg_aligned_free(data);
            return fail_dnnl(b, st);
        }
    }
    c->pw[c->n_pw++] =
        (packed_w){.src = src, .src_md = *src_md, .md = *md, .wino = wino, .data = data};
    s->n_packed++;
    s->weight_bytes += bytes;
    *out = data;
    return VG_OK;
}

/* Owned memory for an activation (a value's layout or a copy): only a placeholder now;
 * pool_acts() gives it its place in the segment's pool once every step is known. */
static void *act_alloc(builder *b, size_t bytes) {
    seg_state *s = b->s;
    if (s->n_acts == s->cap_acts) {
        int      cap = s->cap_acts ? s->cap_acts * 2 : 32;
        act_buf *p   = vg_realloc(s->acts, (size_t)cap * sizeof(*p));
        if (!p)
            return NULL;
        s->acts     = p;
        s->cap_acts = cap;
    }
    bytes   = (bytes + 63) & ~(size_t)63;
    char *p = vg_aligned_alloc(64, bytes ? bytes : 64);
    if (p) {
        s->acts[s->n_acts++] = (act_buf){.tmp = p, .size = bytes ? bytes : 64, .first = -1};
        s->act_bytes += bytes;
        vg_log("cpu", VG_LOG_TRACE, "node '%s': %zu bytes of activation memory", b->n->name, bytes);
    }
    return p;
}

/* Appends a step for the current node; takes ownership of prim (freed on failure). */
static vg_status add_step(builder *b, vgi_dnnl_prim *prim, const vgi_dnnl_bufs *bufs) {
    seg_state *s = b->s;
    if (s->n_steps == s->cap_steps) {
        int   cap = s->cap_steps ? s->cap_steps * 2 : 32;
        step *p   = vg_realloc(s->steps, (size_t)cap * sizeof(*p));
        if (!p) {
            vgi_dnnl_prim_fini(prim);
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
        }
        s->steps     = p;
        s->cap_steps = cap;
    }
    int   id = (int)(b->n - b->g->nodes);
    step *st = &s->steps[s->n_steps++];
    memset(st, 0, sizeof(*st));
    st->node = id;
    st->prim = *prim;
    st->bufs = *bufs;
    if (s->count[id] == 0)
        s->first[id] = s->n_steps - 1;
    s->count[id]++;
    if (prim->scratch_bytes > s->scratch_bytes)
        s->scratch_bytes = prim->scratch_bytes;
    return VG_OK;
}

/* Appends a step without a oneDNN primitive for the current node (*out: it, to fill in). */
static vg_status add_own_step(builder *b, step **out) {
    vgi_dnnl_prim none;
    vgi_dnnl_bufs nb;
    memset(&none, 0, sizeof(none));
    memset(&nb, 0, sizeof(nb));
    vg_status st = add_step(b, &none, &nb);
    *out         = st == VG_OK ? &b->s->steps[b->s->n_steps - 1] : NULL;
    return st;
}

/* Appends a C-kernel step for the current node. */
static vg_status add_cstep(builder *b, const vgi_ck *ck) {
    step     *sp;
    vg_status st = add_own_step(b, &sp);
    if (st == VG_OK) {
        sp->is_c = true;
        sp->ck   = *ck;
    }
    return st;
}

static const vg_tensor *T(builder *b, int v) {
    return &b->seg->tensors[v];
}

/* The plain dense array of value v (IR shape right-aligned to `rank`) seen through perm. */
static vg_status plain_md(builder *b, int v, const int *perm, int rank, dnnl_memory_desc_t *md) {
    const vg_shape *sh = &T(b, v)->shape;
    int64_t         d[VG_MAX_DIMS], s[VG_MAX_DIMS];
    dnnl_dims_t     dd, ss;
    if (rank < sh->ndim || rank < 1 || rank > VG_MAX_DIMS)
        return vgi_err_set(b->err, VG_E_INTERNAL, "cpu backend: rank %d for a rank-%d value", rank,
                           sh->ndim);
    for (int i = 0; i < rank; i++)
        d[i] = i < rank - sh->ndim ? 1 : sh->dims[i - (rank - sh->ndim)];
    s[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; i--)
        s[i] = s[i + 1] * d[i + 1];
    for (int j = 0; j < rank; j++) {
        dd[j] = d[perm[j]];
        ss[j] = s[perm[j]];
    }
    vg_status st = vgi_dnnl_check(
        &b->c->d, dnnl_memory_desc_init_by_strides(md, rank, dd, dnnl_f32, ss), "plain descriptor");
    return st == VG_OK ? VG_OK : fail_dnnl(b, st);
}

static bool same_perm(const int *a, const int *p, int rank) {
    for (int i = 0; i < rank; i++)
        if (a[i] != p[i])
            return false;
    return true;
}

/* Reorder step src -> dst (both bound now). */
static vg_status emit_reorder(builder *b, const dnnl_memory_desc_t *smd, const void *sp,
                              const dnnl_memory_desc_t *dmd, void *dp) {
    vgi_dnnl_prim prim;
    vg_status     st = vgi_dnnl_reorder_create(&b->c->d, smd, dmd, &prim);
    if (st != VG_OK)
        return fail_dnnl(b, st);
    vgi_dnnl_bufs bufs;
    memset(&bufs, 0, sizeof(bufs));
    bufs.src[0] = sp;
    bufs.dst    = dp;
    return add_step(b, &prim, &bufs);
}

static void add_rep(vinfo *vi, const dnnl_memory_desc_t *md, void *ptr, const int *perm) {
    if (vi->nrep == MAX_REPS)
        return; /* not cached: a later consumer reorders again (correct, just slower) */
    rep *r = &vi->r[vi->nrep++];
    r->md  = *md;
    r->ptr = ptr;
    memcpy(r->perm, perm, sizeof(int) * (size_t)md->ndims);
}

/* Pointer to v's plain IR-order bytes, emitting a reorder when only another layout exists. */
static vg_status get_plain(builder *b, int v, void **out) {
    vinfo *vi = &b->vi[v];
    if (!vi->produced || vi->plain) {
        *out = vi->produced ? vi->plain : T(b, v)->data;
        return VG_OK;
    }
    rep               *r = &vi->r[0];
    dnnl_memory_desc_t pmd;
    vg_status          st = plain_md(b, v, r->perm, r->md.ndims, &pmd);
    if (st != VG_OK)
        return st;
    void  *dst   = T(b, v)->data;
    size_t bytes = vg_tensor_nbytes(T(b, v));
    if ((char *)r->ptr < (char *)dst + bytes &&
        (char *)dst < (char *)r->ptr + vgi_dnnl_md_bytes(&r->md)) {
        dst = act_alloc(b, bytes);
        if (!dst)
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    st = emit_reorder(b, &r->md, r->ptr, &pmd, dst);
    if (st != VG_OK)
        return st;
    vi->plain = dst;
    add_rep(vi, &pmd, dst, r->perm);
    *out = dst;
    return VG_OK;
}

/*
 * A representation of v seen through perm (length rank): with layout `want` if
 * given (a reorder into owned memory when needed), else any existing one.
 */
static vg_status get_rep(builder *b, int v, const int *perm, int rank,
                         const dnnl_memory_desc_t *want, rep *out) {
    vinfo *vi = &b->vi[v];
    if (vi->view_src >= 0) { /* read the source through the view's axis map */
        int sp[VG_MAX_DIMS];
        VGI_ASSERT(!vi->view_pad);
        for (int j = 0; j < rank; j++)
            sp[j] = vi->view_map[perm[j]];
        vg_status st = get_rep(b, vi->view_src, sp, rank, want, out);
        if (st == VG_OK)
            memcpy(out->perm, perm, sizeof(int) * (size_t)rank);
        return st;
    }
    int base = -1;
    for (int i = 0; i < vi->nrep; i++) {
        rep *r = &vi->r[i];
        if (r->md.ndims != rank || !same_perm(r->perm, perm, rank))
            continue;
        if (!want || md_eq(&r->md, want)) {
            *out = *r;
            return VG_OK;
        }
        if (base < 0)
            base = i;
    }
    rep       src;
    vg_status st;
    if (base >= 0) {
        src = vi->r[base];
    } else {
        void *p = NULL;
        st      = get_plain(b, v, &p);
        if (st != VG_OK)
            return st;
        st = plain_md(b, v, perm, rank, &src.md);
        if (st != VG_OK)
            return st;
        src.ptr = p;
        memcpy(src.perm, perm, sizeof(int) * (size_t)rank);
        if (!want || md_eq(&src.md, want)) {
            *out = src;
            return VG_OK;
        }
    }
    vg_log("cpu", VG_LOG_TRACE, "node '%s': reorders value '%s' (%d to %d inner blocks)",
           b->n->name, b->g->values[v].name, src.md.format_desc.blocking.inner_nblks,
           want->format_desc.blocking.inner_nblks);
    void *dst = act_alloc(b, vgi_dnnl_md_bytes(want));
    if (!dst)
        return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    st = emit_reorder(b, &src.md, src.ptr, want, dst);
    if (st != VG_OK)
        return st;
    add_rep(vi, want, dst, perm);
    out->md  = *want;
    out->ptr = dst;
    memcpy(out->perm, perm, sizeof(int) * (size_t)rank);
    return VG_OK;
}

static bool overlaps(const void *a, size_t an, const void *p, size_t pn) {
    return (const char *)a < (const char *)p + pn && (const char *)p < (const char *)a + an;
}

/*
 * Where the primitive writing v (layout md) puts it: v's arena buffer when md fits
 * there and it overlaps none of the inputs (in-place is allowed only for the exact
 * same pointer and layout when inplace_ok), else owned memory.
 */
static vg_status dst_storage(builder *b, int v, const dnnl_memory_desc_t *md, const int *out_perm,
                             const rep *ins, int n_ins, bool inplace_ok, void **out) {
    void  *p     = T(b, v)->data;
    size_t bytes = vgi_dnnl_md_bytes(md);
    bool   ok    = p && bytes <= vg_tensor_nbytes(T(b, v));
    if (ok && b->seg->external[v]) {
        /* an external value must end plain there: a blocked result goes elsewhere first */
        dnnl_memory_desc_t pmd;
        int                perm[VG_MAX_DIMS];
        for (int i = 0; i < md->ndims; i++)
            perm[i] = i;
        for (int i = 0; i < n_ins; i++)
            if (ins[i].md.ndims == md->ndims)
                memcpy(perm, ins[i].perm, sizeof(int) * (size_t)md->ndims);
        vg_status st = plain_md(b, v, out_perm ? out_perm : perm, md->ndims, &pmd);
        if (st != VG_OK)
            return st;
        ok = md_eq(md, &pmd);
    }
    for (int i = 0; ok && i < n_ins; i++) {
        if (!overlaps(p, bytes, ins[i].ptr, vgi_dnnl_md_bytes(&ins[i].md)))
            continue;
        if (!(inplace_ok && ins[i].ptr == p && md_eq(&ins[i].md, md)))
            ok = false;
    }
    if (!ok) {
        vg_log("cpu", VG_LOG_TRACE, "value '%s': %zu bytes, %zu in the arena, external %d",
               b->g->values[v].name, bytes, vg_tensor_nbytes(T(b, v)), b->seg->external[v]);
        p = act_alloc(b, bytes);
        if (!p)
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    *out = p;
    return VG_OK;
}

/* Records v's primary representation; makes it plain in its arena buffer when external. */
static vg_status set_output(builder *b, int v, const dnnl_memory_desc_t *md, void *ptr,
                            const int *perm) {
    vinfo *vi    = &b->vi[v];
    vi->produced = true;
    vi->nrep     = 0;
    vi->plain    = NULL;
    add_rep(vi, md, ptr, perm);
    dnnl_memory_desc_t pmd;
    vg_status          st = plain_md(b, v, perm, md->ndims, &pmd);
    if (st != VG_OK)
        return st;
    if (md_eq(md, &pmd) && ptr == T(b, v)->data)
        vi->plain = ptr;
    if (b->seg->external[v] && vi->plain != T(b, v)->data) {
        /* must end up plain in the tensor's own buffer */
        vi->plain = NULL;
        void *dst = T(b, v)->data;
        st        = emit_reorder(b, md, ptr, &pmd, dst);
        if (st != VG_OK)
            return st;
        vi->plain = dst;
        add_rep(vi, &pmd, dst, perm);
    }
    return VG_OK;
}

/* Finishes a primitive that reads in[0..n_in) as its sources 0..n_in-1 and writes value v:
 * places v's storage (dst_storage; in_place as there), queues the step and records v's
 * representation. prim is consumed: finalised here on failure. */
static vg_status emit_step(builder *b, vgi_dnnl_prim *prim, int v, const int *perm, rep *in,
                           int n_in, bool in_place) {
    void     *dst = NULL;
    vg_status st  = dst_storage(b, v, &prim->dst_md, perm, in, n_in, in_place, &dst);
    if (st != VG_OK) {
        vgi_dnnl_prim_fini(prim);
        return st;
    }
    vgi_dnnl_bufs bufs;
    memset(&bufs, 0, sizeof(bufs));
    for (int i = 0; i < n_in; i++)
        bufs.src[i] = in[i].ptr;
    bufs.dst               = dst;
    dnnl_memory_desc_t dmd = prim->dst_md;
    st                     = add_step(b, prim, &bufs);
    return st != VG_OK ? st : set_output(b, v, &dmd, dst, perm);
}

/* ---- op support ---------------------------------------------------------------------- */

static bool is_f32(const vg_tensor *t, int v) {
    return v >= 0 && t[v].dtype == VG_DTYPE_F32 && vg_shape_numel(&t[v].shape) > 0;
}

static void layout_perm(vgi_layout l, int *perm) {
    static const int nhwc[4] = {0, 3, 1, 2}, nchw[4] = {0, 1, 2, 3};
    memcpy(perm, l == VGI_LAYOUT_NHWC ? nhwc : nchw, sizeof(nhwc));
}

/*
 * True when post[0..n) already has an eltwise post-op of this kind. oneDNN 2.6's AVX2 JIT
 * kernels (jit_1x1 convolution at least) apply the parameters of the first eltwise post-op
 * of an algorithm to every later one of the same algorithm, so a chain never repeats one.
 */
static bool post_has(const vgi_dnnl_post *post, int n, vgi_dnnl_act act) {
    for (int i = 0; i < n; i++)
        if (post[i].kind == VGI_DNNL_POST_ELTWISE && post[i].act == act)
            return true;
    return false;
}

static bool act_posts(const vgi_act *a, vgi_dnnl_post *post, int *npost) {
    vgi_dnnl_post p;
    memset(&p, 0, sizeof(p));
    p.kind = VGI_DNNL_POST_ELTWISE;
    switch (a->kind) {
    case VGI_ACT_NONE:
        return true;
    case VGI_ACT_RELU:
        p.act = VGI_DNNL_ACT_RELU;
        break;
    case VGI_ACT_RELU6:
        p.act = VGI_DNNL_ACT_CLIP, p.alpha = 0, p.beta = 6;
        break;
    case VGI_ACT_CLIP:
        p.act = VGI_DNNL_ACT_CLIP, p.alpha = a->a, p.beta = a->b;
        break;
    case VGI_ACT_LEAKY:
        p.act = VGI_DNNL_ACT_RELU, p.alpha = a->a;
        break;
    case VGI_ACT_SIGMOID:
        p.act = VGI_DNNL_ACT_SIGMOID;
        break;
    case VGI_ACT_TANH:
        p.act = VGI_DNNL_ACT_TANH;
        break;
    case VGI_ACT_HARD_SWISH:
        p.act = VGI_DNNL_ACT_HARDSWISH;
        break;
    case VGI_ACT_SILU:
        p.act = VGI_DNNL_ACT_SWISH, p.alpha = 1;
        break;
    case VGI_ACT_ELU:
        p.act = VGI_DNNL_ACT_ELU, p.alpha = a->a;
        break;
    case VGI_ACT_HARD_SIGMOID:
        if (*npost + 2 > VGI_DNNL_MAX_POST || post_has(post, *npost, VGI_DNNL_ACT_LINEAR) ||
            post_has(post, *npost, VGI_DNNL_ACT_CLIP))
            return false;
        p.act = VGI_DNNL_ACT_LINEAR, p.alpha = a->a, p.beta = a->b;
        post[(*npost)++] = p;
        p.act = VGI_DNNL_ACT_CLIP, p.alpha = 0, p.beta = 1;
        break;
    default:
        return false;
    }
    if (*npost + 1 > VGI_DNNL_MAX_POST || post_has(post, *npost, p.act))
        return false;
    post[(*npost)++] = p;
    return true;
}

/* The activation a unary op computes, as IR activation (false if not one). */
static bool unary_act(const vgi_node *n, vgi_act *a) {
    memset(a, 0, sizeof(*a));
    switch (n->op) {
    case VGI_OP_RELU:
        a->kind = VGI_ACT_RELU;
        return true;
    case VGI_OP_RELU6:
        a->kind = VGI_ACT_RELU6;
        return true;
    case VGI_OP_CLIP:
        a->kind = VGI_ACT_CLIP, a->a = n->attr.unary.alpha, a->b = n->attr.unary.beta;
        return true;
    case VGI_OP_LEAKY_RELU:
        a->kind = VGI_ACT_LEAKY, a->a = n->attr.unary.alpha;
        return true;
    case VGI_OP_ELU:
        a->kind = VGI_ACT_ELU, a->a = n->attr.unary.alpha;
        return true;
    case VGI_OP_SIGMOID:
        a->kind = VGI_ACT_SIGMOID;
        return true;
    case VGI_OP_TANH:
        a->kind = VGI_ACT_TANH;
        return true;
    case VGI_OP_HARD_SWISH:
        a->kind = VGI_ACT_HARD_SWISH;
        return true;
    case VGI_OP_HARD_SIGMOID:
        a->kind = VGI_ACT_HARD_SIGMOID, a->a = n->attr.unary.alpha, a->b = n->attr.unary.beta;
        return true;
    case VGI_OP_SILU:
        a->kind = VGI_ACT_SILU;
        return true;
    default:
        return false;
    }
}

/* Unary ops without an IR activation equivalent. */
static bool unary_plain(vgi_op op, vgi_dnnl_act *act, float *alpha) {
    *alpha = 0;
    switch (op) {
    case VGI_OP_EXP:
        *act = VGI_DNNL_ACT_EXP;
        return true;
    case VGI_OP_LOG:
        *act = VGI_DNNL_ACT_LOG;
        return true;
    case VGI_OP_SQRT:
        *act = VGI_DNNL_ACT_SQRT;
        return true;
    case VGI_OP_ABS:
        *act = VGI_DNNL_ACT_ABS;
        return true;
    case VGI_OP_NEG:
        *act = VGI_DNNL_ACT_LINEAR, *alpha = -1;
        return true;
    case VGI_OP_ROUND:
        *act = VGI_DNNL_ACT_ROUND;
        return true;
    default:
        return false;
    }
}

static bool binary_alg(vgi_op op, dnnl_alg_kind_t *alg, bool *commutative) {
    *commutative = true;
    switch (op) {
    case VGI_OP_ADD:
        *alg = dnnl_binary_add;
        return true;
    case VGI_OP_MUL:
        *alg = dnnl_binary_mul;
        return true;
    case VGI_OP_MAX:
        *alg = dnnl_binary_max;
        return true;
    case VGI_OP_MIN:
        *alg = dnnl_binary_min;
        return true;
    case VGI_OP_SUB:
        *alg = dnnl_binary_sub, *commutative = false;
        return true;
    case VGI_OP_DIV:
        *alg = dnnl_binary_div, *commutative = false;
        return true;
    default:
        return false;
    }
}

/* The constant scalar operand of a binary node whose other input is data_v (NULL if none). */
static const float *scalar_operand(const vgi_graph *g, const vg_tensor *t, const vgi_node *m,
                                   int data_v, bool *data_first) {
    if (m->n_in != 2 || (m->in[0] != data_v && m->in[1] != data_v) || m->in[0] == m->in[1])
        return NULL;
    int c       = m->in[0] == data_v ? m->in[1] : m->in[0];
    *data_first = m->in[0] == data_v;
    if (c < 0 || !(g->values[c].flags & VGI_VALUE_CONST) || t[c].dtype != VG_DTYPE_F32 ||
        !t[c].data || vg_shape_numel(&t[c].shape) != 1 || t[m->out[0]].dtype != VG_DTYPE_F32 ||
        !vg_shape_equal(&t[m->out[0]].shape, &t[data_v].shape))
        return NULL;
    return t[c].data;
}

/*
 * Appends the eltwise post-ops that compute node m from its data input data_v: an
 * activation, a plain unary op, or a binary op with a constant scalar (x * c, x + c,
 * c - x, x / c, max/min with c). False when m is none of these or there is no room.
 */
static bool node_posts(const vgi_graph *g, const vg_tensor *t, const vgi_node *m, int data_v,
                       vgi_dnnl_post *post, int *npost) {
    vgi_act       a;
    vgi_dnnl_post p;
    memset(&p, 0, sizeof(p));
    p.kind = VGI_DNNL_POST_ELTWISE;
    if (m->n_in >= 1 && m->in[0] == data_v && unary_act(m, &a))
        return act_posts(&a, post, npost);
    if (m->n_in >= 1 && m->in[0] == data_v && unary_plain(m->op, &p.act, &p.alpha)) {
        if (*npost >= VGI_DNNL_MAX_POST || post_has(post, *npost, p.act))
            return false;
        post[(*npost)++] = p;
        return true;
    }
    bool         first;
    const float *c = scalar_operand(g, t, m, data_v, &first);
    if (!c || *npost >= VGI_DNNL_MAX_POST)
        return false;
    float k = *c;
    switch (m->op) {
    case VGI_OP_ADD:
        p.act = VGI_DNNL_ACT_LINEAR, p.alpha = 1, p.beta = k;
        break;
    case VGI_OP_SUB:
        p.act = VGI_DNNL_ACT_LINEAR, p.alpha = first ? 1.f : -1.f, p.beta = first ? -k : k;
        break;
    case VGI_OP_MUL:
        p.act = VGI_DNNL_ACT_LINEAR, p.alpha = k, p.beta = 0;
        break;
    case VGI_OP_DIV:
        if (!first || k == 0.f)
            return false;
        p.act = VGI_DNNL_ACT_LINEAR, p.alpha = 1.f / k, p.beta = 0;
        break;
    case VGI_OP_MAX:
        p.act = VGI_DNNL_ACT_CLIP, p.alpha = k, p.beta = FLT_MAX;
        break;
    case VGI_OP_MIN:
        p.act = VGI_DNNL_ACT_CLIP, p.alpha = -FLT_MAX, p.beta = k;
        break;
    case VGI_OP_POW: /* x^2 = x * x exactly (YOLO box heads); x^1 = x */
        if (!first || (k != 2.f && k != 1.f))
            return false;
        if (k == 2.f)
            p.act = VGI_DNNL_ACT_SQUARE;
        else
            p.act = VGI_DNNL_ACT_LINEAR, p.alpha = 1, p.beta = 0;
        break;
    default:
        return false;
    }
    if (post_has(post, *npost, p.act))
        return false;
    post[(*npost)++] = p;
    return true;
}

static bool supports_core(const vgi_graph *g, const vgi_node *n, const vg_tensor *t);

/*
 * A Pad is taken only when it can be folded: constant mode, its only use is the next
 * node, which is a Transpose (repeat) or finally a convolution (padding value 0) or a
 * max pool (padding -inf) that pads only spatially. Returns the final consumer's id.
 */
static int pad_chain(const vgi_graph *g, int node_id, const vg_tensor *t) {
    const vgi_node *n = &g->nodes[node_id];
    int64_t         pads[VG_MAX_DIMS][2];
    if (n->attr.pad.mode != VGI_PADFILL_CONSTANT || !is_f32(t, n->in[0]) || n->n_in < 2 ||
        n->in[1] < 0 || !t[n->in[1]].data || vgi_pad_read(n, t, pads) != VG_OK)
        return -1;
    float value = n->attr.pad.value;
    if (n->n_in > 2 && n->in[2] >= 0) {
        if (!t[n->in[2]].data || t[n->in[2]].dtype != VG_DTYPE_F32)
            return -1;
        value = *(const float *)t[n->in[2]].data;
    }
    int rank = t[n->in[0]].shape.ndim, map[VG_MAX_DIMS];
    for (int i = 0; i < rank; i++) {
        map[i] = i;
        if (pads[i][0] < 0 || pads[i][1] < 0)
            return -1;
    }
    int v = n->out[0];
    for (int id = node_id + 1; id < g->n_nodes; id++) {
        const vgi_node *c = &g->nodes[id];
        if (c->n_in < 1 || c->in[0] != v || vgi_graph_use_count(g, v) != 1)
            return -1;
        if (c->op == VGI_OP_TRANSPOSE) {
            int m2[VG_MAX_DIMS];
            if (c->attr.transpose.n != rank)
                return -1;
            for (int i = 0; i < rank; i++)
                m2[i] = map[c->attr.transpose.perm[i]];
            memcpy(map, m2, sizeof(map));
            v = c->out[0];
            continue;
        }
        int perm[4];
        if (rank != 4)
            return -1;
        if (c->op == VGI_OP_CONV) {
            if (value != 0.f)
                return -1;
            layout_perm(c->attr.conv.layout, perm);
        } else if (c->op == VGI_OP_MAX_POOL) {
            if (!(isinf(value) && value < 0))
                return -1;
            layout_perm(c->attr.pool.layout, perm);
        } else {
            return -1;
        }
        for (int j = 0; j < 2; j++)
            if (pads[map[perm[j]]][0] || pads[map[perm[j]]][1])
                return -1;
        return supports_core(g, c, t) ? id : -1;
    }
    return -1;
}

/* Does oneDNN's resampling compute exactly this resize (else a C kernel does)? */
static bool resize_on_dnnl(const vgi_node *n, const vg_tensor *t) {
    const vgi_resize_attr *r  = &n->attr.resize;
    const vg_shape        *xs = &t[n->in[0]].shape, *ys = &t[n->out[0]].shape;
    int                    h = r->layout == VGI_LAYOUT_NHWC ? 1 : 2;
    if (r->mode == VGI_RESIZE_BILINEAR)
        return r->coord == VGI_COORD_HALF_PIXEL ||
               (r->coord == VGI_COORD_PYTORCH_HALF_PIXEL && ys->dims[h] > 1 && ys->dims[h + 1] > 1);
    /* nearest: oneDNN picks round((o + 0.5) * in / out - 0.5) = floor((o + 0.5) * in / out) */
    if (r->coord == VGI_COORD_TF_HALF_PIXEL_NEAREST && r->nearest == VGI_NEAREST_FLOOR)
        return true;
    if (r->coord == VGI_COORD_HALF_PIXEL && r->nearest == VGI_NEAREST_ROUND_PREFER_CEIL)
        return true;
    if (r->coord == VGI_COORD_ASYMMETRIC && r->nearest == VGI_NEAREST_FLOOR)
        return ys->dims[h] % xs->dims[h] == 0 && ys->dims[h + 1] % xs->dims[h + 1] == 0;
    return false;
}

static bool supports_core(const vgi_graph *g, const vgi_node *n, const vg_tensor *t) {
    /* plain C kernels: any dtype they handle */
    switch (n->op) {
    case VGI_OP_TOPK: {
        int64_t A, K;
        int     r = t[n->in[0]].shape.ndim, ax;
        if (n->n_out != 2 || n->n_in < 1 || !is_f32(t, n->in[0]) || r < 1 ||
            t[n->out[0]].dtype != VG_DTYPE_F32 ||
            (t[n->out[1]].dtype != VG_DTYPE_I32 && t[n->out[1]].dtype != VG_DTYPE_I64))
            return false;
        ax = (int)(n->attr.topk.axis < 0 ? n->attr.topk.axis + r : n->attr.topk.axis);
        if (ax < 0 || ax >= r || t[n->out[0]].shape.ndim != r)
            return false;
        A = t[n->in[0]].shape.dims[ax];
        K = t[n->out[0]].shape.dims[ax];
        return K >= 1 && K <= A;
    }
    case VGI_OP_CAST:
        return n->in[0] >= 0 && vg_shape_numel(&t[n->in[0]].shape) > 0 &&
               vgi_ck_cast_ok(t[n->in[0]].dtype, t[n->out[0]].dtype);
    case VGI_OP_POW: { /* x^c for a constant c of 1 or 2: an eltwise op */
        bool         first;
        const float *c = scalar_operand(g, t, n, n->in[0], &first);
        return is_f32(t, n->in[0]) && c && first && (*c == 2.f || *c == 1.f);
    }
    case VGI_OP_EQUAL:
    case VGI_OP_NOT_EQUAL:
    case VGI_OP_LESS:
    case VGI_OP_LESS_EQUAL:
    case VGI_OP_GREATER:
    case VGI_OP_GREATER_EQUAL:
    case VGI_OP_SQUARED_DIFF:
    case VGI_OP_LOGICAL_AND:
    case VGI_OP_LOGICAL_OR:
        return n->n_in == 2 && t[n->in[0]].dtype == t[n->in[1]].dtype &&
               vg_shape_numel(&t[n->out[0]].shape) > 0 &&
               vgi_ck_binary_ok(n->op, t[n->in[0]].dtype, t[n->out[0]].dtype);
    default:
        break;
    }
    for (int k = 0; k < n->n_out; k++)
        if (!is_f32(t, n->out[k]))
            return false;
    vgi_act act;
    switch (n->op) {
    case VGI_OP_REDUCE_MEAN:
    case VGI_OP_REDUCE_MAX: {
        /* mean/max over two axes of a rank-4 tensor: global pooling (oneDNN 2.6 has only a
         * reference kernel for its reduction primitive) */
        bool mask[VG_MAX_DIMS];
        if (!is_f32(t, n->in[0]) || t[n->in[0]].shape.ndim != 4 ||
            vgi_reduce_axes(n, t, mask) != VG_OK)
            return false;
        return mask[0] + mask[1] + mask[2] + mask[3] == 2;
    }
    case VGI_OP_CONV: {
        int w = n->in[1];
        if (!is_f32(t, n->in[0]) || !is_f32(t, w) || t[n->in[0]].shape.ndim != 4)
            return false;
        if (!(g->values[w].flags & VGI_VALUE_CONST) || !t[w].data || t[w].shape.ndim != 4)
            return false;
        if (n->n_in > 2 && n->in[2] >= 0 &&
            (!is_f32(t, n->in[2]) || !(g->values[n->in[2]].flags & VGI_VALUE_CONST) ||
             !t[n->in[2]].data))
            return false;
        vgi_dnnl_post post[VGI_DNNL_MAX_POST];
        int           np = 0;
        int64_t       c  = t[n->in[0]].shape.dims[n->attr.conv.layout == VGI_LAYOUT_NHWC ? 3 : 1];
        int64_t       gr = n->attr.conv.groups;
        return gr >= 1 && c % gr == 0 && t[w].shape.dims[1] * gr == c &&
               t[w].shape.dims[0] % gr == 0 && act_posts(&n->attr.conv.act, post, &np);
    }
    case VGI_OP_MAX_POOL:
    case VGI_OP_AVG_POOL:
        return is_f32(t, n->in[0]) && t[n->in[0]].shape.ndim == 4 &&
               n->attr.pool.dilations[0] <= 1 && n->attr.pool.dilations[1] <= 1;
    case VGI_OP_GLOBAL_AVG_POOL:
    case VGI_OP_GLOBAL_MAX_POOL:
        return is_f32(t, n->in[0]) && t[n->in[0]].shape.ndim == 4;
    case VGI_OP_RESIZE: {
        const vgi_resize_attr *r = &n->attr.resize;
        if (!is_f32(t, n->in[0]) || t[n->in[0]].shape.ndim != 4)
            return false;
        const vg_shape *xs = &t[n->in[0]].shape, *ys = &t[n->out[0]].shape;
        int             h = r->layout == VGI_LAYOUT_NHWC ? 1 : 2;
        if (xs->dims[0] != ys->dims[0] || xs->dims[h == 1 ? 3 : 1] != ys->dims[h == 1 ? 3 : 1])
            return false;
        return r->mode == VGI_RESIZE_BILINEAR || resize_on_dnnl(n, t);
    }
    case VGI_OP_ADD:
    case VGI_OP_SUB:
    case VGI_OP_MUL:
    case VGI_OP_DIV:
    case VGI_OP_MAX:
    case VGI_OP_MIN: {
        dnnl_alg_kind_t alg = dnnl_alg_kind_undef;
        bool            comm;
        binary_alg(n->op, &alg, &comm);
        if (!is_f32(t, n->in[0]) || !is_f32(t, n->in[1]))
            return false;
        const vg_shape *o = &t[n->out[0]].shape;
        if (o->ndim < 1 || o->ndim > 6)
            return false;
        if (vg_shape_equal(&t[n->in[0]].shape, o))
            return true;
        bool first;
        if (scalar_operand(g, t, n, n->in[1], &first)) { /* c (op) x: an eltwise op */
            vgi_dnnl_post post[VGI_DNNL_MAX_POST];
            int           np = 0;
            return node_posts(g, t, n, n->in[1], post, &np);
        }
        return comm && vg_shape_equal(&t[n->in[1]].shape, o);
    }
    case VGI_OP_CONCAT: {
        const vg_shape *o = &t[n->out[0]].shape;
        if (n->n_in < 1 || n->n_in > VGI_DNNL_MAX_SRC || o->ndim < 1 || o->ndim > 6)
            return false;
        for (int i = 0; i < n->n_in; i++)
            if (!is_f32(t, n->in[i]) || t[n->in[i]].shape.ndim != o->ndim)
                return false;
        return true;
    }
    case VGI_OP_PAD:
        return false; /* only folded (pad_chain) */
    case VGI_OP_TRANSPOSE:
        return is_f32(t, n->in[0]) && t[n->in[0]].shape.ndim >= 1 && t[n->in[0]].shape.ndim <= 6 &&
               n->attr.transpose.n == t[n->in[0]].shape.ndim;
    default: {
        vgi_dnnl_act a;
        float        alpha;
        if (unary_act(n, &act) || unary_plain(n->op, &a, &alpha))
            return is_f32(t, n->in[0]) && t[n->in[0]].shape.ndim <= 6 &&
                   vg_shape_equal(&t[n->in[0]].shape, &t[n->out[0]].shape);
        return false;
    }
    }
}

static bool cpu_supports_node(void *ctx, const vgi_graph *g, int node_id, const vg_tensor *t) {
    (void)ctx;
    const vgi_node *n = &g->nodes[node_id];
    if (n->op == VGI_OP_PAD)
        return pad_chain(g, node_id, t) >= 0;
    return supports_core(g, n, t);
}

/* ---- building steps ------------------------------------------------------------------- */

/* Rank and perm a value produced here is viewed with (its primary representation),
 * else identity of `rank`. */
static void value_perm(builder *b, int v, int rank, int *perm) {
    vinfo *vi = &b->vi[v];
    if (vi->view_src >= 0) {
        vinfo *si = &b->vi[vi->view_src];
        if (si->produced && si->nrep > 0 && si->r[0].md.ndims == rank) {
            int inv[VG_MAX_DIMS];
            for (int i = 0; i < rank; i++)
                inv[vi->view_map[i]] = i;
            for (int j = 0; j < rank; j++)
                perm[j] = inv[si->r[0].perm[j]];
            return;
        }
        for (int i = 0; i < rank; i++)
            perm[i] = i;
        return;
    }
    if (vi->produced && vi->nrep > 0 && vi->r[0].md.ndims == rank) {
        memcpy(perm, vi->r[0].perm, sizeof(int) * (size_t)rank);
        return;
    }
    for (int i = 0; i < rank; i++)
        perm[i] = i;
}

/* Index of the next node of the segment after position pos if it reads v as its
 * only use (v not external); -1 otherwise. */
static int next_sole_user(builder *b, int pos, int v) {
    if (pos + 1 >= b->seg->n_nodes || b->seg->external[v] || vgi_graph_use_count(b->g, v) != 1)
        return -1;
    int             id = b->seg->nodes[pos + 1];
    const vgi_node *n  = &b->g->nodes[id];
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] == v)
            return id;
    return -1;
}

/* Appends eltwise post-ops of activations that follow directly; returns the final
 * value and the number of nodes fused. */
static int fuse_acts(builder *b, int pos, int *v, vgi_dnnl_post *post, int *npost, bool *fused) {
    int k = 0;
    for (;;) {
        int id = next_sole_user(b, pos + k, *v);
        int np = *npost;
        if (id < 0 || !node_posts(b->g, b->seg->tensors, &b->g->nodes[id], *v, post, &np))
            break;
        *npost    = np;
        fused[id] = true;
        *v        = b->g->nodes[id].out[0];
        k++;
    }
    return k;
}

/* The four nodes of a hard-swish as TF writes it, x * (1/6) * relu6(x + 3), reading v and
 * placed right after position pos in any order: their ids, the result value, and the
 * factor by which the model's "1/6" differs from 1/6. */
static bool match_hardswish(builder *b, int pos, int v, int ids[4], int *out, float *scale) {
    const vgi_segment *seg = b->seg;
    const vgi_graph   *g   = b->g;
    if (pos + 4 >= seg->n_nodes || seg->external[v] || vgi_graph_use_count(g, v) != 2)
        return false;
    int mul6 = -1, add3 = -1, r6 = -1, fin = -1;
    for (int q = pos + 1; q <= pos + 4; q++) {
        const vgi_node *m = &g->nodes[seg->nodes[q]];
        bool            first;
        const float    *c = scalar_operand(g, seg->tensors, m, v, &first);
        if (c && m->op == VGI_OP_MUL && fabsf(*c - 1.f / 6.f) < 1e-3f) {
            mul6   = seg->nodes[q];
            *scale = *c * 6.f; /* float16-stored models hold 0.16663 */
        } else if (c && m->op == VGI_OP_ADD && *c == 3.f)
            add3 = seg->nodes[q];
    }
    if (mul6 < 0 || add3 < 0)
        return false;
    int a = g->nodes[mul6].out[0], s3 = g->nodes[add3].out[0];
    for (int q = pos + 1; q <= pos + 4; q++) {
        const vgi_node *m = &g->nodes[seg->nodes[q]];
        if (m->op == VGI_OP_RELU6 && m->in[0] == s3)
            r6 = seg->nodes[q];
    }
    if (r6 < 0)
        return false;
    int r = g->nodes[r6].out[0];
    for (int q = pos + 1; q <= pos + 4; q++) {
        const vgi_node *m = &g->nodes[seg->nodes[q]];
        if (m->op == VGI_OP_MUL && m->n_in == 2 &&
            ((m->in[0] == a && m->in[1] == r) || (m->in[0] == r && m->in[1] == a)))
            fin = seg->nodes[q];
    }
    if (fin < 0)
        return false;
    int inner[3] = {a, s3, r};
    for (int i = 0; i < 3; i++)
        if (seg->external[inner[i]] || vgi_graph_use_count(g, inner[i]) != 1)
            return false;
    ids[0] = mul6, ids[1] = add3, ids[2] = r6, ids[3] = fin;
    *out = g->nodes[fin].out[0];
    return true;
}

/* 2: a JIT kernel, 1: another optimised one (gemm), 0: oneDNN's reference code. */
static int impl_score(const vgi_dnnl_prim *p) {
    const char *impl = vgi_dnnl_prim_impl(p);
    return !strncmp(impl, "ref", 3) ? 0 : !strncmp(impl, "jit", 3) ? 2 : 1;
}

/*
 * The input x of a convolution or pooling seen with perm (oneDNN N,C,H,W -> x's axes):
 * for a folded Pad, returns the unpadded source with its perm and the extra spatial
 * padding t, l, b, r; else x itself.
 */
static int resolve_padded(builder *b, int x, const int *perm, int *sperm, int64_t extra[4]) {
    vinfo *vi = &b->vi[x];
    memset(extra, 0, 4 * sizeof(int64_t));
    if (vi->view_src < 0 || !vi->view_pad) {
        memcpy(sperm, perm, 4 * sizeof(int));
        return x;
    }
    for (int j = 0; j < 4; j++)
        sperm[j] = vi->view_map[perm[j]];
    extra[0] = vi->pad_b[sperm[2]], extra[1] = vi->pad_b[sperm[3]];
    extra[2] = vi->pad_e[sperm[2]], extra[3] = vi->pad_e[sperm[3]];
    return vi->view_src;
}

/* The wino.h form of a post-op chain (false if it holds one the kernel lacks). */
static bool wino_posts(const vgi_dnnl_conv_params *p, vgi_wino *k) {
    static const struct {
        vgi_dnnl_act act;
        vgi_wino_op  op;
    } acts[] = {
        {VGI_DNNL_ACT_RELU, VGI_WINO_RELU},     {VGI_DNNL_ACT_CLIP, VGI_WINO_CLIP},
        {VGI_DNNL_ACT_LINEAR, VGI_WINO_LINEAR}, {VGI_DNNL_ACT_SIGMOID, VGI_WINO_SIGMOID},
        {VGI_DNNL_ACT_SWISH, VGI_WINO_SWISH},   {VGI_DNNL_ACT_HARDSWISH, VGI_WINO_HARDSWISH},
    };
    for (int i = 0; i < p->npost; i++) {
        const vgi_dnnl_post *q = &p->post[i];
        vgi_wino_post       *w = &k->post[k->npost++];
        w->alpha = q->alpha, w->beta = q->beta, w->op = 0;
        if (q->kind == VGI_DNNL_POST_BINARY)
            w->op = q->binary_alg == dnnl_binary_add ? VGI_WINO_RESIDUAL : 0;
        for (size_t a = 0; q->kind == VGI_DNNL_POST_ELTWISE && a < VGI_ARRAY_SIZE(acts); a++)
            if (acts[a].act == q->act)
                w->op = acts[a].op;
        if (w->op == 0)
            return false;
    }
    return true;
}

/* Below this many 2x2 output tiles per image, Winograd filters are transformed while running
 * instead of stored (wino.h, vgi_wino_pack_fly): HRNet-W32 at 256 x 192 holds 316 MB with
 * every filter stored, 250 MB with those of maps under 64 tiles not, and NanoDet stays
 * within its memory budget (docs/BENCHMARKS.md). */
#define WINO_FLY_TILES 64

/*
 * A dense 3x3 stride-1 convolution by Winograd F(2x2, 3x3) (wino.h) with all of p's
 * post-ops fused, on nChw8c. *done stays false, and nothing is emitted, when the kernel
 * does not apply (shape, post-op, CPU or VIGIL_CPU_WINOGRAD=0); oneDNN then takes it.
 * Below 16 channels on either side the matrix products are too thin to win.
 */
static vg_status prep_wino(builder *b, const vgi_dnnl_conv_params *p, int x, const int *sperm,
                           const int *perm, int w, int bias, int v, int res_v, bool *done) {
    *done = false;
    if (!b->c->wino || p->groups != 1 || p->kh != 3 || p->kw != 3 || p->stride[0] != 1 ||
        p->stride[1] != 1 || p->dilation[0] != 1 || p->dilation[1] != 1 || p->ic % 8 != 0 ||
        p->oc % 8 != 0 || p->ic < 16 || p->oc < 16 || p->pad_l[0] < 0 || p->pad_l[1] < 0)
        return VG_OK;
    vgi_wino k;
    memset(&k, 0, sizeof(k));
    if (!wino_posts(p, &k))
        return VG_OK;
    k.n = p->n, k.c = p->ic, k.h = p->ih, k.w = p->iw;
    k.o = p->oc, k.oh = p->oh, k.ow = p->ow;
    k.pad_t = p->pad_l[0], k.pad_l = p->pad_l[1];
    k.threads = b->c->d.threads;
    k.fly     = ((p->oh + 1) / 2) * ((p->ow + 1) / 2) < WINO_FLY_TILES;
    vgi_wino_plan(&k);

    dnnl_memory_desc_t smd, dmd, wmd, umd;
    int64_t            sd[4] = {p->n, p->ic, p->ih, p->iw}, dd[4] = {p->n, p->oc, p->oh, p->ow};
    int64_t            wd[4] = {p->oc, p->ic, 3, 3};
    int64_t            ud[1] = {
                   (int64_t)(k.fly ? vgi_wino_fly_floats(k.o, k.c) : vgi_wino_u_floats(k.o, k.c))};
    vg_status st = vgi_dnnl_md(&b->c->d, &smd, 4, sd, dnnl_nChw8c);
    if (st == VG_OK)
        st = vgi_dnnl_md(&b->c->d, &dmd, 4, dd, dnnl_nChw8c);
    if (st == VG_OK)
        st = vgi_dnnl_md(&b->c->d, &wmd, 4, wd, dnnl_oihw);
    if (st == VG_OK)
        st = vgi_dnnl_md(&b->c->d, &umd, 1, ud, dnnl_a);
    if (st != VG_OK)
        return fail_dnnl(b, st);
    rep in[2];
    int n_in = 1;
    st       = get_rep(b, x, sperm, 4, &smd, &in[0]);
    if (st == VG_OK && res_v >= 0)
        st = get_rep(b, res_v, perm, 4, &dmd, &in[n_in++]);
    void *u = NULL, *dst = NULL;
    if (st == VG_OK)
        st = packed_weights(b, T(b, w)->data, &wmd, &umd, k.fly ? 2 : 1, &u);
    if (st == VG_OK)
        st = dst_storage(b, v, &dmd, perm, in, n_in, false, &dst);
    if (st != VG_OK)
        return st;
    k.src  = in[0].ptr;
    k.res  = res_v >= 0 ? in[1].ptr : NULL;
    k.u    = u;
    k.bias = bias >= 0 ? T(b, bias)->data : NULL;
    k.dst  = dst;
    step *sp;
    st = add_own_step(b, &sp);
    if (st != VG_OK)
        return st;
    sp->is_wino = true;
    sp->wk      = k;
    if (k.scratch_bytes > b->s->scratch_bytes)
        b->s->scratch_bytes = k.scratch_bytes;
    vg_log("cpu", VG_LOG_TRACE,
           "node '%s': Winograd F(2x2,3x3), %lld tiles in chunks of %lld%s, filters %s", b->n->name,
           (long long)k.tiles, (long long)k.chunk, k.team ? " shared by the team" : "",
           k.fly ? "transformed while running" : "transformed once");
    *done = true;
    return set_output(b, v, &dmd, dst, perm);
}

/* Marks the nodes ids[0..n) as folded into the current node's convolution. */
static void mark_fused(builder *b, bool *fused, const int *ids, int n) {
    for (int i = 0; i < n; i++) {
        fused[ids[i]] = true;
        vg_log("cpu", VG_LOG_TRACE, "node '%s' fused into convolution '%s'",
               b->g->nodes[ids[i]].name, b->n->name);
    }
}

static vg_status prep_conv(builder *b, int pos, bool *fused) {
    const vgi_node      *n = b->n;
    const vgi_conv_attr *a = &n->attr.conv;
    int                  perm[4];
    layout_perm(a->layout, perm);
    int             x = n->in[0], w = n->in[1], bias = n->n_in > 2 ? n->in[2] : -1;
    const vg_shape *ws = &T(b, w)->shape, *ys = &T(b, n->out[0])->shape;
    int64_t         keff[2] = {(ws->dims[2] - 1) * VGI_MAX(a->dilations[0], 1) + 1,
                               (ws->dims[3] - 1) * VGI_MAX(a->dilations[1], 1) + 1};
    int64_t         pads[4];
    vgi_resolve_pads(a->pad_mode, a->pads, T(b, x)->shape.dims[perm[2]],
                     T(b, x)->shape.dims[perm[3]], keff, a->strides, pads);
    int64_t extra[4];
    int     sperm[4];
    x                       = resolve_padded(b, x, perm, sperm, extra);
    const vg_shape      *xs = &T(b, x)->shape;
    int64_t              N = xs->dims[sperm[0]], C = xs->dims[sperm[1]];
    int64_t              H = xs->dims[sperm[2]], W = xs->dims[sperm[3]];
    int64_t              O = ys->dims[perm[1]], OH = ys->dims[perm[2]], OW = ys->dims[perm[3]];
    vgi_dnnl_conv_params p;
    memset(&p, 0, sizeof(p));
    p.n = N, p.ic = C, p.ih = H, p.iw = W, p.oc = O, p.oh = OH, p.ow = OW;
    p.kh = ws->dims[2], p.kw = ws->dims[3], p.groups = a->groups;
    p.stride[0] = a->strides[0], p.stride[1] = a->strides[1];
    p.dilation[0] = VGI_MAX(a->dilations[0], 1), p.dilation[1] = VGI_MAX(a->dilations[1], 1);
    p.pad_l[0] = pads[0] + extra[0], p.pad_l[1] = pads[1] + extra[1];
    /* bottom/right padding as the output size requires (ceil/floor handled by the IR) */
    p.pad_r[0] = (OH - 1) * p.stride[0] + keff[0] - (H + p.pad_l[0]);
    p.pad_r[1] = (OW - 1) * p.stride[1] + keff[1] - (W + p.pad_l[1]);
    p.bias     = bias >= 0;
    if (!act_posts(&a->act, p.post, &p.npost))
        return vgi_err_set(b->err, VG_E_INTERNAL, "node '%s': activation", n->name);

    /* fusion: [acts] then a residual Add, then [acts] */
    int  v        = n->out[0];
    int  res_v    = -1; /* the residual Add's other operand */
    bool residual = false;
    int  fz_ids[8], n_fz = 0, k = 0;
    rep  other;
    memset(&other, 0, sizeof(other));
    float hs_scale = 1.f;
    if (p.npost + 2 <= VGI_DNNL_MAX_POST && !post_has(p.post, p.npost, VGI_DNNL_ACT_HARDSWISH) &&
        !post_has(p.post, p.npost, VGI_DNNL_ACT_LINEAR) &&
        match_hardswish(b, pos, v, fz_ids, &v, &hs_scale)) {
        /* x * relu6(x + 3) / 6, then * (6 c) for the model's constant c */
        memset(&p.post[p.npost], 0, 2 * sizeof(p.post[0]));
        p.post[p.npost++].act = VGI_DNNL_ACT_HARDSWISH;
        if (hs_scale != 1.f) {
            p.post[p.npost].act     = VGI_DNNL_ACT_LINEAR;
            p.post[p.npost++].alpha = hs_scale;
        }
        n_fz = k = 4;
    }
    for (;;) {
        int id = next_sole_user(b, pos + k, v);
        if (id < 0 || n_fz >= 6)
            break;
        const vgi_node *m  = &b->g->nodes[id];
        int             np = p.npost;
        if (node_posts(b->g, b->seg->tensors, m, v, p.post, &np)) {
            p.npost = np;
        } else if (m->op == VGI_OP_ADD && p.npost < VGI_DNNL_MAX_POST && !residual &&
                   vg_shape_equal(&T(b, m->in[0])->shape, &T(b, m->in[1])->shape)) {
            int o = m->in[0] == v ? m->in[1] : m->in[0];
            if (o == v || b->vi[o].view_pad)
                break;
            /* the other operand must exist already (produced earlier or from outside) */
            vg_status st = get_rep(b, o, perm, 4, NULL, &other);
            if (st != VG_OK)
                return st;
            vgi_dnnl_post *q = &p.post[p.npost++];
            memset(q, 0, sizeof(*q));
            q->kind       = VGI_DNNL_POST_BINARY;
            q->binary_alg = dnnl_binary_add;
            q->binary_md  = other.md;
            residual      = true; /* one residual at most */
            res_v         = o;
        } else {
            break;
        }
        fz_ids[n_fz++] = id;
        v              = m->out[0];
        k++;
    }

    bool      done = false;
    vg_status wst  = prep_wino(b, &p, x, sperm, perm, w, bias, v, res_v, &done);
    if (wst != VG_OK || done) {
        if (wst == VG_OK)
            mark_fused(b, fused, fz_ids, n_fz);
        return wst;
    }

    /* Try fused then unfused, each with a plain destination for an external value and then
     * with oneDNN's choice (reordered out after); take the first JIT kernel, else the best
     * (gemm before oneDNN's slow reference code). */
    vgi_dnnl_conv_params pu = p; /* unfused: the conv's own activation only */
    memset(pu.post, 0, sizeof(pu.post));
    pu.npost = 0;
    act_posts(&a->act, pu.post, &pu.npost);
    vgi_dnnl_prim prim, cand;
    bool          have = false, have_fused = false;
    int           best = -1;
    vg_status     st = VG_OK, first_st = VG_OK;
    for (int att = 0; att < 4; att++) {
        bool fuse = att < 2;
        if (fuse && n_fz == 0)
            continue;
        int                   vv = fuse ? v : n->out[0];
        vgi_dnnl_conv_params *pp = fuse ? &p : &pu;
        dnnl_memory_desc_t    dst_plain;
        if (att % 2 == 1 && !b->seg->external[vv])
            continue; /* "any" was already tried */
        st = plain_md(b, vv, perm, 4, &dst_plain);
        if (st != VG_OK)
            break;
        pp->dst_md = att % 2 == 0 && b->seg->external[vv] ? &dst_plain : NULL;
        st         = vgi_dnnl_conv_create(&b->c->d, pp, &cand);
        pp->dst_md = NULL;
        if (st != VG_OK) {
            if (first_st == VG_OK)
                first_st = st;
            continue;
        }
        int score = impl_score(&cand);
        if (have && score > best) {
            vgi_dnnl_prim_fini(&prim);
            have = false;
        }
        if (!have) {
            prim       = cand;
            have       = true;
            have_fused = fuse;
            best       = score;
            if (best == 2)
                break;
        } else {
            vgi_dnnl_prim_fini(&cand);
        }
    }
    if (!have)
        return fail_dnnl(b, first_st != VG_OK ? first_st : st);
    st = VG_OK;
    if (!have_fused) {
        n_fz     = 0;
        residual = false;
        v        = n->out[0];
        p        = pu;
    }
    mark_fused(b, fused, fz_ids, n_fz);

    /* weights packed once: IR OIHW = oneDNN (g)oihw */
    dnnl_memory_desc_t wmd;
    if (p.groups == 1) {
        int64_t wd[4] = {O, C, p.kh, p.kw};
        st            = vgi_dnnl_md(&b->c->d, &wmd, 4, wd, dnnl_oihw);
    } else {
        int64_t wd[5] = {p.groups, O / p.groups, C / p.groups, p.kh, p.kw};
        st            = vgi_dnnl_md(&b->c->d, &wmd, 5, wd, dnnl_goihw);
    }
    void *wpk = NULL;
    if (st != VG_OK) {
        vgi_dnnl_prim_fini(&prim);
        return fail_dnnl(b, st);
    }
    st = packed_weights(b, T(b, w)->data, &wmd, &prim.wei_md, 0, &wpk);
    if (st != VG_OK) {
        vgi_dnnl_prim_fini(&prim);
        return st;
    }
    rep in[2];
    int n_in = 0;
    st       = get_rep(b, x, sperm, 4, &prim.src_md[0], &in[n_in++]);
    if (st == VG_OK && residual)
        in[n_in++] = other;
    void *dst = NULL;
    if (st == VG_OK)
        st = dst_storage(b, v, &prim.dst_md, perm, in, n_in, false, &dst);
    if (st != VG_OK) {
        vgi_dnnl_prim_fini(&prim);
        return st;
    }
    vgi_dnnl_bufs bufs;
    memset(&bufs, 0, sizeof(bufs));
    bufs.src[0] = in[0].ptr;
    bufs.wei    = wpk;
    bufs.bias   = bias >= 0 ? T(b, bias)->data : NULL;
    bufs.dst    = dst;
    for (int i = 0; i < p.npost; i++)
        if (p.post[i].kind == VGI_DNNL_POST_BINARY)
            bufs.post[i] = other.ptr;
    dnnl_memory_desc_t dmd = prim.dst_md;
    st                     = add_step(b, &prim, &bufs);
    if (st != VG_OK)
        return st;
    return set_output(b, v, &dmd, dst, perm);
}

static vg_status prep_pool(builder *b, int pos, bool *fused) {
    (void)pos, (void)fused;
    const vgi_node      *n = b->n;
    const vgi_pool_attr *a = &n->attr.pool;
    int                  perm[4];
    layout_perm(a->layout, perm);
    int     x = n->in[0], v = n->out[0];
    int64_t PH = T(b, x)->shape.dims[perm[2]], PW = T(b, x)->shape.dims[perm[3]];
    int64_t extra[4];
    int     sperm[4];
    x                       = resolve_padded(b, x, perm, sperm, extra);
    const vg_shape      *xs = &T(b, x)->shape, *ys = &T(b, v)->shape;
    int64_t              H = xs->dims[sperm[2]], W = xs->dims[sperm[3]];
    int64_t              OH = ys->dims[perm[2]], OW = ys->dims[perm[3]];
    vgi_dnnl_pool_params p;
    memset(&p, 0, sizeof(p));
    bool global = n->op == VGI_OP_GLOBAL_AVG_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL;
    p.max       = n->op == VGI_OP_MAX_POOL || n->op == VGI_OP_GLOBAL_MAX_POOL;
    p.oh = OH, p.ow = OW;
    int64_t pads[4] = {0, 0, 0, 0};
    if (global) {
        p.kernel[0] = PH, p.kernel[1] = PW, p.stride[0] = p.stride[1] = 1;
    } else {
        p.kernel[0] = a->kernel[0], p.kernel[1] = a->kernel[1];
        p.stride[0] = a->strides[0], p.stride[1] = a->strides[1];
        vgi_resolve_pads(a->pad_mode, a->pads, PH, PW, a->kernel, a->strides, pads);
        p.avg_include_pad = a->count_include_pad;
    }
    p.pad_l[0] = pads[0] + extra[0], p.pad_l[1] = pads[1] + extra[1];
    p.pad_r[0] = (OH - 1) * p.stride[0] + p.kernel[0] - (H + p.pad_l[0]);
    p.pad_r[1] = (OW - 1) * p.stride[1] + p.kernel[1] - (W + p.pad_l[1]);
    if (!p.max && p.avg_include_pad &&
        (p.pad_r[0] != pads[2] + extra[2] || p.pad_r[1] != pads[3] + extra[3]))
        return vgi_err_set(b->err, VG_E_UNSUPPORTED,
                           "node '%s': average pooling counting padding with ceil mode", n->name);
    rep       in;
    vg_status st = get_rep(b, x, sperm, 4, NULL, &in);
    if (st != VG_OK)
        return st;
    p.src_md = in.md;
    dnnl_memory_desc_t dst_plain;
    st = plain_md(b, v, perm, 4, &dst_plain);
    if (st != VG_OK)
        return st;
    p.dst_md = b->seg->external[v] ? &dst_plain : NULL;
    vgi_dnnl_prim prim;
    st = vgi_dnnl_pool_create(&b->c->d, &p, &prim);
    if (p.dst_md && (st != VG_OK || vgi_dnnl_prim_is_ref(&prim))) {
        /* a plain destination only has oneDNN's slow kernel: let it pick, reorder after */
        if (st == VG_OK)
            vgi_dnnl_prim_fini(&prim);
        p.dst_md = NULL;
        st       = vgi_dnnl_pool_create(&b->c->d, &p, &prim);
    }
    if (st != VG_OK)
        return fail_dnnl(b, st);
    return emit_step(b, &prim, v, perm, &in, 1, false);
}

static vg_status prep_resize(builder *b, int pos, bool *fused) {
    (void)pos, (void)fused;
    const vgi_node *n = b->n;
    int             perm[4];
    layout_perm(n->attr.resize.layout, perm);
    int             x = n->in[0], v = n->out[0];
    const vg_shape *ys = &T(b, v)->shape;
    rep             in;
    vg_status       st = get_rep(b, x, perm, 4, NULL, &in);
    if (st != VG_OK)
        return st;
    vgi_dnnl_resample_params p;
    memset(&p, 0, sizeof(p));
    p.linear = n->attr.resize.mode == VGI_RESIZE_BILINEAR;
    p.oh = ys->dims[perm[2]], p.ow = ys->dims[perm[3]];
    p.src_md = in.md;
    dnnl_memory_desc_t dst_plain;
    st = plain_md(b, v, perm, 4, &dst_plain);
    if (st != VG_OK)
        return st;
    p.dst_md = b->seg->external[v] ? &dst_plain : NULL;
    vgi_dnnl_prim prim;
    st = vgi_dnnl_resample_create(&b->c->d, &p, &prim);
    if (p.dst_md && (st != VG_OK || vgi_dnnl_prim_is_ref(&prim))) {
        /* a plain destination only has oneDNN's slow kernel: let it pick, reorder after */
        if (st == VG_OK)
            vgi_dnnl_prim_fini(&prim);
        p.dst_md = NULL;
        st       = vgi_dnnl_resample_create(&b->c->d, &p, &prim);
    }
    if (st != VG_OK)
        return fail_dnnl(b, st);
    return emit_step(b, &prim, v, perm, &in, 1, false);
}

static vg_status prep_cbinary(builder *b);
static vg_status c_input(builder *b, int v, const void **out, size_t *bytes, size_t *es);
static vg_status prep_unary(builder *b, int pos, bool *fused, int x);

/* True when v's primary representation is a non-plain (blocked) layout made here. */
static bool is_blocked(builder *b, int v) {
    vinfo *vi = &b->vi[v];
    if (vi->view_src >= 0)
        vi = &b->vi[vi->view_src];
    return vi->produced && vi->nrep > 0 && vi->r[0].md.format_kind == dnnl_blocked &&
           vi->r[0].md.format_desc.blocking.inner_nblks > 0;
}

/* A dense descriptor in oneDNN's logical order for value v (IR shape right-aligned to
 * rank) seen through perm: the form oneDNN's binary kernels take for broadcast operands. */
static vg_status dense_md(builder *b, int v, const int *perm, int rank, dnnl_memory_desc_t *md) {
    static const dnnl_format_tag_t tags[7] = {
        dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef};
    const vg_shape *sh = &T(b, v)->shape;
    int64_t         d[VG_MAX_DIMS], dd[VG_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        d[i] = i < rank - sh->ndim ? 1 : sh->dims[i - (rank - sh->ndim)];
    for (int j = 0; j < rank; j++)
        dd[j] = d[perm[j]];
    vg_status st = vgi_dnnl_md(&b->c->d, md, rank, dd, tags[rank]);
    return st == VG_OK ? VG_OK : fail_dnnl(b, st);
}

/* x (op) s[n][c] on x's own (channel-blocked) layout: a C kernel, no reorders. */
static vg_status prep_channel(builder *b, int s0, int s1, bool swap) {
    const vgi_node *n = b->n;
    int             v = n->out[0], perm[4];
    value_perm(b, s0, 4, perm);
    rep       in;
    vg_status st = get_rep(b, s0, perm, 4, NULL, &in);
    if (st != VG_OK)
        return st;
    const dnnl_blocking_desc_t *bd = &in.md.format_desc.blocking;
    const vg_shape             *ss = &T(b, s1)->shape;
    int64_t                     sd[4];
    for (int i = 0; i < 4; i++)
        sd[i] = i < 4 - ss->ndim ? 1 : ss->dims[i - (4 - ss->ndim)];
    bool ok = in.md.format_kind == dnnl_blocked &&
              (bd->inner_nblks == 0 ||
               (bd->inner_nblks == 1 && bd->inner_idxs[0] == 1 && bd->inner_blks[0] <= 64)) &&
              sd[perm[2]] == 1 && sd[perm[3]] == 1 && (sd[perm[1]] == in.md.dims[1]) &&
              (sd[perm[0]] == 1 || sd[perm[0]] == in.md.dims[0]);
    if (!ok || (swap && n->op == VGI_OP_DIV))
        return prep_cbinary(b);
    const void *sp;
    size_t      sb, ses;
    st        = c_input(b, s1, &sp, &sb, &ses);
    void *dst = NULL;
    if (st == VG_OK)
        st = dst_storage(b, v, &in.md, perm, &in, 1, true, &dst);
    if (st != VG_OK)
        return st;
    vgi_ck k;
    memset(&k, 0, sizeof(k));
    k.kind = VGI_CK_CHANNEL;
    k.op   = n->op;
    k.swap = swap;
    k.a    = in.ptr;
    k.b    = sp;
    k.out  = dst;
    k.N = in.md.dims[0], k.C = in.md.dims[1], k.H = in.md.dims[2], k.W = in.md.dims[3];
    k.blk = bd->inner_nblks ? bd->inner_blks[0] : 1;
    for (int i = 0; i < 4; i++)
        k.st[i] = bd->strides[i];
    k.b_n = sd[perm[0]] == 1 ? 0 : k.C;
    vg_log("cpu", VG_LOG_TRACE, "node '%s': per-channel %s on [%lld,%lld,%lld,%lld] block %lld",
           n->name, vgi_op_name(n->op), (long long)k.N, (long long)k.C, (long long)k.H,
           (long long)k.W, (long long)k.blk);
    st = add_cstep(b, &k);
    return st != VG_OK ? st : set_output(b, v, &in.md, dst, perm);
}

static vg_status prep_binary(builder *b, int pos, bool *fused) {
    const vgi_node *n   = b->n;
    dnnl_alg_kind_t alg = dnnl_alg_kind_undef;
    bool            comm;
    binary_alg(n->op, &alg, &comm);
    int             v  = n->out[0];
    const vg_shape *os = &T(b, v)->shape;
    int             s0 = n->in[0], s1 = n->in[1];
    if (!vg_shape_equal(&T(b, s0)->shape, os)) {
        s0 = n->in[1];
        s1 = n->in[0];
    }
    bool first;
    if (scalar_operand(b->g, b->seg->tensors, n, s0, &first) && (n->op != VGI_OP_DIV || first) &&
        *(const float *)T(b, s1)->data != 0.f)
        return prep_unary(b, pos, fused, s0); /* x (op) constant: an eltwise op */
    bool s1_full = vg_shape_equal(&T(b, s1)->shape, os);
    /* the layout to work in: the blocked one of the full-shape operands, if any */
    int lead = s1_full && !is_blocked(b, s0) && is_blocked(b, s1) ? s1 : s0;
    int rank = os->ndim, perm[VG_MAX_DIMS];
    value_perm(b, lead, rank, perm);
    /* oneDNN 2.6's binary kernels are fast for same-shape operands; broadcasts only have
     * its reference kernel, which is far slower than plain C loops: a per-channel operand
     * on a channel-blocked tensor (squeeze-excite) runs in place in that layout, other
     * broadcasts on plain data */
    if (!s1_full && is_blocked(b, lead) && rank == 4 && n->op != VGI_OP_MAX && n->op != VGI_OP_MIN)
        return prep_channel(b, s0, s1, s0 != n->in[0]);
    if (!s1_full)
        return prep_cbinary(b);
    int           fv = v, npost = 0;
    vgi_dnnl_post post[VGI_DNNL_MAX_POST];
    memset(post, 0, sizeof(post));
    int           nf = fuse_acts(b, pos, &fv, post, &npost, fused);
    vgi_dnnl_prim prim;
    rep           in[2];
    vg_status     st = VG_OK;
    for (int att = 0; att < 2; att++) {
        /* attempt 0: lead's layout; attempt 1 (oneDNN had only its slow kernel): plain */
        dnnl_memory_desc_t want, bwant, dst_plain;
        st = plain_md(b, fv, perm, rank, &dst_plain);
        if (st != VG_OK)
            return st;
        if (att == 0) {
            st   = get_rep(b, lead, perm, rank, NULL, &in[lead == s0 ? 0 : 1]);
            want = in[lead == s0 ? 0 : 1].md;
        } else {
            want = dst_plain;
            st   = get_rep(b, lead, perm, rank, &want, &in[lead == s0 ? 0 : 1]);
        }
        if (st == VG_OK && lead != s0)
            st = get_rep(b, s0, perm, rank, &want, &in[0]);
        if (st == VG_OK && lead != s1) {
            if (s1_full)
                st = get_rep(b, s1, perm, rank, &want, &in[1]);
            else if ((st = dense_md(b, s1, perm, rank, &bwant)) == VG_OK)
                st = get_rep(b, s1, perm, rank, &bwant, &in[1]);
        }
        if (st == VG_OK && s1 == s0)
            in[1] = in[0]; /* x (op) x: both operands are the one representation */
        if (st != VG_OK)
            return st;
        vgi_dnnl_binary_params p;
        memset(&p, 0, sizeof(p));
        p.alg     = alg;
        p.src0_md = in[0].md;
        p.src1_md = in[1].md;
        p.npost   = npost;
        memcpy(p.post, post, sizeof(post));
        /* plain source: write plain; blocked: stay blocked (reordered out if external) */
        p.dst_md = md_eq(&in[0].md, &dst_plain) ? &dst_plain : NULL;
        st       = vgi_dnnl_binary_create(&b->c->d, &p, &prim);
        if (st != VG_OK)
            return fail_dnnl(b, st);
        if (!vgi_dnnl_prim_is_ref(&prim))
            break;
        vgi_dnnl_prim_fini(&prim);
        if (att == 1) { /* only the reference kernel: the C loop instead, unfused */
            for (int k = 1; k <= nf; k++)
                fused[b->seg->nodes[pos + k]] = false;
            return prep_cbinary(b);
        }
    }
    return emit_step(b, &prim, fv, perm, in, 2, true);
}

static vg_status prep_unary(builder *b, int pos, bool *fused, int x) {
    const vgi_node *n    = b->n;
    int             v    = n->out[0];
    int             rank = T(b, v)->shape.ndim;
    if (rank == 0)
        rank = 1;
    int perm[VG_MAX_DIMS];
    value_perm(b, x, rank, perm);
    rep       in;
    vg_status st = get_rep(b, x, perm, rank, NULL, &in);
    if (st != VG_OK)
        return st;
    /* the op and any activations after it, as eltwise primitive + in-place eltwise steps */
    vgi_dnnl_post post[VGI_DNNL_MAX_POST];
    int           np = 0;
    memset(post, 0, sizeof(post));
    if (!node_posts(b->g, b->seg->tensors, n, x, post, &np))
        return vgi_err_set(b->err, VG_E_INTERNAL, "node '%s': not an eltwise op", n->name);
    fuse_acts(b, pos, &v, post, &np, fused);
    void *dst = NULL;
    st        = dst_storage(b, v, &in.md, perm, &in, 1, true, &dst);
    if (st != VG_OK)
        return st;
    for (int i = 0; i < np && st == VG_OK; i++) {
        vgi_dnnl_eltwise_params ep;
        memset(&ep, 0, sizeof(ep));
        ep.act = post[i].act, ep.alpha = post[i].alpha, ep.beta = post[i].beta;
        ep.src_md = in.md;
        vgi_dnnl_prim prim;
        st = vgi_dnnl_eltwise_create(&b->c->d, &ep, &prim);
        if (st != VG_OK)
            return fail_dnnl(b, st);
        vgi_dnnl_bufs bufs;
        memset(&bufs, 0, sizeof(bufs));
        bufs.src[0] = i == 0 ? in.ptr : dst;
        bufs.dst    = dst;
        st          = add_step(b, &prim, &bufs);
    }
    return st != VG_OK ? st : set_output(b, v, &in.md, dst, perm);
}

/*
 * Is the concatenation of src[0..n) along oneDNN dim `axis` into dst a row of contiguous
 * copies? True when every descriptor is dense in the same dimension order, blocked at
 * most along the axis with one block size B, and padded along the axis only in the last
 * source (whose padding then lands in dst's). Gives the rows (the dims outside the axis)
 * and each source's bytes per row.
 */
static bool concat_by_copy(const dnnl_memory_desc_t *dst, const dnnl_memory_desc_t *src, int n,
                           int axis, int64_t *outer, size_t *chunk) {
    const dnnl_blocking_desc_t *db = &dst->format_desc.blocking;
    int                         nd = dst->ndims, ord[DNNL_MAX_NDIMS];
    if (dst->format_kind != dnnl_blocked || dst->data_type != dnnl_f32 || dst->offset0 ||
        db->inner_nblks > 1 || (db->inner_nblks == 1 && db->inner_idxs[0] != axis))
        return false;
    int64_t B = db->inner_nblks ? db->inner_blks[0] : 1;
    for (int i = 0; i < nd; i++)
        ord[i] = i;
    for (int i = 1; i < nd; i++) /* by decreasing stride, stable */
        for (int j = i; j > 0 && db->strides[ord[j]] > db->strides[ord[j - 1]]; j--) {
            int t      = ord[j];
            ord[j]     = ord[j - 1];
            ord[j - 1] = t;
        }
    int64_t cat = 0;
    for (int i = 0; i <= n; i++) {
        const dnnl_memory_desc_t   *m  = i < n ? &src[i] : dst;
        const dnnl_blocking_desc_t *mb = &m->format_desc.blocking;
        if (m->format_kind != dnnl_blocked || m->data_type != dnnl_f32 || m->offset0 ||
            m->ndims != nd || mb->inner_nblks != db->inner_nblks ||
            (B > 1 && (mb->inner_idxs[0] != axis || mb->inner_blks[0] != B)))
            return false;
        for (int k = 0; k < nd; k++)
            if (k != axis &&
                (m->padded_dims[k] != dst->padded_dims[k] || m->dims[k] != dst->dims[k]))
                return false;
        if (m->padded_dims[axis] % B)
            return false;
        int64_t s = B;
        for (int k = nd - 1; k >= 0; k--) {
            int     d = ord[k];
            int64_t e = d == axis ? m->padded_dims[d] / B : m->padded_dims[d];
            if (e > 1 && mb->strides[d] != s)
                return false;
            s *= e;
        }
        if (i < n) {
            if (i < n - 1 && m->padded_dims[axis] != m->dims[axis])
                return false;
            cat += m->padded_dims[axis];
        }
    }
    if (cat != dst->padded_dims[axis] || n > VGI_CK_MAX_SRC)
        return false;
    int q = 0;
    while (ord[q] != axis)
        q++;
    *outer = 1;
    for (int k = 0; k < q; k++)
        *outer *= dst->padded_dims[ord[k]];
    for (int i = 0; i < n; i++) {
        int64_t e = src[i].padded_dims[axis];
        for (int k = q + 1; k < nd; k++)
            e *= src[i].padded_dims[ord[k]];
        chunk[i] = (size_t)e * sizeof(float);
    }
    return true;
}

static vg_status prep_concat(builder *b, int pos, bool *fused) {
    (void)pos, (void)fused;
    const vgi_node *n    = b->n;
    int             v    = n->out[0];
    int             rank = T(b, v)->shape.ndim, perm[VG_MAX_DIMS];
    int64_t         axis = n->attr.axis.axis < 0 ? n->attr.axis.axis + rank : n->attr.axis.axis;
    for (int i = 0; i < rank; i++)
        perm[i] = i;
    for (int i = 0; i < n->n_in; i++)
        if (b->vi[n->in[i]].produced) {
            value_perm(b, n->in[i], rank, perm);
            break;
        }
    rep                in[VGI_DNNL_MAX_SRC];
    dnnl_memory_desc_t mds[VGI_DNNL_MAX_SRC];
    vg_status          st = VG_OK;
    for (int i = 0; i < n->n_in && st == VG_OK; i++) {
        st     = get_rep(b, n->in[i], perm, rank, NULL, &in[i]);
        mds[i] = in[i].md;
    }
    if (st != VG_OK)
        return st;
    int daxis = 0;
    for (int j = 0; j < rank; j++)
        if (perm[j] == axis)
            daxis = j;
    dnnl_memory_desc_t dst_plain;
    st = plain_md(b, v, perm, rank, &dst_plain);
    if (st != VG_OK)
        return st;
    vgi_dnnl_concat_params p = {.n       = n->n_in,
                                .axis    = daxis,
                                .src_mds = mds,
                                .dst_md  = b->seg->external[v] ? &dst_plain : NULL};
    vgi_dnnl_prim          prim;
    st = vgi_dnnl_concat_create(&b->c->d, &p, &prim);
    if (p.dst_md && (st != VG_OK || vgi_dnnl_prim_is_ref(&prim))) {
        if (st == VG_OK)
            vgi_dnnl_prim_fini(&prim);
        p.dst_md = NULL;
        st       = vgi_dnnl_concat_create(&b->c->d, &p, &prim);
    }
    if (st != VG_OK)
        return fail_dnnl(b, st);
    vgi_ck k;
    memset(&k, 0, sizeof(k));
    if (!concat_by_copy(&prim.dst_md, mds, n->n_in, daxis, &k.outer, k.chunk))
        return emit_step(b, &prim, v, perm, in, n->n_in, false);
    /* oneDNN 2.6's concat moves blocked data element by element: copy whole rows instead */
    dnnl_memory_desc_t dmd = prim.dst_md;
    vgi_dnnl_prim_fini(&prim);
    void *dst = NULL;
    st        = dst_storage(b, v, &dmd, perm, in, n->n_in, false, &dst);
    if (st != VG_OK)
        return st;
    k.kind    = VGI_CK_CONCAT;
    k.nsrc    = n->n_in;
    k.out     = dst;
    k.threads = b->c->d.threads;
    for (int i = 0; i < n->n_in; i++)
        k.srcs[i] = in[i].ptr;
    st = add_cstep(b, &k);
    return st != VG_OK ? st : set_output(b, v, &dmd, dst, perm);
}

/* A folded Pad: its output becomes a padded view of its input (see pad_chain). */
static vg_status prep_pad(builder *b) {
    const vgi_node *n = b->n;
    int64_t         pads[VG_MAX_DIMS][2];
    int             x = n->in[0], rank = T(b, x)->shape.ndim;
    vinfo          *vi = &b->vi[n->out[0]], *xi = &b->vi[x];
    if (vgi_pad_read(n, b->seg->tensors, pads) != VG_OK || xi->view_pad)
        return vgi_err_set(b->err, VG_E_INTERNAL, "node '%s': pad not foldable", n->name);
    vi->view_src = xi->view_src >= 0 ? xi->view_src : x;
    vi->view_pad = true;
    memset(vi->pad_b, 0, sizeof(vi->pad_b));
    memset(vi->pad_e, 0, sizeof(vi->pad_e));
    for (int i = 0; i < rank; i++) {
        vi->view_map[i]            = xi->view_src >= 0 ? xi->view_map[i] : i;
        vi->pad_b[vi->view_map[i]] = pads[i][0];
        vi->pad_e[vi->view_map[i]] = pads[i][1];
    }
    return VG_OK;
}

/*
 * True when the storage of value src (its arena buffer) stays untouched from position
 * pos until the last reader of value y in this segment: no value produced by a node in
 * between (other than that last reader, whose own output is checked against its inputs
 * when placed) has an arena buffer overlapping it.
 */
static bool view_stays_valid(builder *b, int pos, int y, int src) {
    const vgi_segment *seg  = b->seg;
    int                last = -1;
    for (int q = pos + 1; q < seg->n_nodes; q++) {
        const vgi_node *m = &b->g->nodes[seg->nodes[q]];
        for (int i = 0; i < m->n_in; i++)
            if (m->in[i] == y)
                last = q;
    }
    const vinfo *si    = &b->vi[src];
    size_t       bytes = vg_tensor_nbytes(T(b, src));
    for (int i = 0; i < si->nrep; i++)
        if (si->r[i].ptr == T(b, src)->data && vgi_dnnl_md_bytes(&si->r[i].md) > bytes)
            bytes = vgi_dnnl_md_bytes(&si->r[i].md);
    for (int q = pos + 1; q < last; q++) {
        const vgi_node *m = &b->g->nodes[seg->nodes[q]];
        for (int k = 0; k < m->n_out; k++) {
            const vg_tensor *o = T(b, m->out[k]);
            if (o->data && overlaps(o->data, vg_tensor_nbytes(o) + 64, T(b, src)->data, bytes))
                return false;
        }
    }
    return true;
}

/* Transpose: a view of its input (no copy) when safe, else a reorder into its buffer. */
static vg_status prep_transpose(builder *b, int pos) {
    const vgi_node *n = b->n;
    int             x = n->in[0], y = n->out[0], rank = T(b, y)->shape.ndim;
    vinfo          *xi = &b->vi[x], *yi = &b->vi[y];
    int             src = xi->view_src >= 0 ? xi->view_src : x;
    int             map[VG_MAX_DIMS];
    for (int i = 0; i < rank; i++) {
        int p  = (int)n->attr.transpose.perm[i];
        map[i] = xi->view_src >= 0 ? xi->view_map[p] : p;
    }
    yi->view_src = src;
    memcpy(yi->view_map, map, sizeof(map));
    yi->view_pad = xi->view_pad;
    memcpy(yi->pad_b, xi->pad_b, sizeof(yi->pad_b));
    memcpy(yi->pad_e, xi->pad_e, sizeof(yi->pad_e));
    if (yi->view_pad) /* inside a Pad chain: read by the convolution at its end */
        return VG_OK;
    if (!b->seg->external[y] && view_stays_valid(b, pos, y, src))
        return VG_OK;
    /* materialize: plain into y's own buffer */
    int id[VG_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        id[i] = i;
    rep       in;
    vg_status st = get_rep(b, y, id, rank, NULL, &in);
    if (st != VG_OK)
        return st;
    dnnl_memory_desc_t pmd;
    st = plain_md(b, y, id, rank, &pmd);
    if (st != VG_OK)
        return st;
    void *dst = T(b, y)->data;
    if (overlaps(dst, vg_tensor_nbytes(T(b, y)), in.ptr, vgi_dnnl_md_bytes(&in.md))) {
        dst = act_alloc(b, vg_tensor_nbytes(T(b, y)));
        if (!dst)
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    st = emit_reorder(b, &in.md, in.ptr, &pmd, dst);
    if (st != VG_OK)
        return st;
    yi->view_src = -1;
    return set_output(b, y, &pmd, dst, id);
}

/* ---- plain C kernels ------------------------------------------------------------------- */

/* Where a C kernel writes value v (plain): its arena buffer unless that overlaps an input
 * other than exactly (same pointer and element size, an in-place elementwise op). */
static vg_status c_dst(builder *b, int v, const void *const *ins, const size_t *in_bytes,
                       const size_t *in_esize, int n_ins, void **out) {
    void  *p     = T(b, v)->data;
    size_t bytes = vg_tensor_nbytes(T(b, v)), es = vg_dtype_size(T(b, v)->dtype);
    bool   ok = p != NULL;
    for (int i = 0; ok && i < n_ins; i++)
        if (overlaps(p, bytes, ins[i], in_bytes[i]) && !(p == ins[i] && es == in_esize[i]))
            ok = false;
    if (!ok) {
        vg_log("cpu", VG_LOG_TRACE, "value '%s': %zu bytes, %zu in the arena, external %d",
               b->g->values[v].name, bytes, vg_tensor_nbytes(T(b, v)), b->seg->external[v]);
        p = act_alloc(b, bytes);
        if (!p)
            return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    *out = p;
    return VG_OK;
}

/* Records a plain C-kernel result; copies it into the tensor's buffer when external. */
static vg_status c_output(builder *b, int v, void *ptr) {
    vinfo *vi = &b->vi[v];
    if (ptr != T(b, v)->data && b->seg->external[v]) {
        vgi_ck cp;
        memset(&cp, 0, sizeof(cp));
        cp.kind = VGI_CK_CAST;
        cp.ta = cp.to = T(b, v)->dtype == VG_DTYPE_F32 ? VG_DTYPE_F32 : VG_DTYPE_U8;
        cp.n          = (int64_t)vg_tensor_nbytes(T(b, v)) / (int64_t)vg_dtype_size(cp.ta);
        cp.a          = ptr;
        cp.out        = T(b, v)->data;
        if (T(b, v)->dtype != VG_DTYPE_F32) /* bytes: copy as uint8 through the bool path */
            cp.ta = cp.to = VG_DTYPE_U8, cp.n = (int64_t)vg_tensor_nbytes(T(b, v));
        vg_status st = add_cstep(b, &cp);
        if (st != VG_OK)
            return st;
        ptr = T(b, v)->data;
    }
    if (T(b, v)->dtype == VG_DTYPE_F32) {
        int rank = T(b, v)->shape.ndim > 0 ? T(b, v)->shape.ndim : 1, id[VG_MAX_DIMS];
        for (int i = 0; i < rank; i++)
            id[i] = i;
        dnnl_memory_desc_t pmd;
        vg_status          st = plain_md(b, v, id, rank, &pmd);
        if (st != VG_OK)
            return st;
        return set_output(b, v, &pmd, ptr, id);
    }
    vi->produced = true;
    vi->nrep     = 0;
    vi->plain    = ptr;
    return VG_OK;
}

/* Plain bytes of an input of a C kernel (any dtype). */
static vg_status c_input(builder *b, int v, const void **out, size_t *bytes, size_t *es) {
    void     *p  = NULL;
    vg_status st = VG_OK;
    if (b->vi[v].view_src >= 0) { /* a transposed view: materialize plain through get_rep */
        int rank = T(b, v)->shape.ndim, id[VG_MAX_DIMS];
        for (int i = 0; i < rank; i++)
            id[i] = i;
        dnnl_memory_desc_t pmd;
        rep                r;
        st = plain_md(b, v, id, rank, &pmd);
        if (st == VG_OK)
            st = get_rep(b, v, id, rank, &pmd, &r);
        p = r.ptr;
    } else {
        st = get_plain(b, v, &p);
    }
    *out   = p;
    *bytes = vg_tensor_nbytes(T(b, v));
    *es    = vg_dtype_size(T(b, v)->dtype);
    return st;
}

static vg_status prep_cast(builder *b) {
    const vgi_node *n = b->n;
    const void     *in;
    size_t          ib, ies;
    vg_status       st = c_input(b, n->in[0], &in, &ib, &ies);
    void           *dst;
    if (st == VG_OK)
        st = c_dst(b, n->out[0], &in, &ib, &ies, 1, &dst);
    if (st != VG_OK)
        return st;
    vgi_ck k;
    memset(&k, 0, sizeof(k));
    k.kind = VGI_CK_CAST;
    k.a    = in;
    k.out  = dst;
    k.ta   = T(b, n->in[0])->dtype;
    k.to   = T(b, n->out[0])->dtype;
    k.n    = vg_shape_numel(&T(b, n->out[0])->shape);
    st     = add_cstep(b, &k);
    return st != VG_OK ? st : c_output(b, n->out[0], dst);
}

static vg_status prep_topk(builder *b) {
    const vgi_node *n = b->n;
    const void     *in;
    size_t          ib, ies;
    vg_status       st = c_input(b, n->in[0], &in, &ib, &ies);
    void           *dv, *di;
    if (st == VG_OK)
        st = c_dst(b, n->out[0], &in, &ib, &ies, 1, &dv);
    if (st == VG_OK)
        st = c_dst(b, n->out[1], &in, &ib, &ies, 1, &di);
    if (st != VG_OK)
        return st;
    const vg_shape *xs = &T(b, n->in[0])->shape;
    int             r  = xs->ndim;
    int             ax = (int)(n->attr.topk.axis < 0 ? n->attr.topk.axis + r : n->attr.topk.axis);
    vgi_ck          k;
    memset(&k, 0, sizeof(k));
    k.kind    = VGI_CK_TOPK;
    k.a       = in;
    k.out     = dv;
    k.out2    = di;
    k.to      = T(b, n->out[1])->dtype;
    k.largest = n->attr.topk.largest;
    k.outer = k.inner = 1;
    for (int i = 0; i < ax; i++)
        k.outer *= xs->dims[i];
    for (int i = ax + 1; i < r; i++)
        k.inner *= xs->dims[i];
    k.A = xs->dims[ax];
    k.K = T(b, n->out[0])->shape.dims[ax];
    st  = add_cstep(b, &k);
    if (st == VG_OK)
        st = c_output(b, n->out[0], dv);
    return st != VG_OK ? st : c_output(b, n->out[1], di);
}

static vg_status prep_cbinary(builder *b) {
    const vgi_node *n = b->n;
    const void     *in[2];
    size_t          ib[2], ies[2];
    vg_status       st = c_input(b, n->in[0], &in[0], &ib[0], &ies[0]);
    if (st == VG_OK)
        st = c_input(b, n->in[1], &in[1], &ib[1], &ies[1]);
    void *dst = NULL;
    if (st == VG_OK)
        st = c_dst(b, n->out[0], in, ib, ies, 2, &dst);
    if (st != VG_OK)
        return st;
    vgi_ck k;
    memset(&k, 0, sizeof(k));
    k.kind = VGI_CK_BINARY;
    k.op   = n->op;
    k.a    = in[0];
    k.b    = in[1];
    k.out  = dst;
    k.ta = k.tb = T(b, n->in[0])->dtype;
    k.to        = T(b, n->out[0])->dtype;
    vgi_ck_binary_init(&k, &T(b, n->in[0])->shape, &T(b, n->in[1])->shape, &T(b, n->out[0])->shape);
    st = add_cstep(b, &k);
    return st != VG_OK ? st : c_output(b, n->out[0], dst);
}

/* Input coordinate of output index o (scale = in / out), as the ref kernel defines it. */

/* Lower/upper index and upper weight for each of `out` positions (tables in owned memory). */
static vg_status resize_table(builder *b, vgi_resize_coord m, int64_t in, int64_t out,
                              const int64_t **lo, const int64_t **hi, const float **w) {
    int64_t *l  = own_alloc(b, (size_t)out * sizeof(int64_t));
    int64_t *h  = own_alloc(b, (size_t)out * sizeof(int64_t));
    float   *wt = own_alloc(b, (size_t)out * sizeof(float));
    if (!l || !h || !wt)
        return vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    for (int64_t o = 0; o < out; o++) {
        double  f  = vgi_resize_src(m, o, in, out, (double)in / (double)out);
        int64_t i0 = (int64_t)floor(f), i1 = (int64_t)ceil(f);
        i0   = i0 < 0 ? 0 : i0 > in - 1 ? in - 1 : i0;
        i1   = i1 < 0 ? 0 : i1 > in - 1 ? in - 1 : i1;
        l[o] = i0, h[o] = i1, wt[o] = (float)(f - (double)i0);
    }
    *lo = l, *hi = h, *w = wt;
    return VG_OK;
}

static vg_status prep_resize_c(builder *b) {
    const vgi_node        *n = b->n;
    const vgi_resize_attr *a = &n->attr.resize;
    int                    perm[4];
    layout_perm(a->layout, perm);
    const vg_shape *xs = &T(b, n->in[0])->shape, *ys = &T(b, n->out[0])->shape;
    const void     *in;
    size_t          ib, ies;
    vg_status       st = c_input(b, n->in[0], &in, &ib, &ies);
    void           *dst;
    if (st == VG_OK)
        st = c_dst(b, n->out[0], &in, &ib, &ies, 0, &dst); /* never in place */
    if (st == VG_OK && overlaps(dst, vg_tensor_nbytes(T(b, n->out[0])), in, ib)) {
        dst = act_alloc(b, vg_tensor_nbytes(T(b, n->out[0])));
        st  = dst ? VG_OK : vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    if (st != VG_OK)
        return st;
    vgi_ck k;
    memset(&k, 0, sizeof(k));
    k.kind = VGI_CK_RESIZE;
    k.a    = in;
    k.out  = dst;
    k.nhwc = a->layout == VGI_LAYOUT_NHWC;
    k.N = xs->dims[0], k.C = xs->dims[perm[1]], k.H = xs->dims[perm[2]], k.W = xs->dims[perm[3]];
    k.OH = ys->dims[perm[2]], k.OW = ys->dims[perm[3]];
    st = resize_table(b, a->coord, k.H, k.OH, &k.y0, &k.y1, &k.wy);
    if (st == VG_OK)
        st = resize_table(b, a->coord, k.W, k.OW, &k.x0, &k.x1, &k.wx);
    if (st == VG_OK)
        st = add_cstep(b, &k);
    return st != VG_OK ? st : c_output(b, n->out[0], dst);
}

static vg_status prep_reduce(builder *b) {
    const vgi_node *n = b->n;
    int             x = n->in[0], v = n->out[0];
    int             perm[4];
    bool            mask[VG_MAX_DIMS];
    vg_status       st = vgi_reduce_axes(n, b->seg->tensors, mask);
    if (st != VG_OK)
        return vgi_err_set(b->err, st, "node '%s': reduction axes", n->name);
    /* oneDNN dims 2, 3 must be the reduced axes: keep the input's layout if it already is */
    value_perm(b, x, 4, perm);
    if (!mask[perm[2]] || !mask[perm[3]]) {
        int k = 0, r = 2;
        for (int i = 0; i < 4; i++)
            perm[mask[i] ? r++ : k++] = i;
    }
    rep in;
    st = get_rep(b, x, perm, 4, NULL, &in);
    if (st != VG_OK)
        return st;
    vgi_dnnl_pool_params p;
    memset(&p, 0, sizeof(p));
    p.max = n->op == VGI_OP_REDUCE_MAX;
    p.oh = p.ow = 1;
    p.kernel[0] = in.md.dims[2], p.kernel[1] = in.md.dims[3];
    p.stride[0] = p.stride[1]    = 1;
    p.src_md                     = in.md;
    bool               keep      = T(b, v)->shape.ndim == 4;
    bool               plain_out = !keep || b->seg->external[v];
    dnnl_memory_desc_t dmd;
    if (plain_out) { /* the output's plain bytes (keepdims or not, the same order) */
        int64_t     kd[4], s4[4];
        dnnl_dims_t dd, ss;
        for (int i = 0; i < 4; i++)
            kd[i] = mask[i] ? 1 : T(b, x)->shape.dims[i];
        s4[3] = 1;
        for (int i = 2; i >= 0; i--)
            s4[i] = s4[i + 1] * kd[i + 1];
        for (int j = 0; j < 4; j++)
            dd[j] = kd[perm[j]], ss[j] = s4[perm[j]];
        st = vgi_dnnl_check(&b->c->d, dnnl_memory_desc_init_by_strides(&dmd, 4, dd, dnnl_f32, ss),
                            "reduction dst");
        if (st != VG_OK)
            return fail_dnnl(b, st);
        p.dst_md = &dmd;
    }
    vgi_dnnl_prim prim;
    st = vgi_dnnl_pool_create(&b->c->d, &p, &prim);
    if (st != VG_OK)
        return fail_dnnl(b, st);
    void *dst = NULL;
    if (plain_out) {
        dst = T(b, v)->data;
        if (overlaps(dst, vg_tensor_nbytes(T(b, v)), in.ptr, vgi_dnnl_md_bytes(&in.md)))
            dst = NULL;
    } else {
        st = dst_storage(b, v, &prim.dst_md, perm, &in, 1, false, &dst);
    }
    if (st == VG_OK && !dst) {
        dst = act_alloc(b, vgi_dnnl_md_bytes(&prim.dst_md));
        st  = dst ? VG_OK : vgi_err_set(b->err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    if (st != VG_OK) {
        vgi_dnnl_prim_fini(&prim);
        return st;
    }
    vgi_dnnl_bufs bufs;
    memset(&bufs, 0, sizeof(bufs));
    bufs.src[0]               = in.ptr;
    bufs.dst                  = dst;
    dnnl_memory_desc_t out_md = prim.dst_md;
    st                        = add_step(b, &prim, &bufs);
    if (st != VG_OK)
        return st;
    if (plain_out)
        return c_output(b, v, dst);
    return set_output(b, v, &out_md, dst, perm);
}

/* ---- vtable --------------------------------------------------------------------------- */

/* ---- the activation pool --------------------------------------------------------------- */

/* The pointer fields of step st that may point into activation memory. */
static int step_ptrs(step *st, void **f[]) {
    int n = 0;
    if (st->is_wino) {
        f[n++] = (void **)&st->wk.src;
        f[n++] = (void **)&st->wk.res;
        f[n++] = (void **)&st->wk.dst;
        return n;
    }
    if (st->is_c) {
        f[n++] = (void **)&st->ck.a;
        f[n++] = (void **)&st->ck.b;
        f[n++] = &st->ck.out;
        f[n++] = &st->ck.out2;
        for (int i = 0; i < st->ck.nsrc; i++)
            f[n++] = (void **)&st->ck.srcs[i];
        return n;
    }
    for (int i = 0; i < VGI_DNNL_MAX_SRC; i++)
        f[n++] = (void **)&st->bufs.src[i];
    f[n++] = &st->bufs.dst;
    f[n++] = (void **)&st->bufs.wei;
    f[n++] = (void **)&st->bufs.bias;
    for (int i = 0; i < VGI_DNNL_MAX_POST; i++)
        f[n++] = (void **)&st->bufs.post[i];
    return n;
}

#define STEP_PTRS_MAX (VGI_DNNL_MAX_SRC + VGI_DNNL_MAX_POST + VGI_CK_MAX_SRC + 4)

static act_buf *act_of(seg_state *s, const void *p) {
    for (int i = 0; p && i < s->n_acts; i++)
        if ((const char *)p >= s->acts[i].tmp && (const char *)p < s->acts[i].tmp + s->acts[i].size)
            return &s->acts[i];
    return NULL;
}

static int act_cmp(const void *x, const void *y) {
    const act_buf *a = *(act_buf *const *)x, *b = *(act_buf *const *)y;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    return a->first - b->first;
}

/*
 * Places the segment's activation buffers in one pool, the way the engine places values
 * in its arena: a buffer lives from the first to the last step that touches it, buffers
 * whose lifetimes are disjoint share bytes, largest first at the lowest offset that
 * conflicts with no live neighbour. Then rebinds every step pointer into the pool and
 * frees the placeholders. Steps run in order, so this is exact for segment_run() and
 * run_node() alike.
 */
static vg_status pool_acts(seg_state *s, vgi_err *err) {
    if (s->n_acts == 0)
        return VG_OK;
    void **f[STEP_PTRS_MAX];
    for (int i = 0; i < s->n_steps; i++) {
        int n = step_ptrs(&s->steps[i], f);
        for (int k = 0; k < n; k++) {
            act_buf *a = act_of(s, *f[k]);
            if (!a)
                continue;
            if (a->first < 0)
                a->first = i;
            a->last = i;
        }
    }
    act_buf **order = vg_malloc((size_t)s->n_acts * sizeof(*order));
    act_buf **live  = vg_malloc((size_t)s->n_acts * sizeof(*live));
    if (!order || !live) {
        vg_free(order);
        vg_free(live);
        return vgi_err_set(err, VG_E_NOMEM, "cpu backend: out of memory (activation pool)");
    }
    for (int i = 0; i < s->n_acts; i++) {
        order[i] = &s->acts[i];
        if (order[i]->first < 0) /* never used by a step: occupies nothing that matters */
            order[i]->first = order[i]->last = 0;
    }
    qsort(order, (size_t)s->n_acts, sizeof(*order), act_cmp);
    size_t total = 0;
    for (int i = 0; i < s->n_acts; i++) {
        act_buf *a  = order[i];
        int      nl = 0;
        for (int j = 0; j < i; j++)
            if (order[j]->first <= a->last && a->first <= order[j]->last)
                live[nl++] = order[j];
        size_t off = 0;
        for (bool moved = true; moved;) { /* lowest offset clear of every live neighbour */
            moved = false;
            for (int j = 0; j < nl; j++)
                if (off < live[j]->off + live[j]->size && live[j]->off < off + a->size) {
                    off   = live[j]->off + live[j]->size;
                    moved = true;
                }
        }
        a->off = off;
        if (off + a->size > total)
            total = off + a->size;
    }
    vg_free(order);
    vg_free(live);
    s->pool = vg_aligned_alloc(64, total);
    if (!s->pool)
        return vgi_err_set(err, VG_E_NOMEM,
                           "cpu backend: out of memory (activation pool, %zu bytes)", total);
    memset(s->pool, 0, total);
    s->pool_bytes = total;
    for (int i = 0; i < s->n_steps; i++) {
        int n = step_ptrs(&s->steps[i], f);
        for (int k = 0; k < n; k++) {
            act_buf *a = act_of(s, *f[k]);
            if (a)
                *f[k] = (char *)s->pool + a->off + ((char *)*f[k] - a->tmp);
        }
    }
    for (int i = 0; i < s->n_acts; i++) {
        vg_aligned_free(s->acts[i].tmp);
        s->acts[i].tmp = NULL;
    }
    s->n_acts = 0;
    return VG_OK;
}

static void cpu_segment_release(void *ctx, void *state) {
    (void)ctx;
    seg_state *s = state;
    if (!s)
        return;
    for (int i = 0; i < s->n_steps; i++)
        vgi_dnnl_prim_fini(&s->steps[i].prim);
    for (int i = 0; i < s->n_own; i++)
        vg_aligned_free(s->own[i]);
    for (int i = 0; i < s->n_acts; i++)
        vg_aligned_free(s->acts[i].tmp);
    vg_aligned_free(s->pool);
    vg_aligned_free(s->scratch);
    vg_free(s->acts);
    vg_free(s->own);
    vg_free(s->steps);
    vg_free(s->first);
    vg_free(s->count);
    vg_free(s);
}

static vg_status cpu_segment_prepare(void *ctx, const vgi_segment *seg, void **state,
                                     vgi_err *err) {
    cpu_ctx   *c     = ctx;
    seg_state *s     = vg_calloc(1, sizeof(*s));
    vinfo     *vi    = vg_calloc((size_t)seg->g->n_values, sizeof(*vi));
    bool      *fused = vg_calloc((size_t)seg->g->n_nodes, sizeof(bool));
    *state           = NULL;
    if (!s || !vi || !fused || !(s->first = vg_calloc((size_t)seg->g->n_nodes, sizeof(int))) ||
        !(s->count = vg_calloc((size_t)seg->g->n_nodes, sizeof(int)))) {
        vg_free(vi);
        vg_free(fused);
        cpu_segment_release(ctx, s);
        return vgi_err_set(err, VG_E_NOMEM, "cpu backend: out of memory");
    }
    for (int v = 0; v < seg->g->n_values; v++)
        vi[v].view_src = -1;
    builder b = {.c = c, .seg = seg, .g = seg->g, .s = s, .vi = vi, .err = err};
    vgi_dnnl_enter(&c->d);
    vg_status st = VG_OK;
    for (int pos = 0; pos < seg->n_nodes && st == VG_OK; pos++) {
        int id = seg->nodes[pos];
        if (fused[id])
            continue;
        b.n = &seg->g->nodes[id];
        switch (b.n->op) {
        case VGI_OP_CONV:
            st = prep_conv(&b, pos, fused);
            break;
        case VGI_OP_MAX_POOL:
        case VGI_OP_AVG_POOL:
        case VGI_OP_GLOBAL_AVG_POOL:
        case VGI_OP_GLOBAL_MAX_POOL:
            st = prep_pool(&b, pos, fused);
            break;
        case VGI_OP_RESIZE:
            st =
                resize_on_dnnl(b.n, seg->tensors) ? prep_resize(&b, pos, fused) : prep_resize_c(&b);
            break;
        case VGI_OP_CAST:
            st = prep_cast(&b);
            break;
        case VGI_OP_POW:
            st = prep_unary(&b, pos, fused, b.n->in[0]);
            break;
        case VGI_OP_TOPK:
            st = prep_topk(&b);
            break;
        case VGI_OP_EQUAL:
        case VGI_OP_NOT_EQUAL:
        case VGI_OP_LESS:
        case VGI_OP_LESS_EQUAL:
        case VGI_OP_GREATER:
        case VGI_OP_GREATER_EQUAL:
        case VGI_OP_SQUARED_DIFF:
        case VGI_OP_LOGICAL_AND:
        case VGI_OP_LOGICAL_OR:
            st = prep_cbinary(&b);
            break;
        case VGI_OP_REDUCE_MEAN:
        case VGI_OP_REDUCE_MAX:
            st = prep_reduce(&b);
            break;
        case VGI_OP_ADD:
        case VGI_OP_SUB:
        case VGI_OP_MUL:
        case VGI_OP_DIV:
        case VGI_OP_MAX:
        case VGI_OP_MIN:
            st = prep_binary(&b, pos, fused);
            break;
        case VGI_OP_CONCAT:
            st = prep_concat(&b, pos, fused);
            break;
        case VGI_OP_PAD:
            st = prep_pad(&b);
            break;
        case VGI_OP_TRANSPOSE:
            st = prep_transpose(&b, pos);
            break;
        default:
            st = prep_unary(&b, pos, fused, b.n->in[0]);
            break;
        }
    }
    if (st == VG_OK)
        st = pool_acts(s, err);
    if (st == VG_OK && s->scratch_bytes > 0) {
        s->scratch = vg_aligned_alloc(64, s->scratch_bytes);
        if (!s->scratch)
            st = vgi_err_set(err, VG_E_NOMEM, "cpu backend: out of memory (scratchpad)");
        for (int i = 0; st == VG_OK && i < s->n_steps; i++) {
            s->steps[i].bufs.scratch = s->scratch;
            s->steps[i].wk.scratch   = s->scratch;
        }
    }
    vg_free(vi);
    vg_free(fused);
    if (st != VG_OK) {
        cpu_segment_release(ctx, s);
        return st;
    }
    vg_log("cpu", VG_LOG_DEBUG,
           "segment %d: %d nodes, %d steps, %.1f MB owned, weights: %d packed here (%.1f MB), "
           "%d shared with other plans, %.1f MB of activation buffers pooled into %.1f MB, "
           "%.1f MB scratchpad",
           seg->index, seg->n_nodes, s->n_steps, (double)s->own_bytes / 1048576.0, s->n_packed,
           (double)s->weight_bytes / 1048576.0, s->n_shared, (double)s->act_bytes / 1048576.0,
           (double)s->pool_bytes / 1048576.0, (double)s->scratch_bytes / 1048576.0);
    *state = s;
    return VG_OK;
}

static vg_status run_steps(cpu_ctx *c, seg_state *s, const vgi_segment *seg, int first, int count,
                           vgi_err *err) {
    for (int i = first; i < first + count; i++) {
        step *st = &s->steps[i];
        if (st->is_c) {
            vgi_ck_run(&st->ck);
            continue;
        }
        if (st->is_wino) {
            vgi_wino_run(&st->wk);
            continue;
        }
        vg_status r = vgi_dnnl_prim_exec(&c->d, &st->prim, &st->bufs);
        if (r != VG_OK)
            return vgi_err_set(err, r, "cpu backend, node '%s': %s", seg->g->nodes[st->node].name,
                               c->d.err);
    }
    return VG_OK;
}

static vg_status cpu_run_node(void *ctx, void *state, const vgi_segment *seg, int node_id,
                              vgi_err *err) {
    cpu_ctx   *c = ctx;
    seg_state *s = state;
    if (s->count[node_id] == 0)
        return VG_OK; /* folded into another node, or a view */
    vgi_dnnl_enter(&c->d);
    return run_steps(c, s, seg, s->first[node_id], s->count[node_id], err);
}

static vg_status cpu_segment_run(void *ctx, void *state, const vgi_segment *seg, vgi_err *err) {
    cpu_ctx *c = ctx;
    vgi_dnnl_enter(&c->d);
    return run_steps(c, state, seg, 0, ((seg_state *)state)->n_steps, err);
}

static void cpu_destroy(void *ctx) {
    cpu_ctx *c = ctx;
    if (!c)
        return;
    for (int i = 0; i < c->n_pw; i++)
        vg_aligned_free(c->pw[i].data);
    vg_free(c->pw);
    vgi_dnnl_fini(&c->d);
    vg_free(c);
}

static const vgi_backend_iface cpu_iface = {
    .name            = "cpu",
    .supports_node   = cpu_supports_node,
    .segment_prepare = cpu_segment_prepare,
    .segment_run     = cpu_segment_run, /* the engine uses run_node when profiling */
    .run_node        = cpu_run_node,
    .segment_release = cpu_segment_release,
    .destroy         = cpu_destroy,
};

vg_status vgi_cpu_dnnl_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err) {
    memset(out, 0, sizeof(*out));
    cpu_ctx *c = vg_calloc(1, sizeof(*c));
    if (!c)
        return vgi_err_set(err, VG_E_NOMEM, "cpu backend: out of memory");
    vgi_dnnl_params p = vgi_dnnl_params_default();
    p.threads         = dev ? dev->n_threads : 0;
    if (dev)
        p.cpus = dev->cpus;
    vg_status st = vgi_dnnl_init(&c->d, &p);
    if (st != VG_OK) {
        st = vgi_err_set(err, st, "cpu backend on '%s': %s", dev ? dev->name : "cpu", c->d.err);
        vg_free(c);
        return st;
    }
    const char *wv = getenv("VIGIL_CPU_WINOGRAD");
    __builtin_cpu_init(); /* wino.c is AVX2 + FMA code */
    c->wino = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              !(wv && !strcmp(wv, "0"));
    out->iface = &cpu_iface;
    out->ctx   = c;
    return VG_OK;
}
