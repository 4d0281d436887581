#include "snap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generate.h"
#include "graph/csr.h"
#include "lines.h"
#include "rng.h"

// Stream purposes, apart from the generator's (1..7).
enum { RNG_SNAP_SEEDS = 16 };

void rd_snap_defaults(rd_snap_config *c) {
  *c = (rd_snap_config){.num_features = 128, .num_classes = 50, .rounds = 5,
                        .train_fraction = 0.10, .valid_fraction = 0.05, .noise = 5.0, .seed = 1};
}

typedef struct {
  rd_node *src, *dst;
  int64_t m, cap;
  rd_node max_id;
  int64_t comments;
} pairs;

// Parses one SNAP id at *s (digits only), leaving *s after it.
static int parse_id(const rd_lines *r, char **s, int k, rd_node *out) {
  char *end;
  errno = 0;
  long long x = strtoll(*s, &end, 10);
  if (end == *s || !isdigit((unsigned char)**s) || (*end && *end != ' ' && *end != '\t')) {
    const int len = (int)strcspn(*s, " \t");
    return rd_error_set("%s:%lld: field %d ('%.*s') is not a node id (a non-negative integer)",
                        r->path, (long long)r->line, k, len < 40 ? len : 40, *s);
  }
  if (errno == ERANGE || x > INT32_MAX - 1)
    return rd_error_set("%s:%lld: field %d (%.*s) exceeds the largest node id %d", r->path,
                        (long long)r->line, k, (int)(end - *s), *s, INT32_MAX - 1);
  *out = (rd_node)x;
  *s = end;
  return 0;
}

static int pair_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  pairs *p = ctx;
  (void)i;
  s += strspn(s, " \t");
  if (*s == '#' || *s == '\0') {
    p->comments++;
    return 0;
  }
  rd_node u, v;
  if (parse_id(r, &s, 1, &u)) return -1;
  if (*s == '\0')
    return rd_error_set("%s:%lld: expected two node ids, found one", r->path, (long long)r->line);
  if (*s != ' ' && *s != '\t')
    return rd_error_set("%s:%lld: expected two node ids separated by whitespace", r->path,
                        (long long)r->line);
  s += strspn(s, " \t");
  if (*s == '\0')
    return rd_error_set("%s:%lld: expected two node ids, found one", r->path, (long long)r->line);
  if (parse_id(r, &s, 2, &v)) return -1;
  s += strspn(s, " \t");
  if (*s)
    return rd_error_set("%s:%lld: expected two node ids, found more ('%.20s')", r->path,
                        (long long)r->line, s);
  if (p->m == p->cap) {
    const int64_t cap = p->cap ? 2 * p->cap : 1 << 20;
    rd_node *a = realloc(p->src, (size_t)cap * sizeof *a);
    if (a) p->src = a;
    rd_node *b = a ? realloc(p->dst, (size_t)cap * sizeof *b) : NULL;
    if (!a || !b)
      return rd_error_set("%s:%lld: out of memory for %lld edges", r->path, (long long)r->line,
                          (long long)cap);
    p->dst = b;
    p->cap = cap;
  }
  p->src[p->m] = u;
  p->dst[p->m] = v;
  p->m++;
  if (u > p->max_id) p->max_id = u;
  if (v > p->max_id) p->max_id = v;
  return 0;
}

// Community labels: multi-source BFS from `k` random seeds, then synchronous
// majority rounds (the node's own label is one vote, which keeps a
// synchronous round from flipping two-coloured regions back and forth).
// Returns the number of nodes left unlabelled.
static int64_t propagate(const rd_graph *g, int32_t k, int32_t rounds, uint64_t seed,
                         int32_t *label) {
  const int64_t n = g->num_nodes;
  rd_node *queue = malloc((size_t)n * sizeof *queue);
  int32_t *next = malloc((size_t)n * sizeof *next);
  for (int64_t v = 0; v < n; v++) label[v] = -1;
  rd_rng r = rd_rng_stream(seed, RNG_SNAP_SEEDS, 0);
  int64_t head = 0, tail = 0;
  for (int32_t c = 0; c < k;) {
    const rd_node v = (rd_node)rd_rng_below(&r, (uint64_t)n);
    if (label[v] >= 0 || rd_degree(g, v) == 0) continue;  // a lone node is no community
    label[v] = c++;
    queue[tail++] = v;
  }
  while (head < tail) {
    const rd_node v = queue[head++];
    for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
      if (label[g->indices[e]] < 0) {
        label[g->indices[e]] = label[v];
        queue[tail++] = g->indices[e];
      }
  }
  for (int32_t round = 0; round < rounds; round++) {
#pragma omp parallel
    {
      int32_t *count = calloc((size_t)k, sizeof *count);
#pragma omp for schedule(dynamic, 4096)
      for (int64_t v = 0; v < n; v++) {
        int32_t best = label[v];
        if (best >= 0) {
          count[best]++;
          int32_t most = 1;
          for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++) {
            const int32_t l = label[g->indices[e]];
            if (l < 0) continue;
            const int32_t c = ++count[l];
            if (c > most || (c == most && l < best)) most = c, best = l;
          }
          count[label[v]] = 0;
          for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
            if (label[g->indices[e]] >= 0) count[label[g->indices[e]]] = 0;
        }
        next[v] = best;
      }
      free(count);
    }
    memcpy(label, next, (size_t)n * sizeof *label);
  }
  free(queue);
  free(next);
  return n - tail;
}

int rd_import_snap(const char *path, const rd_snap_config *c, const char *out_path) {
  if (c->num_features < 1 || c->num_classes < 2 || c->rounds < 0 || !(c->train_fraction > 0) ||
      !(c->valid_fraction >= 0) || !(c->train_fraction + c->valid_fraction < 1) || !(c->noise >= 0))
    return rd_error_set("%s: bad import settings (features >= 1, classes >= 2, rounds >= 0, "
                        "train > 0, valid >= 0, train + valid < 1, noise >= 0)", path);
  rd_lines r;
  pairs p = {.max_id = -1};
  int32_t *map = NULL, *labels = NULL;
  int64_t *indptr = NULL;
  rd_node *indices = NULL, *split[3] = {NULL, NULL, NULL};
  float *features = NULL;
  char *prov = NULL;
  int rc = -1;
  if (rd_lines_scan(&r, -1, NULL, pair_line, &p, "%s", path)) goto done;
  if (p.m == 0) {
    rd_error_set("%s: no edges (%lld lines, all comments or blank)", path, (long long)r.records);
    goto done;
  }
  // Compact ids: SNAP numbers nodes with gaps (Friendster: 65.6M nodes, ids
  // up to 124.8M); a node exists iff it occurs in an edge.
  const int64_t ids = (int64_t)p.max_id + 1;
  if (!(map = calloc((size_t)ids, sizeof *map))) {
    rd_error_set("%s: out of memory for ids up to %lld", path, (long long)ids);
    goto done;
  }
  for (int64_t i = 0; i < p.m; i++) map[p.src[i]] = map[p.dst[i]] = 1;
  int64_t n = 0;
  for (int64_t id = 0; id < ids; id++) map[id] = map[id] ? (int32_t)n++ : -1;
  for (int64_t i = 0; i < p.m; i++) p.src[i] = map[p.src[i]], p.dst[i] = map[p.dst[i]];
  free(map);
  map = NULL;
  if (n < c->num_classes) {
    rd_error_set("%s: %lld nodes, fewer than the %d classes to make", path, (long long)n,
                 c->num_classes);
    goto done;
  }
  rd_graph g = {.num_nodes = n, .num_features = c->num_features, .num_classes = c->num_classes,
                .seed = 0};
  if (rd_csr_from_edges(n, p.src, p.dst, p.m, &indptr, &indices, &g.num_edges)) goto done;
  int64_t with_edges = 0;
  for (int64_t v = 0; v < n; v++) with_edges += indptr[v + 1] > indptr[v];
  if (with_edges < c->num_classes) {
    rd_error_set("%s: %lld nodes with an edge, fewer than the %d classes to make", path,
                 (long long)with_edges, c->num_classes);
    goto done;
  }
  free(p.src);
  free(p.dst);
  p.src = p.dst = NULL;
  g.indptr = indptr;
  g.indices = indices;
  labels = malloc((size_t)n * sizeof *labels);
  features = malloc((size_t)n * (size_t)c->num_features * sizeof *features);
  if (!labels || !features) {
    rd_error_set("%s: out of memory for %lld x %d features", path, (long long)n, c->num_features);
    goto done;
  }
  const int64_t unlabelled = propagate(&g, c->num_classes, c->rounds, c->seed, labels);
  rd_gen_features(&g, labels, c->num_features, c->num_classes, 1.0, 1.0, c->noise, c->seed, features);
  int64_t cnt[3];
  if (rd_gen_split(n, labels, c->train_fraction, c->valid_fraction, c->seed, split, cnt)) goto done;
  if (!(prov = malloc(2048))) {
    rd_error_set("%s: out of memory", path);
    goto done;
  }
  snprintf(prov, 2048,
           "source: SNAP edge list %s (%lld edge lines, %lld comment lines; ids compacted in "
           "ascending order, largest SNAP id %d)\n"
           "labels: GENERATED, not shipped with the dataset: label propagation from %d random "
           "seed nodes (multi-source BFS, then %d majority rounds; seed %llu); %lld nodes out of "
           "reach are unlabelled (-1)\n"
           "features: GENERATED, not shipped with the dataset: %d per node, x_v = P[y_v] + "
           "mean over neighbours u of P[y_u] + %g * N(0,1), random class prototypes P (seed %llu)\n"
           "split: GENERATED: random %g / %g / rest of the labelled nodes (seed %llu)\n",
           path, (long long)p.m, (long long)p.comments, p.max_id, c->num_classes, c->rounds,
           (unsigned long long)c->seed, (long long)unlabelled, c->num_features, c->noise,
           (unsigned long long)c->seed, c->train_fraction, c->valid_fraction,
           (unsigned long long)c->seed);
  g.features = features;
  g.labels = labels;
  g.train = split[0], g.num_train = cnt[0];
  g.valid = split[1], g.num_valid = cnt[1];
  g.test = split[2], g.num_test = cnt[2];
  g.provenance = prov;
  rc = rd_graph_write(&g, out_path);
done:
  free(p.src);
  free(p.dst);
  free(map);
  free(labels);
  free(features);
  free(indptr);
  free(indices);
  free(prov);
  for (int s = 0; s < 3; s++) free(split[s]);
  return rc;
}
