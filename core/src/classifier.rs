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
        let scorer: ClassScorer<'_, T, _, false> = ClassScorer {
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
            label_bound: None,
        };
        scorer.score(overlaps, scores)
    }

    /// The factor `c` every overlap is multiplied by before `F` in
    /// [`Classifier::block_sums`] (and so the chain rule's factor of a
    /// gradient): `β/D` (normalized); raw form `β^{1/n}` for a homogeneous
    /// `F` (`β F(x) = F(β^{1/n} x)`), else `1`.
    ///
    /// ```
    /// use dam_core::{Classifier, Form, Interaction, MemoryView};
    /// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    /// let clf = Classifier::new(MemoryView::new(&xi, 2, 4)?, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 2.0 })?;
    /// assert_eq!(clf.arg_scale(), 0.5);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn arg_scale(&self) -> T {
        match (self.form, self.f.homogeneous()) {
            (Form::Raw { beta }, Some((_, n))) => {
                (beta.ln() / T::from_usize(n.max(1) as usize)).exp()
            }
            (Form::Raw { .. }, None) => T::ONE,
            (form, _) => form.arg_scale(self.memories.d()),
        }
    }

    /// Scratch elements [`Classifier::block_sums`] needs for `batch` inputs.
    pub const fn block_scratch_len(batch: usize) -> usize {
        batch.saturating_mul(2)
    }

    /// The forward pass for a block of `B = batch` inputs at once, as a
    /// trainer needs it: from their overlaps `m_μb = ξ^μ·u_b` (`K × B`,
    /// memory-major: `overlaps[μ·B + b]`, e.g. from
    /// [`crate::simd::gemm_nt`] with each input followed by `Nc` entries
    /// `−1`), the sums inside `tanh`,
    /// `s_αb = Σ_μ F(c(m_μb + 2ξ^μ_α)) − F(c·m_μb)` into `sums` (`Nc × B`,
    /// class-major: `sums[α·B + b]`); `c_αb = tanh(s_αb)` are the scores.
    ///
    /// `c` is the form's argument scale: `β/D` (normalized); raw form
    /// `β^{1/n}` for a homogeneous `F` (`β F(x) = F(β^{1/n} x)`), else `1`
    /// with the sum multiplied by `β`. With `derivatives`, also `F′` at
    /// every argument `h` of `F` (the chain rule's `c` is the caller's).
    ///
    /// The same kernel as [`Classifier::forward`]'s scoring (one float
    /// implementation of \[KH16\]), vectorized across the block, in plain
    /// float arithmetic: no power-of-two rescaling, so large arguments can
    /// overflow, reported as [`Error::Overflow`]. `scratch` needs
    /// [`Classifier::block_scratch_len`] entries.
    ///
    /// ```
    /// use dam_core::{Classifier, Form, Interaction, MemoryView, simd};
    /// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    /// let clf = Classifier::new(
    ///     MemoryView::new(&xi, 2, 4)?, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// // Two inputs, each followed by the −1 label entries.
    /// let u = [0.9f32, 0.8, -1.0, -1.0, -0.7, -0.9, -1.0, -1.0];
    /// let mut overlaps = [0.0f32; 4];
    /// simd::gemm_nt(&xi, &u, 4, &mut overlaps);
    /// let (mut sums, mut scratch) = ([0.0f32; 4], [0.0f32; 6]);
    /// clf.block_sums(&overlaps, 2, &mut sums, None, &mut scratch)?;
    /// // Class 0 wins the first input, class 1 the second, as `forward` says.
    /// assert!(sums[0] > sums[2] && sums[3] > sums[1]);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    ///
    /// Errors: shape mismatches (`overlaps` not `K·B`, `sums` not `Nc·B`,
    /// derivatives not `K·Nc·B` and `K·B`), short scratch, non-finite
    /// overlaps or sums.
    pub fn block_sums(
        &self,
        overlaps: &[T],
        batch: usize,
        sums: &mut [T],
        derivatives: Option<Derivatives<'_, T>>,
        scratch: &mut [T],
    ) -> Result<()> {
        let (k, nc, nv) = (self.memories.k(), self.classes, self.visible());
        let len = |a: usize, b: usize| {
            a.checked_mul(b).ok_or(Error::InvalidParameter {
                param: Param::Dimension,
                value: a as f64 * b as f64,
            })
        };
        check_len(Operand::Query, len(k, batch)?, overlaps.len())?;
        check_len(Operand::Output, len(nc, batch)?, sums.len())?;
        check_scratch(
            Operand::Scratch,
            Self::block_scratch_len(batch),
            scratch.len(),
        )?;
        if let Some(d) = &derivatives {
            check_len(Operand::Output, len(len(k, nc)?, batch)?, d.labelled.len())?;
            check_len(Operand::Output, len(k, batch)?, d.unlabelled.len())?;
        }
        if overlaps.iter().any(|m| !m.is_finite()) {
            return Err(score_overflow::<T>());
        }
        let c = self.arg_scale();
        let outer = match (self.form, self.f.homogeneous()) {
            (Form::Raw { beta }, None) => beta,
            _ => T::ONE,
        };
        sums.iter_mut().for_each(|s| *s = T::ZERO);
        let memories = self.memories;
        let rows = memories
            .rows()
            .map(|row| row.get(nv..).unwrap_or(&[]).iter().copied());
        crate::simd::vectorized(Block {
            f: &self.f,
            c,
            base: overlaps,
            lanes: batch,
            rows,
            sums: &mut *sums,
            derivatives,
            scratch,
        });
        if outer != T::ONE {
            sums.iter_mut().for_each(|s| *s = outer * *s);
        }
        if sums.iter().any(|s| !s.is_finite()) {
            return Err(score_overflow::<T>());
        }
        Ok(())
    }
}

/// Where [`Classifier::block_sums`] also writes `F′` (for training).
#[derive(Debug)]
pub struct Derivatives<'s, T> {
    /// `F′(c(m_μb + 2ξ^μ_α))` at `(μ·Nc + α)·B + b` (`K × Nc × B`).
    pub labelled: &'s mut [T],
    /// `F′(c·m_μb)` at `μ·B + b` (`K × B`).
    pub unlabelled: &'s mut [T],
}

/// The class scores from the overlaps `m_μ = ξ^μ·u`: the part of the
/// forward pass after the dot products, shared by every classifier whose
/// memories can hand out a row's label entries as `T` (float memories here,
/// quantized ones elsewhere).
///
/// `label_rows(first, len)` yields, for every memory in order, its label
/// entries `ξ^μ_{Nv+α}` for the classes `first..first + len`, or, with
/// `DOUBLED`, the doubled entries `2ξ^μ_{Nv+α}` (exact, so the same bits
/// as doubling them here: a memory's table made once saves the work per
/// call).
pub(crate) struct ClassScorer<'f, T, L, const DOUBLED: bool = false> {
    /// `F`.
    pub f: &'f Interaction<T>,
    /// Raw or normalized, and `β`.
    pub form: Form<T>,
    /// `D = Nv + Nc` (the normalization).
    pub d: usize,
    /// The label entries, row by row.
    pub label_rows: L,
    /// A bound known without reading the labels: `|ξ^μ_α| ≤ scales[μ]·unit`
    /// (quantized memories), which spares the normalized form a pass over
    /// every label to choose its scale; `None`: read them.
    pub label_bound: Option<(&'f [T], T)>,
}

impl<T, L, R, I, const DOUBLED: bool> ClassScorer<'_, T, L, DOUBLED>
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
            let sums = self.pair_sums(T::ONE, base, first, len);
            for ((c, &sum), alpha) in group.iter_mut().zip(sums.iter()).zip(&mut alphas) {
                let s = beta * sum;
                if !s.is_finite() {
                    let mut acc = InteractionSum::new(self.f);
                    for (&m, mut x) in base.iter().zip((self.label_rows)(alpha, 1)) {
                        let x = x.next().unwrap_or(T::ZERO);
                        acc.add_diff(m + twice::<T, DOUBLED>(x), m);
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
                Some((_, n)) => {
                    // One power-of-two scale for the group keeps every power
                    // in range; scaling is exact, so the bits are those of
                    // the literal sum (as with `InteractionSum`).
                    let e = self.group_exponent(c, base, first, len)?;
                    let sums = self.pair_sums(c * T::ONE.ldexp(-e), base, first, len);
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
    /// from `first`, summed in memory order with one rounding per pair, as
    /// `s += F(a) − F(b)`: [`accumulate`] with one lane, the kernel of
    /// [`Classifier::block_sums`] too. `F` homogeneous (powers) or, with
    /// `c = 1` in the raw form, any `F` evaluated literally (may overflow,
    /// which the caller reports).
    fn pair_sums(&self, c: T, base: &[T], first: usize, len: usize) -> [T; CLASS_GROUP] {
        let mut sums = [T::ZERO; CLASS_GROUP];
        let rows = (self.label_rows)(first, len);
        let sums_of_group = sums.get_mut(..len).unwrap_or(&mut []);
        accumulate::<T, _, _, DOUBLED>(
            self.f,
            c,
            base,
            1,
            rows,
            sums_of_group,
            None,
            &mut [T::ZERO; 2],
            self.label_bound,
        );
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
                acc.add_diff(c * (m + twice::<T, DOUBLED>(x)), c * m);
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
        if let Some((scales, unit)) = self.label_bound {
            // |c(m + 2ξ)| ≤ |c·m| + 2|c|·s·unit: within a small factor of the
            // largest argument, so the largest powers do not underflow.
            let step = T::TWO * c.abs() * unit;
            for (&m, &s) in base.iter().zip(scales) {
                big = big.max((c * m).abs() + step * s.abs());
            }
        } else {
            for (&m, labels) in base.iter().zip((self.label_rows)(first, len)) {
                big = big.max((c * m).abs());
                for x in labels {
                    big = big.max((c * (m + twice::<T, DOUBLED>(x))).abs());
                }
            }
        }
        if !big.is_finite() {
            return Err(score_overflow::<T>());
        }
        let e = if big > T::ZERO { big.frexp().1 } else { 0 };
        Ok(e.max(T::MIN_SAFE_EXP))
    }
}

/// The [KH16] forward kernel, the one place that evaluates `F` for the
/// float classifiers: for every memory `μ` (the items of `rows`, each
/// yielding its label entries `ξ^μ_α` of the scored classes) and every lane
/// `b < lanes` (an input of a block), in memory order,
/// `sums[α·lanes + b] += F(c(m_μb + 2ξ^μ_α)) − F(c·m_μb)` with
/// `m_μb = base[μ·lanes + b]`.
///
/// With `derivatives`, also `F′` at every argument (for training):
/// `labelled[(μ·Nc + α)·lanes + b]`, `unlabelled[μ·lanes + b]`, where `Nc`
/// is the number of classes scored (`sums.len() / lanes`); `F` of a
/// power family is then computed as `F′`'s power times `h` (one power per
/// argument for both). `scratch` holds two lanes. Short buffers skip the
/// entries that do not fit (the callers check the shapes).
///
/// `label_bound` (`|ξ^μ_α| ≤ scales[μ]·unit`, see [`ClassScorer`]) lets
/// one lane of a rectified power skip the memories whose every argument is
/// `≤ 0` (all their terms are `0 − 0`; the sums are the same bits).
///
/// With `DOUBLED`, `rows` yields the doubled entries `2ξ^μ_α` instead
/// (see [`ClassScorer`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn accumulate<T, R, I, const DOUBLED: bool>(
    f: &Interaction<T>,
    c: T,
    base: &[T],
    lanes: usize,
    rows: R,
    sums: &mut [T],
    mut derivatives: Option<Derivatives<'_, T>>,
    scratch: &mut [T],
    label_bound: Option<(&[T], T)>,
) where
    T: Real,
    R: Iterator<Item = I>,
    I: Iterator<Item = T>,
{
    if lanes == 0 {
        return;
    }
    if let (1, None, Some((rectified, n))) = (lanes, &derivatives, f.homogeneous()) {
        return one_lane_powers::<T, R, I, DOUBLED>(rectified, n, c, base, rows, sums, label_bound);
    }
    let classes = sums.len() / lanes;
    let (fu, rest) = scratch.split_at_mut(lanes.min(scratch.len()));
    let fw = match rest.len() > lanes {
        true => rest.get_mut(..lanes).unwrap_or(&mut []),
        false => rest,
    };
    for (mu, (m, labels)) in crate::indexed(base.chunks_exact(lanes).zip(rows)) {
        let du = derivatives
            .as_mut()
            .and_then(|d| lanes_at(d.unlabelled, mu, lanes));
        eval_terms(f, c, T::ZERO, m, fu, du);
        for (alpha, l) in crate::indexed(labels.take(classes)) {
            let dw = derivatives.as_mut().and_then(|d| {
                let i = mu.checked_mul(classes)?.checked_add(alpha)?;
                lanes_at(d.labelled, i, lanes)
            });
            eval_terms(f, c, twice::<T, DOUBLED>(l), m, fw, dw);
            let s = lanes_at(sums, alpha, lanes).unwrap_or(&mut []);
            for ((s, &w), &u) in s.iter_mut().zip(fw.iter()).zip(fu.iter()) {
                *s += w - u;
            }
        }
    }
}

/// [`accumulate`] for one input and a power `F` (single classifications,
/// on boards without a vector unit): the same operations, one at a time,
/// with the power unrolled for the degree ([`interaction::pow_unrolled`],
/// the bits of [`Real::powi`]) and skipped for a rectified argument `≤ 0`
/// (whose power is `0`; `n ≥ 1`), as are whole memories whose arguments
/// `label_bound` shows to be all `≤ 0`.
#[inline(always)]
fn one_lane_powers<T, R, I, const DOUBLED: bool>(
    rectified: bool,
    n: u32,
    c: T,
    base: &[T],
    rows: R,
    sums: &mut [T],
    label_bound: Option<(&[T], T)>,
) where
    T: Real,
    R: Iterator<Item = I>,
    I: Iterator<Item = T>,
{
    // The trained models' degree (`dam train`'s default, the boards'
    // model) inlined; others through the unrolled table, then `powi`.
    let lane = Lane::<T, DOUBLED> {
        c,
        base,
        label_bound,
    };
    match (n, interaction::pow_unrolled::<T>(n), rectified) {
        (20, _, true) => lane.run::<_, _, _, true>(interaction::pow_const::<T, 20>, rows, sums),
        (20, _, false) => lane.run::<_, _, _, false>(interaction::pow_const::<T, 20>, rows, sums),
        (_, Some(pow), true) => lane.run::<_, _, _, true>(pow, rows, sums),
        (_, Some(pow), false) => lane.run::<_, _, _, false>(pow, rows, sums),
        (_, None, true) if n > 0 => lane.run::<_, _, _, true>(|h: T| h.powi(n), rows, sums),
        (_, None, _) => lane.run::<_, _, _, false>(|h: T| h.powi(n), rows, sums),
    }
}

/// [`one_lane_powers`]'s operands besides the power (`DOUBLED`: the label
/// entries come doubled, see [`ClassScorer`]).
struct Lane<'a, T, const DOUBLED: bool> {
    c: T,
    base: &'a [T],
    label_bound: Option<(&'a [T], T)>,
}

impl<T: Real, const DOUBLED: bool> Lane<'_, T, DOUBLED> {
    /// [`one_lane_powers`] with the power `pow` (`n ≥ 1` where `RECTIFIED`;
    /// a constant, so that each argument's test is one compare).
    #[inline(always)]
    fn run<R, I, P, const RECTIFIED: bool>(&self, pow: P, rows: R, sums: &mut [T])
    where
        R: Iterator<Item = I>,
        I: Iterator<Item = T>,
        P: Fn(T) -> T,
    {
        let rectified = RECTIFIED;
        let c = self.c;
        // A rectified `F` with `c > 0`: memory `μ` contributes nothing when
        // `m_μ + 2·scales[μ]·unit ≤ 0` (exactly, which the rounded sum's
        // sign tells): every `m_μ + 2ξ^μ_α` and `m_μ` is then `≤ 0`, and
        // so is its product with `c`, whose `F` is `0`. Skipping adds no
        // `0 − 0`, which leaves a sum started at `+0` the same bits.
        // Likewise, when `m_μ − 2·scales[μ]·unit > 0`, every argument is
        // `≥ 0` and the rectification changes nothing (a product that
        // underflows to `+0` has the power `+0` either way): the terms
        // skip the test.
        let bound = match self.label_bound {
            Some((scales, unit)) if rectified && c > T::ZERO => Some((scales, T::TWO * unit)),
            _ => None,
        };
        let mut scales = bound.map(|(s, _)| s.iter());
        let step = bound.map_or(T::ZERO, |(_, u)| u);
        let terms = |m: T, labels: I, sums: &mut [T], rectified: bool| {
            let f = |h: T| {
                if rectified && h <= T::ZERO {
                    T::ZERO
                } else {
                    pow(h)
                }
            };
            let fb = f(c * m);
            for (s, l) in sums.iter_mut().zip(labels) {
                *s += f(c * (m + twice::<T, DOUBLED>(l))) - fb;
            }
        };
        for (&m, labels) in self.base.iter().zip(rows) {
            let Some(&s) = scales.as_mut().and_then(Iterator::next) else {
                terms(m, labels, sums, rectified);
                continue;
            };
            let b = step * s.abs();
            if m + b <= T::ZERO {
                continue;
            }
            if m - b > T::ZERO {
                terms(m, labels, sums, false);
            } else {
                terms(m, labels, sums, true);
            }
        }
    }
}

/// [`accumulate`]'s arguments, to run it through [`crate::simd::vectorized`].
struct Block<'a, 's, T, R> {
    f: &'a Interaction<T>,
    c: T,
    base: &'a [T],
    lanes: usize,
    rows: R,
    sums: &'s mut [T],
    derivatives: Option<Derivatives<'s, T>>,
    scratch: &'s mut [T],
}

impl<T, R, I> crate::simd::Vectorized for Block<'_, '_, T, R>
where
    T: Real,
    R: Iterator<Item = I>,
    I: Iterator<Item = T>,
{
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Block {
            f,
            c,
            base,
            lanes,
            rows,
            sums,
            derivatives,
            scratch,
        } = self;
        accumulate::<T, R, I, false>(f, c, base, lanes, rows, sums, derivatives, scratch, None);
    }
}

/// `2x`, or `x` itself where it is already doubled (`DOUBLED`).
#[inline(always)]
fn twice<T: Real, const DOUBLED: bool>(x: T) -> T {
    if DOUBLED { x } else { T::TWO * x }
}

/// Lanes `i·lanes..(i + 1)·lanes` of `v`, if they are all there.
#[inline(always)]
fn lanes_at<T>(v: &mut [T], i: usize, lanes: usize) -> Option<&mut [T]> {
    let start = i.checked_mul(lanes)?;
    v.get_mut(start..)?.get_mut(..lanes)
}

/// `fv_i = F(h_i)` and, if `df`, `df_i = F′(h_i)` for `h_i = c·(m_i + shift)`,
/// in loops the compiler vectorizes. The power families rectify and take
/// powers by [`Real::powi`]'s square-and-multiply (the same bits as `powi`
/// per entry), [`POW_BLOCK`] entries at a time in local arrays (registers,
/// not a pass over memory per step); the others evaluate
/// [`Interaction::eval`] and [`Interaction::derivative`] literally (a
/// derivative that overflows is stored as `T::MAX`).
#[inline(always)]
fn eval_terms<T: Real>(
    f: &Interaction<T>,
    c: T,
    shift: T,
    m: &[T],
    fv: &mut [T],
    mut df: Option<&mut [T]>,
) {
    let Some((rectified, n)) = f.homogeneous() else {
        for (i, (v, &m)) in crate::indexed(fv.iter_mut().zip(m)) {
            let h = c * (m + shift);
            *v = f.eval(h);
            if let Some(d) = df.as_deref_mut().and_then(|d| d.get_mut(i)) {
                *d = f.derivative(h).unwrap_or(T::MAX);
            }
        }
        return;
    };
    // `h` of a block, rectified; the entries past `m`'s end are 0 (their
    // results are not stored).
    let args = |m: &[T]| {
        let mut h = [T::ZERO; POW_BLOCK];
        for (h, &m) in h.iter_mut().zip(m) {
            let x = c * (m + shift);
            *h = if rectified && x < T::ZERO { T::ZERO } else { x };
        }
        h
    };
    match df {
        None => {
            let (mut fv, mut m) = (fv, m);
            while let Some(((fv_b, fv_rest), (m_b, m_rest))) = split_block(fv, m) {
                let p = pow_block_n(args(m_b), n);
                for (v, &p) in fv_b.iter_mut().zip(&p) {
                    *v = p;
                }
                (fv, m) = (fv_rest, m_rest);
            }
        }
        Some(df) => {
            // F = h·h^(n−1), F′ = n·h^(n−1): one power for both.
            let nf = T::from_usize(n as usize);
            let len = fv.len().min(df.len());
            let (mut fv, mut df, mut m) = (
                fv.get_mut(..len).unwrap_or(&mut []),
                df.get_mut(..len).unwrap_or(&mut []),
                m,
            );
            while let Some(((fv_b, fv_rest), (m_b, m_rest))) = split_block(fv, m) {
                let Some((df_b, df_rest)) = df.split_at_mut_checked(fv_b.len()) else {
                    break;
                };
                (fv, df, m) = (fv_rest, df_rest, m_rest);
                let (fv, df) = (fv_b, df_b);
                let h = args(m_b);
                let p = pow_block_n(h, n.saturating_sub(1));
                for (((v, d), &p), &h) in fv.iter_mut().zip(df.iter_mut()).zip(&p).zip(&h) {
                    *v = p * h;
                    *d = if rectified && h <= T::ZERO {
                        T::ZERO
                    } else {
                        nf * p
                    };
                }
            }
        }
    }
}

/// Entries [`eval_terms`] raises to a power together: one AVX-512 register
/// of `f32`, two of AVX2.
const POW_BLOCK: usize = 16;

/// The first `min(POW_BLOCK, len)` entries of `out` and `m` and the rest of
/// each, or `None` when either is empty. (Not `chunks`: their `zip` divides
/// by a run-time chunk size where it is not inlined, a panic path the
/// no-panic proof rejects.)
#[inline(always)]
#[allow(clippy::type_complexity)]
fn split_block<'o, 'm, T>(
    out: &'o mut [T],
    m: &'m [T],
) -> Option<((&'o mut [T], &'o mut [T]), (&'m [T], &'m [T]))> {
    let take = POW_BLOCK.min(out.len()).min(m.len());
    if take == 0 {
        return None;
    }
    Some((out.split_at_mut_checked(take)?, m.split_at_checked(take)?))
}

/// [`pow_block`] with the exponents of the trained models' degree
/// (`dam train`'s default `n = 20`: `F` and `F′`) as constants, so that
/// the loop over the exponent's bits unrolls.
#[inline(always)]
fn pow_block_n<T: Real>(x: [T; POW_BLOCK], e: u32) -> [T; POW_BLOCK] {
    match e {
        19 => pow_block_const::<T, 19>(x),
        20 => pow_block_const::<T, 20>(x),
        e => pow_block(x, e),
    }
}

/// [`pow_block`] for a constant exponent (its own copy, unrolled).
#[inline(always)]
fn pow_block_const<T: Real, const E: u32>(x: [T; POW_BLOCK]) -> [T; POW_BLOCK] {
    pow_block(x, E)
}

/// `x_i^e` by [`Real::powi`]'s square-and-multiply for a block of entries;
/// `x^0 = 1`. The steps for `e < 64` are written out (as in
/// [`interaction::pow_const`]), so that a constant `e` leaves straight-line
/// code and a variable one predictable branches.
#[inline(always)]
fn pow_block<T: Real>(mut x: [T; POW_BLOCK], mut e: u32) -> [T; POW_BLOCK] {
    let mut out = [T::ONE; POW_BLOCK];
    let mut step = |e: &mut u32| {
        if *e & 1 == 1 {
            out.iter_mut().zip(&x).for_each(|(r, &x)| *r *= x);
        }
        *e >>= 1;
        if *e > 0 {
            x.iter_mut().for_each(|x| *x = *x * *x);
        }
    };
    if e < 64 {
        for _ in 0..6 {
            step(&mut e);
        }
    } else {
        while e > 0 {
            step(&mut e);
        }
    }
    out
}

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

    extern crate std;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// The literal sums inside `tanh`, one pair at a time with
    /// [`Interaction::eval`]: the reference of [`Classifier::block_sums`].
    /// Also the sums of the terms' magnitudes (for rounding bounds).
    fn reference_sums(
        clf: &Classifier<'_, f32>,
        overlaps: &[f32],
        batch: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        let (nv, nc) = (clf.visible(), clf.classes());
        let c = clf.form().arg_scale(clf.memories().d());
        let mut sums = vec![0.0f32; nc * batch];
        let mut magnitudes = vec![0.0f32; nc * batch];
        for (m, row) in overlaps.chunks(batch).zip(clf.memories().rows()) {
            for (alpha, &l) in row[nv..].iter().enumerate() {
                for (b, &m) in m.iter().enumerate() {
                    let f = clf.interaction();
                    let (a, u) = (f.eval(c * (m + 2.0 * l)), f.eval(c * m));
                    sums[alpha * batch + b] += a - u;
                    magnitudes[alpha * batch + b] += a.abs() + u.abs();
                }
            }
        }
        (sums, magnitudes)
    }

    fn interaction(which: u8, n: u32) -> Interaction<f32> {
        match which % 4 {
            0 => Interaction::RectifiedPolynomial { n },
            1 => Interaction::Polynomial { n },
            2 => Interaction::LeakyRectifiedPolynomial { n, leak: 0.1 },
            _ => Interaction::Exponential,
        }
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::default(), 4))]

        /// The block kernel (vectorized where the CPU allows) gives the bits
        /// of the literal pair-at-a-time sums, for every lane count, `F` and
        /// shape; with derivatives, `F` is `h·h^(n−1)` (within rounding of
        /// the literal power) and `F′` equals [`Interaction::derivative`].
        #[test]
        fn block_sums_are_the_literal_sums(
            (k, nv, nc, batch) in (1usize..9, 1usize..12, 1usize..5, 1usize..300),
            which in 0u8..4,
            n in 1u32..24,
            beta in 0.1f32..8.0,
            seed in any::<u64>(),
        ) {
            let d = nv + nc;
            let mut state = seed;
            let mut next = || {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            };
            let xi: Vec<f32> = (0..k * d).map(|_| next()).collect();
            let overlaps: Vec<f32> = (0..k * batch).map(|_| next() * d as f32).collect();
            let f = interaction(which, n);
            let clf = Classifier::new(MemoryView::new(&xi, k, d).unwrap(), nc, f,
                Form::Normalized { beta }).unwrap();
            let (want, magnitudes) = reference_sums(&clf, &overlaps, batch);
            let mut sums = vec![0.0f32; nc * batch];
            let mut scratch = vec![0.0f32; Classifier::<f32>::block_scratch_len(batch)];
            match clf.block_sums(&overlaps, batch, &mut sums, None, &mut scratch) {
                Ok(()) => prop_assert_eq!(
                    sums.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|s| s.to_bits()).collect::<Vec<_>>()),
                Err(Error::Overflow { .. }) => prop_assert!(want.iter().any(|s| !s.is_finite())),
                Err(e) => prop_assert!(false, "{e:?}"),
            }

            let (mut dw, mut du) = (vec![0.0f32; k * nc * batch], vec![0.0f32; k * batch]);
            let derivatives = Derivatives { labelled: &mut dw, unlabelled: &mut du };
            let mut with = vec![0.0f32; nc * batch];
            if clf.block_sums(&overlaps, batch, &mut with, Some(derivatives), &mut scratch).is_ok() {
                let c = clf.form().arg_scale(d);
                for (mu, row) in xi.chunks(d).enumerate() {
                    for b in 0..batch {
                        let m = overlaps[mu * batch + b];
                        let want = f.derivative(c * m).unwrap_or(f32::MAX);
                        let got = du[mu * batch + b];
                        prop_assert!((got - want).abs() <= 1e-5 * want.abs(), "F′({}) {got} {want}", c * m);
                        for (alpha, &l) in row[nv..].iter().enumerate() {
                            let h = c * (m + 2.0 * l);
                            let want = f.derivative(h).unwrap_or(f32::MAX);
                            let got = dw[(mu * nc + alpha) * batch + b];
                            prop_assert!((got - want).abs() <= 1e-5 * want.abs(), "F′({h}) {got} {want}");
                        }
                    }
                }
                // `h·h^(n−1)` rounds differently from `powi(h, n)`: a few ulps
                // per term, accumulated over the K terms; among subnormal
                // results a few of the smallest subnormal's steps per term
                // (`|h| < 1` there), which the relative bound underflows to 0.
                for ((s, w), mag) in with.iter().zip(&want).zip(&magnitudes) {
                    let bound = (4.0 * f32::EPSILON * (k as f32 + 2.0) * mag)
                        .max(4.0 * (k as f32 + 2.0) * f32::from_bits(1));
                    prop_assert!((s - w).abs() <= bound, "{s} {w} (bound {bound})");
                }
            }
        }
    }

    /// `forward` and `block_sums` agree on the class, and the shapes are
    /// checked.
    #[test]
    fn block_sums_predict_as_forward_and_check_shapes() {
        let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
        let clf = Classifier::new(
            MemoryView::new(&xi, 2, 4).unwrap(),
            2,
            Interaction::RectifiedPolynomial { n: 3 },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let inputs = [0.9f32, 0.8, -0.7, -0.9, 0.1, -0.3];
        let mut u = Vec::new();
        for v in inputs.chunks(2) {
            u.extend_from_slice(v);
            u.extend_from_slice(&[-1.0, -1.0]);
        }
        let mut overlaps = [0.0f32; 6];
        crate::simd::gemm_nt(&xi, &u, 4, &mut overlaps);
        let (mut sums, mut scratch) = ([0.0f32; 6], [0.0f32; 6]);
        assert_eq!(Classifier::<f32>::block_scratch_len(3), scratch.len());
        clf.block_sums(&overlaps, 3, &mut sums, None, &mut scratch)
            .unwrap();
        for (b, v) in inputs.chunks(2).enumerate() {
            let class = clf.forward(v, &mut [0.0; 2], &mut [0.0; 2]).unwrap();
            let block = usize::from(sums[3 + b] > sums[b]);
            assert_eq!(class, block, "input {b}");
        }
        assert!(matches!(
            clf.block_sums(&overlaps[..5], 3, &mut sums, None, &mut scratch),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(
            clf.block_sums(&overlaps, 3, &mut sums, None, &mut scratch[..5])
                .is_err()
        );
        assert!(
            clf.block_sums(&overlaps, 3, &mut sums[..5], None, &mut scratch)
                .is_err()
        );
        let mut bad = overlaps;
        bad[1] = f32::NAN;
        assert!(matches!(
            clf.block_sums(&bad, 3, &mut sums, None, &mut scratch),
            Err(Error::Overflow { .. })
        ));
    }
}
