/*
 * backends/cuda/cuda_impl.h - the `cuda` backend's internals, shared by the C
 * host code (cuda_backend.c, cuda_host.c) and the kernels (cuda_kernels.cu).
 *
 * Three parts:
 * 1. Element math (VGI_CU_HD inline functions): the arithmetic of every
 *    elementwise op, activation and pooling window, written once and compiled
 *    both for the device (nvcc) and for the host, so that the unit tests check
 *    the very code the kernels run against the ref backend without a GPU.
 * 2. Kernel launchers: plain C functions implemented in cuda_kernels.cu. They
 *    take a cudaStream_t (as void *, so this header needs no CUDA header), a
 *    struct of arguments and return a cudaError_t as int (0 = success).
 *    Float values are stored as f32 or f16 on the device (vgi_cu_dt); kernels
 *    load and store through the storage type and compute in float.
 * 3. Host-side planning helpers (cuda_host.c, no CUDA dependency): device
 *    memory planning from lifetimes, broadcast stride tables, convolution
 *    padding decisions, resize coordinate tables, launch geometry.
 */
#ifndef VG_BACKENDS_CUDA_IMPL_H
#define VG_BACKENDS_CUDA_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#include <cuda_fp16.h>
#define VGI_CU_HD static __host__ __device__ __forceinline__
#else
#include "engine/ir.h"
#define VGI_CU_HD static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. element math ------------------------------------------------------------------- */

/* Op codes seen by the kernels (the IR's enums are not visible to nvcc). */
typedef enum vgi_cu_act {
    VGI_CU_ACT_NONE = 0,
    VGI_CU_ACT_RELU,
    VGI_CU_ACT_RELU6,
    VGI_CU_ACT_CLIP,  /* a = min, b = max */
    VGI_CU_ACT_LEAKY, /* a = alpha */
    VGI_CU_ACT_SIGMOID,
    VGI_CU_ACT_TANH,
    VGI_CU_ACT_HARD_SWISH,
    VGI_CU_ACT_HARD_SIGMOID, /* a = alpha, b = beta */
    VGI_CU_ACT_SILU,
    VGI_CU_ACT_ELU, /* a = alpha */
    /* unary ops that are not conv activations */
    VGI_CU_UN_EXP,
    VGI_CU_UN_LOG,
    VGI_CU_UN_SQRT,
    VGI_CU_UN_RSQRT,
    VGI_CU_UN_ABS,
    VGI_CU_UN_NEG,
    VGI_CU_UN_RECIPROCAL,
    VGI_CU_UN_FLOOR,
    VGI_CU_UN_CEIL,
    VGI_CU_UN_ROUND,
    VGI_CU_UN_ERF,
    VGI_CU_UN_COPY,
} vgi_cu_act;

typedef enum vgi_cu_bin {
    VGI_CU_BIN_ADD = 0,
    VGI_CU_BIN_SUB,
    VGI_CU_BIN_MUL,
    VGI_CU_BIN_DIV,
    VGI_CU_BIN_POW,
    VGI_CU_BIN_MAX,
    VGI_CU_BIN_MIN,
    VGI_CU_BIN_FLOOR_DIV,
    VGI_CU_BIN_FLOOR_MOD,
    VGI_CU_BIN_FMOD,
    VGI_CU_BIN_SQUARED_DIFF,
    VGI_CU_BIN_PRELU,
} vgi_cu_bin;

/* Storage type of a float value on the device. */
typedef enum vgi_cu_dt {
    VGI_CU_F32 = 0,
    VGI_CU_F16 = 1,
} vgi_cu_dt;

/* One activation or unary op (the definition of vgi_act_apply and of the ref
 * backend's unary kernel, in float). */
VGI_CU_HD float vgi_cu_act_apply(int kind, float a, float b, float x) {
    switch (kind) {
    case VGI_CU_ACT_NONE:
    case VGI_CU_UN_COPY:
        return x;
    case VGI_CU_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case VGI_CU_ACT_RELU6:
        return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;
    case VGI_CU_ACT_CLIP:
        return x < a ? a : (x > b ? b : x);
    case VGI_CU_ACT_LEAKY:
        return x < 0.0f ? x * a : x;
    case VGI_CU_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case VGI_CU_ACT_TANH:
        return tanhf(x);
    case VGI_CU_ACT_HARD_SWISH: {
        float r = x + 3.0f;
        r       = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return x * r / 6.0f;
    }
    case VGI_CU_ACT_HARD_SIGMOID: {
        float r = a * x + b;
        return r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r);
    }
    case VGI_CU_ACT_SILU:
        return x / (1.0f + expf(-x));
    case VGI_CU_ACT_ELU:
        return x < 0.0f ? a * (expf(x) - 1.0f) : x;
    case VGI_CU_UN_EXP:
        return expf(x);
    case VGI_CU_UN_LOG:
        return logf(x);
    case VGI_CU_UN_SQRT:
        return sqrtf(x);
    case VGI_CU_UN_RSQRT:
        return 1.0f / sqrtf(x);
    case VGI_CU_UN_ABS:
        return fabsf(x);
    case VGI_CU_UN_NEG:
        return -x;
    case VGI_CU_UN_RECIPROCAL:
        return 1.0f / x;
    case VGI_CU_UN_FLOOR:
        return floorf(x);
    case VGI_CU_UN_CEIL:
        return ceilf(x);
    case VGI_CU_UN_ROUND:
        return rintf(x); /* half to even in the default rounding mode */
    case VGI_CU_UN_ERF:
        return erff(x);
    default:
        return x;
    }
}

/* One binary op in float (the ref backend's float semantics). */
VGI_CU_HD float vgi_cu_bin_apply(int op, float a, float b) {
    switch (op) {
    case VGI_CU_BIN_ADD:
        return a + b;
    case VGI_CU_BIN_SUB:
        return a - b;
    case VGI_CU_BIN_MUL:
        return a * b;
    case VGI_CU_BIN_DIV:
        return a / b;
    case VGI_CU_BIN_POW:
        return powf(a, b);
    case VGI_CU_BIN_MAX:
        return a != a || b != b ? a + b : (a > b ? a : b); /* NaN propagates */
    case VGI_CU_BIN_MIN:
        return a != a || b != b ? a + b : (a < b ? a : b);
    case VGI_CU_BIN_FLOOR_DIV: /* in double: a float quotient may round up to an integer */
        return (float)floor((double)a / (double)b);
    case VGI_CU_BIN_FLOOR_MOD: {
        float r = fmodf(a, b);
        if (r != 0.0f && ((r < 0.0f) != (b < 0.0f)))
            r += b;
        return r;
    }
    case VGI_CU_BIN_FMOD:
        return fmodf(a, b);
    case VGI_CU_BIN_SQUARED_DIFF:
        return (a - b) * (a - b);
    case VGI_CU_BIN_PRELU:
        return a < 0.0f ? a * b : a;
    default:
        return 0.0f;
    }
}

/* ---- 2. kernels ------------------------------------------------------------------------- */

#define VGI_CU_MAX_DIMS 8

/* An n-d index space (dims, slowest first) with element strides of up to three
 * operands: operand 0 is the output (dense unless a copy says otherwise), 1 and
 * 2 the inputs. A stride of 0 broadcasts. */
typedef struct vgi_cu_nd {
    int     nd;
    int64_t dims[VGI_CU_MAX_DIMS];
    int64_t st[3][VGI_CU_MAX_DIMS];
} vgi_cu_nd;

/* A rank-4 activation: sizes and element strides of n, c, h, w. */
typedef struct vgi_cu_act4 {
    int64_t N, C, H, W;
    int64_t sn, sc, sh, sw;
} vgi_cu_act4;

typedef struct vgi_cu_pool_args {
    vgi_cu_act4 x, y;
    int64_t     kh, kw, sh, sw, dh, dw, pad_t, pad_l, pad_b, pad_r;
    bool        is_max, count_include_pad;
} vgi_cu_pool_args;

/* Resize: per output row/column the two source indices, the nearest index and
 * the interpolation weight (all precomputed on the host, cuda_host.c). */
typedef struct vgi_cu_resize_args {
    vgi_cu_act4    x, y;
    bool           nearest;
    const int32_t *row; /* [y.H][3]: y0, y1, nearest */
    const float   *wy;  /* [y.H] */
    const int32_t *col; /* [y.W][3] */
    const float   *wx;  /* [y.W] */
} vgi_cu_resize_args;

/* Direct convolution (the fallback when cuDNN has no algorithm for a shape):
 * weights in the activation storage type with element strides for output
 * channel, input channel (within the group), kernel row and column (so OIHW
 * and OHWI both work), any pads. */
typedef struct vgi_cu_conv_args {
    vgi_cu_act4  x, y;
    int64_t      kh, kw, sh, sw, dh, dw, pad_t, pad_l, groups;
    int64_t      wso, wsi, wsh, wsw;
    const void  *w;
    const float *bias; /* f32 or NULL */
    int          act;
    float        act_a, act_b;
} vgi_cu_conv_args;

/* Reduction: each output element reduces `red` (dims/strides in input elements)
 * starting from an offset given by its index in the kept dims. */
typedef struct vgi_cu_reduce_args {
    int     op; /* 0 sum, 1 mean, 2 max, 3 min, 4 prod */
    int     nk, nr;
    int64_t kdims[VGI_CU_MAX_DIMS], kst[VGI_CU_MAX_DIMS];
    int64_t rdims[VGI_CU_MAX_DIMS], rst[VGI_CU_MAX_DIMS];
    int64_t n_out, n_red;
} vgi_cu_reduce_args;

/* Every launcher returns a cudaError_t (0 = cudaSuccess); stream is a cudaStream_t. */
int vgi_cu_convert(void *stream, const void *src, vgi_cu_dt sdt, void *dst, vgi_cu_dt ddt,
                   int64_t n);
int vgi_cu_unary(void *stream, vgi_cu_dt dt, int kind, float a, float b, const void *x, void *y,
                 int64_t n);
/* y = act(y + bias[c] + z[i]) with c = (i / inner) % C (bias and z may be NULL; z is a
 * residual in y's storage type and layout). */
int vgi_cu_bias_act(void *stream, vgi_cu_dt dt, void *y, const float *bias, const void *z,
                    int64_t n, int64_t C, int64_t inner, int act, float a, float b);
/* out[i] = act(op(a[.], b[.])) over nd (operand 0: out, 1: a, 2: b); act is a
 * following activation node fused in (VGI_CU_ACT_NONE: none). */
int vgi_cu_binary(void *stream, vgi_cu_dt dt, int op, const void *a, const void *b, void *out,
                  const vgi_cu_nd *nd, int act, float act_a, float act_b);
/* dst[.] = src[.] over nd (operand 0: dst, 1: src); es = element size in bytes (1, 2, 4, 8). */
int vgi_cu_copy_nd(void *stream, size_t es, const void *src, void *dst, const vgi_cu_nd *nd);
/* Fills n elements of storage type dt with value. */
int vgi_cu_fill(void *stream, vgi_cu_dt dt, void *dst, int64_t n, float value);
int vgi_cu_pool(void *stream, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_pool_args *a);
int vgi_cu_resize(void *stream, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_resize_args *a);
int vgi_cu_conv_direct(void *stream, vgi_cu_dt dt, const void *x, void *y,
                       const vgi_cu_conv_args *a);
/* Direct transposed convolution (vgi_cu_deconv_elem per output element). */
int vgi_cu_deconv_direct(void *stream, vgi_cu_dt dt, const void *x, void *y,
                         const vgi_cu_conv_args *a);
/* Softmax (log_softmax when `log`) over the middle dim of [outer, axis, inner]. */
int vgi_cu_softmax(void *stream, vgi_cu_dt dt, const void *x, void *y, int64_t outer, int64_t axis,
                   int64_t inner, bool log);
int vgi_cu_reduce(void *stream, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_reduce_args *a);
/* Index of the max (or min) over the middle dim of [outer, axis, inner]; out
 * int32 or int64 (out_i64); ties: first index, or last with select_last (the ref rules). */
int vgi_cu_argmax(void *stream, vgi_cu_dt dt, const void *x, void *out, bool out_i64, int64_t outer,
                  int64_t axis, int64_t inner, bool is_min, bool select_last);

/* Launch geometry: blocks of `threads` for n items, at most max_blocks (the
 * kernels loop over the rest with a grid stride). */
VGI_CU_HD unsigned vgi_cu_blocks(int64_t n, unsigned threads, unsigned max_blocks) {
    int64_t b = (n + (int64_t)threads - 1) / (int64_t)threads;
    if (b < 1)
        b = 1;
    return b > (int64_t)max_blocks ? max_blocks : (unsigned)b;
}

/* Offsets of operands 0..n_ops-1 at linear output index i (row-major over nd).
 * Divisions are 32-bit while the index fits (64-bit division is slow on GPUs);
 * the slowest dim needs none. */
VGI_CU_HD void vgi_cu_nd_offsets(const vgi_cu_nd *nd, int n_ops, int64_t i, int64_t off[3]) {
    off[0] = off[1] = off[2] = 0;
    for (int d = nd->nd - 1; d > 0; d--) {
        int64_t q, r;
        if (i <= (int64_t)UINT32_MAX && nd->dims[d] <= (int64_t)UINT32_MAX) {
            uint32_t q32 = (uint32_t)i / (uint32_t)nd->dims[d];
            q            = q32;
            r            = (int64_t)((uint32_t)i - q32 * (uint32_t)nd->dims[d]);
        } else {
            q = i / nd->dims[d];
            r = i - q * nd->dims[d];
        }
        for (int k = 0; k < n_ops; k++)
            off[k] += r * nd->st[k][d];
        i = q;
    }
    for (int k = 0; k < n_ops; k++)
        off[k] += i * nd->st[k][0];
}

/* IEEE binary16 bits -> float (host side of vgi_cu_ld; exact). */
VGI_CU_HD float vgi_cu_h2f_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        bits = sign | ((e + 112) << 23) | (m << 13);
    } else if (m) { /* subnormal: normalise */
        e = 113;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((m & 0x3ff) << 13);
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* Element i of a float value stored as f32 (dt 0) or f16 (dt 1). */
VGI_CU_HD float vgi_cu_ld(const void *p, int64_t i, int dt) {
#ifdef __CUDA_ARCH__
    return dt ? __half2float(((const __half *)p)[i]) : ((const float *)p)[i];
#else
    return dt ? vgi_cu_h2f_bits(((const uint16_t *)p)[i]) : ((const float *)p)[i];
#endif
}

/* Splits output index i of a rank-4 activation into n, c, h, w with the dim of
 * stride 1 (c for NHWC, w for NCHW) fastest, so that neighbouring threads
 * write neighbouring elements. */
VGI_CU_HD void vgi_cu_split4(const vgi_cu_act4 *y, int64_t i, int64_t *b, int64_t *c, int64_t *h,
                             int64_t *w) {
    if (i <= (int64_t)UINT32_MAX && y->C * y->H * y->W <= (int64_t)UINT32_MAX) {
        uint32_t j = (uint32_t)i, C = (uint32_t)y->C, H = (uint32_t)y->H, W = (uint32_t)y->W;
        if (y->sc == 1) {
            *c = j % C, j /= C, *w = j % W, j /= W, *h = j % H, *b = j / H;
        } else {
            *w = j % W, j /= W, *h = j % H, j /= H, *c = j % C, *b = j / C;
        }
        return;
    }
    if (y->sc == 1) {
        *c = i % y->C;
        i /= y->C;
        *w = i % y->W;
        i /= y->W;
        *h = i % y->H;
        *b = i / y->H;
    } else {
        *w = i % y->W;
        i /= y->W;
        *h = i % y->H;
        i /= y->H;
        *c = i % y->C;
        *b = i / y->C;
    }
}

/* One pooling window (the ref kernel's rules: NaN wins a max, padded
 * positions count toward the average only inside the padded input). */
VGI_CU_HD float vgi_cu_pool_elem(const vgi_cu_pool_args *a, int dt, const void *x, int64_t b,
                                 int64_t c, int64_t oh, int64_t ow) {
    float   acc = a->is_max ? -INFINITY : 0.0f;
    int64_t cnt = 0;
    for (int64_t kh = 0; kh < a->kh; kh++) {
        int64_t ih = oh * a->sh - a->pad_t + kh * a->dh;
        for (int64_t kw = 0; kw < a->kw; kw++) {
            int64_t iw = ow * a->sw - a->pad_l + kw * a->dw;
            if (ih < 0 || ih >= a->x.H || iw < 0 || iw >= a->x.W) {
                if (a->count_include_pad && ih < a->x.H + a->pad_b && iw < a->x.W + a->pad_r)
                    cnt++;
                continue;
            }
            float v = vgi_cu_ld(x, b * a->x.sn + c * a->x.sc + ih * a->x.sh + iw * a->x.sw, dt);
            if (a->is_max) {
                if (v > acc || v != v)
                    acc = v;
            } else {
                acc += v;
            }
            cnt++;
        }
    }
    return a->is_max ? acc : (cnt ? acc / (float)cnt : 0.0f);
}

/* One resized element from the precomputed row/column tables. */
VGI_CU_HD float vgi_cu_resize_elem(const vgi_cu_resize_args *a, int dt, const void *x, int64_t b,
                                   int64_t c, int64_t oh, int64_t ow) {
    int64_t        base = b * a->x.sn + c * a->x.sc;
    const int32_t *r = a->row + oh * 3, *q = a->col + ow * 3;
    if (a->nearest)
        return vgi_cu_ld(x, base + r[2] * a->x.sh + q[2] * a->x.sw, dt);
    float tl = vgi_cu_ld(x, base + r[0] * a->x.sh + q[0] * a->x.sw, dt);
    float tr = vgi_cu_ld(x, base + r[0] * a->x.sh + q[1] * a->x.sw, dt);
    float bl = vgi_cu_ld(x, base + r[1] * a->x.sh + q[0] * a->x.sw, dt);
    float br = vgi_cu_ld(x, base + r[1] * a->x.sh + q[1] * a->x.sw, dt);
    float wx = a->wx[ow], wy = a->wy[oh];
    float top = tl + (tr - tl) * wx, bot = bl + (br - bl) * wx;
    return top + (bot - top) * wy;
}

/* One output element of a direct convolution, with bias and activation. */
VGI_CU_HD float vgi_cu_conv_elem(const vgi_cu_conv_args *a, int dt, const void *x, int64_t b,
                                 int64_t co, int64_t oh, int64_t ow) {
    int64_t cig = a->x.C / a->groups, cog = a->y.C / a->groups, grp = co / cog;
    float   acc = 0.0f;
    for (int64_t ci = 0; ci < cig; ci++) {
        int64_t xc = b * a->x.sn + (grp * cig + ci) * a->x.sc, wc = co * a->wso + ci * a->wsi;
        for (int64_t kh = 0; kh < a->kh; kh++) {
            int64_t ih = oh * a->sh - a->pad_t + kh * a->dh;
            if (ih < 0 || ih >= a->x.H)
                continue;
            for (int64_t kw = 0; kw < a->kw; kw++) {
                int64_t iw = ow * a->sw - a->pad_l + kw * a->dw;
                if (iw < 0 || iw >= a->x.W)
                    continue;
                acc += vgi_cu_ld(x, xc + ih * a->x.sh + iw * a->x.sw, dt) *
                       vgi_cu_ld(a->w, wc + kh * a->wsh + kw * a->wsw, dt);
            }
        }
    }
    if (a->bias)
        acc = acc + a->bias[co];
    return vgi_cu_act_apply(a->act, a->act_a, a->act_b, acc);
}

/* One output element of a transposed convolution (gather form of the ref kernel's
 * scatter): weights [Cin][Cout/groups][kh][kw] through wso (input channel), wsi
 * (output channel within the group), wsh, wsw; pad_t/pad_l are the begin pads. */
VGI_CU_HD float vgi_cu_deconv_elem(const vgi_cu_conv_args *a, int dt, const void *x, int64_t b,
                                   int64_t co, int64_t oh, int64_t ow) {
    int64_t cig = a->x.C / a->groups, cog = a->y.C / a->groups, grp = co / cog, col = co % cog;
    float   acc = 0.0f;
    for (int64_t j = 0; j < cig; j++) {
        int64_t ci = grp * cig + j, xc = b * a->x.sn + ci * a->x.sc,
                wc = ci * a->wso + col * a->wsi;
        for (int64_t kh = 0; kh < a->kh; kh++) {
            int64_t th = oh + a->pad_t - kh * a->dh;
            if (th < 0 || th % a->sh)
                continue;
            int64_t ih = th / a->sh;
            if (ih >= a->x.H)
                continue;
            for (int64_t kw = 0; kw < a->kw; kw++) {
                int64_t tw = ow + a->pad_l - kw * a->dw;
                if (tw < 0 || tw % a->sw)
                    continue;
                int64_t iw = tw / a->sw;
                if (iw >= a->x.W)
                    continue;
                acc += vgi_cu_ld(x, xc + ih * a->x.sh + iw * a->x.sw, dt) *
                       vgi_cu_ld(a->w, wc + kh * a->wsh + kw * a->wsw, dt);
            }
        }
    }
    if (a->bias)
        acc = acc + a->bias[co];
    return vgi_cu_act_apply(a->act, a->act_a, a->act_b, acc);
}

/* ---- 3. host planning (cuda_host.c) -------------------------------------------------------- */

#ifndef __CUDACC__

/* One device buffer to place: live from step `first` to `last` (inclusive). */
typedef struct vgi_cuda_buf {
    size_t bytes;
    int    first, last;
    size_t offset; /* out */
} vgi_cuda_buf;

/*
 * Places buffers in one allocation: buffers whose lifetimes overlap never
 * share bytes; others may. Greedy, largest first, lowest fitting offset, each
 * offset a multiple of align (a power of two). *total receives the size.
 * Returns VG_E_NOMEM when its scratch allocation fails.
 */
vg_status vgi_cuda_mem_plan(vgi_cuda_buf *bufs, int n, size_t align, size_t *total);

/*
 * Broadcast plan of a binary op: out, a, b shapes (numpy broadcasting, the
 * output shape given) to a vgi_cu_nd with dense output strides and the
 * inputs' strides (0 on broadcast dims), merging adjacent dims that are
 * contiguous for all three operands. n_in = 1 or 2 (b may be NULL then).
 */
void vgi_cuda_bcast_nd(const vg_shape *out, const vg_shape *a, const vg_shape *b, int n_in,
                       vgi_cu_nd *nd);

/* Merges adjacent dims of nd that are contiguous for all n_ops operands and
 * drops size-1 dims (keeps at least one dim). */
void vgi_cuda_nd_simplify(vgi_cu_nd *nd, int n_ops);

/* Reorders the dims of nd by decreasing operand-0 (output) stride, so that the
 * kernels' linear index walks the output's memory in order, then simplifies.
 * For outputs stored in another layout than their logical dim order. */
void vgi_cuda_nd_sort(vgi_cu_nd *nd, int n_ops);

/* Strides of a value of logical shape s stored with strides st, as seen from an
 * output of shape o under numpy broadcasting (0 on broadcast and missing dims). */
void vgi_cuda_bcast_st(const vg_shape *s, const int64_t *st, const vg_shape *o, int64_t *out);

/* How a convolution maps onto cuDNN: cuDNN takes one symmetric pad per axis,
 * so asymmetric pads are split into an explicit pre-pad of the input (extra
 * rows/columns of zeros) plus the symmetric part. */
typedef struct vgi_cuda_conv_geom {
    int64_t pads[4];      /* resolved: top, left, bottom, right */
    int64_t pre[4];       /* explicit zero pad of the input: top, left, bottom, right */
    int64_t sym[2];       /* cuDNN pad h, w */
    int64_t in_h, in_w;   /* input size seen by cuDNN (after the pre-pad) */
    int64_t out_h, out_w; /* what cuDNN computes */
} vgi_cuda_conv_geom;

/* Fills geom for a forward convolution of an in_h x in_w input with a kh x kw
 * kernel; false when the result would not match the IR's out_h x out_w. */
bool vgi_cuda_conv_geom_make(const vgi_conv_attr *a, int64_t in_h, int64_t in_w, int64_t kh,
                             int64_t kw, int64_t out_h, int64_t out_w, vgi_cuda_conv_geom *geom);

/* Transposed convolution: true when cuDNN's backward-data convolution (one
 * symmetric pad = pads[0]/pads[1], the begin pads the ref kernel uses)
 * produces an out_h x out_w result for an in_h x in_w input. */
bool vgi_cuda_deconv_ok(const vgi_conv_attr *a, int64_t in_h, int64_t in_w, int64_t kh, int64_t kw,
                        int64_t out_h, int64_t out_w);

/* The source table of one resize axis (the ref kernel's coordinate rules):
 * idx[o*3+0..2] = lower, upper and nearest source index, w[o] = weight of the
 * upper one. scale = in / out (or 1 / the attribute's scale). */
void vgi_cuda_resize_axis(vgi_resize_coord coord, vgi_nearest_mode nearest, int64_t in, int64_t out,
                          double scale, int32_t *idx, float *w);

/* Reorders convolution weights OIHW -> OHWI (cuDNN's KRSC filter layout for NHWC data). */
void vgi_cuda_weights_ohwi(const float *oihw, int64_t O, int64_t I, int64_t H, int64_t W,
                           float *ohwi);

/* Element strides of a rank-4 activation tensor of this layout. */
vgi_cu_act4 vgi_cuda_act4(const vg_shape *s, vgi_layout layout);

/* Maps IR ops to kernel op codes; false when the op has none. */
bool vgi_cuda_unary_kind(vgi_op op, int *kind);
bool vgi_cuda_binary_kind(vgi_op op, int *kind);
bool vgi_cuda_act_kind(vgi_act_kind k, int *kind);

#endif /* !__CUDACC__ */

#ifdef __cplusplus
}
#endif

#endif /* VG_BACKENDS_CUDA_IMPL_H */
