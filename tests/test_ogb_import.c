// The OGB importer: a hand-made dataset in the raw OGB layout (gzipped here
// with zlib) imports to exactly the expected CSR, features, labels and
// splits; each malformed variant fails with a message naming the file, and
// the line where there is one, and leaves no output behind.
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "error.h"
#include "graph/graph.h"
#include "ogb.h"

// 6 nodes; edges with both directions of 0-1, a duplicate 2-3, a self loop on
// 4 and a blank last line. Features end without a newline, a label with CRLF.
static const char *const good[][2] = {
    {"raw/num-node-list.csv.gz", "6\n"},
    {"raw/num-edge-list.csv.gz", "8\n"},
    {"raw/edge.csv.gz", "0,1\n1,0\n1,2\n2,3\n2,3\n4,4\n3,5\n5,0\n\n"},
    {"raw/node-feat.csv.gz", "0.5,-1,2e-3\n1,2,3\n-0.25,1e2,7.125\n4,5,6\n0,0,0\n1.5,2.5,-3.5"},
    {"raw/node-label.csv.gz", "3\n0\nnan\n1.0\r\n2\nnan\n"},
    {"split/sales/train.csv.gz", "4\n0\n2\n"},
    {"split/sales/valid.csv.gz", "1\n"},
    {"split/sales/test.csv.gz", "5\n3\n"},
};

// Writes text gzipped to dir/rel, creating the directories on the way; NULL removes the file.
static void put(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
    *slash = '/';
  }
  if (!text) {
    CHECK(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
    return;
  }
  gzFile gz = gzopen(path, "wb");
  CHECK(gz, "gzopen %s", path);
  CHECK(!*text || gzputs(gz, text) == (int)strlen(text), "gzputs %s", path);
  CHECK(gzclose(gz) == Z_OK, "gzclose %s", path);
}

static void rm_rf(const char *path) {
  struct stat st;
  CHECK(lstat(path, &st) == 0, "lstat %s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    CHECK(d, "opendir %s", path);
    for (struct dirent *e; (e = readdir(d));) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[512];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      rm_rf(sub);
    }
    closedir(d);
  }
  CHECK(remove(path) == 0, "remove %s: %s", path, strerror(errno));
}

static void make_good(const char *dir) {
  CHECK(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) put(dir, good[i][0], good[i][1]);
}

#define SAME(got, want) CHECK(!memcmp(got, want, sizeof want), "%s differs", #got)

static void check_good(const char *path) {
  static const int64_t indptr[] = {0, 2, 4, 6, 8, 8, 10};
  static const rd_node indices[] = {1, 5, 0, 2, 1, 3, 2, 5, 0, 3};
  static const float features[] = {0.5f, -1, 2e-3f, 1, 2, 3, -0.25f, 1e2f, 7.125f,
                                   4,    5,  6,     0, 0, 0, 1.5f,   2.5f, -3.5f};
  static const int32_t labels[] = {3, 0, -1, 1, 2, -1};
  static const rd_node train[] = {0, 2, 4}, valid[] = {1}, test[] = {3, 5};
  rd_graph g;
  CHECK(rd_graph_load(&g, path, RD_LOAD_ALL) == 0, "load: %s", rd_error());
  CHECK(g.num_nodes == 6 && g.num_edges == 10 && g.num_features == 3 && g.num_classes == 4 &&
            g.seed == 0,
        "header: %lld nodes, %lld edges, %d features, %d classes", (long long)g.num_nodes,
        (long long)g.num_edges, g.num_features, g.num_classes);
  CHECK(g.num_train == 3 && g.num_valid == 1 && g.num_test == 2, "split sizes %lld/%lld/%lld",
        (long long)g.num_train, (long long)g.num_valid, (long long)g.num_test);
  SAME(g.indptr, indptr);
  SAME(g.indices, indices);
  SAME(g.features, features);
  SAME(g.labels, labels);
  SAME(g.train, train);
  SAME(g.valid, valid);
  SAME(g.test, test);
  rd_graph_free(&g);
}

// Feature lines longer than the importer's 1 MiB read buffer: it must grow
// the buffer and join lines split across reads; cut in half, the file must
// fail even though its first lines parse.
static void check_wide(const char *root) {
  enum { WIDE = 300000 };
  char dir[256], out[300], path[512];
  snprintf(dir, sizeof dir, "%s/wide", root);
  snprintf(out, sizeof out, "%s/wide.rdg", root);
  snprintf(path, sizeof path, "%s/raw/node-feat.csv.gz", dir);
  char *text = malloc(6 * WIDE * 4 + 1), *p = text;  // fields are "0".."999" plus a separator
  for (int v = 0; v < 6; v++)
    for (int j = 0; j < WIDE; j++)
      p += sprintf(p, "%d%c", (v * 7 + j) % 1000, j + 1 < WIDE ? ',' : '\n');
  make_good(dir);
  put(dir, "raw/node-feat.csv.gz", text);
  free(text);
  CHECK(rd_import_ogb(dir, NULL, out) == 0, "wide import: %s", rd_error());
  rd_graph g;
  CHECK(rd_graph_load(&g, out, RD_LOAD_FEATURES) == 0, "wide load: %s", rd_error());
  CHECK(g.num_features == WIDE, "%d features", g.num_features);
  for (int v = 0; v < 6; v++)
    for (int j = 0; j < WIDE; j++)
      CHECK(g.features[(size_t)v * WIDE + j] == (float)((v * 7 + j) % 1000), "feature %d,%d", v, j);
  rd_graph_free(&g);
  struct stat st;
  CHECK(stat(path, &st) == 0 && truncate(path, st.st_size / 2) == 0, "truncate %s", path);
  CHECK(rd_import_ogb(dir, NULL, out) == -1, "truncated wide file imported");
  CHECK(strstr(rd_error(), "node-feat.csv.gz: gzip data truncated or corrupt after line"), "%s",
        rd_error());
}

typedef struct {
  const char *rel, *text;  // the file replaced (text NULL: removed) in a good dataset
  bool truncate;           // instead cut the good file in half
  const char *split;       // split name passed to the importer
  const char *want[2];     // substrings of the error message
} bad_case;

static const bad_case bad[] = {
    {.rel = "raw/edge.csv.gz",
     .text = "0,1\n1,2,3\n",
     .want = {"edge.csv.gz:2:", "expected 2 fields, found 3"}},
    {.rel = "raw/node-feat.csv.gz",
     .text = "1,2,3\n4,5,6\n7,x,9\n",
     .want = {"node-feat.csv.gz:3:", "field 2 ('x') is not a finite number"}},
    {.rel = "raw/node-label.csv.gz",
     .text = "1\n2\n1.5\n0\n0\n0\n",
     .want = {"node-label.csv.gz:3:", "field 1 ('1.5') is not a non-negative integer"}},
    {.rel = "raw/num-node-list.csv.gz",
     .text = "six\n",
     .want = {"num-node-list.csv.gz:1:", "is not an integer"}},
    {.rel = "raw/edge.csv.gz",
     .text = "0,1\n\n0,6\n",
     .want = {"edge.csv.gz:3:", "field 2 (6) outside [0, 6)"}},
    {.rel = "split/sales/test.csv.gz",
     .text = "5\n-1\n",
     .want = {"test.csv.gz:2:", "(-1) outside [0, 6)"}},
    {.rel = "split/sales/train.csv.gz",
     .text = "4\n0\n4\n",
     .want = {"train.csv.gz:3:", "node id 4 listed twice"}},
    {.rel = "raw/num-node-list.csv.gz",
     .text = "7\n",
     .want = {"node-feat.csv.gz: 6 lines, expected 7", "num-node-list.csv.gz"}},
    {.rel = "raw/node-label.csv.gz",
     .text = "0\n0\n0\n0\n0\n0\n0\n",
     .want = {"node-label.csv.gz:7: more than 6 lines", "num-node-list.csv.gz"}},
    {.rel = "raw/num-edge-list.csv.gz",
     .text = "9\n",
     .want = {"edge.csv.gz: 8 lines, expected 9", "num-edge-list.csv.gz"}},
    {.rel = "raw/node-feat.csv.gz",
     .text = "1,2,3\n4,5\n",
     .want = {"node-feat.csv.gz:2:", "expected 3 features as on the first line, found 2"}},
    {.rel = "split/sales/valid.csv.gz",
     .text = "",
     .want = {"split/sales/valid.csv.gz", "empty split"}},
    {.rel = "raw/node-label.csv.gz", .want = {"node-label.csv.gz", "cannot open"}},
    {.rel = "raw/node-feat.csv.gz",
     .truncate = true,
     .want = {"node-feat.csv.gz", "truncated or corrupt"}},
    {.split = "nope", .want = {"split/nope/train.csv.gz", "cannot open"}},
    {.rel = "split/other/train.csv.gz", .text = "0\n", .want = {"/split", "2 split directories"}},
};

int main(void) {
  char root[] = "ogb_test_XXXXXX", dir[256], out[300];
  CHECK(mkdtemp(root), "mkdtemp: %s", strerror(errno));

  snprintf(dir, sizeof dir, "%s/good", root);
  snprintf(out, sizeof out, "%s/good.rdg", root);
  make_good(dir);
  CHECK(rd_import_ogb(dir, NULL, out) == 0, "import: %s", rd_error());
  check_good(out);
  CHECK(rd_import_ogb(dir, "sales", out) == 0, "import with split name: %s", rd_error());
  check_good(out);

  check_wide(root);

  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const bad_case *c = &bad[i];
    snprintf(dir, sizeof dir, "%s/bad%zu", root, i);
    snprintf(out, sizeof out, "%s/bad%zu.rdg", root, i);
    make_good(dir);
    if (c->truncate) {
      char path[512];
      struct stat st;
      snprintf(path, sizeof path, "%s/%s", dir, c->rel);
      CHECK(stat(path, &st) == 0 && truncate(path, st.st_size / 2) == 0, "truncate %s", path);
    } else if (c->rel) {
      put(dir, c->rel, c->text);
    }
    CHECK(rd_import_ogb(dir, c->split, out) == -1, "case %zu imported", i);
    for (int k = 0; k < 2; k++)
      CHECK(strstr(rd_error(), c->want[k]), "case %zu: \"%s\" lacks \"%s\"", i, rd_error(),
            c->want[k]);
    CHECK(access(out, F_OK) != 0, "case %zu left %s behind", i, out);
  }
  rm_rf(root);
  return 0;
}
