//! `dam train --data FILE` with no other flag, on the small datasets shipped
//! in `data/`: the derived settings must give a good model, `dam eval` must
//! agree with the trainer, and the model must carry the input map and the
//! class names. (Full figures over seeds: BENCHMARKS.md, "Your own data".)

mod common;

use std::path::{Path, PathBuf};

use common::{dam, s, succeeds};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(rel)
}

/// The test accuracy `dam eval` prints, in %.
fn eval_accuracy(model: &Path, data: &Path) -> f64 {
    eval_accuracy_of(model, &["--data", s(data)]).0
}

/// The test accuracy `dam eval MODEL DATA_ARGS…` prints, in %, and the
/// number of test rows.
fn eval_accuracy_of(model: &Path, data_args: &[&str]) -> (f64, usize) {
    let mut args = vec!["eval", s(model)];
    args.extend_from_slice(data_args);
    let out = dam(&args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("test accuracy:"))
        .unwrap_or_else(|| panic!("no accuracy in {text}"));
    let rows = line
        .split('(')
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no row count in {line}"));
    let accuracy = line["test accuracy:".len()..]
        .trim()
        .split('%')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (accuracy, rows.parse().unwrap())
}

/// Trains with the defaults into a temporary directory; returns it with the
/// test accuracy `dam train` reports for the kept epoch.
fn train_defaults(data: &Path) -> (tempfile::TempDir, f64) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = dam(&["train", "--data", s(data), "--out", s(&out), "--quiet"]);
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Small data, no -n: the degree is chosen on held-out rows first.
    assert!(
        text.contains("choosing the degree n among [6, 3, 10]") && text.contains("  kept n = "),
        "{text}"
    );
    let kept = text
        .lines()
        .find(|l| l.contains("test accuracy"))
        .unwrap_or_else(|| panic!("no summary in {text}"));
    let acc: f64 = kept
        .rsplit("test accuracy ")
        .next()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    for f in [
        "model.dam",
        "metrics.csv",
        "checkpoint.bin",
        "curves.png",
        "memories.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    (dir, acc)
}

#[test]
fn iris_with_defaults_matches_its_nearest_neighbour_baseline() {
    let npz = data("iris/iris.npz");
    let (dir, acc) = train_defaults(&npz);
    let model = dir.path().join("out/model.dam");
    // 1-NN on all training points: 97.78% (44 of 45).
    assert!(acc >= 97.7, "iris test accuracy {acc}%");
    assert_eq!(eval_accuracy(&model, &npz), acc);
}

#[test]
fn iris_csv_with_text_labels_keeps_the_names_and_the_input_map() {
    let csv = data("iris/iris.csv");
    let (dir, acc) = train_defaults(&csv);
    let model = dir.path().join("out/model.dam");
    assert!(acc >= 85.0, "iris.csv test accuracy {acc}%");
    // eval re-creates the same held-out rows from the one file.
    assert_eq!(eval_accuracy(&model, &csv), acc);
    let info = dam(&["info", s(&model)]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("\"setosa\" \"versicolor\" \"virginica\""),
        "{text}"
    );
    assert!(text.contains("preprocess:  yes"), "{text}");
}

#[test]
fn digits_with_defaults_is_near_its_nearest_neighbour_baseline() {
    let npz = data("digits/digits.npz");
    let (_dir, acc) = train_defaults(&npz);
    // 1-NN: 98.22%; the seeds of BENCHMARKS.md give 98.00–98.89%.
    assert!(acc >= 97.5, "digits test accuracy {acc}%");
}

/// A thousand text classes: labels map to class indices and back, the
/// model keeps every name, and `dam eval` summarises the confusions and
/// draws the whole matrix.
#[test]
fn a_thousand_classes_train_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("many.csv");
    let mut text = String::from("x,y,z,label\n");
    for row in 0..2000 {
        let c = row % 1000;
        let (a, b) = ((c % 37) as f32, (c / 37) as f32);
        text.push_str(&format!("{a},{b},{},c{c}\n", row % 3));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("out");
    let run = dam(&[
        "train",
        "--data",
        s(&csv),
        "--out",
        s(&out),
        "--quiet",
        "-k",
        "20",
        "--epochs",
        "1",
        "--test-fraction",
        "0.5",
        "--threads",
        "1",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("1000 classes"), "{stdout}");
    let model = out.join("model.dam");
    let png = dir.path().join("confusion.png");
    let eval = dam(&[
        "eval",
        s(&model),
        "--data",
        s(&csv),
        "--test-fraction",
        "0.5",
        "--confusion-png",
        s(&png),
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let text = String::from_utf8_lossy(&eval.stdout);
    assert!(
        text.contains("(1000 rows)"),
        "{text}\n{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert!(
        text.contains("1000 classes: the most frequent confusions"),
        "{text}"
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    let info = String::from_utf8_lossy(&dam(&["info", s(&model)]).stdout).to_string();
    assert!(info.contains("Nv, Nc, D:   3, 1000, 1003"), "{info}");
    assert!(info.contains("\"c0\" \"c1\" \"c10\""), "{info}");
}

/// Writes IDX files of `n` 16×16 byte images per split in 3 classes
/// (label values 3, 5, 7), each class a bright band of its own rows over
/// seeded noise.
fn band_images(dir: &Path, train: usize, test: usize) {
    for (prefix, n, salt) in [("train", train, 1usize), ("t10k", test, 2)] {
        let mut pixels = Vec::with_capacity(n * 256);
        let mut labels = Vec::with_capacity(n);
        for row in 0..n {
            let class = row % 3;
            labels.push([3u8, 5, 7][class]);
            for p in 0..256 {
                let noise = ((row * 7919 + p * 104_729 + salt * 31) % 97) as u8;
                let band = (p / 16) / 5 == class;
                pixels.push(if band { 150 + noise } else { noise });
            }
        }
        common::idx_pair(dir, prefix, vec![n, 16, 16], pixels, labels);
    }
}

/// Large square images with no flag train Potts hidden units on the
/// sphere with augmentation; the model keeps the labels and the input map,
/// `dam eval` agrees with the trainer, and `dam predict` writes the board
/// vectors of the Potts model, and `dam export` writes it in f32. A KH16
/// option (`-n`) with no `--kind` trains the classifier instead.
#[test]
fn large_square_images_train_potts_by_default_for_eval_predict_and_boards() {
    let dir = tempfile::tempdir().unwrap();
    band_images(dir.path(), 1200, 150);
    let out = dir.path().join("out");
    let run = dam(&[
        "train",
        "--data",
        s(dir.path()),
        "--out",
        s(&out),
        "--quiet",
        "--threads",
        "1",
    ]);
    succeeds(&run);
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    for needle in [
        "training Potts hidden units",
        "3 classes; Potts, P = 100, β = 120, Sphere constraint",
        "400 epochs, augmented",
        "kept epoch 400 (the last): test accuracy ",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    for f in ["model.dam", "metrics.csv", "curves.png", "memories.png"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let reported: f64 = text
        .split("test accuracy ")
        .nth(1)
        .and_then(|t| t.split('%').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(reported > 95.0, "{text}");
    let model = out.join("model.dam");
    assert_eq!(eval_accuracy(&model, dir.path()), reported);
    let info = String::from_utf8_lossy(&dam(&["info", s(&model)]).stdout).to_string();
    for needle in ["kind:        Potts", "version:     2", "labels:      3 5 7"] {
        assert!(info.contains(needle), "{needle} not in {info}");
    }
    let vectors = dir.path().join("vectors");
    let predict = dam(&[
        "predict",
        "--model",
        s(&model),
        "--data",
        s(dir.path()),
        "--out",
        s(&vectors),
    ]);
    succeeds(&predict);
    let classes = std::fs::read(vectors.join("classes.u8")).unwrap();
    assert_eq!(classes.len(), 150);
    for name in ["predictions-cortex-m4f.u8", "predictions-unfused.u8"] {
        let p = std::fs::read(vectors.join(name)).unwrap();
        let correct = p.iter().zip(&classes).filter(|(a, b)| a == b).count();
        assert_eq!(100.0 * correct as f64 / 150.0, reported, "{name}");
    }
    // Export: f32 by default for a Potts model (byte for byte the trained
    // file), a C header and source, and a clear refusal of i8.
    let exported = dir.path().join("export.dam");
    succeeds(&dam(&[
        "export",
        "--model",
        s(&model),
        "--out",
        s(&exported),
    ]));
    assert_eq!(
        std::fs::read(&exported).unwrap(),
        std::fs::read(&model).unwrap()
    );
    let c = dir.path().join("c/potts.c");
    succeeds(&dam(&[
        "export",
        "--model",
        s(&model),
        "--format",
        "c",
        "--out",
        s(&c),
    ]));
    assert!(c.exists() && c.with_extension("h").exists());
    common::fails_with(
        &dam(&[
            "export",
            "--model",
            s(&model),
            "--quantize",
            "i8",
            "--out",
            s(&exported),
        ]),
        &["f32 forward pass only", "--quantize f32"],
    );
    let kh16 = dir.path().join("kh16");
    let run = dam(&[
        "train",
        "--data",
        s(dir.path()),
        "--out",
        s(&kh16),
        "--quiet",
        "-n",
        "3",
        "--epochs",
        "1",
        "--threads",
        "1",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let info =
        String::from_utf8_lossy(&dam(&["info", s(&kh16.join("model.dam"))]).stdout).to_string();
    assert!(info.contains("kind:        Classifier"), "{info}");
}

/// `dam train` (2 epochs, n = 3) on a single-table source, then `dam eval`
/// on the same file: eval reads only the held-out rows, and they must be
/// the ones the trainer tested on (the same accuracy, the same count).
fn eval_agrees_with_the_trainer(data_args: &[&str], extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "train",
        "--out",
        s(&out),
        "--quiet",
        "--epochs",
        "2",
        "-n",
        "3",
    ];
    args.extend_from_slice(&["--threads", "1"]);
    args.extend_from_slice(data_args);
    args.extend_from_slice(extra);
    let run = dam(&args);
    succeeds(&run);
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    let reported: f64 = text
        .lines()
        .find(|l| l.starts_with("kept epoch"))
        .and_then(|l| l.rsplit("test accuracy ").next())
        .map(|a| a.trim_end_matches('%').parse().unwrap())
        .unwrap_or_else(|| panic!("no summary in {text}"));
    let tested: usize = text
        .split(" test rows")
        .next()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no test row count in {text}"));
    let (acc, rows) = eval_accuracy_of(&out.join("model.dam"), data_args);
    assert_eq!((acc, rows), (reported, tested), "{data_args:?}: {text}");
}

#[test]
fn eval_of_a_single_file_agrees_with_the_trainer() {
    // A CSV with text labels.
    eval_agrees_with_the_trainer(&["--data", s(&data("iris/iris.csv"))], &[]);

    let dir = tempfile::tempdir().unwrap();
    // A features .npy with a labels .npy, and a split of its own.
    let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    let csv = std::fs::read_to_string(data("iris/iris.csv")).unwrap();
    let (mut values, mut labels) = (Vec::new(), Vec::new());
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let (label, features) = fields.split_last().unwrap();
        values.extend(features.iter().map(|f| f.parse::<f32>().unwrap()));
        labels.push(label.to_string());
    }
    common::npy(&x, &[labels.len(), values.len() / labels.len()], values);
    dam_std::data::npy::NpyArray {
        shape: vec![labels.len()],
        data: dam_std::data::npy::Elements::Str(labels),
    }
    .write(&y)
    .unwrap();
    eval_agrees_with_the_trainer(
        &[
            "--data",
            s(&x),
            "--labels",
            s(&y),
            "--split-seed",
            "5",
            "--test-fraction",
            "0.3",
        ],
        &[],
    );

    // An IDX images file with an IDX labels file (gzip).
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    band_images(&images, 300, 0);
    let (xi, yi) = (
        dir.path().join("x-idx3-ubyte.gz"),
        dir.path().join("y-idx1-ubyte.gz"),
    );
    for (from, to) in [
        ("train-images-idx3-ubyte", &xi),
        ("train-labels-idx1-ubyte", &yi),
    ] {
        let bytes = std::fs::read(images.join(from)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        std::fs::write(to, gz.finish().unwrap()).unwrap();
    }
    eval_agrees_with_the_trainer(&["--data", s(&xi), "--labels", s(&yi)], &["--kind", "kh16"]);
}
