//! Helpers shared by the integration tests: seeded random data.
#![allow(dead_code)]

use proptest::test_runner::Config;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `native`, except under Miri (about 10^5 times slower than native code,
/// and without a file system under its isolation): `miri_cases` cases and
/// no failure file.
pub fn proptest_config(native: Config, miri_cases: u32) -> Config {
    if cfg!(miri) {
        Config {
            cases: miri_cases,
            failure_persistence: None,
            ..native
        }
    } else {
        native
    }
}

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `len` values uniform in `[-1, 1]`.
pub fn uniform(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-1.0..=1.0)).collect()
}

/// `len` values `±1`.
pub fn bipolar(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len)
        .map(|_| if rng.random_bool(0.5) { 1.0 } else { -1.0 })
        .collect()
}

/// `len` entries `±1` as an `i8` state.
pub fn bipolar_state(rng: &mut ChaCha8Rng, len: usize) -> Vec<i8> {
    (0..len)
        .map(|_| if rng.random_bool(0.5) { 1 } else { -1 })
        .collect()
}

/// Converts to `f32`.
pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// A copy of `row` as a state with `flips` distinct coordinates negated.
pub fn corrupt(rng: &mut ChaCha8Rng, row: &[f64], flips: usize) -> Vec<i8> {
    let mut s: Vec<i8> = row.iter().map(|&x| if x >= 0.0 { 1 } else { -1 }).collect();
    let mut idx: Vec<usize> = (0..s.len()).collect();
    for i in 0..flips.min(s.len()) {
        let j = rng.random_range(i..idx.len());
        idx.swap(i, j);
        s[idx[i]] = -s[idx[i]];
    }
    s
}
