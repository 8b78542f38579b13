/* INTERFACE-STABLE: yes */
/*
 * importers/importer.h - entry points of the model-format importers (internal).
 *
 * An importer parses its format into a vgi_graph (engine/ir.h) and nothing
 * else: no optimisation, no shape inference beyond what it needs to check
 * the file. It sets g->source, g->format and g->file_weight_bytes, adds the
 * signature inputs/outputs, and checks shapes/attributes itself before
 * building IR, so that bad files give VG_E_FORMAT / VG_E_UNSUPPORTED /
 * VG_E_SHAPE with a message naming the file, node and problem (never an
 * assert). On failure *out is NULL and nothing is leaked.
 *
 * vg_model_load() (engine/model.c) picks the importer: a folder or *.json
 * goes to vgi_tfjs_import, *.onnx to vgi_onnx_import.
 */
#ifndef VG_IMPORTERS_IMPORTER_H
#define VG_IMPORTERS_IMPORTER_H

#include "engine/ir.h"

/* TF.js graph model: `path` is the folder or its model.json. */
vg_status vgi_tfjs_import(const char *path, vgi_graph **out, vgi_err *err);

/* TF.js graph model from memory (the fuzzer's entry): json text plus the
 * weight shard bytes concatenated in manifest order (NULL/0 allowed). */
vg_status vgi_tfjs_import_mem(const char *json, size_t json_len, const void *weights,
                              size_t weights_len, vgi_graph **out, vgi_err *err);

/* ONNX model file. Implemented in src/importers/onnx; that module defines
 * VG_HAVE_ONNX_IMPORTER for vigil_objs (target_compile_definitions) so that
 * engine/model.c stops using its stub, which returns VG_E_UNSUPPORTED. */
vg_status vgi_onnx_import(const char *path, vgi_graph **out, vgi_err *err);

#endif /* VG_IMPORTERS_IMPORTER_H */
