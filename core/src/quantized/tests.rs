//! The quantized paths against the `f32` classifier and an `f64` reference.

extern crate std;
use super::*;
use crate::{Classifier, Form, Interaction, MemoryView, Quantity};
use proptest::prelude::*;
use std::vec::Vec;

/// Random levels in `±127`, scales near `1/127` (memories in about `[−1, 1]`).
fn levels_and_scales(k: usize, d: usize, seed: u64) -> (Vec<i8>, Vec<f32>) {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let q = (0..k * d)
        .map(|_| ((next() % 255) as i16 - 127) as i8)
        .collect();
    let scales = (0..k)
        .map(|_| (0.5 + (next() % 1000) as f32 / 1000.0) / 127.0)
        .collect();
    (q, scales)
}

fn query(nv: usize, seed: u64) -> Vec<i8> {
    let (q, _) = levels_and_scales(1, nv, seed ^ 0x9e37);
    q
}

/// `Σ_μ F(c ξ·w_α) − F(c ξ·u)` in `f64` from the dequantized values.
fn reference_sums(
    q: &[i8],
    scales: &[f32],
    d: usize,
    nc: usize,
    v: &[i8],
    n: u32,
    beta: f64,
) -> Vec<f64> {
    let nv = d - nc;
    let c = beta / d as f64;
    let f = |x: f64| x.max(0.0).powi(n as i32);
    (0..nc)
        .map(|alpha| {
            q.chunks(d)
                .zip(scales)
                .map(|(row, &s)| {
                    let xi = |i: usize| f64::from(s) * f64::from(row[i]);
                    let m: f64 = (0..nv)
                        .map(|i| xi(i) * f64::from(v[i]) / 127.0)
                        .sum::<f64>()
                        - (nv..d).map(xi).sum::<f64>();
                    f(c * (m + 2.0 * xi(nv + alpha))) - f(c * m)
                })
                .sum()
        })
        .collect()
}

use crate::test_config::proptest_config as config;

proptest! {
    #![proptest_config(config(ProptestConfig::default(), 16))]

    /// The `f32`-rescale path gives the scores of [`Classifier`] on the
    /// dequantized memories and query (to `f32` rounding).
    #[test]
    fn rescaled_matches_the_float_classifier(
        k in 1usize..12, nv in 1usize..70, nc in 1usize..5, n in 1u32..45,
        rectified in any::<bool>(), beta in 0.2f32..3.0, seed in any::<u64>(),
    ) {
        // n up to 44: the unrolled powers of the fast path (≤ 40) and the
        // general `powi` beyond; both families of the fast path.
        let d = nv + nc;
        let (q, scales) = levels_and_scales(k, d, seed);
        let v = query(nv, seed);
        let xi: Vec<f32> = q.chunks(d).zip(&scales)
            .flat_map(|(row, &s)| row.iter().map(move |&x| s * f32::from(x))).collect();
        let vf: Vec<f32> = v.iter().map(|&x| f32::from(x) / 127.0).collect();
        let f = if rectified {
            Interaction::RectifiedPolynomial { n }
        } else {
            Interaction::Polynomial { n }
        };
        let form = Form::Normalized { beta };
        let want = Classifier::new(MemoryView::new(&xi, k, d).unwrap(), nc, f, form).unwrap();
        let got = QuantizedClassifier::new(QuantizedView::new(&q, &scales, k, d).unwrap(), nc, f, form).unwrap();
        let (mut sw, mut sg, mut scratch) = (std::vec![0.0f32; nc], std::vec![0.0f32; nc], std::vec![0.0f32; k]);
        want.forward(&vf, &mut sw, &mut scratch).unwrap();
        got.forward(&v, &mut sg, &mut scratch).unwrap();
        for (a, b) in sw.iter().zip(&sg) {
            prop_assert!((a - b).abs() < 1e-4, "{sw:?} vs {sg:?}");
        }
    }

    /// The fixed-point sums match the `f64` reference to a small fraction
    /// of the largest sum, and the prediction is the reference's whenever
    /// its top two sums are not nearly tied.
    #[test]
    fn fixed_point_matches_the_reference(
        k in 1usize..12, nv in 1usize..70, nc in 1usize..5, n in 1u32..12,
        beta in 0.2f32..3.0, seed in any::<u64>(),
    ) {
        let d = nv + nc;
        let (q, scales) = levels_and_scales(k, d, seed);
        let v = query(nv, seed);
        let clf = match FixedClassifier::new(
            QuantizedView::new(&q, &scales, k, d).unwrap(), nc,
            Interaction::RectifiedPolynomial { n }, Form::Normalized { beta },
        ) {
            Ok(clf) => clf,
            // The documented refusal: the a-priori bound 2K·max(A, 1)ⁿ on
            // the sums does not fit `Score` (e.g. n = 11, β = 2.7, K = 9).
            Err(Error::Overflow { quantity: Quantity::Score, ln_magnitude }) => {
                prop_assert!(ln_magnitude >= 31.0 * core::f64::consts::LN_2, "{ln_magnitude}");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(std::format!("{e:?}"))),
        };
        let (mut sums, mut scratch) = (std::vec![Score::ZERO; nc], std::vec![FixedRow::ZERO; k]);
        let class = clf.forward(&v, &mut sums, &mut scratch).unwrap();
        let want = reference_sums(&q, &scales, d, nc, &v, n, f64::from(beta));
        let top = want.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let tol = 1e-6 * top + 1e-7 * k as f64;
        for (got, w) in sums.iter().zip(&want) {
            prop_assert!((got.to_num::<f64>() - w).abs() <= tol, "{sums:?} vs {want:?}");
        }
        let mut order: Vec<usize> = (0..nc).collect();
        order.sort_by(|&a, &b| want[b].total_cmp(&want[a]).then(a.cmp(&b)));
        if nc == 1 || want[order[0]] - want[order[1]] > 2.0 * tol {
            prop_assert_eq!(class, order[0]);
        }
    }
}

#[test]
fn i16_path_matches_i8_path_on_the_same_values() {
    let (q, scales) = levels_and_scales(7, 40, 3);
    let q16: Vec<i16> = q.iter().map(|&x| i16::from(x) * 258).collect();
    let s16: Vec<f32> = scales.iter().map(|s| s / 258.0).collect();
    let v = query(37, 5);
    // 127 · 258 = 32 766: the same query value up to 1/32 767.
    let v16: Vec<i16> = v.iter().map(|&x| i16::from(x) * 258).collect();
    let f = Interaction::RectifiedPolynomial { n: 4 };
    let form = Form::Normalized { beta: 1.5 };
    let c8 = QuantizedClassifier::new(QuantizedView::new(&q, &scales, 7, 40).unwrap(), 3, f, form)
        .unwrap();
    let c16 = QuantizedClassifier::new(QuantizedView::new(&q16, &s16, 7, 40).unwrap(), 3, f, form)
        .unwrap();
    let (mut a, mut b, mut scratch) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 7]);
    let p8 = c8.forward(&v, &mut a, &mut scratch).unwrap();
    let p16 = c16.forward(&v16, &mut b, &mut scratch).unwrap();
    assert_eq!(p8, p16);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-3, "{a:?} {b:?}");
    }
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let q = [1i8; 8];
    assert!(matches!(
        QuantizedView::new(&q, &[1.0, f32::NAN], 2, 4),
        Err(Error::InvalidParameter {
            param: Param::Scale,
            ..
        })
    ));
    assert!(matches!(
        QuantizedView::new(&q, &[1.0, -1.0], 2, 4),
        Err(Error::InvalidParameter {
            param: Param::Scale,
            ..
        })
    ));
    assert!(matches!(
        QuantizedView::new(&q, &[1.0], 2, 4),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(
        QuantizedView::<i8>::new(&[], &[], 0, 4).unwrap_err(),
        Error::EmptyMemory
    );
    let view = QuantizedView::new(&q, &[0.01, 0.01], 2, 4).unwrap();
    let poly = Interaction::RectifiedPolynomial { n: 3 };
    assert!(matches!(
        FixedClassifier::new(
            view,
            2,
            Interaction::Exponential,
            Form::Normalized { beta: 1.0 }
        ),
        Err(Error::InvalidParameter {
            param: Param::Degree,
            ..
        })
    ));
    assert!(matches!(
        FixedClassifier::new(view, 2, poly, Form::Raw { beta: 1.0 }),
        Err(Error::InvalidParameter {
            param: Param::Beta,
            ..
        })
    ));
    // Scores beyond I32F32: 2K·Aⁿ with A ≈ 1e3, n = 20.
    let big = QuantizedView::new(&q, &[8.0, 8.0], 2, 4).unwrap();
    assert!(matches!(
        FixedClassifier::new(
            big,
            2,
            Interaction::RectifiedPolynomial { n: 20 },
            Form::Normalized { beta: 1.0 }
        ),
        Err(Error::Overflow {
            quantity: Quantity::Score,
            ..
        })
    ));
    let clf = FixedClassifier::new(view, 2, poly, Form::Normalized { beta: 1.0 }).unwrap();
    let (mut sums, mut rows) = ([Score::ZERO; 2], [FixedRow::ZERO; 1]);
    assert!(matches!(
        clf.forward(&[1, 2], &mut sums, &mut rows),
        Err(Error::ShapeMismatch {
            operand: Operand::Scratch,
            ..
        })
    ));
    let mut rows = [FixedRow::ZERO; 2];
    assert!(matches!(
        clf.forward(&[1], &mut sums, &mut rows),
        Err(Error::ShapeMismatch {
            operand: Operand::Query,
            ..
        })
    ));
    let mut qv = [0i8; 2];
    assert_eq!(
        quantize_query(&[0.0, f32::INFINITY], &mut qv),
        Err(Error::NonFinite {
            operand: Operand::Query,
            index: 1
        })
    );
}

proptest! {
    #![proptest_config(config(ProptestConfig::with_cases(128), 4))]

    /// Background skipping changes nothing: the same scores and class, bit
    /// for bit, for the `f32`-rescale and the fixed-point forward passes;
    /// queries from all background to none, long enough (`Nv` up to 600)
    /// for the windows of the skipping kernel, `K` across a block of 128.
    #[test]
    fn skipping_the_background_is_bit_identical(
        k in prop_oneof![1usize..10, 126usize..131], nv in 1usize..600, nc in 1usize..4,
        percent in 0u64..=100, background in any::<i8>(), seed in any::<u64>(),
    ) {
        let d = nv + nc;
        let (q, scales) = levels_and_scales(k, d, seed);
        let v: Vec<i8> = query(nv, seed)
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                let draw = ((i as u64).wrapping_mul(2_654_435_761) ^ seed) % 100;
                if draw < percent { background } else { x }
            })
            .collect();
        let view = QuantizedView::new(&q, &scales, k, d).unwrap();
        let (f, form) = (Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 });
        let dense = QuantizedClassifier::new(view, nc, f, form).unwrap();
        let mut sums = std::vec![0i32; k];
        let skipping = dense.with_background(background, &mut sums).unwrap();
        let mut scratch = std::vec![0.0f32; k];
        let (mut a, mut b) = (std::vec![0.0f32; nc], std::vec![0.0f32; nc]);
        let ca = dense.forward(&v, &mut a, &mut scratch).unwrap();
        let cb = skipping.forward(&v, &mut b, &mut scratch).unwrap();
        prop_assert_eq!(ca, cb);
        prop_assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                        b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());

        let fixed = FixedClassifier::new(view, nc, f, form).unwrap();
        let mut sums2 = std::vec![0i32; k];
        let fixed_skipping = fixed.with_background(background, &mut sums2).unwrap();
        let mut rows = std::vec![FixedRow::ZERO; k];
        let (mut a, mut b) = (std::vec![Score::ZERO; nc], std::vec![Score::ZERO; nc]);
        let ca = fixed.forward(&v, &mut a, &mut rows).unwrap();
        let cb = fixed_skipping.forward(&v, &mut b, &mut rows).unwrap();
        prop_assert_eq!(ca, cb);
        prop_assert_eq!(a, b);
    }
}

/// Row sums too short for the memories: an error, not a partial table.
#[test]
fn skipping_needs_a_sum_per_memory() {
    let (q, scales) = levels_and_scales(3, 5, 1);
    let view = QuantizedView::new(&q, &scales, 3, 5).unwrap();
    let clf = QuantizedClassifier::new(
        view,
        1,
        Interaction::RectifiedPolynomial { n: 3 },
        Form::Normalized { beta: 1.0 },
    )
    .unwrap();
    let mut sums = [0i32; 2];
    assert!(clf.with_background(-127, &mut sums).is_err());
}

/// The `f32` expression [`quantize_i8`] stands for.
fn quantize_f32(x: f32) -> i8 {
    libm::roundf(x.clamp(-1.0, 1.0) * 127.0) as i8
}

/// [`quantize_i8`] and [`super::quantize_i8_fpu`], which must agree.
fn quantize_i8(x: f32) -> i8 {
    let q = super::quantize_i8(x);
    assert_eq!(q, super::quantize_i8_fpu(x), "{x:e}");
    q
}

proptest! {
    #![proptest_config(config(ProptestConfig::with_cases(4096), 8))]

    /// The integer quantization equals the `f32` arithmetic on any bits
    /// and on values in `[−1, 1]` (where every level is reached).
    #[test]
    fn integer_quantization_is_the_float_one(bits in any::<u32>(), x in -1.1f32..1.1) {
        let y = f32::from_bits(bits);
        prop_assert_eq!(quantize_i8(y), quantize_f32(y), "{:e}", y);
        prop_assert_eq!(quantize_i8(x), quantize_f32(x), "{:e}", x);
    }
}

/// Every `f32` of `[−1, 1]` and around each rounding boundary (the ties of
/// both roundings live there), then every bit pattern with
/// `DAM_EXHAUSTIVE=1` (about a minute in release).
#[test]
fn integer_quantization_is_exact_near_every_boundary() {
    for level in 0..=127i32 {
        let mid = (level as f32 + 0.5) / 127.0;
        for x in [mid, (level as f32) / 127.0] {
            let b = x.to_bits();
            for bits in b.saturating_sub(4096)..=b.saturating_add(4096) {
                for y in [f32::from_bits(bits), -f32::from_bits(bits)] {
                    assert_eq!(quantize_i8(y), quantize_f32(y), "{y:e}");
                }
            }
        }
    }
    for y in [
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        1e-45,
    ] {
        assert_eq!(quantize_i8(y), quantize_f32(y), "{y:e}");
    }
    if std::env::var_os("DAM_EXHAUSTIVE").is_some() {
        for bits in 0..=u32::MAX {
            let y = f32::from_bits(bits);
            assert_eq!(quantize_i8(y), quantize_f32(y), "{bits:#x}");
        }
    }
}

/// The word-at-a-time foreground count of `i8` equals the entry-by-entry
/// one: every word whose bytes are the background or one of a few levels
/// (every bit pattern of the difference's top bits and carries), for
/// several backgrounds, with a remainder of 0 to 3 entries.
#[test]
fn i8_foreground_counts_as_the_generic_one() {
    let levels = [-128i8, -127, -1, 0, 1, 0x7f, 0x40, -0x41];
    for background in [-128i8, -127, -1, 0, 1, 127] {
        let mut x = Vec::new();
        for a in levels.iter().chain([&background]) {
            for b in levels.iter().chain([&background]) {
                for c in [a, b, &background] {
                    x.extend([*a, *b, *c, background]);
                    x.extend([background, *c, *b, *a]);
                }
            }
        }
        for tail in 0..4 {
            let x = &x[..x.len() - tail];
            assert_eq!(
                <i8 as Level>::foreground(x, background),
                foreground(x, background),
                "background {background}, tail {tail}"
            );
        }
    }
}

proptest! {
    #![proptest_config(config(ProptestConfig::with_cases(2048), 8))]

    /// The word-at-a-time quantization of `i8` (four equal entries once,
    /// their levels reused while the words repeat) gives the levels and
    /// the finiteness of the entry-by-entry loop, on queries drawn from a
    /// few values (runs of equal words, `±0`, `±1`, infinities, NaN) and
    /// random ones, of any length.
    #[test]
    fn i8_word_quantization_is_the_entry_one(
        picks in proptest::collection::vec((0usize..4, 0usize..10, any::<u32>()), 0..40),
    ) {
        let pool = [-1.0f32, -0.0, 0.0, 1.0, 0.5, f32::INFINITY, f32::NAN, -0.3];
        // A value once, or four times (a run of equal entries, at any
        // offset from the word boundaries).
        let mut v = Vec::new();
        for &(times, i, bits) in &picks {
            let x = pool.get(i).copied().unwrap_or(f32::from_bits(bits));
            v.extend(core::iter::repeat_n(x, if times == 0 { 4 } else { 1 }));
        }
        let (mut a, mut b) = (std::vec![0i8; v.len()], std::vec![0i8; v.len()]);
        let wide = <i8 as Level>::quantize_slice(&v, &mut a);
        let want = super::quantize_slice::<i8>(&v, &mut b);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(wide >> 31, want >> 31);
        prop_assert_eq!(want >> 31 == 0, v.iter().all(|x| x.is_finite()));
    }
}
