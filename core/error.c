#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[RD_ERROR_LEN];

int rd_error_set(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return -1;
}

int rd_error_wrap(const char *fmt, ...) {
  char old[RD_ERROR_LEN], prefix[RD_ERROR_LEN];
  memcpy(old, errbuf, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  // "prefix: old", cut to the buffer.
  const size_t n = strlen(prefix), room = sizeof errbuf - 1;
  const size_t m = n + 2 < room ? strnlen(old, room - n - 2) : 0;
  memcpy(errbuf, prefix, n);
  if (n + 2 < room) {
    memcpy(errbuf + n, ": ", 2);
    memcpy(errbuf + n + 2, old, m);
  }
  errbuf[n + 2 < room ? n + 2 + m : n] = 0;
  return -1;
}

const char *rd_error(void) { return errbuf; }
