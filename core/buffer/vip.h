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
// in and picks u" as independent for every v. The sampler's picks are
// independent across destinations, so this is exact when those events come
// from disjoint seeds (e.g. one layer over distinct seeds). Where they share
// a cause it over-counts: inclusion grows with the same seed draws, so the
// events are positively correlated and the independent product of their
// complements is too small. Backtracking is the worst case: on a path 0-1-2,
// seed 0 with probability s, fanouts {1, 1}, node 1 is in exactly when 0 is
// (probability s) yet q_0(1) = 1 - (1 - s)^2, about 2s. So p over-estimates,
// most for seeds and their near neighbours (a seed is counted again for each
// sampled neighbour that can pick it back). On `tiny` (s = 0.1, fanouts
// {3, 5}) the mean error against the real sampler is 0.03, the worst 0.21 (a
// seed), and the top 10% by p and by measured frequency share about 90% of
// their nodes; the ranking is what the cache uses. tests/test_vip.c checks
// all three with margins. Cost: about 0.3 s per layer on 2 cores for 2.4M
// nodes and 124M CSR entries (products-sim).
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
