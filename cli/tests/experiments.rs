//! `dam experiment`: the papers' experiments from the command line (the
//! experiments themselves are tested in `dam-std`).

/// The command line: every experiment is listed, and one (the fastest)
/// runs end to end, printing its table and writing its PNG.
#[test]
fn command_lists_and_runs_experiments() {
    let dam = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dam"))
            .args(args)
            .output()
            .unwrap()
    };
    let help = dam(&["experiment", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for name in [
        "capacity",
        "prototype-transition",
        "hyperparameters",
        "drdam-error",
    ] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dam(&[
        "experiment",
        "drdam-error",
        "--quick",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("energy MAE"), "{stdout}");
    assert!(dir.path().join("drdam-error.png").exists());
}
