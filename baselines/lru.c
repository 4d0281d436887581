// Least recently used: every miss is admitted, evicting the slot unused longest.
#include "buffer/policy.h"

const rd_policy_ops rd_policy_lru = {
    .name = "lru", .summary = "admit every miss, evict the least recently used row",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LRU};
