//! Compiled functions shared between plugins: wasmtime's incremental
//! compilation cache, kept in the home. Cranelift asks it for each function
//! it is about to compile (keyed by a hash of the function's code, the
//! target and the compiler's settings) and stores what it compiled, so a
//! function any plugin had already (CPython in every componentize-py
//! plugin, the JavaScript engine in every componentize-js one) is not
//! compiled again.
//!
//! The functions live under `compiled/functions/NAMESPACE/`, the namespace
//! being the engine's compatibility digest (an isaac or wasmtime upgrade
//! starts a new one, and the old ones are deleted), in [`pack`]s: what one
//! compile stored, written in one file when it ends (through a temporary
//! file and a rename, so processes share the folder safely). Each function
//! is a [`record`] whose tag is checked before Cranelift sees a byte: a
//! truncated, corrupted or forged record is counted as rejected, the
//! function is compiled afresh, and the pack that held it is deleted. The
//! folder is bounded ([`bound`]): past `[loader] function_cache_mb`, the
//! least recently used packs go. Winch cannot use it; only Cranelift's
//! engines do. Beside the functions, `modules/` notes the core modules'
//! code sections they came from ([`known`]).

mod bound;
pub mod known;
pub mod pack;
pub mod record;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use wasmtime::CacheStore;

use crate::config::LoaderConfig;
use crate::home::Home;
use crate::state::State;
use known::Module;
use pack::Key;
use record::Secret;

/// A hit refreshes its pack's time only when it is older than this (the
/// bound needs no finer order).
const TOUCH_AFTER: Duration = Duration::from_secs(3600);

/// The most a record is read of (a function's code is kilobytes; a larger
/// one is not one this cache wrote).
const MAX_RECORD: u64 = 64 << 20;

/// The most packs a process opens (the newest).
const MAX_OPEN: usize = 256;

/// Whether a failed check was said already in this process.
static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What the function cache did: over a process, or for one compile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCounts {
    /// Functions whose compiled code came from the cache.
    pub reused: u64,
    /// Functions compiled (and stored).
    pub compiled: u64,
    /// Entries that failed their check (deleted; compiled afresh).
    pub rejected: u64,
}

impl FunctionCounts {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &FunctionCounts) -> FunctionCounts {
        FunctionCounts {
            reused: self.reused - earlier.reused,
            compiled: self.compiled - earlier.compiled,
            rejected: self.rejected - earlier.rejected,
        }
    }

    /// The share of functions that came from the cache, in percent.
    pub fn reused_percent(&self) -> f64 {
        let asked = self.reused + self.compiled;
        if asked == 0 { 0.0 } else { self.reused as f64 * 100.0 / asked as f64 }
    }

    /// Whether nothing was asked of the cache.
    pub fn is_empty(&self) -> bool {
        *self == FunctionCounts::default()
    }
}

#[derive(Debug, Default)]
struct Counters {
    reused: AtomicU64,
    compiled: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> FunctionCounts {
        FunctionCounts {
            reused: self.reused.load(Ordering::Relaxed),
            compiled: self.compiled.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

/// Compiles being measured now, and measures ever started.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static STARTED: AtomicU64 = AtomicU64::new(0);

/// One compile's share of a cache's work. The counters are the cache's, so
/// the share is known only if no other compile ran beside it (`plugins
/// list` compiles many at once; `plugins add` and the optimiser, one).
#[must_use]
pub struct Measure<'a> {
    cache: &'a FunctionCache,
    before: FunctionCounts,
    alone: bool,
    started: u64,
}

impl Measure<'_> {
    /// What the cache did for this compile, if it ran alone.
    pub fn finish(self) -> Option<FunctionCounts> {
        let alone = self.alone && STARTED.load(Ordering::SeqCst) == self.started;
        alone.then(|| self.cache.counts().since(&self.before))
    }
}

impl Drop for Measure<'_> {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every function cache of this process, counted together (the run record).
static PROCESS: Counters =
    Counters { reused: AtomicU64::new(0), compiled: AtomicU64::new(0), rejected: AtomicU64::new(0) };

/// What the function caches of this process did so far.
pub fn process_counts() -> FunctionCounts {
    PROCESS.snapshot()
}

fn count(counter: impl Fn(&Counters) -> &AtomicU64, own: &Counters) {
    counter(own).fetch_add(1, Ordering::Relaxed);
    counter(&PROCESS).fetch_add(1, Ordering::Relaxed);
}

/// The home's function cache (a wasmtime [`CacheStore`]). Building it
/// touches nothing: the folder and the key are used at the first compile.
pub struct FunctionCache {
    dir: PathBuf,
    state: Arc<State>,
    budget_bytes: u64,
    /// The engine's compatibility digest, set once it is built.
    namespace: OnceLock<String>,
    secret: OnceLock<Option<Secret>>,
    counters: Counters,
    /// The packs in the folder, read at the first lookup.
    packs: OnceLock<RwLock<Packs>>,
    /// What this process compiled and has not yet written (sealed records).
    pending: Mutex<HashMap<Key, Vec<u8>>>,
}

/// The open packs of a namespace and where each function is in them.
#[derive(Default)]
struct Packs {
    open: Vec<Pack>,
    /// A key's records (a key can be in several packs).
    index: HashMap<Key, Vec<(usize, pack::Entry)>>,
}

struct Pack {
    path: PathBuf,
    file: fs::File,
    /// Whether its time was refreshed in this process.
    touched: AtomicBool,
    /// Whether it failed a check (then it is deleted at the next bound).
    bad: AtomicBool,
}

impl Packs {
    /// The packs in `dir`, the most recently used first, at most
    /// [`MAX_OPEN`] (the bound and merging keep far fewer; a folder planted
    /// with thousands must not take every file descriptor).
    fn load(dir: Option<PathBuf>) -> Packs {
        let mut packs = Packs::default();
        let Some(entries) = dir.and_then(|d| fs::read_dir(d).ok()) else { return packs };
        let mut found: Vec<(SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(pack::SUFFIX) && !n.starts_with('.')))
            .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH), e.path()))
            .collect();
        found.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
        for (_, path) in found.into_iter().take(MAX_OPEN) {
            packs.add(path);
        }
        packs
    }

    /// Open the pack at `path` and index its entries; one whose index does
    /// not read is kept only to be deleted.
    fn add(&mut self, path: PathBuf) {
        let Some((file, size)) = pack::open(&path) else { return };
        let entries = pack::index(&file, size);
        let n = self.open.len();
        for entry in entries.iter().flatten() {
            self.index.entry(entry.key).or_default().push((n, *entry));
        }
        self.open.push(Pack { path, file, touched: AtomicBool::new(false), bad: AtomicBool::new(entries.is_none()) });
    }

    fn bad(&self) -> Vec<PathBuf> {
        self.open.iter().filter(|p| p.bad.load(Ordering::Relaxed)).map(|p| p.path.clone()).collect()
    }
}

impl FunctionCache {
    /// The cache in `dir` (`compiled/functions` of the home), its records
    /// tagged under a key kept in `state`, bounded to `budget_bytes`.
    pub fn new(dir: PathBuf, state: Arc<State>, budget_bytes: u64) -> Arc<Self> {
        Arc::new(FunctionCache {
            dir,
            state,
            budget_bytes,
            namespace: OnceLock::new(),
            secret: OnceLock::new(),
            counters: Counters::default(),
            packs: OnceLock::new(),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// The function cache of `home` as `[loader]` sizes it; `None` when
    /// `function_cache_mb = 0`.
    pub fn of_home(home: &Home, state: Arc<State>, loader: &LoaderConfig) -> Option<Arc<Self>> {
        (loader.function_cache_mb > 0).then(|| Self::new(home.functions_dir(), state, loader.function_cache_mb << 20))
    }

    /// Name the engine this cache serves (its compatibility digest); until
    /// then it serves nothing. One cache serves one engine.
    pub fn bind(&self, compatibility: &str) {
        let first = self.namespace.get_or_init(|| compatibility.to_owned());
        assert_eq!(first, compatibility, "a function cache serves one engine");
    }

    /// What this cache did so far.
    pub fn counts(&self) -> FunctionCounts {
        self.counters.snapshot()
    }

    fn secret(&self) -> Option<&Secret> {
        self.secret
            .get_or_init(|| {
                self.state
                    .secret("function-cache")
                    .map_err(|e| tracing::debug!("no function cache: {}", crate::error::OneLine(&e)))
                    .ok()
            })
            .as_ref()
    }

    fn namespace_dir(&self) -> Option<PathBuf> {
        Some(self.dir.join(self.namespace.get()?))
    }

    fn packs(&self) -> &RwLock<Packs> {
        self.packs.get_or_init(|| RwLock::new(Packs::load(self.namespace_dir())))
    }

    /// Write what this process compiled since the last time as one pack.
    pub fn flush(&self) {
        let records: Vec<(Key, Vec<u8>)> = std::mem::take(&mut *lock(&self.pending)).into_iter().collect();
        let Some(dir) = self.namespace_dir().filter(|_| !records.is_empty()) else { return };
        match pack::write(&dir, &records) {
            Ok(path) => {
                if let Some(packs) = self.packs.get() {
                    packs.write().unwrap_or_else(|e| e.into_inner()).add(path);
                }
            }
            Err(e) => tracing::debug!("cannot store compiled functions in {}: {e}", dir.display()),
        }
    }

    /// Start measuring one compile: [`Measure::finish`] says what the cache
    /// did for it.
    pub fn measure(&self) -> Measure<'_> {
        let alone = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) == 0;
        let started = STARTED.fetch_add(1, Ordering::SeqCst) + 1;
        Measure { cache: self, before: self.counts(), alone, started }
    }

    /// Note that Cranelift compiled `modules`' code sections, so their
    /// functions are here (one file per code section, a hint for
    /// [`known_share`](Self::known_share), kept beside the functions and
    /// removed whenever any of them is, to keep the budget; not sealed,
    /// since a wrong one costs time, never safety).
    pub fn note_modules(&self, modules: &[Module]) {
        let Some(dir) = self.namespace_dir().map(|d| d.join(known::NOTES)) else { return };
        for module in modules {
            let note = dir.join(&module.code_sha256);
            if fs::symlink_metadata(&note).is_err() {
                let _ = write_new(&note, module.code_bytes.to_string().as_bytes());
            }
        }
    }

    /// The share of `modules`' code that Cranelift compiled before, here.
    pub fn known_share(&self, modules: &[Module]) -> f64 {
        let Some(dir) = self.namespace_dir().map(|d| d.join(known::NOTES)) else { return 0.0 };
        known::known_share(modules, |m| {
            fs::read_to_string(dir.join(&m.code_sha256)).ok().and_then(|s| s.parse().ok()) == Some(m.code_bytes)
        })
    }

    /// Write what was compiled ([`flush`](Self::flush)), then keep the
    /// folder within its budget, delete packs that failed a check and drop
    /// other namespaces.
    pub fn maintain(&self) {
        self.flush();
        if let Some(current) = self.namespace.get() {
            let bad = self.packs.get().map(|p| p.read().unwrap_or_else(|e| e.into_inner()).bad()).unwrap_or_default();
            let check = self
                .secret()
                .map(|secret| move |key: &Key, sealed: &[u8]| record::open(secret, current, key, sealed).is_some());
            let check = check.as_ref().map(|c| c as bound::Check<'_>);
            bound::maintain(&self.dir, current, self.budget_bytes, &bad, check);
        }
    }
}

impl std::fmt::Debug for FunctionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionCache").field("dir", &self.dir).field("counts", &self.counts()).finish_non_exhaustive()
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let key: &Key = key.try_into().ok()?;
        let (secret, namespace) = (self.secret()?, self.namespace.get()?);
        if let Some(record) = lock(&self.pending).get(key) {
            // Sealed by this process a moment ago (a function repeated
            // within one component).
            count(|c| &c.reused, &self.counters);
            return Some(Cow::Owned(record[record::HEADER..].to_vec()));
        }
        let packs = self.packs().read().unwrap_or_else(|e| e.into_inner());
        for (n, entry) in packs.index.get(key)? {
            let pack = &packs.open[*n];
            if pack.bad.load(Ordering::Relaxed) {
                continue;
            }
            let mut bytes = pack::read(&pack.file, entry, MAX_RECORD).unwrap_or_default();
            if record::open(secret, namespace, key, &bytes).is_some() {
                count(|c| &c.reused, &self.counters);
                if !pack.touched.swap(true, Ordering::Relaxed) {
                    touch(&pack.file);
                }
                bytes.drain(..record::HEADER);
                return Some(Cow::Owned(bytes));
            }
            // Once a process: a lost key (the state folder reset) makes
            // every record fail.
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "a compiled function in {} failed its check (others may follow); compiling it afresh",
                    pack.path.display()
                );
            }
            count(|c| &c.rejected, &self.counters);
            pack.bad.store(true, Ordering::Relaxed);
        }
        None
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let Ok(key) = Key::try_from(key) else { return false };
        let (Some(secret), Some(namespace)) = (self.secret(), self.namespace.get()) else { return false };
        count(|c| &c.compiled, &self.counters);
        let record = record::seal(secret, namespace, &key, &value);
        lock(&self.pending).insert(key, record);
        true
    }
}

impl Drop for FunctionCache {
    fn drop(&mut self) {
        self.flush();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Write `bytes` to `path` (its folder made if needed) through a temporary
/// file (`.tmp…`) and a rename that replaces nothing: a reader sees the
/// whole file or none.
/// Unlike [`crate::compiled::write_atomically`] (which this module cannot
/// call: `compiled` checks components with [`known`]) it does not sync: a
/// pack torn by a crash fails its checks, and a note is only a hint.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no folder"))?;
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

/// Mark `file` as used now (for the bound), if it was not lately.
fn touch(file: &fs::File) {
    let old = file.metadata().and_then(|m| m.modified()).map(|t| t.elapsed().unwrap_or_default() > TOUCH_AFTER);
    if old.unwrap_or(false) {
        let _ = file.set_modified(SystemTime::now());
    }
}
