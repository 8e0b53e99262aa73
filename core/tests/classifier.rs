//! Test 5 of the foundation issue: the classifier equals a naive f64
//! evaluation of math.md §4, with `Nc` separate dot products per memory.

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
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(150), 3))]

    #[test]
    fn forward_equals_naive_formula(
        seed in any::<u64>(),
        k in 1usize..30,
        nv in 1usize..40,
        nc in 1usize..40, // beyond one class group (16)
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
            other => unreachable!("the strategy generates no {other:?}"),
        };
        let clf32 = Classifier::new(MemoryView::new(&xi32, k, d).unwrap(), nc, f32f,
            Form::Normalized { beta: beta as f32 }).unwrap();
        let mut s32 = vec![0.0f32; nc];
        let mut scratch32 = vec![0.0f32; k];
        let class32 = clf32.forward(&v32, &mut s32, &mut scratch32).unwrap();
        for (a, b) in s32.iter().zip(&want) {
            prop_assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
        }

        // `forward_with` runs the same code around the dot product it is
        // given: bit-identical with the default kernel, and a dot product
        // that ignores the input gives what an all-zero input gives.
        let bits = |s: &[f32]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut w32 = vec![0.0f32; nc];
        let with = clf32.forward_with(dam_core::simd::dot, &v32, &mut w32, &mut scratch32).unwrap();
        prop_assert_eq!((with, bits(&w32)), (class32, bits(&s32)));
        let zero_class = clf32.forward(&vec![0.0f32; nv], &mut s32, &mut scratch32).unwrap();
        let ignoring = clf32.forward_with(|_, _| 0.0, &v32, &mut w32, &mut scratch32).unwrap();
        prop_assert_eq!((ignoring, bits(&w32)), (zero_class, bits(&s32)));
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
