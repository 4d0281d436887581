#include "model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum { FMAX = RD_CLF_FEATURES_MAX };

const char *rd_clf_labels_name(rd_clf_labels k) { return k == RD_CLF_MENU ? "menu" : "replace"; }

int rd_clf_labels_parse(const char *s, rd_clf_labels *out) {
  if (!strcmp(s, "replace")) *out = RD_CLF_REPLACE;
  else if (!strcmp(s, "menu")) *out = RD_CLF_MENU;
  else return rd_error_set("labels '%s': replace or menu", s);
  return 0;
}

int rd_clf_labels_features(rd_clf_labels k) {
  return k == RD_CLF_MENU ? RD_CLF_MENU_FEATURES : RD_CLF_FEATURES;
}

int rd_clf_labels_classes(rd_clf_labels k) { return k == RD_CLF_MENU ? RD_CLF_MENU_ACTIONS : 2; }

const char *const *rd_clf_labels_feature_names(rd_clf_labels k) {
  return k == RD_CLF_MENU ? rd_clf_menu_feature_names : rd_clf_feature_names;
}

const rd_clf_backend *rd_clf_backend_find(const char *name) {
  static const rd_clf_backend *const all[] = {&rd_clf_xgboost, &rd_clf_xgboost_rf, &rd_clf_svm,
                                              &rd_clf_linear, &rd_clf_fann};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (!strcmp(all[i]->name, name)) return all[i];
  rd_error_set("unknown classifier '%s' (known: xgboost, xgboost-rf, svm, linear, fann)", name);
  return NULL;
}

char *rd_clf_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    rd_error_set("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
  if (size >= 0 && !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)size + 1)) &&
      fread(buf, 1, (size_t)size, f) == (size_t)size) {
    buf[size] = 0;
    *len = (size_t)size;
  } else {
    free(buf);
    buf = NULL;
    rd_error_set("%s: cannot read", path);
  }
  fclose(f);
  return buf;
}

int rd_clf_train(rd_clf_model *m, const rd_clf_backend *b, const float *x, const int32_t *y,
                 int64_t n, uint64_t seed) {
  return rd_clf_train_labels(m, b, RD_CLF_REPLACE, x, y, n, seed);
}

int rd_clf_train_labels(rd_clf_model *m, const rd_clf_backend *b, rd_clf_labels kind, const float *x,
                        const int32_t *y, int64_t n, uint64_t seed) {
  memset(m, 0, sizeof *m);
  if (n < 1) return rd_error_set("no training samples");
  const int F = rd_clf_labels_features(kind), C = rd_clf_labels_classes(kind);
  int64_t count[RD_CLF_MENU_ACTIONS > 2 ? RD_CLF_MENU_ACTIONS : 2] = {0};
  int distinct = 0;
  for (int64_t i = 0; i < n; i++) {
    if (y[i] < 0 || y[i] >= C)
      return rd_error_set("training label %d of sample %lld is not a %s label (0..%d)", y[i],
                          (long long)i, rd_clf_labels_name(kind), C - 1);
    distinct += count[y[i]]++ == 0;
  }
  if (distinct < 2) {
    if (kind == RD_CLF_REPLACE)
      return rd_error_set("every training label is %d: a classifier needs both classes (collect "
                          "more traces, or change the horizon or buffer size)", y[0]);
    return rd_error_set("every training label is action %d (%s): a classifier needs two classes "
                        "(collect more traces, or change the horizon or buffer size)", y[0],
                        rd_clf_menu_action_name(y[0]));
  }
  m->backend = b;
  m->labels = kind;
  m->features = F;
  m->classes = C;
  for (int j = 0; j < F; j++) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) s += x[i * F + j];
    const double mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) ss += (x[i * F + j] - mean) * (x[i * F + j] - mean);
    const double sd = sqrt(ss / (double)n);
    m->mean[j] = (float)mean;
    m->scale[j] = sd > 1e-9 ? (float)sd : 1.0f;  // a constant feature stays 0
  }
  float *z = malloc((size_t)n * F * sizeof *z);
  if (!z) return rd_error_set("out of memory for %lld samples", (long long)n);
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < F; j++) z[i * F + j] = (x[i * F + j] - m->mean[j]) / m->scale[j];
  m->impl = b->train(z, y, n, F, C, seed);
  free(z);
  return m->impl ? 0 : -1;
}

static char *sidecar_path(const char *path) {
  char *s = malloc(strlen(path) + 6);
  if (s) sprintf(s, "%s.json", path);
  return s;
}

int rd_clf_save(const rd_clf_model *m, const char *path) {
  if (m->backend->save(m->impl, path)) return -1;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "backend", m->backend->name);
  cJSON_AddStringToObject(j, "labels", rd_clf_labels_name(m->labels));
  cJSON_AddNumberToObject(j, "classes", m->classes);
  cJSON_AddItemToObject(j, "features",
                        cJSON_CreateStringArray(rd_clf_labels_feature_names(m->labels), m->features));
  cJSON_AddItemToObject(j, "mean", cJSON_CreateFloatArray(m->mean, m->features));
  cJSON_AddItemToObject(j, "scale", cJSON_CreateFloatArray(m->scale, m->features));
  char *text = cJSON_Print(j), *side = sidecar_path(path);
  cJSON_Delete(j);
  FILE *f = side ? fopen(side, "w") : NULL;
  int rc = f && text && fprintf(f, "%s\n", text) > 0 ? 0 : -1;
  if (f && fclose(f)) rc = -1;
  if (rc) rd_error_set("%s: cannot write", side ? side : path);
  free(text);
  free(side);
  return rc;
}

// The sidecar's numeric array `key` into out[F]; 0 or -1.
static int read_floats(const cJSON *j, const char *key, int F, float *out) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
  if (cJSON_GetArraySize(a) != F) return -1;
  for (int i = 0; i < F; i++) {
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return -1;
    out[i] = (float)v->valuedouble;
  }
  return 0;
}

static int load_sidecar(rd_clf_model *m, const rd_clf_backend *b, const char *side) {
  size_t len;
  char *text = rd_clf_read_file(side, &len);
  if (!text) return -1;
  cJSON *j = cJSON_Parse(text);
  free(text);
  if (!j) return rd_error_set("%s: not JSON (the model's sidecar)", side);
  int rc = 0;
  const cJSON *backend = cJSON_GetObjectItemCaseSensitive(j, "backend");
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "features");
  const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
  const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
  // A sidecar written before menu labels existed has neither key: binary.
  rd_clf_labels kind = RD_CLF_REPLACE;
  const int F = m->features;
  const char *const *want = rd_clf_labels_feature_names(m->labels);
  if (!cJSON_IsString(backend) || strcmp(backend->valuestring, b->name))
    rc = rd_error_set("%s: a model of back-end '%s', not '%s'", side,
                      cJSON_IsString(backend) ? backend->valuestring : "?", b->name);
  else if (labels && (!cJSON_IsString(labels) || rd_clf_labels_parse(labels->valuestring, &kind)))
    rc = rd_error_set("%s: 'labels' must be \"replace\" or \"menu\"", side);
  else if (kind != m->labels)
    rc = rd_error_set("%s: a model of %s labels (%d classes); this needs %s labels (%d classes): "
                      "serve it with %s", side, rd_clf_labels_name(kind), rd_clf_labels_classes(kind),
                      rd_clf_labels_name(m->labels), m->classes,
                      kind == RD_CLF_MENU ? "a -menu policy (xgb-menu, ...)"
                                          : "a binary policy (xgb, rf, svm, linear, fann)");
  else if (classes && (!cJSON_IsNumber(classes) || classes->valuedouble != m->classes))
    rc = rd_error_set("%s: %g classes, %s labels have %d in this build", side,
                      cJSON_IsNumber(classes) ? classes->valuedouble : -1.0,
                      rd_clf_labels_name(kind), m->classes);
  else if (cJSON_GetArraySize(names) != F)
    rc = rd_error_set("%s: trained on %d features, this build computes %d", side,
                      cJSON_GetArraySize(names), F);
  for (int i = 0; rc == 0 && i < F; i++) {
    const char *n = cJSON_GetStringValue(cJSON_GetArrayItem(names, i));
    if (!n || strcmp(n, want[i]))
      rc = rd_error_set("%s: feature %d is '%s', this build computes '%s'", side, i, n ? n : "?",
                        want[i]);
  }
  if (rc == 0 && (read_floats(j, "mean", F, m->mean) || read_floats(j, "scale", F, m->scale)))
    rc = rd_error_set("%s: 'mean' and 'scale' must be arrays of %d finite numbers", side, F);
  for (int i = 0; rc == 0 && i < F; i++)
    if (!(m->scale[i] > 0)) rc = rd_error_set("%s: scale of feature %d is not positive", side, i);
  cJSON_Delete(j);
  return rc;
}

int rd_clf_load(rd_clf_model *m, const rd_clf_backend *b, const char *path) {
  return rd_clf_load_labels(m, b, RD_CLF_REPLACE, path);
}

int rd_clf_load_labels(rd_clf_model *m, const rd_clf_backend *b, rd_clf_labels kind, const char *path) {
  memset(m, 0, sizeof *m);
  m->backend = b;
  m->labels = kind;
  m->features = rd_clf_labels_features(kind);
  m->classes = rd_clf_labels_classes(kind);
  // Checked here: libsvm, liblinear and FANN only return NULL for a missing
  // file. The sidecar before the library: a model of another back-end or
  // other labels is then named as such, not as a corrupt file.
  FILE *f = fopen(path, "rb");
  if (!f) return rd_error_set("%s: cannot open: %s", path, strerror(errno));
  fclose(f);
  char *side = sidecar_path(path);
  const int rc = side ? load_sidecar(m, b, side) : rd_error_set("out of memory");
  free(side);
  return rc || !(m->impl = b->load(path, m->features, m->classes)) ? -1 : 0;
}

int rd_clf_predict(const rd_clf_model *m, const float *x, double *score) {
  float z[FMAX];
  for (int j = 0; j < m->features; j++) z[j] = (x[j] - m->mean[j]) / m->scale[j];
  return m->backend->predict(m->impl, z, m->features, m->classes, score);
}

void rd_clf_free(rd_clf_model *m) {
  if (m->impl) m->backend->free(m->impl);
  memset(m, 0, sizeof *m);
}
