//! Helpers for isaac's own tests and benchmarks, behind the `testing`
//! feature: the simulated AI provider (OpenAI and Anthropic wire formats on
//! loopback), the Zipf key generator, distinct copies of a component, and
//! entry points to single phases of a load and a call (link, map compiled
//! code, instantiate), which the library never runs alone.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

pub use crate::ai::simulator::{Fault, SimConfig, SimStats, Simulator};
use crate::bindings::AnyPre;
pub use crate::cache::traces::{Trace, Zipf};
use crate::compiled::CompiledCache;
use crate::host::{LoadedPlugin, RunError};
use crate::loader::LoadError;
use crate::sandbox::{self, HostState};
pub use crate::suite::distinct;
pub use crate::suite::policies::{PolicyRates, compare as compare_policies};

/// Whether host/build.rs had the linker lay out the `isaac` binary's
/// start-up code in one place (`host/startup-order/PROFILE.txt`): on
/// x86-64 Linux with rust-lld, for a profile with a list, unless turned off.
pub const STARTUP_ORDERED: bool = option_env!("ISAAC_STARTUP_ORDER").is_some();

/// The host's linker for one engine: WASI p2 and every capability, under
/// every supported version of `isaac:plugin`, as [`Host::open`](crate::Host::open)
/// builds it.
pub struct Linker(wasmtime::component::Linker<HostState>);

impl Linker {
    /// The linker for `engine`.
    pub fn new(engine: &Engine) -> wasmtime::Result<Self> {
        sandbox::linker(engine).map(Linker)
    }

    /// Link `component` (read from `path`, named in errors) as a load
    /// does, its WIT version checked: the link phase alone.
    pub fn link(&self, component: &Component, path: &Path) -> Result<Linked, LoadError> {
        let (pre, wit_version) = crate::host::link(&self.0, component, path, crate::manifest::Kind::Plugin)?;
        Ok(Linked { _pre: pre, wit_version })
    }
}

/// A component linked and ready to instantiate.
pub struct Linked {
    _pre: AnyPre<HostState>,
    /// The version of `isaac:plugin` it was built against.
    pub wit_version: String,
}

/// The code `cache` holds for the component with digest `sha256`, mapped
/// from its file **without checking the artifact's digest**: the
/// deserialize phase alone. A load never does this: it maps only code whose
/// digest is the one recorded when it was written
/// ([`CompiledCache::load_verified`]).
pub fn load_unverified(cache: &CompiledCache, engine: &Engine, sha256: &str) -> Option<Component> {
    let path = cache.path_for(sha256);
    if !path.is_file() {
        return None;
    }
    // SAFETY: the caller's cache folder is written only by
    // `CompiledCache::store`, by temporary file and rename, so a mapped file
    // is never modified in place.
    unsafe { Component::deserialize_file(engine, &path) }.ok()
}

/// Instantiate `plugin` in a fresh sandbox and drop it, without a call:
/// the instantiation phase alone.
pub async fn instantiate(plugin: &LoadedPlugin) -> Result<(), RunError> {
    plugin.instantiate_only().await
}
