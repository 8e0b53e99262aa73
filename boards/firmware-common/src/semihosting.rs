//! Output and exit status through semihosting (QEMU, or a debugger that
//! supports it).

use cortex_m_semihosting::{debug, hprintln};

use crate::check::vectors_check;
use crate::clock::SysTickClock;
use crate::stack::{PAINT_DEPTH, stack_used};

/// Iterations of the calibration loop (2 instructions each).
const CALIBRATION: u32 = 100_000;
/// Runs [`vectors_check`] on the first `limit` rows under QEMU, prints the
/// outcome and the instructions per classification (SysTick calibrated
/// against a loop of known length; exact only with `-icount shift=0`), and
/// returns `true` if it passed.
pub fn qemu_vectors_check(limit: usize) -> bool {
    let Some(p) = cortex_m::Peripherals::take() else {
        hprintln!("test-vector check failed: core peripherals already taken");
        return false;
    };
    let mut clock = SysTickClock::new(p.SYST);
    let cal = clock.calibrate(CALIBRATION).max(1);
    let (result, stack) = stack_used(PAINT_DEPTH, || vectors_check(limit, &mut clock));
    match result {
        Ok(o) => {
            hprintln!("{}", o);
            hprintln!("stack used by the check: {} bytes", stack);
            let instructions = 2 * u64::from(CALIBRATION);
            let per_image = o.ticks * instructions / u64::from(cal) / u64::from(o.rows.max(1));
            hprintln!(
                "{} instructions per classification (SysTick: {} ticks per {} instructions)",
                per_image,
                cal,
                instructions
            );
            o.passed()
        }
        Err(e) => {
            hprintln!("test-vector check failed: {}", e);
            false
        }
    }
}

/// Ends the emulation with exit status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// The `HardFault` handler and the panic handler of a semihosting
/// firmware: print what happened and exit with status 1. Expand once in
/// the binary crate (which depends on `cortex-m-rt`).
#[macro_export]
macro_rules! semihosting_handlers {
    () => {
        #[::cortex_m_rt::exception]
        unsafe fn HardFault(frame: &::cortex_m_rt::ExceptionFrame) -> ! {
            $crate::__semihosting::hprintln!("HardFault at pc = {:#010x}", frame.pc());
            $crate::exit(false)
        }

        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::__semihosting::hprintln!("panic: {}", info);
            $crate::exit(false)
        }
    };
}
