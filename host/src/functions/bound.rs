//! Keeping the function cache within its budget: after a compile that
//! stored functions, namespaces of other engines (an older isaac or
//! wasmtime) go, temporary files left by a crash go, packs that failed a
//! check go, many small packs are merged into one (so a lookup opens few
//! files), and while the current namespace is over budget its least
//! recently used packs go until it is at 80 % of it (and the notes of
//! known code with them). One process at a time does this (a lock file);
//! another finding it busy skips it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::FlockOperation;

use super::pack;

/// A temporary file older than this was left by a process that died.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// A pack under this size is small (most compiles store a few functions:
/// the ones a plugin of its own adds).
const SMALL: u64 = 4 << 20;

/// More small packs than this are merged into one.
const MAX_SMALL: usize = 16;

/// Whether a record may be kept (its check), when packs are merged.
pub(super) type Check<'a> = &'a dyn Fn(&pack::Key, &[u8]) -> bool;

/// Bring `dir` (the cache's root) within `budget` bytes for namespace
/// `current`, dropping every other namespace and the packs in `bad`;
/// small packs are merged, keeping the records `check` accepts, if given.
pub(super) fn maintain(dir: &Path, current: &str, budget: u64, bad: &[PathBuf], check: Option<Check<'_>>) {
    // Never walked through a symlink (to someone's home, say).
    if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return;
    }
    // A pack is never rewritten, so one that failed goes without the lock.
    for path in bad {
        let _ = fs::remove_file(path);
    }
    // Not truncated, not followed if it is a symlink.
    let lock = {
        use std::os::unix::fs::OpenOptionsExt;
        let no_follow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
        File::options().create(true).append(true).custom_flags(no_follow).open(dir.join(".maintain.lock"))
    };
    let Ok(lock) = lock else { return };
    if rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive).is_err() {
        return;
    }
    let Ok(namespaces) = fs::read_dir(dir) else { return };
    for entry in namespaces.flatten() {
        let name = entry.file_name();
        if name != current && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    // Walked only if it is a real folder.
    let current = dir.join(current);
    if !fs::symlink_metadata(&current).is_ok_and(|m| m.is_dir()) {
        return;
    }
    let mut packs = packs(&current);
    if let Some(check) = check
        && merge_small(&current, &packs, check)
    {
        packs = self::packs(&current);
    }
    let mut total: u64 = packs.iter().map(|p| p.bytes).sum();
    if total <= budget {
        return;
    }
    // The notes of known code vouch for functions some of which are about
    // to go: they go first, so a big plugin is not compiled with Cranelift
    // at once on a promise the cache no longer keeps.
    let _ = fs::remove_dir_all(current.join(super::known::NOTES));
    packs.sort_by_key(|p| p.used);
    let target = budget / 10 * 8;
    for stored in packs {
        if total <= target {
            break;
        }
        if fs::remove_file(&stored.path).is_ok() {
            total -= stored.bytes;
        }
    }
}

/// Merge the small packs in `namespace` into one if there are too many,
/// keeping the records `check` accepts; whether it did.
fn merge_small(namespace: &Path, packs: &[Stored], check: Check<'_>) -> bool {
    let mut small: Vec<&Stored> = packs.iter().filter(|p| p.bytes < SMALL).collect();
    if small.len() <= MAX_SMALL {
        return false;
    }
    // The newest first: where a key is in two packs, its newest record wins.
    small.sort_by_key(|p| std::cmp::Reverse(p.used));
    let paths: Vec<PathBuf> = small.iter().map(|p| p.path.clone()).collect();
    let (records, read) = pack::records_of(&paths, SMALL, check);
    if pack::write(namespace, &records).is_err() {
        return false;
    }
    // Only what was read whole: a pack that could not be read keeps its records.
    for path in &read {
        let _ = fs::remove_file(path);
    }
    true
}

struct Stored {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// The packs in `namespace`, removing stale temporary files on the way.
fn packs(namespace: &Path) -> Vec<Stored> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(namespace) else { return out };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if name.starts_with(".tmp") {
            if used.elapsed().unwrap_or_default() > STALE_TMP {
                let _ = fs::remove_file(entry.path());
            }
        } else if name.ends_with(pack::SUFFIX) {
            out.push(Stored { path: entry.path(), bytes: meta.len(), used });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant(dir: &Path, name: &str, bytes: usize, age_s: u64) -> PathBuf {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, vec![0u8; bytes]).unwrap();
        age(&path, age_s);
        path
    }

    fn age(path: &Path, age_s: u64) {
        let when = SystemTime::now() - Duration::from_secs(age_s);
        File::options().write(true).open(path).unwrap().set_modified(when).unwrap();
    }

    fn packs_in(dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<_> = packs(dir).into_iter().map(|p| p.path).collect();
        out.sort();
        out
    }

    #[test]
    fn the_least_recently_used_go_first_until_80_percent_is_left() {
        let root = tempfile::tempdir().unwrap();
        let old = plant(root.path(), "ns/a.pack", 400, 300);
        let middle = plant(root.path(), "ns/b.pack", 400, 200);
        let new = plant(root.path(), "ns/c.pack", 400, 100);
        let newest = plant(root.path(), "ns/d.pack", 100, 50);
        let note = plant(root.path(), "ns/modules/0123abcd", 3, 10);
        maintain(root.path(), "ns", 1000, &[], None);
        assert!(!old.exists() && !middle.exists(), "1300 bytes, then 900: both over 80 % of 1000");
        assert!(new.exists() && newest.exists());
        assert!(!note.exists(), "the notes of known code go when functions do");
    }

    #[test]
    fn within_budget_only_bad_packs_other_namespaces_and_stale_tmp_go() {
        let root = tempfile::tempdir().unwrap();
        let kept = plant(root.path(), "ns/a.pack", 100, 100_000);
        let bad = plant(root.path(), "ns/b.pack", 100, 1);
        let fresh_tmp = plant(root.path(), "ns/.tmp-1", 10, 1);
        let stale_tmp = plant(root.path(), "ns/.tmp-2", 10, 7200);
        let older_engine = plant(root.path(), "old-ns/a.pack", 100, 1);
        let note = plant(root.path(), "ns/modules/0123abcd", 3, 10);
        maintain(root.path(), "ns", 1000, std::slice::from_ref(&bad), None);
        assert!(kept.exists() && fresh_tmp.exists() && note.exists());
        assert!(!stale_tmp.exists() && !bad.exists());
        assert!(!older_engine.exists() && !root.path().join("old-ns").exists());
    }

    #[test]
    fn many_small_packs_are_merged_into_one_the_newest_checked_record_winning() {
        let root = tempfile::tempdir().unwrap();
        let ns = root.path().join("ns");
        let big = pack::write(&ns, &[([0; 32], vec![0; SMALL as usize])]).unwrap();
        for n in 0..=MAX_SMALL as u8 {
            let records = [([n + 1; 32], vec![n]), ([99; 32], vec![n]), ([200; 32], vec![n])];
            let path = pack::write(&ns, &records).unwrap();
            age(&path, 1000 - u64::from(n));
        }
        // Key 200's newest record fails its check: the one before it wins.
        let newest = MAX_SMALL as u8;
        let check = |key: &pack::Key, record: &[u8]| !(*key == [200; 32] && record == [newest]);
        maintain(root.path(), "ns", 1 << 30, &[], Some(&check));
        let left = packs_in(&ns);
        assert_eq!(left.len(), 2, "the big pack and one merged: {left:?}");
        let merged = left.iter().find(|p| **p != big).unwrap();
        let (records, _) = pack::records_of(std::slice::from_ref(merged), 1 << 20, &|_, _| true);
        assert_eq!(records.len(), MAX_SMALL + 3, "every key once");
        let record = |k: u8| records.iter().find(|(key, _)| *key == [k; 32]).unwrap().1.clone();
        assert_eq!(record(99), vec![newest], "the newest pack's record");
        assert_eq!(record(200), vec![newest - 1], "the newest that passes its check");
        maintain(root.path(), "ns", 1 << 30, &[], Some(&check));
        assert_eq!(packs_in(&ns), left, "two packs are not merged again");
    }

    #[test]
    fn without_a_check_nothing_is_merged_and_a_symlinked_root_is_not_walked() {
        let root = tempfile::tempdir().unwrap();
        let ns = root.path().join("ns");
        for n in 0..=MAX_SMALL as u8 {
            pack::write(&ns, &[([n; 32], vec![n])]).unwrap();
        }
        maintain(root.path(), "ns", 1 << 30, &[], None);
        assert_eq!(packs_in(&ns).len(), MAX_SMALL + 1);
        // The cache's root a symlink to a folder of someone else's.
        let elsewhere = tempfile::tempdir().unwrap();
        let theirs = plant(elsewhere.path(), "theirs/file", 10, 1);
        let link = root.path().join("link");
        std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
        maintain(&link, "ns", 0, &[], None);
        assert!(theirs.exists(), "nothing removed through the symlink");
    }
}
