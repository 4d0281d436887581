// Adam, one thread per parameter, as optim/adam.c.
#include <math.h>

#include "common.cuh"
#include "kernels.h"

__global__ void adam_step(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m,
                          float *__restrict__ v, size_t n, float b1, float b2, float wd, float eps,
                          float step, float inv_sqrt_bc2) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads()) {
    const float gi = g[i] + wd * p[i], mi = b1 * m[i] + (1 - b1) * gi,
                vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
  }
}

int rd_cuda_adam_step(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                      float beta1, float beta2, float eps, float weight_decay, int64_t t,
                      cudaStream_t stream) {
  if (n == 0) return 0;
  // Bias corrections in double on the host, exactly as the twin rounds them.
  const double bc1 = 1 - pow(beta1, (double)t), bc2 = 1 - pow(beta2, (double)t);
  RD_LAUNCH(adam_step, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, params, grads, m, v, n,
            beta1, beta2, weight_decay, eps, (float)(lr / bc1), (float)(1 / sqrt(bc2)));
  return 0;
}
