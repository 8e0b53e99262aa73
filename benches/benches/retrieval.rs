//! The retrieval workloads of issue 3 through the public `dam-core` API
//! (f32): classifier forward, log-sum-exp energy + gradient, one bipolar
//! sweep. Throughput is counted as the `2·K·D` (per query) floating-point
//! operations of the overlaps, so `elem/s` reads as FLOP/s of the dominant
//! term. See `BENCHMARKS.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dam_benches::{MNIST_CLASSES, MNIST_D, MNIST_PIXELS, bipolar, data, mnist_classifier};
use dam_core::{BipolarMemory, Form, Interaction, LseMemory, MemoryView, Similarity, UpdateOrder};
use std::hint::black_box;
use support::ThreadTime;

mod support;

/// MNIST shape: 784 pixels + 10 labels.
fn classifier(c: &mut Criterion<ThreadTime>) {
    let (nv, nc) = (MNIST_PIXELS, MNIST_CLASSES);
    let d = MNIST_D;
    for k in [100usize, 2000] {
        let xi = data(k * d, 11);
        let clf = mnist_classifier(&xi, k);
        let mut g = c.benchmark_group(format!("classifier_forward_K{k}_D{d}"));
        let mut scores = vec![0.0f32; nc];
        let mut scratch = vec![0.0f32; k];
        for batch in [1usize, 1000] {
            let vs = data(batch * nv, 12);
            g.throughput(Throughput::Elements((2 * k * d * batch) as u64));
            g.bench_function(format!("batch{batch}"), |b| {
                b.iter(|| {
                    let mut hits = 0;
                    for v in vs.chunks_exact(nv) {
                        hits += clf
                            .forward(black_box(v), &mut scores, &mut scratch)
                            .expect("forward");
                    }
                    hits
                })
            });
        }
        g.finish();
    }
}

fn lse(c: &mut Criterion<ThreadTime>) {
    for d in [100usize, 794] {
        for k in [100usize, 2000, 20000] {
            let xi = data(k * d, 21);
            let x = data(d, 22);
            let mut g = c.benchmark_group(format!("lse_energy_gradient_K{k}_D{d}"));
            g.throughput(Throughput::Elements((4 * k * d) as u64));
            let mut grad = vec![0.0f32; d];
            let mut scratch = vec![0.0f32; k];
            for (name, sim) in [
                ("euclidean", Similarity::Euclidean),
                ("dot", Similarity::DotProduct),
            ] {
                let mem = LseMemory::new(MemoryView::new(&xi, k, d).expect("shape"), 1.0, sim)
                    .expect("parameters");
                g.bench_function(name, |b| {
                    b.iter(|| {
                        mem.energy_and_gradient(black_box(&x), &mut grad, &mut scratch)
                            .expect("energy")
                    })
                });
            }
            g.finish();
        }
    }
}

fn bipolar_sweep(c: &mut Criterion<ThreadTime>) {
    for d in [100usize, 1000] {
        for k in [100usize, 1000] {
            let xi = bipolar(k * d, 31);
            let net = BipolarMemory::new(
                MemoryView::new(&xi, k, d).expect("shape"),
                Interaction::Polynomial { n: 3 },
                Form::Normalized { beta: 1.0 },
            )
            .expect("parameters");
            let start: Vec<i8> = bipolar(d, 32)
                .iter()
                .map(|&x| if x > 0.0 { 1 } else { -1 })
                .collect();
            let mut overlaps = vec![0.0f32; k];
            let mut g = c.benchmark_group(format!("bipolar_sweep_K{k}_D{d}"));
            g.throughput(Throughput::Elements((2 * k * d) as u64));
            g.bench_function("sequential_1_sweep", |b| {
                b.iter(|| {
                    let mut state = start.clone();
                    net.retrieve(
                        black_box(&mut state),
                        &mut overlaps,
                        UpdateOrder::Sequential,
                        1,
                    )
                    .expect("retrieval")
                })
            });
            // The packed path (`BipolarMemory::pack`, done once per set of
            // memories, outside the timing): same work per iteration (the
            // overlaps from scratch, then one sweep) and, checked here on
            // these inputs, the same final state.
            let mut words = vec![0u64; net.packed_len()];
            let packed = net.pack(&mut words).expect("pack");
            let mut scratch = vec![0.0f64; packed.scratch_len()];
            let (mut a, mut b) = (start.clone(), start.clone());
            let ra = net.retrieve(&mut a, &mut overlaps, UpdateOrder::Sequential, 1);
            let rb = packed.retrieve(&mut b, &mut scratch, UpdateOrder::Sequential, 1);
            assert_eq!((ra, a), (rb, b), "packed and reference sweeps differ");
            g.bench_function("sequential_1_sweep_packed", |b| {
                b.iter(|| {
                    let mut state = start.clone();
                    packed
                        .retrieve(
                            black_box(&mut state),
                            &mut scratch,
                            UpdateOrder::Sequential,
                            1,
                        )
                        .expect("retrieval")
                })
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = classifier, lse, bipolar_sweep
}
criterion_main!(benches);
