// What the classifier agents see at a decision point: one fixed vector
// computed from the policy's window by this one function, both when samples
// are collected and when a trained model is served, so the two cannot drift
// apart (the reference's train/serve skew). Every entry is a ratio, so a
// model carries over across graph, buffer and run sizes; measured seconds are
// left out because they depend on the machine and a replay has none.
#ifndef RUDDER_CLF_FEATURES_H
#define RUDDER_CLF_FEATURES_H

#include "buffer/policy.h"

#define RD_CLF_FEATURES 9

// Column names, in vector order (the samples CSV header and the model sidecar).
#define RD_CLF_FEATURE_NAME_LIST                                                             \
  "hit_rate", "hit_rate_trend", "miss_ratio", "fetch_ratio", "evicted_ratio", "occupancy", \
      "stale", "since_replace", "progress"
extern const char *const rd_clf_feature_names[RD_CLF_FEATURES];

void rd_clf_features(const rd_window *w, const rd_policy_params *p, float x[RD_CLF_FEATURES]);

// Whether the classifiers decide before `step`: every `period` steps, not
// before the first step has filled the window.
int rd_clf_decision_point(int64_t step, int64_t period);

#endif
