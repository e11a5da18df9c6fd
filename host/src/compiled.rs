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
//!
//! **Unchanged files are not hashed again.** The index records each file's
//! identity ([`FileStamp`]: device, inode, size, mtime, ctime, through `fstat`
//! of the descriptor that was hashed). A start opens the component and the
//! artifact, `fstat`s the descriptors, and where both identities equal the
//! recorded ones trusts the recorded digests and maps that same open
//! artifact; anything else (a replaced, rewritten, touched or `chmod`ed
//! file) is hashed again through the descriptor, as above. A freshly written
//! artifact's identity is not recorded until a start has hashed it.
//!
//! The way to code: [`Opened::open`] reads and hashes (or trusts) the
//! component once, then [`CompiledCache::cached`] maps its checked code or
//! [`CompiledCache::compile`] compiles (in the host's rayon pool,
//! wasmtime's parallel compilation inside it), saves it, and runs the code
//! mapped from the saved file, as later starts do.
//! `Host::load_code` (`host/load.rs`) composes them for both compilers.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::digest::sha256_hex;
use crate::engine::Tier;
use crate::error::Source;
use crate::index::{FileStamp, PluginMeta};
use crate::loader::LoadError;

/// What the index recorded of a component and its compiled code: digests,
/// and the identities the files had when they were hashed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// The component's digest.
    pub sha256: Option<&'a str>,
    /// The component file's identity then.
    pub wasm_id: Option<FileStamp>,
    /// The artifact's digest.
    pub artifact_sha256: Option<&'a str>,
    /// The artifact's identity then.
    pub artifact_id: Option<FileStamp>,
    /// The compiler that made the artifact.
    pub tier: Tier,
}

impl<'a> Known<'a> {
    /// What `meta` recorded.
    pub fn of(meta: &'a PluginMeta) -> Self {
        Known {
            sha256: Some(&meta.sha256),
            wasm_id: meta.wasm_id,
            artifact_sha256: meta.artifact_sha256.as_deref(),
            artifact_id: meta.artifact_id,
            tier: meta.tier,
        }
    }
}

/// Gives the compile pool when asked (built on first use), or none.
pub type Pool<'a> = dyn Fn() -> Option<&'a rayon::ThreadPool> + Sync + 'a;

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
    /// The component file's identity when it was hashed or trusted.
    pub wasm_id: Option<FileStamp>,
    /// The artifact's identity when it was hashed or trusted (none for one
    /// just written).
    pub artifact_id: Option<FileStamp>,
    /// How long compiling (or deserializing) took.
    pub elapsed: Duration,
    /// The compiler that made the code.
    pub tier: Tier,
}

/// A component file, opened once and identified: its digest (hashed, or
/// trusted when its identity is the recorded one) and its bytes, read once.
pub struct Opened {
    path: PathBuf,
    file: File,
    bytes: Vec<u8>,
    trusted: bool,
    /// The component's digest.
    pub sha256: String,
    /// Its identity when it was hashed or trusted.
    pub wasm_id: Option<FileStamp>,
    start: Instant,
}

impl Opened {
    /// Open `wasm` and hash it, unless its identity is the one `known`
    /// recorded with its digest.
    pub fn open(wasm: &Path, known: &Known<'_>) -> Result<Opened, LoadError> {
        let start = Instant::now();
        let mut file = File::open(wasm).map_err(|e| io_error(wasm, e))?;
        // Taken before reading: a change while it is read shows next time.
        let wasm_id = FileStamp::of_file(&file).ok();
        let trusted = known.sha256.filter(|_| wasm_id.is_some() && wasm_id == known.wasm_id);
        let mut bytes = Vec::new();
        let sha256 = match trusted {
            Some(sha256) => sha256.to_owned(),
            None => {
                file.read_to_end(&mut bytes).map_err(|e| io_error(wasm, e))?;
                sha256_hex(&bytes)
            }
        };
        Ok(Opened { path: wasm.to_owned(), file, bytes, trusted: trusted.is_some(), sha256, wasm_id, start })
    }

    /// The component's size in bytes.
    pub fn size(&self) -> u64 {
        if self.trusted { self.wasm_id.map_or(0, |id| id.size) } else { self.bytes.len() as u64 }
    }

    /// The component's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes to compile: those hashed, or, when the digest was
    /// trusted, the bytes of this same open file, hashed now.
    pub(crate) fn bytes(&mut self) -> Result<&[u8], LoadError> {
        if self.trusted {
            let mut bytes = Vec::new();
            self.file
                .seek(SeekFrom::Start(0))
                .and_then(|_| self.file.read_to_end(&mut bytes))
                .map_err(|e| io_error(&self.path, e))?;
            self.sha256 = sha256_hex(&bytes);
            self.bytes = bytes;
            self.trusted = false;
        }
        Ok(&self.bytes)
    }
}

fn io_error(path: &Path, e: io::Error) -> LoadError {
    LoadError::Io { path: path.to_owned(), source: Source::new(e) }
}

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
    /// digest is `expected` (recorded in the index when it was written),
    /// with the artifact's identity. An artifact whose identity is
    /// `expected_id` is not hashed again. An artifact that does not match
    /// (tampered or truncated) or does not load is removed, so the caller
    /// recompiles it: such code is never run.
    pub fn load_verified(
        &self,
        engine: &Engine,
        sha256: &str,
        expected: &str,
        expected_id: Option<FileStamp>,
    ) -> Option<(Component, Option<FileStamp>)> {
        let path = self.path_for(sha256);
        let mut file = File::open(&path).ok()?;
        // Taken before hashing: a change while it is read shows next time.
        let id = FileStamp::of_file(&file).ok();
        let unchanged = id.is_some() && id == expected_id;
        if !unchanged && crate::digest::sha256_hex_of(&mut file).ok()? != expected {
            tracing::warn!(
                "compiled code {} does not match the digest recorded when it was written (tampered or truncated); compiling again",
                path.display()
            );
            let _ = fs::remove_file(&path);
            return None;
        }
        let same_file = crate::dirs::fd_path(&file);
        let loaded = if same_file.exists() {
            // SAFETY: files in this folder are written only by `store` below,
            // from code this host compiled, by temporary file and rename, so
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
            Ok(component) => Some((component, id)),
            Err(e) => {
                tracing::warn!("discarding unusable compiled code {}: {e}", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// The code of `opened` from this cache, if there is an artifact whose
    /// digest is `expected` (see [`load_verified`](Self::load_verified)).
    pub fn cached(
        &self,
        engine: &Engine,
        opened: &Opened,
        expected: &str,
        expected_id: Option<FileStamp>,
        tier: Tier,
    ) -> Option<Compiled> {
        let (component, artifact_id) = self.load_verified(engine, &opened.sha256, expected, expected_id)?;
        Some(Compiled {
            component,
            sha256: opened.sha256.clone(),
            from_cache: true,
            artifact_sha256: Some(expected.to_owned()),
            wasm_id: opened.wasm_id,
            artifact_id,
            elapsed: opened.start.elapsed(),
            tier,
        })
    }

    /// Compile `opened` with `engine` (whose code is of `tier`) and save the
    /// code here.
    pub fn compile(
        &self,
        engine: &Engine,
        opened: &mut Opened,
        pool: &Pool<'_>,
        tier: Tier,
    ) -> Result<Compiled, LoadError> {
        let wasm = opened.path.clone();
        let bytes = opened.bytes()?;
        check_header(&wasm, bytes)?;
        // wasmtime's parallel compilation runs in the pool it is called from.
        let compile = || Component::new(engine, bytes);
        let component = match pool() {
            Some(pool) => pool.install(compile),
            None => compile(),
        }
        .map_err(|e| LoadError::Invalid { path: wasm.clone(), source: Source::wasm(e) })?;
        let (component, artifact_sha256) = match self.store_open(&opened.sha256, &component) {
            Ok((digest, file)) => (mapped(engine, &file).unwrap_or(component), Some(digest)),
            Err(e) => {
                tracing::warn!(
                    "cannot save compiled code of {}: {e}; the next start compiles it again",
                    wasm.display()
                );
                (component, None)
            }
        };
        Ok(Compiled {
            component,
            sha256: opened.sha256.clone(),
            from_cache: false,
            artifact_sha256,
            wasm_id: opened.wasm_id,
            artifact_id: None,
            elapsed: opened.start.elapsed(),
            tier,
        })
    }

    /// Save the compiled code of `component` under `sha256`; returns the
    /// artifact's own digest, to record and check before it is loaded.
    pub fn store(&self, sha256: &str, component: &Component) -> io::Result<String> {
        self.store_open(sha256, component).map(|(digest, _)| digest)
    }

    /// [`store`](Self::store), and the file written, still open.
    fn store_open(&self, sha256: &str, component: &Component) -> io::Result<(String, File)> {
        // The artifact is the component's compiled image, which
        // `Component::serialize` would copy into a new buffer (45 MB and
        // 11 000 page faults for a Python plugin): written from where it
        // lies, and hashed on another thread meanwhile.
        let image = component.image_range();
        // SAFETY: in wasmtime 48 (pinned `=48.0.8`) the image is the
        // component's own `CodeMemory` mapping, the very bytes
        // `Component::serialize` copies; `CodeMemory::publish` left all of
        // it readable (its text readable and executable) and nothing patches
        // it afterwards, and the borrow of `component` keeps it mapped while
        // the slice lives, inside this function. A test checks the bytes
        // against `serialize`.
        let bytes = unsafe { std::slice::from_raw_parts(image.start, image.end.addr() - image.start.addr()) };
        let path = self.path_for(sha256);
        std::thread::scope(|scope| {
            // A thread the system refuses (a process limit) only costs the
            // overlap: the bytes are hashed here after the write instead.
            let hashing = std::thread::Builder::new().spawn_scoped(scope, || crate::digest::sha256_hex(bytes)).ok();
            let file = write_atomically(&path, bytes)?;
            let digest = match hashing {
                Some(thread) => thread.join().map_err(|_| io::Error::other("hashing the compiled code panicked"))?,
                None => crate::digest::sha256_hex(bytes),
            };
            Ok((digest, file))
        })
    }

    /// Remove every artifact of the component with digest `sha256`, for any
    /// engine (not the lock file of its optimiser, which may be at work).
    pub fn remove(&self, sha256: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(sha256) && name.ends_with(".cwasm") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// `load(i, item)` for each of `items`: several in the pool `pool` gives
/// (without one, on this thread), one on this thread (the pool is then
/// asked for only if it must compile: a pool's idle threads spinning cost a
/// single cached start more than the load). Results keep the order of
/// `items`.
pub fn load_all<T: Sync>(
    pool: &Pool<'_>,
    items: &[T],
    load: &(dyn Fn(usize, &T) -> Result<Compiled, LoadError> + Sync),
) -> Vec<Result<Compiled, LoadError>> {
    match if items.len() > 1 { pool() } else { None } {
        Some(pool) => pool.install(|| items.par_iter().enumerate().map(|(i, item)| load(i, item)).collect()),
        None => items.iter().enumerate().map(|(i, item)| load(i, item)).collect(),
    }
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
    let max = crate::functions::known::MAX_DEPTH;
    if !crate::functions::known::nested_within(bytes, max) {
        return Err(LoadError::TooDeep { path: path.to_owned(), max });
    }
    Ok(())
}

/// Write `bytes` to `path` through a temporary file in the same folder and a
/// rename, so readers see the old file or the whole new one; returns the
/// file written, still open.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)
}

/// The code just written to the open `file`, mapped from that same file, as
/// every later start maps it. Code compiled in this process could run from
/// its own bytes, but then wasmtime copies each memory's initial image into
/// a sealed memfd at the first instantiation, and the kernel can refuse the
/// seal (`EBUSY`) while a page of it is still pinned, which on a loaded
/// machine failed `plugins add` of a big plugin; an image mapped from the
/// artifact is neither copied nor sealed. `None` without `/proc`.
fn mapped(engine: &Engine, file: &File) -> Option<Component> {
    // SAFETY: as in `load_verified`: this host wrote the file and renamed it
    // into place; it is never modified in place.
    unsafe { Component::deserialize_file(engine, crate::dirs::fd_path(file)) }.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let p = Path::new("x.wasm");
        assert!(matches!(check_header(p, b"hello world"), Err(LoadError::NotWasm { path }) if path == p));
        assert!(matches!(check_header(p, b"\0asm\x01\0\0\0"), Err(LoadError::CoreModule { path }) if path == p));
        assert!(check_header(p, b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn the_artifact_stored_is_the_serialized_component_and_its_digest() {
        let engine = Engine::new(&crate::engine::base_config()).unwrap();
        let wat = r#"(component (core module (func (export "f") (result i32) i32.const 42)))"#;
        let component = Component::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = CompiledCache::new(dir.path().to_owned(), "test".to_owned());
        let digest = cache.store("abc", &component).unwrap();
        let written = fs::read(cache.path_for("abc")).unwrap();
        assert_eq!(written, component.serialize().unwrap());
        assert_eq!(digest, crate::digest::sha256_hex(&written));
        assert!(cache.load_verified(&engine, "abc", &digest, None).is_some(), "it loads");
    }
}
