// Where a trainer's tensors live and how its ops run: the CPU backend
// (ops/, OpenBLAS; backend_cpu.c) or the CUDA backend (cuda/backend.c). The
// model and the train loop call only this table, so one orchestration serves
// both devices and the CPU tests cover it; each CUDA op is held to its CPU
// twin by tests/test_cuda_kernels.c.
//
// Memory: float tensors (parameters, activations, the feature matrix, the
// buffer rows) are backend memory, reachable from the host only through
// upload / download unless `host` is set. Index arrays (gather sources, fills,
// labels) and the blocks are host memory; a device backend stages them.
//
// Errors are sticky, as in CUDA: ops return nothing, the first failure sets
// `failed` with rd_error_set, later ops do nothing until callers check
// rd_backend_check, once per phase (a forward, a backward, a step). A
// backend is not thread-safe; use one per thread.
#ifndef RUDDER_BACKEND_H
#define RUDDER_BACKEND_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "../optim/adam.h"
#include "../ops/real.h"
#include "../sampler/block.h"

#ifdef RD_REAL_DOUBLE
#define rd_backend rd_backend_f64
#define rd_backend_cpu_create rd_backend_cpu_create_f64
#define rd_backend_check rd_backend_check_f64
#define rd_backend_adam_init rd_backend_adam_init_f64
#define rd_backend_adam_free rd_backend_adam_free_f64
#endif

struct rd_gather_src;
struct rd_fill;

typedef struct rd_backend rd_backend;
struct rd_backend {
  const char *name;  // "cpu", "cuda"
  int host;          // tensors are host memory: callers may use them directly
  int failed;        // sticky until rd_backend_check (see above)
  void *ctx;         // the backend's own state

  // ---- Memory. alloc returns zeroed memory, or NULL with `failed` set.
  void *(*alloc)(rd_backend *be, size_t bytes);
  void (*release)(rd_backend *be, void *p);
  void (*upload)(rd_backend *be, void *dst, const void *host_src, size_t bytes);
  // Returns once host_dst holds the bytes (waits for queued work).
  void (*download)(rd_backend *be, void *host_dst, const void *src, size_t bytes);
  void (*copy)(rd_backend *be, void *dst, const void *src, size_t bytes);
  void (*zero)(rd_backend *be, void *dst, size_t bytes);
  // Waits for queued work: a boundary of the step's timed phases.
  void (*sync)(rd_backend *be);
  // The blocks the next block ops read, as ops/aggregate.h reads them; op
  // argument `l` picks blocks[l]. A device backend copies them (and their
  // transposes); the host arrays may change after the call.
  void (*set_blocks)(rd_backend *be, const rd_block *blocks, int n);

  // ---- Dense and elementwise: ops/dense.h, ops/elementwise.h.
  void (*matmul)(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m, int k,
                 int n, int accumulate);
  void (*matmul_tn)(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m, int k,
                    int n, int accumulate);
  void (*matmul_nt)(rd_backend *be, const rd_real *a, const rd_real *b, rd_real *c, int m, int k,
                    int n, int accumulate);
  void (*bias_add)(rd_backend *be, rd_real *y, const rd_real *bias, int n, int d);
  void (*colsum)(rd_backend *be, const rd_real *x, int n, int d, rd_real *out);
  void (*head_mean)(rd_backend *be, const rd_real *x, int n, int heads, int d, rd_real *y);
  void (*head_mean_backward)(rd_backend *be, const rd_real *dy, int n, int heads, int d,
                             rd_real *dx);
  void (*relu)(rd_backend *be, const rd_real *x, rd_real *y, size_t n);
  void (*relu_backward)(rd_backend *be, const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
  void (*elu)(rd_backend *be, const rd_real *x, rd_real *y, size_t n);
  void (*elu_backward)(rd_backend *be, const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
  void (*leaky_relu)(rd_backend *be, const rd_real *x, rd_real *y, size_t n, float slope);
  void (*leaky_relu_backward)(rd_backend *be, const rd_real *x, const rd_real *dy, rd_real *dx,
                              size_t n, float slope);
  void (*dropout)(rd_backend *be, const rd_real *x, rd_real *y, size_t n, float p, uint64_t seed,
                  uint64_t stream);
  void (*scale)(rd_backend *be, rd_real *x, size_t n, float s);
  // The fused pair between two layers (ops/elementwise.h); act is an rd_act.
  void (*bias_act_dropout)(rd_backend *be, rd_real *x, const rd_real *bias, int n, int d, int act,
                           rd_real *y, float p, uint64_t seed, uint64_t stream);
  void (*act_dropout_backward)(rd_backend *be, const rd_real *x, const rd_real *dy, int n, int d,
                               int act, float p, uint64_t seed, uint64_t stream, rd_real *dx,
                               rd_real *dbias);

  // ---- Message passing over blocks[l]: ops/aggregate.h.
  void (*segment_mean)(rd_backend *be, int l, const rd_real *x, int dim, rd_real *y);
  void (*segment_mean_backward)(rd_backend *be, int l, const rd_real *dy, int dim, rd_real *dx);
  void (*gat_attn_scores)(rd_backend *be, const rd_real *z, int n_src, int n_dst, int heads, int f,
                          const rd_real *attn_l, const rd_real *attn_r, rd_real *el, rd_real *er);
  void (*gat_attn_scores_backward)(rd_backend *be, const rd_real *z, int n_src, int n_dst,
                                   int heads, int f, const rd_real *attn_l, const rd_real *attn_r,
                                   const rd_real *del, const rd_real *der, rd_real *dz,
                                   rd_real *dattn_l, rd_real *dattn_r);
  void (*gat_edge_logits)(rd_backend *be, int l, const rd_real *el, const rd_real *er, int heads,
                          rd_real *s);
  void (*gat_edge_logits_backward)(rd_backend *be, int l, const rd_real *ds, int heads,
                                   rd_real *del, rd_real *der);
  void (*edge_softmax)(rd_backend *be, int l, const rd_real *e, int heads, rd_real *alpha);
  void (*edge_softmax_backward)(rd_backend *be, int l, const rd_real *alpha, const rd_real *dalpha,
                                int heads, rd_real *de);
  void (*gat_aggregate)(rd_backend *be, int l, const rd_real *alpha, const rd_real *z, int heads,
                        int f, rd_real *out);
  void (*gat_aggregate_backward)(rd_backend *be, int l, const rd_real *alpha, const rd_real *z,
                                 const rd_real *dout, int heads, int f, rd_real *dalpha,
                                 rd_real *dz);

  // ---- Training: model/loss.h, optim/adam.h, the feature matrix.
  // Returns the mean loss (NAN with `failed` set on a label >= num_classes;
  // NAN alone when the logits are); labels host, *correct (may be NULL) host.
  double (*softmax_xent)(rd_backend *be, const rd_real *logits, const int32_t *labels, int n,
                         int num_classes, rd_real *dlogits, int64_t *correct);
  // a's moments are backend memory (rd_backend_adam_init).
  void (*adam_step)(rd_backend *be, rd_adam *a, rd_real *params, const rd_real *grads);
  // Sum over the ranks of comm, in place (MPI, or NCCL between GPUs).
  void (*allreduce_sum)(rd_backend *be, MPI_Comm comm, rd_real *x, size_t n);
  // cuda/twins.h's rd_gather_rows and rd_fill_rows; src and fill are host.
  void (*gather_rows)(rd_backend *be, const struct rd_gather_src *src, int64_t n, int F,
                      const float *local, const float *buffer, const float *fetched, float *x);
  void (*fill_rows)(rd_backend *be, const struct rd_fill *fill, int64_t n, int F,
                    const float *fetched, float *buffer);

  void (*destroy)(rd_backend *be);
};

// A CPU backend; NULL with rd_error_set when out of memory. be->destroy(be)
// frees it. `staged`: clears `host`, so that callers move every tensor in and
// out as they would to a GPU: the device paths of the trainer, tested on any
// machine against the plain CPU run (tests/test_staged_train.sh).
rd_backend *rd_backend_cpu_create(int staged);

// -1 if an op has failed since the last check (rd_error says which); clears it.
static inline int rd_backend_check(rd_backend *be) {
  const int failed = be->failed;
  be->failed = 0;
  return failed ? -1 : 0;
}

// Backend memory p grown to hold `bytes`, as realloc but without keeping the
// contents: p itself when *cap (bytes) suffices, else a new allocation with a
// quarter's headroom (sampled batch sizes jitter: no regrow per new maximum).
// NULL, p released and `failed` set, when out of memory.
static inline void *rd_backend_reserve(rd_backend *be, void *p, size_t *cap, size_t bytes) {
  if (p && bytes <= *cap) return p;
  be->release(be, p);
  bytes += bytes / 4;
  p = be->alloc(be, bytes);
  *cap = p ? bytes : 0;
  return p;
}

// rd_adam_init with the moments in backend memory; free with rd_backend_adam_free.
int rd_backend_adam_init(rd_backend *be, rd_adam *a, size_t n, float lr);
void rd_backend_adam_free(rd_backend *be, rd_adam *a);

#endif
