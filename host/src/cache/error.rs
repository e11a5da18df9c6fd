//! What a cache operation that did not happen says, in the caller's terms.

use super::layout::Namespace;
use super::store::StoreError;

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

impl CacheError {
    /// A store error of a write to `key` of `ns`, told in the namespace's
    /// terms (its owner, the key as the caller wrote it).
    pub(super) fn in_namespace(self, ns: &Namespace, key: &str) -> CacheError {
        match self {
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
}
