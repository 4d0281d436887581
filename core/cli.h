// Strict option parsing for the command-line tools: the whole argument must
// be a number inside [lo, hi], else -1 with an rd_error naming the option.
#ifndef RUDDER_CLI_H
#define RUDDER_CLI_H

#include <stdint.h>

int rd_parse_number(const char *opt, const char *s, double lo, double hi, double *out);
int rd_parse_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
