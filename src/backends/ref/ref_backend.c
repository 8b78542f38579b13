/*
 * ref_backend.c - the reference backend: kernel table, dispatch and the
 * backend vtable.
 *
 * DESIGN
 * One table maps each op to its naive kernel. The backend supports a node
 * when a kernel exists; it keeps no state, needs no preparation, and runs
 * single-threaded on the calling thread (the session's thread). The engine
 * also calls vgi_ref_run_node() directly to fold constants and evaluate
 * shape subgraphs when a plan is built.
 */
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/ref/ref_impl.h"
#include "core/core_impl.h"
#include "vigil/alloc.h"

#define K(name) vg_status name(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err)
K(vgi_ref_conv);
K(vgi_ref_conv_transpose);
K(vgi_ref_pool);
K(vgi_ref_resize);
K(vgi_ref_binary);
K(vgi_ref_add_n);
K(vgi_ref_select);
K(vgi_ref_unary);
K(vgi_ref_cast);
K(vgi_ref_copy);
K(vgi_ref_concat);
K(vgi_ref_split);
K(vgi_ref_pack);
K(vgi_ref_unpack);
K(vgi_ref_slice);
K(vgi_ref_transpose);
K(vgi_ref_pad);
K(vgi_ref_gather);
K(vgi_ref_gather_nd);
K(vgi_ref_tile);
K(vgi_ref_sparse_to_dense);
K(vgi_ref_reduce);
K(vgi_ref_arg);
K(vgi_ref_topk);
K(vgi_ref_softmax);
K(vgi_ref_matmul);
K(vgi_ref_gemm);
K(vgi_ref_range);
K(vgi_ref_fill);
K(vgi_ref_shape);
#undef K

static const vgi_ref_kernel_fn kernels[VGI_OP_COUNT] = {
    [VGI_OP_IDENTITY]        = vgi_ref_copy,
    [VGI_OP_CONV]            = vgi_ref_conv,
    [VGI_OP_CONV_TRANSPOSE]  = vgi_ref_conv_transpose,
    [VGI_OP_MAX_POOL]        = vgi_ref_pool,
    [VGI_OP_AVG_POOL]        = vgi_ref_pool,
    [VGI_OP_GLOBAL_AVG_POOL] = vgi_ref_pool,
    [VGI_OP_GLOBAL_MAX_POOL] = vgi_ref_pool,
    [VGI_OP_RESIZE]          = vgi_ref_resize,
    [VGI_OP_ADD]             = vgi_ref_binary,
    [VGI_OP_SUB]             = vgi_ref_binary,
    [VGI_OP_MUL]             = vgi_ref_binary,
    [VGI_OP_DIV]             = vgi_ref_binary,
    [VGI_OP_POW]             = vgi_ref_binary,
    [VGI_OP_MAX]             = vgi_ref_binary,
    [VGI_OP_MIN]             = vgi_ref_binary,
    [VGI_OP_FLOOR_DIV]       = vgi_ref_binary,
    [VGI_OP_FLOOR_MOD]       = vgi_ref_binary,
    [VGI_OP_FMOD]            = vgi_ref_binary,
    [VGI_OP_SQUARED_DIFF]    = vgi_ref_binary,
    [VGI_OP_PRELU]           = vgi_ref_binary,
    [VGI_OP_EQUAL]           = vgi_ref_binary,
    [VGI_OP_NOT_EQUAL]       = vgi_ref_binary,
    [VGI_OP_LESS]            = vgi_ref_binary,
    [VGI_OP_LESS_EQUAL]      = vgi_ref_binary,
    [VGI_OP_GREATER]         = vgi_ref_binary,
    [VGI_OP_GREATER_EQUAL]   = vgi_ref_binary,
    [VGI_OP_LOGICAL_AND]     = vgi_ref_binary,
    [VGI_OP_LOGICAL_OR]      = vgi_ref_binary,
    [VGI_OP_RELU]            = vgi_ref_unary,
    [VGI_OP_RELU6]           = vgi_ref_unary,
    [VGI_OP_CLIP]            = vgi_ref_unary,
    [VGI_OP_LEAKY_RELU]      = vgi_ref_unary,
    [VGI_OP_ELU]             = vgi_ref_unary,
    [VGI_OP_SIGMOID]         = vgi_ref_unary,
    [VGI_OP_TANH]            = vgi_ref_unary,
    [VGI_OP_EXP]             = vgi_ref_unary,
    [VGI_OP_LOG]             = vgi_ref_unary,
    [VGI_OP_SQRT]            = vgi_ref_unary,
    [VGI_OP_RSQRT]           = vgi_ref_unary,
    [VGI_OP_ABS]             = vgi_ref_unary,
    [VGI_OP_NEG]             = vgi_ref_unary,
    [VGI_OP_RECIPROCAL]      = vgi_ref_unary,
    [VGI_OP_FLOOR]           = vgi_ref_unary,
    [VGI_OP_CEIL]            = vgi_ref_unary,
    [VGI_OP_ROUND]           = vgi_ref_unary,
    [VGI_OP_ERF]             = vgi_ref_unary,
    [VGI_OP_HARD_SWISH]      = vgi_ref_unary,
    [VGI_OP_HARD_SIGMOID]    = vgi_ref_unary,
    [VGI_OP_SILU]            = vgi_ref_unary,
    [VGI_OP_LOGICAL_NOT]     = vgi_ref_unary,
    [VGI_OP_ADD_N]           = vgi_ref_add_n,
    [VGI_OP_CAST]            = vgi_ref_cast,
    [VGI_OP_CONCAT]          = vgi_ref_concat,
    [VGI_OP_SPLIT]           = vgi_ref_split,
    [VGI_OP_SLICE]           = vgi_ref_slice,
    [VGI_OP_STRIDED_SLICE]   = vgi_ref_slice,
    [VGI_OP_RESHAPE]         = vgi_ref_copy,
    [VGI_OP_TRANSPOSE]       = vgi_ref_transpose,
    [VGI_OP_SQUEEZE]         = vgi_ref_copy,
    [VGI_OP_UNSQUEEZE]       = vgi_ref_copy,
    [VGI_OP_FLATTEN]         = vgi_ref_copy,
    [VGI_OP_PAD]             = vgi_ref_pad,
    [VGI_OP_GATHER]          = vgi_ref_gather,
    [VGI_OP_GATHER_ND]       = vgi_ref_gather_nd,
    [VGI_OP_TILE]            = vgi_ref_tile,
    [VGI_OP_EXPAND]          = vgi_ref_tile,
    [VGI_OP_PACK]            = vgi_ref_pack,
    [VGI_OP_UNPACK]          = vgi_ref_unpack,
    [VGI_OP_SELECT]          = vgi_ref_select,
    [VGI_OP_SPARSE_TO_DENSE] = vgi_ref_sparse_to_dense,
    [VGI_OP_REDUCE_MEAN]     = vgi_ref_reduce,
    [VGI_OP_REDUCE_SUM]      = vgi_ref_reduce,
    [VGI_OP_REDUCE_MAX]      = vgi_ref_reduce,
    [VGI_OP_REDUCE_MIN]      = vgi_ref_reduce,
    [VGI_OP_REDUCE_PROD]     = vgi_ref_reduce,
    [VGI_OP_ARGMAX]          = vgi_ref_arg,
    [VGI_OP_ARGMIN]          = vgi_ref_arg,
    [VGI_OP_TOPK]            = vgi_ref_topk,
    [VGI_OP_SOFTMAX]         = vgi_ref_softmax,
    [VGI_OP_LOG_SOFTMAX]     = vgi_ref_softmax,
    [VGI_OP_MATMUL]          = vgi_ref_matmul,
    [VGI_OP_GEMM]            = vgi_ref_gemm,
    [VGI_OP_RANGE]           = vgi_ref_range,
    [VGI_OP_FILL]            = vgi_ref_fill,
    [VGI_OP_SHAPE]           = vgi_ref_shape,
    [VGI_OP_SIZE]            = vgi_ref_shape,
};

bool vgi_ref_has_kernel(vgi_op op) {
    return (int)op > 0 && op < VGI_OP_COUNT && kernels[op];
}

vg_status vgi_ref_run_node(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err) {
    if (!vgi_ref_has_kernel(n->op))
        return vgi_err_set(err, VG_E_UNSUPPORTED, "node '%s': op '%s' has no reference kernel",
                           n->name, vgi_op_name(n->op));
    /* An empty output needs no work (and kernels may assume non-empty data). */
    bool empty = true;
    for (int k = 0; k < n->n_out; k++)
        if (vg_shape_numel(&t[n->out[k]].shape) != 0)
            empty = false;
    if (empty)
        return VG_OK;
    return kernels[n->op](g, n, t, err);
}

static bool ref_supports(void *ctx, const vgi_graph *g, int node_id, const vg_tensor *tensors) {
    (void)ctx;
    (void)tensors;
    return vgi_ref_has_kernel(g->nodes[node_id].op);
}

static vg_status ref_run_node(void *ctx, void *state, const vgi_segment *seg, int node_id,
                              vgi_err *err) {
    (void)ctx;
    (void)state;
    return vgi_ref_run_node(seg->g, &seg->g->nodes[node_id], seg->tensors, err);
}

static const vgi_backend_iface ref_iface = {
    .name            = "ref",
    .supports_node   = ref_supports,
    .segment_prepare = NULL,
    .segment_run     = NULL,
    .run_node        = ref_run_node,
    .segment_release = NULL,
    .destroy         = NULL,
};

vg_status vgi_ref_backend_create(const vgi_device *dev, vgi_backend *out, vgi_err *err) {
    (void)dev;
    (void)err;
    out->iface = &ref_iface;
    out->ctx   = NULL;
    return VG_OK;
}
