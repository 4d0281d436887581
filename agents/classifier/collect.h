// Trace replays of the classifier agents, through the same prefetcher calls
// as rd_replay: collecting labelled samples, and serving a trained policy
// with its decisions kept.
#ifndef RUDDER_CLF_COLLECT_H
#define RUDDER_CLF_COLLECT_H

#include "buffer/prefetcher.h"
#include "buffer/trace.h"
#include "features.h"
#include "menu.h"

typedef struct rd_clf_sample {
  int64_t step;
  float x[RD_CLF_FEATURES];
  int32_t label;                    // 1: replacing fetched strictly fewer rows
  int64_t rows_replace, rows_keep;  // rows fetched over [step, step + horizon)
} rd_clf_sample;

// Replays `t` from the classifier policies' start (DEGREE) under the SCORE
// rule with cfg's buffer (capacity, alpha, delta) and cfg->params (period,
// fraction); cfg->policy is not used. At every decision point two copies of
// the state replay the next `horizon` steps (fewer at the end of the trace),
// one replacing now and one keeping, and both keep for the rest of the
// horizon; the replay itself goes on with the better of the two. *out
// (malloc'ed) gets one sample per decision point, in step order.
int rd_clf_collect(const rd_trace *t, const rd_prefetch_config *cfg, int64_t horizon,
                   rd_clf_sample **out, int64_t *n);

typedef struct rd_clf_menu_sample {
  int64_t step;
  float x[RD_CLF_MENU_FEATURES];  // rd_clf_menu_features: the window, the knobs in force
  int32_t label;                  // the action (menu.h) that fetched the fewest rows
  int64_t rows[RD_CLF_MENU_ACTIONS];  // fetched over [step, step + horizon) by each action
} rd_clf_menu_sample;

// Menu labels: replays `t` under the LOOKAHEAD rule, as the menu policies
// run it (empty start unless cfg->init says otherwise, the future shown
// cfg->params.lookahead = K steps ahead, the knobs starting at the lookahead
// policy's defaults). At every decision point each action of menu.h is
// rolled out over the next `horizon` steps from a copy of the state (the
// action at the point, the knobs it leaves held after), and the label is
// the action that fetched the fewest rows (misses + prefetched), keep on a
// tie, else the lowest index. The replay goes on with the label's action.
// *path_rows (when not NULL) gets the rows that replay fetched over the
// whole trace (a policy answering every label right: the most a classifier
// of these labels can reach this way) and *keep_rows those of keeping the
// start's knobs throughout (the lookahead policy at its defaults).
int rd_clf_collect_menu(const rd_trace *t, const rd_prefetch_config *cfg, int64_t horizon,
                        rd_clf_menu_sample **out, int64_t *n, int64_t *path_rows,
                        int64_t *keep_rows);

typedef struct rd_clf_replay_result {
  int64_t rows_fetched;  // misses + replacement rows, as rd_replay counts them
  int64_t preload_rows, num_decisions;
  rd_decision *decisions;  // drained from the policy: caller frees each raw, then the array
} rd_clf_replay_result;

// cfg->policy over the whole trace (shown the future as rd_replay shows it).
int rd_clf_replay(const rd_trace *t, const rd_prefetch_config *cfg, rd_clf_replay_result *r);

// The buffer options of both tools, for getopt_long, and their help text.
#define RD_CLF_BUFFER_OPTIONS                                                                   \
  {"buffer-fraction", 1, 0, 'F'}, {"buffer-rows", 1, 0, 'R'}, {"alpha", 1, 0, 'x'},             \
      {"delta", 1, 0, 'D'}, {"period", 1, 0, 'T'}, {"replace-fraction", 1, 0, 'r'},               \
      {"buffer-init", 1, 0, 'i'}
#define RD_CLF_BUFFER_USAGE                                                                     \
  "  --buffer-fraction F of the halo (0.25) | --buffer-rows N  --alpha A (0.05)  --delta D (25)\n" \
  "  --replace-fraction F (0: every stale slot)\n"                                                  \
  "  --buffer-init empty|degree|random|vip (the policy's: degree; menu labels and policies: empty)\n"
// Applies option `c` of RD_CLF_BUFFER_OPTIONS to cfg: 0, -1 (rd_error) on a
// bad value, 1 when `c` is none of them.
int rd_clf_buffer_option(int c, const char *name, const char *arg, rd_prefetch_config *cfg);

#endif
