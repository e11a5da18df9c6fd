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

use std::collections::HashSet;
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

/// The index of the pack open as `file` (`size` bytes long, as [`open`]
/// found it); `None` if it is not a pack as
/// [`encode`] writes one: its records one after another, in the index's
/// order, from the end of the index to the end of the file. So no two
/// entries share bytes, and what a pack can make a reader read or hold is
/// bounded by its size.
pub fn index(file: &File, size: u64) -> Option<Vec<Entry>> {
    let mut header = [0u8; HEADER];
    file.read_exact_at(&mut header, 0).ok()?;
    if &header[..MAGIC.len()] != MAGIC {
        return None;
    }
    let count = u32::from_le_bytes(header[MAGIC.len()..].try_into().ok()?) as usize;
    let records_start = (HEADER + count.checked_mul(ENTRY)?) as u64;
    if count > MAX_ENTRIES || records_start > size {
        return None;
    }
    let mut bytes = vec![0u8; count * ENTRY];
    file.read_exact_at(&mut bytes, HEADER as u64).ok()?;
    let mut next = records_start;
    let mut entries = Vec::with_capacity(count);
    for e in bytes.chunks_exact(ENTRY) {
        let entry = Entry {
            key: e[..32].try_into().expect("32 bytes"),
            offset: u64::from_le_bytes(e[32..40].try_into().expect("8 bytes")),
            len: u32::from_le_bytes(e[40..].try_into().expect("4 bytes")),
        };
        if entry.offset != next {
            return None;
        }
        next = entry.offset.checked_add(u64::from(entry.len))?;
        entries.push(entry);
    }
    (next == size).then_some(entries)
}

/// The record `entry` (from [`index`], so within the file as it was) points
/// at in `file`, if it is at most `max` bytes and the file still holds it.
pub fn read(file: &File, entry: &Entry, max: u64) -> Option<Vec<u8>> {
    if u64::from(entry.len) > max {
        return None;
    }
    let mut bytes = vec![0u8; entry.len as usize];
    file.read_exact_at(&mut bytes, entry.offset).ok()?;
    Some(bytes)
}

/// Open the pack at `path` to read, with its size: a regular file, never
/// through a symlink, never a FIFO's wait (someone able to write the folder
/// but not the state could otherwise point it at `/dev/zero` or a pipe).
pub fn open(path: &Path) -> Option<(File, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = File::options().read(true).custom_flags(flags.bits() as i32).open(path).ok()?;
    let meta = file.metadata().ok().filter(|m| m.is_file())?;
    Some((file, meta.len()))
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

/// The records of the packs at `paths` (each read up to `max_bytes`) that
/// `keep` accepts, one per key (the first kept), and the packs that were
/// read whole (the others were not, and may hold what was not gathered).
pub fn records_of(
    paths: &[PathBuf],
    max_bytes: u64,
    keep: &dyn Fn(&Key, &[u8]) -> bool,
) -> (Vec<(Key, Vec<u8>)>, Vec<PathBuf>) {
    let mut seen = HashSet::new();
    let (mut out, mut read) = (Vec::new(), Vec::new());
    for path in paths {
        let Some((file, size)) = open(path) else { continue };
        let Some(entries) = index(&file, size) else { continue };
        let mut whole = Vec::new();
        if (&file).take(max_bytes).read_to_end(&mut whole).is_err() {
            continue;
        }
        let records = entries.iter().map(|e| (e, whole.get(e.offset as usize..(e.offset + u64::from(e.len)) as usize)));
        let records: Option<Vec<_>> = records.map(|(e, r)| r.map(|r| (e.key, r))).collect();
        let Some(records) = records else { continue };
        for (key, record) in records {
            if !seen.contains(&key) && keep(&key, record) {
                seen.insert(key);
                out.push((key, record.to_vec()));
            }
        }
        read.push(path.clone());
    }
    (out, read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn key(n: u8) -> Key {
        [n; 32]
    }

    fn index_of(path: &Path) -> Option<Vec<Entry>> {
        let (file, size) = open(path).unwrap();
        index(&file, size)
    }

    #[test]
    fn a_written_pack_reads_back_entry_by_entry() {
        let dir = tempfile::tempdir().unwrap();
        let records = vec![(key(1), b"first".to_vec()), (key(2), vec![]), (key(3), vec![9; 5000])];
        let path = write(dir.path(), &records).unwrap();
        assert!(path.file_name().unwrap().to_str().unwrap().ends_with(SUFFIX));
        let (file, size) = open(&path).unwrap();
        let entries = index(&file, size).unwrap();
        assert_eq!(entries.len(), 3);
        for (entry, (k, record)) in entries.iter().zip(&records) {
            assert_eq!(&entry.key, k);
            assert_eq!(&read(&file, entry, 1 << 20).unwrap(), record);
        }
        assert_eq!(read(&file, &entries[2], 4999), None, "longer than allowed");
        let past = Entry { offset: size - 1, ..entries[2] };
        assert_eq!(read(&file, &past, 1 << 20), None, "past the end");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn a_damaged_pack_reads_as_none_never_as_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &[(key(1), b"record".to_vec())]).unwrap();
        let bytes = fs::read(&path).unwrap();
        // Cut anywhere, or grown: no index.
        for len in 0..bytes.len() {
            fs::write(&path, &bytes[..len]).unwrap();
            assert_eq!(index_of(&path), None, "cut to {len}");
        }
        fs::write(&path, [&bytes[..], b"more"].concat()).unwrap();
        assert_eq!(index_of(&path), None, "bytes after the last record");
        // A count past any compile's.
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&path, &huge).unwrap();
        assert_eq!(index_of(&path), None);
        // Not a pack at all.
        fs::write(&path, b"isaacfn1 and more bytes than a header").unwrap();
        assert_eq!(index_of(&path), None);
    }

    #[test]
    fn entries_must_lie_one_after_another_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &[(key(1), vec![1; 100]), (key(2), vec![2; 100])]).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert!(index_of(&path).is_some());
        let second = HEADER + ENTRY;
        let first_offset: [u8; 8] = bytes[HEADER + 32..HEADER + 40].try_into().unwrap();
        // The second entry pointing at the first's record (as a forger
        // would, to make one record be read many times), or past it, or
        // the first one longer than its record.
        let mut overlapping = bytes.clone();
        overlapping[second + 32..second + 40].copy_from_slice(&first_offset);
        let mut gap = bytes.clone();
        gap[second + 32..second + 40].copy_from_slice(&(u64::from_le_bytes(first_offset) + 101).to_le_bytes());
        let mut longer = bytes.clone();
        longer[HEADER + 40..HEADER + 44].copy_from_slice(&u32::MAX.to_le_bytes());
        for forged in [overlapping, gap, longer] {
            fs::write(&path, &forged).unwrap();
            assert_eq!(index_of(&path), None);
        }
    }

    #[test]
    fn a_symlink_or_a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let real = write(dir.path(), &[(key(1), b"record".to_vec())]).unwrap();
        let link = dir.path().join("link.pack");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(open(&link).is_none(), "not even to a real pack");
        let fifo = dir.path().join("fifo.pack");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(open(&fifo).is_none(), "not waited on");
    }

    #[test]
    fn records_of_several_packs_keep_the_first_of_each_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), &[(key(1), b"a1".to_vec()), (key(2), b"a2".to_vec())]).unwrap();
        let b = write(dir.path(), &[(key(2), b"b2".to_vec()), (key(3), b"b3".to_vec())]).unwrap();
        let (merged, read) = records_of(&[a.clone(), b.clone()], 1 << 20, &|_, _| true);
        assert_eq!(merged, vec![(key(1), b"a1".to_vec()), (key(2), b"a2".to_vec()), (key(3), b"b3".to_vec())]);
        assert_eq!(read, vec![a.clone(), b.clone()]);
        // A record `keep` refuses is left out; a key's next record stands in.
        let (kept, _) = records_of(&[a.clone(), b.clone()], 1 << 20, &|_, r| r != b"a2");
        assert_eq!(kept, vec![(key(1), b"a1".to_vec()), (key(2), b"b2".to_vec()), (key(3), b"b3".to_vec())]);
        // A pack that cannot be read whole is not counted as read.
        let missing = dir.path().join("gone.pack");
        let (_, read) = records_of(&[missing, b.clone()], 1 << 20, &|_, _| true);
        assert_eq!(read, vec![b]);
    }
}
