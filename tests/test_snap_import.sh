#!/usr/bin/env bash
# rudder_data import-snap on real SNAP-layout files (comments, tabs and
# spaces, gzip or plain): the graph it writes, that it is reproducible, that
# the provenance says the labels and features were generated, and that every
# malformed input fails naming the file and the line.
. "$(dirname "$0")/lib.sh"
RD=$BIN/datasets/rudder_data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Two 4-cliques (SNAP ids with gaps) joined by one edge, a duplicate, a
# reversed duplicate and a self loop; tabs and runs of spaces.
cat >"$T/g.txt" <<'G'
# Undirected graph: test.txt
# Nodes: 8 Edges: 13
# FromNodeId	ToNodeId
1	2
1	3
1	4
2	3
2	4
3	4
100  200
100	300
100	400
200	300
200	400
300	400
4	100
2	1
1	2
7	7
G
gzip -c "$T/g.txt" >"$T/g.txt.gz"
out=$("$RD" import-snap "$T/g.txt.gz" --classes 2 --features 16 --train-fraction 0.5 --valid-fraction 0.25 -o "$T/g.rdg")
echo "$out" | grep -q "peak memory" || fail "no time and peak memory reported: $out"
info=$("$RD" info "$T/g.rdg")
echo "$info"
# Node 7 occurs only in a self loop: it exists, with no edge.
echo "$info" | grep -q "9 nodes, 13 undirected edges" || fail "wrong node or edge count"
echo "$info" | grep -q "features 16, classes 2" || fail "wrong features or classes"
echo "$info" | grep -q "split train/valid/test: 4/2/2" || fail "wrong split (8 labelled nodes, 50/25/25)"
echo "$info" | grep -q "labels: GENERATED" || fail "provenance does not say the labels are generated"
echo "$info" | grep -q "features: GENERATED" || fail "provenance does not say the features are generated"
echo "$info" | grep -q "1 nodes out of reach are unlabelled" || fail "the isolated node should be unlabelled"

# Reproducible: plain and gzip input, run twice, give the same arrays.
"$RD" import-snap "$T/g.txt" --classes 2 --features 16 --train-fraction 0.5 --valid-fraction 0.25 -o "$T/p.rdg" >/dev/null
"$RD" import-snap "$T/g.txt.gz" --classes 2 --features 16 --train-fraction 0.5 --valid-fraction 0.25 -o "$T/g2.rdg" >/dev/null
cmp "$T/g.rdg" "$T/g2.rdg" || fail "two imports of the same file differ"
# Same sections but the provenance names the input path: compare everything but the header and it.
[ "$(stat -c %s "$T/g.rdg")" -gt 1024 ] || fail "graph file too small"
diff <("$RD" info "$T/g.rdg" | sed 1d | grep -v source:) <("$RD" info "$T/p.rdg" | sed 1d | grep -v source:) ||
  fail "plain and gzip inputs give different graphs"

# bad NAME CONTENT EXPECTED: importing CONTENT must fail with EXPECTED
# (a grep -E pattern naming the file and line) on stderr, exit non-zero, no output file.
bad() {
  printf '%b' "$2" >"$T/$1"
  if "$RD" import-snap "$T/$1" -o "$T/bad.rdg" 2>"$T/err" >/dev/null; then fail "$1: accepted"; fi
  grep -Eq "$3" "$T/err" || fail "$1: expected /$3/, got: $(cat "$T/err")"
  [ ! -e "$T/bad.rdg" ] || fail "$1: left an output file"
  ! grep -q Sanitizer "$T/err" || fail "$1: sanitizer report: $(cat "$T/err")"
  echo "ok: $1: $(cat "$T/err")"
}
bad letters.txt  '# c\n1 2\n3 x\n'        'letters.txt:3: field 2'
bad one.txt      '1 2\n3\n'               'one.txt:2: expected two node ids, found one'
bad three.txt    '1 2\n2 3 4\n'           'three.txt:2: expected two node ids, found more'
bad negative.txt '1 -2\n'                 'negative.txt:1: field 2'
bad huge.txt     '1 2\n5 99999999999\n'   'huge.txt:2: field 2 .* exceeds the largest node id'
bad comma.txt    '1,2\n'                  'comma.txt:1: field 1'
bad float.txt    '1 2.5\n'                'float.txt:1: field 2'
bad empty.txt    '# only comments\n\n'    'empty.txt: no edges'
head -c 60 "$T/g.txt.gz" >"$T/trunc.txt.gz"
if "$RD" import-snap "$T/trunc.txt.gz" -o "$T/bad.rdg" 2>"$T/err"; then fail "truncated gzip accepted"; fi
grep -q "trunc.txt.gz: gzip data truncated or corrupt after line" "$T/err" || fail "truncated gzip: $(cat "$T/err")"
if "$RD" import-snap "$T/g.txt" --classes 20 -o "$T/bad.rdg" 2>"$T/err"; then fail "more classes than nodes accepted"; fi
grep -q "fewer than the 20 classes" "$T/err" || fail "classes > nodes: $(cat "$T/err")"
echo "test_snap_import: ok"
