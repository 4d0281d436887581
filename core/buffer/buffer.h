// The persistent buffer of one rank: which halo nodes it holds, in which
// slot, and the scores that decide what to evict. Pure bookkeeping on halo
// indices, no feature rows: the live trainer moves the rows, the trace
// replayer does not, and both drive this same code, so they agree exactly
// on every hit, miss and fetched row.
//
// Replacement rules:
//  * SCORE (MassiveGNN / Rudder): a slot's eviction score is (1-alpha)^age,
//    age = steps since its last hit or admission (restored to 1 on a hit);
//    a slot is stale once the score falls below (1-alpha)^delta. Each halo
//    node not buffered has a candidate score, its miss count decayed by
//    (1-alpha) per step. Nothing changes until a policy asks for a
//    replacement; then the stalest slots (empty ones first) are given to the
//    highest-scoring candidates, fetched in the same exchange as the step's
//    misses (a candidate that is itself a miss of the step costs nothing).
//  * LRU, LFU: every miss is admitted (its row was fetched anyway), evicting
//    the least recently / least frequently used slot.
//  * BELADY: the offline optimum with bypass: a miss is admitted only if its
//    next use comes before that of the buffered row used farthest in the
//    future, which is evicted. Needs each access's next use (from a trace).
//  * LOOKAHEAD: Belady over a window of K known future steps. A row's next
//    use is known when it falls inside the window (the caller announces each
//    step entering it: rd_buffer_known); rows with no use inside it are
//    ordered after every row with one, among themselves by a prior (VIP
//    probability, decayed access count or degree). A miss is admitted only
//    if it beats the row it would evict (with no known use on either side,
//    by the prior times 1 + margin); the top-VIP rows of a pinned share of
//    the capacity are never evicted. BELADY is this rule with the whole
//    future known and no prior.
//  * CUSTOM: the policy's own rule, through two callbacks: every hit is
//    reported, and every miss of a halo node (after the step's hits, in
//    access order) asks which slot its fetched row goes into (evicting the
//    row there), or none (bypass).
#ifndef RUDDER_BUFFER_H
#define RUDDER_BUFFER_H

#include <stdint.h>

#include "heap.h"

#define RD_NEVER INT64_MAX

typedef enum rd_buffer_rule {
  RD_RULE_SCORE, RD_RULE_LRU, RD_RULE_LFU, RD_RULE_BELADY, RD_RULE_LOOKAHEAD, RD_RULE_CUSTOM
} rd_buffer_rule;

struct rd_buffer;
// CUSTOM rule callbacks. `admit` gets the missed halo node and an empty slot
// (or -1 when the buffer is full) and returns the slot to store the row in,
// or -1 to bypass; `hit` is told each slot hit (may be NULL).
typedef struct rd_custom_rule {
  int32_t (*admit)(void *ctx, const struct rd_buffer *b, int32_t halo, int64_t step, int32_t free_slot);
  void (*hit)(void *ctx, const struct rd_buffer *b, int32_t slot, int64_t step);
  void *ctx;
} rd_custom_rule;

// How the LOOKAHEAD rule orders rows with no known next use.
typedef enum rd_prior {
  RD_PRIOR_NONE,    // all equal and never admitted over another (Belady)
  RD_PRIOR_VIP,     // inclusion probability under the run's fanouts (SALIENT++)
  RD_PRIOR_COUNT,   // decayed count of the row's misses and hits (alpha per step)
  RD_PRIOR_DEGREE,  // in-degree
} rd_prior;
const char *rd_prior_name(rd_prior p);
int rd_prior_parse(const char *s, rd_prior *out);

typedef struct rd_buffer_config {
  int64_t capacity;  // rows, <= halo size
  double alpha;      // decay per step of both scores (0.05)
  int64_t delta;     // a slot unhit for more than delta steps is stale
  rd_buffer_rule rule;
  // The halo's static facts the LOOKAHEAD rule ranks by (halo-aligned, may
  // be NULL; they outlive the buffer).
  const float *vip;
  const int32_t *degree;
  const int32_t *vip_rank;  // position of each halo node in VIP order (pinned rows)
  rd_custom_rule custom;    // CUSTOM
} rd_buffer_config;

// A policy's action before a step. SCORE: whether and how much to replace.
// LOOKAHEAD: when `tune` is set, the rule's knobs, which a policy may change
// at any decision (an agent chooses them from a menu): the window used, the
// prior, the admission margin and the pinned share.
typedef struct rd_replace {
  int replace;      // 0: keep the buffer as it is
  double fraction;  // replace at most this fraction of the capacity (0: every stale slot)
  int tune;         // 1: apply the knobs below (LOOKAHEAD)
  int32_t window;   // steps of the announced future that count (<= what the prefetcher is fed)
  rd_prior prior;   // order of rows with no known use in the window
  double margin;    // a row with no known use must beat the victim's prior by 1 + margin
  double pinned;    // share of the capacity held by the top-VIP rows, never evicted
} rd_replace;

// What one step does: per access, a hit slot or a miss; the rows to fetch
// (misses first, in access order, then prefetches of replacement rows); and
// which fetched rows go into which slots.
typedef struct rd_buffer_plan {
  int32_t *slot;           // [accesses] slot hit, or -1
  int64_t hits, misses;    // misses include remote nodes outside the halo
  int64_t halo_misses;
  int32_t *miss_access;    // [misses] access index of each miss, in order
  int64_t num_prefetch;
  int32_t *prefetch_halo;  // [num_prefetch] halo nodes fetched beyond the misses
  int64_t num_fill;
  struct rd_fill { int32_t slot, row; } *fill;  // store fetched row `row` (misses ++ prefetches) in `slot`
  int64_t evicted;         // occupied slots given to another node this step
  int64_t cap_access, cap_miss, cap_prefetch, cap_fill;
} rd_buffer_plan;

typedef struct rd_buffer {
  rd_buffer_config cfg;
  int64_t halo_size, used;
  int32_t *slot_of;      // [halo] slot or -1
  int32_t *halo_of;      // [capacity] halo node or -1
  int64_t *last_hit;     // [capacity] step of the last hit or admission
  int64_t *uses;         // [capacity] hits since admission + 1 (LFU)
  float *miss_score;     // [halo] decayed miss count as of miss_step
  int64_t *miss_step;
  int32_t *free_slots;   // stack of empty slots
  int64_t num_free;
  int32_t *step_miss;    // [halo] scratch: row of the node's miss this step, or -1
  rd_heap heap;          // victim order of LRU / LFU / BELADY / LOOKAHEAD
  double log_keep;       // log(1 - alpha)
  // LOOKAHEAD / BELADY: each slot's known next use (RD_NEVER: none known)
  // and the knobs in force.
  int64_t *known;        // [capacity]
  rd_prior prior;
  double log_margin;     // log(1 + margin)
  int64_t pinned_count;  // halo nodes of VIP rank below it are pinned
  double *count_x;       // [halo] log decayed access count + step * -log(1 - alpha)
  // Scratch of replacement selection.
  struct rd_ranked *rank;
  int64_t cap_rank;
} rd_buffer;

int rd_buffer_init(rd_buffer *b, int64_t halo_size, const rd_buffer_config *cfg);
void rd_buffer_free(rd_buffer *b);
void rd_buffer_plan_free(rd_buffer_plan *p);

// Fills empty slots with the first k halo nodes of `ranked` (not already
// buffered) as of `step`; returns how many were placed, written to
// placed_slot / placed_halo (caller-sized >= k) so the caller fetches them.
int64_t rd_buffer_preload(rd_buffer *b, const int32_t *ranked, int64_t k, int64_t step,
                          int32_t *placed_slot, int32_t *placed_halo);

// One step: `halo[i]` is the halo index of remote access i (distinct), or
// -1 for a remote node outside the halo; `next_use[i]` (BELADY only, else
// NULL) the step of its next access or RD_NEVER. `rep` applies to SCORE.
// A step's accesses are simultaneous: all hits are served before any miss
// is admitted.
void rd_buffer_step(rd_buffer *b, const int32_t *halo, const int64_t *next_use, int64_t n,
                    int64_t step, const rd_replace *rep, rd_buffer_plan *plan);

// LOOKAHEAD / BELADY: halo node `h` is next used at `step` (a step entering
// the known window). Re-ranks its slot if buffered.
void rd_buffer_known(rd_buffer *b, int32_t h, int64_t step);
// Every buffered row's next use becomes unknown (the window is rebuilt).
void rd_buffer_forget(rd_buffer *b);
// Applies the knobs of `rep` (LOOKAHEAD), re-ranking what they change.
void rd_buffer_tune(rd_buffer *b, const rd_replace *rep);

// Slots stale at `step` under the SCORE rule (the policy's view).
int64_t rd_buffer_stale(const rd_buffer *b, int64_t step);

const char *rd_buffer_rule_name(rd_buffer_rule r);

// A deep copy of `src` into `dst` (uninitialised; free it with
// rd_buffer_free) that goes on independently: counterfactual replays run one
// state two ways (agents/classifier labels a decision point this way).
int rd_buffer_copy(rd_buffer *dst, const rd_buffer *src);

#endif
