// The distributed train loop, one MPI rank per partition. Mini-batches come
// from a global, seeded shuffle of all training nodes cut into global batches
// of batch_size x ranks; each rank trains on the seeds of each global batch
// that it owns and gradients are summed with MPI_Allreduce. With METIS'
// training-node balance each rank sees about batch_size seeds per step, as
// in DistDGL, and any rank count walks the same global batches, so runs with
// 1 and R ranks follow the same loss curve.
#ifndef RUDDER_TRAIN_H
#define RUDDER_TRAIN_H

#include <mpi.h>
#include <stdint.h>

#include "buffer/prefetcher.h"
#include "comm/exchange.h"
#include "metrics.h"
#include "model/model.h"
#include "sampler/block.h"

typedef struct rd_train_config {
  const char *graph_path;      // the shared topology (*.rdg)
  const char *partition_dir;   // map.rdp + part<rank>.rdp
  rd_model_config model;       // in_dim / num_classes are filled from the data
  int num_layers;
  int fanouts[RD_MAX_LAYERS];  // layer 0 = input side, as DGL's --fan_out
  int batch_size;              // seeds per rank per step (on average)
  double lr;
  int epochs;
  int64_t max_steps;           // stop after this many steps in total (0: no limit)
  int eval_every;              // epochs between evaluations (0: only at the end)
  int64_t eval_nodes;          // evaluate on at most this many valid/test nodes (0: all)
  uint64_t seed;
  rd_net_model net;
  int verify;                  // verify checksums when loading
  int quiet;                   // no per-epoch lines
  rd_prefetch_config prefetch; // the persistent buffer and its policy (default: none)
  const char *policy_name;     // the registered policy; the caller resolves prefetch.policy
  int device;                  // 0 cpu, 1 cuda, 2 cpu-staged: recorded; the caller makes `backend`
  const char *record_trace;    // write this rank's access trace to <path>.<rank>
  int overlap;                 // device backends: no wait at the step's end, so the next
                               // step's sampling and fetch run while the GPU finishes this
                               // one (its time then shows in the next step's compute)
  int lookahead;               // K: steps sampled ahead of the one training (0: none)
  int overlap_fetch;           // request step t+1's missing rows while step t computes
                               // (non-blocking exchange); same plans, rows and losses
  int fetch_barrier;           // diagnostic: an MPI_Barrier before each step's exchange, timed
                               // apart (t_skew), so t_wait is the exchange alone
  int replicate_features;      // every rank holds every feature row (from the graph file):
                               // no buffer, no exchange; the zero-communication bound
  rd_backend *backend;         // where the model, the feature matrix and the buffer
                               // rows live (NULL: the CPU); the caller's, outlives the run
} rd_train_config;

// The schema's defaults (params.h).
void rd_train_config_defaults(rd_train_config *c);

typedef struct rd_train_result {
  rd_step_metrics *steps;  // this rank's steps
  int64_t num_steps;
  double final_loss, train_acc, valid_acc, test_acc;
  double seconds;          // wall time of the training steps (no evaluation)
  int64_t preload_rows;    // rows fetched to fill the buffer before the first step
  int64_t capacity, halo_size;
  rd_decision *decisions;  // this rank's agent decisions (none for fixed policies)
  int64_t num_decisions;
  int weights_identical;   // every rank ends with bit-identical parameters
  uint64_t weights_digest; // a hash of the final parameters' bits (rank 0's)
  int lookahead;           // K of the sample-ahead window
  int64_t window_peak_bytes;     // most bytes the window held at once
  double window_bytes_per_step;  // mean bytes one sampled step holds in the window
} rd_train_result;

// Collective over `comm`. Returns -1 with rd_error() set on bad input (the
// same on every rank where the input is shared).
int rd_train(MPI_Comm comm, const rd_train_config *cfg, rd_train_result *res);
void rd_train_result_free(rd_train_result *res);

// Everything every rank recorded, gathered on rank 0. Collective; on other
// ranks the outputs stay empty. `totals` = {preload rows, capacity, halo size}
// summed over ranks. The caller frees *steps, *decisions and each raw.
typedef struct rd_gathered {
  rd_step_metrics *steps;
  int64_t num_steps;
  rd_rank_decision *decisions;
  int64_t num_decisions;
  int64_t preload_rows, capacity, halo_size;
  int64_t window_peak_bytes;     // the most of any rank
  double window_bytes_per_step;  // the mean over ranks
} rd_gathered;
int rd_train_gather(MPI_Comm comm, const rd_train_result *res, rd_gathered *out);
void rd_gathered_free(rd_gathered *g);

// Writes the gathered steps as CSV (rank 0).
int rd_train_write_steps_csv(const rd_gathered *g, const char *path);

#endif
