//! The build script every board crate shares (`#[path]`-included by each
//! `build.rs`): puts the crate's `memory.x` on the linker path and links
//! with cortex-m-rt's `link.x` plus the given scripts. Done here rather
//! than in `.cargo/config.toml`, so a build from any directory gets a
//! vector table.
use std::{env, fs, path::PathBuf};

/// Sets up linking with `memory.x`, `link.x` and each of `scripts`.
pub fn link(scripts: &[&str]) {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is beside build.rs");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=../board_build.rs");
    for script in ["link.x"].iter().chain(scripts) {
        println!("cargo:rustc-link-arg-bins=-T{script}");
    }
}
