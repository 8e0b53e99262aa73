//! The zero-copy model reader of dam-core, twice per input: on the bytes
//! as they are (so magic, version, length and CRC checks are hit), then with
//! the length field and CRC-32 rewritten to match (so mutations of the real
//! seed model get past the CRC and reach the header, dimension and
//! alignment checks). Invariants: no panic; every model that parses gives a
//! classifier (or memory view) that runs, with finite scores in [-1, 1] and
//! a predicted class below `Nc` (f32/f64, the quantized i8/i16 models and
//! the fixed-point forward pass of an i8 model), or a Potts classifier whose
//! posterior is finite and non-negative.
#![no_main]

use dam_core::model::{CRC_LEN, HEADER_LEN, Model, crc32};
use libfuzzer_sys::fuzz_target;

/// Offset of the `u64` total-length field in the header.
const LENGTH_FIELD: usize = 48;

fuzz_target!(|bytes: &[u8]| {
    let len = bytes.len();
    let mut storage = vec![0u128; len.div_ceil(16)];
    let buf = &mut as_bytes(&mut storage)[..len];
    buf.copy_from_slice(bytes);
    exercise(buf, bytes);
    if len >= HEADER_LEN + CRC_LEN {
        buf[LENGTH_FIELD..LENGTH_FIELD + 8].copy_from_slice(&(len as u64).to_le_bytes());
        let crc = crc32(&buf[..len - CRC_LEN]);
        buf[len - CRC_LEN..].copy_from_slice(&crc.to_le_bytes());
        exercise(buf, bytes);
    }
});

/// Parses `file` and, if it is accepted, runs what it holds on a visible
/// vector in [-1, 1] taken from `seed`.
fn exercise(file: &[u8], seed: &[u8]) {
    let Ok(model) = Model::parse(file) else {
        return;
    };
    let _ = model.header();
    let _ = model.label(0);
    let _ = model.label(usize::MAX);
    for a in 0..model.header().nc.min(64) as usize {
        let _ = model.label_value(a);
        let _ = model.class_name(a);
    }
    let _ = model.class_name(usize::MAX);
    if let Some(p) = model.preprocessing() {
        let raw: Vec<f32> = (0..p.len())
            .map(|i| f32::from(seed.get(i).copied().unwrap_or(0)) - 128.0)
            .collect();
        let mut out = vec![0.0f32; p.len()];
        if p.apply(&raw, &mut out).is_ok() {
            assert!(out.iter().all(|x| x.is_finite()));
        }
        let mut q = vec![0i8; p.len()];
        let _ = p.apply_quantized(&raw, &mut q);
    }
    let _ = (model.interaction::<f32>(), model.form::<f64>());
    classify::<f32>(&model, seed, |b| f32::from(b) / 127.5 - 1.0);
    classify::<f64>(&model, seed, |b| f64::from(b) / 127.5 - 1.0);
    if let Ok(m) = model.memories::<f32>() {
        assert!(m.as_slice().iter().all(|x| x.is_finite()));
    }
    let _ = model.memories::<f64>();
    // Quantized models: both forward passes, queries of levels.
    if let Ok(clf) = model.quantized_classifier::<i8>() {
        let v = vec![90i8; clf.visible()];
        let mut scores = vec![0.0f32; clf.classes()];
        let mut scratch = vec![0.0f32; clf.memories().k()];
        if clf.forward(&v, &mut scores, &mut scratch).is_ok() {
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
    }
    if let Ok(clf) = model.quantized_classifier::<i16>() {
        let v = vec![-20000i16; clf.visible()];
        let mut scores = vec![0.0f32; clf.classes()];
        let mut scratch = vec![0.0f32; clf.memories().k()];
        if clf.forward(&v, &mut scores, &mut scratch).is_ok() {
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
    }
    if let Ok(clf) = model.fixed_classifier() {
        let shape = clf.rescaled();
        let v = vec![-127i8; shape.visible()];
        let mut sums = vec![dam_core::quantized::Score::ZERO; shape.classes()];
        let mut rows = vec![dam_core::quantized::FixedRow::ZERO; shape.memories().k()];
        let class = clf.forward(&v, &mut sums, &mut rows);
        assert!(class.is_ok_and(|c| c < shape.classes()));
    }
    if let Ok(potts) = model.potts::<f32>() {
        let v = vec![0.5f32; potts.memories().d()];
        let mut probs = vec![0.0f32; potts.classes()];
        let mut scratch = vec![0.0f32; potts.memories().k()];
        if let Ok(class) = potts.posterior(&v, &mut probs, &mut scratch) {
            assert!(class < probs.len());
            assert!(probs.iter().all(|p| p.is_finite() && *p >= 0.0));
        }
        let _ = potts.nearest_memory(&v);
    }
}

fn classify<T>(model: &Model<'_>, seed: &[u8], unit: impl Fn(u8) -> T)
where
    T: dam_core::model::Element + PartialOrd,
{
    let Ok(clf) = model.classifier::<T>() else {
        return;
    };
    let v: Vec<T> = (0..clf.visible())
        .map(|i| unit(seed.get(i % seed.len().max(1)).copied().unwrap_or(0)))
        .collect();
    let mut scores = vec![T::ZERO; clf.classes()];
    let mut scratch = vec![T::ZERO; clf.memories().k()];
    // Overflow is the one documented error for a finite query of the right
    // size (raw form, or overlaps beyond the float range).
    let class = match clf.forward(&v, &mut scores, &mut scratch) {
        Ok(class) => class,
        Err(dam_core::Error::Overflow { .. }) => return,
        Err(e) => panic!("a parsed classifier refused a finite visible vector: {e:?}"),
    };
    assert!(class < clf.classes());
    let one = T::ONE;
    assert!(
        scores
            .iter()
            .all(|s| s.is_finite() && *s >= -one && *s <= one)
    );
}

/// Views `u128` storage as bytes: the reader borrows the memories in place
/// and checks their alignment, so inputs are judged on content, not address.
fn as_bytes(v: &mut [u128]) -> &mut [u8] {
    let len = std::mem::size_of_val(v);
    // SAFETY: the pointer and length come from a live, exclusively borrowed
    // slice of plain integers; any byte pattern is a valid `u8`.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), len) }
}
