// Results in HDF5, readable by h5py/pandas without this code
// (docs/RESULTS.md): one group /runs/<id> per run with an attribute per
// parameter and three tables, `summary` (one row), `steps` (one row per rank
// and step) and `decisions` (one row per agent decision).
#ifndef RUDDER_RESULTS_H
#define RUDDER_RESULTS_H

#include <stdint.h>

#include "train/metrics.h"

struct rd_train_config;

// Everything one run produced, gathered on rank 0.
typedef struct rd_run_record {
  const char *run_id;
  // What ran: every run parameter of the schema (train/params.h) becomes an
  // attribute, typed, from the resolved configuration.
  const struct rd_train_config *config;
  const char *const *attr_keys;    // labels of the run (experiment, graph, label, ...); numbers
  const char *const *attr_values;  // are stored as numbers
  int num_attrs;
  int ranks;
  int64_t steps_run;               // steps of one rank
  double seconds, final_loss, train_acc, valid_acc, test_acc;  // rank 0's
  int weights_identical;
  const rd_step_metrics *steps;    // every rank's steps
  int64_t num_steps;
  const rd_rank_decision *decisions;
  int64_t num_decisions;
  int64_t preload_rows, capacity, halo_size;  // summed over ranks
  int64_t window_peak_bytes;       // the sample-ahead window: most held by a rank
  double window_bytes_per_step;    // and bytes per sampled step (mean over ranks)
} rd_run_record;

// Writes (replacing) group /runs/<run_id> in `path` (created if absent).
int rd_results_write_run(const char *path, const rd_run_record *run);

// Copies every run of `src` into `dst` atomically: dst is rewritten as
// <dst>.tmp and renamed, so a kill at any moment leaves the old or the new
// file, never a broken one. Runs already in dst with the same id are replaced.
int rd_results_merge(const char *dst, const char *src);

// Whether `path` holds /runs/<run_id> as a completed run (0 when the file
// does not exist, or the run is recorded as failed or timed out).
int rd_results_has_run(const char *path, const char *run_id);



// Records a run that failed or timed out: its parameters, status and the
// tail of its log, and no tables.
int rd_results_write_failed(const char *path, const char *run_id,
                            const struct rd_train_config *config, const char *const *keys,
                            const char *const *values, int num_attrs, const char *status,
                            const char *log_tail);
#endif
