// Amortised growth of per-step scratch arrays: reused across steps so a warm
// train loop does not allocate. Running out of memory mid-step leaves no
// sane way to continue, so it aborts with a message.
#ifndef RUDDER_GROW_H
#define RUDDER_GROW_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void *rd_grow(void *p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return p;
  int64_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(p, (size_t)c * elem);
  if (!q) {
    fprintf(stderr, "rudder: out of memory growing a buffer to %lld x %zu bytes\n", (long long)c, elem);
    abort();
  }
  *cap = c;
  return q;
}

#endif
