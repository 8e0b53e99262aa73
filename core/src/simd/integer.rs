//! Integer kernels for quantized memories: `i8·i8 → i32` and
//! `i16·i16 → i64` dot products and row blocks (many rows × one vector).
//!
//! ## Paths
//! | [`Isa`] | integer path |
//! |---|---|
//! | [`Isa::Avx512f`] | AVX-512 VNNI (`vpdpwssd`) for `i8`, AVX-512BW `vpmaddwd` for `i16`, if the CPU has AVX-512F+BW+VNNI; else as [`Isa::Avx2Fma`] |
//! | [`Isa::Avx2Fma`] | AVX2: sign-extend to `i16`, `vpmaddwd`; 4 rows per step in [`gemv_i8`] |
//! | [`Isa::CortexMDsp`] | Cortex-M4/M7 (`thumbv7em`): `sxtb16` + `smlad` for `i8` ([`gemv_i8`]: the query unpacked once, two rows per pass), `smlald` for `i16` |
//! | others | the scalar reference ([`scalar::dot_i8`], [`scalar::dot_i16`]) |
//!
//! [`Isa::best_integer`] picks the fastest. Integer sums are exact, so every
//! path returns exactly the reference's result (the tests check equality).
//!
//! ## Accumulator bounds
//! * `i8`: every product is at most `128² = 2¹⁴` in magnitude, so a sum of
//!   `n` of them fits `i32` for `n ≤ 131 071` ([`MAX_I8_LEN`]:
//!   `131 071 · 2¹⁴ < 2³¹`), in any order of summation.
//! * `i16`: a product reaches `2³⁰`, so an `i32` accumulator would only hold
//!   two of them; the `i16` kernels accumulate in `i64` (as the `smlald` of
//!   Cortex-M and CMSIS-DSP's `arm_dot_prod_q15` do), which holds
//!   `n ≤ 2³² − 1` products ([`MAX_I16_LEN`]).
//!
//! Longer inputs get [`Error::InvalidParameter`] with [`Param::Dimension`]
//! instead of a wrapped sum.

use super::{Isa, scalar};
use crate::error::{Error, Param, Result};

#[cfg(dam_dsp)]
use super::dsp;
#[cfg(target_arch = "x86_64")]
use super::x86_int;

/// The longest `i8` dot product whose `i32` sum cannot overflow:
/// `131 071 · 128² = 2 147 467 264 ≤ i32::MAX`.
pub const MAX_I8_LEN: usize = 131_071;

/// The longest `i16` dot product the `i64` sum is guaranteed to hold
/// (`(2³² − 1) · 2³⁰ < 2⁶³`).
pub const MAX_I16_LEN: usize = u32::MAX as usize;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
}

/// The integer kernels of one element type (`i8`, `i16`), with an explicit
/// path (an unavailable one runs the scalar reference).
///
/// ```
/// use dam_core::simd::{IntKernels, Isa};
/// let a = [1i8, -2, 3];
/// for isa in Isa::ALL {
/// #   // Miri cannot run the CPUID read that picks Avx512f's integer path.
/// #   if cfg!(miri) && isa == Isa::Avx512f {
/// #       continue;
/// #   }
///     assert_eq!(i8::int_dot_on(isa, &a, &a)?, 14);
/// }
/// # Ok::<(), dam_core::Error>(())
/// ```
pub trait IntKernels: sealed::Sealed + Copy + Sized {
    /// The accumulator: `i32` for `i8`, `i64` for `i16`.
    type Acc: Copy + Default;
    /// The longest dot product the accumulator holds exactly.
    const MAX_LEN: usize;
    /// The largest magnitude of a symmetric quantization level (`127`,
    /// `32 767`).
    const MAX_LEVEL: i32;

    /// `Σ a_i b_i` over the common length on `isa`. Errors: that length
    /// exceeds [`IntKernels::MAX_LEN`].
    fn int_dot_on(isa: Isa, a: &[Self], b: &[Self]) -> Result<Self::Acc>;

    /// Many rows times one vector on `isa`, with the shapes of
    /// [`super::gemv`]. Errors: `min(x.len(), d)` exceeds
    /// [`IntKernels::MAX_LEN`] (then `out` is left alone).
    fn int_gemv_on(
        isa: Isa,
        memories: &[Self],
        d: usize,
        x: &[Self],
        out: &mut [Self::Acc],
    ) -> Result<()>;
}

/// The integer path that runs for `isa` here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(all(target_arch = "x86_64", dam_avx512))]
    Avx512Vnni,
    #[cfg(dam_dsp)]
    Dsp,
}

fn path(isa: Isa) -> Path {
    match isa {
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f if x86_int::has_avx512_vnni() => Path::Avx512Vnni,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512f | Isa::Avx2Fma if x86_int::has_avx2() => Path::Avx2,
        #[cfg(dam_dsp)]
        Isa::CortexMDsp => Path::Dsp,
        _ => Path::Scalar,
    }
}

fn check_len(n: usize, max: usize) -> Result<()> {
    if n > max {
        return Err(Error::InvalidParameter {
            param: Param::Dimension,
            value: n as f64,
        });
    }
    Ok(())
}

/// Runs `$f` of the integer path for `$isa` (module `$x86` of
/// `x86_int`, `dsp`), or the scalar `$reference`.
macro_rules! int_dispatch {
    ($isa:expr, $f:ident($($arg:expr),*), dsp: $dsp:expr, else: $reference:expr) => {
        match path($isa) {
            // SAFETY (x86 arms): `path` returned these only after detecting
            // their features on this CPU.
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            #[allow(unsafe_code)]
            Path::Avx512Vnni => unsafe { x86_int::avx512::$f($($arg),*) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Path::Avx2 => unsafe { x86_int::avx2::$f($($arg),*) },
            #[cfg(dam_dsp)]
            Path::Dsp => $dsp,
            Path::Scalar => $reference,
        }
    };
}

impl IntKernels for i8 {
    type Acc = i32;
    const MAX_LEN: usize = MAX_I8_LEN;
    const MAX_LEVEL: i32 = 127;

    fn int_dot_on(isa: Isa, a: &[i8], b: &[i8]) -> Result<i32> {
        check_len(a.len().min(b.len()), MAX_I8_LEN)?;
        Ok(int_dispatch!(isa, dot_i8(a, b),
            dsp: dsp::dot_i8(a, b),
            else: scalar::dot_i8(a, b)))
    }

    fn int_gemv_on(isa: Isa, m: &[i8], d: usize, x: &[i8], out: &mut [i32]) -> Result<()> {
        check_len(x.len().min(d), MAX_I8_LEN)?;
        int_dispatch!(isa, gemv_i8(m, d, x, out),
            dsp: dsp::gemv_i8(m, d, x, out),
            else: scalar::gemv_rows(m, d, x, out, scalar::dot_i8));
        Ok(())
    }
}

impl IntKernels for i16 {
    type Acc = i64;
    const MAX_LEN: usize = MAX_I16_LEN;
    const MAX_LEVEL: i32 = 32_767;

    fn int_dot_on(isa: Isa, a: &[i16], b: &[i16]) -> Result<i64> {
        check_len(a.len().min(b.len()), MAX_I16_LEN)?;
        Ok(int_dispatch!(isa, dot_i16(a, b),
            dsp: dsp::dot_i16(a, b),
            else: scalar::dot_i16(a, b)))
    }

    fn int_gemv_on(isa: Isa, m: &[i16], d: usize, x: &[i16], out: &mut [i64]) -> Result<()> {
        check_len(x.len().min(d), MAX_I16_LEN)?;
        int_dispatch!(isa, gemv_i16(m, d, x, out),
            dsp: scalar::gemv_rows(m, d, x, out, dsp::dot_i16),
            else: scalar::gemv_rows(m, d, x, out, scalar::dot_i16));
        Ok(())
    }
}

/// `Σ a_i b_i` of `i8` entries over the common length, exact in `i32`.
/// Errors: that length exceeds [`MAX_I8_LEN`].
///
/// ```
/// assert_eq!(dam_core::simd::dot_i8(&[127, -128, 3], &[127, -128, -1])?, 32_510);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> Result<i32> {
    i8::int_dot_on(Isa::best_integer(), a, b)
}

/// `Σ a_i b_i` of `i16` entries over the common length, exact in `i64`.
/// Errors: that length exceeds [`MAX_I16_LEN`].
///
/// ```
/// assert_eq!(dam_core::simd::dot_i16(&[-32768, -32768], &[-32768, -32768])?, 1 << 31);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[inline]
pub fn dot_i16(a: &[i16], b: &[i16]) -> Result<i64> {
    i16::int_dot_on(Isa::best_integer(), a, b)
}

/// Many `i8` rows times one vector, exact in `i32`: the shapes of
/// [`super::gemv`] (`out[μ] = Σ_{i<n} ξ^μ_i x_i`, `n = min(x.len(), d)`).
/// Errors: `n` exceeds [`MAX_I8_LEN`].
///
/// ```
/// let xi = [1i8, 2, 3, -4, -5, -6]; // 2 rows of 3
/// let mut out = [0i32; 2];
/// dam_core::simd::gemv_i8(&xi, 3, &[1, 0, 1], &mut out)?;
/// assert_eq!(out, [4, -10]);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[inline]
pub fn gemv_i8(memories: &[i8], d: usize, x: &[i8], out: &mut [i32]) -> Result<()> {
    i8::int_gemv_on(Isa::best_integer(), memories, d, x, out)
}

/// Many `i16` rows times one vector, exact in `i64` (shapes as
/// [`gemv_i8`]). Errors: `n` exceeds [`MAX_I16_LEN`].
///
/// ```
/// let xi = [1i16, 2, 3, -4, -5, -6];
/// let mut out = [0i64; 2];
/// dam_core::simd::gemv_i16(&xi, 3, &[1, 1], &mut out)?; // a prefix of each row
/// assert_eq!(out, [3, -9]);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[inline]
pub fn gemv_i16(memories: &[i16], d: usize, x: &[i16], out: &mut [i64]) -> Result<()> {
    i16::int_gemv_on(Isa::best_integer(), memories, d, x, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    extern crate std;
    use std::vec::Vec;

    /// Paths to compare with the reference: every one (unavailable ones
    /// fall back to it, which the comparison tolerates trivially). Under
    /// Miri not `Avx512f`: choosing its integer path reads CPUID
    /// (`x86_int::has_avx512_vnni`), which Miri cannot execute; without
    /// VNNI that path is the AVX2 one, which `Avx2Fma` covers.
    const PATHS: &[Isa] = if cfg!(miri) {
        &[Isa::Avx2Fma, Isa::CortexMDsp]
    } else {
        &[Isa::Avx512f, Isa::Avx2Fma, Isa::CortexMDsp]
    };

    /// The paths of `extremes_are_exact`: every one. Under Miri (about
    /// 10^5 times slower) only the two integer paths it can tell apart on
    /// x86_64, `Avx2Fma` (AVX2 when compiled in) and `Scalar`: every other
    /// one runs the reference there, and `Avx512f` reads CPUID (see
    /// [`PATHS`]).
    const EXTREME_PATHS: &[Isa] = if cfg!(miri) {
        &[Isa::Avx2Fma, Isa::Scalar]
    } else {
        &Isa::ALL
    };

    fn i8s(max: usize) -> impl Strategy<Value = Vec<i8>> {
        proptest::collection::vec(any::<i8>(), 0..max)
    }

    fn i16s(max: usize) -> impl Strategy<Value = Vec<i16>> {
        proptest::collection::vec(any::<i16>(), 0..max)
    }

    use crate::test_config::proptest_config as config;

    proptest! {
        #![proptest_config(config(ProptestConfig::with_cases(256), 3))]
        /// Any lengths (not multiples of the register width, empty,
        /// unequal), any offset into the buffers (unaligned loads).
        #[test]
        fn dot_i8_matches_reference(a in i8s(300), b in i8s(300), off in 0usize..3) {
            let (a, b) = (a.get(off..).unwrap_or(&[]), b.get(..).unwrap_or(&[]));
            let want = scalar::dot_i8(a, b);
            for &isa in PATHS {
                prop_assert_eq!(i8::int_dot_on(isa, a, b).unwrap(), want, "{:?}", isa);
            }
        }

        #[test]
        fn dot_i16_matches_reference(a in i16s(300), b in i16s(300), off in 0usize..3) {
            let a = a.get(off..).unwrap_or(&[]);
            let want = scalar::dot_i16(a, &b);
            for &isa in PATHS {
                prop_assert_eq!(i16::int_dot_on(isa, a, &b).unwrap(), want, "{:?}", isa);
            }
        }

        #[test]
        fn gemv_matches_reference(
            k in 0usize..11, d in 0usize..70, xlen in 0usize..80, off in 0usize..3,
            seed in any::<u64>(),
        ) {
            let mut s = seed | 1;
            let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
            let m8: Vec<i8> = (0..k * d + off).map(|_| next() as i8).collect();
            let x8: Vec<i8> = (0..xlen).map(|_| next() as i8).collect();
            let m16: Vec<i16> = (0..k * d + off).map(|_| next() as i16).collect();
            let x16: Vec<i16> = (0..xlen).map(|_| next() as i16).collect();
            let (m8, m16) = (&m8[off..], &m16[off..]);
            let outs = k + 1; // one more than there are rows: left alone
            let mut want8 = std::vec![7i32; outs];
            let mut want16 = std::vec![7i64; outs];
            scalar::gemv_rows(m8, d, &x8, &mut want8, scalar::dot_i8);
            scalar::gemv_rows(m16, d, &x16, &mut want16, scalar::dot_i16);
            for &isa in PATHS {
                let mut got8 = std::vec![7i32; outs];
                let mut got16 = std::vec![7i64; outs];
                i8::int_gemv_on(isa, m8, d, &x8, &mut got8).unwrap();
                i16::int_gemv_on(isa, m16, d, &x16, &mut got16).unwrap();
                prop_assert_eq!(&got8, &want8, "{:?}", isa);
                prop_assert_eq!(&got16, &want16, "{:?}", isa);
            }
        }
    }

    /// The extreme values: every product `(−128)²` or `(−32768)²`, at the
    /// longest `i8` length the bound allows, where the sums are largest.
    #[test]
    fn extremes_are_exact() {
        let a = std::vec![-128i8; MAX_I8_LEN];
        let want = 128 * 128 * MAX_I8_LEN as i32;
        let b = std::vec![-32768i16; 1000];
        for &isa in EXTREME_PATHS {
            assert_eq!(i8::int_dot_on(isa, &a, &a).unwrap(), want, "{isa:?}");
            assert_eq!(i16::int_dot_on(isa, &b, &b).unwrap(), 1000 << 30, "{isa:?}");
        }
        assert_eq!(scalar::dot_i8(&a, &a), want);
    }

    #[test]
    fn too_long_is_an_error_not_a_wrap() {
        let a = std::vec![-128i8; MAX_I8_LEN + 1];
        let e = Err(Error::InvalidParameter {
            param: Param::Dimension,
            value: (MAX_I8_LEN + 1) as f64,
        });
        assert_eq!(dot_i8(&a, &a), e);
        let mut out = [5i32; 2];
        assert_eq!(gemv_i8(&a, a.len(), &a, &mut out), e.map(|_| ()));
        assert_eq!(out, [5, 5]);
    }
}
