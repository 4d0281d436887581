#include "device.h"

#include <stdlib.h>
#include <string.h>

#include "common.cuh"

int rd_cuda_select_device(int rank, int *device) {
  int count = 0;
  RD_CUDA(cudaGetDeviceCount(&count));
  if (count <= 0) return rd_error_set("cudaGetDeviceCount: no CUDA device visible");
  *device = rank % count;
  RD_CUDA(cudaSetDevice(*device));
  return 0;
}

int rd_cuda_check_free(size_t bytes, const char *what) {
  size_t free_b = 0, total_b = 0;
  int device = 0;
  RD_CUDA(cudaGetDevice(&device));
  RD_CUDA(cudaMemGetInfo(&free_b, &total_b));
  if (bytes <= free_b) return 0;
  const double mib = 1024.0 * 1024.0;
  return rd_error_set("%s needs %.1f MiB on GPU %d, which has %.1f MiB free of %.1f MiB", what,
                      (double)bytes / mib, device, (double)free_b / mib, (double)total_b / mib);
}

// Byte offsets of the block's arrays in its one allocation, each 256-aligned
// as cudaMalloc's own base.
typedef struct layout {
  size_t indptr, indices, tindptr, tedge, tdst, total;
} layout;

static size_t up(size_t x) { return (x + 255) / 256 * 256; }

static layout layout_of(const rd_block *b) {
  layout l;
  const size_t e = (size_t)b->num_edges;
  l.indptr = 0;
  l.indices = up(l.indptr + ((size_t)b->num_dst + 1) * sizeof(int64_t));
  l.tindptr = up(l.indices + e * sizeof(int32_t));
  l.tedge = up(l.tindptr + ((size_t)b->num_src + 1) * sizeof(int64_t));
  l.tdst = up(l.tedge + e * sizeof(int64_t));
  l.total = up(l.tdst + e * sizeof(int32_t));
  return l;
}

// The staged block to the device; returns once the copy is done, so the
// caller may free `host`.
static int copy_up(char *mem, const char *host, size_t bytes, cudaStream_t stream) {
  RD_CUDA(cudaMemcpyAsync(mem, host, bytes, cudaMemcpyHostToDevice, stream));
  RD_CUDA(cudaStreamSynchronize(stream));
  return 0;
}

int rd_cuda_block_upload(const rd_block *b, rd_cuda_block *d, cudaStream_t stream) {
  *d = rd_cuda_block{};
  return rd_cuda_block_restage(b, d, stream);
}

int rd_cuda_block_restage(const rd_block *b, rd_cuda_block *d, cudaStream_t stream) {
  const layout l = layout_of(b);
  char *mem = (char *)d->mem;
  size_t cap = d->cap;
  if (l.total > cap) {
    // cudaFree waits for the kernels still reading the old copy.
    d->mem = NULL;
    d->cap = 0;
    RD_CUDA(cudaFree(mem));
    cap = l.total + l.total / 4;  // headroom: sampled blocks vary in size
    if (rd_cuda_check_free(cap, "a sampled block")) return -1;
    void *dev = NULL;
    RD_CUDA(cudaMalloc(&dev, cap));
    mem = (char *)dev;
  }
  *d = rd_cuda_block{};
  d->mem = mem;  // owned from here on, even if the copy below fails
  d->cap = cap;
  // Staged in one host buffer so that one copy moves it.
  char *host = (char *)malloc(l.total);
  if (!host) return rd_error_set("out of memory staging a %zu-byte block", l.total);
  memcpy(host + l.indptr, b->indptr, ((size_t)b->num_dst + 1) * sizeof(int64_t));
  memcpy(host + l.indices, b->indices, (size_t)b->num_edges * sizeof(int32_t));
  rd_block_transpose(b, (int64_t *)(host + l.tindptr), (int64_t *)(host + l.tedge),
                     (int32_t *)(host + l.tdst));
  const int rc = copy_up(mem, host, l.total, stream);
  free(host);
  if (rc) return -1;
  *d = rd_cuda_block{b->num_dst,
                     b->num_src,
                     b->num_edges,
                     (const int64_t *)(mem + l.indptr),
                     (const int32_t *)(mem + l.indices),
                     (const int64_t *)(mem + l.tindptr),
                     (const int64_t *)(mem + l.tedge),
                     (const int32_t *)(mem + l.tdst),
                     mem,
                     cap};
  return 0;
}

int rd_cuda_block_free(rd_cuda_block *d) {
  void *mem = d->mem;
  *d = rd_cuda_block{};
  RD_CUDA(cudaFree(mem));
  return 0;
}
