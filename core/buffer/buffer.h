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
#ifndef RUDDER_BUFFER_H
#define RUDDER_BUFFER_H

#include <stdint.h>

#include "heap.h"

#define RD_NEVER INT64_MAX

typedef enum rd_buffer_rule { RD_RULE_SCORE, RD_RULE_LRU, RD_RULE_LFU, RD_RULE_BELADY } rd_buffer_rule;

typedef struct rd_buffer_config {
  int64_t capacity;  // rows, <= halo size
  double alpha;      // decay per step of both scores (0.05)
  int64_t delta;     // a slot unhit for more than delta steps is stale
  rd_buffer_rule rule;
} rd_buffer_config;

// A request for a replacement under the SCORE rule.
typedef struct rd_replace {
  int replace;      // 0: keep the buffer as it is
  double fraction;  // replace at most this fraction of the capacity (0: every stale slot)
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
  rd_heap heap;          // victim order of LRU / LFU / BELADY
  double log_keep;       // log(1 - alpha)
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

// Slots stale at `step` under the SCORE rule (the policy's view).
int64_t rd_buffer_stale(const rd_buffer *b, int64_t step);

const char *rd_buffer_rule_name(rd_buffer_rule r);

// A deep copy of `src` into `dst` (uninitialised; free it with
// rd_buffer_free) that goes on independently: counterfactual replays run one
// state two ways (agents/classifier labels a decision point this way).
int rd_buffer_copy(rd_buffer *dst, const rd_buffer *src);

#endif
