// Adam over one contiguous parameter array (the model's flat layout), with
// PyTorch's torch.optim.Adam semantics: bias-corrected moments, eps added to
// the corrected sqrt(v), and weight decay as an L2 term added to the gradient.
#ifndef RUDDER_ADAM_H
#define RUDDER_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "../ops/real.h"

#ifdef RD_REAL_DOUBLE
#define rd_adam_init rd_adam_init_f64
#define rd_adam_free rd_adam_free_f64
#define rd_adam_step rd_adam_step_f64
#endif

typedef struct rd_adam {
  size_t n;
  float lr, beta1, beta2, eps, weight_decay;  // may be changed between steps
  int64_t t;                                  // steps taken
  rd_real *m, *v;                             // first and second moments, one allocation
} rd_adam;

// beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0, zero moments. -1 with
// rd_error_set when out of memory.
int rd_adam_init(rd_adam *a, size_t n, float lr);
void rd_adam_free(rd_adam *a);
// params -= lr · m̂ / (sqrt(v̂) + eps), after folding grads into the moments.
void rd_adam_step(rd_adam *a, rd_real *params, const rd_real *grads);

#endif
