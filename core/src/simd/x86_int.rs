//! x86_64 integer kernels: AVX2 (sign-extend to `i16`, then `vpmaddwd`)
//! and AVX-512 (`vpdpwssd` of AVX-512 VNNI for `i8`, `vpmaddwd` on 512 bits
//! for `i16`).
//!
//! `vpmaddwd` multiplies `i16` pairs and adds each pair into one `i32`
//! lane. For `i8` inputs (sign-extended) a pair is at most `2·128²`, so the
//! `i32` lanes are exact under the length bound of [`super::integer`]. For
//! `i16` inputs the pair sum lies in `[−2·32768·32767, 2³¹]`: only `2³¹`
//! (both pairs `−32768·−32768`) wraps, to `i32::MIN`. Subtracting 1 before
//! sign-extending to `i64` maps every pair sum, that one included, to its
//! exact value minus 1; the 1s are added back at the end (`bias`).
#![allow(unsafe_code)]

use super::scalar;
use core::arch::x86_64::*;

/// Horizontal sum of eight `i32` lanes.
#[inline(always)]
unsafe fn hsum_epi32(v: __m256i) -> i32 {
    // SAFETY: AVX2 is enabled in every caller.
    unsafe {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }
}

/// Horizontal sum of four `i64` lanes.
#[inline(always)]
unsafe fn hsum_epi64(v: __m256i) -> i64 {
    // SAFETY: AVX2 is enabled in every caller.
    unsafe {
        let s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let hi = _mm_unpackhi_epi64(s, s);
        _mm_cvtsi128_si64(_mm_add_epi64(s, hi))
    }
}

/// 16 `i8` at `p` sign-extended to 16 `i16` lanes. `p` valid for 16 reads.
#[inline(always)]
unsafe fn load_i8x16(p: *const i8) -> __m256i {
    // SAFETY: the caller's pointer obligation; AVX2 is enabled in every caller.
    unsafe { _mm256_cvtepi8_epi16(_mm_loadu_si128(p.cast())) }
}

/// `vpmaddwd` pair sums minus 1, sign-extended to `i64` and added to `acc`
/// (see the module docs).
#[inline(always)]
unsafe fn add_pairs_i64(acc: __m256i, pairs: __m256i) -> __m256i {
    // SAFETY: AVX2 is enabled in every caller.
    unsafe {
        let p = _mm256_sub_epi32(pairs, _mm256_set1_epi32(1));
        let lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p));
        let hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(p));
        _mm256_add_epi64(acc, _mm256_add_epi64(lo, hi))
    }
}

/// The AVX2 kernels.
pub(crate) mod avx2 {
    use super::*;

    /// `Σ a_i b_i` over the common length, 16 entries per step.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let body = n / 16 * 16;
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 16 ≤ body ≤ n`: both reads are in bounds.
            unsafe {
                let va = load_i8x16(a.as_ptr().add(i));
                let vb = load_i8x16(b.as_ptr().add(i));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(va, vb));
            }
            i += 16;
        }
        let tail = scalar::dot_i8(a.get(body..n).unwrap_or(&[]), b.get(body..n).unwrap_or(&[]));
        // SAFETY: AVX2 is enabled here.
        unsafe { hsum_epi32(acc) }.wrapping_add(tail)
    }

    /// `Σ a_i b_i` over the common length, 16 entries per step, `i64` sums.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
        let n = a.len().min(b.len());
        let body = n / 16 * 16;
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 16 ≤ body ≤ n`: both reads are in bounds.
            unsafe {
                let va = _mm256_loadu_si256(a.as_ptr().add(i).cast());
                let vb = _mm256_loadu_si256(b.as_ptr().add(i).cast());
                acc = add_pairs_i64(acc, _mm256_madd_epi16(va, vb));
            }
            i += 16;
        }
        // Eight pair sums per step, each 1 short.
        let bias = (body / 2) as i64;
        let tail = scalar::dot_i16(a.get(body..n).unwrap_or(&[]), b.get(body..n).unwrap_or(&[]));
        // SAFETY: AVX2 is enabled here.
        unsafe { hsum_epi64(acc) }
            .wrapping_add(bias)
            .wrapping_add(tail)
    }

    /// [`super::super::scalar::gemv_rows`] of [`dot_i8`], four rows per
    /// step sharing each load of `x`.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn gemv_i8(a: &[i8], lda: usize, x: &[i8], out: &mut [i32]) {
        if lda == 0 {
            return;
        }
        let n = x.len().min(lda);
        let body = n / 16 * 16;
        let xt = x.get(body..n).unwrap_or(&[]);
        let mut done = 0usize;
        for (o, block) in out
            .chunks_exact_mut(4)
            .zip(a.chunks_exact(lda.saturating_mul(4)))
        {
            let mut rows = block.chunks_exact(lda);
            let (Some(r0), Some(r1), Some(r2), Some(r3)) =
                (rows.next(), rows.next(), rows.next(), rows.next())
            else {
                break;
            };
            let rows = [r0, r1, r2, r3];
            let mut acc = [_mm256_setzero_si256(); 4];
            let mut i = 0;
            while i < body {
                // SAFETY: `i + 16 ≤ body ≤ n`, `n ≤ x.len()` and every row
                // has `lda ≥ n` entries: all reads are in bounds.
                unsafe {
                    let vx = load_i8x16(x.as_ptr().add(i));
                    for (s, r) in acc.iter_mut().zip(rows) {
                        let vr = load_i8x16(r.as_ptr().add(i));
                        *s = _mm256_add_epi32(*s, _mm256_madd_epi16(vr, vx));
                    }
                }
                i += 16;
            }
            for ((o, s), r) in o.iter_mut().zip(acc).zip(rows) {
                let tail = scalar::dot_i8(r.get(body..n).unwrap_or(&[]), xt);
                // SAFETY: AVX2 is enabled here.
                *o = unsafe { hsum_epi32(s) }.wrapping_add(tail);
            }
            done += 4;
        }
        let rest = a.get(done.saturating_mul(lda)..).unwrap_or(&[]);
        let out = out.get_mut(done..).unwrap_or(&mut []);
        // SAFETY: AVX2 is enabled here.
        scalar::gemv_rows(rest, lda, x, out, |r, v| unsafe { dot_i8(r, v) });
    }

    /// [`super::super::scalar::gemv_rows`] of [`dot_i16`].
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn gemv_i16(a: &[i16], lda: usize, x: &[i16], out: &mut [i64]) {
        // SAFETY: AVX2 is enabled here.
        scalar::gemv_rows(a, lda, x, out, |r, v| unsafe { dot_i16(r, v) });
    }
}

/// The AVX-512 kernels (Rust ≥ 1.89, see `build.rs`): `i8` through
/// `vpdpwssd` (AVX-512 VNNI) after sign-extension, 32 entries per step;
/// `i16` through 512-bit `vpmaddwd` (AVX-512BW). Selected at run time only
/// on CPUs with AVX-512F, BW and VNNI.
#[cfg(dam_avx512)]
#[allow(clippy::incompatible_msrv)]
pub(crate) mod avx512 {
    use super::*;

    /// `Σ a_i b_i` over the common length.
    ///
    /// # Safety
    /// The CPU must have AVX-512F, AVX-512BW and AVX-512 VNNI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let body = n / 32 * 32;
        let mut acc = _mm512_setzero_si512();
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 32 ≤ body ≤ n`: both reads are in bounds.
            unsafe {
                let va = _mm512_cvtepi8_epi16(_mm256_loadu_si256(a.as_ptr().add(i).cast()));
                let vb = _mm512_cvtepi8_epi16(_mm256_loadu_si256(b.as_ptr().add(i).cast()));
                acc = _mm512_dpwssd_epi32(acc, va, vb);
            }
            i += 32;
        }
        let tail = scalar::dot_i8(a.get(body..n).unwrap_or(&[]), b.get(body..n).unwrap_or(&[]));
        _mm512_reduce_add_epi32(acc).wrapping_add(tail)
    }

    /// `Σ a_i b_i` over the common length, `i64` sums (see the module docs
    /// for the `−1` bias).
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
        let n = a.len().min(b.len());
        let body = n / 32 * 32;
        let mut acc = _mm512_setzero_si512();
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 32 ≤ body ≤ n`: both reads are in bounds.
            unsafe {
                let va = _mm512_loadu_si512(a.as_ptr().add(i).cast());
                let vb = _mm512_loadu_si512(b.as_ptr().add(i).cast());
                let p = _mm512_sub_epi32(_mm512_madd_epi16(va, vb), _mm512_set1_epi32(1));
                let lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(p));
                let hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(p));
                acc = _mm512_add_epi64(acc, _mm512_add_epi64(lo, hi));
            }
            i += 32;
        }
        let bias = (body / 2) as i64;
        let tail = scalar::dot_i16(a.get(body..n).unwrap_or(&[]), b.get(body..n).unwrap_or(&[]));
        _mm512_reduce_add_epi64(acc)
            .wrapping_add(bias)
            .wrapping_add(tail)
    }

    /// One [`dot_i8`] per row.
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn gemv_i8(a: &[i8], lda: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: the features are enabled here.
        scalar::gemv_rows(a, lda, x, out, |r, v| unsafe { dot_i8(r, v) });
    }

    /// One [`dot_i16`] per row.
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn gemv_i16(a: &[i16], lda: usize, x: &[i16], out: &mut [i64]) {
        // SAFETY: the features are enabled here.
        scalar::gemv_rows(a, lda, x, out, |r, v| unsafe { dot_i16(r, v) });
    }
}

cpufeatures::new!(cpu_avx2, "avx2");
#[cfg(dam_avx512)]
cpufeatures::new!(cpu_avx512bw, "avx512f", "avx512bw");

/// AVX2 is usable (CPU and OS); cached.
#[inline]
pub(crate) fn has_avx2() -> bool {
    cpu_avx2::init().get()
}

/// AVX-512F, BW and VNNI are usable; cached. `cpufeatures` knows no VNNI
/// flag: it is CPUID leaf 7, ECX bit 11, and needs the same OS support
/// (`zmm` state) that the AVX-512BW check already verified.
#[inline]
pub(crate) fn has_avx512_vnni() -> bool {
    #[cfg(dam_avx512)]
    {
        use core::sync::atomic::{AtomicU8, Ordering};
        static VNNI: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
        match VNNI.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                // SAFETY: CPUID exists on every x86_64 CPU.
                #[allow(unused_unsafe)]
                let ecx = unsafe { __cpuid_count(7, 0) }.ecx;
                let yes = cpu_avx512bw::init().get() && ecx & (1 << 11) != 0;
                VNNI.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
        }
    }
    #[cfg(not(dam_avx512))]
    {
        false
    }
}
