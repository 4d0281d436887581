#include "saint.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "graph/csr.h"
#include "npy.h"
#include "zip.h"

int rd_multilabel_parse(const char *s, rd_multilabel_map *out) {
  if (!strcmp(s, "rare")) *out = RD_MULTILABEL_RARE;
  else if (!strcmp(s, "first")) *out = RD_MULTILABEL_FIRST;
  else return rd_error_set("multi-label mapping '%s' is not rare or first", s);
  return 0;
}

// ---- a streaming reader for the two JSON shapes of the release ------------
// class_map.json {"<id>": label | [0/1, ...], ...} and role.json
// {"tr": [ids], "va": [ids], "te": [ids]}: an object of arrays or integers.
// cJSON would build Yelp's class map (72M numbers) as a tree of several GiB
// and reports no line numbers; this reads it a buffer at a time and names
// the line of every error.

typedef struct json {
  gzFile gz;
  char path[4096];
  unsigned char buf[1 << 16];
  int pos, len;
  int64_t line;
} json;

// The callback gets each integer of the value of `key`: index -1 for a bare
// integer, 0.. for array elements, and index -2 with value = length when an
// array closes.
typedef int (*json_fn)(json *j, const char *key, int64_t index, int64_t value, void *ctx);

static int jpeek(json *j) {
  if (j->pos == j->len) {
    j->len = gzread(j->gz, j->buf, sizeof j->buf);
    j->pos = 0;
    if (j->len < 0) {
      int err;
      j->len = 0;
      return rd_error_set("%s:%lld: read error (%s)", j->path, (long long)j->line, gzerror(j->gz, &err)), -2;
    }
    if (j->len == 0) return -1;
  }
  return j->buf[j->pos];
}

static void jws(json *j) {
  for (int c; (c = jpeek(j)) >= 0 && isspace(c); j->pos++)
    if (c == '\n') j->line++;
}

static int jfail(json *j, const char *want) {
  const int c = jpeek(j);
  if (c == -2) return -1;
  if (c == -1) return rd_error_set("%s:%lld: expected %s, found the end of the file", j->path, (long long)j->line, want);
  return rd_error_set("%s:%lld: expected %s, found '%c'", j->path, (long long)j->line, want, c);
}

static int jchar(json *j, char ch, const char *want) {
  jws(j);
  if (jpeek(j) != ch) return jfail(j, want);
  j->pos++;
  return 0;
}

static int jstring(json *j, char *out, size_t n) {
  if (jchar(j, '"', "a string key")) return -1;
  size_t k = 0;
  for (int c; (c = jpeek(j)) != '"'; j->pos++) {
    if (c < 0 || c == '\n' || c == '\\') return jfail(j, "a plain string (no escapes) closed by '\"'");
    if (k + 1 < n) out[k++] = (char)c;
  }
  j->pos++;
  out[k] = 0;
  return 0;
}

static int jint(json *j, int64_t *v) {
  jws(j);
  char num[32];
  size_t k = 0;
  for (int c; (c = jpeek(j)) >= 0 && (isdigit(c) || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+'); j->pos++)
    if (k + 1 < sizeof num) num[k++] = (char)c;
  num[k] = 0;
  if (!k) return jfail(j, "an integer");
  char *end;
  errno = 0;
  const long long x = strtoll(num, &end, 10);
  if (*end || errno) return rd_error_set("%s:%lld: '%s' is not an integer", j->path, (long long)j->line, num);
  *v = x;
  return 0;
}

static int json_scan(const char *path, json_fn fn, void *ctx) {
  json *j = calloc(1, sizeof *j);
  if (!j) return rd_error_set("%s: out of memory", path);
  snprintf(j->path, sizeof j->path, "%s", path);
  j->line = 1;
  int rc = -1;
  if (!(j->gz = gzopen(path, "rb"))) {
    rd_error_set("%s: cannot open: %s", path, strerror(errno));
    free(j);
    return -1;
  }
  char key[256];
  if (jchar(j, '{', "'{' opening the object")) goto out;
  jws(j);
  if (jpeek(j) == '}') j->pos++;
  else
    for (;;) {
      int64_t v;
      if (jstring(j, key, sizeof key) || jchar(j, ':', "':' after the key")) goto out;
      jws(j);
      if (jpeek(j) == '[') {
        j->pos++;
        int64_t n = 0;
        jws(j);
        if (jpeek(j) == ']') j->pos++;
        else
          for (;;) {
            if (jint(j, &v) || fn(j, key, n++, v, ctx)) goto out;
            jws(j);
            if (jpeek(j) == ']') { j->pos++; break; }
            if (jchar(j, ',', "',' or ']' in the array")) goto out;
          }
        if (fn(j, key, -2, n, ctx)) goto out;
      } else if (jint(j, &v) || fn(j, key, -1, v, ctx)) {
        goto out;
      }
      jws(j);
      if (jpeek(j) == '}') { j->pos++; break; }
      if (jchar(j, ',', "',' or '}' after a value")) goto out;
    }
  jws(j);
  if (jpeek(j) != -1) {
    jfail(j, "the end of the file after the object");
    goto out;
  }
  rc = 0;
out:
  gzclose(j->gz);
  free(j);
  return rc;
}

// ---- class_map.json --------------------------------------------------------

enum { MAX_CLASSES = 4096 };

typedef struct {
  int64_t n;
  int32_t *label;      // single-label values, -1 = absent
  int multi;           // -1 unknown yet, 0 single, 1 multi
  int64_t classes;     // multi: list length
  uint8_t *bits;       // multi: n x classes
  uint8_t *seen;
  int64_t node, pos;   // the node of the current key; positives in its list so far
  int32_t cur[MAX_CLASSES];
  int32_t max;
} class_ctx;

static int class_fn(json *j, const char *key, int64_t index, int64_t v, void *vctx) {
  class_ctx *c = vctx;
  if (index == -1 || index == 0) {  // a new key's value starts
    char *end;
    errno = 0;
    const long long id = strtoll(key, &end, 10);
    if (!*key || *end || errno || id < 0 || id >= c->n)
      return rd_error_set("%s:%lld: key \"%s\" is not a node id in [0, %lld)", j->path,
                          (long long)j->line, key, (long long)c->n);
    if (c->seen[id]) return rd_error_set("%s:%lld: node %lld listed twice", j->path, (long long)j->line, id);
    c->seen[id] = 1;
    c->node = id;
    const int multi = index == 0;
    if (c->multi < 0) c->multi = multi;
    if (c->multi != multi)
      return rd_error_set("%s:%lld: node %lld has %s label, earlier nodes %s", j->path, (long long)j->line,
                          id, multi ? "a list as" : "a single", multi ? "a single one" : "lists");
  }
  if (index == -1) {
    if (v < 0 || v > 1 << 20)
      return rd_error_set("%s:%lld: label %lld of node %lld outside [0, 2^20]", j->path, (long long)j->line,
                          (long long)v, (long long)c->node);
    c->label[c->node] = (int32_t)v;
    if (v > c->max) c->max = (int32_t)v;
    return 0;
  }
  if (index == -2) {  // a list closed: its length must be the class count
    if (c->classes == 0) {
      if (v < 2 || v > MAX_CLASSES)
        return rd_error_set("%s:%lld: label list of %lld entries (2 to %d classes expected)", j->path,
                            (long long)j->line, (long long)v, MAX_CLASSES);
      c->classes = v;
      if (!(c->bits = calloc((size_t)(c->n * v), 1))) return rd_error_set("%s: out of memory", j->path);
    }
    if (v != c->classes)
      return rd_error_set("%s:%lld: node %lld has %lld labels, earlier nodes %lld", j->path, (long long)j->line,
                          (long long)c->node, (long long)v, (long long)c->classes);
    for (int64_t k = 0; k < c->pos; k++) c->bits[c->node * c->classes + c->cur[k]] = 1;
    c->pos = 0;
    return 0;
  }
  if (v != 0 && v != 1)
    return rd_error_set("%s:%lld: label entry %lld of node %lld is %lld, not 0 or 1", j->path, (long long)j->line,
                        (long long)index, (long long)c->node, (long long)v);
  if (index >= MAX_CLASSES)
    return rd_error_set("%s:%lld: more than %d labels for node %lld", j->path, (long long)j->line,
                        MAX_CLASSES, (long long)c->node);
  // The class count is known once the first list closes: keep the list's
  // positives until then.
  if (v) c->cur[c->pos++] = (int32_t)index;
  return 0;
}

// ---- role.json -------------------------------------------------------------

typedef struct {
  int64_t n;
  uint8_t *mark;   // bit per split
  int64_t count[3];
} role_ctx;

static int role_fn(json *j, const char *key, int64_t index, int64_t v, void *vctx) {
  role_ctx *c = vctx;
  static const char *names[3] = {"tr", "va", "te"};
  int s = 0;
  while (s < 3 && strcmp(key, names[s])) s++;
  if (s == 3) return 0;  // other keys are not ours
  if (index == -1)
    return rd_error_set("%s:%lld: \"%s\" must be a list of node ids", j->path, (long long)j->line, key);
  if (index == -2) return 0;
  if (v < 0 || v >= c->n)
    return rd_error_set("%s:%lld: \"%s\" entry %lld: node id %lld outside [0, %lld)", j->path,
                        (long long)j->line, key, (long long)index, (long long)v, (long long)c->n);
  if (c->mark[v])
    return rd_error_set("%s:%lld: \"%s\" entry %lld: node %lld is already in a split", j->path,
                        (long long)j->line, key, (long long)index, (long long)v);
  c->mark[v] = (uint8_t)(1u << s);
  c->count[s]++;
  return 0;
}

// ---- adj_full.npz ----------------------------------------------------------

// What a missing member suggests.
#define NOT_NPZ " (not a scipy.sparse.save_npz file?)"

static int read_adjacency(const char *dir, int64_t *n_out, rd_node **src, rd_node **dst, int64_t *m_out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/adj_full.npz", dir);
  rd_zip z;
  if (rd_zip_open(&z, path)) return -1;
  rd_zip_stream s;
  rd_npy a;
  int rc = -1;
  int64_t *indptr = NULL, shape[2];
  *src = *dst = NULL;
  if (rd_zip_find(&z, "format.npy")) {
    char fmt[8] = "";
    if (rd_npy_open_member(&a, &z, "format.npy", &s, NOT_NPZ)) goto out;
    const int ok = a.kind == 'S' && a.elem_size == 3 && a.count == 1 && rd_zip_read(&s, fmt, 3) == 3;
    rd_zip_stream_close(&s);
    // csc holds the transpose; both give the same undirected graph.
    if (!ok || (memcmp(fmt, "csr", 3) && memcmp(fmt, "csc", 3))) {
      rd_error_set("%s: format.npy: '%.3s' is not csr or csc", path, fmt);
      goto out;
    }
  }
  if (rd_npy_open_member(&a, &z, "shape.npy", &s, NOT_NPZ)) goto out;
  if (!rd_npy_shape_is(&a, 1, 2, -1)) {
    rd_zip_stream_close(&s);
    rd_error_set("%s: shape.npy: expected 2 entries", path);
    goto out;
  }
  int bad = rd_npy_read_i64(&a, shape, 2);
  rd_zip_stream_close(&s);
  if (bad) goto out;
  if (shape[0] != shape[1] || shape[0] < 1 || shape[0] > INT32_MAX) {
    rd_error_set("%s: shape.npy: %lld x %lld is not a square adjacency of at most 2^31-1 nodes", path,
                 (long long)shape[0], (long long)shape[1]);
    goto out;
  }
  const int64_t n = shape[0];
  if (rd_npy_open_member(&a, &z, "indptr.npy", &s, NOT_NPZ)) goto out;
  if (!rd_npy_shape_is(&a, 1, n + 1, -1)) {
    rd_zip_stream_close(&s);
    rd_error_set("%s: indptr.npy: %lld entries, expected nodes + 1 = %lld", path, (long long)a.count,
                 (long long)n + 1);
    goto out;
  }
  if (!(indptr = malloc((size_t)(n + 1) * sizeof *indptr))) {
    rd_zip_stream_close(&s);
    rd_error_set("%s: out of memory", path);
    goto out;
  }
  bad = rd_npy_read_i64(&a, indptr, n + 1);
  rd_zip_stream_close(&s);
  if (bad) goto out;
  if (indptr[0] != 0) {
    rd_error_set("%s: indptr.npy: entry 0 is %lld, not 0", path, (long long)indptr[0]);
    goto out;
  }
  for (int64_t v = 0; v < n; v++)
    if (indptr[v + 1] < indptr[v]) {
      rd_error_set("%s: indptr.npy: entry %lld (%lld) is below entry %lld (%lld)", path, (long long)v + 1,
                   (long long)indptr[v + 1], (long long)v, (long long)indptr[v]);
      goto out;
    }
  const int64_t m = indptr[n];
  if (rd_npy_open_member(&a, &z, "indices.npy", &s, NOT_NPZ)) goto out;
  if (!rd_npy_shape_is(&a, 1, m, -1)) {
    rd_zip_stream_close(&s);
    rd_error_set("%s: indices.npy: %lld entries, indptr.npy ends at %lld", path, (long long)a.count,
                 (long long)m);
    goto out;
  }
  *src = malloc(((size_t)m + 1) * sizeof **src);
  *dst = malloc(((size_t)m + 1) * sizeof **dst);
  if (!*src || !*dst) {
    rd_zip_stream_close(&s);
    rd_error_set("%s: out of memory for %lld entries", path, (long long)m);
    goto out;
  }
  bad = rd_npy_read_i32(&a, *dst, m, 0, n);
  rd_zip_stream_close(&s);
  if (bad) goto out;
  for (int64_t v = 0; v < n; v++)
    for (int64_t e = indptr[v]; e < indptr[v + 1]; e++) (*src)[e] = (rd_node)v;
  // data.npy holds the entries' values; every stored entry is an edge.
  if (!rd_zip_find(&z, "data.npy")) {
    rd_error_set("%s: no member data.npy (not a scipy.sparse.save_npz file?)", path);
    goto out;
  }
  *n_out = n;
  *m_out = m;
  rc = 0;
out:
  free(indptr);
  if (rc) {
    free(*src);
    free(*dst);
    *src = *dst = NULL;
  }
  rd_zip_close(&z);
  return rc;
}

int rd_import_saint(const char *dir, rd_multilabel_map map, const char *out_path) {
  rd_node *src = NULL, *dst = NULL, *ids[3] = {NULL, NULL, NULL};
  int64_t *indptr = NULL;
  rd_node *indices = NULL;
  float *x = NULL;
  class_ctx *cl = calloc(1, sizeof *cl);  // holds a 16 KiB list buffer
  if (!cl) return rd_error_set("%s: out of memory", dir);
  role_ctx ro = {0};
  char *prov = NULL;
  FILE *f = NULL;
  int64_t n = 0, m = 0;
  int rc = -1;
  char path[4200];
  if (read_adjacency(dir, &n, &src, &dst, &m)) goto done;
  rd_graph g = {.num_nodes = n};
  if (rd_csr_from_edges(n, src, dst, m, &indptr, &indices, &g.num_edges)) goto done;
  free(src);
  free(dst);
  src = dst = NULL;

  snprintf(path, sizeof path, "%s/feats.npy", dir);
  if (!(f = fopen(path, "rb"))) {
    rd_error_set("%s: cannot open: %s", path, strerror(errno));
    goto done;
  }
  rd_npy a;
  if (rd_npy_open(&a, rd_npy_file_source, f, path)) goto done;
  if (!rd_npy_shape_is(&a, 2, n, -1) || a.shape[1] < 1 || a.shape[1] > 1 << 20) {
    rd_error_set("%s: shape (%lld, %lld), expected (%lld nodes of adj_full.npz, features)", path,
                 (long long)a.shape[0], (long long)(a.ndim > 1 ? a.shape[1] : -1), (long long)n);
    goto done;
  }
  g.num_features = (int32_t)a.shape[1];
  if (!(x = malloc((size_t)n * (size_t)g.num_features * sizeof *x))) {
    rd_error_set("%s: out of memory", path);
    goto done;
  }
  if (rd_npy_read_f32(&a, x, a.count)) goto done;
  fclose(f);
  f = NULL;

  snprintf(path, sizeof path, "%s/class_map.json", dir);
  cl->n = n;
  cl->multi = -1;
  cl->max = -1;
  cl->label = malloc((size_t)n * sizeof *cl->label);
  cl->seen = calloc((size_t)n, 1);
  if (!cl->label || !cl->seen) {
    rd_error_set("%s: out of memory", path);
    goto done;
  }
  for (int64_t v = 0; v < n; v++) cl->label[v] = -1;
  if (json_scan(path, class_fn, cl)) goto done;
  int64_t absent = 0, none = 0;
  for (int64_t v = 0; v < n; v++) absent += !cl->seen[v];
  char how[512] = "single-label, as shipped";
  if (cl->multi == 1) {
    // Positives per class, then one class per node.
    int64_t *pos = calloc((size_t)cl->classes, sizeof *pos);
    if (!pos) {
      rd_error_set("%s: out of memory", path);
      goto done;
    }
    for (int64_t v = 0; v < n; v++)
      for (int64_t k = 0; k < cl->classes; k++) pos[k] += cl->bits[v * cl->classes + k];
    for (int64_t v = 0; v < n; v++) {
      int64_t best = -1;
      for (int64_t k = 0; k < cl->classes; k++)
        if (cl->bits[v * cl->classes + k] &&
            (best < 0 || (map == RD_MULTILABEL_RARE && pos[k] < pos[best])))
          best = k;
      cl->label[v] = (int32_t)best;
      none += best < 0 && cl->seen[v];
    }
    free(pos);
    cl->max = (int32_t)cl->classes - 1;
    snprintf(how, sizeof how,
             "MAPPED from multi-label (%lld classes) to single-label: each node's %s positive "
             "class; %lld nodes with no positive class are unlabelled (-1)",
             (long long)cl->classes,
             map == RD_MULTILABEL_RARE ? "rarest (fewest positive nodes overall, ties: smallest)"
                                       : "smallest",
             (long long)none);
  }
  if (cl->max < 0) {
    rd_error_set("%s: no node has a label", path);
    goto done;
  }
  g.num_classes = cl->max + 1;

  snprintf(path, sizeof path, "%s/role.json", dir);
  ro.n = n;
  if (!(ro.mark = calloc((size_t)n, 1))) {
    rd_error_set("%s: out of memory", path);
    goto done;
  }
  if (json_scan(path, role_fn, &ro)) goto done;
  for (int s = 0; s < 3; s++) {
    if (ro.count[s] == 0 && s == 0) {
      rd_error_set("%s: no \"tr\" (training) nodes", path);
      goto done;
    }
    if (!(ids[s] = malloc(((size_t)ro.count[s] + 1) * sizeof *ids[s]))) {
      rd_error_set("%s: out of memory", path);
      goto done;
    }
    int64_t k = 0;  // ascending, as the graph file wants
    for (int64_t v = 0; v < n; v++)
      if (ro.mark[v] == 1u << s) ids[s][k++] = (rd_node)v;
  }
  if (!(prov = malloc(2048))) goto done;
  snprintf(prov, 2048,
           "source: GraphSAINT release layout %s (adj_full.npz, feats.npy, class_map.json, "
           "role.json); %lld stored adjacency entries, symmetrised\n"
           "labels: %s; %lld nodes absent from class_map.json are unlabelled\n"
           "features: as shipped (feats.npy, %c%d), stored as float32\n"
           "split: role.json tr / va / te\n",
           dir, (long long)m, how, (long long)absent, a.kind, a.elem_size * 8);
  g.indptr = indptr;
  g.indices = indices;
  g.features = x;
  g.labels = cl->label;
  g.train = ids[0], g.num_train = ro.count[0];
  g.valid = ids[1], g.num_valid = ro.count[1];
  g.test = ids[2], g.num_test = ro.count[2];
  g.provenance = prov;
  rc = rd_graph_write(&g, out_path);
done:
  if (f) fclose(f);
  free(src);
  free(dst);
  free(indptr);
  free(indices);
  free(x);
  free(cl->label);
  free(cl->seen);
  free(cl->bits);
  free(ro.mark);
  free(prov);
  for (int s = 0; s < 3; s++) free(ids[s]);
  free(cl);
  return rc;
}
