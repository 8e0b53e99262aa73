fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("build script environment"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("build script environment");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
