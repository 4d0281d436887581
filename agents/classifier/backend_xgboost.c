// XGBoost (C API), boosted or as a random forest, on the logistic loss; the
// score is the probability of 1. Saved as XGBoost's JSON model, whatever the
// name; prediction is the same for both modes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <xgboost/c_api.h>

#include "error.h"
#include "model.h"

enum { F = RD_CLF_FEATURES };

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

static void *fit(const mode *m, const float *x, const int32_t *y, int64_t n, uint64_t seed) {
  float *label = malloc((size_t)n * sizeof *label);
  if (!label) {
    rd_error_set("out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) label[i] = (float)y[i];
  char seedtext[24];
  snprintf(seedtext, sizeof seedtext, "%llu", (unsigned long long)(seed % 2147483647u));
  DMatrixHandle d = NULL;
  BoosterHandle b = NULL;
  int ok = !XGDMatrixCreateFromMat(x, (bst_ulong)n, F, NAN, &d) &&
           !XGDMatrixSetFloatInfo(d, "label", label, (bst_ulong)n) && !XGBoosterCreate(&d, 1, &b) &&
           !one_thread(b) && !XGBoosterSetParam(b, "seed", seedtext);
  for (size_t i = 0; ok && i < m->num_params; i++) ok = !XGBoosterSetParam(b, m->params[i][0], m->params[i][1]);
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

static void *restore(const char *path) {
  size_t len;
  char *text = rd_clf_read_file(path, &len);
  BoosterHandle b = NULL;
  if (text && (XGBoosterCreate(NULL, 0, &b) || XGBoosterLoadModelFromBuffer(b, text, len) ||
               one_thread(b))) {
    rd_error_set("%s: not an XGBoost model: %s", path, XGBGetLastError());
    if (b) XGBoosterFree(b);
    b = NULL;
  }
  free(text);
  return b;
}

static int classify(void *impl, const float *x, double *score) {
  DMatrixHandle d;
  bst_ulong len;
  const float *p;
  if (XGDMatrixCreateFromMat(x, 1, F, NAN, &d)) return fail("predict");
  const int bad = XGBoosterPredict(impl, d, 0, 0, 0, &len, &p) || len != 1;
  if (!bad) *score = p[0];
  XGDMatrixFree(d);
  return bad ? fail("predict") : *score >= 0.5;
}

static void release(void *impl) { XGBoosterFree(impl); }

static void *fit_boosted(const float *x, const int32_t *y, int64_t n, uint64_t seed) {
  return fit(&boosted, x, y, n, seed);
}

static void *fit_forest(const float *x, const int32_t *y, int64_t n, uint64_t seed) {
  return fit(&forest, x, y, n, seed);
}

const rd_clf_backend rd_clf_xgboost = {.name = "xgboost", .train = fit_boosted, .save = store,
                                       .load = restore, .predict = classify, .free = release};
const rd_clf_backend rd_clf_xgboost_rf = {.name = "xgboost-rf", .train = fit_forest, .save = store,
                                          .load = restore, .predict = classify, .free = release};
