//! # isaac-host
//!
//! The library behind the `isaac` binary: a WebAssembly-sandboxed plugin host.
//!
//! Plugins are WebAssembly components that target the WIT world
//! `isaac:plugin/plugin@0.1.0` (the `wit/` folder of the repository). The
//! host compiles them in parallel, keeps their compiled code and metadata in
//! `$ISAAC_HOME`, resolves commands to plugins, and runs every call in a fresh
//! sandbox with a memory limit and a deadline.
//!
//! ```no_run
//! use isaac_host::{Host, Settings};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let host = Host::open(&Settings::for_home("/tmp/isaac-home")?)?;
//! host.install("example-plugins/dist/hello".as_ref(), false).await?;
//! let output = host.run("hello", &["bars".to_owned()]).await?;
//! assert_eq!(output, "Hello, bars!");
//! # Ok(()) }
//! ```
//!
//! The pieces, one module each:
//!
//! - [`engine`]: the one `wasmtime::Engine` (pooling allocator, epoch ticker);
//! - [`manifest`]: `plugin.toml` files;
//! - [`config`]: the user's `config.toml`;
//! - [`loader`]: discover, compile in parallel or from the compiled-code cache, link;
//! - [`index`]: the plugin index in LMDB (metadata, hashes, load figures);
//! - [`registry`]: the command table;
//! - [`sandbox`]: the per-call `Store` with its limits;
//! - [`host`]: [`Host`], which ties them together.

pub mod ai;
pub mod bindings;
pub mod cache;
pub mod capabilities;
#[doc(hidden)]
pub mod cli;
pub mod compiled;
pub mod config;
pub mod digest;
pub mod dirs;
pub mod engine;
pub mod error;
pub mod grants;
pub mod home;
pub mod host;
pub mod index;
pub mod loader;
pub mod manifest;
pub mod metrics;
pub mod registry;
pub mod sandbox;
pub mod session;
pub mod settings;
pub mod state;
pub mod suite;
pub mod terminal;
mod tomlfile;

pub use config::Config;
pub use home::Home;
pub use host::{Catalog, Host, HostError, InstallError, Installed, LoadReport, LoadedPlugin, RemoveError, RunError};
pub use loader::{LoadError, PluginFailure};
pub use manifest::Manifest;
pub use registry::{CommandRef, Registry, ResolveError};
pub use settings::Settings;
pub use tomlfile::TomlError;
