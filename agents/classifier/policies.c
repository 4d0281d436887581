// The classifier agents as buffer policies: a trained model (options
// "model=PATH") decides at every decision point, synchronously: features and
// prediction take microseconds, far below a step, so unlike the LLM agents
// there is nothing to overlap. Each decision is kept for the results.
// Binary models (xgb, rf, svm, linear, fann) say when the SCORE rule
// replaces; menu models (xgb-menu, ...) pick an action of menu.h, which
// tunes the LOOKAHEAD rule's knobs as the menu LLM agents do.
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
  rd_replace knobs;  // menu: the knobs in force
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
static int create(const rd_clf_backend *b, rd_clf_labels kind, const rd_policy_params *p,
                  void **state) {
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
  // A menu model's window actions and feature are shares of the K known
  // steps: with none known it would see a window of 0 and act on nothing.
  if (!rc && kind == RD_CLF_MENU && p->lookahead < 1)
    rc = rd_error_set("a menu classifier needs --lookahead K >= 1 (the known steps its window knob counts)");
  classifier *c = rc ? NULL : calloc(1, sizeof *c);
  if (!rc && !c) rc = rd_error_set("out of memory");
  if (!rc && rd_clf_load_labels(&c->model, b, kind, path)) {
    free(c);
    rc = -1;
  }
  free(opts);
  if (!rc) {
    c->knobs = rd_menu_start(p->lookahead);
    *state = c;
  }
  return rc;
}

static void log_decision(classifier *c, const rd_window *w, int replace, float fraction,
                         double latency, int label, const char *text) {
  c->log = rd_grow(c->log, &c->cap, c->num + 1, sizeof *c->log);
  c->log[c->num++] = (rd_decision){.step_posted = w->step, .step_applied = w->step,
                                   .replace = replace, .fraction = fraction,
                                   .latency_seconds = latency, .valid = label >= 0,
                                   .fallback = label < 0,
                                   .raw = strdup(label < 0 ? rd_error() : text)};
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
  log_decision(c, w, out->replace, (float)p->fraction, latency, label, text);
}

static void decide_menu(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  classifier *c = state;
  *out = (rd_replace){0};
  if (w->step < 0) {  // before the first fill: the knobs it starts from
    *out = c->knobs;
    return;
  }
  if (!rd_clf_decision_point(w->step, p->period)) return;
  const double t0 = rd_now();
  float x[RD_CLF_MENU_FEATURES];
  rd_clf_menu_features(w, p, &c->knobs, x);
  double score = 0;
  const int action = rd_clf_predict(&c->model, x, &score);
  const double latency = rd_now() - t0;
  // A library error keeps the knobs in force (the fallback), logged as such.
  if (action > 0) {
    c->knobs = rd_clf_menu_apply(action, p->lookahead, c->knobs);
    *out = c->knobs;
  }
  // Logged as the menu LLM agents log: replace 1 = a tune; the raw text is
  // the action and its score.
  char text[64];
  snprintf(text, sizeof text, "%s %.6g", action >= 0 ? rd_clf_menu_action_name(action) : "?", score);
  log_decision(c, w, action > 0, 0, latency, action, text);
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
    return create(&BACKEND, RD_CLF_REPLACE, p, state);                                       \
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

// The menu classifiers: the lookahead policy's start, rule and needs, as
// slm-menu (a rank's own model: no server, no collective).
#define MENU_POLICY(NAME, BACKEND, SUMMARY)                                                     \
  static int create_##NAME##_menu(const rd_policy_params *p, void **state) {                    \
    return create(&BACKEND, RD_CLF_MENU, p, state);                                             \
  }                                                                                             \
  const rd_policy_ops rd_policy_##NAME##_menu = {                                               \
      .name = #NAME "-menu", .summary = SUMMARY, .uses_buffer = 1, .init = RD_INIT_EMPTY,       \
      .rule = RD_RULE_LOOKAHEAD, .flags = RD_POLICY_FUTURE | RD_POLICY_VIP,                     \
      .create = create_##NAME##_menu, .decide = decide_menu, .destroy = destroy, .drain = drain};

MENU_POLICY(xgb, rd_clf_xgboost, "the lookahead rule's knobs tuned from the menu by an XGBoost model")
MENU_POLICY(rf, rd_clf_xgboost_rf, "the lookahead rule's knobs tuned from the menu by an XGBoost random forest")
MENU_POLICY(svm, rd_clf_svm, "the lookahead rule's knobs tuned from the menu by an RBF SVM (libsvm)")
MENU_POLICY(linear, rd_clf_linear,
            "the lookahead rule's knobs tuned from the menu by a logistic regression (liblinear)")
MENU_POLICY(fann, rd_clf_fann, "the lookahead rule's knobs tuned from the menu by an MLP (FANN)")
