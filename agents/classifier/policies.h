// The classifier agents' policies (names xgb, rf, svm, linear, fann): DEGREE
// start, SCORE rule, options "model=PATH" (a model from rudder_classifier).
#ifndef RUDDER_CLF_POLICIES_H
#define RUDDER_CLF_POLICIES_H

#include "buffer/policy.h"

extern const rd_policy_ops rd_policy_xgb, rd_policy_rf, rd_policy_svm, rd_policy_linear, rd_policy_fann;

#endif
