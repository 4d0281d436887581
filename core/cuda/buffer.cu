// The buffer's per-step bookkeeping on the device: slot-map lookup, the SCORE
// rule's restore / decay, and the stale count the policy sees. Integer
// results are exact; counts are summed with integer atomics, which do not
// depend on order.
#include <math.h>

#include "common.cuh"
#include "kernels.h"

__global__ void slot_lookup(const int32_t *__restrict__ slot_of, const int32_t *__restrict__ halo,
                            int64_t n, int32_t *__restrict__ slot, int64_t *hits) {
  int64_t mine = 0;
  for (int64_t i = rd_thread_id(); i < n; i += rd_num_threads()) {
    const int32_t h = halo[i], s = h >= 0 ? slot_of[h] : -1;
    slot[i] = s;
    mine += s >= 0;
  }
  rd_block_count(mine, hits);
}

int rd_cuda_slot_lookup(const int32_t *slot_of, const int32_t *halo, int64_t n, int32_t *slot,
                        int64_t *hits, cudaStream_t stream) {
  RD_CUDA(cudaMemsetAsync(hits, 0, sizeof *hits, stream));
  if (n == 0) return 0;
  RD_LAUNCH(slot_lookup, rd_grid(n, RD_THREADS), RD_THREADS, stream, slot_of, halo, n, slot, hits);
  return 0;
}

// Scores decay lazily: a slot stores the step of its last hit, a candidate
// its score as of miss_step, so a step touches only its own accesses.
__global__ void score_touch(const int32_t *__restrict__ halo, const int32_t *__restrict__ slot,
                            int64_t n, int64_t step, double log_keep, int64_t *last_hit,
                            int64_t *uses, float *miss_score, int64_t *miss_step) {
  for (int64_t i = rd_thread_id(); i < n; i += rd_num_threads()) {
    const int32_t h = halo[i], s = slot[i];
    if (s >= 0) {
      last_hit[s] = step;
      uses[s]++;
    } else if (h >= 0) {
      // In double, rounded to float once, as buffer.c does.
      miss_score[h] = (float)((double)miss_score[h] * exp(log_keep * (double)(step - miss_step[h])) + 1.0);
      miss_step[h] = step;
    }
  }
}

int rd_cuda_score_touch(const int32_t *halo, const int32_t *slot, int64_t n, int64_t step,
                        double log_keep, int64_t *last_hit, int64_t *uses, float *miss_score,
                        int64_t *miss_step, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(score_touch, rd_grid(n, RD_THREADS), RD_THREADS, stream, halo, slot, n, step, log_keep,
            last_hit, uses, miss_score, miss_step);
  return 0;
}

__global__ void stale_count(const int32_t *__restrict__ halo_of, const int64_t *__restrict__ last_hit,
                            int64_t capacity, int64_t step, int64_t delta, int64_t *stale) {
  int64_t mine = 0;
  for (int64_t s = rd_thread_id(); s < capacity; s += rd_num_threads())
    mine += halo_of[s] >= 0 && step - last_hit[s] > delta;
  rd_block_count(mine, stale);
}

int rd_cuda_stale_count(const int32_t *halo_of, const int64_t *last_hit, int64_t capacity,
                        int64_t step, int64_t delta, int64_t *stale, cudaStream_t stream) {
  RD_CUDA(cudaMemsetAsync(stale, 0, sizeof *stale, stream));
  if (capacity == 0) return 0;
  RD_LAUNCH(stale_count, rd_grid(capacity, RD_THREADS), RD_THREADS, stream, halo_of, last_hit,
            capacity, step, delta, stale);
  return 0;
}
