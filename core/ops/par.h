// How the CPU ops split work over OpenMP threads, shared by ops/*.c.
#ifndef RUDDER_OPS_PAR_H
#define RUDDER_OPS_PAR_H

#include <omp.h>

// Below this many elements a parallel region costs more than the loop.
#define RD_PAR_MIN 32768

// This thread's slice [*c0, *c1) of dim columns, in whole cache lines of
// floats so threads never write the same line. A column belongs to one
// thread and is walked in row order, so sums down a column come out the same
// for any thread count. Call inside a parallel region.
static inline void rd_thread_cols(int dim, int *c0, int *c1) {
  const int nt = omp_get_num_threads(), t = omp_get_thread_num();
  const int chunk = ((dim + nt - 1) / nt + 15) / 16 * 16;
  *c0 = t * chunk < dim ? t * chunk : dim;
  *c1 = *c0 + chunk < dim ? *c0 + chunk : dim;
}

#endif
