//! [`AiRouter`]: one query, a concurrent batch, and fallback across
//! providers (concurrent: the first success wins and the others are
//! cancelled; or ordered, one after another, for people who pay per
//! request), with retries, the response cache, statistics and the daily
//! spending cap.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};

use super::ledger::{AiStats, Ledger};
use super::provider::Provider;
use super::{AiError, AiRequest, AiResponse};
use crate::cache::MultiLevelCache;
use crate::cache::clock::Clock;
use crate::config::AiConfig;

/// The longest wait a `Retry-After` header can impose.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What this process's router did, for its run record.
#[derive(Debug, Default)]
pub struct Tally {
    /// Requests sent (retries included).
    pub requests: AtomicU64,
    /// Tokens in and out.
    pub tokens: AtomicU64,
    /// Nanodollars spent.
    pub cost_nusd: AtomicU64,
    /// Nanodollars saved by cache hits.
    pub saved_nusd: AtomicU64,
}

/// Routes AI requests to providers.
pub struct AiRouter {
    providers: BTreeMap<String, Provider>,
    config: AiConfig,
    client: reqwest::Client,
    ledger: Ledger,
    tally: Tally,
}

impl AiRouter {
    /// A router for the providers in `config`, keeping its cache and
    /// counters in `cache`.
    pub fn new(config: &AiConfig, cache: Arc<MultiLevelCache>, clock: Arc<dyn Clock>) -> Result<Self, AiError> {
        // reqwest is built without a default crypto provider: use ring. A
        // second call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| AiError::State(format!("cannot create the HTTP client: {e}")))?;
        let providers = config
            .providers
            .iter()
            .map(|(name, c)| (name.clone(), Provider { name: name.clone(), config: c.clone() }))
            .collect();
        let ledger = Ledger::new(cache, Duration::from_secs(config.cache_ttl_secs), clock);
        Ok(AiRouter { providers, config: config.clone(), client, ledger, tally: Tally::default() })
    }

    /// What this router did in this process.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The configured providers' names.
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    fn known(&self) -> String {
        if self.providers.is_empty() { "none".to_owned() } else { self.provider_names().join(", ") }
    }

    fn provider(&self, name: Option<&str>) -> Result<&Provider, AiError> {
        let name = match name.or(self.config.default_provider.as_deref()) {
            Some(name) => name,
            None => match self.providers.len() {
                0 => return Err(AiError::NoProvider),
                1 => self.providers.keys().next().map(String::as_str).unwrap_or_default(),
                _ => return Err(AiError::NoDefault { known: self.known() }),
            },
        };
        self.providers.get(name).ok_or_else(|| AiError::UnknownProvider { name: name.to_owned(), known: self.known() })
    }

    /// One query, on the provider it names (or the default).
    pub async fn query(&self, req: &AiRequest) -> Result<AiResponse, AiError> {
        let provider = self.provider(req.provider.as_deref())?;
        self.query_on(provider, req).await
    }

    async fn query_on(&self, provider: &Provider, req: &AiRequest) -> Result<AiResponse, AiError> {
        let key = Ledger::key(&provider.name, provider.model(req), req);
        if let Some(mut answer) = self.ledger.lookup(&key)? {
            answer.cached = true;
            answer.latency_ms = 0.0;
            self.tally.saved_nusd.fetch_add((answer.cost_usd * 1e9) as u64, Ordering::Relaxed);
            return Ok(answer);
        }
        self.check_budget(provider, req)?;
        let answer = self.complete(provider, req).await?;
        self.ledger.store(&key, &answer)?;
        Ok(answer)
    }

    fn check_budget(&self, provider: &Provider, req: &AiRequest) -> Result<(), AiError> {
        let Some(budget) = self.config.daily_budget_usd else { return Ok(()) };
        let estimate = provider.estimate(req);
        let spent = self.ledger.spent_today()?;
        if spent + estimate > budget {
            return Err(AiError::Budget { budget, spent, estimate });
        }
        Ok(())
    }

    /// Count one attempt on `provider` and decide: `Some(delay)` to try
    /// again after `delay`, `None` to return `result` as it is.
    fn judge(
        &self,
        provider: &Provider,
        result: &Result<AiResponse, AiError>,
        tries: u32,
    ) -> Result<Option<Duration>, AiError> {
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(answer) = result {
            self.tally.tokens.fetch_add(answer.usage.input_tokens + answer.usage.output_tokens, Ordering::Relaxed);
            self.tally.cost_nusd.fetch_add((answer.cost_usd * 1e9) as u64, Ordering::Relaxed);
        }
        match result {
            Ok(answer) => self.ledger.record(&provider.name, Ok((answer, answer.usage)))?,
            Err(AiError::MissingKey { .. }) => {}
            Err(_) => self.ledger.record(&provider.name, Err(()))?,
        }
        Ok(match result {
            Err(e) if e.retryable() && tries < self.config.max_retries => Some(self.delay(tries, e)),
            _ => None,
        })
    }

    async fn complete(&self, provider: &Provider, req: &AiRequest) -> Result<AiResponse, AiError> {
        let mut tries = 0;
        loop {
            let result = provider.complete(&self.client, req).await;
            match self.judge(provider, &result, tries)? {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    tries += 1;
                }
                None => return result,
            }
        }
    }

    /// Exponential backoff with jitter, or what `Retry-After` asks for.
    fn delay(&self, tries: u32, error: &AiError) -> Duration {
        if let AiError::Status { retry_after: Some(secs), .. } = error {
            return Duration::from_secs(*secs).min(MAX_RETRY_AFTER);
        }
        let base = self.config.retry_base_ms.saturating_mul(1 << tries.min(10));
        let jitter = RandomState::new().hash_one(tries) % 1000; // 0..1000 per mille
        Duration::from_millis(base / 2 + base * jitter / 1000)
    }

    /// Many queries at once (at most `[ai] concurrency` in flight); results
    /// in input order, each its own success or failure.
    pub async fn batch(&self, reqs: &[AiRequest]) -> Vec<Result<AiResponse, AiError>> {
        let queries: Vec<_> = reqs.iter().map(|r| self.query(r)).collect();
        futures::stream::iter(queries).buffered(self.config.concurrency).collect().await
    }

    /// The same query to several providers at once: the first success wins
    /// and the other requests are cancelled (their connections dropped). If
    /// all fail, one error lists each provider's failure.
    pub async fn query_with_fallback(&self, req: &AiRequest, providers: &[String]) -> Result<AiResponse, AiError> {
        let mut racing = FuturesUnordered::new();
        for name in providers {
            let provider = self.provider(Some(name))?;
            racing.push(async move { (name.clone(), self.query_on(provider, req).await) });
        }
        let mut failures = Vec::new();
        while let Some((name, result)) = racing.next().await {
            match result {
                Ok(answer) => return Ok(answer),
                Err(e) => failures.push((name, e)),
            }
        }
        Err(AiError::AllFailed(failures))
    }

    /// The same query to each provider in turn until one succeeds.
    pub async fn query_sequential(&self, req: &AiRequest, providers: &[String]) -> Result<AiResponse, AiError> {
        let mut failures = Vec::new();
        for name in providers {
            match self.query_on(self.provider(Some(name))?, req).await {
                Ok(answer) => return Ok(answer),
                Err(e) => failures.push((name.clone(), e)),
            }
        }
        Err(AiError::AllFailed(failures))
    }

    /// One query, streamed: `on_text` gets each piece as it arrives. A cached
    /// answer arrives in one piece.
    pub async fn stream(&self, req: &AiRequest, on_text: &mut (dyn FnMut(&str) + Send)) -> Result<AiResponse, AiError> {
        let provider = self.provider(req.provider.as_deref())?;
        let key = Ledger::key(&provider.name, provider.model(req), req);
        if let Some(mut answer) = self.ledger.lookup(&key)? {
            on_text(&answer.text);
            answer.cached = true;
            answer.latency_ms = 0.0;
            return Ok(answer);
        }
        self.check_budget(provider, req)?;
        let mut tries = 0;
        let answer = loop {
            let result = provider.stream(&self.client, req, &mut *on_text).await;
            match self.judge(provider, &result, tries)? {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    tries += 1;
                }
                None => break result?,
            }
        };
        self.ledger.store(&key, &answer)?;
        Ok(answer)
    }

    /// The response cache's and the providers' statistics.
    pub fn stats(&self) -> Result<AiStats, AiError> {
        self.ledger.stats()
    }

    /// Empty the response cache; how many answers were removed.
    pub fn clear_cache(&self) -> Result<u32, AiError> {
        self.ledger.clear()
    }
}
