//! The stack high-water mark of a call, by painting the free stack first.

/// The paint: a word the code is unlikely to leave on the stack.
const PAINT: u32 = 0x5AFE_C0DE;
/// Bytes of stack the boards paint around the test-vector check: more than it
/// uses, less than the free stack of every board (≥ 100 KB).
pub(crate) const PAINT_DEPTH: usize = 32 * 1024;
/// Bytes left unpainted below the stack pointer for `paint`'s own frame.
const OWN_FRAME: usize = 64;

/// Runs `f` and returns its result and the bytes of stack it used below
/// the caller's frame (the deepest word changed, to 4 bytes). Paints
/// `depth` bytes below the stack pointer first: `depth` must be less than
/// the free stack, and a result equal to `depth` means "at least".
/// Interrupt handlers that run meanwhile count too.
pub fn stack_used<R>(depth: usize, f: impl FnOnce() -> R) -> (R, usize) {
    let top = paint(depth);
    let result = f();
    (result, top - lowest_changed(top, depth))
}

/// Paints `depth` bytes below this function's frame; returns the address
/// just above the painted range.
#[inline(never)]
fn paint(depth: usize) -> usize {
    // Below the stack pointer nothing is live until a call grows the stack
    // (ARM has no red zone). The margin covers this function's own
    // registers, which LLVM may push after reading the stack pointer.
    let top = (cortex_m::register::msp::read() as usize & !3) - OWN_FRAME;
    let mut p = top - depth;
    while p < top {
        // SAFETY: `p` is a word-aligned address in the free stack below
        // the current stack pointer (the caller keeps `depth` within the
        // stack region), which no Rust object occupies.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    top
}

/// The lowest address in `[top − depth, top)` whose word is no longer
/// the paint (`top` if none).
fn lowest_changed(top: usize, depth: usize) -> usize {
    let mut p = top - depth;
    while p < top {
        // SAFETY: as in `paint`: the range was painted and lies in the
        // stack region; reading it races with nothing (single core, no
        // concurrent writer).
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            return p;
        }
        p += 4;
    }
    top
}
