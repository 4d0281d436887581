// Softmax cross-entropy over the seed rows: loss, accuracy count, dlogits.
#include <limits.h>
#include <math.h>

#include "common.cuh"
#include "kernels.h"

#define XENT_THREADS 1024

// Sum over the block, returned to every thread. The leading barrier lets a
// second call reuse part[] once every thread has read the first result.
template <typename T> __device__ T block_sum(T x) {
  __shared__ T part[XENT_THREADS / 32];
  x = rd_warp_sum(x);
  __syncthreads();
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = x;
  __syncthreads();
  T s = 0;
  for (int w = 0; w < XENT_THREADS / 32; w++) s += part[w];
  return s;
}

// One block for the whole batch (~10^3 seed rows × ~10^2 classes): the mean's
// reduction order is then fixed, so the loss is deterministic, with no second
// launch. A warp per row; exp / log in double as the twin does, so dlogits
// agree with it to float rounding. The launch bound caps registers at 64 per
// thread: without it sm_90 code takes 72, and 1024 threads × 72 exceed the
// 64K registers of a block, so every launch would fail (out of resources).
__global__ void __launch_bounds__(XENT_THREADS)
    softmax_xent(const float *__restrict__ logits, const int32_t *__restrict__ labels, int n, int C,
                 float *__restrict__ dlogits, double *loss, int64_t *correct) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int64_t counted = 0, bad = 0;
  for (int i = threadIdx.x; i < n; i += XENT_THREADS) {
    counted += labels[i] >= 0;
    bad += labels[i] >= C;
  }
  counted = block_sum(counted);
  bad = block_sum(bad);
  if (bad) {  // the same for every thread
    if (threadIdx.x == 0) *loss = NAN;
    return;
  }
  const double scale = counted ? 1.0 / (double)counted : 0;
  double my_loss = 0;
  int64_t my_hits = 0;
  for (int i = warp; i < n; i += XENT_THREADS / 32) {
    const float *row = logits + (int64_t)i * C;
    float *d = dlogits ? dlogits + (int64_t)i * C : NULL;
    const int y = labels[i];
    if (y < 0) {
      for (int c = lane; d && c < C; c += 32) d[c] = 0;
      continue;
    }
    // The first argmax: each lane's first max, then the larger value, ties to
    // the lower column (commutative, so every lane ends with the same one).
    float mx = -INFINITY;
    int best = INT_MAX;
    for (int c = lane; c < C; c += 32)
      if (best == INT_MAX || row[c] > mx) {
        mx = row[c];
        best = c;
      }
    for (int o = 16; o > 0; o /= 2) {
      const float om = __shfl_xor_sync(0xffffffffu, mx, o);
      const int ob = __shfl_xor_sync(0xffffffffu, best, o);
      if (ob != INT_MAX && (best == INT_MAX || om > mx || (om == mx && ob < best))) {
        mx = om;
        best = ob;
      }
    }
    double sum = 0;
    for (int c = lane; c < C; c += 32) sum += exp((double)row[c] - (double)mx);
    const double lse = (double)mx + log(rd_warp_sum(sum));
    if (lane == 0) {
      my_loss += lse - (double)row[y];
      my_hits += best == y;
    }
    for (int c = lane; d && c < C; c += 32) d[c] = (float)((exp((double)row[c] - lse) - (c == y)) * scale);
  }
  my_loss = block_sum(my_loss);
  my_hits = block_sum(my_hits);
  if (threadIdx.x == 0) {
    *loss = my_loss * scale;
    if (correct) *correct = my_hits;
  }
}

int rd_cuda_softmax_xent(const float *logits, const int32_t *labels, int n, int num_classes,
                         float *dlogits, double *loss, int64_t *correct, cudaStream_t stream) {
  RD_LAUNCH(softmax_xent, 1, XENT_THREADS, stream, logits, labels, n, num_classes, dlogits, loss,
            correct);
  return 0;
}
