//! The host side of the WIT package `isaac:plugin`: generated bindings (kept
//! private) and the chosen surface the rest of the host uses.
//!
//! ## Versions
//!
//! The package is versioned (`isaac:plugin@0.1.0`). A component records the
//! version it was built against in the names of the `isaac:plugin`
//! interfaces it imports (every plugin imports `isaac:plugin/types`, whose
//! types its exports use). [`wit_version`] reads it back, so the loader can say
//! "built against 0.2.0, this host supports 0.1.0" instead of a type error.

#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "isaac:plugin/plugin",
        // A log flood ends the call: `log` may trap.
        imports: { "isaac:plugin/log.log": async | trappable, default: async },
        exports: { default: async },
    });
}

use wasmtime::Engine;
use wasmtime::component::Component;

pub use generated::isaac::plugin::log::Level;
pub use generated::isaac::plugin::types::{CommandInfo, Error as GuestError, PluginInfo};
pub use generated::{Plugin as PluginBindings, PluginPre};

pub(crate) use generated::Plugin as World;
pub(crate) use generated::isaac::plugin::ai::{
    AiError as WitAiError, Host as AiHost, Request as WitRequest, Response as WitResponse, Usage as WitUsage,
};
pub(crate) use generated::isaac::plugin::cache::{CacheError as WitCacheError, Expiry as WitExpiry, Host as CacheHost};
pub(crate) use generated::isaac::plugin::log::Host as LogHost;
pub(crate) use generated::isaac::plugin::types::Host as TypesHost;

/// The WIT package every plugin targets.
pub const WIT_PACKAGE: &str = "isaac:plugin";
/// The version of it this host implements.
pub const WIT_VERSION: &str = "0.1.0";

/// The `isaac:plugin` version `component` was built against, read from the
/// names of the `isaac:plugin/...@VERSION` interfaces it imports or exports;
/// `None` when it names none (it does not target isaac at all).
pub fn wit_version(engine: &Engine, component: &Component) -> Option<String> {
    let ty = component.component_type();
    let prefix = format!("{WIT_PACKAGE}/");
    let names = ty.imports(engine).map(|(n, _)| n).chain(ty.exports(engine).map(|(n, _)| n));
    let mut found: Option<String> = None;
    for name in names {
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        let version = rest.split_once('@').map_or("", |(_, v)| v);
        // Prefer a version other than ours, so a mix is reported.
        if found.is_none() || version != WIT_VERSION {
            found = Some(version.to_owned());
        }
    }
    found
}
