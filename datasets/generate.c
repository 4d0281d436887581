#include "generate.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graph/csr.h"
#include "rng.h"

// Stream purposes: each random decision family draws from its own streams.
enum { RNG_COMMUNITY = 1, RNG_WEIGHT, RNG_EDGES, RNG_LABEL, RNG_PROTO, RNG_NOISE, RNG_SPLIT };

static const struct preset {
  const char *name;
  rd_gen_config cfg;
} presets[] = {
    // ≈2k nodes: unit tests.
    {"tiny", {2000, 10000, 16, 4, 16, 2.5, 0.85, 0.8, 1.0, 1.0, 2.0, 0.3, 0.1, 1, NULL, 0, 0}},
    // ≈100k nodes, products' feature/class shape: the quick start. Noise 5
    // puts a features-only MLP near 0.61 test accuracy and GraphSAGE near
    // 0.78, the gap ogbn-products shows (MLP 61%, SAGE 79% on OGB's board).
    {"small", {100000, 1250000, 100, 47, 500, 2.5, 0.85, 0.8, 1.0, 1.0, 5.0, 0.2, 0.05, 1, NULL, 0, 0}},
    // Twins of the paper's datasets: published node and edge counts (edges
    // undirected), feature width, class count and split; ~200 nodes per
    // community as in `small`. The degree exponents are our estimates (the
    // real graphs' degree tails, not fitted): 2.2 for the social graphs,
    // 2.5 for the co-purchase and citation graphs. Graphs over this
    // machine's 24 GiB keep the real mean degree at a recorded scale.
    // ogbn-products: 2,449,029 nodes, 61,859,140 edges, 100 features, 47
    // classes, ~8%/2%/90% split.
    {"products-sim",
     {2449029, 61859140, 100, 47, 10000, 2.5, 0.85, 0.8, 1.0, 1.0, 5.0, 0.08, 0.02, 1,
      "ogbn-products", 2449029, 61859140}},
    // ogbn-arxiv: 169,343 nodes, 1,166,243 edges, 128 features, 40 classes,
    // time split 90,941 / 29,799 / 48,603.
    {"arxiv-sim",
     {169343, 1166243, 128, 40, 850, 2.5, 0.85, 0.8, 1.0, 1.0, 5.0, 0.537, 0.176, 1,
      "ogbn-arxiv", 169343, 1166243}},
    // Reddit (DGL): 232,965 nodes, 114,615,892 directed = 57,307,946
    // undirected edges (mean degree 492), 602 features, 41 classes,
    // split 153,431 / 23,831 / 55,703.
    {"reddit-sim",
     {232965, 57307946, 602, 41, 1165, 2.2, 0.85, 0.8, 1.0, 1.0, 5.0, 0.6586, 0.1023, 1,
      "reddit", 232965, 57307946}},
    // Yelp (GraphSAINT): 716,847 nodes, 6,977,410 edges, 300 features, 100
    // classes (multi-label there; single-label here, as our importer maps
    // it), split 75% / 10% / 15%.
    {"yelp-sim",
     {716847, 6977410, 300, 100, 3584, 2.5, 0.85, 0.8, 1.0, 1.0, 5.0, 0.75, 0.10, 1,
      "yelp", 716847, 6977410}},
    // com-orkut (SNAP): 3,072,441 nodes, 117,185,083 edges; no features or
    // labels ship, so the width (128), the classes (50 communities) and the
    // split (10% / 5% / 85%) are those rudder_data import-snap generates.
    // Full size: ~6 GiB to generate.
    {"orkut-sim",
     {3072441, 117185083, 128, 50, 15362, 2.2, 0.85, 0.8, 1.0, 1.0, 5.0, 0.10, 0.05, 1,
      "com-orkut", 3072441, 117185083}},
    // com-friendster (SNAP): 65,608,366 nodes, 1,806,067,135 edges (~50 GiB
    // of CSR and features): scale 0.05, mean degree 55.06 kept.
    {"friendster-sim",
     {3280418, 90303357, 128, 50, 16402, 2.2, 0.85, 0.8, 1.0, 1.0, 5.0, 0.10, 0.05, 1,
      "com-friendster", 65608366, 1806067135}},
    // ogbn-papers100M: 111,059,956 nodes, 1,615,685,872 edges (~60 GiB of
    // features): scale 0.02, mean degree 29.1 kept; 128 features, 172
    // classes; only 1.4% of the nodes are in the split (1,207,179 /
    // 125,265 / 214,338), so the fractions are kept, not the counts.
    {"papers100m-sim",
     {2221199, 32313717, 128, 172, 11106, 2.5, 0.85, 0.8, 1.0, 1.0, 5.0, 0.01087, 0.00113, 1,
      "ogbn-papers100M", 111059956, 1615685872}},
};

const char *rd_gen_preset_names(void) {
  return "tiny, small, products-sim, arxiv-sim, reddit-sim, yelp-sim, orkut-sim, friendster-sim, "
         "papers100m-sim";
}

void rd_gen_scale(rd_gen_config *c, int64_t nodes) {
  const double n0 = c->real_nodes ? (double)c->real_nodes : (double)c->num_nodes;
  const double m0 = c->real_nodes ? (double)c->real_edges : (double)c->num_edges;
  // Communities keep their size, so the cut structure does not change with scale.
  const int64_t k = llround((double)c->num_communities * (double)nodes / (double)c->num_nodes);
  c->num_communities = (int32_t)(k < 1 ? 1 : k > nodes ? nodes : k);
  c->num_nodes = nodes;
  c->num_edges = llround(m0 * (double)nodes / n0);
}

double rd_gen_scale_of(const rd_gen_config *c) {
  return c->real_nodes ? (double)c->num_nodes / (double)c->real_nodes : 1.0;
}

int rd_gen_preset(const char *name, rd_gen_config *cfg) {
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(presets[i].name, name) == 0) {
      *cfg = presets[i].cfg;
      return 0;
    }
  return rd_error_set("unknown preset '%s' (known: %s)", name, rd_gen_preset_names());
}

static int check_config(const rd_gen_config *c) {
  const int64_t n = c->num_nodes;
  if (n < 2 || n > INT32_MAX) return rd_error_set("nodes: %lld out of range [2, 2^31)", (long long)n);
  if (c->num_edges < 1 || c->num_edges > n * (n - 1) / 4)
    return rd_error_set("edges: %lld out of range [1, nodes*(nodes-1)/4] (denser graphs are not "
                        "sparse benchmarks)", (long long)c->num_edges);
  if (c->num_features < 1) return rd_error_set("features: must be positive");
  if (c->num_classes < 2) return rd_error_set("classes: need at least 2");
  if (c->num_communities < 1 || c->num_communities > n)
    return rd_error_set("communities: %d out of range [1, nodes]", c->num_communities);
  if (!(c->degree_exponent > 2.0)) return rd_error_set("degree-exponent: must exceed 2");
  if (!(c->intra >= 0 && c->intra <= 1)) return rd_error_set("intra: must lie in [0, 1]");
  if (!(c->label_purity >= 0 && c->label_purity <= 1))
    return rd_error_set("label-purity: must lie in [0, 1]");
  if (!(c->noise >= 0)) return rd_error_set("noise: must be non-negative");
  if (!(c->train_fraction > 0 && c->valid_fraction >= 0 &&
        c->train_fraction + c->valid_fraction < 1))
    return rd_error_set("train/valid fractions must be positive and sum below 1");
  return 0;
}

// Vose's alias table over `n` weights: O(1) weighted draws.
typedef struct alias {
  double *prob;
  int32_t *alias;
} alias;

static void alias_build(alias *a, const double *w, int64_t n, int32_t *small, int32_t *large) {
  double total = 0;
  for (int64_t i = 0; i < n; i++) total += w[i];
  int64_t ns = 0, nl = 0;
  for (int64_t i = 0; i < n; i++) {
    a->prob[i] = w[i] * (double)n / total;
    if (a->prob[i] < 1.0) small[ns++] = (int32_t)i;
    else large[nl++] = (int32_t)i;
  }
  while (ns > 0 && nl > 0) {
    int32_t s = small[--ns], l = large[--nl];
    a->alias[s] = l;
    a->prob[l] -= 1.0 - a->prob[s];
    if (a->prob[l] < 1.0) small[ns++] = l;
    else large[nl++] = l;
  }
  while (nl > 0) a->prob[large[--nl]] = 1.0;
  while (ns > 0) a->prob[small[--ns]] = 1.0;  // rounding leftovers
}

static inline int64_t alias_draw(const alias *a, int64_t n, rd_rng *r) {
  int64_t i = (int64_t)rd_rng_below(r, (uint64_t)n);
  return rd_rng_uniform(r) < a->prob[i] ? i : a->alias[i];
}

// Open-addressing set of undirected edges keyed (min << 32 | max) + 1.
typedef struct edge_set {
  uint64_t *slot;
  uint64_t mask;
} edge_set;

static int edge_set_insert(edge_set *s, uint64_t key) {
  uint64_t h = key * 0x9e3779b97f4a7c15ull;
  for (uint64_t i = (h >> 17) & s->mask;; i = (i + 1) & s->mask) {
    if (s->slot[i] == key) return 0;
    if (s->slot[i] == 0) {
      s->slot[i] = key;
      return 1;
    }
  }
}

// Draws exactly cfg->num_edges distinct undirected edges. Candidates are
// drawn in parallel in fixed-size chunks, each chunk from its own stream,
// and admitted serially in chunk order: the result does not depend on the
// number of threads.
static int draw_edges(const rd_gen_config *c, const int32_t *comm, const double *weight,
                      rd_node *src, rd_node *dst) {
  const int64_t n = c->num_nodes, m = c->num_edges, k = c->num_communities;
  int rc = -1;
  // Nodes grouped by community, with one alias table per community segment.
  int64_t *start = calloc((size_t)k + 1, sizeof *start);
  int32_t *order = malloc((size_t)n * sizeof *order);
  double *w = malloc((size_t)n * sizeof *w);
  int32_t *tmp_s = malloc((size_t)n * sizeof *tmp_s), *tmp_l = malloc((size_t)n * sizeof *tmp_l);
  alias global = {malloc((size_t)n * sizeof(double)), malloc((size_t)n * sizeof(int32_t))};
  alias local = {malloc((size_t)n * sizeof(double)), malloc((size_t)n * sizeof(int32_t))};
  edge_set set = {0};
  uint64_t cap = 1;
  while (cap < 2 * (uint64_t)m) cap <<= 1;
  set.slot = calloc(cap, sizeof *set.slot);
  set.mask = cap - 1;
  enum { CHUNK = 1 << 16, CHUNKS = 64 };
  uint64_t *cand = malloc((size_t)CHUNK * CHUNKS * sizeof *cand);
  if (!start || !order || !w || !tmp_s || !tmp_l || !global.prob || !global.alias ||
      !local.prob || !local.alias || !set.slot || !cand) {
    rd_error_set("out of memory drawing %lld edges", (long long)m);
    goto done;
  }
  for (int64_t v = 0; v < n; v++) start[comm[v] + 1]++;
  for (int64_t i = 0; i < k; i++) start[i + 1] += start[i];
  {
    int64_t *fill = malloc((size_t)k * sizeof *fill);
    memcpy(fill, start, (size_t)k * sizeof *fill);
    for (int64_t v = 0; v < n; v++) order[fill[comm[v]]++] = (int32_t)v;
    free(fill);
  }
  alias_build(&global, weight, n, tmp_s, tmp_l);
  for (int64_t i = 0; i < n; i++) w[i] = weight[order[i]];
  for (int64_t i = 0; i < k; i++) {
    alias seg = {local.prob + start[i], local.alias + start[i]};
    alias_build(&seg, w + start[i], start[i + 1] - start[i], tmp_s, tmp_l);
  }

  int64_t have = 0;
  for (uint64_t round = 0; have < m; round++) {
    if (round > 1000 + (uint64_t)(20 * m / ((int64_t)CHUNK * CHUNKS))) {
      rd_error_set("cannot draw %lld distinct edges (graph too dense for its degree model)",
                   (long long)m);
      goto done;
    }
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < CHUNKS; ch++) {
      rd_rng r = rd_rng_stream(c->seed, RNG_EDGES, round * CHUNKS + (uint64_t)ch);
      uint64_t *out = cand + (size_t)ch * CHUNK;
      for (int j = 0; j < CHUNK; j++) {
        int64_t u = alias_draw(&global, n, &r), v;
        if (rd_rng_uniform(&r) < c->intra) {
          int32_t cu = comm[u];
          alias seg = {local.prob + start[cu], local.alias + start[cu]};
          v = order[start[cu] + alias_draw(&seg, start[cu + 1] - start[cu], &r)];
        } else {
          v = alias_draw(&global, n, &r);
        }
        uint64_t lo = (uint64_t)(u < v ? u : v), hi = (uint64_t)(u < v ? v : u);
        out[j] = u == v ? 0 : ((lo << 32) | hi) + 1;
      }
    }
    for (int64_t j = 0; j < (int64_t)CHUNK * CHUNKS && have < m; j++)
      if (cand[j] && edge_set_insert(&set, cand[j])) {
        uint64_t key = cand[j] - 1;
        src[have] = (rd_node)(key >> 32);
        dst[have] = (rd_node)(key & 0xffffffffu);
        have++;
      }
  }
  rc = 0;
done:
  free(start); free(order); free(w); free(tmp_s); free(tmp_l);
  free(global.prob); free(global.alias); free(local.prob); free(local.alias);
  free(set.slot); free(cand);
  return rc;
}

void rd_gen_features(const rd_graph *g, const int32_t *labels, int32_t num_features,
                     int32_t num_classes, double self_signal, double neighbour_signal, double noise,
                     uint64_t seed, float *features) {
  const int64_t n = g->num_nodes, F = num_features, C = num_classes;
  float *proto = malloc((size_t)(C * F) * sizeof *proto);
  rd_rng r = rd_rng_stream(seed, RNG_PROTO, 0);
  for (int64_t i = 0; i < C * F; i++) proto[i] = (float)rd_rng_normal(&r);
  enum { BLOCK = 4096 };
  const int64_t nblocks = (n + BLOCK - 1) / BLOCK;
  // A block of nodes at a time as (label mixture) x (prototypes).
#pragma omp parallel
  {
    float *mix = malloc((size_t)(BLOCK * C) * sizeof *mix);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
      const int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
      memset(mix, 0, (size_t)((hi - lo) * C) * sizeof *mix);
      for (int64_t v = lo; v < hi; v++) {
        float *row = mix + (v - lo) * C;
        if (labels[v] >= 0) row[labels[v]] += (float)self_signal;
        const int64_t deg = rd_degree(g, (rd_node)v);
        for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
          if (labels[g->indices[e]] >= 0)
            row[labels[g->indices[e]]] += (float)(neighbour_signal / (double)deg);
      }
      float *out = features + lo * F;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)F, (int)C, 1.0f,
                  mix, (int)C, proto, (int)F, 0.0f, out, (int)F);
      rd_rng nr = rd_rng_stream(seed, RNG_NOISE, (uint64_t)b);
      for (int64_t i = 0; i < (hi - lo) * F; i++) out[i] += (float)(noise * rd_rng_normal(&nr));
    }
    free(mix);
  }
  free(proto);
}

static int cmp_node(const void *a, const void *b) {
  rd_node x = *(const rd_node *)a, y = *(const rd_node *)b;
  return (x > y) - (x < y);
}

int rd_gen_split(int64_t n, const int32_t *labels, double train_fraction, double valid_fraction,
                 uint64_t seed, rd_node *split[3], int64_t cnt[3]) {
  split[0] = split[1] = split[2] = NULL;
  rd_node *perm = malloc(((size_t)n + 1) * sizeof *perm);
  if (!perm) return rd_error_set("out of memory splitting %lld nodes", (long long)n);
  int64_t k = 0;
  for (int64_t v = 0; v < n; v++)
    if (!labels || labels[v] >= 0) perm[k++] = (rd_node)v;
  // Fisher-Yates from one stream, cut at the fractions.
  rd_rng r = rd_rng_stream(seed, RNG_SPLIT, 0);
  for (int64_t i = k - 1; i > 0; i--) {
    int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
    rd_node t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  int64_t ntrain = (int64_t)(train_fraction * (double)k);
  int64_t nvalid = (int64_t)(valid_fraction * (double)k);
  if (ntrain < 1) ntrain = 1;
  if (ntrain + nvalid > k) return free(perm), rd_error_set("no labelled node to split");
  cnt[0] = ntrain, cnt[1] = nvalid, cnt[2] = k - ntrain - nvalid;
  for (int64_t s = 0, off = 0; s < 3; off += cnt[s], s++) {
    if (!(split[s] = malloc(((size_t)cnt[s] + 1) * sizeof(rd_node)))) {
      free(perm);
      for (int t = 0; t < 3; t++) free(split[t]), split[t] = NULL;
      return rd_error_set("out of memory splitting %lld nodes", (long long)n);
    }
    memcpy(split[s], perm + off, (size_t)cnt[s] * sizeof(rd_node));
    qsort(split[s], (size_t)cnt[s], sizeof(rd_node), cmp_node);
  }
  free(perm);
  return 0;
}

int rd_generate(const rd_gen_config *c, rd_graph *g) {
  memset(g, 0, sizeof *g);
  if (check_config(c)) return -1;
  const int64_t n = c->num_nodes;
  int32_t *comm = malloc((size_t)n * sizeof *comm);
  int32_t *labels = malloc((size_t)n * sizeof *labels);
  double *weight = malloc((size_t)n * sizeof *weight);
  rd_node *src = malloc((size_t)c->num_edges * sizeof *src);
  rd_node *dst = malloc((size_t)c->num_edges * sizeof *dst);
  float *features = malloc((size_t)n * (size_t)c->num_features * sizeof *features);
  int rc = -1;
  if (!comm || !labels || !weight || !src || !dst || !features) {
    rd_error_set("out of memory generating %lld nodes", (long long)n);
    goto fail;
  }
  // Communities uniformly at random (ids carry no locality, as after a
  // random relabelling); Pareto expected degrees, capped at the structural
  // cutoff sqrt(2m) beyond which a simple graph cannot realise them.
  rd_rng r = rd_rng_stream(c->seed, RNG_COMMUNITY, 0);
  for (int64_t v = 0; v < n; v++) comm[v] = (int32_t)rd_rng_below(&r, (uint64_t)c->num_communities);
  r = rd_rng_stream(c->seed, RNG_WEIGHT, 0);
  const double cap = sqrt(2.0 * (double)c->num_edges);
  for (int64_t v = 0; v < n; v++) {
    double w = pow(1.0 - rd_rng_uniform(&r), -1.0 / (c->degree_exponent - 1.0));
    weight[v] = w < cap ? w : cap;
  }
  if (draw_edges(c, comm, weight, src, dst)) goto fail;
  int64_t *indptr;
  rd_node *indices;
  int64_t num_edges;
  if (rd_csr_from_edges(n, src, dst, c->num_edges, &indptr, &indices, &num_edges)) goto fail;
  free(src);
  free(dst);
  src = dst = NULL;
  g->indptr = indptr;
  g->indices = indices;

  // Each community has a label (every class used when communities >= classes);
  // a node keeps it with probability label_purity.
  r = rd_rng_stream(c->seed, RNG_LABEL, 0);
  for (int64_t v = 0; v < n; v++) {
    int32_t own = comm[v] % c->num_classes;
    labels[v] = rd_rng_uniform(&r) < c->label_purity
                    ? own
                    : (int32_t)rd_rng_below(&r, (uint64_t)c->num_classes);
  }
  g->num_nodes = n;
  g->num_edges = num_edges;
  g->num_features = c->num_features;
  g->num_classes = c->num_classes;
  g->seed = c->seed;
  rd_gen_features(g, labels, c->num_features, c->num_classes, c->self_signal, c->neighbour_signal,
                  c->noise, c->seed, features);
  g->features = features;
  g->labels = labels;
  features = NULL;  // owned by g from here
  labels = NULL;

  // Split: a seeded permutation cut at the fractions, each part sorted.
  rd_node *split[3];
  int64_t cnt[3];
  if (rd_gen_split(n, NULL, c->train_fraction, c->valid_fraction, c->seed, split, cnt)) goto fail;
  g->train = split[0]; g->num_train = cnt[0];
  g->valid = split[1]; g->num_valid = cnt[1];
  g->test = split[2]; g->num_test = cnt[2];
  char *prov = malloc(1024);
  if (prov) {
    int len = snprintf(prov, 1024,
                       "source: generated (degree-corrected community model, seed %llu, %d communities, "
                       "degree exponent %g, intra %g, label purity %g, noise %g)\n",
                       (unsigned long long)c->seed, c->num_communities, c->degree_exponent, c->intra,
                       c->label_purity, c->noise);
    if (c->twin_of)
      snprintf(prov + len, 1024 - (size_t)len,
               "twin_of: %s\nscale: %.6g\nreal_nodes: %lld\nreal_edges: %lld\n"
               "mean_degree: %.4g (real %.4g)\n",
               c->twin_of, rd_gen_scale_of(c), (long long)c->real_nodes, (long long)c->real_edges,
               (double)num_edges / (double)n,
               2.0 * (double)c->real_edges / (double)c->real_nodes);
  }
  g->provenance = prov;
  rc = 0;
fail:
  free(comm); free(weight); free(src); free(dst);
  free(features); free(labels);
  if (rc) rd_gen_free(g);
  return rc;
}

void rd_gen_free(rd_graph *g) {
  free((void *)g->indptr); free((void *)g->indices); free((void *)g->features);
  free((void *)g->labels); free((void *)g->train); free((void *)g->valid); free((void *)g->test);
  free((void *)g->provenance);
  memset(g, 0, sizeof *g);
}
