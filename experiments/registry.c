#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

// Adding a policy: write baselines/NAME.c defining `const rd_policy_ops
// rd_policy_NAME` (the build picks the file up) and list it here. Whatever
// it needs (its fill, its rule or a rule of its own, its knobs, the future,
// a server) is in its ops; nothing else names it.
// Agents follow the baselines: classifiers (agents/classifier), LLM agents (agents/llm).
// A build may leave the agents out (-DRUDDER_CLASSIFIERS=OFF, -DRUDDER_LLM=OFF):
// their names then say so instead of "unknown".
#define CLASSIFIERS(X) X(xgb) X(rf) X(svm) X(linear) X(fann) X(xgb_menu) X(rf_menu) X(svm_menu) X(linear_menu) X(fann_menu)
#define LLMS(X) X(llm) X(slm) X(llm_menu) X(slm_menu)
#define NOTHING(X)
#ifdef RUDDER_HAVE_CLASSIFIERS
#define BUILT_CLASSIFIERS CLASSIFIERS
#define LEFT_CLASSIFIERS NOTHING
#else
#define BUILT_CLASSIFIERS NOTHING
#define LEFT_CLASSIFIERS CLASSIFIERS
#endif
#ifdef RUDDER_HAVE_LLM
#define BUILT_LLMS LLMS
#define LEFT_LLMS NOTHING
#else
#define BUILT_LLMS NOTHING
#define LEFT_LLMS LLMS
#endif
#define POLICIES(X) \
  X(none) X(static) X(periodic) X(lru) X(lfu) X(vip) X(lookahead) X(belady) BUILT_CLASSIFIERS(X) BUILT_LLMS(X)

#define DECLARE(name) extern const rd_policy_ops rd_policy_##name;
POLICIES(DECLARE)
#define ENTRY(name) &rd_policy_##name,
static const rd_policy_ops *const registry[] = {POLICIES(ENTRY)};
#define COUNT ((int)(sizeof registry / sizeof registry[0]))

const rd_policy_ops *rd_policy_at(int i) { return i >= 0 && i < COUNT ? registry[i] : NULL; }

#define LEFT_OUT(name) {#name, "-DRUDDER_CLASSIFIERS=ON"},
#define LEFT_OUT_LLM(name) {#name, "-DRUDDER_LLM=ON"},
static const struct {
  const char *name, *option;
} left_out[] = {LEFT_CLASSIFIERS(LEFT_OUT) LEFT_LLMS(LEFT_OUT_LLM) {NULL, NULL}};

const rd_policy_ops *rd_policy_find(const char *name) {
  char ident[64];  // the name as a C identifier: llm-menu is rd_policy_llm_menu
  snprintf(ident, sizeof ident, "%s", name);
  for (char *c = ident; *c; c++)
    if (*c == '-') *c = '_';
  for (int i = 0; left_out[i].name; i++)
    if (strcmp(left_out[i].name, ident) == 0) {
      rd_error_set("policy '%s' is not in this build (configure with %s)", name, left_out[i].option);
      return NULL;
    }
  char known[512] = "";
  for (int i = 0; i < COUNT; i++) {
    if (strcmp(registry[i]->name, name) == 0) return registry[i];
    strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
    strncat(known, registry[i]->name, sizeof known - strlen(known) - 1);
  }
  rd_error_set("unknown policy '%s' (known: %s)", name, known);
  return NULL;
}
