//! Tiered compilation: a big component runs at once on Winch code, and
//! Cranelift's optimised code replaces it when ready.
//!
//! A component over `[loader] baseline_above_kb` (1 MiB by default) that
//! has no compiled code yet is compiled with Winch, wasmtime's baseline
//! compiler (greet-py on 2 cores: about 3 s instead of 12), and
//! runs on that code. Then a detached `isaac` (`isaac compile-optimized`,
//! at nice 19, on one thread) compiles it with Cranelift into the
//! compiled-code cache and records the artifact's digest here, in the
//! `artifacts` database: the next load of the plugin finds the record,
//! checks the artifact against it as every artifact is checked, and runs
//! the optimised code; the index then says `optimized`. A lock file per
//! component keeps one optimiser at work on it.
//!
//! Winch code needs an engine of its own (wasmtime refuses at load an
//! artifact from another compiler); its artifacts carry that engine's
//! compatibility digest in their file names, so the two tiers never mix.
//! A component Winch cannot compile (it lacks GC, function references, tail
//! calls, exceptions, relaxed SIMD) is compiled with Cranelift at once.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use rustix::fs::FlockOperation;
use wasmtime::component::Component;

use crate::compiled::CompiledCache;
use crate::digest::sha256_hex;
pub use crate::engine::Tier;
use crate::engine::{EngineOptions, HostEngine};
use crate::error::Source;
use crate::functions::known;
use crate::functions::{FunctionCache, FunctionCounts};
use crate::home::Home;
use crate::index::FileStamp;
use crate::metrics::{History, RunRecord};
use crate::settings::Settings;
use crate::state::{State, StateError};

/// The digests of optimised artifacts made in the background, by
/// component and engine.
#[derive(Clone)]
pub struct Artifacts {
    state: Arc<State>,
}

impl Artifacts {
    /// The records in `state`.
    pub fn new(state: Arc<State>) -> Self {
        Artifacts { state }
    }

    fn key(sha256: &str, compatibility: &str) -> String {
        format!("{sha256}-{compatibility}")
    }

    /// The digest of the artifact compiled for component `sha256` by an
    /// engine with this compatibility digest.
    pub fn get(&self, sha256: &str, compatibility: &str) -> Result<Option<String>, StateError> {
        self.state.get_json(self.state.artifacts, &Self::key(sha256, compatibility))
    }

    /// What the function cache did when the artifact for component
    /// `sha256` and this engine was compiled (recorded when one compile
    /// had the cache to itself).
    pub fn functions(&self, sha256: &str, compatibility: &str) -> Option<FunctionCounts> {
        self.state.get_json(self.state.artifacts, &Self::functions_key(sha256, compatibility)).ok().flatten()
    }

    /// Record [`functions`](Self::functions).
    pub fn put_functions(&self, sha256: &str, compatibility: &str, counts: &FunctionCounts) -> Result<(), StateError> {
        self.state.put_json(self.state.artifacts, &Self::functions_key(sha256, compatibility), Some(counts))
    }

    fn functions_key(sha256: &str, compatibility: &str) -> String {
        format!("{}#functions", Self::key(sha256, compatibility))
    }

    /// Record that digest, or forget it (`None`).
    pub fn put(&self, sha256: &str, compatibility: &str, digest: Option<&str>) -> Result<(), StateError> {
        self.state.put_json(self.state.artifacts, &Self::key(sha256, compatibility), digest.as_ref())
    }
}

/// Why the background compile did not record code.
#[derive(Debug, thiserror::Error)]
pub enum OptimizeError {
    /// The home or a file could not be used.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The engine could not be built.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// The home could not be opened.
    #[error(transparent)]
    Home(#[from] crate::home::HomeError),
    /// Cranelift refused the component.
    #[error("cannot compile {}", path.display())]
    Compile {
        /// The component.
        path: PathBuf,
        /// What wasmtime said.
        #[source]
        source: Source,
    },
}

/// The lock file that one optimiser of component `sha256` holds.
fn lock_path(compiled_dir: &Path, sha256: &str) -> PathBuf {
    compiled_dir.join(format!("{sha256}.optimizing"))
}

/// Take the lock of component `sha256`'s optimiser: while the returned file
/// is open, no other optimiser of it starts (each that is started exits at
/// once), so code loaded meanwhile stays baseline. `None`: someone else
/// holds it. `isaac bench` holds it to measure Winch code alone.
pub fn claim(compiled_dir: &Path, sha256: &str) -> std::io::Result<Option<File>> {
    let lock = File::create(lock_path(compiled_dir, sha256))?;
    Ok(rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive).is_ok().then_some(lock))
}

/// Whether an optimiser holds the lock of component `sha256` now.
pub fn optimizing(compiled_dir: &Path, sha256: &str) -> bool {
    let Ok(file) = File::open(lock_path(compiled_dir, sha256)) else { return false };
    match rustix::fs::flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => false,
        Err(_) => true,
    }
}

/// Start `isaac compile-optimized` for component `wasm` (digest `sha256`)
/// in the background: its own process group (a Ctrl-C of this one does not
/// reach it), nice 19, no terminal. Nothing waits for it but a thread that
/// reaps it.
pub fn spawn_optimizer(settings: &Settings, wasm: &Path, sha256: &str) {
    let Some(program) = &settings.optimizer() else { return };
    let mut command = Command::new(program);
    command.arg("--home").arg(settings.home());
    // A named config file must exist; an absent default one is absent there too.
    if settings.config_file().is_file() {
        command.arg("--config").arg(settings.config_file());
    }
    command
        .arg("compile-optimized")
        .arg(wasm)
        .arg(sha256)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        // SAFETY: the closure only makes one system call (async-signal-safe).
        unsafe {
            command.pre_exec(|| {
                rustix::process::setpriority_process(None, 19)?;
                Ok(())
            });
        }
    }
    match command.spawn() {
        Ok(mut child) => {
            tracing::debug!("optimizing {} in the background (pid {})", wasm.display(), child.id());
            std::thread::spawn(move || child.wait());
        }
        Err(e) => tracing::debug!("cannot start the background compile of {}: {e}", wasm.display()),
    }
}

/// Compile component `wasm`, whose digest must be `sha256`, with Cranelift
/// on one thread into the compiled-code cache of `settings`' home, and
/// record the artifact's digest. `false`: nothing to do (another optimiser
/// holds the lock, the code is there already, or the file changed).
pub fn optimize(settings: &Settings, wasm: &Path, sha256: &str) -> Result<bool, OptimizeError> {
    let io = |what: String| move |source| OptimizeError::Io { what, source };
    let home = Home::open(settings.home())?;
    let lock_file = lock_path(&home.compiled_dir(), sha256);
    let Some(_lock) =
        claim(&home.compiled_dir(), sha256).map_err(io(format!("cannot create {}", lock_file.display())))?
    else {
        return Ok(false);
    };
    let state = State::open(&home.state_dir(), settings.storage().map_size_mb)?;
    let functions = FunctionCache::of_home(&home, state.clone(), settings.loader());
    let engine = HostEngine::new(&EngineOptions {
        pooling: false,
        parallel: false,
        max_memory_bytes: settings.max_memory_bytes(),
        functions: functions.clone(),
        ..EngineOptions::default()
    })?;
    let cache = CompiledCache::new(home.compiled_dir(), engine.compatibility.clone());
    let artifacts = Artifacts::new(state);
    if artifacts.get(sha256, &engine.compatibility)?.is_some() && cache.path_for(sha256).is_file() {
        return Ok(false);
    }
    let identity = |file: &File| FileStamp::of_file(file).ok();
    let mut file = File::open(wasm).map_err(io(format!("cannot read {}", wasm.display())))?;
    let read_from = identity(&file);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io(format!("cannot read {}", wasm.display())))?;
    if sha256_hex(&bytes) != sha256 {
        return Ok(false);
    }
    let measure = functions.as_ref().map(|f| f.measure());
    let component = Component::new(&engine.engine, &bytes)
        .map_err(|e| OptimizeError::Compile { path: wasm.to_owned(), source: Source::wasm(e) })?;
    if let Some(counts) = measure.and_then(|m| m.finish()) {
        artifacts.put_functions(sha256, &engine.compatibility, &counts)?;
    }
    if let Some(functions) = &functions {
        functions.note_modules(&known::modules(&bytes));
    }
    if let Some(functions) = &functions {
        functions.maintain();
        // The background compile is a process of its own: `isaac stats`
        // counts its functions.
        let mut record = RunRecord {
            command: "compile-optimized".to_owned(),
            at_ms: crate::cache::clock::Clock::now_ms(&crate::cache::clock::SystemClock),
            total_ms: crate::metrics::process_start().elapsed().as_secs_f64() * 1e3,
            ..RunRecord::default()
        };
        record.note_functions();
        let _ = History::new(artifacts.state.clone()).record(&record, settings.history());
    }
    let digest = cache.store(sha256, &component).map_err(io(format!("cannot save the code of {}", wasm.display())))?;
    artifacts.put(sha256, &engine.compatibility, Some(&digest))?;
    // A plugin removed or replaced while this compiled: nothing would load
    // this code, so it is taken back (checked after it was recorded, so a
    // removal at any moment leaves no orphan: before, this takes it back;
    // after, the removal deletes it).
    let replaced = File::open(wasm).ok().as_ref().and_then(identity) != read_from || read_from.is_none();
    if replaced {
        let _ = std::fs::remove_file(cache.path_for(sha256));
        artifacts.put(sha256, &engine.compatibility, None)?;
    }
    // Only now is the work over: the lock's file goes (while it exists
    // and is locked, `optimizing` says so).
    let _ = std::fs::remove_file(&lock_file);
    Ok(!replaced)
}
