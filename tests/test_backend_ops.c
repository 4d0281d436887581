// Every op of the backend table (core/backend/backend.h) on random inputs, on
// one backend against the CPU backend, as llama.cpp's test-backend-ops does.
// The ops and their arguments' shapes come from core/backend/ops.def, so an
// op added there is covered here untouched; an op of the table without a row
// fails the test.
//   test_backend_ops [--device cpu-staged|cuda] [--seed N] [--trials N]
// Run under mpirun (allreduce_sum sums over the ranks). cpu-staged must agree
// bit for bit (the same arithmetic behind the device code paths); cuda within
// each row's tolerance (reasoning in test_cuda_kernels.c). Exits 77 (skip)
// for --device cuda where no GPU is visible.
#include <math.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/twins.h"
#include "check.h"
#include "error.h"
#include "ops/aggregate.h"
#include "random_block.h"
#include "rng.h"
#ifdef RUDDER_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "backend/cuda.h"
#endif

#define TOL 1e-5
enum { MAX_ARGS = 16, MAX_DIMS = 24, NUM_BLOCKS = 3 };

// ---- The rows of ops.def: each op's caller, shapes and argument types.

typedef union arg {
  void *p;
  int i;
  int64_t l;
  size_t z;
  float f;
  uint64_t u;
  MPI_Comm c;
} arg;

#define A_ptr(k) a[k].p
#define A_int(k) a[k].i
#define A_int64_t(k) a[k].l
#define A_size_t(k) a[k].z
#define A_float(k) a[k].f
#define A_uint64_t(k) a[k].u
#define A_MPI_Comm(k) a[k].c
#define ARGS1(t0) A_##t0(0)
#define ARGS2(t0, t1) ARGS1(t0), A_##t1(1)
#define ARGS3(t0, t1, t2) ARGS2(t0, t1), A_##t2(2)
#define ARGS4(t0, t1, t2, t3) ARGS3(t0, t1, t2), A_##t3(3)
#define ARGS5(t0, t1, t2, t3, t4) ARGS4(t0, t1, t2, t3), A_##t4(4)
#define ARGS6(t0, t1, t2, t3, t4, t5) ARGS5(t0, t1, t2, t3, t4), A_##t5(5)
#define ARGS7(t0, t1, t2, t3, t4, t5, t6) ARGS6(t0, t1, t2, t3, t4, t5), A_##t6(6)
#define ARGS8(t0, t1, t2, t3, t4, t5, t6, t7) ARGS7(t0, t1, t2, t3, t4, t5, t6), A_##t7(7)
#define ARGS9(t0, t1, t2, t3, t4, t5, t6, t7, t8) ARGS8(t0, t1, t2, t3, t4, t5, t6, t7), A_##t8(8)
#define ARGS10(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9) \
  ARGS9(t0, t1, t2, t3, t4, t5, t6, t7, t8), A_##t9(9)
#define ARGS11(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10) \
  ARGS10(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9), A_##t10(10)
#define ARGS12(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11) \
  ARGS11(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10), A_##t11(11)
#define ARGS13(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12) \
  ARGS12(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11), A_##t12(12)
#define NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, n, ...) n
#define NARGS(...) NARGS_(__VA_ARGS__, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define RET_void(call) ((call), 0.0)
#define RET_double(call) (call)

#define RD_OP(name, spec, ret, ...)                                  \
  static double call_##name(rd_backend *be, const arg *a) {          \
    return RET_##ret(be->name(be, CAT(ARGS, NARGS(__VA_ARGS__))(__VA_ARGS__))); \
  }
#define RD_HARNESS(name)
#include "backend/ops.def"
#undef RD_OP
#undef RD_HARNESS

typedef struct row {
  const char *name;
  size_t offset;  // of the op in rd_backend
  const char *spec, *types;  // NULL for a harness op
  double (*call)(rd_backend *be, const arg *a);
} row;

#define RD_OP(name, spec, ret, ...) {#name, offsetof(rd_backend, name), spec, #__VA_ARGS__, call_##name},
#define RD_HARNESS(name) {#name, offsetof(rd_backend, name), NULL, NULL, NULL},
static const row rows[] = {
#include "backend/ops.def"
};
#undef RD_OP
#undef RD_HARNESS
enum { NUM_ROWS = sizeof rows / sizeof rows[0] };

// ---- A spec, parsed.

typedef enum {
  K_IN, K_OUT, K_IO, K_INT, K_INT64, K_SIZE, K_BYTES, K_FLOAT, K_PROB, K_SEED, K_FLAG, K_LAYER,
  K_COMM, K_LABELS, K_CORRECT, K_GATHER, K_FILL, K_ADAM, K_ACT
} kind;
static const struct {
  const char *word, *type;  // the kind in a spec, the C type of its argument
} kinds[] = {{"in", "ptr"},     {"out", "ptr"},     {"io", "ptr"},       {"int", "int"},
             {"int64", "int64_t"}, {"size", "size_t"}, {"bytes", "size_t"}, {"float", "float"},
             {"prob", "float"}, {"seed", "uint64_t"}, {"flag", "int"},   {"layer", "int"},
             {"comm", "MPI_Comm"}, {"labels", "ptr"}, {"correct", "ptr"}, {"gather", "ptr"},
             {"fill", "ptr"},   {"adam", "ptr"},    {"act", "int"}};

typedef struct tol {
  int exact;
  char sum[64];  // "~K": K, an expression
  double value;  // "tol X"
} tol;

typedef struct spec_arg {
  kind kind;
  char name[32], size[64];  // size: an expression, in elements
  double scale, lo, hi;     // in: values in (-scale, scale); float: [lo, hi]
  tol tol;
  int inplace;              // index of the arg it may alias, or -1
  char bound[3][32];        // labels, gather, fill: the dims bounding their values
} spec_arg;

typedef struct spec {
  char dim_name[MAX_DIMS][16], dim_lo[MAX_DIMS][64], dim_hi[MAX_DIMS][64];
  int num_dims, num_args, has_ret;
  spec_arg args[MAX_ARGS];
  tol ret;
} spec;

static const char *cur_op;  // for messages
#define SPEC_CHECK(cond, ...) CHECK(cond, "ops.def row %s: " __VA_ARGS__)

// dst (cap bytes) = src; a name too long for its field is a spec error.
static void put(char *dst, size_t cap, const char *src) {
  const size_t n = strlen(src);
  SPEC_CHECK(n < cap, "'%s' is longer than %zu characters", cur_op, src, cap - 1);
  memcpy(dst, src, n + 1);
}

// Next whitespace-separated word of *s into w (empty at the end).
static void word(const char **s, char *w, size_t cap) {
  while (**s == ' ') (*s)++;
  size_t n = 0;
  while (**s && **s != ' ' && n + 1 < cap) w[n++] = *(*s)++;
  w[n] = 0;
}

static void parse_tol(const char **s, tol *t, const char *what) {
  char w[64];
  word(s, w, sizeof w);
  memset(t, 0, sizeof *t);
  if (strcmp(w, "exact") == 0) {
    t->exact = 1;
  } else if (w[0] == '~') {
    put(t->sum, sizeof t->sum, w + 1);
  } else if (strcmp(w, "tol") == 0) {
    word(s, w, sizeof w);
    t->value = strtod(w, NULL);
    SPEC_CHECK(t->value > 0, "%s: 'tol' needs a positive number", cur_op, what);
  } else {
    SPEC_CHECK(0, "%s: '%s' is not a tolerance (exact, ~K or tol X)", cur_op, what, w);
  }
}

static void parse(const char *text, spec *sp) {
  memset(sp, 0, sizeof *sp);
  const char *semi = strchr(text, ';');
  SPEC_CHECK(semi, "no ';' between dims and args", cur_op);
  for (const char *s = text; s < semi;) {  // dims: name=lo..hi
    char w[160];
    size_t n = 0;
    while (s < semi && *s == ' ') s++;
    while (s < semi && *s != ' ' && n + 1 < sizeof w) w[n++] = *s++;
    w[n] = 0;
    if (!n) break;
    char *eq = strchr(w, '='), *dots = strstr(w, "..");
    SPEC_CHECK(eq && dots && dots > eq && sp->num_dims < MAX_DIMS, "dim '%s' is not name=lo..hi",
               cur_op, w);
    const int d = sp->num_dims++;
    *eq = *dots = 0;
    put(sp->dim_name[d], sizeof sp->dim_name[d], w);
    put(sp->dim_lo[d], sizeof sp->dim_lo[d], eq + 1);
    put(sp->dim_hi[d], sizeof sp->dim_hi[d], dots + 2);
  }
  char item[256];
  for (const char *s = semi + 1; *s;) {
    size_t n = 0;
    while (*s && *s != ',' && n + 1 < sizeof item) item[n++] = *s++;
    item[n] = 0;
    if (*s == ',') s++;
    const char *p = item;
    char w[64];
    word(&p, w, sizeof w);
    if (strcmp(w, "->") == 0) {
      sp->has_ret = 1;
      parse_tol(&p, &sp->ret, "return");
      continue;
    }
    SPEC_CHECK(sp->num_args < MAX_ARGS, "more than %d args", cur_op, MAX_ARGS);
    spec_arg *a = &sp->args[sp->num_args++];
    a->inplace = -1;
    a->scale = 1;
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].word, w) != 0) k++;
    SPEC_CHECK(k < sizeof kinds / sizeof kinds[0], "'%s' is not an argument kind", cur_op, w);
    a->kind = (kind)k;
    switch (a->kind) {
      case K_IN: case K_OUT: case K_IO: case K_LABELS: case K_GATHER: case K_FILL: case K_ADAM: {
        word(&p, w, sizeof w);  // name[size] (in: optionally *scale)
        char *br = strchr(w, '['), *end = strrchr(w, ']');
        SPEC_CHECK(br && end && end > br, "'%s' is not name[size]", cur_op, w);
        *br = *end = 0;
        put(a->name, sizeof a->name, w);
        put(a->size, sizeof a->size, br + 1);
        if (end[1] == '*') a->scale = strtod(end + 2, NULL);
        if (a->kind == K_OUT || a->kind == K_IO) {
          parse_tol(&p, &a->tol, a->name);
          word(&p, w, sizeof w);
          if (strcmp(w, "inplace") == 0) {
            word(&p, w, sizeof w);
            for (int j = 0; j < sp->num_args - 1; j++)
              if (strcmp(sp->args[j].name, w) == 0) a->inplace = j;
            SPEC_CHECK(a->inplace >= 0, "inplace '%s': no earlier tensor of that name", cur_op, w);
          }
        }
        if (a->kind == K_LABELS || a->kind == K_GATHER || a->kind == K_FILL) {
          word(&p, w, sizeof w);
          SPEC_CHECK(strcmp(w, "<") == 0, "%s: '<' and its bounds expected", cur_op, a->name);
          const int nb = a->kind == K_LABELS ? 1 : a->kind == K_FILL ? 2 : 3;
          for (int b = 0; b < nb; b++) word(&p, a->bound[b], sizeof a->bound[b]);
          SPEC_CHECK(a->bound[nb - 1][0], "%s: %d bounds expected", cur_op, a->name, nb);
        }
        break;
      }
      case K_INT: case K_INT64: case K_SIZE: case K_BYTES:
        word(&p, a->size, sizeof a->size);
        SPEC_CHECK(a->size[0], "%s needs a value", cur_op, w);
        put(a->name, sizeof a->name, a->size);
        break;
      case K_FLOAT: {
        word(&p, w, sizeof w);
        char *dots = strstr(w, "..");
        SPEC_CHECK(dots, "float needs lo..hi", cur_op);
        a->lo = strtod(w, NULL);
        a->hi = strtod(dots + 2, NULL);
        break;
      }
      default: put(a->name, sizeof a->name, w);
    }
  }
}

// ---- Dims and their expressions: numbers, dims, + - * and parentheses.

typedef struct env {
  const char *name[MAX_DIMS + 8];
  int64_t value[MAX_DIMS + 8];
  int n;
} env;

static void bind(env *e, const char *name, int64_t v) {
  for (int i = 0; i < e->n; i++)
    if (strcmp(e->name[i], name) == 0) {
      e->value[i] = v;
      return;
    }
  e->name[e->n] = name;
  e->value[e->n++] = v;
}

static int64_t expr(const env *e, const char **s);
static int64_t factor(const env *e, const char **s) {
  while (**s == ' ') (*s)++;
  if (**s == '(') {
    (*s)++;
    const int64_t v = expr(e, s);
    SPEC_CHECK(**s == ')', "')' expected at '%s'", cur_op, *s);
    (*s)++;
    return v;
  }
  if (**s >= '0' && **s <= '9') return strtoll(*s, (char **)s, 10);
  char id[16];
  size_t n = 0;
  while ((**s >= 'a' && **s <= 'z') || (**s >= '0' && **s <= '9') || **s == '_')
    if (n + 1 < sizeof id) id[n++] = *(*s)++;
    else (*s)++;
  id[n] = 0;
  for (int i = 0; i < e->n; i++)
    if (strcmp(e->name[i], id) == 0) return e->value[i];
  SPEC_CHECK(0, "'%s' is not a dim (declare it before ';', or a block dim)", cur_op, id);
  return 0;
}
static int64_t term(const env *e, const char **s) {
  int64_t v = factor(e, s);
  while (**s == '*') (*s)++, v *= factor(e, s);
  return v;
}
static int64_t expr(const env *e, const char **s) {
  int64_t v = term(e, s);
  for (;;) {
    while (**s == ' ') (*s)++;
    if (**s == '+') (*s)++, v += term(e, s);
    else if (**s == '-') (*s)++, v -= term(e, s);
    else return v;
  }
}
static int64_t eval(const env *e, const char *text) {
  const char *s = text;
  const int64_t v = expr(e, &s);
  SPEC_CHECK(*s == 0, "trailing '%s' in '%s'", cur_op, s, text);
  return v;
}

// ---- Blocks: three random ones (a large one, a small one, one without
// destinations), so that block ops see empty rows, repeated sources and
// empty blocks.

static rd_block blocks[NUM_BLOCKS];
static int64_t block_maxin[NUM_BLOCKS], block_maxout[NUM_BLOCKS];

static void make_blocks(uint64_t seed) {
  rd_rng r = rd_rng_stream(seed, 7, 0);
  const int shape[NUM_BLOCKS][3] = {{700, 2000, 30}, {50, 120, 12}, {0, 5, 3}};
  for (int l = 0; l < NUM_BLOCKS; l++) {
    rd_block *b = &blocks[l];
    *b = random_block(&r, shape[l][0], shape[l][1], shape[l][2]);
    int64_t *count = calloc((size_t)b->num_src + 1, sizeof *count);
    for (int32_t v = 0; v < b->num_dst; v++)
      if (b->indptr[v + 1] - b->indptr[v] > block_maxin[l]) block_maxin[l] = b->indptr[v + 1] - b->indptr[v];
    for (int64_t k = 0; k < b->num_edges; k++)
      if (++count[b->indices[k]] > block_maxout[l]) block_maxout[l] = count[b->indices[k]];
    free(count);
  }
}

// ---- One trial of one op: host inputs shared by both backends, each
// backend's outputs.

typedef struct trial {
  env dims;
  int layer;
  size_t count[MAX_ARGS];  // elements of each tensor / host array
  float *data[MAX_ARGS];   // in / io: the inputs; out: NaN (every element must be written)
  void *host[MAX_ARGS];    // labels, gather, fill
  arg scalar[MAX_ARGS];
  float *adam_m, *adam_v;  // the moments before the step
  int64_t adam_t;
} trial;

typedef struct result {
  float *out[MAX_ARGS];  // out / io tensors after the op
  float *adam_m, *adam_v;
  int64_t correct;
  double ret;
} result;

static float *rand_floats(rd_rng *r, size_t n, double scale) {
  float *x = malloc(n * sizeof *x + sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (float)((2 * rd_rng_uniform(r) - 1) * scale);
  return x;
}

static int is_tensor(kind k) { return k == K_IN || k == K_OUT || k == K_IO; }

static void setup(const spec *sp, int t, int ranks, uint64_t seed, int row_index, int rank, trial *tr) {
  memset(tr, 0, sizeof *tr);
  rd_rng sizes = rd_rng_stream(seed, 1000 + (uint64_t)row_index, (uint64_t)t);
  rd_rng values = rd_rng_stream(seed, 2000 + (uint64_t)row_index, (uint64_t)t * 64 + (uint64_t)rank);
  tr->layer = t % NUM_BLOCKS;
  const rd_block *b = &blocks[tr->layer];
  bind(&tr->dims, "src", b->num_src);
  bind(&tr->dims, "dst", b->num_dst);
  bind(&tr->dims, "edges", b->num_edges);
  bind(&tr->dims, "slots", rd_gat_num_slots(b));
  bind(&tr->dims, "maxin", block_maxin[tr->layer]);
  bind(&tr->dims, "maxout", block_maxout[tr->layer]);
  bind(&tr->dims, "ranks", ranks);
  // Trial 0: every dim at its low end; 1: at its high end; then random.
  for (int d = 0; d < sp->num_dims; d++) {
    const int64_t lo = eval(&tr->dims, sp->dim_lo[d]), hi = eval(&tr->dims, sp->dim_hi[d]);
    SPEC_CHECK(lo <= hi, "dim %s: %lld..%lld is empty", cur_op, sp->dim_name[d], (long long)lo,
               (long long)hi);
    const int64_t v = t == 0 ? lo : t == 1 ? hi : lo + (int64_t)rd_rng_below(&sizes, (uint64_t)(hi - lo + 1));
    bind(&tr->dims, sp->dim_name[d], v);
  }
  for (int k = 0; k < sp->num_args; k++) {
    const spec_arg *a = &sp->args[k];
    arg *s = &tr->scalar[k];
    if (a->size[0]) {
      const int64_t v = eval(&tr->dims, a->size);
      SPEC_CHECK(v >= 0, "%s: size %lld", cur_op, a->name, (long long)v);
      tr->count[k] = (size_t)v;
    }
    const size_t n = tr->count[k];
    switch (a->kind) {
      case K_IN: case K_IO: tr->data[k] = rand_floats(&values, n, a->scale); break;
      case K_OUT:
        tr->data[k] = malloc(n * sizeof(float) + sizeof(float));
        memset(tr->data[k], 0xff, n * sizeof(float));
        break;
      case K_INT: s->i = (int)n; break;
      case K_INT64: s->l = (int64_t)n; break;
      case K_SIZE: s->z = n; break;
      case K_BYTES: s->z = n * sizeof(float); break;
      case K_FLOAT: s->f = (float)(a->lo + (a->hi - a->lo) * rd_rng_uniform(&values)); break;
      case K_PROB: s->f = (const float[]){0.5f, 0.0f, 0.3f, 0.0f}[t % 4]; break;
      case K_ACT: s->i = (t + 1) % 3; break;  // rd_act: ReLU, ELU, none (each with and without dropout)
      case K_SEED: s->u = rd_rng_next(&sizes); break;  // the same on every rank
      case K_FLAG: s->i = t % 2; break;
      case K_LAYER: s->i = tr->layer; break;
      case K_COMM: s->c = MPI_COMM_WORLD; break;
      case K_LABELS: {
        const int64_t c = eval(&tr->dims, a->bound[0]);
        int32_t *y = malloc(n * sizeof *y + sizeof *y);
        for (size_t i = 0; i < n; i++) y[i] = (int32_t)rd_rng_below(&values, (uint64_t)c + 1) - 1;
        tr->host[k] = y;
        break;
      }
      case K_CORRECT: break;
      case K_GATHER: {
        int64_t rows[3];
        for (int j = 0; j < 3; j++) rows[j] = eval(&tr->dims, a->bound[j]);
        rd_gather_src *src = malloc(n * sizeof *src + sizeof *src);
        for (size_t i = 0; i < n; i++) {
          const int from = (int)rd_rng_below(&values, 3);
          src[i] = (rd_gather_src){from, (int32_t)rd_rng_below(&values, (uint64_t)rows[from])};
        }
        tr->host[k] = src;
        break;
      }
      case K_FILL: {
        const int64_t cap = eval(&tr->dims, a->bound[0]), rows = eval(&tr->dims, a->bound[1]);
        SPEC_CHECK((int64_t)n <= cap, "fill %s: %zu distinct slots of %lld", cur_op, a->name, n,
                   (long long)cap);
        int32_t *perm = malloc((size_t)cap * sizeof *perm);
        for (int64_t i = 0; i < cap; i++) perm[i] = (int32_t)i;
        struct rd_fill *fill = malloc(n * sizeof *fill + sizeof *fill);
        for (size_t i = 0; i < n; i++) {
          const size_t j = i + (size_t)rd_rng_below(&values, (uint64_t)cap - i);
          const int32_t x = perm[i];
          perm[i] = perm[j];
          perm[j] = x;
          fill[i].slot = perm[i];
          fill[i].row = (int32_t)rd_rng_below(&values, (uint64_t)rows);
        }
        free(perm);
        tr->host[k] = fill;
        break;
      }
      case K_ADAM:
        tr->adam_m = rand_floats(&values, n, 0.1);
        tr->adam_v = rand_floats(&values, n, 0.01);
        for (size_t i = 0; i < n; i++) tr->adam_v[i] = fabsf(tr->adam_v[i]);  // a second moment
        tr->adam_t = t + 1;
        break;
    }
  }
}

static void trial_free(const spec *sp, trial *tr) {
  for (int k = 0; k < sp->num_args; k++) {
    free(tr->data[k]);
    free(tr->host[k]);
  }
  free(tr->adam_m);
  free(tr->adam_v);
}

static void ok(rd_backend *be, const char *what) {
  CHECK(rd_backend_check(be) == 0, "%s on %s, %s: %s", cur_op, be->name, what, rd_error());
}

static float *fetch(rd_backend *be, const void *p, size_t n) {
  float *h = malloc(n * sizeof *h + sizeof *h);
  be->download(be, h, p, n * sizeof *h);
  return h;
}

// The op once on be; `alias` >= 0: that out / io arg shares its inplace arg's memory.
static void run(rd_backend *be, const row *rw, const spec *sp, const trial *tr, int alias, result *res) {
  memset(res, 0, sizeof *res);
  arg a[MAX_ARGS];
  void *mem[MAX_ARGS] = {0};
  rd_adam adam = {0};
  int adam_arg = -1;
  be->set_blocks(be, blocks, NUM_BLOCKS);
  for (int k = 0; k < sp->num_args; k++) {
    const spec_arg *s = &sp->args[k];
    a[k] = tr->scalar[k];
    if (is_tensor(s->kind)) {
      const size_t bytes = tr->count[k] * sizeof(float);
      mem[k] = be->alloc(be, bytes);
      ok(be, "alloc");
      be->upload(be, mem[k], tr->data[k], bytes);
      a[k].p = mem[k];
    } else if (s->kind == K_LABELS || s->kind == K_GATHER || s->kind == K_FILL) {
      a[k].p = tr->host[k];
    } else if (s->kind == K_CORRECT) {
      a[k].p = &res->correct;
    } else if (s->kind == K_ADAM) {
      const size_t n = tr->count[k];
      CHECK(rd_backend_adam_init(be, &adam, n, 1e-3f) == 0, "%s: adam init: %s", cur_op, rd_error());
      adam.weight_decay = 0.01f;
      adam.t = tr->adam_t;
      be->upload(be, adam.m, tr->adam_m, n * sizeof(float));
      be->upload(be, adam.v, tr->adam_v, n * sizeof(float));
      a[k].p = &adam;
      adam_arg = k;
    }
  }
  if (alias >= 0) a[alias].p = a[sp->args[alias].inplace].p;
  ok(be, "uploads");
  res->ret = rw->call(be, a);
  be->sync(be);
  ok(be, "the op");
  for (int k = 0; k < sp->num_args; k++)
    if (sp->args[k].kind == K_OUT || sp->args[k].kind == K_IO) res->out[k] = fetch(be, a[k].p, tr->count[k]);
  if (adam_arg >= 0) {
    res->adam_m = fetch(be, adam.m, tr->count[adam_arg]);
    res->adam_v = fetch(be, adam.v, tr->count[adam_arg]);
    rd_backend_adam_free(be, &adam);
  }
  for (int k = 0; k < sp->num_args; k++)
    if (mem[k]) be->release(be, mem[k]);
  ok(be, "downloads");
}

static void result_free(result *r) {
  for (int k = 0; k < MAX_ARGS; k++) free(r->out[k]);
  free(r->adam_m);
  free(r->adam_v);
}

// The worst error of one output over the trials, for the report.
typedef struct worst {
  char what[48];
  double err, ratio;  // largest |error| / (1 + |cpu|), and its largest share of the tolerance
  int exact;
} worst;

static double tolerance(const tol *t, const env *dims) {
  if (t->value > 0) return t->value;
  const int64_t k = eval(dims, t->sum);
  return TOL * sqrt(k > 1 ? (double)k : 1.0);
}

// want: the CPU backend's; got: the backend's under test. exact: bit for bit
// (NaN agreeing with NaN), else the tolerance.
static void compare(const char *what, const float *got, const float *want, size_t n, int exact,
                    const tol *t, const env *dims, int trial_no, worst *w) {
  if (!w->what[0]) put(w->what, sizeof w->what, what);
  // Outputs start as NaN and every op is finite on these inputs: a NaN left
  // by the CPU op is an element it did not write (or an `io` spelt `out`).
  for (size_t i = 0; i < n; i++)
    CHECK(!isnan(want[i]), "%s: %s trial %d: the cpu op left element %zu of %zu NaN", cur_op, what,
          trial_no, i, n);
  if (exact || t->exact) {
    for (size_t i = 0; i < n; i++)
      CHECK(memcmp(&got[i], &want[i], sizeof *got) == 0,
            "%s: %s trial %d: element %zu of %zu: %.9g, cpu %.9g (must be identical)", cur_op,
            what, trial_no, i, n, got[i], want[i]);
    w->exact = 1;
    return;
  }
  const double tl = tolerance(t, dims);
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]) && isnan(want[i])) continue;
    const double e = fabs((double)got[i] - (double)want[i]) / (1 + fabs((double)want[i]));
    CHECK(e <= tl, "%s: %s trial %d: element %zu of %zu: %.9g, cpu %.9g (error %.3g > tolerance %.3g)",
          cur_op, what, trial_no, i, n, got[i], want[i], e, tl);
    if (e > w->err) w->err = e;
    if (e / tl > w->ratio) w->ratio = e / tl;
  }
}

static int check_row(int index, rd_backend *cpu, rd_backend *dev, int exact, int trials,
                     uint64_t seed, int rank, int ranks) {
  const row *rw = &rows[index];
  cur_op = rw->name;
  spec sp;
  parse(rw->spec, &sp);
  // The C types of the call (checked by the compiler against the table)
  // against the kinds of the spec.
  char want_types[256] = "", types[256] = "";
  for (int k = 0; k < sp.num_args; k++)
    snprintf(want_types + strlen(want_types), sizeof want_types - strlen(want_types), "%s%s",
             k ? "," : "", kinds[sp.args[k].kind].type);
  for (size_t i = 0, n = 0; rw->types[i]; i++)
    if (rw->types[i] != ' ' && n + 1 < sizeof types) types[n++] = rw->types[i];
  SPEC_CHECK(strcmp(types, want_types) == 0, "the args' kinds say %s, the call's types %s", cur_op,
             want_types, types);
  worst w[MAX_ARGS + 3];
  memset(w, 0, sizeof w);
  int inplace_runs = 0;
  for (int t = 0; t < trials; t++) {
    trial tr;
    setup(&sp, t, ranks, seed, index, rank, &tr);
    result want, got;
    run(cpu, rw, &sp, &tr, -1, &want);
    run(dev, rw, &sp, &tr, -1, &got);
    char what[64];
    for (int k = 0; k < sp.num_args; k++) {
      const spec_arg *a = &sp.args[k];
      if (a->kind == K_OUT || a->kind == K_IO)
        compare(a->name, got.out[k], want.out[k], tr.count[k], exact, &a->tol, &tr.dims, t, &w[k]);
      if (a->kind == K_CORRECT)
        CHECK(got.correct == want.correct, "%s trial %d: correct %lld, cpu %lld", cur_op, t,
              (long long)got.correct, (long long)want.correct);
      if (a->kind == K_ADAM) {
        const tol one = {.sum = "1"};
        snprintf(what, sizeof what, "%s.m", a->name);
        compare(what, got.adam_m, want.adam_m, tr.count[k], exact, &one, &tr.dims, t, &w[MAX_ARGS]);
        snprintf(what, sizeof what, "%s.v", a->name);
        compare(what, got.adam_v, want.adam_v, tr.count[k], exact, &one, &tr.dims, t, &w[MAX_ARGS + 1]);
      }
    }
    if (sp.has_ret) {
      const double g = got.ret, c = want.ret;
      const double tl = sp.ret.value > 0 ? sp.ret.value : tolerance(&sp.ret, &tr.dims);
      CHECK((isnan(g) && isnan(c)) || (exact ? g == c : fabs(g - c) <= tl * (1 + fabs(c))),
            "%s trial %d: returns %.17g, cpu %.17g", cur_op, t, g, c);
      snprintf(w[MAX_ARGS + 2].what, sizeof w[0].what, "(returned)");
      const double e = fabs(g - c) / (1 + fabs(c));
      if (!isnan(e) && e > w[MAX_ARGS + 2].err) w[MAX_ARGS + 2].err = e, w[MAX_ARGS + 2].ratio = e / tl;
      w[MAX_ARGS + 2].exact = exact;
    }
    // In place: the aliased run must equal the CPU's out-of-place result.
    for (int k = 0; k < sp.num_args; k++) {
      if (sp.args[k].inplace < 0) continue;
      result in;
      run(dev, rw, &sp, &tr, k, &in);
      snprintf(what, sizeof what, "%s (in place)", sp.args[k].name);
      compare(what, in.out[k], want.out[k], tr.count[k], exact, &sp.args[k].tol, &tr.dims, t, &w[k]);
      result_free(&in);
      inplace_runs++;
    }
    result_free(&want);
    result_free(&got);
    trial_free(&sp, &tr);
  }
  if (rank == 0)
    for (int k = 0; k < MAX_ARGS + 3; k++) {
      if (!w[k].what[0]) continue;
      if (w[k].exact)
        printf("  %-26s %-16s identical\n", rw->name, w[k].what);
      else
        printf("  %-26s %-16s max error %.2e, %.3f of its tolerance\n", rw->name, w[k].what, w[k].err,
               w[k].ratio);
    }
  return inplace_runs;
}

// Every op of the table has exactly one row: its slots (function pointers,
// from `alloc` to the end of rd_backend) against the rows' offsets.
static void check_coverage(const rd_backend *be) {
  typedef void (*fn)(void);
  const size_t first = offsetof(rd_backend, alloc), slots = (sizeof(rd_backend) - first) / sizeof(fn);
  for (size_t s = 0; s < slots; s++) {
    const size_t off = first + s * sizeof(fn);
    int n = 0;
    const char *name = NULL, *before = "the first";
    for (int i = 0; i < NUM_ROWS; i++) {
      if (rows[i].offset == off) n++, name = rows[i].name;
      if (s && rows[i].offset == off - sizeof(fn)) before = rows[i].name;
    }
    CHECK(n == 1, "rd_backend's op %zu of %zu (after %s) has %d rows in core/backend/ops.def, "
                  "which needs one row per op", s + 1, slots, before, n);
    fn f;
    memcpy(&f, (const char *)be + off, sizeof f);
    CHECK(f != NULL, "backend %s has no %s", be->name, name);
  }
  CHECK(NUM_ROWS == (int)slots, "ops.def has %d rows for %zu ops", NUM_ROWS, slots);
}

int main(int argc, char **argv) {
  const char *device = "cpu-staged";
  uint64_t seed = 1;
  int trials = 6;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: mpirun -np R test_backend_ops [--device cpu-staged|cuda] [--seed N] [--trials N]\n"
             "Runs every op of core/backend/ops.def on random inputs on the device's backend and on\n"
             "the CPU backend, and compares. Exit 77: --device cuda without a visible GPU.\n");
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--device") == 0) device = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) seed = strtoull(argv[++i], NULL, 10);
    else if (i + 1 < argc && strcmp(argv[i], "--trials") == 0) trials = atoi(argv[++i]);
    else {
      fprintf(stderr, "test_backend_ops: unknown argument '%s' (--help)\n", argv[i]);
      return 2;
    }
  }
  if (trials < 1) {
    fprintf(stderr, "test_backend_ops: --trials must be at least 1\n");
    return 2;
  }
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  rd_backend *cpu = rd_backend_cpu_create(0), *dev = NULL;
  CHECK(cpu, "%s", rd_error());
  int exact = 1;
  if (strcmp(device, "cpu-staged") == 0) {
    dev = rd_backend_cpu_create(1);
  } else if (strcmp(device, "cuda") == 0) {
#ifdef RUDDER_HAVE_CUDA
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      if (rank == 0) printf("SKIP: no CUDA device visible\n");
      MPI_Finalize();
      return 77;
    }
    dev = rd_cuda_backend_create(MPI_COMM_WORLD);
    exact = 0;
#else
    fprintf(stderr, "test_backend_ops: --device cuda: this build has no CUDA backend\n");
    return 2;
#endif
  } else {
    fprintf(stderr, "test_backend_ops: --device: '%s' is not cpu-staged or cuda\n", device);
    return 2;
  }
  CHECK(dev, "%s: %s", device, rd_error());
  check_coverage(cpu);
  check_coverage(dev);
  make_blocks(seed);
  if (rank == 0) printf("%s against cpu, %d ranks, %d trials per op, seed %llu\n", dev->name, ranks,
                        trials, (unsigned long long)seed);
  int ops = 0, inplace = 0;
  for (int i = 0; i < NUM_ROWS; i++)
    if (rows[i].spec) {
      inplace += check_row(i, cpu, dev, exact, trials, seed, rank, ranks);
      ops++;
    }
  if (rank == 0)
    printf("backend ops: %d ops x %d trials (+ %d in place) on %s agree with cpu; %d harness ops\n",
           ops, trials, inplace, dev->name, NUM_ROWS - ops);
  for (int l = 0; l < NUM_BLOCKS; l++) {
    free(blocks[l].indptr);
    free(blocks[l].indices);
  }
  dev->destroy(dev);
  cpu->destroy(cpu);
  MPI_Finalize();
  return 0;
}
