// The classifier agents' policies, options "model=PATH" (a model from
// rudder_classifier): xgb, rf, svm, linear, fann (binary labels: DEGREE
// start, SCORE rule) and xgb-menu, rf-menu, svm-menu, linear-menu,
// fann-menu (menu labels: the lookahead policy's EMPTY start and LOOKAHEAD
// rule, the knobs tuned by the actions of menu.h).
#ifndef RUDDER_CLF_POLICIES_H
#define RUDDER_CLF_POLICIES_H

#include "buffer/policy.h"

extern const rd_policy_ops rd_policy_xgb, rd_policy_rf, rd_policy_svm, rd_policy_linear, rd_policy_fann;
extern const rd_policy_ops rd_policy_xgb_menu, rd_policy_rf_menu, rd_policy_svm_menu,
    rd_policy_linear_menu, rd_policy_fann_menu;

#endif
