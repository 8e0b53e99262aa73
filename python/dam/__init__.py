"""Dense Associative Memory classifiers: train in Python, deploy on microcontrollers.

``dam.Classifier`` follows scikit-learn's conventions (``fit``, ``predict``,
``predict_proba``, ``score``, ``get_params``/``set_params``) without
depending on scikit-learn. ``fit`` trains exactly what the ``dam`` program's
``dam train --data x.npy --labels y.npy --seed S`` trains on the same data;
``export`` writes the model for firmware (C, Rust or the ``.dam`` file), as
``dam export`` does.

>>> import numpy as np, dam
>>> z = np.load("data/iris/iris.npz")
>>> clf = dam.Classifier(seed=0).fit(z["x_train"], z["y_train"])
>>> clf.score(z["x_test"], z["y_test"]) > 0.9
True
"""

from __future__ import annotations

import io
import os

import numpy as np

from . import _dam
from ._memories import DrDam, Memory

__all__ = ["Classifier", "Memory", "DrDam"]

# `help(dam)` and `repr` name them where users find them.
Memory.__module__ = DrDam.__module__ = __name__

_PARAMS = (
    "n_memories",
    "degree",
    "epochs",
    "seed",
    "kind",
    "test_fraction",
    "val_fraction",
    "split_seed",
)


def _npy(a) -> bytes:
    """``a`` as the bytes of a C-order ``.npy`` file (what ``dam`` reads)."""
    a = np.asarray(a)
    if a.dtype == object:
        # Python strings (pandas' object columns) as a unicode array; the
        # reader refuses anything else with its own message.
        a = a.astype(str)
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _rows(X) -> np.ndarray:
    """Inputs as rows: N × H × W images are flattened to N × (H·W)."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X.reshape(X.shape[0], -1)
    return X


# dtypes whose values NumPy converts to float32 exactly as `dam scores`
# does (read as float64, then rounded once to float32): every other numeric
# dtype goes through float64 first; anything else through the `.npy` path,
# which refuses it with the CLI's message.
_DIRECT_F32 = set("f4 f8 i1 i2 i4 u1 u2 u4".split())


def _float32_rows(X):
    """X as a C-contiguous float32 N × D array converted as `dam scores`
    converts it (in place if it is one already), or None if the `.npy`
    path must take it (it refuses it with the CLI's message)."""
    X = _rows(X)
    code = f"{X.dtype.kind}{X.dtype.itemsize}"
    if X.ndim != 2 or X.dtype.kind not in "iuf" or code == "f2":
        return None
    if code not in _DIRECT_F32:
        X = X.astype(np.float64)
    return np.ascontiguousarray(X, dtype=np.float32)


def _scores(model: bytes, X):
    """(scores, class indices) of the rows of X, as `dam scores` computes
    them."""
    rows = _float32_rows(X)
    if rows is None:
        return _dam.scores(model, _npy(_rows(X)))
    return _dam.scores_f32(model, rows)


def _predict(model: bytes, X):
    """The class indices of the rows of X: the blocked batch path for a
    float32 KH16 model, else the argmax of `_scores`."""
    rows = _float32_rows(X)
    if rows is not None:
        classes = _dam.predict_f32(model, rows)
        if classes is not None:
            return classes
    return _scores(model, X)[1]


class Classifier:
    """A Dense Associative Memory classifier (KH16 or Potts hidden units).

    Parameters
    ----------
    n_memories : int or None
        Number of memories K (Potts: P). None: derived from the data
        (20 per class, 100 to 1000; Potts: 25 per class).
    degree : int or None
        Degree n of the rectified polynomial interaction. None: 20 for
        large images, else chosen among 6, 3 and 10 on held-out rows.
    epochs : int or None
        Number of epochs. None: about 8 000 optimizer steps (Potts: 20).
    seed : int
        Seed of the initial memories and the shuffles (``--seed``).
    kind : {"kh16", "potts"} or None
        The model. None: Potts hidden units for large square images (at
        least 16×16 pixels and 1 000 rows), else KH16.
    test_fraction : float
        Fraction of the rows of ``fit``'s data held out as a test split
        (stratified), as ``dam train`` does; its accuracy is
        ``test_score_``. Must be in (0, 1).
    val_fraction : float
        Fraction of the training rows held out to choose the degree and
        the kept epoch (0: none).
    split_seed : int
        Seed of the test and validation splits (``--split-seed``).

    Every setting left as None is derived from the data exactly as
    ``dam train`` derives it: ``fit(X, y)`` with ``seed=S`` writes the same
    model, byte for byte, as ``dam train --data x.npy --labels y.npy
    --seed S`` on the same arrays.

    Attributes (after ``fit`` or ``load``)
    --------------------------------------
    classes_ : ndarray
        The class labels, in the order of the score columns.
    n_features_in_ : int
        Number of input features (pixels for images).
    kind_ : str
        "kh16" or "potts" ("classifier" models from ``load`` report "kh16").
    model_bytes_ : bytes
        The ``.dam`` model file.
    test_score_ : float
        Accuracy on the held-out test split (``fit`` only).
    """

    _estimator_type = "classifier"

    def __init__(
        self,
        n_memories: int | None = None,
        degree: int | None = None,
        epochs: int | None = None,
        seed: int = 0,
        kind: str | None = None,
        test_fraction: float = 0.2,
        val_fraction: float = 0.1,
        split_seed: int = 0,
    ):
        self.n_memories = n_memories
        self.degree = degree
        self.epochs = epochs
        self.seed = seed
        self.kind = kind
        self.test_fraction = test_fraction
        self.val_fraction = val_fraction
        self.split_seed = split_seed

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, by name (scikit-learn convention)."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params) -> "Classifier":
        """Sets constructor parameters by name; returns self."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise ValueError(
                    f"invalid parameter {name!r} for Classifier; valid: {', '.join(_PARAMS)}"
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (scikit-learn ≥ 1.6 asks for them;
        imported only then)."""
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
        )

    def __repr__(self) -> str:
        defaults = Classifier().get_params()
        given = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]
        )
        return f"Classifier({given})"

    def fit(self, X, y) -> "Classifier":
        """Trains on ``X`` (N × D, or N × H × W images; any numeric dtype)
        and ``y`` (N integer or string labels); returns self.

        Raises ValueError with ``dam train``'s message for data it refuses
        (non-finite values, wrong shapes or dtypes, a single class, …),
        where the arrays are named ``X`` and ``y``. The GIL is released
        while training.
        """
        model, kind, test, _epoch, _rows_ = _dam.train(
            _npy(X),
            _npy(y),
            memories=self.n_memories,
            degree=self.degree,
            epochs=self.epochs,
            seed=self.seed,
            kind=self.kind,
            test_fraction=self.test_fraction,
            val_fraction=self.val_fraction,
            split_seed=self.split_seed,
        )
        self._set_model(model)
        self.kind_ = kind
        self.test_score_ = test
        return self

    def _set_model(self, model: bytes) -> None:
        kind, nv, labels, names = _dam.model_info(model)
        if kind == "memory":
            raise ValueError("the model is a Memory, not a classifier")
        self.model_bytes_ = bytes(model)
        self.kind_ = "potts" if kind == "potts" else "kh16"
        self.n_features_in_ = nv
        self.classes_ = np.array(names) if names is not None else np.array(labels)

    @property
    def memories_(self) -> np.ndarray:
        """The memories of a KH16 classifier, K × (n_features_in_ +
        n_classes) float32: each row a feature part (in the model's input
        space, after its input map) and a label part. Raises ValueError for
        a Potts model or a quantized (i8/i16) one."""
        self._check_fitted()
        return _dam.model_memories(self.model_bytes_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_bytes_"):
            raise ValueError(
                "this Classifier is not fitted yet: call fit(X, y) or Classifier.load(path)"
            )

    def decision_function(self, X) -> np.ndarray:
        """The class scores, N × n_classes float32, columns in ``classes_``
        order: c_α in [−1, 1] for a KH16 classifier, the posterior
        p(y|v) for a Potts model; exactly what ``dam scores`` and the
        firmware compute from raw inputs (the model's input map is
        applied)."""
        self._check_fitted()
        scores, _ = _scores(self.model_bytes_, X)
        return scores

    def predict_proba(self, X) -> np.ndarray:
        """The class scores (see ``decision_function``): a posterior for a
        Potts model; for a KH16 classifier the scores c_α in [−1, 1], not
        probabilities."""
        return self.decision_function(X)

    def predict(self, X) -> np.ndarray:
        """The predicted labels (values of ``classes_``) of the rows of X.

        A float32 KH16 model predicts through the blocked batch path
        (blocks of rows against all memories in one product, on every
        core, as ``dam eval`` scores f32 models): the argmax of
        ``decision_function`` except where two class scores agree to
        within the rounding of a different summation order. Other models
        (Potts, quantized) take the argmax of ``decision_function``."""
        self._check_fitted()
        return self.classes_[_predict(self.model_bytes_, X)]

    def score(self, X, y) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return float(np.mean(self.predict(X) == y))

    def save(self, path) -> None:
        """Writes the ``.dam`` model file (what ``dam train`` writes as
        model.dam: ``dam eval``, ``dam export`` and the firmware read it)."""
        self._check_fitted()
        with open(os.fspath(path), "wb") as f:
            f.write(self.model_bytes_)

    @classmethod
    def load(cls, path) -> "Classifier":
        """A fitted Classifier from a ``.dam`` model file (``save``'s, or
        ``dam train``'s model.dam)."""
        with open(os.fspath(path), "rb") as f:
            model = f.read()
        clf = cls()
        clf._set_model(model)
        return clf

    def export(self, path, quantize: str | None = None, format: str = "c") -> str:
        """Writes the model for firmware, as ``dam export --quantize Q
        --format F --out PATH`` does.

        quantize: "i8" (default for KH16), "i16" or "f32" (default and only
        choice for a Potts model). format: "c" (PATH with .c and .h: the
        model as an aligned array and ``NAME_classify()`` for
        ``libdam_ffi.a``), "rust" (PATH.rs and PATH.dam for
        ``include_bytes!``) or "bin" (the model file alone). Returns the
        line ``dam export`` prints.
        """
        self._check_fitted()
        return _dam.export_model(self.model_bytes_, os.fspath(path), quantize, format)
