// NumPy .npy arrays (format versions 1-3), read from any byte source: a file,
// or a member of an .npz (zip) archive. Little- and big-endian integers,
// floats and bools, C order; converted on the fly to the type the caller
// needs (float16 included), a chunk at a time, so an array never has to fit twice.
#ifndef RUDDER_NPY_H
#define RUDDER_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "zip.h"

// Reads up to n bytes; fewer only at the end of the source. -1 on error,
// with rd_error() set.
typedef int64_t (*rd_npy_source)(void *src, void *buf, size_t n);

typedef struct rd_npy {
  char name[512];  // for messages: "DIR/feats.npy" or "DIR/adj_full.npz: indices.npy"
  char kind;       // 'i' signed, 'u' unsigned, 'f' float, 'b' bool, 'S' bytes
  int elem_size;
  int swap;        // big-endian data
  int ndim;
  int64_t shape[8];
  int64_t count;   // product of the shape
  int64_t done;    // elements read so far (messages give the index in the array)
  rd_npy_source read;
  void *src;
} rd_npy;

// Reads and checks the header (magic, version, dict with descr,
// fortran_order False, shape).
int rd_npy_open(rd_npy *a, rd_npy_source read, void *src, const char *name);

// The next `count` elements converted to int64 / float32 (integers must be
// exact in float32's range; floats to int64 must be integral). Errors name
// the array and the element index.
int rd_npy_read_i64(rd_npy *a, int64_t *out, int64_t count);
int rd_npy_read_f32(rd_npy *a, float *out, int64_t count);
// Reads `count` elements into int32, each checked against [lo, hi).
int rd_npy_read_i32(rd_npy *a, int32_t *out, int64_t count, int64_t lo, int64_t hi);

// Class labels into int32: integers in [0, 2^20), or floats that are such
// integers or nan (unlabelled: -1).
int rd_npy_read_labels(rd_npy *a, int32_t *out, int64_t count);

// 1 when the array has exactly the dimensions given (-1: any size).
int rd_npy_shape_is(const rd_npy *a, int ndim, int64_t d0, int64_t d1);

// Member `member` of an open .npz archive as an array, read through the
// caller's stream `s` (closed on failure; else the caller closes it after
// reading). A missing member is named, followed by `hint` (may be "").
int rd_npy_open_member(rd_npy *a, rd_zip *z, const char *member, rd_zip_stream *s, const char *hint);

// A FILE* source for rd_npy_open.
int64_t rd_npy_file_source(void *file, void *buf, size_t n);

#endif
