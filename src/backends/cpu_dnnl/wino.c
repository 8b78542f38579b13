/*
 * wino.c - F(2x2, 3x3) Winograd convolution on nChw8c, AVX2 + FMA (see wino.h).
 *
 * DESIGN
 * Transforms (alpha = 4 i + j indexes the 4x4 tile):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   V = B^T d B   (input tile d)
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]  U = G g G^T   (filter g)
 *   A^T = [1 1 1 0; 0 1 -1 -1]                       Y = A^T M A   (2x2 outputs)
 * with M[alpha][tile][oc] = sum_ic V[alpha][tile][ic] U[alpha][ic][oc]: 16 matrix
 * products of (tiles x c) by (c x o).
 *
 * Work is cut into chunks of `chunk` tiles. For one chunk: transform its input tiles into
 * V [16][chunk][c], multiply into M [16][chunk][o16] with a 6 x 16 register-blocked
 * kernel (U is laid out [16][o16 / 16][c][16] so each k step loads two vectors of U and
 * broadcasts six of V), transform M back and apply bias and the fused post-ops while
 * writing the output. Each thread owns whole chunks, taken from a shared counter, so a
 * thread that is descheduled (a busy neighbour on a shared machine) does not hold the
 * others at a barrier. When there are too few chunks to go round (small feature maps,
 * where U is large and the tiles few) the whole team works on one chunk at a time instead:
 * the GEMM is split by (alpha, output block), so each thread reads only its share of U.
 * `fly` kernels (wino.h) always work as a team: the GEMM is split by output block, and each
 * thread transforms its blocks' filters into its own U buffer [16][c][16] before using them.
 *
 * The file is compiled with -mavx2 -mfma: nothing in it may run on a CPU without them (the
 * backend checks; see wino.h).
 */
#include "backends/cpu_dnnl/wino.h"

#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

/* libgomp (the runtime oneDNN runs on; see dnnl_ctx.c for why it is called directly). */
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern void GOMP_barrier(void);
extern int  omp_get_thread_num(void);
extern int  omp_get_num_threads(void);

#define MR 6  /* tiles per GEMM register block */
#define NR 16 /* output channels per GEMM register block */

static int64_t round_up(int64_t x, int64_t m) {
    return (x + m - 1) / m * m;
}

void vgi_wino_plan(vgi_wino *k) {
    k->tiles_h = (k->oh + 1) / 2;
    k->tiles_w = (k->ow + 1) / 2;
    k->tiles   = k->n * k->tiles_h * k->tiles_w;
    k->o16     = round_up(k->o, NR);
    /* V and M of one chunk within 256 KB (half of a Zen 3 core's L2), 12 to 96 tiles: on
     * HRNet's and YOLOv7's shapes 256 KB ran 10-25% faster than 1 MB and than 192 KB */
    int64_t per_tile = 16 * (k->c + k->o16) * (int64_t)sizeof(float);
    int64_t chunk    = ((int64_t)1 << 18) / per_tile / MR * MR;
    chunk            = chunk < 2 * MR ? 2 * MR : chunk > 16 * MR ? 16 * MR : chunk;
    int     thr      = k->threads > 1 ? k->threads : 1;
    int64_t chunks   = (k->tiles + chunk - 1) / chunk;
    k->team          = k->fly || (thr > 1 && chunks < 2 * thr);
    if (k->fly) /* up to 8x the budget: every chunk transforms all filters again */
        chunk = k->tiles <= 8 * chunk ? round_up(k->tiles, MR) : 8 * chunk;
    else if (k->team) /* one chunk for all tiles when they fit in twice the budget */
        chunk = k->tiles <= 2 * chunk ? round_up(k->tiles, MR) : chunk;
    else if (k->tiles < chunk)
        chunk = round_up(k->tiles, MR);
    k->chunk       = chunk;
    k->chunk_bytes = (size_t)(16 * chunk * (k->c + k->o16)) * sizeof(float);
    size_t one = k->chunk_bytes, ubuf = (size_t)(16 * k->c * NR) * sizeof(float);
    k->scratch_bytes = k->fly ? one + ubuf * (size_t)thr : k->team ? one : one * (size_t)thr;
}

size_t vgi_wino_u_floats(int64_t o, int64_t c) {
    return (size_t)(16 * round_up(o, NR) * c);
}

void vgi_wino_pack(const float *w, int64_t o, int64_t c, float *u) {
    static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    int64_t             ob16    = round_up(o, NR) / NR;
    memset(u, 0, vgi_wino_u_floats(o, c) * sizeof(float));
    for (int64_t oc = 0; oc < o; oc++) {
        for (int64_t ic = 0; ic < c; ic++) {
            const float *g = w + (oc * c + ic) * 9;
            double       t[4][3]; /* G g */
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) { /* (G g) G^T */
                    double  v = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
                    int64_t a = 4 * i + j;
                    u[((a * ob16 + oc / NR) * c + ic) * NR + oc % NR] = (float)v;
                }
            }
        }
    }
}

size_t vgi_wino_fly_floats(int64_t o, int64_t c) {
    return (size_t)(9 * round_up(o, NR) * c);
}

void vgi_wino_pack_fly(const float *w, int64_t o, int64_t c, float *g) {
    memset(g, 0, vgi_wino_fly_floats(o, c) * sizeof(float));
    for (int64_t oc = 0; oc < o; oc++)
        for (int64_t ic = 0; ic < c; ic++)
            for (int q = 0; q < 9; q++)
                g[(((oc / NR) * c + ic) * 9 + q) * NR + oc % NR] = w[(oc * c + ic) * 9 + q];
}

/* U [16][c][16] of output block ob from the fly layout: G g G^T on 8 filters per vector. */
static void fly_transform(const vgi_wino *k, int64_t ob, float *u) {
    const __m256 half = _mm256_set1_ps(.5f);
    for (int64_t ic = 0; ic < k->c; ic++) {
        const float *g = k->u + ((ob * k->c + ic) * 9) * NR;
        for (int h = 0; h < 2; h++) { /* two vectors of 8 output channels */
            __m256 gg[9], t[4][3];
            for (int q = 0; q < 9; q++)
                gg[q] = _mm256_load_ps(g + q * NR + 8 * h);
            for (int j = 0; j < 3; j++) { /* G g */
                __m256 s = _mm256_add_ps(gg[j], gg[6 + j]);
                t[0][j]  = gg[j];
                t[1][j]  = _mm256_mul_ps(_mm256_add_ps(s, gg[3 + j]), half);
                t[2][j]  = _mm256_mul_ps(_mm256_sub_ps(s, gg[3 + j]), half);
                t[3][j]  = gg[6 + j];
            }
            float *o = u + ic * NR + 8 * h;
            for (int i = 0; i < 4; i++) { /* (G g) G^T */
                __m256 s = _mm256_add_ps(t[i][0], t[i][2]);
                _mm256_store_ps(o + (4 * i + 0) * k->c * NR, t[i][0]);
                _mm256_store_ps(o + (4 * i + 1) * k->c * NR,
                                _mm256_mul_ps(_mm256_add_ps(s, t[i][1]), half));
                _mm256_store_ps(o + (4 * i + 2) * k->c * NR,
                                _mm256_mul_ps(_mm256_sub_ps(s, t[i][1]), half));
                _mm256_store_ps(o + (4 * i + 3) * k->c * NR, t[i][2]);
            }
        }
    }
}

/* ---- vector math for the post-ops --------------------------------------------------------- */

/* exp(x) for float32: x = n ln2 + r with |r| <= ln2 / 2, a degree-6 polynomial for e^r
 * (relative error about 2e-7), scaled by 2^n through the exponent bits. */
static __m256 exp_ps(__m256 x) {
    x        = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r        = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p        = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p        = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p        = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p        = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p        = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p        = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static __m256 sigmoid_ps(__m256 x) {
    __m256 one = _mm256_set1_ps(1.f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static __m256 post_ops(const vgi_wino *k, __m256 x, const float *res) {
    for (int i = 0; i < k->npost; i++) {
        const vgi_wino_post *p = &k->post[i];
        __m256               a = _mm256_set1_ps(p->alpha);
        switch (p->op) {
        case VGI_WINO_RELU:
            if (p->alpha == 0.f)
                x = _mm256_max_ps(x, _mm256_setzero_ps());
            else
                x = _mm256_blendv_ps(_mm256_mul_ps(x, a), x,
                                     _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
            break;
        case VGI_WINO_CLIP:
            x = _mm256_min_ps(_mm256_max_ps(x, a), _mm256_set1_ps(p->beta));
            break;
        case VGI_WINO_LINEAR:
            x = _mm256_fmadd_ps(x, a, _mm256_set1_ps(p->beta));
            break;
        case VGI_WINO_SIGMOID:
            x = sigmoid_ps(x);
            break;
        case VGI_WINO_SWISH:
            x = _mm256_mul_ps(x, sigmoid_ps(_mm256_mul_ps(x, a)));
            break;
        case VGI_WINO_HARDSWISH: {
            __m256 r6 = _mm256_min_ps(
                _mm256_max_ps(_mm256_add_ps(x, _mm256_set1_ps(3.f)), _mm256_setzero_ps()),
                _mm256_set1_ps(6.f));
            x = _mm256_mul_ps(x, _mm256_mul_ps(r6, _mm256_set1_ps(1.f / 6.f)));
            break;
        }
        case VGI_WINO_RESIDUAL:
            x = _mm256_add_ps(x, _mm256_loadu_ps(res));
            break;
        }
    }
    return x;
}

/* ---- the three stages of one chunk -------------------------------------------------------- */

typedef struct chunk_ctx {
    const vgi_wino *k;
    int64_t         t0, nt, rows; /* first tile, tiles, rows of V/M (nt rounded up to MR) */
    float          *v, *m;        /* [16][rows][c], [16][rows][o16] */
} chunk_ctx;

static void tile_pos(const vgi_wino *k, int64_t t, int64_t *n, int64_t *th, int64_t *tw) {
    *tw = t % k->tiles_w;
    t /= k->tiles_w;
    *th = t % k->tiles_h;
    *n  = t / k->tiles_h;
}

/* V rows [r0, r1) of the chunk (rows past nt are zero), all channel blocks. */
static void input_rows(const chunk_ctx *x, int64_t r0, int64_t r1) {
    const vgi_wino *k  = x->k;
    int64_t         cb = k->c / 8, rs = x->rows * k->c;
    for (int64_t r = r0; r < r1; r++) {
        float *vr = x->v + r * k->c;
        if (r >= x->nt) {
            for (int a = 0; a < 16; a++)
                memset(vr + a * rs, 0, (size_t)k->c * sizeof(float));
            continue;
        }
        int64_t n, th, tw;
        tile_pos(k, x->t0 + r, &n, &th, &tw);
        int64_t ih0 = 2 * th - k->pad_t, iw0 = 2 * tw - k->pad_l;
        bool    inside = ih0 >= 0 && ih0 + 4 <= k->h && iw0 >= 0 && iw0 + 4 <= k->w;
        for (int64_t b = 0; b < cb; b++) {
            const float *s = k->src + ((n * cb + b) * k->h) * k->w * 8;
            __m256       d[4][4], t[4][4];
            for (int i = 0; i < 4; i++) {
                int64_t ih = ih0 + i;
                for (int j = 0; j < 4; j++) {
                    int64_t iw = iw0 + j;
                    if (inside || (ih >= 0 && ih < k->h && iw >= 0 && iw < k->w))
                        d[i][j] = _mm256_loadu_ps(s + (ih * k->w + iw) * 8);
                    else
                        d[i][j] = _mm256_setzero_ps();
                }
            }
            for (int j = 0; j < 4; j++) { /* B^T d */
                t[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
                t[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
                t[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
                t[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
            }
            float *o = vr + b * 8;
            for (int i = 0; i < 4; i++) { /* (B^T d) B */
                _mm256_storeu_ps(o + (4 * i + 0) * rs, _mm256_sub_ps(t[i][0], t[i][2]));
                _mm256_storeu_ps(o + (4 * i + 1) * rs, _mm256_add_ps(t[i][1], t[i][2]));
                _mm256_storeu_ps(o + (4 * i + 2) * rs, _mm256_sub_ps(t[i][2], t[i][1]));
                _mm256_storeu_ps(o + (4 * i + 3) * rs, _mm256_sub_ps(t[i][1], t[i][3]));
            }
        }
    }
}

/* C[6][16] = A[6][K] (rows lda apart) x B[K][16] (contiguous), C rows ldc apart. The 6 x 2
 * accumulators must live in 12 of the 16 ymm registers: the pragmas unroll the row loops so
 * that they can (gcc -O2 without them keeps the array in memory, 3x slower). */
static void kern_6x16(int64_t kk, const float *a, int64_t lda, const float *b, float *c,
                      int64_t ldc) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t q = 0; q < kk; q++) {
        __m256 b0 = _mm256_load_ps(b + q * NR), b1 = _mm256_load_ps(b + q * NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 s  = _mm256_broadcast_ss(a + r * lda + q);
            acc[r][0] = _mm256_fmadd_ps(s, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(s, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(c + r * ldc, acc[r][0]);
        _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
}

/* M[alpha][.][ob block] for the work units [u0, u1) of (alpha, 16-channel output block). */
static void gemm_units(const chunk_ctx *x, int64_t u0, int64_t u1) {
    const vgi_wino *k   = x->k;
    int64_t         obs = k->o16 / NR;
    for (int64_t un = u0; un < u1; un++) {
        int64_t      a = un / obs, ob = un % obs;
        const float *bp = k->u + (a * obs + ob) * k->c * NR;
        const float *ap = x->v + a * x->rows * k->c;
        float       *cp = x->m + a * x->rows * k->o16 + ob * NR;
        for (int64_t r = 0; r < x->rows; r += MR)
            kern_6x16(k->c, ap + r * k->c, k->c, bp, cp + r * k->o16, k->o16);
    }
}

/* M for output blocks [b0, b1), filters transformed into u first (fly kernels). */
static void gemm_fly(const chunk_ctx *x, int64_t b0, int64_t b1, float *u) {
    const vgi_wino *k = x->k;
    for (int64_t ob = b0; ob < b1; ob++) {
        fly_transform(k, ob, u);
        for (int a = 0; a < 16; a++) {
            const float *bp = u + a * k->c * NR;
            const float *ap = x->v + a * x->rows * k->c;
            float       *cp = x->m + a * x->rows * k->o16 + ob * NR;
            for (int64_t r = 0; r < x->rows; r += MR)
                kern_6x16(k->c, ap + r * k->c, k->c, bp, cp + r * k->o16, k->o16);
        }
    }
}

/* Output tiles [r0, r1) of the chunk (r1 <= nt): inverse transform, bias, post-ops. */
static void output_rows(const chunk_ctx *x, int64_t r0, int64_t r1) {
    const vgi_wino *k  = x->k;
    int64_t         ob = k->o / 8, ms = x->rows * k->o16;
    for (int64_t r = r0; r < r1; r++) {
        int64_t n, th, tw;
        tile_pos(k, x->t0 + r, &n, &th, &tw);
        int64_t oh0 = 2 * th, ow0 = 2 * tw;
        int     nh = oh0 + 1 < k->oh ? 2 : 1, nw = ow0 + 1 < k->ow ? 2 : 1;
        for (int64_t b = 0; b < ob; b++) {
            const float *mp = x->m + r * k->o16 + b * 8;
            __m256       s[2][4];
            for (int j = 0; j < 4; j++) { /* A^T M */
                __m256 m0 = _mm256_loadu_ps(mp + (0 + j) * ms);
                __m256 m1 = _mm256_loadu_ps(mp + (4 + j) * ms);
                __m256 m2 = _mm256_loadu_ps(mp + (8 + j) * ms);
                __m256 m3 = _mm256_loadu_ps(mp + (12 + j) * ms);
                s[0][j]   = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                s[1][j]   = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
            }
            __m256 bias = k->bias ? _mm256_loadu_ps(k->bias + b * 8) : _mm256_setzero_ps();
            size_t base = (size_t)(((n * ob + b) * k->oh + oh0) * k->ow + ow0) * 8;
            for (int i = 0; i < nh; i++) { /* (A^T M) A */
                __m256 y[2];
                y[0] = _mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), s[i][2]);
                y[1] = _mm256_sub_ps(_mm256_sub_ps(s[i][1], s[i][2]), s[i][3]);
                for (int j = 0; j < nw; j++) {
                    size_t at = base + (size_t)(i * k->ow + j) * 8;
                    __m256 v  = post_ops(k, _mm256_add_ps(y[j], bias), k->res ? k->res + at : NULL);
                    _mm256_storeu_ps(k->dst + at, v);
                }
            }
        }
    }
}

/* ---- scheduling --------------------------------------------------------------------------- */

typedef struct run_ctx {
    const vgi_wino *k;
    atomic_long     next; /* next chunk to take (one chunk per thread at a time) */
} run_ctx;

static void chunk_at(const vgi_wino *k, int64_t ci, float *scratch, chunk_ctx *x) {
    x->k    = k;
    x->t0   = ci * k->chunk;
    x->nt   = k->tiles - x->t0 < k->chunk ? k->tiles - x->t0 : k->chunk;
    x->rows = round_up(x->nt, MR);
    x->v    = scratch;
    x->m    = scratch + 16 * k->chunk * k->c;
}

static void split(int64_t n, int t, int nt, int64_t *b, int64_t *e) {
    *b = n * t / nt;
    *e = n * (t + 1) / nt;
}

static void run_team(void *arg) {
    run_ctx        *rc = arg;
    const vgi_wino *k  = rc->k;
    int             t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t         chunks = (k->tiles + k->chunk - 1) / k->chunk;
    if (!k->team) {
        float *mine = (float *)((char *)k->scratch + (size_t)t * k->chunk_bytes);
        for (int64_t ci; (ci = atomic_fetch_add(&rc->next, 1)) < chunks;) {
            chunk_ctx x;
            chunk_at(k, ci, mine, &x);
            input_rows(&x, 0, x.rows);
            gemm_units(&x, 0, 16 * (k->o16 / NR));
            output_rows(&x, 0, x.nt);
        }
        return;
    }
    for (int64_t ci = 0; ci < chunks; ci++) {
        chunk_ctx x;
        int64_t   b, e;
        chunk_at(k, ci, k->scratch, &x);
        split(x.rows, t, nt, &b, &e);
        input_rows(&x, b, e);
        GOMP_barrier();
        if (k->fly) {
            float *u = (float *)((char *)k->scratch + k->chunk_bytes) + (size_t)t * 16 * k->c * NR;
            split(k->o16 / NR, t, nt, &b, &e);
            gemm_fly(&x, b, e, u);
        } else {
            split(16 * (k->o16 / NR), t, nt, &b, &e);
            gemm_units(&x, b, e);
        }
        GOMP_barrier();
        split(x.nt, t, nt, &b, &e);
        output_rows(&x, b, e);
        if (ci + 1 < chunks)
            GOMP_barrier(); /* the next chunk overwrites V and M */
    }
}

void vgi_wino_run(const vgi_wino *k) {
    run_ctx rc = {.k = k};
    atomic_init(&rc.next, 0);
    if (k->threads > 1)
        GOMP_parallel(run_team, &rc, (unsigned)k->threads, 0);
    else
        run_team(&rc);
}
