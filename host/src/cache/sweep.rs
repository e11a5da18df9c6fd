//! Sweeping: removing every expired entry from L3 at once. A get removes
//! the expired entry it finds; a sweep reclaims the rest, at most once per
//! `sweep_interval_secs`, when a process that used the cache ends (see
//! [`MultiLevelCache::flush`]).

use super::layout::LAST_SWEEP;
use super::store::{Matching, Op, Space};
use super::{CacheError, MultiLevelCache};

impl MultiLevelCache {
    /// Remove every expired entry from L3 and memory; how many there were.
    pub fn sweep(&self) -> Result<u32, CacheError> {
        let now = self.clock.now_ms();
        let now_bytes = now.to_le_bytes();
        let ops = [
            Op::DeleteWhere { space: Space::Data, prefix: "", matching: Matching::Expired { now_ms: now } },
            Op::Put { space: Space::Meta, key: LAST_SWEEP, value: &now_bytes, quota: None },
        ];
        let (applied, ()) = self.write(&ops, |_, _| ())?;
        self.lock().counters.expirations += u64::from(applied.deleted);
        Ok(applied.deleted)
    }

    /// Whether the last sweep (of any process) is `sweep_interval_secs` or more
    /// before `now`.
    pub(super) fn sweep_due(&self, now: u64) -> Result<bool, CacheError> {
        let last =
            self.store.get(Space::Meta, LAST_SWEEP)?.and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
        Ok(now >= last.saturating_add(self.config.sweep_interval_secs.saturating_mul(1000)))
    }
}
