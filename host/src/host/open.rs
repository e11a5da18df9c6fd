//! [`Host::open`]: the parts of a host, built when it opens or, where a
//! command may not need them (the linker, the cache, the AI router, the
//! plugin network), on first use; and the accessors to them.

use std::sync::{Arc, Mutex, OnceLock};

use super::{Host, HostError, run};
use crate::ai::{AiError, AiRouter};
use crate::cache::MultiLevelCache;
use crate::cache::clock::SystemClock;
use crate::cache::lmdb::LmdbStore;
use crate::cache::redis;
use crate::cache::store::ColdStore;
use crate::capabilities::Capability;
use crate::capabilities::http::{HttpCtx, HttpNet, NetError};
use crate::compiled::CompiledCache;
use crate::config::StorageConfig;
use crate::engine::{EngineOptions, HostEngine};
use crate::functions::{FunctionCache, FunctionCounts};
use crate::grants::{Grants, Protected};
use crate::home::Home;
use crate::index::Index;
use crate::metrics::{self, History, RunRecord};
use crate::settings::Settings;
use crate::sources::store::Sources;
use crate::state::State;
use crate::tiers::Artifacts;

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
        let state = State::open(&home.state_dir(), settings.storage().map_size_mb)?;
        let functions = FunctionCache::of_home(&home, state.clone(), settings.loader());
        let engine = HostEngine::new(&EngineOptions {
            max_memory_bytes: settings.max_memory_bytes(),
            pooling: settings.pooling(),
            functions: functions.clone(),
            ..EngineOptions::default()
        })?;
        let compiled = CompiledCache::new(home.compiled_dir(), engine.compatibility.clone());
        let index = Index::new(state.clone());
        let history = History::new(state.clone());
        let grants = Grants::new(state.clone());
        let sources = Sources::new(state.clone());
        let artifacts = Artifacts::new(state.clone());
        let ticker = match settings.epoch_signal() {
            true => engine.start_signal_ticker(),
            false => engine.start_ticker(),
        };
        Ok(Host {
            home,
            settings: settings.clone(),
            engine,
            linker: OnceLock::new(),
            compiled,
            index,
            state,
            cache: OnceLock::new(),
            ai: OnceLock::new(),
            http_net: OnceLock::new(),
            history,
            grants,
            sources,
            protected,
            runtimes: run::Runtimes::default(),
            last_run: Mutex::new(None),
            record: Mutex::new(RunRecord {
                startup_ms: metrics::process_start().elapsed().as_secs_f64() * 1e3,
                ..RunRecord::default()
            }),
            pool: OnceLock::new(),
            baseline: OnceLock::new(),
            artifacts,
            functions,
            _ticker: ticker,
        })
    }

    /// The three-tier cache of this home, built on first use.
    pub fn cache(&self) -> &Arc<MultiLevelCache> {
        self.cache.get_or_init(|| {
            Arc::new(MultiLevelCache::new(
                cold_store(self.settings.storage(), self.state.clone()),
                self.settings.cache().clone(),
                Arc::new(SystemClock),
            ))
        })
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
        let router = Arc::new(AiRouter::new(self.settings.ai(), self.cache().clone(), Arc::new(SystemClock))?);
        Ok(self.ai.get_or_init(|| router).clone())
    }

    /// The network settings of plugin HTTP, built on first use.
    pub(super) fn http_net(&self) -> Result<Arc<HttpNet>, NetError> {
        if let Some(net) = self.http_net.get() {
            return Ok(net.clone());
        }
        let net = Arc::new(HttpNet::new(&HttpCtx::config(&self.settings))?);
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

    /// What the function cache did when the optimised code of component
    /// `sha256` was compiled (`None`: not recorded, or compiled beside
    /// others).
    pub fn function_counts(&self, sha256: &str) -> Option<FunctionCounts> {
        self.artifacts.functions(sha256, &self.engine.compatibility)
    }

    /// What no grant may reach (the home and the config file).
    pub fn protected(&self) -> &Protected {
        &self.protected
    }
}
