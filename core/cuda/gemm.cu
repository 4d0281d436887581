// Row-major GEMM on column-major cuBLAS.
#include "common.cuh"
#include "kernels.h"

// A row-major matrix read column-major is its transpose, and row-major
// C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: so cuBLAS gets the
// operands swapped, each with its own op, and m, n swapped.
int rd_cuda_gemm(cublasHandle_t blas, int ta, int tb, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc,
                 cudaStream_t stream) {
  if (m == 0 || n == 0) return 0;
  RD_CUBLAS(cublasSetStream(blas, stream));
  RD_CUBLAS(cublasSgemm(blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m,
                        k, &alpha, b, ldb, a, lda, &beta, c, ldc));
  return 0;
}
