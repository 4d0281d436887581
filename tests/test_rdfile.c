// The graph format: a round trip keeps every array, and each kind of damage
// (truncation, flipped payload byte, flipped header byte, wrong version,
// wrong kind, garbage) fails with a message naming the file and the fault.
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "graph/graph.h"

// A 5-node path 0-1-2-3-4 with a chord 0-4.
static const int64_t indptr[] = {0, 2, 4, 6, 8, 10};
static const rd_node indices[] = {1, 4, 0, 2, 1, 3, 2, 4, 0, 3};
static const float features[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
static const int32_t labels[] = {0, 1, -1, 1, 0};
static const rd_node train[] = {0, 3}, valid[] = {1}, test[] = {2, 4};

static rd_graph sample(void) {
  return (rd_graph){.num_nodes = 5, .num_edges = 10, .num_features = 2, .num_classes = 2,
                    .indptr = indptr, .indices = indices, .features = features, .labels = labels,
                    .train = train, .valid = valid, .test = test,
                    .num_train = 2, .num_valid = 1, .num_test = 2, .seed = 42};
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static void copy_file(const char *from, const char *to, long truncate_to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  int c;
  for (long i = 0; (c = fgetc(a)) != EOF && (truncate_to < 0 || i < truncate_to); i++) fputc(c, b);
  fclose(a);
  fclose(b);
}

static void poke(const char *path, long offset, unsigned char xor_mask) {
  FILE *f = fopen(path, "r+b");
  fseek(f, offset, SEEK_SET);
  int c = fgetc(f);
  fseek(f, offset, SEEK_SET);
  fputc(c ^ xor_mask, f);
  fclose(f);
}

static void expect_fail(const char *path, unsigned what, const char *needle) {
  rd_graph g;
  CHECK(rd_graph_load(&g, path, what) != 0, "loading damaged %s should fail", path);
  CHECK(strstr(rd_error(), path) != NULL, "message '%s' should name %s", rd_error(), path);
  CHECK(strstr(rd_error(), needle) != NULL, "message '%s' should say '%s'", rd_error(), needle);
}

int main(void) {
  const char *good = "rdfile_good.rdg", *bad = "rdfile_bad.rdg";
  rd_graph src = sample();
  CHECK(rd_graph_write(&src, good) == 0, "write: %s", rd_error());

  rd_graph g;
  CHECK(rd_graph_load(&g, good, RD_LOAD_ALL) == 0, "load: %s", rd_error());
  CHECK(g.num_nodes == 5 && g.num_edges == 10 && g.num_features == 2 && g.num_classes == 2 &&
            g.seed == 42, "sizes");
  CHECK(memcmp(g.indptr, indptr, sizeof indptr) == 0, "indptr");
  CHECK(memcmp(g.indices, indices, sizeof indices) == 0, "indices");
  CHECK(memcmp(g.features, features, sizeof features) == 0, "features");
  CHECK(memcmp(g.labels, labels, sizeof labels) == 0, "labels");
  CHECK(g.num_train == 2 && memcmp(g.train, train, sizeof train) == 0, "train");
  CHECK(g.num_valid == 1 && g.valid[0] == 1 && g.num_test == 2 && g.test[1] == 4, "splits");
  CHECK(((uintptr_t)g.indices % RD_FILE_ALIGN) == 0, "sections are aligned for mmap");
  // Section offsets, to aim the damage.
  const uint64_t feat_off = g.file.hdr.sec[2].offset, idx_off = g.file.hdr.sec[1].offset;
  rd_graph_free(&g);

  // A topology-only load leaves the rest unmapped.
  CHECK(rd_graph_load(&g, good, RD_LOAD_TOPOLOGY) == 0 && g.features == NULL && g.indptr, "partial");
  rd_graph_free(&g);

  const long size = file_size(good);
  copy_file(good, bad, size - 7);
  expect_fail(bad, RD_LOAD_ALL, "truncated");
  copy_file(good, bad, 100);
  expect_fail(bad, RD_LOAD_ALL, "truncated");

  copy_file(good, bad, -1);
  poke(bad, (long)feat_off + 3, 0x40);
  expect_fail(bad, RD_LOAD_ALL, "corrupted (checksum");
  // The damaged features are not read by a topology-only load: it succeeds.
  CHECK(rd_graph_load(&g, bad, RD_LOAD_TOPOLOGY) == 0, "topology of %s: %s", bad, rd_error());
  rd_graph_free(&g);

  copy_file(good, bad, -1);
  poke(bad, (long)idx_off, 0x01);
  expect_fail(bad, RD_LOAD_TOPOLOGY, "checksum");

  copy_file(good, bad, -1);
  poke(bad, 40, 0x10);  // inside meta: the header checksum catches it
  expect_fail(bad, RD_LOAD_ALL, "corrupted header");

  copy_file(good, bad, -1);
  poke(bad, 8, 0x02);  // version 1 -> 3
  expect_fail(bad, RD_LOAD_ALL, "version 3");

  copy_file(good, bad, -1);
  poke(bad, 0, 0xff);
  expect_fail(bad, RD_LOAD_ALL, "not a Rudder file");

  FILE *f = fopen(bad, "wb");
  fputs("src,dst\n0,1\n", f);
  fclose(f);
  expect_fail(bad, RD_LOAD_ALL, "truncated");
  expect_fail("no_such_file.rdg", RD_LOAD_ALL, "cannot open");

  // A writer refuses an invalid graph and leaves nothing behind.
  rd_graph broken = sample();
  static const rd_node bad_indices[] = {1, 4, 0, 2, 1, 3, 2, 7, 0, 3};
  broken.indices = bad_indices;
  CHECK(rd_graph_write(&broken, "rdfile_never.rdg") != 0, "invalid graph must not be written");
  CHECK(strstr(rd_error(), "outside") != NULL, "%s", rd_error());
  CHECK(fopen("rdfile_never.rdg", "rb") == NULL && fopen("rdfile_never.rdg.tmp", "rb") == NULL,
        "no file left behind");
  remove(good);
  remove(bad);
  printf("rdfile: ok\n");
  return 0;
}
