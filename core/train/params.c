#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sampler/sampler.h"

#define AT(field) offsetof(rd_train_config, field)
#define T RD_TOOL_TRAIN
#define TR (RD_TOOL_TRAIN | RD_TOOL_REPLAY)

// section, key, flag, attr, type, lo, hi, choices, choice_base, default, unit, help, field, tools
static const rd_param table[] = {
    // Inputs (command line only).
    {NULL, "graph", "graph", NULL, RD_PARAM_STR, 0, 0, NULL, 0, NULL, "", "the shared topology (*.rdg)", AT(graph_path), T},
    {NULL, "partition", "partition", NULL, RD_PARAM_STR, 0, 0, NULL, 0, NULL, "", "directory with map.rdp + part<rank>.rdp", AT(partition_dir), T},
    {NULL, "record_trace", "record-trace", NULL, RD_PARAM_STR, 0, 0, NULL, 0, NULL, "", "write each rank's access trace to PREFIX.<rank>", AT(record_trace), T},
    {NULL, "quiet", "quiet", NULL, RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "no per-epoch lines", AT(quiet), T},
    // [model NAME]
    {"model", "kind", "model", "model_kind", RD_PARAM_CHOICE, 0, 0, "sage|gat|mlp", RD_MODEL_SAGE, "sage", "", "the GNN", AT(model.kind), T},
    {"model", "fanouts", "fanouts", "fanouts", RD_PARAM_FANOUTS, 0, 0, NULL, 0, "10,25", "", "neighbours sampled per layer, input layer first", AT(fanouts), T},
    {"model", "batch_size", "batch-size", "batch_size", RD_PARAM_INT, 1, 1e8, NULL, 0, "2000", "seeds", "seeds per rank per step (on average)", AT(batch_size), T},
    {"model", "hidden", "hidden", "hidden", RD_PARAM_INT, 1, 1e5, NULL, 0, "256", "", "hidden width", AT(model.hidden), T},
    {"model", "heads", "heads", "heads", RD_PARAM_INT, 1, 64, NULL, 0, "4", "", "GAT attention heads", AT(model.heads), T},
    {"model", "dropout", "dropout", "dropout", RD_PARAM_F32, 0, 0.99, NULL, 0, "0.5", "", "dropout between layers", AT(model.dropout), T},
    {"model", "lr", "lr", "lr", RD_PARAM_F64, 1e-8, 10, NULL, 0, "0.003", "", "Adam learning rate", AT(lr), T},
    {"model", "epochs", "epochs", "epochs", RD_PARAM_INT, 1, 1e6, NULL, 0, "10", "", "epochs", AT(epochs), T},
    {"model", "max_steps", "max-steps", "max_steps", RD_PARAM_I64, 0, 1e12, NULL, 0, "0", "steps", "stop after this many steps (0: no limit)", AT(max_steps), T},
    {"model", "eval_every", "eval-every", "eval_every", RD_PARAM_INT, 0, 1e6, NULL, 0, "0", "epochs", "epochs between evaluations (0: at the end only)", AT(eval_every), T},
    {"model", "eval_nodes", "eval-nodes", "eval_nodes", RD_PARAM_I64, 0, 1e12, NULL, 0, "0", "nodes", "evaluate on at most this many nodes (0: all)", AT(eval_nodes), T},
    // [policy NAME]
    {"policy", "policy", "policy", "policy", RD_PARAM_STR, 0, 0, NULL, 0, "none", "", "the buffer policy (registered name)", AT(policy_name), T},
    {"policy", "buffer_rows", "buffer-rows", "buffer_rows", RD_PARAM_I64, 0, 2e9, NULL, 0, "0", "rows", "buffer capacity in rows (0: --buffer-fraction of the halo)", AT(prefetch.capacity_rows), TR},
    {"policy", "alpha", "alpha", "alpha", RD_PARAM_F64, 1e-6, 0.999, NULL, 0, "0.05", "", "score decay per step", AT(prefetch.alpha), TR},
    {"policy", "delta", "delta", "delta", RD_PARAM_I64, 1, 1e9, NULL, 0, "25", "steps", "staleness age and window length", AT(prefetch.delta), TR},
    {"policy", "period", "period", "period", RD_PARAM_I64, 0, 1e9, NULL, 0, "0", "steps", "steps between replacements (0: delta)", AT(prefetch.params.period), TR},
    {"policy", "replace_fraction", "replace-fraction", "replace_fraction", RD_PARAM_F64, 0, 1, NULL, 0, "0", "", "share of the buffer a replacement may touch (0: every stale slot)", AT(prefetch.params.fraction), TR},
    {"policy", "init", "buffer-init", "buffer_init", RD_PARAM_CHOICE, 0, 0, "policy|empty|degree|random|vip", RD_INIT_POLICY, "policy", "", "the buffer's initial fill (policy: the policy's own; belady always starts empty)", AT(prefetch.init), TR},
    {"policy", "lookahead", "lookahead", "lookahead", RD_PARAM_INT, 0, 1e5, NULL, 0, "0", "steps", "sample K steps ahead (across epochs): the remote inputs of steps t..t+K are known at step t (the window the lookahead policy ranks by; a replay shows it from the trace); training is identical for any K", AT(lookahead), TR},
    {"policy", "overlap_fetch", "overlap-fetch", "overlap_fetch", RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "request step t+1's missing rows while step t computes (samples one step further ahead): the same rows, hits and losses", AT(overlap_fetch), T},
    {"policy", "replicate_features", "replicate-features", "replicate_features", RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "every rank loads every feature row: no exchange, the zero-communication bound (policy none)", AT(replicate_features), T},
    {"policy", "options", "policy-options", "policy_options", RD_PARAM_STR, 0, 0, NULL, 0, "", "", "policy-specific K=V,... (agents: endpoint, model, ...)", AT(prefetch.params.options), TR},
    // [sweep]: one value per run
    {"sweep", "seeds", "seed", "seed", RD_PARAM_U64, 0, 9e15, NULL, 0, "1", "", "seed of sampling, initialisation and random fills", AT(seed), TR},
    {"sweep", "buffer_fractions", "buffer-fraction", "buffer_fraction", RD_PARAM_F64, 0, 1, NULL, 0, "0.25", "", "buffer capacity as a share of the halo", AT(prefetch.capacity_fraction), TR},
    // [network]: alpha-beta emulation of a cluster's network
    {"network", "latency_us", "net-latency-us", "net_latency_us", RD_PARAM_F64, 0, 1e6, NULL, 0, "0", "us", "per-message latency (0 and gbps 0: off)", AT(net.latency_us), TR},
    {"network", "gbps", "net-gbps", "net_gbps", RD_PARAM_F64, 0, 1e6, NULL, 0, "0", "Gb/s", "bandwidth (0: emulation off)", AT(net.gbps), TR},
    // [experiment]: where and how every run of the experiment runs
    {"experiment", "device", "device", "device", RD_PARAM_CHOICE, 0, 0, "cpu|cuda|cpu-staged", 0, "cpu", "", "cuda: one GPU per rank, shared round-robin when fewer; cpu-staged: the CPU driven as a device", AT(device), T},
    {"experiment", "fetch_barrier", "fetch-barrier", "fetch_barrier", RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "diagnostic: time a barrier before each exchange apart (t_skew)", AT(fetch_barrier), T},
    {"experiment", "overlap", "overlap", "overlap", RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "GPU: the next step's sampling and fetch overlap this step's backward", AT(overlap), T},
    {"experiment", "overlap_fetch", "overlap-fetch", "overlap_fetch", RD_PARAM_FLAG, 0, 1, NULL, 0, "no", "", "request step t+1's missing rows (non-blocking) while step t computes; only what is left is waited for (t_wait)", AT(overlap_fetch), T},
    {0}};

const rd_param *rd_params(void) { return table; }

const rd_param *rd_param_by_key(const char *section, const char *key) {
  for (const rd_param *p = table; p->key; p++)
    if (p->section && !strcmp(p->section, section) && !strcmp(p->key, key)) return p;
  return NULL;
}

static void *field(const rd_param *p, rd_train_config *cfg) { return (char *)cfg + p->offset; }
static const void *cfield(const rd_param *p, const rd_train_config *cfg) {
  return (const char *)cfg + p->offset;
}

// The index of `s` in "a|b|c", or -1.
static int choice_index(const char *choices, const char *s) {
  const size_t n = strlen(s);
  int i = 0;
  for (const char *c = choices; *c; i++) {
    const char *bar = strchr(c, '|');
    const size_t len = bar ? (size_t)(bar - c) : strlen(c);
    if (len == n && !strncmp(c, s, n)) return i;
    if (!bar) break;
    c = bar + 1;
  }
  return -1;
}

static void choice_at(const char *choices, int i, char *out, size_t n) {
  const char *c = choices;
  for (; i > 0 && c; i--) c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
  if (!c) {
    snprintf(out, n, "?");
    return;
  }
  const char *bar = strchr(c, '|');
  snprintf(out, n, "%.*s", (int)(bar ? (size_t)(bar - c) : strlen(c)), c);
}

int rd_param_set(const rd_param *p, rd_train_config *cfg, const char *text, const char *where) {
  void *f = field(p, cfg);
  switch (p->type) {
  case RD_PARAM_STR:
    *(const char **)f = text;
    return 0;
  case RD_PARAM_FLAG: {
    static const char *const yes[] = {"yes", "true", "1", "on"}, *const no[] = {"no", "false", "0", "off"};
    for (int i = 0; i < 4; i++) {
      if (!strcmp(text, yes[i])) return *(int *)f = 1, 0;
      if (!strcmp(text, no[i])) return *(int *)f = 0, 0;
    }
    return rd_error_set("%s: '%s' is not yes or no", where, text);
  }
  case RD_PARAM_CHOICE: {
    const int i = choice_index(p->choices, text);
    if (i < 0) return rd_error_set("%s: '%s' is not one of %s", where, text, p->choices);
    *(int *)f = p->choice_base + i;
    return 0;
  }
  case RD_PARAM_FANOUTS: {
    const int n = rd_parse_fanouts(text, cfg->fanouts, RD_MAX_LAYERS);
    if (n < 0) return rd_error_wrap("%s", where);
    cfg->num_layers = n;
    return 0;
  }
  default: break;
  }
  char *end;
  errno = 0;
  const int integral = p->type != RD_PARAM_F64 && p->type != RD_PARAM_F32;
  const double v = strtod(text, &end);
  if (errno || end == text || *end || !isfinite(v))
    return rd_error_set("%s: '%s' is not %s", where, text, integral ? "an integer" : "a number");
  if (integral && v != floor(v)) return rd_error_set("%s: '%s' is not an integer", where, text);
  if (!(v >= p->lo && v <= p->hi))
    return rd_error_set("%s: %s is out of range [%.15g, %.15g]", where, text, p->lo, p->hi);
  switch (p->type) {
  case RD_PARAM_INT: *(int *)f = (int)v; break;
  case RD_PARAM_I64: *(int64_t *)f = (int64_t)v; break;
  case RD_PARAM_U64: *(uint64_t *)f = (uint64_t)v; break;
  case RD_PARAM_F32: *(float *)f = (float)v; break;
  default: *(double *)f = v; break;
  }
  return 0;
}

// The shortest text that reads back as the same double (or float).
static void format_real(double v, int as_float, char *out, size_t n) {
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(out, n, "%.*g", digits, v);
    const double back = strtod(out, NULL);
    if (as_float ? (float)back == (float)v : back == v) return;
  }
}

void rd_param_format(const rd_param *p, const rd_train_config *cfg, char *out, size_t n) {
  const void *f = cfield(p, cfg);
  switch (p->type) {
  case RD_PARAM_INT: snprintf(out, n, "%d", *(const int *)f); break;
  case RD_PARAM_I64: snprintf(out, n, "%lld", (long long)*(const int64_t *)f); break;
  case RD_PARAM_U64: snprintf(out, n, "%llu", (unsigned long long)*(const uint64_t *)f); break;
  case RD_PARAM_F64: format_real(*(const double *)f, 0, out, n); break;
  case RD_PARAM_F32: format_real(*(const float *)f, 1, out, n); break;
  case RD_PARAM_STR: snprintf(out, n, "%s", *(const char *const *)f ? *(const char *const *)f : ""); break;
  case RD_PARAM_FLAG: snprintf(out, n, "%s", *(const int *)f ? "yes" : "no"); break;
  case RD_PARAM_CHOICE: choice_at(p->choices, *(const int *)f - p->choice_base, out, n); break;
  case RD_PARAM_FANOUTS: {
    size_t len = 0;
    out[0] = 0;
    for (int l = 0; l < cfg->num_layers && len < n; l++)
      len += (size_t)snprintf(out + len, n - len, l ? ",%d" : "%d", cfg->fanouts[l]);
    break;
  }
  }
}

void rd_params_defaults(rd_train_config *cfg) {
  *cfg = (rd_train_config){.verify = 1};
  for (const rd_param *p = table; p->key; p++)
    if (p->def && rd_param_set(p, cfg, p->def, p->key)) abort();  // a bad default is a bug in the table
  cfg->model.num_layers = cfg->num_layers;
  cfg->model.seed = cfg->seed;
}

void rd_train_config_defaults(rd_train_config *c) { rd_params_defaults(c); }

void rd_prefetch_config_defaults(rd_prefetch_config *c) {
  rd_train_config t;
  rd_params_defaults(&t);
  *c = t.prefetch;
}

void rd_params_resolve(rd_train_config *cfg) {
  cfg->model.num_layers = cfg->num_layers;
  cfg->model.seed = cfg->seed;
  cfg->prefetch.params.seed = cfg->seed;
  if (cfg->prefetch.params.period == 0) cfg->prefetch.params.period = cfg->prefetch.delta;
}

static const char *const sections[] = {NULL, "model", "policy", "sweep", "network", "experiment"};
static const char *const headings[] = {"inputs", "model ([model NAME] in a descriptor)",
                                       "persistent buffer ([policy NAME])", "per run ([sweep] lists)",
                                       "network emulation ([network])", "device ([experiment])"};

static int same_section(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

void rd_params_usage(FILE *f, unsigned tool) {
  for (size_t s = 0; s < sizeof sections / sizeof *sections; s++) {
    int any = 0;
    for (const rd_param *p = table; p->key; p++) {
      if (!same_section(p->section, sections[s]) || !(p->tools & tool)) continue;
      if (!any++) fprintf(f, "%s:\n", headings[s]);
      char arg[64] = "";
      if (p->type == RD_PARAM_CHOICE) snprintf(arg, sizeof arg, " %s", p->choices);
      else if (p->type != RD_PARAM_FLAG) snprintf(arg, sizeof arg, " %s", p->type == RD_PARAM_STR ? "TEXT" : p->type == RD_PARAM_FANOUTS ? "N,N" : "X");
      char head[96];
      snprintf(head, sizeof head, "  --%s%s", p->flag, arg);
      fprintf(f, "%-34s %s", head, p->help);
      if (p->unit[0]) fprintf(f, " [%s]", p->unit);
      if (p->def && p->type != RD_PARAM_FLAG && p->def[0]) fprintf(f, " (%s)", p->def);
      if (p->section) fprintf(f, "  {%s}", p->key);
      fputc('\n', f);
    }
  }
}

void rd_params_print_ini(FILE *f, const rd_train_config *cfg) {
  static const char *const named[] = {"[model run]", "[policy run]", "[sweep]", "[network]", "[experiment]"};
  for (size_t s = 1; s < sizeof sections / sizeof *sections; s++) {
    fprintf(f, "%s\n", named[s - 1]);
    for (const rd_param *p = table; p->key; p++) {
      if (!same_section(p->section, sections[s])) continue;
      char v[512];
      rd_param_format(p, cfg, v, sizeof v);
      fprintf(f, "%s = %s\n", p->key, v);
    }
  }
}

int rd_cli_init(rd_cli *c, unsigned tool, const struct option *extra) {
  int n = 0;
  c->tool = tool;
  for (const rd_param *p = table; p->key; p++) {
    if (!(p->tools & tool)) continue;
    if (n >= (int)(sizeof c->opts / sizeof *c->opts) - 1) return rd_error_set("too many options");
    c->rows[n] = p;
    c->opts[n] = (struct option){p->flag, p->type == RD_PARAM_FLAG ? no_argument : required_argument, 0, 256 + n};
    n++;
  }
  for (; extra && extra->name; extra++) {
    if (n >= (int)(sizeof c->opts / sizeof *c->opts) - 1) return rd_error_set("too many options");
    c->opts[n++] = *extra;
  }
  c->opts[n] = (struct option){0, 0, 0, 0};
  return 0;
}

int rd_cli_next(rd_cli *c, int argc, char **argv, rd_train_config *cfg) {
  opterr = 0;
  const int prev = optind;
  int idx = -1;
  const int v = getopt_long(argc, argv, "h", c->opts, &idx);
  if (v == -1) return -1;
  if (v == '?') {
    const char *arg = optind > prev && optind - 1 < argc ? argv[optind - 1] : "?";
    rd_error_set(optopt ? "option '%s' needs a value" : "unknown option '%s' (see --help)", arg);
    return '?';
  }
  if (v < 256) return v;
  const rd_param *p = c->rows[v - 256];
  char where[80];
  snprintf(where, sizeof where, "--%s", p->flag);
  if (rd_param_set(p, cfg, p->type == RD_PARAM_FLAG ? "yes" : optarg, where)) return '?';
  return 0;
}
