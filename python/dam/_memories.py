"""``dam.Memory`` and ``dam.DrDam``: associative memories over NumPy arrays.

The mathematics is ``dam-core``'s (``docs/math.md`` §3, §5, §6), run by
the Rust extension with the GIL released; these classes check and convert
the arrays (any integer or float dtype, one query or N × D) and name the
argument, row and column of a bad value in their ``ValueError``.
"""

from __future__ import annotations

import os

import numpy as np

from . import _dam

__all__ = ["Memory", "DrDam"]

_F32_MAX = float(np.finfo(np.float32).max)


def _rows(X, name: str, d: int | None = None):
    """``X`` as a C-contiguous float32 N × D array, and whether it was one
    query (1-D)."""
    a = np.asarray(X)
    if a.dtype.kind not in "iuf":
        raise ValueError(
            f"{name}: dtype {a.dtype} is not a number type (expected integers or floats)"
        )
    single = a.ndim == 1
    if single:
        a = a[np.newaxis, :]
    if a.ndim != 2:
        raise ValueError(
            f"{name}: a {a.ndim}-D array of shape {a.shape}; expected D values or N × D"
        )
    if d is not None and a.shape[1] != d:
        raise ValueError(
            f"{name}: rows of {a.shape[1]} values, but the memory has dimension D = {d}"
        )
    if a.dtype.kind == "f" and a.dtype.itemsize > 4:
        with np.errstate(invalid="ignore"):
            big = np.isfinite(a) & (np.abs(a) > _F32_MAX)
        if big.any():
            r, c = np.argwhere(big)[0]
            raise ValueError(
                f"{name}: row {r}, column {c}: {a[r, c]} is outside the float32 range"
            )
    return np.ascontiguousarray(a, dtype=np.float32), single


def _known(known, n: int, d: int):
    """The clamped-entries mask as a 2-D bool array (or None)."""
    if known is None:
        return None
    k = np.asarray(known)
    if k.dtype != np.bool_:
        raise ValueError(f"known: dtype {k.dtype}; expected a bool mask (True = observed)")
    if k.ndim == 1:
        k = k[np.newaxis, :]
    if k.ndim != 2:
        raise ValueError(f"known: shape {k.shape}; expected ({d},), (1, {d}) or ({n}, {d})")
    return np.ascontiguousarray(k)


def _format(path) -> str:
    p = os.fspath(path)
    for ext in (".safetensors", ".npy"):
        if p.endswith(ext):
            return ext[1:]
    raise ValueError(f"path {p!r}: expected a name ending in .safetensors or .npy")


_KINDS = {int: "an integer", float: "a number", str: "a string"}


def _f32(value: float) -> float:
    """The float32 nearest ``value``, as a Python float (exact)."""
    return float(np.float32(value))


def _load_tensor(path, name: str):
    """The tensor ``name`` of a safetensors file (or its only tensor), and
    the file's metadata."""
    tensors, meta = _dam.load_safetensors(os.fspath(path))
    if name in tensors:
        return tensors[name], meta
    if len(tensors) == 1:
        return next(iter(tensors.values())), meta
    raise ValueError(
        f"{os.fspath(path)}: no tensor {name!r} (tensors: {', '.join(sorted(tensors)) or 'none'})"
    )


class Memory:
    """A dense associative memory over K patterns of dimension D.

    Parameters
    ----------
    patterns : array_like, K × D
        The stored patterns ξ^μ, any integer or float dtype (kept as
        float32), finite. For ``kind="bipolar"`` usually ±1.
    kind : {"bipolar", "lse"}
        ``"bipolar"``: states in {−1, +1}^D, retrieval by sign updates of
        the energy E(σ) = −Σ_μ F(β ξ^μ·σ / D) (normalized form) or
        −β Σ_μ F(ξ^μ·σ) (raw form) [Krotov & Hopfield 2016].
        ``"lse"``: continuous states, the log-sum-exp energy
        E(x) = −(1/β) log Σ_μ exp(ℓ_μ(x)), retrieval by gradient descent
        (modern Hopfield / DrDAM's exact memory).
    interaction : {"polynomial", "rectified", "leaky", "exponential"}
        The interaction function F of a bipolar memory: s^n, max(s, 0)^n,
        s^n or ε·s below 0, e^s.
    degree : int
        The degree n of the polynomial interactions (bipolar only).
    beta : float
        The inverse temperature β (> 0).
    form : {"normalized", "raw"}
        Bipolar only: F(β ξ·σ / D), which never overflows, or the paper's
        literal β Σ F(ξ·σ), which can (then ``ValueError``).
    similarity : {"euclidean", "dot"}
        LSE only: ℓ_μ = −(β/2)‖x − ξ^μ‖² or β ξ^μ·x.
    leak : float
        The slope ε below 0 of ``interaction="leaky"``.

    Example
    -------
    >>> import numpy as np, dam
    >>> xi = np.sign(np.random.default_rng(0).standard_normal((5, 64)))
    >>> mem = dam.Memory(xi, kind="bipolar", degree=3)
    >>> noisy = xi[2].copy(); noisy[:6] *= -1
    >>> bool((mem.recall(noisy) == xi[2]).all())
    True

    ``recall`` and ``energy`` take one query (D values) or N × D and
    answer in kind; they release the GIL and spread rows over threads.
    Bad input raises ``ValueError`` naming the argument, row and column.
    """

    def __init__(
        self,
        patterns,
        kind: str = "bipolar",
        interaction: str = "polynomial",
        degree: int = 3,
        beta: float = 1.0,
        form: str = "normalized",
        similarity: str = "euclidean",
        leak: float = 0.01,
    ):
        P, _ = _rows(patterns, "patterns")
        self.kind = kind
        self.interaction = interaction
        self.degree = int(degree)
        self.beta = _f32(beta)
        self.form = form
        self.similarity = similarity
        self.leak = _f32(leak)
        self._m = _dam.Memory(
            P, kind, interaction, self.degree, self.beta, form, similarity, self.leak
        )

    def get_params(self) -> dict:
        """The settings (everything but the patterns), by name."""
        return {
            "kind": self.kind,
            "interaction": self.interaction,
            "degree": self.degree,
            "beta": self.beta,
            "form": self.form,
            "similarity": self.similarity,
            "leak": self.leak,
        }

    @property
    def patterns(self) -> np.ndarray:
        """The stored patterns, K × D float32 (a copy)."""
        return self._m.patterns

    @property
    def shape(self) -> tuple:
        """(K, D): the number of patterns and their dimension."""
        return self._m.shape

    def __repr__(self) -> str:
        k, d = self.shape
        return f"Memory(<{k} × {d} patterns>, kind={self.kind!r}, beta={self.beta!r})"

    def recall(
        self,
        X,
        known=None,
        *,
        max_sweeps: int = 100,
        order: str = "sequential",
        seed: int = 0,
        steps: int = 1,
        step: float = 1.0,
    ) -> np.ndarray:
        """The states retrieved from the queries ``X`` (D values or N × D).

        Bipolar: ``X`` must hold only −1 and +1; neurons take the sign of
        their energy difference until no neuron flips or ``max_sweeps``
        sweeps; ``order`` is "sequential", "random" (seeded by
        ``seed + row``) or "synchronous". Returns int8 ±1.

        LSE: ``steps`` gradient steps x ← x − step·∇E(x); with ``step=1``
        each is the update x ← Σ_μ softmax(ℓ(x))_μ ξ^μ. Returns float32.

        ``known``: a bool mask (D, 1 × D or N × D); True entries are
        observed and never change (pattern completion).
        """
        Q, single = _rows(X, "X", self.shape[1])
        out = self._m.recall(
            Q,
            _known(known, Q.shape[0], self.shape[1]),
            max_sweeps=int(max_sweeps),
            order=order,
            seed=int(seed),
            steps=int(steps),
            step=float(step),
        )
        return out[0] if single else out

    def energy(self, X):
        """The energy of each query (D values: a float; N × D: N float32).
        Bipolar queries must hold only −1 and +1."""
        Q, single = _rows(X, "X", self.shape[1])
        e = self._m.energy(Q)
        return float(e[0]) if single else e

    def save(self, path) -> None:
        """Writes the patterns to ``path``: ``.safetensors`` (tensor
        "patterns", K × D float32, with the settings in the metadata) or
        ``.npy`` (the patterns alone: pass the settings to ``load``)."""
        if _format(path) == "npy":
            np.save(os.fspath(path), self.patterns, allow_pickle=False)
            return
        meta = {"dam": "Memory", **{k: str(v) for k, v in self.get_params().items()}}
        meta["beta"] = repr(self.beta)
        meta["leak"] = repr(self.leak)
        _dam.save_safetensors(os.fspath(path), [("patterns", self.patterns)], meta)

    @classmethod
    def load(cls, path, **settings) -> "Memory":
        """A Memory from a ``.safetensors`` file (the tensor "patterns", or
        the file's only tensor, e.g. one written by
        ``safetensors.numpy.save_file``) or a ``.npy`` file. Settings come
        from the file's metadata, then from ``settings`` (which win)."""
        if _format(path) == "npy":
            return cls(np.load(os.fspath(path), allow_pickle=False), **settings)
        patterns, meta = _load_tensor(path, "patterns")
        params = {}
        for key, cast in (
            ("kind", str),
            ("interaction", str),
            ("degree", int),
            ("beta", float),
            ("form", str),
            ("similarity", str),
            ("leak", float),
        ):
            if key in meta:
                try:
                    params[key] = cast(meta[key])
                except ValueError:
                    raise ValueError(
                        f"{os.fspath(path)}: metadata {key} = {meta[key]!r} is not {_KINDS[cast]}"
                    ) from None
        params.update(settings)
        return cls(patterns, **params)


class DrDam:
    """A random-feature memory (DrDAM, ``docs/math.md`` §6).

    The Gaussian kernel exp(−(β/2)‖x − ξ‖²) is approximated by φ(x)·φ(ξ)
    with φ(x) = Y^(−1/2) [cos(√β S x); sin(√β S x)], S a Y × D projection
    with N(0, 1) entries regenerated from ``seed`` (Philox4x32-10: the
    same S on every machine and microcontroller). The whole memory is one
    vector T = Σ_μ φ(ξ^μ) of 2Y float32: ``store`` adds φ(ξ), ``forget``
    subtracts it, and retrieval costs O(Y·D) whatever the number of
    patterns. The energy is Ẽ(x) = −(1/β) ln max(φ(x)·T, 1e-30).

    Parameters
    ----------
    dim : int
        The pattern dimension D.
    features : int
        The number of random features Y.
    beta : float
        The inverse temperature β (> 0).
    seed : int
        The projection's seed (0 ≤ seed < 2^64).
    T : array_like or None
        A memory vector of 2Y values to start from (None: empty).

    Two DrDam built with the same ``dim``, ``features``, ``beta`` and
    ``seed`` have the same φ: memories stored apart can be summed
    (``a.T + b.T``), e.g. one per worker of a cluster.

    Example
    -------
    >>> import numpy as np, dam
    >>> xi = np.random.default_rng(0).uniform(-1, 1, (3, 16)).astype(np.float32)
    >>> m = dam.DrDam(dim=16, features=4000, beta=4.0, seed=1).store(xi)
    >>> bool(m.energy(xi[0]) < m.energy(-xi[0]))
    True
    """

    def __init__(self, dim: int, features: int, beta: float, seed: int = 0, T=None):
        t = None
        if T is not None:
            t = np.asarray(T)
            if t.dtype.kind not in "iuf" or t.ndim != 1:
                raise ValueError(f"T: expected a 1-D float array, got {t.dtype} {t.shape}")
            t = np.ascontiguousarray(t, dtype=np.float32)
        if int(seed) < 0 or int(seed) >= 2**64:
            raise ValueError(f"seed = {seed}: must be in 0..2**64")
        self._m = _dam.DrDam(int(dim), int(features), _f32(beta), int(seed), t)

    @property
    def dim(self) -> int:
        """The pattern dimension D."""
        return self._m.dim

    @property
    def n_features(self) -> int:
        """The number of random features Y."""
        return self._m.n_features

    @property
    def beta(self) -> float:
        """β (as float32, exactly)."""
        return self._m.beta

    @property
    def seed(self) -> int:
        """The projection's seed."""
        return self._m.seed

    @property
    def T(self) -> np.ndarray:
        """The memory vector T = Σ φ(ξ^μ): 2Y float32, cosines then sines
        (a copy)."""
        return self._m.T

    def get_params(self) -> dict:
        """``dim``, ``features``, ``beta`` and ``seed``."""
        return {
            "dim": self.dim,
            "features": self.n_features,
            "beta": self.beta,
            "seed": self.seed,
        }

    def __repr__(self) -> str:
        p = self.get_params()
        return "DrDam(" + ", ".join(f"{k}={v!r}" for k, v in p.items()) + ")"

    def __reduce__(self):
        return (self.__class__, (self.dim, self.n_features, self.beta, self.seed, self.T))

    def features(self, X) -> np.ndarray:
        """φ(X): 2Y float32 for one pattern, N × 2Y for N × D."""
        Q, single = _rows(X, "X", self.dim)
        out = self._m.features(Q)
        return out[0] if single else out

    def store(self, X) -> "DrDam":
        """T += φ(ξ) for each pattern ξ (D values or N × D), in row order
        (bit for bit what dam-core's ``DrDam::store`` computes); returns
        self. T is unchanged if any row is refused."""
        Q, _ = _rows(X, "X", self.dim)
        self._m.store(Q)
        return self

    def forget(self, X) -> "DrDam":
        """T −= φ(ξ) for each pattern ξ: undoes ``store`` (to rounding);
        returns self."""
        Q, _ = _rows(X, "X", self.dim)
        self._m.forget(Q)
        return self

    def clear(self) -> "DrDam":
        """Empties the memory (T = 0); returns self."""
        self._m.clear()
        return self

    def recall(self, X, known=None, *, steps: int = 10, step: float = 0.5) -> np.ndarray:
        """``steps`` gradient steps x ← x − step·∇Ẽ(x) from each query (D
        values or N × D); float32 out. ``known``: a bool mask (D, 1 × D or
        N × D) of observed entries, which never change."""
        Q, single = _rows(X, "X", self.dim)
        out = self._m.recall(
            Q, _known(known, Q.shape[0], self.dim), steps=int(steps), step=float(step)
        )
        return out[0] if single else out

    def energy(self, X):
        """Ẽ(x) of each query (D values: a float; N × D: N float32)."""
        Q, single = _rows(X, "X", self.dim)
        e = self._m.energy(Q)
        return float(e[0]) if single else e

    def save(self, path) -> None:
        """Writes T to ``path``: ``.safetensors`` (tensor "T", 2Y float32,
        with dim, features, beta and seed in the metadata) or ``.npy`` (T
        alone: pass dim, beta and seed to ``load``)."""
        if _format(path) == "npy":
            np.save(os.fspath(path), self.T, allow_pickle=False)
            return
        p = self.get_params()
        meta = {
            "dam": "DrDam",
            "dim": str(p["dim"]),
            "features": str(p["features"]),
            "beta": repr(p["beta"]),
            "seed": str(p["seed"]),
        }
        _dam.save_safetensors(os.fspath(path), [("T", self.T)], meta)

    @classmethod
    def load(cls, path, **settings) -> "DrDam":
        """A DrDam from ``save``'s file. Settings come from the
        safetensors metadata, then from ``settings`` (which win); a
        ``.npy`` file holds T alone, so pass ``dim``, ``beta`` and
        ``seed`` (``features`` is len(T) / 2)."""
        if _format(path) == "npy":
            T = np.load(os.fspath(path), allow_pickle=False)
            meta = {}
        else:
            T, meta = _load_tensor(path, "T")
        params = {"features": np.asarray(T).size // 2}
        for key, cast in (("dim", int), ("features", int), ("beta", float), ("seed", int)):
            if key in meta:
                try:
                    params[key] = cast(meta[key])
                except ValueError:
                    raise ValueError(
                        f"{os.fspath(path)}: metadata {key} = {meta[key]!r} is not {_KINDS[cast]}"
                    ) from None
        params.update(settings)
        missing = [k for k in ("dim", "beta") if k not in params]
        if missing:
            raise ValueError(
                f"{os.fspath(path)}: no {' or '.join(missing)} in the file: pass "
                + ", ".join(f"{k}=..." for k in missing)
            )
        return cls(T=T, **params)
