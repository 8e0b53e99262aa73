//! The classifier forward pass on quantized memories with an `f32` rescale
//! per memory (cores with an FPU, and the host).

use super::{Level, QuantizedView, Skip, check_classes, integer_overlaps};
use crate::classifier::ClassScorer;
use crate::error::{Error, Operand, Quantity, Result, check_len, check_scratch};
use crate::interaction::{Form, Interaction};
use crate::real::Real;
use crate::wide::Wide;

/// The one-step classifier of math.md §4 on [`QuantizedView`] memories:
/// integer dot products, then `ξ^μ·u = (s_μ/L)·t_μ` in `f32` and the same
/// scoring as [`crate::Classifier::forward`] (raw or normalized form).
///
/// ```
/// use dam_core::quantized::{QuantizedClassifier, QuantizedView};
/// use dam_core::{Form, Interaction};
/// let levels = [32767i16, 32767, 32767, -32767, -32767, -32767, -32767, 32767];
/// let view = QuantizedView::new(&levels, &[1.0 / 32767.0; 2], 2, 4)?;
/// let clf = QuantizedClassifier::new(view, 2,
///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let (mut scores, mut scratch) = ([0.0f32; 2], [0.0f32; 2]);
/// assert_eq!(clf.forward(&[29490, 26214], &mut scores, &mut scratch)?, 0);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuantizedClassifier<'a, Q> {
    memories: QuantizedView<'a, Q>,
    classes: usize,
    f: Interaction<f32>,
    form: Form<f32>,
    skip: Option<Skip<'a, Q>>,
}

impl<'a> QuantizedClassifier<'a, i8> {
    /// The same classifier, skipping the query entries equal to
    /// `background` when at most half of them differ from it
    /// ([`crate::simd::skipping`]: the overlaps then cost one
    /// multiply-accumulate per memory and *non-background* pixel). The
    /// results are the same integers, so the same predictions, bit for bit.
    /// Worth it where the dense kernel has no wide SIMD (Cortex-M: images
    /// whose background is `−1`, quantized to `−127`); on x86 the dense AVX2
    /// kernel is faster. `sums` (at least `K` entries) receives each
    /// memory's sum of visible levels, computed here once. Errors: `sums`
    /// too short.
    ///
    /// ```
    /// use dam_core::quantized::{QuantizedClassifier, QuantizedView};
    /// use dam_core::{Form, Interaction};
    /// let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
    /// let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4)?;
    /// let dense = QuantizedClassifier::new(view, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// let mut sums = [0i32; 2];
    /// let skipping = dense.with_background(-127, &mut sums)?;
    /// let (mut a, mut b, mut scratch) = ([0.0f32; 2], [0.0f32; 2], [0.0f32; 2]);
    /// assert_eq!(dense.forward(&[-127, 64], &mut a, &mut scratch)?,
    ///            skipping.forward(&[-127, 64], &mut b, &mut scratch)?);
    /// assert_eq!(a, b);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn with_background(self, background: i8, sums: &'a mut [i32]) -> Result<Self> {
        let (d, k) = (self.memories.d(), self.memories.k());
        check_scratch(Operand::Scratch, k, sums.len())?;
        crate::simd::row_sums_i8(self.memories.levels(), d, self.visible(), sums)?;
        let sums: &'a [i32] = sums;
        Ok(QuantizedClassifier {
            skip: Some(Skip { background, sums }),
            ..self
        })
    }
}

impl<'a, Q: Level> QuantizedClassifier<'a, Q> {
    /// A classifier whose memories end with `classes` label entries
    /// (`1 ≤ classes < D`). Errors: invalid `classes`, `F` or `β`.
    pub fn new(
        memories: QuantizedView<'a, Q>,
        classes: usize,
        f: Interaction<f32>,
        form: Form<f32>,
    ) -> Result<Self> {
        check_classes(memories.d(), classes)?;
        f.validate()?;
        form.validate()?;
        Ok(QuantizedClassifier {
            memories,
            classes,
            f,
            form,
            skip: None,
        })
    }

    /// The number of visible units `Nv`.
    pub fn visible(&self) -> usize {
        // `classes < D` (checked by `new`).
        self.memories.d().saturating_sub(self.classes)
    }

    /// The number of classes `Nc`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The memories.
    pub fn memories(&self) -> QuantizedView<'a, Q> {
        self.memories
    }

    /// The background skipping, if [`QuantizedClassifier::with_background`]
    /// set it up.
    pub(crate) fn skip(&self) -> Option<Skip<'a, Q>> {
        self.skip
    }

    /// The interaction function.
    pub fn interaction(&self) -> Interaction<f32> {
        self.f
    }

    /// The form and `β`.
    pub fn form(&self) -> Form<f32> {
        self.form
    }

    /// The shape checks of a forward pass; returns `(Nv, K)`.
    pub(super) fn check_forward<S, R>(
        &self,
        v: &[Q],
        scores: &[S],
        scratch: &[R],
    ) -> Result<(usize, usize)> {
        let nv = self.visible();
        let k = self.memories.k();
        check_len(Operand::Query, nv, v.len())?;
        check_len(Operand::Output, self.classes, scores.len())?;
        check_scratch(Operand::Scratch, k, scratch.len())?;
        Ok((nv, k))
    }

    /// Writes the class scores `c_α ∈ [−1, 1]` into `scores` (length `Nc`)
    /// and returns the predicted class, as [`crate::Classifier::forward`].
    /// `v` is the query quantized by [`super::quantize_query`] (length
    /// `Nv`); `scratch` needs at least `K` entries.
    ///
    /// Errors: shape mismatches, and (raw form) [`crate::Error::Overflow`].
    pub fn forward(&self, v: &[Q], scores: &mut [f32], scratch: &mut [f32]) -> Result<usize> {
        let (nv, k) = self.check_forward(v, scores, scratch)?;
        let base = scratch.get_mut(..k).unwrap_or(&mut []);
        let unit = 1.0 / Q::MAX_LEVEL as f32;
        let scales = self.memories.scales();
        integer_overlaps(&self.memories, nv, v, self.skip, |mu, t| {
            if let (Some(m), Some(&s)) = (base.get_mut(mu), scales.get(mu)) {
                *m = s * unit * t as f32;
            }
        })?;
        if let (Form::Normalized { .. }, Some((rectified, n))) = (self.form, self.f.homogeneous())
            && scores.len() <= POWER_CLASSES
        {
            return match pow_unrolled(n) {
                // The degree of the trained models (`dam train`'s default,
                // the boards' model): its power inlined into the loop.
                Some(_) if n == 20 => {
                    self.power_scores(pow_const::<20>, rectified, n, nv, base, scores)
                }
                Some(pow) => self.power_scores(pow, rectified, n, nv, base, scores),
                None => self.power_scores(|x| Real::powi(x, n), rectified, n, nv, base, scores),
            };
        }
        let memories = self.memories;
        let scorer = ClassScorer {
            f: &self.f,
            form: self.form,
            d: memories.d(),
            label_rows: |first: usize, len: usize| {
                memories
                    .rows()
                    .zip(memories.scales())
                    .map(move |(row, &s)| {
                        let labels = nv.checked_add(first).and_then(|start| row.get(start..));
                        let labels = labels.unwrap_or(&[]);
                        labels
                            .get(..len)
                            .unwrap_or(&[])
                            .iter()
                            .map(move |q| s * q.to_f32())
                    })
            },
        };
        scorer.score(base, scores)
    }

    /// The scores of the normalized form for `F(x) = xⁿ` or `max(x, 0)ⁿ`
    /// (`pow(x) = xⁿ`), from the overlaps `base`: per class
    /// `P_α = Σ_μ F(c(m_μ + 2ξ^μ_α))`, the predicted class is the first
    /// `argmax P_α`, and the score is `tanh(P_α − Σ_μ F(c m_μ))`.
    ///
    /// All arguments are scaled by one power of two `2^−e` chosen from a
    /// bound per memory, `|c m_μ| + 2c s_μ·128 ≥ |c(m_μ + 2ξ^μ_α)|`, so every
    /// power is at most 1 (no overflow; the bound is within a small factor
    /// of the largest argument, so the largest powers do not underflow);
    /// scaling by `2^−e` is exact. A rectified argument `≤ 0` costs no
    /// power. This is the form the trained models use, cheaper than the
    /// general scorer (one bound per memory instead of per class, no
    /// per-term difference); the difference `Σ F(a) − Σ F(b)` is taken once
    /// per class, after the `argmax`, so it cannot change the prediction.
    fn power_scores(
        &self,
        pow: impl Fn(f32) -> f32,
        rectified: bool,
        n: u32,
        nv: usize,
        base: &[f32],
        scores: &mut [f32],
    ) -> Result<usize> {
        let memories = self.memories;
        let c = self.form.arg_scale(memories.d());
        let label_max = (Q::MAX_LEVEL + 1) as f32;
        let mut big = 0.0f32;
        for (&m, &s) in base.iter().zip(memories.scales()) {
            big = big.max((c * m).abs() + 2.0 * c * s * label_max);
        }
        if !big.is_finite() {
            return Err(Error::Overflow {
                quantity: Quantity::Score,
                ln_magnitude: f64::from(Real::ln(f32::MAX)),
            });
        }
        let e = if big > 0.0 { big.frexp().1 } else { 0 };
        let e = e.max(f32::MIN_SAFE_EXP);
        let scaled = c * 1.0f32.ldexp(-e);
        let f = |x: f32| {
            if rectified && x <= 0.0 { 0.0 } else { pow(x) }
        };
        let mut sums = [0.0f32; POWER_CLASSES];
        let mut own = 0.0f32;
        for ((row, &m), &s) in memories.rows().zip(base).zip(memories.scales()) {
            let a = scaled * m;
            let step = 2.0 * scaled * s;
            own += f(a);
            let labels = row.get(nv..).unwrap_or(&[]);
            for (sum, q) in sums.iter_mut().zip(labels) {
                *sum += f(a + step * q.to_f32());
            }
        }
        let mut best: Option<(usize, f32)> = None;
        let exponent = (n as i32).saturating_mul(e);
        for (alpha, (score, &p)) in crate::indexed(scores.iter_mut().zip(sums.iter())) {
            *score = Wide::from_parts(p - own, exponent).tanh();
            if best.is_none_or(|(_, b)| p > b) {
                best = Some((alpha, p));
            }
        }
        Ok(best.map_or(0, |(a, _)| a))
    }
}

/// The most classes [`QuantizedClassifier::forward`] scores with its fast
/// power path (more go through the general scorer).
const POWER_CLASSES: usize = 16;

/// `xⁿ` by the square-and-multiply of [`Real::powi`] (the same operations
/// in the same order, so the same bits) for `N < 64`, written out in six
/// steps so that with `N` known at compile time only its multiplications
/// remain, whatever the optimizer's loop unrolling (`opt-level = "s"`
/// firmware does not unroll `Real::powi`'s loop).
#[inline(always)]
fn pow_const<const N: u32>(x: f32) -> f32 {
    if N >= 64 {
        return Real::powi(x, N);
    }
    let (mut acc, mut base, mut e) = (1.0f32, x, N);
    macro_rules! step {
        () => {
            if e & 1 == 1 {
                acc *= base;
            }
            e >>= 1;
            if e > 0 {
                base *= base;
            }
        };
    }
    step!();
    step!();
    step!();
    step!();
    step!();
    if e & 1 == 1 {
        acc *= base;
    }
    acc
}

/// [`pow_const`] for a degree known only at run time, for `1 ≤ n ≤ 40`
/// (chosen once per forward pass; others use [`Real::powi`]).
fn pow_unrolled(n: u32) -> Option<fn(f32) -> f32> {
    macro_rules! table {
        ($($n:literal)*) => {
            match n {
                $($n => Some(pow_const::<$n> as fn(f32) -> f32),)*
                _ => None,
            }
        };
    }
    table!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
        21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unrolled powers are bit-identical to `Real::powi` (the host and
    /// the boards must agree with the general path's arithmetic).
    #[test]
    fn unrolled_powers_are_powi_bit_for_bit() {
        for n in 0..50u32 {
            match pow_unrolled(n) {
                Some(pow) => {
                    assert!((1..=40).contains(&n), "n = {n}");
                    for x in [0.0f32, 1.0, -0.7, 0.999_9, 1.3, -1.000_1, 3.7e-3, 2.5] {
                        assert_eq!(pow(x).to_bits(), Real::powi(x, n).to_bits(), "{x}^{n}");
                    }
                }
                None => assert!(n == 0 || n > 40, "n = {n}"),
            }
        }
    }
}
