//! Learning on the device (QEMU `mps2-an386`, Cortex-M4F): a random-feature
//! memory ([`DrDam`] over a [`SeededProjection`], `T = Σ φ(ξ)` of `2Y`
//! floats, the projection regenerated from its seed) that
//! 1. stores the patterns it receives at run time (a "link" delivering
//!    the bytes of `patterns.u8`, one pattern at a time, into one receive
//!    buffer);
//! 2. completes a cue of each of the first `RECALLS` (the first `KNOWN`
//!    entries clamped, the rest from 0 by gradient descent,
//!    [`EnergyModel::descend`]);
//! 3. forgets one, and shows it is gone: its cue no longer completes to it
//!    and the energy at it rises, while the others still complete.
//!
//! Every completed state, energy, and the hash of `T` after the stores and
//! after the forget must equal, bit for bit, what `dam_std::learn_board`
//! computed on the host (`expected.u32`); with at most 10 patterns the
//! completions must also succeed as described. RAM does not depend on the
//! number of patterns: `T` (static), one pattern buffer, `2D` floats of
//! scratch. Exits 0 or 1 through semihosting.
#![no_std]
#![no_main]

mod clock;
#[path = "../../firmware-common/src/stack.rs"]
mod stack;

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use dam_core::{DrDam, EnergyModel, SeededProjection};

use clock::Clock;

mod params {
    include!(concat!(env!("OUT_DIR"), "/params.rs"));
}
use params::*;

/// What the link delivers, in order (`PATTERN_BYTES` per pattern, entry
/// `i` in bit `i mod 8` of byte `i / 8`, 1 = +1).
const LINK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/patterns.u8"));
/// The host's results (`dam_std::learn_board::Expected::words`).
const EXPECTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/expected.u32"));
/// Words per completion: the state, its energy, the energy at the pattern.
const COMPLETION_WORDS: usize = D + 2;

const _: () = assert!(LINK.len() == PATTERNS * PATTERN_BYTES);
const _: () = assert!(EXPECTED.len() == 4 * (4 + 2 * RECALLS * COMPLETION_WORDS));
const _: () = assert!(D == 8 * PATTERN_BYTES && KNOWN <= D && FORGOTTEN < RECALLS);

/// With up to this many patterns the completions must succeed (beyond it
/// the memory's capacity at `FEATURES` features is exceeded: only the
/// agreement with the host is required).
const DEMONSTRATED_UP_TO: usize = 10;

/// The link: hands out pattern `i` (a retransmission when asked again).
fn receive(i: usize, buf: &mut [u8; PATTERN_BYTES]) {
    // Opaque to the optimizer, as bytes from a peripheral would be.
    let link: &[u8] = black_box(LINK);
    for (k, b) in buf.iter_mut().enumerate() {
        *b = link.get(i * PATTERN_BYTES + k).copied().unwrap_or(0);
    }
}

fn unpack(bytes: &[u8; PATTERN_BYTES]) -> [f32; D] {
    let mut x = [0.0f32; D];
    for (i, v) in x.iter_mut().enumerate() {
        *v = if bytes[i / 8] >> (i % 8) & 1 == 1 {
            1.0
        } else {
            -1.0
        };
    }
    x
}

fn expected(word: usize) -> u32 {
    let b = &EXPECTED[4 * word..4 * word + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn fnv(values: &[f32]) -> u64 {
    values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

fn recovered(x: &[f32], xi: &[f32]) -> bool {
    x[KNOWN..]
        .iter()
        .zip(&xi[KNOWN..])
        .all(|(&a, &b)| (a > 0.0) == (b > 0.0) && a != 0.0)
}

/// Compares words with `expected` from `at`; counts mismatches into
/// `mismatches` and prints the first.
struct Checker {
    at: usize,
    mismatches: usize,
}

impl Checker {
    fn word(&mut self, what: &str, got: u32) {
        let want = expected(self.at);
        if got != want {
            if self.mismatches == 0 {
                hprintln!(
                    "first mismatch: {} (word {}): board {:#010x}, host {:#010x}",
                    what,
                    self.at,
                    got,
                    want
                );
            }
            self.mismatches += 1;
        }
        self.at += 1;
    }

    fn hash(&mut self, what: &str, h: u64) {
        self.word(what, h as u32);
        self.word(what, (h >> 32) as u32);
    }
}

#[derive(Default)]
struct Outcome {
    store_ticks: u64,
    forget_ticks: u64,
    recall_ticks: u64,
    completed_before: usize,
    completed_after_others: usize,
    forgotten_completed: bool,
    energy_before: f32,
    energy_after: f32,
    mismatches: usize,
}

/// The whole sequence; `Err` if `dam-core` refused a call.
fn run(t: &mut [f32], clock: &Clock) -> Result<Outcome, dam_core::Error> {
    let projection = SeededProjection::new(SEED, FEATURES, D)?;
    let mut dam = DrDam::new(projection, BETA, t)?;
    // The projection's row (D), then descend's gradient (D).
    let mut scratch = [0.0f32; 2 * D];
    let mut buf = [0u8; PATTERN_BYTES];
    let mut o = Outcome::default();
    let mut check = Checker {
        at: 0,
        mismatches: 0,
    };

    // How many patterns arrive is up to the link: opaque to the optimizer,
    // so the code is the same whatever the count.
    for i in 0..black_box(PATTERNS) {
        receive(i, &mut buf);
        let xi = unpack(&buf);
        let (r, ticks) = clock.time(|| dam.store(&xi, &mut scratch[..D]));
        r?;
        o.store_ticks += ticks;
    }
    check.hash("T after the stores", fnv(dam.memory()));

    completions(&dam, &mut scratch, clock, &mut o, &mut check, false)?;

    receive(FORGOTTEN, &mut buf);
    let xi = unpack(&buf);
    let (r, ticks) = clock.time(|| dam.forget(&xi, &mut scratch[..D]));
    r?;
    o.forget_ticks = ticks;
    check.hash("T after the forget", fnv(dam.memory()));

    completions(&dam, &mut scratch, clock, &mut o, &mut check, true)?;
    o.mismatches = check.mismatches;
    Ok(o)
}

/// Completes the cues of patterns `0..RECALLS` (received again), checking
/// each result against the host's.
fn completions(
    dam: &DrDam<f32, SeededProjection, &mut [f32]>,
    scratch: &mut [f32; 2 * D],
    clock: &Clock,
    o: &mut Outcome,
    check: &mut Checker,
    after: bool,
) -> Result<(), dam_core::Error> {
    let mut mask = [false; D];
    mask[..KNOWN].iter_mut().for_each(|m| *m = true);
    let mut buf = [0u8; PATTERN_BYTES];
    for r in 0..RECALLS {
        receive(r, &mut buf);
        let xi = unpack(&buf);
        let mut x = [0.0f32; D];
        x[..KNOWN].copy_from_slice(&xi[..KNOWN]);
        let (d, ticks) =
            clock.time(|| dam.descend(&mut x, Some(&mask), STEP, DESCENT_STEPS, scratch));
        let d = d?;
        o.recall_ticks += ticks;
        let at_pattern = dam.energy(&xi, &mut scratch[..D])?;
        for v in x {
            check.word("completed state", v.to_bits());
        }
        check.word("energy of the completion", d.energy.to_bits());
        check.word("energy at the pattern", at_pattern.to_bits());
        let ok = recovered(&x, &xi);
        match (after, r == FORGOTTEN) {
            (false, _) => o.completed_before += usize::from(ok),
            (true, true) => o.forgotten_completed = ok,
            (true, false) => o.completed_after_others += usize::from(ok),
        }
        if r == FORGOTTEN {
            if after {
                o.energy_after = at_pattern;
            } else {
                o.energy_before = at_pattern;
            }
        }
    }
    Ok(())
}

#[entry]
fn main() -> ! {
    let Some(p) = cortex_m::Peripherals::take() else {
        hprintln!("core peripherals already taken");
        exit(false)
    };
    let clock = Clock::new(p.SYST);
    // The memory T: the only state that persists, the same size whatever
    // the number of patterns.
    let Some(t) = cortex_m::singleton!(: [f32; 2 * FEATURES] = [0.0; 2 * FEATURES]) else {
        exit(false)
    };
    hprintln!(
        "DrDAM learning on the device: D = {}, Y = {} features (T: {} bytes), beta = {}, seed {:#x}; {} patterns received",
        D,
        FEATURES,
        8 * FEATURES,
        BETA,
        SEED,
        PATTERNS
    );
    let o = match run(&mut t[..], &clock) {
        Ok(o) => o,
        Err(e) => {
            hprintln!("dam-core refused a call: {:?}", e);
            exit(false)
        }
    };
    // The stack of the same sequence again, from an empty memory, with
    // interrupts masked: the SysTick handler that counts the timer's wraps
    // would otherwise add its frame wherever it happens to fire, which
    // depends on the timing, not on the code.
    t.fill(0.0);
    let (again, stack) = cortex_m::interrupt::free(|_| {
        stack::stack_used(stack::PAINT_DEPTH, || run(&mut t[..], &clock))
    });
    if again.map(|a| a.mismatches) != Ok(o.mismatches) {
        hprintln!("the untimed run of the sequence differs from the timed one");
        exit(false)
    }
    let words = 4 + 2 * RECALLS * COMPLETION_WORDS;
    let identical = o.mismatches == 0;
    hprintln!(
        "stored {} patterns; completed {}/{} cues ({} of {} entries known, {} steps of {})",
        PATTERNS,
        o.completed_before,
        RECALLS,
        KNOWN,
        D,
        DESCENT_STEPS,
        STEP
    );
    hprintln!(
        "forgot pattern {}: its cue completes to it: {}; energy at it {} -> {}; the other cues complete: {}/{}",
        FORGOTTEN,
        o.forgotten_completed,
        o.energy_before,
        o.energy_after,
        o.completed_after_others,
        RECALLS - 1
    );
    hprintln!(
        "bit-identical to the host: {} ({} of {} words differ)",
        identical,
        o.mismatches,
        words
    );
    hprintln!("stack used by the sequence: {} bytes", stack);
    hprintln!(
        "{} instructions per store, {} per forget, {} per completion ({} steps)",
        clock.instructions(o.store_ticks) / PATTERNS as u64,
        clock.instructions(o.forget_ticks),
        clock.instructions(o.recall_ticks) / (2 * RECALLS) as u64,
        DESCENT_STEPS
    );
    let demonstrated = o.completed_before == RECALLS
        && !o.forgotten_completed
        && o.completed_after_others == RECALLS - 1
        && o.energy_after > o.energy_before + 1.0;
    let ok = identical && (demonstrated || PATTERNS > DEMONSTRATED_UP_TO);
    if !demonstrated && PATTERNS > DEMONSTRATED_UP_TO {
        hprintln!(
            "(completions not required with more than {} patterns: beyond the capacity of {} features)",
            DEMONSTRATED_UP_TO,
            FEATURES
        );
    }
    hprintln!("{}", if ok { "PASS" } else { "FAIL" });
    exit(ok)
}

/// Ends the emulation with exit status 0 (`ok`) or 1 (as
/// `dam-firmware-common`'s `exit`; that crate is not a dependency, so that
/// this board builds without the classifier's test vectors).
fn exit(ok: bool) -> ! {
    // `debug::ExitStatus` is `Result<(), ()>`: `Ok` exits 0.
    debug::exit(ok.then_some(()).ok_or(()));
    loop {
        cortex_m::asm::wfi();
    }
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    hprintln!("HardFault at pc = {:#010x}", frame.pc());
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    exit(false)
}
