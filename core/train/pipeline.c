#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grow.h"
#include "rng.h"
#include "sort.h"

enum { RNG_EPOCH = 0xe90c };

struct rd_pipeline {
  rd_pipeline_config cfg;
  rd_sampled *ring;       // [K + 2]: step s lives in ring[s % (K + 2)]
  int64_t front, frontier;  // held steps: [front, frontier)
  rd_node *perm;          // the shuffle of epoch perm_epoch
  int64_t perm_epoch;
  int64_t held, peak, total_bytes, sampled;
};

static int64_t sample_bytes(const rd_sampled *s) {
  int64_t b = (int64_t)s->num_seeds * (int64_t)(sizeof *s->seeds + sizeof *s->labels) +
              (int64_t)s->mb.num_nodes * (int64_t)sizeof *s->mb.nodes +
              s->num_remote * (int64_t)(sizeof *s->remote + sizeof *s->remote_row);
  for (int l = 0; l < s->mb.num_layers; l++)
    b += ((int64_t)s->mb.blocks[l].num_dst + 1) * (int64_t)sizeof(int64_t) +
         s->mb.blocks[l].num_edges * (int64_t)sizeof(int32_t);
  return b;
}

void rd_sampled_set(rd_sampled *s, const rd_minibatch *mb, const int32_t *owner, int rank) {
  s->mb.num_layers = mb->num_layers;
  s->mb.num_nodes = mb->num_nodes;
  s->mb.nodes = rd_grow(s->mb.nodes, &s->cap_nodes, mb->num_nodes + 1, sizeof *s->mb.nodes);
  memcpy(s->mb.nodes, mb->nodes, (size_t)mb->num_nodes * sizeof *mb->nodes);
  for (int l = 0; l < mb->num_layers; l++) {
    const rd_block *b = &mb->blocks[l];
    rd_block *d = &s->mb.blocks[l];
    d->num_dst = b->num_dst;
    d->num_src = b->num_src;
    d->num_edges = b->num_edges;
    d->indptr = rd_grow(d->indptr, &s->cap_indptr[l], b->num_dst + 1, sizeof *d->indptr);
    d->indices = rd_grow(d->indices, &s->cap_indices[l], b->num_edges + 1, sizeof *d->indices);
    memcpy(d->indptr, b->indptr, ((size_t)b->num_dst + 1) * sizeof *b->indptr);
    memcpy(d->indices, b->indices, (size_t)b->num_edges * sizeof *b->indices);
  }
  // Remote inputs sorted by id (the order the buffer and the trace see),
  // each with its row of the input matrix: one radix sort of (id, row).
  const int64_t n = mb->num_nodes;
  uint64_t *keys = malloc(((size_t)n + 1) * sizeof *keys), *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
  if (!keys || !tmp) abort();
  int64_t nr = 0;
  for (int32_t i = 0; i < mb->num_nodes; i++)
    if (owner[mb->nodes[i]] != rank) keys[nr++] = (uint64_t)mb->nodes[i] << 32 | (uint32_t)i;
  rd_sort_by_hi32(keys, tmp, nr);
  s->remote = rd_grow(s->remote, &s->cap_remote, nr + 1, sizeof *s->remote);
  s->remote_row = rd_grow(s->remote_row, &s->cap_row, nr + 1, sizeof *s->remote_row);
  for (int64_t i = 0; i < nr; i++) {
    s->remote[i] = (rd_node)(keys[i] >> 32);
    s->remote_row[i] = (int32_t)(uint32_t)keys[i];
  }
  s->num_remote = nr;
  free(keys);
  free(tmp);
  s->bytes = sample_bytes(s);
}

void rd_sampled_free(rd_sampled *s) {
  free(s->seeds); free(s->labels); free(s->mb.nodes); free(s->remote); free(s->remote_row);
  for (int l = 0; l < RD_MAX_LAYERS; l++) {
    free(s->mb.blocks[l].indptr);
    free(s->mb.blocks[l].indices);
  }
  memset(s, 0, sizeof *s);
}

rd_pipeline *rd_pipeline_create(const rd_pipeline_config *c) {
  if (c->lookahead < 0) {
    rd_error_set("lookahead: %d must be at least 0", c->lookahead);
    return NULL;
  }
  rd_pipeline *pl = calloc(1, sizeof *pl);
  if (!pl) {
    rd_error_set("out of memory for the sample-ahead pipeline");
    return NULL;
  }
  pl->cfg = *c;
  pl->perm_epoch = -1;
  pl->ring = calloc((size_t)c->lookahead + 2, sizeof *pl->ring);
  pl->perm = malloc(((size_t)c->g->num_train + 1) * sizeof *pl->perm);
  if (!pl->ring || !pl->perm) {
    rd_pipeline_free(pl);
    rd_error_set("out of memory for a window of %d steps", c->lookahead + 1);
    return NULL;
  }
  return pl;
}

void rd_pipeline_free(rd_pipeline *pl) {
  if (!pl) return;
  for (int i = 0; pl->ring && i <= pl->cfg.lookahead + 1; i++) rd_sampled_free(&pl->ring[i]);
  free(pl->ring);
  free(pl->perm);
  free(pl);
}

// The seeded shuffle of all training nodes for `epoch`.
static void shuffle(rd_pipeline *pl, int64_t epoch) {
  const int64_t T = pl->cfg.g->num_train;
  memcpy(pl->perm, pl->cfg.g->train, (size_t)T * sizeof *pl->perm);
  rd_rng r = rd_rng_stream(pl->cfg.seed, RNG_EPOCH, (uint64_t)epoch);
  for (int64_t i = T - 1; i > 0; i--) {
    const int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
    const rd_node x = pl->perm[i];
    pl->perm[i] = pl->perm[j];
    pl->perm[j] = x;
  }
  pl->perm_epoch = epoch;
}

// Samples step `step` into its slot.
static void sample(rd_pipeline *pl, int64_t step) {
  const rd_pipeline_config *c = &pl->cfg;
  rd_sampled *s = &pl->ring[step % (c->lookahead + 2)];
  const int64_t epoch = step / c->per_epoch, k = step % c->per_epoch, T = c->g->num_train;
  if (epoch != pl->perm_epoch) shuffle(pl, epoch);
  const int64_t lo = k * c->global_batch, hi = lo + c->global_batch < T ? lo + c->global_batch : T;
  s->seeds = rd_grow(s->seeds, &s->cap_seeds, hi - lo + 1, sizeof *s->seeds);
  s->labels = rd_grow(s->labels, &s->cap_labels, hi - lo + 1, sizeof *s->labels);
  int32_t n = 0;
  for (int64_t i = lo; i < hi; i++) {
    const rd_node v = pl->perm[i];
    if (c->p->owner[v] != c->rank) continue;
    s->labels[n] = c->p->labels[c->p->local[v]];
    s->seeds[n++] = v;
  }
  s->step = step;
  s->epoch = (int32_t)epoch;
  s->global_batch = hi - lo;
  s->num_seeds = n;
  const rd_minibatch *mb = rd_sample(c->sampler, s->seeds, n, (uint64_t)epoch, (uint64_t)step);
  rd_sampled_set(s, mb, c->p->owner, c->rank);
  pl->held += s->bytes;
  pl->total_bytes += s->bytes;
  pl->sampled++;
  if (pl->held > pl->peak) pl->peak = pl->held;
}

int64_t rd_pipeline_advance(rd_pipeline *pl, int64_t step) {
  if (step > pl->front + 1) step = pl->front + 1;  // a slot per held step: K + 2 at most
  int64_t last = step + pl->cfg.lookahead;
  if (last > pl->cfg.total_steps - 1) last = pl->cfg.total_steps - 1;
  int64_t n = 0;
  for (; pl->frontier <= last; pl->frontier++, n++) sample(pl, pl->frontier);
  return n;
}

int64_t rd_pipeline_frontier(const rd_pipeline *pl) { return pl->frontier; }

const rd_sampled *rd_pipeline_at(const rd_pipeline *pl, int64_t step) {
  if (step < pl->front || step >= pl->frontier) return NULL;
  return &pl->ring[step % (pl->cfg.lookahead + 2)];
}

void rd_pipeline_release(rd_pipeline *pl, int64_t step) {
  if (step != pl->front || step >= pl->frontier) return;
  pl->held -= pl->ring[step % (pl->cfg.lookahead + 2)].bytes;
  pl->front++;
}

void rd_pipeline_memory_of(const rd_pipeline *pl, rd_pipeline_memory *m) {
  *m = (rd_pipeline_memory){.held_bytes = pl->held, .peak_bytes = pl->peak,
                            .steps_sampled = pl->sampled,
                            .bytes_per_step = pl->sampled ? (double)pl->total_bytes / (double)pl->sampled : 0};
}
