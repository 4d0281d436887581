#include "features.h"

const char *const rd_clf_feature_names[RD_CLF_FEATURES] = {RD_CLF_FEATURE_NAME_LIST};

static float ratio(double num, double den) { return den > 0 ? (float)(num / den) : 0.0f; }

void rd_clf_features(const rd_window *w, const rd_policy_params *p, float x[RD_CLF_FEATURES]) {
  const double cap = (double)w->capacity;
  x[0] = (float)w->hit_rate;
  x[1] = (float)(w->hit_rate - w->hit_rate_prev);
  x[2] = ratio(w->misses_per_step, w->remote_per_step);
  x[3] = ratio(w->rows_fetched_per_step, w->remote_per_step);
  x[4] = ratio(w->evicted_per_step, cap);
  x[5] = ratio((double)w->occupancy, cap);
  x[6] = ratio((double)w->stale, cap);
  x[7] = ratio((double)w->steps_since_replace, (double)p->period);
  x[8] = ratio((double)w->step, (double)w->total_steps);
}

int rd_clf_decision_point(int64_t step, int64_t period) {
  return step > 0 && period > 0 && step % period == 0;
}
