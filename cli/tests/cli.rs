//! The `dam` program on bad input: a one-line error naming the problem, a
//! non-zero exit, no panic and no partial output file.

mod common;

use std::path::Path;

use common::{dam, fails_with, mini_mnist, npy, s, succeeds};

use dam_core::model::{ElementType, Header, Kind};
use dam_core::{Form, Interaction};
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::model_io::{Entries, save};

fn memory_model(path: &Path, kind: Kind) {
    let (nv, nc) = if kind == Kind::Memory { (4, 0) } else { (2, 2) };
    let h = Header {
        kind,
        element: ElementType::F32,
        interaction: Interaction::Polynomial { n: 3 },
        form: Form::Normalized { beta: 1.0 },
        k: 2,
        nv,
        nc,
    };
    let labels: Vec<u32> = (0..nc).collect();
    save(
        path,
        &h,
        &labels,
        Entries::F32(&[1., 1., -1., -1., -1., 1., -1., 1.]),
    )
    .unwrap();
}

#[test]
fn missing_short_and_corrupt_idx() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = s(&out);
    fails_with(
        &dam(&["train", "--data", "/no/such/dir", "--out", out_s]),
        &["/no/such/dir", "train-images"],
    );

    mini_mnist(dir.path(), 20, 20);
    let images = dir.path().join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 3]).unwrap();
    fails_with(
        &dam(&["train", "--data", s(dir.path()), "--out", out_s]),
        &["train-images", "offset 16"],
    );

    std::fs::write(&images, [0x1f, 0x8b, 0, 1, 2, 3]).unwrap();
    fails_with(
        &dam(&["train", "--data", s(dir.path()), "--out", out_s]),
        &["train-images", "gzip"],
    );

    // 0x0a is no IDX element type (0x08, 0x09, 0x0b–0x0e are).
    std::fs::write(&images, [0, 0, 0x0a, 1, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap();
    fails_with(
        &dam(&["train", "--data", s(dir.path()), "--out", out_s]),
        &["0x0a", "offset 2"],
    );
    assert!(!out.join("model.dam").exists());
}

#[test]
fn label_count_differs_from_image_count() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 19);
    let out = dir.path().join("out");
    fails_with(
        &dam(&["train", "--data", s(dir.path()), "--out", s(&out)]),
        &["19 labels", "20 rows"],
    );
    assert!(!out.join("model.dam").exists());
}

#[test]
fn npy_problems() {
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("m.npy");
    let q = dir.path().join("q.npy");
    let xi = vec![
        1., 1., 1., 1., -1., -1., -1., -1., 1., -1., 1., -1., 1., -1., 1., -1.,
    ];
    npy(&mem, &[2, 8], xi.clone());

    npy(&q, &[1, 3], vec![1., 1., 1.]);
    let base = ["energy", "--memories", s(&mem), "--queries", s(&q)];
    fails_with(&dam(&base), &["q.npy", "3 columns", "D = 8"]);

    npy(&q, &[1, 8], vec![1., 1., 1., f32::NAN, 0., 0., 0., 0.]);
    fails_with(&dam(&base), &["q.npy", "non-finite", "row 0, column 3"]);

    npy(&q, &[2, 2, 2], vec![0.; 8]);
    fails_with(&dam(&base), &["q.npy", "[2, 2, 2]"]);

    let bytes = std::fs::read(&q).unwrap();
    std::fs::write(&q, &bytes[..bytes.len() - 5]).unwrap();
    fails_with(&dam(&base), &["q.npy", "truncated"]);

    std::fs::write(&q, b"garbage").unwrap();
    fails_with(&dam(&base), &["q.npy"]);
    fails_with(
        &dam(&["energy", "--memories", "/no/m.npy", "--queries", s(&q)]),
        &["/no/m.npy"],
    );

    // The happy path, for contrast: both queries recalled.
    let mut noisy = xi.clone();
    noisy[0] = -1.0;
    noisy[13] = 1.0;
    npy(&q, &[2, 8], noisy);
    let states = dir.path().join("s.npy");
    let out = dam(&[
        "recall",
        "--memories",
        s(&mem),
        "--queries",
        s(&q),
        "--out",
        s(&states),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = NpyArray::read(&states).unwrap();
    assert_eq!(
        r.data,
        Elements::F64(xi.iter().map(|&x| f64::from(x)).collect())
    );
}

#[test]
fn unwritable_output_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("m.npy");
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    let target = dir.path().join("missing-dir/model.dam");
    fails_with(
        &dam(&["import", s(&mem), "--out", s(&target)]),
        &["cannot write", "missing-dir"],
    );
    assert!(!target.exists());
    // A file in the way of a directory.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out");
    mini_mnist(dir.path(), 20, 20);
    fails_with(
        &dam(&["train", "--data", s(dir.path()), "--out", s(&out)]),
        &["cannot create", "file"],
    );
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 6, "stray files left behind"); // m.npy, file, 4 IDX files
}

#[test]
fn wrong_kind_and_corrupt_models() {
    let dir = tempfile::tempdir().unwrap();
    let memory = dir.path().join("memory.dam");
    let classifier = dir.path().join("classifier.dam");
    memory_model(&memory, Kind::Memory);
    memory_model(&classifier, Kind::Classifier);
    mini_mnist(dir.path(), 20, 20);
    fails_with(
        &dam(&["eval", s(&memory), "--data", s(dir.path())]),
        &["memory.dam", "not a classifier"],
    );
    let q = dir.path().join("q.npy");
    npy(&q, &[1, 4], vec![1.; 4]);
    fails_with(
        &dam(&["energy", "--model", s(&classifier), "--queries", s(&q)]),
        &["classifier.dam", "Memory model"],
    );
    let mut bytes = std::fs::read(&memory).unwrap();
    bytes[70] ^= 4;
    std::fs::write(&memory, &bytes).unwrap();
    fails_with(&dam(&["info", s(&memory)]), &["memory.dam", "CRC"]);
    std::fs::write(&memory, &bytes[..50]).unwrap();
    fails_with(&dam(&["info", s(&memory)]), &["memory.dam", "truncated"]);
    std::fs::write(&memory, b"PK\x03\x04 a zip file").unwrap();
    fails_with(&dam(&["info", s(&memory)]), &["memory.dam", "bad magic"]);
    // A classifier whose pixel count does not fit the data.
    fails_with(
        &dam(&["eval", s(&classifier), "--data", s(dir.path())]),
        &["4 features per row", "Nv = 2"],
    );
}

#[test]
fn predict_writes_firmware_test_vectors() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let train = dir.path().join("train");
    let out = dam(&[
        "train",
        "--data",
        s(dir.path()),
        "--epochs",
        "1",
        "--quiet",
        "--out",
        s(&train),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = train.join("model.dam");
    let vectors = dir.path().join("vectors");
    let predict = |count: &str| {
        dam(&[
            "predict",
            "--model",
            s(&model),
            "--data",
            s(dir.path()),
            "--count",
            count,
            "--out",
            s(&vectors),
        ])
    };
    fails_with(&predict("0"), &["--count 0"]);
    let len = |f: &str| std::fs::metadata(vectors.join(f)).unwrap().len();
    // --count is a maximum: the 20 test images.
    let out = predict("21");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(len("classes.u8"), 20);
    let out = predict("7");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Pixel bytes, and the value of each byte: the raw pixel value, since
    // the model stores its own input map and the board applies it.
    assert_eq!(len("inputs.u8"), 7 * 4);
    assert_eq!(len("classes.u8"), 7);
    let values = std::fs::read(vectors.join("byte-values.f32")).unwrap();
    assert_eq!(values.len(), 1024);
    assert_eq!(values[4 * 255..], 255.0f32.to_le_bytes());
    assert_eq!(len("predictions-cortex-m4f.u8"), 7);
    assert_eq!(len("predictions-unfused.u8"), 7);
    assert!(!vectors.join("inputs.f32").exists());
    // A model of another pixel count.
    let other = dir.path().join("other.dam");
    memory_model(&other, Kind::Classifier);
    fails_with(
        &dam(&[
            "predict",
            "--model",
            s(&other),
            "--data",
            s(dir.path()),
            "--out",
            s(&vectors),
            "--count",
            "3",
        ]),
        &["4 features per row", "Nv = 2"],
    );
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "demo", "capacity", "train", "eval", "export", "info", "recall", "energy", "import",
        "show", "predict",
    ] {
        let out = dam(&[sub, "--help"]);
        assert!(out.status.success(), "{sub}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: dam"),
            "{sub}"
        );
    }
}

#[test]
fn import_then_use_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("m.npy");
    let q = dir.path().join("q.npy");
    let model = dir.path().join("m.dam");
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[2, 4], vec![1., 1., -1., 1., -1., -1., -1., 1.]);
    let out = dam(&["import", s(&mem), "--out", s(&model), "-n", "2", "--raw"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = String::from_utf8_lossy(&dam(&["info", s(&model)]).stdout).to_string();
    assert!(
        info.contains("Memory") && info.contains("Polynomial { n: 2 }"),
        "{info}"
    );
    let via_model = dam(&["energy", "--model", s(&model), "--queries", s(&q)]);
    let via_npy = dam(&[
        "energy",
        "--memories",
        s(&mem),
        "--queries",
        s(&q),
        "-n",
        "2",
        "--raw",
    ]);
    assert!(via_model.status.success());
    assert_eq!(via_model.stdout, via_npy.stdout);
    // −Σ_μ (ξ^μ·σ)²: −(2² + 2²) and −((−2)² + 2²).
    assert_eq!(String::from_utf8_lossy(&via_model.stdout), "-8\n-8\n");

    // NaN in the memories: refused, no model written.
    npy(
        &mem,
        &[2, 4],
        vec![1., 1., -1., -1., -1., f32::NAN, -1., 1.],
    );
    let nan_model = dir.path().join("nan.dam");
    fails_with(
        &dam(&["import", s(&mem), "--out", s(&nan_model)]),
        &["m.npy", "non-finite", "row 1, column 1"],
    );
    assert!(!nan_model.exists());
}

#[test]
fn train_auto_then_recall() {
    let dir = tempfile::tempdir().unwrap();
    let pats = dir.path().join("p.npy");
    let model = dir.path().join("auto.dam");
    let patterns = dam_std::patterns::random_bipolar(20, 100, 7);
    npy(&pats, &[20, 100], patterns.clone());
    let out = dam(&["train-auto", s(&pats), "--out", s(&model)]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("retrieval error on the patterns 0.0000"),
        "{text}"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The setting of the `train::mca` test (20 patterns, D = 100, n = 3,
    // β = 5): every pattern is a fixed point, and 3 flipped bits come back.
    let mut noisy = patterns.clone();
    for (a, row) in noisy.chunks_exact_mut(100).enumerate() {
        for j in [a, a + 30, a + 60] {
            row[j] = -row[j];
        }
    }
    let q = dir.path().join("q.npy");
    let states = dir.path().join("s.npy");
    npy(&q, &[20, 100], noisy);
    let out = dam(&[
        "recall",
        "--model",
        s(&model),
        "--queries",
        s(&q),
        "--out",
        s(&states),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<f64> = patterns.iter().map(|&x| f64::from(x)).collect();
    assert_eq!(
        NpyArray::read(&states).unwrap().data,
        Elements::F64(expected)
    );
    // Not bipolar: refused.
    npy(&pats, &[1, 2], vec![1.0, 0.5]);
    fails_with(
        &dam(&["train-auto", s(&pats), "--out", s(&model)]),
        &["p.npy", "not ±1"],
    );
}

/// `dam export` round trip: every precision and format writes a model that
/// parses, with the requested element type and the same dimensions; the
/// Rust module names them and includes the blob written next to it.
#[test]
fn export_blobs_and_rust_modules() {
    use dam_core::model::Model;
    use dam_std::model_io::AlignedBytes;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dam");
    let h = Header {
        kind: Kind::Classifier,
        element: ElementType::F32,
        interaction: Interaction::RectifiedPolynomial { n: 3 },
        form: Form::Normalized { beta: 1.0 },
        k: 3,
        nv: 4,
        nc: 2,
    };
    let xi: Vec<f32> = (0..18).map(|i| (i as f32 / 9.0) - 1.0).collect();
    save(&model, &h, &[4, 7], Entries::F32(&xi)).unwrap();
    for (q, element) in [
        ("f32", ElementType::F32),
        ("i16", ElementType::I16),
        ("i8", ElementType::I8),
    ] {
        let out = dam(&["export", "--model", s(&model), "--quantize", q]);
        assert!(out.status.success(), "{out:?}");
        let blob = std::fs::read(dir.path().join(format!("m.{q}.dam"))).unwrap();
        let bytes = AlignedBytes::new(&blob);
        let m = Model::parse(bytes.as_bytes()).unwrap();
        assert_eq!(m.header().element, element);
        assert_eq!((m.header().k, m.header().nv, m.header().nc), (3, 4, 2));
        assert_eq!(m.label(1), Some(7));

        let rs = dir.path().join(format!("gen_{q}.rs"));
        let out = dam(&[
            "export",
            "--model",
            s(&model),
            "--quantize",
            q,
            "--format",
            "rust",
            "--out",
            s(&rs),
        ]);
        assert!(out.status.success(), "{out:?}");
        let src = std::fs::read_to_string(&rs).unwrap();
        for needle in [
            "pub const K: usize = 3;",
            "pub const NV: usize = 4;",
            "pub const NC: usize = 2;",
            "pub const LABELS: [u32; NC] = [4, 7];",
            &format!("pub const ELEMENT: &str = \"{q}\";"),
            &format!("include_bytes!(\"gen_{q}.dam\")"),
            "#[repr(C, align(16))]",
        ] {
            assert!(src.contains(needle), "{needle} not in {src}");
        }
        assert_eq!(
            std::fs::read(dir.path().join(format!("gen_{q}.dam"))).unwrap(),
            blob
        );
    }
    // Only f32 models can be quantized, and the error names the file; a
    // model already of the requested type goes out unchanged.
    let i8_model = dir.path().join("m.i8.dam");
    let out = dam(&[
        "export",
        "--model",
        s(&i8_model),
        "--quantize",
        "i16",
        "--out",
        s(&dir.path().join("x.dam")),
    ]);
    fails_with(&out, &["m.i8.dam", "f32"]);
    assert!(!dir.path().join("x.dam").exists());
    let out = dam(&[
        "export",
        "--model",
        s(&i8_model),
        "--out",
        s(&dir.path().join("same.dam")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path().join("same.dam")).unwrap(),
        std::fs::read(&i8_model).unwrap()
    );
}

/// `dam train --kind potts --grow` (on the sphere, with shifts) writes a
/// Potts model that `dam info` reads, `dam eval` scores through dam-core as
/// the trainer did, and `dam show` draws with its class weights; `--resume`
/// is refused.
#[test]
fn train_potts_grow_then_show() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 40, 40);
    let out = dir.path().join("potts");
    let run = dam(&[
        "train",
        "--kind",
        "potts",
        "--grow",
        "-k",
        "4",
        "--epochs",
        "2",
        "--stage-epochs",
        "1",
        "--beta",
        "4",
        "--constraint",
        "sphere",
        "--shift",
        "1",
        "--data",
        s(dir.path()),
        "--out",
        s(&out),
        "--quiet",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    // P = 1, 2 (one epoch each), then 4 (two epochs).
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    let last: Vec<f64> = csv
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(3)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    let eval = dam(&["eval", s(&out.join("model.dam")), "--data", s(dir.path())]);
    let text = String::from_utf8_lossy(&eval.stdout);
    for expected in [
        format!("1-NN on memories {:.2}%", 100.0 * last[1]),
        format!("test accuracy: {:.2}% (40 rows)", 100.0 * last[0]),
    ] {
        assert!(text.contains(&expected), "{text} / {expected}");
    }
    fails_with(
        &dam(&[
            "eval",
            s(&out.join("model.dam")),
            "--data",
            s(dir.path()),
            "--fixed",
        ]),
        &["--fixed", "f32 forward pass only"],
    );
    let info = dam(&["info", s(&out.join("model.dam"))]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("Potts") && text.contains("K:           4"),
        "{text}"
    );
    let show = dam(&["show", s(&out.join("model.dam")), "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("p^μ_y/p_h(μ)"));
    assert!(out.join("memories.png").exists());
    fails_with(
        &dam(&[
            "train",
            "--kind",
            "potts",
            "--resume",
            "--data",
            s(dir.path()),
            "--out",
            s(&out),
        ]),
        &["--resume"],
    );
}

/// `dam recall --drdam` (issue 5) ends where the exact log-sum-exp memory
/// ends, and `dam drdam-error` prints its table and draws its PNG.
#[test]
fn recall_drdam_agrees_with_the_exact_memory_and_drdam_error_plots() {
    let dir = tempfile::tempdir().unwrap();
    let (k, d) = (4usize, 16usize);
    // Four ±1/4 patterns (unit norm), then each with two signs flipped.
    let xi: Vec<f32> = (0..k * d)
        .map(|i| if (i * 7919 + 13) % 5 < 2 { 0.25 } else { -0.25 })
        .collect();
    let mut q = xi.clone();
    for mu in 0..k {
        for j in [mu, mu + 7] {
            q[mu * d + j] = -q[mu * d + j];
        }
    }
    let (mem, qs) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[k, d], xi);
    npy(&qs, &[k, d], q);
    let run = |drdam: bool, out: &Path| {
        let mut args = vec![
            "recall",
            "--family",
            "lse",
            "--beta",
            "8",
            "--memories",
            s(&mem),
            "--queries",
            s(&qs),
            "--out",
            s(out),
        ];
        if drdam {
            args.extend(["--drdam", "--features", "20000", "--seed", "3"]);
        }
        let out = dam(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (exact_npy, drdam_npy) = (dir.path().join("e.npy"), dir.path().join("r.npy"));
    let exact = run(false, &exact_npy);
    let approx = run(true, &drdam_npy);
    for mu in 0..k {
        let line = format!("nearest memory {mu} (");
        assert!(exact.contains(&line), "{exact}");
        assert!(approx.contains(&line), "{approx}");
    }
    let (Elements::F64(e), Elements::F64(r)) = (
        NpyArray::read(&exact_npy).unwrap().data,
        NpyArray::read(&drdam_npy).unwrap().data,
    ) else {
        panic!("recall writes float64 states");
    };
    let worst = e
        .iter()
        .zip(&r)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 0.05,
        "DrDAM state differs from the exact one by {worst}"
    );

    let png = dir.path().join("err.png");
    let out = dam(&[
        "drdam-error",
        "--dims",
        "8",
        "--betas",
        "1",
        "--features",
        "200,800",
        "--patterns",
        "20",
        "--queries",
        "10",
        "--png",
        s(&png),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("energy MAE"));
    assert!(std::fs::metadata(&png).unwrap().len() > 0);
}

/// A version-2 model (input map, signed labels, names): `dam info` shows
/// the extras, `dam export --quantize i8` and the Rust module keep them.
#[test]
fn version_2_extras_through_info_and_export() {
    use dam_core::model::Model;
    use dam_std::model_io::{AlignedBytes, Extras, save_with};
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("v2.dam");
    let h = Header {
        kind: Kind::Classifier,
        element: ElementType::F32,
        interaction: Interaction::RectifiedPolynomial { n: 3 },
        form: Form::Normalized { beta: 1.0 },
        k: 3,
        nv: 4,
        nc: 2,
    };
    let xi: Vec<f32> = (0..18).map(|i| (i as f32 / 9.0) - 1.0).collect();
    let names = ["low".to_string(), "high".to_string()];
    let (a, b) = ([0.5f32, 0.25, 0.0, 2.0], [-1.0f32, 0.0, 0.5, -3.0]);
    let extras = Extras {
        preprocessing: Some((&a, &b)),
        names: Some(&names),
    };
    save_with(&model, &h, &[-1, 1], Entries::F32(&xi), &extras).unwrap();

    let out = dam(&["info", s(&model)]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "version:     2",
        "preprocess:  yes",
        "a in [0, 2], b in [-3, 0.5]",
        "labels:      -1 1",
        "names:       \"low\" \"high\"",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }

    let out = dam(&["export", "--model", s(&model), "--quantize", "i8"]);
    assert!(out.status.success(), "{out:?}");
    let blob = std::fs::read(dir.path().join("v2.i8.dam")).unwrap();
    let bytes = AlignedBytes::new(&blob);
    let m = Model::parse(bytes.as_bytes()).unwrap();
    assert_eq!(m.header().element, ElementType::I8);
    assert_eq!((m.label_value(0), m.label_value(1)), (Some(-1), Some(1)));
    assert_eq!(
        (m.class_name(0), m.class_name(1)),
        (Some("low"), Some("high"))
    );
    let p = m.preprocessing().unwrap();
    assert_eq!((p.scales(), p.offsets()), (&a[..], &b[..]));

    let rs = dir.path().join("gen.rs");
    let out = dam(&[
        "export",
        "--model",
        s(&model),
        "--format",
        "rust",
        "--out",
        s(&rs),
    ]);
    assert!(out.status.success(), "{out:?}");
    let src = std::fs::read_to_string(&rs).unwrap();
    for needle in [
        "pub const LABELS: [i32; NC] = [-1, 1];",
        "pub const NAMES: [&str; NC] = [\"low\", \"high\"];",
        "pub const PREPROCESSING: bool = true;",
    ] {
        assert!(src.contains(needle), "{needle} not in {src}");
    }
}

/// `dam recall` completes occluded and masked cues: known entries never
/// change, every order reaches the stored pattern, the per-query report
/// says why each query stopped, and bad masks or options are refused
/// before anything is written.
#[test]
fn recall_completes_masked_cues_in_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let (k, d) = (4usize, 64usize);
    let stored: Vec<f32> = dam_std::patterns::random_bipolar(k, d, 3);
    let patterns: Vec<f64> = stored.iter().map(|&x| f64::from(x)).collect();
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[k, d], stored.clone());
    // `dam recall` on these memories and queries, `n = 3`, with `extra`.
    let recall = |extra: &[&str]| {
        let mut args = vec!["-n", "3"];
        args.extend_from_slice(extra);
        common::recall(&mem, &q, &args)
    };
    let states_of = |path: &Path| {
        let Elements::F64(states) = NpyArray::read(path).unwrap().data else {
            panic!("recall writes float64 states")
        };
        states
    };
    // Cues: the stored patterns, their bottom half wiped to −1.
    npy(&q, &[k, d], stored.clone());
    for order in ["sequential", "random", "sync"] {
        let out = dir.path().join(format!("{order}.npy"));
        let report = dir.path().join(format!("{order}.csv"));
        let run = recall(&[
            "--occlude",
            "bottom-half",
            "--order",
            order,
            "--out",
            s(&out),
            "--report",
            s(&report),
        ]);
        assert!(
            run.status.success(),
            "{order}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(
            states_of(&out),
            patterns,
            "{order}: the top half completes every pattern"
        );
        let csv = std::fs::read_to_string(&report).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(
            rows[0],
            "query,stop,steps,changed,energy_before,energy_after,nearest,overlap"
        );
        assert_eq!(rows.len(), k + 1, "{csv}");
        for (i, row) in rows[1..].iter().enumerate() {
            let f: Vec<&str> = row.split(',').collect();
            let i = i.to_string();
            assert_eq!(
                (f[0], f[1], f[6], f[7]),
                (&*i, "fixed-point", &*i, "1"),
                "{order}: {row}"
            );
            let (before, after): (f64, f64) = (f[4].parse().unwrap(), f[5].parse().unwrap());
            assert!(after < before, "{order}: the energy must fall: {row}");
        }
    }
    // Only the first 8 entries known, each the opposite of the stored
    // pattern's: they stay as given.
    let mut cue = stored[..d].to_vec();
    cue[..8].iter_mut().for_each(|x| *x = -*x);
    npy(&q, &[1, d], cue.clone());
    let mask = dir.path().join("mask.npy");
    npy(
        &mask,
        &[d],
        (0..d).map(|i| f32::from(u8::from(i < 8))).collect(),
    );
    let out = dir.path().join("masked.npy");
    let run = recall(&["--mask", s(&mask), "--out", s(&out)]);
    succeeds(&run);
    let cue: Vec<f64> = cue.iter().map(|&x| f64::from(x)).collect();
    assert_eq!(states_of(&out)[..8], cue[..8], "known entries are clamped");
    // The same mask for the log-sum-exp memories and DrDAM.
    for extra in [
        &["--family", "lse", "--beta", "0.5"][..],
        &["--family", "lse-dot", "--beta", "0.5"],
        &[
            "--family",
            "lse",
            "--beta",
            "0.5",
            "--drdam",
            "--features",
            "256",
        ],
    ] {
        let mut args = extra.to_vec();
        args.extend([
            "--mask",
            s(&mask),
            "--steps",
            "3",
            "--step",
            "0.5",
            "--out",
            s(&out),
        ]);
        let run = recall(&args);
        succeeds(&run);
        let states = states_of(&out);
        assert_eq!(
            states[..8],
            cue[..8],
            "{extra:?}: known entries are clamped"
        );
        assert_ne!(states[8..], cue[8..], "{extra:?}: free entries move");
    }
    // Refused, and nothing written: a mask of the wrong length, an order
    // for the log-sum-exp memory, an unknown occlusion, report = out.
    let fresh = dir.path().join("never.npy");
    npy(&mask, &[d - 1], vec![1.0; d - 1]);
    let refused: [(&[&str], &[&str]); 4] = [
        (&["--mask", s(&mask)], &["mask.npy", "63 entries", "D = 64"]),
        (
            &["--family", "lse", "--order", "sync"],
            &["--order applies to the bipolar memory"],
        ),
        (
            &["--occlude", "left-half"],
            &["--occlude left-half", "bottom-half"],
        ),
        (&["--report", s(&fresh)], &["never.npy"]),
    ];
    for (extra, needles) in refused {
        let mut args = extra.to_vec();
        args.extend(["--out", s(&fresh)]);
        fails_with(&recall(&args), needles);
        assert!(
            !fresh.exists(),
            "{extra:?}: a refused command wrote its output"
        );
    }
}

/// `dam scores` writes, for every raw input row, the class scores that
/// `dam-core`'s `Classifier` computes for the same memories, and refuses
/// inputs of the wrong width and Memory models.
#[test]
fn scores_match_the_classifier_for_npy_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (k, nv, nc, rows) = (6usize, 5usize, 3usize, 7usize);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(5);
    let mut uniform = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rand::RngExt::random_range(&mut rng, -1.0f32..1.0))
            .collect()
    };
    let (xi, x) = (uniform(k * (nv + nc)), uniform(rows * nv));
    let (mem, model, inputs, out) = (
        dir.path().join("m.npy"),
        dir.path().join("c.dam"),
        dir.path().join("x.npy"),
        dir.path().join("scores.npy"),
    );
    npy(&mem, &[k, nv + nc], xi.clone());
    npy(&inputs, &[rows, nv], x.clone());
    let import = dam(&[
        "import",
        s(&mem),
        "--kind",
        "classifier",
        "--classes",
        "3",
        "--interaction",
        "rect",
        "-n",
        "3",
        "--beta",
        "2",
        "--out",
        s(&model),
    ]);
    succeeds(&import);
    let run = dam(&[
        "scores",
        "--model",
        s(&model),
        "--inputs",
        s(&inputs),
        "--out",
        s(&out),
    ]);
    succeeds(&run);
    let Elements::F32(got) = NpyArray::read(&out).unwrap().data else {
        panic!("float32 scores expected")
    };
    let view = dam_core::MemoryView::new(&xi, k, nv + nc).unwrap();
    let clf = dam_core::Classifier::new(
        view,
        nc,
        Interaction::RectifiedPolynomial { n: 3 },
        Form::Normalized { beta: 2.0 },
    )
    .unwrap();
    let (mut want, mut scratch) = (vec![0.0f32; nc], vec![0.0f32; k]);
    for (row, got) in x.chunks_exact(nv).zip(got.chunks_exact(nc)) {
        clf.forward(row, &mut want, &mut scratch).unwrap();
        assert_eq!(got, &want[..]);
    }
    npy(&inputs, &[rows, nv + 1], vec![0.0; rows * (nv + 1)]);
    fails_with(
        &dam(&[
            "scores",
            "--model",
            s(&model),
            "--inputs",
            s(&inputs),
            "--out",
            s(&out),
        ]),
        &["x.npy", "rows of 6 values", "Nv = 5"],
    );
    let memory = dir.path().join("memory.dam");
    assert!(
        dam(&["import", s(&mem), "--out", s(&memory)])
            .status
            .success()
    );
    fails_with(
        &dam(&[
            "scores",
            "--model",
            s(&memory),
            "--inputs",
            s(&inputs),
            "--out",
            s(&out),
        ]),
        &["memory.dam"],
    );
}

/// Options that contradict a `--model` are refused, naming both; a 1-D
/// memories file needs an explicit shape; `--leak` sets the leaky `F`'s
/// slope and is refused for the other `F`s.
#[test]
fn recall_options_that_contradict_the_model_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("m.npy");
    let q = dir.path().join("q.npy");
    let model = dir.path().join("mem.dam");
    let out = dir.path().join("s.npy");
    npy(
        &mem,
        &[2, 4],
        vec![1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, -1.0],
    );
    npy(&q, &[1, 4], vec![1.0, 1.0, -1.0, 1.0]);
    let import = dam(&[
        "import",
        s(&mem),
        "-n",
        "3",
        "--beta",
        "2",
        "--out",
        s(&model),
    ]);
    succeeds(&import);
    let recall = |extra: &[&str]| {
        let mut args = vec![
            "recall",
            "--model",
            s(&model),
            "--queries",
            s(&q),
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        dam(&args)
    };
    for (extra, needles) in [
        (&["-n", "5"][..], &["--degree 5", "mem.dam"][..]),
        (&["--beta", "1"], &["--beta 1", "mem.dam", "β is 2"]),
        (&["--interaction", "exp"], &["--interaction", "mem.dam"]),
        (&["--raw"], &["--raw", "mem.dam"]),
    ] {
        fails_with(&recall(extra), needles);
        assert!(!out.exists(), "{extra:?} wrote its output");
    }
    // The model's own values are accepted.
    let ok = recall(&["-n", "3", "--beta", "2"]);
    succeeds(&ok);
    // One memory as a 1-D array: refused, with the shape to use.
    npy(&mem, &[4], vec![1.0, 1.0, -1.0, -1.0]);
    let out2 = dir.path().join("s2.npy");
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--out",
            s(&out2),
        ]),
        &["m.npy", "K×D", "(1, D)"],
    );
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--leak",
            "0.1",
            "--out",
            s(&out2),
        ]),
        &["--leak applies to --interaction leaky"],
    );
    npy(&mem, &[1, 4], vec![1.0, 1.0, -1.0, -1.0]);
    let leaky = dam(&[
        "recall",
        "--memories",
        s(&mem),
        "--queries",
        s(&q),
        "--interaction",
        "leaky",
        "--leak",
        "0.2",
        "--out",
        s(&out2),
    ]);
    succeeds(&leaky);
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--interaction",
            "leaky",
            "--leak=-1",
            "--out",
            s(&out2),
        ]),
        &["--leak"],
    );
}

/// `--noise` corrupts the queries reproducibly (same seed, same cue; a new
/// seed, a new cue), and `--png` draws query, cue and completion for square
/// images (and refuses other shapes before writing anything).
#[test]
fn recall_noise_is_seeded_and_png_draws_square_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (k, d) = (3usize, 64usize);
    let stored: Vec<f32> = dam_std::patterns::random_bipolar(k, d, 9);
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[k, d], stored.clone());
    npy(&q, &[k, d], stored.clone());
    let report_of = |seed: &str, name: &str| {
        let (out, report) = (
            dir.path().join(format!("{name}.npy")),
            dir.path().join(format!("{name}.csv")),
        );
        let run = dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--noise",
            "0.2",
            "--noise-seed",
            seed,
            "--out",
            s(&out),
            "--report",
            s(&report),
        ]);
        succeeds(&run);
        std::fs::read_to_string(report).unwrap()
    };
    let (a, b, c) = (
        report_of("1", "a"),
        report_of("1", "b"),
        report_of("2", "c"),
    );
    assert_eq!(a, b, "the same seed gives the same cues");
    assert_ne!(a, c, "another seed gives other cues");
    assert!(
        a.lines().skip(1).any(|l| l.split(',').nth(3) != Some("0")),
        "noise flips entries: {a}"
    );
    // A box hides exactly its pixels: those outside it keep their values.
    let boxed = dir.path().join("box.npy");
    let report = dir.path().join("box.csv");
    let run = dam(&[
        "recall",
        "--memories",
        s(&mem),
        "--queries",
        s(&q),
        "--occlude",
        "box:2,3,4,2",
        "--steps",
        "1",
        "--out",
        s(&boxed),
        "--report",
        s(&report),
    ]);
    succeeds(&run);
    let Elements::F64(states) = NpyArray::read(&boxed).unwrap().data else {
        panic!("float64 states expected")
    };
    for (i, (&got, &was)) in states.iter().zip(&stored).enumerate() {
        let (r, c) = ((i % d) / 8, i % 8);
        if !((2..6).contains(&r) && (3..5).contains(&c)) {
            assert_eq!(got, f64::from(was), "entry {i} outside the box changed");
        }
    }
    let png = dir.path().join("grid.png");
    let run = dam(&[
        "recall",
        "--memories",
        s(&mem),
        "--queries",
        s(&q),
        "--occlude",
        "top-half",
        "--out",
        s(&dir.path().join("p.npy")),
        "--png",
        s(&png),
    ]);
    succeeds(&run);
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    let energy = dir.path().join("grid-energy.png");
    assert_eq!(
        &std::fs::read(&energy).unwrap()[..4],
        b"\x89PNG",
        "the energy trajectory is drawn beside it"
    );
    npy(&mem, &[k, 6], vec![1.0; k * 6]);
    npy(&q, &[1, 6], vec![1.0; 6]);
    let never = dir.path().join("never.png");
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--out",
            s(&dir.path().join("x.npy")),
            "--png",
            s(&never),
        ]),
        &["--png", "D = 6"],
    );
    assert!(!never.exists());
}
