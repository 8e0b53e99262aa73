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
