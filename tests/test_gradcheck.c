// Gradient checks in the float64 build: every backward against central finite
// differences, op by op and then through whole SAGE / GAT / MLP models (every
// parameter and every input feature) on random sampled blocks.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "model/loss.h"
#include "model/model.h"
#include "ops/aggregate.h"
#include "ops/dense.h"
#include "ops/elementwise.h"

#ifndef RD_REAL_DOUBLE
#error "test_gradcheck checks the float64 build: compile it with RD_REAL_DOUBLE"
#endif

#define EPS 1e-6  // central-difference step
#define TOL 1e-3  // largest relative error |a - n| / max(|a|, |n|, 1e-6)

static uint64_t rng_state = 42;
static double uniform(void) { return (double)(rd_counter_hash(1234, rng_state++) >> 11) * 0x1p-53; }
static double sym(void) { return 2 * uniform() - 1; }
static int randint(int n) { return (int)(uniform() * n); }
static double *random_array(size_t n) {
  double *a = malloc((n + 1) * sizeof *a);
  CHECK(a, "out of memory");
  for (size_t i = 0; i < n; i++) a[i] = sym();
  return a;
}

// ---- Random sampled blocks: layer l maps sizes[l] sources to sizes[l+1]
// destinations (a prefix of its sources); every third destination has no
// edges, the others 1..MAX_DEG distinct sources other than themselves.
#define MAX_NODES 64
#define MAX_DEG 4

typedef struct batch {
  rd_block b[RD_MAX_LAYERS];
  int64_t indptr[RD_MAX_LAYERS][MAX_NODES + 1];
  int32_t indices[RD_MAX_LAYERS][MAX_NODES * MAX_DEG];
} batch;

static void make_batch(batch *bt, int layers, const int *sizes) {
  for (int l = 0; l < layers; l++) {
    rd_block *b = &bt->b[l];
    *b = (rd_block){.num_src = sizes[l], .num_dst = sizes[l + 1], .indptr = bt->indptr[l],
                    .indices = bt->indices[l]};
    CHECK(b->num_src <= MAX_NODES && b->num_src > MAX_DEG + 1, "bad test size %d", b->num_src);
    int64_t e = 0;
    b->indptr[0] = 0;
    for (int v = 0; v < b->num_dst; v++) {
      int deg = v % 3 == 1 ? 0 : 1 + randint(MAX_DEG);
      while (e - b->indptr[v] < deg) {
        int32_t u = (int32_t)randint(b->num_src);
        int dup = u == v;
        for (int64_t k = b->indptr[v]; k < e; k++) dup |= b->indices[k] == u;
        if (!dup) b->indices[e++] = u;
      }
      b->indptr[v + 1] = e;
    }
    b->num_edges = e;
  }
}

// ---- Finite differences of a scalar function of the array v.
typedef double (*loss_fn)(void *ctx);

static double fd_worst(double *v, size_t n, const double *analytic, loss_fn f, void *ctx) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    double keep = v[i];
    v[i] = keep + EPS;
    double up = f(ctx);
    v[i] = keep - EPS;
    double down = f(ctx);
    v[i] = keep;
    double num = (up - down) / (2 * EPS);
    double err = fabs(analytic[i] - num) / fmax(fmax(fabs(analytic[i]), fabs(num)), 1e-6);
    if (err > worst) worst = err;
  }
  return worst;
}

// ---- Per-op checks: the loss <r, op(in)> for a random r, whose gradient
// the op's backward gives as bwd(in, dout = r).
enum { NS = 12, ND = 7, D = 5, H = 2, F = 3, C = 4 };
static batch opb;  // one block, NS sources -> ND destinations
#define BLK (&opb.b[0])
static int slots(void) { return (int)rd_gat_num_slots(BLK) * H; }
static const int32_t op_labels[ND] = {0, 3, -1, 2, 1, -1, 3};

typedef struct op_case {
  const char *name;
  int n_in, n_out;
  void (*fwd)(const double *in, double *out);
  void (*bwd)(const double *in, const double *dout, double *din);
} op_case;

typedef struct op_run {
  const op_case *c;
  double *in, *out, *r;
} op_run;

static double op_loss(void *ctx) {
  op_run *run = ctx;
  run->c->fwd(run->in, run->out);
  double s = 0;
  for (int i = 0; i < run->c->n_out; i++) s += run->r[i] * run->out[i];
  return s;
}

static void check_op(const op_case *c) {
  op_run run = {c, random_array((size_t)c->n_in), random_array((size_t)c->n_out),
                random_array((size_t)c->n_out)};
  double *din = random_array((size_t)c->n_in);  // garbage: backward must overwrite it
  c->bwd(run.in, run.r, din);
  double worst = fd_worst(run.in, (size_t)c->n_in, din, op_loss, &run);
  printf("op %-20s %4d inputs  max rel err %.2e\n", c->name, c->n_in, worst);
  CHECK(worst <= TOL, "%s backward disagrees with finite differences (%.3e)", c->name, worst);
  free(run.in);
  free(run.out);
  free(run.r);
  free(din);
}

static void segmean_f(const double *in, double *out) { rd_segment_mean(BLK, in, D, out); }
static void segmean_b(const double *in, const double *dout, double *din) {
  (void)in;
  rd_segment_mean_backward(BLK, dout, D, din);
}
static void softmax_f(const double *in, double *out) { rd_edge_softmax(BLK, in, H, out); }
static void softmax_b(const double *in, const double *dout, double *din) {
  double alpha[MAX_NODES * (MAX_DEG + 1) * H];
  rd_edge_softmax(BLK, in, H, alpha);
  rd_edge_softmax_backward(BLK, alpha, dout, H, din);
}
static void elu_f(const double *in, double *out) { rd_elu(in, out, 40); }
static void elu_b(const double *in, const double *dout, double *din) {
  rd_elu_backward(in, dout, din, 40);
}
static void leaky_f(const double *in, double *out) { rd_leaky_relu(in, out, 40, 0.2); }
static void leaky_b(const double *in, const double *dout, double *din) {
  rd_leaky_relu_backward(in, dout, din, 40, 0.2);
}
static void relu_f(const double *in, double *out) { rd_relu(in, out, 40); }
static void relu_b(const double *in, const double *dout, double *din) {
  rd_relu_backward(in, dout, din, 40);
}
static void dropout_f(const double *in, double *out) { rd_dropout(in, out, 40, 0.5f, 3, 1); }
static void dropout_b(const double *in, const double *dout, double *din) {
  (void)in;
  rd_dropout(dout, din, 40, 0.5f, 3, 1);
}
// The fused pair, in = [x (ND × D) | bias (D)]: the forward adds the bias to
// a copy of x (it writes the pre-activation back), the backward gets that.
static void fused_f(const double *in, double *out, rd_act act) {
  double x[ND * D];
  memcpy(x, in, sizeof x);
  rd_bias_act_dropout(x, in + ND * D, ND, D, act, out, 0.5f, 3, 1);
}
static void fused_b(const double *in, const double *dout, double *din, rd_act act) {
  double x[ND * D], y[ND * D];
  memcpy(x, in, sizeof x);
  rd_bias_act_dropout(x, in + ND * D, ND, D, act, y, 0.5f, 3, 1);
  rd_act_dropout_backward(x, dout, ND, D, act, 0.5f, 3, 1, din, din + ND * D);
}
static void bias_relu_drop_f(const double *in, double *out) { fused_f(in, out, RD_ACT_RELU); }
static void bias_relu_drop_b(const double *in, const double *dout, double *din) {
  fused_b(in, dout, din, RD_ACT_RELU);
}
static void bias_elu_drop_f(const double *in, double *out) { fused_f(in, out, RD_ACT_ELU); }
static void bias_elu_drop_b(const double *in, const double *dout, double *din) {
  fused_b(in, dout, din, RD_ACT_ELU);
}
static void headmean_f(const double *in, double *out) { rd_head_mean(in, ND, H, F, out); }
static void headmean_b(const double *in, const double *dout, double *din) {
  (void)in;
  rd_head_mean_backward(dout, ND, H, F, din);
}
// in = [alpha (slots × H) | z (NS × H·F)]
static void aggregate_f(const double *in, double *out) {
  rd_gat_aggregate(BLK, in, in + slots(), H, F, out);
}
static void aggregate_b(const double *in, const double *dout, double *din) {
  rd_gat_aggregate_backward(BLK, in, in + slots(), dout, H, F, din, din + slots());
}
// in = [el (NS × H) | er (ND × H)]
static void logits_f(const double *in, double *out) {
  rd_gat_edge_logits(BLK, in, in + NS * H, H, out);
}
static void logits_b(const double *in, const double *dout, double *din) {
  (void)in;
  rd_gat_edge_logits_backward(BLK, dout, H, din, din + NS * H);
}
// in = [z (NS × H·F) | a_l (H·F) | a_r (H·F)], out = [el (NS × H) | er (ND × H)]
static void scores_f(const double *in, double *out) {
  rd_gat_attn_scores(in, NS, ND, H, F, in + NS * H * F, in + (NS + 1) * H * F, out, out + NS * H);
}
static void scores_b(const double *in, const double *dout, double *din) {
  memset(din, 0, NS * H * F * sizeof *din);  // dz accumulates
  rd_gat_attn_scores_backward(in, NS, ND, H, F, in + NS * H * F, in + (NS + 1) * H * F, dout,
                              dout + NS * H, din, din + NS * H * F, din + (NS + 1) * H * F);
}
static void xent_f(const double *in, double *out) {
  out[0] = rd_softmax_xent(in, op_labels, ND, C, NULL, NULL);
}
static void xent_b(const double *in, const double *dout, double *din) {
  rd_softmax_xent(in, op_labels, ND, C, din, NULL);
  for (int i = 0; i < ND * C; i++) din[i] *= dout[0];
}

static void check_ops(void) {
  make_batch(&opb, 1, (int[]){NS, ND});
  const op_case cases[] = {
      {"segment_mean", NS * D, ND * D, segmean_f, segmean_b},
      {"edge_softmax", slots(), slots(), softmax_f, softmax_b},
      {"elu", 40, 40, elu_f, elu_b},
      {"leaky_relu", 40, 40, leaky_f, leaky_b},
      {"relu", 40, 40, relu_f, relu_b},
      {"dropout", 40, 40, dropout_f, dropout_b},
      {"bias_relu_dropout", ND * D + D, ND * D, bias_relu_drop_f, bias_relu_drop_b},
      {"bias_elu_dropout", ND * D + D, ND * D, bias_elu_drop_f, bias_elu_drop_b},
      {"head_mean", ND * H * F, ND * F, headmean_f, headmean_b},
      {"gat_aggregate", slots() + NS * H * F, ND * H * F, aggregate_f, aggregate_b},
      {"gat_edge_logits", (NS + ND) * H, slots(), logits_f, logits_b},
      {"gat_attn_scores", (NS + 2) * H * F, (NS + ND) * H, scores_f, scores_b},
      {"softmax_xent", ND * C, 1, xent_f, xent_b},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_op(&cases[i]);
}

// ---- Whole models: mean cross-entropy of the logits against labels (some
// ignored), differentiated w.r.t. every parameter and every input feature.
typedef struct model_run {
  rd_model *m;
  const rd_model_config *cfg;
  batch bt;
  double *x;
  int32_t labels[MAX_NODES];
  int training;
} model_run;

static double model_loss_grad(model_run *run, double *dlogits) {
  const double *logits = rd_model_forward(run->m, run->bt.b, run->x, run->training, 99);
  CHECK(logits, "forward: %s", rd_error());
  int seeds = run->bt.b[run->cfg->num_layers - 1].num_dst;
  return rd_softmax_xent(logits, run->labels, seeds, run->cfg->num_classes, dlogits, NULL);
}
static double model_loss(void *ctx) { return model_loss_grad(ctx, NULL); }

static void check_model(const char *name, rd_model_config cfg, const int *sizes, int training) {
  model_run run = {.cfg = &cfg, .training = training};
  make_batch(&run.bt, cfg.num_layers, sizes);
  size_t n_x = (size_t)sizes[0] * cfg.in_dim;
  int seeds = sizes[cfg.num_layers];
  run.x = random_array(n_x);
  for (int i = 0; i < seeds; i++) run.labels[i] = i % 4 == 2 ? -1 : randint(cfg.num_classes);
  run.m = rd_model_create(&cfg, NULL);
  CHECK(run.m, "create %s: %s", name, rd_error());
  // Random parameters everywhere: the init leaves biases at exactly 0.
  size_t np = rd_model_num_params(run.m);
  double *p = rd_model_params(run.m);
  for (size_t i = 0; i < np; i++) p[i] = 0.8 * sym();

  double *dlogits = random_array((size_t)seeds * cfg.num_classes);
  model_loss_grad(&run, dlogits);
  rd_model_backward(run.m, dlogits);
  double *gp = malloc(np * sizeof *gp), *gx = malloc(n_x * sizeof *gx);
  CHECK(gp && gx, "out of memory");
  memcpy(gp, rd_model_grads(run.m), np * sizeof *gp);
  const double *dx = rd_model_input_grad(run.m);
  CHECK(dx, "input grad: %s", rd_error());
  memcpy(gx, dx, n_x * sizeof *gx);

  double wp = fd_worst(p, np, gp, model_loss, &run);
  double wx = fd_worst(run.x, n_x, gx, model_loss, &run);
  printf("model %-24s %4zu params %4zu inputs  max rel err %.2e / %.2e\n", name, np, n_x, wp, wx);
  CHECK(wp <= TOL, "%s: parameter gradient off (%.3e)", name, wp);
  CHECK(wx <= TOL, "%s: input gradient off (%.3e)", name, wx);
  rd_model_free(run.m);
  free(run.x);
  free(dlogits);
  free(gp);
  free(gx);
}

int main(void) {
  check_ops();
  const rd_model_config sage = {
      .kind = RD_MODEL_SAGE, .num_layers = 2, .in_dim = 5, .hidden = 6, .num_classes = 3, .seed = 1};
  rd_model_config gat = sage, mlp = sage, sage3 = sage, gat3 = sage, gat1 = sage;
  gat.kind = gat3.kind = gat1.kind = RD_MODEL_GAT;
  gat.heads = 2;
  mlp.kind = RD_MODEL_MLP;
  sage3.num_layers = gat3.num_layers = 3;
  gat3.heads = 3;
  gat1.num_layers = 1;
  gat1.heads = 3;
  rd_model_config sage_drop = sage, gat_drop = gat;
  sage_drop.dropout = gat_drop.dropout = 0.5f;
  const int s1[] = {11, 6}, s2[] = {16, 11, 6}, s3[] = {24, 16, 11, 6};
  check_model("sage 2 layers", sage, s2, 0);
  check_model("gat 2 layers, 2 heads", gat, s2, 0);
  check_model("mlp 2 layers", mlp, s2, 0);
  check_model("sage 3 layers", sage3, s3, 0);
  check_model("gat 3 layers, 3 heads", gat3, s3, 0);
  check_model("gat 1 layer, 3 heads", gat1, s1, 0);
  // A fixed dropout seed fixes the mask, so the loss stays differentiable.
  check_model("sage 2 layers, dropout", sage_drop, s2, 1);
  check_model("gat 2 layers, dropout", gat_drop, s2, 1);
  printf("gradcheck: all backward passes match finite differences (tol %.0e)\n", TOL);
  return 0;
}
