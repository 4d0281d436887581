// The GPU backend's kernels, callable from C. Every pointer argument is
// device memory unless said otherwise; work is queued on `stream`, so outputs
// are ready once the stream is synchronised. Each function returns 0, or -1
// with rd_error() naming the failed CUDA / cuBLAS call and the library's
// message (a fault inside a kernel surfaces at the caller's next synchronising
// call, checked the same way). Float32 throughout; each kernel's CPU twin is
// named beside it, and tests/test_cuda_kernels.c holds every pair to it.
#ifndef RUDDER_CUDA_KERNELS_H
#define RUDDER_CUDA_KERNELS_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/twins.h"

#ifdef __cplusplus
extern "C" {
#endif

// A block (sampler/block.h) on the device, with its transpose
// (rd_block_transpose) so that backward passes gather per source row: no
// atomics, and every sum runs in the CPU ops' edge order, so results are
// deterministic run to run (see sage.cu). Made by rd_cuda_block_upload.
typedef struct rd_cuda_block {
  int32_t num_dst, num_src;
  int64_t num_edges;
  const int64_t *indptr;   // [num_dst + 1]
  const int32_t *indices;  // [num_edges]
  const int64_t *tindptr;  // [num_src + 1]
  const int64_t *tedge;    // [num_edges]
  const int32_t *tdst;     // [num_edges]
  void *mem;               // the one allocation behind the arrays
  size_t cap;              // its size in bytes (rd_cuda_block_restage reuses it)
} rd_cuda_block;

// ---- Feature rows and the buffer (gather.cu) ------------------------------

// Twin rd_gather_rows: x[i,:] = the row src[i] names, one launch for all three
// sources. float4 loads when F % 4 == 0 and all four bases are 16-byte aligned.
int rd_cuda_gather_rows(const rd_gather_src *src, int64_t n, int F, const float *local,
                        const float *buffer, const float *fetched, float *x, cudaStream_t stream);
// Twin rd_fill_rows: buffer[fill[i].slot,:] = fetched[fill[i].row,:] (slots
// distinct). float4 loads when F % 4 == 0 and both bases are 16-byte aligned.
int rd_cuda_fill_rows(const struct rd_fill *fill, int64_t n, int F, const float *fetched,
                      float *buffer, cudaStream_t stream);

// ---- Elementwise and dense (elementwise.cu, dense.cu); twins in ops/elementwise.h, ops/dense.h

// Twins rd_relu, rd_relu_backward, rd_elu, rd_elu_backward; may run in place
// (y == x, dx == dy).
int rd_cuda_relu(const float *x, float *y, size_t n, cudaStream_t stream);
int rd_cuda_relu_backward(const float *x, const float *dy, float *dx, size_t n, cudaStream_t stream);
int rd_cuda_elu(const float *x, float *y, size_t n, cudaStream_t stream);
int rd_cuda_elu_backward(const float *x, const float *dy, float *dx, size_t n, cudaStream_t stream);
// Twin rd_dropout: the same mask as rd_dropout for the same (seed, stream_id),
// so identical output bits; may run in place. p <= 0 copies.
int rd_cuda_dropout(const float *x, float *y, size_t n, float p, uint64_t seed, uint64_t stream_id,
                    cudaStream_t stream);
// Twin rd_bias_act_dropout (act an rd_act: 0 none, 1 ReLU, 2 ELU): x += bias
// per row, y = dropout(act(x)) with rd_dropout's mask; y must not overlap x.
int rd_cuda_bias_act_dropout(float *x, const float *bias, int n, int d, int act, float *y,
                             float p, uint64_t seed, uint64_t stream_id, cudaStream_t stream);
// Twin rd_act_dropout_backward: dx = act'(x) · dropout(dy) (dx may be dy),
// then, with dbias non-NULL, dbias = rd_cuda_colsum(dx) (its order, not the
// CPU's).
int rd_cuda_act_dropout_backward(const float *x, const float *dy, int n, int d, int act, float p,
                                 uint64_t seed, uint64_t stream_id, float *dx, float *dbias,
                                 cudaStream_t stream);
// Twin rd_scale: x[i] *= s.
int rd_cuda_scale(float *x, size_t n, float s, cudaStream_t stream);
// Twin rd_bias_add: y[i,:] += bias for n rows of width d.
int rd_cuda_bias_add(float *y, const float *bias, int n, int d, cudaStream_t stream);
// Twin rd_colsum: out[:] = Σ_i x[i,:] (zeros when n == 0). Deterministic (a
// fixed split of the rows for given n, d; no float atomics), not the CPU's
// order; partial sums live in stream-ordered scratch (cudaMallocAsync).
int rd_cuda_colsum(const float *x, int n, int d, float *out, cudaStream_t stream);
// Twins rd_head_mean(_backward): x, dx are n × heads × d; y, dy n × d. The
// backward may run in place only when heads == 1, as its twin.
int rd_cuda_head_mean(const float *x, int n, int heads, int d, float *y, cudaStream_t stream);
int rd_cuda_head_mean_backward(const float *dy, int n, int heads, int d, float *dx,
                               cudaStream_t stream);

// ---- SAGE (sage.cu); twins in ops/aggregate.h -----------------------------

// Twin rd_segment_mean: y (num_dst × dim) = mean of x's rows over in-edges.
int rd_cuda_segment_mean(const rd_cuda_block *b, const float *x, int dim, float *y,
                         cudaStream_t stream);
// Twin rd_segment_mean_backward: dx (num_src × dim), overwritten.
int rd_cuda_segment_mean_backward(const rd_cuda_block *b, const float *dy, int dim, float *dx,
                                  cudaStream_t stream);

// ---- GAT (gat.cu) ----------------------------------------------------------
// rd_cuda_NAME's twin is rd_NAME of ops/aggregate.h (ops/elementwise.h for
// LeakyReLU), with the same semantics; per-edge arrays use its self-extended
// slot layout.

int rd_cuda_gat_attn_scores(const float *z, int n_src, int n_dst, int heads, int f,
                            const float *attn_l, const float *attn_r, float *el, float *er,
                            cudaStream_t stream);
// dz += the score paths; dattn_l, dattn_r overwritten (two strided-batched
// cuBLAS GEMVs on `blas`, which is set to `stream`).
int rd_cuda_gat_attn_scores_backward(cublasHandle_t blas, const float *z, int n_src, int n_dst,
                                     int heads, int f, const float *attn_l, const float *attn_r,
                                     const float *del, const float *der, float *dz,
                                     float *dattn_l, float *dattn_r, cudaStream_t stream);
int rd_cuda_gat_edge_logits(const rd_cuda_block *b, const float *el, const float *er, int heads,
                            float *s, cudaStream_t stream);
int rd_cuda_gat_edge_logits_backward(const rd_cuda_block *b, const float *ds, int heads,
                                     float *del, float *der, cudaStream_t stream);
// Twins rd_leaky_relu(_backward); may run in place.
int rd_cuda_leaky_relu(const float *x, float *y, size_t n, float slope, cudaStream_t stream);
int rd_cuda_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope,
                                cudaStream_t stream);
// Max-shifted per destination and head; both may run in place.
int rd_cuda_edge_softmax(const rd_cuda_block *b, const float *e, int heads, float *alpha,
                         cudaStream_t stream);
int rd_cuda_edge_softmax_backward(const rd_cuda_block *b, const float *alpha, const float *dalpha,
                                  int heads, float *de, cudaStream_t stream);
int rd_cuda_gat_aggregate(const rd_cuda_block *b, const float *alpha, const float *z, int heads,
                          int f, float *out, cudaStream_t stream);
// dalpha per slot and dz (num_src × heads × f, overwritten).
int rd_cuda_gat_aggregate_backward(const rd_cuda_block *b, const float *alpha, const float *z,
                                   const float *dout, int heads, int f, float *dalpha, float *dz,
                                   cudaStream_t stream);

// ---- Dense, loss, optimiser (gemm.cu, loss.cu, adam.cu) --------------------

// Twin rd_gemm (ops/real.h): row-major C = alpha·op(A)·op(B) + beta·C with
// op = transpose when ta / tb is nonzero; C is m × n, the inner dimension k.
// Runs on `blas` (set to `stream`) in its math mode: the default is FP32,
// which the tests assume (TF32 would miss their tolerance by design).
int rd_cuda_gemm(cublasHandle_t blas, int ta, int tb, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc,
                 cudaStream_t stream);
// Twin rd_softmax_xent (model/loss.h): *loss (one double) and *correct (one
// int64, may be NULL), dlogits (may be NULL). A label >= num_classes makes
// *loss NAN and writes nothing else: the caller checks the loss it reads back.
int rd_cuda_softmax_xent(const float *logits, const int32_t *labels, int n, int num_classes,
                         float *dlogits, double *loss, int64_t *correct, cudaStream_t stream);
// Twin rd_adam_step (optim/adam.h) for step number t (>= 1, counted by the
// caller), with the moments m, v on the device.
int rd_cuda_adam_step(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                      float beta1, float beta2, float eps, float weight_decay, int64_t t,
                      cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
