//! What wasmtime itself takes to compile a plugin, timed in this process
//! in the same run as isaac's whole processes: the yardstick of the
//! tiering phase's goals. The engine has isaac's settings
//! ([`engine::compile_config`]) and compiles with `precompile_component`
//! (what `wasmtime compile` does): no process to start, no home, no file
//! read or written, no check of anything; the function cache is a map in
//! memory that hands back what it was given.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::{CacheStore, Engine};

use super::phases::{SuiteError, median};
use crate::engine::{self, Compiler};

/// Wasmtime's incremental cache at its cheapest: functions in memory.
#[derive(Debug, Default)]
struct InMemory(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl CacheStore for InMemory {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned().map(Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_vec(), value);
        true
    }
}

fn engine(compiler: Compiler, functions: Option<Arc<dyn CacheStore>>) -> Result<Engine, SuiteError> {
    Engine::new(&engine::compile_config(compiler, functions))
        .map_err(|e| SuiteError(format!("cannot build an engine to time wasmtime alone: {e}")))
}

fn compile(engine: &Engine, name: &str, bytes: &[u8]) -> Result<Duration, SuiteError> {
    let start = Instant::now();
    engine.precompile_component(bytes).map_err(|e| SuiteError(format!("wasmtime cannot compile {name}: {e:#}")))?;
    Ok(start.elapsed())
}

/// Wasmtime compiling component `bytes` (`name`) with Winch as isaac's
/// baseline engine does: the median of `runs`.
pub(super) fn winch(name: &str, bytes: &[u8], runs: usize) -> Result<Duration, SuiteError> {
    let engine = engine(Compiler::Winch, None)?;
    let mut took = (0..runs.max(1)).map(|_| compile(&engine, name, bytes)).collect::<Result<Vec<_>, _>>()?;
    Ok(median(&mut took))
}

/// Wasmtime compiling `second` with Cranelift, its incremental cache in
/// memory holding what compiling `first` stored: what the function cache
/// could give at best to the second plugin of a language.
pub(super) fn cranelift_after(first: (&str, &[u8]), second: (&str, &[u8])) -> Result<Duration, SuiteError> {
    let engine = engine(Compiler::Cranelift, Some(Arc::new(InMemory::default())))?;
    compile(&engine, first.0, first.1)?;
    compile(&engine, second.0, second.1)
}
