//! `PackedBipolar` (bit-packed columns, exact integer fields) against
//! `BipolarMemory::retrieve` (the reference: `F` per pair, in `T`): the same
//! final states, sweeps, flips and stops.
//!
//! On random small problems the reference is exact as well (every power
//! and partial sum below `2^24`: `D ≤ 30`, `K ≤ 40`, `n ≤ 4`), so the two
//! must agree decision by decision. On the benchmark's problems the
//! reference rounds (`a³` reaches `10^9`), and the test checks that this
//! changes no decision there.

mod common;

use dam_core::{
    BipolarMemory, Error, Form, Interaction, MemoryView, Operand, Retrieval, UpdateOrder,
};
use proptest::prelude::*;

/// `benches/src/lib.rs`'s `data`: `n` values in `[−1, 1)` from a 64-bit LCG.
fn bench_data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32) / ((1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// `benches/src/lib.rs`'s `bipolar`.
fn bench_bipolar(n: usize, seed: u64) -> Vec<f32> {
    bench_data(n, seed)
        .into_iter()
        .map(|x| if x >= 0.0 { 1.0 } else { -1.0 })
        .collect()
}

/// Runs both on one problem; returns both outcomes and final states.
#[allow(clippy::type_complexity)]
fn both<T: dam_core::Real>(
    net: &BipolarMemory<'_, T>,
    start: &[i8],
    order: impl Fn() -> (Option<u64>, bool),
    max_sweeps: usize,
    known: Option<&[bool]>,
) -> ((Retrieval, Vec<i8>), (Retrieval, Vec<i8>)) {
    let (k, d) = (net.memories().k(), net.memories().d());
    let mut words = vec![0u64; net.packed_len()];
    let packed = net.pack(&mut words).expect("pack");
    let mut perm = vec![0u32; d];
    fn make(o: (Option<u64>, bool), perm: &mut [u32]) -> UpdateOrder<'_> {
        match o {
            (Some(seed), _) => UpdateOrder::Random { seed, order: perm },
            (None, true) => UpdateOrder::Synchronous,
            (None, false) => UpdateOrder::Sequential,
        }
    }
    let mut reference = start.to_vec();
    let mut overlaps = vec![T::ZERO; k];
    let r = match known {
        None => net.retrieve(
            &mut reference,
            &mut overlaps,
            make(order(), &mut perm),
            max_sweeps,
        ),
        Some(m) => net.complete(
            &mut reference,
            &mut overlaps,
            make(order(), &mut perm),
            max_sweeps,
            m,
        ),
    }
    .expect("reference");
    let mut fast = start.to_vec();
    let mut scratch = vec![0.0f64; packed.scratch_len()];
    let p = match known {
        None => packed.retrieve(
            &mut fast,
            &mut scratch,
            make(order(), &mut perm),
            max_sweeps,
        ),
        Some(m) => packed.complete(
            &mut fast,
            &mut scratch,
            make(order(), &mut perm),
            max_sweeps,
            m,
        ),
    }
    .expect("packed");
    ((r, reference), (p, fast))
}

/// The `bipolar_sweep_*` benchmarks of `benches/benches/retrieval.rs`
/// (same generator and seeds: memories `bipolar(K·D, 31)`, start
/// `bipolar(D, 32)`, `F = s³`, normalized): one sweep, as benchmarked, and
/// on to the fixed point.
#[test]
fn packed_sweep_equals_reference_on_the_benchmark_inputs() {
    for (k, d) in [(100usize, 100usize), (1000, 100), (100, 1000), (1000, 1000)] {
        let xi = bench_bipolar(k * d, 31);
        let net = BipolarMemory::new(
            MemoryView::new(&xi, k, d).unwrap(),
            Interaction::Polynomial { n: 3 },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let start: Vec<i8> = bench_bipolar(d, 32)
            .iter()
            .map(|&x| if x > 0.0 { 1 } else { -1 })
            .collect();
        for max_sweeps in [1, 100] {
            let (reference, fast) = both(&net, &start, || (None, false), max_sweeps, None);
            assert_eq!(reference, fast, "K = {k}, D = {d}, {max_sweeps} sweeps");
            assert!(fast.0.flips > 0, "the start is not already a fixed point");
        }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(512), 3))]

    /// Random small problems (where the reference is exact), every order,
    /// both forms, both homogeneous families, with and without clamping,
    /// `f32` and `f64`.
    #[test]
    fn packed_sweep_equals_reference_on_random_problems(
        k in 1usize..40,
        d in 1usize..30,
        n in 1u32..=4,
        rectified in any::<bool>(),
        raw in any::<bool>(),
        order in 0u8..3,
        max_sweeps in 1usize..6,
        clamp in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = common::rng(seed);
        let xi = common::bipolar(&mut rng, k * d);
        let start: Vec<i8> = common::bipolar(&mut rng, d)
            .iter()
            .map(|&x| if x > 0.0 { 1 } else { -1 })
            .collect();
        let known: Vec<bool> = common::bipolar(&mut rng, d).iter().map(|&x| x > 0.0).collect();
        let known = clamp.then_some(known.as_slice());
        let f = if rectified {
            Interaction::RectifiedPolynomial { n }
        } else {
            Interaction::Polynomial { n }
        };
        let order = move || match order {
            0 => (None, false),
            1 => (None, true),
            _ => (Some(seed), false),
        };
        let form32 = if raw { Form::Raw { beta: 0.5 } } else { Form::Normalized { beta: 2.0 } };
        let xi32: Vec<f32> = xi.iter().map(|&x| x as f32).collect();
        let net = BipolarMemory::new(MemoryView::new(&xi32, k, d).unwrap(), f.map32(), form32).unwrap();
        let (reference, fast) = both(&net, &start, order, max_sweeps, known);
        prop_assert_eq!(reference, fast);
        let form64 = if raw { Form::Raw { beta: 0.5 } } else { Form::Normalized { beta: 2.0 } };
        let net = BipolarMemory::new(MemoryView::new(&xi, k, d).unwrap(), f, form64).unwrap();
        let (reference, fast) = both(&net, &start, order, max_sweeps, known);
        prop_assert_eq!(reference, fast);
    }
}

/// `Interaction<f64>` → `Interaction<f32>` for the two families tested.
trait Map32 {
    fn map32(self) -> Interaction<f32>;
}

impl Map32 for Interaction<f64> {
    fn map32(self) -> Interaction<f32> {
        match self {
            Interaction::Polynomial { n } => Interaction::Polynomial { n },
            Interaction::RectifiedPolynomial { n } => Interaction::RectifiedPolynomial { n },
            _ => unreachable!("only the homogeneous families are tested"),
        }
    }
}

#[test]
fn pack_errors() {
    let xi = [1.0f32, -1.0, 1.0, 1.0, -1.0, -1.0];
    let view = MemoryView::new(&xi, 2, 3).unwrap();
    let poly = Interaction::Polynomial { n: 3 };
    let form = Form::Normalized { beta: 1.0 };
    let net = BipolarMemory::new(view, poly, form).unwrap();
    assert_eq!(net.packed_len(), 3);
    let mut short = [0u64; 2];
    assert_eq!(
        net.pack(&mut short).err(),
        Some(Error::ShapeMismatch {
            operand: Operand::Scratch,
            expected: 3,
            found: 2
        })
    );
    let mut words = [0u64; 4];
    let packed = net.pack(&mut words).unwrap();
    assert_eq!(packed.scratch_len(), 4);
    let mut state = [1i8, 1, 1];
    assert!(matches!(
        packed.retrieve(&mut state, &mut [0.0; 3], UpdateOrder::Sequential, 1),
        Err(Error::ShapeMismatch {
            operand: Operand::Scratch,
            expected: 4,
            found: 3
        })
    ));
    assert_eq!(
        packed.retrieve(&mut [1, 0, 1], &mut [0.0; 4], UpdateOrder::Sequential, 1),
        Err(Error::NotBipolar { index: 1 })
    );
    assert!(
        packed
            .complete(
                &mut state,
                &mut [0.0; 4],
                UpdateOrder::Sequential,
                1,
                &[true]
            )
            .is_err()
    );

    let not_bipolar = [1.0f32, -1.0, 1.0, 1.0, 0.5, -1.0];
    let net = BipolarMemory::new(MemoryView::new(&not_bipolar, 2, 3).unwrap(), poly, form).unwrap();
    assert_eq!(
        net.pack(&mut words).err(),
        Some(Error::NotBipolar { index: 4 })
    );

    for f in [Interaction::Exponential, Interaction::leaky(3)] {
        let net = BipolarMemory::new(view, f, form).unwrap();
        assert!(matches!(
            net.pack(&mut words),
            Err(Error::InvalidParameter { .. })
        ));
    }

    // 4 K (D + 2)^n > 2^53: refused with a finite magnitude.
    for n in [30, 1 << 16] {
        let net = BipolarMemory::new(view, Interaction::Polynomial { n }, form).unwrap();
        match net.pack(&mut words) {
            Err(Error::Overflow { ln_magnitude, .. }) => assert!(ln_magnitude.is_finite()),
            other => panic!("n = {n}: {other:?}"),
        }
    }
}
