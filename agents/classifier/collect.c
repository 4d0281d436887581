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

// Step `s` of the trace, taken as rd_replay takes it. The window gets no
// seconds: the classifiers' features use none.
static int step(rd_prefetcher *pf, const rd_trace *t, rd_node *scratch, int64_t s,
                rd_prefetch_metrics *m) {
  if (rd_trace_step(t, s, scratch)) return -1;
  rd_prefetcher_step(pf, scratch, t->count[s], s, m);
  rd_prefetcher_record(pf, m, 0, 0);
  return 0;
}

// The collector's policy: does what the driver set, and keeps the window it
// was shown, from which the sample's features are computed.
typedef struct probe {
  int replace;
  rd_window seen;
} probe;

static int probe_create(const rd_policy_params *p, void **state) {
  (void)p;
  return (*state = calloc(1, sizeof(probe))) ? 0 : rd_error_set("out of memory");
}

static void probe_decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  probe *pr = state;
  pr->seen = *w;
  out->replace = pr->replace;
  out->fraction = p->fraction;
}

static const rd_policy_ops probe_policy = {
    .name = "collect", .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE,
    .create = probe_create, .decide = probe_decide, .destroy = free};

// Rows fetched over steps [from, to) by a copy of `pf` that replaces at
// `from` iff `replace`, and keeps after: the two branches then differ by
// this one decision only, as later ones get labels of their own.
static int rollout(const rd_prefetcher *pf, const rd_trace *t, rd_node *scratch, int64_t from,
                   int64_t to, int replace, int64_t *rows) {
  rd_prefetcher c;
  if (rd_prefetcher_copy(&c, pf)) return -1;
  probe *pr = c.state;
  int rc = 0;
  *rows = 0;
  for (int64_t s = from; s < to && !rc; s++) {
    rd_prefetch_metrics m;
    pr->replace = replace && s == from;
    if (!(rc = step(&c, t, scratch, s, &m))) *rows += m.misses + m.prefetched;
  }
  rd_prefetcher_free(&c);
  return rc;
}

int rd_clf_collect(const rd_trace *t, const rd_prefetch_config *cfg, int64_t horizon,
                   rd_clf_sample **out, int64_t *n) {
  *out = NULL;
  *n = 0;
  if (horizon < 1) return rd_error_set("horizon %lld must be at least 1 step", (long long)horizon);
  rd_prefetch_config c = *cfg;
  c.policy = &probe_policy;  // its own start (degree) unless cfg overrides it
  rd_prefetcher pf;
  int64_t preload;
  if (start(&pf, t, &c, &preload)) return -1;
  rd_node *scratch = malloc(((size_t)t->max_count + 1) * sizeof *scratch);
  int rc = !scratch ? rd_error_set("out of memory")
           : pf.buf.cfg.capacity == 0 ? rd_error_set("the buffer has no rows: nothing to decide")
                                      : 0;
  probe *pr = pf.state;
  int64_t cap = 0;
  for (int64_t s = 0; s < t->steps && !rc; s++) {
    rd_clf_sample smp = {.step = s};
    const int point = rd_clf_decision_point(s, pf.cfg.params.period);
    if (point) {
      const int64_t end = s + horizon < t->steps ? s + horizon : t->steps;
      rc = rollout(&pf, t, scratch, s, end, 1, &smp.rows_replace) ||
           rollout(&pf, t, scratch, s, end, 0, &smp.rows_keep);
      smp.label = smp.rows_replace < smp.rows_keep;
    }
    // Going on with the better choice visits the states a policy that
    // follows the labels visits, which is what a served model does; a fixed
    // period instead would pin steps_since_replace and the staleness to one
    // rhythm, and a model that keeps for long stretches would then be served
    // feature values it never saw in training.
    pr->replace = point && smp.label;
    rd_prefetch_metrics m;
    if (!rc) rc = step(&pf, t, scratch, s, &m);
    if (point && !rc) {
      rd_clf_features(&pr->seen, &pf.cfg.params, smp.x);
      *out = rd_grow(*out, &cap, *n + 1, sizeof **out);
      (*out)[(*n)++] = smp;
    }
  }
  free(scratch);
  rd_prefetcher_free(&pf);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int rd_clf_replay(const rd_trace *t, const rd_prefetch_config *cfg, rd_clf_replay_result *r) {
  memset(r, 0, sizeof *r);
  rd_prefetcher pf;
  if (start(&pf, t, cfg, &r->preload_rows)) return -1;
  rd_node *scratch = malloc(((size_t)t->max_count + 1) * sizeof *scratch);
  int rc = scratch ? 0 : rd_error_set("out of memory");
  for (int64_t s = 0; s < t->steps && !rc; s++) {
    rd_prefetch_metrics m;
    if ((rc = step(&pf, t, scratch, s, &m))) break;
    r->rows_fetched += m.misses + m.prefetched;
  }
  if (!rc && cfg->policy->drain && pf.state)
    r->num_decisions = cfg->policy->drain(pf.state, &r->decisions);
  free(scratch);
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
