// The CPU twins of the CUDA backend (core/backend/twins.c), on every machine:
// the gather and the buffer's row fill against element-by-element loops (and
// rd_scale, ops/elementwise.h, against its definition); the block
// transpose against a brute-force scan, on random blocks (empty rows,
// repeated sources) and on real sampled blocks of `tiny`.
#include <stdlib.h>
#include <string.h>

#include "buffer/buffer.h"
#include "check.h"
#include "random_block.h"
#include "backend/twins.h"
#include "error.h"
#include "generate.h"
#include "ops/elementwise.h"
#include "rng.h"
#include "sampler/sampler.h"

static void check_gather(rd_rng *r, int F) {
  const int64_t n = 500, rows[3] = {40, 30, 20};
  float *tab[3], *x = malloc((size_t)n * F * sizeof *x);
  for (int s = 0; s < 3; s++) {
    tab[s] = malloc((size_t)rows[s] * F * sizeof *tab[s]);
    for (int64_t k = 0; k < rows[s] * F; k++) tab[s][k] = (float)rd_rng_uniform(r);
  }
  rd_gather_src *src = malloc((size_t)n * sizeof *src);
  for (int64_t i = 0; i < n; i++) {
    const int from = (int)rd_rng_below(r, 3);
    src[i] = (rd_gather_src){from, (int32_t)rd_rng_below(r, (uint64_t)rows[from])};
  }
  rd_gather_rows(src, n, F, tab[RD_FROM_LOCAL], tab[RD_FROM_BUFFER], tab[RD_FROM_FETCHED], x);
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < F; c++)
      CHECK(x[i * F + c] == tab[src[i].from][(int64_t)src[i].row * F + c], "gather F=%d row %lld col %d",
            F, (long long)i, c);
  for (int s = 0; s < 3; s++) free(tab[s]);
  free(x);
  free(src);
}

// The fill of fetched rows into distinct buffer slots against an
// element-by-element loop; the other slots keep their rows.
static void check_fill(rd_rng *r, int F) {
  enum { cap = 60, m = 25, n = 20 };
  float *buffer = malloc((size_t)(cap * F) * sizeof *buffer);
  float *want = malloc((size_t)(cap * F) * sizeof *want);
  float *fetched = malloc((size_t)(m * F) * sizeof *fetched);
  for (int64_t k = 0; k < cap * F; k++) buffer[k] = want[k] = (float)rd_rng_uniform(r);
  for (int64_t k = 0; k < m * F; k++) fetched[k] = (float)rd_rng_uniform(r);
  int32_t perm[cap];
  for (int32_t i = 0; i < cap; i++) perm[i] = i;
  struct rd_fill fill[n];
  for (int64_t i = 0; i < n; i++) {
    const int64_t j = i + (int64_t)rd_rng_below(r, (uint64_t)(cap - i));
    const int32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
    fill[i].slot = perm[i];
    fill[i].row = (int32_t)rd_rng_below(r, (uint64_t)m);
  }
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < F; c++) want[(int64_t)fill[i].slot * F + c] = fetched[(int64_t)fill[i].row * F + c];
  rd_fill_rows(fill, n, F, fetched, buffer);
  CHECK(memcmp(buffer, want, (size_t)(cap * F) * sizeof *buffer) == 0, "fill rows F=%d", F);
  rd_fill_rows(fill, 0, F, fetched, buffer);
  CHECK(memcmp(buffer, want, (size_t)(cap * F) * sizeof *buffer) == 0, "fill of no rows F=%d", F);
  free(buffer);
  free(want);
  free(fetched);
}

// rd_scale (the twin of rd_cuda_scale in the float build): x[i] *= s exactly.
static void check_scale(rd_rng *r) {
  enum { n = 1001 };
  float x[n], want[n];
  for (int i = 0; i < n; i++) x[i] = want[i] = (float)(2 * rd_rng_uniform(r) - 1);
  const float s = 0.37f;
  for (int i = 0; i < n; i++) want[i] *= s;
  rd_scale(x, n, s);
  CHECK(memcmp(x, want, sizeof x) == 0, "scale");
}

static void check_transpose(const rd_block *b) {
  int64_t *tindptr = malloc(((size_t)b->num_src + 1) * sizeof *tindptr);
  int64_t *tedge = malloc(((size_t)b->num_edges + 1) * sizeof *tedge);
  int32_t *tdst = malloc(((size_t)b->num_edges + 1) * sizeof *tdst);
  rd_block_transpose(b, tindptr, tedge, tdst);
  CHECK(tindptr[0] == 0 && tindptr[b->num_src] == b->num_edges, "transpose covers every edge");
  for (int32_t u = 0; u < b->num_src; u++) {
    int64_t t = tindptr[u];
    for (int32_t v = 0; v < b->num_dst; v++)
      for (int64_t k = b->indptr[v]; k < b->indptr[v + 1]; k++)
        if (b->indices[k] == u) {
          CHECK(t < tindptr[u + 1] && tedge[t] == k && tdst[t] == v,
                "source %d: edge %lld of destination %d, in edge order", u, (long long)k, v);
          t++;
        }
    CHECK(t == tindptr[u + 1], "source %d: no extra edges", u);
  }
  free(tindptr);
  free(tedge);
  free(tdst);
}


int main(void) {
  rd_rng r = rd_rng_stream(42, 0, 0);
  check_gather(&r, 16);
  check_gather(&r, 13);
  check_fill(&r, 16);
  check_fill(&r, 13);
  check_scale(&r);

  rd_block b = random_block(&r, 50, 120, 12);
  check_transpose(&b);
  free(b.indptr);
  free(b.indices);
  rd_block empty = random_block(&r, 0, 5, 3);
  check_transpose(&empty);
  free(empty.indptr);
  free(empty.indices);

  rd_gen_config cfg;
  rd_graph g;
  CHECK(rd_gen_preset("tiny", &cfg) == 0 && rd_generate(&cfg, &g) == 0, "%s", rd_error());
  const int fan[2] = {5, 3};
  rd_sampler *s = rd_sampler_create(&g, 2, fan, 7);
  rd_node seeds[64];
  for (int i = 0; i < 64; i++) seeds[i] = g.train[i];
  const rd_minibatch *mb = rd_sample(s, seeds, 64, 0, 1);
  for (int l = 0; l < mb->num_layers; l++) check_transpose(&mb->blocks[l]);
  rd_sampler_free(s);
  rd_gen_free(&g);
  printf("cuda twins: gather, fill, scale, transpose OK\n");
  return 0;
}
