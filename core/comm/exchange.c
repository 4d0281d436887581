#include "exchange.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "grow.h"

struct rd_exchange {
  MPI_Comm comm;
  int rank, size;
  const float *rows;
  int64_t num_rows;
  int row_len;
  rd_net_model net;
  MPI_Datatype row_type;
  int *send_cnt, *recv_cnt, *send_off, *recv_off, *fill;  // per peer, in elements
  int32_t *req, *incoming;                          // request ids out / in
  int64_t *order;                                   // request slot -> caller's index
  float *serve, *recv;                              // rows out / in
  int64_t cap_req, cap_order, cap_in, cap_serve, cap_recv;
};

double rd_net_cost(const rd_net_model *net, int64_t messages, int64_t bytes) {
  if (net->gbps <= 0) return 0;
  return 1e-6 * net->latency_us * (double)messages + (double)bytes * 8.0 / (net->gbps * 1e9);
}

rd_exchange *rd_exchange_create(MPI_Comm comm, const float *rows, int64_t num_rows, int row_len,
                                rd_net_model net) {
  rd_exchange *x = calloc(1, sizeof *x);
  x->comm = comm;
  MPI_Comm_rank(comm, &x->rank);
  MPI_Comm_size(comm, &x->size);
  x->rows = rows;
  x->num_rows = num_rows;
  x->row_len = row_len;
  x->net = net;
  MPI_Type_contiguous(row_len, MPI_FLOAT, &x->row_type);
  MPI_Type_commit(&x->row_type);
  const size_t p = (size_t)x->size;
  x->send_cnt = calloc(p, sizeof(int));
  x->recv_cnt = calloc(p, sizeof(int));
  x->send_off = calloc(p + 1, sizeof(int));
  x->recv_off = calloc(p + 1, sizeof(int));
  x->fill = calloc(p, sizeof(int));
  return x;
}

void rd_exchange_free(rd_exchange *x) {
  if (!x) return;
  MPI_Type_free(&x->row_type);
  free(x->send_cnt); free(x->recv_cnt); free(x->send_off); free(x->recv_off); free(x->fill);
  free(x->req); free(x->incoming); free(x->order); free(x->serve); free(x->recv);
  free(x);
}

int rd_exchange_fetch(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row,
                      float *out, rd_fetch_stats *st) {
  const double t0 = rd_now();
  const int P = x->size, F = x->row_len;
  // Group requests by owner (counting sort), remembering each one's slot.
  memset(x->send_cnt, 0, (size_t)P * sizeof(int));
  for (int64_t i = 0; i < n; i++) {
    if (owner[i] < 0 || owner[i] >= P || owner[i] == x->rank)
      return rd_error_set("fetch request %lld names owner %d (rank %d of %d)", (long long)i,
                          owner[i], x->rank, P);
    x->send_cnt[owner[i]]++;
  }
  for (int p = 0; p < P; p++) x->send_off[p + 1] = x->send_off[p] + x->send_cnt[p];
  x->req = rd_grow(x->req, &x->cap_req, n + 1, sizeof *x->req);
  x->order = rd_grow(x->order, &x->cap_order, n + 1, sizeof *x->order);
  memcpy(x->fill, x->send_off, (size_t)P * sizeof(int));
  for (int64_t i = 0; i < n; i++) {
    const int slot = x->fill[owner[i]]++;
    x->req[slot] = row[i];
    x->order[slot] = i;
  }
  MPI_Alltoall(x->send_cnt, 1, MPI_INT, x->recv_cnt, 1, MPI_INT, x->comm);
  for (int p = 0; p < P; p++) x->recv_off[p + 1] = x->recv_off[p] + x->recv_cnt[p];
  const int64_t nin = x->recv_off[P];
  x->incoming = rd_grow(x->incoming, &x->cap_in, nin + 1, sizeof *x->incoming);
  MPI_Alltoallv(x->req, x->send_cnt, x->send_off, MPI_INT32_T, x->incoming, x->recv_cnt,
                x->recv_off, MPI_INT32_T, x->comm);
  // Serve: gather requested rows contiguously, in the order they were asked.
  x->serve = rd_grow(x->serve, &x->cap_serve, (nin + 1) * F, sizeof *x->serve);
  int bad = 0;
  for (int64_t i = 0; i < nin; i++) {
    const int32_t r = x->incoming[i];
    if (r < 0 || r >= x->num_rows) bad = 1;
    else memcpy(x->serve + i * F, x->rows + (int64_t)r * F, (size_t)F * sizeof(float));
  }
  if (bad) {
    rd_error_set("rank %d was asked for a row outside its %lld rows", x->rank, (long long)x->num_rows);
    MPI_Abort(x->comm, 4);  // a peer's map disagrees with ours: the partition is inconsistent
  }
  x->recv = rd_grow(x->recv, &x->cap_recv, (n + 1) * F, sizeof *x->recv);
  MPI_Alltoallv(x->serve, x->recv_cnt, x->recv_off, x->row_type, x->recv, x->send_cnt,
                x->send_off, x->row_type, x->comm);
  for (int64_t s = 0; s < n; s++)
    memcpy(out + x->order[s] * F, x->recv + s * F, (size_t)F * sizeof(float));

  int64_t msgs = 0;
  for (int p = 0; p < P; p++) msgs += (x->send_cnt[p] > 0) + (x->recv_cnt[p] > 0);
  msgs *= 2;  // each pair exchanges ids one way and rows the other
  const int64_t row_bytes = (int64_t)F * (int64_t)sizeof(float);
  const int64_t sent = 4 * n + nin * row_bytes, received = 4 * nin + n * row_bytes;
  const double delay = rd_net_cost(&x->net, msgs, sent + received);
  if (delay > 0) {
    // Sleep out the modelled cost; the next collective spreads the slowest
    // rank's delay to all, as a real synchronous exchange would.
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
  }
  st->rows_fetched += n;
  st->rows_served += nin;
  st->bytes_sent += sent;
  st->bytes_received += received;
  st->messages += msgs;
  st->emulated_seconds += delay;
  st->seconds += rd_now() - t0;
  return 0;
}
