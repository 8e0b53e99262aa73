//! The one-step classifier of \[KH16\] (SPEC §4), raw and normalized.
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
use crate::interaction::{Form, Interaction, InteractionSum};
use crate::memory::MemoryView;
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
        self.memories.d() - self.classes
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
    /// Errors: shape mismatches, non-finite `v`, and (raw form)
    /// [`Error::Overflow`] where the paper's evaluation overflows.
    pub fn forward(&self, v: &[T], scores: &mut [T], scratch: &mut [T]) -> Result<usize> {
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
            *m = simd::dot(vis, v) - label_sum;
        }
        let memories = self.memories;
        score_overlaps(&self.f, self.form, memories.d(), base, scores, |alpha| {
            memories.column(nv + alpha)
        })
    }
}

/// The class scores from the overlaps `base[μ] = ξ^μ·u` and the label
/// entries (`labels(α)` yields `ξ^μ_{Nv+α}` for every `μ`): the part of
/// [`Classifier::forward`] after the dot products, shared with the
/// quantized classifiers (`d` is `D = Nv + Nc`). Returns the predicted class.
pub(crate) fn score_overlaps<T: Real, C: Iterator<Item = T> + Clone>(
    f: &Interaction<T>,
    form: Form<T>,
    d: usize,
    base: &[T],
    scores: &mut [T],
    labels: impl Fn(usize) -> C,
) -> Result<usize> {
    if base.iter().any(|m| !m.is_finite()) {
        return Err(Error::Overflow {
            quantity: Quantity::Score,
            ln_magnitude: T::MAX.ln().to_f64(),
        });
    }
    match form {
        Form::Raw { beta } => scores_raw(f, beta, base, scores, labels),
        Form::Normalized { .. } => scores_normalized(f, form.arg_scale(d), base, scores, labels),
    }
}

fn scores_raw<T: Real, C: Iterator<Item = T> + Clone>(
    f: &Interaction<T>,
    beta: T,
    base: &[T],
    scores: &mut [T],
    labels: impl Fn(usize) -> C,
) -> Result<usize> {
    let mut best: Option<(usize, T)> = None;
    for (alpha, c) in scores.iter_mut().enumerate() {
        let column = labels(alpha);
        let mut sum = T::ZERO;
        for (&m, x) in base.iter().zip(column.clone()) {
            sum += f.eval(m + T::TWO * x) - f.eval(m);
        }
        let s = beta * sum;
        if !s.is_finite() {
            let mut acc = InteractionSum::new(f);
            for (&m, x) in base.iter().zip(column) {
                acc.add_diff(m + T::TWO * x, m);
            }
            return Err(Error::Overflow {
                quantity: Quantity::Score,
                ln_magnitude: (acc.finish()? * Wide::from_real(beta)).ln().to_f64(),
            });
        }
        *c = s.tanh();
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((alpha, s));
        }
    }
    Ok(best.map_or(0, |(a, _)| a))
}

fn scores_normalized<T: Real, C: Iterator<Item = T>>(
    f: &Interaction<T>,
    c: T,
    base: &[T],
    scores: &mut [T],
    labels: impl Fn(usize) -> C,
) -> Result<usize> {
    let mut best: Option<(usize, Wide<T>)> = None;
    for (alpha, score) in scores.iter_mut().enumerate() {
        let mut acc = InteractionSum::new(f);
        for (&m, x) in base.iter().zip(labels(alpha)) {
            acc.add_diff(c * (m + T::TWO * x), c * m);
        }
        let s = acc.finish().map_err(|_| Error::Overflow {
            quantity: Quantity::Score,
            ln_magnitude: T::LN_MAX.to_f64(),
        })?;
        *score = s.tanh();
        if best.is_none_or(|(_, b)| s.compare(&b) == Ordering::Greater) {
            best = Some((alpha, s));
        }
    }
    Ok(best.map_or(0, |(a, _)| a))
}
