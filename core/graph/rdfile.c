#include "rdfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../error.h"

// zlib's crc32_z takes size_t lengths; feed it in 1 GiB pieces anyway so a
// multi-GiB section never depends on the platform's size_t width.
static uint32_t crc_update(uint32_t crc, const void *data, uint64_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    size_t n = len > (1ull << 30) ? (size_t)(1ull << 30) : (size_t)len;
    crc = (uint32_t)crc32_z(crc, p, n);
    p += n;
    len -= n;
  }
  return crc;
}

static uint32_t header_crc(const rd_file_header *h) {
  return crc_update(0, h, offsetof(rd_file_header, header_crc));
}

const char *rd_file_kind_name(uint32_t kind) {
  switch (kind) {
  case RD_KIND_GRAPH: return "graph";
  case RD_KIND_PARTMAP: return "partition map";
  case RD_KIND_PART: return "partition";
  case RD_KIND_TRACE: return "trace";
  default: return "unknown";
  }
}

int rd_file_open(rd_file *f, const char *path, uint32_t kind) {
  memset(f, 0, sizeof *f);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return rd_error_set("%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return rd_error_set("%s: cannot stat: %s", path, strerror(errno));
  }
  size_t size = (size_t)st.st_size;
  if (size < RD_FILE_HEADER_SIZE) {
    close(fd);
    return rd_error_set("%s: truncated: %zu bytes, shorter than the %u-byte header", path, size,
                        RD_FILE_HEADER_SIZE);
  }
  void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return rd_error_set("%s: cannot mmap: %s", path, strerror(errno));
  f->map = map;
  f->size = size;
  f->path = strdup(path);
  memcpy(&f->hdr, map, sizeof f->hdr);
  const rd_file_header *h = &f->hdr;

  int rc = 0;
  if (memcmp(h->magic, RD_FILE_MAGIC, 8) != 0)
    rc = rd_error_set("%s: not a Rudder file (bad magic)", path);
  else if (h->version != RD_FILE_VERSION)
    rc = rd_error_set("%s: format version %u, this build reads version %u", path, h->version,
                      RD_FILE_VERSION);
  else if (h->header_crc != header_crc(h))
    rc = rd_error_set("%s: corrupted header (checksum mismatch)", path);
  else if (h->kind != kind)
    rc = rd_error_set("%s: is a %s file, expected a %s file", path, rd_file_kind_name(h->kind),
                      rd_file_kind_name(kind));
  else if (h->file_size != size)
    rc = rd_error_set("%s: %s: header says %llu bytes, file has %zu", path,
                      size < h->file_size ? "truncated" : "trailing bytes",
                      (unsigned long long)h->file_size, size);
  else if (h->num_sections > RD_FILE_MAX_SECTIONS)
    rc = rd_error_set("%s: corrupted header (%u sections)", path, h->num_sections);
  for (uint32_t i = 0; rc == 0 && i < h->num_sections; i++) {
    const rd_section_desc *s = &h->sec[i];
    // Overflow-safe: count * elem_size must fit in what lies after offset.
    if (s->elem_size == 0 || s->offset < RD_FILE_HEADER_SIZE || s->offset > size ||
        s->count > (size - s->offset) / s->elem_size)
      rc = rd_error_set("%s: section %u lies outside the file (truncated or corrupted)", path,
                        s->id);
  }
  if (rc != 0) rd_file_close(f);
  return rc;
}

void rd_file_close(rd_file *f) {
  if (f->map) munmap((void *)f->map, f->size);
  free(f->path);
  memset(f, 0, sizeof *f);
}

const void *rd_file_section(rd_file *f, uint32_t id, uint32_t elem_size, uint64_t *count,
                            int verify, int optional) {
  if (count) *count = 0;
  for (uint32_t i = 0; i < f->hdr.num_sections; i++) {
    const rd_section_desc *s = &f->hdr.sec[i];
    if (s->id != id) continue;
    if (s->elem_size != elem_size) {
      rd_error_set("%s: section %u has %u-byte elements, expected %u", f->path, id, s->elem_size,
                   elem_size);
      return NULL;
    }
    const uint8_t *p = f->map + s->offset;
    if (verify && crc_update(0, p, s->count * s->elem_size) != s->crc) {
      rd_error_set("%s: section %u is corrupted (checksum mismatch)", f->path, id);
      return NULL;
    }
    if (count) *count = s->count;
    return p;
  }
  if (!optional) rd_error_set("%s: section %u is missing", f->path, id);
  return NULL;
}

const void *rd_file_section_n(rd_file *f, uint32_t id, uint32_t elem_size, int64_t expect,
                              int64_t *count, int verify) {
  uint64_t n;
  const void *p = rd_file_section(f, id, elem_size, &n, verify, 0);
  if (p && expect >= 0 && n != (uint64_t)expect) {
    rd_error_set("%s: section %u has %llu elements, expected %lld", f->path, id,
                 (unsigned long long)n, (long long)expect);
    return NULL;
  }
  if (count) *count = (int64_t)n;
  return p;
}

// ---- writing ----------------------------------------------------------------

struct rd_writer {
  char *path, *tmp;
  FILE *fp;
  rd_file_header hdr;
  rd_section_desc *open;  // section being streamed, or NULL
  uint64_t pos;
  int failed;
};

static int writer_fail(rd_writer *w, const char *what) {
  w->failed = 1;
  return rd_error_set("%s: %s: %s", w->tmp, what, strerror(errno));
}

static int write_bytes(rd_writer *w, const void *p, uint64_t n) {
  if (n && fwrite(p, 1, n, w->fp) != n) return writer_fail(w, "write failed");
  w->pos += n;
  return 0;
}

rd_writer *rd_writer_open(const char *path, uint32_t kind) {
  rd_writer *w = calloc(1, sizeof *w);
  size_t n = strlen(path) + 5;
  w->path = strdup(path);
  w->tmp = malloc(n);
  snprintf(w->tmp, n, "%s.tmp", path);
  w->fp = fopen(w->tmp, "wb");
  if (!w->fp) {
    rd_error_set("%s: cannot create: %s", w->tmp, strerror(errno));
    free(w->path);
    free(w->tmp);
    free(w);
    return NULL;
  }
  memcpy(w->hdr.magic, RD_FILE_MAGIC, 8);
  w->hdr.version = RD_FILE_VERSION;
  w->hdr.kind = kind;
  w->hdr.header_size = RD_FILE_HEADER_SIZE;
  static const uint8_t zero[RD_FILE_HEADER_SIZE];
  write_bytes(w, zero, sizeof zero);  // placeholder, rewritten by close
  return w;
}

void rd_writer_meta(rd_writer *w, int index, int64_t value) {
  if (index >= 0 && index < RD_FILE_META) w->hdr.meta[index] = value;
}

int rd_writer_begin(rd_writer *w, uint32_t id, uint32_t elem_size) {
  if (w->failed) return -1;
  if (w->open || w->hdr.num_sections == RD_FILE_MAX_SECTIONS || id == 0 || elem_size == 0) {
    w->failed = 1;
    return rd_error_set("%s: bad section %u (open section or table full)", w->tmp, id);
  }
  static const uint8_t pad[RD_FILE_ALIGN];
  if (write_bytes(w, pad, (RD_FILE_ALIGN - w->pos % RD_FILE_ALIGN) % RD_FILE_ALIGN)) return -1;
  w->open = &w->hdr.sec[w->hdr.num_sections++];
  *w->open = (rd_section_desc){.id = id, .elem_size = elem_size, .offset = w->pos};
  return 0;
}

int rd_writer_append(rd_writer *w, const void *data, uint64_t count) {
  if (w->failed || !w->open) return -1;
  uint64_t n = count * w->open->elem_size;
  w->open->crc = crc_update(w->open->crc, data, n);
  w->open->count += count;
  return write_bytes(w, data, n);
}

int rd_writer_end(rd_writer *w) {
  if (w->failed || !w->open) return -1;
  w->open = NULL;
  return 0;
}

int rd_writer_section(rd_writer *w, uint32_t id, const void *data, uint32_t elem_size,
                      uint64_t count) {
  if (rd_writer_begin(w, id, elem_size) || rd_writer_append(w, data, count)) return -1;
  return rd_writer_end(w);
}

static void writer_free(rd_writer *w) {
  free(w->path);
  free(w->tmp);
  free(w);
}

void rd_writer_abort(rd_writer *w) {
  if (!w) return;
  if (w->fp) fclose(w->fp);
  remove(w->tmp);
  writer_free(w);
}

int rd_writer_close(rd_writer *w) {
  if (w->failed || w->open) {
    if (!w->failed) rd_error_set("%s: section %u left open", w->tmp, w->open->id);
    rd_writer_abort(w);
    return -1;
  }
  w->hdr.file_size = w->pos;
  w->hdr.header_crc = header_crc(&w->hdr);
  int rc = 0;
  if (fseek(w->fp, 0, SEEK_SET) != 0 || fwrite(&w->hdr, sizeof w->hdr, 1, w->fp) != 1 ||
      fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0)
    rc = rd_error_set("%s: cannot finish writing: %s", w->tmp, strerror(errno));
  if (fclose(w->fp) != 0 && rc == 0) rc = rd_error_set("%s: close failed: %s", w->tmp, strerror(errno));
  w->fp = NULL;
  if (rc == 0 && rename(w->tmp, w->path) != 0)
    rc = rd_error_set("%s: cannot rename to %s: %s", w->tmp, w->path, strerror(errno));
  if (rc != 0) remove(w->tmp);
  writer_free(w);
  return rc;
}
