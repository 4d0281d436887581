// Importer for the GraphSAINT release layout of Reddit and Yelp (docs/FORMAT.md,
// "GraphSAINT datasets"): DIR/adj_full.npz (a scipy CSR matrix saved by
// scipy.sparse.save_npz), DIR/feats.npy, DIR/class_map.json, DIR/role.json.
#ifndef RUDDER_SAINT_H
#define RUDDER_SAINT_H

// Yelp's labels are multi-label (a 0/1 vector per node); the trainers take
// one class per node. RARE maps a node to its positive class with the
// fewest positive nodes overall (ties: the smaller class), FIRST to its
// smallest positive class. A node with no positive class is unlabelled (-1).
typedef enum { RD_MULTILABEL_RARE, RD_MULTILABEL_FIRST } rd_multilabel_map;

int rd_multilabel_parse(const char *s, rd_multilabel_map *out);

// Reads DIR and writes a graph file to `out_path`: edges symmetrised (self
// loops dropped, duplicates merged), features converted to float32, classes
// = max label + 1, the split from role.json (tr, va, te). The provenance
// records the source and, for multi-label data, the mapping. Returns 0, or
// -1 with rd_error() naming the file, the line (JSON) or the entry (npz)
// and the field at fault.
int rd_import_saint(const char *dir, rd_multilabel_map map, const char *out_path);

#endif
