// The one on-disk container of the suite: a 1 KiB header followed by typed,
// 64-byte-aligned sections, each with its own CRC-32, so a reader can mmap
// the file and verify only what it touches (a trainer reads the topology of
// the graph file, never its features). Layout in docs/FORMAT.md.
#ifndef RUDDER_RDFILE_H
#define RUDDER_RDFILE_H

#include <stddef.h>
#include <stdint.h>

#define RD_FILE_MAGIC "RUDDER\r\n"  // \r\n catches text-mode mangling
#define RD_FILE_VERSION 1u
#define RD_FILE_HEADER_SIZE 1024u
#define RD_FILE_ALIGN 64u
#define RD_FILE_MAX_SECTIONS 16
#define RD_FILE_META 16

enum rd_file_kind { RD_KIND_GRAPH = 1, RD_KIND_PARTMAP = 2, RD_KIND_PART = 3, RD_KIND_TRACE = 4 };

typedef struct rd_section_desc {
  uint32_t id;         // kind-specific section id, 0 = unused slot
  uint32_t elem_size;  // bytes per element
  uint64_t offset;     // from the start of the file, multiple of RD_FILE_ALIGN
  uint64_t count;      // elements
  uint32_t crc;        // CRC-32 (zlib) of the section's bytes
  uint32_t reserved;
} rd_section_desc;

typedef struct rd_file_header {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint64_t file_size;
  uint32_t num_sections;
  uint32_t header_size;
  int64_t meta[RD_FILE_META];  // kind-specific scalars (sizes, seeds)
  rd_section_desc sec[RD_FILE_MAX_SECTIONS];
  uint8_t reserved[RD_FILE_HEADER_SIZE - 32 - 8 * RD_FILE_META - 32 * RD_FILE_MAX_SECTIONS - 4];
  uint32_t header_crc;  // CRC-32 of every header byte before this field
} rd_file_header;

_Static_assert(sizeof(rd_file_header) == RD_FILE_HEADER_SIZE, "header must be 1 KiB");

// ---- reading ----------------------------------------------------------------

typedef struct rd_file {
  char *path;
  const uint8_t *map;  // read-only mmap of the whole file
  size_t size;
  rd_file_header hdr;
} rd_file;

// Maps `path` and validates magic, version, kind, header CRC and that every
// section lies inside the file (a truncated file fails here).
int rd_file_open(rd_file *f, const char *path, uint32_t kind);
void rd_file_close(rd_file *f);

// Returns section `id`, checking its element size and, when `count` is not
// NULL, storing its element count. With `verify`, the CRC is checked first.
// A missing section is an error unless `optional` (then NULL with count 0).
const void *rd_file_section(rd_file *f, uint32_t id, uint32_t elem_size, uint64_t *count,
                            int verify, int optional);

// A required section whose element count must equal `expect` (-1: any);
// the count is stored in *count when not NULL.
const void *rd_file_section_n(rd_file *f, uint32_t id, uint32_t elem_size, int64_t expect,
                              int64_t *count, int verify);

const char *rd_file_kind_name(uint32_t kind);

// ---- writing ----------------------------------------------------------------
// Writes go to "<path>.tmp", renamed over `path` only by rd_writer_close(), so
// a failure never leaves a half-written file under the real name.

typedef struct rd_writer rd_writer;

rd_writer *rd_writer_open(const char *path, uint32_t kind);
void rd_writer_meta(rd_writer *w, int index, int64_t value);
int rd_writer_section(rd_writer *w, uint32_t id, const void *data, uint32_t elem_size,
                      uint64_t count);
// Streaming form for sections produced piecewise (importers).
int rd_writer_begin(rd_writer *w, uint32_t id, uint32_t elem_size);
int rd_writer_append(rd_writer *w, const void *data, uint64_t count);
int rd_writer_end(rd_writer *w);
int rd_writer_close(rd_writer *w);  // frees w in every case
void rd_writer_abort(rd_writer *w); // removes the temporary file, frees w

#endif
