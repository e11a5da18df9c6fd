//! The user's `config.toml` (`$ISAAC_HOME/config.toml`, or `--config FILE`).
//!
//! ```toml
//! [loader]
//! max_workers = 2          # compile threads; default: all cores (`--jobs` wins)
//!
//! [limits]                 # every plugin's defaults, per call
//! memory_mb = 64
//! deadline_ms = 10000
//! max_memory_mb = 1024     # the host's maximum: caps every plugin's memory
//! max_deadline_ms = 60000  # the most a plugin.toml may ask for
//!
//! [plugins.hello]          # one plugin's overrides (win over its plugin.toml,
//! memory_mb = 128          # and may pass max_deadline_ms: the user decides)
//! deadline_ms = 2000
//! ```
//!
//! A missing default file means "all defaults"; unknown keys are errors with
//! file and line.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::tomlfile::{self, TomlError};

/// Default memory per call, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 64;
/// Default deadline per call, in milliseconds.
pub const DEFAULT_DEADLINE_MS: u64 = 10_000;
/// Default cap on any plugin's memory, in MiB.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 1024;
/// Default cap on the deadline a `plugin.toml` may ask for, in milliseconds.
pub const DEFAULT_MAX_DEADLINE_MS: u64 = 60_000;
/// The deadline of a `metadata` call (at install and indexing), whatever the
/// plugin asks for: describing itself is quick, and an install must not hang.
pub const METADATA_DEADLINE: Duration = Duration::from_secs(5);

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[loader]`
    #[serde(default)]
    pub loader: LoaderConfig,
    /// `[limits]`
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[plugins.NAME]`
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginOverrides>,
    /// `[cache]`
    #[serde(default)]
    pub cache: CacheConfig,
    /// `[storage]`
    #[serde(default)]
    pub storage: StorageConfig,
    /// `[ai]`
    #[serde(default)]
    pub ai: AiConfig,
    /// `[metrics]`
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// `[http]`
    #[serde(default)]
    pub http: HttpConfig,
    /// `[mcp]`
    #[serde(default)]
    pub mcp: McpConfig,
    /// `[downloads]`
    #[serde(default)]
    pub downloads: DownloadsConfig,
}

/// `[downloads]`: the bounds of `isaac plugins add` from a URL or registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DownloadsConfig {
    /// Most MiB downloaded (an archive; an artifact's layers together).
    pub max_mb: u64,
    /// Most MiB an archive unpacks to.
    pub max_unpacked_mb: u64,
    /// Most entries in an archive.
    pub max_entries: u64,
    /// Most seconds a whole download may take.
    pub timeout_secs: u64,
}

impl Default for DownloadsConfig {
    fn default() -> Self {
        DownloadsConfig { max_mb: 64, max_unpacked_mb: 256, max_entries: 1000, timeout_secs: 120 }
    }
}

/// `[mcp]`: what `isaac mcp` offers an MCP client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// The plugins whose commands are tools; unset: every installed plugin.
    pub expose: Option<Vec<String>>,
    /// Tool calls running at once; more wait their turn.
    pub max_concurrent_calls: usize,
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig { expose: None, max_concurrent_calls: 8 }
    }
}

/// `[http]`: the network settings of plugins' outbound HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM file of CA certificates trusted besides the webpki roots (a
    /// company proxy's, a test server's).
    pub ca_file: Option<std::path::PathBuf>,
    /// Fixed resolutions, like curl's `--resolve`: a name to its addresses.
    /// The addresses are checked as any resolver's answer.
    #[serde(default)]
    pub resolve: BTreeMap<String, Vec<std::net::IpAddr>>,
}

/// `[metrics]`: the run history `isaac stats` shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Run records kept; the oldest go first.
    pub history: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { history: 1000 }
    }
}

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions (OpenAI, xAI Grok, Ollama, vLLM,
    /// llama.cpp server, OpenRouter).
    Openai,
    /// Anthropic Messages.
    Anthropic,
}

/// `[ai.providers.NAME]`: one AI provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The wire format.
    pub kind: ProviderKind,
    /// The API root: `https://api.openai.com/v1` (the client adds
    /// `/chat/completions`), or for Anthropic the host root
    /// (`https://api.anthropic.com`; the client adds `/v1/messages`).
    pub base_url: String,
    /// The environment variable that holds the API key; none for local
    /// servers such as Ollama.
    pub api_key_env: Option<String>,
    /// The model used when a request names none.
    pub model: String,
    /// Dollars per million input tokens.
    #[serde(default)]
    pub price_input_per_mtok: f64,
    /// Dollars per million output tokens.
    #[serde(default)]
    pub price_output_per_mtok: f64,
    /// Per-request timeout in milliseconds.
    #[serde(default = "default_request_timeout_ms")]
    pub timeout_ms: u64,
    /// `max_tokens` sent when a request sets none (Anthropic requires one).
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
    /// The most requests on the wire to this provider at once. A 429 lowers
    /// it for a while (halving), answers raise it back.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Other models a request may name, each with its prices. A plugin may
    /// name only `model` and these; the user may name any (priced as `model`).
    #[serde(default)]
    pub models: Vec<ModelConfig>,
}

impl ProviderConfig {
    /// A provider of `kind` at `base_url` answering with `model`, free, with
    /// the default timeout, `max_tokens` and concurrency.
    pub fn new(kind: ProviderKind, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ProviderConfig {
            kind,
            base_url: base_url.into(),
            api_key_env: None,
            model: model.into(),
            price_input_per_mtok: 0.0,
            price_output_per_mtok: 0.0,
            timeout_ms: default_request_timeout_ms(),
            default_max_tokens: default_max_tokens(),
            max_concurrency: default_max_concurrency(),
            models: Vec::new(),
        }
    }
}

/// One entry of `[ai.providers.NAME] models = [...]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model's name, as the provider spells it.
    pub name: String,
    /// Dollars per million input tokens.
    pub price_input_per_mtok: f64,
    /// Dollars per million output tokens.
    pub price_output_per_mtok: f64,
}

fn default_request_timeout_ms() -> u64 {
    60_000
}

fn default_max_tokens() -> u32 {
    1024
}

fn default_max_concurrency() -> usize {
    64
}

/// `[ai]`: providers and the router's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    /// The provider used when a request names none; default: the only one.
    pub default_provider: Option<String>,
    /// The most requests of one batch in flight at once, across providers;
    /// default: no cap beyond each provider's `max_concurrency`.
    pub concurrency: Option<usize>,
    /// Retries after a 429, a 5xx or a connection error.
    pub max_retries: u32,
    /// The first retry's delay in milliseconds; it doubles, with jitter.
    pub retry_base_ms: u64,
    /// How long a cached answer is reused, in seconds (0: no response cache).
    pub cache_ttl_secs: u64,
    /// The most spent per UTC day, in dollars, across the CLI and every plugin.
    pub daily_budget_usd: Option<f64>,
    /// Whether every plugin and the user share one response cache (a plugin
    /// then sees answers to other plugins' prompts); default: each its own.
    pub shared_response_cache: bool,
    /// The providers, by name.
    pub providers: BTreeMap<String, ProviderConfig>,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            default_provider: None,
            concurrency: None,
            max_retries: 2,
            retry_base_ms: 200,
            cache_ttl_secs: 86_400,
            daily_budget_usd: None,
            shared_response_cache: false,
            providers: BTreeMap::new(),
        }
    }
}

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

/// `url` with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
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

/// `[loader]`: how plugins are compiled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoaderConfig {
    /// Compile threads; default: all cores.
    pub max_workers: Option<usize>,
    /// Tiered compilation: big components run on Winch code at once while
    /// Cranelift compiles them in the background.
    pub tiered: bool,
    /// The size over which a component is compiled with Winch first, in KiB.
    pub baseline_above_kb: u64,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig { max_workers: None, tiered: true, baseline_above_kb: 1024 }
    }
}

/// `[limits]`: defaults for every plugin and the host's maximum.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Default memory per call, in MiB.
    pub memory_mb: u64,
    /// Default deadline per call, in milliseconds.
    pub deadline_ms: u64,
    /// The most memory any plugin may be given, in MiB.
    pub max_memory_mb: u64,
    /// The longest deadline a `plugin.toml` may ask for, in milliseconds
    /// (`[plugins.NAME] deadline_ms` may go past it).
    pub max_deadline_ms: u64,
    /// The longest result a call may return, in KiB.
    pub max_output_kb: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            memory_mb: DEFAULT_MEMORY_MB,
            deadline_ms: DEFAULT_DEADLINE_MS,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
            max_deadline_ms: DEFAULT_MAX_DEADLINE_MS,
            max_output_kb: 4096,
        }
    }
}

/// `[plugins.NAME]`: one plugin's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginOverrides {
    /// Memory per call, in MiB.
    pub memory_mb: Option<u64>,
    /// Deadline per call, in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Its cache quota, in MiB.
    pub cache_quota_mb: Option<u64>,
}

impl Config {
    /// Read `path`. A missing file is all defaults when `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Self, TomlError> {
        if !required && !path.exists() {
            return Ok(Config::default());
        }
        let config: Config = tomlfile::read(path)?;
        config.check(path)?;
        Ok(config)
    }

    /// Parse and check `text`, the contents of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, TomlError> {
        let config: Config = tomlfile::parse(path, text)?;
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<(), TomlError> {
        let bad = |message: String| TomlError { path: path.to_owned(), position: None, message };
        let l = &self.limits;
        if l.memory_mb == 0 || l.max_memory_mb == 0 || l.deadline_ms == 0 || l.max_deadline_ms == 0 {
            return Err(bad("[limits] values must be greater than 0".into()));
        }
        if self.loader.max_workers == Some(0) {
            return Err(bad("[loader] max_workers must be at least 1".into()));
        }
        let c = &self.cache;
        if c.l1_entries == 0 || c.l2_entries == 0 || c.max_key_bytes == 0 || c.max_value_kb == 0 {
            return Err(bad("[cache] sizes must be greater than 0".into()));
        }
        if c.max_key_bytes > MAX_KEY_BYTES_LIMIT {
            return Err(bad(format!("[cache] max_key_bytes may be at most {MAX_KEY_BYTES_LIMIT} (LMDB's key limit)")));
        }
        if self.ai.concurrency == Some(0) {
            return Err(bad("[ai] concurrency must be at least 1".into()));
        }
        if let Some((name, _)) = self.ai.providers.iter().find(|(_, p)| p.max_concurrency == 0) {
            return Err(bad(format!("[ai.providers.{name}] max_concurrency must be at least 1")));
        }
        if let Some(name) = &self.ai.default_provider
            && !self.ai.providers.contains_key(name)
        {
            return Err(bad(format!("[ai] default_provider = {name:?} names no [ai.providers.{name}] table")));
        }
        if self.storage.map_size_mb < 1 {
            return Err(bad("[storage] map_size_mb must be at least 1".into()));
        }
        let d = &self.downloads;
        if d.max_mb == 0 || d.max_unpacked_mb == 0 || d.max_entries == 0 || d.timeout_secs == 0 {
            return Err(bad("[downloads] values must be greater than 0".into()));
        }
        if self.mcp.max_concurrent_calls == 0 {
            return Err(bad("[mcp] max_concurrent_calls must be at least 1".into()));
        }
        let st = &self.storage;
        let schemes = ["redis://", "rediss://", "redis+unix://", "unix://"];
        if st.cold != "lmdb" && !schemes.iter().any(|scheme| st.cold.starts_with(scheme)) {
            return Err(bad(format!(
                "[storage] cold = {:?}: expected \"lmdb\" or a URL starting with redis://, rediss:// or redis+unix://",
                redact(&st.cold)
            )));
        }
        let r = &st.redis;
        if r.pool_size == 0 || r.timeout_ms == 0 || r.connect_timeout_ms == 0 {
            return Err(bad("[storage.redis] pool_size, timeout_ms and connect_timeout_ms must be at least 1".into()));
        }
        if r.key_prefix.is_empty() || r.key_prefix.contains(['{', '}']) {
            return Err(bad("[storage.redis] key_prefix must be non-empty and without `{` or `}`".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_default_file_is_defaults_but_a_named_one_is_an_error() {
        let p = Path::new("/nonexistent/isaac/config.toml");
        assert_eq!(Config::load(p, false).unwrap(), Config::default());
        assert!(Config::load(p, true).unwrap_err().message.contains("cannot read"));
    }

    #[test]
    fn zero_limits_are_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        std::fs::write(&p, "[limits]\nmemory_mb = 0\n").unwrap();
        assert!(Config::load(&p, true).unwrap_err().message.contains("greater than 0"));
    }
}
