//! Random-feature memories (issue 5 tests): the kernel approximation, its
//! error law, store/forget, and retrieval that agrees with the exact memory.

mod common;

use dam_core::{
    DrDam, EnergyModel, LseMemory, MemoryView, SeededProjection, Similarity, StoredProjection,
};

/// Binary patterns scaled by 1/√D, as in the paper's experiments.
fn scaled_binary(rng: &mut rand_chacha::ChaCha8Rng, k: usize, d: usize) -> Vec<f64> {
    let s = 1.0 / (d as f64).sqrt();
    common::bipolar(rng, k * d)
        .into_iter()
        .map(|x| x * s)
        .collect()
}

/// A stored projection (fast) filled from a seed.
fn projection(seed: u64, y: usize, d: usize) -> Vec<f64> {
    let mut buf = vec![0.0; y * d];
    SeededProjection::new(seed, y, d)
        .unwrap()
        .fill(&mut buf)
        .unwrap();
    buf
}

fn drdam<'a>(
    proj: &'a [f64],
    y: usize,
    d: usize,
    beta: f64,
    patterns: &[f64],
) -> DrDam<f64, StoredProjection<'a, f64>, Vec<f64>> {
    let p = StoredProjection::new(proj, y, d).unwrap();
    let mut dam = DrDam::new(p, beta, vec![0.0; 2 * y]).unwrap();
    for xi in patterns.chunks_exact(d) {
        dam.store(xi, &mut []).unwrap();
    }
    dam
}

fn exact_energy(patterns: &[f64], d: usize, beta: f64, x: &[f64]) -> f64 {
    let k = patterns.len() / d;
    let mem = LseMemory::new(
        MemoryView::new(patterns, k, d).unwrap(),
        beta,
        Similarity::Euclidean,
    )
    .unwrap();
    mem.energy(x, &mut vec![0.0; k]).unwrap()
}

/// Mean |Ẽ − E| over `queries`, averaged over projection seeds.
fn energy_error(
    patterns: &[f64],
    queries: &[f64],
    d: usize,
    beta: f64,
    y: usize,
    seeds: u64,
) -> f64 {
    let mut total = 0.0;
    let mut n = 0.0;
    for seed in 0..seeds {
        let proj = projection(100 + seed, y, d);
        let dam = drdam(&proj, y, d, beta, patterns);
        for q in queries.chunks_exact(d) {
            let approx = dam.energy(q, &mut []).unwrap();
            total += (approx - exact_energy(patterns, d, beta, q)).abs();
            n += 1.0;
        }
    }
    total / n
}

#[test]
fn features_approximate_the_gaussian_kernel() {
    let d = 8;
    let mut rng = common::rng(1);
    let x = scaled_binary(&mut rng, 1, d);
    let xi = scaled_binary(&mut rng, 1, d);
    let beta = 2.0;
    let exact = (-beta / 2.0 * x.iter().zip(&xi).map(|(a, b)| (a - b).powi(2)).sum::<f64>()).exp();
    let mut errors = Vec::new();
    // Under Miri (about 10^5 times slower) few features and only the exact
    // identity: the kernel error needs Y = 200 000.
    let ys: &[usize] = if cfg!(miri) {
        &[100]
    } else {
        &[100, 10_000, 200_000]
    };
    for &y in ys {
        let proj = SeededProjection::new(5, y, d).unwrap();
        let dam = DrDam::new(proj, beta, vec![0.0; 2 * y]).unwrap();
        let (mut fx, mut fxi) = (vec![0.0; 2 * y], vec![0.0; 2 * y]);
        let mut scratch = vec![0.0; d];
        dam.features_of(&x, &mut fx, &mut scratch).unwrap();
        dam.features_of(&xi, &mut fxi, &mut scratch).unwrap();
        let k: f64 = fx.iter().zip(&fxi).map(|(a, b)| a * b).sum();
        errors.push((k - exact).abs());
        // φ(x)·φ(x) = 1 exactly (cos² + sin²).
        let self_k: f64 = fx.iter().map(|a| a * a).sum();
        assert!((self_k - 1.0).abs() < 1e-9);
    }
    if !cfg!(miri) {
        assert!(errors[2] < 0.01, "{errors:?}");
        assert!(errors[2] < errors[0], "{errors:?}");
    }
}

/// The energy error falls like 1/√Y: fitted log-log slope in [−0.6, −0.4]
/// over Y from 10^3 to 10^5.
#[test]
#[cfg_attr(
    miri,
    ignore = "statistical: Y up to 100 000 features (1.4 s native, days under Miri)"
)]
fn energy_error_falls_like_inverse_sqrt_features() {
    let (k, d, beta) = (20, 16, 4.0);
    let mut rng = common::rng(2);
    let patterns = scaled_binary(&mut rng, k, d);
    let queries = scaled_binary(&mut rng, 20, d);
    let ys = [1_000usize, 3_000, 10_000, 30_000, 100_000];
    let pts: Vec<(f64, f64)> = ys
        .iter()
        .map(|&y| {
            (
                (y as f64).ln(),
                energy_error(&patterns, &queries, d, beta, y, 4).ln(),
            )
        })
        .collect();
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    assert!(
        (-0.6..=-0.4).contains(&slope),
        "slope {slope}, points {pts:?}"
    );
}

/// The paper's Figure 3 setting: binary patterns in {0, 1/√D}; queries at
/// stored patterns, near them (10% of bits flipped) or random.
fn figure3_error(d: usize, beta: f64, kind: &str) -> f64 {
    let (k, y) = (100, 4_000);
    let mut rng = common::rng(1);
    let s = 1.0 / (d as f64).sqrt();
    let mut binary = |n: usize| -> Vec<f64> {
        common::bipolar(&mut rng, n * d)
            .iter()
            .map(|&b| if b > 0.0 { s } else { 0.0 })
            .collect()
    };
    let patterns = binary(k);
    let queries = match kind {
        "stored" => patterns[..20 * d].to_vec(),
        "near" => patterns[..20 * d]
            .iter()
            .enumerate()
            .map(|(i, &v)| if i % 10 == 3 { s - v } else { v })
            .collect(),
        _ => binary(20),
    };
    energy_error(&patterns, &queries, d, beta, y, 3)
}

/// The error grows with β and with D, and is smaller at stored patterns
/// than at random queries. Measured (K = 100, Y = 4000, 3 projections):
/// at random queries, D = 32, the mean error is about 2e-3, 3e-3, 0.8 for
/// β = 1, 10, 40; near stored patterns (every tenth bit flipped) at β = 40
/// it is about 0.03 at D = 8 and 0.24 at D = 32, where it saturates (an
/// exploratory run gave about 0.26 at D = 128 and 0.24 at D = 512): once
/// every kernel value is below the feature noise the error is that of a
/// random energy.
#[test]
#[cfg_attr(
    miri,
    ignore = "statistical: K = 100, Y = 4000, 3 projections (0.6 s native, a day under Miri)"
)]
fn error_grows_with_beta_and_dimension_and_is_smallest_at_memories() {
    let by_beta: Vec<f64> = [1.0, 10.0, 40.0]
        .iter()
        .map(|&beta| figure3_error(32, beta, "random"))
        .collect();
    assert!(
        by_beta[0] < by_beta[1] && by_beta[1] < by_beta[2],
        "{by_beta:?}"
    );

    let small_d = figure3_error(8, 40.0, "near");
    let large_d = figure3_error(32, 40.0, "near");
    assert!(3.0 * small_d < large_d, "{small_d} vs {large_d}");

    let at_memories = figure3_error(32, 40.0, "stored");
    let at_random = by_beta[2];
    assert!(
        10.0 * at_memories < at_random,
        "{at_memories} vs {at_random}"
    );
}

#[test]
fn store_then_forget_restores_the_memory() {
    // Under Miri (about 10^5 times slower) fewer features.
    let (d, y) = (10, if cfg!(miri) { 100 } else { 500 });
    let mut rng = common::rng(4);
    let a = scaled_binary(&mut rng, 3, d);
    let extra = scaled_binary(&mut rng, 1, d);
    let proj = SeededProjection::new(9, y, d).unwrap();
    let mut dam = DrDam::new(proj, 10.0f32, vec![0.0f32; 2 * y]).unwrap();
    let mut scratch = vec![0.0f32; d];
    for xi in a.chunks_exact(d) {
        dam.store(&common::to_f32(xi), &mut scratch).unwrap();
    }
    let before = dam.memory().to_vec();
    dam.store(&common::to_f32(&extra), &mut scratch).unwrap();
    assert_ne!(dam.memory(), &before[..]);
    dam.forget(&common::to_f32(&extra), &mut scratch).unwrap();
    let worst = dam
        .memory()
        .iter()
        .zip(&before)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "{worst}");
    dam.clear();
    assert!(dam.memory().iter().all(|&t| t == 0.0));
}

#[test]
fn gradient_matches_central_differences() {
    // Under Miri (about 10^5 times slower) fewer features.
    let (k, d, y, beta) = (5, 6, if cfg!(miri) { 300 } else { 3_000 }, 8.0);
    let mut rng = common::rng(6);
    let patterns = scaled_binary(&mut rng, k, d);
    let proj = projection(1, y, d);
    let dam = drdam(&proj, y, d, beta, &patterns);
    let x = common::uniform(&mut rng, d)
        .iter()
        .map(|v| v * 0.3)
        .collect::<Vec<_>>();
    let mut grad = vec![0.0; d];
    dam.energy_and_gradient(&x, &mut grad, &mut []).unwrap();
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..d {
        let h = 1e-6;
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[i] += h;
        xm[i] -= h;
        let fd =
            (dam.energy(&xp, &mut []).unwrap() - dam.energy(&xm, &mut []).unwrap()) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() <= 1e-6 * scale.max(1e-3),
            "coord {i}: {fd} vs {}",
            grad[i]
        );
    }
}

/// The seeded mode is the stored mode with the same numbers: same energy.
#[test]
fn seeded_and_stored_projections_agree() {
    // Under Miri (about 10^5 times slower) fewer features.
    let (d, y) = (12, if cfg!(miri) { 100 } else { 700 });
    let mut rng = common::rng(8);
    let patterns = scaled_binary(&mut rng, 4, d);
    let proj = projection(77, y, d);
    let stored = drdam(&proj, y, d, 5.0, &patterns);
    let mut seeded = DrDam::new(
        SeededProjection::new(77, y, d).unwrap(),
        5.0,
        vec![0.0; 2 * y],
    )
    .unwrap();
    let mut scratch = vec![0.0f64; seeded.scratch_len()];
    for xi in patterns.chunks_exact(d) {
        seeded.store(xi, &mut scratch).unwrap();
    }
    assert_eq!(stored.memory(), seeded.memory());
    let q = scaled_binary(&mut rng, 1, d);
    assert_eq!(
        stored.energy(&q, &mut []).unwrap(),
        seeded.energy(&q, &mut scratch).unwrap()
    );
}

/// Retrieval from 10%-flipped binary patterns, D = 100, K = 50, β = 10,
/// η = 0.1, 40 steps: the exact memory recovers at least 95% of the
/// patterns, and DrDAM with Y = 20,000 ends at the same memory as the exact
/// model for at least 95% of the queries.
#[test]
#[cfg_attr(
    miri,
    ignore = "statistical: 95% agreement needs Y = 20 000 features (3 s native, days under Miri)"
)]
fn retrieval_agrees_with_the_exact_memory() {
    let (k, d, y, beta, step, steps) = (50, 100, 20_000, 10.0f32, 0.1f32, 40);
    let mut rng = common::rng(10);
    let patterns64 = scaled_binary(&mut rng, k, d);
    let patterns = common::to_f32(&patterns64);
    let exact = LseMemory::new(
        MemoryView::new(&patterns, k, d).unwrap(),
        beta,
        Similarity::Euclidean,
    )
    .unwrap();
    let mut proj = vec![0.0f32; y * d];
    SeededProjection::new(11, y, d)
        .unwrap()
        .fill(&mut proj)
        .unwrap();
    let mut dam = DrDam::new(
        StoredProjection::new(&proj, y, d).unwrap(),
        beta,
        vec![0.0f32; 2 * y],
    )
    .unwrap();
    for xi in patterns.chunks_exact(d) {
        dam.store(xi, &mut []).unwrap();
    }
    let nearest = |x: &[f32]| {
        patterns
            .chunks_exact(d)
            .map(|p| p.iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
            .enumerate()
            .fold(
                (0, f32::MIN),
                |best, (i, s)| if s > best.1 { (i, s) } else { best },
            )
            .0
    };
    let (mut exact_ok, mut same) = (0, 0);
    for (mu, row) in patterns64.chunks_exact(d).enumerate() {
        let flipped: Vec<f32> = common::corrupt(&mut rng, row, d / 10)
            .iter()
            .map(|&s| f32::from(s) / (d as f32).sqrt())
            .collect();
        let mut xe = flipped.clone();
        exact
            .descend(&mut xe, None, step, steps, &mut vec![0.0; k + d])
            .unwrap();
        let mut xd = flipped.clone();
        dam.descend(&mut xd, None, step, steps, &mut vec![0.0; d])
            .unwrap();
        let (ne, nd) = (nearest(&xe), nearest(&xd));
        exact_ok += usize::from(ne == mu);
        same += usize::from(ne == nd);
    }
    assert!(
        exact_ok * 100 >= 95 * k,
        "exact recovered {exact_ok} of {k}"
    );
    assert!(same * 100 >= 95 * k, "DrDAM agreed on {same} of {k}");
}
