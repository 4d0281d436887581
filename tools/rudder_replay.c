// rudder_replay: policies on recorded traces, no training.
//   rudder_replay run.trace.0 [run.trace.1 ...] --policy all --buffer-fraction 0.25
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/replay.h"
#include "cli.h"
#include "error.h"
#include "registry.h"

static int usage(void) {
  fprintf(stderr,
          "usage: rudder_replay TRACE... [--policy NAME[,NAME...]|all] (all)\n"
          "  --buffer-fraction F of the halo (0.25) | --buffer-rows N\n"
          "  --alpha A (0.05)  --delta D (25)  --period P (delta)  --replace-fraction F (0)\n"
          "  --net-latency-us A (2)  --net-gbps B (25): alpha-beta model of projected time\n"
          "  --steps-csv FILE  per-step lines (single policy and trace only)\n"
          "  --buffer-init empty|degree|random|vip  (default: each policy's; belady starts empty)\n"
          "  --lookahead K (0)  future steps a policy that reads it is shown (lookahead)\n"
          "  --policy-options K=V,...  for agents (model=PATH for classifiers, endpoint=... for llm)\n"
          "  --step-seconds S  pace the replay to S s per step, so an LLM agent answers as late\n"
          "                    (in steps) as in a run with such steps; its decisions are summed up\n"
          "`all` runs Belady and every fixed baseline; agents are named explicitly.\n");
  return 2;
}

int main(int argc, char **argv) {
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  rd_net_model net = {.latency_us = 2, .gbps = 25};  // a Perlmutter-class link
  const char *policies = "all", *steps_csv = NULL;
  double step_seconds = 0;
  static const struct option opts[] = {
      {"policy", 1, 0, 'P'}, {"buffer-fraction", 1, 0, 'F'}, {"buffer-rows", 1, 0, 'R'},
      {"alpha", 1, 0, 'x'},  {"delta", 1, 0, 'D'},           {"period", 1, 0, 'T'},
      {"replace-fraction", 1, 0, 'r'}, {"net-latency-us", 1, 0, 'A'}, {"net-gbps", 1, 0, 'B'},
      {"steps-csv", 1, 0, 'c'}, {"buffer-init", 1, 0, 'i'}, {"policy-options", 1, 0, 'O'},
      {"step-seconds", 1, 0, 'S'}, {"lookahead", 1, 0, 'K'}, {0, 0, 0, 0}};
  int c, idx, rc = 0;
  double v;
  while (rc == 0 && (c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
    const char *name = opts[idx].name;
    switch (c) {
    case 'P': policies = optarg; break;
    case 'F': rc = rd_parse_number(name, optarg, 0, 1, &cfg.capacity_fraction); break;
    case 'R': rc = rd_parse_number(name, optarg, 0, 2e9, &v); cfg.capacity_rows = (int64_t)v; break;
    case 'x': rc = rd_parse_number(name, optarg, 1e-6, 0.999, &cfg.alpha); break;
    case 'D': rc = rd_parse_number(name, optarg, 1, 1e9, &v); cfg.delta = (int64_t)v; break;
    case 'T': rc = rd_parse_number(name, optarg, 1, 1e9, &v); cfg.params.period = (int64_t)v; break;
    case 'r': rc = rd_parse_number(name, optarg, 0, 1, &cfg.params.fraction); break;
    case 'A': rc = rd_parse_number(name, optarg, 0, 1e6, &net.latency_us); break;
    case 'B': rc = rd_parse_number(name, optarg, 0, 1e6, &net.gbps); break;
    case 'c': steps_csv = optarg; break;
    case 'i': rc = rd_buffer_start_parse(optarg, &cfg.init); break;
    case 'O': cfg.params.options = optarg; break;
    case 'S': rc = rd_parse_number(name, optarg, 0, 3600, &step_seconds); break;
    case 'K': rc = rd_parse_number(name, optarg, 0, 1e5, &v); cfg.params.lookahead = (int32_t)v; break;
    default: return usage();
    }
  }
  if (rc) {
    fprintf(stderr, "rudder_replay: %s\n", rd_error());
    return 2;
  }
  if (optind == argc) return usage();
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
