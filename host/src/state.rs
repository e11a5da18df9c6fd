//! The LMDB environment under `$ISAAC_HOME/state`, opened through `heed`,
//! shared by the plugin index and the cache's cold tier.
//!
//! One environment per home and process: opening the same home twice in one
//! process returns the same [`State`] (LMDB forbids opening an environment
//! twice in a process). Several processes may open it at once; LMDB
//! serialises writers and gives each reader a consistent snapshot.
//!
//! - Stale reader slots left by killed processes are cleared at open.
//! - The map is sized once, at open, from the config (`[storage]
//!   map_size_mb`, default 8 GiB of address space; the file is sparse and
//!   grows with the data), so it never has to grow under another process.
//! - Commits do not fsync by default (`NO_SYNC`, without `WRITE_MAP`): a
//!   committed write is in the OS page cache before the commit returns, so a
//!   killed process loses nothing it acknowledged; an OS crash or power loss
//!   may lose the most recent commits, and LMDB stays consistent on file
//!   systems that keep write order. [`State::sync`] forces a flush; the
//!   cache's `durable` mode calls it after every write.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use heed::types::{Bytes, Str};
use heed::{Database, Env, EnvFlags, EnvOpenOptions};

/// Named databases the environment may hold.
pub const MAX_DBS: u32 = 16;

/// The default map size: address space, not disk.
pub const DEFAULT_MAP_SIZE_MB: u64 = 8192;

/// The environment and its databases.
pub struct State {
    env: Env,
    path: PathBuf,
    /// Plugin index: name → entry (JSON).
    pub(crate) plugins: Database<Str, Bytes>,
    /// Cache data: namespaced key → entry.
    pub(crate) cache: Database<Str, Bytes>,
    /// Cache metadata: generation, counters, usage counts, hot set.
    pub(crate) cache_meta: Database<Str, Bytes>,
    /// Run records of `isaac stats`: time-ordered key → JSON.
    pub(crate) metrics: Database<Str, Bytes>,
    /// Grants: plugin name → JSON.
    pub(crate) grants: Database<Str, Bytes>,
    /// Where each plugin came from: plugin name → JSON.
    pub(crate) sources: Database<Str, Bytes>,
    /// Optimised code compiled in the background: component and engine →
    /// the artifact's digest (JSON).
    pub(crate) artifacts: Database<Str, Bytes>,
    /// Keys isaac made for itself: name → 32 random bytes.
    keys: Database<Str, Bytes>,
}

/// The environment could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error(
    "the isaac state in {} cannot be used (if it is damaged, move it away or delete it to start afresh: installed plugins are kept, cached data and statistics are lost)",
    path.display()
)]
pub struct StateError {
    /// The LMDB folder.
    pub path: PathBuf,
    /// What LMDB said.
    #[source]
    pub source: heed::Error,
}

static OPEN: Mutex<Vec<(PathBuf, Weak<State>)>> = Mutex::new(Vec::new());

/// The named databases of a [`State`], in the order of its fields.
const DATABASES: [&str; 8] = ["plugins", "cache", "cache-meta", "metrics", "grants", "sources", "artifacts", "keys"];

/// Open the named databases: in a read transaction when they all exist
/// (every open but the first), which neither waits for another process's
/// write nor writes; else created in a write transaction.
fn databases(env: &Env) -> heed::Result<[Database<Str, Bytes>; 8]> {
    let rtxn = env.read_txn()?;
    let mut found = Vec::with_capacity(DATABASES.len());
    for name in DATABASES {
        match env.open_database(&rtxn, Some(name))? {
            Some(db) => found.push(db),
            None => break,
        }
    }
    if let Ok(found) = <[Database<Str, Bytes>; 8]>::try_from(found) {
        // Committed, the handles outlive the transaction.
        rtxn.commit()?;
        return Ok(found);
    }
    drop(rtxn);
    let mut wtxn = env.write_txn()?;
    let mut created = Vec::with_capacity(DATABASES.len());
    for name in DATABASES {
        created.push(env.create_database(&mut wtxn, Some(name))?);
    }
    wtxn.commit()?;
    Ok(created.try_into().unwrap_or_else(|_| unreachable!("one database per name")))
}

impl State {
    /// Open (creating if needed) the environment in `dir`, or return the one
    /// this process already has open there.
    pub fn open(dir: &Path, map_size_mb: u64) -> Result<Arc<State>, StateError> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some(state) = open.iter().find(|(p, _)| *p == key).and_then(|(_, w)| w.upgrade()) {
            return Ok(state);
        }
        let state = Arc::new(Self::open_new(dir, map_size_mb)?);
        open.push((key, Arc::downgrade(&state)));
        Ok(state)
    }

    fn open_new(dir: &Path, map_size_mb: u64) -> Result<State, StateError> {
        let err = |source| StateError { path: dir.to_owned(), source };
        let map_size = usize::try_from(map_size_mb << 20).unwrap_or(usize::MAX);
        // SAFETY: the environment's files are only modified through LMDB, by
        // this and other isaac processes; nothing truncates or rewrites them.
        // NO_SYNC without WRITE_MAP: see the module documentation.
        let env = unsafe {
            let mut options = EnvOpenOptions::new();
            options.map_size(map_size).max_dbs(MAX_DBS).flags(EnvFlags::NO_SYNC);
            options.open(dir)
        }
        .map_err(err)?;
        env.clear_stale_readers().map_err(err)?;
        let [plugins, cache, cache_meta, metrics, grants, sources, artifacts, keys] = databases(&env).map_err(err)?;
        Ok(State { env, path: dir.to_owned(), plugins, cache, cache_meta, metrics, grants, sources, artifacts, keys })
    }

    /// The environment.
    pub(crate) fn env(&self) -> &Env {
        &self.env
    }

    /// The LMDB folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wrap an LMDB error with the path.
    pub fn error(&self, source: heed::Error) -> StateError {
        StateError { path: self.path.clone(), source }
    }

    /// The JSON value under `key` in `db`; `None` when absent or when it
    /// does not decode (written by another isaac version).
    pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        db: Database<Str, Bytes>,
        key: &str,
    ) -> Result<Option<T>, StateError> {
        let err = |e| self.error(e);
        let txn = self.env.read_txn().map_err(err)?;
        let raw = db.get(&txn, key).map_err(err)?;
        Ok(raw.and_then(|r| serde_json::from_slice(r).ok()))
    }

    /// Store `value` as JSON under `key` in `db`, or delete `key` (`None`).
    pub(crate) fn put_json<T: serde::Serialize>(
        &self,
        db: Database<Str, Bytes>,
        key: &str,
        value: Option<&T>,
    ) -> Result<(), StateError> {
        let err = |e| self.error(e);
        let mut txn = self.env.write_txn().map_err(err)?;
        match value {
            Some(value) => {
                let json = serde_json::to_vec(value).expect("state values serialize");
                db.put(&mut txn, key, &json).map_err(err)?;
            }
            None => {
                db.delete(&mut txn, key).map_err(err)?;
            }
        }
        txn.commit().map_err(err)
    }

    /// The key named `name` that isaac made for itself: 32 random bytes,
    /// made on first use and kept here, with the index and the grants it
    /// protects files beside (the function cache's tags).
    pub fn secret(&self, name: &str) -> Result<[u8; 32], StateError> {
        fn stored(db: &Database<Str, Bytes>, txn: &heed::RoTxn<'_>, name: &str) -> heed::Result<Option<[u8; 32]>> {
            Ok(db.get(txn, name)?.and_then(|v| <[u8; 32]>::try_from(v).ok()))
        }
        let err = |e| self.error(e);
        let read = self.env.read_txn().map_err(err)?;
        if let Some(key) = stored(&self.keys, &read, name).map_err(err)? {
            return Ok(key);
        }
        drop(read);
        let mut txn = self.env.write_txn().map_err(err)?;
        // Another process may have made it meanwhile: its key stands.
        if let Some(key) = stored(&self.keys, &txn, name).map_err(err)? {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom").and_then(|mut r| r.read_exact(&mut key)).map_err(|e| err(e.into()))?;
        self.keys.put(&mut txn, name, &key).map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(key)
    }

    /// Flush committed writes to disk (fsync).
    pub fn sync(&self) -> Result<(), StateError> {
        self.env.force_sync().map_err(|e| self.error(e))
    }
}
