//! Writes through the tiers: each is one L3 batch, then the same change in
//! memory, serialised so that L3 and memory change in the same order; and
//! the limits a key and a value are checked against first.

use std::sync::atomic::Ordering;

use super::entry::{self, Entry, Expiry};
use super::store::{self, Applied, Matching, Op, Space};
use super::{CacheError, Inner, MultiLevelCache, Namespace, glob};
use crate::config::Durability;

impl MultiLevelCache {
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
        .map_err(|e| e.in_namespace(ns, key))?;
        Ok(())
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

    /// The key and value bytes `ns`'s entries hold (with any expired ones
    /// not yet reclaimed), across processes.
    pub fn bytes_used(&self, ns: &Namespace) -> Result<u64, CacheError> {
        Ok(self.store.namespace_bytes(ns.prefix())?)
    }

    /// Apply `ops` to L3, then update memory with `f` (told what L3 did), in
    /// write order.
    pub(super) fn write<R>(
        &self,
        ops: &[Op<'_>],
        f: impl FnOnce(&mut Inner, &Applied) -> R,
    ) -> Result<(Applied, R), CacheError> {
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

    /// When an entry written at `now` with `expiry` expires (0: never).
    pub(super) fn expires_at(&self, expiry: Expiry, now: u64) -> u64 {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match expiry {
            Expiry::Default => now.saturating_add(self.config.default_ttl_secs.saturating_mul(1000)),
            Expiry::After(d) => now.saturating_add(ms(d)),
            Expiry::Never => 0,
        }
    }

    /// A key must be non-empty and within `max_key_bytes`.
    pub(super) fn check_key(&self, key: &str) -> Result<(), CacheError> {
        if key.is_empty() {
            return Err(CacheError::EmptyKey);
        }
        if key.len() > self.config.max_key_bytes {
            return Err(CacheError::KeyTooLong { len: key.len(), max: self.config.max_key_bytes });
        }
        Ok(())
    }

    /// A value must be within `max_value_kb`.
    pub(super) fn check_value(&self, value: &[u8]) -> Result<(), CacheError> {
        let max = usize::try_from(self.config.max_value_kb << 10).unwrap_or(usize::MAX);
        if value.len() > max {
            return Err(CacheError::ValueTooLarge { len: value.len(), max });
        }
        Ok(())
    }
}
