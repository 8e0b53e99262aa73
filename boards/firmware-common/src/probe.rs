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
                o.ticks / u64::from(o.rows.max(1)),
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
