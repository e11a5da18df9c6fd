//! A get, through the tiers: L1, L2, then L3, keeping an L3 hit in memory;
//! and, before it, the freshness check that empties memory when another
//! process wrote to L3.

use std::sync::atomic::Ordering;

use super::entry::{self, Bytes, Entry};
use super::store::{Op, Space};
use super::tiers::Found;
use super::{CacheError, Inner, MultiLevelCache, Namespace};

/// What L3 holds at a key.
enum Loaded {
    Live(Entry),
    Expired,
    Absent,
}

impl MultiLevelCache {
    /// Get `key` of `ns`: L1, L2, then L3. Counted in the statistics and in
    /// the key's usage count.
    pub fn get(&self, ns: &Namespace, key: &str) -> Result<Option<Bytes>, CacheError> {
        self.lookup(ns, key, true)
    }

    /// Look `key` up like [`get`](Self::get), but count nothing: for host
    /// services (the AI response cache) that keep their own statistics.
    pub fn peek(&self, ns: &Namespace, key: &str) -> Result<Option<Bytes>, CacheError> {
        self.lookup(ns, key, false)
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

    /// On first use: read the generation and preload the hot set. Later: at
    /// most every `freshness_ms`, compare the generation and empty memory if
    /// another process wrote.
    pub(super) fn refresh(&self, inner: &mut Inner, now: u64) -> Result<(), CacheError> {
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
}

/// The entry encoded in `raw`, if there is one and it is live at `now`.
pub(super) fn live(raw: Option<&[u8]>, now: u64) -> Option<Entry> {
    let (expires_at, value) = entry::decode(raw?)?;
    (!entry::expired(expires_at, now)).then(|| Entry { value: value.into(), expires_at })
}
