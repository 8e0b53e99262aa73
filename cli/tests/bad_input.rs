//! Every row of the bad-input table in docs/robustness.md: the `dam`
//! program on hostile, truncated, corrupted and absurd input. Each case
//! checks the exit code (1), a one-line message naming the file (and where
//! there is one, the offset or value), that nothing panicked, that no output
//! was written and that an earlier model is byte for byte unchanged.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{GOOD_CSV, dam, fails_with, listing, long_run, mini_mnist, npy, s, start_training};
use dam_core::model::{HEADER_LEN, Model, crc32};
use dam_std::data::npy::{Elements, NpyArray};

/// A valid 2 × 4 memory model at `path`, via `dam import`.
fn import_model(dir: &Path, path: &Path) -> Vec<u8> {
    let mem = dir.join("good.npy");
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    let out = dam(&["import", s(&mem), "--out", s(path)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

/// Rewrites the length field and CRC so only the deliberate edit is wrong.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len();
    bytes[48..56].copy_from_slice(&(n as u64).to_le_bytes());
    let crc = crc32(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

/// A version 1.0 `.npy` file with this header text and data.
fn raw_npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

/// A temporary directory holding a valid 2 × 4 `m.npy` and 1 × 4 `q.npy`
/// (tests overwrite either).
fn memories_and_query() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    (dir, mem, q)
}

/// `dam train` for one epoch on `data` into `out`, with `extra` options.
fn train_once(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["train", "--data", s(data), "--out", s(out), "--epochs", "1"];
    args.extend_from_slice(extra);
    dam(&args)
}

#[test]
fn truncated_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dam");
    let good = import_model(dir.path(), &model);
    for cut in [0, 7, 10, 50, HEADER_LEN, good.len() - 1] {
        std::fs::write(&model, &good[..cut]).unwrap();
        fails_with(&dam(&["info", s(&model)]), &["m.dam"]);
    }
    std::fs::write(&model, &good[..50]).unwrap();
    fails_with(&dam(&["info", s(&model)]), &["m.dam", "truncated"]);
}

#[test]
fn corrupted_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dam");
    let good = import_model(dir.path(), &model);
    // Every single-byte change is refused (by magic, version, length or CRC).
    for i in (0..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        std::fs::write(&model, &bad).unwrap();
        fails_with(&dam(&["info", s(&model)]), &["m.dam"]);
    }
}

#[test]
fn hostile_model_files_with_a_valid_crc() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dam");
    let q = dir.path().join("q.npy");
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    let good = import_model(dir.path(), &model);

    // K = 2^32 − 1 memories announced in a 128-byte file.
    let mut bad = good.clone();
    bad[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    reseal(&mut bad);
    std::fs::write(&model, &bad).unwrap();
    fails_with(&dam(&["info", s(&model)]), &["m.dam", "4294967295"]);

    // Unknown interaction code, and a NaN β.
    let mut bad = good.clone();
    bad[12] = 77;
    reseal(&mut bad);
    std::fs::write(&model, &bad).unwrap();
    fails_with(&dam(&["info", s(&model)]), &["m.dam"]);
    let mut bad = good.clone();
    bad[32..40].copy_from_slice(&f64::NAN.to_le_bytes());
    reseal(&mut bad);
    std::fs::write(&model, &bad).unwrap();
    fails_with(&dam(&["info", s(&model)]), &["m.dam"]);

    // A NaN memory entry: the header is fine, viewing the memories is not.
    let mut bad = good.clone();
    let aligned = dam_std::model_io::AlignedBytes::new(&good);
    let off = Model::parse(aligned.as_bytes())
        .unwrap()
        .header()
        .data_offset();
    bad[off..off + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    reseal(&mut bad);
    std::fs::write(&model, &bad).unwrap();
    fails_with(
        &dam(&["energy", "--model", s(&model), "--queries", s(&q)]),
        &["m.dam", "non-finite"],
    );
}

#[test]
fn hostile_npy_headers_fail_at_once() {
    let (_dir, mem, q) = memories_and_query();
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    let base = ["energy", "--memories", s(&mem), "--queries", s(&q)];
    let start = Instant::now();
    // 40 nested brackets: hours in npyz's parser before the fix.
    std::fs::write(&q, raw_npy(&"[".repeat(40), &[])).unwrap();
    fails_with(&dam(&base), &["q.npy", "nest deeper than 4", "offset 14"]);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );

    // A version 2 header announcing 4 GiB.
    let mut v = b"\x93NUMPY\x02\x00".to_vec();
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&q, v).unwrap();
    fails_with(&dam(&base), &["q.npy", "header length 4294967295"]);

    // A shape of 10^12 × 10^12 floats over 16 bytes of data.
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }";
    std::fs::write(&q, raw_npy(h, &[0; 16])).unwrap();
    fails_with(&dam(&base), &["q.npy", "too large"]);
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 4), }";
    std::fs::write(&q, raw_npy(h, &[0; 16])).unwrap();
    fails_with(&dam(&base), &["q.npy", "truncated", "16 bytes"]);

    // Fortran order, an unsupported dtype, bad magic.
    let h = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4), }";
    std::fs::write(&q, raw_npy(h, &[0; 16])).unwrap();
    fails_with(&dam(&base), &["q.npy", "Fortran"]);
    let h = "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 4), }";
    std::fs::write(&q, raw_npy(h, &[0; 32])).unwrap();
    fails_with(&dam(&base), &["q.npy", "unsupported dtype"]);
    std::fs::write(&q, b"\x93NUMPX\x01\x00").unwrap();
    fails_with(&dam(&base), &["q.npy", "magic"]);
}

#[test]
fn hostile_idx_files_leave_no_model() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    let images = dir.path().join("train-images-idx3-ubyte");

    // A gzip bomb: 10 MB of zeros behind a header announcing 20 × 2 × 2.
    let mut bomb = vec![0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 2];
    bomb.resize(10_000_000, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bomb).unwrap();
    std::fs::write(&images, gz.finish().unwrap()).unwrap();
    fails_with(
        &train_once(dir.path(), &out, &[]),
        &["train-images", "too long", "need 80"],
    );

    // Dimensions whose product overflows, and 2^31 × 2^31 over 4 bytes.
    std::fs::write(
        &images,
        [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ],
    )
    .unwrap();
    fails_with(
        &train_once(dir.path(), &out, &[]),
        &["train-images", "overflows", "offset 12"],
    );
    std::fs::write(
        &images,
        [0, 0, 8, 2, 128, 0, 0, 0, 128, 0, 0, 0, 1, 2, 3, 4],
    )
    .unwrap();
    fails_with(
        &train_once(dir.path(), &out, &[]),
        &["train-images", "truncated", "offset 12"],
    );
    assert!(!out.exists());
}

#[test]
fn nan_and_inf_data() {
    let (dir, mem, q) = memories_and_query();
    npy(
        &mem,
        &[2, 4],
        vec![1., 1., -1., -1., -1., 1., -1., f32::INFINITY],
    );
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    fails_with(
        &dam(&["energy", "--memories", s(&mem), "--queries", s(&q)]),
        &["m.npy", "non-finite", "row 1, column 3"],
    );
    let model = dir.path().join("m.dam");
    fails_with(
        &dam(&["import", s(&mem), "--out", s(&model)]),
        &["m.npy", "inf"],
    );
    assert!(!model.exists());
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[1, 4], vec![1., f32::NEG_INFINITY, 1., -1.]);
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--family",
            "lse",
            "--out",
            s(&dir.path().join("r.npy")),
        ]),
        &["q.npy", "non-finite", "row 0, column 1"],
    );
}

#[test]
fn absurd_parameters() {
    let (dir, mem, q) = memories_and_query();
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    let energy = |extra: &[&str]| {
        let mut a = vec!["energy", "--memories", s(&mem), "--queries", s(&q)];
        a.extend_from_slice(extra);
        dam(&a)
    };
    fails_with(&energy(&["-n", "0"]), &["Degree = 0"]);
    fails_with(&energy(&["-n", "4000000000"]), &["Degree = 4000000000"]);
    fails_with(&energy(&["--beta", "NaN"]), &["Beta = NaN"]);
    fails_with(&energy(&["--beta=-1"]), &["Beta = -1"]);
    fails_with(&energy(&["--beta", "inf"]), &["Beta = inf"]);
    // clap refuses what does not parse (exit 2, usage on stderr).
    let out = energy(&["-n", "-3"]);
    assert_eq!(out.status.code(), Some(2));

    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    let train = |extra: &[&str]| train_once(dir.path(), &out, extra);
    fails_with(&train(&["-k", "0"]), &["K"]);
    fails_with(&train(&["--batch", "0"]), &["minibatch"]);
    fails_with(&train(&["--temperature", "0"]), &["temperature"]);
    fails_with(&train(&["--temperature", "NaN"]), &["temperature"]);
    fails_with(&train(&["--normalized", "inf"]), &["beta"]);
    fails_with(&train(&["--eps0=-1"]), &["eps0"]);
    fails_with(&train(&["--momentum", "1"]), &["momentum"]);
    // Options of the other model kind are refused, not ignored.
    fails_with(
        &train(&["--kind", "potts", "-n", "3"]),
        &["-n is for the KH16 classifier"],
    );
    fails_with(
        &train(&["--kind", "kh16", "--grow", "--constraint", "sphere"]),
        &["--grow, --constraint are for Potts hidden units"],
    );
    fails_with(
        &train(&["--patience", "3", "--latent", "4"]),
        &["--patience is for the KH16 classifier and --latent is for Potts"],
    );
    assert!(!out.exists());
}

#[test]
fn zero_sized_shapes() {
    let (dir, mem, q) = memories_and_query();
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    for shape in [[0, 4], [2, 0]] {
        npy(&mem, &shape, vec![]);
        fails_with(
            &dam(&["energy", "--memories", s(&mem), "--queries", s(&q)]),
            &["m.npy", "empty"],
        );
        let model = dir.path().join("m.dam");
        fails_with(
            &dam(&["import", s(&mem), "--out", s(&model)]),
            &["m.npy", "empty"],
        );
        assert!(!model.exists());
    }
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[0, 4], vec![]);
    fails_with(
        &dam(&["energy", "--memories", s(&mem), "--queries", s(&q)]),
        &["q.npy", "empty"],
    );
    // An IDX dataset with zero images.
    mini_mnist(dir.path(), 0, 0);
    let out = dir.path().join("out");
    fails_with(
        &train_once(dir.path(), &out, &[]),
        &["train-images", "no rows"],
    );
    assert!(!out.join("model.dam").exists());
}

#[test]
fn failed_writes_keep_the_earlier_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dam");
    let good = import_model(dir.path(), &model);
    let before = listing(dir.path());
    // Bad input for the same output path: refused before writing.
    let bad = dir.path().join("bad.npy");
    npy(
        &bad,
        &[2, 4],
        vec![1., f32::NAN, -1., -1., -1., 1., -1., 1.],
    );
    fails_with(&dam(&["import", s(&bad), "--out", s(&model)]), &["bad.npy"]);
    assert_eq!(std::fs::read(&model).unwrap(), good);
    // The output is a directory: the write fails, nothing stray is left.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let mem = dir.path().join("good.npy");
    fails_with(
        &dam(&["import", s(&mem), "--out", s(&sub)]),
        &["cannot write", "sub"],
    );
    assert!(listing(&sub).is_empty());
    let mut after = listing(dir.path());
    after.retain(|n| n != "bad.npy" && n != "sub");
    assert_eq!(after, before);
}

/// The checkpoint is whole: resuming it for one more epoch writes a model
/// that `dam info` and the reader accept; no temporary file is left.
fn checkpoint_is_whole(data: &Path, out: &Path) {
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let epochs = metrics.lines().count(); // the header + one row per epoch
    let next = epochs.to_string();
    let mut args = long_run(data, out, &next);
    args.push("--resume");
    let resumed = dam(&args);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let info = dam(&["info", s(&out.join("model.dam"))]);
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let bytes = std::fs::read(out.join("model.dam")).unwrap();
    let aligned = dam_std::model_io::AlignedBytes::new(&bytes);
    assert!(Model::parse(aligned.as_bytes()).is_ok());
    std::fs::remove_file(out.join("model.dam")).unwrap();
}

/// Sends `sig` (`-INT`, `-KILL`) to `child`.
fn signal(child: &std::process::Child, sig: &str) {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args([sig, &pid]).status().unwrap();
    assert!(sent.success());
}

#[test]
fn interrupted_training_keeps_a_whole_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");

    // Ctrl-C: the run stops at a minibatch boundary, says so, exits 128 + 2.
    let child = start_training(dir.path(), &out);
    signal(&child, "-INT");
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.contains("--resume"),
        "{err}"
    );
    // The model is written only when a run ends: none yet.
    assert_eq!(listing(&out), ["checkpoint.bin", "metrics.csv"]);
    checkpoint_is_whole(dir.path(), &out);

    // SIGKILL, which nothing can catch: the model on disk is still whole
    // (every write is a rename of a complete temporary file).
    let child = start_training(dir.path(), &out);
    signal(&child, "-KILL");
    let _ = child.wait_with_output().unwrap();
    checkpoint_is_whole(dir.path(), &out);
}

// Bad datasets for `dam train`: a one-line error naming the file and the
// row, column or value, and no output directory afterwards.

/// The options of every refused run: tiny and fast.
const TINY: [&str; 6] = ["--epochs", "1", "-k", "4", "--threads", "1"];

/// `dam train --data data` with `extra` options into `dir/out`: refused
/// with every needle, and `out` is never created.
fn train_refused(dir: &Path, data: &Path, extra: &[&str], needles: &[&str]) {
    let out = dir.join("out");
    let mut args = vec!["train", "--data", s(data), "--out", s(&out)];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    fails_with(&dam(&args), needles);
    assert!(!out.exists(), "{} was created", out.display());
}

/// Writes `text` to `dir/name` and returns the path.
fn text_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Two features, classes 0 and 1, four rows of each (header `a,b,label`).
#[test]
fn ragged_csv_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = text_file(
        dir.path(),
        "ragged.csv",
        "a,b,label\n1,2,0\n3,4,1\n5,1\n6,7,1\n",
    );
    train_refused(
        dir.path(),
        &csv,
        &[],
        &["ragged.csv", "line 4", "2 fields", "expected 3"],
    );
}

#[test]
fn non_numeric_csv_value_names_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let csv = text_file(
        dir.path(),
        "words.csv",
        "a,b,label\n1,2,0\n3,abc,1\n5,6,0\n",
    );
    train_refused(
        dir.path(),
        &csv,
        &[],
        &[
            "words.csv",
            "line 3",
            "row 1",
            "column 1 (\"b\")",
            "\"abc\" is not a number",
        ],
    );
}

#[test]
fn nan_and_inf_features_name_the_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = text_file(dir.path(), "nan.csv", "a,b,label\n1,2,0\n3,nan,1\n5,6,0\n");
    train_refused(
        dir.path(),
        &csv,
        &[],
        &[
            "nan.csv",
            "line 3",
            "row 1",
            "column 1 (\"b\")",
            "non-finite",
            "nan",
        ],
    );
    let csv = text_file(dir.path(), "inf.csv", "a,b,label\n1,2,0\n3,4,1\ninf,6,0\n");
    train_refused(
        dir.path(),
        &csv,
        &[],
        &[
            "inf.csv",
            "line 4",
            "row 2",
            "column 0 (\"a\")",
            "non-finite",
            "inf",
        ],
    );
    let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    npy(&x, &[3, 2], vec![1., 2., 3., 4., 5., f32::NAN]);
    npy(&y, &[3], vec![0., 1., 0.]);
    train_refused(
        dir.path(),
        &x,
        &["--labels", s(&y)],
        &["x.npy", "non-finite", "NaN", "row 2, column 1"],
    );
}

#[test]
fn one_class_only_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = text_file(dir.path(), "one.csv", "a,b,label\n1,2,7\n3,4,7\n5,6,7\n");
    train_refused(dir.path(), &csv, &[], &["one.csv", "one class only (7)"]);
    let csv = text_file(dir.path(), "cats.csv", "a,b,pet\n1,2,cat\n3,4,cat\n");
    train_refused(dir.path(), &csv, &[], &["cats.csv", "one class only (cat)"]);
}

#[test]
fn test_label_missing_from_training_names_row_and_label() {
    let dir = tempfile::tempdir().unwrap();
    let train = text_file(dir.path(), "train.csv", GOOD_CSV);
    let test = text_file(dir.path(), "test.csv", "a,b,label\n1,2,0\n3,4,5\n");
    train_refused(
        dir.path(),
        &train,
        &["--test-data", s(&test)],
        &[
            "test.csv",
            "row 1",
            "label 5",
            "not a class of the training split",
        ],
    );
}

#[test]
fn labels_beyond_i32_name_the_value_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    npy(&x, &[3, 2], vec![1., 2., 3., 4., 5., 6.]);
    NpyArray {
        shape: vec![3],
        data: Elements::I64(vec![0, 3_000_000_000, 1]),
    }
    .write(&y)
    .unwrap();
    train_refused(
        dir.path(),
        &x,
        &["--labels", s(&y)],
        &["y.npy", "label 3000000000", "row 1", "i32 range"],
    );
}

#[test]
fn features_and_labels_of_different_lengths_name_both_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    npy(&x, &[4, 2], vec![1., 2., 3., 4., 5., 6., 7., 8.]);
    npy(&y, &[3], vec![0., 1., 0.]);
    train_refused(
        dir.path(),
        &x,
        &["--labels", s(&y)],
        &["x.npy", "4 rows", "y.npy", "3 labels"],
    );
}

#[test]
fn train_and_test_of_different_widths_name_both() {
    let dir = tempfile::tempdir().unwrap();
    let train = text_file(dir.path(), "train.csv", GOOD_CSV);
    let test = text_file(dir.path(), "wide.csv", "a,b,c,label\n1,2,3,0\n3,4,5,1\n");
    train_refused(
        dir.path(),
        &train,
        &["--test-data", s(&test)],
        &["wide.csv", "3 feature columns", "train.csv", "has 2"],
    );
}

#[test]
fn image_shape_that_does_not_divide_the_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let row = |l: u8| format!("1,2,3,4,5,6,7,8,{l}\n");
    let text: String = (0..8).map(|i| row(i % 2)).collect();
    let csv = text_file(dir.path(), "d8.csv", &text);
    train_refused(
        dir.path(),
        &csv,
        &["--image-shape", "3x3"],
        &["d8.csv", "3×3", "8 features"],
    );
}

#[test]
fn empty_splits_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A header and no rows.
    let csv = text_file(dir.path(), "empty.csv", "a,b,label\n");
    train_refused(dir.path(), &csv, &[], &["empty.csv", "no rows"]);
    // Nothing at all.
    let csv = text_file(dir.path(), "blank.csv", "");
    train_refused(dir.path(), &csv, &[], &["blank.csv", "no rows"]);
    // Two rows per class: 1% of them rounds to no test row.
    let csv = text_file(
        dir.path(),
        "two.csv",
        "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n",
    );
    train_refused(
        dir.path(),
        &csv,
        &["--test-fraction", "0.01"],
        &["two.csv", "test split is empty", "--test-fraction"],
    );
    // An explicit test file that is empty.
    let train = text_file(dir.path(), "train.csv", GOOD_CSV);
    let test = text_file(dir.path(), "test.csv", "a,b,label\n");
    train_refused(
        dir.path(),
        &train,
        &["--test-data", s(&test)],
        &["test.csv", "no rows"],
    );
}

#[test]
fn refused_dataset_keeps_the_earlier_model() {
    let dir = tempfile::tempdir().unwrap();
    let good = text_file(dir.path(), "good.csv", GOOD_CSV);
    let out = dir.path().join("out");
    let mut args = vec!["train", "--data", s(&good), "--out", s(&out), "--quiet"];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(&["--val-fraction", "0", "--test-fraction", "0.25"]);
    let run = dam(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let model = std::fs::read(out.join("model.dam")).unwrap();
    let before = listing(&out);
    let bad = text_file(dir.path(), "bad.csv", "a,b,label\n1,2,0\n3,abc,1\n");
    args[2] = s(&bad);
    fails_with(&dam(&args), &["bad.csv", "line 3", "\"abc\""]);
    assert_eq!(std::fs::read(out.join("model.dam")).unwrap(), model);
    assert_eq!(listing(&out), before);
}

/// A run that diverges (a temperature so small that `F` overflows, a huge
/// normalized β) exits 1, names the epoch and what diverged, and leaves the
/// earlier model byte-identical.
#[test]
fn a_diverging_run_keeps_the_earlier_model() {
    let dir = tempfile::tempdir().unwrap();
    let good = text_file(dir.path(), "good.csv", GOOD_CSV);
    let out = dir.path().join("out");
    let mut args = vec!["train", "--data", s(&good), "--out", s(&out), "--quiet"];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(&["--val-fraction", "0", "--test-fraction", "0.25"]);
    let run = dam(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let model = std::fs::read(out.join("model.dam")).unwrap();
    for extra in [
        ["--temperature", "1e-30", "-n", "20"],
        ["--normalized", "1e30", "-n", "20"],
    ] {
        let mut diverging = args.clone();
        diverging.extend_from_slice(&extra);
        fails_with(
            &dam(&diverging),
            &["diverged at epoch 1", "loss is NaN", "left as it was"],
        );
        assert_eq!(std::fs::read(out.join("model.dam")).unwrap(), model);
    }
}

#[test]
fn eval_does_not_read_the_training_data() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("trained");
    let trained = train_once(dir.path(), &out, &["-k", "4", "--threads", "1", "--quiet"]);
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte"),
        b"garbage, not an IDX file",
    )
    .unwrap();
    // The training data are now unreadable to `dam train`…
    train_refused(dir.path(), dir.path(), &[], &["train-images"]);
    // …but `dam eval` reads only the test files.
    let model = out.join("model.dam");
    let e = dam(&["eval", s(&model), "--data", s(dir.path())]);
    let stderr = String::from_utf8_lossy(&e.stderr);
    assert!(e.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&e.stdout).contains("test accuracy:"),
        "{stderr}"
    );
}

/// The pattern-completion options of `dam recall` and the inputs of
/// `dam scores`, each given a bad value: exit 1, a message naming the
/// option or file, and no output.
#[test]
fn completion_and_scores_options() {
    let (dir, mem, q) = memories_and_query();
    let out = dir.path().join("out.npy");
    let mask = dir.path().join("mask.npy");
    npy(&mask, &[3], vec![1.0; 3]);
    let png = dir.path().join("p.png");
    let bad_mask = dir.path().join("nan-mask.npy");
    npy(&bad_mask, &[4], vec![1.0, f32::NAN, 0.0, 1.0]);
    let recall = |extra: &[&str]| {
        let mut args = vec!["--out", s(&out)];
        args.extend_from_slice(extra);
        common::recall(&mem, &q, &args)
    };
    let cases: [(&[&str], &[&str]); 11] = [
        (&["--mask", s(&mask)], &["mask.npy", "3 entries"]),
        (
            &["--mask", s(&bad_mask)],
            &["nan-mask.npy", "entry 1", "NaN"],
        ),
        (
            &["--occlude", "random:1.5"],
            &["--occlude random:1.5", "0 to 1"],
        ),
        (
            &["--occlude", "diagonal"],
            &["--occlude diagonal", "bottom-half"],
        ),
        (
            &["--occlude", "bottom-half", "--mask", s(&mask)],
            &["--mask", "--occlude"],
        ),
        (&["--noise", "2"], &["--noise 2"]),
        (
            &["--occlude", "box:1,1,2,2"],
            &["--occlude box:1,1,2,2", "inside the 2×2 image"],
        ),
        (
            &["--occlude", "box:0,0,x,1"],
            &["--occlude box:0,0,x,1", "four whole numbers"],
        ),
        (
            &["--family", "lse", "--order", "random"],
            &["--order applies to the bipolar memory"],
        ),
        (&["--noise=-0.5", "--png", s(&png)], &["--noise -0.5"]),
        (&["--report", s(&out)], &["out.npy"]),
    ];
    for (extra, needles) in cases {
        let run = recall(extra);
        assert_ne!(run.status.code(), Some(0), "{extra:?} succeeded");
        let err = String::from_utf8_lossy(&run.stderr);
        for n in needles {
            assert!(err.contains(n), "{extra:?}: {err:?} lacks {n:?}");
        }
        assert!(!out.exists(), "{extra:?} wrote its output");
    }
    let model = dir.path().join("m.dam");
    import_model(dir.path(), &model);
    fails_with(
        &dam(&[
            "scores",
            "--model",
            s(&model),
            "--inputs",
            s(&q),
            "--out",
            s(&out),
        ]),
        &["m.dam", "Memory", "Classifier"],
    );
    fails_with(
        &dam(&[
            "scores",
            "--model",
            s(&dir.path().join("absent.dam")),
            "--inputs",
            s(&q),
            "--out",
            s(&out),
        ]),
        &["absent.dam"],
    );
    assert!(!out.exists());
}
