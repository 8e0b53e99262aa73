//! Numbers with a wide exponent, so sums of huge interaction terms stay finite.
//!
//! `794^20` does not fit an `f32`, but `0.9785… · 2^193` does fit a
//! [`Wide<f32>`]: a mantissa in `[0.5, 1)` and an `i32` binary exponent.
//! Scaling by a power of two is exact, so a [`Wide`] loses nothing that the
//! plain float would have kept; it only refuses to overflow or underflow.

use core::cmp::Ordering;
use core::ops::{Add, Mul, Neg};

use crate::error::{Error, Quantity, Result};
use crate::real::Real;

/// The largest `|k|` of `e^x = e^r · 2^k` that [`Wide::exp`] represents;
/// beyond it, it saturates.
pub(crate) const EXP_LIMIT: i32 = i32::MAX / 2;

/// `mantissa · 2^exponent`, with `0.5 ≤ |mantissa| < 1`, or exactly zero.
///
/// ```
/// use dam_core::Wide;
/// let big = Wide::from_real(794.0f32).powi(20); // 794^20 ≈ 1e58 > f32::MAX
/// assert!(big.ln() > 130.0);
/// assert!(big.to_real(dam_core::Quantity::Energy).is_err());
/// assert_eq!(big.tanh(), 1.0);
/// let back = Wide::from_real(3.0f32).powi(4).to_real(dam_core::Quantity::Energy);
/// assert_eq!(back, Ok(81.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Wide<T> {
    mantissa: T,
    exponent: i32,
}

impl<T: Real> Wide<T> {
    /// Zero.
    pub const ZERO: Wide<T> = Wide {
        mantissa: T::ZERO,
        exponent: 0,
    };

    /// Exactly `x` (a non-finite `x` gives zero: callers check inputs first).
    pub fn from_real(x: T) -> Self {
        if !x.is_finite() || x == T::ZERO {
            return Self::ZERO;
        }
        let (mantissa, exponent) = x.frexp();
        Wide { mantissa, exponent }
    }

    /// `m · 2^e` for any finite `m`, renormalized.
    pub(crate) fn from_parts(m: T, e: i32) -> Self {
        Self::from_wide_parts(m, i64::from(e))
    }

    /// `m · 2^e` renormalized. Past the exponent range it saturates at the
    /// largest magnitude a [`Wide`] holds (`(1 − ε/2) · 2^i32::MAX`), or
    /// below it at the smallest (`0.5 · 2^i32::MIN`), with the sign of `m`:
    /// keeping the mantissa there would order saturated values by their
    /// mantissas, so a product could come out smaller than its factors.
    fn from_wide_parts(m: T, e: i64) -> Self {
        let w = Self::from_real(m);
        if w.mantissa == T::ZERO {
            return Self::ZERO;
        }
        let sign = if w.mantissa < T::ZERO {
            -T::ONE
        } else {
            T::ONE
        };
        match i32::try_from(i64::from(w.exponent) + e) {
            Ok(exponent) => Wide {
                mantissa: w.mantissa,
                exponent,
            },
            Err(_) if e > 0 => Wide {
                mantissa: sign * (T::ONE - T::EPSILON * T::HALF),
                exponent: i32::MAX,
            },
            Err(_) => Wide {
                mantissa: sign * T::HALF,
                exponent: i32::MIN,
            },
        }
    }

    /// `e^x` for any finite `x`. Beyond `x = ±2^30·ln 2` it saturates:
    /// above, at `2^(2^30)` (so [`Wide::to_real`] reports
    /// [`Error::Overflow`] with `ln_magnitude ≥ 2^30·ln 2`, never a wrapped
    /// or zero value); below, at zero.
    pub fn exp(x: T) -> Self {
        let xf = x.to_f64();
        if !xf.is_finite() {
            return Self::ZERO;
        }
        // x = k·ln2 + r with |r| ≤ ln2/2, so e^x = e^r · 2^k exactly split.
        let k = libm::round(xf / core::f64::consts::LN_2);
        // Past the limit the remainder r would no longer be small (e^r
        // overflows to ∞, which `from_parts` turns into zero): saturate.
        // 2^(2^30) = 0.5 · 2^(EXP_LIMIT + 2): above every value below the
        // limit (e^r · 2^EXP_LIMIT with e^r ≤ √2), so e^x never decreases.
        if k > f64::from(EXP_LIMIT) {
            return Wide {
                mantissa: T::HALF,
                exponent: EXP_LIMIT + 2,
            };
        }
        if k < -f64::from(EXP_LIMIT) {
            return Self::ZERO;
        }
        // Cody–Waite: LN2_HI has 32 significant bits, so k·LN2_HI is exact
        // for |k| < 2^21 and the reduction keeps full precision.
        const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
        const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
        let r = (xf - k * LN2_HI) - k * LN2_LO;
        Self::from_parts(T::from_f64(r).exp(), k as i32)
    }

    /// `true` for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == T::ZERO
    }

    /// `-1`, `0` or `+1`.
    pub fn signum(&self) -> i8 {
        if self.mantissa > T::ZERO {
            1
        } else if self.mantissa < T::ZERO {
            -1
        } else {
            0
        }
    }

    /// `ln |self|` (`-T::MAX` for zero, so the result is always finite).
    pub fn ln(&self) -> T {
        if self.is_zero() {
            return -T::MAX;
        }
        self.mantissa.abs().ln() + T::from_f64(f64::from(self.exponent) * core::f64::consts::LN_2)
    }

    /// `self^n` by repeated squaring, renormalizing at every step.
    pub fn powi(self, n: u32) -> Self {
        let mut base = self;
        let mut exp = n;
        let mut acc = Wide::from_real(T::ONE);
        while exp > 0 {
            if exp & 1 == 1 {
                acc = acc * base;
            }
            exp >>= 1;
            if exp > 0 {
                base = base * base;
            }
        }
        acc
    }

    /// The plain float, or [`Error::Overflow`] naming `quantity` if it does
    /// not fit. Values too small for the type round to zero (or a subnormal).
    pub fn to_real(&self, quantity: Quantity) -> Result<T> {
        if self.is_zero() {
            return Ok(T::ZERO);
        }
        let v = self.mantissa.ldexp(self.exponent);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Overflow {
                quantity,
                ln_magnitude: self.ln().to_f64(),
            })
        }
    }

    /// `tanh(self)`: always finite, exactly `±1` once `|self| ≥ 32`.
    pub fn tanh(&self) -> T {
        if self.exponent > 5 {
            // |x| ≥ 32: tanh is 1 to within 1e-27.
            if self.mantissa > T::ZERO {
                T::ONE
            } else {
                -T::ONE
            }
        } else {
            self.mantissa.ldexp(self.exponent).tanh()
        }
    }

    /// A total order consistent with the values (zero equals zero).
    pub fn compare(&self, other: &Self) -> Ordering {
        let (sa, sb) = (self.signum(), other.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        if sa == 0 {
            return Ordering::Equal;
        }
        let magnitude = match self.exponent.cmp(&other.exponent) {
            Ordering::Equal => self
                .mantissa
                .abs()
                .partial_cmp(&other.mantissa.abs())
                .unwrap_or(Ordering::Equal),
            o => o,
        };
        if sa > 0 {
            magnitude
        } else {
            magnitude.reverse()
        }
    }
}

impl<T: Real> Neg for Wide<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Wide {
            mantissa: -self.mantissa,
            exponent: self.exponent,
        }
    }
}

impl<T: Real> Mul for Wide<T> {
    type Output = Self;
    fn mul(self, other: Self) -> Self {
        if self.is_zero() || other.is_zero() {
            return Self::ZERO;
        }
        Self::from_wide_parts(
            self.mantissa * other.mantissa,
            i64::from(self.exponent) + i64::from(other.exponent),
        )
    }
}

impl<T: Real> Add for Wide<T> {
    type Output = Self;
    /// The sum, rounded once as the plain float sum would be.
    fn add(self, other: Self) -> Self {
        if self.is_zero() {
            return other;
        }
        if other.is_zero() {
            return self;
        }
        let (big, small) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        // The gap is at least 1, and past 2 + mantissa digits the smaller
        // addend cannot change the rounded result. `shift` is minus the gap
        // (computed as is: a negation could overflow).
        let shift = small.exponent.saturating_sub(big.exponent);
        if shift < -1100 {
            return big;
        }
        Wide::from_parts(big.mantissa + small.mantissa.ldexp(shift), big.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for &x in &[1.0f64, -3.5, 1e-300, 7e300, 0.0] {
            assert_eq!(Wide::from_real(x).to_real(Quantity::Energy), Ok(x));
        }
        let a = Wide::from_real(2.0f32);
        let b = Wide::from_real(-3.0f32);
        assert_eq!((a + b).to_real(Quantity::Energy), Ok(-1.0));
        assert_eq!(a.compare(&b), Ordering::Greater);
        assert_eq!(b.compare(&a), Ordering::Less);
        assert_eq!(
            Wide::from_real(-4.0f32).compare(&Wide::from_real(-3.0)),
            Ordering::Less
        );
        assert_eq!((a * b).to_real(Quantity::Energy), Ok(-6.0));
        assert_eq!((-a).to_real(Quantity::Energy), Ok(-2.0));
        assert_eq!(Wide::<f32>::ZERO.signum(), 0);
    }

    #[test]
    fn exp_matches_libm_and_extends_it() {
        for &x in &[-700.0f64, -1.0, 0.0, 0.3, 12.0, 700.0] {
            let got = Wide::exp(x).to_real(Quantity::Energy).unwrap();
            assert!((got - x.exp()).abs() <= 1e-14 * x.exp(), "x={x}");
        }
        let huge = Wide::exp(1000.0f32);
        assert!((huge.ln() - 1000.0).abs() < 1e-3);
        assert!(matches!(
            huge.to_real(Quantity::Energy),
            Err(Error::Overflow { .. })
        ));
    }

    /// Just below `2^30·ln 2` the exponent is exact; at and above it, `e^x`
    /// saturates at `2^(2^30)`: an overflow, never zero (it once wrapped
    /// to zero, and `dam energy` printed 0).
    #[test]
    fn exp_saturates_at_the_exponent_limit() {
        let edge = f64::from(EXP_LIMIT) * core::f64::consts::LN_2;
        for x in [edge - 1.0, edge, edge + 1.0, 1e12, f64::MAX] {
            let w = Wide::exp(x);
            assert_eq!(w.signum(), 1, "x = {x}");
            assert!(w.ln() >= edge - 1.5, "x = {x}: ln {}", w.ln());
            assert!(matches!(
                w.to_real(Quantity::Energy),
                Err(Error::Overflow { .. })
            ));
            // f64::MAX is ∞ as an f32: a non-finite argument gives zero.
            assert!(
                !(x as f32).is_finite()
                    || matches!(
                        Wide::exp(x as f32).to_real(Quantity::Energy),
                        Err(Error::Overflow { .. })
                    )
            );
        }
        assert!(Wide::exp(-edge - 2.0).is_zero() || Wide::exp(-edge - 2.0).ln() < -edge + 2.0);
        assert!(Wide::<f64>::exp(-1e12).is_zero());
    }

    use proptest::prelude::*;

    proptest! {
        /// Across the whole exponent range: `e^x` is never zero for
        /// `x ≥ −2^30·ln 2`, its `ln` is `x` (or the saturation point), and
        /// it grows with `x`.
        #[test]
        fn exp_is_monotone_and_never_wraps(a in -1e10f64..1e10, b in -1e10f64..1e10) {
            let edge = f64::from(EXP_LIMIT) * core::f64::consts::LN_2;
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let (wl, wh) = (Wide::exp(lo), Wide::exp(hi));
            prop_assert_ne!(wl.compare(&wh), Ordering::Greater);
            if hi > -edge + 1.0 {
                prop_assert!(!wh.is_zero());
                let want = hi.min(edge);
                prop_assert!((wh.ln() - want).abs() <= 1.0 + 1e-9 * want.abs(), "x = {} ln = {}", hi, wh.ln());
            }
        }
    }

    proptest! {
        /// Around the saturation point `2^30·ln 2` of [`Wide::exp`], on both
        /// sides: always positive, an `Overflow` with a finite magnitude at
        /// least just below the edge, and never smaller than slightly below.
        #[test]
        fn exp_is_an_overflow_across_the_saturation_point(d in -64.0f64..64.0) {
            let edge = f64::from(EXP_LIMIT) * core::f64::consts::LN_2;
            let x = edge + d;
            let w = Wide::exp(x);
            prop_assert_eq!(w.signum(), 1);
            prop_assert_ne!(w.compare(&Wide::exp(x - 1.0)), Ordering::Less);
            match w.to_real(Quantity::Energy) {
                Err(Error::Overflow { ln_magnitude, .. }) => {
                    prop_assert!(ln_magnitude.is_finite() && ln_magnitude >= edge - 65.0);
                }
                other => prop_assert!(false, "x = {}: {:?}", x, other),
            }
        }

        /// Products, powers and sums of values with any `i32` exponent (the
        /// whole range, both ends included): they saturate, never wrap. A
        /// product of two numbers ≥ 1 is ≥ both and one of two numbers ≤ 1
        /// is ≤ both; its sign is the product of the signs; its `ln` is the
        /// sum of theirs where the exponent fits; powers of a number ≥ 1
        /// grow with `n`; a sum of two positives is ≥ both; `to_real`
        /// overflows exactly when the exponent is past `f64`'s.
        #[test]
        fn products_powers_and_sums_saturate_never_wrap(
            ma in 0.5f64..1.0,
            mb in 0.5f64..1.0,
            ea in prop_oneof![any::<i32>(), Just(i32::MAX), Just(i32::MIN), -1100i32..1100],
            eb in prop_oneof![any::<i32>(), Just(i32::MAX), Just(i32::MIN), -1100i32..1100],
            negative in any::<bool>(),
            n in 0u32..40,
        ) {
            let a = Wide::from_parts(ma, ea);
            let b = Wide::from_parts(mb, eb);
            prop_assert_eq!(a.exponent, ea);
            let p = a * b;
            prop_assert_eq!(p.signum(), 1);
            prop_assert_eq!((-a * b).signum(), -1);
            if ea >= 1 && eb >= 1 {
                prop_assert_ne!(p.compare(&a), Ordering::Less);
                prop_assert_ne!(p.compare(&b), Ordering::Less);
                let pn = a.powi(n);
                prop_assert_ne!(a.powi(n + 1).compare(&pn), Ordering::Less);
            }
            if ea <= 0 && eb <= 0 {
                prop_assert_ne!(p.compare(&a), Ordering::Greater);
                prop_assert_ne!(p.compare(&b), Ordering::Greater);
            }
            let sum = i64::from(ea) + i64::from(eb);
            if sum > i64::from(i32::MIN) + 2 && sum < i64::from(i32::MAX) - 2 {
                let want = a.ln() + b.ln();
                let scale = a.ln().abs() + b.ln().abs() + 1.0;
                prop_assert!((p.ln() - want).abs() <= 1e-9 * scale);
            }
            let s = if negative { -a + -b } else { a + b };
            let (sa, sb) = if negative { (-a, -b) } else { (a, b) };
            let bigger = if negative { Ordering::Greater } else { Ordering::Less };
            prop_assert_ne!(s.compare(&sa), bigger);
            prop_assert_ne!(s.compare(&sb), bigger);
            match a.to_real(Quantity::Energy) {
                Ok(v) => prop_assert!(ea <= 1024 && v.is_finite()),
                Err(Error::Overflow { ln_magnitude, .. }) => {
                    prop_assert!(ea > 1024 && ln_magnitude.is_finite());
                }
                Err(e) => prop_assert!(false, "{:?}", e),
            }
        }
    }

    #[test]
    fn powi_matches_f64_where_it_fits() {
        let w = Wide::from_real(794.0f64).powi(20);
        // Same squaring sequence as `Real::powi`, renormalized: bit-identical.
        assert_eq!(w.to_real(Quantity::Energy), Ok(Real::powi(794.0f64, 20)));
        let small = Wide::from_real(1e-3f32).powi(100);
        assert!((small.ln() - 100.0 * (1e-3f32).ln()).abs() < 1e-2);
    }
}
