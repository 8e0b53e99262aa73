//! Continuous log-sum-exp memory (math.md §5) \[DrDAM\]: energy, gradient and
//! retrieval by gradient descent.
//!
//! `E(x) = −(1/β) log Σ_μ exp(ℓ_μ(x))` with `ℓ_μ = −(β/2)‖x − ξ^μ‖²`
//! ([`Similarity::Euclidean`]) or `ℓ_μ = β ξ^μ·x` plus `½‖x‖²` outside the
//! log ([`Similarity::DotProduct`]); in both, `∇E(x) = x − Σ_μ p_μ ξ^μ` with
//! `p = softmax(ℓ)`. The log-sum-exp subtracts the largest `ℓ_μ`, so nothing
//! overflows; the energy is then `−ℓ_max/β − ln(S)/β` with `1 ≤ S ≤ K`.
//!
//! Documented domain where every result is finite (f32): entries of `x` and
//! `ξ` in `[−1, 1]`, `D ≤ 10^6`, `10^-4 ≤ β ≤ 10^4`. Outside it results are
//! still checked: a non-finite one becomes [`Error::Overflow`].
//!
//! Retrieval by masked gradient descent is [`EnergyModel::descend`].

use crate::energy::EnergyModel;
use crate::error::{
    Error, Operand, Param, Quantity, Result, check_finite, check_len, check_scratch, split_scratch,
};
use crate::memory::MemoryView;
use crate::real::Real;
use crate::simd;

/// How a query is compared with a memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Similarity {
    /// `ℓ_μ = −(β/2)‖x − ξ^μ‖²` (the Gaussian kernel of \[DrDAM\]).
    Euclidean,
    /// `ℓ_μ = β ξ^μ·x`, with `+½‖x‖²` in the energy.
    DotProduct,
}

/// A log-sum-exp associative memory.
///
/// ```
/// use dam_core::{LseMemory, MemoryView, Similarity};
/// let xi = [1.0f32, 0.0, 0.0, 1.0];
/// let mem = LseMemory::new(MemoryView::new(&xi, 2, 2)?, 20.0, Similarity::Euclidean)?;
/// let mut x = [0.8f32, 0.1];
/// let mut scratch = [0.0f32; 4]; // K + D
/// mem.one_step(&mut x, &mut scratch)?; // x ← Σ p_μ ξ^μ
/// assert!((x[0] - 1.0).abs() < 1e-4 && x[1].abs() < 1e-4);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LseMemory<'a, T> {
    memories: MemoryView<'a, T>,
    beta: T,
    similarity: Similarity,
}

impl<'a, T: Real> LseMemory<'a, T> {
    /// A memory with inverse temperature `β` (finite, `> 0`).
    pub fn new(memories: MemoryView<'a, T>, beta: T, similarity: Similarity) -> Result<Self> {
        if !(beta.is_finite() && beta > T::ZERO) {
            return Err(Error::InvalidParameter {
                param: Param::Beta,
                value: beta.to_f64(),
            });
        }
        Ok(LseMemory {
            memories,
            beta,
            similarity,
        })
    }

    /// The memories.
    pub fn memories(&self) -> MemoryView<'a, T> {
        self.memories
    }

    /// `β`.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The similarity.
    pub fn similarity(&self) -> Similarity {
        self.similarity
    }

    fn check_query(&self, x: &[T]) -> Result<()> {
        check_len(Operand::Query, self.memories.d(), x.len())?;
        check_finite(Operand::Query, x)
    }

    /// `ℓ_μ(x)` for the memory `row`; an error if it is not finite.
    fn logit(&self, x: &[T], row: &[T]) -> Result<T> {
        let l = match self.similarity {
            Similarity::Euclidean => -(self.beta * T::HALF) * simd::squared_distance(x, row),
            Similarity::DotProduct => self.beta * simd::dot(row, x),
        };
        if l.is_finite() {
            Ok(l)
        } else {
            Err(Error::Overflow {
                quantity: Quantity::Energy,
                ln_magnitude: T::MAX.ln().to_f64(),
            })
        }
    }

    /// Fills `logits[..K]` with `ℓ_μ(x)` and returns `(max ℓ, ln Σ e^{ℓ−max})`.
    fn logits(&self, x: &[T], logits: &mut [T]) -> Result<(T, T)> {
        let mut max = -T::MAX;
        for (l, row) in logits.iter_mut().zip(self.memories.rows()) {
            *l = self.logit(x, row)?;
            max = max.max(*l);
        }
        let mut sum = T::ZERO;
        for l in logits.iter() {
            sum += (*l - max).exp();
        }
        // sum ≥ 1 (the max term), so the log is finite and ≥ 0.
        Ok((max, sum.ln()))
    }

    fn energy_from(&self, x: &[T], max: T, ln_sum: T) -> Result<T> {
        let mut e = -(max + ln_sum) / self.beta;
        if self.similarity == Similarity::DotProduct {
            e += T::HALF * simd::dot(x, x);
        }
        if e.is_finite() {
            Ok(e)
        } else {
            Err(Error::Overflow {
                quantity: Quantity::Energy,
                // ln|(max + ln Σ)/β| from the logs (the quotient itself may
                // be infinite); an overflowed energy is at least `T::MAX`.
                ln_magnitude: {
                    let est = max.abs().max(ln_sum).to_f64().ln() - self.beta.to_f64().ln();
                    if est.is_finite() {
                        est.max(T::LN_MAX.to_f64())
                    } else {
                        T::LN_MAX.to_f64()
                    }
                },
            })
        }
    }

    /// `E(x)`. `scratch` needs at least `K` entries.
    ///
    /// Errors: shape mismatches (`x`, `scratch`), a non-finite `x`, and
    /// [`Error::Overflow`] where a logit or the energy leaves the float
    /// range.
    pub fn energy(&self, x: &[T], scratch: &mut [T]) -> Result<T> {
        self.check_query(x)?;
        let k = self.memories.k();
        check_scratch(Operand::Scratch, k, scratch.len())?;
        let logits = scratch.get_mut(..k).unwrap_or(&mut []);
        let (max, ln_sum) = self.logits(x, logits)?;
        self.energy_from(x, max, ln_sum)
    }

    /// Writes `Σ_μ p_μ(x) ξ^μ` into `out` and returns `E(x)`.
    ///
    /// One pass over the memories (the online softmax): each row is read
    /// once, for its logit and, while it is still in L1, for the weighted
    /// sum, which is kept relative to the running maximum logit and rescaled
    /// when that grows. Every weight is `e^{ℓ−max} ≤ 1`: nothing overflows.
    fn attend(&self, x: &[T], out: &mut [T], scratch: &mut [T]) -> Result<T> {
        self.check_query(x)?;
        check_len(Operand::Output, self.memories.d(), out.len())?;
        // The scratch is not needed here; checking it keeps one contract
        // for every method (see `EnergyModel::scratch_len`).
        check_scratch(Operand::Scratch, self.memories.k(), scratch.len())?;
        out.iter_mut().for_each(|o| *o = T::ZERO);
        let mut max = -T::MAX;
        let mut sum = T::ZERO;
        for row in self.memories.rows() {
            let l = self.logit(x, row)?;
            if l > max {
                let shrink = (max - l).exp();
                sum *= shrink;
                out.iter_mut().for_each(|o| *o *= shrink);
                max = l;
            }
            let p = (l - max).exp();
            sum += p;
            if p > T::ZERO {
                simd::axpy(p, row, out);
            }
        }
        // sum ≥ 1 (the max term): the log is finite and ≥ 0.
        let energy = self.energy_from(x, max, sum.ln())?;
        let inv = T::ONE / sum;
        out.iter_mut().for_each(|o| *o *= inv);
        Ok(energy)
    }

    /// `E(x)` and `∇E(x) = x − Σ_μ p_μ ξ^μ` (written to `grad`, length `D`).
    /// `scratch` needs at least `K` entries.
    ///
    /// Errors: those of [`LseMemory::energy`], a `grad` of the wrong length,
    /// and [`Error::Overflow`] where the gradient leaves the float range.
    pub fn energy_and_gradient(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T> {
        let energy = self.attend(x, grad, scratch)?;
        for (g, &xi) in grad.iter_mut().zip(x) {
            *g = xi - *g;
        }
        check_finite(Operand::Output, grad).map_err(|_| Error::Overflow {
            quantity: Quantity::Gradient,
            ln_magnitude: T::MAX.ln().to_f64(),
        })?;
        Ok(energy)
    }

    /// The one-step fixed-point update `x ← Σ_μ p_μ(x) ξ^μ` (gradient
    /// descent with `η = 1`); returns the energy before the step.
    /// `scratch` needs at least `K + D` entries.
    ///
    /// Errors: those of [`LseMemory::energy`], and [`Error::Overflow`] where
    /// the new state would leave the float range (`x` is then unchanged).
    pub fn one_step(&self, x: &mut [T], scratch: &mut [T]) -> Result<T> {
        let k = self.memories.k();
        let d = self.memories.d();
        check_scratch(Operand::Scratch, k.saturating_add(d), scratch.len())?;
        let (logits, rest) = split_scratch(scratch, k)?;
        let out = rest.get_mut(..d).unwrap_or(&mut []);
        let energy = self.attend(x, out, logits)?;
        // A convex combination of finite memories can still round past
        // the largest float (p₁ξ + p₂ξ with p₁ + p₂ = 1 + ε and ξ = MAX).
        check_finite(Operand::Output, out).map_err(|_| Error::Overflow {
            quantity: Quantity::Gradient,
            ln_magnitude: T::LN_MAX.to_f64(),
        })?;
        x.iter_mut().zip(out.iter()).for_each(|(xi, &o)| *xi = o);
        Ok(energy)
    }
}

impl<T: Real> EnergyModel<T> for LseMemory<'_, T> {
    fn dim(&self) -> usize {
        self.memories.d()
    }

    fn scratch_len(&self) -> usize {
        self.memories.k()
    }

    fn energy(&self, x: &[T], scratch: &mut [T]) -> Result<T> {
        LseMemory::energy(self, x, scratch)
    }

    fn energy_and_gradient(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T> {
        LseMemory::energy_and_gradient(self, x, grad, scratch)
    }
}
