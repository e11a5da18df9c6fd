//! `isaac:plugin/cache`: the plugin's own namespace of the host's
//! [`MultiLevelCache`].
//!
//! A call gets a [`CacheCtx`] only when the plugin was granted `cache`;
//! without it every function returns `denied`, an error the guest
//! can handle. Keys are prefixed with the plugin's namespace by the host, so
//! a crafted key or pattern (`../`, the separator, `*`) only ever reaches
//! the plugin's own entries. A plugin's live entries may hold at most its
//! quota (`[cache] plugin_quota_mb`, or `[plugins.NAME] cache_quota_mb`); a
//! `set` past it is a `quota` error naming the quota and how to raise it.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Linker;

use super::{CallData, Capability, GrantInputs, NoConfig, Refusal, View, Viewed, view};
use crate::bindings::{self, CacheHost, WitCacheError, WitExpiry};
use crate::cache::{CacheError, Expiry, MultiLevelCache, Namespace};

/// A plugin's handle on the cache: the cache, its namespace and its quota.
#[derive(Clone)]
pub struct CacheCtx {
    cache: Arc<MultiLevelCache>,
    plugin: String,
    namespace: Namespace,
    quota: u64,
}

impl std::fmt::Debug for CacheCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheCtx").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

impl Capability for CacheCtx {
    const NAME: &'static str = "cache";
    const INTERFACES: &'static [&'static str] = &["isaac:plugin/cache"];
    /// `cache = true`.
    type Permission = bool;
    type Config = NoConfig;
    type Grant = CacheCtx;

    fn describe(asked: &bool) -> Vec<String> {
        asked.then(|| "its own namespace of the cache".to_owned()).into_iter().collect()
    }

    /// Granted `cache`: its namespace, within its quota.
    fn grant(asked: &bool, inputs: &GrantInputs<'_>) -> Option<CacheCtx> {
        let quota = inputs.settings.cache_quota_for(inputs.plugin);
        asked.then(|| CacheCtx::for_plugin((inputs.cache)(), inputs.plugin, quota))
    }

    fn open(grant: &CacheCtx) -> Self {
        grant.clone()
    }

    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        bindings::add_cache::<T, Viewed<Self>>(linker, view::<T, Self>)
    }
}

impl CacheCtx {
    /// Access to `cache` in the namespace of plugin `plugin`, whose live
    /// entries may hold `quota` bytes.
    pub fn for_plugin(cache: Arc<MultiLevelCache>, plugin: &str, quota: u64) -> Self {
        CacheCtx { cache, plugin: plugin.to_owned(), namespace: Namespace::plugin(plugin), quota }
    }

    fn to_wit(&self, error: CacheError) -> WitCacheError {
        match error {
            CacheError::EmptyKey | CacheError::KeyTooLong { .. } | CacheError::ValueTooLarge { .. } => {
                WitCacheError::TooLarge(error.to_string())
            }
            CacheError::Quota { used, more, limit, .. } => WitCacheError::Quota(format!(
                "plugin `{}` holds {used} bytes in the cache and {more} more would pass its quota of {} MiB; the user can raise it with `cache_quota_mb` under [plugins.{}] in config.toml",
                self.plugin,
                limit >> 20,
                self.plugin
            )),
            CacheError::Overflow { .. } => WitCacheError::TooLarge(error.to_string()),
            CacheError::NotAnInteger { .. } | CacheError::Store(_) => {
                WitCacheError::Storage(crate::error::one_line(&error))
            }
        }
    }
}

fn expiry_of(expiry: WitExpiry) -> Expiry {
    match expiry {
        WitExpiry::DefaultTtl => Expiry::Default,
        WitExpiry::Seconds(s) => Expiry::After(Duration::from_secs(u64::from(s))),
        WitExpiry::Never => Expiry::Never,
    }
}

impl Refusal for WitCacheError {
    fn refused() -> Self {
        WitCacheError::Denied
    }
}

impl CacheHost for View<'_, CacheCtx> {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        let value = access.cache.get(&access.namespace, &key).map_err(|e| access.to_wit(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    async fn set(&mut self, key: String, value: Vec<u8>, expiry: WitExpiry) -> Result<(), WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        let quota = Some(access.quota);
        access.cache.set_within(&access.namespace, &key, &value, expiry_of(expiry), quota).map_err(|e| access.to_wit(e))
    }

    async fn increment(&mut self, key: String, delta: i64) -> Result<i64, WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        access.cache.increment(&access.namespace, &key, delta, Some(access.quota)).map_err(|e| access.to_wit(e))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
        expiry: WitExpiry,
    ) -> Result<bool, WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        let (ns, quota) = (&access.namespace, Some(access.quota));
        access
            .cache
            .compare_and_swap(ns, &key, expected.as_deref(), &new, expiry_of(expiry), quota)
            .map_err(|e| access.to_wit(e))
    }

    async fn delete(&mut self, key: String) -> Result<bool, WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        access.cache.delete(&access.namespace, &key).map_err(|e| access.to_wit(e))
    }

    async fn invalidate(&mut self, pattern: String) -> Result<u32, WitCacheError> {
        let access = &*self.access::<WitCacheError>()?;
        access.cache.invalidate(&access.namespace, &pattern).map_err(|e| access.to_wit(e))
    }
}
