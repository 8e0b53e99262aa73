"""The Rust extension behind `dam.Classifier` (training data go in as `.npy`
bytes), `dam.Memory` and `dam.DrDam` (C-contiguous float32 arrays)."""

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

def train(
    x_npy: bytes,
    y_npy: bytes,
    memories: Optional[int] = None,
    degree: Optional[int] = None,
    epochs: Optional[int] = None,
    seed: int = 0,
    kind: Optional[str] = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    split_seed: int = 0,
) -> tuple[bytes, str, float, int, int]: ...
def model_info(model_bytes: bytes) -> tuple[str, int, list[int], Optional[list[str]]]: ...
def scores(
    model_bytes: bytes, x_npy: bytes, fixed: bool = False
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
def export_model(
    model_bytes: bytes, path: str, quantize: Optional[str] = None, format: str = "c"
) -> str: ...
def scores_f32(
    model_bytes: bytes, x: npt.NDArray[np.float32], fixed: bool = False
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
def model_memories(model_bytes: bytes) -> npt.NDArray[np.float32]: ...
def save_safetensors(
    path: str, tensors: list[tuple[str, npt.NDArray[np.float32]]], metadata: dict[str, str]
) -> None: ...
def load_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]: ...

class Memory:
    def __init__(
        self,
        patterns: npt.NDArray[np.float32],
        kind: str,
        interaction_name: str,
        degree: int,
        beta: float,
        form: str,
        similarity: str,
        leak: float,
    ) -> None: ...
    @property
    def patterns(self) -> npt.NDArray[np.float32]: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    def recall(
        self,
        x: npt.NDArray[np.float32],
        known: Optional[npt.NDArray[np.bool_]] = None,
        max_sweeps: int = 100,
        order: str = "sequential",
        seed: int = 0,
        steps: int = 1,
        step: float = 1.0,
    ) -> Any: ...
    def energy(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

class DrDam:
    def __init__(
        self,
        dim: int,
        features: int,
        beta: float,
        seed: int,
        memory: Optional[npt.NDArray[np.float32]] = None,
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
    def T(self) -> npt.NDArray[np.float32]: ...
    def features(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def store(self, x: npt.NDArray[np.float32]) -> None: ...
    def forget(self, x: npt.NDArray[np.float32]) -> None: ...
    def clear(self) -> None: ...
    def recall(
        self,
        x: npt.NDArray[np.float32],
        known: Optional[npt.NDArray[np.bool_]] = None,
        steps: int = 10,
        step: float = 0.5,
    ) -> npt.NDArray[np.float32]: ...
    def energy(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
