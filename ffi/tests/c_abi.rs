//! The C ABI from C: builds `libdam_ffi.a` for the host, compiles
//! `tests/c/test_dam.c` against `include/dam.h` with gcc (C99, all warnings
//! as errors, AddressSanitizer and UndefinedBehaviorSanitizer), and runs it
//! on the committed MNIST models with expectations from
//! [`dam_core::Prepared`]. Without gcc the test fails: it is not skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use dam_core::Prepared;
use dam_core::quantized::quantize_query;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/ has a parent")
        .to_path_buf()
}

/// `bytes` in 16-byte-aligned storage.
fn aligned(bytes: &[u8]) -> Vec<u128> {
    let mut words = vec![0u128; bytes.len().div_ceil(16)];
    for (i, &b) in bytes.iter().enumerate() {
        words[i / 16] |= u128::from(b) << (8 * (i % 16));
    }
    words
}

fn as_bytes(words: &[u128], len: usize) -> &[u8] {
    // SAFETY: the slice covers live, initialised integers; any byte of them
    // is a valid `u8`, and `len` is at most their size.
    let all = unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 16) };
    &all[..len]
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn c_program_calls_every_entry_point() {
    let gcc = Command::new("gcc").arg("--version").output();
    assert!(
        gcc.is_ok_and(|o| o.status.success()),
        "gcc not found: the C ABI test needs gcc with ASan/UBSan (apt-get install gcc)"
    );
    let root = workspace();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-abi");
    std::fs::create_dir_all(&tmp).unwrap();

    // The staticlib, in a target directory of its own (the outer cargo
    // holds the lock of this one while the tests run).
    let target_dir = tmp.join("target");
    run(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "-p", "dam-ffi", "--lib", "--target-dir"])
            .arg(&target_dir),
        "cargo build -p dam-ffi",
    );
    let lib = target_dir.join("debug").join("libdam_ffi.a");
    let exe = tmp.join("test_dam");
    run(
        Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g"])
            .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
            .arg("-I")
            .arg(root.join("include"))
            .arg(root.join("ffi/tests/c/test_dam.c"))
            .arg(&lib)
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&exe),
        "gcc test_dam.c",
    );

    // Expectations from the Rust handle.
    let f32_path = root.join("boards/data/mnist-k100.dam");
    let i8_path = root.join("boards/data/mnist-k120.i8.dam");
    let f32_file = std::fs::read(&f32_path).unwrap();
    let i8_file = std::fs::read(&i8_path).unwrap();
    let (w32, w8) = (aligned(&f32_file), aligned(&i8_file));
    let f32_model = Prepared::new(as_bytes(&w32, f32_file.len())).unwrap();
    let i8_model = Prepared::new(as_bytes(&w8, i8_file.len())).unwrap();
    let nv = f32_model.inputs();
    assert_eq!(nv, i8_model.inputs());
    // A blob in the middle of a dark image, as an MNIST pixel map would be.
    let input: Vec<f32> = (0..nv)
        .map(|i| {
            let (r, c) = ((i / 28) as f32 - 13.5, (i % 28) as f32 - 13.5);
            if (r * r / 60.0 + c * c / 20.0) < 1.0 && (r * r / 30.0 + c * c / 8.0) > 1.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    let mut levels = vec![0i8; nv];
    quantize_query(&input, &mut levels).unwrap();
    let mut scratch = vec![0u64; 1024];
    let s = as_bytes_mut(&mut scratch);
    let mut scores = vec![0.0f32; f32_model.classes()];
    let want_f32 = f32_model.scores(&input, s, &mut scores).unwrap();
    let want_label = f32_model.label_value(want_f32).unwrap();
    let want_i8 = i8_model.classify(&input, s).unwrap();
    let want_levels = i8_model.classify_i8(&levels, s).unwrap();

    let files = [
        ("input.bin", f32_bytes(&input)),
        ("levels.bin", levels.iter().map(|&l| l as u8).collect()),
        ("scores.bin", f32_bytes(&scores)),
    ];
    for (name, bytes) in &files {
        std::fs::write(tmp.join(name), bytes).unwrap();
    }
    run(
        Command::new(&exe)
            .arg(&f32_path)
            .arg(&i8_path)
            .args(files.iter().map(|(name, _)| tmp.join(name)))
            .args([want_f32, want_label as usize, want_i8, want_levels].map(|v| v.to_string())),
        "test_dam",
    );
}

fn as_bytes_mut(words: &mut [u64]) -> &mut [u8] {
    let len = std::mem::size_of_val(words);
    // SAFETY: an exclusively borrowed slice of plain integers; any byte
    // pattern is a valid `u8`.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
}
