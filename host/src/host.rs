//! [`Host`]: one isaac home, its engine, its plugins, and the operations the
//! CLI offers on them (install, list, run, remove).
//!
//! Start-up is lazy. [`Host::catalog`] reads the plugin index and `stat`s
//! each plugin's two files; only a plugin that changed since it was indexed
//! is compiled and asked for its metadata. [`Host::run`] then hashes,
//! loads (from the compiled-code cache) and instantiates just the plugin
//! that owns the command. [`Host::load_all`] loads every plugin, in parallel,
//! for `isaac plugins list` and long-lived sessions.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Linker;

use crate::bindings::{GuestError, Level, PluginPre};
use crate::capabilities;
use crate::compiled::CompiledCache;
use crate::config::Config;
use crate::engine::{EngineError, EngineOptions, EpochTicker, HostEngine};
use crate::home::{Home, HomeError};
use crate::index::{FileStamp, Index, IndexEntry, IndexError, PluginMeta};
use crate::loader::{self, LoadError, PluginFailure, PluginSource, Progress};
use crate::manifest::Manifest;
use crate::registry::{Registry, ResolveError};
use crate::sandbox::{CallError, CallSpec, HostState};
use crate::tomlfile::TomlError;

/// How to open a [`Host`].
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The isaac home.
    pub home: PathBuf,
    /// A config file named by the user (it must exist); `None`:
    /// `$ISAAC_HOME/config.toml` if it exists.
    pub config_file: Option<PathBuf>,
    /// Compile threads; `None`: the config's `loader.max_workers`, else all cores.
    pub jobs: Option<usize>,
    /// The least important plugin log level printed.
    pub log_level: Level,
    /// Try the pooling allocator (falls back to on-demand by itself).
    pub pooling: bool,
}

impl HostOptions {
    /// Defaults for the home `home`.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        HostOptions { home: home.into(), config_file: None, jobs: None, log_level: Level::Warn, pooling: true }
    }
}

/// The host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The home directory.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The config file.
    #[error("{0}")]
    Config(#[from] TomlError),
    /// The engine.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The plugin index.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The capabilities could not be linked (a bug).
    #[error("cannot set up the host's capabilities: {0}")]
    Linker(String),
}

/// A command that did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The name did not resolve.
    #[error("{error}{}", unloaded_note(unloaded))]
    Resolve {
        /// Why.
        error: ResolveError,
        /// Plugins that failed to load (one may have offered the command).
        unloaded: Vec<String>,
    },
    /// The plugin rejected the arguments.
    #[error("{plugin}:{command}: {message}")]
    Usage {
        /// The plugin.
        plugin: String,
        /// The command.
        command: String,
        /// Its usage message.
        message: String,
    },
    /// The command ran and failed.
    #[error("{plugin}:{command} failed: {message}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// The command.
        command: String,
        /// Why, in the plugin's words.
        message: String,
    },
    /// The call was stopped: a trap, the deadline, the memory limit.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The plugin that owns the command did not load.
    #[error(transparent)]
    Load(#[from] PluginFailure),
    /// The host itself failed.
    #[error(transparent)]
    Host(#[from] HostError),
}

fn unloaded_note(unloaded: &[String]) -> String {
    match unloaded {
        [] => String::new(),
        names => format!(
            "\nnote: {} plugin(s) failed to load ({}); `isaac plugins list` says why",
            names.len(),
            names.join(", ")
        ),
    }
}

impl RunError {
    /// The exit status `isaac run` uses: 2 for usage errors (unknown or
    /// ambiguous command, bad arguments), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Resolve { .. } | RunError::Usage { .. } => 2,
            _ => 1,
        }
    }
}

/// `isaac plugins add` failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The path is neither a plugin folder nor a `.wasm` file.
    #[error("{}: {message}", path.display())]
    BadPath {
        /// What was given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plugin of that name is installed.
    #[error("plugin `{0}` is already installed; add --force to replace it")]
    Exists(String),
    /// The plugin does not load.
    #[error("{0}")]
    Invalid(PluginFailure),
    /// Copying it into the home failed.
    #[error("cannot copy the plugin into {}: {message}", dir.display())]
    Copy {
        /// The destination.
        dir: PathBuf,
        /// What the OS said.
        message: String,
    },
    /// The index could not be updated.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// `isaac plugins remove` failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    /// No such plugin.
    #[error("plugin `{0}` is not installed (`isaac plugins list` shows what is)")]
    NotInstalled(String),
    /// The folder could not be removed.
    #[error("cannot remove {}: {message}", dir.display())]
    Io {
        /// The folder.
        dir: PathBuf,
        /// What the OS said.
        message: String,
    },
    /// The index could not be updated.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// A plugin that is compiled, linked and ready to run.
pub struct LoadedPlugin {
    /// Its name.
    pub name: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// What loading found (commands, hash, WIT version).
    pub meta: PluginMeta,
    /// Whether its compiled code came from the cache.
    pub from_cache: bool,
    /// How long compiling or deserializing took.
    pub load_time: Duration,
    pre: PluginPre<HostState>,
    spec: CallSpec,
}

impl LoadedPlugin {
    /// Run `command` in a fresh sandbox.
    pub async fn run(&self, command: &str, args: &[String]) -> Result<String, RunError> {
        match self.spec.run(&self.pre, command, args).await? {
            Ok(output) => Ok(output),
            Err(GuestError::Usage(message)) => {
                Err(RunError::Usage { plugin: self.name.clone(), command: command.to_owned(), message })
            }
            Err(GuestError::Failed(message)) => {
                Err(RunError::Failed { plugin: self.name.clone(), command: command.to_owned(), message })
            }
        }
    }
}

/// Every installed plugin, loaded: for `isaac plugins list` and sessions
/// that run many commands.
pub struct LoadReport {
    /// The plugins that loaded, sorted by name.
    pub plugins: Vec<LoadedPlugin>,
    /// The ones that did not.
    pub failures: Vec<PluginFailure>,
    /// Their commands.
    pub registry: Registry,
    /// Wall time of the whole load.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Resolve `name` and run it with `args`.
    pub async fn run(&self, name: &str, args: &[String]) -> Result<String, RunError> {
        let target = self.registry.resolve(name).map_err(|error| RunError::Resolve {
            error,
            unloaded: self.failures.iter().map(|f| f.plugin.clone()).collect(),
        })?;
        let (_, command) = self.registry.names(target);
        self.plugins[target.plugin].run(command, args).await
    }
}

/// What the host knows of the installed plugins without loading them.
pub struct Catalog {
    /// Indexed plugins, sorted by name; `status` says whether each loads.
    pub entries: Vec<(String, IndexEntry)>,
    /// Plugin folders that could not even be read.
    pub failures: Vec<PluginFailure>,
    /// The commands of the plugins that load.
    pub registry: Registry,
    registry_entries: Vec<usize>,
}

impl Catalog {
    fn new(mut entries: Vec<(String, IndexEntry)>, mut failures: Vec<PluginFailure>) -> Self {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut listed = Vec::new();
        let mut registry_entries = Vec::new();
        for (i, (name, entry)) in entries.iter().enumerate() {
            match &entry.status {
                Ok(meta) => {
                    listed.push((name.clone(), meta.commands.iter().map(|c| c.name.clone()).collect()));
                    registry_entries.push(i);
                }
                Err(message) => failures.push(PluginFailure {
                    plugin: name.clone(),
                    error: LoadError::BadMetadata(format!("an error when it was indexed: {message}")),
                }),
            }
        }
        failures.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        Catalog { entries, failures, registry: Registry::new(listed), registry_entries }
    }

    /// The entry of plugin `name`.
    pub fn entry(&self, name: &str) -> Option<&IndexEntry> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}

/// An isaac home, opened.
pub struct Host {
    home: Home,
    config: Config,
    engine: HostEngine,
    linker: Linker<HostState>,
    compiled: CompiledCache,
    index: Index,
    jobs: usize,
    log_level: Level,
    _ticker: EpochTicker,
}

impl Host {
    /// Open the home in `options` (creating it if needed) and start the engine.
    pub fn open(options: HostOptions) -> Result<Self, HostError> {
        let home = Home::open(&options.home)?;
        let config = match &options.config_file {
            Some(file) => Config::load(file, true)?,
            None => Config::load(&home.config_file(), false)?,
        };
        let engine = HostEngine::new(&EngineOptions {
            max_memory_bytes: config.max_memory_bytes(),
            pooling: options.pooling,
            ..EngineOptions::default()
        })?;
        let linker = capabilities::linker(&engine.engine).map_err(|e| HostError::Linker(e.to_string()))?;
        let compiled = CompiledCache::new(home.compiled_dir(), engine.compatibility.clone());
        let index = Index::open(&home.state_dir())?;
        let jobs = options
            .jobs
            .or(config.loader.max_workers)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let ticker = engine.start_ticker();
        Ok(Host { home, config, engine, linker, compiled, index, jobs, log_level: options.log_level, _ticker: ticker })
    }

    /// The home.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The engine.
    pub fn engine(&self) -> &HostEngine {
        &self.engine
    }

    /// Compile threads in use.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// The names of the installed plugins (their folders), sorted.
    pub fn installed(&self) -> Vec<String> {
        plugin_dirs(&self.home.plugins_dir()).into_iter().map(|(name, _)| name).collect()
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn spec(&self, manifest: &Manifest) -> CallSpec {
        CallSpec {
            plugin: Arc::from(manifest.name.as_str()),
            limits: self.config.limits_for(manifest),
            log_level: self.log_level,
        }
    }

    /// The installed plugins as indexed, after re-indexing the ones whose
    /// files changed (a `stat` of two files per plugin; only changed plugins
    /// are hashed and compiled).
    pub async fn catalog(&self) -> Result<Catalog, HostError> {
        let mut indexed: HashMap<String, IndexEntry> = self.index.all()?.into_iter().collect();
        let mut fresh = Vec::new();
        let mut stale = Vec::new();
        let mut failures = Vec::new();
        for (name, dir) in plugin_dirs(&self.home.plugins_dir()) {
            match indexed.remove(&name) {
                Some(entry) if is_fresh(&dir, &entry) => fresh.push((name, entry)),
                _ => match loader::read_source(&dir, Some(&name)) {
                    Ok(source) => stale.push(source),
                    Err(error) => failures.push(PluginFailure { plugin: name, error }),
                },
            }
        }
        // What is left in `indexed` was removed from disk, or now fails to read.
        let gone: Vec<&str> = indexed.keys().map(String::as_str).collect();
        let loaded = self.load_sources(stale, &HashMap::new(), &|_| {}).await;
        let new_entries: Vec<(String, IndexEntry)> =
            loaded.into_iter().map(|(source, r)| indexed_entry(source, r.as_ref())).collect();
        let put: Vec<(&str, &IndexEntry)> = new_entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        self.index.update(&put, &gone)?;
        fresh.extend(new_entries);
        Ok(Catalog::new(fresh, failures))
    }

    /// Resolve `name` and run it with `args` in a fresh sandbox, loading only
    /// the plugin that owns it.
    pub async fn run(&self, name: &str, args: &[String]) -> Result<String, RunError> {
        let catalog = self.catalog().await?;
        let target = catalog.registry.resolve(name).map_err(|error| RunError::Resolve {
            error,
            unloaded: catalog.failures.iter().map(|f| f.plugin.clone()).collect(),
        })?;
        let (plugin_name, command) = catalog.registry.names(target);
        let (_, entry) = &catalog.entries[catalog.registry_entries[target.plugin]];
        let plugin = self.load_indexed(plugin_name, entry).await?;
        plugin.run(command, args).await
    }

    /// Load one indexed plugin: hash its component, take its code from the
    /// cache (or compile it) and link it. Its metadata is asked again only if
    /// the component is not the one that was indexed.
    async fn load_indexed(&self, name: &str, entry: &IndexEntry) -> Result<LoadedPlugin, PluginFailure> {
        let source = PluginSource {
            dir: self.home.plugin_dir(name),
            manifest: entry.manifest.clone(),
            wasm: entry.wasm.clone(),
            manifest_stamp: entry.manifest_stamp,
            wasm_stamp: entry.wasm_stamp,
        };
        let known = HashMap::from([(name.to_owned(), entry.clone())]);
        let (source, result) = self.load_sources(vec![source], &known, &|_| {}).await.remove(0);
        if let Ok(plugin) = &result
            && entry.status.as_ref().is_ok_and(|m| m.sha256 != plugin.meta.sha256)
        {
            let (n, e) = indexed_entry(source, Ok(plugin));
            self.index.update(&[(&n, &e)], &[]).map_err(|e| PluginFailure {
                plugin: name.to_owned(),
                error: LoadError::Io { path: self.home.state_dir(), message: e.to_string() },
            })?;
        }
        result.map_err(|error| PluginFailure { plugin: name.to_owned(), error })
    }

    /// Load every installed plugin: compile what the compiled-code cache
    /// lacks, in parallel with [`Host::jobs`] threads, link each and index
    /// them all. `progress` is called as each plugin's code is ready.
    pub async fn load_all(&self, progress: Progress<'_>) -> Result<LoadReport, HostError> {
        let start = Instant::now();
        let known: HashMap<String, IndexEntry> = self.index.all()?.into_iter().collect();
        let mut failures = Vec::new();
        let mut sources = Vec::new();
        for found in loader::discover(&self.home.plugins_dir()) {
            match found {
                Ok(source) => sources.push(source),
                Err(failure) => failures.push(failure),
            }
        }
        let loaded = self.load_sources(sources, &known, progress).await;
        let mut entries = Vec::new();
        let mut plugins = Vec::new();
        for (source, result) in loaded {
            entries.push(indexed_entry(source.clone(), result.as_ref()));
            match result {
                Ok(plugin) => plugins.push(plugin),
                Err(error) => failures.push(PluginFailure { plugin: source.manifest.name, error }),
            }
        }
        let put: Vec<(&str, &IndexEntry)> = entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        let installed: Vec<String> = plugin_dirs(&self.home.plugins_dir()).into_iter().map(|(n, _)| n).collect();
        let gone: Vec<&str> = known.keys().filter(|k| !installed.contains(k)).map(String::as_str).collect();
        self.index.update(&put, &gone)?;
        let registry = Registry::new(
            plugins
                .iter()
                .map(|p| (p.name.clone(), p.meta.commands.iter().map(|c| c.name.clone()).collect()))
                .collect(),
        );
        Ok(LoadReport { plugins, failures, registry, elapsed: start.elapsed() })
    }

    /// Compile (in parallel), link and describe `sources`. `known` holds
    /// index entries whose metadata may be reused when the hash matches.
    async fn load_sources(
        &self,
        sources: Vec<PluginSource>,
        known: &HashMap<String, IndexEntry>,
        progress: Progress<'_>,
    ) -> Vec<(PluginSource, Result<LoadedPlugin, LoadError>)> {
        if sources.is_empty() {
            return Vec::new();
        }
        let refs: Vec<&PluginSource> = sources.iter().collect();
        let compiled = loader::compile_all(&self.engine.engine, &self.compiled, &refs, self.jobs, progress);
        let mut out = Vec::with_capacity(sources.len());
        for (source, compiled) in sources.into_iter().zip(compiled) {
            let result = self.finish_load(&source, compiled, known.get(&source.manifest.name)).await;
            out.push((source, result));
        }
        out
    }

    async fn finish_load(
        &self,
        source: &PluginSource,
        compiled: Result<loader::Compiled, LoadError>,
        known: Option<&IndexEntry>,
    ) -> Result<LoadedPlugin, LoadError> {
        let compiled = compiled?;
        let (pre, wit_version) = loader::link(&self.linker, &compiled.component, &source.wasm)?;
        let spec = self.spec(&source.manifest);
        let reusable = known.and_then(|e| e.status.as_ref().ok()).filter(|m| m.sha256 == compiled.sha256);
        let meta = match reusable {
            Some(meta) => meta.clone(),
            None => {
                let compile_ms = compiled.elapsed.as_secs_f64() * 1e3;
                loader::metadata(&pre, &spec, compiled.sha256.clone(), wit_version, compile_ms).await?
            }
        };
        Ok(LoadedPlugin {
            name: source.manifest.name.clone(),
            manifest: source.manifest.clone(),
            meta,
            from_cache: compiled.from_cache,
            load_time: compiled.elapsed,
            pre,
            spec,
        })
    }

    /// Install the plugin at `path` (a plugin folder, or a `.wasm` file with
    /// a `plugin.toml` beside it): check that it loads, then copy it into
    /// `$ISAAC_HOME/plugins/NAME/`. With `force`, replace an installed
    /// plugin of the same name.
    pub async fn install(&self, path: &Path, force: bool) -> Result<Installed, InstallError> {
        let source = install_source(path)?;
        let name = source.manifest.name.clone();
        let dest = self.home.plugin_dir(&name);
        if dest.exists() && !force {
            return Err(InstallError::Exists(name));
        }
        let failure = |error| InstallError::Invalid(PluginFailure { plugin: name.clone(), error });
        let (_, result) = self.load_sources(vec![source.clone()], &HashMap::new(), &|_| {}).await.remove(0);
        let plugin = result.map_err(failure)?;
        let previous = self.index.all()?.into_iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        let installed_source = copy_plugin(&source, &self.home.plugins_dir(), &dest)
            .map_err(|e| InstallError::Copy { dir: dest.clone(), message: e.to_string() })?;
        if let Some(Ok(old)) = previous.as_ref().map(|e| &e.status)
            && old.sha256 != plugin.meta.sha256
        {
            self.compiled.remove(&old.sha256);
        }
        let (n, e) = indexed_entry(installed_source, Ok(&plugin));
        self.index.update(&[(&n, &e)], &[])?;
        let catalog = self.catalog().await.map_err(|e| match e {
            HostError::Index(e) => InstallError::Index(e),
            other => InstallError::Copy { dir: dest.clone(), message: other.to_string() },
        })?;
        let shared = shared_commands(&catalog, &name);
        Ok(Installed { plugin, replaced: previous.is_some(), shared_commands: shared })
    }

    /// Uninstall `name`: its folder, its compiled code and its index entry.
    pub fn remove(&self, name: &str) -> Result<(), RemoveError> {
        let dir = self.home.plugin_dir(name);
        if crate::manifest::check_name(name).is_err() || !dir.is_dir() {
            return Err(RemoveError::NotInstalled(name.to_owned()));
        }
        if let Some((_, entry)) = self.index.all()?.into_iter().find(|(n, _)| n == name)
            && let Ok(meta) = &entry.status
        {
            self.compiled.remove(&meta.sha256);
        }
        fs::remove_dir_all(&dir).map_err(|e| RemoveError::Io { dir: dir.clone(), message: e.to_string() })?;
        self.index.update(&[], &[name])?;
        Ok(())
    }
}

/// A plugin `isaac plugins add` installed.
pub struct Installed {
    /// The plugin, loaded.
    pub plugin: LoadedPlugin,
    /// Whether it replaced an installed version.
    pub replaced: bool,
    /// Its commands that other plugins offer too (`name:command` runs them).
    pub shared_commands: Vec<String>,
}

fn shared_commands(catalog: &Catalog, name: &str) -> Vec<String> {
    let Some(Ok(meta)) = catalog.entry(name).map(|e| &e.status) else { return Vec::new() };
    meta.commands
        .iter()
        .filter(|c| matches!(catalog.registry.resolve(&c.name), Err(ResolveError::Ambiguous { .. })))
        .map(|c| c.name.clone())
        .collect()
}

/// The subfolders of `plugins_dir`, by name, sorted; hidden ones skipped.
fn plugin_dirs(plugins_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(plugins_dir) else { return Vec::new() };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    dirs.sort();
    dirs
}

fn is_fresh(dir: &Path, entry: &IndexEntry) -> bool {
    FileStamp::of(&dir.join(Manifest::FILE_NAME)).is_ok_and(|s| s == entry.manifest_stamp)
        && FileStamp::of(&entry.wasm).is_ok_and(|s| s == entry.wasm_stamp)
}

fn indexed_entry(source: PluginSource, result: Result<&LoadedPlugin, &LoadError>) -> (String, IndexEntry) {
    let status = match result {
        Ok(plugin) => Ok(plugin.meta.clone()),
        Err(error) => Err(error.to_string()),
    };
    let entry = IndexEntry {
        manifest: source.manifest.clone(),
        wasm: source.wasm,
        manifest_stamp: source.manifest_stamp,
        wasm_stamp: source.wasm_stamp,
        status,
    };
    (source.manifest.name, entry)
}

/// The source of `isaac plugins add PATH`.
fn install_source(path: &Path) -> Result<PluginSource, InstallError> {
    let bad = |message: &str| InstallError::BadPath { path: path.to_owned(), message: message.to_owned() };
    let invalid = |plugin: String, error| InstallError::Invalid(PluginFailure { plugin, error });
    if path.is_dir() {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        return loader::read_source(path, None).map_err(|e| invalid(name, e));
    }
    if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_stem().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut source = loader::read_source(dir, None).map_err(|e| invalid(name.clone(), e))?;
        source.wasm = path.to_owned();
        source.wasm_stamp = FileStamp::of(path).map_err(|e| bad(&e.to_string()))?;
        return Ok(source);
    }
    if !path.exists() {
        return Err(bad("no such file or folder"));
    }
    Err(bad("not a plugin folder (with plugin.toml) or a .wasm component with a plugin.toml beside it"))
}

/// Copy the manifest and component of `source` into `dest` (through a
/// temporary folder and renames, so a failed copy leaves the installed
/// version alone) and return the installed source.
fn copy_plugin(source: &PluginSource, plugins_dir: &Path, dest: &Path) -> std::io::Result<PluginSource> {
    let staging = tempfile::Builder::new().prefix(".installing-").tempdir_in(plugins_dir)?;
    // The file keeps the name the manifest gives it, if any.
    let file_name = match &source.manifest.component {
        Some(name) => name.as_os_str(),
        None => source.wasm.file_name().ok_or_else(|| std::io::Error::other("component has no file name"))?,
    };
    fs::copy(source.dir.join(Manifest::FILE_NAME), staging.path().join(Manifest::FILE_NAME))?;
    fs::copy(&source.wasm, staging.path().join(file_name))?;
    let staged = staging.keep();
    if dest.exists() {
        let old = plugins_dir.join(format!(".replaced-{}", source.manifest.name));
        let _ = fs::remove_dir_all(&old);
        fs::rename(dest, &old)?;
        fs::rename(&staged, dest)?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&staged, dest)?;
    }
    loader::read_source(dest, Some(&source.manifest.name)).map_err(|e| std::io::Error::other(e.to_string()))
}
