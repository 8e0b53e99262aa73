#!/usr/bin/env python3
"""Regenerates the small datasets shipped under `data/`, byte for byte.

    python3 benches/reference/make_datasets.py            # writes data/*/ and data/SHA256SUMS
    python3 benches/reference/make_datasets.py --mc 4000000

Writes, with a fixed stratified split
(`train_test_split(..., stratify=y, random_state=0)`):

- `data/digits/digits.npz`: scikit-learn's bundled `load_digits`, x as
  N x 8 x 8 uint8 (values 0-16), 10 classes, test fraction 0.25;
- `data/iris/iris.npz` (150 x 4 float32, 3 classes, test fraction 0.3) and
  `data/iris/iris.csv` (all 150 rows in the original order, species as
  strings);
- `data/gaussian/gaussian.npz`: 4 classes in D = 10, each class an equal
  mixture of two isotropic unit-variance Gaussians (see `gaussian_means`),
  equal priors, 4000 train / 4000 test drawn with a fixed seed;

then `data/SHA256SUMS` over every file under `data/` (the MNIST copy and
`data/README.md` included), in `sha256sum` format: check with
`cd data && sha256sum -c SHA256SUMS`.

Each `.npz` follows the Keras convention (arrays `x_train`, `y_train`,
`x_test`, `y_test`, labels int64) and is written as an uncompressed zip with
fixed timestamps, so the same numpy and scikit-learn versions
(`requirements.txt`) give identical bytes.

Also prints the Bayes error of `gaussian`: the error of the Bayes
classifier (argmax of the true class densities) on `--mc` fresh samples,
with its standard error, and the Bayes classifier's accuracy on the shipped
test split.
"""
import argparse
import hashlib
import io
import os
import zipfile

import numpy as np
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "data"))

# The generative model of `gaussian`.
GAUSS_D = 10
GAUSS_CLASSES = 4
GAUSS_R = 1.5  # class offset along e_c
GAUSS_S = 2.5  # the two components sit at +-S along e_{4+c}
GAUSS_SIGMA = 1.0
GAUSS_SEED = 20240601
GAUSS_N_TRAIN = 4000
GAUSS_N_TEST = 4000
MC_SEED = 1
# What this script prints with the default --mc (4 x 10^6 samples, MC_SEED):
# the Bayes error of `gaussian` and its standard error, as fractions.
GAUSS_BAYES_ERROR = 0.08463
GAUSS_BAYES_ERROR_SE = 0.00014


def save_npz(path, **arrays):
    """np.savez without timestamps: a stored (uncompressed) zip of .npy members
    whose bytes depend only on the arrays."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def split(x, y, test_size):
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=0
    )
    return dict(
        x_train=x_tr, y_train=y_tr.astype(np.int64), x_test=x_te, y_test=y_te.astype(np.int64)
    )


def make_digits():
    d = load_digits()
    x = d.images.astype(np.uint8)  # 1797 x 8 x 8, integers 0..16
    assert np.array_equal(x.astype(np.float64), d.images)
    parts = split(x, d.target, 0.25)
    save_npz(os.path.join(DATA, "digits", "digits.npz"), **parts)
    return parts


def make_iris():
    d = load_iris()
    x = d.data.astype(np.float32)
    parts = split(x, d.target, 0.3)
    save_npz(os.path.join(DATA, "iris", "iris.npz"), **parts)
    names = [str(n) for n in d.target_names]
    lines = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for row, t in zip(d.data, d.target):
        lines.append(",".join(f"{v:.1f}" for v in row) + "," + names[t])
    with open(os.path.join(DATA, "iris", "iris.csv"), "w", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return parts


def gaussian_means():
    """Component means, shape (classes, 2, D): class c has its two components
    at R e_c + S e_{4+c} and R e_c - S e_{4+c}. The class means R e_c are
    what a linear model can use; the +-S bimodality along e_{4+c} needs a
    nonlinear one. Dimensions 8 and 9 are pure noise."""
    m = np.zeros((GAUSS_CLASSES, 2, GAUSS_D))
    for c in range(GAUSS_CLASSES):
        m[c, :, c] = GAUSS_R
        m[c, 0, GAUSS_CLASSES + c] = GAUSS_S
        m[c, 1, GAUSS_CLASSES + c] = -GAUSS_S
    return m


def gaussian_sample(rng, n):
    """n draws with equal priors: class, then component, then the noise."""
    means = gaussian_means()
    y = rng.integers(0, GAUSS_CLASSES, n)
    j = rng.integers(0, 2, n)
    x = means[y, j] + GAUSS_SIGMA * rng.standard_normal((n, GAUSS_D))
    return x, y


def bayes_predict(x, chunk=200_000):
    """argmax_c p(x | c) (equal priors): with equal isotropic covariances,
    log p(x | c) = logsumexp_j(-|x - mu_cj|^2 / 2 sigma^2) + const."""
    means = gaussian_means().reshape(-1, GAUSS_D)  # (classes*2, D)
    out = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), chunk):
        xc = x[s : s + chunk]
        d2 = (xc * xc).sum(1)[:, None] - 2 * xc @ means.T + (means * means).sum(1)[None, :]
        a = (-d2 / (2 * GAUSS_SIGMA**2)).reshape(len(xc), GAUSS_CLASSES, 2)
        mx = a.max(2, keepdims=True)
        lse = (mx + np.log(np.exp(a - mx).sum(2, keepdims=True)))[..., 0]
        out[s : s + chunk] = lse.argmax(1)
    return out


def make_gaussian(n_mc):
    rng = np.random.default_rng(GAUSS_SEED)
    x_tr, y_tr = gaussian_sample(rng, GAUSS_N_TRAIN)
    x_te, y_te = gaussian_sample(rng, GAUSS_N_TEST)
    parts = dict(
        x_train=x_tr.astype(np.float32),
        y_train=y_tr.astype(np.int64),
        x_test=x_te.astype(np.float32),
        y_test=y_te.astype(np.int64),
    )
    save_npz(os.path.join(DATA, "gaussian", "gaussian.npz"), **parts)

    # Monte Carlo Bayes error on fresh samples (an independent seed).
    mc = np.random.default_rng(MC_SEED)
    errors, done = 0, 0
    while done < n_mc:
        n = min(1_000_000, n_mc - done)
        x, y = gaussian_sample(mc, n)
        errors += int((bayes_predict(x) != y).sum())
        done += n
    p = errors / n_mc
    se = np.sqrt(p * (1 - p) / n_mc)
    test_acc = float((bayes_predict(parts["x_test"].astype(np.float64)) == y_te).mean())
    return parts, p, se, test_acc


def write_sums():
    files = []
    for root, _, names in os.walk(DATA):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), DATA).replace(os.sep, "/")
            if rel != "SHA256SUMS":
                files.append(rel)
    lines = []
    for rel in sorted(files):
        with open(os.path.join(DATA, rel), "rb") as fh:
            lines.append(f"{hashlib.sha256(fh.read()).hexdigest()}  {rel}")
    with open(os.path.join(DATA, "SHA256SUMS"), "w", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return len(lines)


def describe(name, parts):
    xs, xt = parts["x_train"], parts["x_test"]
    print(
        f"{name}: x_train {xs.shape} {xs.dtype}, x_test {xt.shape}, "
        f"classes {len(np.unique(parts['y_train']))}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mc", type=int, default=4_000_000, help="Monte Carlo samples for the Bayes error")
    a = ap.parse_args()
    describe("digits", make_digits())
    describe("iris", make_iris())
    parts, p, se, test_acc = make_gaussian(a.mc)
    describe("gaussian", parts)
    print(
        f"gaussian: Bayes error {100 * p:.3f}% +- {100 * se:.3f}% (standard error, "
        f"{a.mc} Monte Carlo samples); Bayes classifier on the shipped test set: "
        f"{100 * test_acc:.2f}% accuracy"
    )
    print(f"data/SHA256SUMS: {write_sums()} files")


if __name__ == "__main__":
    main()
