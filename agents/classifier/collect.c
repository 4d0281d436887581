#include "collect.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "grow.h"

// The prefetcher at the start of `t`, as rd_replay starts it.
static int start(rd_prefetcher *pf, const rd_trace *t, const rd_prefetch_config *cfg,
                 int64_t *preload_rows) {
  rd_node *preload;
  int32_t *slot;
  rd_prefetch_config c = *cfg;
  c.params.seed = t->info.seed;
  const int rc = rd_prefetcher_init(pf, &c, t->info.num_nodes, &(rd_halo_view)RD_TRACE_HALO(t),
                                    t->steps, &preload, &slot, preload_rows);
  free(preload);
  free(slot);
  return rc;
}

// The whole trace decoded once: rollouts replay each step many times, and a
// policy that reads the future is shown steps ahead of the one it runs.
typedef struct decoded {
  rd_node *nodes;
  int64_t *offset;  // step s: nodes[offset[s] .. offset[s + 1])
} decoded;

static int decode(const rd_trace *t, decoded *d) {
  d->nodes = NULL;
  if (!(d->offset = malloc(((size_t)t->steps + 1) * sizeof *d->offset)))
    return rd_error_set("out of memory");
  d->offset[0] = 0;
  for (int64_t s = 0; s < t->steps; s++) d->offset[s + 1] = d->offset[s] + t->count[s];
  if (!(d->nodes = malloc(((size_t)d->offset[t->steps] + 1) * sizeof *d->nodes)))
    return rd_error_set("out of memory for the trace's %lld accesses", (long long)d->offset[t->steps]);
  for (int64_t s = 0; s < t->steps; s++)
    if (rd_trace_step(t, s, d->nodes + d->offset[s])) return -1;
  return 0;
}

static void decoded_free(decoded *d) {
  free(d->nodes);
  free(d->offset);
}

// Step `s` of the trace, taken as rd_replay takes it: the future announced
// first, as far ahead as the policy reads it. The window gets no seconds:
// the classifiers' features use none.
static int step(rd_prefetcher *pf, const rd_trace *t, const decoded *d, int64_t s,
                rd_prefetch_metrics *m) {
  for (int64_t f = s; f < t->steps && f <= s + rd_prefetcher_ahead(pf); f++)
    if (f >= pf->fed &&
        rd_prefetcher_see(pf, f, d->nodes + d->offset[f], d->offset[f + 1] - d->offset[f]))
      return -1;
  rd_prefetcher_step(pf, d->nodes + d->offset[s], d->offset[s + 1] - d->offset[s], s, m);
  rd_prefetcher_record(pf, m, 0, 0);
  return 0;
}

// The collector's policy: does what the driver set, and keeps the window it
// was shown, from which the sample's features are computed. Under the
// LOOKAHEAD rule (menu labels) it starts from the lookahead policy's knobs
// and tunes them when the driver says.
typedef struct probe {
  int replace;
  int tune;          // apply `knobs` before this step
  rd_replace knobs;
  rd_window seen;
} probe;

static int probe_create(const rd_policy_params *p, void **state) {
  (void)p;
  return (*state = calloc(1, sizeof(probe))) ? 0 : rd_error_set("out of memory");
}

static void probe_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  probe *pr = state;
  if (w->step < 0) {  // before the first fill, LOOKAHEAD only
    *out = rd_menu_start(p->lookahead);
    return;
  }
  pr->seen = *w;
  out->replace = pr->replace;
  out->fraction = p->fraction;
  if (pr->tune) *out = pr->knobs;
}

static const rd_policy_ops probe_policy = {
    .name = "collect", .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE,
    .create = probe_create, .decide = probe_decide, .destroy = free};

// The menu policies' rule, start and needs (policies.c).
static const rd_policy_ops probe_menu_policy = {
    .name = "collect-menu", .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_FUTURE | RD_POLICY_VIP, .create = probe_create, .decide = probe_decide,
    .destroy = free};

// Rows fetched over steps [from, to) by a copy of `pf` that replaces at
// `from` iff `replace` (SCORE), or applies `knobs` there when not NULL
// (LOOKAHEAD), and keeps after: the branches then differ by this one
// decision only, as later ones get labels of their own.
static int rollout(const rd_prefetcher *pf, const rd_trace *t, const decoded *d, int64_t from,
                   int64_t to, int replace, const rd_replace *knobs, int64_t *rows) {
  rd_prefetcher c;
  if (rd_prefetcher_copy(&c, pf)) return -1;
  probe *pr = c.state;
  int rc = 0;
  *rows = 0;
  for (int64_t s = from; s < to && !rc; s++) {
    rd_prefetch_metrics m;
    pr->replace = replace && s == from;
    pr->tune = knobs && s == from;
    if (knobs) pr->knobs = *knobs;
    if (!(rc = step(&c, t, d, s, &m))) *rows += m.misses + m.prefetched;
  }
  rd_prefetcher_free(&c);
  return rc;
}

// The prefetcher at the trace's start under `policy` (unless cfg names a
// fill), the decoded trace, and the checks both collectors make.
static int begin(const rd_trace *t, const rd_prefetch_config *cfg, const rd_policy_ops *policy,
                 int64_t horizon, rd_prefetcher *pf, decoded *d) {
  memset(d, 0, sizeof *d);
  if (horizon < 1) return rd_error_set("horizon %lld must be at least 1 step", (long long)horizon);
  rd_prefetch_config c = *cfg;
  c.policy = policy;  // its own start unless cfg overrides it
  int64_t preload;
  if (start(pf, t, &c, &preload)) return -1;
  const int rc = pf->buf.cfg.capacity == 0 ? rd_error_set("the buffer has no rows: nothing to decide")
                                           : decode(t, d);
  if (rc) {
    decoded_free(d);
    rd_prefetcher_free(pf);
  }
  return rc;
}

int rd_clf_collect(const rd_trace *t, const rd_prefetch_config *cfg, int64_t horizon,
                   rd_clf_sample **out, int64_t *n) {
  *out = NULL;
  *n = 0;
  rd_prefetcher pf;
  decoded d;
  if (begin(t, cfg, &probe_policy, horizon, &pf, &d)) return -1;
  int rc = 0;
  probe *pr = pf.state;
  int64_t cap = 0;
  for (int64_t s = 0; s < t->steps && !rc; s++) {
    rd_clf_sample smp = {.step = s};
    const int point = rd_clf_decision_point(s, pf.cfg.params.period);
    if (point) {
      const int64_t end = s + horizon < t->steps ? s + horizon : t->steps;
      rc = rollout(&pf, t, &d, s, end, 1, NULL, &smp.rows_replace) ||
           rollout(&pf, t, &d, s, end, 0, NULL, &smp.rows_keep);
      smp.label = smp.rows_replace < smp.rows_keep;
    }
    // Going on with the better choice visits the states a policy that
    // follows the labels visits, which is what a served model does; a fixed
    // period instead would pin steps_since_replace and the staleness to one
    // rhythm, and a model that keeps for long stretches would then be served
    // feature values it never saw in training.
    pr->replace = point && smp.label;
    rd_prefetch_metrics m;
    if (!rc) rc = step(&pf, t, &d, s, &m);
    if (point && !rc) {
      rd_clf_features(&pr->seen, &pf.cfg.params, smp.x);
      *out = rd_grow(*out, &cap, *n + 1, sizeof **out);
      (*out)[(*n)++] = smp;
    }
  }
  decoded_free(&d);
  rd_prefetcher_free(&pf);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int rd_clf_collect_menu(const rd_trace *t, const rd_prefetch_config *cfg, int64_t horizon,
                        rd_clf_menu_sample **out, int64_t *n, int64_t *path_rows,
                        int64_t *keep_rows) {
  *out = NULL;
  *n = 0;
  rd_prefetcher pf;
  decoded d;
  if (begin(t, cfg, &probe_menu_policy, horizon, &pf, &d)) return -1;
  const int32_t K = pf.cfg.params.lookahead;
  rd_replace knobs = rd_menu_start(K);  // as the probe's first decide set them
  int64_t path = 0, keep = 0;
  int rc = keep_rows ? rollout(&pf, t, &d, 0, t->steps, 0, NULL, &keep) : 0;
  probe *pr = pf.state;
  int64_t cap = 0;
  for (int64_t s = 0; s < t->steps && !rc; s++) {
    rd_clf_menu_sample smp = {.step = s};
    const int point = rd_clf_decision_point(s, pf.cfg.params.period);
    if (point) {
      const int64_t end = s + horizon < t->steps ? s + horizon : t->steps;
      rc = rollout(&pf, t, &d, s, end, 0, NULL, &smp.rows[0]);
      for (int a = 1; a < RD_CLF_MENU_ACTIONS && !rc; a++) {
        const rd_replace next = rd_clf_menu_apply(a, K, knobs);
        // A knob set to the value in force changes nothing: keep's rows.
        if (rd_clf_menu_same(&next, &knobs)) smp.rows[a] = smp.rows[0];
        else rc = rollout(&pf, t, &d, s, end, 0, &next, &smp.rows[a]);
      }
      for (int a = 1; a < RD_CLF_MENU_ACTIONS; a++)
        if (smp.rows[a] < smp.rows[smp.label]) smp.label = a;
    }
    // As for the binary labels: the replay goes on with the best action.
    pr->tune = point && smp.label;
    pr->knobs = rd_clf_menu_apply(smp.label, K, knobs);
    rd_prefetch_metrics m;
    if (!rc && !(rc = step(&pf, t, &d, s, &m))) path += m.misses + m.prefetched;
    if (point && !rc) {
      rd_clf_menu_features(&pr->seen, &pf.cfg.params, &knobs, smp.x);  // the knobs it saw
      knobs = pr->knobs;
      *out = rd_grow(*out, &cap, *n + 1, sizeof **out);
      (*out)[(*n)++] = smp;
    }
  }
  decoded_free(&d);
  rd_prefetcher_free(&pf);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  if (path_rows) *path_rows = rc ? 0 : path;
  if (keep_rows) *keep_rows = rc ? 0 : keep;
  return rc;
}

int rd_clf_replay(const rd_trace *t, const rd_prefetch_config *cfg, rd_clf_replay_result *r) {
  memset(r, 0, sizeof *r);
  rd_prefetcher pf;
  if (start(&pf, t, cfg, &r->preload_rows)) return -1;
  decoded d;
  int rc = decode(t, &d);
  for (int64_t s = 0; s < t->steps && !rc; s++) {
    rd_prefetch_metrics m;
    if ((rc = step(&pf, t, &d, s, &m))) break;
    r->rows_fetched += m.misses + m.prefetched;
  }
  if (!rc && cfg->policy->drain && pf.state)
    r->num_decisions = cfg->policy->drain(pf.state, &r->decisions);
  decoded_free(&d);
  rd_prefetcher_free(&pf);
  return rc;
}

int rd_clf_buffer_option(int c, const char *name, const char *arg, rd_prefetch_config *cfg) {
  switch (c) {
  case 'F': return rd_parse_number(name, arg, 0, 1, &cfg->capacity_fraction);
  case 'R': return rd_parse_int(name, arg, 1, INT32_MAX, &cfg->capacity_rows);
  case 'x': return rd_parse_number(name, arg, 1e-6, 0.999, &cfg->alpha);
  case 'D': return rd_parse_int(name, arg, 1, 1000000000, &cfg->delta);
  case 'T': return rd_parse_int(name, arg, 1, 1000000000, &cfg->params.period);
  case 'r': return rd_parse_number(name, arg, 0, 1, &cfg->params.fraction);
  case 'i': return rd_buffer_start_parse(arg, &cfg->init);
  default: return 1;
  }
}
