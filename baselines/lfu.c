// Least frequently used: every miss is admitted, evicting the slot with the
// fewest uses since its admission (ties: least recently used).
#include "buffer/policy.h"

const rd_policy_ops rd_policy_lfu = {
    .name = "lfu", .summary = "admit every miss, evict the least frequently used row",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LFU};
