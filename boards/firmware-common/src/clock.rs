//! Timing a classification: SysTick, or nothing.

use cortex_m::peripheral::{SYST, syst::SystClkSource};

/// Something that measures how long a closure runs.
pub trait Clock {
    /// Runs `f` and returns the ticks it took.
    fn ticks(&mut self, f: &mut dyn FnMut()) -> u32;
}

/// No timing (every measurement is 0).
pub struct NoClock;

impl Clock for NoClock {
    fn ticks(&mut self, f: &mut dyn FnMut()) -> u32 {
        f();
        0
    }
}

/// SysTick on the core clock, free-running over its 24 bits: one
/// measurement must stay under 2^24 ticks.
///
/// On hardware a tick is a core cycle. Under QEMU with `-icount shift=0`
/// SysTick advances with executed instructions and is repeatable run to
/// run (the DWT cycle counter reads 0 there); [`SysTickClock::calibrate`]
/// measures how many instructions a tick is.
pub struct SysTickClock(SYST);

impl SysTickClock {
    /// Starts SysTick free-running.
    pub fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00ff_ffff);
        syst.clear_current();
        syst.enable_counter();
        SysTickClock(syst)
    }

    /// Ticks taken by a loop of exactly `2 · iterations` instructions
    /// (`subs` + `bne`), to turn ticks into instructions under QEMU.
    pub fn calibrate(&mut self, iterations: u32) -> u32 {
        self.ticks(&mut || spin(iterations))
    }
}

impl Clock for SysTickClock {
    fn ticks(&mut self, f: &mut dyn FnMut()) -> u32 {
        self.0.clear_current();
        let start = SYST::get_current();
        f();
        let end = SYST::get_current();
        start.wrapping_sub(end) & 0x00ff_ffff
    }
}

/// A loop of exactly `2·n` instructions for `n ≥ 1`.
fn spin(n: u32) {
    let mut n = n.max(1);
    // SAFETY: a register-only loop: no memory, no stack; `subs` sets flags.
    unsafe {
        core::arch::asm!("2:", "subs {n}, {n}, #1", "bne 2b", n = inout(reg) n, options(nomem, nostack));
    }
    let _ = n;
}
