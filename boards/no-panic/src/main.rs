//! Link-time proof that no panic is reachable from `dam-core`'s public
//! retrieval functions and `dam-ffi`'s C entry points on Cortex-M4F.
//!
//! The panic handler (dam-ffi's, built with `--cfg dam_no_panic_proof`)
//! calls a function that does not exist. If the optimized,
//! LTO-linked firmware below still contains any path to a panic (an index
//! out of bounds, an `unwrap`, an arithmetic overflow check, a slice length
//! assertion), the linker needs that symbol and the build fails with
//! `undefined symbol: dam_core_panic_is_reachable`. Inputs pass through
//! `black_box`, so the compiler cannot fold the calls away or prove them safe
//! for particular constants: the proof covers every input.
//!
//! Overflow checks are on for `dam-core` and `dam-ffi` (`Cargo.toml`), so
//! an integer overflow the optimizer cannot rule out fails the link too.
//! Third-party crates keep the release default, checks off: libm, the only
//! one that would keep checks, has them in `log`, `logf`, `expm1`, `expm1f`,
//! `frexp`, `frexpf`, `floor` and the `sinf`/`cosf` argument reduction,
//! where some of its integer arithmetic on float bits wraps on purpose.
//!
//! Run: `cd boards/no-panic && cargo build --release` (part of `.ci/run`).
#![no_std]
#![no_main]

use core::hint::black_box;
use dam_core::model::Model;
use dam_core::quantized::{
    FixedClassifier, FixedRow, QuantizedClassifier, QuantizedView, Score, quantize_query,
};
use dam_core::simd;
use dam_core::{Arithmetic, Path, Prepared, Scratch};
use dam_core::{
    BipolarMemory, Classifier, DrDam, EnergyModel, Form, Interaction, LseMemory, MemoryView,
    PottsClassifier, SeededProjection, Similarity, StoredProjection, UpdateOrder,
};

static MEMORIES: [f32; 64] = [0.5; 64];

/// Everything a caller controls, opaque to the optimizer.
fn opaque<T>(v: T) -> T {
    black_box(v)
}

fn interaction() -> Interaction<f32> {
    match opaque(0u8) {
        0 => Interaction::Polynomial { n: opaque(3) },
        1 => Interaction::RectifiedPolynomial { n: opaque(3) },
        2 => Interaction::LeakyRectifiedPolynomial {
            n: opaque(3),
            leak: opaque(0.01),
        },
        _ => Interaction::Exponential,
    }
}

fn form() -> Form<f32> {
    if opaque(true) {
        Form::Normalized { beta: opaque(1.0) }
    } else {
        Form::Raw { beta: opaque(1.0) }
    }
}

fn exercise() {
    let data: &[f32] = opaque(&MEMORIES[..]);
    let (k, d) = (opaque(4usize), opaque(16usize));
    let mut scratch = [0.0f32; 64];
    let mut state = [1i8; 16];
    let mut order = [0u32; 16];
    let mut x = [0.1f32; 16];
    let mut out = [0.0f32; 32];
    let scratch = opaque(&mut scratch[..]);
    let state = opaque(&mut state[..]);
    let x = opaque(&mut x[..]);
    let out = opaque(&mut out[..]);
    let mask = opaque(&[false; 16][..]);

    let Ok(view) = MemoryView::new(data, k, d) else {
        return;
    };
    let f = interaction();
    if let Ok(net) = BipolarMemory::new(view, f, form()) {
        let sweeps = opaque(3);
        let _ = opaque(net.retrieve(state, scratch, UpdateOrder::Sequential, sweeps));
        let _ = opaque(net.retrieve(state, scratch, UpdateOrder::Synchronous, sweeps));
        let order = opaque(&mut order[..]);
        let _ = opaque(net.retrieve(
            state,
            scratch,
            UpdateOrder::Random {
                seed: opaque(7),
                order,
            },
            sweeps,
        ));
        let _ = opaque(net.energy(state));
        let _ = opaque(net.energy_wide(state));
        let _ = opaque(net.overlaps(state, scratch));
        let _ = opaque(net.is_fixed_point(state, scratch));
    }
    if let Ok(clf) = Classifier::new(view, opaque(3), f, form()) {
        let (scores, rest) = out.split_at_mut(opaque(3).min(out.len()));
        let _ = opaque(clf.forward(rest, scores, scratch));
        let _ = opaque(clf.forward_from_overlaps(rest, scores));
        let dot = opaque(dam_core::simd::scalar::dot::<f32>);
        let _ = opaque(clf.forward_with(dot, rest, scores, scratch));
    }
    if let Ok(lse) = LseMemory::new(view, opaque(2.0), Similarity::Euclidean) {
        let _ = opaque(lse.energy(x, scratch));
        let _ = opaque(lse.energy_and_gradient(x, out, scratch));
        let _ = opaque(lse.one_step(x, scratch));
        let _ = opaque(lse.descend(x, Some(mask), opaque(0.1), opaque(2), scratch));
    }
    if let Ok(proj) = SeededProjection::new(opaque(1), opaque(8), d) {
        let mut t = [0.0f32; 16];
        if let Ok(mut dam) = DrDam::new(proj, opaque(4.0), opaque(&mut t[..])) {
            let _ = opaque(dam.store(x, scratch));
            let _ = opaque(dam.forget(x, scratch));
            let _ = opaque(dam.energy_and_gradient(x, out, scratch));
            let _ = opaque(dam.descend(x, None, opaque(0.1), opaque(2), scratch));
            let xs = opaque(&MEMORIES[..32]);
            let (energies, grads) = out.split_at_mut(opaque(2).min(out.len()));
            let _ = opaque(dam.energy_and_gradient_batch(xs, energies, grads, scratch));
        }
    }
    if let Ok(proj) = StoredProjection::new(data, opaque(4), d) {
        let t = opaque(&[0.0f32; 8][..]);
        if let Ok(dam) = DrDam::new(proj, opaque(4.0), t) {
            let _ = opaque(dam.energy(x, scratch));
            let _ = opaque(dam.features_of(x, out, scratch));
        }
    }
    let weights = opaque(&MEMORIES[..8]);
    if let Ok(potts) = PottsClassifier::new(
        view,
        weights,
        opaque(2),
        Some(opaque(&MEMORIES[..4])),
        opaque(3.0),
    ) {
        let _ = opaque(potts.posterior(x, out, scratch));
        let _ = opaque(potts.nearest_memory(x));
    }
    let bytes: &[u8] = opaque(&[]);
    if let Ok(model) = dam_core::model::Model::parse(bytes) {
        if let Ok(potts) = model.potts::<f32>() {
            let _ = opaque(potts.posterior(x, out, scratch));
            let _ = opaque(potts.nearest_memory(x));
        }
        if let Ok(clf) = model.classifier::<f32>() {
            let (scores, rest) = out.split_at_mut(opaque(3).min(out.len()));
            let _ = opaque(clf.forward(rest, scores, scratch));
        }
        if let Ok(clf) = model.classifier::<f64>() {
            let mut v = [0.0f64; 16];
            let mut scores = [0.0f64; 4];
            let mut s = [0.0f64; 16];
            let _ = opaque(clf.forward(
                opaque(&mut v[..]),
                opaque(&mut scores[..]),
                opaque(&mut s[..]),
            ));
        }
        let _ = opaque(model.memories::<f32>().map(|m| m.k()));
        let _ = opaque(model.label(opaque(1)));
        let _ = opaque(model.label_value(opaque(1)));
        let _ = opaque(model.class_name(opaque(1)).map(str::len));
        if let Some(p) = model.preprocessing() {
            let (raw, rest) = out.split_at_mut(opaque(4).min(out.len()));
            let _ = opaque(p.apply(raw, rest));
            let mut q8 = [0i8; 16];
            let mut q16 = [0i16; 16];
            let _ = opaque(p.apply_quantized(raw, opaque(&mut q8[..])));
            let _ = opaque(p.apply_quantized(raw, opaque(&mut q16[..])));
        }
    }
    let (sin, cos) = out.split_at_mut(opaque(8).min(out.len()));
    dam_core::trig::sin_cos_slice(opaque(&MEMORIES[..8]), sin, cos);
    let _ = opaque(dam_core::trig::sin_cos_f32(opaque(1.0)));
    let _ = opaque(f.value(opaque(2.0)));
    let _ = opaque(f.derivative(opaque(2.0)));
    let _ = opaque(form().term(&f, opaque(3.0), d));
    quantized(f);
    prepared();
    c_abi();
}

/// The prepared handle on a model blob of any content, every call.
fn prepared() {
    #[repr(C, align(16))]
    struct Blob([u8; 256]);
    static BLOB: Blob = Blob([0; 256]);
    let bytes = opaque(&BLOB.0[..opaque(200usize).min(256)]);
    let arithmetic = if opaque(true) {
        Arithmetic::Float
    } else {
        Arithmetic::FixedPoint
    };
    let Ok(clf) = Prepared::with_arithmetic(bytes, arithmetic) else {
        return;
    };
    let mut row_sums = [0i32; 16];
    let clf = clf
        .with_background(opaque(-127), opaque(&mut row_sums[..]))
        .unwrap_or(clf);
    let mut table = [0.0f32; 64];
    let _ = opaque(clf.label_table_len());
    let clf = clf.with_label_table(opaque(&mut table[..])).unwrap_or(clf);
    let mut scratch = Scratch::<512>::new();
    let s = opaque(scratch.bytes_mut());
    let raw = opaque(&[0.25f32; 16][..]);
    let levels = opaque(&[3i8; 16][..]);
    let mut scores = [0.0f32; 8];
    let scores = opaque(&mut scores[..]);
    let _ = opaque(clf.classify(raw, s));
    let _ = opaque(clf.classify_i8(levels, s));
    let _ = opaque(clf.scores(raw, s, scores));
    let _ = opaque(clf.scores_i8(levels, s, scores));
    let _ = opaque((clf.scratch_bytes(), clf.path(), clf.inputs(), clf.classes()));
    let _ = opaque(clf.label_value(opaque(1)));
    let _ = opaque(clf.class_name(opaque(1)).map(str::len));
    let _ = opaque(Path::I8Fixed.scratch_bytes(opaque(784), opaque(120), opaque(10), false));
}

/// Every C entry point, with pointers and lengths the optimizer cannot see.
fn c_abi() {
    use dam_ffi::*;
    let mut model = opaque(core::mem::MaybeUninit::<DamModel>::zeroed());
    let model = opaque(model.as_mut_ptr());
    let bytes = opaque(MEMORIES.as_ptr().cast::<u8>());
    let mut scratch = [0u64; 64];
    let scratch = opaque(scratch.as_mut_ptr().cast::<core::ffi::c_void>());
    let input = opaque(MEMORIES.as_ptr());
    let levels = opaque(LEVELS8.as_ptr());
    let (len, scratch_len) = (opaque(16usize), opaque(512usize));
    let mut class = 0u32;
    let class = opaque(&mut class as *mut u32);
    let mut label = 0i32;
    let mut scores = [0.0f32; 8];
    let scores = opaque(scores.as_mut_ptr());
    // SAFETY: every pointer points to live buffers at least as long as the
    // lengths passed (the build, not a run, is the check).
    unsafe {
        let _ = opaque(dam_model_init(model, bytes, opaque(256)));
        let _ = opaque(dam_scratch_bytes(model));
        let _ = opaque(dam_model_inputs(model));
        let _ = opaque(dam_model_classes(model));
        let _ = opaque(dam_model_memories(model));
        let _ = opaque(dam_class_label(model, opaque(1), &mut label));
        // Row sums in a static: they must outlive the handle.
        static mut ROW_SUMS: [i32; 16] = [0; 16];
        let _ = opaque(dam_model_skip_input(
            model,
            opaque(-1.0),
            opaque(core::ptr::addr_of_mut!(ROW_SUMS).cast::<i32>()),
            opaque(16),
        ));
        // The label table in a static too.
        static mut TABLE: [f32; 64] = [0.0; 64];
        let _ = opaque(dam_label_table_len(model));
        let _ = opaque(dam_model_label_table(
            model,
            opaque(core::ptr::addr_of_mut!(TABLE).cast::<f32>()),
            opaque(64),
        ));
        let _ = opaque(dam_classify_f32(
            model,
            input,
            len,
            scratch,
            scratch_len,
            class,
        ));
        let _ = opaque(dam_classify_i8(
            model,
            levels,
            len,
            scratch,
            scratch_len,
            class,
        ));
        let _ = opaque(dam_scores(
            model,
            input,
            len,
            scratch,
            scratch_len,
            scores,
            opaque(8),
        ));
    }
    let _ = opaque(dam_status_str(opaque(3)));
}

static LEVELS8: [i8; 64] = [3; 64];
static LEVELS16: [i16; 64] = [3; 64];
static SCALES: [f32; 8] = [0.01; 8];

/// The integer kernels and the quantized classifiers (`f32` rescale and
/// fixed point).
fn quantized(f: Interaction<f32>) {
    let (k, d) = (opaque(4usize), opaque(16usize));
    let l8 = opaque(&LEVELS8[..]);
    let l16 = opaque(&LEVELS16[..]);
    let scales = opaque(&SCALES[..]);
    let mut acc32 = [0i32; 8];
    let mut acc64 = [0i64; 8];
    let _ = opaque(simd::dot_i8(l8, l8.get(1..).unwrap_or(&[])));
    let _ = opaque(simd::dot_i16(l16, l16.get(1..).unwrap_or(&[])));
    let _ = opaque(simd::gemv_i8(
        l8,
        d,
        l8.get(..d).unwrap_or(&[]),
        opaque(&mut acc32[..]),
    ));
    let _ = opaque(simd::gemv_i16(
        l16,
        d,
        l16.get(..d).unwrap_or(&[]),
        opaque(&mut acc64[..]),
    ));
    let mut row_sums = [0i32; 8];
    let _ = opaque(simd::row_sums_i8(
        l8,
        d,
        opaque(13usize),
        opaque(&mut row_sums[..]),
    ));
    let _ = opaque(simd::gemv_i8_skipping(
        l8,
        d,
        l8.get(..d).unwrap_or(&[]),
        opaque(-127i8),
        opaque(&row_sums[..]),
        opaque(&mut acc32[..]),
    ));
    let mut q8 = [0i8; 16];
    let mut q16 = [0i16; 16];
    let x = opaque(&[0.3f32; 16][..]);
    let _ = opaque(quantize_query(x, opaque(&mut q8[..])));
    let _ = opaque(quantize_query(x, opaque(&mut q16[..])));
    let (nc, nv) = (opaque(3usize), opaque(13usize));
    let mut scores = [0.0f32; 4];
    let mut scratch = [0.0f32; 8];
    let scores = opaque(&mut scores[..]);
    let scratch = opaque(&mut scratch[..]);
    if let Ok(view) = QuantizedView::new(l8, scales, k, d) {
        if let Ok(clf) = QuantizedClassifier::new(view, nc, f, form()) {
            let _ = opaque(clf.forward(q8.get(..nv).unwrap_or(&[]), scores, scratch));
            let mut row_sums = [0i32; 8];
            if let Ok(clf) = clf.with_background(opaque(-127), opaque(&mut row_sums[..])) {
                let _ = opaque(clf.forward(q8.get(..nv).unwrap_or(&[]), scores, scratch));
            }
        }
        if let Ok(clf) = FixedClassifier::new(view, nc, f, form()) {
            let mut row_sums = [0i32; 8];
            let clf = clf
                .with_background(opaque(-127), opaque(&mut row_sums[..]))
                .unwrap_or(clf);
            let mut sums = [Score::ZERO; 4];
            let mut rows = [FixedRow::ZERO; 8];
            let _ = opaque(clf.forward(
                q8.get(..nv).unwrap_or(&[]),
                opaque(&mut sums[..]),
                opaque(&mut rows[..]),
            ));
        }
    }
    if let Ok(view) = QuantizedView::new(l16, scales, k, d) {
        if let Ok(clf) = QuantizedClassifier::new(view, nc, f, form()) {
            let _ = opaque(clf.forward(q16.get(..nv).unwrap_or(&[]), scores, scratch));
        }
    }
    // A model blob of any content, viewed every quantized way.
    #[repr(C, align(16))]
    struct Blob([u8; 128]);
    static BLOB: Blob = Blob([0; 128]);
    let bytes = opaque(&BLOB.0[..]);
    if let Ok(model) = Model::parse(opaque(bytes)) {
        let _ = opaque(model.quantized::<i8>().map(|v| v.k()));
        if let Ok(clf) = model.quantized_classifier::<i16>() {
            let _ = opaque(clf.forward(q16.get(..nv).unwrap_or(&[]), scores, scratch));
        }
        if let Ok(clf) = model.fixed_classifier() {
            let mut sums = [Score::ZERO; 4];
            let mut rows = [FixedRow::ZERO; 8];
            let _ = opaque(clf.forward(
                q8.get(..nv).unwrap_or(&[]),
                opaque(&mut sums[..]),
                opaque(&mut rows[..]),
            ));
        }
    }
}

/// The entry point: run the exercise forever (never actually executed; the
/// build is the check).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    loop {
        exercise();
    }
}

// The panic handler is dam-ffi's (a staticlib crate must bring one): with
// `--cfg dam_no_panic_proof` it calls `dam_core_panic_is_reachable`, which
// does not exist, so any reachable panic fails the link. Without the cfg
// the proof would be void: refuse to build.
#[cfg(not(dam_no_panic_proof))]
compile_error!("build with --cfg dam_no_panic_proof (boards/no-panic/.cargo/config.toml)");
