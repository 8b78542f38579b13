/*
 * onnx_model_builder.h - builds small ONNX models in memory for tests, with
 * the protoc-c generated structs (header-only, test code).
 *
 *     mb_model b;
 *     mb_init(&b, 13);
 *     mb_input(&b, "x", 1, (int64_t[]){1, 3, 4, 4}, 4);
 *     mb_node(&b, "relu1", "Relu", (const char *[]){"x"}, 1, (const char *[]){"y"}, 1);
 *     mb_output(&b, "y", 1);
 *     size_t n; uint8_t *buf = mb_pack(&b, &n);   (free() it)
 */
#ifndef VG_TESTS_ONNX_MODEL_BUILDER_H
#define VG_TESTS_ONNX_MODEL_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define MB_MAX 16

typedef struct mb_value {
    Onnx__ValueInfoProto               vi;
    Onnx__TypeProto                    tp;
    Onnx__TypeProto__Tensor            tt;
    Onnx__TensorShapeProto             sh;
    Onnx__TensorShapeProto__Dimension  d[8];
    Onnx__TensorShapeProto__Dimension *dp[8];
} mb_value;

typedef struct mb_model {
    Onnx__ModelProto             m;
    Onnx__GraphProto             g;
    Onnx__OperatorSetIdProto     opset, *opsets[1];
    Onnx__NodeProto              nodes[MB_MAX], *np[MB_MAX];
    Onnx__AttributeProto         attrs[MB_MAX], *ap[MB_MAX];
    Onnx__TensorProto            inits[MB_MAX], *ip[MB_MAX];
    Onnx__StringStringEntryProto ext[MB_MAX][3], *extp[MB_MAX][3];
    mb_value                     in[MB_MAX], out[MB_MAX];
    Onnx__ValueInfoProto        *inp[MB_MAX], *outp[MB_MAX];
} mb_model;

static inline void mb_init(mb_model *b, int64_t opset) {
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->opset);
    b->m.has_ir_version  = 1;
    b->m.ir_version      = 8;
    b->opset.domain      = (char *)"";
    b->opset.has_version = 1;
    b->opset.version     = opset;
    b->opsets[0]         = &b->opset;
    b->m.n_opset_import  = 1;
    b->m.opset_import    = b->opsets;
    b->m.graph           = &b->g;
    b->g.name            = (char *)"test";
    b->g.node            = b->np;
    b->g.initializer     = b->ip;
    b->g.input           = b->inp;
    b->g.output          = b->outp;
}

static inline void mb_value_init(mb_value *v, const char *name, int32_t dtype, const int64_t *dims,
                                 int rank) {
    onnx__value_info_proto__init(&v->vi);
    onnx__type_proto__init(&v->tp);
    onnx__type_proto__tensor__init(&v->tt);
    onnx__tensor_shape_proto__init(&v->sh);
    v->vi.name          = (char *)name;
    v->vi.type          = &v->tp;
    v->tp.value_case    = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    v->tp.tensor_type   = &v->tt;
    v->tt.has_elem_type = 1;
    v->tt.elem_type     = dtype;
    if (rank >= 0) {
        v->tt.shape = &v->sh;
        v->sh.n_dim = (size_t)rank;
        v->sh.dim   = v->dp;
        for (int i = 0; i < rank; i++) {
            onnx__tensor_shape_proto__dimension__init(&v->d[i]);
            if (dims[i] < 0) {
                v->d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                v->d[i].dim_param  = (char *)"batch";
            } else {
                v->d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                v->d[i].dim_value  = dims[i];
            }
            v->dp[i] = &v->d[i];
        }
    }
}

/* Graph input of dtype (1 = float) and shape (-1 = symbolic "batch"; rank -1: no shape). */
static inline void mb_input(mb_model *b, const char *name, int32_t dtype, const int64_t *dims,
                            int rank) {
    mb_value *v = &b->in[b->g.n_input];
    mb_value_init(v, name, dtype, dims, rank);
    b->inp[b->g.n_input++] = &v->vi;
}

static inline void mb_output(mb_model *b, const char *name, int32_t dtype) {
    mb_value *v = &b->out[b->g.n_output];
    mb_value_init(v, name, dtype, NULL, -1);
    b->outp[b->g.n_output++] = &v->vi;
}

static inline Onnx__NodeProto *mb_node(mb_model *b, const char *name, const char *op,
                                       const char *const *in, int n_in, const char *const *out,
                                       int n_out) {
    Onnx__NodeProto *n = &b->nodes[b->g.n_node];
    onnx__node_proto__init(n);
    n->name              = (char *)name;
    n->op_type           = (char *)op;
    n->n_input           = (size_t)n_in;
    n->input             = (char **)in;
    n->n_output          = (size_t)n_out;
    n->output            = (char **)out;
    b->np[b->g.n_node++] = n;
    return n;
}

/* Adds an int attribute to node n (one attribute slot per call, shared pool). */
static inline void mb_attr_int(mb_model *b, Onnx__NodeProto *n, int slot, const char *name,
                               int64_t v) {
    Onnx__AttributeProto *a = &b->attrs[slot];
    onnx__attribute_proto__init(a);
    a->name        = (char *)name;
    a->has_type    = 1;
    a->type        = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i       = 1;
    a->i           = v;
    b->ap[slot]    = a;
    n->attribute   = &b->ap[slot];
    n->n_attribute = 1;
}

/* Float initializer with raw_data (data borrowed). */
static inline Onnx__TensorProto *mb_init_raw(mb_model *b, const char *name, int32_t dtype,
                                             const int64_t *dims, int rank, const void *data,
                                             size_t bytes) {
    Onnx__TensorProto *t = &b->inits[b->g.n_initializer];
    onnx__tensor_proto__init(t);
    t->name                     = (char *)name;
    t->has_data_type            = 1;
    t->data_type                = dtype;
    t->n_dims                   = (size_t)rank;
    t->dims                     = (int64_t *)dims;
    t->has_raw_data             = 1;
    t->raw_data.len             = bytes;
    t->raw_data.data            = (uint8_t *)data;
    b->ip[b->g.n_initializer++] = t;
    return t;
}

/* Initializer whose data lives in an external file. */
static inline Onnx__TensorProto *mb_init_external(mb_model *b, const char *name,
                                                  const int64_t *dims, int rank,
                                                  const char *location, const char *offset) {
    int                k = (int)b->g.n_initializer;
    Onnx__TensorProto *t = mb_init_raw(b, name, 1, dims, rank, NULL, 0);
    t->has_raw_data      = 0;
    t->has_data_location = 1;
    t->data_location     = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    int ne               = 0;
    onnx__string_string_entry_proto__init(&b->ext[k][ne]);
    b->ext[k][ne].key   = (char *)"location";
    b->ext[k][ne].value = (char *)location;
    b->extp[k][ne]      = &b->ext[k][ne];
    ne++;
    if (offset) {
        onnx__string_string_entry_proto__init(&b->ext[k][ne]);
        b->ext[k][ne].key   = (char *)"offset";
        b->ext[k][ne].value = (char *)offset;
        b->extp[k][ne]      = &b->ext[k][ne];
        ne++;
    }
    t->n_external_data = (size_t)ne;
    t->external_data   = b->extp[k];
    return t;
}

static inline uint8_t *mb_pack(const mb_model *b, size_t *len) {
    *len         = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        onnx__model_proto__pack(&b->m, buf);
    return buf;
}

#endif /* VG_TESTS_ONNX_MODEL_BUILDER_H */
