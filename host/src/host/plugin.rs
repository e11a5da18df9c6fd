//! Loaded plugins, a loaded set of them, and the catalog of what is
//! installed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::bindings::{AnyPre, GuestError};
use crate::index::{FileStamp, IndexEntry, PluginMeta};
use crate::loader::PluginFailure;
use crate::manifest::Manifest;
use crate::pipes::Stdio;
use crate::registry::Registry;
use crate::sandbox::{CallSpec, HostState};
use crate::terminal::{self, Lines};

use super::RunError;

/// A plugin that is compiled, linked and ready to run.
pub struct LoadedPlugin {
    /// Its name.
    pub name: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// What loading found (commands, hash, WIT version).
    pub meta: PluginMeta,
    /// Whether its compiled code came from the cache.
    pub from_cache: bool,
    /// How long compiling or deserializing took.
    pub load_time: Duration,
    pub(super) pre: AnyPre<HostState>,
    pub(super) spec: CallSpec,
    /// Stamps of `plugin.toml` and the component when loaded.
    pub(super) stamps: (FileStamp, FileStamp),
}

impl LoadedPlugin {
    /// Why this plugin may not run (permissions not granted), if so.
    pub fn refused(&self) -> Option<&str> {
        self.spec.refused.as_deref()
    }

    /// Whether it is a Unix filter (built against `isaac:plugin@0.3.0` or
    /// later): its stdin and stdout are the call's pipes.
    pub fn filters(&self) -> bool {
        self.pre.filters()
    }

    /// Whether its calls need an async runtime with an I/O driver (it was
    /// granted AI queries or outbound HTTP); a runtime with a timer alone
    /// runs the others.
    pub fn needs_io(&self) -> bool {
        self.spec.granted.needs_io()
    }

    /// Whether its calls can send data off this machine: it was granted
    /// outbound HTTP or AI queries (whose prompts go to a provider).
    pub fn sends_off_machine(&self) -> bool {
        self.spec.granted.off_machine()
    }

    /// Instantiate the plugin in a fresh sandbox and drop it, without a
    /// call: the instantiation phase alone, for benchmarks
    /// (`testing::instantiate`).
    #[cfg(feature = "testing")]
    pub(crate) async fn instantiate_only(&self) -> Result<(), RunError> {
        Ok(self.spec.instantiate(&self.pre).await?)
    }

    /// Run `command` in a fresh sandbox, with an empty stdin; what it writes
    /// to stdout comes before its result.
    pub async fn run(&self, command: &str, args: &[String]) -> Result<String, RunError> {
        self.call(&self.spec, command, args, &Stdio::default()).await
    }

    /// Run `command` in a fresh sandbox with `stdio`, stopping it (within an
    /// epoch tick) once `cancel` is set.
    pub async fn run_with(
        &self,
        command: &str,
        args: &[String],
        stdio: &Stdio,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<String, RunError> {
        let spec = CallSpec { cancel, ..self.spec.clone() };
        self.call(&spec, command, args, stdio).await
    }

    pub(super) async fn call(
        &self,
        spec: &CallSpec,
        command: &str,
        args: &[String],
        stdio: &Stdio,
    ) -> Result<String, RunError> {
        // A WASI command's fixed arguments come before the user's.
        let fixed = self.manifest.commands.get(command).map_or(&[][..], |c| c.args.as_slice());
        let args: std::borrow::Cow<'_, [String]> = match fixed {
            [] => args.into(),
            fixed => [fixed, args].concat().into(),
        };
        match spec.run(&self.pre, command, &args, stdio).await? {
            Ok(output) => Ok(output),
            // The guest's words reach the terminal in isaac's error line.
            Err(GuestError::Usage(message)) => Err(RunError::Usage {
                plugin: self.name.clone(),
                command: command.to_owned(),
                message: terminal::clean(&message, Lines::Keep),
            }),
            Err(GuestError::Failed(message)) => Err(RunError::Failed {
                plugin: self.name.clone(),
                command: command.to_owned(),
                message: terminal::clean(&message, Lines::Keep),
            }),
        }
    }
}

/// Every installed plugin, loaded: for `isaac plugins list` and sessions
/// that run many commands.
pub struct LoadReport {
    /// The plugins that loaded, sorted by name.
    pub plugins: Vec<LoadedPlugin>,
    /// The ones that did not.
    pub failures: Vec<PluginFailure>,
    /// Their commands.
    pub registry: Registry,
    /// Wall time of the whole load.
    pub elapsed: Duration,
}

impl LoadReport {
    /// No plugins.
    pub fn empty() -> Self {
        LoadReport { plugins: Vec::new(), failures: Vec::new(), registry: Registry::default(), elapsed: Duration::ZERO }
    }

    /// The plugin and the command name `name` resolves to.
    pub fn resolve(&self, name: &str) -> Result<(&LoadedPlugin, &str), RunError> {
        let target = self.registry.resolve(name).map_err(|error| RunError::Resolve {
            error,
            unloaded: self.failures.iter().map(|f| f.plugin.clone()).collect(),
        })?;
        let (_, command) = self.registry.names(target);
        Ok((&self.plugins[target.plugin], command))
    }

    /// Resolve `name` and run it with `args`.
    pub async fn run(&self, name: &str, args: &[String]) -> Result<String, RunError> {
        let (plugin, command) = self.resolve(name)?;
        plugin.run(command, args).await
    }
}

/// What [`Host::reload`](super::Host::reload) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadSummary {
    /// Plugins kept as they were.
    pub kept: usize,
    /// New plugins loaded.
    pub added: Vec<String>,
    /// Changed plugins loaded again.
    pub changed: Vec<String>,
    /// Plugins no longer installed.
    pub removed: Vec<String>,
    /// Plugins that did not load.
    pub failed: Vec<String>,
}

/// What the host knows of the installed plugins without loading them.
pub struct Catalog {
    /// Indexed plugins, sorted by name; `status` says whether each loads.
    pub entries: Vec<(String, IndexEntry)>,
    /// Plugin folders that could not even be read.
    pub failures: Vec<PluginFailure>,
    /// The commands of the plugins that load.
    pub registry: Registry,
    pub(super) registry_entries: Vec<usize>,
    /// Plugins loaded while re-indexing them (changed since indexed).
    pub(super) loaded: HashMap<String, LoadedPlugin>,
}

impl Catalog {
    pub(super) fn new(
        mut entries: Vec<(String, IndexEntry)>,
        mut failures: Vec<PluginFailure>,
        loaded: HashMap<String, LoadedPlugin>,
    ) -> Self {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut listed = Vec::new();
        let mut registry_entries = Vec::new();
        for (i, (name, entry)) in entries.iter().enumerate() {
            match &entry.status {
                Ok(meta) => {
                    listed.push((name.clone(), meta.commands.iter().map(|c| c.name.clone()).collect()));
                    registry_entries.push(i);
                }
                Err(error) => failures.push(PluginFailure { plugin: name.clone(), error: error.clone() }),
            }
        }
        failures.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        Catalog { entries, failures, registry: Registry::new(listed), registry_entries, loaded }
    }

    /// The entry of plugin `name`.
    pub fn entry(&self, name: &str) -> Option<&IndexEntry> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}
