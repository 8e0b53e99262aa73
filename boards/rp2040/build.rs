//! Links with `memory.x` (boot2 included), cortex-m-rt's `link.x` and
//! defmt's `defmt.x` (`../board_build.rs`).
#[path = "../board_build.rs"]
mod board_build;

fn main() {
    board_build::link(&["defmt.x"]);
}
