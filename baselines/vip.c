// SALIENT++'s static cache: the halo nodes most likely to be sampled (vertex
// inclusion probability under the run's fanouts), loaded once.
#include "buffer/policy.h"

const rd_policy_ops rd_policy_vip = {
    .name = "vip", .summary = "halo nodes of highest inclusion probability, loaded once (SALIENT++)",
    .uses_buffer = 1, .init = RD_INIT_VIP, .rule = RD_RULE_SCORE};
