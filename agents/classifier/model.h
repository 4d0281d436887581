// The classifier back-ends (XGBoost boosted or as a forest, libsvm,
// liblinear, FANN) behind one interface, and a trained model: a back-end
// plus the standardisation learned from its training set. A model is two
// files: PATH in the library's own format and PATH.json, the sidecar naming
// the back-end, the label kind (replace: binary; menu: one class per action
// of menu.h), the features it was trained on and the scaler. Training,
// evaluation and serving all predict through rd_clf_predict, so they
// standardise and decide identically.
#ifndef RUDDER_CLF_MODEL_H
#define RUDDER_CLF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "menu.h"

// What a model predicts: labels of rudder_collect --labels KIND.
typedef enum rd_clf_labels {
  RD_CLF_REPLACE,  // 1: replacing now fetches fewer rows (2 classes, RD_CLF_FEATURES)
  RD_CLF_MENU,     // the best action of the menu (RD_CLF_MENU_ACTIONS classes, RD_CLF_MENU_FEATURES)
} rd_clf_labels;
#define RD_CLF_FEATURES_MAX RD_CLF_MENU_FEATURES

const char *rd_clf_labels_name(rd_clf_labels k);
int rd_clf_labels_parse(const char *s, rd_clf_labels *out);
int rd_clf_labels_features(rd_clf_labels k);
int rd_clf_labels_classes(rd_clf_labels k);
const char *const *rd_clf_labels_feature_names(rd_clf_labels k);

typedef struct rd_clf_backend {
  const char *name;  // on the command line and in the sidecar
  // n standardised rows x[n][f], labels in [0, classes) (at least two of
  // them present). classes == 2 is the binary model; more is one output
  // per class.
  void *(*train)(const float *x, const int32_t *y, int64_t n, int f, int classes, uint64_t seed);
  int (*save)(void *impl, const char *path);
  // Fails naming the file unless it holds a model of f features and (at
  // most) `classes` classes.
  void *(*load)(const char *path, int f, int classes);
  // The predicted label (-1 on a library error). Binary: *score is the
  // probability of 1 (xgboost, xgboost-rf, linear, fann) or the SVM
  // decision value (> 0: 1). More classes: the predicted class's
  // probability (xgboost, xgboost-rf, linear), output (fann) or share of
  // the one-vs-one votes (svm); ties go to the lowest class.
  int (*predict)(void *impl, const float *x, int f, int classes, double *score);
  void (*free)(void *impl);
} rd_clf_backend;

extern const rd_clf_backend rd_clf_xgboost, rd_clf_xgboost_rf, rd_clf_svm, rd_clf_linear, rd_clf_fann;

// NULL with rd_error listing the known names.
const rd_clf_backend *rd_clf_backend_find(const char *name);

typedef struct rd_clf_model {
  const rd_clf_backend *backend;
  void *impl;
  rd_clf_labels labels;
  int features, classes;
  float mean[RD_CLF_FEATURES_MAX], scale[RD_CLF_FEATURES_MAX];  // x' = (x - mean) / scale
} rd_clf_model;

// Fits the scaler on x[n][features of the kind] (raw features), then the
// back-end. rd_clf_train: binary (replace) labels.
int rd_clf_train(rd_clf_model *m, const rd_clf_backend *b, const float *x, const int32_t *y,
                 int64_t n, uint64_t seed);
int rd_clf_train_labels(rd_clf_model *m, const rd_clf_backend *b, rd_clf_labels kind, const float *x,
                        const int32_t *y, int64_t n, uint64_t seed);
int rd_clf_save(const rd_clf_model *m, const char *path);
// Fails naming the file when PATH or PATH.json is missing or corrupt, or was
// trained by another back-end, on other labels or on other features.
// rd_clf_load: binary (replace) labels.
int rd_clf_load(rd_clf_model *m, const rd_clf_backend *b, const char *path);
int rd_clf_load_labels(rd_clf_model *m, const rd_clf_backend *b, rd_clf_labels kind, const char *path);
// The predicted label of raw features x (m->features of them), or -1
// (rd_error) on a library error.
int rd_clf_predict(const rd_clf_model *m, const float *x, double *score);
void rd_clf_free(rd_clf_model *m);

// The whole file, NUL-terminated (malloc'ed); NULL with rd_error naming it.
char *rd_clf_read_file(const char *path, size_t *len);

#endif
