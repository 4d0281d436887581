// Every policy by name: the fixed baselines and, once built, the agents.
#ifndef RUDDER_REGISTRY_H
#define RUDDER_REGISTRY_H

#include "buffer/policy.h"

// NULL with rd_error() listing the known names when `name` is unknown.
const rd_policy_ops *rd_policy_find(const char *name);
// The i-th registered policy, NULL past the end.
const rd_policy_ops *rd_policy_at(int i);

#endif
