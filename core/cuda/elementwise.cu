// Activations, inverted dropout, scaling and the fused bias + activation +
// dropout pair: one thread per element with a grid stride. Each thread reads element i before writing it, so every op may
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
__global__ void dropout(const float *x, float *y, size_t n, uint64_t key, uint32_t threshold,
                        float scale) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads())
    y[i] = rd_mask_bits(key, (uint64_t)i) >= threshold ? x[i] * scale : 0.0f;
}

// The twins' act_of / act_grad (ops/elementwise.c).
__device__ inline float act_of(int act, float v) {
  return act == 1 ? (v > 0 ? v : 0.0f) : act == 2 ? (v > 0 ? v : expm1f(v)) : v;
}
__device__ inline float act_grad(int act, float v, float g) {
  return act == 1 ? (v > 0 ? g : 0.0f) : act == 2 ? (v > 0 ? g : g * expf(v)) : g;
}

// rd_bias_act_dropout's body per element (row i / d, column i % d); drop: p > 0.
__global__ void bias_act_dropout(float *__restrict__ x, const float *__restrict__ bias, int64_t n,
                                 int d, int act, float *__restrict__ y, int drop, uint64_t key,
                                 uint32_t threshold, float scale) {
  for (int64_t i = rd_thread_id(); i < n; i += rd_num_threads()) {
    const float v = x[i] + bias[i % d], a = act_of(act, v);
    x[i] = v;
    y[i] = !drop ? a : rd_mask_bits(key, (uint64_t)i) >= threshold ? a * scale : 0.0f;
  }
}

__global__ void act_dropout_backward(const float *x, const float *dy, int64_t n, int act, float *dx,
                                     int drop, uint64_t key, uint32_t threshold, float scale) {
  for (int64_t i = rd_thread_id(); i < n; i += rd_num_threads()) {
    float g = dy[i];
    if (drop) g = rd_mask_bits(key, (uint64_t)i) >= threshold ? g * scale : 0.0f;
    dx[i] = act_grad(act, x[i], g);
  }
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
  const uint32_t threshold = rd_mask_threshold((double)p);
  const uint64_t key = rd_mask_key(seed, stream_id);
  const float s = (float)(1.0 / (1.0 - (double)p));
  RD_LAUNCH(dropout, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, y, n, key, threshold, s);
  return 0;
}

int rd_cuda_bias_act_dropout(float *x, const float *bias, int n, int d, int act, float *y,
                             float p, uint64_t seed, uint64_t stream_id, cudaStream_t stream) {
  const int64_t total = (int64_t)n * d;
  if (total == 0) return 0;
  const int drop = p > 0;
  const uint32_t threshold = drop ? rd_mask_threshold((double)p) : 0;
  const uint64_t key = drop ? rd_mask_key(seed, stream_id) : 0;
  const float s = drop ? (float)(1.0 / (1.0 - (double)p)) : 1.0f;
  RD_LAUNCH(bias_act_dropout, rd_grid(total, RD_THREADS), RD_THREADS, stream, x, bias, total, d,
            act, y, drop, key, threshold, s);
  return 0;
}

int rd_cuda_act_dropout_backward(const float *x, const float *dy, int n, int d, int act, float p,
                                 uint64_t seed, uint64_t stream_id, float *dx, float *dbias,
                                 cudaStream_t stream) {
  const int64_t total = (int64_t)n * d;
  if (total > 0) {
    const int drop = p > 0;
    const uint32_t threshold = drop ? rd_mask_threshold((double)p) : 0;
    const uint64_t key = drop ? rd_mask_key(seed, stream_id) : 0;
    const float s = drop ? (float)(1.0 / (1.0 - (double)p)) : 1.0f;
    RD_LAUNCH(act_dropout_backward, rd_grid(total, RD_THREADS), RD_THREADS, stream, x, dy, total,
              act, dx, drop, key, threshold, s);
  }
  return dbias ? rd_cuda_colsum(dx, n, d, dbias, stream) : 0;
}

int rd_cuda_scale(float *x, size_t n, float s, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(scale, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, n, s);
  return 0;
}
