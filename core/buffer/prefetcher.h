// The prefetcher of one rank: its persistent buffer, the policy steering it,
// and the window of measured step metrics the policy reads. The live
// trainer and the trace replayer drive the same calls in the same order,
// which is what makes their hit and fetch counts agree exactly.
#ifndef RUDDER_PREFETCHER_H
#define RUDDER_PREFETCHER_H

#include <stdint.h>

#include "buffer.h"
#include "graph/graph.h"
#include "policy.h"

typedef struct rd_prefetch_config {
  const rd_policy_ops *policy;
  rd_policy_params params;
  double capacity_fraction;  // of the halo (0.25), unless capacity_rows > 0
  int64_t capacity_rows;
  double alpha;              // score decay per step (0.05)
  int64_t delta;             // staleness age and default window/period (25)
  rd_buffer_start init;      // initial fill; RD_INIT_POLICY: the policy's
} rd_prefetch_config;

// The initial fill a configuration uses.
rd_buffer_start rd_prefetch_init_of(const rd_prefetch_config *c);

// The schema's defaults (train/params.c: the one place defaults are written).
void rd_prefetch_config_defaults(rd_prefetch_config *c);

// The buffer's part of one step's metrics.
typedef struct rd_prefetch_metrics {
  int64_t remote;        // distinct remote input nodes
  int64_t hits, misses;  // misses: fetched on demand
  int64_t prefetched;    // replacement rows fetched beyond the misses
  int64_t evicted, occupancy;
  int32_t replaced;      // the policy asked for a replacement before this step
  // decide: inside the policy's decide(), which is all the train loop ever
  // waits on an agent (an LLM agent only posts a window and reads a mailbox).
  double decide_seconds, lookup_seconds, replace_seconds;
} rd_prefetch_metrics;

typedef struct rd_step_record {
  int64_t halo_accesses, hits, misses, rows_fetched, evicted, filled, remote;
  double fetch_seconds, step_seconds;
} rd_step_record;

// One step of the known future: its remote accesses as halo indices and,
// once later steps have entered the window, each access's next use.
typedef struct rd_future_step {
  int64_t n;
  int32_t *halo;
  int64_t *next;  // RD_NEVER: no later use known
  int64_t cap_halo, cap_next;
} rd_future_step;

typedef struct rd_prefetcher {
  rd_prefetch_config cfg;
  rd_buffer buf;
  void *state;
  int64_t num_nodes, halo_size, total_steps, last_replace;
  const rd_node *halo;   // [halo_size] global ids, ascending
  rd_halo_view view;     // the caller's arrays (they outlive the prefetcher)
  int32_t *vip_rank;     // [halo] position in VIP order, or NULL without VIP
  int32_t *halo_index;   // [num_nodes] global id -> halo index, or -1
  int32_t *access;       // scratch: halo index of each remote access
  int64_t cap_access;
  rd_buffer_plan plan;
  rd_step_record *ring;  // the last 2 * window steps
  int32_t window;
  int64_t recorded;
  // The known future (RD_POLICY_FUTURE): steps fed by the caller, kept in a
  // ring of ahead + 1; those up to current + horizon have entered the
  // buffer's ranking (horizon <= ahead: a policy may look less far).
  int64_t ahead, horizon, fed, entered, current;
  rd_future_step *future;
  int64_t *last_step;    // [halo] latest entered step using the node, or -1
  int32_t *last_idx;     // [halo] its access index there
} rd_prefetcher;

// `halo` must outlive the prefetcher. The initial fill is ranked here, once
// for every caller: the policy's own ranking, or the fill the configuration
// names (degree, VIP, a random order keyed by params.seed). Returns the
// halo nodes preloaded (global ids, in *preload, malloc'ed) for the caller
// to fetch before the first step.
int rd_prefetcher_init(rd_prefetcher *pf, const rd_prefetch_config *cfg, int64_t num_nodes,
                       const rd_halo_view *halo, int64_t total_steps, rd_node **preload,
                       int32_t **preload_slot, int64_t *num_preload);
void rd_prefetcher_free(rd_prefetcher *pf);

// How many steps beyond the current one the policy wants to know: 0, the
// `lookahead` of its parameters, or (RD_POLICY_OFFLINE) every step.
int64_t rd_prefetcher_ahead(const rd_prefetcher *pf);

// Announces step `step`'s remote inputs (global ids, distinct, ascending)
// before it runs: steps in order, each at most ahead steps beyond the step
// about to run. A no-op for policies that do not read the future; a step
// never announced is announced by rd_prefetcher_step itself.
int rd_prefetcher_see(rd_prefetcher *pf, int64_t step, const rd_node *remote, int64_t n);

// Classifies the step's remote input nodes (global ids, distinct,
// ascending) into hits and misses and applies the policy's decision. Steps
// run in order. The plan is valid until the next call.
const rd_buffer_plan *rd_prefetcher_step(rd_prefetcher *pf, const rd_node *remote, int64_t n,
                                         int64_t step, rd_prefetch_metrics *m);

// Adds a finished step to the window (times are the caller's measurements).
void rd_prefetcher_record(rd_prefetcher *pf, const rd_prefetch_metrics *m, double fetch_seconds,
                          double step_seconds);

// The window the policy sees before `step`.
void rd_prefetcher_window(const rd_prefetcher *pf, int64_t step, rd_window *w);

// A deep copy of `src` into `dst` (uninitialised; free it with
// rd_prefetcher_free) that goes on independently from the same buffer and
// window. Policy state is opaque, so the copy's policy starts afresh (its
// create); `halo` stays shared. Counterfactual replays run one state two ways.
int rd_prefetcher_copy(rd_prefetcher *dst, const rd_prefetcher *src);

#endif
