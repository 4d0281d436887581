#include "part.h"

#include <stdio.h>
#include <string.h>

#include "../error.h"

const char *rd_part_method_name(rd_part_method m) {
  return m == RD_PART_METIS ? "metis" : m == RD_PART_RANDOM ? "random" : "unknown";
}

int rd_part_method_parse(const char *s, rd_part_method *m) {
  if (strcmp(s, "metis") == 0) *m = RD_PART_METIS;
  else if (strcmp(s, "random") == 0) *m = RD_PART_RANDOM;
  else return rd_error_set("unknown partition method '%s' (known: metis, random)", s);
  return 0;
}

static int check_rows(const char *path, const char *what, const int32_t *rows, int64_t n,
                      int64_t limit) {
  for (int64_t i = 0; i < n; i++)
    if (rows[i] < 0 || rows[i] >= limit || (i > 0 && rows[i] <= rows[i - 1]))
      return rd_error_set("%s: %s entry #%lld (%d) out of range or not ascending", path, what,
                          (long long)i, rows[i]);
  return 0;
}

int rd_part_load(rd_part *p, const char *dir, int part, int verify) {
  memset(p, 0, sizeof *p);
  char path[4096];
  snprintf(path, sizeof path, "%s/map.rdp", dir);
  if (rd_file_open(&p->map_file, path, RD_KIND_PARTMAP)) return -1;
  const int64_t *mm = p->map_file.hdr.meta;
  p->num_nodes = mm[RD_PMM_NODES];
  p->num_parts = (int32_t)mm[RD_PMM_PARTS];
  p->method = (rd_part_method)mm[RD_PMM_METHOD];
  if (p->num_nodes <= 0 || p->num_nodes > INT32_MAX || p->num_parts <= 0) {
    rd_error_set("%s: corrupted header (%lld nodes, %d parts)", path, (long long)p->num_nodes,
                 p->num_parts);
    goto fail;
  }
  if (part < 0 || part >= p->num_parts) {
    rd_error_set("%s: part %d requested, the partition has %d parts", path, part, p->num_parts);
    goto fail;
  }
  if (!(p->owner = rd_file_section_n(&p->map_file, RD_PM_OWNER, 4, p->num_nodes, NULL, verify)) ||
      !(p->local = rd_file_section_n(&p->map_file, RD_PM_LOCAL, 4, p->num_nodes, NULL, verify)))
    goto fail;
  for (int64_t v = 0; v < p->num_nodes; v++)
    if (p->owner[v] < 0 || p->owner[v] >= p->num_parts || p->local[v] < 0) {
      rd_error_set("%s: node %lld has owner %d / row %d out of range", path, (long long)v,
                   p->owner[v], p->local[v]);
      goto fail;
    }

  snprintf(path, sizeof path, "%s/part%d.rdp", dir, part);
  rd_file *f = &p->part_file;
  if (rd_file_open(f, path, RD_KIND_PART)) goto fail;
  const int64_t *pm = f->hdr.meta;
  p->part = (int32_t)pm[RD_PTM_PART];
  p->num_features = (int32_t)pm[RD_PTM_FEATURES];
  p->num_classes = (int32_t)pm[RD_PTM_CLASSES];
  p->hops = (int32_t)pm[RD_PTM_HOPS];
  if (p->part != part || pm[RD_PTM_PARTS] != p->num_parts || pm[RD_PTM_NODES] != p->num_nodes ||
      p->num_features <= 0 || p->num_classes <= 0) {
    rd_error_set("%s: header does not match %s/map.rdp (part %d of %lld, %lld nodes)", path, dir,
                 p->part, (long long)pm[RD_PTM_PARTS], (long long)pm[RD_PTM_NODES]);
    goto fail;
  }
  if (!(p->owned = rd_file_section_n(f, RD_P_OWNED, 4, -1, &p->num_owned, verify))) goto fail;
  const int64_t no = p->num_owned;
  if (!(p->features = rd_file_section_n(f, RD_P_FEATURES, 4, no * p->num_features, NULL, verify)) ||
      !(p->labels = rd_file_section_n(f, RD_P_LABELS, 4, no, NULL, verify)) ||
      !(p->train = rd_file_section_n(f, RD_P_TRAIN, 4, -1, &p->num_train, verify)) ||
      !(p->valid = rd_file_section_n(f, RD_P_VALID, 4, -1, &p->num_valid, verify)) ||
      !(p->test = rd_file_section_n(f, RD_P_TEST, 4, -1, &p->num_test, verify)) ||
      !(p->halo = rd_file_section_n(f, RD_P_HALO, 4, -1, &p->num_halo, verify)) ||
      !(p->halo_owner = rd_file_section_n(f, RD_P_HALO_OWNER, 4, p->num_halo, NULL, verify)) ||
      !(p->halo_degree = rd_file_section_n(f, RD_P_HALO_DEGREE, 4, p->num_halo, NULL, verify)) ||
      !(p->halo_hop = rd_file_section_n(f, RD_P_HALO_HOP, 1, p->num_halo, NULL, verify)))
    goto fail;
  if (check_rows(path, "owned", p->owned, no, p->num_nodes) ||
      check_rows(path, "train", p->train, p->num_train, no) ||
      check_rows(path, "valid", p->valid, p->num_valid, no) ||
      check_rows(path, "test", p->test, p->num_test, no) ||
      check_rows(path, "halo", p->halo, p->num_halo, p->num_nodes))
    goto fail;
  for (int64_t i = 0; i < no; i++)
    if (p->owner[p->owned[i]] != part || p->local[p->owned[i]] != i) {
      rd_error_set("%s: owned node %d disagrees with the partition map", path, p->owned[i]);
      goto fail;
    }
  for (int64_t i = 0; i < p->num_halo; i++)
    if (p->owner[p->halo[i]] == part || p->halo_owner[i] != p->owner[p->halo[i]] ||
        p->halo_hop[i] < 1 || p->halo_hop[i] > p->hops) {
      rd_error_set("%s: halo node %d is inconsistent with the partition map", path, p->halo[i]);
      goto fail;
    }
  return 0;
fail:
  rd_part_free(p);
  return -1;
}

void rd_part_free(rd_part *p) {
  rd_file_close(&p->map_file);
  rd_file_close(&p->part_file);
  memset(p, 0, sizeof *p);
}
