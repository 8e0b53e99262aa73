//! One asynchronous sweep of a bipolar memory (placeholder until the SIMD
//! issue adds the full suite with baselines).

use criterion::{Criterion, criterion_group, criterion_main};
use dam_core::{BipolarMemory, Form, Interaction, MemoryView, UpdateOrder};
use std::hint::black_box;

fn sweep(c: &mut Criterion) {
    let (k, d) = (100usize, 100usize);
    let xi: Vec<f32> = (0..k * d)
        .map(|i| if (i * 7919) % 13 < 6 { 1.0 } else { -1.0 })
        .collect();
    let net = BipolarMemory::new(
        MemoryView::new(&xi, k, d).expect("valid shape"),
        Interaction::Polynomial { n: 3 },
        Form::Normalized { beta: 1.0 },
    )
    .expect("valid parameters");
    let mut overlaps = vec![0.0f32; k];
    c.bench_function("bipolar sweep K=100 D=100", |b| {
        b.iter(|| {
            let mut state = vec![1i8; d];
            net.retrieve(
                black_box(&mut state),
                &mut overlaps,
                UpdateOrder::Sequential,
                1,
            )
            .expect("retrieval")
        })
    });
}

criterion_group!(benches, sweep);
criterion_main!(benches);
