// Importer for SNAP edge lists (com-orkut, com-friendster: "# comment" lines,
// then one whitespace-separated "u v" pair per line, plain or gzip). SNAP
// ships no features or labels: they are made from the graph, reproducibly,
// and the file's provenance says so.
#ifndef RUDDER_SNAP_H
#define RUDDER_SNAP_H

#include <stdint.h>

typedef struct rd_snap_config {
  int32_t num_features;   // width of the generated features
  int32_t num_classes;    // communities found by label propagation = classes
  int32_t rounds;         // label-propagation rounds after the seeded growth
  double train_fraction, valid_fraction;  // of the labelled nodes; the rest is test
  double noise;           // of the generated features (as rd_generate's)
  uint64_t seed;
} rd_snap_config;

void rd_snap_defaults(rd_snap_config *cfg);

// Reads the edge list at `path` and writes a graph file to `out_path`. Node
// ids are compacted in ascending order of the SNAP ids that occur; edges are
// symmetrised, self loops dropped, duplicates merged. Labels: `num_classes`
// seed nodes drawn at random label their reach by multi-source BFS, then
// `rounds` synchronous rounds move each node to its neighbours' majority
// label (ties: the smaller label); nodes out of reach stay unlabelled (-1).
// Features: rd_gen_features on those labels. Returns 0, or -1 with
// rd_error() naming the file and line at fault.
int rd_import_snap(const char *path, const rd_snap_config *cfg, const char *out_path);

#endif
