// Line-by-line reading of text files, plain or gzip (zlib reads both), for
// the importers: one buffer split with memchr, so a line costs a scan rather
// than gzgets' per-line copy and length limit, and every line knows its
// number for error messages.
#ifndef RUDDER_LINES_H
#define RUDDER_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

enum { RD_LINES_PATH = 4096 };

typedef struct rd_lines {
  gzFile gz;
  char path[RD_LINES_PATH];
  char *buf;
  size_t cap, pos, len;  // unread bytes are buf[pos, len); buf[len] is kept free for a NUL
  bool eof;
  int64_t line;     // physical number of the line last returned, for messages
  int64_t records;  // non-blank lines returned so far
} rd_lines;

// Called with the 0-based index of each non-blank line; may modify the line.
typedef int (*rd_line_fn)(const rd_lines *r, int64_t i, char *line, void *ctx);

// Feeds every non-blank line (newline and any CR removed) of the file at
// path `fmt, ...` to fn. With expect >= 0 the file must hold exactly that
// many lines (`why` says who says so). Afterwards r->path and r->records
// remain valid for messages. Blank lines are skipped, as pandas skips them.
__attribute__((format(printf, 6, 7))) int rd_lines_scan(rd_lines *r, int64_t expect,
                                                        const char *why, rd_line_fn fn, void *ctx,
                                                        const char *fmt, ...);

#endif
