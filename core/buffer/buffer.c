#include "buffer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grow.h"

// A (key, id) pair ranked by key descending, then id ascending.
typedef struct rd_ranked {
  double key;
  int32_t id;
} rd_ranked;

const char *rd_buffer_rule_name(rd_buffer_rule r) {
  static const char *names[] = {"score", "lru", "lfu", "belady", "lookahead", "custom"};
  return r >= RD_RULE_SCORE && r <= RD_RULE_CUSTOM ? names[r] : "unknown";
}

const char *rd_prior_name(rd_prior p) {
  static const char *names[] = {"none", "vip", "count", "degree"};
  return p >= RD_PRIOR_NONE && p <= RD_PRIOR_DEGREE ? names[p] : "unknown";
}

int rd_prior_parse(const char *s, rd_prior *out) {
  for (int i = RD_PRIOR_NONE; i <= RD_PRIOR_DEGREE; i++)
    if (!strcmp(s, rd_prior_name((rd_prior)i))) {
      *out = (rd_prior)i;
      return 0;
    }
  return rd_error_set("unknown prior '%s' (known: none, vip, count, degree)", s);
}

// The rules that rank by next use (the known future).
static int by_next_use(const rd_buffer *b) {
  return b->cfg.rule == RD_RULE_BELADY || b->cfg.rule == RD_RULE_LOOKAHEAD;
}

int rd_buffer_init(rd_buffer *b, int64_t halo_size, const rd_buffer_config *cfg) {
  memset(b, 0, sizeof *b);
  if (cfg->capacity < 0 || cfg->capacity > halo_size || cfg->capacity > INT32_MAX)
    return rd_error_set("buffer capacity %lld out of range [0, halo size %lld]",
                        (long long)cfg->capacity, (long long)halo_size);
  if (!(cfg->alpha > 0 && cfg->alpha < 1))
    return rd_error_set("alpha %g out of range (0, 1)", cfg->alpha);
  if (cfg->delta < 1) return rd_error_set("delta %lld must be at least 1", (long long)cfg->delta);
  b->cfg = *cfg;
  b->halo_size = halo_size;
  b->log_keep = log1p(-cfg->alpha);
  const size_t h = (size_t)halo_size + 1, c = (size_t)cfg->capacity + 1;
  b->slot_of = malloc(h * sizeof *b->slot_of);
  b->step_miss = malloc(h * sizeof *b->step_miss);
  b->miss_score = calloc(h, sizeof *b->miss_score);
  b->miss_step = calloc(h, sizeof *b->miss_step);
  b->halo_of = malloc(c * sizeof *b->halo_of);
  b->last_hit = calloc(c, sizeof *b->last_hit);
  b->uses = calloc(c, sizeof *b->uses);
  b->free_slots = malloc(c * sizeof *b->free_slots);
  b->known = malloc(c * sizeof *b->known);
  b->count_x = malloc(h * sizeof *b->count_x);
  if (!b->slot_of || !b->step_miss || !b->miss_score || !b->miss_step || !b->halo_of ||
      !b->last_hit || !b->uses || !b->free_slots || !b->known || !b->count_x ||
      rd_heap_init(&b->heap, (int32_t)cfg->capacity)) {
    rd_buffer_free(b);
    return rd_error_set("out of memory for a buffer of %lld rows over a %lld-node halo",
                        (long long)cfg->capacity, (long long)halo_size);
  }
  memset(b->slot_of, 0xff, h * sizeof *b->slot_of);
  memset(b->step_miss, 0xff, h * sizeof *b->step_miss);
  memset(b->halo_of, 0xff, c * sizeof *b->halo_of);
  for (size_t i = 0; i < c; i++) b->known[i] = RD_NEVER;
  for (size_t i = 0; i < h; i++) b->count_x[i] = -INFINITY;
  b->prior = RD_PRIOR_NONE;
  // Popped from the end: slot 0 is used first.
  for (int64_t i = 0; i < cfg->capacity; i++) b->free_slots[i] = (int32_t)(cfg->capacity - 1 - i);
  b->num_free = cfg->capacity;
  return 0;
}

void rd_buffer_free(rd_buffer *b) {
  free(b->slot_of); free(b->step_miss); free(b->miss_score); free(b->miss_step);
  free(b->halo_of); free(b->last_hit); free(b->uses); free(b->free_slots); free(b->rank);
  free(b->known); free(b->count_x);
  rd_heap_free(&b->heap);
  memset(b, 0, sizeof *b);
}

void rd_buffer_plan_free(rd_buffer_plan *p) {
  free(p->slot); free(p->miss_access); free(p->prefetch_halo); free(p->fill);
  memset(p, 0, sizeof *p);
}

// Next-use ranking (min-heap: the top is the victim). Pinned rows above
// everything; rows with a known next use by minus that step (the farthest
// first); rows with none known below them all, by their prior (lowest first).
#define KEY_UNKNOWN (INT64_MIN / 2)

static int is_pinned(const rd_buffer *b, int32_t h) {
  return b->cfg.vip_rank && b->cfg.vip_rank[h] < b->pinned_count;
}

// log of the row's prior (-inf: none).
static double prior_of(const rd_buffer *b, int32_t h) {
  switch (b->prior) {
  case RD_PRIOR_VIP: return b->cfg.vip ? log((double)b->cfg.vip[h]) : -INFINITY;
  case RD_PRIOR_DEGREE: return b->cfg.degree ? log((double)b->cfg.degree[h]) : -INFINITY;
  case RD_PRIOR_COUNT: return b->count_x[h];
  case RD_PRIOR_NONE: break;
  }
  return -INFINITY;
}

static int64_t prior_key(double x) {
  return isinf(x) || isnan(x) ? INT64_MIN / 4 : (int64_t)llround(x * 1048576.0);
}

static void rank_slot(rd_buffer *b, int32_t slot) {
  const int32_t h = b->halo_of[slot];
  if (is_pinned(b, h)) rd_heap_set(&b->heap, slot, INT64_MAX, 0);
  else if (b->known[slot] != RD_NEVER) rd_heap_set(&b->heap, slot, -b->known[slot], 0);
  else rd_heap_set(&b->heap, slot, KEY_UNKNOWN, prior_key(prior_of(b, h)));
}

// The decayed access count of `h` at `step`, one more: kept as
// log(count) + step * -log(1 - alpha), so that rows counted at different
// steps compare without decaying every row every step.
static void count_access(rd_buffer *b, int32_t h, int64_t step) {
  const double lift = -b->log_keep * (double)step;
  b->count_x[h] = log(exp(b->count_x[h] - lift) + 1.0) + lift;
}

// The rule's victim key for a slot touched at `step` (hit or admission).
static void touch(rd_buffer *b, int32_t slot, int64_t step, int64_t next_use) {
  b->last_hit[slot] = step;
  b->uses[slot]++;
  switch (b->cfg.rule) {
  case RD_RULE_LRU: rd_heap_set(&b->heap, slot, step, 0); break;
  case RD_RULE_LFU: rd_heap_set(&b->heap, slot, b->uses[slot], step); break;
  case RD_RULE_BELADY:
  case RD_RULE_LOOKAHEAD: b->known[slot] = next_use; rank_slot(b, slot); break;
  case RD_RULE_SCORE:
  case RD_RULE_CUSTOM: break;
  }
}

void rd_buffer_known(rd_buffer *b, int32_t h, int64_t step) {
  const int32_t slot = h >= 0 ? b->slot_of[h] : -1;
  if (slot < 0 || !by_next_use(b)) return;
  b->known[slot] = step;
  rank_slot(b, slot);
}

void rd_buffer_forget(rd_buffer *b) {
  for (int64_t s = 0; s < b->cfg.capacity; s++)
    if (b->halo_of[s] >= 0 && by_next_use(b)) {
      b->known[s] = RD_NEVER;
      rank_slot(b, (int32_t)s);
    }
}

void rd_buffer_tune(rd_buffer *b, const rd_replace *rep) {
  if (!rep->tune || b->cfg.rule != RD_RULE_LOOKAHEAD) return;
  const double pinned = rep->pinned < 0 ? 0 : rep->pinned > 1 ? 1 : rep->pinned;
  const int64_t pc = b->cfg.vip_rank ? (int64_t)llround(pinned * (double)b->cfg.capacity) : 0;
  b->log_margin = log1p(rep->margin > 0 ? rep->margin : 0);
  if (rep->prior == b->prior && pc == b->pinned_count) return;
  b->prior = rep->prior;
  b->pinned_count = pc;
  for (int64_t s = 0; s < b->cfg.capacity; s++)
    if (b->halo_of[s] >= 0) rank_slot(b, (int32_t)s);
}

// Whether a miss of `h` with next use `next` takes the place of the row in
// `victim` (or a free slot when victim < 0) under the next-use rules.
static int beats(const rd_buffer *b, int32_t h, int64_t next, int32_t victim) {
  if (is_pinned(b, h)) return victim < 0 || !is_pinned(b, b->halo_of[victim]);
  const double x = next == RD_NEVER ? prior_of(b, h) : 0;
  // No known use and no prior: never worth a slot (Belady's bypass).
  if (next == RD_NEVER && isinf(x)) return 0;
  if (victim < 0) return 1;
  const int32_t vh = b->halo_of[victim];
  if (is_pinned(b, vh)) return 0;
  const int64_t vnext = b->known[victim];
  if (next != RD_NEVER) return vnext > next;  // sooner than the victim's (or it has none)
  if (vnext != RD_NEVER) return 0;
  return x > prior_of(b, vh) + b->log_margin;
}

static void admit(rd_buffer *b, int32_t slot, int32_t h, int64_t step, int64_t next_use) {
  b->slot_of[h] = slot;
  b->halo_of[slot] = h;
  b->uses[slot] = 0;
  b->miss_score[h] = 0;  // a buffered node is no candidate
  b->used++;
  touch(b, slot, step, next_use);
}

// Empties `slot`; returns 1 if it held a node.
static int evict(rd_buffer *b, int32_t slot) {
  const int32_t h = b->halo_of[slot];
  if (h < 0) return 0;
  b->slot_of[h] = -1;
  b->halo_of[slot] = -1;
  b->used--;
  rd_heap_remove(&b->heap, slot);
  return 1;
}

int64_t rd_buffer_preload(rd_buffer *b, const int32_t *ranked, int64_t k, int64_t step,
                          int32_t *placed_slot, int32_t *placed_halo) {
  int64_t placed = 0;
  for (int64_t i = 0; i < k && b->num_free > 0; i++) {
    const int32_t h = ranked[i];
    if (h < 0 || h >= b->halo_size || b->slot_of[h] >= 0) continue;
    const int32_t slot = b->free_slots[--b->num_free];
    admit(b, slot, h, step, RD_NEVER);  // no known next use yet
    placed_slot[placed] = slot;
    placed_halo[placed++] = h;
  }
  return placed;
}

int64_t rd_buffer_stale(const rd_buffer *b, int64_t step) {
  int64_t stale = 0;
  for (int64_t s = 0; s < b->cfg.capacity; s++)
    stale += b->halo_of[s] >= 0 && step - b->last_hit[s] > b->cfg.delta;
  return stale;
}

static int cmp_ranked(const void *x, const void *y) {
  const rd_ranked *a = x, *b = y;
  if (a->key != b->key) return a->key > b->key ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

// Moves the k best of r[0..n) (key desc, id asc) to the front, unordered.
static void select_top(rd_ranked *r, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi && k > lo && k <= hi) {
    const rd_ranked pivot = r[lo + (hi - lo) / 2];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (cmp_ranked(&r[i], &pivot) < 0) i++;
      while (cmp_ranked(&r[j], &pivot) > 0) j--;
      if (i <= j) {
        rd_ranked t = r[i]; r[i] = r[j]; r[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
}

static double miss_score_now(const rd_buffer *b, int32_t h, int64_t step) {
  return (double)b->miss_score[h] * exp(b->log_keep * (double)(step - b->miss_step[h]));
}

static void add_fill(rd_buffer_plan *p, int32_t slot, int64_t row) {
  p->fill = rd_grow(p->fill, &p->cap_fill, p->num_fill + 1, sizeof *p->fill);
  p->fill[p->num_fill++] = (struct rd_fill){slot, (int32_t)row};
}

// SCORE rule replacement: the best candidates take empty slots first, then
// the stalest slots.
static void replace(rd_buffer *b, int64_t step, const rd_replace *rep, rd_buffer_plan *p) {
  const int64_t C = b->cfg.capacity;
  b->rank = rd_grow(b->rank, &b->cap_rank, (C > b->halo_size ? C : b->halo_size) + 1, sizeof *b->rank);
  // Candidates: unbuffered halo nodes with a positive decayed miss count.
  int64_t nc = 0;
  for (int64_t h = 0; h < b->halo_size; h++)
    if (b->slot_of[h] < 0 && b->miss_score[h] > 0)
      b->rank[nc++] = (rd_ranked){miss_score_now(b, (int32_t)h, step), (int32_t)h};
  int64_t k = rep->fraction > 0 ? (int64_t)ceil(rep->fraction * (double)C) : C;
  if (nc < k) k = nc;
  select_top(b->rank, nc, k);
  qsort(b->rank, (size_t)k, sizeof *b->rank, cmp_ranked);  // best first, deterministic
  int32_t *newcomer = malloc((size_t)k * sizeof *newcomer + 1);
  for (int64_t i = 0; i < k; i++) newcomer[i] = b->rank[i].id;
  // Victims: empty slots, then stale slots oldest first (ties: lowest slot).
  int64_t nv = 0;
  for (int64_t s = 0; s < C; s++)
    if (b->halo_of[s] >= 0 && step - b->last_hit[s] > b->cfg.delta)
      b->rank[nv++] = (rd_ranked){(double)(step - b->last_hit[s]), (int32_t)s};
  const int64_t from_stale = k - b->num_free > 0 ? k - b->num_free : 0;
  const int64_t stale_used = from_stale < nv ? from_stale : nv;
  select_top(b->rank, nv, stale_used);
  qsort(b->rank, (size_t)stale_used, sizeof *b->rank, cmp_ranked);
  const int64_t total = (k - from_stale) + stale_used;
  for (int64_t i = 0; i < total; i++) {
    int32_t slot;
    if (i < k - from_stale) {
      slot = b->free_slots[--b->num_free];
    } else {
      slot = b->rank[i - (k - from_stale)].id;
      p->evicted += evict(b, slot);
    }
    const int32_t h = newcomer[i];
    admit(b, slot, h, step, RD_NEVER - 1);
    int64_t row = b->step_miss[h];
    if (row < 0) {
      p->prefetch_halo = rd_grow(p->prefetch_halo, &p->cap_prefetch, p->num_prefetch + 1,
                                 sizeof *p->prefetch_halo);
      p->prefetch_halo[p->num_prefetch] = h;
      row = p->misses + p->num_prefetch++;
    }
    add_fill(p, slot, row);
  }
  free(newcomer);
}

void rd_buffer_step(rd_buffer *b, const int32_t *halo, const int64_t *next_use, int64_t n,
                    int64_t step, const rd_replace *rep, rd_buffer_plan *p) {
  p->slot = rd_grow(p->slot, &p->cap_access, n + 1, sizeof *p->slot);
  p->miss_access = rd_grow(p->miss_access, &p->cap_miss, n + 1, sizeof *p->miss_access);
  p->hits = p->misses = p->halo_misses = p->num_prefetch = p->num_fill = p->evicted = 0;
  const rd_buffer_rule rule = b->cfg.rule;
  const int future = by_next_use(b);
  // The step's accesses are simultaneous: hits first, so that no miss
  // evicts a row the same step still needs.
  for (int64_t i = 0; i < n; i++) {
    const int32_t slot = halo[i] >= 0 ? b->slot_of[halo[i]] : -1;
    p->slot[i] = slot;
    if (future && halo[i] >= 0) count_access(b, halo[i], step);
    if (slot >= 0) {
      p->hits++;
      touch(b, slot, step, next_use ? next_use[i] : RD_NEVER);
      if (rule == RD_RULE_CUSTOM && b->cfg.custom.hit) b->cfg.custom.hit(b->cfg.custom.ctx, b, slot, step);
    }
  }
  for (int64_t i = 0; i < n; i++) {
    const int32_t h = halo[i];
    if (p->slot[i] >= 0) continue;
    const int64_t row = p->misses++;
    p->miss_access[row] = (int32_t)i;
    if (h < 0) continue;
    p->halo_misses++;
    b->step_miss[h] = (int32_t)row;
    if (rule == RD_RULE_SCORE) {
      b->miss_score[h] = (float)(miss_score_now(b, h, step) + 1.0);
      b->miss_step[h] = step;
      continue;
    }
    if (b->cfg.capacity == 0) continue;
    const int64_t next = next_use ? next_use[i] : RD_NEVER;
    int32_t victim;
    if (rule == RD_RULE_CUSTOM) {
      const int32_t free_slot = b->num_free > 0 ? b->free_slots[b->num_free - 1] : -1;
      victim = b->cfg.custom.admit(b->cfg.custom.ctx, b, h, step, free_slot);
      if (victim < 0 || victim >= b->cfg.capacity) continue;  // bypass (or out of range)
      if (b->halo_of[victim] < 0) {  // an empty slot: take it off the free stack
        for (int64_t k = b->num_free - 1; k >= 0; k--)
          if (b->free_slots[k] == victim) {
            b->free_slots[k] = b->free_slots[--b->num_free];
            break;
          }
      } else {
        p->evicted += evict(b, victim);
      }
      admit(b, victim, h, step, next);
      add_fill(p, victim, row);
      continue;
    }
    if (b->num_free > 0) {
      if (future && !beats(b, h, next, -1)) continue;  // bypass
      victim = b->free_slots[--b->num_free];
    } else {
      victim = rd_heap_top(&b->heap);
      // Bypass: keep the buffer if the row it would evict is worth more.
      if (future && !beats(b, h, next, victim)) continue;
      // Rows admitted or hit this step are served already; evicting one
      // of them now only costs its next use.
      p->evicted += evict(b, victim);
    }
    admit(b, victim, h, step, next);
    add_fill(p, victim, row);
  }
  if (rule == RD_RULE_SCORE && rep && rep->replace && b->cfg.capacity > 0) replace(b, step, rep, p);
  for (int64_t r = 0; r < p->misses; r++) {
    const int32_t h = halo[p->miss_access[r]];
    if (h >= 0) b->step_miss[h] = -1;
  }
}

int rd_buffer_copy(rd_buffer *dst, const rd_buffer *src) {
  if (rd_buffer_init(dst, src->halo_size, &src->cfg)) return -1;
#define COPY(field, n) memcpy(dst->field, src->field, (size_t)(n) * sizeof *dst->field)
  const int64_t H = src->halo_size, C = src->cfg.capacity;
  COPY(slot_of, H); COPY(step_miss, H); COPY(miss_score, H); COPY(miss_step, H);
  COPY(halo_of, C); COPY(last_hit, C); COPY(uses, C); COPY(free_slots, C);
  COPY(heap.slot, C); COPY(heap.pos, C); COPY(heap.key, C); COPY(heap.key2, C);
  COPY(known, C); COPY(count_x, H);
#undef COPY
  dst->prior = src->prior;
  dst->log_margin = src->log_margin;
  dst->pinned_count = src->pinned_count;
  dst->heap.size = src->heap.size;
  dst->used = src->used;
  dst->num_free = src->num_free;
  return 0;  // the replacement scratch (rank) is per call, not state
}
