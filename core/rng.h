// Seeded, splittable randomness. Every random choice in the suite draws from
// a stream derived from (seed, purpose, index) so results do not depend on
// thread count or scheduling: xoshiro256** seeded through splitmix64.
#ifndef RUDDER_RNG_H
#define RUDDER_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct rd_rng {
  uint64_t s[4];
} rd_rng;

static inline uint64_t rd_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A stateless 64-bit mix of three words (counter-based hashing).
static inline uint64_t rd_hash3(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xd1b54a32d192ed03ull);
  return rd_splitmix64(&x);
}

static inline rd_rng rd_rng_stream(uint64_t seed, uint64_t purpose, uint64_t index) {
  uint64_t x = rd_hash3(seed, purpose, index);
  rd_rng r;
  for (int i = 0; i < 4; i++) r.s[i] = rd_splitmix64(&x);
  return r;
}

static inline uint64_t rd_rng_next(rd_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

// Uniform in [0, 1) with 53 random bits.
static inline double rd_rng_uniform(rd_rng *r) { return (double)(rd_rng_next(r) >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias is
// below 2^-32 for every n used here).
static inline uint64_t rd_rng_below(rd_rng *r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)rd_rng_next(r) * n) >> 64);
}

// Standard normal (Box-Muller; one of the pair is discarded for simplicity
// of state, which costs less than the log/sqrt themselves).
static inline double rd_rng_normal(rd_rng *r) {
  double u = 1.0 - rd_rng_uniform(r), v = rd_rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif
