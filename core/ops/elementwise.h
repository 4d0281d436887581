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
#endif

void rd_relu(const rd_real *x, rd_real *y, size_t n);
void rd_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
// ELU with alpha = 1 (GAT's hidden activation).
void rd_elu(const rd_real *x, rd_real *y, size_t n);
void rd_elu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
void rd_leaky_relu(const rd_real *x, rd_real *y, size_t n, rd_real slope);
void rd_leaky_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n,
                            rd_real slope);

// Inverted dropout: y[i] = x[i] / (1 - p) if element i is kept, else 0. Keep
// decisions come from rd_counter_hash(key(seed, stream), i), so a mask is a
// pure function of (seed, stream, i): identical for any thread count and in
// both precisions, and never stored. Dropout is diagonal-linear, so its
// backward is this same call applied to the gradient. p in [0, 1).
void rd_dropout(const rd_real *x, rd_real *y, size_t n, float p, uint64_t seed, uint64_t stream);

// x[i] *= s.
void rd_scale(rd_real *x, size_t n, rd_real s);

#endif
