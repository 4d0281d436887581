#include "backend.h"

#include <nccl.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/device.h"
#include "error.h"
#include "cuda/kernels.h"
#include "model/loss.h"

_Static_assert(sizeof(rd_real) == sizeof(float), "the CUDA backend is float32");

// Device memory grown on demand for host arrays the ops read (gather sources,
// fills, labels): each use has its own, so stream order alone keeps a step's
// copies apart.
typedef struct scratch {
  void *dev;
  size_t cap;
} scratch;

// Where the loss kernel leaves its two results, on the device.
typedef struct xent_result {
  double loss;
  int64_t correct;
} xent_result;

typedef struct cuda {
  cudaStream_t stream;
  cublasHandle_t blas;
  rd_cuda_block blocks[RD_MAX_LAYERS];
  scratch src, fill, labels;
  xent_result *result;      // device
  ncclComm_t nccl;          // NULL: gradients go through `pinned` and MPI
  float *pinned;            // host staging of the MPI path
  size_t pinned_cap;
} cuda;

#define CTX(be) ((cuda *)(be)->ctx)

// Runs one rd_cuda_* call unless an earlier one failed; a failure is kept.
#define RUN(be, call)                           \
  do {                                          \
    if (!(be)->failed && (call)) (be)->failed = 1; \
  } while (0)

static int fail(rd_backend *be, const char *call, cudaError_t e) {
  if (!be->failed) rd_error_set("%s failed: %s (%s)", call, cudaGetErrorString(e), cudaGetErrorName(e));
  be->failed = 1;
  return -1;
}
#define CU(be, call)                                            \
  do {                                                          \
    const cudaError_t e_ = (call);                              \
    if (e_ != cudaSuccess) fail(be, #call, e_);                 \
  } while (0)

// ---- Memory.

static void *cu_alloc(rd_backend *be, size_t bytes) {
  if (be->failed) return NULL;
  if (rd_cuda_check_free(bytes, "a tensor")) {
    be->failed = 1;
    return NULL;
  }
  void *p = NULL;
  // cudaMalloc(0) may return NULL, which reads as failure: never ask for 0.
  const cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
  if (e != cudaSuccess) return fail(be, "cudaMalloc", e), NULL;
  CU(be, cudaMemsetAsync(p, 0, bytes, CTX(be)->stream));
  if (be->failed) {  // NULL with `failed` set, as backend.h promises
    (void)cudaFree(p);
    return NULL;
  }
  return p;
}

static void cu_release(rd_backend *be, void *p) { CU(be, cudaFree(p)); }

static void cu_upload(rd_backend *be, void *dst, const void *src, size_t bytes) {
  if (!be->failed && bytes)
    CU(be, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, CTX(be)->stream));
}

static void cu_download(rd_backend *be, void *dst, const void *src, size_t bytes) {
  if (be->failed || !bytes) return;
  CU(be, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, CTX(be)->stream));
  CU(be, cudaStreamSynchronize(CTX(be)->stream));
}

static void cu_copy(rd_backend *be, void *dst, const void *src, size_t bytes) {
  if (!be->failed && bytes && dst != src)
    CU(be, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, CTX(be)->stream));
}

static void cu_zero(rd_backend *be, void *dst, size_t bytes) {
  if (!be->failed && bytes) CU(be, cudaMemsetAsync(dst, 0, bytes, CTX(be)->stream));
}

static void cu_sync(rd_backend *be) {
  if (!be->failed) CU(be, cudaStreamSynchronize(CTX(be)->stream));
}

// `bytes` of host data on the device, in s (grown as needed); NULL on failure.
static void *stage(rd_backend *be, scratch *s, const void *host, size_t bytes) {
  if (be->failed) return NULL;
  // A regrow's cudaFree waits for the kernels still reading the old copy.
  if (!(s->dev = rd_backend_reserve(be, s->dev, &s->cap, bytes))) return NULL;
  cu_upload(be, s->dev, host, bytes);
  return be->failed ? NULL : s->dev;
}

static void cu_set_blocks(rd_backend *be, const rd_block *blocks, int n) {
  for (int l = 0; l < n; l++) RUN(be, rd_cuda_block_restage(&blocks[l], &CTX(be)->blocks[l], CTX(be)->stream));
}

// ---- Dense and elementwise.

// BLAS rejects a leading dimension of 0 even when the matrix is empty.
static int ld(int cols) { return cols > 0 ? cols : 1; }

static void cu_matmul(rd_backend *be, const float *a, const float *b, float *c, int m, int k,
                      int n, int acc) {
  RUN(be, rd_cuda_gemm(CTX(be)->blas, 0, 0, m, n, k, 1, a, ld(k), b, ld(n), acc ? 1.0f : 0.0f, c,
                       ld(n), CTX(be)->stream));
}
static void cu_matmul_tn(rd_backend *be, const float *a, const float *b, float *c, int m, int k,
                         int n, int acc) {
  RUN(be, rd_cuda_gemm(CTX(be)->blas, 1, 0, m, n, k, 1, a, ld(m), b, ld(n), acc ? 1.0f : 0.0f, c,
                       ld(n), CTX(be)->stream));
}
static void cu_matmul_nt(rd_backend *be, const float *a, const float *b, float *c, int m, int k,
                         int n, int acc) {
  RUN(be, rd_cuda_gemm(CTX(be)->blas, 0, 1, m, n, k, 1, a, ld(k), b, ld(k), acc ? 1.0f : 0.0f, c,
                       ld(n), CTX(be)->stream));
}
static void cu_bias_add(rd_backend *be, float *y, const float *bias, int n, int d) {
  RUN(be, rd_cuda_bias_add(y, bias, n, d, CTX(be)->stream));
}
static void cu_colsum(rd_backend *be, const float *x, int n, int d, float *out) {
  RUN(be, rd_cuda_colsum(x, n, d, out, CTX(be)->stream));
}
static void cu_head_mean(rd_backend *be, const float *x, int n, int heads, int d, float *y) {
  RUN(be, rd_cuda_head_mean(x, n, heads, d, y, CTX(be)->stream));
}
static void cu_head_mean_backward(rd_backend *be, const float *dy, int n, int heads, int d,
                                  float *dx) {
  RUN(be, rd_cuda_head_mean_backward(dy, n, heads, d, dx, CTX(be)->stream));
}
static void cu_relu(rd_backend *be, const float *x, float *y, size_t n) {
  RUN(be, rd_cuda_relu(x, y, n, CTX(be)->stream));
}
static void cu_relu_backward(rd_backend *be, const float *x, const float *dy, float *dx, size_t n) {
  RUN(be, rd_cuda_relu_backward(x, dy, dx, n, CTX(be)->stream));
}
static void cu_elu(rd_backend *be, const float *x, float *y, size_t n) {
  RUN(be, rd_cuda_elu(x, y, n, CTX(be)->stream));
}
static void cu_elu_backward(rd_backend *be, const float *x, const float *dy, float *dx, size_t n) {
  RUN(be, rd_cuda_elu_backward(x, dy, dx, n, CTX(be)->stream));
}
static void cu_leaky_relu(rd_backend *be, const float *x, float *y, size_t n, float slope) {
  RUN(be, rd_cuda_leaky_relu(x, y, n, slope, CTX(be)->stream));
}
static void cu_leaky_relu_backward(rd_backend *be, const float *x, const float *dy, float *dx,
                                   size_t n, float slope) {
  RUN(be, rd_cuda_leaky_relu_backward(x, dy, dx, n, slope, CTX(be)->stream));
}
static void cu_dropout(rd_backend *be, const float *x, float *y, size_t n, float p, uint64_t seed,
                       uint64_t stream) {
  RUN(be, rd_cuda_dropout(x, y, n, p, seed, stream, CTX(be)->stream));
}
static void cu_scale(rd_backend *be, float *x, size_t n, float s) {
  RUN(be, rd_cuda_scale(x, n, s, CTX(be)->stream));
}
static void cu_bias_act_dropout(rd_backend *be, float *x, const float *bias, int n, int d, int act,
                                float *y, float p, uint64_t seed, uint64_t stream) {
  RUN(be, rd_cuda_bias_act_dropout(x, bias, n, d, act, y, p, seed, stream, CTX(be)->stream));
}
static void cu_act_dropout_backward(rd_backend *be, const float *x, const float *dy, int n, int d,
                                    int act, float p, uint64_t seed, uint64_t stream, float *dx,
                                    float *dbias) {
  RUN(be, rd_cuda_act_dropout_backward(x, dy, n, d, act, p, seed, stream, dx, dbias,
                                       CTX(be)->stream));
}

// ---- Message passing.

#define BLK(be, l) (&CTX(be)->blocks[l])

static void cu_segment_mean(rd_backend *be, int l, const float *x, int dim, float *y) {
  RUN(be, rd_cuda_segment_mean(BLK(be, l), x, dim, y, CTX(be)->stream));
}
static void cu_segment_mean_backward(rd_backend *be, int l, const float *dy, int dim, float *dx) {
  RUN(be, rd_cuda_segment_mean_backward(BLK(be, l), dy, dim, dx, CTX(be)->stream));
}
static void cu_gat_attn_scores(rd_backend *be, const float *z, int n_src, int n_dst, int heads,
                               int f, const float *al, const float *ar, float *el, float *er) {
  RUN(be, rd_cuda_gat_attn_scores(z, n_src, n_dst, heads, f, al, ar, el, er, CTX(be)->stream));
}
static void cu_gat_attn_scores_backward(rd_backend *be, const float *z, int n_src, int n_dst,
                                        int heads, int f, const float *al, const float *ar,
                                        const float *del, const float *der, float *dz, float *dal,
                                        float *dar) {
  RUN(be, rd_cuda_gat_attn_scores_backward(CTX(be)->blas, z, n_src, n_dst, heads, f, al, ar, del,
                                           der, dz, dal, dar, CTX(be)->stream));
}
static void cu_gat_edge_logits(rd_backend *be, int l, const float *el, const float *er, int heads,
                               float *s) {
  RUN(be, rd_cuda_gat_edge_logits(BLK(be, l), el, er, heads, s, CTX(be)->stream));
}
static void cu_gat_edge_logits_backward(rd_backend *be, int l, const float *ds, int heads,
                                        float *del, float *der) {
  RUN(be, rd_cuda_gat_edge_logits_backward(BLK(be, l), ds, heads, del, der, CTX(be)->stream));
}
static void cu_edge_softmax(rd_backend *be, int l, const float *e, int heads, float *alpha) {
  RUN(be, rd_cuda_edge_softmax(BLK(be, l), e, heads, alpha, CTX(be)->stream));
}
static void cu_edge_softmax_backward(rd_backend *be, int l, const float *alpha,
                                     const float *dalpha, int heads, float *de) {
  RUN(be, rd_cuda_edge_softmax_backward(BLK(be, l), alpha, dalpha, heads, de, CTX(be)->stream));
}
static void cu_gat_aggregate(rd_backend *be, int l, const float *alpha, const float *z, int heads,
                             int f, float *out) {
  RUN(be, rd_cuda_gat_aggregate(BLK(be, l), alpha, z, heads, f, out, CTX(be)->stream));
}
static void cu_gat_aggregate_backward(rd_backend *be, int l, const float *alpha, const float *z,
                                      const float *dout, int heads, int f, float *dalpha,
                                      float *dz) {
  RUN(be, rd_cuda_gat_aggregate_backward(BLK(be, l), alpha, z, dout, heads, f, dalpha, dz,
                                         CTX(be)->stream));
}

// ---- Training.

static double cu_softmax_xent(rd_backend *be, const float *logits, const int32_t *labels, int n,
                              int num_classes, float *dlogits, int64_t *correct) {
  cuda *c = CTX(be);
  // Checked here, so that a NAN from the kernel only ever means NAN logits.
  if (!be->failed && rd_xent_check_labels(labels, n, num_classes)) be->failed = 1;
  const int32_t *dlabels = stage(be, &c->labels, labels, (size_t)n * sizeof *labels);
  xent_result *d = c->result, r = {NAN, 0};
  RUN(be, rd_cuda_softmax_xent(logits, dlabels, n, num_classes, dlogits, &d->loss, &d->correct,
                               c->stream));
  cu_download(be, &r, d, sizeof r);  // one wait for both
  if (be->failed) return NAN;
  if (correct) *correct = r.correct;
  return r.loss;  // NAN when the logits are: a result, not a failure
}

static void cu_adam_step(rd_backend *be, rd_adam *a, float *params, const float *grads) {
  a->t++;
  RUN(be, rd_cuda_adam_step(params, grads, a->m, a->v, a->n, a->lr, a->beta1, a->beta2, a->eps,
                            a->weight_decay, a->t, CTX(be)->stream));
}

static void cu_allreduce_sum(rd_backend *be, MPI_Comm comm, float *x, size_t n) {
  cuda *c = CTX(be);
  if (be->failed) return;
  if (c->nccl) {
    const ncclResult_t r = ncclAllReduce(x, x, n, ncclFloat, ncclSum, c->nccl, c->stream);
    if (r != ncclSuccess) {
      be->failed = 1;
      rd_error_set("ncclAllReduce of %zu floats failed: %s", n, ncclGetErrorString(r));
    }
    return;
  }
  if (n > c->pinned_cap) {
    CU(be, cudaFreeHost(c->pinned));
    c->pinned = NULL;
    c->pinned_cap = 0;
    CU(be, cudaMallocHost((void **)&c->pinned, n * sizeof *x));
    if (be->failed) return;
    c->pinned_cap = n;
  }
  cu_download(be, c->pinned, x, n * sizeof *x);
  if (be->failed) return;
  MPI_Allreduce(MPI_IN_PLACE, c->pinned, (int)n, MPI_FLOAT, MPI_SUM, comm);
  cu_upload(be, x, c->pinned, n * sizeof *x);
}

static void cu_gather_rows(rd_backend *be, const rd_gather_src *src, int64_t n, int F,
                           const float *local, const float *buffer, const float *fetched,
                           float *x) {
  const rd_gather_src *dsrc = stage(be, &CTX(be)->src, src, (size_t)n * sizeof *src);
  RUN(be, rd_cuda_gather_rows(dsrc, n, F, local, buffer, fetched, x, CTX(be)->stream));
}

static void cu_fill_rows(rd_backend *be, const struct rd_fill *fill, int64_t n, int F,
                         const float *fetched, float *buffer) {
  const struct rd_fill *dfill = stage(be, &CTX(be)->fill, fill, (size_t)n * sizeof *fill);
  RUN(be, rd_cuda_fill_rows(dfill, n, F, fetched, buffer, CTX(be)->stream));
}

static void cu_destroy(rd_backend *be) {
  if (!be) return;
  cuda *c = CTX(be);
  // Teardown reports nothing: the run's outcome is already decided.
  (void)cudaStreamSynchronize(c->stream);
  for (int l = 0; l < RD_MAX_LAYERS; l++) (void)rd_cuda_block_free(&c->blocks[l]);
  (void)cudaFree(c->src.dev);
  (void)cudaFree(c->fill.dev);
  (void)cudaFree(c->labels.dev);
  (void)cudaFree(c->result);
  (void)cudaFreeHost(c->pinned);
  if (c->nccl) (void)ncclCommDestroy(c->nccl);
  if (c->blas) (void)cublasDestroy(c->blas);
  if (c->stream) (void)cudaStreamDestroy(c->stream);
  free(be);
}

// NCCL between the ranks of comm when each rank of every node has a GPU of
// its own (NCCL refuses two ranks on one GPU); otherwise *nccl stays NULL.
// Collective: every rank decides the same.
static int setup_nccl(MPI_Comm comm, int local_size, int devices, ncclComm_t *nccl) {
  const char *env = getenv("RUDDER_NCCL");
  int want = local_size <= devices && !(env && strcmp(env, "0") == 0);
  MPI_Allreduce(MPI_IN_PLACE, &want, 1, MPI_INT, MPI_MIN, comm);
  if (!want) return 0;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // Rank 0's outcome travels with the id: on its failure no rank may enter
  // ncclCommInitRank, which would wait for rank 0 forever.
  struct {
    ncclUniqueId id;
    int r;
  } msg;
  memset(&msg, 0, sizeof msg);
  if (rank == 0) msg.r = (int)ncclGetUniqueId(&msg.id);
  MPI_Bcast(&msg, sizeof msg, MPI_BYTE, 0, comm);
  ncclResult_t r = (ncclResult_t)msg.r;
  if (r == ncclSuccess) r = ncclCommInitRank(nccl, size, msg.id, rank);
  if (r != ncclSuccess)
    return rd_error_set("NCCL setup failed: %s (RUDDER_NCCL=0 sums gradients through MPI instead)",
                        ncclGetErrorString(r));
  return 0;
}

rd_backend *rd_cuda_backend_create(MPI_Comm comm) {
  MPI_Comm node;
  int local_rank, local_size, devices = 0, device;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_size(node, &local_size);
  MPI_Comm_free(&node);
  // Every rank takes part in the collectives below, even one without a GPU.
  int ok = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0 &&
           rd_cuda_select_device(local_rank, &device) == 0;
  if (!ok && devices == 0) rd_error_set("--device cuda: no CUDA device visible");
  struct both {
    rd_backend be;
    cuda state;
  } *b = ok ? calloc(1, sizeof *b) : NULL;
  if (ok && !b) ok = 0, rd_error_set("out of memory for a CUDA backend");
  int all_ok = ok;
  MPI_Allreduce(MPI_IN_PLACE, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  if (!all_ok) {
    if (ok) rd_error_set("another rank could not start its CUDA backend");
    free(b);
    return NULL;
  }
  cuda *c = &b->state;
  b->be = (rd_backend){
      .name = "cuda", .host = 0, .ctx = c,
      .alloc = cu_alloc, .release = cu_release, .upload = cu_upload, .download = cu_download,
      .copy = cu_copy, .zero = cu_zero, .sync = cu_sync, .set_blocks = cu_set_blocks,
      .matmul = cu_matmul, .matmul_tn = cu_matmul_tn, .matmul_nt = cu_matmul_nt,
      .bias_add = cu_bias_add, .colsum = cu_colsum, .head_mean = cu_head_mean,
      .head_mean_backward = cu_head_mean_backward, .relu = cu_relu,
      .relu_backward = cu_relu_backward, .elu = cu_elu, .elu_backward = cu_elu_backward,
      .leaky_relu = cu_leaky_relu, .leaky_relu_backward = cu_leaky_relu_backward,
      .dropout = cu_dropout, .scale = cu_scale, .bias_act_dropout = cu_bias_act_dropout,
      .act_dropout_backward = cu_act_dropout_backward, .segment_mean = cu_segment_mean,
      .segment_mean_backward = cu_segment_mean_backward, .gat_attn_scores = cu_gat_attn_scores,
      .gat_attn_scores_backward = cu_gat_attn_scores_backward,
      .gat_edge_logits = cu_gat_edge_logits,
      .gat_edge_logits_backward = cu_gat_edge_logits_backward, .edge_softmax = cu_edge_softmax,
      .edge_softmax_backward = cu_edge_softmax_backward, .gat_aggregate = cu_gat_aggregate,
      .gat_aggregate_backward = cu_gat_aggregate_backward, .softmax_xent = cu_softmax_xent,
      .adam_step = cu_adam_step, .allreduce_sum = cu_allreduce_sum,
      .gather_rows = cu_gather_rows, .fill_rows = cu_fill_rows, .destroy = cu_destroy};
  rd_backend *be = &b->be;
  CU(be, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
  if (!be->failed && cublasCreate(&c->blas) != CUBLAS_STATUS_SUCCESS) {
    be->failed = 1;
    rd_error_set("cublasCreate failed on GPU %d", device);
  }
  if (!be->failed) c->result = cu_alloc(be, sizeof *c->result);
  // NCCL's setup is collective: every rank joins it, whatever failed above.
  ok = !be->failed;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
  int mine = !be->failed;
  if (ok && setup_nccl(comm, local_size, devices, &c->nccl)) ok = mine = 0;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
  if (!ok) {
    if (mine) rd_error_set("another rank could not start its CUDA backend");
    cu_destroy(be);
    return NULL;
  }
  be->name = c->nccl ? "cuda+nccl" : "cuda";
  return be;
}
