//! Quantization of trained `f32` models (`i8` or `i16` levels with one
//! scale per memory, `docs/model-format.md`) and their evaluation through
//! the same `dam-core` forward passes firmware runs.

use anyhow::{Result, anyhow, bail};
use dam_core::model::{ElementType, Kind, Model};
use dam_core::quantized::{FixedRow, Level, Score, quantize_query};
use rayon::prelude::*;

use crate::data::mnist::Split;
use crate::model_io::{Entries, OwnedExtras, encode_with};
use crate::train::kh16::Evaluation;

/// The element type to store a model's memories as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
/// A Potts model is re-encoded in `f32` only (an error for another
/// precision: its forward pass is `f32`).
pub fn quantize_model(model: &Model<'_>, precision: Precision) -> Result<Vec<u8>> {
    let h = model.header();
    if h.element != ElementType::F32 {
        bail!(
            "the model stores {:?} memories; quantization starts from f32",
            h.element
        );
    }
    let kept = OwnedExtras::of(model)?;
    let (labels, extras) = (&kept.labels, &kept.extras());
    if h.kind == Kind::Potts {
        // Memories, class weights and log-prior, all f32: the Potts
        // forward pass has no quantized form yet.
        if precision != Precision::F32 {
            bail!(
                "a Potts model has an f32 forward pass only: export it with --quantize f32 (the default for Potts models)"
            );
        }
        // Checked as the readers check it, then every entry as it is.
        model.potts::<f32>().map_err(|e| anyhow!("{e}"))?;
        let all: &[f32] = zerocopy::FromBytes::ref_from_bytes(model.memory_bytes())
            .map_err(|_| anyhow!("misaligned model"))?;
        return encode_with(h, labels, Entries::F32(all), extras);
    }
    let xi = model.memories::<f32>().map_err(|e| anyhow!("{e}"))?;
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
pub fn tally(labels: &[u16], preds: &[usize], nc: usize) -> Result<Evaluation> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_io::{AlignedBytes, Extras, encode, encode_with};
    use dam_core::model::{Header, Kind};
    use dam_core::quantized::QuantizedView;
    use dam_core::{Form, Interaction};

    fn header() -> Header {
        Header {
            kind: Kind::Classifier,
            element: ElementType::F32,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            form: Form::Normalized { beta: 2.0 },
            k: 4,
            nv: 5,
            nc: 3,
        }
    }

    fn xi() -> Vec<f32> {
        (0..32).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect()
    }

    /// `dam export --quantize` keeps the label values, the input map and the
    /// names, bit for bit.
    #[test]
    fn quantized_export_keeps_the_extras() {
        let (a, b) = (
            vec![0.5f32, 0.0, 1e-3, -2.0, 7.25],
            vec![-1.0f32, 0.3, 0.0, 1.5, -0.1],
        );
        let names = ["setosa", "versicolor", "virginica"].map(String::from);
        let extras = Extras {
            preprocessing: Some((&a, &b)),
            names: Some(&names),
        };
        let labels = [-1, 3, 42];
        let f32_bytes = AlignedBytes::new(
            &encode_with(&header(), &labels, Entries::F32(&xi()), &extras).unwrap(),
        );
        let model = Model::parse(f32_bytes.as_bytes()).unwrap();
        let want = OwnedExtras::of(&model).unwrap();
        for precision in [Precision::F32, Precision::I16, Precision::I8] {
            let out = AlignedBytes::new(&quantize_model(&model, precision).unwrap());
            let q = Model::parse(out.as_bytes()).unwrap();
            assert_eq!(q.layout().version, 2);
            let got = OwnedExtras::of(&q).unwrap();
            assert_eq!(got.labels, labels);
            assert_eq!(got.names.as_deref(), Some(&names[..]));
            let (ga, gb) = got.preprocessing.clone().unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!((bits(&ga), bits(&gb)), (bits(&a), bits(&b)));
            assert_eq!(got, want);
        }
    }

    /// The committed version-1 board model still parses, reads as before
    /// (its bytes re-encode identically) and classifies exactly as a view
    /// built from the version-1 layout by hand.
    #[test]
    fn committed_version_1_model_is_unchanged() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../boards/data/mnist-k120.i8.dam"
        );
        let raw = std::fs::read(path).unwrap();
        let bytes = AlignedBytes::new(&raw);
        let m = Model::parse(bytes.as_bytes()).unwrap();
        let h = *m.header();
        assert_eq!(raw[8], 1);
        assert_eq!(*m.layout(), dam_core::model::Layout::V1);
        assert_eq!(
            (h.kind, h.element, h.k, h.nv, h.nc),
            (Kind::Classifier, ElementType::I8, 120, 784, 10)
        );
        assert!(m.preprocessing().is_none() && m.class_name(0).is_none());
        let labels: Vec<u32> = (0..10).map(|a| m.label(a).unwrap()).collect();
        assert_eq!(labels, (0..10).collect::<Vec<u32>>());
        let v = m.quantized::<i8>().unwrap();
        let entries = Entries::I8 {
            levels: v.levels(),
            scales: v.scales(),
        };
        assert_eq!(encode(&h, &labels, entries).unwrap(), raw);
        // The version-1 layout by hand: labels, scales, memories at a
        // multiple of 16, CRC.
        let (k, d) = (120usize, 794usize);
        let scales: Vec<f32> = raw[64 + 40..64 + 40 + 4 * k]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let off = (64 + 40 + 4 * k).div_ceil(16) * 16;
        let levels: Vec<i8> = raw[off..off + k * d].iter().map(|&b| b as i8).collect();
        assert_eq!(raw.len(), off + k * d + 4);
        let by_hand = QuantizedView::new(&levels, &scales, k, d).unwrap();
        let by_hand =
            dam_core::quantized::QuantizedClassifier::new(by_hand, 10, m.interaction(), m.form())
                .unwrap();
        let clf = m.quantized_classifier::<i8>().unwrap();
        let fixed = m.fixed_classifier().unwrap();
        for seed in 0..50u32 {
            let v: Vec<f32> = (0..784u32)
                .map(|i| {
                    ((i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 255) as f32
                        / 127.0
                        - 1.0
                })
                .collect();
            let mut q = vec![0i8; 784];
            quantize_query(&v, &mut q).unwrap();
            let (mut s1, mut s2) = (vec![0.0; 10], vec![0.0; 10]);
            let a = clf.forward(&q, &mut s1, &mut vec![0.0; k]).unwrap();
            let b = by_hand.forward(&q, &mut s2, &mut vec![0.0; k]).unwrap();
            assert_eq!((a, bits(&s1)), (b, bits(&s2)));
            let c = fixed
                .forward(&q, &mut [Score::ZERO; 10], &mut vec![FixedRow::ZERO; k])
                .unwrap();
            assert!(c < 10);
        }
        fn bits(v: &[f32]) -> Vec<u32> {
            v.iter().map(|x| x.to_bits()).collect()
        }
    }

    /// A freshly written version-1 f32 model and the same model in version
    /// 2 (negative labels): same header, memories and predictions.
    #[test]
    fn fresh_version_1_and_version_2_agree() {
        let xi = xi();
        let v1 = AlignedBytes::new(&encode(&header(), &[0, 1, 2], Entries::F32(&xi)).unwrap());
        let v2 = AlignedBytes::new(
            &encode_with(
                &header(),
                &[-7, 0, 7],
                Entries::F32(&xi),
                &Extras::default(),
            )
            .unwrap(),
        );
        let (m1, m2) = (
            Model::parse(v1.as_bytes()).unwrap(),
            Model::parse(v2.as_bytes()).unwrap(),
        );
        assert_eq!((m1.layout().version, m2.layout().version), (1, 2));
        assert_eq!(m1.header(), m2.header());
        assert_eq!(
            m1.memories::<f32>().unwrap().as_slice(),
            m2.memories::<f32>().unwrap().as_slice()
        );
        let (c1, c2) = (
            m1.classifier::<f32>().unwrap(),
            m2.classifier::<f32>().unwrap(),
        );
        for i in 0..40 {
            let v: Vec<f32> = (0..5)
                .map(|j| (((i * 5 + j) * 13) % 17) as f32 / 8.0 - 1.0)
                .collect();
            let (mut s1, mut s2) = ([0.0f32; 3], [0.0f32; 3]);
            let a = c1.forward(&v, &mut s1, &mut [0.0; 4]).unwrap();
            let b = c2.forward(&v, &mut s2, &mut [0.0; 4]).unwrap();
            assert_eq!((a, s1.map(f32::to_bits)), (b, s2.map(f32::to_bits)));
            assert_eq!(m2.label_value(b), Some([-7, 0, 7][b]));
        }
    }
}
