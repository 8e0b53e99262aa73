//! Multi-threaded batch classification (`dam_std::batch::classify`) on 1
//! and 2 threads, against `dam-core`'s one-input-at-a-time forward on the
//! calling thread: MNIST shapes, batch 1000. Wall-clock time (the work runs
//! on pool threads). See `BENCHMARKS.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dam_benches::{MNIST_CLASSES, MNIST_D, MNIST_PIXELS, data, mnist_classifier};
use std::hint::black_box;

#[allow(dead_code)] // the thread-CPU-time measurement is unused here
mod support;

fn classifier_batch(c: &mut Criterion) {
    let (nv, nc, batch) = (MNIST_PIXELS, MNIST_CLASSES, 1000usize);
    let d = MNIST_D;
    for k in [100usize, 2000] {
        let xi = data(k * d, 11);
        let clf = mnist_classifier(&xi, k);
        let inputs = data(batch * nv, 12);
        let mut g = c.benchmark_group(format!("classify_batch{batch}_K{k}_D{d}"));
        g.throughput(Throughput::Elements((2 * k * d * batch) as u64));
        let (mut scores, mut scratch) = (vec![0.0f32; nc], vec![0.0f32; k]);
        g.bench_function("core_forward_loop", |b| {
            b.iter(|| {
                inputs
                    .chunks_exact(nv)
                    .map(|v| {
                        clf.forward(black_box(v), &mut scores, &mut scratch)
                            .expect("forward")
                    })
                    .sum::<usize>()
            })
        });
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            g.bench_function(format!("dam_std_batch_{threads}_threads"), |b| {
                b.iter(|| {
                    pool.install(|| dam_std::batch::classify(&clf, black_box(&inputs)))
                        .expect("classify")
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::wall_config();
    targets = classifier_batch
}
criterion_main!(benches);
