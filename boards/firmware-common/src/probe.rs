//! Output over defmt on a real board, run by `probe-rs run`.

use crate::check::vectors_check;
use crate::clock::Clock;
use crate::stack::{PAINT_DEPTH, stack_used};

/// Runs [`vectors_check`] on the first `limit` rows, prints the outcome,
/// the stack it used and the `clock` ticks per classification (`unit`
/// names them), then stops on a breakpoint, which `probe-rs run` reports
/// as success; panics (a non-zero exit) if the board disagrees with the
/// host or the check cannot run.
pub fn probe_vectors_check(limit: usize, clock: &mut impl Clock, unit: &str) -> ! {
    let (result, stack) = stack_used(PAINT_DEPTH, || vectors_check(limit, clock));
    match result {
        Ok(o) => {
            defmt::println!("{}", o);
            defmt::println!(
                "{=u64} {=str} per classification; stack used by the check: {=usize} bytes",
                div_u64(o.ticks, o.rows),
                unit,
                stack
            );
            if !o.passed() {
                defmt::panic!("the board disagrees with the host");
            }
        }
        Err(e) => defmt::panic!("test-vector check failed: {}", e),
    }
    loop {
        cortex_m::asm::bkpt();
    }
}

/// `n / d` (`d = 0` counts as 1) by shift and subtract: `/` on a `u64`
/// would link compiler-builtins' 64-bit division (864 bytes of flash on a
/// Cortex-M4F) for this one figure.
fn div_u64(n: u64, d: u32) -> u64 {
    let d = u64::from(d.max(1));
    let (mut q, mut r) = (0u64, 0u64);
    for i in (0..64).rev() {
        // `r < d ≤ 2^32` before the shift: no bit is lost.
        r = (r << 1) | ((n >> i) & 1);
        if r >= d {
            r -= d;
            q |= 1 << i;
        }
    }
    q
}
