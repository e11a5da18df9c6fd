//! Plugin folders: discover them, read each one's manifest and find its
//! component. Every step fails per plugin: a broken plugin becomes a
//! [`PluginFailure`] that names it and says what to do, and the others load
//! all the same. Loading what is found (code, linking, metadata) is
//! [`Host`](crate::Host)'s, in `host/load.rs`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bindings::WIT_VERSION;
use crate::error::Source;
use crate::grants::DirRefused;
use crate::manifest::{BadName, Manifest};
use crate::sandbox::CallError;
use crate::tomlfile::TomlError;

/// Who a file is, as `stat` tells it: device, inode, size, and modification
/// and change times. Any write, truncate, `chmod` or rename-into-place
/// changes it (the change time cannot be set from user space). It notices
/// that an installed plugin's files changed (taken by path), and, taken
/// through the descriptor its bytes were hashed through, lets loading trust
/// a recorded digest instead of hashing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Bytes.
    pub size: u64,
    /// Modification time, ns since the epoch (an `i64` holds it until
    /// 2262, and decodes from the index without serde_json's slow path
    /// for 128-bit integers).
    pub mtime_ns: i64,
    /// Status change time, ns since the epoch.
    pub ctime_ns: i64,
}

impl FileStamp {
    /// The stamp of the file at `path` (symlinks followed).
    pub fn of(path: &Path) -> std::io::Result<Self> {
        Ok(Self::from_metadata(&std::fs::metadata(path)?))
    }

    /// The stamp of the open `file`.
    pub fn of_file(file: &std::fs::File) -> std::io::Result<Self> {
        Ok(Self::from_metadata(&file.metadata()?))
    }

    fn from_metadata(m: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| secs.saturating_mul(1_000_000_000).saturating_add(nanos);
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        }
    }
}

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

/// Why one plugin did not load. The plugin index keeps it as it is (serde),
/// so a plugin that failed says the same on every start without loading
/// again.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
pub enum LoadError {
    /// `plugin.toml` is missing or wrong.
    #[error(transparent)]
    Manifest(TomlError),
    /// An installed plugin's folder is not named after it.
    #[error("the folder {} holds plugin `{name}`; an installed plugin's folder must be named after it (reinstall it with `isaac plugins add`)", dir.display())]
    NameMismatch {
        /// The folder.
        dir: PathBuf,
        /// The name in its manifest.
        name: String,
    },
    /// No `.wasm` file, and no `component` key.
    #[error("{}: no .wasm component in the plugin folder; put one there or name it with `component = \"NAME.wasm\"` in plugin.toml", dir.display())]
    NoComponent {
        /// The folder.
        dir: PathBuf,
    },
    /// Several `.wasm` files, and no `component` key.
    #[error("{}: several .wasm files ({}); name the component with `component = \"NAME.wasm\"` in plugin.toml", dir.display(), files.join(", "))]
    SeveralComponents {
        /// The folder.
        dir: PathBuf,
        /// The files' names.
        files: Vec<String>,
    },
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: Source,
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
    /// Components nested deeper than isaac compiles (parsing such a
    /// binary took wasmtime tens of gigabytes).
    #[error("{} nests components more than {max} deep: isaac does not compile it (a broken or hostile component)", path.display())]
    TooDeep {
        /// The file.
        path: PathBuf,
        /// The deepest nesting compiled.
        max: usize,
    },
    /// The component does not validate or compile.
    #[error("{} is not a valid component (truncated or corrupt?)", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What wasmtime said.
        #[source]
        source: Source,
    },
    /// Built against another version of the WIT package.
    #[error("{} was built against isaac:plugin@{found}, but this isaac supports isaac:plugin@{}: rebuild the plugin with isaac-plugin-sdk {WIT_VERSION}, or use an isaac that supports {found}", path.display(), crate::bindings::versions_list())]
    IncompatibleWit {
        /// The file.
        path: PathBuf,
        /// The version it was built against.
        found: String,
    },
    /// A component that is a WASI command, installed as an isaac plugin.
    #[error("{} is a WASI command (it exports wasi:cli/run), not an isaac plugin: add kind = \"command\" and a [commands.NAME] table to its plugin.toml", path.display())]
    CommandNotDeclared {
        /// The file.
        path: PathBuf,
    },
    /// A WASI command that imports what isaac does not give commands.
    #[error("{} imports {interface}, which isaac does not provide to a command (it gives wasi:cli, wasi:io, wasi:clocks, wasi:filesystem, wasi:random and, when granted, wasi:http): build it without that interface", path.display())]
    Unprovided {
        /// The file.
        path: PathBuf,
        /// The interface, as the component names it.
        interface: String,
    },
    /// The capabilities could not be linked (a bug).
    #[error("cannot set up the host's capabilities")]
    Linker(#[source] Source),
    /// The component does not fit the `isaac:plugin/plugin` world.
    #[error("{} does not implement the isaac:plugin/plugin@{version} world", path.display())]
    NotAPlugin {
        /// The version it was checked against.
        version: String,
        /// The file.
        path: PathBuf,
        /// What does not fit, as wasmtime says it.
        #[source]
        source: Source,
    },
    /// `metadata` trapped or timed out.
    #[error("calling its `metadata` export failed")]
    Metadata(#[source] CallError),
    /// `metadata` returned something unusable.
    #[error("its `metadata` export returned {0}")]
    BadMetadata(BadMetadata),
    /// What it asks for cannot be granted (a directory covering the home,
    /// nested directories, a directory that does not exist).
    #[error("its permissions cannot be granted")]
    Grant(#[source] DirRefused),
}

/// What is wrong with what a plugin's `metadata` returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum BadMetadata {
    /// No commands.
    #[error("no commands; a plugin must offer at least one")]
    NoCommands,
    /// A command name that is not `[a-z0-9-]+`.
    #[error("a command with an {0}")]
    CommandName(BadName),
    /// A command listed twice.
    #[error("the command `{0}` twice")]
    Twice(String),
}

/// A plugin that did not load, by name (its folder's name when the manifest
/// could not be read).
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin `{plugin}` is not loaded")]
pub struct PluginFailure {
    /// The plugin.
    pub plugin: String,
    /// Why.
    #[source]
    pub error: LoadError,
}

/// Called with a plugin's name when its code is ready (for progress bars).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// A plugin folder, read: its manifest, the text it was parsed from, and
/// where its component is.
pub struct Folder {
    /// `plugin.toml`, checked.
    pub manifest: Manifest,
    /// Its text.
    pub manifest_text: String,
    /// The component.
    pub wasm: PathBuf,
}

/// Read the plugin folder `dir`: parse its `plugin.toml` and find its
/// component: `named` (a `.wasm` file the user named), else the manifest's
/// `component`, else the folder's one `.wasm` file. The one reader of a
/// plugin folder, for installing and for loading.
pub fn read_folder(dir: &Path, named: Option<PathBuf>) -> Result<Folder, LoadError> {
    let (manifest, manifest_text) =
        Manifest::read(&dir.join(Manifest::FILE_NAME), crate::capabilities::PERMISSION_SECTIONS)
            .map_err(LoadError::Manifest)?;
    let wasm = match (named, &manifest.component) {
        (Some(file), _) => file,
        (None, Some(file)) => dir.join(file),
        (None, None) => only_wasm_file(dir)?,
    };
    Ok(Folder { manifest, manifest_text, wasm })
}

/// Read the installed plugin folder `dir` ([`read_folder`]) and stamp its
/// files. With `expect_name`, the manifest's name must match it (installed
/// plugins live in a folder named after them).
pub fn read_source(dir: &Path, expect_name: Option<&str>) -> Result<PluginSource, LoadError> {
    let Folder { manifest, wasm, .. } = read_folder(dir, None)?;
    if let Some(expected) = expect_name
        && expected != manifest.name
    {
        return Err(LoadError::NameMismatch { dir: dir.to_owned(), name: manifest.name });
    }
    let manifest_path = dir.join(Manifest::FILE_NAME);
    let io_err = |path: &Path, e: io::Error| LoadError::Io { path: path.to_owned(), source: Source::new(e) };
    let manifest_stamp = FileStamp::of(&manifest_path).map_err(|e| io_err(&manifest_path, e))?;
    let wasm_stamp = FileStamp::of(&wasm).map_err(|e| io_err(&wasm, e))?;
    Ok(PluginSource { dir: dir.to_owned(), manifest, wasm, manifest_stamp, wasm_stamp })
}

fn only_wasm_file(dir: &Path) -> Result<PathBuf, LoadError> {
    let entries = fs::read_dir(dir).map_err(|e| LoadError::Io { path: dir.to_owned(), source: Source::new(e) })?;
    let mut wasm: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "wasm")).collect();
    wasm.sort();
    match wasm.len() {
        1 => Ok(wasm.remove(0)),
        0 => Err(LoadError::NoComponent { dir: dir.to_owned() }),
        _ => Err(LoadError::SeveralComponents {
            dir: dir.to_owned(),
            files: wasm.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect(),
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
