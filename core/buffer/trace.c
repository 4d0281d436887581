#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grow.h"

struct rd_trace_writer {
  rd_writer *w;
  rd_trace_info info;
  int64_t *step_ptr, cap_ptr;
  int32_t *count;
  int64_t cap_count, steps, bytes;
  uint8_t *buf;
  int64_t cap_buf;
};

rd_trace_writer *rd_trace_writer_open(const char *path, const rd_trace_info *info) {
  if (info->num_layers < 0 || info->num_layers > 8) {
    rd_error_set("%s: %d layers cannot be recorded (at most 8)", path, info->num_layers);
    return NULL;
  }
  rd_writer *w = rd_writer_open(path, RD_KIND_TRACE);
  if (!w) return NULL;
  rd_trace_writer *t = calloc(1, sizeof *t);
  t->w = w;
  t->info = *info;
  t->step_ptr = rd_grow(NULL, &t->cap_ptr, 1, sizeof *t->step_ptr);
  t->step_ptr[0] = 0;
  if (rd_writer_begin(w, RD_T_BYTES, 1)) {
    rd_trace_writer_abort(t);
    return NULL;
  }
  return t;
}

int rd_trace_writer_step(rd_trace_writer *t, const rd_node *remote, int64_t n) {
  t->buf = rd_grow(t->buf, &t->cap_buf, 5 * n + 1, 1);
  int64_t len = 0;
  rd_node prev = -1;
  for (int64_t i = 0; i < n; i++) {
    if (remote[i] <= prev) return rd_error_set("trace step %lld: ids not ascending", (long long)t->steps);
    uint32_t d = (uint32_t)(remote[i] - prev - 1);  // gaps >= 0
    prev = remote[i];
    do {
      t->buf[len++] = (uint8_t)((d & 0x7f) | (d > 0x7f ? 0x80 : 0));
      d >>= 7;
    } while (d);
  }
  if (rd_writer_append(t->w, t->buf, (uint64_t)len)) return -1;
  t->bytes += len;
  t->steps++;
  t->step_ptr = rd_grow(t->step_ptr, &t->cap_ptr, t->steps + 1, sizeof *t->step_ptr);
  t->step_ptr[t->steps] = t->bytes;
  t->count = rd_grow(t->count, &t->cap_count, t->steps, sizeof *t->count);
  t->count[t->steps - 1] = (int32_t)n;
  return 0;
}

void rd_trace_writer_abort(rd_trace_writer *t) {
  if (!t) return;
  rd_writer_abort(t->w);
  free(t->step_ptr); free(t->count); free(t->buf);
  free(t);
}

int rd_trace_writer_close(rd_trace_writer *t, const rd_node *halo, const int32_t *owner,
                          const int32_t *degree, const float *vip, int64_t halo_size) {
  rd_writer *w = t->w;
  const rd_trace_info *in = &t->info;
  rd_writer_end(w);
  rd_writer_meta(w, RD_TM_RANK, in->rank);
  rd_writer_meta(w, RD_TM_PARTS, in->parts);
  rd_writer_meta(w, RD_TM_NODES, in->num_nodes);
  rd_writer_meta(w, RD_TM_STEPS, t->steps);
  rd_writer_meta(w, RD_TM_SEED, (int64_t)in->seed);
  rd_writer_meta(w, RD_TM_FEATURES, in->num_features);
  rd_writer_meta(w, RD_TM_BATCH, in->batch_size);
  rd_writer_meta(w, RD_TM_LAYERS, in->num_layers);
  for (int l = 0; l < in->num_layers; l++) rd_writer_meta(w, RD_TM_FANOUT0 + l, in->fanouts[l]);
  rd_writer_section(w, RD_T_STEP_PTR, t->step_ptr, 8, (uint64_t)t->steps + 1);
  rd_writer_section(w, RD_T_COUNT, t->count, 4, (uint64_t)t->steps);
  rd_writer_section(w, RD_T_HALO, halo, 4, (uint64_t)halo_size);
  rd_writer_section(w, RD_T_HALO_OWNER, owner, 4, (uint64_t)halo_size);
  rd_writer_section(w, RD_T_HALO_DEGREE, degree, 4, (uint64_t)halo_size);
  rd_writer_section(w, RD_T_HALO_VIP, vip, 4, (uint64_t)halo_size);
  const int rc = rd_writer_close(w);
  free(t->step_ptr); free(t->count); free(t->buf);
  free(t);
  return rc;
}

int rd_trace_load(rd_trace *t, const char *path) {
  memset(t, 0, sizeof *t);
  if (rd_file_open(&t->file, path, RD_KIND_TRACE)) return -1;
  const int64_t *m = t->file.hdr.meta;
  rd_trace_info *in = &t->info;
  in->rank = (int32_t)m[RD_TM_RANK];
  in->parts = (int32_t)m[RD_TM_PARTS];
  in->num_nodes = m[RD_TM_NODES];
  in->seed = (uint64_t)m[RD_TM_SEED];
  in->num_features = (int32_t)m[RD_TM_FEATURES];
  in->batch_size = (int32_t)m[RD_TM_BATCH];
  in->num_layers = (int32_t)m[RD_TM_LAYERS];
  t->steps = m[RD_TM_STEPS];
  if (in->num_layers < 0 || in->num_layers > 8 || t->steps < 0 || in->num_nodes <= 0 ||
      in->num_features <= 0) {
    rd_error_set("%s: corrupted trace header", path);
    goto fail;
  }
  for (int l = 0; l < in->num_layers; l++) in->fanouts[l] = (int32_t)m[RD_TM_FANOUT0 + l];
  rd_file *f = &t->file;
  int64_t h, nb;
  if (!(t->bytes = rd_file_section_n(f, RD_T_BYTES, 1, -1, &nb, 1)) ||
      !(t->step_ptr = rd_file_section_n(f, RD_T_STEP_PTR, 8, t->steps + 1, NULL, 1)) ||
      !(t->count = rd_file_section_n(f, RD_T_COUNT, 4, t->steps, NULL, 1)) ||
      !(t->halo = rd_file_section_n(f, RD_T_HALO, 4, -1, &h, 1)) ||
      !(t->halo_owner = rd_file_section_n(f, RD_T_HALO_OWNER, 4, h, NULL, 1)) ||
      !(t->halo_degree = rd_file_section_n(f, RD_T_HALO_DEGREE, 4, h, NULL, 1)) ||
      !(t->halo_vip = rd_file_section_n(f, RD_T_HALO_VIP, 4, h, NULL, 1)))
    goto fail;
  t->num_bytes = (uint64_t)nb;
  t->halo_size = h;
  for (int64_t s = 0; s < t->steps; s++) {
    if (t->step_ptr[s + 1] < t->step_ptr[s] || t->count[s] < 0) {
      rd_error_set("%s: step %lld has a corrupt offset or count", path, (long long)s);
      goto fail;
    }
    if (t->count[s] > t->max_count) t->max_count = t->count[s];
  }
  if (t->step_ptr[0] != 0 || (uint64_t)t->step_ptr[t->steps] != t->num_bytes) {
    rd_error_set("%s: step offsets do not cover the byte stream", path);
    goto fail;
  }
  for (int64_t i = 0; i < t->halo_size; i++)
    if (t->halo[i] < 0 || t->halo[i] >= in->num_nodes || (i && t->halo[i] <= t->halo[i - 1]) ||
        t->halo_owner[i] < 0 || t->halo_owner[i] >= in->parts) {
      rd_error_set("%s: halo entry %lld is out of range or out of order", path, (long long)i);
      goto fail;
    }
  return 0;
fail:
  rd_trace_free(t);
  return -1;
}

void rd_trace_free(rd_trace *t) {
  rd_file_close(&t->file);
  memset(t, 0, sizeof *t);
}

int rd_trace_step(const rd_trace *t, int64_t s, rd_node *out) {
  const uint8_t *p = t->bytes + t->step_ptr[s], *end = t->bytes + t->step_ptr[s + 1];
  int64_t prev = -1;
  for (int32_t i = 0; i < t->count[s]; i++) {
    uint64_t d = 0;
    int shift = 0;
    for (;;) {
      if (p == end || shift > 28) return rd_error_set("%s: step %lld: corrupt varint stream",
                                                       t->file.path, (long long)s);
      const uint8_t byte = *p++;
      d |= (uint64_t)(byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    prev += (int64_t)d + 1;
    if (prev >= t->info.num_nodes)
      return rd_error_set("%s: step %lld: node id %lld out of range", t->file.path, (long long)s,
                          (long long)prev);
    out[i] = (rd_node)prev;
  }
  if (p != end) return rd_error_set("%s: step %lld: trailing bytes", t->file.path, (long long)s);
  return 0;
}
