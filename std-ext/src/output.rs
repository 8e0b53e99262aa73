//! The write discipline of the `dam` program, in one place: an output path
//! never names one of the command's inputs ([`refuse_inputs`]), a training
//! directory is held by one run at a time ([`DirLock`]), and the temporary
//! files a killed run left behind are removed by the next one
//! ([`remove_stale_temporaries`]); a run that fails leaves its directory
//! as it found it ([`RunGuard`]). Files themselves are written by
//! [`crate::model_io::write_atomic`] (temporary file + rename, with the
//! mode the umask gives).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The prefix of the temporary files [`crate::model_io::write_atomic`]
/// creates next to its target (and [`remove_stale_temporaries`] removes).
pub const TEMP_PREFIX: &str = ".dam-tmp-";

/// The lock file [`DirLock`] creates in a training directory.
pub const LOCK_FILE: &str = ".dam-lock";

/// `path` made absolute with its directory resolved (symbolic links,
/// `..`), so two spellings of one file compare equal; `None` if its
/// directory does not exist (then it cannot be an existing input).
fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(parent.canonicalize().ok()?.join(name))
}

/// Whether `a` and `b` are the same existing file (also through a hard link).
#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}

/// Whether `a` and `b` name the same file: the same resolved path, or the
/// same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (resolve(a), resolve(b)) {
        (Some(x), Some(y)) if x == y => true,
        _ => same_inode(a, b),
    }
}

/// An error if any of `outputs` is, or resolves to, one of `inputs`, or if
/// two outputs are the same file: checked before anything is written, so
/// that a command never destroys what it reads (or writes one output over
/// another).
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let model = dir.path().join("m.dam");
/// std::fs::write(&model, b"x")?;
/// let other = dir.path().join(".").join("m.dam");
/// assert!(dam_std::output::refuse_inputs(&[&other], &[&model]).is_err());
/// assert!(dam_std::output::refuse_inputs(&[&dir.path().join("n.dam")], &[&model]).is_ok());
/// # Ok(()) }
/// ```
pub fn refuse_inputs(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    for (i, out) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(out, input)) {
            bail!(
                "{}: the output would overwrite the input {}; choose another output path",
                out.display(),
                input.display()
            );
        }
        if let Some(other) = outputs[..i].iter().find(|o| same_file(out, o)) {
            bail!(
                "{}: two outputs of this command would be the same file ({}); choose another output path",
                out.display(),
                other.display()
            );
        }
    }
    Ok(())
}

/// An exclusive lock on an output directory, held for the whole run and
/// released (its file removed) when dropped. A second run into the same
/// directory fails at once with [`DirLock::acquire`]'s error, which names
/// the directory and the process holding it.
#[derive(Debug)]
pub struct DirLock {
    // Held open: the lock lives as long as the descriptor.
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (which must exist) for this process.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        // Retried when the file was removed between open and lock by the
        // run that held it: the lock must be on the file the path names.
        for _ in 0..10 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot create the lock file {}", path.display()))?;
            if !try_lock(&file).with_context(|| format!("cannot lock {}", path.display()))? {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let by = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (process {holder})")
                };
                bail!(
                    "{}: another dam run is writing into this directory{by}; wait for it or choose another --out",
                    dir.display()
                );
            }
            if !same_inode_file(&file, &path) {
                continue;
            }
            file.set_len(0)
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(DirLock { _file: file, path });
        }
        bail!(
            "{}: cannot take the lock (it keeps changing)",
            path.display()
        )
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Removed while still held, so no other run can lock this file
        // after it is gone; the lock goes with the descriptor.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The guard of a run that writes several files into one directory: it
/// creates the directory if needed, holds its [`DirLock`], removes the
/// temporary files a killed run left, and remembers the run files as they
/// were. Unless [`RunGuard::keep`] is called, dropping it (a run that
/// failed: an error, a divergence, a full disk) puts every remembered file
/// back byte for byte (mode and time too: the old file is renamed back),
/// removes those that did not exist, releases the lock and removes the
/// directory if the run created it. A run killed outright (SIGKILL) leaves
/// its files as they were after its last whole write, and the saved copies
/// (temporary files) for the next run to remove. The run must replace its
/// files by renaming ([`crate::model_io::write_atomic`]), never write into
/// them in place: the saved copy of a file is a hard link to it.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let m = dir.path().join("metrics.csv");
/// std::fs::write(&m, b"before")?;
/// {
///     let _run = dam_std::output::RunGuard::begin(dir.path(), &["metrics.csv", "model.dam"])?;
///     dam_std::model_io::write_atomic(&m, b"half a run")?;
///     std::fs::write(dir.path().join("model.dam"), b"x")?;
/// } // dropped without keep(): the run failed
/// assert_eq!(std::fs::read(&m)?, b"before");
/// assert!(!dir.path().join("model.dam").exists());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RunGuard {
    lock: Option<DirLock>,
    dir: PathBuf,
    created: bool,
    saved: Vec<(PathBuf, Saved)>,
    kept: bool,
}

/// A run file as it was before the run.
#[derive(Debug)]
enum Saved {
    Absent,
    /// A hard link to the old file (the writers replace files by renaming,
    /// so the link keeps the old content).
    Link(PathBuf),
    /// Its bytes, where no link can be made.
    Bytes(Vec<u8>),
}

impl RunGuard {
    /// Creates `dir` if needed, locks it, removes stale temporaries and
    /// remembers the `files` (names in `dir`) as they are.
    pub fn begin(dir: &Path, files: &[&str]) -> Result<Self> {
        let created = !dir.exists();
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        let mut guard = RunGuard {
            lock: None,
            dir: dir.to_path_buf(),
            created,
            saved: Vec::new(),
            kept: false,
        };
        guard.lock = Some(DirLock::acquire(dir)?);
        remove_stale_temporaries(dir)?;
        for name in files {
            let path = dir.join(name);
            let saved = if !path.exists() {
                Saved::Absent
            } else {
                let link = dir.join(format!("{TEMP_PREFIX}before-{}-{name}", std::process::id()));
                if std::fs::hard_link(&path, &link).is_ok() {
                    Saved::Link(link)
                } else {
                    Saved::Bytes(
                        std::fs::read(&path)
                            .with_context(|| format!("cannot read {}", path.display()))?,
                    )
                }
            };
            guard.saved.push((path, saved));
        }
        Ok(guard)
    }

    /// The run succeeded (or stopped on a signal with a checkpoint to
    /// resume): its files stay, the saved copies go, the lock is released.
    pub fn keep(mut self) {
        self.kept = true;
        for (_, saved) in &self.saved {
            if let Saved::Link(link) = saved {
                let _ = std::fs::remove_file(link);
            }
        }
    }

    /// Puts the saved files back.
    fn restore(&mut self) {
        for (path, saved) in std::mem::take(&mut self.saved) {
            let restored = match saved {
                Saved::Absent => match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                    _ => Ok(()),
                },
                // rename does nothing between two links to one file.
                Saved::Link(link) if same_inode(&link, &path) => {
                    std::fs::remove_file(&link).map_err(anyhow::Error::from)
                }
                Saved::Link(link) => std::fs::rename(&link, &path).map_err(anyhow::Error::from),
                Saved::Bytes(bytes) => crate::model_io::write_atomic(&path, &bytes),
            };
            if let Err(e) = restored {
                eprintln!("warning: could not restore {}: {e:#}", path.display());
            }
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.kept {
            self.restore();
        }
        drop(self.lock.take());
        if self.created && !self.kept {
            // Only if empty: another run may have started in it since.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Takes an exclusive, non-blocking lock on `file`: `Ok(false)` if another
/// process holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; no memory is involved.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

// Elsewhere no lock is taken (the check is best effort).
#[cfg(not(unix))]
fn try_lock(_: &File) -> std::io::Result<bool> {
    Ok(true)
}

/// Whether the open `file` is still the file at `path`.
#[cfg(unix)]
fn same_inode_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode_file(_: &File, _: &Path) -> bool {
    true
}

/// Removes the temporary files ([`TEMP_PREFIX`]) that a killed run of this
/// program left in `dir`; call it while holding the [`DirLock`], so that
/// no running writer's file is removed. Returns how many were removed.
pub fn remove_stale_temporaries(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_file());
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_fails_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path()).unwrap();
        let err = format!("{:#}", DirLock::acquire(dir.path()).unwrap_err());
        assert!(
            err.contains(&dir.path().display().to_string())
                && err.contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(held);
        assert!(!dir.path().join(LOCK_FILE).exists());
        DirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn outputs_that_resolve_to_an_input_or_each_other_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let via = dir.path().join("sub/../a");
        assert!(refuse_inputs(&[&via], &[&a]).is_err());
        let b = dir.path().join("b");
        assert!(refuse_inputs(&[&b, &b], &[&a]).is_err());
        assert!(refuse_inputs(&[&b], &[&a]).is_ok());
    }

    #[test]
    fn stale_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{TEMP_PREFIX}abc")), b"x").unwrap();
        std::fs::write(dir.path().join("keep"), b"x").unwrap();
        assert_eq!(remove_stale_temporaries(dir.path()).unwrap(), 1);
        assert!(dir.path().join("keep").exists());
    }

    #[test]
    fn a_failed_run_puts_its_files_back_and_a_kept_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // A directory the run created goes with it.
        drop(RunGuard::begin(&out, &["a"]).unwrap());
        assert!(!out.exists());
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("a"), b"old a").unwrap();
        let run = RunGuard::begin(&out, &["a", "b"]).unwrap();
        crate::model_io::write_atomic(&out.join("a"), b"new a").unwrap();
        std::fs::write(out.join("b"), b"new b").unwrap();
        drop(run);
        assert_eq!(std::fs::read(out.join("a")).unwrap(), b"old a");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
        let run = RunGuard::begin(&out, &["a", "b"]).unwrap();
        crate::model_io::write_atomic(&out.join("a"), b"new a").unwrap();
        run.keep();
        assert_eq!(std::fs::read(out.join("a")).unwrap(), b"new a");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    }
}
