//! x86_64 integer kernels: AVX2 (sign-extend to `i16`, then `vpmaddwd`),
//! AVX-VNNI and AVX-512 VNNI (`vpdpbusd` for `i8`, 256 and 512 bits), and
//! AVX-512BW (`vpmaddwd` on 512 bits for `i16`).
//!
//! `vpmaddwd` multiplies `i16` pairs and adds each pair into one `i32`
//! lane. For `i8` inputs (sign-extended) a pair is at most `2·128²`, so the
//! `i32` lanes are exact under the length bound of [`super::integer`]. For
//! `i16` inputs the pair sum lies in `[−2·32768·32767, 2³¹]`: only `2³¹`
//! (both pairs `−32768·−32768`) wraps, to `i32::MIN`. Subtracting 1 before
//! sign-extending to `i64` maps every pair sum, that one included, to its
//! exact value minus 1; the 1s are added back at the end (`bias`).
//!
//! ## The `u8` offset of `vpdpbusd`
//! `vpdpbusd` multiplies *unsigned* bytes by signed bytes, adds groups of
//! four products and the accumulator lane, wrapping (not saturating: that
//! is `vpdpbusds`). For signed `a` the kernels feed `u = a ⊕ 0x80 = a + 128`
//! (in `[0, 255]`) and subtract the offset afterwards:
//! `Σ a_i b_i = Σ u_i b_i − 128 Σ b_i`. The partial sums `Σ u_i b_i` reach
//! `255·128·n` and can wrap `i32` (for `n ≥ 65 794`), but every step is an
//! addition modulo `2³²`, so the result is `Σ a_i b_i mod 2³²`: exact
//! whenever the true sum fits `i32` (always under [`super::MAX_I8_LEN`]),
//! and equal to the reference's wrapping sum otherwise. Lanes past the end
//! are zero in both operands (masked loads): `(0 ⊕ 0x80)·0 = 0`.
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
        let four = |rows: [&[i8]; 4]| {
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
            let mut o = [0i32; 4];
            for ((o, s), r) in o.iter_mut().zip(acc).zip(rows) {
                let tail = scalar::dot_i8(r.get(body..n).unwrap_or(&[]), xt);
                // SAFETY: AVX2 is enabled here.
                *o = unsafe { hsum_epi32(s) }.wrapping_add(tail);
            }
            o
        };
        // SAFETY: AVX2 is enabled here.
        rows_by_four(a, lda, out, four, |r| unsafe { dot_i8(r, x) });
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

#[cfg(dam_avx512)]
/// Wrapping sum of `i8` entries (the offset correction of `vpdpbusd`,
/// see the module docs); vectorized by the compiler in each caller.
#[inline(always)]
fn sum_i8(v: &[i8]) -> i32 {
    v.iter().fold(0i32, |s, &x| s.wrapping_add(i32::from(x)))
}

/// `out[μ] = f(rows μ..μ+4)` over the rows of `a` (stride `lda > 0`) four
/// at a time, then `out[μ] = f([row μ])[0]`-style one at a time for the
/// rest, for `μ < min(out.len(), a.len() / lda)`.
#[inline(always)]
fn rows_by_four(
    a: &[i8],
    lda: usize,
    out: &mut [i32],
    mut four: impl FnMut([&[i8]; 4]) -> [i32; 4],
    mut one: impl FnMut(&[i8]) -> i32,
) {
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
        o.copy_from_slice(&four([r0, r1, r2, r3]));
        done += 4;
    }
    let rest = a.get(done.saturating_mul(lda)..).unwrap_or(&[]);
    let out = out.get_mut(done..).unwrap_or(&mut []);
    for (o, r) in out.iter_mut().zip(rest.chunks_exact(lda)) {
        *o = one(r);
    }
}

/// The AVX-512 kernels (Rust ≥ 1.89, see `build.rs`): `i8` through
/// `vpdpbusd` (AVX-512 VNNI) with the `u8` offset (module docs), 64
/// entries per step and a masked last step; `i16` through 512-bit
/// `vpmaddwd` (AVX-512BW). Selected at run time only on CPUs with
/// AVX-512F, BW and VNNI.
#[cfg(dam_avx512)]
#[allow(clippy::incompatible_msrv)]
pub(crate) mod avx512 {
    use super::*;

    /// `Σ_{i<n} (r_i ⊕ 0x80) x_i` for each of the `R` rows, wrapping,
    /// `n = x.len()`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F, BW and VNNI; every row has at least
    /// `x.len()` entries.
    #[inline(always)]
    unsafe fn offset_dots<const R: usize>(rows: [&[i8]; R], x: &[i8]) -> [i32; R] {
        let n = x.len();
        let body = n / 64 * 64;
        // SAFETY: AVX-512F is the caller's.
        let (flip, zero) = unsafe { (_mm512_set1_epi8(i8::MIN), _mm512_setzero_si512()) };
        let mut acc = [zero; R];
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 64 ≤ body ≤ n` and every row has at least `n`
            // entries: all reads are in bounds; the features are the caller's.
            unsafe {
                let vx = _mm512_loadu_si512(x.as_ptr().add(i).cast());
                for (s, r) in acc.iter_mut().zip(rows) {
                    let vr = _mm512_loadu_si512(r.as_ptr().add(i).cast());
                    *s = _mm512_dpbusd_epi32(*s, _mm512_xor_si512(vr, flip), vx);
                }
            }
            i += 64;
        }
        if body < n {
            // The last `n − body < 64` entries: bit `j` of the mask loads
            // lane `j`, the others read as zero and add nothing.
            let m: __mmask64 = (1u64 << (n - body)) - 1;
            // SAFETY: masked loads touch only the lanes whose bit is set,
            // `body + j < n` (masked-off lanes neither read nor fault); the
            // rows have at least `n` entries; the features are the caller's.
            unsafe {
                let vx = _mm512_maskz_loadu_epi8(m, x.as_ptr().add(body));
                for (s, r) in acc.iter_mut().zip(rows) {
                    let vr = _mm512_maskz_loadu_epi8(m, r.as_ptr().add(body));
                    *s = _mm512_dpbusd_epi32(*s, _mm512_xor_si512(vr, flip), vx);
                }
            }
        }
        // SAFETY: AVX-512F is the caller's.
        acc.map(|s| unsafe { _mm512_reduce_add_epi32(s) })
    }

    /// `Σ a_i b_i` over the common length: two `vpdpbusd` chains for the
    /// products and two for `Σ b_i` (by `vpdpbusd` with ones), 128 entries
    /// per step, so that a single dot is not bound by the latency of one
    /// chain; the rest as in [`gemv_i8`].
    ///
    /// # Safety
    /// The CPU must have AVX-512F, AVX-512BW and AVX-512 VNNI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
        let body = n / 128 * 128;
        let flip = _mm512_set1_epi8(i8::MIN);
        let ones = _mm512_set1_epi8(1);
        let [mut p0, mut p1, mut s0, mut s1] = [_mm512_setzero_si512(); 4];
        let mut i = 0;
        while i < body {
            // SAFETY: `i + 128 ≤ body ≤ n = a.len() = b.len()`: all reads
            // are in bounds.
            unsafe {
                let a0 = _mm512_loadu_si512(a.as_ptr().add(i).cast());
                let b0 = _mm512_loadu_si512(b.as_ptr().add(i).cast());
                let a1 = _mm512_loadu_si512(a.as_ptr().add(i + 64).cast());
                let b1 = _mm512_loadu_si512(b.as_ptr().add(i + 64).cast());
                p0 = _mm512_dpbusd_epi32(p0, _mm512_xor_si512(a0, flip), b0);
                p1 = _mm512_dpbusd_epi32(p1, _mm512_xor_si512(a1, flip), b1);
                s0 = _mm512_dpbusd_epi32(s0, ones, b0);
                s1 = _mm512_dpbusd_epi32(s1, ones, b1);
            }
            i += 128;
        }
        let (at, bt) = (a.get(body..).unwrap_or(&[]), b.get(body..).unwrap_or(&[]));
        // SAFETY: `at` has `bt.len()` entries; the features are enabled here.
        let [t] = unsafe { offset_dots([at], bt) };
        let p = _mm512_reduce_add_epi32(_mm512_add_epi32(p0, p1)).wrapping_add(t);
        let sb = _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1)).wrapping_add(sum_i8(bt));
        p.wrapping_sub(sb.wrapping_mul(128))
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

    /// [`super::super::scalar::gemv_rows`] of [`dot_i8`]: four rows per
    /// step sharing each load of `x`, whose sum (the offset correction) is
    /// taken once.
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(crate) unsafe fn gemv_i8(a: &[i8], lda: usize, x: &[i8], out: &mut [i32]) {
        if lda == 0 {
            return;
        }
        let n = x.len().min(lda);
        let x = x.get(..n).unwrap_or(&[]);
        let corr = sum_i8(x).wrapping_mul(128);
        // SAFETY (both closures): every row has `lda ≥ n = x.len()`
        // entries; the features are enabled here.
        rows_by_four(
            a,
            lda,
            out,
            |r| unsafe { offset_dots(r, x) }.map(|s| s.wrapping_sub(corr)),
            |r| unsafe { offset_dots([r], x) }[0].wrapping_sub(corr),
        );
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

/// The AVX-VNNI kernels for `i8` (Rust ≥ 1.89, see `build.rs`):
/// 256-bit `vpdpbusd` (VEX encoding) with the `u8` offset (module docs), 32
/// entries per step, the rest through the scalar reference. For CPUs with
/// AVX-VNNI but no AVX-512 (Alder Lake and later client cores); `i16`
/// stays on [`avx2`]. Selected at run time for [`super::Isa::Avx2Fma`].
#[cfg(dam_avx512)]
#[allow(clippy::incompatible_msrv)]
pub(crate) mod avx_vnni {
    use super::*;

    /// `Σ_{i<body} (r_i ⊕ 0x80) x_i + Σ_{body≤i<n} r_i x_i` for each of the
    /// `R` rows, wrapping, `n = x.len()`, `body = n / 32 · 32`: the offset
    /// applies to the vector part only (subtract `128 Σ_{i<body} x_i`).
    ///
    /// # Safety
    /// The CPU must have AVX2 and AVX-VNNI; every row has at least
    /// `x.len()` entries.
    #[inline(always)]
    unsafe fn offset_dots<const R: usize>(rows: [&[i8]; R], x: &[i8], body: usize) -> [i32; R] {
        let n = x.len();
        // SAFETY: AVX2 is the caller's.
        let (flip, zero) = unsafe { (_mm256_set1_epi8(i8::MIN), _mm256_setzero_si256()) };
        let mut acc = [zero; R];
        let mut i = 0;
        while i + 32 <= body {
            // SAFETY: `i + 32 ≤ body ≤ n` and every row has at least `n`
            // entries: all reads are in bounds; the features are the caller's.
            unsafe {
                let vx = _mm256_loadu_si256(x.as_ptr().add(i).cast());
                for (s, r) in acc.iter_mut().zip(rows) {
                    let vr = _mm256_loadu_si256(r.as_ptr().add(i).cast());
                    *s = _mm256_dpbusd_avx_epi32(*s, _mm256_xor_si256(vr, flip), vx);
                }
            }
            i += 32;
        }
        let xt = x.get(body..n).unwrap_or(&[]);
        let mut out = [0i32; R];
        for ((o, s), r) in out.iter_mut().zip(acc).zip(rows) {
            let tail = scalar::dot_i8(r.get(body..n).unwrap_or(&[]), xt);
            // SAFETY: AVX2 is the caller's.
            *o = unsafe { hsum_epi32(s) }.wrapping_add(tail);
        }
        out
    }

    /// `Σ a_i b_i` over the common length: [`avx2::dot_i8`]. A single
    /// 256-bit `vpdpbusd` chain measured 2.5× slower than it (the latency
    /// of one chain, the longer scalar tail); [`gemv_i8`], with four
    /// chains, is where AVX-VNNI wins.
    ///
    /// # Safety
    /// The CPU must have AVX2 and AVX-VNNI.
    #[target_feature(enable = "avx2,avxvnni")]
    pub(crate) unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: AVX2 is enabled here.
        unsafe { avx2::dot_i8(a, b) }
    }

    /// [`super::super::scalar::gemv_rows`] of [`dot_i8`], four rows per
    /// step sharing each load of `x`.
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx2,avxvnni")]
    pub(crate) unsafe fn gemv_i8(a: &[i8], lda: usize, x: &[i8], out: &mut [i32]) {
        if lda == 0 {
            return;
        }
        let n = x.len().min(lda);
        let x = x.get(..n).unwrap_or(&[]);
        let body = n / 32 * 32;
        let corr = sum_i8(x.get(..body).unwrap_or(&[])).wrapping_mul(128);
        // SAFETY (both closures): every row has `lda ≥ n = x.len()`
        // entries; the features are enabled here.
        rows_by_four(
            a,
            lda,
            out,
            |r| unsafe { offset_dots(r, x, body) }.map(|s| s.wrapping_sub(corr)),
            |r| unsafe { offset_dots([r], x, body) }[0].wrapping_sub(corr),
        );
    }

    /// [`avx2::dot_i16`] (AVX-VNNI has no 16-bit form that helps here).
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx2,avxvnni")]
    pub(crate) unsafe fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
        // SAFETY: AVX2 is enabled here.
        unsafe { avx2::dot_i16(a, b) }
    }

    /// [`avx2::gemv_i16`].
    ///
    /// # Safety
    /// As [`dot_i8`].
    #[target_feature(enable = "avx2,avxvnni")]
    pub(crate) unsafe fn gemv_i16(a: &[i16], lda: usize, x: &[i16], out: &mut [i64]) {
        // SAFETY: AVX2 is enabled here.
        unsafe { avx2::gemv_i16(a, lda, x, out) }
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
#[cfg(dam_avx512)]
#[inline]
pub(crate) fn has_avx512_vnni() -> bool {
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

/// AVX2 and AVX-VNNI are usable; cached. AVX-VNNI is CPUID leaf 7,
/// sub-leaf 1, EAX bit 4, and needs the `ymm` state that the AVX2 check
/// already verified.
#[cfg(dam_avx512)]
#[inline]
pub(crate) fn has_avx_vnni() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    static AVX_VNNI: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
    if cfg!(miri) {
        // Miri executes neither CPUID nor these instructions.
        return false;
    }
    match AVX_VNNI.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // SAFETY: CPUID exists on every x86_64 CPU; leaf 7 exists
            // where AVX2 does, and its sub-leaf 1 is read only if
            // sub-leaf 0 reports it (EAX: the highest sub-leaf).
            #[allow(unused_unsafe)]
            let yes = has_avx2()
                && unsafe { __cpuid_count(7, 0) }.eax >= 1
                && unsafe { __cpuid_count(7, 1) }.eax & (1 << 4) != 0;
            AVX_VNNI.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}
