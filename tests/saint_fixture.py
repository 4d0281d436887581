"""Writes a small dataset in the GraphSAINT release layout, byte for byte as
numpy and scipy write it (numpy's savez_compressed: zipfile, deflate,
force_zip64; .npy format 1.0), with the standard library only (this machine
has no numpy). Used by test_saint_import.sh.

usage: saint_fixture.py DIR single|multi [BREAK]
BREAK names one defect to build in (see the test)."""
import json, struct, sys, zipfile, os

def npy(descr, shape, data_bytes, fortran=False):
    hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False",
        "(%s)" % "".join("%d, " % s for s in shape).rstrip(" ") if len(shape) != 1 else "(%d,)" % shape[0])
    # numpy pads the header with spaces to a multiple of 64 bytes, ending in \n
    total = 10 + len(hdr) + 1
    hdr += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1") + data_bytes

def savez_compressed(path, members):
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        for name, blob in members:
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                f.write(blob)

def main():
    d, kind = sys.argv[1], sys.argv[2]
    brk = sys.argv[3] if len(sys.argv) > 3 else ""
    os.makedirs(d, exist_ok=True)
    n = 6
    # two triangles joined by 2-3, stored one direction only, plus a self loop on 5
    edges = {0: [1, 2], 1: [2], 2: [3], 3: [4, 5], 4: [5], 5: [5]}
    indptr, indices = [0], []
    for v in range(n):
        indices += edges[v]
        indptr.append(len(indices))
    if brk == "indptr":
        indptr[3], indptr[4] = indptr[4], indptr[3]
    if brk == "index":
        indices[2] = 6
    members = [("indices", npy("<i4", [len(indices)], struct.pack("<%di" % len(indices), *indices))),
               ("indptr", npy("<i8", [n + 1], struct.pack("<%dq" % (n + 1), *indptr))),
               ("format", npy("|S3", [], b"csc" if brk == "format" else b"csr")),
               ("shape", npy("<i8", [2], struct.pack("<2q", n, n + (brk == "shape")))),
               ("data", npy("<f8", [len(indices)], struct.pack("<%dd" % len(indices), *[1.0] * len(indices))))]
    if brk == "nodata":
        members = [m for m in members if m[0] != "data"]
    if brk == "format":
        members = [m if m[0] != "format" else ("format", npy("|S3", [], b"coo")) for m in members]
    savez_compressed(os.path.join(d, "adj_full.npz"), members)
    F = 3
    feats = [float(v * 10 + j) for v in range(n) for j in range(F)]
    rows = n + (brk == "featrows")
    if brk == "featrows":
        feats += [0.0] * F
    blob = npy("<f8", [rows, F], struct.pack("<%dd" % len(feats), *feats), fortran=brk == "fortran")
    if brk == "magic":
        blob = b"\x93NUMPX" + blob[6:]
    with open(os.path.join(d, "feats.npy"), "wb") as f:
        f.write(blob)
    if kind == "single":
        cm = {str(v): v % 3 for v in range(n)}
    else:
        # 4 classes; class 3 is the rarest (node 1 only), class 0 the most common
        lab = [[1, 0, 0, 0], [1, 1, 0, 1], [1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
        cm = {str(v): lab[v] for v in range(n)}
        if brk == "listlen":
            cm["4"] = [1, 1, 0]
        if brk == "two":
            cm["2"] = [1, 0, 2, 0]
    text = json.dumps(cm, indent=1)  # one entry per line: errors have a line to name
    if brk == "key":
        text = text.replace('"3"', '"x3"')
    if brk == "dupkey":
        text = text.replace('"3"', '"2"')
    if brk == "comma":
        text = text.replace(",", "", 1)
    with open(os.path.join(d, "class_map.json"), "w") as f:
        f.write(text)
    role = {"tr": [0, 1, 3], "va": [2], "te": [4, 5]}
    if brk == "roleid":
        role["te"] = [4, 9]
    if brk == "roledup":
        role["va"] = [2, 3]
    with open(os.path.join(d, "role.json"), "w") as f:
        f.write(json.dumps(role, indent=1))
    if brk == "crc":  # flip a byte inside the compressed indptr member
        p = os.path.join(d, "adj_full.npz")
        b = bytearray(open(p, "rb").read())
        z = zipfile.ZipFile(p)
        info = z.getinfo("indptr.npy")
        # local header (30) + name + extra, then data
        ln, lx = struct.unpack("<HH", b[info.header_offset + 26:info.header_offset + 30])
        b[info.header_offset + 30 + ln + lx + info.compress_size - 3] ^= 0x01
        open(p, "wb").write(bytes(b))
    if brk == "trunc":
        p = os.path.join(d, "adj_full.npz")
        b = open(p, "rb").read()
        open(p, "wb").write(b[:len(b) // 2])

if __name__ == "__main__":
    main()
