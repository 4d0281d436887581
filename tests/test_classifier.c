// The classifier agents: labels on hand-made traces whose right answer is
// known both ways; and, for every back-end, a model trained on collected
// samples, saved and served as a policy, gives the same score at a decision
// point as it gave offline on the collected features (no train/serve skew),
// with bad model files named.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "classifier/collect.h"
#include "classifier/model.h"
#include "classifier/policies.h"
#include "error.h"
#include "rng.h"

// Writes and loads a trace over halo = nodes 0..halo-1; step s accesses
// the nodes set in used[s * halo ..]. Node degree falls with the id, so the
// DEGREE start buffers the lowest ids.
static void make_trace(rd_trace *t, const char *path, int64_t halo, int64_t steps, const int8_t *used) {
  rd_trace_info info = {.parts = 2, .num_features = 4, .batch_size = 1, .num_layers = 1,
                        .fanouts = {1}, .num_nodes = halo};
  rd_trace_writer *w = rd_trace_writer_open(path, &info);
  CHECK(w, "%s", rd_error());
  rd_node *set = malloc((size_t)halo * sizeof *set), *ids = malloc((size_t)halo * sizeof *ids);
  int32_t *owner = calloc((size_t)halo, sizeof *owner), *deg = malloc((size_t)halo * sizeof *deg);
  float *vip = calloc((size_t)halo, sizeof *vip);
  for (int64_t s = 0; s < steps; s++) {
    int64_t n = 0;
    for (int64_t v = 0; v < halo; v++)
      if (used[s * halo + v]) set[n++] = (rd_node)v;
    CHECK(rd_trace_writer_step(w, set, n) == 0, "%s", rd_error());
  }
  for (int64_t v = 0; v < halo; v++) {
    ids[v] = (rd_node)v;
    deg[v] = (int32_t)(halo - v);
  }
  CHECK(rd_trace_writer_close(w, ids, owner, deg, vip, halo) == 0, "%s", rd_error());
  CHECK(rd_trace_load(t, path) == 0, "%s", rd_error());
  free(set); free(ids); free(owner); free(deg); free(vip);
}

static rd_prefetch_config config(int64_t rows, int64_t delta, int64_t period) {
  rd_prefetch_config c;
  rd_prefetch_config_defaults(&c);
  c.capacity_rows = rows;
  c.delta = delta;
  c.params.period = period;
  return c;
}

// Buffer of 4 (the DEGREE start holds nodes 0-3, never accessed), delta 2,
// a decision every 4 steps, horizon 4. Steps 0-3 miss nodes 4-7, making them
// the candidates; at step 4 slots 0-3 are stale.
static void labels(void) {
  enum { H = 12, S = 12 };
  int8_t used[S * H] = {0};
  const rd_prefetch_config c = config(4, 2, 4);
  rd_trace t;
  rd_clf_sample *s;
  int64_t n;
  // Helps: 4-7 stay hot. Replacing at step 4 admits them with the step's own
  // misses (no extra rows) and steps 5-7 hit: 4 rows against 16.
  for (int st = 0; st < S; st++)
    for (int v = 4; v < 8; v++) used[st * H + v] = 1;
  make_trace(&t, "clf_helps.rdt", H, S, used);
  CHECK(rd_clf_collect(&t, &c, 4, &s, &n) == 0, "%s", rd_error());
  CHECK(n == 2 && s[0].step == 4 && s[1].step == 8, "decision points at steps 4 and 8");
  CHECK(s[0].label == 1 && s[0].rows_replace == 4 && s[0].rows_keep == 16,
        "a replacement that helps: label %d, rows %lld vs %lld", s[0].label,
        (long long)s[0].rows_replace, (long long)s[0].rows_keep);
  CHECK(s[0].x[6] == 1.0f && s[0].x[5] == 1.0f && s[0].x[0] == 0.0f && s[0].x[8] == 4.0f / S,
        "features at step 4: all stale, full, no hits, progress 4/%d", S);
  // The replay went on with the replacement: nothing is stale at step 8, the
  // label is a tie (0), and the last replacement was one period ago.
  CHECK(s[1].label == 0 && s[1].rows_replace == s[1].rows_keep && s[1].rows_keep == 0,
        "after the replacement every access hits");
  CHECK(s[1].x[7] == 1.0f && s[1].x[6] == 0.0f, "steps since replace %g periods, stale %g",
        s[1].x[7], s[1].x[6]);
  free(s);
  rd_trace_free(&t);
  remove("clf_helps.rdt");
  // Hurts: step 4 misses node 8 only, so replacing prefetches 4-7 (4 rows)
  // and evicts 0-3, which steps 5-7 then use: 1 + 4 + 12 rows against 1.
  memset(used, 0, sizeof used);
  for (int st = 0; st < 4; st++)
    for (int v = 4; v < 8; v++) used[st * H + v] = 1;
  used[4 * H + 8] = 1;
  for (int st = 5; st < 8; st++)
    for (int v = 0; v < 4; v++) used[st * H + v] = 1;
  make_trace(&t, "clf_hurts.rdt", H, 8, used);
  CHECK(rd_clf_collect(&t, &c, 4, &s, &n) == 0, "%s", rd_error());
  CHECK(n == 1 && s[0].label == 0 && s[0].rows_replace == 17 && s[0].rows_keep == 1,
        "a replacement that hurts: label %d, rows %lld vs %lld", s[0].label,
        (long long)s[0].rows_replace, (long long)s[0].rows_keep);
  free(s);
  rd_trace_free(&t);
  remove("clf_hurts.rdt");
}

// A hot set of 40 nodes that moves every 60 steps, plus cold noise:
// replacing pays after a move and not otherwise, so both labels occur.
static void shifting_trace(rd_trace *t, int64_t halo, int64_t steps) {
  int8_t *used = calloc((size_t)(halo * steps), 1);
  rd_rng r = rd_rng_stream(7, 0, 0);
  for (int64_t s = 0; s < steps; s++) {
    const int64_t hot = 40 + (s / 60) * 40 % (halo - 80);
    for (int64_t v = hot; v < hot + 40; v++) used[s * halo + v] = rd_rng_uniform(&r) < 0.5;
    for (int k = 0; k < 10; k++) used[s * halo + (int64_t)rd_rng_below(&r, (uint64_t)halo)] = 1;
  }
  make_trace(t, "clf_shift.rdt", halo, steps, used);
  free(used);
}

// A probe around the served policy records the window of every decision
// point, so that each served decision can be checked against the model's
// offline prediction on the same features, also after the served run left
// the collector's path.
static const rd_policy_ops *probed;
static rd_window seen[1024];
static int64_t num_seen;
static int probe_create(const rd_policy_params *p, void **state) { return probed->create(p, state); }
static void probe_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  if (rd_clf_decision_point(w->step, p->period) && num_seen < 1024) seen[num_seen++] = *w;
  probed->decide(state, p, w, out);
}
static void probe_destroy(void *state) { probed->destroy(state); }
static int64_t probe_drain(void *state, rd_decision **out) { return probed->drain(state, out); }

static void serve(const rd_policy_ops *ops, const rd_clf_backend *b, const rd_trace *t,
                  const rd_prefetch_config *c, const rd_clf_sample *s, int64_t n) {
  float *x = malloc((size_t)n * sizeof s->x);
  int32_t *y = malloc((size_t)n * sizeof *y);
  for (int64_t i = 0; i < n; i++) {
    memcpy(x + i * RD_CLF_FEATURES, s[i].x, sizeof s->x);
    y[i] = s[i].label;
  }
  rd_clf_model m;
  CHECK(rd_clf_train(&m, b, x, y, n, 1) == 0 && rd_clf_save(&m, "clf.model") == 0, "%s: %s",
        b->name, rd_error());
  // Offline scores come from the model as saved, which is what is served:
  // libsvm writes support vectors with 8 significant digits, so an SVM read
  // back scores in the 6th digit differently from the one in memory.
  rd_clf_free(&m);
  CHECK(rd_clf_load(&m, b, "clf.model") == 0, "%s: %s", b->name, rd_error());
  rd_prefetch_config sc = *c;
  const rd_policy_ops probe = {.name = ops->name, .uses_buffer = 1, .init = ops->init, .rule = ops->rule,
                               .create = probe_create, .decide = probe_decide, .destroy = probe_destroy,
                               .drain = probe_drain};
  probed = ops;
  num_seen = 0;
  sc.policy = &probe;
  sc.params.options = "model=clf.model";
  rd_clf_replay_result r;
  CHECK(rd_clf_replay(t, &sc, &r) == 0, "%s: %s", ops->name, rd_error());
  CHECK(r.num_decisions == n && num_seen == n, "%s: %lld decisions at %lld decision points", ops->name,
        (long long)r.num_decisions, (long long)n);
  // Every decision point: the served score is the model's offline score on
  // the features of the window it was served (no train/serve skew). Until
  // the first decision that differs from the label the collector followed,
  // the served run is in the collector's states: the features are equal too.
  int64_t same = 0, diverged = -1, replaced = 0;
  for (int64_t i = 0; i < n; i++) {
    const rd_decision *d = &r.decisions[i];
    float x[RD_CLF_FEATURES];
    rd_clf_features(&seen[i], &sc.params, x);
    double score;
    const int p = rd_clf_predict(&m, x, &score);
    char offline[64];
    snprintf(offline, sizeof offline, "%.6g", score);
    CHECK(d->valid && d->step_posted == s[i].step && d->step_applied == s[i].step &&
              seen[i].step == s[i].step && d->latency_seconds > 0 && d->fraction == (float)c->params.fraction,
          "%s: decision %lld is logged as made", ops->name, (long long)i);
    CHECK(!strcmp(d->raw, offline) && d->replace == p, "%s: step %lld served '%s' (%d), offline '%s' (%d)",
          ops->name, (long long)s[i].step, d->raw, d->replace, offline, p);
    if (diverged < 0)
      CHECK(!memcmp(x, s[i].x, sizeof x), "%s: step %lld: served features differ from the collected ones",
            ops->name, (long long)s[i].step);
    if (diverged < 0 && d->replace != s[i].label) diverged = i;
    same += diverged < 0;
    replaced += d->replace;
  }
  printf("%s: served scores equal offline ones at all %lld decision points (%lld replace); features equal "
         "the collected ones at the first %lld\n", ops->name, (long long)n, (long long)replaced,
         (long long)(diverged < 0 ? n : diverged + 1));
  (void)same;
  for (int64_t i = 0; i < r.num_decisions; i++) free(r.decisions[i].raw);
  free(r.decisions);
  free(x);
  free(y);
  rd_clf_free(&m);
}

// A policy given `options` must fail naming `needle`.
static void refused(const rd_policy_ops *ops, const char *options, const char *needle) {
  rd_policy_params p = {.period = 4, .options = options};
  void *state = NULL;
  CHECK(ops->create(&p, &state) != 0 && strstr(rd_error(), needle), "%s with '%s': %s", ops->name,
        options ? options : "(none)", rd_error());
}

static void serving(void) {
  rd_trace t;
  shifting_trace(&t, 300, 480);
  const rd_prefetch_config c = config(50, 8, 4);
  rd_clf_sample *s;
  int64_t n, pos = 0;
  CHECK(rd_clf_collect(&t, &c, 16, &s, &n) == 0, "%s", rd_error());
  for (int64_t i = 0; i < n; i++) pos += s[i].label;
  CHECK(n == 119 && pos > 5 && pos < n - 5, "%lld decision points, %lld labelled 1", (long long)n,
        (long long)pos);
  const rd_policy_ops *ops[] = {&rd_policy_xgb, &rd_policy_rf, &rd_policy_svm, &rd_policy_linear,
                                &rd_policy_fann};
  const rd_clf_backend *bk[] = {&rd_clf_xgboost, &rd_clf_xgboost_rf, &rd_clf_svm, &rd_clf_linear,
                                &rd_clf_fann};
  enum { K = sizeof ops / sizeof *ops };
  for (int k = 0; k < K; k++) {
    serve(ops[k], bk[k], &t, &c, s, n);
    // Bad options and model files, named: missing, of another back-end,
    // corrupt, without their sidecar.
    refused(ops[k], NULL, "model=PATH is required");
    refused(ops[k], "model=clf.model,colour=red", "unknown 'colour=red'");
    refused(ops[k], "model=clf.nope", "clf.nope: cannot open");
    refused(ops[(k + 1) % K], "model=clf.model", "clf.model.json: a model of back-end");
    FILE *f = fopen("clf.model", "w");
    fputs("not a model\n", f);
    fclose(f);
    refused(ops[k], "model=clf.model", "clf.model: not a");
    remove("clf.model.json");
    refused(ops[k], "model=clf.model", "clf.model.json: cannot open");
  }
  remove("clf.model");
  free(s);
  rd_trace_free(&t);
  remove("clf_shift.rdt");
}

int main(void) {
  labels();
  serving();
  puts("classifier: ok");
  return 0;
}
