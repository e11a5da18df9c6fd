//! `[storage.redis] fallback = "local"`: a decorator over the Redis store
//! that, when the server cannot be reached at the first operation, serves
//! from the home's own LMDB instead, for the rest of the process, with one
//! warning. Once the server was reached, Redis serves every operation and a
//! failure is an error, as without the fallback.

use std::sync::{Arc, OnceLock};

use super::{RedisStore, redact};
use crate::cache::lmdb::LmdbStore;
use crate::cache::store::{Applied, ColdStore, Footprint, Op, Space, StoreError};
use crate::config::{Fallback, RedisConfig};
use crate::error::OneLine;

/// The cold store that `[storage] cold = "redis://..."` names: Redis on
/// `url`, wrapped in a [`LocalFallback`] to `local` (the home's LMDB) when
/// `settings.fallback` is `local`.
pub fn open(url: &str, settings: RedisConfig, local: LmdbStore) -> Arc<dyn ColdStore> {
    let fallback = settings.fallback;
    let redis = RedisStore::new(url, settings);
    match fallback {
        Fallback::Local => Arc::new(LocalFallback::new(redis, local)),
        Fallback::Error => Arc::new(redis),
    }
}

/// Redis, or the home's LMDB if Redis cannot be reached at the first
/// operation. See the module documentation.
pub struct LocalFallback {
    redis: RedisStore,
    local: LmdbStore,
    /// Whether `local` serves: decided at the first operation.
    on_local: OnceLock<bool>,
}

impl LocalFallback {
    /// `redis`, falling back to `local`.
    pub fn new(redis: RedisStore, local: LmdbStore) -> Self {
        LocalFallback { redis, local, on_local: OnceLock::new() }
    }

    /// The store that serves, decided at the first call (connecting to
    /// Redis; other threads wait for the answer): Redis if it answers, else
    /// `local`, with one warning.
    fn serving(&self) -> &dyn ColdStore {
        let on_local = *self.on_local.get_or_init(|| match self.redis.reach() {
            Ok(()) => false,
            Err(error) => {
                tracing::warn!(
                    "{}; using this home's own cache instead ([storage.redis] fallback = \"local\")",
                    OneLine(&error)
                );
                true
            }
        });
        if on_local { &self.local } else { &self.redis }
    }

    /// Whether `local` serves, without deciding (for what must not connect).
    fn is_local(&self) -> bool {
        self.on_local.get() == Some(&true)
    }
}

impl ColdStore for LocalFallback {
    fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.serving().get(space, key)
    }

    fn get_many(&self, space: Space, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.serving().get_many(space, keys)
    }

    fn scan(&self, space: Space, prefix: &str, visit: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError> {
        self.serving().scan(space, prefix, visit)
    }

    fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError> {
        self.serving().apply(ops)
    }

    fn generation(&self) -> Result<u64, StoreError> {
        match self.is_local() {
            true => self.local.generation(),
            false => self.redis.generation(),
        }
    }

    fn footprint(&self) -> Result<Footprint, StoreError> {
        self.serving().footprint()
    }

    fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError> {
        self.serving().namespace_bytes(ns)
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.serving().sync()
    }

    fn describe(&self) -> String {
        match self.is_local() {
            true => format!("{} (Redis at {} unreachable)", self.local.describe(), redact(self.redis.url())),
            false => self.redis.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn an_unreachable_server_leaves_the_local_store_serving_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path(), 64).unwrap();
        let local = || LmdbStore::new(state.clone());
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("redis://127.0.0.1:{port}/0");
        let settings = |fallback| RedisConfig { fallback, connect_timeout_ms: 200, ..RedisConfig::default() };

        let strict = open(&url, settings(Fallback::Error), local());
        let refused = strict.get(Space::Meta, "k").unwrap_err();
        assert!(OneLine(&refused).to_string().contains("could not connect"), "{}", OneLine(&refused));

        let store = open(&url, settings(Fallback::Local), local());
        // Nothing decided before the first operation: no connection yet.
        assert_eq!(store.describe(), format!("redis ({url})"));
        store.apply(&[Op::Put { space: Space::Meta, key: "k", value: b"v", quota: None }]).unwrap();
        assert_eq!(store.get(Space::Meta, "k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(store.generation().unwrap(), local().generation().unwrap());
        assert_eq!(store.describe(), format!("{} (Redis at {url} unreachable)", local().describe()));
    }
}
