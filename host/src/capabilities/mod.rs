//! What a plugin may use, one module per capability, in the shape of
//! wasmtime's `wasi-keyvalue` and Spin's factors. Each capability has:
//!
//! - a per-call context (`LogCtx`, `CacheCtx`, `AiCtx`), the `Self` of its
//!   [`Capability`] impl, through whose [`View`] the generated Host trait of
//!   its WIT interface is implemented;
//! - one constructor from the grant and the settings, [`Capability::grant`],
//!   the only place that decides whether (and how much) a plugin gets it;
//! - its [`Capability::add_to_linker`], for every supported WIT version.
//!
//! The list at the bottom of this file names them all, one line each: it
//! declares [`Contexts`] (one optional context per capability, the part of a
//! call's state the capabilities see) and [`Granted`] (what a plugin was
//! granted of each). Everything defaults to nothing, so a call built from
//! [`Granted::none`] (a `metadata` call, a refused plugin) reaches nothing by
//! construction. WASI p2 ([`wasi`]) is linked for every plugin, its host side
//! from wasmtime-wasi; its context grants only the plugin's directories,
//! variables and output. A capability from another crate fits the same way:
//! linked for every plugin, its own hook deciding from the grant, sharing the
//! call's `ResourceTable`.
//!
//! A new capability: its WIT interface, its manifest field, its module here,
//! one `add_*` in [`crate::bindings`], and one line in the list.

pub mod ai;
pub mod cache;
pub mod http;
pub mod log;
pub mod wasi;

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::WasiView;

use crate::ai::{AiError, AiRouter};
pub use crate::bindings::{View, Viewed};
use crate::cache::MultiLevelCache;
use crate::grants::{GrantedDir, Protected};
use crate::manifest::Permissions;
use crate::settings::Settings;

/// What a capability decides from: the plugin, what the user granted it,
/// the settings and the host's shared parts.
pub struct GrantInputs<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// What the user granted it (nothing when its grant is missing or stale).
    pub granted: &'a Permissions,
    /// Its granted directories, with their identities.
    pub dirs: &'a [GrantedDir],
    /// Directories every call of this host may read (`isaac run --allow-read`).
    pub allow_read: &'a [wasi::WasiDir],
    /// What no directory may cover.
    pub protected: &'a Protected,
    /// The settings.
    pub settings: &'a Settings,
    /// The host's cache.
    pub cache: &'a Arc<MultiLevelCache>,
    /// The host's AI router (built on first use).
    pub ai: &'a (dyn Fn() -> Result<Arc<AiRouter>, AiError> + Sync),
    /// The host's network settings for plugin HTTP (built on first use).
    pub http: &'a (dyn Fn() -> Result<Arc<http::HttpNet>, http::NetError> + Sync),
}

/// One capability: a per-call context, built from what was granted.
pub trait Capability: Slot + Send + Sized + 'static {
    /// What a plugin was granted of it, decided once per load.
    type Grant: Clone + std::fmt::Debug + Send + Sync;

    /// Whether, and how much, the plugin described by `inputs` gets this
    /// capability; `None`: not at all (its calls are `denied`).
    fn grant(inputs: &GrantInputs<'_>) -> Option<Self::Grant>;

    /// The context of one call.
    fn open(grant: &Self::Grant) -> Self;

    /// Link its WIT interface, in every supported version; each call
    /// reaches its context through `T`'s [`Contexts`].
    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()>;
}

/// The per-call state of a `Store`, as the capabilities see it.
pub trait CallData: Send + 'static {
    /// The call's capability contexts and its resource table (shared by
    /// every capability with resources: WASI, wasi-http).
    fn parts(&mut self) -> (&mut Contexts, &mut ResourceTable);

    /// The call's capability contexts.
    fn contexts(&mut self) -> &mut Contexts {
        self.parts().0
    }
}

/// Where a capability's context sits in [`Contexts`] (written by the list).
pub trait Slot {
    /// This capability's context in `contexts`, if granted.
    fn slot(contexts: &mut Contexts) -> Option<&mut Self>;
}

/// The getter every capability links with.
pub(crate) fn view<T: CallData, C: Slot>(data: &mut T) -> View<'_, C> {
    View(C::slot(data.contexts()))
}

/// Declares [`Contexts`], [`Granted`] and [`add_to_linker`] from the list
/// of capabilities.
macro_rules! capabilities {
    ($($(#[$doc:meta])* $field:ident: $ctx:ty,)*) => {
        /// The capability contexts of one call; `None` where not granted.
        #[derive(Default)]
        pub struct Contexts {
            $($(#[$doc])* pub $field: Option<$ctx>,)*
        }

        $(impl Slot for $ctx {
            fn slot(contexts: &mut Contexts) -> Option<&mut Self> {
                contexts.$field.as_mut()
            }
        })*

        /// What a plugin was granted of each capability, decided once when it
        /// is loaded; [`Granted::none`] grants nothing.
        #[derive(Debug, Clone, Default)]
        pub struct Granted {
            /// What its WASI context reaches.
            pub wasi: wasi::WasiGrant,
            $($(#[$doc])* pub $field: Option<<$ctx as Capability>::Grant>,)*
        }

        impl Granted {
            /// Each capability's decision for the plugin of `inputs`.
            pub fn decide(inputs: &GrantInputs<'_>) -> Self {
                Granted { wasi: wasi::WasiGrant::decide(inputs), $($field: <$ctx>::grant(inputs),)* }
            }

            /// The contexts of one call.
            pub fn open(&self) -> Contexts {
                Contexts { $($field: self.$field.as_ref().map(<$ctx>::open),)* }
            }
        }

        /// Link WASI p2 and every capability into `linker`.
        pub fn add_to_linker<T: CallData + WasiView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
            wasi::add_to_linker(linker)?;
            crate::bindings::add_types(linker)?;
            $(<$ctx>::add_to_linker(linker)?;)*
            Ok(())
        }
    };
}

impl Granted {
    /// Nothing at all: the grant of a `metadata` call or a refused plugin.
    pub fn none() -> Self {
        Granted::default()
    }

    /// Whether a call may reach the network through the async runtime (AI
    /// queries, outbound HTTP), so it needs a runtime with an I/O driver.
    /// The cache needs none: a Redis tier runs on a runtime of its own.
    pub fn needs_io(&self) -> bool {
        self.ai.is_some() || self.http.is_some()
    }
}

capabilities! {
    /// `isaac:plugin/log`: diagnostics on stderr.
    log: log::LogCtx,
    /// `isaac:plugin/cache`: the plugin's namespace of the cache.
    cache: cache::CacheCtx,
    /// `isaac:plugin/ai`: AI queries within a budget per call.
    ai: ai::AiCtx,
    /// `wasi:http/outgoing-handler`: HTTP to the granted hosts.
    http: http::HttpCtx,
}
