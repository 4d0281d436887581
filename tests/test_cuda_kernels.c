// Every CUDA kernel of core/cuda against its CPU twin, on random inputs and on
// real sampled blocks and a buffer step of the `tiny` graph. Without a visible
// GPU it prints why and exits 77, which ctest reports as skipped.
//
// Agreement: integer results (correct counts), pure data movement (gather, row fill) and results of one float
// operation per element on both sides (LeakyReLU, ReLU, dropout, scale, bias)
// must be identical.
// Floats must satisfy |gpu - cpu| <= tol · (1 + |cpu|) elementwise, with
//   tol = 1e-5 for elementwise ops (a few roundings at 2^-24 ≈ 6e-8 each,
//         and CUDA's expf within 2 ulp: ~100× margin), and
//   tol = 1e-5 · sqrt(K) for sums of K terms: the two sides add in different
//         orders (or with fused multiply-adds), which typically moves a
//         result by ~2^-24 · sqrt(K) relative to its terms; 1e-5·sqrt(K) is
//         >100× that, and above the worst case 2^-24·K for every K < 27,000
//         (the largest K here is a few thousand rows in dattn).
// Each kernel is fed its twin's inputs (not the previous kernel's output), so
// errors never compound across ops.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/buffer.h"
#include "check.h"
#include "random_block.h"
#include "cuda/device.h"
#include "cuda/kernels.h"
#include "error.h"
#include "generate.h"
#include "model/loss.h"
#include "ops/aggregate.h"
#include "ops/dense.h"
#include "ops/elementwise.h"
#include "optim/adam.h"
#include "rng.h"
#include "sampler/sampler.h"

#define TOL 1e-5

static void cuda_ok(cudaError_t e, const char *call, int line) {
  if (e == cudaSuccess) return;
  fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, line, call, cudaGetErrorString(e));
  exit(1);
}
#define CU(call) cuda_ok((call), #call, __LINE__)
#define RD(call) CHECK((call) == 0, "%s", rd_error())

static cudaStream_t st;
static cublasHandle_t blas;

static double tol_sum(int64_t k) { return TOL * sqrt(k > 1 ? (double)k : 1.0); }

// Device copy of `bytes` of host memory (at least 1 byte allocated).
static void *up(const void *host, size_t bytes) {
  void *d;
  CU(cudaMalloc(&d, bytes ? bytes : 1));
  if (bytes) CU(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
  return d;
}
// A device output pre-filled with NaN bytes, so an element a kernel fails to
// write cannot pass.
static float *out_f(size_t n) {
  float *d;
  CU(cudaMalloc((void **)&d, n ? n * sizeof *d : 1));
  CU(cudaMemset(d, 0xff, n * sizeof *d));
  return d;
}
// Synchronises the stream, then copies n floats down into a new host array.
static float *down_f(const float *d, size_t n) {
  CU(cudaStreamSynchronize(st));
  float *h = malloc(n * sizeof *h + 1);
  CU(cudaMemcpy(h, d, n * sizeof *h, cudaMemcpyDeviceToHost));
  return h;
}
static float *randf(rd_rng *r, size_t n) {
  float *x = malloc(n * sizeof *x + 1);
  for (size_t i = 0; i < n; i++) x[i] = (float)(2 * rd_rng_uniform(r) - 1);
  return x;
}

// Compares, frees gpu (host copy), reports the worst error.
static void close_f(const char *what, float *gpu, const float *cpu, size_t n, double tol) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    const double e = fabs((double)gpu[i] - (double)cpu[i]) / (1 + fabs((double)cpu[i]));
    CHECK(e <= tol, "%s: element %zu: gpu %.9g, cpu %.9g (error %.3g > tolerance %.3g)", what, i,
          gpu[i], cpu[i], e, tol);
    if (e > worst) worst = e;
  }
  printf("  %-44s n=%-8zu max error %.2e (tolerance %.2e)\n", what, n, worst, tol);
  free(gpu);
}
static void same_f(const char *what, float *gpu, const float *cpu, size_t n) {
  CHECK(memcmp(gpu, cpu, n * sizeof *gpu) == 0, "%s: not bitwise identical", what);
  printf("  %-44s n=%-8zu identical\n", what, n);
  free(gpu);
}

// ---- gather ---------------------------------------------------------------

// `shift` offsets the local table by one float: unaligned, so F % 4 == 0
// must take the scalar path and still be right.
static void check_gather(rd_rng *r, int F, int shift) {
  const int64_t n = 5000, rows[3] = {3000, 1000, 2000};
  float *tab[3], *dtab[3];
  for (int s = 0; s < 3; s++) {
    tab[s] = randf(r, (size_t)(rows[s] * F + shift));
    dtab[s] = up(tab[s], (size_t)(rows[s] * F + shift) * sizeof(float));
  }
  rd_gather_src *src = malloc((size_t)n * sizeof *src);
  for (int64_t i = 0; i < n; i++) {
    const int from = (int)rd_rng_below(r, 3);
    src[i] = (rd_gather_src){from, (int32_t)rd_rng_below(r, (uint64_t)rows[from])};
  }
  rd_gather_src *dsrc = up(src, (size_t)n * sizeof *src);
  float *dx = out_f((size_t)n * F), *x = malloc((size_t)n * F * sizeof *x);
  RD(rd_cuda_gather_rows(dsrc, n, F, dtab[0] + shift, dtab[1], dtab[2], dx, st));
  rd_gather_rows(src, n, F, tab[0] + shift, tab[1], tab[2], x);
  char what[64];
  snprintf(what, sizeof what, "gather F=%d%s", F, shift ? " (unaligned local)" : "");
  same_f(what, down_f(dx, (size_t)n * F), x, (size_t)n * F);
  for (int s = 0; s < 3; s++) {
    free(tab[s]);
    CU(cudaFree(dtab[s]));
  }
  free(src);
  free(x);
  CU(cudaFree(dsrc));
  CU(cudaFree(dx));
}

// The step's fetched rows into distinct buffer slots; every other slot must
// keep its row. `shift` offsets the fetched rows by one float, forcing the
// scalar path for F % 4 == 0.
static void check_fill(rd_rng *r, int F, int shift) {
  const int64_t cap = 3000, m = 1500, n = 1000;
  float *buffer = randf(r, (size_t)(cap * F)), *fetched = randf(r, (size_t)(m * F + shift));
  int32_t *perm = malloc(cap * sizeof *perm);
  for (int64_t i = 0; i < cap; i++) perm[i] = (int32_t)i;
  struct rd_fill *fill = malloc(n * sizeof *fill);
  for (int64_t i = 0; i < n; i++) {
    const int64_t j = i + (int64_t)rd_rng_below(r, (uint64_t)(cap - i));
    const int32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
    fill[i] = (struct rd_fill){perm[i], (int32_t)rd_rng_below(r, (uint64_t)m)};
  }
  float *dbuf = up(buffer, (size_t)(cap * F) * sizeof *buffer);
  float *dfetched = up(fetched, (size_t)(m * F + shift) * sizeof *fetched);
  struct rd_fill *dfill = up(fill, n * sizeof *fill);
  RD(rd_cuda_fill_rows(dfill, n, F, dfetched + shift, dbuf, st));
  RD(rd_cuda_fill_rows(NULL, 0, F, NULL, NULL, st));  // n = 0: nothing launched
  rd_fill_rows(fill, n, F, fetched + shift, buffer);
  char what[64];
  snprintf(what, sizeof what, "fill rows F=%d%s", F, shift ? " (unaligned fetched)" : "");
  same_f(what, down_f(dbuf, (size_t)(cap * F)), buffer, (size_t)(cap * F));
  free(buffer); free(fetched); free(perm); free(fill);
  CU(cudaFree(dbuf)); CU(cudaFree(dfetched)); CU(cudaFree(dfill));
}

// ---- blocks: SAGE and GAT -------------------------------------------------


// The K of the tolerance: terms in a destination's sum, in a source's sum.
static int64_t max_in(const rd_block *b) {
  int64_t m = 0;
  for (int32_t v = 0; v < b->num_dst; v++)
    if (b->indptr[v + 1] - b->indptr[v] > m) m = b->indptr[v + 1] - b->indptr[v];
  return m;
}
static int64_t max_out(const rd_block *b) {
  int64_t *count = calloc((size_t)b->num_src + 1, sizeof *count), m = 0;
  for (int64_t k = 0; k < b->num_edges; k++)
    if (++count[b->indices[k]] > m) m = count[b->indices[k]];
  free(count);
  return m;
}

static void check_sage(const char *name, const rd_block *b, const float *x, int dim, rd_rng *r) {
  char what[96];
  rd_cuda_block d;
  RD(rd_cuda_block_upload(b, &d, st));
  const size_t ns = (size_t)b->num_src * dim, nd = (size_t)b->num_dst * dim;
  float *dx_in = up(x, ns * sizeof *x), *dy = out_f(nd), *y = malloc(nd * sizeof *y + 1);
  RD(rd_cuda_segment_mean(&d, dx_in, dim, dy, st));
  rd_segment_mean(b, x, dim, y);
  snprintf(what, sizeof what, "%s: segment mean, dim %d", name, dim);
  close_f(what, down_f(dy, nd), y, nd, tol_sum(max_in(b)));
  float *g = randf(r, nd), *dg = up(g, nd * sizeof *g), *dgx = out_f(ns), *gx = malloc(ns * sizeof *gx + 1);
  RD(rd_cuda_segment_mean_backward(&d, dg, dim, dgx, st));
  rd_segment_mean_backward(b, g, dim, gx);
  snprintf(what, sizeof what, "%s: segment mean backward", name);
  close_f(what, down_f(dgx, ns), gx, ns, tol_sum(max_out(b)));
  free(y); free(g); free(gx);
  CU(cudaFree(dx_in)); CU(cudaFree(dy)); CU(cudaFree(dg)); CU(cudaFree(dgx));
  RD(rd_cuda_block_free(&d));
}

static void check_gat(const char *name, const rd_block *b, int heads, int f, rd_rng *r) {
  char what[96];
#define REPORT(...) snprintf(what, sizeof what, __VA_ARGS__)
  rd_cuda_block d;
  RD(rd_cuda_block_upload(b, &d, st));
  const int ns = b->num_src, nd = b->num_dst;
  const size_t hf = (size_t)heads * f, nslot = (size_t)rd_gat_num_slots(b) * heads;
  const size_t nel = (size_t)ns * heads, ner = (size_t)nd * heads;
  const int64_t kslot = max_in(b) + 1, kfan = max_out(b) + 1;  // + the self slot

  // Node scores.
  float *z = randf(r, ns * hf), *al = randf(r, hf), *ar = randf(r, hf);
  float *dz_ = up(z, ns * hf * 4), *dal = up(al, hf * 4), *dar = up(ar, hf * 4);
  float *el = malloc(nel * 4 + 1), *er = malloc(ner * 4 + 1), *del_ = out_f(nel), *der_ = out_f(ner);
  RD(rd_cuda_gat_attn_scores(dz_, ns, nd, heads, f, dal, dar, del_, der_, st));
  rd_gat_attn_scores(z, ns, nd, heads, f, al, ar, el, er);
  REPORT("%s: attention scores el, %dx%d", name, heads, f);
  close_f(what, down_f(del_, nel), el, nel, tol_sum(f));
  REPORT("%s: attention scores er", name);
  close_f(what, down_f(der_, ner), er, ner, tol_sum(f));

  // Their backward: dz accumulates onto the same random start on both sides.
  float *gl = randf(r, nel), *gr = randf(r, ner), *gz = randf(r, ns * hf);
  float *dgl = up(gl, nel * 4), *dgr = up(gr, ner * 4), *dgz = up(gz, ns * hf * 4);
  float *gal = malloc(hf * 4), *gar = malloc(hf * 4), *dgal = out_f(hf), *dgar = out_f(hf);
  RD(rd_cuda_gat_attn_scores_backward(blas, dz_, ns, nd, heads, f, dal, dar, dgl, dgr, dgz, dgal, dgar, st));
  rd_gat_attn_scores_backward(z, ns, nd, heads, f, al, ar, gl, gr, gz, gal, gar);
  REPORT("%s: attention scores backward dz (+=)", name);
  close_f(what, down_f(dgz, ns * hf), gz, ns * hf, tol_sum(2));
  REPORT("%s: attention scores backward dattn_l", name);
  close_f(what, down_f(dgal, hf), gal, hf, tol_sum(ns));
  REPORT("%s: attention scores backward dattn_r", name);
  close_f(what, down_f(dgar, hf), gar, hf, tol_sum(nd));

  // Edge logits from the CPU's el, er; then their backward.
  CU(cudaMemcpy(del_, el, nel * 4, cudaMemcpyHostToDevice));
  CU(cudaMemcpy(der_, er, ner * 4, cudaMemcpyHostToDevice));
  float *s = malloc(nslot * 4 + 1), *ds_ = out_f(nslot);
  RD(rd_cuda_gat_edge_logits(&d, del_, der_, heads, ds_, st));
  rd_gat_edge_logits(b, el, er, heads, s);
  REPORT("%s: edge logits", name);
  same_f(what, down_f(ds_, nslot), s, nslot);  // one float add on both sides
  float *gs = randf(r, nslot), *dgs = up(gs, nslot * 4);
  RD(rd_cuda_gat_edge_logits_backward(&d, dgs, heads, dgl, dgr, st));
  rd_gat_edge_logits_backward(b, gs, heads, gl, gr);
  REPORT("%s: edge logits backward del", name);
  close_f(what, down_f(dgl, nel), gl, nel, tol_sum(kfan));
  REPORT("%s: edge logits backward der", name);
  close_f(what, down_f(dgr, ner), gr, ner, tol_sum(kslot));

  // LeakyReLU, in place on the device; its backward.
  float *e = malloc(nslot * 4 + 1);
  CU(cudaMemcpy(ds_, s, nslot * 4, cudaMemcpyHostToDevice));
  RD(rd_cuda_leaky_relu(ds_, ds_, nslot, 0.2f, st));
  rd_leaky_relu(s, e, nslot, 0.2f);
  REPORT("%s: LeakyReLU (in place)", name);
  same_f(what, down_f(ds_, nslot), e, nslot);
  float *dsv = up(s, nslot * 4), *dge = out_f(nslot), *ge = malloc(nslot * 4 + 1);
  RD(rd_cuda_leaky_relu_backward(dsv, dgs, dge, nslot, 0.2f, st));
  rd_leaky_relu_backward(s, gs, ge, nslot, 0.2f);
  REPORT("%s: LeakyReLU backward", name);
  same_f(what, down_f(dge, nslot), ge, nslot);

  // Edge softmax of the CPU's e, in place on the device; its backward, in place.
  float *alpha = malloc(nslot * 4 + 1), *dalpha_ = up(e, nslot * 4);
  RD(rd_cuda_edge_softmax(&d, dalpha_, heads, dalpha_, st));
  rd_edge_softmax(b, e, heads, alpha);
  REPORT("%s: edge softmax (in place)", name);
  close_f(what, down_f(dalpha_, nslot), alpha, nslot, tol_sum(kslot));
  float *ga = randf(r, nslot), *gain = malloc(nslot * 4 + 1);
  CU(cudaMemcpy(dalpha_, alpha, nslot * 4, cudaMemcpyHostToDevice));
  CU(cudaMemcpy(dgs, ga, nslot * 4, cudaMemcpyHostToDevice));
  RD(rd_cuda_edge_softmax_backward(&d, dalpha_, dgs, heads, dgs, st));
  rd_edge_softmax_backward(b, alpha, ga, heads, gain);
  REPORT("%s: edge softmax backward (in place)", name);
  close_f(what, down_f(dgs, nslot), gain, nslot, tol_sum(kslot));

  // Weighted aggregation of z by the CPU's alpha; its backward.
  const size_t no = (size_t)nd * hf;
  float *out = malloc(no * 4 + 1), *dout_ = out_f(no);
  RD(rd_cuda_gat_aggregate(&d, dalpha_, dz_, heads, f, dout_, st));
  rd_gat_aggregate(b, alpha, z, heads, f, out);
  REPORT("%s: weighted aggregation", name);
  close_f(what, down_f(dout_, no), out, no, tol_sum(kslot));
  float *go = randf(r, no), *dgo = up(go, no * 4), *gdz = malloc(ns * hf * 4 + 1);
  float *dgda = out_f(nslot), *dgdz = out_f(ns * hf);
  RD(rd_cuda_gat_aggregate_backward(&d, dalpha_, dz_, dgo, heads, f, dgda, dgdz, st));
  rd_gat_aggregate_backward(b, alpha, z, go, heads, f, ga, gdz);
  REPORT("%s: weighted aggregation backward dalpha", name);
  close_f(what, down_f(dgda, nslot), ga, nslot, tol_sum(f));
  REPORT("%s: weighted aggregation backward dz", name);
  close_f(what, down_f(dgdz, ns * hf), gdz, ns * hf, tol_sum(kfan));
#undef REPORT

  float *host[] = {z, al, ar, el, er, gl, gr, gz, gal, gar, s, gs, e, ge, alpha, ga, gain, out, go, gdz};
  for (size_t k = 0; k < sizeof host / sizeof host[0]; k++) free(host[k]);
  float *dev[] = {dz_, dal, dar, del_, der_, dgl, dgr, dgz, dgal, dgar, ds_, dgs, dsv, dge,
                  dalpha_, dout_, dgo, dgda, dgdz};
  for (size_t k = 0; k < sizeof dev / sizeof dev[0]; k++) CU(cudaFree(dev[k]));
  RD(rd_cuda_block_free(&d));
}

// ---- dense, loss, optimiser -----------------------------------------------

static void check_gemm(rd_rng *r) {
  const int m = 37, k = 53, n = 29;
  float *a = randf(r, (size_t)m * k), *b = randf(r, (size_t)k * n), *c0 = randf(r, (size_t)m * n);
  float *da = up(a, (size_t)m * k * 4), *db = up(b, (size_t)k * n * 4), *dc = out_f((size_t)m * n);
  float *c = malloc((size_t)m * n * 4);
  // NN: A m×k, B k×n. TN: A k×m. NT: B n×k. Each plain and accumulating.
  for (int shape = 0; shape < 3; shape++)
    for (int acc = 0; acc < 2; acc++) {
      memcpy(c, c0, (size_t)m * n * 4);
      CU(cudaMemcpy(dc, c0, (size_t)m * n * 4, cudaMemcpyHostToDevice));
      const int ta = shape == 1, tb = shape == 2;
      RD(rd_cuda_gemm(blas, ta, tb, m, n, k, 1, da, ta ? m : k, db, tb ? k : n, acc ? 1.0f : 0.0f, dc, n, st));
      if (shape == 0) rd_matmul(a, b, c, m, k, n, acc);
      if (shape == 1) rd_matmul_tn(a, b, c, m, k, n, acc);
      if (shape == 2) rd_matmul_nt(a, b, c, m, k, n, acc);
      char what[64];
      snprintf(what, sizeof what, "gemm %s%s", (const char *[]){"NN", "TN", "NT"}[shape], acc ? " (C +=)" : "");
      close_f(what, down_f(dc, (size_t)m * n), c, (size_t)m * n, tol_sum(k + acc));
    }
  // A failing cuBLAS call reports itself: lda below the row length.
  CHECK(rd_cuda_gemm(blas, 0, 0, m, n, k, 1, da, k - 1, db, n, 0, dc, n, st) == -1 &&
            strstr(rd_error(), "cublasSgemm"),
        "bad lda reported, got '%s'", rd_error());
  printf("  %-44s %s\n", "gemm error path", rd_error());
  free(a); free(b); free(c0); free(c);
  CU(cudaFree(da)); CU(cudaFree(db)); CU(cudaFree(dc));
}

// Loss and gradient against rd_softmax_xent; `bad` plants a label >= C.
static void check_xent(rd_rng *r, int n, int C, int ignored_every, int bad) {
  float *x = randf(r, (size_t)n * C);
  for (size_t i = 0; i < (size_t)n * C; i++) x[i] *= 8;  // peaked rows, where the max shift matters
  int32_t *y = malloc(((size_t)n + 1) * sizeof *y);
  for (int i = 0; i < n; i++) y[i] = i % ignored_every == 0 ? -1 : (int32_t)rd_rng_below(r, (uint64_t)C);
  if (bad) y[n / 2] = C;
  float *dx = up(x, (size_t)n * C * 4), *dd = out_f((size_t)n * C), *d = malloc((size_t)n * C * 4 + 1);
  int32_t *dy = up(y, (size_t)n * sizeof *y);
  double *dloss, loss;
  int64_t *dcorrect, correct, want_correct;
  CU(cudaMalloc((void **)&dloss, sizeof *dloss));
  CU(cudaMalloc((void **)&dcorrect, sizeof *dcorrect));
  RD(rd_cuda_softmax_xent(dx, dy, n, C, dd, dloss, dcorrect, st));
  const double want = rd_softmax_xent(x, y, n, C, d, &want_correct);
  CU(cudaStreamSynchronize(st));
  CU(cudaMemcpy(&loss, dloss, sizeof loss, cudaMemcpyDeviceToHost));
  if (bad) {
    CHECK(isnan(want) && isnan(loss), "label >= C: NAN on both sides (gpu %g)", loss);
    printf("  %-44s NAN on both sides\n", "xent, a label out of range");
  } else {
    CU(cudaMemcpy(&correct, dcorrect, sizeof correct, cudaMemcpyDeviceToHost));
    // Double on both sides; only the summation order differs.
    CHECK(fabs(loss - want) <= 1e-12 * (1 + fabs(want)) && correct == want_correct,
          "xent n=%d: loss %.17g vs %.17g, correct %lld vs %lld", n, loss, want, (long long)correct,
          (long long)want_correct);
    char what[64];
    snprintf(what, sizeof what, "xent dlogits, n=%d C=%d (loss, correct agree)", n, C);
    // Computed in double and rounded once to float on both sides.
    close_f(what, down_f(dd, (size_t)n * C), d, (size_t)n * C, 1e-6);
    // Optional outputs may be NULL; the loss is unchanged.
    RD(rd_cuda_softmax_xent(dx, dy, n, C, NULL, dloss, NULL, st));
    CU(cudaStreamSynchronize(st));
    CU(cudaMemcpy(&loss, dloss, sizeof loss, cudaMemcpyDeviceToHost));
    CHECK(fabs(loss - want) <= 1e-12 * (1 + fabs(want)), "xent without dlogits, correct");
  }
  free(x); free(y); free(d);
  CU(cudaFree(dx)); CU(cudaFree(dd)); CU(cudaFree(dy)); CU(cudaFree(dloss)); CU(cudaFree(dcorrect));
}

static void check_adam(rd_rng *r) {
  const size_t n = 100000;
  rd_adam a;
  RD(rd_adam_init(&a, n, 1e-3f));
  a.weight_decay = 0.01f;
  float *p = randf(r, n), *dp = up(p, n * 4), *dm = up(a.m, n * 4), *dv = up(a.v, n * 4);
  for (int t = 1; t <= 3; t++) {
    float *g = randf(r, n), *dg = up(g, n * 4);
    RD(rd_cuda_adam_step(dp, dg, dm, dv, n, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, t, st));
    rd_adam_step(&a, p, g);
    free(g);
    CU(cudaStreamSynchronize(st));
    CU(cudaFree(dg));
  }
  close_f("adam, 3 steps: params", down_f(dp, n), p, n, TOL);
  close_f("adam, 3 steps: first moment", down_f(dm, n), a.m, n, TOL);
  close_f("adam, 3 steps: second moment", down_f(dv, n), a.v, n, TOL);
  rd_adam_free(&a);
  free(p);
  CU(cudaFree(dp)); CU(cudaFree(dm)); CU(cudaFree(dv));
}

// ---- elementwise and dense -------------------------------------------------

typedef int (*gpu_unary)(const float *, float *, size_t, cudaStream_t);
typedef void (*cpu_unary)(const float *, float *, size_t);
typedef int (*gpu_binary)(const float *, const float *, float *, size_t, cudaStream_t);
typedef void (*cpu_binary)(const float *, const float *, float *, size_t);

static void agree(const char *what, float *gpu, const float *cpu, size_t n, int exact) {
  if (exact)
    same_f(what, gpu, cpu, n);
  else
    close_f(what, gpu, cpu, n, TOL);
}

// y = op(x) out of place and in place (y == x); n = 0 a no-op.
static void check_unary(const char *name, gpu_unary gpu, cpu_unary cpu, const float *x, size_t n,
                        int exact) {
  char what[64];
  float *want = malloc(n * sizeof *want + 1), *dx = up(x, n * sizeof *x), *dy = out_f(n);
  cpu(x, want, n);
  RD(gpu(dx, dy, n, st));
  agree(name, down_f(dy, n), want, n, exact);
  RD(gpu(dx, dx, n, st));
  snprintf(what, sizeof what, "%s (in place)", name);
  agree(what, down_f(dx, n), want, n, exact);
  RD(gpu(NULL, NULL, 0, st));
  free(want);
  CU(cudaFree(dx));
  CU(cudaFree(dy));
}

// dx = op'(x)·dy out of place and in place (dx == dy); n = 0 a no-op.
static void check_binary(const char *name, gpu_binary gpu, cpu_binary cpu, const float *x,
                         const float *g, size_t n, int exact) {
  char what[64];
  float *want = malloc(n * sizeof *want + 1), *dx = up(x, n * sizeof *x), *dg = up(g, n * sizeof *g);
  float *dout = out_f(n);
  cpu(x, g, want, n);
  RD(gpu(dx, dg, dout, n, st));
  agree(name, down_f(dout, n), want, n, exact);
  RD(gpu(dx, dg, dg, n, st));
  snprintf(what, sizeof what, "%s (in place)", name);
  agree(what, down_f(dg, n), want, n, exact);
  RD(gpu(NULL, NULL, NULL, 0, st));
  free(want);
  CU(cudaFree(dx));
  CU(cudaFree(dg));
  CU(cudaFree(dout));
}

static void check_activations(rd_rng *r) {
  const size_t n = 100003;
  float *x = randf(r, n), *g = randf(r, n);
  for (size_t i = 0; i < n; i += 3) x[i] *= 8;  // ELU's exponentials over a wider range
  x[0] = 0.0f;  // the kink, from both sides
  x[1] = -0.0f;
  check_unary("ReLU", rd_cuda_relu, rd_relu, x, n, 1);
  check_binary("ReLU backward", rd_cuda_relu_backward, rd_relu_backward, x, g, n, 1);
  check_unary("ELU", rd_cuda_elu, rd_elu, x, n, 0);
  check_binary("ELU backward", rd_cuda_elu_backward, rd_elu_backward, x, g, n, 0);
  free(x);
  free(g);
}

// The same mask bits as rd_dropout, for two stream ids; p = 0 copies.
static void check_dropout(rd_rng *r) {
  const size_t n = 100003;
  const uint64_t seed = 0x5eedULL;
  float *x = randf(r, n), *want = malloc(n * sizeof *want), *first = malloc(n * sizeof *first);
  float *dx = up(x, n * sizeof *x), *dy = out_f(n), *dz = out_f(n);
  const float ps[2] = {0.5f, 0.0f};
  const uint64_t ids[2] = {0, 3};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      char what[64];
      rd_dropout(x, want, n, ps[a], seed, ids[b]);
      RD(rd_cuda_dropout(dx, dy, n, ps[a], seed, ids[b], st));
      snprintf(what, sizeof what, "dropout p=%.1f stream %llu", ps[a], (unsigned long long)ids[b]);
      same_f(what, down_f(dy, n), want, n);
      CU(cudaMemcpy(dz, x, n * sizeof *x, cudaMemcpyHostToDevice));
      RD(rd_cuda_dropout(dz, dz, n, ps[a], seed, ids[b], st));
      snprintf(what, sizeof what, "dropout p=%.1f stream %llu (in place)", ps[a], (unsigned long long)ids[b]);
      same_f(what, down_f(dz, n), want, n);
      if (a == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) kept += want[i] != 0;
        CHECK(kept > n * 0.49 && kept < n * 0.51, "p = 0.5 keeps about half (%zu of %zu)", kept, n);
        if (b == 0)
          memcpy(first, want, n * sizeof *want);
        else
          CHECK(memcmp(first, want, n * sizeof *want) != 0, "stream ids 0 and 3 draw different masks");
      } else {
        CHECK(memcmp(want, x, n * sizeof *x) == 0, "p = 0 is a copy");
      }
    }
  RD(rd_cuda_dropout(NULL, NULL, 0, 0.5f, seed, 0, st));
  free(x); free(want); free(first);
  CU(cudaFree(dx)); CU(cudaFree(dy)); CU(cudaFree(dz));
}

// The fused pair between layers: ReLU bit for bit (one float operation per
// stage on both sides), ELU within TOL (expm1f / expf), the bias gradient
// within the column-sum tolerance; with and without dropout.
static void check_fused(rd_rng *r) {
  const int n = 3001, d = 67;
  const size_t N = (size_t)n * d;
  float *x = randf(r, N), *bias = randf(r, d), *g = randf(r, N);
  float *pre = malloc(N * sizeof *pre), *y = malloc(N * sizeof *y), *dx = malloc(N * sizeof *dx);
  float *db = malloc(d * sizeof *db);
  float *dbias = up(bias, d * sizeof *bias), *dg = up(g, N * sizeof *g);
  for (int act = 1; act <= 2; act++)
    for (int drop = 0; drop < 2; drop++) {
      const float p = drop ? 0.5f : 0.0f;
      const int exact = act == 1;
      char what[80];
      float *dxv = up(x, N * sizeof *x), *dy = out_f(N), *ddx = out_f(N), *ddb = out_f(d);
      memcpy(pre, x, N * sizeof *pre);
      rd_bias_act_dropout(pre, bias, n, d, (rd_act)act, y, p, 0x5eed, 4);
      RD(rd_cuda_bias_act_dropout(dxv, dbias, n, d, act, dy, p, 0x5eed, 4, st));
      snprintf(what, sizeof what, "bias+act %d+dropout %.1f: pre-activation", act, (double)p);
      same_f(what, down_f(dxv, N), pre, N);
      snprintf(what, sizeof what, "bias+act %d+dropout %.1f: output", act, (double)p);
      agree(what, down_f(dy, N), y, N, exact);
      // Backward from the CPU's pre-activation, so both sides see the same input.
      CU(cudaMemcpy(dxv, pre, N * sizeof *pre, cudaMemcpyHostToDevice));
      rd_act_dropout_backward(pre, g, n, d, (rd_act)act, p, 0x5eed, 4, dx, db);
      RD(rd_cuda_act_dropout_backward(dxv, dg, n, d, act, p, 0x5eed, 4, ddx, ddb, st));
      snprintf(what, sizeof what, "act %d+dropout %.1f backward", act, (double)p);
      agree(what, down_f(ddx, N), dx, N, exact);
      snprintf(what, sizeof what, "act %d+dropout %.1f backward: bias gradient", act, (double)p);
      close_f(what, down_f(ddb, d), db, d, tol_sum(n));
      // In place, without the bias gradient.
      CU(cudaMemcpy(ddx, g, N * sizeof *g, cudaMemcpyHostToDevice));
      RD(rd_cuda_act_dropout_backward(dxv, ddx, n, d, act, p, 0x5eed, 4, ddx, NULL, st));
      snprintf(what, sizeof what, "act %d+dropout %.1f backward (in place)", act, (double)p);
      agree(what, down_f(ddx, N), dx, N, exact);
      CU(cudaFree(dxv)); CU(cudaFree(dy)); CU(cudaFree(ddx)); CU(cudaFree(ddb));
    }
  RD(rd_cuda_bias_act_dropout(NULL, dbias, 0, d, 1, NULL, 0.5f, 1, 1, st));
  free(x); free(bias); free(g); free(pre); free(y); free(dx); free(db);
  CU(cudaFree(dbias)); CU(cudaFree(dg));
}

static void check_scale(rd_rng *r) {
  const size_t n = 100003;
  float *x = randf(r, n), *dx = up(x, n * sizeof *x);
  RD(rd_cuda_scale(dx, n, 0.37f, st));
  RD(rd_cuda_scale(NULL, 0, 0.37f, st));
  rd_scale(x, n, 0.37f);
  same_f("scale", down_f(dx, n), x, n);
  free(x);
  CU(cudaFree(dx));
}

static void check_bias_colsum(rd_rng *r) {
  const int n = 1001, d = 37;
  float *y = randf(r, (size_t)n * d), *bias = randf(r, d);
  float *dyv = up(y, (size_t)n * d * sizeof *y), *dbias = up(bias, d * sizeof *bias);
  RD(rd_cuda_bias_add(dyv, dbias, n, d, st));
  RD(rd_cuda_bias_add(NULL, dbias, 0, d, st));
  rd_bias_add(y, bias, n, d);
  same_f("bias add, 1001 x 37", down_f(dyv, (size_t)n * d), y, (size_t)n * d);
  free(y); free(bias);
  CU(cudaFree(dyv)); CU(cudaFree(dbias));
  // One pass (few rows), two passes (several chunks), zero rows (zeros).
  const int shapes[][2] = {{0, 19}, {3, 300}, {100, 5}, {5000, 37}, {70001, 256}, {200003, 47}};
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    const int rows = shapes[k][0], cols = shapes[k][1];
    float *x = randf(r, (size_t)rows * cols), *want = malloc(cols * sizeof *want);
    float *dx = up(x, (size_t)rows * cols * sizeof *x), *dout = out_f(cols);
    RD(rd_cuda_colsum(dx, rows, cols, dout, st));
    rd_colsum(x, rows, cols, want);
    char what[64];
    snprintf(what, sizeof what, "column sums, %d x %d", rows, cols);
    close_f(what, down_f(dout, cols), want, cols, tol_sum(rows));
    free(x); free(want);
    CU(cudaFree(dx)); CU(cudaFree(dout));
  }
}

static void check_head_mean(rd_rng *r) {
  const int n = 777, heads = 3, d = 19;
  const size_t nx = (size_t)n * heads * d, ny = (size_t)n * d;
  float *x = randf(r, nx), *y = malloc(ny * sizeof *y), *g = randf(r, ny), *gx = malloc(nx * sizeof *gx);
  float *dx = up(x, nx * sizeof *x), *dy = out_f(ny), *dg = up(g, ny * sizeof *g), *dgx = out_f(nx);
  RD(rd_cuda_head_mean(dx, n, heads, d, dy, st));
  RD(rd_cuda_head_mean(NULL, 0, heads, d, NULL, st));
  rd_head_mean(x, n, heads, d, y);
  close_f("head mean, 777 x 3 x 19", down_f(dy, ny), y, ny, TOL);
  RD(rd_cuda_head_mean_backward(dg, n, heads, d, dgx, st));
  RD(rd_cuda_head_mean_backward(NULL, 0, heads, d, NULL, st));
  rd_head_mean_backward(g, n, heads, d, gx);
  close_f("head mean backward", down_f(dgx, nx), gx, nx, TOL);
  // One head: the backward may run in place, as its twin may.
  RD(rd_cuda_head_mean_backward(dg, n, 1, d, dg, st));
  rd_head_mean_backward(g, n, 1, d, gx);
  close_f("head mean backward, 1 head (in place)", down_f(dg, ny), gx, ny, TOL);
  free(x); free(y); free(g); free(gx);
  CU(cudaFree(dx)); CU(cudaFree(dy)); CU(cudaFree(dg)); CU(cudaFree(dgx));
}

// ---- a real mini-batch of `tiny` -------------------------------------------

// Two pretend ranks: this one owns the even nodes (local row v/2); odd nodes
// are remote, in the halo as index v/2 except every fifth, which is outside
// it. A SCORE buffer over the halo, preloaded, serves the step; the gather
// then assembles x from local, buffer and fetched rows exactly as the CPU
// twin does, and x equals the graph's feature rows.
static void check_minibatch(const rd_graph *g, const rd_minibatch *mb, rd_rng *r) {
  const int F = g->num_features;
  const int64_t halo = g->num_nodes / 2, cap = halo / 4, n = mb->num_nodes;
  float *local = malloc((size_t)(g->num_nodes / 2 + 1) * F * 4);
  for (int64_t v = 0; v < g->num_nodes; v += 2) memcpy(local + v / 2 * F, g->features + v * F, F * 4);
  rd_buffer b;
  const rd_buffer_config cfg = {.capacity = cap, .alpha = 0.05, .delta = 3, .rule = RD_RULE_SCORE};
  RD(rd_buffer_init(&b, halo, &cfg));
  int32_t *ranked = malloc(halo * sizeof *ranked), *placed = malloc(2 * cap * sizeof *placed);
  for (int64_t i = 0; i < halo; i++) ranked[i] = (int32_t)i;
  for (int64_t i = halo - 1; i > 0; i--) {
    const int64_t j = (int64_t)rd_rng_below(r, (uint64_t)i + 1);
    const int32_t t = ranked[i];
    ranked[i] = ranked[j];
    ranked[j] = t;
  }
  CHECK(rd_buffer_preload(&b, ranked, cap, 0, placed, placed + cap) == cap, "preload");
  float *buffer = malloc((size_t)cap * F * 4);
  for (int64_t s = 0; s < cap; s++) memcpy(buffer + s * F, g->features + (2 * (int64_t)b.halo_of[s] + 1) * F, F * 4);
  // The step's remote accesses, in node-list order.
  int32_t *access = malloc(n * sizeof *access), *pos = malloc(n * sizeof *pos);
  int64_t na = 0;
  for (int64_t i = 0; i < n; i++)
    if (mb->nodes[i] % 2) {
      pos[na] = (int32_t)i;
      access[na++] = mb->nodes[i] % 10 == 9 ? -1 : mb->nodes[i] / 2;
    }
  rd_buffer_plan plan = {0};
  rd_buffer_step(&b, access, NULL, na, 1, NULL, &plan);
  float *fetched = malloc((size_t)(plan.misses + 1) * F * 4);
  rd_gather_src *src = malloc(n * sizeof *src);
  for (int64_t i = 0; i < n; i++) src[i] = (rd_gather_src){RD_FROM_LOCAL, mb->nodes[i] / 2};
  for (int64_t a = 0; a < na; a++)
    if (plan.slot[a] >= 0) src[pos[a]] = (rd_gather_src){RD_FROM_BUFFER, plan.slot[a]};
  for (int64_t k = 0; k < plan.misses; k++) {
    const int32_t i = pos[plan.miss_access[k]];
    memcpy(fetched + k * F, g->features + (int64_t)mb->nodes[i] * F, F * 4);
    src[i] = (rd_gather_src){RD_FROM_FETCHED, (int32_t)k};
  }
  CHECK(plan.hits > 0 && plan.misses > 0 && na < n, "the batch mixes local, buffered and fetched rows");
  float *x = malloc(n * F * 4), *dl = up(local, (size_t)(g->num_nodes / 2 + 1) * F * 4);
  float *db = up(buffer, (size_t)cap * F * 4), *df = up(fetched, (size_t)(plan.misses + 1) * F * 4);
  float *dx = out_f(n * F);
  rd_gather_src *dsrc = up(src, n * sizeof *src);
  RD(rd_cuda_gather_rows(dsrc, n, F, dl, db, df, dx, st));
  rd_gather_rows(src, n, F, local, buffer, fetched, x);
  for (int64_t i = 0; i < n; i++)
    CHECK(memcmp(x + i * F, g->features + (int64_t)mb->nodes[i] * F, F * 4) == 0, "x row %lld is node %d's features",
          (long long)i, mb->nodes[i]);
  char what[96];
  snprintf(what, sizeof what, "tiny: gather (%lld local, %lld buffered, %lld fetched)",
           (long long)(n - na), (long long)plan.hits, (long long)plan.misses);
  same_f(what, down_f(dx, n * F), x, n * F);

  // The mini-batch's blocks, on its real features and on random hidden states.
  for (int l = 0; l < mb->num_layers; l++) {
    const rd_block *bl = &mb->blocks[l];
    char name[32];
    snprintf(name, sizeof name, "tiny block %d", l);
    if (l == 0) {
      check_sage(name, bl, x, F, r);
    } else {
      float *hidden = randf(r, (size_t)bl->num_src * 64);
      check_sage(name, bl, hidden, 64, r);
      free(hidden);
    }
    check_gat(name, bl, 4, 8, r);
  }
  free(local); free(ranked); free(placed); free(buffer); free(access); free(pos);
  free(fetched); free(src); free(x);
  CU(cudaFree(dl)); CU(cudaFree(db)); CU(cudaFree(df)); CU(cudaFree(dx)); CU(cudaFree(dsrc));
  rd_buffer_plan_free(&plan);
  rd_buffer_free(&b);
}

int main(void) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    printf("SKIP: no CUDA device (cudaGetDeviceCount: %s)\n",
           e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 77;
  }
  int dev;
  RD(rd_cuda_select_device(0, &dev));
  struct cudaDeviceProp prop;
  CU(cudaGetDeviceProperties(&prop, dev));
  printf("device %d: %s (sm_%d%d)\n", dev, prop.name, prop.major, prop.minor);
  RD(rd_cuda_check_free(1, "one byte"));
  CHECK(rd_cuda_check_free((size_t)1 << 60, "a 1 EiB buffer") == -1 && strstr(rd_error(), "MiB free"),
        "free-memory check names the shortfall: '%s'", rd_error());
  printf("  %-44s %s\n", "free-memory check", rd_error());
  CU(cudaStreamCreate(&st));
  CHECK(cublasCreate(&blas) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
  rd_rng r = rd_rng_stream(7, 0, 0);

  check_gather(&r, 16, 0);
  check_gather(&r, 100, 0);
  check_gather(&r, 13, 0);
  check_gather(&r, 16, 1);
  check_fill(&r, 16, 0);
  check_fill(&r, 100, 0);
  check_fill(&r, 13, 0);
  check_fill(&r, 16, 1);

  rd_block rb = random_block(&r, 700, 2000, 30);
  float *x = randf(&r, (size_t)rb.num_src * 48);
  check_sage("random block", &rb, x, 48, &r);
  check_gat("random block", &rb, 2, 40, &r);
  free(x);
  free(rb.indptr);
  free(rb.indices);

  check_gemm(&r);
  check_xent(&r, 300, 47, 7, 0);
  check_xent(&r, 5, 3, 1, 0);  // every row ignored: loss 0, zero gradient
  check_xent(&r, 64, 10, 5, 1);
  check_adam(&r);
  check_activations(&r);
  check_dropout(&r);
  check_scale(&r);
  check_fused(&r);
  check_bias_colsum(&r);
  check_head_mean(&r);

  rd_gen_config cfg;
  rd_graph g;
  RD(rd_gen_preset("tiny", &cfg));
  RD(rd_generate(&cfg, &g));
  const int fan[2] = {10, 5};
  rd_sampler *s = rd_sampler_create(&g, 2, fan, 7);
  rd_node seeds[256];
  for (int i = 0; i < 256; i++) seeds[i] = g.train[i];
  check_minibatch(&g, rd_sample(s, seeds, 256, 0, 1), &r);
  rd_sampler_free(s);
  rd_gen_free(&g);

  CHECK(cublasDestroy(blas) == CUBLAS_STATUS_SUCCESS, "cublasDestroy");
  CU(cudaStreamDestroy(st));
  printf("cuda kernels: every kernel agrees with its CPU twin\n");
  return 0;
}
