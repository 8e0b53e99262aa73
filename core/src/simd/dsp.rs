//! Cortex-M4/M7 DSP extension (`thumbv7em`, `cfg(dam_dsp)`): integer dot
//! products with `smlad` (two 16×16 products added to an `i32`), `smlald`
//! (the same into an `i64`) and `sxtb16` (two bytes sign-extended to two
//! halfwords).
//!
//! Stable Rust has no intrinsics for these (`core::arch::arm`'s DSP functions
//! are nightly-only), so each instruction is one `asm!` behind a safe
//! function; the loops stay in Rust.
//!
//! For `i8`: one 32-bit word holds bytes `b0 b1 b2 b3`; `sxtb16 w` gives the
//! halfwords `(b0, b2)`, `sxtb16 w, ror #8` gives `(b1, b3)`, and two `smlad`
//! add all four products. `smlad` wraps (setting the sticky Q flag) on
//! overflow; the length bound of [`super::integer`] rules that out.
#![allow(unsafe_code)]

/// The bytes 0 and 2 of `x`, sign-extended into the two halfwords.
#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: a register-only instruction; all operands declared.
    unsafe {
        core::arch::asm!("sxtb16 {r}, {x}", x = in(reg) x, r = lateout(reg) r,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// The bytes 1 and 3 of `x`, sign-extended into the two halfwords.
#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: as for `sxtb16`.
    unsafe {
        core::arch::asm!("sxtb16 {r}, {x}, ror #8", x = in(reg) x, r = lateout(reg) r,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `acc + a.lo·b.lo + a.hi·b.hi` of signed halfwords, wrapping.
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only; may set the Q flag (so not `preserves_flags`).
    unsafe {
        core::arch::asm!("smlad {r}, {a}, {b}, {c}", a = in(reg) a, b = in(reg) b,
            c = in(reg) acc, r = lateout(reg) r, options(pure, nomem, nostack));
    }
    r
}

/// `acc + a.lo·b.lo + a.hi·b.hi` of signed halfwords, in 64 bits.
#[inline(always)]
fn smlald(a: u32, b: u32, acc: i64) -> i64 {
    let (mut lo, mut hi) = (acc as u32, (acc >> 32) as u32);
    // SAFETY: register-only; all operands declared.
    unsafe {
        core::arch::asm!("smlald {lo}, {hi}, {a}, {b}", a = in(reg) a, b = in(reg) b,
            lo = inout(reg) lo, hi = inout(reg) hi,
            options(pure, nomem, nostack, preserves_flags));
    }
    ((u64::from(hi) << 32) | u64::from(lo)) as i64
}

/// Four `i8` as one little-endian word.
#[inline(always)]
fn word_i8(c: &[i8]) -> u32 {
    c.first_chunk::<4>()
        .map_or(0, |w| u32::from_le_bytes(w.map(|x| x as u8)))
}

/// Two `i16` as one little-endian word.
#[inline(always)]
fn word_i16(c: &[i16]) -> u32 {
    c.first_chunk::<2>().map_or(0, |&[l, h]| {
        u32::from(l as u16) | (u32::from(h as u16) << 16)
    })
}

/// `Σ a_i b_i` over the common length: 4 entries per `sxtb16`/`smlad` round.
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail = super::scalar::dot_i8(ca.remainder(), cb.remainder());
    let mut acc = tail;
    for (x, y) in ca.zip(cb) {
        let (x, y) = (word_i8(x), word_i8(y));
        acc = smlad(sxtb16(x), sxtb16(y), acc);
        acc = smlad(sxtb16_ror8(x), sxtb16_ror8(y), acc);
    }
    acc
}

/// `Σ a_i b_i` over the common length: 2 entries per `smlald`.
pub(crate) fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let (ca, cb) = (a.chunks_exact(2), b.chunks_exact(2));
    let mut acc = super::scalar::dot_i16(ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc = smlald(word_i16(x), word_i16(y), acc);
    }
    acc
}
