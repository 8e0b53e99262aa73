//! The `dam` command-line program (placeholder; replaced on main).
fn main() {}
