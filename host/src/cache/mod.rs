//! The three-tier cache: L1 (hot) and L2 (warm) in memory, L3 (cold) on disk
//! in LMDB.
//!
//! ```no_run
//! use std::sync::Arc;
//! use isaac_host::cache::{clock::SystemClock, lmdb::LmdbStore, Expiry, MultiLevelCache, Namespace};
//! use isaac_host::config::CacheConfig;
//! use isaac_host::state::State;
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let state = State::open("/tmp/isaac-home/state".as_ref(), 8192)?;
//! let cache = MultiLevelCache::new(Arc::new(LmdbStore::new(state)), CacheConfig::default(), Arc::new(SystemClock));
//! let ns = Namespace::user();
//! cache.set(&ns, "user:123:name", b"Ada", Expiry::Default)?;
//! assert_eq!(cache.get(&ns, "user:123:name")?.as_deref(), Some(&b"Ada"[..]));
//! assert_eq!(cache.invalidate(&ns, "user:123:*")?, 1);
//! # Ok(()) }
//! ```
//!
//! ## How the tiers move
//!
//! `set` writes L3 (one LMDB commit) and then L1. `get` looks in L1, then L2,
//! then L3, and puts a hit in L1; L1's least recently used entry moves to L2,
//! L2's leaves memory (it stays in L3). Both memory tiers are bounded in
//! entries and in bytes; a value larger than L1's byte budget lives in L3
//! only. An expired entry is a miss on every tier and is removed: from memory
//! when it is found, from L3 when it is read and by a sweep of L3 that runs
//! at most once per `sweep_interval_secs`, when a process ends.
//!
//! ## Consistency
//!
//! - **Within a process** the cache is strongly consistent: a `get` sees
//!   every `set`, `delete` and `invalidate` that returned before it started.
//!   Writes are serialised; a value read from L3 is not promoted into memory
//!   if a write happened while it was being read.
//! - **Across processes** it is eventually consistent, with a bound. L3 is
//!   shared through LMDB and every write to it adds one to a generation
//!   counter. A process compares that counter with the one it last saw at
//!   most every `freshness_ms` (default 100 ms) before a `get`, and before
//!   every write; if another process wrote in between, it empties its memory
//!   tiers. So a long-lived process (the shell) sees another process's `set`,
//!   `delete` or `invalidate` within `freshness_ms`, and never serves a value
//!   invalidated longer ago than that. A short-lived `isaac` process starts
//!   with empty memory tiers and is always fresh.
//! - **Atomic updates** (`increment`, `compare_and_swap`) are decided in
//!   L3's write transaction, never on a memory tier, so no concurrent update
//!   is lost whatever the freshness bound (see `atomic.rs`).
//!
//! ## Statistics and warming
//!
//! Counters ([`stats::Counters`]) count explicit gets only and are kept in
//! memory; [`MultiLevelCache::flush`] (called when the cache is dropped) adds
//! them to totals in L3 in one commit, with the per-key usage counts that
//! warming uses. The hot set (the most used keys, as many as L1 holds) is
//! kept in L3 too and preloaded into L1 on a process's first `get`, so a
//! restart does not start cold.

mod admission;
mod atomic;
pub mod clock;
pub mod entry;
pub mod glob;
pub mod lmdb;
pub mod redis;
pub mod stats;
pub mod store;
pub mod tiers;
pub(crate) mod traces;
pub mod usage;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use entry::{Bytes, Expiry};
pub use stats::{CacheStats, Counters};

use crate::config::{CacheConfig, Durability};
use clock::Clock;
use entry::Entry;
pub use store::StoreError;
use store::{Applied, ColdStore, Matching, Op, Space};
use tiers::{Found, MemoryTiers, Moves, TierLimits};
use usage::UsageCounts;

/// The most keys whose usage a process tracks between flushes (a bound on
/// host memory whatever keys a plugin reads; see [`usage`]).
pub const USAGE_KEYS: usize = 4096;

/// Keys of one owner. The host prefixes every key with its namespace, so no
/// key or pattern of one owner reaches another's entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    prefix: String,
}

/// Separates the parts of a namespaced key; cannot occur in a namespace name.
const SEP: char = '\u{1f}';

impl Namespace {
    /// The user's own keys (`isaac cache get KEY`).
    pub fn user() -> Self {
        Namespace { prefix: format!("u{SEP}") }
    }

    /// The keys of plugin `name` (a valid plugin name: `[a-z0-9-]+`).
    pub fn plugin(name: &str) -> Self {
        Namespace { prefix: format!("p{SEP}{name}{SEP}") }
    }

    /// The keys of a host service, such as the AI response cache.
    pub fn service(name: &str) -> Self {
        Namespace { prefix: format!("s{SEP}{name}{SEP}") }
    }

    /// The stored form of `key`.
    pub fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }

    /// What every key of the namespace starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whose keys these are, for messages: ``plugin `NAME` ``, `the user`,
    /// or ``the host's `NAME` ``.
    pub fn owner(&self) -> String {
        let name = self.prefix.trim_end_matches(SEP).split(SEP).nth(1).unwrap_or("");
        match self.prefix.as_bytes().first() {
            Some(b'p') => format!("plugin `{name}`"),
            Some(b's') => format!("the host's `{name}`"),
            _ => "the user".to_owned(),
        }
    }
}

/// A cache operation that did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// An empty key.
    #[error("a cache key may not be empty")]
    EmptyKey,
    /// A key over the limit.
    #[error(
        "a cache key of {len} bytes is longer than the limit of {max} bytes ([cache] max_key_bytes in config.toml)"
    )]
    KeyTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value over the limit.
    #[error(
        "a cache value of {len} bytes is larger than the limit of {max} bytes ([cache] max_value_kb in config.toml)"
    )]
    ValueTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A set would pass the namespace's quota.
    #[error(
        "{owner} has {used} bytes in the cache; {more} more would pass its quota of {} MiB (delete or invalidate keys, or raise `cache_quota_mb` under [plugins.NAME] in config.toml)",
        limit >> 20
    )]
    Quota {
        /// Whose namespace: `plugin `NAME`` or `the user`.
        owner: String,
        /// Bytes its live entries hold.
        used: u64,
        /// Bytes the set would add.
        more: u64,
        /// Its quota in bytes.
        limit: u64,
    },
    /// An increment found a value that is not a decimal integer.
    #[error(
        "the value at `{key}` is not a decimal integer, so it cannot be incremented (set it to a number, or delete it)"
    )]
    NotAnInteger {
        /// The key, in its namespace.
        key: String,
    },
    /// An increment would leave the range of a 64-bit integer.
    #[error("the value at `{key}` is {current}; adding {delta} would leave the range of a 64-bit integer")]
    Overflow {
        /// The key, in its namespace.
        key: String,
        /// What it holds.
        current: i64,
        /// What was to be added.
        delta: i64,
    },
    /// L3 failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`MultiLevelCache::warmup`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WarmReport {
    /// Most used keys considered.
    pub considered: usize,
    /// Already in memory.
    pub in_memory: usize,
    /// Loaded from L3 into memory.
    pub loaded: usize,
    /// Produced by the generator and set.
    pub generated: usize,
    /// Neither in L3 nor produced.
    pub missing: usize,
}

struct Inner {
    tiers: MemoryTiers,
    counters: Counters,
    usage: UsageCounts,
    /// The L3 generation this process's memory tiers reflect.
    seen: u64,
    /// When the generation was last compared (ms).
    checked_at: u64,
    /// Whether the first use (generation read, hot-set preload) happened.
    started: bool,
    /// Whether a flush has checked whether a sweep is due (once a process).
    sweep_checked: bool,
    /// Where a lookup builds its key's full name.
    key_buffer: String,
}

impl Inner {
    fn record(&mut self, moves: Moves) {
        self.counters.l1_evictions += moves.demoted;
        self.counters.l2_evictions += moves.dropped;
    }
}

/// Meta keys.
const STATS_PREFIX: &str = "stats/";
const USAGE_PREFIX: &str = "use/";
const HOT: &str = "hot";
const LAST_SWEEP: &str = "last-sweep";

/// L1 and L2 in memory over an L3 [`ColdStore`]. Safe to share between
/// threads; see the module documentation for the consistency model.
pub struct MultiLevelCache {
    store: Arc<dyn ColdStore>,
    config: CacheConfig,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
    /// Serialises writes, so L3 and memory change in the same order.
    writes: Mutex<()>,
    /// Bumped by every change to memory that a concurrent L3 read could undo.
    epoch: AtomicU64,
}

enum Loaded {
    Live(Entry),
    Expired,
    Absent,
}

impl MultiLevelCache {
    /// A cache over `store`, sized by `config`, timed by `clock`.
    pub fn new(store: Arc<dyn ColdStore>, config: CacheConfig, clock: Arc<dyn Clock>) -> Self {
        let mb = |n: u64| usize::try_from(n << 20).unwrap_or(usize::MAX);
        let tiers = MemoryTiers::new(
            TierLimits { entries: config.l1_entries, bytes: mb(config.l1_max_mb) },
            TierLimits { entries: config.l2_entries, bytes: mb(config.l2_max_mb) },
        );
        let inner = Inner {
            tiers,
            counters: Counters::default(),
            usage: UsageCounts::new(USAGE_KEYS),
            seen: 0,
            checked_at: 0,
            started: false,
            sweep_checked: false,
            key_buffer: String::new(),
        };
        MultiLevelCache {
            store,
            config,
            clock,
            inner: Mutex::new(inner),
            writes: Mutex::new(()),
            epoch: AtomicU64::new(0),
        }
    }

    /// The cold tier under this cache.
    pub fn store(&self) -> &Arc<dyn ColdStore> {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_key(&self, key: &str) -> Result<(), CacheError> {
        if key.is_empty() {
            return Err(CacheError::EmptyKey);
        }
        if key.len() > self.config.max_key_bytes {
            return Err(CacheError::KeyTooLong { len: key.len(), max: self.config.max_key_bytes });
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<(), CacheError> {
        let max = usize::try_from(self.config.max_value_kb << 10).unwrap_or(usize::MAX);
        if value.len() > max {
            return Err(CacheError::ValueTooLarge { len: value.len(), max });
        }
        Ok(())
    }

    /// On first use: read the generation and preload the hot set. Later: at
    /// most every `freshness_ms`, compare the generation and empty memory if
    /// another process wrote.
    fn refresh(&self, inner: &mut Inner, now: u64) -> Result<(), CacheError> {
        if !inner.started {
            inner.started = true;
            inner.seen = self.store.generation()?;
            inner.checked_at = now;
            self.preload_hot(inner, now)?;
        } else if now >= inner.checked_at + self.config.freshness_ms {
            inner.checked_at = now;
            let generation = self.store.generation()?;
            if generation != inner.seen {
                inner.tiers.clear();
                inner.seen = generation;
                self.epoch.fetch_add(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    fn preload_hot(&self, inner: &mut Inner, now: u64) -> Result<usize, CacheError> {
        let Some(raw) = self.store.get(Space::Meta, HOT)? else { return Ok(0) };
        let hot: Vec<(String, u64)> = serde_json::from_slice(&raw).unwrap_or_default();
        let mut loaded = 0;
        // Least used first, so the most used end up most recent; one read
        // for them all.
        let keys: Vec<&str> = hot.iter().take(self.config.l1_entries).rev().map(|(k, _)| k.as_str()).collect();
        for (key, raw) in keys.iter().zip(self.store.get_many(Space::Data, &keys)?) {
            if let Some(entry) = live(raw.as_deref(), now) {
                inner.tiers.insert((*key).into(), entry);
                loaded += 1;
            }
        }
        Ok(loaded)
    }

    /// Read `full` from L3. Does not take the memory lock.
    fn read(&self, full: &str, now: u64) -> Result<Loaded, CacheError> {
        let Some(raw) = self.store.get(Space::Data, full)? else { return Ok(Loaded::Absent) };
        let Some((expires_at, value)) = entry::decode(&raw) else {
            tracing::warn!("ignoring an unreadable cache entry (written by another isaac version?)");
            return Ok(Loaded::Absent);
        };
        if entry::expired(expires_at, now) {
            return Ok(Loaded::Expired);
        }
        Ok(Loaded::Live(Entry { value: value.into(), expires_at }))
    }

    /// Read `full` from L3, removing it from every tier if it has expired.
    /// Must not be called with the memory lock held.
    fn load(&self, full: &str, now: u64) -> Result<Loaded, CacheError> {
        let loaded = self.read(full, now)?;
        if let Loaded::Expired = loaded {
            self.write(&[Op::Delete { space: Space::Data, key: full }], |inner, _| inner.tiers.remove(full))?;
        }
        Ok(loaded)
    }

    /// Apply `ops` to L3, then update memory with `f` (told what L3 did), in
    /// write order.
    fn write<R>(&self, ops: &[Op<'_>], f: impl FnOnce(&mut Inner, &Applied) -> R) -> Result<(Applied, R), CacheError> {
        let _serial = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let applied = self.store.apply(ops)?;
        if self.config.durability == Durability::Durable {
            self.store.sync()?;
        }
        let mut inner = self.lock();
        if inner.started && applied.generation_before != inner.seen {
            // Another process wrote since we last looked.
            inner.tiers.clear();
        }
        inner.seen = applied.generation_before.wrapping_add(1);
        let out = f(&mut inner, &applied);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        Ok((applied, out))
    }

    /// Get `key` of `ns`: L1, L2, then L3. Counted in the statistics and in
    /// the key's usage count.
    pub fn get(&self, ns: &Namespace, key: &str) -> Result<Option<Bytes>, CacheError> {
        self.lookup(ns, key, true)
    }

    /// L1, L2, then L3, keeping an L3 hit in memory; `counted`: an explicit get,
    /// counted in the statistics and the key's usage count.
    fn lookup(&self, ns: &Namespace, key: &str, counted: bool) -> Result<Option<Bytes>, CacheError> {
        self.check_key(key)?;
        let now = self.clock.now_ms();
        let (full, epoch) = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            self.refresh(inner, now)?;
            // A hit allocates nothing: the full key is built in a buffer
            // kept for it, and copied out only on the way to L3.
            let full = &mut inner.key_buffer;
            full.clear();
            full.push_str(ns.prefix());
            full.push_str(key);
            if counted {
                inner.usage.touch(full);
            }
            match inner.tiers.lookup(full, now) {
                Found::L1(value) => {
                    inner.counters.l1_hits += u64::from(counted);
                    return Ok(Some(value));
                }
                Found::L2(value) => {
                    inner.counters.l2_hits += u64::from(counted);
                    return Ok(Some(value));
                }
                Found::Expired | Found::Absent => (full.clone(), self.epoch.load(Ordering::SeqCst)),
            }
        };
        let loaded = self.load(&full, now)?;
        let mut inner = self.lock();
        match loaded {
            Loaded::Live(entry) => {
                let value = entry.value.clone();
                if self.epoch.load(Ordering::SeqCst) == epoch {
                    let moves = inner.tiers.insert(full.into(), entry);
                    inner.record(moves);
                }
                inner.counters.l3_hits += u64::from(counted);
                Ok(Some(value))
            }
            Loaded::Expired => {
                inner.counters.expirations += u64::from(counted);
                inner.counters.misses += u64::from(counted);
                Ok(None)
            }
            Loaded::Absent => {
                inner.counters.misses += u64::from(counted);
                Ok(None)
            }
        }
    }

    /// Set `key` of `ns` to `value`: one L3 commit, then L1.
    pub fn set(&self, ns: &Namespace, key: &str, value: &[u8], expiry: Expiry) -> Result<(), CacheError> {
        self.set_within(ns, key, value, expiry, None)
    }

    /// [`set`](Self::set), refused with [`CacheError::Quota`] when the key
    /// and value bytes of `ns`'s live entries would pass `quota` (checked
    /// and updated in the write's own transaction, so across processes).
    pub fn set_within(
        &self,
        ns: &Namespace,
        key: &str,
        value: &[u8],
        expiry: Expiry,
        quota: Option<u64>,
    ) -> Result<(), CacheError> {
        self.check_key(key)?;
        self.check_value(value)?;
        let now = self.clock.now_ms();
        let expires_at = self.expires_at(expiry, now);
        let full = ns.key(key);
        let encoded = entry::encode(expires_at, value);
        let entry = Entry { value: value.into(), expires_at };
        let quota = quota.map(|limit| store::Quota { limit, now_ms: now });
        let put = Op::Put { space: Space::Data, key: &full, value: &encoded, quota };
        self.write(&[put], |inner, _| {
            let moves = inner.tiers.insert(full.as_str().into(), entry);
            inner.record(moves);
            inner.counters.sets += 1;
        })
        .map_err(|e| self.in_namespace(e, ns, key))?;
        Ok(())
    }

    /// When an entry written at `now` with `expiry` expires (0: never).
    fn expires_at(&self, expiry: Expiry, now: u64) -> u64 {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match expiry {
            Expiry::Default => now.saturating_add(self.config.default_ttl_secs.saturating_mul(1000)),
            Expiry::After(d) => now.saturating_add(ms(d)),
            Expiry::Never => 0,
        }
    }

    /// A store error of a write to `key` of `ns`, told in the namespace's
    /// terms (its owner, the key as the caller wrote it).
    fn in_namespace(&self, error: CacheError, ns: &Namespace, key: &str) -> CacheError {
        match error {
            CacheError::Store(StoreError::Quota { used, more, limit, .. }) => {
                CacheError::Quota { owner: ns.owner(), used, more, limit }
            }
            CacheError::Store(StoreError::NotAnInteger { .. }) => CacheError::NotAnInteger { key: key.to_owned() },
            CacheError::Store(StoreError::Overflow { current, delta, .. }) => {
                CacheError::Overflow { key: key.to_owned(), current, delta }
            }
            other => other,
        }
    }

    /// The key and value bytes `ns`'s entries hold (with any expired ones
    /// not yet reclaimed), across processes.
    pub fn bytes_used(&self, ns: &Namespace) -> Result<u64, CacheError> {
        Ok(self.store.namespace_bytes(ns.prefix())?)
    }

    /// Delete `key` of `ns` from every tier; whether it was there.
    pub fn delete(&self, ns: &Namespace, key: &str) -> Result<bool, CacheError> {
        self.check_key(key)?;
        let full = ns.key(key);
        let (applied, in_memory) =
            self.write(&[Op::Delete { space: Space::Data, key: &full }], |inner, _| inner.tiers.remove(&full))?;
        Ok(applied.deleted > 0 || in_memory)
    }

    /// Remove every key of `ns` that matches the glob `pattern` (`*`, `?`,
    /// `\` escapes) from every tier; how many keys were removed. In L3 only
    /// the range of keys that start with the pattern's literal prefix is
    /// scanned.
    pub fn invalidate(&self, ns: &Namespace, pattern: &str) -> Result<u32, CacheError> {
        if pattern.len() > self.config.max_key_bytes {
            return Err(CacheError::KeyTooLong { len: pattern.len(), max: self.config.max_key_bytes });
        }
        let ns_len = ns.prefix().len();
        let range = ns.key(&glob::literal_prefix(pattern));
        let in_ns = |full: &str| full.starts_with(ns.prefix()) && glob::matches(pattern, &full[ns_len..]);
        let matching = Matching::Glob { namespace: ns.prefix(), pattern };
        let op = Op::DeleteWhere { space: Space::Data, prefix: &range, matching };
        let (applied, in_memory) = self.write(&[op], |inner, _| inner.tiers.remove_where(&in_ns))?;
        let removed = applied.deleted.max(u32::try_from(in_memory).unwrap_or(u32::MAX));
        self.lock().counters.invalidations += u64::from(removed);
        Ok(removed)
    }

    /// Remove every key of `ns`.
    pub fn clear(&self, ns: &Namespace) -> Result<u32, CacheError> {
        self.invalidate(ns, "*")
    }

    /// Remove every key of `ns` and every trace of its use (usage counts,
    /// hot-set entries): for a plugin that is removed with `--purge`.
    pub fn purge(&self, ns: &Namespace) -> Result<u32, CacheError> {
        let removed = self.clear(ns)?;
        self.forget_usage(ns)?;
        Ok(removed)
    }

    /// Remove every expired entry from L3 and memory; how many there were.
    pub fn sweep(&self) -> Result<u32, CacheError> {
        let now = self.clock.now_ms();
        let now_bytes = now.to_le_bytes();
        let ops = [
            Op::DeleteWhere { space: Space::Data, prefix: "", matching: Matching::Expired { now_ms: now } },
            Op::Put { space: Space::Meta, key: LAST_SWEEP, value: &now_bytes, quota: None },
        ];
        let (applied, ()) = self.write(&ops, |_, _| ())?;
        self.lock().counters.expirations += u64::from(applied.deleted);
        Ok(applied.deleted)
    }

    fn sweep_due(&self, now: u64) -> Result<bool, CacheError> {
        let last =
            self.store.get(Space::Meta, LAST_SWEEP)?.and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
        Ok(now >= last.saturating_add(self.config.sweep_interval_secs.saturating_mul(1000)))
    }

    /// The most used keys of `ns` (by usage count, flushed and not), most
    /// used first.
    pub fn top_keys(&self, ns: &Namespace, n: usize) -> Result<Vec<(String, u64)>, CacheError> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        let prefix = format!("{USAGE_PREFIX}{}", ns.prefix());
        self.store.scan(Space::Counters, &prefix, &mut |key, raw| {
            let count = raw.try_into().map_or(0, u64::from_le_bytes);
            counts.insert(key[prefix.len()..].to_owned(), count);
            true
        })?;
        for (full, n) in self.lock().usage.iter() {
            if let Some(key) = full.strip_prefix(ns.prefix()) {
                *counts.entry(key.to_owned()).or_default() += n;
            }
        }
        let mut top: Vec<(String, u64)> = counts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(n);
        Ok(top)
    }

    /// Warm the cache for the `top_n` most used keys of `ns`: a key already
    /// in memory stays; one in L3 is loaded into memory; for any other,
    /// `generator` may produce a value, which is set.
    pub fn warmup(
        &self,
        ns: &Namespace,
        top_n: usize,
        mut generator: impl FnMut(&str) -> Option<(Vec<u8>, Expiry)>,
    ) -> Result<WarmReport, CacheError> {
        let now = self.clock.now_ms();
        let mut report = WarmReport::default();
        {
            let mut inner = self.lock();
            self.refresh(&mut inner, now)?;
        }
        let top = self.top_keys(ns, top_n)?;
        report.considered = top.len();
        // Least used first, so the most used end up most recent in L1.
        let mut wanted: Vec<(&str, String)> = Vec::new();
        for (key, _) in top.iter().rev() {
            let full = ns.key(key);
            if self.lock().tiers.contains(&full) {
                report.in_memory += 1;
            } else {
                wanted.push((key, full));
            }
        }
        // One read for them all: one round trip on a networked store.
        let fulls: Vec<&str> = wanted.iter().map(|(_, full)| full.as_str()).collect();
        let found = self.store.get_many(Space::Data, &fulls)?;
        for ((key, full), raw) in wanted.iter().zip(found) {
            match live(raw.as_deref(), now) {
                Some(entry) => {
                    let mut inner = self.lock();
                    let moves = inner.tiers.insert(full.as_str().into(), entry);
                    inner.record(moves);
                    report.loaded += 1;
                }
                None => match generator(key) {
                    Some((value, expiry)) => {
                        self.set(ns, key, &value, expiry)?;
                        report.generated += 1;
                    }
                    None => report.missing += 1,
                },
            }
        }
        Ok(report)
    }

    /// Look `key` up like [`get`](Self::get), but count nothing: for host
    /// services (the AI response cache) that keep their own statistics.
    pub fn peek(&self, ns: &Namespace, key: &str) -> Result<Option<Bytes>, CacheError> {
        self.lookup(ns, key, false)
    }

    /// Add to persistent counters of other host services (in L3's meta
    /// space, one commit, shared by every process).
    pub fn add_counters(&self, deltas: &[(String, u64)]) -> Result<(), CacheError> {
        let ops: Vec<Op<'_>> = deltas.iter().map(|(key, delta)| Op::Add { key, delta: *delta }).collect();
        self.store.apply(&ops)?;
        Ok(())
    }

    /// Add signed deltas to persistent counters (one commit; a counter stops
    /// at 0); zero deltas are skipped.
    pub fn adjust_counters(&self, deltas: &[(String, i64)]) -> Result<(), CacheError> {
        let ops: Vec<Op<'_>> = deltas
            .iter()
            .filter(|(_, delta)| *delta != 0)
            .map(|(key, delta)| match u64::try_from(*delta) {
                Ok(delta) => Op::Add { key, delta },
                Err(_) => Op::Sub { key, delta: delta.unsigned_abs() },
            })
            .collect();
        self.store.apply(&ops)?;
        Ok(())
    }

    /// Add `delta` to the persistent counter `key` only if it stays at or
    /// under `cap` (atomically, across processes): a reservation. Fails with
    /// [`StoreError::OverCap`] otherwise.
    pub fn reserve_counter(&self, key: &str, delta: u64, cap: u64) -> Result<(), CacheError> {
        self.store.apply(&[Op::AddCapped { key, delta, cap }])?;
        Ok(())
    }

    /// The persistent counters whose names start with `prefix`.
    pub fn counters(&self, prefix: &str) -> Result<Vec<(String, u64)>, CacheError> {
        let mut out = Vec::new();
        self.store.scan(Space::Counters, prefix, &mut |key, raw| {
            out.push((key.to_owned(), raw.try_into().map_or(0, u64::from_le_bytes)));
            true
        })?;
        Ok(out)
    }

    /// Remove the persistent counters whose names start with `prefix`.
    pub fn clear_counters(&self, prefix: &str) -> Result<(), CacheError> {
        self.store.apply(&[Op::DeleteWhere { space: Space::Counters, prefix, matching: Matching::All }])?;
        Ok(())
    }

    /// Totals over every process since the last reset (flushed counters plus
    /// this process's), with tier sizes.
    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let mut persisted = [0u64; 9];
        self.store.scan(Space::Counters, STATS_PREFIX, &mut |key, raw| {
            if let Some(i) = stats::NAMES.iter().position(|n| key[STATS_PREFIX.len()..] == **n) {
                persisted[i] = raw.try_into().map_or(0, u64::from_le_bytes);
            }
            true
        })?;
        let footprint = self.store.footprint()?;
        let inner = self.lock();
        let counters = Counters::from_values(persisted).plus(&inner.counters);
        let (l1, l2) = inner.tiers.bytes();
        Ok(CacheStats::new(counters, inner.tiers.lens(), l1 + l2, footprint, self.store.describe()))
    }

    /// This process's counters not yet added to the totals.
    pub fn pending_counters(&self) -> Counters {
        self.lock().counters
    }

    /// Zero the statistics of every process, with the usage counts that
    /// warming ranks keys by (the hot set stays until the next flush).
    pub fn reset_stats(&self) -> Result<(), CacheError> {
        self.store.apply(&[
            Op::DeleteWhere { space: Space::Counters, prefix: STATS_PREFIX, matching: Matching::All },
            Op::DeleteWhere { space: Space::Counters, prefix: USAGE_PREFIX, matching: Matching::All },
        ])?;
        let mut inner = self.lock();
        inner.counters = Counters::default();
        inner.usage.take();
        Ok(())
    }

    /// Forget the usage counts of `ns` (and its keys in the hot set): for a
    /// namespace that is purged.
    pub fn forget_usage(&self, ns: &Namespace) -> Result<(), CacheError> {
        let prefix = format!("{USAGE_PREFIX}{}", ns.prefix());
        let hot: Vec<(String, u64)> = match self.store.get(Space::Meta, HOT)? {
            Some(raw) => serde_json::from_slice(&raw).unwrap_or_default(),
            None => Vec::new(),
        };
        let kept: Vec<&(String, u64)> = hot.iter().filter(|(k, _)| !k.starts_with(ns.prefix())).collect();
        let json = serde_json::to_vec(&kept).expect("the hot set serializes");
        self.store.apply(&[
            Op::DeleteWhere { space: Space::Counters, prefix: &prefix, matching: Matching::All },
            Op::Put { space: Space::Meta, key: HOT, value: &json, quota: None },
        ])?;
        self.lock().usage.retain(|key| !key.starts_with(ns.prefix()));
        Ok(())
    }

    /// Add this process's counters and usage counts to the totals in L3 (one
    /// commit, no fsync), update the hot set, and (at the first flush of a
    /// process that used the cache) sweep expired entries if a sweep is due.
    /// Called when the host finishes and when the cache is dropped; with
    /// nothing new since the last, it reads and writes nothing.
    pub fn flush(&self) -> Result<(), CacheError> {
        let (counters, usage, check_sweep) = {
            let mut inner = self.lock();
            let started = inner.started;
            let check_sweep = started && !std::mem::replace(&mut inner.sweep_checked, started);
            (std::mem::take(&mut inner.counters), inner.usage.take(), check_sweep)
        };
        if counters != Counters::default() || !usage.is_empty() {
            let stat_keys: Vec<(String, u64)> = stats::NAMES
                .iter()
                .zip(counters.values())
                .filter(|(_, v)| *v > 0)
                .map(|(name, v)| (format!("{STATS_PREFIX}{name}"), v))
                .collect();
            let usage_keys: Vec<(String, u64)> =
                usage.iter().map(|(k, n)| (format!("{USAGE_PREFIX}{k}"), *n)).collect();
            let ops: Vec<Op<'_>> =
                stat_keys.iter().chain(&usage_keys).map(|(key, delta)| Op::Add { key, delta: *delta }).collect();
            if let Err(e) = self.store.apply(&ops) {
                let mut inner = self.lock();
                inner.counters = inner.counters.plus(&counters);
                for (k, n) in usage {
                    inner.usage.add(&k, n);
                }
                return Err(e.into());
            }
            self.update_hot(usage.iter().map(|(k, _)| k))?;
        }
        if check_sweep && self.sweep_due(self.clock.now_ms())? {
            self.sweep()?;
        }
        Ok(())
    }

    /// Merge the current counts of `touched` keys into the hot set.
    fn update_hot<'a>(&self, touched: impl Iterator<Item = &'a String>) -> Result<(), CacheError> {
        let mut hot: HashMap<String, u64> = match self.store.get(Space::Meta, HOT)? {
            Some(raw) => serde_json::from_slice::<Vec<(String, u64)>>(&raw).unwrap_or_default().into_iter().collect(),
            None => HashMap::new(),
        };
        for key in touched {
            let count = self.store.get(Space::Counters, &format!("{USAGE_PREFIX}{key}"))?;
            hot.insert(key.clone(), count.and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes));
        }
        let mut list: Vec<(String, u64)> = hot.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(self.config.l1_entries);
        let json = serde_json::to_vec(&list).expect("the hot set serializes");
        self.store.apply(&[Op::Put { space: Space::Meta, key: HOT, value: &json, quota: None }])?;
        Ok(())
    }
}

/// The entry encoded in `raw`, if there is one and it is live at `now`.
fn live(raw: Option<&[u8]>, now: u64) -> Option<Entry> {
    let (expires_at, value) = entry::decode(raw?)?;
    (!entry::expired(expires_at, now)).then(|| Entry { value: value.into(), expires_at })
}

impl Drop for MultiLevelCache {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!("cache statistics were not saved: {}", crate::error::OneLine(&e));
        }
    }
}

#[cfg(test)]
mod tests;
