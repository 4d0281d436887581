// The scalar of every model, op and optimizer buffer: float for training,
// double under -DRD_REAL_DOUBLE so the same sources can be gradient-checked
// by finite differences. The float64 build also renames every exported
// function to NAME_f64 (see each header), so both builds can link into one
// test binary.
#ifndef RUDDER_REAL_H
#define RUDDER_REAL_H

#include <cblas.h>
#include <math.h>

#ifdef RD_REAL_DOUBLE
typedef double rd_real;
#define RD_BLAS(f) cblas_d##f
#define RD_LIBM(fn) fn
#else
typedef float rd_real;
#define RD_BLAS(f) cblas_s##f
#define RD_LIBM(fn) fn##f
#endif

// Row-major C = alpha·op(A)·op(B) + beta·C.
static inline void rd_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
                           rd_real alpha, const rd_real *a, int lda, const rd_real *b, int ldb,
                           rd_real beta, rd_real *c, int ldc) {
  RD_BLAS(gemm)(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Hot loops compiled for AVX-512, AVX2 and the baseline, picked at load time
// (GCC's function multiversioning): one portable binary that uses the wide
// vectors of the machine it runs on. Floating-point contraction is off in
// the whole build (CMakeLists.txt), so every clone computes the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__CUDACC__)
#define RD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RD_CLONES
#endif

static inline rd_real rd_exp(rd_real x) { return RD_LIBM(exp)(x); }
static inline rd_real rd_expm1(rd_real x) { return RD_LIBM(expm1)(x); }
static inline rd_real rd_sqrt(rd_real x) { return RD_LIBM(sqrt)(x); }

#endif
