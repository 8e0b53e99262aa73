//! The AVX-512 `f32` pieces of the packed batch product: the micro-kernel
//! (32 packed memories times 14 queries, 28 accumulators) in assembly,
//! and the packing of 32 memory rows into a panel by 16 × 16 transposes.
//!
//! Why assembly for the micro-kernel: it needs 14 query rows per step.
//! Written with intrinsics, LLVM keeps one pointer per row, runs out of
//! the 15 free integer registers and reloads four of them from the stack
//! every step (more when the loop is unrolled). Here every row is
//! addressed from two bases and three stride registers (`x86` addressing
//! scales an index by 1, 2, 4 or 8: rows `0..14` are
//! `r0 + {0, 1, 2, 4, 8}·s`, `r0 + {1, 2, 4}·3s`, `r0 + {1, 2}·5s`,
//! `r7 + {0, 2, 4}·s` and `r7 + 2·3s` with `r7 = r0 + 7s`), four steps per
//! iteration: nine integer registers, no spill, one counter, pointer
//! update and branch per 112 FMAs. Measured (`BENCHMARKS.md`): the loop
//! runs at 85 % of the register-only FMA peak, as fast as any mix of loads
//! and FMAs we tried on this core (other tile shapes, embedded
//! broadcasts, grouped broadcasts, deeper unrolling).
//!
//! Same arithmetic as the portable micro-kernel (`lanes::micro`): each
//! accumulator takes one fused multiply-add per `p`, in increasing `p`,
//! so the results are the same bits.
#![allow(unsafe_code)]
// Compiled only with `cfg(dam_avx512)`, i.e. by Rust 1.89 or newer, the
// release that stabilized these intrinsics (see `build.rs`).
#![allow(clippy::incompatible_msrv)]

use core::arch::x86_64::{
    __m512, _mm512_castpd_ps, _mm512_castps_pd, _mm512_maskz_loadu_ps, _mm512_shuffle_f32x4,
    _mm512_storeu_ps, _mm512_unpackhi_pd, _mm512_unpackhi_ps, _mm512_unpacklo_pd,
    _mm512_unpacklo_ps,
};

/// Rows of queries per call.
pub(crate) const NR: usize = 14;
/// Memories per packed panel column.
const MR: usize = 32;

// The panels `lanes::gemm_packed` packs for 16 `f32` lanes, and the rows of
// its tile, are what these pieces read and write.
const _: () = assert!(super::lanes::PANEL_REGS * 16 == MR);
const _: () = assert!(super::lanes::PANEL_REGS * super::lanes::MAX_LANES == MR);

/// One step `u` (0 to 3) of the unrolled loop: the panel's column at byte
/// offset `128·u`, entry `u` of every query row.
macro_rules! step {
    ($pa0:literal, $pa1:literal, $q:literal) => {
        concat!(
            "vmovups zmm28, [{pa} + ",
            $pa0,
            "]\n",
            "vmovups zmm29, [{pa} + ",
            $pa1,
            "]\n",
            bcast!("zmm30", "zmm0", "zmm1", "[{r0} + ", $q, "]"),
            bcast!("zmm31", "zmm2", "zmm3", "[{r0} + {s} + ", $q, "]"),
            bcast!("zmm30", "zmm4", "zmm5", "[{r0} + {s}*2 + ", $q, "]"),
            bcast!("zmm31", "zmm6", "zmm7", "[{r0} + {s3} + ", $q, "]"),
            bcast!("zmm30", "zmm8", "zmm9", "[{r0} + {s}*4 + ", $q, "]"),
            bcast!("zmm31", "zmm10", "zmm11", "[{r0} + {s5} + ", $q, "]"),
            bcast!("zmm30", "zmm12", "zmm13", "[{r0} + {s3}*2 + ", $q, "]"),
            bcast!("zmm31", "zmm14", "zmm15", "[{r7} + ", $q, "]"),
            bcast!("zmm30", "zmm16", "zmm17", "[{r0} + {s}*8 + ", $q, "]"),
            bcast!("zmm31", "zmm18", "zmm19", "[{r7} + {s}*2 + ", $q, "]"),
            bcast!("zmm30", "zmm20", "zmm21", "[{r0} + {s5}*2 + ", $q, "]"),
            bcast!("zmm31", "zmm22", "zmm23", "[{r7} + {s}*4 + ", $q, "]"),
            bcast!("zmm30", "zmm24", "zmm25", "[{r0} + {s3}*4 + ", $q, "]"),
            bcast!("zmm31", "zmm26", "zmm27", "[{r7} + {s3}*2 + ", $q, "]"),
        )
    };
}

/// Broadcasts one query entry into `$x` and adds its products with the
/// two panel registers into the row's two accumulators.
macro_rules! bcast {
    ($x:literal, $c0:literal, $c1:literal, $($addr:literal),+) => {
        concat!(
            "vbroadcastss ", $x, ", dword ptr ", $($addr),+, "\n",
            "vfmadd231ps ", $c0, ", zmm28, ", $x, "\n",
            "vfmadd231ps ", $c1, ", zmm29, ", $x, "\n",
        )
    };
}

/// Stores accumulators `2j`, `2j + 1` as row `j` of the tile (128 bytes).
macro_rules! store_row {
    ($o0:literal, $o1:literal, $c0:literal, $c1:literal) => {
        concat!(
            "vmovups [{tile} + ",
            $o0,
            "], ",
            $c0,
            "\n",
            "vmovups [{tile} + ",
            $o1,
            "], ",
            $c1,
            "\n",
        )
    };
}

/// `tile[j·32 + i] = Σ_p panel[p·32 + i] · q[j·d + p]` for `i < 32`,
/// `j < 14`, `p < d`: one fused multiply-add per `p`, in order.
///
/// # Safety
/// The CPU must have AVX-512F; `d ≥ 1`, `d·4·14` must not overflow
/// `isize`; `panel` must be valid for `32·d` reads, `q` for `14·d`
/// reads (row `j` at `q + j·d`), `tile` for `14·32` writes.
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) unsafe fn micro_32x14(panel: *const f32, q: *const f32, d: usize, tile: *mut f32) {
    let s = d * 4;
    // SAFETY: every load is inside `panel[.. 32·d]` (column `p` at
    // `p·32`, `p < d`) or query row `j < 14` at `j·s + 4p`, `p < d`; the
    // stores write the 14 × 32 tile. The counters are `d / 4 ≥ 0` and
    // `d % 4` iterations; the asm touches no stack and saves nothing it
    // does not declare: the 32 vector registers are clobbered, the flags
    // too (no `preserves_flags`). The ISA is the caller's.
    unsafe {
        core::arch::asm!(
            "vpxord zmm0, zmm0, zmm0",
            "vpxord zmm1, zmm1, zmm1",
            "vpxord zmm2, zmm2, zmm2",
            "vpxord zmm3, zmm3, zmm3",
            "vpxord zmm4, zmm4, zmm4",
            "vpxord zmm5, zmm5, zmm5",
            "vpxord zmm6, zmm6, zmm6",
            "vpxord zmm7, zmm7, zmm7",
            "vpxord zmm8, zmm8, zmm8",
            "vpxord zmm9, zmm9, zmm9",
            "vpxord zmm10, zmm10, zmm10",
            "vpxord zmm11, zmm11, zmm11",
            "vpxord zmm12, zmm12, zmm12",
            "vpxord zmm13, zmm13, zmm13",
            "vpxord zmm14, zmm14, zmm14",
            "vpxord zmm15, zmm15, zmm15",
            "vpxord zmm16, zmm16, zmm16",
            "vpxord zmm17, zmm17, zmm17",
            "vpxord zmm18, zmm18, zmm18",
            "vpxord zmm19, zmm19, zmm19",
            "vpxord zmm20, zmm20, zmm20",
            "vpxord zmm21, zmm21, zmm21",
            "vpxord zmm22, zmm22, zmm22",
            "vpxord zmm23, zmm23, zmm23",
            "vpxord zmm24, zmm24, zmm24",
            "vpxord zmm25, zmm25, zmm25",
            "vpxord zmm26, zmm26, zmm26",
            "vpxord zmm27, zmm27, zmm27",
            "test {n4}, {n4}",
            "jz 3f",
            ".p2align 5",
            "2:",
            step!("0", "64", "0"),
            step!("128", "192", "4"),
            step!("256", "320", "8"),
            step!("384", "448", "12"),
            "add {pa}, 512",
            "add {r0}, 16",
            "add {r7}, 16",
            "dec {n4}",
            "jnz 2b",
            "3:",
            "test {rem}, {rem}",
            "jz 5f",
            "4:",
            step!("0", "64", "0"),
            "add {pa}, 128",
            "add {r0}, 4",
            "add {r7}, 4",
            "dec {rem}",
            "jnz 4b",
            "5:",
            store_row!("0", "64", "zmm0", "zmm1"),
            store_row!("128", "192", "zmm2", "zmm3"),
            store_row!("256", "320", "zmm4", "zmm5"),
            store_row!("384", "448", "zmm6", "zmm7"),
            store_row!("512", "576", "zmm8", "zmm9"),
            store_row!("640", "704", "zmm10", "zmm11"),
            store_row!("768", "832", "zmm12", "zmm13"),
            store_row!("896", "960", "zmm14", "zmm15"),
            store_row!("1024", "1088", "zmm16", "zmm17"),
            store_row!("1152", "1216", "zmm18", "zmm19"),
            store_row!("1280", "1344", "zmm20", "zmm21"),
            store_row!("1408", "1472", "zmm22", "zmm23"),
            store_row!("1536", "1600", "zmm24", "zmm25"),
            store_row!("1664", "1728", "zmm26", "zmm27"),
            pa = inout(reg) panel => _,
            r0 = inout(reg) q => _,
            r7 = inout(reg) q.wrapping_add(7 * d) => _,
            n4 = inout(reg) d / 4 => _,
            rem = inout(reg) d % 4 => _,
            s = in(reg) s,
            s3 = in(reg) 3 * s,
            s5 = in(reg) 5 * s,
            tile = in(reg) tile,
            out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
            out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
            out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
            out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _,
            out("zmm16") _, out("zmm17") _, out("zmm18") _, out("zmm19") _,
            out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _,
            out("zmm24") _, out("zmm25") _, out("zmm26") _, out("zmm27") _,
            out("zmm28") _, out("zmm29") _, out("zmm30") _, out("zmm31") _,
            options(nostack),
        );
    }
}

/// Packs 32 rows of `d` entries (row `i` at `src + i·d`) into a panel:
/// column `p` (entry `p` of the 32 rows) at `dst + 32·p`. Blocks of 16
/// rows × 16 entries are loaded (the last block of a row masked), transposed
/// in registers and stored as 16 half-columns, each a whole cache line.
///
/// # Safety
/// The CPU must have AVX-512F; `src` must be valid for `32·d` reads,
/// `dst` for `32·d` writes.
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) unsafe fn pack_panel_32(src: *const f32, d: usize, dst: *mut f32) {
    let mut p = 0;
    while p < d {
        let n = (d - p).min(16);
        let mask = (((1u32 << n) - 1) & 0xffff) as u16;
        for h in 0..2 {
            // SAFETY: row `16h + i < 32` entries `p .. p + n ≤ d` (the
            // masked-off lanes are not accessed); column `p + c < d`,
            // half `h`: 16 entries at `32(p + c) + 16h < 32·d`.
            unsafe {
                let r: [__m512; 16] = core::array::from_fn(|i| {
                    _mm512_maskz_loadu_ps(mask, src.add((16 * h + i) * d + p))
                });
                for (c, v) in transpose16(r).iter().enumerate().take(n) {
                    _mm512_storeu_ps(dst.add((p + c) * 32 + 16 * h), *v);
                }
            }
        }
        p += 16;
    }
}

/// The transpose of 16 rows of 16: in each group of 4 rows, pairs of rows
/// interleaved by 32 then 64 bits (each 128-bit lane then holds one
/// column of the 4 rows), then the lanes gathered by two rounds of 128-bit
/// shuffles.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose16(r: [__m512; 16]) -> [__m512; 16] {
    let [
        r0,
        r1,
        r2,
        r3,
        r4,
        r5,
        r6,
        r7,
        r8,
        r9,
        r10,
        r11,
        r12,
        r13,
        r14,
        r15,
    ] = r;
    // u(4g + j), lane L: column 4L + j of rows 4g .. 4g + 4.
    let [u0, u1, u2, u3] = quad(r0, r1, r2, r3);
    let [u4, u5, u6, u7] = quad(r4, r5, r6, r7);
    let [u8, u9, u10, u11] = quad(r8, r9, r10, r11);
    let [u12, u13, u14, u15] = quad(r12, r13, r14, r15);
    // v(j) / v(4 + j): lanes 0, 2 / 1, 3 of groups 0, 1 (rows 0..8);
    // v(8 + j) / v(12 + j) the same of groups 2, 3 (rows 8..16).
    let ((v0, v4), (v1, v5)) = (lanes(u0, u4), lanes(u1, u5));
    let ((v2, v6), (v3, v7)) = (lanes(u2, u6), lanes(u3, u7));
    let ((v8, v12), (v9, v13)) = (lanes(u8, u12), lanes(u9, u13));
    let ((v10, v14), (v11, v15)) = (lanes(u10, u14), lanes(u11, u15));
    // Column 4q + j from v(4q + j) (rows 0..8) and v(8 + 4q + j), column
    // 8 + 4q + j from the other lanes of the same two.
    let ((o0, o8), (o1, o9)) = (lanes(v0, v8), lanes(v1, v9));
    let ((o2, o10), (o3, o11)) = (lanes(v2, v10), lanes(v3, v11));
    let ((o4, o12), (o5, o13)) = (lanes(v4, v12), lanes(v5, v13));
    let ((o6, o14), (o7, o15)) = (lanes(v6, v14), lanes(v7, v15));
    [
        o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15,
    ]
}

/// Four rows `a, b, c, e` interleaved so that lane `L` of result `j` holds
/// column `4L + j` of the four rows.
#[target_feature(enable = "avx512f")]
#[inline]
fn quad(a: __m512, b: __m512, c: __m512, e: __m512) -> [__m512; 4] {
    let (t0, t1) = (_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    let (t2, t3) = (_mm512_unpacklo_ps(c, e), _mm512_unpackhi_ps(c, e));
    [lo64(t0, t2), hi64(t0, t2), lo64(t1, t3), hi64(t1, t3)]
}

/// 128-bit lanes 0, 2 of `a` then of `b`, and lanes 1, 3 of `a` then of `b`.
#[target_feature(enable = "avx512f")]
#[inline]
fn lanes(a: __m512, b: __m512) -> (__m512, __m512) {
    (
        _mm512_shuffle_f32x4::<0x88>(a, b),
        _mm512_shuffle_f32x4::<0xdd>(a, b),
    )
}

/// The low 64-bit halves of each 128-bit lane of `a` and `b`, interleaved.
#[target_feature(enable = "avx512f")]
#[inline]
fn lo64(a: __m512, b: __m512) -> __m512 {
    _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
}

/// The high 64-bit halves of each 128-bit lane of `a` and `b`, interleaved.
#[target_feature(enable = "avx512f")]
#[inline]
fn hi64(a: __m512, b: __m512) -> __m512 {
    _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn avx512() -> bool {
        std::is_x86_feature_detected!("avx512f")
    }

    proptest! {
        /// The packing transposes exactly: column `p` of the panel is entry
        /// `p` of the 32 rows, for every `d` remainder mod 16; nothing past
        /// the panel is written.
        #[test]
        #[cfg_attr(miri, ignore = "cpuid and AVX-512: Miri runs neither")]
        fn pack_panel_is_the_transpose(d in 1usize..80, seed in any::<u32>()) {
            if avx512() {
                let src: Vec<f32> = (0..32 * d)
                    .map(|i| (i as u32).wrapping_mul(2654435761).wrapping_add(seed) as f32)
                    .collect();
                let mut dst = std::vec![f32::NAN; 32 * d + 16];
                // SAFETY: AVX-512F detected; `src` holds 32·d, `dst` more.
                unsafe { super::pack_panel_32(src.as_ptr(), d, dst.as_mut_ptr()) };
                for p in 0..d {
                    for i in 0..32 {
                        prop_assert_eq!(dst[32 * p + i].to_bits(), src[i * d + p].to_bits());
                    }
                }
                prop_assert!(dst[32 * d..].iter().all(|x| x.is_nan()));
            }
        }

        /// The micro-kernel against one fused multiply-add per entry in
        /// order (the portable kernel's arithmetic): the same bits.
        #[test]
        #[cfg_attr(miri, ignore = "inline assembly: Miri cannot run it")]
        fn micro_kernel_is_the_fma_chain(
            d in 1usize..40,
            vals in prop::collection::vec(-4.0f32..4.0, 46 * 40),
        ) {
            if avx512() {
                let panel = &vals[..32 * d];
                let q = &vals[32 * 40..32 * 40 + 14 * d];
                let mut tile = [f32::NAN; 14 * 32];
                // SAFETY: AVX-512F detected; the extents are as required.
                unsafe { super::micro_32x14(panel.as_ptr(), q.as_ptr(), d, tile.as_mut_ptr()) };
                for j in 0..14 {
                    for i in 0..32 {
                        let mut acc = 0.0f32;
                        for p in 0..d {
                            acc = panel[32 * p + i].mul_add(q[j * d + p], acc);
                        }
                        prop_assert_eq!(tile[32 * j + i].to_bits(), acc.to_bits(), "({}, {})", j, i);
                    }
                }
            }
        }
    }
}
