// A graph as the trainers see it: a symmetric CSR over global node ids, node
// features (row-major float32), labels and the train/valid/test split, viewed
// in place over an mmapped rdfile (docs/FORMAT.md).
#ifndef RUDDER_GRAPH_H
#define RUDDER_GRAPH_H

#include <stdint.h>

#include "rdfile.h"

// Global node id. Column ids are 32-bit (graphs up to 2^31-1 nodes, which
// covers ogbn-papers100M); edge offsets are 64-bit.
typedef int32_t rd_node;

enum rd_graph_section {
  RD_G_INDPTR = 1,  // int64[num_nodes + 1]
  RD_G_INDICES,     // int32[num_edges], neighbours of each node sorted ascending
  RD_G_FEATURES,    // float32[num_nodes * num_features]
  RD_G_LABELS,      // int32[num_nodes], -1 = unlabelled
  RD_G_TRAIN,       // int32[num_train], ascending node ids
  RD_G_VALID,
  RD_G_TEST,
  RD_G_PROVENANCE,  // optional char[]: where the data came from, NUL-terminated
};

enum rd_graph_meta { RD_GM_NODES, RD_GM_EDGES, RD_GM_FEATURES, RD_GM_CLASSES, RD_GM_SEED };

// What rd_graph_load maps (and checks); the rest stays NULL.
enum {
  RD_LOAD_TOPOLOGY = 1,
  RD_LOAD_FEATURES = 2,
  RD_LOAD_LABELS = 4,
  RD_LOAD_SPLITS = 8,
  RD_LOAD_ALL = 15,
  RD_LOAD_NO_VERIFY = 16,  // skip checksums (trusted file, faster start)
};

typedef struct rd_graph {
  int64_t num_nodes;
  int64_t num_edges;  // CSR entries: each undirected edge counts twice
  int32_t num_features, num_classes;
  const int64_t *indptr;
  const rd_node *indices;
  const float *features;
  const int32_t *labels;
  const rd_node *train, *valid, *test;
  int64_t num_train, num_valid, num_test;
  uint64_t seed;  // generator seed, 0 for imported graphs
  // Optional (NULL when absent): one line per fact, "key: value", saying what
  // is real and what was made up (a twin's scale, generated labels). Read
  // whenever the file is loaded: it is a few hundred bytes.
  const char *provenance;
  rd_file file;   // backing mapping when loaded
} rd_graph;

int rd_graph_load(rd_graph *g, const char *path, unsigned what);
void rd_graph_free(rd_graph *g);

// Writes every array of `g` (all must be set) atomically to `path`.
int rd_graph_write(const rd_graph *g, const char *path);

// Structural checks (monotone indptr, ids in range, sorted splits); used by
// load and by writers. `what` says which arrays are present.
int rd_graph_validate(const rd_graph *g, const char *name, unsigned what);

static inline int64_t rd_degree(const rd_graph *g, rd_node v) {
  return g->indptr[v + 1] - g->indptr[v];
}

#endif
