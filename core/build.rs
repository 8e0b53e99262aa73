//! Enables `cfg(dam_dsp)` on thumbv7em targets (see below), and
//! `cfg(dam_avx512)` when the compiler is Rust 1.89 or newer, the release
//! that stabilized the AVX-512 intrinsics of `core::arch`. The crate's
//! MSRV (1.86) builds without the AVX-512 kernels; newer compilers get
//! them, selected at run time like the other x86 paths.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dam_avx512)");
    // `cfg(dam_dsp)`: the Armv7E-M DSP instructions (`smlad`, `sxtb16`) of the
    // integer kernels. Stable Rust has no `target_feature = "dsp"` cfg, so
    // the target name decides (every thumbv7em core has the DSP extension).
    println!("cargo::rustc-check-cfg=cfg(dam_dsp)");
    println!("cargo::rerun-if-env-changed=TARGET");
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("thumbv7em")) {
        println!("cargo::rustc-cfg=dam_dsp");
    }
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            // "rustc 1.95.0 (59807616e 2026-04-14)"
            let ver = v.split_whitespace().nth(1)?;
            let mut parts = ver.split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            Some((major, minor))
        });
    if matches!(minor, Some((major, minor)) if major > 1 || minor >= 89) {
        println!("cargo::rustc-cfg=dam_avx512");
    }
}
