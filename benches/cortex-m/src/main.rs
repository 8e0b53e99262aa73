//! Runs the Cortex-M FPU kernels of dam-core against the scalar reference.
#![no_std]
#![no_main]
use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use dam_core::simd::{self, IntKernels, Isa, Kernels, scalar};
use dam_core::{Classifier, Form, Interaction, MemoryView};

/// SysTick ticks spent in `f`. Under QEMU with `-icount shift=0` these are
/// proportional to executed instructions (calibrated below), not M4 cycles.
fn ticks(syst: &mut SYST, mut f: impl FnMut()) -> u32 {
    syst.clear_current();
    let start = SYST::get_current();
    f();
    let end = SYST::get_current();
    start.wrapping_sub(end) & 0x00ff_ffff
}

/// A loop of exactly `2·n` instructions (`subs` + `bne`).
fn spin(n: u32) {
    let mut n = n;
    // SAFETY: register-only loop, no memory access.
    unsafe {
        core::arch::asm!("2:", "subs {n}, {n}, #1", "bne 2b", n = inout(reg) n, options(nomem, nostack));
    }
    let _ = n;
}

static mut XI: [f32; 100 * 794] = [0.0; 100 * 794];

fn val(i: usize, s: usize) -> f32 {
    (((i * 7919 + s * 104729) % 2001) as f32 - 1000.0) / 1000.0
}

#[entry]
fn main() -> ! {
    let mut a = [0.0f32; 300];
    let mut b = [0.0f32; 300];
    for i in 0..300 {
        a[i] = val(i, 1);
        b[i] = val(i, 2);
    }
    let mut fails = 0u32;
    let mut checks = 0u32;
    hprintln!("best = {:?}", Isa::best());
    for off in 0..2 {
        for n in 0..(203 - off) {
            let (x, y) = (&a[off..off + n], &b[off..off + n]);
            let tol = 4.0
                * (n as f32 + 2.0)
                * f32::EPSILON
                * x.iter()
                    .zip(y)
                    .map(|(p, q)| (p * q).abs() + (p - q) * (p - q))
                    .sum::<f32>();
            let d = f32::dot_on(Isa::CortexMFpu, x, y);
            let w = scalar::dot(x, y);
            let e = f32::squared_distance_on(Isa::CortexMFpu, x, y);
            let we = scalar::squared_distance(x, y);
            checks += 2;
            if (d - w).abs() > tol {
                fails += 1;
                hprintln!("dot n={} off={} {} vs {}", n, off, d, w);
            }
            if (e - we).abs() > tol {
                fails += 1;
                hprintln!("dist n={} off={} {} vs {}", n, off, e, we);
            }
        }
    }
    // gemv / fused over 7 rows of 37
    let mut out = [0.0f32; 7];
    simd::gemv(&a[..7 * 37], 37, &b[..37], &mut out);
    for mu in 0..7 {
        checks += 1;
        let w = scalar::dot(&a[mu * 37..mu * 37 + 37], &b[..37]);
        if (out[mu] - w).abs() > 1e-4 {
            fails += 1;
            hprintln!("gemv {}", mu);
        }
    }
    let mut calls = 0;
    simd::gemm_nt_fused(&a[..5 * 20], &b[..3 * 20], 20, |mu, j, v| {
        calls += 1;
        let w = scalar::dot(&a[mu * 20..mu * 20 + 20], &b[j * 20..j * 20 + 20]);
        if (v - w).abs() > 1e-4 {
            fails += 1;
        }
    });
    checks += 1;
    if calls != 15 {
        fails += 1;
    }
    // The DSP integer kernels (smlad/sxtb16, smlald) against the reference:
    // every length up to 202, two offsets (unaligned words), exact.
    let qa: [i8; 300] = core::array::from_fn(|i| (val(i, 5) * 128.0) as i8);
    let qb: [i8; 300] = core::array::from_fn(|i| (val(i, 6) * 128.0) as i8);
    let ha: [i16; 300] = core::array::from_fn(|i| (val(i, 7) * 32768.0) as i16);
    let hb: [i16; 300] = core::array::from_fn(|i| (val(i, 8) * 32768.0) as i16);
    for off in 0..2 {
        for n in 0..(203 - off) {
            checks += 2;
            let d8 = i8::int_dot_on(Isa::CortexMDsp, &qa[off..off + n], &qb[..n]);
            if d8 != Ok(scalar::dot_i8(&qa[off..off + n], &qb[..n])) {
                fails += 1;
                hprintln!("dot_i8 n={} off={}", n, off);
            }
            let d16 = i16::int_dot_on(Isa::CortexMDsp, &ha[off..off + n], &hb[..n]);
            if d16 != Ok(scalar::dot_i16(&ha[off..off + n], &hb[..n])) {
                fails += 1;
                hprintln!("dot_i16 n={} off={}", n, off);
            }
        }
    }
    // `gemv_i8` (the query packed once, two rows per pass): every row count
    // 0–5 (odd ones use the one-row remainder), row lengths 0–57 (the
    // 16-entry loop, the 4-entry loop and the 0–3 scalar tail), queries
    // shorter than the rows, two offsets; plus chunks of more than
    // `PACK_CHUNK` entries below.
    for off in 0..2 {
        for rows in 0..6 {
            for d in 0usize..58 {
                for xlen in [d, d.saturating_sub(5)] {
                    let m = &qa[off..off + rows * d];
                    let x = &qb[..xlen];
                    let mut got = [7i32; 6];
                    let mut want = [7i32; 6];
                    let _ = i8::int_gemv_on(Isa::CortexMDsp, m, d, x, &mut got[..rows]);
                    scalar::gemv_rows(m, d, x, &mut want[..rows], scalar::dot_i8);
                    checks += 1;
                    if got != want {
                        fails += 1;
                        hprintln!("gemv_i8 rows={} d={} xlen={} off={}", rows, d, xlen, off);
                    }
                }
            }
        }
    }
    // `quantize_query` (on the M4F the word loop in assembly) against the
    // `f32` expression, on every level's boundaries (±64 steps, both
    // signs), special values and pseudo-random bits, each in runs of
    // repeated words, words mixing it with the previous value, and a tail.
    {
        let reference = |x: f32| libm::roundf(x.clamp(-1.0, 1.0) * 127.0) as i8;
        let mut values = [0f32; 128 * 2 * 2 * 129 + 16 + 4096];
        let mut n = 0;
        for level in 0..128 {
            for centre in [(level as f32 + 0.5) / 127.0, level as f32 / 127.0] {
                for sign in [1.0f32, -1.0] {
                    for step in 0..129u32 {
                        values[n] =
                            sign * f32::from_bits((centre.to_bits() + step).saturating_sub(64));
                        n += 1;
                    }
                }
            }
        }
        for x in [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            1e-45,
            2.0,
            -3.0,
            f32::MAX,
            f32::MIN,
            0.99999994,
            -0.99999994,
        ] {
            values[n] = x;
            n += 1;
        }
        let mut state = 0x2545_f491u32;
        while n < values.len() {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            values[n] = f32::from_bits(state);
            n += 1;
        }
        let mut prev = -1.0f32;
        for &x in &values[..n] {
            let p = prev;
            let mut v = [x; 35];
            v[8] = p;
            v[16..20].copy_from_slice(&[p; 4]);
            v[27] = p;
            v[33] = p;
            let mut got = [0i8; 35];
            let status = dam_core::quantized::quantize_query(&v, &mut got);
            checks += 1;
            let finite = x.is_finite() && p.is_finite();
            if got.iter().zip(&v).any(|(&q, &y)| q != reference(y)) || status.is_ok() != finite {
                fails += 1;
                hprintln!("quantize_query {:#x} after {:#x}", x.to_bits(), p.to_bits());
            }
            prev = x;
        }
    }
    hprintln!(
        "cortex-m fpu kernels: {} checks, {} failures",
        checks,
        fails
    );

    // Instruction counts (meaningful with `-icount shift=0`, see the runner).
    let mut cp = cortex_m::Peripherals::take().expect("peripherals");
    let syst = &mut cp.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00ff_ffff);
    syst.enable_counter();
    let cal = ticks(syst, || spin(100_000));
    let per_tick = 200_000.0 / cal as f32;
    hprintln!("calibration: {} ticks for 200000 instructions", cal);
    // SAFETY: single-threaded firmware; the only reference to XI.
    let xi: &mut [f32] = unsafe { &mut *core::ptr::addr_of_mut!(XI) };
    for (i, x) in xi.iter_mut().enumerate() {
        *x = val(i, 3);
    }
    let (k, d, nc) = (100usize, 794usize, 10usize);
    let v: [f32; 784] = core::array::from_fn(|i| val(i, 4));
    let mut s = 0.0;
    let t_fpu = ticks(syst, || {
        s += f32::dot_on(Isa::CortexMFpu, &xi[..d], &xi[d..2 * d])
    });
    let t_ref = ticks(syst, || {
        s += f32::dot_on(Isa::Scalar, &xi[..d], &xi[d..2 * d])
    });
    hprintln!(
        "dot D=794: vfma asm loop {} instructions, scalar reference {} ({})",
        (t_fpu as f32 * per_tick) as u32,
        (t_ref as f32 * per_tick) as u32,
        s
    );
    let clf = Classifier::new(
        MemoryView::new(xi, k, d).expect("shape"),
        nc,
        Interaction::RectifiedPolynomial { n: 20 },
        Form::Normalized { beta: 1.0 },
    )
    .expect("classifier");
    let mut scores = [0.0f32; 10];
    let mut scratch = [0.0f32; 100];
    let mut class = 0;
    let t = ticks(syst, || {
        class = clf.forward(&v, &mut scores, &mut scratch).unwrap_or(99)
    });
    hprintln!(
        "classifier forward K=100 D=794 Nc=10 n=20: {} instructions per input (class {})",
        (t as f32 * per_tick) as u32,
        class
    );
    quantized_counts(syst, per_tick, xi, &v);
    if fails == 0 {
        debug::exit(debug::EXIT_SUCCESS)
    } else {
        debug::exit(debug::EXIT_FAILURE)
    }
    loop {}
}

static mut Q8: [i8; 100 * 794] = [0; 100 * 794];
static mut Q16: [i16; 100 * 794] = [0; 100 * 794];

/// Instruction counts of the integer kernels and the quantized classifiers
/// (issue 6), on the memories `xi` quantized.
fn quantized_counts(syst: &mut SYST, per_tick: f32, xi: &[f32], v: &[f32; 784]) {
    use dam_core::quantized::{
        FixedClassifier, FixedRow, QuantizedClassifier, QuantizedView, Score, quantize_query,
    };
    let (k, d, nc) = (100usize, 794usize, 10usize);
    // SAFETY: single-threaded firmware; the only references to Q8 and Q16.
    let q8: &mut [i8] = unsafe { &mut *core::ptr::addr_of_mut!(Q8) };
    let q16: &mut [i16] = unsafe { &mut *core::ptr::addr_of_mut!(Q16) };
    quantize_query(xi, q8).expect("i8");
    quantize_query(xi, q16).expect("i16");
    let count = |t: u32| (t as f32 * per_tick) as u32;
    let mut s = 0i64;
    let t_dsp = ticks(syst, || {
        s += i64::from(i8::int_dot_on(Isa::CortexMDsp, &q8[..d], &q8[d..2 * d]).unwrap_or(0))
    });
    let t_ref = ticks(syst, || {
        s += i64::from(i8::int_dot_on(Isa::Scalar, &q8[..d], &q8[d..2 * d]).unwrap_or(0))
    });
    hprintln!(
        "dot_i8 D=794: smlad {} instructions, scalar reference {} ({})",
        count(t_dsp),
        count(t_ref),
        s
    );
    let t_dsp = ticks(syst, || {
        s += i16::int_dot_on(Isa::CortexMDsp, &q16[..d], &q16[d..2 * d]).unwrap_or(0)
    });
    let t_ref = ticks(syst, || {
        s += i16::int_dot_on(Isa::Scalar, &q16[..d], &q16[d..2 * d]).unwrap_or(0)
    });
    hprintln!(
        "dot_i16 D=794: smlald {} instructions, scalar reference {} ({})",
        count(t_dsp),
        count(t_ref),
        s
    );

    // The row block of a classification: K = 100 rows of D = 794 times the
    // 784 pixels (78 400 multiply-accumulates), exact against the reference.
    let mut q_in = [0i8; 784];
    quantize_query(v, &mut q_in).expect("query");
    let (mut g_pack, mut g_rows, mut g_ref) = ([0i32; 100], [0i32; 100], [0i32; 100]);
    let t_pack = ticks(syst, || {
        let _ = i8::int_gemv_on(Isa::CortexMDsp, &q8[..k * d], d, &q_in, &mut g_pack);
    });
    let t_rows = ticks(syst, || {
        scalar::gemv_rows(&q8[..k * d], d, &q_in, &mut g_rows, |a, b| {
            i8::int_dot_on(Isa::CortexMDsp, a, b).unwrap_or(0)
        })
    });
    let t_ref = ticks(syst, || {
        let _ = i8::int_gemv_on(Isa::Scalar, &q8[..k * d], d, &q_in, &mut g_ref);
    });
    hprintln!(
        "gemv_i8 K=100 D=794 x 784: packed query {} instructions ({} per 100 MAC), dot_i8 per row {}, scalar reference {}; equal: {}",
        count(t_pack),
        count(t_pack) / 784,
        count(t_rows),
        count(t_ref),
        g_pack == g_ref && g_rows == g_ref
    );
    // A query longer than one packed chunk (1024 entries): 3 rows of 2 500.
    let (mut g1, mut g2) = ([0i32; 3], [0i32; 3]);
    let _ = i8::int_gemv_on(
        Isa::CortexMDsp,
        &q8[..3 * 2500],
        2500,
        &q8[10_000..12_500],
        &mut g1,
    );
    let _ = i8::int_gemv_on(
        Isa::Scalar,
        &q8[..3 * 2500],
        2500,
        &q8[10_000..12_500],
        &mut g2,
    );
    if g_pack != g_ref || g_rows != g_ref || g1 != g2 {
        hprintln!("gemv_i8 K=100 or the 2 500-entry rows differ from the reference");
        debug::exit(debug::EXIT_FAILURE);
    }

    skipping_checks_and_counts(syst, per_tick, q8, &q_in);

    let scales = [1.0f32 / 127.0; 100];
    let scales16 = [1.0f32 / 32767.0; 100];
    let f = Interaction::RectifiedPolynomial { n: 20 };
    let form = Form::Normalized { beta: 1.0 };
    let mut v8 = [0i8; 784];
    let mut v16 = [0i16; 784];
    quantize_query(v, &mut v8).expect("query");
    quantize_query(v, &mut v16).expect("query");
    let view = QuantizedView::new(&q8[..], &scales, k, d).expect("view");
    let view16 = QuantizedView::new(&q16[..], &scales16, k, d).expect("view");
    let c8 = QuantizedClassifier::new(view, nc, f, form).expect("i8");
    let c16 = QuantizedClassifier::new(view16, nc, f, form).expect("i16");
    let cfx = FixedClassifier::new(view, nc, f, form).expect("fixed");
    let mut scores = [0.0f32; 10];
    let mut scratch = [0.0f32; 100];
    let (mut a, mut b, mut c) = (0, 0, 0);
    let t8 = ticks(syst, || {
        a = c8.forward(&v8, &mut scores, &mut scratch).unwrap_or(99)
    });
    let t16 = ticks(syst, || {
        b = c16.forward(&v16, &mut scores, &mut scratch).unwrap_or(99)
    });
    let mut sums = [Score::ZERO; 10];
    let mut rows = [FixedRow::ZERO; 100];
    let tfx = ticks(syst, || {
        c = cfx.forward(&v8, &mut sums, &mut rows).unwrap_or(99)
    });
    hprintln!(
        "quantized forward K=100 D=794 Nc=10 n=20: i8 {} (class {}), i16 {} (class {}), i8 fixed point {} (class {}) instructions per input",
        count(t8),
        a,
        count(t16),
        b,
        count(tfx),
        c
    );
}

#[exception]
unsafe fn HardFault(_ef: &ExceptionFrame) -> ! {
    hprintln!("HardFault");
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

#[panic_handler]
fn panic(i: &core::panic::PanicInfo) -> ! {
    hprintln!("panic {}", i);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

/// `gemv_i8_skipping` (the background-skipping row block) against the
/// reference on Cortex-M (its three-row `asm!` loop), then its instruction
/// count on the K = 100 block with an MNIST-like query: 81% of the entries
/// background (`−127`, the level of pixel 0).
fn skipping_checks_and_counts(syst: &mut SYST, per_tick: f32, q8: &[i8], q_in: &[i8; 784]) {
    use dam_core::simd::{gemv_i8_skipping, row_sums_i8};
    let mut fails = 0u32;
    let mut checks = 0u32;
    // Rows 0–7 (blocks of three and the remainder), short and long rows (a
    // query with more non-background entries than one list of 256), queries
    // from all background to none, three backgrounds.
    for rows in 0..8usize {
        for d in [1usize, 2, 7, 40, 300, 794] {
            for percent in [0usize, 50, 81, 100] {
                for b in [-127i8, 0, 127] {
                    let m = &q8[..rows * d];
                    let mut x = [0i8; 794];
                    for (i, e) in x[..d].iter_mut().enumerate() {
                        *e = if (i * 37 + rows) % 100 < percent {
                            b
                        } else {
                            q8[50_000 + i]
                        };
                    }
                    let x = &x[..d];
                    let mut sums = [0i32; 8];
                    let _ = row_sums_i8(m, d, d, &mut sums[..rows]);
                    let (mut got, mut want) = ([7i32; 8], [7i32; 8]);
                    let _ = gemv_i8_skipping(m, d, x, b, &sums[..rows], &mut got[..rows]);
                    scalar::gemv_rows(m, d, x, &mut want[..rows], scalar::dot_i8);
                    checks += 1;
                    if got != want {
                        fails += 1;
                        hprintln!(
                            "gemv_i8_skipping rows={} d={} percent={} b={}",
                            rows,
                            d,
                            percent,
                            b
                        );
                    }
                }
            }
        }
    }
    hprintln!("gemv_i8_skipping: {} checks, {} failures", checks, fails);
    let (k, d) = (100usize, 794usize);
    let mut x = *q_in;
    for (i, e) in x.iter_mut().enumerate() {
        if i % 100 < 81 {
            *e = -127;
        }
    }
    let mut want = [0i32; 100];
    let _ = i8::int_gemv_on(Isa::CortexMDsp, &q8[..k * d], d, &x, &mut want);
    let t_dense = ticks(syst, || {
        let _ = i8::int_gemv_on(Isa::CortexMDsp, &q8[..k * d], d, &x, &mut want);
    });
    let mut sums = [0i32; 100];
    let _ = row_sums_i8(&q8[..k * d], d, 784, &mut sums);
    let mut got = [0i32; 100];
    let t_skip = ticks(syst, || {
        let _ = gemv_i8_skipping(&q8[..k * d], d, &x, -127, &sums, &mut got);
    });
    let count = |t: u32| (t as f32 * per_tick) as u32;
    let macs = 100 * (784 - x.iter().filter(|&&e| e == -127).count());
    hprintln!(
        "gemv_i8 K=100 x 784, 81% background: dense {} instructions, skipping {} ({} non-background MACs, {} per 100); equal: {}",
        count(t_dense),
        count(t_skip),
        macs,
        count(t_skip) * 100 / macs as u32,
        got == want
    );
    if fails > 0 || got != want {
        debug::exit(debug::EXIT_FAILURE);
    }
}
