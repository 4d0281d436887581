// Reading members of a zip archive (an .npz is one) in a stream: the central
// directory (zip64 included, as numpy writes it) and stored or deflated
// members inflated with zlib, CRC-checked at their end. No zip library is
// installed here, and an .npz needs nothing more than this.
#ifndef RUDDER_ZIP_H
#define RUDDER_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

typedef struct rd_zip_entry {
  char name[256];
  uint16_t method;  // 0 stored, 8 deflated
  uint32_t crc;
  uint64_t csize, usize, offset;  // compressed and uncompressed bytes; local header offset
} rd_zip_entry;

typedef struct rd_zip {
  FILE *f;
  char path[4096];
  rd_zip_entry *entry;
  int num_entries;
} rd_zip;

// Opens `path` and reads its central directory; errors name the file.
int rd_zip_open(rd_zip *z, const char *path);
void rd_zip_close(rd_zip *z);
// The member called `name`, or NULL.
const rd_zip_entry *rd_zip_find(const rd_zip *z, const char *name);

typedef struct rd_zip_stream {
  rd_zip *z;
  const rd_zip_entry *e;
  z_stream zs;
  int inflating;
  uint64_t in_left, out_done;
  uint32_t crc;
  unsigned char in[1 << 16];
} rd_zip_stream;

int rd_zip_stream_open(rd_zip *z, const rd_zip_entry *e, rd_zip_stream *s);
// Up to n bytes of the member; fewer only at its end, after which the size
// and CRC have been checked. -1 on a read or data error (message names the
// archive and the member).
int64_t rd_zip_read(rd_zip_stream *s, void *buf, size_t n);
void rd_zip_stream_close(rd_zip_stream *s);

#endif
