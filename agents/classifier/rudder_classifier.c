// rudder_classifier: trains the classifier agents on rudder_collect's
// samples, and replays a trained policy over traces.
//   rudder_classifier train --model xgboost samples.csv -o model.xgb
//   rudder_classifier replay run.trace.0 --policy xgb --policy-options model=model.xgb --period 5
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "collect.h"
#include "error.h"
#include "grow.h"
#include "model.h"
#include "policies.h"

enum { F = RD_CLF_FEATURES };

static int usage(FILE *f) {
  fprintf(f,
          "usage: rudder_classifier train --model xgboost|xgboost-rf|svm|linear|fann SAMPLES.csv -o MODEL\n"
          "         [--test-fraction F (0.2): the last F of each trace's points, by step]\n"
          "         [--seed S (1)]   writes MODEL and MODEL.json (back-end, features, scaler)\n"
          "       rudder_classifier evaluate --model KIND MODEL SAMPLES.csv\n"
          "         scores a trained model on every sample (e.g. of another graph)\n"
          "       rudder_classifier replay TRACE... --policy xgb|rf|svm|linear|fann\n"
          "         --policy-options model=MODEL --period P (as collected)\n" RD_CLF_BUFFER_USAGE);
  return f == stdout ? 0 : 2;
}

static int die(void) {
  fprintf(stderr, "rudder_classifier: %s\n", rd_error());
  return 1;
}

typedef struct row {
  char *trace;
  int64_t rank;
  rd_clf_sample s;
} row;

static int by_time(const void *x, const void *y) {
  const row *a = x, *b = y;
  const int c = strcmp(a->trace, b->trace);
  if (c) return c;
  if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
  return (a->s.step > b->s.step) - (a->s.step < b->s.step);
}

// One CSV line of rudder_collect into *r; -1 with rd_error naming the column.
static int parse_row(char *line, row *r) {
  char *save = NULL, *end;
  const char *field[3 + F + 3];
  int n = 0;
  for (char *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (n < 3 + F + 3) field[n++] = tok;
    else return rd_error_set("more than %d columns", 3 + F + 3);
  if (n != 3 + F + 3) return rd_error_set("%d columns, not %d", n, 3 + F + 3);
  r->trace = strdup(field[0]);
  int64_t v[5];
  const int at[5] = {1, 2, 3 + F, 4 + F, 5 + F};
  for (int k = 0; k < 5; k++)
    if (rd_parse_int("column", field[at[k]], 0, INT64_MAX, &v[k]))
      return rd_error_set("column %d: '%s' is not a count", at[k] + 1, field[at[k]]);
  for (int j = 0; j < F; j++) {
    r->s.x[j] = strtof(field[3 + j], &end);
    if (*end || end == field[3 + j] || !isfinite(r->s.x[j]))
      return rd_error_set("column %s: '%s' is not a number", rd_clf_feature_names[j], field[3 + j]);
  }
  if (v[2] > 1) return rd_error_set("label '%s' is not 0 or 1", field[3 + F]);
  r->rank = v[0];
  r->s.step = v[1];
  r->s.label = (int32_t)v[2];
  r->s.rows_replace = v[3];
  r->s.rows_keep = v[4];
  return 0;
}

static void free_rows(row *rows, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(rows[i].trace);
  free(rows);
}

static int read_samples(const char *path, row **rows, int64_t *n) {
  *rows = NULL;
  *n = 0;
  FILE *f = fopen(path, "r");
  if (!f) return rd_error_set("%s: cannot open", path);
  char header[1024] = "trace,rank,step", *line = NULL;
  for (int j = 0; j < F; j++)
    snprintf(header + strlen(header), sizeof header - strlen(header), ",%s", rd_clf_feature_names[j]);
  strcat(header, ",label,rows_replace,rows_keep");
  size_t cap = 0;
  int64_t rcap = 0, lineno = 0;
  int rc = 0;
  while (!rc && getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\r\n")] = 0;
    if (++lineno == 1) {
      if (strcmp(line, header)) rc = rd_error_set("%s: line 1 is not the header '%s'", path, header);
      continue;
    }
    *rows = rd_grow(*rows, &rcap, *n + 1, sizeof **rows);
    row *r = &(*rows)[*n];
    memset(r, 0, sizeof *r);
    rc = parse_row(line, r);
    ++*n;  // counted even when bad, so that its trace name is freed
    if (rc) rd_error_wrap("%s: line %lld", path, (long long)lineno);
  }
  if (!rc && lineno == 0) rc = rd_error_set("%s: empty, not a samples file", path);
  free(line);
  fclose(f);
  if (rc) free_rows(*rows, *n);
  return rc;
}

typedef struct score {
  int64_t tp, fp, tn, fn, rows;  // rows: fetched over the horizons by the choices made
} score;

static void tally(score *sc, int predicted, const rd_clf_sample *s) {
  sc->tp += predicted && s->label;
  sc->fp += predicted && !s->label;
  sc->tn += !predicted && !s->label;
  sc->fn += !predicted && s->label;
  sc->rows += predicted ? s->rows_replace : s->rows_keep;
}

static void report(const char *who, const score *sc) {
  const double n = (double)(sc->tp + sc->fp + sc->tn + sc->fn);
  const double p = sc->tp + sc->fp ? (double)sc->tp / (double)(sc->tp + sc->fp) : 0;
  const double r = sc->tp + sc->fn ? (double)sc->tp / (double)(sc->tp + sc->fn) : 0;
  printf("%-12s %9.4f %9.4f %9.4f %9.4f %13lld\n", who, n ? (double)(sc->tp + sc->tn) / n : 0, p, r,
         p + r > 0 ? 2 * p * r / (p + r) : 0, (long long)sc->rows);
}

// Scores the model on rows[i] where in[i] (all when in is NULL) against
// always answering `majority` and against the labels themselves. Horizon
// rows: fetched over the points' horizons by the choices made (the oracle's,
// the labels, is the least).
static int score_rows(const rd_clf_model *m, const row *rows, int64_t n, const int8_t *in,
                      int majority, const char *title) {
  score model = {0}, base = {0}, oracle = {0};
  for (int64_t i = 0; i < n; i++) {
    if (in && !in[i]) continue;
    double s;
    const int p = rd_clf_predict(m, rows[i].s.x, &s);
    if (p < 0) return -1;
    tally(&model, p, &rows[i].s);
    tally(&base, majority, &rows[i].s);
    tally(&oracle, rows[i].s.label, &rows[i].s);
  }
  printf("%-12s %9s %9s %9s %9s %13s\n", title, "accuracy", "precision", "recall", "f1",
         "horizon rows");
  report("model", &model);
  report(majority ? "majority=1" : "majority=0", &base);
  report("oracle", &oracle);
  return 0;
}

static int train_main(int argc, char **argv) {
  const char *kind = NULL, *out = NULL;
  double test_fraction = 0.2;
  int64_t seed = 1;
  static const struct option opts[] = {{"model", 1, 0, 'm'}, {"output", 1, 0, 'o'},
                                       {"test-fraction", 1, 0, 't'}, {"seed", 1, 0, 's'},
                                       {0, 0, 0, 0}};
  int c, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
    if (c == 'm') kind = optarg;
    else if (c == 'o') out = optarg;
    else if (c == 't') rc = rd_parse_number("test-fraction", optarg, 0, 0.9, &test_fraction);
    else if (c == 's') rc = rd_parse_int("seed", optarg, 0, INT64_MAX, &seed);
    else return usage(stderr);
  }
  if (rc) return die();
  if (!kind || !out || optind != argc - 1) return usage(stderr);
  const rd_clf_backend *b = rd_clf_backend_find(kind);
  row *rows;
  int64_t n;
  if (!b || read_samples(argv[optind], &rows, &n)) return die();
  // Time-ordered split per trace: a model is tested on the points that come
  // after everything it was trained on, as when it is served.
  qsort(rows, (size_t)n, sizeof *rows, by_time);
  float *x = malloc(((size_t)n + 1) * F * sizeof *x);
  int32_t *y = malloc(((size_t)n + 1) * sizeof *y);
  int8_t *is_test = calloc((size_t)n + 1, 1);
  int64_t ntrain = 0, ntest = 0, traces = 0, train_pos = 0, test_pos = 0;
  for (int64_t g = 0, e; g < n; g = e) {
    for (e = g + 1; e < n && !strcmp(rows[e].trace, rows[g].trace) && rows[e].rank == rows[g].rank;)
      e++;
    const int64_t cut = e - (int64_t)ceil(test_fraction * (double)(e - g) - 1e-9);
    for (int64_t i = g; i < e; i++) {
      if ((is_test[i] = i >= cut)) {
        ntest++;
        test_pos += rows[i].s.label;
        continue;
      }
      memcpy(x + ntrain * F, rows[i].s.x, sizeof rows[i].s.x);
      train_pos += y[ntrain++] = rows[i].s.label;
    }
    traces++;
  }
  printf("%s: %lld samples of %lld traces; train %lld (%.1f%% label 1), test %lld (%.1f%% label 1): "
         "the last %g of each trace's points\n", argv[optind], (long long)n, (long long)traces,
         (long long)ntrain, ntrain ? 100.0 * (double)train_pos / (double)ntrain : 0.0,
         (long long)ntest, ntest ? 100.0 * (double)test_pos / (double)ntest : 0.0, test_fraction);
  rd_clf_model m;
  const double t0 = rd_now();
  if (!(rc = rd_clf_train(&m, b, x, y, ntrain, (uint64_t)seed)) && !(rc = rd_clf_save(&m, out))) {
    printf("%s: trained in %.3f s -> %s (+ %s.json)\n", b->name, rd_now() - t0, out, out);
    // The baseline predicts the training set's majority; a tie keeps (free).
    if (ntest) rc = score_rows(&m, rows, n, is_test, 2 * train_pos > ntrain, "test split");
  }
  rd_clf_free(&m);
  free_rows(rows, n);
  free(x);
  free(y);
  free(is_test);
  return rc ? die() : 0;
}

// A model on samples it has never seen (another run, graph or partition
// count): every sample is a test point. The majority baseline is these
// samples' own majority, a stronger baseline than the training set's.
static int evaluate_main(int argc, char **argv) {
  const char *kind = NULL;
  static const struct option opts[] = {{"model", 1, 0, 'm'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'm') kind = optarg;
    else return usage(stderr);
  }
  if (!kind || optind != argc - 2) return usage(stderr);
  const rd_clf_backend *b = rd_clf_backend_find(kind);
  rd_clf_model m;
  if (!b || rd_clf_load(&m, b, argv[optind])) return die();
  row *rows;
  int64_t n, pos = 0;
  if (read_samples(argv[optind + 1], &rows, &n)) {
    rd_clf_free(&m);
    return die();
  }
  for (int64_t i = 0; i < n; i++) pos += rows[i].s.label;
  printf("%s: %lld samples (%.1f%% label 1), model %s\n", argv[optind + 1], (long long)n,
         n ? 100.0 * (double)pos / (double)n : 0.0, argv[optind]);
  const int rc = n ? score_rows(&m, rows, n, NULL, 2 * pos > n, "all samples") : 0;
  rd_clf_free(&m);
  free_rows(rows, n);
  return rc ? die() : 0;
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int replay_main(int argc, char **argv) {
  static const rd_policy_ops *const policies[] = {&rd_policy_xgb, &rd_policy_rf, &rd_policy_svm,
                                                  &rd_policy_linear, &rd_policy_fann};
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  static const struct option opts[] = {RD_CLF_BUFFER_OPTIONS, {"policy", 1, 0, 'P'},
                                       {"policy-options", 1, 0, 'O'}, {0, 0, 0, 0}};
  int c, idx = 0, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
    if (c == 'P') {
      for (size_t i = 0; i < sizeof policies / sizeof *policies; i++)
        if (!strcmp(policies[i]->name, optarg)) cfg.policy = policies[i];
      if (!cfg.policy) rc = rd_error_set("unknown policy '%s' (known: xgb, rf, svm, linear, fann)", optarg);
    } else if (c == 'O') {
      cfg.params.options = optarg;
    } else if (c == '?' || (rc = rd_clf_buffer_option(c, opts[idx].name, optarg, &cfg)) > 0) {
      return usage(stderr);
    }
  }
  if (rc) return die();
  if (!cfg.policy || optind == argc) return usage(stderr);
  for (int a = optind; a < argc && !rc; a++) {
    rd_trace t;
    rd_clf_replay_result r;
    if (rd_trace_load(&t, argv[a])) return die();
    rc = rd_clf_replay(&t, &cfg, &r);
    if (!rc) {
      double *lat = malloc(((size_t)r.num_decisions + 1) * sizeof *lat);
      int64_t valid = 0, yes = 0;
      for (int64_t i = 0; i < r.num_decisions; i++) {
        lat[i] = 1e6 * r.decisions[i].latency_seconds;
        valid += r.decisions[i].valid;
        yes += r.decisions[i].replace;
        free(r.decisions[i].raw);
      }
      qsort(lat, (size_t)r.num_decisions, sizeof *lat, cmp_double);
      const int64_t k = r.num_decisions;
      printf("%s: rank %d, %lld steps | %s: rows fetched %lld + preloaded %lld = moved %lld, "
             "decisions %lld (valid %lld, replace %lld), decide us median %.1f p99 %.1f max %.1f\n",
             argv[a], t.info.rank, (long long)t.steps, cfg.policy->name, (long long)r.rows_fetched,
             (long long)r.preload_rows, (long long)(r.rows_fetched + r.preload_rows), (long long)k,
             (long long)valid, (long long)yes, k ? lat[k / 2] : 0.0, k ? lat[(k * 99) / 100] : 0.0,
             k ? lat[k - 1] : 0.0);
      free(lat);
      free(r.decisions);
    }
    rd_trace_free(&t);
  }
  return rc ? die() : 0;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  if (argc > 1 && !strcmp(argv[1], "train")) return train_main(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "replay")) return replay_main(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "evaluate")) return evaluate_main(argc - 1, argv + 1);
  return usage(stderr);
}
