//! Integer kernels for quantized memories: `i8·i8 → i32` and
//! `i16·i16 → i64` dot products and row blocks (many rows × one vector).
//!
//! ## Paths
//! | [`Isa`] | integer path |
//! |---|---|
//! | [`Isa::Avx512f`] | `"avx512-vnni"`: AVX-512 VNNI `vpdpbusd` for `i8` (64 entries per step, the `u8` offset trick, masked last step), AVX-512BW `vpmaddwd` for `i16`, if the CPU has AVX-512F+BW+VNNI; else as [`Isa::Avx2Fma`] |
//! | [`Isa::Avx2Fma`] | `"avx-vnni"` if the CPU has AVX-VNNI: 256-bit `vpdpbusd` for [`gemv_i8`] (4 rows per step), the AVX2 kernels otherwise; else `"avx2"`: sign-extend to `i16`, `vpmaddwd`, 4 rows per step in [`gemv_i8`] |
//! | [`Isa::CortexMDsp`] | `"dsp"`: Cortex-M4/M7 (`thumbv7em`): `sxtb16` + `smlad` for `i8` ([`gemv_i8`]: the query unpacked once, two rows per pass), `smlald` for `i16` |
//! | others | `"scalar"`: the reference ([`scalar::dot_i8`], [`scalar::dot_i16`]) |
//!
//! [`integer_path_name`] tells which one runs for an [`Isa`] on this CPU.
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
    AvxVnni,
    #[cfg(all(target_arch = "x86_64", dam_avx512))]
    Avx512Vnni,
    #[cfg(dam_dsp)]
    Dsp,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => "avx2",
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            Path::AvxVnni => "avx-vnni",
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            Path::Avx512Vnni => "avx512-vnni",
            #[cfg(dam_dsp)]
            Path::Dsp => "dsp",
        }
    }
}

/// The integer kernel that runs for `isa` on this CPU: `"avx512-vnni"`,
/// `"avx-vnni"`, `"avx2"`, `"dsp"` or `"scalar"` (see the table of
/// [`self`](crate::simd::integer)). For tests and benchmark labels.
///
/// ```
/// use dam_core::simd::{Isa, integer_path_name};
/// assert_eq!(integer_path_name(Isa::Scalar), "scalar");
/// ```
pub fn integer_path_name(isa: Isa) -> &'static str {
    path(isa).name()
}

fn path(isa: Isa) -> Path {
    match isa {
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f if x86_int::has_avx512_vnni() => Path::Avx512Vnni,
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f | Isa::Avx2Fma if x86_int::has_avx_vnni() => Path::AvxVnni,
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

/// Runs `$f` of the integer path `$path` (module `$x86` of
/// `x86_int`, `dsp`), or the scalar `$reference`.
macro_rules! int_dispatch {
    ($path:expr, $f:ident($($arg:expr),*), dsp: $dsp:expr, else: $reference:expr) => {
        match $path {
            // SAFETY (x86 arms): `path` returns these only after detecting
            // their features on this CPU (and the tests call with
            // `tests::paths_here`, which does the same).
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            #[allow(unsafe_code)]
            Path::Avx512Vnni => unsafe { x86_int::avx512::$f($($arg),*) },
            // SAFETY: as above.
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            #[allow(unsafe_code)]
            Path::AvxVnni => unsafe { x86_int::avx_vnni::$f($($arg),*) },
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

fn dot_i8_path(p: Path, a: &[i8], b: &[i8]) -> i32 {
    int_dispatch!(p, dot_i8(a, b),
        dsp: dsp::dot_i8(a, b),
        else: scalar::dot_i8(a, b))
}

fn gemv_i8_path(p: Path, m: &[i8], d: usize, x: &[i8], out: &mut [i32]) {
    int_dispatch!(p, gemv_i8(m, d, x, out),
        dsp: dsp::gemv_i8(m, d, x, out),
        else: scalar::gemv_rows(m, d, x, out, scalar::dot_i8))
}

fn dot_i16_path(p: Path, a: &[i16], b: &[i16]) -> i64 {
    int_dispatch!(p, dot_i16(a, b),
        dsp: dsp::dot_i16(a, b),
        else: scalar::dot_i16(a, b))
}

fn gemv_i16_path(p: Path, m: &[i16], d: usize, x: &[i16], out: &mut [i64]) {
    int_dispatch!(p, gemv_i16(m, d, x, out),
        dsp: scalar::gemv_rows(m, d, x, out, dsp::dot_i16),
        else: scalar::gemv_rows(m, d, x, out, scalar::dot_i16))
}

impl IntKernels for i8 {
    type Acc = i32;
    const MAX_LEN: usize = MAX_I8_LEN;
    const MAX_LEVEL: i32 = 127;

    fn int_dot_on(isa: Isa, a: &[i8], b: &[i8]) -> Result<i32> {
        check_len(a.len().min(b.len()), MAX_I8_LEN)?;
        Ok(dot_i8_path(path(isa), a, b))
    }

    fn int_gemv_on(isa: Isa, m: &[i8], d: usize, x: &[i8], out: &mut [i32]) -> Result<()> {
        check_len(x.len().min(d), MAX_I8_LEN)?;
        gemv_i8_path(path(isa), m, d, x, out);
        Ok(())
    }
}

impl IntKernels for i16 {
    type Acc = i64;
    const MAX_LEN: usize = MAX_I16_LEN;
    const MAX_LEVEL: i32 = 32_767;

    fn int_dot_on(isa: Isa, a: &[i16], b: &[i16]) -> Result<i64> {
        check_len(a.len().min(b.len()), MAX_I16_LEN)?;
        Ok(dot_i16_path(path(isa), a, b))
    }

    fn int_gemv_on(isa: Isa, m: &[i16], d: usize, x: &[i16], out: &mut [i64]) -> Result<()> {
        check_len(x.len().min(d), MAX_I16_LEN)?;
        gemv_i16_path(path(isa), m, d, x, out);
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

    /// Every integer path this CPU runs, the reference included. Under
    /// Miri (no CPUID) only the ones it can tell apart without it: the
    /// reference, and AVX2 when compiled in (`scripts/miri.sh`).
    fn paths_here() -> Vec<Path> {
        #[allow(unused_mut)]
        let mut v = std::vec![Path::Scalar];
        #[cfg(target_arch = "x86_64")]
        if x86_int::has_avx2() {
            v.push(Path::Avx2);
        }
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        if !cfg!(miri) {
            if x86_int::has_avx_vnni() {
                v.push(Path::AvxVnni);
            }
            if x86_int::has_avx512_vnni() {
                v.push(Path::Avx512Vnni);
            }
        }
        #[cfg(dam_dsp)]
        v.push(Path::Dsp);
        v
    }

    /// The names of [`paths_here`].
    #[cfg(target_arch = "x86_64")]
    fn names() -> Vec<&'static str> {
        paths_here().into_iter().map(Path::name).collect()
    }

    /// Random `i8` with the extremes over-represented: `−128` and `127` are
    /// the corners of the `u8` offset (`u = 0`, `u = 255`).
    fn i8_elem() -> impl Strategy<Value = i8> {
        prop_oneof![
            3 => any::<i8>(),
            1 => proptest::sample::select(std::vec![-128i8, 127, -127, -1, 0, 1]),
        ]
    }

    fn i8s(max: usize) -> impl Strategy<Value = Vec<i8>> {
        proptest::collection::vec(i8_elem(), 0..max)
    }

    fn i16s(max: usize) -> impl Strategy<Value = Vec<i16>> {
        proptest::collection::vec(
            prop_oneof![3 => any::<i16>(), 1 => Just(i16::MIN), 1 => Just(i16::MAX)],
            0..max,
        )
    }

    /// Maps a random word to a row entry and a query entry.
    type Gen = (fn(u64) -> i8, fn(u64) -> i8);

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// Lengths around every register width (16, 32, 64 entries) and a
    /// long one.
    const EDGE_LENS: &[usize] = &[
        0, 1, 2, 3, 4, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 794, 1000,
        4099,
    ];

    use crate::test_config::proptest_config as config;

    proptest! {
        #![proptest_config(config(ProptestConfig::with_cases(256), 3))]
        /// Any lengths (not multiples of the register width, empty,
        /// unequal), any offset into the buffers (unaligned loads).
        #[test]
        fn dot_i8_matches_reference(a in i8s(300), b in i8s(300), off in 0usize..3) {
            let (a, b) = (a.get(off..).unwrap_or(&[]), b.get(..).unwrap_or(&[]));
            let want = scalar::dot_i8(a, b);
            for p in paths_here() {
                prop_assert_eq!(dot_i8_path(p, a, b), want, "{}", p.name());
            }
            for isa in Isa::ALL {
                if !(cfg!(miri) && isa == Isa::Avx512f) {
                    prop_assert_eq!(i8::int_dot_on(isa, a, b).unwrap(), want, "{:?}", isa);
                }
            }
        }

        #[test]
        fn dot_i16_matches_reference(a in i16s(300), b in i16s(300), off in 0usize..3) {
            let a = a.get(off..).unwrap_or(&[]);
            let want = scalar::dot_i16(a, &b);
            for p in paths_here() {
                prop_assert_eq!(dot_i16_path(p, a, &b), want, "{}", p.name());
            }
        }

        #[test]
        fn gemv_matches_reference(
            k in 0usize..11, d in 0usize..140, xlen in 0usize..150, off in 0usize..3,
            seed in any::<u64>(), extreme in 0u8..4,
        ) {
            let mut next = xorshift(seed);
            // `extreme`: 0 random, 1 all −128 rows, 2 all 127 rows and −128
            // query, 3 random rows and a −128 query.
            let (r8, q8): Gen = match extreme {
                1 => (|_| -128, |v| v as i8),
                2 => (|_| 127, |_| -128),
                3 => (|v| v as i8, |_| -128),
                _ => (|v| v as i8, |v| v as i8),
            };
            let m8: Vec<i8> = (0..k * d + off).map(|_| r8(next())).collect();
            let x8: Vec<i8> = (0..xlen).map(|_| q8(next())).collect();
            let m16: Vec<i16> = (0..k * d + off).map(|_| next() as i16).collect();
            let x16: Vec<i16> = (0..xlen).map(|_| next() as i16).collect();
            let (m8, m16) = (&m8[off..], &m16[off..]);
            let outs = k + 1; // one more than there are rows: left alone
            let mut want8 = std::vec![7i32; outs];
            let mut want16 = std::vec![7i64; outs];
            scalar::gemv_rows(m8, d, &x8, &mut want8, scalar::dot_i8);
            scalar::gemv_rows(m16, d, &x16, &mut want16, scalar::dot_i16);
            for p in paths_here() {
                let mut got8 = std::vec![7i32; outs];
                let mut got16 = std::vec![7i64; outs];
                gemv_i8_path(p, m8, d, &x8, &mut got8);
                gemv_i16_path(p, m16, d, &x16, &mut got16);
                prop_assert_eq!(&got8, &want8, "{}", p.name());
                prop_assert_eq!(&got16, &want16, "{}", p.name());
            }
        }
    }

    /// Every length of [`EDGE_LENS`], random and extreme entries, dot and
    /// gemv (1 to 9 rows: the 4-row blocks and the remainder rows), on every
    /// path.
    #[test]
    fn edge_lengths_match_reference() {
        let lens: &[usize] = if cfg!(miri) {
            &[0, 1, 31, 32, 33, 65]
        } else {
            EDGE_LENS
        };
        let mut next = xorshift(0x5eed);
        for &n in lens {
            let patterns: [Gen; 5] = [
                (|v| v as i8, |v| (v >> 8) as i8),
                (|_| -128, |_| -128),
                (|_| 127, |_| -128),
                (|_| -128, |_| 127),
                (
                    |v| if v & 1 == 0 { -128 } else { 127 },
                    |v| if v & 2 == 0 { -128 } else { 127 },
                ),
            ];
            for (fa, fb) in patterns {
                let a: Vec<i8> = (0..n).map(|_| fa(next())).collect();
                let b: Vec<i8> = (0..n).map(|_| fb(next())).collect();
                let want = scalar::dot_i8(&a, &b);
                let rows: Vec<i8> = (0..9 * (n + 3)).map(|_| fa(next())).collect();
                for p in paths_here() {
                    assert_eq!(dot_i8_path(p, &a, &b), want, "{} n={n}", p.name());
                    for k in 1..=9 {
                        // Rows of `n + 3`: the query dots a prefix of each.
                        let m = &rows[..k * (n + 3)];
                        let mut want = std::vec![0i32; k];
                        let mut got = std::vec![0i32; k];
                        scalar::gemv_rows(m, n + 3, &b, &mut want, scalar::dot_i8);
                        gemv_i8_path(p, m, n + 3, &b, &mut got);
                        assert_eq!(got, want, "{} n={n} k={k}", p.name());
                    }
                }
            }
        }
    }

    /// The extreme values at the longest `i8` length the bound allows,
    /// where the sums are largest: `(−128)²` (largest positive), `127·−128`
    /// (most negative; with the `u8` offset `255·−128`, whose running sum
    /// wraps `i32` and must come back), and `(−32768)²` for `i16`. Past the
    /// bound the kernels (not the API, which refuses) wrap like the
    /// reference.
    #[test]
    fn extremes_are_exact() {
        let n = MAX_I8_LEN;
        let lo = std::vec![-128i8; n + 1000];
        let hi = std::vec![127i8; n + 1000];
        let b = std::vec![-32768i16; 1000];
        let paths = if cfg!(miri) {
            // About 10^5 times slower: the two paths Miri tells apart.
            paths_here().into_iter().take(2).collect()
        } else {
            paths_here()
        };
        for p in paths {
            let name = p.name();
            assert_eq!(
                dot_i8_path(p, &lo[..n], &lo[..n]),
                128 * 128 * n as i32,
                "{name}"
            );
            assert_eq!(dot_i16_path(p, &b, &b), 1000 << 30, "{name}");
            if cfg!(miri) {
                // The rest costs Miri minutes; its paths have no offset.
                continue;
            }
            assert_eq!(
                dot_i8_path(p, &hi[..n], &lo[..n]),
                -127 * 128 * n as i32,
                "{name}"
            );
            assert_eq!(
                dot_i8_path(p, &lo[..n], &hi[..n]),
                -127 * 128 * n as i32,
                "{name}"
            );
            assert_eq!(
                dot_i8_path(p, &hi[..n], &hi[..n]),
                127 * 127 * n as i32,
                "{name}"
            );
            assert_eq!(
                dot_i8_path(p, &lo, &lo),
                scalar::dot_i8(&lo, &lo),
                "{name} past the bound"
            );
            assert_eq!(
                dot_i8_path(p, &hi, &lo),
                scalar::dot_i8(&hi, &lo),
                "{name} past the bound"
            );
            let mut out = [0i32; 2];
            let m: Vec<i8> = hi[..n].iter().chain(&lo[..n]).copied().collect();
            gemv_i8_path(p, &m, n, &lo[..n], &mut out);
            assert_eq!(out, [-127 * 128 * n as i32, 128 * 128 * n as i32], "{name}");
        }
        // Through the API too (not under Miri: the paths above suffice).
        for isa in Isa::ALL.into_iter().filter(|_| !cfg!(miri)) {
            assert_eq!(
                i8::int_dot_on(isa, &lo[..n], &lo[..n]).unwrap(),
                128 * 128 * n as i32
            );
        }
    }

    /// The paths above include VNNI wherever the CPU has it (a VNNI kernel
    /// that is compiled but never executed is what this guards against),
    /// and the `Isa` of each picks it.
    #[test]
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    fn vnni_paths_are_tested_where_the_cpu_has_them() {
        let names = names();
        std::println!("integer paths tested here: {names:?}");
        assert!(names.contains(&"scalar"));
        assert_eq!(
            names.contains(&"avx2"),
            std::is_x86_feature_detected!("avx2")
        );
        if cfg!(dam_avx512) {
            let avx512 = std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni");
            assert_eq!(names.contains(&"avx512-vnni"), avx512);
            assert_eq!(integer_path_name(Isa::Avx512f) == "avx512-vnni", avx512);
            let avx_vnni =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("avxvnni");
            assert_eq!(names.contains(&"avx-vnni"), avx_vnni);
            assert_eq!(integer_path_name(Isa::Avx2Fma) == "avx-vnni", avx_vnni);
        }
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
