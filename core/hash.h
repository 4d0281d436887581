// Counter-based hashing shared by the CPU ops and the CUDA kernels: the same
// inline functions compile for the host (C) and, under nvcc, for the device,
// so a mask drawn on either side is bit for bit the same.
#ifndef RUDDER_HASH_H
#define RUDDER_HASH_H

#include <stdint.h>

#ifdef __CUDACC__
#define RD_HOST_DEVICE __host__ __device__
#else
#define RD_HOST_DEVICE
#endif

// splitmix64's finalizer: a bijective 64-bit mix.
static inline RD_HOST_DEVICE uint64_t rd_hash64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Element i of the splitmix64 stream started at key: random access, so
// parallel loops need no generator state.
static inline RD_HOST_DEVICE uint64_t rd_counter_hash(uint64_t key, uint64_t i) {
  return rd_hash64(key + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

#endif
