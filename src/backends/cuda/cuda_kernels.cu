/*
 * cuda_kernels.cu - the cuda backend's own kernels (everything cuDNN and
 * cuBLAS do not do) and their C launchers.
 *
 * DESIGN
 * One kernel per op family, no templates: float values are stored as f32 or
 * f16 (a uniform run-time flag, vgi_cu_dt) and every kernel loads through
 * ld(), computes in float and stores through st(), so f16 storage costs no
 * extra instantiations. Threads map to output elements with a grid-stride
 * loop (64-bit indices); the index order puts the fastest-varying dim of the
 * output innermost so that warps write contiguous memory. The arithmetic of
 * each element is the shared code in cuda_impl.h (also compiled for the host
 * and tested against the ref backend there). Launchers return the launch's
 * cudaError_t; nothing here allocates or synchronises.
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "cuda_impl.h"

#define THREADS    256u
#define MAX_BLOCKS (1u << 20)

#define GRID_LOOP(i, n)                                                                            \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)blockDim.x * gridDim.x)

static __device__ __forceinline__ float ld(const void *p, int64_t i, int dt) {
    return vgi_cu_ld(p, i, dt);
}

static __device__ __forceinline__ void st(void *p, int64_t i, int dt, float v) {
    if (dt)
        ((__half *)p)[i] = __float2half_rn(v);
    else
        ((float *)p)[i] = v;
}

#define LAUNCH(kernel, n, stream, ...)                                                             \
    do {                                                                                           \
        if ((n) <= 0)                                                                              \
            return (int)cudaSuccess;                                                               \
        kernel<<<vgi_cu_blocks((n), THREADS, MAX_BLOCKS), THREADS, 0, (cudaStream_t)(stream)>>>(   \
            __VA_ARGS__);                                                                          \
        return (int)cudaGetLastError();                                                            \
    } while (0)

/* ---- elementwise ---------------------------------------------------------------------------- */

static __global__ void k_convert(const void *src, int sdt, void *dst, int ddt, int64_t n) {
    GRID_LOOP(i, n) st(dst, i, ddt, ld(src, i, sdt));
}

extern "C" int vgi_cu_convert(void *stream, const void *src, vgi_cu_dt sdt, void *dst,
                              vgi_cu_dt ddt, int64_t n) {
    LAUNCH(k_convert, n, stream, src, (int)sdt, dst, (int)ddt, n);
}

static __global__ void k_unary(int dt, int kind, float a, float b, const void *x, void *y,
                               int64_t n) {
    GRID_LOOP(i, n) st(y, i, dt, vgi_cu_act_apply(kind, a, b, ld(x, i, dt)));
}

extern "C" int vgi_cu_unary(void *stream, vgi_cu_dt dt, int kind, float a, float b, const void *x,
                            void *y, int64_t n) {
    LAUNCH(k_unary, n, stream, (int)dt, kind, a, b, x, y, n);
}

static __global__ void k_bias_act(int dt, void *y, const float *bias, const void *z, int64_t n,
                                  int64_t C, int64_t inner, int act, float a, float b) {
    bool small = n <= (int64_t)UINT32_MAX; /* 32-bit index math */
    GRID_LOOP(i, n) {
        float v = ld(y, i, dt);
        if (bias)
            v = v + bias[small ? ((uint32_t)i / (uint32_t)inner) % (uint32_t)C : (i / inner) % C];
        if (z)
            v = v + ld(z, i, dt);
        st(y, i, dt, vgi_cu_act_apply(act, a, b, v));
    }
}

extern "C" int vgi_cu_bias_act(void *stream, vgi_cu_dt dt, void *y, const float *bias,
                               const void *z, int64_t n, int64_t C, int64_t inner, int act, float a,
                               float b) {
    LAUNCH(k_bias_act, n, stream, (int)dt, y, bias, z, n, C, inner < 1 ? 1 : inner, act, a, b);
}

static __global__ void k_binary(int dt, int op, const void *a, const void *b, void *out,
                                vgi_cu_nd nd, int64_t n, int act, float aa, float ab) {
    GRID_LOOP(i, n) {
        int64_t off[3];
        vgi_cu_nd_offsets(&nd, 3, i, off);
        float v = vgi_cu_bin_apply(op, ld(a, off[1], dt), ld(b, off[2], dt));
        st(out, off[0], dt, vgi_cu_act_apply(act, aa, ab, v));
    }
}

static int64_t nd_numel(const vgi_cu_nd *nd) {
    int64_t n = 1;
    for (int d = 0; d < nd->nd; d++)
        n *= nd->dims[d];
    return n;
}

extern "C" int vgi_cu_binary(void *stream, vgi_cu_dt dt, int op, const void *a, const void *b,
                             void *out, const vgi_cu_nd *nd, int act, float act_a, float act_b) {
    int64_t n = nd_numel(nd);
    LAUNCH(k_binary, n, stream, (int)dt, op, a, b, out, *nd, n, act, act_a, act_b);
}

static __global__ void k_copy_nd(int es, const void *src, void *dst, vgi_cu_nd nd, int64_t n) {
    GRID_LOOP(i, n) {
        int64_t off[3];
        vgi_cu_nd_offsets(&nd, 2, i, off);
        switch (es) {
        case 1:
            ((uint8_t *)dst)[off[0]] = ((const uint8_t *)src)[off[1]];
            break;
        case 2:
            ((uint16_t *)dst)[off[0]] = ((const uint16_t *)src)[off[1]];
            break;
        case 4:
            ((uint32_t *)dst)[off[0]] = ((const uint32_t *)src)[off[1]];
            break;
        default:
            ((uint64_t *)dst)[off[0]] = ((const uint64_t *)src)[off[1]];
            break;
        }
    }
}

extern "C" int vgi_cu_copy_nd(void *stream, size_t es, const void *src, void *dst,
                              const vgi_cu_nd *nd) {
    int64_t n = nd_numel(nd);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return (int)cudaErrorInvalidValue;
    LAUNCH(k_copy_nd, n, stream, (int)es, src, dst, *nd, n);
}

static __global__ void k_fill(int dt, void *dst, int64_t n, float v) {
    GRID_LOOP(i, n) st(dst, i, dt, v);
}

extern "C" int vgi_cu_fill(void *stream, vgi_cu_dt dt, void *dst, int64_t n, float value) {
    LAUNCH(k_fill, n, stream, (int)dt, dst, n, value);
}

/* ---- spatial ops -------------------------------------------------------------------------------
 */

static __global__ void k_pool(int dt, const void *x, void *y, vgi_cu_pool_args a, int64_t n) {
    GRID_LOOP(i, n) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &c, &oh, &ow);
        st(y, b * a.y.sn + c * a.y.sc + oh * a.y.sh + ow * a.y.sw, dt,
           vgi_cu_pool_elem(&a, dt, x, b, c, oh, ow));
    }
}

extern "C" int vgi_cu_pool(void *stream, vgi_cu_dt dt, const void *x, void *y,
                           const vgi_cu_pool_args *a) {
    int64_t n = a->y.N * a->y.C * a->y.H * a->y.W;
    LAUNCH(k_pool, n, stream, (int)dt, x, y, *a, n);
}

static __global__ void k_resize(int dt, const void *x, void *y, vgi_cu_resize_args a, int64_t n) {
    GRID_LOOP(i, n) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &c, &oh, &ow);
        st(y, b * a.y.sn + c * a.y.sc + oh * a.y.sh + ow * a.y.sw, dt,
           vgi_cu_resize_elem(&a, dt, x, b, c, oh, ow));
    }
}

extern "C" int vgi_cu_resize(void *stream, vgi_cu_dt dt, const void *x, void *y,
                             const vgi_cu_resize_args *a) {
    int64_t n = a->y.N * a->y.C * a->y.H * a->y.W;
    LAUNCH(k_resize, n, stream, (int)dt, x, y, *a, n);
}

static __global__ void k_conv_direct(int dt, const void *x, void *y, vgi_cu_conv_args a,
                                     int64_t n) {
    GRID_LOOP(i, n) {
        int64_t b, co, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &co, &oh, &ow);
        st(y, b * a.y.sn + co * a.y.sc + oh * a.y.sh + ow * a.y.sw, dt,
           vgi_cu_conv_elem(&a, dt, x, b, co, oh, ow));
    }
}

extern "C" int vgi_cu_conv_direct(void *stream, vgi_cu_dt dt, const void *x, void *y,
                                  const vgi_cu_conv_args *a) {
    int64_t n = a->y.N * a->y.C * a->y.H * a->y.W;
    LAUNCH(k_conv_direct, n, stream, (int)dt, x, y, *a, n);
}

static __global__ void k_deconv_direct(int dt, const void *x, void *y, vgi_cu_conv_args a,
                                       int64_t n) {
    GRID_LOOP(i, n) {
        int64_t b, co, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &co, &oh, &ow);
        st(y, b * a.y.sn + co * a.y.sc + oh * a.y.sh + ow * a.y.sw, dt,
           vgi_cu_deconv_elem(&a, dt, x, b, co, oh, ow));
    }
}

extern "C" int vgi_cu_deconv_direct(void *stream, vgi_cu_dt dt, const void *x, void *y,
                                    const vgi_cu_conv_args *a) {
    int64_t n = a->y.N * a->y.C * a->y.H * a->y.W;
    LAUNCH(k_deconv_direct, n, stream, (int)dt, x, y, *a, n);
}

/* ---- rows: softmax, reductions, arg-max ----------------------------------------------------- */

static __global__ void k_softmax(int dt, const void *x, void *y, int64_t outer, int64_t A,
                                 int64_t inner, bool lg) {
    int64_t n = outer * inner;
    GRID_LOOP(i, n) {
        int64_t p = i / inner, q = i - p * inner, base = p * A * inner + q;
        float   m = -INFINITY;
        for (int64_t a = 0; a < A; a++)
            m = fmaxf(m, ld(x, base + a * inner, dt));
        float s = 0.0f;
        for (int64_t a = 0; a < A; a++)
            s += expf(ld(x, base + a * inner, dt) - m);
        float ls = logf(s);
        for (int64_t a = 0; a < A; a++) {
            float v = ld(x, base + a * inner, dt) - m;
            st(y, base + a * inner, dt, lg ? v - ls : expf(v) / s);
        }
    }
}

extern "C" int vgi_cu_softmax(void *stream, vgi_cu_dt dt, const void *x, void *y, int64_t outer,
                              int64_t axis, int64_t inner, bool log) {
    LAUNCH(k_softmax, outer * inner, stream, (int)dt, x, y, outer, axis, inner, log);
}

static __global__ void k_reduce(int dt, const void *x, void *y, vgi_cu_reduce_args a) {
    GRID_LOOP(o, a.n_out) {
        int64_t base = 0, rem = o;
        for (int d = a.nk - 1; d >= 0; d--) {
            base += (rem % a.kdims[d]) * a.kst[d];
            rem /= a.kdims[d];
        }
        double res = a.op == 4 ? 1.0 : 0.0;
        for (int64_t k = 0; k < a.n_red; k++) {
            int64_t off = base, r = k;
            for (int d = a.nr - 1; d >= 0; d--) {
                off += (r % a.rdims[d]) * a.rst[d];
                r /= a.rdims[d];
            }
            double v = ld(x, off, dt);
            switch (a.op) {
            case 0:
                res += v;
                break;
            case 1:
                res += (double)(float)(v / (double)a.n_red);
                break;
            case 2:
                if (k == 0 || v > res || v != v)
                    res = v;
                break;
            case 3:
                if (k == 0 || v < res || v != v)
                    res = v;
                break;
            default:
                res *= v;
                break;
            }
        }
        st(y, o, dt, (float)res);
    }
}

extern "C" int vgi_cu_reduce(void *stream, vgi_cu_dt dt, const void *x, void *y,
                             const vgi_cu_reduce_args *a) {
    LAUNCH(k_reduce, a->n_out, stream, (int)dt, x, y, *a);
}

static __global__ void k_argmax(int dt, const void *x, void *out, bool i64, int64_t outer,
                                int64_t A, int64_t inner, bool is_min, bool last) {
    int64_t n = outer * inner;
    GRID_LOOP(i, n) {
        int64_t p = i / inner, q = i - p * inner, base = p * A * inner + q, best = 0;
        float   bv = ld(x, base, dt);
        for (int64_t a = 1; a < A; a++) {
            float v      = ld(x, base + a * inner, dt);
            bool  better = is_min ? (v < bv || (last && v == bv)) : (v > bv || (last && v == bv));
            if (better) {
                bv   = v;
                best = a;
            }
        }
        if (i64)
            ((int64_t *)out)[i] = best;
        else
            ((int32_t *)out)[i] = (int32_t)best;
    }
}

extern "C" int vgi_cu_argmax(void *stream, vgi_cu_dt dt, const void *x, void *out, bool out_i64,
                             int64_t outer, int64_t axis, int64_t inner, bool is_min,
                             bool select_last) {
    LAUNCH(k_argmax, outer * inner, stream, (int)dt, x, out, out_i64, outer, axis, inner, is_min,
           select_last);
}
