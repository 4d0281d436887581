#include "twins.h"

#include <math.h>
#include <string.h>

void rd_gather_rows(const rd_gather_src *src, int64_t n, int F, const float *local,
                    const float *buffer, const float *fetched, float *x) {
  const float *from[3] = {local, buffer, fetched};
  for (int64_t i = 0; i < n; i++)
    memcpy(x + i * F, from[src[i].from] + (int64_t)src[i].row * F, (size_t)F * sizeof *x);
}

void rd_fill_rows(const struct rd_fill *fill, int64_t n, int F, const float *fetched, float *buffer) {
  for (int64_t i = 0; i < n; i++)
    memcpy(buffer + (int64_t)fill[i].slot * F, fetched + (int64_t)fill[i].row * F, (size_t)F * sizeof *buffer);
}

int64_t rd_slot_lookup(const int32_t *slot_of, const int32_t *halo, int64_t n, int32_t *slot) {
  int64_t hits = 0;
  for (int64_t i = 0; i < n; i++) {
    slot[i] = halo[i] >= 0 ? slot_of[halo[i]] : -1;
    hits += slot[i] >= 0;
  }
  return hits;
}

void rd_score_touch(const int32_t *halo, const int32_t *slot, int64_t n, int64_t step,
                    double log_keep, int64_t *last_hit, int64_t *uses, float *miss_score,
                    int64_t *miss_step) {
  for (int64_t i = 0; i < n; i++) {
    const int32_t h = halo[i], s = slot[i];
    if (s >= 0) {
      last_hit[s] = step;
      uses[s]++;
    } else if (h >= 0) {
      // buffer.c's miss_score_now(h, step) + 1, rounded to float once.
      miss_score[h] = (float)((double)miss_score[h] * exp(log_keep * (double)(step - miss_step[h])) + 1.0);
      miss_step[h] = step;
    }
  }
}

void rd_block_transpose(const rd_block *b, int64_t *tindptr, int64_t *tedge, int32_t *tdst) {
  // Counting sort by source: visiting edges in id order keeps each source's
  // list ascending, so sums over it run in the CPU ops' order.
  memset(tindptr, 0, ((size_t)b->num_src + 1) * sizeof *tindptr);
  for (int64_t k = 0; k < b->num_edges; k++) tindptr[b->indices[k] + 1]++;
  for (int32_t u = 0; u < b->num_src; u++) tindptr[u + 1] += tindptr[u];
  for (int32_t v = 0; v < b->num_dst; v++)
    for (int64_t k = b->indptr[v]; k < b->indptr[v + 1]; k++) {
      const int64_t t = tindptr[b->indices[k]]++;  // cursor: ends at the next source's start
      tedge[t] = k;
      tdst[t] = v;
    }
  for (int32_t u = b->num_src; u > 0; u--) tindptr[u] = tindptr[u - 1];
  tindptr[0] = 0;
}
