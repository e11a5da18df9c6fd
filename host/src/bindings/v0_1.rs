//! `isaac:plugin@0.1.0`, still linked: the bindings of the frozen 0.1.0
//! package (`host/wit-0.1.0/`) and an adapter that serves each of its
//! imports with the 0.2.0 adapter ([`super::v0_2`]), as Spin serves its v1
//! world through v2. The one difference a 0.1.0 plugin
//! can see: a cache quota refusal, which 0.2.0 reports as `quota`, arrives as
//! `too-large` (0.1.0 has no such case).

#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "wit-0.1.0",
        world: "isaac:plugin/plugin",
        imports: { "isaac:plugin/log.log": async | trappable, default: async },
        exports: { default: async },
    });
}

pub(crate) use generated::isaac::plugin::{ai, cache, log, types};

use super::v0_2::ai::{
    AiError as WitAiError, Host as AiHost, Message as WitMessage, Request as WitRequest, Response as WitResponse,
};
use super::v0_2::cache::{CacheError as WitCacheError, Expiry as WitExpiry, Host as CacheHost};
use super::v0_2::log::{Host as LogHost, Level};
use super::{Nothing, View};

pub(crate) use generated::PluginPre;

/// A 0.1.0 `plugin-info` as the current type.
pub(crate) fn info(old: types::PluginInfo) -> super::PluginInfo {
    super::PluginInfo {
        name: old.name,
        version: old.version,
        description: old.description,
        commands: old
            .commands
            .into_iter()
            .map(|c| super::CommandInfo { name: c.name, summary: c.summary, usage: c.usage })
            .collect(),
    }
}

/// A 0.1.0 guest `error` as the current type.
pub(crate) fn guest_error(old: types::Error) -> super::GuestError {
    match old {
        types::Error::Usage(m) => super::GuestError::Usage(m),
        types::Error::Failed(m) => super::GuestError::Failed(m),
    }
}

impl types::Host for Nothing {}

impl<'a, C: Send> log::Host for View<'a, C>
where
    View<'a, C>: LogHost,
{
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        LogHost::log(self, level, message).await
    }
}

fn cache_error(error: WitCacheError) -> cache::CacheError {
    match error {
        WitCacheError::Denied => cache::CacheError::Denied,
        WitCacheError::TooLarge(m) | WitCacheError::Quota(m) => cache::CacheError::TooLarge(m),
        WitCacheError::Storage(m) => cache::CacheError::Storage(m),
    }
}

impl<'a, C: Send> cache::Host for View<'a, C>
where
    View<'a, C>: CacheHost,
{
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, cache::CacheError> {
        CacheHost::get(self, key).await.map_err(cache_error)
    }

    async fn set(&mut self, key: String, value: Vec<u8>, expiry: cache::Expiry) -> Result<(), cache::CacheError> {
        let expiry = match expiry {
            cache::Expiry::DefaultTtl => WitExpiry::DefaultTtl,
            cache::Expiry::Seconds(s) => WitExpiry::Seconds(s),
            cache::Expiry::Never => WitExpiry::Never,
        };
        CacheHost::set(self, key, value, expiry).await.map_err(cache_error)
    }

    async fn delete(&mut self, key: String) -> Result<bool, cache::CacheError> {
        CacheHost::delete(self, key).await.map_err(cache_error)
    }

    async fn invalidate(&mut self, pattern: String) -> Result<u32, cache::CacheError> {
        CacheHost::invalidate(self, pattern).await.map_err(cache_error)
    }
}

fn request(old: ai::Request) -> WitRequest {
    WitRequest {
        messages: old.messages.into_iter().map(|m| WitMessage { role: m.role, content: m.content }).collect(),
        model: old.model,
        max_tokens: old.max_tokens,
        temperature: old.temperature,
    }
}

fn response(new: Result<WitResponse, WitAiError>) -> Result<ai::Response, ai::AiError> {
    match new {
        Ok(r) => Ok(ai::Response {
            text: r.text,
            provider: r.provider,
            model: r.model,
            cached: r.cached,
            usage: ai::Usage { input_tokens: r.usage.input_tokens, output_tokens: r.usage.output_tokens },
            latency_ms: r.latency_ms,
        }),
        Err(WitAiError::Denied) => Err(ai::AiError::Denied),
        Err(WitAiError::OverBudget(m)) => Err(ai::AiError::OverBudget(m)),
        Err(WitAiError::Provider(m)) => Err(ai::AiError::Provider(m)),
    }
}

impl<'a, C: Send> ai::Host for View<'a, C>
where
    View<'a, C>: AiHost,
{
    async fn query(&mut self, req: ai::Request) -> Result<ai::Response, ai::AiError> {
        response(AiHost::query(self, request(req)).await)
    }

    async fn batch(&mut self, reqs: Vec<ai::Request>) -> Vec<Result<ai::Response, ai::AiError>> {
        let reqs = reqs.into_iter().map(request).collect();
        AiHost::batch(self, reqs).await.into_iter().map(response).collect()
    }

    async fn query_with_fallback(
        &mut self,
        req: ai::Request,
        providers: Vec<String>,
    ) -> Result<ai::Response, ai::AiError> {
        response(AiHost::query_with_fallback(self, request(req), providers).await)
    }
}
