// rudder_data: make, import, partition and inspect graphs.
//   rudder_data generate --preset small -o data/small.rdg
//   rudder_data import-ogb DIR -o data/ogbn-products.rdg
//   rudder_data import-snap com-orkut.ungraph.txt.gz -o data/orkut.rdg
//   rudder_data import-saint DIR -o data/reddit.rdg
//   rudder_data partition data/small.rdg --parts 4 [--method metis] [--hops 3]
//   rudder_data info data/small.rdg | data/small.metis4
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "cli.h"
#include "error.h"
#include "generate.h"
#include "graph/part.h"
#include "ogb.h"
#include "partition.h"
#include "saint.h"
#include "snap.h"

static double peak_gib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

static int die(const char *cmd) {
  fprintf(stderr, "rudder_data %s: %s\n", cmd, rd_error());
  return 1;
}

static int usage_to(FILE *out, int rc) {
  fprintf(out,
          "usage: rudder_data generate --preset NAME [--scale S] [--nodes N] [--edges M]\n"
          "                            (NAME: tiny, small, products-sim, arxiv-sim, reddit-sim,\n"
          "                             yelp-sim, orkut-sim, friendster-sim, papers100m-sim;\n"
          "                             --scale: nodes = S x the real graph's, mean degree kept)\n"
          "                            [--features F] [--classes C] [--communities K]\n"
          "                            [--degree-exponent G] [--intra P] [--label-purity P]\n"
          "                            [--self-signal S] [--neighbour-signal S] [--noise S]\n"
          "                            [--train-fraction F] [--valid-fraction F] [--seed S] -o FILE\n"
          "       rudder_data import-ogb DIR [--split NAME] -o FILE\n"
          "       rudder_data import-snap EDGES[.gz] [--features F] [--classes C] [--rounds R]\n"
          "                            [--train-fraction F] [--valid-fraction F] [--noise S]\n"
          "                            [--seed S] -o FILE   (labels and features generated)\n"
          "       rudder_data import-saint DIR [--multilabel rare|first] -o FILE\n"
          "                            (GraphSAINT layout: adj_full.npz feats.npy class_map.json role.json)\n"
          "       rudder_data partition GRAPH --parts P [--method metis|random] [--hops L]\n"
          "                            [--seed S] [-o DIR]   (default DIR: GRAPH minus .rdg + .METHODP)\n"
          "       rudder_data info FILE|PARTITION_DIR\n");
  return rc;
}

static int usage(void) { return usage_to(stderr, 2); }

static int cmd_generate(int argc, char **argv) {
  enum { O_NODES = 256, O_EDGES, O_FEAT, O_CLASSES, O_COMM, O_EXP, O_INTRA, O_PURITY, O_SELF,
         O_NEIGH, O_NOISE, O_TRAIN, O_VALID, O_SEED, O_SCALE };
  static const struct option opts[] = {
      {"preset", required_argument, 0, 'p'},        {"output", required_argument, 0, 'o'},
      {"nodes", required_argument, 0, O_NODES},     {"edges", required_argument, 0, O_EDGES},
      {"features", required_argument, 0, O_FEAT},   {"classes", required_argument, 0, O_CLASSES},
      {"communities", required_argument, 0, O_COMM}, {"degree-exponent", required_argument, 0, O_EXP},
      {"intra", required_argument, 0, O_INTRA},     {"label-purity", required_argument, 0, O_PURITY},
      {"self-signal", required_argument, 0, O_SELF}, {"neighbour-signal", required_argument, 0, O_NEIGH},
      {"noise", required_argument, 0, O_NOISE},     {"train-fraction", required_argument, 0, O_TRAIN},
      {"valid-fraction", required_argument, 0, O_VALID}, {"seed", required_argument, 0, O_SEED},
      {"scale", required_argument, 0, O_SCALE}, {0, 0, 0, 0}};
  rd_gen_config cfg;
  double scale;
  const char *out = NULL;
  int have_preset = 0;
  // The preset must be applied before the overrides, wherever it appears.
  for (int i = 1; i < argc; i++)
    if ((strcmp(argv[i], "--preset") == 0 || strcmp(argv[i], "-p") == 0) && i + 1 < argc) {
      if (rd_gen_preset(argv[i + 1], &cfg)) return die("generate");
      have_preset = 1;
    }
  if (!have_preset) {
    fprintf(stderr, "rudder_data generate: --preset is required (%s)\n", rd_gen_preset_names());
    return 2;
  }
  int c;
  int64_t v;
  while ((c = getopt_long(argc, argv, "p:o:", opts, NULL)) != -1) {
    const char *name = c >= 256 ? opts[c - 256 + 2].name : "";
    int rc = 0;
    switch (c) {
    case 'p': break;
    case 'o': out = optarg; break;
    case O_NODES: rc = rd_parse_int(name, optarg, 2, INT32_MAX, &cfg.num_nodes); break;
    case O_EDGES: rc = rd_parse_int(name, optarg, 1, INT64_MAX, &cfg.num_edges); break;
    case O_FEAT: rc = rd_parse_int(name, optarg, 0, INT32_MAX, &v); cfg.num_features = (int32_t)v; break;
    case O_CLASSES: rc = rd_parse_int(name, optarg, 0, INT32_MAX, &v); cfg.num_classes = (int32_t)v; break;
    case O_COMM: rc = rd_parse_int(name, optarg, 0, INT32_MAX, &v); cfg.num_communities = (int32_t)v; break;
    case O_EXP: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.degree_exponent); break;
    case O_INTRA: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.intra); break;
    case O_PURITY: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.label_purity); break;
    case O_SELF: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.self_signal); break;
    case O_NEIGH: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.neighbour_signal); break;
    case O_NOISE: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.noise); break;
    case O_TRAIN: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.train_fraction); break;
    case O_VALID: rc = rd_parse_number(name, optarg, -1e300, 1e300, &cfg.valid_fraction); break;
    case O_SEED: rc = rd_parse_int(name, optarg, 0, INT64_MAX, &v); cfg.seed = (uint64_t)v; break;
    case O_SCALE:  // options apply in order: --scale, then --nodes, changes the node count
      rc = rd_parse_number(name, optarg, 1e-9, 1, &scale);
      if (!rc)
        rd_gen_scale(&cfg, llround((double)(cfg.real_nodes ? cfg.real_nodes : cfg.num_nodes) * scale));
      break;
    default: return usage();
    }
    if (rc) return die("generate");
  }
  if (!out || optind != argc) return usage();
  const double t0 = rd_now();
  rd_graph g;
  if (rd_generate(&cfg, &g)) return die("generate");
  const double t1 = rd_now();
  if (rd_graph_write(&g, out)) {
    rd_gen_free(&g);
    return die("generate");
  }
  printf("generated %s: %lld nodes, %lld undirected edges, %d features, %d classes, "
         "train/valid/test %lld/%lld/%lld (seed %llu)\n",
         out, (long long)g.num_nodes, (long long)g.num_edges / 2, g.num_features, g.num_classes,
         (long long)g.num_train, (long long)g.num_valid, (long long)g.num_test,
         (unsigned long long)g.seed);
  printf("time: generate %.2f s, write %.2f s; peak memory %.2f GiB\n", t1 - t0, rd_now() - t1,
         peak_gib());
  rd_gen_free(&g);
  return 0;
}

static int cmd_import(int argc, char **argv) {
  static const struct option opts[] = {{"split", required_argument, 0, 's'},
                                       {"output", required_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  const char *split = NULL, *out = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "s:o:", opts, NULL)) != -1) {
    if (c == 's') split = optarg;
    else if (c == 'o') out = optarg;
    else return usage();
  }
  if (!out || optind + 1 != argc) return usage();
  const double t0 = rd_now();
  if (rd_import_ogb(argv[optind], split, out)) return die("import-ogb");
  printf("imported %s -> %s in %.2f s; peak memory %.2f GiB\n", argv[optind], out, rd_now() - t0,
         peak_gib());
  return 0;
}

static int cmd_import_snap(int argc, char **argv) {
  enum { O_FEAT = 256, O_CLASSES, O_ROUNDS, O_TRAIN, O_VALID, O_NOISE, O_SEED };
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'},        {"features", required_argument, 0, O_FEAT},
      {"classes", required_argument, 0, O_CLASSES}, {"rounds", required_argument, 0, O_ROUNDS},
      {"train-fraction", required_argument, 0, O_TRAIN},
      {"valid-fraction", required_argument, 0, O_VALID}, {"noise", required_argument, 0, O_NOISE},
      {"seed", required_argument, 0, O_SEED}, {0, 0, 0, 0}};
  rd_snap_config cfg;
  rd_snap_defaults(&cfg);
  const char *out = NULL;
  int c, rc = 0;
  int64_t v;
  while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case O_FEAT: rc = rd_parse_int("features", optarg, 1, 1 << 20, &v); cfg.num_features = (int32_t)v; break;
    case O_CLASSES: rc = rd_parse_int("classes", optarg, 2, 1 << 20, &v); cfg.num_classes = (int32_t)v; break;
    case O_ROUNDS: rc = rd_parse_int("rounds", optarg, 0, 1000, &v); cfg.rounds = (int32_t)v; break;
    case O_TRAIN: rc = rd_parse_number("train-fraction", optarg, 1e-9, 1, &cfg.train_fraction); break;
    case O_VALID: rc = rd_parse_number("valid-fraction", optarg, 0, 1, &cfg.valid_fraction); break;
    case O_NOISE: rc = rd_parse_number("noise", optarg, 0, 1e6, &cfg.noise); break;
    case O_SEED: rc = rd_parse_int("seed", optarg, 0, INT64_MAX, &v); cfg.seed = (uint64_t)v; break;
    default: return usage();
    }
    if (rc) return die("import-snap");
  }
  if (!out || optind + 1 != argc) return usage();
  const double t0 = rd_now();
  if (rd_import_snap(argv[optind], &cfg, out)) return die("import-snap");
  printf("imported %s -> %s in %.2f s; peak memory %.2f GiB\n", argv[optind], out, rd_now() - t0,
         peak_gib());
  return 0;
}

static int cmd_import_saint(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"multilabel", required_argument, 0, 'm'},
                                       {0, 0, 0, 0}};
  rd_multilabel_map map = RD_MULTILABEL_RARE;
  const char *out = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:m:", opts, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'm') { if (rd_multilabel_parse(optarg, &map)) return die("import-saint"); }
    else return usage();
  }
  if (!out || optind + 1 != argc) return usage();
  const double t0 = rd_now();
  if (rd_import_saint(argv[optind], map, out)) return die("import-saint");
  printf("imported %s -> %s in %.2f s; peak memory %.2f GiB\n", argv[optind], out, rd_now() - t0,
         peak_gib());
  return 0;
}

static int cmd_partition(int argc, char **argv) {
  static const struct option opts[] = {
      {"parts", required_argument, 0, 'p'}, {"method", required_argument, 0, 'm'},
      {"hops", required_argument, 0, 'l'},  {"seed", required_argument, 0, 's'},
      {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
  int64_t parts = 0, hops = 3, seed = 1;
  rd_part_method method = RD_PART_METIS;
  const char *out = NULL;
  int c, rc = 0;
  while ((c = getopt_long(argc, argv, "p:m:l:s:o:", opts, NULL)) != -1) {
    switch (c) {
    case 'p': rc = rd_parse_int("parts", optarg, 1, RD_MAX_PARTS, &parts); break;
    case 'm': rc = rd_part_method_parse(optarg, &method); break;
    case 'l': rc = rd_parse_int("hops", optarg, 1, 254, &hops); break;
    case 's': rc = rd_parse_int("seed", optarg, 0, INT64_MAX, &seed); break;
    case 'o': out = optarg; break;
    default: return usage();
    }
    if (rc) return die("partition");
  }
  if (optind + 1 != argc || parts < 1) return usage();
  const char *in = argv[optind];
  char dir[4096];
  if (!out) {
    size_t len = strlen(in);
    if (len > 4 && strcmp(in + len - 4, ".rdg") == 0) len -= 4;
    snprintf(dir, sizeof dir, "%.*s.%s%lld", (int)len, in, rd_part_method_name(method),
             (long long)parts);
    out = dir;
  }
  const double t0 = rd_now();
  rd_graph g;
  if (rd_graph_load(&g, in, RD_LOAD_ALL)) return die("partition");
  const double t1 = rd_now();
  rd_part_stats st;
  if (rd_partition_write(&g, (int)parts, method, (int)hops, (uint64_t)seed, out, &st)) {
    rd_graph_free(&g);
    return die("partition");
  }
  int64_t max_owned = 0, max_train = 0, halo = 0, halo1 = 0;
  for (int k = 0; k < parts; k++) {
    max_owned = st.owned[k] > max_owned ? st.owned[k] : max_owned;
    max_train = st.train[k] > max_train ? st.train[k] : max_train;
    halo += st.halo[k];
    halo1 += st.halo_1hop[k];
  }
  printf("partitioned %s -> %s: %lld parts (%s), edge cut %lld of %lld (%.2f%%)\n", in, out,
         (long long)parts, rd_part_method_name(method), (long long)st.edge_cut,
         (long long)g.num_edges / 2, 100.0 * (double)st.edge_cut / (double)(g.num_edges / 2));
  printf("balance (max/mean): nodes %.3f, train nodes %.3f; mean halo %.0f nodes "
         "(%.0f within 1 hop, %lld hops)\n",
         (double)max_owned * (double)parts / (double)g.num_nodes,
         (double)max_train * (double)parts / (double)g.num_train, (double)halo / (double)parts,
         (double)halo1 / (double)parts, (long long)hops);
  for (int k = 0; k < parts; k++)
    printf("  part %d: %lld owned, %lld train, halo %lld (1-hop %lld)\n", k,
           (long long)st.owned[k], (long long)st.train[k], (long long)st.halo[k],
           (long long)st.halo_1hop[k]);
  printf("time: load %.2f s, assign %.2f s, total %.2f s; peak memory %.2f GiB\n", t1 - t0,
         st.assign_seconds, rd_now() - t0, peak_gib());
  rd_graph_free(&g);
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int info_graph(const char *path) {
  rd_graph g;
  if (rd_graph_load(&g, path, RD_LOAD_ALL)) return die("info");
  const int64_t n = g.num_nodes;
  int64_t *deg = malloc((size_t)n * sizeof *deg);
  for (int64_t v = 0; v < n; v++) deg[v] = rd_degree(&g, (rd_node)v);
  qsort(deg, (size_t)n, sizeof *deg, cmp_i64);
  // Share of edge endpoints held by the top 1% of nodes: ~1-2% for a
  // Poisson-like graph, far more for heavy-tailed ones.
  int64_t top = 0;
  for (int64_t i = n - (n + 99) / 100; i < n; i++) top += deg[i];
  int64_t *hist = calloc((size_t)g.num_classes + 1, sizeof *hist);
  for (int64_t v = 0; v < n; v++) hist[g.labels[v] + 1]++;
  int64_t biggest = 0;
  for (int c = 1; c <= g.num_classes; c++) biggest = hist[c] > biggest ? hist[c] : biggest;
  printf("%s: graph, %lld nodes, %lld undirected edges (%lld CSR entries)\n", path, (long long)n,
         (long long)g.num_edges / 2, (long long)g.num_edges);
  printf("features %d, classes %d (largest class %.1f%%, unlabelled %lld), seed %llu\n",
         g.num_features, g.num_classes, 100.0 * (double)biggest / (double)n, (long long)hist[0],
         (unsigned long long)g.seed);
  printf("split train/valid/test: %lld/%lld/%lld (%.1f%%/%.1f%%/%.1f%%)\n", (long long)g.num_train,
         (long long)g.num_valid, (long long)g.num_test, 100.0 * (double)g.num_train / (double)n,
         100.0 * (double)g.num_valid / (double)n, 100.0 * (double)g.num_test / (double)n);
  printf("degree: min %lld, median %lld, mean %.2f, p99 %lld, max %lld; top 1%% of nodes hold "
         "%.1f%% of edge endpoints\n",
         (long long)deg[0], (long long)deg[n / 2], (double)g.num_edges / (double)n,
         (long long)deg[(n * 99) / 100], (long long)deg[n - 1],
         100.0 * (double)top / (double)(g.num_edges ? g.num_edges : 1));
  if (g.provenance) {
    printf("provenance:\n");
    for (const char *p = g.provenance; *p;) {
      const size_t len = strcspn(p, "\n");
      printf("  %.*s\n", (int)len, p);
      p += len + (p[len] == '\n');
    }
  }
  free(deg);
  free(hist);
  rd_graph_free(&g);
  return 0;
}

static int info_partition(const char *dir) {
  rd_part p;
  if (rd_part_load(&p, dir, 0, 1)) return die("info");
  const int parts = p.num_parts;
  printf("%s: partition, %d parts (%s), %lld nodes, edge cut %lld, halo within %d hops\n", dir,
         parts, rd_part_method_name(p.method), (long long)p.num_nodes,
         (long long)p.map_file.hdr.meta[RD_PMM_EDGE_CUT], p.hops);
  for (int k = 0; k < parts; k++) {
    if (k > 0) {
      rd_part_free(&p);
      if (rd_part_load(&p, dir, k, 1)) return die("info");
    }
    int64_t h1 = 0;
    for (int64_t i = 0; i < p.num_halo; i++) h1 += p.halo_hop[i] == 1;
    printf("  part %d: %lld owned, %lld train, %lld valid, %lld test, halo %lld (1-hop %lld)\n", k,
           (long long)p.num_owned, (long long)p.num_train, (long long)p.num_valid,
           (long long)p.num_test, (long long)p.num_halo, (long long)h1);
  }
  rd_part_free(&p);
  return 0;
}

static int cmd_info(int argc, char **argv) {
  if (argc != 2) return usage();
  struct stat st;
  if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) return info_partition(argv[1]);
  return info_graph(argv[1]);
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage_to(stdout, 0);
  if (argc < 2) return usage();
  const char *cmd = argv[1];
  if (strcmp(cmd, "generate") == 0) return cmd_generate(argc - 1, argv + 1);
  if (strcmp(cmd, "import-ogb") == 0) return cmd_import(argc - 1, argv + 1);
  if (strcmp(cmd, "import-snap") == 0) return cmd_import_snap(argc - 1, argv + 1);
  if (strcmp(cmd, "import-saint") == 0) return cmd_import_saint(argc - 1, argv + 1);
  if (strcmp(cmd, "partition") == 0) return cmd_partition(argc - 1, argv + 1);
  if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
  return usage();
}
