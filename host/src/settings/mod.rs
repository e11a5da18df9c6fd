//! Every setting, resolved once, in one place: the command line wins over
//! the environment, which wins over the config file, which wins over the
//! defaults. [`Settings`] holds the resolved values behind accessors and is
//! passed down by reference; nothing else reads flags, the config file or
//! the environment isaac reads for itself (the values of the variables a
//! user grants a plugin are read where its call is prepared). A secret is
//! a [`Secret`]: its variable is a setting, its value is read through it
//! when needed. docs/configuration.md has the same table, and a test checks
//! it against [`Settings::resolve`].
//!
//! | setting | flag | environment | config file | default |
//! |---|---|---|---|---|
//! | home | `--home` | `ISAAC_HOME` | | `$XDG_DATA_HOME/isaac`, else `~/.local/share/isaac` |
//! | config file | `--config` | `ISAAC_CONFIG` | | `$ISAAC_HOME/config.toml` |
//! | jobs | `--jobs` | `ISAAC_JOBS` | `[loader] max_workers` | all cores |
//! | log level | `-q`, `-v` | | | warnings |
//! | pooling | (the command) | | | on |
//! | WASI file I/O on the calling thread | (the command) | | | off (on for `isaac run` only) |
//! | tiered compilation | | `ISAAC_TIERED` (`0`, `1`) | `[loader] tiered` | on (the CLI) |
//! | registry tokens | | `ISAAC_REGISTRY_TOKEN` | | none |
//! | Docker credentials | | `DOCKER_CONFIG` | | `~/.docker` |
//! | ~ in file permissions | | `HOME` | | none |
//!
//! Per plugin, the limits are `[plugins.NAME]`, then `plugin.toml` (capped),
//! then `[limits]` ([`Settings::limits_for`]).

mod downloads;
mod env;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

pub use downloads::{DownloadLimits, RegistryAuth, TOKEN_VAR};
pub use env::{Env, ProcessEnv, Secret};

use crate::bindings::Level;
use crate::config::{AiConfig, CacheConfig, Config, LoaderConfig, METADATA_DEADLINE, McpConfig, StorageConfig};
use crate::grants::Request;
use crate::manifest::{Limits, Manifest};
use crate::tomlfile::{Sections, TomlError};

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
    pub jobs: Option<NonZeroUsize>,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`
    pub quiet: bool,
    /// A command that makes one call and exits: it skips reserving the
    /// pooling allocator (~390 µs, against ~3 µs for one call on demand).
    pub one_call: bool,
    /// A command whose one call may do its WASI file I/O on its own thread
    /// (`isaac run`; [`Settings::blocking_files`]).
    pub blocking_files: bool,
    /// A process that makes its one call on the thread that opens the host,
    /// then leaves (`isaac run`; [`Settings::epoch_signal`]).
    pub one_shot: bool,
    /// The program that compiles optimised code in the background (the
    /// CLI passes its own binary): tiered compilation, unless `[loader]
    /// tiered = false` or `ISAAC_TIERED=0`.
    pub optimizer: Option<PathBuf>,
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
    home: PathBuf,
    config_file: PathBuf,
    config: Config,
    jobs: OnceLock<usize>,
    log_level: Level,
    pooling: bool,
    blocking_files: bool,
    one_shot: bool,
    optimizer: Option<PathBuf>,
    downloads: DownloadLimits,
    user_home: Option<PathBuf>,
}

impl Settings {
    /// Resolve `flags` over `env` over the config file over the defaults;
    /// `owners` check the config's tables that are not its own (the
    /// capabilities', `isaac_host::CONFIG_SECTIONS`).
    pub fn resolve(flags: &Flags, env: &(impl Env + ?Sized), owners: &dyn Sections) -> Result<Self, SettingsError> {
        // A relative HOME would make the home and `~` depend on the current
        // folder (a hostile checkout could plant a home with its grants).
        let user_home = env.var("HOME").map(PathBuf::from).filter(|p| p.is_absolute());
        let home = match flags.home.clone().or_else(|| env.var("ISAAC_HOME").map(PathBuf::from)) {
            Some(home) => home,
            None => default_home(env, user_home.as_deref()).ok_or(SettingsError::NoHome)?,
        };
        let named = flags.config.clone().or_else(|| env.var("ISAAC_CONFIG").map(PathBuf::from));
        let config_file = named.clone().unwrap_or_else(|| home.join("config.toml"));
        let config = Config::load(&config_file, named.is_some(), owners)?;
        let env_jobs = match env.var("ISAAC_JOBS") {
            Some(value) => match value.parse::<NonZeroUsize>() {
                Ok(n) => Some(n),
                Err(_) => {
                    return Err(SettingsError::BadEnv { name: "ISAAC_JOBS", value, why: "not a number of at least 1" });
                }
            },
            None => None,
        };
        let jobs = OnceLock::new();
        if let Some(n) = flags.jobs.or(env_jobs).map(NonZeroUsize::get).or(config.loader.max_workers) {
            let _ = jobs.set(n.max(1));
        }
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
        let docker = env.var("DOCKER_CONFIG").map(PathBuf::from).or_else(|| Some(user_home.as_ref()?.join(".docker")));
        let registries =
            RegistryAuth { tokens: Secret::named(TOKEN_VAR), docker_config: docker.map(|d| d.join("config.json")) };
        let downloads = DownloadLimits::new(&config.downloads, registries);
        let (pooling, blocking_files) = (!flags.one_call, flags.blocking_files);
        Ok(Settings {
            home,
            config_file,
            config,
            jobs,
            log_level,
            pooling,
            blocking_files,
            one_shot: flags.one_shot,
            optimizer,
            downloads,
            user_home,
        })
    }

    /// The settings of home `home` with no flags and no environment: its
    /// config file, then the defaults (for tests, benches and embedders);
    /// `owners` as for [`Settings::resolve`].
    pub fn for_home(home: impl Into<PathBuf>, owners: &dyn Sections) -> Result<Self, SettingsError> {
        let flags = Flags { home: Some(home.into()), ..Flags::default() };
        Settings::resolve(&flags, &[][..], owners)
    }

    /// The isaac home.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The config file read (it may not exist when not named).
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// Compile threads: as set, or one per core (counted on first use,
    /// which a warm `isaac run` never reaches).
    pub fn jobs(&self) -> usize {
        *self.jobs.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The least important plugin log level printed (and the host's own).
    pub fn log_level(&self) -> Level {
        self.log_level
    }

    /// `-q`: print only errors.
    pub fn quiet(&self) -> bool {
        self.log_level == Level::Error
    }

    /// Whether to try the pooling allocator (it falls back by itself).
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// Whether each plugin is linked to only the interfaces it imports, by
    /// a linker of its own, rather than all sharing one that links every
    /// capability: a command of one call (or a few) builds less (~0.2 ms of
    /// `isaac run`'s start-up); a host of many builds the whole one once.
    pub fn linker_per_plugin(&self) -> bool {
        !self.pooling
    }

    /// Whether a call's WASI file operations run on the thread that runs
    /// the call, as `wasmtime run` does, rather than each on tokio's
    /// blocking pool (a thread hop per read: ripgrep over a source tree
    /// took 6× as long). Only for `isaac run`, which makes one call and
    /// exits: a host of several calls (`ask` included) must not stall them
    /// all on one call's slow file (a FIFO in a granted folder, a hung
    /// network mount), and there the deadline still ends such a call.
    pub fn blocking_files(&self) -> bool {
        self.blocking_files
    }

    /// Whether the epoch clock of call deadlines starts as one timer signal
    /// to the thread that opens the host, and a thread only if the call
    /// outlives a tick ([`crate::epoch`]): a process of one call that then
    /// leaves (`isaac run`). Other hosts start a thread at once.
    pub fn epoch_signal(&self) -> bool {
        self.one_shot
    }

    /// The program that compiles optimised code in the background (the
    /// `isaac` binary); `None`: no tiered compilation, every component is
    /// compiled optimised at once (libraries, tests, benches).
    pub fn optimizer(&self) -> Option<&Path> {
        self.optimizer.as_deref()
    }

    /// The bounds of every download (`[downloads]`) and the registries'
    /// credentials.
    pub fn downloads(&self) -> &DownloadLimits {
        &self.downloads
    }

    /// The user's home directory (`$HOME`, if absolute): what `~` means in
    /// a file permission.
    pub fn user_home(&self) -> Option<&Path> {
        self.user_home.as_deref()
    }

    /// `[loader]`.
    pub fn loader(&self) -> &LoaderConfig {
        &self.config.loader
    }

    /// `[cache]`.
    pub fn cache(&self) -> &CacheConfig {
        &self.config.cache
    }

    /// `[storage]`.
    pub fn storage(&self) -> &StorageConfig {
        &self.config.storage
    }

    /// `[ai]`.
    pub fn ai(&self) -> &AiConfig {
        &self.config.ai
    }

    /// Table `name` of the config, owned by a module above this one (a
    /// capability's), as `T`: checked when the config was read, so only
    /// the defaults when absent (or, were it ever unreadable as `T`, with a
    /// warning).
    pub fn section<T: Default + serde::de::DeserializeOwned>(&self, name: &str) -> T {
        let Some(value) = self.config.sections.get(name) else { return T::default() };
        T::deserialize(value.clone()).unwrap_or_else(|e| {
            tracing::warn!("[{name}] in {} is ignored: {e}", self.config_file.display());
            T::default()
        })
    }

    /// `[mcp]`.
    pub fn mcp(&self) -> &McpConfig {
        &self.config.mcp
    }

    /// How many runs the history keeps (`[metrics] history`).
    pub fn history(&self) -> usize {
        self.config.metrics.history
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

    /// What the plugin described by `manifest` asks to be granted: its
    /// permissions, and the limits it raises above `[limits]` (the others
    /// are `None`).
    pub fn request(&self, manifest: &Manifest) -> Request {
        let defaults = &self.config.limits;
        let above = |asked: Option<u64>, default: u64| asked.filter(|n| *n > default);
        Request {
            permissions: manifest.permissions.clone(),
            limits: Limits {
                memory_mb: above(manifest.limits.memory_mb, defaults.memory_mb),
                deadline_ms: above(manifest.limits.deadline_ms, defaults.deadline_ms),
            },
        }
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
fn default_home(env: &(impl Env + ?Sized), user_home: Option<&Path>) -> Option<PathBuf> {
    let data = env
        .var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| Some(user_home?.join(".local/share")))?;
    Some(data.join("isaac"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_DEADLINE_MS, DEFAULT_MAX_DEADLINE_MS, DEFAULT_MEMORY_MB};

    fn manifest(limits: &str) -> Manifest {
        Manifest::parse(
            Path::new("plugin.toml"),
            &format!("name = \"p\"\nversion = \"1\"\n{limits}"),
            crate::capabilities::PERMISSION_SECTIONS,
        )
        .unwrap()
    }

    fn with_config(text: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), text).unwrap();
        Settings::for_home(dir.path(), crate::capabilities::CONFIG_SECTIONS).unwrap()
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
    fn limits_above_the_defaults_are_asked_for() {
        let settings = with_config("");
        let manifest = |limits: &str| manifest(&format!("[limits]\n{limits}"));
        assert!(!settings.request(&manifest("memory_mb = 16\ndeadline_ms = 500")).asks_anything());
        let raised = settings.request(&manifest("memory_mb = 512\ndeadline_ms = 500"));
        assert_eq!(raised.limits, Limits { memory_mb: Some(512), deadline_ms: None });
        assert!(crate::capabilities::describe(&raised).iter().any(|l| l.contains("512 MiB")));
    }

    #[test]
    fn a_bad_isaac_jobs_is_an_error_naming_it() {
        let env = [("ISAAC_HOME", "/tmp/x"), ("ISAAC_JOBS", "zero")];
        let error = Settings::resolve(&Flags::default(), &env[..], crate::capabilities::CONFIG_SECTIONS)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ISAAC_JOBS=\"zero\""), "{error}");
    }
}
