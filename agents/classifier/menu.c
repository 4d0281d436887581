#include "menu.h"

#include <string.h>

#include "buffer/menu.h"

const char *const rd_clf_menu_feature_names[RD_CLF_MENU_FEATURES] = {
    RD_CLF_FEATURE_NAME_LIST, "knob_window", "knob_prior_count", "knob_prior_degree",
    "knob_margin", "knob_pinned"};

static const char *const names[RD_CLF_MENU_ACTIONS] = {
    "keep", "window_0", "window_q", "window_h", "window_K", "prior_vip", "prior_count",
    "prior_degree", "margin_0", "margin_0.1", "margin_0.25", "margin_0.5", "margin_1",
    "pinned_0", "pinned_0.05", "pinned_0.1", "pinned_0.25", "pinned_0.5"};

const char *rd_clf_menu_action_name(int action) {
  return action >= 0 && action < RD_CLF_MENU_ACTIONS ? names[action] : NULL;
}

rd_replace rd_clf_menu_apply(int action, int32_t K, rd_replace knobs) {
  knobs.tune = 1;
  knobs.replace = 0;
  knobs.fraction = 0;
  int32_t windows[RD_MENU_WINDOWS];
  rd_menu_windows(K, windows);
  if (action >= 1 && action <= 4) knobs.window = windows[action - 1];
  else if (action >= 5 && action <= 7) knobs.prior = rd_menu_priors[action - 5];
  else if (action >= 8 && action <= 12) knobs.margin = rd_menu_margins[action - 8];
  else if (action >= 13 && action <= 17) knobs.pinned = rd_menu_pinned[action - 13];
  return knobs;
}

int rd_clf_menu_same(const rd_replace *a, const rd_replace *b) {
  return a->window == b->window && a->prior == b->prior && a->margin == b->margin &&
         a->pinned == b->pinned;
}

void rd_clf_menu_features(const rd_window *w, const rd_policy_params *p, const rd_replace *knobs,
                          float x[RD_CLF_MENU_FEATURES]) {
  rd_clf_features(w, p, x);
  float *k = x + RD_CLF_FEATURES;
  k[0] = p->lookahead > 0 ? (float)knobs->window / (float)p->lookahead : 0.0f;
  k[1] = knobs->prior == RD_PRIOR_COUNT;
  k[2] = knobs->prior == RD_PRIOR_DEGREE;
  k[3] = (float)knobs->margin;
  k[4] = (float)knobs->pinned;
}
