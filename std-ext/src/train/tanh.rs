//! `tanh` for `f32` in plain arithmetic, so that a loop over a slice
//! vectorizes (libm's `tanhf` is a call per entry) and gives the same bits
//! on every machine and C library: the trainer's outputs `y = tanh(s)`.
//!
//! The method of Cephes' `tanhf` (S. L. Moshier): an odd polynomial for
//! `|x| < 0.625`, else `1 − 2/(e^{2|x|} + 1)` with `e^t` reduced to
//! `2^n · e^r`, `|r| ≤ ln 2 / 2`, and a degree-7 polynomial for `e^r`.
//! Within 2 ulp of the exact value (test below).

/// Beyond this `|x|`, `tanh x` rounds to `±1` in `f32`; the argument is
/// clamped here so that `e^{2|x|}` stays far from overflow.
const SATURATION: f32 = 10.0;

/// `tanh x`, to within 2 ulp; NaN for NaN.
///
/// ```
/// use dam_std::train::tanh::tanh;
/// assert_eq!(tanh(0.0), 0.0);
/// assert!((tanh(0.5) - 0.5f64.tanh() as f32).abs() <= 1e-7);
/// assert_eq!(tanh(-20.0), -1.0);
/// assert!(tanh(f32::NAN).is_nan());
/// ```
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    // Small |x|: x + x³ P(x²).
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328_2e-1)
            * z
            * x
            + x;
    // Large |x|: 1 − 2/(e^{2a} + 1), the sign of x. (A NaN fails the
    // comparison and stays NaN.)
    let a2 = 2.0 * if a > SATURATION { SATURATION } else { a };
    let e = exp_reduced(a2);
    let large = 1.0 - 2.0 / (e + 1.0);
    let large = if x < 0.0 { -large } else { large };
    // (`z = 0`: `x` itself, keeping the sign of a zero.)
    let small = if z == 0.0 { x } else { small };
    if a < 0.625 { small } else { large }
}

/// `e^t` for `0 ≤ t ≤ 2·SATURATION`, in plain arithmetic (no `floor`, no
/// table): `t = n ln 2 + r` with `n` rounded to nearest by the `1.5·2^23`
/// trick, `ln 2` in two parts so that `r` is exact, then `2^n` from the
/// exponent bits.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
fn exp_reduced(t: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    let n = (t * core::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = t - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = (((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2)
        * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1)
        * (r * r)
        + r
        + 1.0;
    // 0 ≤ n ≤ 29 here (NaN converts to 0, and p is NaN then anyway).
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between `got` and the exact `want`.
    fn ulps(got: f32, want: f64) -> f64 {
        let w = want as f32;
        let ulp = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64;
        ((got as f64) - want).abs() / ulp
    }

    #[test]
    fn within_two_ulp_everywhere() {
        let mut worst = (0.0f64, 0.0f32);
        // Every 97th f32 in [0, 12] and the same negated: all exponents,
        // both branches and the switch between them.
        let top = 12.0f32.to_bits();
        let mut bits = 0u32;
        while bits <= top {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let e = ulps(tanh(x), (x as f64).tanh());
                if e > worst.0 {
                    worst = (e, x);
                }
            }
            bits += 97;
        }
        assert!(worst.0 <= 2.0, "{} ulp at x = {:e}", worst.0, worst.1);
    }

    #[test]
    fn edges() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(f32::MAX), 1.0);
        assert_eq!(tanh(9.5), 1.0);
        assert_eq!(tanh(9.0), 0.999_999_94);
        assert!(tanh(f32::NAN).is_nan());
        assert!(tanh(-f32::NAN).is_nan());
        let tiny = f32::from_bits(1);
        assert_eq!(tanh(tiny), tiny);
        for x in [0.624f32, 0.625, 0.626, 3.0, 8.99, 9.0] {
            assert_eq!(tanh(-x), -tanh(x), "odd at {x}");
            assert!(tanh(x) <= 1.0 && tanh(x) > 0.0);
        }
    }
}
