// Experiment descriptors (exp/*.ini), parsed with inih and checked before
// anything runs: every unknown section or key, bad value or missing
// reference is an error naming the file, line and key.
#ifndef RUDDER_DESCRIPTOR_H
#define RUDDER_DESCRIPTOR_H

#include <stdint.h>

#include "train/params.h"

#define RD_MAX_LIST 32
#define RD_MAX_SPECS 32

// Run parameters given in a descriptor: schema rows (train/params.h) with
// the text as written, checked once when read and passed through as is.
typedef struct rd_param_value {
  const rd_param *param;
  char *text;
} rd_param_value;

typedef struct rd_param_list {
  rd_param_value v[48];
  int n;
} rd_param_list;

// The text given for `key`, or NULL.
const char *rd_param_list_get(const rd_param_list *s, const char *key);

typedef struct rd_graph_spec {
  char name[64];
  char *preset, *file, *ogb, *split;  // exactly one of preset / file / ogb / snap / saint
  char *snap, *saint;                 // SNAP edge list; GraphSAINT directory (Reddit, Yelp)
  char *partition;                    // metis | random
  int hops;
  int64_t nodes, edges;               // generator overrides (0: the preset's)
  double scale;                       // generator: nodes = scale x the real (or preset) nodes,
                                      // mean degree kept (0: the preset's size)
  uint64_t seed;
} rd_graph_spec;

// [model NAME] and [policy NAME]: the schema's model and policy rows. A
// policy section's `policy` key names the registered policy (default: NAME).
typedef struct rd_model_spec {
  char name[64];
  rd_param_list params;
} rd_model_spec;

typedef struct rd_policy_spec {
  char name[64];  // as listed in the sweep: the run's label
  rd_param_list params;
} rd_policy_spec;

typedef struct rd_experiment {
  char *path, *name, *results, *data_dir;
  int timeout, plots, traces;  // traces: record every run's access traces
  char *graphs[RD_MAX_LIST], *models[RD_MAX_LIST], *policies[RD_MAX_LIST];
  int ranks[RD_MAX_LIST];
  char *fractions[RD_MAX_LIST], *seeds[RD_MAX_LIST];  // as written, checked by the schema
  int num_graphs, num_ranks, num_models, num_policies, num_fractions, num_seeds;
  int graphs_line, models_line, policies_line;  // where the lists were given, for errors
  rd_graph_spec graph[RD_MAX_SPECS];
  rd_model_spec model[RD_MAX_SPECS];
  rd_policy_spec policy[RD_MAX_SPECS];
  int num_graph_specs, num_model_specs, num_policy_specs;
  rd_param_list params;  // schema rows of [experiment] and [network]
  char *hostfile, *mpi_args;
} rd_experiment;

// On failure too, free what was parsed with rd_experiment_free.
int rd_experiment_load(rd_experiment *e, const char *path);
void rd_experiment_free(rd_experiment *e);

const rd_graph_spec *rd_experiment_graph(const rd_experiment *e, const char *name);
const rd_model_spec *rd_experiment_model(const rd_experiment *e, const char *name);
const rd_policy_spec *rd_experiment_policy(const rd_experiment *e, const char *name);

#endif
