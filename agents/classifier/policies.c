// The classifier agents as buffer policies: a trained model (options
// "model=PATH") decides at every decision point, synchronously: features and
// prediction take microseconds, far below a step, so unlike the LLM agents
// there is nothing to overlap. Each decision is kept for the results.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "grow.h"
#include "model.h"
#include "policies.h"

typedef struct classifier {
  rd_clf_model model;
  rd_decision *log;  // decisions not yet drained
  int64_t num, cap;
} classifier;

static void destroy(void *state) {
  classifier *c = state;
  for (int64_t i = 0; i < c->num; i++) free(c->log[i].raw);
  free(c->log);
  rd_clf_free(&c->model);
  free(c);
}

// Options: "model=PATH" (required); other keys are refused by name.
static int create(const rd_clf_backend *b, const rd_policy_params *p, void **state) {
  char *opts = strdup(p->options ? p->options : ""), *path = NULL, *save = NULL;
  if (!opts) return rd_error_set("out of memory");
  int rc = 0;
  for (char *kv = strtok_r(opts, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
    if (!strncmp(kv, "model=", 6) && kv[6]) path = kv + 6;
    else rc = rd_error_set("policy options: unknown '%s' (known: model=PATH)", kv);
  }
  if (!rc && !path)
    rc = rd_error_set("policy options: model=PATH is required (written by rudder_classifier "
                      "train --model %s)", b->name);
  classifier *c = rc ? NULL : calloc(1, sizeof *c);
  if (!rc && !c) rc = rd_error_set("out of memory");
  if (!rc && rd_clf_load(&c->model, b, path)) {
    free(c);
    rc = -1;
  }
  free(opts);
  if (!rc) *state = c;
  return rc;
}

static void decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  classifier *c = state;
  out->replace = 0;
  out->fraction = p->fraction;
  if (!rd_clf_decision_point(w->step, p->period)) return;
  const double t0 = rd_now();
  float x[RD_CLF_FEATURES];
  rd_clf_features(w, p, x);
  double score = 0;
  const int label = rd_clf_predict(&c->model, x, &score);
  const double latency = rd_now() - t0;
  // A library error keeps the buffer (the safe action) and is logged as such.
  out->replace = label == 1;
  char text[64];
  snprintf(text, sizeof text, "%.6g", score);
  c->log = rd_grow(c->log, &c->cap, c->num + 1, sizeof *c->log);
  c->log[c->num++] = (rd_decision){.step_posted = w->step, .step_applied = w->step,
                                   .replace = out->replace, .fraction = (float)p->fraction,
                                   .latency_seconds = latency, .valid = label >= 0,
                                   .fallback = label < 0,
                                   .raw = strdup(label < 0 ? rd_error() : text)};
}

static int64_t drain(void *state, rd_decision **out) {
  classifier *c = state;
  const int64_t n = c->num;
  *out = c->log;
  c->log = NULL;
  c->num = c->cap = 0;
  return n;
}

#define CLASSIFIER_POLICY(NAME, BACKEND, SUMMARY)                                            \
  static int create_##NAME(const rd_policy_params *p, void **state) {                        \
    return create(&BACKEND, p, state);                                                       \
  }                                                                                          \
  const rd_policy_ops rd_policy_##NAME = {                                                   \
      .name = #NAME, .summary = SUMMARY, .uses_buffer = 1, .init = RD_INIT_DEGREE,           \
      .rule = RD_RULE_SCORE, .create = create_##NAME, .decide = decide, .destroy = destroy, \
      .drain = drain};

CLASSIFIER_POLICY(xgb, rd_clf_xgboost, "score-rule replacement when an XGBoost model says so")
CLASSIFIER_POLICY(rf, rd_clf_xgboost_rf, "score-rule replacement when an XGBoost random forest says so")
CLASSIFIER_POLICY(svm, rd_clf_svm, "score-rule replacement when an RBF SVM (libsvm) says so")
CLASSIFIER_POLICY(linear, rd_clf_linear,
                  "score-rule replacement when a logistic regression (liblinear) says so")
CLASSIFIER_POLICY(fann, rd_clf_fann, "score-rule replacement when an MLP (FANN) says so")
