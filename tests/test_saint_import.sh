#!/usr/bin/env bash
# rudder_data import-saint on datasets in the GraphSAINT release layout,
# written as numpy/scipy write them (tests/saint_fixture.py: zip64 + deflate
# members, .npy 1.0): the arrays it writes (read back by an independent
# reader, tests/rdg_dump.py), Yelp's multi-label mapping, and that every
# malformed input fails naming the file and the line, member or element;
# and OGB's binary layout (ogbn-papers100M), which shares the npz reader.
. "$(dirname "$0")/lib.sh"
RD=$BIN/datasets/rudder_data
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v python3 >/dev/null || fail "python3 is needed to write the fixtures"

dump() { python3 "$HERE/rdg_dump.py" "$1"; }
expect() {  # expect JSON PYTHON-CONDITION (g is the dump)
  python3 -c "import json,sys; g=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1" ||
    fail "not true of the imported graph: $2"
}

# Reddit-like: single-label.
python3 "$HERE/saint_fixture.py" "$T/reddit" single
out=$("$RD" import-saint "$T/reddit" -o "$T/reddit.rdg")
echo "$out" | grep -q "peak memory" || fail "no time and peak memory reported: $out"
g=$(dump "$T/reddit.rdg")
# Symmetrised, self loop dropped: 7 undirected edges; node 2's neighbours 0 1 3.
expect "$g" 'g["nodes"] == 6 and g["entries"] == 14 and g["features"] == 3 and g["classes"] == 3'
expect "$g" 'g["indices"][g["indptr"][2]:g["indptr"][3]] == [0, 1, 3]'
expect "$g" 'g["x"][3 * 4:3 * 5] == [40.0, 41.0, 42.0]'
expect "$g" 'g["labels"] == [0, 1, 2, 0, 1, 2]'
expect "$g" 'g["train"] == [0, 1, 3] and g["valid"] == [2] and g["test"] == [4, 5]'
expect "$g" '"single-label, as shipped" in g["provenance"]'

# Yelp-like: multi-label, mapped to each node's rarest positive class
# (class sizes 4, 3, 2, 1), or with --multilabel first to the smallest.
python3 "$HERE/saint_fixture.py" "$T/yelp" multi
"$RD" import-saint "$T/yelp" -o "$T/yelp.rdg" >/dev/null
g=$(dump "$T/yelp.rdg")
expect "$g" 'g["classes"] == 4 and g["labels"] == [0, 3, 2, 2, 1, -1]'
expect "$g" '"MAPPED from multi-label (4 classes)" in g["provenance"] and "rarest" in g["provenance"]'
"$RD" import-saint "$T/yelp" --multilabel first -o "$T/yelp1.rdg" >/dev/null
g=$(dump "$T/yelp1.rdg")
expect "$g" 'g["labels"] == [0, 0, 0, 1, 0, -1] and "smallest positive" in g["provenance"]'

# bad KIND BREAK EXPECTED: a fixture with one defect must fail with EXPECTED
# (grep -E) and leave no output file.
bad() {
  rm -rf "$T/b"
  python3 "$HERE/saint_fixture.py" "$T/b" "$1" "$2"
  if "$RD" import-saint "$T/b" -o "$T/bad.rdg" 2>"$T/err" >/dev/null; then fail "$2: accepted"; fi
  grep -Eq "$3" "$T/err" || fail "$2: expected /$3/, got: $(cat "$T/err")"
  [ ! -e "$T/bad.rdg" ] || fail "$2: left an output file"
  ! grep -q Sanitizer "$T/err" || fail "$2: sanitizer report: $(cat "$T/err")"
  echo "ok: $2: $(cat "$T/err")"
}
bad single key      'class_map.json:5: key "x3" is not a node id'
bad single dupkey   'class_map.json:5: node 2 listed twice'
bad single comma    "class_map.json:3: expected ',' or '}' after a value, found '\"'"
bad multi  listlen  'class_map.json:[0-9]+: node 4 has 3 labels, earlier nodes 4'
bad multi  two      'class_map.json:[0-9]+: label entry 2 of node 2 is 2, not 0 or 1'
bad single roleid   'role.json:[0-9]+: "te" entry 1: node id 9 outside \[0, 6\)'
bad single roledup  'role.json:[0-9]+: "va" entry 1: node 3 is already in a split'
bad single indptr   'adj_full.npz: indptr.npy: entry 4 \(4\) is below entry 3 \(6\)'
bad single index    'adj_full.npz: indices.npy: element 2 \(6\) outside \[0, 6\)'
bad single shape    'adj_full.npz: shape.npy: 6 x 7 is not a square adjacency'
bad single format   "adj_full.npz: format.npy: 'coo' is not csr or csc"
bad single nodata   'adj_full.npz: no member data.npy'
bad single crc      'adj_full.npz: member indptr.npy: (CRC mismatch|corrupt deflate data)'
bad single trunc    'adj_full.npz: not a zip archive'
bad single featrows 'feats.npy: shape \(7, 3\), expected \(6 nodes'
bad single fortran  'feats.npy: fortran_order is not False'
bad single magic    'feats.npy: not a .npy array'
echo "test_saint_import: GraphSAINT ok"

# OGB's binary layout (ogbn-papers100M): float16 features, nan labels.
python3 "$HERE/ogb_npz_fixture.py" "$T/papers"
"$RD" import-ogb "$T/papers" -o "$T/papers.rdg" >/dev/null
g=$(dump "$T/papers.rdg")
expect "$g" 'g["nodes"] == 5 and g["entries"] == 10 and g["features"] == 2 and g["classes"] == 4'
expect "$g" 'g["x"][2:4] == [1.0, 1.25] and g["labels"] == [3, -1, 1, 0, 1]'
expect "$g" 'g["train"] == [0, 2] and g["valid"] == [3] and g["test"] == [4]'
ogb_bad() {
  rm -rf "$T/b"
  python3 "$HERE/ogb_npz_fixture.py" "$T/b" "$1"
  if "$RD" import-ogb "$T/b" -o "$T/bad.rdg" 2>"$T/err" >/dev/null; then fail "ogb $1: accepted"; fi
  grep -Eq "$2" "$T/err" || fail "ogb $1: expected /$2/, got: $(cat "$T/err")"
  ! grep -q Sanitizer "$T/err" || fail "ogb $1: sanitizer report: $(cat "$T/err")"
  echo "ok: ogb $1: $(cat "$T/err")"
}
ogb_bad edge     'data.npz: edge_index.npy: element 9 \(7\) outside \[0, 5\)'
ogb_bad label    'node-label.npz: node_label.npy: element 4 \(2.5\) is not a label'
ogb_bad featrows 'data.npz: node_feat.npy: expected shape \(5 nodes, features\)'
echo "test_saint_import (OGB binary): ok"
