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

// lowbias32 (C. Wellons' hash prospector): a bijective 32-bit mix with
// 32-bit multiplies only, so a loop of it vectorises on CPUs (vpmulld) and
// is a short integer chain per thread on GPUs.
static inline RD_HOST_DEVICE uint32_t rd_hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// The key of a dropout mask: one per (seed, stream).
static inline RD_HOST_DEVICE uint64_t rd_mask_key(uint64_t seed, uint64_t stream) {
  return rd_hash64(seed ^ rd_hash64(stream));
}

// 32 random bits for element i of the mask with `key`: two lowbias32 rounds,
// a half of the key entering before each and i's high half into the second
// (constant over runs of 2^32 elements, so inner loops work on 32-bit lanes).
// Element i is kept iff rd_mask_bits(key, i) >= rd_mask_threshold(p).
static inline RD_HOST_DEVICE uint32_t rd_mask_bits(uint64_t key, uint64_t i) {
  const uint32_t hi = (uint32_t)(key >> 32) + (uint32_t)(i >> 32) * 0x9e3779b9u;
  return rd_hash32(rd_hash32((uint32_t)i ^ (uint32_t)key) + hi);
}

// The keep threshold of dropout probability p in [0, 1): an integer, so the
// float and double builds and the GPU drop exactly the same elements.
static inline RD_HOST_DEVICE uint32_t rd_mask_threshold(double p) {
  return (uint32_t)(p * 4294967296.0);
}

#endif
