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
//!
//! [plugins.hello]          # one plugin's overrides (win over its plugin.toml)
//! memory_mb = 128
//! deadline_ms = 2000
//! ```
//!
//! A missing default file means "all defaults"; unknown keys are errors with
//! file and line.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::manifest::Manifest;
use crate::tomlfile::{self, TomlError};

/// Default memory per call, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 64;
/// Default deadline per call, in milliseconds.
pub const DEFAULT_DEADLINE_MS: u64 = 10_000;
/// Default cap on any plugin's memory, in MiB.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 1024;

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
}

/// `[loader]`: how plugins are compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoaderConfig {
    /// Compile threads; default: all cores.
    pub max_workers: Option<usize>,
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
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            memory_mb: DEFAULT_MEMORY_MB,
            deadline_ms: DEFAULT_DEADLINE_MS,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
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
}

/// The limits one plugin's calls run under, after config, manifest and the
/// host's maximum have had their say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time per call.
    pub deadline: Duration,
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

    fn check(&self, path: &Path) -> Result<(), TomlError> {
        let bad = |message: String| TomlError { path: path.to_owned(), position: None, message };
        let l = &self.limits;
        if l.memory_mb == 0 || l.max_memory_mb == 0 || l.deadline_ms == 0 {
            return Err(bad("[limits] values must be greater than 0".into()));
        }
        if self.loader.max_workers == Some(0) {
            return Err(bad("[loader] max_workers must be at least 1".into()));
        }
        Ok(())
    }

    /// The limits for calls into the plugin described by `manifest`: the
    /// config's `[plugins.NAME]` wins over `plugin.toml`, which wins over
    /// `[limits]`; memory is capped at `max_memory_mb`.
    pub fn limits_for(&self, manifest: &Manifest) -> CallLimits {
        let over = self.plugins.get(&manifest.name);
        let memory_mb = over
            .and_then(|o| o.memory_mb)
            .or(manifest.limits.memory_mb)
            .unwrap_or(self.limits.memory_mb)
            .min(self.limits.max_memory_mb);
        let deadline_ms =
            over.and_then(|o| o.deadline_ms).or(manifest.limits.deadline_ms).unwrap_or(self.limits.deadline_ms);
        CallLimits { memory_bytes: memory_mb << 20, deadline: Duration::from_millis(deadline_ms) }
    }

    /// The host's memory maximum, in bytes.
    pub fn max_memory_bytes(&self) -> u64 {
        self.limits.max_memory_mb << 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(limits: &str) -> Manifest {
        Manifest::parse(Path::new("plugin.toml"), &format!("name = \"p\"\nversion = \"1\"\n{limits}")).unwrap()
    }

    #[test]
    fn precedence_config_then_manifest_then_default_capped() {
        let config: Config =
            tomlfile::parse(Path::new("c.toml"), "[limits]\nmax_memory_mb = 100\n[plugins.p]\ndeadline_ms = 5\n")
                .unwrap();
        let l = config.limits_for(&manifest("[limits]\nmemory_mb = 500\ndeadline_ms = 9\n"));
        assert_eq!(l.memory_bytes, 100 << 20);
        assert_eq!(l.deadline, Duration::from_millis(5));
        let l = Config::default().limits_for(&manifest(""));
        assert_eq!(l.memory_bytes, DEFAULT_MEMORY_MB << 20);
        assert_eq!(l.deadline, Duration::from_millis(DEFAULT_DEADLINE_MS));
    }

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
