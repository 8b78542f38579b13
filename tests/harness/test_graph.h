/*
 * test_graph.h - building small IR graphs in tests and computing their
 * reference results, for the backend op tests (tests/cpu, tests/gpu).
 *
 *     tg t;
 *     tg_init(&t);
 *     int x = tg_input(&t, "x", 4, dims);
 *     tg_output(&t, tg_node(&t, VGI_OP_RELU, "relu", &x, 1, NULL));
 *     tg_run r;
 *     tg_run_ref(&t, &r);      // random inputs, shapes, ref results in r.ref
 *     ... run the backend under test on r.dut, compare with r.ref ...
 *     tg_run_free(&r);
 *     tg_free(&t);
 *
 * Failures use the harness's VG_CHECK (they end the current case).
 */
#ifndef VG_TEST_GRAPH_H
#define VG_TEST_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/ir.h"
#include "vigil/tensor.h"

/* Deterministic pseudo-random numbers in [-1, 1) (seed per test program). */
void  tg_seed(unsigned seed);
float tg_frand(void);

vg_shape tg_shape(int nd, const int64_t *d);

typedef struct tg {
    vgi_graph *g;
    int        n_out;
} tg;

void tg_init(tg *t);
void tg_free(tg *t);
/* A float input. */
int tg_input(tg *t, const char *name, int nd, const int64_t *d);
/* A float constant of random values times scale. */
int tg_const(tg *t, const char *name, int nd, const int64_t *d, float scale);
/* A float scalar constant (shape []) holding exactly value. */
int tg_scalar(tg *t, const char *name, float value);
int tg_const_i32(tg *t, const char *name, int nd, const int64_t *d, const int32_t *vals);
/* A node with n_out outputs; returns the node id. */
int tg_node_n(tg *t, vgi_op op, const char *name, const int *in, int n_in, int n_out,
              const vgi_attrs *attr);
/* A node with one output; returns the output's value id. */
int  tg_node(tg *t, vgi_op op, const char *name, const int *in, int n_in, const vgi_attrs *attr);
void tg_output(tg *t, int v);
bool tg_is_output(const vgi_graph *g, int v);

/* Convolution attributes (square kernel, strides and dilations). */
vgi_attrs tg_conv_attr(vgi_layout l, vgi_pad_mode pm, int64_t k, int64_t s, int64_t dil,
                       int64_t groups, vgi_act_kind act, float a, float b);
/* A convolution of x (c channels) to oc channels with random weights (and bias). */
int tg_add_conv(tg *t, const char *name, int x, int64_t c, int64_t oc, const vgi_attrs *at,
                bool bias);

/* One reference run of a graph and the buffers for the backend under test. */
typedef struct tg_run {
    int        nv;
    vg_tensor *ref;  /* per value: shape and ref's data */
    vg_tensor *dut;  /* per value: the same, but values computed by nodes point to
                        buffers of their own, filled with 0xff bytes (NaN) */
    bool  *external; /* constants, inputs and graph outputs */
    void **bufs;     /* 2 per value, freed by tg_run_free */
} tg_run;

/* Random inputs, shape inference, buffers, then ref on every node. */
void tg_run_ref(tg *t, tg_run *r);
/* Fills the dut buffers of computed values with 0xff bytes again. */
void tg_run_poison(tg_run *r, const vgi_graph *g);
void tg_run_free(tg_run *r);

#endif /* VG_TEST_GRAPH_H */
