//! [`Host`]: one isaac home, its engine, its plugins, and the operations the
//! CLI offers on them (install, list, run, remove).
//!
//! Start-up is lazy. [`Host::catalog`] reads the plugin index and `stat`s
//! each plugin's two files; only a plugin that changed since it was indexed
//! is compiled and asked for its metadata. [`Host::run`] then hashes,
//! loads (from the compiled-code cache) and instantiates just the plugin
//! that owns the command. [`Host::load_all`] loads every plugin, in parallel,
//! for `isaac plugins list` and long-lived sessions.
//!
//! One concern a file, each an `impl Host` block:
//!
//! - `open.rs`: [`Host::open`] builds the parts; the linker, the cache,
//!   the AI router and the plugin network are built on first use;
//!   accessors;
//! - `catalog.rs`: the index kept fresh ([`Host::catalog`]), a command
//!   resolved to the one plugin that owns it, that plugin loaded;
//! - `reload.rs`: every plugin loaded ([`Host::load_all`],
//!   [`Host::reload`]);
//! - `load.rs`: how any plugin is loaded (code, link, metadata, spec);
//! - `spec.rs`: what a plugin's stored grant lets its calls do;
//! - `run.rs`: [`Host::run`], the one entry to running a command;
//! - `install.rs`: reading, previewing, installing, granting, removing;
//! - `record.rs`: the run record, saved by [`Host::finish`];
//! - `plugin.rs`: [`LoadedPlugin`], [`LoadReport`], [`Catalog`];
//!   `errors.rs`: the operations' errors.

mod catalog;
mod errors;
mod install;
mod load;
mod open;
mod plugin;
mod record;
mod reload;
mod run;
mod spec;

use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::component::Linker;

use crate::ai::AiRouter;
use crate::cache::MultiLevelCache;
use crate::capabilities::http::HttpNet;
use crate::compiled::CompiledCache;
use crate::engine::{EpochTicker, HostEngine};
use crate::functions::FunctionCache;
use crate::grants::{Grants, Protected};
use crate::home::Home;
use crate::index::Index;
use crate::metrics::{History, RunRecord};
use crate::sandbox::HostState;
use crate::settings::Settings;
use crate::sources::store::Sources;
use crate::state::State;
use crate::tiers::Artifacts;

pub use errors::{GrantError, HostError, InstallError, RemoveError, RunError};
pub use install::{GrantAction, InstallOptions, Installed, PluginFiles, Staged, taken_commands};
#[cfg(feature = "testing")]
pub(crate) use load::link;
pub use plugin::{Catalog, LoadReport, LoadedPlugin, ReloadSummary};
pub use run::{AllowReadError, RunOptions};

/// An isaac home, opened: its settings, its Cranelift engine, the
/// compiled-code cache, the index, grants, sources and run history in
/// its LMDB state, and what is built on first use (the linker, the
/// three-tier cache, the AI router, the plugin network, the compile pool, the
/// Winch engine of tiered compilation, the runtimes calls run on).
pub struct Host {
    home: Home,
    settings: Settings,
    engine: HostEngine,
    /// Every capability linked, shared by the plugins of a host of many
    /// calls ([`Settings::linker_per_plugin`]: a host of one call links
    /// each plugin to what it imports).
    linker: OnceLock<Linker<HostState>>,
    compiled: CompiledCache,
    index: Index,
    /// The LMDB state (the cache's cold tier, unless it is Redis).
    state: Arc<State>,
    /// Built on first use: a command whose plugin has no `cache` grant
    /// never touches it.
    cache: OnceLock<Arc<MultiLevelCache>>,
    ai: OnceLock<Arc<AiRouter>>,
    http_net: OnceLock<Arc<HttpNet>>,
    history: History,
    grants: Grants,
    sources: Sources,
    protected: Protected,
    runtimes: run::Runtimes,
    /// The plugin of the last [`Host::run`], dropped by the next run or
    /// with the host: `isaac run` leaves without taking the host apart
    /// (`cli::exit`), so its one plugin is never torn down (its code
    /// unmapped, its linker freed entry by entry: ~35 µs).
    last_run: Mutex<Option<LoadedPlugin>>,
    record: Mutex<RunRecord>,
    pool: OnceLock<Option<rayon::ThreadPool>>,
    baseline: OnceLock<Option<load::Baseline>>,
    artifacts: Artifacts,
    /// Compiled functions shared between plugins (Cranelift's compiles).
    functions: Option<Arc<FunctionCache>>,
    _ticker: EpochTicker,
}
