//! Cortex-M4F / M7 single-precision FPU instructions (`thumbv7em-none-eabihf`
//! and `thumbv8m.main-none-eabihf`).
//!
//! Stable `core` has no `f32::sqrt`/`mul_add`, and libm's versions are
//! software routines. The `sreg` register class is not usable on stable for
//! these targets, so values travel through fixed `s` registers.
#![allow(unsafe_code)]

/// The whole inner loop of a two-vector reduction in one `asm!` block:
/// 8 elements per iteration (`vldmia` of 8 registers from each input), 4
/// independent accumulators `s0..s3` so consecutive `vfma.f32` do not wait
/// for each other (the M7 pipelines them), `$op` is the per-element body in
/// terms of `s4..s11` (from `a`) and `s12..s19` (from `b`).
macro_rules! fpu_reduce8 {
    ($a:expr, $b:expr, $iters:expr, $($op:literal),+ $(,)?) => {{
        let r: u32;
        let (mut pa, mut pb, mut n) = ($a, $b, $iters);
        // SAFETY: the caller passes pointers valid for `8·iters` reads and
        // `iters ≥ 1`. The block reads memory only through `pa`/`pb`
        // (`readonly`), writes only the declared registers, and leaves the
        // stack alone; `subs` changes the flags (not `preserves_flags`).
        unsafe {
            core::arch::asm!(
                "vmov s0, s1, {z}, {z}",
                "vmov s2, s3, {z}, {z}",
                "2:",
                "vldmia {pa}!, {{s4-s11}}",
                "vldmia {pb}!, {{s12-s19}}",
                $($op,)+
                "subs {n}, {n}, #1",
                "bne 2b",
                "vadd.f32 s0, s0, s1",
                "vadd.f32 s2, s2, s3",
                "vadd.f32 s0, s0, s2",
                "vmov {r}, s0",
                pa = inout(reg) pa,
                pb = inout(reg) pb,
                n = inout(reg) n,
                z = in(reg) 0u32,
                r = lateout(reg) r,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                options(readonly, nostack),
            );
        }
        let _ = (pa, pb, n);
        f32::from_bits(r)
    }};
}

/// The part of two slices that the `asm!` loop handles: `blocks ≥ 1`
/// whole blocks of 8 elements from `a` and `b` (both point into slices of
/// at least `8·blocks` elements: valid for that many reads).
struct Body {
    a: *const f32,
    b: *const f32,
    blocks: u32,
}

/// Splits the common length of `a` and `b` into whole 8-element blocks
/// (`None` if there are none) and the remainders (0–7 elements, or all of
/// them if the block count does not fit a `u32`).
fn split8<'s>(a: &'s [f32], b: &'s [f32]) -> (Option<Body>, &'s [f32], &'s [f32]) {
    let n = a.len().min(b.len());
    let body = match u32::try_from(n / 8) {
        Ok(blocks) if blocks > 0 => Some(Body {
            a: a.as_ptr(),
            b: b.as_ptr(),
            blocks,
        }),
        _ => None,
    };
    let done = if body.is_some() { n / 8 * 8 } else { 0 };
    (
        body,
        a.get(done..n).unwrap_or(&[]),
        b.get(done..n).unwrap_or(&[]),
    )
}

/// `Σ a_i b_i` with `vfma.f32` and four independent accumulators.
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let (head, ta, tb) = split8(a, b);
    let body = head.map_or(0.0, |h| {
        fpu_reduce8!(
            h.a,
            h.b,
            h.blocks,
            "vfma.f32 s0, s4, s12",
            "vfma.f32 s1, s5, s13",
            "vfma.f32 s2, s6, s14",
            "vfma.f32 s3, s7, s15",
            "vfma.f32 s0, s8, s16",
            "vfma.f32 s1, s9, s17",
            "vfma.f32 s2, s10, s18",
            "vfma.f32 s3, s11, s19",
        )
    });
    body + super::scalar::dot(ta, tb)
}

/// `Σ (a_i − b_i)²` with `vsub.f32` + `vfma.f32`, four accumulators.
pub(crate) fn squared_distance_f32(a: &[f32], b: &[f32]) -> f32 {
    let (head, ta, tb) = split8(a, b);
    let body = head.map_or(0.0, |h| {
        fpu_reduce8!(
            h.a,
            h.b,
            h.blocks,
            "vsub.f32 s4, s4, s12",
            "vsub.f32 s5, s5, s13",
            "vsub.f32 s6, s6, s14",
            "vsub.f32 s7, s7, s15",
            "vsub.f32 s8, s8, s16",
            "vsub.f32 s9, s9, s17",
            "vsub.f32 s10, s10, s18",
            "vsub.f32 s11, s11, s19",
            "vfma.f32 s0, s4, s4",
            "vfma.f32 s1, s5, s5",
            "vfma.f32 s2, s6, s6",
            "vfma.f32 s3, s7, s7",
            "vfma.f32 s0, s8, s8",
            "vfma.f32 s1, s9, s9",
            "vfma.f32 s2, s10, s10",
            "vfma.f32 s3, s11, s11",
        )
    });
    body + super::scalar::squared_distance(ta, tb)
}

/// The Cortex-M FPU kernels of an element type: the `asm!` loops for `f32`,
/// the portable reference for `f64` (no double-precision hardware).
pub(crate) trait Fpu: Sized {
    /// Dot product.
    fn fpu_dot(a: &[Self], b: &[Self]) -> Self;
    /// Squared distance.
    fn fpu_squared_distance(a: &[Self], b: &[Self]) -> Self;
}
impl Fpu for f32 {
    #[inline]
    fn fpu_dot(a: &[f32], b: &[f32]) -> f32 {
        dot_f32(a, b)
    }
    #[inline]
    fn fpu_squared_distance(a: &[f32], b: &[f32]) -> f32 {
        squared_distance_f32(a, b)
    }
}
impl Fpu for f64 {
    #[inline]
    fn fpu_dot(a: &[f64], b: &[f64]) -> f64 {
        super::scalar::dot(a, b)
    }
    #[inline]
    fn fpu_squared_distance(a: &[f64], b: &[f64]) -> f64 {
        super::scalar::squared_distance(a, b)
    }
}
