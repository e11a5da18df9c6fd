//! One call, one sandbox: a fresh `Store` with the plugin's memory limit, a
//! wall-clock deadline and a WASI context that grants nothing.
//!
//! The deadline holds two ways: epoch interruption cuts a guest that keeps
//! running wasm, and a timer around the whole call cuts one that waits on an
//! async host call (epochs are only checked while wasm runs). Either way the
//! `Store` is dropped and nothing of the call survives.
//!
//! At every epoch tick (10 ms) a running guest yields to the async executor
//! and the host checks the call's deadline and its cancel flag, so a call can
//! be interrupted (Ctrl-C in the shell) within a tick, and other tasks on the
//! same executor keep running while a guest computes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{AnyPre, GuestError, PluginInfo};
use crate::capabilities::http::MAX_TABLE_ENTRIES;
pub use crate::capabilities::wasi::SetupError;
use crate::capabilities::wasi::{MAX_PRINT_BYTES, Printed};
use crate::capabilities::{self, CallData, Contexts, Granted, Stopped};
use crate::error::Source;
use crate::pipes::{self, Blocked, Pipes, Stdio};
use crate::settings::CallLimits;

/// The least data one host call may copy out of the guest (strings, lists);
/// see `CallSpec::hostcall_fuel`.
pub const HOSTCALL_FUEL: usize = 4 << 20;

/// Extra time the outer timer allows past the epoch deadline, so a running
/// guest is cut by the epoch (with a precise message) before the timer fires.
const TIMER_SLACK: Duration = Duration::from_millis(50);

/// The data of one call's `Store`: its WASI context, resource table,
/// memory limiter and capability contexts.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    contexts: Contexts,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl CallData for HostState {
    fn parts(&mut self) -> (&mut Contexts, &mut ResourceTable) {
        (&mut self.contexts, &mut self.table)
    }
}

/// A linker with WASI p2 and every capability, under every supported
/// version of `isaac:plugin`.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    capabilities::add_to_linker(&mut linker, &|_| true)?;
    Ok(linker)
}

/// A linker with only the interfaces `component` imports: what it links
/// is what [`linker`] would give it, in a fraction of the time (a plugin
/// that prints imports `wasi:cli` and `wasi:io`, not the sockets, files,
/// HTTP, cache and AI that make up most of the whole).
pub(crate) fn linker_for(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> wasmtime::Result<Linker<HostState>> {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name).collect::<Vec<_>>();
    // `wasi:cli/stdin@0.2.3` imports `wasi:cli/stdin`, in any version.
    let imported = |interface: &str| imports.iter().any(|name| name.split('@').next() == Some(interface));
    let mut linker = Linker::new(engine);
    capabilities::add_to_linker(&mut linker, &imported)?;
    Ok(linker)
}

/// Why a call ended without the guest returning.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum CallError {
    /// The call ran past its deadline.
    #[error(
        "plugin `{plugin}` ran past its deadline of {} ms and was stopped (raise it with `deadline_ms` under [plugins.{plugin}] in config.toml)",
        limit.as_millis()
    )]
    Deadline {
        /// The plugin.
        plugin: String,
        /// Its deadline.
        limit: Duration,
    },
    /// The guest asked for more memory than its limit.
    #[error(
        "plugin `{plugin}` tried to use more than its memory limit of {} MiB and was stopped (raise it with `memory_mb` under [plugins.{plugin}] in config.toml)",
        limit_bytes >> 20
    )]
    Memory {
        /// The plugin.
        plugin: String,
        /// Its limit.
        limit_bytes: u64,
    },
    /// The plugin asks for permissions it was not granted.
    #[error("{message}")]
    NotGranted {
        /// Why, and what to do.
        message: String,
    },
    /// The sandbox could not be set up (a granted directory is missing).
    #[error("plugin `{plugin}` cannot start (review its grant with `isaac plugins grant {plugin}`)")]
    Setup {
        /// The plugin.
        plugin: String,
        /// What failed.
        #[source]
        source: SetupError,
    },
    /// The result, the log or the printed output was over its cap.
    #[error("plugin `{plugin}` {what} (raise {how})")]
    OutputLimit {
        /// The plugin.
        plugin: String,
        /// What it did.
        what: String,
        /// The setting that allows more.
        how: String,
    },
    /// The reader of isaac's stdout went away (`isaac run gen | head -1`):
    /// the call ended at its next write. Not a failure: isaac exits quietly
    /// with status 141, as a Unix tool killed by `SIGPIPE`.
    #[error("plugin `{plugin}` stopped: the reader of its output went away")]
    ReaderGone {
        /// The plugin.
        plugin: String,
    },
    /// A WASI command exited with a status other than 0. Not a failure of
    /// isaac's: `isaac run` exits with that status, quietly (the program
    /// said why on stderr).
    #[error("plugin `{plugin}` exited with status {code}")]
    Exit {
        /// The plugin.
        plugin: String,
        /// Its exit status.
        code: i32,
        /// What it wrote to a collected stdout before it exited.
        output: String,
    },
    /// The call was interrupted (Ctrl-C).
    #[error("plugin `{plugin}` was interrupted")]
    Interrupted {
        /// The plugin.
        plugin: String,
    },
    /// The guest trapped (a panic, an out-of-bounds access, ...).
    #[error("plugin `{plugin}` crashed")]
    Trap {
        /// The plugin.
        plugin: String,
        /// What wasmtime reported.
        #[source]
        source: Source,
    },
}

/// Everything a call needs besides the compiled plugin.
#[derive(Debug, Clone)]
pub(crate) struct CallSpec {
    /// The plugin's name, for messages and log lines.
    pub plugin: Arc<str>,
    /// Its limits.
    pub limits: CallLimits,
    /// What it was granted, capability by capability.
    pub granted: Granted,
    /// Set to stop the call (checked at every epoch tick).
    pub cancel: Option<Arc<AtomicBool>>,
    /// The longest result `run` may return, in bytes.
    pub max_output_bytes: usize,
    /// Set when the plugin may not run at all (permissions not granted).
    pub refused: Option<String>,
}

/// Why the host stopped a running guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Stop {
    #[error("the call's deadline passed")]
    Deadline,
    #[error("the call was interrupted")]
    Cancelled,
}

impl CallSpec {
    /// What one host call, or the result, may copy out of the guest: enough
    /// for the largest result allowed, at least [`HOSTCALL_FUEL`]. Checked by
    /// wasmtime before it copies.
    fn hostcall_fuel(&self) -> usize {
        self.max_output_bytes.max(HOSTCALL_FUEL) + (64 << 10)
    }

    /// A call's store: its stdio `pipes` (a filter's) or captured, its
    /// deadline moved back by the time `blocked` on the pipes.
    fn store(
        &self,
        engine: &wasmtime::Engine,
        pipes: Option<&Pipes>,
        argv: &[String],
        blocked: &Blocked,
    ) -> Result<(Store<HostState>, Printed), CallError> {
        if let Some(message) = &self.refused {
            return Err(CallError::NotGranted { message: message.clone() });
        }
        let (wasi, printed) = self
            .granted
            .wasi
            .open(pipes, argv)
            .map_err(|source| CallError::Setup { plugin: self.plugin.to_string(), source })?;
        let state = HostState {
            wasi,
            table: call_table(),
            limiter: CallLimiter::new(self.limits.memory_bytes),
            contexts: self.granted.open(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(self.hostcall_fuel());
        // Set before instantiation: start functions run under the deadline too.
        let deadline = Instant::now() + self.limits.deadline;
        let cancel = self.cancel.clone();
        let blocked = blocked.clone();
        store.set_epoch_deadline(1);
        crate::epoch::call_starts();
        store.epoch_deadline_callback(move |_| {
            crate::epoch::keep_ticking();
            if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(wasmtime::Error::new(Stop::Cancelled));
            }
            if Instant::now() >= deadline + blocked.total() {
                return Err(wasmtime::Error::new(Stop::Deadline));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        Ok((store, printed))
    }

    /// Instantiate and call `run(command, args)`, a filter with `stdio`.
    /// What a filter wrote to collected stdout comes before its result.
    pub async fn run(
        &self,
        pre: &AnyPre<HostState>,
        command: &str,
        args: &[String],
        stdio: &Stdio,
    ) -> Result<Result<String, GuestError>, CallError> {
        let blocked = Blocked::default();
        let pipes = pre.filters().then(|| Pipes::new(&self.plugin, stdio, self.max_output_bytes, blocked.clone()));
        // A WASI command gets its name and arguments as its `argv`.
        let argv: Vec<String> = match pre.is_command() {
            true => std::iter::once(command).chain(args.iter().map(String::as_str)).map(str::to_owned).collect(),
            false => Vec::new(),
        };
        let (mut store, printed) = self.store(pre.engine(), pipes.as_ref(), &argv, &blocked)?;
        let call = pre.run(&mut store, command, args);
        let outcome = within(self.limits.deadline + TIMER_SLACK, &blocked, call).await;
        let collected = pipes.as_ref().map(Pipes::finish).unwrap_or_default();
        if self.granted.wasi.stdout {
            printed.show(&self.plugin);
        }
        let result = self.finish(outcome, &store, &printed);
        // The call's streamed answers were aborted with its store: let the
        // runtime drop their requests now, so each is recorded as cancelled.
        drop(store);
        tokio::task::yield_now().await;
        let result = result.map_err(|e| match e {
            CallError::Exit { plugin, code, .. } => {
                CallError::Exit { plugin, code, output: String::from_utf8_lossy(&collected).into_owned() }
            }
            other => other,
        })?;
        if let Ok(output) = &result
            && output.len() > self.max_output_bytes
        {
            return Err(CallError::OutputLimit {
                plugin: self.plugin.to_string(),
                what: format!(
                    "returned {} bytes, more than the cap of {} KiB",
                    output.len(),
                    self.max_output_bytes >> 10
                ),
                how: "[limits] max_output_kb in config.toml".into(),
            });
        }
        if let Ok(output) = &result
            && !collected.is_empty()
            && collected.len() + output.len() > self.max_output_bytes
        {
            return Err(CallError::OutputLimit {
                plugin: self.plugin.to_string(),
                what: format!("wrote and returned more than {} KiB together", self.max_output_bytes >> 10),
                how: "[limits] max_output_kb in config.toml".into(),
            });
        }
        Ok(result.map(|output| match collected.is_empty() {
            true => output,
            false => String::from_utf8_lossy(&collected).into_owned() + &output,
        }))
    }

    /// Instantiate, and nothing else (for benchmarks).
    #[cfg(feature = "testing")]
    pub async fn instantiate(&self, pre: &AnyPre<HostState>) -> Result<(), CallError> {
        let blocked = Blocked::default();
        let (mut store, printed) = self.store(pre.engine(), None, &[], &blocked)?;
        let call = pre.instantiate(&mut store);
        let outcome = within(self.limits.deadline + TIMER_SLACK, &blocked, call).await;
        self.finish(outcome, &store, &printed)
    }

    /// Instantiate and call `metadata()` under `limits` (see
    /// [`Settings::metadata_limits`](crate::settings::Settings::metadata_limits)).
    /// Metadata describes the plugin: it runs with nothing granted
    /// (`Granted::none`), so no capability is ever given to it by default.
    pub async fn metadata(&self, pre: &AnyPre<HostState>, limits: CallLimits) -> Result<PluginInfo, CallError> {
        let spec = CallSpec {
            plugin: self.plugin.clone(),
            limits,
            granted: Granted::none(),
            cancel: None,
            max_output_bytes: self.max_output_bytes,
            refused: None,
        };
        let blocked = Blocked::default();
        let (mut store, printed) = spec.store(pre.engine(), None, &[], &blocked)?;
        let call = pre.metadata(&mut store);
        let outcome = within(spec.limits.deadline + TIMER_SLACK, &blocked, call).await;
        spec.finish(outcome, &store, &printed)
    }

    fn finish<R>(
        &self,
        outcome: Result<wasmtime::Result<R>, Overdue>,
        store: &Store<HostState>,
        printed: &Printed,
    ) -> Result<R, CallError> {
        let plugin = self.plugin.to_string();
        let deadline = CallError::Deadline { plugin: plugin.clone(), limit: self.limits.deadline };
        // Past the print cap the streams were closed under the guest: however
        // it went on, the call is over its cap.
        if printed.full() {
            return Err(CallError::OutputLimit {
                plugin,
                what: format!("printed more than {} KiB, and was stopped", MAX_PRINT_BYTES >> 10),
                how: "nothing: return large output as the result instead of printing it".into(),
            });
        }
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(Overdue) => Err(deadline),
            Ok(Err(_)) if store.data().limiter.hit => {
                Err(CallError::Memory { plugin, limit_bytes: self.limits.memory_bytes })
            }
            Ok(Err(e)) if e.downcast_ref::<Stop>() == Some(&Stop::Deadline) => Err(deadline),
            Ok(Err(e)) if e.downcast_ref::<Stop>() == Some(&Stop::Cancelled) => Err(CallError::Interrupted { plugin }),
            Ok(Err(e)) if let Some(code) = e.downcast_ref::<wasmtime_wasi::I32Exit>().map(|exit| exit.0) => {
                Err(CallError::Exit { plugin, code, output: String::new() })
            }
            Ok(Err(e)) if let Some(stop) = e.downcast_ref::<pipes::Stop>().cloned() => Err(match stop {
                pipes::Stop::ReaderGone => CallError::ReaderGone { plugin },
                pipes::Stop::OverCap { stream, terminal, .. } => CallError::OutputLimit {
                    plugin,
                    what: format!("{stop}, and was stopped"),
                    how: match (stream, terminal) {
                        ("stdout", true) => {
                            "[limits] max_output_kb in config.toml, or send the output to a pipe or a file"
                        }
                        ("stdout", false) => "[limits] max_output_kb in config.toml",
                        _ => "nothing: diagnostics on stderr are capped; write output to stdout",
                    }
                    .into(),
                },
            }),
            Ok(Err(e)) if let Some(Stopped { what, how }) = capabilities::stopped(&e) => {
                Err(CallError::OutputLimit { plugin, what, how })
            }
            Ok(Err(e)) if hostcall_fuel_exhausted(&e) => Err(CallError::OutputLimit {
                plugin,
                what: format!(
                    "tried to pass more than {} KiB to the host at once (a result, a log line, a cache value), and was stopped",
                    self.hostcall_fuel() >> 10
                ),
                how: "[limits] max_output_kb in config.toml".into(),
            }),
            Ok(Err(e)) => Err(CallError::Trap { plugin, source: Source::wasm(e) }),
        }
    }
}

/// A call that ran past its deadline.
struct Overdue;

/// `call`, unless it runs past `limit` plus the time it spent `blocked` on
/// its pipes (which is not running time: a filter waiting for input or for
/// its reader makes progress at their pace).
async fn within<F: std::future::Future>(limit: Duration, blocked: &Blocked, call: F) -> Result<F::Output, Overdue> {
    let start = tokio::time::Instant::now();
    tokio::pin!(call);
    loop {
        let until = start + limit + blocked.total();
        tokio::select! {
            output = &mut call => return Ok(output),
            () = tokio::time::sleep_until(until) => {
                if tokio::time::Instant::now() >= start + limit + blocked.total() {
                    return Err(Overdue);
                }
            }
        }
    }
}

/// Whether wasmtime stopped the call for copying more than its hostcall
/// fuel out of the guest. wasmtime 48 keeps that error's type private
/// (`HostcallFuelExhausted` in `component/func/options.rs`), so it is known
/// by its text, here only; the security tests that pass a huge value to the
/// host (tests/all/security) fail if a wasmtime upgrade changes it.
fn hostcall_fuel_exhausted(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| cause.to_string().contains("fuel allocated for hostcalls has been exhausted"))
}

/// Caps the linear memory of a call, summed over every memory of every
/// instance in it (a component may define several), and remembers whether
/// the cap was hit.
struct CallLimiter {
    memory_bytes: usize,
    /// Bytes of linear memory the call's instances hold together.
    total: usize,
    hit: bool,
}

impl CallLimiter {
    fn new(memory_bytes: u64) -> Self {
        CallLimiter { memory_bytes: usize::try_from(memory_bytes).unwrap_or(usize::MAX), total: 0, hit: false }
    }
}

/// A call's resource table: at most [`MAX_TABLE_ENTRIES`] resources at once.
fn call_table() -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_TABLE_ENTRIES);
    table
}

/// The most table elements one table may grow to.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for CallLimiter {
    /// Called for each memory's creation (from 0) and for each growth.
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.total.saturating_sub(current).saturating_add(desired);
        if total > self.memory_bytes {
            self.hit = true;
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached ({total} bytes asked across the call's memories)",
                self.memory_bytes
            ));
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linker_for_one_component_links_what_it_imports_and_nothing_else() {
        let engine =
            crate::engine::HostEngine::new(&crate::engine::EngineOptions { pooling: false, ..Default::default() })
                .unwrap()
                .engine;
        let importing = |import: &str| {
            let wat = format!("(component (import {import}))");
            wasmtime::component::Component::new(&engine, wat::parse_str(wat).unwrap()).unwrap()
        };
        let args = importing(
            r#""wasi:cli/environment@0.2.3" (instance (export "get-arguments" (func (result (list string)))))"#,
        );
        let random =
            importing(r#""wasi:random/random@0.2.0" (instance (export "get-random-u64" (func (result u64))))"#);
        let own = linker_for(&engine, &args).unwrap();
        assert!(own.instantiate_pre(&args).is_ok());
        assert!(own.instantiate_pre(&random).is_err(), "wasi:random was not imported, so not linked");
        assert!(linker(&engine).unwrap().instantiate_pre(&random).is_ok());
        assert!(linker_for(&engine, &random).unwrap().instantiate_pre(&random).is_ok());
    }

    #[test]
    fn the_memory_limit_holds_for_the_sum_of_memories() {
        let mut limiter = CallLimiter::new(64 << 20);
        // Two memories of 40 MiB each: the second is refused.
        assert!(limiter.memory_growing(0, 40 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 40 << 20, None).is_err());
        assert!(limiter.hit);
        // Growing the first within the total is fine.
        let mut limiter = CallLimiter::new(64 << 20);
        assert!(limiter.memory_growing(0, 10 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 10 << 20, None).unwrap());
        assert!(limiter.memory_growing(10 << 20, 40 << 20, None).unwrap());
        assert!(limiter.memory_growing(40 << 20, 60 << 20, None).is_err());
    }
}
