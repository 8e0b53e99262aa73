//! The inner loops: dot products, distances and row updates.
//!
//! Every retrieval function of the crate reaches memory through these
//! kernels, so a faster path for a target lands here and nowhere else. For
//! now each kernel is the portable [`scalar`] reference, written with four
//! independent accumulators so that the compiler can keep a pipelined FPU
//! busy; explicit per-architecture paths are added beside it behind the same
//! safe functions. This module (and its `arm` child) is the only place where
//! `unsafe` is allowed.

pub mod scalar;

#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
pub(crate) mod arm;

use crate::real::Real;

/// `Σ a_i b_i` over the common length of `a` and `b`.
///
/// ```
/// assert_eq!(dam_core::simd::dot(&[1.0f32, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    scalar::dot(a, b)
}

/// `Σ a_i σ_i` for a bipolar state `σ` (`s_i ≥ 0` counts as `+1`, else `−1`).
///
/// ```
/// assert_eq!(dam_core::simd::dot_bipolar(&[1.0f32, 2.0, 3.0], &[1, -1, 1]), 2.0);
/// ```
#[inline]
pub fn dot_bipolar<T: Real>(a: &[T], s: &[i8]) -> T {
    scalar::dot_bipolar(a, s)
}

/// `Σ (a_i − b_i)²` over the common length.
///
/// ```
/// assert_eq!(dam_core::simd::squared_distance(&[1.0f64, 2.0], &[3.0, 5.0]), 13.0);
/// ```
#[inline]
pub fn squared_distance<T: Real>(a: &[T], b: &[T]) -> T {
    scalar::squared_distance(a, b)
}

/// `y_i += alpha · x_i` over the common length.
///
/// ```
/// let mut y = [1.0f32, 1.0];
/// dam_core::simd::axpy(2.0, &[1.0, 3.0], &mut y);
/// assert_eq!(y, [3.0, 7.0]);
/// ```
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    scalar::axpy(alpha, x, y)
}
