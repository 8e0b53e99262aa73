//! Quantized memories: integer levels with one scale per memory, and the
//! classifier forward pass on them (math.md §4).
//!
//! Memory `μ` is stored as levels `q^μ_i` (`i8` or `i16`) and a scale
//! `s_μ > 0`, standing for `ξ^μ_i ≈ s_μ q^μ_i`. Queries are quantized with
//! the fixed scale `1/L` (`L` = [`IntKernels::MAX_LEVEL`], 127 or 32 767:
//! pixels and states live in `[−1, 1]`), see [`quantize_query`]. Overlaps
//! are then exact integer dot products ([`crate::simd::integer`]) rescaled
//! once per memory.
//!
//! Two forward passes:
//! * [`QuantizedClassifier`] (`i8` or `i16`): integer dot products, an `f32`
//!   rescale per memory, then the same `f32` scoring as
//!   [`crate::Classifier`] (for cores with an FPU, and the host);
//! * [`FixedClassifier`] (`i8`): everything in fixed point with the `fixed`
//!   crate, saturating and overflow-free by construction (for cores without
//!   an FPU, e.g. Cortex-M0+).
//!
//! ```
//! use dam_core::quantized::{QuantizedClassifier, QuantizedView, quantize_query};
//! use dam_core::{Form, Interaction};
//! // Two memories over 2 pixels + 2 labels: "bright → class 0", "dark → class 1".
//! let levels = [127i8, 127, 127, -127, -127, -127, -127, 127];
//! let view = QuantizedView::new(&levels, &[1.0 / 127.0; 2], 2, 4)?;
//! let clf = QuantizedClassifier::new(view, 2,
//!     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
//! let mut q = [0i8; 2];
//! quantize_query(&[-0.7, -0.9], &mut q)?;
//! let (mut scores, mut scratch) = ([0.0f32; 2], [0.0f32; 2]);
//! assert_eq!(clf.forward(&q, &mut scores, &mut scratch)?, 1);
//! # Ok::<(), dam_core::Error>(())
//! ```

mod classifier;
mod fixed;

pub use classifier::QuantizedClassifier;
pub use fixed::{Arg, FixedClassifier, FixedRow, Score};

use crate::error::ModelError;
use crate::error::{Error, Operand, Param, Result, check_len};
use crate::model::ElementType;
use crate::model::{Model, Preprocessing};
use crate::simd::IntKernels;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
}

/// An integer type memories and queries can be quantized to (`i8`, `i16`).
pub trait Level:
    IntKernels + sealed::Sealed + zerocopy::FromBytes + zerocopy::Immutable + Default + PartialEq
{
    /// Its code in the model format.
    const TYPE: ElementType;
    /// The level as `f32` (exact).
    fn to_f32(self) -> f32;
    /// The level as `i64` (exact).
    fn to_i64(self) -> i64;
    /// An accumulator as `i64` (exact).
    fn acc_to_i64(acc: Self::Acc) -> i64;
    /// `x` (already rounded, inside `±MAX_LEVEL`) as a level.
    fn from_f32(x: f32) -> Self;
    /// `round(clamp(x, −1, 1) · L)` for a finite `x` ([`quantize_query`]):
    /// `f32` arithmetic, rounding half away from zero.
    #[inline]
    fn quantize(x: f32) -> Self {
        Self::from_f32(libm::roundf(x.clamp(-1.0, 1.0) * Self::MAX_LEVEL as f32))
    }
    /// [`quantize_query`]'s loop: `out[i] = Self::quantize(v[i])` for the
    /// entries both have; returns a word whose top bit is set if some
    /// entry is not finite (clear otherwise).
    #[doc(hidden)]
    #[inline(always)]
    fn quantize_slice(v: &[f32], out: &mut [Self]) -> u32 {
        quantize_slice(v, out)
    }
    /// The number of entries of `x` other than `background`
    /// ([`integer_overlaps`] skips the background where at most half are).
    #[doc(hidden)]
    #[inline(always)]
    fn foreground(x: &[Self], background: Self) -> usize {
        foreground(x, background)
    }
    /// The background-skipping row block
    /// ([`crate::simd::gemv_i8_skipping`]) where this type has one (`i8`);
    /// `None` otherwise (the caller then runs the dense kernel).
    fn gemv_skipping(
        memories: &[Self],
        d: usize,
        x: &[Self],
        skip: Skip<'_, Self>,
        out: &mut [Self::Acc],
    ) -> Option<Result<()>> {
        let _ = (memories, d, x, skip, out);
        None
    }
}

/// Background skipping of a classifier
/// ([`QuantizedClassifier::with_background`]): the query value `b` to skip
/// and each memory's overlap with the all-background query, labels
/// included.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Skip<'a, Q> {
    /// The skipped query level.
    pub(crate) background: Q,
    /// `b Σ_{i<Nv} q^μ_i − L Σ_α q^μ_{Nv+α}` per memory: the overlap `t_μ`
    /// of [`integer_overlaps`] before the foreground's
    /// `Σ_{i: v_i ≠ b} q^μ_i (v_i − b)` (wrapping `i32`; `|t_μ| < 2^14 D`
    /// fits for `D ≤` [`crate::simd::MAX_I8_LEN`], so the sum is exact).
    pub(crate) sums: &'a [i32],
}

impl Level for i8 {
    const TYPE: ElementType = ElementType::I8;
    #[inline]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
    #[inline]
    fn acc_to_i64(acc: i32) -> i64 {
        i64::from(acc)
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        x as i8
    }
    /// The same bits as the `f32` arithmetic of the default, in integers
    /// (no float operation: on a core without an FPU each of the default's
    /// compare, multiply and round is a library call).
    #[inline(always)]
    fn quantize(x: f32) -> Self {
        // Hard-float Arm (Cortex-M4F): the FPU's multiply and truncating
        // conversion beat the integer emulation; elsewhere (soft float,
        // and the host, where the exhaustive test pins both) the integers.
        #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
        return quantize_i8_fpu(x);
        #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
        quantize_i8(x)
    }
    /// Four entries per word, read as their bits: a word of four equal
    /// entries (an image's background) is quantized once, and its four
    /// levels reused as long as the next such words hold the same bits
    /// (one comparison and one store each); the others one by one.
    #[inline(always)]
    fn quantize_slice(v: &[f32], out: &mut [i8]) -> u32 {
        let Ok(bits) =
            <[u32] as zerocopy::FromBytes>::ref_from_bytes(zerocopy::IntoBytes::as_bytes(v))
        else {
            return quantize_slice(v, out);
        };
        let mut wide = 0u32;
        // The bits of the last word of four equal entries, and their
        // levels: `+0.0` (finite, level 0) to start with.
        let (mut last, mut levels) = (0u32, [0i8; 4]);
        let (words, _) = bits.as_chunks::<4>();
        let (outs, _) = out.as_chunks_mut::<4>();
        let whole = words.len().min(outs.len());
        #[cfg(all(dam_dsp, target_abi = "eabihf"))]
        let (words, outs) = {
            wide |= quantize_words_fpu(words, outs);
            (&[] as &[[u32; 4]], &mut [] as &mut [[i8; 4]])
        };
        for (o, &[a, b, c, d]) in outs.iter_mut().zip(words) {
            if a == b && a == c && a == d {
                if a != last {
                    last = a;
                    wide |= non_finite(a);
                    levels = [Self::quantize(f32::from_bits(a)); 4];
                }
                *o = levels;
                continue;
            }
            wide |= non_finite(a) | non_finite(b) | non_finite(c) | non_finite(d);
            *o = [a, b, c, d].map(|x| Self::quantize(f32::from_bits(x)));
        }
        // `whole · 4` entries are in both: the multiply never wraps.
        let rest = whole.wrapping_mul(4);
        if let (Some(v), Some(o)) = (v.get(rest..), out.get_mut(rest..)) {
            wide |= quantize_slice(v, o);
        }
        wide
    }
    /// Four entries per word: a word of background only (most of an
    /// image's words) costs one comparison, the others are counted in the
    /// word (the top bit of each byte of `w ⊕ b` set where the byte is
    /// non-zero, then the four bits summed by a multiply).
    #[inline(always)]
    fn foreground(x: &[i8], background: i8) -> usize {
        let all_background = u32::from_ne_bytes([background as u8; 4]);
        let mut words = x.chunks_exact(4);
        let mut n = 0usize;
        for w in &mut words {
            if let &[a, b, c, e] = w {
                let diff =
                    u32::from_ne_bytes([a as u8, b as u8, c as u8, e as u8]) ^ all_background;
                if diff != 0 {
                    // Per byte `(d & 0x7f) + 0x7f ≤ 0xfe`: no carry between bytes.
                    let low = (diff & 0x7f7f_7f7f).wrapping_add(0x7f7f_7f7f);
                    let set = ((low | diff) & 0x8080_8080) >> 7;
                    // The bytes of `set` are 0 or 1: their sum (≤ 4) is the top byte.
                    n = n.wrapping_add((set.wrapping_mul(0x0101_0101) >> 24) as usize);
                }
            }
        }
        n.wrapping_add(foreground(words.remainder(), background))
    }
    fn gemv_skipping(
        memories: &[i8],
        d: usize,
        x: &[i8],
        skip: Skip<'_, i8>,
        out: &mut [i32],
    ) -> Option<Result<()>> {
        let k = out.len().min(skip.sums.len());
        let out = out.get_mut(..k).unwrap_or(&mut []);
        out.copy_from_slice(skip.sums.get(..k).unwrap_or(&[]));
        Some(crate::simd::skipping::add_foreground(
            memories,
            d,
            x,
            skip.background,
            out,
        ))
    }
}

impl Level for i16 {
    const TYPE: ElementType = ElementType::I16;
    #[inline]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
    #[inline]
    fn acc_to_i64(acc: i64) -> i64 {
        acc
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        x as i16
    }
}

/// `q_i = round(L · clamp(v_i, −1, 1))` with `L = Q::MAX_LEVEL`: a query in
/// `[−1, 1]` (pixels, states) as levels of scale `1/L`. Entries outside
/// `[−1, 1]` are clamped. Errors: `out` not as long as `v`, a non-finite
/// entry.
///
/// ```
/// let mut q = [0i8; 4];
/// dam_core::quantized::quantize_query(&[1.0, -1.0, 0.5, 3.0], &mut q)?;
/// assert_eq!(q, [127, -127, 64, 127]);
/// # Ok::<(), dam_core::Error>(())
/// ```
pub fn quantize_query<Q: Level>(v: &[f32], out: &mut [Q]) -> Result<()> {
    check_len(Operand::Output, v.len(), out.len())?;
    // One pass: the finiteness check rides along (on an error `out` holds
    // the levels of the finite entries, 0 for the others), and the first
    // non-finite entry is located only then.
    let wide = Q::quantize_slice(v, out);
    let finite = wide >> 31 == 0;
    if !finite {
        crate::error::check_finite(Operand::Query, v)?;
    }
    Ok(())
}

/// The top bit set exactly for an infinite or NaN `f32` of these bits: a
/// magnitude `≥ 0x7f80_0000` is one whose sum with `0x0080_0000` sets it.
#[inline(always)]
fn non_finite(bits: u32) -> u32 {
    (bits & 0x7fff_ffff).wrapping_add(0x0080_0000)
}

/// `i8`'s [`Level::quantize_slice`] over whole words on hard-float
/// Armv7E-M (Cortex-M4F): per word of four `f32` bit patterns, a word
/// equal to the last repeated one (four equal entries, the background of
/// an image) stores its four levels again (`ldm`, four compares, one
/// `str`); any other word gets each level as [`quantize_i8_fpu`] does, in
/// 15 instructions: `f = ⌊2·fl(|x|·127)⌋` by the truncating, saturating
/// `vcvt.s32` (NaN gives 0), the level `⌈f/2⌉` saturated to `[0, 127]`
/// (`usat`; `|x| ≥ 1` and infinities give 127), negated for a set sign
/// bit. Returns the finiteness word of [`non_finite`] or-ed over the
/// entries of the words it did not reuse (a reused word has the bits of
/// one already counted).
#[cfg(all(dam_dsp, target_abi = "eabihf"))]
#[allow(unsafe_code)]
fn quantize_words_fpu(words: &[[u32; 4]], outs: &mut [[i8; 4]]) -> u32 {
    let n = words.len().min(outs.len());
    if n == 0 {
        return 0;
    }
    let mut wide = 0u32;
    // SAFETY: `pin` walks `words[..n]` (16 bytes per `ldm` of four words,
    // 4-aligned) and `pout` `outs[..n]` (one unaligned `str` per word of
    // four levels; Armv7-M `str` writes unaligned words, the firmware
    // leaves `CCR.UNALIGN_TRP` clear, its reset value), both stopping
    // when `pin` reaches `end = words + n` (`n ≥ 1`); the two do not
    // overlap (a shared and an exclusive borrow). Only the declared
    // registers, `outs[..n]` and the flags change (s14 and s15 are pushed
    // and popped, 8 bytes of stack).
    unsafe {
        let pin = words.as_ptr();
        let end = pin.add(n);
        core::arch::asm!(
            // s14 = 127.0, s15 the product; both saved and restored (the
            // target's single-precision FPU has no `sreg` operands).
            "vpush {{s14, s15}}",
            "movw {t}, #0",
            "movt {t}, #0x42fe",
            "vmov s14, {t}",
            "2:",
            "ldm {pin}!, {{r0, r1, r2, r3}}",
            "cmp r0, {last}",
            "itt eq",
            "cmpeq r1, {last}",
            "cmpeq r2, {last}",
            "it eq",
            "cmpeq r3, {last}",
            "bne 3f",
            "str {levels}, [{pout}], #4",
            "cmp {pin}, {end}",
            "bne 2b",
            "b 4f",
            "3:",
            "bic {t}, r0, #0x80000000",
            "add {t2}, {t}, #0x800000",
            "orr {wide}, {wide}, {t2}",
            "vmov s15, {t}",
            "vmul.f32 s15, s15, s14",
            "vadd.f32 s15, s15, s15",
            "vcvt.s32.f32 s15, s15",
            "vmov {t}, s15",
            "lsrs {t}, {t}, #1",
            "adc {t}, {t}, #0",
            "usat {t}, #7, {t}",
            "cmp r0, #0",
            "it lt",
            "rsblt {t}, {t}, #0",
            "and {word}, {t}, #255",
            "bic {t}, r1, #0x80000000",
            "add {t2}, {t}, #0x800000",
            "orr {wide}, {wide}, {t2}",
            "vmov s15, {t}",
            "vmul.f32 s15, s15, s14",
            "vadd.f32 s15, s15, s15",
            "vcvt.s32.f32 s15, s15",
            "vmov {t}, s15",
            "lsrs {t}, {t}, #1",
            "adc {t}, {t}, #0",
            "usat {t}, #7, {t}",
            "cmp r1, #0",
            "it lt",
            "rsblt {t}, {t}, #0",
            "bfi {word}, {t}, #8, #8",
            "bic {t}, r2, #0x80000000",
            "add {t2}, {t}, #0x800000",
            "orr {wide}, {wide}, {t2}",
            "vmov s15, {t}",
            "vmul.f32 s15, s15, s14",
            "vadd.f32 s15, s15, s15",
            "vcvt.s32.f32 s15, s15",
            "vmov {t}, s15",
            "lsrs {t}, {t}, #1",
            "adc {t}, {t}, #0",
            "usat {t}, #7, {t}",
            "cmp r2, #0",
            "it lt",
            "rsblt {t}, {t}, #0",
            "bfi {word}, {t}, #16, #8",
            "bic {t}, r3, #0x80000000",
            "add {t2}, {t}, #0x800000",
            "orr {wide}, {wide}, {t2}",
            "vmov s15, {t}",
            "vmul.f32 s15, s15, s14",
            "vadd.f32 s15, s15, s15",
            "vcvt.s32.f32 s15, s15",
            "vmov {t}, s15",
            "lsrs {t}, {t}, #1",
            "adc {t}, {t}, #0",
            "usat {t}, #7, {t}",
            "cmp r3, #0",
            "it lt",
            "rsblt {t}, {t}, #0",
            "bfi {word}, {t}, #24, #8",
            "str {word}, [{pout}], #4",
            // Four equal entries: the new repeated word.
            "cmp r0, r1",
            "itt eq",
            "cmpeq r0, r2",
            "cmpeq r0, r3",
            "itt eq",
            "moveq {last}, r0",
            "moveq {levels}, {word}",
            "cmp {pin}, {end}",
            "bne 2b",
            "4:",
            "vpop {{s14, s15}}",
            pin = inout(reg) pin => _,
            pout = inout(reg) outs.as_mut_ptr() => _,
            end = in(reg) end,
            // The repeated word: `+0.0` (finite, level 0) to start with.
            last = inout(reg) 0u32 => _,
            levels = inout(reg) 0u32 => _,
            wide = inout(reg) wide,
            word = out(reg) _,
            t = out(reg) _,
            t2 = out(reg) _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            options(),
        );
    }
    wide
}

/// [`Level::quantize_slice`] entry by entry, four equal entries (an
/// image's background) quantized once.
#[inline(always)]
fn quantize_slice<Q: Level>(v: &[f32], out: &mut [Q]) -> u32 {
    let mut wide = 0u32;
    let mut one = |o: &mut Q, x: f32| {
        wide |= non_finite(x.to_bits());
        *o = quantize_value(x);
    };
    let (mut vs, mut os) = (v.chunks_exact(4), out.chunks_exact_mut(4));
    for (o, x) in (&mut os).zip(&mut vs) {
        if let (&[a, b, c, d], [o0, o1, o2, o3]) = (x, &mut *o) {
            let bits = a.to_bits();
            if bits == b.to_bits() && bits == c.to_bits() && bits == d.to_bits() {
                one(o0, a);
                (*o1, *o2, *o3) = (*o0, *o0, *o0);
                continue;
            }
            one(o0, a);
            one(o1, b);
            one(o2, c);
            one(o3, d);
        }
    }
    for (o, &x) in os.into_remainder().iter_mut().zip(vs.remainder()) {
        one(o, x);
    }
    wide
}

/// One entry of [`quantize_query`]: `round(clamp(x, −1, 1) · L)`.
#[inline(always)]
pub(crate) fn quantize_value<Q: Level>(x: f32) -> Q {
    Q::quantize(x)
}

/// [`quantize_i8`] with the `f32` product (cores with an FPU): `p = |x| ·
/// 127` rounded as the `f32` multiply (which is symmetric in the sign),
/// then half away from zero as `⌊p + ½⌋ = (⌊2p⌋ + 1) / 2`, where `2p` is
/// exact and `⌊2p⌋` is the truncating conversion (saturating: `+∞` gives
/// `u32::MAX`, NaN gives 0), capped at `254` for `|x| ≥ 1`. The same
/// level for every `f32` (exhaustively tested).
#[cfg_attr(
    not(any(test, all(target_arch = "arm", target_abi = "eabihf"))),
    allow(dead_code)
)]
#[inline(always)]
pub(crate) fn quantize_i8_fpu(x: f32) -> i8 {
    let p = x.abs() * 127.0;
    // `p + p` is exact; `⌊2p⌋ ≤ 254` once capped, so `+ 1` never wraps.
    let twice = ((p + p) as u32).min(254);
    let level = (twice.wrapping_add(1) >> 1) as i8;
    if x.to_bits() >> 31 != 0 {
        -level
    } else {
        level
    }
}

/// `round(clamp(x, −1, 1) · 127)` in `f32` arithmetic (the product rounded
/// to nearest even, then half away from zero to an integer), computed on
/// the bits of `x` with integers only. Equal to the `f32` expression for
/// every finite `x` (exhaustively tested); NaN gives 0, infinities `±127`.
#[cfg_attr(
    all(not(test), target_arch = "arm", target_abi = "eabihf"),
    allow(dead_code)
)]
#[inline(always)]
pub(crate) fn quantize_i8(x: f32) -> i8 {
    let bits = x.to_bits();
    let magnitude = bits & 0x7fff_ffff;
    let level: u32 = if magnitude >= 0x3f80_0000 {
        // |x| ≥ 1 (and infinities): clamped.
        if magnitude > 0x7f80_0000 { 0 } else { 127 }
    } else if magnitude < 0x3a80_0000 {
        // |x| < 2⁻¹⁰: |127 x| < 0.125 rounds to 0.
        0
    } else {
        // x = m · 2^e with m of 24 bits, −34 ≤ e ≤ −24: the product
        // m · 127 (30 or 31 bits) rounded to 24 significant bits, ties to
        // even, as the `f32` multiply does ...
        let m = (magnitude & 0x007f_ffff) | 0x0080_0000;
        let e = (magnitude >> 23) as i32 - 150;
        let p = m * 127;
        let drop = if p >= 1 << 30 { 7 } else { 6 };
        let half = 1u32 << (drop - 1);
        let low = p & ((1 << drop) - 1);
        let mut r = p >> drop;
        if low > half || (low == half && r & 1 == 1) {
            r += 1;
        }
        // ... then `r · 2^(e + drop)` rounded half away from zero.
        // `e ≤ −24`: `shift ≥ 17` (the `0` arm is never taken).
        match -e - drop {
            shift @ 1..=31 => (r + (1 << (shift - 1))) >> shift,
            _ => 0,
        }
    };
    // `|x| < 1` rounds to at most 127: the `min` only tells the compiler.
    let level = level.min(127) as i8;
    if bits >> 31 != 0 { -level } else { level }
}

/// `K` quantized memories of dimension `D`: row-major levels and one scale
/// per memory (`ξ^μ_i ≈ scales[μ] · levels[μ·D + i]`), borrowed and checked
/// once.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuantizedView<'a, Q> {
    levels: &'a [Q],
    scales: &'a [f32],
    k: usize,
    d: usize,
}

impl<'a, Q: Level> QuantizedView<'a, Q> {
    /// Views `levels` (`K·D`) with `scales` (`K`). Errors: empty shape,
    /// wrong lengths, a scale that is not finite and `> 0`, `D` beyond
    /// [`IntKernels::MAX_LEN`].
    ///
    /// ```
    /// use dam_core::quantized::QuantizedView;
    /// let v = QuantizedView::new(&[1i8, 2, 3, 4], &[0.5, 0.25], 2, 2)?;
    /// assert_eq!(v.value(1, 0), Some(0.75));
    /// assert!(QuantizedView::new(&[1i8, 2], &[0.0], 1, 2).is_err());
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn new(levels: &'a [Q], scales: &'a [f32], k: usize, d: usize) -> Result<Self> {
        if k == 0 || d == 0 {
            return Err(Error::EmptyMemory);
        }
        check_len(Operand::Memories, k.saturating_mul(d), levels.len())?;
        check_len(Operand::Memories, k, scales.len())?;
        if let Some(&s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParameter {
                param: Param::Scale,
                value: f64::from(s),
            });
        }
        if d > Q::MAX_LEN {
            return Err(Error::InvalidParameter {
                param: Param::Dimension,
                value: d as f64,
            });
        }
        Ok(QuantizedView {
            levels,
            scales,
            k,
            d,
        })
    }

    /// The number of memories `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The dimension `D`.
    pub fn d(&self) -> usize {
        self.d
    }

    /// The levels, row-major.
    pub fn levels(&self) -> &'a [Q] {
        self.levels
    }

    /// The scale of each memory.
    pub fn scales(&self) -> &'a [f32] {
        self.scales
    }

    /// The rows of levels.
    pub fn rows(&self) -> core::slice::ChunksExact<'a, Q> {
        self.levels.chunks_exact(self.d.max(1))
    }

    /// `s_μ q^μ_i`, the value entry `(μ, i)` stands for (`None` outside).
    pub fn value(&self, mu: usize, i: usize) -> Option<f32> {
        if i >= self.d {
            return None;
        }
        let q = self.levels.get(mu.checked_mul(self.d)?.checked_add(i)?)?;
        Some(self.scales.get(mu)? * q.to_f32())
    }

    /// Column `i` as levels paired with their memory's scale.
    pub(crate) fn column(&self, i: usize) -> impl Iterator<Item = (Q, f32)> + Clone + 'a {
        let start = if i < self.d { i } else { self.levels.len() };
        self.levels
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .step_by(self.d.max(1))
            .copied()
            .zip(self.scales.iter().copied())
    }
}

/// The checks both quantized classifiers share: `1 ≤ classes < D`.
fn check_classes(d: usize, classes: usize) -> Result<()> {
    if classes == 0 || classes >= d {
        return Err(Error::InvalidParameter {
            param: Param::Classes,
            value: classes as f64,
        });
    }
    Ok(())
}

/// Calls `each(μ, t_μ)` for every memory, with
/// `t_μ = Σ_{i<Nv} q^μ_i v_i − L Σ_α q^μ_{Nv+α}`: the overlap `ξ^μ·u` in
/// units of `s_μ/L`, exact in `i64` (`|t_μ| ≤ 128·L·D`). Runs the row blocks
/// of [`crate::simd::integer`] 128 memories at a time (a kernel may prepare
/// the query once per call, as the Cortex-M DSP one does); with `skip`, and
/// at most half of the query's entries differing from its background, the
/// background-skipping block instead (the same integers).
fn integer_overlaps<Q: Level>(
    m: &QuantizedView<'_, Q>,
    nv: usize,
    v: &[Q],
    skip: Option<Skip<'_, Q>>,
    mut each: impl FnMut(usize, i64),
) -> Result<()> {
    const BLOCK: usize = 128;
    let isa = crate::simd::Isa::best_integer();
    let mut acc = [<Q::Acc as Default>::default(); BLOCK];
    let l = i64::from(Q::MAX_LEVEL);
    let x = v.get(..nv).unwrap_or(&[]);
    // Skip where at most half the entries are foreground.
    let skip = skip.filter(|s| Q::foreground(x, s.background) <= x.len() / 2);
    // Row indices, handed out in order: no index arithmetic.
    let mut mus = 0..usize::MAX;
    for rows in m.levels.chunks(BLOCK.saturating_mul(m.d).max(1)) {
        let sparse = skip.and_then(|s| {
            let sums = s.sums.get(mus.start..).unwrap_or(&[]);
            Q::gemv_skipping(rows, m.d, x, Skip { sums, ..s }, &mut acc)
        });
        let labelled = match sparse {
            // The skip's sums hold the labels' part.
            Some(done) => {
                done?;
                true
            }
            None => {
                Q::int_gemv_on(isa, rows, m.d, x, &mut acc)?;
                false
            }
        };
        for ((row, &a), mu) in rows.chunks_exact(m.d.max(1)).zip(acc.iter()).zip(&mut mus) {
            if labelled {
                each(mu, Q::acc_to_i64(a));
                continue;
            }
            // Wrapping, as the integer kernels' sums; exact for rows of
            // fewer than 2^32 labels (`|l · Σ labels| < 2^62`).
            let labels = row.get(nv..).unwrap_or(&[]);
            let label_sum = label_sum(labels);
            each(mu, Q::acc_to_i64(a).wrapping_sub(l.wrapping_mul(label_sum)));
        }
    }
    Ok(())
}

/// The number of entries of `x` other than `background`. The count is at
/// most `x.len()`, so the add never wraps: `wrapping_add` is the plain add
/// without the overflow check the optimizer cannot remove (a saturating
/// add costs 2% of an MNIST classification on a Cortex-M4).
#[inline(always)]
fn foreground<Q: Level>(x: &[Q], background: Q) -> usize {
    x.iter()
        .map(|&q| usize::from(q != background))
        .fold(0, usize::wrapping_add)
}

/// `t as f32`, through `i32` where `t` fits (the overlaps always do): the
/// same rounded value, one `vcvt` on a 32-bit FPU instead of a library
/// call for the 64-bit conversion.
#[inline(always)]
pub(crate) fn i64_to_f32(t: i64) -> f32 {
    // Out of line, so that the optimizer does not compute both conversions
    // and select.
    #[cold]
    #[inline(never)]
    fn wide(t: i64) -> f32 {
        t as f32
    }
    match i32::try_from(t) {
        Ok(t) => t as f32,
        Err(_) => wide(t),
    }
}

/// `Σ q` over a row's label entries, in `i64`; summed in `i32` (one
/// register on a 32-bit core) where it cannot wrap: fewer than `2^16`
/// labels of at most `2^15` in magnitude.
#[inline(always)]
fn label_sum<Q: Level>(labels: &[Q]) -> i64 {
    if labels.len() < 1 << 16 {
        // `|Σ| < 2^16 · 2^15 = 2^31`: the `i32` sum is exact.
        i64::from(
            labels
                .iter()
                .fold(0i32, |s, q| s.wrapping_add(q.to_i64() as i32)),
        )
    } else {
        labels.iter().fold(0i64, |s, q| s.wrapping_add(q.to_i64()))
    }
}

/// Built from a model file: the model format sits below the algorithms
/// (docs/architecture.md), each algorithm builds itself from a [`Model`].
impl<'a> Model<'a> {
    /// The quantized memories as a `K × D` view of levels with their
    /// per-memory scales (no copy). Errors: another element type, or a
    /// scale that is not finite and `> 0`.
    pub fn quantized<Q: Level>(&self) -> Result<QuantizedView<'a, Q>> {
        if self.header().element != Q::TYPE {
            return Err(ModelError::ElementType {
                stored: self.header().element,
                requested: Q::TYPE,
            }
            .into());
        }
        let misaligned = ModelError::Misaligned {
            offset: self.header().data_offset(),
            align: Q::TYPE.align(),
        };
        let levels = <[Q] as zerocopy::FromBytes>::ref_from_bytes(self.memory_bytes())
            .map_err(|_| misaligned)?;
        let scales = <[f32] as zerocopy::FromBytes>::ref_from_bytes(self.scale_bytes())
            .map_err(|_| misaligned)?;
        QuantizedView::new(levels, scales, self.header().k as usize, self.header().d())
    }

    /// The quantized classifier this model stores, with the `f32`
    /// rescale. Errors: not a [`Kind::Classifier`](crate::model::Kind::Classifier), or those of
    /// [`Model::quantized`].
    pub fn quantized_classifier<Q: Level>(&self) -> Result<QuantizedClassifier<'a, Q>> {
        self.expect_classifier()?;
        QuantizedClassifier::new(
            self.quantized()?,
            self.header().nc as usize,
            self.interaction(),
            self.form(),
        )
    }

    /// The `i8` classifier this model stores, evaluated in fixed point
    /// (no FPU needed). Errors: those of [`Model::quantized_classifier`]
    /// and of [`FixedClassifier::new`].
    pub fn fixed_classifier(&self) -> Result<FixedClassifier<'a>> {
        let c = self.quantized_classifier::<i8>()?;
        FixedClassifier::new(c.memories(), c.classes(), c.interaction(), c.form())
    }
}

/// [`Model::quantized`].
impl<'a, Q: Level> TryFrom<&Model<'a>> for QuantizedView<'a, Q> {
    type Error = Error;
    fn try_from(model: &Model<'a>) -> Result<Self> {
        model.quantized()
    }
}

/// [`Model::quantized_classifier`].
impl<'a, Q: Level> TryFrom<&Model<'a>> for QuantizedClassifier<'a, Q> {
    type Error = Error;
    fn try_from(model: &Model<'a>) -> Result<Self> {
        model.quantized_classifier()
    }
}

/// [`Model::fixed_classifier`].
impl<'a> TryFrom<&Model<'a>> for FixedClassifier<'a> {
    type Error = Error;
    fn try_from(model: &Model<'a>) -> Result<Self> {
        model.fixed_classifier()
    }
}

impl Preprocessing<'_> {
    /// [`Preprocessing::apply`], then the query quantization of the `i8`
    /// and `i16` models ([`crate::quantized::quantize_query`]: clamp to
    /// `[−1, 1]`, scale by `L`, round), entry by entry with no `f32`
    /// buffer: a board with a quantized model feeds raw values. Errors as
    /// [`Preprocessing::apply`].
    ///
    /// ```
    /// use dam_core::model::Preprocessing;
    /// let map = Preprocessing::new(&[0.5, 0.5, 1.0], &[-1.0, 0.0, 0.0])?;
    /// let mut q = [0i8; 3];
    /// map.apply_quantized(&[3.0, 1.0, -7.0], &mut q)?;
    /// assert_eq!(q, [64, 64, -127]); // 0.5, 0.5, −1 (clamped)
    /// let mut q16 = [0i16; 3];
    /// map.apply_quantized(&[2.0, 0.0, 0.25], &mut q16)?;
    /// assert_eq!(q16, [0, 0, 8192]);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn apply_quantized<Q: Level>(&self, raw: &[f32], out: &mut [Q]) -> Result<()> {
        self.apply_with(raw, out, quantize_value::<Q>)
    }
}

#[cfg(test)]
mod tests;
