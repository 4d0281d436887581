#include "dense.h"

#include <string.h>

// BLAS rejects a leading dimension of 0 even when the matrix is empty.
static int ld(int cols) { return cols > 0 ? cols : 1; }

void rd_matmul(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n, int accumulate) {
  if (m == 0 || n == 0) return;
  rd_gemm(CblasNoTrans, CblasNoTrans, m, n, k, 1, a, ld(k), b, ld(n), accumulate ? 1 : 0, c, n);
}

void rd_matmul_tn(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n,
                  int accumulate) {
  if (m == 0 || n == 0) return;
  rd_gemm(CblasTrans, CblasNoTrans, m, n, k, 1, a, ld(m), b, ld(n), accumulate ? 1 : 0, c, n);
}

void rd_matmul_nt(const rd_real *a, const rd_real *b, rd_real *c, int m, int k, int n,
                  int accumulate) {
  if (m == 0 || n == 0) return;
  rd_gemm(CblasNoTrans, CblasTrans, m, n, k, 1, a, ld(k), b, ld(k), accumulate ? 1 : 0, c, n);
}

void rd_bias_add(rd_real *y, const rd_real *bias, int n, int d) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    for (int c = 0; c < d; c++) y[(size_t)i * d + c] += bias[c];
}

void rd_colsum(const rd_real *x, int n, int d, rd_real *out) {
  memset(out, 0, (size_t)d * sizeof *out);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < d; c++) out[c] += x[(size_t)i * d + c];
}

void rd_head_mean(const rd_real *x, int n, int heads, int d, rd_real *y) {
  rd_real inv = (rd_real)1 / (rd_real)heads;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++) {
    const rd_real *xi = x + (size_t)i * heads * d;
    rd_real *yi = y + (size_t)i * d;
    for (int c = 0; c < d; c++) yi[c] = 0;
    for (int h = 0; h < heads; h++)
      for (int c = 0; c < d; c++) yi[c] += xi[h * d + c];
    for (int c = 0; c < d; c++) yi[c] *= inv;
  }
}

void rd_head_mean_backward(const rd_real *dy, int n, int heads, int d, rd_real *dx) {
  rd_real inv = (rd_real)1 / (rd_real)heads;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    for (int h = 0; h < heads; h++)
      for (int c = 0; c < d; c++)
        dx[((size_t)i * heads + h) * d + c] = dy[(size_t)i * d + c] * inv;
}
