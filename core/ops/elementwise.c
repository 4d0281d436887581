#include "elementwise.h"

#include <string.h>

// Below this many elements a parallel region costs more than the loop.
#define PAR_MIN 32768

void rd_relu(const rd_real *x, rd_real *y, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void rd_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

void rd_elu(const rd_real *x, rd_real *y, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : rd_expm1(x[i]);
}

void rd_elu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * rd_exp(x[i]);
}

void rd_leaky_relu(const rd_real *x, rd_real *y, size_t n, rd_real slope) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

void rd_leaky_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n,
                            rd_real slope) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

void rd_dropout(const rd_real *x, rd_real *y, size_t n, float p, uint64_t seed, uint64_t stream) {
  if (p <= 0) {
    if (y != x) memmove(y, x, n * sizeof *y);
    return;
  }
  // Integer threshold on the top 32 hash bits: no float rounding, so the float
  // and double builds drop exactly the same elements.
  uint64_t threshold = (uint64_t)((double)p * 4294967296.0);
  uint64_t key = rd_hash64(seed ^ rd_hash64(stream));
  rd_real scale = (rd_real)(1.0 / (1.0 - (double)p));
#pragma omp parallel for schedule(static) if (n >= PAR_MIN / 4)
  for (size_t i = 0; i < n; i++) y[i] = (rd_counter_hash(key, i) >> 32) >= threshold ? x[i] * scale : 0;
}

void rd_scale(rd_real *x, size_t n, rd_real s) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (size_t i = 0; i < n; i++) x[i] *= s;
}
