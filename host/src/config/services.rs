//! `[downloads]`, `[mcp]` and `[metrics]`.

use serde::Deserialize;

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
