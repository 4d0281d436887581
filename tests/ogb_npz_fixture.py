"""Writes a small dataset in OGB's binary layout (as ogbn-papers100M ships:
raw/data.npz with edge_index, node_feat in float16, num_nodes_list,
num_edges_list; raw/node-label.npz; split/time/*.csv.gz), written as numpy's
savez_compressed writes it, with the standard library only.

usage: ogb_npz_fixture.py DIR [BREAK]"""
import gzip, os, struct, sys, zipfile

sys.path.insert(0, os.path.dirname(__file__))
from saint_fixture import npy, savez_compressed  # noqa: E402

d = sys.argv[1]
brk = sys.argv[2] if len(sys.argv) > 2 else ""
os.makedirs(d + "/raw", exist_ok=True)
os.makedirs(d + "/split/time", exist_ok=True)
n = 5
src = [0, 1, 2, 3, 0]
dst = [1, 2, 3, 4, 4 if brk != "edge" else 7]
E = len(src)
feat = [float(v) + j / 4 for v in range(n) for j in range(2)]  # exact in float16
rows = n + (brk == "featrows")
feat += [0.0] * 2 * (rows - n)
half = b"".join(struct.pack("<e", f) for f in feat)
savez_compressed(d + "/raw/data.npz", [
    ("edge_index", npy("<i8", [2, E], struct.pack("<%dq" % (2 * E), *(src + dst)))),
    ("node_feat", npy("<f2", [rows, 2], half)),
    ("num_nodes_list", npy("<i8", [1], struct.pack("<q", n))),
    ("num_edges_list", npy("<i8", [1], struct.pack("<q", E)))])
labels = [3.0, float("nan"), 1.0, 0.0, 2.5 if brk == "label" else 1.0]
savez_compressed(d + "/raw/node-label.npz",
                 [("node_label", npy("<f4", [n, 1], struct.pack("<%df" % n, *labels)))])
for part, ids in (("train", [0, 2]), ("valid", [3]), ("test", [4])):
    with gzip.open("%s/split/time/%s.csv.gz" % (d, part), "wt") as f:
        f.write("".join("%d\n" % i for i in ids))
