//! `[loader]`, `[limits]` and `[plugins.NAME]`: how plugins are compiled
//! and what each call may use.

use std::time::Duration;

use serde::Deserialize;

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
    /// The most disk the compiled functions shared between plugins may
    /// take, in MiB (`0`: no function cache).
    pub function_cache_mb: u64,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig { max_workers: None, tiered: true, baseline_above_kb: 1024, function_cache_mb: 512 }
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
