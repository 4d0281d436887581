#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int64_t rd_npy_file_source(void *file, void *buf, size_t n) {
  const size_t got = fread(buf, 1, n, (FILE *)file);
  if (got < n && ferror((FILE *)file)) return rd_error_set("read error: %s", strerror(errno));
  return (int64_t)got;
}

// Exactly n bytes, or an error saying what ended early.
static int fill(rd_npy *a, void *buf, size_t n, const char *what) {
  size_t have = 0;
  while (have < n) {
    const int64_t got = a->read(a->src, (char *)buf + have, n - have);
    // A zip member's errors already name the archive and the member.
    if (got < 0) return a->read == rd_npy_file_source ? rd_error_wrap("%s", a->name) : -1;
    if (got == 0)
      return rd_error_set("%s: ends inside the %s (%zu of %zu bytes)", a->name, what, have, n);
    have += (size_t)got;
  }
  return 0;
}

// The value text after 'key': in the header dict, or NULL.
static const char *dict_value(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  for (p++; *p == ' ';) p++;
  return p;
}

int rd_npy_open(rd_npy *a, rd_npy_source read, void *src, const char *name) {
  memset(a, 0, sizeof *a);
  snprintf(a->name, sizeof a->name, "%s", name);
  a->read = read;
  a->src = src;
  unsigned char pre[12];
  if (fill(a, pre, 10, "header")) return -1;
  if (memcmp(pre, "\x93NUMPY", 6))
    return rd_error_set("%s: not a .npy array (bad magic)", a->name);
  const int major = pre[6];
  size_t hlen;
  if (major == 1) {
    hlen = (size_t)(pre[8] | pre[9] << 8);
  } else if (major == 2 || major == 3) {
    if (fill(a, pre + 10, 2, "header")) return -1;
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  } else {
    return rd_error_set("%s: .npy format version %d.%d is not known", a->name, major, pre[7]);
  }
  if (hlen > (1u << 20)) return rd_error_set("%s: header of %zu bytes is implausible", a->name, hlen);
  char *h = malloc(hlen + 1);
  if (!h) return rd_error_set("%s: out of memory", a->name);
  if (fill(a, h, hlen, "header")) return free(h), -1;
  h[hlen] = 0;
  int rc = -1;
  const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
             *sh = dict_value(h, "shape");
  if (!d || !fo || !sh) {
    rd_error_set("%s: header lacks %s", a->name, !d ? "'descr'" : !fo ? "'fortran_order'" : "'shape'");
    goto out;
  }
  // descr: '<f4', '|b1', '>i8', ...: byte order, kind, size.
  char order, kind;
  int size, used = 0;
  if (sscanf(d, "'%c%c%d'%n", &order, &kind, &size, &used) != 3 || !used ||
      !strchr("<>|=", order) || !strchr("iufbS", kind) || size < 1 || size > 64 ||
      (kind != 'S' && size != 1 && size != 2 && size != 4 && size != 8) ||
      (kind == 'f' && size != 2 && size != 4 && size != 8)) {
    rd_error_set("%s: descr %.12s is not a plain number, bool or byte-string type", a->name, d);
    goto out;
  }
  a->kind = kind, a->elem_size = size, a->swap = order == '>' && size > 1;
  if (strncmp(fo, "False", 5)) {
    rd_error_set("%s: fortran_order is not False (Fortran-ordered arrays are not read)", a->name);
    goto out;
  }
  if (*sh != '(') {
    rd_error_set("%s: shape is not a tuple", a->name);
    goto out;
  }
  a->count = 1;
  for (const char *p = sh + 1;;) {
    while (*p == ' ') p++;
    if (*p == ')') break;
    char *end;
    const long long v = strtoll(p, &end, 10);
    if (end == p || v < 0 || a->ndim == 8) {
      rd_error_set("%s: bad shape %.40s", a->name, sh);
      goto out;
    }
    a->shape[a->ndim++] = v;
    a->count *= v;
    for (p = end; *p == ' ';) p++;
    if (*p == ',') p++;
  }
  rc = 0;
out:
  free(h);
  return rc;
}

int rd_npy_shape_is(const rd_npy *a, int ndim, int64_t d0, int64_t d1) {
  if (a->ndim != ndim) return 0;
  if (ndim >= 1 && d0 >= 0 && a->shape[0] != d0) return 0;
  if (ndim >= 2 && d1 >= 0 && a->shape[1] != d1) return 0;
  return 1;
}

enum { CHUNK = 1 << 16 };

// IEEE half precision (ogbn-papers100M's features) to double.
static double half(const unsigned char *b) {
  const unsigned h = (unsigned)b[0] | (unsigned)b[1] << 8, e = (h >> 10) & 31, m = h & 1023;
  const double sign = h & 0x8000 ? -1.0 : 1.0;
  if (e == 0) return sign * ldexp((double)m, -24);  // subnormal
  if (e == 31) return m ? NAN : sign * INFINITY;
  return sign * ldexp((double)(m | 1024), (int)e - 25);
}

// Element i of a raw chunk as a double (exact for integers below 2^53) and
// as an int64 (exact for every integer type but u8 over 2^63).
static void element(const rd_npy *a, const unsigned char *p, double *f, int64_t *i) {
  unsigned char b[8];
  const int n = a->elem_size;
  for (int k = 0; k < n; k++) b[k] = a->swap ? p[n - 1 - k] : p[k];
  switch (a->kind) {
  case 'f':
    if (n == 2) *f = half(b);
    else if (n == 4) { float x; memcpy(&x, b, 4); *f = x; }
    else { double x; memcpy(&x, b, 8); *f = x; }
    *i = isfinite(*f) && fabs(*f) < 9.2e18 ? (int64_t)*f : INT64_MIN;
    return;
  case 'i': {
    int64_t x = 0;
    if (n == 1) { int8_t v; memcpy(&v, b, 1); x = v; }
    else if (n == 2) { int16_t v; memcpy(&v, b, 2); x = v; }
    else if (n == 4) { int32_t v; memcpy(&v, b, 4); x = v; }
    else memcpy(&x, b, 8);
    *i = x, *f = (double)x;
    return;
  }
  default: {  // 'u', 'b'
    uint64_t x = 0;
    memcpy(&x, b, (size_t)n);
    *i = x > (uint64_t)INT64_MAX ? INT64_MIN : (int64_t)x;
    *f = (double)x;
  }
  }
}

// Streams `count` elements through conv(i, f, k) a chunk at a time.
typedef int (*conv_fn)(rd_npy *a, double f, int64_t i, int64_t k, void *out, void *ctx);

static int stream(rd_npy *a, int64_t count, conv_fn conv, void *out, void *ctx) {
  if (a->kind == 'S') return rd_error_set("%s: holds byte strings, not numbers", a->name);
  unsigned char *buf = malloc((size_t)CHUNK * (size_t)a->elem_size);
  if (!buf) return rd_error_set("%s: out of memory", a->name);
  for (int64_t k = 0; k < count;) {
    const int64_t n = count - k < CHUNK ? count - k : CHUNK;
    if (fill(a, buf, (size_t)n * (size_t)a->elem_size, "data")) return free(buf), -1;
    for (int64_t j = 0; j < n; j++, k++) {
      double f;
      int64_t i;
      element(a, buf + j * a->elem_size, &f, &i);
      if (conv(a, f, i, k, out, ctx)) return free(buf), -1;
    }
  }
  free(buf);
  a->done += count;
  return 0;
}

static int to_i64(rd_npy *a, double f, int64_t i, int64_t k, void *out, void *ctx) {
  (void)ctx;
  if (i == INT64_MIN || (a->kind == 'f' && f != (double)i))
    return rd_error_set("%s: element %lld (%g) is not an integer", a->name, (long long)(a->done + k), f);
  ((int64_t *)out)[k] = i;
  return 0;
}

static int to_f32(rd_npy *a, double f, int64_t i, int64_t k, void *out, void *ctx) {
  (void)i, (void)ctx;
  if (!isfinite(f) || fabs(f) > 3.4e38)
    return rd_error_set("%s: element %lld (%g) is not a finite float32", a->name, (long long)(a->done + k), f);
  ((float *)out)[k] = (float)f;
  return 0;
}

static int to_i32(rd_npy *a, double f, int64_t i, int64_t k, void *out, void *ctx) {
  const int64_t *range = ctx;
  if (i == INT64_MIN || (a->kind == 'f' && f != (double)i))
    return rd_error_set("%s: element %lld (%g) is not an integer", a->name, (long long)(a->done + k), f);
  if (i < range[0] || i >= range[1])
    return rd_error_set("%s: element %lld (%lld) outside [%lld, %lld)", a->name, (long long)(a->done + k),
                        (long long)i, (long long)range[0], (long long)range[1]);
  ((int32_t *)out)[k] = (int32_t)i;
  return 0;
}

static int to_label(rd_npy *a, double f, int64_t i, int64_t k, void *out, void *ctx) {
  const int64_t *max = ctx;
  if (a->kind == 'f' && isnan(f)) {  // OGB marks unlabelled nodes with nan
    ((int32_t *)out)[k] = -1;
    return 0;
  }
  if (i == INT64_MIN || (a->kind == 'f' && f != (double)i) || i < 0 || i >= *max)
    return rd_error_set("%s: element %lld (%g) is not a label in [0, %lld) or nan", a->name,
                        (long long)(a->done + k), f, (long long)*max);
  ((int32_t *)out)[k] = (int32_t)i;
  return 0;
}

int rd_npy_read_labels(rd_npy *a, int32_t *out, int64_t count) {
  int64_t max = 1 << 20;
  return stream(a, count, to_label, out, &max);
}

int rd_npy_read_i64(rd_npy *a, int64_t *out, int64_t count) { return stream(a, count, to_i64, out, NULL); }
int rd_npy_read_f32(rd_npy *a, float *out, int64_t count) { return stream(a, count, to_f32, out, NULL); }
int rd_npy_read_i32(rd_npy *a, int32_t *out, int64_t count, int64_t lo, int64_t hi) {
  int64_t range[2] = {lo, hi};
  return stream(a, count, to_i32, out, range);
}

static int64_t zip_source(void *src, void *buf, size_t n) { return rd_zip_read(src, buf, n); }

int rd_npy_open_member(rd_npy *a, rd_zip *z, const char *member, rd_zip_stream *s, const char *hint) {
  const rd_zip_entry *e = rd_zip_find(z, member);
  if (!e) return rd_error_set("%s: no member %s%s", z->path, member, hint);
  char name[4400];
  snprintf(name, sizeof name, "%s: %s", z->path, member);
  if (rd_zip_stream_open(z, e, s)) return -1;
  if (rd_npy_open(a, zip_source, s, name)) return rd_zip_stream_close(s), -1;
  return 0;
}
