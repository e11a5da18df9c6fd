//! Cache statistics: counters kept in memory while a process runs and added
//! to totals in L3 once, when it ends ([`super::MultiLevelCache::flush`]), so
//! `isaac cache stats` counts every process without a write per `get`.
//!
//! Only explicit gets count (a plugin's `cache.get`, `isaac cache get`);
//! preloading, warming and the AI response cache do not.

use serde::Serialize;

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
