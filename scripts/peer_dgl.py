"""The DGL side of scripts/bench_peer: trains the configuration rudder_train
runs (SAGE mean or GAT, fanouts input layer first, hidden 256, dropout 0.5
after each hidden activation, Adam, one process) on a graph in our .rdg
format, read straight from the file (docs/FORMAT.md) through numpy memmaps.
Prints one JSON line: per-epoch training seconds (sampling, forward,
backward and update; no evaluation), wall and CPU, and the test accuracy after the last
epoch, evaluated on sampled neighbourhoods with the training fanouts as
rudder_train does."""
import argparse
import json
import struct
import sys
import time

import numpy as np

MAGIC = b"RUDDER\r\n"
SECTIONS = {1: "indptr", 2: "indices", 3: "features", 4: "labels", 5: "train", 6: "valid", 7: "test"}
DTYPES = {"indptr": np.int64, "features": np.float32}


def read_rdg(path):
    """The graph's sections as read-only memmaps (no copy), by name."""
    with open(path, "rb") as f:
        head = f.read(1024)
    if len(head) < 1024 or head[:8] != MAGIC:
        sys.exit(f"{path}: not a rudder file (bad magic)")
    version, kind = struct.unpack_from("<II", head, 8)
    if version != 1 or kind != 1:
        sys.exit(f"{path}: version {version}, kind {kind}: expected a version 1 graph (kind 1)")
    nsec = struct.unpack_from("<I", head, 24)[0]
    meta = struct.unpack_from("<16q", head, 32)
    out = {}
    for s in range(nsec):
        sid, esize, off, count, _crc, _res = struct.unpack_from("<IIQQII", head, 160 + 32 * s)
        name = SECTIONS.get(sid)
        if name is None:
            continue
        dtype = DTYPES.get(name, np.int32)
        if np.dtype(dtype).itemsize != esize:
            sys.exit(f"{path}: section {name}: element size {esize}")
        out[name] = np.memmap(path, dtype=dtype, mode="r", offset=off, shape=(count,))
    n, _e, feats, classes = meta[0], meta[1], meta[2], meta[3]
    out["features"] = out["features"].reshape(n, feats)
    return out, int(n), int(feats), int(classes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("graph")
    ap.add_argument("--model", choices=["sage", "gat"], default="sage")
    ap.add_argument("--fanouts", default="10,25")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--batch-size", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import dgl
    from dgl.nn import GATConv, SAGEConv

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dgl.seed(a.seed)
    d, n, feats, classes = read_rdg(a.graph)
    indptr = torch.from_numpy(np.array(d["indptr"]))
    indices = torch.from_numpy(np.array(d["indices"]).astype(np.int64))
    g = dgl.graph(("csr", (indptr, indices, torch.empty(0, dtype=torch.int64))), num_nodes=n)
    if a.model == "gat":  # rudder's GAT attends over an implicit self edge too
        g = dgl.add_self_loop(g)
    x = torch.from_numpy(np.array(d["features"]))
    y = torch.from_numpy(np.array(d["labels"]).astype(np.int64))
    train = torch.from_numpy(np.array(d["train"]).astype(np.int64))
    test = torch.from_numpy(np.array(d["test"]).astype(np.int64))
    fanouts = [int(f) for f in a.fanouts.split(",")]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            L = len(fanouts)
            dims = [feats] + [a.hidden] * (L - 1) + [classes]
            if a.model == "sage":
                self.layers = nn.ModuleList(SAGEConv(dims[i], dims[i + 1], "mean") for i in range(L))
            else:
                self.layers = nn.ModuleList(
                    GATConv(dims[i], dims[i + 1] // a.heads if i < L - 1 else dims[i + 1], a.heads)
                    for i in range(L))
            self.drop = nn.Dropout(a.dropout)

        def forward(self, blocks, h):
            for i, (layer, block) in enumerate(zip(self.layers, blocks)):
                h = layer(block, h)
                last = i == len(self.layers) - 1
                if a.model == "gat":
                    h = h.mean(1) if last else F.elu(h.flatten(1))
                elif not last:
                    h = F.relu(h)
                if not last:
                    h = self.drop(h)
            return h

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sampler = dgl.dataloading.NeighborSampler(fanouts)
    loader = dgl.dataloading.DataLoader(g, train, sampler, batch_size=a.batch_size, shuffle=True,
                                        drop_last=False, num_workers=0)
    times, cpu = [], []
    for _ in range(a.epochs):
        model.train()
        t0, c0 = time.perf_counter(), time.process_time()
        for inp, out, blocks in loader:
            logits = model(blocks, x[inp])
            loss = F.cross_entropy(logits, y[out])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    model.eval()
    correct = 0
    with torch.no_grad():
        for inp, out, blocks in dgl.dataloading.DataLoader(g, test, sampler, batch_size=10000):
            correct += int((model(blocks, x[inp]).argmax(1) == y[out]).sum())
    print(json.dumps({"epoch_s": times, "cpu_s": cpu, "test_acc": correct / len(test)}))


if __name__ == "__main__":
    main()
