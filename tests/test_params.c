// The parameter schema: every row is in the --help of the programs that take
// it, in --print-config, and accepted by the descriptor parser; a
// configuration printed as a descriptor fragment reads back exactly; bad
// values are named and explained. `test_params --attrs` prints each run
// parameter's descriptor key and attribute (used by test_params_run.sh).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "descriptor.h"
#include "error.h"
#include "train/params.h"

static char *capture_usage(unsigned tool) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  rd_params_usage(f, tool);
  fclose(f);
  return text;
}

// A value of the row other than its default, inside its range.
static void other_value(const rd_param *p, char *out, size_t n) {
  const double def = p->def ? strtod(p->def, NULL) : 0;
  switch (p->type) {
  case RD_PARAM_INT: case RD_PARAM_I64: case RD_PARAM_U64:
    snprintf(out, n, "%.0f", def + 1 <= p->hi ? def + 1 : def - 1);
    break;
  case RD_PARAM_F64: case RD_PARAM_F32:
    snprintf(out, n, "%.17g", def + 0.001 <= p->hi ? def + 0.001 : def - 0.001);
    break;
  case RD_PARAM_CHOICE: {
    const char *last = strrchr(p->choices, '|');
    snprintf(out, n, "%s", last ? last + 1 : p->choices);
    break;
  }
  case RD_PARAM_FLAG: snprintf(out, n, "yes"); break;
  case RD_PARAM_FANOUTS: snprintf(out, n, "5,7,3"); break;
  case RD_PARAM_STR: snprintf(out, n, "k=v,x=%s", p->key); break;
  }
}

static void expect_error(const char *key, const char *text, const char *needle) {
  const rd_param *p = NULL;
  for (const rd_param *q = rd_params(); q->key; q++)
    if (!strcmp(q->key, key)) p = q;
  CHECK(p, "no row %s", key);
  rd_train_config cfg;
  rd_train_config_defaults(&cfg);
  CHECK(rd_param_set(p, &cfg, text, "--x") != 0, "%s = '%s' should fail", key, text);
  CHECK(strstr(rd_error(), needle), "%s = '%s': message '%s' should say '%s'", key, text, rd_error(), needle);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--attrs")) {
    for (const rd_param *p = rd_params(); p->key; p++)
      if (p->section) printf("%s %s\n", p->key, p->attr);
    return 0;
  }
  char *train = capture_usage(RD_TOOL_TRAIN), *replay = capture_usage(RD_TOOL_REPLAY);
  rd_train_config cfg, back;
  rd_train_config_defaults(&cfg);
  char values[128][256];
  int i = 0;
  for (const rd_param *p = rd_params(); p->key; p++, i++) {
    char flag[96];
    snprintf(flag, sizeof flag, "--%s ", p->flag);
    if (p->tools & RD_TOOL_TRAIN) CHECK(strstr(train, flag), "rudder_train --help lacks %s", flag);
    if (p->tools & RD_TOOL_REPLAY) CHECK(strstr(replay, flag), "rudder_replay --help lacks %s", flag);
    CHECK(p->help && *p->help && p->unit, "row %s: help and unit", p->key);
    if (p->section) CHECK(p->attr && *p->attr, "row %s: no attribute", p->key);
    // Every default reads back as itself.
    char v[256];
    rd_param_format(p, &cfg, v, sizeof v);
    rd_train_config t = cfg;
    CHECK(rd_param_set(p, &t, v, p->key) == 0, "%s: default '%s' does not read back: %s", p->key, v, rd_error());
    other_value(p, values[i], sizeof values[i]);
    CHECK(rd_param_set(p, &cfg, values[i], p->key) == 0, "%s = %s: %s", p->key, values[i], rd_error());
  }
  free(train);
  free(replay);

  // --print-config of the non-default configuration, completed into a
  // descriptor, parsed, and applied to the defaults gives it back.
  char path[] = "/tmp/test_params_XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  FILE *f = fdopen(fd, "w");
  fprintf(f, "[experiment]\nname = t\n");
  char *ini = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&ini, &len);
  rd_params_print_ini(m, &cfg);
  fclose(m);
  // [experiment] is printed last: merge its keys into the section above.
  char *exp_section = strstr(ini, "[experiment]\n");
  CHECK(exp_section, "no [experiment] in --print-config");
  *exp_section = 0;
  fprintf(f, "%s%s", exp_section + strlen("[experiment]\n"), ini);
  fprintf(f, "[sweep]\ngraphs = g\nranks = 2\nmodels = run\npolicies = run\n[graph g]\npreset = tiny\n");
  fclose(f);
  for (const rd_param *p = rd_params(); p->key; p++)
    if (p->section) {
      char needle[128];
      snprintf(needle, sizeof needle, "%s = ", p->key);
      CHECK(strstr(ini, needle) || strstr(exp_section + 1, needle), "--print-config lacks %s", p->key);
    }
  free(ini);
  rd_experiment e;
  CHECK(rd_experiment_load(&e, path) == 0, "descriptor from --print-config: %s", rd_error());
  rd_train_config_defaults(&back);
  const rd_param_list *lists[] = {&e.params, &e.model[0].params, &e.policy[0].params};
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < lists[k]->n; j++)
      CHECK(rd_param_set(lists[k]->v[j].param, &back, lists[k]->v[j].text, "") == 0, "%s", rd_error());
  rd_param_set(rd_param_by_key("sweep", "seeds"), &back, e.seeds[0], "");
  rd_param_set(rd_param_by_key("sweep", "buffer_fractions"), &back, e.fractions[0], "");
  for (const rd_param *p = rd_params(); p->key; p++) {
    if (!p->section) continue;
    char a[512], b[512];
    rd_param_format(p, &cfg, a, sizeof a);
    rd_param_format(p, &back, b, sizeof b);
    CHECK(!strcmp(a, b), "[%s] %s: printed %s, read back %s", p->section, p->key, a, b);
  }
  rd_experiment_free(&e);

  // Bad values say what is wrong.
  expect_error("hidden", "four", "'four' is not an integer");
  expect_error("hidden", "1.5", "'1.5' is not an integer");
  expect_error("hidden", "0", "out of range");
  expect_error("lr", "fast", "'fast' is not a number");
  expect_error("kind", "gcn", "'gcn' is not one of sage|gat|mlp");
  expect_error("overlap", "maybe", "not yes or no");
  f = fopen(path, "w");
  fprintf(f, "[experiment]\nname = t\n[sweep]\ngraphs = g\nranks = four\n");
  fclose(f);
  CHECK(rd_experiment_load(&e, path) != 0, "ranks = four should fail");
  CHECK(strstr(rd_error(), "'four' is not an integer") && strstr(rd_error(), ":5:"),
        "ranks = four: '%s'", rd_error());
  rd_experiment_free(&e);
  f = fopen(path, "w");
  fprintf(f, "[experiment]\nname = t\n[model m]\nhidden = 12x\n");
  fclose(f);
  CHECK(rd_experiment_load(&e, path) != 0, "hidden = 12x should fail");
  CHECK(strstr(rd_error(), ":4:") && strstr(rd_error(), "[model m] hidden") &&
        strstr(rd_error(), "'12x' is not an integer"), "hidden = 12x: '%s'", rd_error());
  rd_experiment_free(&e);
  remove(path);
  printf("test_params: %d rows checked\n", i);
  return 0;
}
