// Elementwise ops: the activations between layers and inverted dropout. Every
// op may run in place (y == x, dx == dy). Backward ops take the FORWARD INPUT
// x, which the model keeps anyway (a layer's output before activation).
#ifndef RUDDER_OPS_ELEMENTWISE_H
#define RUDDER_OPS_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"  // rd_hash64, rd_counter_hash
#include "real.h"

#ifdef RD_REAL_DOUBLE
#define rd_relu rd_relu_f64
#define rd_relu_backward rd_relu_backward_f64
#define rd_elu rd_elu_f64
#define rd_elu_backward rd_elu_backward_f64
#define rd_leaky_relu rd_leaky_relu_f64
#define rd_leaky_relu_backward rd_leaky_relu_backward_f64
#define rd_dropout rd_dropout_f64
#define rd_scale rd_scale_f64
#define rd_bias_act_dropout rd_bias_act_dropout_f64
#define rd_act_dropout_backward rd_act_dropout_backward_f64
#endif

// The activation a fused op applies.
typedef enum { RD_ACT_NONE = 0, RD_ACT_RELU = 1, RD_ACT_ELU = 2 } rd_act;

void rd_relu(const rd_real *x, rd_real *y, size_t n);
void rd_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
// ELU with alpha = 1 (GAT's hidden activation).
void rd_elu(const rd_real *x, rd_real *y, size_t n);
void rd_elu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
void rd_leaky_relu(const rd_real *x, rd_real *y, size_t n, rd_real slope);
void rd_leaky_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n,
                            rd_real slope);

// Inverted dropout: y[i] = x[i] / (1 - p) if element i is kept, else 0.
// Element i is kept iff rd_mask_bits(rd_mask_key(seed, stream), i) >=
// rd_mask_threshold(p) (hash.h), so a mask is a pure function of (seed,
// stream, i): identical for any thread count, in both precisions and on the
// GPU, and never stored. Dropout is diagonal-linear, so its backward is this
// same call applied to the gradient. p in [0, 1).
void rd_dropout(const rd_real *x, rd_real *y, size_t n, float p, uint64_t seed, uint64_t stream);

// The elementwise work between two layers in one pass over n rows of width
// d: x[i,c] += bias[c] (kept: the pre-activation backward needs), then
// y[i,c] = dropout(act(x[i,c])), dropout as rd_dropout(seed, stream) on the
// flat index i·d + c (p = 0: none). y must not overlap x. Each value is the
// same float operations as rd_bias_add, rd_relu / rd_elu and rd_dropout in
// turn, so the fusion changes no bit.
void rd_bias_act_dropout(rd_real *x, const rd_real *bias, int n, int d, rd_act act, rd_real *y,
                         float p, uint64_t seed, uint64_t stream);
// Its backward in one pass: dx = act'(x) · dropout(dy), x the pre-activation
// rd_bias_act_dropout left; dx may be dy. With dbias non-NULL, also
// dbias[c] = Σ_i dx[i,c] summed in row order (rd_colsum's order: the same
// bits for any thread count).
void rd_act_dropout_backward(const rd_real *x, const rd_real *dy, int n, int d, rd_act act,
                             float p, uint64_t seed, uint64_t stream, rd_real *dx,
                             rd_real *dbias);

// x[i] *= s.
void rd_scale(rd_real *x, size_t n, rd_real s);

#endif
