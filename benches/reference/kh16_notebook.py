#!/usr/bin/env python3
"""The [KH16] authors' public training notebook, reimplemented in NumPy for a
side-by-side timing with `dam train` (see BENCHMARKS.md, "Training").

Same algorithm, same defaults, float64, the notebook's data layout: every
minibatch tiles the inputs Nc times (one column per (image, class) pair) and
multiplies the full (K x (N+Nc)) memory matrix by them, forward and backward.
Not run in CI. Needs numpy only.

    python3 benches/reference/kh16_notebook.py --epochs 10 --csv /tmp/numpy.csv
"""
import argparse
import gzip
import os
import time

import numpy as np


def read_idx(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data, prefix, nc):
    images = read_idx(os.path.join(data, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data, f"{prefix}-labels-idx1-ubyte.gz"))
    m = 2.0 * images.reshape(len(images), -1).astype(np.float64) / 255.0 - 1.0
    lab = -np.ones((nc, len(labels)))
    lab[labels, np.arange(len(labels))] = 1.0
    return m, lab


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(here, "../../data/mnist"))
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--K", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", default=None)
    a = ap.parse_args()

    nc = 10
    M, Lab = load(a.data, "train", nc)
    MT, LabT = load(a.data, "t10k", nc)
    Ns, N = M.shape
    # The notebook's settings.
    K, n, m = a.K, 20, 30
    eps0, f, p = 4e-2, 0.998, 0.6
    Temp, Num, c = 540.0, 1000, 1e-30
    mu, sigma = -0.3, 0.3
    beta = 1.0 / Temp**n

    rng = np.random.default_rng(a.seed)
    KS = rng.normal(mu, sigma, (K, N + nc))
    VKS = np.zeros((K, N + nc))
    aux = -np.ones((nc, Num * nc))
    for d in range(nc):
        aux[d, d * Num : (d + 1) * Num] = 1.0

    out = open(a.csv, "w") if a.csv else None
    if out:
        out.write("epoch,train_seconds,train_accuracy,test_accuracy,cpu_seconds\n")
    for nep in range(a.epochs):
        eps = eps0 * f**nep
        t0 = time.perf_counter()
        c0 = time.process_time()
        perm = rng.permutation(Ns)
        M, Lab = M[perm, :], Lab[:, perm]
        correct = 0
        for k in range(Ns // Num):
            v = M[k * Num : (k + 1) * Num, :].T
            t_R = Lab[:, k * Num : (k + 1) * Num]
            t = np.reshape(t_R, (1, nc * Num))
            u = np.concatenate((v, -np.ones((nc, Num))), axis=0)
            uu = np.tile(u, (1, nc))
            vv = np.concatenate((uu[:N, :], aux), axis=0)
            KSvv = np.maximum(np.dot(KS, vv), 0)
            KSuu = np.maximum(np.dot(KS, uu), 0)
            Y = np.tanh(beta * np.sum(KSvv**n - KSuu**n, axis=0))
            Y_R = np.reshape(Y, (nc, Num))
            # Gradient of the loss (constant factors dropped).
            dY = (Y - t) ** (2 * m - 1) * (1 - Y) * (1 + Y)
            d_KS = np.dot(KSvv ** (n - 1) * dY, vv.T) - np.dot(KSuu ** (n - 1) * dY, uu.T)
            VKS = p * VKS + d_KS
            nm = np.amax(np.absolute(VKS), axis=1).reshape(K, 1)
            nm[nm < c] = c
            KS -= eps * VKS / nm
            KS = np.clip(KS, -1.0, 1.0)
            correct += np.sum(np.argmax(Y_R, axis=0) == np.argmax(t_R, axis=0))
        train_seconds = time.perf_counter() - t0
        # Test accuracy: the same forward pass over the test set, in chunks.
        right = 0
        for s in range(0, len(MT), Num):
            v = MT[s : s + Num, :].T
            b = v.shape[1]
            u = np.concatenate((v, -np.ones((nc, b))), axis=0)
            KSu = np.maximum(np.dot(KS, u), 0) ** n
            scores = np.empty((nc, b))
            for d in range(nc):
                w = u.copy()
                w[N + d, :] = 1.0
                scores[d] = np.sum(np.maximum(np.dot(KS, w), 0) ** n - KSu, axis=0)
            right += np.sum(np.argmax(scores, axis=0) == np.argmax(LabT[:, s : s + b], axis=0))
        cpu = time.process_time() - c0  # training and test evaluation, all threads
        line = f"{nep + 1},{train_seconds:.3f},{correct / Ns:.4f},{right / len(MT):.4f},{cpu:.3f}"
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()


if __name__ == "__main__":
    main()
