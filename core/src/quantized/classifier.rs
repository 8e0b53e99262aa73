//! The classifier forward pass on quantized memories with an `f32` rescale
//! per memory (cores with an FPU, and the host).

use super::{Level, QuantizedView, Skip, check_classes, integer_overlaps};
use crate::classifier::ClassScorer;
use crate::error::{Operand, Result, check_len, check_scratch};
use crate::interaction::{Form, Interaction};

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
    /// `2 s_μ q^μ_{Nv+α}` at `μ·Nc + α`, if
    /// [`QuantizedClassifier::with_label_table`] made it.
    doubled: Option<&'a [f32]>,
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
    /// memory's overlap with the all-background query (labels included),
    /// computed here once. Errors: `sums` too short, `D` above
    /// [`crate::simd::MAX_I8_LEN`].
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
        let (d, k, nv) = (self.memories.d(), self.memories.k(), self.visible());
        check_scratch(Operand::Scratch, k, sums.len())?;
        // Whole rows within the exact range of the `i32` sums (`Skip`).
        if d > crate::simd::MAX_I8_LEN {
            return Err(crate::Error::InvalidParameter {
                param: crate::error::Param::Dimension,
                value: d as f64,
            });
        }
        crate::simd::row_sums_i8(self.memories.levels(), d, nv, sums)?;
        // The overlap with the all-background query: `b` times the visible
        // levels, `−L` times the labels.
        let (b, l) = (
            i32::from(background),
            <i8 as crate::simd::IntKernels>::MAX_LEVEL,
        );
        for (s, row) in sums.iter_mut().zip(self.memories.rows()) {
            let labels = row.get(nv..).unwrap_or(&[]);
            let label_sum = labels
                .iter()
                .fold(0i32, |a, &q| a.wrapping_add(i32::from(q)));
            *s = b.wrapping_mul(*s).wrapping_sub(l.wrapping_mul(label_sum));
        }
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
            doubled: None,
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

    /// The length of the table [`QuantizedClassifier::with_label_table`]
    /// takes: `K·Nc` (saturating).
    pub fn label_table_len(&self) -> usize {
        self.memories.k().saturating_mul(self.classes)
    }

    /// The same classifier with its doubled label values
    /// `2ξ^μ_α = 2·(s_μ q^μ_{Nv+α})` computed here once, as `f32`, into
    /// `table` (at least [`QuantizedClassifier::label_table_len`] entries,
    /// borrowed as long as the classifier), instead of in every forward
    /// pass (where each is a conversion, a multiply and a doubling per
    /// class and memory). The same values, so the same results, bit for
    /// bit. Errors: `table` too short.
    ///
    /// ```
    /// use dam_core::quantized::{QuantizedClassifier, QuantizedView};
    /// use dam_core::{Form, Interaction};
    /// let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
    /// let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4)?;
    /// let plain = QuantizedClassifier::new(view, 2,
    ///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// let mut table = [0.0f32; 4]; // K·Nc
    /// assert_eq!(plain.label_table_len(), table.len());
    /// let tabled = plain.with_label_table(&mut table)?;
    /// let (mut a, mut b, mut scratch) = ([0.0f32; 2], [0.0f32; 2], [0.0f32; 2]);
    /// assert_eq!(plain.forward(&[-127, 64], &mut a, &mut scratch)?,
    ///            tabled.forward(&[-127, 64], &mut b, &mut scratch)?);
    /// assert_eq!(a, b);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn with_label_table(self, table: &'a mut [f32]) -> Result<Self> {
        let (nv, nc) = (self.visible(), self.classes);
        let len = self.label_table_len();
        check_scratch(Operand::Scratch, len, table.len())?;
        let table = table.get_mut(..len).unwrap_or(&mut []);
        let rows = self.memories.rows().zip(self.memories.scales());
        for (out, (row, &s)) in table.chunks_exact_mut(nc.max(1)).zip(rows) {
            let labels = row.get(nv..).unwrap_or(&[]);
            for (o, q) in out.iter_mut().zip(labels) {
                // The bits of `2 · (s · q)` in the forward pass.
                *o = 2.0 * (s * q.to_f32());
            }
        }
        let table: &'a [f32] = table;
        Ok(QuantizedClassifier {
            doubled: Some(table),
            ..self
        })
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
        self.forward_in::<false>(v, scores, scratch)
    }

    /// [`QuantizedClassifier::forward`]; with `TABLE_ONLY`, only with a
    /// label table ([`QuantizedClassifier::with_label_table`]): without
    /// one it returns [`crate::Error::ShapeMismatch`] (operand
    /// [`Operand::Scratch`], the table's length expected, 0 found), and
    /// the scoring loop without the table (a second instantiation of the
    /// scorer) is not compiled in. For [`crate::Prepared`]'s
    /// [`crate::LABEL_TABLE_ONLY`].
    #[inline(never)]
    pub(crate) fn forward_in<const TABLE_ONLY: bool>(
        &self,
        v: &[Q],
        scores: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<usize> {
        let (nv, k) = self.check_forward(v, scores, scratch)?;
        let base = scratch.get_mut(..k).unwrap_or(&mut []);
        let unit = 1.0 / Q::MAX_LEVEL as f32;
        let scales = self.memories.scales();
        integer_overlaps(&self.memories, nv, v, self.skip, |mu, t| {
            if let (Some(m), Some(&s)) = (base.get_mut(mu), scales.get(mu)) {
                *m = s * unit * super::i64_to_f32(t);
            }
        })?;
        let memories = self.memories;
        let label_bound = Some((memories.scales(), (Q::MAX_LEVEL + 1) as f32));
        let (f, form, d, classes) = (&self.f, self.form, memories.d(), self.classes);
        if let Some(table) = self.doubled {
            // Row `μ` of the table: the doubled labels of memory `μ`.
            let scorer: ClassScorer<'_, f32, _, true> = ClassScorer {
                f,
                form,
                d,
                label_rows: |first: usize, len: usize| {
                    table.chunks_exact(classes.max(1)).map(move |row| {
                        let labels = row.get(first..).unwrap_or(&[]);
                        labels.get(..len).unwrap_or(&[]).iter().copied()
                    })
                },
                label_bound,
            };
            return scorer.score(base, scores);
        }
        if TABLE_ONLY {
            // No table: refused, and the loop below is not compiled in.
            return Err(crate::Error::ShapeMismatch {
                operand: Operand::Scratch,
                expected: self.label_table_len(),
                found: 0,
            });
        }
        let scorer: ClassScorer<'_, f32, _, false> = ClassScorer {
            f,
            form,
            d,
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
            label_bound,
        };
        scorer.score(base, scores)
    }
}
