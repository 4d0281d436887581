// The policy interface shared by the fixed baselines (baselines/) and the
// agents (agents/): how the buffer starts, which replacement rule it runs,
// the action before every step (SCORE: when to replace and how much;
// LOOKAHEAD: its knobs), and what it needs to run (flags). A policy is one
// const rd_policy_ops in its own .c file, listed in experiments/registry.c;
// the train loop, the replayer, the collector and run_experiment read only
// this struct, never a policy's name.
#ifndef RUDDER_POLICY_H
#define RUDDER_POLICY_H

#include <stdint.h>

#include "buffer.h"
#include "graph/graph.h"

typedef enum rd_buffer_start {
  RD_INIT_POLICY = -1,  // the policy's own choice (rd_prefetch_config only)
  RD_INIT_EMPTY, RD_INIT_DEGREE, RD_INIT_RANDOM, RD_INIT_VIP
} rd_buffer_start;

const char *rd_buffer_start_name(rd_buffer_start s);
int rd_buffer_start_parse(const char *s, rd_buffer_start *out);

// What a policy sees before each step: the buffer's facts and an aggregate
// of the last `len` steps (the window), all measured, none cumulative.
typedef struct rd_window {
  int64_t step, total_steps;
  int64_t steps_since_replace;  // since the last replacement that moved rows
  int64_t capacity, halo_size, occupancy, stale;
  int32_t len;                  // steps aggregated below (0 at the start)
  double hit_rate;              // hits / remote halo accesses over the window
  double hit_rate_prev;         // the same over the window before it (trend)
  double remote_per_step, misses_per_step, rows_fetched_per_step, evicted_per_step;
  double fetch_seconds_per_step, step_seconds_per_step;
  // Remote halo accesses per step over the window and the one before it:
  // the weights that combine several ranks' hit rates exactly.
  double accesses_per_step, accesses_prev_per_step;
  // The step just before this one alone (zero at the start), so that a
  // policy can keep windows of its own that do not overlap.
  int64_t last_accesses, last_hits, last_misses, last_rows_fetched, last_evicted, last_filled;
  // At decision points of a SCORE-rule policy that asks (RD_POLICY_SCORES),
  // what a replacement would trade (core/buffer/scores.h): candidates
  // missed lately, the decayed miss count of the candidate ranked at 5, 10,
  // 25, 50 and 100 % of the capacity, and the stale slots' ages. Else zero.
  int64_t candidates;
  double cand_at[5], stale_age_p50, stale_age_max;
  // At decision points of a LOOKAHEAD-rule policy that asks (RD_POLICY_SCORES),
  // what the K known steps say (the current one included): buffered rows
  // first used within a quarter, half and all of them (cumulative), and the
  // distinct halo nodes they use that the buffer does not hold. Else zero.
  int64_t known_held[3], known_missing;
} rd_window;

typedef struct rd_policy_params {
  int64_t period;      // periodic: steps between replacements (default: delta)
  double fraction;     // share of the capacity a replacement may touch (0: all stale)
  uint64_t seed;       // the run's seed (random fill, an agent's request seed)
  int32_t lookahead;   // K: future steps the prefetcher is shown (--lookahead)
  const char *options; // policy-specific "key=value,..." (agents: endpoint, model, ...)
  // The job's communicator (an MPI_Comm *) when every rank of the job calls
  // decide at every step in lock-step (the live trainer), so that a policy
  // may run collectives there; NULL when the policy runs alone (a replay, a
  // counterfactual copy).
  const void *comm;
} rd_policy_params;

// What a rank knows of its halo (halo-aligned arrays; `vip` is NULL unless
// the policy or the run asked for it). The initial fill is ranked from it.
typedef struct rd_halo_view {
  const rd_node *ids;      // global ids, ascending
  int64_t size;
  const int32_t *owner, *degree;
  const float *vip;        // inclusion probability under the run's fanouts
} rd_halo_view;

// What a policy needs to run.
enum rd_policy_flags {
  RD_POLICY_FUTURE = 1,   // ranks rows by next use: fed the known future (the sample-ahead
                          // window live, the trace in a replay), `lookahead` steps of it
  RD_POLICY_OFFLINE = 2,  // needs the whole future: trace replay only (Belady)
  RD_POLICY_VIP = 4,      // reads the halo's inclusion probabilities (rd_halo_view.vip)
  RD_POLICY_SERVER = 8,   // asks an LLM server: run_experiment starts a local one unless
                          // the options name an endpoint
  RD_POLICY_SCORES = 16,  // shown at its decision points (steps that are multiples of the
                          // period) what its rule would trade: SCORE, the score view
                          // (rd_window.candidates, ...); LOOKAHEAD, the known window's
                          // (rd_window.known_held, known_missing)
};

// One decision of an agent, for the results (`decisions` dataset).
typedef struct rd_decision {
  int64_t step_posted;   // the step whose window the agent was given
  int64_t step_applied;  // the step it took effect before, or -1 (stale, dropped)
  int32_t replace;       // the action taken (after any fallback)
  float fraction;
  double latency_seconds;
  int32_t valid;         // the answer parsed and was in range
  int32_t fallback;      // the fallback action was used (timeout, error, invalid)
  char *raw;             // the raw answer or the error text, malloc'ed
} rd_decision;

typedef struct rd_policy_ops {
  const char *name;
  const char *summary;
  int uses_buffer;        // 0: no buffer at all (DistDGL)
  rd_buffer_start init;
  rd_buffer_rule rule;
  unsigned flags;         // rd_policy_flags
  // Optional: the policy's own initial ranking of the halo (higher first),
  // used when the run does not override the fill (--buffer-init).
  int (*rank)(const rd_halo_view *halo, const rd_policy_params *params, float *score);
  // Optional state; NULL create means stateless.
  int (*create)(const rd_policy_params *params, void **state);
  // Called before every step (and, for LOOKAHEAD, once before the initial
  // fill, with an empty window whose step is -1: not in the job's lock-step,
  // no collective there); fills the action `out`.
  void (*decide)(void *state, const rd_policy_params *params, const rd_window *w, rd_replace *out);
  void (*destroy)(void *state);
  // Rule CUSTOM: the policy's own rule (rd_custom_rule; the state is its ctx).
  int32_t (*admit)(void *state, const rd_buffer *b, int32_t halo, int64_t step, int32_t free_slot);
  void (*hit)(void *state, const rd_buffer *b, int32_t slot, int64_t step);
  // Optional: moves the decisions made since the last call to *out
  // (malloc'ed array, caller frees it and each raw); returns their number.
  int64_t (*drain)(void *state, rd_decision **out);
} rd_policy_ops;

#endif
