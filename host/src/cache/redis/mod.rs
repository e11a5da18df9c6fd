//! The cold tier in a shared Redis or Valkey (`[storage] cold =
//! "redis://..."`), so that every host naming the same server shares cache
//! entries, AI answers and the daily AI spend.
//!
//! - **Client**: the `redis` crate's [`ConnectionManager`](::redis::aio::ConnectionManager) over RESP3: one
//!   multiplexed connection per pool slot that reconnects by itself. It runs
//!   on a small runtime of its own; each [`ColdStore`](super::store::ColdStore) call hands it one
//!   operation and waits at most `[storage.redis] timeout_ms` for the
//!   answer, so a lost server is a `storage` error, never a hang.
//! - **Connecting** happens at the first operation, not when the host opens:
//!   `isaac run` of a plugin without the cache never connects. An
//!   unreachable server is an error naming the URL (password redacted), or,
//!   with `fallback = "local"`, the home's LMDB with one warning
//!   ([`LocalFallback`], a decorator over this store; [`open`] picks).
//! - **Layout and scripts**: [`keys`] and [`scripts`]. An entry's expiry is
//!   its key's TTL (`SET … PXAT`), so Redis expires entries itself; the
//!   quota is kept by the scripts, which reclaim expired entries' bytes
//!   from a per-namespace sorted set before they check it.
//! - **Freshness**: the first connection turns on `CLIENT TRACKING ON BCAST
//!   PREFIX <prefix>d: NOLOOP`; every invalidation the server pushes (another
//!   client changed an entry) bumps this process's generation, so its memory
//!   tiers empty within the freshness bound. A lost connection bumps it too,
//!   and again once tracking is back on the new connection.
//! - **Durability** is the server's (`appendonly yes`, `appendfsync
//!   always` for the `durable` mode's guarantee): [`ColdStore::sync`](super::store::ColdStore::sync) has
//!   nothing to add.
//!
//! Files: `client.rs` (the runtime, the pool, connecting), `tracker.rs`
//! (invalidation pushes), `ops.rs` (the `ColdStore` operations),
//! `entries.rs` (the data space, through `scripts.rs`), `scan.rs` (cursors
//! and deleting by pattern), `fallback.rs` (the LMDB fallback).

mod client;
mod entries;
mod error;
mod fallback;
pub mod keys;
mod ops;
mod scan;
mod scripts;
mod tracker;

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::RedisConfig;
pub use crate::config::redact;
pub use error::{ClientError, RedisFailure};
pub use fallback::{LocalFallback, open};
use keys::Keys;

/// L3 in Redis or Valkey. See the module documentation.
pub struct RedisStore {
    url: String,
    settings: RedisConfig,
    keys: Keys,
    runtime: OnceLock<Result<tokio::runtime::Runtime, Arc<std::io::Error>>>,
    link: Mutex<client::Link>,
    next: AtomicUsize,
    generation: Arc<AtomicU64>,
}

impl RedisStore {
    /// A store on the server at `url`, configured by `settings` (whose
    /// `fallback` it does not read: see [`open`]). Connects at the first
    /// operation.
    pub fn new(url: &str, settings: RedisConfig) -> Self {
        RedisStore {
            url: url.to_owned(),
            keys: Keys::new(&settings.key_prefix),
            settings,
            runtime: OnceLock::new(),
            link: Mutex::new(client::Link::Idle),
            next: AtomicUsize::new(0),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// Parse an integer reply given as text.
fn number(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(redact("redis://:s3cret@db:6379/0"), "redis://:***@db:6379/0");
        assert_eq!(redact("rediss://team:s3cret@db/1"), "rediss://team:***@db/1");
        assert_eq!(redact("redis://db:6379/0"), "redis://db:6379/0");
        assert_eq!(redact("redis+unix:///run/redis.sock"), "redis+unix:///run/redis.sock");
        assert_eq!(redact("redis://u:s3cret@[db"), "redis://... (not a URL)");
    }
}
