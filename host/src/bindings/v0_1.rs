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

pub(crate) use generated::PluginPre;
pub(crate) use generated::isaac::plugin::{ai, cache, log, types};

use super::View;
use super::v0_2 as next;

adapt_unchanged!();

fn cache_error(error: next::cache::CacheError) -> cache::CacheError {
    match error {
        next::cache::CacheError::Denied => cache::CacheError::Denied,
        next::cache::CacheError::TooLarge(m) | next::cache::CacheError::Quota(m) => cache::CacheError::TooLarge(m),
        next::cache::CacheError::Storage(m) => cache::CacheError::Storage(m),
    }
}

impl<'a, C: Send> cache::Host for View<'a, C>
where
    View<'a, C>: next::cache::Host,
{
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, cache::CacheError> {
        next::cache::Host::get(self, key).await.map_err(cache_error)
    }

    async fn set(&mut self, key: String, value: Vec<u8>, expiry: cache::Expiry) -> Result<(), cache::CacheError> {
        let expiry = match expiry {
            cache::Expiry::DefaultTtl => next::cache::Expiry::DefaultTtl,
            cache::Expiry::Seconds(s) => next::cache::Expiry::Seconds(s),
            cache::Expiry::Never => next::cache::Expiry::Never,
        };
        next::cache::Host::set(self, key, value, expiry).await.map_err(cache_error)
    }

    async fn delete(&mut self, key: String) -> Result<bool, cache::CacheError> {
        next::cache::Host::delete(self, key).await.map_err(cache_error)
    }

    async fn invalidate(&mut self, pattern: String) -> Result<u32, cache::CacheError> {
        next::cache::Host::invalidate(self, pattern).await.map_err(cache_error)
    }
}
