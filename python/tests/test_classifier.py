"""dam.Classifier against the `dam` program: the same models, byte for
byte, the same predictions, the same error messages.

Needs the package installed (scripts/setup-python.sh) and cargo: the
session fixture builds target/release/dam.
"""

import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import dam

ROOT = Path(__file__).resolve().parents[2]
DAM = ROOT / "target" / "release" / "dam"


@pytest.fixture(scope="session")
def cli():
    """Runs `dam ARGS` in `cwd`; returns the completed process."""
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "dam-cli", "--bin", "dam"],
        cwd=ROOT,
        check=True,
    )

    def run(args, cwd, ok=True):
        p = subprocess.run(
            [str(DAM), *map(str, args)], cwd=cwd, capture_output=True, text=True
        )
        if ok:
            assert p.returncode == 0, p.stderr
        return p

    return run


def load(name):
    z = np.load(ROOT / "data" / name / f"{name}.npz")
    return z["x_train"], z["y_train"], z["x_test"], z["y_test"]


def all_rows(name):
    xtr, ytr, xte, yte = load(name)
    return np.concatenate([xtr, xte]), np.concatenate([ytr, yte])


def cli_train(cli, tmp_path, X, y, *flags):
    """`dam train --data x.npy --labels y.npy FLAGS`: the model's bytes."""
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    cli(
        ["train", "--data", "x.npy", "--labels", "y.npy", "--out", "out", "--quiet", *flags],
        tmp_path,
    )
    return (tmp_path / "out" / "model.dam").read_bytes()


def check_predictions(cli, tmp_path, clf, X, y):
    """predict_proba equals `dam scores`, score equals `dam eval`."""
    model = tmp_path / "m.dam"
    clf.save(model)
    rows = X.reshape(len(X), -1)
    np.save(tmp_path / "xt.npy", rows)
    np.save(tmp_path / "yt.npy", y)
    cli(["scores", "--model", model, "--inputs", "xt.npy", "--out", "s.npy"], tmp_path)
    scores = np.load(tmp_path / "s.npy")
    assert np.array_equal(clf.predict_proba(X), scores)
    assert np.array_equal(clf.predict(X), clf.classes_[scores.argmax(axis=1)])
    p = cli(
        ["eval", model, "--data", "xt.npy", "--labels", "yt.npy",
         "--test-data", "xt.npy", "--test-labels", "yt.npy"],
        tmp_path,
    )
    m = re.search(r"test accuracy: ([0-9.]+)% \((\d+) rows\)", p.stdout)
    assert m, p.stdout
    assert int(m.group(2)) == len(y)
    assert f"{100 * clf.score(X, y):.2f}" == m.group(1)


def test_iris_fit_predict_matches_cli(cli, tmp_path):
    X, y = all_rows("iris")
    clf = dam.Classifier(seed=3).fit(X, y)
    assert clf.kind_ == "kh16"
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_features_in_ == 4
    assert clf.test_score_ > 0.85
    assert clf.model_bytes_ == cli_train(cli, tmp_path, X, y, "--seed", 3)
    xtr, ytr, xte, yte = load("iris")
    check_predictions(cli, tmp_path, clf, xte, yte)


def test_other_seed_gives_another_model(tmp_path):
    X, y = all_rows("iris")
    a = dam.Classifier(seed=1, epochs=20).fit(X, y)
    b = dam.Classifier(seed=2, epochs=20).fit(X, y)
    assert a.model_bytes_ != b.model_bytes_


def test_string_labels(cli, tmp_path):
    X, y = all_rows("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = dam.Classifier(seed=0, degree=3, epochs=30).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.score(X, names) > 0.6
    assert clf.model_bytes_ == cli_train(
        cli, tmp_path, X, names, "-n", 3, "--epochs", 30
    )
    # A list of Python strings is the same data.
    assert dam.Classifier(seed=0, degree=3, epochs=30).fit(X, list(names)).model_bytes_ == clf.model_bytes_


def test_digits_images_match_cli(cli, tmp_path):
    X, y = all_rows("digits")
    assert X.ndim == 3
    clf = dam.Classifier(seed=5, epochs=4).fit(X, y)
    assert clf.kind_ == "kh16"
    assert clf.n_features_in_ == 64
    assert clf.model_bytes_ == cli_train(cli, tmp_path, X, y, "--seed", 5, "--epochs", 4)
    xtr, ytr, xte, yte = load("digits")
    assert clf.score(xte, yte) > 0.8
    # 3-D and flattened rows predict alike.
    assert np.array_equal(clf.predict(xte), clf.predict(xte.reshape(len(xte), -1)))
    check_predictions(cli, tmp_path, clf, xte, yte)


def test_large_images_train_potts_as_the_cli(cli, tmp_path):
    X, y = all_rows("digits")
    # 16×16 images and more than 1 000 rows: Potts hidden units by default.
    big = np.kron(X, np.ones((1, 2, 2), dtype=X.dtype))
    clf = dam.Classifier(seed=2, n_memories=20, epochs=2).fit(big, y)
    assert clf.kind_ == "potts"
    assert clf.model_bytes_ == cli_train(
        cli, tmp_path, big, y, "--seed", 2, "-k", 20, "--epochs", 2
    )
    proba = clf.predict_proba(big[:50])
    assert proba.shape == (50, 10)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    check_predictions(cli, tmp_path, clf, big[:200], y[:200])


BAD = {
    "nan": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y),
    "inf": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 9, np.inf, X), y),
    "one class": lambda X, y: (X, np.zeros_like(y)),
    "rows differ": lambda X, y: (X, y[:-1]),
    "4-D features": lambda X, y: (X.reshape(len(X), 2, 2, 1), y),
    "string features": lambda X, y: (X.astype(str), y),
    "float16": lambda X, y: (X.astype(np.float16), y),
    "2-D labels": lambda X, y: (X, np.stack([y, y], axis=1)),
    "fractional labels": lambda X, y: (X, y + 0.5),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_are_the_clis(cli, tmp_path, case):
    X, y = all_rows("iris")
    X, y = BAD[case](X.astype(np.float64), y)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    p = cli(
        ["train", "--data", "x.npy", "--labels", "y.npy", "--out", "out", "--quiet"],
        tmp_path,
        ok=False,
    )
    assert p.returncode == 1
    message = p.stderr.strip().removeprefix("error: ")
    expected = message.replace("x.npy", "X").replace("y.npy", "y")
    with pytest.raises(ValueError) as e:
        dam.Classifier().fit(X, y)
    assert str(e.value) == expected


def test_option_errors():
    X, y = all_rows("iris")
    with pytest.raises(ValueError, match="--epochs 0: a run needs at least one epoch"):
        dam.Classifier(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="-k 0: K, the number of memories"):
        dam.Classifier(n_memories=0).fit(X, y)
    with pytest.raises(ValueError, match="--test-fraction must be in"):
        dam.Classifier(test_fraction=1.5).fit(X, y)
    with pytest.raises(ValueError, match='kind "tree"'):
        dam.Classifier(kind="tree").fit(X, y)
    with pytest.raises(ValueError, match="not fitted"):
        dam.Classifier().predict(X)
    clf = dam.Classifier(seed=0, epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="rows of 3 values, but the model takes Nv = 4"):
        clf.predict(X[:, :3])


def test_save_load_round_trip(tmp_path):
    X, y = all_rows("iris")
    clf = dam.Classifier(seed=0, epochs=20).fit(X, y)
    clf.save(tmp_path / "iris.dam")
    assert (tmp_path / "iris.dam").read_bytes() == clf.model_bytes_
    back = dam.Classifier.load(tmp_path / "iris.dam")
    assert back.model_bytes_ == clf.model_bytes_
    assert np.array_equal(back.classes_, clf.classes_)
    assert np.array_equal(back.predict(X), clf.predict(X))
    assert np.array_equal(back.predict_proba(X), clf.decision_function(X))
    (tmp_path / "junk.dam").write_bytes(b"not a model")
    with pytest.raises(ValueError):
        dam.Classifier.load(tmp_path / "junk.dam")


def test_export_writes_the_clis_files(cli, tmp_path):
    X, y = all_rows("iris")
    clf = dam.Classifier(seed=0, epochs=20).fit(X, y)
    clf.save(tmp_path / "m.dam")
    line = clf.export(tmp_path / "py" / "iris_i8", quantize="i8", format="c")
    assert "iris_i8_classify" in line
    cli(["export", "--model", "m.dam", "--quantize", "i8", "--format", "c",
         "--out", "cli/iris_i8.c"], tmp_path)
    for ext in ("c", "h"):
        assert (tmp_path / "py" / f"iris_i8.{ext}").read_bytes() == (
            tmp_path / "cli" / f"iris_i8.{ext}"
        ).read_bytes()
    clf.export(tmp_path / "py" / "model.rs", quantize="f32", format="rust")
    assert "include_bytes!" in (tmp_path / "py" / "model.rs").read_text()
    assert (tmp_path / "py" / "model.dam").stat().st_size > 0
    clf.export(tmp_path / "py" / "model.i8.dam", format="bin")
    cli(["export", "--model", "m.dam", "--out", "cli/model.i8.dam"], tmp_path)
    assert (tmp_path / "py" / "model.i8.dam").read_bytes() == (
        tmp_path / "cli" / "model.i8.dam"
    ).read_bytes()
    with pytest.raises(ValueError, match='format "png"'):
        clf.export(tmp_path / "x", format="png")


def test_params_follow_scikit_learn_conventions():
    clf = dam.Classifier(degree=3)
    params = clf.get_params()
    assert params["degree"] == 3 and params["seed"] == 0
    assert clf.set_params(epochs=7, seed=4) is clf
    assert (clf.epochs, clf.seed) == (7, 4)
    assert repr(clf) == "Classifier(degree=3, epochs=7, seed=4)"
    with pytest.raises(ValueError, match="invalid parameter 'depth'"):
        clf.set_params(depth=2)
    assert "byte for byte" in dam.Classifier.__doc__


def test_scikit_learn_clone_and_cross_validation():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    X, y = all_rows("iris")
    clf = dam.Classifier(seed=1, degree=3, epochs=20)
    assert clone(clf).get_params() == clf.get_params()
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6, sklearn.__version__


def test_training_releases_the_gil():
    X, y = all_rows("digits")
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=tick)
    t.start()
    start = time.perf_counter()
    try:
        dam.Classifier(seed=0, epochs=150, degree=3).fit(X, y)
    finally:
        done.set()
        t.join()
    elapsed = time.perf_counter() - start
    during = [s for s in ticks if s >= start]
    # Held, the GIL would stop the ticker for the whole fit: a tick or two.
    assert elapsed > 0.2, elapsed
    assert len(during) > elapsed / 0.05, (elapsed, len(during))
