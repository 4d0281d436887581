// The four classifier back-ends (XGBoost, libsvm, liblinear, FANN) behind one
// interface, and a trained model: a back-end plus the standardisation learned
// from its training set. A model is two files: PATH in the library's own
// format and PATH.json, the sidecar naming the back-end, the features it was
// trained on and the scaler. Training, evaluation and serving all predict
// through rd_clf_predict, so they standardise and threshold identically.
#ifndef RUDDER_CLF_MODEL_H
#define RUDDER_CLF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "features.h"

typedef struct rd_clf_backend {
  const char *name;  // on the command line and in the sidecar
  // n standardised rows x[n][RD_CLF_FEATURES], labels 0/1 (both present).
  void *(*train)(const float *x, const int32_t *y, int64_t n, uint64_t seed);
  int (*save)(void *impl, const char *path);
  void *(*load)(const char *path);
  // The predicted label (-1 on a library error); *score is the probability
  // of 1 (xgboost, xgboost-rf, linear, fann) or the SVM decision value (> 0: 1).
  int (*predict)(void *impl, const float *x, double *score);
  void (*free)(void *impl);
} rd_clf_backend;

extern const rd_clf_backend rd_clf_xgboost, rd_clf_xgboost_rf, rd_clf_svm, rd_clf_linear, rd_clf_fann;

// NULL with rd_error listing the known names.
const rd_clf_backend *rd_clf_backend_find(const char *name);

typedef struct rd_clf_model {
  const rd_clf_backend *backend;
  void *impl;
  float mean[RD_CLF_FEATURES], scale[RD_CLF_FEATURES];  // x' = (x - mean) / scale
} rd_clf_model;

// Fits the scaler on x[n][RD_CLF_FEATURES] (raw features), then the back-end.
int rd_clf_train(rd_clf_model *m, const rd_clf_backend *b, const float *x, const int32_t *y,
                 int64_t n, uint64_t seed);
int rd_clf_save(const rd_clf_model *m, const char *path);
// Fails naming the file when PATH or PATH.json is missing or corrupt, or was
// trained by another back-end or on other features.
int rd_clf_load(rd_clf_model *m, const rd_clf_backend *b, const char *path);
// The predicted label of raw features x, or -1 (rd_error) on a library error.
int rd_clf_predict(const rd_clf_model *m, const float x[RD_CLF_FEATURES], double *score);
void rd_clf_free(rd_clf_model *m);

// The whole file, NUL-terminated (malloc'ed); NULL with rd_error naming it.
char *rd_clf_read_file(const char *path, size_t *len);

#endif
