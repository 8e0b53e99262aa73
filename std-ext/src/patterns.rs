//! Random bipolar patterns and their corruption, reproducible from a seed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `k` random bipolar patterns of dimension `d`, row-major, as `±1.0`.
///
/// ```
/// let p = dam_std::patterns::random_bipolar(3, 5, 42);
/// assert_eq!(p.len(), 15);
/// assert!(p.iter().all(|&x| x == 1.0 || x == -1.0));
/// assert_eq!(p, dam_std::patterns::random_bipolar(3, 5, 42));
/// ```
pub fn random_bipolar(k: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..k * d)
        .map(|_| if rng.random_bool(0.5) { 1.0 } else { -1.0 })
        .collect()
}

/// A copy of `pattern` as an `i8` state with exactly `flips` distinct
/// coordinates negated (chosen uniformly; `flips` is capped at the length).
///
/// ```
/// let p = [1.0f32, -1.0, 1.0, 1.0];
/// let s = dam_std::patterns::corrupt(&p, 2, 7);
/// let changed = p.iter().zip(&s).filter(|(a, b)| **a as i8 != **b).count();
/// assert_eq!(changed, 2);
/// ```
pub fn corrupt(pattern: &[f32], flips: usize, seed: u64) -> Vec<i8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut state: Vec<i8> = pattern
        .iter()
        .map(|&x| if x >= 0.0 { 1 } else { -1 })
        .collect();
    let mut idx: Vec<usize> = (0..state.len()).collect();
    let flips = flips.min(state.len());
    // Partial Fisher–Yates: the first `flips` entries become a uniform sample.
    for i in 0..flips {
        let j = rng.random_range(i..idx.len());
        idx.swap(i, j);
        state[idx[i]] = -state[idx[i]];
    }
    state
}

/// The number of coordinates where `state` and `pattern` disagree in sign.
///
/// ```
/// assert_eq!(dam_std::patterns::hamming(&[1.0, -1.0, 1.0], &[1, 1, -1]), 2);
/// ```
pub fn hamming(pattern: &[f32], state: &[i8]) -> usize {
    pattern
        .iter()
        .zip(state)
        .filter(|&(&x, &s)| (x >= 0.0) != (s >= 0))
        .count()
}
