/* INTERFACE-STABLE: yes */
/*
 * vigil/tensor.h - element types, shapes and tensor views.
 *
 * A vg_tensor is a plain view: dtype, shape and a data pointer. It never owns
 * its data; whoever hands one out says how long the data stays valid (for a
 * session output: until the next run of that session or its destruction).
 * Data is dense, C order (row-major, last dimension fastest), little-endian.
 */
#ifndef VG_TENSOR_H
#define VG_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types. Values are stable (they may be stored in files). */
typedef enum vg_dtype {
    VG_DTYPE_UNKNOWN = 0,
    VG_DTYPE_F32, /* IEEE-754 binary32 */
    VG_DTYPE_F16, /* IEEE-754 binary16 (storage type) */
    VG_DTYPE_I32, /* two's complement */
    VG_DTYPE_I64,
    VG_DTYPE_U8,
    VG_DTYPE_I8,
    VG_DTYPE_U16,
    VG_DTYPE_I16,
    VG_DTYPE_BOOL, /* one byte, 0 or 1 */
    VG_DTYPE_F64,
    VG_DTYPE_COUNT
} vg_dtype;

/* Bytes per element; 0 for VG_DTYPE_UNKNOWN or out-of-range values. MT safe. */
size_t vg_dtype_size(vg_dtype t);

/* Lowercase name as used in outputs.json and case.json: "float32", "float16",
 * "int32", "int64", "uint8", "int8", "uint16", "int16", "bool", "float64";
 * "unknown" otherwise. Static string, never NULL. MT safe. */
const char *vg_dtype_name(vg_dtype t);

/* Parses a name written by vg_dtype_name (also accepts "float" for float32).
 * Returns VG_DTYPE_UNKNOWN for anything else. MT safe. */
vg_dtype vg_dtype_parse(const char *name);

/* Most dimensions a tensor may have. */
#define VG_MAX_DIMS 8

/*
 * A shape. In model signatures a dimension of -1 means "symbolic: decided by
 * the input given at run time". In tensors every dimension is >= 0.
 */
typedef struct vg_shape {
    int     ndim;              /* 0 (scalar) .. VG_MAX_DIMS */
    int64_t dims[VG_MAX_DIMS]; /* dims[0] is the slowest-varying */
} vg_shape;

/* Number of elements (1 for a scalar); -1 if a dimension is negative or the
 * product overflows int64_t. */
int64_t vg_shape_numel(const vg_shape *s);

/* True when both have the same rank and dimensions. */
bool vg_shape_equal(const vg_shape *a, const vg_shape *b);

/* Writes "[1, 3, 416, 416]" into buf (always NUL-terminated); returns buf. */
char *vg_shape_format(const vg_shape *s, char *buf, size_t size);

/* A tensor view: does not own data. */
typedef struct vg_tensor {
    vg_dtype dtype;
    vg_shape shape;
    void    *data; /* dense C-order elements; NULL when not (yet) bound */
} vg_tensor;

/* Bytes of the tensor's elements (numel * dtype size); 0 on a bad shape. */
size_t vg_tensor_nbytes(const vg_tensor *t);

/* Returns a view of data with the given dtype and shape (dims copied). */
vg_tensor vg_tensor_make(vg_dtype dtype, int ndim, const int64_t *dims, void *data);

/* IEEE-754 binary16 <-> binary32. Both are exact where the value is
 * representable (f16 -> f32 always is); f32 -> f16 rounds to nearest even. */
float    vg_f16_to_f32(uint16_t h);
uint16_t vg_f32_to_f16(float f);

#ifdef __cplusplus
}
#endif

#endif /* VG_TENSOR_H */
