//! The host side of `boards/drdam-learn`: learning on the device with a
//! random-feature memory ([`dam_core::DrDam`] over a
//! [`dam_core::SeededProjection`]), and the vectors the board checks itself
//! against.
//!
//! The sequence (the board runs the same one, [`sequence`]):
//! 1. an empty memory `T = 0` (`2Y` floats) over the seeded projection;
//! 2. `N` bipolar patterns of `D` entries arrive one at a time over a
//!    "link" (bits packed LSB first, `D/8` bytes each; [`patterns`]) and each
//!    is stored (`T += φ(ξ)`);
//! 3. the first [`RECALLS`] patterns are received again with their second
//!    half unknown (set to 0 and free; the first half clamped) and completed
//!    by [`DESCENT_STEPS`] steps of gradient descent ([`dam_core::EnergyModel::descend`]);
//! 4. pattern [`FORGOTTEN`] is forgotten (`T −= φ(ξ)`), its cue completed
//!    again, and the others' cues too.
//!
//! **Bit-identical to the board.** `dam-core` on the host sums dot products
//! with the host's SIMD path and, on x86_64 without `fma`, multiplies and
//! adds separately; on the Cortex-M4F every `mul_add` is one `vfma.f32`
//! and the dot products are the `vfma.f32` loop of `dam_core::simd`
//! (4 accumulators over blocks of 8). [`Mirror`] is the code of
//! `DrDam::store`, `forget`, `energy`, `energy_and_gradient` and
//! `EnergyModel::descend` step for step, over an [`Arith`]: with [`Host`]
//! (`dam_core::simd::dot`/`axpy`, `Real::mul_add`) it reproduces `dam-core`
//! on this machine bit for bit (the tests check it against `DrDam`), with
//! [`CortexM4F`] the board (the board checks every word). Everything else
//! (the Philox projection, the `f32` sine/cosine of `dam_core::trig`, libm's
//! `logf`, IEEE division and square root) is the same code on both.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use dam_core::trig::sin_cos_f32;
use dam_core::{Projection, Real, SeededProjection};

use crate::firmware::SumOrder;

/// Entries per pattern.
pub const D: usize = 32;
/// Random features `Y` (the memory is `2Y` floats).
pub const FEATURES: usize = 512;
/// Inverse temperature `β`.
pub const BETA: f32 = 0.2;
/// Seed of the projection.
pub const SEED: u64 = 0x0D1C_EA5E_1EA2_0001;
/// Seed of the patterns the "link" delivers.
pub const PATTERN_SEED: u64 = 2026;
/// Step size `η` of the descent.
pub const STEP: f32 = 0.5;
/// Steps of each completion.
pub const DESCENT_STEPS: usize = 10;
/// Entries `0..KNOWN` of a cue are known (clamped); the rest start at 0.
pub const KNOWN: usize = D / 2;
/// Patterns completed (the first ones received).
pub const RECALLS: usize = 10;
/// The pattern forgotten.
pub const FORGOTTEN: usize = 0;
/// Bytes of one pattern on the link.
pub const PATTERN_BYTES: usize = D / 8;

/// The arithmetic a target does differently: dot products, `y += αx`, and
/// `a·b + c`.
pub trait Arith {
    /// `Σ a_i b_i` in this target's order and rounding.
    fn dot(a: &[f32], b: &[f32]) -> f32;
    /// `y_i = α·x_i + y_i` as this target rounds it.
    fn axpy(alpha: f32, x: &[f32], y: &mut [f32]);
    /// `a·b + c`: `dam_core::Real::mul_add` on this target.
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// This machine, as `dam-core` computes here.
#[derive(Debug, Clone, Copy)]
pub struct Host;

impl Arith for Host {
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        dam_core::simd::dot(a, b)
    }
    fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        dam_core::simd::axpy(alpha, x, y)
    }
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        Real::mul_add(a, b, c)
    }
}

/// `thumbv7em-none-eabihf`: fused multiply-adds everywhere, the `vfma.f32`
/// dot product ([`SumOrder::CortexM4F`]); `axpy` is the scalar reference
/// with fused multiply-adds.
#[derive(Debug, Clone, Copy)]
pub struct CortexM4F;

impl Arith for CortexM4F {
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        SumOrder::CortexM4F.dot(a, b)
    }
    fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi = alpha.mul_add(xi, *yi);
        }
    }
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// `DrDam<f32, SeededProjection, _>` written out with the arithmetic of `A`
/// (the module docs). Only what the board uses; errors are not reproduced
/// (the sequence stays in range, and the tests compare with `DrDam`).
#[derive(Debug, Clone)]
pub struct Mirror<A> {
    projection: SeededProjection,
    beta: f32,
    sqrt_beta: f32,
    memory: Vec<f32>,
    arith: std::marker::PhantomData<A>,
}

impl<A: Arith> Mirror<A> {
    /// An empty memory (`T = 0`).
    pub fn new(projection: SeededProjection, beta: f32) -> Self {
        let y = Projection::<f32>::features(&projection);
        Mirror {
            projection,
            beta,
            sqrt_beta: Real::sqrt(beta),
            memory: vec![0.0; 2 * y],
            arith: std::marker::PhantomData,
        }
    }

    /// `T`.
    pub fn memory(&self) -> &[f32] {
        &self.memory
    }

    fn y(&self) -> usize {
        Projection::<f32>::features(&self.projection)
    }

    fn row(&self, j: usize, scratch: &mut [f32]) {
        self.projection.fill_row(j, scratch);
    }

    /// `DrDam::store`.
    pub fn store(&mut self, xi: &[f32]) {
        self.accumulate(xi, 1.0)
    }

    /// `DrDam::forget`.
    pub fn forget(&mut self, xi: &[f32]) {
        self.accumulate(xi, -1.0)
    }

    fn accumulate(&mut self, xi: &[f32], sign: f32) {
        let y = self.y();
        let norm = sign / Real::sqrt(y as f32);
        let mut row = vec![0.0f32; xi.len()];
        let (t_cos, t_sin) = self.memory.split_at_mut(y);
        for (j, (tc, ts)) in t_cos.iter_mut().zip(t_sin.iter_mut()).enumerate() {
            self.projection.fill_row(j, &mut row);
            let (s, c) = sin_cos_f32(self.sqrt_beta * A::dot(&row, xi));
            *tc = A::mul_add(c, norm, *tc);
            *ts = A::mul_add(s, norm, *ts);
        }
    }

    /// `φ(x)·T`, calling `each(w_j, row_j)` per feature (`DrDam`'s `pass`).
    fn pass(&self, x: &[f32], mut each: impl FnMut(f32, &[f32])) -> f32 {
        let y = self.y();
        let (t_cos, t_sin) = self.memory.split_at(y);
        let mut row = vec![0.0f32; x.len()];
        let mut dot = 0.0f32;
        for (j, (&tc, &ts)) in t_cos.iter().zip(t_sin).enumerate() {
            self.row(j, &mut row);
            let h = self.sqrt_beta * A::dot(&row, x);
            let (s, c) = sin_cos_f32(h);
            dot = A::mul_add(c, tc, dot);
            dot = A::mul_add(s, ts, dot);
            each(-s * tc + c * ts, &row);
        }
        dot / Real::sqrt(y as f32)
    }

    fn energy_from(&self, phi_t: f32) -> f32 {
        let floor = 1e-30f64 as f32;
        -(Real::ln(phi_t.max(floor))) / self.beta
    }

    /// `EnergyModel::energy`.
    pub fn energy(&self, x: &[f32]) -> f32 {
        self.energy_from(self.pass(x, |_, _| {}))
    }

    /// `EnergyModel::energy_and_gradient`.
    pub fn energy_and_gradient(&self, x: &[f32], grad: &mut [f32]) -> f32 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let phi_t = self.pass(x, |w, row| A::axpy(w, row, grad));
        if phi_t <= 1e-30f64 as f32 {
            grad.iter_mut().for_each(|g| *g = 0.0);
        } else {
            let scale = -1.0 / (self.sqrt_beta * Real::sqrt(self.y() as f32) * phi_t);
            grad.iter_mut().for_each(|g| *g *= scale);
        }
        self.energy_from(phi_t)
    }

    /// `EnergyModel::descend`: `steps` steps of `x ← x − η∇Ẽ(x)` on the
    /// entries where `mask` is false; returns the final energy.
    pub fn descend(&self, x: &mut [f32], mask: &[bool], step: f32, steps: usize) -> f32 {
        let mut grad = vec![0.0f32; x.len()];
        for _ in 0..steps {
            self.energy_and_gradient(x, &mut grad);
            for (i, (g, &xi)) in grad.iter_mut().zip(x.iter()).enumerate() {
                *g = if mask[i] {
                    xi
                } else {
                    A::mul_add(-step, *g, xi)
                };
            }
            x.copy_from_slice(&grad);
        }
        self.energy(x)
    }
}

/// SplitMix64, the generator of the patterns.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` random bipolar patterns as the link carries them: [`PATTERN_BYTES`]
/// bytes each, entry `i` in bit `i mod 8` of byte `i / 8` (1 = +1).
pub fn patterns(n: usize) -> Vec<u8> {
    let mut state = PATTERN_SEED;
    (0..n * PATTERN_BYTES)
        .map(|_| splitmix(&mut state) as u8)
        .collect()
}

/// The `f32` entries of one received pattern (`±1`).
pub fn unpack(bytes: &[u8]) -> [f32; D] {
    let mut x = [0.0f32; D];
    for (i, v) in x.iter_mut().enumerate() {
        *v = if bytes[i / 8] >> (i % 8) & 1 == 1 {
            1.0
        } else {
            -1.0
        };
    }
    x
}

/// The cue of a pattern: the first [`KNOWN`] entries, 0 elsewhere.
pub fn cue(xi: &[f32; D]) -> [f32; D] {
    let mut x = [0.0f32; D];
    x[..KNOWN].copy_from_slice(&xi[..KNOWN]);
    x
}

/// The mask of the known entries.
pub fn mask() -> [bool; D] {
    let mut m = [false; D];
    m[..KNOWN].iter_mut().for_each(|k| *k = true);
    m
}

/// Whether a completion recovered a pattern: every unknown entry has the
/// pattern's sign.
pub fn recovered(x: &[f32], xi: &[f32]) -> bool {
    x[KNOWN..]
        .iter()
        .zip(&xi[KNOWN..])
        .all(|(&a, &b)| (a > 0.0) == (b > 0.0) && a != 0.0)
}

/// FNV-1a (64-bit) of the bits of `values` (little-endian): the board
/// hashes `T` the same way.
pub fn fnv(values: &[f32]) -> u64 {
    values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// One completion: the final state, the energy there, and the energy at
/// the pattern itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The state after the descent.
    pub state: [f32; D],
    /// `Ẽ` at that state.
    pub energy: f32,
    /// `Ẽ(ξ)` of the pattern the cue came from.
    pub energy_at_pattern: f32,
}

impl Completion {
    fn words(&self) -> impl Iterator<Item = u32> + '_ {
        self.state
            .iter()
            .chain([&self.energy, &self.energy_at_pattern])
            .map(|v| v.to_bits())
    }
}

/// Everything the board checks, in the order of [`Expected::words`].
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// [`fnv`] of `T` after the `N` stores.
    pub stored_hash: u64,
    /// The completions of patterns `0..RECALLS` (fewer if `N` is smaller).
    pub before: Vec<Completion>,
    /// [`fnv`] of `T` after forgetting [`FORGOTTEN`].
    pub forgotten_hash: u64,
    /// The completions of the same cues after forgetting.
    pub after: Vec<Completion>,
}

impl Expected {
    /// The `u32` words of `expected.u32`: the stored hash (low word
    /// first), the completions before (per completion: `D` state words, the
    /// energy, the energy at the pattern), the hash after forgetting, the
    /// completions after, all little-endian `f32` bits.
    pub fn words(&self) -> Vec<u32> {
        let mut w = vec![self.stored_hash as u32, (self.stored_hash >> 32) as u32];
        self.before.iter().for_each(|c| w.extend(c.words()));
        w.extend([
            self.forgotten_hash as u32,
            (self.forgotten_hash >> 32) as u32,
        ]);
        self.after.iter().for_each(|c| w.extend(c.words()));
        w
    }
}

/// The projection of the board.
pub fn projection() -> SeededProjection {
    SeededProjection::new(SEED, FEATURES, D).expect("FEATURES and D are not 0")
}

/// Runs the sequence of the module docs for `n` patterns (`n ≥ 1`) with the
/// arithmetic of `A`.
pub fn sequence<A: Arith>(n: usize) -> Expected {
    let link = patterns(n);
    let mut dam = Mirror::<A>::new(projection(), BETA);
    for p in link.chunks_exact(PATTERN_BYTES) {
        dam.store(&unpack(p));
    }
    let stored_hash = fnv(dam.memory());
    let recalls = RECALLS.min(n);
    let complete = |dam: &Mirror<A>, r: usize| {
        let xi = unpack(&link[r * PATTERN_BYTES..(r + 1) * PATTERN_BYTES]);
        let mut x = cue(&xi);
        let energy = dam.descend(&mut x, &mask(), STEP, DESCENT_STEPS);
        Completion {
            state: x,
            energy,
            energy_at_pattern: dam.energy(&xi),
        }
    };
    let before = (0..recalls).map(|r| complete(&dam, r)).collect();
    let f = FORGOTTEN * PATTERN_BYTES;
    dam.forget(&unpack(&link[f..f + PATTERN_BYTES]));
    let forgotten_hash = fnv(dam.memory());
    let after = (0..recalls).map(|r| complete(&dam, r)).collect();
    Expected {
        stored_hash,
        before,
        forgotten_hash,
        after,
    }
}

/// Writes the board's vectors for `n` patterns into `dir`: `patterns.u8`
/// (the link stream), `expected.u32` ([`Expected::words`] for
/// [`CortexM4F`]) and `params.rs` (the constants of this module, which the
/// board `include!`s).
pub fn write(dir: &Path, n: usize) -> Result<Expected> {
    if n < FORGOTTEN + 1 {
        bail!("at least {} patterns are needed", FORGOTTEN + 1);
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let expected = sequence::<CortexM4F>(n);
    let words: Vec<u8> = expected
        .words()
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let params = format!(
        "// Written by `cargo run --release -p dam-std --example drdam_learn_vectors`\n\
         // (dam_std::learn_board); do not edit.\n\
         pub const D: usize = {D};\n\
         pub const FEATURES: usize = {FEATURES};\n\
         pub const BETA: f32 = {BETA:?};\n\
         pub const SEED: u64 = {SEED:#x};\n\
         pub const STEP: f32 = {STEP:?};\n\
         pub const DESCENT_STEPS: usize = {DESCENT_STEPS};\n\
         pub const KNOWN: usize = {KNOWN};\n\
         pub const RECALLS: usize = {recalls};\n\
         pub const FORGOTTEN: usize = {FORGOTTEN};\n\
         pub const PATTERNS: usize = {n};\n\
         pub const PATTERN_BYTES: usize = {PATTERN_BYTES};\n",
        recalls = RECALLS.min(n),
    );
    for (name, bytes) in [
        ("patterns.u8", patterns(n)),
        ("expected.u32", words),
        ("params.rs", params.into_bytes()),
    ] {
        let path = dir.join(name);
        crate::model_io::write_atomic(&path, &bytes)?;
    }
    Ok(expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::{DrDam, EnergyModel};

    /// `Mirror<Host>` is `DrDam` on this machine, bit for bit, through
    /// stores, energies, gradients, descents and a forget.
    #[test]
    fn mirror_is_drdam_bit_for_bit() {
        let link = patterns(12);
        let mut dam = DrDam::new(projection(), BETA, vec![0.0f32; 2 * FEATURES]).unwrap();
        let mut mirror = Mirror::<Host>::new(projection(), BETA);
        let mut scratch = [0.0f32; 2 * D];
        for p in link.chunks_exact(PATTERN_BYTES) {
            dam.store(&unpack(p), &mut scratch[..D]).unwrap();
            mirror.store(&unpack(p));
        }
        assert_eq!(fnv(dam.memory()), fnv(mirror.memory()));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for p in link.chunks_exact(PATTERN_BYTES).take(3) {
            let xi = unpack(p);
            let (mut g1, mut g2) = ([0.0f32; D], [0.0f32; D]);
            let e1 = dam
                .energy_and_gradient(&xi, &mut g1, &mut scratch[..D])
                .unwrap();
            let e2 = mirror.energy_and_gradient(&xi, &mut g2);
            assert_eq!((e1.to_bits(), bits(&g1)), (e2.to_bits(), bits(&g2)));
            let (mut x1, mut x2) = (cue(&xi), cue(&xi));
            let d1 = dam
                .descend(&mut x1, Some(&mask()), STEP, DESCENT_STEPS, &mut scratch)
                .unwrap();
            let d2 = mirror.descend(&mut x2, &mask(), STEP, DESCENT_STEPS);
            assert_eq!((d1.energy.to_bits(), bits(&x1)), (d2.to_bits(), bits(&x2)));
        }
        dam.forget(&unpack(&link[..PATTERN_BYTES]), &mut scratch[..D])
            .unwrap();
        mirror.forget(&unpack(&link[..PATTERN_BYTES]));
        assert_eq!(fnv(dam.memory()), fnv(mirror.memory()));
    }

    /// What the board shows with 10 patterns: every cue completes to its
    /// pattern; after forgetting one, its cue no longer does and the energy
    /// at it rises, while the others still complete.
    #[test]
    fn ten_patterns_store_complete_and_forget() {
        for e in [sequence::<CortexM4F>(10), sequence::<Host>(10)] {
            let link = patterns(10);
            let xi = |r: usize| unpack(&link[r * PATTERN_BYTES..(r + 1) * PATTERN_BYTES]);
            for (r, c) in e.before.iter().enumerate() {
                assert!(recovered(&c.state, &xi(r)), "pattern {r}: {c:?}");
                assert_eq!(c.state[..KNOWN], xi(r)[..KNOWN], "clamped entries moved");
            }
            for (r, c) in e.after.iter().enumerate() {
                assert_eq!(recovered(&c.state, &xi(r)), r != FORGOTTEN, "{r}: {c:?}");
            }
            let (b, a) = (&e.before[FORGOTTEN], &e.after[FORGOTTEN]);
            assert!(
                a.energy_at_pattern > b.energy_at_pattern + 1.0,
                "{b:?} {a:?}"
            );
        }
    }
}
