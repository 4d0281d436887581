// Dense pieces of a layer: the three GEMM shapes of a linear map (forward,
// weight gradient, input gradient), bias, and the head mean that closes a GAT
// output layer. Matrices are contiguous row-major; row counts may be 0.
#ifndef RUDDER_OPS_DENSE_H
#define RUDDER_OPS_DENSE_H

#include "real.h"

#ifdef RD_REAL_DOUBLE
#define rd_matmul rd_matmul_f64
#define rd_matmul_tn rd_matmul_tn_f64
#define rd_matmul_nt rd_matmul_nt_f64
#define rd_bias_add rd_bias_add_f64
#define rd_colsum rd_colsum_f64
#define rd_head_mean rd_head_mean_f64
#define rd_head_mean_backward rd_head_mean_backward_f64
#endif

// C[m×n] = A[m×k]·B[k×n], or C += when accumulate (forward: x·W).
void rd_matmul(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n, int accumulate);
// C[m×n] = A[k×m]ᵀ·B[k×n], or C += (weight gradient: xᵀ·dy).
void rd_matmul_tn(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n,
                  int accumulate);
// C[m×n] = A[m×k]·B[n×k]ᵀ, or C += (input gradient: dy·Wᵀ).
void rd_matmul_nt(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n,
                  int accumulate);

// y[i,:] += bias for each of the n rows of width d.
void rd_bias_add(rd_real *y, const rd_real *bias, int n, int d);
// out[:] = Σ_i x[i,:] (the bias gradient).
void rd_colsum(const rd_real *x, int n, int d, rd_real *out);

// y[i,c] = mean_h x[i,h,c]: x is n × heads × d, y is n × d.
void rd_head_mean(const rd_real *x, int n, int heads, int d, rd_real *y);
void rd_head_mean_backward(const rd_real *dy, int n, int heads, int d, rd_real *dx);

#endif
