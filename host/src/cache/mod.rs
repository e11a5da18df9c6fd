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
//!
//! ## Files
//!
//! [`MultiLevelCache`] is here; its operations are one file per concern:
//! `read.rs` (a get through the tiers, freshness), `write.rs` (writes, key
//! and value limits), `atomic.rs` (increment, compare-and-swap),
//! `sweep.rs`, `warming.rs` (usage, the hot set, warmup), `stats.rs`
//! (statistics and the flush), `counters.rs` (other services' counters).
//! `layout.rs` is the key layout, `error.rs` the errors, `tiers.rs` the
//! memory tiers' policy (`lists.rs` their storage, `admission.rs` and
//! `bias.rs` what adapts it), `store.rs` the cold tier's trait.

mod admission;
mod atomic;
mod bias;
pub mod clock;
mod counters;
pub mod entry;
mod error;
pub mod glob;
mod layout;
mod lists;
pub mod lmdb;
mod read;
pub mod redis;
pub mod stats;
pub mod store;
mod sweep;
pub mod tiers;
pub(crate) mod traces;
pub mod usage;
mod warming;
mod write;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

pub use entry::{Bytes, Expiry};
pub use error::CacheError;
pub use layout::Namespace;
pub use stats::{CacheStats, Counters};
pub use store::StoreError;
pub use warming::{USAGE_KEYS, WarmReport};

use crate::config::CacheConfig;
use clock::Clock;
use store::ColdStore;
use tiers::{MemoryTiers, Moves, TierLimits};
use usage::UsageCounts;

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

/// What the memory lock guards.
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

    /// The cold tier under this cache (for benchmarks: a second cache over
    /// the same store, like another process).
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &Arc<dyn ColdStore> {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
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
