//! `[storage]` and `[storage.redis]`: the LMDB environment and where the
//! cache's cold tier lives.

use serde::Deserialize;

/// `[storage]`: the LMDB environment under `$ISAAC_HOME/state`, and where
/// the cache's cold tier lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The LMDB map size in MiB: the most the state may hold. Address space,
    /// not disk; set once when a process opens the state.
    pub map_size_mb: u64,
    /// The cache's cold tier: `lmdb` (embedded, the default) or a Redis or
    /// Valkey URL (`redis://HOST:PORT/DB`, `rediss://` for TLS,
    /// `redis+unix:///PATH`) shared by every host that names it.
    pub cold: String,
    /// `[storage.redis]`: how to use the Redis named by `cold`.
    pub redis: RedisConfig,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            map_size_mb: crate::state::DEFAULT_MAP_SIZE_MB,
            cold: "lmdb".to_owned(),
            redis: RedisConfig::default(),
        }
    }
}

impl StorageConfig {
    /// The Redis URL of the cold tier, if it is not the embedded LMDB.
    pub fn redis_url(&self) -> Option<&str> {
        (self.cold != "lmdb").then_some(self.cold.as_str())
    }
}

/// `url` with any password replaced by `***`, for messages. A URL that
/// does not parse shows its scheme only (what follows could hold one).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://... (not a URL)"),
            None => url.to_owned(),
        },
    }
}

/// `[storage.redis]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// What every key isaac writes starts with (an ACL user can be limited
    /// to it: `~isaac:*`).
    pub key_prefix: String,
    /// The ACL user, if not `default`.
    pub username: Option<String>,
    /// The environment variable that holds the password (never the password
    /// itself: config files get shared).
    pub password_env: Option<String>,
    /// Connections per process (each multiplexes concurrent operations).
    pub pool_size: usize,
    /// The most one operation may take, in milliseconds; then it fails with
    /// a `storage` error.
    pub timeout_ms: u64,
    /// The most connecting may take, in milliseconds.
    pub connect_timeout_ms: u64,
    /// What to do when Redis cannot be reached at first use: `error`, or
    /// `local` (the home's LMDB, with one warning).
    pub fallback: Fallback,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            key_prefix: "isaac:".to_owned(),
            username: None,
            password_env: None,
            pool_size: 1,
            timeout_ms: 50,
            connect_timeout_ms: 1000,
            fallback: Fallback::Error,
        }
    }
}

/// `[storage.redis] fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Fail every cache operation with an error naming the URL.
    Error,
    /// Use the home's LMDB instead, with one warning.
    Local,
}
