/*
 * graph.c - the IR graph: values, nodes, builder, topological sort, pruning.
 *
 * DESIGN
 * The graph is a pair of growable arrays (values, nodes) addressed by index,
 * so rewrites (optimiser) only change integers. Builder calls record; they
 * never compute. A graph is built by one thread (an importer) and is then
 * read-only, shared by every session of the model. Constants own their data
 * (vg_malloc'ed); everything is freed by vgi_graph_destroy().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "engine/ir.h"
#include "vigil/alloc.h"

vg_status vgi_err_set(vgi_err *err, vg_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return status;
}

vg_status vgi_graph_create(vgi_graph **out) {
    *out = vg_calloc(1, sizeof(vgi_graph));
    return *out ? VG_OK : VG_E_NOMEM;
}

void vgi_graph_destroy(vgi_graph *g) {
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++) {
        vg_free(g->values[i].name);
        vg_free(g->values[i].data);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        vg_free(g->nodes[i].name);
        vg_free(g->nodes[i].in);
        vg_free(g->nodes[i].out);
    }
    for (int i = 0; i < g->n_inputs; i++)
        vg_free(g->inputs[i].name);
    for (int i = 0; i < g->n_outputs; i++)
        vg_free(g->outputs[i].name);
    vg_free(g->values);
    vg_free(g->nodes);
    vg_free(g->inputs);
    vg_free(g->outputs);
    vg_free(g->source);
    vg_free(g);
}

static vg_status grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap)
        return VG_OK;
    int n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = vg_realloc(*arr, (size_t)n * elem);
    if (!p)
        return VG_E_NOMEM;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
    *arr = p;
    *cap = n;
    return VG_OK;
}

vg_status vgi_graph_add_value(vgi_graph *g, const char *name, vg_dtype dtype, const vg_shape *shape,
                              int *id) {
    if (grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof(vgi_value)))
        return VG_E_NOMEM;
    vgi_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof(*v));
    v->name = vg_strdup(name ? name : "");
    if (!v->name)
        return VG_E_NOMEM;
    v->dtype = dtype;
    if (shape)
        v->shape = *shape;
    else
        v->shape.ndim = -1;
    v->producer = -1;
    *id         = g->n_values++;
    return VG_OK;
}

vg_status vgi_graph_add_const(vgi_graph *g, const char *name, vg_dtype dtype, const vg_shape *shape,
                              void *data, int *id) {
    vg_status st = vgi_graph_add_value(g, name, dtype, shape, id);
    if (st) {
        vg_free(data);
        return st;
    }
    g->values[*id].flags |= VGI_VALUE_CONST;
    g->values[*id].data = data;
    return VG_OK;
}

vg_status vgi_graph_add_input(vgi_graph *g, const char *key, const char *value_name, vg_dtype dtype,
                              const vg_shape *shape, int *id) {
    if (grow((void **)&g->inputs, &g->cap_inputs, g->n_inputs + 1, sizeof(vgi_io)))
        return VG_E_NOMEM;
    vgi_io *io = &g->inputs[g->n_inputs];
    io->name   = vg_strdup(key ? key : value_name);
    if (!io->name)
        return VG_E_NOMEM;
    vg_status st = vgi_graph_add_value(g, value_name, dtype, shape, id);
    if (st) {
        vg_freep(&io->name);
        return st;
    }
    g->values[*id].flags |= VGI_VALUE_INPUT;
    io->value = *id;
    io->dtype = dtype;
    if (shape)
        io->shape = *shape;
    else
        io->shape.ndim = -1;
    g->n_inputs++;
    return VG_OK;
}

vg_status vgi_graph_add_node(vgi_graph *g, vgi_op op, const char *name, const int *in, int n_in,
                             int n_out, const vgi_attrs *attr, int *node_id) {
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(vgi_node)))
        return VG_E_NOMEM;
    vgi_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof(*n));
    n->op   = op;
    n->name = vg_strdup(name ? name : "");
    n->in   = vg_calloc((size_t)(n_in > 0 ? n_in : 1), sizeof(int));
    n->out  = vg_calloc((size_t)(n_out > 0 ? n_out : 1), sizeof(int));
    if (!n->name || !n->in || !n->out)
        goto fail;
    if (n_in > 0)
        memcpy(n->in, in, (size_t)n_in * sizeof(int));
    n->n_in = n_in;
    if (attr)
        n->attr = *attr;
    int first_value = g->n_values;
    for (int k = 0; k < n_out; k++) {
        char vname[1200];
        if (k == 0)
            snprintf(vname, sizeof(vname), "%s", n->name);
        else
            snprintf(vname, sizeof(vname), "%s:%d", n->name, k);
        int vid;
        if (vgi_graph_add_value(g, vname, VG_DTYPE_UNKNOWN, NULL, &vid)) {
            /* Undo the values added for this node. */
            for (int j = first_value; j < g->n_values; j++)
                vg_free(g->values[j].name);
            g->n_values = first_value;
            goto fail;
        }
        g->values[vid].producer = g->n_nodes;
        n->out[k]               = vid;
    }
    n->n_out = n_out;
    if (node_id)
        *node_id = g->n_nodes;
    g->n_nodes++;
    return VG_OK;
fail:
    vg_freep(&n->name);
    vg_freep(&n->in);
    vg_freep(&n->out);
    return VG_E_NOMEM;
}

vg_status vgi_graph_add_output(vgi_graph *g, const char *key, int value, vg_dtype dtype,
                               const vg_shape *shape) {
    if (grow((void **)&g->outputs, &g->cap_outputs, g->n_outputs + 1, sizeof(vgi_io)))
        return VG_E_NOMEM;
    vgi_io *io = &g->outputs[g->n_outputs];
    io->name   = vg_strdup(key);
    if (!io->name)
        return VG_E_NOMEM;
    io->value = value;
    io->dtype = dtype;
    if (shape)
        io->shape = *shape;
    else
        io->shape.ndim = -1;
    g->values[value].flags |= VGI_VALUE_OUTPUT;
    g->n_outputs++;
    return VG_OK;
}

int vgi_graph_find_value(const vgi_graph *g, const char *name) {
    for (int i = 0; i < g->n_values; i++)
        if (!strcmp(g->values[i].name, name))
            return i;
    return -1;
}

/* Kahn-free DFS order: a node is placed after all producers of its inputs. */
vg_status vgi_graph_toposort(vgi_graph *g, vgi_err *err) {
    int       n      = g->n_nodes;
    vg_status st     = VG_OK;
    int      *state  = vg_calloc((size_t)(n ? n : 1), sizeof(int)); /* 0 new, 1 active, 2 done */
    int      *order  = vg_malloc((size_t)(n ? n : 1) * sizeof(int));
    int      *stack  = vg_malloc((size_t)(n ? n : 1) * sizeof(int));
    int      *argpos = vg_calloc((size_t)(n ? n : 1), sizeof(int));
    vgi_node *sorted = vg_malloc((size_t)(n ? n : 1) * sizeof(vgi_node));
    int      *remap  = vg_malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!state || !order || !stack || !argpos || !sorted || !remap) {
        st = VG_E_NOMEM;
        goto done;
    }
    int n_order = 0;
    for (int root = 0; root < n; root++) {
        if (state[root])
            continue;
        int sp      = 0;
        stack[sp++] = root;
        state[root] = 1;
        while (sp) {
            int       cur    = stack[sp - 1];
            vgi_node *nd     = &g->nodes[cur];
            bool      pushed = false;
            while (argpos[cur] < nd->n_in) {
                int v = nd->in[argpos[cur]++];
                if (v < 0)
                    continue;
                int p = g->values[v].producer;
                if (p < 0)
                    continue;
                if (state[p] == 1) {
                    st = vgi_err_set(err, VG_E_FORMAT, "%s: node '%s' is on a cycle of the graph",
                                     g->source ? g->source : "graph", nd->name);
                    goto done;
                }
                if (state[p] == 0) {
                    state[p]    = 1;
                    stack[sp++] = p;
                    pushed      = true;
                    break;
                }
            }
            if (!pushed) {
                state[cur]       = 2;
                order[n_order++] = cur;
                sp--;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        sorted[i]       = g->nodes[order[i]];
        remap[order[i]] = i;
    }
    if (n > 0)
        memcpy(g->nodes, sorted, (size_t)n * sizeof(vgi_node));
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].producer >= 0)
            g->values[v].producer = remap[g->values[v].producer];
done:
    vg_free(state);
    vg_free(order);
    vg_free(stack);
    vg_free(argpos);
    vg_free(sorted);
    vg_free(remap);
    return st;
}

void vgi_graph_replace_uses(vgi_graph *g, int from, int to) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == from)
                g->nodes[i].in[j] = to;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == from) {
            g->outputs[i].value = to;
            g->values[to].flags |= VGI_VALUE_OUTPUT;
        }
}

int vgi_graph_use_count(const vgi_graph *g, int v) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v)
                c++;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == v)
            c++;
    return c;
}

/*
 * Marks what the outputs need, then compacts nodes and values. Value ids
 * change: every reference (node in/out, producer, io) is remapped.
 */
vg_status vgi_graph_prune(vgi_graph *g) {
    bool *live_v = vg_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof(bool));
    bool *live_n = vg_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(bool));
    int  *remap  = vg_malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof(int));
    int  *nremap = vg_malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof(int));
    if (!live_v || !live_n || !remap || !nremap) {
        vg_free(live_v);
        vg_free(live_n);
        vg_free(remap);
        vg_free(nremap);
        return VG_E_NOMEM;
    }
    for (int i = 0; i < g->n_outputs; i++)
        live_v[g->outputs[i].value] = true;
    for (int i = 0; i < g->n_inputs; i++)
        live_v[g->inputs[i].value] = true;
    /* Nodes are topologically sorted: one backward sweep marks everything. */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        vgi_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_out; k++)
            if (live_v[n->out[k]])
                live_n[i] = true;
        if (!live_n[i])
            continue;
        for (int k = 0; k < n->n_out; k++)
            live_v[n->out[k]] = true;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0)
                live_v[n->in[j]] = true;
    }
    int nv = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (live_v[v]) {
            remap[v]        = nv;
            g->values[nv++] = g->values[v];
        } else {
            remap[v] = -1;
            vg_free(g->values[v].name);
            vg_free(g->values[v].data);
        }
    }
    g->n_values = nv;
    int nn      = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (live_n[i]) {
            nremap[i]      = nn;
            g->nodes[nn++] = g->nodes[i];
        } else {
            nremap[i] = -1;
            vg_free(g->nodes[i].name);
            vg_free(g->nodes[i].in);
            vg_free(g->nodes[i].out);
        }
    }
    g->n_nodes = nn;
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0)
                n->in[j] = remap[n->in[j]];
        for (int k = 0; k < n->n_out; k++)
            n->out[k] = remap[n->out[k]];
    }
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].producer >= 0)
            g->values[v].producer = nremap[g->values[v].producer];
    for (int i = 0; i < g->n_inputs; i++)
        g->inputs[i].value = remap[g->inputs[i].value];
    for (int i = 0; i < g->n_outputs; i++)
        g->outputs[i].value = remap[g->outputs[i].value];
    vg_free(live_v);
    vg_free(live_n);
    vg_free(remap);
    vg_free(nremap);
    return VG_OK;
}
