//! Continuous memories with an energy and its gradient, and the one
//! retrieval loop they share: masked gradient descent.
//!
//! [`crate::LseMemory`] (exact, `O(K·D)`) and [`crate::DrDam`] (random
//! features, `O(Y·D)` whatever `K`) both implement [`EnergyModel`], so a
//! caller can swap one for the other.

use crate::error::{
    Error, Operand, Param, Quantity, Result, check_finite, check_len, check_scratch, split_scratch,
};
use crate::real::Real;

/// The outcome of [`EnergyModel::descend`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Descent<T> {
    /// Steps taken.
    pub steps: usize,
    /// The energy of the final state.
    pub energy: T,
}

/// A memory with an energy `E(x)` over states `x ∈ R^D` and its gradient.
///
/// ```
/// use dam_core::{EnergyModel, LseMemory, MemoryView, Similarity};
/// let xi = [1.0f32, 0.0, 0.0, 1.0];
/// let mem = LseMemory::new(MemoryView::new(&xi, 2, 2)?, 20.0, Similarity::Euclidean)?;
/// let mut x = [0.7f32, 0.2];
/// let mut scratch = vec![0.0f32; mem.scratch_len() + mem.dim()];
/// // Clamp coordinate 0 (observed), let coordinate 1 relax.
/// let r = mem.descend(&mut x, Some(&[true, false]), 0.1, 100, &mut scratch)?;
/// assert_eq!(x[0], 0.7);
/// assert!(x[1].abs() < 0.01 && r.energy.is_finite());
/// # Ok::<(), dam_core::Error>(())
/// ```
pub trait EnergyModel<T: Real> {
    /// The state dimension `D`.
    fn dim(&self) -> usize;

    /// The scratch [`EnergyModel::energy`] and
    /// [`EnergyModel::energy_and_gradient`] need.
    fn scratch_len(&self) -> usize;

    /// `E(x)`.
    ///
    /// Errors: shape mismatches (`x`, `scratch`), a non-finite `x`, and
    /// [`Error::Overflow`] outside the model's domain.
    fn energy(&self, x: &[T], scratch: &mut [T]) -> Result<T>;

    /// `E(x)`, with `∇E(x)` written to `grad` (length `D`).
    ///
    /// Errors: those of [`EnergyModel::energy`], and a `grad` of the wrong
    /// length.
    fn energy_and_gradient(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T>;

    /// Gradient descent `x ← x − η ∇E(x)` for `steps` steps. Coordinates
    /// with `mask[i] == true` are clamped (observed) and never change; pass
    /// `None` to move every coordinate. Returns the final energy. `scratch`
    /// needs at least `scratch_len() + D` entries.
    ///
    /// Errors: `η` not finite or `≤ 0`, `steps = 0`, shape mismatches, a
    /// non-finite query, and [`Error::Overflow`] outside the model's domain.
    /// A step that would leave the float range is not applied: on error `x`
    /// holds the state after the last successful step (always finite).
    fn descend(
        &self,
        x: &mut [T],
        mask: Option<&[bool]>,
        step: T,
        steps: usize,
        scratch: &mut [T],
    ) -> Result<Descent<T>> {
        if !(step.is_finite() && step > T::ZERO) {
            return Err(Error::InvalidParameter {
                param: Param::Step,
                value: step.to_f64(),
            });
        }
        if steps == 0 {
            return Err(Error::InvalidParameter {
                param: Param::Iterations,
                value: 0.0,
            });
        }
        let d = self.dim();
        check_len(Operand::Query, d, x.len())?;
        if let Some(mask) = mask {
            check_len(Operand::Mask, d, mask.len())?;
        }
        let inner = self.scratch_len();
        check_scratch(Operand::Scratch, inner.saturating_add(d), scratch.len())?;
        let (inner_scratch, rest) = split_scratch(scratch, inner)?;
        let grad = rest.get_mut(..d).unwrap_or(&mut []);
        for _ in 0..steps {
            self.energy_and_gradient(x, grad, inner_scratch)?;
            // The whole step first, so a step that would leave the float
            // range fails without touching `x`.
            for (i, (g, &xi)) in crate::indexed(grad.iter_mut().zip(x.iter())) {
                let clamped = mask.and_then(|m| m.get(i)).copied().unwrap_or(false);
                *g = if clamped { xi } else { (-step).mul_add(*g, xi) };
            }
            check_finite(Operand::Output, grad).map_err(|_| Error::Overflow {
                quantity: Quantity::Gradient,
                ln_magnitude: T::LN_MAX.to_f64(),
            })?;
            x.iter_mut().zip(grad.iter()).for_each(|(xi, &g)| *xi = g);
        }
        let energy = self.energy(x, inner_scratch)?;
        Ok(Descent { steps, energy })
    }
}
