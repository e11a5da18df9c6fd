//! `isaac:plugin@0.2.0`, still linked: the bindings of the frozen 0.2.0
//! package (`host/wit-0.2.0/`) and an adapter that serves each of its
//! imports with the current implementation. The types are the same as
//! 0.3.0's; what a 0.2.0 plugin cannot see is what 0.3.0 added (streamed
//! answers, and stdio as a filter: its prints are captured as before).

#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "wit-0.2.0",
        world: "isaac:plugin/plugin",
        imports: { "isaac:plugin/log.log": async | trappable, default: async },
        exports: { default: async },
    });
}

pub(crate) use generated::PluginPre;
pub(crate) use generated::isaac::plugin::{ai, cache, log, types};

use super::View;
use super::generated::isaac::plugin as next;

adapt_unchanged!();

fn cache_error(error: next::cache::CacheError) -> cache::CacheError {
    match error {
        next::cache::CacheError::Denied => cache::CacheError::Denied,
        next::cache::CacheError::TooLarge(m) => cache::CacheError::TooLarge(m),
        next::cache::CacheError::Quota(m) => cache::CacheError::Quota(m),
        next::cache::CacheError::Storage(m) => cache::CacheError::Storage(m),
    }
}

fn expiry(old: cache::Expiry) -> next::cache::Expiry {
    match old {
        cache::Expiry::DefaultTtl => next::cache::Expiry::DefaultTtl,
        cache::Expiry::Seconds(s) => next::cache::Expiry::Seconds(s),
        cache::Expiry::Never => next::cache::Expiry::Never,
    }
}

impl<'a, C: Send> cache::Host for View<'a, C>
where
    View<'a, C>: next::cache::Host,
{
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, cache::CacheError> {
        next::cache::Host::get(self, key).await.map_err(cache_error)
    }

    async fn set(&mut self, key: String, value: Vec<u8>, expires: cache::Expiry) -> Result<(), cache::CacheError> {
        next::cache::Host::set(self, key, value, expiry(expires)).await.map_err(cache_error)
    }

    async fn delete(&mut self, key: String) -> Result<bool, cache::CacheError> {
        next::cache::Host::delete(self, key).await.map_err(cache_error)
    }

    async fn increment(&mut self, key: String, delta: i64) -> Result<i64, cache::CacheError> {
        next::cache::Host::increment(self, key, delta).await.map_err(cache_error)
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
        expires: cache::Expiry,
    ) -> Result<bool, cache::CacheError> {
        next::cache::Host::compare_and_swap(self, key, expected, new, expiry(expires)).await.map_err(cache_error)
    }

    async fn invalidate(&mut self, pattern: String) -> Result<u32, cache::CacheError> {
        next::cache::Host::invalidate(self, pattern).await.map_err(cache_error)
    }
}
