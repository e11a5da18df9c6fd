//! The cold tier's storage: a small trait (get, scan a key range, apply a
//! batch of writes) so that L3 can live in the embedded LMDB
//! ([`LmdbStore`](super::lmdb::LmdbStore)) or in a shared Redis or Valkey
//! ([`RedisStore`](super::redis::RedisStore)) without touching the tiers
//! above it. Every operation is described by data, never by a closure, so a
//! networked store can carry it out on the server.
//!
//! ## Contract
//!
//! - Three key spaces: [`Space::Data`] holds cache entries under namespaced
//!   keys (values as [`entry::encode`](super::entry::encode) writes them);
//!   [`Space::Meta`] holds the host's small records (the hot set);
//!   [`Space::Counters`] holds `u64` counters (statistics, usage counts, AI
//!   spending), read back as 8 little-endian bytes whatever the store keeps.
//! - [`ColdStore::apply`] is atomic: all of a batch or none of it, except
//!   that a networked store may carry out an [`Op::DeleteWhere`] in several
//!   steps.
//! - Every batch that touches `Space::Data` adds one to a **generation**
//!   counter; [`Applied`] says what it was before. A process compares
//!   generations to learn that its in-memory tiers may be stale: LMDB keeps
//!   the counter in the same transaction as the data; Redis keeps it in
//!   each process, bumped by its own writes and by the server's invalidation
//!   pushes for other clients' writes. Other batches leave it alone.
//! - `get` and `scan` see every batch committed before they start.
//! - **Bytes per namespace.** The store keeps, for each namespace of the
//!   data space ([`namespace_of`]), the key and value bytes of its entries
//!   and the earliest expiry among them, updated in the transaction of every
//!   write that changes them (put, delete, delete-where), so they hold across
//!   processes. A [`Op::Put`] with a [`Quota`] first reclaims the
//!   namespace's expired entries if the earliest expiry has passed, then
//!   refuses (with [`StoreError::Quota`], nothing applied) a put that would
//!   take the namespace past its limit. An expired entry thus stops counting
//!   at the latest at its namespace's next quota-checked put.
//! - **Atomic read-modify-write.** [`Op::Increment`] and
//!   [`Op::CompareAndSwap`] decide on the value the write transaction reads,
//!   so concurrent writers in any process lose no update; expired entries
//!   count as absent; [`Applied::outcome`] says what was decided.
//! - **Headroom.** A data put is refused with [`StoreError::Full`] once the
//!   store is within its headroom of full, so the host's own writes (grants,
//!   the plugin index, AI spending) always find room.

use std::fmt;

pub use super::layout::namespace_of;
use crate::error::Source;

/// Which key space an operation addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// Cache entries.
    Data,
    /// The host's small records (the hot set, the last sweep).
    Meta,
    /// `u64` counters: statistics, usage counts, AI spending.
    Counters,
}

/// Which keys an [`Op::DeleteWhere`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching<'a> {
    /// Every key in the range.
    All,
    /// Data keys of `namespace` whose rest matches the glob `pattern` (see
    /// [`glob`](super::glob)).
    Glob {
        /// The namespace (its prefix).
        namespace: &'a str,
        /// The glob, over the key without the namespace.
        pattern: &'a str,
    },
    /// Data entries that have expired at `now_ms`.
    Expired {
        /// Now, in ms since the Unix epoch.
        now_ms: u64,
    },
}

impl Matching<'_> {
    /// Whether the entry `key` holding `raw` is one to remove.
    pub fn matches(&self, key: &str, raw: &[u8]) -> bool {
        match *self {
            Matching::All => true,
            Matching::Glob { namespace, pattern } => {
                key.strip_prefix(namespace).is_some_and(|rest| super::glob::matches(pattern, rest))
            }
            Matching::Expired { now_ms } => {
                super::entry::decode(raw).is_some_and(|(at, _)| super::entry::expired(at, now_ms))
            }
        }
    }
}

/// A namespace's limit on the bytes of its live entries, for one put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The most bytes (keys and values) its live entries may hold.
    pub limit: u64,
    /// Now, in ms since the Unix epoch (to reclaim expired entries).
    pub now_ms: u64,
}

/// One write in a batch.
pub enum Op<'a> {
    /// Store `value` under `key`.
    Put {
        /// Where.
        space: Space,
        /// The key.
        key: &'a str,
        /// The value.
        value: &'a [u8],
        /// For a data put: the namespace's quota, if it has one.
        quota: Option<Quota>,
    },
    /// Remove `key`.
    Delete {
        /// Where.
        space: Space,
        /// The key.
        key: &'a str,
    },
    /// Add `delta` to the counter at `key` (missing: 0).
    Add {
        /// The counter.
        key: &'a str,
        /// How much.
        delta: u64,
    },
    /// Subtract `delta` from the counter at `key`, stopping at 0.
    Sub {
        /// The counter.
        key: &'a str,
        /// How much.
        delta: u64,
    },
    /// Add `delta` to the counter at `key` only if the sum stays at or
    /// under `cap`; otherwise the whole batch fails with
    /// [`StoreError::OverCap`]. A reservation: check and add are atomic.
    AddCapped {
        /// The counter.
        key: &'a str,
        /// How much.
        delta: u64,
        /// The most the counter may hold.
        cap: u64,
    },
    /// Add `delta` to the decimal integer in the data entry `key` (see
    /// [`integer`](super::entry::integer)), deciding on the value the transaction reads: a
    /// missing or expired entry counts from 0 and gets `expires_at`; a live
    /// one keeps its expiry. The sum is [`Outcome::Counted`]. A value that is
    /// no integer fails with [`StoreError::NotAnInteger`], a sum past `i64`
    /// with [`StoreError::Overflow`]; the quota is checked as for a put.
    Increment {
        /// The data key.
        key: &'a str,
        /// How much (may be negative).
        delta: i64,
        /// The expiry of a new entry (ms since the epoch; 0: never).
        expires_at: u64,
        /// Now, in ms since the Unix epoch (what has expired).
        now_ms: u64,
        /// The namespace's quota, if it has one.
        quota: Option<Quota>,
    },
    /// Store `value` (expiring at `expires_at`) in the data entry `key` only
    /// if its live value equals `expected` (`None`: absent or expired),
    /// decided on the value the transaction reads. Whether it was stored is
    /// [`Outcome::Swapped`]; if not, nothing changes.
    CompareAndSwap {
        /// The data key.
        key: &'a str,
        /// The value it must hold.
        expected: Option<&'a [u8]>,
        /// The new value (not encoded).
        value: &'a [u8],
        /// When the new value expires (ms since the epoch; 0: never).
        expires_at: u64,
        /// Now, in ms since the Unix epoch (what has expired).
        now_ms: u64,
        /// The namespace's quota, if it has one.
        quota: Option<Quota>,
    },
    /// Remove every key that starts with `prefix` and is `matching`.
    DeleteWhere {
        /// Where.
        space: Space,
        /// Only keys in this range are visited.
        prefix: &'a str,
        /// Which of them go.
        matching: Matching<'a>,
    },
}

impl fmt::Debug for Op<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Put { space, key, value, .. } => write!(f, "Put({space:?}, {key:?}, {} bytes)", value.len()),
            Op::Delete { space, key } => write!(f, "Delete({space:?}, {key:?})"),
            Op::Add { key, delta } => write!(f, "Add({key:?}, {delta})"),
            Op::Sub { key, delta } => write!(f, "Sub({key:?}, {delta})"),
            Op::AddCapped { key, delta, cap } => write!(f, "AddCapped({key:?}, {delta}, {cap})"),
            Op::Increment { key, delta, .. } => write!(f, "Increment({key:?}, {delta})"),
            Op::CompareAndSwap { key, expected, value, .. } => {
                let expected = expected.map(<[u8]>::len);
                write!(f, "CompareAndSwap({key:?}, expected {expected:?} bytes, {} bytes)", value.len())
            }
            Op::DeleteWhere { space, prefix, matching } => {
                write!(f, "DeleteWhere({space:?}, {prefix:?}, {matching:?})")
            }
        }
    }
}

impl Op<'_> {
    fn space(&self) -> Space {
        match self {
            Op::Put { space, .. } | Op::Delete { space, .. } | Op::DeleteWhere { space, .. } => *space,
            Op::Add { .. } | Op::Sub { .. } | Op::AddCapped { .. } => Space::Counters,
            Op::Increment { .. } | Op::CompareAndSwap { .. } => Space::Data,
        }
    }

    /// Whether a batch with this op changes cache data.
    pub fn touches_data(&self) -> bool {
        self.space() == Space::Data
    }
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// The generation before the batch (equal to the one after when the
    /// batch touched no data).
    pub generation_before: u64,
    /// Keys removed by `Delete` and `DeleteWhere`.
    pub deleted: u32,
    /// What the batch's last `Increment` or `CompareAndSwap` decided.
    pub outcome: Option<Outcome>,
}

/// What an atomic read-modify-write decided, in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An `Increment`: the value after it, and when it expires.
    Counted {
        /// The sum.
        value: i64,
        /// When the entry expires (ms since the epoch; 0: never).
        expires_at: u64,
    },
    /// A `CompareAndSwap`: whether the value was stored.
    Swapped(bool),
}

/// How much the data space holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Entries.
    pub entries: u64,
    /// Bytes of pages on disk.
    pub bytes: u64,
}

/// A storage failure, with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store is full.
    #[error(
        "the cache store in {path} is full ({message}): raise [storage] map_size_mb in config.toml, or clear some of it with `isaac cache clear` or `isaac cache invalidate`"
    )]
    Full {
        /// Where.
        path: String,
        /// What the store said.
        message: String,
    },
    /// A put would take its namespace past its quota; nothing was applied.
    #[error("the namespace holds {used} bytes; {more} more would pass its quota of {limit} bytes")]
    Quota {
        /// The namespace (see [`namespace_of`]).
        namespace: String,
        /// Bytes its live entries hold.
        used: u64,
        /// Bytes the put would add.
        more: u64,
        /// Its quota.
        limit: u64,
    },
    /// An [`Op::AddCapped`] would have passed its cap; nothing was applied.
    #[error("the counter {key} holds {current}; adding {delta} would pass its cap of {cap}")]
    OverCap {
        /// The counter.
        key: String,
        /// What it holds.
        current: u64,
        /// What was to be added.
        delta: u64,
        /// Its cap.
        cap: u64,
    },
    /// An [`Op::Increment`] found a value that is no decimal integer;
    /// nothing was applied.
    #[error("the value at {key} is not a decimal integer")]
    NotAnInteger {
        /// The data key.
        key: String,
    },
    /// An [`Op::Increment`] would leave the range of `i64`; nothing was
    /// applied.
    #[error("the value at {key} is {current}; adding {delta} would leave the range of a 64-bit integer")]
    Overflow {
        /// The data key.
        key: String,
        /// What it holds.
        current: i64,
        /// What was to be added.
        delta: i64,
    },
    /// The store answered an operation with what it never answers (a bug).
    #[error("the cold store answered {op} with {answer}")]
    Unexpected {
        /// The operation.
        op: &'static str,
        /// Its answer.
        answer: String,
    },
    /// Anything else.
    #[error("the cache store in {path} failed")]
    Failed {
        /// Where.
        path: String,
        /// What the store said.
        #[source]
        source: Source,
    },
}

/// The cold tier's storage. See the module documentation for the contract.
pub trait ColdStore: Send + Sync {
    /// The value at `key`.
    fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values at `keys`, in order: what [`get`](Self::get) gives for
    /// each, in one round trip where the store is across a network.
    fn get_many(&self, space: Space, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|key| self.get(space, key)).collect()
    }
    /// Visit the keys that start with `prefix`, in order, until `visit`
    /// returns false.
    fn scan(&self, space: Space, prefix: &str, visit: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError>;
    /// Apply `ops` atomically.
    fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError>;
    /// The current generation.
    fn generation(&self) -> Result<u64, StoreError>;
    /// The size of the data space.
    fn footprint(&self) -> Result<Footprint, StoreError>;
    /// The key and value bytes the entries of namespace `ns` hold
    /// (expired entries not yet reclaimed included).
    fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError>;
    /// Make every applied batch durable (fsync).
    fn sync(&self) -> Result<(), StoreError>;
    /// Which store this is, for `isaac cache stats` and `isaac bench`:
    /// `lmdb (PATH)`, `redis (URL)`.
    fn describe(&self) -> String;
}
