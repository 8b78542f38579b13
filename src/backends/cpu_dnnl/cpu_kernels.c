/*
 * cpu_kernels.c - plain C kernels for small ops of the `cpu` backend.
 *
 * DESIGN
 * Everything that depends only on shapes is decided at plan time: broadcasting is
 * reduced to per-dimension element strides (0 for a broadcast dimension) after
 * merging adjacent dimensions that are contiguous in all three tensors, so the inner
 * loop is a plain strided loop over the last dimension; bilinear resizing gets
 * per-row and per-column index/weight tables built by the caller. The semantics are
 * those of the ref kernels (the oracle): float math in float32 except where the ref
 * defines otherwise, casts from float to int truncate toward zero, comparisons yield
 * bool bytes 0/1.
 */
#include "backends/cpu_dnnl/cpu_kernels.h"

#include <math.h>
#include <string.h>

bool vgi_ck_cast_ok(vg_dtype from, vg_dtype to) {
    bool f = from == VG_DTYPE_F32 || from == VG_DTYPE_I32 || from == VG_DTYPE_I64 ||
             from == VG_DTYPE_U8 || from == VG_DTYPE_BOOL;
    bool t = to == VG_DTYPE_F32 || to == VG_DTYPE_I32 || to == VG_DTYPE_I64 || to == VG_DTYPE_BOOL;
    return f && t;
}

bool vgi_ck_binary_ok(vgi_op op, vg_dtype in, vg_dtype out) {
    switch (op) {
    case VGI_OP_EQUAL:
    case VGI_OP_NOT_EQUAL:
    case VGI_OP_LESS:
    case VGI_OP_LESS_EQUAL:
    case VGI_OP_GREATER:
    case VGI_OP_GREATER_EQUAL:
        return in == VG_DTYPE_F32 && out == VG_DTYPE_BOOL;
    case VGI_OP_SQUARED_DIFF:
    case VGI_OP_ADD:
    case VGI_OP_SUB:
    case VGI_OP_MUL:
    case VGI_OP_DIV:
    case VGI_OP_MAX:
    case VGI_OP_MIN:
        return in == VG_DTYPE_F32 && out == VG_DTYPE_F32;
    case VGI_OP_LOGICAL_AND:
    case VGI_OP_LOGICAL_OR:
        return in == VG_DTYPE_BOOL && out == VG_DTYPE_BOOL;
    default:
        return false;
    }
}

void vgi_ck_binary_init(vgi_ck *k, const vg_shape *as, const vg_shape *bs, const vg_shape *os) {
    int     r = os->ndim;
    int64_t d[VG_MAX_DIMS], sa[VG_MAX_DIMS], sb[VG_MAX_DIMS];
    int64_t ea = 1, eb = 1;
    /* element strides, right-aligned, 0 where broadcast */
    for (int i = r - 1; i >= 0; i--) {
        int     ia = i - (r - as->ndim), ib = i - (r - bs->ndim);
        int64_t da = ia >= 0 ? as->dims[ia] : 1, db = ib >= 0 ? bs->dims[ib] : 1;
        d[i]  = os->dims[i];
        sa[i] = da == 1 && d[i] != 1 ? 0 : ea;
        sb[i] = db == 1 && d[i] != 1 ? 0 : eb;
        ea *= da;
        eb *= db;
    }
    /* merge dimension i into i+1 when both strides stay linear */
    int n = 0;
    for (int i = 0; i < r; i++) {
        if (d[i] == 1)
            continue;
        if (n > 0 && k->sa[n - 1] == sa[i] * d[i] && k->sb[n - 1] == sb[i] * d[i]) {
            /* previous (outer) dim continues linearly into this one */
            k->dims[n - 1] *= d[i];
            k->sa[n - 1] = sa[i];
            k->sb[n - 1] = sb[i];
            continue;
        }
        k->dims[n] = d[i];
        k->sa[n]   = sa[i];
        k->sb[n]   = sb[i];
        n++;
    }
    if (n == 0) {
        k->dims[0] = 1;
        k->sa[0] = k->sb[0] = 0;
        n                   = 1;
    }
    k->rank = n;
}

/* ---- cast ----------------------------------------------------------------------------- */

static double get_f(const void *p, vg_dtype t, int64_t i) {
    switch (t) {
    case VG_DTYPE_F32:
        return ((const float *)p)[i];
    case VG_DTYPE_I32:
        return ((const int32_t *)p)[i];
    case VG_DTYPE_I64:
        return (double)((const int64_t *)p)[i];
    case VG_DTYPE_U8:
    case VG_DTYPE_BOOL:
        return ((const uint8_t *)p)[i];
    default:
        return 0;
    }
}

static void run_cast(const vgi_ck *k) {
    int64_t n = k->n;
    if (k->ta == VG_DTYPE_I32 && k->to == VG_DTYPE_F32) { /* the hot one (image input) */
        const int32_t *a = k->a;
        float         *o = k->out;
        for (int64_t i = 0; i < n; i++)
            o[i] = (float)a[i];
        return;
    }
    if (k->ta == VG_DTYPE_BOOL && k->to == VG_DTYPE_F32) {
        const uint8_t *a = k->a;
        float         *o = k->out;
        for (int64_t i = 0; i < n; i++)
            o[i] = a[i] ? 1.f : 0.f;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = get_f(k->a, k->ta, i);
        switch (k->to) {
        case VG_DTYPE_F32:
            ((float *)k->out)[i] = (float)v;
            break;
        case VG_DTYPE_I32:
            ((int32_t *)k->out)[i] = isfinite(v) ? (int32_t)trunc(v) : 0;
            break;
        case VG_DTYPE_I64:
            ((int64_t *)k->out)[i] = isfinite(v) ? (int64_t)trunc(v) : 0;
            break;
        case VG_DTYPE_BOOL:
            ((uint8_t *)k->out)[i] = v != 0;
            break;
        default:
            break;
        }
    }
}

/* ---- binary with broadcasting --------------------------------------------------------- */

#define BIN_LOOP(TA, TO, EXPR)                                                                     \
    do {                                                                                           \
        const TA *A                = k->a;                                                         \
        const TA *B                = k->b;                                                         \
        TO       *O                = k->out;                                                       \
        int64_t   idx[VG_MAX_DIMS] = {0};                                                          \
        int       r                = k->rank;                                                      \
        int64_t   inner = k->dims[r - 1], ia = k->sa[r - 1], ib = k->sb[r - 1];                    \
        int64_t   oa = 0, ob = 0, oo = 0;                                                          \
        for (;;) {                                                                                 \
            for (int64_t j = 0; j < inner; j++) {                                                  \
                TA x = A[oa + j * ia], y = B[ob + j * ib];                                         \
                O[oo + j] = (TO)(EXPR);                                                            \
            }                                                                                      \
            oo += inner;                                                                           \
            int d = r - 2;                                                                         \
            for (; d >= 0; d--) {                                                                  \
                oa += k->sa[d];                                                                    \
                ob += k->sb[d];                                                                    \
                if (++idx[d] < k->dims[d])                                                         \
                    break;                                                                         \
                oa -= k->sa[d] * k->dims[d];                                                       \
                ob -= k->sb[d] * k->dims[d];                                                       \
                idx[d] = 0;                                                                        \
            }                                                                                      \
            if (d < 0)                                                                             \
                break;                                                                             \
        }                                                                                          \
    } while (0)

static void run_binary(const vgi_ck *k) {
    switch (k->op) {
    case VGI_OP_EQUAL:
        BIN_LOOP(float, uint8_t, x == y);
        break;
    case VGI_OP_NOT_EQUAL:
        BIN_LOOP(float, uint8_t, x != y);
        break;
    case VGI_OP_LESS:
        BIN_LOOP(float, uint8_t, x < y);
        break;
    case VGI_OP_LESS_EQUAL:
        BIN_LOOP(float, uint8_t, x <= y);
        break;
    case VGI_OP_GREATER:
        BIN_LOOP(float, uint8_t, x > y);
        break;
    case VGI_OP_GREATER_EQUAL:
        BIN_LOOP(float, uint8_t, x >= y);
        break;
    case VGI_OP_SQUARED_DIFF:
        BIN_LOOP(float, float, (x - y) * (x - y));
        break;
    case VGI_OP_ADD:
        BIN_LOOP(float, float, x + y);
        break;
    case VGI_OP_SUB:
        BIN_LOOP(float, float, x - y);
        break;
    case VGI_OP_MUL:
        BIN_LOOP(float, float, x *y);
        break;
    case VGI_OP_DIV:
        BIN_LOOP(float, float, x / y);
        break;
    case VGI_OP_MAX:
        BIN_LOOP(float, float, isnan(x) || isnan(y) ? NAN : (x > y ? x : y));
        break;
    case VGI_OP_MIN:
        BIN_LOOP(float, float, isnan(x) || isnan(y) ? NAN : (x < y ? x : y));
        break;
    case VGI_OP_LOGICAL_AND:
        BIN_LOOP(uint8_t, uint8_t, x && y);
        break;
    case VGI_OP_LOGICAL_OR:
        BIN_LOOP(uint8_t, uint8_t, x || y);
        break;
    default:
        break;
    }
}

/* ---- bilinear resize -------------------------------------------------------------------- */

static void run_resize(const vgi_ck *k) {
    const float *x = k->a;
    float       *y = k->out;
    int64_t      C = k->C, H = k->H, W = k->W, OH = k->OH, OW = k->OW;
    for (int64_t n = 0; n < k->N; n++) {
        const float *xn = x + n * C * H * W;
        float       *yn = y + n * C * OH * OW;
        if (k->nhwc) {
            for (int64_t oy = 0; oy < OH; oy++) {
                const float *r0 = xn + k->y0[oy] * W * C, *r1 = xn + k->y1[oy] * W * C;
                float        wy = k->wy[oy];
                for (int64_t ox = 0; ox < OW; ox++) {
                    const float *a = r0 + k->x0[ox] * C, *b = r0 + k->x1[ox] * C;
                    const float *c = r1 + k->x0[ox] * C, *d = r1 + k->x1[ox] * C;
                    float        wx = k->wx[ox];
                    float       *o  = yn + (oy * OW + ox) * C;
                    for (int64_t ch = 0; ch < C; ch++) {
                        float top = a[ch] + (b[ch] - a[ch]) * wx;
                        float bot = c[ch] + (d[ch] - c[ch]) * wx;
                        o[ch]     = top + (bot - top) * wy;
                    }
                }
            }
        } else {
            for (int64_t ch = 0; ch < C; ch++) {
                const float *p = xn + ch * H * W;
                float       *o = yn + ch * OH * OW;
                for (int64_t oy = 0; oy < OH; oy++) {
                    const float *r0 = p + k->y0[oy] * W, *r1 = p + k->y1[oy] * W;
                    float        wy = k->wy[oy];
                    for (int64_t ox = 0; ox < OW; ox++) {
                        float wx        = k->wx[ox];
                        float top       = r0[k->x0[ox]] + (r0[k->x1[ox]] - r0[k->x0[ox]]) * wx;
                        float bot       = r1[k->x0[ox]] + (r1[k->x1[ox]] - r1[k->x0[ox]]) * wx;
                        o[oy * OW + ox] = top + (bot - top) * wy;
                    }
                }
            }
        }
    }
}

/* ---- per-channel operand on a blocked layout ------------------------------------------ */

#define CHAN_LOOP(EXPR)                                                                            \
    do {                                                                                           \
        for (int64_t h = 0; h < k->H; h++)                                                         \
            for (int64_t w = 0; w < k->W; w++) {                                                   \
                int64_t      off = base + h * k->st[2] + w * k->st[3];                             \
                const float *xp  = x + off;                                                        \
                float       *op  = o + off;                                                        \
                for (int64_t l = 0; l < B; l++) {                                                  \
                    float xv = xp[l], sv = svec[l];                                                \
                    op[l] = (EXPR);                                                                \
                }                                                                                  \
            }                                                                                      \
    } while (0)

static void run_channel(const vgi_ck *k) {
    const float *x = k->a, *s = k->b;
    float       *o = k->out;
    int64_t      B = k->blk, nb = (k->C + B - 1) / B;
    for (int64_t n = 0; n < k->N; n++)
        for (int64_t cb = 0; cb < nb; cb++) {
            /* padded lanes: an operand that keeps them 0 (the padding oneDNN expects) */
            float   svec[64];
            int64_t valid = k->C - cb * B < B ? k->C - cb * B : B;
            bool    div   = k->op == VGI_OP_DIV;
            for (int64_t l = 0; l < B; l++)
                svec[l] = l < valid ? s[n * k->b_n + cb * B + l] : (div && !k->swap ? 1.f : 0.f);
            int64_t base = n * k->st[0] + cb * k->st[1];
            switch (k->op) {
            case VGI_OP_ADD:
                CHAN_LOOP(xv + sv);
                break;
            case VGI_OP_MUL:
                CHAN_LOOP(xv * sv);
                break;
            case VGI_OP_SUB:
                if (k->swap)
                    CHAN_LOOP(sv - xv);
                else
                    CHAN_LOOP(xv - sv);
                break;
            case VGI_OP_DIV:
                CHAN_LOOP(xv / sv);
                break; /* never swapped (see prep_channel) */
            default:
                break;
            }
        }
}

/* ---- top-k ------------------------------------------------------------------------------ */

/* The ref kernel's insertion algorithm on typed data, with an early reject against the
 * current k-th value (the same comparisons, so the same order, ties and NaN placement). */
static void run_topk(const vgi_ck *k) {
    const float *x  = k->a;
    float       *ov = k->out;
    int64_t      K = k->K, A = k->A, inner = k->inner;
    for (int64_t p = 0; p < k->outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t have = 0;
#define SLOT(j) ((p * K + (j)) * inner + q)
            for (int64_t a = 0; a < A; a++) {
                float v = x[(p * A + a) * inner + q];
                if (have == K) {
                    float kth = ov[SLOT(K - 1)];
                    if (!(k->largest ? v > kth : v < kth))
                        continue;
                }
                int64_t pos = have;
                while (pos > 0) {
                    float pv = ov[SLOT(pos - 1)];
                    if (k->largest ? v > pv : v < pv)
                        pos--;
                    else
                        break;
                }
                if (pos >= K)
                    continue;
                int64_t end = have < K ? have : K - 1;
                for (int64_t j = end; j > pos; j--) {
                    ov[SLOT(j)] = ov[SLOT(j - 1)];
                    if (k->to == VG_DTYPE_I64)
                        ((int64_t *)k->out2)[SLOT(j)] = ((int64_t *)k->out2)[SLOT(j - 1)];
                    else
                        ((int32_t *)k->out2)[SLOT(j)] = ((int32_t *)k->out2)[SLOT(j - 1)];
                }
                ov[SLOT(pos)] = v;
                if (k->to == VG_DTYPE_I64)
                    ((int64_t *)k->out2)[SLOT(pos)] = a;
                else
                    ((int32_t *)k->out2)[SLOT(pos)] = (int32_t)a;
                if (have < K)
                    have++;
            }
#undef SLOT
        }
}

/* Bytes in one row of a CONCAT's output (one chunk of every source). */
static size_t concat_row(const vgi_ck *k) {
    size_t row = 0;
    for (int i = 0; i < k->nsrc; i++)
        row += k->chunk[i];
    return row;
}

/* Bytes [lo, hi) of a CONCAT's output: rows of (chunk 0 of source 0, chunk 1 of source 1,
 * ...), each piece copied with one memcpy (clipped at lo and hi). */
static void concat_range(const vgi_ck *k, size_t lo, size_t hi) {
    size_t row = concat_row(k);
    if (row == 0 || lo >= hi)
        return;
    int64_t r  = (int64_t)(lo / row);
    size_t  at = lo % row; /* offset in row r */
    int     i  = 0;
    while (at >= k->chunk[i]) /* the piece that holds byte lo */
        at -= k->chunk[i++];
    char *o = (char *)k->out + lo;
    for (size_t pos = lo; pos < hi;) {
        size_t n = k->chunk[i] - at < hi - pos ? k->chunk[i] - at : hi - pos;
        memcpy(o, (const char *)k->srcs[i] + (size_t)r * k->chunk[i] + at, n);
        o += n, pos += n, at += n;
        if (at == k->chunk[i]) { /* next piece, or the next row's first */
            at = 0;
            if (++i == k->nsrc)
                i = 0, r++;
        }
    }
}

/* libgomp (the runtime oneDNN runs on; see dnnl_ctx.c for why it is called directly). */
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int  omp_get_thread_num(void);
extern int  omp_get_num_threads(void);

static void concat_team(void *arg) {
    const vgi_ck *k     = arg;
    size_t        total = concat_row(k) * (size_t)k->outer;
    size_t        t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    concat_range(k, total * t / nt, total * (t + 1) / nt);
}

/* Large concats are split into equal byte ranges over the instance's threads: the copy is
 * bound by memory bandwidth, which one core does not use up. */
static void run_concat(const vgi_ck *k) {
    size_t total = concat_row(k) * (size_t)k->outer;
    if (k->threads > 1 && total >= ((size_t)256 << 10))
        GOMP_parallel(concat_team, (void *)k, (unsigned)k->threads, 0);
    else
        concat_range(k, 0, total);
}

void vgi_ck_run(const vgi_ck *k) {
    switch (k->kind) {
    case VGI_CK_CAST:
        run_cast(k);
        break;
    case VGI_CK_BINARY:
        run_binary(k);
        break;
    case VGI_CK_RESIZE:
        run_resize(k);
        break;
    case VGI_CK_CHANNEL:
        run_channel(k);
        break;
    case VGI_CK_TOPK:
        run_topk(k);
        break;
    case VGI_CK_CONCAT:
        run_concat(k);
        break;
    }
}
