//! The one-step classifier of \[KH16\] (math.md §4), raw and normalized.
//!
//! A memory holds `Nv` visible and `Nc` label entries. For input `v` let `u`
//! be `v` followed by `Nc` entries `−1`, and `w_α` the same with label `α`
//! set to `+1`. Then `c_α = tanh(β Σ_μ F(ξ^μ·w_α) − F(ξ^μ·u))` (raw) or
//! `tanh(Σ_μ F(β ξ^μ·w_α/D) − F(β ξ^μ·u/D))` (normalized \[McA\]).
//!
//! Cost `O(K·D + K·Nc)`: one dot product per memory gives `ξ^μ·u`, and
//! `ξ^μ·w_α = ξ^μ·u + 2 ξ^μ_{Nv+α}`.

use crate::error::{
    Error, Operand, Param, Quantity, Result, check_finite, check_len, check_scratch,
};
use crate::interaction::{self, Form, Interaction, InteractionSum};
use crate::memory::MemoryView;
use crate::model::{Element, Model};
use crate::real::Real;
use crate::simd;
use crate::wide::Wide;
use core::cmp::Ordering;

/// A one-step classifier over `K` memories of `Nv + Nc` entries.
///
/// ```
/// use dam_core::{Classifier, Form, Interaction, MemoryView};
/// // Two memories over 2 pixels + 2 labels: "bright → class 0", "dark → class 1".
/// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
/// let clf = Classifier::new(
///     MemoryView::new(&xi, 2, 4)?, 2,
///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let mut scores = [0.0f32; 2];
/// let mut scratch = [0.0f32; 2];
/// assert_eq!(clf.forward(&[0.9, 0.8], &mut scores, &mut scratch)?, 0);
/// assert_eq!(clf.forward(&[-0.7, -0.9], &mut scores, &mut scratch)?, 1);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Classifier<'a, T> {
    memories: MemoryView<'a, T>,
    classes: usize,
    f: Interaction<T>,
    form: Form<T>,
}

impl<'a, T: Real> Classifier<'a, T> {
    /// A classifier whose memories end with `classes` label entries
    /// (`1 ≤ classes < D`). Errors: invalid `classes`, `F` or `β`.
    pub fn new(
        memories: MemoryView<'a, T>,
        classes: usize,
        f: Interaction<T>,
        form: Form<T>,
    ) -> Result<Self> {
        if classes == 0 || classes >= memories.d() {
            return Err(Error::InvalidParameter {
                param: Param::Classes,
                value: classes as f64,
            });
        }
        f.validate()?;
        form.validate()?;
        Ok(Classifier {
            memories,
            classes,
            f,
            form,
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
    pub fn memories(&self) -> MemoryView<'a, T> {
        self.memories
    }

    /// The interaction function.
    pub fn interaction(&self) -> Interaction<T> {
        self.f
    }

    /// The form and `β`.
    pub fn form(&self) -> Form<T> {
        self.form
    }

    /// Writes the class scores `c_α ∈ [−1, 1]` into `scores` (length `Nc`)
    /// and returns the predicted class. `v` has length `Nv`; `scratch`
    /// needs at least `K` entries.
    ///
    /// The prediction is the `argmax` of the sums inside `tanh`, compared
    /// exactly (normalized form), so it stays right where several `c_α`
    /// round to `1.0`; ties go to the lowest class.
    ///
    /// Errors: shape mismatches, non-finite `v`, and [`Error::Overflow`]
    /// where an overlap `ξ·v` leaves the float range (memories near
    /// `T::MAX`, either form) or the paper's evaluation overflows (raw form).
    pub fn forward(&self, v: &[T], scores: &mut [T], scratch: &mut [T]) -> Result<usize> {
        self.forward_with(simd::dot, v, scores, scratch)
    }

    /// [`Classifier::forward`] with the dot product `ξ^μ_vis·v` computed by
    /// `dot` instead of the fastest kernel of this target; everything else
    /// is the same code.
    ///
    /// Floating-point sums in another order round differently, and a
    /// rounding difference can flip a close `argmax`. This lets a host
    /// predict bit for bit what a board computes, by passing a function
    /// that sums in the board's order (as `dam predict` does for the
    /// Cortex-M4F), or pin the order on every target.
    ///
    /// ```
    /// use dam_core::{Classifier, Form, Interaction, MemoryView, simd};
    /// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    /// let clf = Classifier::new(
    ///     MemoryView::new(&xi, 2, 4)?, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// let (mut scores, mut scratch) = ([0.0f32; 2], [0.0f32; 2]);
    /// let in_order = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y);
    /// assert_eq!(clf.forward_with(in_order, &[-0.7, -0.9], &mut scores, &mut scratch)?, 1);
    /// assert_eq!(clf.forward_with(simd::scalar::dot, &[0.9, 0.8], &mut scores, &mut scratch)?, 0);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn forward_with(
        &self,
        dot: impl Fn(&[T], &[T]) -> T,
        v: &[T],
        scores: &mut [T],
        scratch: &mut [T],
    ) -> Result<usize> {
        let nv = self.visible();
        let k = self.memories.k();
        check_len(Operand::Query, nv, v.len())?;
        check_finite(Operand::Query, v)?;
        check_len(Operand::Output, self.classes, scores.len())?;
        check_scratch(Operand::Scratch, k, scratch.len())?;
        let base = scratch.get_mut(..k).unwrap_or(&mut []);

        // ξ·u: the visible overlap minus every label entry.
        for (m, row) in base.iter_mut().zip(self.memories.rows()) {
            let (vis, labels) = row.split_at(nv.min(row.len()));
            let label_sum = labels.iter().fold(T::ZERO, |s, &x| s + x);
            *m = dot(vis, v) - label_sum;
        }
        self.forward_from_overlaps(base, scores)
    }

    /// [`Classifier::forward`] from precomputed overlaps `ξ^μ·u` (`K` of
    /// them; `u` is the input followed by `Nc` entries `−1`): for batches,
    /// where one matrix product (e.g. [`crate::simd::gemm_nt_fused`]) gives
    /// the overlaps of many inputs at once.
    ///
    /// ```
    /// use dam_core::{Classifier, Form, Interaction, MemoryView};
    /// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    /// let clf = Classifier::new(
    ///     MemoryView::new(&xi, 2, 4)?, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// let u = [0.9f32, 0.8, -1.0, -1.0];
    /// let overlaps: Vec<f32> = xi.chunks(4).map(|r| r.iter().zip(&u).map(|(a, b)| a * b).sum()).collect();
    /// let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
    /// assert_eq!(clf.forward_from_overlaps(&overlaps, &mut a)?, 0);
    /// assert_eq!(clf.forward(&[0.9, 0.8], &mut b, &mut [0.0; 2])?, 0);
    /// assert_eq!(a, b);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    ///
    /// Errors: shape mismatches and those of [`Classifier::forward`].
    pub fn forward_from_overlaps(&self, overlaps: &[T], scores: &mut [T]) -> Result<usize> {
        check_len(Operand::Query, self.memories.k(), overlaps.len())?;
        check_len(Operand::Output, self.classes, scores.len())?;
        let (memories, nv) = (self.memories, self.visible());
        let scorer = ClassScorer {
            f: &self.f,
            form: self.form,
            d: memories.d(),
            label_rows: |first: usize, len: usize| {
                memories.rows().map(move |row| {
                    let labels = nv.checked_add(first).and_then(|start| row.get(start..));
                    let labels = labels.unwrap_or(&[]);
                    labels.get(..len).unwrap_or(&[]).iter().copied()
                })
            },
        };
        scorer.score(overlaps, scores)
    }
}

/// The class scores from the overlaps `m_μ = ξ^μ·u`: the part of the
/// forward pass after the dot products, shared by every classifier whose
/// memories can hand out a row's label entries as `T` (float memories here,
/// quantized ones elsewhere).
///
/// `label_rows(first, len)` yields, for every memory in order, its label
/// entries `ξ^μ_{Nv+α}` for the classes `first..first + len`.
pub(crate) struct ClassScorer<'f, T, L> {
    /// `F`.
    pub f: &'f Interaction<T>,
    /// Raw or normalized, and `β`.
    pub form: Form<T>,
    /// `D = Nv + Nc` (the normalization).
    pub d: usize,
    /// The label entries, row by row.
    pub label_rows: L,
}

impl<T, L, R, I> ClassScorer<'_, T, L>
where
    T: Real,
    L: Fn(usize, usize) -> R,
    R: Iterator<Item = I>,
    I: Iterator<Item = T>,
{
    /// Writes `c_α` for every class (`scores.len()` of them) and returns the
    /// predicted class (see [`Classifier::forward`]).
    pub fn score(&self, base: &[T], scores: &mut [T]) -> Result<usize> {
        if base.iter().any(|m| !m.is_finite()) {
            return Err(Error::Overflow {
                quantity: Quantity::Score,
                ln_magnitude: T::MAX.ln().to_f64(),
            });
        }
        match self.form {
            Form::Raw { beta } => self.raw(beta, base, scores),
            Form::Normalized { .. } => self.normalized(base, scores),
        }
    }

    fn raw(&self, beta: T, base: &[T], scores: &mut [T]) -> Result<usize> {
        let mut best: Option<(usize, T)> = None;
        // Class indices, handed out in order: no index arithmetic.
        let mut alphas = 0..scores.len();
        for group in scores.chunks_mut(CLASS_GROUP) {
            let (first, len) = (alphas.start, group.len());
            let sums = match self.f.homogeneous() {
                Some((rectified, n)) => self.power_sums(rectified, n, T::ONE, base, first, len),
                None => self.literal_sums(base, first, len),
            };
            for ((c, &sum), alpha) in group.iter_mut().zip(sums.iter()).zip(&mut alphas) {
                let s = beta * sum;
                if !s.is_finite() {
                    let mut acc = InteractionSum::new(self.f);
                    for (&m, mut x) in base.iter().zip((self.label_rows)(alpha, 1)) {
                        let x = x.next().unwrap_or(T::ZERO);
                        acc.add_diff(m + T::TWO * x, m);
                    }
                    return Err(Error::Overflow {
                        quantity: Quantity::Score,
                        ln_magnitude: (acc.ln_overflow()? + beta.ln()).to_f64(),
                    });
                }
                *c = s.tanh();
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((alpha, s));
                }
            }
        }
        Ok(best.map_or(0, |(a, _)| a))
    }

    fn normalized(&self, base: &[T], scores: &mut [T]) -> Result<usize> {
        let c = self.form.arg_scale(self.d);
        let mut best: Option<(usize, Wide<T>)> = None;
        let mut alphas = 0..scores.len();
        for group in scores.chunks_mut(CLASS_GROUP) {
            let (first, len) = (alphas.start, group.len());
            let sums = match self.f.homogeneous() {
                Some((rectified, n)) => {
                    // One power-of-two scale for the group keeps every power
                    // in range; scaling is exact, so the bits are those of
                    // the literal sum (as with `InteractionSum`).
                    let e = self.group_exponent(c, base, first, len)?;
                    let sums =
                        self.power_sums(rectified, n, c * T::ONE.ldexp(-e), base, first, len);
                    sums.map(|s| Wide::from_parts(s, (n as i32).saturating_mul(e)))
                }
                None => self.overflow_free_sums(c, base, first, len)?,
            };
            for ((score, s), alpha) in group.iter_mut().zip(sums).zip(&mut alphas) {
                *score = s.tanh();
                if best.is_none_or(|(_, b)| s.compare(&b) == Ordering::Greater) {
                    best = Some((alpha, s));
                }
            }
        }
        Ok(best.map_or(0, |(a, _)| a))
    }

    /// `Σ_μ F(c(m_μ + 2ξ^μ_α)) − F(c·m_μ)` for the `len ≤ CLASS_GROUP` classes
    /// from `first`, `F` homogeneous of degree `n`, summed in memory order
    /// with one rounding per pair, as `s += F(a) − F(b)`. `F(c·m_μ)`, shared
    /// by all classes, is computed once per row.
    fn power_sums(
        &self,
        rectified: bool,
        n: u32,
        c: T,
        base: &[T],
        first: usize,
        len: usize,
    ) -> [T; CLASS_GROUP] {
        self.power_sums_by(BLOCK_POWERS, rectified, n, c, base, first, len)
    }

    /// [`Self::power_sums`], with the powers of a row's classes computed as
    /// one array (`block`: vectorizes) or one at a time (no vector unit:
    /// no array traffic). Both use [`Real::powi`]'s multiplications: same
    /// bits.
    #[allow(clippy::too_many_arguments)]
    fn power_sums_by(
        &self,
        block: bool,
        rectified: bool,
        n: u32,
        c: T,
        base: &[T],
        first: usize,
        len: usize,
    ) -> [T; CLASS_GROUP] {
        let rectify = |v: T| if rectified && v < T::ZERO { T::ZERO } else { v };
        let mut sums = [T::ZERO; CLASS_GROUP];
        for (&m, labels) in base.iter().zip((self.label_rows)(first, len)) {
            let fb = rectify(c * m).powi(n);
            if block {
                let mut fa = [T::ZERO; CLASS_GROUP];
                for (a, x) in fa.iter_mut().zip(labels) {
                    *a = rectify(c * (m + T::TWO * x));
                }
                interaction::pow_in_place(&mut fa, n);
                for (s, &a) in sums.iter_mut().zip(fa.iter()).take(len) {
                    *s += a - fb;
                }
            } else {
                for (s, x) in sums.iter_mut().zip(labels) {
                    *s += rectify(c * (m + T::TWO * x)).powi(n) - fb;
                }
            }
        }
        sums
    }

    /// [`Self::power_sums`] for any `F`, in plain float arithmetic (raw form:
    /// may overflow, which the caller reports).
    fn literal_sums(&self, base: &[T], first: usize, len: usize) -> [T; CLASS_GROUP] {
        let mut sums = [T::ZERO; CLASS_GROUP];
        for (&m, labels) in base.iter().zip((self.label_rows)(first, len)) {
            let fb = self.f.eval(m);
            for (s, x) in sums.iter_mut().zip(labels) {
                *s += self.f.eval(m + T::TWO * x) - fb;
            }
        }
        sums
    }

    /// [`Self::power_sums`] for any `F`, overflow-free ([`InteractionSum`]).
    fn overflow_free_sums(
        &self,
        c: T,
        base: &[T],
        first: usize,
        len: usize,
    ) -> Result<[Wide<T>; CLASS_GROUP]> {
        let mut accs = [InteractionSum::new(self.f); CLASS_GROUP];
        for (&m, labels) in base.iter().zip((self.label_rows)(first, len)) {
            for (acc, x) in accs.iter_mut().zip(labels) {
                acc.add_diff(c * (m + T::TWO * x), c * m);
            }
        }
        let mut sums = [Wide::ZERO; CLASS_GROUP];
        for (s, acc) in sums.iter_mut().zip(accs.iter()).take(len) {
            *s = acc.finish().map_err(|_| score_overflow::<T>())?;
        }
        Ok(sums)
    }

    /// The exponent `e` with every `|c·m_μ|`, `|c(m_μ + 2ξ^μ_α)|` of the group
    /// below `2^e` (at least the smallest safe exponent).
    fn group_exponent(&self, c: T, base: &[T], first: usize, len: usize) -> Result<i32> {
        let mut big = T::ZERO;
        for (&m, labels) in base.iter().zip((self.label_rows)(first, len)) {
            big = big.max((c * m).abs());
            for x in labels {
                big = big.max((c * (m + T::TWO * x)).abs());
            }
        }
        if !big.is_finite() {
            return Err(score_overflow::<T>());
        }
        let e = if big > T::ZERO { big.frexp().1 } else { 0 };
        Ok(e.max(T::MIN_SAFE_EXP))
    }
}

/// Whether [`ClassScorer::power_sums`] computes a row's powers as one array:
/// where there is a vector unit to run it.
const BLOCK_POWERS: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// Classes scored per pass over the memories. A row's label entries are
/// contiguous, so scoring a group of classes together reads each row once
/// instead of walking one strided column per class.
const CLASS_GROUP: usize = 16;

/// The normalized score does not fit even a [`Wide`] number (an argument was
/// itself infinite).
fn score_overflow<T: Real>() -> Error {
    Error::Overflow {
        quantity: Quantity::Score,
        ln_magnitude: T::LN_MAX.to_f64(),
    }
}

/// Built from a model file: the model format sits below the algorithms
/// (docs/architecture.md), each algorithm builds itself from a [`Model`].
impl<'a> Model<'a> {
    /// The classifier this model stores. Errors: not a
    /// [`Kind::Classifier`](crate::model::Kind::Classifier), or those of
    /// [`Model::memories`].
    pub fn classifier<T: Element>(&self) -> Result<Classifier<'a, T>> {
        self.expect_classifier()?;
        Classifier::new(
            self.memories()?,
            self.header().nc as usize,
            self.interaction(),
            self.form(),
        )
    }
}

/// [`Model::classifier`].
impl<'a, T: Element> TryFrom<&Model<'a>> for Classifier<'a, T> {
    type Error = Error;
    fn try_from(model: &Model<'a>) -> Result<Self> {
        model.classifier()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The array and the one-at-a-time power loops give the same bits, so
    /// a board (one at a time) predicts exactly what the host (array) does.
    #[test]
    fn block_and_scalar_powers_agree_bitwise() {
        const K: usize = 23;
        let (nv, nc) = (7, 20);
        let xi: [f32; K * 27] = core::array::from_fn(|i| ((i * 7919) % 200) as f32 / 100.0 - 1.0);
        let view = MemoryView::new(&xi, K, nv + nc).unwrap();
        let base: [f32; K] = core::array::from_fn(|i| (i as f32 * 0.37).sin() * 9.0);
        for (rectified, n) in [(true, 20), (false, 3), (true, 1)] {
            let f = if rectified {
                Interaction::RectifiedPolynomial { n }
            } else {
                Interaction::Polynomial { n }
            };
            let scorer = ClassScorer {
                f: &f,
                form: Form::Normalized { beta: 2.0 },
                d: nv + nc,
                label_rows: |first: usize, len: usize| {
                    view.rows()
                        .map(move |row| row[nv + first..nv + first + len].iter().copied())
                },
            };
            for (first, len) in [(0, CLASS_GROUP), (CLASS_GROUP, nc - CLASS_GROUP)] {
                let a = scorer.power_sums_by(true, rectified, n, 0.25, &base, first, len);
                let b = scorer.power_sums_by(false, rectified, n, 0.25, &base, first, len);
                assert_eq!(
                    a.map(f32::to_bits),
                    b.map(f32::to_bits),
                    "n = {n}, class {first}"
                );
                assert!(a.iter().take(len).any(|&s| s != 0.0));
            }
        }
    }
}
