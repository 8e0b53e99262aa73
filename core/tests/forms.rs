//! Tests 1 and 2 of the foundation issue: the raw [KH16] and normalized [McA]
//! forms decide alike, and only the raw one overflows.

mod common;

use dam_core::{
    BipolarMemory, Classifier, Error, Form, Interaction, MemoryView, Quantity, UpdateOrder,
};
use proptest::prelude::*;

fn homogeneous(n: u32, rectified: bool) -> Interaction<f64> {
    if rectified {
        Interaction::RectifiedPolynomial { n }
    } else {
        Interaction::Polynomial { n }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(200), 3))]

    /// Test 1: with continuous memories and a random bipolar state, a
    /// synchronous sweep and a full asynchronous relaxation give the same
    /// states under the raw and normalized forms, wherever raw is finite.
    #[test]
    fn raw_and_normalized_make_identical_decisions(
        seed in any::<u64>(),
        k in 1usize..24,
        d in 1usize..48,
        n in 1u32..=40,
        rectified in any::<bool>(),
        beta in 1e-3f64..10.0,
        raw_beta in 1e-60f64..1.0,
    ) {
        let mut rng = common::rng(seed);
        let xi = common::uniform(&mut rng, k * d);
        let start = common::bipolar_state(&mut rng, d);
        let view = MemoryView::new(&xi, k, d).unwrap();
        let f = homogeneous(n, rectified);
        let raw = BipolarMemory::new(view, f, Form::Raw { beta: raw_beta }).unwrap();
        let norm = BipolarMemory::new(view, f, Form::Normalized { beta }).unwrap();
        let mut overlaps = vec![0.0; k];

        let mut perm = vec![0u32; d];
        for which in 0..3 {
            let mut s_raw = start.clone();
            let mut s_norm = start.clone();
            let mut run = |net: &BipolarMemory<'_, f64>, s: &mut [i8], o: &mut [f64]| match which {
                0 => net.retrieve(s, o, UpdateOrder::Synchronous, 1),
                1 => net.retrieve(s, o, UpdateOrder::Sequential, 20),
                _ => net.retrieve(s, o, UpdateOrder::Random { seed, order: &mut perm }, 20),
            };
            let r_raw = run(&raw, &mut s_raw, &mut overlaps);
            prop_assume!(r_raw.is_ok()); // raw overflowed: no claim
            let r_norm = run(&norm, &mut s_norm, &mut overlaps).unwrap();
            prop_assert_eq!(&s_raw, &s_norm);
            prop_assert_eq!(r_raw.unwrap(), r_norm);
        }
    }
}

/// Memories for a D = 794 (784 pixels + 10 labels) classifier whose memory 0
/// is the input with its label 3 on: `ξ^0·w_3 = 794`, the largest possible
/// overlap for entries in [-1, 1].
fn aligned_classifier_data(seed: u64) -> (Vec<f64>, Vec<f64>) {
    let (k, nv, nc) = (8, 784, 10);
    let mut rng = common::rng(seed);
    let mut xi = common::uniform(&mut rng, k * (nv + nc));
    let v = common::bipolar(&mut rng, nv);
    xi[..nv].copy_from_slice(&v);
    for (c, x) in xi[nv..nv + nc].iter_mut().enumerate() {
        *x = if c == 3 { 1.0 } else { -1.0 };
    }
    (xi, v)
}

/// Test 2: at D = 794 the raw form overflows f32 from n = 14 on (794^14 ≈
/// 4e40 > f32::MAX ≈ 3.4e38), exactly as [KH16]'s evaluation would; the
/// normalized form stays finite for every n and agrees with f64.
#[test]
fn raw_form_overflows_f32_from_n_14_and_normalized_does_not() {
    let (xi64, v64) = aligned_classifier_data(1);
    let xi32 = common::to_f32(&xi64);
    let v32 = common::to_f32(&v64);
    let (k, d) = (8, 794);
    let m32 = MemoryView::new(&xi32, k, d).unwrap();
    let m64 = MemoryView::new(&xi64, k, d).unwrap();
    let mut scratch32 = [0.0f32; 8];
    let mut scratch64 = [0.0f64; 8];
    let mut first_overflow = None;

    // Under Miri (about 10^5 times slower) the degrees around the edge.
    let degrees: Vec<u32> = if cfg!(miri) {
        vec![2, 13, 14, 15, 60]
    } else {
        (2..=60).collect()
    };
    for n in degrees {
        let f32f = Interaction::RectifiedPolynomial { n };
        let f64f = Interaction::RectifiedPolynomial { n };

        // Raw f32: finite up to n = 13, overflow from 14 on.
        let raw32 = Classifier::new(m32, 10, f32f, Form::Raw { beta: 1.0 }).unwrap();
        let mut scores = [0.0f32; 10];
        match raw32.forward(&v32, &mut scores, &mut scratch32) {
            Ok(class) => {
                assert!(n < 14, "n = {n} should overflow f32");
                assert_eq!(class, 3);
                assert!(scores.iter().all(|s| s.is_finite()));
            }
            Err(Error::Overflow {
                quantity,
                ln_magnitude,
            }) => {
                assert_eq!(quantity, Quantity::Score);
                // The reported magnitude is the true one: ≈ n ln 794.
                assert!(ln_magnitude > 88.0 && ln_magnitude < n as f64 * 794f64.ln() + 3.0);
                first_overflow.get_or_insert(n);
            }
            Err(e) => panic!("unexpected {e:?}"),
        }

        // Normalized f32 vs normalized f64 and raw f64 (finite up to n ≈ 100).
        let beta = 1.0;
        let norm32 =
            Classifier::new(m32, 10, f32f, Form::Normalized { beta: beta as f32 }).unwrap();
        let norm64 = Classifier::new(m64, 10, f64f, Form::Normalized { beta }).unwrap();
        let mut s32 = [0.0f32; 10];
        let mut s64 = [0.0f64; 10];
        let c32 = norm32.forward(&v32, &mut s32, &mut scratch32).unwrap();
        let c64 = norm64.forward(&v64, &mut s64, &mut scratch64).unwrap();
        assert_eq!(c32, c64, "n = {n}");
        assert_eq!(c32, 3);
        for (a, b) in s32.iter().zip(&s64) {
            assert!(a.is_finite());
            assert!((f64::from(*a) - b).abs() < 1e-4, "n = {n}: {a} vs {b}");
        }
        let raw64 = Classifier::new(m64, 10, f64f, Form::Raw { beta: 1.0 }).unwrap();
        if let Ok(c) = raw64.forward(&v64, &mut s64, &mut scratch64) {
            assert_eq!(c, c32, "raw f64 and normalized f32 disagree at n = {n}");
        } else {
            assert!(n > 100, "raw f64 overflowed early at n = {n}");
        }
    }
    assert_eq!(first_overflow, Some(14));
}

/// Test 2, bipolar energy: `−Σ (ξ·σ)^n` with `ξ^0 = σ` overflows f32 from
/// n = 14 in the raw form; the normalized energy is finite and matches f64.
#[test]
fn raw_bipolar_energy_overflows_f32_from_n_14() {
    let (k, d) = (4, 794);
    let mut rng = common::rng(9);
    let xi64 = common::bipolar(&mut rng, k * d);
    let state: Vec<i8> = xi64[..d].iter().map(|&x| x as i8).collect();
    let xi32 = common::to_f32(&xi64);
    let m32 = MemoryView::new(&xi32, k, d).unwrap();
    let m64 = MemoryView::new(&xi64, k, d).unwrap();
    // Under Miri (about 10^5 times slower) the edge and the extremes.
    let degrees: &[u32] = if cfg!(miri) {
        &[2, 13, 14, 1000]
    } else {
        &[2, 12, 13, 14, 20, 100, 1000]
    };
    for &n in degrees {
        let f = Interaction::Polynomial { n };
        let raw = BipolarMemory::new(m32, f, Form::Raw { beta: 1.0 }).unwrap();
        let e = raw.energy(&state);
        assert_eq!(e.is_err(), n >= 14, "n = {n}: {e:?}");
        let norm32 = BipolarMemory::new(m32, f, Form::Normalized { beta: 1.0 }).unwrap();
        let norm64 = BipolarMemory::new(
            m64,
            Interaction::Polynomial { n },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let e32 = norm32.energy(&state).unwrap();
        let e64 = norm64.energy(&state).unwrap();
        assert!(e32.is_finite());
        // f32 rounds β/D = 1/794 (relative 6e-8); the n-th power multiplies
        // that by n.
        let tol = 2e-7 * f64::from(n) * e64.abs().max(1.0);
        assert!(
            (f64::from(e32) - e64).abs() <= tol,
            "n = {n}: {e32} vs {e64}"
        );
        // The state equals memory 0, so the energy is at most −1 (its own term).
        assert!(e64 <= -1.0 + 1e-12);
    }
}
