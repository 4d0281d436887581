#include "prefetcher.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "grow.h"
#include "rng.h"
#include "scores.h"

enum { RNG_INIT = 0x1a17 };


rd_buffer_start rd_prefetch_init_of(const rd_prefetch_config *c) {
  // The offline bound is defined from an empty buffer: no fill applies to it.
  if (c->policy->flags & RD_POLICY_OFFLINE) return c->policy->init;
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

// The halo in `init` order (best first) into order[0..halo_size).
static int rank_halo(const rd_prefetch_config *cfg, const rd_halo_view *halo, rd_buffer_start init,
                     int32_t *order) {
  const int64_t H = halo->size;
  for (int64_t i = 0; i < H; i++) order[i] = (int32_t)i;
  const rd_policy_ops *ops = cfg->policy;
  if (init == RD_INIT_RANDOM && !(cfg->init == RD_INIT_POLICY && ops->rank)) {
    rd_rng r = rd_rng_stream(cfg->params.seed, RNG_INIT, 0);
    for (int64_t i = H - 1; i > 0; i--) {
      int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
      int32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    return 0;
  }
  float *score = malloc(((size_t)H + 1) * sizeof *score);
  scored *sc = malloc(((size_t)H + 1) * sizeof *sc);
  int rc = score && sc ? 0 : rd_error_set("out of memory ranking a %lld-node halo", (long long)H);
  if (rc == 0 && cfg->init == RD_INIT_POLICY && ops->rank) {
    rc = ops->rank(halo, &cfg->params, score);
  } else if (rc == 0 && init == RD_INIT_DEGREE) {
    if (!halo->degree) rc = rd_error_set("policy %s: no halo degrees to rank by", ops->name);
    for (int64_t i = 0; rc == 0 && i < H; i++) score[i] = (float)halo->degree[i];
  } else if (rc == 0 && init == RD_INIT_VIP) {
    if (!halo->vip) rc = rd_error_set("policy %s: no inclusion probabilities to rank by", ops->name);
    for (int64_t i = 0; rc == 0 && i < H; i++) score[i] = halo->vip[i];
  }
  if (rc == 0) {
    for (int64_t i = 0; i < H; i++) sc[i] = (scored){score[i], (int32_t)i};
    qsort(sc, (size_t)H, sizeof *sc, by_score);
    for (int64_t i = 0; i < H; i++) order[i] = sc[i].halo;
  }
  free(sc);
  free(score);
  return rc;
}

int64_t rd_prefetcher_ahead(const rd_prefetcher *pf) { return pf->ahead; }

// Step `s` (fed) enters the known window: the previous access of each of
// its nodes learns its next use, and a buffered node with none pending is
// re-ranked by it.
static void enter(rd_prefetcher *pf, int64_t s) {
  rd_future_step *f = &pf->future[s % (pf->ahead + 1)];
  for (int64_t i = 0; i < f->n; i++) {
    const int32_t h = f->halo[i];
    if (h < 0) continue;
    const int64_t p = pf->last_step[h];
    if (p >= pf->current) pf->future[p % (pf->ahead + 1)].next[pf->last_idx[h]] = s;
    else rd_buffer_known(&pf->buf, h, s);
    pf->last_step[h] = s;
    pf->last_idx[h] = (int32_t)i;
  }
  pf->entered = s + 1;
}

// What the known steps [step, step + ahead] say of the buffer, for an agent
// tuning the LOOKAHEAD rule (rd_window.known_held, known_missing): each halo
// node counted at its first use there. O(accesses of the window), at
// decision points only. (Out of memory: the view stays zero.)
static void window_view(const rd_prefetcher *pf, int64_t step, rd_window *w) {
  uint8_t *seen = pf->future ? calloc((size_t)pf->halo_size + 1, 1) : NULL;
  if (!seen) return;
  const int64_t K = pf->ahead, end = pf->fed < step + K + 1 ? pf->fed : step + K + 1;
  const int64_t reach[3] = {K / 4, K / 2, K};
  for (int64_t s = step; s < end; s++) {
    const rd_future_step *f = &pf->future[s % (K + 1)];
    for (int64_t i = 0; i < f->n; i++) {
      const int32_t h = f->halo[i];
      if (h < 0 || seen[h]) continue;
      seen[h] = 1;
      if (pf->buf.slot_of[h] < 0) {
        w->known_missing++;
        continue;
      }
      for (int r = 0; r < 3; r++) w->known_held[r] += s - step <= reach[r];
    }
  }
  free(seen);
}

static void enter_upto(rd_prefetcher *pf) {
  while (pf->entered < pf->fed && pf->entered <= pf->current + pf->horizon) enter(pf, pf->entered);
}

// The policy looks `horizon` steps ahead from now on: a shorter look
// forgets what it knew and enters the window again.
static void set_horizon(rd_prefetcher *pf, int64_t horizon) {
  if (horizon < 0) horizon = 0;
  if (horizon > pf->ahead) horizon = pf->ahead;
  if (horizon < pf->horizon) {
    for (int64_t s = pf->current; s < pf->entered; s++) {
      rd_future_step *f = &pf->future[s % (pf->ahead + 1)];
      for (int64_t i = 0; i < f->n; i++) {
        if (f->halo[i] >= 0) pf->last_step[f->halo[i]] = -1;
        f->next[i] = RD_NEVER;
      }
    }
    rd_buffer_forget(&pf->buf);
    pf->entered = pf->current;
  }
  pf->horizon = horizon;
  enter_upto(pf);
}

int rd_prefetcher_see(rd_prefetcher *pf, int64_t step, const rd_node *remote, int64_t n) {
  if (!pf->future) return 0;
  if (step != pf->fed || step > pf->current + pf->ahead)
    return rd_error_set("prefetcher: step %lld announced out of order (expected %lld, at most %lld)",
                        (long long)step, (long long)pf->fed, (long long)(pf->current + pf->ahead));
  rd_future_step *f = &pf->future[step % (pf->ahead + 1)];
  f->halo = rd_grow(f->halo, &f->cap_halo, n + 1, sizeof *f->halo);
  f->next = rd_grow(f->next, &f->cap_next, n + 1, sizeof *f->next);
  for (int64_t i = 0; i < n; i++) {
    f->halo[i] = pf->halo_index[remote[i]];
    f->next[i] = RD_NEVER;
  }
  f->n = n;
  pf->fed = step + 1;
  enter_upto(pf);
  return 0;
}

// Applies an action's knobs (LOOKAHEAD).
static void tune(rd_prefetcher *pf, const rd_replace *rep) {
  if (!rep->tune) return;
  if (pf->future && rep->window != pf->horizon) set_horizon(pf, rep->window);
  rd_buffer_tune(&pf->buf, rep);
}

static int fail(rd_prefetcher *pf, int32_t *order, const char *oom) {
  free(order);
  rd_prefetcher_free(pf);
  return oom ? rd_error_set("out of memory for the prefetcher (%s)", oom) : -1;
}

int rd_prefetcher_init(rd_prefetcher *pf, const rd_prefetch_config *cfg, int64_t num_nodes,
                       const rd_halo_view *halo, int64_t total_steps, rd_node **preload,
                       int32_t **preload_slot, int64_t *num_preload) {
  memset(pf, 0, sizeof *pf);
  *preload = NULL;
  *preload_slot = NULL;
  *num_preload = 0;
  const rd_policy_ops *ops = cfg->policy;
  if (!ops) return rd_error_set("no policy given");
  const int64_t halo_size = halo->size;
  pf->cfg = *cfg;
  if (pf->cfg.params.period <= 0) pf->cfg.params.period = cfg->delta;
  pf->num_nodes = num_nodes;
  pf->halo = halo->ids;
  pf->view = *halo;
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
  if ((ops->flags & RD_POLICY_VIP) && !halo->vip)
    return rd_error_set("policy %s needs the halo's inclusion probabilities", ops->name);
  if (cfg->params.lookahead < 0)
    return rd_error_set("lookahead %d must be at least 0", (int)cfg->params.lookahead);
  int32_t *order = malloc(((size_t)halo_size + 1) * sizeof *order);
  if (!order) return rd_error_set("out of memory for the prefetcher");
  if (halo->vip) {  // VIP order: the pinned rows of LOOKAHEAD
    pf->vip_rank = malloc(((size_t)halo_size + 1) * sizeof *pf->vip_rank);
    if (!pf->vip_rank) return fail(pf, order, "VIP ranks");
    const rd_prefetch_config by_vip = {.policy = ops, .init = RD_INIT_VIP};
    if (rank_halo(&by_vip, halo, RD_INIT_VIP, order)) return fail(pf, order, NULL);
    for (int64_t i = 0; i < halo_size; i++) pf->vip_rank[order[i]] = (int32_t)i;
  }
  const rd_buffer_config bc = {.capacity = capacity, .alpha = cfg->alpha, .delta = cfg->delta,
                               .rule = ops->rule, .vip = halo->vip, .degree = halo->degree,
                               .vip_rank = pf->vip_rank};
  if (rd_buffer_init(&pf->buf, halo_size, &bc)) return fail(pf, order, NULL);
  pf->halo_index = malloc((size_t)num_nodes * sizeof *pf->halo_index);
  pf->ring = calloc(2 * (size_t)pf->window, sizeof *pf->ring);
  if (!pf->halo_index || !pf->ring) return fail(pf, order, "window");
  if (ops->flags & (RD_POLICY_FUTURE | RD_POLICY_OFFLINE)) {
    pf->ahead = (ops->flags & RD_POLICY_OFFLINE) ? (total_steps > 0 ? total_steps : 0)
                                                  : cfg->params.lookahead;
    pf->horizon = pf->ahead;
    pf->future = calloc((size_t)pf->ahead + 1, sizeof *pf->future);
    pf->last_step = malloc(((size_t)halo_size + 1) * sizeof *pf->last_step);
    pf->last_idx = malloc(((size_t)halo_size + 1) * sizeof *pf->last_idx);
    if (!pf->future || !pf->last_step || !pf->last_idx) return fail(pf, order, "known future");
    memset(pf->last_step, 0xff, ((size_t)halo_size + 1) * sizeof *pf->last_step);
  }
  memset(pf->halo_index, 0xff, (size_t)num_nodes * sizeof *pf->halo_index);
  for (int64_t i = 0; i < halo_size; i++) pf->halo_index[halo->ids[i]] = (int32_t)i;
  if (ops->create && ops->create(&pf->cfg.params, &pf->state)) return fail(pf, order, NULL);
  if (ops->rule == RD_RULE_CUSTOM) {
    if (!ops->admit) {
      free(order);
      rd_prefetcher_free(pf);
      return rd_error_set("policy %s: rule custom without an admit function", ops->name);
    }
    pf->buf.cfg.custom = (rd_custom_rule){ops->admit, ops->hit, pf->state};
  }
  // A policy that reads the future sets its knobs before the first fill
  // (pinned rows are part of it).
  if (ops->decide && capacity > 0 && pf->future) {
    rd_window w;
    rd_prefetcher_window(pf, 0, &w);
    w.step = -1;  // before any step: this call is not in the job's lock-step (no collective)
    rd_replace rep = {0};
    ops->decide(pf->state, &pf->cfg.params, &w, &rep);
    tune(pf, &rep);
  }
  const rd_buffer_start init = rd_prefetch_init_of(cfg);
  const int own_rank = ops->rank && (cfg->init == RD_INIT_POLICY || (ops->flags & RD_POLICY_OFFLINE));
  if ((init == RD_INIT_EMPTY && !own_rank) || capacity == 0) {
    free(order);
    return 0;
  }
  rd_prefetch_config own = *cfg;
  if (ops->flags & RD_POLICY_OFFLINE) own.init = RD_INIT_POLICY;
  if (rank_halo(&own, halo, init, order)) return fail(pf, order, NULL);
  *preload = malloc((size_t)capacity * sizeof **preload + 1);
  *preload_slot = malloc((size_t)capacity * sizeof **preload_slot + 1);
  int32_t *placed = malloc((size_t)capacity * sizeof *placed + 1);
  *num_preload = rd_buffer_preload(&pf->buf, order, capacity, 0, *preload_slot, placed);
  for (int64_t i = 0; i < *num_preload; i++) (*preload)[i] = halo->ids[placed[i]];
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
  free(pf->vip_rank);
  for (int64_t i = 0; pf->future && i <= pf->ahead; i++) {
    free(pf->future[i].halo);
    free(pf->future[i].next);
  }
  free(pf->future);
  free(pf->last_step);
  free(pf->last_idx);
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
                                         int64_t step, rd_prefetch_metrics *m) {
  const double t0 = rd_now();
  pf->access = rd_grow(pf->access, &pf->cap_access, n + 1, sizeof *pf->access);
  for (int64_t i = 0; i < n; i++) pf->access[i] = pf->halo_index[remote[i]];
  const int64_t *next_use = NULL;
  if (pf->future) {
    pf->current = step;
    if (pf->fed <= step) {  // never announced: the known window starts here
      pf->fed = step;
      if (pf->entered < step) pf->entered = step;
      rd_prefetcher_see(pf, step, remote, n);
    }
    enter_upto(pf);
    next_use = pf->future[step % (pf->ahead + 1)].next;
  }
  rd_replace rep = {0};
  const rd_policy_ops *ops = pf->cfg.policy;
  double t_decide = 0;
  // Every rank calls decide at every step, even with no buffer to steer:
  // a policy may run a collective there (params.comm).
  if (ops->decide && (pf->buf.cfg.capacity > 0 || pf->cfg.params.comm)) {
    rd_window w;
    rd_prefetcher_window(pf, step, &w);
    w.stale = rd_buffer_stale(&pf->buf, step);
    const int64_t P = pf->cfg.params.period;
    const int view = (ops->flags & RD_POLICY_SCORES) && step > 0 && P > 0 && step % P == 0 &&
                     pf->buf.cfg.capacity > 0;
    if (view && pf->buf.cfg.rule == RD_RULE_LOOKAHEAD) window_view(pf, step, &w);
    if (view && pf->buf.cfg.rule == RD_RULE_SCORE) {
      rd_score_view v;
      if (rd_buffer_score_view(&pf->buf, step, &v) == 0) {  // (out of memory: the view stays zero)
        w.candidates = v.candidates;
        memcpy(w.cand_at, v.cand_at, sizeof w.cand_at);
        w.stale_age_p50 = v.stale_age_p50;
        w.stale_age_max = v.stale_age_max;
      }
    }
    const double td = rd_now();
    ops->decide(pf->state, &pf->cfg.params, &w, &rep);
    t_decide = rd_now() - td;
    tune(pf, &rep);
  }
  const double t1 = rd_now();
  rd_buffer_step(&pf->buf, pf->access, next_use, n, step, &rep, &pf->plan);
  const rd_buffer_plan *p = &pf->plan;
  if (p->num_fill > 0 && rep.replace) pf->last_replace = step;
  if (pf->future) {  // the step is done: the window moves on
    pf->current = step + 1;
    enter_upto(pf);
  }
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
  dst->view = src->view;
  const size_t H = (size_t)src->halo_size + 1;
  if (src->vip_rank) {
    if (!(dst->vip_rank = malloc(H * sizeof *dst->vip_rank))) {
      rd_prefetcher_free(dst);
      return rd_error_set("out of memory copying a prefetcher");
    }
    memcpy(dst->vip_rank, src->vip_rank, H * sizeof *dst->vip_rank);
    dst->buf.cfg.vip_rank = dst->vip_rank;
  }
  if (src->future) {  // the known future goes on with the copy
    dst->ahead = src->ahead; dst->horizon = src->horizon; dst->fed = src->fed;
    dst->entered = src->entered; dst->current = src->current;
    dst->future = calloc((size_t)src->ahead + 1, sizeof *dst->future);
    dst->last_step = malloc(H * sizeof *dst->last_step);
    dst->last_idx = malloc(H * sizeof *dst->last_idx);
    if (!dst->future || !dst->last_step || !dst->last_idx) {
      rd_prefetcher_free(dst);
      return rd_error_set("out of memory copying a prefetcher");
    }
    memcpy(dst->last_step, src->last_step, H * sizeof *dst->last_step);
    memcpy(dst->last_idx, src->last_idx, H * sizeof *dst->last_idx);
    for (int64_t i = 0; i <= src->ahead; i++) {
      const rd_future_step *f = &src->future[i];
      rd_future_step *g = &dst->future[i];
      g->halo = rd_grow(NULL, &g->cap_halo, f->n + 1, sizeof *g->halo);
      g->next = rd_grow(NULL, &g->cap_next, f->n + 1, sizeof *g->next);
      // A slot never fed (a copy before the first step) has no arrays.
      if (f->n > 0) {
        memcpy(g->halo, f->halo, (size_t)f->n * sizeof *g->halo);
        memcpy(g->next, f->next, (size_t)f->n * sizeof *g->next);
      }
      g->n = f->n;
    }
  }
  const rd_policy_ops *ops = dst->cfg.policy;
  if (ops->create && ops->create(&dst->cfg.params, &dst->state)) {
    rd_prefetcher_free(dst);
    return -1;
  }
  dst->buf.cfg.custom.ctx = dst->state;
  return 0;
}
