/*
 * plan.c - execution plans: scheduling (node -> backend), segments, the
 * static memory plan and the executor.
 *
 * DESIGN
 * A plan belongs to one session and one set of input shapes; it is built
 * once (the only place that allocates) and then run any number of times
 * without allocating.
 *
 * Building, in passes:
 *  1. Shapes: vgi_propagate() infers every value's shape for these inputs
 *     and evaluates what is computable from shapes alone (plan-time values).
 *  2. Nodes that still need run-time data are executed, in graph order.
 *     View nodes (reshape, squeeze, unsqueeze, flatten, identity) are elided:
 *     their output aliases their input's buffer.
 *  3. Each remaining node goes to the first backend of the chain
 *     preferred -> fallback -> ref whose supports_node() says yes (node by
 *     node fallback; the fallback is the cpu backend in GPU sessions and
 *     absent otherwise). Consecutive nodes on the same backend form a
 *     segment, so a value that crosses backends is external (plain layout,
 *     in the arena) and the backends' segment code does the copies.
 *  4. A value is `external` when it crosses a segment boundary, is a graph
 *     input/output, or is constant; it is then kept in plain layout.
 *  5. Memory: every run-time value (and graph input) gets a slot in one
 *     host arena (from the preferred backend's host_alloc when it has one,
 *     e.g. page-locked memory for asynchronous GPU copies; in a CPU session,
 *     one block shared by the session's plans, see vgi_arena); slots are
 *     reused between values whose lifetimes (first definition .. last use,
 *     in execution steps) do not overlap; aliases
 *     share their root's slot, whose lifetime covers all of them. Placement
 *     is greedy by size (largest first, lowest non-conflicting offset).
 *  6. Each segment is handed to its backend's segment_prepare() with the
 *     final pointers.
 * Running copies the inputs into their slots and runs the segments in order.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"

#define ARENA_ALIGN 64

typedef struct plan_seg {
    vgi_backend *be;
    vgi_segment  seg;
    void        *state;
    bool         prepared;
} plan_seg;

struct vgi_plan {
    const vgi_graph *g;
    vg_shape        *in_shapes;
    vg_tensor       *tensors;  /* per value */
    void           **owned;    /* per value: plan-time computed data */
    bool            *external; /* per value */
    int             *exec;     /* node ids run at run time (not elided), in order */
    int              n_exec;
    plan_seg        *segs;
    int              n_segs;
    unsigned char   *arena;
    size_t           arena_bytes;
    vgi_backend     *arena_be;     /* backend whose host_alloc made the arena, or NULL */
    bool             arena_shared; /* the arena is a vgi_arena's block: not ours to free */
    bool             profile;
    int64_t         *prof_ns; /* per exec entry */
    const char     **prof_be; /* per exec entry */
    int              n_pref, n_fb, n_ref;
    int              n_values; /* g->n_values at creation */
};

typedef struct slot {
    int    root;
    size_t size;
    int    first, last; /* steps */
    size_t offset;
} slot;

static int slot_cmp(const void *a, const void *b) {
    const slot *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->root - y->root;
}

static int find_root(const int *alias, int v) {
    while (alias[v] != v)
        v = alias[v];
    return v;
}

void vgi_plan_destroy(vgi_plan *p) {
    if (!p)
        return;
    for (int s = 0; s < p->n_segs; s++) {
        plan_seg *ps = &p->segs[s];
        if (ps->prepared && ps->be->iface->segment_release)
            ps->be->iface->segment_release(ps->be->ctx, ps->state);
        vg_free((void *)ps->seg.nodes);
    }
    if (p->owned)
        for (int v = 0; v < p->n_values; v++)
            vg_free(p->owned[v]);
    vg_free(p->owned);
    vg_free(p->segs);
    vg_free(p->tensors);
    vg_free(p->external);
    vg_free(p->exec);
    vg_free(p->in_shapes);
    vg_free(p->prof_ns);
    vg_free(p->prof_be);
    if (p->arena_shared) /* the session's */
        p->arena = NULL;
    else if (p->arena_be)
        p->arena_be->iface->host_free(p->arena_be->ctx, p->arena);
    else
        vg_aligned_free(p->arena);
    vg_free(p);
}

void vgi_arena_free(vgi_arena *a) {
    if (a->be)
        a->be->iface->host_free(a->be->ctx, a->ptr);
    else
        vg_aligned_free(a->ptr);
    a->ptr = NULL;
    a->cap = 0;
    a->be  = NULL;
}

/* A block of at least `bytes` from the shared arena a: the current one, or (after
 * a->grow() has destroyed the plans using it) a larger one from host_be. */
static unsigned char *arena_take(vgi_arena *a, size_t bytes, vgi_backend *host_be) {
    if (a->ptr && a->cap >= bytes && a->be == host_be)
        return a->ptr;
    if (a->ptr) {
        if (a->grow)
            a->grow(a->user);
        vgi_arena_free(a);
    }
    a->ptr = host_be ? host_be->iface->host_alloc(host_be->ctx, bytes)
                     : vg_aligned_alloc(ARENA_ALIGN, bytes);
    if (!a->ptr)
        return NULL;
    a->cap = bytes;
    a->be  = host_be;
    return a->ptr;
}

bool vgi_plan_matches(const vgi_plan *p, const vg_shape *input_shapes) {
    for (int i = 0; i < p->g->n_inputs; i++)
        if (!vg_shape_equal(&p->in_shapes[i], &input_shapes[i]))
            return false;
    return true;
}

static vg_status plan_memory(vgi_plan *p, const bool *is_run, const int *step_of_node, int *alias,
                             vgi_backend *host_be, vgi_arena *shared, vgi_err *err) {
    const vgi_graph *g  = p->g;
    int              nv = g->n_values;
    /* Arena values: graph inputs and outputs of executed or elided nodes. */
    int  *first   = vg_malloc((size_t)nv * sizeof(int));
    int  *last    = vg_malloc((size_t)nv * sizeof(int));
    slot *slots   = vg_calloc((size_t)nv, sizeof(slot));
    int   n_slots = 0;
    if (!first || !last || !slots) {
        vg_free(first);
        vg_free(last);
        vg_free(slots);
        return VG_E_NOMEM;
    }
    for (int v = 0; v < nv; v++) {
        first[v] = last[v] = -2; /* -2: not in the arena */
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i].value;
        if (!p->tensors[v].data)
            first[v] = last[v] = -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (!is_run[i])
            continue;
        const vgi_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_out; k++)
            first[n->out[k]] = last[n->out[k]] = step_of_node[i];
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (!is_run[i])
            continue;
        const vgi_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v >= 0 && first[v] != -2 && step_of_node[i] > last[v])
                last[v] = step_of_node[i];
        }
    }
    int end = p->n_exec + 1;
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i].value;
        if (first[v] != -2)
            last[v] = end;
    }
    /* Merge alias classes into their roots. */
    for (int v = 0; v < nv; v++) {
        if (first[v] == -2)
            continue;
        int r = find_root(alias, v);
        if (r == v)
            continue;
        if (first[v] < first[r])
            first[r] = first[v];
        if (last[v] > last[r])
            last[r] = last[v];
    }
    for (int v = 0; v < nv; v++) {
        if (first[v] == -2 || find_root(alias, v) != v)
            continue;
        size_t sz = vg_tensor_nbytes(&p->tensors[v]);
        sz        = (sz + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
        if (!sz)
            sz = ARENA_ALIGN;
        slots[n_slots++] = (slot){v, sz, first[v], last[v], 0};
    }
    qsort(slots, (size_t)n_slots, sizeof(slot), slot_cmp);
    size_t total = 0;
    for (int s = 0; s < n_slots; s++) {
        /* Lowest offset that does not overlap a placed, time-overlapping slot. */
        size_t off = 0;
        bool   moved;
        do {
            moved = false;
            for (int q = 0; q < s; q++) {
                if (slots[q].last < slots[s].first || slots[s].last < slots[q].first)
                    continue;
                if (off < slots[q].offset + slots[q].size &&
                    slots[q].offset < off + slots[s].size) {
                    off   = slots[q].offset + slots[q].size;
                    moved = true;
                }
            }
        } while (moved);
        slots[s].offset = off;
        if (off + slots[s].size > total)
            total = off + slots[s].size;
    }
    p->arena_bytes = total;
    vg_status st   = VG_OK;
    if (total && shared) {
        p->arena = arena_take(shared, total, host_be);
        if (p->arena)
            p->arena_shared = true;
        else
            st = vgi_err_set(err, VG_E_NOMEM, "cannot allocate a %zu-byte activation arena", total);
    } else if (total && host_be) {
        p->arena = host_be->iface->host_alloc(host_be->ctx, total);
        if (p->arena)
            p->arena_be = host_be;
        else
            st = vgi_err_set(err, VG_E_NOMEM, "%s: cannot allocate a %zu-byte host arena",
                             host_be->iface->name, total);
    } else if (total) {
        p->arena = vg_aligned_alloc(ARENA_ALIGN, total);
        if (!p->arena)
            st = vgi_err_set(err, VG_E_NOMEM, "cannot allocate a %zu-byte activation arena", total);
    }
    if (!st) {
        int *slot_of = first; /* reuse: root -> slot offset index */
        for (int s = 0; s < n_slots; s++)
            p->tensors[slots[s].root].data = p->arena + slots[s].offset;
        (void)slot_of;
        for (int v = 0; v < nv; v++)
            if (last[v] != -2 && find_root(alias, v) != v)
                p->tensors[v].data = p->tensors[find_root(alias, v)].data;
    }
    vg_free(first);
    vg_free(last);
    vg_free(slots);
    return st;
}

vg_status vgi_plan_create(const vgi_graph *g, const vg_shape *input_shapes, vgi_backend *pref,
                          vgi_backend *ref, bool profile, vgi_plan **out, vgi_err *err) {
    return vgi_plan_create_chain(g, input_shapes, pref, NULL, ref, profile, NULL, out, err);
}

vg_status vgi_plan_create_chain(const vgi_graph *g, const vg_shape *input_shapes, vgi_backend *pref,
                                vgi_backend *fb, vgi_backend *ref, bool profile, vgi_arena *shared,
                                vgi_plan **out, vgi_err *err) {
    *out        = NULL;
    vgi_plan *p = vg_calloc(1, sizeof(vgi_plan));
    if (!p)
        return VG_E_NOMEM;
    int       nv = g->n_values, nn = g->n_nodes;
    vg_status st     = VG_OK;
    bool     *is_run = NULL;
    int      *step = NULL, *alias = NULL, *seg_of = NULL, *be_of = NULL;
    p->g         = g;
    p->n_values  = nv;
    p->profile   = profile;
    p->tensors   = vg_calloc((size_t)(nv ? nv : 1), sizeof(vg_tensor));
    p->owned     = vg_calloc((size_t)(nv ? nv : 1), sizeof(void *));
    p->external  = vg_calloc((size_t)(nv ? nv : 1), sizeof(bool));
    p->exec      = vg_malloc((size_t)(nn ? nn : 1) * sizeof(int));
    p->in_shapes = vg_malloc((size_t)(g->n_inputs ? g->n_inputs : 1) * sizeof(vg_shape));
    is_run       = vg_calloc((size_t)(nn ? nn : 1), sizeof(bool));
    step         = vg_calloc((size_t)(nn ? nn : 1), sizeof(int));
    alias        = vg_malloc((size_t)(nv ? nv : 1) * sizeof(int));
    seg_of       = vg_malloc((size_t)(nn ? nn : 1) * sizeof(int));
    be_of        = vg_malloc((size_t)(nn ? nn : 1) * sizeof(int));
    if (!p->tensors || !p->owned || !p->external || !p->exec || !p->in_shapes || !is_run || !step ||
        !alias || !seg_of || !be_of) {
        st = VG_E_NOMEM;
        goto fail;
    }
    memcpy(p->in_shapes, input_shapes, (size_t)g->n_inputs * sizeof(vg_shape));

    /* Pass 1: shapes and plan-time values. */
    vgi_vals_init(g, p->tensors, input_shapes);
    st = vgi_propagate(g, p->tensors, p->owned, false, err);
    if (st)
        goto fail;

    /* Pass 2: what runs; view nodes alias their input. */
    for (int v = 0; v < nv; v++)
        alias[v] = v;
    for (int i = 0; i < nn; i++) {
        const vgi_node *n = &g->nodes[i];
        seg_of[i]         = -1;
        be_of[i]          = -1;
        bool known        = true;
        for (int k = 0; k < n->n_out; k++)
            if (!p->tensors[n->out[k]].data)
                known = false;
        if (known)
            continue;
        is_run[i] = true;
        if ((vgi_op_get(n->op)->flags & VGI_OPF_VIEW) && !p->tensors[n->in[0]].data) {
            alias[n->out[0]] = n->in[0];
            step[i]          = p->n_exec; /* elided: uses happen at the next executed step */
            continue;
        }
        step[i]              = p->n_exec + 1;
        p->exec[p->n_exec++] = i;
    }
    /* An elided view's step: its input must live until the alias's last use,
     * which alias merging takes care of; give it the step of the consumer side. */

    /* Pass 3: backend assignment (chain pref -> fb -> ref) and segments. */
    if (fb == pref || fb == ref)
        fb = NULL;
    vgi_backend *chain[3] = {pref, fb, ref};
    int          n_segs   = 0;
    for (int e = 0; e < p->n_exec; e++) {
        int i = p->exec[e], b;
        for (b = 0; b < 3; b++) {
            vgi_backend *be = chain[b];
            if (!be || (b == 0 && pref == ref))
                continue;
            if (be->iface->supports_node(be->ctx, g, i, p->tensors))
                break;
        }
        if (b == 3) {
            st = vgi_err_set(err, VG_E_UNSUPPORTED,
                             "%s: node '%s' (%s): no backend can run it (no reference kernel)",
                             g->source ? g->source : "graph", g->nodes[i].name,
                             vgi_op_name(g->nodes[i].op));
            goto fail;
        }
        be_of[i] = b;
        if (b == 0)
            p->n_pref++;
        else if (b == 1)
            p->n_fb++;
        else
            p->n_ref++;
        if (e == 0 || be_of[p->exec[e - 1]] != be_of[i])
            n_segs++;
        seg_of[i] = n_segs - 1;
    }
    if (pref == ref) {
        p->n_pref = p->n_ref;
        p->n_ref  = 0;
    }
    p->segs = vg_calloc((size_t)(n_segs ? n_segs : 1), sizeof(plan_seg));
    if (!p->segs) {
        st = VG_E_NOMEM;
        goto fail;
    }
    for (int e = 0; e < p->n_exec;) {
        int s = seg_of[p->exec[e]], cnt = 0;
        while (e + cnt < p->n_exec && seg_of[p->exec[e + cnt]] == s)
            cnt++;
        plan_seg *ps    = &p->segs[s];
        int      *nodes = vg_malloc((size_t)cnt * sizeof(int));
        if (!nodes) {
            st = VG_E_NOMEM;
            goto fail;
        }
        memcpy(nodes, p->exec + e, (size_t)cnt * sizeof(int));
        ps->be           = chain[be_of[p->exec[e]]];
        ps->seg.g        = g;
        ps->seg.nodes    = nodes;
        ps->seg.n_nodes  = cnt;
        ps->seg.tensors  = p->tensors;
        ps->seg.external = p->external;
        ps->seg.index    = s;
        p->n_segs        = s + 1;
        e += cnt;
    }

    /* Pass 4: external values. */
    for (int v = 0; v < nv; v++) {
        int prod = g->values[v].producer;
        if (prod < 0 || !is_run[prod] || seg_of[prod] < 0 || p->tensors[v].data)
            p->external[v] = true; /* input, constant, plan-time value or elided view */
    }
    for (int i = 0; i < g->n_outputs; i++)
        p->external[g->outputs[i].value] = true;
    for (int i = 0; i < nn; i++) {
        if (!is_run[i])
            continue;
        const vgi_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0)
                continue;
            int prod = g->values[v].producer;
            if (prod < 0 || seg_of[i] < 0 || seg_of[prod] != seg_of[i])
                p->external[v] = true;
        }
    }

    /* Pass 5: memory. */
    st = plan_memory(p, is_run, step, alias,
                     pref->iface->host_alloc && pref->iface->host_free ? pref : NULL, shared, err);
    if (st)
        goto fail;

    /* Pass 6: backend preparation. */
    for (int s = 0; s < p->n_segs; s++) {
        plan_seg *ps = &p->segs[s];
        if (ps->be->iface->segment_prepare) {
            st = ps->be->iface->segment_prepare(ps->be->ctx, &ps->seg, &ps->state, err);
            if (st)
                goto fail;
        }
        ps->prepared = true;
    }
    if (profile) {
        p->prof_ns = vg_calloc((size_t)(p->n_exec ? p->n_exec : 1), sizeof(int64_t));
        p->prof_be = vg_calloc((size_t)(p->n_exec ? p->n_exec : 1), sizeof(char *));
        if (!p->prof_ns || !p->prof_be) {
            st = VG_E_NOMEM;
            goto fail;
        }
    }
    vg_free(is_run);
    vg_free(step);
    vg_free(alias);
    vg_free(seg_of);
    vg_free(be_of);
    *out = p;
    return VG_OK;
fail:
    if (st == VG_E_NOMEM && err && !err->msg[0])
        vgi_err_set(err, VG_E_NOMEM, "out of memory while building the execution plan");
    vg_free(is_run);
    vg_free(step);
    vg_free(alias);
    vg_free(seg_of);
    vg_free(be_of);
    vgi_plan_destroy(p);
    return st;
}

vg_status vgi_plan_run(vgi_plan *p, const void *const *inputs, vgi_err *err) {
    const vgi_graph *g = p->g;
    for (int i = 0; i < g->n_inputs; i++) {
        vg_tensor *t = &p->tensors[g->inputs[i].value];
        if (t->data && t->data != inputs[i])
            memcpy(t->data, inputs[i], vg_tensor_nbytes(t));
    }
    int e = 0;
    for (int s = 0; s < p->n_segs; s++) {
        plan_seg                *ps = &p->segs[s];
        const vgi_backend_iface *bi = ps->be->iface;
        vg_status                st;
        if (bi->segment_run && !(p->profile && bi->run_node)) {
            int64_t t0 = p->profile ? vg_clock_ns() : 0;
            st         = bi->segment_run(ps->be->ctx, ps->state, &ps->seg, err);
            if (p->profile) {
                /* Whole-segment time, attributed to its first node. */
                p->prof_ns[e] = vg_clock_ns() - t0;
                for (int k = 0; k < ps->seg.n_nodes; k++)
                    p->prof_be[e + k] = bi->name;
                for (int k = 1; k < ps->seg.n_nodes; k++)
                    p->prof_ns[e + k] = 0;
            }
            e += ps->seg.n_nodes;
            if (st)
                return st;
            continue;
        }
        for (int k = 0; k < ps->seg.n_nodes; k++, e++) {
            int64_t t0 = p->profile ? vg_clock_ns() : 0;
            st         = bi->run_node(ps->be->ctx, ps->state, &ps->seg, ps->seg.nodes[k], err);
            if (p->profile) {
                p->prof_ns[e] = vg_clock_ns() - t0;
                p->prof_be[e] = bi->name;
            }
            if (st)
                return st;
        }
    }
    return VG_OK;
}

const vg_tensor *vgi_plan_tensor(const vgi_plan *p, int v) {
    return &p->tensors[v];
}

size_t vgi_plan_arena_bytes(const vgi_plan *p) {
    return p->arena_bytes;
}

void vgi_plan_counts(const vgi_plan *p, int *n_segments, int *n_pref, int *n_ref) {
    *n_segments = p->n_segs;
    *n_pref     = p->n_pref;
    *n_ref      = p->n_ref;
}

int vgi_plan_fallback_count(const vgi_plan *p) {
    return p->n_fb;
}

int vgi_plan_segment_info(const vgi_plan *p, int s, const char **backend, int *n_nodes) {
    if (s < 0 || s >= p->n_segs)
        return 0;
    *backend = p->segs[s].be->iface->name;
    *n_nodes = p->segs[s].seg.n_nodes;
    return 1;
}

int vgi_plan_exec_node(const vgi_plan *p, int i) {
    return i >= 0 && i < p->n_exec ? p->exec[i] : -1;
}

int64_t vgi_plan_node_macs(const vgi_plan *p, int node) {
    const vgi_node *n = &p->g->nodes[node];
    if (n->n_in < 2 || n->n_out < 1 || n->in[0] < 0 || n->in[1] < 0)
        return 0;
    const vg_shape *x = &p->tensors[n->in[0]].shape, *w = &p->tensors[n->in[1]].shape;
    const vg_shape *y = &p->tensors[n->out[0]].shape;
    switch (n->op) {
    case VGI_OP_CONV: /* every output element: (Cin / groups) x kh x kw (weights OIHW) */
        return w->ndim == 4 ? vg_shape_numel(y) * w->dims[1] * w->dims[2] * w->dims[3] : 0;
    case VGI_OP_CONV_TRANSPOSE: /* every input element: (Cout / groups) x kh x kw (IOHW) */
        return w->ndim == 4 ? vg_shape_numel(x) * w->dims[1] * w->dims[2] * w->dims[3] : 0;
    case VGI_OP_MATMUL: /* every output element: K, the last axis of A */
        return x->ndim >= 1 ? vg_shape_numel(y) * x->dims[x->ndim - 1] : 0;
    case VGI_OP_GEMM: /* M x N outputs, K each */
        return x->ndim == 2 ? vg_shape_numel(y) * x->dims[n->attr.gemm.trans_a ? 0 : 1] : 0;
    default:
        return 0;
    }
}

int vgi_plan_profile(const vgi_plan *p, int i, vgi_op *op, const char **backend, int64_t *ns) {
    if (!p->profile || i < 0 || i >= p->n_exec)
        return 0;
    *op      = p->g->nodes[p->exec[i]].op;
    *backend = p->prof_be[i] ? p->prof_be[i] : "?";
    *ns      = p->prof_ns[i];
    return 1;
}
