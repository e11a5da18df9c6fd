//! Loading plugins, one way for all: code from the compiled-code cache (or
//! compiled, in the host's rayon pool), linked against the capabilities,
//! described by its `metadata` (reused from the index when the component is
//! the one indexed), and given its call spec. Every step fails per plugin.

use std::collections::HashMap;
use std::path::Path;

use wasmtime::component::{Component, Linker};

use super::{Host, LoadedPlugin};
use crate::bindings::{self, AnyPre, PluginInfo, WIT_VERSION, WIT_VERSIONS};
use crate::compiled::{Compiled, Known};
use crate::error::Source;
use crate::index::{CommandEntry, IndexEntry, PluginMeta};
use crate::loader::{LoadError, PluginSource, Progress};
use crate::manifest;
use crate::sandbox::{CallSpec, HostState};
use crate::settings::CallLimits;
use crate::terminal::{self, Lines};

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
        let done = |i: usize| progress(&sources[i].manifest.name);
        let compiled = self.compiled.load_or_compile_all(&self.engine.engine, &|| self.pool(), &items, &done);
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
        let (pre, wit_version) = link(&self.linker, &compiled.component, &source.wasm)?;
        let spec = self.spec(&source.manifest, &compiled.sha256);
        let reusable = known.and_then(|e| e.status.as_ref().ok()).filter(|m| m.sha256 == compiled.sha256);
        let mut meta = match reusable {
            Some(meta) => meta.clone(),
            None => {
                let compile_ms = compiled.elapsed.as_secs_f64() * 1e3;
                let limits = self.settings.metadata_limits();
                metadata(&pre, &spec, limits, compiled.sha256.clone(), wit_version, compile_ms).await?
            }
        };
        meta.artifact_sha256 = compiled.artifact_sha256.clone();
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

/// Link `component` against the host's capabilities, checking the version of
/// the WIT package it was built against. Returns the pre-instantiated
/// plugin and that version.
pub fn link(
    linker: &Linker<HostState>,
    component: &Component,
    path: &Path,
) -> Result<(AnyPre<HostState>, String), LoadError> {
    let version = bindings::wit_version(linker.engine(), component).unwrap_or_else(|| WIT_VERSION.to_owned());
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

/// Ask a linked plugin for its metadata and check it.
pub async fn metadata(
    pre: &AnyPre<HostState>,
    spec: &CallSpec,
    limits: CallLimits,
    sha256: String,
    wit_version: String,
    compile_ms: f64,
) -> Result<PluginMeta, LoadError> {
    let info = spec.metadata(pre, limits).await.map_err(LoadError::Metadata)?;
    check_metadata(&info)?;
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
        artifact_sha256: None,
        wasm_id: None,
        artifact_id: None,
    })
}

fn check_metadata(info: &PluginInfo) -> Result<(), LoadError> {
    if info.commands.is_empty() {
        return Err(LoadError::BadMetadata("no commands; a plugin must offer at least one".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for command in &info.commands {
        manifest::check_name(&command.name).map_err(|why| {
            LoadError::BadMetadata(format!("a command with an {}", why.replace("plugin name", "name")))
        })?;
        if !seen.insert(command.name.as_str()) {
            return Err(LoadError::BadMetadata(format!("the command `{}` twice", command.name)));
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
        for bad in [&[][..], &["a", "a"], &["a:b"], &["Up"]] {
            assert!(matches!(check_metadata(&info(bad)), Err(LoadError::BadMetadata(_))), "{bad:?}");
        }
    }
}
