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
  // Twins of real datasets: the real graph's name and size. A twin generated
  // with fewer nodes keeps the real mean degree (rd_gen_scale), and its
  // scale (nodes / real nodes) goes into the file's provenance.
  const char *twin_of;  // NULL: not a twin
  int64_t real_nodes, real_edges;
} rd_gen_config;

// Fills `cfg` with a named preset ("tiny", "small", "products-sim", the
// twins "arxiv-sim", "reddit-sim", ...: rd_gen_preset_names()).
int rd_gen_preset(const char *name, rd_gen_config *cfg);
const char *rd_gen_preset_names(void);

// Sets the node count to `nodes` and the edge count to keep the mean degree
// of the config (of the real graph for a twin).
void rd_gen_scale(rd_gen_config *cfg, int64_t nodes);

// nodes / real nodes for a twin, 1 otherwise.
double rd_gen_scale_of(const rd_gen_config *cfg);

// Features as the generator makes them, for graphs that have none (SNAP):
// x_v = self * P[y_v] + neighbour * mean_{u ~ v} P[y_u] + noise * N(0, 1),
// with random class prototypes P; unlabelled nodes (y = -1) and neighbours
// contribute no prototype. Deterministic in the seed, whatever the threads.
void rd_gen_features(const rd_graph *g, const int32_t *labels, int32_t num_features,
                     int32_t num_classes, double self_signal, double neighbour_signal, double noise,
                     uint64_t seed, float *features);

// A seeded random split of the nodes with label >= 0 (all nodes when labels
// is NULL) at the given fractions, each part sorted ascending and malloc'ed.
int rd_gen_split(int64_t num_nodes, const int32_t *labels, double train_fraction,
                 double valid_fraction, uint64_t seed, rd_node *split[3], int64_t count[3]);

// Generates the graph in memory; `g` owns malloc'ed arrays, freed by
// rd_gen_free. Deterministic in cfg (byte-identical output for a seed,
// whatever the thread count).
int rd_generate(const rd_gen_config *cfg, rd_graph *g);
void rd_gen_free(rd_graph *g);

#endif
