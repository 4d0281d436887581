// A throwaway policy, defined here and nowhere else: first in, first out
// (admit every miss, evict the row admitted longest ago, whatever its hits),
// a rule no baseline has. test_policy_plugin runs it live and in replay.
#include <stdlib.h>

#include "buffer/policy.h"
#include "error.h"

typedef struct fifo {
  int32_t *ring;  // slots in admission order, oldest at head
  int64_t head, size, capacity;
} fifo;

static int create(const rd_policy_params *p, void **state) {
  (void)p;
  return (*state = calloc(1, sizeof(fifo))) ? 0 : rd_error_set("out of memory");
}

static int32_t admit(void *state, const rd_buffer *b, int32_t halo, int64_t step, int32_t free_slot) {
  (void)halo;
  (void)step;
  fifo *f = state;
  if (!f->ring) {
    f->capacity = b->cfg.capacity;
    if (!(f->ring = malloc(((size_t)f->capacity + 1) * sizeof *f->ring))) return -1;
  }
  int32_t slot = free_slot;
  if (slot < 0) {  // full: the oldest admission makes room
    slot = f->ring[f->head];
    f->head = (f->head + 1) % f->capacity;
    f->size--;
  }
  f->ring[(f->head + f->size++) % f->capacity] = slot;
  return slot;
}

static void destroy(void *state) {
  fifo *f = state;
  free(f->ring);
  free(f);
}

const rd_policy_ops rd_policy_fifo = {
    .name = "fifo", .summary = "admit every miss, evict the oldest admission (test plugin)",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_CUSTOM,
    .create = create, .admit = admit, .destroy = destroy};
