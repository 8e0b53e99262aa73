//! Helpers shared by the tests that drive the `dam` binary.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;
use std::process::{Command, Output};

use dam_std::data::idx::{IdxArray, to_bytes};
use dam_std::data::npy::{Elements, NpyArray};

/// Runs `dam` with `args`.
pub fn dam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dam"))
        .args(args)
        .output()
        .expect("run dam")
}

/// Fails with one line on stderr containing every `needle`, no panic.
pub fn fails_with(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
}

/// A path as `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small MNIST-like directory: `n` train and `n` test images of 2×2.
pub fn mini_mnist(dir: &Path, n: usize, labels_n: usize) {
    for prefix in ["train", "t10k"] {
        let images = IdxArray {
            dims: vec![n, 2, 2],
            data: (0..n * 4).map(|i| (i * 37 % 256) as u8).collect(),
        };
        let labels = IdxArray {
            dims: vec![labels_n],
            data: (0..labels_n).map(|i| (i % 10) as u8).collect(),
        };
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            to_bytes(&images),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            to_bytes(&labels),
        )
        .unwrap();
    }
}

/// Writes an f32 `.npy` array.
pub fn npy(path: &Path, shape: &[usize], v: Vec<f32>) {
    NpyArray {
        shape: shape.to_vec(),
        data: Elements::F32(v),
    }
    .write(path)
    .unwrap();
}
