/*
 * model.c - the public model/session API (vigil/model.h).
 *
 * DESIGN
 * A model is an imported, optimised graph and its signature; it is never
 * written after vg_model_load() returns, so any number of sessions on any
 * threads share it without locks. A session owns its backend instances
 * (preferred + ref fallback), its bound inputs and a small cache of plans,
 * one per input-shape combination (most recently built last; the oldest is
 * dropped beyond VG_SESSION_MAX_PLANS). Errors of load/session creation go
 * to a thread-local buffer (there is no handle yet, or the handle is
 * shared); errors of a session go to the session.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "core/core_impl.h"
#include "engine/engine_impl.h"
#include "importers/importer.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/model.h"

#define VG_SESSION_MAX_PLANS 8

struct vg_model {
    vgi_graph     *g;
    vg_io_info    *inputs;
    vg_io_info    *outputs;
    vg_model_stats stats;
};

struct vg_session {
    const vg_model *m;
    vgi_device      dev;
    vgi_backend     pref, fb, ref; /* preferred, fallback (cuda sessions: cpu), oracle */
    bool            profile;
    const void    **in_data;
    vg_shape       *in_shapes;
    vgi_plan       *plans[VG_SESSION_MAX_PLANS];
    int             n_plans;
    vgi_plan       *cur; /* plan of the last successful run */
    bool            ran;
    vgi_arena       arena; /* the plans' shared activation arena */
    char            errmsg[1024];
};

static _Thread_local char tls_err[1024];

#ifndef VG_HAVE_ONNX_IMPORTER
vg_status vgi_onnx_import(const char *path, vgi_graph **out, vgi_err *err) {
    *out = NULL;
    return vgi_err_set(err, VG_E_UNSUPPORTED,
                       "%s: ONNX models are not supported by this build (no ONNX importer)", path);
}
#endif

static void tls_set(const vgi_err *e, vg_status st) {
    snprintf(tls_err, sizeof(tls_err), "%s", e->msg[0] ? e->msg : vg_status_str(st));
    vg_log("engine", VG_LOG_ERROR, "%s", tls_err);
}

const char *vg_model_errmsg(const vg_model *m) {
    (void)m;
    return tls_err;
}

vg_model_params vg_model_params_default(void) {
    return (vg_model_params){.format = NULL, .optimize = true};
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

void vg_model_destroy(vg_model *m) {
    if (!m)
        return;
    vgi_graph_destroy(m->g);
    vg_free(m->inputs);
    vg_free(m->outputs);
    vg_free(m);
}

static void fill_stats(vg_model *m, int n_import) {
    const vgi_graph *g         = m->g;
    m->stats.format            = g->format ? g->format : "?";
    m->stats.n_nodes           = g->n_nodes;
    m->stats.n_nodes_import    = n_import;
    m->stats.file_weight_bytes = g->file_weight_bytes;
    for (int v = 0; v < g->n_values; v++) {
        const vgi_value *val = &g->values[v];
        if (!(val->flags & VGI_VALUE_CONST))
            continue;
        vg_tensor t = {val->dtype, val->shape, val->data};
        m->stats.weight_bytes += (int64_t)vg_tensor_nbytes(&t);
        if (val->dtype == VG_DTYPE_F32 || val->dtype == VG_DTYPE_F16)
            m->stats.param_count += vg_shape_numel(&val->shape);
    }
}

vg_status vg_model_load(const char *path, const vg_model_params *params, vg_model **out) {
    vgi_err err;
    err.msg[0] = '\0';
    tls_err[0] = '\0';
    if (!out) {
        snprintf(tls_err, sizeof(tls_err), "vg_model_load: out is NULL");
        return VG_E_INVALID_ARG;
    }
    *out = NULL;
    if (!path) {
        snprintf(tls_err, sizeof(tls_err), "vg_model_load: path is NULL");
        return VG_E_INVALID_ARG;
    }
    vg_model_params p = params ? *params : vg_model_params_default();
    bool            onnx;
    if (p.format) {
        if (strcmp(p.format, "tfjs") && strcmp(p.format, "onnx")) {
            snprintf(tls_err, sizeof(tls_err), "%s: unknown model format '%s' (tfjs or onnx)", path,
                     p.format);
            return VG_E_INVALID_ARG;
        }
        onnx = !strcmp(p.format, "onnx");
    } else {
        onnx = ends_with(path, ".onnx");
    }
    vgi_graph *g  = NULL;
    vg_status  st = onnx ? vgi_onnx_import(path, &g, &err) : vgi_tfjs_import(path, &g, &err);
    if (st) {
        tls_set(&err, st);
        return st;
    }
    int n_import = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_import++;
    if (p.optimize)
        st = vgi_optimize(g, &err);
    vg_model *m = NULL;
    if (!st) {
        m = vg_calloc(1, sizeof(vg_model));
        if (!m)
            st = VG_E_NOMEM;
    }
    if (!st) {
        m->g       = g;
        g          = NULL;
        m->inputs  = vg_calloc((size_t)(m->g->n_inputs ? m->g->n_inputs : 1), sizeof(vg_io_info));
        m->outputs = vg_calloc((size_t)(m->g->n_outputs ? m->g->n_outputs : 1), sizeof(vg_io_info));
        if (!m->inputs || !m->outputs)
            st = VG_E_NOMEM;
    }
    if (!st) {
        for (int i = 0; i < m->g->n_inputs; i++) {
            const vgi_io *io   = &m->g->inputs[i];
            m->inputs[i].name  = io->name;
            m->inputs[i].dtype = io->dtype;
            m->inputs[i].shape = io->shape;
        }
        for (int i = 0; i < m->g->n_outputs; i++) {
            const vgi_io    *io = &m->g->outputs[i];
            const vgi_value *v  = &m->g->values[io->value];
            m->outputs[i].name  = io->name;
            /* Inferred dtype/shape when known (static models), else as declared. */
            m->outputs[i].dtype = v->dtype != VG_DTYPE_UNKNOWN ? v->dtype : io->dtype;
            m->outputs[i].shape = v->shape.ndim >= 0 ? v->shape : io->shape;
            if (m->outputs[i].shape.ndim < 0)
                m->outputs[i].shape.ndim = 0;
        }
        fill_stats(m, n_import);
    }
    if (st) {
        if (st == VG_E_NOMEM && !err.msg[0])
            snprintf(err.msg, sizeof(err.msg), "%s: out of memory while loading", path);
        tls_set(&err, st);
        vgi_graph_destroy(g);
        vg_model_destroy(m);
        return st;
    }
    *out = m;
    return VG_OK;
}

int vg_model_input_count(const vg_model *m) {
    return m->g->n_inputs;
}

const vg_io_info *vg_model_input(const vg_model *m, int i) {
    return i >= 0 && i < m->g->n_inputs ? &m->inputs[i] : NULL;
}

int vg_model_output_count(const vg_model *m) {
    return m->g->n_outputs;
}

const vg_io_info *vg_model_output(const vg_model *m, int i) {
    return i >= 0 && i < m->g->n_outputs ? &m->outputs[i] : NULL;
}

void vg_model_get_stats(const vg_model *m, vg_model_stats *out) {
    *out = m->stats;
}

int vg_model_op_counts(const vg_model *m, const char **names, int *counts, int cap) {
    int hist[VGI_OP_COUNT] = {0};
    for (int i = 0; i < m->g->n_nodes; i++)
        hist[m->g->nodes[i].op]++;
    int n = 0;
    for (int op = 1; op < VGI_OP_COUNT; op++) {
        if (!hist[op])
            continue;
        if (n < cap) {
            names[n]  = vgi_op_name((vgi_op)op);
            counts[n] = hist[op];
        }
        n++;
    }
    return n;
}

/* ---- sessions -------------------------------------------------------------------- */

vg_session_params vg_session_params_default(void) {
    return (vg_session_params){
        .backend = NULL, .device = NULL, .threads = 0, .profile = false, .precision = NULL};
}

static vg_status sess_err(vg_session *s, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static vg_status sess_err(vg_session *s, vg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    vg_log("engine", VG_LOG_ERROR, "%s", s->errmsg);
    return st;
}

void vg_session_destroy(vg_session *s) {
    if (!s)
        return;
    for (int i = 0; i < s->n_plans; i++)
        vgi_plan_destroy(s->plans[i]);
    vgi_arena_free(&s->arena);
    vgi_backend_destroy(&s->pref);
    vgi_backend_destroy(&s->fb);
    vgi_backend_destroy(&s->ref);
    vg_free(s->in_data);
    vg_free(s->in_shapes);
    vg_free(s);
}

/*
 * Checks the backend / device / precision combination and picks the backend
 * when none is named: a cuda device selects "cuda", a cpu device "cpu" when
 * built, else "ref". Messages go to tls_err.
 */
static vg_status pick_backend(const vg_session_params *p, vgi_device *dev, const char **be_name,
                              vgi_backend_create_fn *create) {
    vgi_err err;
    err.msg[0]   = '\0';
    vg_status st = vgi_device_parse(p->device, p->threads, dev, &err);
    if (st) {
        tls_set(&err, st);
        return st;
    }
    const char *name = p->backend;
    if (!name)
        name = dev->kind == VGI_DEVICE_CUDA ? "cuda" : (vgi_backend_find("cpu") ? "cpu" : "ref");
    *be_name = name;
    *create  = vgi_backend_find(name);
    if (!*create) {
        bool known = !strcmp(name, "cpu") || !strcmp(name, "cuda");
        if (known && !strcmp(name, "cuda"))
            snprintf(tls_err, sizeof(tls_err),
                     "backend 'cuda' is not built into this vigil (cmake -DVG_WITH_CUDA=ON on a "
                     "machine with the CUDA toolkit)");
        else
            snprintf(tls_err, sizeof(tls_err),
                     known ? "backend '%s' is not built into this vigil"
                           : "unknown backend '%s' (use ref, cpu or cuda)",
                     name);
        return known ? VG_E_UNSUPPORTED : VG_E_INVALID_ARG;
    }
    bool gpu_be = !strcmp(name, "cuda");
    if (gpu_be && dev->kind != VGI_DEVICE_CUDA) {
        snprintf(tls_err, sizeof(tls_err),
                 "backend 'cuda' needs a GPU device such as cuda:0, not '%s' (leave the backend "
                 "unset to pick it from the device)",
                 dev->name);
        return VG_E_INVALID_ARG;
    }
    if (!gpu_be && dev->kind == VGI_DEVICE_CUDA) {
        snprintf(tls_err, sizeof(tls_err),
                 "backend '%s' runs on CPU cores, not on device '%s' (use backend cuda, or leave "
                 "the backend unset to pick it from the device)",
                 name, dev->name);
        return VG_E_INVALID_ARG;
    }
    if (!p->precision || !strcmp(p->precision, "fp32")) {
        dev->precision = VGI_PRECISION_FP32;
    } else if (!strcmp(p->precision, "fp16")) {
        if (dev->kind != VGI_DEVICE_CUDA) {
            snprintf(tls_err, sizeof(tls_err),
                     "precision fp16 needs a GPU device (e.g. cuda:0); the %s backend on '%s' "
                     "computes in fp32 (use fp32)",
                     name, dev->name);
            return VG_E_INVALID_ARG;
        }
        dev->precision = VGI_PRECISION_FP16;
    } else {
        snprintf(tls_err, sizeof(tls_err), "unknown precision '%s' (use fp32 or fp16)",
                 p->precision);
        return VG_E_INVALID_ARG;
    }
    return VG_OK;
}

vg_status vg_session_create(const vg_model *m, const vg_session_params *params, vg_session **out) {
    vgi_err err;
    err.msg[0] = '\0';
    tls_err[0] = '\0';
    if (!out || !m) {
        snprintf(tls_err, sizeof(tls_err), "vg_session_create: model or out is NULL");
        return VG_E_INVALID_ARG;
    }
    *out                          = NULL;
    vg_session_params     p       = params ? *params : vg_session_params_default();
    const char           *be_name = NULL;
    vgi_backend_create_fn create  = NULL;
    vgi_device            dev;
    vg_status             st = pick_backend(&p, &dev, &be_name, &create);
    if (st)
        return st;
    vg_session *s = vg_calloc(1, sizeof(vg_session));
    if (!s)
        return VG_E_NOMEM;
    s->m         = m;
    s->dev       = dev;
    s->profile   = p.profile;
    s->in_data   = vg_calloc((size_t)(m->g->n_inputs ? m->g->n_inputs : 1), sizeof(void *));
    s->in_shapes = vg_calloc((size_t)(m->g->n_inputs ? m->g->n_inputs : 1), sizeof(vg_shape));
    st           = (!s->in_data || !s->in_shapes) ? VG_E_NOMEM : VG_OK;
    /* The host-side backends of a GPU session (fallback cpu, oracle ref) run
     * on the host threads of the device description. */
    vgi_device host = s->dev;
    host.kind       = VGI_DEVICE_CPU;
    host.ordinal    = 0;
    host.precision  = VGI_PRECISION_FP32;
    if (!st)
        st = vgi_ref_backend_create(&host, &s->ref, &err);
    if (!st) {
        if (!strcmp(be_name, "ref"))
            s->pref = s->ref;
        else
            st = create(&s->dev, &s->pref, &err);
    }
    if (!st && s->dev.kind == VGI_DEVICE_CUDA) {
        vgi_backend_create_fn cpu = vgi_backend_find("cpu");
        if (cpu)
            st = cpu(&host, &s->fb, &err);
    }
    if (st) {
        if (st == VG_E_NOMEM && !err.msg[0])
            snprintf(err.msg, sizeof(err.msg), "out of memory while creating a session");
        tls_set(&err, st);
        if (s->pref.iface == s->ref.iface && s->pref.ctx == s->ref.ctx)
            memset(&s->pref, 0, sizeof(s->pref));
        vg_session_destroy(s);
        return st;
    }
    *out = s;
    return VG_OK;
}

const char *vg_session_errmsg(const vg_session *s) {
    return s ? s->errmsg : "";
}

size_t vg_session_arena_bytes(const vg_session *s) {
    return s->cur ? vgi_plan_arena_bytes(s->cur) : 0;
}

const char *vg_session_backend(const vg_session *s) {
    return s->pref.iface ? s->pref.iface->name : "?";
}

static int find_io(const vgi_io *ios, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(ios[i].name, name))
            return i;
    return -1;
}

/* The index of input `name` if `shape` fits its signature (*idx), else the status. */
static vg_status check_input(vg_session *s, const char *name, const vg_shape *shape, int *idx) {
    const vgi_graph *g = s->m->g;
    int              i = name ? find_io(g->inputs, g->n_inputs, name) : -1;
    if (i < 0)
        return sess_err(s, VG_E_NOT_FOUND, "the model has no input '%s'", name ? name : "(null)");
    const vgi_io *io = &g->inputs[i];
    char          b1[128], b2[128];
    bool          ok = shape->ndim == io->shape.ndim && vg_shape_numel(shape) >= 0;
    for (int d = 0; ok && d < shape->ndim; d++)
        if (io->shape.dims[d] >= 0 && io->shape.dims[d] != shape->dims[d])
            ok = false;
    if (!ok)
        return sess_err(s, VG_E_SHAPE, "input '%s' must have shape %s (-1 = any), got %s", name,
                        vg_shape_format(&io->shape, b1, sizeof(b1)),
                        vg_shape_format(shape, b2, sizeof(b2)));
    *idx = i;
    return VG_OK;
}

vg_status vg_session_set_input(vg_session *s, const char *name, const vg_tensor *t) {
    const vgi_graph *g = s->m->g;
    int              i;
    if (!t || !t->data) {
        if (name && find_io(g->inputs, g->n_inputs, name) < 0)
            return sess_err(s, VG_E_NOT_FOUND, "the model has no input '%s'", name);
        return sess_err(s, VG_E_INVALID_ARG, "input '%s': no data", name ? name : "(null)");
    }
    vg_status st = check_input(s, name, &t->shape, &i);
    if (st)
        return st;
    if (t->dtype != g->inputs[i].dtype)
        return sess_err(s, VG_E_SHAPE, "input '%s' must be %s, got %s", name,
                        vg_dtype_name(g->inputs[i].dtype), vg_dtype_name(t->dtype));
    s->in_data[i]   = t->data;
    s->in_shapes[i] = t->shape;
    return VG_OK;
}

/* The shared arena must grow: every plan points into the old block, so all go (they
 * are rebuilt when their shapes come back). */
static void drop_plans(void *user) {
    vg_session *s = user;
    for (int i = 0; i < s->n_plans; i++)
        vgi_plan_destroy(s->plans[i]);
    s->n_plans = 0;
    s->cur     = NULL;
    s->ran     = false;
}

/* The plan for the bound input shapes; input `skip` (or -1) need not be bound. */
static vg_status get_plan(vg_session *s, int skip, vgi_plan **out) {
    const vgi_graph *g = s->m->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->in_data[i] && i != skip)
            return sess_err(s, VG_E_INVALID_ARG, "input '%s' is not bound (vg_session_set_input)",
                            g->inputs[i].name);
    for (int i = s->n_plans - 1; i >= 0; i--)
        if (vgi_plan_matches(s->plans[i], s->in_shapes)) {
            *out = s->plans[i];
            return VG_OK;
        }
    vgi_err err;
    err.msg[0]    = '\0';
    vgi_plan *p   = NULL;
    s->arena.grow = drop_plans;
    s->arena.user = s;
    /* Host-memory backends share one arena across plans. A GPU backend (it has its own
     * host_alloc, for page-locked staging) does not: dropping its plans when the arena
     * grows would mean uploading the weights and searching cuDNN's algorithms again. */
    vgi_arena *shared = s->pref.iface->host_alloc ? NULL : &s->arena;
    vg_status  st = vgi_plan_create_chain(g, s->in_shapes, &s->pref, s->fb.iface ? &s->fb : NULL,
                                          &s->ref, s->profile, shared, &p, &err);
    if (st)
        return sess_err(s, st, "%s", err.msg[0] ? err.msg : vg_status_str(st));
    if (s->n_plans == VG_SESSION_MAX_PLANS) {
        if (s->cur == s->plans[0])
            s->cur = NULL, s->ran = false;
        vgi_plan_destroy(s->plans[0]);
        memmove(s->plans, s->plans + 1, (VG_SESSION_MAX_PLANS - 1) * sizeof(vgi_plan *));
        s->n_plans--;
    }
    s->plans[s->n_plans++] = p;
    *out                   = p;
    return VG_OK;
}

vg_status vg_session_prepare(vg_session *s) {
    vgi_plan *p;
    return get_plan(s, -1, &p);
}

vg_status vg_session_input_buffer(vg_session *s, const char *name, const vg_shape *shape,
                                  vg_tensor *out) {
    int i;
    if (!shape || !out)
        return sess_err(s, VG_E_INVALID_ARG, "input buffer: no shape or no result tensor");
    vg_status st = check_input(s, name, shape, &i);
    if (st)
        return st;
    vg_shape  was = s->in_shapes[i];
    vgi_plan *p;
    s->in_shapes[i] = *shape;
    if ((st = get_plan(s, i, &p)) != VG_OK) {
        s->in_shapes[i] = was; /* the binding stays as it was */
        return st;
    }
    /* graph inputs always live in the plan's arena (vgi_plan_run copies other memory in) */
    *out          = *vgi_plan_tensor(p, s->m->g->inputs[i].value);
    s->in_data[i] = out->data;
    return VG_OK;
}

vg_status vg_session_run(vg_session *s) {
    vgi_plan *p;
    s->ran       = false;
    vg_status st = get_plan(s, -1, &p);
    if (st)
        return st;
    vgi_err err;
    err.msg[0] = '\0';
    st         = vgi_plan_run(p, (const void *const *)s->in_data, &err);
    if (st)
        return sess_err(s, st, "%s", err.msg[0] ? err.msg : vg_status_str(st));
    s->cur = p;
    s->ran = true;
    return VG_OK;
}

vg_status vg_session_get_output_at(vg_session *s, int i, vg_tensor *out) {
    const vgi_graph *g = s->m->g;
    if (i < 0 || i >= g->n_outputs)
        return sess_err(s, VG_E_NOT_FOUND, "output index %d out of range", i);
    if (!s->ran || !s->cur)
        return sess_err(s, VG_E_INVALID_ARG, "no successful run yet");
    *out = *vgi_plan_tensor(s->cur, g->outputs[i].value);
    return VG_OK;
}

vg_status vg_session_get_output(vg_session *s, const char *name, vg_tensor *out) {
    const vgi_graph *g = s->m->g;
    int              i = name ? find_io(g->outputs, g->n_outputs, name) : -1;
    if (i < 0)
        return sess_err(s, VG_E_NOT_FOUND, "the model has no output '%s'", name ? name : "(null)");
    return vg_session_get_output_at(s, i, out);
}

int vg_session_profile_nodes(const vg_session *s, vg_profile_node *out, int cap) {
    if (!s || !s->cur || !s->profile)
        return 0;
    vgi_op      op;
    const char *be;
    int64_t     ns;
    int         i = 0;
    for (; vgi_plan_profile(s->cur, i, &op, &be, &ns); i++) {
        if (i >= cap || !out)
            continue;
        int node = vgi_plan_exec_node(s->cur, i);
        out[i]   = (vg_profile_node){s->m->g->nodes[node].name, vgi_op_name(op), be, ns,
                                     vgi_plan_node_macs(s->cur, node)};
    }
    return i;
}

int vg_session_profile(const vg_session *s, vg_profile_entry *out, int cap) {
    if (!s->cur || !s->profile)
        return 0;
    int              n = 0;
    vgi_op           op;
    const char      *be;
    int64_t          ns;
    vg_profile_entry tmp[2 * VGI_OP_COUNT];
    for (int i = 0; vgi_plan_profile(s->cur, i, &op, &be, &ns); i++) {
        int k;
        for (k = 0; k < n; k++)
            if (!strcmp(tmp[k].op, vgi_op_name(op)) && !strcmp(tmp[k].backend, be))
                break;
        if (k == n) {
            if (n == (int)VGI_ARRAY_SIZE(tmp))
                continue;
            tmp[n++] = (vg_profile_entry){vgi_op_name(op), be, 0, 0};
        }
        tmp[k].count++;
        tmp[k].ns += ns;
    }
    /* Sort by time, descending (insertion sort: few entries). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && tmp[j].ns > tmp[j - 1].ns; j--) {
            vg_profile_entry t = tmp[j];
            tmp[j]             = tmp[j - 1];
            tmp[j - 1]         = t;
        }
    for (int i = 0; i < n && i < cap; i++)
        out[i] = tmp[i];
    return n;
}
