#include "train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buffer/trace.h"
#include "buffer/vip.h"
#include "clock.h"
#include "cpu.h"
#include "backend/twins.h"
#include "error.h"
#include "graph/part.h"
#include "grow.h"
#include "model/loss.h"
#include "optim/adam.h"
#include "rng.h"
#include "sampler/sampler.h"
#include "train/pipeline.h"
#include "sort.h"

_Static_assert(sizeof(rd_real) == sizeof(float), "the trainer exchanges float32 features and gradients");

enum { RNG_DROPOUT = 0xd209 };
// Evaluation samples with keys no training step uses.
#define EVAL_EPOCH (UINT64_C(1) << 62)


typedef struct trainer {
  MPI_Comm comm;
  int rank, size;
  const rd_train_config *cfg;
  rd_graph g;
  rd_part p;
  rd_sampler *sampler;
  rd_pipeline *pipeline;    // the training steps, sampled K ahead
  rd_sampled eval;          // an evaluation batch, split like a training one
  rd_exchange *ex;
  // --overlap-fetch: the exchange of the next step's rows, on a communicator
  // of its own (the step's collectives run while it is in flight), and the
  // host buffer it fills (the current step's rows stay in `fetched`).
  MPI_Comm ahead_comm;
  rd_exchange *ahead_ex;
  float *ahead_rows;
  int64_t cap_ahead_rows, ahead_step;  // the step in flight, -1: none
  int64_t announced;                   // steps announced to the buffer's policy
  int64_t ahead_nreq;
  const rd_buffer_plan *ahead_plan;    // its plan, valid until the next is made
  rd_prefetch_metrics ahead_pm;        // and its metrics (planned a step early)
  double last_step_seconds;            // the window's step time (see DESIGN: overlap)
  rd_model *model;
  rd_adam adam;
  rd_prefetcher pf;
  rd_backend *be;           // cfg->backend, or a CPU backend of the trainer's own
  // Backend memory. On the CPU `local` is the partition's own features and
  // `fetched_dev` the receive buffer itself; on a GPU both are copies.
  const float *local;       // [owned x F]
  float *buffer_rows;       // [capacity x F]: the persistent buffer's feature rows
  rd_node *preload;         // rows to fetch into the buffer before the first step
  int32_t *preload_slot;
  int64_t num_preload;
  rd_trace_writer *trace;
  double skew;              // this step's --fetch-barrier wait
  float *halo_vip;          // inclusion probability of each halo node (vip policy, traces)
  int64_t per_epoch, total_steps;
  // Per-step scratch, grown on demand and reused.
  int32_t *labels, *req_owner, *req_row;
  rd_gather_src *src;         // where each row of x comes from
  struct rd_fill *fill;       // preload: fetched row -> buffer slot
  float *fetched;             // host: the exchange's receive buffer
  float *x, *fetched_dev, *dlogits;  // backend memory
  int64_t cap_labels, cap_owner, cap_row, cap_src, cap_fill, cap_fetched;
  size_t cap_x, cap_fetched_dev, cap_dlogits;  // bytes
} trainer;

// rd_grow for backend memory: *p holds at least n floats (contents not kept).
static int grow_dev(trainer *t, float **p, size_t *cap, int64_t n) {
  *p = rd_backend_reserve(t->be, *p, cap, (size_t)n * sizeof **p);
  return *p ? 0 : rd_backend_check(t->be);
}

// The first `rows` fetched rows where the backend reads them.
static int stage_fetched(trainer *t, int64_t rows) {
  const int F = t->p.num_features;
  if (t->be->host) {
    t->fetched_dev = t->fetched;
    return 0;
  }
  if (grow_dev(t, &t->fetched_dev, &t->cap_fetched_dev, rows * F + 1)) return -1;
  t->be->upload(t->be, t->fetched_dev, t->fetched, (size_t)(rows * F) * sizeof(float));
  return 0;
}

static void request(trainer *t, int64_t k, rd_node v) {
  t->req_owner[k] = t->p.owner[v];
  t->req_row[k] = t->p.local[v];
}

// Announces the sampled steps up to `step` + K to the buffer's policy, just
// before `step` is planned: a policy that reads the future sees steps
// step..step+K, as in a replay, whenever the plan is made.
static int announce(trainer *t, int64_t step) {
  const int64_t last = step + t->cfg->lookahead, frontier = rd_pipeline_frontier(t->pipeline);
  for (; t->announced <= last && t->announced < frontier; t->announced++) {
    const rd_sampled *a = rd_pipeline_at(t->pipeline, t->announced);
    if (rd_prefetcher_see(&t->pf, t->announced, a->remote, a->num_remote)) return -1;
  }
  return 0;
}

// The buffer's plan for training step `step` (the policy's action, hits,
// misses, evictions) and its requests in req_owner/req_row: the misses,
// then the replacement rows the policy asked for. NULL on error.
static const rd_buffer_plan *plan_step(trainer *t, const rd_sampled *s, int64_t step,
                                       rd_prefetch_metrics *pm, int64_t *nreq) {
  if (announce(t, step)) return NULL;
  if (t->trace && rd_trace_writer_step(t->trace, s->remote, s->num_remote)) return NULL;
  const rd_buffer_plan *plan = rd_prefetcher_step(&t->pf, s->remote, s->num_remote, step, pm);
  *nreq = plan->misses + plan->num_prefetch;
  t->req_owner = rd_grow(t->req_owner, &t->cap_owner, *nreq + 1, sizeof *t->req_owner);
  t->req_row = rd_grow(t->req_row, &t->cap_row, *nreq + 1, sizeof *t->req_row);
  for (int64_t k = 0; k < plan->misses; k++) request(t, k, s->remote[plan->miss_access[k]]);
  for (int64_t k = 0; k < plan->num_prefetch; k++)
    request(t, plan->misses + k, t->pf.halo[plan->prefetch_halo[k]]);
  return plan;
}

// Room for the input matrix of `s`, and the sources of its local rows.
static int local_sources(trainer *t, const rd_sampled *s) {
  const rd_minibatch *mb = &s->mb;
  if (grow_dev(t, &t->x, &t->cap_x, (int64_t)mb->num_nodes * t->p.num_features + 1)) return -1;
  t->src = rd_grow(t->src, &t->cap_src, mb->num_nodes + 1, sizeof *t->src);
  for (int32_t i = 0; i < mb->num_nodes; i++) {
    const rd_node v = mb->nodes[i];
    if (t->p.owner[v] == t->rank) t->src[i] = (rd_gather_src){RD_FROM_LOCAL, t->p.local[v]};
  }
  return 0;
}

// The input matrix of step `s` once local_sources ran and its `nreq`
// requested rows are in `fetched`: local rows, buffered rows, fetched
// misses; then the plan's fills store fetched rows into the buffer.
static int build_inputs(trainer *t, const rd_sampled *s, const rd_buffer_plan *plan, int64_t nreq) {
  const int F = t->p.num_features;
  const rd_minibatch *mb = &s->mb;
  rd_backend *be = t->be;
#define SRC(i) t->src[s->remote_row[i]]  // the row of x of remote access i
  for (int64_t i = 0; i < s->num_remote; i++)
    if (plan->slot[i] >= 0) SRC(i) = (rd_gather_src){RD_FROM_BUFFER, plan->slot[i]};
  for (int64_t k = 0; k < plan->misses; k++)
    SRC(plan->miss_access[k]) = (rd_gather_src){RD_FROM_FETCHED, (int32_t)k};
#undef SRC
  if (stage_fetched(t, nreq)) return -1;
  // Gather before fill: a slot read this step may be refilled by it.
  be->gather_rows(be, t->src, mb->num_nodes, F, t->local, t->buffer_rows, t->fetched_dev, t->x);
  be->fill_rows(be, plan->fill, plan->num_fill, F, t->fetched_dev, t->buffer_rows);
  return rd_backend_check(be);
}

// Fills the input feature matrix of sampled step `s`: local rows from this
// rank's partition; remote rows from the persistent buffer when it holds
// them, else fetched from their owners together with any replacement rows
// the policy asked for, which go into the buffer. Eval steps (step < 0)
// bypass the buffer. One gather builds x wherever the backend keeps it.
static int gather_inputs(trainer *t, const rd_sampled *s, int64_t step, rd_fetch_stats *fs,
                         rd_prefetch_metrics *pm) {
  const int F = t->p.num_features;
  const rd_minibatch *mb = &s->mb;
  rd_backend *be = t->be;
  if (local_sources(t, s)) return -1;
  const int64_t n = s->num_remote;
  const rd_node *remote = s->remote;
#define SRC(i) t->src[s->remote_row[i]]  // the row of x of remote access i
  if (t->cfg->replicate_features) {  // `local` is the whole graph's matrix, by global id
    for (int32_t i = 0; i < mb->num_nodes; i++)
      t->src[i] = (rd_gather_src){RD_FROM_LOCAL, mb->nodes[i]};
    if (step >= 0) {
      if (t->trace && rd_trace_writer_step(t->trace, remote, n)) return -1;
      *pm = (rd_prefetch_metrics){.remote = n};
    }
    be->gather_rows(be, t->src, mb->num_nodes, F, t->local, t->buffer_rows, t->fetched, t->x);
    return rd_backend_check(be);
  }
  t->req_owner = rd_grow(t->req_owner, &t->cap_owner, n + 1, sizeof *t->req_owner);
  t->req_row = rd_grow(t->req_row, &t->cap_row, n + 1, sizeof *t->req_row);
  if (step < 0) {  // evaluation: fetch every remote row, leave the buffer alone
    for (int64_t i = 0; i < n; i++) request(t, i, remote[i]);
    t->fetched = rd_grow(t->fetched, &t->cap_fetched, n * F + 1, sizeof *t->fetched);
    if (rd_exchange_fetch(t->ex, n, t->req_owner, t->req_row, t->fetched, fs)) return -1;
    for (int64_t i = 0; i < n; i++) SRC(i) = (rd_gather_src){RD_FROM_FETCHED, (int32_t)i};
    if (stage_fetched(t, n)) return -1;
    be->gather_rows(be, t->src, mb->num_nodes, F, t->local, t->buffer_rows, t->fetched_dev, t->x);
    return rd_backend_check(be);
  }
  int64_t nreq;
  const rd_buffer_plan *plan = plan_step(t, s, step, pm, &nreq);
  if (!plan) return -1;
  t->fetched = rd_grow(t->fetched, &t->cap_fetched, nreq * F + 1, sizeof *t->fetched);
  if (t->cfg->fetch_barrier) {  // the ranks' skew, apart from the exchange's own cost
    const double b0 = rd_now();
    MPI_Barrier(t->comm);
    t->skew = rd_now() - b0;
  }
  if (rd_exchange_fetch(t->ex, nreq, t->req_owner, t->req_row, t->fetched, fs)) return -1;
  return build_inputs(t, s, plan, nreq);
#undef SRC
}

// Samples the window up to step + K (+ 1 with --overlap-fetch, which plans
// step + 1 during this step).
static int advance(trainer *t, int64_t step) {
  rd_pipeline_advance(t->pipeline, step);
  return 0;
}


// --overlap-fetch: plans training step `step` and starts fetching its rows.
static int request_ahead(trainer *t, const rd_sampled *s, int64_t step) {
  int64_t nreq;
  if (!(t->ahead_plan = plan_step(t, s, step, &t->ahead_pm, &nreq))) return -1;
  t->ahead_rows = rd_grow(t->ahead_rows, &t->cap_ahead_rows, nreq * t->p.num_features + 1,
                          sizeof *t->ahead_rows);
  if (rd_exchange_start(t->ahead_ex, nreq, t->req_owner, t->req_row, t->ahead_rows)) return -1;
  t->ahead_step = step;
  t->ahead_nreq = nreq;
  return 0;
}

// --overlap-fetch: the rows of step `step` were requested while the
// previous step computed (the first step requests its own here). Waits for
// what is left of that fetch (the exposed fetch), builds the input matrix,
// fills the buffer, adds the step to the policy's window, and only then
// plans the next step and requests its rows, which travel while this step
// computes. Planning after this step's bookkeeping keeps every plan, and so
// every row fetched and every hit, what it is without overlap.
static int overlapped_inputs(trainer *t, const rd_sampled *s, int64_t step, rd_fetch_stats *fs,
                             rd_prefetch_metrics *pm) {
  const double t0 = rd_now();
  if (t->ahead_step != step && request_ahead(t, s, step)) return -1;
  if (rd_exchange_finish(t->ahead_ex, fs)) return -1;
  *pm = t->ahead_pm;
  float *rows = t->fetched;  // this step's rows become `fetched`; the next one's go to the other
  t->fetched = t->ahead_rows;
  t->ahead_rows = rows;
  const int64_t cap = t->cap_fetched;
  t->cap_fetched = t->cap_ahead_rows;
  t->cap_ahead_rows = cap;
  t->ahead_step = -1;
  if (local_sources(t, s) || build_inputs(t, s, t->ahead_plan, t->ahead_nreq)) return -1;
  // This step's time is not known yet: the window gets the last full one.
  rd_prefetcher_record(&t->pf, pm, rd_now() - t0, t->last_step_seconds);
  if (step + 1 < t->total_steps) {
    if (advance(t, step + 1)) return -1;  // the window of the step planned now
    const rd_sampled *next = rd_pipeline_at(t->pipeline, step + 1);
    if (!next) return rd_error_set("step %lld is not sampled yet", (long long)(step + 1));
    if (request_ahead(t, next, step + 1)) return -1;
  }
  return 0;
}

// Lets a fetch in flight move on (MPI progresses only inside MPI calls).
static void poll_fetch(trainer *t) {
  if (t->ahead_step >= 0) rd_exchange_progress(t->ahead_ex);
}

// Accuracy on up to `limit` of this rank's nodes in local rows `rows`, in
// lock-step with the other ranks (the fetch is collective).
static int evaluate(trainer *t, const int32_t *rows, int64_t count, int64_t limit, double *acc) {
  const int64_t stride = limit > 0 && count > limit ? (count + limit - 1) / limit : 1;
  const int64_t mine = (count + stride - 1) / stride, B = t->cfg->batch_size;
  int64_t batches = (mine + B - 1) / B;
  MPI_Allreduce(MPI_IN_PLACE, &batches, 1, MPI_INT64_T, MPI_MAX, t->comm);
  double tally[2] = {0, 0};  // correct, evaluated
  rd_fetch_stats fs = {0};
  rd_node *ids = malloc(((size_t)B + 1) * sizeof *ids);
  for (int64_t b = 0; b < batches; b++) {
    int32_t n = 0;
    for (int64_t i = b * B; i < mine && i < (b + 1) * B; i++) ids[n++] = t->p.owned[rows[i * stride]];
    const rd_minibatch *mb = rd_sample(t->sampler, ids, n, EVAL_EPOCH, (uint64_t)b);
    rd_sampled_set(&t->eval, mb, t->p.owner, t->rank);
    if (gather_inputs(t, &t->eval, -1, &fs, NULL)) {
      free(ids);
      return -1;
    }
    if (n == 0) continue;
    const rd_real *logits = rd_model_forward(t->model, mb->blocks, t->x, 0, 0);
    t->labels = rd_grow(t->labels, &t->cap_labels, n, sizeof *t->labels);
    for (int32_t i = 0; i < n; i++) {
      t->labels[i] = t->p.labels[t->p.local[ids[i]]];
      tally[1] += t->labels[i] >= 0;  // unlabelled rows count nowhere
    }
    int64_t correct = 0;
    if (logits) t->be->softmax_xent(t->be, logits, t->labels, n, t->p.num_classes, NULL, &correct);
    if (!logits || rd_backend_check(t->be)) {
      free(ids);
      return -1;
    }
    tally[0] += (double)correct;
  }
  free(ids);
  MPI_Allreduce(MPI_IN_PLACE, tally, 2, MPI_DOUBLE, MPI_SUM, t->comm);
  *acc = tally[1] > 0 ? tally[0] / tally[1] : 0;
  return 0;
}

// The halo's inclusion probabilities when the seeds are this rank's
// training nodes, each in a step's batch with probability `seed_prob`.
static int halo_vip(trainer *t, const int *fanouts, double seed_prob) {
  const int64_t nt = t->p.num_train;
  rd_node *seeds = malloc(((size_t)nt + 1) * sizeof *seeds);
  float *p = malloc((size_t)t->g.num_nodes * sizeof *p);
  t->halo_vip = malloc(((size_t)t->p.num_halo + 1) * sizeof *t->halo_vip);
  int rc = -1;
  if (seeds && p && t->halo_vip) {
    for (int64_t i = 0; i < nt; i++) seeds[i] = t->p.owned[t->p.train[i]];
    rc = rd_vip(&t->g, seeds, nt, seed_prob > 1 ? 1 : seed_prob, t->cfg->num_layers, fanouts, p);
    for (int64_t i = 0; rc == 0 && i < t->p.num_halo; i++) t->halo_vip[i] = p[t->p.halo[i]];
  } else {
    rd_error_set("out of memory for inclusion probabilities");
  }
  free(seeds);
  free(p);
  return rc;
}

// The persistent buffer: its policy's initial ranking of the halo, the
// prefetcher, the buffer rows, and the trace writer.
static int start_prefetcher(trainer *t, const int *fanouts, double seed_prob) {
  const rd_train_config *cfg = t->cfg;
  const rd_policy_ops *ops = cfg->prefetch.policy;
  if (!ops) return rd_error_set("no buffer policy given");
  if (cfg->replicate_features && ops->uses_buffer)
    return rd_error_set("replicate-features: every rank holds every row, so policy %s has no "
                        "buffer to steer (use --policy none)", ops->name);
  const rd_buffer_start init = rd_prefetch_init_of(&cfg->prefetch);
  if ((init == RD_INIT_VIP || cfg->record_trace || (ops->flags & RD_POLICY_VIP)) &&
      halo_vip(t, fanouts, seed_prob))
    return -1;
  if (ops->flags & RD_POLICY_OFFLINE)
    return rd_error_set("policy %s needs the whole future: run it on a recorded trace with "
                        "rudder_replay", ops->name);
  rd_prefetch_config pc = cfg->prefetch;
  pc.params.seed = cfg->seed;
  pc.params.lookahead = cfg->lookahead;  // the policy sees what the pipeline sampled
  pc.params.comm = &t->comm;  // the loop calls decide on every rank at every step
  const rd_halo_view halo = {.ids = t->p.halo, .size = t->p.num_halo, .owner = t->p.halo_owner,
                             .degree = t->p.halo_degree, .vip = t->halo_vip};
  if (rd_prefetcher_init(&t->pf, &pc, t->g.num_nodes, &halo, t->total_steps, &t->preload,
                         &t->preload_slot, &t->num_preload))
    return -1;
  const int64_t rows = t->pf.buf.cfg.capacity * t->p.num_features;
  t->buffer_rows = t->be->alloc(t->be, ((size_t)rows + 1) * sizeof *t->buffer_rows);
  if (!t->buffer_rows) {
    rd_backend_check(t->be);
    return rd_error_wrap("%s buffer of %lld rows x %d features (%.1f MiB)", t->be->name,
                         (long long)t->pf.buf.cfg.capacity, t->p.num_features,
                         (double)rows * sizeof(float) / (1 << 20));
  }
  if (cfg->record_trace) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", cfg->record_trace, t->rank);
    rd_trace_info info = {.rank = t->rank, .parts = t->size, .num_features = t->p.num_features,
                          .batch_size = cfg->batch_size, .num_layers = cfg->num_layers,
                          .num_nodes = t->g.num_nodes, .seed = cfg->seed};
    memcpy(info.fanouts, fanouts, (size_t)cfg->num_layers * sizeof *fanouts);
    if (!(t->trace = rd_trace_writer_open(path, &info))) return -1;
  }
  return 0;
}

// Collective: fetches the initial buffer contents (every rank, even with none).
static int preload_buffer(trainer *t, int64_t *rows) {
  const int F = t->p.num_features;
  const int64_t n = t->num_preload;
  t->req_owner = rd_grow(t->req_owner, &t->cap_owner, n + 1, sizeof *t->req_owner);
  t->req_row = rd_grow(t->req_row, &t->cap_row, n + 1, sizeof *t->req_row);
  for (int64_t i = 0; i < n; i++) request(t, i, t->preload[i]);
  t->fetched = rd_grow(t->fetched, &t->cap_fetched, n * F + 1, sizeof *t->fetched);
  rd_fetch_stats fs = {0};
  if (rd_exchange_fetch(t->ex, n, t->req_owner, t->req_row, t->fetched, &fs)) return -1;
  t->fill = rd_grow(t->fill, &t->cap_fill, n + 1, sizeof *t->fill);
  for (int64_t i = 0; i < n; i++) t->fill[i] = (struct rd_fill){t->preload_slot[i], (int32_t)i};
  if (stage_fetched(t, n)) return -1;
  t->be->fill_rows(t->be, t->fill, n, F, t->fetched_dev, t->buffer_rows);
  if (rd_backend_check(t->be)) return -1;
  *rows = n;
  return 0;
}

static int setup(trainer *t, MPI_Comm comm, const rd_train_config *cfg) {
  memset(t, 0, sizeof *t);
  t->comm = comm;
  t->ahead_comm = MPI_COMM_NULL;
  t->ahead_step = -1;
  t->cfg = cfg;
  MPI_Comm_rank(comm, &t->rank);
  MPI_Comm_size(comm, &t->size);
  const unsigned verify = cfg->verify ? 0 : RD_LOAD_NO_VERIFY;
  // Replicated features come from the graph file, which holds every row.
  const unsigned features = cfg->replicate_features ? RD_LOAD_FEATURES : 0;
  if (rd_graph_load(&t->g, cfg->graph_path, RD_LOAD_TOPOLOGY | RD_LOAD_SPLITS | features | verify))
    return -1;
  if (rd_part_load(&t->p, cfg->partition_dir, t->rank, cfg->verify)) return -1;
  if (t->p.num_parts != t->size)
    return rd_error_set("%s has %d parts but %d ranks were started (mpirun -np %d)",
                        cfg->partition_dir, t->p.num_parts, t->size, t->p.num_parts);
  if (t->p.num_nodes != t->g.num_nodes)
    return rd_error_set("%s (%lld nodes) is not a partition of %s (%lld nodes)", cfg->partition_dir,
                        (long long)t->p.num_nodes, cfg->graph_path, (long long)t->g.num_nodes);
  if (cfg->batch_size < 1) return rd_error_set("batch-size: must be positive");
  if (cfg->num_layers < 1 || cfg->num_layers > RD_MAX_LAYERS)
    return rd_error_set("layers: %d out of range [1, %d]", cfg->num_layers, RD_MAX_LAYERS);
  int fanouts[RD_MAX_LAYERS];
  for (int l = 0; l < cfg->num_layers; l++)
    // The MLP reads no neighbours: fetching them would only inflate traffic.
    fanouts[l] = cfg->model.kind == RD_MODEL_MLP ? 0 : cfg->fanouts[l];
  if (!(t->sampler = rd_sampler_create(&t->g, cfg->num_layers, fanouts, cfg->seed))) return -1;
  rd_model_config mc = cfg->model;
  mc.num_layers = cfg->num_layers;
  mc.in_dim = t->p.num_features;
  mc.num_classes = t->p.num_classes;
  if (!(t->be = cfg->backend ? cfg->backend : rd_backend_cpu_create(0))) return -1;
  if (!(t->model = rd_model_create(&mc, t->be))) return -1;
  if (rd_backend_adam_init(t->be, &t->adam, rd_model_num_params(t->model), (float)cfg->lr))
    return -1;
  if (cfg->replicate_features && t->g.num_features != t->p.num_features)
    return rd_error_set("%s has %d features per node but %s has %d", cfg->graph_path,
                        t->g.num_features, cfg->partition_dir, t->p.num_features);
  const float *rows = cfg->replicate_features ? t->g.features : t->p.features;
  const int64_t num_rows = cfg->replicate_features ? t->g.num_nodes : t->p.num_owned;
  t->local = rows;
  if (!t->be->host) {  // the rows stay on the device for the whole run
    const size_t bytes = (size_t)num_rows * t->p.num_features * sizeof(float);
    float *local = t->be->alloc(t->be, bytes);
    if (local) t->be->upload(t->be, local, rows, bytes);
    t->local = local;
    if (rd_backend_check(t->be))
      return rd_error_wrap("%s %lld feature rows", cfg->replicate_features ? "the graph's" : "the partition's",
                           (long long)num_rows);
  }
  t->ex = rd_exchange_create(comm, t->p.features, t->p.num_owned, t->p.num_features, cfg->net);

  const int64_t T = t->g.num_train, G = (int64_t)cfg->batch_size * t->size;
  t->per_epoch = (T + G - 1) / G;
  t->total_steps = t->per_epoch * cfg->epochs;
  if (cfg->max_steps > 0 && cfg->max_steps < t->total_steps) t->total_steps = cfg->max_steps;
  const rd_pipeline_config pc = {.g = &t->g, .p = &t->p, .rank = t->rank, .sampler = t->sampler,
                                 .global_batch = G, .per_epoch = t->per_epoch,
                                 .total_steps = t->total_steps, .seed = cfg->seed,
                                 // (--overlap-fetch plans step t+1 during step t: the
                                 // pipeline keeps a slot for that)
                                 .lookahead = cfg->lookahead};
  if (!(t->pipeline = rd_pipeline_create(&pc))) return -1;
  return start_prefetcher(t, fanouts, (double)G / (double)T);
}

static void teardown(trainer *t) {
  rd_backend *be = t->be;
  rd_trace_writer_abort(t->trace);
  rd_prefetcher_free(&t->pf);
  free(t->preload); free(t->preload_slot); free(t->halo_vip);
  rd_pipeline_free(t->pipeline);
  rd_sampled_free(&t->eval);
  rd_exchange_free(t->ex);
  if (t->ahead_step < 0) {  // never free what a fetch in flight (after an error) may still write
    rd_exchange_free(t->ahead_ex);
    free(t->ahead_rows);
    if (t->ahead_comm != MPI_COMM_NULL) MPI_Comm_free(&t->ahead_comm);
  }
  if (be) {
    rd_backend_adam_free(be, &t->adam);
    be->release(be, t->buffer_rows);
    be->release(be, t->x);
    be->release(be, t->dlogits);
    if (!be->host) {
      be->release(be, (float *)t->local);
      be->release(be, t->fetched_dev);
    }
  }
  rd_model_free(t->model);
  rd_sampler_free(t->sampler);
  rd_part_free(&t->p);
  rd_graph_free(&t->g);
  free(t->labels); free(t->req_owner); free(t->req_row);
  free(t->src); free(t->fill); free(t->fetched);
  if (be && be != t->cfg->backend) be->destroy(be);
}

// One training step: samples whatever the window lacks (in steady state the
// one step entering it, step + K), then trains on `step`'s sample.
static int train_step(trainer *t, int64_t step, rd_step_metrics *m) {
  const double t0 = rd_now();
  if (advance(t, step)) return -1;
  const rd_sampled *s = rd_pipeline_at(t->pipeline, step);
  const rd_minibatch *mb = &s->mb;
  const int32_t n = s->num_seeds;
  const int epoch = s->epoch;
  const double t1 = rd_now();
  rd_fetch_stats fs = {0};
  rd_prefetch_metrics pm;
  t->skew = 0;
  if (t->ahead_ex ? overlapped_inputs(t, s, step, &fs, &pm) : gather_inputs(t, s, step, &fs, &pm))
    return -1;
  const double t2 = rd_now();
  rd_backend *be = t->be;
  const size_t np = rd_model_num_params(t->model);
  rd_real *grads = rd_model_grads(t->model);
  double tally[2] = {0, 0};  // summed loss x seeds / global batch, correct
  if (n > 0) {
    const int C = t->p.num_classes;
    const rd_real *logits = rd_model_forward(t->model, mb->blocks, t->x, 1,
                                             rd_hash3(t->cfg->seed, RNG_DROPOUT, (uint64_t)step));
    poll_fetch(t);
    if (!logits || grow_dev(t, &t->dlogits, &t->cap_dlogits, (int64_t)n * C)) return -1;
    int64_t correct = 0;
    const double loss = be->softmax_xent(be, logits, s->labels, n, C, t->dlogits, &correct);
    // The local mean becomes this rank's share of the global-batch mean, so
    // that summing gradients over ranks yields the global gradient.
    const rd_real share = (rd_real)((double)n / (double)s->global_batch);
    be->scale(be, t->dlogits, (size_t)n * C, share);
    if (rd_backend_check(be) || rd_model_backward(t->model, t->dlogits)) return -1;
    poll_fetch(t);
    tally[0] = loss * share;
    tally[1] = (double)correct;
  } else {
    be->zero(be, grads, np * sizeof *grads);
  }
  // Phase boundaries for the breakdown; with overlap, only the loss's
  // download (and the MPI path's gradient download) waits for the device.
  const int wait = !t->cfg->overlap;
  if (wait) be->sync(be);
  const double t3 = rd_now();
  be->allreduce_sum(be, t->comm, grads, np);
  MPI_Allreduce(MPI_IN_PLACE, tally, 2, MPI_DOUBLE, MPI_SUM, t->comm);
  if (wait) be->sync(be);
  const double t4 = rd_now();
  be->adam_step(be, &t->adam, rd_model_params(t->model), grads);
  if (wait) be->sync(be);
  if (rd_backend_check(be)) return -1;
  const double t5 = rd_now();
  *m = (rd_step_metrics){.rank = t->rank, .epoch = epoch, .step = step, .seeds = n,
                         .input_nodes = mb->num_nodes, .local_inputs = mb->num_nodes - pm.remote,
                         .remote_inputs = pm.remote, .rows_fetched = fs.rows_fetched,
                         .bytes_received = fs.bytes_received, .bytes_sent = fs.bytes_sent,
                         .messages = fs.messages, .t_sample = t1 - t0, .t_fetch = t2 - t1,
                         .t_compute = (t3 - t2) + (t5 - t4), .t_allreduce = t4 - t3,
                         .t_step = t5 - t0, .t_emulated = fs.emulated_seconds,
                         .t_wait = fs.seconds, .t_skew = t->skew, .loss = tally[0],
                         .acc = tally[1] / (double)s->global_batch, .buffer = pm};
  if (!t->ahead_ex) rd_prefetcher_record(&t->pf, &pm, t2 - t1, t5 - t0);
  t->last_step_seconds = t5 - t0;
  rd_pipeline_release(t->pipeline, step);
  return 0;
}

// Collective: whether every rank holds bit-identical parameters.
static int weights_identical(trainer *t, int *same, uint64_t *digest) {
  const size_t np = rd_model_num_params(t->model);
  rd_real *w = malloc((np + 1) * sizeof *w);
  if (!w) return rd_error_set("out of memory for %zu parameters", np);
  t->be->download(t->be, w, rd_model_params(t->model), np * sizeof *w);
  const int failed = rd_backend_check(t->be);
  uint64_t h = 0;
  for (size_t i = 0; !failed && i < np; i++) {
    uint32_t bits;
    memcpy(&bits, &w[i], sizeof bits);
    h = rd_hash3(h, bits, i);
  }
  free(w);
  // Every rank joins the reductions, even one whose download failed.
  uint64_t lo_h = failed ? 0 : h, hi_h = failed ? UINT64_MAX : h;
  MPI_Allreduce(MPI_IN_PLACE, &lo_h, 1, MPI_UINT64_T, MPI_MIN, t->comm);
  MPI_Allreduce(MPI_IN_PLACE, &hi_h, 1, MPI_UINT64_T, MPI_MAX, t->comm);
  *same = lo_h == hi_h;
  *digest = lo_h;
  return failed;
}

int rd_train(MPI_Comm comm, const rd_train_config *cfg, rd_train_result *res) {
  memset(res, 0, sizeof *res);
  trainer t;
  int rc = setup(&t, comm, cfg);
  // Every rank must agree before any collective of the loop.
  int ok = rc == 0, all_ok;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  if (!all_ok) {
    if (rc == 0) rd_error_set("another rank failed to start");
    teardown(&t);
    return -1;
  }
  const int64_t per_epoch = t.per_epoch, total = t.total_steps;
  res->capacity = t.pf.buf.cfg.capacity;
  res->halo_size = t.p.num_halo;
  if (cfg->overlap_fetch && !cfg->replicate_features) {  // collective: after the agreement
    MPI_Comm_dup(comm, &t.ahead_comm);
    t.ahead_ex = rd_exchange_create(t.ahead_comm, t.p.features, t.p.num_owned, t.p.num_features,
                                    cfg->net);
  }
  if (!cfg->replicate_features && preload_buffer(&t, &res->preload_rows)) {
    teardown(&t);
    return -1;
  }
  res->steps = calloc((size_t)total + 1, sizeof *res->steps);
  const double start = rd_now();
  int64_t step = 0;
  for (int epoch = 0; epoch < cfg->epochs && step < total && rc == 0; epoch++) {
    const double e0 = rd_now(), cpu0 = rd_cpu_seconds();
    const int64_t first = step;
    double loss = 0;
    for (int64_t s = 0; s < per_epoch && step < total && rc == 0; s++, step++) {
      rc = train_step(&t, step, &res->steps[step]);
      loss += res->steps[step].loss;
    }
    if (rc) break;
    res->final_loss = loss / (double)(step - first);
    const int last = epoch + 1 == cfg->epochs || step == total;
    const int evaluated = (cfg->eval_every > 0 && (epoch + 1) % cfg->eval_every == 0) || last;
    if (evaluated) rc = evaluate(&t, t.p.valid, t.p.num_valid, cfg->eval_nodes, &res->valid_acc);
    if (t.rank == 0 && !cfg->quiet && rc == 0) {
      double ts = 0, tf = 0, tc = 0, ta = 0, rows = 0;
      for (int64_t i = first; i < step; i++) {
        ts += res->steps[i].t_sample; tf += res->steps[i].t_fetch;
        tc += res->steps[i].t_compute; ta += res->steps[i].t_allreduce;
        rows += (double)res->steps[i].rows_fetched;
      }
      char acc[16] = "-";  // not evaluated this epoch
      if (evaluated) snprintf(acc, sizeof acc, "%.4f", res->valid_acc);
      printf("epoch %d/%d | step %lld/%lld | loss %.4f | valid acc %s | %.2f s, cpu %.2f s "
             "(rank 0: sample %.2f, fetch %.2f, compute %.2f, allreduce %.2f) | %.0f rows "
             "fetched/step\n",
             epoch + 1, cfg->epochs, (long long)step, (long long)total, res->final_loss, acc,
             rd_now() - e0, rd_cpu_seconds() - cpu0, ts, tf, tc, ta,
             rows / (double)(step - first));
      fflush(stdout);
    }
  }
  res->num_steps = step;
  res->seconds = rd_now() - start;
  rd_pipeline_memory win;
  rd_pipeline_memory_of(t.pipeline, &win);
  res->lookahead = cfg->lookahead;
  res->window_peak_bytes = win.peak_bytes;
  res->window_bytes_per_step = win.bytes_per_step;
  if (cfg->prefetch.policy->drain && t.pf.state)
    res->num_decisions = cfg->prefetch.policy->drain(t.pf.state, &res->decisions);
  if (rc == 0 && t.trace) {
    rc = rd_trace_writer_close(t.trace, t.p.halo, t.p.halo_owner, t.p.halo_degree, t.halo_vip,
                               t.p.num_halo);
    t.trace = NULL;
  }
  if (rc == 0) rc = evaluate(&t, t.p.test, t.p.num_test, cfg->eval_nodes, &res->test_acc);
  if (rc == 0) rc = evaluate(&t, t.p.train, t.p.num_train, cfg->eval_nodes, &res->train_acc);
  // Data parallelism keeps replicas identical: compare bit patterns.
  if (rc == 0) rc = weights_identical(&t, &res->weights_identical, &res->weights_digest);
  teardown(&t);
  return rc;
}

void rd_train_result_free(rd_train_result *res) {
  for (int64_t i = 0; i < res->num_decisions; i++) free(res->decisions[i].raw);
  free(res->decisions);
  free(res->steps);
  memset(res, 0, sizeof *res);
}

// Gathers `count` items of `size` bytes from every rank to rank 0.
static void *gather_bytes(MPI_Comm comm, const void *data, int64_t count, size_t size, int64_t *total) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const int bytes = (int)(count * (int64_t)size);
  int *counts = rank == 0 ? malloc((size_t)ranks * sizeof *counts) : NULL;
  int *offs = rank == 0 ? malloc((size_t)ranks * sizeof *offs) : NULL;
  MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
  int64_t all = 0;
  for (int r = 0; rank == 0 && r < ranks; r++) {
    offs[r] = (int)all;
    all += counts[r];
  }
  void *out = rank == 0 ? malloc((size_t)all + 1) : NULL;
  MPI_Gatherv(data, bytes, MPI_BYTE, out, counts, offs, MPI_BYTE, 0, comm);
  free(counts);
  free(offs);
  *total = all / (int64_t)size;
  return out;
}

// A decision on the wire: fixed size, the raw answer truncated.
typedef struct wire_decision {
  int32_t rank;
  rd_decision d;
  char raw[1024];
} wire_decision;

int rd_train_gather(MPI_Comm comm, const rd_train_result *res, rd_gathered *g) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(g, 0, sizeof *g);
  g->steps = gather_bytes(comm, res->steps, res->num_steps, sizeof *res->steps, &g->num_steps);
  wire_decision *mine = calloc((size_t)res->num_decisions + 1, sizeof *mine);
  for (int64_t i = 0; i < res->num_decisions; i++) {
    mine[i].rank = rank;
    mine[i].d = res->decisions[i];
    mine[i].d.raw = NULL;
    snprintf(mine[i].raw, sizeof mine[i].raw, "%s", res->decisions[i].raw ? res->decisions[i].raw : "");
  }
  int64_t nd;
  wire_decision *all = gather_bytes(comm, mine, res->num_decisions, sizeof *mine, &nd);
  free(mine);
  int64_t totals[3] = {res->preload_rows, res->capacity, res->halo_size};
  MPI_Reduce(rank == 0 ? MPI_IN_PLACE : totals, totals, 3, MPI_INT64_T, MPI_SUM, 0, comm);
  int ranks;
  MPI_Comm_size(comm, &ranks);
  double per_step = res->window_bytes_per_step;
  int64_t peak = res->window_peak_bytes;
  MPI_Reduce(rank == 0 ? MPI_IN_PLACE : &per_step, &per_step, 1, MPI_DOUBLE, MPI_SUM, 0, comm);
  MPI_Reduce(rank == 0 ? MPI_IN_PLACE : &peak, &peak, 1, MPI_INT64_T, MPI_MAX, 0, comm);
  if (rank != 0) return 0;
  g->window_bytes_per_step = per_step / ranks;
  g->window_peak_bytes = peak;
  g->decisions = malloc(((size_t)nd + 1) * sizeof *g->decisions);
  for (int64_t i = 0; i < nd; i++) {
    g->decisions[i] = (rd_rank_decision){all[i].rank, all[i].d};
    g->decisions[i].d.raw = strdup(all[i].raw);
  }
  g->num_decisions = nd;
  free(all);
  g->preload_rows = totals[0];
  g->capacity = totals[1];
  g->halo_size = totals[2];
  return 0;
}

void rd_gathered_free(rd_gathered *g) {
  for (int64_t i = 0; i < g->num_decisions; i++) free(g->decisions[i].d.raw);
  free(g->decisions);
  free(g->steps);
  memset(g, 0, sizeof *g);
}

int rd_train_write_steps_csv(const rd_gathered *g, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return rd_error_set("%s: cannot create: %s", path, strerror(errno));
  fprintf(f, "rank,epoch,step,seeds,input_nodes,local_inputs,remote_inputs,rows_fetched,"
             "bytes_received,bytes_sent,messages,t_sample,t_fetch,t_compute,t_allreduce,"
             "t_step,t_emulated,loss,acc,hits,misses,prefetched,evicted,occupancy,replaced,"
             "t_decide,t_lookup,t_replace,t_wait,t_skew\n");
  for (int64_t i = 0; i < g->num_steps; i++) {
    const rd_step_metrics *m = &g->steps[i];
    fprintf(f, "%d,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
               "%.7g,%.5f,%lld,%lld,%lld,%lld,%lld,%d,%.6f,%.6f,%.6f,%.6f,%.6f\n",
            m->rank, m->epoch, (long long)m->step, (long long)m->seeds, (long long)m->input_nodes,
            (long long)m->local_inputs, (long long)m->remote_inputs, (long long)m->rows_fetched,
            (long long)m->bytes_received, (long long)m->bytes_sent, (long long)m->messages,
            m->t_sample, m->t_fetch, m->t_compute, m->t_allreduce, m->t_step, m->t_emulated,
            m->loss, m->acc, (long long)m->buffer.hits, (long long)m->buffer.misses,
            (long long)m->buffer.prefetched, (long long)m->buffer.evicted,
            (long long)m->buffer.occupancy, m->buffer.replaced, m->buffer.decide_seconds,
            m->buffer.lookup_seconds,
            m->buffer.replace_seconds, m->t_wait, m->t_skew);
  }
  if (fclose(f) != 0) return rd_error_set("%s: write failed: %s", path, strerror(errno));
  return 0;
}
