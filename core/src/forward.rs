//! One interface for every classifier: the forward pass from an input to
//! per-class scores and the predicted class, with caller-owned scratch.
//!
//! [`Classifier`] (float), [`QuantizedClassifier`] (`i8`/`i16` levels,
//! `f32` scoring), [`FixedClassifier`] (fixed point only) and
//! [`PottsClassifier`] differ in their element types, not in their shape:
//! each takes `Nv` inputs, writes `Nc` scores, needs `K` elements of
//! scratch and returns the class with the largest score (ties to the
//! lowest). Code written against [`Forward`] runs any of them; firmware
//! that picks the classifier from the model's header at run time uses
//! [`crate::Prepared`] instead.
//!
//! ```
//! use dam_core::{Classifier, Form, Forward, Interaction, MemoryView};
//!
//! /// The classes of `rows` (row-major, `Nv` each) with any classifier.
//! fn classify_all<C: Forward>(
//!     clf: &C,
//!     rows: &[C::Input],
//!     scores: &mut [C::Score],
//!     scratch: &mut [C::Scratch],
//!     out: &mut [usize],
//! ) -> dam_core::Result<()> {
//!     for (row, class) in rows.chunks_exact(clf.inputs()).zip(out) {
//!         *class = clf.forward(row, scores, scratch)?;
//!     }
//!     Ok(())
//! }
//!
//! // Two memories of 2 visible and 2 label units: bright → class 0, dark → class 1.
//! let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
//! let clf = Classifier::new(
//!     MemoryView::new(&xi, 2, 4)?,
//!     2,
//!     Interaction::RectifiedPolynomial { n: 3 },
//!     Form::Normalized { beta: 1.0 },
//! )?;
//! let mut classes = [0usize; 2];
//! classify_all(&clf, &[0.9, 0.8, -0.7, -0.9], &mut [0.0; 2], &mut [0.0; 2], &mut classes)?;
//! assert_eq!(classes, [0, 1]);
//! assert_eq!((clf.inputs(), Forward::classes(&clf), clf.scratch_len()), (2, 2, 2));
//! # Ok::<(), dam_core::Error>(())
//! ```

use crate::classifier::Classifier;
use crate::error::Result;
use crate::potts::PottsClassifier;
use crate::prepared::Prepared;
use crate::quantized::{FixedClassifier, FixedRow, Level, QuantizedClassifier, Score};
use crate::real::Real;

/// A classifier's forward pass (see the module docs).
pub trait Forward {
    /// One input entry: a float, or a quantized level.
    type Input: Copy;
    /// One class score.
    type Score: Copy;
    /// One scratch element.
    type Scratch: Copy;

    /// The number of inputs `Nv` a query has.
    fn inputs(&self) -> usize;

    /// The number of classes `Nc` (the length of `scores`).
    fn classes(&self) -> usize;

    /// The scratch elements [`Forward::forward`] needs (at least; more are
    /// allowed): one per memory.
    fn scratch_len(&self) -> usize;

    /// Writes one score per class into `scores` and returns the class with
    /// the largest one (ties to the lowest). Errors: wrong lengths, a
    /// non-finite input, and the classifier's own (e.g.
    /// [`crate::Error::Overflow`] in the raw form).
    fn forward(
        &self,
        input: &[Self::Input],
        scores: &mut [Self::Score],
        scratch: &mut [Self::Scratch],
    ) -> Result<usize>;
}

impl<T: Real> Forward for Classifier<'_, T> {
    type Input = T;
    type Score = T;
    type Scratch = T;

    fn inputs(&self) -> usize {
        self.visible()
    }

    fn classes(&self) -> usize {
        Classifier::classes(self)
    }

    fn scratch_len(&self) -> usize {
        self.memories().k()
    }

    fn forward(&self, input: &[T], scores: &mut [T], scratch: &mut [T]) -> Result<usize> {
        Classifier::forward(self, input, scores, scratch)
    }
}

impl<Q: Level> Forward for QuantizedClassifier<'_, Q> {
    type Input = Q;
    type Score = f32;
    type Scratch = f32;

    fn inputs(&self) -> usize {
        self.visible()
    }

    fn classes(&self) -> usize {
        QuantizedClassifier::classes(self)
    }

    fn scratch_len(&self) -> usize {
        self.memories().k()
    }

    fn forward(&self, input: &[Q], scores: &mut [f32], scratch: &mut [f32]) -> Result<usize> {
        QuantizedClassifier::forward(self, input, scores, scratch)
    }
}

impl Forward for FixedClassifier<'_> {
    type Input = i8;
    type Score = Score;
    type Scratch = FixedRow;

    fn inputs(&self) -> usize {
        self.rescaled().visible()
    }

    fn classes(&self) -> usize {
        self.rescaled().classes()
    }

    fn scratch_len(&self) -> usize {
        self.rescaled().memories().k()
    }

    fn forward(
        &self,
        input: &[i8],
        scores: &mut [Score],
        scratch: &mut [FixedRow],
    ) -> Result<usize> {
        FixedClassifier::forward(self, input, scores, scratch)
    }
}

impl<T: Real> Forward for PottsClassifier<'_, T> {
    type Input = T;
    type Score = T;
    type Scratch = T;

    fn inputs(&self) -> usize {
        self.memories().d()
    }

    fn classes(&self) -> usize {
        PottsClassifier::classes(self)
    }

    fn scratch_len(&self) -> usize {
        self.memories().k()
    }

    /// [`PottsClassifier::posterior`]: the scores are `p(y | v)`.
    fn forward(&self, input: &[T], scores: &mut [T], scratch: &mut [T]) -> Result<usize> {
        self.posterior(input, scores, scratch)
    }
}

/// The handle as a classifier: raw `f32` values in (the stored input map
/// and, for `i8` models, the quantization applied), `f32` scores out, and
/// byte scratch ([`Prepared::scratch_bytes`]).
impl<const PATHS: u8> Forward for Prepared<'_, PATHS> {
    type Input = f32;
    type Score = f32;
    type Scratch = u8;

    fn inputs(&self) -> usize {
        Prepared::inputs(self)
    }

    fn classes(&self) -> usize {
        Prepared::classes(self)
    }

    fn scratch_len(&self) -> usize {
        self.scratch_bytes()
    }

    fn forward(&self, input: &[f32], scores: &mut [f32], scratch: &mut [u8]) -> Result<usize> {
        self.scores(input, scratch, scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantized::QuantizedView;
    use crate::{Form, Interaction, MemoryView};

    /// The class of each input through the trait, with fresh buffers.
    fn classes<C: Forward>(
        clf: &C,
        inputs: &[&[C::Input]],
        zero: (C::Score, C::Scratch),
    ) -> [usize; 2] {
        let mut scores = [zero.0; 8];
        let mut scratch = [zero.1; 8];
        let mut out = [usize::MAX; 2];
        for (o, v) in out.iter_mut().zip(inputs) {
            *o = clf
                .forward(
                    v,
                    &mut scores[..clf.classes()],
                    &mut scratch[..clf.scratch_len()],
                )
                .unwrap();
        }
        out
    }

    #[test]
    fn every_classifier_runs_through_the_trait_as_it_does_alone() {
        let (f, form) = (
            Interaction::RectifiedPolynomial { n: 3 },
            Form::Normalized { beta: 1.0 },
        );
        let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
        let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4).unwrap();
        let q = QuantizedClassifier::new(view, 2, f, form).unwrap();
        let fixed = FixedClassifier::new(view, 2, f, form).unwrap();
        let (bright, dark) = ([100i8, 90], [-89i8, -114]);
        assert_eq!(classes(&q, &[&bright, &dark], (0.0, 0.0)), [0, 1]);
        assert_eq!(
            classes(&fixed, &[&bright, &dark], (Score::ZERO, FixedRow::ZERO)),
            [0, 1]
        );
        let (mut s, mut r) = ([Score::ZERO; 2], [FixedRow::ZERO; 2]);
        assert_eq!(
            Forward::forward(&fixed, &dark, &mut s, &mut r),
            FixedClassifier::forward(&fixed, &dark, &mut s, &mut r)
        );
        assert_eq!(
            (
                Forward::inputs(&fixed),
                Forward::classes(&fixed),
                fixed.scratch_len()
            ),
            (2, 2, 2)
        );
        // Potts: memory 0 votes class 0, memory 1 class 1.
        let w = [1.0f32, 1.0, -1.0, -1.0];
        let weights = [0.9f32, 0.1, 0.1, 0.9];
        let potts =
            PottsClassifier::new(MemoryView::new(&w, 2, 2).unwrap(), &weights, 2, None, 2.0)
                .unwrap();
        assert_eq!(
            classes(&potts, &[&[0.8, 0.9], &[-0.7, -0.9]], (0.0, 0.0)),
            [0, 1]
        );
        let (mut p, mut sc) = ([0.0f32; 2], [0.0f32; 2]);
        assert_eq!(
            Forward::forward(&potts, &[0.8, 0.9], &mut p, &mut sc),
            potts.posterior(&[0.8, 0.9], &mut p, &mut sc)
        );
        assert_eq!((Forward::inputs(&potts), potts.scratch_len()), (2, 2));
        // Wrong lengths are errors through the trait too.
        assert!(Forward::forward(&q, &bright[..1], &mut [0.0; 2], &mut [0.0; 2]).is_err());
    }
}
