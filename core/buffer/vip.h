// Vertex inclusion probabilities (VIP), as in SALIENT++ (Kaler et al., MLSys
// 2023): for each node, the probability that one mini-batch of this rank
// needs its features, i.e. that it is among the input nodes (blocks[0]
// sources) that the sampler (sampler/sampler.h) produces. The `vip` baseline
// caches the halo nodes of highest probability.
//
// Recursion, from the seeds' layer towards the input: q_L(v) = seed_prob for
// the given seeds (0 otherwise); layer l (fanout f_l) makes every
// destination v keep each neighbour with probability
// r_l(v) = min(1, f_l / deg(v)) (1 for f_l = -1, 0 for f_l = 0), and every
// destination stays a source (DGL's prefix convention), so
//   q_l(u) = 1 - (1 - q_{l+1}(u)) * prod_{v in N(u)} (1 - q_{l+1}(v) r_l(v)),
// and p = q_0.
//
// Approximation: the product treats "u is already in" and "neighbour v is
// in and picks u" as independent events for every v. The sampler's picks
// are independent across destinations, so the recursion is exact when each
// node's inclusion events come from disjoint seeds (e.g. one layer over
// distinct seeds); where they share an ancestor it over-estimates. On a
// path 0-1-2, seed 0 with probability s, fanouts {1, 1}: node 1 is in
// exactly when 0 is (probability s) yet q_0(1) = 1 - (1 - s)^2, because 1's
// own inclusion and 0's "in and picks 1" are the same event counted twice.
// The error is second order in the probabilities (s^2 here), so rankings,
// which is what a cache needs, are preserved well; tests/test_vip.c bounds it
// against the real sampler.
#ifndef RUDDER_VIP_H
#define RUDDER_VIP_H

#include <stdint.h>

#include "graph/graph.h"

// p[v] = probability that node v is among the input nodes of one mini-batch
// of this rank, assuming each node in `seeds` is a seed independently with
// probability seed_prob. fanouts[l] is layer l's fanout, layer 0 the input
// side (as rd_sampler_create); -1 keeps all neighbours, 0 none. Needs the
// CSR to be symmetric (rd_graph's is). O(L * (N + E)) time, two N-sized
// double arrays of scratch, OpenMP-parallel. Returns 0, or -1 with
// rd_error() naming the bad argument.
int rd_vip(const rd_graph *g, const rd_node *seeds, int64_t num_seeds, double seed_prob,
           int num_layers, const int *fanouts, float *p);

#endif
