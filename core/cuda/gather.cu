// The mini-batch feature matrix from its three sources in one launch, and the
// step's fetched rows stored into their buffer slots.
#include "common.cuh"
#include "kernels.h"

// One warp per mini-batch row: a row is one contiguous run of F floats in one
// source, so each warp's loads and stores are coalesced whatever order the
// sources come in, and lanes never diverge on the source. T = float4 moves
// 16 bytes per lane (width = F / 4); T = float serves other widths and bases.
template <typename T>
__global__ void gather_rows(const rd_gather_src *__restrict__ src, int64_t n, int width,
                            const T *__restrict__ local, const T *__restrict__ buffer,
                            const T *__restrict__ fetched, T *__restrict__ x) {
  const int lane = threadIdx.x % 32;
  for (int64_t i = rd_warp_id(); i < n; i += rd_num_warps()) {
    const rd_gather_src s = src[i];  // one broadcast load for the warp
    const T *from = s.from == RD_FROM_LOCAL ? local : s.from == RD_FROM_BUFFER ? buffer : fetched;
    from += (int64_t)s.row * width;
    T *to = x + i * width;
    for (int c = lane; c < width; c += 32) to[c] = from[c];
  }
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

int rd_cuda_gather_rows(const rd_gather_src *src, int64_t n, int F, const float *local,
                        const float *buffer, const float *fetched, float *x, cudaStream_t stream) {
  if (n == 0 || F == 0) return 0;
  const unsigned grid = rd_grid(n, RD_WARPS);
  if (F % 4 == 0 && aligned16(local) && aligned16(buffer) && aligned16(fetched) && aligned16(x))
    RD_LAUNCH(gather_rows<float4>, grid, RD_THREADS, stream, src, n, F / 4, (const float4 *)local,
              (const float4 *)buffer, (const float4 *)fetched, (float4 *)x);
  else
    RD_LAUNCH(gather_rows<float>, grid, RD_THREADS, stream, src, n, F, local, buffer, fetched, x);
  return 0;
}

// The C layout of buffer.h's struct rd_fill, which the kernel reads through
// twins.h's C++ mirror of it.
static_assert(sizeof(rd_fill) == sizeof(rd_buffer_plan::rd_fill) &&
                  offsetof(rd_fill, slot) == offsetof(rd_buffer_plan::rd_fill, slot) &&
                  offsetof(rd_fill, row) == offsetof(rd_buffer_plan::rd_fill, row),
              "twins.h's struct rd_fill matches buffer.h's");

// One warp per fill, as gather_rows: fetched row f.row into buffer slot f.slot.
// Slots of one call are distinct, so no two warps write the same row.
template <typename T>
__global__ void fill_rows(const rd_fill *__restrict__ fill, int64_t n, int width,
                          const T *__restrict__ fetched, T *__restrict__ buffer) {
  const int lane = threadIdx.x % 32;
  for (int64_t i = rd_warp_id(); i < n; i += rd_num_warps()) {
    const rd_fill f = fill[i];  // one broadcast load for the warp
    const T *from = fetched + (int64_t)f.row * width;
    T *to = buffer + (int64_t)f.slot * width;
    for (int c = lane; c < width; c += 32) to[c] = from[c];
  }
}

int rd_cuda_fill_rows(const struct rd_fill *fill, int64_t n, int F, const float *fetched,
                      float *buffer, cudaStream_t stream) {
  if (n == 0 || F == 0) return 0;
  const unsigned grid = rd_grid(n, RD_WARPS);
  if (F % 4 == 0 && aligned16(fetched) && aligned16(buffer))
    RD_LAUNCH(fill_rows<float4>, grid, RD_THREADS, stream, fill, n, F / 4, (const float4 *)fetched,
              (float4 *)buffer);
  else
    RD_LAUNCH(fill_rows<float>, grid, RD_THREADS, stream, fill, n, F, fetched, buffer);
  return 0;
}
