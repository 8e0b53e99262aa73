//! Signals: SIGPIPE back to its default (a closed pipe ends the program
//! quietly, as it does `cat`), and SIGINT, SIGTERM and SIGHUP recorded so
//! that training stops at a minibatch boundary, checkpoints and exits with
//! 128 + the signal's number.

use std::sync::atomic::{AtomicI32, Ordering};

/// The last stopping signal received (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// An error that ends the program with exit code 128 + `signal`.
#[derive(Debug)]
pub struct Stopped {
    /// The signal's number.
    pub signal: i32,
    /// What the run left behind.
    pub message: String,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Stopped {}

/// Restores the default action of SIGPIPE (Rust's runtime ignores it, so a
/// `println!` into a closed pipe panics): call first in `main`.
pub fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: sets the disposition of one signal to its default, before any
    // other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(unix)]
extern "C" fn record(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// Records SIGINT, SIGTERM and SIGHUP instead of dying on them; see
/// [`received`].
pub fn install() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that does one atomic store; the
        // sigaction struct is zeroed (an empty mask) and fully owned here.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = record as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    #[cfg(not(unix))]
    {
        // Ctrl-C only; reported as SIGINT (2).
        let _ = ctrlc::set_handler(|| RECEIVED.store(2, Ordering::SeqCst));
    }
}

/// The stopping signal received since [`install`], if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The name of a stopping signal, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
