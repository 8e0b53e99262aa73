//! The IDX and `.npy` readers of dam-std on arbitrary bytes (raw IDX, gzip
//! IDX, `.npy` of every supported dtype as seeds). Invariants: no panic, no
//! hang (the first version of this target found a header whose nesting made
//! npyz backtrack for hours); an accepted array has exactly as many entries
//! as its shape says and serializes back.
#![no_main]

use dam_std::data::{idx, npy::NpyArray};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(a) = idx::decode(bytes) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        assert_eq!(idx::parse(&idx::to_bytes(&a)).ok(), Some(a));
    }
    if let Ok(a) = NpyArray::parse(bytes) {
        assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
        let again = NpyArray::parse(&a.to_bytes().expect("an accepted array serializes"))
            .expect("a serialized array parses");
        assert_eq!(again.shape, a.shape);
        assert_eq!(again.data.len(), a.data.len());
        let _ = a.matrix("fuzz");
    }
});
