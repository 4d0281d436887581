"""Prints a graph file's arrays (docs/FORMAT.md) as JSON, with the standard
library only: an independent reader to check what the importers wrote."""
import json, struct, sys

b = open(sys.argv[1], "rb").read()
assert b[:8] == b"RUDDER\r\n", "bad magic"
nsec = struct.unpack_from("<I", b, 24)[0]
meta = struct.unpack_from("<16q", b, 32)
out = {"nodes": meta[0], "entries": meta[1], "features": meta[2], "classes": meta[3]}
names = {1: ("indptr", "q"), 2: ("indices", "i"), 3: ("x", "f"), 4: ("labels", "i"),
         5: ("train", "i"), 6: ("valid", "i"), 7: ("test", "i"), 8: ("provenance", "s")}
for k in range(nsec):
    sid, esz, off, cnt, crc, _ = struct.unpack_from("<IIQQII", b, 160 + 32 * k)
    name, t = names[sid]
    raw = b[off:off + esz * cnt]
    out[name] = raw[:-1].decode() if t == "s" else list(struct.unpack("<%d%s" % (cnt, t), raw))
print(json.dumps(out))
