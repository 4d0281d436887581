#include "train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "graph/part.h"
#include "grow.h"
#include "model/loss.h"
#include "optim/adam.h"
#include "rng.h"
#include "sampler/sampler.h"

_Static_assert(sizeof(rd_real) == sizeof(float), "the trainer exchanges float32 features and gradients");

enum { RNG_EPOCH = 0xe90c, RNG_DROPOUT = 0xd209 };
// Evaluation samples with keys no training step uses.
#define EVAL_EPOCH (UINT64_C(1) << 62)

void rd_train_config_defaults(rd_train_config *c) {
  // The paper's DistDGL scripts: 2 layers, fanouts 10,25, batch 2000, lr 0.003.
  *c = (rd_train_config){.num_layers = 2, .fanouts = {10, 25}, .batch_size = 2000, .lr = 0.003,
                         .epochs = 10, .seed = 1, .verify = 1};
  c->model = (rd_model_config){.kind = RD_MODEL_SAGE, .num_layers = 2, .hidden = 256, .heads = 4,
                               .dropout = 0.5f, .seed = 1};
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct trainer {
  MPI_Comm comm;
  int rank, size;
  const rd_train_config *cfg;
  rd_graph g;
  rd_part p;
  rd_sampler *sampler;
  rd_exchange *ex;
  rd_model *model;
  rd_adam adam;
  // Per-step scratch, grown on demand and reused.
  rd_node *seeds;
  int32_t *labels, *req_owner, *req_row, *req_pos;
  float *x, *fetched;
  rd_real *dlogits;
  int64_t cap_seeds, cap_labels, cap_owner, cap_row, cap_pos, cap_x, cap_fetched, cap_dlogits;
} trainer;

// Fills the input feature matrix of `mb`: local rows from this rank's
// partition, remote rows fetched from their owners.
static int gather_inputs(trainer *t, const rd_minibatch *mb, rd_fetch_stats *fs, int64_t *remote) {
  const int F = t->p.num_features;
  const int32_t *owner = t->p.owner, *local = t->p.local;
  t->x = rd_grow(t->x, &t->cap_x, (int64_t)mb->num_nodes * F + 1, sizeof *t->x);
  t->req_owner = rd_grow(t->req_owner, &t->cap_owner, mb->num_nodes + 1, sizeof(int32_t));
  t->req_row = rd_grow(t->req_row, &t->cap_row, mb->num_nodes + 1, sizeof(int32_t));
  t->req_pos = rd_grow(t->req_pos, &t->cap_pos, mb->num_nodes + 1, sizeof(int32_t));
  int64_t n = 0;
  for (int32_t i = 0; i < mb->num_nodes; i++) {
    const rd_node v = mb->nodes[i];
    if (owner[v] == t->rank) {
      memcpy(t->x + (int64_t)i * F, t->p.features + (int64_t)local[v] * F, (size_t)F * sizeof(float));
    } else {
      t->req_owner[n] = owner[v];
      t->req_row[n] = local[v];
      t->req_pos[n++] = i;
    }
  }
  // The persistent buffer plugs in here: remote inputs split into buffer
  // hits (copied from the buffer) and misses (the only rows fetched).
  *remote = n;
  t->fetched = rd_grow(t->fetched, &t->cap_fetched, n * F + 1, sizeof *t->fetched);
  if (rd_exchange_fetch(t->ex, n, t->req_owner, t->req_row, t->fetched, fs)) return -1;
  for (int64_t j = 0; j < n; j++)
    memcpy(t->x + (int64_t)t->req_pos[j] * F, t->fetched + j * F, (size_t)F * sizeof(float));
  return 0;
}

// Seeds of global batch [lo, hi) of `perm` owned by this rank, with labels.
static int32_t local_seeds(trainer *t, const rd_node *ids, int64_t lo, int64_t hi) {
  t->seeds = rd_grow(t->seeds, &t->cap_seeds, hi - lo + 1, sizeof *t->seeds);
  t->labels = rd_grow(t->labels, &t->cap_labels, hi - lo + 1, sizeof *t->labels);
  int32_t n = 0;
  for (int64_t i = lo; i < hi; i++)
    if (t->p.owner[ids[i]] == t->rank) {
      t->labels[n] = t->p.labels[t->p.local[ids[i]]];
      t->seeds[n++] = ids[i];
    }
  return n;
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
    int64_t remote;
    if (gather_inputs(t, mb, &fs, &remote)) {
      free(ids);
      return -1;
    }
    if (n == 0) continue;
    const rd_real *logits = rd_model_forward(t->model, mb->blocks, t->x, 0, 0);
    const int C = t->p.num_classes;
    for (int32_t i = 0; i < n; i++) {
      const rd_real *row = logits + (int64_t)i * C;
      int best = 0;
      for (int c = 1; c < C; c++) best = row[c] > row[best] ? c : best;
      const int32_t y = t->p.labels[t->p.local[ids[i]]];
      if (y >= 0) {
        tally[0] += best == y;
        tally[1] += 1;
      }
    }
  }
  free(ids);
  MPI_Allreduce(MPI_IN_PLACE, tally, 2, MPI_DOUBLE, MPI_SUM, t->comm);
  *acc = tally[1] > 0 ? tally[0] / tally[1] : 0;
  return 0;
}

static int setup(trainer *t, MPI_Comm comm, const rd_train_config *cfg) {
  memset(t, 0, sizeof *t);
  t->comm = comm;
  t->cfg = cfg;
  MPI_Comm_rank(comm, &t->rank);
  MPI_Comm_size(comm, &t->size);
  const unsigned verify = cfg->verify ? 0 : RD_LOAD_NO_VERIFY;
  if (rd_graph_load(&t->g, cfg->graph_path, RD_LOAD_TOPOLOGY | RD_LOAD_SPLITS | verify)) return -1;
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
  if (!(t->model = rd_model_create(&mc))) return -1;
  if (rd_adam_init(&t->adam, rd_model_num_params(t->model), (float)cfg->lr)) return -1;
  t->ex = rd_exchange_create(comm, t->p.features, t->p.num_owned, t->p.num_features, cfg->net);
  return 0;
}

static void teardown(trainer *t) {
  rd_exchange_free(t->ex);
  rd_adam_free(&t->adam);
  rd_model_free(t->model);
  rd_sampler_free(t->sampler);
  rd_part_free(&t->p);
  rd_graph_free(&t->g);
  free(t->seeds); free(t->labels); free(t->req_owner); free(t->req_row); free(t->req_pos);
  free(t->x); free(t->fetched); free(t->dlogits);
}

// One training step on the global batch ids[lo, hi).
static int train_step(trainer *t, const rd_node *ids, int64_t lo, int64_t hi, int epoch,
                      int64_t step, rd_step_metrics *m) {
  const double t0 = now();
  const int32_t n = local_seeds(t, ids, lo, hi);
  const rd_minibatch *mb = rd_sample(t->sampler, t->seeds, n, (uint64_t)epoch, (uint64_t)step);
  const double t1 = now();
  rd_fetch_stats fs = {0};
  int64_t remote;
  if (gather_inputs(t, mb, &fs, &remote)) return -1;
  const double t2 = now();
  const size_t np = rd_model_num_params(t->model);
  rd_real *grads = rd_model_grads(t->model);
  double tally[2] = {0, 0};  // summed loss x seeds / global batch, correct
  if (n > 0) {
    const int C = t->p.num_classes;
    const rd_real *logits = rd_model_forward(t->model, mb->blocks, t->x, 1,
                                             rd_hash3(t->cfg->seed, RNG_DROPOUT, (uint64_t)step));
    t->dlogits = rd_grow(t->dlogits, &t->cap_dlogits, (int64_t)n * C, sizeof *t->dlogits);
    int64_t correct = 0;
    const double loss = rd_softmax_xent(logits, t->labels, n, C, t->dlogits, &correct);
    // The local mean becomes this rank's share of the global-batch mean, so
    // that summing gradients over ranks yields the global gradient.
    const rd_real share = (rd_real)((double)n / (double)(hi - lo));
    for (int64_t i = 0; i < (int64_t)n * C; i++) t->dlogits[i] *= share;
    rd_model_backward(t->model, t->dlogits);
    tally[0] = loss * share;
    tally[1] = (double)correct;
  } else {
    memset(grads, 0, np * sizeof *grads);
  }
  const double t3 = now();
  MPI_Allreduce(MPI_IN_PLACE, grads, (int)np, MPI_FLOAT, MPI_SUM, t->comm);
  MPI_Allreduce(MPI_IN_PLACE, tally, 2, MPI_DOUBLE, MPI_SUM, t->comm);
  const double t4 = now();
  rd_adam_step(&t->adam, rd_model_params(t->model), grads);
  const double t5 = now();
  *m = (rd_step_metrics){.rank = t->rank, .epoch = epoch, .step = step, .seeds = n,
                         .input_nodes = mb->num_nodes, .local_inputs = mb->num_nodes - remote,
                         .remote_inputs = remote, .rows_fetched = fs.rows_fetched,
                         .bytes_received = fs.bytes_received, .bytes_sent = fs.bytes_sent,
                         .messages = fs.messages, .t_sample = t1 - t0, .t_fetch = t2 - t1,
                         .t_compute = (t3 - t2) + (t5 - t4), .t_allreduce = t4 - t3,
                         .t_step = t5 - t0, .t_emulated = fs.emulated_seconds, .loss = tally[0],
                         .acc = tally[1] / (double)(hi - lo)};
  return 0;
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
  const int64_t T = t.g.num_train, G = (int64_t)cfg->batch_size * t.size;
  const int64_t per_epoch = (T + G - 1) / G;
  int64_t total = per_epoch * cfg->epochs;
  if (cfg->max_steps > 0 && cfg->max_steps < total) total = cfg->max_steps;
  res->steps = calloc((size_t)total + 1, sizeof *res->steps);
  rd_node *perm = malloc((size_t)T * sizeof *perm);
  const double start = now();
  int64_t step = 0;
  for (int epoch = 0; epoch < cfg->epochs && step < total && rc == 0; epoch++) {
    memcpy(perm, t.g.train, (size_t)T * sizeof *perm);
    rd_rng r = rd_rng_stream(cfg->seed, RNG_EPOCH, (uint64_t)epoch);
    for (int64_t i = T - 1; i > 0; i--) {
      int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
      rd_node x = perm[i]; perm[i] = perm[j]; perm[j] = x;
    }
    const double e0 = now();
    const int64_t first = step;
    double loss = 0;
    for (int64_t s = 0; s < per_epoch && step < total && rc == 0; s++, step++) {
      const int64_t lo = s * G, hi = lo + G < T ? lo + G : T;
      rc = train_step(&t, perm, lo, hi, epoch, step, &res->steps[step]);
      loss += res->steps[step].loss;
    }
    if (rc) break;
    res->final_loss = loss / (double)(step - first);
    const int last = epoch + 1 == cfg->epochs || step == total;
    if ((cfg->eval_every > 0 && (epoch + 1) % cfg->eval_every == 0) || last)
      rc = evaluate(&t, t.p.valid, t.p.num_valid, cfg->eval_nodes, &res->valid_acc);
    if (t.rank == 0 && !cfg->quiet && rc == 0) {
      double ts = 0, tf = 0, tc = 0, ta = 0, rows = 0;
      for (int64_t i = first; i < step; i++) {
        ts += res->steps[i].t_sample; tf += res->steps[i].t_fetch;
        tc += res->steps[i].t_compute; ta += res->steps[i].t_allreduce;
        rows += (double)res->steps[i].rows_fetched;
      }
      printf("epoch %d/%d | step %lld/%lld | loss %.4f | valid acc %.4f | %.2f s (rank 0: sample "
             "%.2f, fetch %.2f, compute %.2f, allreduce %.2f) | %.0f rows fetched/step\n",
             epoch + 1, cfg->epochs, (long long)step, (long long)total, res->final_loss,
             res->valid_acc, now() - e0, ts, tf, tc, ta, rows / (double)(step - first));
      fflush(stdout);
    }
  }
  res->num_steps = step;
  res->seconds = now() - start;
  if (rc == 0) rc = evaluate(&t, t.p.test, t.p.num_test, cfg->eval_nodes, &res->test_acc);
  if (rc == 0) rc = evaluate(&t, t.p.train, t.p.num_train, cfg->eval_nodes, &res->train_acc);
  // Data parallelism keeps replicas identical: compare bit patterns.
  if (rc == 0) {
    const size_t np = rd_model_num_params(t.model);
    const rd_real *w = rd_model_params(t.model);
    uint64_t h = 0;
    for (size_t i = 0; i < np; i++) {
      uint32_t bits;
      memcpy(&bits, &w[i], sizeof bits);
      h = rd_hash3(h, bits, i);
    }
    uint64_t lo_h = h, hi_h = h;
    MPI_Allreduce(MPI_IN_PLACE, &lo_h, 1, MPI_UINT64_T, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi_h, 1, MPI_UINT64_T, MPI_MAX, comm);
    res->weights_identical = lo_h == hi_h;
  }
  free(perm);
  teardown(&t);
  return rc;
}

void rd_train_result_free(rd_train_result *res) {
  free(res->steps);
  memset(res, 0, sizeof *res);
}

int rd_train_write_steps_csv(MPI_Comm comm, const rd_train_result *res, const char *path) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int bytes = (int)(res->num_steps * (int64_t)sizeof(rd_step_metrics));
  rd_step_metrics *all = NULL;
  int *counts = NULL, *offs = NULL;
  if (rank == 0) {
    counts = malloc((size_t)size * sizeof *counts);
    offs = malloc((size_t)size * sizeof *offs);
  }
  MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
  int64_t total = 0;
  if (rank == 0) {
    for (int r = 0; r < size; r++) {
      offs[r] = (int)total;
      total += counts[r];
    }
    all = malloc((size_t)total + 1);
  }
  MPI_Gatherv(res->steps, bytes, MPI_BYTE, all, counts, offs, MPI_BYTE, 0, comm);
  int rc = 0;
  if (rank == 0) {
    FILE *f = fopen(path, "w");
    if (!f) {
      rc = rd_error_set("%s: cannot create", path);
    } else {
      fprintf(f, "rank,epoch,step,seeds,input_nodes,local_inputs,remote_inputs,rows_fetched,"
                 "bytes_received,bytes_sent,messages,t_sample,t_fetch,t_compute,t_allreduce,"
                 "t_step,t_emulated,loss,acc\n");
      for (int64_t i = 0; i < total / (int64_t)sizeof(rd_step_metrics); i++) {
        const rd_step_metrics *m = &all[i];
        fprintf(f, "%d,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.7g,%.5f\n",
                m->rank, m->epoch, (long long)m->step, (long long)m->seeds, (long long)m->input_nodes,
                (long long)m->local_inputs, (long long)m->remote_inputs, (long long)m->rows_fetched,
                (long long)m->bytes_received, (long long)m->bytes_sent, (long long)m->messages,
                m->t_sample, m->t_fetch, m->t_compute, m->t_allreduce, m->t_step, m->t_emulated,
                m->loss, m->acc);
      }
      if (fclose(f) != 0) rc = rd_error_set("%s: write failed", path);
    }
  }
  free(all); free(counts); free(offs);
  MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
  return rc;
}
