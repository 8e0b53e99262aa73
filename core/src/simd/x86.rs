//! x86_64 paths: SSE2 (the baseline of every x86_64 CPU), AVX2 + FMA and
//! AVX-512F, selected at run time by [`super::Isa::best`].
//!
//! The register types implement [`Lanes`]; the kernels of
//! [`super::lanes`] are instantiated once per instruction set inside a
//! `#[target_feature]` function (module [`sse2`], [`avx2`], [`avx512`]).
#![allow(unsafe_code)]

use super::lanes::{Lanes, impl_lanes, isa_module};
use core::arch::x86_64::*;

cpufeatures::new!(cpu_avx2_fma, "avx2", "fma");
#[cfg(dam_avx512)]
cpufeatures::new!(cpu_avx512f, "avx512f");

/// AVX2 and FMA are usable (CPU and OS); cached after the first call, and a
/// constant when both are enabled at compile time.
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    cpu_avx2_fma::init().get()
}

/// AVX-512F is usable (CPU and OS); cached, constant if enabled at compile time.
#[inline]
pub(crate) fn has_avx512f() -> bool {
    #[cfg(dam_avx512)]
    {
        cpu_avx512f::init().get()
    }
    // Built by a compiler older than 1.89: no AVX-512 kernels (see build.rs).
    #[cfg(not(dam_avx512))]
    {
        false
    }
}

/// [`crate::trig::sin_cos_slice`]'s loop compiled for AVX2 + FMA.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn sin_cos_slice_avx2(x: &[f32], sin_out: &mut [f32], cos_out: &mut [f32]) {
    crate::trig::sin_cos_slice_portable(x, sin_out, cos_out)
}

/// Horizontal sum of four `f32` lanes (SSE2 shuffles).
#[inline(always)]
unsafe fn hsum_ps(v: __m128) -> f32 {
    // SAFETY: SSE2 is part of the x86_64 baseline.
    unsafe {
        let hi = _mm_movehl_ps(v, v);
        let s = _mm_add_ps(v, hi);
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }
}

/// Horizontal sum of two `f64` lanes.
#[inline(always)]
unsafe fn hsum_pd(v: __m128d) -> f64 {
    // SAFETY: SSE2 is part of the x86_64 baseline.
    unsafe { _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))) }
}

/// `[−1; 8]` then `[0; 8]`: a window of 8 starting at `8 − n` selects the
/// first `n` lanes (for the masked loads of partial AVX2 registers; masked
/// lanes are neither read nor able to fault).
static MASK_WINDOW32: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
/// As [`MASK_WINDOW32`] for 4 lanes of 64 bits.
static MASK_WINDOW64: [i64; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];

/// The AVX2 mask selecting the first `min(n, 8)` `f32` lanes.
#[inline(always)]
unsafe fn mask32(n: usize) -> __m256i {
    let start = 8 - n.min(8);
    // SAFETY: `start ≤ 8`, so the 8 `i32`s read lie inside the 16 of the table.
    unsafe { _mm256_loadu_si256(MASK_WINDOW32.as_ptr().add(start).cast()) }
}

/// The AVX2 mask selecting the first `min(n, 4)` `f64` lanes.
#[inline(always)]
unsafe fn mask64(n: usize) -> __m256i {
    let start = 4 - n.min(4);
    // SAFETY: `start ≤ 4`, so the 4 `i64`s read lie inside the 8 of the table.
    unsafe { _mm256_loadu_si256(MASK_WINDOW64.as_ptr().add(start).cast()) }
}

/// The four horizontal sums of `a, b, c, d` with three `vhaddps` and one
/// add of the halves (instead of four separate reductions).
#[inline(always)]
unsafe fn hsum4_avx(a: __m256, b: __m256, c: __m256, d: __m256) -> [f32; 4] {
    // SAFETY: AVX is implied by the AVX2 path that calls this.
    unsafe {
        let ab = _mm256_hadd_ps(a, b); // a01 a23 b01 b23 | a45 a67 b45 b67
        let cd = _mm256_hadd_ps(c, d);
        let abcd = _mm256_hadd_ps(ab, cd); // a0-3 b0-3 c0-3 d0-3 | a4-7 …
        let s = _mm_add_ps(
            _mm256_castps256_ps128(abcd),
            _mm256_extractf128_ps::<1>(abcd),
        );
        let mut out = [0.0f32; 4];
        _mm_storeu_ps(out.as_mut_ptr(), s);
        out
    }
}

impl_lanes!(
    Sse2F32(__m128): [f32; 4],
    zero: _mm_setzero_ps, splat: _mm_set1_ps, load: _mm_loadu_ps, store: _mm_storeu_ps,
    add: _mm_add_ps, sub: _mm_sub_ps,
    mul_add: |a, b, c| _mm_add_ps(_mm_mul_ps(a, b), c),
    sum: |v| hsum_ps(v),
);
impl_lanes!(
    Sse2F64(__m128d): [f64; 2],
    zero: _mm_setzero_pd, splat: _mm_set1_pd, load: _mm_loadu_pd, store: _mm_storeu_pd,
    add: _mm_add_pd, sub: _mm_sub_pd,
    mul_add: |a, b, c| _mm_add_pd(_mm_mul_pd(a, b), c),
    sum: |v| hsum_pd(v),
);
impl_lanes!(
    Avx2F32(__m256): [f32; 8],
    zero: _mm256_setzero_ps, splat: _mm256_set1_ps, load: _mm256_loadu_ps,
    store: _mm256_storeu_ps, add: _mm256_add_ps, sub: _mm256_sub_ps,
    mul_add: |a, b, c| _mm256_fmadd_ps(a, b, c),
    sum: |v| hsum_ps(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v))),
    load_partial: |s| _mm256_maskload_ps(s.as_ptr(), mask32(s.len())),
    sum4: |a, b, c, d| hsum4_avx(a, b, c, d),
);
impl_lanes!(
    Avx2F64(__m256d): [f64; 4],
    zero: _mm256_setzero_pd, splat: _mm256_set1_pd, load: _mm256_loadu_pd,
    store: _mm256_storeu_pd, add: _mm256_add_pd, sub: _mm256_sub_pd,
    mul_add: |a, b, c| _mm256_fmadd_pd(a, b, c),
    sum: |v| hsum_pd(_mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v))),
    load_partial: |s| _mm256_maskload_pd(s.as_ptr(), mask64(s.len())),
);
/// The AVX-512 registers (Rust ≥ 1.89: the intrinsics' first stable release;
/// the crate's MSRV builds without them, see `build.rs`).
#[cfg(dam_avx512)]
#[allow(clippy::incompatible_msrv)]
mod avx512_lanes {
    use super::*;

    /// The lowest `min(n, lanes)` bits set: an AVX-512 lane mask.
    #[inline(always)]
    fn low_bits(n: usize, lanes: usize) -> u32 {
        let n = n.min(lanes);
        if n >= 32 { u32::MAX } else { (1u32 << n) - 1 }
    }

    impl_lanes!(
        Avx512F32(__m512): [f32; 16],
        zero: _mm512_setzero_ps, splat: _mm512_set1_ps, load: _mm512_loadu_ps,
        store: _mm512_storeu_ps, add: _mm512_add_ps, sub: _mm512_sub_ps,
        mul_add: |a, b, c| _mm512_fmadd_ps(a, b, c),
        sum: |v| _mm512_reduce_add_ps(v),
        load_partial: |s| _mm512_maskz_loadu_ps(low_bits(s.len(), 16) as u16, s.as_ptr()),
        micro_full: micro_full_f32, pack_panel: pack_panel_f32,
    );

    /// [`Lanes::pack_panel`] of [`Avx512F32`]: 16 × 16 transposes in
    /// registers for the panels of 32 memories the `avx512` module packs.
    ///
    /// # Safety
    /// As [`Lanes::pack_panel`]; the CPU must have AVX-512F.
    #[inline(always)]
    unsafe fn pack_panel_f32(src: *const f32, d: usize, dst: *mut f32) -> bool {
        // SAFETY: a panel is 32 rows (asserted at compile time in
        // `x86_packed`); the extents and the ISA are the caller's
        // obligations.
        unsafe { super::super::x86_packed::pack_panel_32(src, d, dst) };
        true
    }

    /// [`Lanes::micro_full`] of [`Avx512F32`]: the assembly kernel for
    /// groups of 14 queries and panels of 32 memories, the shape the
    /// `avx512` module packs.
    ///
    /// # Safety
    /// As [`Lanes::micro_full`]; the CPU must have AVX-512F.
    #[inline(always)]
    unsafe fn micro_full_f32<const NR: usize>(
        panel: *const f32,
        q: *const f32,
        d: usize,
        tile: *mut f32,
    ) -> bool {
        use super::super::x86_packed;
        if NR != x86_packed::NR {
            return false;
        }
        // SAFETY: the group is the kernel's 14 queries (checked above), the
        // panel and tile rows its 32 memories (asserted at compile time in
        // `x86_packed`); the pointers' extents and the ISA are the
        // caller's obligations.
        unsafe { x86_packed::micro_32x14(panel, q, d, tile) };
        true
    }
    impl_lanes!(
        Avx512F64(__m512d): [f64; 8],
        zero: _mm512_setzero_pd, splat: _mm512_set1_pd, load: _mm512_loadu_pd,
        store: _mm512_storeu_pd, add: _mm512_add_pd, sub: _mm512_sub_pd,
        mul_add: |a, b, c| _mm512_fmadd_pd(a, b, c),
        sum: |v| _mm512_reduce_add_pd(v),
        load_partial: |s| _mm512_maskz_loadu_pd(low_bits(s.len(), 8) as u8, s.as_ptr()),
    );
}
#[cfg(dam_avx512)]
use avx512_lanes::{Avx512F32, Avx512F64};

/// The register type of each x86 instruction set for an element type.
pub(crate) trait Vectors: Sized {
    /// SSE2 register.
    type Sse2: Lanes<E = Self>;
    /// AVX2 register.
    type Avx2: Lanes<E = Self>;
    /// AVX-512 register.
    #[cfg(dam_avx512)]
    type Avx512: Lanes<E = Self>;
}
impl Vectors for f32 {
    type Sse2 = Sse2F32;
    type Avx2 = Avx2F32;
    #[cfg(dam_avx512)]
    type Avx512 = Avx512F32;
}
impl Vectors for f64 {
    type Sse2 = Sse2F64;
    type Avx2 = Avx2F64;
    #[cfg(dam_avx512)]
    type Avx512 = Avx512F64;
}

isa_module!(
    /// SSE2: 16 registers of 128 bits, no FMA (multiply, then add).
    sse2, "sse2", mr: 3, nr: 4, gemv_mr: 4
);
isa_module!(
    /// AVX2 + FMA: 16 registers of 256 bits; a 3×4 tile uses 12 accumulators,
    /// the packed 16×6 outer product 12.
    avx2, "avx2,fma", mr: 3, nr: 4, gemv_mr: 4, packed_nr: 6
);
isa_module!(
    /// AVX-512F: 32 registers of 512 bits; a 4×6 tile uses 24 accumulators,
    /// the packed 32×14 outer product 28.
    #[cfg(dam_avx512)]
    #[allow(clippy::incompatible_msrv)]
    avx512, "avx512f", mr: 4, nr: 6, gemv_mr: 8, packed_nr: 14
);

/// Runs `kernel` compiled for AVX-512F if the CPU has it (plain loops in
/// its `#[inline(always)]` body then vectorize 16 `f32` wide), else for AVX2
/// (8 wide), else as compiled.
/// Plain IEEE multiplies, adds and compares give the same bits at any
/// vector width (Rust never fuses them into FMAs), so the result does not
/// depend on the path.
#[inline]
pub(crate) fn vectorized<K: super::Vectorized>(kernel: K) -> K::Output {
    #[cfg(dam_avx512)]
    if has_avx512f() {
        // SAFETY: `run_avx512` only requires AVX-512F, detected just above.
        return unsafe { run_avx512(kernel) };
    }
    if has_avx2_fma() {
        // SAFETY: `run_avx2` only requires AVX2, detected just above.
        unsafe { run_avx2(kernel) }
    } else {
        kernel.run()
    }
}

/// [`vectorized`]'s AVX2 body: `run`, inlined here, is compiled with AVX2.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run_avx2<K: super::Vectorized>(kernel: K) -> K::Output {
    kernel.run()
}

/// [`vectorized`]'s AVX-512 body: `run`, inlined here, is compiled with
/// AVX-512F (16 `f32` per register).
#[cfg(dam_avx512)]
#[allow(clippy::incompatible_msrv)]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn run_avx512<K: super::Vectorized>(kernel: K) -> K::Output {
    kernel.run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{lanes, scalar};

    fn data(n: usize, seed: usize) -> [f32; 512] {
        let mut v = [0.0f32; 512];
        for (i, x) in v.iter_mut().enumerate().take(n) {
            *x = (((i + seed) * 7919 % 211) as f32 - 105.0) / 105.0;
        }
        v
    }

    fn check<const MR: usize, const NR: usize>() {
        for (k, nb, d) in [(9, 13, 7), (4, 6, 16), (11, 5, 33), (1, 1, 1), (0, 3, 5)] {
            let a = data(k * d, 1);
            let q = data(nb * d, 2);
            let (a, q) = (&a[..k * d], &q[..nb * d]);
            let mut got = [f32::NAN; 256];
            let mut calls = 0;
            // SAFETY: SSE2 is part of the x86_64 baseline.
            unsafe {
                lanes::gemm_fused::<Sse2F32, MR, NR, _>(a, q, d, |mu, b, v| {
                    got[mu * nb + b] = v;
                    calls += 1;
                });
            }
            assert_eq!(calls, k * nb, "{MR}x{NR} k={k} b={nb} d={d}");
            for mu in 0..k {
                for b in 0..nb {
                    let w = scalar::dot(&a[mu * d..][..d], &q[b * d..][..d]);
                    assert!((got[mu * nb + b] - w).abs() < 1e-4, "{MR}x{NR} ({mu},{b})");
                }
            }
            let mut out = [f32::NAN; 64];
            // SAFETY: as above.
            unsafe { lanes::gemv::<Sse2F32, 8>(a, d, &q[..d.min(q.len())], &mut out[..k]) };
            for mu in 0..k {
                let n = d.min(q.len());
                let w = scalar::dot(&a[mu * d..][..n], &q[..n]);
                assert!((out[mu] - w).abs() < 1e-4, "gemv8 row {mu}");
            }
        }
    }

    /// The packed outer-product kernel with SSE2 registers (panels of 8
    /// rows): ragged `K`, `B` and `d` (panels padded with zero rows, the
    /// queries after the last group of `NR` in a partial group, last
    /// panels of at most 4 rows on one register per column), `d`
    /// large enough that the memories span several packed blocks, and the
    /// shapes that fall back to the tiles. Every pair exactly once, within
    /// `2 (d + 2) ε Σ|a_i b_i|` of the reference (entries in `[−1, 1]`:
    /// at most `2 (d + 2) ε d`).
    #[test]
    fn packed_kernel_matches_the_reference() {
        extern crate std;
        use std::vec;
        use std::vec::Vec;
        fn run<const NR: usize>(k: usize, nb: usize, d: usize) {
            let a: Vec<f32> = (0..k * d)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                .collect();
            let q: Vec<f32> = (0..nb * d)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
                .collect();
            let mut got = vec![f32::NAN; k * nb];
            let mut seen = vec![0u32; k * nb];
            // SAFETY: SSE2 is part of the x86_64 baseline.
            unsafe {
                lanes::gemm_packed::<Sse2F32, NR, 3, 4, _>(
                    &a,
                    &q,
                    d,
                    lanes::Each(|mu, b, v| {
                        got[mu * nb + b] = v;
                        seen[mu * nb + b] += 1;
                    }),
                );
            }
            // `d = 0`: no rows, so no pair.
            let want_calls = u32::from(d > 0);
            assert!(seen.iter().all(|&s| s == want_calls), "k={k} b={nb} d={d}");
            if d == 0 {
                return;
            }
            let tol = 2.0 * (d as f32 + 2.0) * f32::EPSILON * d as f32;
            for mu in 0..k {
                for b in 0..nb {
                    let w = scalar::dot(&a[mu * d..][..d], &q[b * d..][..d]);
                    let g = got[mu * nb + b];
                    assert!(
                        (g - w).abs() <= tol,
                        "k={k} b={nb} d={d} ({mu},{b}) {g} vs {w}"
                    );
                }
            }
        }
        for (k, nb, d) in [
            (8, 6, 1),
            (9, 13, 7),
            (17, 6, 16),
            (23, 19, 33),
            (70, 7, 1003),
            (40, 12, 2048),
            (40, 12, 2049),
            (7, 20, 5),
            (30, 5, 5),
            (0, 8, 3),
            (9, 0, 3),
            (9, 8, 0),
        ] {
            run::<6>(k, nb, d);
            run::<1>(k, nb, d);
            run::<4>(k, nb, d);
        }
    }

    #[test]
    fn wide_tile_shapes_match_the_reference() {
        check::<4, 6>();
        check::<2, 6>();
        check::<1, 1>();
        check::<3, 4>();
    }
}
