/*
 * onnx_load.c - decode an ONNX ModelProto and check its graph.
 *
 * DESIGN
 * ------
 * The protobuf is decoded by the protoc-c generated reader (onnx.pb-c.c,
 * built from libonnx-dev's onnx.proto) with a budgeted allocator, so a
 * garbled or hostile file fails with VG_E_FORMAT instead of exhausting
 * memory. On top of the decoded message this file builds a flat index:
 * one vgi_onnx_value per distinct tensor name (graph inputs, initializers,
 * node outputs), found through an open-addressing hash table, and one
 * vgi_onnx_node per node with its inputs and outputs as value indices.
 * While building it checks what the engine relies on later: every name read
 * is produced exactly once (no dangling inputs, no duplicate producers), the
 * graph is acyclic (Kahn's algorithm; nodes come out topologically sorted),
 * declared dims are sane, and every initializer's data matches its shape.
 * The decoded message stays alive with the model: node names and attributes
 * are borrowed from it. Single-threaded; the model is immutable afterwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_impl.h"
#include "onnx_proto.h"
#include "vigil/alloc.h"

static vg_status fail(vg_status s, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vg_status fail(vg_status s, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- name table -------------------------------------------------------------- */

typedef struct name_table {
    size_t cap;  /* power of two */
    int   *slot; /* value index, or -1 */
} name_table;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int vgi_onnx_model_find(const vgi_onnx_model *m, const char *name) {
    const name_table *t = m->names;
    if (!t || !name)
        return -1;
    for (size_t i = hash_str(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        int v = t->slot[i];
        if (v < 0)
            return -1;
        if (!strcmp(m->values[v].name, name))
            return v;
    }
}

/* Adds a new value called name; returns its index (-1 when it exists already). */
static int add_value(vgi_onnx_model *m, const char *name) {
    name_table *t = m->names;
    size_t      i = hash_str(name) & (t->cap - 1);
    for (; t->slot[i] >= 0; i = (i + 1) & (t->cap - 1))
        if (!strcmp(m->values[t->slot[i]].name, name))
            return -1;
    int             v   = m->n_values++;
    vgi_onnx_value *val = &m->values[v];
    memset(val, 0, sizeof *val);
    val->name     = name;
    val->rank     = -1;
    val->producer = val->init = val->input = -1;
    t->slot[i]                             = v;
    return v;
}

/* ---- attributes -------------------------------------------------------------- */

static const Onnx__AttributeProto *attr_find(const vgi_onnx_node *n, const char *name) {
    const Onnx__NodeProto *p = n->proto;
    for (size_t i = 0; i < p->n_attribute; i++)
        if (p->attribute[i]->name && !strcmp(p->attribute[i]->name, name))
            return p->attribute[i];
    return NULL;
}

bool vgi_onnx_attr_has(const vgi_onnx_node *n, const char *name) {
    return attr_find(n, name) != NULL;
}

int64_t vgi_onnx_attr_int(const vgi_onnx_node *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    return a && a->has_i ? a->i : def;
}

float vgi_onnx_attr_float(const vgi_onnx_node *n, const char *name, float def) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    return a && a->has_f ? a->f : def;
}

const char *vgi_onnx_attr_string(const vgi_onnx_node *n, const char *name, const char *def,
                                 char *buf, size_t len) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    if (!a || !a->has_s) {
        snprintf(buf, len, "%s", def ? def : "");
        return buf;
    }
    size_t k = a->s.len < len - 1 ? a->s.len : len - 1;
    memcpy(buf, a->s.data, k);
    buf[k] = '\0';
    return buf;
}

int vgi_onnx_attr_ints(const vgi_onnx_node *n, const char *name, const int64_t **v) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    if (!a || (a->n_ints == 0 &&
               !(a->has_type && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)))
        return -1;
    static const int64_t none[1];
    *v = a->ints ? a->ints : none; /* never NULL, so callers may memcpy 0 bytes */
    return a->n_ints > (size_t)INT32_MAX ? -1 : (int)a->n_ints;
}

int vgi_onnx_attr_floats(const vgi_onnx_node *n, const char *name, const float **v) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    if (!a || (a->n_floats == 0 &&
               !(a->has_type && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS)))
        return -1;
    static const float none[1];
    *v = a->floats ? a->floats : none;
    return a->n_floats > (size_t)INT32_MAX ? -1 : (int)a->n_floats;
}

vg_status vgi_onnx_attr_tensor(const vgi_onnx_node *n, const char *name, vgi_onnx_tensor *out,
                               char *err, size_t errlen) {
    const Onnx__AttributeProto *a = attr_find(n, name);
    memset(out, 0, sizeof *out);
    if (!a || !a->t)
        return VG_E_NOT_FOUND;
    char what[160];
    char nd[128];
    snprintf(what, sizeof what, "attribute '%s' of %s", name, vgi_onnx_node_desc(n, nd, sizeof nd));
    return vgi_onnx_tensor_from_proto(a->t, NULL, what, out, err, errlen);
}

const char *vgi_onnx_node_desc(const vgi_onnx_node *n, char *buf, size_t len) {
    if (n->name && *n->name)
        snprintf(buf, len, "node '%s' (%s)", n->name, n->op_type);
    else
        snprintf(buf, len, "node #%d (%s)", n->index, n->op_type);
    return buf;
}

/* ---- loading ----------------------------------------------------------------- */

void vgi_onnx_model_destroy(vgi_onnx_model *m) {
    if (!m)
        return;
    for (int i = 0; i < m->n_inits; i++)
        vgi_onnx_tensor_fini(&m->inits[i]);
    vg_free(m->inits);
    if (m->nodes) {
        for (int i = 0; i < m->n_nodes; i++)
            vg_free(m->nodes[i].in); /* in and out share one block */
    }
    vg_free(m->nodes);
    vg_free(m->values);
    vg_free(m->inputs);
    vg_free(m->outputs);
    if (m->names) {
        name_table *t = m->names;
        vg_free(t->slot);
        vg_free(t);
    }
    vgi_onnx_pb_alloc *a = m->pb_alloc;
    if (m->proto)
        onnx__model_proto__free_unpacked(m->proto, &a->base);
    vg_free(a);
    vg_free(m);
}

/* Reads a value's declared type (from graph input/output/value_info). */
static vg_status read_type(vgi_onnx_value *v, const Onnx__ValueInfoProto *vi, const char *role,
                           char *err, size_t errlen) {
    const Onnx__TypeProto *tp = vi->type;
    if (!tp)
        return VG_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return fail(VG_E_UNSUPPORTED, err, errlen,
                    "%s '%s' is not a tensor (sequences, maps and optionals are not supported)",
                    role, vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt)
        return VG_OK;
    if (tt->has_elem_type)
        v->dtype = tt->elem_type;
    if (!tt->shape)
        return VG_OK;
    if (tt->shape->n_dim > VGI_ONNX_MAX_RANK)
        return fail(VG_E_UNSUPPORTED, err, errlen, "%s '%s' has rank %zu; at most %d supported",
                    role, vi->name, tt->shape->n_dim, VGI_ONNX_MAX_RANK);
    v->rank = (int)tt->shape->n_dim;
    for (int i = 0; i < v->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        v->dims[i]                                 = -1;
        v->dim_param[i]                            = NULL;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0 || d->dim_value > VGI_ONNX_MAX_DIM)
                return fail(VG_E_FORMAT, err, errlen, "%s '%s': dimension %d is %lld (absurd)",
                            role, vi->name, i, (long long)d->dim_value);
            v->dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            v->dim_param[i] = d->dim_param;
        }
    }
    return VG_OK;
}

static vg_status build(vgi_onnx_model *m, const char *base_dir, const vgi_onnx_load_params *p,
                       char *err, size_t errlen) {
    const Onnx__ModelProto *mp = m->proto;
    const Onnx__GraphProto *g  = mp->graph;
    if (!g)
        return fail(VG_E_FORMAT, err, errlen, "the model has no graph");
    m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    m->producer   = mp->producer_name ? mp->producer_name : "";
    m->opset      = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if ((!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) && o->has_version)
            m->opset = o->version > INT32_MAX || o->version < 0 ? INT32_MAX : (int)o->version;
    }
    if (m->opset < 0 && mp->n_opset_import == 0)
        return fail(VG_E_FORMAT, err, errlen, "the model imports no opset (opset_import is empty)");
    if (m->opset < 0)
        return fail(VG_E_UNSUPPORTED, err, errlen,
                    "the model uses only the '%s' domain; vigil supports the default (ai.onnx) "
                    "domain",
                    mp->opset_import[0]->domain ? mp->opset_import[0]->domain : "");
    if (m->opset < VGI_ONNX_OPSET_MIN || m->opset > VGI_ONNX_OPSET_MAX)
        return fail(VG_E_UNSUPPORTED, err, errlen,
                    "the model uses opset %d; vigil reads opsets %d to %d (re-export it, e.g. "
                    "torch.onnx.export(..., opset_version=%d))",
                    m->opset, VGI_ONNX_OPSET_MIN, VGI_ONNX_OPSET_MAX, 13);

    /* Upper bound on the number of distinct names. Each term is bounded by
     * what the decoder really found in the file. */
    size_t nv = g->n_input + g->n_initializer + (size_t)(p ? p->n_bind : 0);
    for (size_t i = 0; i < g->n_node; i++)
        nv += g->node[i]->n_output;
    if (nv > (size_t)INT32_MAX / 4 || g->n_node > (size_t)INT32_MAX / 4)
        return fail(VG_E_UNSUPPORTED, err, errlen, "the graph is too large");
    name_table *t = vg_calloc(1, sizeof *t);
    if (!t)
        return VG_E_NOMEM;
    m->names = t;
    t->cap   = 16;
    while (t->cap < nv * 2)
        t->cap *= 2;
    if (!(t->slot = vg_malloc(t->cap * sizeof *t->slot)))
        return VG_E_NOMEM;
    memset(t->slot, 0xff, t->cap * sizeof *t->slot);
    m->values  = vg_calloc(nv ? nv : 1, sizeof *m->values);
    m->inits   = vg_calloc(g->n_initializer + (size_t)(p ? p->n_bind : 0) + 1, sizeof *m->inits);
    m->inputs  = vg_calloc(g->n_input + 1, sizeof *m->inputs);
    m->outputs = vg_calloc(g->n_output + 1, sizeof *m->outputs);
    m->nodes   = vg_calloc(g->n_node + 1, sizeof *m->nodes);
    if (!m->values || !m->inits || !m->inputs || !m->outputs || !m->nodes)
        return VG_E_NOMEM;

    /* Initializers. */
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *tp = g->initializer[i];
        if (!tp->name || !*tp->name)
            return fail(VG_E_FORMAT, err, errlen, "initializer #%zu has no name", i);
        int v = add_value(m, tp->name);
        if (v < 0)
            return fail(VG_E_FORMAT, err, errlen, "initializer '%s' is defined twice", tp->name);
        vg_status s = vgi_onnx_tensor_from_proto(tp, base_dir, "initializer", &m->inits[m->n_inits],
                                                 err, errlen);
        if (s != VG_OK)
            return s;
        /* The dense copy is all that is needed from now on: give the decoded
         * bytes back early (protobuf-c skips NULL bytes fields when freeing). */
        if (tp->has_raw_data && tp->raw_data.data) {
            vgi_onnx_pb_alloc *pa = m->pb_alloc;
            pa->base.free(pa, tp->raw_data.data);
            tp->raw_data.data = NULL;
            tp->raw_data.len  = 0;
            tp->has_raw_data  = 0;
        }
        vgi_onnx_value *val = &m->values[v];
        val->init           = m->n_inits++;
        val->dtype          = tp->data_type;
        val->rank           = m->inits[val->init].rank;
        memcpy(val->dims, m->inits[val->init].dims, sizeof val->dims);
    }

    /* Graph inputs: those with an initializer of the same name are constants. */
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        if (!vi->name || !*vi->name)
            return fail(VG_E_FORMAT, err, errlen, "graph input #%zu has no name", i);
        int v = vgi_onnx_model_find(m, vi->name);
        if (v >= 0 && m->values[v].init >= 0)
            continue;
        if (v >= 0)
            return fail(VG_E_FORMAT, err, errlen, "graph input '%s' is declared twice", vi->name);
        v                   = add_value(m, vi->name);
        vgi_onnx_value *val = &m->values[v];
        vg_status       s   = read_type(val, vi, "graph input", err, errlen);
        if (s != VG_OK)
            return s;
        const vgi_onnx_tensor *bound = NULL;
        for (int b = 0; p && b < p->n_bind; b++)
            if (p->bind[b].name && !strcmp(p->bind[b].name, vi->name))
                bound = &p->bind[b];
        if (bound) {
            vgi_onnx_tensor *ti = &m->inits[m->n_inits];
            *ti                 = *bound;
            ti->name            = NULL;
            ti->data            = NULL;
            size_t bytes        = (size_t)bound->numel * vgi_onnx_dtype_size(bound->dtype);
            if (bytes && !(ti->data = vg_malloc(bytes)))
                return VG_E_NOMEM;
            if (bytes)
                memcpy(ti->data, bound->data, bytes);
            val->init  = m->n_inits++;
            val->dtype = ti->dtype;
            val->rank  = ti->rank;
            memcpy(val->dims, ti->dims, sizeof val->dims);
            continue;
        }
        val->input               = m->n_inputs;
        m->inputs[m->n_inputs++] = v;
    }

    /* Nodes: outputs first (any order of definition is allowed before sorting). */
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *np = g->node[i];
        vgi_onnx_node         *n  = &m->nodes[i];
        n->proto                  = np;
        n->index                  = (int)i;
        n->name                   = np->name ? np->name : "";
        n->op_type                = np->op_type ? np->op_type : "";
        n->domain                 = np->domain ? np->domain : "";
        n->opset                  = m->opset;
        if (!strcmp(n->domain, "ai.onnx"))
            n->domain = "";
        if (np->n_input > (size_t)INT32_MAX / 4 || np->n_output > (size_t)INT32_MAX / 4)
            return fail(VG_E_FORMAT, err, errlen, "node #%zu has absurdly many inputs", i);
        n->n_in  = (int)np->n_input;
        n->n_out = (int)np->n_output;
        if (!(n->in = vg_malloc(((size_t)n->n_in + (size_t)n->n_out + 1) * sizeof(int))))
            return VG_E_NOMEM;
        n->out = n->in + n->n_in;
        m->n_nodes++;
        char nd[256];
        if (!*n->op_type)
            return fail(VG_E_FORMAT, err, errlen, "node #%zu has no op_type", i);
        for (int k = 0; k < n->n_out; k++) {
            const char *o = np->output[k];
            n->out[k]     = -1;
            if (!o || !*o)
                continue;
            int v = add_value(m, o);
            if (v < 0) {
                int             w   = vgi_onnx_model_find(m, o);
                vgi_onnx_value *val = &m->values[w];
                if (val->producer >= 0) {
                    char nd2[256];
                    return fail(VG_E_FORMAT, err, errlen,
                                "value '%s' is produced twice: by %s and by %s", o,
                                vgi_onnx_node_desc(&m->nodes[val->producer], nd2, sizeof nd2),
                                vgi_onnx_node_desc(n, nd, sizeof nd));
                }
                return fail(VG_E_FORMAT, err, errlen,
                            "%s writes '%s', which is already a graph input or initializer",
                            vgi_onnx_node_desc(n, nd, sizeof nd), o);
            }
            m->values[v].producer = (int)i;
            n->out[k]             = v;
        }
    }
    for (int i = 0; i < m->n_nodes; i++) {
        vgi_onnx_node *n = &m->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            const char *in = n->proto->input[k];
            n->in[k]       = -1;
            if (!in || !*in)
                continue;
            int v = vgi_onnx_model_find(m, in);
            if (v < 0) {
                char nd[256];
                return fail(VG_E_FORMAT, err, errlen,
                            "%s reads '%s', which no node, initializer or graph input produces "
                            "(dangling input)",
                            vgi_onnx_node_desc(n, nd, sizeof nd), in);
            }
            n->in[k] = v;
            m->values[v].n_uses++;
        }
    }
    for (size_t i = 0; i < g->n_output; i++) {
        const Onnx__ValueInfoProto *vi = g->output[i];
        int                         v  = vi->name ? vgi_onnx_model_find(m, vi->name) : -1;
        if (v < 0)
            return fail(VG_E_FORMAT, err, errlen,
                        "graph output '%s' is not produced by any node or initializer",
                        vi->name ? vi->name : "");
        vgi_onnx_value *val = &m->values[v];
        val->n_uses++;
        if (val->producer >= 0 && val->rank < 0) {
            vg_status s = read_type(val, vi, "graph output", err, errlen);
            if (s != VG_OK)
                return s;
        }
        m->outputs[m->n_outputs++] = v;
    }
    if (m->n_outputs == 0)
        return fail(VG_E_FORMAT, err, errlen, "the graph has no outputs");

    /* Topological sort (Kahn). pending[i] = inputs of node i not yet available. */
    int *pending = vg_calloc((size_t)m->n_nodes + 1, sizeof *pending);
    int *order   = vg_calloc((size_t)m->n_nodes + 1, sizeof *order);
    int *ready   = vg_calloc((size_t)m->n_nodes + 1, sizeof *ready);
    /* consumers: CSR lists of nodes reading each value */
    int   *cstart   = vg_calloc((size_t)m->n_values + 1, sizeof *cstart);
    size_t total_in = 0;
    for (int i = 0; i < m->n_nodes; i++)
        total_in += (size_t)m->nodes[i].n_in;
    int      *clist = vg_calloc(total_in + 1, sizeof *clist);
    int      *cfill = vg_calloc((size_t)m->n_values + 1, sizeof *cfill);
    vg_status s     = VG_OK;
    if (!pending || !order || !ready || !cstart || !clist || !cfill) {
        s = VG_E_NOMEM;
        goto sort_done;
    }
    for (int i = 0; i < m->n_nodes; i++)
        for (int k = 0; k < m->nodes[i].n_in; k++)
            if (m->nodes[i].in[k] >= 0)
                cstart[m->nodes[i].in[k] + 1]++;
    for (int v = 0; v < m->n_values; v++)
        cstart[v + 1] += cstart[v];
    int nready = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        for (int k = 0; k < m->nodes[i].n_in; k++) {
            int v = m->nodes[i].in[k];
            if (v < 0)
                continue;
            clist[cstart[v] + cfill[v]++] = i;
            if (m->values[v].producer >= 0)
                pending[i]++;
        }
        if (pending[i] == 0)
            ready[nready++] = i;
    }
    int nout = 0;
    while (nready > 0) {
        int i                  = ready[--nready];
        order[nout++]          = i;
        const vgi_onnx_node *n = &m->nodes[i];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            for (int c = cstart[v]; c < cstart[v + 1]; c++)
                if (--pending[clist[c]] == 0)
                    ready[nready++] = clist[c];
        }
    }
    if (nout != m->n_nodes) {
        int bad = 0;
        while (pending[bad] == 0)
            bad++;
        char nd[256];
        s = fail(VG_E_FORMAT, err, errlen,
                 "the graph has a cycle: %s (and %d other nodes) depend on their own outputs",
                 vgi_onnx_node_desc(&m->nodes[bad], nd, sizeof nd), m->n_nodes - nout - 1);
        goto sort_done;
    }
    /* Kahn with a stack reverses independent branches; stable order is nicer
     * for messages but not needed. Permute nodes into the sorted order. */
    {
        vgi_onnx_node *sorted = vg_calloc((size_t)m->n_nodes + 1, sizeof *sorted);
        if (!sorted) {
            s = VG_E_NOMEM;
            goto sort_done;
        }
        int *newpos = pending; /* reuse: pending is all zeros now */
        for (int i = 0; i < m->n_nodes; i++) {
            sorted[i]        = m->nodes[order[i]];
            newpos[order[i]] = i;
        }
        for (int v = 0; v < m->n_values; v++)
            if (m->values[v].producer >= 0)
                m->values[v].producer = newpos[m->values[v].producer];
        vg_free(m->nodes);
        m->nodes = sorted;
    }
sort_done:
    vg_free(pending);
    vg_free(order);
    vg_free(ready);
    vg_free(cstart);
    vg_free(clist);
    vg_free(cfill);
    if (s != VG_OK)
        return s;

    /* value_info: shapes of intermediate values, when the exporter recorded them. */
    for (size_t i = 0; i < g->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = g->value_info[i];
        int                         v  = vi->name ? vgi_onnx_model_find(m, vi->name) : -1;
        if (v >= 0 && m->values[v].producer >= 0 && m->values[v].rank < 0) {
            vg_status s2 = read_type(&m->values[v], vi, "value", err, errlen);
            if (s2 == VG_E_UNSUPPORTED)
                m->values[v].rank = -1; /* informational only: ignore odd value_info */
            else if (s2 != VG_OK)
                return s2;
        }
    }
    return VG_OK;
}

/* Decodes data and builds the model. When owned_buf is set, *owned_buf is
 * data and is freed right after decoding, so that a large model does not
 * sit in memory three times (file bytes, decoded message, tensors). */
static vg_status load_impl(const void *data, size_t size, void **owned_buf,
                           const vgi_onnx_load_params *p, vgi_onnx_model **out, char *err,
                           size_t errlen) {
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!data && size)
        return fail(VG_E_INVALID_ARG, err, errlen, "no model data");
    vgi_onnx_model *m = vg_calloc(1, sizeof *m);
    if (!m)
        return VG_E_NOMEM;
    vgi_onnx_pb_alloc *a = vg_malloc(sizeof *a);
    if (!a) {
        vg_free(m);
        return VG_E_NOMEM;
    }
    vgi_onnx_pb_alloc_init(a, size);
    m->pb_alloc = a;
    m->proto    = onnx__model_proto__unpack(&a->base, size, data);
    if (owned_buf)
        vg_freep(owned_buf);
    vg_status s = VG_OK;
    if (!m->proto) {
        if (a->oom)
            s = VG_E_NOMEM;
        else
            s = fail(VG_E_FORMAT, err, errlen,
                     "not a valid ONNX model: the protobuf is truncated or garbled%s",
                     a->over_budget ? " (it describes far more data than the file holds)" : "");
    } else {
        s = build(m, p ? p->base_dir : NULL, p, err, errlen);
    }
    if (s == VG_E_NOMEM)
        fail(s, err, errlen, "out of memory while loading the model");
    if (s != VG_OK) {
        vgi_onnx_model_destroy(m);
        return s;
    }
    *out = m;
    return VG_OK;
}

vg_status vgi_onnx_model_load_buffer(const void *data, size_t size, const vgi_onnx_load_params *p,
                                     vgi_onnx_model **out, char *err, size_t errlen) {
    return load_impl(data, size, NULL, p, out, err, errlen);
}

vg_status vgi_onnx_model_load_file(const char *path, const vgi_onnx_load_params *p,
                                   vgi_onnx_model **out, char *err, size_t errlen) {
    *out    = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(VG_E_IO, err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(VG_E_IO, err, errlen, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > VGI_ONNX_MAX_FILE_BYTES) {
        fclose(f);
        return fail(VG_E_UNSUPPORTED, err, errlen,
                    "%s: %lld bytes; models over 4 GiB must keep weights in external data", path,
                    (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    void  *buf  = vg_malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return fail(VG_E_NOMEM, err, errlen, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        vg_free(buf);
        return fail(VG_E_IO, err, errlen, "%s: short read", path);
    }
    /* External data lives next to the model file. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else if (slash)
        dir[1] = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    vgi_onnx_load_params lp = {0};
    if (p)
        lp = *p;
    if (!lp.base_dir)
        lp.base_dir = dir;
    char      em[2048] = "";
    vg_status s        = load_impl(buf, size, &buf, &lp, out, em, sizeof em);
    vg_free(buf); /* NULL unless load_impl failed before decoding */
    if (s != VG_OK)
        fail(s, err, errlen, "%s: %s", path, em);
    return s;
}

/* ---- rewriting: bound inputs -> initializers ---------------------------------------- */

vg_status vgi_onnx_write_bound_model(const char *path, const vgi_onnx_tensor *bind, int n_bind,
                                     const char *out_path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(VG_E_IO, err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > VGI_ONNX_MAX_FILE_BYTES) {
        fclose(f);
        return fail(VG_E_IO, err, errlen, "%s: not a regular file of sane size", path);
    }
    size_t size = (size_t)st.st_size;
    void  *buf  = vg_malloc(size ? size : 1);
    if (!buf || fread(buf, 1, size, f) != size) {
        fclose(f);
        vg_free(buf);
        return fail(buf ? VG_E_IO : VG_E_NOMEM, err, errlen, "%s: cannot read", path);
    }
    fclose(f);
    vgi_onnx_pb_alloc a;
    vgi_onnx_pb_alloc_init(&a, size);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&a.base, size, buf);
    vg_free(buf);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, &a.base);
        return fail(VG_E_FORMAT, err, errlen, "%s: not a valid ONNX model", path);
    }
    Onnx__GraphProto   *g     = mp->graph;
    size_t              n_old = g->n_initializer;
    Onnx__TensorProto **old   = g->initializer;
    Onnx__TensorProto  *tps   = vg_calloc((size_t)n_bind + 1, sizeof *tps);
    Onnx__TensorProto **all   = vg_calloc(n_old + (size_t)n_bind + 1, sizeof *all);
    vg_status           s     = VG_OK;
    if (!tps || !all) {
        s = VG_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_old; i++)
        all[i] = old[i];
    for (int i = 0; i < n_bind; i++) {
        const vgi_onnx_tensor *t  = &bind[i];
        Onnx__TensorProto     *tp = &tps[i];
        onnx__tensor_proto__init(tp);
        tp->name               = t->name;
        tp->has_data_type      = 1;
        tp->data_type          = t->dtype;
        tp->n_dims             = (size_t)t->rank;
        tp->dims               = (int64_t *)t->dims;
        tp->has_raw_data       = 1;
        tp->raw_data.len       = (size_t)t->numel * vgi_onnx_dtype_size(t->dtype);
        tp->raw_data.data      = t->data;
        all[n_old + (size_t)i] = tp;
    }
    g->initializer   = all;
    g->n_initializer = n_old + (size_t)n_bind;
    size_t   psize   = onnx__model_proto__get_packed_size(mp);
    uint8_t *out     = vg_malloc(psize ? psize : 1);
    if (!out) {
        s = VG_E_NOMEM;
    } else {
        onnx__model_proto__pack(mp, out);
        FILE *o = fopen(out_path, "wb");
        if (!o || fwrite(out, 1, psize, o) != psize)
            s = fail(VG_E_IO, err, errlen, "%s: cannot write: %s", out_path, strerror(errno));
        if (o && fclose(o) != 0 && s == VG_OK)
            s = fail(VG_E_IO, err, errlen, "%s: cannot write", out_path);
        vg_free(out);
    }
    g->initializer   = old;
    g->n_initializer = n_old;
done:
    vg_free(all);
    vg_free(tps);
    onnx__model_proto__free_unpacked(mp, &a.base);
    return s;
}
