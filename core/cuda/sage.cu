// SAGE mean aggregation over a block, and its backward.
//
// The backward gathers over the block's transpose (rd_block_transpose, built
// on the host beside the sampler) rather than scattering with atomicAdd: each
// source row is written once, by one warp, with no atomics and no memset, and
// its sum runs in the CPU twin's edge order. So gradients are deterministic
// run to run, as ops/aggregate.h guarantees on the CPU; float atomics would
// add in arrival order and change the last bits from run to run. The price:
// an O(edges) host pass and 12 more bytes per edge to upload.
#include "common.cuh"
#include "kernels.h"

// One warp per destination, lanes across columns: every source row read is coalesced.
__global__ void segment_mean(const int64_t *__restrict__ indptr, const int32_t *__restrict__ indices,
                             int num_dst, int dim, const float *__restrict__ x, float *__restrict__ y) {
  const int lane = threadIdx.x % 32;
  for (int64_t v = rd_warp_id(); v < num_dst; v += rd_num_warps()) {
    const int64_t lo = indptr[v], hi = indptr[v + 1];
    for (int c = lane; c < dim; c += 32) {
      float sum = 0;
      for (int64_t k = lo; k < hi; k++) sum += x[(int64_t)indices[k] * dim + c];
      y[v * dim + c] = hi > lo ? sum / (float)(hi - lo) : 0.0f;
    }
  }
}

int rd_cuda_segment_mean(const rd_cuda_block *b, const float *x, int dim, float *y,
                         cudaStream_t stream) {
  if (b->num_dst == 0 || dim == 0) return 0;
  RD_LAUNCH(segment_mean, rd_grid(b->num_dst, RD_WARPS), RD_THREADS, stream, b->indptr, b->indices,
            b->num_dst, dim, x, y);
  return 0;
}

// One warp per source row: dx[u,:] = Σ over u's out-edges (v) of dy[v,:] / deg(v).
__global__ void segment_mean_backward(const int64_t *__restrict__ indptr,
                                      const int64_t *__restrict__ tindptr,
                                      const int32_t *__restrict__ tdst, int num_src, int dim,
                                      const float *__restrict__ dy, float *__restrict__ dx) {
  const int lane = threadIdx.x % 32;
  for (int64_t u = rd_warp_id(); u < num_src; u += rd_num_warps()) {
    const int64_t lo = tindptr[u], hi = tindptr[u + 1];
    for (int c = lane; c < dim; c += 32) {
      float sum = 0;
      for (int64_t t = lo; t < hi; t++) {
        const int32_t v = tdst[t];
        sum += 1.0f / (float)(indptr[v + 1] - indptr[v]) * dy[(int64_t)v * dim + c];
      }
      dx[u * dim + c] = sum;
    }
  }
}

int rd_cuda_segment_mean_backward(const rd_cuda_block *b, const float *dy, int dim, float *dx,
                                  cudaStream_t stream) {
  if (b->num_src == 0 || dim == 0) return 0;
  RD_LAUNCH(segment_mean_backward, rd_grid(b->num_src, RD_WARPS), RD_THREADS, stream, b->indptr,
            b->tindptr, b->tdst, b->num_src, dim, dy, dx);
  return 0;
}
