//! The inner loops: dot products, distances, row updates, matrix-vector and
//! batched (matrix · matrixᵀ) products.
//!
//! Every retrieval function of the crate reaches memory through these
//! kernels, so a faster path for a target lands here and nowhere else. This
//! module (and its per-architecture children) is the only place where
//! `unsafe` is allowed, with the two Cortex-M FPU instructions behind
//! [`Real::sqrt`] and [`Real::mul_add`]; everything public is safe. [`Isa`]
//! and [`Kernels`] are declared below the number types
//! (docs/architecture.md) and implemented here.
//!
//! ## Paths ([`Isa`])
//! | path | target | selection |
//! |---|---|---|
//! | [`Isa::Avx512f`] | x86_64 with AVX-512F: 16 `f32` lanes; batch: packed 32×14 outer products (4×6 dot tile for small shapes) | run time (`cpufeatures`), or compile time |
//! | [`Isa::Avx2Fma`] | x86_64 with AVX2 + FMA: 8 `f32` lanes; batch: packed 16×6 outer products (3×4 dot tile for small shapes) | run time, or compile time |
//! | [`Isa::Sse2`] | every x86_64: 4 `f32` lanes, no FMA | always available there |
//! | [`Isa::Neon`] | aarch64: 4 `f32` lanes, `vfmaq` | compile time |
//! | [`Isa::CortexMFpu`] | Cortex-M4F/M7 (`*-none-eabihf`): `asm!` loops of `vfma.f32`, 4 accumulators | compile time |
//! | [`Isa::CortexMDsp`] | Cortex-M4/M7 (`thumbv7em-*`): DSP `smlad`, integer kernels only | compile time |
//! | [`Isa::Scalar`] | everywhere: the portable reference ([`scalar`]) | fallback (thumbv6m, …) |
//!
//! The integer kernels for quantized memories ([`dot_i8`], [`gemv_i8`], …)
//! are in [`integer`], with their own choice of path
//! ([`Isa::best_integer`]).
//!
//! [`Isa::best`] picks the first available path of that list (detection is
//! cached; features enabled at compile time, e.g. `-C target-cpu=native`,
//! make it a constant) for the vector kernels ([`dot`], [`gemv`], …);
//! the batched product ([`gemm_nt_fused`], [`gemm_nt`]) uses
//! [`Isa::best_batch`] (the same path today, see there). The functions
//! without a suffix use these; the
//! [`Kernels`] methods ending in `_on` take the path explicitly (an
//! unavailable one falls back to the scalar reference), which is how the
//! tests exercise every path against the reference.
//!
//! ## Accuracy
//! Vector paths sum in a different order than the reference (one partial
//! sum per lane and accumulator, then a tree): results differ from the
//! reference by rounding only, bounded by `γ_n Σ|a_i b_i|` with
//! `γ_n = n ε / (1 − n ε)` for `n` terms (Higham, *Accuracy and Stability
//! of Numerical Algorithms*, §3.1); in practice far less.

pub(crate) mod bits;
pub mod integer;
pub mod scalar;
pub mod skipping;

pub use integer::{
    IntKernels, MAX_I8_LEN, MAX_I16_LEN, dot_i8, dot_i16, gemv_i8, gemv_i16, integer_path_name,
};
pub use skipping::{gemv_i8_skipping, row_sums_i8};

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod lanes;

#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
pub(crate) mod arm;
#[cfg(dam_dsp)]
mod dsp;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_int;
#[cfg(all(target_arch = "x86_64", dam_avx512))]
mod x86_packed;

pub use crate::isa::{Isa, Kernels};

/// A computation written as plain loops that [`vectorized`] compiles for
/// the widest vector unit the CPU has. `run` must be `#[inline(always)]`
/// (a closure cannot be, so it would not inherit the target features; a
/// `run` that is not inlined still gives the same result, only at the
/// baseline width).
///
/// ```
/// use dam_core::simd::{Vectorized, vectorized};
///
/// /// `y += a·x`, element-wise.
/// struct Axpy<'a> {
///     a: f32,
///     x: &'a [f32],
///     y: &'a mut [f32],
/// }
///
/// impl Vectorized for Axpy<'_> {
///     type Output = ();
///     #[inline(always)]
///     fn run(self) {
///         for (y, &x) in self.y.iter_mut().zip(self.x) {
///             *y += self.a * x;
///         }
///     }
/// }
///
/// let x = [1.0f32, 2.0, 3.0];
/// let mut y = [1.0f32; 3];
/// vectorized(Axpy { a: 2.0, x: &x, y: &mut y });
/// assert_eq!(y, [3.0, 5.0, 7.0]);
/// ```
pub trait Vectorized {
    /// What the computation returns.
    type Output;
    /// The computation.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` compiled for the widest vector unit the CPU has where that
/// needs run-time detection (AVX-512F, else AVX2, on x86_64), so that its plain loops
/// vectorize; elsewhere as compiled. The same bits either way (plain IEEE
/// arithmetic, never contracted): element-wise loops give the bits of the
/// scalar loop, and a reduction the bits of the order it is written in.
/// See [`Vectorized`] for an example.
#[inline]
pub fn vectorized<K: Vectorized>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        x86::vectorized(kernel)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        kernel.run()
    }
}
use crate::real::Real;

impl Isa {
    /// Every path, fastest first (the order [`Isa::best`] tries them in).
    pub const ALL: [Isa; 7] = [
        Isa::Avx512f,
        Isa::Avx2Fma,
        Isa::Sse2,
        Isa::Neon,
        Isa::CortexMFpu,
        Isa::CortexMDsp,
        Isa::Scalar,
    ];

    /// Whether this path can run here: compiled for this target and, on
    /// x86_64, supported by the CPU and the OS (detected once, then cached).
    ///
    /// ```
    /// assert!(dam_core::simd::Isa::Scalar.is_available());
    /// ```
    #[inline]
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            // SAFETY: as above (SSE2 is the x86_64 baseline).
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => true,
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => x86::has_avx2_fma(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512f => x86::has_avx512f(),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => true,
            #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
            Isa::CortexMFpu => true,
            #[cfg(dam_dsp)]
            Isa::CortexMDsp => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest available path.
    ///
    /// ```
    /// let isa = dam_core::simd::Isa::best();
    /// assert!(isa.is_available());
    /// ```
    #[inline]
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if x86::has_avx512f() {
                Isa::Avx512f
            } else if x86::has_avx2_fma() {
                Isa::Avx2Fma
            } else {
                Isa::Sse2
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            Isa::Neon
        }
        #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
        {
            Isa::CortexMFpu
        }
        #[cfg(not(any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            all(target_arch = "arm", target_os = "none", target_abi = "eabihf")
        )))]
        {
            Isa::Scalar
        }
    }

    /// The path of the batched product ([`gemm_nt_fused`], [`gemm_nt`]):
    /// the same as [`Isa::best`] since the packed outer-product kernels
    /// (see [`gemm_nt_fused`]); kept as its own choice because the two have
    /// differed (the earlier dot-product tiles ran faster on AVX2 + FMA
    /// than on AVX-512F).
    ///
    /// Measured on an AVX-512 Xeon (batch 1000 × K = 100 and 2000 memories,
    /// D = 794, `BENCHMARKS.md`): the AVX-512 kernel (32 memories × 14
    /// queries per micro-tile) runs at about 1.6× the AVX2 one (16 × 6),
    /// which is bounded by the 8-lane FMA peak, half the 16-lane one.
    ///
    /// ```
    /// assert!(dam_core::simd::Isa::best_batch().is_available());
    /// ```
    #[inline]
    pub fn best_batch() -> Isa {
        Isa::best()
    }

    /// The fastest available path of the integer kernels ([`integer`]):
    /// AVX-512 (VNNI) or AVX2 on x86_64, the DSP extension on thumbv7em,
    /// else the reference.
    ///
    /// ```
    /// assert!(dam_core::simd::Isa::best_integer().is_available());
    /// ```
    #[inline]
    pub fn best_integer() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if x86::has_avx512f() {
                Isa::Avx512f
            } else if x86_int::has_avx2() {
                Isa::Avx2Fma
            } else {
                Isa::Scalar
            }
        }
        #[cfg(dam_dsp)]
        {
            Isa::CortexMDsp
        }
        #[cfg(not(any(target_arch = "x86_64", dam_dsp)))]
        {
            Isa::Scalar
        }
    }

    /// `self` if available, else [`Isa::Scalar`].
    #[inline]
    fn or_scalar(self) -> Isa {
        if self.is_available() {
            self
        } else {
            Isa::Scalar
        }
    }
}

/// Runs kernel `$f` of the path `$isa` for element type `$t`, or
/// `$fallback` when the path is not compiled for this target.
macro_rules! dispatch {
    ($isa:expr, $t:ty, $f:ident($($arg:expr),*), fpu: $fpu:expr, else: $fallback:expr) => {
        match $isa.or_scalar() {
            // SAFETY (x86 arms): `or_scalar` returned the path only if
            // `is_available` found its features on this CPU.
            #[cfg(all(target_arch = "x86_64", dam_avx512))]
            Isa::Avx512f => unsafe { x86::avx512::$f::<<$t as x86::Vectors>::Avx512>($($arg),*) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => unsafe { x86::avx2::$f::<<$t as x86::Vectors>::Avx2>($($arg),*) },
            // SAFETY: as above (SSE2 is the x86_64 baseline).
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => unsafe { x86::sse2::$f::<<$t as x86::Vectors>::Sse2>($($arg),*) },
            // SAFETY: NEON is part of every aarch64 target.
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => unsafe { neon::neon::$f::<<$t as neon::Vectors>::Neon>($($arg),*) },
            #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
            Isa::CortexMFpu => $fpu,
            _ => $fallback,
        }
    };
}

macro_rules! impl_kernels {
    ($t:ty, $sin_cos:path) => {
        // The dispatcher's `unsafe` calls of `#[target_feature]` kernels.
        #[allow(unsafe_code)]
        impl Kernels for $t {
            #[inline]
            fn dot_on(isa: Isa, a: &[$t], b: &[$t]) -> $t {
                dispatch!(isa, $t, dot(a, b),
                    fpu: <$t as arm::Fpu>::fpu_dot(a, b),
                    else: scalar::dot(a, b))
            }
            #[inline]
            fn squared_distance_on(isa: Isa, a: &[$t], b: &[$t]) -> $t {
                dispatch!(isa, $t, squared_distance(a, b),
                    fpu: <$t as arm::Fpu>::fpu_squared_distance(a, b),
                    else: scalar::squared_distance(a, b))
            }
            #[inline]
            fn axpy_on(isa: Isa, alpha: $t, x: &[$t], y: &mut [$t]) {
                dispatch!(isa, $t, axpy(alpha, x, y),
                    fpu: scalar::axpy(alpha, x, y),
                    else: scalar::axpy(alpha, x, y))
            }
            #[inline]
            fn gemv_on(isa: Isa, memories: &[$t], d: usize, x: &[$t], out: &mut [$t]) {
                dispatch!(isa, $t, gemv(memories, d, x, out),
                    fpu: fpu_gemv(memories, d, x, out),
                    else: scalar::gemv(memories, d, x, out))
            }
            #[inline]
            fn gemm_nt_fused_on<F: FnMut(usize, usize, $t)>(
                isa: Isa,
                memories: &[$t],
                queries: &[$t],
                d: usize,
                f: F,
            ) {
                dispatch!(isa, $t, gemm_fused(memories, queries, d, f),
                    fpu: fpu_gemm_nt_fused(memories, queries, d, f),
                    else: scalar::gemm_nt_fused(memories, queries, d, f))
            }
            #[inline]
            fn gemm_nt_fused_runs_on<F: FnMut(usize, usize, &[$t])>(
                isa: Isa,
                memories: &[$t],
                queries: &[$t],
                d: usize,
                mut f: F,
            ) {
                dispatch!(isa, $t, gemm_fused_runs(memories, queries, d, f),
                    fpu: fpu_gemm_nt_fused(memories, queries, d,
                        |mu, b, v| f(mu, b, core::slice::from_ref(&v))),
                    else: scalar::gemm_nt_fused(memories, queries, d,
                        |mu, b, v| f(mu, b, core::slice::from_ref(&v))))
            }
            #[inline]
            fn sin_cos_slice(x: &[$t], sin_out: &mut [$t], cos_out: &mut [$t]) {
                $sin_cos(x, sin_out, cos_out)
            }
        }
    };
}
impl_kernels!(f32, sin_cos_slice_f32);
impl_kernels!(f64, sin_cos_slice_f64);

/// [`crate::trig::sin_cos_slice`]: its loop compiled for AVX2 + FMA where
/// the CPU has them, the baseline copy otherwise.
#[inline]
fn sin_cos_slice_f32(x: &[f32], sin_out: &mut [f32], cos_out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if sin_cos_slice_x86(x, sin_out, cos_out) {
        return;
    }
    crate::trig::sin_cos_slice_portable(x, sin_out, cos_out)
}

/// `f64` has no vector sine: one [`Real::sin_cos`] per entry.
fn sin_cos_slice_f64(x: &[f64], sin_out: &mut [f64], cos_out: &mut [f64]) {
    for ((&xi, s), c) in x.iter().zip(sin_out.iter_mut()).zip(cos_out.iter_mut()) {
        (*s, *c) = xi.sin_cos();
    }
}

/// [`gemv`] on the Cortex-M FPU: one `asm!` dot product per row.
#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
fn fpu_gemv<T: Real>(a: &[T], lda: usize, x: &[T], out: &mut [T]) {
    if lda == 0 {
        return;
    }
    let n = x.len().min(lda);
    for (o, row) in out.iter_mut().zip(a.chunks_exact(lda)) {
        *o = T::dot_on(Isa::CortexMFpu, row.get(..n).unwrap_or(&[]), x);
    }
}

/// [`gemm_nt_fused`] on the Cortex-M FPU: one `asm!` dot product per pair
/// (there are no registers to spare for a tile).
#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
fn fpu_gemm_nt_fused<T: Real, F: FnMut(usize, usize, T)>(a: &[T], q: &[T], d: usize, mut f: F) {
    if d == 0 {
        return;
    }
    for (mu, row) in a.chunks_exact(d).enumerate() {
        for (b, x) in q.chunks_exact(d).enumerate() {
            f(mu, b, T::dot_on(Isa::CortexMFpu, row, x));
        }
    }
}

/// `Σ a_i b_i` over the common length of `a` and `b`.
///
/// ```
/// assert_eq!(dam_core::simd::dot(&[1.0f32, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    T::dot_on(Isa::best(), a, b)
}

/// `Σ a_i σ_i` for a bipolar state `σ` (`s_i ≥ 0` counts as `+1`, else `−1`).
///
/// ```
/// assert_eq!(dam_core::simd::dot_bipolar(&[1.0f32, 2.0, 3.0], &[1, -1, 1]), 2.0);
/// ```
#[inline]
pub fn dot_bipolar<T: Real>(a: &[T], s: &[i8]) -> T {
    scalar::dot_bipolar(a, s)
}

/// `Σ (a_i − b_i)²` over the common length.
///
/// ```
/// assert_eq!(dam_core::simd::squared_distance(&[1.0f64, 2.0], &[3.0, 5.0]), 13.0);
/// ```
#[inline]
pub fn squared_distance<T: Real>(a: &[T], b: &[T]) -> T {
    T::squared_distance_on(Isa::best(), a, b)
}

/// `y_i += alpha · x_i` over the common length.
///
/// ```
/// let mut y = [1.0f32, 1.0];
/// dam_core::simd::axpy(2.0, &[1.0, 3.0], &mut y);
/// assert_eq!(y, [3.0, 7.0]);
/// ```
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    T::axpy_on(Isa::best(), alpha, x, y)
}

/// Many rows times one vector: `out[μ] = Σ_{i<n} ξ^μ_i x_i` where row `μ`
/// of the row-major `memories` starts at `μ·d`, `n = min(x.len(), d)` (so a
/// shorter `x` dots a prefix of every row, e.g. the visible part of a
/// classifier memory), for `μ < min(out.len(), memories.len() / d)`.
/// Other entries of `out` are left alone; `d = 0` does nothing.
///
/// Several rows share each load of `x` (4 rows per step with AVX2, 8 with
/// AVX-512/NEON).
///
/// ```
/// let xi = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 rows of 3
/// let mut out = [0.0f32; 2];
/// dam_core::simd::gemv(&xi, 3, &[1.0, 0.0, 1.0], &mut out);
/// assert_eq!(out, [4.0, 10.0]);
/// dam_core::simd::gemv(&xi, 3, &[1.0, 1.0], &mut out); // prefix of each row
/// assert_eq!(out, [3.0, 9.0]);
/// ```
#[inline]
pub fn gemv<T: Real>(memories: &[T], d: usize, x: &[T], out: &mut [T]) {
    T::gemv_on(Isa::best(), memories, d, x, out)
}

/// Calls `f(μ, b, ξ^μ·x_b)` exactly once for every memory `μ` (`K =
/// memories.len() / d` rows of `d`) and every query `b` (`B =
/// queries.len() / d` rows of `d`), both row-major: the batched product
/// `Ξ Xᵀ` without storing it, so the caller can apply the interaction
/// function and reduce in the same pass (no `K × B` intermediate).
///
/// The order of the calls is unspecified (tile by tile: blocks of memories
/// that fit L2, then a few queries, then a few memories).
///
/// On AVX-512 and AVX2 + FMA, shapes of at least one micro-tile (`K ≥ 32`
/// and `B ≥ 14` on AVX-512, `K ≥ 16` and `B ≥ 6` on AVX2, for `f32`; half
/// the memories for `f64`) with `d ≤ 2048` use packed outer products, the
/// way BLIS-style GEMMs do: a block of memories is packed into panels of
/// two registers' height (32 `f32` memories per column on AVX-512; on the
/// stack, 256 KiB, the crate has no allocator) and kept in L2; for every
/// group of `NR` queries (14 on AVX-512, 6 on AVX2) and every panel, each
/// of the `d` steps loads two registers of memories, broadcasts `NR` query
/// entries and issues `2·NR` FMAs into `2·NR` accumulator registers, with
/// no horizontal reduction (for `f32` on AVX-512 this loop is inline
/// assembly, see `BENCHMARKS.md`); `f` is called from the accumulators. Each
/// overlap of a micro-tile is then one sequential chain of FMAs over
/// `i = 0 .. d`. A last group of fewer than `NR` queries runs the same
/// loop (its last row repeated, only its queries reported), a last panel
/// of at most one register's memories on one register per column.
/// Smaller shapes and longer rows use the register-blocked dot-product
/// tiles (each step loads
/// `MR` memory and `NR` query registers and issues `MR · NR` FMAs, reduced
/// horizontally at the end: 3×4 with AVX2, 4×6 with AVX-512/NEON).
/// Measured figures: `BENCHMARKS.md`.
///
/// One call per product costs a few scalar operations each; when `f` is a
/// cheap interaction summed per query, [`gemm_nt_fused_runs`] (the same
/// products, a slice per query and run of memories) lets the compiler
/// vectorize it.
///
/// ```
/// // Σ_μ relu(ξ^μ·x_b)² per query b, without a K×B matrix.
/// let xi = [1.0f32, 0.0, 0.0, 1.0, -1.0, -1.0]; // 3 memories, d = 2
/// let x = [2.0f32, 1.0, -1.0, 0.0]; // 2 queries
/// let mut energy = [0.0f32; 2];
/// dam_core::simd::gemm_nt_fused(&xi, &x, 2, |_mu, b, m| {
///     if let Some(e) = energy.get_mut(b) {
///         *e += m.max(0.0) * m.max(0.0);
///     }
/// });
/// assert_eq!(energy, [4.0 + 1.0, 1.0]);
/// ```
#[inline]
pub fn gemm_nt_fused<T: Real, F: FnMut(usize, usize, T)>(
    memories: &[T],
    queries: &[T],
    d: usize,
    f: F,
) {
    T::gemm_nt_fused_on(Isa::best_batch(), memories, queries, d, f)
}

/// [`gemm_nt_fused`] with the products handed over in runs: calls
/// `f(μ₀, b, run)` where `run[i] = ξ^(μ₀+i)·x_b`, so that the caller can
/// apply the interaction function to a whole run at once (a loop over a
/// slice, which the compiler vectorizes) instead of once per call. Every
/// pair `(μ, b)` is in exactly one run, and each query's runs come in
/// increasing `μ`; runs are at least one product long (the packed
/// AVX-512 and AVX2 kernels give each query of a micro-tile one run of up
/// to 32 and 16 `f32` memories; the other paths runs of one).
///
/// Why: with one call per product, a cheap interaction (`relu(m)³`, five
/// scalar operations) costs a tenth of the packed kernel's time on its
/// own, because scalar arithmetic shares the ports of the FMAs
/// (`BENCHMARKS.md`).
///
/// ```
/// // Σ_μ relu(ξ^μ·x_b)² per query b, the interaction applied per run.
/// let xi = [1.0f32, 0.0, 0.0, 1.0, -1.0, -1.0]; // 3 memories, d = 2
/// let x = [2.0f32, 1.0, -1.0, 0.0]; // 2 queries
/// let mut energy = [0.0f32; 2];
/// dam_core::simd::gemm_nt_fused_runs(&xi, &x, 2, |_mu0, b, run| {
///     if let Some(e) = energy.get_mut(b) {
///         *e += run.iter().map(|m| m.max(0.0) * m.max(0.0)).sum::<f32>();
///     }
/// });
/// assert_eq!(energy, [4.0 + 1.0, 1.0]);
/// ```
#[inline]
pub fn gemm_nt_fused_runs<T: Real, F: FnMut(usize, usize, &[T])>(
    memories: &[T],
    queries: &[T],
    d: usize,
    f: F,
) {
    T::gemm_nt_fused_runs_on(Isa::best_batch(), memories, queries, d, f)
}

/// The batched product written out: `out[μ·B + b] = ξ^μ·x_b` (`K × B`,
/// row-major; shapes as in [`gemm_nt_fused`]). Pairs whose index falls
/// outside `out` are skipped.
///
/// ```
/// let xi = [1.0f32, 2.0, 3.0, 4.0]; // 2 memories, d = 2
/// let x = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 queries
/// let mut out = [0.0f32; 6];
/// dam_core::simd::gemm_nt(&xi, &x, 2, &mut out);
/// assert_eq!(out, [1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
/// ```
#[inline]
pub fn gemm_nt<T: Real>(memories: &[T], queries: &[T], d: usize, out: &mut [T]) {
    gemm_nt_on(Isa::best_batch(), memories, queries, d, out)
}

/// [`gemm_nt`] on `isa` (the scalar reference if it is not available).
pub fn gemm_nt_on<T: Real>(isa: Isa, memories: &[T], queries: &[T], d: usize, out: &mut [T]) {
    let nq = queries.len().checked_div(d).unwrap_or(0);
    T::gemm_nt_fused_on(isa, memories, queries, d, |mu, b, v| {
        if let Some(o) = out.get_mut(mu * nq + b) {
            *o = v;
        }
    })
}

/// Runs [`crate::trig::sin_cos_slice`]'s loop compiled for AVX2 + FMA if
/// the CPU has them (then returns `true`); `false` leaves the work to the
/// caller's baseline copy.
#[cfg(target_arch = "x86_64")]
#[inline]
fn sin_cos_slice_x86(x: &[f32], sin_out: &mut [f32], cos_out: &mut [f32]) -> bool {
    if !x86::has_avx2_fma() {
        return false;
    }
    // SAFETY: AVX2 and FMA were detected just above; the function is safe
    // Rust otherwise (slices, no raw pointers).
    #[allow(unsafe_code)]
    unsafe {
        x86::sin_cos_slice_avx2(x, sin_out, cos_out)
    };
    true
}
