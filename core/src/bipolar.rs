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
//!
//! [`PackedBipolar`] ([`BipolarMemory::pack`]) runs the same sweeps on the
//! memories packed by column into a caller buffer, with the decisions in
//! exact integer arithmetic: for `±1` memories and the polynomial families,
//! an order of magnitude faster (`BENCHMARKS.md`).

use crate::error::{
    Error, Operand, Param, Quantity, Result, check_len, check_scratch, split_scratch,
};
use crate::interaction::{self, Form, Interaction, InteractionSum};
use crate::memory::MemoryView;
use crate::real::Real;
use crate::simd;
use crate::simd::bits::{self, Fields};
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
/// [`BipolarMemory::retrieve`] evaluates `F` for each memory and neuron
/// (any memories, any `F`); for `±1` memories and the polynomial families,
/// [`BipolarMemory::pack`] gives the faster [`PackedBipolar`].
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
        check_scratch(Operand::Scratch, k, overlaps.len())?;
        let engine = Reference {
            net: self,
            overlaps: overlaps.get_mut(..k).unwrap_or(&mut []),
        };
        run(engine, self.memories.d(), state, order, max_sweeps, known)
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

/// A [`BipolarMemory`] with its memories packed by column, for fast
/// asynchronous sweeps: made by [`BipolarMemory::pack`].
///
/// Bit `μ` of column `i` (a run of `⌈K/64⌉` words in the caller's buffer) is
/// set where `ξ^μ_i = +1`, so neuron `i` reads its `K` memory entries as
/// `K/8` bytes in a row instead of `K` floats `D` apart. The sweep keeps the
/// overlaps `m_μ` and, per memory, the part of the local field that depends
/// on `m_μ` only; neuron `i` then costs one masked sum over its column, and
/// a flip one pass over the memories to update them.
///
/// **The update rule, exactly.** With `σ_i` the neuron's value,
/// `F(m_μ − ξ^μ_i σ_i + ξ^μ_i) − F(m_μ − ξ^μ_i σ_i − ξ^μ_i)` is
/// `F(m) − F(m − 2ξ)` for `σ_i = +1` and `F(m + 2ξ) − F(m)` for `σ_i = −1`,
/// which for `ξ = ±1` both equal `ξ b(m) − σ_i u(m)` with
/// `b(m) = (F(m+2) − F(m−2))/2` and `u(m) = (F(m+2) + F(m−2))/2 − F(m)`.
/// So the local field is
/// `h_i = Σ_μ ξ^μ_i b(m_μ) − σ_i Σ_μ u(m_μ) = 2 Σ_{μ: ξ^μ_i = +1} b(m_μ) − Σ_μ b(m_μ) − σ_i Σ_μ u(m_μ)`,
/// and `σ_i ← +1` if `h_i ≥ 0`, else `−1` (for `F = s³`: `b = 6m² + 8`,
/// `u = 12m`). The overlaps of bipolar memories are integers, `F` of an
/// integer is an integer for the polynomial families, and `β` and the
/// normalization `1/D` only scale every term by the same positive factor
/// (homogeneity), which cannot change a sign. The fields are therefore
/// computed unscaled, as integers held in `f64`: [`BipolarMemory::pack`]
/// accepts a problem only if every quantity involved stays below `2^53`
/// in magnitude (`4 K (D + 2)^n ≤ 2^53`), where `f64` represents integers
/// exactly and adds them exactly in any order. Ties (`h_i = 0`) go to `+1`
/// as in [`BipolarMemory::retrieve`].
///
/// The two are the same rule; [`BipolarMemory::retrieve`] evaluates it in
/// `T` and rounds (a power `a^n` above `2^24` is not exact in `f32`), this
/// one does not. A decision can therefore only differ where the rounding
/// error of `retrieve`'s sum exceeds `|h_i|`, and then this one is the
/// exact sign. The tests compare the two on the benchmark's problems (the
/// same final states) and on random small problems, where `retrieve` is
/// exact too.
///
/// ```
/// use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};
/// let xi = [1.0f32, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0];
/// let net = BipolarMemory::new(MemoryView::new(&xi, 2, 6)?,
///     Interaction::Polynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let mut words = [0u64; 6]; // net.packed_len(): D · ⌈K/64⌉
/// let packed = net.pack(&mut words)?;
/// let mut scratch = [0.0f64; 4]; // packed.scratch_len(): 2K
/// let mut state = [1i8, 1, 1, 1, -1, 1];
/// let r = packed.retrieve(&mut state, &mut scratch, UpdateOrder::Sequential, 10)?;
/// assert_eq!((state, r.stop), ([1, 1, 1, 1, -1, -1], Stop::FixedPoint));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PackedBipolar<'a, 'p, T> {
    net: BipolarMemory<'a, T>,
    columns: &'p [u64],
    words: usize,
    fields: Fields,
}

impl<'a, T: Real> BipolarMemory<'a, T> {
    /// The length of the buffer [`BipolarMemory::pack`] needs, in `u64`
    /// words: `D · ⌈K/64⌉` (saturating).
    pub fn packed_len(&self) -> usize {
        self.memories
            .d()
            .saturating_mul(self.memories.k().div_ceil(64))
    }

    /// Packs the memories by column into `buf` (at least
    /// [`BipolarMemory::packed_len`] words; done once per set of memories)
    /// for [`PackedBipolar`]'s sweeps.
    ///
    /// Errors: [`Error::ShapeMismatch`] (operand [`Operand::Scratch`]) if
    /// `buf` is too short; [`Error::NotBipolar`] if a memory entry is not
    /// exactly `±1` (row-major index); [`Error::InvalidParameter`] if `F` is
    /// not a polynomial or rectified polynomial (the leaky and exponential
    /// families have no exact integer form: use
    /// [`BipolarMemory::retrieve`]); [`Error::Overflow`] if the exact
    /// integer fields could exceed `2^53` (`4 K (D + 2)^n > 2^53`, e.g.
    /// `n ≥ 5` at `K = D = 1000`: use [`BipolarMemory::retrieve`]).
    pub fn pack<'p>(&self, buf: &'p mut [u64]) -> Result<PackedBipolar<'a, 'p, T>> {
        let (k, d) = (self.memories.k(), self.memories.d());
        let words = k.div_ceil(64);
        let len = self.packed_len();
        check_scratch(Operand::Scratch, len, buf.len())?;
        let Some((rectified, n)) = self.f.homogeneous() else {
            return Err(match self.f {
                Interaction::LeakyRectifiedPolynomial { leak, .. } => Error::InvalidParameter {
                    param: Param::Leak,
                    value: leak.to_f64(),
                },
                _ => Error::InvalidParameter {
                    param: Param::Degree,
                    value: 0.0,
                },
            });
        };
        // 4 K (D + 2)^n ≤ 2^53, in exact integers.
        const EXACT: u128 = 1 << 53;
        let mut bound = 4u128.saturating_mul(k as u128);
        for _ in 0..n {
            if bound > EXACT {
                break;
            }
            bound = bound.saturating_mul((d as u128).saturating_add(2));
        }
        let fields = Fields::new(n, rectified);
        let Some(fields) = fields.filter(|_| bound <= EXACT) else {
            return Err(Error::Overflow {
                quantity: Quantity::Interaction,
                ln_magnitude: (4.0 * k as f64).ln() + f64::from(n) * ((d as f64) + 2.0).ln(),
            });
        };
        let columns = buf.get_mut(..len).unwrap_or(&mut []);
        columns.fill(0);
        for (mu, row) in crate::indexed(self.memories.rows()) {
            let (word, bit) = (mu / 64, mu % 64);
            for ((i, &x), col) in crate::indexed(row).zip(columns.chunks_exact_mut(words.max(1))) {
                if x == T::ONE {
                    if let Some(w) = col.get_mut(word) {
                        *w |= 1 << bit;
                    }
                } else if x != -T::ONE {
                    return Err(Error::NotBipolar {
                        index: mu.saturating_mul(d).saturating_add(i),
                    });
                }
            }
        }
        Ok(PackedBipolar {
            net: *self,
            columns,
            words,
            fields,
        })
    }
}

impl<'a, T: Real> PackedBipolar<'a, '_, T> {
    /// The network.
    pub fn memory(&self) -> BipolarMemory<'a, T> {
        self.net
    }

    /// The length of the scratch [`PackedBipolar::retrieve`] needs: `2K`
    /// (the overlaps and the per-memory fields).
    pub fn scratch_len(&self) -> usize {
        self.net.memories.k().saturating_mul(2)
    }

    /// [`BipolarMemory::retrieve`] on the packed columns: the same orders,
    /// sweeps, stopping rule and [`Retrieval`], the exact decisions (see
    /// [`PackedBipolar`]). `scratch` holds at least
    /// [`PackedBipolar::scratch_len`] entries.
    ///
    /// Errors: a shape/scratch mismatch (also of a random order's buffer),
    /// a non-bipolar state, `max_sweeps = 0`. No overflow: `pack` checked
    /// the range.
    pub fn retrieve(
        &self,
        state: &mut [i8],
        scratch: &mut [f64],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
    ) -> Result<Retrieval> {
        self.relax(state, scratch, order, max_sweeps, None)
    }

    /// [`BipolarMemory::complete`] on the packed columns: neurons where
    /// `known[i]` is `true` are clamped.
    ///
    /// Errors: those of [`PackedBipolar::retrieve`], and a `known` not `D`
    /// long.
    pub fn complete(
        &self,
        state: &mut [i8],
        scratch: &mut [f64],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
        known: &[bool],
    ) -> Result<Retrieval> {
        if known.len() != self.net.memories.d() {
            return Err(Error::ShapeMismatch {
                operand: Operand::Mask,
                expected: self.net.memories.d(),
                found: known.len(),
            });
        }
        self.relax(state, scratch, order, max_sweeps, Some(known))
    }

    fn relax(
        &self,
        state: &mut [i8],
        scratch: &mut [f64],
        order: UpdateOrder<'_>,
        max_sweeps: usize,
        known: Option<&[bool]>,
    ) -> Result<Retrieval> {
        self.net.check_state(state)?;
        let k = self.net.memories.k();
        check_scratch(Operand::Scratch, self.scratch_len(), scratch.len())?;
        let (overlaps, fields) = split_scratch(scratch, k)?;
        let engine = Packed {
            columns: self.columns,
            words: self.words,
            fields: self.fields,
            overlaps,
            fields_b: fields.get_mut(..k).unwrap_or(&mut []),
            sum_b: 0.0,
            sum_u: 0.0,
        };
        run(
            engine,
            self.net.memories.d(),
            state,
            order,
            max_sweeps,
            known,
        )
    }
}

/// The packed evaluation (see [`PackedBipolar`]): `overlaps` holds `m_μ`,
/// `fields` holds `b(m_μ)`, and `sum_b`, `sum_u` their sums `Σ b`, `Σ u`,
/// all integers below `2^53`.
struct Packed<'p, 's> {
    columns: &'p [u64],
    words: usize,
    fields: Fields,
    overlaps: &'s mut [f64],
    fields_b: &'s mut [f64],
    sum_b: f64,
    sum_u: f64,
}

impl Packed<'_, '_> {
    fn column(&self, i: usize) -> &[u64] {
        column(self.columns, self.words, i)
    }
}

/// Column `i` of the packed memories (empty if out of range).
fn column(columns: &[u64], words: usize, i: usize) -> &[u64] {
    columns
        .get(i.saturating_mul(words)..)
        .and_then(|c| c.get(..words))
        .unwrap_or(&[])
}

impl Engine for Packed<'_, '_> {
    fn fill(&mut self, state: &[i8]) {
        (self.sum_b, self.sum_u) = bits::fill(
            &self.fields,
            self.columns,
            self.words,
            state,
            self.overlaps,
            self.fields_b,
        );
    }

    fn decide(&self, i: usize, sigma_i: i8) -> Result<i8> {
        let s = if sigma_i >= 0 { 1.0 } else { -1.0 };
        let plus = bits::masked_sum(self.column(i), self.fields_b);
        // Exact: integers below 2^53 (see `PackedBipolar`).
        let h = 2.0 * plus - self.sum_b - s * self.sum_u;
        Ok(if h >= 0.0 { 1 } else { -1 })
    }

    fn track(&mut self, i: usize, new: i8) {
        let two_s = if new > 0 { 2.0 } else { -2.0 };
        let col = column(self.columns, self.words, i);
        (self.sum_b, self.sum_u) =
            bits::flip(&self.fields, col, two_s, self.overlaps, self.fields_b);
    }
}

/// One evaluation of the update rule, behind the sweep loop of [`run`]
/// (orders, clamping, stopping), which both paths share.
trait Engine {
    /// Sets the overlaps of `state` (`D` long, bipolar) from scratch.
    fn fill(&mut self, state: &[i8]);
    /// The new value of neuron `i` (currently `sigma_i`) under the current
    /// overlaps.
    fn decide(&self, i: usize, sigma_i: i8) -> Result<i8>;
    /// Neuron `i` has just flipped to `new`: the overlaps follow.
    fn track(&mut self, i: usize, new: i8);
}

/// The direct evaluation: row-major memories, `T` overlaps, `F` per pair.
struct Reference<'n, 'o, 'a, T> {
    net: &'n BipolarMemory<'a, T>,
    overlaps: &'o mut [T],
}

impl<T: Real> Engine for Reference<'_, '_, '_, T> {
    fn fill(&mut self, state: &[i8]) {
        self.net.fill_overlaps(state, self.overlaps);
    }

    fn decide(&self, i: usize, sigma_i: i8) -> Result<i8> {
        self.net.decide(self.overlaps, i, sigma_i)
    }

    fn track(&mut self, i: usize, new: i8) {
        let two_s = if new > 0 { T::TWO } else { -T::TWO };
        for (m, x) in self.overlaps.iter_mut().zip(self.net.memories.column(i)) {
            *m = x.mul_add(two_s, *m);
        }
    }
}

/// The sweeps of [`BipolarMemory::retrieve`] and [`PackedBipolar::retrieve`]
/// over `d` neurons (`state` checked bipolar and `d` long, `known`, if
/// given, `d` long).
fn run<E: Engine>(
    mut engine: E,
    d: usize,
    state: &mut [i8],
    order: UpdateOrder<'_>,
    max_sweeps: usize,
    known: Option<&[bool]>,
) -> Result<Retrieval> {
    let free = |i: usize| known.is_none_or(|m| !m.get(i).copied().unwrap_or(false));
    if max_sweeps == 0 {
        return Err(Error::InvalidParameter {
            param: Param::Iterations,
            value: 0.0,
        });
    }
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

    engine.fill(state);
    let mut flips = 0usize;
    for sweep in 1..=max_sweeps {
        let mut changed = 0usize;
        if let Some(rng) = rng.as_mut() {
            rng.shuffle(perm);
            for &i in perm.iter() {
                if free(i as usize) {
                    let flip = update_neuron(&mut engine, state, i as usize, true)?;
                    changed = changed.saturating_add(flip);
                }
            }
        } else {
            for i in (0..d).filter(|&i| free(i)) {
                let flip = update_neuron(&mut engine, state, i, !synchronous)?;
                changed = changed.saturating_add(flip);
            }
            if synchronous && changed > 0 {
                engine.fill(state);
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
fn update_neuron<E: Engine>(
    engine: &mut E,
    state: &mut [i8],
    i: usize,
    track: bool,
) -> Result<usize> {
    let Some(sigma) = state.get_mut(i) else {
        return Ok(0);
    };
    let new = engine.decide(i, *sigma)?;
    if new == *sigma {
        return Ok(0);
    }
    *sigma = new;
    if track {
        engine.track(i, new);
    }
    Ok(1)
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
