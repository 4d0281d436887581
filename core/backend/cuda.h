// The CUDA backend (model/backend.h) of one rank: its tensors in GPU memory,
// its ops the kernels of kernels.h on one stream, GEMMs on cuBLAS, and the
// gradient sum on NCCL when every rank of a node has a GPU of its own, else
// through pinned host memory and MPI (ranks sharing a GPU).
#ifndef RUDDER_CUDA_BACKEND_H
#define RUDDER_CUDA_BACKEND_H

#include <mpi.h>

#include "backend/backend.h"

// Collective over comm: picks GPU (node-local rank) % (visible GPUs), and
// sets NCCL up unless ranks share a GPU or RUDDER_NCCL=0. NULL with
// rd_error_set on failure (no GPU, out of memory, NCCL refused); every rank
// must then give up, as some may have succeeded. Its name says the path:
// "cuda+nccl", or "cuda" (gradients through MPI).
rd_backend *rd_cuda_backend_create(MPI_Comm comm);

#endif
