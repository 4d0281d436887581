#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int rd_heap_init(rd_heap *h, int32_t capacity) {
  memset(h, 0, sizeof *h);
  const size_t n = (size_t)capacity + 1;
  h->slot = malloc(n * sizeof *h->slot);
  h->pos = malloc(n * sizeof *h->pos);
  h->key = malloc(n * sizeof *h->key);
  h->key2 = malloc(n * sizeof *h->key2);
  if (!h->slot || !h->pos || !h->key || !h->key2) {
    rd_heap_free(h);
    return rd_error_set("out of memory for a %d-slot heap", capacity);
  }
  memset(h->pos, 0xff, n * sizeof *h->pos);
  h->capacity = capacity;
  return 0;
}

void rd_heap_free(rd_heap *h) {
  free(h->slot); free(h->pos); free(h->key); free(h->key2);
  memset(h, 0, sizeof *h);
}

static inline int less(const rd_heap *h, int32_t a, int32_t b) {
  // Ties on both keys fall back to the slot id: deterministic victims.
  if (h->key[a] != h->key[b]) return h->key[a] < h->key[b];
  if (h->key2[a] != h->key2[b]) return h->key2[a] < h->key2[b];
  return a < b;
}

static void place(rd_heap *h, int32_t i, int32_t slot) {
  h->slot[i] = slot;
  h->pos[slot] = i;
}

static void sift_up(rd_heap *h, int32_t i) {
  const int32_t s = h->slot[i];
  while (i > 0) {
    const int32_t parent = (i - 1) / 2;
    if (!less(h, s, h->slot[parent])) break;
    place(h, i, h->slot[parent]);
    i = parent;
  }
  place(h, i, s);
}

static void sift_down(rd_heap *h, int32_t i) {
  const int32_t s = h->slot[i];
  for (;;) {
    int32_t c = 2 * i + 1;
    if (c >= h->size) break;
    if (c + 1 < h->size && less(h, h->slot[c + 1], h->slot[c])) c++;
    if (!less(h, h->slot[c], s)) break;
    place(h, i, h->slot[c]);
    i = c;
  }
  place(h, i, s);
}

void rd_heap_set(rd_heap *h, int32_t slot, int64_t key, int64_t key2) {
  h->key[slot] = key;
  h->key2[slot] = key2;
  int32_t i = h->pos[slot];
  if (i < 0) {
    i = h->size++;
    place(h, i, slot);
  }
  sift_up(h, i);
  sift_down(h, h->pos[slot]);
}

void rd_heap_remove(rd_heap *h, int32_t slot) {
  const int32_t i = h->pos[slot];
  if (i < 0) return;
  h->pos[slot] = -1;
  const int32_t last = h->slot[--h->size];
  if (i == h->size) return;
  place(h, i, last);
  sift_up(h, i);
  sift_down(h, h->pos[last]);
}
