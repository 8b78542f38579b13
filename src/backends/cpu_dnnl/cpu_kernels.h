/*
 * cpu_kernels.h - plain C kernels of the `cpu` backend for the small ops oneDNN does
 * not cover (casts, comparisons, squared difference, bilinear resize with the legacy
 * coordinate mappings). Internal.
 *
 * A kernel is described once at plan time by a vgi_ck (pointers bound, broadcast
 * strides and lookup tables precomputed) and run by vgi_ck_run() with no allocation.
 * All data is plain dense C order.
 */
#ifndef VG_CPU_KERNELS_H
#define VG_CPU_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/ir.h"
#include "vigil/tensor.h"

typedef enum vgi_ck_kind {
    VGI_CK_CAST = 1, /* out[i] = (to) a[i]; float -> int truncates toward zero */
    VGI_CK_BINARY,   /* out = a (op) b with broadcasting: comparisons, logical, squared
                        difference and float add/sub/mul/div/max/min */
    VGI_CK_RESIZE,   /* bilinear, any vgi_resize_coord; 4-D NHWC or NCHW */
    VGI_CK_CHANNEL,  /* out = a (op) b[n][c] on a 4-D (possibly channel-blocked) layout */
    VGI_CK_TOPK,     /* float a -> out (values, float) + out2 (indices, `to` = I32/I64) */
    VGI_CK_CONCAT,   /* out = outer x (srcs[0] chunk, srcs[1] chunk, ...): contiguous copies */
} vgi_ck_kind;

#define VGI_CK_MAX_SRC 16

typedef struct vgi_ck {
    vgi_ck_kind kind;
    vgi_op      op;
    const void *a, *b;
    void       *out;
    vg_dtype    ta, tb, to;
    int64_t     n; /* CAST: elements */
    /* BINARY: output dims (coalesced, rank <= VG_MAX_DIMS) and element strides of a and b */
    int     rank;
    int64_t dims[VG_MAX_DIMS], sa[VG_MAX_DIMS], sb[VG_MAX_DIMS];
    /* RESIZE: per output row/column: lower/upper source index and weight of upper */
    int64_t        N, C, H, W, OH, OW;
    bool           nhwc;
    const int64_t *y0, *y1, *x0, *x1;
    const float   *wy, *wx;
    /* CHANNEL: a and out share one layout: offset(n,c,h,w) = n*st[0] + (c/blk)*st[1] +
     * h*st[2] + w*st[3] + c%blk; b is [N or 1][C] (b_n = C or 0); padded lanes get 0;
     * swap: out = b (op) a */
    int64_t st[4], blk, b_n;
    bool    swap;
    /* TOPK: a viewed as [outer, A, inner], k of A along the middle axis; ties keep the
     * earlier index (the ref kernel's order) */
    void   *out2;
    int64_t outer, A, inner, K;
    bool    largest;
    /* CONCAT: for each of `outer` rows, chunk[i] bytes of srcs[i] (row r at r * chunk[i])
     * follow each other in out (rows of sum(chunk) bytes); uses `outer` */
    const void *srcs[VGI_CK_MAX_SRC];
    size_t      chunk[VGI_CK_MAX_SRC];
    int         nsrc;
    /* CONCAT: threads of the instance's OpenMP team that share a large copy (<= 1: one) */
    int threads;
} vgi_ck;

/* True when BINARY supports op on these dtypes (a, b same dtype). */
bool vgi_ck_binary_ok(vgi_op op, vg_dtype in, vg_dtype out);
/* True when CAST supports from -> to. */
bool vgi_ck_cast_ok(vg_dtype from, vg_dtype to);

/* Fills k's broadcast description for out = a (op) b; shapes per numpy broadcasting. */
void vgi_ck_binary_init(vgi_ck *k, const vg_shape *as, const vg_shape *bs, const vg_shape *os);

void vgi_ck_run(const vgi_ck *k);

#endif /* VG_CPU_KERNELS_H */
