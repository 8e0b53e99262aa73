//! The classifier forward pass entirely in fixed point (`fixed` crate), for
//! cores without an FPU (Cortex-M0+): `i8` memories, normalized form,
//! (rectified) polynomial `F`.
//!
//! ## Ranges (why nothing saturates)
//! With `c = β/D`, levels `|q| ≤ 128`, query levels `|v| ≤ 128` and
//! `s_max` the largest memory scale, every argument of `F` is bounded by
//! `A = c · s_max · (128²/127) · (D + 2)` (the overlap `ξ·w_α` of a memory
//! whose every entry has the largest magnitude; for trained memories in
//! `[−1, 1]`, `A ≈ β`). [`FixedClassifier::new`] accepts a model only if
//! * `A < 2¹⁵`: arguments are [`Arg`] (`I16F48`, 48 fraction bits, so a
//!   per-memory factor `c s_μ / 127 ≈ 10⁻⁷` keeps 8 significant digits);
//! * `2K · max(A, 1)ⁿ < 2³¹`: values of `F` and the class sums are
//!   [`Score`] (`I32F32`); every power `xᵏ`, `k ≤ n`, and every partial sum
//!   of `K` differences `F(x_w) − F(x_u)` then fits.
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
//! All fixed-point operations saturate anyway, so no input can wrap.
//! For the MNIST model of `BENCHMARKS.md` (`β = D/T = 794/540`, `n = 20`,
//! `K = 100`), `A ≈ 1.5` and `2K·Aⁿ ≈ 2·10⁵`.

use super::{QuantizedClassifier, QuantizedView, integer_overlaps};
use crate::error::{Error, Param, Quantity, Result};
use crate::interaction::{Form, Interaction};

/// The argument of `F`: 16 integer bits (with sign), 48 fraction bits.
pub type Arg = fixed::types::I16F48;
/// Values of `F` and class sums: 32 integer bits (with sign), 32 fraction bits.
pub type Score = fixed::types::I32F32;

/// Per-memory scratch of [`FixedClassifier::forward`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FixedRow {
    /// `c s_μ / 127`: one query-level step of the overlap, as an argument.
    step: Arg,
    /// The argument for `u` (all labels off).
    x_u: Arg,
    /// `F(x_u)`.
    f_u: Score,
}

impl FixedRow {
    /// A zeroed row, to initialize scratch arrays:
    /// `[FixedRow::ZERO; K]`.
    pub const ZERO: FixedRow = FixedRow {
        step: Arg::ZERO,
        x_u: Arg::ZERO,
        f_u: Score::ZERO,
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

/// A row as the bit patterns of its three fixed-point numbers.
impl RowSlot for [i64; 3] {
    fn load(&self) -> FixedRow {
        let [step, x_u, f_u] = *self;
        FixedRow {
            step: Arg::from_bits(step),
            x_u: Arg::from_bits(x_u),
            f_u: Score::from_bits(f_u),
        }
    }
    fn store(&mut self, row: FixedRow) {
        *self = [row.step.to_bits(), row.x_u.to_bits(), row.f_u.to_bits()];
    }
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
    /// `c / 127 = β / (127 D)`.
    unit: Arg,
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
        let unit = Arg::checked_from_num(c / 127.0).unwrap_or(Arg::ZERO);
        if unit == Arg::ZERO {
            return Err(invalid(Param::Beta, beta));
        }
        Ok(FixedClassifier {
            shape,
            n,
            rectified,
            unit,
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
        integer_overlaps(&memories, nv, v, self.shape.skip(), |mu, t| {
            if let (Some(r), Some(&s)) = (rows.get_mut(mu), scales.get(mu)) {
                let scale = Arg::checked_from_num(s).unwrap_or(Arg::ZERO);
                let step = scale.saturating_mul(self.unit);
                let x_u = step.saturating_mul_int(t);
                r.store(FixedRow {
                    step,
                    x_u,
                    f_u: self.f(x_u),
                });
            }
        })?;
        let mut best: Option<(usize, Score)> = None;
        for (alpha, out) in sums.iter_mut().enumerate() {
            let mut sum = Score::ZERO;
            for (r, (q, _)) in rows.iter().zip(memories.column(nv + alpha)) {
                let r = r.load();
                let x_w = r
                    .x_u
                    .saturating_add(r.step.saturating_mul_int(254 * i64::from(q)));
                sum = sum.saturating_add(self.f(x_w).saturating_sub(r.f_u));
            }
            out.store(sum);
            if best.is_none_or(|(_, b)| sum > b) {
                best = Some((alpha, sum));
            }
        }
        Ok(best.map_or(0, |(a, _)| a))
    }

    /// `F(x)`: `xⁿ`, or `max(x, 0)ⁿ` for the rectified polynomial, by
    /// repeated squaring, saturating.
    fn f(&self, x: Arg) -> Score {
        if self.rectified && x <= Arg::ZERO {
            return Score::ZERO;
        }
        let mut base = Score::saturating_from_num(x);
        let mut acc = Score::ONE;
        let mut e = self.n;
        while e > 0 {
            if e & 1 == 1 {
                acc = acc.saturating_mul(base);
            }
            e >>= 1;
            if e > 0 {
                base = base.saturating_mul(base);
            }
        }
        acc
    }
}

fn invalid(param: Param, value: f64) -> Error {
    Error::InvalidParameter { param, value }
}
