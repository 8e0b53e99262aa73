//! Test 4 of the foundation issue: the log-sum-exp memory's gradient is the
//! derivative of its energy, and descent never raises the energy.

mod common;

use dam_core::{EnergyModel, LseMemory, MemoryView, Similarity};

fn energy(mem: &LseMemory<'_, f64>, x: &[f64]) -> f64 {
    let mut scratch = vec![0.0; mem.memories().k()];
    mem.energy(x, &mut scratch).unwrap()
}

#[test]
fn gradient_matches_central_differences() {
    for (seed, similarity) in [
        (1, Similarity::Euclidean),
        (2, Similarity::DotProduct),
        (3, Similarity::Euclidean),
        (4, Similarity::DotProduct),
    ] {
        let (k, d) = (20, 12);
        let mut rng = common::rng(seed);
        let xi = common::uniform(&mut rng, k * d);
        let x = common::uniform(&mut rng, d);
        for beta in [0.5, 4.0, 20.0] {
            let mem =
                LseMemory::new(MemoryView::new(&xi, k, d).unwrap(), beta, similarity).unwrap();
            let mut grad = vec![0.0; d];
            let mut scratch = vec![0.0; k];
            let e = mem
                .energy_and_gradient(&x, &mut grad, &mut scratch)
                .unwrap();
            assert!((e - energy(&mem, &x)).abs() < 1e-12);
            let h = 1e-5;
            let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            for i in 0..d {
                let mut xp = x.clone();
                let mut xm = x.clone();
                xp[i] += h;
                xm[i] -= h;
                let fd = (energy(&mem, &xp) - energy(&mem, &xm)) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() <= 1e-6 * scale,
                    "{similarity:?} beta {beta} coord {i}: fd {fd} vs grad {}",
                    grad[i]
                );
            }
        }
    }
}

#[test]
fn energy_never_rises_along_gradient_descent() {
    let (k, d) = (30, 16);
    let mut rng = common::rng(8);
    let xi = common::uniform(&mut rng, k * d);
    for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
        let mem = LseMemory::new(MemoryView::new(&xi, k, d).unwrap(), 8.0, similarity).unwrap();
        let mut x = common::uniform(&mut rng, d);
        let mut scratch = vec![0.0; k + d];
        let mut last = energy(&mem, &x);
        // Under Miri (about 10^5 times slower) 20 steps.
        for _ in 0..if cfg!(miri) { 20 } else { 200 } {
            let r = mem.descend(&mut x, None, 0.01, 1, &mut scratch).unwrap();
            assert!(
                r.energy <= last + 1e-12,
                "{similarity:?}: {} > {last}",
                r.energy
            );
            last = r.energy;
        }
    }
}

/// Completion of an occluded pattern: the clamped half never moves and the
/// free half is filled in with the stored memory's values.
#[test]
fn masked_descent_completes_a_pattern() {
    let (k, d) = (10, 20);
    let mut rng = common::rng(3);
    let xi = common::bipolar(&mut rng, k * d);
    let mem = LseMemory::new(
        MemoryView::new(&xi, k, d).unwrap(),
        1.0,
        Similarity::Euclidean,
    )
    .unwrap();
    let target = &xi[2 * d..3 * d];
    let mut x: Vec<f64> = target
        .iter()
        .enumerate()
        .map(|(i, &v)| if i < d / 2 { v } else { 0.0 })
        .collect();
    let mask: Vec<bool> = (0..d).map(|i| i < d / 2).collect();
    let mut scratch = vec![0.0; k + d];
    mem.descend(&mut x, Some(&mask), 0.5, 100, &mut scratch)
        .unwrap();
    assert_eq!(&x[..d / 2], &target[..d / 2]);
    for (a, b) in x.iter().zip(target).skip(d / 2) {
        assert!((a - b).abs() < 0.05, "{a} vs {b}");
    }
}

/// `one_step` is gradient descent with η = 1.
#[test]
fn one_step_equals_unit_step_descent() {
    let (k, d) = (7, 9);
    let mut rng = common::rng(4);
    let xi = common::uniform(&mut rng, k * d);
    let mem = LseMemory::new(
        MemoryView::new(&xi, k, d).unwrap(),
        3.0,
        Similarity::Euclidean,
    )
    .unwrap();
    let x0 = common::uniform(&mut rng, d);
    let mut a = x0.clone();
    let mut b = x0.clone();
    let mut scratch = vec![0.0; k + d];
    mem.one_step(&mut a, &mut scratch).unwrap();
    mem.descend(&mut b, None, 1.0, 1, &mut scratch).unwrap();
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-14);
    }
}
