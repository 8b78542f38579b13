/*
 * tensor.c - element types, shapes, tensor views and float16 conversion.
 */
#include "vigil/tensor.h"

#include <stdio.h>
#include <string.h>

#include "engine/ir.h"

static const struct {
    const char *name;
    size_t      size;
} dtypes[VG_DTYPE_COUNT] = {
    [VG_DTYPE_UNKNOWN] = {"unknown", 0}, [VG_DTYPE_F32] = {"float32", 4},
    [VG_DTYPE_F16] = {"float16", 2},     [VG_DTYPE_I32] = {"int32", 4},
    [VG_DTYPE_I64] = {"int64", 8},       [VG_DTYPE_U8] = {"uint8", 1},
    [VG_DTYPE_I8] = {"int8", 1},         [VG_DTYPE_U16] = {"uint16", 2},
    [VG_DTYPE_I16] = {"int16", 2},       [VG_DTYPE_BOOL] = {"bool", 1},
    [VG_DTYPE_F64] = {"float64", 8},
};

size_t vg_dtype_size(vg_dtype t) {
    if ((int)t < 0 || t >= VG_DTYPE_COUNT)
        return 0;
    return dtypes[t].size;
}

const char *vg_dtype_name(vg_dtype t) {
    if ((int)t < 0 || t >= VG_DTYPE_COUNT)
        return "unknown";
    return dtypes[t].name;
}

vg_dtype vg_dtype_parse(const char *name) {
    if (!name)
        return VG_DTYPE_UNKNOWN;
    if (!strcmp(name, "float"))
        return VG_DTYPE_F32;
    for (int i = 1; i < VG_DTYPE_COUNT; i++)
        if (!strcmp(name, dtypes[i].name))
            return (vg_dtype)i;
    return VG_DTYPE_UNKNOWN;
}

int64_t vg_shape_numel(const vg_shape *s) {
    if (s->ndim < 0 || s->ndim > VG_MAX_DIMS)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dims[i] < 0)
            return -1;
        if (s->dims[i] && n > INT64_MAX / s->dims[i])
            return -1;
        n *= s->dims[i];
    }
    return n;
}

bool vg_shape_equal(const vg_shape *a, const vg_shape *b) {
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

char *vg_shape_format(const vg_shape *s, char *buf, size_t size) {
    if (!size)
        return buf;
    if (s->ndim < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    size_t len = 0;
    buf[0]     = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < s->ndim && len < size; i++)
        len +=
            (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)s->dims[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
    return buf;
}

size_t vg_tensor_nbytes(const vg_tensor *t) {
    int64_t n = vg_shape_numel(&t->shape);
    if (n < 0)
        return 0;
    return (size_t)n * vg_dtype_size(t->dtype);
}

vg_tensor vg_tensor_make(vg_dtype dtype, int ndim, const int64_t *dims, void *data) {
    vg_tensor t;
    memset(&t, 0, sizeof(t));
    t.dtype      = dtype;
    t.shape.ndim = ndim < 0 ? 0 : (ndim > VG_MAX_DIMS ? VG_MAX_DIMS : ndim);
    for (int i = 0; i < t.shape.ndim; i++)
        t.shape.dims[i] = dims[i];
    t.data = data;
    return t;
}

float vg_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp  = (h >> 10) & 0x1fu;
    uint32_t man  = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

uint16_t vg_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof(x));
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp  = (x >> 23) & 0xffu;
    uint32_t man  = x & 0x7fffffu;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half  = man >> shift;
        uint32_t rem   = man & ((1u << shift) - 1);
        uint32_t mid   = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem  = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent: that is the correct rounding */
    return (uint16_t)half;
}

int64_t vgi_tensor_get_i64(const vg_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VG_DTYPE_I32:
        return ((const int32_t *)t->data)[i];
    case VG_DTYPE_I64:
        return ((const int64_t *)t->data)[i];
    case VG_DTYPE_U8:
        return ((const uint8_t *)t->data)[i];
    case VG_DTYPE_BOOL:
        return ((const uint8_t *)t->data)[i];
    case VG_DTYPE_I8:
        return ((const int8_t *)t->data)[i];
    case VG_DTYPE_U16:
        return ((const uint16_t *)t->data)[i];
    case VG_DTYPE_I16:
        return ((const int16_t *)t->data)[i];
    case VG_DTYPE_F32:
        return (int64_t)((const float *)t->data)[i];
    case VG_DTYPE_F64:
        return (int64_t)((const double *)t->data)[i];
    case VG_DTYPE_F16:
        return (int64_t)vg_f16_to_f32(((const uint16_t *)t->data)[i]);
    default:
        return 0;
    }
}

double vgi_tensor_get_f64(const vg_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VG_DTYPE_F32:
        return ((const float *)t->data)[i];
    case VG_DTYPE_F64:
        return ((const double *)t->data)[i];
    case VG_DTYPE_F16:
        return vg_f16_to_f32(((const uint16_t *)t->data)[i]);
    default:
        return (double)vgi_tensor_get_i64(t, i);
    }
}
