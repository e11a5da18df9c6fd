//! Loading plugins, one way for all: code from the compiled-code cache (or
//! compiled, in the host's rayon pool), linked against the capabilities,
//! described by its `metadata` (reused from the index when the component is
//! the one indexed), and given its call spec. Every step fails per plugin.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use wasmtime::component::{Component, Linker};

use super::{Host, LoadedPlugin};
use crate::bindings::{self, AnyPre, CommandInfo, PluginInfo, WIT_VERSION, WIT_VERSIONS};
use crate::compiled::{self, Compiled, CompiledCache, Known, Opened};
use crate::engine::{Compiler, EngineOptions, EpochTicker, HostEngine};
use crate::error::Source;
use crate::functions::{Measure, known};
use crate::index::{CommandEntry, IndexEntry, PluginMeta};
use crate::loader::{BadMetadata, LoadError, PluginSource, Progress};
use crate::manifest::{self, Kind, Manifest, NameOf};
use crate::sandbox;
use crate::sandbox::HostState;
use crate::terminal::{self, Lines};
use crate::tiers::{self, Tier};

/// The Winch engine of a host (tiered compilation), with its own linker,
/// compiled-code cache and epoch ticker.
pub(super) struct Baseline {
    engine: HostEngine,
    linker: OnceLock<Linker<HostState>>,
    compiled: CompiledCache,
    _ticker: EpochTicker,
}

impl Host {
    /// Compile (in parallel), link and describe `sources`. `known` holds
    /// index entries whose metadata may be reused when the hash matches.
    pub(super) async fn load_sources(
        &self,
        sources: Vec<PluginSource>,
        known: &HashMap<String, IndexEntry>,
        progress: Progress<'_>,
    ) -> Vec<(PluginSource, Result<LoadedPlugin, LoadError>)> {
        if sources.is_empty() {
            return Vec::new();
        }
        let recorded = |s: &PluginSource| {
            known.get(&s.manifest.name).and_then(|e| e.status.as_ref().ok()).map_or_else(Known::default, Known::of)
        };
        let items: Vec<(&Path, Known<'_>)> = sources.iter().map(|s| (s.wasm.as_path(), recorded(s))).collect();
        let load = |i: usize, (wasm, known): &(&Path, Known<'_>)| {
            let result = self.load_code(wasm, *known);
            progress(&sources[i].manifest.name);
            result
        };
        let compiled = compiled::load_all(&|| self.pool(), &items, &load);
        let mut out = Vec::with_capacity(sources.len());
        for (source, compiled) in sources.into_iter().zip(compiled) {
            let result = self.finish_load(&source, compiled, known.get(&source.manifest.name)).await;
            out.push((source, result));
        }
        out
    }

    async fn finish_load(
        &self,
        source: &PluginSource,
        compiled: Result<Compiled, LoadError>,
        known: Option<&IndexEntry>,
    ) -> Result<LoadedPlugin, LoadError> {
        let compiled = compiled?;
        let linker = self.linker_for(compiled.tier, &compiled.component)?;
        let (pre, wit_version) = link(&linker, &compiled.component, &source.wasm, source.manifest.kind)?;
        let spec = self.spec(&source.manifest, &compiled.sha256);
        let reusable = known.and_then(|e| e.status.as_ref().ok()).filter(|m| m.sha256 == compiled.sha256);
        let mut meta = match reusable {
            Some(meta) => meta.clone(),
            None => {
                let compile_ms = compiled.elapsed.as_secs_f64() * 1e3;
                let info = match source.manifest.kind {
                    Kind::Command => command_info(&source.manifest),
                    Kind::Plugin => {
                        spec.metadata(&pre, self.settings.metadata_limits()).await.map_err(LoadError::Metadata)?
                    }
                };
                checked_meta(info, compiled.sha256.clone(), wit_version, compile_ms)?
            }
        };
        meta.artifact_sha256 = compiled.artifact_sha256.clone();
        meta.tier = compiled.tier;
        (meta.wasm_id, meta.artifact_id) = (compiled.wasm_id, compiled.artifact_id);
        Ok(LoadedPlugin {
            name: source.manifest.name.clone(),
            manifest: source.manifest.clone(),
            meta,
            from_cache: compiled.from_cache,
            load_time: compiled.elapsed,
            pre,
            spec,
            stamps: (source.manifest_stamp, source.wasm_stamp),
        })
    }

    /// The code of the component `wasm`, `known` what the index recorded of
    /// it: the recorded optimised code; else optimised code compiled in the
    /// background since; else the recorded baseline code (its optimiser
    /// started again if none is at work); else compiled, with Winch first
    /// if it is big and tiering is on. Every artifact is checked against
    /// its recorded digest before it is used.
    fn load_code(&self, wasm: &Path, known: Known<'_>) -> Result<Compiled, LoadError> {
        let pool = || self.pool();
        let mut opened = Opened::open(wasm, &known)?;
        let optimized = |opened: &Opened, digest: &str, id| {
            self.compiled.cached(&self.engine.engine, opened, digest, id, Tier::Optimized)
        };
        if known.tier == Tier::Optimized
            && let Some(digest) = known.artifact_sha256
            && let Some(code) = optimized(&opened, digest, known.artifact_id)
        {
            return Ok(code);
        }
        if let Some(digest) = self.artifacts.get(&opened.sha256, &self.engine.compatibility).ok().flatten()
            && self.compiled.path_for(&opened.sha256).is_file()
            && let Some(code) = optimized(&opened, &digest, None)
        {
            return Ok(code);
        }
        // The Winch engine is built only when Winch code is wanted.
        if known.tier == Tier::Baseline
            && let Some(digest) = known.artifact_sha256
            && let Some(b) = self.baseline()
            && let Some(code) = b.compiled.cached(&b.engine.engine, &opened, digest, known.artifact_id, Tier::Baseline)
        {
            if !tiers::optimizing(&self.home.compiled_dir(), &opened.sha256) {
                tiers::spawn_optimizer(&self.settings, wasm, &opened.sha256);
            }
            return Ok(code);
        }
        let big = opened.size() > self.settings.loader().baseline_above_kb << 10;
        // A big component's core modules, read once: asked whether they are
        // known, and noted once Cranelift compiled them.
        let modules = match (big, &self.functions) {
            (true, Some(_)) => opened.bytes().ok().map(known::modules),
            _ => None,
        };
        if big
            && !modules.as_deref().is_some_and(|m| self.mostly_known(&opened, m))
            && let Some(b) = self.baseline()
        {
            match b.compiled.compile(&b.engine.engine, &mut opened, &pool, Tier::Baseline) {
                Ok(code) => return Ok(code),
                Err(LoadError::Invalid { source, .. }) => {
                    tracing::debug!(
                        "Winch cannot compile {} ({}); compiling it with Cranelift",
                        wasm.display(),
                        crate::error::OneLine(&source)
                    );
                }
                Err(e) => return Err(e),
            }
        }
        let measure = self.functions.as_ref().map(|f| f.measure());
        let code = self.compiled.compile(&self.engine.engine, &mut opened, &pool, Tier::Optimized)?;
        if let Some(counts) = measure.and_then(Measure::finish) {
            let _ = self.artifacts.put_functions(&code.sha256, &self.engine.compatibility, &counts);
        }
        if let Some(functions) = &self.functions {
            functions.maintain();
            match modules {
                Some(modules) => functions.note_modules(&modules),
                None => functions.note_modules(&opened.bytes().map(known::modules).unwrap_or_default()),
            }
        }
        Ok(code)
    }

    /// Whether most of `opened`'s code was compiled with Cranelift before
    /// (the same language runtime in another plugin): then its functions
    /// come from the function cache, and Cranelift at once beats Winch
    /// first and Cranelift again in the background.
    fn mostly_known(&self, opened: &Opened, modules: &[known::Module]) -> bool {
        let Some(functions) = &self.functions else { return false };
        let share = functions.known_share(modules);
        if share >= known::KNOWN_SHARE {
            tracing::debug!(
                "{:.0} % of {}'s code was compiled before: compiling it with Cranelift at once",
                share * 100.0,
                opened.path().display()
            );
        }
        share >= known::KNOWN_SHARE
    }

    /// The Winch engine, its linker, compiled-code cache and epoch ticker,
    /// built on first use; `None` when tiering is off (or the engine cannot
    /// be built: then everything is compiled with Cranelift).
    fn baseline(&self) -> Option<&Baseline> {
        self.settings.optimizer().as_ref()?;
        let built = self.baseline.get_or_init(|| {
            let options = EngineOptions {
                compiler: Compiler::Winch,
                max_memory_bytes: self.settings.max_memory_bytes(),
                pooling: self.settings.pooling(),
                ..EngineOptions::default()
            };
            let engine = HostEngine::new(&options)
                .map_err(|e| tracing::debug!("no Winch engine ({}); tiering off", crate::error::OneLine(&e)))
                .ok()?;
            let compiled = CompiledCache::new(self.home.compiled_dir(), engine.compatibility.clone());
            let ticker = engine.start_ticker();
            Some(Baseline { engine, linker: OnceLock::new(), compiled, _ticker: ticker })
        });
        built.as_ref()
    }

    /// A linker for `component`, of the engine that made its code of
    /// `tier`: in a host of one call, one of only what it imports (less to
    /// build); else the engine's whole linker, built once.
    fn linker_for(&self, tier: Tier, component: &Component) -> Result<Cow<'_, Linker<HostState>>, LoadError> {
        let (engine, whole) = match (tier, self.baseline.get()) {
            (Tier::Baseline, Some(Some(baseline))) => (&baseline.engine.engine, &baseline.linker),
            _ => (&self.engine.engine, &self.linker),
        };
        let failed = |e| LoadError::Linker(Source::wasm(e));
        if self.settings.linker_per_plugin() {
            return sandbox::linker_for(engine, component).map(Cow::Owned).map_err(failed);
        }
        if let Some(linker) = whole.get() {
            return Ok(Cow::Borrowed(linker));
        }
        let linker = sandbox::linker(engine).map_err(failed)?;
        Ok(Cow::Borrowed(whole.get_or_init(|| linker)))
    }

    /// The host's one compile pool of `jobs` threads, built on first use
    /// (wasmtime's parallel compilation runs inside it); `None` if the OS
    /// gives no threads: then plugins compile on the calling thread.
    fn pool(&self) -> Option<&rayon::ThreadPool> {
        let jobs = self.settings.jobs();
        let pool = self.pool.get_or_init(|| {
            let built =
                rayon::ThreadPoolBuilder::new().num_threads(jobs).thread_name(|i| format!("isaac-compile-{i}")).build();
            built.map_err(|e| tracing::debug!("no compile pool ({e}); compiling on this thread")).ok()
        });
        pool.as_ref()
    }
}

/// What a WASI command's index entry says for its WIT version.
pub const COMMAND_VERSION: &str = "command";

/// The interfaces a WASI command may import: WASI's, but no sockets (and
/// `wasi:http` reaches only the hosts a grant allows).
const COMMAND_IMPORTS: &[&str] =
    &["wasi:cli/", "wasi:io/", "wasi:clocks/", "wasi:filesystem/", "wasi:random/", "wasi:http/"];

/// Link `component`, of `kind`, against the host's capabilities, checking
/// the version of the WIT package it was built against (a WASI command:
/// that it imports only what commands are given). Returns the
/// pre-instantiated plugin and that version.
pub(crate) fn link(
    linker: &Linker<HostState>,
    component: &Component,
    path: &Path,
    kind: Kind,
) -> Result<(AnyPre<HostState>, String), LoadError> {
    let engine = linker.engine();
    let exports_run = || component.component_type().exports(engine).any(|(name, _)| name.starts_with("wasi:cli/run@"));
    if kind == Kind::Command {
        let imports = component.component_type().imports(engine).map(|(name, _)| name.to_owned()).collect::<Vec<_>>();
        if let Some(interface) = imports.into_iter().find(|i| !COMMAND_IMPORTS.iter().any(|p| i.starts_with(p))) {
            return Err(LoadError::Unprovided { path: path.to_owned(), interface });
        }
        let not_a_command = |e: wasmtime::Error| LoadError::NotAPlugin {
            path: path.to_owned(),
            version: COMMAND_VERSION.to_owned(),
            source: Source::wasm(e),
        };
        let pre = linker.instantiate_pre(component).map_err(not_a_command)?;
        return Ok((AnyPre::command(pre).map_err(not_a_command)?, COMMAND_VERSION.to_owned()));
    }
    let Some(version) = bindings::wit_version(engine, component) else {
        if exports_run() {
            return Err(LoadError::CommandNotDeclared { path: path.to_owned() });
        }
        return link_plugin(linker, component, path, WIT_VERSION.to_owned());
    };
    link_plugin(linker, component, path, version)
}

/// Link an isaac-world plugin built against `version`.
fn link_plugin(
    linker: &Linker<HostState>,
    component: &Component,
    path: &Path,
    version: String,
) -> Result<(AnyPre<HostState>, String), LoadError> {
    if !WIT_VERSIONS.contains(&version.as_str()) {
        return Err(LoadError::IncompatibleWit { path: path.to_owned(), found: version });
    }
    let not_a_plugin = |e: wasmtime::Error| LoadError::NotAPlugin {
        path: path.to_owned(),
        version: version.clone(),
        source: Source::wasm(e),
    };
    let pre = linker.instantiate_pre(component).map_err(not_a_plugin)?;
    let pre = AnyPre::new(pre, &version).map_err(not_a_plugin)?;
    Ok((pre, version))
}

/// A WASI command's metadata: what its manifest says.
fn command_info(manifest: &Manifest) -> PluginInfo {
    PluginInfo {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        description: manifest.description.clone(),
        commands: manifest
            .commands
            .iter()
            .map(|(name, c)| CommandInfo { name: name.clone(), summary: c.description.clone(), usage: c.usage.clone() })
            .collect(),
    }
}

/// Check a plugin's metadata and keep it, sanitised.
fn checked_meta(
    info: PluginInfo,
    sha256: String,
    wit_version: String,
    compile_ms: f64,
) -> Result<PluginMeta, LoadError> {
    check_metadata(&info).map_err(LoadError::BadMetadata)?;
    // Metadata is shown on terminals (lists, help, completion): it is kept
    // sanitised, so no display path can forget to.
    let one_line = |s: &str| terminal::clean(s, Lines::One);
    Ok(PluginMeta {
        sha256,
        wit_version,
        version: one_line(&info.version),
        description: one_line(&info.description),
        commands: info
            .commands
            .into_iter()
            .map(|c| CommandEntry {
                name: c.name,
                summary: one_line(&c.summary),
                usage: terminal::clean(&c.usage, Lines::Keep),
            })
            .collect(),
        compile_ms,
        tier: Tier::Optimized,
        artifact_sha256: None,
        wasm_id: None,
        artifact_id: None,
    })
}

fn check_metadata(info: &PluginInfo) -> Result<(), BadMetadata> {
    if info.commands.is_empty() {
        return Err(BadMetadata::NoCommands);
    }
    let mut seen = std::collections::HashSet::new();
    for command in &info.commands {
        manifest::check_name_of(NameOf::Command, &command.name).map_err(BadMetadata::CommandName)?;
        if !seen.insert(command.name.as_str()) {
            return Err(BadMetadata::Twice(command.name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_checks() {
        let info = |names: &[&str]| PluginInfo {
            name: "p".into(),
            version: "1".into(),
            description: String::new(),
            commands: names
                .iter()
                .map(|n| bindings::CommandInfo { name: (*n).into(), summary: String::new(), usage: String::new() })
                .collect(),
        };
        check_metadata(&info(&["a", "b-2"])).unwrap();
        assert_eq!(check_metadata(&info(&[])), Err(BadMetadata::NoCommands));
        assert_eq!(check_metadata(&info(&["a", "a"])), Err(BadMetadata::Twice("a".into())));
        for bad in ["a:b", "Up"] {
            let Err(BadMetadata::CommandName(why)) = check_metadata(&info(&[bad])) else { panic!("{bad}") };
            assert_eq!((why.of, why.name.as_str()), (NameOf::Command, bad));
            assert!(why.to_string().starts_with(&format!("invalid command name {bad:?}")), "{why}");
        }
    }
}
