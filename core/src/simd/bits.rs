//! Kernels over bit-packed bipolar columns, for the packed sweep of
//! [`crate::bipolar::PackedBipolar`].
//!
//! A column is a slice of `u64` words: bit `μ % 64` of word `μ / 64` is set
//! where `ξ^μ_i = +1`, clear where it is `−1`. The values the kernels add are
//! `f64` holding integers (overlaps and the exact integer fields of the
//! sweep) whose sums stay below `2^53` in magnitude (the caller's
//! guarantee): every partial sum is then exact, so the result does not
//! depend on the summation order, and every path returns exactly the bits of
//! the scalar reference.
//!
//! Paths: AVX-512F on x86_64 (mask registers straight from the column
//! words), the portable reference elsewhere. [`Isa::best`] picks.
#![allow(unsafe_code)]

use super::Isa;

/// `Σ v_μ` over the set bits `μ < v.len()` of `bits` (`bits` holds at least
/// `⌈v.len() / 64⌉` words; entries of `v` past `64 · bits.len()` are ignored).
#[inline]
pub(crate) fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
    masked_sum_on(Isa::best(), bits, v)
}

/// `m_μ += s` where bit `μ` is set, `m_μ −= s` where it is clear.
#[inline]
pub(crate) fn signed_add(bits: &[u64], s: f64, m: &mut [f64]) {
    signed_add_on(Isa::best(), bits, s, m)
}

/// For every `μ`, with `F(x) = x^n` (or `max(x, 0)^n`):
/// `b_μ = (F(m_μ + 2) − F(m_μ − 2)) / 2`, and returns
/// `(Σ b_μ, Σ u_μ)` with `u_μ = (F(m_μ + 2) + F(m_μ − 2)) / 2 − F(m_μ)`,
/// over the common length of `m` and `b`.
#[inline]
pub(crate) fn fields(n: u32, rectified: bool, m: &[f64], b: &mut [f64]) -> (f64, f64) {
    fields_on(Isa::best(), n, rectified, m, b)
}

/// The overlaps `m_μ = Σ_i σ_i ξ^μ_i` of a bipolar state (`s_i ≥ 0` counts
/// as `+1`) from its packed columns: column `i` is
/// `columns[i·words ..][..words]`, for `i < min(state.len(), columns.len() /
/// words)`; sets `m_μ` for `μ < min(m.len(), 64 · words)`.
#[inline]
pub(crate) fn column_sums(columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
    column_sums_on(Isa::best(), columns, words, state, m)
}

/// [`column_sums`] on `isa`.
#[inline]
pub(crate) fn column_sums_on(isa: Isa, columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
    match isa.or_scalar() {
        // SAFETY: as in `masked_sum_on`.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::column_sums(columns, words, state, m) },
        _ => scalar::column_sums(columns, words, state, m),
    }
}

/// [`masked_sum`] on `isa` (the reference where that path has no kernel).
#[inline]
pub(crate) fn masked_sum_on(isa: Isa, bits: &[u64], v: &[f64]) -> f64 {
    match isa.or_scalar() {
        // SAFETY: `or_scalar` returned the path only if the CPU has AVX-512F.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::masked_sum(bits, v) },
        _ => scalar::masked_sum(bits, v),
    }
}

/// [`signed_add`] on `isa`.
#[inline]
pub(crate) fn signed_add_on(isa: Isa, bits: &[u64], s: f64, m: &mut [f64]) {
    match isa.or_scalar() {
        // SAFETY: as in `masked_sum_on`.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::signed_add(bits, s, m) },
        _ => scalar::signed_add(bits, s, m),
    }
}

/// [`fields`] on `isa`.
#[inline]
pub(crate) fn fields_on(isa: Isa, n: u32, rectified: bool, m: &[f64], b: &mut [f64]) -> (f64, f64) {
    match isa.or_scalar() {
        // SAFETY: as in `masked_sum_on`.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::fields(n, rectified, m, b) },
        _ => portable_fields(n, rectified, m, b),
    }
}

/// Lanes of the portable [`fields`] loop: one AVX-512 register of `f64`.
const LANES: usize = 8;

/// [`fields`], written over arrays of [`LANES`] with the exponent loop
/// outside the lane loop, so that it vectorizes where it is inlined into a
/// `#[target_feature]` function. Exact for integer `m` while every power
/// and sum stays below `2^53` (the caller's guarantee), so the lane order of
/// the sums does not matter.
#[inline(always)]
fn portable_fields(n: u32, rectified: bool, m: &[f64], b: &mut [f64]) -> (f64, f64) {
    let len = m.len().min(b.len());
    let (m, b) = (m.get(..len).unwrap_or(&[]), b.get_mut(..len).unwrap_or(&mut []));
    let lo = if rectified { 0.0 } else { f64::NEG_INFINITY };
    let mut sum_b = [0.0f64; LANES];
    let mut sum_u = [0.0f64; LANES];
    let block = |m: &[f64], b: &mut [f64], sum_b: &mut [f64; LANES], sum_u: &mut [f64; LANES]| {
        let mut p = [0.0f64; LANES];
        let mut q = [0.0f64; LANES];
        let mut c = [0.0f64; LANES];
        for (((p, q), c), &x) in p.iter_mut().zip(&mut q).zip(&mut c).zip(m) {
            *p = (x + 2.0).max(lo);
            *q = (x - 2.0).max(lo);
            *c = x.max(lo);
        }
        let (p, q, c) = (pow8(p, n), pow8(q, n), pow8(c, n));
        for ((((o, sb), su), (&p, &q)), &c) in b
            .iter_mut()
            .zip(sum_b.iter_mut())
            .zip(sum_u.iter_mut())
            .zip(p.iter().zip(&q))
            .zip(&c)
        {
            let half_diff = (p - q) * 0.5;
            *o = half_diff;
            *sb += half_diff;
            *su += (p + q) * 0.5 - c;
        }
    };
    let mut mc = m.chunks_exact(LANES);
    let mut bc = b.chunks_exact_mut(LANES);
    for (mm, bb) in (&mut mc).zip(&mut bc) {
        block(mm, bb, &mut sum_b, &mut sum_u);
    }
    // The tail: padded lanes hold m = 0, whose terms are not stored and
    // are taken out of the sums below by only adding the stored lanes.
    let (mt, bt) = (mc.remainder(), bc.into_remainder());
    if !mt.is_empty() {
        let mut tb = [0.0f64; LANES];
        let mut tsb = [0.0f64; LANES];
        let mut tsu = [0.0f64; LANES];
        block(mt, &mut tb, &mut tsb, &mut tsu);
        for (((o, &v), (sb, &t)), (su, &tu)) in bt
            .iter_mut()
            .zip(&tb)
            .zip(sum_b.iter_mut().zip(&tsb))
            .zip(sum_u.iter_mut().zip(&tsu))
        {
            *o = v;
            *sb += t;
            *su += tu;
        }
    }
    (sum_b.iter().sum(), sum_u.iter().sum())
}

/// `v_l^n` for each lane, by squaring (exact while the powers of integers
/// stay below `2^53`).
#[inline(always)]
fn pow8(mut v: [f64; LANES], n: u32) -> [f64; LANES] {
    let mut acc = [1.0f64; LANES];
    let mut exp = n;
    while exp > 0 {
        if exp & 1 == 1 {
            acc.iter_mut().zip(&v).for_each(|(a, &x)| *a *= x);
        }
        exp >>= 1;
        if exp > 0 {
            v.iter_mut().for_each(|x| *x *= *x);
        }
    }
    acc
}

/// The portable reference kernels.
pub(crate) mod scalar {
    /// [`super::masked_sum`], bit by bit.
    pub(crate) fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
        let mut acc = 0.0;
        for (&word, chunk) in bits.iter().zip(v.chunks(64)) {
            for (j, &x) in (0u32..).zip(chunk) {
                if (word >> j) & 1 == 1 {
                    acc += x;
                }
            }
        }
        acc
    }

    /// [`super::signed_add`], bit by bit.
    pub(crate) fn signed_add(bits: &[u64], s: f64, m: &mut [f64]) {
        for (&word, chunk) in bits.iter().zip(m.chunks_mut(64)) {
            for (j, x) in (0u32..).zip(chunk) {
                if (word >> j) & 1 == 1 {
                    *x += s;
                } else {
                    *x -= s;
                }
            }
        }
    }

    /// [`super::column_sums`], one column at a time.
    pub(crate) fn column_sums(columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
        let m = m.get_mut(..words.saturating_mul(64).min(m.len())).unwrap_or(&mut []);
        m.fill(0.0);
        if words == 0 {
            return;
        }
        for (col, &s) in columns.chunks_exact(words).zip(state) {
            signed_add(col, if s >= 0 { 1.0 } else { -1.0 }, m);
        }
    }

    /// [`super::fields`], one entry at a time (the other paths use the
    /// vectorizable [`super::portable_fields`]; this is what the tests hold
    /// them to).
    #[cfg(test)]
    pub(crate) fn fields(n: u32, rectified: bool, m: &[f64], b: &mut [f64]) -> (f64, f64) {
        let f = |x: f64| {
            if rectified && x < 0.0 {
                0.0
            } else {
                let mut acc = 1.0;
                for _ in 0..n {
                    acc *= x;
                }
                acc
            }
        };
        let (mut sum_b, mut sum_u) = (0.0, 0.0);
        for (o, &x) in b.iter_mut().zip(m) {
            let (p, q) = (f(x + 2.0), f(x - 2.0));
            *o = (p - q) * 0.5;
            sum_b += *o;
            sum_u += (p + q) * 0.5 - f(x);
        }
        (sum_b, sum_u)
    }
}

/// AVX-512F: 8 `f64` lanes, one byte of a column word as the lane mask.
#[cfg(all(target_arch = "x86_64", dam_avx512))]
#[allow(clippy::incompatible_msrv)]
mod avx512 {
    use core::arch::x86_64::*;

    /// The mask of the first `min(n, 8)` lanes.
    #[inline(always)]
    fn low_lanes(n: usize) -> u8 {
        if n >= 8 { u8::MAX } else { (1u8 << n) - 1 }
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
        let [mut a0, mut a1, mut a2, mut a3] = [_mm512_setzero_pd(); 4];
        for (&word, chunk) in bits.iter().zip(v.chunks(64)) {
            if chunk.len() == 64 {
                let p = chunk.as_ptr();
                // SAFETY: `chunk` has 64 entries, so the eight loads of 8 at
                // offsets 0, 8, …, 56 are in bounds.
                unsafe {
                    a0 = _mm512_mask_add_pd(a0, word as u8, a0, _mm512_loadu_pd(p));
                    a1 = _mm512_mask_add_pd(a1, (word >> 8) as u8, a1, _mm512_loadu_pd(p.add(8)));
                    a2 = _mm512_mask_add_pd(a2, (word >> 16) as u8, a2, _mm512_loadu_pd(p.add(16)));
                    a3 = _mm512_mask_add_pd(a3, (word >> 24) as u8, a3, _mm512_loadu_pd(p.add(24)));
                    a0 = _mm512_mask_add_pd(a0, (word >> 32) as u8, a0, _mm512_loadu_pd(p.add(32)));
                    a1 = _mm512_mask_add_pd(a1, (word >> 40) as u8, a1, _mm512_loadu_pd(p.add(40)));
                    a2 = _mm512_mask_add_pd(a2, (word >> 48) as u8, a2, _mm512_loadu_pd(p.add(48)));
                    a3 = _mm512_mask_add_pd(a3, (word >> 56) as u8, a3, _mm512_loadu_pd(p.add(56)));
                }
            } else {
                for (j, part) in (0u32..).zip(chunk.chunks(8)) {
                    let k = (word >> (8 * j)) as u8 & low_lanes(part.len());
                    // SAFETY: the masked load reads only the lanes of `k`,
                    // all within `part`; masked-off lanes cannot fault.
                    let x = unsafe { _mm512_maskz_loadu_pd(k, part.as_ptr()) };
                    a0 = _mm512_add_pd(a0, x);
                }
            }
        }
        _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)))
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn signed_add(bits: &[u64], s: f64, m: &mut [f64]) {
        let (pos, neg) = (_mm512_set1_pd(s), _mm512_set1_pd(-s));
        for (&word, chunk) in bits.iter().zip(m.chunks_mut(64)) {
            for (j, part) in (0u32..).zip(chunk.chunks_mut(8)) {
                let k = (word >> (8 * j)) as u8;
                let step = _mm512_mask_blend_pd(k, neg, pos);
                let p = part.as_mut_ptr();
                if part.len() == 8 {
                    // SAFETY: `part` has 8 entries: the load and the store
                    // are in bounds.
                    unsafe { _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), step)) };
                } else {
                    let live = low_lanes(part.len());
                    // SAFETY: the masked load and store touch only the
                    // first `part.len()` lanes, all within `part`.
                    unsafe {
                        let x = _mm512_maskz_loadu_pd(live, p);
                        _mm512_mask_storeu_pd(p, live, _mm512_add_pd(x, step));
                    }
                }
            }
        }
    }

    /// A block of 64 overlaps at a time in eight registers, over all
    /// columns (no loads or stores of `m` per column).
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn column_sums(columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
        if words == 0 {
            return;
        }
        let m = m.get_mut(..words.saturating_mul(64).min(m.len())).unwrap_or(&mut []);
        let (one, minus) = (_mm512_set1_pd(1.0), _mm512_set1_pd(-1.0));
        for (w, block) in m.chunks_mut(64).enumerate() {
            let mut acc = [_mm512_setzero_pd(); 8];
            for (col, &s) in columns.chunks_exact(words).zip(state) {
                let word = col.get(w).copied().unwrap_or(0);
                // σ = +1: +1 where the bit is set, −1 where clear; σ = −1:
                // the opposite.
                let (set, clear) = if s >= 0 { (one, minus) } else { (minus, one) };
                for (j, a) in (0u32..).zip(acc.iter_mut()) {
                    *a = _mm512_add_pd(*a, _mm512_mask_blend_pd((word >> (8 * j)) as u8, clear, set));
                }
            }
            for (part, a) in block.chunks_mut(8).zip(acc) {
                let live = low_lanes(part.len());
                // SAFETY: the masked store writes only the first
                // `part.len()` lanes, all within `part`.
                unsafe { _mm512_mask_storeu_pd(part.as_mut_ptr(), live, a) };
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn fields(n: u32, rectified: bool, m: &[f64], b: &mut [f64]) -> (f64, f64) {
        super::portable_fields(n, rectified, m, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(256), 3))]

        /// Every path against the reference, bit for bit, on integer data
        /// of every length class (full words, partial words, partial lanes).
        #[test]
        fn paths_match_the_reference(
            len in 0usize..300,
            seed in any::<u64>(),
            n in 1u32..6,
            rectified in any::<bool>(),
        ) {
            let mut s = seed | 1;
            let mut next = || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let words = len.div_ceil(64);
            let bits: [u64; 5] = core::array::from_fn(|_| next());
            let bits = &bits[..words];
            let v: [f64; 300] = core::array::from_fn(|_| (next() % 201) as f64 - 100.0);
            let v = &v[..len];
            let want_sum = scalar::masked_sum(bits, v);
            let mut want_m = [0.0; 300];
            want_m[..len].copy_from_slice(v);
            scalar::signed_add(bits, 6.0, &mut want_m[..len]);
            let mut want_b = [f64::NAN; 300];
            let want_f = scalar::fields(n, rectified, v, &mut want_b[..len]);
            for isa in Isa::ALL {
                prop_assert_eq!(masked_sum_on(isa, bits, v), want_sum, "{:?}", isa);
                let mut m = [0.0; 300];
                m[..len].copy_from_slice(v);
                signed_add_on(isa, bits, 6.0, &mut m[..len]);
                prop_assert_eq!(&m[..], &want_m[..], "{:?}", isa);
                let mut b = [f64::NAN; 300];
                let f = fields_on(isa, n, rectified, v, &mut b[..len]);
                prop_assert_eq!(f, want_f, "{:?}", isa);
                prop_assert_eq!(&b[..len], &want_b[..len], "{:?}", isa);
            }
            let state: [i8; 7] = core::array::from_fn(|_| if next() % 2 == 0 { 1 } else { -1 });
            let cols: [u64; 35] = core::array::from_fn(|_| next());
            let words = words.max(1);
            let cols = &cols[..7 * words];
            let mut want_c = [7.0; 300];
            scalar::column_sums(cols, words, &state, &mut want_c[..len]);
            for isa in Isa::ALL {
                let mut c = [7.0; 300];
                column_sums_on(isa, cols, words, &state, &mut c[..len]);
                prop_assert_eq!(&c[..], &want_c[..], "{:?}", isa);
            }
            // Against the definition.
            for (mu, &got) in want_c[..len].iter().enumerate() {
                let want: f64 = (0..7)
                    .map(|i| {
                        let bit = (cols[i * words + mu / 64] >> (mu % 64)) & 1;
                        f64::from(state[i]) * if bit == 1 { 1.0 } else { -1.0 }
                    })
                    .sum();
                prop_assert_eq!(got, want);
            }
            // The portable loop on its own (the path other targets use).
            let mut b = [f64::NAN; 300];
            prop_assert_eq!(portable_fields(n, rectified, v, &mut b[..len]), want_f);
            prop_assert_eq!(&b[..len], &want_b[..len]);
        }
    }
}
