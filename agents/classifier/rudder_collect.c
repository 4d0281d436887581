// rudder_collect: labelled samples for the classifier agents from recorded
// access traces (rudder_train --record-trace).
//   rudder_collect run.trace.0 run.trace.1 --period 5 --horizon 20 -o samples.csv
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "cli.h"
#include "error.h"

static int usage(FILE *f) {
  fprintf(f,
          "usage: rudder_collect TRACE... --period P --horizon H -o SAMPLES.csv\n"
          "  at every P-th step, label 1 iff replacing now fetches fewer rows over the next H\n"
          "  steps than keeping (both keep afterwards); the replay goes on with the better one\n"
          RD_CLF_BUFFER_USAGE);
  return f == stdout ? 0 : 2;
}

static int die(const char *what) {
  fprintf(stderr, "rudder_collect: %s%s%s\n", what ? what : "", what ? ": " : "", rd_error());
  return 1;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  int64_t horizon = 0;
  const char *out = NULL;
  static const struct option opts[] = {
      RD_CLF_BUFFER_OPTIONS, {"horizon", 1, 0, 'H'}, {"output", 1, 0, 'o'}, {0, 0, 0, 0}};
  int c, idx = 0, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, &idx)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'H') rc = rd_parse_int("horizon", optarg, 1, 1000000000, &horizon);
    else if (c == '?' || (rc = rd_clf_buffer_option(c, opts[idx].name, optarg, &cfg)) > 0)
      return usage(stderr);
  }
  if (rc) return die(NULL);
  if (optind == argc || !out || horizon == 0 || cfg.params.period == 0) return usage(stderr);
  char *tmp = malloc(strlen(out) + 5);
  sprintf(tmp, "%s.tmp", out);  // renamed when complete: no half-written samples file
  FILE *f = fopen(tmp, "w");
  if (!f) {
    rd_error_set("%s: cannot create", tmp);
    free(tmp);
    return die(NULL);
  }
  fputs("trace,rank,step", f);
  for (int j = 0; j < RD_CLF_FEATURES; j++) fprintf(f, ",%s", rd_clf_feature_names[j]);
  fputs(",label,rows_replace,rows_keep\n", f);
  for (int a = optind; a < argc && rc == 0; a++) {
    rd_trace t;
    rd_clf_sample *s = NULL;
    int64_t n = 0, pos = 0;
    if (strpbrk(argv[a], ",\"\r\n")) {
      rc = rd_error_set("%s: a trace path in the samples may not hold a comma, quote or newline",
                        argv[a]);
      break;
    }
    if ((rc = rd_trace_load(&t, argv[a]))) break;
    if ((rc = rd_clf_collect(&t, &cfg, horizon, &s, &n))) rd_error_wrap("%s", argv[a]);
    for (int64_t i = 0; i < n; i++) {
      fprintf(f, "%s,%d,%lld", argv[a], t.info.rank, (long long)s[i].step);
      for (int j = 0; j < RD_CLF_FEATURES; j++) fprintf(f, ",%.9g", s[i].x[j]);
      fprintf(f, ",%d,%lld,%lld\n", s[i].label, (long long)s[i].rows_replace, (long long)s[i].rows_keep);
      pos += s[i].label;
    }
    if (!rc)
      printf("%s: rank %d, %lld steps: %lld decision points, replacing helps at %lld (%.1f%%)\n",
             argv[a], t.info.rank, (long long)t.steps, (long long)n, (long long)pos,
             n ? 100.0 * (double)pos / (double)n : 0.0);
    free(s);
    rd_trace_free(&t);
  }
  if (fclose(f) && !rc) rc = rd_error_set("%s: cannot write", tmp);
  if (!rc && rename(tmp, out)) rc = rd_error_set("%s: cannot rename to %s", tmp, out);
  if (rc) remove(tmp);
  free(tmp);
  return rc ? die(NULL) : 0;
}
