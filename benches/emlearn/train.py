#!/usr/bin/env python3
"""The MLP side of the emlearn comparison: train, convert to C, predict.

Trains a scikit-learn `MLPClassifier` (one hidden layer of ReLU units) on
the MNIST split of `dam` (`data/mnist`: 60 000 training images, 10 000 test
images), with every pixel byte mapped to the value `dam predict` writes
for it in `byte-values.f32` (for the boards' model, `2p/255 - 1`), converts
it with emlearn to C (`emlearn.convert(..., method="loadable")`, float
weights, `eml_net.h`), and writes into `--out`:

- `mlp_model.h`: the generated C (`mlp_predict(const float *, int32_t)`);
- `predictions-mlp.u8`: the class emlearn's C code predicts on the host
  (`host.c`, compiled with the host's C compiler) for each row of the test vectors (`--vectors`, the rows the boards
  classify), which the firmware compares with its own;
- `summary.json`: the hidden size, the parameter bytes, the accuracy on
  the 10 000 test images of scikit-learn and of emlearn's C code on the
  host, and their agreement.

The hidden size: `--hidden H`, or the largest H whose float weights and
biases, 4 (795 H + 10) bytes for 784 inputs and 10 classes, fit in
`--budget` bytes of flash next to `--code-bytes` of everything else (the
firmware's flash without the weights, measured by run.sh on a build with
a one-unit network).

Usage (run.sh calls it): python3 train.py --vectors DIR --out DIR
    [--hidden H | --code-bytes N [--budget 131072]] [--seed 0] [--quick]
"""
import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benches", "reference"))
from datasets import load  # noqa: E402  (the IDX reader of the reference scripts)

INPUTS = 784
CLASSES = 10


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def param_bytes(h):
    """Flash of the float weights and biases of a 784-h-10 network."""
    return 4 * (h * (INPUTS + 1) + CLASSES * (h + 1))


def hidden_for(budget, code_bytes):
    """The largest h whose parameters fit next to code_bytes in budget."""
    h = (budget - code_bytes - 4 * CLASSES) // (4 * (INPUTS + 1 + CLASSES))
    if h < 1:
        raise SystemExit(f"no hidden unit fits: {code_bytes} bytes of code in a budget of {budget}")
    assert param_bytes(h) + code_bytes <= budget < param_bytes(h + 1) + code_bytes
    return int(h)


def build_host(out):
    """host.c with the generated network, compiled by the host's C compiler."""
    import emlearn

    exe = os.path.join(out, "mlp-host")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=c99", "-O2", "-I", out, "-isystem", emlearn.includedir, os.path.join(HERE, "host.c"),
           "-o", exe, "-lm"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return exe


def run_host(exe, x):
    """The classes emlearn's C code predicts on the host for the rows of x."""
    p = subprocess.run([exe], input=np.ascontiguousarray(x, dtype="<f4").tobytes(), capture_output=True)
    if p.returncode != 0 or len(p.stdout) != len(x):
        raise SystemExit(f"{exe} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return np.frombuffer(p.stdout, dtype=np.uint8).astype(np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", required=True, help="dam predict's directory (inputs.u8, byte-values.f32)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, help="hidden units (default: from --code-bytes and --budget)")
    ap.add_argument("--code-bytes", type=int, help="flash of the firmware without the weights")
    ap.add_argument("--budget", type=int, default=131072, help="flash for model + code (default 128 KiB)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="fit 1 epoch on 1 000 images (the size probe: only the shape matters)")
    a = ap.parse_args()
    if (a.hidden is None) == (a.code_bytes is None):
        ap.error("give exactly one of --hidden and --code-bytes")
    h = a.hidden if a.hidden is not None else hidden_for(a.budget, a.code_bytes)

    # emlearn sets numpy's error handling to raise on import (underflow
    # included, which Adam's moment updates do); put back the default.
    errors = np.geterr()
    import emlearn
    np.seterr(**errors)
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    # The pixel map of the boards' vectors: the value dam predict writes
    # for each byte (as f32), applied to every image, train and test.
    for name in ("byte-values.f32", "inputs.u8"):
        if not os.path.isfile(os.path.join(a.vectors, name)):
            raise SystemExit(f"{a.vectors}/{name} is missing: run dam predict first (see run.sh)")
    table = np.fromfile(os.path.join(a.vectors, "byte-values.f32"), dtype="<f4")
    if table.shape != (256,):
        raise SystemExit(f"{a.vectors}/byte-values.f32: not 256 floats (an image model's vectors are needed)")
    xtr_u8, ytr, xte_u8, yte = load("mnist", os.path.join(ROOT, "data"))
    xtr = table[xtr_u8.reshape(len(xtr_u8), -1)]
    xte = table[xte_u8.reshape(len(xte_u8), -1)]
    vec_u8 = np.fromfile(os.path.join(a.vectors, "inputs.u8"), dtype=np.uint8)
    rows = len(vec_u8) // INPUTS
    if rows == 0 or rows * INPUTS != len(vec_u8):
        raise SystemExit(f"{a.vectors}/inputs.u8: not a whole number of {INPUTS}-pixel rows")
    if not np.array_equal(vec_u8.reshape(rows, INPUTS), xte_u8.reshape(len(xte_u8), -1)[:rows]):
        raise SystemExit(f"{a.vectors}: the rows are not the first {rows} MNIST test images")
    xvec = table[vec_u8.reshape(rows, INPUTS)]

    if a.quick:
        xfit, yfit, epochs = xtr[:1000], ytr[:1000], 1
    else:
        xfit, yfit, epochs = xtr, ytr, 200
    # As benches/reference/datasets.py fits its MLP baseline on MNIST: Adam,
    # batch 200, early stopping on 10% of the training split held out (the
    # weights of the best held-out accuracy kept), 10 epochs of patience.
    model = MLPClassifier(hidden_layer_sizes=(h,), early_stopping=not a.quick, max_iter=epochs,
                          random_state=a.seed)
    log(f"MLP 784-{h}-10 ({param_bytes(h)} bytes of float parameters), fitting on {len(xfit)} images")
    t0 = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(xfit, yfit)
    fit_s = time.perf_counter() - t0
    log(f"  fitted in {fit_s:.0f} s, {model.n_iter_} epochs")

    os.makedirs(a.out, exist_ok=True)
    # emlearn.convert also builds its own host runner in ./tmp: keep it in --out.
    cwd = os.getcwd()
    os.chdir(a.out)
    try:
        cmodel = emlearn.convert(model, method="loadable")
    finally:
        os.chdir(cwd)
    code = cmodel.save(name="mlp", file=os.path.join(a.out, "mlp_model.h"))
    assert "mlp_predict" in code

    summary = {"hidden": h, "param_bytes": param_bytes(h), "seed": a.seed, "epochs": int(model.n_iter_),
               "fit_seconds": round(fit_s, 1), "sklearn": sklearn.__version__, "emlearn": emlearn.__version__,
               "vector_rows": rows}
    host = build_host(a.out)
    em_vec = run_host(host, xvec)
    em_vec.astype(np.uint8).tofile(os.path.join(a.out, "predictions-mlp.u8"))
    if not a.quick:
        sk = model.predict(xte)
        em = run_host(host, xte)
        summary.update(
            test_images=len(yte),
            sklearn_accuracy=100.0 * float(np.mean(sk == yte)),
            emlearn_host_accuracy=100.0 * float(np.mean(em == yte)),
            emlearn_equal_sklearn=int(np.sum(em == sk)),
            vector_rows_correct=int(np.sum(em_vec == yte[:rows])),
        )
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log(json.dumps(summary))


if __name__ == "__main__":
    main()
