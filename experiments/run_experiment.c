// run_experiment: expands an experiment descriptor into runs, prepares the
// data (generated, imported and partitioned once, cached), launches
// `mpirun -np R rudder_train` for each run with a timeout, and gathers every
// completed run into one HDF5 file, atomically, so that a kill at any moment
// loses nothing already written. Re-running skips completed runs.
//   run_experiment exp/quickstart.ini [--dry-run] [--no-plots]
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer/replay.h"
#include "descriptor.h"
#include "clock.h"
#include "error.h"
#include "generate.h"
#include "ogb.h"
#include "saint.h"
#include "snap.h"
#include "partition.h"
#include "registry.h"
#include "results.h"

typedef struct run {
  const rd_graph_spec *graph;
  const rd_model_spec *model;
  const rd_policy_spec *spec;  // NULL: the registered policy with defaults
  const char *policy;          // as listed in the sweep
  const rd_policy_ops *ops;
  int ranks;
  double fraction;
  int64_t seed;
  char id[256];
} run;

static int mkdirs(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return rd_error_set("%s: cannot create: %s", buf, strerror(errno));
      *p = '/';
    }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST) return rd_error_set("%s: cannot create: %s", buf, strerror(errno));
  return 0;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

// The generator settings of a preset spec: the preset, then scale, then the
// explicit node and edge counts.
static int graph_config(const rd_graph_spec *g, rd_gen_config *cfg) {
  if (rd_gen_preset(g->preset, cfg)) return rd_error_wrap("[graph %s] preset", g->name);
  if (g->scale)
    rd_gen_scale(cfg, llround((double)(cfg->real_nodes ? cfg->real_nodes : cfg->num_nodes) * g->scale));
  if (g->nodes) cfg->num_nodes = g->nodes;
  if (g->edges) cfg->num_edges = g->edges;
  if (g->seed) cfg->seed = (uint64_t)g->seed;
  return 0;
}

// The graph file of a spec, made (generated or imported) when absent.
static int prepare_graph(const rd_experiment *e, const rd_graph_spec *g, char *path, size_t n) {
  if (g->file) {
    snprintf(path, n, "%s", g->file);
    return exists(path) ? 0 : rd_error_set("[graph %s] file: %s does not exist", g->name, g->file);
  }
  snprintf(path, n, "%s/%s.rdg", e->data_dir, g->name);
  if (exists(path)) return 0;
  if (mkdirs(e->data_dir)) return -1;
  if (g->ogb) {
    printf("importing %s -> %s\n", g->ogb, path);
    return rd_import_ogb(g->ogb, g->split, path);
  }
  if (g->snap) {
    printf("importing %s -> %s\n", g->snap, path);
    rd_snap_config sc;
    rd_snap_defaults(&sc);
    if (g->seed) sc.seed = (uint64_t)g->seed;
    return rd_import_snap(g->snap, &sc, path);
  }
  if (g->saint) {
    printf("importing %s -> %s\n", g->saint, path);
    return rd_import_saint(g->saint, RD_MULTILABEL_RARE, path);
  }
  rd_gen_config cfg;
  if (graph_config(g, &cfg)) return -1;
  printf("generating %s (%s, scale %g)\n", path, g->preset, rd_gen_scale_of(&cfg));
  fflush(stdout);
  rd_graph gr;
  if (rd_generate(&cfg, &gr)) return rd_error_wrap("[graph %s]", g->name);
  const int rc = rd_graph_write(&gr, path);
  rd_gen_free(&gr);
  return rc;
}

static int prepare_partition(const rd_graph_spec *g, const char *graph_path, int parts, char *dir,
                             size_t n) {
  rd_part_method method = RD_PART_METIS;
  if (g->partition && rd_part_method_parse(g->partition, &method)) return -1;
  const size_t len = strlen(graph_path) - (strlen(graph_path) > 4 && !strcmp(graph_path + strlen(graph_path) - 4, ".rdg") ? 4 : 0);
  snprintf(dir, n, "%.*s.%s%d", (int)len, graph_path, rd_part_method_name(method), parts);
  char map[PATH_MAX + 16];
  snprintf(map, sizeof map, "%s/map.rdp", dir);
  if (exists(map)) return 0;
  printf("partitioning %s into %d (%s)\n", graph_path, parts, rd_part_method_name(method));
  fflush(stdout);
  rd_graph gr;
  if (rd_graph_load(&gr, graph_path, RD_LOAD_ALL)) return -1;
  rd_part_stats st;
  const int rc = rd_partition_write(&gr, parts, method, g->hops ? g->hops : 3, 1, dir, &st);
  rd_graph_free(&gr);
  return rc;
}

// argv builder.
typedef struct args {
  char *v[128];
  int n;
} args;

static void add(args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(args *a, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (a->n < 126) a->v[a->n++] = strdup(buf);
  a->v[a->n] = NULL;
}

static void free_args(args *a) {
  for (int i = 0; i < a->n; i++) free(a->v[i]);
  a->n = 0;
}

// The run's parameters, as attributes of its group.
static void attrs_of(const rd_experiment *e, const run *r, args *keys, args *values) {
  const rd_model_spec *m = r->model;
  const rd_policy_spec *p = r->spec;
#define ATTR(k, ...) (add(keys, "%s", k), add(values, __VA_ARGS__))
  ATTR("experiment", "%s", e->name);
  ATTR("graph", "%s", r->graph->name);
  // Where the graph came from and at what size: twins are scaled-down
  // stand-ins, and a figure must say so.
  rd_gen_config gc;
  if (r->graph->preset && graph_config(r->graph, &gc) == 0) {
    ATTR("graph_source", "generated:%s", r->graph->preset);
    ATTR("twin_of", "%s", gc.twin_of ? gc.twin_of : "");
    ATTR("graph_scale", "%g", rd_gen_scale_of(&gc));
    ATTR("graph_nodes", "%lld", (long long)gc.num_nodes);
  } else {
    ATTR("graph_source", "%s", r->graph->ogb ? "ogb" : r->graph->snap ? "snap" : r->graph->saint ? "graphsaint" : "file");
    ATTR("twin_of", "%s", "");
    ATTR("graph_scale", "%g", 1.0);
    ATTR("graph_nodes", "%lld", 0LL);
  }
  ATTR("partition", "%s", r->graph->partition ? r->graph->partition : "metis");
  ATTR("ranks", "%d", r->ranks);
  ATTR("model", "%s", m->name);
  ATTR("model_kind", "%s", m->kind ? m->kind : "sage");
  ATTR("fanouts", "%s", m->fanouts ? m->fanouts : "10,25");
  ATTR("batch_size", "%d", m->batch_size ? m->batch_size : 2000);
  ATTR("epochs", "%d", m->epochs ? m->epochs : 10);
  ATTR("policy", "%s", r->policy);
  ATTR("policy_impl", "%s", r->ops->name);
  ATTR("buffer_fraction", "%g", r->fraction);
  ATTR("seed", "%lld", (long long)r->seed);
  ATTR("alpha", "%g", p && p->alpha ? p->alpha : 0.05);
  ATTR("delta", "%lld", (long long)(p && p->delta ? p->delta : 25));
  ATTR("period", "%lld", (long long)(p && p->period ? p->period : p && p->delta ? p->delta : 25));
  ATTR("replace_fraction", "%g", p ? p->replace_fraction : 0);
  ATTR("policy_options", "%s", p && p->options ? p->options : "");
  ATTR("buffer_init", "%s", p && p->init ? p->init : rd_buffer_start_name(r->ops->init));
  ATTR("lookahead", "%d", p ? p->lookahead : 0);
  ATTR("hidden", "%d", m->hidden ? m->hidden : 256);
  ATTR("heads", "%d", m->heads ? m->heads : 4);
  ATTR("lr", "%g", m->lr ? m->lr : 0.003);
  ATTR("dropout", "%g", m->dropout ? m->dropout : 0.5);
  ATTR("net_latency_us", "%g", e->latency_us);
  ATTR("net_gbps", "%g", e->gbps);
  ATTR("device", "%s", e->device ? e->device : "cpu");
#undef ATTR
}

static void train_args(const rd_experiment *e, const run *r, const char *graph, const char *part,
                       const char *bin, const char *h5, const char *trace, args *a) {
  const rd_model_spec *m = r->model;
  const rd_policy_spec *p = r->spec;
  add(a, "mpirun");
  add(a, "-np");
  add(a, "%d", r->ranks);
  if (e->hostfile) { add(a, "--hostfile"); add(a, "%s", e->hostfile); }
  if (e->mpi_args) {
    char *copy = strdup(e->mpi_args), *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) add(a, "%s", t);
    free(copy);
  }
  add(a, "%s/tools/rudder_train", bin);
  add(a, "--graph"); add(a, "%s", graph);
  add(a, "--partition"); add(a, "%s", part);
  add(a, "--quiet");
  if (e->device) { add(a, "--device"); add(a, "%s", e->device); }
  add(a, "--seed"); add(a, "%lld", (long long)r->seed);
  add(a, "--policy"); add(a, "%s", r->ops->name);
  add(a, "--buffer-fraction"); add(a, "%g", r->fraction);
  if (m->kind) { add(a, "--model"); add(a, "%s", m->kind); }
  if (m->fanouts) { add(a, "--fanouts"); add(a, "%s", m->fanouts); }
  if (m->hidden) { add(a, "--hidden"); add(a, "%d", m->hidden); }
  if (m->heads) { add(a, "--heads"); add(a, "%d", m->heads); }
  if (m->batch_size) { add(a, "--batch-size"); add(a, "%d", m->batch_size); }
  if (m->epochs) { add(a, "--epochs"); add(a, "%d", m->epochs); }
  if (m->eval_nodes) { add(a, "--eval-nodes"); add(a, "%d", m->eval_nodes); }
  if (m->max_steps) { add(a, "--max-steps"); add(a, "%lld", (long long)m->max_steps); }
  if (m->lr) { add(a, "--lr"); add(a, "%g", m->lr); }
  if (m->dropout) { add(a, "--dropout"); add(a, "%g", m->dropout); }
  if (p && p->alpha) { add(a, "--alpha"); add(a, "%g", p->alpha); }
  if (p && p->delta) { add(a, "--delta"); add(a, "%lld", (long long)p->delta); }
  if (p && p->period) { add(a, "--period"); add(a, "%lld", (long long)p->period); }
  if (p && p->replace_fraction) { add(a, "--replace-fraction"); add(a, "%g", p->replace_fraction); }
  if (p && p->options) { add(a, "--policy-options"); add(a, "%s", p->options); }
  if (p && p->init) { add(a, "--buffer-init"); add(a, "%s", p->init); }
  if (p && p->lookahead) { add(a, "--lookahead"); add(a, "%d", p->lookahead); }
  if (e->gbps > 0) {
    add(a, "--net-latency-us"); add(a, "%g", e->latency_us);
    add(a, "--net-gbps"); add(a, "%g", e->gbps);
  }
  if (trace) { add(a, "--record-trace"); add(a, "%s", trace); }
  add(a, "--results"); add(a, "%s", h5);
  add(a, "--run-id"); add(a, "%s", r->id);
  args keys = {0}, values = {0};
  attrs_of(e, r, &keys, &values);
  for (int i = 0; i < keys.n; i++) {
    add(a, "--attr");
    add(a, "%s=%s", keys.v[i], values.v[i]);
  }
  free_args(&keys);
  free_args(&values);
}

// Runs argv with output to `log` and a timeout; 0 ok, 1 failed, 2 timed out.
static int launch(char *const *argv, const char *log, int timeout) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    FILE *f = freopen(log, "w", stdout);
    if (!f || dup2(fileno(stdout), 2) < 0) _exit(127);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  if (pid < 0) return 1;
  setpgid(pid, pid);
  const double deadline = rd_now() + timeout;
  int status;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    if (rd_now() > deadline) {
      kill(-pid, SIGTERM);
      sleep(2);
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 2;
    }
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
  }
}

static void log_tail(const char *log, char *out, size_t n) {
  out[0] = 0;
  FILE *f = fopen(log, "rb");
  if (!f) return;
  fseek(f, 0, SEEK_END);
  const long size = ftell(f), start = size > (long)n - 1 ? size - (long)n + 1 : 0;
  fseek(f, start, SEEK_SET);
  const size_t got = fread(out, 1, n - 1, f);
  out[got] = 0;
  fclose(f);
}

// An offline policy (Belady: the bound) on the traces of a live run of its
// group (every run of a group samples the same accesses), recorded as its
// own run.
static int replay_run(const rd_experiment *e, const run *r, const char *trace, const char *h5) {
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  cfg.policy = r->ops;
  cfg.capacity_fraction = r->fraction;
  const rd_policy_spec *p = r->spec;
  if (p && p->alpha) cfg.alpha = p->alpha;
  if (p && p->delta) cfg.delta = p->delta;
  if (p && p->period) cfg.params.period = p->period;
  if (p) cfg.params.fraction = p->replace_fraction;
  if (p) cfg.params.options = p->options;
  if (p) cfg.params.lookahead = p->lookahead;
  if (p && p->init && rd_buffer_start_parse(p->init, &cfg.init)) return -1;
  const rd_net_model net = {e->latency_us, e->gbps};
  rd_train_result res = {0};
  rd_step_metrics none = {0};
  int64_t hits = 0, remote = 0, rows = 0, capacity = 0, halo = 0;
  for (int k = 0; k < r->ranks; k++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s.%d", trace, k);
    rd_trace t;
    rd_replay_result rr;
    if (rd_trace_load(&t, path)) return -1;
    const int rc = rd_replay(&t, &cfg, &net, 0, &rr, NULL);
    rd_trace_free(&t);
    if (rc) return -1;
    hits += rr.hits;
    remote += rr.accesses;
    rows += rr.rows_fetched;
    capacity += rr.capacity;
    halo += rr.halo_size;
    res.num_steps = rr.steps;
  }
  // One synthetic step row per run carries the totals (the bound has no timings).
  none.remote_inputs = remote;
  none.rows_fetched = rows;
  none.buffer.hits = hits;
  none.buffer.misses = rows;
  none.step = -1;
  args keys = {0}, values = {0};
  attrs_of(e, r, &keys, &values);
  add(&keys, "replayed");
  add(&values, "1");
  const rd_run_record rec = {.run_id = r->id, .attr_keys = (const char *const *)keys.v,
                             .attr_values = (const char *const *)values.v, .num_attrs = keys.n,
                             .res = &res, .ranks = r->ranks, .epochs = 0, .steps = &none,
                             .num_steps = 1, .capacity = capacity, .halo_size = halo};
  const int rc = rd_results_write_run(h5, &rec);
  free_args(&keys);
  free_args(&values);
  return rc;
}

static int same_group(const run *a, const run *b) {
  return a->graph == b->graph && a->ranks == b->ranks && a->model == b->model && a->seed == b->seed &&
         a->fraction == b->fraction;
}

// Whether the group of runs[i] has an offline run (they sit at its end).
static int group_has_offline(const run *runs, int n, int i) {
  for (int k = i; k < n && same_group(&runs[k], &runs[i]); k++)
    if (runs[k].ops->flags & RD_POLICY_OFFLINE) return 1;
  return 0;
}

// The agents that talk to an LLM server and name no endpoint of their own.
static int uses_local_server(const run *r) {
  const char *opts = r->spec && r->spec->options ? r->spec->options : "";
  return (r->ops->flags & RD_POLICY_SERVER) && !strstr(opts, "endpoint=");
}

// Starts the local server once, with a slot per rank; returns 1 if this
// process started it (and so stops it at the end).
static int start_server(int slots) {
  char cmd[PATH_MAX + 128];
  snprintf(cmd, sizeof cmd, "%s/agents/llm/rudder_llm_server status >/dev/null 2>&1", RUDDER_SOURCE_DIR);
  if (system(cmd) == 0) return 0;  // already up: someone else's, leave it running
  snprintf(cmd, sizeof cmd, "%s/agents/llm/rudder_llm_server start --parallel %d", RUDDER_SOURCE_DIR, slots);
  printf("starting the local LLM server (%d slots)\n", slots);
  fflush(stdout);
  return system(cmd) == 0 ? 1 : -1;
}

static void stop_server(void) {
  char cmd[PATH_MAX + 64];
  snprintf(cmd, sizeof cmd, "%s/agents/llm/rudder_llm_server stop", RUDDER_SOURCE_DIR);
  if (system(cmd) != 0) fprintf(stderr, "run_experiment: stopping the LLM server failed\n");
}

static int find_bin(char *bin, size_t n) {
  char exe[PATH_MAX];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return rd_error_set("cannot locate the build directory");
  exe[len] = 0;
  char *slash = strrchr(exe, '/');
  *slash = 0;  // .../build/experiments
  slash = strrchr(exe, '/');
  *slash = 0;  // .../build
  snprintf(bin, n, "%s", exe);
  return 0;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int dry = 0, plots = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dry-run")) dry = 1;
    else if (!strcmp(argv[i], "--no-plots")) plots = 0;
    else if (!path && argv[i][0] != '-') path = argv[i];
    else {
      fprintf(stderr, "usage: run_experiment exp/NAME.ini [--dry-run] [--no-plots]\n");
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: run_experiment exp/NAME.ini [--dry-run] [--no-plots]\n");
    return 2;
  }
  rd_experiment e;
  char bin[PATH_MAX];
  run *runs = NULL;
  int rc = 2, server = 0;  // server: 1 when this process started the LLM server
  if (rd_experiment_load(&e, path) || find_bin(bin, sizeof bin)) {
    fprintf(stderr, "run_experiment: %s\n", rd_error());
    goto out;
  }
  // Every policy and every input must resolve before anything runs.
  const rd_policy_ops *ops[RD_MAX_LIST];
  int offline = 0, live = 0;
  for (int i = 0; i < e.num_policies; i++) {
    const rd_policy_spec *s = rd_experiment_policy(&e, e.policies[i]);
    const char *impl = s && s->policy ? s->policy : e.policies[i];
    if (!(ops[i] = rd_policy_find(impl))) {
      fprintf(stderr, "run_experiment: %s:%d: [sweep] policies: %s\n", e.path, e.policies_line, rd_error());
      goto out;
    }
    offline |= (ops[i]->flags & RD_POLICY_OFFLINE) != 0;
    live |= !(ops[i]->flags & RD_POLICY_OFFLINE);
  }
  for (int i = 0; i < e.num_policy_specs; i++) {
    rd_buffer_start init;
    if (e.policy[i].init && rd_buffer_start_parse(e.policy[i].init, &init)) {
      fprintf(stderr, "run_experiment: %s: [policy %s] init: %s\n", e.path, e.policy[i].name, rd_error());
      goto out;
    }
  }
  if (offline && !live) {
    fprintf(stderr, "run_experiment: %s:%d: [sweep] policies: an offline policy (belady) replays "
                    "the traces of a live run of its group: list one too\n", e.path, e.policies_line);
    goto out;
  }
  for (int i = 0; i < e.num_graph_specs; i++) {
    const rd_graph_spec *g = &e.graph[i];
    char need[PATH_MAX] = "";
    if (g->file) snprintf(need, sizeof need, "%s", g->file);
    if (g->ogb) snprintf(need, sizeof need, "%s/raw/edge.csv.gz", g->ogb);
    if (g->snap) snprintf(need, sizeof need, "%s", g->snap);
    if (g->saint) snprintf(need, sizeof need, "%s/adj_full.npz", g->saint);
    if (*need && !exists(need)) {
      fprintf(stderr, "run_experiment: %s: [graph %s] %s: %s does not exist%s\n", e.path, g->name,
              g->file ? "file" : g->ogb ? "ogb" : g->snap ? "snap" : "saint", need,
              g->file ? "" : " (download the dataset first: see docs/REPRODUCTION.md, 'Real datasets')");
      goto out;
    }
  }
  // Expand: graph, ranks, model, seed, fraction, then policy innermost, so
  // that the runs compared with each other sit side by side.
  const int total = e.num_graphs * e.num_ranks * e.num_models * e.num_seeds * e.num_fractions * e.num_policies;
  runs = calloc((size_t)total, sizeof *runs);
  int n = 0;
  for (int gi = 0; gi < e.num_graphs; gi++)
    for (int ri = 0; ri < e.num_ranks; ri++)
      for (int mi = 0; mi < e.num_models; mi++)
        for (int si = 0; si < e.num_seeds; si++)
          for (int fi = 0; fi < e.num_fractions; fi++)
            for (int pi = 0; pi < e.num_policies; pi++) {
              run *r = &runs[n++];
              *r = (run){.graph = rd_experiment_graph(&e, e.graphs[gi]),
                         .model = rd_experiment_model(&e, e.models[mi]),
                         .spec = rd_experiment_policy(&e, e.policies[pi]),
                         .policy = e.policies[pi], .ops = ops[pi], .ranks = e.ranks[ri],
                         .fraction = e.fractions[fi], .seed = e.seeds[si]};
              snprintf(r->id, sizeof r->id, "%s_r%d_%s_%s_f%g_s%lld", e.graphs[gi], e.ranks[ri],
                       e.models[mi], e.policies[pi], e.fractions[fi], (long long)e.seeds[si]);
            }
  // An offline policy replays the traces of its group's first live run:
  // offline runs go last in their group (the sweep's order otherwise).
  for (int i = n - 1; i >= 0; i--)
    if (runs[i].ops->flags & RD_POLICY_OFFLINE) {
      int last = i;
      while (last + 1 < n && same_group(&runs[last + 1], &runs[i]) &&
             !(runs[last + 1].ops->flags & RD_POLICY_OFFLINE))
        last++;
      const run t = runs[i];
      memmove(&runs[i], &runs[i + 1], (size_t)(last - i) * sizeof *runs);
      runs[last] = t;
    }
  if (dry) {
    for (int i = 0; i < n; i++) printf("%s\n", runs[i].id);
    printf("%d runs -> %s\n", n, e.results);
    rc = 0;
    goto out;
  }
  char logs[2048];
  snprintf(logs, sizeof logs, "%s.logs", e.results);
  rc = 1;
  if (mkdirs(logs)) {
    fprintf(stderr, "run_experiment: %s\n", rd_error());
    goto out;
  }
  setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0);
  int done = 0, failed = 0, skipped = 0;
  double spent = 0;
  char group_trace[PATH_MAX] = "", trace[PATH_MAX] = "";
  for (int i = 0; i < n; i++) {
    const run *r = &runs[i];
    // The first live run of a group with an offline run records its traces.
    const int first_live = !(r->ops->flags & RD_POLICY_OFFLINE) &&
                           (i == 0 || !same_group(&runs[i - 1], r));
    const int for_offline = offline && first_live && group_has_offline(runs, n, i);
    const int record = for_offline || e.traces;
    if (record && !(r->ops->flags & RD_POLICY_OFFLINE))
      snprintf(trace, sizeof trace, "%s/%s.trace", logs, r->id);
    if (for_offline) snprintf(group_trace, sizeof group_trace, "%s", trace);
    if (rd_results_has_run(e.results, r->id)) {
      skipped++;
      continue;
    }
    if (uses_local_server(r) && server == 0) {
      int slots = 0;
      for (int k = 0; k < e.num_ranks; k++) slots = e.ranks[k] > slots ? e.ranks[k] : slots;
      server = start_server(slots);
      if (server < 0)
        fprintf(stderr, "run_experiment: the local LLM server did not start; the %s runs will "
                        "fail and be recorded (run scripts/setup_llm)\n", r->policy);
    }
    char graph[PATH_MAX], part[PATH_MAX], h5[PATH_MAX], log[PATH_MAX];
    if (prepare_graph(&e, r->graph, graph, sizeof graph) ||
        prepare_partition(r->graph, graph, r->ranks, part, sizeof part)) {
      fprintf(stderr, "run_experiment: %s: %s\n", e.path, rd_error());
      goto out;
    }
    snprintf(h5, sizeof h5, "%s/%s.h5", logs, r->id);
    snprintf(log, sizeof log, "%s/%s.log", logs, r->id);
    remove(h5);
    const double t0 = rd_now();
    int status;
    if (r->ops->flags & RD_POLICY_OFFLINE) {
      status = replay_run(&e, r, group_trace, h5) ? 1 : 0;
      if (status) {
        FILE *f = fopen(log, "w");
        if (f) { fprintf(f, "%s\n", rd_error()); fclose(f); }
      }
    } else {
      args a = {0};
      train_args(&e, r, graph, part, bin, h5, record ? trace : NULL, &a);
      status = launch(a.v, log, e.timeout);
      free_args(&a);
    }
    if (status != 0) {
      char tail[2048];
      log_tail(log, tail, sizeof tail);
      args keys = {0}, values = {0};
      attrs_of(&e, r, &keys, &values);
      remove(h5);
      if (rd_results_write_failed(h5, r->id, (const char *const *)keys.v, (const char *const *)values.v,
                                  keys.n, status == 2 ? "timeout" : "failed", tail))
        fprintf(stderr, "run_experiment: %s\n", rd_error());
      free_args(&keys);
      free_args(&values);
      failed++;
    }
    if (rd_results_merge(e.results, h5)) {
      fprintf(stderr, "run_experiment: %s\n", rd_error());
      goto out;
    }
    remove(h5);
    const double dt = rd_now() - t0;
    spent += dt;
    done++;
    const int left = n - skipped - done;
    printf("[%d/%d] %s: %s in %.1f s | ETA %.0f s\n", skipped + done, n, r->id,
           status == 0 ? "ok" : status == 2 ? "TIMEOUT" : "FAILED (see log)", dt,
           left * spent / done);
    fflush(stdout);
  }
  printf("%s: %d runs done, %d failed, %d already there -> %s\n", e.path, done, failed, skipped, e.results);
  rc = failed ? 1 : 0;
  if (plots && e.plots) {
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "%s/plots/render '%s'", RUDDER_SOURCE_DIR, e.results);
    if (system(cmd) != 0) {
      fprintf(stderr, "run_experiment: rendering the figures failed\n");
      rc = 1;
    }
  }
out:
  if (server == 1) stop_server();
  free(runs);
  rd_experiment_free(&e);
  return rc;
}
