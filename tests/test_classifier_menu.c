// The menu classifiers (issue #13, item 5):
//  * menu labels: at a decision point, every action's recorded rows equal an
//    independent replay (rd_replay from the trace's start, no prefetcher
//    copy) that follows the collector's earlier labels, takes the action
//    there and holds its knobs; the label is the least of them, keep first
//    on a tie, then the lowest index;
//  * every back-end trained on four well-separated classes (labels 0, 4, 9
//    and 17: not 0..3, so a back-end that mixes up its label order fails)
//    predicts its training points back, saved and loaded;
//  * a menu model served as xgb-menu, ... decides at every decision point as
//    it predicts offline on the window and knobs it was served;
//  * a menu model refused by a binary policy and a binary one by a menu
//    policy, each named.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/replay.h"
#include "check.h"
#include "classifier/collect.h"
#include "classifier/menu.h"
#include "classifier/model.h"
#include "classifier/policies.h"
#include "error.h"
#include "rng.h"

enum { HALO = 300, STEPS = 240, K = 8, CAP = 40, PERIOD = 6, HORIZON = 12 };

// A hot set of 15 nodes that moves every 50 steps (used within the window
// of K = 8), a recurring set of 20 nodes used every 12 steps (beyond the
// window: only the prior can keep them) and cold noise. The recurring set
// is nodes 0-19 (high VIP, low degree) in the first and last 80 steps and
// nodes 20-39 (low VIP, high degree) in between, so the best prior changes
// twice and some decision points are worth a tune.
static void make_trace(rd_trace *t, const char *path) {
  rd_trace_info info = {.parts = 2, .num_features = 4, .batch_size = 1, .num_layers = 1,
                        .fanouts = {1}, .num_nodes = HALO};
  rd_trace_writer *w = rd_trace_writer_open(path, &info);
  CHECK(w, "%s", rd_error());
  rd_node set[HALO], ids[HALO];
  int32_t owner[HALO] = {0}, deg[HALO];
  float vip[HALO];
  rd_rng r = rd_rng_stream(11, 0, 0);
  for (int64_t s = 0; s < STEPS; s++) {
    int8_t used[HALO] = {0};
    const int64_t hot = 60 + (s / 50) * 15 % (HALO - 80);
    for (int64_t v = hot; v < hot + 15; v++) used[v] = rd_rng_uniform(&r) < 0.6;
    const int recurring = s >= 80 && s < 160 ? 20 : 0;
    if (s % 12 < 2)
      for (int v = recurring; v < recurring + 20; v++) used[v] = 1;
    for (int k = 0; k < 12; k++) used[40 + rd_rng_below(&r, HALO - 40)] = 1;
    int64_t n = 0;
    for (int v = 0; v < HALO; v++)
      if (used[v]) set[n++] = v;
    CHECK(rd_trace_writer_step(w, set, n) == 0, "%s", rd_error());
  }
  for (int v = 0; v < HALO; v++) {
    ids[v] = v;
    vip[v] = v < 20 ? 0.9f : v < 40 ? 0.05f : (float)rd_rng_uniform(&r) * 0.5f;
    deg[v] = v < 20 ? 1 : v < 40 ? 100 : 2 + (int32_t)rd_rng_below(&r, 50);
  }
  CHECK(rd_trace_writer_close(w, ids, owner, deg, vip, HALO) == 0, "%s", rd_error());
  CHECK(rd_trace_load(t, path) == 0, "%s", rd_error());
}

static rd_prefetch_config config(void) {
  rd_prefetch_config c;
  rd_prefetch_config_defaults(&c);
  c.capacity_rows = CAP;
  c.params.period = PERIOD;
  c.params.lookahead = K;
  return c;
}

// The independent replay's policy: the lookahead rule with the collector's
// labels applied at the decision points before `point`, `action` at it, the
// knobs then held.
static const rd_clf_menu_sample *script;
static int64_t script_point;
static int script_action;
static void script_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  rd_replace *knobs = state;
  *out = (rd_replace){0};
  if (w->step < 0) {
    *out = *knobs = rd_menu_start(p->lookahead);
    return;
  }
  if (!rd_clf_decision_point(w->step, p->period) || w->step > script[script_point].step) return;
  const int64_t i = w->step / p->period - 1;  // the decision point's index
  const int a = i < script_point ? script[i].label : script_action;
  if (a == 0) return;
  *out = *knobs = rd_clf_menu_apply(a, p->lookahead, *knobs);
}
static int script_create(const rd_policy_params *p, void **state) {
  (void)p;
  return (*state = calloc(1, sizeof(rd_replace))) ? 0 : -1;
}
static const rd_policy_ops script_policy = {
    .name = "script", .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_FUTURE | RD_POLICY_VIP, .create = script_create, .decide = script_decide,
    .destroy = free};

// Rows fetched over [from, to) by the script, from rd_replay's per-step lines.
static int64_t replayed_rows(const rd_trace *t, int64_t from, int64_t to) {
  rd_prefetch_config c = config();
  c.policy = &script_policy;
  const rd_net_model net = {0};
  rd_replay_result r;
  FILE *f = tmpfile();
  CHECK(f && rd_replay(t, &c, &net, 0, &r, f) == 0, "replay: %s", rd_error());
  rewind(f);
  char line[512];
  CHECK(fgets(line, sizeof line, f), "no header");
  int64_t rows = 0, steps = 0;
  long long s, remote, hits, misses, prefetched;
  while (fgets(line, sizeof line, f)) {
    CHECK(sscanf(line, "%lld,%lld,%lld,%lld,%lld", &s, &remote, &hits, &misses, &prefetched) == 5,
          "step line '%s'", line);
    if (s >= from && s < to) rows += misses + prefetched;
    steps++;
  }
  fclose(f);
  CHECK(steps == t->steps, "%lld step lines", (long long)steps);
  return rows;
}

static void labels(const rd_trace *t, rd_clf_menu_sample **out, int64_t *num) {
  const rd_prefetch_config c = config();
  rd_clf_menu_sample *s;
  int64_t n, count[RD_CLF_MENU_ACTIONS] = {0};
  int64_t path_rows, keep_rows;
  CHECK(rd_clf_collect_menu(t, &c, HORIZON, &s, &n, &path_rows, &keep_rows) == 0, "%s", rd_error());
  CHECK(n == (STEPS - 1) / PERIOD, "%lld decision points", (long long)n);
  int tuned = 0;
  for (int64_t i = 0; i < n; i++) {
    CHECK(s[i].step == (i + 1) * PERIOD, "point %lld at step %lld", (long long)i, (long long)s[i].step);
    int best = 0;
    for (int a = 1; a < RD_CLF_MENU_ACTIONS; a++)
      if (s[i].rows[a] < s[i].rows[best]) best = a;
    CHECK(s[i].label == best, "step %lld: label %d, but the least rows are action %d's",
          (long long)s[i].step, s[i].label, best);
    count[s[i].label]++;
    // The knobs seen: the start's until the first tune.
    if (!tuned)
      CHECK(s[i].x[RD_CLF_FEATURES] == 1.0f && s[i].x[RD_CLF_FEATURES + 1] == 0 &&
                s[i].x[RD_CLF_FEATURES + 3] == 0 && s[i].x[RD_CLF_FEATURES + 4] == 0,
            "step %lld: the start's knobs are not the features", (long long)s[i].step);
    tuned |= s[i].label != 0;
  }
  printf("menu labels: %lld points:", (long long)n);
  for (int a = 0; a < RD_CLF_MENU_ACTIONS; a++)
    if (count[a]) printf(" %s %lld", rd_clf_menu_action_name(a), (long long)count[a]);
  putchar('\n');
  CHECK(count[0] > 0 && count[0] < n, "both keep and a tune must be best somewhere");
  // Recomputed independently at the first point whose label is not keep
  // after an earlier one that was not either (its state depends on the
  // collector having followed the labels), and at the first point.
  int64_t pick = -1, first = -1;
  for (int64_t i = 0; i < n && pick < 0; i++)
    if (s[i].label) {
      if (first >= 0) pick = i;
      else first = i;
    }
  CHECK(pick > 0, "no two points whose best action is a tune");
  const int64_t points[2] = {0, pick};
  for (int k = 0; k < 2; k++) {
    const int64_t i = points[k], from = s[i].step, to = from + HORIZON < STEPS ? from + HORIZON : STEPS;
    script = s;
    script_point = i;
    for (int a = 0; a < RD_CLF_MENU_ACTIONS; a++) {
      script_action = a;
      const int64_t rows = replayed_rows(t, from, to);
      CHECK(rows == s[i].rows[a], "step %lld, action %s: collected %lld rows, replayed %lld",
            (long long)from, rd_clf_menu_action_name(a), (long long)s[i].rows[a], (long long)rows);
    }
    printf("step %lld: all %d actions' rows replayed independently (best %s: %lld, keep %lld)\n",
           (long long)from, RD_CLF_MENU_ACTIONS, rd_clf_menu_action_name(s[i].label),
           (long long)s[i].rows[s[i].label], (long long)s[i].rows[0]);
  }
  // The collector's own replay is a policy answering every label: the same
  // rows as the script following them all; keeping throughout, the same as
  // the script answering keep everywhere.
  script = s;
  script_point = n - 1;
  script_action = s[n - 1].label;
  const int64_t followed = replayed_rows(t, 0, STEPS);
  rd_clf_menu_sample *keep = calloc((size_t)n, sizeof *keep);
  for (int64_t i = 0; i < n; i++) keep[i].step = s[i].step;
  script = keep;
  script_action = 0;
  const int64_t kept = replayed_rows(t, 0, STEPS);
  free(keep);
  printf("whole trace: following the labels %lld rows, keeping %lld\n", (long long)path_rows,
         (long long)keep_rows);
  CHECK(followed == path_rows && kept == keep_rows, "following the labels: %lld rows, replayed %lld; "
        "keeping: %lld, replayed %lld", (long long)path_rows, (long long)followed, (long long)keep_rows,
        (long long)kept);
  *out = s;
  *num = n;
}

static const rd_clf_backend *const backends[] = {&rd_clf_xgboost, &rd_clf_xgboost_rf, &rd_clf_svm,
                                                 &rd_clf_linear, &rd_clf_fann};
static const rd_policy_ops *const menu_policies[] = {&rd_policy_xgb_menu, &rd_policy_rf_menu,
                                                     &rd_policy_svm_menu, &rd_policy_linear_menu,
                                                     &rd_policy_fann_menu};
static const rd_policy_ops *const binary_policies[] = {&rd_policy_xgb, &rd_policy_rf, &rd_policy_svm,
                                                       &rd_policy_linear, &rd_policy_fann};
enum { NB = sizeof backends / sizeof *backends, F = RD_CLF_MENU_FEATURES };

static void multiclass(void) {
  enum { N = 240 };
  static const int32_t classes[4] = {0, 4, 9, 17};
  float *x = malloc(N * F * sizeof *x);
  int32_t y[N];
  rd_rng r = rd_rng_stream(5, 0, 0);
  for (int i = 0; i < N; i++) {
    const int c = i % 4;
    y[i] = classes[c];
    for (int j = 0; j < F; j++) x[i * F + j] = (float)(0.3 * rd_rng_normal(&r)) + (j == c ? 3.0f : 0.0f);
  }
  for (int b = 0; b < NB; b++) {
    rd_clf_model m;
    CHECK(rd_clf_train_labels(&m, backends[b], RD_CLF_MENU, x, y, N, 1) == 0 &&
              rd_clf_save(&m, "menu.model") == 0, "%s: %s", backends[b]->name, rd_error());
    rd_clf_free(&m);
    CHECK(rd_clf_load_labels(&m, backends[b], RD_CLF_MENU, "menu.model") == 0, "%s: %s",
          backends[b]->name, rd_error());
    CHECK(m.classes == RD_CLF_MENU_ACTIONS && m.features == F, "%s: shape", backends[b]->name);
    int right = 0;
    for (int i = 0; i < N; i++) {
      double score;
      const int p = rd_clf_predict(&m, x + i * F, &score);
      CHECK(p >= 0 && p < RD_CLF_MENU_ACTIONS && score == score, "%s: prediction %d: %s",
            backends[b]->name, p, p < 0 ? rd_error() : "out of range");
      right += p == y[i];
    }
    printf("%s: %d of %d training points of 4 classes (0, 4, 9, 17) predicted back\n",
           backends[b]->name, right, N);
    CHECK(right >= N * 95 / 100, "%s: only %d of %d predicted back", backends[b]->name, right, N);
    rd_clf_free(&m);
    // One class only is refused, naming the action.
    int32_t same[N];
    for (int i = 0; i < N; i++) same[i] = 4;
    CHECK(rd_clf_train_labels(&m, backends[b], RD_CLF_MENU, x, same, N, 1) != 0 &&
              strstr(rd_error(), "action 4 (window_K)"), "%s: one class: %s", backends[b]->name, rd_error());
  }
  free(x);
  remove("menu.model");
  remove("menu.model.json");
}

// A probe around a served menu policy keeps the window of every decision point.
static const rd_policy_ops *probed;
static rd_window seen[256];
static int64_t num_seen;
static int probe_create(const rd_policy_params *p, void **state) { return probed->create(p, state); }
static void probe_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  if (w->step >= 0 && rd_clf_decision_point(w->step, p->period) && num_seen < 256) seen[num_seen++] = *w;
  probed->decide(state, p, w, out);
}
static void probe_destroy(void *state) { probed->destroy(state); }
static int64_t probe_drain(void *state, rd_decision **out) { return probed->drain(state, out); }

// A policy given `options` must fail naming `needle`.
static void refused(const rd_policy_ops *ops, const char *options, const char *needle) {
  rd_policy_params p = {.period = PERIOD, .lookahead = K, .options = options};
  void *state = NULL;
  CHECK(ops->create(&p, &state) != 0 && strstr(rd_error(), needle), "%s with '%s': %s", ops->name,
        options, rd_error());
}

static void serving(const rd_trace *t, const rd_clf_menu_sample *s, int64_t n) {
  float *x = malloc((size_t)n * F * sizeof *x);
  int32_t *y = malloc((size_t)n * sizeof *y);
  for (int64_t i = 0; i < n; i++) {
    memcpy(x + i * F, s[i].x, sizeof s->x);
    y[i] = s[i].label;
  }
  const rd_prefetch_config c = config();
  for (int b = 0; b < NB; b++) {
    rd_clf_model m;
    CHECK(rd_clf_train_labels(&m, backends[b], RD_CLF_MENU, x, y, n, 1) == 0 &&
              rd_clf_save(&m, "menu.model") == 0, "%s: %s", backends[b]->name, rd_error());
    rd_clf_free(&m);
    CHECK(rd_clf_load_labels(&m, backends[b], RD_CLF_MENU, "menu.model") == 0, "%s", rd_error());
    const rd_policy_ops *ops = menu_policies[b];
    const rd_policy_ops probe = {.name = ops->name, .uses_buffer = 1, .init = ops->init, .rule = ops->rule,
                                 .flags = ops->flags, .create = probe_create, .decide = probe_decide,
                                 .destroy = probe_destroy, .drain = probe_drain};
    probed = ops;
    num_seen = 0;
    rd_prefetch_config sc = c;
    sc.policy = &probe;
    sc.params.options = "model=menu.model";
    rd_clf_replay_result r;
    CHECK(rd_clf_replay(t, &sc, &r) == 0, "%s: %s", ops->name, rd_error());
    CHECK(r.num_decisions == n && num_seen == n, "%s: %lld decisions at %lld points", ops->name,
          (long long)r.num_decisions, (long long)n);
    // The served action at every point is the offline prediction on the
    // window served and the knobs its earlier actions left in force.
    rd_replace knobs = rd_menu_start(K);
    int64_t tunes = 0, diverged = -1;
    for (int64_t i = 0; i < n; i++) {
      float xi[F];
      rd_clf_menu_features(&seen[i], &sc.params, &knobs, xi);
      double score;
      const int a = rd_clf_predict(&m, xi, &score);
      char offline[64];
      snprintf(offline, sizeof offline, "%s %.6g", rd_clf_menu_action_name(a), score);
      const rd_decision *d = &r.decisions[i];
      CHECK(d->valid && d->step_posted == s[i].step && d->step_applied == s[i].step,
            "%s: decision %lld is logged as made", ops->name, (long long)i);
      CHECK(!strcmp(d->raw, offline) && d->replace == (a > 0), "%s: step %lld served '%s', offline '%s'",
            ops->name, (long long)s[i].step, d->raw, offline);
      // Until the served run leaves the collector's path, it is in the
      // collector's states: the features are the collected ones.
      if (diverged < 0)
        CHECK(!memcmp(xi, s[i].x, sizeof xi), "%s: step %lld: served features differ from the collected",
              ops->name, (long long)s[i].step);
      if (diverged < 0 && a != s[i].label) diverged = i;
      knobs = rd_clf_menu_apply(a, K, knobs);
      tunes += a > 0;
    }
    printf("%s: %lld decisions served as predicted offline (%lld tunes), rows fetched %lld; on the "
           "collector's path for the first %lld\n", ops->name, (long long)n, (long long)tunes,
           (long long)r.rows_fetched, (long long)(diverged < 0 ? n : diverged + 1));
    for (int64_t i = 0; i < r.num_decisions; i++) free(r.decisions[i].raw);
    free(r.decisions);
    rd_clf_free(&m);
    // Labels of the other kind are refused by name, both ways.
    refused(binary_policies[b], "model=menu.model", "menu.model.json: a model of menu labels");
  }
  // A binary model in a menu policy.
  float bx[4 * RD_CLF_FEATURES] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (int i = 2 * RD_CLF_FEATURES; i < 4 * RD_CLF_FEATURES; i++) bx[i] = (float)(i % 3);
  const int32_t by[4] = {0, 1, 0, 1};
  rd_clf_model m;
  CHECK(rd_clf_train(&m, &rd_clf_xgboost, bx, by, 4, 1) == 0 && rd_clf_save(&m, "menu.model") == 0,
        "%s", rd_error());
  rd_clf_free(&m);
  refused(&rd_policy_xgb_menu, "model=menu.model", "menu.model.json: a model of replace labels");
  refused(&rd_policy_xgb_menu, "colour=red", "unknown 'colour=red'");
  // No known steps: nothing for the window knob to count.
  rd_policy_params none_known = {.period = PERIOD, .lookahead = 0, .options = "model=menu.model"};
  void *state = NULL;
  CHECK(rd_policy_xgb_menu.create(&none_known, &state) != 0 && strstr(rd_error(), "needs --lookahead K >= 1"),
        "xgb-menu without --lookahead: %s", rd_error());
  remove("menu.model");
  remove("menu.model.json");
  free(x);
  free(y);
}

int main(void) {
  rd_trace t;
  make_trace(&t, "clf_menu.rdt");
  rd_clf_menu_sample *s;
  int64_t n;
  labels(&t, &s, &n);
  multiclass();
  serving(&t, s, n);
  free(s);
  rd_trace_free(&t);
  remove("clf_menu.rdt");
  puts("classifier menu: ok");
  return 0;
}
