//! Bipolar autoassociative retrieval (math.md §3) \[KH16, McA\].
//!
//! The state is `σ ∈ {−1,+1}^D`, stored as `i8`. Neuron `i` takes the sign of
//! `Σ_μ F(α(m_μ − ξ^μ_i σ_i + ξ^μ_i)) − F(α(m_μ − ξ^μ_i σ_i − ξ^μ_i))`, where
//! `m_μ = ξ^μ·σ` are the overlaps, kept up to date after every flip
//! (`m_μ += 2 ξ^μ_i σ_i`): a neuron costs `O(K)` and a sweep `O(K·D)`.
//!
//! For the polynomial families the decision is computed on unscaled
//! arguments (it is invariant under `α > 0`), with the overflow-free
//! [`InteractionSum`]; the raw form evaluates the same sum literally and
//! reports [`Error::Overflow`] where the paper's floats would overflow.

use crate::error::{Error, Operand, Param, Quantity, Result, check_len, check_scratch};
use crate::interaction::{self, Form, Interaction, InteractionSum};
use crate::memory::MemoryView;
use crate::real::Real;
use crate::simd;
use crate::wide::Wide;

/// In which order neurons are updated.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UpdateOrder<'s> {
    /// Asynchronous, neurons `0, 1, …, D−1` in every sweep.
    Sequential,
    /// Asynchronous, a fresh uniformly shuffled order every sweep, from a
    /// seeded generator (SplitMix64, Fisher–Yates): the same seed gives the
    /// same trajectory on every target.
    Random {
        /// The seed.
        seed: u64,
        /// Scratch for the permutation, at least `D` long.
        order: &'s mut [u32],
    },
    /// Synchronous: every neuron decides from the same old state.
    Synchronous,
}

/// Why retrieval stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Stop {
    /// A whole sweep changed no neuron: the state is a fixed point.
    FixedPoint,
    /// The sweep limit was reached while neurons were still flipping.
    MaxSweeps,
}

/// What a retrieval did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Retrieval {
    /// Sweeps run, including the final one that changed nothing.
    pub sweeps: usize,
    /// Neurons flipped in all.
    pub flips: usize,
    /// Why it stopped.
    pub stop: Stop,
}

/// A dense associative memory over bipolar states.
///
/// ```
/// use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};
/// let xi = [1.0f32, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0];
/// let memories = MemoryView::new(&xi, 2, 6)?;
/// let net = BipolarMemory::new(memories, Interaction::Polynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let mut state = [1i8, 1, 1, 1, -1, 1]; // memory 0 with its last bit flipped
/// let mut overlaps = [0.0f32; 2];
/// let r = net.retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 10)?;
/// assert_eq!(state, [1, 1, 1, 1, -1, -1]);
/// assert_eq!(r.stop, Stop::FixedPoint);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BipolarMemory<'a, T> {
    memories: MemoryView<'a, T>,
    f: Interaction<T>,
    form: Form<T>,
}

impl<'a, T: Real> BipolarMemory<'a, T> {
    /// A network over `memories` (entries usually in `[−1, 1]`).
    /// Errors: invalid `F` parameters or `β`.
    pub fn new(memories: MemoryView<'a, T>, f: Interaction<T>, form: Form<T>) -> Result<Self> {
        f.validate()?;
        form.validate()?;
        Ok(BipolarMemory { memories, f, form })
    }

    /// The memories.
    pub fn memories(&self) -> MemoryView<'a, T> {
        self.memories
    }

    /// The interaction function.
    pub fn interaction(&self) -> Interaction<T> {
        self.f
    }

    /// The form (raw or normalized) and `β`.
    pub fn form(&self) -> Form<T> {
        self.form
    }

    /// Writes `m_μ = ξ^μ·σ` into `overlaps[..K]`.
    ///
    /// Errors: a shape mismatch (`state`, `overlaps`), a non-bipolar state.
    pub fn overlaps(&self, state: &[i8], overlaps: &mut [T]) -> Result<()> {
        self.check_state(state)?;
        check_scratch(Operand::Scratch, self.memories.k(), overlaps.len())?;
        self.fill_overlaps(state, overlaps);
        Ok(())
    }

    fn fill_overlaps(&self, state: &[i8], overlaps: &mut [T]) {
        for (m, row) in overlaps.iter_mut().zip(self.memories.rows()) {
            *m = simd::dot_bipolar(row, state);
        }
    }

    fn check_state(&self, state: &[i8]) -> Result<()> {
        check_len(Operand::Query, self.memories.d(), state.len())?;
        match state.iter().position(|&s| s != 1 && s != -1) {
            None => Ok(()),
            Some(index) => Err(Error::NotBipolar { index }),
        }
    }

    /// The new value of neuron `i` given the overlaps of the current state.
    fn decide(&self, overlaps: &[T], i: usize, sigma_i: i8) -> Result<i8> {
        let s = if sigma_i >= 0 { T::ONE } else { -T::ONE };
        let pairs = overlaps
            .iter()
            .zip(self.memories.column(i))
            .map(move |(&m, x)| {
                let base = m - x * s;
                (base + x, base - x)
            });
        let homogeneous = self.f.homogeneous();
        let positive = match (self.form, homogeneous) {
            (Form::Raw { .. }, _) => {
                let sum = match homogeneous {
                    Some((rectified, n)) => {
                        interaction::homogeneous_diff(rectified, n, pairs.clone(), T::ONE)
                    }
                    None => pairs
                        .clone()
                        .fold(T::ZERO, |s, (a, b)| s + (self.f.eval(a) - self.f.eval(b))),
                };
                if !sum.is_finite() {
                    let mut acc = InteractionSum::new(&self.f);
                    pairs.for_each(|(a, b)| acc.add_diff(a, b));
                    return Err(Error::Overflow {
                        quantity: Quantity::Interaction,
                        ln_magnitude: acc.ln_overflow()?.to_f64(),
                    });
                }
                sum >= T::ZERO
            }
            // Homogeneous F: the decision does not depend on α > 0, and a
            // power-of-two scale keeps every power in range.
            (Form::Normalized { .. }, Some((rectified, n))) => {
                let scale =
                    interaction::power_of_two_scale(pairs.clone()).ok_or(Error::Overflow {
                        quantity: Quantity::Interaction,
                        ln_magnitude: T::LN_MAX.to_f64(),
                    })?;
                interaction::homogeneous_diff(rectified, n, pairs, scale) >= T::ZERO
            }
            (Form::Normalized { .. }, None) => {
                let c = self.form.arg_scale(self.memories.d());
                let mut acc = InteractionSum::new(&self.f);
                pairs.for_each(|(a, b)| acc.add_diff(c * a, c * b));
                acc.signum()? >= 0
            }
        };
        Ok(if positive { 1 } else { -1 })
    }

    /// Relaxes `state` in place for at most `max_sweeps` sweeps, stopping
    /// early at a fixed point. `overlaps` is scratch of at least `K`.
    ///
    /// Errors: shape/scratch mismatch (also of a random order's buffer), a
    /// non-bipolar state, `max_sweeps = 0`, and [`Error::Overflow`]: in the
    /// raw form where the paper's literal evaluation overflows, in either
    /// form where an overlap leaves the float range (memories near
    /// `T::MAX`). After an overflow the state holds the updates made before
    /// it, each a valid bipolar state.
    pub fn retrieve(
        &self,
        state: &mut [i8],
        overlaps: &mut [T],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
    ) -> Result<Retrieval> {
        self.relax(state, overlaps, order, max_sweeps, None)
    }

    /// Pattern completion: [`BipolarMemory::retrieve`] with the neurons
    /// where `known[i]` is `true` clamped (the observed part of a cue never
    /// changes; the others follow the update rule, in the same order and
    /// with the same overlaps as `retrieve`). `flips` counts the free
    /// neurons that flipped.
    ///
    /// ```
    /// use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};
    /// let xi = [1.0f32, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
    /// let net = BipolarMemory::new(MemoryView::new(&xi, 3, 4)?,
    ///     Interaction::Polynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
    /// // The first two entries of memory 2 are known; the rest is a guess.
    /// let mut s = [1i8, -1, -1, -1];
    /// let known = [true, true, false, false];
    /// let r = net.complete(&mut s, &mut [0.0; 3], UpdateOrder::Sequential, 10, &known)?;
    /// assert_eq!((s, r.stop), ([1, -1, 1, -1], Stop::FixedPoint));
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    ///
    /// Errors: those of `retrieve`, and a `known` not `D` long.
    pub fn complete(
        &self,
        state: &mut [i8],
        overlaps: &mut [T],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
        known: &[bool],
    ) -> Result<Retrieval> {
        if known.len() != self.memories.d() {
            return Err(Error::ShapeMismatch {
                operand: Operand::Mask,
                expected: self.memories.d(),
                found: known.len(),
            });
        }
        self.relax(state, overlaps, order, max_sweeps, Some(known))
    }

    /// `retrieve` and `complete`: `known`, if given, is `D` long.
    fn relax(
        &self,
        state: &mut [i8],
        overlaps: &mut [T],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
        known: Option<&[bool]>,
    ) -> Result<Retrieval> {
        self.check_state(state)?;
        let k = self.memories.k();
        let d = self.memories.d();
        check_scratch(Operand::Scratch, k, overlaps.len())?;
        let free = |i: usize| known.is_none_or(|m| !m.get(i).copied().unwrap_or(false));
        if max_sweeps == 0 {
            return Err(Error::InvalidParameter {
                param: Param::Iterations,
                value: 0.0,
            });
        }
        let overlaps = overlaps.get_mut(..k).unwrap_or(&mut []);
        let mut rng = None;
        let mut perm: &mut [u32] = &mut [];
        let synchronous = matches!(order, UpdateOrder::Synchronous);
        if let UpdateOrder::Random { seed, order } = order {
            check_scratch(Operand::Scratch, d, order.len())?;
            if u32::try_from(d).is_err() {
                return Err(Error::ShapeMismatch {
                    operand: Operand::Query,
                    expected: u32::MAX as usize,
                    found: d,
                });
            }
            perm = order.get_mut(..d).unwrap_or(&mut []);
            for (slot, i) in perm.iter_mut().zip(0u32..) {
                *slot = i;
            }
            rng = Some(SplitMix64(seed));
        }

        self.fill_overlaps(state, overlaps);
        let mut flips = 0usize;
        for sweep in 1..=max_sweeps {
            let mut changed = 0usize;
            if let Some(rng) = rng.as_mut() {
                rng.shuffle(perm);
                for &i in perm.iter() {
                    if free(i as usize) {
                        let flip = self.update_neuron(state, overlaps, i as usize, true)?;
                        changed = changed.saturating_add(flip);
                    }
                }
            } else {
                for i in (0..d).filter(|&i| free(i)) {
                    let flip = self.update_neuron(state, overlaps, i, !synchronous)?;
                    changed = changed.saturating_add(flip);
                }
                if synchronous && changed > 0 {
                    self.fill_overlaps(state, overlaps);
                }
            }
            flips = flips.saturating_add(changed);
            if changed == 0 {
                return Ok(Retrieval {
                    sweeps: sweep,
                    flips,
                    stop: Stop::FixedPoint,
                });
            }
        }
        Ok(Retrieval {
            sweeps: max_sweeps,
            flips,
            stop: Stop::MaxSweeps,
        })
    }

    /// Updates neuron `i`; returns 1 if it flipped. With `track` the
    /// overlaps follow the flip (asynchronous); without, they keep
    /// describing the old state (synchronous).
    fn update_neuron(
        &self,
        state: &mut [i8],
        overlaps: &mut [T],
        i: usize,
        track: bool,
    ) -> Result<usize> {
        let Some(sigma) = state.get_mut(i) else {
            return Ok(0);
        };
        let new = self.decide(overlaps, i, *sigma)?;
        if new == *sigma {
            return Ok(0);
        }
        *sigma = new;
        if track {
            let two_s = if new > 0 { T::TWO } else { -T::TWO };
            for (m, x) in overlaps.iter_mut().zip(self.memories.column(i)) {
                *m = x.mul_add(two_s, *m);
            }
        }
        Ok(1)
    }

    /// `true` if no single neuron of `state` would flip. `overlaps` is
    /// scratch of at least `K`.
    ///
    /// Errors: those of [`BipolarMemory::overlaps`], and [`Error::Overflow`]
    /// as in [`BipolarMemory::retrieve`].
    pub fn is_fixed_point(&self, state: &[i8], overlaps: &mut [T]) -> Result<bool> {
        self.overlaps(state, overlaps)?;
        let overlaps = overlaps.get(..self.memories.k()).unwrap_or(&[]);
        for (i, &s) in state.iter().enumerate() {
            if self.decide(overlaps, i, s)? != s {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The energy `E(σ) = −β Σ_μ F(ξ^μ·σ)` (raw) or `−Σ_μ F(β ξ^μ·σ / D)`
    /// (normalized) as a [`Wide`] number: its exponent is an `i32`, so the
    /// sum itself never overflows.
    ///
    /// Errors: a shape mismatch, a non-bipolar state, and
    /// [`Error::Overflow`] where an overlap `ξ^μ·σ` (or `β` times it) is
    /// already outside the float range before `F` is applied (memories
    /// near `T::MAX`): such a term has no finite argument to scale.
    pub fn energy_wide(&self, state: &[i8]) -> Result<Wide<T>> {
        self.check_state(state)?;
        let c = self.form.arg_scale(self.memories.d());
        let terms = self
            .memories
            .rows()
            .map(|row| (c * simd::dot_bipolar(row, state), false));
        Ok(-self.form.sum(&self.f, terms)?)
    }

    /// The energy as a plain float. The raw form is evaluated literally and
    /// returns [`Error::Overflow`] where the paper's would overflow; the
    /// normalized form overflows only outside its documented domain.
    ///
    /// Errors: a shape mismatch, a non-bipolar state, [`Error::Overflow`].
    pub fn energy(&self, state: &[i8]) -> Result<T> {
        match self.form {
            Form::Raw { beta } => {
                self.check_state(state)?;
                let mut sum = T::ZERO;
                for row in self.memories.rows() {
                    sum += self.f.eval(simd::dot_bipolar(row, state));
                }
                let e = -(beta * sum);
                if e.is_finite() {
                    Ok(e)
                } else {
                    Err(Error::Overflow {
                        quantity: Quantity::Energy,
                        ln_magnitude: self.energy_wide(state)?.ln().to_f64(),
                    })
                }
            }
            Form::Normalized { .. } => self.energy_wide(state)?.to_real(Quantity::Energy),
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, seedable, identical on every
/// target. Only used to shuffle update orders.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index in `0..=bound` (Lemire's multiply-shift; the bias is
    /// below `bound / 2^64`).
    fn below_or_equal(&mut self, bound: usize) -> usize {
        let range = bound as u128 + 1;
        ((u128::from(self.next_u64()) * range) >> 64) as usize
    }

    /// Fisher–Yates.
    fn shuffle(&mut self, items: &mut [u32]) {
        for i in (1..items.len()).rev() {
            let j = self.below_or_equal(i);
            // Swap items j and i (j ≤ i) without a bounds-checked index.
            if let Some((first, rest)) = items.get_mut(j..=i).and_then(|s| s.split_first_mut())
                && let Some(last) = rest.last_mut()
            {
                core::mem::swap(first, last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_shuffle_is_a_permutation_and_seeded() {
        let mut a = [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut b = a;
        SplitMix64(7).shuffle(&mut a);
        SplitMix64(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut sorted = a;
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    /// Found by the `retrieval` fuzz target: `energy_wide` cannot scale an
    /// overlap that is already infinite, and must say so with a finite
    /// magnitude rather than return a wrong finite energy.
    #[test]
    fn energy_wide_of_overlaps_past_the_float_range_is_an_overflow() {
        let xi = [f32::MAX; 4];
        let view = MemoryView::new(&xi, 1, 4).unwrap();
        let f = Interaction::Polynomial { n: 2 };
        for form in [Form::Raw { beta: 1.0 }, Form::Normalized { beta: 1.0 }] {
            let net = BipolarMemory::new(view, f, form).unwrap();
            match net.energy_wide(&[1, 1, 1, 1]) {
                Err(Error::Overflow { ln_magnitude, .. }) => assert!(ln_magnitude.is_finite()),
                other => panic!("{form:?}: {other:?}"),
            }
            // Moderate memories are fine in both forms.
            let small = [0.5f32; 4];
            let net = BipolarMemory::new(MemoryView::new(&small, 1, 4).unwrap(), f, form).unwrap();
            assert!(net.energy_wide(&[1, 1, 1, 1]).is_ok());
        }
    }
}
