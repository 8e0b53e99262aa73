//! Runs the Cortex-M FPU kernels of dam-core against the scalar reference.
#![no_std]
#![no_main]
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use dam_core::simd::{self, Isa, Kernels, scalar};

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
    hprintln!(
        "cortex-m fpu kernels: {} checks, {} failures",
        checks,
        fails
    );
    if fails == 0 {
        debug::exit(debug::EXIT_SUCCESS)
    } else {
        debug::exit(debug::EXIT_FAILURE)
    }
    loop {}
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
