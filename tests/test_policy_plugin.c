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

// The known window's view (rd_window.known_held, known_missing), as a
// LOOKAHEAD-rule policy that asks (RD_POLICY_SCORES) is shown it: the
// lookahead rule at its defaults, recording each decision point's window.
enum { PROBE_K = 4, PROBE_PERIOD = 3, PROBE_MAX = 4096 };
static rd_window probed[PROBE_MAX];
static int64_t num_probed;

static int probe_create(const rd_policy_params *p, void **state) {
  (void)p;
  *state = NULL;
  return 0;
}
static void probe_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  (void)state;
  *out = (rd_replace){.tune = 1, .window = p->lookahead, .prior = RD_PRIOR_VIP};
  if (w->step > 0 && w->step % p->period == 0 && num_probed < PROBE_MAX) probed[num_probed++] = *w;
}
static void probe_destroy(void *state) { (void)state; }
static const rd_policy_ops probe = {
    .name = "probe", .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_FUTURE | RD_POLICY_VIP | RD_POLICY_SCORES, .create = probe_create,
    .decide = probe_decide, .destroy = probe_destroy};

static int by_id(const void *a, const void *b) {
  const rd_node x = *(const rd_node *)a, y = *(const rd_node *)b;
  return (x > y) - (x < y);
}

// Checks every probed window against the trace: the buffered rows the
// window uses and the ones it lacks are the distinct halo nodes of steps
// [t, t + K]; the held counts grow with the reach and fit the buffer.
static int window_view_agrees(const rd_trace *t, int rank) {
  rd_node *ids = malloc(((size_t)t->max_count + 1) * (PROBE_K + 1) * sizeof *ids);
  int bad = !ids || num_probed < 2;
  for (int64_t d = 0; d < num_probed && !bad; d++) {
    const rd_window *w = &probed[d];
    int64_t n = 0;
    for (int64_t s = w->step; s <= w->step + PROBE_K && s < t->steps && !bad; s++) {
      bad = rd_trace_step(t, s, ids + n) != 0;
      n += t->count[s];
    }
    qsort(ids, (size_t)n, sizeof *ids, by_id);
    int64_t distinct = 0;
    for (int64_t i = 0; i < n; i++)
      distinct += (i == 0 || ids[i] != ids[i - 1]) && bsearch(&ids[i], t->halo, (size_t)t->halo_size, sizeof *ids, by_id);
    const int64_t *h = w->known_held;
    if (h[2] + w->known_missing != distinct || h[0] > h[1] || h[1] > h[2] || h[2] > w->capacity) {
      fprintf(stderr, "FAIL: rank %d, step %lld: held %lld/%lld/%lld + missing %lld, but %lld distinct halo nodes "
              "in the window (capacity %lld)\n", rank, (long long)w->step, (long long)h[0], (long long)h[1],
              (long long)h[2], (long long)w->known_missing, (long long)distinct, (long long)w->capacity);
      bad = 1;
    }
  }
  if (num_probed > 1 && probed[num_probed - 1].known_held[2] == 0) bad = 1;  // the buffer fills: rows held
  free(ids);
  if (!bad)
    printf("rank %d: window view at %lld decision points agrees with the trace\n", rank, (long long)num_probed);
  return bad;
}

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
  pc.policy = &probe;
  pc.params.lookahead = PROBE_K;
  pc.params.period = PROBE_PERIOD;
  rd_replay_result seen;
  if (rd_replay(&t, &pc, &net, 0, &seen, NULL)) {
    fprintf(stderr, "rank %d: replay failed: %s\n", rank, rd_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  bad |= window_view_agrees(&t, rank);
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
