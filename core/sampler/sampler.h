// Layer-wise neighbour sampling without replacement, as DGL's
// NeighborSampler: from the seeds outwards, each destination keeps up to
// fanout[l] of its neighbours. Which neighbours a node keeps depends only on
// (seed, epoch, step, layer, node), never on the rank or the thread that
// samples it, so runs with different rank counts sample identical
// neighbourhoods for the same global mini-batch.
#ifndef RUDDER_SAMPLER_H
#define RUDDER_SAMPLER_H

#include <stdint.h>

#include "block.h"
#include "graph/graph.h"

// A sampled mini-batch. `nodes` lists global ids; the source rows of layer l
// are nodes[0 .. blocks[l].num_src), so every layer's destinations are a
// prefix (DGL convention) and blocks[0]'s sources are the input nodes whose
// features are gathered. The seeds are nodes[0 .. blocks[L-1].num_dst).
typedef struct rd_minibatch {
  int num_layers;
  rd_block blocks[RD_MAX_LAYERS];
  rd_node *nodes;
  int32_t num_nodes;  // = blocks[0].num_src
} rd_minibatch;

typedef struct rd_sampler rd_sampler;

// fanouts[l] is layer l's fanout, layer 0 being the input side (DGL's
// `--fan_out 10,25` order); a fanout of -1 keeps every neighbour.
rd_sampler *rd_sampler_create(const rd_graph *g, int num_layers, const int *fanouts, uint64_t seed);
void rd_sampler_free(rd_sampler *s);

// Samples the blocks of `seeds` (distinct global ids) for (epoch, step).
// The returned mini-batch is owned by the sampler and valid until the next call.
const rd_minibatch *rd_sample(rd_sampler *s, const rd_node *seeds, int32_t num_seeds,
                              uint64_t epoch, uint64_t step);

// Parses "10,25" into fanouts; returns the number of layers or -1.
int rd_parse_fanouts(const char *s, int *fanouts, int max_layers);

#endif
