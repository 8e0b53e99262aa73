//! The C entry points of dam-ffi (called as C would, through their
//! `extern "C"` functions) with arbitrary model bytes, pointers shifted off
//! alignment, lengths, scratch sizes and inputs. The model bytes are taken
//! as they are and, second, with the length field and CRC-32 rewritten (so
//! that mutations of the seed models reach the checks after the CRC).
//! Invariants: no panic, no out-of-bounds access; every status is a known
//! code with a text; a handle that failed to initialise reports itself
//! uninitialised; a class is below `dam_model_classes`, and scores are
//! finite.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use dam_core::model::{CRC_LEN, HEADER_LEN, crc32};
use dam_ffi::*;
use libfuzzer_sys::fuzz_target;
use std::ffi::c_void;
use std::mem::MaybeUninit;

/// Offset of the `u64` total-length field in the header.
const LENGTH_FIELD: usize = 48;

#[derive(Arbitrary, Debug)]
struct Call {
    /// Bytes added to the model's address (0: 16-byte aligned).
    shift: u8,
    /// Subtracted from the true model length (saturating).
    cut: u8,
    /// Scratch bytes offered relative to what the model needs.
    scratch_delta: i16,
    scratch_shift: u8,
    /// Input length relative to `Nv`.
    len_delta: i8,
    scores_len: u8,
    null: u8,
    inputs: Vec<f32>,
    levels: Vec<i8>,
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(call) = Call::arbitrary(&mut u) else {
        return;
    };
    let model_bytes = u.take_rest();
    exercise(&call, model_bytes);
    let len = model_bytes.len();
    if len >= HEADER_LEN + CRC_LEN {
        let mut fixed = model_bytes.to_vec();
        fixed[LENGTH_FIELD..LENGTH_FIELD + 8].copy_from_slice(&(len as u64).to_le_bytes());
        let crc = crc32(&fixed[..len - CRC_LEN]);
        fixed[len - CRC_LEN..].copy_from_slice(&crc.to_le_bytes());
        exercise(&call, &fixed);
    }
});

fn status_ok(s: DamStatus) {
    let code = s as i32;
    assert!(DamStatus::from_code(code) == Some(s));
    assert!(!dam_status_str(code).is_null());
}

fn exercise(call: &Call, bytes: &[u8]) {
    // The model at a 16-byte-aligned address plus `shift % 16`.
    let shift = usize::from(call.shift % 16);
    let mut storage = vec![0u128; (bytes.len() + shift).div_ceil(16) + 1];
    let base = storage.as_mut_ptr().cast::<u8>();
    // SAFETY: `storage` holds at least `shift + len` bytes.
    let model_ptr = unsafe { base.add(shift) };
    // SAFETY: as above; the source is a distinct slice.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), model_ptr, bytes.len()) };
    let len = bytes.len().saturating_sub(usize::from(call.cut % 4));

    let mut handle = MaybeUninit::<DamModel>::zeroed();
    let h = handle.as_mut_ptr();
    let null = call.null;
    // SAFETY: `h` is a live, zeroed `DamModel`; `model_ptr` points to `len`
    // readable bytes that outlive every use of the handle below.
    let status = unsafe {
        dam_model_init(
            if null & 1 != 0 {
                std::ptr::null_mut()
            } else {
                h
            },
            if null & 2 != 0 {
                std::ptr::null()
            } else {
                model_ptr
            },
            len,
        )
    };
    status_ok(status);
    // SAFETY: `h` is a live `DamModel` (zeroed, or filled by init).
    let (need, nv, nc) = unsafe {
        (
            dam_scratch_bytes(h),
            dam_model_inputs(h) as usize,
            dam_model_classes(h),
        )
    };
    if status != DamStatus::DAM_OK {
        assert_eq!((need, nv, nc), (0, 0, 0));
    }

    // Background skipping, with row sums for up to `scores_len · 8`
    // memories; they outlive every use of the handle below.
    let mut sums = vec![0i32; usize::from(call.scores_len) * 8];
    if null & 8 != 0 {
        let value = call.inputs.first().copied().unwrap_or(-1.0);
        // SAFETY: `h` is a live `DamModel`; `sums` holds `sums.len()` `i32`.
        let s = unsafe { dam_model_skip_input(h, value, sums.as_mut_ptr(), sums.len()) };
        status_ok(s);
        // SAFETY: as above.
        let k = unsafe { dam_model_memories(h) } as usize;
        if s == DamStatus::DAM_OK {
            assert!(k <= sums.len());
        }
    }

    let scratch_len = (need as i64 + i64::from(call.scratch_delta)).clamp(0, 1 << 20) as usize;
    let sshift = usize::from(call.scratch_shift % 16);
    let mut scratch = vec![0u64; (scratch_len + sshift).div_ceil(8) + 1];
    // SAFETY: `scratch` holds at least `sshift + scratch_len` bytes.
    let scratch_ptr = unsafe { scratch.as_mut_ptr().cast::<u8>().add(sshift) }.cast::<c_void>();
    let want = (nv as i64 + i64::from(call.len_delta)).clamp(0, 1 << 16) as usize;
    let mut inputs: Vec<f32> = call.inputs.iter().copied().cycle().take(want).collect();
    inputs.resize(want, 0.5);
    let mut levels: Vec<i8> = call.levels.iter().copied().cycle().take(want).collect();
    levels.resize(want, 0);
    let scores_len = usize::from(call.scores_len % 32);
    let mut scores = vec![0.0f32; scores_len.max(1)];
    let mut class = u32::MAX;
    let mut label = 0i32;

    // SAFETY: every pointer points to a live buffer at least as long as
    // the length passed with it (or is NULL); none overlap.
    unsafe {
        let (input_ptr, levels_ptr) = if null & 4 != 0 {
            (std::ptr::null(), std::ptr::null())
        } else {
            (inputs.as_ptr(), levels.as_ptr())
        };
        let s = dam_classify_f32(h, input_ptr, want, scratch_ptr, scratch_len, &mut class);
        status_ok(s);
        if s == DamStatus::DAM_OK {
            assert!(class < nc);
            status_ok(dam_class_label(h, class, &mut label));
        }
        let s = dam_classify_i8(h, levels_ptr, want, scratch_ptr, scratch_len, &mut class);
        status_ok(s);
        if s == DamStatus::DAM_OK {
            assert!(class < nc);
        }
        let s = dam_scores(
            h,
            input_ptr,
            want,
            scratch_ptr,
            scratch_len,
            scores.as_mut_ptr(),
            scores_len,
        );
        status_ok(s);
        if s == DamStatus::DAM_OK {
            assert!(scores[..nc as usize].iter().all(|x| x.is_finite()));
        }
        status_ok(dam_class_label(h, u32::from(call.scores_len), &mut label));
    }
    status_ok(DamStatus::from_code(i32::from(call.len_delta)).unwrap_or(DamStatus::DAM_OK));
    assert!(!dam_status_str(i32::from(call.scratch_delta)).is_null());
}
