//! The zero-copy model reader of dam-core on arbitrary bytes (seeded with a
//! real model, so mutations reach deep into valid files). Invariants: no
//! panic; a model that parses yields views and a classifier whose forward
//! pass gives scores in [-1, 1], or a Potts classifier whose posterior is
//! finite and non-negative.
#![no_main]

use dam_core::model::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The reader needs 16-byte alignment for zero-copy; copy into an
    // aligned buffer so mutations are judged on content, not on address.
    let mut aligned = vec![0u128; bytes.len().div_ceil(16)];
    let buf: &mut [u8] = bytemuck_free_bytes(&mut aligned);
    let buf = &mut buf[..bytes.len()];
    buf.copy_from_slice(bytes);
    let Ok(model) = Model::parse(buf) else {
        return;
    };
    let _ = model.header();
    let _ = model.label(0);
    if let Ok(clf) = model.classifier::<f32>() {
        let v = vec![0.5f32; clf.visible()];
        let mut scores = vec![0.0f32; clf.classes()];
        let mut scratch = vec![0.0f32; clf.memories().k()];
        if clf.forward(&v, &mut scores, &mut scratch).is_ok() {
            assert!(scores.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
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
    let _ = model.memories::<f64>();
});

/// Views a `u128` buffer as bytes (safe: `u8` has no invalid values and
/// alignment 1).
fn bytemuck_free_bytes(v: &mut [u128]) -> &mut [u8] {
    let len = std::mem::size_of_val(v);
    // SAFETY: the pointer and length come from a live, exclusively borrowed
    // slice of plain integers; any byte pattern is a valid `u8`.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), len) }
}
