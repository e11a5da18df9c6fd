//! [`Host`]: one isaac home, its engine, its plugins, and the operations the
//! CLI offers on them (install, list, run, remove).
//!
//! Start-up is lazy. [`Host::catalog`] reads the plugin index and `stat`s
//! each plugin's two files; only a plugin that changed since it was indexed
//! is compiled and asked for its metadata. [`Host::run`] then hashes,
//! loads (from the compiled-code cache) and instantiates just the plugin
//! that owns the command. [`Host::load_all`] loads every plugin, in parallel,
//! for `isaac plugins list` and long-lived sessions.

mod errors;
mod install;
mod load;
mod plugin;
mod run;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use wasmtime::component::Linker;

use crate::ai::{AiError, AiRouter};
use crate::cache::MultiLevelCache;
use crate::cache::clock::SystemClock;
use crate::cache::lmdb::LmdbStore;
use crate::cache::redis;
use crate::cache::store::ColdStore;
use crate::capabilities::http::{HttpNet, NetError};
use crate::capabilities::{GrantInputs, Granted};
use crate::compiled::CompiledCache;
use crate::config::StorageConfig;
use crate::engine::{EngineOptions, EpochTicker, HostEngine};
use crate::error::Source;
use crate::grants::{self, Grants, Protected, Request};
use crate::home::Home;
use crate::index::{FileStamp, Index, IndexEntry};
use crate::loader::{self, LoadError, PluginFailure, PluginSource, Progress};
use crate::manifest::Manifest;
use crate::manifest::Permissions;
use crate::metrics::{self, History, RunRecord};
use crate::registry::Registry;
use crate::sandbox::{self, CallSpec, HostState};
use crate::settings::Settings;
use crate::sources::store::Sources;
use crate::state::State;
use crate::tiers::Artifacts;

pub use errors::{GrantError, HostError, InstallError, RemoveError, RunError};
pub use install::{GrantAction, InstallOptions, Installed, PluginFiles, Staged, taken_commands};
pub use load::link;
pub use plugin::{Catalog, LoadReport, LoadedPlugin, ReloadSummary};
pub use run::{AllowReadError, RunOptions};

/// An isaac home, opened.
pub struct Host {
    home: Home,
    settings: Settings,
    engine: HostEngine,
    linker: Linker<HostState>,
    compiled: CompiledCache,
    index: Index,
    cache: Arc<MultiLevelCache>,
    ai: OnceLock<Arc<AiRouter>>,
    http_net: OnceLock<Arc<HttpNet>>,
    history: History,
    grants: Grants,
    sources: Sources,
    protected: Protected,
    runtimes: run::Runtimes,
    record: Mutex<RunRecord>,
    pool: OnceLock<Option<rayon::ThreadPool>>,
    baseline: OnceLock<Option<load::Baseline>>,
    artifacts: Artifacts,
    _ticker: EpochTicker,
}

/// The cache's cold tier that `[storage] cold` names: the home's LMDB, or a
/// Redis that every host naming it shares (connected at first use).
fn cold_store(storage: &StorageConfig, state: Arc<State>) -> Arc<dyn ColdStore> {
    let local = LmdbStore::new(state);
    match storage.redis_url() {
        None => Arc::new(local),
        Some(url) => redis::open(url, storage.redis.clone(), local),
    }
}

impl Host {
    /// Open the home of `settings` (creating it if needed) and start the
    /// engine.
    pub fn open(settings: &Settings) -> Result<Self, HostError> {
        let home = Home::open(settings.home())?;
        let protected = Protected::new(home.root(), settings.config_file());
        let engine = HostEngine::new(&EngineOptions {
            max_memory_bytes: settings.max_memory_bytes(),
            pooling: settings.pooling(),
            ..EngineOptions::default()
        })?;
        let linker = sandbox::linker(&engine.engine).map_err(|e| HostError::Linker(Source::wasm(e)))?;
        let compiled = CompiledCache::new(home.compiled_dir(), engine.compatibility.clone());
        let state = State::open(&home.state_dir(), settings.storage().map_size_mb)?;
        let index = Index::new(state.clone());
        let history = History::new(state.clone());
        let grants = Grants::new(state.clone());
        let sources = Sources::new(state.clone());
        let artifacts = Artifacts::new(state.clone());
        let cache = Arc::new(MultiLevelCache::new(
            cold_store(settings.storage(), state),
            settings.cache().clone(),
            Arc::new(SystemClock),
        ));
        let ticker = engine.start_ticker();
        Ok(Host {
            home,
            settings: settings.clone(),
            engine,
            linker,
            compiled,
            index,
            cache,
            ai: OnceLock::new(),
            http_net: OnceLock::new(),
            history,
            grants,
            sources,
            protected,
            runtimes: run::Runtimes::default(),
            record: Mutex::new(RunRecord {
                startup_ms: metrics::process_start().elapsed().as_secs_f64() * 1e3,
                ..RunRecord::default()
            }),
            pool: OnceLock::new(),
            baseline: OnceLock::new(),
            artifacts,
            _ticker: ticker,
        })
    }

    /// The three-tier cache of this home.
    pub fn cache(&self) -> &Arc<MultiLevelCache> {
        &self.cache
    }

    fn note(&self, f: impl FnOnce(&mut RunRecord)) {
        f(&mut self.record.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The run history (`isaac stats`).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The AI router, created on first use (it builds an HTTP client).
    pub fn ai(&self) -> Result<Arc<AiRouter>, AiError> {
        if let Some(router) = self.ai.get() {
            return Ok(router.clone());
        }
        let router = Arc::new(AiRouter::new(self.settings.ai(), self.cache.clone(), Arc::new(SystemClock))?);
        Ok(self.ai.get_or_init(|| router).clone())
    }

    /// The network settings of plugin HTTP, built on first use.
    fn http_net(&self) -> Result<Arc<HttpNet>, NetError> {
        if let Some(net) = self.http_net.get() {
            return Ok(net.clone());
        }
        let net = Arc::new(HttpNet::new(
            &<crate::capabilities::http::HttpCtx as crate::capabilities::Capability>::config(&self.settings),
        )?);
        Ok(self.http_net.get_or_init(|| net).clone())
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
        self.settings.jobs()
    }

    /// The names of the installed plugins (their folders), sorted.
    pub fn installed(&self) -> Vec<String> {
        loader::plugin_dirs(&self.home.plugins_dir()).into_iter().map(|(name, _)| name).collect()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The grants of this home.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Where the installed plugins came from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// What no grant may reach (the home and the config file).
    pub fn protected(&self) -> &Protected {
        &self.protected
    }

    /// What the plugin described by `manifest` asks to be granted.
    pub fn request(&self, manifest: &Manifest) -> Request {
        self.settings.request(manifest)
    }

    /// How calls into the plugin described by `manifest`, whose component
    /// has digest `sha256`, run: its limits, and what its grant allows (or
    /// why it may not run). Everything granted comes from the stored grant.
    fn spec(&self, manifest: &Manifest, sha256: &str) -> CallSpec {
        let grant = self.grants.get(&manifest.name).ok().flatten();
        let request = self.request(manifest);
        let refused = grants::refusal(&manifest.name, &request, sha256, grant.as_ref());
        let (granted, dirs) = match grant {
            Some(g) if refused.is_none() && request.asks_anything() => (g.permissions, g.dirs),
            _ => (Permissions::default(), Vec::new()),
        };
        let ai = || self.ai();
        let http = || self.http_net();
        let granted = Granted::decide(&GrantInputs {
            plugin: &manifest.name,
            granted: &granted,
            dirs: &dirs,
            protected: &self.protected,
            settings: &self.settings,
            cache: &self.cache,
            ai: &ai,
            http: &http,
        });
        CallSpec {
            plugin: Arc::from(manifest.name.as_str()),
            limits: self.settings.limits_for(manifest),
            granted,
            cancel: None,
            max_output_bytes: self.settings.max_output_bytes(),
            refused,
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
        for (name, dir) in loader::plugin_dirs(&self.home.plugins_dir()) {
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
        let mut new_entries = Vec::new();
        let mut loaded = HashMap::new();
        for (source, result) in self.load_sources(stale, &HashMap::new(), &|_| {}).await {
            new_entries.push(indexed_entry(source, result.as_ref()));
            if let Ok(plugin) = result {
                loaded.insert(plugin.name.clone(), plugin);
            }
        }
        let put: Vec<(&str, &IndexEntry)> = new_entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        self.index.update(&put, &gone)?;
        fresh.extend(new_entries);
        Ok(Catalog::new(fresh, failures, loaded))
    }

    /// What [`Host::run`] does before the call: resolve `name` and load
    /// the one plugin it needs. Returns the plugin and the command's name.
    pub(crate) async fn prepare(&self, name: &str) -> Result<(LoadedPlugin, String), RunError> {
        let mut catalog = self.catalog().await?;
        let target = catalog.registry.resolve(name).map_err(|error| RunError::Resolve {
            error,
            unloaded: catalog.failures.iter().map(|f| f.plugin.clone()).collect(),
        })?;
        let (plugin_name, command) = catalog.registry.names(target);
        let (plugin_name, command) = (plugin_name.to_owned(), command.to_owned());
        // A plugin the catalog just re-indexed is loaded already.
        let plugin = match catalog.loaded.remove(&plugin_name) {
            Some(plugin) => plugin,
            None => {
                let (_, entry) = &catalog.entries[catalog.registry_entries[target.plugin]];
                self.load_indexed(&plugin_name, entry).await?
            }
        };
        self.note(|r| {
            r.load_ms += plugin.load_time.as_secs_f64() * 1e3;
            r.plugins_loaded += 1;
            r.startup_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        });
        Ok((plugin, command))
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
        // A new component, or newly compiled code: record its digests.
        if let Ok(plugin) = &result
            && entry.status.as_ref().is_ok_and(|m| *m != plugin.meta)
        {
            let (n, e) = indexed_entry(source, Ok(plugin));
            self.index.update(&[(&n, &e)], &[]).map_err(|e| PluginFailure {
                plugin: name.to_owned(),
                error: LoadError::Io { path: self.home.state_dir(), source: Source::new(e) },
            })?;
        }
        result.map_err(|error| PluginFailure { plugin: name.to_owned(), error })
    }

    /// Load every installed plugin: compile what the compiled-code cache
    /// lacks, in parallel with [`Host::jobs`] threads, link each and index
    /// them all. `progress` is called as each plugin's code is ready.
    pub async fn load_all(&self, progress: Progress<'_>) -> Result<LoadReport, HostError> {
        Ok(self.reload(None, progress).await?.0)
    }

    /// Re-scan the installed plugins and load what changed since `previous`
    /// was loaded (new plugins, and plugins whose files changed), keeping the
    /// rest as they are.
    pub async fn reload(
        &self,
        previous: Option<LoadReport>,
        progress: Progress<'_>,
    ) -> Result<(LoadReport, ReloadSummary), HostError> {
        let start = Instant::now();
        let mut before: HashMap<String, LoadedPlugin> =
            previous.map(|p| p.plugins.into_iter().map(|p| (p.name.clone(), p)).collect()).unwrap_or_default();
        let known: HashMap<String, IndexEntry> = self.index.all()?.into_iter().collect();
        let mut summary = ReloadSummary::default();
        let (mut plugins, mut failures, mut sources) = (Vec::new(), Vec::new(), Vec::new());
        let mut installed = Vec::new();
        for found in loader::discover(&self.home.plugins_dir()) {
            installed.push(match &found {
                Ok(source) => source.manifest.name.clone(),
                Err(failure) => failure.plugin.clone(),
            });
            match found {
                Ok(source) => match before.remove(&source.manifest.name) {
                    Some(plugin) if plugin.stamps == (source.manifest_stamp, source.wasm_stamp) => {
                        summary.kept += 1;
                        plugins.push(plugin);
                    }
                    Some(_) => {
                        summary.changed.push(source.manifest.name.clone());
                        sources.push(source);
                    }
                    None => {
                        summary.added.push(source.manifest.name.clone());
                        sources.push(source);
                    }
                },
                Err(failure) => failures.push(failure),
            }
        }
        summary.removed = before.into_keys().collect();
        summary.removed.sort();
        let mut entries = Vec::new();
        for (source, result) in self.load_sources(sources, &known, progress).await {
            entries.push(indexed_entry(source.clone(), result.as_ref()));
            match result {
                Ok(plugin) => plugins.push(plugin),
                Err(error) => failures.push(PluginFailure { plugin: source.manifest.name, error }),
            }
        }
        let put: Vec<(&str, &IndexEntry)> = entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        let gone: Vec<&str> = known.keys().filter(|k| !installed.contains(k)).map(String::as_str).collect();
        self.index.update(&put, &gone)?;
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        failures.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        summary.failed = failures.iter().map(|f| f.plugin.clone()).collect();
        let registry = Registry::new(
            plugins
                .iter()
                .map(|p| (p.name.clone(), p.meta.commands.iter().map(|c| c.name.clone()).collect()))
                .collect(),
        );
        let elapsed = start.elapsed();
        self.note(|r| {
            r.load_ms += elapsed.as_secs_f64() * 1e3;
            r.plugins_loaded = plugins.len() as u64;
            r.startup_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        });
        Ok((LoadReport { plugins, failures, registry, elapsed }, summary))
    }
}

fn is_fresh(dir: &Path, entry: &IndexEntry) -> bool {
    FileStamp::of(&dir.join(Manifest::FILE_NAME)).is_ok_and(|s| s == entry.manifest_stamp)
        && FileStamp::of(&entry.wasm).is_ok_and(|s| s == entry.wasm_stamp)
}

fn indexed_entry(source: PluginSource, result: Result<&LoadedPlugin, &LoadError>) -> (String, IndexEntry) {
    let status = match result {
        Ok(plugin) => Ok(plugin.meta.clone()),
        Err(error) => Err(error.clone()),
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

impl Host {
    /// Finish: record this process in the run history as `label` (`isaac
    /// stats`) and save the cache's pending statistics. Called on every exit
    /// path of a command that opened a host, a failed one included.
    pub fn finish(&self, label: &str) {
        let mut record = std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()));
        record.command = label.to_owned();
        record.at_ms = crate::cache::clock::Clock::now_ms(&crate::cache::clock::SystemClock);
        record.total_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        let counters = self.cache.pending_counters();
        record.cache_hits = counters.hits();
        record.cache_misses = counters.misses;
        if let Some(router) = self.ai.get() {
            use std::sync::atomic::Ordering::Relaxed;
            let t = router.tally();
            record.ai_requests = t.requests.load(Relaxed);
            record.ai_tokens = t.tokens.load(Relaxed);
            record.ai_cost = t.cost_nusd.load(Relaxed) as f64 / 1e9;
            record.ai_cost_saved = t.saved_nusd.load(Relaxed) as f64 / 1e9;
        }
        record.peak_rss_kb = metrics::peak_rss_kb().unwrap_or(0);
        if let Err(e) = self.history.record(&record, self.settings.history()) {
            tracing::debug!("run not recorded: {}", crate::error::OneLine(&e));
        }
        if let Err(e) = self.cache.flush() {
            tracing::warn!("cache statistics were not saved: {}", crate::error::OneLine(&e));
        }
    }
}
