/*
 * onnx_impl.h - the ONNX importer's internal interface (not public API).
 *
 * Loading happens in two steps. vgi_onnx_model_load_*() decodes the protobuf
 * (protoc-c generated reader), reads every initializer into a dense tensor
 * (typed fields, raw_data or external files), indexes the graph's values and
 * nodes, checks the topology (dangling inputs, duplicate producers, cycles)
 * and sorts the nodes topologically. Nothing engine-specific happens there,
 * so the same model object serves the conformance runner, the fuzzer and the
 * IR builder. Every failure comes back as a vg_status plus a message naming
 * the file, node or tensor and what is wrong.
 *
 * The op table (onnx_ops.c) says which op types and opsets the importer maps
 * onto the engine; vgi_onnx_model_check_ops() lists every node it cannot map.
 */
#ifndef VG_IMPORTERS_ONNX_IMPL_H
#define VG_IMPORTERS_ONNX_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/tensor.h"

#define VGI_ONNX_MAX_RANK 8
/* The opset range of the default ("ai.onnx") domain the importer accepts.
 * 11-17 is the target; older models load too: each op's table row states
 * the opsets whose semantics it implements (Upsample exists only up to 9). */
#define VGI_ONNX_OPSET_MIN 1
#define VGI_ONNX_OPSET_MAX 17
/* Limits that keep hostile files from asking for absurd amounts of memory. */
#define VGI_ONNX_MAX_DIM        ((int64_t)1 << 31) /* one dimension */
#define VGI_ONNX_MAX_ELEMS      ((int64_t)1 << 32) /* elements in one tensor */
#define VGI_ONNX_MAX_FILE_BYTES ((size_t)4 << 30)  /* model or external-data file */

/* ONNX TensorProto.DataType codes (the subset the importer reads). */
enum {
    VGI_ONNX_UNDEFINED = 0,
    VGI_ONNX_FLOAT     = 1,
    VGI_ONNX_UINT8     = 2,
    VGI_ONNX_INT8      = 3,
    VGI_ONNX_UINT16    = 4,
    VGI_ONNX_INT16     = 5,
    VGI_ONNX_INT32     = 6,
    VGI_ONNX_INT64     = 7,
    VGI_ONNX_STRING    = 8,
    VGI_ONNX_BOOL      = 9,
    VGI_ONNX_FLOAT16   = 10,
    VGI_ONNX_DOUBLE    = 11,
    VGI_ONNX_UINT32    = 12,
    VGI_ONNX_UINT64    = 13,
};

/* A dense tensor in host memory, little-endian native layout. */
typedef struct vgi_onnx_tensor {
    char   *name;  /* vg_malloc'ed; may be NULL */
    int32_t dtype; /* VGI_ONNX_* */
    int     rank;
    int64_t dims[VGI_ONNX_MAX_RANK];
    int64_t numel;
    void   *data; /* vg_malloc'ed, numel * vgi_onnx_dtype_size(dtype) bytes; NULL iff numel == 0 */
} vgi_onnx_tensor;

/* Bytes per element of a readable dtype; 0 for STRING, UNDEFINED and unknown codes. */
size_t vgi_onnx_dtype_size(int32_t dtype);
/* "FLOAT", "INT64", ...; "?" for unknown codes. */
const char *vgi_onnx_dtype_name(int32_t dtype);
/* The engine dtype of an ONNX TensorProto data type; VG_DTYPE_UNKNOWN if it has none. */
vg_dtype vgi_onnx_dtype_to_vg(int32_t dtype);
/* Frees the tensor's name and data and zeroes it (NULL is a no-op). */
void vgi_onnx_tensor_fini(vgi_onnx_tensor *t);

/*
 * Reads a serialized TensorProto file (the ONNX backend test format's
 * input_N.pb / output_N.pb) into *out. Returns VG_E_IO, VG_E_FORMAT (with a
 * message in err), VG_E_UNSUPPORTED (string/complex data) or VG_E_NOMEM.
 */
vg_status vgi_onnx_tensor_read_file(const char *path, vgi_onnx_tensor *out, char *err,
                                    size_t errlen);

/* A value (edge) of the graph. */
typedef struct vgi_onnx_value {
    const char *name;                         /* borrowed from the protobuf */
    int32_t     dtype;                        /* 0: unknown */
    int         rank;                         /* -1: unknown */
    int64_t     dims[VGI_ONNX_MAX_RANK];      /* -1: symbolic or unknown */
    const char *dim_param[VGI_ONNX_MAX_RANK]; /* symbolic name, or NULL */
    int         producer;                     /* node index (after sorting), or -1 */
    int         init;                         /* index into model->inits, or -1 */
    int         input;                        /* index into model->inputs, or -1 */
    int         n_uses;                       /* node inputs + graph outputs reading it */
} vgi_onnx_value;

struct Onnx__NodeProto;

typedef struct vgi_onnx_node {
    const char                   *name; /* the node's name, or "" when the file gives none */
    const char                   *op_type;
    const char                   *domain; /* "" for the default domain */
    int                           opset;  /* the model's opset for this node's domain */
    int                           index;  /* position in the file (for messages) */
    int                           n_in, n_out;
    int                          *in, *out; /* value indices; -1 = omitted optional input/output */
    const struct Onnx__NodeProto *proto;    /* attributes; borrowed from model->proto */
} vgi_onnx_node;

typedef struct vgi_onnx_model {
    struct Onnx__ModelProto *proto;
    int64_t                  ir_version;
    int                      opset;    /* default-domain opset */
    const char              *producer; /* producer_name, or "" */
    int                      n_values, n_nodes, n_inits, n_inputs, n_outputs;
    vgi_onnx_value          *values;
    vgi_onnx_node           *nodes; /* topologically sorted */
    vgi_onnx_tensor         *inits;
    int  *inputs;   /* value indices of the graph inputs that are not initializers */
    int  *outputs;  /* value indices of the graph outputs */
    void *names;    /* name -> value index hash table */
    void *pb_alloc; /* the decoder's allocator (owns proto's memory) */
} vgi_onnx_model;

/* Optional extras for loading. */
typedef struct vgi_onnx_load_params {
    /* Folder that external-data paths are relative to; NULL: external data is refused. */
    const char *base_dir;
    /* Tensors that replace graph inputs of the same name (become initializers;
     * copied). The conformance runner binds integer inputs this way. */
    const vgi_onnx_tensor *bind;
    int                    n_bind;
} vgi_onnx_load_params;

/*
 * Loads an .onnx file: external data is looked up next to it.
 * Returns VG_OK, VG_E_IO (cannot open/read), VG_E_FORMAT (garbled protobuf,
 * inconsistent graph, bad initializer, escaping external path),
 * VG_E_UNSUPPORTED (opset out of range, unsupported dtype in an initializer,
 * subgraphs), VG_E_NOMEM. On failure *out is NULL and err holds the reason.
 */
vg_status vgi_onnx_model_load_file(const char *path, const vgi_onnx_load_params *p,
                                   vgi_onnx_model **out, char *err, size_t errlen);

/* Same for a model already in memory (data is not kept). */
vg_status vgi_onnx_model_load_buffer(const void *data, size_t size, const vgi_onnx_load_params *p,
                                     vgi_onnx_model **out, char *err, size_t errlen);

/*
 * Writes a copy of the model at path to out_path with the given tensors added
 * as initializers (so inputs of the same name become constants). Used by the
 * conformance runner to bind shape-like test inputs. Returns VG_OK, VG_E_IO,
 * VG_E_FORMAT, VG_E_NOMEM.
 */
vg_status vgi_onnx_write_bound_model(const char *path, const vgi_onnx_tensor *bind, int n_bind,
                                     const char *out_path, char *err, size_t errlen);

/* Frees everything (NULL is a no-op). */
void vgi_onnx_model_destroy(vgi_onnx_model *m);

/* Index of the value called name, or -1. */
int vgi_onnx_model_find(const vgi_onnx_model *m, const char *name);

/* ---- attributes ------------------------------------------------------------ */

/* Each getter returns the default when the attribute is absent. A present
 * attribute of the wrong type also gives the default; vgi_onnx_attr_has()
 * tells the two apart. */
bool    vgi_onnx_attr_has(const vgi_onnx_node *n, const char *name);
int64_t vgi_onnx_attr_int(const vgi_onnx_node *n, const char *name, int64_t def);
float   vgi_onnx_attr_float(const vgi_onnx_node *n, const char *name, float def);
/* Copies the string attribute (NUL-terminated, truncated to len - 1) into buf. */
const char *vgi_onnx_attr_string(const vgi_onnx_node *n, const char *name, const char *def,
                                 char *buf, size_t len);
/* Number of ints/floats (pointer into the protobuf in *v), or -1 when absent. */
int vgi_onnx_attr_ints(const vgi_onnx_node *n, const char *name, const int64_t **v);
int vgi_onnx_attr_floats(const vgi_onnx_node *n, const char *name, const float **v);
/* Decodes a tensor attribute ("value" of Constant) into *out; VG_E_NOT_FOUND if absent. */
vg_status vgi_onnx_attr_tensor(const vgi_onnx_node *n, const char *name, vgi_onnx_tensor *out,
                               char *err, size_t errlen);

/* "node 'name' (Op, #index)" for messages, into buf. */
const char *vgi_onnx_node_desc(const vgi_onnx_node *n, char *buf, size_t len);

/* ---- the op table ----------------------------------------------------------- */

typedef struct vgi_onnx_op_info {
    const char *op_type;
    int         since; /* lowest opset whose semantics the importer implements */
    int         until; /* highest opset (inclusive) with those semantics */
    int         min_in, max_in;
    int         min_out, max_out;
} vgi_onnx_op_info;

/* The table row for op_type in the default domain, or NULL. */
const vgi_onnx_op_info *vgi_onnx_op_lookup(const char *op_type);

/*
 * Checks every node against the op table (op type, domain, opset range,
 * input/output counts, attribute values the importer cannot honour) and
 * returns VG_E_UNSUPPORTED with ONE message listing every offending node
 * ("name (Op, opset N): reason"), or VG_OK. err may be NULL.
 */
vg_status vgi_onnx_model_check_ops(const vgi_onnx_model *m, char *err, size_t errlen);

/* True when value v feeds an input that the importer reads at import time
 * (Resize scales, Clip bounds, Squeeze axes, ...), so it must be a constant,
 * or a shape-like input that the engine evaluates when it builds a plan
 * (Reshape shape, Slice starts/ends, Resize sizes, ...). */
bool vgi_onnx_value_needs_const(const vgi_onnx_model *m, int v);

#endif /* VG_IMPORTERS_ONNX_IMPL_H */
