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
#include "cli.h"
#include "descriptor.h"
#include "clock.h"
#include "cpu.h"
#include "error.h"
#include "generate.h"
#include "ogb.h"
#include "saint.h"
#include "snap.h"
#include "partition.h"
#include "registry.h"
#include "results.h"

// The niceness of the ranks of a run whose agent asks the local LLM server.
enum { RANK_NICE = 10 };

typedef struct run {
  const rd_graph_spec *graph;
  const rd_model_spec *model;
  const rd_policy_spec *spec;  // NULL: the registered policy with defaults
  const char *policy;          // as listed in the sweep
  const rd_policy_ops *ops;
  int ranks;
  const char *fraction, *seed;  // as written in the sweep
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

// The registered policy a sweep entry runs: its section's `policy`, else its name.
static const char *policy_impl(const rd_experiment *e, const char *label) {
  const rd_policy_spec *s = rd_experiment_policy(e, label);
  const char *impl = s ? rd_param_list_get(&s->params, "policy") : NULL;
  return impl ? impl : label;
}

// Every parameter set of a run, in the order they apply.
static int param_sets(const rd_experiment *e, const run *r, const rd_param_list *sets[3]) {
  int n = 0;
  sets[n++] = &e->params;
  sets[n++] = &r->model->params;
  if (r->spec) sets[n++] = &r->spec->params;
  return n;
}

// The configuration rudder_train resolves for the run, from the same text
// through the same schema (checked when the descriptor was read).
static void run_config(const rd_experiment *e, const run *r, rd_train_config *cfg) {
  rd_train_config_defaults(cfg);
  const rd_param_list *sets[3];
  const int n = param_sets(e, r, sets);
  for (int k = 0; k < n; k++)
    for (int i = 0; i < sets[k]->n; i++) rd_param_set(sets[k]->v[i].param, cfg, sets[k]->v[i].text, "");
  rd_param_set(rd_param_by_key("sweep", "seeds"), cfg, r->seed, "");
  rd_param_set(rd_param_by_key("sweep", "buffer_fractions"), cfg, r->fraction, "");
  cfg->policy_name = r->ops->name;
  cfg->prefetch.policy = r->ops;
  rd_params_resolve(cfg);
  cfg->prefetch.init = rd_prefetch_init_of(&cfg->prefetch);
}

// The run's labels (its parameters are written from its configuration).
static void labels_of(const rd_experiment *e, const run *r, args *keys, args *values) {
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
  ATTR("model", "%s", r->model->name);
  ATTR("label", "%s", r->policy);
  // Always written, so the tables of experiments without a bound have the column.
  ATTR("replayed", "%d", (r->ops->flags & RD_POLICY_OFFLINE) != 0);
#undef ATTR
}

// Threads per rank and where the ranks run. T = OMP_NUM_THREADS when set,
// else this machine's cores / ranks (at least 1), passed to every rank for
// OpenMP and OpenBLAS. Ranks get T cores each (--map-by slot:PE=T) when
// they fit, else run unbound: mpirun's default binds each rank to ONE core,
// where its T threads would queue. [mpi] args that place ranks themselves,
// or a hostfile (other machines' cores), are left to mpirun. `desc` says
// what was chosen.
static void placement(const rd_experiment *e, int ranks, args *a, char *desc, size_t len) {
  const char *env = getenv("OMP_NUM_THREADS");
  const int cores = rd_cpu_allowed() > 0 ? rd_cpu_allowed() : 1;
  int threads = env && atoi(env) > 0 ? atoi(env) : cores / ranks;
  if (threads < 1) threads = 1;
  add(a, "-x"); add(a, "OMP_NUM_THREADS=%d", threads);
  add(a, "-x"); add(a, "OPENBLAS_NUM_THREADS=%d", threads);
  const char *own = e->mpi_args ? e->mpi_args : "";
  if (e->hostfile || strstr(own, "--bind-to") || strstr(own, "--map-by") ||
      strstr(own, "--cpus-per") || strstr(own, "--rank-by")) {
    snprintf(desc, len, "%d ranks x %d threads, placed by %s", ranks, threads,
             e->hostfile ? "the hostfile" : "[mpi] args");
  } else if ((int64_t)ranks * threads <= cores) {
    add(a, "--map-by"); add(a, "slot:PE=%d", threads);
    add(a, "--bind-to"); add(a, "core");
    snprintf(desc, len, "%d ranks x %d thread%s on %d cores: --map-by slot:PE=%d --bind-to core",
             ranks, threads, threads == 1 ? "" : "s", cores, threads);
  } else {
    add(a, "--bind-to"); add(a, "none");
    snprintf(desc, len, "%d ranks x %d threads on %d cores (oversubscribed): --bind-to none", ranks,
             threads, cores);
  }
}

// The agents that talk to an LLM server and name no endpoint of their own.
static int uses_local_server(const run *r) {
  const char *given = r->spec ? rd_param_list_get(&r->spec->params, "options") : NULL;
  const char *opts = given ? given : "";
  return (r->ops->flags & RD_POLICY_SERVER) && !strstr(opts, "endpoint=");
}

static void train_args(const rd_experiment *e, const run *r, const char *graph, const char *part,
                       const char *bin, const char *h5, const char *trace, args *a, char *desc,
                       size_t desc_len) {
  add(a, "mpirun");
  add(a, "-np");
  add(a, "%d", r->ranks);
  if (e->hostfile) { add(a, "--hostfile"); add(a, "%s", e->hostfile); }
  placement(e, r->ranks, a, desc, desc_len);
  if (e->mpi_args) {
    char *copy = strdup(e->mpi_args), *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) add(a, "%s", t);
    free(copy);
  }
  // The local LLM server shares this machine's cores with the ranks, which
  // never leave them idle (4 ranks on 2 cores here): at equal priority it
  // gets a fifth of a core and answers in ~8 s instead of ~2.5 s, after the
  // run has moved on. At nice 10 the ranks yield to it while it answers;
  // when it is idle they run as fast as before (nothing else competes).
  if (uses_local_server(r) && !e->hostfile) {
    add(a, "nice"); add(a, "-n"); add(a, "%d", RANK_NICE);
    const size_t used = strlen(desc);
    snprintf(desc + used, desc_len - used, ", ranks at nice %d (the local LLM server shares the cores)", RANK_NICE);
  }
  add(a, "%s/tools/rudder_train", bin);
  add(a, "--graph"); add(a, "%s", graph);
  add(a, "--partition"); add(a, "%s", part);
  add(a, "--quiet");
  // The parameters as written in the descriptor, each under its flag.
  const rd_param_list *sets[3];
  const int n = param_sets(e, r, sets);
  for (int k = 0; k < n; k++)
    for (int i = 0; i < sets[k]->n; i++) {
      const rd_param *p = sets[k]->v[i].param;
      if (p->type == RD_PARAM_FLAG) {
        rd_train_config t;
        rd_param_set(p, &t, sets[k]->v[i].text, "");
        if (*(const int *)((const char *)&t + p->offset)) add(a, "--%s", p->flag);
        continue;
      }
      add(a, "--%s", p->flag);
      add(a, "%s", sets[k]->v[i].text);
    }
  add(a, "--policy"); add(a, "%s", r->ops->name);
  add(a, "--seed"); add(a, "%s", r->seed);
  add(a, "--buffer-fraction"); add(a, "%s", r->fraction);
  if (trace) { add(a, "--record-trace"); add(a, "%s", trace); }
  add(a, "--results"); add(a, "%s", h5);
  add(a, "--run-id"); add(a, "%s", r->id);
  args keys = {0}, values = {0};
  labels_of(e, r, &keys, &values);
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
  rd_train_config run_cfg;
  run_config(e, r, &run_cfg);
  rd_prefetch_config cfg = run_cfg.prefetch;
  cfg.params.lookahead = run_cfg.lookahead;
  const rd_net_model net = run_cfg.net;
  int64_t steps = 0;
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
    steps = rr.steps;
  }
  // One synthetic step row per run carries the totals (the bound has no timings).
  none.remote_inputs = remote;
  none.rows_fetched = rows;
  none.buffer.hits = hits;
  none.buffer.misses = rows;
  none.step = -1;
  args keys = {0}, values = {0};
  labels_of(e, r, &keys, &values);  // replayed = 1
  const rd_run_record rec = {.run_id = r->id, .config = &run_cfg, .attr_keys = (const char *const *)keys.v,
                             .attr_values = (const char *const *)values.v, .num_attrs = keys.n,
                             .ranks = r->ranks, .steps_run = steps, .steps = &none,
                             .num_steps = 1, .capacity = capacity, .halo_size = halo};
  const int rc = rd_results_write_run(h5, &rec);
  free_args(&keys);
  free_args(&values);
  return rc;
}

static int same_group(const run *a, const run *b) {
  // The sweep's strings: same pointer, same value.
  return a->graph == b->graph && a->ranks == b->ranks && a->model == b->model && a->seed == b->seed &&
         a->fraction == b->fraction;
}

// Whether the group of runs[i] has an offline run (they sit at its end).
static int group_has_offline(const run *runs, int n, int i) {
  for (int k = i; k < n && same_group(&runs[k], &runs[i]); k++)
    if (runs[k].ops->flags & RD_POLICY_OFFLINE) return 1;
  return 0;
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

static int usage(FILE *f) {
  fprintf(f, "usage: run_experiment exp/NAME.ini [--dry-run] [--no-plots]\n"
             "  --dry-run   list the runs, the rudder_train arguments and the ranks' placement of each, run nothing\n"
             "  --no-plots  do not render the figures at the end\n"
             "Descriptor keys: docs/DESIGN.md; run parameters: rudder_train --help ({key}).\n");
  return f == stdout ? 0 : 2;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  const char *path = NULL;
  int dry = 0, plots = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dry-run")) dry = 1;
    else if (!strcmp(argv[i], "--no-plots")) plots = 0;
    else if (!path && argv[i][0] != '-') path = argv[i];
    else {
      fprintf(stderr, "run_experiment: unexpected argument '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  if (!path) return usage(stderr);
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
    if (!(ops[i] = rd_policy_find(policy_impl(&e, e.policies[i])))) {
      fprintf(stderr, "run_experiment: %s:%d: [sweep] policies: %s\n", e.path, e.policies_line, rd_error());
      goto out;
    }
    offline |= (ops[i]->flags & RD_POLICY_OFFLINE) != 0;
    live |= !(ops[i]->flags & RD_POLICY_OFFLINE);
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
    if (g->ogb) {
      snprintf(need, sizeof need, "%s/raw/data.npz", g->ogb);  // the binary layout (papers100M)
      if (!exists(need)) snprintf(need, sizeof need, "%s/raw/edge.csv.gz", g->ogb);
    }
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
              snprintf(r->id, sizeof r->id, "%s_r%d_%s_%s_f%s_s%s", e.graphs[gi], e.ranks[ri],
                       e.models[mi], e.policies[pi], e.fractions[fi], e.seeds[si]);
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
  if (dry) {  // each run and the parameters rudder_train gets
    for (int i = 0; i < n; i++) {
      args a = {0};
      char where[256];
      train_args(&e, &runs[i], "G", "P", bin, "H", NULL, &a, where, sizeof where);
      printf("%s:", runs[i].id);
      int k = 0;
      while (k < a.n && strcmp(a.v[k], "--quiet")) k++;
      for (k++; k < a.n && strcmp(a.v[k], "--results"); k++) printf(" %s", a.v[k]);
      if (runs[i].ops->flags & RD_POLICY_OFFLINE) printf(" (replayed on the group's first live run's traces)\n");
      else printf(" | %s\n", where);
      free_args(&a);
    }
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
    const int is_live = !(r->ops->flags & RD_POLICY_OFFLINE);
    const int for_offline = offline && is_live && (i == 0 || !same_group(&runs[i - 1], r)) &&
                            group_has_offline(runs, n, i);
    const int record = is_live && (for_offline || e.traces);
    if (record) snprintf(trace, sizeof trace, "%s/%s.trace", logs, r->id);
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
    char where[160] = "";
    int status;
    if (r->ops->flags & RD_POLICY_OFFLINE) {
      status = replay_run(&e, r, group_trace, h5) ? 1 : 0;
      if (status) {
        FILE *f = fopen(log, "w");
        if (f) { fprintf(f, "%s\n", rd_error()); fclose(f); }
      }
    } else {
      args a = {0};
      train_args(&e, r, graph, part, bin, h5, record ? trace : NULL, &a, where, sizeof where);
      status = launch(a.v, log, e.timeout);
      free_args(&a);
    }
    if (status != 0) {
      char tail[2048];
      log_tail(log, tail, sizeof tail);
      args keys = {0}, values = {0};
      labels_of(&e, r, &keys, &values);
      rd_train_config cfg;
      run_config(&e, r, &cfg);
      remove(h5);
      if (rd_results_write_failed(h5, r->id, &cfg, (const char *const *)keys.v, (const char *const *)values.v,
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
    printf("[%d/%d] %s: %s in %.1f s | ETA %.0f s%s%s\n", skipped + done, n, r->id,
           status == 0 ? "ok" : status == 2 ? "TIMEOUT" : "FAILED (see log)", dt,
           left * spent / done, where[0] ? " | " : "", where);
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
