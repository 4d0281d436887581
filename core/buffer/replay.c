#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"

// Decodes the whole trace.
static int decode(const rd_trace *t, rd_node **nodes, int64_t **offset) {
  *offset = malloc(((size_t)t->steps + 1) * sizeof **offset);
  (*offset)[0] = 0;
  for (int64_t s = 0; s < t->steps; s++) (*offset)[s + 1] = (*offset)[s] + t->count[s];
  const int64_t total = (*offset)[t->steps];
  *nodes = malloc(((size_t)total + 1) * sizeof **nodes);
  for (int64_t s = 0; s < t->steps; s++)
    if (rd_trace_step(t, s, *nodes + (*offset)[s])) return -1;
  return 0;
}

static int by_value(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

// Tallies and frees the decisions an agent logged; latency as mean and
// percentiles.
static void drain_decisions(const rd_policy_ops *ops, void *state, rd_replay_result *r) {
  rd_decision *d = NULL;
  const int64_t n = ops->drain ? ops->drain(state, &d) : 0;
  double *latency = malloc(((size_t)n + 1) * sizeof *latency);
  for (int64_t i = 0; i < n; i++) {
    r->decisions++;
    r->decisions_valid += d[i].valid;
    r->decisions_fallback += d[i].fallback;
    r->decisions_applied += d[i].step_applied >= 0;
    r->decision_latency += d[i].latency_seconds;
    if (latency) latency[i] = d[i].latency_seconds;
    free(d[i].raw);
  }
  free(d);
  if (n > 0) r->decision_latency /= (double)n;
  if (n > 0 && latency) {
    qsort(latency, (size_t)n, sizeof *latency, by_value);
    r->decision_latency_p50 = latency[(n - 1) / 2];
    r->decision_latency_p95 = latency[(int64_t)(0.95 * (double)(n - 1) + 0.5)];
  }
  free(latency);
}

static void sleep_until(double when) {
  const double left = when - rd_now();
  if (left <= 0) return;
  struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
  nanosleep(&ts, NULL);
}

int rd_replay(const rd_trace *t, const rd_prefetch_config *cfg, const rd_net_model *net,
              double step_seconds, rd_replay_result *r, FILE *steps_out) {
  memset(r, 0, sizeof *r);
  const double t0 = rd_now();
  const rd_policy_ops *ops = cfg->policy;
  rd_prefetch_config c = *cfg;
  c.params.seed = t->info.seed;  // the recording run's: a random fill draws the same rows
  rd_prefetcher pf;
  rd_node *preload;
  int32_t *preload_slot;
  int rc = rd_prefetcher_init(&pf, &c, t->info.num_nodes, &(rd_halo_view)RD_TRACE_HALO(t),
                              t->steps, &preload, &preload_slot, &r->preload_rows);
  free(preload);
  free(preload_slot);
  if (rc) return -1;
  // Steps are paced from the first one: the policy's set-up (an agent
  // warming its server) is not a step's time.
  const double paced = rd_now();
  r->capacity = pf.buf.cfg.capacity;
  r->halo_size = t->halo_size;
  rd_node *nodes = NULL;
  int64_t *offset = NULL;
  int32_t *contacted = calloc((size_t)t->info.parts, sizeof *contacted);
  if (decode(t, &nodes, &offset)) {
    rc = -1;
    goto done;
  }
  const int64_t row_bytes = 4 * (int64_t)t->info.num_features;
  if (steps_out)
    fprintf(steps_out, "step,remote,hits,misses,prefetched,evicted,occupancy,replaced,messages,"
                       "bytes,comm_seconds\n");
  for (int64_t s = 0; s < t->steps; s++) {
    const rd_node *remote = nodes + offset[s];
    const int64_t n = offset[s + 1] - offset[s];
    // The future the policy reads: the trace holds it, shown as the live
    // run's sample-ahead window shows it.
    for (int64_t f = s; f < t->steps && f <= s + rd_prefetcher_ahead(&pf); f++)
      if (f >= pf.fed && rd_prefetcher_see(&pf, f, nodes + offset[f], offset[f + 1] - offset[f])) {
        rc = -1;
        goto done;
      }
    rd_prefetch_metrics m;
    const rd_buffer_plan *p = rd_prefetcher_step(&pf, remote, n, s, &m);
    // Fetch side of the live exchange: 2 messages per owner asked, ids out, rows back.
    int64_t owners = 0;
    for (int64_t k = 0; k < p->misses + p->num_prefetch; k++) {
      const int32_t h = k < p->misses ? pf.access[p->miss_access[k]] : p->prefetch_halo[k - p->misses];
      if (h >= 0 && contacted[t->halo_owner[h]] != (int32_t)(s + 1)) {
        contacted[t->halo_owner[h]] = (int32_t)(s + 1);
        owners++;
      }
    }
    const int64_t rows = m.misses + m.prefetched, msgs = 2 * owners;
    const int64_t bytes = rows * (4 + row_bytes);
    const double cost = rd_net_cost(net, msgs, bytes);
    r->accesses += n;
    r->hits += m.hits;
    r->misses += m.misses;
    r->prefetched += m.prefetched;
    r->evicted += m.evicted;
    r->replacements += m.replaced;
    r->messages += msgs;
    r->bytes += bytes;
    r->comm_seconds += cost;
    rd_prefetcher_record(&pf, &m, cost, step_seconds > 0 ? step_seconds : cost);
    if (step_seconds > 0) sleep_until(paced + (double)(s + 1) * step_seconds);
    if (steps_out)
      fprintf(steps_out, "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d,%lld,%lld,%.6f\n", (long long)s,
              (long long)n, (long long)m.hits, (long long)m.misses, (long long)m.prefetched,
              (long long)m.evicted, (long long)m.occupancy, m.replaced, (long long)msgs,
              (long long)bytes, cost);
  }
  r->steps = t->steps;
  r->rows_fetched = r->misses + r->prefetched;
  r->seconds = rd_now() - t0;
  drain_decisions(ops, pf.state, r);
done:
  free(nodes);
  free(offset);
  free(contacted);
  rd_prefetcher_free(&pf);
  return rc;
}
