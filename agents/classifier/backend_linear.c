// liblinear: L2-regularised logistic regression with a bias term, the linear
// baseline, one-vs-rest over more than two classes; the score is the
// probability of 1 (binary) or of the predicted class.
#include <linear.h>
#include <stdlib.h>

#include "error.h"
#include "model.h"

enum { FMAX = RD_CLF_FEATURES_MAX };

static void quiet(const char *s) { (void)s; }

// Features 1..F, then the bias as feature F + 1 when the model has one.
static void fill(struct feature_node *row, const float *x, int F, double bias) {
  for (int j = 0; j < F; j++) row[j] = (struct feature_node){j + 1, x[j]};
  int k = F;
  if (bias >= 0) row[k++] = (struct feature_node){F + 1, bias};
  row[k].index = -1;
}

static void *fit(const float *x, const int32_t *y, int64_t n, int F, int classes, uint64_t seed) {
  (void)seed;  // the primal Newton solver of L2R_LR draws no random numbers
  (void)classes;  // the classes are the labels present
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
      fill(rows[i], x + i * F, F, bias);
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

static int labels_ok(const struct model *m, int classes) {
  for (int c = 0; c < get_nr_class(m); c++)
    if (m->label[c] < 0 || m->label[c] >= classes) return 0;
  return 1;
}

static void *restore(const char *path, int F, int classes) {
  struct model *m = load_model(path);
  const int k = m ? get_nr_class(m) : 0;
  if (!m || !check_probability_model(m) || k < 2 || (classes == 2 && k != 2) || k > classes ||
      !labels_ok(m, classes) || get_nr_feature(m) != F) {
    if (classes == 2) rd_error_set("%s: not a two-class liblinear logistic model of %d features", path, F);
    else rd_error_set("%s: not a liblinear logistic model of classes 0..%d and %d features", path, classes - 1, F);
    if (m) release(m);
    return NULL;
  }
  return m;
}

static int classify(void *impl, const float *x, int F, int classes, double *score) {
  const struct model *m = impl;
  struct feature_node row[FMAX + 2];
  fill(row, x, F, m->bias);
  double p[RD_CLF_MENU_ACTIONS > 2 ? RD_CLF_MENU_ACTIONS : 2];
  const double label = predict_probability(m, row, p);
  if (classes == 2) {
    *score = m->label[0] == 1 ? p[0] : p[1];
    return label == 1;
  }
  // liblinear's argmax takes the first of its label order on a tie; the
  // lowest class is taken here, as by the other back-ends.
  int best = 0;
  for (int c = 1; c < get_nr_class(m); c++)
    if (p[c] > p[best] || (p[c] == p[best] && m->label[c] < m->label[best])) best = c;
  *score = p[best];
  return m->label[best];
}

const rd_clf_backend rd_clf_linear = {.name = "linear", .train = fit, .save = store,
                                      .load = restore, .predict = classify, .free = release};
