// Neighbour sampling on `tiny`: blocks are well formed (destinations a
// prefix of sources, every sampled edge a real edge, min(degree, fanout)
// distinct neighbours each); deterministic in (seed, epoch, step); a node's
// sample does not depend on which other seeds share its mini-batch (so rank
// count does not change neighbourhoods); draws are close to uniform.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "generate.h"
#include "sampler/sampler.h"

static int has_edge(const rd_graph *g, rd_node u, rd_node v) {
  for (int64_t e = g->indptr[u]; e < g->indptr[u + 1]; e++)
    if (g->indices[e] == v) return 1;
  return 0;
}

static void check_blocks(const rd_graph *g, const rd_minibatch *mb, const int *fan,
                         const rd_node *seeds, int n) {
  int32_t *count = calloc((size_t)g->num_nodes, sizeof *count);
  for (int32_t i = 0; i < mb->num_nodes; i++) CHECK(count[mb->nodes[i]]++ == 0, "node listed twice");
  for (int i = 0; i < n; i++) CHECK(mb->nodes[i] == seeds[i], "seeds lead the node list");
  CHECK(mb->blocks[mb->num_layers - 1].num_dst == n, "last block outputs the seeds");
  for (int l = 0; l < mb->num_layers; l++) {
    const rd_block *b = &mb->blocks[l];
    CHECK(b->num_src >= b->num_dst && b->num_src <= mb->num_nodes, "sizes");
    if (l + 1 < mb->num_layers) CHECK(mb->blocks[l + 1].num_src == b->num_dst, "layer chaining");
    for (int32_t i = 0; i < b->num_dst; i++) {
      const rd_node v = mb->nodes[i];
      const int64_t d = rd_degree(g, v), k = b->indptr[i + 1] - b->indptr[i];
      CHECK(k == (fan[l] < 0 || d < fan[l] ? d : fan[l]), "node %d: %lld of degree %lld, fanout %d",
            v, (long long)k, (long long)d, fan[l]);
      for (int64_t e = b->indptr[i]; e < b->indptr[i + 1]; e++) {
        CHECK(b->indices[e] >= 0 && b->indices[e] < b->num_src, "edge source in range");
        CHECK(has_edge(g, v, mb->nodes[b->indices[e]]), "sampled edge must exist");
        CHECK(e == b->indptr[i] || b->indices[e] != b->indices[e - 1], "no repeated neighbour");
      }
    }
  }
  free(count);
}

// The global ids of node v's sampled neighbours at layer l.
static int neighbours(const rd_minibatch *mb, int l, rd_node v, rd_node *out) {
  const rd_block *b = &mb->blocks[l];
  for (int32_t i = 0; i < b->num_dst; i++)
    if (mb->nodes[i] == v) {
      int k = 0;
      for (int64_t e = b->indptr[i]; e < b->indptr[i + 1]; e++) out[k++] = mb->nodes[b->indices[e]];
      return k;
    }
  return -1;
}

int main(void) {
  rd_gen_config cfg;
  rd_graph g;
  CHECK(rd_gen_preset("tiny", &cfg) == 0 && rd_generate(&cfg, &g) == 0, "%s", rd_error());
  int fan[3];
  CHECK(rd_parse_fanouts("5,3", fan, 3) == 2 && fan[0] == 5 && fan[1] == 3, "parse");
  CHECK(rd_parse_fanouts("5,x", fan, 3) < 0 && strstr(rd_error(), "5,x"), "bad fanouts rejected");
  CHECK(rd_parse_fanouts("1,2,3,4", fan, 3) < 0, "too many layers rejected");
  CHECK(rd_parse_fanouts("4,-1,6", fan, 3) == 3 && fan[1] == -1, "-1 = all neighbours");

  rd_sampler *a = rd_sampler_create(&g, 3, fan, 7), *b = rd_sampler_create(&g, 3, fan, 7);
  rd_node seeds[64];
  for (int i = 0; i < 64; i++) seeds[i] = (rd_node)(i * 31);
  const rd_minibatch *m1 = rd_sample(a, seeds, 64, 0, 5);
  check_blocks(&g, m1, fan, seeds, 64);
  const rd_minibatch *m2 = rd_sample(b, seeds, 64, 0, 5);
  CHECK(m1->num_nodes == m2->num_nodes && memcmp(m1->nodes, m2->nodes, (size_t)m1->num_nodes * 4) == 0,
        "same (seed, epoch, step) -> same mini-batch");
  const int32_t n1 = m1->num_nodes;
  rd_node *copy = malloc((size_t)n1 * sizeof *copy);
  memcpy(copy, m1->nodes, (size_t)n1 * sizeof *copy);
  m2 = rd_sample(b, seeds, 64, 0, 6);
  CHECK(m2->num_nodes != n1 || memcmp(m2->nodes, copy, (size_t)n1 * 4) != 0, "another step differs");

  // Rank independence: sampling half the seeds alone gives each seed the
  // same neighbours as sampling all of them together.
  rd_node nb[64];
  m1 = rd_sample(a, seeds, 64, 1, 2);
  int ka[64];
  rd_node keep[64][8];
  for (int i = 0; i < 64; i++) ka[i] = neighbours(m1, 2, seeds[i], keep[i]);
  m2 = rd_sample(b, seeds + 32, 32, 1, 2);
  for (int i = 32; i < 64; i++) {
    int k = neighbours(m2, 2, seeds[i], nb);
    CHECK(k == ka[i] && memcmp(nb, keep[i], (size_t)k * 4) == 0, "seed %d's sample depends on its batch", seeds[i]);
  }

  // Uniformity: the highest-degree node, fanout 3, many steps: every
  // neighbour is drawn with frequency within 40% of 3/degree.
  rd_node hub = 0;
  for (rd_node v = 0; v < g.num_nodes; v++) if (rd_degree(&g, v) > rd_degree(&g, hub)) hub = v;
  const int64_t deg = rd_degree(&g, hub);
  int *hits = calloc((size_t)g.num_nodes, sizeof *hits);
  const int steps = 4000;
  rd_node out[8];
  for (int s = 0; s < steps; s++) {
    int k = neighbours(rd_sample(a, &hub, 1, 9, (uint64_t)s), 2, hub, out);
    CHECK(k == 6, "fanout of the last layer");
    for (int j = 0; j < k; j++) hits[out[j]]++;
  }
  const double expect = 6.0 * steps / (double)deg;
  for (int64_t e = g.indptr[hub]; e < g.indptr[hub + 1]; e++) {
    const double f = hits[g.indices[e]];
    CHECK(f > 0.6 * expect && f < 1.4 * expect, "neighbour %d drawn %g times, expected %.1f",
          g.indices[e], f, expect);
  }
  free(hits);
  free(copy);
  rd_sampler_free(a);
  rd_sampler_free(b);
  rd_gen_free(&g);
  return 0;
}
