//! Criterion benchmarks of `dam-core` against baselines; see `BENCHMARKS.md`.
//! The benchmarks live in `benches/benches/`; this library holds what they
//! share: deterministic data, the element-wise work every variant does, the
//! naive baselines, and the machine-limit loops (peak FMA, read bandwidth).

/// `n` deterministic pseudo-random values in `[−1, 1)` (a 64-bit LCG; the
/// benchmarks need reproducible data, not statistical quality).
pub fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32) / ((1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// `n` deterministic bipolar values (`±1` as `f32`).
pub fn bipolar(n: usize, seed: u64) -> Vec<f32> {
    data(n, seed)
        .into_iter()
        .map(|x| if x >= 0.0 { 1.0 } else { -1.0 })
        .collect()
}

/// The element-wise work applied to every overlap `m = ξ^μ·x` in the raw
/// kernel benchmarks: a rectified cubic of the normalized overlap,
/// `relu(m/D)³`, summed per query (the classifier's `Σ_μ F(ξ^μ·x / D)`).
#[inline(always)]
pub fn interaction(m: f32, inv_d: f32) -> f32 {
    let s = (m * inv_d).max(0.0);
    s * s * s
}

/// Adds [`interaction`] of a run of overlaps (one query, consecutive
/// memories, as `gemm_nt_fused_runs` hands them over) to `acc`: the
/// interaction over the run, then its sum in eight partial sums (both
/// loops vectorize), then one addition to `acc`. The sum's order differs
/// from one `acc += interaction(m)` per product by rounding only.
#[inline(always)]
pub fn interaction_run(run: &[f32], inv_d: f32, acc: &mut f32) {
    for chunk in run.chunks(32) {
        // Entries past the run stay 0, and `interaction(0) = 0`.
        let mut f = [0.0f32; 32];
        for (f, &m) in f.iter_mut().zip(chunk) {
            *f = interaction(m, inv_d);
        }
        let mut lanes = [0.0f32; 8];
        for part in f.chunks_exact(8) {
            for (l, &x) in lanes.iter_mut().zip(part) {
                *l += x;
            }
        }
        *acc += lanes.iter().sum::<f32>();
    }
}

/// Adds [`interaction`] of a `K × B` row-major overlap matrix into the `B`
/// per-query sums: the separate element-wise pass of the unfused variants.
pub fn interaction_pass(overlaps: &[f32], inv_d: f32, acc: &mut [f32]) {
    if acc.is_empty() {
        return;
    }
    for row in overlaps.chunks_exact(acc.len()) {
        for (a, &m) in acc.iter_mut().zip(row) {
            *a += interaction(m, inv_d);
        }
    }
}

/// The straightforward iterator implementation of `out[μ] = ξ^μ·x`.
pub fn iter_gemv(xi: &[f32], d: usize, x: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(xi.chunks_exact(d)) {
        *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
    }
}

/// The straightforward iterator implementation of the batched, fused
/// product: `acc[b] += F(ξ^μ·x_b)` for all `μ`, `b`.
pub fn iter_batch(xi: &[f32], xs: &[f32], d: usize, inv_d: f32, acc: &mut [f32]) {
    for row in xi.chunks_exact(d) {
        for (a, x) in acc.iter_mut().zip(xs.chunks_exact(d)) {
            let m: f32 = row.iter().zip(x).map(|(p, q)| p * q).sum();
            *a += interaction(m, inv_d);
        }
    }
}

/// Machine limits, measured in the same run as the kernels.
#[cfg(target_arch = "x86_64")]
pub mod limits {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Independent FMA chains in the peak loops: more than latency ×
    /// throughput (4 × 2 on current x86 cores), so the FMA ports never wait.
    pub const CHAINS: usize = 12;

    /// Floating-point operations of `iters` iterations of [`fma_avx2`].
    pub fn fma_avx2_flops(iters: u64) -> u64 {
        iters * (CHAINS as u64) * 8 * 2
    }

    /// Floating-point operations of `iters` iterations of [`fma_avx512`].
    pub fn fma_avx512_flops(iters: u64) -> u64 {
        iters * (CHAINS as u64) * 16 * 2
    }

    /// `iters` iterations of [`CHAINS`] independent 8-lane `vfmadd`s:
    /// peak single-core AVX2 FMA throughput. `None` without AVX2 + FMA.
    pub fn fma_avx2(iters: u64) -> Option<f32> {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return None;
        }
        // SAFETY: the features were detected just above.
        Some(unsafe { fma_avx2_inner(iters) })
    }

    #[target_feature(enable = "avx2,fma")]
    fn fma_avx2_inner(iters: u64) -> f32 {
        // Opaque constants: otherwise LLVM may evaluate the loop at compile time.
        let a = _mm256_set1_ps(black_box(0.999_9));
        let b = _mm256_set1_ps(black_box(1e-4));
        let mut acc = [_mm256_set1_ps(black_box(0.5)); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm256_setzero_ps();
        for x in acc {
            s = _mm256_add_ps(s, x);
        }
        let mut out = [0.0f32; 8];
        // SAFETY: `out` holds 8 floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum()
    }

    /// As [`fma_avx2`] with 16-lane AVX-512 FMAs. `None` without AVX-512F.
    pub fn fma_avx512(iters: u64) -> Option<f32> {
        if !is_x86_feature_detected!("avx512f") {
            return None;
        }
        // SAFETY: the feature was detected just above.
        Some(unsafe { fma_avx512_inner(iters) })
    }

    #[target_feature(enable = "avx512f")]
    fn fma_avx512_inner(iters: u64) -> f32 {
        // Opaque constants: otherwise LLVM may evaluate the loop at compile time.
        let a = _mm512_set1_ps(black_box(0.999_9));
        let b = _mm512_set1_ps(black_box(1e-4));
        let mut acc = [_mm512_set1_ps(black_box(0.5)); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm512_setzero_ps();
        for x in acc {
            s = _mm512_add_ps(s, x);
        }
        _mm512_reduce_add_ps(s)
    }

    /// Reads every element of `v` once (8 independent 256-bit sums): read
    /// bandwidth. Falls back to a plain sum without AVX2.
    pub fn read(v: &[f32]) -> f32 {
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the feature was detected just above.
            unsafe { read_avx2(v) }
        } else {
            v.iter().sum()
        }
    }

    #[target_feature(enable = "avx2")]
    fn read_avx2(v: &[f32]) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut chunks = v.chunks_exact(64);
        for c in &mut chunks {
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: `c` has 64 elements; this reads 8 at `8i`, `i < 8`.
                *a = _mm256_add_ps(*a, unsafe { _mm256_loadu_ps(c.as_ptr().add(8 * i)) });
            }
        }
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        let mut out = [0.0f32; 8];
        // SAFETY: `out` holds 8 floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
    }
}

/// The classifier both classifier benchmarks run (`retrieval`, `threads`):
/// `K` memories of MNIST shape (784 pixels + 10 labels, `xi` is `K × 794`),
/// rectified `x^20`, normalized form, `β = 1`.
pub fn mnist_classifier(xi: &[f32], k: usize) -> dam_core::Classifier<'_, f32> {
    let view = dam_core::MemoryView::new(xi, k, MNIST_D).expect("K × 794 memories");
    dam_core::Classifier::new(
        view,
        MNIST_CLASSES,
        dam_core::Interaction::RectifiedPolynomial { n: 20 },
        dam_core::Form::Normalized { beta: 1.0 },
    )
    .expect("valid parameters")
}

/// Pixels of an MNIST image.
pub const MNIST_PIXELS: usize = 784;
/// MNIST classes.
pub const MNIST_CLASSES: usize = 10;
/// `D = Nv + Nc` of an MNIST classifier memory.
pub const MNIST_D: usize = MNIST_PIXELS + MNIST_CLASSES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_agree_with_dam_core() {
        let (k, b, d) = (7, 5, 37);
        let xi = data(k * d, 1);
        let xs = data(b * d, 2);
        let inv_d = 1.0 / d as f32;
        let mut want = vec![0.0f32; b];
        dam_core::simd::gemm_nt_fused(&xi, &xs, d, |_, j, m| want[j] += interaction(m, inv_d));
        let mut got = vec![0.0f32; b];
        iter_batch(&xi, &xs, d, inv_d, &mut got);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
        }
        let mut out = vec![0.0f32; k];
        iter_gemv(&xi, d, &xs[..d], &mut out);
        let mut m = vec![0.0f32; k * b];
        dam_core::simd::gemm_nt(&xi, &xs, d, &mut m);
        for (mu, o) in out.iter().enumerate() {
            assert!((o - m[mu * b]).abs() < 1e-4);
        }
        let mut acc = vec![0.0f32; b];
        interaction_pass(&m, inv_d, &mut acc);
        for (g, w) in acc.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()));
        }
    }

    /// The per-run pass gives the per-product pass's sums up to rounding,
    /// on a shape the packed kernels take (runs longer than one) and one
    /// they do not.
    #[test]
    fn run_pass_equals_product_pass() {
        for (k, b, d) in [(70, 30, 41), (5, 3, 9)] {
            let xi = data(k * d, 4);
            let xs = data(b * d, 5);
            let inv_d = 1.0 / d as f32;
            let mut want = vec![0.0f32; b];
            dam_core::simd::gemm_nt_fused(&xi, &xs, d, |_, j, m| want[j] += interaction(m, inv_d));
            let mut got = vec![0.0f32; b];
            dam_core::simd::gemm_nt_fused_runs(&xi, &xs, d, |_, j, run| {
                interaction_run(run, inv_d, &mut got[j])
            });
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
            }
            assert!(want.iter().any(|&w| w != 0.0));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn limit_loops_compute_what_they_claim() {
        let v = data(1000, 3);
        let s: f32 = v.iter().sum();
        assert!((limits::read(&v) - s).abs() < 1e-3);
        if let Some(x) = limits::fma_avx2(10) {
            // 12 chains × 8 lanes of x ← 0.9999x + 1e-4 from 0.5, ten times.
            let mut y = 0.5f32;
            for _ in 0..10 {
                y = y.mul_add(0.999_9, 1e-4);
            }
            assert!((x - 96.0 * y).abs() < 1e-3, "{x}");
        }
    }
}
