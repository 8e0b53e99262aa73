//! Potts-hidden-unit inference [TT] against a naive f64 evaluation of
//! SPEC §7.

mod common;

use dam_core::{MemoryView, PottsClassifier};
use proptest::prelude::*;

fn softmax_rows(raw: &[f64], c: usize) -> Vec<f64> {
    raw.chunks_exact(c)
        .flat_map(|r| {
            let m = r.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = r.iter().map(|x| (x - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |x| x / s)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn posterior_equals_naive_formula(
        seed in any::<u64>(),
        p in 1usize..20,
        d in 1usize..30,
        c in 1usize..8,
        beta in 0.1f64..30.0,
        with_prior in any::<bool>(),
    ) {
        let mut rng = common::rng(seed);
        let w = common::uniform(&mut rng, p * d);
        let labels = softmax_rows(&common::uniform(&mut rng, p * c).iter().map(|x| 3.0 * x).collect::<Vec<_>>(), c);
        let prior: Vec<f64> = common::uniform(&mut rng, p);
        let v = common::uniform(&mut rng, d);
        let clf = PottsClassifier::new(
            MemoryView::new(&w, p, d).unwrap(), &labels, c,
            if with_prior { Some(&prior[..]) } else { None }, beta).unwrap();
        let mut probs = vec![0.0; c];
        let class = clf.posterior(&v, &mut probs, &mut vec![0.0; p]).unwrap();

        let logits: Vec<f64> = (0..p).map(|mu| {
            let o: f64 = w[mu * d..(mu + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum();
            beta * o + if with_prior { prior[mu] } else { 0.0 }
        }).collect();
        let z: f64 = logits.iter().map(|l| l.exp()).sum();
        for y in 0..c {
            let want: f64 = (0..p).map(|mu| logits[mu].exp() / z * labels[mu * c + y]).sum();
            prop_assert!((probs[y] - want).abs() < 1e-12, "{} vs {}", probs[y], want);
        }
        prop_assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let best = probs.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert_eq!(probs[class], best);

        let (mu, label) = clf.nearest_memory(&v).unwrap();
        let overlaps: Vec<f64> = (0..p).map(|m| w[m * d..(m + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum()).collect();
        let top = overlaps.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert_eq!(overlaps[mu], top);
        let row = &labels[mu * c..(mu + 1) * c];
        prop_assert_eq!(row[label], row.iter().cloned().fold(f64::MIN, f64::max));
    }
}

/// Huge β·overlap saturates the softmax without overflowing.
#[test]
fn large_inverse_temperature_stays_finite() {
    let w = [1.0f32, 1.0, -1.0, -1.0];
    let labels = [1.0f32, 0.0, 0.0, 1.0];
    let clf =
        PottsClassifier::new(MemoryView::new(&w, 2, 2).unwrap(), &labels, 2, None, 1e30).unwrap();
    let mut probs = [0.0f32; 2];
    assert_eq!(
        clf.posterior(&[0.5, 0.5], &mut probs, &mut [0.0; 2])
            .unwrap(),
        0
    );
    assert_eq!(probs, [1.0, 0.0]);
}
