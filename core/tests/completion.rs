//! Pattern completion with clamped (known) entries, against an
//! independent reference: the update rule written out from its definition
//! (math.md §3), `σ_i ← sign(Σ_μ F(β ξ^μ·σ⁺ / D) − F(β ξ^μ·σ⁻ / D))` with
//! `σ^±` the state with neuron `i` set to `±1`, ties to `+1`. With bipolar
//! memories and a homogeneous `F` the reference drops the positive factor
//! `β/D` (it cannot change a sign) and sums integers exactly, so ties are
//! ties on both sides.

mod common;

use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};
use proptest::prelude::*;
use rand::RngExt;

/// `F(s) = s^n` (or rectified), evaluated directly.
fn f(n: u32, rectified: bool, s: f64) -> f64 {
    if rectified && s < 0.0 {
        0.0
    } else {
        s.powi(n as i32)
    }
}

/// The reference decision for neuron `i` of `state`.
fn decide(xi: &[f64], d: usize, n: u32, rect: bool, state: &[i8], i: usize) -> i8 {
    let mut plus = state.to_vec();
    plus[i] = 1;
    let mut minus = state.to_vec();
    minus[i] = -1;
    let mut diff = 0.0;
    for row in xi.chunks_exact(d) {
        let dot = |s: &[i8]| {
            row.iter()
                .zip(s)
                .map(|(x, &s)| x * f64::from(s))
                .sum::<f64>()
        };
        diff += f(n, rect, dot(&plus)) - f(n, rect, dot(&minus));
    }
    if diff >= 0.0 { 1 } else { -1 }
}

/// Sequential (or synchronous) relaxation of the free neurons, by the
/// reference rule; returns the sweeps and the stop reason.
#[allow(clippy::too_many_arguments)]
fn reference(
    xi: &[f64],
    d: usize,
    n: u32,
    rect: bool,
    state: &mut [i8],
    known: &[bool],
    sync: bool,
    max: usize,
) -> (usize, Stop) {
    for sweep in 1..=max {
        let old = state.to_vec();
        let mut changed = 0;
        for i in (0..d).filter(|&i| !known[i]) {
            let from = if sync { &old[..] } else { &state[..] };
            let new = decide(xi, d, n, rect, from, i);
            if new != state[i] {
                state[i] = new;
                changed += 1;
            }
        }
        if changed == 0 {
            return (sweep, Stop::FixedPoint);
        }
    }
    (max, Stop::MaxSweeps)
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(200), 3))]

    /// Sequential and synchronous completion equal the reference; known
    /// entries never change.
    #[test]
    fn completion_follows_the_rule_and_keeps_known_entries(
        seed in any::<u64>(),
        k in 1usize..8,
        d in 1usize..24,
        n in 1u32..=6,
        rect in any::<bool>(),
        sync in any::<bool>(),
        beta in 0.1f64..4.0,
        known_fraction in 0.0f64..1.0,
        max in 1usize..6,
    ) {
        let mut rng = common::rng(seed);
        // Bipolar memories: overlaps are integers, so the reference's
        // direct sums and the library's evaluation decide ties alike.
        let xi = common::bipolar(&mut rng, k * d);
        let start = common::bipolar_state(&mut rng, d);
        let known: Vec<bool> = (0..d).map(|_| rng.random_bool(known_fraction)).collect();
        let fi = if rect { Interaction::RectifiedPolynomial { n } } else { Interaction::Polynomial { n } };
        let net = BipolarMemory::new(MemoryView::new(&xi, k, d).unwrap(), fi, Form::Normalized { beta }).unwrap();
        let order = if sync { UpdateOrder::Synchronous } else { UpdateOrder::Sequential };
        let mut got = start.clone();
        let r = net.complete(&mut got, &mut vec![0.0; k], order, max, &known).unwrap();
        let mut want = start.clone();
        let (sweeps, stop) = reference(&xi, d, n, rect, &mut want, &known, sync, max);
        prop_assert_eq!(&got, &want);
        prop_assert_eq!((r.sweeps, r.stop), (sweeps, stop));
        for i in (0..d).filter(|&i| known[i]) {
            prop_assert_eq!(got[i], start[i], "known entry {} changed", i);
        }
    }

    /// The random order keeps known entries and, when it reports a fixed
    /// point, every free neuron is stable under the reference rule.
    #[test]
    fn random_order_completion_keeps_known_entries(
        seed in any::<u64>(),
        order_seed in any::<u64>(),
        k in 1usize..8,
        d in 1usize..24,
        n in 1u32..=6,
        known_fraction in 0.0f64..1.0,
    ) {
        let mut rng = common::rng(seed);
        let xi = common::bipolar(&mut rng, k * d);
        let start = common::bipolar_state(&mut rng, d);
        let known: Vec<bool> = (0..d).map(|_| rng.random_bool(known_fraction)).collect();
        let fi = Interaction::Polynomial { n };
        let net = BipolarMemory::new(MemoryView::new(&xi, k, d).unwrap(), fi, Form::Normalized { beta: 1.0 }).unwrap();
        let mut perm = vec![0u32; d];
        let mut got = start.clone();
        let r = net
            .complete(&mut got, &mut vec![0.0; k], UpdateOrder::Random { seed: order_seed, order: &mut perm }, 50, &known)
            .unwrap();
        for i in 0..d {
            if known[i] {
                prop_assert_eq!(got[i], start[i]);
            } else if r.stop == Stop::FixedPoint {
                prop_assert_eq!(decide(&xi, d, n, false, &got, i), got[i], "free neuron {} unstable", i);
            }
        }
    }
}

/// A mask of the wrong length is an error, not a panic.
#[test]
fn a_mask_of_the_wrong_length_is_refused() {
    let xi = [1.0f64, -1.0, 1.0];
    let net = BipolarMemory::new(
        MemoryView::new(&xi, 1, 3).unwrap(),
        Interaction::Polynomial { n: 2 },
        Form::Normalized { beta: 1.0 },
    )
    .unwrap();
    let err = net
        .complete(
            &mut [1, 1, 1],
            &mut [0.0],
            UpdateOrder::Sequential,
            5,
            &[true, false],
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            dam_core::Error::ShapeMismatch {
                operand: dam_core::Operand::Mask,
                expected: 3,
                found: 2
            }
        ),
        "{err:?}"
    );
}

/// `n` steps of `x ← x − η ∇E(x)` on the free coordinates, with the
/// gradient from `grad(x)`.
fn reference_descent(
    x: &mut [f64],
    known: &[bool],
    eta: f64,
    steps: usize,
    grad: impl Fn(&[f64]) -> Vec<f64>,
) {
    for _ in 0..steps {
        let g = grad(x);
        for ((x, g), &k) in x.iter_mut().zip(g).zip(known) {
            if !k {
                *x -= eta * g;
            }
        }
    }
}

/// The log-sum-exp gradient from its definition (math.md §5):
/// `x − Σ_μ p_μ ξ^μ`, `p = softmax(−(β/2)‖x − ξ‖²)` (Euclidean) or
/// `softmax(β ξ·x)` (dot product).
fn lse_gradient(xi: &[f64], d: usize, beta: f64, euclidean: bool, x: &[f64]) -> Vec<f64> {
    let scores: Vec<f64> = xi
        .chunks_exact(d)
        .map(|m| {
            if euclidean {
                -0.5 * beta * m.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
            } else {
                beta * m.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
            }
        })
        .collect();
    let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
    let z: f64 = w.iter().sum();
    let mut g = x.to_vec();
    for (m, w) in xi.chunks_exact(d).zip(&w) {
        for (g, a) in g.iter_mut().zip(m) {
            *g -= w / z * a;
        }
    }
    g
}

/// The DrDAM gradient from its definition (math.md §6), with the
/// projection written out as a matrix `S` (`Y × D`).
fn drdam_gradient(
    s: &[f64],
    y: usize,
    d: usize,
    beta: f64,
    memories: &[f64],
    x: &[f64],
) -> Vec<f64> {
    let rb = beta.sqrt();
    let phi = |v: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; 2 * y];
        for (j, row) in s.chunks_exact(d).enumerate() {
            let a = rb * row.iter().zip(v).map(|(p, q)| p * q).sum::<f64>();
            out[j] = a.cos() / (y as f64).sqrt();
            out[y + j] = a.sin() / (y as f64).sqrt();
        }
        out
    };
    let mut t = vec![0.0; 2 * y];
    for m in memories.chunks_exact(d) {
        t.iter_mut().zip(phi(m)).for_each(|(t, p)| *t += p);
    }
    let fx = phi(x);
    let dot: f64 = fx.iter().zip(&t).map(|(a, b)| a * b).sum();
    let mut jt = vec![0.0; d];
    for (j, row) in s.chunks_exact(d).enumerate() {
        let a = rb * row.iter().zip(x).map(|(p, q)| p * q).sum::<f64>();
        let c = (beta / y as f64).sqrt() * (-a.sin() * t[j] + a.cos() * t[y + j]);
        jt.iter_mut().zip(row).for_each(|(g, s)| *g += c * s);
    }
    jt.iter().map(|v| -v / (beta * dot)).collect()
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(64), 2))]

    /// Masked descent of the log-sum-exp memory (both similarities) and of
    /// DrDAM follows the update rule on the free coordinates, computed from
    /// the definitions, and never moves a known one.
    #[test]
    fn continuous_completion_follows_the_rule_and_keeps_known_entries(
        seed in any::<u64>(),
        k in 1usize..6,
        d in 1usize..10,
        beta in 0.1f64..3.0,
        eta in 0.05f64..1.0,
        steps in 1usize..5,
        known_fraction in 0.0f64..1.0,
        euclidean in any::<bool>(),
    ) {
        use dam_core::{DrDam, EnergyModel, LseMemory, SeededProjection, Similarity};
        let mut rng = common::rng(seed);
        let xi = common::uniform(&mut rng, k * d);
        let start = common::uniform(&mut rng, d);
        let known: Vec<bool> = (0..d).map(|_| rng.random_bool(known_fraction)).collect();
        let similarity = if euclidean { Similarity::Euclidean } else { Similarity::DotProduct };
        let mem = LseMemory::new(MemoryView::new(&xi, k, d).unwrap(), beta, similarity).unwrap();
        let mut got = start.clone();
        let mut scratch = vec![0.0; mem.scratch_len() + d];
        mem.descend(&mut got, Some(&known), eta, steps, &mut scratch).unwrap();
        let mut want = start.clone();
        reference_descent(&mut want, &known, eta, steps, |x| lse_gradient(&xi, d, beta, euclidean, x));
        for i in 0..d {
            prop_assert!((got[i] - want[i]).abs() <= 1e-9 * (1.0 + want[i].abs()), "lse entry {}: {} vs {}", i, got[i], want[i]);
            if known[i] {
                prop_assert_eq!(got[i], start[i]);
            }
        }
        // DrDAM, Y = 64 features, against the formula with S written out.
        let y = 64;
        let proj = SeededProjection::new(seed, y, d).unwrap();
        let mut s = vec![0.0f64; y * d];
        proj.fill(&mut s).unwrap();
        let mut dam = DrDam::new(proj, beta, vec![0.0f64; 2 * y]).unwrap();
        let mut scratch = vec![0.0; dam.scratch_len() + d];
        for m in xi.chunks_exact(d) {
            dam.store(m, &mut scratch).unwrap();
        }
        // Start at a stored pattern's neighbourhood so φ(x)·T stays away from 0.
        let start: Vec<f64> = xi[..d].iter().zip(&start).map(|(m, s)| m + 0.1 * s).collect();
        let mut got = start.clone();
        let r = dam.descend(&mut got, Some(&known), eta, steps, &mut scratch);
        prop_assert!(r.is_ok(), "{:?}", r);
        {
            let mut want = start.clone();
            reference_descent(&mut want, &known, eta, steps, |x| drdam_gradient(&s, y, d, beta, &xi, x));
            for i in 0..d {
                prop_assert!((got[i] - want[i]).abs() <= 1e-7 * (1.0 + want[i].abs()), "drdam entry {}: {} vs {}", i, got[i], want[i]);
                if known[i] {
                    prop_assert_eq!(got[i], start[i]);
                }
            }
        }
    }
}
