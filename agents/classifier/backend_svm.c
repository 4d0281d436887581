// libsvm: C-SVC with an RBF kernel (the nonlinear classic), one-vs-one over
// more than two classes. Binary: the score is the decision value toward 1;
// more classes: the predicted class's share of its pairwise votes. No Platt
// probabilities, whose internal cross-validation would draw from rand() and
// cost five more trainings.
#include <libsvm/svm.h>
#include <stdlib.h>

#include "error.h"
#include "model.h"

enum { FMAX = RD_CLF_FEATURES_MAX };

// A model trained in this process points into its training rows (libsvm
// keeps the support vectors by reference); a loaded one owns them.
typedef struct svm {
  struct svm_model *m;
  struct svm_node *rows;
} svm;

static void quiet(const char *s) { (void)s; }

static void fill(struct svm_node *row, const float *x, int F) {
  for (int j = 0; j < F; j++) row[j] = (struct svm_node){j + 1, x[j]};
  row[F].index = -1;
}

static void release(void *impl) {
  svm *s = impl;
  svm_free_and_destroy_model(&s->m);
  free(s->rows);
  free(s);
}

static void *fit(const float *x, const int32_t *y, int64_t n, int F, int classes, uint64_t seed) {
  (void)classes;  // the classes are the labels present
  (void)seed;  // C-SVC without probabilities is deterministic
  svm *s = calloc(1, sizeof *s);
  double *label = malloc((size_t)n * sizeof *label);
  struct svm_node **rows = malloc((size_t)n * sizeof *rows);
  if (s) s->rows = malloc((size_t)n * (F + 1) * sizeof *s->rows);
  if (!s || !label || !rows || !s->rows) {
    rd_error_set("out of memory for %lld samples", (long long)n);
  } else {
    for (int64_t i = 0; i < n; i++) {
      rows[i] = s->rows + i * (F + 1);
      fill(rows[i], x + i * F, F);
      label[i] = y[i];
    }
    const struct svm_problem prob = {.l = (int)n, .y = label, .x = rows};
    const struct svm_parameter par = {.svm_type = C_SVC, .kernel_type = RBF, .gamma = 1.0 / F,
                                      .C = 1, .cache_size = 64, .eps = 1e-3, .shrinking = 1};
    const char *err = svm_check_parameter(&prob, &par);
    svm_set_print_string_function(quiet);
    if (err) rd_error_set("libsvm: %s", err);
    else s->m = svm_train(&prob, &par);
  }
  free(label);
  free(rows);
  if (s && !s->m) {
    release(s);
    s = NULL;
  }
  return s;
}

static int store(void *impl, const char *path) {
  return svm_save_model(path, ((svm *)impl)->m) ? rd_error_set("%s: cannot write", path) : 0;
}

// libsvm's file records no feature count: a row of the model's support
// vectors naming a feature beyond F is the one check there is.
static int shape_ok(const struct svm_model *m, int F, int classes) {
  const int k = svm_get_nr_class(m);
  if (svm_get_svm_type(m) != C_SVC || k < 2 || (classes == 2 && k != 2) || k > classes) return 0;
  int *label = malloc((size_t)k * sizeof *label);
  if (!label) return 0;
  svm_get_labels(m, label);
  int ok = 1;
  for (int c = 0; c < k; c++) ok &= label[c] >= 0 && label[c] < classes;
  free(label);
  for (int i = 0; ok && i < m->l; i++)
    for (const struct svm_node *v = m->SV[i]; v->index != -1; v++) ok &= v->index >= 1 && v->index <= F;
  return ok;
}

static void *restore(const char *path, int F, int classes) {
  svm *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->m = svm_load_model(path);
  if (!s->m || !shape_ok(s->m, F, classes)) {
    if (classes == 2) rd_error_set("%s: not a two-class libsvm C-SVC model", path);
    else rd_error_set("%s: not a libsvm C-SVC model of classes 0..%d and %d features", path, classes - 1, F);
    release(s);
    return NULL;
  }
  return s;
}

static int classify(void *impl, const float *x, int F, int classes, double *score) {
  const svm *s = impl;
  struct svm_node row[FMAX + 1];
  fill(row, x, F);
  if (classes == 2) {
    double dec = 0;
    const double label = svm_predict_values(s->m, row, &dec);
    *score = s->m->label[0] == 1 ? dec : -dec;  // libsvm's sign favours its first label
    return label == 1;
  }
  // One-vs-one: pair (i, j), i < j in the model's label order, votes for i
  // when its decision value is positive. The lowest class wins a tie
  // (libsvm's own argmax takes the first in its order, the order of first
  // appearance in the training set).
  const int k = s->m->nr_class;
  double *dec = malloc(((size_t)k * (size_t)(k - 1) / 2 + 1) * sizeof *dec);
  int *votes = calloc((size_t)k, sizeof *votes);
  if (!dec || !votes) {
    free(dec);
    free(votes);
    return rd_error_set("out of memory");
  }
  svm_predict_values(s->m, row, dec);
  for (int i = 0, p = 0; i < k; i++)
    for (int j = i + 1; j < k; j++, p++) votes[dec[p] > 0 ? i : j]++;
  int best = 0;
  for (int c = 1; c < k; c++)
    if (votes[c] > votes[best] || (votes[c] == votes[best] && s->m->label[c] < s->m->label[best])) best = c;
  *score = k > 1 ? (double)votes[best] / (k - 1) : 1;
  const int label = s->m->label[best];
  free(dec);
  free(votes);
  return label;
}

const rd_clf_backend rd_clf_svm = {.name = "svm", .train = fit, .save = store, .load = restore,
                                   .predict = classify, .free = release};
