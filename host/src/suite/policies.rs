//! The memory tiers' policy beside moka (TinyLFU) and a plain LRU, each
//! holding the same number of entries, on one trace: the hit rate of a
//! cache-aside loop (ask; on a miss, insert). Only the policies differ: no
//! LMDB, no expiry, no byte budgets.

use std::fmt::Write;
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;

use crate::cache::entry::Entry;
use crate::cache::tiers::{Found, MemoryTiers, TierLimits};
use crate::config::CacheConfig;

/// Hit rates (0..1) of the three policies on one trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyRates {
    /// isaac's L1 + L2 (LRU window, TinyLFU admission, segmented LRU main;
    /// the sketch's period and protected's share adapt together), split as
    /// the default config splits them (1 : 10).
    pub isaac: f64,
    /// `moka::sync::Cache` (TinyLFU admission, LRU eviction).
    pub moka: f64,
    /// One LRU list.
    pub lru: f64,
}

/// Replay `trace` through each policy holding `capacity` entries.
pub fn compare(trace: &[u64], capacity: usize) -> PolicyRates {
    let defaults = CacheConfig::default();
    let l1 = (capacity * defaults.l1_entries / (defaults.l1_entries + defaults.l2_entries)).max(1);
    let unbounded = usize::MAX;
    let mut tiers = MemoryTiers::new(
        TierLimits { entries: l1, bytes: unbounded },
        TierLimits { entries: capacity.saturating_sub(l1).max(1), bytes: unbounded },
    );
    let moka: moka::sync::Cache<u64, ()> = moka::sync::Cache::new(capacity as u64);
    let mut lru = LruCache::new(NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN));
    let empty: Arc<[u8]> = Arc::from(&[][..]);
    let (mut ours, mut theirs, mut plain) = (0u64, 0u64, 0u64);
    let mut key = String::new();
    for &k in trace {
        key.clear();
        let _ = write!(key, "{k}");
        match tiers.lookup(&key, 0) {
            Found::L1(_) | Found::L2(_) => ours += 1,
            Found::Expired | Found::Absent => {
                tiers.insert(key.as_str().into(), Entry { value: empty.clone(), expires_at: 0 });
            }
        }
        if moka.get(&k).is_some() {
            theirs += 1;
        } else {
            moka.insert(k, ());
        }
        if lru.get(&k).is_some() {
            plain += 1;
        } else {
            lru.put(k, ());
        }
    }
    let rate = |hits: u64| hits as f64 / trace.len().max(1) as f64;
    PolicyRates { isaac: rate(ours), moka: rate(theirs), lru: rate(plain) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::traces::Trace;

    #[test]
    fn admission_keeps_hot_keys_through_a_scan_where_lru_loses_them() {
        // 200 hot keys asked for in turn, then 5000 new keys once each, then
        // the hot keys again: LRU has flushed them (200 more misses), the
        // tiers kept them (each missed only the first time).
        let hot: Vec<u64> = (0..200).cycle().take(4000).collect();
        let scan: Vec<u64> = (1000..6000).collect();
        let trace: Vec<u64> = [&hot[..], &scan[..], &hot[..]].concat();
        let r = compare(&trace, 400);
        let n = trace.len() as f64;
        // (The sketch's hashes are seeded per process: a rare collision
        // costs a hit or two, not the hot set.)
        assert!((r.isaac * n).round() >= 7795.0, "{r:?}");
        assert_eq!((r.lru * n).round(), 7600.0, "{r:?}");
        let zipf = Trace::Zipf.generate(10_000, 100_000, 3);
        let r = compare(&zipf, 1000);
        assert!(r.isaac > r.lru + 0.02, "{r:?}");
    }
}
