//! # isaac-host
//!
//! The library behind the `isaac` binary: a WebAssembly-sandboxed plugin host.
//!
//! Plugins are WebAssembly components that target the WIT world
//! `isaac:plugin/plugin@0.2.0` (the `wit/` folder of the repository; 0.1.0
//! plugins still load). The host compiles them in parallel, keeps their
//! compiled code and metadata in `$ISAAC_HOME`, resolves commands to
//! plugins, and runs every call in a fresh sandbox with a memory limit, a
//! deadline and only the capabilities the user granted.
//!
//! ```no_run
//! use isaac_host::{Host, RunOptions, Settings};
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let host = Host::open(&Settings::for_home("/tmp/isaac-home")?)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(host.install("example-plugins/dist/hello".as_ref(), false))?;
//! let output = host.run("hello", &["bars".to_owned()], &RunOptions::default())?;
//! assert_eq!(output, "Hello, bars!");
//! host.finish("demo");
//! # Ok(()) }
//! ```
//!
//! One way through a command (`isaac run wc notes.txt`): [`settings`] are
//! resolved once → [`Host::open`] opens the [`home`] → the [`index`] says
//! which plugin owns the command ([`registry`]) → that one plugin is loaded
//! (code from the [`compiled`] cache, linked in `host/load.rs`) → the call
//! runs in its [`sandbox`] with the capabilities its grant allows → output →
//! [`Host::finish`] records the run.
//!
//! The modules, from the bottom up (no module uses one that uses it back;
//! `tests/all/architecture.rs` checks):
//!
//! - [`error`]: error chains, kept causes and the one chain walker;
//! - [`config`]: the user's `config.toml`, parsed; [`settings`]: every
//!   setting resolved (flags > environment > config file > defaults);
//! - [`manifest`]: `plugin.toml` files; [`grants`]: what a plugin asks and
//!   what the user granted, pinned to its component; [`dirs`]: granted
//!   directories by identity;
//! - [`state`]: the LMDB environment; [`index`]: the plugin index in it
//!   (a plugin that did not load is kept with its [`LoadError`], from the
//!   [`loader`]);
//!   [`metrics`]: the run history;
//! - [`cache`]: the three-tier cache; [`ai`]: AI queries, the response
//!   cache and the spending ledger;
//! - [`bindings`]: the WIT package `isaac:plugin`, every version linked;
//!   `capabilities`: one module per capability (context, grant, linker);
//! - [`engine`]: the one `wasmtime::Engine`; [`compiled`]: the
//!   compiled-code cache; [`sandbox`]: the per-call `Store` and its limits;
//! - [`loader`]: plugin folders found and read; [`registry`]: the command
//!   table; [`host`]: [`Host`], which ties them together; [`session`]: a
//!   long-lived set of loaded plugins (`isaac shell`); [`tools`]: plugin
//!   commands as tools an AI can call; [`mcp`]: the MCP server (`isaac mcp`);
//!   [`ask`]: a conversation in which the model calls them (`isaac ask`);
//! - `cli`: the `isaac` binary; `testing` (feature `testing`): helpers for
//!   isaac's own tests and benchmarks.

pub mod ai;
pub mod allowlist;
pub mod ask;
pub mod bindings;
pub mod cache;
pub(crate) mod capabilities;
#[doc(hidden)]
pub mod cli;
pub mod compiled;
pub mod config;
pub mod console;
pub(crate) mod digest;
pub mod dirs;
pub mod engine;
pub mod error;
pub mod grants;
pub mod home;
pub mod host;
pub mod index;
pub mod loader;
pub mod manifest;
pub mod mcp;
pub mod metrics;
pub mod registry;
pub mod sandbox;
pub mod session;
pub mod settings;
pub mod sources;
pub mod state;
pub(crate) mod suite;
pub(crate) mod terminal;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tiers;
mod tomlfile;
pub mod tools;

pub use config::Config;
pub use home::Home;
pub use host::{
    Catalog, Host, HostError, InstallError, Installed, LoadReport, LoadedPlugin, RemoveError, RunError, RunOptions,
};
pub use loader::{LoadError, PluginFailure};
pub use manifest::Manifest;
pub use registry::{CommandRef, Registry, ResolveError};
pub use settings::Settings;
pub use tomlfile::TomlError;
