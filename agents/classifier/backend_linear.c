// liblinear: L2-regularised logistic regression with a bias term, the linear
// baseline; the score is the probability of 1.
#include <linear.h>
#include <stdlib.h>

#include "error.h"
#include "model.h"

enum { F = RD_CLF_FEATURES };

static void quiet(const char *s) { (void)s; }

// Features 1..F, then the bias as feature F + 1 when the model has one.
static void fill(struct feature_node *row, const float *x, double bias) {
  for (int j = 0; j < F; j++) row[j] = (struct feature_node){j + 1, x[j]};
  int k = F;
  if (bias >= 0) row[k++] = (struct feature_node){F + 1, bias};
  row[k].index = -1;
}

static void *fit(const float *x, const int32_t *y, int64_t n, uint64_t seed) {
  (void)seed;  // the primal Newton solver of L2R_LR draws no random numbers
  double *label = malloc((size_t)n * sizeof *label);
  struct feature_node **rows = malloc((size_t)n * sizeof *rows);
  struct feature_node *nodes = malloc((size_t)n * (F + 2) * sizeof *nodes);
  struct model *m = NULL;
  if (!label || !rows || !nodes) {
    rd_error_set("out of memory for %lld samples", (long long)n);
  } else {
    const double bias = 1;
    for (int64_t i = 0; i < n; i++) {
      rows[i] = nodes + i * (F + 2);
      fill(rows[i], x + i * F, bias);
      label[i] = y[i];
    }
    const struct problem prob = {.l = (int)n, .n = F + 1, .y = label, .x = rows, .bias = bias};
    const struct parameter par = {.solver_type = L2R_LR, .eps = 0.01, .C = 1};
    const char *err = check_parameter(&prob, &par);
    set_print_string_function(quiet);
    if (err) rd_error_set("liblinear: %s", err);
    else m = train(&prob, &par);  // copies the weights out of the rows
  }
  free(label);
  free(rows);
  free(nodes);
  return m;
}

static int store(void *impl, const char *path) {
  return save_model(path, impl) ? rd_error_set("%s: cannot write", path) : 0;
}

static void release(void *impl) {
  struct model *m = impl;
  free_and_destroy_model(&m);
}

static void *restore(const char *path) {
  struct model *m = load_model(path);
  if (!m || !check_probability_model(m) || get_nr_class(m) != 2 || get_nr_feature(m) != F) {
    rd_error_set("%s: not a two-class liblinear logistic model of %d features", path, F);
    if (m) release(m);
    return NULL;
  }
  return m;
}

static int classify(void *impl, const float *x, double *score) {
  const struct model *m = impl;
  struct feature_node row[F + 2];
  fill(row, x, m->bias);
  double p[2];
  const double label = predict_probability(m, row, p);
  *score = m->label[0] == 1 ? p[0] : p[1];
  return label == 1;
}

const rd_clf_backend rd_clf_linear = {.name = "linear", .train = fit, .save = store,
                                      .load = restore, .predict = classify, .free = release};
