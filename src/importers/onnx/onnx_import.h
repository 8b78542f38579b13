/*
 * onnx_import.h - the ONNX importer's entry points for the engine (internal).
 *
 * The model loader calls vgi_onnx_import() for *.onnx files; it produces an
 * engine IR graph (engine/ir.h) with NCHW spatial ops, OIHW conv weights,
 * BatchNormalization folded and conv activations fused.
 */
#ifndef VG_IMPORTERS_ONNX_IMPORT_H
#define VG_IMPORTERS_ONNX_IMPORT_H

#include "engine/ir.h"
#include "importers/importer.h"
#include "onnx_impl.h"

/*
 * vgi_onnx_import() (declared in importers/importer.h) imports the ONNX model
 * at path into a new IR graph (*out; caller frees with vgi_graph_destroy).
 * The _ex form takes load params (may be NULL; see vgi_onnx_load_params).
 * On failure *out is NULL and err names the file, the node(s) and the
 * problem. Returns VG_OK, VG_E_IO, VG_E_FORMAT, VG_E_UNSUPPORTED (one message
 * listing every unsupported node), VG_E_SHAPE, VG_E_NOMEM. MT safe.
 */
vg_status vgi_onnx_import_ex(const char *path, const vgi_onnx_load_params *p, vgi_graph **out,
                             vgi_err *err);

/* Builds the IR graph of an already loaded and checked model. */
vg_status vgi_onnx_build_graph(const vgi_onnx_model *m, vgi_graph **out, vgi_err *err);

#endif /* VG_IMPORTERS_ONNX_IMPORT_H */
