/* INTERFACE-STABLE: yes */
/*
 * vigil/model.h - load a neural-network model, run it in sessions.
 *
 * Objects:
 * - vg_model: an imported, optimised graph. Immutable after vg_model_load();
 *   any number of sessions on any threads may use one model at the same time
 *   (all vg_model_* query functions are MT safe).
 * - vg_session: the model compiled for one device ("cpu:0-1", "cuda:0") and
 *   one backend ("ref", "cpu", "cuda"); it keeps one execution plan (memory arena,
 *   backend state) per input shape it has seen, so changing the batch size
 *   back and forth does not re-plan. A session is NOT thread-safe: use it
 *   from one thread at a time. Sessions of one model may run concurrently.
 *
 * Typical use:
 *
 *     vg_model *m;
 *     if (vg_model_load("models/movenet-thunder", NULL, &m) != VG_OK)
 *         fprintf(stderr, "%s\n", vg_model_errmsg(NULL));
 *     vg_session_params sp = vg_session_params_default();
 *     sp.backend = "cpu"; sp.device = "cpu:0-1";
 *     vg_session *s;
 *     vg_session_create(m, &sp, &s);
 *     vg_tensor in = vg_tensor_make(VG_DTYPE_I32, 4, (int64_t[]){1, 256, 256, 3}, pixels);
 *     vg_session_set_input(s, "input:0", &in);
 *     vg_session_run(s);
 *     vg_tensor out;
 *     vg_session_get_output(s, "Identity:0", &out);   (borrowed until the next run)
 *     vg_session_destroy(s);
 *     vg_model_destroy(m);
 */
#ifndef VG_MODEL_H
#define VG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_model   vg_model;
typedef struct vg_session vg_session;

/* ---- model ---------------------------------------------------------------- */

typedef struct vg_model_params {
    /* NULL: detect from the path (a folder or *.json = TF.js graph model,
     * *.onnx = ONNX); else "tfjs" or "onnx". */
    const char *format;
    /* Run the graph optimiser (constant folding, Identity removal, fusion).
     * Default true; false keeps the imported graph as is (for debugging). */
    bool optimize;
} vg_model_params;

vg_model_params vg_model_params_default(void);

/*
 * Loads a model: imports the file(s), checks the graph, folds constants and
 * optimises. `params` may be NULL (defaults).
 * On success *out is the model; caller frees with vg_model_destroy().
 * On failure *out is NULL, nothing is leaked, and vg_model_errmsg(NULL) in
 * the same thread returns a message naming the file, node and problem.
 * Returns:
 *   VG_OK
 *   VG_E_INVALID_ARG  path or out is NULL, unknown params->format
 *   VG_E_IO           a file cannot be opened or read
 *   VG_E_NOT_FOUND    the path or a weight shard does not exist
 *   VG_E_FORMAT       malformed model.json / shard too short / bad manifest / path escapes
 *   VG_E_UNSUPPORTED  an op, attribute value or dtype vigil does not implement
 *   VG_E_SHAPE        shapes or dtypes in the graph do not agree
 *   VG_E_NOMEM        out of memory
 * MT safe (different threads may load models concurrently).
 */
vg_status vg_model_load(const char *path, const vg_model_params *params, vg_model **out);

/* Frees the model. All its sessions must have been destroyed. NULL is a no-op. */
void vg_model_destroy(vg_model *m);

/*
 * The last error message of an engine call made by the calling thread
 * (vg_model_load, vg_session_create) -- thread-local, so it is MT safe.
 * `m` may be NULL (needed after a failed load). Never NULL; "" if none.
 * Borrowed; valid until the next engine call on this thread.
 */
const char *vg_model_errmsg(const vg_model *m);

/* One input or output of the model's signature. */
typedef struct vg_io_info {
    const char *name; /* signature key, e.g. "input:0", "tower_0/detections" */
    vg_dtype    dtype;
    vg_shape    shape; /* -1 for a symbolic dimension */
} vg_io_info;

/* Number of inputs/outputs; the i-th one (NULL if i is out of range).
 * Borrowed; valid until vg_model_destroy(). MT safe. */
int               vg_model_input_count(const vg_model *m);
const vg_io_info *vg_model_input(const vg_model *m, int i);
int               vg_model_output_count(const vg_model *m);
const vg_io_info *vg_model_output(const vg_model *m, int i);

/* Summary numbers for `vigil model info`. */
typedef struct vg_model_stats {
    const char *format;            /* "tfjs" or "onnx" */
    int         n_nodes;           /* compute nodes after optimisation */
    int         n_nodes_import;    /* nodes as imported (before optimisation) */
    int64_t     param_count;       /* elements in float weight tensors */
    int64_t     weight_bytes;      /* bytes of all constant tensors as held in memory */
    int64_t     file_weight_bytes; /* bytes of weights in the model files */
} vg_model_stats;

void vg_model_get_stats(const vg_model *m, vg_model_stats *out);

/*
 * Op histogram of the optimised graph: fills up to `cap` entries of names
 * (static strings, e.g. "conv", "add") and counts; returns the number of
 * distinct ops (which may exceed cap). MT safe.
 */
int vg_model_op_counts(const vg_model *m, const char **names, int *counts, int cap);

/* ---- session -------------------------------------------------------------- */

typedef struct vg_session_params {
    /* "ref" (naive oracle), "cpu" (oneDNN) or "cuda" (cuDNN/cuBLAS); NULL =
     * "cuda" for a cuda device, else "cpu" if built, else "ref". A backend
     * must match the device kind: cuda with cuda:N, ref/cpu with cpu cores. */
    const char *backend;
    /* "cpu", "cpu:0", "cpu:0-1", "cpu:0,2" (CPU cores) or "cuda", "cuda:N"
     * (one NVIDIA GPU, in builds with the cuda backend); NULL = "cpu" (all
     * available cores). */
    const char *device;
    /* CPU devices: 0 = one thread per core. GPU devices: host threads that
     * drive the GPU and run the CPU fallback nodes; 0 = 1. */
    int  threads;
    bool profile; /* keep per-node times (vg_session_profile) */
    /* "fp32" or "fp16" (fp16 storage, tensor-core math; GPU devices only);
     * NULL = "fp32". */
    const char *precision;
} vg_session_params;

vg_session_params vg_session_params_default(void);

/*
 * Creates a session of model m. `params` may be NULL. The session holds a
 * reference to m: m must outlive it. No plan is built until the first run
 * (or vg_session_prepare). MT safe with respect to m.
 * On failure *out is NULL and vg_model_errmsg() on this thread says why.
 * A session on a cuda device runs each node on the GPU where the cuda
 * backend supports it, else on the cpu backend (when built), else on ref,
 * with the copies between them inserted by the engine.
 * Returns VG_OK, VG_E_INVALID_ARG (bad device string, unknown backend or
 * precision, backend that does not match the device kind, fp16 on a CPU
 * device), VG_E_UNSUPPORTED (backend or cuda device not built in),
 * VG_E_DEVICE (cores or GPU not available), VG_E_BACKEND (the GPU runtime
 * failed), VG_E_NOMEM.
 */
vg_status vg_session_create(const vg_model *m, const vg_session_params *params, vg_session **out);

/* Frees the session and every plan and output buffer it holds. NULL is a no-op. */
void vg_session_destroy(vg_session *s);

/* Message of the last failed call on s; "" if none. Borrowed; valid until the
 * next call on s. */
const char *vg_session_errmsg(const vg_session *s);

/*
 * Binds input `name` (signature key) to t. The data is borrowed and read
 * during vg_session_run(); it must stay valid until then. The dtype must match
 * the signature and the shape must match every fixed dimension.
 * Returns VG_OK, VG_E_NOT_FOUND (no such input), VG_E_SHAPE (dtype or shape
 * mismatch), VG_E_INVALID_ARG (NULL data).
 */
vg_status vg_session_set_input(vg_session *s, const char *name, const vg_tensor *t);

/*
 * The session's own memory for input `name` at `shape`, bound as that input: write the
 * input into out->data and call vg_session_run(), which then copies nothing in (input
 * memory of the caller's is copied into the session's at every run). On a GPU device
 * the buffer is page-locked, so it goes to the device by DMA. Builds (or reuses) the
 * plan for `shape` with the other inputs' bound shapes, so those must be bound first.
 * out->data is valid until a call on s builds or drops plans (another input shape,
 * vg_session_prepare/run/input_buffer with new shapes) or vg_session_destroy(); its
 * content is not kept across runs. Returns VG_OK, VG_E_NOT_FOUND, VG_E_SHAPE,
 * VG_E_INVALID_ARG (another input not bound), VG_E_NOMEM, VG_E_BACKEND.
 */
vg_status vg_session_input_buffer(vg_session *s, const char *name, const vg_shape *shape,
                                  vg_tensor *out);

/*
 * Builds (or reuses) the plan for the currently bound input shapes without
 * running. Optional: vg_session_run() does it on demand. The first run with
 * a new shape allocates; later runs with a seen shape do not allocate.
 */
vg_status vg_session_prepare(vg_session *s);

/*
 * Runs the model on the bound inputs. Returns VG_OK, VG_E_INVALID_ARG (an
 * input is not bound), VG_E_SHAPE (shapes inconsistent inside the graph for
 * this input shape), VG_E_BACKEND (a backend failed), VG_E_NOMEM.
 */
vg_status vg_session_run(vg_session *s);

/*
 * Output `name` (signature key) of the last successful run; borrowed: data
 * valid until the next vg_session_run/prepare/set_input with a new shape or
 * vg_session_destroy. Returns VG_OK, VG_E_NOT_FOUND, VG_E_INVALID_ARG (no run yet).
 */
vg_status vg_session_get_output(vg_session *s, const char *name, vg_tensor *out);

/* Same, by index in the model's output list (0 .. vg_model_output_count-1). */
vg_status vg_session_get_output_at(vg_session *s, int i, vg_tensor *out);

/* Bytes of the activation arena of the plan that ran last (0 before any run).
 * Backends may hold further buffers of their own (blocked layouts, packed weights). */
size_t vg_session_arena_bytes(const vg_session *s);

/* The backend name the session prefers ("ref", "cpu", "cuda"). Static string. */
const char *vg_session_backend(const vg_session *s);

/*
 * Per-op profile of the last run (params.profile must be true): up to cap
 * entries of op name (static), node count on each backend and total
 * nanoseconds, sorted by time descending. Returns the number of entries.
 */
typedef struct vg_profile_entry {
    const char *op;
    const char *backend;
    int         count;
    int64_t     ns;
} vg_profile_entry;

int vg_session_profile(const vg_session *s, vg_profile_entry *out, int cap);

/*
 * Per-node profile of the last run (params.profile must be true): one entry for every
 * node that ran, in execution order: its name (borrowed from the model), op name
 * (static), backend name (static), nanoseconds, and multiply-accumulates for
 * convolutions and matrix products (0 for other ops). A node that a backend fused into
 * another one (an activation into its convolution) shows 0 ns, its time counted in the
 * other node. Fills up to cap entries; returns the number of nodes that ran.
 */
typedef struct vg_profile_node {
    const char *name;
    const char *op;
    const char *backend;
    int64_t     ns;
    int64_t     macs;
} vg_profile_node;

int vg_session_profile_nodes(const vg_session *s, vg_profile_node *out, int cap);

#ifdef __cplusplus
}
#endif

#endif /* VG_MODEL_H */
