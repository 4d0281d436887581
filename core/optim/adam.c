#include "adam.h"

#include <stdlib.h>

#include "../error.h"

int rd_adam_init(rd_adam *a, size_t n, float lr) {
  *a = (rd_adam){.n = n, .lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
  a->m = calloc(2 * n + 1, sizeof *a->m);
  if (!a->m) return rd_error_set("adam: out of memory for %zu parameters", n);
  a->v = a->m + n;
  return 0;
}

void rd_adam_free(rd_adam *a) {
  free(a->m);
  a->m = a->v = NULL;
}

void rd_adam_step(rd_adam *a, rd_real *params, const rd_real *grads) {
  a->t++;
  // Bias corrections in double: 1 - beta^t loses digits in float.
  double bc1 = 1 - pow(a->beta1, (double)a->t), bc2 = 1 - pow(a->beta2, (double)a->t);
  rd_real b1 = a->beta1, b2 = a->beta2, wd = a->weight_decay, eps = a->eps;
  rd_real step = (rd_real)(a->lr / bc1), inv_sqrt_bc2 = (rd_real)(1 / sqrt(bc2));
  rd_real *m = a->m, *v = a->v;
#pragma omp parallel for schedule(static) if (a->n >= 32768)
  for (size_t i = 0; i < a->n; i++) {
    rd_real g = grads[i] + wd * params[i];
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    params[i] -= step * m[i] / (rd_sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}
