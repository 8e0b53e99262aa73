//! Cortex-M4/M7 DSP extension (`thumbv7em`, `cfg(dam_dsp)`): integer dot
//! products with `smlad` (two 16×16 products added to an `i32`), `smlald`
//! (the same into an `i64`) and `sxtb16` (two bytes sign-extended to two
//! halfwords).
//!
//! Stable Rust has no intrinsics for these (`core::arch::arm`'s DSP functions
//! are nightly-only), so each kernel's whole loop is one `asm!` block behind
//! a safe function (as `arm.rs` does for `vfma.f32`).
//!
//! For `i8`: one 32-bit word holds bytes `b0 b1 b2 b3`; `sxtb16 w` gives the
//! halfwords `(b0, b2)`, `sxtb16 w, ror #8` gives `(b1, b3)`, and two `smlad`
//! add all four products. `smlad` wraps (setting the sticky Q flag) on
//! overflow; the length bound of [`super::integer`] rules that out.
#![allow(unsafe_code)]

/// `Σ a_i b_i` over the common length. The body is one `asm!` loop, 8
/// entries per iteration: per word of 4 entries one `ldr` from each input,
/// two `sxtb16` each, two `smlad` (18 instructions per 8 entries); the
/// 0–7 remaining entries go through the reference.
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let blocks = n / 8;
    let done = blocks * 8;
    let tail = super::scalar::dot_i8(a.get(done..n).unwrap_or(&[]), b.get(done..n).unwrap_or(&[]));
    let Ok(iters) = u32::try_from(blocks) else {
        return super::scalar::dot_i8(a, b);
    };
    if iters == 0 {
        return tail;
    }
    let (mut pa, mut pb, mut it, mut acc) = (a.as_ptr(), b.as_ptr(), iters, tail);
    // SAFETY: `pa` and `pb` point into slices of at least `8·iters` entries
    // and the loop reads exactly that many bytes from each (`readonly`),
    // with word loads that need not be aligned (`ldr` allows unaligned
    // addresses on Armv7-M unless `CCR.UNALIGN_TRP` is set, which this
    // crate never does and the reset value leaves clear). Only the declared
    // registers and the flags (`subs`; `smlad` may set Q) change.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "sxtb16 {x}, {wa}",
            "sxtb16 {y}, {wb}",
            "smlad {acc}, {x}, {y}, {acc}",
            "sxtb16 {x}, {wa}, ror #8",
            "sxtb16 {y}, {wb}, ror #8",
            "smlad {acc}, {x}, {y}, {acc}",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "sxtb16 {x}, {wa}",
            "sxtb16 {y}, {wb}",
            "smlad {acc}, {x}, {y}, {acc}",
            "sxtb16 {x}, {wa}, ror #8",
            "sxtb16 {y}, {wb}, ror #8",
            "smlad {acc}, {x}, {y}, {acc}",
            "subs {it}, {it}, #1",
            "bne 2b",
            pa = inout(reg) pa,
            pb = inout(reg) pb,
            it = inout(reg) it,
            acc = inout(reg) acc,
            wa = out(reg) _,
            wb = out(reg) _,
            x = out(reg) _,
            y = out(reg) _,
            options(readonly, nostack),
        );
    }
    let _ = (pa, pb, it);
    acc
}

/// `Σ a_i b_i` over the common length: one `asm!` loop, 8 entries per
/// iteration, one `ldr` per 2 entries of each input and one `smlald` (both
/// products into the 64-bit accumulator) per 2 entries (14 instructions per
/// 8 entries); the 0–7 remaining entries go through the reference.
pub(crate) fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
    let n = a.len().min(b.len());
    let blocks = n / 8;
    let done = blocks * 8;
    let tail = super::scalar::dot_i16(a.get(done..n).unwrap_or(&[]), b.get(done..n).unwrap_or(&[]));
    let Ok(iters) = u32::try_from(blocks) else {
        return super::scalar::dot_i16(a, b);
    };
    if iters == 0 {
        return tail;
    }
    let (mut lo, mut hi) = (tail as u32, (tail >> 32) as u32);
    let (mut pa, mut pb, mut it) = (a.as_ptr(), b.as_ptr(), iters);
    // SAFETY: as for `dot_i8`: `8·iters` entries (`16·iters` bytes) read
    // from each slice by possibly unaligned `ldr`, declared registers and
    // flags only.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "smlald {lo}, {hi}, {wa}, {wb}",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "smlald {lo}, {hi}, {wa}, {wb}",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "smlald {lo}, {hi}, {wa}, {wb}",
            "ldr {wa}, [{pa}], #4",
            "ldr {wb}, [{pb}], #4",
            "smlald {lo}, {hi}, {wa}, {wb}",
            "subs {it}, {it}, #1",
            "bne 2b",
            pa = inout(reg) pa,
            pb = inout(reg) pb,
            it = inout(reg) it,
            lo = inout(reg) lo,
            hi = inout(reg) hi,
            wa = out(reg) _,
            wb = out(reg) _,
            options(readonly, nostack),
        );
    }
    let _ = (pa, pb, it);
    ((u64::from(hi) << 32) | u64::from(lo)) as i64
}
