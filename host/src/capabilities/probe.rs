//! `isaac:probe/probe`: a capability that exists only in this crate's unit
//! tests, to show what adding one takes, and to keep it true: this file and
//! its line in the list of `capabilities/mod.rs`, nothing else in the host.
//! A real capability's WIT would be a file under `wit/` and its guest side
//! a module of the SDK; this one's WIT is inline.
//!
//! It owns a permission (`[permissions] probe = { max_greetings = N }`), a
//! table of `config.toml` (`[probe] greeting = "..."`), its review line and
//! its refusal: each checked by the tests below through the aggregates the
//! list generates, the same ones the real capabilities go through.

use wasmtime::component::Linker;

use super::{CallData, Capability, GrantInputs, Refusal, Section, View, Viewed, view};

mod generated {
    wasmtime::component::bindgen!({
        inline: r#"
            package isaac:probe@0.1.0;

            interface probe {
                enum probe-error {
                    /// Not granted.
                    denied,
                    /// The call has had all its greetings.
                    used-up,
                }

                /// The configured greeting, while the call has greetings left.
                greet: func() -> result<string, probe-error>;
            }

            world probed {
                import probe;
            }
        "#,
        imports: { default: async },
    });
}

use generated::isaac::probe::probe::{self, ProbeError};

/// `[permissions] probe`: how many greetings a call may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbePermission {
    /// Most greetings per call.
    pub max_greetings: u32,
}

/// `[probe]` in config.toml.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeConfig {
    /// What `greet` answers.
    pub greeting: String,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig { greeting: "hello".to_owned() }
    }
}

impl Section for ProbeConfig {}

/// What a plugin was granted: its greeting and how many.
#[derive(Debug, Clone)]
pub struct ProbeGrant {
    greeting: String,
    max_greetings: u32,
}

/// One call's greetings.
#[derive(Debug)]
pub struct ProbeCtx {
    grant: ProbeGrant,
    greeted: u32,
}

impl Capability for ProbeCtx {
    const NAME: &'static str = "probe";
    const INTERFACES: &'static [&'static str] = &["isaac:probe/probe"];
    type Permission = Option<ProbePermission>;
    type Config = ProbeConfig;
    type Grant = ProbeGrant;

    fn describe(asked: &Option<ProbePermission>) -> Vec<String> {
        asked.iter().map(|p| format!("up to {} greetings per call", p.max_greetings)).collect()
    }

    fn grant(asked: &Option<ProbePermission>, inputs: &GrantInputs<'_>) -> Option<ProbeGrant> {
        let asked = (*asked)?;
        Some(ProbeGrant { greeting: Self::config(inputs.settings).greeting, max_greetings: asked.max_greetings })
    }

    fn open(grant: &ProbeGrant) -> Self {
        ProbeCtx { grant: grant.clone(), greeted: 0 }
    }

    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        probe::add_to_linker::<T, Viewed<Self>>(linker, view::<T, Self>)
    }
}

impl Refusal for ProbeError {
    fn refused() -> Self {
        ProbeError::Denied
    }
}

impl probe::Host for View<'_, ProbeCtx> {
    async fn greet(&mut self) -> Result<String, ProbeError> {
        let ctx = self.access::<ProbeError>()?;
        if ctx.greeted == ctx.grant.max_greetings {
            return Err(ProbeError::UsedUp);
        }
        ctx.greeted += 1;
        Ok(ctx.grant.greeting.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use wasmtime::component::{Component, Linker, ResourceTable};
    use wasmtime::{Engine, Store};

    use super::super::{
        CONFIG_SECTIONS, CallData, Contexts, GrantInputs, Granted, PERMISSION_SECTIONS, add_to_linker, describe,
    };
    use super::*;
    use crate::cache::MultiLevelCache;
    use crate::cache::clock::SystemClock;
    use crate::cache::lmdb::LmdbStore;
    use crate::grants::{Protected, Request};
    use crate::manifest::Manifest;
    use crate::settings::Settings;
    use crate::state::State;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().unwrap()
    }

    const MANIFEST: &str = "name = \"p\"\nversion = \"1\"\n[permissions]\nprobe = { max_greetings = 2 }\n";

    /// What a call of the plugin of `manifest` gets, with `config` as
    /// config.toml.
    fn contexts(manifest: &str, config: &str) -> Contexts {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), config).unwrap();
        let settings = Settings::for_home(home.path(), CONFIG_SECTIONS).unwrap();
        let manifest = Manifest::parse(Path::new("plugin.toml"), manifest, PERMISSION_SECTIONS).unwrap();
        let state = State::open(home.path(), 8).unwrap();
        let cache = Arc::new(MultiLevelCache::new(
            Arc::new(LmdbStore::new(state)),
            settings.cache().clone(),
            Arc::new(SystemClock),
        ));
        let inputs = GrantInputs {
            plugin: "p",
            granted: &manifest.permissions,
            dirs: &[],
            protected: &Protected::default(),
            settings: &settings,
            cache: &|| cache.clone(),
            ai: &|| unreachable!("the probe asks for no AI"),
            http: &|| unreachable!("the probe asks for no HTTP"),
        };
        Granted::decide(&inputs).open()
    }

    fn greet(contexts: &mut Contexts) -> Result<String, ProbeError> {
        let mut view = View(contexts.probe.as_mut());
        runtime().block_on(probe::Host::greet(&mut view))
    }

    #[test]
    fn its_permission_and_config_are_read_checked_and_granted() {
        let mut granted = contexts(MANIFEST, "[probe]\ngreeting = \"hi\"\n");
        assert_eq!(greet(&mut granted), Ok("hi".to_owned()));
        assert_eq!(greet(&mut granted), Ok("hi".to_owned()));
        assert_eq!(greet(&mut granted), Err(ProbeError::UsedUp));
        let mut defaults = contexts(MANIFEST, "");
        assert_eq!(greet(&mut defaults), Ok("hello".to_owned()));
        let mut ungranted = contexts("name = \"p\"\nversion = \"1\"\n", "[probe]\ngreeting = \"hi\"\n");
        assert_eq!(greet(&mut ungranted), Err(ProbeError::Denied));
    }

    #[test]
    fn its_sections_are_errors_with_their_line_when_wrong() {
        let bad = MANIFEST.replace("max_greetings = 2", "max_greeting = 2");
        let err = Manifest::parse(Path::new("plugin.toml"), &bad, PERMISSION_SECTIONS).unwrap_err();
        assert_eq!(err.position.map(|p| p.0), Some(4), "{err}");
        assert!(err.message.contains("unknown field `max_greeting`"), "{err}");
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), "[limits]\nmemory_mb = 8\n[probe]\ngreting = \"x\"\n").unwrap();
        let err = Settings::for_home(home.path(), CONFIG_SECTIONS).unwrap_err().to_string();
        assert!(err.contains("config.toml:4:1: unknown field `greting`"), "{err}");
    }

    #[test]
    fn the_review_describes_it() {
        let manifest = Manifest::parse(Path::new("plugin.toml"), MANIFEST, PERMISSION_SECTIONS).unwrap();
        let request = Request { permissions: manifest.permissions, limits: manifest.limits };
        assert!(describe(&request).contains(&"probe: up to 2 greetings per call".to_owned()));
    }

    /// A call's data for the linker test.
    struct Data {
        contexts: Contexts,
        table: ResourceTable,
        wasi: wasmtime_wasi::WasiCtx,
    }

    impl CallData for Data {
        fn parts(&mut self) -> (&mut Contexts, &mut ResourceTable) {
            (&mut self.contexts, &mut self.table)
        }
    }

    impl wasmtime_wasi::WasiView for Data {
        fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
            wasmtime_wasi::WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
        }
    }

    #[test]
    fn the_list_links_it_for_a_component_that_imports_it() {
        let engine = Engine::new(&crate::engine::base_config()).unwrap();
        let wasm = wat::parse_str(
            r#"(component
                (import "isaac:probe/probe@0.1.0" (instance
                    (type $kinds (enum "denied" "used-up"))
                    (export "probe-error" (type $e (eq $kinds)))
                    (export "greet" (func (result (result string (error $e)))))))
            )"#,
        )
        .unwrap();
        let component = Component::new(&engine, wasm).unwrap();
        let mut linker = Linker::<Data>::new(&engine);
        add_to_linker(&mut linker, &|_| true).unwrap();
        let data = Data {
            contexts: Contexts::default(),
            table: ResourceTable::new(),
            wasi: wasmtime_wasi::WasiCtx::builder().build(),
        };
        let mut store = Store::new(&engine, data);
        runtime().block_on(linker.instantiate_async(&mut store, &component)).unwrap();
    }
}
