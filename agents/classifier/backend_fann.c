// FANN: a small multilayer perceptron, one hidden layer, trained with RPROP
// on the squared error. Binary: one sigmoid output in [0, 1], the score
// itself (the reference applied a second sigmoid on top, which made its MLP
// always answer "replace"). More classes: one sigmoid output per class,
// trained on one-hot targets; the largest wins (the lowest class on a tie)
// and is the score.
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"

// Small on purpose: a few hundred noisy samples (8 units and 300 epochs
// overfit them and fell below the majority class on held-out time).
// More classes get more hidden units: 18 outputs through 4 would be a
// bottleneck narrower than the menu's four knobs.
enum { FMAX = RD_CLF_FEATURES_MAX, HIDDEN = 4, HIDDEN_MENU = 8, EPOCHS = 100 };

static unsigned outputs(int classes) { return classes > 2 ? (unsigned)classes : 1; }

static void *fit(const float *x, const int32_t *y, int64_t n, int F, int classes, uint64_t seed) {
  const unsigned out = outputs(classes);
  struct fann *ann = fann_create_standard(3, F, out > 1 ? HIDDEN_MENU : HIDDEN, out);
  struct fann_train_data *d = fann_create_train((unsigned)n, (unsigned)F, out);
  if (!ann || !d) {
    rd_error_set("fann: out of memory for %lld samples", (long long)n);
    if (ann) fann_destroy(ann);
    if (d) fann_destroy_train(d);
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < F; j++) d->input[i][j] = x[i * F + j];
    if (out == 1) d->output[i][0] = (fann_type)y[i];
    else
      for (unsigned c = 0; c < out; c++) d->output[i][c] = (fann_type)(y[i] == (int32_t)c);
  }
  fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
  fann_set_activation_function_output(ann, FANN_SIGMOID);
  fann_set_training_algorithm(ann, FANN_TRAIN_RPROP);
  // fann_create_standard seeded rand() from the clock: draw the initial
  // weights again from the run's seed, so that a model is reproducible.
  srand((unsigned)seed);
  fann_randomize_weights(ann, -0.1f, 0.1f);
  fann_train_on_data(ann, d, EPOCHS, 0, 0.0f);
  fann_destroy_train(d);
  return ann;
}

static int store(void *impl, const char *path) {
  return fann_save(impl, path) ? rd_error_set("%s: cannot write", path) : 0;
}

static void release(void *impl) { fann_destroy(impl); }

static void *restore(const char *path, int F, int classes) {
  // FANN leaks the text of the error it reports for a file that is not its
  // own, so the header is checked here first; the message below names the
  // file, FANN's own goes nowhere.
  char head[16] = "";
  FILE *f = fopen(path, "r");
  if (f && !fgets(head, sizeof head, f)) head[0] = 0;
  if (f) fclose(f);
  fann_set_error_log(NULL, NULL);
  struct fann *ann = strncmp(head, "FANN_FLO_", 9) ? NULL : fann_create_from_file(path);
  if (!ann || fann_get_num_input(ann) != (unsigned)F || fann_get_num_output(ann) != outputs(classes)) {
    rd_error_set("%s: not a FANN network of %d inputs and %u output%s", path, F, outputs(classes),
                 outputs(classes) > 1 ? "s" : "");
    if (ann) release(ann);
    return NULL;
  }
  return ann;
}

static int classify(void *impl, const float *x, int F, int classes, double *score) {
  fann_type in[FMAX];
  for (int j = 0; j < F; j++) in[j] = x[j];
  const fann_type *o = fann_run(impl, in);
  if (classes == 2) {
    *score = o[0];
    return *score >= 0.5;
  }
  int best = 0;
  for (int c = 1; c < classes; c++)
    if (o[c] > o[best]) best = c;
  *score = o[best];
  return best;
}

const rd_clf_backend rd_clf_fann = {.name = "fann", .train = fit, .save = store, .load = restore,
                                    .predict = classify, .free = release};
