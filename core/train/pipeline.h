// The sample-ahead pipeline of one rank: a ring of the next K + 1 sampled
// mini-batches (steps t .. t+K; one more while step t+1 is planned early), sampled in step order across epoch
// boundaries (every epoch's shuffle is seeded, so the next one is known
// too), each sampled exactly once and held until its step has trained. At
// step t a rank thus knows the exact remote-input sets of steps t .. t+K: a
// buffer policy can rank rows by their next use inside the window, and the
// exchange can request step t+1's rows while step t computes.
//
// Samples are keyed by (seed, epoch, step, layer, node), never by when they
// are drawn, so any K trains on the same batches as K = 0, bit for bit.
#ifndef RUDDER_PIPELINE_H
#define RUDDER_PIPELINE_H

#include <stdint.h>

#include "graph/graph.h"
#include "graph/part.h"
#include "sampler/sampler.h"

// One sampled step, owned by the pipeline.
typedef struct rd_sampled {
  int64_t step;
  int32_t epoch;
  int64_t global_batch;  // seeds of the global batch (all ranks): the loss's denominator
  int32_t num_seeds;     // this rank's seeds of it
  rd_node *seeds;
  int32_t *labels;       // [num_seeds]
  rd_minibatch mb;       // the sampled blocks (a copy the sampler no longer touches)
  int64_t num_remote;
  rd_node *remote;       // distinct remote input nodes, ascending (the buffer's access order)
  int32_t *remote_row;   // [num_remote] row of each in mb.nodes (the input matrix)
  int64_t bytes;         // memory this step's sample holds (what it uses, not capacity)
  // Capacities of the arrays above (reused when the slot takes a later step).
  int64_t cap_seeds, cap_labels, cap_nodes, cap_remote, cap_row;
  int64_t cap_indptr[RD_MAX_LAYERS], cap_indices[RD_MAX_LAYERS];
} rd_sampled;

// Copies `mb` into `s` and splits its input nodes into local (owned by
// `rank`) and remote ones. Evaluation batches use it outside the ring.
void rd_sampled_set(rd_sampled *s, const rd_minibatch *mb, const int32_t *owner, int rank);
void rd_sampled_free(rd_sampled *s);

typedef struct rd_pipeline_config {
  const rd_graph *g;         // the training nodes (the shuffle's input)
  const rd_part *p;          // owners, local rows, labels
  int rank;
  rd_sampler *sampler;       // shared with evaluation: the pipeline copies every sample out
  int64_t global_batch;      // batch_size x ranks
  int64_t per_epoch, total_steps;
  uint64_t seed;             // the run's seed: the epoch shuffles
  int lookahead;             // K >= 0: steps sampled beyond the current one
} rd_pipeline_config;

typedef struct rd_pipeline rd_pipeline;

rd_pipeline *rd_pipeline_create(const rd_pipeline_config *c);
void rd_pipeline_free(rd_pipeline *pl);

// Samples every step of [step, step + K] (capped at the run's last step)
// not sampled yet, in step order. `step` is the next step to train (every
// earlier one released), or the one after it while that one still trains
// (--overlap-fetch plans step t+1, with its window up to t+1+K, during step
// t: the ring has K + 2 slots for that). Returns how many steps it sampled now:
// they are rd_pipeline_at(pl, sampled - n .. sampled - 1) with
// sampled = rd_pipeline_frontier(pl), for the caller to announce (the
// buffer's view of the future).
int64_t rd_pipeline_advance(rd_pipeline *pl, int64_t step);

// Steps sampled so far (the first step not sampled yet).
int64_t rd_pipeline_frontier(const rd_pipeline *pl);

// A step held in the window (sampled, not released), or NULL.
const rd_sampled *rd_pipeline_at(const rd_pipeline *pl, int64_t step);

// Releases the oldest held step, which must be `step`: its slot takes the
// next step to sample.
void rd_pipeline_release(rd_pipeline *pl, int64_t step);

// The window's memory: bytes held now, the most ever held at once, and
// bytes per step sampled (mean over every step sampled so far).
typedef struct rd_pipeline_memory {
  int64_t held_bytes, peak_bytes;
  double bytes_per_step;
  int64_t steps_sampled;
} rd_pipeline_memory;
void rd_pipeline_memory_of(const rd_pipeline *pl, rd_pipeline_memory *m);

#endif
