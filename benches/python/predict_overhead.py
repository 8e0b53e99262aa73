"""The overhead of Python: ``dam.Classifier.predict`` on the 10 000 MNIST
test images against the Rust prediction paths doing the same predictions
(``std-ext/examples/predict_timing.rs``).

    python3 benches/python/predict_overhead.py [MODEL] [ROUNDS] [THREADS]

MODEL defaults to boards/data/mnist-k100.dam (f32 KH16, K = 100, no input
map: it takes pixels mapped by 2p/255 − 1, as it was trained). Needs the
package installed (scripts/setup-python.sh) and cargo (builds the example).
THREADS (default: all cores) sets RAYON_NUM_THREADS for both sides.

The two sides run alternately, ROUNDS (default 5) times 7 runs each, and
the best wall time of each side is kept: on a machine shared with other
work the minimum is the estimate least disturbed by it. Prints the CPU,
the load average, both times and their ratio. Not a test: nothing is
asserted about times.
"""

import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import dam

ROOT = Path(__file__).resolve().parents[2]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def mnist_test():
    with gzip.open(ROOT / "data/mnist/t10k-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(ROOT / "data/mnist/t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return X, y


def main():
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "boards/data/mnist-k100.dam"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if len(sys.argv) > 3:
        # Before the extension's first parallel call starts its pool.
        os.environ["RAYON_NUM_THREADS"] = sys.argv[3]
    repeats = 7
    X, y = mnist_test()
    Xs = X.astype(np.float32) * np.float32(2 / 255) - np.float32(1)  # C-contiguous float32
    clf = dam.Classifier.load(model)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "dam-std", "--example", "predict_timing"],
        cwd=ROOT,
        check=True,
    )
    load_before = os.getloadavg()[0]
    predicted = clf.predict(Xs)  # warm-up
    python_s = float("inf")
    rust = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "x.npy"
        np.save(inputs, Xs)
        for _ in range(rounds):
            for _ in range(repeats):
                start = time.perf_counter()
                predicted = clf.predict(Xs)
                python_s = min(python_s, time.perf_counter() - start)
            out = subprocess.run(
                [str(ROOT / "target/release/examples/predict_timing"), str(model), str(inputs), str(repeats)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for name, ms in re.findall(r"^(\w+): ([0-9.]+) ms", out, re.M):
                rust[name] = min(rust.get(name, float("inf")), float(ms) / 1e3)
    threads = re.search(r"threads: (\d+)", out).group(1)

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs), {threads} threads")
    print(f"load average (1 min) before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f}")
    print(f"model: {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}")
    print(f"{len(Xs)} images, accuracy {np.mean(predicted == y):.4f}, best of {rounds} × {repeats} runs")
    print(f"python dam.Classifier.predict:    {python_s * 1e3:8.2f} ms")
    for name, label in (("rows", "Prepared::scores row by row"), ("batch", "batch::classify")):
        if name in rust:
            print(
                f"rust {label + ':':29s}{rust[name] * 1e3:8.2f} ms   python/rust = {python_s / rust[name]:.3f}"
            )
    differ = re.search(r"\((\d+) of (\d+) predictions differ", out)
    print(f"batch::classify predictions that differ from the row-by-row path: {differ.group(1)} of {differ.group(2)}")


if __name__ == "__main__":
    main()
