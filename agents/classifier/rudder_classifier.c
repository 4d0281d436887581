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

enum { FMAX = RD_CLF_FEATURES_MAX, RMAX = RD_CLF_MENU_ACTIONS };

static int usage(FILE *f) {
  fprintf(f,
          "usage: rudder_classifier train --model xgboost|xgboost-rf|svm|linear|fann SAMPLES.csv -o MODEL\n"
          "         [--test-fraction F (0.2): the last F of each trace's points, by step]\n"
          "         [--seed S (1)]   writes MODEL and MODEL.json (back-end, labels, features, scaler);\n"
          "         the labels (replace or menu) are the samples' (rudder_collect --labels)\n"
          "       rudder_classifier evaluate --model KIND MODEL SAMPLES.csv\n"
          "         scores a trained model on every sample (e.g. of another graph)\n"
          "       rudder_classifier replay TRACE... --policy xgb|rf|svm|linear|fann\n"
          "         --policy-options model=MODEL --period P (as collected)\n"
          "       rudder_classifier replay TRACE... --policy xgb-menu|rf-menu|svm-menu|linear-menu|fann-menu\n"
          "         --policy-options model=MODEL --period P --lookahead K (as collected)\n"
          "         [--decisions FILE.tsv: every decision (trace, step, replace, valid, raw)]\n"
          RD_CLF_BUFFER_USAGE);
  return f == stdout ? 0 : 2;
}

static int die(void) {
  fprintf(stderr, "rudder_classifier: %s\n", rd_error());
  return 1;
}

// One sample of either kind. rows[c]: rows fetched over the horizon when
// class c is chosen (replace: 0 keep, 1 replace; menu: the action).
typedef struct row {
  char *trace;
  int64_t rank, step;
  float x[FMAX];
  int32_t label;
  int64_t rows[RMAX];
} row;

static int by_time(const void *x, const void *y) {
  const row *a = x, *b = y;
  const int c = strcmp(a->trace, b->trace);
  if (c) return c;
  if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
  return (a->step > b->step) - (a->step < b->step);
}

// The CSV header rudder_collect writes for `kind`.
static void header_of(rd_clf_labels kind, char *h, size_t cap) {
  snprintf(h, cap, "trace,rank,step");
  const int nf = rd_clf_labels_features(kind);
  for (int j = 0; j < nf; j++)
    snprintf(h + strlen(h), cap - strlen(h), ",%s", rd_clf_labels_feature_names(kind)[j]);
  if (kind == RD_CLF_REPLACE) {
    snprintf(h + strlen(h), cap - strlen(h), ",label,rows_replace,rows_keep");
    return;
  }
  snprintf(h + strlen(h), cap - strlen(h), ",label");
  for (int a = 0; a < RD_CLF_MENU_ACTIONS; a++)
    snprintf(h + strlen(h), cap - strlen(h), ",rows_%s", rd_clf_menu_action_name(a));
}

// One CSV line of rudder_collect into *r; -1 with rd_error naming the column.
static int parse_row(char *line, rd_clf_labels kind, row *r) {
  const int F = rd_clf_labels_features(kind), C = rd_clf_labels_classes(kind);
  const int R = kind == RD_CLF_REPLACE ? 2 : RD_CLF_MENU_ACTIONS, cols = 3 + F + 1 + R;
  char *save = NULL, *end;
  const char *field[3 + FMAX + 1 + RMAX];
  int n = 0;
  for (char *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (n < cols) field[n++] = tok;
    else return rd_error_set("more than %d columns", cols);
  if (n != cols) return rd_error_set("%d columns, not %d", n, cols);
  r->trace = strdup(field[0]);
  int64_t v[3 + RMAX];
  int at[3 + RMAX] = {1, 2, 3 + F};
  for (int k = 0; k < R; k++) at[3 + k] = 4 + F + k;
  for (int k = 0; k < 3 + R; k++)
    if (rd_parse_int("column", field[at[k]], 0, INT64_MAX, &v[k]))
      return rd_error_set("column %d: '%s' is not a count", at[k] + 1, field[at[k]]);
  for (int j = 0; j < F; j++) {
    r->x[j] = strtof(field[3 + j], &end);
    if (*end || end == field[3 + j] || !isfinite(r->x[j]))
      return rd_error_set("column %s: '%s' is not a number", rd_clf_labels_feature_names(kind)[j],
                          field[3 + j]);
  }
  if (v[2] >= C)
    return kind == RD_CLF_REPLACE ? rd_error_set("label '%s' is not 0 or 1", field[3 + F])
                                  : rd_error_set("label '%s' is not an action 0..%d", field[3 + F], C - 1);
  r->rank = v[0];
  r->step = v[1];
  r->label = (int32_t)v[2];
  if (kind == RD_CLF_REPLACE) {
    r->rows[1] = v[3];
    r->rows[0] = v[4];
  } else {
    for (int k = 0; k < R; k++) r->rows[k] = v[3 + k];
  }
  return 0;
}

static void free_rows(row *rows, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(rows[i].trace);
  free(rows);
}

// The samples of `path`, of the kind its header names.
static int read_samples(const char *path, row **rows, int64_t *n, rd_clf_labels *kind) {
  *rows = NULL;
  *n = 0;
  FILE *f = fopen(path, "r");
  if (!f) return rd_error_set("%s: cannot open", path);
  char header[2][2048], *line = NULL;
  header_of(RD_CLF_REPLACE, header[0], sizeof header[0]);
  header_of(RD_CLF_MENU, header[1], sizeof header[1]);
  size_t cap = 0;
  int64_t rcap = 0, lineno = 0;
  int rc = 0;
  while (!rc && getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\r\n")] = 0;
    if (++lineno == 1) {
      if (!strcmp(line, header[0])) *kind = RD_CLF_REPLACE;
      else if (!strcmp(line, header[1])) *kind = RD_CLF_MENU;
      else rc = rd_error_set("%s: line 1 is not the header '%s' (replace labels) nor '%s' (menu labels)",
                             path, header[0], header[1]);
      continue;
    }
    *rows = rd_grow(*rows, &rcap, *n + 1, sizeof **rows);
    row *r = &(*rows)[*n];
    memset(r, 0, sizeof *r);
    rc = parse_row(line, *kind, r);
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
  int64_t right, changed, total;  // menu: predictions equal to the label, not keep, all
} score;

static void tally(score *sc, int predicted, const row *s) {
  sc->tp += predicted && s->label;
  sc->fp += predicted && !s->label;
  sc->tn += !predicted && !s->label;
  sc->fn += !predicted && s->label;
  sc->rows += s->rows[predicted];
  sc->right += predicted == s->label;
  sc->changed += predicted != 0;
  sc->total++;
}

static void report(rd_clf_labels kind, const char *who, const score *sc) {
  const double n = (double)sc->total;
  if (kind == RD_CLF_MENU) {
    printf("%-12s %9.4f %9.4f %13lld\n", who, n ? (double)sc->right / n : 0, n ? (double)sc->changed / n : 0,
           (long long)sc->rows);
    return;
  }
  const double p = sc->tp + sc->fp ? (double)sc->tp / (double)(sc->tp + sc->fp) : 0;
  const double r = sc->tp + sc->fn ? (double)sc->tp / (double)(sc->tp + sc->fn) : 0;
  printf("%-12s %9.4f %9.4f %9.4f %9.4f %13lld\n", who, n ? (double)(sc->tp + sc->tn) / n : 0, p, r,
         p + r > 0 ? 2 * p * r / (p + r) : 0, (long long)sc->rows);
}

// Scores the model on rows[i] where in[i] (all when in is NULL) against
// always answering `majority` and against the labels themselves. Horizon
// rows: fetched over the points' horizons by the choices made (the oracle's,
// the labels, is the least). Menu labels add "keep" (never tune) when the
// majority is another action. Binary columns: accuracy, precision, recall,
// f1, horizon rows; menu: accuracy, share of tunes, horizon rows.
static int score_rows(const rd_clf_model *m, const row *rows, int64_t n, const int8_t *in,
                      int majority, const char *title) {
  const rd_clf_labels kind = m->labels;
  score model = {0}, base = {0}, keep = {0}, oracle = {0};
  for (int64_t i = 0; i < n; i++) {
    if (in && !in[i]) continue;
    double s;
    const int p = rd_clf_predict(m, rows[i].x, &s);
    if (p < 0) return -1;
    tally(&model, p, &rows[i]);
    tally(&base, majority, &rows[i]);
    tally(&keep, 0, &rows[i]);
    tally(&oracle, rows[i].label, &rows[i]);
  }
  char maj[64];
  if (kind == RD_CLF_MENU) {
    printf("%-12s %9s %9s %13s\n", title, "accuracy", "tunes", "horizon rows");
    snprintf(maj, sizeof maj, "majority=%s", rd_clf_menu_action_name(majority));
  } else {
    printf("%-12s %9s %9s %9s %9s %13s\n", title, "accuracy", "precision", "recall", "f1",
           "horizon rows");
    snprintf(maj, sizeof maj, "majority=%d", majority);
  }
  report(kind, "model", &model);
  report(kind, maj, &base);
  if (kind == RD_CLF_MENU && majority != 0) report(kind, "keep", &keep);
  report(kind, "oracle", &oracle);
  return 0;
}

// The most frequent label of rows[i] where in[i] == want (all when in is
// NULL); the lowest on a tie, so keep (0) wins one, which costs nothing.
static int majority_of(const row *rows, int64_t n, const int8_t *in, int want) {
  int64_t count[RMAX] = {0};
  for (int64_t i = 0; i < n; i++)
    if (!in || in[i] == want) count[rows[i].label]++;
  int best = 0;
  for (int c = 1; c < RMAX; c++)
    if (count[c] > count[best]) best = c;
  return best;
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
  rd_clf_labels labels;
  if (!b || read_samples(argv[optind], &rows, &n, &labels)) return die();
  const int F = rd_clf_labels_features(labels);
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
        test_pos += rows[i].label != 0;
        continue;
      }
      memcpy(x + ntrain * F, rows[i].x, (size_t)F * sizeof *x);
      train_pos += (y[ntrain++] = rows[i].label) != 0;
    }
    traces++;
  }
  const char *what = labels == RD_CLF_MENU ? "a tune" : "label 1";
  printf("%s: %lld samples (%s labels) of %lld traces; train %lld (%.1f%% %s), test %lld (%.1f%% %s): "
         "the last %g of each trace's points\n", argv[optind], (long long)n, rd_clf_labels_name(labels),
         (long long)traces, (long long)ntrain, ntrain ? 100.0 * (double)train_pos / (double)ntrain : 0.0,
         what, (long long)ntest, ntest ? 100.0 * (double)test_pos / (double)ntest : 0.0, what,
         test_fraction);
  rd_clf_model m;
  const double t0 = rd_now();
  if (!(rc = rd_clf_train_labels(&m, b, labels, x, y, ntrain, (uint64_t)seed)) &&
      !(rc = rd_clf_save(&m, out))) {
    printf("%s: trained in %.3f s -> %s (+ %s.json)\n", b->name, rd_now() - t0, out, out);
    // The baseline predicts the training set's majority; a tie keeps (free).
    if (ntest) rc = score_rows(&m, rows, n, is_test, majority_of(rows, n, is_test, 0), "test split");
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
  row *rows;
  int64_t n, pos = 0;
  rd_clf_labels labels;
  if (!b || read_samples(argv[optind + 1], &rows, &n, &labels)) return die();
  rd_clf_model m;
  if (rd_clf_load_labels(&m, b, labels, argv[optind])) {
    free_rows(rows, n);
    return die();
  }
  for (int64_t i = 0; i < n; i++) pos += rows[i].label != 0;
  printf("%s: %lld samples (%.1f%% %s), model %s\n", argv[optind + 1], (long long)n,
         n ? 100.0 * (double)pos / (double)n : 0.0, labels == RD_CLF_MENU ? "a tune" : "label 1",
         argv[optind]);
  const int rc = n ? score_rows(&m, rows, n, NULL, majority_of(rows, n, NULL, 0), "all samples") : 0;
  rd_clf_free(&m);
  free_rows(rows, n);
  return rc ? die() : 0;
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int replay_main(int argc, char **argv) {
  static const rd_policy_ops *const policies[] = {
      &rd_policy_xgb, &rd_policy_rf, &rd_policy_svm, &rd_policy_linear, &rd_policy_fann,
      &rd_policy_xgb_menu, &rd_policy_rf_menu, &rd_policy_svm_menu, &rd_policy_linear_menu,
      &rd_policy_fann_menu};
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  static const struct option opts[] = {RD_CLF_BUFFER_OPTIONS, {"policy", 1, 0, 'P'},
                                       {"policy-options", 1, 0, 'O'}, {"lookahead", 1, 0, 'K'},
                                       {"decisions", 1, 0, 'd'}, {0, 0, 0, 0}};
  int64_t lookahead = 8;
  const char *decisions = NULL;
  int c, idx = 0, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
    if (c == 'P') {
      for (size_t i = 0; i < sizeof policies / sizeof *policies; i++)
        if (!strcmp(policies[i]->name, optarg)) cfg.policy = policies[i];
      if (!cfg.policy)
        rc = rd_error_set("unknown policy '%s' (known: xgb, rf, svm, linear, fann, xgb-menu, rf-menu, "
                          "svm-menu, linear-menu, fann-menu)", optarg);
    } else if (c == 'K') {
      rc = rd_parse_int("lookahead", optarg, 0, 100000, &lookahead);
    } else if (c == 'd') {
      decisions = optarg;
    } else if (c == 'O') {
      cfg.params.options = optarg;
    } else if (c == '?' || (rc = rd_clf_buffer_option(c, opts[idx].name, optarg, &cfg)) > 0) {
      return usage(stderr);
    }
  }
  if (rc) return die();
  if (!cfg.policy || optind == argc) return usage(stderr);
  cfg.params.lookahead = (int32_t)lookahead;  // read by the menu policies only
  // The decisions as the live run's `decisions` table has them, to compare
  // decision by decision.
  FILE *dec = decisions ? fopen(decisions, "w") : NULL;
  if (decisions && !dec) {
    rd_error_set("%s: cannot create", decisions);
    return die();
  }
  if (dec) fputs("trace\trank\tstep_posted\tstep_applied\treplace\tvalid\traw\n", dec);
  for (int a = optind; a < argc && !rc; a++) {
    rd_trace t;
    rd_clf_replay_result r;
    if (rd_trace_load(&t, argv[a])) return die();
    rc = rd_clf_replay(&t, &cfg, &r);
    if (!rc) {
      double *lat = malloc(((size_t)r.num_decisions + 1) * sizeof *lat);
      int64_t valid = 0, yes = 0;
      for (int64_t i = 0; i < r.num_decisions; i++) {
        if (dec)
          fprintf(dec, "%s\t%d\t%lld\t%lld\t%d\t%d\t%s\n", argv[a], t.info.rank,
                  (long long)r.decisions[i].step_posted, (long long)r.decisions[i].step_applied,
                  r.decisions[i].replace, r.decisions[i].valid, r.decisions[i].raw);
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
  if (dec && fclose(dec) && !rc) rc = rd_error_set("%s: cannot write", decisions);
  return rc ? die() : 0;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  if (argc > 1 && !strcmp(argv[1], "train")) return train_main(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "replay")) return replay_main(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "evaluate")) return evaluate_main(argc - 1, argv + 1);
  return usage(stderr);
}
