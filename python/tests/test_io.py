"""Memories saved and loaded as .safetensors and .npy: bit-for-bit round
trips, and files of the safetensors package (both ways)."""

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import dam


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype.itemsize == 4 else np.uint64)


@pytest.fixture
def memory():
    rng = np.random.default_rng(4)
    # Values that are not round in decimal: a lossy text path would show.
    xi = rng.standard_normal((9, 17)).astype(np.float32) / 3
    return dam.Memory(xi, kind="lse", beta=7.3, similarity="dot")


@pytest.fixture
def drdam():
    rng = np.random.default_rng(5)
    m = dam.DrDam(dim=12, features=300, beta=0.37, seed=2**63 + 11)
    return m.store(rng.uniform(-1, 1, (20, 12)))


def test_memory_safetensors_round_trip(memory, tmp_path):
    path = tmp_path / "m.safetensors"
    memory.save(path)
    again = dam.Memory.load(path)
    np.testing.assert_array_equal(bits(again.patterns), bits(memory.patterns))
    assert again.get_params() == memory.get_params()
    q = memory.patterns[:3] + 0.05
    np.testing.assert_array_equal(bits(again.recall(q)), bits(memory.recall(q)))
    # The safetensors package reads it: the same bits and the settings.
    np.testing.assert_array_equal(bits(load_file(str(path))["patterns"]), bits(memory.patterns))
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
    assert meta["kind"] == "lse" and float(meta["beta"]) == memory.beta


def test_memory_npy_round_trip(tmp_path):
    xi = np.sign(np.random.default_rng(1).standard_normal((4, 10))).astype(np.float32)
    mem = dam.Memory(xi, degree=5, beta=0.5)
    mem.save(tmp_path / "m.npy")
    np.testing.assert_array_equal(bits(np.load(tmp_path / "m.npy")), bits(xi))
    again = dam.Memory.load(tmp_path / "m.npy", degree=5, beta=0.5)
    np.testing.assert_array_equal(bits(again.patterns), bits(xi))
    assert again.get_params() == mem.get_params()


def test_drdam_round_trips(drdam, tmp_path):
    drdam.save(tmp_path / "d.safetensors")
    again = dam.DrDam.load(tmp_path / "d.safetensors")
    assert again.get_params() == drdam.get_params()
    assert again.seed == 2**63 + 11
    np.testing.assert_array_equal(bits(again.T), bits(drdam.T))
    q = np.linspace(-1, 1, 12)
    assert again.energy(q) == drdam.energy(q)
    drdam.save(tmp_path / "t.npy")
    again = dam.DrDam.load(tmp_path / "t.npy", dim=12, beta=0.37, seed=2**63 + 11)
    assert again.get_params() == drdam.get_params()
    np.testing.assert_array_equal(bits(again.T), bits(drdam.T))
    with pytest.raises(ValueError, match=r"no dim or beta in the file: pass dim=..., beta=..."):
        dam.DrDam.load(tmp_path / "t.npy")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
def test_files_of_the_safetensors_package_load(tmp_path, dtype):
    xi = np.sign(np.random.default_rng(2).standard_normal((6, 20))).astype(dtype)
    path = tmp_path / "patterns.safetensors"
    save_file({"memories": xi}, str(path))  # another name, no metadata
    mem = dam.Memory.load(path, kind="bipolar", degree=3)
    np.testing.assert_array_equal(mem.patterns, xi.astype(np.float32))
    np.testing.assert_array_equal(mem.recall(xi), xi)
    # With metadata of dam's keys, the settings come from the file.
    save_file({"patterns": xi}, str(path), metadata={"kind": "bipolar", "degree": "7"})
    assert dam.Memory.load(path).degree == 7


def test_drdam_T_from_the_safetensors_package(drdam, tmp_path):
    path = tmp_path / "T.safetensors"
    save_file({"T": drdam.T}, str(path), metadata={"dim": "12", "beta": "0.37", "seed": str(drdam.seed)})
    again = dam.DrDam.load(path)
    np.testing.assert_array_equal(bits(again.T), bits(drdam.T))
    assert again.get_params() == drdam.get_params()


def test_bad_files_raise_value_error(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    with pytest.raises(ValueError, match=r"junk.safetensors: not a usable safetensors file"):
        dam.Memory.load(junk)
    with pytest.raises(ValueError, match=r"cannot read"):
        dam.Memory.load(tmp_path / "missing.safetensors")
    two = tmp_path / "two.safetensors"
    save_file({"a": np.ones((2, 2), np.float32), "b": np.ones((2, 2), np.float32)}, str(two))
    with pytest.raises(ValueError, match=r"no tensor 'patterns' \(tensors: a, b\)"):
        dam.Memory.load(two)
    half = tmp_path / "half.safetensors"
    save_file({"patterns": np.ones((2, 2), np.float16)}, str(half))
    with pytest.raises(ValueError, match=r"tensor \"patterns\": dtype F16 is not supported"):
        dam.Memory.load(half)
    meta = tmp_path / "meta.safetensors"
    save_file({"patterns": np.ones((2, 2), np.float32)}, str(meta), metadata={"degree": "three"})
    with pytest.raises(ValueError, match=r"metadata degree = 'three' is not an integer"):
        dam.Memory.load(meta)
    with pytest.raises(ValueError, match=r"expected a name ending in .safetensors or .npy"):
        dam.Memory(np.ones((2, 2))).save(tmp_path / "m.pt")
