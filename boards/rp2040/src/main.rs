//! `dam-core`'s MNIST classifier on an RP2040 (Raspberry Pi Pico).
//!
//! The Cortex-M0+ has no FPU: with the `i8` model the boards embed,
//! `dam-firmware-common` classifies with `dam-core`'s `FixedClassifier`
//! (integer overlaps, fixed-point scoring: no floating point in the
//! classification) and compares every prediction with the host's
//! (`predictions-fixed.u8`). With an `f32` model it would run the scalar
//! kernels on compiler-builtins' IEEE soft float (order `unfused`). The outcome
//! and the time per classification (the 1 MHz timer) go out over
//! defmt-rtt; the firmware ends on a breakpoint (`probe-rs run` exits 0)
//! or a panic (non-zero).
#![no_std]
#![no_main]

use dam_firmware_common::{Clock, probe_vectors_check};
use rp2040_hal::{self as hal, Clock as _, pac};
use {defmt_rtt as _, panic_probe as _};

/// The second-stage bootloader for the Pico's W25Q080 flash.
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The Pico's crystal.
const XOSC_HZ: u32 = 12_000_000;
/// Images to classify: all 500 embedded ones fit the 2 MB flash.
const ROWS: usize = 500;

/// Microseconds from the RP2040's 64-bit timer.
struct Micros(hal::Timer);

impl Clock for Micros {
    fn ticks(&mut self, f: &mut dyn FnMut()) -> u32 {
        let start = self.0.get_counter();
        f();
        let us = (self.0.get_counter() - start).to_micros();
        u32::try_from(us).unwrap_or(u32::MAX)
    }
}

#[hal::entry]
fn main() -> ! {
    let Some(mut p) = pac::Peripherals::take() else {
        defmt::panic!("peripherals already taken");
    };
    let mut watchdog = hal::Watchdog::new(p.WATCHDOG);
    let Ok(clocks) = hal::clocks::init_clocks_and_plls(
        XOSC_HZ,
        p.XOSC,
        p.CLOCKS,
        p.PLL_SYS,
        p.PLL_USB,
        &mut p.RESETS,
        &mut watchdog,
    ) else {
        defmt::panic!("clock setup failed");
    };
    defmt::println!(
        "RP2040 at {=u32} Hz, classifier path: {=str}",
        clocks.system_clock.freq().to_Hz(),
        dam_firmware_common::SUM_ORDER
    );
    let mut timer = Micros(hal::Timer::new(p.TIMER, &mut p.RESETS, &clocks));
    probe_vectors_check(ROWS, &mut timer, "µs")
}
