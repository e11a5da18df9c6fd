//! Atomic read-modify-write on the cache: `increment` and
//! `compare_and_swap`. Each is one [`Op`] that L3 decides in its write
//! transaction, on the value that transaction reads, so concurrent writers
//! in this process, another process or another host lose no update. The
//! memory tiers never decide: they learn the outcome afterwards, in write
//! order, like any other write.

use super::entry::Entry;
use super::store::{Op, Outcome, Quota};
use super::{CacheError, Expiry, Inner, MultiLevelCache, Namespace};

impl MultiLevelCache {
    /// Add `delta` to the decimal integer at `key` of `ns` and return the
    /// sum, atomically across threads and processes. A missing or expired
    /// key counts from 0 and gets the default TTL; an existing key keeps its
    /// expiry. A value that is not canonical decimal text (as Redis's
    /// `INCRBY` reads it) is [`CacheError::NotAnInteger`]; a sum outside
    /// `i64` is [`CacheError::Overflow`]; neither changes anything. Counts
    /// toward `quota` like a set.
    pub fn increment(&self, ns: &Namespace, key: &str, delta: i64, quota: Option<u64>) -> Result<i64, CacheError> {
        self.check_key(key)?;
        let now = self.clock.now_ms();
        let full = ns.key(key);
        let op = Op::Increment {
            key: &full,
            delta,
            expires_at: self.expires_at(Expiry::Default, now),
            now_ms: now,
            quota: quota.map(|limit| Quota { limit, now_ms: now }),
        };
        let (_, sum) = self
            .write(&[op], |inner, applied| match applied.outcome {
                Some(Outcome::Counted { value, expires_at }) => {
                    remember(inner, &full, value.to_string().as_bytes(), expires_at);
                    Ok(value)
                }
                other => Err(unexpected("an increment", other)),
            })
            .map_err(|e| e.in_namespace(ns, key))?;
        sum
    }

    /// Set `key` of `ns` to `new` (expiring per `expiry`) only if its live
    /// value equals `expected` (`None`: absent or expired), atomically
    /// across threads and processes; whether it was set. A lost swap changes
    /// nothing (read again and retry: see the SDK's `cache::update`).
    /// Counts toward `quota` like a set.
    pub fn compare_and_swap(
        &self,
        ns: &Namespace,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        expiry: Expiry,
        quota: Option<u64>,
    ) -> Result<bool, CacheError> {
        self.check_key(key)?;
        self.check_value(new)?;
        let now = self.clock.now_ms();
        let full = ns.key(key);
        let expires_at = self.expires_at(expiry, now);
        let op = Op::CompareAndSwap {
            key: &full,
            expected,
            value: new,
            expires_at,
            now_ms: now,
            quota: quota.map(|limit| Quota { limit, now_ms: now }),
        };
        let (_, swapped) = self
            .write(&[op], |inner, applied| match applied.outcome {
                Some(Outcome::Swapped(true)) => {
                    remember(inner, &full, new, expires_at);
                    Ok(true)
                }
                // Memory may hold what lost the swap: read L3 next time.
                Some(Outcome::Swapped(false)) => {
                    inner.tiers.remove(&full);
                    Ok(false)
                }
                other => Err(unexpected("a compare-and-swap", other)),
            })
            .map_err(|e| e.in_namespace(ns, key))?;
        swapped
    }
}

/// Put what L3 now holds at `full` in memory, counted as a set.
fn remember(inner: &mut Inner, full: &str, value: &[u8], expires_at: u64) {
    let moves = inner.tiers.insert(full.into(), Entry { value: value.into(), expires_at });
    inner.record(moves);
    inner.counters.sets += 1;
}

/// A store that answered an atomic op with something else broke its contract.
fn unexpected(op: &'static str, outcome: Option<Outcome>) -> CacheError {
    CacheError::Store(super::StoreError::Unexpected { op, answer: format!("{outcome:?}") })
}
