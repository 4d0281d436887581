// Importer for OGB node-property-prediction datasets in their raw CSV layout
// (DIR/raw/*.csv.gz, DIR/split/<name>/{train,valid,test}.csv.gz), e.g. the
// unpacked ogbn-arxiv or ogbn-products archives; or in the binary layout
// (DIR/raw/data.npz, DIR/raw/node-label.npz) that ogbn-papers100M ships.
#ifndef RUDDER_OGB_H
#define RUDDER_OGB_H

// Reads the dataset under `dir` and writes it as a graph file to `out_path`:
// edges symmetrised (self loops dropped, duplicates merged), `nan` labels
// stored as -1, num_classes = max label + 1, split ids sorted. `split_name`
// picks DIR/split/<split_name>; NULL takes the only subdirectory of split/.
// Returns 0, or -1 with rd_error() naming the file, line and field at fault.
int rd_import_ogb(const char *dir, const char *split_name, const char *out_path);

#endif
