// What a SCORE replacement would trade now, for an agent choosing how much
// to replace: how often the candidates it would bring in were missed lately
// (their decayed miss counts, at the ranks that each share of the capacity
// reaches), and how long the slots it would give up have gone unhit.
#ifndef RUDDER_SCORES_H
#define RUDDER_SCORES_H

#include <stdint.h>

#include "buffer.h"

enum { RD_SCORE_RANKS = 5 };
// The shares of the capacity the candidates are ranked at: 5 %, 10 %, 25 %, 50 %, 100 %.
extern const double rd_score_shares[RD_SCORE_RANKS];

typedef struct rd_score_view {
  int64_t candidates;              // unbuffered halo nodes with a decayed miss count >= 0.5
  double cand_at[RD_SCORE_RANKS];  // decayed miss count of the candidate at each share's rank (0: fewer)
  double stale_age_p50, stale_age_max;  // steps since a stale slot's last hit (0: none stale)
} rd_score_view;

// O(halo log halo): for decision points, not every step. -1 (rd_error) when
// out of memory.
int rd_buffer_score_view(const rd_buffer *b, int64_t step, rd_score_view *v);

#endif
