#include "sampler.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grow.h"
#include "rng.h"

enum { RNG_SAMPLE = 0x5a3b1e };

struct rd_sampler {
  const rd_graph *g;
  int num_layers;
  int fanouts[RD_MAX_LAYERS];
  uint64_t seed;
  int32_t *pos;  // [num_nodes] row of a global node in the mini-batch, -1 if absent
  rd_minibatch mb;
  int64_t cap_nodes, cap_dst[RD_MAX_LAYERS], cap_edges[RD_MAX_LAYERS];
  rd_node *picked;  // per-layer scratch: sampled global neighbours, edge-aligned
  int64_t cap_picked;
};

int rd_parse_fanouts(const char *s, int *fanouts, int max_layers) {
  int n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || (v < 1 && v != -1) || v > 1000000 || n == max_layers) {
      rd_error_set("fanouts '%s': expected up to %d comma-separated positive integers (or -1 for all)",
                   s, max_layers);
      return -1;
    }
    fanouts[n++] = (int)v;
    p = end;
    if (*p == ',') p++;
    else if (*p) {
      rd_error_set("fanouts '%s': unexpected '%c'", s, *p);
      return -1;
    }
  }
  if (n == 0) rd_error_set("fanouts: empty list");
  return n ? n : -1;
}

rd_sampler *rd_sampler_create(const rd_graph *g, int num_layers, const int *fanouts, uint64_t seed) {
  if (num_layers < 1 || num_layers > RD_MAX_LAYERS) {
    rd_error_set("layers: %d out of range [1, %d]", num_layers, RD_MAX_LAYERS);
    return NULL;
  }
  rd_sampler *s = calloc(1, sizeof *s);
  s->g = g;
  s->num_layers = num_layers;
  memcpy(s->fanouts, fanouts, (size_t)num_layers * sizeof *fanouts);
  s->seed = seed;
  s->pos = malloc((size_t)g->num_nodes * sizeof *s->pos);
  if (!s->pos) {
    free(s);
    rd_error_set("out of memory for the sampler's %lld-node map", (long long)g->num_nodes);
    return NULL;
  }
  memset(s->pos, 0xff, (size_t)g->num_nodes * sizeof *s->pos);
  s->mb.num_layers = num_layers;
  return s;
}

void rd_sampler_free(rd_sampler *s) {
  if (!s) return;
  for (int l = 0; l < s->num_layers; l++) {
    free(s->mb.blocks[l].indptr);
    free(s->mb.blocks[l].indices);
  }
  free(s->mb.nodes);
  free(s->picked);
  free(s->pos);
  free(s);
}

// Chooses k of deg neighbour positions without replacement (Floyd), in
// ascending order so the block's edges come out sorted.
static int pick(rd_rng *r, int64_t deg, int k, int64_t *out) {
  if (k < 0 || deg <= k) {
    for (int64_t i = 0; i < deg; i++) out[i] = i;
    return (int)deg;
  }
  int n = 0;
  for (int64_t j = deg - k; j < deg; j++) {
    int64_t t = (int64_t)rd_rng_below(r, (uint64_t)j + 1);
    int dup = 0;
    for (int i = 0; i < n && !dup; i++) dup = out[i] == t;
    out[n++] = dup ? j : t;
  }
  // Insertion sort: k is a fanout (tens).
  for (int i = 1; i < n; i++) {
    int64_t x = out[i];
    int j = i - 1;
    for (; j >= 0 && out[j] > x; j--) out[j + 1] = out[j];
    out[j + 1] = x;
  }
  return n;
}

const rd_minibatch *rd_sample(rd_sampler *s, const rd_node *seeds, int32_t num_seeds,
                              uint64_t epoch, uint64_t step) {
  const rd_graph *g = s->g;
  rd_minibatch *mb = &s->mb;
  mb->nodes = rd_grow(mb->nodes, &s->cap_nodes, num_seeds, sizeof *mb->nodes);
  for (int32_t i = 0; i < num_seeds; i++) {
    mb->nodes[i] = seeds[i];
    s->pos[seeds[i]] = i;
  }
  int32_t num = num_seeds;
  for (int l = s->num_layers - 1; l >= 0; l--) {
    rd_block *b = &mb->blocks[l];
    const int32_t ndst = num;
    const int fan = s->fanouts[l];
    b->num_dst = ndst;
    b->indptr = rd_grow(b->indptr, &s->cap_dst[l], ndst + 1, sizeof *b->indptr);
    b->indptr[0] = 0;
    for (int32_t i = 0; i < ndst; i++) {
      const int64_t d = rd_degree(g, mb->nodes[i]);
      b->indptr[i + 1] = b->indptr[i] + (fan < 0 || d < fan ? d : fan);
    }
    const int64_t ne = b->indptr[ndst];
    b->indices = rd_grow(b->indices, &s->cap_edges[l], ne + 1, sizeof *b->indices);
    s->picked = rd_grow(s->picked, &s->cap_picked, ne + 1, sizeof *s->picked);
    const uint64_t key = rd_hash3(s->seed, epoch, step);
#pragma omp parallel
    {
      int64_t *idx = NULL, cap_idx = 0;
#pragma omp for schedule(dynamic, 256)
      for (int32_t i = 0; i < ndst; i++) {
        const rd_node v = mb->nodes[i];
        const int64_t d = rd_degree(g, v);
        idx = rd_grow(idx, &cap_idx, b->indptr[i + 1] - b->indptr[i] + 1, sizeof *idx);
        rd_rng r = rd_rng_stream(key, RNG_SAMPLE + (uint64_t)l, (uint64_t)v);
        const int k = pick(&r, d, fan, idx);
        rd_node *out = s->picked + b->indptr[i];
        for (int j = 0; j < k; j++) out[j] = g->indices[g->indptr[v] + idx[j]];
      }
      free(idx);
    }
    // Deduplicate new source nodes in edge order (serial: order defines rows).
    mb->nodes = rd_grow(mb->nodes, &s->cap_nodes, num + ne, sizeof *mb->nodes);
    for (int64_t e = 0; e < ne; e++) {
      rd_node u = s->picked[e];
      if (s->pos[u] < 0) {
        s->pos[u] = num;
        mb->nodes[num++] = u;
      }
      b->indices[e] = s->pos[u];
    }
    b->num_edges = ne;
    b->num_src = num;
  }
  mb->num_nodes = num;
  for (int32_t i = 0; i < num; i++) s->pos[mb->nodes[i]] = -1;
  return mb;
}
