// The persistent buffer: invariants of the slot map under random steps for
// every rule; each rule's behaviour on hand-made traces with known answers;
// Belady equal to a brute-force optimum on tiny traces; trace files round trip.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/buffer.h"
#include "buffer/scores.h"
#include "buffer/trace.h"
#include "check.h"
#include "error.h"
#include "rng.h"

static rd_buffer make(int64_t halo, int64_t cap, rd_buffer_rule rule, int64_t delta) {
  rd_buffer b;
  rd_buffer_config c = {.capacity = cap, .alpha = 0.05, .delta = delta, .rule = rule};
  CHECK(rd_buffer_init(&b, halo, &c) == 0, "%s", rd_error());
  return b;
}

// Runs one step of accesses `h` (ascending, distinct) and returns the misses.
static int64_t step(rd_buffer *b, rd_buffer_plan *p, const int32_t *h, int64_t n, int64_t s,
                    const int64_t *next, int replace) {
  rd_replace rep = {.replace = replace};
  rd_buffer_step(b, h, next, n, s, &rep, p);
  return p->misses;
}

static void check_invariants(const rd_buffer *b, const rd_buffer_plan *p, const int32_t *h,
                             int64_t n, const int8_t *before) {
  int64_t used = 0;
  for (int64_t s = 0; s < b->cfg.capacity; s++) {
    const int32_t x = b->halo_of[s];
    if (x >= 0) {
      used++;
      CHECK(b->slot_of[x] == s, "slot %lld holds %d but the map says %d", (long long)s, x, b->slot_of[x]);
    }
  }
  for (int64_t x = 0; x < b->halo_size; x++)
    if (b->slot_of[x] >= 0) CHECK(b->halo_of[b->slot_of[x]] == x, "map of %lld", (long long)x);
  CHECK(used == b->used && used + b->num_free == b->cfg.capacity, "occupancy bookkeeping");
  if (b->cfg.rule != RD_RULE_SCORE) CHECK(b->heap.size == b->used, "heap holds every used slot");
  int64_t hits = 0;
  for (int64_t i = 0; i < n; i++) {
    CHECK((p->slot[i] >= 0) == before[h[i]], "access %lld: hit iff buffered before the step", (long long)i);
    hits += p->slot[i] >= 0;
  }
  CHECK(hits == p->hits && hits + p->misses == n, "hit/miss counts");
  for (int64_t k = 0; k < p->num_prefetch; k++) {
    CHECK(!before[p->prefetch_halo[k]], "prefetched a row already buffered");
    for (int64_t i = 0; i < n; i++) CHECK(h[i] != p->prefetch_halo[k], "prefetched a row of the step");
  }
  for (int64_t f = 0; f < p->num_fill; f++) {
    const struct rd_fill *fl = &p->fill[f];
    CHECK(fl->row >= 0 && fl->row < p->misses + p->num_prefetch, "fill row in range");
    int later = 0;  // a slot refilled later in the same step holds the later row
    for (int64_t g = f + 1; g < p->num_fill; g++) later |= p->fill[g].slot == fl->slot;
    if (later) continue;
    const int32_t x = fl->row < p->misses ? h[p->miss_access[fl->row]] : p->prefetch_halo[fl->row - p->misses];
    CHECK(b->halo_of[fl->slot] == x, "slot %d should now hold the fetched node %d", fl->slot, x);
  }
}

static void random_steps(rd_buffer_rule rule) {
  enum { H = 60, C = 12, STEPS = 400 };
  rd_buffer b = make(H, C, rule, 3);
  rd_buffer_plan p = {0};
  rd_rng r = rd_rng_stream(42, rule, 0);
  const rd_replace knobs = {.tune = 1, .prior = RD_PRIOR_COUNT, .margin = 0.1};
  rd_buffer_tune(&b, &knobs);  // LOOKAHEAD only: the decayed count orders the unknown
  int32_t h[H];
  int64_t next[H];
  int8_t before[H];
  for (int s = 0; s < STEPS; s++) {
    int64_t n = 0;
    for (int x = 0; x < H; x++)
      if (rd_rng_uniform(&r) < 0.2 + 0.5 * (x < 10)) h[n++] = x;  // some hot nodes
    for (int64_t i = 0; i < n; i++) next[i] = rd_rng_uniform(&r) < 0.1 ? RD_NEVER : s * 100 + (int64_t)rd_rng_below(&r, 1000);
    for (int x = 0; x < H; x++) before[x] = b.slot_of[x] >= 0;
    rd_replace rep = {.replace = rd_rng_uniform(&r) < 0.2, .fraction = rd_rng_uniform(&r) < 0.5 ? 0.3 : 0};
    rd_buffer_step(&b, h, rule == RD_RULE_BELADY || rule == RD_RULE_LOOKAHEAD ? next : NULL, n, s,
                   &rep, &p);
    if (rule == RD_RULE_LOOKAHEAD && n > 0 && s % 7 == 0) rd_buffer_known(&b, h[0], s + 3);
    check_invariants(&b, &p, h, n, before);
    if (rule != RD_RULE_SCORE) CHECK(p.num_prefetch == 0, "admission rules never prefetch");
  }
  CHECK(b.used > 0, "the buffer was used");
  rd_buffer_plan_free(&p);
  rd_buffer_free(&b);
}

// Misses of a hand-made trace of single-node-set steps.
static int64_t run(rd_buffer_rule rule, int64_t cap, const int32_t *seq, int n, const int *replace_at) {
  rd_buffer b = make(16, cap, rule, 1);
  rd_buffer_plan p = {0};
  int64_t misses = 0, next[1];
  for (int s = 0; s < n; s++) {
    next[0] = RD_NEVER;
    for (int j = s + 1; j < n; j++)
      if (seq[j] == seq[s]) { next[0] = j; break; }
    misses += step(&b, &p, &seq[s], 1, s, rule == RD_RULE_BELADY ? next : NULL,
                   replace_at && replace_at[s]);
  }
  rd_buffer_plan_free(&p);
  rd_buffer_free(&b);
  return misses;
}

static void known_answers(void) {
  // LRU vs LFU, capacity 2: 1 1 2 3 1. LFU keeps the twice-used 1; LRU evicts it.
  const int32_t a[] = {1, 1, 2, 3, 1};
  CHECK(run(RD_RULE_LFU, 2, a, 5, NULL) == 3, "LFU misses on 1 1 2 3 1");
  CHECK(run(RD_RULE_LRU, 2, a, 5, NULL) == 4, "LRU misses on 1 1 2 3 1");
  // LRU, capacity 2: 1 2 1 3 2 -> 3 evicts 2, 2 evicts 1: 4 misses.
  const int32_t c[] = {1, 2, 1, 3, 2};
  CHECK(run(RD_RULE_LRU, 2, c, 5, NULL) == 4, "LRU misses on 1 2 1 3 2");
  // Belady bypasses a row never used again: capacity 1, 1 2 1 -> 2 misses.
  const int32_t d[] = {1, 2, 1};
  CHECK(run(RD_RULE_BELADY, 1, d, 3, NULL) == 2, "Belady bypass");
  CHECK(run(RD_RULE_LRU, 1, d, 3, NULL) == 3, "LRU without bypass");
  // SCORE with no replacement never admits: every access misses.
  CHECK(run(RD_RULE_SCORE, 2, c, 5, NULL) == 5, "score rule without a decision keeps the buffer");

  // SCORE replacement: 5 and 6 missed at steps 0-1; 7 missed at step 0
  // only. A replacement at step 2 (capacity 2) admits the two most missed,
  // 5 and 6: 5 is a miss of step 2 (fetched anyway), 6 is prefetched.
  rd_buffer b = make(16, 2, RD_RULE_SCORE, 1);
  rd_buffer_plan p = {0};
  const int32_t s0[] = {5, 6, 7}, s1[] = {5, 6}, s2[] = {5}, s3[] = {5, 6};
  step(&b, &p, s0, 3, 0, NULL, 0);
  step(&b, &p, s1, 2, 1, NULL, 0);
  step(&b, &p, s2, 1, 2, NULL, 1);
  CHECK(p.num_prefetch == 1 && p.prefetch_halo[0] == 6, "6 prefetched");
  CHECK(p.num_fill == 2 && b.slot_of[5] >= 0 && b.slot_of[6] >= 0 && b.slot_of[7] < 0, "5, 6 admitted");
  CHECK(step(&b, &p, s3, 2, 3, NULL, 0) == 0, "both hit afterwards");
  // Staleness: 6 unhit since step 3; with delta 1 it is stale at step 5 and
  // a replacement gives its slot to 9, missed twice; 5, hit at step 4, stays.
  const int32_t s4[] = {5, 9}, s5[] = {9};
  step(&b, &p, s4, 2, 4, NULL, 0);
  CHECK(rd_buffer_stale(&b, 5) == 1, "one stale slot");
  step(&b, &p, s5, 1, 5, NULL, 1);
  CHECK(p.evicted == 1 && b.slot_of[9] >= 0 && b.slot_of[6] < 0 && b.slot_of[5] >= 0, "stale 6 replaced by 9");
  rd_buffer_plan_free(&p);
  rd_buffer_free(&b);
}

// Brute force over every choice: the minimum misses of a sequence of
// step sets over nodes < 6 with `cap` slots. After a step the buffer may
// keep any subset (up to cap) of what it held plus what the step fetched.
static int64_t optimum(const uint8_t *sets, int steps, int cap) {
  enum { S = 64 };
  int64_t best[S], nxt[S];
  for (int m = 0; m < S; m++) best[m] = m == 0 ? 0 : INT64_MAX / 2;
  for (int s = 0; s < steps; s++) {
    for (int m = 0; m < S; m++) nxt[m] = INT64_MAX / 2;
    for (int m = 0; m < S; m++) {
      if (best[m] >= INT64_MAX / 2) continue;
      const int64_t c = best[m] + __builtin_popcount((unsigned)(sets[s] & ~m));
      const int pool = m | sets[s];
      for (int keep = pool;; keep = (keep - 1) & pool) {  // every subset of the pool
        if (__builtin_popcount((unsigned)keep) <= cap && c < nxt[keep]) nxt[keep] = c;
        if (keep == 0) break;
      }
    }
    memcpy(best, nxt, sizeof best);
  }
  int64_t r = INT64_MAX;
  for (int m = 0; m < S; m++) r = best[m] < r ? best[m] : r;
  return r;
}

static void belady_is_optimal(void) {
  rd_rng r = rd_rng_stream(7, 0, 0);
  for (int trial = 0; trial < 500; trial++) {
    enum { MAXS = 10 };
    uint8_t sets[MAXS];
    const int steps = 3 + (int)rd_rng_below(&r, MAXS - 2), cap = 1 + (int)rd_rng_below(&r, 3);
    for (int s = 0; s < steps; s++) {
      sets[s] = 0;
      for (int v = 0; v < 6; v++) sets[s] |= (uint8_t)((rd_rng_uniform(&r) < 0.4) << v);
    }
    rd_buffer b = make(6, cap, RD_RULE_BELADY, 1);
    rd_buffer_plan p = {0};
    int64_t misses = 0;
    for (int s = 0; s < steps; s++) {
      int32_t h[6];
      int64_t next[6];
      int n = 0;
      for (int v = 0; v < 6; v++)
        if ((sets[s] >> v) & 1) {
          next[n] = RD_NEVER;
          for (int j = s + 1; j < steps; j++)
            if ((sets[j] >> v) & 1) { next[n] = j; break; }
          h[n++] = v;
        }
      misses += step(&b, &p, h, n, s, next, 0);
    }
    const int64_t opt = optimum(sets, steps, cap);
    CHECK(misses == opt, "trial %d: Belady %lld misses, optimum %lld", trial, (long long)misses, (long long)opt);
    rd_buffer_plan_free(&p);
    rd_buffer_free(&b);
  }
}

static void trace_round_trip(void) {
  rd_trace_info info = {.rank = 1, .parts = 2, .num_features = 8, .batch_size = 10, .num_layers = 2,
                        .fanouts = {3, 4}, .num_nodes = 100000, .seed = 9};
  rd_trace_writer *w = rd_trace_writer_open("buffer_trace.rdt", &info);
  CHECK(w, "%s", rd_error());
  const rd_node s0[] = {0, 5, 6, 300, 99999}, s2[] = {7};
  CHECK(rd_trace_writer_step(w, s0, 5) == 0 && rd_trace_writer_step(w, NULL, 0) == 0 &&
        rd_trace_writer_step(w, s2, 1) == 0, "steps");
  const rd_node unsorted[] = {4, 3};
  CHECK(rd_trace_writer_step(w, unsorted, 2) != 0, "unsorted steps are refused");
  const rd_node halo[] = {0, 5, 6, 7};
  const int32_t owner[] = {0, 0, 0, 0}, deg[] = {1, 2, 3, 4};
  const float vip[] = {.1f, .2f, .3f, .4f};
  CHECK(rd_trace_writer_close(w, halo, owner, deg, vip, 4) == 0, "%s", rd_error());
  rd_trace t;
  CHECK(rd_trace_load(&t, "buffer_trace.rdt") == 0, "%s", rd_error());
  CHECK(t.steps == 3 && t.halo_size == 4 && t.info.rank == 1 && t.info.fanouts[1] == 4 && t.info.seed == 9, "header");
  rd_node out[8];
  CHECK(rd_trace_step(&t, 0, out) == 0 && memcmp(out, s0, sizeof s0) == 0, "step 0");
  CHECK(t.count[1] == 0 && rd_trace_step(&t, 2, out) == 0 && out[0] == 7, "steps 1-2");
  CHECK(t.halo_vip[3] == .4f && t.halo_degree[2] == 3, "halo sections");
  rd_trace_free(&t);
  FILE *f = fopen("buffer_trace.rdt", "r+b");
  fseek(f, 1024 + 2, SEEK_SET);  // inside the varint stream
  fputc(0xff, f);
  fclose(f);
  CHECK(rd_trace_load(&t, "buffer_trace.rdt") != 0 && strstr(rd_error(), "checksum"), "%s", rd_error());
  remove("buffer_trace.rdt");
}

// What an agent is shown of a SCORE replacement (scores.c), on known
// counts: 4 slots holding nodes 0-3, never hit; nodes 4-9 missed 2, 2, 1, 1,
// 1, 1 times at steps 0 and 1.
static void score_view(void) {
  rd_buffer b = make(12, 4, RD_RULE_SCORE, 25);
  rd_buffer_plan p = {0};
  const int32_t fill[4] = {0, 1, 2, 3};
  int32_t slot[4], placed[4];
  CHECK(rd_buffer_preload(&b, fill, 4, 0, slot, placed) == 4, "preload");
  const int32_t s0[6] = {4, 5, 6, 7, 8, 9}, s1[2] = {4, 5};
  step(&b, &p, s0, 6, 0, NULL, 0);
  step(&b, &p, s1, 2, 1, NULL, 0);
  rd_score_view v;
  CHECK(rd_buffer_score_view(&b, 2, &v) == 0, "%s", rd_error());
  // Decayed by 0.95 per step: 4, 5 hold 0.95^2 + 0.95, the others 0.95^2.
  const double two = 0.95 * 0.95 + 0.95, one = 0.95 * 0.95;
  CHECK(v.candidates == 6, "candidates %lld", (long long)v.candidates);
  // Ranks for 4 slots: 5 %, 10 %, 25 % -> 1st; 50 % -> 2nd; 100 % -> 4th.
  CHECK(fabs(v.cand_at[0] - two) < 1e-5 && fabs(v.cand_at[2] - two) < 1e-5 && fabs(v.cand_at[3] - two) < 1e-5 &&
            fabs(v.cand_at[4] - one) < 1e-5, "candidates at the shares' ranks: %g %g %g %g %g", v.cand_at[0],
        v.cand_at[1], v.cand_at[2], v.cand_at[3], v.cand_at[4]);
  CHECK(v.stale_age_max == 0 && v.stale_age_p50 == 0, "nothing stale at step 2");
  CHECK(rd_buffer_score_view(&b, 40, &v) == 0 && v.stale_age_max == 40 && v.stale_age_p50 == 40 &&
            v.candidates == 0 && v.cand_at[0] > 0, "at step 40 all 4 slots are stale (age 40), misses decayed below 0.5");
  rd_buffer_plan_free(&p);
  rd_buffer_free(&b);
}

// The LOOKAHEAD rule on one slot over four halo nodes of VIP 0.1, 0.5, 0.9,
// 0.3 (VIP order 2, 1, 3, 0): known next uses beat unknown ones, the prior
// orders the unknown, the margin raises the bar, pinned rows stay.
static int32_t holds(const rd_buffer *b) { return b->halo_of[0]; }

static void lookahead_rule(void) {
  static const float vip[4] = {0.1f, 0.5f, 0.9f, 0.3f};
  static const int32_t rank[4] = {3, 1, 0, 2};
  rd_buffer b;
  rd_buffer_plan p = {0};
  const rd_buffer_config c = {.capacity = 1, .alpha = 0.05, .delta = 5, .rule = RD_RULE_LOOKAHEAD,
                              .vip = vip, .vip_rank = rank};
  CHECK(rd_buffer_init(&b, 4, &c) == 0, "%s", rd_error());
  rd_replace k = {.tune = 1, .prior = RD_PRIOR_VIP};
  rd_buffer_tune(&b, &k);
  const int64_t never = RD_NEVER, at4 = 4;
  const int32_t n0 = 0, n1 = 1, n2 = 2;
  rd_buffer_step(&b, &n1, &never, 1, 0, NULL, &p);
  CHECK(holds(&b) == 1 && p.num_fill == 1, "an empty slot takes a row with a prior");
  rd_buffer_step(&b, &n0, &never, 1, 1, NULL, &p);
  CHECK(holds(&b) == 1 && p.num_fill == 0 && p.evicted == 0, "a lower prior is bypassed");
  k.margin = 1.0;  // must beat 0.5 x 2 = 1.0: 0.9 does not
  rd_buffer_tune(&b, &k);
  rd_buffer_step(&b, &n2, &never, 1, 2, NULL, &p);
  CHECK(holds(&b) == 1 && p.num_fill == 0, "the margin keeps the victim");
  k.margin = 0;
  rd_buffer_tune(&b, &k);
  rd_buffer_step(&b, &n2, &never, 1, 3, NULL, &p);
  CHECK(holds(&b) == 2 && p.evicted == 1, "a higher prior replaces a lower one");
  rd_buffer_step(&b, &n0, &at4, 1, 3, NULL, &p);
  CHECK(holds(&b) == 0, "a known next use beats an unknown one, whatever the prior");
  rd_buffer_step(&b, &n2, &never, 1, 4, NULL, &p);
  CHECK(holds(&b) == 0, "an unknown use never beats a known one");
  rd_buffer_known(&b, 0, 9);  // node 0's next use moves out: known at 9
  const int64_t at6 = 6;
  rd_buffer_step(&b, &n1, &at6, 1, 5, NULL, &p);
  CHECK(holds(&b) == 1, "the sooner next use wins");
  k.pinned = 1.0;  // the whole (one-slot) buffer pinned to VIP rank 0: node 2
  rd_buffer_tune(&b, &k);
  rd_buffer_step(&b, &n2, &never, 1, 6, NULL, &p);
  CHECK(holds(&b) == 2, "a pinned row takes the slot from an unpinned one");
  const int64_t at8 = 8;
  rd_buffer_step(&b, &n0, &at8, 1, 7, NULL, &p);
  CHECK(holds(&b) == 2 && p.num_fill == 0, "a pinned row is never evicted");
  rd_buffer_plan_free(&p);
  rd_buffer_free(&b);
}

int main(void) {
  score_view();
  for (int rule = RD_RULE_SCORE; rule <= RD_RULE_LOOKAHEAD; rule++) random_steps((rd_buffer_rule)rule);
  lookahead_rule();
  known_answers();
  belady_is_optimal();
  trace_round_trip();
  printf("buffer: ok\n");
  return 0;
}
