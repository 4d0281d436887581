#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../ops/aggregate.h"
#include "../ops/dense.h"
#include "../ops/elementwise.h"
#include "../backend/backend.h"

#define GAT_SLOPE 0.2

// One layer: its widths, where its tensors sit in the flat parameter array,
// and its slices of the workspace arena (re-carved by every forward).
// Gradient buffers are named g*.
typedef struct layer {
  int din, dout;                // input width; output width after head concat/mean
  int heads, f;                 // GAT heads × per-head width (1 × dout otherwise)
  size_t w, w2, al, ar, b;      // parameter offsets (w2: SAGE W_neigh; al, ar: GAT)
  const rd_real *in;            // input rows: x for layer 0, else act
  rd_real *act;                 // layers > 0: dropout(activation(previous out))
  rd_real *out, *gout;          // output before activation (num_dst × dout)
  rd_real *agg, *gagg;          // SAGE: neighbour mean (num_dst × din)
  rd_real *z, *gz;              // GAT: projected sources (num_src × heads·f)
  rd_real *el, *gel, *er, *ger; // GAT: per-node attention scores
  rd_real *s, *alpha, *galpha;  // GAT: per-slot logits before LeakyReLU, weights
  rd_real *hout, *ghout;        // GAT: heads before the mean (= out if not averaged)
} layer;

typedef struct arena {
  rd_real *base;
  size_t used;
} arena;

typedef struct rd_model rd_model;

// What differs between model kinds; the layer loop itself is shared. Each
// acts on layer l of m through m's backend.
typedef struct kind_ops {
  const char *name;
  void (*plan)(layer *L, const rd_block *b, arena *a);  // extra workspace; may be NULL
  void (*forward)(rd_model *m, int l);
  void (*backward_params)(rd_model *m, int l);
  // dh (num_src × din) = d loss / d in, from gout and what backward_params left.
  void (*backward_input)(rd_model *m, int l, rd_real *dh);
  int elu;  // the hidden activation: ELU, else ReLU
} kind_ops;

struct rd_model {
  rd_model_config cfg;
  const kind_ops *ops;
  rd_backend *be;
  int own_be;  // created by rd_model_create, destroyed with the model
  size_t num_params;
  rd_real *params, *grads;  // one allocation, backend memory
  layer layers[RD_MAX_LAYERS];
  rd_block blocks[RD_MAX_LAYERS];  // of the last forward; arrays borrowed
  int training, have_grads;
  uint64_t dropout_seed;
  rd_real *ws, *dx;  // workspace arena; input gradient (on demand)
  size_t ws_cap, dx_cap;  // bytes
};

// Carves n elements rounded up to whole cache lines. The sizing pass runs
// with base NULL and only counts.
static rd_real *take(arena *a, size_t n) {
  size_t off = a->used;
  a->used += (n + 15) & ~(size_t)15;
  return a->base ? a->base + off : NULL;
}

// Grows *buf to hold n elements; contents are not kept.
static int reserve(rd_backend *be, rd_real **buf, size_t *cap, size_t n) {
  *buf = rd_backend_reserve(be, *buf, cap, n * sizeof **buf);
  return *buf ? 0 : rd_backend_check(be);
}

// ---- MLP, and the self path SAGE shares with it: out = in[:num_dst]·W + b.

// The kinds leave the bias of out (and its gradient) to the layer loop, which
// fuses it with the activation and dropout that follow (see own_bias).
static void self_forward(rd_model *m, int l) {
  rd_backend *be = m->be;
  layer *L = &m->layers[l];
  be->matmul(be, L->in, m->params + L->w, L->out, m->blocks[l].num_dst, L->din, L->dout, 0);
}

static void self_backward_params(rd_model *m, int l) {
  rd_backend *be = m->be;
  layer *L = &m->layers[l];
  be->matmul_tn(be, L->in, L->gout, m->grads + L->w, L->din, m->blocks[l].num_dst, L->dout, 0);
}

static void mlp_backward_input(rd_model *m, int l, rd_real *dh) {
  rd_backend *be = m->be;
  const layer *L = &m->layers[l];
  const rd_block *b = &m->blocks[l];
  be->matmul_nt(be, L->gout, m->params + L->w, dh, b->num_dst, L->dout, L->din, 0);
  be->zero(be, dh + (size_t)b->num_dst * L->din,
           (size_t)(b->num_src - b->num_dst) * L->din * sizeof *dh);
}

// ---- SAGE: the self path plus mean(in over in-edges)·W_neigh.

static void sage_plan(layer *L, const rd_block *b, arena *a) {
  L->agg = take(a, (size_t)b->num_dst * L->din);
  L->gagg = take(a, (size_t)b->num_dst * L->din);
}

static void sage_forward(rd_model *m, int l) {
  rd_backend *be = m->be;
  layer *L = &m->layers[l];
  be->segment_mean(be, l, L->in, L->din, L->agg);
  self_forward(m, l);
  be->matmul(be, L->agg, m->params + L->w2, L->out, m->blocks[l].num_dst, L->din, L->dout, 1);
}

static void sage_backward_params(rd_model *m, int l) {
  rd_backend *be = m->be;
  layer *L = &m->layers[l];
  self_backward_params(m, l);
  be->matmul_tn(be, L->agg, L->gout, m->grads + L->w2, L->din, m->blocks[l].num_dst, L->dout, 0);
}

static void sage_backward_input(rd_model *m, int l, rd_real *dh) {
  rd_backend *be = m->be;
  const rd_real *P = m->params;
  const layer *L = &m->layers[l];
  const int dst = m->blocks[l].num_dst;
  be->matmul_nt(be, L->gout, P + L->w2, L->gagg, dst, L->dout, L->din, 0);
  be->segment_mean_backward(be, l, L->gagg, L->din, dh);  // overwrites all num_src rows
  be->matmul_nt(be, L->gout, P + L->w, dh, dst, L->dout, L->din, 1);
}

// ---- GAT.

static void gat_plan(layer *L, const rd_block *b, arena *a) {
  size_t hf = (size_t)L->heads * L->f, src = (size_t)b->num_src, dst = (size_t)b->num_dst;
  size_t slots = (size_t)rd_gat_num_slots(b) * L->heads;
  L->z = take(a, src * hf);
  L->gz = take(a, src * hf);
  L->el = take(a, src * L->heads);
  L->gel = take(a, src * L->heads);
  L->er = take(a, dst * L->heads);
  L->ger = take(a, dst * L->heads);
  L->s = take(a, slots);
  L->alpha = take(a, slots);
  L->galpha = take(a, slots);
  int averaged = hf != (size_t)L->dout;
  L->hout = averaged ? take(a, dst * hf) : L->out;
  L->ghout = averaged ? take(a, dst * hf) : L->gout;
}

static void gat_forward(rd_model *m, int l) {
  rd_backend *be = m->be;
  const rd_real *P = m->params;
  layer *L = &m->layers[l];
  const rd_block *b = &m->blocks[l];
  int heads = L->heads, f = L->f, hf = heads * f;
  size_t slots = (size_t)rd_gat_num_slots(b) * heads;
  be->matmul(be, L->in, P + L->w, L->z, b->num_src, L->din, hf, 0);
  be->gat_attn_scores(be, L->z, b->num_src, b->num_dst, heads, f, P + L->al, P + L->ar, L->el,
                      L->er);
  be->gat_edge_logits(be, l, L->el, L->er, heads, L->s);
  be->leaky_relu(be, L->s, L->alpha, slots, GAT_SLOPE);
  be->edge_softmax(be, l, L->alpha, heads, L->alpha);
  be->gat_aggregate(be, l, L->alpha, L->z, heads, f, L->hout);
  if (L->hout != L->out) {  // the bias goes on each head, before their mean
    be->bias_add(be, L->hout, P + L->b, b->num_dst, hf);
    be->head_mean(be, L->hout, b->num_dst, heads, f, L->out);
  }
}

static void gat_backward_params(rd_model *m, int l) {
  rd_backend *be = m->be;
  const rd_real *P = m->params;
  rd_real *G = m->grads;
  layer *L = &m->layers[l];
  const rd_block *b = &m->blocks[l];
  int heads = L->heads, f = L->f, hf = heads * f;
  size_t slots = (size_t)rd_gat_num_slots(b) * heads;
  if (L->ghout != L->gout) {
    be->head_mean_backward(be, L->gout, b->num_dst, heads, f, L->ghout);
    be->colsum(be, L->ghout, b->num_dst, hf, G + L->b);
  }
  be->gat_aggregate_backward(be, l, L->alpha, L->z, L->ghout, heads, f, L->galpha, L->gz);
  be->edge_softmax_backward(be, l, L->alpha, L->galpha, heads, L->galpha);
  be->leaky_relu_backward(be, L->s, L->galpha, L->galpha, slots, GAT_SLOPE);
  be->gat_edge_logits_backward(be, l, L->galpha, heads, L->gel, L->ger);
  be->gat_attn_scores_backward(be, L->z, b->num_src, b->num_dst, heads, f, P + L->al, P + L->ar,
                               L->gel, L->ger, L->gz, G + L->al, G + L->ar);
  be->matmul_tn(be, L->in, L->gz, G + L->w, L->din, b->num_src, hf, 0);
}

static void gat_backward_input(rd_model *m, int l, rd_real *dh) {
  const layer *L = &m->layers[l];
  m->be->matmul_nt(m->be, L->gz, m->params + L->w, dh, m->blocks[l].num_src, L->heads * L->f,
                   L->din, 0);
}

static const kind_ops KINDS[] = {
    [RD_MODEL_SAGE] = {"sage", sage_plan, sage_forward, sage_backward_params, sage_backward_input, 0},
    [RD_MODEL_GAT] = {"gat", gat_plan, gat_forward, gat_backward_params, gat_backward_input, 1},
    [RD_MODEL_MLP] = {"mlp", NULL, self_forward, self_backward_params, mlp_backward_input, 0},
};
#define NUM_KINDS (sizeof KINDS / sizeof *KINDS)

// ---- The model.

static int check_config(const rd_model_config *c) {
  if ((unsigned)c->kind >= NUM_KINDS) return rd_error_set("model: unknown kind %d", (int)c->kind);
  if (c->num_layers < 1 || c->num_layers > RD_MAX_LAYERS)
    return rd_error_set("model: num_layers %d outside [1, %d]", c->num_layers, RD_MAX_LAYERS);
  if (c->in_dim < 1 || c->num_classes < 1 || (c->num_layers > 1 && c->hidden < 1))
    return rd_error_set("model: in_dim %d, hidden %d, num_classes %d must be positive", c->in_dim,
                        c->hidden, c->num_classes);
  if (!(c->dropout >= 0 && c->dropout < 1))
    return rd_error_set("model: dropout %g outside [0, 1)", (double)c->dropout);
  if (c->kind == RD_MODEL_GAT && (c->heads < 1 || (c->num_layers > 1 && c->hidden % c->heads)))
    return rd_error_set("model: GAT heads %d must be >= 1 and divide hidden %d", c->heads,
                        c->hidden);
  return 0;
}

// U(-a, a), a = sqrt(6 / (fan_in + fan_out)), element i drawn from the counter
// hash of (seed, i): the init is independent of allocation and precision.
static void glorot(rd_real *P, uint64_t seed, size_t off, size_t n, int fan_in, int fan_out) {
  double a = sqrt(6.0 / (fan_in + fan_out));
  for (size_t i = off; i < off + n; i++) {
    double u = (double)(rd_counter_hash(seed, i) >> 11) * 0x1p-53;
    P[i] = (rd_real)(a * (2 * u - 1));
  }
}

// Parameters initialised on the host, then moved to the backend.
static int init_params(rd_model *m) {
  const size_t n = m->num_params;
  rd_backend *be = m->be;
  m->params = be->alloc(be, 2 * n * sizeof *m->params + sizeof *m->params);
  rd_real *P = be->host ? m->params : calloc(n + 1, sizeof *P);
  if (!m->params || !P) {
    if (m->params) rd_error_set("model: out of memory for %zu parameters", n);
    if (!be->host) free(P);
    rd_backend_check(be);  // reported here: clear it for the caller's backend
    return -1;
  }
  m->grads = m->params + n;
  const int sage = m->cfg.kind == RD_MODEL_SAGE, gat = m->cfg.kind == RD_MODEL_GAT;
  for (int l = 0; l < m->cfg.num_layers; l++) {
    const layer *L = &m->layers[l];
    int hf = L->heads * L->f;
    glorot(P, m->cfg.seed, L->w, (size_t)L->din * hf, L->din, hf);
    if (sage) glorot(P, m->cfg.seed, L->w2, (size_t)L->din * hf, L->din, hf);
    if (gat) glorot(P, m->cfg.seed, L->al, 2 * (size_t)hf, L->f, 1);  // a_l and a_r: one F -> 1 map per head
  }
  if (be->host) return 0;
  be->upload(be, m->params, P, n * sizeof *P);
  free(P);
  return rd_backend_check(be);
}

rd_model *rd_model_create(const rd_model_config *cfg, rd_backend *be) {
  if (check_config(cfg)) return NULL;
  rd_model *m = calloc(1, sizeof *m);
  if (!m) return rd_error_set("model: out of memory"), NULL;
  m->cfg = *cfg;
  m->own_be = !be;
  m->be = be ? be : rd_backend_cpu_create(0);
  if (!m->be) {
    free(m);
    return NULL;
  }
  m->ops = &KINDS[cfg->kind];
  const int sage = cfg->kind == RD_MODEL_SAGE, gat = cfg->kind == RD_MODEL_GAT;
  size_t off = 0;
  for (int l = 0; l < cfg->num_layers; l++) {
    layer *L = &m->layers[l];
    int last = l == cfg->num_layers - 1;
    L->din = l ? cfg->hidden : cfg->in_dim;
    L->dout = last ? cfg->num_classes : cfg->hidden;
    L->heads = gat ? cfg->heads : 1;
    L->f = last ? cfg->num_classes : cfg->hidden / L->heads;
    size_t hf = (size_t)L->heads * L->f, wsize = (size_t)L->din * hf;
    L->w = off;
    off += wsize;
    L->w2 = off;
    off += sage ? wsize : 0;
    L->al = off;
    L->ar = off + hf;
    off += gat ? 2 * hf : 0;
    L->b = off;
    off += hf;
  }
  m->num_params = off;
  if (init_params(m)) {
    rd_model_free(m);
    return NULL;
  }
  return m;
}

void rd_model_free(rd_model *m) {
  if (!m) return;
  rd_backend *be = m->be;
  be->release(be, m->params);
  be->release(be, m->ws);
  be->release(be, m->dx);
  if (m->own_be) be->destroy(be);
  free(m);
}

size_t rd_model_num_params(const rd_model *m) { return m->num_params; }
rd_real *rd_model_params(rd_model *m) { return m->params; }
rd_real *rd_model_grads(rd_model *m) { return m->grads; }

static int check_blocks(const rd_model *m, const rd_block *blocks) {
  for (int l = 0; l < m->cfg.num_layers; l++) {
    const rd_block *b = &blocks[l];
    if (b->num_dst < 0 || b->num_dst > b->num_src)
      return rd_error_set("model: block %d has %d destinations for %d sources", l, b->num_dst,
                          b->num_src);
    if (l + 1 < m->cfg.num_layers && blocks[l + 1].num_src != b->num_dst)
      return rd_error_set("model: block %d has %d sources but block %d has %d destinations",
                          l + 1, blocks[l + 1].num_src, l, b->num_dst);
  }
  return 0;
}

static void carve(rd_model *m, const rd_block *blocks, arena *a) {
  for (int l = 0; l < m->cfg.num_layers; l++) {
    layer *L = &m->layers[l];
    const rd_block *b = &blocks[l];
    L->act = l ? take(a, (size_t)b->num_src * L->din) : NULL;
    L->out = take(a, (size_t)b->num_dst * L->dout);
    L->gout = take(a, (size_t)b->num_dst * L->dout);
    if (m->ops->plan) m->ops->plan(L, b, a);
  }
}

// Whether layer L's kind adds its bias itself (GAT's head mean comes after
// it: only an output layer); otherwise the layer loop adds it to out.
static int own_bias(const layer *L) { return L->hout && L->hout != L->out; }

// The hidden activation of the model's kind; dropout while training.
static rd_act hidden_act(const rd_model *m) { return m->ops->elu ? RD_ACT_ELU : RD_ACT_RELU; }
static float dropout_p(const rd_model *m) { return m->training ? m->cfg.dropout : 0.0f; }

const rd_real *rd_model_forward(rd_model *m, const rd_block *blocks, const rd_real *x,
                                int training, uint64_t dropout_seed) {
  rd_backend *be = m->be;
  arena a = {NULL, 0};
  m->have_grads = 0;
  if (check_blocks(m, blocks)) return NULL;
  carve(m, blocks, &a);
  if (reserve(be, &m->ws, &m->ws_cap, a.used)) return NULL;
  a = (arena){m->ws, 0};
  carve(m, blocks, &a);
  memcpy(m->blocks, blocks, (size_t)m->cfg.num_layers * sizeof *blocks);
  be->set_blocks(be, m->blocks, m->cfg.num_layers);
  m->training = training;
  m->dropout_seed = dropout_seed;
  m->layers[0].in = x;
  const int top = m->cfg.num_layers - 1;
  for (int l = 0; l <= top; l++) {
    layer *L = &m->layers[l];
    m->ops->forward(m, l);
    if (l == top) {
      if (!own_bias(L)) be->bias_add(be, L->out, m->params + L->b, blocks[l].num_dst, L->dout);
      break;
    }
    // Bias, activation and dropout in one pass into the next layer's input
    // (the dropout stream is the consuming layer's index). Hidden layers
    // never own their bias: GAT concatenates their heads.
    be->bias_act_dropout(be, L->out, m->params + L->b, blocks[l].num_dst, L->dout, hidden_act(m),
                         L[1].act, dropout_p(m), dropout_seed, (uint64_t)(l + 1));
    L[1].in = L[1].act;
  }
  if (rd_backend_check(be)) return NULL;
  return m->layers[m->cfg.num_layers - 1].out;
}

int rd_model_backward(rd_model *m, const rd_real *dlogits) {
  rd_backend *be = m->be;
  int top = m->cfg.num_layers - 1;
  be->copy(be, m->layers[top].gout, dlogits,
           (size_t)m->blocks[top].num_dst * m->layers[top].dout * sizeof *dlogits);
  if (!own_bias(&m->layers[top]))
    be->colsum(be, m->layers[top].gout, m->blocks[top].num_dst, m->layers[top].dout,
               m->grads + m->layers[top].b);
  for (int l = top; l >= 0; l--) {
    layer *L = &m->layers[l];
    const rd_block *b = &m->blocks[l];
    m->ops->backward_params(m, l);
    if (l == 0) break;
    // Back through this layer, then the dropout, activation and bias that
    // fed it, in one pass.
    rd_real *g = L[-1].gout;
    m->ops->backward_input(m, l, g);
    be->act_dropout_backward(be, L[-1].out, g, b->num_src, L->din, hidden_act(m), dropout_p(m),
                             m->dropout_seed, (uint64_t)l, g, m->grads + L[-1].b);
  }
  if (rd_backend_check(be)) return -1;
  m->have_grads = 1;
  return 0;
}

const rd_real *rd_model_input_grad(rd_model *m) {
  if (!m->have_grads) return rd_error_set("model: input gradient asked before backward"), NULL;
  if (reserve(m->be, &m->dx, &m->dx_cap, (size_t)m->blocks[0].num_src * m->cfg.in_dim)) return NULL;
  m->ops->backward_input(m, 0, m->dx);
  return rd_backend_check(m->be) ? NULL : m->dx;
}

const char *rd_model_kind_name(rd_model_kind k) {
  return (unsigned)k < NUM_KINDS ? KINDS[k].name : "unknown";
}

int rd_model_kind_parse(const char *s, rd_model_kind *out) {
  for (unsigned k = 0; k < NUM_KINDS; k++)
    if (strcmp(s, KINDS[k].name) == 0) {
      *out = (rd_model_kind)k;
      return 0;
    }
  return rd_error_set("unknown model kind '%s' (expected sage, gat or mlp)", s);
}
