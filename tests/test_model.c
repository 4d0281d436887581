// The model stack in float32: config handling, determinism (seeds, thread
// count), dropout masks, agreement with the float64 build, Adam against
// hand-computed steps, workspace reuse, and a learning sanity check where
// labels depend only on neighbours' features (SAGE must learn, MLP cannot).
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "model/loss.h"
#include "model/model.h"
#include "ops/dense.h"
#include "ops/elementwise.h"
#include "optim/adam.h"

// The float64 build of the same sources (rudder_core_f64, RD_REAL_DOUBLE):
// its names end in _f64 and take double where these take rd_real.
struct rd_backend_f64;
rd_model *rd_model_create_f64(const rd_model_config *cfg, struct rd_backend_f64 *be);
void rd_model_free_f64(rd_model *m);
double *rd_model_params_f64(rd_model *m);
double *rd_model_grads_f64(rd_model *m);
const double *rd_model_forward_f64(rd_model *m, const rd_block *blocks, const double *x,
                                   int training, uint64_t dropout_seed);
int rd_model_backward_f64(rd_model *m, const double *dlogits);

// Float32 vs float64 on the same parameters, inputs and dropout masks (the
// tolerance documented for the trainer): logits within TOL_LOGITS of
// max(1, max |logit|), gradients within TOL_GRADS of max |grad|.
#define TOL_LOGITS 1e-5
#define TOL_GRADS 1e-4

static const rd_model_kind KINDS[] = {RD_MODEL_SAGE, RD_MODEL_GAT, RD_MODEL_MLP};

static float sym(uint64_t key, uint64_t i) {
  return (float)((double)(rd_counter_hash(key, i) >> 11) * 0x1p-52 - 1);
}

// ---- A random graph, K distinct neighbours per node (never itself), with
// features and labels = argmax_c of the neighbours' mean feature c.
enum { N = 256, K = 4, IN = 8, CLASSES = 3, SEEDS = 64 };

typedef struct graph {
  int64_t indptr[N + 1];
  int32_t indices[N * K];
  float x[N * IN];
  int32_t labels[N];
} graph;

static void make_graph(graph *g) {
  uint64_t draw = 0;
  for (int v = 0; v < N; v++) {
    g->indptr[v] = (int64_t)v * K;
    for (int k = 0; k < K;) {
      int32_t u = (int32_t)(rd_counter_hash(5, draw++) % N);
      int dup = u == v;
      for (int j = 0; j < k; j++) dup |= g->indices[v * K + j] == u;
      if (!dup) g->indices[v * K + k++] = u;
    }
  }
  g->indptr[N] = N * K;
  for (int i = 0; i < N * IN; i++) g->x[i] = sym(6, (uint64_t)i);
  for (int v = 0; v < N; v++) {
    float mean[CLASSES] = {0};
    for (int k = 0; k < K; k++)
      for (int c = 0; c < CLASSES; c++) mean[c] += g->x[g->indices[v * K + k] * IN + c];
    g->labels[v] = 0;
    for (int c = 1; c < CLASSES; c++)
      if (mean[c] > mean[g->labels[v]]) g->labels[v] = c;
  }
}

// Full-neighbourhood blocks: every layer reads all N nodes; the last one
// produces the first `seeds`.
static void make_blocks(const graph *g, int layers, int seeds, rd_block *blocks) {
  for (int l = 0; l < layers; l++) {
    int dst = l == layers - 1 ? seeds : N;
    blocks[l] = (rd_block){.num_dst = dst, .num_src = N, .num_edges = g->indptr[dst],
                           .indptr = (int64_t *)g->indptr, .indices = (int32_t *)g->indices};
  }
}

static rd_model_config config(rd_model_kind kind) {
  return (rd_model_config){.kind = kind, .num_layers = 2, .in_dim = IN, .hidden = 16,
                           .num_classes = CLASSES, .heads = 4, .seed = 7};
}

static rd_model *create(const rd_model_config *cfg) {
  rd_model *m = rd_model_create(cfg, NULL);
  CHECK(m, "create: %s", rd_error());
  return m;
}

static const float *forward(rd_model *m, const rd_block *b, const float *x, int train, uint64_t s) {
  const float *logits = rd_model_forward(m, b, x, train, s);
  CHECK(logits, "forward: %s", rd_error());
  return logits;
}

// ---- Tests.

static void test_config(void) {
  rd_model_config c = config(RD_MODEL_GAT);
  c.hidden = 18;  // not a multiple of 4 heads
  CHECK(!rd_model_create(&c, NULL) && strstr(rd_error(), "heads"), "indivisible heads accepted");
  c = config(RD_MODEL_SAGE);
  c.num_layers = 0;
  CHECK(!rd_model_create(&c, NULL), "0 layers accepted");
  c = config(RD_MODEL_MLP);
  c.dropout = 1;
  CHECK(!rd_model_create(&c, NULL), "dropout 1 accepted");
  // SAGE: 2·8·16 + 16 + 2·16·3 + 3. GAT (4 heads of 4, then 4 of 3): 8·16 +
  // 3·16 + 16·12 + 3·12. MLP: 8·16 + 16 + 16·3 + 3.
  const size_t expect[] = {371, 404, 195};
  for (int k = 0; k < 3; k++) {
    rd_model_kind parsed;
    CHECK(rd_model_kind_parse(rd_model_kind_name(KINDS[k]), &parsed) == 0 && parsed == KINDS[k],
          "kind %d does not round-trip", k);
    c = config(KINDS[k]);
    rd_model *m = create(&c);
    CHECK(rd_model_num_params(m) == expect[k], "%s: %zu params, expected %zu",
          rd_model_kind_name(KINDS[k]), rd_model_num_params(m), expect[k]);
    CHECK(!rd_model_input_grad(m), "input gradient before any backward");
    rd_model_free(m);
  }
  rd_model_kind parsed;
  CHECK(rd_model_kind_parse("gcn", &parsed) != 0, "'gcn' parsed");
}

// Logits, all gradients and the input gradient of one training step, with
// the given OpenMP thread count.
static void step(rd_model *m, const rd_block *b, const graph *g, int threads, float *out) {
  omp_set_num_threads(threads);
  const float *logits = forward(m, b, g->x, 1, 5);
  size_t nl = (size_t)SEEDS * CLASSES, np = rd_model_num_params(m);
  float dlogits[SEEDS * CLASSES];
  rd_softmax_xent(logits, g->labels, SEEDS, CLASSES, dlogits, NULL);
  memcpy(out, logits, nl * sizeof *out);
  rd_model_backward(m, dlogits);
  memcpy(out + nl, rd_model_grads(m), np * sizeof *out);
  memcpy(out + nl + np, rd_model_input_grad(m), (size_t)N * IN * sizeof *out);
}

static void test_determinism(const graph *g) {
  rd_block b[2];
  make_blocks(g, 2, SEEDS, b);
  for (int k = 0; k < 3; k++) {
    const char *name = rd_model_kind_name(KINDS[k]);
    rd_model_config c = config(KINDS[k]);
    c.dropout = 0.5f;
    c.hidden = 64;  // wide enough that both threads own scatter columns
    rd_model *m1 = create(&c), *m2 = create(&c);
    size_t np = rd_model_num_params(m1), nl = (size_t)SEEDS * CLASSES;
    CHECK(!memcmp(rd_model_params(m1), rd_model_params(m2), np * sizeof(float)),
          "%s: same seed, different init", name);
    c.seed++;
    rd_model *m3 = create(&c);
    CHECK(memcmp(rd_model_params(m1), rd_model_params(m3), np * sizeof(float)),
          "%s: init ignores the seed", name);
    rd_model_free(m3);

    float *ref = malloc(nl * sizeof *ref);
    CHECK(ref, "out of memory");
    memcpy(ref, forward(m1, b, g->x, 0, 1), nl * sizeof *ref);
    CHECK(!memcmp(ref, forward(m2, b, g->x, 0, 2), nl * sizeof *ref),
          "%s: eval forward not deterministic (or dropout leaked into eval)", name);
    memcpy(ref, forward(m1, b, g->x, 1, 5), nl * sizeof *ref);
    CHECK(!memcmp(ref, forward(m2, b, g->x, 1, 5), nl * sizeof *ref),
          "%s: same dropout seed, different logits", name);
    CHECK(memcmp(ref, forward(m2, b, g->x, 1, 6), nl * sizeof *ref),
          "%s: dropout seed ignored", name);

    // Parallel scatters split columns, not edges: bitwise equal for any thread count.
    size_t n = nl + np + (size_t)N * IN;
    float *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two);
    CHECK(one && two, "out of memory");
    step(m1, b, g, 1, one);
    step(m1, b, g, 2, two);
    CHECK(!memcmp(one, two, n * sizeof *one), "%s: results depend on the thread count", name);
    free(one);
    free(two);
    free(ref);
    rd_model_free(m1);
    rd_model_free(m2);
  }
}

static void test_dropout(void) {
  enum { M = 1 << 20 };
  const float p = 0.3f;
  float *ones = malloc(M * sizeof *ones), *a = malloc(M * sizeof *a), *b = malloc(M * sizeof *b);
  CHECK(ones && a && b, "out of memory");
  for (int i = 0; i < M; i++) ones[i] = 1;
  omp_set_num_threads(1);
  rd_dropout(ones, a, M, p, 11, 1);
  omp_set_num_threads(2);
  rd_dropout(ones, b, M, p, 11, 1);
  CHECK(!memcmp(a, b, M * sizeof *a), "mask depends on the thread count");
  int kept = 0;
  for (int i = 0; i < M; i++) {
    CHECK(a[i] == 0 || a[i] == (float)(1.0 / (1.0 - p)), "element %d scaled to %g", i, a[i]);
    kept += a[i] != 0;
  }
  // Binomial sd of the kept fraction is 4.5e-4: allow 10 sd.
  double rate = (double)kept / M;
  printf("dropout p=%.1f: kept %.4f\n", (double)p, rate);
  CHECK(fabs(rate - (1 - p)) < 4.5e-3, "keep rate %.4f, expected %.2f", rate, 1 - (double)p);
  rd_dropout(ones, b, M, p, 11, 2);
  int same = 0;
  for (int i = 0; i < M; i++) same += (a[i] != 0) == (b[i] != 0);
  CHECK(same < 0.7 * M, "streams 1 and 2 give nearly the same mask (%d agree)", same);
  rd_dropout(ones, b, M, 0, 11, 1);
  CHECK(!memcmp(ones, b, M * sizeof *b), "p = 0 is not the identity");
  free(ones);
  free(a);
  free(b);
}

static double max_abs(const double *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  return m;
}

static double max_diff(const float *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

// The fused ops against the unfused sequence they replace, bit for bit, for
// 1 and 3 threads; and the mask against its definition (hash.h).
static void test_fused(void) {
  const int n = 1531, d = 67;  // odd sizes: rows straddle vector widths and thread slices
  const size_t N = (size_t)n * d;
  const float p = 0.4f;
  float *x0 = malloc(N * sizeof *x0), *bias = malloc(d * sizeof *bias);
  float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *ref = malloc(N * sizeof *ref);
  float *g = malloc(N * sizeof *g), *dx = malloc(N * sizeof *dx), *db = malloc(d * sizeof *db);
  float *rdx = malloc(N * sizeof *rdx), *rdb = malloc(d * sizeof *rdb);
  CHECK(x0 && bias && x && y && ref && g && dx && db && rdx && rdb, "out of memory");
  for (size_t i = 0; i < N; i++) x0[i] = sym(5, i), g[i] = sym(6, i);
  for (int c = 0; c < d; c++) bias[c] = sym(7, (uint64_t)c);
  const rd_act acts[] = {RD_ACT_RELU, RD_ACT_ELU};
  for (int a = 0; a < 2; a++)
    for (int threads = 1; threads <= 3; threads += 2)
      for (int drop = 0; drop < 2; drop++) {
        const float q = drop ? p : 0;
        omp_set_num_threads(threads);
        // Unfused: bias, activation, dropout; back: dropout, activation', colsum.
        float *pre = malloc(N * sizeof *pre);
        CHECK(pre, "out of memory");
        memcpy(pre, x0, N * sizeof *pre);
        rd_bias_add(pre, bias, n, d);
        if (acts[a] == RD_ACT_RELU) rd_relu(pre, ref, N);
        else rd_elu(pre, ref, N);
        rd_dropout(ref, ref, N, q, 9, 2);
        rd_dropout(g, rdx, N, q, 9, 2);
        if (acts[a] == RD_ACT_RELU) rd_relu_backward(pre, rdx, rdx, N);
        else rd_elu_backward(pre, rdx, rdx, N);
        rd_colsum(rdx, n, d, rdb);
        // Fused, the backward in place as the model runs it.
        memcpy(x, x0, N * sizeof *x);
        rd_bias_act_dropout(x, bias, n, d, acts[a], y, q, 9, 2);
        CHECK(!memcmp(x, pre, N * sizeof *x), "act %d threads %d p %g: pre-activation differs",
              a, threads, (double)q);
        CHECK(!memcmp(y, ref, N * sizeof *y), "act %d threads %d p %g: forward differs", a,
              threads, (double)q);
        memcpy(dx, g, N * sizeof *dx);
        rd_act_dropout_backward(x, dx, n, d, acts[a], q, 9, 2, dx, db);
        CHECK(!memcmp(dx, rdx, N * sizeof *dx), "act %d threads %d p %g: backward differs", a,
              threads, (double)q);
        CHECK(!memcmp(db, rdb, d * sizeof *db), "act %d threads %d p %g: bias gradient differs",
              a, threads, (double)q);
        rd_act_dropout_backward(x, g, n, d, acts[a], q, 9, 2, dx, NULL);
        CHECK(!memcmp(dx, rdx, N * sizeof *dx), "act %d threads %d p %g: backward without bias "
              "gradient differs", a, threads, (double)q);
        free(pre);
      }
  // The kept elements are exactly those the definition keeps.
  float *ones = malloc(N * sizeof *ones);
  CHECK(ones, "out of memory");
  for (size_t i = 0; i < N; i++) ones[i] = 1;
  rd_dropout(ones, y, N, p, 9, 2);
  const uint64_t key = rd_mask_key(9, 2);
  for (size_t i = 0; i < N; i++)
    CHECK((y[i] != 0) == (rd_mask_bits(key, i) >= rd_mask_threshold(p)),
          "element %zu: mask differs from rd_mask_bits", i);
  omp_set_num_threads(2);
  free(ones); free(x0); free(bias); free(x); free(y); free(ref); free(g); free(dx); free(db);
  free(rdx); free(rdb);
  printf("fused bias/activation/dropout: identical to the unfused ops\n");
}

static void test_precision(const graph *g) {
  rd_block b[3];
  make_blocks(g, 3, SEEDS, b);
  double x64[N * IN], dl64[SEEDS * CLASSES];
  float dl32[SEEDS * CLASSES];
  for (int i = 0; i < N * IN; i++) x64[i] = g->x[i];
  for (int i = 0; i < SEEDS * CLASSES; i++) dl64[i] = dl32[i] = sym(8, (uint64_t)i) / SEEDS;
  for (int k = 0; k < 3; k++) {
    rd_model_config c = config(KINDS[k]);
    c.num_layers = 3;
    c.hidden = 64;
    c.dropout = 0.5f;
    rd_model *m32 = create(&c), *m64 = rd_model_create_f64(&c, NULL);
    CHECK(m64, "create f64: %s", rd_error());
    size_t np = rd_model_num_params(m32), nl = (size_t)SEEDS * CLASSES;
    for (size_t i = 0; i < np; i++) rd_model_params_f64(m64)[i] = rd_model_params(m32)[i];
    for (int train = 0; train <= 1; train++) {
      const float *l32 = forward(m32, b, g->x, train, 3);
      const double *l64 = rd_model_forward_f64(m64, b, x64, train, 3);
      CHECK(l64, "forward f64: %s", rd_error());
      double el = max_diff(l32, l64, nl) / fmax(1, max_abs(l64, nl));
      rd_model_backward(m32, dl32);
      rd_model_backward_f64(m64, dl64);
      const double *g64 = rd_model_grads_f64(m64);
      double eg = max_diff(rd_model_grads(m32), g64, np) / max_abs(g64, np);
      printf("%s float32 vs float64 (%s): logits %.1e, grads %.1e\n",
             rd_model_kind_name(KINDS[k]), train ? "train" : "eval", el, eg);
      CHECK(el <= TOL_LOGITS && eg <= TOL_GRADS, "float32 drifts from float64");
    }
    rd_model_free(m32);
    rd_model_free_f64(m64);
  }
}

static void test_workspace(const graph *g) {
  rd_block big[2], small[2];
  make_blocks(g, 2, SEEDS, big);
  make_blocks(g, 2, SEEDS / 4, small);
  rd_model_config c = config(RD_MODEL_GAT);
  rd_model *m = create(&c);
  float ref[SEEDS * CLASSES];
  const float *first = forward(m, big, g->x, 0, 0);
  memcpy(ref, first, sizeof ref);
  forward(m, small, g->x, 0, 0);
  const float *again = forward(m, big, g->x, 0, 0);
  CHECK(again == first && !memcmp(ref, again, sizeof ref),
        "a smaller batch in between moved or changed the workspace");
  rd_model_free(m);
}

static void test_adam(void) {
  float p[4] = {1, -2, 0.5f, 0};
  const float g1[4] = {0.5f, -1, 2, 0}, g2[4] = {-0.5f, 1, 1, 0.3f};
  rd_adam a;
  CHECK(rd_adam_init(&a, 4, 0.1f) == 0, "%s", rd_error());
  // Step 1: m̂ = g, v̂ = g², so p -= 0.1·sign(g) (0 for g = 0).
  rd_adam_step(&a, p, g1);
  const float e1[4] = {0.9f, -1.9f, 0.4f, 0};
  for (int i = 0; i < 4; i++)
    CHECK(fabsf(p[i] - e1[i]) < 1e-6f, "adam step 1, element %d: %.7f, expected %.7f", i,
          (double)p[i], (double)e1[i]);
  // Step 2: m = 0.09·g1 + 0.1·g2, v = 0.000999·g1² + 0.001·g2²,
  // p -= 0.1·(m / 0.19) / sqrt(v / 0.001999); e.g. element 0: m = -0.005,
  // v = 0.00049975, p = 0.9 + 0.1·0.0263158 / 0.5.
  rd_adam_step(&a, p, g2);
  const float e2[4] = {0.9052632f, -1.9052632f, 0.3067820f, -0.0744137f};
  CHECK(a.t == 2, "t = %lld", (long long)a.t);
  for (int i = 0; i < 4; i++)
    CHECK(fabsf(p[i] - e2[i]) < 1e-6f, "adam step 2, element %d: %.7f, expected %.7f", i,
          (double)p[i], (double)e2[i]);
  rd_adam_free(&a);
  // Weight decay joins the gradient: g = 0.05 + 0.1·(-1) < 0, so p rises by lr.
  float q = -1, gq = 0.05f;
  CHECK(rd_adam_init(&a, 1, 0.1f) == 0, "%s", rd_error());
  a.weight_decay = 0.1f;
  rd_adam_step(&a, &q, &gq);
  CHECK(fabsf(q + 0.9f) < 1e-6f, "weight decay: %.7f, expected -0.9", (double)q);
  rd_adam_free(&a);
}

// Trains a 2-layer model on the first SEEDS nodes for `steps` Adam steps,
// then scores nodes SEEDS .. 2·SEEDS, never trained on (their labels are
// ignored, -1, in the training rows). Returns the final training loss and
// stores the first one and the held-out accuracy.
static double train(rd_model_kind kind, const graph *g, int steps, double *initial,
                    double *held_out) {
  rd_block b[2], eval[2];
  make_blocks(g, 2, SEEDS, b);
  make_blocks(g, 2, 2 * SEEDS, eval);
  rd_model_config c = config(kind);
  c.hidden = 32;
  rd_model *m = create(&c);
  rd_adam opt;
  CHECK(rd_adam_init(&opt, rd_model_num_params(m), 0.01f) == 0, "%s", rd_error());
  float dlogits[SEEDS * CLASSES];
  double loss = 0;
  for (int s = 0; s <= steps; s++) {
    loss = rd_softmax_xent(forward(m, b, g->x, 1, (uint64_t)s), g->labels, SEEDS, CLASSES,
                           dlogits, NULL);
    if (s == 0) *initial = loss;
    if (s == steps) break;
    rd_model_backward(m, dlogits);
    rd_adam_step(&opt, rd_model_params(m), rd_model_grads(m));
  }
  int32_t labels[2 * SEEDS];
  for (int v = 0; v < 2 * SEEDS; v++) labels[v] = v < SEEDS ? -1 : g->labels[v];
  int64_t correct;
  rd_softmax_xent(forward(m, eval, g->x, 0, 0), labels, 2 * SEEDS, CLASSES, NULL, &correct);
  *held_out = (double)correct / SEEDS;
  printf("%s: training loss %.4f -> %.4f in %d steps, held-out accuracy %.2f\n",
         rd_model_kind_name(kind), *initial, loss, steps, *held_out);
  rd_adam_free(&opt);
  rd_model_free(m);
  return loss;
}

static void test_learning(const graph *g) {
  double sage0, mlp0, sage_acc, mlp_acc;
  double sage = train(RD_MODEL_SAGE, g, 100, &sage0, &sage_acc);
  double mlp = train(RD_MODEL_MLP, g, 100, &mlp0, &mlp_acc);
  CHECK(sage < sage0 / 10, "SAGE loss only went %.4f -> %.4f", sage0, sage);
  CHECK(sage < mlp / 4, "SAGE (%.4f) does not beat the features-only MLP (%.4f)", sage, mlp);
  CHECK(sage_acc > mlp_acc + 0.2, "held out, SAGE (%.2f) is no better than the MLP (%.2f)",
        sage_acc, mlp_acc);
}

int main(void) {
  static graph g;
  make_graph(&g);
  test_config();
  test_determinism(&g);
  test_dropout();
  test_fused();
  test_precision(&g);
  test_workspace(&g);
  test_adam();
  test_learning(&g);
  printf("model: all tests passed\n");
  return 0;
}
