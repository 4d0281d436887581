// Bias, its gradient (column sums), and the head mean that closes a GAT output
// layer, with its backward. Twins in ops/dense.h.
#include "common.cuh"
#include "kernels.h"

// y[i,c] += bias[c]: one thread per element, the same single add as the twin.
__global__ void bias_add(float *__restrict__ y, const float *__restrict__ bias, int n, int d) {
  for (int64_t q = rd_thread_id(); q < (int64_t)n * d; q += rd_num_threads()) y[q] += bias[q % d];
}

int rd_cuda_bias_add(float *y, const float *bias, int n, int d, cudaStream_t stream) {
  if ((int64_t)n * d <= 0) return 0;
  RD_LAUNCH(bias_add, rd_grid((int64_t)n * d, RD_THREADS), RD_THREADS, stream, y, bias, n, d);
  return 0;
}

// Column sums in two deterministic passes. Pass 1: block (t, k) sums rows
// [k·rows, (k+1)·rows) of columns 32t .. 32t+31; lane = column, so each warp
// reads 32 adjacent floats of a row (coalesced), and the block's 8 warps take
// every 8th row, then add their 8 partials in warp order. Pass 2: one thread
// per column adds the chunks' partials in chunk order. Both splits depend on
// (n, d) only, so results are identical run to run (no float atomics).
#define COLSUM_MIN_ROWS 256  // rows per chunk at least: 32 per thread
#define COLSUM_BLOCKS 1024   // aim for this many pass-1 blocks (fills a big GPU)

__global__ void colsum_partial(const float *__restrict__ x, int n, int d, int rows,
                               float *__restrict__ part) {
  __shared__ float acc[RD_WARPS][32];
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
  const int64_t c = (int64_t)blockIdx.x * 32 + lane;
  const int64_t lo = (int64_t)blockIdx.y * rows;
  const int64_t hi = lo + rows < n ? lo + rows : n;
  float sum = 0;
  if (c < d)
    for (int64_t i = lo + w; i < hi; i += RD_WARPS) sum += x[i * d + c];
  acc[w][lane] = sum;
  __syncthreads();
  if (w == 0 && c < d) {
    float t = acc[0][lane];
    for (int k = 1; k < RD_WARPS; k++) t += acc[k][lane];
    part[(int64_t)blockIdx.y * d + c] = t;
  }
}

__global__ void colsum_final(const float *__restrict__ part, int chunks, int d,
                             float *__restrict__ out) {
  for (int64_t c = rd_thread_id(); c < d; c += rd_num_threads()) {
    float t = part[c];
    for (int k = 1; k < chunks; k++) t += part[(int64_t)k * d + c];
    out[c] = t;
  }
}

int rd_cuda_colsum(const float *x, int n, int d, float *out, cudaStream_t stream) {
  if (d <= 0) return 0;
  if (n <= 0) {  // the twin writes zeros
    RD_CUDA(cudaMemsetAsync(out, 0, (size_t)d * sizeof *out, stream));
    return 0;
  }
  const int64_t tiles = ((int64_t)d + 31) / 32;
  const int64_t max_chunks = COLSUM_BLOCKS / tiles > 1 ? COLSUM_BLOCKS / tiles : 1;
  int64_t chunks = ((int64_t)n + COLSUM_MIN_ROWS - 1) / COLSUM_MIN_ROWS;
  if (chunks > max_chunks) chunks = max_chunks;
  const int rows = (int)(((int64_t)n + chunks - 1) / chunks);
  chunks = ((int64_t)n + rows - 1) / rows;  // no empty chunk
  const dim3 grid((unsigned)tiles, (unsigned)chunks);
  if (chunks == 1) {  // one chunk: its partials are the sums
    RD_LAUNCH(colsum_partial, grid, RD_THREADS, stream, x, n, d, rows, out);
    return 0;
  }
  float *part;
  RD_CUDA(cudaMallocAsync((void **)&part, (size_t)chunks * d * sizeof *part, stream));
  colsum_partial<<<grid, RD_THREADS, 0, stream>>>(x, n, d, rows, part);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) {
    colsum_final<<<rd_grid(d, RD_THREADS), RD_THREADS, 0, stream>>>(part, (int)chunks, d, out);
    e = cudaGetLastError();
  }
  const cudaError_t f = cudaFreeAsync(part, stream);  // freed even when a launch failed
  if (e != cudaSuccess) return rd_cuda_fail("launch of colsum", e, __FILE__, __LINE__);
  if (f != cudaSuccess) return rd_cuda_fail("cudaFreeAsync(part, stream)", f, __FILE__, __LINE__);
  return 0;
}

// y[i,c] = (Σ_h x[i,h,c]) · (1/heads), summed in head order and scaled once,
// as the twin: one thread per output element, adjacent threads adjacent c.
__global__ void head_mean(const float *__restrict__ x, int n, int heads, int d, float inv,
                          float *__restrict__ y) {
  for (int64_t q = rd_thread_id(); q < (int64_t)n * d; q += rd_num_threads()) {
    const int64_t i = q / d, c = q % d;
    const float *xi = x + i * heads * d + c;
    float s = 0;
    for (int h = 0; h < heads; h++) s += xi[(int64_t)h * d];
    y[q] = s * inv;
  }
}

// dx[i,h,c] = dy[i,c] · (1/heads): one thread per dx element. No __restrict__:
// with heads == 1 it may run in place (each thread rereads only its own element).
__global__ void head_mean_backward(const float *dy, int n, int heads, int d, float inv, float *dx) {
  const int64_t hd = (int64_t)heads * d;
  for (int64_t q = rd_thread_id(); q < (int64_t)n * hd; q += rd_num_threads())
    dx[q] = dy[q / hd * d + q % d] * inv;
}

int rd_cuda_head_mean(const float *x, int n, int heads, int d, float *y, cudaStream_t stream) {
  if ((int64_t)n * d <= 0) return 0;
  const float inv = 1.0f / (float)heads;  // the twin's (rd_real)1 / (rd_real)heads
  RD_LAUNCH(head_mean, rd_grid((int64_t)n * d, RD_THREADS), RD_THREADS, stream, x, n, heads, d, inv, y);
  return 0;
}

int rd_cuda_head_mean_backward(const float *dy, int n, int heads, int d, float *dx,
                               cudaStream_t stream) {
  if ((int64_t)n * heads * d <= 0) return 0;
  const float inv = 1.0f / (float)heads;
  RD_LAUNCH(head_mean_backward, rd_grid((int64_t)n * heads * d, RD_THREADS), RD_THREADS, stream, dy,
            n, heads, d, inv, dx);
  return 0;
}
