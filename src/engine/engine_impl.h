/*
 * engine/engine_impl.h - helpers shared inside the engine and ref backend.
 */
#ifndef VG_ENGINE_IMPL_H
#define VG_ENGINE_IMPL_H

#include "engine/ir.h"

/* Pads of a PAD node as [rank][2] (begin, end). VG_E_SHAPE if they do not fit. */
vg_status vgi_pad_read(const vgi_node *n, const vg_tensor *vals, int64_t pads[VG_MAX_DIMS][2]);

/* Reduction mask of a reduce node (axes from in[1] or the attribute). */
vg_status vgi_reduce_axes(const vgi_node *n, const vg_tensor *vals, bool mask[VG_MAX_DIMS]);

/* Axis of an argmax/argmin node; -1 if invalid. */
int vgi_arg_axis(const vgi_node *n, const vg_tensor *vals);

/*
 * Propagates dtypes and shapes through the graph and evaluates every node
 * whose inputs are all known (constants, shape-only reads) with the ref
 * kernels. vals[] (per value id) must hold the constants (data set) and the
 * inputs (shape set, data NULL; with `partial`, an input with -1 dims or
 * ndim -1 is unknown and everything downstream is skipped). Evaluated
 * outputs get a vg_malloc'ed buffer recorded in owned[v] (caller frees).
 * Errors name the node.
 */
vg_status vgi_propagate(const vgi_graph *g, vg_tensor *vals, void **owned, bool partial,
                        vgi_err *err);

/* Load-time optimisation: fold constants and shape subgraphs, remove
 * Identity, fuse bias and activation into conv, prune. */
vg_status vgi_optimize(vgi_graph *g, vgi_err *err);

/* Initialises vals[] from the graph: constants with data, inputs with the
 * given shapes (NULL: declared shapes), everything else unknown (ndim -1). */
void vgi_vals_init(const vgi_graph *g, vg_tensor *vals, const vg_shape *input_shapes);

/* ---- plans (plan.c) ------------------------------------------------------ */

struct vgi_backend;
typedef struct vgi_plan vgi_plan;

/*
 * Builds the execution plan of graph g for concrete input shapes: shapes,
 * plan-time values, node -> backend assignment (preferred backend where it
 * supports the node, else ref), segments, the memory plan (one arena) and
 * each backend's segment preparation. `pref` may equal `ref`.
 */
vg_status vgi_plan_create(const vgi_graph *g, const vg_shape *input_shapes,
                          struct vgi_backend *pref, struct vgi_backend *ref, bool profile,
                          vgi_plan **out, vgi_err *err);
void      vgi_plan_destroy(vgi_plan *p);

/*
 * A host arena that the plans of one session share (CPU sessions): the session runs one
 * plan at a time, and outputs are borrowed only until the next run, so plans for
 * different input shapes need not hold activation memory each. It grows to the largest plan;
 * when it must grow, grow(user) is called first and must destroy every plan that
 * uses it (they point into the old block).
 */
typedef struct vgi_arena {
    unsigned char      *ptr;
    size_t              cap;
    struct vgi_backend *be; /* whose host_alloc made ptr; NULL: vg_aligned_alloc */
    void (*grow)(void *user);
    void *user;
} vgi_arena;

/* Frees a's block (the plans that used it must be gone). */
void vgi_arena_free(vgi_arena *a);

/*
 * Same, with a fallback chain: each node goes to the first of pref -> fb ->
 * ref whose supports_node() accepts it. `fb` may be NULL (cpu/ref sessions:
 * identical to vgi_plan_create); GPU sessions pass the cpu backend. The host
 * arena comes from pref's host_alloc when pref has one; with `shared`, the
 * plan's arena is that shared block (grown first when too small), else its own.
 */
vg_status vgi_plan_create_chain(const vgi_graph *g, const vg_shape *input_shapes,
                                struct vgi_backend *pref, struct vgi_backend *fb,
                                struct vgi_backend *ref, bool profile, vgi_arena *shared,
                                vgi_plan **out, vgi_err *err);

/* True when the plan was built for exactly these input shapes. */
bool vgi_plan_matches(const vgi_plan *p, const vg_shape *input_shapes);

/* Copies the inputs (data pointers per graph input, in order) into the arena
 * and runs every segment. No allocation. */
vg_status vgi_plan_run(vgi_plan *p, const void *const *inputs, vgi_err *err);

/* The tensor of value v in this plan (data valid after a run). */
const vg_tensor *vgi_plan_tensor(const vgi_plan *p, int v);

/* Arena size in bytes; number of segments; nodes run on the preferred backend / on ref. */
size_t vgi_plan_arena_bytes(const vgi_plan *p);
void   vgi_plan_counts(const vgi_plan *p, int *n_segments, int *n_pref, int *n_ref);

/* Nodes run on the fallback backend (0 without one). */
int vgi_plan_fallback_count(const vgi_plan *p);

/* Segment s: its backend's name and node count; 0 when s is out of range. */
int vgi_plan_segment_info(const vgi_plan *p, int s, const char **backend, int *n_nodes);

/* Per executed node of the last run (profile on): op, backend name, ns. */
int vgi_plan_profile(const vgi_plan *p, int i, vgi_op *op, const char **backend, int64_t *ns);
/* The graph node of executed entry i (0 <= i < the count vgi_plan_profile walks), and its
 * multiply-accumulates at the plan's shapes (convolutions and matrix products; else 0). */
int     vgi_plan_exec_node(const vgi_plan *p, int i);
int64_t vgi_plan_node_macs(const vgi_plan *p, int node);

#endif /* VG_ENGINE_IMPL_H */
