#include "csr.h"

#include <stdlib.h>
#include <string.h>

#include "../error.h"

static int cmp_node(const void *a, const void *b) {
  rd_node x = *(const rd_node *)a, y = *(const rd_node *)b;
  return (x > y) - (x < y);
}

int rd_csr_from_edges(int64_t n, const rd_node *src, const rd_node *dst, int64_t m,
                      int64_t **indptr_out, rd_node **indices_out, int64_t *num_edges) {
  for (int64_t i = 0; i < m; i++)
    if (src[i] < 0 || src[i] >= n || dst[i] < 0 || dst[i] >= n)
      return rd_error_set("edge #%lld (%d, %d) has an endpoint outside [0, %lld)", (long long)i,
                          src[i], dst[i], (long long)n);
  int64_t *indptr = calloc((size_t)n + 1, sizeof *indptr);
  if (!indptr) return rd_error_set("out of memory for a %lld-node CSR", (long long)n);
  for (int64_t i = 0; i < m; i++)
    if (src[i] != dst[i]) {
      indptr[src[i] + 1]++;
      indptr[dst[i] + 1]++;
    }
  for (int64_t v = 0; v < n; v++) indptr[v + 1] += indptr[v];
  rd_node *indices = malloc(((size_t)indptr[n] + 1) * sizeof *indices);
  int64_t *fill = malloc((size_t)n * sizeof *fill);
  if (!indices || !fill) {
    rd_error_set("out of memory for %lld CSR entries", (long long)indptr[n]);
    free(indptr);
    free(indices);
    free(fill);
    return -1;
  }
  memcpy(fill, indptr, (size_t)n * sizeof *fill);
  for (int64_t i = 0; i < m; i++)
    if (src[i] != dst[i]) {
      indices[fill[src[i]]++] = dst[i];
      indices[fill[dst[i]]++] = src[i];
    }
  // Sort and deduplicate each row in place; fill[v] becomes the row's new length.
#pragma omp parallel for schedule(dynamic, 1024)
  for (int64_t v = 0; v < n; v++) {
    rd_node *row = indices + indptr[v];
    int64_t len = indptr[v + 1] - indptr[v], k = 0;
    qsort(row, (size_t)len, sizeof *row, cmp_node);
    for (int64_t j = 0; j < len; j++)
      if (k == 0 || row[j] != row[k - 1]) row[k++] = row[j];
    fill[v] = k;
  }
  // Compact rows left; reading row v before writing it is safe since
  // each row only moves towards lower addresses.
  int64_t out = 0;
  for (int64_t v = 0; v < n; v++) {
    int64_t start = indptr[v];
    memmove(indices + out, indices + start, (size_t)fill[v] * sizeof *indices);
    indptr[v] = out;
    out += fill[v];
  }
  indptr[n] = out;
  free(fill);
  rd_node *shrunk = realloc(indices, ((size_t)out + 1) * sizeof *indices);
  *indptr_out = indptr;
  *indices_out = shrunk ? shrunk : indices;
  *num_edges = out;
  return 0;
}
