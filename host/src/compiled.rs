//! The compiled-code cache: `$ISAAC_HOME/compiled/SHA256-ENGINE.cwasm`.
//!
//! The key is the component's sha256 plus the engine's compatibility digest
//! (wasmtime version and settings), so a changed plugin or a new isaac never
//! loads stale code. Only this host writes here, always to a temporary file
//! that is then renamed: a file is never rewritten in place, because loading
//! maps it into memory and a mapped file changed underneath is a crash.
//! Deleting the folder makes the next load cold; nothing else is lost.
//!
//! Each artifact's own sha256 is recorded in the plugin index when it is
//! written and checked before the file is mapped: a tampered or truncated
//! artifact is discarded and compiled again, never run. What is checked is
//! what is used: the artifact is opened once, hashed through that
//! descriptor, and that same open file is mapped (`/proc/self/fd/N`), so a
//! file renamed into its place between the check and the map is never run.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The compiled-code folder of one engine configuration.
#[derive(Debug, Clone)]
pub struct CompiledCache {
    dir: PathBuf,
    compatibility: String,
}

impl CompiledCache {
    /// The cache in `dir` for an engine with this compatibility digest.
    pub fn new(dir: PathBuf, compatibility: String) -> Self {
        CompiledCache { dir, compatibility }
    }

    /// Where the code of the component with digest `sha256` lives.
    pub fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.compatibility))
    }

    /// The cached code for `sha256`, if there is usable code whose own
    /// digest is `expected` (recorded in the index when it was written). An
    /// artifact that does not match (tampered or truncated) or does not load
    /// is removed, so the caller recompiles it: such code is never run.
    pub fn load_verified(&self, engine: &Engine, sha256: &str, expected: &str) -> Option<Component> {
        let path = self.path_for(sha256);
        let mut file = File::open(&path).ok()?;
        if crate::digest::sha256_hex_of(&mut file).ok()? != expected {
            tracing::warn!(
                "compiled code {} does not match the digest recorded when it was written (tampered or truncated); compiling again",
                path.display()
            );
            let _ = fs::remove_file(&path);
            return None;
        }
        let same_file = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let loaded = if same_file.exists() {
            // SAFETY: as in `load`: only this host writes here, by rename, so
            // the open file that was just hashed is never modified in place.
            unsafe { Component::deserialize_file(engine, &same_file) }
        } else {
            // No /proc: deserialize the hashed bytes themselves, read again
            // from the same descriptor.
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_end(&mut bytes)).ok()?;
            if crate::digest::sha256_hex(&bytes) != expected {
                return None;
            }
            // SAFETY: these bytes were written by this host's `store` (their
            // digest, recorded then, was just checked).
            unsafe { Component::deserialize(engine, &bytes) }
        };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!("discarding unusable compiled code {}: {e}", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// The cached code for `sha256`, if there is usable code. An artifact
    /// that does not load is removed, so the caller recompiles it. Prefer
    /// [`load_verified`](Self::load_verified) where a digest is known.
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path_for(sha256);
        if !path.is_file() {
            return None;
        }
        // SAFETY: files in this folder are written only by `store` below, from
        // code this host compiled, by temporary file and rename, so a mapped
        // file is never modified in place.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!("discarding unusable compiled code {}: {e}", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Save the compiled code of `component` under `sha256`; returns the
    /// artifact's own digest, to record and check before it is loaded.
    pub fn store(&self, sha256: &str, component: &Component) -> io::Result<String> {
        let bytes = component.serialize().map_err(|e| io::Error::other(e.to_string()))?;
        write_atomically(&self.path_for(sha256), &bytes)?;
        Ok(crate::digest::sha256_hex(&bytes))
    }

    /// Remove every artifact of the component with digest `sha256`, for any
    /// engine.
    pub fn remove(&self, sha256: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(sha256) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Write `bytes` to `path` through a temporary file in the same folder and a
/// rename, so readers see the old file or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
