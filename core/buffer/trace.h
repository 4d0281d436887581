// Access traces: one rank's exact sequence of per-step remote input sets,
// recorded by `rudder_train --record-trace` and replayed by `rudder_replay`.
// Self-contained: the halo (ids, owners, degrees, inclusion probabilities)
// travels with the trace, so a replay needs no graph or partition. Each
// step's set is sorted and delta-coded as LEB128 varints (docs/FORMAT.md).
#ifndef RUDDER_TRACE_H
#define RUDDER_TRACE_H

#include <stdint.h>

#include "graph/graph.h"
#include "graph/rdfile.h"

enum rd_trace_section {
  RD_T_BYTES = 1,   // uint8: the varint stream of all steps
  RD_T_STEP_PTR,    // int64[steps + 1]: byte offset of each step
  RD_T_COUNT,       // int32[steps]: accesses per step
  RD_T_HALO,        // int32[halo]: global ids, ascending
  RD_T_HALO_OWNER,  // int32[halo]
  RD_T_HALO_DEGREE, // int32[halo]
  RD_T_HALO_VIP,    // float32[halo]: inclusion probability under the run's fanouts
};

enum rd_trace_meta {
  RD_TM_RANK, RD_TM_PARTS, RD_TM_NODES, RD_TM_STEPS, RD_TM_SEED, RD_TM_FEATURES,
  RD_TM_BATCH, RD_TM_LAYERS, RD_TM_FANOUT0  // fanouts occupy RD_TM_FANOUT0 .. + layers - 1
};

typedef struct rd_trace_info {
  int32_t rank, parts, num_features, batch_size, num_layers;
  int32_t fanouts[8];
  int64_t num_nodes;
  uint64_t seed;
} rd_trace_info;

typedef struct rd_trace_writer rd_trace_writer;

rd_trace_writer *rd_trace_writer_open(const char *path, const rd_trace_info *info);
// Appends one step: `remote` ascending, distinct.
int rd_trace_writer_step(rd_trace_writer *w, const rd_node *remote, int64_t n);
// Writes the halo sections and finishes the file (atomically renamed).
int rd_trace_writer_close(rd_trace_writer *w, const rd_node *halo, const int32_t *owner,
                          const int32_t *degree, const float *vip, int64_t halo_size);
void rd_trace_writer_abort(rd_trace_writer *w);

typedef struct rd_trace {
  rd_trace_info info;
  int64_t steps, halo_size, max_count;
  const int64_t *step_ptr;
  const int32_t *count;
  const uint8_t *bytes;
  uint64_t num_bytes;
  const rd_node *halo;
  const int32_t *halo_owner, *halo_degree;
  const float *halo_vip;
  rd_file file;
} rd_trace;

int rd_trace_load(rd_trace *t, const char *path);
// The halo a trace carries, as the policies see it (rd_halo_view).
#define RD_TRACE_HALO(t)                                                              \
  {.ids = (t)->halo, .size = (t)->halo_size, .owner = (t)->halo_owner,                \
   .degree = (t)->halo_degree, .vip = (t)->halo_vip}
void rd_trace_free(rd_trace *t);
// Decodes step `s` into out[count[s]]; -1 with rd_error on a corrupt stream.
int rd_trace_step(const rd_trace *t, int64_t s, rd_node *out);

#endif
