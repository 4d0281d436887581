// rudder_export: tab-separated tables out of a results file, for gnuplot
// and shell users. Every row starts with the run id and the run's
// parameters (attributes), then the table's columns.
//   rudder_export results/X.h5 --table summary|steps|decisions [--where KEY=VALUE ...] [--all]
#include <hdf5.h>
#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct ctx {
  const char *table;
  char **where_key, **where_value;
  int num_where, all, header_done, collecting;
  char *keys[128];  // attribute columns: the union over the runs printed
  int num_keys;
} ctx;

// The attribute `key` of `obj` as text ("" when absent).
static void attr_text(hid_t obj, const char *key, char *out, size_t n) {
  out[0] = 0;
  if (H5Aexists(obj, key) <= 0) return;
  hid_t a = H5Aopen(obj, key, H5P_DEFAULT), t = H5Aget_type(a);
  const H5T_class_t c = H5Tget_class(t);
  if (c == H5T_INTEGER) {
    long long v;
    H5Aread(a, H5T_NATIVE_LLONG, &v);
    snprintf(out, n, "%lld", v);
  } else if (c == H5T_FLOAT) {
    double v;
    H5Aread(a, H5T_NATIVE_DOUBLE, &v);
    snprintf(out, n, "%.10g", v);
  } else if (c == H5T_STRING && !H5Tis_variable_str(t)) {
    const size_t len = H5Tget_size(t);
    char *buf = calloc(len + 1, 1);
    H5Aread(a, t, buf);
    snprintf(out, n, "%s", buf);
    free(buf);
  }
  H5Tclose(t);
  H5Aclose(a);
}

static herr_t collect_key(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
  (void)obj;
  (void)info;
  ctx *c = data;
  int i = 0;
  while (i < c->num_keys && strcmp(c->keys[i], name) < 0) i++;
  if ((i < c->num_keys && !strcmp(c->keys[i], name)) || c->num_keys == 128) return 0;
  memmove(c->keys + i + 1, c->keys + i, (size_t)(c->num_keys - i) * sizeof *c->keys);
  c->keys[i] = strdup(name);
  c->num_keys++;
  return 0;
}

static void print_value(const char *p, hid_t t) {
  const H5T_class_t c = H5Tget_class(t);
  const size_t size = H5Tget_size(t);
  if (c == H5T_INTEGER && size == 4) printf("%d", *(const int32_t *)p);
  else if (c == H5T_INTEGER) printf("%lld", (long long)*(const int64_t *)p);
  else if (c == H5T_FLOAT && size == 4) printf("%.7g", *(const float *)p);
  else if (c == H5T_FLOAT) printf("%.10g", *(const double *)p);
  else if (c == H5T_STRING) {
    // Tabs and newlines would break the table: shown as spaces.
    for (size_t i = 0; i < size && p[i]; i++) putchar(p[i] == '\t' || p[i] == '\n' ? ' ' : p[i]);
  }
}

static herr_t print_run(hid_t runs, const char *id, const H5L_info_t *info, void *data) {
  (void)info;
  ctx *c = data;
  hid_t g = H5Gopen2(runs, id, H5P_DEFAULT);
  char v[2048];
  attr_text(g, "status", v, sizeof v);
  int keep = c->all || !strcmp(v, "ok");
  for (int i = 0; keep && i < c->num_where; i++) {
    attr_text(g, c->where_key[i], v, sizeof v);
    keep = !strcmp(v, c->where_value[i]);
  }
  if (!keep || H5Lexists(g, c->table, H5P_DEFAULT) <= 0 || c->collecting) {
    if (keep && c->collecting) H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_key, c);
    H5Gclose(g);
    return 0;
  }
  hid_t d = H5Dopen2(g, c->table, H5P_DEFAULT), ft = H5Dget_type(d);
  hid_t t = H5Tget_native_type(ft, H5T_DIR_ASCEND), sp = H5Dget_space(d);
  const hssize_t rows = H5Sget_simple_extent_npoints(sp);
  const int nm = H5Tget_nmembers(t);
  if (!c->header_done) {
    printf("run_id");
    for (int k = 0; k < c->num_keys; k++) printf("\t%s", c->keys[k]);
    for (int m = 0; m < nm; m++) {
      char *name = H5Tget_member_name(t, (unsigned)m);
      printf("\t%s", name);
      H5free_memory(name);
    }
    putchar('\n');
    c->header_done = 1;
  }
  const size_t size = H5Tget_size(t);
  char *buf = malloc((size_t)rows * size + 1);
  H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  for (hssize_t r = 0; r < rows; r++) {
    printf("%s", id);
    for (int k = 0; k < c->num_keys; k++) {
      attr_text(g, c->keys[k], v, sizeof v);
      printf("\t%s", v);
    }
    for (int m = 0; m < nm; m++) {
      hid_t mt = H5Tget_member_type(t, (unsigned)m);
      putchar('\t');
      print_value(buf + (size_t)r * size + H5Tget_member_offset(t, (unsigned)m), mt);
      H5Tclose(mt);
    }
    putchar('\n');
  }
  free(buf);
  H5Sclose(sp);
  H5Tclose(t);
  H5Tclose(ft);
  H5Dclose(d);
  H5Gclose(g);
  return 0;
}

static int usage(FILE *f) {
  fprintf(f, "usage: rudder_export FILE.h5 --table summary|steps|decisions [--where KEY=VALUE ...] [--all]\n"
             "  prints the table as TSV, each row led by its run's attributes\n"
             "  --where KEY=VALUE  only runs whose attribute KEY is VALUE (repeatable)\n"
             "  --all              failed and timed-out runs too\n");
  return f == stdout ? 0 : 2;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) return usage(stdout);
  ctx c = {.table = "summary"};
  const char *path = NULL;
  c.where_key = calloc((size_t)argc, sizeof(char *));
  c.where_value = calloc((size_t)argc, sizeof(char *));
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--table") && i + 1 < argc) c.table = argv[++i];
    else if (!strcmp(argv[i], "--all")) c.all = 1;
    else if (!strcmp(argv[i], "--where") && i + 1 < argc && strchr(argv[i + 1], '=')) {
      char *kv = strdup(argv[++i]), *eq = strchr(kv, '=');
      *eq = 0;
      c.where_key[c.num_where] = kv;
      c.where_value[c.num_where++] = eq + 1;
    } else if (!path && argv[i][0] != '-') path = argv[i];
    else path = NULL, i = argc;
  }
  if (!path || (strcmp(c.table, "summary") && strcmp(c.table, "steps") && strcmp(c.table, "decisions"))) {
    free(c.where_key);
    free(c.where_value);
    return usage(stderr);
  }
  hid_t f;
  H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
  H5E_END_TRY;
  if (f < 0) {
    fprintf(stderr, "rudder_export: %s: cannot open as HDF5\n", path);
    return 1;
  }
  if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0) {
    fprintf(stderr, "rudder_export: %s: no /runs group (not a results file)\n", path);
    return 1;
  }
  hid_t runs = H5Gopen2(f, "runs", H5P_DEFAULT);
  c.collecting = 1;  // first the columns, then the rows
  H5Literate(runs, H5_INDEX_NAME, H5_ITER_INC, NULL, print_run, &c);
  c.collecting = 0;
  H5Literate(runs, H5_INDEX_NAME, H5_ITER_INC, NULL, print_run, &c);
  H5Gclose(runs);
  H5Fclose(f);
  for (int k = 0; k < c.num_keys; k++) free(c.keys[k]);
  for (int i = 0; i < c.num_where; i++) free(c.where_key[i]);
  free(c.where_key);
  free(c.where_value);
  return 0;
}
