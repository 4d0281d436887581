// rudder_train: one MPI rank per partition.
//   mpirun -np 4 rudder_train --graph data/small.rdg --partition data/small.metis4 [options]
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "error.h"
#include "registry.h"
#include "results.h"
#include "train/params.h"
#ifdef RUDDER_HAVE_CUDA
#include "backend/cuda.h"
#endif

static void usage(FILE *f) {
  fprintf(f, "usage: mpirun -np P rudder_train --graph G.rdg --partition DIR [options]\n");
  rd_params_usage(f, RD_TOOL_TRAIN);
  fprintf(f,
          "output:\n"
          "  --steps-csv FILE                 per-step metrics of every rank\n"
          "  --results FILE.h5 --run-id ID    the run's group in FILE.h5 (docs/RESULTS.md)\n"
          "  --attr KEY=VALUE                 a label of the run (experiment, graph, label, ...)\n"
          "  --print-config                   print the resolved configuration as a descriptor\n"
          "                                   fragment and exit\n"
          "  --no-verify                      skip the checksums when loading\n"
          "  -h, --help\n"
          "{key}: the descriptor key of a parameter (run_experiment, docs/RESULTS.md).\n");
}

// Collective (the CUDA backend sets NCCL up across the ranks).
static rd_backend *make_backend(int device) {
  if (device != 1) return rd_backend_cpu_create(device == 2);
#ifdef RUDDER_HAVE_CUDA
  return rd_cuda_backend_create(MPI_COMM_WORLD);
#else
  rd_error_set("--device cuda: this build has no CUDA backend (configure with -DRUDDER_CUDA=ON)");
  return NULL;
#endif
}

int main(int argc, char **argv) {
  int provided, rank;
  rd_cpu_fix_blas(argv);  // may re-execute this program: before anything else
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) rd_cpu_check_threads(stderr, "rudder_train (rank 0)");
  rd_train_config cfg;
  rd_train_config_defaults(&cfg);
  rd_prefetch_config *pc = &cfg.prefetch;
  const char *steps_csv = NULL, *results = NULL, *run_id = "run";
  enum { MAX_ATTRS = 64 };
  char *keys[MAX_ATTRS], *values[MAX_ATTRS];
  int num_attrs = 0, print_config = 0, c, rc = 0;
  static const struct option extra[] = {
      {"steps-csv", 1, 0, 'c'}, {"results", 1, 0, 'o'}, {"run-id", 1, 0, 'I'},
      {"attr", 1, 0, 'k'},      {"no-verify", 0, 0, 'V'}, {"print-config", 0, 0, 'C'},
      {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
  rd_cli cli;
  rc = rd_cli_init(&cli, RD_TOOL_TRAIN, extra);
  while (rc == 0 && (c = rd_cli_next(&cli, argc, argv, &cfg)) != -1) {
    switch (c) {
    case 0: break;  // a schema row, applied
    case 'c': steps_csv = optarg; break;
    case 'o': results = optarg; break;
    case 'I': run_id = optarg; break;
    case 'V': cfg.verify = 0; break;
    case 'C': print_config = 1; break;
    case 'k': {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || num_attrs == MAX_ATTRS) {
        rc = rd_error_set("--attr: '%s' is not KEY=VALUE (at most %d)", optarg, MAX_ATTRS);
        break;
      }
      keys[num_attrs] = strndup(optarg, (size_t)(eq - optarg));
      values[num_attrs++] = eq + 1;
      break;
    }
    case 'h':
      if (rank == 0) usage(stdout);
      MPI_Finalize();
      return 0;
    default: rc = -1; break;
    }
  }
  if (rc == 0 && optind != argc) rc = rd_error_set("unexpected argument '%s' (see --help)", argv[optind]);
  if (rc == 0) rc = (pc->policy = rd_policy_find(cfg.policy_name)) ? 0 : rd_error_wrap("--policy");
  if (rc == 0) {
    rd_params_resolve(&cfg);
    pc->init = rd_prefetch_init_of(pc);  // what ran, not "the policy's"
  }
  if (rc != 0) {
    if (rank == 0) fprintf(stderr, "rudder_train: %s\n", rd_error());
    for (int i = 0; i < num_attrs; i++) free(keys[i]);
    MPI_Finalize();
    return 2;
  }
  int labelled = 0;  // a run outside run_experiment is labelled by its policy
  for (int i = 0; i < num_attrs; i++) labelled |= !strcmp(keys[i], "label");
  if (!labelled && num_attrs < MAX_ATTRS) {
    keys[num_attrs] = strdup("label");
    values[num_attrs++] = (char *)cfg.policy_name;
  }
  if (print_config) {
    if (rank == 0) rd_params_print_ini(stdout, &cfg);
    for (int i = 0; i < num_attrs; i++) free(keys[i]);
    MPI_Finalize();
    return 0;
  }
  if (rc == 0 && (!cfg.graph_path || !cfg.partition_dir))
    rc = rd_error_set("--graph and --partition are required (see --help)");
  if (rc == 0) rc = (cfg.backend = make_backend(cfg.device)) ? 0 : -1;
  rd_train_result res;
  if (rc == 0) rc = rd_train(MPI_COMM_WORLD, &cfg, &res);
  rd_gathered all = {0};
  if (rc == 0 && (steps_csv || results)) rc = rd_train_gather(MPI_COMM_WORLD, &res, &all);
  if (rc == 0 && rank == 0 && steps_csv) rc = rd_train_write_steps_csv(&all, steps_csv);
  if (rc == 0 && rank == 0 && results) {
    int ranks;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    const rd_run_record rec = {.run_id = run_id, .config = &cfg, .attr_keys = (const char *const *)keys,
                               .attr_values = (const char *const *)values, .num_attrs = num_attrs,
                               .ranks = ranks, .steps_run = res.num_steps, .seconds = res.seconds,
                               .final_loss = res.final_loss, .train_acc = res.train_acc,
                               .valid_acc = res.valid_acc, .test_acc = res.test_acc,
                               .weights_identical = res.weights_identical,
                               .steps = all.steps, .num_steps = all.num_steps,
                               .decisions = all.decisions, .num_decisions = all.num_decisions,
                               .preload_rows = all.preload_rows, .capacity = all.capacity,
                               .halo_size = all.halo_size,
                               .window_peak_bytes = all.window_peak_bytes,
                               .window_bytes_per_step = all.window_bytes_per_step};
    rc = rd_results_write_run(results, &rec);
  }
  rd_gathered_free(&all);
  for (int i = 0; i < num_attrs; i++) free(keys[i]);
  if (rc != 0) {
    fprintf(stderr, "rudder_train (rank %d): %s\n", rank, rd_error());
    if (cfg.backend) cfg.backend->destroy(cfg.backend);
    MPI_Finalize();
    return 1;
  }
  // rows fetched, bytes received, remote inputs, buffer hits, preload rows
  int64_t totals[5] = {0, 0, 0, 0, res.preload_rows};
  for (int64_t i = 0; i < res.num_steps; i++) {
    totals[0] += res.steps[i].rows_fetched;
    totals[1] += res.steps[i].bytes_received;
    totals[2] += res.steps[i].remote_inputs;
    totals[3] += res.steps[i].buffer.hits;
  }
  MPI_Allreduce(MPI_IN_PLACE, totals, 5, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  // The window's memory: bytes per sampled step (mean over ranks), the most held by a rank.
  double per_step = res.window_bytes_per_step;
  int64_t peak = res.window_peak_bytes;
  MPI_Allreduce(MPI_IN_PLACE, &per_step, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &peak, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  int ranks;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (rank == 0)
    printf("done: %lld steps in %.2f s | %s on %s, policy %s | loss %.4f | accuracy train %.4f valid %.4f "
           "test %.4f | rows fetched %lld (%.1f MB) + %lld preloaded | buffer hit rate %.4f | "
           "weights identical across ranks: %s (digest %016llx) | lookahead %d: window %.1f KB per step, "
           "peak %.1f KB\n",
           (long long)res.num_steps, res.seconds, rd_model_kind_name(cfg.model.kind),
           cfg.backend->name,
           pc->policy->name, res.final_loss, res.train_acc, res.valid_acc, res.test_acc,
           (long long)totals[0], (double)totals[1] / 1e6, (long long)totals[4],
           totals[2] ? (double)totals[3] / (double)totals[2] : 0.0,
           res.weights_identical ? "yes" : "NO", (unsigned long long)res.weights_digest, cfg.lookahead, per_step / ranks / 1e3,
           (double)peak / 1e3);
  rd_train_result_free(&res);
  cfg.backend->destroy(cfg.backend);
  MPI_Finalize();
  return 0;
}
