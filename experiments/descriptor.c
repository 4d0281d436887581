#include "descriptor.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef enum { T_STR, T_INT, T_I64, T_F64, T_BOOL } key_type;

typedef struct key_def {
  const char *key;
  key_type type;
  size_t offset;
  double lo, hi;
} key_def;

#define K(st, field, type, lo, hi) {#field, type, offsetof(st, field), lo, hi}

static const key_def experiment_keys[] = {
    K(rd_experiment, name, T_STR, 0, 0),    K(rd_experiment, results, T_STR, 0, 0),
    K(rd_experiment, data_dir, T_STR, 0, 0), K(rd_experiment, timeout, T_INT, 1, 1e7),
    K(rd_experiment, plots, T_BOOL, 0, 1),  K(rd_experiment, traces, T_BOOL, 0, 1), {0}};
static const key_def graph_keys[] = {
    K(rd_graph_spec, preset, T_STR, 0, 0), K(rd_graph_spec, file, T_STR, 0, 0),
    K(rd_graph_spec, ogb, T_STR, 0, 0),    K(rd_graph_spec, split, T_STR, 0, 0),
    K(rd_graph_spec, partition, T_STR, 0, 0), K(rd_graph_spec, hops, T_INT, 1, 254),
    K(rd_graph_spec, nodes, T_I64, 2, 2147483647.0), K(rd_graph_spec, edges, T_I64, 1, 1e12),
    K(rd_graph_spec, seed, T_I64, 0, 9e15), K(rd_graph_spec, scale, T_F64, 1e-9, 1),
    K(rd_graph_spec, snap, T_STR, 0, 0),   K(rd_graph_spec, saint, T_STR, 0, 0), {0}};
static const key_def mpi_keys[] = {
    {"hostfile", T_STR, offsetof(rd_experiment, hostfile), 0, 0},
    {"args", T_STR, offsetof(rd_experiment, mpi_args), 0, 0}, {0}};

typedef struct parse_state {
  rd_experiment *e;
  FILE *f;
  int line;          // line of the text inih is handling
  int ended_line;    // the previous read ended a line
  int failed;
} parse_state;

// Counts lines as inih reads them: the handler learns the line it is on.
static char *reader(char *str, int num, void *stream) {
  parse_state *ps = stream;
  char *r = fgets(str, num, ps->f);
  if (r) {
    if (ps->ended_line) ps->line++;
    ps->ended_line = strchr(r, '\n') != NULL;
  }
  return r;
}

#define FAIL(ps, ...)                                            \
  do {                                                           \
    char msg_[512];                                              \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);                    \
    rd_error_set("%s:%d: %s", (ps)->e->path, (ps)->line, msg_);  \
    (ps)->failed = 1;                                            \
    return 0;                                                    \
  } while (0)

static int set_value(parse_state *ps, const char *section, const key_def *k, void *base,
                     const char *value) {
  void *p = (char *)base + k->offset;
  char *end;
  errno = 0;
  switch (k->type) {
  case T_STR:
    free(*(char **)p);
    *(char **)p = strdup(value);
    return 1;
  case T_BOOL:
    if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) *(int *)p = 1;
    else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) *(int *)p = 0;
    else FAIL(ps, "[%s] %s: '%s' is not yes/no", section, k->key, value);
    return 1;
  default: {
    const double v = strtod(value, &end);
    const int integral = k->type != T_F64;
    if (errno || end == value || *end || (integral && v != (double)(int64_t)v) || v < k->lo || v > k->hi)
      FAIL(ps, "[%s] %s: '%s' is not %s in [%g, %g]", section, k->key, value,
           integral ? "an integer" : "a number", k->lo, k->hi);
    if (k->type == T_INT) *(int *)p = (int)v;
    else if (k->type == T_I64) *(int64_t *)p = (int64_t)v;
    else *(double *)p = v;
    return 1;
  }
  }
}

const char *rd_param_list_get(const rd_param_list *s, const char *key) {
  for (int i = s->n - 1; i >= 0; i--)
    if (!strcmp(s->v[i].param->key, key)) return s->v[i].text;
  return NULL;
}

// A schema row of `kind`: checked by parsing it into a scratch configuration
// (the same parser rudder_train runs), kept as written.
static int set_param(parse_state *ps, const char *section, const char *kind, rd_param_list *set,
                     const char *name, const char *value, int *found) {
  const rd_param *p = rd_param_by_key(kind, name);
  if (!(*found = p != NULL)) return 1;
  char where[256];
  snprintf(where, sizeof where, "[%s] %s", section, name);
  rd_train_config scratch;
  rd_train_config_defaults(&scratch);
  if (rd_param_set(p, &scratch, value, where)) FAIL(ps, "%s", rd_error());
  if (set->n == (int)(sizeof set->v / sizeof *set->v)) FAIL(ps, "[%s]: too many keys", section);
  set->v[set->n++] = (rd_param_value){p, strdup(value)};
  return 1;
}

// Keys of the descriptor's own (`keys`, may be NULL) and then the schema's
// rows of `kind` (may be NULL).
static int set_key(parse_state *ps, const char *section, const key_def *keys, void *base,
                   const char *kind, rd_param_list *set, const char *name, const char *value) {
  for (const key_def *k = keys; k && k->key; k++)
    if (!strcmp(k->key, name)) return set_value(ps, section, k, base, value);
  int found = 0;
  if (kind) {
    const int ok = set_param(ps, section, kind, set, name, value, &found);
    if (found || !ok) return ok;
  }
  char known[1024] = "";
  for (const key_def *k = keys; k && k->key; k++) {
    strncat(known, *known ? ", " : "", sizeof known - strlen(known) - 1);
    strncat(known, k->key, sizeof known - strlen(known) - 1);
  }
  for (const rd_param *p = rd_params(); kind && p->key; p++)
    if (p->section && !strcmp(p->section, kind)) {
      strncat(known, *known ? ", " : "", sizeof known - strlen(known) - 1);
      strncat(known, p->key, sizeof known - strlen(known) - 1);
    }
  FAIL(ps, "[%s] unknown key '%s' (known: %s)", section, name, known);
}

// Splits a list on ',' (or ';' when the items themselves hold commas).
static int split_list(parse_state *ps, const char *key, const char *value, char **out, int *n) {
  char *copy = strdup(value), *save = NULL;
  *n = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ' || *tok == '\t') tok++;
    char *end = tok + strlen(tok);
    while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
    if (!*tok) continue;
    if (*n == RD_MAX_LIST) {
      free(copy);
      FAIL(ps, "[sweep] %s: more than %d values", key, RD_MAX_LIST);
    }
    out[(*n)++] = strdup(tok);
  }
  free(copy);
  if (*n == 0) FAIL(ps, "[sweep] %s: empty list", key);
  return 1;
}

static int sweep_key(parse_state *ps, const char *name, const char *value) {
  rd_experiment *e = ps->e;
  char *items[RD_MAX_LIST];
  int n;
  if (!strcmp(name, "graphs")) {
    e->graphs_line = ps->line;
    return split_list(ps, name, value, e->graphs, &e->num_graphs);
  }
  if (!strcmp(name, "models")) {
    e->models_line = ps->line;
    return split_list(ps, name, value, e->models, &e->num_models);
  }
  if (!strcmp(name, "policies")) {
    e->policies_line = ps->line;
    return split_list(ps, name, value, e->policies, &e->num_policies);
  }
  const int ranks = !strcmp(name, "ranks");
  const rd_param *p = ranks ? NULL : rd_param_by_key("sweep", name);
  if (!ranks && !p)
    FAIL(ps, "[sweep] unknown key '%s' (known: graphs, ranks, models, policies, buffer_fractions, seeds)", name);
  if (!split_list(ps, name, value, items, &n)) return 0;
  int ok = 1;
  for (int i = 0; i < n; i++) {
    char where[128];
    snprintf(where, sizeof where, "%s:%d: [sweep] %s", e->path, ps->line, name);
    int bad = 0;
    if (ranks) {
      char *end;
      errno = 0;
      const long v = strtol(items[i], &end, 10);
      if (errno || *end || end == items[i]) bad = rd_error_set("%s: '%s' is not an integer", where, items[i]);
      else if (v < 1 || v > 4096) bad = rd_error_set("%s: %s is out of range [1, 4096]", where, items[i]);
      e->ranks[i] = (int)v;
      free(items[i]);
    } else {
      rd_train_config scratch;
      rd_train_config_defaults(&scratch);
      bad = rd_param_set(p, &scratch, items[i], where);
      (!strcmp(name, "seeds") ? e->seeds : e->fractions)[i] = items[i];
    }
    if (bad) {  // the first error is the one reported
      for (int k = i + 1; k < n; k++) free(items[k]);
      n = i + 1;
      ok = 0;
      break;
    }
  }
  if (!ok) ps->failed = 1;
  *(ranks ? &e->num_ranks : !strcmp(name, "seeds") ? &e->num_seeds : &e->num_fractions) = n;
  return ok;
}

// A named section ([graph small]) finds or creates its spec.
static void *named_spec(parse_state *ps, const char *kind, const char *name) {
  rd_experiment *e = ps->e;
  void *specs = !strcmp(kind, "graph") ? (void *)e->graph : !strcmp(kind, "model") ? (void *)e->model : (void *)e->policy;
  int *count = !strcmp(kind, "graph") ? &e->num_graph_specs : !strcmp(kind, "model") ? &e->num_model_specs : &e->num_policy_specs;
  const size_t size = !strcmp(kind, "graph") ? sizeof(rd_graph_spec) : !strcmp(kind, "model") ? sizeof(rd_model_spec) : sizeof(rd_policy_spec);
  for (int i = 0; i < *count; i++) {
    char *spec = (char *)specs + (size_t)i * size;  // every spec starts with char name[64]
    if (!strcmp(spec, name)) return spec;
  }
  if (*count == RD_MAX_SPECS || strlen(name) >= 64) return NULL;
  char *spec = (char *)specs + (size_t)(*count)++ * size;
  snprintf(spec, 64, "%s", name);
  return spec;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  parse_state *ps = user;
  if (ps->failed) return 0;
  char kind[64] = "", spec_name[128] = "";
  sscanf(section, "%63s %127s", kind, spec_name);
  rd_experiment *e = ps->e;
  if ((!strcmp(kind, "experiment") || !strcmp(kind, "network")) && !*spec_name)
    return set_key(ps, section, !strcmp(kind, "experiment") ? experiment_keys : NULL, e, kind,
                   &e->params, name, value);
  if (!strcmp(kind, "sweep") && !*spec_name) return sweep_key(ps, name, value);
  if (!strcmp(kind, "mpi") && !*spec_name) return set_key(ps, section, mpi_keys, e, NULL, NULL, name, value);
  if ((!strcmp(kind, "graph") || !strcmp(kind, "model") || !strcmp(kind, "policy")) && *spec_name) {
    void *spec = named_spec(ps, kind, spec_name);
    if (!spec) FAIL(ps, "[%s]: too many %s sections or name too long", section, kind);
    if (!strcmp(kind, "graph")) return set_key(ps, section, graph_keys, spec, NULL, NULL, name, value);
    rd_param_list *set = !strcmp(kind, "model") ? &((rd_model_spec *)spec)->params : &((rd_policy_spec *)spec)->params;
    return set_key(ps, section, NULL, NULL, kind, set, name, value);
  }
  FAIL(ps, "unknown section [%s] (known: [experiment], [sweep], [graph NAME], [model NAME], "
           "[policy NAME], [network], [mpi])", section);
}

const rd_graph_spec *rd_experiment_graph(const rd_experiment *e, const char *name) {
  for (int i = 0; i < e->num_graph_specs; i++) if (!strcmp(e->graph[i].name, name)) return &e->graph[i];
  return NULL;
}
const rd_model_spec *rd_experiment_model(const rd_experiment *e, const char *name) {
  for (int i = 0; i < e->num_model_specs; i++) if (!strcmp(e->model[i].name, name)) return &e->model[i];
  return NULL;
}
const rd_policy_spec *rd_experiment_policy(const rd_experiment *e, const char *name) {
  for (int i = 0; i < e->num_policy_specs; i++) if (!strcmp(e->policy[i].name, name)) return &e->policy[i];
  return NULL;
}

// Cross-references and defaults, once the whole file is read.
static int finish(rd_experiment *e) {
  const char *p = e->path;
  if (!e->num_graphs || !e->num_models || !e->num_policies || !e->num_ranks)
    return rd_error_set("%s: [sweep] needs graphs, ranks, models and policies", p);
  if (!e->name) return rd_error_set("%s: [experiment] needs a name", p);
  if (!e->num_fractions) e->fractions[e->num_fractions++] = strdup(rd_param_by_key("sweep", "buffer_fractions")->def);
  if (!e->num_seeds) e->seeds[e->num_seeds++] = strdup(rd_param_by_key("sweep", "seeds")->def);
  if (!e->results) {
    char buf[512];
    snprintf(buf, sizeof buf, "results/%s.h5", e->name);
    e->results = strdup(buf);
  }
  if (!e->data_dir) e->data_dir = strdup("data");
  if (!e->timeout) e->timeout = 3600;
  for (int i = 0; i < e->num_graphs; i++) {
    const rd_graph_spec *g = rd_experiment_graph(e, e->graphs[i]);
    if (!g)
      return rd_error_set("%s:%d: [sweep] graphs: '%s' has no [graph %s] section", p, e->graphs_line,
                          e->graphs[i], e->graphs[i]);
    if (!!g->preset + !!g->file + !!g->ogb + !!g->snap + !!g->saint != 1)
      return rd_error_set("%s: [graph %s] needs exactly one of preset, file, ogb, snap, saint", p,
                          g->name);
    if (!g->preset && (g->scale || g->nodes || g->edges))
      return rd_error_set("%s: [graph %s] scale, nodes and edges apply to a preset only", p, g->name);
    if (g->partition && strcmp(g->partition, "metis") && strcmp(g->partition, "random"))
      return rd_error_set("%s: [graph %s] partition: '%s' is not metis or random", p, g->name, g->partition);
  }
  for (int i = 0; i < e->num_models; i++) {
    const rd_model_spec *m = rd_experiment_model(e, e->models[i]);
    if (!m)
      return rd_error_set("%s:%d: [sweep] models: '%s' has no [model %s] section", p, e->models_line,
                          e->models[i], e->models[i]);
  }
  return 0;
}

int rd_experiment_load(rd_experiment *e, const char *path) {
  memset(e, 0, sizeof *e);
  e->path = strdup(path);
  e->plots = 1;
  parse_state ps = {.e = e, .line = 1};
  ps.f = fopen(path, "r");
  if (!ps.f) return rd_error_set("%s: cannot open: %s", path, strerror(errno));
  const int rc = ini_parse_stream(reader, &ps, handler, &ps);
  fclose(ps.f);
  if (ps.failed) return -1;
  if (rc > 0) return rd_error_set("%s:%d: syntax error", path, rc);
  if (rc < 0) return rd_error_set("%s: cannot parse", path);
  return finish(e);
}

void rd_experiment_free(rd_experiment *e) {
  free(e->path); free(e->name); free(e->results); free(e->data_dir); free(e->hostfile); free(e->mpi_args);
  for (int i = 0; i < e->num_fractions; i++) free(e->fractions[i]);
  for (int i = 0; i < e->num_seeds; i++) free(e->seeds[i]);
  for (int i = 0; i < e->params.n; i++) free(e->params.v[i].text);
  for (int i = 0; i < e->num_graphs; i++) free(e->graphs[i]);
  for (int i = 0; i < e->num_models; i++) free(e->models[i]);
  for (int i = 0; i < e->num_policies; i++) free(e->policies[i]);
  for (int i = 0; i < e->num_graph_specs; i++) {
    rd_graph_spec *g = &e->graph[i];
    free(g->preset); free(g->file); free(g->ogb); free(g->split); free(g->partition);
    free(g->snap); free(g->saint);
  }
  for (int i = 0; i < e->num_model_specs; i++)
    for (int k = 0; k < e->model[i].params.n; k++) free(e->model[i].params.v[k].text);
  for (int i = 0; i < e->num_policy_specs; i++)
    for (int k = 0; k < e->policy[i].params.n; k++) free(e->policy[i].params.v[k].text);
  memset(e, 0, sizeof *e);
}
