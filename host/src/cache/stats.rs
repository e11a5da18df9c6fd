//! Cache statistics: counters kept in memory while a process runs and added
//! to totals in L3 once, when it ends ([`super::MultiLevelCache::flush`]), so
//! `isaac cache stats` counts every process without a write per `get`.
//!
//! Only explicit gets count (a plugin's `cache.get`, `isaac cache get`);
//! preloading, warming and the AI response cache do not.
//!
//! The flush adds this process's usage counts (for warming) in the same
//! commit, and is where a process that used the cache checks whether a
//! sweep is due.

use serde::Serialize;

use super::layout::{STATS_PREFIX, USAGE_PREFIX};
use super::store::{Matching, Op, Space};
use super::{CacheError, MultiLevelCache};

/// Event counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Gets answered by L1.
    pub l1_hits: u64,
    /// Gets answered by L2.
    pub l2_hits: u64,
    /// Gets answered by L3.
    pub l3_hits: u64,
    /// Gets that found nothing live.
    pub misses: u64,
    /// Successful sets.
    pub sets: u64,
    /// Entries moved from L1 to L2.
    pub l1_evictions: u64,
    /// Entries dropped from memory (still in L3): from L2, or from L1 when
    /// L2 did not admit them.
    pub l2_evictions: u64,
    /// Expired entries found and removed (by a get or a sweep).
    pub expirations: u64,
    /// Entries removed by `invalidate` and `clear`.
    pub invalidations: u64,
}

/// The counter names, as stored in L3 (`stats/NAME`) and printed.
pub const NAMES: [&str; 9] =
    ["l1_hits", "l2_hits", "l3_hits", "misses", "sets", "l1_evictions", "l2_evictions", "expirations", "invalidations"];

impl Counters {
    /// The counters in [`NAMES`] order.
    pub fn values(&self) -> [u64; 9] {
        [
            self.l1_hits,
            self.l2_hits,
            self.l3_hits,
            self.misses,
            self.sets,
            self.l1_evictions,
            self.l2_evictions,
            self.expirations,
            self.invalidations,
        ]
    }

    /// Counters from values in [`NAMES`] order.
    pub fn from_values(v: [u64; 9]) -> Self {
        Counters {
            l1_hits: v[0],
            l2_hits: v[1],
            l3_hits: v[2],
            misses: v[3],
            sets: v[4],
            l1_evictions: v[5],
            l2_evictions: v[6],
            expirations: v[7],
            invalidations: v[8],
        }
    }

    /// The sum of two sets of counters.
    pub fn plus(&self, other: &Counters) -> Counters {
        let (a, b) = (self.values(), other.values());
        Counters::from_values(std::array::from_fn(|i| a[i] + b[i]))
    }

    /// Hits on any tier.
    pub fn hits(&self) -> u64 {
        self.l1_hits + self.l2_hits + self.l3_hits
    }
}

/// What `isaac cache stats` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheStats {
    /// Every counter, totals over all processes since the last reset.
    #[serde(flatten)]
    pub counters: Counters,
    /// Hits on any tier.
    pub hits: u64,
    /// Hits over gets, any tier (0 when there were no gets).
    pub hit_rate: f64,
    /// Hits of L1 and L2 over gets.
    pub memory_hit_rate: f64,
    /// Entries in this process's L1.
    pub l1_entries: usize,
    /// Entries in this process's L2.
    pub l2_entries: usize,
    /// Bytes charged in L1 and L2.
    pub memory_bytes: usize,
    /// Entries in L3 (every namespace).
    pub l3_entries: u64,
    /// Bytes of L3 pages on disk (LMDB), or the server's memory (Redis).
    pub l3_bytes: u64,
    /// The cold tier in use: `lmdb (PATH)` or `redis (URL)`.
    pub l3_tier: String,
}

impl CacheStats {
    /// Derive the rates from `counters`.
    pub fn new(
        counters: Counters,
        tiers: (usize, usize),
        memory_bytes: usize,
        l3: super::store::Footprint,
        l3_tier: String,
    ) -> Self {
        let gets = counters.hits() + counters.misses;
        let rate = |n: u64| if gets == 0 { 0.0 } else { n as f64 / gets as f64 };
        CacheStats {
            counters,
            hits: counters.hits(),
            hit_rate: rate(counters.hits()),
            memory_hit_rate: rate(counters.l1_hits + counters.l2_hits),
            l1_entries: tiers.0,
            l2_entries: tiers.1,
            memory_bytes,
            l3_entries: l3.entries,
            l3_bytes: l3.bytes,
            l3_tier,
        }
    }
}

impl MultiLevelCache {
    /// Totals over every process since the last reset (flushed counters plus
    /// this process's), with tier sizes.
    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let mut persisted = [0u64; 9];
        self.store.scan(Space::Counters, STATS_PREFIX, &mut |key, raw| {
            if let Some(i) = NAMES.iter().position(|n| key[STATS_PREFIX.len()..] == **n) {
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
            let stat_keys: Vec<(String, u64)> = NAMES
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
}
