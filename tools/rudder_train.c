// rudder_train: one MPI rank per partition.
//   mpirun -np 4 rudder_train --graph data/small.rdg --partition data/small.metis4 [options]
#include <errno.h>
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "registry.h"
#include "results.h"
#include "sampler/sampler.h"
#include "train/train.h"
#ifdef RUDDER_HAVE_CUDA
#include "backend/cuda.h"
#endif

static void usage(void) {
  fprintf(stderr,
          "usage: mpirun -np P rudder_train --graph G.rdg --partition DIR [options]\n"
          "  --model sage|gat|mlp   (sage)       --fanouts 10,25 (input layer first)\n"
          "  --batch-size N  seeds per rank per step (2000)\n"
          "  --hidden N (256)  --heads N (4, GAT)  --dropout P (0.5)  --lr X (0.003)\n"
          "  --epochs N (10)  --max-steps N  --eval-every E (end only)  --eval-nodes N (all)\n"
          "  --seed S (1)  --net-latency-us A  --net-gbps B  (alpha-beta network emulation, off)\n"
          "  --steps-csv FILE  per-step metrics of every rank  --no-verify  --quiet\n"
          "  --device cpu|cuda|cpu-staged (cpu)  cuda: one GPU per rank, shared round-robin when\n"
          "           fewer; cpu-staged: the CPU driven as a device (tests the GPU code paths)\n"
          "  --overlap  GPU: the next step's sampling and fetch overlap this step's backward\n"
          "  --lookahead K (0)  sample K steps ahead (across epochs): the remote inputs of steps\n"
          "           t..t+K are known at step t; training is identical for any K\n"
          "  --replicate-features  every rank loads every feature row from G.rdg: no exchange,\n"
          "           the zero-communication bound (policy none)\n"
          "  --fetch-barrier  diagnostic: time a barrier before each exchange apart (t_skew)\n"
          "persistent buffer:\n"
          "  --policy NAME (none)  --buffer-fraction F of the halo (0.25) | --buffer-rows N\n"
          "  --alpha A (0.05)  --delta D (25: staleness age, window)  --period P (delta)\n"
          "  --replace-fraction F (0: every stale slot)  --record-trace PREFIX (writes PREFIX.<rank>)\n"
          "  --policy-options K=V,...  (agents: endpoint, model, ...)\n"
          "  --buffer-init empty|degree|random|vip  (default: the policy's)\n"
          "results:\n"
          "  --results FILE.h5 --run-id ID [--attr KEY=VALUE ...]  (docs/RESULTS.md)\n");
}

// Collective (the CUDA backend sets NCCL up across the ranks).
static rd_backend *make_backend(const char *device) {
  if (strcmp(device, "cpu") == 0) return rd_backend_cpu_create(0);
  if (strcmp(device, "cpu-staged") == 0) return rd_backend_cpu_create(1);
  if (strcmp(device, "cuda") == 0) {
#ifdef RUDDER_HAVE_CUDA
    return rd_cuda_backend_create(MPI_COMM_WORLD);
#else
    rd_error_set("--device cuda: this build has no CUDA backend (configure with -DRUDDER_CUDA=ON)");
    return NULL;
#endif
  }
  rd_error_set("--device: '%s' is not cpu, cuda or cpu-staged", device);
  return NULL;
}

int main(int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  rd_train_config cfg;
  rd_train_config_defaults(&cfg);
  rd_prefetch_config *pc = &cfg.prefetch;
  pc->policy = rd_policy_find("none");
  const char *steps_csv = NULL;
  static const struct option opts[] = {
      {"graph", 1, 0, 'g'},      {"partition", 1, 0, 'p'}, {"model", 1, 0, 'm'},
      {"fanouts", 1, 0, 'f'},    {"batch-size", 1, 0, 'b'}, {"hidden", 1, 0, 'H'},
      {"heads", 1, 0, 'a'},      {"dropout", 1, 0, 'd'},   {"lr", 1, 0, 'l'},
      {"epochs", 1, 0, 'e'},     {"max-steps", 1, 0, 'M'}, {"eval-every", 1, 0, 'E'},
      {"eval-nodes", 1, 0, 'N'}, {"seed", 1, 0, 's'},      {"net-latency-us", 1, 0, 'A'},
      {"net-gbps", 1, 0, 'B'},   {"steps-csv", 1, 0, 'c'}, {"no-verify", 0, 0, 'V'},
      {"quiet", 0, 0, 'q'},      {"help", 0, 0, 'h'},      {"policy", 1, 0, 'P'},
      {"buffer-fraction", 1, 0, 'F'}, {"buffer-rows", 1, 0, 'R'}, {"alpha", 1, 0, 'x'},
      {"delta", 1, 0, 'D'},      {"period", 1, 0, 'T'},    {"replace-fraction", 1, 0, 'r'},
      {"record-trace", 1, 0, 't'}, {"policy-options", 1, 0, 'O'}, {"buffer-init", 1, 0, 'i'}, {"results", 1, 0, 'o'},
      {"run-id", 1, 0, 'I'},     {"attr", 1, 0, 'k'},      {"device", 1, 0, 'G'},
      {"overlap", 0, 0, 'L'},    {"lookahead", 1, 0, 'K'}, {"replicate-features", 0, 0, 'X'},
      {"fetch-barrier", 0, 0, 'Y'},
      {0, 0, 0, 0}};
  const char *results = NULL, *run_id = "run", *device = "cpu";
  enum { MAX_ATTRS = 64 };
  char *keys[MAX_ATTRS], *values[MAX_ATTRS];
  int num_attrs = 0;
  int c, idx, rc = 0;
  double v;
  while (rc == 0 && (c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
    const char *name = opts[idx].name;
    switch (c) {
    case 'g': cfg.graph_path = optarg; break;
    case 'p': cfg.partition_dir = optarg; break;
    case 'm': rc = rd_model_kind_parse(optarg, &cfg.model.kind); break;
    case 'f': {
      int n = rd_parse_fanouts(optarg, cfg.fanouts, RD_MAX_LAYERS);
      if (n < 0) rc = -1;
      else cfg.num_layers = n;
      break;
    }
    case 'b': rc = rd_parse_number(name, optarg, 1, 1e8, &v); cfg.batch_size = (int)v; break;
    case 'H': rc = rd_parse_number(name, optarg, 1, 1e5, &v); cfg.model.hidden = (int)v; break;
    case 'a': rc = rd_parse_number(name, optarg, 1, 64, &v); cfg.model.heads = (int)v; break;
    case 'd': rc = rd_parse_number(name, optarg, 0, 0.99, &v); cfg.model.dropout = (float)v; break;
    case 'l': rc = rd_parse_number(name, optarg, 1e-8, 10, &cfg.lr); break;
    case 'e': rc = rd_parse_number(name, optarg, 1, 1e6, &v); cfg.epochs = (int)v; break;
    case 'M': rc = rd_parse_number(name, optarg, 0, 1e12, &v); cfg.max_steps = (int64_t)v; break;
    case 'E': rc = rd_parse_number(name, optarg, 0, 1e6, &v); cfg.eval_every = (int)v; break;
    case 'N': rc = rd_parse_number(name, optarg, 0, 1e12, &v); cfg.eval_nodes = (int64_t)v; break;
    case 's': rc = rd_parse_number(name, optarg, 0, 9e15, &v); cfg.seed = cfg.model.seed = (uint64_t)v; break;
    case 'A': rc = rd_parse_number(name, optarg, 0, 1e6, &cfg.net.latency_us); break;
    case 'B': rc = rd_parse_number(name, optarg, 0, 1e6, &cfg.net.gbps); break;
    case 'c': steps_csv = optarg; break;
    case 'V': cfg.verify = 0; break;
    case 'q': cfg.quiet = 1; break;
    case 'P': rc = (pc->policy = rd_policy_find(optarg)) ? 0 : -1; break;
    case 'F': rc = rd_parse_number(name, optarg, 0, 1, &pc->capacity_fraction); break;
    case 'R': rc = rd_parse_number(name, optarg, 0, 2e9, &v); pc->capacity_rows = (int64_t)v; break;
    case 'x': rc = rd_parse_number(name, optarg, 1e-6, 0.999, &pc->alpha); break;
    case 'D': rc = rd_parse_number(name, optarg, 1, 1e9, &v); pc->delta = (int64_t)v; break;
    case 'T': rc = rd_parse_number(name, optarg, 1, 1e9, &v); pc->params.period = (int64_t)v; break;
    case 'r': rc = rd_parse_number(name, optarg, 0, 1, &pc->params.fraction); break;
    case 't': cfg.record_trace = optarg; break;
    case 'O': pc->params.options = optarg; break;
    case 'i': rc = rd_buffer_start_parse(optarg, &pc->init); break;
    case 'o': results = optarg; break;
    case 'G': device = optarg; break;
    case 'L': cfg.overlap = 1; break;
    case 'K': rc = rd_parse_number(name, optarg, 0, 1e5, &v); cfg.lookahead = (int)v; break;
    case 'X': cfg.replicate_features = 1; break;
    case 'Y': cfg.fetch_barrier = 1; break;
    case 'I': run_id = optarg; break;
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
    default:
      if (rank == 0) usage();
      MPI_Finalize();
      return 2;
    }
  }
  if (rc == 0 && (!cfg.graph_path || !cfg.partition_dir || optind != argc))
    rc = rd_error_set("--graph and --partition are required (and nothing else positional)");
  if (rc == 0) rc = (cfg.backend = make_backend(device)) ? 0 : -1;
  rd_train_result res;
  if (rc == 0) rc = rd_train(MPI_COMM_WORLD, &cfg, &res);
  rd_gathered all = {0};
  if (rc == 0 && (steps_csv || results)) rc = rd_train_gather(MPI_COMM_WORLD, &res, &all);
  if (rc == 0 && rank == 0 && steps_csv) rc = rd_train_write_steps_csv(&all, steps_csv);
  if (rc == 0 && rank == 0 && results) {
    int ranks;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    const rd_run_record rec = {.run_id = run_id, .attr_keys = (const char *const *)keys,
                               .attr_values = (const char *const *)values, .num_attrs = num_attrs,
                               .res = &res, .ranks = ranks, .epochs = cfg.epochs,
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
