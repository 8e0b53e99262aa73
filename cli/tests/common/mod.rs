//! Helpers shared by the tests that drive the `dam` binary.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Succeeded; on failure, shows what it printed on stderr.
pub fn succeeds(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `dam recall --memories mem --queries queries` with `extra`.
pub fn recall(mem: &Path, queries: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["recall", "--memories", s(mem), "--queries", s(queries)];
    args.extend_from_slice(extra);
    dam(&args)
}

/// A path as `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small MNIST-like directory: `n` train and `n` test images of 2×2.
pub fn mini_mnist(dir: &Path, n: usize, labels_n: usize) {
    for prefix in ["train", "t10k"] {
        let pixels = (0..n * 4).map(|i| (i * 37 % 256) as u8).collect();
        let labels = (0..labels_n).map(|i| (i % 10) as u8).collect();
        idx_pair(dir, prefix, vec![n, 2, 2], pixels, labels);
    }
}

/// Writes `PREFIX-images-idx3-ubyte` (bytes of shape `dims`) and
/// `PREFIX-labels-idx1-ubyte` into `dir`.
pub fn idx_pair(dir: &Path, prefix: &str, dims: Vec<usize>, pixels: Vec<u8>, labels: Vec<u8>) {
    let images = IdxArray { dims, data: pixels };
    let labels = IdxArray {
        dims: vec![labels.len()],
        data: labels,
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

/// Writes an f32 `.npy` array.
pub fn npy(path: &Path, shape: &[usize], v: Vec<f32>) {
    NpyArray {
        shape: shape.to_vec(),
        data: Elements::F32(v),
    }
    .write(path)
    .unwrap();
}

/// A small labelled CSV (2 features, 2 classes, 8 rows).
pub const GOOD_CSV: &str = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n2,1,0\n4,3,1\n6,5,0\n8,7,1\n";

/// The options of a long training run (`-n` given: no choice of the
/// degree before the first epoch); `--epochs` is the 8th entry.
pub const LONG_RUN: [&str; 10] = [
    "-n",
    "3",
    "-k",
    "4",
    "--batch",
    "5",
    "--epochs",
    "1000000",
    "--threads",
    "1",
];

/// The arguments of `dam train` on `data` into `out` with [`LONG_RUN`]'s
/// options and `epochs` epochs.
pub fn long_run<'a>(data: &'a Path, out: &'a Path, epochs: &'a str) -> Vec<&'a str> {
    let mut args = vec!["train", "--data", s(data), "--out", s(out), "--quiet"];
    args.extend(LONG_RUN);
    if let Some(e) = args.iter_mut().find(|a| **a == "1000000") {
        *e = epochs;
    }
    args
}

/// Starts a [`LONG_RUN`] `dam train` of a million epochs (stderr piped) and
/// waits until its first checkpoint is on disk.
pub fn start_training(data: &Path, out: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_dam"))
        .args(long_run(data, out, "1000000"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !out.join("checkpoint.bin").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child
}

/// Names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
