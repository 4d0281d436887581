// Remote feature exchange: every rank asks owners for rows by (owner, row)
// and gets them back, in two MPI_Alltoallv rounds (ids out, rows back).
// Collective: all ranks call rd_exchange_fetch once per step, even with no
// requests. Counts are exact; an optional alpha-beta network model delays
// each exchange by the cost of what it moved, so communication costs here
// what it would on a real cluster (off by default).
#ifndef RUDDER_EXCHANGE_H
#define RUDDER_EXCHANGE_H

#include <mpi.h>
#include <stdint.h>

typedef struct rd_net_model {
  double latency_us;  // alpha: per message sent or received
  double gbps;        // beta: link bandwidth, gigabits per second; 0 = emulation off
} rd_net_model;

typedef struct rd_fetch_stats {
  int64_t rows_fetched;  // rows this rank received (= its requests)
  int64_t rows_served;   // rows this rank sent to others
  int64_t bytes_sent, bytes_received;  // ids and rows, over the wire
  int64_t messages;      // point-to-point messages this rank sent and received
  double seconds;        // wall time waited for the rows, emulated delay included
  double emulated_seconds;  // the part of `seconds` added by the network model
} rd_fetch_stats;

typedef struct rd_exchange rd_exchange;

// `rows` is this rank's feature block (num_rows x row_len floats) served to others.
rd_exchange *rd_exchange_create(MPI_Comm comm, const float *rows, int64_t num_rows, int row_len,
                                rd_net_model net);
void rd_exchange_free(rd_exchange *x);

// Fetches n rows: request i is row `row[i]` of rank `owner[i]` (never this
// rank), written to out[i * row_len]. Adds this call's counts to *st.
int rd_exchange_fetch(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row,
                      float *out, rd_fetch_stats *st);

// The same fetch without blocking, to overlap it with compute: start posts
// the requests and returns; progress moves the fetch on (serving the
// peers' requests too) without waiting and should be called now and then
// while the caller computes, since MPI progresses only inside MPI calls;
// finish waits for the rows (then in `out`, which must stay valid until
// then) and adds the counts to *st. st->seconds is the time finish waited,
// st->emulated_seconds the part of it that was modelled wire time: the
// network model runs from when each round was posted, concurrently with
// whatever the caller did meanwhile. Collective in the same order on every
// rank; one fetch in flight per exchange, and blocking fetches on the same
// exchange only when none is. Use an exchange on a communicator of its own
// when other collectives run while a fetch is in flight.
int rd_exchange_start(rd_exchange *x, int64_t n, const int32_t *owner, const int32_t *row,
                      float *out);
int rd_exchange_progress(rd_exchange *x);
int rd_exchange_finish(rd_exchange *x, rd_fetch_stats *st);

// Cost of moving `bytes` in `messages` messages under `net` (0 when off).
double rd_net_cost(const rd_net_model *net, int64_t messages, int64_t bytes);

#endif
