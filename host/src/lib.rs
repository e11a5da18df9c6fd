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
//! let host = Host::open(&Settings::for_home("/tmp/isaac-home", isaac_host::CONFIG_SECTIONS)?)?;
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
//! The modules, from the bottom up (each uses only modules above it in
//! this list; `tests/all/architecture.rs` checks there is no cycle):
//!
//! - leaves: [`error`] (error chains and the one chain walker),
//!   [`allowlist`], [`bindings`] (the WIT package `isaac:plugin`, every
//!   version linked), `digest`, [`home`], [`registry`] (the command
//!   table), [`state`] (the LMDB environment), `terminal`, `tomlfile`;
//! - [`config`]: the user's `config.toml`, parsed; [`manifest`]:
//!   `plugin.toml` files; [`dirs`]: directories by identity; [`metrics`]:
//!   the run history; `console`: the one way to stdout and stderr;
//! - [`engine`]: the one `wasmtime::Engine`; [`grants`]: what a plugin asks
//!   and what the user granted, pinned to its component;
//! - [`settings`]: every setting resolved once (flags > environment >
//!   config file > defaults);
//! - [`cache`]: the three-tier cache; [`sources`]: where plugins come from
//!   (folders, archives, OCI); [`ai`]: AI queries, the response cache and
//!   the spending ledger;
//! - `capabilities`: one module per capability (permission, review text,
//!   context, grant, linker); [`sandbox`]: the per-call `Store` and its
//!   limits;
//! - [`loader`]: plugin folders read and loaded; [`index`]: the plugin
//!   index (a plugin that did not load is kept with its [`LoadError`]);
//!   [`compiled`]: the compiled-code cache; [`tiers`]: optimised code in
//!   the background;
//! - [`host`]: [`Host`], which ties them together; [`session`]: a
//!   long-lived set of loaded plugins (`isaac shell`); [`tools`]: plugin
//!   commands as tools an AI can call; [`mcp`]: the MCP server (`isaac
//!   mcp`); [`ask`]: a conversation in which the model calls them (`isaac
//!   ask`); `suite`: `isaac bench`;
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
pub mod epoch;
pub mod error;
pub mod functions;
pub mod grants;
pub mod home;
pub mod host;
pub mod index;
pub mod loader;
pub mod manifest;
pub mod mcp;
pub mod metrics;
pub mod pipes;
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

pub use capabilities::{CONFIG_SECTIONS, PERMISSION_SECTIONS};
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
