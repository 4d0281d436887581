// What a run measures, per rank and step, and the decisions its agents
// made: the records the results writer stores (types only).
#ifndef RUDDER_METRICS_H
#define RUDDER_METRICS_H

#include <stdint.h>

#include "buffer/prefetcher.h"

// One rank's record of one step (the results writer's `steps` rows).
typedef struct rd_step_metrics {
  int32_t rank, epoch;
  int64_t step;
  int64_t seeds, input_nodes, local_inputs, remote_inputs;
  int64_t rows_fetched, bytes_received, bytes_sent, messages;
  double t_sample, t_fetch, t_compute, t_allreduce, t_step, t_emulated;
  double t_wait;  // exposed fetch: the time the step waited for its rows (in t_fetch)
  double t_skew;  // --fetch-barrier: waiting for the slowest rank before the exchange
  double loss;  // global mean loss of the step (same on every rank)
  double acc;   // global training accuracy of the step's seeds
  rd_prefetch_metrics buffer;  // hits, misses, prefetched, evicted, occupancy, decision
} rd_step_metrics;

// A decision with the rank that made it.
typedef struct rd_rank_decision {
  int32_t rank;
  rd_decision d;
} rd_rank_decision;

#endif
