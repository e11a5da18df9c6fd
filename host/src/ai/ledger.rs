//! What the AI router remembers across processes, in the home's LMDB
//! environment: the response cache (on the three-tier cache, in its own
//! namespace), its hit and saving counts, per-provider statistics, and what
//! was spent each day (for the spending cap).
//!
//! Counters are written when each request ends (one commit, no fsync), so
//! every process sees the others' spending at once. Money is counted in
//! nanodollars; latencies in a histogram of 10 % buckets, from which p50
//! and p95 are read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{AiRequest, AiResponse, Usage};
use crate::cache::clock::Clock;
use crate::cache::{CacheError, Expiry, MultiLevelCache, Namespace};
use crate::error::Source;

const NANO: f64 = 1e9;
const BUCKET: f64 = 1.1;

/// The response cache and the counters.
pub struct Ledger {
    cache: Arc<MultiLevelCache>,
    namespace: Namespace,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// The response cache's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// Queries answered from the cache.
    pub hits: u64,
    /// Queries sent to a provider.
    pub misses: u64,
    /// Hits over queries.
    pub hit_rate: f64,
    /// Dollars the hits would have cost.
    pub cost_saved: f64,
}

/// One provider's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProviderStats {
    /// Requests sent (attempts, retries included).
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Requests cancelled in flight (fallback losers); counted in
    /// `requests`, and charged at their reservation.
    pub cancelled: u64,
    /// Median latency of successful requests, in ms (within 10 %).
    pub p50_ms: Option<f64>,
    /// 95th percentile latency, in ms (within 10 %).
    pub p95_ms: Option<f64>,
    /// Tokens read.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// Dollars spent.
    pub cost: f64,
}

/// Everything `isaac ai stats` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AiStats {
    /// The response cache.
    #[serde(flatten)]
    pub cache: CacheStats,
    /// Dollars spent today (UTC) across every process.
    pub spent_today: f64,
    /// Per provider.
    pub providers: BTreeMap<String, ProviderStats>,
}

fn err(e: CacheError) -> super::AiError {
    super::AiError::State(Source::new(e))
}

fn nano(usd: f64) -> u64 {
    (usd * NANO).round().max(0.0) as u64
}

fn bucket(ms: f64) -> u32 {
    if ms <= 1.0 { 0 } else { (ms.ln() / BUCKET.ln()).ceil().min(999.0) as u32 }
}

impl Ledger {
    /// A ledger on `cache`; answers are reused for `ttl` (zero: never cached).
    pub fn new(cache: Arc<MultiLevelCache>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Ledger { cache, namespace: Namespace::service("ai"), ttl, clock }
    }

    /// The cache key of `req` on `provider` with `model`, asked in `scope`
    /// (who may see the answer: one plugin, the user, or everyone where the
    /// config shares the cache): exact match over scope, provider, model,
    /// messages and parameters.
    pub fn key(scope: &str, provider: &str, model: &str, req: &AiRequest) -> String {
        let canonical = serde_json::json!([scope, provider, model, req.messages, req.max_tokens, req.temperature]);
        crate::digest::sha256_hex(canonical.to_string().as_bytes())
    }

    /// A cached answer for `key`, counted as a hit (with its saving) or a miss.
    pub fn lookup(&self, key: &str) -> Result<Option<AiResponse>, super::AiError> {
        if self.ttl.is_zero() {
            return Ok(None);
        }
        let found = self.cache.peek(&self.namespace, key).map_err(err)?;
        let answer = found.and_then(|raw| serde_json::from_slice::<AiResponse>(&raw).ok());
        match &answer {
            Some(a) => self
                .cache
                .add_counters(&[("ai/cache/hits".into(), 1), ("ai/cache/saved_nusd".into(), nano(a.cost_usd))]),
            None => self.cache.add_counters(&[("ai/cache/misses".into(), 1)]),
        }
        .map_err(err)?;
        Ok(answer)
    }

    /// Keep `answer` for `key`.
    pub fn store(&self, key: &str, answer: &AiResponse) -> Result<(), super::AiError> {
        if self.ttl.is_zero() {
            return Ok(());
        }
        let json = serde_json::to_vec(answer).expect("answers serialize");
        self.cache.set(&self.namespace, key, &json, Expiry::After(self.ttl)).map_err(err)
    }

    /// Count one request to `provider` that ended: its outcome, latency,
    /// tokens, cost, and today's spending settled from `reserved` dollars
    /// (see [`reserve_spend`](Self::reserve_spend)) to what it cost. One commit.
    pub fn record(
        &self,
        provider: &str,
        result: Result<(&AiResponse, Usage), ()>,
        reserved: f64,
    ) -> Result<(), super::AiError> {
        let p = format!("ai/p/{provider}/");
        let mut deltas = vec![(format!("{p}requests"), 1)];
        let cost = match result {
            Ok((answer, usage)) => {
                deltas.push((format!("{p}in"), usage.input_tokens as i64));
                deltas.push((format!("{p}out"), usage.output_tokens as i64));
                deltas.push((format!("{p}cost_nusd"), nano(answer.cost_usd) as i64));
                deltas.push((format!("{p}lat/{:03}", bucket(answer.latency_ms)), 1));
                answer.cost_usd
            }
            Err(()) => {
                deltas.push((format!("{p}errors"), 1));
                0.0
            }
        };
        deltas.push((self.day_key(), nano(cost) as i64 - nano(reserved) as i64));
        self.cache.adjust_counters(&deltas).map_err(err)
    }

    /// Count one request to `provider` that was cancelled in flight: sent,
    /// and charged at its estimate (`estimate` dollars, of which `reserved`
    /// were already counted in today's spending).
    pub fn record_cancelled(&self, provider: &str, estimate: f64, reserved: f64) -> Result<(), super::AiError> {
        let p = format!("ai/p/{provider}/");
        let deltas = [
            (format!("{p}requests"), 1),
            (format!("{p}cancelled"), 1),
            (format!("{p}cost_nusd"), nano(estimate) as i64),
            (self.day_key(), nano(estimate) as i64 - nano(reserved) as i64),
        ];
        self.cache.adjust_counters(&deltas).map_err(err)
    }

    /// Reserve `estimate` dollars of today's spending before a request is
    /// sent, atomically across processes: refused when it would pass
    /// `budget`. Concurrent requests therefore cannot pass the cap by more
    /// than what settling adds beyond an estimate. Returns what was reserved:
    /// without a budget nothing is (the cost is counted when recorded).
    pub fn reserve_spend(&self, estimate: f64, budget: Option<f64>) -> Result<f64, super::AiError> {
        let Some(budget) = budget else { return Ok(0.0) };
        match self.cache.reserve_counter(&self.day_key(), nano(estimate), nano(budget)) {
            Ok(()) => Ok(estimate),
            Err(CacheError::Store(crate::cache::StoreError::OverCap { current, .. })) => {
                Err(super::AiError::Budget { budget, spent: current as f64 / NANO, estimate })
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Give back `reserved` dollars of a request that was never sent.
    pub fn release_spend(&self, reserved: f64) -> Result<(), super::AiError> {
        if reserved == 0.0 {
            return Ok(());
        }
        self.cache.adjust_counters(&[(self.day_key(), -(nano(reserved) as i64))]).map_err(err)
    }

    fn day_key(&self) -> String {
        format!("ai/spend/{}", self.clock.now_ms() / 86_400_000)
    }

    /// Dollars spent today (UTC), by every process.
    pub fn spent_today(&self) -> Result<f64, super::AiError> {
        let key = self.day_key();
        let counters = self.cache.counters(&key).map_err(err)?;
        Ok(counters.iter().find(|(k, _)| *k == key).map_or(0.0, |(_, v)| *v as f64 / NANO))
    }

    /// Everything counted so far.
    pub fn stats(&self) -> Result<AiStats, super::AiError> {
        let mut stats = AiStats { spent_today: self.spent_today()?, ..AiStats::default() };
        let mut latencies: BTreeMap<String, Vec<(u32, u64)>> = BTreeMap::new();
        for (key, value) in self.cache.counters("ai/").map_err(err)? {
            let parts: Vec<&str> = key.split('/').collect();
            match parts.as_slice() {
                ["ai", "cache", "hits"] => stats.cache.hits = value,
                ["ai", "cache", "misses"] => stats.cache.misses = value,
                ["ai", "cache", "saved_nusd"] => stats.cache.cost_saved = value as f64 / NANO,
                ["ai", "p", name, "lat", b] => {
                    latencies.entry((*name).to_owned()).or_default().push((b.parse().unwrap_or(0), value));
                }
                ["ai", "p", name, field] => {
                    let p = stats.providers.entry((*name).to_owned()).or_default();
                    match *field {
                        "requests" => p.requests = value,
                        "errors" => p.errors = value,
                        "cancelled" => p.cancelled = value,
                        "in" => p.input_tokens = value,
                        "out" => p.output_tokens = value,
                        "cost_nusd" => p.cost = value as f64 / NANO,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        for (name, buckets) in latencies {
            let p = stats.providers.entry(name).or_default();
            p.p50_ms = percentile(&buckets, 0.50);
            p.p95_ms = percentile(&buckets, 0.95);
        }
        let queries = stats.cache.hits + stats.cache.misses;
        stats.cache.hit_rate = if queries == 0 { 0.0 } else { stats.cache.hits as f64 / queries as f64 };
        Ok(stats)
    }

    /// Empty the response cache (answers and their statistics).
    pub fn clear(&self) -> Result<u32, super::AiError> {
        let removed = self.cache.clear(&self.namespace).map_err(err)?;
        self.cache.clear_counters("ai/cache/").map_err(err)?;
        Ok(removed)
    }
}

/// The upper bound of the bucket that holds the `q` quantile.
fn percentile(buckets: &[(u32, u64)], q: f64) -> Option<f64> {
    let total: u64 = buckets.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let target = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (b, n) in buckets {
        seen += n;
        if seen >= target {
            return Some(BUCKET.powi(*b as i32));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_ten_percent() {
        for ms in [1.5, 10.0, 99.0, 200.0, 2000.0] {
            let upper = BUCKET.powi(bucket(ms) as i32);
            assert!(upper >= ms && upper <= ms * 1.1 + 1e-9, "{ms} -> {upper}");
        }
        let b: Vec<(u32, u64)> = vec![(bucket(100.0), 50), (bucket(200.0), 45), (bucket(400.0), 5)];
        let p50 = percentile(&b, 0.5).unwrap();
        let p95 = percentile(&b, 0.95).unwrap();
        assert!((100.0..=110.0).contains(&p50) && (200.0..=220.0).contains(&p95), "{p50} {p95}");
    }

    #[test]
    fn cache_keys_cover_every_parameter() {
        let req = AiRequest::prompt("hi");
        let k = Ledger::key("s", "p", "m", &req);
        assert_eq!(k.len(), 64);
        assert_ne!(k, Ledger::key("t", "p", "m", &req));
        assert_ne!(k, Ledger::key("s", "q", "m", &req));
        assert_ne!(k, Ledger::key("s", "p", "n", &req));
        assert_ne!(k, Ledger::key("s", "p", "m", &AiRequest { temperature: Some(0.5), ..req.clone() }));
        assert_ne!(k, Ledger::key("s", "p", "m", &AiRequest::prompt("hi!")));
    }
}
