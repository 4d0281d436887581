#include "elementwise.h"

#include <stdlib.h>
#include <string.h>

#include "par.h"

void rd_relu(const rd_real *x, rd_real *y, size_t n) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void rd_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

void rd_elu(const rd_real *x, rd_real *y, size_t n) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : rd_expm1(x[i]);
}

void rd_elu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * rd_exp(x[i]);
}

void rd_leaky_relu(const rd_real *x, rd_real *y, size_t n, rd_real slope) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

void rd_leaky_relu_backward(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n,
                            rd_real slope) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

// ---- Dropout and the fused ops.
//
// The mask of a run of elements that does not cross a multiple of 2^32 needs
// only the low 32 bits of each index: rd_mask_bits with its high half fixed
// (`hi`), which the loops below evaluate in 32-bit vector lanes.

typedef struct mask {
  int on;         // p > 0
  uint32_t klo, khi, thr;
  rd_real scale;  // 1 / (1 - p)
} mask;

static mask mask_of(float p, uint64_t seed, uint64_t stream) {
  mask m = {p > 0, 0, 0, 0, 1};
  if (m.on) {
    const uint64_t key = rd_mask_key(seed, stream);
    m.klo = (uint32_t)key;
    m.khi = (uint32_t)(key >> 32);
    m.thr = rd_mask_threshold((double)p);
    m.scale = (rd_real)(1.0 / (1.0 - (double)p));
  }
  return m;
}

static inline int kept(const mask *m, uint32_t hi, uint32_t i) {
  return rd_hash32(rd_hash32(i ^ m->klo) + hi) >= m->thr;
}

static inline rd_real act_of(int act, rd_real v) {
  return act == RD_ACT_RELU ? (v > 0 ? v : 0) : act == RD_ACT_ELU ? (v > 0 ? v : rd_expm1(v)) : v;
}

// ELU's exponential is a libm call the vector loops cannot absorb: it is
// skipped where the product is known, a zero gradient (half the elements
// under dropout 0.5) times exp(v) in [0, 1] being that zero, sign and all.
static inline rd_real act_grad(int act, rd_real v, rd_real g) {
  return act == RD_ACT_RELU ? (v > 0 ? g : 0)
         : act == RD_ACT_ELU ? (v > 0 || (g == 0 && v == v) ? g : g * rd_exp(v))
                             : g;
}

// Elements [lo, lo + len) of a run whose index high half gives `hi`. The
// bodies are inlined with constant act / drop / sum into the switches of the
// cloned kernels, one vectorised loop per case.
static inline __attribute__((always_inline)) void drop_body(const rd_real *x, rd_real *y, int len,
                                                            const mask *m, uint32_t hi,
                                                            uint32_t lo) {
  for (int c = 0; c < len; c++) y[c] = kept(m, hi, lo + (uint32_t)c) ? x[c] * m->scale : 0;
}

static inline __attribute__((always_inline)) void fwd_body(rd_real *x, const rd_real *bias,
                                                           rd_real *y, int len, int act, int drop,
                                                           const mask *m, uint32_t hi,
                                                           uint32_t lo) {
  for (int c = 0; c < len; c++) {  // a dropped element's activation is never computed
    const rd_real v = x[c] + bias[c];
    x[c] = v;
    y[c] = !drop ? act_of(act, v) : kept(m, hi, lo + (uint32_t)c) ? act_of(act, v) * m->scale : 0;
  }
}

static inline __attribute__((always_inline)) void bwd_body(const rd_real *x, const rd_real *dy,
                                                           rd_real *dx, rd_real *sum, int len,
                                                           int act, int drop, const mask *m,
                                                           uint32_t hi, uint32_t lo) {
  for (int c = 0; c < len; c++) {
    rd_real g = dy[c];
    if (drop) g = kept(m, hi, lo + (uint32_t)c) ? g * m->scale : 0;
    g = act_grad(act, x[c], g);
    dx[c] = g;
    if (sum) sum[c] += g;
  }
}

// ELU in two passes, so that the first vectorises: the masked, scaled
// identity, then libm's exponential only where an element is kept and not
// positive (a kept nonzero v·scale is nonzero: scale >= 1). Each value is the
// same operations as the single pass.
static void elu_fwd_fix(const rd_real *x, rd_real *y, int len, rd_real scale) {
  for (int c = 0; c < len; c++)
    if (!(x[c] > 0) && y[c] != 0) y[c] = rd_expm1(x[c]) * scale;
}
static void elu_bwd_fix(const rd_real *x, rd_real *dx, rd_real *sum, int len) {
  for (int c = 0; c < len; c++) {
    dx[c] = act_grad(RD_ACT_ELU, x[c], dx[c]);
    if (sum) sum[c] += dx[c];
  }
}

RD_CLONES static void drop_kernel(const rd_real *x, rd_real *y, int len, const mask *m,
                                  uint32_t hi, uint32_t lo) {
  const mask mm = *m;
  drop_body(x, y, len, &mm, hi, lo);
}

RD_CLONES static void fwd_kernel(rd_real *restrict x, const rd_real *restrict bias,
                                 rd_real *restrict y, int len, int act, const mask *m,
                                 uint32_t hi, uint32_t lo) {
  const mask mm = *m;
#define FWD(A, D) fwd_body(x, bias, y, len, A, D, &mm, hi, lo)
  switch (act * 2 + mm.on) {
    case RD_ACT_NONE * 2: FWD(RD_ACT_NONE, 0); break;
    case RD_ACT_NONE * 2 + 1: FWD(RD_ACT_NONE, 1); break;
    case RD_ACT_RELU * 2: FWD(RD_ACT_RELU, 0); break;
    case RD_ACT_RELU * 2 + 1: FWD(RD_ACT_RELU, 1); break;
    case RD_ACT_ELU * 2: FWD(RD_ACT_NONE, 0), elu_fwd_fix(x, y, len, 1); break;
    default: FWD(RD_ACT_NONE, 1), elu_fwd_fix(x, y, len, mm.scale); break;
  }
#undef FWD
}

RD_CLONES static void bwd_kernel(const rd_real *x, const rd_real *dy, rd_real *dx, rd_real *sum,
                                 int len, int act, const mask *m, uint32_t hi, uint32_t lo) {
  const mask mm = *m;
#define BWD(A, D) \
  (sum ? bwd_body(x, dy, dx, sum, len, A, D, &mm, hi, lo) \
       : bwd_body(x, dy, dx, NULL, len, A, D, &mm, hi, lo))
  switch (act * 2 + mm.on) {
    case RD_ACT_NONE * 2: BWD(RD_ACT_NONE, 0); break;
    case RD_ACT_NONE * 2 + 1: BWD(RD_ACT_NONE, 1); break;
    case RD_ACT_RELU * 2: BWD(RD_ACT_RELU, 0); break;
    case RD_ACT_RELU * 2 + 1: BWD(RD_ACT_RELU, 1); break;
    case RD_ACT_ELU * 2:
      if (dx != dy) memcpy(dx, dy, (size_t)len * sizeof *dx);
      elu_bwd_fix(x, dx, sum, len);
      break;
    default:
      bwd_body(x, dy, dx, NULL, len, RD_ACT_NONE, 1, &mm, hi, lo);
      elu_bwd_fix(x, dx, sum, len);
      break;
  }
#undef BWD
}

// Elements before the next multiple of 2^32 from flat index i, at most len.
static int run_len(uint64_t i, int len) {
  const uint64_t room = (((i >> 32) + 1) << 32) - i;
  return room < (uint64_t)len ? (int)room : len;
}
static uint32_t hi_of(const mask *m, uint64_t i) {
  return m->khi + (uint32_t)(i >> 32) * 0x9e3779b9u;
}

// The kernels over flat indices [i, i + len), split where the high half changes.
static void drop_seg(const rd_real *x, rd_real *y, int len, const mask *m, uint64_t i) {
  for (int k; len > 0; x += k, y += k, i += (uint64_t)k, len -= k) {
    k = run_len(i, len);
    drop_kernel(x, y, k, m, hi_of(m, i), (uint32_t)i);
  }
}
static void fwd_seg(rd_real *x, const rd_real *bias, rd_real *y, int len, int act, const mask *m,
                    uint64_t i) {
  for (int k; len > 0; x += k, bias += k, y += k, i += (uint64_t)k, len -= k) {
    k = run_len(i, len);
    fwd_kernel(x, bias, y, k, act, m, hi_of(m, i), (uint32_t)i);
  }
}
static void bwd_seg(const rd_real *x, const rd_real *dy, rd_real *dx, rd_real *sum, int len,
                    int act, const mask *m, uint64_t i) {
  for (int k; len > 0; x += k, dy += k, dx += k, sum = sum ? sum + k : NULL, i += (uint64_t)k,
       len -= k) {
    k = run_len(i, len);
    bwd_kernel(x, dy, dx, sum, k, act, m, hi_of(m, i), (uint32_t)i);
  }
}

#define DROP_RUN 4096  // elements per call of the dropout kernel

void rd_dropout(const rd_real *x, rd_real *y, size_t n, float p, uint64_t seed, uint64_t stream) {
  if (p <= 0) {
    if (y != x) memmove(y, x, n * sizeof *y);
    return;
  }
  const mask m = mask_of(p, seed, stream);
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i += DROP_RUN)
    drop_seg(x + i, y + i, (int)(n - i < DROP_RUN ? n - i : DROP_RUN), &m, i);
}

void rd_bias_act_dropout(rd_real *x, const rd_real *bias, int n, int d, rd_act act, rd_real *y,
                         float p, uint64_t seed, uint64_t stream) {
  const mask m = mask_of(p, seed, stream);
#pragma omp parallel for schedule(static) if ((size_t)n * d >= RD_PAR_MIN)
  for (int r = 0; r < n; r++) {
    const size_t o = (size_t)r * d;
    fwd_seg(x + o, bias, y + o, d, act, &m, o);
  }
}

void rd_act_dropout_backward(const rd_real *x, const rd_real *dy, int n, int d, rd_act act,
                             float p, uint64_t seed, uint64_t stream, rd_real *dx,
                             rd_real *dbias) {
  const mask m = mask_of(p, seed, stream);
  const int par = (size_t)n * d >= RD_PAR_MIN;
  if (!dbias) {
#pragma omp parallel for schedule(static) if (par)
    for (int r = 0; r < n; r++) {
      const size_t o = (size_t)r * d;
      bwd_seg(x + o, dy + o, dx + o, NULL, d, act, &m, o);
    }
    return;
  }
  // Columns split over threads, each summed down the rows in order into the
  // thread's own lines (dbias, inside the parameter array, is unaligned).
  memset(dbias, 0, (size_t)d * sizeof *dbias);
#pragma omp parallel if (par)
  {
    int c0, c1;
    rd_thread_cols(d, &c0, &c1);
    rd_real *sum = c1 > c0 ? calloc((size_t)(c1 - c0), sizeof *sum) : NULL;
    for (int r = 0; r < n && sum; r++) {
      const size_t o = (size_t)r * d + (size_t)c0;
      bwd_seg(x + o, dy + o, dx + o, sum, c1 - c0, act, &m, o);
    }
    if (sum) memcpy(dbias + c0, sum, (size_t)(c1 - c0) * sizeof *sum);
    else if (c1 > c0)  // out of memory for a few hundred bytes: the slow way, same sums
      for (int r = 0; r < n; r++) {
        const size_t o = (size_t)r * d + (size_t)c0;
        bwd_seg(x + o, dy + o, dx + o, dbias + c0, c1 - c0, act, &m, o);
      }
    free(sum);
  }
}

void rd_scale(rd_real *x, size_t n, rd_real s) {
#pragma omp parallel for schedule(static) if (n >= RD_PAR_MIN)
  for (size_t i = 0; i < n; i++) x[i] *= s;
}
