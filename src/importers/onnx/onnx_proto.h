/*
 * onnx_proto.h - glue between the protoc-c generated ONNX reader and the
 * importer (private to src/importers/onnx; includes the generated header).
 */
#ifndef VG_IMPORTERS_ONNX_PROTO_H
#define VG_IMPORTERS_ONNX_PROTO_H

#include "onnx.pb-c.h"
#include "onnx_impl.h"

/*
 * A protobuf-c allocator that goes through vg_malloc (so OOM tests reach the
 * decoder) and stops at a byte budget, so a hostile file cannot make the
 * decoder allocate much more than a bounded multiple of its own size.
 */
typedef struct vgi_onnx_pb_alloc {
    ProtobufCAllocator base;
    size_t             used, budget;
    bool               over_budget; /* set when an allocation was refused for the budget */
    bool               oom;         /* set when vg_malloc failed */
} vgi_onnx_pb_alloc;

void vgi_onnx_pb_alloc_init(vgi_onnx_pb_alloc *a, size_t input_bytes);

/*
 * Converts a TensorProto into a dense tensor: typed fields, raw_data, or
 * external data relative to base_dir (NULL refuses external data). Checks
 * dims, element counts and byte sizes against each other before allocating.
 * what names the tensor's role in messages ("initializer", "input file").
 */
vg_status vgi_onnx_tensor_from_proto(const Onnx__TensorProto *tp, const char *base_dir,
                                     const char *what, vgi_onnx_tensor *out, char *err,
                                     size_t errlen);

#endif /* VG_IMPORTERS_ONNX_PROTO_H */
