//! The shipped data (`data/mnist`, the default dataset) are found from the
//! program's own location or through `DAM_DATA`, never through the source
//! path of the build: a copy of the program in a directory of its own finds
//! nothing until told where, and then says where it looked.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fails_with, s, succeeds};

/// The repository root (the tests run in the source tree; the program under
/// test must not rely on that).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of `dam` at `dir/bin/dam`.
fn copy_of_dam(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join(Path::new(env!("CARGO_BIN_EXE_dam")).file_name().unwrap());
    std::fs::copy(env!("CARGO_BIN_EXE_dam"), &exe).unwrap();
    exe
}

/// Runs `cmd`, retrying while the fresh copy is busy: another test's
/// child, between its fork and exec, can still hold the copy's write
/// descriptor (the exec then fails with ETXTBSY for a moment).
fn output(cmd: &mut Command) -> Output {
    for _ in 0..100 {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
    panic!("{cmd:?} stayed busy");
}

/// `dam eval` of the boards' model on the default dataset (only the
/// 10 000 test images are read), with `DAM_DATA` set to `data` or unset.
fn eval_default(exe: &Path, cwd: &Path, data: Option<&Path>) -> Output {
    let model = repo().join("boards/data/mnist-k120.i8.dam");
    let mut cmd = Command::new(exe);
    cmd.args(["eval", s(&model)]).current_dir(cwd);
    match data {
        Some(d) => cmd.env("DAM_DATA", d),
        None => cmd.env_remove("DAM_DATA"),
    };
    output(&mut cmd)
}

#[test]
fn a_copy_elsewhere_names_where_it_looked_and_both_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let exe = copy_of_dam(dir.path());
    let out = eval_default(&exe, dir.path(), None);
    fails_with(
        &out,
        &[
            "`mnist`",
            "DAM_DATA is not set",
            s(&exe),
            &dir.path().join("bin/data/mnist").display().to_string(),
            &dir.path().join("data/mnist").display().to_string(),
            "DAM_DATA=",
            "--data DIR",
        ],
    );
    // `dam experiment` names its own flag.
    let out = output(
        Command::new(&exe)
            .args(["experiment", "prototype-transition", "--quick"])
            .current_dir(dir.path())
            .env_remove("DAM_DATA"),
    );
    fails_with(&out, &["DAM_DATA is not set", "--mnist DIR"]);
}

#[test]
fn dam_data_points_a_copy_at_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let exe = copy_of_dam(dir.path());
    let out = eval_default(&exe, dir.path(), Some(&repo().join("data")));
    succeeds(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("accuracy"));

    // DAM_DATA is the only place looked in when set.
    let empty = tempfile::tempdir().unwrap();
    let out = eval_default(&exe, dir.path(), Some(empty.path()));
    fails_with(
        &out,
        &[
            &format!("DAM_DATA={}", empty.path().display()),
            &empty.path().join("mnist").display().to_string(),
            "--data DIR",
        ],
    );
}

#[cfg(unix)]
#[test]
fn a_copy_next_to_a_data_directory_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let exe = copy_of_dam(dir.path());
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::os::unix::fs::symlink(
        repo().join("data/mnist").canonicalize().unwrap(),
        dir.path().join("data/mnist"),
    )
    .unwrap();
    // Run from elsewhere: the working directory plays no part.
    let cwd = tempfile::tempdir().unwrap();
    succeeds(&eval_default(&exe, cwd.path(), None));
}
