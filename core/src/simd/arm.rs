//! Cortex-M4F / M7 single-precision FPU instructions (`thumbv7em-none-eabihf`
//! and `thumbv8m.main-none-eabihf`).
//!
//! Stable `core` has no `f32::sqrt`/`mul_add`, and libm's versions are
//! software routines. The `sreg` register class is not usable on stable for
//! these targets, so values travel through fixed `s` registers.
#![allow(unsafe_code)]

/// `a · b + c` with one rounding, by `vfma.f32`.
#[inline]
pub(crate) fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    let r: u32;
    // SAFETY: `vfma.f32` and `vmov` only read and write the named registers,
    // all declared as operands or clobbers; no memory, no stack, no flags.
    // Every eabihf Cortex-M target has an FPv4-SP or newer FPU with VFMA.
    unsafe {
        core::arch::asm!(
            "vmov s0, {a}",
            "vmov s1, {b}",
            "vmov s2, {c}",
            "vfma.f32 s2, s0, s1",
            "vmov {r}, s2",
            a = in(reg) a.to_bits(),
            b = in(reg) b.to_bits(),
            c = in(reg) c.to_bits(),
            r = lateout(reg) r,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    f32::from_bits(r)
}

/// `√a` by `vsqrt.f32` (correctly rounded, as IEEE requires).
#[inline]
pub(crate) fn sqrt_f32(a: f32) -> f32 {
    let r: u32;
    // SAFETY: as for `fma_f32`: register-only instructions, all declared.
    unsafe {
        core::arch::asm!(
            "vmov s0, {a}",
            "vsqrt.f32 s0, s0",
            "vmov {r}, s0",
            a = in(reg) a.to_bits(),
            r = lateout(reg) r,
            out("s0") _,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    f32::from_bits(r)
}
