//! Every retrieval entry point of dam-core on arbitrary shapes, parameters
//! and values. Invariants checked: no panic; no Inf/NaN in any `Ok` result
//! or in any state/output buffer that was finite before; a bipolar state
//! stays bipolar; class scores stay in [-1, 1], probabilities in [0, 1]
//! (1e-4 of rounding above); every error is of a kind the entry point's
//! rustdoc lists (its `Errors:` paragraph, mirrored by the `*_ERRORS`
//! constants below), an overflow reports a finite `ln_magnitude`, and for
//! well-formed input (right lengths, finite values, a bipolar state, valid
//! step and counts) the only error is `Error::Overflow`, where documented.
//! Unless `malformed` is set, states and queries are cycled to the right
//! length so most inputs reach the arithmetic.
//!
//! Then [`faults`]: on clean memories (finite, in `[-1, 1]`) and an
//! otherwise well-formed call, exactly one fault chosen from the input
//! (a query or state of the wrong length, a non-finite query entry at a
//! chosen index, a non-bipolar state entry, a bad step or iteration count,
//! an output buffer of the wrong length) must give exactly the error that
//! names it: the variant, the operand, the index or the parameter.
#![no_main]

use arbitrary::Arbitrary;
use dam_core::quantized::{
    FixedClassifier, FixedRow, QuantizedClassifier, QuantizedView, Score, quantize_query,
};
use dam_core::{
    BipolarMemory, Classifier, DrDam, EnergyModel, Error, Form, Interaction, LseMemory, MemoryView,
    PottsClassifier, SeededProjection, Similarity, StoredProjection, UpdateOrder,
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
    malformed: bool,
}

/// `v` cycled (or cut) to length `n`; `v` itself if `keep`.
fn fit<T: Copy>(v: &[T], n: usize, keep: bool) -> Vec<T> {
    if keep {
        v.to_vec()
    } else {
        v.iter().copied().cycle().take(n).collect()
    }
}

/// The kinds of `dam_core::Error` an entry point can document.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Shape,
    NonFinite,
    NotBipolar,
    Parameter,
    Overflow,
}
use Kind::*;

const RETRIEVE_ERRORS: &[Kind] = &[Shape, NotBipolar, Parameter, Overflow];
const BIPOLAR_ERRORS: &[Kind] = &[Shape, NotBipolar, Overflow];
const QUERY_ERRORS: &[Kind] = &[Shape, NonFinite, Overflow];
const NEAREST_ERRORS: &[Kind] = &[Shape, NonFinite];
const DESCEND_ERRORS: &[Kind] = &[Parameter, Shape, NonFinite, Overflow];
const OVERLAP_ERRORS: &[Kind] = &[Shape, NotBipolar];
const OVERLAPS_IN_ERRORS: &[Kind] = &[Shape, NonFinite, Overflow];
const QUANTIZE_ERRORS: &[Kind] = &[Shape, NonFinite];
const QUANTIZED_FORWARD_ERRORS: &[Kind] = &[Shape, Overflow];
const FIXED_FORWARD_ERRORS: &[Kind] = &[Shape];

fn kind(e: &Error) -> Option<Kind> {
    match e {
        Error::ShapeMismatch { .. } => Some(Shape),
        Error::NonFinite { .. } => Some(NonFinite),
        Error::NotBipolar { .. } => Some(NotBipolar),
        Error::InvalidParameter { .. } => Some(Parameter),
        Error::Overflow { .. } => Some(Overflow),
        // Construction-time kinds: never documented for a retrieval call.
        Error::EmptyMemory | Error::Model(_) => None,
        // A kind of a newer dam-core: documented nowhere yet, so a failure.
        _ => None,
    }
}

/// Panics unless `r` is `Ok` or an error of a kind in `allowed` (only
/// `Overflow` for well-formed input), with a finite overflow magnitude.
fn documented<T: std::fmt::Debug>(
    r: &dam_core::Result<T>,
    well_formed: bool,
    what: &str,
    allowed: &[Kind],
) {
    if let Err(e) = r {
        let k = kind(e);
        assert!(
            k.is_some_and(|k| allowed.contains(&k)),
            "{what}: undocumented error {e:?}"
        );
        assert!(
            !well_formed || k == Some(Overflow),
            "{what} refused well-formed input: {e:?}"
        );
        if let Error::Overflow { ln_magnitude, .. } = e {
            assert!(ln_magnitude.is_finite(), "{what}: {e:?}");
        }
    }
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
    let mut scratch = vec![0.0f32; k + 2 * d + 4];
    let Ok(view) = MemoryView::new(&data, k, d) else {
        return;
    };
    if let Ok(net) = BipolarMemory::new(view, f, form) {
        let mut state: Vec<i8> = fit(&input.state, d, input.malformed);
        if !input.malformed {
            state
                .iter_mut()
                .for_each(|s| *s = if *s < 0 { -1 } else { 1 });
        }
        let was_bipolar = state.iter().all(|&s| s == 1 || s == -1);
        let state_ok = was_bipolar && state.len() == d;
        let well_formed = state_ok && input.sweeps % 4 > 0;
        let mut perm = vec![0u32; d];
        let order = match input.order % 3 {
            0 => UpdateOrder::Sequential,
            1 => UpdateOrder::Synchronous,
            _ => UpdateOrder::Random {
                seed: input.seed,
                order: &mut perm,
            },
        };
        let r = net.retrieve(
            &mut state,
            &mut scratch,
            order,
            usize::from(input.sweeps % 4),
        );
        documented(&r, well_formed, "BipolarMemory::retrieve", RETRIEVE_ERRORS);
        if was_bipolar {
            assert!(state.iter().all(|&s| s == 1 || s == -1));
        }
        let e = net.energy(&state);
        documented(&e, state_ok, "BipolarMemory::energy", BIPOLAR_ERRORS);
        if let Ok(e) = e {
            assert!(e.is_finite());
        }
        let wide = net.energy_wide(&state);
        documented(
            &wide,
            state_ok,
            "BipolarMemory::energy_wide",
            BIPOLAR_ERRORS,
        );
        let mut overlaps = vec![0.0f32; k];
        let r = net.overlaps(&state, &mut overlaps);
        documented(&r, state_ok, "BipolarMemory::overlaps", OVERLAP_ERRORS);
        if r.is_ok() && finite(&data) {
            // ±1 states: every overlap is at most Σ|ξ| in size.
            for (m, row) in overlaps.iter().zip(data.chunks(d.max(1))) {
                let bound: f32 = row.iter().map(|x| x.abs()).sum();
                assert!(m.is_nan() || m.abs() <= bound * 1.0001 || bound.is_infinite());
            }
        }
        let fixed = net.is_fixed_point(&state, &mut scratch);
        documented(
            &fixed,
            state_ok,
            "BipolarMemory::is_fixed_point",
            BIPOLAR_ERRORS,
        );
    }
    if let Ok(clf) = Classifier::new(view, usize::from(input.classes), f, form) {
        let v = fit(&input.query, clf.visible(), input.malformed);
        let mut scores = vec![0.0f32; usize::from(input.classes)];
        let r = clf.forward(&v, &mut scores, &mut scratch);
        documented(
            &r,
            v.len() == clf.visible() && finite(&v),
            "Classifier::forward",
            QUERY_ERRORS,
        );
        if let Ok(class) = r {
            assert!(class < clf.classes());
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
        let r = clf.forward_with(dam_core::simd::scalar::dot, &v, &mut scores, &mut scratch);
        documented(
            &r,
            v.len() == clf.visible() && finite(&v),
            "Classifier::forward_with",
            QUERY_ERRORS,
        );
        // Overlaps from the caller (any values, finite or not).
        let overlaps = fit(&input.query, k, input.malformed);
        let r = clf.forward_from_overlaps(&overlaps, &mut scores);
        documented(
            &r,
            overlaps.len() == k && finite(&overlaps),
            "Classifier::forward_from_overlaps",
            OVERLAPS_IN_ERRORS,
        );
        if let Ok(class) = r {
            assert!(class < clf.classes());
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
    }
    quantized(&input, k, d, f, form);
    faults(&input, k, d, f, form);
    let query = fit(&input.query, d, input.malformed);
    let well_formed = query.len() == d && finite(&query);
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
        let r = potts.posterior(&query, &mut probs, &mut scratch);
        documented(&r, well_formed, "PottsClassifier::posterior", QUERY_ERRORS);
        if r.is_ok() {
            assert!(probs.iter().all(|p| (0.0..=1.0001).contains(p)));
        }
        let nearest = potts.nearest_memory(&query);
        documented(
            &nearest,
            well_formed,
            "PottsClassifier::nearest_memory",
            NEAREST_ERRORS,
        );
        if let Ok((mu, label)) = nearest {
            assert!(mu < k && label < c);
        }
    }
    let before_finite = finite(&query);
    let descend_well_formed =
        well_formed && input.step.is_finite() && input.step > 0.0 && input.steps % 3 > 0;
    for similarity in [Similarity::Euclidean, Similarity::DotProduct] {
        if let Ok(lse) = LseMemory::new(view, input.beta, similarity) {
            let mut x = query.clone();
            let mut grad = vec![0.0f32; d];
            let r = lse.energy_and_gradient(&x, &mut grad, &mut scratch);
            documented(
                &r,
                well_formed,
                "LseMemory::energy_and_gradient",
                QUERY_ERRORS,
            );
            if let Ok(e) = r {
                assert!(e.is_finite() && finite(&grad));
            }
            let r = lse.energy(&x, &mut scratch);
            documented(&r, well_formed, "LseMemory::energy", QUERY_ERRORS);
            if let Ok(e) = r {
                assert!(e.is_finite());
            }
            let r = lse.one_step(&mut x, &mut scratch);
            documented(&r, well_formed, "LseMemory::one_step", QUERY_ERRORS);
            let r = lse.descend(
                &mut x,
                None,
                input.step,
                usize::from(input.steps % 3),
                &mut scratch,
            );
            documented(
                &r,
                descend_well_formed,
                "LseMemory::descend",
                DESCEND_ERRORS,
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
            let r = dam.store(&query, &mut scratch);
            documented(&r, well_formed, "DrDam::store", QUERY_ERRORS);
            assert!(finite(dam.memory()));
            let mut x = query.clone();
            let r = dam.energy_and_gradient(&x, &mut vec![0.0; d], &mut scratch);
            documented(&r, well_formed, "DrDam::energy_and_gradient", QUERY_ERRORS);
            let r = dam.descend(
                &mut x,
                None,
                input.step,
                usize::from(input.steps % 3),
                &mut scratch,
            );
            documented(&r, descend_well_formed, "DrDam::descend", DESCEND_ERRORS);
            let r = dam.forget(&query, &mut scratch);
            documented(&r, well_formed, "DrDam::forget", QUERY_ERRORS);
            if before_finite {
                assert!(finite(&x));
            }
            drdam_reads(&dam, &query, well_formed, y, d, &mut scratch);
        }
    }
    // The same memories, read as a stored projection (Y = K rows of D).
    if let Ok(proj) = StoredProjection::new(&data, k, d)
        && let Ok(dam) = DrDam::new(
            proj,
            input.beta,
            input
                .query
                .iter()
                .copied()
                .cycle()
                .take(2 * k)
                .collect::<Vec<_>>(),
        )
    {
        drdam_reads(&dam, &query, well_formed, k, d, &mut scratch);
    }
});

/// The read-only DrDAM entry points: energy, features, the batched pass.
fn drdam_reads<P: dam_core::Projection<f32>>(
    dam: &DrDam<f32, P, Vec<f32>>,
    query: &[f32],
    well_formed: bool,
    y: usize,
    d: usize,
    scratch: &mut [f32],
) {
    let r = dam.energy(query, scratch);
    documented(&r, well_formed, "DrDam::energy", QUERY_ERRORS);
    if let Ok(e) = r {
        assert!(e.is_finite());
    }
    let mut phi = vec![0.0f32; 2 * y];
    let r = dam.features_of(query, &mut phi, scratch);
    documented(&r, well_formed, "DrDam::features_of", QUERY_ERRORS);
    if r.is_ok() {
        // cos² + sin² = 1 per feature, scaled by 1/Y: every entry ≤ 1/√Y.
        let bound = 1.0001 / (y.max(1) as f32).sqrt();
        assert!(phi.iter().all(|p| p.abs() <= bound), "{phi:?}");
    }
    // Two queries: the query and its negation.
    let xs: Vec<f32> = query
        .iter()
        .copied()
        .chain(query.iter().map(|x| -x))
        .collect();
    let (mut energies, mut grads) = (vec![0.0f32; 2], vec![0.0f32; xs.len()]);
    let mut batch_scratch = scratch.to_vec();
    batch_scratch.extend_from_slice(&[0.0; 2]);
    let r = dam.energy_and_gradient_batch(&xs, &mut energies, &mut grads, &mut batch_scratch);
    documented(
        &r,
        well_formed && xs.len() == 2 * d,
        "DrDam::energy_and_gradient_batch",
        QUERY_ERRORS,
    );
    if r.is_ok() {
        assert!(finite(&energies) && finite(&grads));
    }
}

/// The quantized classifiers (`f32` rescale over i8 and i16 levels, and
/// fixed point over i8) on memories made of the same data as levels.
fn quantized(input: &Input, k: usize, d: usize, f: Interaction<f32>, form: Form<f32>) {
    let c = usize::from(input.classes);
    let levels8: Vec<i8> = input.state.iter().copied().cycle().take(k * d).collect();
    let levels16: Vec<i16> = input
        .data
        .iter()
        .map(|x| x.to_bits() as i16)
        .cycle()
        .take(k * d)
        .collect();
    let scales: Vec<f32> = input
        .query
        .iter()
        .map(|x| x.abs())
        .cycle()
        .take(k)
        .collect();
    let nv = d.saturating_sub(c);
    let v = fit(&input.query, nv, input.malformed);
    let mut q8 = vec![0i8; v.len()];
    let mut q16 = vec![0i16; v.len()];
    let r = quantize_query(&v, &mut q8);
    documented(&r, finite(&v), "quantize_query::<i8>", QUANTIZE_ERRORS);
    let r16 = quantize_query(&v, &mut q16);
    documented(&r16, finite(&v), "quantize_query::<i16>", QUANTIZE_ERRORS);
    if r.is_ok() && r16.is_ok() {
        assert!(q8.iter().all(|&q| q >= -127));
        assert!(q16.iter().all(|&q| q >= -32767));
    }
    let well_formed = v.len() == nv;
    if let Ok(view) = QuantizedView::new(&levels8, &scales, k, d) {
        if let Ok(clf) = QuantizedClassifier::new(view, c, f, form) {
            rescaled_forward(&clf, &q8, well_formed, "QuantizedClassifier::<i8>::forward");
        }
        if let Ok(clf) = FixedClassifier::new(view, c, f, form) {
            let mut sums = vec![Score::ZERO; c];
            let mut rows = vec![FixedRow::ZERO; k];
            let r = clf.forward(&q8, &mut sums, &mut rows);
            documented(
                &r,
                well_formed,
                "FixedClassifier::forward",
                FIXED_FORWARD_ERRORS,
            );
            if let Ok(class) = r {
                assert!(class < c);
                // The first argmax of the sums.
                assert!(sums.iter().all(|s| *s <= sums[class]));
                assert!(sums[..class].iter().all(|s| *s < sums[class]));
            }
        }
    }
    if let Ok(view) = QuantizedView::new(&levels16, &scales, k, d)
        && let Ok(clf) = QuantizedClassifier::new(view, c, f, form)
    {
        rescaled_forward(
            &clf,
            &q16,
            well_formed,
            "QuantizedClassifier::<i16>::forward",
        );
    }
}

/// `QuantizedClassifier::forward`: documented errors, a class in range,
/// scores in `[-1, 1]`.
fn rescaled_forward<Q: dam_core::quantized::Level>(
    clf: &QuantizedClassifier<'_, Q>,
    q: &[Q],
    well_formed: bool,
    what: &str,
) {
    let mut scores = vec![0.0f32; clf.classes()];
    let mut scratch = vec![0.0f32; clf.memories().k()];
    let r = clf.forward(q, &mut scores, &mut scratch);
    documented(&r, well_formed, what, QUANTIZED_FORWARD_ERRORS);
    if let Ok(class) = r {
        assert!(class < clf.classes());
        assert!(
            scores.iter().all(|s| (-1.0..=1.0).contains(s)),
            "{scores:?}"
        );
    }
}

/// One fault, chosen from the input, injected into an otherwise
/// well-formed call.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The query or state is longer or shorter than the shapes require.
    Length(usize),
    /// A query entry is NaN or ±∞ at this index.
    NonFinite(usize, f32),
    /// A state entry is neither −1 nor +1 at this index.
    NotBipolar(usize, i8),
    /// A step `η ≤ 0` or not finite, or zero sweeps / steps.
    Parameter(f32),
    /// The output buffer has the wrong length.
    Output(usize),
}

/// The exact error for `fault` on a call whose query has `len` entries;
/// `None` where this call has no such fault.
fn expected(fault: Fault, len: usize, param: dam_core::Param) -> Option<Error> {
    use dam_core::Operand;
    Some(match fault {
        Fault::Length(found) => Error::ShapeMismatch {
            operand: Operand::Query,
            expected: len,
            found,
        },
        Fault::NonFinite(index, _) => Error::NonFinite {
            operand: Operand::Query,
            index,
        },
        Fault::NotBipolar(index, _) => Error::NotBipolar { index },
        Fault::Parameter(v) => Error::InvalidParameter {
            param,
            value: f64::from(v),
        },
        Fault::Output(_) => return None,
    })
}

/// Panics unless `r` is exactly the error `want` (compared by variant and
/// fields; a NaN parameter value matches a NaN).
fn exactly<T: std::fmt::Debug>(r: &dam_core::Result<T>, want: &Error, what: &str, fault: Fault) {
    let same = match (r, want) {
        (
            Err(Error::InvalidParameter { param: p, value: v }),
            Error::InvalidParameter { param: q, value: w },
        ) => p == q && (v == w || (v.is_nan() && w.is_nan())),
        (Err(e), w) => e == w,
        (Ok(_), _) => false,
    };
    assert!(same, "{what} with {fault:?}: {r:?}, expected {want:?}");
}

fn faults(input: &Input, k: usize, d: usize, f: Interaction<f32>, form: Form<f32>) {
    use dam_core::{Operand, Param};
    // Clean memories and a clean query: finite, in [-1, 1].
    let clean = |v: &[f32], n: usize| -> Vec<f32> {
        let v: Vec<f32> = v
            .iter()
            .map(|x| {
                if x.is_finite() {
                    x.clamp(-1.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        if v.is_empty() {
            vec![0.5; n]
        } else {
            v.iter().copied().cycle().take(n).collect()
        }
    };
    let data = clean(&input.data, k * d);
    let Ok(view) = MemoryView::new(&data, k, d) else {
        return;
    };
    let pick = input.seed >> 8;
    let at = |n: usize| (pick as usize) % n.max(1);
    let mut scratch = vec![0.0f32; k + 2 * d + 4];
    let bad_value = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][(pick % 3) as usize];
    // The fault for a call whose query (or state) has `n` entries.
    let fault = |n: usize| match input.seed % 5 {
        0 => Fault::Length(if pick.is_multiple_of(2) || n == 0 {
            n + 1 + at(4)
        } else {
            at(n)
        }),
        1 if n > 0 => Fault::NonFinite(at(n), bad_value),
        2 if n > 0 => Fault::NotBipolar(at(n), [0, 2, -2, i8::MIN][(pick % 4) as usize]),
        3 => Fault::Parameter([0.0, -1.0, f32::NAN, f32::INFINITY][(pick % 4) as usize]),
        _ => Fault::Output(if pick.is_multiple_of(2) { at(4) } else { 5 + at(4) }),
    };
    let query = |n: usize, fault: Fault| -> Vec<f32> {
        let mut v = clean(&input.query, n);
        match fault {
            Fault::Length(m) => v = clean(&input.query, m),
            Fault::NonFinite(i, x) => v[i] = x,
            _ => {}
        }
        v
    };

    if let Ok(net) = BipolarMemory::new(view, f, form) {
        let fault = fault(d);
        let mut state: Vec<i8> = (0..d)
            .map(|i| if (pick >> (i % 48)) & 1 == 1 { 1 } else { -1 })
            .collect();
        match fault {
            Fault::Length(m) => state.resize(m, 1),
            Fault::NotBipolar(i, x) => state[i] = x,
            _ => {}
        }
        let sweeps = if matches!(fault, Fault::Parameter(_)) {
            0
        } else {
            1
        };
        let want = match fault {
            Fault::Parameter(_) => Some(Error::InvalidParameter {
                param: Param::Iterations,
                value: 0.0,
            }),
            Fault::NonFinite(..) | Fault::Output(_) => None,
            _ => expected(fault, d, Param::Iterations),
        };
        if let Some(want) = want {
            let r = net.retrieve(
                &mut state.clone(),
                &mut scratch,
                UpdateOrder::Sequential,
                sweeps,
            );
            exactly(&r, &want, "BipolarMemory::retrieve", fault);
            if !matches!(fault, Fault::Parameter(_)) {
                exactly(&net.energy(&state), &want, "BipolarMemory::energy", fault);
            }
        }
    }
    let c = usize::from(input.classes % 8);
    if let Ok(clf) = Classifier::new(view, c, f, form) {
        let nv = clf.visible();
        let fault = fault(nv);
        let v = query(nv, fault);
        let outputs = match fault {
            Fault::Output(n) if n != c => n,
            _ => c,
        };
        let mut scores = vec![0.0f32; outputs];
        let r = clf.forward(&v, &mut scores, &mut scratch);
        match fault {
            Fault::Output(n) if n != c => exactly(
                &r,
                &Error::ShapeMismatch {
                    operand: Operand::Output,
                    expected: c,
                    found: n,
                },
                "Classifier::forward",
                fault,
            ),
            Fault::Length(_) | Fault::NonFinite(..) => exactly(
                &r,
                &expected(fault, nv, Param::Step).unwrap_or(Error::EmptyMemory),
                "Classifier::forward",
                fault,
            ),
            _ => {}
        }
    }
    let fault = fault(d);
    let x = query(d, fault);
    if let Ok(lse) = LseMemory::new(view, input.beta, Similarity::Euclidean) {
        match fault {
            Fault::Length(_) | Fault::NonFinite(..) => {
                let want = expected(fault, d, Param::Step).unwrap_or(Error::EmptyMemory);
                exactly(
                    &lse.energy(&x, &mut scratch),
                    &want,
                    "LseMemory::energy",
                    fault,
                );
                let r = lse.descend(&mut x.clone(), None, 0.1, 1, &mut scratch);
                exactly(&r, &want, "LseMemory::descend", fault);
            }
            Fault::Parameter(step) => {
                let want = expected(fault, d, Param::Step).unwrap_or(Error::EmptyMemory);
                let r = lse.descend(&mut x.clone(), None, step, 1, &mut scratch);
                exactly(&r, &want, "LseMemory::descend", fault);
            }
            _ => {}
        }
    }
    let mut q8 = vec![0i8; d];
    if let Fault::Length(_) | Fault::NonFinite(..) = fault {
        let r = quantize_query(&x, &mut q8);
        let want = match fault {
            Fault::Length(found) => Error::ShapeMismatch {
                operand: Operand::Output,
                expected: found,
                found: d,
            },
            _ => expected(fault, d, Param::Step).unwrap_or(Error::EmptyMemory),
        };
        exactly(&r, &want, "quantize_query", fault);
    }
}
