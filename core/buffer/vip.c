#include "buffer/vip.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"
#include "sampler/block.h"

int rd_vip(const rd_graph *g, const rd_node *seeds, int64_t num_seeds, double seed_prob,
           int num_layers, const int *fanouts, float *p) {
  if (num_layers < 1 || num_layers > RD_MAX_LAYERS)
    return rd_error_set("layers: %d out of range [1, %d] (the length of fanouts)", num_layers,
                        RD_MAX_LAYERS);
  for (int l = 0; l < num_layers; l++)
    if (fanouts[l] < -1) return rd_error_set("fanouts[%d]: %d (expected -1, 0 or positive)", l, fanouts[l]);
  if (!(seed_prob >= 0 && seed_prob <= 1))
    return rd_error_set("seed_prob: %g outside [0, 1]", seed_prob);
  if (num_seeds < 0) return rd_error_set("num_seeds: %lld is negative", (long long)num_seeds);
  const int64_t n = g->num_nodes;
  for (int64_t i = 0; i < num_seeds; i++)
    if (seeds[i] < 0 || seeds[i] >= n)
      return rd_error_set("seeds[%lld]: node %d out of range [0, %lld)", (long long)i, seeds[i],
                          (long long)n);
  // Both in log space so products of many (1 - x) neither underflow nor
  // lose the small x: ex[v] = log(1 - q(v)) (exclusion), miss[v] =
  // log(1 - q(v) r(v)) (v is absent or skips a given neighbour). miss is
  // per node, so the edge loop only adds: one log1p per node and layer.
  double *ex = malloc(((size_t)n + 1) * sizeof *ex), *miss = malloc(((size_t)n + 1) * sizeof *miss);
  if (!ex || !miss) {
    free(ex);
    free(miss);
    return rd_error_set("out of memory for inclusion probabilities of %lld nodes", (long long)n);
  }
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; v++) ex[v] = 0;
  const double seed_ex = log1p(-seed_prob);
  for (int64_t i = 0; i < num_seeds; i++) ex[seeds[i]] = seed_ex;
  for (int l = num_layers - 1; l >= 0; l--) {
    const int f = fanouts[l];
    if (f == 0) continue;  // no neighbour is sampled: the sources are the destinations
#pragma omp parallel for schedule(static)
    for (int64_t v = 0; v < n; v++) {
      const int64_t d = g->indptr[v + 1] - g->indptr[v];
      const double r = f < 0 || d <= f ? 1.0 : (double)f / (double)d;
      miss[v] = log1p(expm1(ex[v]) * r);  // expm1(ex) = -q
    }
    // Pull over the symmetric CSR: u's in-neighbours are its neighbours, so
    // each u sums its own row and writes only ex[u].
#pragma omp parallel for schedule(dynamic, 4096)
    for (int64_t u = 0; u < n; u++) {
      double s = ex[u];
      for (int64_t e = g->indptr[u]; e < g->indptr[u + 1]; e++) s += miss[g->indices[e]];
      ex[u] = s;
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; v++) p[v] = (float)-expm1(ex[v]);
  free(ex);
  free(miss);
  return 0;
}
