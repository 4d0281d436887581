// How a trainer process uses the CPUs it is given: OpenBLAS's kernel choice
// and the cores its threads may run on.
#ifndef RUDDER_CPU_H
#define RUDDER_CPU_H

#include <stdio.h>

// OpenBLAS 0.3.21 (Debian 12) falls back to its SSE3 "Prescott" kernels on
// x86 CPUs newer than it knows (e.g. Emerald Rapids), 3-4x slower at SGEMM
// than the AVX-512 ones the CPU can run. It reads OPENBLAS_CORETYPE once, as
// it loads, so when that variable is unset and OpenBLAS chose a generic core
// on a CPU with AVX-512 (AVX2), this sets it to SkylakeX (Haswell) and
// re-executes the program with the same arguments; otherwise it returns.
// Call first in main, before MPI_Init. RUDDER_KEEP_BLAS=1 disables it.
void rd_cpu_fix_blas(char **argv);

// The OpenBLAS core type in use ("SkylakeX", ...).
const char *rd_cpu_blas_core(void);

// CPU seconds used so far by all threads of this process: beside wall time,
// it shows whether a rank's threads ran in parallel or queued.
double rd_cpu_seconds(void);

// CPUs this process may run on (sched_getaffinity), or -1 if unknown.
int rd_cpu_allowed(void);

// When this process's OpenMP threads (omp_get_max_threads) outnumber the
// cores it may run on, prints one warning naming both to `out` and returns
// 1: mpirun binds each rank to one core by default, so threads would queue
// on it (docs: `--map-by slot:PE=T`, or `--bind-to none`). 0 otherwise.
int rd_cpu_check_threads(FILE *out, const char *who);

#endif
