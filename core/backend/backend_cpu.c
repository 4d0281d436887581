// The CPU backend: tensors are host memory and every op is its reference
// implementation in ops/, model/loss.c, optim/adam.c and cuda/twins.c.
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#include "twins.h"
#include "../error.h"
#include "../ops/aggregate.h"
#include "../ops/dense.h"
#include "../ops/elementwise.h"
#include "../model/loss.h"

// The blocks of the last set_blocks (borrowed: the model keeps its own copy).
typedef struct cpu {
  const rd_block *blocks;
} cpu;

#define BLOCK(be, l) (&((cpu *)(be)->ctx)->blocks[l])

static void *cpu_alloc(rd_backend *be, size_t bytes) {
  // 64-byte rows for the BLAS; one spare line so that zero-byte requests differ from failure.
  void *p = aligned_alloc(64, (bytes + 127) / 64 * 64);
  if (!p) {
    be->failed = 1;
    rd_error_set("out of memory for %zu bytes", bytes);
    return NULL;
  }
  return memset(p, 0, bytes);
}

static void cpu_release(rd_backend *be, void *p) { (void)be, free(p); }
static void cpu_copy(rd_backend *be, void *dst, const void *src, size_t bytes) {
  (void)be;
  if (bytes && dst != src) memmove(dst, src, bytes);
}
static void cpu_zero(rd_backend *be, void *dst, size_t bytes) { (void)be, memset(dst, 0, bytes); }
static void cpu_sync(rd_backend *be) { (void)be; }
static void cpu_set_blocks(rd_backend *be, const rd_block *blocks, int n) {
  (void)n;
  ((cpu *)be->ctx)->blocks = blocks;
}

static void cpu_matmul(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m,
                       int k, int n, int acc) {
  (void)be, rd_matmul(a, b, c, m, k, n, acc);
}
static void cpu_matmul_tn(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m,
                          int k, int n, int acc) {
  (void)be, rd_matmul_tn(a, b, c, m, k, n, acc);
}
static void cpu_matmul_nt(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m,
                          int k, int n, int acc) {
  (void)be, rd_matmul_nt(a, b, c, m, k, n, acc);
}
static void cpu_bias_add(rd_backend *be, rd_real *y, const rd_real *bias, int n, int d) {
  (void)be, rd_bias_add(y, bias, n, d);
}
static void cpu_colsum(rd_backend *be, const rd_real *x, int n, int d, rd_real *out) {
  (void)be, rd_colsum(x, n, d, out);
}
static void cpu_head_mean(rd_backend *be, const rd_real *x, int n, int heads, int d, rd_real *y) {
  (void)be, rd_head_mean(x, n, heads, d, y);
}
static void cpu_head_mean_backward(rd_backend *be, const rd_real *dy, int n, int heads, int d,
                                   rd_real *dx) {
  (void)be, rd_head_mean_backward(dy, n, heads, d, dx);
}
static void cpu_relu(rd_backend *be, const rd_real *x, rd_real *y, size_t n) {
  (void)be, rd_relu(x, y, n);
}
static void cpu_relu_backward(rd_backend *be, const rd_real *x, const rd_real *dy, rd_real *dx,
                              size_t n) {
  (void)be, rd_relu_backward(x, dy, dx, n);
}
static void cpu_elu(rd_backend *be, const rd_real *x, rd_real *y, size_t n) {
  (void)be, rd_elu(x, y, n);
}
static void cpu_elu_backward(rd_backend *be, const rd_real *x, const rd_real *dy, rd_real *dx,
                             size_t n) {
  (void)be, rd_elu_backward(x, dy, dx, n);
}
static void cpu_leaky_relu(rd_backend *be, const rd_real *x, rd_real *y, size_t n, float slope) {
  (void)be, rd_leaky_relu(x, y, n, slope);
}
static void cpu_leaky_relu_backward(rd_backend *be, const rd_real *x, const rd_real *dy,
                                    rd_real *dx, size_t n, float slope) {
  (void)be, rd_leaky_relu_backward(x, dy, dx, n, slope);
}
static void cpu_dropout(rd_backend *be, const rd_real *x, rd_real *y, size_t n, float p,
                        uint64_t seed, uint64_t stream) {
  (void)be, rd_dropout(x, y, n, p, seed, stream);
}
static void cpu_scale(rd_backend *be, rd_real *x, size_t n, float s) { (void)be, rd_scale(x, n, s); }
static void cpu_bias_act_dropout(rd_backend *be, rd_real *x, const rd_real *bias, int n, int d,
                                 int act, rd_real *y, float p, uint64_t seed, uint64_t stream) {
  (void)be, rd_bias_act_dropout(x, bias, n, d, (rd_act)act, y, p, seed, stream);
}
static void cpu_act_dropout_backward(rd_backend *be, const rd_real *x, const rd_real *dy, int n,
                                     int d, int act, float p, uint64_t seed, uint64_t stream,
                                     rd_real *dx, rd_real *dbias) {
  (void)be, rd_act_dropout_backward(x, dy, n, d, (rd_act)act, p, seed, stream, dx, dbias);
}

static void cpu_segment_mean(rd_backend *be, int l, const rd_real *x, int dim, rd_real *y) {
  rd_segment_mean(BLOCK(be, l), x, dim, y);
}
static void cpu_segment_mean_backward(rd_backend *be, int l, const rd_real *dy, int dim,
                                      rd_real *dx) {
  rd_segment_mean_backward(BLOCK(be, l), dy, dim, dx);
}
static void cpu_gat_attn_scores(rd_backend *be, const rd_real *z, int n_src, int n_dst, int heads,
                                int f, const rd_real *al, const rd_real *ar, rd_real *el,
                                rd_real *er) {
  (void)be, rd_gat_attn_scores(z, n_src, n_dst, heads, f, al, ar, el, er);
}
static void cpu_gat_attn_scores_backward(rd_backend *be, const rd_real *z, int n_src, int n_dst,
                                         int heads, int f, const rd_real *al, const rd_real *ar,
                                         const rd_real *del, const rd_real *der, rd_real *dz,
                                         rd_real *dal, rd_real *dar) {
  (void)be, rd_gat_attn_scores_backward(z, n_src, n_dst, heads, f, al, ar, del, der, dz, dal, dar);
}
static void cpu_gat_edge_logits(rd_backend *be, int l, const rd_real *el, const rd_real *er,
                                int heads, rd_real *s) {
  rd_gat_edge_logits(BLOCK(be, l), el, er, heads, s);
}
static void cpu_gat_edge_logits_backward(rd_backend *be, int l, const rd_real *ds, int heads,
                                         rd_real *del, rd_real *der) {
  rd_gat_edge_logits_backward(BLOCK(be, l), ds, heads, del, der);
}
static void cpu_edge_softmax(rd_backend *be, int l, const rd_real *e, int heads, rd_real *alpha) {
  rd_edge_softmax(BLOCK(be, l), e, heads, alpha);
}
static void cpu_edge_softmax_backward(rd_backend *be, int l, const rd_real *alpha,
                                      const rd_real *dalpha, int heads, rd_real *de) {
  rd_edge_softmax_backward(BLOCK(be, l), alpha, dalpha, heads, de);
}
static void cpu_gat_aggregate(rd_backend *be, int l, const rd_real *alpha, const rd_real *z,
                              int heads, int f, rd_real *out) {
  rd_gat_aggregate(BLOCK(be, l), alpha, z, heads, f, out);
}
static void cpu_gat_aggregate_backward(rd_backend *be, int l, const rd_real *alpha,
                                       const rd_real *z, const rd_real *dout, int heads, int f,
                                       rd_real *dalpha, rd_real *dz) {
  rd_gat_aggregate_backward(BLOCK(be, l), alpha, z, dout, heads, f, dalpha, dz);
}

static double cpu_softmax_xent(rd_backend *be, const rd_real *logits, const int32_t *labels, int n,
                               int num_classes, rd_real *dlogits, int64_t *correct) {
  // A NAN loss from diverged logits is a result, not a failure.
  if (rd_xent_check_labels(labels, n, num_classes)) {
    be->failed = 1;
    return NAN;
  }
  return rd_softmax_xent(logits, labels, n, num_classes, dlogits, correct);
}
static void cpu_adam_step(rd_backend *be, rd_adam *a, rd_real *params, const rd_real *grads) {
  (void)be, rd_adam_step(a, params, grads);
}
static void cpu_allreduce_sum(rd_backend *be, MPI_Comm comm, rd_real *x, size_t n) {
  (void)be;
  MPI_Allreduce(MPI_IN_PLACE, x, (int)n, sizeof *x == sizeof(float) ? MPI_FLOAT : MPI_DOUBLE,
                MPI_SUM, comm);
}
static void cpu_gather_rows(rd_backend *be, const rd_gather_src *src, int64_t n, int F,
                            const float *local, const float *buffer, const float *fetched,
                            float *x) {
  (void)be, rd_gather_rows(src, n, F, local, buffer, fetched, x);
}
static void cpu_fill_rows(rd_backend *be, const struct rd_fill *fill, int64_t n, int F,
                          const float *fetched, float *buffer) {
  (void)be, rd_fill_rows(fill, n, F, fetched, buffer);
}
static void cpu_destroy(rd_backend *be) { free(be); }

rd_backend *rd_backend_cpu_create(int staged) {
  // The backend and its state in one allocation, freed by destroy.
  struct both {
    rd_backend be;
    cpu state;
  } *b = calloc(1, sizeof *b);
  if (!b) return rd_error_set("out of memory for a CPU backend"), NULL;
  b->be = (rd_backend){
      .name = staged ? "cpu-staged" : "cpu", .host = !staged, .ctx = &b->state,
      .alloc = cpu_alloc, .release = cpu_release, .upload = cpu_copy, .download = cpu_copy,
      .copy = cpu_copy, .zero = cpu_zero, .sync = cpu_sync, .set_blocks = cpu_set_blocks,
      .matmul = cpu_matmul, .matmul_tn = cpu_matmul_tn, .matmul_nt = cpu_matmul_nt,
      .bias_add = cpu_bias_add, .colsum = cpu_colsum, .head_mean = cpu_head_mean,
      .head_mean_backward = cpu_head_mean_backward, .relu = cpu_relu,
      .relu_backward = cpu_relu_backward, .elu = cpu_elu, .elu_backward = cpu_elu_backward,
      .leaky_relu = cpu_leaky_relu, .leaky_relu_backward = cpu_leaky_relu_backward,
      .dropout = cpu_dropout, .scale = cpu_scale, .bias_act_dropout = cpu_bias_act_dropout,
      .act_dropout_backward = cpu_act_dropout_backward, .segment_mean = cpu_segment_mean,
      .segment_mean_backward = cpu_segment_mean_backward,
      .gat_attn_scores = cpu_gat_attn_scores,
      .gat_attn_scores_backward = cpu_gat_attn_scores_backward,
      .gat_edge_logits = cpu_gat_edge_logits,
      .gat_edge_logits_backward = cpu_gat_edge_logits_backward,
      .edge_softmax = cpu_edge_softmax, .edge_softmax_backward = cpu_edge_softmax_backward,
      .gat_aggregate = cpu_gat_aggregate, .gat_aggregate_backward = cpu_gat_aggregate_backward,
      .softmax_xent = cpu_softmax_xent, .adam_step = cpu_adam_step,
      .allreduce_sum = cpu_allreduce_sum, .gather_rows = cpu_gather_rows,
      .fill_rows = cpu_fill_rows, .destroy = cpu_destroy};
  return &b->be;
}

int rd_backend_adam_init(rd_backend *be, rd_adam *a, size_t n, float lr) {
  if (rd_adam_init(a, n, lr)) return -1;
  if (be->host) return 0;
  free(a->m);  // the moments move to the device, zeroed
  a->m = be->alloc(be, 2 * n * sizeof *a->m + sizeof *a->m);
  a->v = a->m ? a->m + n : NULL;
  return a->m ? 0 : -1;
}

void rd_backend_adam_free(rd_backend *be, rd_adam *a) {
  if (be->host) {
    rd_adam_free(a);
    return;
  }
  be->release(be, a->m);
  a->m = a->v = NULL;
}
