//! Differential: every SIMD path this CPU can run (`Isa::ALL` filtered by
//! `is_available`) against the scalar reference, for every kernel (`dot`,
//! `squared_distance`, `axpy`, `gemv`, `gemm_nt_fused`, `gemm_nt`), in f32
//! and f64, on arbitrary lengths, offsets (unaligned starts) and values.
//!
//! Tolerance, as in `core/tests/simd_kernels.rs`: a vector path sums the
//! same products in another order and may fuse the multiply-add, so it is
//! within `2 (n + 2) ε Σ|a_i b_i|` of the scalar sum (Higham §3.1). Values
//! span the whole range short of overflow (|x| ≤ 1e15 in f32, 1e150 in f64,
//! so no sum overflows); subnormal products add an absolute `(n + 2)` ×
//! the smallest subnormal. gemm must call back every pair exactly once.
//!
//! Integers: `gemv_i8` on every path and `gemv_i8_skipping` (background
//! skipping, with the row sums) must equal the scalar reference exactly,
//! on rows long enough (up to 765 entries) to fill more than one list of
//! non-background entries.
#![no_main]

use arbitrary::Arbitrary;
use dam_core::Real;
use dam_core::simd::{self, IntKernels, Isa, Kernels, scalar};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    double: bool,
    d: u8,
    k: u8,
    b: u8,
    off: u8,
    alpha: u64,
    words: Vec<u64>,
}

/// What a value type needs here beyond [`Real`]: a bound short of
/// overflow, the smallest subnormal, and bits to build values from.
trait Elem: Real + Kernels + std::fmt::Debug {
    const BOUND: f64;
    const TINY: f64;
    fn from_word(w: u64) -> Self;
}

impl Elem for f32 {
    const BOUND: f64 = 1e15;
    const TINY: f64 = 1.401_298_5e-45;
    fn from_word(w: u64) -> Self {
        f32::from_bits(w as u32)
    }
}

impl Elem for f64 {
    const BOUND: f64 = 1e150;
    const TINY: f64 = 4.940_656_458_412_465e-324;
    fn from_word(w: u64) -> Self {
        f64::from_bits(w)
    }
}

/// A finite value within ±BOUND (non-finite words become 1).
fn value<T: Elem>(w: u64) -> T {
    let x = wide(T::from_word(w));
    T::from_f64(if x.is_finite() {
        x.clamp(-T::BOUND, T::BOUND)
    } else {
        1.0
    })
}

/// `x` as f64 (`Real::to_f64`, not num-traits' fallible one).
fn wide<T: Elem>(x: T) -> f64 {
    Real::to_f64(x)
}

fn close<T: Elem>(got: T, want: T, n: usize, abs_sum: f64) -> bool {
    let tol = 2.0 * (n as f64 + 2.0) * (wide(T::EPSILON) * abs_sum + T::TINY);
    (wide(got) - wide(want)).abs() <= tol
}

fn abs_dot<T: Elem>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (wide(*x) * wide(*y)).abs())
        .sum()
}

fn run<T: Elem>(input: &Input) {
    let (d, k, nb) = (
        usize::from(input.d % 80),
        usize::from(input.k % 17),
        usize::from(input.b % 9),
    );
    let off = usize::from(input.off % 4);
    let words = if input.words.is_empty() {
        &[0x3ff0_0000_0000_0000][..]
    } else {
        &input.words[..]
    };
    let mut it = words.iter().copied().cycle();
    let mut take = |n: usize| -> Vec<T> { (&mut it).take(n).map(value::<T>).collect() };
    // `off` leading elements: the kernels see unaligned starts.
    let a_buf = take(off + k * d);
    let q_buf = take(off + nb.max(1) * d);
    let (a, q) = (&a_buf[off..], &q_buf[off..]);
    let (x, y) = (&a[..d.min(a.len())], &q[..d.min(q.len())]);
    let n = x.len().min(y.len());
    let alpha = value::<T>(input.alpha);
    let diff: Vec<T> = x.iter().zip(y).map(|(&u, &v)| u - v).collect();

    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let (got, want) = (T::dot_on(isa, x, y), scalar::dot(x, y));
        assert!(
            close(got, want, n, abs_dot(x, y)),
            "{isa:?} dot {got:?} vs {want:?}"
        );
        let (got, want) = (
            T::squared_distance_on(isa, x, y),
            scalar::squared_distance(x, y),
        );
        assert!(
            close(got, want, n, abs_dot(&diff, &diff)),
            "{isa:?} squared_distance {got:?} vs {want:?}"
        );
        let mut got_y = y.to_vec();
        let mut want_y = y.to_vec();
        T::axpy_on(isa, alpha, x, &mut got_y);
        scalar::axpy(alpha, x, &mut want_y);
        for ((g, w), (u, v)) in got_y.iter().zip(&want_y).zip(x.iter().zip(y)) {
            let size = (wide(alpha) * wide(*u)).abs() + wide(*v).abs();
            assert!(close(*g, *w, 1, size), "{isa:?} axpy {g:?} vs {w:?}");
        }
        if d == 0 {
            continue;
        }
        let rows = a.len() / d;
        let mut got_g = vec![T::ZERO; rows];
        let mut want_g = vec![T::ZERO; rows];
        T::gemv_on(isa, a, d, y, &mut got_g);
        scalar::gemv(a, d, y, &mut want_g);
        for (mu, (g, w)) in got_g.iter().zip(&want_g).enumerate() {
            let s = abs_dot(&a[mu * d..(mu + 1) * d], y);
            assert!(close(*g, *w, d, s), "{isa:?} gemv row {mu}: {g:?} vs {w:?}");
        }
        let cols = q.len() / d;
        let mut want = vec![T::ZERO; rows * cols];
        scalar::gemm_nt_fused(a, q, d, |mu, b, v| want[mu * cols + b] = v);
        let mut seen = vec![0u32; rows * cols];
        let mut got = vec![T::ZERO; rows * cols];
        T::gemm_nt_fused_on(isa, a, q, d, |mu, b, v| {
            seen[mu * cols + b] += 1;
            got[mu * cols + b] = v;
        });
        assert!(
            seen.iter().all(|&s| s == 1),
            "{isa:?} gemm: every pair once"
        );
        // The same products in runs: every pair in exactly one run, each
        // query's runs in increasing memory order.
        let mut seen = vec![0u32; rows * cols];
        let mut next = vec![0usize; cols];
        T::gemm_nt_fused_runs_on(isa, a, q, d, |mu0, b, run| {
            assert!(!run.is_empty() && mu0 >= next[b], "{isa:?} runs: order");
            next[b] = mu0 + run.len();
            for (i, &v) in run.iter().enumerate() {
                seen[(mu0 + i) * cols + b] += 1;
                assert!(
                    v == got[(mu0 + i) * cols + b] || v.partial_cmp(&v).is_none(),
                    "{isa:?} runs: value"
                );
            }
        });
        assert!(
            seen.iter().all(|&s| s == 1),
            "{isa:?} runs: every pair once"
        );
        let mut out = vec![T::ZERO; rows * cols];
        simd::gemm_nt_on(isa, a, q, d, &mut out);
        for mu in 0..rows {
            for b in 0..cols {
                let s = abs_dot(&a[mu * d..(mu + 1) * d], &q[b * d..(b + 1) * d]);
                let i = mu * cols + b;
                assert!(
                    close(got[i], want[i], d, s),
                    "{isa:?} gemm_nt_fused ({mu},{b})"
                );
                assert!(close(out[i], want[i], d, s), "{isa:?} gemm_nt ({mu},{b})");
            }
        }
    }
}

fn run_int(input: &Input) {
    let d = usize::from(input.d) * 3;
    let k = usize::from(input.k % 17);
    let bytes: Vec<i8> = input
        .words
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| b as i8)
        .collect();
    let byte = |i: usize| bytes.get(i % bytes.len().max(1)).copied().unwrap_or(1);
    let rows: Vec<i8> = (0..k * d).map(byte).collect();
    let background = input.alpha as i8;
    // Each entry is background with probability b/8.
    let x: Vec<i8> = (0..d)
        .map(|i| {
            let r = byte(i.wrapping_mul(7919) + 3) as u8;
            if r % 8 < input.b % 9 {
                background
            } else {
                byte(i + k * d)
            }
        })
        .collect();
    if d == 0 {
        return;
    }
    let mut want = vec![0i32; k];
    scalar::gemv_rows(&rows, d, &x, &mut want, scalar::dot_i8);
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let mut got = vec![0i32; k];
        i8::int_gemv_on(isa, &rows, d, &x, &mut got).unwrap();
        assert_eq!(got, want, "{isa:?} gemv_i8");
    }
    let mut sums = vec![0i32; k];
    simd::row_sums_i8(&rows, d, x.len(), &mut sums).unwrap();
    let mut got = vec![0i32; k];
    simd::gemv_i8_skipping(&rows, d, &x, background, &sums, &mut got).unwrap();
    assert_eq!(got, want, "gemv_i8_skipping, background {background}");
}

fuzz_target!(|input: Input| {
    run_int(&input);
    if input.double {
        run::<f64>(&input);
    } else {
        run::<f32>(&input);
    }
});
