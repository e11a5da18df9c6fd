//! `isaac:plugin/log`: plugin diagnostics on stderr.
//!
//! Each line is `NAME: LEVEL: MESSAGE`, printed when the level passes the
//! user's threshold (`-q` errors only, default warnings, `-v` info, `-vv`
//! debug, `-vvv` trace). Each message passes through the terminal sanitiser
//! as one line ([`crate::terminal`]), so a plugin can neither drive the
//! terminal nor forge a line of isaac's own, and a call may log at most [`MAX_LOG_BYTES_PER_CALL`]:
//! past it the call is stopped (a flood of logs is a fault, not output).

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{Always, CallData, Capability, GrantInputs, NoConfig, Stopped, View, Viewed, view};
use crate::bindings::{self, Level, LogHost};
use crate::terminal::{self, Lines};

/// The most log text one call may print; past it the call is stopped.
pub const MAX_LOG_BYTES_PER_CALL: usize = 64 * 1024;

/// A log flood: the call logged more than its cap.
#[derive(Debug, thiserror::Error)]
#[error("the call logged more than {0} bytes")]
pub struct LogFlood(pub usize);

/// Where a plugin's log lines go: its name and the user's threshold.
#[derive(Debug, Clone)]
pub struct LogGrant {
    plugin: Arc<str>,
    threshold: Level,
}

/// Where one call's log lines go, and how much it logged.
#[derive(Debug, Clone)]
pub struct LogCtx {
    plugin: Arc<str>,
    threshold: Level,
    written: usize,
}

impl Capability for LogCtx {
    const NAME: &'static str = "log";
    const INTERFACES: &'static [&'static str] = &["isaac:plugin/log"];
    type Permission = Always;
    type Config = NoConfig;
    type Grant = LogGrant;

    fn describe(_: &Always) -> Vec<String> {
        Vec::new()
    }

    /// Every plugin may log (a `metadata` call, granted nothing, logs
    /// nowhere).
    fn grant(_: &Always, inputs: &GrantInputs<'_>) -> Option<LogGrant> {
        Some(LogGrant { plugin: Arc::from(inputs.plugin), threshold: inputs.settings.log_level() })
    }

    fn open(grant: &LogGrant) -> Self {
        LogCtx { plugin: grant.plugin.clone(), threshold: grant.threshold, written: 0 }
    }

    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        bindings::add_log::<T, Viewed<Self>>(linker, view::<T, Self>)
    }

    /// A log flood stops the call at the output cap.
    fn stopped(trap: &wasmtime::Error) -> Option<Stopped> {
        let flood = trap.downcast_ref::<LogFlood>()?;
        Some(Stopped {
            what: format!("{flood}, and was stopped"),
            how: "nothing: a plugin's log is for diagnostics; return large output as the result".into(),
        })
    }
}

/// A call that may not log (a `metadata` call) logs nowhere: silence is
/// its refusal.
struct Silenced;

impl super::Refusal for Silenced {
    fn refused() -> Self {
        Silenced
    }
}

impl LogCtx {
    /// Print `message` if its level passes; an error once the call has
    /// logged more than its cap (counted whether printed or not).
    fn emit(&mut self, level: Level, message: &str) -> Result<(), LogFlood> {
        self.written += message.len();
        if self.written > MAX_LOG_BYTES_PER_CALL {
            return Err(LogFlood(MAX_LOG_BYTES_PER_CALL));
        }
        if rank(level) < rank(self.threshold) {
            return Ok(());
        }
        let clean = terminal::sanitize(message, Lines::One);
        crate::say!("{}: {}: {clean}", self.plugin, name(level));
        Ok(())
    }
}

/// A level's importance, trace lowest.
pub fn rank(level: Level) -> u8 {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
    }
}

fn name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

impl LogHost for View<'_, LogCtx> {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        match self.access::<Silenced>() {
            Ok(log) => log.emit(level, &message).map_err(wasmtime::Error::new),
            Err(Silenced) => Ok(()),
        }
    }
}
