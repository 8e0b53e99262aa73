"""Type stubs of the `dam` package (see `help(dam.Classifier)`)."""

from os import PathLike
from typing import Any, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

__all__ = ["Classifier"]

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
