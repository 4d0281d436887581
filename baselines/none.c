// No buffer: every remote input is fetched every step (DistDGL).
#include "buffer/policy.h"

const rd_policy_ops rd_policy_none = {
    .name = "none", .summary = "no buffer; every remote row fetched each step (DistDGL)",
    .uses_buffer = 0, .init = RD_INIT_EMPTY, .rule = RD_RULE_SCORE};
