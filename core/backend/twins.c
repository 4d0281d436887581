#include "twins.h"

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
