//! Warming: which keys are used most (their usage counts, flushed and not),
//! the hot set kept in L3 and preloaded into L1 on a process's first get,
//! and [`MultiLevelCache::warmup`].

use std::collections::HashMap;

use super::entry::Expiry;
use super::layout::{HOT, USAGE_PREFIX};
use super::read::live;
use super::store::{Matching, Op, Space};
use super::{CacheError, Inner, MultiLevelCache, Namespace};

/// The most keys whose usage a process tracks between flushes (a bound on
/// host memory whatever keys a plugin reads; see [`usage`](super::usage)).
pub const USAGE_KEYS: usize = 4096;

/// What [`MultiLevelCache::warmup`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WarmReport {
    /// Most used keys considered.
    pub considered: usize,
    /// Already in memory.
    pub in_memory: usize,
    /// Loaded from L3 into memory.
    pub loaded: usize,
    /// Produced by the generator and set.
    pub generated: usize,
    /// Neither in L3 nor produced.
    pub missing: usize,
}

impl MultiLevelCache {
    /// The most used keys of `ns` (by usage count, flushed and not), most
    /// used first.
    pub fn top_keys(&self, ns: &Namespace, n: usize) -> Result<Vec<(String, u64)>, CacheError> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        let prefix = format!("{USAGE_PREFIX}{}", ns.prefix());
        self.store.scan(Space::Counters, &prefix, &mut |key, raw| {
            let count = raw.try_into().map_or(0, u64::from_le_bytes);
            counts.insert(key[prefix.len()..].to_owned(), count);
            true
        })?;
        for (full, n) in self.lock().usage.iter() {
            if let Some(key) = full.strip_prefix(ns.prefix()) {
                *counts.entry(key.to_owned()).or_default() += n;
            }
        }
        let mut top: Vec<(String, u64)> = counts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(n);
        Ok(top)
    }

    /// Warm the cache for the `top_n` most used keys of `ns`: a key already
    /// in memory stays; one in L3 is loaded into memory; for any other,
    /// `generator` may produce a value, which is set.
    pub fn warmup(
        &self,
        ns: &Namespace,
        top_n: usize,
        mut generator: impl FnMut(&str) -> Option<(Vec<u8>, Expiry)>,
    ) -> Result<WarmReport, CacheError> {
        let now = self.clock.now_ms();
        let mut report = WarmReport::default();
        {
            let mut inner = self.lock();
            self.refresh(&mut inner, now)?;
        }
        let top = self.top_keys(ns, top_n)?;
        report.considered = top.len();
        // Least used first, so the most used end up most recent in L1.
        let mut wanted: Vec<(&str, String)> = Vec::new();
        for (key, _) in top.iter().rev() {
            let full = ns.key(key);
            if self.lock().tiers.contains(&full) {
                report.in_memory += 1;
            } else {
                wanted.push((key, full));
            }
        }
        // One read for them all: one round trip on a networked store.
        let fulls: Vec<&str> = wanted.iter().map(|(_, full)| full.as_str()).collect();
        let found = self.store.get_many(Space::Data, &fulls)?;
        for ((key, full), raw) in wanted.iter().zip(found) {
            match live(raw.as_deref(), now) {
                Some(entry) => {
                    let mut inner = self.lock();
                    let moves = inner.tiers.insert(full.as_str().into(), entry);
                    inner.record(moves);
                    report.loaded += 1;
                }
                None => match generator(key) {
                    Some((value, expiry)) => {
                        self.set(ns, key, &value, expiry)?;
                        report.generated += 1;
                    }
                    None => report.missing += 1,
                },
            }
        }
        Ok(report)
    }

    /// Forget the usage counts of `ns` (and its keys in the hot set): for a
    /// namespace that is purged.
    pub fn forget_usage(&self, ns: &Namespace) -> Result<(), CacheError> {
        let prefix = format!("{USAGE_PREFIX}{}", ns.prefix());
        let hot: Vec<(String, u64)> = match self.store.get(Space::Meta, HOT)? {
            Some(raw) => serde_json::from_slice(&raw).unwrap_or_default(),
            None => Vec::new(),
        };
        let kept: Vec<&(String, u64)> = hot.iter().filter(|(k, _)| !k.starts_with(ns.prefix())).collect();
        let json = serde_json::to_vec(&kept).expect("the hot set serializes");
        self.store.apply(&[
            Op::DeleteWhere { space: Space::Counters, prefix: &prefix, matching: Matching::All },
            Op::Put { space: Space::Meta, key: HOT, value: &json, quota: None },
        ])?;
        self.lock().usage.retain(|key| !key.starts_with(ns.prefix()));
        Ok(())
    }

    /// Load the hot set into memory (least used first, so the most used end
    /// up most recent); how many entries were live.
    pub(super) fn preload_hot(&self, inner: &mut Inner, now: u64) -> Result<usize, CacheError> {
        let Some(raw) = self.store.get(Space::Meta, HOT)? else { return Ok(0) };
        let hot: Vec<(String, u64)> = serde_json::from_slice(&raw).unwrap_or_default();
        let mut loaded = 0;
        // Least used first, so the most used end up most recent; one read
        // for them all.
        let keys: Vec<&str> = hot.iter().take(self.config.l1_entries).rev().map(|(k, _)| k.as_str()).collect();
        for (key, raw) in keys.iter().zip(self.store.get_many(Space::Data, &keys)?) {
            if let Some(entry) = live(raw.as_deref(), now) {
                inner.tiers.insert((*key).into(), entry);
                loaded += 1;
            }
        }
        Ok(loaded)
    }

    /// Merge the current counts of `touched` keys into the hot set.
    pub(super) fn update_hot<'a>(&self, touched: impl Iterator<Item = &'a String>) -> Result<(), CacheError> {
        let mut hot: HashMap<String, u64> = match self.store.get(Space::Meta, HOT)? {
            Some(raw) => serde_json::from_slice::<Vec<(String, u64)>>(&raw).unwrap_or_default().into_iter().collect(),
            None => HashMap::new(),
        };
        for key in touched {
            let count = self.store.get(Space::Counters, &format!("{USAGE_PREFIX}{key}"))?;
            hot.insert(key.clone(), count.and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes));
        }
        let mut list: Vec<(String, u64)> = hot.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(self.config.l1_entries);
        let json = serde_json::to_vec(&list).expect("the hot set serializes");
        self.store.apply(&[Op::Put { space: Space::Meta, key: HOT, value: &json, quota: None }])?;
        Ok(())
    }
}
