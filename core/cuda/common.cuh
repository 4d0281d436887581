// Shared by the .cu files: error checking that reports through rd_error_set,
// launch geometry, and warp reductions.
#ifndef RUDDER_CUDA_COMMON_CUH
#define RUDDER_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "error.h"
}

static inline int rd_cuda_fail(const char *call, cudaError_t e, const char *file, int line) {
  return rd_error_set("%s:%d: %s failed: %s (%s)", file, line, call, cudaGetErrorString(e),
                      cudaGetErrorName(e));
}

// Checks a CUDA runtime call; on failure returns -1 from the caller.
#define RD_CUDA(call)                                                 \
  do {                                                                \
    const cudaError_t e_ = (call);                                    \
    if (e_ != cudaSuccess) return rd_cuda_fail(#call, e_, __FILE__, __LINE__); \
  } while (0)

#define RD_CUBLAS(call)                                                                   \
  do {                                                                                    \
    const cublasStatus_t s_ = (call);                                                     \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                                      \
      return rd_error_set("%s:%d: %s failed: %s", __FILE__, __LINE__, #call,              \
                          cublasGetStatusString(s_));                                     \
  } while (0)

// Launches and checks the launch itself (bad configuration, no kernel image
// for this GPU); faults while it runs surface at the next synchronising call.
#define RD_LAUNCH(kernel, grid, block, stream, ...)                                   \
  do {                                                                                \
    kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__);                            \
    const cudaError_t e_ = cudaGetLastError();                                        \
    if (e_ != cudaSuccess) return rd_cuda_fail("launch of " #kernel, e_, __FILE__, __LINE__); \
  } while (0)

#define RD_THREADS 256                 // threads per block everywhere
#define RD_WARPS (RD_THREADS / 32)     // warps per block

// Blocks for `items` work items of `per_block` each; kernels loop with a grid
// stride, so the cap only bounds the grid, never the work. items > 0.
static inline unsigned rd_grid(int64_t items, int per_block) {
  const int64_t g = (items + per_block - 1) / per_block;
  return (unsigned)(g < (1 << 20) ? g : (1 << 20));
}

// This thread's warp in the grid and the number of warps, for warp-per-row loops.
__device__ inline int64_t rd_warp_id() { return ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; }
__device__ inline int64_t rd_num_warps() { return (int64_t)gridDim.x * blockDim.x / 32; }
__device__ inline int64_t rd_thread_id() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ inline int64_t rd_num_threads() { return (int64_t)gridDim.x * blockDim.x; }

// Butterfly reductions: every lane ends with the warp's result.
template <typename T> __device__ inline T rd_warp_sum(T x) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ inline float rd_warp_max(float x) {
  for (int o = 16; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

#endif
