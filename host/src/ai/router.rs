//! [`AiRouter`]: one query, a concurrent batch, and fallback across
//! providers (concurrent: the first success wins and the others are
//! cancelled; or ordered, one after another, for people who pay per
//! request), with retries, the response cache, statistics and the daily
//! spending cap.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::stream::{FuturesUnordered, StreamExt};

use super::caller::{Caller, Reservation, input_estimate};
use super::ledger::{AiStats, Ledger};
use super::provider::Provider;
use super::{AiError, AiRequest, AiResponse, Usage};
use crate::cache::MultiLevelCache;
use crate::cache::clock::Clock;
use crate::config::AiConfig;
use crate::error::Source;

/// The longest wait a `Retry-After` header can impose.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The wait a failure's `Retry-After` asks for, at most [`MAX_RETRY_AFTER`].
fn retry_after(error: &AiError) -> Option<Duration> {
    match error {
        AiError::Status { retry_after: Some(secs), .. } => Some(Duration::from_secs(*secs).min(MAX_RETRY_AFTER)),
        _ => None,
    }
}

/// The delays before each retry: `retry_base_ms` doubling (up to 1024
/// times it), each plus up to as much again at random (backon's jitter),
/// `max_retries` of them. A `Retry-After` wins over the delay it replaces.
fn backoff(config: &AiConfig) -> impl Iterator<Item = Duration> + use<> {
    let base = Duration::from_millis(config.retry_base_ms);
    ExponentialBuilder::default()
        .with_min_delay(base)
        .with_max_delay(base.saturating_mul(1024))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(usize::try_from(config.max_retries).unwrap_or(usize::MAX))
        .build()
}

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
    /// Built on the first request: building it reads the system's root
    /// certificates (about a millisecond), which a plugin granted `ai` that
    /// asks nothing of it should not pay on every run.
    client: OnceLock<reqwest::Client>,
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
        let providers = config.providers.iter().map(|(name, c)| (name.clone(), Provider::new(name, c))).collect();
        let ledger = Ledger::new(cache, Duration::from_secs(config.cache_ttl_secs), clock);
        Ok(AiRouter { providers, config: config.clone(), client: OnceLock::new(), ledger, tally: Tally::default() })
    }

    /// The HTTP client, built on first use (a failed build is tried again
    /// by the next request).
    fn client(&self) -> Result<&reqwest::Client, AiError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        // No redirects: a provider's answer comes from where it was asked,
        // and its key (`authorization`, `x-api-key`) never goes elsewhere.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| AiError::Client(Source::new(e)))?;
        Ok(self.client.get_or_init(|| client))
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

    /// One query from the user, on the provider it names (or the default).
    pub async fn query(&self, req: &AiRequest) -> Result<AiResponse, AiError> {
        self.query_for(req, &Caller::user()).await
    }

    /// One query from `caller`, on the provider it names (or the default).
    pub async fn query_for(&self, req: &AiRequest, caller: &Caller) -> Result<AiResponse, AiError> {
        let provider = self.provider(req.provider.as_deref())?;
        self.query_on(provider, req, caller, None).await
    }

    /// The response cache's key for `req` on `provider` from `caller`, after
    /// checking that the caller may name the request's model.
    fn cache_key(&self, provider: &Provider, req: &AiRequest, caller: &Caller) -> Result<String, AiError> {
        let model = provider.model(req);
        if !caller.any_model() && provider.prices(model).is_none() {
            return Err(AiError::ModelNotAllowed { provider: provider.name.clone(), model: model.to_owned() });
        }
        let scope = if self.config.shared_response_cache { "shared" } else { caller.scope.as_str() };
        Ok(Ledger::key(scope, &provider.name, model, req))
    }

    async fn query_on<'t>(
        &self,
        provider: &Provider,
        req: &AiRequest,
        caller: &Caller,
        mut on_text: Option<&mut (dyn FnMut(&str) + Send + 't)>,
    ) -> Result<AiResponse, AiError> {
        let key = self.cache_key(provider, req, caller)?;
        if let Some(mut answer) = self.ledger.lookup(&key)? {
            if let Some(on_text) = on_text.as_deref_mut() {
                on_text(&answer.text);
            }
            answer.cached = true;
            answer.latency_ms = 0.0;
            self.tally.saved_nusd.fetch_add((answer.cost_usd * 1e9) as u64, Ordering::Relaxed);
            return Ok(answer);
        }
        let mut backoff = backoff(&self.config);
        let answer = loop {
            let result = self.attempt(provider, req, caller, on_text.as_deref_mut()).await;
            match result {
                Err(e) if e.retryable() => match backoff.next() {
                    Some(delay) => tokio::time::sleep(retry_after(&e).unwrap_or(delay)).await,
                    None => return Err(e),
                },
                other => break other?,
            }
        };
        self.ledger.store(&key, &answer)?;
        Ok(answer)
    }

    /// One HTTP request: wait for a place at the provider's gate, reserve
    /// the caller's request and tokens and the day's spending, send (with
    /// `max_tokens` the output reserved), settle to the usage reported. A
    /// request dropped in flight is recorded as cancelled and keeps its
    /// reservations ([`InFlight`]).
    async fn attempt<'t>(
        &self,
        provider: &Provider,
        req: &AiRequest,
        caller: &Caller,
        on_text: Option<&mut (dyn FnMut(&str) + Send + 't)>,
    ) -> Result<AiResponse, AiError> {
        // Reserve only once on the wire: a queued request holds no budget.
        let permit = provider.gate.enter().await;
        let wanted = req.max_tokens.unwrap_or(provider.config.default_max_tokens);
        let (reservation, sent) = match &caller.budget {
            Some(budget) => {
                let reservation = budget.reserve(req, wanted)?;
                let output = u32::try_from(reservation.output).unwrap_or(u32::MAX);
                (reservation, Cow::Owned(AiRequest { max_tokens: Some(output), ..req.clone() }))
            }
            // Under a daily cap the user's requests are bounded too, so the
            // reservation is what they can cost.
            None => {
                let reservation = Reservation { input: input_estimate(req), output: u64::from(wanted) };
                match self.config.daily_budget_usd {
                    Some(_) if req.max_tokens.is_none() => {
                        (reservation, Cow::Owned(AiRequest { max_tokens: Some(wanted), ..req.clone() }))
                    }
                    _ => (reservation, Cow::Borrowed(req)),
                }
            }
        };
        let usage = Usage { input_tokens: reservation.input, output_tokens: reservation.output };
        let estimate = provider.cost(provider.model(req), usage);
        let reserved = match self.ledger.reserve_spend(estimate, self.config.daily_budget_usd) {
            Ok(reserved) => reserved,
            Err(e) => {
                if let Some(budget) = &caller.budget {
                    budget.release(reservation);
                }
                return Err(e);
            }
        };
        let mut flight = InFlight { router: self, provider, caller, reservation, estimate, reserved, done: false };
        let result = match (self.client(), on_text) {
            (Err(e), _) => Err(e),
            (Ok(client), Some(on_text)) => provider.stream(client, &sent, on_text).await,
            (Ok(client), None) => provider.complete(client, &sent).await,
        };
        match &result {
            Ok(_) => permit.answered(),
            Err(AiError::Status { status: 429, .. }) => permit.throttled(),
            Err(_) => drop(permit),
        }
        flight.land(&result)?;
        result
    }

    /// Many queries from the user at once; see [`batch_for`](Self::batch_for).
    pub async fn batch(&self, reqs: &[AiRequest]) -> Vec<Result<AiResponse, AiError>> {
        self.batch_for(reqs, &Caller::user()).await
    }

    /// Many queries at once: each provider's gate lets at most its
    /// `max_concurrency` onto the wire (fewer after a 429), and `[ai]
    /// concurrency`, if set, caps the batch as a whole. Results in input
    /// order, each its own success or failure.
    pub async fn batch_for(&self, reqs: &[AiRequest], caller: &Caller) -> Vec<Result<AiResponse, AiError>> {
        let queries: Vec<_> = reqs.iter().map(|r| self.query_for(r, caller)).collect();
        let width = self.config.concurrency.unwrap_or(reqs.len()).max(1);
        futures::stream::iter(queries).buffered(width).collect().await
    }

    /// Each provider's in-flight limit now (its `max_concurrency`, or less
    /// after a 429).
    pub fn limits(&self) -> BTreeMap<String, usize> {
        self.providers.iter().map(|(name, p)| (name.clone(), p.gate.limit())).collect()
    }

    /// The user's query raced over `providers`; see
    /// [`query_with_fallback_for`](Self::query_with_fallback_for).
    pub async fn query_with_fallback(&self, req: &AiRequest, providers: &[String]) -> Result<AiResponse, AiError> {
        self.query_with_fallback_for(req, providers, &Caller::user()).await
    }

    /// The same query to several providers at once: the first success wins
    /// and the other requests are cancelled (their connections dropped). If
    /// all fail, one error lists each provider's failure. The list is
    /// de-duplicated and, for a caller with a budget, cut to the requests it
    /// has left: every request sent counts.
    pub async fn query_with_fallback_for(
        &self,
        req: &AiRequest,
        providers: &[String],
        caller: &Caller,
    ) -> Result<AiResponse, AiError> {
        let mut names: Vec<&String> = Vec::new();
        for name in providers {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if let Some(budget) = &caller.budget {
            names.truncate(usize::try_from(budget.requests_left()).unwrap_or(usize::MAX));
            if names.is_empty() {
                return Err(budget.reserve(req, 0).err().unwrap_or(AiError::NoProvider));
            }
        }
        let mut racing = FuturesUnordered::new();
        for name in names {
            let provider = self.provider(Some(name))?;
            racing.push(async move { (name.clone(), self.query_on(provider, req, caller, None).await) });
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
        let caller = Caller::user();
        for name in providers {
            match self.query_on(self.provider(Some(name))?, req, &caller, None).await {
                Ok(answer) => return Ok(answer),
                Err(e) => failures.push((name.clone(), e)),
            }
        }
        Err(AiError::AllFailed(failures))
    }

    /// One query from the user, streamed: `on_text` gets each piece as it
    /// arrives. A cached answer arrives in one piece.
    pub async fn stream(&self, req: &AiRequest, on_text: &mut (dyn FnMut(&str) + Send)) -> Result<AiResponse, AiError> {
        self.stream_for(req, &Caller::user(), on_text).await
    }

    /// One query from `caller`, streamed: reserved, cached and settled as
    /// [`query_for`](Self::query_for), with `on_text` given each piece as it
    /// arrives (a cached answer in one piece).
    pub async fn stream_for(
        &self,
        req: &AiRequest,
        caller: &Caller,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<AiResponse, AiError> {
        let provider = self.provider(req.provider.as_deref())?;
        self.query_on(provider, req, caller, Some(on_text)).await
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

/// One request on the wire. [`land`](InFlight::land) settles it when the
/// answer arrives; if it is dropped first (a fallback loser, a deadline),
/// `Drop` records it as sent and cancelled, and its reservations stand.
struct InFlight<'a> {
    router: &'a AiRouter,
    provider: &'a Provider,
    caller: &'a Caller,
    reservation: Reservation,
    /// Dollars the request may cost.
    estimate: f64,
    /// Dollars of it reserved in today's spending (0 without a daily cap).
    reserved: f64,
    done: bool,
}

impl InFlight<'_> {
    fn land(&mut self, result: &Result<AiResponse, AiError>) -> Result<(), AiError> {
        self.done = true;
        let router = self.router;
        // Not sent: a missing key is found before the request leaves.
        let unsent = matches!(result, Err(AiError::MissingKey { .. }));
        if let Some(budget) = &self.caller.budget {
            match unsent {
                true => budget.release(self.reservation),
                false => budget.settle(self.reservation, result.as_ref().ok().map(|a| a.usage)),
            }
        }
        if unsent {
            return router.ledger.release_spend(self.reserved);
        }
        router.tally.requests.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(answer) => {
                let t = &router.tally;
                t.tokens.fetch_add(answer.usage.input_tokens + answer.usage.output_tokens, Ordering::Relaxed);
                t.cost_nusd.fetch_add((answer.cost_usd * 1e9) as u64, Ordering::Relaxed);
                router.ledger.record(&self.provider.name, Ok((answer, answer.usage)), self.reserved)
            }
            Err(_) => router.ledger.record(&self.provider.name, Err(()), self.reserved),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let router = self.router;
        router.tally.requests.fetch_add(1, Ordering::Relaxed);
        router.tally.cost_nusd.fetch_add((self.estimate * 1e9) as u64, Ordering::Relaxed);
        if let Err(e) = router.ledger.record_cancelled(&self.provider.name, self.estimate, self.reserved) {
            tracing::warn!("a cancelled AI request was not recorded: {}", crate::error::OneLine(&e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_retry_after_wins() {
        let config = AiConfig { retry_base_ms: 100, max_retries: 12, ..AiConfig::default() };
        let delays: Vec<Duration> = backoff(&config).collect();
        assert_eq!(delays.len(), 12, "max_retries delays, then none");
        for (i, delay) in delays.iter().enumerate() {
            let floor = Duration::from_millis(100 << i.min(10));
            assert!(*delay >= floor && *delay <= floor * 2, "retry {i}: {delay:?}");
        }
        let status =
            |retry_after| AiError::Status { provider: "p".into(), status: 429, message: String::new(), retry_after };
        assert_eq!(retry_after(&status(Some(2))), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&status(Some(3600))), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&status(None)), None);
    }
}
