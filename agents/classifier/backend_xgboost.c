// XGBoost (C API), boosted or as a random forest, on the logistic loss
// (binary: the score is the probability of 1) or the softmax over the
// classes (multi:softprob: the predicted class's probability). Saved as
// XGBoost's JSON model, whatever the name; prediction is the same for both
// modes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <xgboost/c_api.h>

#include "error.h"
#include "model.h"

typedef struct mode {
  const char *const (*params)[2];
  size_t num_params;
  int rounds;
} mode;
#define MODE(params, rounds) {params, sizeof params / sizeof *params, rounds}

// A few hundred samples with many near-tie labels: trees of depth 2,
// shrinkage and a minimum leaf weight keep the trees off the noise (depth 3
// and 100 rounds fell below the majority class on held-out time).
static const char *const boosted_params[][2] = {
    {"objective", "binary:logistic"}, {"max_depth", "2"}, {"eta", "0.1"}, {"min_child_weight", "5"}};
static const mode boosted = MODE(boosted_params, 50);

// XGBoost's random-forest recipe: one round of many parallel trees, each on
// a row subsample with features drawn per split, no shrinkage. Deeper trees
// than boosting: averaging, not depth, is what controls the variance here.
static const char *const forest_params[][2] = {
    {"objective", "binary:logistic"}, {"num_parallel_tree", "100"}, {"subsample", "0.8"},
    {"colsample_bynode", "0.8"}, {"eta", "1"}, {"max_depth", "4"}, {"min_child_weight", "5"}};
static const mode forest = MODE(forest_params, 1);

static int fail(const char *what) { return rd_error_set("xgboost: %s: %s", what, XGBGetLastError()); }

// One thread: serving runs beside the trainer's own threads, and a single
// thread keeps training reproducible.
static int one_thread(BoosterHandle b) { return XGBoosterSetParam(b, "nthread", "1"); }

static void *fit(const mode *m, const float *x, const int32_t *y, int64_t n, int F, int classes,
                 uint64_t seed) {
  float *label = malloc((size_t)n * sizeof *label);
  if (!label) {
    rd_error_set("out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) label[i] = (float)y[i];
  char seedtext[24];
  snprintf(seedtext, sizeof seedtext, "%llu", (unsigned long long)(seed % 2147483647u));
  char num_class[16];
  snprintf(num_class, sizeof num_class, "%d", classes);
  DMatrixHandle d = NULL;
  BoosterHandle b = NULL;
  int ok = !XGDMatrixCreateFromMat(x, (bst_ulong)n, F, NAN, &d) &&
           !XGDMatrixSetFloatInfo(d, "label", label, (bst_ulong)n) && !XGBoosterCreate(&d, 1, &b) &&
           !one_thread(b) && !XGBoosterSetParam(b, "seed", seedtext);
  for (size_t i = 0; ok && i < m->num_params; i++) ok = !XGBoosterSetParam(b, m->params[i][0], m->params[i][1]);
  // The parameters' objective is binary; more classes replace it (after it).
  if (ok && classes > 2)
    ok = !XGBoosterSetParam(b, "objective", "multi:softprob") &&
         !XGBoosterSetParam(b, "num_class", num_class);
  for (int it = 0; ok && it < m->rounds; it++) ok = !XGBoosterUpdateOneIter(b, it, d);
  if (!ok) {
    fail("training");
    if (b) XGBoosterFree(b);
    b = NULL;
  }
  if (d) XGDMatrixFree(d);
  free(label);
  return b;
}

static int store(void *impl, const char *path) {
  bst_ulong len;
  const char *json;
  if (XGBoosterSaveModelToBuffer(impl, "{\"format\": \"json\"}", &len, &json)) return fail(path);
  FILE *f = fopen(path, "wb");
  const int ok = f && fwrite(json, 1, len, f) == len;
  if ((f && fclose(f)) || !ok) return rd_error_set("%s: cannot write", path);
  return 0;
}

// The predicted class of one row; *score as the header says. `expect` is
// the length of a prediction: 1 (binary) or the number of classes.
static int run(void *impl, const float *x, int F, bst_ulong expect, double *score) {
  DMatrixHandle d;
  bst_ulong len = 0;
  const float *p;
  if (XGDMatrixCreateFromMat(x, 1, (bst_ulong)F, NAN, &d)) return fail("predict");
  int label = -1;
  const int err = XGBoosterPredict(impl, d, 0, 0, 0, &len, &p);
  if (!err && len == expect) {
    if (expect == 1) {
      *score = p[0];
      label = *score >= 0.5;
    } else {
      label = 0;
      for (bst_ulong c = 1; c < len; c++)
        if (p[c] > p[label]) label = (int)c;
      *score = p[label];
    }
  } else {
    rd_error_set("xgboost: predict: %s", err ? XGBGetLastError() : "the model's outputs are not its classes");
  }
  XGDMatrixFree(d);
  return label;
}

static bst_ulong outputs(int classes) { return classes > 2 ? (bst_ulong)classes : 1; }

static void *restore(const char *path, int F, int classes) {
  size_t len;
  char *text = rd_clf_read_file(path, &len);
  BoosterHandle b = NULL;
  bst_ulong nf = 0;
  if (text && (XGBoosterCreate(NULL, 0, &b) || XGBoosterLoadModelFromBuffer(b, text, len) ||
               one_thread(b))) {
    rd_error_set("%s: not an XGBoost model: %s", path, XGBGetLastError());
    if (b) XGBoosterFree(b);
    b = NULL;
  }
  free(text);
  // Its shape: as many inputs as features, and one output per class (1 for
  // two), tried on a row of zeros.
  const float zero[RD_CLF_FEATURES_MAX] = {0};
  double score;
  if (b && (XGBoosterGetNumFeature(b, &nf) || nf != (bst_ulong)F || run(b, zero, F, outputs(classes), &score) < 0)) {
    rd_error_set("%s: not an XGBoost model of %d features and %d classes", path, F, classes);
    XGBoosterFree(b);
    b = NULL;
  }
  return b;
}

static int classify(void *impl, const float *x, int F, int classes, double *score) {
  return run(impl, x, F, outputs(classes), score);
}

static void release(void *impl) { XGBoosterFree(impl); }

static void *fit_boosted(const float *x, const int32_t *y, int64_t n, int F, int classes, uint64_t seed) {
  return fit(&boosted, x, y, n, F, classes, seed);
}

static void *fit_forest(const float *x, const int32_t *y, int64_t n, int F, int classes, uint64_t seed) {
  return fit(&forest, x, y, n, F, classes, seed);
}

const rd_clf_backend rd_clf_xgboost = {.name = "xgboost", .train = fit_boosted, .save = store,
                                       .load = restore, .predict = classify, .free = release};
const rd_clf_backend rd_clf_xgboost_rf = {.name = "xgboost-rf", .train = fit_forest, .save = store,
                                          .load = restore, .predict = classify, .free = release};
