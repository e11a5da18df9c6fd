//! Persistent counters of other host services (AI spending): `u64`s in
//! L3's counter space beside the cache statistics, shared by every process,
//! changed in one commit per call.

use super::store::{Matching, Op, Space};
use super::{CacheError, MultiLevelCache};

impl MultiLevelCache {
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
    /// [`StoreError::OverCap`](super::StoreError::OverCap) otherwise.
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
}
