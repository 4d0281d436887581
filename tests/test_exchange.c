// The feature exchange under mpirun (tests/test_exchange.sh): blocking and
// non-blocking fetches of random rows (repeats, ranks asking for nothing,
// ranks asked for nothing) return the owners' exact rows with identical
// counts, while other collectives run on another communicator in between;
// the network model charges a blocking fetch its whole modelled cost and an
// overlapped one at most that; misuse is refused.
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "comm/exchange.h"
#include "error.h"
#include "rng.h"

enum { F = 7, ROWS = 300, ROUNDS = 12 };

// Row r of rank p, column j.
static float value(int p, int64_t r, int j) { return (float)(p * 100000 + r * 10 + j); }

static void check_rows(const float *got, int64_t n, const int32_t *owner, const int32_t *row,
                       const char *how, int round) {
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < F; j++)
      CHECK(got[i * F + j] == value(owner[i], row[i], j), "%s fetch, round %d: request %lld (%d, %d) "
            "column %d holds %g", how, round, (long long)i, owner[i], row[i], j, got[i * F + j]);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CHECK(size >= 2, "run with 2 or more ranks");
  static float mine[ROWS * F];
  for (int64_t r = 0; r < ROWS; r++)
    for (int j = 0; j < F; j++) mine[r * F + j] = value(rank, r, j);
  MPI_Comm async_comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &async_comm);
  const rd_net_model net = {.latency_us = 3, .gbps = 5};
  rd_exchange *sync = rd_exchange_create(MPI_COMM_WORLD, mine, ROWS, F, net);
  rd_exchange *async = rd_exchange_create(async_comm, mine, ROWS, F, net);

  static int32_t owner[4 * ROWS], row[4 * ROWS];
  static float a[4 * ROWS * F], b[4 * ROWS * F];
  for (int round = 0; round < ROUNDS; round++) {
    rd_rng r = rd_rng_stream(7, (uint64_t)rank, (uint64_t)round);
    // Rank 1 asks for nothing in even rounds; in round 3 everyone asks rank 0 only.
    const int64_t n = rank == 1 && round % 2 == 0 ? 0 : (int64_t)rd_rng_below(&r, 4 * ROWS);
    for (int64_t i = 0; i < n; i++) {
      do owner[i] = round == 3 && rank != 0 ? 0 : (int32_t)rd_rng_below(&r, (uint64_t)size);
      while (owner[i] == rank);
      row[i] = (int32_t)rd_rng_below(&r, ROWS);  // repeats happen: each is served
    }
    rd_fetch_stats s = {0}, t = {0};
    CHECK(rd_exchange_fetch(sync, n, owner, row, a, &s) == 0, "%s", rd_error());
    check_rows(a, n, owner, row, "blocking", round);
    memset(b, 0, sizeof b);
    CHECK(rd_exchange_start(async, n, owner, row, b) == 0, "%s", rd_error());
    CHECK(rd_exchange_start(async, n, owner, row, b) != 0, "a second start while one is in flight");
    CHECK(rd_exchange_fetch(async, n, owner, row, b, &t) != 0, "a blocking fetch while one is in flight");
    // Collectives on the other communicator while the fetch is in flight,
    // with progress calls between them (as the train loop computes).
    for (int k = 0; k < 3; k++) {
      double x = rank, sum;
      MPI_Allreduce(&x, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      CHECK(sum == size * (size - 1) / 2.0, "allreduce beside the fetch");
      CHECK(rd_exchange_progress(async) == 0, "%s", rd_error());
    }
    CHECK(rd_exchange_finish(async, &t) == 0, "%s", rd_error());
    CHECK(rd_exchange_finish(async, &t) != 0, "finish with nothing started");
    check_rows(b, n, owner, row, "non-blocking", round);
    CHECK(s.rows_fetched == n && t.rows_fetched == n, "rows fetched %lld / %lld, asked %lld",
          (long long)s.rows_fetched, (long long)t.rows_fetched, (long long)n);
    CHECK(s.rows_served == t.rows_served && s.bytes_sent == t.bytes_sent &&
          s.bytes_received == t.bytes_received && s.messages == t.messages,
          "round %d: the two ways count differently", round);
    // Every row served is one asked for: the totals over ranks agree.
    int64_t asked_served[2] = {s.rows_fetched, s.rows_served};
    MPI_Allreduce(MPI_IN_PLACE, asked_served, 2, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CHECK(asked_served[0] == asked_served[1], "%lld rows asked, %lld served",
          (long long)asked_served[0], (long long)asked_served[1]);
    const double cost = rd_net_cost(&net, s.messages, s.bytes_sent + s.bytes_received);
    CHECK(s.emulated_seconds > 0.999999 * cost && s.emulated_seconds < 1.000001 * cost,
          "blocking: emulated %g s, modelled %g s", s.emulated_seconds, cost);
    CHECK(t.emulated_seconds <= 1.000001 * cost, "overlapped: emulated %g s of a %g s model",
          t.emulated_seconds, cost);
    CHECK(s.emulated_seconds <= s.seconds, "the emulated part exceeds the fetch's time");
  }
  // A request naming this rank itself is refused before anything is posted.
  owner[0] = rank;
  row[0] = 0;
  CHECK(rd_exchange_start(async, 1, owner, row, b) != 0 && strstr(rd_error(), "names owner"),
        "a request for one's own row was accepted");
  rd_exchange_free(sync);
  rd_exchange_free(async);
  MPI_Comm_free(&async_comm);
  if (rank == 0) printf("exchange: %d rounds on %d ranks ok\n", ROUNDS, size);
  MPI_Finalize();
  return 0;
}
