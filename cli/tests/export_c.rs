//! `dam export --format c`: the header and source compile as C99 with every
//! warning an error, for f32 and i8 models and for class names that need
//! escaping.

mod common;

use std::path::Path;
use std::process::Command;

use common::{dam, s};

/// Compiles `c` (with `include/dam.h` on the path) as strict C99; panics
/// with the compiler's output if it fails, or if there is no `gcc`.
fn compiles(c: &Path) {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include");
    let obj = c.with_extension("o");
    let out = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c"])
        .arg("-I")
        .arg(&include)
        .arg(c)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("gcc is needed for this test (Debian: apt-get install gcc)");
    assert!(
        out.status.success(),
        "{} does not compile:\n{}",
        c.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(obj.exists());
}

fn export(model: &Path, quantize: &str, out: &Path) -> String {
    let run = dam(&[
        "export",
        "--model",
        s(model),
        "--quantize",
        quantize,
        "--format",
        "c",
        "--out",
        s(out),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).to_string()
}

#[test]
fn exported_c_compiles_for_f32_and_i8_models() {
    let dir = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/data/mnist-k100.dam");
    for q in ["f32", "i8"] {
        // A directory that does not exist yet, and a name that is not a C identifier.
        let c = dir.path().join(format!("new/mnist-{q}.c"));
        let said = export(&model, q, &c);
        assert!(
            said.contains("mnist_") && said.contains("_classify"),
            "{said}"
        );
        compiles(&c);
        let h = std::fs::read_to_string(c.with_extension("h")).unwrap();
        let name = format!("MNIST_{}", q.to_uppercase());
        for define in ["INPUTS 784u", "CLASSES 10u", "MEMORIES 100u"] {
            assert!(h.contains(&format!("#define {name}_{define}")), "{h}");
        }
        assert!(h.contains(&format!(
            "dam_status mnist_{q}_classify(const float *input, uint32_t *class_out);"
        )));
    }
}

#[test]
fn an_i8_model_exports_as_it_is() {
    // The bytes must be the file's (its CRC is what `dam predict`'s vectors record).
    let dir = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/data/mnist-k120.i8.dam");
    let bytes = std::fs::read(&model).unwrap();
    let c = dir.path().join("board.c");
    export(&model, "i8", &c);
    compiles(&c);
    let src = std::fs::read_to_string(&c).unwrap();
    // The last line of the array: the CRC trailer.
    let last: String = bytes
        .chunks(16)
        .last()
        .unwrap()
        .iter()
        .map(|b| format!(" 0x{b:02x},"))
        .collect();
    assert!(src.contains(&format!("   {last}\n}};")), "{last}");
    let h = std::fs::read_to_string(c.with_extension("h")).unwrap();
    assert!(
        h.contains(&format!("#define BOARD_MODEL_BYTES {}u", bytes.len())),
        "{h}"
    );
    let bin = dir.path().join("board.i8.dam");
    let run = dam(&[
        "export",
        "--model",
        s(&model),
        "--quantize",
        "i8",
        "--out",
        s(&bin),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read(&bin).unwrap(), bytes);
}

#[test]
fn class_names_are_escaped_for_c() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("odd.csv");
    let mut text = String::from("a,b,label\n");
    let names = ["quote\"d", "back\\slash", "tri??=graph", "naïve"];
    for i in 0..80 {
        let c = i % 4;
        text.push_str(&format!(
            "{},{},\"{}\"\n",
            c as f32 + 0.1 * (i % 7) as f32,
            -(c as f32),
            names[c].replace('"', "\"\"")
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("train");
    let run = dam(&[
        "train",
        "--data",
        s(&csv),
        "--epochs",
        "2",
        "-n",
        "3",
        "--quiet",
        "--out",
        s(&out),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let c = dir.path().join("odd.c");
    export(&out.join("model.dam"), "i8", &c);
    compiles(&c);
    let src = std::fs::read_to_string(&c).unwrap();
    assert!(src.contains(r#""back\\slash""#), "{src}");
    assert!(src.contains(r#""quote\"d""#), "{src}");
    assert!(src.contains(r#""tri\?\?=graph""#), "{src}");
    assert!(src.contains(r#""na\303\257ve""#), "{src}");
}

/// A Potts model exports in f32 by default (its only forward pass) as C
/// that compiles, with its dimensions.
#[test]
fn a_potts_model_exports_as_c() {
    let dir = tempfile::tempdir().unwrap();
    let params = dam_std::potts::Params {
        p: 3,
        d: 2,
        c: 2,
        beta: 4.0,
        w: vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5],
        theta: vec![2.0, 0.0, 0.0, 2.0, 1.0, 1.0],
        rho: vec![0.0; 3],
    };
    let model = dir.path().join("potts.dam");
    params.save(&model).unwrap();
    let c = dir.path().join("potts.c");
    let run = dam(&[
        "export",
        "--model",
        s(&model),
        "--format",
        "c",
        "--out",
        s(&c),
    ]);
    common::succeeds(&run);
    assert!(String::from_utf8_lossy(&run.stdout).contains("f32"));
    compiles(&c);
    let h = std::fs::read_to_string(c.with_extension("h")).unwrap();
    for define in ["INPUTS 2u", "CLASSES 2u", "MEMORIES 3u"] {
        assert!(h.contains(&format!("#define POTTS_{define}")), "{h}");
    }
}
