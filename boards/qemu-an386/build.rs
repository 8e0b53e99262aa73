//! Links with `memory.x` and cortex-m-rt's `link.x` (`../board_build.rs`).
#[path = "../board_build.rs"]
mod board_build;

fn main() {
    board_build::link(&[]);
}
