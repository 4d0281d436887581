// The GPU a rank uses, its memory, and blocks moved onto it. Errors as in
// kernels.h: -1 with rd_error() naming the call and the CUDA message.
#ifndef RUDDER_CUDA_DEVICE_H
#define RUDDER_CUDA_DEVICE_H

#include <stddef.h>

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

// Makes device rank % (visible devices) current and stores it in *device.
// Pass the node-local rank (MPI_Comm_split_type SHARED) on a multi-node run,
// so that ranks spread over the GPUs of their own node.
int rd_cuda_select_device(int rank, int *device);

// 0 if `bytes` fit in the current device's free memory, else -1 with a
// message naming `what`, the request and the free / total memory in MiB.
// Call before allocating anything sized by the user (buffer capacity × row).
int rd_cuda_check_free(size_t bytes, const char *what);

// Copies block b (host) and its transpose to the device in one allocation,
// after a free-memory check; returns once the copy is done.
int rd_cuda_block_upload(const rd_block *b, rd_cuda_block *d, cudaStream_t stream);
// The same into d's existing allocation when it is large enough (d zeroed,
// or from an earlier upload), else into a new one with headroom: one
// allocation serves a run's blocks. On failure d stays safe to free.
int rd_cuda_block_restage(const rd_block *b, rd_cuda_block *d, cudaStream_t stream);
int rd_cuda_block_free(rd_cuda_block *d);

#ifdef __cplusplus
}
#endif

#endif
