//! Test vectors for the board firmware (`boards/`): test rows of any
//! dataset, their true classes, and the host's predictions for a model
//! computed exactly as a board computes them, so a board can check that it
//! classifies every row as the host does.
//!
//! A board feeds the model **raw values**: the firmware applies the input
//! map stored in the model ([`dam_core::model::Model::preprocessing`],
//! identity for a model without one) and, for an `i8` model, the query
//! quantization, with `dam-core`'s own code; [`predict`] does the same here.
//! For a model without a stored map (format version 1), the host maps 8-bit
//! images by `2p/255 − 1` before they reach the board (what the trainer did
//! before the map was stored): [`Vectors::new`]'s `host_map`.
//!
//! Only the dot products `ξ^μ·v` of an `f32` model are summed differently
//! on different targets (`dam_core::simd` picks a kernel per target);
//! everything else is the same scalar code everywhere. [`SumOrder`]
//! reproduces each board's order on the host, so the predictions are
//! bit-identical to the board's rather than merely close: a rounding
//! difference can flip a close `argmax`. For an `i8` model the dot products
//! are exact integer sums; only the classifier differs, and both are written.
//!
//! The files [`write()`] produces (all little-endian, no header; the firmware
//! checks their lengths against the model):
//!
//! | file | contents |
//! |---|---|
//! | `inputs.u8` + `byte-values.f32` | when every value is a byte (`0..=255`, as images are): `N × Nv` bytes, and the 256 `f32` values the bytes stand for |
//! | `inputs.f32` | otherwise: `N × Nv` `f32` values |
//! | `classes.u8` | `N` true class indices (`0..Nc`, the model's order; 255 for a label the model does not know) |
//! | `predictions-<name>.u8` | `N` predicted class indices, one file per [`Target`] of the model's element type |
//! | `model.crc32` | the CRC trailer of the model, so that a firmware build refuses vectors made for another model |
//!
//! | model | `<name>` | the board that compares with it |
//! |---|---|---|
//! | `f32` (classifier or Potts) | `cortex-m4f` | FPU targets (`vfma.f32` sums, [`SumOrder::CortexM4F`]) |
//! | `f32` (classifier or Potts) | `unfused` | targets without an FPU ([`SumOrder::Unfused`]) |
//! | `i8` | `i8` | FPU targets: `QuantizedClassifier<i8>` (integer overlaps, `f32` rescale and scoring) |
//! | `i8` | `fixed` | targets without an FPU: `FixedClassifier` (fixed point only) |

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use dam_core::model::{ElementType, Kind, Model};
use dam_core::{Arithmetic, Prepared};

use crate::data::Split;
use crate::data::dataset::InputMap;
use crate::model_io::write_atomic;

/// How a target sums the dot products of [`dam_core::Classifier::forward`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SumOrder {
    /// `thumbv7em-none-eabihf` (Cortex-M4F/M7): `dam_core::simd`'s
    /// `vfma.f32` loop over blocks of 8 entries into 4 accumulators
    /// (entry `i` into accumulator `i mod 4`), summed as
    /// `(s0 + s1) + (s2 + s3)`, then the 0–7 remaining entries by the scalar
    /// reference with fused multiply-adds.
    CortexM4F,
    /// Targets without an FPU (`thumbv6m-none-eabi`: Cortex-M0+, RP2040):
    /// the scalar reference with a separate multiply and add (two roundings),
    /// as `Real::mul_add` is there.
    Unfused,
}

impl SumOrder {
    /// Every order, in file order.
    pub const ALL: [SumOrder; 2] = [SumOrder::CortexM4F, SumOrder::Unfused];

    /// The name in file names (`predictions-<name>.u8`).
    pub fn name(self) -> &'static str {
        match self {
            SumOrder::CortexM4F => "cortex-m4f",
            SumOrder::Unfused => "unfused",
        }
    }

    /// `Σ a_i b_i` over the common length, rounded as the target rounds it.
    ///
    /// ```
    /// use dam_std::firmware::SumOrder;
    /// // 2^24 + 1 + 1: on the M4F the two ones meet in `s2 + s3` before
    /// // reaching 2^24; an in-order sum loses each of them to rounding.
    /// let a = [16_777_216.0f32, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    /// let ones = [1.0f32; 8];
    /// assert_eq!(SumOrder::CortexM4F.dot(&a, &ones), 16_777_218.0);
    /// assert_eq!(a.iter().fold(0.0f32, |s, x| s + x), 16_777_216.0);
    /// ```
    pub fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            SumOrder::CortexM4F => {
                let n = a.len().min(b.len());
                let (body_a, tail_a) = a[..n].split_at(n / 8 * 8);
                let (body_b, tail_b) = b[..n].split_at(n / 8 * 8);
                // The asm loop runs only when there is a whole block.
                let body = if body_a.is_empty() {
                    0.0
                } else {
                    let mut s = [0.0f32; 4];
                    for (x, y) in body_a.chunks_exact(4).zip(body_b.chunks_exact(4)) {
                        for ((s, &x), &y) in s.iter_mut().zip(x).zip(y) {
                            *s = x.mul_add(y, *s);
                        }
                    }
                    (s[0] + s[1]) + (s[2] + s[3])
                };
                body + reduce4(tail_a, tail_b, f32::mul_add)
            }
            SumOrder::Unfused => reduce4(a, b, |x, y, s| x * y + s),
        }
    }
}

/// `dam_core::simd::scalar`'s reduction: entry `i` of each whole block of
/// 4 into accumulator `i`, the remainder into a fifth, summed as
/// `(s0 + s1) + (s2 + s3) + tail`; `mac(x, y, s)` is `x·y + s`.
fn reduce4(a: &[f32], b: &[f32], mac: impl Fn(f32, f32, f32) -> f32) -> f32 {
    let mut s = [0.0f32; 4];
    let (mut ca, mut cb) = (a.chunks_exact(4), b.chunks_exact(4));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, &x), &y) in s.iter_mut().zip(x).zip(y) {
            *s = mac(x, y, *s);
        }
    }
    let tail = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .fold(0.0, |t, (&x, &y)| mac(x, y, t));
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// How the vectors hold the inputs (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Inputs {
    /// `N × Nv` bytes and the value each byte stands for.
    Bytes {
        /// The rows, one byte per value.
        rows: Vec<u8>,
        /// The value of byte `b`, `values[b]`.
        values: Box<[f32; 256]>,
    },
    /// `N × Nv` values.
    Floats(Vec<f32>),
}

/// Test rows as a board receives them, with their true classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    /// The inputs.
    pub inputs: Inputs,
    /// Features per row, `Nv`.
    pub dim: usize,
    /// The true class index of every row (255: not one of the model's).
    pub classes: Vec<u8>,
}

/// The class index written for a label the model does not know.
pub const UNKNOWN_CLASS: u8 = 255;

impl Vectors {
    /// The rows of `raw` (values as read, labels as class indices) after
    /// `host_map`, as bytes if every raw value is a byte and `host_map` is
    /// the same for every feature, as `f32` otherwise. Errors: a class
    /// index above 254, a non-finite value after the map.
    ///
    /// ```
    /// use dam_std::data::{Split, dataset::InputMap};
    /// use dam_std::firmware::{Inputs, Vectors};
    /// let raw = Split { images: vec![0.0, 255.0, 3.0, 7.0], labels: vec![1, 0], dim: 2 };
    /// let legacy = InputMap { scale: vec![2.0 / 255.0; 2], offset: vec![-1.0; 2] };
    /// let v = Vectors::new(&raw, &legacy)?;
    /// let Inputs::Bytes { rows, values } = &v.inputs else { panic!() };
    /// assert_eq!((rows.as_slice(), values[0], values[255]), (&[0u8, 255, 3, 7][..], -1.0, 1.0));
    /// let floats = Split { images: vec![0.5, 1.0, 3.0, 7.0], ..raw };
    /// assert_eq!(Vectors::new(&floats, &InputMap::identity(2))?.inputs, Inputs::Floats(vec![0.5, 1.0, 3.0, 7.0]));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn new(raw: &Split, host_map: &InputMap) -> Result<Self> {
        if host_map.scale.len() != raw.dim || host_map.offset.len() != raw.dim {
            bail!(
                "an input map of {} features for rows of {}",
                host_map.scale.len(),
                raw.dim
            );
        }
        let classes = raw
            .labels
            .iter()
            .map(|&c| u8::try_from(c).ok().filter(|&c| c != UNKNOWN_CLASS))
            .collect::<Option<Vec<u8>>>()
            .context("the firmware vectors hold at most 255 classes")?;
        let bytes = raw
            .images
            .iter()
            .all(|&x| (0.0..=255.0).contains(&x) && x.fract() == 0.0);
        let uniform = |v: &[f32]| v.windows(2).all(|w| w[0].to_bits() == w[1].to_bits());
        let inputs = if bytes && uniform(&host_map.scale) && uniform(&host_map.offset) {
            let (a, b) = (
                host_map.scale.first().copied().unwrap_or(1.0),
                host_map.offset.first().copied().unwrap_or(0.0),
            );
            let mut values = Box::new([0.0f32; 256]);
            for (p, v) in values.iter_mut().enumerate() {
                *v = a * p as f32 + b;
            }
            Inputs::Bytes {
                rows: raw.images.iter().map(|&x| x as u8).collect(),
                values,
            }
        } else {
            let mut rows = raw.images.clone();
            for row in rows.chunks_exact_mut(raw.dim.max(1)) {
                host_map.apply(row);
            }
            Inputs::Floats(rows)
        };
        let v = Vectors {
            inputs,
            dim: raw.dim,
            classes,
        };
        let mut row = vec![0.0f32; v.dim];
        for i in 0..v.len() {
            v.row(i, &mut row);
            if let Some(j) = row.iter().position(|x| !x.is_finite()) {
                bail!("row {i}, feature {j}: the value is not finite after the input map");
            }
        }
        Ok(v)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The values of row `i` (as a board reads them) into `out`
    /// (`Nv` long).
    pub fn row(&self, i: usize, out: &mut [f32]) {
        let range = i * self.dim..(i + 1) * self.dim;
        match &self.inputs {
            Inputs::Bytes { rows, values } => {
                for (o, &b) in out.iter_mut().zip(&rows[range]) {
                    *o = values[usize::from(b)];
                }
            }
            Inputs::Floats(rows) => out.copy_from_slice(&rows[range]),
        }
    }
}

/// What a board runs, and so which host predictions it compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// An `f32` model with the dot products summed in this order.
    F32(SumOrder),
    /// An `i8` model through `QuantizedClassifier<i8>` (FPU targets).
    I8,
    /// An `i8` model through `FixedClassifier` (no FPU).
    Fixed,
}

impl Target {
    /// The targets of a model with `element` entries, in file order.
    pub fn for_element(element: ElementType) -> Result<&'static [Target]> {
        match element {
            ElementType::F32 => Ok(&[
                Target::F32(SumOrder::CortexM4F),
                Target::F32(SumOrder::Unfused),
            ]),
            ElementType::I8 => Ok(&[Target::I8, Target::Fixed]),
            other => bail!(
                "{other:?} models are not run by the board firmware (export f32 or i8: dam export --quantize i8)"
            ),
        }
    }

    /// The name in file names (`predictions-<name>.u8`).
    pub fn name(self) -> &'static str {
        match self {
            Target::F32(order) => order.name(),
            Target::I8 => "i8",
            Target::Fixed => "fixed",
        }
    }
}

/// One row's raw values to a class, as a board computes it.
type Classify<'a> = dyn FnMut(&[f32]) -> dam_core::Result<usize> + 'a;

/// The class index the model in `bytes` (its file, at an address aligned
/// for it) gives each row of `vectors` on `target`, as the firmware
/// computes it: through [`Prepared`], the boards' own handle, for an `i8`
/// model; for an `f32` model the same steps (input map, then the
/// classifier) with the dot products summed in the board's order.
pub fn predict(bytes: &[u8], vectors: &Vectors, target: Target) -> Result<Vec<u8>> {
    let named = |e: dam_core::Error| anyhow!("{e}");
    let model = Model::parse(bytes).map_err(|e| anyhow!("{e}"))?;
    let nv = model.header().nv as usize;
    if vectors.dim != nv {
        bail!(
            "rows of {} features, but the model has Nv = {nv}",
            vectors.dim
        );
    }
    let mut raw = vec![0.0f32; nv];
    let mut classify: Box<Classify<'_>> = match target {
        // `Prepared` sums with this host's kernels: the board's order needs
        // the `*_with` forms of the f32 forward passes.
        Target::F32(order) => {
            let pre = model.preprocessing();
            let mut v = vec![0.0f32; nv];
            let dot = move |a: &[f32], b: &[f32]| order.dot(a, b);
            let mut forward: Box<Classify<'_>> = if model.header().kind == Kind::Potts {
                let clf = model.potts::<f32>().map_err(named)?;
                let (mut probs, mut scratch) = (
                    vec![0.0f32; clf.classes()],
                    vec![0.0f32; clf.memories().k()],
                );
                Box::new(move |v| clf.posterior_with(dot, v, &mut probs, &mut scratch))
            } else {
                let clf = model.classifier::<f32>().map_err(named)?;
                let (mut scores, mut scratch) = (
                    vec![0.0f32; clf.classes()],
                    vec![0.0f32; clf.memories().k()],
                );
                Box::new(move |v| clf.forward_with(dot, v, &mut scores, &mut scratch))
            };
            Box::new(move |raw| {
                match pre {
                    Some(p) => p.apply(raw, &mut v)?,
                    None => v.copy_from_slice(raw),
                }
                forward(&v)
            })
        }
        Target::I8 | Target::Fixed => {
            let arithmetic = if target == Target::I8 {
                Arithmetic::Float
            } else {
                Arithmetic::FixedPoint
            };
            let clf = Prepared::with_arithmetic(bytes, arithmetic).map_err(named)?;
            let mut scratch = vec![0u8; clf.scratch_bytes()];
            Box::new(move |raw| clf.classify(raw, &mut scratch))
        }
    };
    (0..vectors.len())
        .map(|i| {
            vectors.row(i, &mut raw);
            let class = classify(&raw)
                .map_err(named)
                .with_context(|| format!("row {i}"))?;
            u8::try_from(class).context("more than 255 classes")
        })
        .collect()
}

/// [`predict`] for an `f32` model with this host's fastest kernels
/// ([`Prepared::classify`]), to show how often they differ from a board's
/// order.
pub fn predict_fastest(bytes: &[u8], vectors: &Vectors) -> Result<Vec<u8>> {
    let named = |e: dam_core::Error| anyhow!("{e}");
    let clf = Prepared::new(bytes).map_err(named)?;
    if vectors.dim != clf.inputs() {
        bail!(
            "rows of {} features, but the model has Nv = {}",
            vectors.dim,
            clf.inputs()
        );
    }
    let (mut raw, mut scratch) = (vec![0.0f32; clf.inputs()], vec![0u8; clf.scratch_bytes()]);
    (0..vectors.len())
        .map(|i| {
            vectors.row(i, &mut raw);
            let class = clf.classify(&raw, &mut scratch).map_err(named)?;
            u8::try_from(class).context("more than 255 classes")
        })
        .collect()
}

/// The files of the other encoding and of earlier versions, removed so
/// that a firmware build cannot pick up stale ones (with `model.crc32`,
/// every file [`write()`] writes or removes).
pub const OLD_FILES: [&str; 12] = [
    "inputs.u8",
    "byte-values.f32",
    "inputs.f32",
    "images.u8",
    "labels.u8",
    "pixel-values.f32",
    "pixel-levels.i8",
    "predictions-cortex-m4f.u8",
    "predictions-unfused.u8",
    "predictions-i8.u8",
    "predictions-fixed.u8",
    "classes.u8",
];

/// Writes the vectors and the host's predictions for every [`Target`] of
/// the model in `bytes` (its file, aligned) into `dir` (created if missing;
/// the files in the module docs, `model.crc32` from the file's CRC
/// trailer) and returns the predictions. Every prediction is computed
/// before any file is written.
pub fn write(dir: &Path, bytes: &[u8], vectors: &Vectors) -> Result<Vec<(Target, Vec<u8>)>> {
    let model = Model::parse(bytes).map_err(|e| anyhow!("{e}"))?;
    let crc = bytes.last_chunk::<4>().copied().unwrap_or_default();
    let predictions = Target::for_element(model.header().element)?
        .iter()
        .map(|&t| Ok((t, predict(bytes, vectors, t)?)))
        .collect::<Result<Vec<_>>>()?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for stale in OLD_FILES {
        let p = dir.join(stale);
        if p.exists() {
            fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    match &vectors.inputs {
        Inputs::Bytes { rows, values } => {
            write_atomic(&dir.join("inputs.u8"), rows)?;
            let values: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            write_atomic(&dir.join("byte-values.f32"), &values)?;
        }
        Inputs::Floats(rows) => {
            let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
            write_atomic(&dir.join("inputs.f32"), &bytes)?;
        }
    }
    write_atomic(&dir.join("classes.u8"), &vectors.classes)?;
    for (t, p) in &predictions {
        write_atomic(&dir.join(format!("predictions-{}.u8", t.name())), p)?;
    }
    write_atomic(&dir.join("model.crc32"), &crc)?;
    Ok(predictions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_io::{AlignedBytes, Entries, Extras, encode_with};
    use dam_core::model::{Header, Kind};
    use dam_core::simd::{Isa, Kernels};
    use dam_core::{Form, Interaction};

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 3.0
            })
            .collect()
    }

    /// 2 features, 2 memories of 2 classes: bright → class 0, dark →
    /// class 1, with `extras`.
    fn toy(memories: Entries<'_>, extras: &Extras<'_>) -> AlignedBytes {
        let element = match memories {
            Entries::I8 { .. } => ElementType::I8,
            _ => ElementType::F32,
        };
        let h = Header {
            kind: Kind::Classifier,
            element,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            form: Form::Normalized { beta: 1.0 },
            k: 2,
            nv: 2,
            nc: 2,
        };
        AlignedBytes::new(&encode_with(&h, &[7, 9], memories, extras).unwrap())
    }

    const XI: [f32; 8] = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];

    #[test]
    fn bytes_with_the_legacy_map_give_the_files_the_firmware_checks() {
        let bytes = toy(Entries::F32(&XI), &Extras::default());
        let raw = Split {
            images: vec![250.0, 240.0, 10.0, 0.0, 200.0, 255.0],
            labels: vec![0, 1, 1],
            dim: 2,
        };
        let legacy = InputMap {
            scale: vec![2.0 / 255.0; 2],
            offset: vec![-1.0; 2],
        };
        let v = Vectors::new(&raw, &legacy).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // A file of the other encoding from an earlier run goes.
        fs::write(dir.path().join("inputs.f32"), [0u8; 8]).unwrap();
        let written = write(dir.path(), bytes.as_bytes(), &v).unwrap();
        let read = |f: &str| fs::read(dir.path().join(f)).unwrap();
        assert_eq!(read("inputs.u8"), [250, 240, 10, 0, 200, 255]);
        assert_eq!(read("classes.u8"), [0, 1, 1]);
        assert_eq!(
            read("model.crc32"),
            bytes.as_bytes()[bytes.as_bytes().len() - 4..]
        );
        assert!(!dir.path().join("inputs.f32").exists());
        let values = read("byte-values.f32");
        assert_eq!(values.len(), 1024);
        assert_eq!(values[4 * 255..], 1.0f32.to_le_bytes());
        assert_eq!(values[..4], (-1.0f32).to_le_bytes());
        assert_eq!(written.len(), 2);
        for (t, p) in written {
            assert_eq!(p, [0, 1, 0], "{t:?}");
            assert_eq!(read(&format!("predictions-{}.u8", t.name())), p);
        }
        let wrong_dim = Vectors { dim: 3, ..v };
        assert!(predict(bytes.as_bytes(), &wrong_dim, Target::F32(SumOrder::Unfused)).is_err());
    }

    #[test]
    fn floats_go_through_the_stored_map_of_an_i8_model() {
        // Raw temperatures: the stored map sends 20 → −1 and 30 → +1.
        let (a, b) = ([0.2f32, 0.2], [-5.0f32, -5.0]);
        let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
        let extras = Extras {
            preprocessing: Some((&a, &b)),
            names: None,
        };
        let scales = [1.0f32 / 127.0; 2];
        let memories = Entries::I8 {
            levels: &levels,
            scales: &scales,
        };
        let bytes = toy(memories, &extras);
        let raw = Split {
            images: vec![29.5, 30.0, 20.5, 20.0, 28.25, 29.0, 21.0, 20.0],
            labels: vec![0, 1, 0, 3],
            dim: 2,
        };
        let v = Vectors::new(&raw, &InputMap::identity(2)).unwrap();
        assert_eq!(v.inputs, Inputs::Floats(raw.images.clone()));
        let dir = tempfile::tempdir().unwrap();
        let written = write(dir.path(), bytes.as_bytes(), &v).unwrap();
        let names: Vec<_> = written.iter().map(|(t, _)| t.name()).collect();
        assert_eq!(names, ["i8", "fixed"]);
        for (_, p) in &written {
            assert_eq!(p, &[0, 1, 0, 1]);
        }
        let floats = fs::read(dir.path().join("inputs.f32")).unwrap();
        assert_eq!(floats[..4], 29.5f32.to_le_bytes());
        assert!(!dir.path().join("inputs.u8").exists());
    }

    #[test]
    fn vectors_refuse_what_a_board_cannot_hold() {
        let many = Split {
            images: vec![0.0; 2],
            labels: vec![0, 255],
            dim: 1,
        };
        assert!(Vectors::new(&many, &InputMap::identity(1)).is_err());
        let huge = Split {
            images: vec![3e38, 1.0],
            labels: vec![0, 1],
            dim: 1,
        };
        let doubling = InputMap {
            scale: vec![10.0],
            offset: vec![0.0],
        };
        let e = Vectors::new(&huge, &doubling).unwrap_err().to_string();
        assert!(e.contains("row 0"), "{e}");
        let shape = Split {
            images: vec![1.0; 4],
            labels: vec![0, 1],
            dim: 2,
        };
        assert!(Vectors::new(&shape, &InputMap::identity(3)).is_err());
        let bytes = toy(Entries::F64(&[0.5; 8]), &Extras::default());
        let v = Vectors::new(&shape, &InputMap::identity(2)).unwrap();
        assert!(write(tempfile::tempdir().unwrap().path(), bytes.as_bytes(), &v).is_err());
    }

    #[test]
    fn orders_agree_with_f64_within_rounding() {
        for n in 0..40 {
            let (a, b) = (values(n, 1), values(n, 2));
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let bound: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x * y).abs() as f64)
                .sum::<f64>()
                * (n as f64 + 1.0)
                * f32::EPSILON as f64;
            for order in SumOrder::ALL {
                let d = order.dot(&a, &b) as f64;
                assert!(
                    (d - exact).abs() <= bound,
                    "{order:?} n = {n}: {d} vs {exact}"
                );
            }
        }
    }

    // The host's scalar reference is unfused unless built with FMA.
    #[cfg(not(target_feature = "fma"))]
    #[test]
    fn unfused_order_is_the_scalar_reference_without_fma() {
        for n in [0, 3, 4, 7, 8, 13, 794] {
            let (a, b) = (values(n, 3), values(n, 4));
            assert_eq!(
                SumOrder::Unfused.dot(&a, &b).to_bits(),
                f32::dot_on(Isa::Scalar, &a, &b).to_bits(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn cortex_m4f_order_is_blocks_of_eight_then_fused_tail() {
        // Entries 8·j + i land in accumulator i mod 4: a sum that cancels
        // within one accumulator but not across them shows the grouping.
        let big = 16_777_216.0f32; // 2^24: adding 1 to it rounds away
        let mut a = [0.0f32; 9];
        a[0] = big;
        a[4] = -big;
        a[1] = 1.0;
        a[8] = 1.0; // the tail
        let ones = [1.0f32; 9];
        assert_eq!(SumOrder::CortexM4F.dot(&a, &ones), 2.0);
        // In plain order the first 1 is lost against 2^24.
        let in_order = a.iter().fold(0.0f32, |s, x| s + x);
        assert_eq!(in_order, 1.0);
    }
}
