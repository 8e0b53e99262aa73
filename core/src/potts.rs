//! Potts hidden unit: the attention-like classifier of \[TT\] (math.md §7),
//! inference only (training is in `dam-std`).
//!
//! `P` memories `w^μ ∈ R^D`, soft class weights `p^μ_y` (each row a
//! distribution over `C` labels) and a log-prior `ln p_h(μ)`:
//! `p(y | v) = Σ_μ π_μ(v) p^μ_y` with `π = softmax_μ(β w^μ·v + ln p_h(μ))`,
//! computed with the max subtracted so nothing overflows.
//! Two readouts: `argmax_y p(y | v)` ([`PottsClassifier::posterior`]) and
//! the label of the memory with the largest overlap
//! ([`PottsClassifier::nearest_memory`], the paper's 1-NN readout).

use crate::error::{
    Error, Kind, ModelError, Operand, Param, Quantity, Result, check_finite, check_len,
    check_scratch,
};
use crate::memory::MemoryView;
use crate::model::{Element, Model};
use crate::real::Real;
use crate::simd;

/// A Potts-hidden-unit classifier over borrowed parameters.
///
/// ```
/// use dam_core::{MemoryView, PottsClassifier};
/// // Two prototypes in 2-D with soft labels over 2 classes.
/// let w = [1.0f32, 0.0, 0.0, 1.0];
/// let labels = [0.9f32, 0.1, 0.2, 0.8];
/// let clf = PottsClassifier::new(MemoryView::new(&w, 2, 2)?, &labels, 2, None, 5.0)?;
/// let mut p = [0.0f32; 2];
/// let mut scratch = [0.0f32; 2];
/// assert_eq!(clf.posterior(&[0.9, 0.1], &mut p, &mut scratch)?, 0);
/// assert!((p[0] + p[1] - 1.0).abs() < 1e-6);
/// assert_eq!(clf.nearest_memory(&[0.1, 0.9])?, (1, 1));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PottsClassifier<'a, T> {
    memories: MemoryView<'a, T>,
    class_weights: &'a [T],
    classes: usize,
    log_prior: Option<&'a [T]>,
    beta: T,
}

impl<'a, T: Real> PottsClassifier<'a, T> {
    /// A classifier from `P` memories, a `P × C` row-major table of class
    /// weights (entries `≥ 0`, each row summing to 1 within `10^-3`), an
    /// optional log-prior of length `P` (`None`: uniform) and `β > 0`.
    pub fn new(
        memories: MemoryView<'a, T>,
        class_weights: &'a [T],
        classes: usize,
        log_prior: Option<&'a [T]>,
        beta: T,
    ) -> Result<Self> {
        let p = memories.k();
        if classes == 0 {
            return Err(Error::InvalidParameter {
                param: Param::Classes,
                value: 0.0,
            });
        }
        if !(beta.is_finite() && beta > T::ZERO) {
            return Err(Error::InvalidParameter {
                param: Param::Beta,
                value: beta.to_f64(),
            });
        }
        check_len(
            Operand::Memories,
            p.saturating_mul(classes),
            class_weights.len(),
        )?;
        check_finite(Operand::Memories, class_weights)?;
        let tolerance = T::from_f64(1e-3);
        for row in class_weights.chunks_exact(classes) {
            let sum = row.iter().fold(T::ZERO, |s, &x| s + x);
            if row.iter().any(|&x| x < T::ZERO) || (sum - T::ONE).abs() > tolerance {
                return Err(Error::InvalidParameter {
                    param: Param::ClassWeights,
                    value: sum.to_f64(),
                });
            }
        }
        if let Some(prior) = log_prior {
            check_len(Operand::Memories, p, prior.len())?;
            check_finite(Operand::Memories, prior)?;
        }
        Ok(PottsClassifier {
            memories,
            class_weights,
            classes,
            log_prior,
            beta,
        })
    }

    // `classes ≥ 1` is checked in `new`; `.max(1)` below only lets the
    // compiler see that `chunks_exact` cannot panic (boards/no-panic).

    /// The number of classes `C`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The memories.
    pub fn memories(&self) -> MemoryView<'a, T> {
        self.memories
    }

    /// Writes `p(y | v)` into `probs` (length `C`) and returns its argmax
    /// (ties to the lowest class). `scratch`: at least `P`.
    ///
    /// Errors: shape mismatches (`v`, `probs`, `scratch`), a non-finite `v`,
    /// and [`Error::Overflow`] where a logit `β w^μ·v + ln p_h(μ)` leaves
    /// the float range.
    pub fn posterior(&self, v: &[T], probs: &mut [T], scratch: &mut [T]) -> Result<usize> {
        self.posterior_with(simd::dot, v, probs, scratch)
    }

    /// [`PottsClassifier::posterior`] with the overlap `w^μ·v` computed by
    /// `dot` instead of the fastest kernel of this target; everything else
    /// is the same code (and the same on every target: no fused
    /// multiply-add, the mixture summed in a fixed order), so a host that
    /// passes a board's summation order predicts the board's classes bit
    /// for bit, as `dam predict` does.
    ///
    /// ```
    /// use dam_core::{MemoryView, PottsClassifier, simd};
    /// let w = [1.0f32, 0.0, 0.0, 1.0];
    /// let labels = [0.9f32, 0.1, 0.2, 0.8];
    /// let clf = PottsClassifier::new(MemoryView::new(&w, 2, 2)?, &labels, 2, None, 5.0)?;
    /// let (mut p, mut q, mut scratch) = ([0.0f32; 2], [0.0f32; 2], [0.0f32; 2]);
    /// let in_order = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y);
    /// assert_eq!(clf.posterior_with(in_order, &[0.2, 0.7], &mut p, &mut scratch)?, 1);
    /// clf.posterior_with(simd::scalar::dot, &[0.2, 0.7], &mut q, &mut scratch)?;
    /// assert_eq!(p, q);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn posterior_with(
        &self,
        dot: impl Fn(&[T], &[T]) -> T,
        v: &[T],
        probs: &mut [T],
        scratch: &mut [T],
    ) -> Result<usize> {
        let p = self.memories.k();
        check_len(Operand::Query, self.memories.d(), v.len())?;
        check_finite(Operand::Query, v)?;
        check_len(Operand::Output, self.classes, probs.len())?;
        check_scratch(Operand::Scratch, p, scratch.len())?;
        let logits = scratch.get_mut(..p).unwrap_or(&mut []);
        let mut max = -T::MAX;
        for (mu, (l, row)) in crate::indexed(logits.iter_mut().zip(self.memories.rows())) {
            let prior = self
                .log_prior
                .and_then(|lp| lp.get(mu))
                .copied()
                .unwrap_or(T::ZERO);
            // A multiply and an add, not `mul_add`: that one fuses on some
            // targets only, and the logits must be the same on all.
            *l = self.beta * dot(row, v) + prior;
            if !l.is_finite() {
                return Err(Error::Overflow {
                    quantity: Quantity::Score,
                    ln_magnitude: T::LN_MAX.to_f64(),
                });
            }
            max = max.max(*l);
        }
        let mut total = T::ZERO;
        for l in logits.iter_mut() {
            *l = (*l - max).exp();
            total += *l;
        }
        // total ≥ 1 (the max term): the division is safe.
        probs.iter_mut().for_each(|q| *q = T::ZERO);
        for (&weight, row) in logits
            .iter()
            .zip(self.class_weights.chunks_exact(self.classes.max(1)))
        {
            // A few classes: a scalar loop of multiplies and adds, identical
            // on every target (the SIMD axpy fuses on some, not on others).
            let share = weight / total;
            for (q, &c) in probs.iter_mut().zip(row) {
                *q += share * c;
            }
        }
        Ok(argmax(probs))
    }

    /// The 1-NN readout: the memory with the largest overlap `w^μ·v` and its
    /// label `argmax_y p^μ_y`, as `(μ, label)`.
    ///
    /// Errors: a shape mismatch or a non-finite `v`; never an overflow.
    pub fn nearest_memory(&self, v: &[T]) -> Result<(usize, usize)> {
        check_len(Operand::Query, self.memories.d(), v.len())?;
        check_finite(Operand::Query, v)?;
        let mut best = (0usize, -T::MAX);
        for (mu, row) in crate::indexed(self.memories.rows()) {
            let o = simd::dot(row, v);
            if o > best.1 {
                best = (mu, o);
            }
        }
        let label = self
            .class_weights
            .chunks_exact(self.classes.max(1))
            .nth(best.0)
            .map_or(0, argmax);
        Ok((best.0, label))
    }
}

fn argmax<T: Real>(v: &[T]) -> usize {
    let mut best = (0usize, -T::MAX);
    for (i, &x) in v.iter().enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// Built from a model file: the model format sits below the algorithms
/// (docs/architecture.md), each algorithm builds itself from a [`Model`].
impl<'a> Model<'a> {
    /// The Potts classifier this model stores (memories, class weights and
    /// log-prior borrowed in place). Errors: not a [`Kind::Potts`], those of
    /// [`Model::memories`], and those of [`PottsClassifier::new`] (class
    /// weights that are not distributions, a non-finite log-prior).
    pub fn potts<T: Element>(&self) -> Result<PottsClassifier<'a, T>> {
        if self.header().kind != Kind::Potts {
            return Err(ModelError::WrongKind {
                expected: Kind::Potts,
                found: self.header().kind,
            }
            .into());
        }
        let memories = self.memories::<T>()?;
        let (k, nv, nc) = (memories.k(), memories.d(), self.header().nc as usize);
        // The lengths are checked by `PottsClassifier::new` (an overflowing
        // product leaves a slice empty or too short, which it refuses).
        let entries = self.entries::<T>()?;
        let rest = k
            .checked_mul(nv)
            .and_then(|n| entries.get(n..))
            .unwrap_or(&[]);
        let weights_len = k.saturating_mul(nc);
        let weights = rest.get(..weights_len).unwrap_or(&[]);
        let log_prior = rest.get(weights_len..).unwrap_or(&[]);
        PottsClassifier::new(
            memories,
            weights,
            nc,
            Some(log_prior),
            T::from_f64(self.header().form.beta()),
        )
    }
}

/// [`Model::potts`].
impl<'a, T: Element> TryFrom<&Model<'a>> for PottsClassifier<'a, T> {
    type Error = Error;
    fn try_from(model: &Model<'a>) -> Result<Self> {
        model.potts()
    }
}
