//! aarch64 path: NEON (Advanced SIMD) is part of every aarch64 target, so
//! it is selected at compile time; `vfmaq` gives fused multiply-adds.
#![allow(unsafe_code)]

use super::lanes::{Lanes, impl_lanes, isa_module};
use core::arch::aarch64::*;

#[inline(always)]
unsafe fn zero_f32() -> float32x4_t {
    // SAFETY: NEON is enabled on every aarch64 target.
    unsafe { vdupq_n_f32(0.0) }
}

#[inline(always)]
unsafe fn zero_f64() -> float64x2_t {
    // SAFETY: NEON is enabled on every aarch64 target.
    unsafe { vdupq_n_f64(0.0) }
}

impl_lanes!(
    NeonF32(float32x4_t): [f32; 4],
    zero: zero_f32, splat: vdupq_n_f32, load: vld1q_f32, store: vst1q_f32,
    add: vaddq_f32, sub: vsubq_f32,
    mul_add: |a, b, c| vfmaq_f32(c, a, b),
    sum: |v| vaddvq_f32(v),
);
impl_lanes!(
    NeonF64(float64x2_t): [f64; 2],
    zero: zero_f64, splat: vdupq_n_f64, load: vld1q_f64, store: vst1q_f64,
    add: vaddq_f64, sub: vsubq_f64,
    mul_add: |a, b, c| vfmaq_f64(c, a, b),
    sum: |v| vaddvq_f64(v),
);

/// The NEON register type for an element type.
pub(crate) trait Vectors: Sized {
    /// NEON register.
    type Neon: Lanes<E = Self>;
}
impl Vectors for f32 {
    type Neon = NeonF32;
}
impl Vectors for f64 {
    type Neon = NeonF64;
}

isa_module!(
    /// NEON: 32 registers of 128 bits; a 4×6 tile uses 24 accumulators.
    neon, "neon", mr: 4, nr: 6, gemv_mr: 8
);
