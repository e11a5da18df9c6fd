//! What a plugin may use, one module per capability, in the shape of
//! wasmtime's `wasi-keyvalue` and Spin's factors. A capability owns
//! everything about itself, in its [`Capability`] impl:
//!
//! - its permission ([`Capability::Permission`], `[permissions] NAME` in
//!   `plugin.toml`), checked when a manifest is read ([`PERMISSION_SECTIONS`])
//!   and read back by [`Capability::asked`], and how the review describes it
//!   ([`Capability::describe`]);
//! - its settings ([`Capability::Config`], the `[NAME]` table of
//!   `config.toml`), checked when the config is read ([`CONFIG_SECTIONS`])
//!   and read back by [`Capability::config`];
//! - whether its calls need a runtime with an I/O driver, and whether what
//!   a plugin sends through it can leave the machine;
//! - the one decision whether (and how much) a plugin gets it,
//!   [`Capability::grant`], made when the plugin is loaded; each call's
//!   context is opened from that decision, and an ungranted capability's
//!   every function refuses through one path, [`View::access`];
//! - how its own traps end a call ([`Capability::stopped`]);
//! - its [`Capability::add_to_linker`], for every supported WIT version.
//!
//! The list at the bottom of this file names them all, one line each; it
//! generates every aggregate: the sections of `[permissions]` and of
//! `config.toml` the capabilities own, [`Contexts`], [`Granted`] (with
//! whether a call needs I/O or can send data off the machine), the linker,
//! the trap mapping and the review text ([`describe`]). WASI p2 ([`wasi`]) is linked for every plugin,
//! its host side from wasmtime-wasi; its context grants only the plugin's
//! directories, variables and output.
//!
//! A new capability: its WIT interface (and the SDK's module), its module
//! here and one line in the list. The manifest and the config do not name
//! it: they hand its sections to the list ([`crate::tomlfile::Sections`]).

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
use crate::grants::{GrantedDir, Protected, Request};
use crate::manifest::Permissions;
use crate::settings::Settings;
use crate::tomlfile::Sections;

/// What a capability decides from: the plugin, what the user granted it,
/// the settings and the host's shared parts.
pub struct GrantInputs<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// What the user granted it (nothing when its grant is missing or stale).
    pub granted: &'a Permissions,
    /// Its granted directories, with their identities.
    pub dirs: &'a [GrantedDir],
    /// What no directory may cover.
    pub protected: &'a Protected,
    /// The settings.
    pub settings: &'a Settings,
    /// The host's cache (built on first use).
    pub cache: &'a (dyn Fn() -> Arc<MultiLevelCache> + Sync),
    /// The host's AI router (built on first use).
    pub ai: &'a (dyn Fn() -> Result<Arc<AiRouter>, AiError> + Sync),
    /// The host's network settings for plugin HTTP (built on first use).
    pub http: &'a (dyn Fn() -> Result<Arc<http::HttpNet>, http::NetError> + Sync),
}

/// One capability: its permission, a per-call context built
/// from what was granted, and its WIT interface.
pub trait Capability: Slot + Send + Sized + 'static {
    /// Its name: its key under `[permissions]` and its section of
    /// `config.toml`.
    const NAME: &'static str;

    /// Whether its calls reach the network through the async runtime, so
    /// need a runtime with an I/O driver.
    const NEEDS_IO: bool = false;

    /// Whether what a plugin passes through it can leave this machine (a
    /// request to a server, a prompt to a provider): `isaac ask` asks first.
    const OFF_MACHINE: bool = false;

    /// What a plugin asks for, `[permissions] NAME` (its default: nothing).
    type Permission: Permission;

    /// Its settings, the `[NAME]` table of `config.toml` ([`NoConfig`]:
    /// none).
    type Config: Section;

    /// Its permission among `asked` (a plugin's `[permissions]`, checked
    /// when read): nothing when it did not ask.
    fn asked(asked: &Permissions) -> Self::Permission {
        asked.capabilities.get(Self::NAME)
    }

    /// Its settings (checked when the config was read): the defaults when
    /// the table is absent.
    fn config(settings: &Settings) -> Self::Config {
        settings.section(Self::NAME)
    }

    /// What a plugin was granted of it, decided once per load.
    type Grant: Clone + std::fmt::Debug + Send + Sync;

    /// One line per thing `asked` allows, for the review at install (each
    /// shown after `NAME: `).
    fn describe(asked: &Self::Permission) -> Vec<String>;

    /// Whether, and how much, the plugin described by `inputs`, which was
    /// granted `asked`, gets this capability; `None`: not at all (each of
    /// its calls refuses).
    fn grant(asked: &Self::Permission, inputs: &GrantInputs<'_>) -> Option<Self::Grant>;

    /// The context of one call.
    fn open(grant: &Self::Grant) -> Self;

    /// The interfaces [`add_to_linker`](Self::add_to_linker) links, by
    /// name without version (`isaac:plugin/log`): a linker for one plugin
    /// links the capability only if the plugin imports one of them.
    const INTERFACES: &'static [&'static str];

    /// Link its WIT interface, in every supported version; each call
    /// reaches its context through `T`'s [`Contexts`].
    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()>;

    /// How a trap of its own ended a call (a limit it enforces), if `trap`
    /// is one.
    fn stopped(trap: &wasmtime::Error) -> Option<Stopped> {
        let _ = trap;
        None
    }
}

/// What a plugin asks of one capability in `[permissions]`.
pub trait Permission:
    Clone + std::fmt::Debug + Default + PartialEq + serde::Serialize + serde::de::DeserializeOwned + Send + Sync
{
    /// Whether a plugin asks for it (`false`: every plugin has it, and
    /// `[permissions]` has no key for it).
    const ASKED: bool = true;
}

impl Permission for bool {}
impl<T> Permission for Option<T> where
    T: Clone + std::fmt::Debug + PartialEq + serde::Serialize + serde::de::DeserializeOwned + Send + Sync
{
}

/// The permission of a capability every plugin has: nothing to ask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Always;

impl Permission for Always {
    const ASKED: bool = false;
}

/// A capability's table of `config.toml`.
pub trait Section:
    Clone + std::fmt::Debug + Default + PartialEq + serde::Serialize + serde::de::DeserializeOwned
{
    /// Whether the table exists (`false`: the capability has no settings).
    const PRESENT: bool = true;
}

/// The settings of a capability that has none: no table in `config.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoConfig;

impl Section for NoConfig {
    const PRESENT: bool = false;
}

/// Check a section as `T` and give its canonical value: `None` when it is
/// absent or says no more than the default (a permission not asked, a
/// table of defaults), so "nothing" has one form.
fn canonical<T: serde::Serialize + serde::de::DeserializeOwned + Default + PartialEq>(
    value: Option<toml::de::ValueDeserializer<'_>>,
) -> Result<Option<toml::Value>, toml::de::Error> {
    let Some(value) = value else { return Ok(None) };
    let typed = T::deserialize(value)?;
    Ok((typed != T::default()).then(|| toml::Value::try_from(&typed).ok()).flatten())
}

/// The capabilities' parts of `[permissions]` in `plugin.toml`, for
/// [`crate::manifest::Manifest::parse`].
pub const PERMISSION_SECTIONS: &dyn Sections = &Owners(|owner| owner.permission);

/// The capabilities' tables of `config.toml`, for
/// [`crate::settings::Settings::resolve`].
pub const CONFIG_SECTIONS: &dyn Sections = &Owners(|owner| owner.config);

/// How a section is checked ([`canonical`] of its type).
type Check = for<'a> fn(Option<toml::de::ValueDeserializer<'a>>) -> Result<Option<toml::Value>, toml::de::Error>;

/// One capability's sections: its name, and how each is checked (`None`:
/// it has none of that kind).
struct Owner {
    name: &'static str,
    permission: Option<Check>,
    config: Option<Check>,
}

/// The sections of one kind (picked from each [`Owner`]) the capabilities
/// own.
struct Owners(fn(&Owner) -> Option<Check>);

impl Sections for Owners {
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            owners().iter().filter(|owner| (self.0)(owner).is_some()).map(|owner| owner.name).collect();
        names.sort_unstable();
        names
    }

    fn check(
        &self,
        name: &str,
        value: Option<toml::de::ValueDeserializer<'_>>,
    ) -> Option<Result<Option<toml::Value>, toml::de::Error>> {
        let check = owners().iter().find(|owner| owner.name == name).and_then(self.0)?;
        Some(check(value))
    }
}

/// A call ended by a capability's own limit: what the plugin did and what
/// the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// What happened ("logged more than 65536 bytes").
    pub what: String,
    /// What to do.
    pub how: String,
}

/// A refusal a WIT interface can say to a plugin: its `denied` error.
pub trait Refusal {
    /// The refusal.
    fn refused() -> Self;
}

impl<C> View<'_, C> {
    /// The context, or the interface's refusal when the plugin was not
    /// granted the capability: the one way every function of a capability
    /// reaches its context.
    pub fn access<E: Refusal>(&mut self) -> Result<&mut C, E> {
        self.0.as_deref_mut().ok_or_else(E::refused)
    }
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
macro_rules! contexts {
    ($($(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $field:ident: $ctx:ty,)*) => {
        /// The capability contexts of one call; `None` where not granted.
        #[derive(Default)]
        pub struct Contexts {
            $($(#[doc = $doc])* $(#[cfg($cfg)])? pub $field: Option<$ctx>,)*
        }

        $($(#[cfg($cfg)])? impl Slot for $ctx {
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
            $($(#[doc = $doc])* $(#[cfg($cfg)])? pub $field: Option<<$ctx as Capability>::Grant>,)*
        }

        impl Granted {
            /// Each capability's decision for the plugin of `inputs`.
            pub fn decide(inputs: &GrantInputs<'_>) -> Self {
                let asked = inputs.granted;
                Granted {
                    wasi: wasi::WasiGrant::decide(inputs),
                    $($(#[cfg($cfg)])? $field: <$ctx>::grant(&<$ctx>::asked(asked), inputs),)*
                }
            }

            /// The contexts of one call.
            pub fn open(&self) -> Contexts {
                Contexts { $($(#[cfg($cfg)])? $field: self.$field.as_ref().map(<$ctx>::open),)* }
            }

            /// Whether a call may reach the network through the async
            /// runtime (a granted capability that
            /// [needs I/O](Capability::NEEDS_IO)), so needs a runtime with
            /// an I/O driver.
            pub fn needs_io(&self) -> bool {
                let mut needs = false;
                $($(#[cfg($cfg)])? { needs |= <$ctx>::NEEDS_IO && self.$field.is_some(); })*
                needs
            }

            /// Whether a call can send data off this machine (a granted
            /// capability that [can](Capability::OFF_MACHINE)).
            pub fn off_machine(&self) -> bool {
                let mut sends = false;
                $($(#[cfg($cfg)])? { sends |= <$ctx>::OFF_MACHINE && self.$field.is_some(); })*
                sends
            }
        }

        /// Each capability's sections.
        // One push per entry: an entry may carry a `cfg`, which an element
        // of `vec![]` may not.
        #[allow(clippy::vec_init_then_push)]
        fn owners() -> Vec<Owner> {
            let mut owners = Vec::new();
            $($(#[cfg($cfg)])? owners.push(Owner {
                name: <$ctx>::NAME,
                permission: <<$ctx as Capability>::Permission as Permission>::ASKED
                    .then_some(canonical::<<$ctx as Capability>::Permission> as Check),
                config: <<$ctx as Capability>::Config as Section>::PRESENT
                    .then_some(canonical::<<$ctx as Capability>::Config> as Check),
            });)*
            owners
        }

        /// Link the interfaces of WASI p2 and of every capability that
        /// `wanted` names (`wasi:cli/stdin`, `isaac:plugin/log`: no
        /// version) into `linker`.
        pub fn add_to_linker<T: CallData + WasiView>(
            linker: &mut Linker<T>,
            wanted: &dyn Fn(&str) -> bool,
        ) -> wasmtime::Result<()> {
            wasi::add_to_linker(linker, wanted)?;
            if wanted(crate::bindings::TYPES) {
                crate::bindings::add_types(linker)?;
            }
            $($(#[cfg($cfg)])? if <$ctx>::INTERFACES.iter().any(|i| wanted(i)) {
                <$ctx>::add_to_linker(linker)?;
            })*
            Ok(())
        }

        /// How a capability's own trap ended a call, if `trap` is one.
        pub fn stopped(trap: &wasmtime::Error) -> Option<Stopped> {
            $($(#[cfg($cfg)])? if let Some(stopped) = <$ctx>::stopped(trap) { return Some(stopped); })*
            None
        }

        /// The review's lines for what `request` asks: each capability's,
        /// WASI's, and the limits it raises; warnings (secret-looking
        /// variables) are marked.
        pub fn describe(request: &Request) -> Vec<String> {
            let asked = &request.permissions;
            let mut lines = Vec::new();
            $($(#[cfg($cfg)])? lines.extend(<$ctx>::describe(&<$ctx>::asked(asked)).into_iter().map(|l| format!("{}: {l}", <$ctx>::NAME)));)*
            lines.extend(wasi::describe(asked));
            if let Some(mb) = request.limits.memory_mb {
                lines.push(format!("memory: up to {mb} MiB per call (more than the default)"));
            }
            if let Some(ms) = request.limits.deadline_ms {
                lines.push(format!("time: up to {ms} ms per call (longer than the default)"));
            }
            lines
        }
    };
}

impl Granted {
    /// Nothing at all: the grant of a `metadata` call or a refused plugin.
    pub fn none() -> Self {
        Granted::default()
    }
}

contexts! {
    /// `isaac:plugin/log`: diagnostics on stderr.
    log: log::LogCtx,
    /// `isaac:plugin/cache`: the plugin's namespace of the cache.
    cache: cache::CacheCtx,
    /// `isaac:plugin/ai`: AI queries within a budget per call.
    ai: ai::AiCtx,
    /// `wasi:http/outgoing-handler`: HTTP to the granted hosts.
    http: http::HttpCtx,
    /// `isaac:probe/probe`: a capability of the unit tests only.
    #[cfg(test)]
    probe: probe::ProbeCtx,
}

#[cfg(test)]
mod probe;
#[cfg(test)]
mod tests;
