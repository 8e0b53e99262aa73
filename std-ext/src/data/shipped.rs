//! The data shipped with `dam` (the `data/` directory of the repository or
//! of an unpacked release: `mnist/`, `digits/`, `iris/` …), found at run
//! time, never through a path fixed when the program was compiled.
//!
//! [`find`] looks, in this order:
//!
//! 1. in the directory named by the environment variable [`ENV`]
//!    (`DAM_DATA`), if it is set: only there;
//! 2. for a `data/NAME` directory next to the running program or in any
//!    directory above it (`target/release/dam` in a checkout finds the
//!    checkout's `data/`; so does `bin/dam` in an unpacked release next to
//!    its `data/`).
//!
//! When neither holds it, the error names what was looked for, every place
//! looked in, and how to point the program at the data.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable naming the shipped data directory (the one
/// holding `mnist/`), e.g. `DAM_DATA=/opt/dam/data`.
pub const ENV: &str = "DAM_DATA";

/// The directory `name` of the shipped data (e.g. `"mnist"`), looked up
/// through [`ENV`] and then upwards from [`std::env::current_exe`] (see the
/// module docs).
///
/// ```no_run
/// let mnist = dam_std::data::shipped::find("mnist")?;
/// assert!(mnist.join("t10k-labels-idx1-ubyte.gz").is_file());
/// # Ok::<(), dam_std::data::shipped::NotFound>(())
/// ```
pub fn find(name: &str) -> Result<PathBuf, NotFound> {
    find_from(
        name,
        std::env::var_os(ENV),
        std::env::current_exe().ok().as_deref(),
    )
}

/// [`find`] with the value of [`ENV`] and the program's path given:
/// `env` (if `Some`) is the only place looked in; otherwise `data/NAME` in
/// the directory of `exe` and in each directory above it.
///
/// ```
/// use dam_std::data::shipped::find_from;
/// let root = tempfile::tempdir()?;
/// std::fs::create_dir_all(root.path().join("data/mnist"))?;
/// std::fs::create_dir_all(root.path().join("target/release"))?;
/// let exe = root.path().join("target/release/dam");
/// // Upwards from the program: found in the checkout's data/.
/// assert_eq!(find_from("mnist", None, Some(&exe))?, root.path().join("data/mnist"));
/// // DAM_DATA wins, and is the only place looked in.
/// let other = tempfile::tempdir()?;
/// let err = find_from("mnist", Some(other.path().into()), Some(&exe)).unwrap_err();
/// assert!(err.to_string().contains("DAM_DATA"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn find_from(
    name: &str,
    env: Option<OsString>,
    exe: Option<&Path>,
) -> Result<PathBuf, NotFound> {
    let mut searched = Vec::new();
    let from_env = env.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = &from_env {
        let candidate = dir.join(name);
        if candidate.is_dir() {
            return Ok(candidate);
        }
        searched.push(candidate);
    } else if let Some(start) = exe.and_then(Path::parent) {
        for dir in start.ancestors() {
            let candidate = dir.join("data").join(name);
            if candidate.is_dir() {
                return Ok(candidate);
            }
            searched.push(candidate);
        }
    }
    Err(NotFound {
        name: name.to_owned(),
        env: from_env,
        exe: exe.map(Path::to_path_buf),
        searched,
    })
}

/// The shipped data directory was not found: what was looked for, and where.
///
/// Its message (one line) ends with how to fix it: set [`ENV`]. A program
/// with a flag for the path adds it (`dam`: `--data DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// The directory looked for, relative to the data directory (`"mnist"`).
    pub name: String,
    /// The value of [`ENV`], if it was set (then the only place looked in).
    pub env: Option<PathBuf>,
    /// The running program, whose directory and those above it were searched.
    pub exe: Option<PathBuf>,
    /// Every path looked at, in order.
    pub searched: Vec<PathBuf>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        write!(f, "the shipped data `{name}` was not found: ")?;
        match (&self.env, &self.exe) {
            (Some(dir), _) => write!(
                f,
                "{ENV}={} has no directory `{name}` ({} does not exist)",
                dir.display(),
                dir.join(name).display()
            )?,
            (None, Some(exe)) => write!(
                f,
                "{ENV} is not set, and neither the directory of the program {} nor any above it holds `data/{name}` (looked at {})",
                exe.display(),
                self.searched
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            (None, None) => write!(
                f,
                "{ENV} is not set and the path of the running program is unknown"
            )?,
        }
        write!(
            f,
            "; set {ENV} to the directory holding `{name}` (the repository's data/), e.g. {ENV}=/path/to/dam/data"
        )
    }
}

impl std::error::Error for NotFound {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_upwards_from_the_program_and_through_the_variable() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data/mnist");
        std::fs::create_dir_all(&data).unwrap();
        let exe = root.path().join("a/b/c/dam");
        assert_eq!(find_from("mnist", None, Some(&exe)).unwrap(), data);
        // Next to the program.
        let release = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(release.path().join("data/mnist")).unwrap();
        let exe = release.path().join("dam");
        assert_eq!(
            find_from("mnist", None, Some(&exe)).unwrap(),
            release.path().join("data/mnist")
        );
        // The variable names the data directory itself.
        let env = Some(root.path().join("data").into_os_string());
        assert_eq!(find_from("mnist", env, None).unwrap(), data);
        // An empty variable counts as unset.
        assert_eq!(
            find_from(
                "mnist",
                Some(OsString::new()),
                Some(&root.path().join("x/dam"))
            )
            .unwrap(),
            data
        );
    }

    #[test]
    fn not_found_names_the_places_and_the_fix() {
        let root = tempfile::tempdir().unwrap();
        let exe = root.path().join("bin/dam");
        let err = find_from("mnist", None, Some(&exe)).unwrap_err();
        assert_eq!(
            err.searched.first(),
            Some(&root.path().join("bin/data/mnist"))
        );
        assert!(err.searched.contains(&root.path().join("data/mnist")));
        let msg = err.to_string();
        for needle in [
            "`mnist`",
            "DAM_DATA is not set",
            &exe.display().to_string(),
            "DAM_DATA=",
        ] {
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
        assert_eq!(msg.lines().count(), 1);

        let err = find_from("mnist", Some(root.path().into()), Some(&exe)).unwrap_err();
        assert_eq!(err.searched, [root.path().join("mnist")]);
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("DAM_DATA={}", root.path().display())),
            "{msg}"
        );

        let msg = find_from("mnist", None, None).unwrap_err().to_string();
        assert!(msg.contains("unknown"), "{msg}");
    }
}
