//! `i8` row blocks that skip the query's background: many rows times one
//! vector when most of the vector's entries share one value `b` (the
//! background pixels of an image, `−127` for MNIST quantized to `[−1, 1]`).
//!
//! `Σ_i ξ_i x_i = b Σ_i ξ_i + Σ_{i: x_i ≠ b} ξ_i (x_i − b)`: with the row
//! sums `Σ_i ξ_i` computed once ([`row_sums_i8`]), a query costs one
//! multiply-accumulate per row and *non-background* entry instead of one per
//! entry. On an MNIST digit about 19% of the pixels are not background, so
//! a fifth of the multiply-accumulates remain; on a Cortex-M4 (DSP
//! extension) the non-background entries are listed as groups of four
//! consecutive ones, a row word each (`sxtb16` + `smlad`), and the overlaps
//! take 30% of the dense DSP kernel's instructions (BENCHMARKS.md). On
//! x86 the dense AVX2 kernel ([`super::gemv_i8`]) is 2.2× faster: use this
//! one where it measures faster.
//!
//! Exactness: products are at most `128 · 255` in magnitude, so partial sums
//! of long rows can leave `i32`; they wrap (two's complement), and since the
//! result equals the dense sum, which fits `i32` for rows up to
//! [`MAX_I8_LEN`], the wrapped result is exact. The tests compare with
//! [`super::scalar::dot_i8`] bit for bit.

use super::integer::MAX_I8_LEN;
use crate::error::{Error, Param, Result};

/// Non-background entries listed per pass (8 bytes each on the stack).
const LIST: usize = 256;

/// The non-background entries `(i, x_i − b)` of a stretch of the query,
/// every index below `bound`, padded with `(0, 0)` to an even length (the
/// Cortex-M loop takes two per pass). Only [`add_foreground`] builds one,
/// which is what lets the kernels index rows of `bound` entries unchecked.
pub(crate) struct List<'a> {
    entries: &'a [[i32; 2]],
    #[cfg_attr(not(dam_dsp), allow(dead_code))]
    bound: usize,
}

impl<'a> List<'a> {
    /// The entries, an even number.
    pub(crate) fn entries(&self) -> &'a [[i32; 2]] {
        self.entries
    }

    /// Every index is below this.
    #[cfg_attr(not(dam_dsp), allow(dead_code))]
    pub(crate) fn bound(&self) -> usize {
        self.bound
    }
}

/// `out[μ] = Σ_{i<n} ξ^μ_i`, `n = min(n, d)`, for every row of `memories`
/// (`d` entries each) that `out` has room for: the row sums
/// [`gemv_i8_skipping`] needs, computed once per memory set. Errors: `n`
/// exceeds [`MAX_I8_LEN`].
///
/// ```
/// let mut sums = [0i32; 2];
/// dam_core::simd::row_sums_i8(&[1, 2, 3, -4, -5, -6], 3, 2, &mut sums)?;
/// assert_eq!(sums, [3, -9]);
/// # Ok::<(), dam_core::Error>(())
/// ```
pub fn row_sums_i8(memories: &[i8], d: usize, n: usize, out: &mut [i32]) -> Result<()> {
    let n = n.min(d);
    check_len(n)?;
    if d == 0 {
        return Ok(());
    }
    for (o, row) in out.iter_mut().zip(memories.chunks_exact(d)) {
        // Wrapping, as the other integer kernels (`n ≤ MAX_I8_LEN`: the
        // sum fits).
        *o = row
            .get(..n)
            .unwrap_or(&[])
            .iter()
            .fold(0i32, |s, &q| s.wrapping_add(i32::from(q)));
    }
    Ok(())
}

/// Many `i8` rows times one vector, skipping the entries of `x` equal to
/// `background`: `out[μ] = Σ_{i<n} ξ^μ_i x_i`, `n = min(x.len(), d)`, the
/// result of [`super::gemv_i8`], provided `sums[μ] = Σ_{i<n} ξ^μ_i`
/// ([`row_sums_i8`] with the same `n`). Rows: as many as `memories`,
/// `sums` and `out` all have. Errors: `n` exceeds [`MAX_I8_LEN`].
///
/// ```
/// use dam_core::simd::{gemv_i8_skipping, row_sums_i8};
/// let xi = [1i8, 2, 3, -4, -5, -6]; // 2 rows of 3
/// let x = [-127i8, 5, -127];        // background −127
/// let mut sums = [0i32; 2];
/// row_sums_i8(&xi, 3, x.len(), &mut sums)?;
/// let mut out = [0i32; 2];
/// gemv_i8_skipping(&xi, 3, &x, -127, &sums, &mut out)?;
/// assert_eq!(out, [-127 + 10 - 381, 508 - 25 + 762]);
/// # Ok::<(), dam_core::Error>(())
/// ```
pub fn gemv_i8_skipping(
    memories: &[i8],
    d: usize,
    x: &[i8],
    background: i8,
    sums: &[i32],
    out: &mut [i32],
) -> Result<()> {
    let n = x.len().min(d);
    check_len(n)?;
    if d == 0 {
        return Ok(());
    }
    let k = out.len().min(sums.len()).min(memories.len() / d);
    let out = out.get_mut(..k).unwrap_or(&mut []);
    let b = i32::from(background);
    for (o, &s) in out.iter_mut().zip(sums) {
        *o = b.wrapping_mul(s);
    }
    add_foreground(memories, d, x, background, out)
}

/// The second half of [`gemv_i8_skipping`]: adds `Σ_{i<n: x_i ≠ b} ξ^μ_i (x_i − b)`
/// (`n = min(x.len(), d)`) to every `out[μ]` for as many rows as
/// `memories` and `out` have (wrapping). Errors: `n` exceeds
/// [`MAX_I8_LEN`].
pub(crate) fn add_foreground(
    memories: &[i8],
    d: usize,
    x: &[i8],
    background: i8,
    out: &mut [i32],
) -> Result<()> {
    let n = x.len().min(d);
    check_len(n)?;
    if d == 0 {
        return Ok(());
    }
    let k = out.len().min(memories.len() / d);
    let out = out.get_mut(..k).unwrap_or(&mut []);
    let b = i32::from(background);
    let x = x.get(..n).unwrap_or(&[]);
    #[cfg(dam_dsp)]
    if n >= 4 {
        for_groups(x, background, |g| apply_groups(memories, d, &g, out));
        return Ok(());
    }
    let mut buf = [[0i32; 2]; LIST];
    let mut m = 0;
    let mut push = |i: usize, v: i8, out: &mut [i32]| {
        if let Some(e) = buf.get_mut(m) {
            *e = [i as i32, i32::from(v) - b];
            m += 1;
        }
        if m == LIST {
            apply(memories, d, &list(&mut buf, m, n), out);
            m = 0;
        }
    };
    // Four entries per word: a word of background only (most of an
    // image's words) costs one comparison.
    let all_background = u32::from_ne_bytes([background as u8; 4]);
    // Indices come from ranges below `n`: no index arithmetic.
    let mut words = x.chunks_exact(4);
    for (start, four) in (0..n).step_by(4).zip(&mut words) {
        if let &[a, b, c, e] = four
            && u32::from_ne_bytes([a as u8, b as u8, c as u8, e as u8]) == all_background
        {
            continue;
        }
        for (i, &v) in (start..n).zip(four) {
            if v != background {
                push(i, v, out);
            }
        }
    }
    for (i, &v) in (n - n % 4..n).zip(words.remainder()) {
        if v != background {
            push(i, v, out);
        }
    }
    if m > 0 {
        apply(memories, d, &list(&mut buf, m, n), out);
    }
    Ok(())
}

/// The first `m` entries of `buf` as a [`List`] with indices below `n`,
/// padded to an even length (`LIST` is even, so the padding fits).
fn list(buf: &mut [[i32; 2]; LIST], m: usize, n: usize) -> List<'_> {
    let m = m.min(LIST);
    let even = m + m % 2;
    if let Some(e) = buf.get_mut(m..even) {
        e.fill([0, 0]);
    }
    List {
        entries: buf.get(..even).unwrap_or(&[]),
        bound: n,
    }
}

/// Adds `Σ_l ξ^μ_{i_l} u_l` over the list to every `out[μ]` (`out` no
/// longer than the rows).
fn apply(memories: &[i8], d: usize, list: &List<'_>, out: &mut [i32]) {
    #[cfg(not(dam_dsp))]
    let first = 0;
    #[cfg(dam_dsp)]
    let first = skip_rows3(memories, d, list, out);
    let rows = memories.chunks_exact(d).zip(out.iter_mut()).skip(first);
    for (row, o) in rows {
        let mut acc = *o;
        for &[i, u] in list.entries() {
            let q = row.get(i as usize).map_or(0, |&q| i32::from(q));
            acc = acc.wrapping_add(q.wrapping_mul(u));
        }
        *o = acc;
    }
}

/// The Cortex-M4/M7 DSP-extension kernel (`cfg(dam_dsp)`; here and not in
/// `dsp.rs` because it reads a [`List`], whose invariant only this module
/// can keep): adds `Σ_l row_μ[i_l] · u_l` over the entries `(i_l, u_l)` of `list` to
/// `out[μ]` for the rows of `memories` (`d` entries each) in whole blocks of
/// three, and returns how many rows it did (the caller does the other 0–2).
/// One `asm!` loop per block, two entries per pass: per entry one `ldrd` of
/// `(i, u)` and per row `ldrsb` + `mla` (16 instructions per 6
/// multiply-accumulates). Sums wrap, as the callers expect. Does nothing
/// (returns 0) if the rows are shorter than the list's bound.
#[cfg(dam_dsp)]
#[allow(unsafe_code)]
fn skip_rows3(memories: &[i8], d: usize, list: &List<'_>, out: &mut [i32]) -> usize {
    let entries = list.entries();
    if entries.is_empty() || !entries.len().is_multiple_of(2) || d < list.bound() || d == 0 {
        return 0;
    }
    let rows = out.len().min(memories.len() / d);
    let blocks = rows / 3;
    let pl0 = entries.as_ptr();
    let mut m_rows = memories.chunks_exact(d);
    for o in out.chunks_exact_mut(3).take(blocks) {
        // `blocks ≤ rows / 3`, and `memories` has `rows` rows.
        let ([o0, o1, o2], Some(r0), Some(r1), Some(r2)) =
            (o, m_rows.next(), m_rows.next(), m_rows.next())
        else {
            return 0;
        };
        let (p0, p1, p2) = (r0.as_ptr(), r1.as_ptr(), r2.as_ptr());
        let (mut a0, mut a1, mut a2) = (*o0, *o1, *o2);
        // SAFETY: `pl..end` spans `entries` (an even, non-zero number of
        // 8-byte entries, read two per pass with word-aligned `ldrd`:
        // `[i32; 2]` is 4-aligned); every index `i` is below `list.bound()
        // ≤ d` (the invariant of `List`, which only this module builds), so
        // `pk + i` reads inside row `rk` (`d` entries). Only the
        // declared registers and the flags (`cmp`) change.
        unsafe {
            let end = pl0.add(entries.len());
            core::arch::asm!(
                "2:",
                ".rept 2",
                "ldrd {i}, {u}, [{pl}], #8",
                "ldrsb {t}, [{p0}, {i}]",
                "mla {a0}, {t}, {u}, {a0}",
                "ldrsb {t}, [{p1}, {i}]",
                "mla {a1}, {t}, {u}, {a1}",
                "ldrsb {t}, [{p2}, {i}]",
                "mla {a2}, {t}, {u}, {a2}",
                ".endr",
                "cmp {pl}, {end}",
                "bne 2b",
                pl = inout(reg) pl0 => _,
                end = in(reg) end,
                p0 = in(reg) p0,
                p1 = in(reg) p1,
                p2 = in(reg) p2,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                i = out(reg) _,
                u = out(reg) _,
                t = out(reg) _,
                options(readonly, nostack),
            );
        }
        (*o0, *o1, *o2) = (a0, a1, a2);
    }
    3 * blocks
}

/// Groups listed per pass (12 bytes each on the stack).
#[cfg_attr(not(any(dam_dsp, test)), allow(dead_code))]
const GROUPS: usize = 64;

/// Groups of four consecutive query entries `i..i + 4` that cover the
/// non-background ones: `[i, u_i | u_{i+2} << 16, u_{i+1} | u_{i+3} << 16]`
/// with `u_j = x_j − b` as 16-bit halves (`0` for an entry another group
/// covers), every `i + 4 ≤ bound`. A row's four levels at `i` are one
/// (unaligned) word whose `sxtb16` halves pair with the two packed words:
/// two `smlad` per group and row. Only [`for_groups`] builds one, which
/// is what lets the kernels read rows of `bound` entries unchecked.
#[cfg_attr(not(any(dam_dsp, test)), allow(dead_code))]
pub(crate) struct Groups<'a> {
    entries: &'a [[i32; 3]],
    #[cfg_attr(not(dam_dsp), allow(dead_code))]
    bound: usize,
}

/// Calls `each` with the [`Groups`] covering the entries of `x` other than
/// `background`, up to [`GROUPS`] at a time (nothing if `x` has fewer than
/// four entries). Greedy: a group starts at the first entry not yet
/// covered (moved back to end at `x.len()`), which gives the fewest
/// groups; an image's rows of four background entries cost one
/// comparison each.
#[cfg_attr(not(any(dam_dsp, test)), allow(dead_code))]
fn for_groups(x: &[i8], background: i8, mut each: impl FnMut(Groups<'_>)) {
    let n = x.len();
    let Some(last) = n.checked_sub(4) else {
        return;
    };
    let b = i32::from(background);
    let mut buf = [[0i32; 3]; GROUPS];
    let mut m = 0;
    // Entries below `covered` are in a group.
    let mut covered = 0usize;
    let all_background = u32::from_ne_bytes([background as u8; 4]);
    let pack = |lo: i32, hi: i32| (lo & 0xffff) | (hi << 16);
    let mut words = x.chunks_exact(4);
    // The index of the word's first entry, at most `n`: the adds never wrap.
    let mut start = 0usize;
    let stretches = core::iter::from_fn(|| {
        for four in &mut words {
            let at = start;
            start = start.wrapping_add(4);
            if let &[a, b, c, e] = four
                && u32::from_ne_bytes([a as u8, b as u8, c as u8, e as u8]) == all_background
            {
                continue;
            }
            return Some((at, four));
        }
        None
    });
    let tail = (n & !3, x.get(n & !3..).unwrap_or(&[]));
    for (start, four) in stretches.chain(core::iter::once(tail)) {
        for (j, &v) in (start..n).zip(four) {
            if v == background || j < covered {
                continue;
            }
            let s = j.min(last);
            let Some(&[w0, w1, w2, w3]) = x.get(s..).and_then(|w| w.get(..4)) else {
                continue;
            };
            // The entries before `covered` belong to the previous group.
            let done = covered.saturating_sub(s);
            let u = |k: usize, w: i8| if k < done { 0 } else { i32::from(w) - b };
            if let Some(e) = buf.get_mut(m) {
                *e = [s as i32, pack(u(0, w0), u(2, w2)), pack(u(1, w1), u(3, w3))];
                m += 1;
            }
            covered = s.saturating_add(4);
            if m == GROUPS {
                each(Groups {
                    entries: &buf,
                    bound: n,
                });
                m = 0;
            }
        }
    }
    if m > 0 {
        each(Groups {
            entries: buf.get(..m).unwrap_or(&[]),
            bound: n,
        });
    }
}

/// Adds `Σ_g Σ_{k<4} ξ^μ_{i_g+k} u_{i_g+k}` over the groups to every
/// `out[μ]` (`out` no longer than the rows): the Cortex-M DSP kernel for
/// whole blocks of three rows, this loop for the others.
#[cfg_attr(not(any(dam_dsp, test)), allow(dead_code))]
fn apply_groups(memories: &[i8], d: usize, groups: &Groups<'_>, out: &mut [i32]) {
    #[cfg(not(dam_dsp))]
    let first = 0;
    #[cfg(dam_dsp)]
    let first = groups_rows3(memories, d, groups, out);
    let lo = |u: i32| i32::from(u as i16);
    let rows = memories
        .chunks_exact(d.max(1))
        .zip(out.iter_mut())
        .skip(first);
    for (row, o) in rows {
        let mut acc = *o;
        for &[i, u02, u13] in groups.entries {
            let Some(&[a, b, c, e]) = row.get(i as usize..).and_then(|r| r.get(..4)) else {
                continue;
            };
            let terms = [(a, lo(u02)), (b, lo(u13)), (c, u02 >> 16), (e, u13 >> 16)];
            for (q, u) in terms {
                acc = acc.wrapping_add(i32::from(q).wrapping_mul(u));
            }
        }
        *o = acc;
    }
}

/// The DSP loop of [`apply_groups`]: adds the groups' products to `out[μ]`
/// for the rows of `memories` (`d` entries each) in whole blocks of three,
/// and returns how many rows it did. Per group one `ldm` of the entry, and
/// per row an unaligned `ldr` of four levels, two `sxtb16` and two `smlad`;
/// two groups per pass (17 instructions per group and 12
/// multiply-accumulates). Sums wrap
/// (`smlad` only sets the sticky Q flag). Does nothing (returns 0) if the
/// rows are shorter than the groups' bound.
#[cfg(dam_dsp)]
#[allow(unsafe_code)]
fn groups_rows3(memories: &[i8], d: usize, groups: &Groups<'_>, out: &mut [i32]) -> usize {
    let entries = groups.entries;
    if entries.is_empty() || d < groups.bound || d == 0 {
        return 0;
    }
    let pl0 = entries.as_ptr();
    // Blocks of three whole rows (`3d` entries, `d ≥ 1`) and their sums.
    let (blocks, _) = out.as_chunks_mut::<3>();
    let mut done = 0usize;
    for (o, rows) in blocks
        .iter_mut()
        .zip(memories.chunks_exact(d.saturating_mul(3).max(3)))
    {
        // Rows `3b`, `3b + 1`, `3b + 2`: inside `rows` (`wrapping_add`
        // stays in bounds, so it is the plain add).
        let p0 = rows.as_ptr();
        let (p1, p2) = (p0.wrapping_add(d), p0.wrapping_add(d.wrapping_mul(2)));
        let [o0, o1, o2] = o;
        let (mut a0, mut a1, mut a2) = (*o0, *o1, *o2);
        // SAFETY: `pl..end` spans `entries` (a non-zero number of 12-byte,
        // 4-aligned entries, each read by one `ldm` of its three words into
        // r0–r2; an odd count skips the first half of the first pass, so
        // the loop ends exactly at `end`); every `i + 4 ≤ groups.bound ≤ d` (the invariant
        // of `Groups`, which only this module builds), so the word at
        // `pk + i` lies inside row `rk` (`d` entries). Armv7-M `ldr` reads
        // unaligned words (the firmware leaves `CCR.UNALIGN_TRP` clear, its
        // reset value). Only the declared registers and the flags change.
        unsafe {
            let end = pl0.add(entries.len());
            // Two groups per pass; an odd count enters at the second.
            let odd = entries.len() & 1;
            core::arch::asm!(
                "cmp {t}, #0",
                "bne 3f",
                "2:",
                "ldm {pl}!, {{r0, r1, r2}}",
                "ldr {t}, [{p0}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a0}, {x}, r1, {a0}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a0}, {x}, r2, {a0}",
                "ldr {t}, [{p1}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a1}, {x}, r1, {a1}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a1}, {x}, r2, {a1}",
                "ldr {t}, [{p2}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a2}, {x}, r1, {a2}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a2}, {x}, r2, {a2}",
                "3:",
                "ldm {pl}!, {{r0, r1, r2}}",
                "ldr {t}, [{p0}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a0}, {x}, r1, {a0}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a0}, {x}, r2, {a0}",
                "ldr {t}, [{p1}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a1}, {x}, r1, {a1}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a1}, {x}, r2, {a1}",
                "ldr {t}, [{p2}, r0]",
                "sxtb16 {x}, {t}",
                "smlad {a2}, {x}, r1, {a2}",
                "sxtb16 {x}, {t}, ror #8",
                "smlad {a2}, {x}, r2, {a2}",
                "cmp {pl}, {end}",
                "bne 2b",
                pl = inout(reg) pl0 => _,
                end = in(reg) end,
                p0 = in(reg) p0,
                p1 = in(reg) p1,
                p2 = in(reg) p2,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                t = inout(reg) odd => _,
                x = out(reg) _,
                out("r0") _,
                out("r1") _,
                out("r2") _,
                options(readonly, nostack),
            );
        }
        (*o0, *o1, *o2) = (a0, a1, a2);
        done = done.wrapping_add(3);
    }
    done
}

fn check_len(n: usize) -> Result<()> {
    if n > MAX_I8_LEN {
        return Err(Error::InvalidParameter {
            param: Param::Dimension,
            value: n as f64,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::scalar;
    use proptest::prelude::*;

    extern crate std;
    use std::vec::Vec;

    /// Up to 6 rows of `d` random levels, a background `b` and a query
    /// whose entries are `b` with a random probability.
    fn case(max_d: usize) -> impl Strategy<Value = (Vec<i8>, usize, Vec<i8>, i8)> {
        (1usize..=max_d, 0usize..=6, any::<i8>(), 0u32..=100).prop_flat_map(
            move |(d, k, b, percent)| {
                let rows = proptest::collection::vec(any::<i8>(), k * d);
                let entry = (any::<i8>(), 0u32..100)
                    .prop_map(move |(v, r)| if r < percent { b } else { v });
                let x = proptest::collection::vec(entry, 0..=d + 3);
                (rows, Just(d), x, Just(b))
            },
        )
    }

    fn reference(rows: &[i8], d: usize, x: &[i8]) -> Vec<i32> {
        let n = x.len().min(d);
        rows.chunks_exact(d)
            .map(|r| scalar::dot_i8(&r[..n], &x[..n]))
            .collect()
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(256), 3))]

        /// Equal to the scalar reference bit for bit, for short and long
        /// queries (more non-background entries than one list holds), and
        /// any number of rows (blocks of three on Cortex-M, the rest).
        #[test]
        fn skipping_matches_reference((rows, d, x, b) in prop_oneof![case(40), case(700)]) {
            let k = rows.len() / d;
            let mut sums = std::vec![0i32; k];
            row_sums_i8(&rows, d, x.len(), &mut sums).unwrap();
            let mut out = std::vec![7i32; k];
            gemv_i8_skipping(&rows, d, &x, b, &sums, &mut out).unwrap();
            prop_assert_eq!(out, reference(&rows, d, &x));
        }
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(256), 3))]

        /// The groups of four (the Cortex-M DSP kernel's list), applied by
        /// the portable loop, give the reference's sums too.
        #[test]
        fn groups_match_reference((rows, d, x, b) in prop_oneof![case(40), case(700)]) {
            let k = rows.len() / d;
            let n = x.len().min(d);
            let mut sums = std::vec![0i32; k];
            row_sums_i8(&rows, d, n, &mut sums).unwrap();
            let mut out: Vec<i32> = sums.iter().map(|&s| i32::from(b).wrapping_mul(s)).collect();
            let mut calls = 0;
            for_groups(&x[..n], b, |g| {
                calls += 1;
                assert!(g.entries.iter().all(|e| e[0] >= 0 && e[0] as usize + 4 <= n));
                apply_groups(&rows, d, &g, &mut out);
            });
            if n >= 4 {
                prop_assert_eq!(out, reference(&rows, d, &x));
            } else {
                prop_assert_eq!(calls, 0);
            }
        }
    }

    /// Extreme levels over a long row: partial sums leave `i32` and wrap,
    /// the result is still exact.
    #[test]
    fn extremes_wrap_back_to_the_exact_sum() {
        let d = 20_000;
        let rows: Vec<i8> = (0..2 * d).map(|i| if i < d { -128 } else { 127 }).collect();
        let x: Vec<i8> = (0..d)
            .map(|i| if i % 3 == 0 { -128 } else { 127 })
            .collect();
        for b in [-128i8, 127, 0] {
            let mut sums = [0i32; 2];
            row_sums_i8(&rows, d, d, &mut sums).unwrap();
            let mut out = [0i32; 2];
            gemv_i8_skipping(&rows, d, &x, b, &sums, &mut out).unwrap();
            assert_eq!(out.to_vec(), reference(&rows, d, &x), "background {b}");
        }
    }

    /// Too long is an error, and `out` is left alone.
    #[test]
    fn too_long_is_an_error() {
        let x = std::vec![0i8; MAX_I8_LEN + 1];
        let mut out = [5i32; 1];
        assert!(gemv_i8_skipping(&x, x.len(), &x, 0, &[0], &mut out).is_err());
        assert!(row_sums_i8(&x, x.len(), x.len(), &mut out).is_err());
        assert_eq!(out, [5]);
    }
}
