//! The plugin index: what the host knows about each installed plugin, kept in
//! the LMDB environment under `$ISAAC_HOME/state` (through `heed`).
//!
//! An entry holds the plugin's manifest, its commands (from `metadata`), the
//! sha256 of its component and the size and modification time of both files
//! when they were indexed. At start-up the host compares those stamps with
//! the files (a `stat` each) and reloads only what changed, so `isaac run`
//! neither hashes nor compiles plugins it does not run. A plugin that failed
//! to load is indexed too, with its error, so a broken plugin is not
//! recompiled on every start.
//!
//! The environment is shared with other isaac processes: LMDB serialises
//! writers and gives readers a consistent snapshot. Stale reader slots left
//! by killed processes are cleared at open, and the map is sized once (it
//! is sparse on disk) so it never has to grow under another process.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use heed::types::{Bytes, Str};
use heed::{Database, Env, EnvOpenOptions};
use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;

/// The LMDB map size: address space, not disk (the file is sparse).
pub const MAP_SIZE: usize = 8 << 30;

/// Named databases the environment may hold (the index and, later, the cache
/// tiers and metrics).
pub const MAX_DBS: u32 = 32;

/// The size and modification time of a file, to notice that it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Bytes.
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime_ns: u128,
}

impl FileStamp {
    /// Stamp `path`.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let mtime_ns = meta.modified()?.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Ok(FileStamp { size: meta.len(), mtime_ns })
    }
}

/// One command, as indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandEntry {
    /// What the user types.
    pub name: String,
    /// One line on what it does.
    pub summary: String,
    /// How to call it.
    pub usage: String,
}

/// What loading a plugin found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginMeta {
    /// sha256 of the component, hex.
    pub sha256: String,
    /// The `isaac:plugin` version it was built against.
    pub wit_version: String,
    /// The version `metadata` reported.
    pub version: String,
    /// The description `metadata` reported.
    pub description: String,
    /// Its commands.
    pub commands: Vec<CommandEntry>,
    /// Milliseconds its last cold compile took.
    pub compile_ms: f64,
}

/// One installed plugin, as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The manifest as read.
    pub manifest: Manifest,
    /// The component file.
    pub wasm: PathBuf,
    /// Stamp of `plugin.toml` when indexed.
    pub manifest_stamp: FileStamp,
    /// Stamp of the component when indexed.
    pub wasm_stamp: FileStamp,
    /// What loading it found, or why it failed.
    pub status: Result<PluginMeta, String>,
}

/// The index could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error(
    "the plugin index in {path} cannot be used: {source} (if it is damaged, delete {path} and run `isaac plugins list` to rebuild it; installed plugins are not lost)"
)]
pub struct IndexError {
    /// The LMDB folder.
    pub path: PathBuf,
    /// What LMDB said.
    #[source]
    pub source: heed::Error,
}

/// The plugin index.
pub struct Index {
    env: Env,
    path: PathBuf,
    plugins: Database<Str, Bytes>,
}

impl Index {
    /// Open (creating if needed) the environment in `dir`.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let err = |source| IndexError { path: dir.to_owned(), source };
        // SAFETY: the environment's files are only modified through LMDB, by
        // this and other isaac processes; nothing truncates or rewrites them.
        let env = unsafe { EnvOpenOptions::new().map_size(MAP_SIZE).max_dbs(MAX_DBS).open(dir) }.map_err(err)?;
        env.clear_stale_readers().map_err(err)?;
        let mut wtxn = env.write_txn().map_err(err)?;
        let plugins = env.create_database(&mut wtxn, Some("plugins")).map_err(err)?;
        wtxn.commit().map_err(err)?;
        Ok(Index { env, path: dir.to_owned(), plugins })
    }

    /// The LMDB environment, for other parts of the host that keep state.
    pub fn env(&self) -> &Env {
        &self.env
    }

    fn err(&self, source: heed::Error) -> IndexError {
        IndexError { path: self.path.clone(), source }
    }

    /// Every entry, by plugin name. An entry that does not decode (written by
    /// another isaac version) is skipped: it is rebuilt on the next load.
    pub fn all(&self) -> Result<Vec<(String, IndexEntry)>, IndexError> {
        let rtxn = self.env.read_txn().map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in self.plugins.iter(&rtxn).map_err(|e| self.err(e))? {
            let (name, bytes) = item.map_err(|e| self.err(e))?;
            if let Ok(entry) = serde_json::from_slice(bytes) {
                out.push((name.to_owned(), entry));
            }
        }
        Ok(out)
    }

    /// Write entries and delete names, in one transaction.
    pub fn update(&self, put: &[(&str, &IndexEntry)], delete: &[&str]) -> Result<(), IndexError> {
        if put.is_empty() && delete.is_empty() {
            return Ok(());
        }
        let mut wtxn = self.env.write_txn().map_err(|e| self.err(e))?;
        for (name, entry) in put {
            let bytes = serde_json::to_vec(entry).expect("index entries serialize");
            self.plugins.put(&mut wtxn, name, &bytes).map_err(|e| self.err(e))?;
        }
        for name in delete {
            self.plugins.delete(&mut wtxn, name).map_err(|e| self.err(e))?;
        }
        wtxn.commit().map_err(|e| self.err(e))
    }
}
