//! `[cache]`: the three-tier cache.

use serde::Deserialize;

/// How a cache write reaches the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Each write is its own LMDB commit without fsync: a killed process
    /// loses nothing it acknowledged; an OS crash may lose recent writes.
    #[default]
    Fast,
    /// Each write is fsynced (about 0.5 ms a write on this machine).
    Durable,
}

/// `[cache]`: the three-tier cache.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// L1 (hot) capacity in entries.
    pub l1_entries: usize,
    /// L1 capacity in MiB of keys and values.
    pub l1_max_mb: u64,
    /// L2 (warm) capacity in entries.
    pub l2_entries: usize,
    /// L2 capacity in MiB.
    pub l2_max_mb: u64,
    /// TTL of an entry set with the default expiry, in seconds.
    pub default_ttl_secs: u64,
    /// The longest key, in bytes.
    pub max_key_bytes: usize,
    /// The largest value, in KiB.
    pub max_value_kb: u64,
    /// `fast` (default) or `durable`.
    pub durability: Durability,
    /// How often, at most, a process checks for other processes' writes
    /// (milliseconds): the bound on staleness in a long-lived process.
    pub freshness_ms: u64,
    /// How often, at most, expired entries are swept from L3 (seconds).
    pub sweep_interval_secs: u64,
    /// The most each plugin's live entries may hold (keys and values), in
    /// MiB; `[plugins.NAME] cache_quota_mb` overrides it for one plugin.
    pub plugin_quota_mb: u64,
}

/// The longest key the cache accepts whatever the config says: LMDB's key
/// limit (511 bytes) less room for the namespace.
pub const MAX_KEY_BYTES_LIMIT: usize = 400;

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            l1_entries: 100,
            l1_max_mb: 16,
            l2_entries: 1000,
            l2_max_mb: 64,
            default_ttl_secs: 3600,
            max_key_bytes: 256,
            max_value_kb: 1024,
            durability: Durability::Fast,
            freshness_ms: 100,
            sweep_interval_secs: 3600,
            plugin_quota_mb: 64,
        }
    }
}
