#include "graph.h"

#include <string.h>

#include "../error.h"

int rd_graph_validate(const rd_graph *g, const char *name, unsigned what) {
  const int64_t n = g->num_nodes, m = g->num_edges;
  if (n <= 0 || n > INT32_MAX) return rd_error_set("%s: num_nodes %lld out of range", name, (long long)n);
  if (m < 0) return rd_error_set("%s: num_edges %lld is negative", name, (long long)m);
  if (g->num_features <= 0 || g->num_classes <= 0)
    return rd_error_set("%s: num_features %d / num_classes %d must be positive", name,
                        g->num_features, g->num_classes);
  if (what & RD_LOAD_TOPOLOGY) {
    if (g->indptr[0] != 0 || g->indptr[n] != m)
      return rd_error_set("%s: indptr must run from 0 to num_edges (%lld), runs %lld..%lld", name,
                          (long long)m, (long long)g->indptr[0], (long long)g->indptr[n]);
    for (int64_t v = 0; v < n; v++)
      if (g->indptr[v + 1] < g->indptr[v])
        return rd_error_set("%s: indptr decreases at node %lld", name, (long long)v);
    for (int64_t v = 0; v < n; v++)
      for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++) {
        if (g->indices[e] < 0 || g->indices[e] >= n)
          return rd_error_set("%s: edge %lld points to node %d, outside [0, %lld)", name,
                              (long long)e, g->indices[e], (long long)n);
        if (e > g->indptr[v] && g->indices[e] <= g->indices[e - 1])
          return rd_error_set("%s: neighbours of node %lld not strictly ascending at edge %lld",
                              name, (long long)v, (long long)e);
      }
  }
  if (what & RD_LOAD_LABELS)
    for (int64_t v = 0; v < n; v++)
      if (g->labels[v] < -1 || g->labels[v] >= g->num_classes)
        return rd_error_set("%s: node %lld has label %d, outside [-1, %d)", name, (long long)v,
                            g->labels[v], g->num_classes);
  if (what & RD_LOAD_SPLITS) {
    const rd_node *ids[3] = {g->train, g->valid, g->test};
    const int64_t cnt[3] = {g->num_train, g->num_valid, g->num_test};
    static const char *split[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++)
      for (int64_t i = 0; i < cnt[s]; i++)
        if (ids[s][i] < 0 || ids[s][i] >= n || (i > 0 && ids[s][i] <= ids[s][i - 1]))
          return rd_error_set("%s: %s id #%lld (%d) out of range or not ascending", name, split[s],
                              (long long)i, ids[s][i]);
  }
  return 0;
}

int rd_graph_load(rd_graph *g, const char *path, unsigned what) {
  memset(g, 0, sizeof *g);
  if (rd_file_open(&g->file, path, RD_KIND_GRAPH)) return -1;
  const int64_t *meta = g->file.hdr.meta;
  g->num_nodes = meta[RD_GM_NODES];
  g->num_edges = meta[RD_GM_EDGES];
  g->num_features = (int32_t)meta[RD_GM_FEATURES];
  g->num_classes = (int32_t)meta[RD_GM_CLASSES];
  g->seed = (uint64_t)meta[RD_GM_SEED];
  if (g->num_nodes <= 0 || g->num_nodes > INT32_MAX || g->num_features <= 0 || g->num_classes <= 0) {
    rd_error_set("%s: corrupted header (nodes %lld, features %d, classes %d)", path,
                 (long long)g->num_nodes, g->num_features, g->num_classes);
    goto fail;
  }
  const int verify = !(what & RD_LOAD_NO_VERIFY);
  rd_file *f = &g->file;
  if (what & RD_LOAD_TOPOLOGY) {
    if (!(g->indptr = rd_file_section_n(f, RD_G_INDPTR, 8, g->num_nodes + 1, NULL, verify)) ||
        !(g->indices = rd_file_section_n(f, RD_G_INDICES, 4, g->num_edges, NULL, verify)))
      goto fail;
  }
  if ((what & RD_LOAD_FEATURES) &&
      !(g->features = rd_file_section_n(f, RD_G_FEATURES, 4, g->num_nodes * g->num_features, NULL, verify)))
    goto fail;
  if ((what & RD_LOAD_LABELS) && !(g->labels = rd_file_section_n(f, RD_G_LABELS, 4, g->num_nodes, NULL, verify)))
    goto fail;
  if ((what & RD_LOAD_SPLITS) &&
      (!(g->train = rd_file_section_n(f, RD_G_TRAIN, 4, -1, &g->num_train, verify)) ||
       !(g->valid = rd_file_section_n(f, RD_G_VALID, 4, -1, &g->num_valid, verify)) ||
       !(g->test = rd_file_section_n(f, RD_G_TEST, 4, -1, &g->num_test, verify))))
    goto fail;
  uint64_t plen = 0;
  const char *prov = rd_file_section(f, RD_G_PROVENANCE, 1, &plen, verify, 1);
  for (uint32_t i = 0; !prov && i < f->hdr.num_sections; i++)
    if (f->hdr.sec[i].id == RD_G_PROVENANCE) goto fail;  // present but bad: the error is set
  if (prov && (plen == 0 || prov[plen - 1] != '\0')) {
    rd_error_set("%s: provenance section is not NUL-terminated", path);
    goto fail;
  }
  g->provenance = prov;
  if (rd_graph_validate(g, path, what)) goto fail;
  return 0;
fail:
  rd_graph_free(g);
  return -1;
}

void rd_graph_free(rd_graph *g) {
  rd_file_close(&g->file);
  memset(g, 0, sizeof *g);
}

int rd_graph_write(const rd_graph *g, const char *path) {
  if (rd_graph_validate(g, path, RD_LOAD_ALL)) return -1;
  rd_writer *w = rd_writer_open(path, RD_KIND_GRAPH);
  if (!w) return -1;
  rd_writer_meta(w, RD_GM_NODES, g->num_nodes);
  rd_writer_meta(w, RD_GM_EDGES, g->num_edges);
  rd_writer_meta(w, RD_GM_FEATURES, g->num_features);
  rd_writer_meta(w, RD_GM_CLASSES, g->num_classes);
  rd_writer_meta(w, RD_GM_SEED, (int64_t)g->seed);
  rd_writer_section(w, RD_G_INDPTR, g->indptr, sizeof(int64_t), (uint64_t)g->num_nodes + 1);
  rd_writer_section(w, RD_G_INDICES, g->indices, sizeof(rd_node), (uint64_t)g->num_edges);
  rd_writer_section(w, RD_G_FEATURES, g->features, sizeof(float),
                    (uint64_t)g->num_nodes * (uint64_t)g->num_features);
  rd_writer_section(w, RD_G_LABELS, g->labels, sizeof(int32_t), (uint64_t)g->num_nodes);
  rd_writer_section(w, RD_G_TRAIN, g->train, sizeof(rd_node), (uint64_t)g->num_train);
  rd_writer_section(w, RD_G_VALID, g->valid, sizeof(rd_node), (uint64_t)g->num_valid);
  rd_writer_section(w, RD_G_TEST, g->test, sizeof(rd_node), (uint64_t)g->num_test);
  if (g->provenance)
    rd_writer_section(w, RD_G_PROVENANCE, g->provenance, 1, strlen(g->provenance) + 1);
  return rd_writer_close(w);  // reports the first write error, if any
}
