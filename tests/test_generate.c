// The generator: same seed -> byte-identical file (whatever the thread
// count), another seed -> another graph; the degree distribution is heavy
// tailed; the requested edge count is met exactly; features carry both the
// node's label and its neighbours' labels.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "generate.h"

static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  CHECK(f, "open %s", path);
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)*n);
  CHECK(fread(buf, 1, (size_t)*n, f) == (size_t)*n, "read %s", path);
  fclose(f);
  return buf;
}

static void generate(const rd_gen_config *cfg, const char *path) {
  rd_graph g;
  CHECK(rd_generate(cfg, &g) == 0, "generate: %s", rd_error());
  CHECK(rd_graph_write(&g, path) == 0, "write: %s", rd_error());
  rd_gen_free(&g);
}

static int cmp_i64_desc(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x < y) - (x > y);
}

// Nearest-prototype accuracy of a node's own features vs of the mean of its
// neighbours' features, against the node's label, using class means from
// the training nodes. Both must beat chance clearly, showing each signal.
static void check_signal(const rd_graph *g) {
  const int F = g->num_features, C = g->num_classes;
  double *mean = calloc((size_t)C * F, sizeof *mean);
  int64_t *cnt = calloc((size_t)C, sizeof *cnt);
  for (int64_t i = 0; i < g->num_train; i++) {
    rd_node v = g->train[i];
    cnt[g->labels[v]]++;
    for (int f = 0; f < F; f++) mean[g->labels[v] * F + f] += g->features[(int64_t)v * F + f];
  }
  for (int c = 0; c < C; c++)
    for (int f = 0; f < F; f++) mean[c * F + f] /= cnt[c] ? (double)cnt[c] : 1.0;
  int64_t own_ok = 0, nbr_ok = 0;
  double *nb = malloc((size_t)F * sizeof *nb);
  for (int64_t i = 0; i < g->num_test; i++) {
    rd_node v = g->test[i];
    memset(nb, 0, (size_t)F * sizeof *nb);
    for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
      for (int f = 0; f < F; f++) nb[f] += g->features[(int64_t)g->indices[e] * F + f];
    int best_own = 0, best_nb = 0;
    double d_own = 1e300, d_nb = 1e300;
    for (int c = 0; c < C; c++) {
      double a = 0, b = 0, deg = (double)rd_degree(g, v);
      for (int f = 0; f < F; f++) {
        double x = g->features[(int64_t)v * F + f] - mean[c * F + f];
        double y = (deg > 0 ? nb[f] / deg : 0) - mean[c * F + f];
        a += x * x;
        b += y * y;
      }
      if (a < d_own) d_own = a, best_own = c;
      if (b < d_nb) d_nb = b, best_nb = c;
    }
    own_ok += best_own == g->labels[v];
    nbr_ok += best_nb == g->labels[v];
  }
  const double own = (double)own_ok / (double)g->num_test, nbr = (double)nbr_ok / (double)g->num_test;
  printf("nearest-class-mean accuracy: own features %.3f, neighbours' mean %.3f, chance %.3f\n", own,
         nbr, 1.0 / C);
  CHECK(own > 2.0 / C && nbr > 2.0 / C, "features must carry own (%.3f) and neighbour (%.3f) "
        "label signal", own, nbr);
  free(mean); free(cnt); free(nb);
}

int main(void) {
  rd_gen_config cfg;
  CHECK(rd_gen_preset("tiny", &cfg) == 0, "preset");
  CHECK(rd_gen_preset("huge", &cfg) != 0 && strstr(rd_error(), "huge"), "unknown preset named");
  CHECK(rd_gen_preset("tiny", &cfg) == 0, "preset");

  omp_set_num_threads(1);
  generate(&cfg, "gen_a.rdg");
  omp_set_num_threads(2);
  generate(&cfg, "gen_b.rdg");
  cfg.seed = 2;
  generate(&cfg, "gen_c.rdg");
  long na, nb, nc;
  unsigned char *a = slurp("gen_a.rdg", &na), *b = slurp("gen_b.rdg", &nb), *c = slurp("gen_c.rdg", &nc);
  CHECK(na == nb && memcmp(a, b, (size_t)na) == 0, "same seed must give byte-identical files");
  CHECK(na != nc || memcmp(a, c, (size_t)na) != 0, "another seed must give another graph");
  free(a); free(b); free(c);

  rd_graph g;
  CHECK(rd_graph_load(&g, "gen_a.rdg", RD_LOAD_ALL) == 0, "load: %s", rd_error());
  CHECK(g.num_nodes == 2000 && g.num_edges == 2 * 10000, "exact edge count, got %lld",
        (long long)g.num_edges);
  for (int64_t v = 0; v < g.num_nodes; v++)
    for (int64_t e = g.indptr[v]; e < g.indptr[v + 1]; e++) CHECK(g.indices[e] != v, "self loop");
  // Heavy tail: the top 1% of nodes hold far more than 1% of the endpoints,
  // and the maximum degree is far above the mean (a Poisson graph of mean
  // degree 10 has max ≈ 25 and top-1% share ≈ 2.5%).
  int64_t *deg = malloc((size_t)g.num_nodes * sizeof *deg);
  for (int64_t v = 0; v < g.num_nodes; v++) deg[v] = rd_degree(&g, (rd_node)v);
  qsort(deg, (size_t)g.num_nodes, sizeof *deg, cmp_i64_desc);
  int64_t top = 0;
  for (int i = 0; i < 20; i++) top += deg[i];
  const double mean = (double)g.num_edges / (double)g.num_nodes;
  printf("degree: max %lld, mean %.1f, top-1%% share %.1f%%\n", (long long)deg[0], mean,
         100.0 * (double)top / (double)g.num_edges);
  CHECK(deg[0] > 8 * mean, "max degree %lld should exceed 8x the mean %.1f", (long long)deg[0], mean);
  CHECK((double)top / (double)g.num_edges > 0.06, "top 1%% share too small for a heavy tail");
  free(deg);
  check_signal(&g);
  rd_graph_free(&g);

  cfg.num_edges = cfg.num_nodes * cfg.num_nodes;  // impossible density is refused up front
  CHECK(rd_generate(&cfg, &g) != 0 && strstr(rd_error(), "edges"), "bad config: %s", rd_error());
  remove("gen_a.rdg"); remove("gen_b.rdg"); remove("gen_c.rdg");
  printf("generate: ok\n");
  return 0;
}
