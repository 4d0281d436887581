// Partition invariants on `tiny`: every node owned exactly once, owned rows
// carry the graph's features and labels, the halo equals a brute-force
// L-hop neighbourhood of the part's training nodes (and the 1-hop halo the
// remote endpoints of their edges); METIS cuts far fewer edges than random
// on `small` while keeping nodes and training nodes balanced.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "generate.h"
#include "partition.h"

// Brute force: mark = nodes within `hops` of the part's training nodes, by
// repeated relaxation over all edges (no frontier, no early exit).
static void brute_reach(const rd_graph *g, const int32_t *owner, int part, int hops, uint8_t *dist) {
  memset(dist, 0xff, (size_t)g->num_nodes);
  for (int64_t i = 0; i < g->num_train; i++)
    if (owner[g->train[i]] == part) dist[g->train[i]] = 0;
  for (int h = 1; h <= hops; h++)
    for (int64_t v = 0; v < g->num_nodes; v++)
      if (dist[v] == h - 1)
        for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
          if (dist[g->indices[e]] == 0xff) dist[g->indices[e]] = (uint8_t)h;
}

static void check_partition(const rd_graph *g, const char *dir, int parts, int hops) {
  int32_t *seen = calloc((size_t)g->num_nodes, sizeof *seen);
  uint8_t *dist = malloc((size_t)g->num_nodes);
  int64_t total_train = 0;
  for (int k = 0; k < parts; k++) {
    rd_part p;
    CHECK(rd_part_load(&p, dir, k, 1) == 0, "load part %d: %s", k, rd_error());
    CHECK(p.num_parts == parts && p.hops == hops && p.num_nodes == g->num_nodes, "header");
    const int F = g->num_features;
    for (int64_t i = 0; i < p.num_owned; i++) {
      rd_node v = p.owned[i];
      seen[v]++;
      CHECK(memcmp(p.features + i * F, g->features + (int64_t)v * F, (size_t)F * 4) == 0,
            "features of node %d", v);
      CHECK(p.labels[i] == g->labels[v], "label of node %d", v);
    }
    // Local train rows are exactly this part's share of the global train ids.
    int64_t m = 0;
    for (int64_t i = 0; i < g->num_train; i++)
      if (p.owner[g->train[i]] == k) {
        CHECK(m < p.num_train && p.owned[p.train[m]] == g->train[i], "train row %lld", (long long)m);
        m++;
      }
    CHECK(m == p.num_train, "train count");
    total_train += m;

    brute_reach(g, p.owner, k, hops, dist);
    int64_t expect = 0, expect1 = 0, got1 = 0;
    for (int64_t v = 0; v < g->num_nodes; v++)
      if (dist[v] != 0xff && p.owner[v] != k) {
        CHECK(expect < p.num_halo && p.halo[expect] == v && p.halo_hop[expect] == dist[v],
              "part %d halo entry %lld should be node %lld at hop %d", k, (long long)expect,
              (long long)v, dist[v]);
        CHECK(p.halo_degree[expect] == rd_degree(g, (rd_node)v), "halo degree");
        expect++;
      }
    CHECK(expect == p.num_halo, "halo size %lld, brute force %lld", (long long)p.num_halo,
          (long long)expect);
    // 1-hop halo = remote endpoints of training nodes' edges, straight from the CSR.
    memset(dist, 0, (size_t)g->num_nodes);
    for (int64_t i = 0; i < p.num_train; i++) {
      rd_node t = p.owned[p.train[i]];
      for (int64_t e = g->indptr[t]; e < g->indptr[t + 1]; e++)
        if (p.owner[g->indices[e]] != k) dist[g->indices[e]] = 1;
    }
    for (int64_t v = 0; v < g->num_nodes; v++) expect1 += dist[v];
    for (int64_t i = 0; i < p.num_halo; i++) {
      got1 += p.halo_hop[i] == 1;
      CHECK((p.halo_hop[i] == 1) == (dist[p.halo[i]] == 1), "1-hop membership of %d", p.halo[i]);
    }
    CHECK(got1 == expect1, "1-hop halo %lld, expected %lld", (long long)got1, (long long)expect1);
    rd_part_free(&p);
  }
  for (int64_t v = 0; v < g->num_nodes; v++) CHECK(seen[v] == 1, "node %lld owned %d times", (long long)v, seen[v]);
  CHECK(total_train == g->num_train, "every training node in exactly one part");
  free(seen);
  free(dist);
}

static double balance(const int32_t *owner, const rd_node *ids, int64_t n, int parts) {
  int64_t cnt[RD_MAX_PARTS] = {0}, max = 0;
  for (int64_t i = 0; i < n; i++) cnt[owner[ids ? ids[i] : i]]++;
  for (int k = 0; k < parts; k++) max = cnt[k] > max ? cnt[k] : max;
  return (double)max * parts / (double)n;
}

int main(void) {
  rd_gen_config cfg;
  rd_graph g;
  CHECK(rd_gen_preset("tiny", &cfg) == 0 && rd_generate(&cfg, &g) == 0, "tiny: %s", rd_error());
  rd_part_stats st;
  CHECK(rd_partition_write(&g, 4, RD_PART_METIS, 2, 1, "part_tiny_metis4", &st) == 0, "%s", rd_error());
  check_partition(&g, "part_tiny_metis4", 4, 2);
  CHECK(rd_partition_write(&g, 3, RD_PART_RANDOM, 3, 7, "part_tiny_random3", &st) == 0, "%s", rd_error());
  check_partition(&g, "part_tiny_random3", 3, 3);
  CHECK(rd_partition_write(&g, 1, RD_PART_METIS, 1, 1, "part_tiny_1", &st) == 0, "%s", rd_error());
  check_partition(&g, "part_tiny_1", 1, 1);

  rd_part p;
  CHECK(rd_part_load(&p, "part_tiny_metis4", 4, 1) != 0 && strstr(rd_error(), "4 parts"),
        "out-of-range part: %s", rd_error());
  CHECK(rd_part_load(&p, "no_such_dir", 0, 1) != 0 && strstr(rd_error(), "no_such_dir/map.rdp"),
        "missing dir: %s", rd_error());
  rd_gen_free(&g);

  CHECK(rd_gen_preset("small", &cfg) == 0 && rd_generate(&cfg, &g) == 0, "small: %s", rd_error());
  int32_t *metis = malloc((size_t)g.num_nodes * 4), *rnd = malloc((size_t)g.num_nodes * 4);
  CHECK(rd_partition_assign(&g, 4, RD_PART_METIS, 1, metis) == 0, "%s", rd_error());
  CHECK(rd_partition_assign(&g, 4, RD_PART_RANDOM, 1, rnd) == 0, "%s", rd_error());
  const int64_t cut_m = rd_partition_edge_cut(&g, metis), cut_r = rd_partition_edge_cut(&g, rnd);
  const double bal_n = balance(metis, NULL, g.num_nodes, 4), bal_t = balance(metis, g.train, g.num_train, 4);
  printf("small, 4 parts: METIS cut %lld, random cut %lld (%.2fx); METIS balance nodes %.3f train %.3f\n",
         (long long)cut_m, (long long)cut_r, (double)cut_r / (double)cut_m, bal_n, bal_t);
  CHECK(cut_m * 2 < cut_r, "METIS cut %lld should be well below random's %lld", (long long)cut_m,
        (long long)cut_r);
  CHECK(bal_n < 1.1 && bal_t < 1.1, "METIS balance nodes %.3f train %.3f", bal_n, bal_t);
  free(metis);
  free(rnd);
  rd_gen_free(&g);
  printf("partition: ok\n");
  return 0;
}
