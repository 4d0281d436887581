// The offline optimum (Belady's MIN with bypass) over the recorded future:
// the fewest rows any policy can fetch at this capacity. Needs a trace.
#include "buffer/policy.h"

const rd_policy_ops rd_policy_belady = {
    .name = "belady", .summary = "offline optimum with bypass (needs a trace): the lower bound",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_BELADY, .flags = RD_POLICY_OFFLINE};
