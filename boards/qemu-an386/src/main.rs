//! `dam-core` on an emulated Cortex-M4F (QEMU `mps2-an386`).
//!
//! Runs self-checks that must give the same answers as on the host, prints
//! each through semihosting, and exits 0 if all pass, 1 otherwise, so
//! `cargo run --release` passes or fails like a test:
//! - the FPU really fuses (`vfma.f32`) and `vsqrt.f32` is exact;
//! - bipolar recall of corrupted patterns (f32, normalized form, n = 3);
//! - the one-step classifier on a tiny model;
//! - the seeded DrDAM projection is bit-identical to the host's (the golden
//!   row of `dam-core`'s unit test `golden_row`, and checksums of a whole
//!   64 × 13 projection in f32 and f64, `golden_checksum_of_a_whole_projection`);
//! - the test-vector check of `dam-firmware-common`: the embedded model (by default the MNIST K = 120 one)
//!   (i8: the DSP integer kernels and the `f32` rescale here, fixed point
//!   in the thumbv6m build) classifies the embedded test rows exactly
//!   as the host predicted
//!   (instruction counts per classification from SysTick under
//!   `-icount shift=0`).
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use dam_core::{
    BipolarMemory, Classifier, Form, Interaction, MemoryView, Real, SeededProjection, UpdateOrder,
};
use dam_firmware_common::qemu_vectors_check;

const D: usize = 64;
const K: usize = 12;

/// SplitMix64: patterns and corruptions without a host-side table.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn check(name: &str, ok: bool) -> bool {
    hprintln!("{} {}", if ok { "ok  " } else { "FAIL" }, name);
    ok
}

fn fpu() -> bool {
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 needs 25 bits: a separate multiply
    // rounds the 2^-24 away, a fused multiply-add keeps it.
    let a = black_box(1.0f32 + 1.0 / 4096.0);
    let c = black_box(-(1.0f32 + 1.0 / 2048.0));
    let fused = Real::mul_add(a, a, c);
    let sqrt = Real::sqrt(black_box(2.25f32));
    if FPU {
        check("vfma.f32 is fused", fused == 1.0 / 16_777_216.0) & check("vsqrt.f32", sqrt == 1.5)
    } else {
        check("no FPU: mul_add is a multiply and an add", fused == 0.0)
            & check("no FPU: libm sqrt", sqrt == 1.5)
    }
}

/// Built for an FPU target (thumbv7em-none-eabihf), not for ARMv6-M.
const FPU: bool = cfg!(target_abi = "eabihf");

fn bipolar_recall() -> bool {
    let mut rng = Rng(2026);
    let mut xi = [0.0f32; K * D];
    for x in xi.iter_mut() {
        *x = if rng.next() & 1 == 1 { 1.0 } else { -1.0 };
    }
    let Ok(view) = MemoryView::new(&xi, K, D) else {
        return check("memory view", false);
    };
    let Ok(net) = BipolarMemory::new(
        view,
        Interaction::Polynomial { n: 3 },
        Form::Normalized { beta: 1.0 },
    ) else {
        return check("bipolar memory", false);
    };
    let mut overlaps = [0.0f32; K];
    let mut recalled = 0;
    for row in xi.chunks_exact(D) {
        let mut state = [0i8; D];
        for (s, &x) in state.iter_mut().zip(row) {
            *s = if x > 0.0 { 1 } else { -1 };
        }
        for _ in 0..D / 10 {
            let i = (rng.next() % D as u64) as usize;
            if let Some(s) = state.get_mut(i) {
                *s = -*s;
            }
        }
        if net
            .retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 20)
            .is_ok()
            && state.iter().zip(row).all(|(&s, &x)| (s > 0) == (x > 0.0))
        {
            recalled += 1;
        }
    }
    hprintln!(
        "     bipolar: {}/{} recalled from 10% flipped bits",
        recalled,
        K
    );
    check("bipolar recall (K = 12, D = 64, n = 3)", recalled == K)
}

fn classifier() -> bool {
    // 2 pixels + 2 labels: bright → class 0, dark → class 1.
    let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    let Ok(view) = MemoryView::new(&xi, 2, 4) else {
        return check("classifier view", false);
    };
    let Ok(clf) = Classifier::new(
        view,
        2,
        Interaction::RectifiedPolynomial { n: 20 },
        Form::Normalized { beta: 1.0 },
    ) else {
        return check("classifier", false);
    };
    let (mut scores, mut scratch) = ([0.0f32; 2], [0.0f32; 2]);
    let bright = clf.forward(&[0.9, 0.8], &mut scores, &mut scratch);
    let dark = clf.forward(&[-0.7, -0.9], &mut scores, &mut scratch);
    check("classifier forward", bright == Ok(0) && dark == Ok(1))
}

fn seeded_projection() -> bool {
    // Must equal dam-core's `drdam::projection::tests::GOLDEN` on x86_64.
    const GOLDEN: [u32; 4] = [3214287736, 1068388916, 3208096754, 1057470638];
    let Ok(p) = SeededProjection::new(0x0123_4567_89AB_CDEF, 10, 4) else {
        return check("seeded projection", false);
    };
    let mut row = [0.0f32; 4];
    p.fill_row(7, &mut row);
    let bits = row.map(f32::to_bits);
    hprintln!(
        "     projection row 7: {:08x} {:08x} {:08x} {:08x}",
        bits[0],
        bits[1],
        bits[2],
        bits[3]
    );
    let row_ok = check(
        "seeded projection bit-identical to the host",
        bits == GOLDEN,
    );
    row_ok & whole_projection_checksums()
}

/// FNV-1a (64-bit) of every entry of a whole seeded projection (64 rows of
/// 13), in f32 and f64: must equal dam-core's
/// `drdam::projection::tests::GOLDEN_CHECKSUMS` on x86_64.
fn whole_projection_checksums() -> bool {
    const GOLDEN: (u64, u64) = (0x14a1_b849_637c_f7a3, 0x0d4e_b822_97bc_56ee);
    let Ok(p) = SeededProjection::new(0x0123_4567_89AB_CDEF, 64, 13) else {
        return check("seeded projection, whole", false);
    };
    let fnv = |h: u64, bytes: &[u8]| {
        bytes.iter().fold(h, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (mut h32, mut h64) = (0xcbf2_9ce4_8422_2325u64, 0xcbf2_9ce4_8422_2325u64);
    let (mut r32, mut r64) = ([0.0f32; 13], [0.0f64; 13]);
    for j in 0..64 {
        p.fill_row(j, &mut r32);
        p.fill_row(j, &mut r64);
        for (a, b) in r32.iter().zip(&r64) {
            h32 = fnv(h32, &a.to_bits().to_le_bytes());
            h64 = fnv(h64, &b.to_bits().to_le_bytes());
        }
    }
    hprintln!(
        "     projection 64 x 13 checksums: f32 {:016x}, f64 {:016x}",
        h32,
        h64
    );
    check(
        "seeded projection (64 x 13, f32 and f64) bit-identical to the host",
        (h32, h64) == GOLDEN,
    )
}

/// Rows the test-vector check classifies: all (up to 500) embedded ones,
/// with the FPU and without (fixed point for an i8 model, soft float for
/// an f32 one: under 1 M instructions a row for the K = 120 MNIST model in
/// fixed point, so the emulation stays within seconds).
const ROWS: usize = 500;

#[entry]
fn main() -> ! {
    hprintln!(
        "dam-core self-checks on QEMU mps2-an386 (Cortex-M4), built for {}",
        if FPU {
            "thumbv7em-none-eabihf (FPU)"
        } else {
            "thumbv6m-none-eabi (ARMv6-M, no FPU, as on the RP2040)"
        }
    );
    let ok = fpu()
        & bipolar_recall()
        & classifier()
        & seeded_projection()
        & check(
            "test vectors: every prediction equals the host's",
            qemu_vectors_check(ROWS),
        );
    hprintln!(
        "{}",
        if ok {
            "all checks passed"
        } else {
            "SOME CHECKS FAILED"
        }
    );
    dam_firmware_common::exit(ok)
}

dam_firmware_common::semihosting_handlers!();
