//! Sine and cosine for `f32` that vectorize.
//!
//! libm's `sinf`/`cosf` are accurate but branchy, and one call each per
//! element. Random-feature memories need a sine and a cosine of the same
//! argument for every feature, so [`sin_cos_f32`] computes both at once from
//! one range reduction, without data-dependent branches in the common path
//! (the octant picks results by selects, which the compiler turns into
//! vector blends). Arguments beyond [`SIN_COS_FAST_LIMIT`] (and non-finite
//! ones) go to libm.
//!
//! Method (after Cephes `sinf`/`cosf`, S. Moshier): `j` = the even integer
//! nearest `|x|·4/π`, `r = |x| − j·π/4` in three parts (Cody–Waite, exact for
//! `|x| ≤ 8192`), minimax polynomials of degree 7 (sine) and 8 (cosine) on
//! `[−π/4, π/4]`, then octant selection and signs. Measured maximum absolute
//! error against `f64` libm (test `max_error_is_documented`): below
//! `1.2e-7` for `|x| ≤ π`, below `6e-7` for `|x| ≤ 8192`.

/// Beyond this magnitude [`sin_cos_f32`] falls back to libm.
pub const SIN_COS_FAST_LIMIT: f32 = 8192.0;

const FOUR_OVER_PI: f32 = 1.273_239_5;
/// 1.5·2^23: adding it rounds a float in `[0, 2^22)` to an integer.
const ROUND_MAGIC: f32 = 12_582_912.0;
const DP1: f32 = 0.785_156_25;
const DP2: f32 = 2.418_756_5e-4;
const DP3: f32 = 3.774_895e-8;
const S1: f32 = -1.666_665_5e-1;
const S2: f32 = 8.332_161e-3;
const S3: f32 = -1.951_529_6e-4;
const C1: f32 = 4.166_664_6e-2;
const C2: f32 = -1.388_731_6e-3;
const C3: f32 = 2.443_315_7e-5;

/// `(sin x, cos x)`.
///
/// ```
/// let (s, c) = dam_core::trig::sin_cos_f32(1.0);
/// assert!((s - 1.0f32.sin()).abs() < 2e-7 && (c - 1.0f32.cos()).abs() < 2e-7);
/// ```
#[inline]
pub fn sin_cos_f32(x: f32) -> (f32, f32) {
    let ax = x.abs();
    if ax > SIN_COS_FAST_LIMIT || ax.is_nan() {
        return (libm::sinf(x), libm::cosf(x));
    }
    sin_cos_reduced(x, ax)
}

/// The branch-free core, valid for `|x| ≤ SIN_COS_FAST_LIMIT`.
#[inline(always)]
fn sin_cos_reduced(x: f32, ax: f32) -> (f32, f32) {
    // `j` = the even integer nearest `t = |x|·4/π`, as 2·round(t/2): adding
    // 1.5·2^23 rounds `t/2 ≤ 5216` to an integer held in the low mantissa
    // bits (round-half-even; a tie puts `r` at ±π/4, inside the range
    // either way). Bit operations, no float-to-integer conversion: x86 has
    // no vector one for `u32` before AVX-512, so the slice loop stays in
    // vector registers.
    let m = (ax * FOUR_OVER_PI) * 0.5 + ROUND_MAGIC;
    let j = (m.to_bits() & 0x003f_ffff) << 1;
    let y = (m - ROUND_MAGIC) * 2.0;
    let r = ((ax - y * DP1) - y * DP2) - y * DP3;
    let z = r * r;
    let sin_r = ((S3 * z + S2) * z + S1) * z * r + r;
    let cos_r = ((C3 * z + C2) * z + C1) * z * z - 0.5 * z + 1.0;
    let q = j & 7;
    let swap = q & 2 != 0;
    let (s, c) = if swap { (cos_r, sin_r) } else { (sin_r, cos_r) };
    let sin_negative = (q & 4 != 0) != (x < 0.0);
    let cos_negative = (q + 2) & 4 != 0;
    (
        if sin_negative { -s } else { s },
        if cos_negative { -c } else { c },
    )
}

/// `sin_out[i], cos_out[i] = sin x[i], cos x[i]` over the common length.
/// Written as a straight loop over selects so the compiler vectorizes it;
/// out-of-range arguments are fixed up afterwards with libm.
///
/// ```
/// let x = [0.0f32, 1.0, -2.0, 1e5];
/// let (mut s, mut c) = ([0.0f32; 4], [0.0f32; 4]);
/// dam_core::trig::sin_cos_slice(&x, &mut s, &mut c);
/// assert!((s[3] - libm::sinf(1e5)).abs() < 1e-6);
/// ```
pub fn sin_cos_slice(x: &[f32], sin_out: &mut [f32], cos_out: &mut [f32]) {
    // The same loop compiled for AVX2 when the CPU has it: 8 lanes per step
    // instead of SSE2's 4, same results bit for bit (no FMA contraction).
    // The kernels pick the path (`simd` implements `Kernels`).
    <f32 as crate::isa::Kernels>::sin_cos_slice(x, sin_out, cos_out)
}

/// The loop of [`sin_cos_slice`], inlined into each caller so that a
/// `#[target_feature]` caller compiles it for its instruction set.
#[inline(always)]
pub(crate) fn sin_cos_slice_portable(x: &[f32], sin_out: &mut [f32], cos_out: &mut [f32]) {
    let mut any_large = false;
    for ((&xi, s), c) in x.iter().zip(sin_out.iter_mut()).zip(cos_out.iter_mut()) {
        let ax = xi.abs();
        // NaN compares false: it also takes the fix-up path.
        let fast = ax <= SIN_COS_FAST_LIMIT;
        any_large |= !fast;
        let (sv, cv) = sin_cos_reduced(xi, if fast { ax } else { 0.0 });
        *s = sv;
        *c = cv;
    }
    if any_large {
        for ((&xi, s), c) in x.iter().zip(sin_out.iter_mut()).zip(cos_out.iter_mut()) {
            if xi.abs() > SIN_COS_FAST_LIMIT || xi.is_nan() {
                *s = libm::sinf(xi);
                *c = libm::cosf(xi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_error(lo: f32, hi: f32, steps: u32) -> f64 {
        let mut worst = 0.0f64;
        for i in 0..=steps {
            let x = lo + (hi - lo) * (i as f32 / steps as f32);
            let (s, c) = sin_cos_f32(x);
            let xd = f64::from(x);
            worst = worst
                .max((f64::from(s) - libm::sin(xd)).abs())
                .max((f64::from(c) - libm::cos(xd)).abs());
        }
        worst
    }

    #[test]
    fn max_error_is_documented() {
        // Under Miri (about 10^5 times slower) a coarser grid.
        let steps = if cfg!(miri) { 20_000 } else { 2_000_000 };
        let near = max_error(-core::f32::consts::PI, core::f32::consts::PI, steps);
        let far = max_error(-SIN_COS_FAST_LIMIT, SIN_COS_FAST_LIMIT, steps);
        assert!(near < 1.2e-7, "{near}");
        assert!(far < 6e-7, "{far}");
    }

    #[test]
    fn slice_matches_scalar_and_handles_edges() {
        let x = [
            0.0f32,
            -0.0,
            0.5,
            -3.0,
            8191.0,
            8193.0,
            -1e20,
            f32::NAN,
            f32::INFINITY,
        ];
        let (mut s, mut c) = ([0.0f32; 9], [0.0f32; 9]);
        sin_cos_slice(&x, &mut s, &mut c);
        // Rust leaves the sign and payload of a NaN result unspecified and
        // Miri picks them at random: there two NaNs count as equal.
        let same =
            |a: f32, b: f32| a.to_bits() == b.to_bits() || (cfg!(miri) && a.is_nan() && b.is_nan());
        for i in 0..x.len() {
            let (ws, wc) = sin_cos_f32(x[i]);
            assert!(same(s[i], ws), "x = {}: sin {} vs {}", x[i], s[i], ws);
            assert!(same(c[i], wc), "x = {}: cos {} vs {}", x[i], c[i], wc);
        }
        assert!(s[7].is_nan() && s[8].is_nan());
    }
}
