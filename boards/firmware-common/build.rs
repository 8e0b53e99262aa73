//! Picks the model and the test vectors the firmware embeds, and fails
//! early, with the command to run, when the vectors for the model have not
//! been generated.
//!
//! The model is [`MODEL`] (relative to this folder), or the file named by
//! the environment variable `DAM_BOARD_MODEL` (absolute, or relative to
//! `boards/`). Its element type selects the classifier (`cfg(dam_model =
//! "i8")`: `QuantizedClassifier<i8>` on FPU targets, `FixedClassifier`
//! without an FPU; `cfg(dam_model = "f32")`: `Classifier<f32>`).
//!
//! The vectors are `dam predict`'s files in [`VECTORS`], or in the
//! directory named by `DAM_BOARD_VECTORS` (absolute, or relative to
//! `boards/`). How they hold the inputs sets `cfg(dam_inputs)`: `"u8"`
//! (`inputs.u8` and `byte-values.f32`, images) or `"f32"` (`inputs.f32`).
use std::path::{Path, PathBuf};

use dam_core::model::{ElementType, Header};

/// The model every board embeds: change this line (or set
/// `DAM_BOARD_MODEL`) to embed another one. Any classifier model of
/// `Nv ≤ 1024`, `K ≤ 160` (`i8`) or `512` (`f32`), `Nc ≤ 16`, that fits the
/// flash with its vectors.
const MODEL: &str = "../data/mnist-k120.i8.dam";

/// Where `dam predict` writes the vectors by default.
const VECTORS: &str = "../data/vectors";

/// A path from the environment variable `var` (absolute, or relative to
/// `boards/`), or `default` (relative to this folder), made absolute.
fn path_from_env(var: &str, default: &str) -> PathBuf {
    println!("cargo::rerun-if-env-changed={var}");
    let p: PathBuf = match std::env::var_os(var) {
        Some(p) if Path::new(&p).is_absolute() => p.into(),
        Some(p) => Path::new("..").join(p),
        None => default.into(),
    };
    p.canonicalize()
        .unwrap_or_else(|e| panic!("{var} {}: {e}", p.display()))
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dam_model, values(\"i8\", \"f32\"))");
    println!("cargo::rustc-check-cfg=cfg(dam_inputs, values(\"u8\", \"f32\"))");
    let model = path_from_env("DAM_BOARD_MODEL", MODEL);
    println!("cargo::rerun-if-changed={}", model.display());
    let bytes = std::fs::read(&model).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    // The header alone (the firmware parses and checks the whole file).
    let (header, _) = Header::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    let (kind, predictions): (&str, &[&str]) = match header.element {
        ElementType::I8 => ("i8", &["predictions-i8.u8", "predictions-fixed.u8"]),
        ElementType::F32 => (
            "f32",
            &["predictions-cortex-m4f.u8", "predictions-unfused.u8"],
        ),
        other => panic!(
            "{}: {other:?} models are not supported by the firmware (export f32 or i8)",
            model.display()
        ),
    };
    println!("cargo::rustc-cfg=dam_model=\"{kind}\"");
    println!("cargo::rustc-env=DAM_BOARD_MODEL_PATH={}", model.display());
    let regenerate = format!(
        "generate the test vectors for this model first, from the repository root:\n  \
         cargo run --release -p dam-cli -- predict --model {} --count 500 \
         --out boards/data/vectors   (add the --data … options the model was trained with; \
         another directory: set DAM_BOARD_VECTORS)",
        model.display()
    );
    let default_dir = Path::new(VECTORS);
    if std::env::var_os("DAM_BOARD_VECTORS").is_none() && !default_dir.is_dir() {
        panic!("{} is missing: {regenerate}", default_dir.display());
    }
    let dir = path_from_env("DAM_BOARD_VECTORS", VECTORS);
    println!("cargo::rustc-env=DAM_BOARD_VECTORS_DIR={}", dir.display());
    // `dam predict` writes one encoding and removes the other's files.
    let inputs: &[&str] = if dir.join("inputs.u8").is_file() {
        println!("cargo::rustc-cfg=dam_inputs=\"u8\"");
        &["inputs.u8", "byte-values.f32"]
    } else {
        println!("cargo::rustc-cfg=dam_inputs=\"f32\"");
        &["inputs.f32"]
    };
    for name in ["inputs.u8", "inputs.f32"] {
        println!("cargo::rerun-if-changed={}", dir.join(name).display());
    }
    for f in ["classes.u8", "model.crc32"]
        .iter()
        .chain(inputs)
        .chain(predictions)
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
