//! The classifier forward pass entirely in integers, for cores without an
//! FPU (Cortex-M0+): `i8` memories, normalized form, (rectified)
//! polynomial `F`; the class sums are fixed point ([`Score`]).
//!
//! ## Arithmetic
//! The argument of `F` for memory `μ` is `x = step_μ · T` with the exact
//! integer overlap `T` (in query-level steps) and `step_μ = (c/127) s_μ`.
//! `x` and its powers are `m · 2^e` numbers with a 32-bit mantissa (a
//! private `Soft` type): each product keeps the top 32 bits of the exact
//! 64-bit product of the mantissas, truncated. `F(x) = xⁿ` (square and
//! multiply, `n = 20`: five products) is then truncated to a [`Score`]
//! (`I32F32`) and summed exactly in `i64`. Every step is integer code
//! with one definition, so the host (`dam eval --fixed`, `dam predict`) and
//! the boards compute the same bits. On ARMv6-M, which has a 32 × 32 →
//! 32-bit multiply only, one product is four (a square three) 16 × 16-bit
//! multiplies, where the earlier `I32F32` powers each cost a 128-bit
//! product in library calls (9.2 M instructions per MNIST classification
//! then, below 1 M now: BENCHMARKS.md). Relative precision: `2⁻³¹` per
//! product, about `n · 2⁻³¹` per power (an `f32` power is `2⁻²⁴` per
//! product). Arguments whose exact power is below `2⁻³²` skip their products
//! (the truncated products would give 0 too: tested).
//!
//! ## Ranges (why nothing overflows)
//! With `c = β/D`, levels `|q| ≤ 128`, query levels `|v| ≤ 128` and
//! `s_max` the largest memory scale, every argument of `F` is bounded by
//! `A = c · s_max · (128²/127) · (D + 2)` (the overlap `ξ·w_α` of a memory
//! whose every entry has the largest magnitude; for trained memories in
//! `[−1, 1]`, `A ≈ β`). [`FixedClassifier::new`] accepts a model only if
//! * `A < 2¹⁵`, and `c/127` is at least the resolution of [`Arg`]
//!   (`I16F48`, the type of the earlier arguments; kept as the limit);
//! * `2K · max(A, 1)ⁿ < 2³¹`: values of `F` and the class sums are
//!   [`Score`] (`I32F32`); every power and every partial sum of `K`
//!   values of `F` then fits.
//!
//! Resolution: values of `F` below `2⁻³²` (the last bit of [`Score`]) are
//! `0`; with `n = 20` that is arguments below `0.33`. A trained model's
//! prediction rests on the memories with large overlaps (arguments near
//! `β`), so it is unaffected (BENCHMARKS.md: the same test accuracy as
//! `f32`); but a model whose arguments all stay far below 1 (`β ≪ D/T`) gets
//! all-zero sums and class 0: evaluate such a model with the `f32` rescale
//! ([`super::QuantizedClassifier`]).
//!
//! Integer overlaps are exact (`i32`/`i64`, see [`crate::simd::integer`]).
//! Conversions to [`Score`] and the sums saturate anyway, so no input can
//! wrap.
//! For the MNIST model of `BENCHMARKS.md` (`β = D/T = 794/540`, `n = 20`,
//! `K = 100`), `A ≈ 1.5` and `2K·Aⁿ ≈ 2·10⁵`.

use super::{QuantizedClassifier, QuantizedView, integer_overlaps};
use crate::error::{Error, Param, Quantity, Result};
use crate::interaction::{Form, Interaction};

/// 16 integer bits (with sign), 48 fraction bits: the resolution limit of
/// `c/127` that [`FixedClassifier::new`] checks (the arguments of `F` were
/// this type before the `Soft` arithmetic of the module docs).
pub type Arg = fixed::types::I16F48;
/// Values of `F` and class sums: 32 integer bits (with sign), 32 fraction bits.
pub type Score = fixed::types::I32F32;

/// Per-memory scratch of [`FixedClassifier::forward`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FixedRow {
    /// `c s_μ / 127`: one query-level step of the overlap, as a
    /// [`Soft`] number.
    step: Soft,
    /// The overlap with `u` (all labels off) in query-level steps.
    t: i64,
    /// Arguments `step · |T|` with `|T|` below this have `F` below the
    /// last bit of [`Score`], so zero: their powers are skipped.
    negligible: u32,
}

impl FixedRow {
    /// A zeroed row, to initialize scratch arrays:
    /// `[FixedRow::ZERO; K]`.
    pub const ZERO: FixedRow = FixedRow {
        step: Soft::ZERO,
        t: 0,
        negligible: 0,
    };
}

/// Where [`FixedClassifier`] keeps one memory's scratch row.
pub(crate) trait RowSlot {
    /// The row stored last.
    fn load(&self) -> FixedRow;
    /// Stores a row.
    fn store(&mut self, row: FixedRow);
}

impl RowSlot for FixedRow {
    fn load(&self) -> FixedRow {
        *self
    }
    fn store(&mut self, row: FixedRow) {
        *self = row;
    }
}

/// A row as three words: the step's mantissa and exponent, `t`, the
/// negligible bound.
impl RowSlot for [i64; 3] {
    fn load(&self) -> FixedRow {
        let [step, t, negligible] = *self;
        FixedRow {
            step: Soft {
                m: step as u32,
                e: (step >> 32) as i32,
            },
            t,
            negligible: negligible as u32,
        }
    }
    fn store(&mut self, row: FixedRow) {
        let step = (i64::from(row.step.e) << 32) | i64::from(row.step.m);
        *self = [step, row.t, i64::from(row.negligible)];
    }
}

/// A number `m · 2^e ≥ 0` with a 32-bit mantissa, normalized (`m ≥ 2³¹`),
/// or zero (`m = 0`): the arguments and powers of `F` on the way to a
/// [`Score`]. Products keep the top 32 bits of the exact 64-bit product of
/// the mantissas (truncated), so the arithmetic is plain integer code,
/// the same bits on every target; on a core without a 64-bit multiply
/// (Cortex-M0+) a product costs four 32-bit multiplies (three for a
/// square), where an [`Score`] product costs a 128-bit one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Soft {
    m: u32,
    e: i32,
}

/// Exponents below this flush to zero (far below the last bit of
/// [`Score`], and no exponent sum can wrap).
const SOFT_MIN_EXP: i32 = -(1 << 24);

impl Soft {
    const ZERO: Soft = Soft { m: 0, e: 0 };
    const ONE: Soft = Soft { m: 1 << 31, e: -31 };

    /// `x` exactly.
    fn from_u32(x: u32) -> Soft {
        if x == 0 {
            return Soft::ZERO;
        }
        let z = x.leading_zeros();
        Soft {
            m: x << z,
            e: -(z as i32),
        }
    }

    /// A positive finite `f32` exactly (others: zero).
    fn from_f32(x: f32) -> Soft {
        let bits = x.to_bits();
        if bits >> 31 != 0 || bits >= 0x7f80_0000 {
            return Soft::ZERO;
        }
        let field = (bits >> 23) as i32;
        let frac = bits & 0x007f_ffff;
        let (m, e) = if field == 0 {
            (frac, -149)
        } else {
            (frac | 0x0080_0000, field - 150)
        };
        match Soft::from_u32(m) {
            Soft::ZERO => Soft::ZERO,
            s => Soft {
                e: s.e.saturating_add(e),
                ..s
            },
        }
    }

    /// A positive finite `f64`, truncated to 32 significant bits (others:
    /// zero).
    fn from_f64(x: f64) -> Soft {
        let bits = x.to_bits();
        if bits >> 63 != 0 || bits >= 0x7ff0_0000_0000_0000 || bits == 0 {
            return Soft::ZERO;
        }
        let field = (bits >> 52) as i32;
        let frac = bits & 0x000f_ffff_ffff_ffff;
        let (m, e) = if field == 0 {
            (frac, -1074)
        } else {
            (frac | 0x0010_0000_0000_0000, field - 1075)
        };
        // Never zero (`bits == 0` returned above).
        let Some(m) = core::num::NonZeroU64::new(m) else {
            return Soft::ZERO;
        };
        let z = m.leading_zeros();
        let top = ((m.get() << z) >> 32) as u32;
        Soft {
            m: top,
            e: e.saturating_sub(z as i32).saturating_add(32),
        }
    }

    /// The product, truncated to 32 significant bits.
    #[inline(always)]
    fn mul(self, other: Soft) -> Soft {
        Soft::normalize(mul_wide(self.m, other.m), self.e, other.e)
    }

    /// The square, as [`Soft::mul`] by itself.
    #[inline(always)]
    fn square(self) -> Soft {
        Soft::normalize(square_wide(self.m), self.e, self.e)
    }

    /// `p · 2^(ea + eb)` from the 64-bit product `p` of two mantissas.
    #[inline(always)]
    fn normalize(p: u64, ea: i32, eb: i32) -> Soft {
        let e = ea.saturating_add(eb).saturating_add(32);
        let hi = (p >> 32) as u32;
        let s = if hi >= 1 << 31 {
            Soft { m: hi, e }
        } else if hi >= 1 << 30 {
            Soft {
                m: (p >> 31) as u32,
                e: e - 1,
            }
        } else {
            // Only a zero operand leaves the top two bits clear.
            return Soft::ZERO;
        };
        if s.e < SOFT_MIN_EXP { Soft::ZERO } else { s }
    }

    /// `selfⁿ` by square-and-multiply (`n = 0`: one).
    #[inline(always)]
    fn powi(self, n: u32) -> Soft {
        let (mut acc, mut base, mut e) = (None::<Soft>, self, n);
        while e > 0 {
            if e & 1 == 1 {
                acc = Some(match acc {
                    None => base,
                    Some(a) => a.mul(base),
                });
            }
            e >>= 1;
            if e > 0 {
                base = base.square();
            }
        }
        acc.unwrap_or(Soft::ONE)
    }

    /// The value as the bits of a [`Score`] (`2⁻³²` units, truncated;
    /// saturating above).
    #[inline(always)]
    fn score_bits(self) -> i64 {
        let sh = self.e.saturating_add(32);
        if self.m == 0 {
            // Zero (whatever its exponent): not the saturated maximum.
            0
        } else if sh > 31 {
            i64::MAX
        } else if sh >= 0 {
            (u64::from(self.m) << sh) as i64
        } else if sh > -32 {
            i64::from(self.m >> -sh)
        } else {
            0
        }
    }
}

/// `a · b` exactly, from four 16 × 16 → 32-bit products (ARMv6-M has no
/// 32 × 32 → 64-bit multiply; elsewhere the compiler may fuse them).
#[inline(always)]
pub(crate) fn mul_wide(a: u32, b: u32) -> u64 {
    let (al, ah, bl, bh) = (a & 0xffff, a >> 16, b & 0xffff, b >> 16);
    let ll = al * bl;
    let lh = al * bh;
    let hl = ah * bl;
    let hh = ah * bh;
    let mid = (ll >> 16) + (lh & 0xffff) + (hl & 0xffff);
    let hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
    (u64::from(hi) << 32) | u64::from((mid << 16) | (ll & 0xffff))
}

/// `a²` exactly, from three 16 × 16 → 32-bit products.
#[inline(always)]
pub(crate) fn square_wide(a: u32) -> u64 {
    let (al, ah) = (a & 0xffff, a >> 16);
    let ll = al * al;
    let lh = al * ah;
    let hh = ah * ah;
    let mid = (ll >> 16) + ((lh & 0xffff) << 1);
    let hi = hh + ((lh >> 16) << 1) + (mid >> 16);
    (u64::from(hi) << 32) | u64::from((mid << 16) | (ll & 0xffff))
}

/// Where [`FixedClassifier`] writes a class sum.
pub(crate) trait SumSlot {
    /// Stores a sum.
    fn store(&mut self, sum: Score);
}

impl SumSlot for Score {
    fn store(&mut self, sum: Score) {
        *self = sum;
    }
}

/// A sum as its bit pattern.
impl SumSlot for i64 {
    fn store(&mut self, sum: Score) {
        *self = sum.to_bits();
    }
}

/// The one-step classifier of math.md §4 (normalized form) in fixed point.
///
/// ```
/// use dam_core::quantized::{FixedClassifier, FixedRow, QuantizedView, Score};
/// use dam_core::{Form, Interaction};
/// let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
/// let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4)?;
/// let clf = FixedClassifier::new(view, 2,
///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let (mut sums, mut scratch) = ([Score::ZERO; 2], [FixedRow::ZERO; 2]);
/// assert_eq!(clf.forward(&[-89, -114], &mut sums, &mut scratch)?, 1);
/// assert!(sums[1] > sums[0]);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FixedClassifier<'a> {
    /// The same model with its checked shape, `F` and form.
    shape: QuantizedClassifier<'a, i8>,
    n: u32,
    rectified: bool,
    /// `c / 127 = β / (127 D)`, truncated to 32 significant bits.
    unit: Soft,
    /// `-32 - j` with `j = ⌈32/n⌉`: an argument `x < 2^(e + 32)` with
    /// `e` at most this is below `2^(-j)`, and `xⁿ < 2⁻³²` rounds to 0
    /// (`i32::MIN` for `n = 0`, where `x⁰ = 1`).
    negligible_exp: i32,
}

impl<'a> FixedClassifier<'a> {
    /// A fixed-point classifier. Errors: invalid `classes`, `F` or `β`;
    /// [`Param::Leak`] / [`Param::Degree`] for the leaky and exponential
    /// `F` and [`Param::Beta`] for the raw form (not supported in fixed
    /// point, nor is `β/(127 D)` below the resolution of [`Arg`]); and
    /// [`Error::Overflow`] if the ranges of the module docs do not hold.
    pub fn new(
        memories: QuantizedView<'a, i8>,
        classes: usize,
        f: Interaction<f32>,
        form: Form<f32>,
    ) -> Result<Self> {
        let shape = QuantizedClassifier::new(memories, classes, f, form)?;
        let (n, rectified) = match f {
            Interaction::Polynomial { n } => (n, false),
            Interaction::RectifiedPolynomial { n } => (n, true),
            Interaction::LeakyRectifiedPolynomial { leak, .. } => {
                return Err(invalid(Param::Leak, f64::from(leak)));
            }
            Interaction::Exponential => return Err(invalid(Param::Degree, 0.0)),
        };
        let beta = match form {
            Form::Normalized { beta } => f64::from(beta),
            Form::Raw { beta } => return Err(invalid(Param::Beta, f64::from(beta))),
        };
        let d = memories.d() as f64;
        let c = beta / d;
        let s_max = memories.scales().iter().fold(0.0f32, |m, &s| m.max(s));
        let a = c * f64::from(s_max) * (128.0 * 128.0 / 127.0) * (d + 2.0);
        if a.is_nan() || a >= 32768.0 {
            return Err(Error::Overflow {
                quantity: Quantity::Interaction,
                ln_magnitude: libm::log(a),
            });
        }
        let ln_sums = f64::from(n) * libm::log(a.max(1.0)) + libm::log(2.0 * memories.k() as f64);
        if ln_sums.is_nan() || ln_sums >= 31.0 * core::f64::consts::LN_2 {
            return Err(Error::Overflow {
                quantity: Quantity::Score,
                ln_magnitude: ln_sums,
            });
        }
        // `checked_`: the float conversions of `fixed` panic on NaN.
        if Arg::checked_from_num(c / 127.0).is_none_or(|u| u == Arg::ZERO) {
            return Err(invalid(Param::Beta, beta));
        }
        let unit = Soft::from_f64(c / 127.0);
        let negligible_exp = match n {
            0 => i32::MIN,
            n => -32 - 32u32.div_ceil(n) as i32,
        };
        Ok(FixedClassifier {
            shape,
            n,
            rectified,
            unit,
            negligible_exp,
        })
    }

    /// The same classifier, skipping the query's background as
    /// [`QuantizedClassifier::with_background`] (the same sums, bit for
    /// bit). Errors: `sums` shorter than `K`.
    ///
    /// ```
    /// use dam_core::quantized::{FixedClassifier, FixedRow, QuantizedView, Score};
    /// use dam_core::{Form, Interaction};
    /// let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
    /// let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4)?;
    /// let clf = FixedClassifier::new(view, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// let mut row_sums = [0i32; 2];
    /// let skipping = clf.with_background(-127, &mut row_sums)?;
    /// let (mut a, mut b, mut scratch) = ([Score::ZERO; 2], [Score::ZERO; 2], [FixedRow::ZERO; 2]);
    /// assert_eq!(clf.forward(&[-127, -114], &mut a, &mut scratch)?,
    ///            skipping.forward(&[-127, -114], &mut b, &mut scratch)?);
    /// assert_eq!(a, b);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn with_background(self, background: i8, sums: &'a mut [i32]) -> Result<Self> {
        Ok(FixedClassifier {
            shape: self.shape.with_background(background, sums)?,
            ..self
        })
    }

    /// The model's shape, `F` and form, and a forward pass in `f32` (the
    /// same memories with the `f32` rescale).
    pub fn rescaled(&self) -> QuantizedClassifier<'a, i8> {
        self.shape
    }

    /// Writes the class sums `s_α = Σ_μ F(c ξ^μ·w_α) − F(c ξ^μ·u)` into
    /// `sums` (length `Nc`; the scores are `tanh(s_α)`, monotone, so the
    /// sums carry the same ranking) and returns the predicted class, the
    /// first `argmax`. `v` is the query quantized by
    /// [`super::quantize_query`] (length `Nv`); `scratch` needs at least `K`
    /// rows. Errors: shape mismatches.
    pub fn forward(&self, v: &[i8], sums: &mut [Score], scratch: &mut [FixedRow]) -> Result<usize> {
        self.forward_in(v, sums, scratch)
    }

    /// [`FixedClassifier::forward`] with the sums and rows kept in any
    /// [`SumSlot`] and [`RowSlot`]: the typed ones, or the `i64` bit
    /// patterns of scratch carved from bytes ([`crate::Prepared`]).
    pub(crate) fn forward_in<S: SumSlot, R: RowSlot>(
        &self,
        v: &[i8],
        sums: &mut [S],
        scratch: &mut [R],
    ) -> Result<usize> {
        let (nv, k) = self.shape.check_forward(v, sums, scratch)?;
        let rows = scratch.get_mut(..k).unwrap_or(&mut []);
        let memories = self.shape.memories();
        let scales = memories.scales();
        let mut own = 0i64;
        let j = self.negligible_exp.saturating_neg().saturating_sub(32);
        integer_overlaps(&memories, nv, v, self.shape.skip(), |mu, t| {
            if let (Some(r), Some(&s)) = (rows.get_mut(mu), scales.get(mu)) {
                let step = self.unit.mul(Soft::from_f32(s));
                // `step · |T| < 2^(e + 32) |T|`, below `2^(-j)` for
                // `|T| < 2^(-j - e - 32)`.
                let shift = j.saturating_neg().saturating_sub(step.e).saturating_sub(32);
                let negligible = match shift {
                    _ if self.negligible_exp == i32::MIN => 0,
                    ..0 => 0,
                    0..32 => 1u32 << shift,
                    _ => u32::MAX,
                };
                let row = FixedRow {
                    step,
                    t,
                    negligible,
                };
                own = own.saturating_add(self.f(&row, t));
                r.store(row);
            }
        })?;
        let mut best: Option<(usize, i64)> = None;
        for (alpha, out) in crate::indexed(sums.iter_mut()) {
            let mut sum = 0i64;
            // Past the end (`nv + alpha` saturated) a column is empty.
            for (r, (q, _)) in rows.iter().zip(memories.column(nv.saturating_add(alpha))) {
                let r = r.load();
                // `254 q` in 32 bits (a 64-bit multiply is a library call
                // on ARMv6-M).
                let label = i64::from(254 * i32::from(q));
                // An `i8` overlap, `|t| < 2^47`, and `|label| < 2^15`: the
                // add never wraps (a saturating one costs 3% of a
                // classification on ARMv6-M).
                sum = sum.saturating_add(self.f(&r, r.t.wrapping_add(label)));
            }
            let sum = sum.saturating_sub(own);
            out.store(Score::from_bits(sum));
            if best.is_none_or(|(_, b)| sum > b) {
                best = Some((alpha, sum));
            }
        }
        Ok(best.map_or(0, |(a, _)| a))
    }

    /// `F(x)` for `x = step · t` as the bits of a [`Score`]: `xⁿ`, or
    /// `max(x, 0)ⁿ` for the rectified polynomial, in [`Soft`] arithmetic
    /// (`step > 0`, so the sign of `x` is the sign of `t`). Arguments whose
    /// exact power is below `2⁻³²` give 0 without their products (the
    /// products truncate, so they would give 0 too).
    #[inline(always)]
    fn f(&self, row: &FixedRow, t: i64) -> i64 {
        if self.rectified && t <= 0 {
            return 0;
        }
        let magnitude = u32::try_from(t.unsigned_abs()).unwrap_or(u32::MAX);
        if magnitude < row.negligible {
            return 0;
        }
        let x = row.step.mul(Soft::from_u32(magnitude));
        // `x < 2^(e + 32)`, so `xⁿ < 2^(n(e + 32)) ≤ 2⁻³²`.
        if x.e <= self.negligible_exp {
            return 0;
        }
        let bits = x.powi(self.n).score_bits();
        if t < 0 && self.n % 2 == 1 {
            bits.saturating_neg()
        } else {
            bits
        }
    }
}

fn invalid(param: Param, value: f64) -> Error {
    Error::InvalidParameter { param, value }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::quantized::QuantizedView;
    use proptest::prelude::*;

    /// The value of a [`Soft`] number in `f64` (exact for the ranges here).
    fn value(x: Soft) -> f64 {
        f64::from(x.m) * libm::exp2(f64::from(x.e))
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(2048), 8))]

        /// The 16-bit-halves products are the exact 64-bit products.
        #[test]
        fn wide_products_are_exact(a in any::<u32>(), b in any::<u32>()) {
            prop_assert_eq!(mul_wide(a, b), u64::from(a) * u64::from(b));
            prop_assert_eq!(square_wide(a), u64::from(a) * u64::from(a));
        }

        /// Conversions are exact (`f32`, `u32`) or truncate to 32 bits
        /// (`f64`), products truncate the exact product to 32 significant
        /// bits, and powers are the repeated products.
        #[test]
        fn soft_arithmetic_truncates_to_32_bits(
            a in 1u32.., b in 1u32.., x in 1e-30f32..1e30, y in 1e-300f64..1e300, n in 0u32..24,
        ) {
            let (sa, sb) = (Soft::from_u32(a), Soft::from_u32(b));
            prop_assert!(sa.m >= 1 << 31 && sb.m >= 1 << 31);
            prop_assert_eq!(value(sa), f64::from(a));
            prop_assert_eq!(value(Soft::from_f32(x)), f64::from(x));
            let sy = Soft::from_f64(y);
            prop_assert!(value(sy) <= y && y - value(sy) <= y * 2f64.powi(-31), "{y} {sy:?}");
            // The exact product, normalized to 128 bits, then its top 32.
            let exact = u128::from(a) * u128::from(b);
            let z = exact.leading_zeros();
            let p = sa.mul(sb);
            prop_assert_eq!(u128::from(p.m), (exact << z) >> 96);
            prop_assert_eq!(p.e, 96 - z as i32);
            prop_assert_eq!(sa.square(), sa.mul(sa));
            let mut want = None::<Soft>;
            let (mut base, mut e) = (sa, n);
            while e > 0 {
                if e & 1 == 1 {
                    want = Some(want.map_or(base, |w| w.mul(base)));
                }
                e >>= 1;
                base = base.mul(base);
            }
            prop_assert_eq!(sa.powi(n), want.unwrap_or(Soft::ONE));
            let rel = f64::from(a).powi(n as i32);
            prop_assert!((value(sa.powi(n)) - rel).abs() <= rel * 2.0 * f64::from(n) * 2f64.powi(-31));
        }
    }

    /// `F` without the shortcuts for negligible arguments.
    fn f_full(clf: &FixedClassifier<'_>, step: Soft, t: i64) -> i64 {
        if clf.rectified && t <= 0 {
            return 0;
        }
        let magnitude = u32::try_from(t.unsigned_abs()).unwrap_or(u32::MAX);
        let bits = step.mul(Soft::from_u32(magnitude)).powi(clf.n).score_bits();
        if t < 0 && clf.n % 2 == 1 { -bits } else { bits }
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(1024), 8))]

        /// Skipping the powers of negligible arguments changes no bit: the
        /// rows [`FixedClassifier::forward`] builds, against the full
        /// products, for steps and overlaps from tiny to large.
        #[test]
        fn negligible_arguments_are_zero_anyway(
            n in 0u32..45, rectified in any::<bool>(), beta in 0.01f32..20.0, d in 2usize..2000,
            scale in 1e-6f32..1.0, t in -(1i64 << 31)..(1i64 << 31), small in any::<bool>(),
        ) {
            let t = if small { t >> 20 } else { t };
            let f = if rectified {
                Interaction::RectifiedPolynomial { n }
            } else {
                Interaction::Polynomial { n }
            };
            let levels = std::vec![1i8; 2 * d];
            let scales = [scale, scale];
            let view = QuantizedView::new(&levels, &scales, 2, d).unwrap();
            let Ok(clf) = FixedClassifier::new(view, 1, f, Form::Normalized { beta }) else {
                return Ok(());
            };
            // The rows as `forward_in` builds them (one memory).
            let mut rows = [FixedRow::ZERO; 2];
            let mut sums = [Score::ZERO; 1];
            let v = std::vec![0i8; d - 1];
            clf.forward(&v, &mut sums, &mut rows).unwrap();
            let row = FixedRow { t, ..rows[0] };
            prop_assert_eq!(clf.f(&row, t), f_full(&clf, row.step, t));
        }
    }

    /// Zero, subnormal and out-of-range inputs.
    #[test]
    fn soft_edges() {
        assert_eq!(Soft::from_u32(0), Soft::ZERO);
        // Zero scores zero (it once saturated: F(0) of an odd power).
        assert_eq!(Soft::ZERO.score_bits(), 0);
        assert_eq!(Soft::from_u32(7).mul(Soft::ZERO).powi(3).score_bits(), 0);
        assert_eq!(Soft::from_f32(0.0), Soft::ZERO);
        assert_eq!(Soft::from_f32(-1.0), Soft::ZERO);
        assert_eq!(Soft::from_f32(f32::INFINITY), Soft::ZERO);
        assert_eq!(Soft::from_f64(f64::NAN), Soft::ZERO);
        let tiny = f32::from_bits(1);
        assert_eq!(value(Soft::from_f32(tiny)), f64::from(tiny));
        assert_eq!(
            Soft::from_f64(5e-324),
            Soft {
                m: 1 << 31,
                e: -1074 - 31
            }
        );
        assert_eq!(Soft::ZERO.mul(Soft::ONE), Soft::ZERO);
        assert_eq!(Soft::ONE.mul(Soft::ONE), Soft::ONE);
        assert_eq!(Soft::ONE.score_bits(), 1 << 32);
        assert_eq!(Soft::from_u32(3).powi(0), Soft::ONE);
        assert_eq!(Soft::from_u32(1 << 31).score_bits(), i64::MAX);
        assert_eq!(Soft::from_f64(0.75 * 2f64.powi(-32)).score_bits(), 0);
        assert_eq!(Soft::from_f64(2f64.powi(-32)).score_bits(), 1);
        // Tiny numbers flush to zero instead of wrapping the exponent.
        let small = Soft::from_f64(1e-300);
        assert_eq!(small.powi(1 << 20), Soft::ZERO);
    }
}
