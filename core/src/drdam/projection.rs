//! Sources of the random projection `S ∈ R^(Y×D)`.

use crate::drdam::philox::philox4x32_10;
use crate::error::{Error, Operand, Result, check_scratch};
use crate::memory::MemoryView;
use crate::real::Real;

/// Rows of a `Y × D` projection with i.i.d. `N(0, 1)` entries.
pub trait Projection<T: Real> {
    /// The number of features `Y`.
    fn features(&self) -> usize;
    /// The state dimension `D`.
    fn dim(&self) -> usize;
    /// Scratch [`Projection::row`] needs (0 if rows are stored).
    fn scratch_len(&self) -> usize;
    /// Row `j` of `S`, from storage or generated into `scratch`; `None` if
    /// `j ≥ Y` or `scratch` is shorter than [`Projection::scratch_len`].
    fn row<'s>(&'s self, j: usize, scratch: &'s mut [T]) -> Option<&'s [T]>;
}

/// A projection held in a caller-provided row-major `Y × D` buffer (in RAM,
/// or in flash after [`SeededProjection::fill`] on the host).
///
/// ```
/// use dam_core::{Projection, SeededProjection, StoredProjection};
/// let seeded = SeededProjection::new(7, 3, 5)?;
/// let mut buf = [0.0f32; 15];
/// seeded.fill(&mut buf)?;
/// let stored = StoredProjection::new(&buf, 3, 5)?;
/// let mut scratch = [0.0f32; 5];
/// assert_eq!(stored.row(2, &mut []), seeded.row(2, &mut scratch));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoredProjection<'a, T> {
    // A Y × D matrix with the same invariants as a memory matrix.
    rows: MemoryView<'a, T>,
}

impl<'a, T: Real> StoredProjection<'a, T> {
    /// Views `data` as `y` rows of `d`; the checks (and errors) of
    /// [`MemoryView::new`].
    pub fn new(data: &'a [T], y: usize, d: usize) -> Result<Self> {
        Ok(StoredProjection {
            rows: MemoryView::new(data, y, d)?,
        })
    }
}

impl<T: Real> Projection<T> for StoredProjection<'_, T> {
    fn features(&self) -> usize {
        self.rows.k()
    }
    fn dim(&self) -> usize {
        self.rows.d()
    }
    fn scratch_len(&self) -> usize {
        0
    }
    fn row<'s>(&'s self, j: usize, _scratch: &'s mut [T]) -> Option<&'s [T]> {
        self.rows.row(j)
    }
}

/// A projection regenerated from a seed, row by row: `O(D)` scratch instead
/// of `O(Y·D)` storage.
///
/// Entry `(j, i)` comes from Philox4x32-10 under key `seed` (low word
/// first) at counter `[i / 4, j mod 2^32, j / 2^32, 0x44724441]`: the four
/// output words give entries `4⌊i/4⌋ … 4⌊i/4⌋+3` through two Box–Muller
/// pairs ([`gaussian_pair`]). Everything is integer arithmetic plus `f32`
/// libm calls in a fixed order (no fused multiply-add), so the same seed
/// gives bit-identical projections on x86_64, aarch64 and Cortex-M, for
/// `f32` and `f64` models alike (entries are `f32` values).
///
/// ```
/// use dam_core::{Projection, SeededProjection};
/// let p = SeededProjection::new(42, 1000, 8)?;
/// let mut row = [0.0f64; 8];
/// let r = p.row(999, &mut row).unwrap();
/// assert!(r.iter().all(|z| z.abs() < 7.0));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SeededProjection {
    seed: u64,
    y: usize,
    d: usize,
}

/// Distinguishes this stream from other uses of the same seed ("DrDA").
const STREAM: u32 = 0x4472_4441;

impl SeededProjection {
    /// A `y × d` projection from `seed`.
    pub fn new(seed: u64, y: usize, d: usize) -> Result<Self> {
        if y == 0 || d == 0 {
            return Err(Error::EmptyMemory);
        }
        Ok(SeededProjection { seed, y, d })
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Writes row `j` into `out[..D]` (nothing if `j ≥ Y`).
    pub fn fill_row<T: Real>(&self, j: usize, out: &mut [T]) {
        if j >= self.y {
            return;
        }
        let key = [self.seed as u32, (self.seed >> 32) as u32];
        let j64 = j as u64;
        let out = out.get_mut(..self.d).unwrap_or(&mut []);
        for (block, chunk) in crate::indexed(out.chunks_mut(4)) {
            let w = philox4x32_10([block as u32, j64 as u32, (j64 >> 32) as u32, STREAM], key);
            let (z0, z1) = gaussian_pair(w[0], w[1]);
            let (z2, z3) = gaussian_pair(w[2], w[3]);
            for (o, z) in chunk.iter_mut().zip([z0, z1, z2, z3]) {
                *o = T::from_f64(f64::from(z));
            }
        }
    }

    /// Writes the whole `Y × D` projection, row-major, into `out`.
    pub fn fill<T: Real>(&self, out: &mut [T]) -> Result<()> {
        check_scratch(Operand::Output, self.y.saturating_mul(self.d), out.len())?;
        for (j, row) in out.chunks_exact_mut(self.d.max(1)).take(self.y).enumerate() {
            self.fill_row(j, row);
        }
        Ok(())
    }
}

impl<T: Real> Projection<T> for SeededProjection {
    fn features(&self) -> usize {
        self.y
    }
    fn dim(&self) -> usize {
        self.d
    }
    fn scratch_len(&self) -> usize {
        self.d
    }
    fn row<'s>(&'s self, j: usize, scratch: &'s mut [T]) -> Option<&'s [T]> {
        if j >= self.y {
            return None;
        }
        let row = scratch.get_mut(..self.d)?;
        self.fill_row(j, row);
        Some(row)
    }
}

/// Two independent `N(0, 1)` samples from two random words (Box–Muller):
/// `u1 = (⌊a/2^8⌋ + 1)/2^24 ∈ (0, 1]`, `u2 = ⌊b/2^8⌋/2^24 ∈ [0, 1)`,
/// `r = √(−2 ln u1)`, result `(r cos 2πu2, r sin 2πu2)`. `|z| ≤ 5.77`
/// (at `u1 = 2^-24`), so the tails beyond that are cut.
///
/// ```
/// let (a, b) = dam_core::drdam::gaussian_pair(0, u32::MAX);
/// assert!(a.is_finite() && b.is_finite() && (a * a + b * b).sqrt() > 5.7);
/// ```
pub fn gaussian_pair(a: u32, b: u32) -> (f32, f32) {
    const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;
    let u1 = ((a >> 8) + 1) as f32 * TWO_POW_MINUS_24;
    let u2 = (b >> 8) as f32 * TWO_POW_MINUS_24;
    let r = libm::sqrtf(-2.0 * libm::logf(u1));
    let theta = core::f32::consts::TAU * u2;
    (r * libm::cosf(theta), r * libm::sinf(theta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "statistical: moments of 100 000 draws, about 3 minutes under Miri; \
                  golden_row and golden_checksum_of_a_whole_projection run the generator there"
    )]
    fn seeded_rows_have_gaussian_moments() {
        let p = SeededProjection::new(3, 2000, 50).unwrap();
        let mut row = [0.0f64; 50];
        let (mut sum, mut sq, mut quad, mut n) = (0.0, 0.0, 0.0, 0.0);
        for j in 0..2000 {
            p.fill_row(j, &mut row);
            for &z in &row {
                sum += z;
                sq += z * z;
                quad += z * z * z * z;
                n += 1.0;
            }
        }
        let mean = sum / n;
        let var = sq / n - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
        assert!((quad / n - 3.0).abs() < 0.06, "kurtosis {}", quad / n);
    }

    #[test]
    fn rows_differ_and_seeds_differ() {
        let a = SeededProjection::new(1, 3, 6).unwrap();
        let b = SeededProjection::new(2, 3, 6).unwrap();
        let (mut r0, mut r1, mut r2) = ([0.0f32; 6], [0.0f32; 6], [0.0f32; 6]);
        a.fill_row(0, &mut r0);
        a.fill_row(1, &mut r1);
        b.fill_row(0, &mut r2);
        assert_ne!(r0, r1);
        assert_ne!(r0, r2);
        let mut again = [0.0f32; 6];
        a.fill_row(0, &mut again);
        assert_eq!(r0, again);
    }

    /// A golden value, so any change to the documented generator (and any
    /// target that computes it differently) fails here.
    #[test]
    fn golden_row() {
        let p = SeededProjection::new(0x0123_4567_89AB_CDEF, 10, 4).unwrap();
        let mut row = [0.0f32; 4];
        p.fill_row(7, &mut row);
        let bits = row.map(f32::to_bits);
        assert_eq!(bits, GOLDEN, "{row:?}");
    }

    /// FNV-1a (64-bit) of the bits of every entry of a whole seeded
    /// projection, row by row: `Y = 64` rows of an odd `D = 13` (so rows
    /// start mid-way through a Philox block), in f32 and in f64.
    /// `boards/qemu-an386` computes the same on the emulated Cortex-M4F
    /// (FPU and soft-float builds) and must find these constants.
    #[test]
    fn golden_checksum_of_a_whole_projection() {
        let p = SeededProjection::new(0x0123_4567_89AB_CDEF, 64, 13).unwrap();
        let fnv = |h: u64, bytes: &[u8]| {
            bytes.iter().fold(h, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        let (mut h32, mut h64) = (0xcbf2_9ce4_8422_2325u64, 0xcbf2_9ce4_8422_2325u64);
        let (mut r32, mut r64) = ([0.0f32; 13], [0.0f64; 13]);
        for j in 0..64 {
            p.fill_row(j, &mut r32);
            p.fill_row(j, &mut r64);
            for (a, b) in r32.iter().zip(&r64) {
                h32 = fnv(h32, &a.to_bits().to_le_bytes());
                h64 = fnv(h64, &b.to_bits().to_le_bytes());
            }
        }
        assert_eq!((h32, h64), GOLDEN_CHECKSUMS, "{h32:#018x} {h64:#018x}");
    }

    const GOLDEN_CHECKSUMS: (u64, u64) = (0x14a1_b849_637c_f7a3, 0x0d4e_b822_97bc_56ee);

    // Recorded from this implementation on x86_64 and checked against an
    // independent Python rendering of the documented algorithm (to f32
    // rounding): -1.1729574, 1.3618836, -0.7174674, 0.53016174.
    const GOLDEN: [u32; 4] = [3214287736, 1068388916, 3208096754, 1057470638];
}
