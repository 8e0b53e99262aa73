//! Tests 6 and 7 of the foundation issue: no public entry point returns Inf
//! or NaN for any finite input, inside the documented domain nothing fails,
//! and every error variant is reachable (returned, not panicked).

mod common;

use dam_core::{
    BipolarMemory, Classifier, DrDam, EnergyModel, Error, Form, Interaction, LseMemory, MemoryView,
    Operand, Param, Quantity, SeededProjection, Similarity, UpdateOrder,
};

// Under Miri (about 10^5 times slower than native code) the grids are
// subsets: D = 10 only, the smallest and largest degree, three inverse
// temperatures, two entry magnitudes.
const DEGREES: &[u32] = if cfg!(miri) {
    &[2, 1000]
} else {
    &[2, 10, 30, 100, 1000]
};
const DIMS: &[usize] = if cfg!(miri) {
    &[10]
} else {
    &[10, 794, 100_000]
};
const BETAS: &[f32] = if cfg!(miri) {
    &[1e-30, 1.0, 1e30]
} else {
    &[1e-30, 1e-6, 1e-2, 0.5, 1.0, 10.0, 1e3, 1e10, 1e30]
};
/// Entry magnitudes: 1 is the documented domain, the others are outside it.
const SCALES: &[f32] = if cfg!(miri) {
    &[1.0, 1e30]
} else {
    &[1.0, 1e10, 1e30]
};

fn families(n: u32) -> [Interaction<f32>; 4] {
    [
        Interaction::Polynomial { n },
        Interaction::RectifiedPolynomial { n },
        Interaction::leaky(n),
        Interaction::Exponential,
    ]
}

fn all_finite(v: &[f32]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Checks one result: `Ok` values must be finite; inside the domain it must
/// be `Ok`; the only error allowed outside is an overflow.
fn check<T>(what: &str, r: Result<T, Error>, finite: impl Fn(&T) -> bool, in_domain: bool) {
    match r {
        Ok(v) => assert!(finite(&v), "{what}: non-finite result"),
        Err(e) => {
            assert!(
                !in_domain,
                "{what}: error inside the documented domain: {e:?}"
            );
            match e {
                Error::Overflow { ln_magnitude, .. } => {
                    assert!(ln_magnitude.is_finite(), "{what}: {e:?}")
                }
                other => panic!("{what}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn no_inf_or_nan_from_bipolar_and_classifier() {
    let k = 3;
    let mut cases = 0;
    for &d in DIMS {
        let mut rng = common::rng(d as u64);
        let unit = common::to_f32(&common::uniform(&mut rng, k * d));
        let state = common::bipolar_state(&mut rng, d);
        let nc = 3.min(d - 1);
        let v_unit = common::to_f32(&common::uniform(&mut rng, d - nc));
        for &scale in SCALES {
            let xi: Vec<f32> = unit.iter().map(|x| x * scale).collect();
            let v: Vec<f32> = v_unit.iter().map(|x| x * scale).collect();
            let view = MemoryView::new(&xi, k, d).unwrap();
            let mut overlaps = vec![0.0f32; k];
            for &n in DEGREES {
                for f in families(n) {
                    for &beta in BETAS {
                        for form in [Form::Normalized { beta }, Form::Raw { beta }] {
                            cases += 1;
                            let normalized = matches!(form, Form::Normalized { .. });
                            let in_domain = normalized && scale == 1.0 && beta <= 1.0;
                            let tag = format!("D={d} scale={scale} n={n} {f:?} {form:?}");

                            let net = BipolarMemory::new(view, f, form).unwrap();
                            let mut s = state.clone();
                            let r = net.retrieve(&mut s, &mut overlaps, UpdateOrder::Sequential, 2);
                            check(&format!("retrieve {tag}"), r, |_| true, in_domain);
                            assert!(s.iter().all(|&x| x == 1 || x == -1));
                            check(
                                &format!("energy {tag}"),
                                net.energy(&state),
                                |e| e.is_finite(),
                                in_domain,
                            );
                            check(
                                &format!("energy_wide {tag}"),
                                net.energy_wide(&state),
                                |w| w.ln().is_finite() && w.tanh().is_finite(),
                                normalized && scale == 1.0,
                            );
                            check(
                                &format!("is_fixed_point {tag}"),
                                net.is_fixed_point(&state, &mut overlaps),
                                |_| true,
                                in_domain,
                            );
                            check(
                                &format!("overlaps {tag}"),
                                net.overlaps(&state, &mut overlaps)
                                    .map(|_| overlaps.clone()),
                                |o| all_finite(o),
                                scale == 1.0,
                            );

                            let clf = Classifier::new(view, nc, f, form).unwrap();
                            let mut scores = vec![0.0f32; nc];
                            let r = clf.forward(&v, &mut scores, &mut overlaps);
                            check(
                                &format!("forward {tag}"),
                                r,
                                |_| all_finite(&scores),
                                in_domain,
                            );

                            let m = scale * d as f32;
                            check(
                                &format!("term {tag}"),
                                form.term(&f, m, d),
                                |x| x.is_finite(),
                                in_domain,
                            );
                            check(
                                &format!("term' {tag}"),
                                form.term_derivative(&f, m, d),
                                |x| x.is_finite(),
                                in_domain,
                            );
                        }
                    }
                    for s in [0.0f32, 1.0, -1.0, 794.0, -1e30, 1e30] {
                        check("value", f.value(s), |x| x.is_finite(), s.abs() <= 1.0);
                        check(
                            "derivative",
                            f.derivative(s),
                            |x| x.is_finite(),
                            s.abs() <= 1.0,
                        );
                    }
                }
            }
        }
    }
    assert_eq!(
        cases,
        DIMS.len() * SCALES.len() * DEGREES.len() * 4 * BETAS.len() * 2
    );
}

#[test]
fn no_inf_or_nan_from_log_sum_exp() {
    let k = 4;
    for &d in DIMS {
        let mut rng = common::rng(7 + d as u64);
        let unit = common::to_f32(&common::uniform(&mut rng, k * d));
        let x_unit = common::to_f32(&common::uniform(&mut rng, d));
        for &scale in SCALES {
            let xi: Vec<f32> = unit.iter().map(|x| x * scale).collect();
            let view = MemoryView::new(&xi, k, d).unwrap();
            for beta in [1e-30f32, 1e-4, 1e-2, 1.0, 1e2, 1e4, 1e10, 1e30] {
                for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
                    let in_domain = scale == 1.0 && (1e-4..=1e4).contains(&beta);
                    let tag = format!("D={d} scale={scale} beta={beta} {similarity:?}");
                    let mem = LseMemory::new(view, beta, similarity).unwrap();
                    let mut scratch = vec![0.0f32; k + d];
                    let mut grad = vec![0.0f32; d];
                    let x: Vec<f32> = x_unit.iter().map(|v| v * scale).collect();
                    check(
                        &format!("energy {tag}"),
                        mem.energy(&x, &mut scratch),
                        |e| e.is_finite(),
                        in_domain,
                    );
                    let r = mem.energy_and_gradient(&x, &mut grad, &mut scratch);
                    check(
                        &format!("gradient {tag}"),
                        r,
                        |e| e.is_finite() && all_finite(&grad),
                        in_domain,
                    );
                    let mut y = x.clone();
                    check(
                        &format!("one_step {tag}"),
                        mem.one_step(&mut y, &mut scratch),
                        |e| e.is_finite(),
                        in_domain,
                    );
                    assert!(all_finite(&y), "{tag}");
                    for step in [1e-3f32, 1.0, 1e30] {
                        let mut y = x.clone();
                        let r = mem.descend(&mut y, None, step, 3, &mut scratch);
                        check(
                            &format!("descend {step} {tag}"),
                            r,
                            |r| r.energy.is_finite(),
                            in_domain && step <= 1.0,
                        );
                        assert!(all_finite(&y), "{tag}: descend left a non-finite state");
                    }
                }
            }
        }
    }
}

/// Test 7: every variant of every error enum is produced by some public call.
#[test]
fn every_error_variant_is_reachable() {
    let xi = [1.0f32, -1.0, 1.0, 1.0, 1.0, -1.0];
    let view = MemoryView::new(&xi, 2, 3).unwrap();
    let f = Interaction::Polynomial { n: 2 };
    let norm = Form::Normalized { beta: 1.0 };
    let net = BipolarMemory::new(view, f, norm).unwrap();
    let clf = Classifier::new(view, 1, f, norm).unwrap();
    let lse = LseMemory::new(view, 1.0, Similarity::Euclidean).unwrap();
    let mut seen: Vec<Error> = Vec::new();
    let mut big = [0.0f32; 8];

    // Shapes, for every operand.
    seen.push(MemoryView::new(&xi, 2, 2).unwrap_err());
    seen.push(net.energy(&[1, 1]).unwrap_err());
    seen.push(
        net.retrieve(&mut [1, 1, 1], &mut [0.0], UpdateOrder::Sequential, 1)
            .unwrap_err(),
    );
    seen.push(
        clf.forward(&[0.0, 0.0], &mut [0.0, 0.0], &mut [0.0, 0.0])
            .unwrap_err(),
    );
    seen.push(
        lse.descend(&mut [0.0; 3], Some(&[true]), 0.1, 1, &mut big)
            .unwrap_err(),
    );
    seen.push(MemoryView::<f32>::new(&[], 0, 3).unwrap_err());
    // Non-finite input.
    seen.push(MemoryView::new(&[f32::INFINITY], 1, 1).unwrap_err());
    seen.push(lse.energy(&[0.0, f32::NAN, 0.0], &mut big).unwrap_err());
    seen.push(net.energy(&[1, 0, 1]).unwrap_err());
    // Parameters.
    seen.push(BipolarMemory::new(view, Interaction::Polynomial { n: 0 }, norm).unwrap_err());
    seen.push(BipolarMemory::new(view, f, Form::Normalized { beta: -1.0 }).unwrap_err());
    seen.push(
        BipolarMemory::new(
            view,
            Interaction::LeakyRectifiedPolynomial { n: 2, leak: -0.1 },
            norm,
        )
        .unwrap_err(),
    );
    seen.push(
        lse.descend(&mut [0.0; 3], None, 0.0, 1, &mut big)
            .unwrap_err(),
    );
    seen.push(Classifier::new(view, 3, f, norm).unwrap_err());
    seen.push(
        net.retrieve(&mut [1, 1, 1], &mut [0.0; 2], UpdateOrder::Sequential, 0)
            .unwrap_err(),
    );
    seen.push(
        dam_core::PottsClassifier::new(view, &[0.5f32, 0.6, 1.0, 0.0], 2, None, 1.0).unwrap_err(),
    );
    // Overflow, for every quantity.
    let f20 = Interaction::Polynomial { n: 20 };
    seen.push(f20.value(1e3f32).unwrap_err());
    let raw = BipolarMemory::new(
        MemoryView::new(&[1e3f32, 1e3, 1e3], 1, 3).unwrap(),
        f20,
        Form::Raw { beta: 1.0 },
    )
    .unwrap();
    seen.push(raw.energy(&[1, 1, 1]).unwrap_err());
    let raw_clf = Classifier::new(
        MemoryView::new(&[1e3f32, 1e3, 1e3], 1, 3).unwrap(),
        1,
        f20,
        Form::Raw { beta: 1.0 },
    )
    .unwrap();
    seen.push(
        raw_clf
            .forward(&[1.0, 1.0], &mut [0.0], &mut [0.0])
            .unwrap_err(),
    );
    let mut x = [3.0f32, 3.0, 3.0];
    seen.push(
        lse.descend(&mut x, None, f32::MAX, 1, &mut big)
            .unwrap_err(),
    );
    assert_eq!(
        x,
        [3.0, 3.0, 3.0],
        "a failed step must leave the state alone"
    );

    seen.push(dam_core::model::Preprocessing::new(&[1.0], &[]).unwrap_err());

    let has = |p: &dyn Fn(&Error) -> bool| seen.iter().any(p);
    for op in [
        Operand::Memories,
        Operand::Query,
        Operand::Scratch,
        Operand::Output,
        Operand::Mask,
        Operand::Preprocessing,
    ] {
        assert!(
            has(&|e| matches!(e, Error::ShapeMismatch { operand, .. } if *operand == op)),
            "{op:?}"
        );
    }
    assert!(has(&|e| matches!(e, Error::EmptyMemory)));
    for op in [Operand::Memories, Operand::Query] {
        assert!(
            has(&|e| matches!(e, Error::NonFinite { operand, .. } if *operand == op)),
            "{op:?}"
        );
    }
    assert!(has(&|e| matches!(e, Error::NotBipolar { index: 1 })));
    for p in [
        Param::Degree,
        Param::Beta,
        Param::Leak,
        Param::Step,
        Param::Classes,
        Param::Iterations,
    ] {
        assert!(
            has(&|e| matches!(e, Error::InvalidParameter { param, .. } if *param == p)),
            "{p:?}"
        );
    }
    for q in [
        Quantity::Interaction,
        Quantity::Energy,
        Quantity::Score,
        Quantity::Gradient,
    ] {
        assert!(
            has(&|e| matches!(e, Error::Overflow { quantity, .. } if *quantity == q)),
            "{q:?}"
        );
    }
    // And each one explains itself.
    for e in &seen {
        assert!(!e.to_string().is_empty());
    }
}

mod arbitrary_input {
    //! Any bits at all (NaN, infinities, subnormals, huge shapes and
    //! parameters) into every entry point: never a panic, never a
    //! non-finite output.
    use super::*;
    use proptest::prelude::*;

    fn any_f32() -> impl Strategy<Value = f32> {
        prop_oneof![
            1 => any::<u32>().prop_map(f32::from_bits),
            12 => -2.0f32..2.0,
            1 => Just(0.0),
            1 => Just(f32::MAX),
            1 => Just(f32::MIN_POSITIVE),
        ]
    }

    fn interaction() -> impl Strategy<Value = Interaction<f32>> {
        prop_oneof![
            prop_oneof![1 => any::<u32>(), 6 => 0u32..40]
                .prop_map(|n| Interaction::Polynomial { n }),
            (0u32..40).prop_map(|n| Interaction::RectifiedPolynomial { n }),
            (0u32..40, any_f32())
                .prop_map(|(n, leak)| Interaction::LeakyRectifiedPolynomial { n, leak }),
            Just(Interaction::Exponential),
        ]
    }

    proptest! {
        #![proptest_config(common::proptest_config(
            ProptestConfig::with_cases(std::env::var("DAM_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)),
            10,
        ))]

        #[test]
        fn never_panics_never_returns_non_finite(
            (k, d, classes, data, query, visible, state) in (0usize..5, 0usize..7, 0usize..3).prop_flat_map(|(k, d, c)| (
                Just(k),
                Just(d),
                Just(c),
                proptest::collection::vec(any_f32(), k * d..=k * d + 1),
                proptest::collection::vec(any_f32(), d.saturating_sub(1)..=d),
                proptest::collection::vec(any_f32(), d.saturating_sub(c)..=d.saturating_sub(c)),
                proptest::collection::vec(prop_oneof![8 => Just(1i8), 8 => Just(-1i8), 1 => any::<i8>()], d..=d),
            )),
            f in interaction(),
            beta in prop_oneof![any_f32(), 0.01f32..3.0],
            raw in any::<bool>(),
            step in prop_oneof![any_f32(), 0.001f32..1.0],
            steps in 0usize..3,
            sweeps in 0usize..3,
            scratch_len in 0usize..14,
        ) {
            let form = if raw { Form::Raw { beta } } else { Form::Normalized { beta } };
            let _ = f.value(beta);
            let _ = f.derivative(step);
            if let Ok(v) = form.term(&f, step, d) { prop_assert!(v.is_finite()); }
            if let Ok(v) = form.term_derivative(&f, step, d) { prop_assert!(v.is_finite()); }
            let data = if scratch_len % 5 == 0 { &data[..] } else { &data[..k * d] };
            let Ok(view) = MemoryView::new(data, k, d) else { return Ok(()); };
            let mut scratch = vec![0.0f32; scratch_len];
            if let Ok(net) = BipolarMemory::new(view, f, form) {
                let mut s = state.clone();
                let _ = net.retrieve(&mut s, &mut scratch, UpdateOrder::Sequential, sweeps);
                let mut perm = vec![0u32; scratch_len];
                let _ = net.retrieve(&mut s, &mut scratch, UpdateOrder::Random { seed: 1, order: &mut perm }, sweeps);
                let _ = net.retrieve(&mut s, &mut scratch, UpdateOrder::Synchronous, sweeps);
                if let Ok(e) = net.energy(&state) { prop_assert!(e.is_finite()); }
                if let Ok(w) = net.energy_wide(&state) { prop_assert!(w.ln().is_finite()); }
                let _ = net.is_fixed_point(&state, &mut scratch);
            }
            if let Ok(clf) = Classifier::new(view, classes, f, form) {
                let mut scores = vec![0.0f32; classes];
                if clf.forward(&visible, &mut scores, &mut scratch).is_ok() {
                    prop_assert!(all_finite(&scores));
                }
            }
            for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
                if let Ok(mem) = LseMemory::new(view, beta, similarity) {
                    let mut x = query.clone();
                    let finite_before = all_finite(&x);
                    let mut grad = vec![0.0f32; d];
                    if let Ok(e) = mem.energy(&x, &mut scratch) { prop_assert!(e.is_finite()); }
                    if let Ok(e) = mem.energy_and_gradient(&x, &mut grad, &mut scratch) {
                        prop_assert!(e.is_finite() && all_finite(&grad));
                    }
                    let _ = mem.one_step(&mut x, &mut scratch);
                    let mask = vec![true; query.len()];
                    let _ = mem.descend(&mut x, Some(&mask[..]), step, steps, &mut scratch);
                    let _ = mem.descend(&mut x, None, step, steps, &mut scratch);
                    if finite_before { prop_assert!(all_finite(&x)); }
                }
            }
            if let Ok(proj) = SeededProjection::new(u64::from(steps as u32), k + 1, d)
                && let Ok(mut dam) = DrDam::new(proj, beta, data.get(..2 * (k + 1)).unwrap_or(&[]).to_vec()) {
                    let before = dam.memory().to_vec();
                    let ok = dam.store(&query, &mut scratch).is_ok();
                    prop_assert!(all_finite(dam.memory()));
                    if !ok { prop_assert_eq!(dam.memory(), &before[..]); }
                    let _ = dam.forget(&query, &mut scratch);
                    prop_assert!(all_finite(dam.memory()));
                    let mut grad = vec![0.0f32; d];
                    if let Ok(e) = dam.energy_and_gradient(&query, &mut grad, &mut scratch) {
                        prop_assert!(e.is_finite() && all_finite(&grad));
                    }
                    let mut x = query.clone();
                    let finite_before = all_finite(&x);
                    let _ = dam.descend(&mut x, None, step, steps, &mut scratch);
                    if finite_before { prop_assert!(all_finite(&x)); }
                }
        }
    }
}

/// Found by the arbitrary-input test: a convex combination of two memories
/// at `f32::MAX` rounds past it. The one-step update must refuse, not write
/// infinities.
#[test]
fn one_step_at_the_top_of_the_range_fails_cleanly() {
    let xi = [f32::MAX, 0.0, f32::MAX, 0.0];
    let lse = LseMemory::new(
        MemoryView::new(&xi, 2, 2).unwrap(),
        0.135,
        Similarity::DotProduct,
    )
    .unwrap();
    let mut x = [-7.0965346e-37f32, -0.0];
    let mut scratch = [0.0f32; 4];
    match lse.one_step(&mut x, &mut scratch) {
        Ok(_) => assert!(all_finite(&x)),
        Err(e) => {
            assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
            assert_eq!(x, [-7.0965346e-37f32, -0.0]);
        }
    }
}

/// Reported from the arbitrary-input test by the SIMD work: memories at
/// `f32::MAX` with a one-dimensional state.
#[test]
fn descent_next_to_the_largest_memories_stays_finite() {
    let xi = [f32::MAX, 0.0, f32::MAX];
    let view = MemoryView::new(&xi, 3, 1).unwrap();
    for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
        let lse = LseMemory::new(view, 2.689, similarity).unwrap();
        let mut scratch = [0.0f32; 8];
        let mut x = [3.58e-35f32];
        let _ = lse.one_step(&mut x, &mut scratch);
        assert!(all_finite(&x), "{similarity:?} one_step: {x:?}");
        let _ = lse.descend(&mut x, None, 0.702, 2, &mut scratch);
        assert!(all_finite(&x), "{similarity:?} descend: {x:?}");
        let mut grad = [0.0f32; 1];
        if let Ok(e) = lse.energy_and_gradient(&x, &mut grad, &mut scratch) {
            assert!(e.is_finite() && all_finite(&grad));
        }
    }
}

/// The raw form's literal `F(a) − F(b)` is `∞ − ∞` when both terms leave
/// the float range, even if they cancel exactly: the overflow reports the
/// magnitude of the term that left the range, not of the exact (zero)
/// difference.
#[test]
fn overflow_in_cancelling_terms_reports_the_terms_magnitude() {
    let n = 30;
    let f = Interaction::Polynomial { n };
    let form = Form::Raw { beta: 1.0 };
    // Label entries of 0: F(m + 2·0) − F(m) is exactly 0, each term 2000^30.
    let data = [1e3f32, 1e3, 0.0];
    let view = MemoryView::new(&data, 1, 3).unwrap();
    let (mut scores, mut scratch) = ([0.0f32; 1], [0.0f32; 4]);
    let r =
        Classifier::new(view, 1, f, form)
            .unwrap()
            .forward(&[1.0, 1.0], &mut scores, &mut scratch);
    let term = f64::from(n) * 2000f64.ln();
    match r {
        Err(Error::Overflow {
            quantity: Quantity::Score,
            ln_magnitude,
        }) => assert!(
            ln_magnitude > f64::from(f32::MAX).ln() && ln_magnitude <= term + 1e-3,
            "ln_magnitude {ln_magnitude}, the term's is {term}"
        ),
        other => panic!("expected an overflow of the score, got {other:?}"),
    }
    // Bipolar: flipping unit 0 changes the overlap from 1e3·3 to 1e3·1, and
    // with unit 2's memory entry 0 its two terms cancel.
    let net = BipolarMemory::new(view, f, form).unwrap();
    let mut state = [1i8, 1, 1];
    let r = net.retrieve(&mut state, &mut scratch[..1], UpdateOrder::Sequential, 1);
    match r {
        Err(Error::Overflow {
            quantity: Quantity::Interaction,
            ln_magnitude,
        }) => assert!(
            ln_magnitude > f64::from(f32::MAX).ln(),
            "ln_magnitude {ln_magnitude}"
        ),
        other => panic!("expected an overflow, got {other:?}"),
    }
}

/// Found by the retrieval fuzzer: with a tiny `β` the energy
/// `−(max ℓ + ln Σ e^{ℓ−max})/β` overflows through the division, and the
/// reported magnitude was `ln ∞`. It is now computed from the logs.
#[test]
fn lse_energy_overflow_through_a_tiny_beta_has_a_finite_magnitude() {
    let data = [0.0f32, 0.0, 1.0, 1.0];
    let view = MemoryView::new(&data, 2, 2).unwrap();
    let beta = 1e-40f32;
    let lse = LseMemory::new(view, beta, Similarity::Euclidean).unwrap();
    let mut scratch = [0.0f32; 4];
    match lse.energy(&[0.5, 0.5], &mut scratch) {
        Err(Error::Overflow {
            quantity: Quantity::Energy,
            ln_magnitude,
        }) => {
            // |E| ≈ ln 2 / β.
            let want = 2f64.ln().ln() - f64::from(beta).ln();
            assert!(
                (ln_magnitude - want).abs() < 0.01,
                "{ln_magnitude} vs {want}"
            );
        }
        other => panic!("expected an overflow of the energy, got {other:?}"),
    }
}
