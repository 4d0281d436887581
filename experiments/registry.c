#include "registry.h"

#include <string.h>

#include "error.h"

// Adding a policy: write baselines/NAME.c defining `const rd_policy_ops
// rd_policy_NAME` (the build picks the file up) and list it here. Whatever
// it needs (its fill, its rule or a rule of its own, its knobs, the future,
// a server) is in its ops; nothing else names it.
// Agents follow the baselines: classifiers (agents/classifier), LLM agents (agents/llm).
#define POLICIES(X)                                                                     \
  X(none) X(static) X(periodic) X(lru) X(lfu) X(vip) X(lookahead) X(belady) X(xgb) X(rf) X(svm) X(linear) X(fann) \
  X(llm) X(slm) X(llm_menu) X(slm_menu)

#define DECLARE(name) extern const rd_policy_ops rd_policy_##name;
POLICIES(DECLARE)
#define ENTRY(name) &rd_policy_##name,
static const rd_policy_ops *const registry[] = {POLICIES(ENTRY)};
#define COUNT ((int)(sizeof registry / sizeof registry[0]))

const rd_policy_ops *rd_policy_at(int i) { return i >= 0 && i < COUNT ? registry[i] : NULL; }

const rd_policy_ops *rd_policy_find(const char *name) {
  char known[512] = "";
  for (int i = 0; i < COUNT; i++) {
    if (strcmp(registry[i]->name, name) == 0) return registry[i];
    strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
    strncat(known, registry[i]->name, sizeof known - strlen(known) - 1);
  }
  rd_error_set("unknown policy '%s' (known: %s)", name, known);
  return NULL;
}
