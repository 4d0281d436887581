#include "cli.h"

#include <errno.h>
#include <stdlib.h>

#include <string.h>

#include "error.h"

int rd_cli_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
  return 0;
}

int rd_parse_number(const char *opt, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  const double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi))
    return rd_error_set("--%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
  *out = v;
  return 0;
}

int rd_parse_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  const long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return rd_error_set("--%s: '%s' is not an integer in [%lld, %lld]", opt, s, (long long)lo,
                        (long long)hi);
  *out = v;
  return 0;
}
