//! Output and exit status through semihosting (QEMU, or a debugger that
//! supports it).

use cortex_m_semihosting::{debug, hprintln};

use crate::check::{Failure, Outcome};

/// Prints the outcome of [`crate::mnist_check`]; `true` if it passed.
pub fn report(result: &Result<Outcome, Failure>) -> bool {
    match result {
        Ok(o) => {
            hprintln!("{}", o);
            o.passed()
        }
        Err(e) => {
            hprintln!("MNIST check failed: {}", e);
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
