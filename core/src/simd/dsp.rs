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

/// Entries of the query packed per pass of [`gemv_i8`] (a 2 KiB stack
/// buffer); longer queries are processed in chunks of this many entries.
const PACK_CHUNK: usize = 1024;

/// Many `i8` rows times one vector (the shapes of [`super::scalar::gemv_rows`]),
/// exact in `i32`.
///
/// The query is shared by all rows, so it is unpacked once per chunk of
/// [`PACK_CHUNK`] entries into the halfword pairs `sxtb16` produces from a
/// row word: for entries `x0 x1 x2 x3` the words `(x0, x2)` and `(x1, x3)`
/// (see [`pack_i8`]). The row loop then needs per 4 entries of a row one
/// `ldr`, two `sxtb16` and two `smlad`, and one `ldrd` of the packed query
/// shared by two rows: 11 instructions per 8 multiply-accumulates, unrolled
/// four times (46 per 32 with the loop's `subs`/`bne`, ≈ 1.44). The last
/// 0–3 entries of each row go through the reference.
pub(crate) fn gemv_i8(m: &[i8], d: usize, x: &[i8], out: &mut [i32]) {
    if d == 0 {
        return;
    }
    let n = x.len().min(d);
    let rows = out.len().min(m.len() / d);
    let out = out.get_mut(..rows).unwrap_or(&mut []);
    out.fill(0);
    let n4 = n - n % 4;
    let mut packed = [0u32; PACK_CHUNK / 2];
    let mut start = 0;
    while start < n4 {
        let len = (n4 - start).min(PACK_CHUNK);
        let Some(q) = packed.get_mut(..len / 2) else {
            return;
        };
        pack_i8(part(x, start, len), q);
        let q: &[u32] = q;
        // Sums wrap, as in the reference (`n ≤ MAX_I8_LEN`: they never do).
        let mut m_rows = m.chunks_exact(d);
        let mut pairs = out.chunks_exact_mut(2);
        for o in &mut pairs {
            let (Some(ra), Some(rb)) = (m_rows.next(), m_rows.next()) else {
                break;
            };
            let (a, b) = dot2_packed(part(ra, start, len), part(rb, start, len), q);
            if let [oa, ob] = o {
                *oa = oa.wrapping_add(a);
                *ob = ob.wrapping_add(b);
            }
        }
        if let [o] = pairs.into_remainder() {
            // An odd last row: run it as both rows of the pair.
            let r = part(m_rows.next().unwrap_or(&[]), start, len);
            *o = o.wrapping_add(dot2_packed(r, r, q).0);
        }
        start += len;
    }
    if n4 < n {
        let xt = x.get(n4..n).unwrap_or(&[]);
        for (o, row) in out.iter_mut().zip(m.chunks_exact(d)) {
            *o = o.wrapping_add(super::scalar::dot_i8(row.get(n4..n).unwrap_or(&[]), xt));
        }
    }
}

/// Entries `start..start + len` of `s` (or none), sliced twice: no index sum.
fn part(s: &[i8], start: usize, len: usize) -> &[i8] {
    s.get(start..).and_then(|s| s.get(..len)).unwrap_or(&[])
}

/// Writes `x` (length a multiple of 4, `2·out.len()` entries used) as
/// halfword pairs: entries `x0 x1 x2 x3` become `(x0, x2)`, `(x1, x3)` with
/// the first of each pair in the low halfword, i.e. `sxtb16 w` and
/// `sxtb16 w, ror #8` of the word `w` holding them.
fn pack_i8(x: &[i8], out: &mut [u32]) {
    let words = (x.len() / 4).min(out.len() / 2);
    let Ok(iters) = u32::try_from(words) else {
        return;
    };
    if iters == 0 {
        return;
    }
    let (mut px, mut po, mut it) = (x.as_ptr(), out.as_mut_ptr(), iters);
    // SAFETY: reads `4·iters` bytes from `x` (possibly unaligned `ldr`, as in
    // `dot_i8`) and writes `2·iters` words of `out` (an aligned `[u32]`, as
    // `strd` requires), both within their slices by the `min` above; only
    // the declared registers and the flags change.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {w}, [{px}], #4",
            "sxtb16 {t}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "strd {t}, {w}, [{po}], #8",
            "subs {it}, {it}, #1",
            "bne 2b",
            px = inout(reg) px,
            po = inout(reg) po,
            it = inout(reg) it,
            w = out(reg) _,
            t = out(reg) _,
            options(nostack),
        );
    }
    let _ = (px, po, it);
}

/// `(Σ a_i x_i, Σ b_i x_i)` over the first `2·q.len()` entries (rounded
/// down to a multiple of 4 and to the rows' lengths), with the query `x`
/// packed by [`pack_i8`] into `q`.
fn dot2_packed(a: &[i8], b: &[i8], q: &[u32]) -> (i32, i32) {
    let groups = (a.len().min(b.len()) / 4).min(q.len() / 2);
    let (Ok(blocks), Ok(rest)) = (u32::try_from(groups / 4), u32::try_from(groups % 4)) else {
        return (0, 0);
    };
    let (mut pa, mut pb, mut pq) = (a.as_ptr(), b.as_ptr(), q.as_ptr());
    let (mut acc_a, mut acc_b) = (0i32, 0i32);
    // SAFETY (both blocks): the loops read `16·blocks + 4·rest = 4·groups`
    // bytes of each row (possibly unaligned `ldr`, allowed as in `dot_i8`)
    // and `2·groups` words of `q` (an aligned `[u32]`, as `ldrd` requires),
    // within the slices by the `min`s above; `readonly`, and only the
    // declared registers and the flags change (`smlad` may set Q; the
    // length bound of `super::integer` rules out its overflow).
    if blocks > 0 {
        let mut it = blocks;
        // SAFETY: see above (four groups per iteration).
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrd {x0}, {x1}, [{pq}], #8",
                "ldr {w}, [{pa}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sa}, {w}, {x1}, {sa}",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sb}, {w}, {x1}, {sb}",
                "ldrd {x0}, {x1}, [{pq}], #8",
                "ldr {w}, [{pa}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sa}, {w}, {x1}, {sa}",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sb}, {w}, {x1}, {sb}",
                "ldrd {x0}, {x1}, [{pq}], #8",
                "ldr {w}, [{pa}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sa}, {w}, {x1}, {sa}",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sb}, {w}, {x1}, {sb}",
                "ldrd {x0}, {x1}, [{pq}], #8",
                "ldr {w}, [{pa}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sa}, {w}, {x1}, {sa}",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sb}, {w}, {x1}, {sb}",
                "subs {it}, {it}, #1",
                "bne 2b",
                pa = inout(reg) pa,
                pb = inout(reg) pb,
                pq = inout(reg) pq,
                it = inout(reg) it,
                sa = inout(reg) acc_a,
                sb = inout(reg) acc_b,
                w = out(reg) _,
                t = out(reg) _,
                x0 = out(reg) _,
                x1 = out(reg) _,
                options(readonly, nostack),
            );
        }
        let _ = it;
    }
    if rest > 0 {
        let mut it = rest;
        // SAFETY: see above (the one-group loop of the same registers).
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrd {x0}, {x1}, [{pq}], #8",
                "ldr {w}, [{pa}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sa}, {w}, {x1}, {sa}",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {w}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {sb}, {w}, {x1}, {sb}",
                "subs {it}, {it}, #1",
                "bne 2b",
                pa = inout(reg) pa,
                pb = inout(reg) pb,
                pq = inout(reg) pq,
                it = inout(reg) it,
                sa = inout(reg) acc_a,
                sb = inout(reg) acc_b,
                w = out(reg) _,
                t = out(reg) _,
                x0 = out(reg) _,
                x1 = out(reg) _,
                options(readonly, nostack),
            );
        }
        let _ = it;
    }
    let _ = (pa, pb, pq);
    (acc_a, acc_b)
}
