//! Granted directories as identities, not names.
//!
//! A directory is granted by its canonical path *and* its identity (device,
//! inode), recorded when the user grants it. At every call the host opens
//! the canonical path without following a symbolic link in any component
//! (`openat2` with `RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, or, where
//! the kernel lacks it, component by component with `O_NOFOLLOW`), checks the
//! identity of what it opened, and hands the guest that very directory
//! (through `/proc/self/fd/N` of the checked descriptor). So a plugin that
//! renames a granted directory and plants a symlink in its place (or any
//! other process that does) retargets nothing: the call is refused and the
//! user is told to review the grant again.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use crate::error::Source;

/// A directory as the user granted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirIdentity {
    /// Its canonical path when it was granted.
    pub path: PathBuf,
    /// Its device.
    pub dev: u64,
    /// Its inode.
    pub ino: u64,
}

/// Why a granted directory cannot be handed to a plugin.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DirError {
    /// The path cannot be opened without following a symlink, or is gone.
    #[error("{} cannot be opened without following a symbolic link, or is gone", path.display())]
    Unreachable {
        /// The granted path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: Source,
    },
    /// Something else now sits at the granted path.
    #[error("{} is no longer the directory that was granted (it was replaced)", path.display())]
    Replaced {
        /// The granted path.
        path: PathBuf,
    },
    /// `/proc` is not mounted, so the checked directory cannot be handed over.
    #[error("/proc is not available, so a checked directory cannot be handed to a plugin")]
    NoProc,
}

impl DirIdentity {
    /// The identity of `path` now: canonicalised (symlinks resolved once,
    /// by the user's choice at grant time), then opened as below.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let canonical = path.canonicalize()?;
        let fd = open_no_follow(&canonical)?;
        let meta = File::from(fd).metadata()?;
        if !meta.is_dir() {
            return Err(std::io::ErrorKind::NotADirectory.into());
        }
        Ok(DirIdentity { path: canonical, dev: meta.dev(), ino: meta.ino() })
    }

    /// Open the granted directory without following symlinks and check that
    /// it is the one granted. The returned handle stays valid as long as it
    /// lives; hand it over with [`VerifiedDir::proc_path`].
    pub fn open(&self) -> Result<VerifiedDir, DirError> {
        let unreachable = |source| DirError::Unreachable { path: self.path.clone(), source };
        let fd = open_no_follow(&self.path).map_err(|e| unreachable(Source::new(e)))?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| unreachable(Source::new(std::io::Error::from(e))))?;
        if stat.st_dev != self.dev || stat.st_ino != self.ino {
            return Err(DirError::Replaced { path: self.path.clone() });
        }
        let proc_path = fd_path(&fd);
        if rustix::fs::stat(&proc_path).map_or(true, |s| s.st_ino != self.ino || s.st_dev != self.dev) {
            return Err(DirError::NoProc);
        }
        Ok(VerifiedDir { _fd: fd, proc_path })
    }
}

/// A granted directory, opened and checked. The descriptor is held so
/// that `proc_path` keeps naming it.
#[derive(Debug)]
pub struct VerifiedDir {
    _fd: OwnedFd,
    proc_path: PathBuf,
}

impl VerifiedDir {
    /// `/proc/self/fd/N` of the checked descriptor: opening it reaches that
    /// very directory, whatever has happened to its name since.
    pub fn proc_path(&self) -> &Path {
        &self.proc_path
    }
}

/// The path that opens `fd`'s file again: that very file, whatever has
/// happened to its name since (Linux's `/proc/self/fd/N`).
pub fn fd_path(fd: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn flags() -> OFlags {
    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW
}

/// Open the absolute `path` as an `O_PATH` directory without following a
/// symlink in any component.
pub fn open_no_follow(path: &Path) -> std::io::Result<OwnedFd> {
    if !path.is_absolute() {
        return Err(std::io::Error::other(format!("{} is not an absolute path", path.display())));
    }
    let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(rustix::fs::CWD, path, flags(), Mode::empty(), resolve) {
        Err(Errno::NOSYS) | Err(Errno::PERM) => open_by_components(path),
        other => other.map_err(Into::into),
    }
}

/// The fallback without `openat2`: one `openat(O_NOFOLLOW)` per component.
fn open_by_components(path: &Path) -> std::io::Result<OwnedFd> {
    let mut dir = rustix::fs::open("/", flags(), Mode::empty())?;
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => dir = rustix::fs::openat(&dir, name, flags(), Mode::empty())?,
            // Canonical paths have none of these; refuse rather than interpret.
            other => return Err(std::io::Error::other(format!("unexpected path component {other:?}"))),
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let granted = tmp.path().join("granted");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&granted).unwrap();
        std::fs::create_dir(&elsewhere).unwrap();
        let id = DirIdentity::of(&granted).unwrap();
        let verified = id.open().unwrap();
        assert!(std::fs::read_dir(verified.proc_path()).is_ok());

        // Renamed, and a symlink planted in its place.
        std::fs::rename(&granted, tmp.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &granted).unwrap();
        assert!(matches!(id.open(), Err(DirError::Unreachable { .. })), "{:?}", id.open());
        assert!(open_by_components(&granted).is_err());

        // Replaced by another real directory.
        std::fs::remove_file(&granted).unwrap();
        std::fs::create_dir(&granted).unwrap();
        assert!(matches!(id.open(), Err(DirError::Replaced { path }) if path == id.path));

        // A symlink in a parent component is refused too.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        assert!(open_no_follow(&link.join("elsewhere")).is_err());
        assert!(open_by_components(&link.join("elsewhere")).is_err());
        assert!(open_by_components(&elsewhere).is_ok());
    }
}
