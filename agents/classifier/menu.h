// The menu classifiers' action set, in one place for the collector that
// labels decision points with it (rudder_collect --labels menu) and the
// policies that serve it (xgb-menu, rf-menu, svm-menu, linear-menu,
// fann-menu). An action keeps the lookahead rule's knobs in force, or sets
// ONE knob to one value of the menu the LLM menu agents choose from
// (core/buffer/menu.h: window 0, K/4, K/2, K; prior vip, count, degree;
// margin 0, 0.1, 0.25, 0.5, 1; pinned share 0, 0.05, 0.1, 0.25, 0.5):
//
//   0 keep   1-4 window   5-7 prior   8-12 margin   13-17 pinned
//
// One knob per action keeps the set small enough to roll every action out
// at every decision point (18 rollouts, against 4 x 3 x 5 x 5 = 300 whole
// settings), and every setting is still reachable over a few decisions.
// Because an action is relative to the knobs in force, the model sees them:
// the menu features are the binary ones plus the knobs.
#ifndef RUDDER_CLF_MENU_H
#define RUDDER_CLF_MENU_H

#include "buffer/buffer.h"
#include "buffer/menu.h"
#include "features.h"

#define RD_CLF_MENU_ACTIONS 18
#define RD_CLF_MENU_FEATURES (RD_CLF_FEATURES + 5)

// Column names, in vector order: rd_clf_feature_names, then the knobs.
extern const char *const rd_clf_menu_feature_names[RD_CLF_MENU_FEATURES];

// CSV-safe names ("keep", "window_K/4" is "window_q", ...); NULL out of range.
const char *rd_clf_menu_action_name(int action);

// The knobs in force after `action` (0 or out of range: `knobs` as they are).
rd_replace rd_clf_menu_apply(int action, int32_t K, rd_replace knobs);

// Whether two knob settings are the same (an action that changes nothing).
int rd_clf_menu_same(const rd_replace *a, const rd_replace *b);

// The binary features of the window, then the knobs in force: window / K,
// prior count and prior degree (one-hot against vip), margin, pinned share.
void rd_clf_menu_features(const rd_window *w, const rd_policy_params *p, const rd_replace *knobs,
                          float x[RD_CLF_MENU_FEATURES]);

#endif
