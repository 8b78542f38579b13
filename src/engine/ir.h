/* INTERFACE-STABLE: yes */
/*
 * engine/ir.h - the engine's graph IR (internal, shared by importers,
 * optimiser, scheduler and backends).
 *
 * A graph is a list of values (tensors) and a list of nodes in topological
 * order. A value is either a graph input, a constant (data owned by the
 * graph) or the output of exactly one node. Nodes refer to values by index.
 * Builder calls only record: nothing is computed while building (shapes are
 * inferred later, for concrete input shapes, by vgi_op_infer()).
 *
 * Conventions every importer follows (so that backends see one IR):
 * - Activation layout is an attribute (VGI_LAYOUT_NHWC | VGI_LAYOUT_NCHW) of
 *   conv/pool/resize/global-pool ops; values themselves are plain dense
 *   C-order arrays in the shape they have.
 * - Convolution weights are always OIHW: [out_channels, in_channels/groups,
 *   kh, kw] (TF's HWIO and depthwise [kh,kw,in,mult] are converted at import;
 *   a depthwise conv is groups = in_channels, out = in*mult). Conv-transpose
 *   weights are [in_channels, out_channels/groups, kh, kw] (ONNX).
 * - Bias is a separate optional input of conv (in[2], shape [out_channels]).
 * - Axes in attributes may be negative (counted from the end) unless noted.
 * - Shape-like inputs (reshape target, pads, slice begins, resize sizes, k of
 *   top-k, ...) are int32 or int64 values; they must be constants or computable
 *   from input shapes (they are evaluated when the plan is built).
 *
 * Adding an op: a VGI_OP_ enum value here, one row in the op table in
 * engine/ops.c (name, arity, flags, shape function), a kernel in
 * backends/ref (a case in ref_run_node's switch or a separate file such as
 * ref_onnx_ops.c, see backends/ref/ref_impl.h), and an importer mapping.
 */
#ifndef VG_ENGINE_IR_H
#define VG_ENGINE_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error messages ------------------------------------------------------- */

/* Filled by internal functions that fail; the public handle copies it. */
typedef struct vgi_err {
    char msg[1024];
} vgi_err;

/* Formats into err (NULL err is allowed) and returns status, so a failing
 * path reads `return vgi_err_set(err, VG_E_FORMAT, "%s: ...", file);`. */
vg_status vgi_err_set(vgi_err *err, vg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- ops ------------------------------------------------------------------- */

typedef enum vgi_op {
    VGI_OP_INVALID = 0,
    VGI_OP_IDENTITY,
    /* convolution family (attr.conv / attr.pool / attr.resize) */
    VGI_OP_CONV,            /* in: x, w (OIHW), [bias]; out: y */
    VGI_OP_CONV_TRANSPOSE,  /* in: x, w (IOHW), [bias]; out: y */
    VGI_OP_MAX_POOL,        /* in: x; attr.pool */
    VGI_OP_AVG_POOL,        /* in: x; attr.pool */
    VGI_OP_GLOBAL_AVG_POOL, /* in: x; attr.pool.layout; keeps spatial dims as 1 */
    VGI_OP_GLOBAL_MAX_POOL,
    VGI_OP_RESIZE, /* in: x, [sizes: int, 2 values = out H, W]; attr.resize */
    /* elementwise binary, numpy broadcasting (no attr) */
    VGI_OP_ADD,
    VGI_OP_SUB,
    VGI_OP_MUL,
    VGI_OP_DIV, /* float: IEEE division; int: truncates toward zero */
    VGI_OP_POW,
    VGI_OP_MAX,
    VGI_OP_MIN,
    VGI_OP_FLOOR_DIV,    /* floor(a / b) */
    VGI_OP_FLOOR_MOD,    /* a - floor(a / b) * b (sign of b, TF FloorMod, ONNX Mod fmod=0) */
    VGI_OP_FMOD,         /* C fmod (sign of a, ONNX Mod fmod=1) */
    VGI_OP_SQUARED_DIFF, /* (a - b)^2 */
    VGI_OP_PRELU,        /* x < 0 ? x * slope : x, slope broadcast */
    VGI_OP_EQUAL,        /* comparisons: out bool */
    VGI_OP_NOT_EQUAL,
    VGI_OP_LESS,
    VGI_OP_LESS_EQUAL,
    VGI_OP_GREATER,
    VGI_OP_GREATER_EQUAL,
    VGI_OP_LOGICAL_AND, /* bool x bool -> bool */
    VGI_OP_LOGICAL_OR,
    /* elementwise unary (attr.unary where noted) */
    VGI_OP_RELU,
    VGI_OP_RELU6,
    VGI_OP_CLIP,       /* attr.unary.alpha = min, beta = max */
    VGI_OP_LEAKY_RELU, /* attr.unary.alpha */
    VGI_OP_ELU,        /* attr.unary.alpha */
    VGI_OP_SIGMOID,
    VGI_OP_TANH,
    VGI_OP_EXP,
    VGI_OP_LOG,
    VGI_OP_SQRT,
    VGI_OP_RSQRT,
    VGI_OP_ABS,
    VGI_OP_NEG,
    VGI_OP_RECIPROCAL,
    VGI_OP_FLOOR,
    VGI_OP_CEIL,
    VGI_OP_ROUND, /* half to even */
    VGI_OP_ERF,
    VGI_OP_HARD_SWISH,   /* x * relu6(x + 3) / 6 */
    VGI_OP_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)), attr.unary */
    VGI_OP_SILU,         /* x * sigmoid(x) */
    VGI_OP_LOGICAL_NOT,
    VGI_OP_ADD_N, /* variadic sum of same-shaped (broadcastable) inputs */
    VGI_OP_CAST,  /* attr.cast.to; float -> int truncates toward zero */
    /* data movement */
    VGI_OP_CONCAT,        /* variadic; attr.axis.axis */
    VGI_OP_SPLIT,         /* in: x, [sizes int 1-D]; attr.split; n_out outputs */
    VGI_OP_SLICE,         /* ONNX: in: x, starts, ends, [axes], [steps] */
    VGI_OP_STRIDED_SLICE, /* TF: in: x, begin, end, [strides]; attr.strided_slice masks */
    VGI_OP_RESHAPE,       /* in: x, shape (int 1-D; -1 infers, 0 copies unless allowzero) */
    VGI_OP_TRANSPOSE,     /* attr.transpose.perm */
    VGI_OP_SQUEEZE,       /* attr.axes (n = 0: all dims of size 1) */
    VGI_OP_UNSQUEEZE,     /* attr.axes: positions in the output (TF ExpandDims, ONNX Unsqueeze) */
    VGI_OP_FLATTEN,       /* attr.axis.axis: [prod(d[:axis]), prod(d[axis:])] */
    VGI_OP_PAD,           /* in: x, pads (int [ndim,2] or ONNX order), [value scalar]; attr.pad */
    VGI_OP_GATHER,    /* in: data, indices; attr.gather (axis, batch_dims); negative indices wrap */
    VGI_OP_GATHER_ND, /* in: params, indices; attr.gather.batch_dims */
    VGI_OP_TILE,      /* in: x, multiples */
    VGI_OP_EXPAND,    /* in: x, shape (ONNX Expand: broadcast to shape) */
    VGI_OP_PACK,      /* variadic, attr.axis.axis: stack on a new axis */
    VGI_OP_UNPACK,    /* attr.axis.axis; n_out = size of that axis */
    VGI_OP_SELECT,    /* in: cond (bool), a, b; broadcasting (TF Select/SelectV2, ONNX Where) */
    VGI_OP_SPARSE_TO_DENSE, /* TF: in: indices, output_shape, values, default */
    /* reductions and search */
    VGI_OP_REDUCE_MEAN, /* in: x, [axes int 1-D]; attr.axes (used when no in[1]) */
    VGI_OP_REDUCE_SUM,
    VGI_OP_REDUCE_MAX,
    VGI_OP_REDUCE_MIN,
    VGI_OP_REDUCE_PROD,
    VGI_OP_ARGMAX, /* in: x, [axis scalar]; attr.arg; first max wins */
    VGI_OP_ARGMIN,
    VGI_OP_TOPK,    /* in: x, k (scalar int); attr.topk; out: values, indices */
    VGI_OP_SOFTMAX, /* attr.axis.axis */
    VGI_OP_LOG_SOFTMAX,
    VGI_OP_MATMUL, /* numpy matmul with batch broadcasting */
    VGI_OP_GEMM,   /* in: A, B, [C]; attr.gemm */
    /* generators and shape ops */
    VGI_OP_RANGE, /* in: start, limit, delta (scalars) */
    VGI_OP_FILL,  /* in: shape, [value scalar]; attr.fill (value, dtype when no in[1]) */
    VGI_OP_SHAPE, /* in: x; attr.shape (out dtype, start, end) */
    VGI_OP_SIZE,  /* in: x; attr.shape.dtype */
    VGI_OP_COUNT
} vgi_op;

/* Activation layout of spatial ops. */
typedef enum vgi_layout {
    VGI_LAYOUT_NHWC = 0,
    VGI_LAYOUT_NCHW = 1,
} vgi_layout;

/* How spatial padding is decided. SAME_* are resolved for the actual input
 * size by vgi_resolve_pads(); TF "SAME" = SAME_UPPER (extra pad at the end). */
typedef enum vgi_pad_mode {
    VGI_PAD_EXPLICIT = 0, /* use pads[] */
    VGI_PAD_VALID,        /* no padding */
    VGI_PAD_SAME_UPPER,
    VGI_PAD_SAME_LOWER,
} vgi_pad_mode;

/* Activation fused into a conv (or stand-alone via the unary ops). */
typedef enum vgi_act_kind {
    VGI_ACT_NONE = 0,
    VGI_ACT_RELU,
    VGI_ACT_RELU6,
    VGI_ACT_CLIP,  /* a = min, b = max */
    VGI_ACT_LEAKY, /* a = alpha */
    VGI_ACT_SIGMOID,
    VGI_ACT_TANH,
    VGI_ACT_HARD_SWISH,
    VGI_ACT_HARD_SIGMOID, /* a = alpha, b = beta */
    VGI_ACT_SILU,
    VGI_ACT_ELU, /* a = alpha */
} vgi_act_kind;

typedef struct vgi_act {
    vgi_act_kind kind;
    float        a, b;
} vgi_act;

/* Applies an activation to one value (the definition every backend matches). */
float vgi_act_apply(const vgi_act *act, float x);

typedef struct vgi_conv_attr {
    vgi_layout   layout; /* of x and y */
    vgi_pad_mode pad_mode;
    int64_t      pads[4];           /* top, left, bottom, right (VGI_PAD_EXPLICIT) */
    int64_t      strides[2];        /* h, w */
    int64_t      dilations[2];      /* h, w */
    int64_t      kernel[2];         /* kh, kw (must equal the weight's) */
    int64_t      groups;            /* 1 = dense; = in channels: depthwise */
    int64_t      output_padding[2]; /* conv_transpose only */
    vgi_act      act;               /* applied after bias */
} vgi_conv_attr;

typedef struct vgi_pool_attr {
    vgi_layout   layout;
    vgi_pad_mode pad_mode;
    int64_t      pads[4]; /* top, left, bottom, right */
    int64_t      kernel[2];
    int64_t      strides[2];
    int64_t      dilations[2];
    bool         count_include_pad; /* avg pool: divide by kernel area incl. padding */
    bool         ceil_mode;         /* output size rounds up */
} vgi_pool_attr;

typedef enum vgi_resize_mode {
    VGI_RESIZE_NEAREST = 0,
    VGI_RESIZE_BILINEAR,
} vgi_resize_mode;

/* Maps an output coordinate to an input coordinate (scale = in / out). */
typedef enum vgi_resize_coord {
    VGI_COORD_HALF_PIXEL = 0,        /* (o + 0.5) * scale - 0.5 (TF half_pixel_centers) */
    VGI_COORD_PYTORCH_HALF_PIXEL,    /* same, but 0 when out size is 1 */
    VGI_COORD_ALIGN_CORNERS,         /* o * (in - 1) / (out - 1) */
    VGI_COORD_ASYMMETRIC,            /* o * scale (TF legacy, align_corners=false) */
    VGI_COORD_TF_HALF_PIXEL_NEAREST, /* TF nearest with half_pixel_centers: (o + 0.5) * scale */
} vgi_resize_coord;

typedef enum vgi_nearest_mode {
    VGI_NEAREST_ROUND_PREFER_FLOOR = 0,
    VGI_NEAREST_ROUND_PREFER_CEIL,
    VGI_NEAREST_FLOOR,
    VGI_NEAREST_CEIL,
} vgi_nearest_mode;

typedef struct vgi_resize_attr {
    vgi_layout       layout;
    vgi_resize_mode  mode;
    vgi_resize_coord coord;
    vgi_nearest_mode nearest;
    float            scales[2]; /* out = floor(in * scale), used when there is no sizes input */
} vgi_resize_attr;

typedef struct vgi_unary_attr {
    float alpha, beta;
} vgi_unary_attr;

typedef struct vgi_axis_attr {
    int64_t axis;
} vgi_axis_attr;

typedef struct vgi_axes_attr {
    int     n; /* number of axes; 0 = all (reduce, squeeze) */
    int64_t axes[VG_MAX_DIMS];
    bool    keepdims;             /* reductions */
    bool    noop_with_empty_axes; /* reductions: n == 0 and no axes input means identity */
} vgi_axes_attr;

typedef struct vgi_transpose_attr {
    int     n;                 /* = rank */
    int64_t perm[VG_MAX_DIMS]; /* output dim i = input dim perm[i] */
} vgi_transpose_attr;

typedef struct vgi_cast_attr {
    vg_dtype to;
} vgi_cast_attr;

typedef struct vgi_split_attr {
    int64_t axis;
    /* Sizes come from in[1] when present; else equal parts (n_out of them). */
} vgi_split_attr;

typedef struct vgi_strided_slice_attr {
    int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
} vgi_strided_slice_attr;

typedef enum vgi_pad_fill {
    VGI_PADFILL_CONSTANT = 0,
    VGI_PADFILL_REFLECT,
    VGI_PADFILL_EDGE,
} vgi_pad_fill;

typedef struct vgi_pad_attr {
    vgi_pad_fill mode;
    float        value; /* constant mode, when there is no in[2] (may be -inf) */
    bool onnx_order;    /* pads = [b0, b1, ..., e0, e1, ...] instead of [[b0,e0],[b1,e1],...] */
} vgi_pad_attr;

typedef struct vgi_gather_attr {
    int64_t axis;
    int64_t batch_dims;
} vgi_gather_attr;

typedef struct vgi_arg_attr {
    int64_t  axis; /* used when there is no in[1] */
    bool     keepdims;
    bool     select_last; /* ties: last index instead of first */
    vg_dtype out_dtype;   /* I32 or I64 */
} vgi_arg_attr;

typedef struct vgi_topk_attr {
    int64_t  axis;
    bool     largest; /* true: top-k largest */
    bool     sorted;
    vg_dtype index_dtype; /* I32 or I64 */
} vgi_topk_attr;

typedef struct vgi_gemm_attr {
    bool  trans_a, trans_b;
    float alpha, beta;
} vgi_gemm_attr;

typedef struct vgi_fill_attr {
    float    value;
    vg_dtype dtype;
} vgi_fill_attr;

typedef struct vgi_shape_attr {
    vg_dtype dtype;      /* I32 or I64 */
    int64_t  start, end; /* ONNX Shape slice; end = INT64_MAX for "to the end" */
} vgi_shape_attr;

typedef struct vgi_reshape_attr {
    bool allowzero; /* ONNX: 0 in shape means 0, not "copy" (TF: -1 only) */
} vgi_reshape_attr;

/* Every op's attributes; which member is used is listed beside the op. */
typedef union vgi_attrs {
    vgi_conv_attr          conv;
    vgi_pool_attr          pool;
    vgi_resize_attr        resize;
    vgi_unary_attr         unary;
    vgi_axis_attr          axis;
    vgi_axes_attr          axes;
    vgi_transpose_attr     transpose;
    vgi_cast_attr          cast;
    vgi_split_attr         split;
    vgi_strided_slice_attr strided_slice;
    vgi_pad_attr           pad;
    vgi_gather_attr        gather;
    vgi_arg_attr           arg;
    vgi_topk_attr          topk;
    vgi_gemm_attr          gemm;
    vgi_fill_attr          fill;
    vgi_shape_attr         shape;
    vgi_reshape_attr       reshape;
} vgi_attrs;

/* ---- graph ----------------------------------------------------------------- */

enum {
    VGI_VALUE_INPUT  = 1u << 0, /* a graph input */
    VGI_VALUE_CONST  = 1u << 1, /* data owned by the graph */
    VGI_VALUE_OUTPUT = 1u << 2, /* a graph output */
};

typedef struct vgi_value {
    char    *name;     /* unique in the graph */
    vg_dtype dtype;    /* VG_DTYPE_UNKNOWN until inferred */
    vg_shape shape;    /* import-time shape; ndim = -1 when unknown; dims -1 symbolic */
    int      producer; /* node index, -1 for inputs and constants */
    unsigned flags;    /* VGI_VALUE_* */
    void    *data;     /* constants: dense data (vg_malloc'ed, owned by the graph) */
} vgi_value;

typedef struct vgi_node {
    vgi_op    op;
    char     *name; /* from the model file; used in every error message */
    int       n_in;
    int      *in; /* value ids; -1 = optional input absent */
    int       n_out;
    int      *out; /* value ids */
    vgi_attrs attr;
} vgi_node;

/* A named input or output of the graph's signature. */
typedef struct vgi_io {
    char    *name;  /* signature key */
    int      value; /* value id */
    vg_dtype dtype; /* as declared */
    vg_shape shape; /* as declared, -1 = symbolic; ndim -1 = unknown */
} vgi_io;

typedef struct vgi_graph {
    vgi_value  *values;
    int         n_values, cap_values;
    vgi_node   *nodes; /* topological order (vgi_graph_toposort) */
    int         n_nodes, cap_nodes;
    vgi_io     *inputs;
    int         n_inputs, cap_inputs;
    vgi_io     *outputs;
    int         n_outputs, cap_outputs;
    char       *source;            /* file the graph came from (for messages); importer sets it */
    const char *format;            /* "tfjs" / "onnx" (static string); importer sets it */
    int64_t     file_weight_bytes; /* bytes of weights as stored in the files; importer sets it */
} vgi_graph;

vg_status vgi_graph_create(vgi_graph **out);
void      vgi_graph_destroy(vgi_graph *g); /* NULL is a no-op */

/* Adds a value without producer; returns its id in *id. name is copied. */
vg_status vgi_graph_add_value(vgi_graph *g, const char *name, vg_dtype dtype, const vg_shape *shape,
                              int *id);

/* Adds a constant. takes ownership of `data` (vg_malloc'ed) on success AND on
 * failure (freed). nbytes must equal numel * dtype size. */
vg_status vgi_graph_add_const(vgi_graph *g, const char *name, vg_dtype dtype, const vg_shape *shape,
                              void *data, int *id);

/* Adds a graph input: a value named `value_name` plus a signature entry
 * `key` (NULL key = value_name). shape dims may be -1. */
vg_status vgi_graph_add_input(vgi_graph *g, const char *key, const char *value_name, vg_dtype dtype,
                              const vg_shape *shape, int *id);

/*
 * Adds a node with n_in inputs (value ids, -1 for an absent optional one) and
 * n_out new output values, named `name` for output 0 and "name:k" for the
 * others, dtype/shape unknown. attr may be NULL (zeroed). The node's output
 * value ids are node->out[0..n_out-1]; *node_id receives the node index.
 */
vg_status vgi_graph_add_node(vgi_graph *g, vgi_op op, const char *name, const int *in, int n_in,
                             int n_out, const vgi_attrs *attr, int *node_id);

/* Declares value `value` as graph output `key`; dtype/shape as declared (may be unknown). */
vg_status vgi_graph_add_output(vgi_graph *g, const char *key, int value, vg_dtype dtype,
                               const vg_shape *shape);

/* Finds a value by name; -1 if absent. Linear; importers keep their own map. */
int vgi_graph_find_value(const vgi_graph *g, const char *name);

/* Reorders nodes topologically (importers may add them in any order).
 * Returns VG_E_FORMAT naming a node on a cycle, or a value used before any producer. */
vg_status vgi_graph_toposort(vgi_graph *g, vgi_err *err);

/* Removes nodes not needed for any output, and unused constants. */
vg_status vgi_graph_prune(vgi_graph *g);

/* Replaces every use of value `from` by `to` (node inputs and graph outputs). */
void vgi_graph_replace_uses(vgi_graph *g, int from, int to);

/* Number of node inputs that read value v (+1 per graph output it feeds). */
int vgi_graph_use_count(const vgi_graph *g, int v);

/* ---- op table and shape inference -------------------------------------------- */

enum {
    VGI_OPF_ELEMENTWISE = 1u << 0, /* output[i] depends on input[i] (broadcasting) */
    VGI_OPF_VIEW        = 1u << 1, /* output = in[0]'s bytes unchanged (reshape, squeeze...) */
    VGI_OPF_SHAPE_ONLY  = 1u << 2, /* reads only in[0]'s shape (shape, size) */
    VGI_OPF_NO_FOLD     = 1u << 3, /* never constant-fold */
};

/*
 * Shape-inference context: vals[] is indexed by value id. On entry the
 * node's inputs have dtype and shape set; data is non-NULL when the input's
 * contents are known (constant or computed from shapes). The function writes
 * dtype and shape of vals[n->out[k]] and returns VG_OK, or VG_E_SHAPE /
 * VG_E_UNSUPPORTED with a message naming the node.
 */
typedef struct vgi_infer_ctx {
    const vgi_graph *g;
    const vgi_node  *n;
    vg_tensor       *vals;
} vgi_infer_ctx;

typedef vg_status (*vgi_infer_fn)(const vgi_infer_ctx *c, vgi_err *err);

typedef struct vgi_op_info {
    const char  *name;             /* lowercase, e.g. "conv", "add" */
    int          min_in, max_in;   /* max_in -1: variadic */
    int          min_out, max_out; /* max_out -1: any (split, unpack) */
    unsigned     flags;            /* VGI_OPF_* */
    vgi_infer_fn infer;
} vgi_op_info;

/* The op table row of op (never NULL for a valid op). */
const vgi_op_info *vgi_op_get(vgi_op op);
const char        *vgi_op_name(vgi_op op);

/* Checks arity and runs the op's shape function. */
vg_status vgi_op_infer(const vgi_infer_ctx *c, vgi_err *err);

/* Numpy broadcasting of two shapes; VG_E_SHAPE when incompatible. */
vg_status vgi_broadcast_shape(const vg_shape *a, const vg_shape *b, vg_shape *out);

/* Resolves spatial pads (top, left, bottom, right) for an input of in_h x
 * in_w, kernel k (already dilated: (k - 1) * d + 1), strides s. */
void vgi_resolve_pads(vgi_pad_mode mode, const int64_t pads_in[4], int64_t in_h, int64_t in_w,
                      const int64_t k_eff[2], const int64_t s[2], int64_t pads_out[4]);

/*
 * Resolves SLICE / STRIDED_SLICE for this node and these inputs (data of
 * in[1..] must be known): for every input dim d the first index start[d],
 * the step step[d] (may be negative) and the count count[d] of taken
 * elements; *out is the output shape (count with shrunk axes removed and new
 * axes inserted; same number of elements). */
vg_status vgi_slice_resolve(const vgi_node *n, const vg_tensor *vals, int64_t start[VG_MAX_DIMS],
                            int64_t step[VG_MAX_DIMS], int64_t count[VG_MAX_DIMS], vg_shape *out,
                            vgi_err *err);

/* Normalises a possibly negative axis for rank r; -1 when out of range. */
int vgi_axis_norm(int64_t axis, int rank);

/* Resize semantics shared by every backend. The input coordinate that output index o
 * maps to along an axis of `in` -> `out` elements, for coordinate mode m and scale =
 * in / out as the node defines it (ONNX: 1 / its scales when given, else the size ratio). */
double vgi_resize_src(vgi_resize_coord m, int64_t o, int64_t in, int64_t out, double scale);
/* The input index a nearest-mode resize reads for coordinate x, clamped to [0, in). */
int64_t vgi_resize_nearest(vgi_nearest_mode m, double x, int64_t in);

/* Reads element i of an integer (I32/I64/U8/BOOL...) or float tensor as int64/double. */
int64_t vgi_tensor_get_i64(const vg_tensor *t, int64_t i);
double  vgi_tensor_get_f64(const vg_tensor *t, int64_t i);

#ifdef __cplusplus
}
#endif

#endif /* VG_ENGINE_IR_H */
