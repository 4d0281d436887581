#include "lines.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum { BUF_LEN = 1 << 20 };

// Moves the unread tail to the front and appends what gzread gives.
static int refill(rd_lines *r) {
  r->len -= r->pos;
  memmove(r->buf, r->buf + r->pos, r->len);
  r->pos = 0;
  if (r->cap - r->len < 2) {  // a single line fills the buffer
    char *grown = realloc(r->buf, 2 * r->cap);
    if (!grown)
      return rd_error_set("%s:%lld: out of memory for a line over %zu bytes", r->path,
                          (long long)r->line + 1, r->len);
    r->buf = grown;
    r->cap *= 2;
  }
  size_t room = r->cap - 1 - r->len;
  int got = gzread(r->gz, r->buf + r->len, (unsigned)(room < INT_MAX ? room : INT_MAX));
  // A truncated stream still returns its data but leaves Z_BUF_ERROR behind,
  // so the error state must be checked on every read, not only on -1.
  int err;
  const char *msg = gzerror(r->gz, &err);
  if (got < 0 || err != Z_OK) {
    const size_t plen = strlen(r->path);  // zlib's message starts with the path again
    if (!strncmp(msg, r->path, plen) && !strncmp(msg + plen, ": ", 2)) msg += plen + 2;
    return rd_error_set("%s: gzip data truncated or corrupt after line %lld (%s)", r->path,
                        (long long)r->line, msg);
  }
  r->len += (size_t)got;
  r->eof = got == 0;
  return 0;
}

// 1 with *out = the next non-blank line (NUL-terminated, newline and any CR
// removed), 0 at the end, -1 on a read error. Blank lines are skipped as
// pandas skips them when OGB's own loader reads these files.
static int next_line(rd_lines *r, char **out) {
  for (;;) {
    char *s = r->buf + r->pos, *end = r->buf + r->len;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl) {
      if (!r->eof) {
        if (refill(r)) return -1;
        continue;
      }
      if (s == end) return 0;
      nl = end;  // last line without a newline
    }
    r->pos = (size_t)(nl - r->buf) + (nl < end);
    r->line++;
    if (nl > s && nl[-1] == '\r') nl--;
    *nl = '\0';
    if (nl > s) {
      r->records++;
      *out = s;
      return 1;
    }
  }
}

int rd_lines_scan(rd_lines *r, int64_t expect, const char *why, rd_line_fn fn, void *ctx,
                  const char *fmt, ...) {
  *r = (rd_lines){.cap = BUF_LEN};
  va_list ap;
  va_start(ap, fmt);
  int plen = vsnprintf(r->path, sizeof r->path, fmt, ap);
  va_end(ap);
  if (plen < 0 || plen >= (int)sizeof r->path) return rd_error_set("%s...: path too long", r->path);
  if (!(r->buf = malloc(r->cap))) return rd_error_set("%s: out of memory", r->path);
  if (!(r->gz = gzopen(r->path, "rb"))) {
    free(r->buf);
    return rd_error_set("%s: cannot open: %s", r->path, strerror(errno));
  }
  gzbuffer(r->gz, BUF_LEN);
  char *line;
  int got;
  while ((got = next_line(r, &line)) == 1) {
    if (expect >= 0 && r->records > expect) {
      got = rd_error_set("%s:%lld: more than %lld lines (%s)", r->path, (long long)r->line,
                         (long long)expect, why);
      break;
    }
    if (fn(r, r->records - 1, line, ctx)) {
      got = -1;
      break;
    }
  }
  gzclose(r->gz);
  free(r->buf);
  if (got < 0) return -1;
  if (expect >= 0 && r->records != expect)
    return rd_error_set("%s: %lld lines, expected %lld (%s)", r->path, (long long)r->records,
                        (long long)expect, why);
  return 0;
}

