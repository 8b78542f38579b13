/*
 * test_graph.c - see test_graph.h.
 */
#include "test_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ref/ref_impl.h"
#include "test.h"
#include "vigil/alloc.h"

static unsigned g_seed = 1;

void tg_seed(unsigned seed) {
    g_seed = seed;
}

float tg_frand(void) {
    g_seed = g_seed * 1103515245u + 12345u;
    return (float)((g_seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

vg_shape tg_shape(int nd, const int64_t *d) {
    vg_shape s;
    memset(&s, 0, sizeof(s));
    s.ndim = nd;
    for (int i = 0; i < nd; i++)
        s.dims[i] = d[i];
    return s;
}

void tg_init(tg *t) {
    memset(t, 0, sizeof(*t));
    VG_CHECK_OK(vgi_graph_create(&t->g));
}

void tg_free(tg *t) {
    vgi_graph_destroy(t->g);
    t->g = NULL;
}

int tg_input(tg *t, const char *name, int nd, const int64_t *d) {
    vg_shape s = tg_shape(nd, d);
    int      id;
    VG_CHECK_OK(vgi_graph_add_input(t->g, name, name, VG_DTYPE_F32, &s, &id));
    return id;
}

int tg_const(tg *t, const char *name, int nd, const int64_t *d, float scale) {
    vg_shape s = tg_shape(nd, d);
    int64_t  n = vg_shape_numel(&s);
    float   *p = vg_malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    VG_CHECK(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = tg_frand() * scale;
    int id;
    VG_CHECK_OK(vgi_graph_add_const(t->g, name, VG_DTYPE_F32, &s, p, &id));
    return id;
}

int tg_scalar(tg *t, const char *name, float value) {
    vg_shape s;
    memset(&s, 0, sizeof(s));
    float *p = vg_malloc(sizeof(float));
    VG_CHECK(p);
    *p = value;
    int id;
    VG_CHECK_OK(vgi_graph_add_const(t->g, name, VG_DTYPE_F32, &s, p, &id));
    return id;
}

int tg_const_i32(tg *t, const char *name, int nd, const int64_t *d, const int32_t *vals) {
    vg_shape s = tg_shape(nd, d);
    int64_t  n = vg_shape_numel(&s);
    int32_t *p = vg_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    VG_CHECK(p);
    memcpy(p, vals, (size_t)n * sizeof(int32_t));
    int id;
    VG_CHECK_OK(vgi_graph_add_const(t->g, name, VG_DTYPE_I32, &s, p, &id));
    return id;
}

int tg_node_n(tg *t, vgi_op op, const char *name, const int *in, int n_in, int n_out,
              const vgi_attrs *attr) {
    int id;
    VG_CHECK_OK(vgi_graph_add_node(t->g, op, name, in, n_in, n_out, attr, &id));
    return id;
}

int tg_node(tg *t, vgi_op op, const char *name, const int *in, int n_in, const vgi_attrs *attr) {
    int id = tg_node_n(t, op, name, in, n_in, 1, attr); /* before reading nodes: it may move */
    return t->g->nodes[id].out[0];
}

void tg_output(tg *t, int v) {
    char name[32];
    snprintf(name, sizeof(name), "out%d", t->n_out++);
    VG_CHECK_OK(vgi_graph_add_output(t->g, name, v, VG_DTYPE_UNKNOWN, NULL));
}

bool tg_is_output(const vgi_graph *g, int v) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == v)
            return true;
    return false;
}

vgi_attrs tg_conv_attr(vgi_layout l, vgi_pad_mode pm, int64_t k, int64_t s, int64_t dil,
                       int64_t groups, vgi_act_kind act, float a, float b) {
    vgi_attrs at;
    memset(&at, 0, sizeof(at));
    at.conv.layout    = l;
    at.conv.pad_mode  = pm;
    at.conv.kernel[0] = at.conv.kernel[1] = k;
    at.conv.strides[0] = at.conv.strides[1] = s;
    at.conv.dilations[0] = at.conv.dilations[1] = dil;
    at.conv.groups                              = groups;
    at.conv.act.kind                            = act;
    at.conv.act.a                               = a;
    at.conv.act.b                               = b;
    return at;
}

int tg_add_conv(tg *t, const char *name, int x, int64_t c, int64_t oc, const vgi_attrs *at,
                bool bias) {
    char    wn[64], bn[64];
    int64_t wd[4] = {oc, c / at->conv.groups, at->conv.kernel[0], at->conv.kernel[1]};
    int64_t bd[1] = {oc};
    snprintf(wn, sizeof(wn), "%s/w", name);
    snprintf(bn, sizeof(bn), "%s/b", name);
    float scale = 1.0f / sqrtf((float)(wd[1] * wd[2] * wd[3]));
    int   in[3] = {x, tg_const(t, wn, 4, wd, scale), bias ? tg_const(t, bn, 1, bd, 0.5f) : -1};
    return tg_node(t, VGI_OP_CONV, name, in, bias ? 3 : 2, at);
}

void tg_run_poison(tg_run *r, const vgi_graph *g) {
    for (int v = 0; v < r->nv; v++)
        if (g->values[v].producer >= 0 && r->dut[v].data)
            memset(r->dut[v].data, 0xff, vg_tensor_nbytes(&r->dut[v]));
}

void tg_run_ref(tg *t, tg_run *r) {
    vgi_graph *g  = t->g;
    int        nv = g->n_values;
    memset(r, 0, sizeof(*r));
    r->nv       = nv;
    r->ref      = calloc((size_t)nv, sizeof(vg_tensor));
    r->dut      = calloc((size_t)nv, sizeof(vg_tensor));
    r->external = calloc((size_t)nv, sizeof(bool));
    r->bufs     = calloc((size_t)nv * 2, sizeof(void *));
    VG_CHECK(r->ref && r->dut && r->external && r->bufs);
    vg_tensor *tr = r->ref;
    vgi_err    err;
    memset(&err, 0, sizeof(err));
    /* inputs and constants */
    for (int v = 0; v < nv; v++) {
        vgi_value *val = &g->values[v];
        if (val->flags & VGI_VALUE_CONST) {
            tr[v] = vg_tensor_make(val->dtype, val->shape.ndim, val->shape.dims, val->data);
            r->external[v] = true;
        } else if (val->flags & VGI_VALUE_INPUT) {
            tr[v]     = vg_tensor_make(val->dtype, val->shape.ndim, val->shape.dims, NULL);
            int64_t n = vg_shape_numel(&tr[v].shape);
            float  *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
            VG_CHECK(p);
            for (int64_t i = 0; i < n; i++)
                p[i] = tg_frand();
            tr[v].data = r->bufs[2 * v] = p;
            r->external[v]              = true;
        }
    }
    /* shapes, then buffers */
    for (int i = 0; i < g->n_nodes; i++) {
        vgi_infer_ctx c  = {.g = g, .n = &g->nodes[i], .vals = tr};
        vg_status     st = vgi_op_infer(&c, &err);
        VG_CHECK_MSG(st == VG_OK, "infer: %s", err.msg);
        for (int k = 0; k < g->nodes[i].n_out; k++) {
            int    v     = g->nodes[i].out[k];
            size_t bytes = vg_tensor_nbytes(&tr[v]);
            tr[v].data = r->bufs[2 * v] = malloc(bytes ? bytes : 1);
            r->bufs[2 * v + 1]          = malloc(bytes ? bytes : 1);
            VG_CHECK(tr[v].data && r->bufs[2 * v + 1]);
            r->external[v] = tg_is_output(g, v);
        }
    }
    memcpy(r->dut, tr, (size_t)nv * sizeof(vg_tensor));
    for (int v = 0; v < nv; v++)
        if (g->values[v].producer >= 0)
            r->dut[v].data = r->bufs[2 * v + 1];
    tg_run_poison(r, g);
    /* reference */
    for (int i = 0; i < g->n_nodes; i++) {
        vg_status st = vgi_ref_run_node(g, &g->nodes[i], tr, &err);
        VG_CHECK_MSG(st == VG_OK, "ref: %s", err.msg);
    }
}

void tg_run_free(tg_run *r) {
    if (r->bufs)
        for (int v = 0; v < 2 * r->nv; v++)
            free(r->bufs[v]);
    free(r->bufs);
    free(r->external);
    free(r->dut);
    free(r->ref);
    memset(r, 0, sizeof(*r));
}
