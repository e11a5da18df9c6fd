//! How downloads go, as settings resolve them: the bounds of `[downloads]`
//! and where registry credentials come from.

use std::path::PathBuf;
use std::time::Duration;

use super::Secret;
use crate::config::DownloadsConfig;

/// The environment variable holding registry tokens, each for its registry.
pub const TOKEN_VAR: &str = "ISAAC_REGISTRY_TOKEN";

/// Where registry credentials come from, as settings resolved them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The tokens (`ISAAC_REGISTRY_TOKEN`), read when a registry is reached.
    pub tokens: Secret,
    /// Docker's credentials file (`$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`); `None` without either variable.
    pub docker_config: Option<PathBuf>,
}

impl Default for RegistryAuth {
    /// Tokens from `ISAAC_REGISTRY_TOKEN`, no Docker file.
    fn default() -> Self {
        RegistryAuth { tokens: Secret::named(TOKEN_VAR), docker_config: None }
    }
}

/// How downloads go: how much one may take, and whose credentials a
/// registry gets (resolved once, by [`Settings`](crate::Settings)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadLimits {
    /// Most bytes downloaded (an archive; an artifact's blobs together).
    pub max_bytes: u64,
    /// Most bytes an archive unpacks to.
    pub max_unpacked_bytes: u64,
    /// Most entries in an archive.
    pub max_entries: u64,
    /// Most time a whole fetch may take.
    pub timeout: Duration,
    /// Where registry credentials come from.
    pub registries: RegistryAuth,
}

impl DownloadLimits {
    /// The bounds `[downloads]` sets, with credentials from `registries`.
    pub fn new(c: &DownloadsConfig, registries: RegistryAuth) -> Self {
        DownloadLimits {
            max_bytes: c.max_mb.saturating_mul(1 << 20),
            max_unpacked_bytes: c.max_unpacked_mb.saturating_mul(1 << 20),
            max_entries: c.max_entries,
            timeout: Duration::from_secs(c.timeout_secs),
            registries,
        }
    }
}
