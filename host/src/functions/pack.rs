//! A pack: the functions one compile stored, in one file. An index first,
//! then the [`record`](super::record)s it points at:
//!
//! ```text
//! "isaacpk1" | count: u32 LE | count × (key: 32 bytes | offset: u64 LE | length: u32 LE) | records…
//! ```
//!
//! One file per compile rather than one per function: creating and opening
//! 20 000 small files (a CPython) cost the kernel more than a third of a
//! compile that found them all. Nothing in a pack is trusted: an index
//! that does not parse makes the pack unreadable, and each record is still
//! checked when it is read (an entry pointing outside the file, or at
//! another function's record, fails that check).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The first bytes of every pack (and its format's version).
const MAGIC: &[u8; 8] = b"isaacpk1";
/// A function's cache key (Cranelift's: a SHA-256).
pub type Key = [u8; 32];
const HEADER: usize = MAGIC.len() + 4;
const ENTRY: usize = 32 + 8 + 4;
/// More entries than any compile stores (a CPython is 12 000 functions).
const MAX_ENTRIES: usize = 1 << 20;
/// The name every pack ends with.
pub const SUFFIX: &str = ".pack";

/// Where one record lies in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The function's cache key.
    pub key: Key,
    /// Where its record starts, from the start of the file.
    pub offset: u64,
    /// Its record's length.
    pub len: u32,
}

/// The bytes of a pack of `records` (key and sealed record each).
pub fn encode(records: &[(Key, Vec<u8>)]) -> Vec<u8> {
    let body: usize = records.iter().map(|(_, r)| r.len()).sum();
    let mut out = Vec::with_capacity(HEADER + records.len() * ENTRY + body);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    let mut offset = (HEADER + records.len() * ENTRY) as u64;
    for (key, record) in records {
        out.extend_from_slice(key);
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(record.len() as u32).to_le_bytes());
        offset += record.len() as u64;
    }
    for (_, record) in records {
        out.extend_from_slice(record);
    }
    out
}

/// The index of the pack open as `file`; `None` if it is not a pack.
/// Entries are returned as written: one that points past the end fails
/// when it is read.
pub fn index(file: &File) -> Option<Vec<Entry>> {
    let mut header = [0u8; HEADER];
    file.read_exact_at(&mut header, 0).ok()?;
    if &header[..MAGIC.len()] != MAGIC {
        return None;
    }
    let count = u32::from_le_bytes(header[MAGIC.len()..].try_into().ok()?) as usize;
    if count > MAX_ENTRIES {
        return None;
    }
    let mut bytes = vec![0u8; count * ENTRY];
    file.read_exact_at(&mut bytes, HEADER as u64).ok()?;
    let entries = bytes.chunks_exact(ENTRY).map(|e| Entry {
        key: e[..32].try_into().expect("32 bytes"),
        offset: u64::from_le_bytes(e[32..40].try_into().expect("8 bytes")),
        len: u32::from_le_bytes(e[40..].try_into().expect("4 bytes")),
    });
    Some(entries.collect())
}

/// The record `entry` points at in `file` (`size` bytes long), if the file
/// holds it and it is at most `max` bytes.
pub fn read(file: &File, size: u64, entry: &Entry, max: u64) -> Option<Vec<u8>> {
    let end = entry.offset.checked_add(u64::from(entry.len))?;
    if u64::from(entry.len) > max || end > size {
        return None;
    }
    let mut bytes = vec![0u8; entry.len as usize];
    file.read_exact_at(&mut bytes, entry.offset).ok()?;
    Some(bytes)
}

/// Open the pack at `path` to read: a regular file, never through a
/// symlink, never a FIFO's wait (someone able to write the folder but not
/// the state could otherwise point it at `/dev/zero` or a pipe).
pub fn open(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = File::options().read(true).custom_flags(flags.bits() as i32).open(path).ok()?;
    file.metadata().ok().filter(|m| m.is_file()).map(|_| file)
}

/// Write a pack of `records` into `dir` (made if needed) through a
/// temporary file (`.tmp…`) and a rename, so a reader sees the whole pack
/// or none. Not synced: a pack torn by a crash fails its checks.
pub fn write(dir: &Path, records: &[(Key, Vec<u8>)]) -> io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let path = dir.join(format!("{nanos:x}-{}{SUFFIX}", std::process::id()));
    super::write_new(&path, &encode(records))?;
    Ok(path)
}

/// Every record of the packs at `paths` (each read up to `max_bytes`), one
/// per key (the first found), as they are: a record that fails its check
/// still fails it after.
pub fn records_of(paths: &[PathBuf], max_bytes: u64) -> Vec<(Key, Vec<u8>)> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for path in paths {
        let Some(file) = open(path) else { continue };
        let Some(entries) = index(&file) else { continue };
        let mut whole = Vec::new();
        if (&file).take(max_bytes).read_to_end(&mut whole).is_err() {
            continue;
        }
        for entry in entries {
            let Some(end) = entry.offset.checked_add(u64::from(entry.len)) else { continue };
            let Some(record) = whole.get(entry.offset as usize..end as usize) else { continue };
            if seen.insert(entry.key, ()).is_none() {
                out.push((entry.key, record.to_vec()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn key(n: u8) -> Key {
        [n; 32]
    }

    #[test]
    fn a_written_pack_reads_back_entry_by_entry() {
        let dir = tempfile::tempdir().unwrap();
        let records = vec![(key(1), b"first".to_vec()), (key(2), vec![]), (key(3), vec![9; 5000])];
        let path = write(dir.path(), &records).unwrap();
        assert!(path.file_name().unwrap().to_str().unwrap().ends_with(SUFFIX));
        let file = open(&path).unwrap();
        let size = file.metadata().unwrap().len();
        let entries = index(&file).unwrap();
        assert_eq!(entries.len(), 3);
        for (entry, (k, record)) in entries.iter().zip(&records) {
            assert_eq!(&entry.key, k);
            assert_eq!(&read(&file, size, entry, 1 << 20).unwrap(), record);
        }
        assert_eq!(read(&file, size, &entries[2], 4999), None, "longer than allowed");
        assert_eq!(read(&file, size - 1, &entries[2], 1 << 20), None, "past the end");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn a_damaged_pack_reads_as_none_never_as_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &[(key(1), b"record".to_vec())]).unwrap();
        let bytes = fs::read(&path).unwrap();
        // Cut anywhere in the header or index: no index.
        for len in 0..HEADER + ENTRY {
            fs::write(&path, &bytes[..len]).unwrap();
            assert_eq!(index(&open(&path).unwrap()), None, "cut to {len}");
        }
        // Cut in the record: the index reads, the record does not.
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let file = open(&path).unwrap();
        let entries = index(&file).unwrap();
        assert_eq!(read(&file, u64::MAX, &entries[0], 1 << 20), None);
        // A count past any compile's.
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&path, &huge).unwrap();
        assert_eq!(index(&open(&path).unwrap()), None);
        // Not a pack at all.
        fs::write(&path, b"isaacfn1 and more bytes than a header").unwrap();
        assert_eq!(index(&open(&path).unwrap()), None);
    }

    #[test]
    fn a_symlink_or_a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.pack");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(open(&link).is_none());
        let fifo = dir.path().join("fifo.pack");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(open(&fifo).is_none(), "not waited on");
    }

    #[test]
    fn records_of_several_packs_keep_the_first_of_each_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), &[(key(1), b"a1".to_vec()), (key(2), b"a2".to_vec())]).unwrap();
        let b = write(dir.path(), &[(key(2), b"b2".to_vec()), (key(3), b"b3".to_vec())]).unwrap();
        let merged = records_of(&[a, b], 1 << 20);
        assert_eq!(merged, vec![(key(1), b"a1".to_vec()), (key(2), b"a2".to_vec()), (key(3), b"b3".to_vec())]);
    }
}
