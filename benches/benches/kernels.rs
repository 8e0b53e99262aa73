//! The raw kernel shapes of the classifier (`D = 794`) against baselines,
//! and this machine's limits, in one run. See `BENCHMARKS.md`.
//!
//! Throughput units: `limits/fma*` and every `batch*` group count
//! floating-point operations as elements (criterion's `elem/s` is FLOP/s);
//! `limits/read*` and the `batch1*` groups count bytes of memories read
//! (for a matrix-vector product, GFLOP/s = GB/s ÷ 2).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dam_benches::{data, interaction, interaction_pass, interaction_run, iter_batch, iter_gemv};
use dam_core::simd::{self, IntKernels, Isa, Kernels, scalar};
use nalgebra::DMatrix;
use std::hint::black_box;
use support::ThreadTime;

mod support;

const D: usize = 794;

/// Peak FMA throughput and read bandwidth.
#[cfg(target_arch = "x86_64")]
fn limits(c: &mut Criterion<ThreadTime>) {
    use dam_benches::limits;
    let mut g = c.benchmark_group("limits");
    let iters = 1_000_000u64;
    if limits::fma_avx2(1).is_some() {
        g.throughput(Throughput::Elements(limits::fma_avx2_flops(iters)));
        g.bench_function("fma_avx2_12chains", |b| {
            b.iter(|| limits::fma_avx2(black_box(iters)))
        });
    }
    if limits::fma_avx512(1).is_some() {
        g.throughput(Throughput::Elements(limits::fma_avx512_flops(iters)));
        g.bench_function("fma_avx512_12chains", |b| {
            b.iter(|| limits::fma_avx512(black_box(iters)))
        });
    }
    // The K = 2000 memories (6.35 MB: out of L2, in L3) and an array far
    // larger than every cache (256 MiB).
    for (name, n) in [("read_6.35MB", 2000 * D), ("read_256MiB", 64 << 20)] {
        let v = data(n, 9);
        g.throughput(Throughput::Bytes((n * 4) as u64));
        g.bench_function(name, |b| b.iter(|| limits::read(black_box(&v))));
    }
    g.finish();
}

#[cfg(not(target_arch = "x86_64"))]
fn limits(_: &mut Criterion<ThreadTime>) {}

/// Batch 1: `m_μ = ξ^μ·x` for all `μ`, then `Σ_μ F(m_μ)`.
fn batch1(c: &mut Criterion<ThreadTime>) {
    let inv_d = 1.0 / D as f32;
    for k in [100usize, 2000] {
        let xi = data(k * D, 1);
        let x = data(D, 2);
        let mut out = vec![0.0f32; k];
        let mut g = c.benchmark_group(format!("batch1_K{k}_D{D}"));
        g.throughput(Throughput::Bytes((k * D * 4) as u64));
        let pass = |out: &[f32]| out.iter().map(|&m| interaction(m, inv_d)).sum::<f32>();

        g.bench_function("dam_gemv", |b| {
            b.iter(|| {
                simd::gemv(black_box(&xi), D, black_box(&x), &mut out);
                pass(&out)
            })
        });
        for isa in [Isa::Avx512f, Isa::Avx2Fma, Isa::Sse2, Isa::Neon] {
            if isa.is_available() && isa != Isa::best() {
                g.bench_function(BenchmarkId::new("dam_gemv_on", format!("{isa:?}")), |b| {
                    b.iter(|| {
                        f32::gemv_on(isa, black_box(&xi), D, black_box(&x), &mut out);
                        pass(&out)
                    })
                });
            }
        }
        g.bench_function("dam_dot_per_row", |b| {
            b.iter(|| {
                for (o, row) in out.iter_mut().zip(xi.chunks_exact(D)) {
                    *o = simd::dot(row, black_box(&x));
                }
                pass(&out)
            })
        });
        g.bench_function("scalar_reference", |b| {
            b.iter(|| {
                scalar::gemv(black_box(&xi), D, black_box(&x), &mut out);
                pass(&out)
            })
        });
        g.bench_function("iterator", |b| {
            b.iter(|| {
                iter_gemv(black_box(&xi), D, black_box(&x), &mut out);
                pass(&out)
            })
        });
        // nalgebra is column-major: the D × K matrix whose columns are the
        // memories has exactly our row-major layout; Ξx = Mᵀx.
        let m = DMatrix::from_column_slice(D, k, &xi);
        let xv = nalgebra::DVector::from_column_slice(&x);
        let mut outv = nalgebra::DVector::<f32>::zeros(k);
        g.bench_function("nalgebra_gemv_tr", |b| {
            b.iter(|| {
                outv.gemv_tr(1.0, black_box(&m), black_box(&xv), 0.0);
                pass(outv.as_slice())
            })
        });
        g.bench_function("matrixmultiply_sgemm", |b| {
            b.iter(|| {
                // SAFETY: A is K × D row-major (strides D, 1), B is the
                // D × 1 vector, C the K × 1 output; all buffers match.
                unsafe {
                    matrixmultiply::sgemm(
                        k,
                        D,
                        1,
                        1.0,
                        black_box(&xi).as_ptr(),
                        D as isize,
                        1,
                        black_box(&x).as_ptr(),
                        1,
                        1,
                        0.0,
                        out.as_mut_ptr(),
                        1,
                        1,
                    )
                };
                pass(&out)
            })
        });
        g.finish();
    }
}

/// Batch B = 1000: `acc_b = Σ_μ F(ξ^μ·x_b)` for every query.
fn batch1000(c: &mut Criterion<ThreadTime>) {
    let nb = 1000usize;
    let inv_d = 1.0 / D as f32;
    for k in [100usize, 2000] {
        let xi = data(k * D, 1);
        let xs = data(nb * D, 3);
        let mut acc = vec![0.0f32; nb];
        let mut overlaps = vec![0.0f32; k * nb];
        let mut g = c.benchmark_group(format!("batch{nb}_K{k}_D{D}"));
        g.throughput(Throughput::Elements((2 * k * nb * D) as u64));

        // `gemm_nt_fused` runs on `Isa::best_batch()`; the other paths follow.
        g.bench_function("dam_fused", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                simd::gemm_nt_fused(black_box(&xi), black_box(&xs), D, |_, j, m| {
                    if let Some(a) = acc.get_mut(j) {
                        *a += interaction(m, inv_d);
                    }
                });
                acc[0]
            })
        });
        // The same pass, the interaction applied per run of memories.
        g.bench_function("dam_fused_runs", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                simd::gemm_nt_fused_runs(black_box(&xi), black_box(&xs), D, |_, j, run| {
                    if let Some(a) = acc.get_mut(j) {
                        interaction_run(run, inv_d, a);
                    }
                });
                acc[0]
            })
        });
        for isa in [Isa::Avx512f, Isa::Avx2Fma, Isa::Sse2, Isa::Neon] {
            if isa.is_available() && isa != Isa::best_batch() {
                g.bench_function(BenchmarkId::new("dam_fused_on", format!("{isa:?}")), |b| {
                    b.iter(|| {
                        acc.iter_mut().for_each(|a| *a = 0.0);
                        f32::gemm_nt_fused_on(isa, black_box(&xi), black_box(&xs), D, |_, j, m| {
                            if let Some(a) = acc.get_mut(j) {
                                *a += interaction(m, inv_d);
                            }
                        });
                        acc[0]
                    })
                });
            }
        }
        g.bench_function("dam_gemm_nt_then_pass", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                simd::gemm_nt(black_box(&xi), black_box(&xs), D, &mut overlaps);
                interaction_pass(&overlaps, inv_d, &mut acc);
                acc[0]
            })
        });
        g.bench_function("scalar_reference", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                scalar::gemm_nt_fused(black_box(&xi), black_box(&xs), D, |_, j, m| {
                    if let Some(a) = acc.get_mut(j) {
                        *a += interaction(m, inv_d);
                    }
                });
                acc[0]
            })
        });
        g.bench_function("iterator", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                iter_batch(black_box(&xi), black_box(&xs), D, inv_d, &mut acc);
                acc[0]
            })
        });
        let m = DMatrix::from_column_slice(D, k, &xi);
        let xm = DMatrix::from_column_slice(D, nb, &xs);
        let mut out = DMatrix::<f32>::zeros(k, nb);
        g.bench_function("nalgebra_gemm_tr_then_pass", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                out.gemm_tr(1.0, black_box(&m), black_box(&xm), 0.0);
                // Column-major K × B: column b holds query b's overlaps.
                for (a, col) in acc.iter_mut().zip(out.as_slice().chunks_exact(k)) {
                    *a += col.iter().map(|&v| interaction(v, inv_d)).sum::<f32>();
                }
                acc[0]
            })
        });
        g.bench_function("matrixmultiply_sgemm_then_pass", |b| {
            b.iter(|| {
                acc.iter_mut().for_each(|a| *a = 0.0);
                // SAFETY: A = Ξ (K × D, strides D, 1); B = Xᵀ (D × B,
                // strides 1, D); C = K × B row-major (strides B, 1).
                unsafe {
                    matrixmultiply::sgemm(
                        k,
                        D,
                        nb,
                        1.0,
                        black_box(&xi).as_ptr(),
                        D as isize,
                        1,
                        black_box(&xs).as_ptr(),
                        1,
                        D as isize,
                        0.0,
                        overlaps.as_mut_ptr(),
                        nb as isize,
                        1,
                    )
                };
                interaction_pass(&overlaps, inv_d, &mut acc);
                acc[0]
            })
        });
        g.finish();
    }
}

/// Issue 6: the integer kernels (many rows × one vector, the classifier's
/// `K = 100, D = 794`) against the f32 kernels and the scalar references,
/// then whole classifications (f32, i8 with f32 rescale, i8 fixed point).
/// Throughput: multiply-accumulates (`K·D`) as elements.
fn int_kernels(c: &mut Criterion<ThreadTime>) {
    use dam_core::quantized::{
        FixedClassifier, FixedRow, QuantizedClassifier, QuantizedView, Score, quantize_query,
    };
    use dam_core::{Classifier, Form, Interaction, MemoryView};
    let (k, nc) = (100usize, 10usize);
    let xi = data(k * D, 1);
    let x = data(D, 2);
    let (mut q8, mut x8) = (vec![0i8; k * D], vec![0i8; D]);
    let (mut q16, mut x16) = (vec![0i16; k * D], vec![0i16; D]);
    quantize_query(&xi, &mut q8).unwrap();
    quantize_query(&x, &mut x8).unwrap();
    quantize_query(&xi, &mut q16).unwrap();
    quantize_query(&x, &mut x16).unwrap();
    let mut g = c.benchmark_group(format!("int_gemv_K{k}_D{D}"));
    g.throughput(Throughput::Elements((k * D) as u64));
    let mut out = vec![0.0f32; k];
    let mut out32 = vec![0i32; k];
    let mut out64 = vec![0i64; k];
    g.bench_function("f32_gemv", |b| {
        b.iter(|| simd::gemv(black_box(&xi), D, black_box(&x), &mut out))
    });
    g.bench_function("f32_scalar_reference", |b| {
        b.iter(|| scalar::gemv(black_box(&xi), D, black_box(&x), &mut out))
    });
    g.bench_function("i8_gemv", |b| {
        b.iter(|| simd::gemv_i8(black_box(&q8), D, black_box(&x8), &mut out32))
    });
    // One row per integer path (`Isa::Scalar` is the reference); the row
    // without a suffix above is the one `Isa::best_integer()` picks.
    for isa in [Isa::Avx512f, Isa::Avx2Fma, Isa::Scalar] {
        if isa.is_available() {
            let name = simd::integer_path_name(isa);
            g.bench_function(BenchmarkId::new("i8_gemv_on", name), |b| {
                b.iter(|| {
                    i8::int_gemv_on(isa, black_box(&q8), D, black_box(&x8), &mut out32).unwrap()
                })
            });
            g.bench_function(BenchmarkId::new("i8_dot_per_row_on", name), |b| {
                b.iter(|| {
                    for (o, row) in out32.iter_mut().zip(q8.chunks_exact(D)) {
                        *o = i8::int_dot_on(isa, row, black_box(&x8)).unwrap();
                    }
                })
            });
            g.bench_function(BenchmarkId::new("i16_gemv_on", name), |b| {
                b.iter(|| {
                    i16::int_gemv_on(isa, black_box(&q16), D, black_box(&x16), &mut out64).unwrap()
                })
            });
        }
    }
    g.bench_function("i8_scalar_reference", |b| {
        b.iter(|| {
            scalar::gemv_rows(
                black_box(&q8),
                D,
                black_box(&x8),
                &mut out32,
                scalar::dot_i8,
            )
        })
    });
    // Background skipping with an MNIST-like query: 81% of the 784 pixels
    // background (−127), the same integers as `i8_gemv`.
    let x8_image: Vec<i8> = x8
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 100 < 81 || i >= 784 { -127 } else { v })
        .collect();
    let mut sums = vec![0i32; k];
    simd::row_sums_i8(&q8, D, D, &mut sums).unwrap();
    g.bench_function("i8_gemv_81pct_background", |b| {
        b.iter(|| simd::gemv_i8(black_box(&q8), D, black_box(&x8_image), &mut out32))
    });
    g.bench_function("i8_skipping_81pct_background", |b| {
        b.iter(|| {
            simd::gemv_i8_skipping(
                black_box(&q8),
                D,
                black_box(&x8_image),
                -127,
                &sums,
                &mut out32,
            )
        })
    });
    g.bench_function("i16_gemv", |b| {
        b.iter(|| simd::gemv_i16(black_box(&q16), D, black_box(&x16), &mut out64))
    });
    g.bench_function("i16_scalar_reference", |b| {
        b.iter(|| {
            scalar::gemv_rows(
                black_box(&q16),
                D,
                black_box(&x16),
                &mut out64,
                scalar::dot_i16,
            )
        })
    });

    // Whole classifications (memories in [−1, 1] as trained; β = D/T, n = 20).
    let f = Interaction::RectifiedPolynomial { n: 20 };
    let form = Form::Normalized {
        beta: D as f32 / 540.0,
    };
    let scales = vec![1.0f32 / 127.0; k];
    let nv = D - nc;
    let clf = Classifier::new(MemoryView::new(&xi, k, D).unwrap(), nc, f, form).unwrap();
    let view = QuantizedView::new(&q8, &scales, k, D).unwrap();
    let qclf = QuantizedClassifier::new(view, nc, f, form).unwrap();
    let fclf = FixedClassifier::new(view, nc, f, form).unwrap();
    let (mut scores, mut scratch) = (vec![0.0f32; nc], vec![0.0f32; k]);
    g.bench_function("classify_f32", |b| {
        b.iter(|| clf.forward(black_box(&x[..nv]), &mut scores, &mut scratch))
    });
    g.bench_function("classify_i8_rescaled", |b| {
        b.iter(|| qclf.forward(black_box(&x8[..nv]), &mut scores, &mut scratch))
    });
    let (mut sums, mut rows) = (vec![Score::ZERO; nc], vec![FixedRow::ZERO; k]);
    g.bench_function("classify_i8_fixed", |b| {
        b.iter(|| fclf.forward(black_box(&x8[..nv]), &mut sums, &mut rows))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = limits, batch1, batch1000, int_kernels
}
criterion_main!(benches);
