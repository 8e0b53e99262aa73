"""Type stubs of the `dam` package (see `help(dam.Classifier)`)."""

from os import PathLike
from typing import Any, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

__all__ = ["Classifier", "Memory", "DrDam"]

_Path = Union[str, PathLike[str]]

class Classifier:
    """A Dense Associative Memory classifier (KH16 or Potts hidden units).

    `fit(X, y)` with `seed=S` trains the same model, byte for byte, as
    `dam train --data x.npy --labels y.npy --seed S` on the same arrays.
    """

    n_memories: Optional[int]
    degree: Optional[int]
    epochs: Optional[int]
    seed: int
    kind: Optional[Literal["kh16", "potts"]]
    test_fraction: float
    val_fraction: float
    split_seed: int
    classes_: np.ndarray
    n_features_in_: int
    kind_: Literal["kh16", "potts"]
    model_bytes_: bytes
    test_score_: float
    @property
    def memories_(self) -> npt.NDArray[np.float32]:
        """A float32 KH16 model's memories, K × (n_features_in_ + n_classes)."""

    def __init__(
        self,
        n_memories: Optional[int] = None,
        degree: Optional[int] = None,
        epochs: Optional[int] = None,
        seed: int = 0,
        kind: Optional[Literal["kh16", "potts"]] = None,
        test_fraction: float = 0.2,
        val_fraction: float = 0.1,
        split_seed: int = 0,
    ) -> None: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Classifier: ...
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Classifier:
        """Trains on X (N × D or N × H × W, numeric) and y (N int or str labels)."""
    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Class scores, N × n_classes, columns in `classes_` order."""
    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Class scores (the posterior for a Potts model; c_α ∈ [−1, 1] for KH16)."""
    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predicted labels, values of `classes_`."""
    def score(self, X: npt.ArrayLike, y: npt.ArrayLike) -> float:
        """Accuracy of `predict(X)` against y."""
    def save(self, path: _Path) -> None:
        """Writes the `.dam` model file."""
    @classmethod
    def load(cls, path: _Path) -> Classifier:
        """A fitted Classifier from a `.dam` model file."""
    def export(
        self,
        path: _Path,
        quantize: Optional[Literal["i8", "i16", "f32"]] = None,
        format: Literal["c", "rust", "bin"] = "c",
    ) -> str:
        """Writes the model for firmware as `dam export` does; returns its report line."""

class Memory:
    """A dense associative memory over K patterns of dimension D: bipolar
    (sign updates of Σ_μ F(ξ^μ·σ)) or log-sum-exp (gradient descent on
    −(1/β) log Σ_μ exp ℓ_μ(x)). Queries: D values or N × D, any numeric
    dtype; bad input raises ValueError naming argument, row and column.
    """

    kind: Literal["bipolar", "lse"]
    interaction: Literal["polynomial", "rectified", "leaky", "exponential"]
    degree: int
    beta: float
    form: Literal["normalized", "raw"]
    similarity: Literal["euclidean", "dot"]
    leak: float

    def __init__(
        self,
        patterns: npt.ArrayLike,
        kind: Literal["bipolar", "lse"] = "bipolar",
        interaction: Literal["polynomial", "rectified", "leaky", "exponential"] = "polynomial",
        degree: int = 3,
        beta: float = 1.0,
        form: Literal["normalized", "raw"] = "normalized",
        similarity: Literal["euclidean", "dot"] = "euclidean",
        leak: float = 0.01,
    ) -> None: ...
    def get_params(self) -> dict[str, Any]:
        """The settings (everything but the patterns), by name."""
    @property
    def patterns(self) -> npt.NDArray[np.float32]:
        """The stored patterns, K × D float32 (a copy)."""
    @property
    def shape(self) -> tuple[int, int]:
        """(K, D)."""
    def recall(
        self,
        X: npt.ArrayLike,
        known: Optional[npt.ArrayLike] = None,
        *,
        max_sweeps: int = 100,
        order: Literal["sequential", "random", "synchronous"] = "sequential",
        seed: int = 0,
        steps: int = 1,
        step: float = 1.0,
    ) -> np.ndarray:
        """Retrieved states: int8 ±1 (bipolar) or float32 (LSE), shaped as X."""
    def energy(self, X: npt.ArrayLike) -> Union[float, npt.NDArray[np.float32]]:
        """The energy of each query (a float for one query)."""
    def save(self, path: _Path) -> None:
        """Writes `.safetensors` (patterns + settings) or `.npy` (patterns)."""
    @classmethod
    def load(cls, path: _Path, **settings: Any) -> Memory:
        """A Memory from `.safetensors` or `.npy`; `settings` override the file's."""

class DrDam:
    """A random-feature memory: T = Σ_μ φ(ξ^μ) over a projection
    regenerated from `seed`; store/forget add/subtract φ(ξ), retrieval
    costs O(Y·D) whatever the number of patterns."""

    def __init__(
        self,
        dim: int,
        features: int,
        beta: float,
        seed: int = 0,
        T: Optional[npt.ArrayLike] = None,
    ) -> None: ...
    @property
    def dim(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    @property
    def beta(self) -> float: ...
    @property
    def seed(self) -> int: ...
    @property
    def T(self) -> npt.NDArray[np.float32]:
        """The memory vector, 2Y float32 (cosines, then sines; a copy)."""
    def get_params(self) -> dict[str, Any]: ...
    def features(self, X: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """φ(X): 2Y (one pattern) or N × 2Y float32."""
    def store(self, X: npt.ArrayLike) -> DrDam:
        """T += φ(ξ) for each row, in order; returns self."""
    def forget(self, X: npt.ArrayLike) -> DrDam:
        """T −= φ(ξ) for each row; returns self."""
    def clear(self) -> DrDam:
        """T = 0; returns self."""
    def recall(
        self,
        X: npt.ArrayLike,
        known: Optional[npt.ArrayLike] = None,
        *,
        steps: int = 10,
        step: float = 0.5,
    ) -> npt.NDArray[np.float32]:
        """Gradient descent on Ẽ from each query; `known` entries are clamped."""
    def energy(self, X: npt.ArrayLike) -> Union[float, npt.NDArray[np.float32]]:
        """Ẽ(x) of each query (a float for one query)."""
    def save(self, path: _Path) -> None:
        """Writes `.safetensors` (T + settings) or `.npy` (T)."""
    @classmethod
    def load(cls, path: _Path, **settings: Any) -> DrDam:
        """A DrDam from `.safetensors` or `.npy` (pass dim, beta, seed for `.npy`)."""
