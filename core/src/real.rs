//! The float trait every algorithm in this crate is generic over.
//!
//! Why not `num_traits::Float` with its `libm` feature: on a Cortex-M4F that
//! path turns `sqrt` into libm's integer routine and `mul_add` into libm's
//! software `fmaf`, both tens to hundreds of cycles, although the FPU has
//! `vsqrt.f32` and `vfma.f32`. [`Real`] uses the hardware instruction where
//! the target has one and libm only where it has none (`exp`, `ln`, `tanh`,
//! and everything in double precision on a single-precision FPU).
//!
//! `num-traits` still supplies the generic arithmetic bounds.

use core::fmt::{Debug, Display};
use core::ops::{AddAssign, DivAssign, MulAssign, Neg, SubAssign};

/// A real number type: implemented for `f32` and `f64`.
///
/// All methods are total: they never panic, and for finite inputs inside
/// their mathematical domain they return finite results (`ln` of a
/// non-positive number returns `-inf`/NaN as IEEE says: callers in this crate
/// never pass one).
///
/// ```
/// use dam_core::Real;
/// fn norm<T: Real>(v: &[T]) -> T {
///     v.iter().fold(T::ZERO, |acc, &x| x.mul_add(x, acc)).sqrt()
/// }
/// assert_eq!(norm(&[3.0f32, 4.0]), 5.0);
/// assert_eq!(norm(&[3.0f64, 4.0]), 5.0);
/// ```
pub trait Real:
    crate::isa::Kernels
    + Copy
    + PartialOrd
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + num_traits::Num
    + num_traits::NumCast
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 2.
    const TWO: Self;
    /// 1/2.
    const HALF: Self;
    /// The largest finite value.
    const MAX: Self;
    /// Machine epsilon (the gap between 1 and the next value).
    const EPSILON: Self;
    /// `ln(MAX)`: the largest `y` with `exp(y)` finite (rounded down).
    const LN_MAX: Self;
    /// A short name for messages: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// The smallest binary exponent `e` for which `2^e` and `2^-e` are both
    /// normal numbers: scaling by either is exact.
    const MIN_SAFE_EXP: i32;

    /// Converts from `f64`, rounding to nearest (saturating to ±inf out of range).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Converts a count, rounding to nearest.
    fn from_usize(v: usize) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `true` unless the value is infinite or NaN.
    fn is_finite(self) -> bool;
    /// Square root: the hardware instruction where there is one.
    fn sqrt(self) -> Self;
    /// `self * a + b`: a single fused instruction where the target has one
    /// enabled at compile time (Cortex-M4F/M7 `vfma.f32`, x86 with `fma`,
    /// aarch64); elsewhere a multiply and an add (two roundings), never a
    /// slow software fma.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `e^self` (libm).
    fn exp(self) -> Self;
    /// Natural logarithm (libm).
    fn ln(self) -> Self;
    /// Hyperbolic tangent (libm).
    fn tanh(self) -> Self;
    /// `(sin self, cos self)` from one range reduction: for `f32` the
    /// vectorizable polynomial of [`crate::trig`] (libm beyond `|x| > 8192`),
    /// for `f64` libm.
    fn sin_cos(self) -> (Self, Self);
    /// [`Real::sin_cos`] over a slice (common length of the three); the
    /// `f32` version is written to vectorize.
    fn sin_cos_slice(x: &[Self], sin_out: &mut [Self], cos_out: &mut [Self]) {
        for ((&xi, s), c) in x.iter().zip(sin_out.iter_mut()).zip(cos_out.iter_mut()) {
            (*s, *c) = xi.sin_cos();
        }
    }
    /// Splits `self` into `m · 2^e` with `0.5 ≤ |m| < 1` (`(0, 0)` for zero).
    fn frexp(self) -> (Self, i32);
    /// `self · 2^e`, exact unless the result leaves the normal range.
    fn ldexp(self, e: i32) -> Self;

    /// `self^n` by repeated squaring: `O(log n)` multiplications, exact
    /// for small integers, `0^0 = 1`.
    #[inline]
    fn powi(self, n: u32) -> Self {
        let mut base = self;
        let mut exp = n;
        let mut acc = Self::ONE;
        while exp > 0 {
            if exp & 1 == 1 {
                acc *= base;
            }
            exp >>= 1;
            if exp > 0 {
                base *= base;
            }
        }
        acc
    }

    /// The larger of two values (`self` if they compare equal or unordered).
    #[inline]
    fn max(self, other: Self) -> Self {
        if other > self { other } else { self }
    }

    /// The smaller of two values (`self` if they compare equal or unordered).
    #[inline]
    fn min(self, other: Self) -> Self {
        if other < self { other } else { self }
    }
}

macro_rules! impl_real_common {
    ($t:ty, $name:literal, $ln_max:expr) => {
        const ZERO: Self = 0.0;
        const ONE: Self = 1.0;
        const TWO: Self = 2.0;
        const HALF: Self = 0.5;
        const MAX: Self = <$t>::MAX;
        const EPSILON: Self = <$t>::EPSILON;
        const LN_MAX: Self = $ln_max;
        const NAME: &'static str = $name;

        #[inline]
        fn from_f64(v: f64) -> Self {
            v as $t
        }
        #[inline]
        fn to_f64(self) -> f64 {
            self as f64
        }
        #[inline]
        fn from_usize(v: usize) -> Self {
            v as $t
        }
        #[inline]
        fn abs(self) -> Self {
            <$t>::abs(self)
        }
        #[inline]
        fn is_finite(self) -> bool {
            <$t>::is_finite(self)
        }
    };
}

/// The Cortex-M4F/M7 single-precision FPU's `vfma.f32` and `vsqrt.f32`:
/// stable `core` has no `f32::sqrt`/`mul_add` and libm's are software
/// routines. The `sreg` register class is not usable on stable for these
/// targets, so values travel through fixed `s` registers. With the kernels
/// of `simd`, the only `unsafe` of the crate.
#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
#[allow(unsafe_code)]
mod fpu {
    /// `a · b + c` with one rounding, by `vfma.f32`.
    #[inline]
    pub(super) fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
        let r: u32;
        // SAFETY: `vfma.f32` and `vmov` only read and write the named registers,
        // all declared as operands or clobbers; no memory, no stack, no flags.
        // Every eabihf Cortex-M target has an FPv4-SP or newer FPU with VFMA.
        unsafe {
            core::arch::asm!(
                "vmov s0, {a}",
                "vmov s1, {b}",
                "vmov s2, {c}",
                "vfma.f32 s2, s0, s1",
                "vmov {r}, s2",
                a = in(reg) a.to_bits(),
                b = in(reg) b.to_bits(),
                c = in(reg) c.to_bits(),
                r = lateout(reg) r,
                out("s0") _,
                out("s1") _,
                out("s2") _,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        f32::from_bits(r)
    }

    /// `√a` by `vsqrt.f32` (correctly rounded, as IEEE requires).
    #[inline]
    pub(super) fn sqrt_f32(a: f32) -> f32 {
        let r: u32;
        // SAFETY: as for `fma_f32`: register-only instructions, all declared.
        unsafe {
            core::arch::asm!(
                "vmov s0, {a}",
                "vsqrt.f32 s0, s0",
                "vmov {r}, s0",
                a = in(reg) a.to_bits(),
                r = lateout(reg) r,
                out("s0") _,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        f32::from_bits(r)
    }
}

impl Real for f32 {
    // ln(f32::MAX) = 88.72284; rounded down so exp stays finite.
    impl_real_common!(f32, "f32", 88.722_83);
    const MIN_SAFE_EXP: i32 = -126;

    #[inline]
    fn sqrt(self) -> Self {
        #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
        {
            fpu::sqrt_f32(self)
        }
        #[cfg(not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf")))]
        {
            // x86_64 (SSE2 `sqrtss`) and aarch64: libm uses the instruction.
            libm::sqrtf(self)
        }
    }

    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
        {
            fpu::fma_f32(self, a, b)
        }
        #[cfg(any(
            all(target_arch = "x86_64", target_feature = "fma"),
            target_arch = "aarch64"
        ))]
        {
            libm::fmaf(self, a, b)
        }
        #[cfg(not(any(
            all(target_arch = "arm", target_os = "none", target_abi = "eabihf"),
            all(target_arch = "x86_64", target_feature = "fma"),
            target_arch = "aarch64"
        )))]
        {
            self * a + b
        }
    }

    #[inline]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[inline]
    fn ln(self) -> Self {
        libm::logf(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        libm::tanhf(self)
    }
    #[inline]
    fn sin_cos(self) -> (Self, Self) {
        crate::trig::sin_cos_f32(self)
    }
    fn sin_cos_slice(x: &[Self], sin_out: &mut [Self], cos_out: &mut [Self]) {
        crate::trig::sin_cos_slice(x, sin_out, cos_out)
    }
    #[inline]
    fn frexp(self) -> (Self, i32) {
        libm::frexpf(self)
    }
    #[inline]
    fn ldexp(self, e: i32) -> Self {
        libm::ldexpf(self, e)
    }
}

impl Real for f64 {
    // ln(f64::MAX) = 709.782712893384; rounded down.
    impl_real_common!(f64, "f64", 709.782_712_893_38);
    const MIN_SAFE_EXP: i32 = -1022;

    #[inline]
    fn sqrt(self) -> Self {
        // A single-precision FPU has no double instructions: libm everywhere
        // (on x86_64 and aarch64 libm uses the hardware instruction).
        libm::sqrt(self)
    }

    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        #[cfg(any(
            all(target_arch = "x86_64", target_feature = "fma"),
            target_arch = "aarch64"
        ))]
        {
            libm::fma(self, a, b)
        }
        #[cfg(not(any(
            all(target_arch = "x86_64", target_feature = "fma"),
            target_arch = "aarch64"
        )))]
        {
            self * a + b
        }
    }

    #[inline]
    fn exp(self) -> Self {
        libm::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        libm::log(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        libm::tanh(self)
    }
    #[inline]
    fn sin_cos(self) -> (Self, Self) {
        (libm::sin(self), libm::cos(self))
    }
    #[inline]
    fn frexp(self) -> (Self, i32) {
        libm::frexp(self)
    }
    #[inline]
    fn ldexp(self, e: i32) -> Self {
        libm::ldexp(self, e)
    }
}

#[cfg(test)]
mod tests {
    use super::Real;

    #[test]
    fn powi_matches_repeated_multiplication() {
        for n in 0..40u32 {
            let mut want = 1.0f64;
            for _ in 0..n {
                want *= -1.1;
            }
            let got = Real::powi(-1.1f64, n);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "n={n}");
        }
        assert_eq!(Real::powi(0.0f32, 0), 1.0);
        assert_eq!(Real::powi(2.0f32, 10), 1024.0);
    }

    #[test]
    fn ln_max_is_the_edge_of_exp() {
        assert!(f32::LN_MAX.exp().is_finite());
        assert!(!(f32::LN_MAX + 0.01).exp().is_finite());
        assert!(f64::LN_MAX.exp().is_finite());
        assert!(!(f64::LN_MAX + 0.01).exp().is_finite());
    }

    #[test]
    fn sqrt_and_mul_add_are_correct() {
        assert_eq!(Real::sqrt(2.25f32), 1.5);
        assert_eq!(Real::sqrt(2.25f64), 1.5);
        assert_eq!(Real::mul_add(2.0f32, 3.0, 1.0), 7.0);
        assert_eq!(Real::mul_add(2.0f64, 3.0, 1.0), 7.0);
        assert_eq!(Real::max(1.0f32, 2.0), 2.0);
        assert_eq!(Real::min(1.0f32, 2.0), 1.0);
    }
}
