#include "partition.h"

#include <errno.h>
#include <metis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "rng.h"

_Static_assert(sizeof(idx_t) == sizeof(rd_node), "METIS must be built with 32-bit idx_t");

static int assign_metis(const rd_graph *g, int parts, uint64_t seed, int32_t *owner) {
  const int64_t n = g->num_nodes;
  if (g->num_edges > INT32_MAX)
    return rd_error_set("METIS (32-bit idx_t) cannot take %lld CSR entries", (long long)g->num_edges);
  // Two balance constraints: nodes (feature memory) and training nodes (work).
  idx_t *xadj = malloc(((size_t)n + 1) * sizeof *xadj);
  idx_t *adjncy = malloc(((size_t)g->num_edges + 1) * sizeof *adjncy);
  idx_t *vwgt = calloc(2 * (size_t)n, sizeof *vwgt);
  if (!xadj || !adjncy || !vwgt) {
    free(xadj); free(adjncy); free(vwgt);
    return rd_error_set("out of memory preparing METIS input");
  }
  for (int64_t v = 0; v <= n; v++) xadj[v] = (idx_t)g->indptr[v];
  // A private copy: METIS takes non-const arrays and the graph is mapped read-only.
  memcpy(adjncy, g->indices, (size_t)g->num_edges * sizeof *adjncy);
  for (int64_t v = 0; v < n; v++) vwgt[2 * v] = 1;
  for (int64_t i = 0; i < g->num_train; i++) vwgt[2 * (int64_t)g->train[i] + 1] = 1;
  idx_t nvtxs = (idx_t)n, ncon = 2, nparts = parts, objval = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_CUT;
  options[METIS_OPTION_SEED] = (idx_t)(seed & 0x7fffffff);
  int rc = METIS_PartGraphKway(&nvtxs, &ncon, xadj, adjncy, vwgt, NULL, NULL, &nparts, NULL, NULL,
                               options, &objval, (idx_t *)owner);
  free(xadj); free(adjncy); free(vwgt);
  if (rc != METIS_OK) return rd_error_set("METIS_PartGraphKway failed (code %d)", rc);
  return 0;
}

int rd_partition_assign(const rd_graph *g, int parts, rd_part_method method, uint64_t seed,
                        int32_t *owner) {
  const int64_t n = g->num_nodes;
  if (parts < 1 || parts > RD_MAX_PARTS || parts > n)
    return rd_error_set("parts: %d out of range [1, %d]", parts, RD_MAX_PARTS);
  if (parts == 1) {
    memset(owner, 0, (size_t)n * sizeof *owner);
    return 0;
  }
  if (method == RD_PART_METIS) return assign_metis(g, parts, seed, owner);
  if (method != RD_PART_RANDOM) return rd_error_set("unknown partition method %d", (int)method);
  // A seeded permutation dealt round-robin: exact node balance.
  rd_node *perm = malloc((size_t)n * sizeof *perm);
  if (!perm) return rd_error_set("out of memory");
  for (int64_t v = 0; v < n; v++) perm[v] = (rd_node)v;
  rd_rng r = rd_rng_stream(seed, 0x9a27, 0);
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)rd_rng_below(&r, (uint64_t)i + 1);
    rd_node t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  for (int64_t i = 0; i < n; i++) owner[perm[i]] = (int32_t)(i % parts);
  free(perm);
  return 0;
}

int64_t rd_partition_edge_cut(const rd_graph *g, const int32_t *owner) {
  int64_t cut = 0;
#pragma omp parallel for reduction(+ : cut) schedule(dynamic, 4096)
  for (int64_t v = 0; v < g->num_nodes; v++)
    for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++) cut += owner[g->indices[e]] != owner[v];
  return cut / 2;
}

int rd_partition_halo(const rd_graph *g, const int32_t *owner, int part, int hops, rd_node **halo,
                      uint8_t **hop, int64_t *num_halo) {
  const int64_t n = g->num_nodes;
  if (hops < 1 || hops > 254) return rd_error_set("hops: %d out of range [1, 254]", hops);
  uint8_t *dist = malloc((size_t)n);
  rd_node *frontier = malloc((size_t)n * sizeof *frontier), *next = malloc((size_t)n * sizeof *next);
  if (!dist || !frontier || !next) {
    free(dist); free(frontier); free(next);
    return rd_error_set("out of memory for the halo BFS");
  }
  memset(dist, 0xff, (size_t)n);
  int64_t nf = 0;
  for (int64_t i = 0; i < g->num_train; i++)
    if (owner[g->train[i]] == part) {
      dist[g->train[i]] = 0;
      frontier[nf++] = g->train[i];
    }
  // Level-synchronous BFS over the whole topology: a sampler may walk through
  // any node, local or remote, on its way out.
  for (int level = 1; level <= hops && nf > 0; level++) {
    int64_t nn = 0;
    for (int64_t i = 0; i < nf; i++) {
      const rd_node v = frontier[i];
      for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
        if (dist[g->indices[e]] == 0xff) {
          dist[g->indices[e]] = (uint8_t)level;
          next[nn++] = g->indices[e];
        }
    }
    rd_node *t = frontier; frontier = next; next = t;
    nf = nn;
  }
  free(frontier);
  free(next);
  int64_t h = 0;
  for (int64_t v = 0; v < n; v++) h += dist[v] != 0xff && owner[v] != part;
  *halo = malloc(((size_t)h + 1) * sizeof **halo);
  *hop = malloc((size_t)h + 1);
  if (!*halo || !*hop) {
    free(dist); free(*halo); free(*hop);
    return rd_error_set("out of memory for a %lld-node halo", (long long)h);
  }
  h = 0;
  for (int64_t v = 0; v < n; v++)
    if (dist[v] != 0xff && owner[v] != part) {
      (*halo)[h] = (rd_node)v;
      (*hop)[h++] = dist[v];
    }
  *num_halo = h;
  free(dist);
  return 0;
}

// Writes part `k`: owned rows (ascending global id), their features, labels,
// local split rows, and the halo.
static int write_part(const rd_graph *g, const int32_t *owner, const int32_t *local, int parts,
                      int k, int hops, const char *dir, rd_part_stats *st) {
  const int64_t n = g->num_nodes, F = g->num_features;
  int64_t no = 0;
  for (int64_t v = 0; v < n; v++) no += owner[v] == k;
  rd_node *owned = malloc(((size_t)no + 1) * sizeof *owned);
  float *feat = malloc(((size_t)no * (size_t)F + 1) * sizeof *feat);
  int32_t *labels = malloc(((size_t)no + 1) * sizeof *labels);
  int32_t *rows = malloc(((size_t)no + 1) * sizeof *rows);
  rd_node *halo = NULL;
  uint8_t *hop = NULL;
  int32_t *hown = NULL, *hdeg = NULL;
  int64_t nh = 0;
  int rc = -1;
  if (!owned || !feat || !labels || !rows) {
    rd_error_set("out of memory writing part %d", k);
    goto done;
  }
  for (int64_t v = 0, i = 0; v < n; v++)
    if (owner[v] == k) {
      owned[i] = (rd_node)v;
      memcpy(feat + i * F, g->features + v * F, (size_t)F * sizeof *feat);
      labels[i++] = g->labels[v];
    }
  if (rd_partition_halo(g, owner, k, hops, &halo, &hop, &nh)) goto done;
  hown = malloc(((size_t)nh + 1) * sizeof *hown);
  hdeg = malloc(((size_t)nh + 1) * sizeof *hdeg);
  if (!hown || !hdeg) {
    rd_error_set("out of memory writing part %d", k);
    goto done;
  }
  int64_t h1 = 0;
  for (int64_t i = 0; i < nh; i++) {
    hown[i] = owner[halo[i]];
    hdeg[i] = (int32_t)rd_degree(g, halo[i]);
    h1 += hop[i] == 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/part%d.rdp", dir, k);
  rd_writer *w = rd_writer_open(path, RD_KIND_PART);
  if (!w) goto done;
  rd_writer_meta(w, RD_PTM_PART, k);
  rd_writer_meta(w, RD_PTM_PARTS, parts);
  rd_writer_meta(w, RD_PTM_NODES, n);
  rd_writer_meta(w, RD_PTM_FEATURES, F);
  rd_writer_meta(w, RD_PTM_CLASSES, g->num_classes);
  rd_writer_meta(w, RD_PTM_HOPS, hops);
  rd_writer_section(w, RD_P_OWNED, owned, 4, (uint64_t)no);
  rd_writer_section(w, RD_P_FEATURES, feat, 4, (uint64_t)(no * F));
  rd_writer_section(w, RD_P_LABELS, labels, 4, (uint64_t)no);
  // Split ids are ascending globally, so their local rows come out ascending.
  const rd_node *ids[3] = {g->train, g->valid, g->test};
  const int64_t cnt[3] = {g->num_train, g->num_valid, g->num_test};
  for (int s = 0; s < 3; s++) {
    int64_t m = 0;
    for (int64_t i = 0; i < cnt[s]; i++)
      if (owner[ids[s][i]] == k) rows[m++] = local[ids[s][i]];
    if (s == 0) st->train[k] = m;
    rd_writer_section(w, (uint32_t)(RD_P_TRAIN + s), rows, 4, (uint64_t)m);
  }
  rd_writer_section(w, RD_P_HALO, halo, 4, (uint64_t)nh);
  rd_writer_section(w, RD_P_HALO_OWNER, hown, 4, (uint64_t)nh);
  rd_writer_section(w, RD_P_HALO_DEGREE, hdeg, 4, (uint64_t)nh);
  rd_writer_section(w, RD_P_HALO_HOP, hop, 1, (uint64_t)nh);
  if (rd_writer_close(w)) goto done;
  st->owned[k] = no;
  st->halo[k] = nh;
  st->halo_1hop[k] = h1;
  rc = 0;
done:
  free(owned); free(feat); free(labels); free(rows);
  free(halo); free(hop); free(hown); free(hdeg);
  return rc;
}

int rd_partition_write(const rd_graph *g, int parts, rd_part_method method, int hops,
                       uint64_t seed, const char *dir, rd_part_stats *st) {
  memset(st, 0, sizeof *st);
  const double t0 = rd_now();
  const int64_t n = g->num_nodes;
  if (!g->features || !g->labels || !g->train)
    return rd_error_set("partitioning needs the graph's features, labels and splits");
  if (hops < 1 || hops > 254) return rd_error_set("hops: %d out of range [1, 254]", hops);
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return rd_error_set("%s: cannot create directory: %s", dir, strerror(errno));
  char path[4096];
  snprintf(path, sizeof path, "%s/map.rdp", dir);
  if (remove(path) != 0 && errno != ENOENT)  // the map marks a complete partition
    return rd_error_set("%s: cannot remove the old map: %s", path, strerror(errno));
  int32_t *owner = malloc((size_t)n * sizeof *owner), *local = malloc((size_t)n * sizeof *local);
  int rc = -1;
  if (!owner || !local) {
    rd_error_set("out of memory");
    goto done;
  }
  if (rd_partition_assign(g, parts, method, seed, owner)) goto done;
  st->assign_seconds = rd_now() - t0;
  st->edge_cut = rd_partition_edge_cut(g, owner);
  {
    int64_t next[RD_MAX_PARTS] = {0};
    for (int64_t v = 0; v < n; v++) local[v] = (int32_t)next[owner[v]]++;
  }
  // Parts first, map last: a directory with a map is a complete partition.
  for (int k = 0; k < parts; k++)
    if (write_part(g, owner, local, parts, k, hops, dir, st)) goto done;
  rd_writer *w = rd_writer_open(path, RD_KIND_PARTMAP);
  if (!w) goto done;
  rd_writer_meta(w, RD_PMM_NODES, n);
  rd_writer_meta(w, RD_PMM_PARTS, parts);
  rd_writer_meta(w, RD_PMM_METHOD, method);
  rd_writer_meta(w, RD_PMM_SEED, (int64_t)seed);
  rd_writer_meta(w, RD_PMM_EDGE_CUT, st->edge_cut);
  rd_writer_section(w, RD_PM_OWNER, owner, 4, (uint64_t)n);
  rd_writer_section(w, RD_PM_LOCAL, local, 4, (uint64_t)n);
  if (rd_writer_close(w)) goto done;
  st->total_seconds = rd_now() - t0;
  rc = 0;
done:
  free(owner);
  free(local);
  return rc;
}
