#include "results.h"

#include <errno.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "train/params.h"

#define RAW_LEN 1024  // decisions keep the first 1023 bytes of each raw answer

typedef struct summary_row {
  int64_t steps;
  double seconds, seconds_per_epoch, loss, train_acc, valid_acc, test_acc;
  int64_t remote_inputs, hits, misses, prefetched, rows_fetched, preload_rows, rows_moved, bytes,
      messages;
  double hit_rate, t_sample, t_fetch, t_compute, t_allreduce, t_step, t_emulated, t_decide, t_wait;
  int64_t capacity, halo_size, decisions, decisions_valid, decisions_fallback;
  double decision_latency;
  int32_t weights_identical;
  int32_t window_steps;
  double window_bytes_per_step;
  int64_t window_peak_bytes;
} summary_row;

typedef struct step_row {
  int32_t rank, epoch;
  int64_t step, seeds, input_nodes, local_inputs, remote_inputs, rows_fetched, bytes_received,
      bytes_sent, messages;
  double t_sample, t_fetch, t_compute, t_allreduce, t_step, t_emulated, loss, acc;
  int64_t hits, misses, prefetched, evicted, occupancy;
  int32_t replaced;
  double t_decide, t_lookup, t_replace, t_wait, t_skew;
} step_row;

typedef struct decision_row {
  int32_t rank;
  int64_t step_posted, step_applied;
  int32_t replace;
  float fraction;
  double latency;
  int32_t valid, fallback;
  char raw[RAW_LEN];
} decision_row;

// Field tables: name, offset and HDF5 type of every column.
typedef struct field {
  const char *name;
  size_t offset;
  hid_t type;
} field;

#define F(row, name, type) {#name, offsetof(row, name), type}
#define I32 H5T_NATIVE_INT32
#define I64 H5T_NATIVE_INT64
#define F64 H5T_NATIVE_DOUBLE

static int make_table(hid_t group, const char *name, const field *fields, int n, size_t row_size,
                      hsize_t rows, const void *data) {
  const char *names[64];
  size_t offsets[64];
  hid_t types[64];
  for (int i = 0; i < n; i++) {
    names[i] = fields[i].name;
    offsets[i] = fields[i].offset;
    types[i] = fields[i].type;
  }
  return H5TBmake_table(name, group, name, (hsize_t)n, rows, row_size, names, offsets, types,
                        rows > 0 && rows < 1024 ? rows : 1024, NULL, 1, data) < 0 ? -1 : 0;
}

// A parameter becomes an int64 or double attribute when it reads as one.
static herr_t write_attr(hid_t loc, const char *key, const char *value) {
  char *end;
  errno = 0;
  const long long i = strtoll(value, &end, 10);
  if (*value && !*end && !errno) return H5LTset_attribute_long_long(loc, ".", key, &i, 1);
  const double d = strtod(value, &end);
  if (*value && !*end && !errno) return H5LTset_attribute_double(loc, ".", key, &d, 1);
  return H5LTset_attribute_string(loc, ".", key, value);
}

// The schema's run parameters, typed: numbers as numbers, the rest as text.
static int write_config(hid_t loc, const rd_train_config *cfg, int ranks) {
  int ok = H5LTset_attribute_long_long(loc, ".", "ranks", &(long long){ranks}, 1) >= 0;
  for (const rd_param *p = rd_params(); ok && p->key; p++) {
    if (!p->section) continue;
    char v[1024];
    rd_param_format(p, cfg, v, sizeof v);
    switch (p->type) {
    case RD_PARAM_INT: case RD_PARAM_I64: case RD_PARAM_U64: {
      const long long i = strtoll(v, NULL, 10);
      ok = H5LTset_attribute_long_long(loc, ".", p->attr, &i, 1) >= 0;
      break;
    }
    case RD_PARAM_FLAG: {
      const long long i = !strcmp(v, "yes");
      ok = H5LTset_attribute_long_long(loc, ".", p->attr, &i, 1) >= 0;
      break;
    }
    case RD_PARAM_F64: case RD_PARAM_F32: {
      const double d = strtod(v, NULL);  // a float as the decimal it was given as
      ok = H5LTset_attribute_double(loc, ".", p->attr, &d, 1) >= 0;
      break;
    }
    default: ok = H5LTset_attribute_string(loc, ".", p->attr, v) >= 0; break;
    }
  }
  return ok ? 0 : -1;
}

static hid_t open_or_create(const char *path) {
  hid_t file = -1;
  H5E_BEGIN_TRY { file = access(path, F_OK) == 0 ? H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT) : -1; }
  H5E_END_TRY;
  if (file < 0 && access(path, F_OK) != 0) file = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  return file;
}

static hid_t runs_group(hid_t file) {
  if (H5Lexists(file, "runs", H5P_DEFAULT) > 0) return H5Gopen2(file, "runs", H5P_DEFAULT);
  return H5Gcreate2(file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

// Opens `path` and (re)creates /runs/<run_id> with the parameters as
// attributes plus software version, host and status.
static int open_run(const char *path, const char *run_id, const rd_train_config *cfg, int ranks,
                    const char *const *keys, const char *const *values, int n, const char *status,
                    hid_t *file, hid_t *group) {
  *group = -1;
  if ((*file = open_or_create(path)) < 0) return rd_error_set("%s: cannot open or create as HDF5", path);
  hid_t runs = runs_group(*file);
  int ok = runs >= 0 &&
           (H5Lexists(runs, run_id, H5P_DEFAULT) <= 0 || H5Ldelete(runs, run_id, H5P_DEFAULT) >= 0) &&
           (*group = H5Gcreate2(runs, run_id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0;
  if (ok && cfg) ok = write_config(*group, cfg, ranks) == 0;
  for (int i = 0; ok && i < n; i++) ok = write_attr(*group, keys[i], values[i]) >= 0;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  ok = ok && H5LTset_attribute_string(*group, ".", "software_version", RUDDER_VERSION) >= 0 &&
       H5LTset_attribute_string(*group, ".", "host", host) >= 0 &&
       H5LTset_attribute_string(*group, ".", "status", status) >= 0;
  if (runs >= 0) H5Gclose(runs);
  return ok ? 0 : rd_error_set("%s: HDF5 error creating run %s", path, run_id);
}

static int close_run(const char *path, hid_t file, hid_t group, int rc) {
  if (group >= 0) H5Gclose(group);
  if (file >= 0 && H5Fclose(file) < 0 && rc == 0) rc = rd_error_set("%s: HDF5 close failed", path);
  return rc;
}

int rd_results_write_failed(const char *path, const char *run_id, const rd_train_config *config,
                            const char *const *keys, const char *const *values, int num_attrs,
                            const char *status, const char *log_tail) {
  hid_t file, group;
  int rc = open_run(path, run_id, config, 0, keys, values, num_attrs, status, &file, &group);
  if (rc == 0 && H5LTset_attribute_string(group, ".", "log_tail", log_tail) < 0)
    rc = rd_error_set("%s: HDF5 error writing run %s", path, run_id);
  return close_run(path, file, group, rc);
}

int rd_results_write_run(const char *path, const rd_run_record *r) {
  const field summary_fields[] = {
      F(summary_row, steps, I64),
      F(summary_row, seconds, F64), F(summary_row, seconds_per_epoch, F64),
      F(summary_row, loss, F64), F(summary_row, train_acc, F64), F(summary_row, valid_acc, F64),
      F(summary_row, test_acc, F64), F(summary_row, remote_inputs, I64), F(summary_row, hits, I64),
      F(summary_row, misses, I64), F(summary_row, prefetched, I64),
      F(summary_row, rows_fetched, I64), F(summary_row, preload_rows, I64),
      F(summary_row, rows_moved, I64),
      F(summary_row, bytes, I64), F(summary_row, messages, I64), F(summary_row, hit_rate, F64),
      F(summary_row, t_sample, F64), F(summary_row, t_fetch, F64), F(summary_row, t_compute, F64),
      F(summary_row, t_allreduce, F64), F(summary_row, t_step, F64),
      F(summary_row, t_emulated, F64), F(summary_row, t_decide, F64), F(summary_row, capacity, I64),
      F(summary_row, halo_size, I64), F(summary_row, decisions, I64),
      F(summary_row, decisions_valid, I64), F(summary_row, decisions_fallback, I64),
      F(summary_row, decision_latency, F64), F(summary_row, weights_identical, I32),
      F(summary_row, window_steps, I32), F(summary_row, window_bytes_per_step, F64),
      F(summary_row, window_peak_bytes, I64), F(summary_row, t_wait, F64)};
  const field step_fields[] = {
      F(step_row, rank, I32), F(step_row, epoch, I32), F(step_row, step, I64),
      F(step_row, seeds, I64), F(step_row, input_nodes, I64), F(step_row, local_inputs, I64),
      F(step_row, remote_inputs, I64), F(step_row, rows_fetched, I64),
      F(step_row, bytes_received, I64), F(step_row, bytes_sent, I64), F(step_row, messages, I64),
      F(step_row, t_sample, F64), F(step_row, t_fetch, F64), F(step_row, t_compute, F64),
      F(step_row, t_allreduce, F64), F(step_row, t_step, F64), F(step_row, t_emulated, F64),
      F(step_row, loss, F64), F(step_row, acc, F64), F(step_row, hits, I64),
      F(step_row, misses, I64), F(step_row, prefetched, I64), F(step_row, evicted, I64),
      F(step_row, occupancy, I64), F(step_row, replaced, I32), F(step_row, t_decide, F64), F(step_row, t_lookup, F64),
      F(step_row, t_replace, F64), F(step_row, t_wait, F64), F(step_row, t_skew, F64)};
  hid_t raw_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(raw_type, RAW_LEN);
  const field decision_fields[] = {
      F(decision_row, rank, I32), F(decision_row, step_posted, I64),
      F(decision_row, step_applied, I64), F(decision_row, replace, I32),
      F(decision_row, fraction, H5T_NATIVE_FLOAT), F(decision_row, latency, F64),
      F(decision_row, valid, I32), F(decision_row, fallback, I32), F(decision_row, raw, raw_type)};

  // Flatten the rows and the summary.
  const int64_t ns = r->num_steps, nd = r->num_decisions;
  step_row *steps = calloc((size_t)ns + 1, sizeof *steps);
  decision_row *dec = calloc((size_t)nd + 1, sizeof *dec);
  const int epochs = r->config ? r->config->epochs : 0;
  summary_row sum = {.steps = r->steps_run, .seconds = r->seconds, .loss = r->final_loss,
                     .train_acc = r->train_acc, .valid_acc = r->valid_acc,
                     .test_acc = r->test_acc, .preload_rows = r->preload_rows,
                     .capacity = r->capacity, .halo_size = r->halo_size,
                     .weights_identical = r->weights_identical,
                     .window_steps = r->config ? r->config->lookahead : 0,
                     .window_bytes_per_step = r->window_bytes_per_step,
                     .window_peak_bytes = r->window_peak_bytes};
  sum.seconds_per_epoch = epochs > 0 && r->seconds > 0 ? sum.seconds / epochs : 0;
  for (int64_t i = 0; i < ns; i++) {
    const rd_step_metrics *m = &r->steps[i];
    const rd_prefetch_metrics *b = &m->buffer;
    steps[i] = (step_row){m->rank, m->epoch, m->step, m->seeds, m->input_nodes, m->local_inputs,
                          m->remote_inputs, m->rows_fetched, m->bytes_received, m->bytes_sent,
                          m->messages, m->t_sample, m->t_fetch, m->t_compute, m->t_allreduce,
                          m->t_step, m->t_emulated, m->loss, m->acc, b->hits, b->misses,
                          b->prefetched, b->evicted, b->occupancy, b->replaced,
                          b->decide_seconds, b->lookup_seconds, b->replace_seconds, m->t_wait,
                          m->t_skew};
    sum.remote_inputs += m->remote_inputs;
    sum.hits += b->hits;
    sum.misses += b->misses;
    sum.prefetched += b->prefetched;
    sum.rows_fetched += m->rows_fetched;
    sum.bytes += m->bytes_received;
    sum.messages += m->messages;
    sum.t_sample += m->t_sample;
    sum.t_fetch += m->t_fetch;
    sum.t_compute += m->t_compute;
    sum.t_allreduce += m->t_allreduce;
    sum.t_step += m->t_step;
    sum.t_emulated += m->t_emulated;
    sum.t_wait += m->t_wait;
    sum.t_decide += b->decide_seconds;
  }
  if (ns > 0) {  // per rank and step
    sum.t_sample /= (double)ns; sum.t_fetch /= (double)ns; sum.t_compute /= (double)ns;
    sum.t_allreduce /= (double)ns; sum.t_step /= (double)ns; sum.t_emulated /= (double)ns;
    sum.t_decide /= (double)ns; sum.t_wait /= (double)ns;
  }
  sum.rows_moved = sum.rows_fetched + sum.preload_rows;
  sum.hit_rate = sum.remote_inputs ? (double)sum.hits / (double)sum.remote_inputs : 0;
  for (int64_t i = 0; i < nd; i++) {
    const rd_decision *d = &r->decisions[i].d;
    dec[i] = (decision_row){r->decisions[i].rank, d->step_posted, d->step_applied, d->replace,
                            d->fraction, d->latency_seconds, d->valid, d->fallback, ""};
    snprintf(dec[i].raw, RAW_LEN, "%s", d->raw ? d->raw : "");
    sum.decisions++;
    sum.decisions_valid += d->valid;
    sum.decisions_fallback += d->fallback;
    sum.decision_latency += d->latency_seconds;
  }
  if (nd > 0) sum.decision_latency /= (double)nd;

  hid_t file, group;
  int rc = open_run(path, r->run_id, r->config, r->ranks, r->attr_keys, r->attr_values, r->num_attrs,
                    "ok", &file, &group);
  if (rc == 0 &&
      (make_table(group, "summary", summary_fields, (int)(sizeof summary_fields / sizeof *summary_fields),
                  sizeof(summary_row), 1, &sum) ||
       make_table(group, "steps", step_fields, (int)(sizeof step_fields / sizeof *step_fields),
                  sizeof(step_row), (hsize_t)ns, steps) ||
       make_table(group, "decisions", decision_fields,
                  (int)(sizeof decision_fields / sizeof *decision_fields), sizeof(decision_row),
                  (hsize_t)nd, dec)))
    rc = rd_error_set("%s: HDF5 error writing the tables of run %s", path, r->run_id);
  H5Tclose(raw_type);
  free(steps);
  free(dec);
  return close_run(path, file, group, rc);
}

int rd_results_has_run(const char *path, const char *run_id) {
  if (access(path, F_OK) != 0) return 0;
  int has = 0;
  H5E_BEGIN_TRY {
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
      char name[1024];
      snprintf(name, sizeof name, "runs/%s", run_id);
      has = H5Lexists(file, "runs", H5P_DEFAULT) > 0 && H5Lexists(file, name, H5P_DEFAULT) > 0;
      // A run recorded as failed or timed out is run again (and replaced).
      char status[16] = "";
      if (has && H5Aexists_by_name(file, name, "status", H5P_DEFAULT) > 0) {
        hid_t a = H5Aopen_by_name(file, name, "status", H5P_DEFAULT, H5P_DEFAULT);
        hid_t t = a >= 0 ? H5Aget_type(a) : -1;
        if (t >= 0 && H5Tget_size(t) < sizeof status) H5Aread(a, t, status);
        if (t >= 0) H5Tclose(t);
        if (a >= 0) H5Aclose(a);
        has = !strcmp(status, "ok");
      }
      H5Fclose(file);
    }
  }
  H5E_END_TRY;
  return has;
}

static herr_t copy_run(hid_t src_runs, const char *name, const H5L_info_t *info, void *dst_runs) {
  (void)info;
  hid_t dst = *(hid_t *)dst_runs;
  if (H5Lexists(dst, name, H5P_DEFAULT) > 0 && H5Ldelete(dst, name, H5P_DEFAULT) < 0) return -1;
  return H5Ocopy(src_runs, name, dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

int rd_results_merge(const char *dst, const char *src) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", dst);
  // Start from a copy of the current file (or nothing), add, then rename.
  if (access(dst, F_OK) == 0) {
    FILE *in = fopen(dst, "rb"), *out = fopen(tmp, "wb");
    if (!in || !out) {
      if (in) fclose(in);
      if (out) fclose(out);
      return rd_error_set("%s: cannot copy to %s: %s", dst, tmp, strerror(errno));
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0)
      return rd_error_set("%s: write failed: %s", tmp, strerror(errno));
  } else {
    remove(tmp);
  }
  int rc = -1;
  hid_t in = -1, out = -1, src_runs = -1, dst_runs = -1;
  H5E_BEGIN_TRY { in = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT); }
  H5E_END_TRY;
  if (in < 0) {
    rd_error_set("%s: not a readable HDF5 file", src);
    goto done;
  }
  if ((out = open_or_create(tmp)) < 0 || (src_runs = H5Gopen2(in, "runs", H5P_DEFAULT)) < 0 ||
      (dst_runs = runs_group(out)) < 0 ||
      H5Literate(src_runs, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_run, &dst_runs) < 0) {
    rd_error_set("%s: HDF5 error merging %s", dst, src);
    goto done;
  }
  rc = 0;
done:
  if (dst_runs >= 0) H5Gclose(dst_runs);
  if (src_runs >= 0) H5Gclose(src_runs);
  if (out >= 0 && H5Fclose(out) < 0) rc = rd_error_set("%s: HDF5 close failed", tmp);
  if (in >= 0) H5Fclose(in);
  if (rc == 0) {  // durable before it replaces the old file
    const int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) rc = rd_error_set("%s: fsync failed: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (rc == 0 && rename(tmp, dst) != 0) rc = rd_error_set("%s: cannot rename to %s: %s", tmp, dst, strerror(errno));
  if (rc != 0) remove(tmp);
  return rc;
}
