// Building a CSR from an edge list: the one place where edges are
// symmetrised, self loops dropped and duplicates merged.
#ifndef RUDDER_CSR_H
#define RUDDER_CSR_H

#include <stdint.h>

#include "graph.h"

// Builds the symmetric CSR of the undirected graph whose edges are
// (src[i], dst[i]), i < m: both directions are stored, self loops dropped,
// duplicates merged, each neighbour list sorted ascending. Ids must lie in
// [0, n) (checked). On success *indptr (n+1) and *indices (*num_edges) are
// malloc'ed and owned by the caller.
int rd_csr_from_edges(int64_t n, const rd_node *src, const rd_node *dst, int64_t m,
                      int64_t **indptr, rd_node **indices, int64_t *num_edges);

#endif
