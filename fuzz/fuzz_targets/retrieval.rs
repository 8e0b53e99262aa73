//! Every retrieval entry point of dam-core on arbitrary shapes, parameters
//! and values. Invariants checked: no panic; no Inf/NaN in any `Ok` result
//! or in any state/output buffer that was finite before; a bipolar state
//! stays bipolar; class scores stay in [-1, 1]; errors only of the
//! documented kinds (all kinds are documented, so any `Err` is fine).
#![no_main]

use arbitrary::Arbitrary;
use dam_core::{
    BipolarMemory, Classifier, DrDam, EnergyModel, Form, Interaction, LseMemory, MemoryView,
    PottsClassifier, SeededProjection, Similarity, UpdateOrder,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum F {
    Poly(u16),
    Rect(u16),
    Leaky(u16, f32),
    Exp,
}

#[derive(Arbitrary, Debug)]
struct Input {
    k: u8,
    d: u8,
    f: F,
    beta: f32,
    raw: bool,
    classes: u8,
    step: f32,
    steps: u8,
    sweeps: u8,
    order: u8,
    seed: u64,
    features: u8,
    data: Vec<f32>,
    query: Vec<f32>,
    state: Vec<i8>,
}

fn finite(v: &[f32]) -> bool {
    v.iter().all(|x| x.is_finite())
}

fuzz_target!(|input: Input| {
    let (k, d) = (usize::from(input.k % 16), usize::from(input.d % 24));
    let f = match input.f {
        F::Poly(n) => Interaction::Polynomial { n: u32::from(n) },
        F::Rect(n) => Interaction::RectifiedPolynomial { n: u32::from(n) },
        F::Leaky(n, leak) => Interaction::LeakyRectifiedPolynomial {
            n: u32::from(n),
            leak,
        },
        F::Exp => Interaction::Exponential,
    };
    let form = if input.raw {
        Form::Raw { beta: input.beta }
    } else {
        Form::Normalized { beta: input.beta }
    };
    let data: Vec<f32> = input.data.iter().copied().cycle().take(k * d).collect();
    let mut scratch = vec![0.0f32; k + d + 4];
    let Ok(view) = MemoryView::new(&data, k, d) else {
        return;
    };
    if let Ok(net) = BipolarMemory::new(view, f, form) {
        let mut state = input.state.clone();
        let was_bipolar = state.iter().all(|&s| s == 1 || s == -1);
        let mut perm = vec![0u32; d];
        let order = match input.order % 3 {
            0 => UpdateOrder::Sequential,
            1 => UpdateOrder::Synchronous,
            _ => UpdateOrder::Random {
                seed: input.seed,
                order: &mut perm,
            },
        };
        let _ = net.retrieve(
            &mut state,
            &mut scratch,
            order,
            usize::from(input.sweeps % 4),
        );
        if was_bipolar {
            assert!(state.iter().all(|&s| s == 1 || s == -1));
        }
        if let Ok(e) = net.energy(&state) {
            assert!(e.is_finite());
        }
        let _ = net.is_fixed_point(&state, &mut scratch);
    }
    if let Ok(clf) = Classifier::new(view, usize::from(input.classes), f, form) {
        let mut scores = vec![0.0f32; usize::from(input.classes)];
        if clf.forward(&input.query, &mut scores, &mut scratch).is_ok() {
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
    }
    let c = usize::from(input.classes);
    // Mostly valid soft labels: |query| cycled, each row normalized.
    let mut weights: Vec<f32> = input
        .query
        .iter()
        .map(|x| x.abs())
        .cycle()
        .take(k * c)
        .collect();
    for row in weights.chunks_mut(c.max(1)) {
        let sum: f32 = row.iter().sum();
        if sum.is_finite() && sum > 0.0 {
            row.iter_mut().for_each(|x| *x /= sum);
        }
    }
    if let Ok(potts) = PottsClassifier::new(view, &weights, c, None, input.beta) {
        let mut probs = vec![0.0f32; c];
        if potts
            .posterior(&input.query, &mut probs, &mut scratch)
            .is_ok()
        {
            assert!(probs.iter().all(|p| (0.0..=1.0001).contains(p)));
        }
        let _ = potts.nearest_memory(&input.query);
    }
    let before_finite = finite(&input.query);
    for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
        if let Ok(lse) = LseMemory::new(view, input.beta, similarity) {
            let mut x = input.query.clone();
            let mut grad = vec![0.0f32; d];
            if let Ok(e) = lse.energy_and_gradient(&x, &mut grad, &mut scratch) {
                assert!(e.is_finite() && finite(&grad));
            }
            let _ = lse.one_step(&mut x, &mut scratch);
            let _ = lse.descend(
                &mut x,
                None,
                input.step,
                usize::from(input.steps % 3),
                &mut scratch,
            );
            if before_finite {
                assert!(finite(&x));
            }
        }
    }
    if let Ok(proj) = SeededProjection::new(input.seed, usize::from(input.features % 32), d) {
        let y = usize::from(input.features % 32);
        if let Ok(mut dam) = DrDam::new(
            proj,
            input.beta,
            data.iter().copied().cycle().take(2 * y).collect::<Vec<_>>(),
        ) {
            let _ = dam.store(&input.query, &mut scratch);
            assert!(finite(dam.memory()));
            let mut x = input.query.clone();
            let _ = dam.descend(
                &mut x,
                None,
                input.step,
                usize::from(input.steps % 3),
                &mut scratch,
            );
            if before_finite {
                assert!(finite(&x));
            }
        }
    }
});
