#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../ops/aggregate.h"
#include "../ops/dense.h"
#include "../ops/elementwise.h"

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

// What differs between model kinds; the layer loop itself is shared.
typedef struct kind_ops {
  const char *name;
  void (*plan)(layer *L, const rd_block *b, arena *a);  // extra workspace; may be NULL
  void (*forward)(const rd_real *P, layer *L, const rd_block *b);
  void (*backward_params)(const rd_real *P, rd_real *G, layer *L, const rd_block *b);
  // dh (num_src × din) = d loss / d in, from gout and what backward_params left.
  void (*backward_input)(const rd_real *P, const layer *L, const rd_block *b, rd_real *dh);
  void (*act)(const rd_real *x, rd_real *y, size_t n);
  void (*act_backward)(const rd_real *x, const rd_real *dy, rd_real *dx, size_t n);
} kind_ops;

struct rd_model {
  rd_model_config cfg;
  const kind_ops *ops;
  size_t num_params;
  rd_real *params, *grads;  // one allocation
  layer layers[RD_MAX_LAYERS];
  rd_block blocks[RD_MAX_LAYERS];  // of the last forward; arrays borrowed
  int training, have_grads;
  uint64_t dropout_seed;
  rd_real *ws, *dx;  // workspace arena; input gradient (on demand)
  size_t ws_cap, dx_cap;
};

// Carves n elements rounded up to whole cache lines. The sizing pass runs
// with base NULL and only counts.
static rd_real *take(arena *a, size_t n) {
  size_t off = a->used;
  a->used += (n + 15) & ~(size_t)15;
  return a->base ? a->base + off : NULL;
}

// Grows *buf to hold n elements; contents are not kept.
static int reserve(rd_real **buf, size_t *cap, size_t n) {
  if (n <= *cap) return 0;
  n += n / 4;  // sampled batch sizes jitter: headroom stops a regrow per new maximum
  size_t bytes = (n * sizeof **buf + 63) / 64 * 64;
  free(*buf);
  *buf = aligned_alloc(64, bytes);
  *cap = *buf ? n : 0;
  return *buf ? 0 : rd_error_set("model: out of memory for a %zu-byte workspace", bytes);
}

// ---- MLP, and the self path SAGE shares with it: out = in[:num_dst]·W + b.

static void self_forward(const rd_real *P, layer *L, const rd_block *b) {
  rd_matmul(L->in, P + L->w, L->out, b->num_dst, L->din, L->dout, 0);
  rd_bias_add(L->out, P + L->b, b->num_dst, L->dout);
}

static void self_backward_params(const rd_real *P, rd_real *G, layer *L, const rd_block *b) {
  (void)P;
  rd_matmul_tn(L->in, L->gout, G + L->w, L->din, b->num_dst, L->dout, 0);
  rd_colsum(L->gout, b->num_dst, L->dout, G + L->b);
}

static void mlp_backward_input(const rd_real *P, const layer *L, const rd_block *b, rd_real *dh) {
  rd_matmul_nt(L->gout, P + L->w, dh, b->num_dst, L->dout, L->din, 0);
  memset(dh + (size_t)b->num_dst * L->din, 0,
         (size_t)(b->num_src - b->num_dst) * L->din * sizeof *dh);
}

// ---- SAGE: the self path plus mean(in over in-edges)·W_neigh.

static void sage_plan(layer *L, const rd_block *b, arena *a) {
  L->agg = take(a, (size_t)b->num_dst * L->din);
  L->gagg = take(a, (size_t)b->num_dst * L->din);
}

static void sage_forward(const rd_real *P, layer *L, const rd_block *b) {
  rd_segment_mean(b, L->in, L->din, L->agg);
  self_forward(P, L, b);
  rd_matmul(L->agg, P + L->w2, L->out, b->num_dst, L->din, L->dout, 1);
}

static void sage_backward_params(const rd_real *P, rd_real *G, layer *L, const rd_block *b) {
  self_backward_params(P, G, L, b);
  rd_matmul_tn(L->agg, L->gout, G + L->w2, L->din, b->num_dst, L->dout, 0);
}

static void sage_backward_input(const rd_real *P, const layer *L, const rd_block *b, rd_real *dh) {
  rd_matmul_nt(L->gout, P + L->w2, L->gagg, b->num_dst, L->dout, L->din, 0);
  rd_segment_mean_backward(b, L->gagg, L->din, dh);  // overwrites all num_src rows
  rd_matmul_nt(L->gout, P + L->w, dh, b->num_dst, L->dout, L->din, 1);
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

static void gat_forward(const rd_real *P, layer *L, const rd_block *b) {
  int heads = L->heads, f = L->f, hf = heads * f;
  size_t slots = (size_t)rd_gat_num_slots(b) * heads;
  rd_matmul(L->in, P + L->w, L->z, b->num_src, L->din, hf, 0);
  rd_gat_attn_scores(L->z, b->num_src, b->num_dst, heads, f, P + L->al, P + L->ar, L->el, L->er);
  rd_gat_edge_logits(b, L->el, L->er, heads, L->s);
  rd_leaky_relu(L->s, L->alpha, slots, GAT_SLOPE);
  rd_edge_softmax(b, L->alpha, heads, L->alpha);
  rd_gat_aggregate(b, L->alpha, L->z, heads, f, L->hout);
  rd_bias_add(L->hout, P + L->b, b->num_dst, hf);
  if (L->hout != L->out) rd_head_mean(L->hout, b->num_dst, heads, f, L->out);
}

static void gat_backward_params(const rd_real *P, rd_real *G, layer *L, const rd_block *b) {
  int heads = L->heads, f = L->f, hf = heads * f;
  size_t slots = (size_t)rd_gat_num_slots(b) * heads;
  if (L->ghout != L->gout) rd_head_mean_backward(L->gout, b->num_dst, heads, f, L->ghout);
  rd_colsum(L->ghout, b->num_dst, hf, G + L->b);
  rd_gat_aggregate_backward(b, L->alpha, L->z, L->ghout, heads, f, L->galpha, L->gz);
  rd_edge_softmax_backward(b, L->alpha, L->galpha, heads, L->galpha);
  rd_leaky_relu_backward(L->s, L->galpha, L->galpha, slots, GAT_SLOPE);
  rd_gat_edge_logits_backward(b, L->galpha, heads, L->gel, L->ger);
  rd_gat_attn_scores_backward(L->z, b->num_src, b->num_dst, heads, f, P + L->al, P + L->ar,
                              L->gel, L->ger, L->gz, G + L->al, G + L->ar);
  rd_matmul_tn(L->in, L->gz, G + L->w, L->din, b->num_src, hf, 0);
}

static void gat_backward_input(const rd_real *P, const layer *L, const rd_block *b, rd_real *dh) {
  rd_matmul_nt(L->gz, P + L->w, dh, b->num_src, L->heads * L->f, L->din, 0);
}

static const kind_ops KINDS[] = {
    [RD_MODEL_SAGE] = {"sage", sage_plan, sage_forward, sage_backward_params, sage_backward_input,
                       rd_relu, rd_relu_backward},
    [RD_MODEL_GAT] = {"gat", gat_plan, gat_forward, gat_backward_params, gat_backward_input,
                      rd_elu, rd_elu_backward},
    [RD_MODEL_MLP] = {"mlp", NULL, self_forward, self_backward_params, mlp_backward_input, rd_relu,
                      rd_relu_backward},
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
static void glorot(rd_model *m, size_t off, size_t n, int fan_in, int fan_out) {
  double a = sqrt(6.0 / (fan_in + fan_out));
  for (size_t i = off; i < off + n; i++) {
    double u = (double)(rd_counter_hash(m->cfg.seed, i) >> 11) * 0x1p-53;
    m->params[i] = (rd_real)(a * (2 * u - 1));
  }
}

rd_model *rd_model_create(const rd_model_config *cfg) {
  if (check_config(cfg)) return NULL;
  rd_model *m = calloc(1, sizeof *m);
  if (!m) return rd_error_set("model: out of memory"), NULL;
  m->cfg = *cfg;
  m->ops = &KINDS[cfg->kind];
  int sage = cfg->kind == RD_MODEL_SAGE, gat = cfg->kind == RD_MODEL_GAT;
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
  m->params = calloc(2 * off, sizeof *m->params);
  if (!m->params) {
    free(m);
    return rd_error_set("model: out of memory for %zu parameters", off), NULL;
  }
  m->grads = m->params + off;
  for (int l = 0; l < cfg->num_layers; l++) {
    const layer *L = &m->layers[l];
    int hf = L->heads * L->f;
    glorot(m, L->w, (size_t)L->din * hf, L->din, hf);
    if (sage) glorot(m, L->w2, (size_t)L->din * hf, L->din, hf);
    if (gat) glorot(m, L->al, 2 * (size_t)hf, L->f, 1);  // a_l and a_r: one F -> 1 map per head
  }
  return m;
}

void rd_model_free(rd_model *m) {
  if (!m) return;
  free(m->params);
  free(m->ws);
  free(m->dx);
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

const rd_real *rd_model_forward(rd_model *m, const rd_block *blocks, const rd_real *x,
                                int training, uint64_t dropout_seed) {
  arena a = {NULL, 0};
  m->have_grads = 0;
  if (check_blocks(m, blocks)) return NULL;
  carve(m, blocks, &a);
  if (reserve(&m->ws, &m->ws_cap, a.used)) return NULL;
  a = (arena){m->ws, 0};
  carve(m, blocks, &a);
  memcpy(m->blocks, blocks, (size_t)m->cfg.num_layers * sizeof *blocks);
  m->training = training;
  m->dropout_seed = dropout_seed;
  m->layers[0].in = x;
  for (int l = 0; l < m->cfg.num_layers; l++) {
    layer *L = &m->layers[l];
    if (l > 0) {
      size_t n = (size_t)blocks[l].num_src * L->din;
      m->ops->act(L[-1].out, L->act, n);
      if (training) rd_dropout(L->act, L->act, n, m->cfg.dropout, dropout_seed, (uint64_t)l);
      L->in = L->act;
    }
    m->ops->forward(m->params, L, &blocks[l]);
  }
  return m->layers[m->cfg.num_layers - 1].out;
}

void rd_model_backward(rd_model *m, const rd_real *dlogits) {
  int top = m->cfg.num_layers - 1;
  memcpy(m->layers[top].gout, dlogits,
         (size_t)m->blocks[top].num_dst * m->layers[top].dout * sizeof *dlogits);
  for (int l = top; l >= 0; l--) {
    layer *L = &m->layers[l];
    const rd_block *b = &m->blocks[l];
    m->ops->backward_params(m->params, m->grads, L, b);
    if (l == 0) break;
    // Back through this layer, the dropout and the activation that fed it.
    rd_real *g = L[-1].gout;
    size_t n = (size_t)b->num_src * L->din;
    m->ops->backward_input(m->params, L, b, g);
    if (m->training) rd_dropout(g, g, n, m->cfg.dropout, m->dropout_seed, (uint64_t)l);
    m->ops->act_backward(L[-1].out, g, g, n);
  }
  m->have_grads = 1;
}

const rd_real *rd_model_input_grad(rd_model *m) {
  if (!m->have_grads) return rd_error_set("model: input gradient asked before backward"), NULL;
  if (reserve(&m->dx, &m->dx_cap, (size_t)m->blocks[0].num_src * m->cfg.in_dim)) return NULL;
  m->ops->backward_input(m->params, &m->layers[0], &m->blocks[0], m->dx);
  return m->dx;
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
