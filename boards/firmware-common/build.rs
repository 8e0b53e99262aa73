//! Picks the model the firmware embeds, and fails early, with the command
//! to run, when the test vectors for it have not been generated.
//!
//! The model is [`MODEL`] (relative to this folder), or the file named by
//! the environment variable `DAM_BOARD_MODEL` (absolute, or relative to
//! `boards/`). Its element type selects the classifier (`cfg(dam_model =
//! "i8")`: `QuantizedClassifier<i8>` on FPU targets, `FixedClassifier`
//! without an FPU; `cfg(dam_model = "f32")`: `Classifier<f32>`) and the
//! test-vector files the firmware embeds.
use std::path::{Path, PathBuf};

use dam_core::model::{ElementType, Header};

/// The model every board embeds: change this line (or set
/// `DAM_BOARD_MODEL`) to embed another one. Any classifier model of
/// `Nv ≤ 1024`, `K ≤ 160`, `Nc ≤ 16`, `f32` or `i8`, that fits the flash.
const MODEL: &str = "../data/mnist-k120.i8.dam";

fn main() {
    println!("cargo::rerun-if-env-changed=DAM_BOARD_MODEL");
    println!("cargo::rustc-check-cfg=cfg(dam_model, values(\"i8\", \"f32\"))");
    let model: PathBuf = match std::env::var_os("DAM_BOARD_MODEL") {
        Some(p) if Path::new(&p).is_absolute() => p.into(),
        Some(p) => Path::new("..").join(p),
        None => MODEL.into(),
    };
    let model = model
        .canonicalize()
        .unwrap_or_else(|e| panic!("model {}: {e}", model.display()));
    println!("cargo::rerun-if-changed={}", model.display());
    let bytes = std::fs::read(&model).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    // The header alone (the firmware parses and checks the whole file).
    let (header, _) = Header::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    let (kind, files): (&str, &[&str]) = match header.element {
        ElementType::I8 => (
            "i8",
            &[
                "pixel-levels.i8",
                "predictions-i8.u8",
                "predictions-fixed.u8",
            ],
        ),
        ElementType::F32 => (
            "f32",
            &[
                "pixel-values.f32",
                "predictions-cortex-m4f.u8",
                "predictions-unfused.u8",
            ],
        ),
        other => panic!(
            "{}: {other:?} models are not supported by the firmware (export f32 or i8)",
            model.display()
        ),
    };
    println!("cargo::rustc-cfg=dam_model=\"{kind}\"");
    println!("cargo::rustc-env=DAM_BOARD_MODEL_PATH={}", model.display());
    let dir = Path::new("../data/vectors");
    let regenerate = format!(
        "generate the test vectors for this model first, from the repository root:\n  \
         cargo run --release -p dam-std --bin dam -- predict --model {} --count 500 \
         --out boards/data/vectors",
        model.display()
    );
    for f in ["images.u8", "labels.u8", "model.crc32"]
        .iter()
        .chain(files)
    {
        let p = dir.join(f);
        println!("cargo::rerun-if-changed={}", p.display());
        if !p.is_file() {
            panic!("{} is missing: {regenerate}", p.display());
        }
    }
    // `dam predict` records the CRC trailer of the model it used.
    let crc = std::fs::read(dir.join("model.crc32")).unwrap_or_default();
    if bytes.last_chunk::<4>().map(|c| c.as_slice()) != Some(crc.as_slice()) {
        panic!(
            "{} holds the vectors of another model than {}: {regenerate}",
            dir.display(),
            model.display()
        );
    }
}
