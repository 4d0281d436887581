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
  char old[RD_ERROR_LEN];
  memcpy(old, errbuf, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof errbuf - 2) {
    strcpy(errbuf + n, ": ");
    strncat(errbuf, old, sizeof errbuf - (size_t)n - 3);
  }
  return -1;
}

const char *rd_error(void) { return errbuf; }
