//! [`Host::run`]: the one entry to running a command. It resolves the
//! command, loads the one plugin that owns it, maps the run's
//! `--allow-read` paths (checked once, here), and calls it on a runtime of
//! the host's own: a timer alone, or with an I/O driver for a plugin
//! granted the network.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use super::{Host, RunError};
use crate::capabilities::wasi::WasiDir;
use crate::dirs::DirIdentity;
use crate::pipes::Stdio;

/// How one run goes, beyond its command and arguments.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Paths the plugin may also read, for this run only (`isaac run
    /// --allow-read`): a directory as itself, a file as a read-only copy
    /// in a folder of its own, shown at the file's own folder.
    pub allow_read: Vec<PathBuf>,
    /// Its stdin and stdout (a filter's; see [`crate::pipes`]). The default
    /// reads nothing and returns what it wrote before its result.
    pub stdio: Stdio,
}

/// An `--allow-read` path that cannot be granted.
#[derive(Debug, thiserror::Error)]
pub enum AllowReadError {
    /// It cannot be read (or copied).
    #[error("--allow-read {}", path.display())]
    Unreadable {
        /// The path as given.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// It is neither a regular file nor a directory (a FIFO, a device), or
    /// a file without a name (`..`).
    #[error("--allow-read {}: not a regular file or a directory", path.display())]
    NotAFile {
        /// The path as given.
        path: PathBuf,
    },
    /// A file with other names (hard links): one of them could be a file
    /// isaac keeps to itself, which no path check can see.
    #[error("--allow-read {}: the file has other names (hard links); allow a copy of it instead", path.display())]
    HardLinked {
        /// The path as given.
        path: PathBuf,
    },
    /// It covers isaac's own home or config file.
    #[error("--allow-read {}", path.display())]
    Protected {
        /// The path as given.
        path: PathBuf,
        /// What it covers.
        #[source]
        covers: crate::grants::Covers,
    },
}

/// The runtimes calls run on, each built on first use.
#[derive(Default)]
pub(super) struct Runtimes {
    timer: OnceLock<Runtime>,
    io: OnceLock<Runtime>,
}

impl Runtimes {
    /// A runtime with a timer, and an I/O driver (an epoll instance and its
    /// wakers) only when `io`.
    fn get(&self, io: bool) -> Result<&Runtime, RunError> {
        let (cell, build): (_, fn() -> std::io::Result<Runtime>) = if io {
            (&self.io, || tokio::runtime::Builder::new_current_thread().enable_time().enable_io().build())
        } else {
            (&self.timer, || tokio::runtime::Builder::new_current_thread().enable_time().build())
        };
        if let Some(runtime) = cell.get() {
            return Ok(runtime);
        }
        let runtime = build().map_err(|e| RunError::Host(super::HostError::Runtime(e)))?;
        Ok(cell.get_or_init(|| runtime))
    }
}

impl Host {
    /// Resolve `command` (`wc`, `wordcount:wc`), load only the plugin that
    /// owns it, and run it with `args` in a fresh sandbox, on a runtime of
    /// the host's own. Blocks; call it from outside an async runtime
    /// (a long-lived embedder runs commands through a `Session`).
    pub fn run(&self, command: &str, args: &[String], options: &RunOptions) -> Result<String, RunError> {
        // The last run's plugin goes first: never two kept at once.
        drop(self.last_run.lock().unwrap_or_else(|e| e.into_inner()).take());
        let (reads, _copies) = self.allow_read(&options.allow_read)?;
        let (plugin, resolved) = self.runtimes.get(false)?.block_on(self.prepare(command))?;
        let mut spec = plugin.spec.clone();
        spec.granted.wasi.dirs.extend(reads);
        let runtime = self.runtimes.get(plugin.needs_io())?;
        let result = runtime.block_on(plugin.call(&spec, &resolved, args, &options.stdio));
        *self.last_run.lock().unwrap_or_else(|e| e.into_inner()) = Some(plugin);
        result
    }

    /// The directories `paths` map to, each checked against what no grant
    /// may reach, and the temporary copies behind files (which live as long
    /// as the returned guards).
    fn allow_read(&self, paths: &[PathBuf]) -> Result<(Vec<WasiDir>, Vec<tempfile::TempDir>), AllowReadError> {
        let (mut maps, mut copies) = (Vec::new(), Vec::new());
        for path in paths {
            let unreadable = |source| AllowReadError::Unreadable { path: path.clone(), source };
            let real = path.canonicalize().map_err(unreadable)?;
            // What the user named, not a copy of it, may not reach isaac's own files.
            self.protected
                .check(&path.display().to_string(), &real)
                .map_err(|covers| AllowReadError::Protected { path: path.clone(), covers })?;
            let (dir, guest) = if real.is_dir() {
                (real, path.display().to_string())
            } else {
                let copy = tempfile::tempdir().map_err(unreadable)?;
                let name = path.file_name().ok_or_else(|| AllowReadError::NotAFile { path: path.clone() })?;
                let mut file = open_checked_file(path, &real)?;
                let mut out = std::fs::File::create(copy.path().join(name)).map_err(unreadable)?;
                std::io::copy(&mut file, &mut out).map_err(unreadable)?;
                let guest = match path.parent().map(Path::display).map(|p| p.to_string()) {
                    Some(parent) if !parent.is_empty() => parent,
                    _ => ".".to_owned(),
                };
                let dir = copy.path().to_path_buf();
                copies.push(copy);
                (dir, guest)
            };
            let identity = DirIdentity::of(&dir).map_err(unreadable)?;
            maps.push(WasiDir { identity, guest, write: false });
        }
        Ok((maps, copies))
    }
}

/// Open the file at `real` (canonical, just checked) for reading: its
/// folder without following a symlink in any component, then the file
/// itself without following one, so what is read is the file that was
/// checked, not whatever a symlink swapped in since. It must be a regular
/// file with no other name (a hard link could name a protected file).
fn open_checked_file(path: &Path, real: &Path) -> Result<std::fs::File, AllowReadError> {
    use rustix::fs::{Mode, OFlags};
    let unreadable = |source: std::io::Error| AllowReadError::Unreadable { path: path.to_owned(), source };
    let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
        return Err(AllowReadError::NotAFile { path: path.to_owned() });
    };
    let folder = crate::dirs::open_no_follow(parent).map_err(unreadable)?;
    // Non-blocking: a FIFO is refused below instead of waiting for a writer.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(&folder, name, flags, Mode::empty()).map_err(|e| unreadable(e.into()))?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| unreadable(e.into()))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(AllowReadError::NotAFile { path: path.to_owned() });
    }
    if stat.st_nlink > 1 {
        return Err(AllowReadError::HardLinked { path: path.to_owned() });
    }
    Ok(std::fs::File::from(fd))
}
