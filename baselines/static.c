// Static prefetch: the top-degree halo nodes, loaded once, never replaced.
#include "buffer/policy.h"

const rd_policy_ops rd_policy_static = {
    .name = "static", .summary = "top-degree halo nodes loaded once, never replaced",
    .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE};
