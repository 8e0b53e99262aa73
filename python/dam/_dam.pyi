"""The Rust extension behind `dam.Classifier` (arrays go in as `.npy` bytes)."""

from typing import Optional

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
