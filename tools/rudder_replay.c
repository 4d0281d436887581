// rudder_replay: policies on recorded traces, no training.
//   rudder_replay run.trace.0 [run.trace.1 ...] --policy all --buffer-fraction 0.25
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/replay.h"
#include "cli.h"
#include "error.h"
#include "registry.h"
#include "train/params.h"

static void usage(FILE *f) {
  fprintf(f, "usage: rudder_replay TRACE... [options]\n");
  rd_params_usage(f, RD_TOOL_REPLAY);
  fprintf(f,
          "replay:\n"
          "  --policy NAME[,NAME...]|all      the policies to replay (all: Belady and every fixed\n"
          "                                   baseline; agents are named explicitly)\n"
          "  --steps-csv FILE                 per-step lines (single policy and trace only)\n"
          "  --step-seconds S                 pace the replay to S s per step, so an LLM agent\n"
          "                                   answers as late (in steps) as in a run with such steps\n"
          "  -h, --help\n"
          "With --net-gbps, 'projected s' is the alpha-beta cost of the rows fetched.\n");
}

int main(int argc, char **argv) {
  rd_train_config tc;
  rd_train_config_defaults(&tc);
  rd_prefetch_config cfg;
  const char *policies = "all", *steps_csv = NULL;
  double step_seconds = 0;
  static const struct option extra[] = {{"policy", 1, 0, 'P'}, {"steps-csv", 1, 0, 'c'},
                                        {"step-seconds", 1, 0, 'S'}, {"help", 0, 0, 'h'},
                                        {0, 0, 0, 0}};
  rd_cli cli;
  int c, rc = rd_cli_init(&cli, RD_TOOL_REPLAY, extra);
  while (rc == 0 && (c = rd_cli_next(&cli, argc, argv, &tc)) != -1) {
    switch (c) {
    case 0: break;  // a schema row, applied
    case 'P': policies = optarg; break;
    case 'c': steps_csv = optarg; break;
    case 'S': rc = rd_parse_number("step-seconds", optarg, 0, 3600, &step_seconds); break;
    case 'h': usage(stdout); return 0;
    default: rc = -1; break;
    }
  }
  if (rc) {
    fprintf(stderr, "rudder_replay: %s\n", rd_error());
    return 2;
  }
  if (optind == argc) {
    fprintf(stderr, "rudder_replay: no trace given (see --help)\n");
    return 2;
  }
  rd_params_resolve(&tc);
  cfg = tc.prefetch;
  cfg.params.lookahead = tc.lookahead;  // the future a policy that reads it is shown
  const rd_net_model net = tc.net;
  // The policies to run, Belady first: the others are reported against it.
  const rd_policy_ops *run[64];
  int nrun = 0;
  if (strcmp(policies, "all") == 0) {  // every fixed baseline; agents (they log decisions) are named explicitly
    run[nrun++] = rd_policy_find("belady");
    for (int i = 0; rd_policy_at(i) && nrun < 64; i++)
      if (rd_policy_at(i) != run[0] && !rd_policy_at(i)->drain) run[nrun++] = rd_policy_at(i);
  } else {
    char *list = strdup(policies);
    for (char *tok = strtok(list, ","); tok && nrun < 64; tok = strtok(NULL, ",")) {
      if (!(run[nrun++] = rd_policy_find(tok))) {
        fprintf(stderr, "rudder_replay: %s\n", rd_error());
        free(list);
        return 2;
      }
    }
    free(list);
  }
  if (steps_csv && (nrun != 1 || argc - optind != 1)) {
    fprintf(stderr, "rudder_replay: --steps-csv needs exactly one policy and one trace\n");
    return 2;
  }
  for (int f = optind; f < argc; f++) {
    rd_trace t;
    if (rd_trace_load(&t, argv[f])) {
      fprintf(stderr, "rudder_replay: %s\n", rd_error());
      return 1;
    }
    printf("%s: rank %d of %d, %lld steps, halo %lld nodes\n", argv[f], t.info.rank, t.info.parts,
           (long long)t.steps, (long long)t.halo_size);
    // Preloading is fetching too: policies are compared on rows moved.
    printf("  %-10s %9s %12s %12s %8s %12s %10s %12s %9s %12s %8s\n", "policy", "capacity",
           "accesses", "hits", "hit rate", "rows fetched", "preloaded", "rows moved", "vs belady",
           "projected s", "replay s");
    double optimum = 0;
    for (int i = 0; i < nrun; i++) {
      cfg.policy = run[i];
      rd_replay_result r;
      FILE *out = steps_csv ? fopen(steps_csv, "w") : NULL;
      if (steps_csv && !out) {
        fprintf(stderr, "rudder_replay: %s: cannot create\n", steps_csv);
        return 1;
      }
      rc = rd_replay(&t, &cfg, &net, step_seconds, &r, out);
      if (out) fclose(out);
      if (rc) {
        fprintf(stderr, "rudder_replay: %s: policy %s: %s\n", argv[f], run[i]->name, rd_error());
        rd_trace_free(&t);
        return 1;
      }
      const int64_t moved = r.rows_fetched + r.preload_rows;
      if (run[i]->flags & RD_POLICY_OFFLINE) optimum = (double)moved;
      char ratio[32] = "-";
      if (optimum > 0) snprintf(ratio, sizeof ratio, "%.3f", (double)moved / optimum);
      printf("  %-10s %9lld %12lld %12lld %8.4f %12lld %10lld %12lld %9s %12.4f %8.2f\n",
             run[i]->name, (long long)r.capacity, (long long)r.accesses, (long long)r.hits,
             r.accesses ? (double)r.hits / (double)r.accesses : 0.0, (long long)r.rows_fetched,
             (long long)r.preload_rows, (long long)moved, ratio, r.comm_seconds, r.seconds);
      if (r.decisions > 0)
        printf("  %-10s decisions %lld: valid %lld, fallback %lld, applied %lld; latency mean %.3f "
               "p50 %.3f p95 %.3f s\n", "", (long long)r.decisions, (long long)r.decisions_valid,
               (long long)r.decisions_fallback, (long long)r.decisions_applied, r.decision_latency,
               r.decision_latency_p50, r.decision_latency_p95);
    }
    rd_trace_free(&t);
  }
  return 0;
}
