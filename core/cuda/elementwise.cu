// Activations, inverted dropout and scaling: one thread per element with a
// grid stride. Each thread reads element i before writing it, so every op may
// run in place (no __restrict__), as its twin in ops/elementwise.h may. Every
// result is one float operation (or a select) on each side, so all but ELU's
// exponentials match their twins bit for bit.
#include <math.h>

#include "common.cuh"
#include "hash.h"
#include "kernels.h"

__global__ void relu(const float *x, float *y, size_t n) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) y[i] = x[i] > 0 ? x[i] : 0.0f;
}

__global__ void relu_backward(const float *x, const float *dy, float *dx, size_t n) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) dx[i] = x[i] > 0 ? dy[i] : 0.0f;
}

__global__ void elu(const float *x, float *y, size_t n) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) {
    const float v = x[i];
    y[i] = v > 0 ? v : expm1f(v);
  }
}

__global__ void elu_backward(const float *x, const float *dy, float *dx, size_t n) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) {
    const float v = x[i], g = dy[i];
    dx[i] = v > 0 ? g : g * expf(v);
  }
}

// rd_dropout's loop body, with its key, threshold and scale from the host.
__global__ void dropout(const float *x, float *y, size_t n, uint64_t key, uint64_t threshold,
                        float scale) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads())
    y[i] = (rd_counter_hash(key, (uint64_t)i) >> 32) >= threshold ? x[i] * scale : 0.0f;
}

__global__ void scale(float *x, size_t n, float s) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) x[i] *= s;
}

int rd_cuda_relu(const float *x, float *y, size_t n, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(relu, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, y, n);
  return 0;
}

int rd_cuda_relu_backward(const float *x, const float *dy, float *dx, size_t n, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(relu_backward, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, dy, dx, n);
  return 0;
}

int rd_cuda_elu(const float *x, float *y, size_t n, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(elu, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, y, n);
  return 0;
}

int rd_cuda_elu_backward(const float *x, const float *dy, float *dx, size_t n, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(elu_backward, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, dy, dx, n);
  return 0;
}

int rd_cuda_dropout(const float *x, float *y, size_t n, float p, uint64_t seed, uint64_t stream_id,
                    cudaStream_t stream) {
  if (n == 0) return 0;
  if (p <= 0) {
    if (y != x) RD_CUDA(cudaMemcpyAsync(y, x, n * sizeof *y, cudaMemcpyDeviceToDevice, stream));
    return 0;
  }
  // Exactly rd_dropout's expressions (host code, the same double arithmetic).
  const uint64_t threshold = (uint64_t)((double)p * 4294967296.0);
  const uint64_t key = rd_hash64(seed ^ rd_hash64(stream_id));
  const float s = (float)(1.0 / (1.0 - (double)p));
  RD_LAUNCH(dropout, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, y, n, key, threshold, s);
  return 0;
}

int rd_cuda_scale(float *x, size_t n, float s, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(scale, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, n, s);
  return 0;
}
