// One layer of a sampled mini-batch: a bipartite CSR from source nodes (this
// layer's inputs) to destination nodes (its outputs). As in DGL, the
// destination nodes are the first num_dst source nodes, so a layer can read a
// node's own previous representation at the same row index.
#ifndef RUDDER_BLOCK_H
#define RUDDER_BLOCK_H

#include <stdint.h>

#define RD_MAX_LAYERS 8

typedef struct rd_block {
  int32_t num_dst;
  int32_t num_src;    // >= num_dst
  int64_t num_edges;
  int64_t *indptr;    // [num_dst + 1]
  int32_t *indices;   // [num_edges], row positions in the source list, < num_src
} rd_block;

#endif
