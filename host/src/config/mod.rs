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
//! A missing default file means "all defaults"; unknown keys and values out
//! of range are errors with file and line. One file per group of sections;
//! a capability's own table (`[http]`) is declared by the capability and
//! checked by it when the file is read ([`crate::tomlfile::Sections`]).

mod ai;
mod cache;
mod check;
mod limits;
mod services;
mod storage;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

pub use ai::{AiConfig, ModelConfig, ProviderConfig, ProviderKind};
pub use cache::{CacheConfig, Durability, MAX_KEY_BYTES_LIMIT};
pub use limits::{
    DEFAULT_DEADLINE_MS, DEFAULT_MAX_DEADLINE_MS, DEFAULT_MAX_MEMORY_MB, DEFAULT_MEMORY_MB, LimitsConfig, LoaderConfig,
    METADATA_DEADLINE, PluginOverrides,
};
pub use services::{DownloadsConfig, McpConfig, MetricsConfig};
pub use storage::{Fallback, RedisConfig, StorageConfig, redact};

use crate::tomlfile::{self, Document, Owned, Sections, TomlError};

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
    /// `[mcp]`
    #[serde(default)]
    pub mcp: McpConfig,
    /// `[downloads]`
    #[serde(default)]
    pub downloads: DownloadsConfig,
    /// The tables owned by the modules above this one (the capabilities'),
    /// checked by them when the file is read: `[NAME]`'s canonical value.
    #[serde(skip)]
    pub sections: Owned,
}

impl Config {
    /// The tables the file declares itself (every other is a section of a
    /// module above, or an error).
    const OWN_KEYS: &'static [&'static str] =
        &["ai", "cache", "downloads", "limits", "loader", "mcp", "metrics", "plugins", "storage"];

    /// Read `path`; `owners` check the tables that are not the file's own
    /// (the capabilities'). A missing file is all defaults when `required`
    /// is false.
    pub fn load(path: &Path, required: bool, owners: &dyn Sections) -> Result<Self, TomlError> {
        if !required && !path.exists() {
            return Self::defaults(path, owners);
        }
        let text = tomlfile::read_text(path, "the config file")?;
        Self::parse(path, &text, owners)
    }

    /// What a missing file gives: every default, and each section's value
    /// for an absent table. The same as an empty file, without parsing one
    /// (~20 µs of every start).
    fn defaults(path: &Path, owners: &dyn Sections) -> Result<Self, TomlError> {
        Ok(Config { sections: tomlfile::absent_sections(path, owners)?, ..Config::default() })
    }

    /// Parse and check `text`, the contents of `path`.
    pub fn parse(path: &Path, text: &str, owners: &dyn Sections) -> Result<Self, TomlError> {
        let mut document = Document::parse(path, text)?;
        let sections = document.take_sections(&[], Self::OWN_KEYS, owners)?;
        let mut config: Config = document.into()?;
        config.sections = sections;
        if let Err(bad) = config.check() {
            let at: Vec<&str> = bad.at.iter().map(String::as_str).collect();
            return Err(Document::parse(path, text)?.error(&at, bad.message));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
