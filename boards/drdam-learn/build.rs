//! Links with `memory.x` and cortex-m-rt's `link.x` (`../board_build.rs`),
//! and copies the vectors of `dam_std::learn_board` into `OUT_DIR`: from
//! `../data/drdam-learn`, or the directory named by `DAM_LEARN_VECTORS`
//! (absolute, or relative to `boards/`).
#[path = "../board_build.rs"]
mod board_build;

use std::path::{Path, PathBuf};

const FILES: [&str; 3] = ["params.rs", "patterns.u8", "expected.u32"];

fn main() {
    board_build::link(&[]);
    println!("cargo::rerun-if-env-changed=DAM_LEARN_VECTORS");
    let dir: PathBuf = match std::env::var_os("DAM_LEARN_VECTORS") {
        Some(p) if Path::new(&p).is_absolute() => p.into(),
        Some(p) => Path::new("..").join(p),
        None => "../data/drdam-learn".into(),
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in FILES {
        let src = dir.join(name);
        println!("cargo::rerun-if-changed={}", src.display());
        std::fs::copy(&src, out.join(name)).unwrap_or_else(|e| {
            panic!(
                "{}: {e}\ngenerate the vectors first, from the repository root:\n  \
                 cargo run --release -p dam-std --example drdam_learn_vectors -- 10 boards/data/drdam-learn",
                src.display()
            )
        });
    }
}
