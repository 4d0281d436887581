#include "zip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const unsigned char *p) { return (uint32_t)u16(p) | (uint32_t)u16(p + 2) << 16; }
static uint64_t u64(const unsigned char *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

static int read_at(rd_zip *z, uint64_t off, void *buf, size_t n, const char *what) {
  if (fseeko(z->f, (off_t)off, SEEK_SET) || fread(buf, 1, n, z->f) != n)
    return rd_error_set("%s: cannot read the %s at byte %llu (truncated archive?)", z->path, what,
                        (unsigned long long)off);
  return 0;
}

int rd_zip_open(rd_zip *z, const char *path) {
  memset(z, 0, sizeof *z);
  snprintf(z->path, sizeof z->path, "%s", path);
  if (!(z->f = fopen(path, "rb"))) return rd_error_set("%s: cannot open: %s", path, strerror(errno));
  unsigned char *tail = NULL, *cd = NULL;
  int rc = -1;
  if (fseeko(z->f, 0, SEEK_END)) goto bad;
  const uint64_t size = (uint64_t)ftello(z->f);
  // The end-of-central-directory record: 22 bytes plus a comment of at most 64 KiB.
  const uint64_t span = size < 22 + 65535 ? size : 22 + 65535;
  if (size < 22) {
    rd_error_set("%s: not a zip archive (%llu bytes)", path, (unsigned long long)size);
    goto out;
  }
  if (!(tail = malloc(span)) || read_at(z, size - span, tail, span, "end of the archive")) goto bad;
  int64_t eocd = -1;
  for (int64_t i = (int64_t)span - 22; i >= 0; i--)
    if (u32(tail + i) == 0x06054b50u && i + 22 + u16(tail + i + 20) == (int64_t)span) {
      eocd = i;
      break;
    }
  if (eocd < 0) {
    rd_error_set("%s: not a zip archive (no end-of-central-directory record)", path);
    goto out;
  }
  uint64_t entries = u16(tail + eocd + 10), cd_size = u32(tail + eocd + 12),
           cd_off = u32(tail + eocd + 16);
  if (entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
    // zip64: a locator just before the record points at the zip64 record.
    unsigned char loc[20], rec[56];
    const uint64_t at = size - span + (uint64_t)eocd;
    if (at < 20 || read_at(z, at - 20, loc, 20, "zip64 locator")) goto out;
    if (u32(loc) != 0x07064b50u) {
      rd_error_set("%s: zip64 archive without a zip64 locator", path);
      goto out;
    }
    if (read_at(z, u64(loc + 8), rec, 56, "zip64 end record")) goto out;
    if (u32(rec) != 0x06064b50u) {
      rd_error_set("%s: bad zip64 end record signature", path);
      goto out;
    }
    entries = u64(rec + 32), cd_size = u64(rec + 40), cd_off = u64(rec + 48);
  }
  if (cd_off + cd_size > size || entries > cd_size / 46) {
    rd_error_set("%s: central directory (%llu entries, %llu bytes at %llu) lies outside the "
                 "archive", path, (unsigned long long)entries, (unsigned long long)cd_size,
                 (unsigned long long)cd_off);
    goto out;
  }
  if (!(cd = malloc(cd_size + 1)) || !(z->entry = calloc(entries + 1, sizeof *z->entry))) goto bad;
  if (read_at(z, cd_off, cd, cd_size, "central directory")) goto out;
  uint64_t p = 0;
  for (uint64_t i = 0; i < entries; i++) {
    if (p + 46 > cd_size || u32(cd + p) != 0x02014b50u) {
      rd_error_set("%s: central directory entry %llu is corrupt", path, (unsigned long long)i + 1);
      goto out;
    }
    const unsigned char *h = cd + p;
    const uint16_t nlen = u16(h + 28), xlen = u16(h + 30), clen = u16(h + 32);
    if (p + 46 + nlen + xlen + clen > cd_size) {
      rd_error_set("%s: central directory entry %llu overruns the directory", path,
                   (unsigned long long)i + 1);
      goto out;
    }
    rd_zip_entry *e = &z->entry[z->num_entries++];
    snprintf(e->name, sizeof e->name, "%.*s", nlen, (const char *)h + 46);
    if (u16(h + 8) & 1) {
      rd_error_set("%s: member %s is encrypted", path, e->name);
      goto out;
    }
    e->method = u16(h + 10);
    e->crc = u32(h + 16);
    e->csize = u32(h + 20), e->usize = u32(h + 24), e->offset = u32(h + 42);
    // zip64 extra field: the 64-bit values of the fields saturated above, in this order.
    for (const unsigned char *x = h + 46 + nlen, *end = x + xlen; x + 4 <= end;) {
      const uint16_t id = u16(x), len = u16(x + 2);
      const unsigned char *v = x + 4, *vend = v + len;
      if (vend > end) break;
      if (id == 0x0001) {
        if (e->usize == 0xffffffffu && v + 8 <= vend) e->usize = u64(v), v += 8;
        if (e->csize == 0xffffffffu && v + 8 <= vend) e->csize = u64(v), v += 8;
        if (e->offset == 0xffffffffu && v + 8 <= vend) e->offset = u64(v), v += 8;
      }
      x = vend;
    }
    if (e->method != 0 && e->method != 8) {
      rd_error_set("%s: member %s uses compression method %u (only stored and deflated are read)",
                   path, e->name, e->method);
      goto out;
    }
    p += 46u + nlen + xlen + clen;
  }
  rc = 0;
  goto out;
bad:
  rd_error_set("%s: %s", path, errno ? strerror(errno) : "out of memory");
out:
  free(tail);
  free(cd);
  if (rc) rd_zip_close(z);
  return rc;
}

void rd_zip_close(rd_zip *z) {
  if (z->f) fclose(z->f);
  free(z->entry);
  memset(z, 0, sizeof *z);
}

const rd_zip_entry *rd_zip_find(const rd_zip *z, const char *name) {
  for (int i = 0; i < z->num_entries; i++)
    if (!strcmp(z->entry[i].name, name)) return &z->entry[i];
  return NULL;
}

int rd_zip_stream_open(rd_zip *z, const rd_zip_entry *e, rd_zip_stream *s) {
  memset(s, 0, sizeof *s);
  s->z = z;
  s->e = e;
  unsigned char h[30];
  if (read_at(z, e->offset, h, 30, "local header")) return -1;
  if (u32(h) != 0x04034b50u)
    return rd_error_set("%s: member %s: bad local header signature", z->path, e->name);
  // The data follows the local header's own name and extra field (which may
  // differ from the central directory's: numpy writes a zip64 extra here).
  if (fseeko(z->f, (off_t)(e->offset + 30 + u16(h + 26) + u16(h + 28)), SEEK_SET))
    return rd_error_set("%s: member %s: cannot seek to its data", z->path, e->name);
  s->in_left = e->csize;
  s->crc = (uint32_t)crc32(0, NULL, 0);
  if (e->method == 8) {
    if (inflateInit2(&s->zs, -MAX_WBITS) != Z_OK)
      return rd_error_set("%s: member %s: inflateInit failed", z->path, e->name);
    s->inflating = 1;
  }
  return 0;
}

static int64_t finish(rd_zip_stream *s, int64_t got) {
  const rd_zip_entry *e = s->e;
  if (s->out_done != e->usize)
    return rd_error_set("%s: member %s: %llu bytes, the directory says %llu (truncated?)",
                        s->z->path, e->name, (unsigned long long)s->out_done,
                        (unsigned long long)e->usize);
  if (s->crc != e->crc)
    return rd_error_set("%s: member %s: CRC mismatch (corrupt data)", s->z->path, e->name);
  return got;
}

int64_t rd_zip_read(rd_zip_stream *s, void *buf, size_t n) {
  const rd_zip_entry *e = s->e;
  const uint64_t left = e->usize - s->out_done;
  if (n > left) n = (size_t)left;
  if (n > (1u << 30)) n = 1u << 30;  // zlib counts in uInt
  size_t got = 0;
  if (!s->inflating) {
    if (n && fread(buf, 1, n, s->z->f) != n)
      return rd_error_set("%s: member %s: truncated after %llu bytes", s->z->path, e->name,
                          (unsigned long long)s->out_done);
    got = n;
  } else {
    s->zs.next_out = buf;
    s->zs.avail_out = (uInt)n;
    while (s->zs.avail_out > 0) {
      if (s->zs.avail_in == 0 && s->in_left > 0) {
        const size_t want = s->in_left < sizeof s->in ? (size_t)s->in_left : sizeof s->in;
        if (fread(s->in, 1, want, s->z->f) != want)
          return rd_error_set("%s: member %s: truncated compressed data", s->z->path, e->name);
        s->in_left -= want;
        s->zs.next_in = s->in;
        s->zs.avail_in = (uInt)want;
      }
      const int zr = inflate(&s->zs, Z_NO_FLUSH);
      if (zr == Z_STREAM_END) break;
      if (zr != Z_OK)
        return rd_error_set("%s: member %s: corrupt deflate data (%s)", s->z->path, e->name,
                            s->zs.msg ? s->zs.msg : "inflate failed");
      if (s->zs.avail_in == 0 && s->in_left == 0 && s->zs.avail_out > 0)
        return rd_error_set("%s: member %s: compressed data ends early", s->z->path, e->name);
    }
    got = n - s->zs.avail_out;
  }
  s->crc = (uint32_t)crc32(s->crc, buf, (uInt)got);
  s->out_done += got;
  if (s->out_done == e->usize || got < n) return finish(s, (int64_t)got);
  return (int64_t)got;
}

void rd_zip_stream_close(rd_zip_stream *s) {
  if (s->inflating) inflateEnd(&s->zs);
  s->inflating = 0;
}
