// libsvm: C-SVC with an RBF kernel (the nonlinear classic). The score is the
// decision value toward 1; no Platt probabilities, whose internal
// cross-validation would draw from rand() and cost five more trainings.
#include <libsvm/svm.h>
#include <stdlib.h>

#include "error.h"
#include "model.h"

enum { F = RD_CLF_FEATURES };

// A model trained in this process points into its training rows (libsvm
// keeps the support vectors by reference); a loaded one owns them.
typedef struct svm {
  struct svm_model *m;
  struct svm_node *rows;
} svm;

static void quiet(const char *s) { (void)s; }

static void fill(struct svm_node *row, const float *x) {
  for (int j = 0; j < F; j++) row[j] = (struct svm_node){j + 1, x[j]};
  row[F].index = -1;
}

static void release(void *impl) {
  svm *s = impl;
  svm_free_and_destroy_model(&s->m);
  free(s->rows);
  free(s);
}

static void *fit(const float *x, const int32_t *y, int64_t n, uint64_t seed) {
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
      fill(rows[i], x + i * F);
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

static void *restore(const char *path) {
  svm *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->m = svm_load_model(path);
  if (!s->m || svm_get_svm_type(s->m) != C_SVC || svm_get_nr_class(s->m) != 2) {
    rd_error_set("%s: not a two-class libsvm C-SVC model", path);
    release(s);
    return NULL;
  }
  return s;
}

static int classify(void *impl, const float *x, double *score) {
  const svm *s = impl;
  struct svm_node row[F + 1];
  fill(row, x);
  double dec = 0;
  const double label = svm_predict_values(s->m, row, &dec);
  *score = s->m->label[0] == 1 ? dec : -dec;  // libsvm's sign favours its first label
  return label == 1;
}

const rd_clf_backend rd_clf_svm = {.name = "svm", .train = fit, .save = store, .load = restore,
                                   .predict = classify, .free = release};
