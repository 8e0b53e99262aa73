//! Test 5 of the foundation issue: the classifier equals a naive f64
//! evaluation of SPEC §4, with `Nc` separate dot products per memory.

mod common;

use dam_core::{Classifier, Form, Interaction, MemoryView};
use proptest::prelude::*;

/// `c_α = tanh(outer Σ_μ F(scale ξ^μ·w_α) − F(scale ξ^μ·u))`, literally.
fn naive(
    xi: &[f64],
    k: usize,
    nc: usize,
    v: &[f64],
    f: &Interaction<f64>,
    outer: f64,
    scale: f64,
) -> Vec<f64> {
    let d = v.len() + nc;
    let dot = |row: &[f64], x: &[f64]| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    (0..nc)
        .map(|alpha| {
            let mut u = v.to_vec();
            u.extend(std::iter::repeat_n(-1.0, nc));
            let mut w = u.clone();
            w[v.len() + alpha] = 1.0;
            let s: f64 = (0..k)
                .map(|mu| {
                    let row = &xi[mu * d..(mu + 1) * d];
                    f.value(scale * dot(row, &w)).unwrap() - f.value(scale * dot(row, &u)).unwrap()
                })
                .sum();
            (outer * s).tanh()
        })
        .collect()
}

fn interaction(which: u8, n: u32) -> Interaction<f64> {
    match which % 4 {
        0 => Interaction::Polynomial { n },
        1 => Interaction::RectifiedPolynomial { n },
        2 => Interaction::leaky(n),
        _ => Interaction::Exponential,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn forward_equals_naive_formula(
        seed in any::<u64>(),
        k in 1usize..30,
        nv in 1usize..40,
        nc in 1usize..12,
        n in 1u32..12,
        which in any::<u8>(),
        beta in 0.05f64..2.0,
    ) {
        let d = nv + nc;
        let mut rng = common::rng(seed);
        let xi = common::uniform(&mut rng, k * d);
        let v = common::uniform(&mut rng, nv);
        let f = interaction(which, n);
        let view = MemoryView::new(&xi, k, d).unwrap();
        let mut scores = vec![0.0; nc];
        let mut scratch = vec![0.0; k];

        // Normalized [McA]: F(β ξ·w / D), no outside factor.
        let clf = Classifier::new(view, nc, f, Form::Normalized { beta }).unwrap();
        let class = clf.forward(&v, &mut scores, &mut scratch).unwrap();
        let want = naive(&xi, k, nc, &v, &f, 1.0, beta / d as f64);
        for (a, b) in scores.iter().zip(&want) {
            prop_assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let best = want.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert!(want[class] >= best - 1e-9);

        // Raw [KH16]: β F(ξ·w), β outside (small, as 1/T^n is).
        let raw_beta = 0.3f64.powi(n as i32);
        let raw = Classifier::new(view, nc, f, Form::Raw { beta: raw_beta }).unwrap();
        let class_raw = raw.forward(&v, &mut scores, &mut scratch).unwrap();
        let want_raw = naive(&xi, k, nc, &v, &f, raw_beta, 1.0);
        for (a, b) in scores.iter().zip(&want_raw) {
            prop_assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let best = want_raw.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert!(want_raw[class_raw] >= best - 1e-9);

        // f32 normalized agrees with the f64 formula to f32 accuracy.
        let xi32 = common::to_f32(&xi);
        let v32 = common::to_f32(&v);
        let f32f = match f {
            Interaction::Polynomial { n } => Interaction::Polynomial { n },
            Interaction::RectifiedPolynomial { n } => Interaction::RectifiedPolynomial { n },
            Interaction::LeakyRectifiedPolynomial { n, .. } => Interaction::leaky(n),
            Interaction::Exponential => Interaction::Exponential,
        };
        let clf32 = Classifier::new(MemoryView::new(&xi32, k, d).unwrap(), nc, f32f,
            Form::Normalized { beta: beta as f32 }).unwrap();
        let mut s32 = vec![0.0f32; nc];
        let mut scratch32 = vec![0.0f32; k];
        clf32.forward(&v32, &mut s32, &mut scratch32).unwrap();
        for (a, b) in s32.iter().zip(&want) {
            prop_assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

/// The prediction compares the sums inside `tanh`, so it is right even when
/// every score rounds to 1.0 (a tie on the scores would pick class 1).
#[test]
fn argmax_survives_saturated_scores() {
    let (k, nv, nc) = (2, 4, 3);
    // Memory 0 votes for class 1, memory 1 for class 2; memory 1 is closer
    // to the input, so class 2 has the larger sum.
    let xi = [
        1.0f32, 1.0, 1.0, 0.5, -1.0, 1.0, -1.0, //
        1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0,
    ];
    let clf = Classifier::new(
        MemoryView::new(&xi, k, nv + nc).unwrap(),
        nc,
        Interaction::Polynomial { n: 3 },
        Form::Normalized { beta: 60.0 },
    )
    .unwrap();
    let mut scores = [0.0f32; 3];
    let mut scratch = [0.0f32; 2];
    let class = clf
        .forward(&[1.0, 1.0, 1.0, 1.0], &mut scores, &mut scratch)
        .unwrap();
    assert_eq!(scores[1], 1.0);
    assert_eq!(scores[2], 1.0);
    assert_eq!(class, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// `forward_with` runs the same code as `forward` around the dot
    /// product it is given: with the default kernel the results are
    /// bit-identical, and a dot product that ignores the input gives what
    /// an all-zero input gives.
    #[test]
    fn forward_with_uses_the_given_dot_product(
        seed in any::<u64>(),
        k in 1usize..30,
        nv in 1usize..40,
        nc in 1usize..12,
        n in 1u32..12,
    ) {
        let d = nv + nc;
        let mut rng = common::rng(seed);
        let xi = common::to_f32(&common::uniform(&mut rng, k * d));
        let v = common::to_f32(&common::uniform(&mut rng, nv));
        let clf = Classifier::new(
            MemoryView::new(&xi, k, d).unwrap(),
            nc,
            Interaction::RectifiedPolynomial { n },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let (mut a, mut b) = (vec![0.0f32; nc], vec![0.0f32; nc]);
        let mut scratch = vec![0.0f32; k];
        let class_a = clf.forward(&v, &mut a, &mut scratch).unwrap();
        let class_b = clf.forward_with(dam_core::simd::dot, &v, &mut b, &mut scratch).unwrap();
        prop_assert_eq!(class_a, class_b);
        prop_assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());

        let zeros = vec![0.0f32; nv];
        let class_a = clf.forward(&zeros, &mut a, &mut scratch).unwrap();
        let class_b = clf.forward_with(|_, _| 0.0, &v, &mut b, &mut scratch).unwrap();
        prop_assert_eq!(class_a, class_b);
        prop_assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    }
}
