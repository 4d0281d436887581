#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#include "cpu.h"

#include <cblas.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *rd_cpu_blas_core(void) {
  const char *c = openblas_get_corename();
  return c ? c : "unknown";
}

void rd_cpu_fix_blas(char **argv) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (getenv("OPENBLAS_CORETYPE") || getenv("RUDDER_KEEP_BLAS")) return;
  const char *core = rd_cpu_blas_core();
  if (strcasecmp(core, "prescott") != 0 && strcasecmp(core, "unknown") != 0) return;
  __builtin_cpu_init();
  const char *want = NULL;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    want = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    want = "Haswell";
  if (!want || setenv("OPENBLAS_CORETYPE", want, 1)) return;
  execv("/proc/self/exe", argv);
  // Not re-executed (no /proc): go on with the generic kernels.
#else
  (void)argv;
#endif
}

double rd_cpu_seconds(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)) return 0;
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int rd_cpu_allowed(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set)) return -1;
  return CPU_COUNT(&set);
}

int rd_cpu_check_threads(FILE *out, const char *who) {
  const int threads = omp_get_max_threads(), cores = rd_cpu_allowed();
  if (cores < 0 || threads <= cores) return 0;
  fprintf(out,
          "%s: warning: %d OpenMP threads confined to %d core%s (CPU affinity): they will queue; "
          "run with mpirun --map-by slot:PE=%d (or --bind-to none), or OMP_NUM_THREADS=%d\n",
          who, threads, cores, cores == 1 ? "" : "s", threads, cores);
  return 1;
}
