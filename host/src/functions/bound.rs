//! Keeping the function cache within its budget: after a compile that
//! stored functions, namespaces of other engines (an older isaac or
//! wasmtime) go, temporary files left by a crash go, and while the
//! current namespace is over budget its least recently used files go until
//! it is at 80 % of it (and the notes of known code with them). One process at a time does this (a lock file);
//! another finding it busy skips it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::FlockOperation;

/// A temporary file older than this was left by a process that died.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Bring `dir` (the cache's root) within `budget` bytes for namespace
/// `current`, dropping every other namespace.
pub(super) fn maintain(dir: &Path, current: &str, budget: u64) {
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
    // Walked only if it is a real folder (as is each folder inside).
    let current = dir.join(current);
    if !fs::symlink_metadata(&current).is_ok_and(|m| m.is_dir()) {
        return;
    }
    let mut files = files(&current);
    let mut total: u64 = files.iter().map(|f| f.bytes).sum();
    if total <= budget {
        return;
    }
    // The notes of known code vouch for functions some of which are about
    // to go: they go first, so a big plugin is not compiled with Cranelift
    // at once on a promise the cache no longer keeps.
    let _ = fs::remove_dir_all(current.join(super::known::NOTES));
    files.sort_by_key(|f| f.used);
    let target = budget / 10 * 8;
    for file in files {
        if total <= target {
            break;
        }
        if fs::remove_file(&file.path).is_ok() {
            total -= file.bytes;
        }
    }
}

struct Stored {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// The records under `namespace` (two levels: a fan-out folder, then the
/// files), removing stale temporary files on the way.
fn files(namespace: &Path) -> Vec<Stored> {
    let mut out = Vec::new();
    let Ok(fans) = fs::read_dir(namespace) else { return out };
    for fan in fans.flatten() {
        // The modules' notes are a few bytes each, and go with the namespace.
        if fan.file_name() == super::known::NOTES || !fan.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(entries) = fs::read_dir(fan.path()) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if entry.file_name().to_string_lossy().starts_with(".tmp") {
                if used.elapsed().unwrap_or_default() > STALE_TMP {
                    let _ = fs::remove_file(entry.path());
                }
                continue;
            }
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
        let when = SystemTime::now() - Duration::from_secs(age_s);
        File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        path
    }

    #[test]
    fn the_least_recently_used_go_first_until_80_percent_is_left() {
        let root = tempfile::tempdir().unwrap();
        let old = plant(root.path(), "ns/aa/aa01", 400, 300);
        let middle = plant(root.path(), "ns/bb/bb01", 400, 200);
        let new = plant(root.path(), "ns/aa/aa02", 400, 100);
        let newest = plant(root.path(), "ns/cc/cc01", 100, 50);
        let note = plant(root.path(), "ns/modules/0123abcd", 3, 10);
        maintain(root.path(), "ns", 1000);
        assert!(!old.exists() && !middle.exists(), "1300 bytes, then 900: both over 80 % of 1000");
        assert!(new.exists() && newest.exists());
        assert!(!note.exists(), "the notes of known code go when functions do");
    }

    #[test]
    fn within_budget_nothing_of_the_current_namespace_goes_but_other_namespaces_and_stale_tmp_do() {
        let root = tempfile::tempdir().unwrap();
        let kept = plant(root.path(), "ns/aa/aa01", 100, 100_000);
        let fresh_tmp = plant(root.path(), "ns/aa/.tmp-1", 10, 1);
        let stale_tmp = plant(root.path(), "ns/aa/.tmp-2", 10, 7200);
        let older_engine = plant(root.path(), "old-ns/aa/aa01", 100, 1);
        let note = plant(root.path(), "ns/modules/0123abcd", 3, 10);
        maintain(root.path(), "ns", 1000);
        assert!(kept.exists() && fresh_tmp.exists() && note.exists());
        assert!(!stale_tmp.exists());
        assert!(!older_engine.exists() && !root.path().join("old-ns").exists());
    }
}
