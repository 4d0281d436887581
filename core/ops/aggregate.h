// Message passing over one sampled block (sampler/block.h): destination v
// reads source rows indices[indptr[v] .. indptr[v+1]). Forward ops gather in
// parallel over destinations. Backward ops into source rows either gather
// over the block's transpose (segment mean, GAT aggregation) or scatter with
// COLUMNS, not edges, split among threads (no atomics): every element is
// summed in edge order, and dot products in a fixed lane order, so gradients
// are bitwise identical for any thread count. Unless marked "+=", outputs
// are overwritten.
#ifndef RUDDER_OPS_AGGREGATE_H
#define RUDDER_OPS_AGGREGATE_H

#include "../sampler/block.h"
#include "real.h"

#ifdef RD_REAL_DOUBLE
#define rd_segment_mean rd_segment_mean_f64
#define rd_segment_mean_backward rd_segment_mean_backward_f64
#define rd_gat_attn_scores rd_gat_attn_scores_f64
#define rd_gat_attn_scores_backward rd_gat_attn_scores_backward_f64
#define rd_gat_edge_logits rd_gat_edge_logits_f64
#define rd_gat_edge_logits_backward rd_gat_edge_logits_backward_f64
#define rd_edge_softmax rd_edge_softmax_f64
#define rd_edge_softmax_backward rd_edge_softmax_backward_f64
#define rd_gat_aggregate rd_gat_aggregate_f64
#define rd_gat_aggregate_backward rd_gat_aggregate_backward_f64
#endif

// y[v,:] = mean of x over v's in-edges (num_dst × dim); 0 for a destination
// without edges. x is num_src × dim.
void rd_segment_mean(const rd_block *b, const rd_real *x, int dim, rd_real *y);
void rd_segment_mean_backward(const rd_block *b, const rd_real *dy, int dim, rd_real *dx);

// GAT. Features z are num_src × heads × f (heads concatenated). Per-edge
// arrays use the SELF-EXTENDED layout, heads innermost: destination v owns
// slots indptr[v]+v .. indptr[v+1]+v, first its block edges in order, then
// its implicit self edge (source row v). Every destination thus has at
// least one slot, and the softmax is never empty.
static inline int64_t rd_gat_num_slots(const rd_block *b) { return b->num_edges + b->num_dst; }

// el[i,h] = <z[i,h,:], attn_l[h,:]> for the n_src rows; er likewise with
// attn_r for the first n_dst rows.
void rd_gat_attn_scores(const rd_real *z, int n_src, int n_dst, int heads, int f,
                        const rd_real *attn_l, const rd_real *attn_r, rd_real *el, rd_real *er);
// dz += the score paths; dattn_l, dattn_r = their gradients.
void rd_gat_attn_scores_backward(const rd_real *z, int n_src, int n_dst, int heads, int f,
                                 const rd_real *attn_l, const rd_real *attn_r,
                                 const rd_real *del, const rd_real *der, rd_real *dz,
                                 rd_real *dattn_l, rd_real *dattn_r);

// s[slot,h] = el[src,h] + er[v,h] (the logit before LeakyReLU).
void rd_gat_edge_logits(const rd_block *b, const rd_real *el, const rd_real *er, int heads,
                        rd_real *s);
void rd_gat_edge_logits_backward(const rd_block *b, const rd_real *ds, int heads, rd_real *del,
                                 rd_real *der);

// alpha = softmax of e over each destination's slots, per head (max-shifted).
// May run in place. The backward may run in place too (de == dalpha).
void rd_edge_softmax(const rd_block *b, const rd_real *e, int heads, rd_real *alpha);
void rd_edge_softmax_backward(const rd_block *b, const rd_real *alpha, const rd_real *dalpha,
                              int heads, rd_real *de);

// out[v,h,:] = Σ_slots alpha[slot,h] · z[src,h,:] (num_dst × heads × f).
void rd_gat_aggregate(const rd_block *b, const rd_real *alpha, const rd_real *z, int heads, int f,
                      rd_real *out);
// dalpha per slot, and dz (num_src × heads × f) from the aggregation alone.
void rd_gat_aggregate_backward(const rd_block *b, const rd_real *alpha, const rd_real *z,
                               const rd_real *dout, int heads, int f, rd_real *dalpha,
                               rd_real *dz);

#endif
