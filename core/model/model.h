// The GNN model stack of the trainer: GraphSAGE (mean), GAT and a
// features-only MLP over a sampled mini-batch (rd_block blocks[L]), run on a
// backend (backend.h): the CPU, or a GPU.
//
// Ownership: the model owns its parameters, gradients and one workspace
// arena that holds every activation backward needs, grown on demand (with
// headroom) and reused, so warm steps do not allocate; all of them backend
// memory, as are x, the logits and the gradients passed in and out.
// rd_model_forward keeps pointers to blocks' indptr/indices and to x (not
// copies): they must stay valid until rd_model_backward /
// rd_model_input_grad have run. A model is not thread-safe; use one per
// thread.
#ifndef RUDDER_MODEL_H
#define RUDDER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../ops/real.h"
#include "../sampler/block.h"
#include "../backend/backend.h"

#ifdef RD_REAL_DOUBLE
#define rd_model_create rd_model_create_f64
#define rd_model_free rd_model_free_f64
#define rd_model_num_params rd_model_num_params_f64
#define rd_model_params rd_model_params_f64
#define rd_model_grads rd_model_grads_f64
#define rd_model_forward rd_model_forward_f64
#define rd_model_backward rd_model_backward_f64
#define rd_model_input_grad rd_model_input_grad_f64
#define rd_model_kind_name rd_model_kind_name_f64
#define rd_model_kind_parse rd_model_kind_parse_f64
#endif

typedef enum { RD_MODEL_SAGE, RD_MODEL_GAT, RD_MODEL_MLP } rd_model_kind;

typedef struct rd_model_config {
  rd_model_kind kind;
  int num_layers;  // 1 .. RD_MAX_LAYERS
  int in_dim, hidden, num_classes;
  int heads;       // GAT only; hidden % heads == 0 when num_layers > 1
  float dropout;   // [0, 1), applied after each hidden activation when training
  uint64_t seed;   // parameter init
} rd_model_config;

typedef struct rd_model rd_model;

// Layer l maps din -> dout (din = in_dim for l = 0, else hidden; dout =
// num_classes for the last layer, else hidden):
//   SAGE: out = h[:num_dst]·W_self + mean_in-edges(h)·W_neigh + b (zero mean
//         for a destination without edges); ReLU between layers.
//   GAT:  z = h·W per head; e = LeakyReLU_0.2(<z_src,a_l> + <z_dst,a_r>) over
//         in-edges plus an implicit self edge; out = Σ softmax(e)·z_src + b.
//         Hidden layers concatenate heads of width hidden/heads (ELU after);
//         the last uses heads of width num_classes and averages them.
//   MLP:  out = h[:num_dst]·W + b, edges ignored; ReLU between layers.
// Dropout (training only, inverted) acts on the activations between layers,
// with mask rd_dropout(seed = dropout_seed, stream = layer index).
// Parameters, per layer in order: SAGE W_self [din×dout], W_neigh, b [dout];
// GAT W [din×heads·f], a_l [heads·f], a_r, b [heads·f]; MLP W, b. Weights and
// attention vectors are Glorot-uniform from a counter hash of (seed, index),
// biases 0: deterministic, and equal (up to rounding) in both precisions and
// on every backend. be NULL: a CPU backend of the model's own; otherwise the
// caller's, which must outlive the model. Returns NULL with rd_error_set on a
// bad config.
rd_model *rd_model_create(const rd_model_config *cfg, rd_backend *be);
void rd_model_free(rd_model *m);

size_t rd_model_num_params(const rd_model *m);
// ALL parameters in one contiguous array (one MPI_Allreduce averages grads).
rd_real *rd_model_params(rd_model *m);
rd_real *rd_model_grads(rd_model *m);  // same layout

// Runs the layers over blocks[0 .. num_layers-1] (blocks[l+1].num_src must
// equal blocks[l].num_dst; checked); x is blocks[0].num_src × in_dim. Returns
// the logits, blocks[L-1].num_dst × num_classes, owned by the model and valid
// until the next forward; NULL with rd_error_set on mismatched blocks, out
// of memory or a failed op.
const rd_real *rd_model_forward(rd_model *m, const rd_block *blocks, const rd_real *x,
                                int training, uint64_t dropout_seed);
// Overwrites the gradients with d loss / d params, given dlogits = d loss /
// d logits of the last forward (which must have succeeded). -1 with
// rd_error_set if an op failed.
int rd_model_backward(rd_model *m, const rd_real *dlogits);
// d loss / d x (blocks[0].num_src × in_dim) for the last backward. Computed
// on demand, so training never pays for it; owned by the model. NULL with
// rd_error_set if no backward has run since the last forward.
const rd_real *rd_model_input_grad(rd_model *m);

// "sage", "gat", "mlp".
const char *rd_model_kind_name(rd_model_kind k);
int rd_model_kind_parse(const char *s, rd_model_kind *out);

#endif
