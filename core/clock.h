// Monotonic wall time in seconds: every timing in the suite reads this clock.
#ifndef RUDDER_CLOCK_H
#define RUDDER_CLOCK_H

#include <time.h>

static inline double rd_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
