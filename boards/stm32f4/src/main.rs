//! `dam-core`'s MNIST classifier on an STM32F405/407 (Cortex-M4F).
//!
//! Classifies the test images embedded by `dam-firmware-common` with the
//! embedded K = 100 model and checks every prediction against the host's.
//! On hardware (default features) the outcome goes out over defmt-rtt and
//! the firmware ends on a breakpoint (`probe-rs run` exits 0) or a panic
//! (non-zero); with `--features qemu` it prints and exits through
//! semihosting on QEMU `netduinoplus2`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

/// Images to classify: all 500 embedded ones fit the 1 MB flash.
const ROWS: usize = 500;

#[cfg(feature = "qemu")]
#[entry]
fn main() -> ! {
    dam_firmware_common::exit(dam_firmware_common::qemu_vectors_check(ROWS))
}

#[cfg(feature = "qemu")]
dam_firmware_common::semihosting_handlers!();

#[cfg(not(feature = "qemu"))]
use {defmt_rtt as _, panic_probe as _};

#[cfg(not(feature = "qemu"))]
#[entry]
fn main() -> ! {
    use dam_firmware_common::{SysTickClock, probe_vectors_check};
    let Some(p) = cortex_m::Peripherals::take() else {
        defmt::panic!("core peripherals already taken");
    };
    let mut clock = SysTickClock::new(p.SYST);
    probe_vectors_check(ROWS, &mut clock, "SysTick ticks (core cycles)")
}
