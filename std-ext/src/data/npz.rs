//! `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy`
//! members, read by name without touching the others.
//!
//! Memory is bounded before anything is decompressed: a member whose
//! declared size exceeds [`MAX_MEMBER_BYTES`] is refused, and decompression
//! stops one byte past the declared size (a member that lies about its size
//! is refused too), so a small zip bomb never allocates more than its
//! declared size, and never more than the cap. Each member then goes
//! through the hardened [`NpyArray::parse`].

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::npy::NpyArray;

/// The largest member accepted, decompressed (1 GiB, as for gzip IDX files).
pub const MAX_MEMBER_BYTES: u64 = 1 << 30;

/// An open `.npz` archive.
pub struct Npz {
    /// The archive (the zip central directory is read on opening).
    zip: zip::ZipArchive<File>,
    /// The archive's path, for errors.
    path: PathBuf,
}

impl std::fmt::Debug for Npz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Npz")
            .field("path", &self.path)
            .field("members", &self.names())
            .finish()
    }
}

impl Npz {
    /// Opens an archive and reads its directory (not its members).
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let zip = zip::ZipArchive::new(file)
            .with_context(|| format!("{}: not a usable .npz (zip) file", path.display()))?;
        Ok(Npz {
            zip,
            path: path.to_owned(),
        })
    }

    /// The array names in the archive (member names without `.npy`).
    pub fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_owned())
            .collect()
    }

    /// `true` if the archive holds array `name` (`name.npy` or `name`).
    pub fn contains(&self, name: &str) -> bool {
        self.member(name).is_some()
    }

    /// The member name that holds array `name`.
    fn member(&self, name: &str) -> Option<String> {
        let with = format!("{name}.npy");
        self.zip
            .file_names()
            .find(|&n| n == with || n == name)
            .map(str::to_owned)
    }

    /// The archive and member, for messages: `data.npz:x_train.npy`.
    pub fn describe(&self, name: &str) -> String {
        let member = self.member(name).unwrap_or_else(|| format!("{name}.npy"));
        format!("{}:{member}", self.path.display())
    }

    /// Reads array `name`, checking its declared size against
    /// [`MAX_MEMBER_BYTES`] before decompressing it. Errors name the
    /// archive and the member.
    pub fn read(&mut self, name: &str) -> Result<NpyArray> {
        let Some(member) = self.member(name) else {
            bail!(
                "{}: no array {name:?} in the archive (it holds {:?})",
                self.path.display(),
                self.names()
            );
        };
        let what = format!("{}:{member}", self.path.display());
        let f = self
            .zip
            .by_name(&member)
            .with_context(|| format!("{what}: cannot open the member"))?;
        let declared = f.size();
        if declared > MAX_MEMBER_BYTES {
            bail!(
                "{what}: declared size {declared} bytes exceeds the {MAX_MEMBER_BYTES} bytes accepted"
            );
        }
        // Growth follows the bytes actually decompressed, never the header.
        let mut bytes = Vec::new();
        f.take(declared + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{what}: corrupt member"))?;
        if bytes.len() as u64 != declared {
            bail!(
                "{what}: member holds {}{} bytes, its header declares {declared}",
                if bytes.len() as u64 > declared {
                    "more than "
                } else {
                    ""
                },
                bytes.len()
            );
        }
        NpyArray::parse(&bytes).with_context(|| format!("{what}: not a usable .npy member"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip whose member declares 2 KiB but inflates to 10 MB: refused
    /// after 2 KiB + 1 bytes, whatever the rest holds.
    #[test]
    fn member_larger_than_declared_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.npz");
        let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("x_train.npy", opts).unwrap();
        w.write_all(&vec![0u8; 10_000_000]).unwrap();
        w.finish().unwrap();
        // Patch the declared uncompressed size (local header offset 22 and
        // central directory entry offset 24) to 2048.
        let mut bytes = std::fs::read(&path).unwrap();
        let patch = |bytes: &mut Vec<u8>, sig: &[u8], off: usize| {
            let at = bytes.windows(4).position(|w| w == sig).unwrap();
            bytes[at + off..at + off + 4].copy_from_slice(&2048u32.to_le_bytes());
        };
        patch(&mut bytes, b"PK\x03\x04", 22);
        patch(&mut bytes, b"PK\x01\x02", 24);
        std::fs::write(&path, &bytes).unwrap();
        let mut npz = Npz::open(&path).unwrap();
        let err = format!("{:#}", npz.read("x_train").unwrap_err());
        assert!(err.contains("bomb.npz:x_train.npy"), "{err}");
    }
}
