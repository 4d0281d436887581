// CPU twins of the GPU kernels that have no reference in core/ops yet: the
// feature-row gather of the train loop and the fill of fetched rows into
// buffer slots. Each is the plain loop its kernel (kernels.h) must reproduce
// exactly. (The buffer's bookkeeping stays on the host, in buffer.c, on every
// device: it is a few integer updates per access, not worth a kernel.) Also the host-side transpose of a block
// that the backward kernels read.
#ifndef RUDDER_CUDA_TWINS_H
#define RUDDER_CUDA_TWINS_H

#include <stdint.h>

#include "buffer/buffer.h"
#include "sampler/block.h"

#ifdef __cplusplus
extern "C" {
// buffer.h declares struct rd_fill inside rd_buffer_plan, where C++ (unlike
// C) scopes it, so `struct rd_fill` below would name a new, incomplete global
// type: define that one for the .cu files, with the same layout (checked
// against rd_buffer_plan::rd_fill in gather.cu). C sees buffer.h's.
struct rd_fill {
  int32_t slot, row;
};
#endif

// Where row i of the mini-batch feature matrix comes from: row `row` of the
// rank's own features, of the buffer (row = slot), or of this step's fetched
// rows (row = position in the fetch, as rd_buffer_plan numbers them).
enum { RD_FROM_LOCAL = 0, RD_FROM_BUFFER = 1, RD_FROM_FETCHED = 2 };
typedef struct rd_gather_src {
  int32_t from, row;
} rd_gather_src;

// x[i,:] = the source row of src[i], for i < n; rows are F floats.
void rd_gather_rows(const rd_gather_src *src, int64_t n, int F, const float *local,
                    const float *buffer, const float *fetched, float *x);

// buffer[fill[i].slot, :] = fetched[fill[i].row, :] for i < n (rows of F floats): the
// step's fetched rows stored into the buffer slots rd_buffer_plan names.
void rd_fill_rows(const struct rd_fill *fill, int64_t n, int F, const float *fetched, float *buffer);

// The transpose of block b: source u's in-block edges are
// tedge[tindptr[u] .. tindptr[u+1]) (edge ids k into b->indices, ascending),
// tdst[t] the destination owning edge tedge[t]. Sizes: num_src + 1,
// num_edges, num_edges. Lets backward passes gather per source row instead
// of scattering with atomics.
void rd_block_transpose(const rd_block *b, int64_t *tindptr, int64_t *tedge, int32_t *tdst);

#ifdef __cplusplus
}
#endif

#endif
