// Sorting the step's remote accesses by node id (the order both the live
// buffer and the trace replay process them in): an LSD radix sort of
// (id << 32 | payload) keys on the id's two 16-bit digits, O(n).
#ifndef RUDDER_SORT_H
#define RUDDER_SORT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Sorts keys[0..n) by their high 32 bits (non-negative ids), stably; `tmp`
// has room for n keys.
static inline void rd_sort_by_hi32(uint64_t *keys, uint64_t *tmp, int64_t n) {
  int64_t *count = malloc(65537 * sizeof *count);
  if (!count) abort();
  for (int shift = 32; shift < 64; shift += 16) {
    memset(count, 0, 65537 * sizeof *count);
    for (int64_t i = 0; i < n; i++) count[((keys[i] >> shift) & 0xffff) + 1]++;
    for (int d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (int64_t i = 0; i < n; i++) tmp[count[(keys[i] >> shift) & 0xffff]++] = keys[i];
    memcpy(keys, tmp, (size_t)n * sizeof *keys);
  }
  free(count);
}

#endif
