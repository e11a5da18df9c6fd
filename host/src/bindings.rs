//! The host side of the WIT package `isaac:plugin`: generated bindings (kept
//! private) and the chosen surface the rest of the host uses.
//!
//! ## Versions
//!
//! The package is versioned. This host implements `isaac:plugin@0.3.0` (the
//! `wit/` folder) and still links plugins built against `0.2.0` and `0.1.0`.
//! Each published version is frozen in a folder of its own
//! (`host/wit-0.2.0/`, `host/wit-0.1.0/`; a test holds their bytes) and
//! linked as its own unit: `v0_2` serves 0.2.0 with the 0.3.0
//! implementation, `v0_1` serves 0.1.0 through `v0_2`, as Spin serves its
//! v1 world through v2. A component records the version it was built
//! against in the names of the `isaac:plugin` interfaces it imports (every
//! plugin imports `isaac:plugin/types`, whose types its exports use).
//! [`wit_version`] reads it back, so the loader can say "built against 0.9.0,
//! this host supports 0.3.0, 0.2.0 and 0.1.0" instead of a type error, and
//! `AnyPre` (crate-private) calls a plugin of any of them.

/// What an adapter from a frozen version (the module it is expanded in, with
/// `ai`, `log` and `types` of that version in scope) to the next one (`next`,
/// in scope: its interfaces' modules) shares with every other: `types`,
/// `log` and `ai` have not changed since 0.1.0, so each is passed through,
/// type by type. (`cache` grew, and each adapter writes its own.)
macro_rules! adapt_unchanged {
    () => {
        /// This version's `plugin-info` as the current type.
        pub(crate) fn info(old: types::PluginInfo) -> crate::bindings::PluginInfo {
            crate::bindings::PluginInfo {
                name: old.name,
                version: old.version,
                description: old.description,
                commands: old
                    .commands
                    .into_iter()
                    .map(|c| crate::bindings::CommandInfo { name: c.name, summary: c.summary, usage: c.usage })
                    .collect(),
            }
        }

        /// This version's guest `error` as the current type.
        pub(crate) fn guest_error(old: types::Error) -> crate::bindings::GuestError {
            match old {
                types::Error::Usage(m) => crate::bindings::GuestError::Usage(m),
                types::Error::Failed(m) => crate::bindings::GuestError::Failed(m),
            }
        }

        impl types::Host for crate::bindings::Nothing {}

        impl<'a, C: Send> log::Host for crate::bindings::View<'a, C>
        where
            crate::bindings::View<'a, C>: next::log::Host,
        {
            async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
                let level = match level {
                    log::Level::Trace => next::log::Level::Trace,
                    log::Level::Debug => next::log::Level::Debug,
                    log::Level::Info => next::log::Level::Info,
                    log::Level::Warn => next::log::Level::Warn,
                    log::Level::Error => next::log::Level::Error,
                };
                next::log::Host::log(self, level, message).await
            }
        }

        fn request(old: ai::Request) -> next::ai::Request {
            next::ai::Request {
                messages: old
                    .messages
                    .into_iter()
                    .map(|m| next::ai::Message { role: m.role, content: m.content })
                    .collect(),
                model: old.model,
                max_tokens: old.max_tokens,
                temperature: old.temperature,
            }
        }

        fn response(new: Result<next::ai::Response, next::ai::AiError>) -> Result<ai::Response, ai::AiError> {
            match new {
                Ok(r) => Ok(ai::Response {
                    text: r.text,
                    provider: r.provider,
                    model: r.model,
                    cached: r.cached,
                    usage: ai::Usage { input_tokens: r.usage.input_tokens, output_tokens: r.usage.output_tokens },
                    latency_ms: r.latency_ms,
                }),
                Err(next::ai::AiError::Denied) => Err(ai::AiError::Denied),
                Err(next::ai::AiError::OverBudget(m)) => Err(ai::AiError::OverBudget(m)),
                Err(next::ai::AiError::Provider(m)) => Err(ai::AiError::Provider(m)),
            }
        }

        impl<'a, C: Send> ai::Host for crate::bindings::View<'a, C>
        where
            crate::bindings::View<'a, C>: next::ai::Host,
        {
            async fn query(&mut self, req: ai::Request) -> Result<ai::Response, ai::AiError> {
                response(next::ai::Host::query(self, request(req)).await)
            }

            async fn batch(&mut self, reqs: Vec<ai::Request>) -> Vec<Result<ai::Response, ai::AiError>> {
                let reqs = reqs.into_iter().map(request).collect();
                next::ai::Host::batch(self, reqs).await.into_iter().map(response).collect()
            }

            async fn query_with_fallback(
                &mut self,
                req: ai::Request,
                providers: Vec<String>,
            ) -> Result<ai::Response, ai::AiError> {
                response(next::ai::Host::query_with_fallback(self, request(req), providers).await)
            }
        }
    };
}

pub(crate) mod v0_1;
pub(crate) mod v0_2;

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
use wasmtime::component::{Component, HasData, Linker};

pub use generated::isaac::plugin::log::Level;
pub use generated::isaac::plugin::types::{CommandInfo, Error as GuestError, PluginInfo};

pub(crate) use generated::isaac::plugin::ai::{
    AiError as WitAiError, Answer as WitAnswer, Host as AiHost, HostAnswer as AiAnswerHost, Request as WitRequest,
    Response as WitResponse, Summary as WitSummary, Usage as WitUsage,
};
pub(crate) use generated::isaac::plugin::cache::{CacheError as WitCacheError, Expiry as WitExpiry, Host as CacheHost};
pub(crate) use generated::isaac::plugin::log::Host as LogHost;
use generated::isaac::plugin::{ai, cache, log, types};

/// A call's view of capability `C`: its context, or `None` when the plugin
/// was not granted it. Each capability implements its Host trait on it.
pub struct View<'a, C>(pub(crate) Option<&'a mut C>);

impl<C> View<'_, C> {
    /// The context, if granted.
    pub fn get(&mut self) -> Option<&mut C> {
        self.0.as_deref_mut()
    }
}

/// The [`HasData`] of capability `C`'s view.
pub struct Viewed<C>(std::marker::PhantomData<fn() -> C>);

impl<C: 'static> HasData for Viewed<C> {
    type Data<'a> = View<'a, C>;
}

/// The data a linked function reaches through: `fn(&mut T) -> D::Data<'_>`.
pub(crate) type Getter<T, D> = for<'a> fn(&'a mut T) -> <D as HasData>::Data<'a>;

/// The interface [`add_types`] links, without version.
pub(crate) const TYPES: &str = "isaac:plugin/types";

/// Link `isaac:plugin/types` (types only) in every supported version.
pub(crate) fn add_types<T: Send + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    types::add_to_linker::<T, Nothing>(linker, |_| Nothing)?;
    v0_2::types::add_to_linker::<T, Nothing>(linker, |_| Nothing)?;
    v0_1::types::add_to_linker::<T, Nothing>(linker, |_| Nothing)
}

/// The data of an interface with no functions.
pub(crate) struct Nothing;

impl HasData for Nothing {
    type Data<'a> = Nothing;
}

impl types::Host for Nothing {}

/// Defines `add_NAME` for interfaces that exist in every supported version:
/// link `isaac:plugin/NAME` in each, calls reaching `D::Data` through `get`
/// (which implements the current Host trait; [`v0_2`] and [`v0_1`] adapt
/// the old ones).
macro_rules! add_interfaces {
    ($($add:ident => $iface:ident),* $(,)?) => {$(
        #[doc = concat!("Link `isaac:plugin/", stringify!($iface), "` in every supported version.")]
        pub(crate) fn $add<T: Send + 'static, D: HasData + Send>(
            linker: &mut Linker<T>,
            get: Getter<T, D>,
        ) -> wasmtime::Result<()>
        where
            for<'a> D::Data<'a>: $iface::Host + v0_2::$iface::Host + v0_1::$iface::Host,
        {
            $iface::add_to_linker::<T, D>(linker, get)?;
            v0_2::$iface::add_to_linker::<T, D>(linker, get)?;
            v0_1::$iface::add_to_linker::<T, D>(linker, get)
        }
    )*};
}

add_interfaces! {
    add_log => log,
    add_cache => cache,
    add_ai => ai,
}

/// The WIT package every plugin targets.
pub const WIT_PACKAGE: &str = "isaac:plugin";
/// The version of it this host implements.
pub const WIT_VERSION: &str = "0.3.0";
/// Every version this host links, newest first.
pub const WIT_VERSIONS: &[&str] = &["0.3.0", "0.2.0", "0.1.0"];

/// [`WIT_VERSIONS`] as a sentence's list: `0.3.0, 0.2.0 and 0.1.0`.
pub fn versions_list() -> String {
    match WIT_VERSIONS.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A plugin linked and ready to instantiate, of any supported version, or
/// a plain WASI command.
pub(crate) enum AnyPre<T: 'static> {
    /// A WASI command: it exports `wasi:cli/run` (`kind = "command"`).
    Command(wasmtime_wasi::p2::bindings::CommandPre<T>),
    /// Built against `isaac:plugin@0.3.0`.
    V0_3(generated::PluginPre<T>),
    /// Built against `isaac:plugin@0.2.0`.
    V0_2(v0_2::PluginPre<T>),
    /// Built against `isaac:plugin@0.1.0`.
    V0_1(v0_1::PluginPre<T>),
}

impl<T: Send + 'static> AnyPre<T> {
    /// Check the world of `pre` as `version` (one of [`WIT_VERSIONS`]).
    pub fn new(pre: wasmtime::component::InstancePre<T>, version: &str) -> wasmtime::Result<Self> {
        Ok(match version {
            "0.1.0" => AnyPre::V0_1(v0_1::PluginPre::new(pre)?),
            "0.2.0" => AnyPre::V0_2(v0_2::PluginPre::new(pre)?),
            _ => AnyPre::V0_3(generated::PluginPre::new(pre)?),
        })
    }

    /// A WASI command: `pre` must export `wasi:cli/run`.
    pub fn command(pre: wasmtime::component::InstancePre<T>) -> wasmtime::Result<Self> {
        Ok(AnyPre::Command(wasmtime_wasi::p2::bindings::CommandPre::new(pre)?))
    }

    /// Whether the plugin is a Unix filter (built against 0.3.0 or later,
    /// or a WASI command): its WASI stdio is the call's pipes. Older
    /// plugins keep what they had: no stdin, and their prints captured.
    pub fn filters(&self) -> bool {
        matches!(self, AnyPre::V0_3(_) | AnyPre::Command(_))
    }

    /// Whether it is a WASI command (its arguments are its WASI `argv`).
    pub fn is_command(&self) -> bool {
        matches!(self, AnyPre::Command(_))
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &Engine {
        match self {
            AnyPre::Command(pre) => pre.engine(),
            AnyPre::V0_3(pre) => pre.engine(),
            AnyPre::V0_2(pre) => pre.engine(),
            AnyPre::V0_1(pre) => pre.engine(),
        }
    }

    /// Instantiate it in `store`, and nothing else (for benchmarks).
    #[cfg(feature = "testing")]
    pub async fn instantiate(&self, store: &mut wasmtime::Store<T>) -> wasmtime::Result<()> {
        match self {
            AnyPre::Command(pre) => pre.instantiate_async(store).await.map(drop),
            AnyPre::V0_3(pre) => pre.instantiate_async(store).await.map(drop),
            AnyPre::V0_2(pre) => pre.instantiate_async(store).await.map(drop),
            AnyPre::V0_1(pre) => pre.instantiate_async(store).await.map(drop),
        }
    }

    /// Instantiate it in `store` and call `metadata()` (a WASI command has
    /// none: its manifest names its commands).
    pub async fn metadata(&self, store: &mut wasmtime::Store<T>) -> wasmtime::Result<PluginInfo> {
        match self {
            AnyPre::Command(_) => Err(wasmtime::format_err!("a WASI command has no metadata export")),
            AnyPre::V0_3(pre) => pre.instantiate_async(&mut *store).await?.call_metadata(store).await,
            AnyPre::V0_2(pre) => Ok(v0_2::info(pre.instantiate_async(&mut *store).await?.call_metadata(store).await?)),
            AnyPre::V0_1(pre) => Ok(v0_1::info(pre.instantiate_async(&mut *store).await?.call_metadata(store).await?)),
        }
    }

    /// Instantiate it in `store` and call `run(command, args)`; a WASI
    /// command's `main` (its arguments are in `store`'s WASI context): its
    /// success is an empty result, a non-zero exit the error
    /// [`wasmtime_wasi::I32Exit`].
    pub async fn run(
        &self,
        store: &mut wasmtime::Store<T>,
        command: &str,
        args: &[String],
    ) -> wasmtime::Result<Result<String, GuestError>> {
        match self {
            AnyPre::Command(pre) => {
                let program = pre.instantiate_async(&mut *store).await?;
                match program.wasi_cli_run().call_run(store).await {
                    Ok(Ok(())) => Ok(Ok(String::new())),
                    Ok(Err(())) => Err(wasmtime::Error::new(wasmtime_wasi::I32Exit(1))),
                    Err(e) if e.downcast_ref::<wasmtime_wasi::I32Exit>().is_some_and(|exit| exit.0 == 0) => {
                        Ok(Ok(String::new()))
                    }
                    Err(e) => Err(e),
                }
            }
            AnyPre::V0_3(pre) => pre.instantiate_async(&mut *store).await?.call_run(store, command, args).await,
            AnyPre::V0_2(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                Ok(plugin.call_run(store, command, args).await?.map_err(v0_2::guest_error))
            }
            AnyPre::V0_1(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                Ok(plugin.call_run(store, command, args).await?.map_err(v0_1::guest_error))
            }
        }
    }
}

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
        // Prefer a version we do not link, so a mix is reported.
        if found.is_none() || !WIT_VERSIONS.contains(&version) {
            found = Some(version.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    /// A published version is frozen: its WIT files may not change, or a
    /// plugin built against them would meet a host that means something
    /// else by the same names. (The current version, `wit/`, is published
    /// when the next one begins: copy it to `host/wit-X.Y.Z/` and add it
    /// here.)
    #[test]
    fn published_versions_stay_frozen() {
        for (dir, sha256) in [
            ("wit-0.1.0", "e7327baf1fbe16fef2585d24871d382fbc639f9aa996b4ff7f2d32eb78b75b2d"),
            ("wit-0.2.0", "66282db297bd2e5618cdef6d028fe4a658dccda6b82372cb9e08954614b7c8fe"),
        ] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut files: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            let bytes: Vec<u8> = files.iter().flat_map(|f| std::fs::read(f).unwrap()).collect();
            assert_eq!(crate::digest::sha256_hex(&bytes), sha256, "{dir} changed: a published version is frozen");
        }
        assert!(
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit/world.wit"))
                .unwrap()
                .starts_with(&format!("package isaac:plugin@{};", super::WIT_VERSION))
        );
    }
}
