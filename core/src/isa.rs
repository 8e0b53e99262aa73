//! The interface between the number types and the kernels: the paths
//! ([`Isa`]) and the trait ([`Kernels`]) naming the kernels of an element
//! type. Declared here, below [`crate::real`], and implemented by
//! [`crate::simd`] (with `Isa`'s methods): `Real` requires `Kernels`
//! without the number layer depending on the kernel layer
//! (docs/architecture.md). Public as `dam_core::simd::{Isa, Kernels}`.

/// An instruction-set path of the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Isa {
    /// The portable reference ([`scalar`](crate::simd::scalar)); available everywhere.
    Scalar,
    /// x86_64 SSE2 (128-bit, no FMA).
    Sse2,
    /// x86_64 AVX2 with FMA (256-bit).
    Avx2Fma,
    /// x86_64 AVX-512F (512-bit). Compiled only by Rust ≥ 1.89 (the first
    /// release with these intrinsics; `dam-core`'s MSRV is 1.86): built by an
    /// older compiler, it reports itself unavailable.
    Avx512f,
    /// aarch64 NEON (128-bit, FMA).
    Neon,
    /// Cortex-M4F/M7 single-precision FPU (`vfma.f32` loops; `f64` uses the
    /// reference).
    CortexMFpu,
    /// Cortex-M4/M7 DSP extension (`thumbv7em-*`, with or without FPU):
    /// `smlad`/`sxtb16` for the integer kernels; the float kernels use the
    /// reference on this path.
    CortexMDsp,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The kernels of one element type (`f32`, `f64`), with an explicit path.
///
/// A supertrait of [`Real`](crate::Real): generic code calls the free
/// functions of [`crate::simd`] ([`dot`](crate::simd::dot),
/// [`gemv`](crate::simd::gemv), …), which use [`Isa::best`]. The `_on`
/// methods run on the given path, or on the scalar reference if that path
/// is not available here. Sealed: not implementable outside this crate.
///
/// ```
/// use dam_core::simd::{Isa, Kernels};
/// let a = [1.0f32, 2.0, 3.0];
/// for isa in Isa::ALL {
///     assert_eq!(f32::dot_on(isa, &a, &a), 14.0);
/// }
/// ```
pub trait Kernels: sealed::Sealed + Copy + Sized {
    /// [`dot`](crate::simd::dot) on `isa`.
    fn dot_on(isa: Isa, a: &[Self], b: &[Self]) -> Self;
    /// [`squared_distance`](crate::simd::squared_distance) on `isa`.
    fn squared_distance_on(isa: Isa, a: &[Self], b: &[Self]) -> Self;
    /// [`axpy`](crate::simd::axpy) on `isa`.
    fn axpy_on(isa: Isa, alpha: Self, x: &[Self], y: &mut [Self]);
    /// [`gemv`](crate::simd::gemv) on `isa`.
    fn gemv_on(isa: Isa, memories: &[Self], d: usize, x: &[Self], out: &mut [Self]);
    /// [`gemm_nt_fused`](crate::simd::gemm_nt_fused) on `isa`.
    fn gemm_nt_fused_on<F: FnMut(usize, usize, Self)>(
        isa: Isa,
        memories: &[Self],
        queries: &[Self],
        d: usize,
        f: F,
    );
    /// [`gemm_nt_fused_runs`](crate::simd::gemm_nt_fused_runs) on `isa`.
    fn gemm_nt_fused_runs_on<F: FnMut(usize, usize, &[Self])>(
        isa: Isa,
        memories: &[Self],
        queries: &[Self],
        d: usize,
        f: F,
    );
    /// `(sin x_i, cos x_i)` for each entry (common length of the three) on
    /// the fastest path: for `f32` the body of [`crate::trig::sin_cos_slice`]
    /// (and so of `f32`'s [`Real::sin_cos_slice`](crate::Real::sin_cos_slice)),
    /// AVX2 where the CPU has it; for `f64` one `sin_cos` per entry.
    /// Declared here and implemented by `simd` so that the number types do
    /// not depend on the kernels (docs/architecture.md).
    #[doc(hidden)]
    fn sin_cos_slice(x: &[Self], sin_out: &mut [Self], cos_out: &mut [Self]);
}
