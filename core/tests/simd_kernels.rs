//! Every kernel path available on this machine against the scalar
//! reference, on random shapes: lengths that are not multiples of any
//! vector width, unaligned sub-slices (`&v[1..]`) and empty inputs.
//!
//! Tolerance: a vector path sums the same products in another order (per
//! lane, per accumulator, then a tree) and may fuse the multiply-add. Both
//! orders are within `γ_n Σ|a_i b_i|` of the exact sum, `γ_n = nε/(1−nε)`
//! (Higham, §3.1), so they are within `2 γ_n Σ|a_i b_i|` of each other. The
//! test uses `2 (n + 2) ε Σ|a_i b_i|` (the `+2` covers the final tree and
//! `n = 0, 1`); with entries in `[−1, 1]` this is a few ulps of the
//! magnitude, and any indexing or tail bug is off by a whole product.

mod common;

use dam_core::Real;
use dam_core::simd::{self, IntKernels, Isa, Kernels, scalar};
use proptest::prelude::*;

/// The paths compiled for this target that this CPU can run.
fn paths() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
}

fn tol<T: Real>(n: usize, abs_sum: f64) -> f64 {
    2.0 * (n as f64 + 2.0) * T::EPSILON.to_f64() * abs_sum
}

fn close<T: Real>(got: T, want: T, n: usize, abs_sum: f64) -> bool {
    (got.to_f64() - want.to_f64()).abs() <= tol::<T>(n, abs_sum)
}

fn abs_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum()
}

fn vecs(max: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>, usize)> {
    (0..max).prop_flat_map(|n| {
        (
            prop::collection::vec(-1.0f64..1.0, n + 1),
            prop::collection::vec(-1.0f64..1.0, n + 1),
            0..2usize,
        )
    })
}

fn int8() -> impl Strategy<Value = i8> {
    prop_oneof![3 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8)]
}

fn cast<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn check_reductions<T: Real>(a: &[f64], b: &[f64], off: usize) -> Result<(), TestCaseError> {
    let (ta, tb) = (cast::<T>(a), cast::<T>(b));
    // Unaligned: start one element in for `off = 1`.
    let (sa, sb) = (&ta[off..], &tb[off..]);
    let (fa, fb) = (&a[off..], &b[off..]);
    let n = sa.len();
    let want = scalar::dot(sa, sb);
    let d: Vec<f64> = fa.iter().zip(fb).map(|(x, y)| x - y).collect();
    let want_d = scalar::squared_distance(sa, sb);
    for isa in paths() {
        let got = T::dot_on(isa, sa, sb);
        prop_assert!(
            close(got, want, n, abs_dot(fa, fb)),
            "{isa:?} dot {got} vs {want}, n={n}"
        );
        let got = T::squared_distance_on(isa, sa, sb);
        prop_assert!(
            close(got, want_d, n, abs_dot(&d, &d)),
            "{isa:?} dist {got} vs {want_d}"
        );
        // Different lengths: the common prefix.
        let got = T::dot_on(isa, sa, &sb[..n / 2]);
        let want_h = scalar::dot(&sa[..n / 2], &sb[..n / 2]);
        prop_assert!(close(got, want_h, n, abs_dot(fa, fb)), "{isa:?} prefix dot");
        // axpy: one FMA (or mul+add) per element: within 2ε|α x + y|-ish.
        let alpha = T::from_f64(0.75);
        let mut want_y = tb.clone();
        scalar::axpy(alpha, sa, &mut want_y[off..]);
        let mut y = tb.clone();
        T::axpy_on(isa, alpha, sa, &mut y[off..]);
        prop_assert_eq!(y[..off].to_vec(), tb[..off].to_vec());
        for (g, w) in y.iter().zip(&want_y) {
            prop_assert!(close(*g, *w, 1, 2.0), "{isa:?} axpy {g} vs {w}");
        }
    }
    Ok(())
}

fn mats(
    max_k: usize,
    max_b: usize,
    max_d: usize,
) -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>)> {
    (0..max_k, 0..max_b, 0..max_d).prop_flat_map(|(k, b, d)| {
        (
            Just(k),
            Just(b),
            Just(d),
            // One extra element: the matrices start at offset 1 (unaligned)
            // and a partial trailing row is present and must be ignored.
            prop::collection::vec(-1.0f64..1.0, k * d + 1 + d / 2),
            prop::collection::vec(-1.0f64..1.0, b * d + 1 + d / 2),
        )
    })
}

fn check_gemm<T: Real>(
    k: usize,
    nb: usize,
    d: usize,
    a: &[f64],
    q: &[f64],
) -> Result<(), TestCaseError> {
    let (ta, tq) = (cast::<T>(a), cast::<T>(q));
    let (ma, mq) = (&ta[1..], &tq[1..]);
    let rows_a = ma.len().checked_div(d).unwrap_or(0);
    let rows_q = mq.len().checked_div(d).unwrap_or(0);
    prop_assert!(d == 0 || (rows_a == k && rows_q == nb));
    let mut want = vec![T::ZERO; rows_a * rows_q];
    scalar::gemm_nt_fused(ma, mq, d, |mu, b, v| want[mu * rows_q + b] = v);
    for isa in paths() {
        let mut seen = vec![0u32; rows_a * rows_q];
        let mut got = vec![T::ZERO; rows_a * rows_q];
        T::gemm_nt_fused_on(isa, ma, mq, d, |mu, b, v| {
            seen[mu * rows_q + b] += 1;
            got[mu * rows_q + b] = v;
        });
        prop_assert!(
            seen.iter().all(|&s| s == 1),
            "{isa:?}: every pair exactly once"
        );
        // Runs: every pair in exactly one run, each query's runs in
        // increasing memory order, the same bits as one call per product.
        let mut seen = vec![0u32; rows_a * rows_q];
        let mut next = vec![0usize; rows_q];
        let mut runs_ok = true;
        let mut ran = vec![T::ZERO; rows_a * rows_q];
        T::gemm_nt_fused_runs_on(isa, ma, mq, d, |mu0, b, run| {
            runs_ok &= !run.is_empty() && b < rows_q && mu0 >= next[b] && mu0 + run.len() <= rows_a;
            if let Some(n) = next.get_mut(b) {
                *n = mu0 + run.len();
            }
            for (i, &v) in run.iter().enumerate() {
                if let Some(s) = seen.get_mut((mu0 + i) * rows_q + b) {
                    *s += 1;
                    ran[(mu0 + i) * rows_q + b] = v;
                }
            }
        });
        prop_assert!(
            runs_ok,
            "{isa:?}: runs non-empty, in range, in increasing order"
        );
        prop_assert!(
            seen.iter().all(|&s| s == 1),
            "{isa:?}: every pair in exactly one run"
        );
        for (r, g) in ran.iter().zip(&got) {
            prop_assert_eq!(r, g, "{:?}: runs differ from products", isa);
        }
        let mut out = vec![T::ZERO; rows_a * rows_q];
        simd::gemm_nt_on(isa, ma, mq, d, &mut out);
        for mu in 0..rows_a {
            for b in 0..rows_q {
                let i = mu * rows_q + b;
                let s = abs_dot(&a[1 + mu * d..][..d], &q[1 + b * d..][..d]);
                prop_assert!(
                    close(got[i], want[i], d, s),
                    "{isa:?} gemm ({mu},{b}) {} vs {}",
                    got[i],
                    want[i]
                );
                prop_assert_eq!(out[i], got[i]);
            }
        }
        // gemv: every query against all rows; also a prefix (x shorter than d).
        for (b, x) in mq.chunks_exact(d.max(1)).enumerate().take(2) {
            for n in [d, d / 2] {
                let mut out = vec![T::from_f64(7.0); rows_a + 1];
                T::gemv_on(isa, ma, d, &x[..n], &mut out);
                prop_assert_eq!(out[rows_a], T::from_f64(7.0), "{:?} wrote past K", isa);
                for mu in 0..rows_a {
                    let w = scalar::dot(&ma[mu * d..][..n], &x[..n]);
                    let s = abs_dot(&a[1 + mu * d..][..n], &q[1 + b * d..][..n]);
                    prop_assert!(close(out[mu], w, n, s), "{isa:?} gemv {mu} n={n}");
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(256), 3))]

    #[test]
    fn reductions_f32((a, b, off) in vecs(if cfg!(miri) { 100 } else { 300 })) {
        check_reductions::<f32>(&a, &b, off)?;
    }

    #[test]
    fn reductions_f64((a, b, off) in vecs(if cfg!(miri) { 100 } else { 300 })) {
        check_reductions::<f64>(&a, &b, off)?;
    }

    #[test]
    fn gemm_gemv_f32((k, b, d, a, q) in if cfg!(miri) { mats(12, 9, 40) } else { mats(30, 15, 80) }) {
        check_gemm::<f32>(k, b, d, &a, &q)?;
    }

    /// `trig::sin_cos_slice` (the AVX2 copy on a CPU that has it, the
    /// baseline loop otherwise) equals the scalar `sin_cos_f32` bit for bit,
    /// on any length (vector tails), unaligned starts, and arguments beyond
    /// the fast range (the libm fix-up), NaN and infinities included.
    #[test]
    fn sin_cos_slice_is_the_scalar_bitwise(
        x in prop::collection::vec(
            prop_oneof![
                8 => -20.0f32..20.0,
                2 => -9000.0f32..9000.0,
                1 => prop::num::f32::ANY,
            ],
            0..if cfg!(miri) { 20 } else { 100 },
        ),
        off in 0..2usize,
    ) {
        let x = x.get(off.min(x.len())..).unwrap_or(&[]);
        let (mut s, mut c) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
        dam_core::trig::sin_cos_slice(x, &mut s, &mut c);
        // Rust leaves the sign and payload of a NaN result unspecified and
        // Miri picks them at random: there two NaNs count as equal.
        let bits = |v: f32| if cfg!(miri) && v.is_nan() { f32::NAN.to_bits() } else { v.to_bits() };
        for (i, &xi) in x.iter().enumerate() {
            let (ws, wc) = dam_core::trig::sin_cos_f32(xi);
            prop_assert_eq!(bits(s[i]), bits(ws), "sin x[{}] = {}", i, xi);
            prop_assert_eq!(bits(c[i]), bits(wc), "cos x[{}] = {}", i, xi);
        }
    }

    /// The integer kernels of every available path (on x86 the `Isa`
    /// picks AVX-512 VNNI, AVX-VNNI or AVX2, see `paths_exercised_here`)
    /// equal the reference exactly, with `−128` and `127` (the corners of
    /// the `u8` offset of `vpdpbusd`) over-represented; lengths cross the
    /// 16-, 32- and 64-entry steps; rows of `d` dotted with a prefix.
    #[test]
    fn integer_kernels_equal_the_reference(
        a in prop::collection::vec(int8(), 0..if cfg!(miri) { 70 } else { 300 }),
        b in prop::collection::vec(int8(), 0..if cfg!(miri) { 70 } else { 300 }),
        k in 0usize..10,
        off in 0..2usize,
    ) {
        let a = a.get(off.min(a.len())..).unwrap_or(&[]);
        let want = scalar::dot_i8(a, &b);
        // `k` rows of `d = b.len()` cut from `a` repeated, dotted with `b`'s
        // first `n ≤ d` entries.
        let d = b.len();
        let n = d - d / 3;
        let rows: Vec<i8> = a.iter().copied().cycle().take(if a.is_empty() { 0 } else { k * d }).collect();
        let mut want_g = vec![7i32; k + 1];
        scalar::gemv_rows(&rows, d, &b[..n], &mut want_g, scalar::dot_i8);
        // Spread to the `i16` range: −128 → −32768, 127 → 32 639.
        let wide = |v: &i8| i16::from(*v) * 256 + i16::from(*v as u8 & 0x7f);
        let a16: Vec<i16> = a.iter().map(wide).collect();
        let b16: Vec<i16> = b.iter().map(wide).collect();
        for isa in paths() {
            let name = simd::integer_path_name(isa);
            prop_assert_eq!(i8::int_dot_on(isa, a, &b).unwrap(), want, "{}", name);
            let mut got = vec![7i32; k + 1];
            i8::int_gemv_on(isa, &rows, d, &b[..n], &mut got).unwrap();
            prop_assert_eq!(&got, &want_g, "{}", name);
            prop_assert_eq!(
                i16::int_dot_on(isa, &a16, &b16).unwrap(),
                scalar::dot_i16(&a16, &b16),
                "{}", name
            );
        }
    }

    /// Shapes past one micro-tile of the packed kernels (AVX-512: 32 (f32)
    /// or 16 (f64) memories × 14 queries; AVX2: 16 or 8 × 6), ragged in
    /// every dimension.
    #[test]
    fn gemm_packed_shapes_f32((k, b, d, a, q) in if cfg!(miri) { mats(34, 14, 20) } else { mats(100, 40, 70) }) {
        check_gemm::<f32>(k, b, d, &a, &q)?;
    }

    #[test]
    fn gemm_packed_shapes_f64((k, b, d, a, q) in if cfg!(miri) { mats(18, 14, 20) } else { mats(60, 30, 70) }) {
        check_gemm::<f64>(k, b, d, &a, &q)?;
    }

    #[test]
    fn gemm_gemv_f64((k, b, d, a, q) in if cfg!(miri) { mats(12, 9, 40) } else { mats(30, 15, 80) }) {
        check_gemm::<f64>(k, b, d, &a, &q)?;
    }
}

/// Large enough that `gemm_nt_fused` splits the memories into several
/// L2-sized blocks (a block is about 192 KiB of rows; 4 KiB under Miri).
#[test]
fn gemm_spans_several_cache_blocks() {
    let (k, nb, d) = if cfg!(miri) {
        (10usize, 3usize, 1003usize)
    } else {
        (70, 7, 1003)
    };
    let a: Vec<f32> = (0..k * d)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let q: Vec<f32> = (0..nb * d)
        .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
        .collect();
    for isa in paths() {
        let mut out = vec![f32::NAN; k * nb];
        simd::gemm_nt_on(isa, &a, &q, d, &mut out);
        for mu in 0..k {
            for b in 0..nb {
                let w = scalar::dot(&a[mu * d..][..d], &q[b * d..][..d]);
                let g = out[mu * nb + b];
                assert!((g - w).abs() <= 1e-3, "{isa:?} ({mu},{b}) {g} vs {w}");
            }
        }
    }
}

/// On x86_64, SSE2 always runs, and the others run exactly where the CPU
/// says they can: the proptests above exercise every path in this list.
#[test]
fn paths_exercised_here() {
    let p = paths();
    println!(
        "kernel paths tested on this machine: {p:?}; best = {:?}",
        Isa::best()
    );
    assert!(p.contains(&Isa::Scalar));
    assert!(p.contains(&Isa::best()));
    assert!(p.contains(&Isa::best_batch()));
    #[cfg(target_arch = "x86_64")]
    {
        assert!(p.contains(&Isa::Sse2));
        assert_eq!(
            p.contains(&Isa::Avx2Fma),
            std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
        );
        assert_eq!(
            p.contains(&Isa::Avx512f),
            std::is_x86_feature_detected!("avx512f")
        );
        // The integer paths the proptests above run through these `Isa`s:
        // the VNNI kernels (`vpdpbusd`) must be among them wherever the CPU
        // has VNNI (and the compiler has the intrinsics, `cfg(dam_avx512)`).
        let int: Vec<&str> = p.iter().map(|&i| simd::integer_path_name(i)).collect();
        println!(
            "integer paths tested on this machine: {int:?}; best = {}",
            simd::integer_path_name(Isa::best_integer())
        );
        #[cfg(dam_avx512)]
        {
            let vnni512 = std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni");
            let avx_vnni =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("avxvnni");
            assert_eq!(int.contains(&"avx512-vnni"), vnni512, "{int:?}");
            assert_eq!(
                int.contains(&"avx-vnni"),
                avx_vnni && !cfg!(miri),
                "{int:?}"
            );
        }
        assert_eq!(
            int.contains(&"avx2") || int.contains(&"avx-vnni") || int.contains(&"avx512-vnni"),
            std::is_x86_feature_detected!("avx2")
        );
    }
    // NEON is part of the aarch64 baseline (CI runs these tests under
    // qemu-aarch64: scripts/setup.sh, .ci/run).
    #[cfg(target_arch = "aarch64")]
    assert!(p.contains(&Isa::Neon));
}

/// An unavailable path falls back to the reference instead of faulting.
#[test]
fn unavailable_path_falls_back() {
    let a = [1.0f32, 2.0, 3.0];
    for isa in Isa::ALL {
        assert_eq!(f32::dot_on(isa, &a, &a), 14.0, "{isa:?}");
        assert_eq!(f64::dot_on(isa, &[1.0, 2.0], &[3.0, 4.0]), 11.0, "{isa:?}");
    }
}

/// Empty and zero-width inputs.
#[test]
fn empty_inputs() {
    for isa in Isa::ALL {
        assert_eq!(f32::dot_on(isa, &[], &[]), 0.0);
        assert_eq!(f64::squared_distance_on(isa, &[], &[1.0]), 0.0);
        let mut y: [f32; 0] = [];
        f32::axpy_on(isa, 2.0, &[], &mut y);
        let mut out = [5.0f32; 2];
        f32::gemv_on(isa, &[1.0, 2.0], 0, &[1.0], &mut out);
        f32::gemv_on(isa, &[], 3, &[1.0], &mut out);
        assert_eq!(out, [5.0, 5.0]);
        let mut calls = 0;
        f32::gemm_nt_fused_on(isa, &[1.0; 4], &[1.0; 4], 0, |_, _, _| calls += 1);
        f32::gemm_nt_fused_on(isa, &[], &[1.0; 4], 2, |_, _, _| calls += 1);
        f32::gemm_nt_fused_on(isa, &[1.0; 4], &[1.0], 2, |_, _, _| calls += 1);
        f32::gemm_nt_fused_runs_on(isa, &[1.0; 4], &[1.0; 4], 0, |_, _, _| calls += 1);
        f32::gemm_nt_fused_runs_on(isa, &[], &[1.0; 4], 2, |_, _, _| calls += 1);
        f64::gemm_nt_fused_runs_on(isa, &[1.0; 4], &[1.0], 2, |_, _, _| calls += 1);
        assert_eq!(calls, 0);
        // Ragged tails (a partial last row of either operand) are ignored:
        // 40 memories and 15 queries of 3, the packed shapes on AVX-512.
        let (mut pairs, mut longest) = (0, 0);
        let a = [0.5f32; 40 * 3 + 2];
        let q = [0.25f32; 15 * 3 + 1];
        f32::gemm_nt_fused_runs_on(isa, &a, &q, 3, |_, _, run| {
            pairs += run.len();
            longest = longest.max(run.len());
            assert!(run.iter().all(|&v| v == 0.375));
        });
        assert_eq!(pairs, 40 * 15, "{isa:?}");
        assert!(longest >= 1);
    }
}
