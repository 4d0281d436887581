// An indexed binary min-heap over buffer slots, keyed by 64-bit integers:
// the victim order of the LRU (key: last use), LFU (key: uses, then last
// use) and Belady (key: minus the next use) rules. O(log n) updates of any
// slot's key through its position index.
#ifndef RUDDER_HEAP_H
#define RUDDER_HEAP_H

#include <stdint.h>

typedef struct rd_heap {
  int32_t *slot;    // heap order -> slot
  int32_t *pos;     // slot -> heap position, -1 when absent
  int64_t *key;     // slot -> key (two words for LFU: key2 breaks ties)
  int64_t *key2;
  int32_t size, capacity;
} rd_heap;

int rd_heap_init(rd_heap *h, int32_t capacity);
void rd_heap_free(rd_heap *h);
// Inserts `slot` or, if present, updates its keys.
void rd_heap_set(rd_heap *h, int32_t slot, int64_t key, int64_t key2);
void rd_heap_remove(rd_heap *h, int32_t slot);
static inline int32_t rd_heap_top(const rd_heap *h) { return h->size ? h->slot[0] : -1; }

#endif
