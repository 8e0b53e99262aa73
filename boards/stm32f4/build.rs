//! Links with `memory.x`, cortex-m-rt's `link.x` and, on hardware, defmt's
//! `defmt.x` (`../board_build.rs`).
#[path = "../board_build.rs"]
mod board_build;

fn main() {
    if std::env::var_os("CARGO_FEATURE_HARDWARE").is_some() {
        board_build::link(&["defmt.x"]);
    } else {
        board_build::link(&[]);
    }
}
