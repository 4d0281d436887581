// GAT attention over a block: per-node scores, edge logits, LeakyReLU, edge
// softmax, weighted aggregation, and the backward of each. Per-edge arrays use
// the self-extended slot layout of ops/aggregate.h (heads innermost): slots
// indptr[v]+v .. indptr[v+1]+v of destination v, its block edges then itself.
// Backward passes into source rows gather over the block's transpose, for the
// reason given in sage.cu (no atomics, deterministic sums).
#include <math.h>

#include "common.cuh"
#include "kernels.h"

// Source row of slot j of destination v.
__device__ inline int32_t slot_src(const int64_t *indptr, const int32_t *indices, int64_t v,
                                   int64_t j) {
  return j < indptr[v + 1] + v ? indices[j - v] : (int32_t)v;
}

// One warp per (row, head), lanes across f: el and er share the read of z.
__global__ void attn_scores(const float *__restrict__ z, int n_src, int n_dst, int heads, int f,
                            const float *__restrict__ attn_l, const float *__restrict__ attn_r,
                            float *__restrict__ el, float *__restrict__ er) {
  const int lane = threadIdx.x % 32;
  for (int64_t r = rd_warp_id(); r < (int64_t)n_src * heads; r += rd_num_warps()) {
    const int h = (int)(r % heads);
    const float *zr = z + r * f, *al = attn_l + h * f, *ar = attn_r + h * f;
    float l = 0, rr = 0;
    for (int c = lane; c < f; c += 32) {
      l += zr[c] * al[c];
      rr += zr[c] * ar[c];
    }
    l = rd_warp_sum(l);
    rr = rd_warp_sum(rr);
    if (lane == 0) {
      el[r] = l;
      if (r / heads < n_dst) er[r] = rr;
    }
  }
}

int rd_cuda_gat_attn_scores(const float *z, int n_src, int n_dst, int heads, int f,
                            const float *attn_l, const float *attn_r, float *el, float *er,
                            cudaStream_t stream) {
  if ((int64_t)n_src * heads == 0) return 0;
  RD_LAUNCH(attn_scores, rd_grid((int64_t)n_src * heads, RD_WARPS), RD_THREADS, stream, z, n_src,
            n_dst, heads, f, attn_l, attn_r, el, er);
  return 0;
}

// dz[i,h,c] += del[i,h]·attn_l[h,c] + der[i,h]·attn_r[h,c]: one thread per element.
__global__ void attn_scores_dz(const float *__restrict__ del, const float *__restrict__ der,
                               int n_src, int n_dst, int heads, int f,
                               const float *__restrict__ attn_l, const float *__restrict__ attn_r,
                               float *__restrict__ dz) {
  const int64_t hf = (int64_t)heads * f;
  for (int64_t q = rd_thread_id(); q < n_src * hf; q += rd_num_threads()) {
    const int64_t i = q / hf, hc = q % hf, ih = i * heads + hc / f;
    dz[q] += del[ih] * attn_l[hc] + (i < n_dst ? der[ih] : 0.0f) * attn_r[hc];
  }
}

// out[h,:] = Σ_i d[i,h]·z[i,h,:] over `rows` rows. Head h's slice of z, read
// column-major, is an f × rows matrix with leading dimension heads·f, and d's
// column h a vector of stride heads: one strided-batched GEMV over the heads
// (a deterministic reduction over rows, which a kernel would need two passes for).
static int attn_grad(cublasHandle_t blas, const float *z, int rows, int heads, int f,
                     const float *d, float *out, cudaStream_t stream) {
  if (rows == 0) {  // BLAS leaves y untouched when n = 0; the twin writes zeros
    RD_CUDA(cudaMemsetAsync(out, 0, (size_t)heads * f * sizeof *out, stream));
    return 0;
  }
  const float one = 1, zero = 0;
  RD_CUBLAS(cublasSgemvStridedBatched(blas, CUBLAS_OP_N, f, rows, &one, z, heads * f, f, d, heads, 1,
                                      &zero, out, 1, f, heads));
  return 0;
}

int rd_cuda_gat_attn_scores_backward(cublasHandle_t blas, const float *z, int n_src, int n_dst,
                                     int heads, int f, const float *attn_l, const float *attn_r,
                                     const float *del, const float *der, float *dz,
                                     float *dattn_l, float *dattn_r, cudaStream_t stream) {
  if ((int64_t)heads * f == 0) return 0;
  if (n_src > 0)
    RD_LAUNCH(attn_scores_dz, rd_grid((int64_t)n_src * heads * f, RD_THREADS), RD_THREADS, stream,
              del, der, n_src, n_dst, heads, f, attn_l, attn_r, dz);
  RD_CUBLAS(cublasSetStream(blas, stream));
  if (attn_grad(blas, z, n_src, heads, f, del, dattn_l, stream)) return -1;
  return attn_grad(blas, z, n_dst, heads, f, der, dattn_r, stream);
}

// One warp per destination: its (slot, head) pairs are one contiguous run of
// s, written coalesced.
__global__ void edge_logits(const int64_t *__restrict__ indptr, const int32_t *__restrict__ indices,
                            int num_dst, int heads, const float *__restrict__ el,
                            const float *__restrict__ er, float *__restrict__ s) {
  const int lane = threadIdx.x % 32;
  for (int64_t v = rd_warp_id(); v < num_dst; v += rd_num_warps()) {
    const int64_t lo = (indptr[v] + v) * heads, hi = (indptr[v + 1] + v + 1) * heads;
    for (int64_t q = lo + lane; q < hi; q += 32) {
      const int64_t j = q / heads;
      const int h = (int)(q % heads);
      s[q] = el[(int64_t)slot_src(indptr, indices, v, j) * heads + h] + er[v * heads + h];
    }
  }
}

int rd_cuda_gat_edge_logits(const rd_cuda_block *b, const float *el, const float *er, int heads,
                            float *s, cudaStream_t stream) {
  if (b->num_dst == 0 || heads == 0) return 0;
  RD_LAUNCH(edge_logits, rd_grid(b->num_dst, RD_WARPS), RD_THREADS, stream, b->indptr, b->indices,
            b->num_dst, heads, el, er, s);
  return 0;
}

// der[v,h] = Σ of v's slots: one thread per (v, h).
__global__ void edge_logits_der(const int64_t *__restrict__ indptr, int num_dst, int heads,
                                const float *__restrict__ ds, float *__restrict__ der) {
  for (int64_t q = rd_thread_id(); q < (int64_t)num_dst * heads; q += rd_num_threads()) {
    const int64_t v = q / heads, h = q % heads;
    float sum = 0;
    for (int64_t j = indptr[v] + v; j <= indptr[v + 1] + v; j++) sum += ds[j * heads + h];
    der[q] = sum;
  }
}

// del[u,h] = Σ of the slots reading u: its transposed edges, then its own
// self slot when u is a destination. One thread per (u, h).
__global__ void edge_logits_del(const int64_t *__restrict__ indptr, const int64_t *__restrict__ tindptr,
                                const int64_t *__restrict__ tedge, const int32_t *__restrict__ tdst,
                                int num_src, int num_dst, int heads, const float *__restrict__ ds,
                                float *__restrict__ del) {
  for (int64_t q = rd_thread_id(); q < (int64_t)num_src * heads; q += rd_num_threads()) {
    const int64_t u = q / heads, h = q % heads;
    float sum = 0;
    for (int64_t t = tindptr[u]; t < tindptr[u + 1]; t++) sum += ds[(tedge[t] + tdst[t]) * heads + h];
    if (u < num_dst) sum += ds[(indptr[u + 1] + u) * heads + h];
    del[q] = sum;
  }
}

int rd_cuda_gat_edge_logits_backward(const rd_cuda_block *b, const float *ds, int heads,
                                     float *del, float *der, cudaStream_t stream) {
  if (heads == 0) return 0;
  if (b->num_dst > 0)
    RD_LAUNCH(edge_logits_der, rd_grid((int64_t)b->num_dst * heads, RD_THREADS), RD_THREADS, stream,
              b->indptr, b->num_dst, heads, ds, der);
  if (b->num_src > 0)
    RD_LAUNCH(edge_logits_del, rd_grid((int64_t)b->num_src * heads, RD_THREADS), RD_THREADS, stream,
              b->indptr, b->tindptr, b->tedge, b->tdst, b->num_src, b->num_dst, heads, ds, del);
  return 0;
}

// Elementwise; x and y may alias (no __restrict__).
__global__ void leaky_relu(const float *x, float *y, size_t n, float slope) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads())
    y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

__global__ void leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n,
                                    float slope) {
  for (int64_t i = rd_thread_id(); i < (int64_t)n; i += rd_num_threads())
    dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

int rd_cuda_leaky_relu(const float *x, float *y, size_t n, float slope, cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(leaky_relu, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, y, n, slope);
  return 0;
}

int rd_cuda_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope,
                                cudaStream_t stream) {
  if (n == 0) return 0;
  RD_LAUNCH(leaky_relu_backward, rd_grid((int64_t)n, RD_THREADS), RD_THREADS, stream, x, dy, dx, n,
            slope);
  return 0;
}

// One warp per (destination, head), lanes across its slots: sampled degrees
// are small, but an unsampled layer (fanout -1) can give a hub thousands of
// slots, which a thread per (v, h) would walk alone. Max-shifted, so exp never
// overflows. In place is safe: each lane rereads only the slots it wrote.
__global__ void edge_softmax(const int64_t *__restrict__ indptr, int num_dst, int heads,
                             const float *e, float *alpha) {
  const int lane = threadIdx.x % 32;
  for (int64_t r = rd_warp_id(); r < (int64_t)num_dst * heads; r += rd_num_warps()) {
    const int64_t v = r / heads, h = r % heads, lo = indptr[v] + v, hi = indptr[v + 1] + v;
    float mx = -INFINITY, sum = 0;
    for (int64_t j = lo + lane; j <= hi; j += 32) mx = fmaxf(mx, e[j * heads + h]);
    mx = rd_warp_max(mx);
    for (int64_t j = lo + lane; j <= hi; j += 32) {
      const float a = expf(e[j * heads + h] - mx);
      alpha[j * heads + h] = a;
      sum += a;
    }
    sum = rd_warp_sum(sum);
    for (int64_t j = lo + lane; j <= hi; j += 32) alpha[j * heads + h] /= sum;
  }
}

int rd_cuda_edge_softmax(const rd_cuda_block *b, const float *e, int heads, float *alpha,
                         cudaStream_t stream) {
  if ((int64_t)b->num_dst * heads == 0) return 0;
  RD_LAUNCH(edge_softmax, rd_grid((int64_t)b->num_dst * heads, RD_WARPS), RD_THREADS, stream,
            b->indptr, b->num_dst, heads, e, alpha);
  return 0;
}

// de = alpha ⊙ (dalpha - <alpha, dalpha>) per (destination, head); de may be dalpha.
__global__ void edge_softmax_backward(const int64_t *__restrict__ indptr, int num_dst, int heads,
                                      const float *alpha, const float *dalpha, float *de) {
  const int lane = threadIdx.x % 32;
  for (int64_t r = rd_warp_id(); r < (int64_t)num_dst * heads; r += rd_num_warps()) {
    const int64_t v = r / heads, h = r % heads, lo = indptr[v] + v, hi = indptr[v + 1] + v;
    float dot = 0;
    for (int64_t j = lo + lane; j <= hi; j += 32) dot += alpha[j * heads + h] * dalpha[j * heads + h];
    dot = rd_warp_sum(dot);
    for (int64_t j = lo + lane; j <= hi; j += 32)
      de[j * heads + h] = alpha[j * heads + h] * (dalpha[j * heads + h] - dot);
  }
}

int rd_cuda_edge_softmax_backward(const rd_cuda_block *b, const float *alpha, const float *dalpha,
                                  int heads, float *de, cudaStream_t stream) {
  if ((int64_t)b->num_dst * heads == 0) return 0;
  RD_LAUNCH(edge_softmax_backward, rd_grid((int64_t)b->num_dst * heads, RD_WARPS), RD_THREADS,
            stream, b->indptr, b->num_dst, heads, alpha, dalpha, de);
  return 0;
}

// One warp per destination, lanes across its heads·f output columns: each
// slot's source row is read coalesced, weighted by its head's alpha.
__global__ void gat_aggregate(const int64_t *__restrict__ indptr, const int32_t *__restrict__ indices,
                              int num_dst, int heads, int f, const float *__restrict__ alpha,
                              const float *__restrict__ z, float *__restrict__ out) {
  const int lane = threadIdx.x % 32;
  const int64_t hf = (int64_t)heads * f;
  for (int64_t v = rd_warp_id(); v < num_dst; v += rd_num_warps())
    for (int64_t c = lane; c < hf; c += 32) {
      const int64_t h = c / f;
      float acc = 0;
      for (int64_t j = indptr[v] + v; j <= indptr[v + 1] + v; j++)
        acc += alpha[j * heads + h] * z[slot_src(indptr, indices, v, j) * hf + c];
      out[v * hf + c] = acc;
    }
}

int rd_cuda_gat_aggregate(const rd_cuda_block *b, const float *alpha, const float *z, int heads,
                          int f, float *out, cudaStream_t stream) {
  if (b->num_dst == 0 || (int64_t)heads * f == 0) return 0;
  RD_LAUNCH(gat_aggregate, rd_grid(b->num_dst, RD_WARPS), RD_THREADS, stream, b->indptr, b->indices,
            b->num_dst, heads, f, alpha, z, out);
  return 0;
}

// dalpha[j,h] = <dout[v,h,:], z[src(j),h,:]>: one warp per (destination, head),
// a warp-reduced dot per slot.
__global__ void gat_aggregate_dalpha(const int64_t *__restrict__ indptr,
                                     const int32_t *__restrict__ indices, int num_dst, int heads,
                                     int f, const float *__restrict__ z,
                                     const float *__restrict__ dout, float *__restrict__ dalpha) {
  const int lane = threadIdx.x % 32;
  const int64_t hf = (int64_t)heads * f;
  for (int64_t r = rd_warp_id(); r < (int64_t)num_dst * heads; r += rd_num_warps()) {
    const int64_t v = r / heads, h = r % heads;
    const float *g = dout + v * hf + h * f;
    for (int64_t j = indptr[v] + v; j <= indptr[v + 1] + v; j++) {
      const float *zu = z + slot_src(indptr, indices, v, j) * hf + h * f;
      float dot = 0;
      for (int c = lane; c < f; c += 32) dot += g[c] * zu[c];
      dot = rd_warp_sum(dot);
      if (lane == 0) dalpha[j * heads + h] = dot;
    }
  }
}

// dz[u,:] = Σ over the slots reading u of alpha[j,h]·dout[v,h,:]: one warp per
// source row over its transposed edges, then its self slot.
__global__ void gat_aggregate_dz(const int64_t *__restrict__ indptr, const int64_t *__restrict__ tindptr,
                                 const int64_t *__restrict__ tedge, const int32_t *__restrict__ tdst,
                                 int num_src, int num_dst, int heads, int f,
                                 const float *__restrict__ alpha, const float *__restrict__ dout,
                                 float *__restrict__ dz) {
  const int lane = threadIdx.x % 32;
  const int64_t hf = (int64_t)heads * f;
  for (int64_t u = rd_warp_id(); u < num_src; u += rd_num_warps())
    for (int64_t c = lane; c < hf; c += 32) {
      const int64_t h = c / f;
      float acc = 0;
      for (int64_t t = tindptr[u]; t < tindptr[u + 1]; t++) {
        const int64_t v = tdst[t];
        acc += alpha[(tedge[t] + v) * heads + h] * dout[v * hf + c];
      }
      if (u < num_dst) acc += alpha[(indptr[u + 1] + u) * heads + h] * dout[u * hf + c];
      dz[u * hf + c] = acc;
    }
}

int rd_cuda_gat_aggregate_backward(const rd_cuda_block *b, const float *alpha, const float *z,
                                   const float *dout, int heads, int f, float *dalpha, float *dz,
                                   cudaStream_t stream) {
  if ((int64_t)heads * f == 0) return 0;
  if (b->num_dst > 0)
    RD_LAUNCH(gat_aggregate_dalpha, rd_grid((int64_t)b->num_dst * heads, RD_WARPS), RD_THREADS,
              stream, b->indptr, b->indices, b->num_dst, heads, f, z, dout, dalpha);
  if (b->num_src > 0)
    RD_LAUNCH(gat_aggregate_dz, rd_grid(b->num_src, RD_WARPS), RD_THREADS, stream, b->indptr,
              b->tindptr, b->tedge, b->tdst, b->num_src, b->num_dst, heads, f, alpha, dout, dz);
  return 0;
}
