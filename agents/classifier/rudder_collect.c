// rudder_collect: labelled samples for the classifier agents from recorded
// access traces (rudder_train --record-trace).
//   rudder_collect run.trace.0 run.trace.1 --period 5 --horizon 20 -o samples.csv
//   rudder_collect run.trace.0 --labels menu --lookahead 8 --period 5 --horizon 20 -o menu.csv
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "cli.h"
#include "error.h"
#include "model.h"

static int usage(FILE *f) {
  fprintf(f,
          "usage: rudder_collect TRACE... --period P --horizon H -o SAMPLES.csv\n"
          "         [--labels replace|menu (replace)] [--lookahead K (menu: 8)]\n"
          "  replace: at every P-th step, label 1 iff replacing now fetches fewer rows over the\n"
          "    next H steps than keeping (both keep afterwards), under the score rule\n"
          "  menu: at every P-th step, under the lookahead rule shown K steps ahead, label the\n"
          "    action of the menu (keep, or one knob set: window 0,K/4,K/2,K; prior\n"
          "    vip,count,degree; margin 0,0.1,0.25,0.5,1; pinned 0,0.05,0.1,0.25,0.5) that\n"
          "    fetches the fewest rows over the next H steps (keep, then the first, on a tie);\n"
          "    columns rows_ACTION hold every action's rows\n"
          "  the replay goes on with the label's choice\n"
          RD_CLF_BUFFER_USAGE);
  return f == stdout ? 0 : 2;
}

static int die(const char *what) {
  fprintf(stderr, "rudder_collect: %s%s%s\n", what ? what : "", what ? ": " : "", rd_error());
  return 1;
}

// Menu samples of one trace into f, and a line saying how often each
// action was best.
static int collect_menu(FILE *f, const char *path, const rd_trace *t, const rd_prefetch_config *cfg,
                        int64_t horizon) {
  rd_clf_menu_sample *s;
  int64_t n, count[RD_CLF_MENU_ACTIONS] = {0}, rows_keep = 0, rows_best = 0, path_rows, keep_rows;
  if (rd_clf_collect_menu(t, cfg, horizon, &s, &n, &path_rows, &keep_rows))
    return rd_error_wrap("%s", path);
  for (int64_t i = 0; i < n; i++) {
    fprintf(f, "%s,%d,%lld", path, t->info.rank, (long long)s[i].step);
    for (int j = 0; j < RD_CLF_MENU_FEATURES; j++) fprintf(f, ",%.9g", s[i].x[j]);
    fprintf(f, ",%d", s[i].label);
    for (int a = 0; a < RD_CLF_MENU_ACTIONS; a++) fprintf(f, ",%lld", (long long)s[i].rows[a]);
    fputc('\n', f);
    count[s[i].label]++;
    rows_keep += s[i].rows[0];
    rows_best += s[i].rows[s[i].label];
  }
  printf("%s: rank %d, %lld steps: %lld decision points, keep best at %lld; horizon rows keep %lld, "
         "best %lld; labels:", path, t->info.rank, (long long)t->steps, (long long)n,
         (long long)count[0], (long long)rows_keep, (long long)rows_best);
  for (int a = 1; a < RD_CLF_MENU_ACTIONS; a++)
    if (count[a]) printf(" %s %lld", rd_clf_menu_action_name(a), (long long)count[a]);
  // What answering every label right fetches, against the start's knobs held.
  printf("\n%s: rank %d: rows fetched following the labels %lld, keeping the start's knobs %lld\n",
         path, t->info.rank, (long long)path_rows, (long long)keep_rows);
  free(s);
  return 0;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  rd_prefetch_config cfg;
  rd_prefetch_config_defaults(&cfg);
  int64_t horizon = 0, lookahead = 8;
  rd_clf_labels kind = RD_CLF_REPLACE;
  const char *out = NULL;
  static const struct option opts[] = {
      RD_CLF_BUFFER_OPTIONS, {"horizon", 1, 0, 'H'}, {"output", 1, 0, 'o'},
      {"labels", 1, 0, 'L'}, {"lookahead", 1, 0, 'K'}, {0, 0, 0, 0}};
  int c, idx = 0, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, &idx)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'H') rc = rd_parse_int("horizon", optarg, 1, 1000000000, &horizon);
    else if (c == 'L') rc = rd_clf_labels_parse(optarg, &kind);
    else if (c == 'K') rc = rd_parse_int("lookahead", optarg, 0, 100000, &lookahead);
    else if (c == '?' || (rc = rd_clf_buffer_option(c, opts[idx].name, optarg, &cfg)) > 0)
      return usage(stderr);
  }
  if (rc) return die(NULL);
  if (optind == argc || !out || horizon == 0 || cfg.params.period == 0) return usage(stderr);
  cfg.params.lookahead = (int32_t)lookahead;
  char *tmp = malloc(strlen(out) + 5);
  sprintf(tmp, "%s.tmp", out);  // renamed when complete: no half-written samples file
  FILE *f = fopen(tmp, "w");
  if (!f) {
    rd_error_set("%s: cannot create", tmp);
    free(tmp);
    return die(NULL);
  }
  fputs("trace,rank,step", f);
  const int nf = rd_clf_labels_features(kind);
  for (int j = 0; j < nf; j++) fprintf(f, ",%s", rd_clf_labels_feature_names(kind)[j]);
  if (kind == RD_CLF_REPLACE) {
    fputs(",label,rows_replace,rows_keep\n", f);
  } else {
    fputs(",label", f);
    for (int a = 0; a < RD_CLF_MENU_ACTIONS; a++) fprintf(f, ",rows_%s", rd_clf_menu_action_name(a));
    fputs("\n", f);
  }
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
    if (kind == RD_CLF_MENU) {
      rc = collect_menu(f, argv[a], &t, &cfg, horizon);
      rd_trace_free(&t);
      continue;
    }
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
