//! Instructions under QEMU `-icount shift=0`: SysTick free-running over its
//! 24 bits, with its exception counting the wraps (a completion takes more
//! than 2^24 ticks), calibrated against a loop of known length as
//! `dam-firmware-common`'s `SysTickClock` is.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::exception;

static WRAPS: AtomicU32 = AtomicU32::new(0);
const RELOAD: u32 = 0x00ff_ffff;

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// SysTick with a wrap count.
pub struct Clock {
    _syst: SYST,
    /// Ticks per `2 · CALIBRATION` instructions.
    per: u64,
}

/// Iterations of the calibration loop (2 instructions each).
const CALIBRATION: u32 = 100_000;

impl Clock {
    /// Starts SysTick and calibrates it.
    pub fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        let mut clock = Clock {
            _syst: syst,
            per: 1,
        };
        // The counter reads 0 until its first reload: let it start.
        spin(1000);
        let t = clock.now();
        spin(CALIBRATION);
        clock.per = (clock.now() - t).max(1);
        clock
    }

    /// Ticks since the start.
    pub fn now(&self) -> u64 {
        loop {
            let w = WRAPS.load(Ordering::Relaxed);
            let current = SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == w {
                return u64::from(w) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
            }
        }
    }

    /// Runs `f`, returning its result and the ticks it took.
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> (R, u64) {
        let t = self.now();
        let r = f();
        (r, self.now() - t)
    }

    /// `ticks` in instructions.
    pub fn instructions(&self, ticks: u64) -> u64 {
        ticks * 2 * u64::from(CALIBRATION) / self.per
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
