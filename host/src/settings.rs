//! Every setting, resolved once, in one place: the command line wins over
//! the environment, which wins over the config file, which wins over the
//! defaults. [`Settings`] holds the resolved values and is passed down by
//! reference; nothing else reads flags, `ISAAC_*` variables or the config
//! file's defaults. docs/configuration.md has the same table, and a test
//! checks it against [`Settings::resolve`].
//!
//! | setting | flag | environment | config file | default |
//! |---|---|---|---|---|
//! | home | `--home` | `ISAAC_HOME` | | `$XDG_DATA_HOME/isaac`, else `~/.local/share/isaac` |
//! | config file | `--config` | `ISAAC_CONFIG` | | `$ISAAC_HOME/config.toml` |
//! | jobs | `--jobs` | `ISAAC_JOBS` | `[loader] max_workers` | all cores |
//! | log level | `-q`, `-v` | | | warnings |
//! | pooling | (per command) | | | on |
//! | tiered compilation | | `ISAAC_TIERED` (`0`, `1`) | `[loader] tiered` | on (the CLI) |
//!
//! Per plugin, the limits are `[plugins.NAME]`, then `plugin.toml` (capped),
//! then `[limits]` ([`Settings::limits_for`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bindings::Level;
use crate::config::{Config, METADATA_DEADLINE};
use crate::manifest::Manifest;
use crate::tomlfile::TomlError;

/// The limits one plugin's calls run under, after config, manifest and the
/// host's maximum have had their say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time per call.
    pub deadline: Duration,
}

/// What the command line said; `None` (or zero) where it said nothing.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--home DIR`
    pub home: Option<PathBuf>,
    /// `--config FILE`
    pub config: Option<PathBuf>,
    /// `--jobs N`
    pub jobs: Option<usize>,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`
    pub quiet: bool,
    /// The command's choice of the pooling allocator (long-lived commands
    /// pool; one call does not need to).
    pub pooling: Option<bool>,
    /// The program that compiles optimised code in the background (the
    /// CLI passes its own binary): tiered compilation, unless `[loader]
    /// tiered = false` or `ISAAC_TIERED=0`.
    pub optimizer: Option<PathBuf>,
}

/// Where environment variables come from: the process, or a table in tests.
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for [(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }
}

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No home was named and there is no default.
    #[error("no home directory: set ISAAC_HOME or pass --home DIR")]
    NoHome,
    /// An `ISAAC_*` variable has a value that cannot be used.
    #[error("{name}={value:?}: {why}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The config file is missing (when named) or wrong.
    #[error(transparent)]
    Config(#[from] TomlError),
}

/// Every resolved setting.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The isaac home.
    pub home: PathBuf,
    /// The config file read (it may not exist when not named).
    pub config_file: PathBuf,
    /// Its contents (all defaults when absent).
    pub config: Config,
    /// Compile threads; 0: one per core, counted only when a pool is
    /// built ([`jobs`](Self::jobs)), which a warm `isaac run` never does.
    pub jobs: usize,
    /// The least important plugin log level printed (and the host's own).
    pub log_level: Level,
    /// Whether to try the pooling allocator (it falls back by itself).
    pub pooling: bool,
    /// The program that compiles optimised code in the background (the
    /// `isaac` binary); `None`: no tiered compilation, every component is
    /// compiled optimised at once (libraries, tests, benches).
    pub optimizer: Option<PathBuf>,
    /// The bounds of every download (`[downloads]`), resolved once.
    pub downloads: crate::sources::DownloadLimits,
}

impl Settings {
    /// Resolve `flags` over `env` over the config file over the defaults.
    pub fn resolve(flags: &Flags, env: &(impl Env + ?Sized)) -> Result<Self, SettingsError> {
        let home = match flags.home.clone().or_else(|| env.var("ISAAC_HOME").map(PathBuf::from)) {
            Some(home) => home,
            None => default_home(env).ok_or(SettingsError::NoHome)?,
        };
        let named = flags.config.clone().or_else(|| env.var("ISAAC_CONFIG").map(PathBuf::from));
        let config_file = named.clone().unwrap_or_else(|| home.join("config.toml"));
        let config = Config::load(&config_file, named.is_some())?;
        let env_jobs = match env.var("ISAAC_JOBS") {
            Some(value) => match value.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(SettingsError::BadEnv { name: "ISAAC_JOBS", value, why: "not a number of at least 1" });
                }
            },
            None => None,
        };
        let jobs = flags.jobs.or(env_jobs).or(config.loader.max_workers).unwrap_or(0);
        let log_level = match (flags.quiet, flags.verbose) {
            (true, _) => Level::Error,
            (false, 0) => Level::Warn,
            (false, 1) => Level::Info,
            (false, 2) => Level::Debug,
            (false, _) => Level::Trace,
        };
        let tiered = match env.var("ISAAC_TIERED").as_deref() {
            None => config.loader.tiered,
            Some("1") => true,
            Some("0") => false,
            Some(value) => {
                let value = value.to_owned();
                return Err(SettingsError::BadEnv { name: "ISAAC_TIERED", value, why: "not 0 or 1" });
            }
        };
        let optimizer = flags.optimizer.clone().filter(|_| tiered);
        let downloads = crate::sources::DownloadLimits::from(&config.downloads);
        let pooling = flags.pooling.unwrap_or(true);
        Ok(Settings { home, config_file, config, jobs, log_level, pooling, optimizer, downloads })
    }

    /// Compile threads: as set, or one per core.
    pub fn jobs(&self) -> usize {
        match self.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The settings of home `home` with no flags and no environment: its
    /// config file, then the defaults (for tests, benches and embedders).
    pub fn for_home(home: impl Into<PathBuf>) -> Result<Self, SettingsError> {
        let flags = Flags { home: Some(home.into()), ..Flags::default() };
        Settings::resolve(&flags, &[][..])
    }

    /// The limits for calls into the plugin described by `manifest`: the
    /// config's `[plugins.NAME]` wins over `plugin.toml`, which wins over
    /// `[limits]`. What `plugin.toml` asks is capped (deadline at
    /// `max_deadline_ms`); memory is capped at `max_memory_mb` whoever asks.
    pub fn limits_for(&self, manifest: &Manifest) -> CallLimits {
        let (config, limits) = (&self.config, &self.config.limits);
        let over = config.plugins.get(&manifest.name);
        let memory_mb = over
            .and_then(|o| o.memory_mb)
            .or(manifest.limits.memory_mb)
            .unwrap_or(limits.memory_mb)
            .min(limits.max_memory_mb);
        let asked_deadline = manifest.limits.deadline_ms.map(|ms| ms.min(limits.max_deadline_ms));
        let deadline_ms = over.and_then(|o| o.deadline_ms).or(asked_deadline).unwrap_or(limits.deadline_ms);
        CallLimits { memory_bytes: memory_mb << 20, deadline: Duration::from_millis(deadline_ms) }
    }

    /// The limits of a `metadata` call: [`METADATA_DEADLINE`] and the
    /// default memory (what the plugin may ask for has not been granted yet).
    pub fn metadata_limits(&self) -> CallLimits {
        let limits = &self.config.limits;
        CallLimits { memory_bytes: limits.memory_mb.min(limits.max_memory_mb) << 20, deadline: METADATA_DEADLINE }
    }

    /// The longest result a call may return, in bytes.
    pub fn max_output_bytes(&self) -> usize {
        usize::try_from(self.config.limits.max_output_kb << 10).unwrap_or(usize::MAX)
    }

    /// Plugin `name`'s cache quota in bytes: its `[plugins.NAME]
    /// cache_quota_mb`, else `[cache] plugin_quota_mb`.
    pub fn cache_quota_for(&self, name: &str) -> u64 {
        let config = &self.config;
        let mb = config.plugins.get(name).and_then(|o| o.cache_quota_mb).unwrap_or(config.cache.plugin_quota_mb);
        mb.saturating_mul(1 << 20)
    }

    /// The host's memory maximum, in bytes.
    pub fn max_memory_bytes(&self) -> u64 {
        self.config.limits.max_memory_mb << 20
    }
}

/// `$XDG_DATA_HOME/isaac` (if absolute), else `$HOME/.local/share/isaac`.
fn default_home(env: &(impl Env + ?Sized)) -> Option<PathBuf> {
    let data = env
        .var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.var("HOME").map(|h| Path::new(&h).join(".local/share")))?;
    Some(data.join("isaac"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_DEADLINE_MS, DEFAULT_MAX_DEADLINE_MS, DEFAULT_MEMORY_MB};

    fn manifest(limits: &str) -> Manifest {
        Manifest::parse(Path::new("plugin.toml"), &format!("name = \"p\"\nversion = \"1\"\n{limits}")).unwrap()
    }

    fn with_config(text: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), text).unwrap();
        Settings::for_home(dir.path()).unwrap()
    }

    #[test]
    fn limits_precedence_config_then_manifest_then_default_capped() {
        let settings = with_config("[limits]\nmax_memory_mb = 100\n[plugins.p]\ndeadline_ms = 5\n");
        let l = settings.limits_for(&manifest("[limits]\nmemory_mb = 500\ndeadline_ms = 9\n"));
        assert_eq!(l.memory_bytes, 100 << 20);
        assert_eq!(l.deadline, Duration::from_millis(5));
        let l = with_config("").limits_for(&manifest(""));
        assert_eq!(l.memory_bytes, DEFAULT_MEMORY_MB << 20);
        assert_eq!(l.deadline, Duration::from_millis(DEFAULT_DEADLINE_MS));
    }

    #[test]
    fn a_manifest_cannot_raise_its_deadline_past_the_cap_but_the_user_can() {
        let greedy = manifest("[limits]\ndeadline_ms = 100000000\n");
        let defaults = with_config("");
        assert_eq!(defaults.limits_for(&greedy).deadline, Duration::from_millis(DEFAULT_MAX_DEADLINE_MS));
        let settings = with_config("[limits]\nmax_deadline_ms = 1000\n[plugins.p]\ndeadline_ms = 90000\n");
        assert_eq!(settings.limits_for(&greedy).deadline, Duration::from_millis(90_000));
        assert_eq!(defaults.metadata_limits().deadline, METADATA_DEADLINE);
    }

    #[test]
    fn a_bad_isaac_jobs_is_an_error_naming_it() {
        let env = [("ISAAC_HOME", "/tmp/x"), ("ISAAC_JOBS", "zero")];
        let error = Settings::resolve(&Flags::default(), &env[..]).unwrap_err().to_string();
        assert!(error.contains("ISAAC_JOBS=\"zero\""), "{error}");
    }
}
