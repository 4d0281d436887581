// The run parameters: one table, one row per parameter (params.c). The row
// is the only place a parameter is defined: its ini section and key, its
// command-line flag, type, range or choices, default, unit, help line and
// HDF5 attribute. The table drives the defaults of rd_train_config, the
// command lines of rudder_train and rudder_replay and their --help, the
// experiment descriptor's keys, `rudder_train --print-config` and the
// attributes of a run in the results. Adding a parameter is adding a row.
#ifndef RUDDER_PARAMS_H
#define RUDDER_PARAMS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "train.h"

typedef enum rd_param_type {
  RD_PARAM_INT,      // int
  RD_PARAM_I64,      // int64_t
  RD_PARAM_U64,      // uint64_t
  RD_PARAM_F64,      // double
  RD_PARAM_F32,      // float
  RD_PARAM_STR,      // const char * (points into argv or the descriptor, not copied)
  RD_PARAM_CHOICE,   // int-sized enum: value = choice_base + index in `choices`
  RD_PARAM_FLAG,     // int, 0/1; a flag on the command line, yes/no in a descriptor
  RD_PARAM_FANOUTS,  // "10,25" into fanouts[] and num_layers
} rd_param_type;

// Which program takes a row on its command line.
enum { RD_TOOL_TRAIN = 1, RD_TOOL_REPLAY = 2 };

typedef struct rd_param {
  // Descriptor section ("model", "policy", "network", "experiment", "sweep")
  // and key; NULL section: a command-line option only (paths), not a run
  // parameter: no descriptor key, no attribute, not printed by --print-config.
  const char *section, *key;
  const char *flag;       // --flag
  const char *attr;       // HDF5 attribute name
  rd_param_type type;
  double lo, hi;          // numbers: the inclusive range
  const char *choices;    // RD_PARAM_CHOICE: "a|b|c"
  int choice_base;        // the value of the first choice
  const char *def;        // the default, as text (parsed like any value)
  const char *unit;       // "" when none
  const char *help;
  size_t offset;          // of the field in rd_train_config
  unsigned tools;         // RD_TOOL_* that take it
} rd_param;

// The table; NULL-terminated (rd_params()[i].key == NULL ends it).
const rd_param *rd_params(void);
const rd_param *rd_param_by_key(const char *section, const char *key);

// Sets the row's field of `cfg` from text, checked against its type and
// range; -1 with rd_error() naming `where` ("--hidden", "exp.ini:12: [model
// m] hidden") and saying what is wrong ("'four' is not an integer").
int rd_param_set(const rd_param *p, rd_train_config *cfg, const char *text, const char *where);

// The row's value in `cfg` as text that rd_param_set reads back exactly.
void rd_param_format(const rd_param *p, const rd_train_config *cfg, char *out, size_t n);

// Every row's default (fields of no row are zero, verify = 1).
void rd_params_defaults(rd_train_config *cfg);

// Fills in what a configuration leaves to others once the command line is
// read: the model's and the policy's seed from --seed, the period from
// delta, the model's layer count from the fanouts.
void rd_params_resolve(rd_train_config *cfg);

// Usage lines of the rows `tool` takes, grouped by section, with defaults.
void rd_params_usage(FILE *f, unsigned tool);

// The configuration as an INI fragment with the descriptor's sections and
// keys (the run parameters only).
void rd_params_print_ini(FILE *f, const rd_train_config *cfg);

// getopt_long over the rows `tool` takes plus the caller's own options
// (`extra`, terminated by a zero entry, values < 256). rd_cli_next returns
// an extra option's value (optarg set), -1 at the end, or '?' after an
// error (rd_error() says which); schema rows are applied to `cfg` inside.
typedef struct rd_cli {
  struct option opts[96];
  const rd_param *rows[96];
  unsigned tool;
} rd_cli;
int rd_cli_init(rd_cli *c, unsigned tool, const struct option *extra);
int rd_cli_next(rd_cli *c, int argc, char **argv, rd_train_config *cfg);

#endif
