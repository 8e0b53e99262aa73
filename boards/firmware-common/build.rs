//! Fails early, with the command to run, when the test vectors that
//! `src/vectors.rs` embeds have not been generated.
use std::path::Path;

const FILES: [&str; 5] = [
    "images.u8",
    "labels.u8",
    "pixel-values.f32",
    "predictions-cortex-m4f.u8",
    "predictions-unfused.u8",
];

fn main() {
    let dir = Path::new("../data/vectors");
    println!("cargo:rerun-if-changed=../data");
    for f in FILES {
        let p = dir.join(f);
        println!("cargo:rerun-if-changed={}", p.display());
        if !p.is_file() {
            panic!(
                "{} is missing: generate the test vectors first, from the repository root:\n  \
                 cargo run --release -p dam-std --bin dam -- predict \
                 --model boards/data/mnist-k100.dam --count 500 --out boards/data/vectors",
                p.display()
            );
        }
    }
}
