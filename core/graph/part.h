// One trainer's share of a partitioned graph. The topology stays shared (every
// rank maps the one graph file); a partition directory holds who owns every
// node (map.rdp) and, per part, the owned feature rows and the halo
// (part<k>.rdp): the remote nodes within `hops` hops of the part's training
// nodes, the candidates for the persistent buffer. Layout: docs/FORMAT.md.
#ifndef RUDDER_PART_H
#define RUDDER_PART_H

#include <stdint.h>

#include "graph.h"

enum rd_partmap_section { RD_PM_OWNER = 1, RD_PM_LOCAL };
enum rd_partmap_meta { RD_PMM_NODES, RD_PMM_PARTS, RD_PMM_METHOD, RD_PMM_SEED, RD_PMM_EDGE_CUT };

enum rd_part_section {
  RD_P_OWNED = 1,    // int32[num_owned]: global ids, ascending (local row = position)
  RD_P_FEATURES,     // float32[num_owned * num_features]
  RD_P_LABELS,       // int32[num_owned]
  RD_P_TRAIN,        // int32[]: local rows, ascending
  RD_P_VALID,
  RD_P_TEST,
  RD_P_HALO,         // int32[num_halo]: global ids, ascending
  RD_P_HALO_OWNER,   // int32[num_halo]
  RD_P_HALO_DEGREE,  // int32[num_halo]
  RD_P_HALO_HOP,     // uint8[num_halo]: BFS distance from the nearest training node, 1..hops
};
enum rd_part_meta { RD_PTM_PART, RD_PTM_PARTS, RD_PTM_NODES, RD_PTM_FEATURES, RD_PTM_CLASSES, RD_PTM_HOPS };

typedef enum rd_part_method { RD_PART_METIS = 1, RD_PART_RANDOM = 2 } rd_part_method;

typedef struct rd_part {
  int32_t part, num_parts, hops, num_features, num_classes;
  rd_part_method method;
  int64_t num_nodes;     // of the whole graph
  const int32_t *owner;  // [num_nodes] part owning each node
  const int32_t *local;  // [num_nodes] row of each node in its owner's arrays
  int64_t num_owned;
  const rd_node *owned;
  const float *features;
  const int32_t *labels;
  const int32_t *train, *valid, *test;  // local rows
  int64_t num_train, num_valid, num_test;
  int64_t num_halo;
  const rd_node *halo;
  const int32_t *halo_owner, *halo_degree;
  const uint8_t *halo_hop;
  rd_file map_file, part_file;
} rd_part;

// Loads part `part` of the partition in `dir`; `verify` checks checksums.
int rd_part_load(rd_part *p, const char *dir, int part, int verify);
void rd_part_free(rd_part *p);

const char *rd_part_method_name(rd_part_method m);
int rd_part_method_parse(const char *s, rd_part_method *m);

#endif
