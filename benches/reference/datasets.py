#!/usr/bin/env python3
"""`dam` against scikit-learn baselines on the datasets shipped in `data/`.

One command, from the repository root (after `cargo build --release` and
`bash scripts/setup-python.sh`):

    python3 benches/reference/datasets.py                        # all four, dam and baselines
    python3 benches/reference/datasets.py --skip-dam             # baselines only
    python3 benches/reference/datasets.py --datasets digits,iris --seeds 0,1 --json out.json
    python3 benches/reference/datasets.py --skip-dam --k mnist=100,iris=50

Datasets: `mnist` (`data/mnist/`, the four gzip IDX files), `digits`,
`iris` and `gaussian` (`data/<name>/<name>.npz`, Keras convention; see
`data/README.md`). Every method sees the same split.

- dam, for each seed S (`--seeds`, default 0,1,2), with its default
  settings:

      dam train --data <path> --seed S --out <tmpdir> --quiet
      dam eval <tmpdir>/model.dam --data <path>      # parses "test accuracy: X%"
      dam info <tmpdir>/model.dam                    # parses "K: ..." (first seed)

  recording the wall time of `dam train`. The binary is `--dam`
  (default `./target/release/dam`).
- Baselines (scikit-learn), on the data preprocessed as dam does by
  default: min-max scaling to [-1, 1] fitted on the training split, one
  range for all pixels of an image dataset, one per feature for a tabular
  one (test points outside the training range are not clipped):
  * 1-NN: one nearest neighbour (Euclidean) among all training points;
  * logistic: multinomial logistic regression (lbfgs), C = 1, run to
    convergence (`max_iter` 10 000, `--logistic-max-iter`; a fit that
    reaches it is marked in the table);
  * MLP: `MLPClassifier`, one hidden layer of h ReLU units, Adam, batch
    200, `early_stopping=True` (10% of the training split held out, the
    weights of the best held-out accuracy kept), one run per seed. It stops
    after max(10, ceil(500 / steps per epoch)) epochs without improvement:
    at least 500 Adam steps of patience, where sklearn's 10 epochs would be
    10 steps on iris (on MNIST it is the default, 10 epochs). h is chosen
    so that the parameter count h (Nv + 1) + Nc (h + 1) is closest to the
    DAM's K (Nv + Nc) (Nv features, Nc classes). K is read from `dam info` of the trained
    model; with `--skip-dam` it comes from `--k` (one number, or
    name=K,... per dataset), default 100, the default of `dam train`.

Prints a Markdown table (accuracies in % on the test split; dam and MLP as
mean and min-max over the seeds; "dam - best" in percentage points against
the best baseline) with the CPU model and the date, and writes the same
results as JSON with `--json`. Progress goes to stderr. `--jobs N` runs
the baseline fits of a dataset (1-NN, logistic, one MLP per seed) in N
processes; their seconds are then wall time under that sharing.
"""
import argparse
import concurrent.futures
import datetime
import gzip
import json
import math
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DATASETS = ["mnist", "digits", "iris", "gaussian"]
# Held out from the choice of dam's defaults: scikit-learn's bundled wine
# and breast-cancer sets (no download), split at run time like the shipped
# ones (stratified, test 0.3, random_state 0) into a temporary .npz.
UNSEEN = ["wine", "cancer"]
_UNSEEN_DIR = None
DEFAULT_K = 100  # `dam train`'s default number of memories
LOGISTIC_MAX_ITER = 10_000  # default of --logistic-max-iter
MLP_MAX_ITER = 20_000
MLP_PATIENCE_STEPS = 500  # early-stopping patience, in Adam steps (at least 10 epochs)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def read_idx(path):
    """An IDX file (optionally gzip-compressed) as a numpy array."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def unseen_path(name):
    """Writes (once) and returns the temporary .npz of an UNSEEN dataset."""
    global _UNSEEN_DIR
    import tempfile
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.model_selection import train_test_split

    if _UNSEEN_DIR is None:
        _UNSEEN_DIR = tempfile.mkdtemp(prefix="dam-unseen-")
    path = os.path.join(_UNSEEN_DIR, f"{name}.npz")
    if not os.path.exists(path):
        x, y = {"wine": load_wine, "cancer": load_breast_cancer}[name](return_X_y=True)
        a, b, c, d = train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)
        np.savez(path, x_train=a.astype(np.float32), y_train=c.astype(np.int64),
                 x_test=b.astype(np.float32), y_test=d.astype(np.int64))
    return path


def dataset_path(name, data_dir):
    """The path given to `dam --data`: the MNIST folder, or the .npz file."""
    if name in UNSEEN:
        return unseen_path(name)
    if name == "mnist":
        return os.path.join(data_dir, "mnist")
    return os.path.join(data_dir, name, f"{name}.npz")


def load(name, data_dir):
    """(x_train, y_train, x_test, y_test), x with its natural shape."""
    path = dataset_path(name, data_dir)
    if name == "mnist":
        return tuple(
            read_idx(os.path.join(path, f"{prefix}-{kind}-idx{nd}-ubyte.gz"))
            for prefix in ("train", "t10k")
            for kind, nd in (("images", 3), ("labels", 1))
        )
    with np.load(path) as z:
        return z["x_train"], z["y_train"], z["x_test"], z["y_test"]


def minmax(x_train, x_test):
    """dam's default preprocessing: min-max to [-1, 1] fitted on the training
    split; one range for images (x with more than two axes), one per feature
    otherwise. Returns both splits flattened to float32 rows."""
    image = x_train.ndim > 2
    a = x_train.reshape(len(x_train), -1).astype(np.float64)
    b = x_test.reshape(len(x_test), -1).astype(np.float64)
    if image:
        lo, hi = a.min(), a.max()
    else:
        lo, hi = a.min(axis=0), a.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    scale = lambda v: (2.0 * (v - lo) / span - 1.0).astype(np.float32)  # noqa: E731
    return scale(a), scale(b)


# ---------------------------------------------------------------- dam


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}{p.stdout}")
    return p.stdout


def run_dam(dam, path, seeds):
    """Trains and evaluates one dam model per seed; returns accuracies (%),
    training seconds and K (from `dam info` of the first model)."""
    accs, secs, k = [], [], None
    for s in seeds:
        with tempfile.TemporaryDirectory(prefix="dam-datasets-") as tmp:
            cmd = [dam, "train", "--data", path, "--seed", str(s), "--out", tmp, "--quiet"]
            log("  $ " + " ".join(cmd))
            t0 = time.perf_counter()
            run(cmd)
            secs.append(time.perf_counter() - t0)
            model = os.path.join(tmp, "model.dam")
            out = run([dam, "eval", model, "--data", path])
            m = re.search(r"test accuracy:\s*([0-9.]+)\s*%", out)
            if not m:
                raise RuntimeError(f"no 'test accuracy: X%' in dam eval output:\n{out}")
            accs.append(float(m.group(1)))
            if k is None:
                m = re.search(r"^K:\s*(\d+)", run([dam, "info", model]), re.MULTILINE)
                if not m:
                    raise RuntimeError("no 'K:' line in dam info output")
                k = int(m.group(1))
            log(f"    seed {s}: {accs[-1]:.2f}% in {secs[-1]:.1f} s (K = {k})")
    return accs, secs, k


# ---------------------------------------------------------------- baselines


def mlp_hidden(k, nv, nc):
    """h with h (nv + 1) + nc (h + 1) closest to k (nv + nc), at least 1."""
    target = k * (nv + nc)
    return max(1, round((target - nc) / (nv + 1 + nc)))


def mlp_patience(n_train):
    """Early-stopping patience in epochs: MLP_PATIENCE_STEPS Adam steps of
    the default batch (200) on the 90% of the training split that is not
    held out, and at least sklearn's default of 10 epochs."""
    steps_per_epoch = math.ceil(0.9 * n_train / min(200, n_train))
    return max(10, math.ceil(MLP_PATIENCE_STEPS / steps_per_epoch))


def mlp_params(h, nv, nc):
    return h * (nv + 1) + nc * (h + 1)


# The preprocessed split, set before the worker processes are forked so that
# they share it instead of receiving a pickled copy per task.
_SPLIT = None


def fit_one(task):
    """One baseline fit on _SPLIT: ("1nn",), ("logistic", max_iter) or
    ("mlp", h, patience, seed). Returns a result dict (accuracy in %)."""
    xtr, ytr, xte, yte = _SPLIT
    kind = task[0]
    if kind == "1nn":
        model = KNeighborsClassifier(n_neighbors=1, algorithm="brute")
    elif kind == "logistic":
        model = LogisticRegression(C=1.0, max_iter=task[1])
    else:
        _, h, patience, seed = task
        model = MLPClassifier(
            hidden_layer_sizes=(h,),
            early_stopping=True,
            n_iter_no_change=patience,
            max_iter=MLP_MAX_ITER,
            random_state=seed,
        )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        acc = 100.0 * model.fit(xtr, ytr).score(xte, yte)
    out = {"accuracy": acc, "seconds": time.perf_counter() - t0}
    if kind == "logistic":
        out["iterations"] = int(np.max(model.n_iter_))
        out["converged"] = out["iterations"] < task[1]
    elif kind == "mlp":
        out.update(seed=task[3], epochs=int(model.n_iter_))
    return out


def describe(task, r):
    if task[0] == "1nn":
        return f"  1-NN: {r['accuracy']:.2f}% ({r['seconds']:.1f} s)"
    if task[0] == "logistic":
        note = "" if r["converged"] else ", stopped at max_iter before converging"
        return f"  logistic: {r['accuracy']:.2f}% ({r['seconds']:.1f} s, {r['iterations']} iterations{note})"
    return (
        f"  MLP h={task[1]} seed {task[3]}: {r['accuracy']:.2f}% "
        f"({r['seconds']:.1f} s, {r['epochs']} epochs)"
    )


def baselines(xtr, ytr, xte, yte, k, seeds, jobs, logistic_max_iter):
    """1-NN, logistic regression and the MLP (one fit per seed), as
    independent tasks run in `jobs` processes (1: in this process)."""
    global _SPLIT
    nv, nc = xtr.shape[1], len(np.unique(ytr))
    h = mlp_hidden(k, nv, nc)
    patience = mlp_patience(len(xtr))
    tasks = [("1nn",), ("logistic", logistic_max_iter)] + [("mlp", h, patience, s) for s in seeds]
    _SPLIT = (xtr, ytr, xte, yte)
    if jobs <= 1:
        done = []
        for t in tasks:
            done.append(fit_one(t))
            log(describe(t, done[-1]))
    else:
        ctx = multiprocessing.get_context("fork")
        # One BLAS/OpenMP thread per process: more oversubscribe the cores.
        with concurrent.futures.ProcessPoolExecutor(
            jobs, mp_context=ctx, initializer=threadpool_limits, initargs=(1,)
        ) as pool:
            futures = [pool.submit(fit_one, t) for t in tasks]
            for t, f in zip(tasks, futures):
                log(describe(t, f.result()))
            done = [f.result() for f in futures]
    _SPLIT = None
    runs = done[2:]
    accs = [r["accuracy"] for r in runs]
    return {
        "1nn": done[0],
        "logistic": done[1],
        "mlp": {
            "hidden": h,
            "patience_epochs": patience,
            "params": mlp_params(h, nv, nc),
            "dam_params": k * (nv + nc),
            "k": k,
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_min": min(accs),
            "accuracy_max": max(accs),
            "runs": runs,
        },
    }


# ---------------------------------------------------------------- report


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def spread(mean, lo, hi):
    return f"{mean:.2f} ({lo:.2f}–{hi:.2f})"


def markdown(results, meta):
    head = (
        "| dataset | N train / test | D | classes | dam (min–max) | dam train s "
        "| 1-NN | logistic | MLP (min–max) | MLP params | best baseline | dam − best |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        b = r["baselines"]
        mlp = b["mlp"]
        cands = {
            "1-NN": b["1nn"]["accuracy"],
            "logistic": b["logistic"]["accuracy"],
            "MLP": mlp["accuracy_mean"],
        }
        best_name = max(cands, key=cands.get)
        best = cands[best_name]
        d = r["dam"]
        if d:
            dam_cell = spread(d["accuracy_mean"], d["accuracy_min"], d["accuracy_max"])
            secs_cell = f"{d['train_seconds_mean']:.1f}"
            diff_cell = f"{d['accuracy_mean'] - best:+.2f}"
        else:
            dam_cell = secs_cell = diff_cell = "—"
        logistic = f"{b['logistic']['accuracy']:.2f}" + ("" if b["logistic"]["converged"] else "*")
        lines.append(
            f"| {r['dataset']} | {r['n_train']} / {r['n_test']} | {r['d']}"
            f"{' (' + '×'.join(map(str, r['shape'])) + ')' if len(r['shape']) > 1 else ''}"
            f" | {r['classes']} | {dam_cell} | {secs_cell} | {b['1nn']['accuracy']:.2f} | {logistic}"
            f" | {spread(mlp['accuracy_mean'], mlp['accuracy_min'], mlp['accuracy_max'])}"
            f" | {mlp['params']} (h = {mlp['hidden']}, K = {mlp['k']}) | {best_name} {best:.2f}"
            f" | {diff_cell} |"
        )
    notes = [
        "",
        f"Test accuracy in %; dam and MLP: mean (min–max) over seeds {meta['seeds']}. "
        "MLP params: h (Nv + 1) + Nc (h + 1), matched to the DAM's K (Nv + Nc) "
        f"(K {'from dam info' if not meta['skip_dam'] else 'from --k'}).",
    ]
    if any(not r["baselines"]["logistic"]["converged"] for r in results):
        notes.append("\\* logistic regression stopped at max_iter before converging.")
    for r in results:
        if "bayes" in r:
            notes.append(
                f"{r['dataset']}: Bayes error {r['bayes']['error_percent']:.2f}% "
                f"(best possible accuracy {100 - r['bayes']['error_percent']:.2f}%); the Bayes "
                f"classifier scores {r['bayes']['test_accuracy']:.2f}% on this test set."
            )
    notes.append(
        f"CPU: {meta['cpu']} ({meta['cpus']} logical CPUs); {meta['date']}; "
        f"Python {meta['python']}, numpy {meta['numpy']}, scikit-learn {meta['sklearn']}."
    )
    return "\n".join(lines + notes)


def parse_k(spec, names):
    """'100' -> every dataset; 'mnist=100,iris=50' -> those (others default)."""
    ks = {n: DEFAULT_K for n in names}
    if not spec:
        return ks
    if "=" not in spec:
        return {n: int(spec) for n in names}
    for part in spec.split(","):
        name, val = part.split("=")
        ks[name.strip()] = int(val)
    return ks


def gaussian_bayes(xte, yte):
    """The Bayes error of `gaussian` (recorded in make_datasets.py) and the
    Bayes classifier's accuracy on its test split, in %."""
    sys.path.insert(0, HERE)
    import make_datasets as md

    pred = md.bayes_predict(np.asarray(xte, dtype=np.float64))
    return {
        "error_percent": 100.0 * md.GAUSS_BAYES_ERROR,
        "error_se_percent": 100.0 * md.GAUSS_BAYES_ERROR_SE,
        "test_accuracy": float(100.0 * (pred == yte).mean()),
    }


def main():
    ap = argparse.ArgumentParser(
        description="dam against scikit-learn baselines on the shipped datasets",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--dam", default="./target/release/dam", help="the dam binary")
    ap.add_argument("--skip-dam", action="store_true", help="baselines only")
    ap.add_argument("--datasets", default=",".join(DATASETS + UNSEEN), help="comma-separated subset (wine and cancer: held out from the choice of the defaults)")
    ap.add_argument("--seeds", default="0,1,2", help="seeds for dam and the MLP")
    ap.add_argument("--k", default=None, help="K for the MLP match without dam: N or name=N,...")
    ap.add_argument(
        "--jobs", type=int, default=1, help="processes for the baselines (one task per fit)"
    )
    ap.add_argument(
        "--logistic-max-iter",
        type=int,
        default=LOGISTIC_MAX_ITER,
        help="lbfgs iteration cap; a fit that reaches it is marked * in the table",
    )
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "data"))
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args()

    names = [n.strip() for n in a.datasets.split(",") if n.strip()]
    for n in names:
        if n not in DATASETS + UNSEEN:
            ap.error(f"unknown dataset {n!r} (known: {', '.join(DATASETS + UNSEEN)})")
    seeds = [int(s) for s in a.seeds.split(",")]
    ks = parse_k(a.k, names)
    if not a.skip_dam and not os.access(a.dam, os.X_OK):
        ap.error(f"{a.dam}: no dam binary (cargo build --release -p dam-cli), or use --skip-dam")

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "seeds": seeds,
        "skip_dam": a.skip_dam,
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
    }
    results = []
    for name in names:
        path = dataset_path(name, a.data_dir)
        x_tr, y_tr, x_te, y_te = load(name, a.data_dir)
        log(f"{name}: {len(x_tr)} train, {len(x_te)} test, x {x_tr.shape[1:]} {x_tr.dtype}")
        r = {
            "dataset": name,
            "path": name if name in UNSEEN else os.path.relpath(path, ROOT),
            "n_train": len(x_tr),
            "n_test": len(x_te),
            "shape": list(x_tr.shape[1:]),
            "d": int(np.prod(x_tr.shape[1:])),
            "classes": int(len(np.unique(y_tr))),
            "dam": None,
        }
        k = ks[name]
        if not a.skip_dam:
            accs, secs, k = run_dam(a.dam, path, seeds)
            r["dam"] = {
                "k": k,
                "accuracies": accs,
                "accuracy_mean": float(np.mean(accs)),
                "accuracy_min": min(accs),
                "accuracy_max": max(accs),
                "train_seconds": secs,
                "train_seconds_mean": float(np.mean(secs)),
            }
        xtr, xte = minmax(x_tr, x_te)
        r["baselines"] = baselines(xtr, y_tr, xte, y_te, k, seeds, a.jobs, a.logistic_max_iter)
        if name == "gaussian":
            r["bayes"] = gaussian_bayes(x_te, y_te)
        results.append(r)

    print(markdown(results, meta))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"meta": meta, "results": results}, fh, indent=2)
            fh.write("\n")
        log(f"wrote {a.json}")


if __name__ == "__main__":
    main()
