// A policy is one plugin: tests/policy_fifo.c, a rule of its own defined
// only in a test source file, trains live under mpirun (recording traces),
// then each rank replays its trace with the same policy; rows fetched and
// preloaded agree exactly, and differ from LRU's on the same trace (the
// plugin's rule is the one in force).
//   mpirun -np R test_policy_plugin GRAPH.rdg PARTITION_DIR TRACE_PREFIX
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "buffer/replay.h"
#include "error.h"
#include "train/train.h"

extern const rd_policy_ops rd_policy_fifo, rd_policy_lru;

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc != 4) {
    if (rank == 0) fprintf(stderr, "usage: test_policy_plugin GRAPH PARTITION TRACE_PREFIX\n");
    MPI_Finalize();
    return 2;
  }
  rd_train_config cfg;
  rd_train_config_defaults(&cfg);
  cfg.graph_path = argv[1];
  cfg.partition_dir = argv[2];
  cfg.record_trace = argv[3];
  cfg.fanouts[0] = 5;
  cfg.fanouts[1] = 10;
  cfg.batch_size = 100;
  cfg.model.hidden = 16;
  cfg.epochs = 3;
  cfg.quiet = 1;
  cfg.prefetch.policy = &rd_policy_fifo;
  cfg.prefetch.capacity_fraction = 0.1;
  rd_train_result res;
  int bad = 0;
  if (rd_train(MPI_COMM_WORLD, &cfg, &res)) {
    fprintf(stderr, "rank %d: training with the plugin failed: %s\n", rank, rd_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int64_t live = 0, evicted = 0;
  for (int64_t i = 0; i < res.num_steps; i++) {
    live += res.steps[i].rows_fetched;
    evicted += res.steps[i].buffer.evicted;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s.%d", argv[3], rank);
  rd_trace t;
  rd_replay_result fifo, lru;
  rd_prefetch_config pc;
  rd_prefetch_config_defaults(&pc);
  pc.capacity_fraction = 0.1;
  const rd_net_model net = {0};
  pc.policy = &rd_policy_fifo;
  if (rd_trace_load(&t, path) || rd_replay(&t, &pc, &net, 0, &fifo, NULL)) {
    fprintf(stderr, "rank %d: replay failed: %s\n", rank, rd_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  pc.policy = &rd_policy_lru;
  if (rd_replay(&t, &pc, &net, 0, &lru, NULL)) {
    fprintf(stderr, "rank %d: replay failed: %s\n", rank, rd_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  rd_trace_free(&t);
  printf("rank %d: fifo live %lld rows (%lld evicted), replay %lld rows (%lld evicted); lru replay %lld rows\n",
         rank, (long long)live, (long long)evicted, (long long)fifo.rows_fetched,
         (long long)fifo.evicted, (long long)lru.rows_fetched);
  if (live != fifo.rows_fetched || res.preload_rows != fifo.preload_rows || evicted != fifo.evicted) {
    fprintf(stderr, "FAIL: rank %d: the plugin's live run and its replay differ\n", rank);
    bad = 1;
  }
  if (evicted == 0 || fifo.rows_fetched == lru.rows_fetched) {
    fprintf(stderr, "FAIL: rank %d: the plugin's rule did not act (evicted %lld, fifo %lld = lru %lld?)\n",
            rank, (long long)evicted, (long long)fifo.rows_fetched, (long long)lru.rows_fetched);
    bad = 1;
  }
  rd_train_result_free(&res);
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && !bad) printf("policy plugin: ok\n");
  MPI_Finalize();
  return bad;
}
