// The choice behind core/comm/exchange.c, measured: fetching remote feature
// rows with two MPI_Alltoallv rounds (ids out, rows back; what the trainer
// uses) against one-sided MPI_Get from a window over every rank's rows, one
// get per row, inside one passive-target epoch (lock_all, flush_all). Every
// rank asks for `requests` distinct random rows held by the other ranks, as
// a step's misses do; both ways must return the same bytes.
//
//   mpirun -np 4 bench_exchange [requests=10000] [F=100] [rows=25000] [steps=10]
//
// Prints, from rank 0, the median over `steps` of the slowest rank's time per
// step for each way and their ratio. No network emulation: this is what the
// MPI transport itself costs.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "comm/exchange.h"
#include "error.h"
#include "rng.h"

static int by_value(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

// The slowest rank's seconds since t0.
static double slowest(double t0) {
  double mine = MPI_Wtime() - t0, all;
  MPI_Allreduce(&mine, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return all;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) {
    printf("usage: mpirun -np R bench_exchange [REQUESTS [F [ROWS [STEPS]]]]\n"
           "  the feature exchange's Alltoallv against one-sided MPI_Get: REQUESTS remote rows of\n"
           "  F floats per rank and step (10000, 100), ROWS rows per rank (25000), STEPS (10)\n");
    return 0;
  }
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t requests = 10000, F = 100, rows = 25000, steps = 10;
  const char *names[] = {"requests", "F", "rows", "steps"};
  int64_t *values[] = {&requests, &F, &rows, &steps};
  for (int i = 1; i < argc && i <= 4; i++)
    if (rd_parse_int(names[i - 1], argv[i], 1, 100000000, values[i - 1])) {
      if (rank == 0) fprintf(stderr, "bench_exchange: %s\n", rd_error());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
  if (size < 2 || requests > rows * (size - 1)) {
    if (rank == 0) fprintf(stderr, "bench_exchange: needs 2+ ranks and requests <= rows x (ranks - 1)\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  // Row r of rank p holds p * rows + r in every column: a wrong row shows.
  float *mine = malloc((size_t)(rows * F) * sizeof *mine);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < F; j++) mine[r * F + j] = (float)(rank * rows + r);
  int32_t *owner = malloc((size_t)requests * sizeof *owner), *row = malloc((size_t)requests * sizeof *row);
  float *by_collective = malloc((size_t)(requests * F) * sizeof(float));
  float *by_get = malloc((size_t)(requests * F) * sizeof(float));
  double *t_collective = malloc((size_t)steps * sizeof(double)), *t_get = malloc((size_t)steps * sizeof(double));
  uint8_t *taken = calloc((size_t)(rows * size), 1);

  rd_exchange *x = rd_exchange_create(MPI_COMM_WORLD, mine, rows, (int)F, (rd_net_model){0});
  MPI_Win win;
  MPI_Win_create(mine, (MPI_Aint)(rows * F) * (MPI_Aint)sizeof(float), sizeof(float), MPI_INFO_NULL,
                 MPI_COMM_WORLD, &win);
  int bad = 0;
  for (int64_t s = 0; s < steps; s++) {
    // Distinct rows of other ranks, sorted by owner and row as a step's are.
    rd_rng g = rd_rng_stream((uint64_t)rank + 1, 0, (uint64_t)s);
    memset(taken, 0, (size_t)(rows * size));
    for (int64_t i = 0; i < requests;) {
      const int64_t id = (int64_t)rd_rng_below(&g, (uint64_t)(rows * size));
      if (id / rows == rank || taken[id]) continue;
      taken[id] = 1;
      i++;
    }
    for (int64_t id = 0, i = 0; id < rows * size; id++)
      if (taken[id]) owner[i] = (int32_t)(id / rows), row[i++] = (int32_t)(id % rows);

    rd_fetch_stats st = {0};
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    rd_exchange_fetch(x, requests, owner, row, by_collective, &st);
    t_collective[s] = slowest(t0);

    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
    for (int64_t i = 0; i < requests; i++)
      MPI_Get(by_get + i * F, (int)F, MPI_FLOAT, owner[i], (MPI_Aint)row[i] * F, (int)F, MPI_FLOAT, win);
    MPI_Win_flush_all(win);
    MPI_Win_unlock_all(win);
    t_get[s] = slowest(t0);

    for (int64_t i = 0; i < requests; i++)
      bad |= by_get[i * F] != (float)(owner[i] * rows + row[i]) ||
             memcmp(by_get + i * F, by_collective + i * F, (size_t)F * sizeof(float)) != 0;
  }
  int any_bad;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  qsort(t_collective, (size_t)steps, sizeof(double), by_value);
  qsort(t_get, (size_t)steps, sizeof(double), by_value);
  if (rank == 0) {
    const double a = t_collective[steps / 2], b = t_get[steps / 2];
    const double mb = (double)(requests * F) * sizeof(float) / 1e6;
    printf("ranks=%d requests=%lld F=%lld rows_per_rank=%lld alltoallv_ms=%.3f get_ms=%.3f "
           "get_over_alltoallv=%.2f MB_per_rank=%.1f rows_match=%s\n",
           size, (long long)requests, (long long)F, (long long)rows, 1e3 * a, 1e3 * b, b / a, mb,
           any_bad ? "NO" : "yes");
  }
  MPI_Win_free(&win);
  rd_exchange_free(x);
  free(mine); free(owner); free(row); free(by_collective); free(by_get);
  free(t_collective); free(t_get); free(taken);
  MPI_Finalize();
  return any_bad;
}
