//! The boot loader: discover plugin folders, read their manifests, compile
//! their components in parallel (or load them from the compiled-code cache),
//! link them against the host's capabilities and ask each for its metadata.
//!
//! Every step fails per plugin: a broken plugin becomes a [`PluginFailure`]
//! that names it and says what to do, and the others load all the same.
//!
//! Parallelism: compilation runs in a rayon pool of `jobs` threads, and
//! wasmtime's own parallel compilation runs inside that pool too (it uses
//! the current rayon pool), so `--jobs 1` really uses one core.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use wasmtime::component::{Component, Linker};

use crate::bindings::{self, AnyPre, PluginInfo, WIT_VERSION, WIT_VERSIONS};
use crate::compiled::CompiledCache;
use crate::config::CallLimits;
use crate::digest::sha256_hex;
use crate::index::{CommandEntry, FileStamp, PluginMeta};
use crate::manifest::{self, Manifest};
use crate::sandbox::{CallError, CallSpec, HostState, describe};
use crate::terminal::{self, Lines};
use crate::tomlfile::TomlError;

/// A plugin folder and what its manifest says.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// The folder.
    pub dir: PathBuf,
    /// Its `plugin.toml`.
    pub manifest: Manifest,
    /// The component file.
    pub wasm: PathBuf,
    /// Stamp of `plugin.toml`.
    pub manifest_stamp: FileStamp,
    /// Stamp of the component.
    pub wasm_stamp: FileStamp,
}

/// Why one plugin did not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// `plugin.toml` is missing or wrong.
    #[error("{0}")]
    Manifest(TomlError),
    /// An installed plugin's folder is not named after it.
    #[error("the folder {} holds plugin `{name}`; an installed plugin's folder must be named after it (reinstall it with `isaac plugins add`)", dir.display())]
    NameMismatch {
        /// The folder.
        dir: PathBuf,
        /// The name in its manifest.
        name: String,
    },
    /// No `.wasm` file, or several and no `component` key.
    #[error("{}: {message}", dir.display())]
    Component {
        /// The folder.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        message: String,
    },
    /// The file is not WebAssembly at all.
    #[error("{} is not a WebAssembly file (it does not start with the `\\0asm` magic bytes)", path.display())]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// A core module where a component is needed.
    #[error("{} is a core WebAssembly module, not a component: build the plugin for the wasm32-wasip2 target, or wrap it with `wasm-tools component new`", path.display())]
    CoreModule {
        /// The file.
        path: PathBuf,
    },
    /// The component does not validate or compile.
    #[error("{} is not a valid component (truncated or corrupt?): {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What wasmtime said.
        message: String,
    },
    /// Built against another version of the WIT package.
    #[error("{} was built against isaac:plugin@{found}, but this isaac supports isaac:plugin@{}: rebuild the plugin with isaac-plugin-sdk {WIT_VERSION}, or use an isaac that supports {found}", path.display(), WIT_VERSIONS.join(" and "))]
    IncompatibleWit {
        /// The file.
        path: PathBuf,
        /// The version it was built against.
        found: String,
    },
    /// The component does not fit the `isaac:plugin/plugin` world.
    #[error("{} does not implement the isaac:plugin/plugin@{version} world: {message}", path.display())]
    NotAPlugin {
        /// The version it was checked against.
        version: String,
        /// The file.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// `metadata` trapped or timed out.
    #[error("calling its `metadata` export failed: {0}")]
    Metadata(CallError),
    /// `metadata` returned something unusable.
    #[error("its `metadata` export returned {0}")]
    BadMetadata(String),
    /// What it asks for cannot be granted (a directory covering the home,
    /// nested directories, a directory that does not exist).
    #[error("its permissions cannot be granted: {0}")]
    Grant(String),
}

/// A plugin that did not load, by name (its folder's name when the manifest
/// could not be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{plugin}` is not loaded: {error}")]
pub struct PluginFailure {
    /// The plugin.
    pub plugin: String,
    /// Why.
    pub error: LoadError,
}

/// Read the plugin folder `dir`. With `expect_name`, the manifest's name
/// must match it (installed plugins live in a folder named after them).
pub fn read_source(dir: &Path, expect_name: Option<&str>) -> Result<PluginSource, LoadError> {
    let manifest_path = dir.join(Manifest::FILE_NAME);
    let manifest = Manifest::read(&manifest_path).map_err(LoadError::Manifest)?;
    if let Some(expected) = expect_name
        && expected != manifest.name
    {
        return Err(LoadError::NameMismatch { dir: dir.to_owned(), name: manifest.name });
    }
    let wasm = match &manifest.component {
        Some(file) => dir.join(file),
        None => only_wasm_file(dir)?,
    };
    let io_err = |path: &Path, e: io::Error| LoadError::Io { path: path.to_owned(), message: e.to_string() };
    let manifest_stamp = FileStamp::of(&manifest_path).map_err(|e| io_err(&manifest_path, e))?;
    let wasm_stamp = FileStamp::of(&wasm).map_err(|e| io_err(&wasm, e))?;
    Ok(PluginSource { dir: dir.to_owned(), manifest, wasm, manifest_stamp, wasm_stamp })
}

pub(crate) fn only_wasm_file(dir: &Path) -> Result<PathBuf, LoadError> {
    let entries = fs::read_dir(dir).map_err(|e| LoadError::Io { path: dir.to_owned(), message: e.to_string() })?;
    let mut wasm: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "wasm")).collect();
    wasm.sort();
    match wasm.len() {
        1 => Ok(wasm.remove(0)),
        0 => Err(LoadError::Component {
            dir: dir.to_owned(),
            message: "no .wasm component in the plugin folder; put one there or name it with `component = \"NAME.wasm\"` in plugin.toml".into(),
        }),
        _ => Err(LoadError::Component {
            dir: dir.to_owned(),
            message: format!(
                "several .wasm files ({}); name the component with `component = \"NAME.wasm\"` in plugin.toml",
                wasm.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy()).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// The subfolders of `plugins_dir`, by name, sorted; hidden ones (such as
/// an install in progress) skipped.
pub fn plugin_dirs(plugins_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(plugins_dir) else { return Vec::new() };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    dirs.sort();
    dirs
}

/// The plugin folders under `plugins_dir`, sorted by name, each read or
/// failed.
pub fn discover(plugins_dir: &Path) -> Vec<Result<PluginSource, PluginFailure>> {
    plugin_dirs(plugins_dir)
        .into_iter()
        .map(|(name, dir)| read_source(&dir, Some(&name)).map_err(|error| PluginFailure { plugin: name, error }))
        .collect()
}

/// Compiled code for one component.
pub struct Compiled {
    /// The code.
    pub component: Component,
    /// sha256 of the component file, hex.
    pub sha256: String,
    /// Whether it came from the compiled-code cache.
    pub from_cache: bool,
    /// The digest of the compiled artifact on disk (to record in the index).
    pub artifact_sha256: Option<String>,
    /// How long compiling (or deserializing) took.
    pub elapsed: Duration,
}

/// Read `wasm`, then load its code from `cache` (only if the artifact's
/// digest is `expected`, as recorded in the index) or compile (and cache) it.
pub fn compile(
    engine: &wasmtime::Engine,
    cache: &CompiledCache,
    wasm: &Path,
    expected: Option<&str>,
) -> Result<Compiled, LoadError> {
    let start = Instant::now();
    let bytes = fs::read(wasm).map_err(|e| LoadError::Io { path: wasm.to_owned(), message: e.to_string() })?;
    let sha256 = sha256_hex(&bytes);
    if let Some(expected) = expected
        && let Some(component) = cache.load_verified(engine, &sha256, expected)
    {
        let artifact_sha256 = Some(expected.to_owned());
        return Ok(Compiled { component, sha256, from_cache: true, artifact_sha256, elapsed: start.elapsed() });
    }
    check_header(wasm, &bytes)?;
    let component = Component::new(engine, &bytes)
        .map_err(|e| LoadError::Invalid { path: wasm.to_owned(), message: describe(&e) })?;
    let artifact_sha256 = match cache.store(&sha256, &component) {
        Ok(digest) => Some(digest),
        Err(e) => {
            tracing::warn!("cannot save compiled code of {}: {e}; the next start compiles it again", wasm.display());
            None
        }
    };
    Ok(Compiled { component, sha256, from_cache: false, artifact_sha256, elapsed: start.elapsed() })
}

/// The binary header: `\0asm`, then a version that says module or component.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(LoadError::NotWasm { path: path.to_owned() });
    }
    if bytes[4..8] == CORE_MODULE {
        return Err(LoadError::CoreModule { path: path.to_owned() });
    }
    Ok(())
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
        message: describe(&e),
    };
    let pre = linker.instantiate_pre(component).map_err(not_a_plugin)?;
    let pre = AnyPre::new(pre, &version).map_err(not_a_plugin)?;
    Ok((pre, version))
}

/// Called with a plugin's name when its code is ready (for progress bars).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Compile every source in a pool of `jobs` threads; each pairs with the
/// recorded digest of its compiled artifact, if any. Results keep the order
/// of `sources`.
pub fn compile_all(
    engine: &wasmtime::Engine,
    cache: &CompiledCache,
    sources: &[(&PluginSource, Option<&str>)],
    jobs: usize,
    progress: Progress<'_>,
) -> Vec<Result<Compiled, LoadError>> {
    let compile_one = |(source, expected): &(&PluginSource, Option<&str>)| {
        let result = compile(engine, cache, &source.wasm, *expected);
        progress(&source.manifest.name);
        result
    };
    match rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).thread_name(|i| format!("isaac-compile-{i}")).build()
    {
        Ok(pool) => pool.install(|| sources.par_iter().map(compile_one).collect()),
        Err(e) => {
            tracing::debug!("no compile pool ({e}); compiling on this thread");
            sources.iter().map(compile_one).collect()
        }
    }
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
    fn headers() {
        let p = Path::new("x.wasm");
        assert_eq!(check_header(p, b"hello world"), Err(LoadError::NotWasm { path: p.into() }));
        assert_eq!(check_header(p, b"\0asm\x01\0\0\0"), Err(LoadError::CoreModule { path: p.into() }));
        assert_eq!(check_header(p, b"\0asm\x0d\0\x01\0"), Ok(()));
    }

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
