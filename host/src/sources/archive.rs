//! Unpacking a downloaded `.tar.gz` of a plugin folder, safely.
//!
//! Every entry is hostile until checked. Only plain files and folders are
//! unpacked; anything else (symlinks, hard links, devices, FIFOs) refuses
//! the whole archive, as does a path that is absolute, holds `..`, or is
//! not UTF-8. Files are created new (never through an existing one) in a
//! fresh folder, with no permission bits from the archive. The number of
//! entries and the bytes unpacked are capped ([`DownloadLimits`]), counted
//! as they stream, so a gzip bomb stops at the cap.
//!
//! The plugin folder is the archive's root, or its only top-level folder
//! (`tar czf hello.tar.gz hello/`), whichever holds `plugin.toml`.

use std::cell::Cell;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use super::{DownloadLimits, SourceError};

/// Unpack `archive` (gzip'd tar bytes from `location`) into the empty
/// folder `into`; return the plugin folder inside it.
pub fn unpack(archive: &[u8], into: &Path, location: &str, limits: &DownloadLimits) -> Result<PathBuf, SourceError> {
    let refused = |message: String| SourceError::Refused { location: location.to_owned(), message };
    let too_big = |message: String| SourceError::TooBig { location: location.to_owned(), message };
    let io = |source: io::Error| SourceError::Io { dir: into.to_owned(), source };
    // The tar stream is the files plus a header (and padding) per entry.
    let cap = limits.max_unpacked_bytes.saturating_add(limits.max_entries.saturating_mul(2048)).saturating_add(1 << 20);
    let capped = Cell::new(false);
    let broken = |e: io::Error| match (capped.get(), e.kind()) {
        (true, _) => too_big(format!("the archive unpacks to more than {} MiB", limits.max_unpacked_bytes >> 20)),
        (false, io::ErrorKind::UnexpectedEof) => refused("the archive ends too early: it is truncated".into()),
        (false, _) => refused(format!("not a readable .tar.gz archive ({e})")),
    };
    let gz = Capped { inner: flate2::read::GzDecoder::new(archive), left: cap, capped: &capped };
    let mut tar = tar::Archive::new(gz);
    let mut count = 0u64;
    let mut unpacked = 0u64;
    for entry in tar.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        count += 1;
        if count > limits.max_entries {
            return Err(too_big(format!("the archive has more than {} entries", limits.max_entries)));
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let relative = safe_path(&raw).map_err(|why| refused(format!("entry {name:?} {why}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            fs::create_dir_all(into.join(&relative)).map_err(io)?;
            continue;
        }
        if !kind.is_file() || relative.as_os_str().is_empty() {
            return Err(refused(format!(
                "entry {name:?} is a {}: a plugin archive holds only plain files and folders",
                kind_name(kind)
            )));
        }
        let size = entry.header().size().map_err(broken)?;
        unpacked = unpacked.saturating_add(size);
        if unpacked > limits.max_unpacked_bytes {
            return Err(too_big(format!("the archive unpacks to more than {} MiB", limits.max_unpacked_bytes >> 20)));
        }
        let dest = into.join(&relative);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&dest).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => refused(format!("entry {name:?} appears twice")),
            _ => io(e),
        })?;
        let copied = io::copy(&mut (&mut entry).take(size), &mut file).map_err(broken)?;
        if copied != size {
            return Err(refused(format!("entry {name:?} is cut short: the archive is truncated")));
        }
    }
    // The rest of the gzip stream is read too, so a cut one is noticed.
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(broken)?;
    plugin_folder(into).ok_or_else(|| {
        refused("the archive holds no plugin.toml, neither at its root nor in its only top-level folder".into())
    })
}

/// A reader that fails once it has given `left` bytes, and says so in
/// `capped`.
struct Capped<'a, R> {
    inner: R,
    left: u64,
    capped: &'a Cell<bool>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One more byte means the cap is passed; none means the end.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.capped.set(true);
            return Err(io::Error::other("past the unpacked size cap"));
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A relative path of plain names, from an entry's raw path.
fn safe_path(raw: &[u8]) -> Result<PathBuf, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "is not UTF-8")?;
    if text.contains('\0') || text.contains('\\') {
        return Err("holds a NUL or a backslash");
    }
    let mut path = PathBuf::new();
    for component in Path::new(text).components() {
        match component {
            Component::Normal(name) => path.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err("would leave the folder (`..`)"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(path)
}

fn kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char | tar::EntryType::Block => "device",
        tar::EntryType::Fifo => "FIFO",
        _ => "special entry",
    }
}

/// `root` if it holds `plugin.toml`, else its only entry if that is a
/// folder holding one.
fn plugin_folder(root: &Path) -> Option<PathBuf> {
    let manifest = crate::manifest::Manifest::FILE_NAME;
    if root.join(manifest).is_file() {
        return Some(root.to_owned());
    }
    let mut entries = fs::read_dir(root).ok()?.filter_map(Result::ok);
    let only = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    let dir = only.path();
    (only.file_type().ok()?.is_dir() && dir.join(manifest).is_file()).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert_eq!(safe_path(b"./hello/plugin.toml").unwrap(), PathBuf::from("hello/plugin.toml"));
        assert!(safe_path(b"../x").unwrap_err().contains(".."));
        assert!(safe_path(b"a/../../x").unwrap_err().contains(".."));
        assert!(safe_path(b"/etc/passwd").unwrap_err().contains("absolute"));
        assert!(safe_path(b"a\\..\\x").is_err());
        assert!(safe_path(&[0xff, b'a']).is_err());
    }
}
