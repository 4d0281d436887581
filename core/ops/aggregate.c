#include "aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "par.h"

// Source row of slot j of destination v in the self-extended layout.
static inline int32_t slot_src(const rd_block *b, int v, int64_t j) {
  return j < b->indptr[v + 1] + v ? b->indices[j - v] : v;
}

// Rows gathered this many edges ahead are prefetched: the sources of a block
// are scattered over a feature matrix far larger than the caches.
#define AHEAD 6
#define CHUNK 64  // destinations (or sources) per task

static inline void prefetch_row(const rd_real *row, int dim) {
  const char *p = (const char *)row;
  for (size_t o = 0; o < (size_t)dim * sizeof *row; o += 64) __builtin_prefetch(p + o);
}

// Destinations [v0, v1): y[v] = (Σ x[u] in edge order) / deg, as the plain loop.
RD_CLONES static void mean_rows(const int64_t *indptr, const int32_t *indices, int v0, int v1,
                                const rd_real *restrict x, int dim, rd_real *restrict y) {
  const int64_t end = indptr[v1];
  for (int v = v0; v < v1; v++) {
    rd_real *restrict yv = y + (size_t)v * dim;
    const int64_t lo = indptr[v], hi = indptr[v + 1];
    for (int c = 0; c < dim; c++) yv[c] = 0;
    for (int64_t k = lo; k < hi; k++) {
      if (k + AHEAD < end) prefetch_row(x + (size_t)indices[k + AHEAD] * dim, dim);
      const rd_real *restrict xu = x + (size_t)indices[k] * dim;
      for (int c = 0; c < dim; c++) yv[c] += xu[c];
    }
    if (hi > lo) {
      const rd_real deg = (rd_real)(hi - lo);
      for (int c = 0; c < dim; c++) yv[c] /= deg;
    }
  }
}

void rd_segment_mean(const rd_block *b, const rd_real *x, int dim, rd_real *y) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int v0 = 0; v0 < b->num_dst; v0 += CHUNK)
    mean_rows(b->indptr, b->indices, v0, v0 + CHUNK < b->num_dst ? v0 + CHUNK : b->num_dst, x,
              dim, y);
}

// Sources [u0, u1) of the transpose (tptr, tdst): dx[u] = Σ dy[v] / deg(v)
// over u's edges in edge order, from zero: the scatter's sums, gathered.
RD_CLONES static void mean_back_rows(const int64_t *indptr, const int64_t *tptr,
                                     const int32_t *tdst, int u0, int u1,
                                     const rd_real *restrict dy, int dim, rd_real *restrict dx) {
  const int64_t end = tptr[u1];
  for (int u = u0; u < u1; u++) {
    rd_real *restrict o = dx + (size_t)u * dim;
    for (int c = 0; c < dim; c++) o[c] = 0;
    for (int64_t t = tptr[u]; t < tptr[u + 1]; t++) {
      if (t + AHEAD < end) prefetch_row(dy + (size_t)tdst[t + AHEAD] * dim, dim);
      const int32_t v = tdst[t];
      const rd_real w = (rd_real)1 / (rd_real)(indptr[v + 1] - indptr[v]);
      const rd_real *restrict g = dy + (size_t)v * dim;
      for (int c = 0; c < dim; c++) o[c] += w * g[c];
    }
  }
}

// The backward as a scatter, columns split among threads: the fallback when
// the transpose cannot be allocated. Same sums, same order.
static void mean_back_scatter(const rd_block *b, const rd_real *dy, int dim, rd_real *dx) {
  memset(dx, 0, (size_t)b->num_src * dim * sizeof *dx);
#pragma omp parallel
  {
    int c0, c1;
    rd_thread_cols(dim, &c0, &c1);
    for (int v = 0; v < b->num_dst && c0 < c1; v++) {
      int64_t lo = b->indptr[v], hi = b->indptr[v + 1];
      if (hi == lo) continue;
      rd_real w = (rd_real)1 / (rd_real)(hi - lo);
      const rd_real *g = dy + (size_t)v * dim;
      for (int64_t k = lo; k < hi; k++) {
        rd_real *o = dx + (size_t)b->indices[k] * dim;
        for (int c = c0; c < c1; c++) o[c] += w * g[c];
      }
    }
  }
}

void rd_segment_mean_backward(const rd_block *b, const rd_real *dy, int dim, rd_real *dx) {
  // Each source row gathers from the destinations that read it (the block's
  // transpose, ascending destinations), so it is written once, by one
  // thread, with no clearing pass: the rows of dy it reads are few and stay
  // in cache, where a scatter walks the large dx at random.
  int64_t *tptr = malloc(((size_t)b->num_src + 1) * sizeof *tptr);
  int32_t *tdst = malloc(((size_t)b->num_edges + 1) * sizeof *tdst);
  if (!tptr || !tdst) {
    free(tptr);
    free(tdst);
    mean_back_scatter(b, dy, dim, dx);
    return;
  }
  memset(tptr, 0, ((size_t)b->num_src + 1) * sizeof *tptr);
  for (int64_t k = 0; k < b->num_edges; k++) tptr[b->indices[k] + 1]++;
  for (int32_t u = 0; u < b->num_src; u++) tptr[u + 1] += tptr[u];
  for (int32_t v = 0; v < b->num_dst; v++)  // tptr[u] runs as u's cursor, ending at u+1's start
    for (int64_t k = b->indptr[v]; k < b->indptr[v + 1]; k++) tdst[tptr[b->indices[k]]++] = v;
  for (int32_t u = b->num_src; u > 0; u--) tptr[u] = tptr[u - 1];
  tptr[0] = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int u0 = 0; u0 < b->num_src; u0 += CHUNK)
    mean_back_rows(b->indptr, tptr, tdst, u0, u0 + CHUNK < b->num_src ? u0 + CHUNK : b->num_src,
                   dy, dim, dx);
  free(tptr);
  free(tdst);
}

void rd_gat_attn_scores(const rd_real *z, int n_src, int n_dst, int heads, int f,
                        const rd_real *attn_l, const rd_real *attn_r, rd_real *el, rd_real *er) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n_src; i++)
    for (int h = 0; h < heads; h++) {
      const rd_real *zi = z + ((size_t)i * heads + h) * f;
      rd_real l = 0, r = 0;
      for (int c = 0; c < f; c++) {
        l += zi[c] * attn_l[h * f + c];
        r += zi[c] * attn_r[h * f + c];
      }
      el[(size_t)i * heads + h] = l;
      if (i < n_dst) er[(size_t)i * heads + h] = r;
    }
}

// out[h,:] = Σ_i ds[i,h] · z[i,h,:] over rows: a serial pass over z, cheap
// next to the GEMM that produced z, and deterministic.
static void attn_grad(const rd_real *z, int rows, int heads, int f, const rd_real *ds,
                      rd_real *out) {
  memset(out, 0, (size_t)heads * f * sizeof *out);
  for (int i = 0; i < rows; i++)
    for (int h = 0; h < heads; h++) {
      rd_real w = ds[(size_t)i * heads + h];
      const rd_real *zi = z + ((size_t)i * heads + h) * f;
      for (int c = 0; c < f; c++) out[h * f + c] += w * zi[c];
    }
}

void rd_gat_attn_scores_backward(const rd_real *z, int n_src, int n_dst, int heads, int f,
                                 const rd_real *attn_l, const rd_real *attn_r,
                                 const rd_real *del, const rd_real *der, rd_real *dz,
                                 rd_real *dattn_l, rd_real *dattn_r) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n_src; i++)
    for (int h = 0; h < heads; h++) {
      rd_real *dzi = dz + ((size_t)i * heads + h) * f;
      rd_real l = del[(size_t)i * heads + h], r = i < n_dst ? der[(size_t)i * heads + h] : 0;
      for (int c = 0; c < f; c++) dzi[c] += l * attn_l[h * f + c] + r * attn_r[h * f + c];
    }
  attn_grad(z, n_src, heads, f, del, dattn_l);
  attn_grad(z, n_dst, heads, f, der, dattn_r);
}

void rd_gat_edge_logits(const rd_block *b, const rd_real *el, const rd_real *er, int heads,
                        rd_real *s) {
#pragma omp parallel for schedule(static)
  for (int v = 0; v < b->num_dst; v++)
    for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
      const rd_real *l = el + (size_t)slot_src(b, v, j) * heads;
      for (int h = 0; h < heads; h++) s[j * heads + h] = l[h] + er[(size_t)v * heads + h];
    }
}

void rd_gat_edge_logits_backward(const rd_block *b, const rd_real *ds, int heads, rd_real *del,
                                 rd_real *der) {
#pragma omp parallel for schedule(static)
  for (int v = 0; v < b->num_dst; v++)
    for (int h = 0; h < heads; h++) {
      rd_real sum = 0;
      for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) sum += ds[j * heads + h];
      der[(size_t)v * heads + h] = sum;
    }
  memset(del, 0, (size_t)b->num_src * heads * sizeof *del);
#pragma omp parallel
  {
    int c0, c1;
    rd_thread_cols(heads, &c0, &c1);
    for (int v = 0; v < b->num_dst && c0 < c1; v++)
      for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
        rd_real *o = del + (size_t)slot_src(b, v, j) * heads;
        for (int h = c0; h < c1; h++) o[h] += ds[j * heads + h];
      }
  }
}

void rd_edge_softmax(const rd_block *b, const rd_real *e, int heads, rd_real *alpha) {
#pragma omp parallel for schedule(static)
  for (int v = 0; v < b->num_dst; v++) {
    int64_t lo = b->indptr[v] + v, hi = b->indptr[v + 1] + v;
    for (int h = 0; h < heads; h++) {
      rd_real mx = e[lo * heads + h], sum = 0;
      for (int64_t j = lo + 1; j <= hi; j++)
        if (e[j * heads + h] > mx) mx = e[j * heads + h];
      for (int64_t j = lo; j <= hi; j++) {
        alpha[j * heads + h] = rd_exp(e[j * heads + h] - mx);
        sum += alpha[j * heads + h];
      }
      for (int64_t j = lo; j <= hi; j++) alpha[j * heads + h] /= sum;
    }
  }
}

void rd_edge_softmax_backward(const rd_block *b, const rd_real *alpha, const rd_real *dalpha,
                              int heads, rd_real *de) {
#pragma omp parallel for schedule(static)
  for (int v = 0; v < b->num_dst; v++) {
    int64_t lo = b->indptr[v] + v, hi = b->indptr[v + 1] + v;
    for (int h = 0; h < heads; h++) {
      rd_real dot = 0;
      for (int64_t j = lo; j <= hi; j++) dot += alpha[j * heads + h] * dalpha[j * heads + h];
      for (int64_t j = lo; j <= hi; j++)
        de[j * heads + h] = alpha[j * heads + h] * (dalpha[j * heads + h] - dot);
    }
  }
}

// Destinations [v0, v1): out[v] = Σ over v's slots of alpha · z[src].
RD_CLONES static void gat_agg_rows(const rd_block *b, int v0, int v1, const rd_real *alpha,
                                   const rd_real *restrict z, int heads, int f,
                                   rd_real *restrict out) {
  const int hf = heads * f;
  const int64_t end = b->indptr[v1] + v1;
  for (int v = v0; v < v1; v++) {
    rd_real *restrict o = out + (size_t)v * hf;
    for (int c = 0; c < hf; c++) o[c] = 0;
    for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
      if (j + AHEAD < end) {
        // The slot AHEAD on: a block edge of this or a later destination, or a self slot.
        const int64_t k = j + AHEAD;
        int w = v;
        while (k > b->indptr[w + 1] + w) w++;
        prefetch_row(z + (size_t)slot_src(b, w, k) * hf, hf);
      }
      const rd_real *restrict zu = z + (size_t)slot_src(b, v, j) * hf;
      for (int h = 0; h < heads; h++) {
        const rd_real a = alpha[j * heads + h];
        for (int c = h * f; c < (h + 1) * f; c++) o[c] += a * zu[c];
      }
    }
  }
}

void rd_gat_aggregate(const rd_block *b, const rd_real *alpha, const rd_real *z, int heads, int f,
                      rd_real *out) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int v0 = 0; v0 < b->num_dst; v0 += CHUNK)
    gat_agg_rows(b, v0, v0 + CHUNK < b->num_dst ? v0 + CHUNK : b->num_dst, alpha, z, heads, f, out);
}

// Σ_c a[c]·b[c] in LANES interleaved partial sums added pairwise at the end:
// a fixed order, so the same bits from every clone and thread, and one that
// vector units can follow (a single running sum cannot be vectorised without
// changing its rounding).
#define LANES 16
static inline rd_real dot(const rd_real *restrict a, const rd_real *restrict b, int n) {
  rd_real acc[LANES] = {0};
  int c = 0;
  for (; c + LANES <= n; c += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += a[c + k] * b[c + k];
  for (int k = 0; c < n; c++, k++) acc[k] += a[c] * b[c];
  for (int w = LANES / 2; w > 0; w /= 2)
    for (int k = 0; k < w; k++) acc[k] += acc[k + w];
  return acc[0];
}

// Sources [u0, u1) of the slot transpose (tptr; tslot, tdst per entry):
// dalpha[slot, h] = <dout[v,h,:], z[u,h,:]> for each slot reading u, and
// dz[u] = Σ over them of alpha · dout[v], from zero in slot order: one pass,
// z[u] and dz[u] touched once, each dalpha written by one thread.
RD_CLONES static void gat_agg_back_rows(const int64_t *tptr, const int64_t *tslot,
                                        const int32_t *tdst, int u0, int u1,
                                        const rd_real *alpha, const rd_real *restrict z,
                                        const rd_real *restrict dout, int heads, int f,
                                        rd_real *restrict dalpha, rd_real *restrict dz) {
  const int hf = heads * f;
  const int64_t end = tptr[u1];
  for (int u = u0; u < u1; u++) {
    rd_real *restrict o = dz + (size_t)u * hf;
    const rd_real *restrict zu = z + (size_t)u * hf;
    for (int c = 0; c < hf; c++) o[c] = 0;
    for (int64_t t = tptr[u]; t < tptr[u + 1]; t++) {
      if (t + AHEAD < end) prefetch_row(dout + (size_t)tdst[t + AHEAD] * hf, hf);
      const int64_t j = tslot[t];
      const rd_real *restrict g = dout + (size_t)tdst[t] * hf;
      for (int h = 0; h < heads; h++) {
        dalpha[j * heads + h] = dot(g + h * f, zu + h * f, f);
        const rd_real a = alpha[j * heads + h];
        for (int c = h * f; c < (h + 1) * f; c++) o[c] += a * g[c];
      }
    }
  }
}

// The scatter form, columns split among threads: the fallback when the
// transpose cannot be allocated. Same results.
static void gat_agg_back_scatter(const rd_block *b, const rd_real *alpha, const rd_real *z,
                                 const rd_real *dout, int heads, int f, rd_real *dalpha,
                                 rd_real *dz) {
  size_t hf = (size_t)heads * f;
#pragma omp parallel for schedule(static)
  for (int v = 0; v < b->num_dst; v++)
    for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
      const rd_real *zu = z + slot_src(b, v, j) * hf, *g = dout + v * hf;
      for (int h = 0; h < heads; h++) dalpha[j * heads + h] = dot(g + h * f, zu + h * f, f);
    }
  memset(dz, 0, (size_t)b->num_src * hf * sizeof *dz);
#pragma omp parallel
  {
    int c0, c1;
    rd_thread_cols((int)hf, &c0, &c1);
    for (int v = 0; v < b->num_dst && c0 < c1; v++)
      for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
        rd_real *o = dz + slot_src(b, v, j) * hf;
        const rd_real *g = dout + v * hf;
        // Walk this thread's columns one head at a time: one weight per run.
        for (int c = c0; c < c1;) {
          int h = c / f, end = (h + 1) * f < c1 ? (h + 1) * f : c1;
          rd_real a = alpha[j * heads + h];
          for (; c < end; c++) o[c] += a * g[c];
        }
      }
  }
}

void rd_gat_aggregate_backward(const rd_block *b, const rd_real *alpha, const rd_real *z,
                               const rd_real *dout, int heads, int f, rd_real *dalpha,
                               rd_real *dz) {
  const int64_t slots = rd_gat_num_slots(b);
  int64_t *tptr = malloc(((size_t)b->num_src + 1) * sizeof *tptr);
  int64_t *tslot = malloc(((size_t)slots + 1) * sizeof *tslot);
  int32_t *tdst = malloc(((size_t)slots + 1) * sizeof *tdst);
  if (!tptr || !tslot || !tdst) {
    free(tptr), free(tslot), free(tdst);
    gat_agg_back_scatter(b, alpha, z, dout, heads, f, dalpha, dz);
    return;
  }
  // Counting sort of the slots by source; visiting them in slot order keeps
  // each source's list ascending (tptr[u] runs as u's cursor).
  memset(tptr, 0, ((size_t)b->num_src + 1) * sizeof *tptr);
  for (int v = 0; v < b->num_dst; v++)
    for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) tptr[slot_src(b, v, j) + 1]++;
  for (int32_t u = 0; u < b->num_src; u++) tptr[u + 1] += tptr[u];
  for (int v = 0; v < b->num_dst; v++)
    for (int64_t j = b->indptr[v] + v; j <= b->indptr[v + 1] + v; j++) {
      const int64_t t = tptr[slot_src(b, v, j)]++;
      tslot[t] = j;
      tdst[t] = v;
    }
  for (int32_t u = b->num_src; u > 0; u--) tptr[u] = tptr[u - 1];
  tptr[0] = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int u0 = 0; u0 < b->num_src; u0 += CHUNK)
    gat_agg_back_rows(tptr, tslot, tdst, u0, u0 + CHUNK < b->num_src ? u0 + CHUNK : b->num_src,
                      alpha, z, dout, heads, f, dalpha, dz);
  free(tptr), free(tslot), free(tdst);
}
