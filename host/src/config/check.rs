//! The checks serde cannot make: values out of range and one section naming
//! another. Each names the key it is about, so the error shows its line.

use super::{Config, MAX_KEY_BYTES_LIMIT, redact};

/// A value the config may not have: where (a path of keys) and why.
pub(super) struct Bad {
    /// The key, as a path from the root (`["ai", "providers", "x",
    /// "max_concurrency"]`).
    pub at: Vec<String>,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// `Err` at `at` unless `ok`.
fn require(ok: bool, at: &[&str], message: impl FnOnce() -> String) -> Result<(), Bad> {
    match ok {
        true => Ok(()),
        false => Err(Bad { at: at.iter().map(|k| (*k).to_owned()).collect(), message: message() }),
    }
}

/// The first of `keys` of table `table` whose value is zero, if any.
fn first_zero<'k>(table: &'k str, keys: &[(&'k str, u64)]) -> Result<(), Bad> {
    match keys.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => require(false, &[table, key], || format!("[{table}] {key} must be at least 1")),
        None => Ok(()),
    }
}

impl Config {
    /// Every range and cross-section rule.
    pub(super) fn check(&self) -> Result<(), Bad> {
        let l = &self.limits;
        first_zero(
            "limits",
            &[
                ("memory_mb", l.memory_mb),
                ("deadline_ms", l.deadline_ms),
                ("max_memory_mb", l.max_memory_mb),
                ("max_deadline_ms", l.max_deadline_ms),
            ],
        )?;
        first_zero("loader", &[("max_workers", self.loader.max_workers.map_or(1, |n| n as u64))])?;
        let c = &self.cache;
        first_zero(
            "cache",
            &[
                ("l1_entries", c.l1_entries as u64),
                ("l2_entries", c.l2_entries as u64),
                ("max_key_bytes", c.max_key_bytes as u64),
                ("max_value_kb", c.max_value_kb),
            ],
        )?;
        require(c.max_key_bytes <= MAX_KEY_BYTES_LIMIT, &["cache", "max_key_bytes"], || {
            format!("[cache] max_key_bytes may be at most {MAX_KEY_BYTES_LIMIT} (LMDB's key limit)")
        })?;
        first_zero("ai", &[("concurrency", self.ai.concurrency.map_or(1, |n| n as u64))])?;
        for (name, provider) in &self.ai.providers {
            let at = ["ai", "providers", name.as_str(), "max_concurrency"];
            require(provider.max_concurrency > 0, &at, || {
                format!("[ai.providers.{name}] max_concurrency must be at least 1")
            })?;
        }
        if let Some(name) = &self.ai.default_provider {
            require(self.ai.providers.contains_key(name), &["ai", "default_provider"], || {
                format!("[ai] default_provider = {name:?} names no [ai.providers.{name}] table")
            })?;
        }
        first_zero("storage", &[("map_size_mb", self.storage.map_size_mb)])?;
        let d = &self.downloads;
        first_zero(
            "downloads",
            &[
                ("max_mb", d.max_mb),
                ("max_unpacked_mb", d.max_unpacked_mb),
                ("max_entries", d.max_entries),
                ("timeout_secs", d.timeout_secs),
            ],
        )?;
        first_zero("mcp", &[("max_concurrent_calls", self.mcp.max_concurrent_calls as u64)])?;
        let cold = &self.storage.cold;
        let schemes = ["redis://", "rediss://", "redis+unix://", "unix://"];
        require(cold == "lmdb" || schemes.iter().any(|scheme| cold.starts_with(scheme)), &["storage", "cold"], || {
            format!(
                "[storage] cold = {:?}: expected \"lmdb\" or a URL starting with redis://, rediss:// or redis+unix://",
                redact(cold)
            )
        })?;
        let r = &self.storage.redis;
        let redis = |key| ["storage", "redis", key];
        for (key, value) in [
            ("pool_size", r.pool_size as u64),
            ("timeout_ms", r.timeout_ms),
            ("connect_timeout_ms", r.connect_timeout_ms),
        ] {
            require(value > 0, &redis(key), || format!("[storage.redis] {key} must be at least 1"))?;
        }
        require(!r.key_prefix.is_empty() && !r.key_prefix.contains(['{', '}']), &redis("key_prefix"), || {
            "[storage.redis] key_prefix must be non-empty and without `{` or `}`".to_owned()
        })
    }
}
