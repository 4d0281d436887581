// Trace replay: runs a policy over a recorded access trace without
// training, through the same prefetcher calls as the live run, so rows
// fetched agree exactly with the run that recorded the trace. Seconds for
// millions of accesses: prompts, models and policies can be compared fast.
#ifndef RUDDER_REPLAY_H
#define RUDDER_REPLAY_H

#include <stdio.h>

#include "comm/exchange.h"
#include "prefetcher.h"
#include "trace.h"

typedef struct rd_replay_result {
  int64_t steps, accesses, hits, misses, prefetched, evicted, replacements, preload_rows;
  int64_t rows_fetched;   // misses + prefetched (the preload is counted apart)
  int64_t messages, bytes;  // fetch side, under the live run's counting
  double comm_seconds;    // projected under the alpha-beta model
  double seconds;         // wall time of the replay itself
  int64_t capacity, halo_size;
  // An agent's decisions: logged, with valid answers, fallbacks used and
  // those applied (not dropped as stale); mean seconds to an answer.
  int64_t decisions, decisions_valid, decisions_fallback, decisions_applied;
  double decision_latency, decision_latency_p50, decision_latency_p95;
} rd_replay_result;

// `step_seconds` > 0 paces the replay to that many seconds per step, so an
// asynchronous agent (an LLM) answers as many steps late as it would in a
// run with such steps; 0 replays as fast as it can. `steps_out`, when not
// NULL, receives one CSV line per step.
int rd_replay(const rd_trace *t, const rd_prefetch_config *cfg, const rd_net_model *net,
              double step_seconds, rd_replay_result *r, FILE *steps_out);

#endif
