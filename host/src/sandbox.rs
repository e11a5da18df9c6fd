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

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{GuestError, Level, PluginBindings, PluginInfo, PluginPre};
use crate::capabilities::ai::AiAccess;
use crate::capabilities::cache::CacheAccess;
use crate::capabilities::log::LogSink;
use crate::config::CallLimits;

/// The most data one host call may copy out of the guest (strings, lists).
pub const HOSTCALL_FUEL: usize = 4 << 20;

/// Extra time the outer timer allows past the epoch deadline, so a running
/// guest is cut by the epoch (with a precise message) before the timer fires.
const TIMER_SLACK: Duration = Duration::from_millis(50);

/// The data of one call's `Store`.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    pub(crate) log: LogSink,
    pub(crate) cache: Option<CacheAccess>,
    pub(crate) ai: Option<AiAccess>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Why a call ended without the guest returning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// The call was interrupted (Ctrl-C).
    #[error("plugin `{plugin}` was interrupted")]
    Interrupted {
        /// The plugin.
        plugin: String,
    },
    /// The guest trapped (a panic, an out-of-bounds access, ...).
    #[error("plugin `{plugin}` crashed: {message}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// What wasmtime reported.
        message: String,
    },
}

/// Everything a call needs besides the compiled plugin.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The plugin's name, for messages and log lines.
    pub plugin: Arc<str>,
    /// Its limits.
    pub limits: CallLimits,
    /// The lowest log level printed.
    pub log_level: Level,
    /// The plugin's cache namespace, if it may use the cache.
    pub cache: Option<CacheAccess>,
    /// Set to stop the call (checked at every epoch tick).
    pub cancel: Option<Arc<AtomicBool>>,
    /// The plugin's AI access and budget, if it may query.
    pub ai: Option<AiAccess>,
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
    fn store(&self, engine: &wasmtime::Engine) -> Store<HostState> {
        let state = HostState {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limiter: CallLimiter::new(self.limits.memory_bytes),
            log: LogSink::new(self.plugin.clone(), self.log_level),
            cache: self.cache.clone(),
            ai: self.ai.clone(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(HOSTCALL_FUEL);
        // Set before instantiation: start functions run under the deadline too.
        let deadline = Instant::now() + self.limits.deadline;
        let cancel = self.cancel.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(wasmtime::Error::new(Stop::Cancelled));
            }
            if Instant::now() >= deadline {
                return Err(wasmtime::Error::new(Stop::Deadline));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    /// Instantiate and call `run(command, args)`.
    pub async fn run(
        &self,
        pre: &PluginPre<HostState>,
        command: &str,
        args: &[String],
    ) -> Result<Result<String, GuestError>, CallError> {
        let mut store = self.store(pre.engine());
        let call = async {
            let plugin = pre.instantiate_async(&mut store).await?;
            plugin.call_run(&mut store, command, args).await
        };
        let outcome = tokio::time::timeout(self.limits.deadline + TIMER_SLACK, call).await;
        self.finish(outcome, &store)
    }

    /// Instantiate, and nothing else.
    pub async fn instantiate(&self, pre: &PluginPre<HostState>) -> Result<(), CallError> {
        let mut store = self.store(pre.engine());
        let call = async { pre.instantiate_async(&mut store).await.map(drop) };
        let outcome = tokio::time::timeout(self.limits.deadline + TIMER_SLACK, call).await;
        self.finish(outcome, &store)
    }

    /// Instantiate and call `metadata()`.
    pub async fn metadata(&self, pre: &PluginPre<HostState>) -> Result<PluginInfo, CallError> {
        let mut store = self.store(pre.engine());
        let call = async {
            let plugin: PluginBindings = pre.instantiate_async(&mut store).await?;
            plugin.call_metadata(&mut store).await
        };
        let outcome = tokio::time::timeout(self.limits.deadline + TIMER_SLACK, call).await;
        self.finish(outcome, &store)
    }

    fn finish<R>(
        &self,
        outcome: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
        store: &Store<HostState>,
    ) -> Result<R, CallError> {
        let plugin = self.plugin.to_string();
        let deadline = CallError::Deadline { plugin: plugin.clone(), limit: self.limits.deadline };
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_elapsed) => Err(deadline),
            Ok(Err(_)) if store.data().limiter.hit => {
                Err(CallError::Memory { plugin, limit_bytes: self.limits.memory_bytes })
            }
            Ok(Err(e)) if e.downcast_ref::<Stop>() == Some(&Stop::Deadline) => Err(deadline),
            Ok(Err(e)) if e.downcast_ref::<Stop>() == Some(&Stop::Cancelled) => Err(CallError::Interrupted { plugin }),
            Ok(Err(e)) => Err(CallError::Trap { plugin, message: describe(&e) }),
        }
    }
}

/// A wasmtime error as one line: its causes joined by `: `.
pub fn describe(error: &wasmtime::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Caps linear memory per call and remembers whether the cap was hit.
struct CallLimiter {
    memory_bytes: usize,
    hit: bool,
}

impl CallLimiter {
    fn new(memory_bytes: u64) -> Self {
        CallLimiter { memory_bytes: usize::try_from(memory_bytes).unwrap_or(usize::MAX), hit: false }
    }
}

/// The most table elements one table may grow to.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for CallLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = true;
            return Err(wasmtime::format_err!("memory limit of {} bytes reached", self.memory_bytes));
        }
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
