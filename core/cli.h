// Strict option parsing for the command-line tools: the whole argument must
// be a number inside [lo, hi], else -1 with an rd_error naming the option.
#ifndef RUDDER_CLI_H
#define RUDDER_CLI_H

#include <stdint.h>

int rd_parse_number(const char *opt, const char *s, double lo, double hi, double *out);
// Whether -h or --help is among the arguments: every program then prints
// its usage on stdout and exits 0 (errors go to stderr with exit 2).
int rd_cli_wants_help(int argc, char **argv);

int rd_parse_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
