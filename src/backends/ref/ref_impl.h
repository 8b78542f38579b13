/* INTERFACE-STABLE: yes */
/*
 * backends/ref/ref_impl.h - the reference backend's kernels (internal).
 *
 * Every kernel has the same signature: it reads the node's inputs from
 * t[n->in[i]] and writes its outputs into t[n->out[k]], whose dtype, shape
 * and data buffer the engine has already set (shapes come from the op's
 * shape function). Kernels are naive and obviously correct; they are the
 * oracle of every other backend and are never optimised beyond sane loop
 * order.
 *
 * Adding a kernel: write `vg_status vgi_ref_xxx(const vgi_graph *g,
 * const vgi_node *n, vg_tensor *t, vgi_err *err)` in a file of this folder
 * (e.g. ref_onnx_ops.c, listed in this folder's CMakeLists.txt), declare it
 * below, and add a row `[VGI_OP_XXX] = vgi_ref_xxx,` to the table in
 * ref_backend.c.
 */
#ifndef VG_BACKENDS_REF_IMPL_H
#define VG_BACKENDS_REF_IMPL_H

#include "engine/ir.h"

typedef vg_status (*vgi_ref_kernel_fn)(const vgi_graph *g, const vgi_node *n, vg_tensor *t,
                                       vgi_err *err);

/* Runs one node with the reference kernels (also used by the engine for
 * constant folding and plan-time evaluation of shape subgraphs). Returns
 * VG_E_UNSUPPORTED naming the node when no kernel exists for its op/dtype. */
vg_status vgi_ref_run_node(const vgi_graph *g, const vgi_node *n, vg_tensor *t, vgi_err *err);

/* True when the ref backend has a kernel for op. */
bool vgi_ref_has_kernel(vgi_op op);

#endif /* VG_BACKENDS_REF_IMPL_H */
