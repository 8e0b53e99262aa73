//! DrDAM energy + gradient (issue 5), f32, D = 100, Y = 10^4, K = 500
//! stored patterns, B = 500 queries: the paper's timing setting, for the
//! side-by-side run with `benches/reference/drdam_reference.py` (JAX).
//!
//! Wall-clock time (rayon runs on pool threads, which a thread-CPU clock
//! would not see). Rows:
//! - `core_per_query`: `dam_core::DrDam::energy_and_gradient`, one query at
//!   a time, stored projection (the firmware path);
//! - `core_batch`: `DrDam::energy_and_gradient_batch` (each projection row
//!   read once per batch);
//! - `std_gemm_1thread` / `std_gemm_2threads`: `dam_std::drdam_batch`, two
//!   packed `sgemm` products per chunk of 256 features and block of 256
//!   queries, the sine/cosine pass between them;
//! - `seeded_per_query`: the seeded projection regenerated row by row
//!   (`O(Y + D)` memory), per query.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dam_core::{DrDam, EnergyModel, SeededProjection, StoredProjection};
use dam_std::drdam_batch::DrDamBatch;
use std::hint::black_box;
use std::time::Duration;

const D: usize = 100;
const Y: usize = 10_000;
const K: usize = 500;
const B: usize = 500;
const BETA: f32 = 10.0;

fn patterns(n: usize, salt: usize) -> Vec<f32> {
    let s = 1.0 / (D as f32).sqrt();
    (0..n * D)
        .map(|i| {
            if (i * 7919 + salt * 104_729) % 11 < 5 {
                s
            } else {
                0.0
            }
        })
        .collect()
}

fn drdam(c: &mut Criterion) {
    let xi = patterns(K, 1);
    let queries = patterns(B, 2);
    let mut batch = DrDamBatch::new(1, Y, D, BETA).expect("valid parameters");
    batch.store_all(&xi).expect("finite patterns");
    let stored = DrDam::new(
        StoredProjection::new(batch.projection(), Y, D).expect("shape"),
        BETA,
        batch.memory().to_vec(),
    )
    .expect("valid memory");
    let seeded = DrDam::new(
        SeededProjection::new(1, Y, D).expect("shape"),
        BETA,
        batch.memory().to_vec(),
    )
    .expect("valid memory");

    let mut g = c.benchmark_group("drdam_energy_grad_D100_Y1e4_B500");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    // 2·Y·D multiply-adds per query and product: 4·Y·D·B FLOP in all.
    g.throughput(Throughput::Elements((4 * Y * D * B) as u64));
    let (mut e, mut grads) = (vec![0.0f32; B], vec![0.0f32; B * D]);
    g.bench_function("core_per_query", |b| {
        let mut g1 = vec![0.0f32; D];
        b.iter(|| {
            for q in queries.chunks_exact(D) {
                black_box(
                    stored
                        .energy_and_gradient(q, &mut g1, &mut [])
                        .expect("finite"),
                );
            }
        })
    });
    g.bench_function("core_batch", |b| {
        let mut scratch = vec![0.0f32; B];
        b.iter(|| {
            stored
                .energy_and_gradient_batch(&queries, &mut e, &mut grads, &mut scratch)
                .expect("finite")
        })
    });
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        g.bench_function(format!("std_gemm_{threads}thread"), |b| {
            b.iter(|| {
                pool.install(|| batch.energy_and_gradient(&queries, &mut e, &mut grads))
                    .expect("finite")
            })
        });
    }
    g.finish();
    cpu_time_per_pass(&batch, &queries);

    let mut g = c.benchmark_group("drdam_seeded_vs_stored_D100_Y1e4");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let q = &queries[..D];
    let mut g1 = vec![0.0f32; D];
    let mut scratch = vec![0.0f32; D];
    g.bench_function("stored_per_query", |b| {
        b.iter(|| {
            black_box(
                stored
                    .energy_and_gradient(q, &mut g1, &mut [])
                    .expect("finite"),
            )
        })
    });
    g.bench_function("seeded_per_query", |b| {
        b.iter(|| {
            black_box(
                seeded
                    .energy_and_gradient(q, &mut g1, &mut scratch)
                    .expect("finite"),
            )
        })
    });
    g.finish();
}

/// The process's CPU time (user + system, all threads) from
/// `/proc/self/stat`, in seconds; `None` where there is no procfs.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses;
    // utime and stime are fields 14 and 15, in ticks of 1/100 s (USER_HZ on
    // Linux).
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU time per pass of `std_gemm_1thread`: unlike the wall clock, hardly
/// affected by other processes on a shared machine (comparable with the
/// CPU time `drdam_reference.py` prints for JAX). 40 passes, so the 10 ms
/// tick resolution is about 1% of the total.
fn cpu_time_per_pass(batch: &DrDamBatch, queries: &[f32]) {
    const PASSES: usize = 40;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let (mut e, mut grads) = (vec![0.0f32; B], vec![0.0f32; B * D]);
    let Some(t0) = process_cpu_seconds() else {
        return;
    };
    for _ in 0..PASSES {
        pool.install(|| batch.energy_and_gradient(queries, &mut e, &mut grads))
            .expect("finite");
    }
    if let Some(t1) = process_cpu_seconds() {
        println!(
            "std_gemm_1thread CPU time per pass: {:.1} ms (user + system, {PASSES} passes)",
            (t1 - t0) * 1e3 / PASSES as f64
        );
    }
}

criterion_group!(benches, drdam);
criterion_main!(benches);
