//! The plugin index: what the host knows about each installed plugin, kept in
//! the LMDB environment under `$ISAAC_HOME/state` (through `heed`).
//!
//! An entry holds the plugin's manifest, its commands (from `metadata`), the
//! sha256 of its component and the size and modification time of both files
//! when they were indexed. At start-up the host compares those stamps with
//! the files (a `stat` each) and reloads only what changed, so `isaac run`
//! neither hashes nor compiles plugins it does not run. A plugin that failed
//! to load is indexed too, with its error (the [`LoadError`] itself, as
//! data), so a broken plugin is not recompiled on every start and says the
//! same thing each time.
//!
//! The entries live in the `plugins` database of the home's LMDB
//! environment ([`State`]), shared with other isaac processes.

use std::path::PathBuf;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::loader::LoadError;
use crate::manifest::Manifest;
use crate::state::{State, StateError};

/// A file's stamp (kept in the index, taken by the loader).
pub use crate::loader::FileStamp;

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
    /// The compiler of the code it runs.
    #[serde(default)]
    pub tier: crate::engine::Tier,
    /// The digest of its compiled artifact, checked before the artifact is
    /// loaded.
    #[serde(default)]
    pub artifact_sha256: Option<String>,
    /// The component file's identity when its bytes hashed to `sha256`.
    #[serde(default)]
    pub wasm_id: Option<FileStamp>,
    /// The artifact's identity when its bytes hashed to `artifact_sha256`.
    #[serde(default)]
    pub artifact_id: Option<FileStamp>,
}

/// One installed plugin, as indexed.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub status: Result<PluginMeta, LoadError>,
}

/// The plugin index, in the `plugins` database of the [`State`].
pub struct Index {
    state: Arc<State>,
}

impl Index {
    /// The index of `state`.
    pub fn new(state: Arc<State>) -> Self {
        Index { state }
    }

    fn err(&self, source: heed::Error) -> StateError {
        self.state.error(source)
    }

    /// Every entry, by plugin name. An entry that does not decode (written by
    /// another isaac version) is skipped: it is rebuilt on the next load.
    pub fn all(&self) -> Result<Vec<(String, IndexEntry)>, StateError> {
        let rtxn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in self.state.plugins.iter(&rtxn).map_err(|e| self.err(e))? {
            let (name, bytes) = item.map_err(|e| self.err(e))?;
            if let Ok(entry) = serde_json::from_slice(bytes) {
                out.push((name.to_owned(), entry));
            }
        }
        Ok(out)
    }

    /// The entry of plugin `name`, if it is indexed (and decodes).
    pub fn get(&self, name: &str) -> Result<Option<IndexEntry>, StateError> {
        let rtxn = self.state.env().read_txn().map_err(|e| self.err(e))?;
        let bytes = self.state.plugins.get(&rtxn, name).map_err(|e| self.err(e))?;
        Ok(bytes.and_then(|b| serde_json::from_slice(b).ok()))
    }

    /// Write entries and delete names, in one transaction.
    pub fn update(&self, put: &[(&str, &IndexEntry)], delete: &[&str]) -> Result<(), StateError> {
        if put.is_empty() && delete.is_empty() {
            return Ok(());
        }
        let mut wtxn = self.state.env().write_txn().map_err(|e| self.err(e))?;
        for (name, entry) in put {
            let bytes = serde_json::to_vec(entry).expect("index entries serialize");
            self.state.plugins.put(&mut wtxn, name, &bytes).map_err(|e| self.err(e))?;
        }
        for name in delete {
            self.state.plugins.delete(&mut wtxn, name).map_err(|e| self.err(e))?;
        }
        wtxn.commit().map_err(|e| self.err(e))
    }
}
