//! The write side of the `dam` program (the "Write side" table of
//! docs/robustness.md): outputs never overwrite inputs, inputs are checked
//! before an output is touched, files get the umask's mode, a closed pipe
//! ends a command quietly, one run at a time per training directory,
//! SIGTERM stops training like Ctrl-C, `--resume` refuses other settings,
//! absurd counts and huge declared sizes are refused, and a run that fails
//! (divergence, a full disk, a read-only directory) leaves its directory
//! as it was.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{GOOD_CSV, dam, fails_with, listing, long_run, mini_mnist, npy, s, start_training};

/// Two features, classes 0 and 1, four rows of each.
/// The options of a quick run on [`GOOD_CSV`].
const QUICK: [&str; 12] = [
    "--epochs",
    "1",
    "-k",
    "4",
    "-n",
    "3",
    "--threads",
    "1",
    "--val-fraction",
    "0",
    "--test-fraction",
    "0.25",
];

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 2-class classifier model (K = 2, Nv = 2) at `path`, via `dam import`.
fn classifier(dir: &Path, path: &Path) -> Vec<u8> {
    let mem = dir.join("clf.npy");
    npy(&mem, &[2, 4], vec![1., -1., 1., -1., -1., 1., -1., 1.]);
    ok(&dam(&[
        "import",
        s(&mem),
        "--out",
        s(path),
        "--kind",
        "classifier",
        "--classes",
        "2",
        "-n",
        "3",
    ]));
    std::fs::read(path).unwrap()
}

/// [`GOOD_CSV`] written as `dir/good.csv`, and the output directory
/// `dir/out` (not created).
fn good_csv(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("good.csv");
    std::fs::write(&data, GOOD_CSV).unwrap();
    (data, dir.join("out"))
}

/// The arguments of `dam train` on `data` into `out` with `extra` and the
/// [`QUICK`] options `extra` does not give.
fn train_args<'a>(data: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--data", s(data), "--out", s(out), "--quiet"];
    // `-n` is the KH16 classifier's: refused with `--kind potts`.
    let potts = extra.windows(2).any(|w| w == ["--kind", "potts"]);
    for pair in QUICK.chunks(2) {
        let skipped = extra.contains(&pair[0]) || (potts && pair[0] == "-n");
        if !skipped {
            args.extend_from_slice(pair);
        }
    }
    args.extend_from_slice(extra);
    args
}

/// `args` for `--kind potts`: without the KH16 classifier's `-n N`.
fn without_degree<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        if a == "-n" {
            it.next();
        } else {
            out.push(a);
        }
    }
    out
}

/// `dam train` with [`train_args`].
fn train(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    dam(&train_args(data, out, extra))
}

#[test]
fn outputs_that_are_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.dam");
    let good = classifier(dir.path(), &model);
    // export --format rust --out DIR/model.rs: the blob would be DIR/model.dam.
    let rs = dir.path().join("model.rs");
    fails_with(
        &dam(&[
            "export",
            "--model",
            s(&model),
            "--format",
            "rust",
            "--out",
            s(&rs),
        ]),
        &["model.dam", "overwrite the input"],
    );
    assert!(!rs.exists());
    // --out the model itself, also through another spelling.
    let other = dir.path().join(".").join("model.dam");
    fails_with(
        &dam(&["export", "--model", s(&model), "--out", s(&other)]),
        &["overwrite the input"],
    );
    // A Rust module whose blob is the module itself.
    let clash = dir.path().join("x.dam");
    fails_with(
        &dam(&[
            "export",
            "--model",
            s(&model),
            "--format",
            "rust",
            "--out",
            s(&clash),
        ]),
        &["same file"],
    );
    assert_eq!(std::fs::read(&model).unwrap(), good);
    // import and recall with --out an input.
    let mem = dir.path().join("clf.npy");
    let before = std::fs::read(&mem).unwrap();
    fails_with(
        &dam(&["import", s(&mem), "--out", s(&mem)]),
        &["clf.npy", "overwrite the input"],
    );
    let q = dir.path().join("q.npy");
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    let q_before = std::fs::read(&q).unwrap();
    fails_with(
        &dam(&[
            "recall",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--out",
            s(&q),
        ]),
        &["q.npy", "overwrite the input"],
    );
    assert_eq!(std::fs::read(&mem).unwrap(), before);
    assert_eq!(std::fs::read(&q).unwrap(), q_before);
    // train --out holding the data as one of its run files.
    let out = dir.path().join("run");
    std::fs::create_dir(&out).unwrap();
    let data = out.join("metrics.csv");
    std::fs::write(&data, GOOD_CSV).unwrap();
    fails_with(
        &train(&data, &out, &[]),
        &["metrics.csv", "overwrite the input"],
    );
    assert_eq!(std::fs::read_to_string(&data).unwrap(), GOOD_CSV);
}

/// Runs refused for their options or their data (`--epochs 0`,
/// `--train-limit 0`, kh16 and potts; a non-numeric CSV value; `--resume`
/// without a checkpoint's settings) exit 1 before anything in the output
/// directory is touched: names, bytes and modes as they were.
#[test]
fn a_refused_run_does_not_touch_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = good_csv(dir.path());
    ok(&train(&data, &out, &[]));
    let before = snapshot(&out);
    fails_with(&train(&data, &out, &["--epochs", "0"]), &["--epochs 0"]);
    fails_with(
        &train(&data, &out, &["--train-limit", "0"]),
        &["--train-limit 0"],
    );
    fails_with(
        &train(&data, &out, &["--kind", "potts", "--epochs", "0"]),
        &["--epochs 0"],
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "a,b,label\n1,2,0\n3,abc,1\n").unwrap();
    fails_with(&train(&bad, &out, &[]), &["bad.csv", "line 3"]);
    fails_with(
        &train(&bad, &out, &["--kind", "potts"]),
        &["bad.csv", "line 3"],
    );
    fails_with(
        &train(&data, &out, &["-k", "5", "--resume", "--epochs", "2"]),
        &["checkpoint.bin", "other settings"],
    );
    assert_eq!(snapshot(&out), before);
}

/// A model holding a NaN (as a diverged run once published) is refused by
/// `dam info`, naming the file.
#[test]
fn info_refuses_a_model_with_a_nan() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.dam");
    let mut bytes = classifier(dir.path(), &model);
    let aligned = dam_std::model_io::AlignedBytes::new(&bytes);
    let off = dam_core::model::Model::parse(aligned.as_bytes())
        .unwrap()
        .header()
        .data_offset();
    bytes[off..off + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let n = bytes.len();
    let crc = dam_core::model::crc32(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&model, &bytes).unwrap();
    fails_with(&dam(&["info", s(&model)]), &["model.dam"]);
}

#[cfg(unix)]
#[test]
fn files_get_the_mode_the_umask_gives() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("m.npy");
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    let model = dir.path().join("m.dam");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let import = |umask: &str| {
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" import \"$1\" --out \"$2\" >/dev/null"
            ))
            .args([env!("CARGO_BIN_EXE_dam"), s(&mem), s(&model)])
            .status()
            .unwrap();
        assert!(st.success());
    };
    import("027");
    assert_eq!(mode(&model), 0o640);
    // An existing file keeps its mode.
    std::fs::set_permissions(&model, std::fs::Permissions::from_mode(0o604)).unwrap();
    import("077");
    assert_eq!(mode(&model), 0o604);
    // Training writes every file with the umask's mode too.
    let (data, out) = good_csv(dir.path());
    let st = Command::new("sh")
        .arg("-c")
        .arg(
            "umask 022; d=$1; o=$2; shift 2; \
             exec \"$0\" train --data \"$d\" --out \"$o\" --quiet \"$@\" >/dev/null 2>&1",
        )
        .args([env!("CARGO_BIN_EXE_dam"), s(&data), s(&out)])
        .args(QUICK)
        .status()
        .unwrap();
    assert!(st.success());
    for f in [
        "model.dam",
        "metrics.csv",
        "checkpoint.bin",
        "curves.png",
        "memories.png",
    ] {
        assert_eq!(mode(&out.join(f)), 0o644, "{f}");
    }
}

/// `dam info`, `dam eval` and `dam energy` with stdout a pipe whose reader
/// is gone (`dam eval … | head -1`): each ends quietly (exit 0 or SIGPIPE,
/// exit status 141 in a shell), no panic.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.dam");
    classifier(dir.path(), &model);
    let (data, out) = good_csv(dir.path());
    ok(&train(&data, &out, &[]));
    let trained = out.join("model.dam");
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[1, 4], vec![1., -1., 1., -1.]);
    let commands: [&[&str]; 3] = [
        &["info", s(&model)],
        &[
            "eval",
            s(&trained),
            "--data",
            s(&data),
            "--test-fraction",
            "0.25",
        ],
        &["energy", "--memories", s(&mem), "--queries", s(&q)],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dam"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the only reader before dam writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert!(
                out.status.code() == Some(0) || out.status.signal() == Some(13),
                "{args:?}: {:?} {err}",
                out.status
            );
        }
    }
}

/// The options of the long training run (`-n` given: no choice of the
/// degree before the first epoch).
/// Kills the child if a test fails before it has ended.
struct Reaper(Option<std::process::Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let sent = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Resumes the run in `out` for one more epoch (so the checkpoint was whole).
fn resume_one_more(data: &Path, out: &Path) {
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let next = metrics.lines().count().to_string(); // the header + one row per epoch
    let mut args = long_run(data, out, &next);
    args.push("--resume");
    ok(&dam(&args));
}

#[test]
fn one_run_per_directory_and_sigterm_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    let child = start_training(dir.path(), &out);
    let pid = child.id();
    let mut reaper = Reaper(Some(child));
    // A second run into the same directory fails at once, naming it and
    // the process holding it.
    let start = Instant::now();
    let second = dam(&long_run(dir.path(), &out, "1000000"));
    assert!(start.elapsed() < Duration::from_secs(30));
    fails_with(&second, &["another dam run", s(&out), &pid.to_string()]);
    // SIGTERM: the run checkpoints and exits 128 + 15.
    signal(pid, "-TERM");
    let done = reaper.0.take().unwrap().wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM") && err.contains("--resume"), "{err}");
    assert_eq!(listing(&out), ["checkpoint.bin", "metrics.csv"]);
    // A temporary file a killed run left is removed by the next run.
    let stale = out.join(format!("{}abc123", dam_std::output::TEMP_PREFIX));
    std::fs::write(&stale, b"half").unwrap();
    resume_one_more(dir.path(), &out);
    assert!(!stale.exists());
    assert!(
        listing(&out).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        listing(&out)
    );
    // SIGHUP too (128 + 1).
    let child = start_training(dir.path(), &out);
    let pid = child.id();
    let mut reaper = Reaper(Some(child));
    signal(pid, "-HUP");
    let done = reaper.0.take().unwrap().wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(129));
}

#[test]
fn resume_refuses_another_seed_or_train_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = good_csv(dir.path());
    ok(&train(&data, &out, &[]));
    let more = |extra: &[&str]| {
        let mut a = vec!["--resume", "--epochs", "2"];
        a.extend_from_slice(extra);
        train(&data, &out, &a)
    };
    fails_with(
        &more(&["--seed", "5"]),
        &["checkpoint.bin", "--seed 0", "--seed 5"],
    );
    fails_with(
        &more(&["--train-limit", "4"]),
        &["checkpoint.bin", "training rows"],
    );
    ok(&more(&[]));
}

#[test]
fn absurd_counts_and_unbounded_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = good_csv(dir.path());
    fails_with(
        &train(&data, &out, &["-k", "100000000000"]),
        &["-k 100000000000"],
    );
    fails_with(
        &train(&data, &out, &["--threads", "100000000000"]),
        &["--threads 100000000000"],
    );
    fails_with(&train(&data, &out, &["--threads", "0"]), &["--threads 0"]);
    assert!(!out.exists());
    #[cfg(unix)]
    {
        let start = Instant::now();
        fails_with(&dam(&["info", "/dev/zero"]), &["/dev/zero"]);
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}

/// The exponential F with β around `2^30·ln 2`: an overflow error on both
/// sides of the point where the exponent once wrapped (and 0 was printed).
#[test]
fn energy_overflow_past_the_exponent_limit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    npy(&q, &[1, 4], vec![1., 1., -1., -1.]);
    for beta in ["7e8", "7.5e8", "1e12"] {
        let out = dam(&[
            "energy",
            "--memories",
            s(&mem),
            "--queries",
            s(&q),
            "--interaction",
            "exp",
            "--beta",
            beta,
        ]);
        fails_with(&out, &["overflows"]);
    }
}

/// Fifty runs killed at seeded random moments (SIGKILL, SIGTERM or SIGINT,
/// from before the data are read to mid-epoch): the model of the last
/// completed run stays byte-identical, every checkpoint left resumes, a
/// killed run's lock does not block the next, and no temporary file
/// outlives the next run.
#[test]
fn fifty_kills_at_random_moments_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    // A completed run: the model every killed run must leave alone.
    let first = long_run(dir.path(), &out, "2");
    ok(&dam(&first));
    let mut model = std::fs::read(out.join("model.dam")).unwrap();
    let mut rng = 0x5eed_u64;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        rng >> 33
    };
    let mut resumed = 0;
    for round in 0..50 {
        let child = Command::new(env!("CARGO_BIN_EXE_dam"))
            .args(long_run(dir.path(), &out, "1000000"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut reaper = Reaper(Some(child));
        std::thread::sleep(Duration::from_millis(next() % 400));
        let sig = ["-KILL", "-TERM", "-INT"][(next() % 3) as usize];
        signal(pid, sig);
        let status = reaper.0.take().unwrap().wait().unwrap();
        assert!(!status.success(), "round {round}: a killed run exited 0");
        assert_eq!(
            std::fs::read(out.join("model.dam")).unwrap(),
            model,
            "round {round} ({sig}): the model changed"
        );
        // Every tenth round: what the killed run left resumes to a whole model.
        if round % 10 == 9 && out.join("checkpoint.bin").exists() {
            resume_one_more(dir.path(), &out);
            let info = dam(&["info", s(&out.join("model.dam"))]);
            ok(&info);
            model = std::fs::read(out.join("model.dam")).unwrap();
            resumed += 1;
        }
    }
    assert!(
        resumed >= 2,
        "only {resumed} checkpoints were left to resume"
    );
    // One more completed run: no temporary file or lock is left.
    ok(&dam(&first));
    let left: Vec<String> = listing(&out)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A full disk, as the file-size limit makes it for one process (writes
/// beyond it fail with `EFBIG`; SIGXFSZ ignored, as a full disk sends no
/// signal): the run fails naming the file, and the directory stays as it
/// was (the completed model, metrics.csv and the checkpoint byte-identical,
/// no temporary file or lock).
#[test]
fn a_full_disk_fails_the_run_and_keeps_the_model() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    let args = long_run(dir.path(), &out, "2");
    ok(&dam(&args));
    let model = std::fs::read(out.join("model.dam")).unwrap();
    let before = snapshot(&out);
    // Room for metrics.csv, not for a checkpoint (it holds the model).
    let limit = (model.len() / 2) as libc::rlim_t;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dam"));
    cmd.args(&args).stdout(Stdio::null()).stderr(Stdio::piped());
    // SAFETY: between fork and exec only async-signal-safe calls
    // (setrlimit, signal) on this process's own state.
    unsafe {
        cmd.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let run = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "a run on a full disk exited 0");
    assert!(err.contains("checkpoint") || err.contains(s(&out)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(out.join("model.dam")).unwrap(), model);
    // The whole directory, metrics and checkpoint too, as it was, and
    // the earlier checkpoint resumes.
    assert_eq!(snapshot(&out), before);
    let mut resume = long_run(dir.path(), &out, "3");
    resume.push("--resume");
    ok(&dam(&resume));
}

/// Every file in `dir` (names, bytes and modes), to compare a directory
/// before and after a failed command.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;
    listing(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            #[cfg(unix)]
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            #[cfg(not(unix))]
            let mode = 0;
            (n, std::fs::read(&p).unwrap(), mode)
        })
        .collect()
}

/// A diverging `dam train` (KH16: a tiny temperature, a huge normalized β;
/// Potts: a huge --eps0 or --logit-rate, directly or by growth) exits 1
/// naming the epoch and what diverged, and leaves the output directory as it was: the model, metrics.csv and
/// the checkpoint byte-identical, no lock or temporary file; a directory
/// it created is removed.
#[test]
fn a_diverging_run_leaves_the_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = good_csv(dir.path());
    ok(&train(&data, &out, &["--epochs", "2"]));
    let before = snapshot(&out);
    let kh16: [&[&str]; 2] = [
        &["--temperature", "1e-30", "-n", "20"],
        &["--normalized", "1e30", "-n", "20"],
    ];
    for extra in kh16 {
        fails_with(
            &train(&data, &out, extra),
            &["diverged at epoch", "loss is NaN", "left as it was"],
        );
        assert_eq!(snapshot(&out), before, "{extra:?}");
    }
    let potts = ["--kind", "potts", "-k", "4", "--epochs", "2"];
    ok(&train(&data, &out, &potts));
    let before = snapshot(&out);
    let diverging: [&[&str]; 3] = [
        &["--eps0", "3e38"],
        &["--logit-rate", "1e38"],
        &["--eps0", "3e38", "--grow"],
    ];
    for extra in diverging {
        let mut args = potts.to_vec();
        args.extend_from_slice(extra);
        fails_with(
            &train(&data, &out, &args),
            &["diverged at epoch 1", "model.dam was left as it was"],
        );
        assert_eq!(snapshot(&out), before, "{extra:?}");
    }
    // A directory the failed run created is gone with it.
    let fresh = dir.path().join("fresh");
    fails_with(
        &train(&data, &fresh, &["--temperature", "1e-30", "-n", "20"]),
        &["diverged at epoch 1"],
    );
    assert!(!fresh.exists());
}

/// A read-only output directory. As root, where a mode does not stop
/// writes, `dam` runs as the user `nobody` (uid and gid 65534) on a
/// directory owned by root; otherwise the mode alone makes it read-only.
/// A probe write first proves the directory read-only (else the test fails:
/// it is never skipped). Every writing command then exits 1 naming the path
/// it could not write, the directory stays as it was (no temporary file,
/// no lock), and once the mode is restored `--resume` continues and leaves
/// no temporary file.
#[cfg(unix)]
#[test]
fn a_read_only_directory_fails_cleanly_and_resumes_later() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // Readable and searchable by everyone (nobody too).
    chmod(dir.path(), 0o755);
    let (data, out) = good_csv(dir.path());
    chmod(&data, 0o644);
    ok(&train(&data, &out, &[]));
    for n in listing(&out) {
        chmod(&out.join(n), 0o644);
    }
    chmod(&out, 0o555);
    let before = snapshot(&out);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let as_user = |program: &str| {
        let mut c = Command::new(program);
        if root {
            c.uid(65534).gid(65534);
        }
        c
    };
    let probe = as_user("sh")
        .arg("-c")
        .arg("touch \"$0/probe\" 2>/dev/null")
        .arg(&out)
        .status()
        .unwrap();
    assert!(
        !probe.success(),
        "cannot make {} read-only (root: {root}): the test cannot run",
        out.display()
    );
    // As another user, a copy of the binary in the (world-readable) test
    // directory: the build directory may sit under a 0700 directory (a
    // `mktemp -d` clone) that user cannot enter.
    let binary = if root {
        let copy = dir.path().join("dam");
        std::fs::copy(env!("CARGO_BIN_EXE_dam"), &copy).unwrap();
        chmod(&copy, 0o755);
        copy
    } else {
        Path::new(env!("CARGO_BIN_EXE_dam")).to_path_buf()
    };
    // Another test's child, between its fork and exec, can still hold the
    // copy's write descriptor: the exec then fails with ETXTBSY for a moment.
    let run = |args: &[&str]| {
        for _ in 0..100 {
            match as_user(s(&binary)).args(args).output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other.unwrap(),
            }
        }
        panic!("{} stayed busy", binary.display());
    };
    let resume = train_args(&data, &out, &["--resume", "--epochs", "2"]);
    for extra in [&[][..], &["--kind", "potts"]] {
        fails_with(
            &run(&train_args(&data, &out, extra)),
            &[s(&out), "ermission denied"],
        );
    }
    fails_with(&run(&resume), &[s(&out), "ermission denied"]);
    // A single-file output: an import over the model.
    let mem = dir.path().join("m.npy");
    npy(&mem, &[2, 3], vec![1., -1., 1., -1., 1., -1.]);
    chmod(&mem, 0o644);
    let model = out.join("model.dam");
    fails_with(
        &run(&["import", s(&mem), "--out", s(&model)]),
        &[s(&model), "ermission denied"],
    );
    assert_eq!(snapshot(&out), before);
    // Writable again: the run resumes and leaves no temporary file.
    chmod(&out, 0o755);
    ok(&dam(&resume));
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "{metrics}"); // the header, 2 epochs
    assert!(dam(&["info", s(&model)]).status.success());
    let hidden: Vec<String> = listing(&out)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

/// Runs `dam args` with its address space limited to 512 MiB (so that an
/// allocation from a declared size, not from the bytes read, would abort
/// instead of quietly succeeding under overcommit).
#[cfg(unix)]
fn dam_in_512_mib(args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dam"));
    cmd.args(args);
    // SAFETY: between fork and exec only setrlimit, async-signal-safe, on
    // this process's own state.
    unsafe {
        cmd.pre_exec(|| {
            let limit = 512 << 20;
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

/// Headers declaring a huge but well-formed shape over a few bytes (IDX,
/// plain and gzipped; `.npy`; a model whose length field says 1 TiB): a
/// one-line error naming the file, within a 512 MiB address space, never
/// an allocation abort; no output directory is created.
#[cfg(unix)]
#[test]
fn large_but_legal_headers_are_named_not_allocated() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let idx = |dims: &[u32]| {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        dims.iter()
            .for_each(|d| v.extend_from_slice(&d.to_be_bytes()));
        v.extend_from_slice(&[0; 100]);
        v
    };
    // 10^6 images of 28×28 (784 MB) and their labels, in 116 bytes each.
    let images = idx(&[1_000_000, 28, 28]);
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(
        dir.path().join("train-labels-idx1-ubyte"),
        idx(&[1_000_000]),
    )
    .unwrap();
    let out = dir.path().join("out");
    fails_with(
        &dam_in_512_mib(&long_run(dir.path(), &out, "1")),
        &["train-images-idx3-ubyte", "truncated", "784000000"],
    );
    // The same, gzipped.
    let gz_dir = dir.path().join("gz");
    std::fs::create_dir(&gz_dir).unwrap();
    mini_mnist(&gz_dir, 20, 20);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&images).unwrap();
    std::fs::remove_file(gz_dir.join("train-images-idx3-ubyte")).unwrap();
    std::fs::write(
        gz_dir.join("train-images-idx3-ubyte.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    fails_with(
        &dam_in_512_mib(&long_run(&gz_dir, &out, "1")),
        &["train-images-idx3-ubyte.gz", "truncated", "784000000"],
    );
    assert!(!out.exists());
    // 10^8 queries of 4 floats (1.6 GB) over 16 bytes.
    let (mem, q) = (dir.path().join("m.npy"), dir.path().join("q.npy"));
    npy(&mem, &[2, 4], vec![1., 1., -1., -1., -1., 1., -1., 1.]);
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 4), }";
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(&[0; 16]);
    std::fs::write(&q, v).unwrap();
    fails_with(
        &dam_in_512_mib(&["energy", "--memories", s(&mem), "--queries", s(&q)]),
        &["q.npy", "truncated"],
    );
    // A model whose length field announces 1 TiB (CRC resealed).
    let model = dir.path().join("m.dam");
    ok(&dam(&["import", s(&mem), "--out", s(&model)]));
    let mut bytes = std::fs::read(&model).unwrap();
    bytes[48..56].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let n = bytes.len();
    let crc = dam_core::model::crc32(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&model, &bytes).unwrap();
    fails_with(&dam_in_512_mib(&["info", s(&model)]), &["m.dam"]);
}

/// SIGTERM during a `dam train --kind potts` run (which does not resume):
/// exit 143, and the directory is as it was before the run: here, one the
/// run created, gone.
#[test]
fn a_stopped_potts_run_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    mini_mnist(dir.path(), 20, 20);
    let out = dir.path().join("out");
    let mut args = without_degree(&long_run(dir.path(), &out, "1000000"));
    args.extend_from_slice(&["--kind", "potts"]);
    let child = Command::new(env!("CARGO_BIN_EXE_dam"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reaper = Reaper(Some(child));
    let start = Instant::now();
    while !out.join("metrics.csv").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no metrics.csv");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let child = reaper.0.take().unwrap();
    signal(child.id(), "-TERM");
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(143), "{err}");
    assert!(err.contains("model.dam was not written"), "{err}");
    assert!(!out.exists(), "{:?}", listing(&out));
}
