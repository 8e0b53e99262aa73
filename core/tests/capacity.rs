//! Test 3 of the foundation issue: capacity grows with the degree n [KH16].
//! D = 100 random bipolar memories; the classical (n = 2) limit is about
//! D / (2 ln D) ≈ 11 memories.

mod common;

use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};

const D: usize = 100;

fn fixed_points(n: u32, k: usize, seed: u64) -> usize {
    let mut rng = common::rng(seed);
    let xi = common::to_f32(&common::bipolar(&mut rng, k * D));
    let net = BipolarMemory::new(
        MemoryView::new(&xi, k, D).unwrap(),
        Interaction::Polynomial { n },
        Form::Normalized { beta: 1.0 },
    )
    .unwrap();
    let mut overlaps = vec![0.0f32; k];
    xi.chunks_exact(D)
        .filter(|row| {
            let state: Vec<i8> = row.iter().map(|&x| x as i8).collect();
            net.is_fixed_point(&state, &mut overlaps).unwrap()
        })
        .count()
}

#[test]
fn cubic_interaction_stores_150_memories_in_100_neurons() {
    for seed in [1, 2, 3] {
        assert_eq!(fixed_points(3, 150, seed), 150, "seed {seed}");
    }
}

#[test]
fn quartic_interaction_stores_ten_times_more_memories_than_neurons() {
    for seed in [1, 2] {
        assert_eq!(fixed_points(4, 1000, seed), 1000, "seed {seed}");
    }
}

#[test]
fn quadratic_interaction_fails_at_100_memories() {
    for seed in [1, 2, 3] {
        let ok = fixed_points(2, 100, seed);
        assert!(
            ok < 50,
            "seed {seed}: {ok} of 100 memories are fixed points"
        );
    }
}

/// Recall from 10% flipped bits: every query converges to its memory at a
/// load the degree supports (n = 3, K = 50), while n = 2 at the same load
/// mostly fails; with random update order too.
#[test]
fn recall_from_ten_percent_flipped_bits() {
    let k = 50;
    let mut rng = common::rng(7);
    let xi64 = common::bipolar(&mut rng, k * D);
    let xi = common::to_f32(&xi64);
    let view = MemoryView::new(&xi, k, D).unwrap();
    let mut overlaps = vec![0.0f32; k];
    let mut perm = vec![0u32; D];
    let mut recalled = [0usize; 2];
    for (slot, n) in [(0, 2u32), (1, 3)] {
        let net = BipolarMemory::new(
            view,
            Interaction::Polynomial { n },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        for (mu, row) in xi64.chunks_exact(D).enumerate() {
            let target: Vec<i8> = row.iter().map(|&x| x as i8).collect();
            let mut state = common::corrupt(&mut rng, row, D / 10);
            let order = if mu % 2 == 0 {
                UpdateOrder::Sequential
            } else {
                UpdateOrder::Random {
                    seed: mu as u64,
                    order: &mut perm,
                }
            };
            let r = net.retrieve(&mut state, &mut overlaps, order, 30).unwrap();
            if state == target {
                assert_eq!(r.stop, Stop::FixedPoint);
                assert!(r.flips >= D / 10);
                recalled[slot] += 1;
            }
        }
    }
    assert_eq!(recalled[1], k, "n = 3 must recall every memory");
    assert!(recalled[0] < k / 2, "n = 2 recalled {} of {k}", recalled[0]);
}

/// Synchronous updates also reach the stored memory from a light corruption.
#[test]
fn synchronous_recall() {
    let k = 20;
    let mut rng = common::rng(11);
    let xi64 = common::bipolar(&mut rng, k * D);
    let xi = common::to_f32(&xi64);
    let net = BipolarMemory::new(
        MemoryView::new(&xi, k, D).unwrap(),
        Interaction::Polynomial { n: 3 },
        Form::Normalized { beta: 1.0 },
    )
    .unwrap();
    let mut overlaps = vec![0.0f32; k];
    for row in xi64.chunks_exact(D) {
        let target: Vec<i8> = row.iter().map(|&x| x as i8).collect();
        let mut state = common::corrupt(&mut rng, row, 5);
        let r = net
            .retrieve(&mut state, &mut overlaps, UpdateOrder::Synchronous, 10)
            .unwrap();
        assert_eq!(state, target);
        assert_eq!(r.stop, Stop::FixedPoint);
    }
}

/// A sweep limit that is too short is reported as such.
#[test]
fn max_sweeps_is_reported() {
    let k = 10;
    let mut rng = common::rng(5);
    let xi64 = common::bipolar(&mut rng, k * D);
    let xi = common::to_f32(&xi64);
    let net = BipolarMemory::new(
        MemoryView::new(&xi, k, D).unwrap(),
        Interaction::Polynomial { n: 3 },
        Form::Normalized { beta: 1.0 },
    )
    .unwrap();
    let mut overlaps = vec![0.0f32; k];
    let mut state = common::corrupt(&mut rng, &xi64[..D], 20);
    let before = net.energy(&state).unwrap();
    let r = net
        .retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 1)
        .unwrap();
    assert_eq!(r.stop, Stop::MaxSweeps);
    assert_eq!(r.sweeps, 1);
    // Asynchronous updates never raise the energy.
    assert!(net.energy(&state).unwrap() < before);
    let r2 = net
        .retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 10)
        .unwrap();
    assert_eq!(r2.stop, Stop::FixedPoint);
}
