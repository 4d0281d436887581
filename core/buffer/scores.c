#include "scores.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "policy.h"

_Static_assert(sizeof ((rd_window *)0)->cand_at / sizeof(double) == RD_SCORE_RANKS,
               "rd_window.cand_at holds one value per share");

const double rd_score_shares[RD_SCORE_RANKS] = {0.05, 0.10, 0.25, 0.50, 1.00};

static int descending(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a < b) - (a > b);
}

int rd_buffer_score_view(const rd_buffer *b, int64_t step, rd_score_view *v) {
  memset(v, 0, sizeof *v);
  const int64_t H = b->halo_size, C = b->cfg.capacity;
  double *x = malloc(((size_t)(H > C ? H : C) + 1) * sizeof *x);
  if (!x) return rd_error_set("out of memory for the buffer's score view");
  // Candidates as the SCORE rule ranks them (buffer.c: the decayed miss count).
  int64_t n = 0;
  for (int64_t h = 0; h < H; h++)
    if (b->slot_of[h] < 0 && b->miss_score[h] > 0) {
      const double s = (double)b->miss_score[h] * exp(b->log_keep * (double)(step - b->miss_step[h]));
      x[n++] = s;
      v->candidates += s >= 0.5;
    }
  qsort(x, (size_t)n, sizeof *x, descending);
  for (int i = 0; i < RD_SCORE_RANKS; i++) {
    const int64_t k = (int64_t)ceil(rd_score_shares[i] * (double)C);
    v->cand_at[i] = k >= 1 && k <= n ? x[k - 1] : 0;
  }
  n = 0;
  for (int64_t s = 0; s < C; s++)
    if (b->halo_of[s] >= 0 && step - b->last_hit[s] > b->cfg.delta) x[n++] = (double)(step - b->last_hit[s]);
  qsort(x, (size_t)n, sizeof *x, descending);
  if (n) {
    v->stale_age_max = x[0];
    v->stale_age_p50 = x[n / 2];
  }
  free(x);
  return 0;
}
