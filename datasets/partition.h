// The partitioner: assigns every node an owner (METIS edge-cut, balanced on
// nodes and on training nodes, or a seeded random baseline), finds each
// part's halo by BFS, and writes the partition directory read by rd_part_load.
#ifndef RUDDER_PARTITION_H
#define RUDDER_PARTITION_H

#include <stdint.h>

#include "graph/part.h"

// Owner of every node (owner[num_nodes]).
int rd_partition_assign(const rd_graph *g, int parts, rd_part_method method, uint64_t seed,
                        int32_t *owner);

// The halo of `part`: remote nodes within `hops` hops of its training nodes,
// ascending, with their BFS distance. Arrays malloc'ed, owned by the caller.
int rd_partition_halo(const rd_graph *g, const int32_t *owner, int part, int hops,
                      rd_node **halo, uint8_t **hop, int64_t *num_halo);

// Undirected edges whose endpoints have different owners.
int64_t rd_partition_edge_cut(const rd_graph *g, const int32_t *owner);

#define RD_MAX_PARTS 256

typedef struct rd_part_stats {
  int64_t edge_cut;
  int64_t owned[RD_MAX_PARTS], train[RD_MAX_PARTS], halo_1hop[RD_MAX_PARTS], halo[RD_MAX_PARTS];
  double assign_seconds, total_seconds;
} rd_part_stats;

// Partitions `g` (loaded with RD_LOAD_ALL) into `dir` (created if needed).
int rd_partition_write(const rd_graph *g, int parts, rd_part_method method, int hops,
                       uint64_t seed, const char *dir, rd_part_stats *stats);

#endif
