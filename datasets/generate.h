// Synthetic graphs shaped like the real benchmarks: a degree-corrected
// community model (power-law expected degrees, most edges inside a node's
// community) so METIS finds cuts as on real graphs, labels tied to
// communities, and features that are noisy functions of a node's own label
// and of its neighbours' labels, so a GNN has something an MLP cannot see.
#ifndef RUDDER_GENERATE_H
#define RUDDER_GENERATE_H

#include <stdint.h>

#include "graph/graph.h"

typedef struct rd_gen_config {
  int64_t num_nodes;
  int64_t num_edges;        // undirected; the CSR holds twice as many entries
  int32_t num_features;
  int32_t num_classes;
  int32_t num_communities;
  double degree_exponent;   // power-law exponent of expected degrees (> 2)
  double intra;             // fraction of edges drawn inside the community
  double label_purity;      // P(label = the community's label)
  double self_signal;       // weight of the node's own label prototype
  double neighbour_signal;  // weight of the mean prototype of its neighbours' labels
  double noise;             // stddev of the per-feature Gaussian noise
  double train_fraction, valid_fraction;  // the rest is test
  uint64_t seed;
} rd_gen_config;

// Fills `cfg` with a named preset ("tiny", "small", "products-sim").
int rd_gen_preset(const char *name, rd_gen_config *cfg);
const char *rd_gen_preset_names(void);

// Generates the graph in memory; `g` owns malloc'ed arrays, freed by
// rd_gen_free. Deterministic in cfg (byte-identical output for a seed,
// whatever the thread count).
int rd_generate(const rd_gen_config *cfg, rd_graph *g);
void rd_gen_free(rd_graph *g);

#endif
