// Experiment descriptors (exp/*.ini), parsed with inih and checked before
// anything runs: every unknown section or key, bad value or missing
// reference is an error naming the file, line and key.
#ifndef RUDDER_DESCRIPTOR_H
#define RUDDER_DESCRIPTOR_H

#include <stdint.h>

#define RD_MAX_LIST 32
#define RD_MAX_SPECS 32

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

typedef struct rd_model_spec {
  char name[64];
  char *kind, *fanouts;               // sage|gat|mlp; "10,25"
  int hidden, heads, batch_size, epochs, eval_nodes;
  double lr, dropout;
  int64_t max_steps;
} rd_model_spec;

typedef struct rd_policy_spec {
  char name[64];                      // as listed in the sweep
  char *policy;                       // the registered policy (default: name)
  char *options;                      // agents: endpoint=...,model=...
  char *init;                         // initial fill: empty|degree|random|vip
  double alpha, replace_fraction;
  int64_t delta, period;
  int lookahead;                      // K: steps sampled ahead, the window the policy sees
} rd_policy_spec;

typedef struct rd_experiment {
  char *path, *name, *results, *data_dir;
  int timeout, plots, traces;  // traces: record every run's access traces
  char *graphs[RD_MAX_LIST], *models[RD_MAX_LIST], *policies[RD_MAX_LIST];
  int ranks[RD_MAX_LIST];
  double fractions[RD_MAX_LIST];
  int64_t seeds[RD_MAX_LIST];
  int num_graphs, num_ranks, num_models, num_policies, num_fractions, num_seeds;
  int graphs_line, models_line, policies_line;  // where the lists were given, for errors
  rd_graph_spec graph[RD_MAX_SPECS];
  rd_model_spec model[RD_MAX_SPECS];
  rd_policy_spec policy[RD_MAX_SPECS];
  int num_graph_specs, num_model_specs, num_policy_specs;
  double latency_us, gbps;
  char *hostfile, *mpi_args;
  char *device;  // rudder_train --device (NULL: cpu)
} rd_experiment;

// On failure too, free what was parsed with rd_experiment_free.
int rd_experiment_load(rd_experiment *e, const char *path);
void rd_experiment_free(rd_experiment *e);

const rd_graph_spec *rd_experiment_graph(const rd_experiment *e, const char *name);
const rd_model_spec *rd_experiment_model(const rd_experiment *e, const char *name);
const rd_policy_spec *rd_experiment_policy(const rd_experiment *e, const char *name);

#endif
