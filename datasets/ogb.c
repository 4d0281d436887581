#include "ogb.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "error.h"
#include "graph/csr.h"
#include "lines.h"
#include "npy.h"
#include "zip.h"

enum { PATH_LEN = 4096 };

static const char NODE_COUNT[] = "the node count in num-node-list.csv.gz";

static int64_t count_fields(const char *s) {
  int64_t n = 1;
  for (; (s = strchr(s, ',')); s++) n++;
  return n;
}

static int expect_fields(const rd_lines *r, const char *s, int64_t want) {
  int64_t n = count_fields(s);
  if (n == want) return 0;
  return rd_error_set("%s:%lld: expected %lld field%s, found %lld", r->path, (long long)r->line,
                      (long long)want, want == 1 ? "" : "s", (long long)n);
}

// Reports field k (1-based) that starts at s, quoting at most 40 characters of it.
static int bad_field(const rd_lines *r, const char *s, int64_t k, const char *what) {
  int len = (int)strcspn(s, ",");
  return rd_error_set("%s:%lld: field %lld ('%.*s') %s", r->path, (long long)r->line, (long long)k,
                      len < 40 ? len : 40, s, what);
}

// Parses field k at *s as an integer in [lo, hi) and moves *s past it and its comma.
static int parse_int(const rd_lines *r, char **s, int k, int64_t lo, int64_t hi, int64_t *v) {
  char *end;
  errno = 0;
  long long x = strtoll(*s, &end, 10);
  if (end == *s || (*end != ',' && *end != '\0')) return bad_field(r, *s, k, "is not an integer");
  if (errno == ERANGE || x < lo || x >= hi)
    return rd_error_set("%s:%lld: field %d (%.*s) outside [%lld, %lld)", r->path,
                        (long long)r->line, k, (int)(end - *s), *s, (long long)lo, (long long)hi);
  *v = x;
  *s = end + (*end == ',');
  return 0;
}

typedef struct {
  int64_t lo, hi, value;
} count_ctx;

static int count_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  count_ctx *c = ctx;
  (void)i;
  return expect_fields(r, s, 1) || parse_int(r, &s, 1, c->lo, c->hi, &c->value) ? -1 : 0;
}

typedef struct {
  int64_t n;
  rd_node *src, *dst;
} edge_ctx;

static int edge_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  edge_ctx *e = ctx;
  int64_t u, v;
  if (expect_fields(r, s, 2) || parse_int(r, &s, 1, 0, e->n, &u) ||
      parse_int(r, &s, 2, 0, e->n, &v))
    return -1;
  e->src[i] = (rd_node)u;
  e->dst[i] = (rd_node)v;
  return 0;
}

typedef struct {
  int64_t n;
  int32_t width;
  float *x;
} feat_ctx;

static int feat_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  feat_ctx *c = ctx;
  const char *line = s;
  if (i == 0) {  // the first line fixes the width; the rows are allocated once it is known
    int64_t f = count_fields(s);
    if (f > INT32_MAX || (uint64_t)f > SIZE_MAX / sizeof(float) / (uint64_t)c->n)
      return rd_error_set("%s:%lld: %lld features per node is too many", r->path,
                          (long long)r->line, (long long)f);
    if (!(c->x = malloc((size_t)c->n * (size_t)f * sizeof *c->x)))
      return rd_error_set("%s: out of memory for %lld x %lld features", r->path, (long long)c->n,
                          (long long)f);
    c->width = (int32_t)f;
  }
  float *row = c->x + i * c->width;
  for (int32_t j = 0; j < c->width; j++) {
    char *end;
    row[j] = strtof(s, &end);
    if (end == s || (*end != ',' && *end != '\0') || !isfinite(row[j]))
      return bad_field(r, s, j + 1, "is not a finite number");
    if ((*end == '\0') != (j + 1 == c->width))
      return rd_error_set("%s:%lld: expected %d features as on the first line, found %lld", r->path,
                          (long long)r->line, c->width, (long long)count_fields(line));
    s = end + 1;
  }
  return 0;
}

typedef struct {
  int32_t *y, max;
} label_ctx;

static int label_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  label_ctx *c = ctx;
  if (expect_fields(r, s, 1)) return -1;
  char *end;
  double x = strtod(s, &end);
  if (end == s || *end) return bad_field(r, s, 1, "is not a number");
  // Labels may be written as floats ("3.0"); nan marks an unlabelled node.
  if (!isnan(x) && (!(x >= 0 && x < INT32_MAX) || x != (int32_t)x))
    return bad_field(r, s, 1, "is not a non-negative integer label or nan");
  c->y[i] = isnan(x) ? -1 : (int32_t)x;
  if (c->y[i] > c->max) c->max = c->y[i];
  return 0;
}

// Split membership as one bit per split in a byte per node: duplicates are
// caught on their line, and the ascending id list falls out of one pass.
typedef struct {
  int64_t n;
  uint8_t *mark, bit;
} split_ctx;

static int split_line(const rd_lines *r, int64_t i, char *s, void *ctx) {
  split_ctx *c = ctx;
  int64_t v;
  (void)i;
  if (expect_fields(r, s, 1) || parse_int(r, &s, 1, 0, c->n, &v)) return -1;
  if (c->mark[v] & c->bit)
    return rd_error_set("%s:%lld: node id %lld listed twice", r->path, (long long)r->line,
                        (long long)v);
  c->mark[v] |= c->bit;
  return 0;
}

static int read_split(const char *dir, const char *split, const char *part, split_ctx *c,
                      rd_node **ids, int64_t *count) {
  rd_lines r;
  if (rd_lines_scan(&r, -1, NULL, split_line, c, "%s/split/%s/%s.csv.gz", dir, split, part)) return -1;
  if (r.records == 0) return rd_error_set("%s: empty split", r.path);
  if (!(*ids = malloc((size_t)r.records * sizeof **ids)))
    return rd_error_set("%s: out of memory", r.path);
  *count = 0;
  for (int64_t v = 0; v < c->n; v++)
    if (c->mark[v] & c->bit) (*ids)[(*count)++] = (rd_node)v;
  return 0;
}

// Copies the name of the only subdirectory of DIR/split into name[NAME_MAX + 1].
static int only_split(const char *dir, char *name) {
  char path[PATH_LEN], sub[PATH_LEN];
  if (snprintf(path, sizeof path, "%s/split", dir) >= (int)sizeof path)
    return rd_error_set("%s: path too long", dir);
  DIR *d = opendir(path);
  if (!d) return rd_error_set("%s: cannot open: %s", path, strerror(errno));
  int found = 0;
  for (struct dirent *e; (e = readdir(d));) {
    struct stat st;
    if (e->d_name[0] == '.') continue;  // ".", ".." and hidden entries
    if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub &&
        stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && found++ == 0)
      snprintf(name, NAME_MAX + 1, "%s", e->d_name);
  }
  closedir(d);
  if (found != 1)
    return rd_error_set("%s: %d split directories, expected exactly one (name the split to use)",
                        path, found);
  return 0;
}

// The binary layout OGB ships for the largest dataset (ogbn-papers100M):
// raw/data.npz (edge_index 2 x E, node_feat N x F, float16 there,
// num_nodes_list) and raw/node-label.npz (node_label, nan = unlabelled).
// Both read a 64 KiB block at a time; the split is CSV as for the others.
static int import_npz(const char *dir, const char *split_name, const char *out_path) {
  char path[PATH_LEN];
  rd_zip z = {0};
  rd_zip_stream *st = malloc(sizeof *st);
  rd_npy a;
  rd_node *src = NULL, *dst = NULL, *ids[3] = {NULL, NULL, NULL};
  int64_t *indptr = NULL, count[3];
  rd_node *indices = NULL;
  float *x = NULL;
  int32_t *y = NULL;
  uint8_t *mark = NULL;
  int rc = -1, open_stream = 0;
  rd_graph g = {0};
  if (!st) return rd_error_set("%s: out of memory", dir);
  snprintf(path, sizeof path, "%s/raw/data.npz", dir);
  if (rd_zip_open(&z, path)) goto done;
  int64_t n;
  if (rd_npy_open_member(&a, &z, "num_nodes_list.npy", st, "")) goto done;
  open_stream = 1;
  if (a.count != 1 || rd_npy_read_i64(&a, &n, 1)) {
    if (a.count != 1) rd_error_set("%s: num_nodes_list.npy: %lld entries, expected 1 graph", path, (long long)a.count);
    goto done;
  }
  rd_zip_stream_close(st), open_stream = 0;
  if (n < 1 || n > INT32_MAX) {
    rd_error_set("%s: num_nodes_list.npy: %lld nodes out of range", path, (long long)n);
    goto done;
  }
  if (rd_npy_open_member(&a, &z, "edge_index.npy", st, "")) goto done;
  open_stream = 1;
  if (!rd_npy_shape_is(&a, 2, 2, -1)) {
    rd_error_set("%s: edge_index.npy: expected shape (2, edges)", path);
    goto done;
  }
  const int64_t m = a.shape[1];
  src = malloc(((size_t)m + 1) * sizeof *src);
  dst = malloc(((size_t)m + 1) * sizeof *dst);
  if (!src || !dst) {
    rd_error_set("%s: out of memory for %lld edges", path, (long long)m);
    goto done;
  }
  // Row 0 (sources) then row 1 (targets), in C order.
  if (rd_npy_read_i32(&a, src, m, 0, n) || rd_npy_read_i32(&a, dst, m, 0, n)) goto done;
  rd_zip_stream_close(st), open_stream = 0;
  g.num_nodes = n;
  if (rd_csr_from_edges(n, src, dst, m, &indptr, &indices, &g.num_edges)) goto done;
  free(src), free(dst);
  src = dst = NULL;
  if (rd_npy_open_member(&a, &z, "node_feat.npy", st, "")) goto done;
  open_stream = 1;
  if (!rd_npy_shape_is(&a, 2, n, -1) || a.shape[1] < 1) {
    rd_error_set("%s: node_feat.npy: expected shape (%lld nodes, features)", path, (long long)n);
    goto done;
  }
  g.num_features = (int32_t)a.shape[1];
  if (!(x = malloc((size_t)a.count * sizeof *x))) {
    rd_error_set("%s: out of memory for %lld features", path, (long long)a.count);
    goto done;
  }
  if (rd_npy_read_f32(&a, x, a.count)) goto done;
  rd_zip_stream_close(st), open_stream = 0;
  rd_zip_close(&z);
  snprintf(path, sizeof path, "%s/raw/node-label.npz", dir);
  if (rd_zip_open(&z, path) || rd_npy_open_member(&a, &z, "node_label.npy", st, "")) goto done;
  open_stream = 1;
  if (a.count != n) {
    rd_error_set("%s: node_label.npy: %lld labels for %lld nodes", path, (long long)a.count, (long long)n);
    goto done;
  }
  if (!(y = malloc((size_t)n * sizeof *y)) || rd_npy_read_labels(&a, y, n)) {
    if (!y) rd_error_set("%s: out of memory", path);
    goto done;
  }
  rd_zip_stream_close(st), open_stream = 0;
  int32_t max = -1;
  for (int64_t v = 0; v < n; v++) max = y[v] > max ? y[v] : max;
  if (max < 0) {
    rd_error_set("%s: no node has a label", path);
    goto done;
  }
  g.num_classes = max + 1;
  split_ctx sc = {n, mark = calloc((size_t)n, 1), 0};
  if (!mark) {
    rd_error_set("%s: out of memory", dir);
    goto done;
  }
  static const char *part[3] = {"train", "valid", "test"};
  for (int p = 0; p < 3; p++) {
    sc.bit = (uint8_t)(1u << p);
    if (read_split(dir, split_name, part[p], &sc, &ids[p], &count[p])) goto done;
  }
  g.indptr = indptr, g.indices = indices, g.features = x, g.labels = y;
  g.train = ids[0], g.num_train = count[0];
  g.valid = ids[1], g.num_valid = count[1];
  g.test = ids[2], g.num_test = count[2];
  g.provenance = "source: OGB binary layout (raw/data.npz, raw/node-label.npz), features stored "
                 "as float32, edges symmetrised\n";
  rc = rd_graph_write(&g, out_path);
done:
  if (open_stream) rd_zip_stream_close(st);
  free(st);
  rd_zip_close(&z);
  free(src), free(dst), free(indptr), free(indices), free(x), free(y), free(mark);
  for (int p = 0; p < 3; p++) free(ids[p]);
  return rc;
}

int rd_import_ogb(const char *dir, const char *split_name, const char *out_path) {
  char only[NAME_MAX + 1];
  if (!split_name) {
    if (only_split(dir, only)) return -1;
    split_name = only;
  }
  {
    char csv[PATH_LEN], npz[PATH_LEN];
    snprintf(csv, sizeof csv, "%s/raw/edge.csv.gz", dir);
    snprintf(npz, sizeof npz, "%s/raw/data.npz", dir);
    struct stat st;
    if (stat(csv, &st) != 0 && stat(npz, &st) == 0) return import_npz(dir, split_name, out_path);
  }
  rd_lines r;
  // Bounds keep n within rd_node and the byte size of 2 m CSR entries within size_t.
  count_ctx nodes = {1, (int64_t)INT32_MAX + 1, 0};
  count_ctx edges = {0, (int64_t)(SIZE_MAX / (2 * sizeof(rd_node))), 0};
  if (rd_lines_scan(&r, 1, "one count", count_line, &nodes, "%s/raw/num-node-list.csv.gz", dir) ||
      rd_lines_scan(&r, 1, "one count", count_line, &edges, "%s/raw/num-edge-list.csv.gz", dir))
    return -1;
  const int64_t n = nodes.value, m = edges.value;
  edge_ctx e = {n, malloc(((size_t)m + 1) * sizeof(rd_node)),
                malloc(((size_t)m + 1) * sizeof(rd_node))};
  feat_ctx f = {n, 0, NULL};
  label_ctx l = {malloc((size_t)n * sizeof(int32_t)), -1};
  split_ctx s = {n, calloc((size_t)n, 1), 0};
  int64_t *indptr = NULL;
  rd_node *indices = NULL, *ids[3] = {NULL, NULL, NULL};
  rd_graph g = {.num_nodes = n, .seed = 0};
  int rc = -1;
  if (!e.src || !e.dst || !l.y || !s.mark) {
    rd_error_set("%s: out of memory for %lld nodes and %lld edges", dir, (long long)n,
                 (long long)m);
    goto done;
  }
  if (rd_lines_scan(&r, m, "the edge count in num-edge-list.csv.gz", edge_line, &e, "%s/raw/edge.csv.gz",
           dir) ||
      rd_csr_from_edges(n, e.src, e.dst, m, &indptr, &indices, &g.num_edges))
    goto done;
  // The edge list goes before the features arrive: they are the two largest arrays.
  free(e.src);
  free(e.dst);
  e.src = e.dst = NULL;
  if (rd_lines_scan(&r, n, NODE_COUNT, feat_line, &f, "%s/raw/node-feat.csv.gz", dir) ||
      rd_lines_scan(&r, n, NODE_COUNT, label_line, &l, "%s/raw/node-label.csv.gz", dir))
    goto done;
  if (l.max < 0) {
    rd_error_set("%s: no node has a label", r.path);
    goto done;
  }
  static const char *part[3] = {"train", "valid", "test"};
  int64_t count[3];
  for (int p = 0; p < 3; p++) {
    s.bit = (uint8_t)(1u << p);
    if (read_split(dir, split_name, part[p], &s, &ids[p], &count[p])) goto done;
  }
  g.num_features = f.width;
  g.num_classes = l.max + 1;
  g.indptr = indptr;
  g.indices = indices;
  g.features = f.x;
  g.labels = l.y;
  g.train = ids[0], g.num_train = count[0];
  g.valid = ids[1], g.num_valid = count[1];
  g.test = ids[2], g.num_test = count[2];
  rc = rd_graph_write(&g, out_path);
done:
  free(e.src);
  free(e.dst);
  free(f.x);
  free(l.y);
  free(s.mark);
  free(indptr);
  free(indices);
  for (int p = 0; p < 3; p++) free(ids[p]);
  return rc;
}
