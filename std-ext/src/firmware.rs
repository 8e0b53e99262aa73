//! Test vectors for the board firmware (`boards/`): MNIST test images as
//! pixel bytes, the input value of every byte, the true labels, and the
//! host's predictions computed in each board's floating-point order, so a
//! board can check that it classifies every image exactly as the host does.
//!
//! Only the dot products `ξ^μ·v` are summed differently on different
//! targets (`dam_core::simd` picks a kernel per target); everything after
//! them is the same scalar code everywhere. [`SumOrder`] reproduces each
//! board's order on the host and [`predict`] feeds it to
//! [`Classifier::forward_with`], so the predictions are bit-identical to
//! the board's rather than merely close: a rounding difference can flip a
//! close `argmax`.
//!
//! The files [`write()`] produces (all little-endian, no header; the firmware
//! checks their lengths against the model):
//!
//! | file | contents |
//! |---|---|
//! | `images.u8` | `N × Nv` pixel bytes |
//! | `labels.u8` | `N` true labels |
//! | `pixel-values.f32` | 256 `f32`: the input value of each pixel byte ([`pixel_value`]) |
//! | `predictions-<order>.u8` | `N` predicted class indices, one file per [`SumOrder`] |
//!
//! For an `i8` model ([`write_i8()`]) the dot products are exact integer
//! sums, so no order is needed: every board computes what the host does.
//! The firmware feeds the classifier the level of each pixel byte
//! ([`pixel_level`], the query quantization of `dam-core`) and compares
//! with one of two files:
//!
//! | file | contents |
//! |---|---|
//! | `pixel-levels.i8` | 256 `i8`: the query level of each pixel byte ([`pixel_level`]) |
//! | `predictions-i8.u8` | `N` classes of `QuantizedClassifier<i8>` (integer overlaps, `f32` rescale and scoring: FPU boards) |
//! | `predictions-fixed.u8` | `N` classes of `FixedClassifier` (fixed point only: boards without an FPU) |
//!
//! `dam predict` also writes `model.crc32`, the CRC trailer of the model it
//! predicted with, so that a firmware build can refuse vectors made for
//! another model.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use dam_core::Classifier;
use dam_core::quantized::{FixedClassifier, FixedRow, QuantizedClassifier, Score, quantize_query};

use crate::data::mnist::{RawSplit, pixel_value};
use crate::model_io::write_atomic;

/// How a target sums the dot products of [`Classifier::forward`].
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

/// The class index `clf` predicts for each image of `split` (inputs
/// [`pixel_value`]), with the dot products summed in `order`.
pub fn predict(clf: &Classifier<'_, f32>, split: &RawSplit, order: SumOrder) -> Result<Vec<u8>> {
    predict_with(clf, split, |a, b| order.dot(a, b))
}

/// [`predict`] with this host's fastest kernels ([`Classifier::forward`]),
/// to show how often they differ from a board's order.
pub fn predict_fastest(clf: &Classifier<'_, f32>, split: &RawSplit) -> Result<Vec<u8>> {
    predict_with(clf, split, dam_core::simd::dot)
}

fn predict_with(
    clf: &Classifier<'_, f32>,
    split: &RawSplit,
    dot: impl Fn(&[f32], &[f32]) -> f32,
) -> Result<Vec<u8>> {
    if split.dim != clf.visible() {
        bail!(
            "{}: images of {} pixels, but the model has {} visible units",
            split.name,
            split.dim,
            clf.visible()
        );
    }
    let mut scores = vec![0.0f32; clf.classes()];
    let mut scratch = vec![0.0f32; clf.memories().k()];
    let mut v = vec![0.0f32; split.dim];
    split
        .pixels
        .chunks_exact(split.dim)
        .enumerate()
        .map(|(i, image)| {
            for (v, &p) in v.iter_mut().zip(image) {
                *v = pixel_value(p);
            }
            let class = clf
                .forward_with(&dot, &v, &mut scores, &mut scratch)
                .with_context(|| format!("image {i} of {}", split.name))?;
            u8::try_from(class).context("more than 256 classes")
        })
        .collect()
}

/// Writes the test vectors of `split` for `clf` into `dir` (created if
/// missing; see the module docs for the files) and returns the predictions
/// per order.
pub fn write(
    dir: &Path,
    clf: &Classifier<'_, f32>,
    split: &RawSplit,
) -> Result<Vec<(SumOrder, Vec<u8>)>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let values: Vec<u8> = (0..=255u8)
        .flat_map(|p| pixel_value(p).to_le_bytes())
        .collect();
    write_atomic(&dir.join("images.u8"), &split.pixels)?;
    write_atomic(&dir.join("labels.u8"), &split.labels)?;
    write_atomic(&dir.join("pixel-values.f32"), &values)?;
    SumOrder::ALL
        .iter()
        .map(|&order| {
            let p = predict(clf, split, order)?;
            let name = format!("predictions-{}.u8", order.name());
            write_atomic(&dir.join(name), &p)?;
            Ok((order, p))
        })
        .collect()
}

/// The `i8` query level of pixel byte `p`: [`pixel_value`] quantized as
/// `dam_core::quantized::quantize_query` does.
pub fn pixel_level(p: u8) -> i8 {
    let mut q = [0i8];
    // A pixel value is finite, so quantizing it cannot fail.
    let _ = quantize_query(&[pixel_value(p)], &mut q);
    q[0]
}

/// The predictions of an `i8` model for each image of `split` (queries
/// [`pixel_level`]): `(QuantizedClassifier<i8>, FixedClassifier)`.
pub fn predict_i8(
    clf: &QuantizedClassifier<'_, i8>,
    fixed: &FixedClassifier<'_>,
    split: &RawSplit,
) -> Result<(Vec<u8>, Vec<u8>)> {
    if split.dim != clf.visible() {
        bail!(
            "{}: images of {} pixels, but the model has {} visible units",
            split.name,
            split.dim,
            clf.visible()
        );
    }
    let k = clf.memories().k();
    let (mut scores, mut scratch) = (vec![0.0f32; clf.classes()], vec![0.0f32; k]);
    let (mut sums, mut rows) = (vec![Score::ZERO; clf.classes()], vec![FixedRow::ZERO; k]);
    let levels: Vec<i8> = (0..=255u8).map(pixel_level).collect();
    let mut v = vec![0i8; split.dim];
    let (mut rescaled, mut fixed_point) = (Vec::new(), Vec::new());
    for (i, image) in split.pixels.chunks_exact(split.dim).enumerate() {
        for (v, &p) in v.iter_mut().zip(image) {
            *v = levels[usize::from(p)];
        }
        let context = || format!("image {i} of {}", split.name);
        let a = clf
            .forward(&v, &mut scores, &mut scratch)
            .map_err(|e| anyhow!("{e}"))
            .with_context(context)?;
        let b = fixed
            .forward(&v, &mut sums, &mut rows)
            .map_err(|e| anyhow!("{e}"))
            .with_context(context)?;
        rescaled.push(u8::try_from(a).context("more than 256 classes")?);
        fixed_point.push(u8::try_from(b).context("more than 256 classes")?);
    }
    Ok((rescaled, fixed_point))
}

/// [`write()`] for an `i8` model: the images, labels, `pixel-levels.i8`,
/// `predictions-i8.u8` and `predictions-fixed.u8` (see the module docs);
/// returns the two prediction vectors.
pub fn write_i8(
    dir: &Path,
    clf: &QuantizedClassifier<'_, i8>,
    fixed: &FixedClassifier<'_>,
    split: &RawSplit,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let (rescaled, fixed_point) = predict_i8(clf, fixed, split)?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let levels: Vec<u8> = (0..=255u8).map(|p| pixel_level(p) as u8).collect();
    write_atomic(&dir.join("images.u8"), &split.pixels)?;
    write_atomic(&dir.join("labels.u8"), &split.labels)?;
    write_atomic(&dir.join("pixel-levels.i8"), &levels)?;
    write_atomic(&dir.join("predictions-i8.u8"), &rescaled)?;
    write_atomic(&dir.join("predictions-fixed.u8"), &fixed_point)?;
    Ok((rescaled, fixed_point))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::simd::{Isa, Kernels};

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

    #[test]
    fn write_produces_the_files_the_firmware_checks() {
        use dam_core::{Form, Interaction, MemoryView};
        // 2 pixels + 2 labels: bright → class 0, dark → class 1.
        let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
        let clf = Classifier::new(
            MemoryView::new(&xi, 2, 4).unwrap(),
            2,
            Interaction::RectifiedPolynomial { n: 3 },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let split = RawSplit {
            pixels: vec![250, 240, 10, 0, 200, 255],
            labels: vec![0, 1, 1],
            dim: 2,
            name: "toy".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let written = write(dir.path(), &clf, &split).unwrap();
        let read = |f: &str| fs::read(dir.path().join(f)).unwrap();
        assert_eq!(read("images.u8"), split.pixels);
        assert_eq!(read("labels.u8"), split.labels);
        let values = read("pixel-values.f32");
        assert_eq!(values.len(), 1024);
        assert_eq!(values[4 * 255..], 1.0f32.to_le_bytes());
        for (order, p) in written {
            assert_eq!(p, [0, 1, 0], "{order:?}");
            assert_eq!(read(&format!("predictions-{}.u8", order.name())), p);
        }
        let wrong_dim = RawSplit { dim: 3, ..split };
        assert!(predict(&clf, &wrong_dim, SumOrder::Unfused).is_err());
    }

    #[test]
    fn write_i8_produces_the_files_the_firmware_checks() {
        use dam_core::quantized::QuantizedView;
        use dam_core::{Form, Interaction};
        // 2 pixels + 2 labels: bright → class 0, dark → class 1.
        let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
        let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4).unwrap();
        let (f, form) = (
            Interaction::RectifiedPolynomial { n: 3 },
            Form::Normalized { beta: 1.0 },
        );
        let clf = QuantizedClassifier::new(view, 2, f, form).unwrap();
        let fixed = FixedClassifier::new(view, 2, f, form).unwrap();
        let split = RawSplit {
            pixels: vec![250, 240, 10, 0, 200, 255],
            labels: vec![0, 1, 1],
            dim: 2,
            name: "toy".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = write_i8(dir.path(), &clf, &fixed, &split).unwrap();
        assert_eq!(
            (a.as_slice(), b.as_slice()),
            (&[0u8, 1, 0][..], &[0u8, 1, 0][..])
        );
        let read = |f: &str| fs::read(dir.path().join(f)).unwrap();
        assert_eq!(read("images.u8"), split.pixels);
        assert_eq!(read("predictions-i8.u8"), a);
        assert_eq!(read("predictions-fixed.u8"), b);
        let lv = read("pixel-levels.i8");
        assert_eq!((lv.len(), lv[0] as i8, lv[255] as i8), (256, -127, 127));
        let wrong_dim = RawSplit { dim: 3, ..split };
        assert!(predict_i8(&clf, &fixed, &wrong_dim).is_err());
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
