#include "prefetcher.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "grow.h"
#include "rng.h"

enum { RNG_INIT = 0x1a17 };


rd_buffer_start rd_prefetch_init_of(const rd_prefetch_config *c) {
  return c->init == RD_INIT_POLICY ? c->policy->init : c->init;
}

const char *rd_buffer_start_name(rd_buffer_start s) {
  static const char *names[] = {"empty", "degree", "random", "vip"};
  return s >= RD_INIT_EMPTY && s <= RD_INIT_VIP ? names[s] : "policy";
}

int rd_buffer_start_parse(const char *s, rd_buffer_start *out) {
  for (int i = RD_INIT_EMPTY; i <= RD_INIT_VIP; i++)
    if (!strcmp(s, rd_buffer_start_name((rd_buffer_start)i))) {
      *out = (rd_buffer_start)i;
      return 0;
    }
  return rd_error_set("unknown buffer initialisation '%s' (known: empty, degree, random, vip)", s);
}

typedef struct scored {
  float score;
  int32_t halo;
} scored;

static int by_score(const void *x, const void *y) {
  const scored *a = x, *b = y;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  return (a->halo > b->halo) - (a->halo < b->halo);
}

int rd_prefetcher_init(rd_prefetcher *pf, const rd_prefetch_config *cfg, int64_t num_nodes,
                       const rd_node *halo, int64_t halo_size, const float *init_score,
                       int64_t total_steps, rd_node **preload, int32_t **preload_slot,
                       int64_t *num_preload) {
  memset(pf, 0, sizeof *pf);
  *preload = NULL;
  *preload_slot = NULL;
  *num_preload = 0;
  const rd_policy_ops *ops = cfg->policy;
  if (!ops) return rd_error_set("no policy given");
  pf->cfg = *cfg;
  if (pf->cfg.params.period <= 0) pf->cfg.params.period = cfg->delta;
  pf->num_nodes = num_nodes;
  pf->halo = halo;
  pf->halo_size = halo_size;
  pf->total_steps = total_steps;
  pf->last_replace = -1;
  pf->window = (int32_t)(cfg->delta > 0 ? cfg->delta : 1);
  int64_t capacity = cfg->capacity_rows > 0 ? cfg->capacity_rows
                                            : (int64_t)(cfg->capacity_fraction * (double)halo_size);
  if (cfg->capacity_rows <= 0 && !(cfg->capacity_fraction >= 0 && cfg->capacity_fraction <= 1))
    return rd_error_set("buffer fraction %g out of range [0, 1]", cfg->capacity_fraction);
  if (capacity > halo_size) capacity = halo_size;
  if (!ops->uses_buffer) capacity = 0;
  const rd_buffer_config bc = {.capacity = capacity, .alpha = cfg->alpha, .delta = cfg->delta,
                               .rule = ops->rule};
  if (rd_buffer_init(&pf->buf, halo_size, &bc)) return -1;
  pf->halo_index = malloc((size_t)num_nodes * sizeof *pf->halo_index);
  pf->ring = calloc(2 * (size_t)pf->window, sizeof *pf->ring);
  if (!pf->halo_index || !pf->ring) {
    rd_prefetcher_free(pf);
    return rd_error_set("out of memory for the prefetcher");
  }
  memset(pf->halo_index, 0xff, (size_t)num_nodes * sizeof *pf->halo_index);
  for (int64_t i = 0; i < halo_size; i++) pf->halo_index[halo[i]] = (int32_t)i;
  if (ops->create && ops->create(&pf->cfg.params, &pf->state)) {
    rd_prefetcher_free(pf);
    return -1;
  }
  const rd_buffer_start init = rd_prefetch_init_of(cfg);
  if (init == RD_INIT_EMPTY || capacity == 0) return 0;
  // Rank the halo for the initial fill.
  int32_t *order = malloc(((size_t)halo_size + 1) * sizeof *order);
  for (int64_t i = 0; i < halo_size; i++) order[i] = (int32_t)i;
  if (init == RD_INIT_RANDOM) {
    rd_rng r = rd_rng_stream(cfg->params.seed, RNG_INIT, 0);
    for (int64_t i = halo_size - 1; i > 0; i--) {
      int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
      int32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
  } else {
    if (!init_score) {
      free(order);
      rd_prefetcher_free(pf);
      return rd_error_set("policy %s needs an initial ranking of the halo", ops->name);
    }
    scored *sc = malloc(((size_t)halo_size + 1) * sizeof *sc);
    for (int64_t i = 0; i < halo_size; i++) sc[i] = (scored){init_score[i], (int32_t)i};
    qsort(sc, (size_t)halo_size, sizeof *sc, by_score);
    for (int64_t i = 0; i < halo_size; i++) order[i] = sc[i].halo;
    free(sc);
  }
  *preload = malloc((size_t)capacity * sizeof **preload + 1);
  *preload_slot = malloc((size_t)capacity * sizeof **preload_slot + 1);
  int32_t *placed = malloc((size_t)capacity * sizeof *placed + 1);
  *num_preload = rd_buffer_preload(&pf->buf, order, capacity, 0, *preload_slot, placed);
  for (int64_t i = 0; i < *num_preload; i++) (*preload)[i] = halo[placed[i]];
  free(placed);
  free(order);
  return 0;
}

void rd_prefetcher_free(rd_prefetcher *pf) {
  if (pf->cfg.policy && pf->cfg.policy->destroy && pf->state) pf->cfg.policy->destroy(pf->state);
  rd_buffer_free(&pf->buf);
  rd_buffer_plan_free(&pf->plan);
  free(pf->halo_index);
  free(pf->access);
  free(pf->ring);
  memset(pf, 0, sizeof *pf);
}

void rd_prefetcher_window(const rd_prefetcher *pf, int64_t step, rd_window *w) {
  *w = (rd_window){.step = step, .total_steps = pf->total_steps,
                   .steps_since_replace = pf->last_replace < 0 ? step : step - pf->last_replace,
                   .capacity = pf->buf.cfg.capacity, .halo_size = pf->halo_size,
                   .occupancy = pf->buf.used};
  const int32_t W = pf->window;
  // Newest W records form the window, the W before them the previous one.
  rd_step_record sum[2] = {{0}};
  int32_t len[2] = {0, 0};
  for (int64_t k = 0; k < 2 * W && k < pf->recorded; k++) {
    const rd_step_record *r = &pf->ring[(pf->recorded - 1 - k) % (2 * W)];
    const int half = k >= W;
    rd_step_record *s = &sum[half];
    s->halo_accesses += r->halo_accesses; s->hits += r->hits; s->misses += r->misses;
    s->rows_fetched += r->rows_fetched; s->evicted += r->evicted; s->remote += r->remote;
    s->fetch_seconds += r->fetch_seconds; s->step_seconds += r->step_seconds;
    len[half]++;
  }
  w->len = len[0];
  if (len[0] > 0) {
    const double n = len[0];
    w->hit_rate = sum[0].halo_accesses ? (double)sum[0].hits / (double)sum[0].halo_accesses : 0;
    w->remote_per_step = (double)sum[0].remote / n;
    w->misses_per_step = (double)sum[0].misses / n;
    w->rows_fetched_per_step = (double)sum[0].rows_fetched / n;
    w->evicted_per_step = (double)sum[0].evicted / n;
    w->fetch_seconds_per_step = sum[0].fetch_seconds / n;
    w->step_seconds_per_step = sum[0].step_seconds / n;
  }
  if (len[0] > 0) w->accesses_per_step = (double)sum[0].halo_accesses / len[0];
  w->accesses_prev_per_step = len[1] > 0 ? (double)sum[1].halo_accesses / len[1] : w->accesses_per_step;
  if (pf->recorded > 0) {
    const rd_step_record *r = &pf->ring[(pf->recorded - 1) % (2 * W)];
    w->last_accesses = r->halo_accesses;
    w->last_hits = r->hits;
    w->last_misses = r->misses;
    w->last_rows_fetched = r->rows_fetched;
    w->last_evicted = r->evicted;
    w->last_filled = r->filled;
  }
  w->hit_rate_prev = sum[1].halo_accesses ? (double)sum[1].hits / (double)sum[1].halo_accesses
                                          : w->hit_rate;
}

const rd_buffer_plan *rd_prefetcher_step(rd_prefetcher *pf, const rd_node *remote, int64_t n,
                                         const int64_t *next_use, int64_t step,
                                         rd_prefetch_metrics *m) {
  const double t0 = rd_now();
  pf->access = rd_grow(pf->access, &pf->cap_access, n + 1, sizeof *pf->access);
  for (int64_t i = 0; i < n; i++) pf->access[i] = pf->halo_index[remote[i]];
  rd_replace rep = {0};
  const rd_policy_ops *ops = pf->cfg.policy;
  double t_decide = 0;
  // Every rank calls decide at every step, even with no buffer to steer:
  // a policy may run a collective there (params.comm).
  if (ops->decide && (pf->buf.cfg.capacity > 0 || pf->cfg.params.comm)) {
    rd_window w;
    rd_prefetcher_window(pf, step, &w);
    w.stale = rd_buffer_stale(&pf->buf, step);
    const double td = rd_now();
    ops->decide(pf->state, &pf->cfg.params, &w, &rep);
    t_decide = rd_now() - td;
  }
  const double t1 = rd_now();
  rd_buffer_step(&pf->buf, pf->access, next_use, n, step, &rep, &pf->plan);
  const rd_buffer_plan *p = &pf->plan;
  if (p->num_fill > 0 && rep.replace) pf->last_replace = step;
  const double t2 = rd_now();
  *m = (rd_prefetch_metrics){.remote = n, .hits = p->hits, .misses = p->misses,
                             .prefetched = p->num_prefetch, .evicted = p->evicted,
                             .occupancy = pf->buf.used, .replaced = rep.replace,
                             .decide_seconds = t_decide,
                             .lookup_seconds = (t1 - t0 - t_decide) + (rep.replace ? 0 : t2 - t1),
                             .replace_seconds = rep.replace ? t2 - t1 : 0};
  return p;
}

void rd_prefetcher_record(rd_prefetcher *pf, const rd_prefetch_metrics *m, double fetch_seconds,
                          double step_seconds) {
  rd_step_record *r = &pf->ring[pf->recorded++ % (2 * pf->window)];
  *r = (rd_step_record){.halo_accesses = pf->plan.hits + pf->plan.halo_misses, .hits = m->hits,
                        .misses = m->misses, .rows_fetched = m->misses + m->prefetched,
                        .evicted = m->evicted, .filled = pf->plan.num_fill, .remote = m->remote,
                        .fetch_seconds = fetch_seconds, .step_seconds = step_seconds};
}

int rd_prefetcher_copy(rd_prefetcher *dst, const rd_prefetcher *src) {
  memset(dst, 0, sizeof *dst);
  if (rd_buffer_copy(&dst->buf, &src->buf)) return -1;
  dst->cfg = src->cfg;
  dst->cfg.params.comm = NULL;  // a copy goes on alone, outside the job's lock-step
  dst->num_nodes = src->num_nodes;
  dst->halo_size = src->halo_size;
  dst->total_steps = src->total_steps;
  dst->last_replace = src->last_replace;
  dst->halo = src->halo;
  dst->window = src->window;
  dst->recorded = src->recorded;
  const size_t ring = 2 * (size_t)src->window;
  dst->halo_index = malloc((size_t)src->num_nodes * sizeof *dst->halo_index + 1);
  dst->ring = malloc(ring * sizeof *dst->ring);
  if (!dst->halo_index || !dst->ring) {
    rd_prefetcher_free(dst);
    return rd_error_set("out of memory copying a prefetcher");
  }
  memcpy(dst->halo_index, src->halo_index, (size_t)src->num_nodes * sizeof *dst->halo_index);
  memcpy(dst->ring, src->ring, ring * sizeof *dst->ring);
  const rd_policy_ops *ops = dst->cfg.policy;
  if (ops->create && ops->create(&dst->cfg.params, &dst->state)) {
    rd_prefetcher_free(dst);
    return -1;
  }
  return 0;
}
