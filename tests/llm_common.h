// Shared by the LLM agent tests: a plausible window, a policy instance made
// from options, and a training loop's view of the agent (decide once per
// step, each call timed) until the agent's next decision is applied.
#ifndef RUDDER_TEST_LLM_COMMON_H
#define RUDDER_TEST_LLM_COMMON_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "error.h"
#include "llm/agent.h"

static inline rd_window llm_window(int64_t step) {
  return (rd_window){.step = step, .total_steps = 4000, .steps_since_replace = step,
                     .capacity = 2500, .halo_size = 10000, .occupancy = 2500, .stale = 1800,
                     .len = 25, .hit_rate = 0.12, .hit_rate_prev = 0.18, .remote_per_step = 1100,
                     .misses_per_step = 900, .rows_fetched_per_step = 900, .evicted_per_step = 0,
                     .fetch_seconds_per_step = 0.012, .step_seconds_per_step = 0.08,
                     .accesses_per_step = 1000, .accesses_prev_per_step = 1000,
                     .last_accesses = 1000, .last_hits = 120, .last_misses = 900,
                     .last_rows_fetched = 900};
}

typedef struct llm_policy {
  const rd_policy_ops *ops;
  rd_policy_params params;
  void *state;
} llm_policy;

static inline llm_policy llm_open(const rd_policy_ops *ops, int64_t period, double fraction,
                                  const char *options) {
  llm_policy p = {.ops = ops, .params = {.period = period, .fraction = fraction, .seed = 7,
                                         .options = options}};
  CHECK(ops->create(&p.params, &p.state) == 0, "%s %s: %s", ops->name, options, rd_error());
  return p;
}

static inline void llm_sleep(double seconds) {
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
}

// What a run of steps saw: the step an action was applied before (or -1),
// the action, the number of decide calls and the longest one.
typedef struct llm_run {
  int64_t applied_step, calls;
  rd_replace action;
  double longest;
} llm_run;

// Calls decide for steps first, first+1, ... (one every step_s seconds)
// until the agent resolves an answer (applied or dropped as stale) or
// `seconds` pass.
static inline llm_run llm_steps(llm_policy *p, int64_t first, double step_s, double seconds) {
  llm_run r = {.applied_step = -1};
  rd_llm_stats before, now;
  rd_llm_agent_stats(p->state, &before);
  const double t_end = rd_now() + seconds;
  for (int64_t s = first; rd_now() < t_end; s++) {
    const rd_window w = llm_window(s);
    rd_replace out;
    const double t0 = rd_now();
    p->ops->decide(p->state, &p->params, &w, &out);
    const double dt = rd_now() - t0;
    r.longest = dt > r.longest ? dt : r.longest;
    r.calls++;
    rd_llm_agent_stats(p->state, &now);
    if (now.applied + now.stale > before.applied + before.stale) {
      r.applied_step = now.applied > before.applied ? s : -1;
      r.action = out;
      return r;
    }
    llm_sleep(step_s);
  }
  return r;
}

static inline void llm_free_decisions(rd_decision *d, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(d[i].raw);
  free(d);
}

#endif
