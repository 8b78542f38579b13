/*
 * wino.h - 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) on the
 * `cpu` backend's blocked layout (nChw8c), AVX2 + FMA. Internal.
 *
 * A 3x3 convolution computes each 2x2 block of outputs from a 4x4 block of inputs with 16
 * multiplications per channel pair instead of 36: the input tile d and the filter g are
 * transformed (V = B^T d B, U = G g G^T), multiplied element by element and summed over
 * the input channels (16 independent matrix products, one per tile element), and the
 * result is transformed back (Y = A^T M A). The transforms use only additions and halving,
 * so the result differs from direct summation by rounding only (a few float32 ulps of the
 * largest partial sums). HRNet and YOLOv7 spend most of their time in 3x3 stride-1
 * convolutions; direct kernels cannot do better than the machine's FMA peak on them.
 *
 * The kernel fuses what the backend fuses into a oneDNN convolution: bias, a chain of
 * elementwise activations and one residual addition, in any order.
 *
 * wino.c is compiled for AVX2 + FMA: call nothing here unless the CPU has both.
 */
#ifndef VG_WINO_H
#define VG_WINO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vgi_wino_op {
    VGI_WINO_RELU = 1,  /* x > 0 ? x : alpha x */
    VGI_WINO_CLIP,      /* min(max(x, alpha), beta) */
    VGI_WINO_LINEAR,    /* alpha x + beta */
    VGI_WINO_SIGMOID,   /* 1 / (1 + exp(-x)) */
    VGI_WINO_SWISH,     /* x sigmoid(alpha x); SiLU: alpha = 1 */
    VGI_WINO_HARDSWISH, /* x relu6(x + 3) / 6 */
    VGI_WINO_RESIDUAL,  /* x + res (same layout as the output) */
} vgi_wino_op;

#define VGI_WINO_MAX_POST 4

typedef struct vgi_wino_post {
    vgi_wino_op op;
    float       alpha, beta;
} vgi_wino_post;

typedef struct vgi_wino {
    /* shape: src [n, c, h, w], dst [n, o, oh, ow], both nChw8c; c and o multiples of 8 */
    int64_t       n, c, h, w, o, oh, ow, pad_t, pad_l;
    int           threads; /* of the instance's OpenMP team */
    bool          fly;     /* filters transformed while running (see vgi_wino_pack_fly) */
    int           npost;
    vgi_wino_post post[VGI_WINO_MAX_POST];
    /* set by vgi_wino_plan() */
    int64_t tiles_w, tiles_h, tiles; /* 2x2 output tiles per row, per column, in all */
    int64_t chunk;                   /* tiles per unit of work (a multiple of 6) */
    int64_t o16;                     /* o rounded up to 16 */
    bool    team;        /* all threads share each chunk (few tiles) instead of one thread each */
    size_t  chunk_bytes; /* V and M of one chunk */
    size_t  scratch_bytes;
    /* bound before running */
    const float *src, *res, *u, *bias; /* u: vgi_wino_pack()'s layout; res, bias may be NULL */
    float       *dst, *scratch;        /* scratch: scratch_bytes, 64-byte aligned */
} vgi_wino;

/* Fills the planned fields of k from its shape and thread count. */
void vgi_wino_plan(vgi_wino *k);

/* Floats of the transformed weights of an o x c x 3 x 3 filter. */
size_t vgi_wino_u_floats(int64_t o, int64_t c);

/* Transforms weights w (OIHW, o x c x 3 x 3) into u (vgi_wino_u_floats(o, c) floats). */
void vgi_wino_pack(const float *w, int64_t o, int64_t c, float *u);

/*
 * The filters for `fly` kernels: w regrouped as [o16 / 16][c][9][16] (as many floats as w,
 * vgi_wino_fly_floats(o, c)), transformed again for every chunk of tiles. Stored transformed
 * filters take 16/9 of the weights' memory, which pays off where each filter element serves
 * many tiles; on small feature maps (HRNet's 16 x 12 and 8 x 6 branches: 48 and 12 tiles)
 * they would add most of the model's size again for little compute, so those transform on
 * the fly, split by output channels over the team so that each filter is transformed once
 * per chunk.
 */
size_t vgi_wino_fly_floats(int64_t o, int64_t c);
void   vgi_wino_pack_fly(const float *w, int64_t o, int64_t c, float *g);

/* Runs the convolution on the calling thread's OpenMP team (k->threads threads). */
void vgi_wino_run(const vgi_wino *k);

#endif /* VG_WINO_H */
