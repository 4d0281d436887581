#include "exchange.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "grow.h"

// Where a started fetch stands (rd_exchange_start .. rd_exchange_finish).
enum phase { IDLE, COUNTS, IDS, ROWS, DONE };

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
  // The fetch in flight (non-blocking use).
  enum phase phase;
  MPI_Request pending;
  float *out;
  int64_t n;
  double t_ids, t_rows;  // when this rank put the ids, the rows on the wire
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
  x->pending = MPI_REQUEST_NULL;
  return x;
}

void rd_exchange_free(rd_exchange *x) {
  if (!x) return;
  MPI_Type_free(&x->row_type);
  free(x->send_cnt); free(x->recv_cnt); free(x->send_off); free(x->recv_off); free(x->fill);
  free(x->req); free(x->incoming); free(x->order); free(x->serve); free(x->recv);
  free(x);
}

// Groups the requests by owner (counting sort), remembering each one's slot.
static int group_requests(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row) {
  const int P = x->size;
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
  x->n = n;
  return 0;
}

// Once the counts are in: offsets and room for the incoming ids.
static void take_counts(rd_exchange *x) {
  for (int p = 0; p < x->size; p++) x->recv_off[p + 1] = x->recv_off[p] + x->recv_cnt[p];
  x->incoming = rd_grow(x->incoming, &x->cap_in, x->recv_off[x->size] + 1, sizeof *x->incoming);
}

// Gathers the requested rows contiguously, in the order they were asked,
// and makes room for this rank's own rows.
static void serve(rd_exchange *x) {
  const int F = x->row_len;
  const int64_t nin = x->recv_off[x->size];
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
  x->recv = rd_grow(x->recv, &x->cap_recv, (x->n + 1) * F, sizeof *x->recv);
}

static void scatter(rd_exchange *x, float *out) {
  const int F = x->row_len;
  for (int64_t s = 0; s < x->n; s++)
    memcpy(out + x->order[s] * F, x->recv + s * F, (size_t)F * sizeof(float));
}

// The modelled cost of each round (ids out, rows back): alpha per message
// this rank sends or receives, its bytes over beta. They sum to the cost of
// the whole exchange.
static void round_costs(const rd_exchange *x, double *ids, double *rows) {
  int64_t msgs = 0;
  for (int p = 0; p < x->size; p++) msgs += (x->send_cnt[p] > 0) + (x->recv_cnt[p] > 0);
  const int64_t nin = x->recv_off[x->size];
  const int64_t row_bytes = (int64_t)x->row_len * (int64_t)sizeof(float);
  *ids = rd_net_cost(&x->net, msgs, 4 * (x->n + nin));
  *rows = rd_net_cost(&x->net, msgs, (x->n + nin) * row_bytes);
}

static void account(const rd_exchange *x, rd_fetch_stats *st) {
  int64_t msgs = 0;
  for (int p = 0; p < x->size; p++) msgs += (x->send_cnt[p] > 0) + (x->recv_cnt[p] > 0);
  const int64_t n = x->n, nin = x->recv_off[x->size];
  const int64_t row_bytes = (int64_t)x->row_len * (int64_t)sizeof(float);
  st->rows_fetched += n;
  st->rows_served += nin;
  st->bytes_sent += 4 * n + nin * row_bytes;
  st->bytes_received += 4 * nin + n * row_bytes;
  st->messages += 2 * msgs;  // each pair exchanges ids one way and rows the other
}

static void sleep_for(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int rd_exchange_fetch(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row,
                      float *out, rd_fetch_stats *st) {
  const double t0 = rd_now();
  if (x->phase != IDLE) return rd_error_set("rd_exchange_fetch: a started fetch is not finished");
  if (group_requests(x, n, owner, row)) return -1;
  MPI_Alltoall(x->send_cnt, 1, MPI_INT, x->recv_cnt, 1, MPI_INT, x->comm);
  take_counts(x);
  MPI_Alltoallv(x->req, x->send_cnt, x->send_off, MPI_INT32_T, x->incoming, x->recv_cnt,
                x->recv_off, MPI_INT32_T, x->comm);
  serve(x);
  MPI_Alltoallv(x->serve, x->recv_cnt, x->recv_off, x->row_type, x->recv, x->send_cnt,
                x->send_off, x->row_type, x->comm);
  scatter(x, out);
  double ids, rows;
  round_costs(x, &ids, &rows);
  // Sleep out the modelled cost; the next collective spreads the slowest
  // rank's delay to all, as a real synchronous exchange would.
  sleep_for(ids + rows);
  account(x, st);
  st->emulated_seconds += ids + rows;
  st->seconds += rd_now() - t0;
  return 0;
}

int rd_exchange_start(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row,
                      float *out) {
  if (x->phase != IDLE) return rd_error_set("rd_exchange_start: the previous fetch is not finished");
  if (group_requests(x, n, owner, row)) return -1;
  x->out = out;
  MPI_Ialltoall(x->send_cnt, 1, MPI_INT, x->recv_cnt, 1, MPI_INT, x->comm, &x->pending);
  x->phase = COUNTS;
  return rd_exchange_progress(x);
}

// Moves a started fetch through its rounds; `wait` blocks until it is done.
static void advance(rd_exchange *x, int wait) {
  while (x->phase != IDLE && x->phase != DONE) {
    int flag = 1;
    if (wait) MPI_Wait(&x->pending, MPI_STATUS_IGNORE);
    else MPI_Test(&x->pending, &flag, MPI_STATUS_IGNORE);
    if (!flag) return;
    switch (x->phase) {
    case COUNTS:
      take_counts(x);
      MPI_Ialltoallv(x->req, x->send_cnt, x->send_off, MPI_INT32_T, x->incoming, x->recv_cnt,
                     x->recv_off, MPI_INT32_T, x->comm, &x->pending);
      x->t_ids = rd_now();
      x->phase = IDS;
      break;
    case IDS:
      serve(x);
      MPI_Ialltoallv(x->serve, x->recv_cnt, x->recv_off, x->row_type, x->recv, x->send_cnt,
                     x->send_off, x->row_type, x->comm, &x->pending);
      x->t_rows = rd_now();
      x->phase = ROWS;
      break;
    default:
      scatter(x, x->out);
      x->phase = DONE;
      break;
    }
  }
}

int rd_exchange_progress(rd_exchange *x) {
  advance(x, 0);
  return 0;
}

int rd_exchange_finish(rd_exchange *x, rd_fetch_stats *st) {
  const double t0 = rd_now();
  if (x->phase == IDLE) return rd_error_set("rd_exchange_finish: no fetch was started");
  advance(x, 1);
  // The emulated wire: the ids leave when posted; the rows leave when their
  // owner posted them, but not before the ids could have arrived. Only what
  // is left of that at this point is waited for.
  double ids, rows;
  round_costs(x, &ids, &rows);
  const double ids_in = x->t_ids + ids;
  const double rows_in = (x->t_rows > ids_in ? x->t_rows : ids_in) + rows;
  const double left = rows_in - rd_now();
  sleep_for(left);
  account(x, st);
  st->emulated_seconds += left > 0 ? left : 0;
  st->seconds += rd_now() - t0;
  x->phase = IDLE;
  return 0;
}
