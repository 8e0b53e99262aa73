"""dam.Memory and dam.DrDam against NumPy renderings of docs/math.md
(§3 bipolar, §5 log-sum-exp, §6 random features), and their errors."""

import pickle
import threading
import time

import numpy as np
import pytest

import dam


def bipolar_patterns(k, d, seed=0):
    return np.sign(np.random.default_rng(seed).standard_normal((k, d))).astype(np.float32)


def flip(xi, count, seed=1):
    """Each row of xi with `count` random entries negated."""
    rng = np.random.default_rng(seed)
    q = xi.copy()
    for row in q:
        row[rng.choice(row.size, count, replace=False)] *= -1
    return q


def reference_bipolar_recall(xi, state, n, max_sweeps=100):
    """Sequential sign updates of math.md §3 with F(s) = s^n, in float64."""
    xi = xi.astype(np.float64)
    s = state.astype(np.float64).copy()
    for _ in range(max_sweeps):
        changed = 0
        for i in range(s.size):
            m = xi @ s - xi[:, i] * s[i]
            new = 1.0 if np.sum((m + xi[:, i]) ** n - (m - xi[:, i]) ** n) >= 0 else -1.0
            if new != s[i]:
                s[i] = new
                changed += 1
        if not changed:
            break
    return s


def test_bipolar_recall_matches_the_update_rule_and_retrieves():
    xi = bipolar_patterns(12, 64)
    mem = dam.Memory(xi, kind="bipolar", interaction="polynomial", degree=3)
    noisy = flip(xi, 12)
    out = mem.recall(noisy)
    assert out.dtype == np.int8 and out.shape == xi.shape
    for q, o in zip(noisy, out):
        np.testing.assert_array_equal(o, reference_bipolar_recall(xi, q, 3))
    # 12 of 64 bits flipped, 12 memories, n = 3: all retrieved.
    np.testing.assert_array_equal(out, xi)
    # One query in, one state out.
    np.testing.assert_array_equal(mem.recall(noisy[4]), xi[4])
    # The stored patterns are fixed points, also with other orders.
    for order in ("random", "synchronous"):
        np.testing.assert_array_equal(mem.recall(xi, order=order, seed=5), xi)


def test_bipolar_energy_is_math_md():
    xi = bipolar_patterns(7, 40)
    states = flip(xi, 5)
    for form, beta in (("normalized", 0.7), ("raw", 2.0)):
        mem = dam.Memory(xi, degree=4, beta=beta, form=form)
        overlaps = states.astype(np.float64) @ xi.T.astype(np.float64)
        if form == "normalized":
            want = -np.sum((np.float32(beta) * overlaps / 40) ** 4, axis=1)
        else:
            want = -np.float32(beta) * np.sum(overlaps**4, axis=1)
        got = mem.energy(states)
        assert got.dtype == np.float32 and got.shape == (7,)
        np.testing.assert_allclose(got, want, rtol=1e-5)
        assert mem.energy(states[0]) == pytest.approx(float(got[0]))


def test_bipolar_completion_keeps_the_known_entries():
    xi = bipolar_patterns(5, 64)
    mem = dam.Memory(xi, degree=6)
    cue = xi.copy()
    cue[:, 32:] = 1.0  # a guess for the unknown half
    known = np.zeros(64, dtype=bool)
    known[:32] = True
    out = mem.recall(cue, known)
    np.testing.assert_array_equal(out, xi)
    # A wrong known entry stays wrong: it is clamped.
    cue[:, 3] *= -1
    np.testing.assert_array_equal(mem.recall(cue, known)[:, 3], cue[:, 3])


def lse_reference(xi, x, beta):
    """(energy, one-step update) of math.md §5, Euclidean, float64."""
    xi, x = xi.astype(np.float64), x.astype(np.float64)
    logits = -beta / 2 * ((x[:, None, :] - xi[None, :, :]) ** 2).sum(-1)
    mx = logits.max(axis=1, keepdims=True)
    p = np.exp(logits - mx)
    lse = mx[:, 0] + np.log(p.sum(axis=1))
    p /= p.sum(axis=1, keepdims=True)
    return -lse / beta, p @ xi


def test_lse_energy_and_one_step_update_are_math_md():
    rng = np.random.default_rng(3)
    xi = rng.uniform(-1, 1, (20, 16)).astype(np.float32)
    x = (xi[:6] + rng.normal(0, 0.2, (6, 16))).astype(np.float32)
    mem = dam.Memory(xi, kind="lse", beta=4.0)
    energy, update = lse_reference(xi, x, 4.0)
    np.testing.assert_allclose(mem.energy(x), energy, rtol=1e-4, atol=1e-5)
    out = mem.recall(x)  # one step of size 1: x ← Σ softmax(ℓ)_μ ξ^μ
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, update, atol=2e-5)
    # A sharp memory retrieves the stored patterns from noisy queries.
    sharp = dam.Memory(xi, kind="lse", beta=60.0)
    np.testing.assert_allclose(sharp.recall(x, steps=3), xi[:6], atol=1e-3)


def test_inputs_of_any_numeric_dtype_and_layout():
    xi = bipolar_patterns(6, 24)
    mem = dam.Memory(xi.astype(np.int64), degree=3)
    q = flip(xi, 3)
    want = mem.recall(q)
    np.testing.assert_array_equal(mem.recall(q.astype(np.int8)), want)
    np.testing.assert_array_equal(mem.recall(q.astype(np.float64)), want)
    # A non-contiguous view (every other column of a wider array).
    wide = np.zeros((6, 48), dtype=np.float32)
    wide[:, ::2] = q
    np.testing.assert_array_equal(mem.recall(wide[:, ::2]), want)
    assert mem.recall(np.empty((0, 24))).shape == (0, 24)


BAD = [
    # (what, call, message pattern)
    ("NaN", lambda m: m.recall(np.full((2, 8), np.nan)), r"X: row 0, column 0: NaN is not finite"),
    (
        "inf in row 1",
        lambda m: m.energy(np.vstack([np.ones(8), [1, 1, 1, np.inf, 1, 1, 1, 1]])),
        r"X: row 1, column 3: inf is not finite",
    ),
    (
        "not bipolar",
        lambda m: m.recall(np.array([[1, -1, 1, 0.5, 1, 1, 1, 1]])),
        r"X: row 0, column 3: 0.5 is not bipolar",
    ),
    ("columns", lambda m: m.recall(np.ones((3, 5))), r"X: rows of 5 values, but the memory has dimension D = 8"),
    ("3-D", lambda m: m.recall(np.ones((2, 2, 8))), r"X: a 3-D array"),
    ("strings", lambda m: m.recall(np.array([["a"] * 8])), r"X: dtype <U1 is not a number type"),
    ("objects", lambda m: m.recall(np.array([[None] * 8])), r"X: dtype object is not a number type"),
    ("f64 past f32", lambda m: m.recall(np.full((1, 8), 1e300)), r"X: row 0, column 0: 1e\+300 is outside the float32 range"),
    ("known dtype", lambda m: m.recall(np.ones(8), known=np.ones(8)), r"known: dtype float64"),
    ("known shape", lambda m: m.recall(np.ones((3, 8)), known=np.ones((2, 8), bool)), r"known: shape \(2, 8\)"),
    ("order", lambda m: m.recall(np.ones(8), order="backwards"), r"order \"backwards\": expected 'sequential'"),
    ("sweeps", lambda m: m.recall(np.ones(8), max_sweeps=0), r"max_sweeps = 0"),
]


@pytest.mark.parametrize("what,call,message", BAD, ids=[b[0] for b in BAD])
def test_bad_queries_raise_value_error_naming_the_value(what, call, message):
    mem = dam.Memory(bipolar_patterns(3, 8), degree=3)
    with pytest.raises(ValueError, match=message):
        call(mem)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"patterns": np.ones((0, 4))}, r"patterns: shape \(0, 4\)"),
        ({"patterns": [[1.0, np.nan]]}, r"patterns: row 0, column 1: NaN is not finite"),
        ({"beta": 0.0}, r"beta = 0: must be finite and > 0"),
        ({"beta": float("nan")}, r"beta = NaN"),
        ({"degree": 0}, r"degree = 0: must be in 1..=65536"),
        ({"kind": "hopfield"}, r"kind \"hopfield\": expected 'bipolar' or 'lse'"),
        ({"interaction": "cubic"}, r"interaction \"cubic\""),
        ({"form": "scaled"}, r"form \"scaled\""),
        ({"kind": "lse", "similarity": "cosine"}, r"similarity \"cosine\""),
        ({"interaction": "leaky", "leak": -1.0}, r"leak = -1: must be finite and >= 0"),
    ],
)
def test_bad_settings_raise_value_error(kwargs, message):
    args = {"patterns": bipolar_patterns(3, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        dam.Memory(**args)


def test_raw_form_overflow_is_a_value_error():
    xi = bipolar_patterns(2, 800)
    mem = dam.Memory(xi, degree=14, form="raw")
    with pytest.raises(ValueError, match=r"X: row 0: Energy overflows"):
        mem.energy(xi)
    # The normalized form of the same memory does not overflow.
    assert np.isfinite(dam.Memory(xi, degree=14).energy(xi)).all()


def test_recall_releases_the_gil():
    xi = bipolar_patterns(400, 400)
    mem = dam.Memory(xi, degree=3)
    queries = flip(xi[:200], 150)  # about 1 s on 2 busy cores
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
        mem.recall(queries, max_sweeps=50)
    finally:
        done.set()
        t.join()
    elapsed = time.perf_counter() - start
    during = [s for s in ticks if s >= start]
    assert elapsed > 0.2, elapsed
    assert len(during) > elapsed / 0.05, (elapsed, len(during))


def test_help_reads_well():
    doc = dam.Memory.__doc__
    for word in ("patterns", "kind", "beta", "recall", "ValueError"):
        assert word in doc
    for method in (dam.Memory.recall, dam.Memory.energy, dam.DrDam.store, dam.DrDam.features):
        assert method.__doc__ and len(method.__doc__) > 40


# --- DrDam -------------------------------------------------------------

D, Y, BETA, SEED = 32, 512, 0.2, 0x0D1CEA5E1EA20001


def test_drdam_features_approximate_the_gaussian_kernel():
    rng = np.random.default_rng(0)
    m = dam.DrDam(dim=8, features=20000, beta=1.0, seed=7)
    x = rng.uniform(-0.5, 0.5, (6, 8)).astype(np.float32)
    phi = m.features(x)
    assert phi.shape == (6, 40000) and phi.dtype == np.float32
    # cos² + sin² = 1 feature by feature: φ(x)·φ(x) = 1.
    np.testing.assert_allclose((phi.astype(np.float64) ** 2).sum(1), 1.0, rtol=1e-5)
    kernel = np.exp(-0.5 * ((x[:, None] - x[None]) ** 2).sum(-1))
    # Monte Carlo over Y = 20 000 features: standard error below 1/√(2Y).
    np.testing.assert_allclose(phi @ phi.T, kernel, atol=0.03)
    np.testing.assert_array_equal(m.features(x[2]), phi[2])


def test_drdam_store_is_the_sum_of_features_and_forget_undoes_it():
    xi = bipolar_patterns(10, D)
    m = dam.DrDam(dim=D, features=Y, beta=BETA, seed=SEED)
    assert not m.T.any() and m.T.shape == (2 * Y,)
    m.store(xi)
    np.testing.assert_allclose(m.T, m.features(xi).sum(0), atol=1e-5)
    # Row by row is the same computation, bit for bit.
    one = dam.DrDam(dim=D, features=Y, beta=BETA, seed=SEED)
    for row in xi:
        one.store(row)
    np.testing.assert_array_equal(one.T.view(np.uint32), m.T.view(np.uint32))
    m.forget(xi[3:])
    np.testing.assert_allclose(m.T, m.features(xi[:3]).sum(0), atol=1e-5)
    # Another seed is another projection.
    other = dam.DrDam(dim=D, features=Y, beta=BETA, seed=SEED + 1).store(xi[:3])
    assert np.abs(other.T - m.T).max() > 0.1
    assert not m.clear().T.any()


def test_drdam_completes_and_ranks_energies():
    xi = bipolar_patterns(10, D)
    m = dam.DrDam(dim=D, features=Y, beta=BETA, seed=SEED).store(xi)
    cue = xi.copy()
    cue[:, D // 2 :] = 0
    known = np.zeros(D, dtype=bool)
    known[: D // 2] = True
    out = m.recall(cue, known)
    np.testing.assert_array_equal(out[:, : D // 2], cue[:, : D // 2])
    assert (np.sign(out) == xi).all(axis=1).mean() >= 0.8
    stored = m.energy(xi)
    other = m.energy(bipolar_patterns(10, D, seed=9))
    assert stored.max() < other.min(), (stored, other)


def test_drdam_errors_and_pickle():
    m = dam.DrDam(dim=4, features=16, beta=1.0, seed=2).store(np.ones((2, 4)))
    for call, message in [
        (lambda: m.store(np.ones((1, 5))), r"X: rows of 5 values, but the memory has dimension D = 4"),
        (lambda: m.recall([[0, 0, np.nan, 0]]), r"X: row 0, column 2: NaN is not finite"),
        (lambda: m.recall(np.ones(4), steps=0), r"steps = 0"),
        (lambda: dam.DrDam(dim=0, features=16, beta=1.0), r"dim = 0"),
        (lambda: dam.DrDam(dim=4, features=16, beta=-2.0), r"beta = -2"),
        (lambda: dam.DrDam(dim=4, features=16, beta=1.0, T=np.ones(5)), r"T: 5 values"),
        (lambda: dam.DrDam(dim=4, features=16, beta=1.0, seed=-1), r"seed = -1"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
    before = m.T
    with pytest.raises(ValueError, match=r"X: row 1, column 0: inf"):
        m.store([[1, 1, 1, 1], [np.inf, 0, 0, 0]])
    np.testing.assert_array_equal(m.T, before)  # nothing stored
    again = pickle.loads(pickle.dumps(m))
    assert again.get_params() == m.get_params()
    np.testing.assert_array_equal(again.T, m.T)


def test_stubs_declare_the_public_api():
    """dam/__init__.pyi names every public method and property of the
    classes, and nothing they lack."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(dam.__file__).parent / "__init__.pyi").read_text())
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        stubbed = {
            n.name for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
        }
        runtime = {n for n in vars(getattr(dam, cls.name)) if not n.startswith("_")}
        assert stubbed <= runtime, (cls.name, stubbed - runtime)
        assert runtime - {"get_params", "set_params"} <= stubbed | {"set_params", "get_params"}, (
            cls.name,
            runtime - stubbed,
        )


def test_docstring_examples_run():
    import doctest

    runner = doctest.DocTestRunner()
    for cls in (dam.Memory, dam.DrDam):
        for test in doctest.DocTestFinder().find(cls):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8 and result.failed == 0, result
