//! The random-feature memory itself.

use crate::drdam::projection::Projection;
use crate::energy::EnergyModel;
use crate::error::{
    Error, Operand, Param, Quantity, Result, check_finite, check_len, check_scratch, split_scratch,
};
use crate::real::Real;
use crate::simd;

/// A random-feature memory: one vector `T = Σ_μ φ(ξ^μ)` of length `2Y`
/// (cosine half first), a projection `S`, and `β`.
///
/// `M` is the storage of `T`: `&[T]` (read-only, e.g. in flash), `&mut [T]`
/// or an owned array (both allow [`DrDam::store`] and [`DrDam::forget`]).
///
/// Energy `Ẽ(x) = −(1/β) ln max(φ(x)·T, ε)` with `ε =` [`DrDam::FLOOR`],
/// gradient `∇Ẽ(x) = −(J_φ(x)ᵀ T) / (β φ(x)·T)`; where `φ(x)·T ≤ ε` the
/// energy is flat and the gradient is zero. Cost `O(Y·D)` per call, whatever
/// the number of stored patterns.
///
/// ```
/// use dam_core::{DrDam, EnergyModel, SeededProjection};
/// let d = 4;
/// let proj = SeededProjection::new(1, 4000, d)?;
/// let mut dam = DrDam::new(proj, 2.0f32, [0.0f32; 8000])?;
/// let mut scratch = [0.0f32; 4];
/// dam.store(&[0.5, -0.5, 0.5, -0.5], &mut scratch)?;
/// dam.store(&[-0.5, 0.5, -0.5, 0.5], &mut scratch)?;
/// // Near a stored pattern the energy is low and the gradient points at it.
/// let mut grad = [0.0f32; 4];
/// let e = dam.energy_and_gradient(&[0.4, -0.5, 0.5, -0.5], &mut grad, &mut scratch)?;
/// assert!(e.is_finite() && grad[0] < 0.0);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DrDam<T, P, M> {
    projection: P,
    beta: T,
    sqrt_beta: T,
    memory: M,
}

impl<T: Real, P: Projection<T>, M: AsRef<[T]>> DrDam<T, P, M> {
    /// The floor `ε` under `φ(x)·T` before the logarithm (math.md §6).
    pub const FLOOR: f64 = 1e-30;

    /// A memory over `projection` with inverse temperature `β` (finite,
    /// `> 0`) and memory vector `memory` (length `2Y`, finite; zeros for an
    /// empty memory).
    pub fn new(projection: P, beta: T, memory: M) -> Result<Self> {
        if !(beta.is_finite() && beta > T::ZERO) {
            return Err(Error::InvalidParameter {
                param: Param::Beta,
                value: beta.to_f64(),
            });
        }
        let y = projection.features();
        check_len(
            Operand::Memories,
            y.saturating_mul(2),
            memory.as_ref().len(),
        )?;
        check_finite(Operand::Memories, memory.as_ref())?;
        Ok(DrDam {
            projection,
            beta,
            sqrt_beta: beta.sqrt(),
            memory,
        })
    }

    /// The number of features `Y`.
    pub fn features(&self) -> usize {
        self.projection.features()
    }

    /// `β`.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The memory vector `T` (`2Y`: cosines, then sines).
    pub fn memory(&self) -> &[T] {
        self.memory.as_ref()
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// Writes `φ(x)` (length `2Y`) into `out`. `scratch`: at least
    /// `projection.scratch_len()`.
    ///
    /// Errors: shape mismatches (`x`, `out`, `scratch`), a non-finite `x`,
    /// and [`Error::Overflow`] where a feature argument `√β ω_j·x` is not
    /// finite (`out` then holds no features).
    pub fn features_of(&self, x: &[T], out: &mut [T], scratch: &mut [T]) -> Result<()> {
        let y = self.features();
        check_len(Operand::Query, self.projection.dim(), x.len())?;
        check_finite(Operand::Query, x)?;
        check_len(Operand::Output, y.saturating_mul(2), out.len())?;
        check_scratch(
            Operand::Scratch,
            self.projection.scratch_len(),
            scratch.len(),
        )?;
        let (cos_half, sin_half) = split_scratch(out, y)?;
        // Arguments first (into the sine half), then one vectorizable pass.
        for (j, h) in sin_half.iter_mut().enumerate() {
            let row = self.projection.row(j, scratch).unwrap_or(&[]);
            *h = self.sqrt_beta * simd::dot(row, x);
        }
        check_finite(Operand::Output, sin_half).map_err(|_| overflow(Quantity::Energy))?;
        let norm = T::ONE / T::from_usize(y).sqrt();
        for (s, c) in sin_half.iter_mut().zip(cos_half.iter_mut()) {
            let (sv, cv) = s.sin_cos();
            *s = sv * norm;
            *c = cv * norm;
        }
        Ok(())
    }

    /// `Σ_j` over features of `(h_j, T_cos,j, T_sin,j, row_j)`: the one pass
    /// both the energy and the gradient need.
    fn pass(&self, x: &[T], scratch: &mut [T], mut each: impl FnMut(T, T, &[T])) -> Result<T> {
        check_len(Operand::Query, self.projection.dim(), x.len())?;
        check_finite(Operand::Query, x)?;
        check_scratch(
            Operand::Scratch,
            self.projection.scratch_len(),
            scratch.len(),
        )?;
        let y = self.features();
        let (t_cos, t_sin) = self
            .memory
            .as_ref()
            .split_at(y.min(self.memory.as_ref().len()));
        let mut dot = T::ZERO;
        for (j, (&tc, &ts)) in crate::indexed(t_cos.iter().zip(t_sin)) {
            let Some(row) = self.projection.row(j, scratch) else {
                break;
            };
            let h = self.sqrt_beta * simd::dot(row, x);
            let (s, c) = h.sin_cos();
            dot = c.mul_add(tc, dot);
            dot = s.mul_add(ts, dot);
            each(-s * tc + c * ts, h, row);
        }
        let dot = dot / T::from_usize(y).sqrt();
        if dot.is_finite() {
            Ok(dot)
        } else {
            Err(overflow(Quantity::Energy))
        }
    }

    /// Energies and gradients of `B` queries at once (`xs`: `B × D`
    /// row-major, `energies`: `B`, `grads`: `B × D`), reading every row of
    /// the projection once per batch instead of once per query: the batched
    /// form of [`EnergyModel::energy_and_gradient`], with the same results.
    /// `scratch`: at least `projection.scratch_len() + B`.
    ///
    /// Errors: shape mismatches (`xs`, `grads`, `scratch`), a non-finite
    /// query, and [`Error::Overflow`] where an energy or a gradient leaves
    /// the float range (as for one query).
    ///
    /// ```
    /// use dam_core::{DrDam, EnergyModel, SeededProjection};
    /// let mut dam = DrDam::new(SeededProjection::new(3, 256, 2)?, 4.0f64, vec![0.0; 512])?;
    /// dam.store(&[0.5, 0.5], &mut [0.0; 2])?;
    /// let xs = [0.4, 0.5, -0.2, 0.1];
    /// let (mut e, mut g) = ([0.0; 2], [0.0; 4]);
    /// dam.energy_and_gradient_batch(&xs, &mut e, &mut g, &mut [0.0; 4])?;
    /// let mut g1 = [0.0; 2];
    /// let e1 = dam.energy_and_gradient(&xs[2..], &mut g1, &mut [0.0; 2])?;
    /// assert!((e[1] - e1).abs() < 1e-12 && (g[2] - g1[0]).abs() < 1e-12);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn energy_and_gradient_batch(
        &self,
        xs: &[T],
        energies: &mut [T],
        grads: &mut [T],
        scratch: &mut [T],
    ) -> Result<()> {
        let d = self.projection.dim();
        let b = energies.len();
        check_len(Operand::Query, b.saturating_mul(d), xs.len())?;
        check_finite(Operand::Query, xs)?;
        check_len(Operand::Output, b.saturating_mul(d), grads.len())?;
        let inner = self.projection.scratch_len();
        check_scratch(Operand::Scratch, inner.saturating_add(b), scratch.len())?;
        let (row_scratch, rest) = split_scratch(scratch, inner)?;
        let h = rest.get_mut(..b).unwrap_or(&mut []);
        let y = self.features();
        let (t_cos, t_sin) = self
            .memory
            .as_ref()
            .split_at(y.min(self.memory.as_ref().len()));
        energies.iter_mut().for_each(|e| *e = T::ZERO);
        grads.iter_mut().for_each(|g| *g = T::ZERO);
        let d1 = d.max(1);
        for (j, (&tc, &ts)) in crate::indexed(t_cos.iter().zip(t_sin)) {
            let Some(row) = self.projection.row(j, row_scratch) else {
                break;
            };
            for (hb, x) in h.iter_mut().zip(xs.chunks_exact(d1)) {
                *hb = self.sqrt_beta * simd::dot(row, x);
            }
            for ((&hb, e), g) in h
                .iter()
                .zip(energies.iter_mut())
                .zip(grads.chunks_exact_mut(d1))
            {
                let (s, c) = hb.sin_cos();
                *e = s.mul_add(ts, c.mul_add(tc, *e));
                simd::axpy(-s * tc + c * ts, row, g);
            }
        }
        let sqrt_y = T::from_usize(y).sqrt();
        let floor = T::from_f64(Self::FLOOR);
        for (e, g) in energies.iter_mut().zip(grads.chunks_exact_mut(d1)) {
            let phi_t = *e / sqrt_y;
            if !phi_t.is_finite() {
                return Err(overflow(Quantity::Energy));
            }
            if phi_t <= floor {
                g.iter_mut().for_each(|v| *v = T::ZERO);
            } else {
                let scale = -T::ONE / (self.sqrt_beta * sqrt_y * phi_t);
                g.iter_mut().for_each(|v| *v *= scale);
            }
            *e = finite(self.energy_from(phi_t), Quantity::Energy)?;
        }
        check_finite(Operand::Output, grads).map_err(|_| overflow(Quantity::Gradient))
    }

    fn energy_from(&self, phi_t: T) -> T {
        let floor = T::from_f64(Self::FLOOR);
        -(phi_t.max(floor).ln()) / self.beta
    }
}

fn overflow(quantity: Quantity) -> Error {
    Error::Overflow {
        quantity,
        ln_magnitude: f64::from(f32::MAX).ln(),
    }
}

impl<T: Real, P: Projection<T>, M: AsRef<[T]>> EnergyModel<T> for DrDam<T, P, M> {
    fn dim(&self) -> usize {
        self.projection.dim()
    }

    fn scratch_len(&self) -> usize {
        self.projection.scratch_len()
    }

    fn energy(&self, x: &[T], scratch: &mut [T]) -> Result<T> {
        let phi_t = self.pass(x, scratch, |_, _, _| {})?;
        finite(self.energy_from(phi_t), Quantity::Energy)
    }

    fn energy_and_gradient(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T> {
        check_len(Operand::Output, self.projection.dim(), grad.len())?;
        grad.iter_mut().for_each(|g| *g = T::ZERO);
        let phi_t = self.pass(x, scratch, |w, _, row| simd::axpy(w, row, grad))?;
        let floor = T::from_f64(Self::FLOOR);
        if phi_t <= floor {
            grad.iter_mut().for_each(|g| *g = T::ZERO);
        } else {
            // ∇Ẽ = −√(β/Y) Σ_j s_j w_j / (β φ·T) = −Σ_j s_j w_j / (√β √Y φ·T).
            let scale = -T::ONE / (self.sqrt_beta * T::from_usize(self.features()).sqrt() * phi_t);
            grad.iter_mut().for_each(|g| *g *= scale);
        }
        check_finite(Operand::Output, grad).map_err(|_| overflow(Quantity::Gradient))?;
        finite(self.energy_from(phi_t), Quantity::Energy)
    }
}

fn finite<T: Real>(v: T, quantity: Quantity) -> Result<T> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(overflow(quantity))
    }
}

impl<T: Real, P: Projection<T>, M: AsRef<[T]> + AsMut<[T]>> DrDam<T, P, M> {
    /// `T += φ(ξ)`. `scratch`: at least `projection.scratch_len()`.
    ///
    /// Errors: shape mismatches (`ξ`, `scratch`), a non-finite `ξ`, and
    /// [`Error::Overflow`] where a feature argument `√β ω_j·ξ` is not finite
    /// (`T` is then unchanged).
    pub fn store(&mut self, xi: &[T], scratch: &mut [T]) -> Result<()> {
        self.accumulate(xi, T::ONE, scratch)
    }

    /// `T −= φ(ξ)`: undoes [`DrDam::store`] of the same pattern (to within
    /// rounding).
    ///
    /// Errors: those of [`DrDam::store`].
    pub fn forget(&mut self, xi: &[T], scratch: &mut [T]) -> Result<()> {
        self.accumulate(xi, -T::ONE, scratch)
    }

    /// Empties the memory (`T = 0`).
    pub fn clear(&mut self) {
        self.memory.as_mut().iter_mut().for_each(|t| *t = T::ZERO);
    }

    fn accumulate(&mut self, xi: &[T], sign: T, scratch: &mut [T]) -> Result<()> {
        check_len(Operand::Query, self.projection.dim(), xi.len())?;
        check_finite(Operand::Query, xi)?;
        check_scratch(
            Operand::Scratch,
            self.projection.scratch_len(),
            scratch.len(),
        )?;
        let y = self.features();
        let norm = sign / T::from_usize(y).sqrt();
        let (projection, sqrt_beta) = (&self.projection, self.sqrt_beta);
        let memory = self.memory.as_mut();
        // Adding |φ_j| ≤ 1/√Y to a finite entry cannot overflow (it rounds
        // to the same value at worst); only a non-finite feature argument
        // could poison T, so check those before writing anything.
        for j in 0..y {
            let row = projection.row(j, scratch).unwrap_or(&[]);
            if !(sqrt_beta * simd::dot(row, xi)).is_finite() {
                return Err(overflow(Quantity::Energy));
            }
        }
        let (t_cos, t_sin) = memory.split_at_mut(y.min(memory.len()));
        for (j, (tc, ts)) in crate::indexed(t_cos.iter_mut().zip(t_sin.iter_mut())) {
            let row = projection.row(j, scratch).unwrap_or(&[]);
            let (s, c) = (sqrt_beta * simd::dot(row, xi)).sin_cos();
            *tc = c.mul_add(norm, *tc);
            *ts = s.mul_add(norm, *ts);
        }
        Ok(())
    }
}
