//! Quantization of trained `f32` models (`i8` or `i16` levels with one
//! scale per memory, `docs/model-format.md`) and their evaluation through
//! the same `dam-core` forward passes firmware runs.

use anyhow::{Result, anyhow, bail};
use dam_core::model::{ElementType, Model};
use dam_core::quantized::{FixedRow, Level, Score, quantize_query};
use rayon::prelude::*;

use crate::data::mnist::Split;
use crate::model_io::{Entries, OwnedExtras, encode_with};
use crate::train::kh16::Evaluation;

/// The element type to store a model's memories as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `f32`, unchanged.
    F32,
    /// `i16` levels (`±32 767`) with per-memory scales.
    I16,
    /// `i8` levels (`±127`) with per-memory scales.
    I8,
}

/// Per memory (rows of `d`), `s_μ = max_i |ξ^μ_i| / L` (`1` for an all-zero
/// memory) and `q^μ_i = round(ξ^μ_i / s_μ)`, with `L` the type's
/// [`MAX_LEVEL`](dam_core::simd::IntKernels::MAX_LEVEL): the largest entry
/// of each memory is exact, every entry within `s_μ/2`.
///
/// ```
/// let (q, s) = dam_std::quantize::quantize_rows::<i8>(&[0.5, -1.0, 0.25, 0.0, 0.0, 0.0], 3);
/// assert_eq!(q, [64, -127, 32, 0, 0, 0]);
/// assert_eq!(s, [1.0 / 127.0, 1.0]);
/// ```
pub fn quantize_rows<Q: Level>(xi: &[f32], d: usize) -> (Vec<Q>, Vec<f32>) {
    let l = Q::MAX_LEVEL as f32;
    let mut levels = Vec::with_capacity(xi.len());
    let mut scales = Vec::with_capacity(xi.len() / d.max(1));
    for row in xi.chunks_exact(d.max(1)) {
        let max = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let s = if max > 0.0 { max / l } else { 1.0 };
        levels.extend(
            row.iter()
                .map(|&x| Q::from_f32((x / s).round().clamp(-l, l))),
        );
        scales.push(s);
    }
    (levels, scales)
}

/// Re-encodes an `f32` model at `precision` (header, labels and CRC
/// rewritten; `F`, form and dimensions unchanged). The label values, the
/// input map and the class names of `model` are carried over unchanged.
pub fn quantize_model(model: &Model<'_>, precision: Precision) -> Result<Vec<u8>> {
    let h = model.header();
    if h.element != ElementType::F32 {
        bail!(
            "the model stores {:?} memories; quantization starts from f32",
            h.element
        );
    }
    let xi = model.memories::<f32>().map_err(|e| anyhow!("{e}"))?;
    let kept = OwnedExtras::of(model)?;
    let (labels, extras) = (&kept.labels, &kept.extras());
    let (xi, d) = (xi.as_slice(), h.d());
    match precision {
        Precision::F32 => encode_with(h, labels, Entries::F32(xi), extras),
        Precision::I16 => {
            let (levels, scales) = quantize_rows::<i16>(xi, d);
            let entries = Entries::I16 {
                levels: &levels,
                scales: &scales,
            };
            encode_with(h, labels, entries, extras)
        }
        Precision::I8 => {
            let (levels, scales) = quantize_rows::<i8>(xi, d);
            let entries = Entries::I8 {
                levels: &levels,
                scales: &scales,
            };
            encode_with(h, labels, entries, extras)
        }
    }
}

/// How [`evaluate_model`] runs a classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardPath {
    /// `Classifier::forward` (f32 models) or `QuantizedClassifier::forward`
    /// (the `f32` rescale of i8/i16 models).
    Float,
    /// `FixedClassifier::forward` (i8 models): no floating point.
    Fixed,
}

/// Classifies every image of `split` with `model`'s classifier, one image
/// at a time through the `dam-core` forward pass firmware uses (queries
/// quantized with [`quantize_query`] for quantized models), in parallel.
pub fn evaluate_model(model: &Model<'_>, split: &Split, path: ForwardPath) -> Result<Evaluation> {
    let h = model.header();
    let (nv, nc, k) = (h.nv as usize, h.nc as usize, h.k as usize);
    let err = |e: dam_core::Error| anyhow!("{e}");
    if split.dim != nv {
        bail!(
            "the images have {} pixels, the model expects Nv = {nv}",
            split.dim
        );
    }
    let images: Vec<&[f32]> = split.images.chunks_exact(nv).collect();
    let preds: Vec<usize> = match (path, h.element) {
        (ForwardPath::Float, ElementType::F32) => {
            let clf = model.classifier::<f32>().map_err(err)?;
            images
                .par_iter()
                .map(|v| clf.forward(v, &mut vec![0.0; nc], &mut vec![0.0; k]))
                .collect::<dam_core::Result<_>>()
                .map_err(err)?
        }
        (ForwardPath::Float, ElementType::I8) => rescaled::<i8>(model, &images)?,
        (ForwardPath::Float, ElementType::I16) => rescaled::<i16>(model, &images)?,
        (ForwardPath::Fixed, ElementType::I8) => {
            let clf = model.fixed_classifier().map_err(err)?;
            images
                .par_iter()
                .map(|v| {
                    let mut q = vec![0i8; nv];
                    quantize_query(v, &mut q)?;
                    clf.forward(&q, &mut vec![Score::ZERO; nc], &mut vec![FixedRow::ZERO; k])
                })
                .collect::<dam_core::Result<_>>()
                .map_err(err)?
        }
        (path, element) => bail!("no {path:?} forward pass for {element:?} models"),
    };
    tally(&split.labels, &preds, nc)
}

/// [`evaluate_model`] for the `f32` rescale of `Q` levels.
fn rescaled<Q: Level + Send + Sync>(model: &Model<'_>, images: &[&[f32]]) -> Result<Vec<usize>> {
    let clf = model
        .quantized_classifier::<Q>()
        .map_err(|e| anyhow!("{e}"))?;
    let (nv, nc, k) = (clf.visible(), clf.classes(), clf.memories().k());
    images
        .par_iter()
        .map(|v| {
            let mut q = vec![Q::default(); nv];
            quantize_query(v, &mut q)?;
            clf.forward(&q, &mut vec![0.0; nc], &mut vec![0.0; k])
        })
        .collect::<dam_core::Result<_>>()
        .map_err(|e| anyhow!("{e}"))
}

/// Accuracy and confusion matrix of `preds` against `labels`.
pub fn tally(labels: &[u8], preds: &[usize], nc: usize) -> Result<Evaluation> {
    let mut confusion = vec![vec![0u64; nc]; nc];
    let mut correct = 0usize;
    for (&l, &p) in labels.iter().zip(preds) {
        let l = usize::from(l);
        let cell = confusion
            .get_mut(l)
            .and_then(|row| row.get_mut(p))
            .ok_or_else(|| anyhow!("label {l} or prediction {p} outside {nc} classes"))?;
        *cell += 1;
        correct += usize::from(l == p);
    }
    Ok(Evaluation {
        accuracy: correct as f64 / labels.len().max(1) as f64,
        confusion,
    })
}
