//! Every dataset format read by `data::source`: round trips on small
//! synthetic data, one test per validation error checking that the
//! message names the file and the row, column or value, and `load_rows`
//! (only the chosen rows kept) against the whole table.

use std::io::Write;
use std::path::{Path, PathBuf};

use dam_std::data::idx::{self, IdxAny, IdxType};
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::data::source::{SourceSpec, load, load_rows, load_test, load_train};
use dam_std::data::table::{Labels, Table, check_same_width};

/// Six feature values (2 rows × 3 columns) in every npy dtype, with the
/// `f32` values they must read as.
fn npy_dtypes() -> Vec<(Elements, Vec<f32>)> {
    vec![
        (
            Elements::U8(vec![0, 1, 2, 128, 254, 255]),
            vec![0.0, 1.0, 2.0, 128.0, 254.0, 255.0],
        ),
        (
            Elements::I8(vec![-128, -1, 0, 1, 2, 127]),
            vec![-128.0, -1.0, 0.0, 1.0, 2.0, 127.0],
        ),
        (
            Elements::I16(vec![-32768, -300, 0, 1, 300, 32767]),
            vec![-32768.0, -300.0, 0.0, 1.0, 300.0, 32767.0],
        ),
        (
            Elements::U16(vec![0, 1, 2, 300, 40000, 65535]),
            vec![0.0, 1.0, 2.0, 300.0, 40000.0, 65535.0],
        ),
        (
            Elements::I32(vec![-70000, -1, 0, 1, 2, 70000]),
            vec![-70000.0, -1.0, 0.0, 1.0, 2.0, 70000.0],
        ),
        (
            Elements::U32(vec![0, 1, 2, 3, 4, 1 << 20]),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 1048576.0],
        ),
        (
            Elements::I64(vec![-5, -1, 0, 1, 2, 1 << 40]),
            vec![-5.0, -1.0, 0.0, 1.0, 2.0, 1099511627776.0],
        ),
        (
            Elements::U64(vec![0, 1, 2, 3, 4, 5]),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        ),
        (
            Elements::F32(vec![0.5, -1.25, 3.0, 1e-30, 1e30, 0.0]),
            vec![0.5, -1.25, 3.0, 1e-30, 1e30, 0.0],
        ),
        (
            Elements::F64(vec![0.5, -1.25, 3.0, 1e-3, 1e6, 0.0]),
            vec![0.5, -1.25, 3.0, 1e-3, 1e6, 0.0],
        ),
        (
            Elements::Bool(vec![true, false, false, true, true, false]),
            vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
        ),
    ]
}

/// Label arrays of 2 entries in every integer dtype (and integral floats).
fn label_dtypes() -> Vec<(Elements, Vec<i64>)> {
    vec![
        (Elements::U8(vec![0, 255]), vec![0, 255]),
        (Elements::I8(vec![-3, 7]), vec![-3, 7]),
        (Elements::I16(vec![-300, 300]), vec![-300, 300]),
        (Elements::U16(vec![65535, 1]), vec![65535, 1]),
        (
            Elements::I32(vec![i32::MIN + 1, i32::MAX]),
            vec![-2147483647, 2147483647],
        ),
        (Elements::U32(vec![0, 2147483647]), vec![0, 2147483647]),
        (Elements::I64(vec![-1, 1 << 30]), vec![-1, 1 << 30]),
        (Elements::U64(vec![9, 10]), vec![9, 10]),
        (Elements::F32(vec![4.0, -2.0]), vec![4, -2]),
        (Elements::F64(vec![1e9, 0.0]), vec![1_000_000_000, 0]),
    ]
}

fn write_npy(dir: &Path, name: &str, shape: Vec<usize>, data: Elements) -> PathBuf {
    let path = dir.join(name);
    NpyArray { shape, data }.write(&path).unwrap();
    path
}

fn npy_spec(x: PathBuf, y: PathBuf) -> SourceSpec {
    SourceSpec {
        labels: Some(y),
        ..SourceSpec::new(x)
    }
}

/// The error chain of a load, as one string.
fn load_err(spec: &SourceSpec) -> String {
    format!("{:#}", load(spec).unwrap_err())
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{p:?} missing from: {msg}");
    }
}

#[test]
fn npy_pairs_of_every_dtype_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for (data, expected) in npy_dtypes() {
        for (labels, want) in label_dtypes() {
            let x = write_npy(dir.path(), "x.npy", vec![2, 3], data.clone());
            let y = write_npy(dir.path(), "y.npy", vec![2], labels);
            let (t, test) = load(&npy_spec(x, y)).unwrap();
            assert_eq!(test, None);
            assert_eq!((t.rows, t.cols, t.image_shape), (2, 3, None));
            assert_eq!(t.values, expected, "{}", data.dtype_name());
            assert_eq!(t.labels, Labels::Int(want));
            assert_eq!(t.feature_names, None);
        }
    }
}

#[test]
fn npy_images_and_string_labels_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..24).collect();
    let x = write_npy(dir.path(), "x.npy", vec![2, 3, 4], Elements::U8(pixels));
    let names = vec!["ankle boot".to_owned(), "T-shirt/top 👕".to_owned()];
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::Str(names.clone()));
    let t = load_train(&npy_spec(x, y.clone())).unwrap();
    assert_eq!((t.rows, t.cols, t.image_shape), (2, 12, Some((3, 4))));
    assert_eq!(t.values, (0..24).map(|v| v as f32).collect::<Vec<_>>());
    assert_eq!(t.labels, Labels::Text(names.clone()));
    // The writer pads to the longest entry with NULs, as NumPy does.
    assert_eq!(
        NpyArray::read(&y).unwrap().data,
        Elements::Str(names.clone())
    );
    // N × 1 integer labels are accepted too.
    let x = write_npy(
        dir.path(),
        "x.npy",
        vec![2, 1],
        Elements::F32(vec![1.0, 2.0]),
    );
    let y = write_npy(dir.path(), "y.npy", vec![2, 1], Elements::I64(vec![5, 6]));
    assert_eq!(
        load_train(&npy_spec(x, y)).unwrap().labels,
        Labels::Int(vec![5, 6])
    );
}

/// Hand-built bytes: big-endian int32 features and `<U3` labels written
/// the way NumPy does.
#[test]
fn hand_built_numpy_bytes_are_read() {
    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(h.len() as u16).to_le_bytes());
        v.extend_from_slice(h.as_bytes());
        v.extend_from_slice(data);
        v
    }
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    let mut data = Vec::new();
    for v in [-2i32, 70000] {
        data.extend_from_slice(&v.to_be_bytes());
    }
    std::fs::write(&x, npy(">i4", "(2, 1)", &data)).unwrap();
    let y = dir.path().join("y.npy");
    let mut data = Vec::new();
    for s in ["ab", "xyz"] {
        let mut units: Vec<u32> = s.chars().map(u32::from).collect();
        units.resize(3, 0);
        for u in units {
            data.extend_from_slice(&u.to_le_bytes());
        }
    }
    std::fs::write(&y, npy("<U3", "(2,)", &data)).unwrap();
    let t = load_train(&npy_spec(x, y)).unwrap();
    assert_eq!(t.values, [-2.0, 70000.0]);
    assert_eq!(t.labels, Labels::Text(vec!["ab".into(), "xyz".into()]));
}

/// Writes an `.npz` of `(name, array)` members; `deflate` compresses them.
fn write_npz(path: &Path, members: &[(&str, Vec<u8>)], deflate: bool) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn npy_bytes(shape: Vec<usize>, data: Elements) -> Vec<u8> {
    NpyArray { shape, data }.to_bytes().unwrap()
}

#[test]
fn npz_train_and_test_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mnist.npz");
    for deflate in [false, true] {
        write_npz(
            &path,
            &[
                (
                    "x_train.npy",
                    npy_bytes(vec![3, 2, 2], Elements::U8((0..12).collect())),
                ),
                (
                    "y_train.npy",
                    npy_bytes(vec![3], Elements::U8(vec![7, 8, 9])),
                ),
                (
                    "x_test.npy",
                    npy_bytes(vec![1, 2, 2], Elements::F64(vec![0.5, 1.5, 2.5, 3.5])),
                ),
                (
                    "y_test.npy",
                    npy_bytes(vec![1], Elements::Str(vec!["nine".into()])),
                ),
            ],
            deflate,
        );
        let (train, test) = load(&SourceSpec::new(&path)).unwrap();
        assert_eq!((train.rows, train.cols), (3, 4));
        assert_eq!(train.image_shape, Some((2, 2)));
        assert_eq!(train.values, (0..12).map(|v| v as f32).collect::<Vec<_>>());
        assert_eq!(train.labels, Labels::Int(vec![7, 8, 9]));
        let test = test.unwrap();
        assert_eq!(test.values, [0.5, 1.5, 2.5, 3.5]);
        assert_eq!(test.labels, Labels::Text(vec!["nine".into()]));
        check_same_width(&train, &test).unwrap();
    }
}

#[test]
fn npz_with_x_and_y_alone_is_train_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npz");
    write_npz(
        &path,
        &[
            (
                "x.npy",
                npy_bytes(vec![2, 2], Elements::I16(vec![1, 2, 3, 4])),
            ),
            ("y.npy", npy_bytes(vec![2], Elements::I32(vec![-1, 1]))),
        ],
        true,
    );
    let (train, test) = load(&SourceSpec::new(&path)).unwrap();
    assert_eq!(train.values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(train.labels, Labels::Int(vec![-1, 1]));
    assert_eq!(test, None);
    assert_eq!(load_test(&SourceSpec::new(&path)).unwrap(), None);
}

/// `load_test` reads only the test members: a corrupt training member
/// does not stop it.
#[test]
fn npz_load_test_does_not_touch_the_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npz");
    write_npz(
        &path,
        &[
            ("x_train.npy", b"garbage".to_vec()),
            ("y_train.npy", b"garbage".to_vec()),
            (
                "x_test.npy",
                npy_bytes(vec![1, 2], Elements::F32(vec![1.0, 2.0])),
            ),
            ("y_test.npy", npy_bytes(vec![1], Elements::U8(vec![3]))),
        ],
        true,
    );
    let test = load_test(&SourceSpec::new(&path)).unwrap().unwrap();
    assert_eq!(
        (test.values, test.labels),
        (vec![1.0, 2.0], Labels::Int(vec![3]))
    );
    assert_has(&load_err(&SourceSpec::new(&path)), &["d.npz:x_train.npy"]);
}

fn csv_spec(path: &Path) -> SourceSpec {
    SourceSpec::new(path)
}

#[test]
fn csv_with_header_and_text_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iris.csv");
    std::fs::write(
        &path,
        "sepal_length,sepal_width,species\n5.1,3.5,setosa\n7.0,3.2,\"versicolor\"\n6.3,-3.3e0,virginica\n",
    )
    .unwrap();
    let t = load_train(&csv_spec(&path)).unwrap();
    assert_eq!((t.rows, t.cols), (3, 2));
    assert_eq!(t.values, [5.1, 3.5, 7.0, 3.2, 6.3, -3.3]);
    assert_eq!(
        t.labels,
        Labels::Text(vec![
            "setosa".into(),
            "versicolor".into(),
            "virginica".into()
        ])
    );
    assert_eq!(
        t.feature_names,
        Some(vec!["sepal_length".into(), "sepal_width".into()])
    );
}

#[test]
fn csv_without_header_and_numeric_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "1,2,3\n4,5,6\n7,8,-9\n").unwrap();
    let t = load_train(&csv_spec(&path)).unwrap();
    assert_eq!(t.values, [1.0, 2.0, 4.0, 5.0, 7.0, 8.0]);
    assert_eq!(t.labels, Labels::Int(vec![3, 6, -9]));
    assert_eq!(t.feature_names, None);
    // Forced header: the first row becomes the names.
    let spec = SourceSpec {
        header: Some(true),
        ..csv_spec(&path)
    };
    let t = load_train(&spec).unwrap();
    assert_eq!(t.rows, 2);
    assert_eq!(t.feature_names, Some(vec!["1".into(), "2".into()]));
    // Forced no header on a file whose first row is text fails on it.
    std::fs::write(&path, "a,b,c\n1,2,3\n").unwrap();
    let spec = SourceSpec {
        header: Some(false),
        ..csv_spec(&path)
    };
    assert_has(&load_err(&spec), &["d.csv", "line 1", "\"a\""]);
}

#[test]
fn csv_label_column_by_name_and_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "label,f1,f2\n3,0.5,1\n4,1.5,2\n").unwrap();
    let by_name = SourceSpec {
        label_column: Some("label".into()),
        ..csv_spec(&path)
    };
    let by_index = SourceSpec {
        label_column: Some("0".into()),
        ..csv_spec(&path)
    };
    for spec in [by_name, by_index] {
        let t = load_train(&spec).unwrap();
        assert_eq!(t.values, [0.5, 1.0, 1.5, 2.0]);
        assert_eq!(t.labels, Labels::Int(vec![3, 4]));
        assert_eq!(t.feature_names, Some(vec!["f1".into(), "f2".into()]));
    }
    // Middle column, no header.
    std::fs::write(&path, "1,cat,2\n3,dog,4\n").unwrap();
    let spec = SourceSpec {
        label_column: Some("1".into()),
        ..csv_spec(&path)
    };
    let t = load_train(&spec).unwrap();
    assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(t.labels, Labels::Text(vec!["cat".into(), "dog".into()]));
}

#[test]
fn tsv_and_given_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.tsv");
    std::fs::write(&path, "x\ty\tclass\n1\t2\ta\n3\t4\tb\n").unwrap();
    let t = load_train(&csv_spec(&path)).unwrap();
    assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(t.labels, Labels::Text(vec!["a".into(), "b".into()]));
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "1|2|0\n3|4|1\n").unwrap();
    let spec = SourceSpec {
        delimiter: Some(b'|'),
        ..csv_spec(&path)
    };
    let t = load_train(&spec).unwrap();
    assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(t.labels, Labels::Int(vec![0, 1]));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn idx_pairs_of_every_type_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let values = [0.0, 1.0, -2.0, 3.0, 100.0, -100.0];
    for ty in [
        IdxType::U8,
        IdxType::I8,
        IdxType::I16,
        IdxType::I32,
        IdxType::F32,
        IdxType::F64,
    ] {
        let values: Vec<f64> = if ty == IdxType::U8 {
            values.iter().map(|v: &f64| v.abs()).collect()
        } else {
            values.to_vec()
        };
        let x = IdxAny::from_f64(vec![2, 3], ty, &values);
        let y = IdxAny::from_f64(vec![2], IdxType::I32, &[-70000.0, 2147483647.0]);
        let xp = dir.path().join("x.idx");
        let yp = dir.path().join("y.idx1-ubyte.gz");
        std::fs::write(&xp, idx::to_bytes_any(&x)).unwrap();
        std::fs::write(&yp, gzip(&idx::to_bytes_any(&y))).unwrap();
        let t = load_train(&npy_spec(xp, yp)).unwrap();
        let want: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        assert_eq!(t.values, want, "{ty:?}");
        assert_eq!(t.labels, Labels::Int(vec![-70000, 2147483647]));
    }
}

/// Writes an MNIST-style pair `{prefix}-images-idx3-ubyte` / `-labels-`.
fn write_idx_pair(dir: &Path, prefix: &str, images: &[u8], labels: &[u8], gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    let x = idx::to_bytes(&idx::IdxArray {
        dims: vec![labels.len(), 2, 2],
        data: images.to_vec(),
    });
    let y = idx::to_bytes(&idx::IdxArray {
        dims: vec![labels.len()],
        data: labels.to_vec(),
    });
    let (x, y) = if gz { (gzip(&x), gzip(&y)) } else { (x, y) };
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), x).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), y).unwrap();
}

#[test]
fn idx_directories_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write_idx_pair(dir.path(), "train", &[9; 8], &[200, 3], true);
    write_idx_pair(dir.path(), "t10k", &[1, 2, 3, 4], &[7], false);
    let (train, test) = load(&SourceSpec::new(dir.path())).unwrap();
    assert_eq!(
        (train.rows, train.cols, train.image_shape),
        (2, 4, Some((2, 2)))
    );
    assert_eq!(train.values, [9.0; 8]);
    assert_eq!(train.labels, Labels::Int(vec![200, 3]));
    let test = test.unwrap();
    assert_eq!(test.values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(test.labels, Labels::Int(vec![7]));

    // `test-` names; no test part at all.
    let dir = tempfile::tempdir().unwrap();
    write_idx_pair(dir.path(), "train", &[0; 4], &[1], false);
    assert_eq!(load(&SourceSpec::new(dir.path())).unwrap().1, None);
    write_idx_pair(dir.path(), "test", &[5; 4], &[2], true);
    let test = load_test(&SourceSpec::new(dir.path())).unwrap().unwrap();
    assert_eq!(test.labels, Labels::Int(vec![2]));
}

#[test]
fn idx_directory_load_test_does_not_touch_the_training_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), b"junk").unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), b"junk").unwrap();
    write_idx_pair(dir.path(), "t10k", &[1, 2, 3, 4], &[7], true);
    let test = load_test(&SourceSpec::new(dir.path())).unwrap().unwrap();
    assert_eq!(test.labels, Labels::Int(vec![7]));
    assert_has(
        &load_err(&SourceSpec::new(dir.path())),
        &["train-images-idx3-ubyte.gz"],
    );
}

// ---- validation errors ----

#[test]
fn ragged_csv_names_the_line_and_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragged.csv");
    std::fs::write(&path, "a,b,c\n1,2,0\n3,4\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["ragged.csv", "line 3", "2 fields", "expected 3"],
    );
}

#[test]
fn non_numeric_feature_names_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "height,weight,y\n1,2,0\n3,heavy,1\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["d.csv", "line 3", "column 1 (\"weight\")", "\"heavy\""],
    );
}

#[test]
fn non_finite_features_are_refused_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "1,2,0\n3,nan,1\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["d.csv", "line 2", "row 1", "column 1", "nan"],
    );
    std::fs::write(&path, "1,1e300,0\n").unwrap();
    assert_has(&load_err(&csv_spec(&path)), &["d.csv", "line 1", "1e300"]);

    let x = write_npy(
        dir.path(),
        "x.npy",
        vec![2, 2],
        Elements::F64(vec![0.0, 1.0, f64::INFINITY, 2.0]),
    );
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::U8(vec![0, 1]));
    assert_has(
        &load_err(&npy_spec(x, y.clone())),
        &["x.npy", "inf", "row 1, column 0"],
    );

    let x = IdxAny::from_f64(vec![1, 2], IdxType::F32, &[0.0, f64::NAN]);
    let xp = dir.path().join("x.idx");
    std::fs::write(&xp, idx::to_bytes_any(&x)).unwrap();
    let yp = dir.path().join("y.idx");
    std::fs::write(
        &yp,
        idx::to_bytes_any(&IdxAny::from_f64(vec![1], IdxType::U8, &[0.0])),
    )
    .unwrap();
    assert_has(
        &load_err(&npy_spec(xp, yp)),
        &["x.idx", "NaN", "row 0, column 1"],
    );
}

#[test]
fn features_and_labels_of_different_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", vec![3, 1], Elements::F32(vec![0.0; 3]));
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::U8(vec![0, 1]));
    assert_has(
        &load_err(&npy_spec(x, y)),
        &["x.npy has 3 rows", "y.npy has 2 labels"],
    );
}

#[test]
fn labels_beyond_i32_name_the_value_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", vec![2, 1], Elements::F32(vec![0.0; 2]));
    let y = write_npy(
        dir.path(),
        "y.npy",
        vec![2],
        Elements::I64(vec![0, 1 << 31]),
    );
    assert_has(
        &load_err(&npy_spec(x.clone(), y)),
        &["y.npy", "2147483648", "row 1", "i32"],
    );
    let y = write_npy(
        dir.path(),
        "y.npy",
        vec![2],
        Elements::U64(vec![0, u64::MAX]),
    );
    assert_has(
        &load_err(&npy_spec(x.clone(), y)),
        &["y.npy", "18446744073709551615", "row 1"],
    );
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::F64(vec![-3e9, 0.0]));
    assert_has(
        &load_err(&npy_spec(x, y)),
        &["y.npy", "-3000000000", "row 0"],
    );
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "1,0\n2,-2147483648\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["d.csv", "line 2", "-2147483648", "i32"],
    );
}

#[test]
fn non_integral_float_labels_name_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", vec![2, 1], Elements::F32(vec![0.0; 2]));
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::F32(vec![1.0, 2.5]));
    assert_has(
        &load_err(&npy_spec(x, y)),
        &["y.npy", "2.5", "row 1", "not an integer"],
    );
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "1,0\n2,0.5\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["d.csv", "line 2", "0.5", "not an integer"],
    );
}

#[test]
fn empty_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    std::fs::write(&path, "a,b,label\n").unwrap();
    assert_has(&load_err(&csv_spec(&path)), &["empty.csv", "no rows"]);
    std::fs::write(&path, "").unwrap();
    assert_has(&load_err(&csv_spec(&path)), &["empty.csv", "no rows"]);
    let x = write_npy(dir.path(), "x.npy", vec![0, 3], Elements::F32(vec![]));
    let y = write_npy(dir.path(), "y.npy", vec![0], Elements::U8(vec![]));
    assert_has(&load_err(&npy_spec(x, y)), &["x.npy", "no rows"]);
}

#[test]
fn zero_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels_only.csv");
    std::fs::write(&path, "1\n2\n").unwrap();
    assert_has(
        &load_err(&csv_spec(&path)),
        &["labels_only.csv", "zero feature columns"],
    );
    let x = write_npy(dir.path(), "x.npy", vec![2, 0], Elements::F32(vec![]));
    let y = write_npy(dir.path(), "y.npy", vec![2], Elements::U8(vec![0, 1]));
    assert_has(
        &load_err(&npy_spec(x, y)),
        &["x.npy", "zero feature columns"],
    );
}

#[test]
fn npz_without_train_arrays_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npz");
    write_npz(
        &path,
        &[("x_train.npy", npy_bytes(vec![1, 1], Elements::U8(vec![0])))],
        false,
    );
    assert_has(
        &load_err(&SourceSpec::new(&path)),
        &["d.npz", "\"y_train\"", "x_train"],
    );
    write_npz(
        &path,
        &[("features.npy", npy_bytes(vec![1, 1], Elements::U8(vec![0])))],
        false,
    );
    assert_has(
        &load_err(&SourceSpec::new(&path)),
        &["d.npz", "\"x_train\"", "features"],
    );
}

#[test]
fn unicode_labels_must_be_one_dimensional() {
    let dir = tempfile::tempdir().unwrap();
    let x = write_npy(dir.path(), "x.npy", vec![2, 1], Elements::F32(vec![0.0; 2]));
    let y = write_npy(
        dir.path(),
        "y.npy",
        vec![2, 1],
        Elements::Str(vec!["a".into(), "b".into()]),
    );
    assert_has(&load_err(&npy_spec(x, y)), &["y.npy", "1-D", "[2, 1]"]);
}

#[test]
fn train_and_test_widths_must_match() {
    let table = |cols: usize, source: &str| Table {
        values: vec![0.0; cols],
        rows: 1,
        cols,
        image_shape: None,
        feature_names: None,
        labels: Labels::Int(vec![0]),
        source: source.into(),
    };
    let err = check_same_width(&table(4, "train.csv"), &table(5, "test.csv"))
        .unwrap_err()
        .to_string();
    assert_has(&err, &["train.csv", "test.csv", "4", "5"]);
}

#[test]
fn unknown_formats_and_missing_labels_are_explained() {
    let err = load_err(&SourceSpec::new("data.parquet"));
    assert_has(&err, &["data.parquet", ".npz", ".csv", "IDX"]);
    let err = load_err(&SourceSpec::new("x.npy"));
    assert_has(&err, &["x.npy", "labels file"]);
}

/// A member declaring more than the cap is refused before decompression.
#[test]
fn npz_members_declaring_huge_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.npz");
    write_npz(
        &path,
        &[("x_train.npy", vec![0; 4096]), ("y_train.npy", vec![])],
        true,
    );
    let mut bytes = std::fs::read(&path).unwrap();
    for (sig, off) in [(&b"PK\x03\x04"[..], 22), (&b"PK\x01\x02"[..], 24)] {
        let at = bytes.windows(4).position(|w| w == sig).unwrap();
        bytes[at + off..at + off + 4].copy_from_slice(&0xC000_0000u32.to_le_bytes());
    }
    std::fs::write(&path, &bytes).unwrap();
    assert_has(
        &load_err(&SourceSpec::new(&path)),
        &["bomb.npz:x_train.npy", "3221225472", "exceeds"],
    );
}

// ---- load_rows: only the chosen rows ----

/// The bits of every value (so that `-0.0` and `0.0` differ).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `load_rows(spec, rows)` equals `load_train(spec)?.select(rows)`, values
/// bit for bit, and the preview it chose from shows the whole table's
/// labels, width, image shape and name.
fn assert_rows_match(spec: &SourceSpec, rows: &[usize]) {
    let full = load_train(spec).unwrap();
    let mut previewed = false;
    let t = load_rows(spec, |p| {
        assert_eq!(p.labels, &full.labels);
        assert_eq!(
            (p.rows(), p.cols, p.image_shape),
            (full.rows, full.cols, full.image_shape)
        );
        assert_eq!(p.source, full.source);
        previewed = true;
        Ok(rows.to_vec())
    })
    .unwrap();
    assert!(previewed);
    let want = full.select(rows);
    assert_eq!(bits(&t.values), bits(&want.values), "{}", full.source);
    assert_eq!(t, want);
}

/// Rows to choose from a table of `n` rows: the held-out rows of a
/// stratified split (sorted), an unsorted choice with a repeat, one row.
fn choices(n: usize) -> Vec<Vec<usize>> {
    vec![
        (0..n).filter(|r| r % 5 == 1 || r % 5 == 3).collect(),
        vec![n - 1, 2, 0, 2],
        vec![n / 2],
    ]
}

/// Awkward values: signed zeros, subnormal-ish and long decimals.
fn awkward(i: usize) -> f64 {
    match i % 7 {
        0 => -0.0,
        1 => 0.1 + i as f64 / 3.0,
        2 => -(i as f64).sqrt() * 1e-3,
        3 => 1e-40,
        4 => 123456.789,
        5 => (i as f64).sin() * 1e6,
        _ => i as f64,
    }
}

#[test]
fn load_rows_of_a_csv_equal_the_selected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let n = 23;
    let mut text = String::from("# a comment\nf0,f1,f2,species\n");
    for r in 0..n {
        let label = ["setosa", "versicolor", "virginica"][r % 3];
        let row: Vec<String> = (0..3)
            .map(|c| format!("{:e}", awkward(r * 3 + c)))
            .collect();
        text += &format!("{},{label}\n", row.join(","));
        if r == 10 {
            text += "\n# blank lines and comments are not rows\n";
        }
    }
    let path = dir.path().join("d.csv");
    std::fs::write(&path, &text).unwrap();
    for rows in choices(n) {
        assert_rows_match(&csv_spec(&path), &rows);
    }
    // Integer labels in the first column, no header, a `.txt` sniffed as TSV.
    let path = dir.path().join("d.txt");
    let text: String = (0..n)
        .map(|r| format!("{}\t{}\t-0\t{}\n", r % 4, awkward(r), r as f64 * 0.7))
        .collect();
    std::fs::write(&path, text).unwrap();
    let spec = SourceSpec {
        label_column: Some("0".into()),
        ..SourceSpec::new(&path)
    };
    for rows in choices(n) {
        assert_rows_match(&spec, &rows);
    }
}

#[test]
fn load_rows_of_an_npy_pair_equal_the_selected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let n = 17;
    let values: Vec<f64> = (0..n * 6).map(awkward).collect();
    let x = write_npy(dir.path(), "x.npy", vec![n, 2, 3], Elements::F64(values));
    let names: Vec<String> = (0..n)
        .map(|r| ["cat", "dog 🐕"][r % 2].to_owned())
        .collect();
    let y = write_npy(dir.path(), "y.npy", vec![n], Elements::Str(names));
    for rows in choices(n) {
        assert_rows_match(&npy_spec(x.clone(), y.clone()), &rows);
    }
    // Every dtype, integer labels of shape N × 1.
    let y = write_npy(dir.path(), "y1.npy", vec![2, 1], Elements::I16(vec![-4, 9]));
    for (data, _) in npy_dtypes() {
        let x = write_npy(dir.path(), "x1.npy", vec![2, 3], data);
        for rows in [vec![1], vec![0], vec![1, 0, 1]] {
            assert_rows_match(&npy_spec(x.clone(), y.clone()), &rows);
        }
    }
}

#[test]
fn load_rows_of_idx_pairs_equal_the_selected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let n = 19;
    for ty in [IdxType::U8, IdxType::I16, IdxType::F32, IdxType::F64] {
        let values: Vec<f64> = (0..n * 4)
            .map(|i| match ty {
                IdxType::U8 => (i * 37 % 256) as f64,
                IdxType::I16 => (i * 37 % 256) as f64 - 128.0,
                _ => awkward(i),
            })
            .collect();
        let x = IdxAny::from_f64(vec![n, 2, 2], ty, &values);
        let labels: Vec<f64> = (0..n).map(|r| (r % 3) as f64 * 10.0).collect();
        let y = IdxAny::from_f64(vec![n], IdxType::U8, &labels);
        for gz in [false, true] {
            let (xp, yp) = if gz {
                let (xp, yp) = (dir.path().join("x.idx3.gz"), dir.path().join("y.idx1.gz"));
                std::fs::write(&xp, gzip(&idx::to_bytes_any(&x))).unwrap();
                std::fs::write(&yp, gzip(&idx::to_bytes_any(&y))).unwrap();
                (xp, yp)
            } else {
                let (xp, yp) = (dir.path().join("x.idx3"), dir.path().join("y.idx1"));
                std::fs::write(&xp, idx::to_bytes_any(&x)).unwrap();
                std::fs::write(&yp, idx::to_bytes_any(&y)).unwrap();
                (xp, yp)
            };
            for rows in choices(n) {
                assert_rows_match(&npy_spec(xp.clone(), yp.clone()), &rows);
            }
        }
    }
}

#[test]
fn load_rows_of_a_train_only_directory_or_npz_equal_the_selected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..6 * 4).map(|i| (i * 41 % 256) as u8).collect();
    write_idx_pair(dir.path(), "train", &pixels, &[0, 1, 2, 0, 1, 2], true);
    for rows in choices(6) {
        assert_rows_match(&SourceSpec::new(dir.path()), &rows);
    }
    let path = dir.path().join("d.npz");
    let x = npy_bytes(
        vec![6, 2],
        Elements::F32((0..12).map(|i| awkward(i) as f32).collect()),
    );
    let y = npy_bytes(vec![6], Elements::U8(vec![0, 1, 0, 1, 0, 1]));
    write_npz(&path, &[("x.npy", x), ("y.npy", y)], true);
    for rows in choices(6) {
        assert_rows_match(&SourceSpec::new(&path), &rows);
    }
}

/// The error of `load_rows` keeping only row 0.
fn first_row_err(spec: &SourceSpec) -> String {
    format!("{:#}", load_rows(spec, |_| Ok(vec![0])).unwrap_err())
}

/// A bad value in a row that is not chosen (a training row) is the same
/// error as when the whole table is read: every row is still checked.
#[test]
fn load_rows_still_checks_the_rows_it_does_not_keep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    for (text, parts) in [
        (
            "a,b,y\n1,2,0\n3,4,1\n5,oops,0\n",
            &["d.csv", "line 4", "row 2", "column 1 (\"b\")", "\"oops\""][..],
        ),
        (
            "a,b,y\n1,2,0\n3,4,1\n5,nan,0\n",
            &["d.csv", "line 4", "row 2", "column 1", "nan"],
        ),
        (
            "a,b,y\n1,2,0\n3,1e300,1\n",
            &["d.csv", "line 3", "row 1", "1e300"],
        ),
        (
            "a,b,y\n1,2,0\n3,4,1\n5,0\n",
            &["d.csv", "line 4", "2 fields", "expected 3"],
        ),
        ("a,b,y\n1,2,0\n3,4,0.5\n", &["d.csv", "line 3", "0.5"]),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = first_row_err(&csv_spec(&path));
        assert_has(&err, parts);
        assert_eq!(err, load_err(&csv_spec(&path)));
    }

    let x = write_npy(
        dir.path(),
        "x.npy",
        vec![3, 2],
        Elements::F64(vec![0.0, 1.0, 2.0, 3.0, f64::INFINITY, 4.0]),
    );
    let y = write_npy(dir.path(), "y.npy", vec![3], Elements::U8(vec![0, 1, 0]));
    let spec = npy_spec(x, y);
    let err = first_row_err(&spec);
    assert_has(&err, &["x.npy", "inf", "row 2, column 0"]);
    assert_eq!(err, load_err(&spec));

    let x = IdxAny::from_f64(
        vec![3, 2],
        IdxType::F32,
        &[0.0, 1.0, 2.0, f64::NAN, 4.0, 5.0],
    );
    let y = IdxAny::from_f64(vec![3], IdxType::U8, &[0.0, 1.0, 0.0]);
    let (xp, yp) = (dir.path().join("x.idx.gz"), dir.path().join("y.idx"));
    std::fs::write(&xp, gzip(&idx::to_bytes_any(&x))).unwrap();
    std::fs::write(&yp, idx::to_bytes_any(&y)).unwrap();
    let spec = npy_spec(xp.clone(), yp.clone());
    let err = first_row_err(&spec);
    assert_has(&err, &["x.idx.gz", "NaN", "row 1, column 1"]);
    assert_eq!(err, load_err(&spec));
    // Data that end early or run on, raw and gzip.
    let bytes = idx::to_bytes_any(&IdxAny::from_f64(vec![3, 2], IdxType::U8, &[1.0; 6]));
    for (data, found) in [
        (&bytes[..bytes.len() - 1], "5 bytes"),
        (&[&bytes[..], &[9]].concat()[..], "7 bytes"),
    ] {
        for gz in [false, true] {
            std::fs::write(&xp, if gz { gzip(data) } else { data.to_vec() }).unwrap();
            let err = first_row_err(&spec);
            assert_has(&err, &["x.idx.gz", found, "need 6"]);
            assert_eq!(err, load_err(&spec));
        }
    }
}

#[test]
fn load_rows_refuses_rows_out_of_range_and_an_empty_choice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, GOOD).unwrap();
    let err = format!(
        "{:#}",
        load_rows(&csv_spec(&path), |_| Ok(vec![1, 3])).unwrap_err()
    );
    assert_has(&err, &["d.csv", "row 3", "3 rows"]);
    let err = format!(
        "{:#}",
        load_rows(&csv_spec(&path), |_| Ok(vec![])).unwrap_err()
    );
    assert_has(&err, &["d.csv", "no rows chosen"]);
    // The chooser's own error comes back as it is.
    let err = load_rows(&csv_spec(&path), |p| anyhow::bail!("{}: nope", p.source)).unwrap_err();
    assert!(err.to_string().ends_with("d.csv: nope"), "{err}");
}

const GOOD: &str = "a,b,y\n1,2,0\n3,4,1\n5,6,0\n";
