// A random bipartite block for kernel and twin tests: degrees 0..max_deg
// (zero for about a fifth), sources drawn with repeats.
#ifndef RUDDER_TEST_RANDOM_BLOCK_H
#define RUDDER_TEST_RANDOM_BLOCK_H

#include <stdlib.h>

#include "rng.h"
#include "sampler/block.h"

static rd_block random_block(rd_rng *r, int32_t num_dst, int32_t num_src, int max_deg) {
  rd_block b = {.num_dst = num_dst, .num_src = num_src};
  b.indptr = malloc(((size_t)num_dst + 1) * sizeof *b.indptr);
  b.indptr[0] = 0;
  for (int32_t v = 0; v < num_dst; v++)
    b.indptr[v + 1] = b.indptr[v] + (rd_rng_below(r, 5) == 0 ? 0 : (int64_t)rd_rng_below(r, (uint64_t)max_deg + 1));
  b.num_edges = b.indptr[num_dst];
  b.indices = malloc(((size_t)b.num_edges + 1) * sizeof *b.indices);
  for (int64_t k = 0; k < b.num_edges; k++) b.indices[k] = (int32_t)rd_rng_below(r, (uint64_t)num_src);
  return b;
}

#endif
